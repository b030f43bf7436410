// The gateway's runtime state compiled from a Config: upstream targets with TLS contexts and
// loaded credentials, routes, and gateway keys. Immutable once built and shared by all workers
// as shared_ptr<const Snapshot>; a reload builds a new one and swaps it in.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/crypto.h"
#include "core/secret.h"
#include "core/status.h"
#include "http/upstream.h"

namespace baagate::pipeline {

struct UpstreamRuntime {
  http::UpstreamTarget target;
  // "Bearer <vendor key>", or empty for credential: none.
  core::SecretString authorization;
  // Non-empty when the credential could not be loaded: requests on this upstream are refused
  // with 502 (fail closed) and this says why (names the variable or file, never a value).
  std::string credential_problem;
  std::size_t max_response_bytes = 64u << 20;
};

struct RouteRuntime {
  std::string pattern;  // the configured model pattern; also the metrics label
  const UpstreamRuntime* upstream = nullptr;
  std::string upstream_model;  // empty: pass the client's model through
};

// Who is calling, from the gateway key.
struct Principal {
  std::string key_name;
  std::string tenant;
  std::string app;
  std::string role;
  std::string purpose;
  std::vector<std::string> models;  // allowed patterns; empty: all
};

class Snapshot {
 public:
  // Loads credentials and TLS contexts. Fails on a bad base URL or CA file; a missing
  // credential does not fail the build (see UpstreamRuntime::credential_problem).
  static core::Result<std::shared_ptr<const Snapshot>> Build(const config::Config& cfg);

  // Exact route first, then the longest matching prefix pattern.
  const RouteRuntime* FindRoute(std::string_view model) const;
  // Compares SHA-256(presented) with every configured key in constant time per key, without
  // stopping at the first match, so timing does not tell which key (or how much) matched.
  const Principal* Authenticate(std::string_view presented_key) const;
  bool Allows(const Principal& p, const RouteRuntime& route) const;

  bool has_keys() const { return !keys_.empty(); }
  const std::vector<RouteRuntime>& routes() const { return routes_; }
  const std::vector<std::unique_ptr<UpstreamRuntime>>& upstreams() const { return upstreams_; }
  const config::Config& config() const { return config_; }

 private:
  config::Config config_;
  std::vector<std::unique_ptr<UpstreamRuntime>> upstreams_;
  std::vector<RouteRuntime> routes_;
  std::vector<std::pair<core::Sha256Digest, Principal>> keys_;
};

}  // namespace baagate::pipeline
