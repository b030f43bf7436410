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
#include "pipeline/failover.h"
#include "policy/policy.h"
#include "providers/bedrock/sigv4.h"

namespace baagate::pipeline {

struct UpstreamRuntime {
  http::UpstreamTarget target;
  std::string provider;  // registry provider id
  std::string region;
  bool private_connectivity = false;
  // "Bearer <vendor key>", or empty for credential: none. For Anthropic upstreams the bare key,
  // sent as x-api-key.
  core::SecretString authorization;
  std::string auth_header = "authorization";
  std::string api_version;  // Azure deployment URLs
  // Bedrock: SigV4 credentials from the environment or the shared credentials file
  // (providers/bedrock/credentials.h), read once per snapshot; null for other providers.
  std::shared_ptr<const providers::bedrock::AwsCredentials> aws;
  // Bedrock: "converse", "invoke", or empty to choose per model id (BedrockUsesConverse).
  std::string bedrock_api;
  // Non-empty when the credential could not be loaded: requests on this upstream are refused
  // with 502 (fail closed) and this says why (names the variable or file, never a value).
  std::string credential_problem;
  std::size_t max_response_bytes = 64u << 20;
};

struct RouteRuntime {
  std::string name;
  std::string pattern;  // the configured model pattern; also the metrics label
  bool deidentified_fallback = false;
  const UpstreamRuntime* upstream = nullptr;
  std::string upstream_model;  // empty: pass the client's model through
  // The ordered failover list this route heads: itself, then the later routes with the same
  // model pattern. Empty on the later routes themselves (FindRoute never returns them).
  std::vector<const RouteRuntime*> group;
  // Circuit breaker; shared by every worker using this snapshot (a reload starts afresh).
  std::shared_ptr<RouteHealth> health = std::make_shared<RouteHealth>();
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

  // Exact route first, then the longest matching prefix pattern; the head of its failover
  // list (RouteRuntime::group) when several routes share the pattern.
  const RouteRuntime* FindRoute(std::string_view model) const;
  // Compares SHA-256(presented) with every configured key in constant time per key, without
  // stopping at the first match, so timing does not tell which key (or how much) matched.
  const Principal* Authenticate(std::string_view presented_key) const;
  bool Allows(const Principal& p, const RouteRuntime& route) const;

  bool has_keys() const { return !keys_.empty(); }
  // Route by configured name (for `scope check --route`), or null.
  const RouteRuntime* FindRouteByName(std::string_view name) const;
  const policy::PolicySet& policy() const { return *policy_; }
  // The HMAC key for end-user pseudonyms; empty if none is configured or it could not be read.
  std::string_view pseudonym_key() const { return pseudonym_key_.Expose(); }
  // True when a baseline hash is pinned and the effective configuration differs from it.
  bool drift() const { return drift_; }
  const std::vector<RouteRuntime>& routes() const { return routes_; }
  const std::vector<std::unique_ptr<UpstreamRuntime>>& upstreams() const { return upstreams_; }
  const config::Config& config() const { return config_; }

 private:
  config::Config config_;
  std::vector<std::unique_ptr<UpstreamRuntime>> upstreams_;
  std::vector<RouteRuntime> routes_;
  std::vector<std::pair<core::Sha256Digest, Principal>> keys_;
  std::shared_ptr<const policy::PolicySet> policy_;
  core::SecretString pseudonym_key_;
  bool drift_ = false;
};

// The coverage registry a configuration selects: policy.registry_file, or the built-in one.
core::Result<config::RegistryDoc> LoadRegistryFor(const config::Config& cfg);

}  // namespace baagate::pipeline
