// OAuth access tokens for upstreams that authenticate with a short-lived bearer: Google's
// service-account JWT bearer flow (Vertex AI) and Microsoft Entra client credentials (Azure
// OpenAI). One TokenSource per upstream, shared by every worker thread:
//
//   - cached until `refresh_margin` before expiry (5 minutes by default), then refreshed;
//   - single-flight: while one coroutine fetches, the others (on any worker) wait for that one
//     fetch instead of each asking the identity provider;
//   - asynchronous: the fetch is a coroutine on the caller's worker, through the gateway's own
//     upstream pool (same TLS verification and timeouts as vendor calls); no thread ever blocks
//     on network I/O;
//   - errors are fixed words (the endpoint's status, never its body): the identity provider's
//     error text can name the account, and the form body holds the secret.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/secret.h"
#include "core/status.h"
#include "http/asio.h"
#include "http/server.h"
#include "http/upstream.h"
#include "providers/vertex/oauth.h"

namespace baagate::providers::auth {

namespace net = boost::asio;

inline constexpr std::string_view kAzureCognitiveScope =
    "https://cognitiveservices.azure.com/.default";
inline constexpr std::string_view kEntraAuthority = "https://login.microsoftonline.com";

// Where tokens come from: the endpoint's pool target and request path.
struct TokenEndpoint {
  http::UpstreamTarget target;
  std::string path;  // e.g. /token, /{tenant}/oauth2/v2.0/token
};

// Splits "https://host[:port]/path" into a target (named `name`, TLS verified with `ca_file`'s
// CAs or the system store) and a path.
core::Result<TokenEndpoint> MakeTokenEndpoint(const std::string& name, const std::string& url,
                                              const std::string& ca_file);

// A response from the endpoint: status and body (bounded).
struct HttpReply {
  unsigned status = 0;
  std::string body;
};

// POSTs an application/x-www-form-urlencoded body with the worker's pool; the connect and
// first-byte timeouts of `endpoint.target` apply, armed on `deadline`. Errors are UNAVAILABLE
// with a fixed message naming the failure kind.
net::awaitable<core::Result<HttpReply>> PostForm(http::UpstreamPool& pool,
                                                 const TokenEndpoint& endpoint,
                                                 http::Deadline& deadline, std::string body);

// Entra client-credentials form body (scope defaults to the Azure OpenAI one).
std::string ClientCredentialsBody(std::string_view client_id, std::string_view client_secret,
                                  std::string_view scope = kAzureCognitiveScope);

class TokenSource {
 public:
  // The form body for a fetch at `now` (it carries a secret: an assertion or client secret).
  using BodyFn = std::function<core::Result<core::SecretString>(std::int64_t now_unix)>;
  // Performs the POST; the gateway passes one bound to the calling worker's pool.
  using PostFn = std::function<net::awaitable<core::Result<HttpReply>>(const TokenEndpoint&,
                                                                       std::string body)>;
  using ClockFn = std::function<std::int64_t()>;  // unix seconds

  TokenSource(TokenEndpoint endpoint, BodyFn body, ClockFn clock = nullptr,
              std::chrono::seconds refresh_margin = std::chrono::seconds(300));

  // Google service account: the JWT bearer grant to the key's token_uri (or `token_url`).
  static core::Result<std::shared_ptr<TokenSource>> GoogleServiceAccount(
      vertex::ServiceAccountKey key, const std::string& name, const std::string& token_url,
      const std::string& ca_file);
  // Entra: client credentials to {authority}/{tenant}/oauth2/v2.0/token.
  static core::Result<std::shared_ptr<TokenSource>> EntraClientCredentials(
      const std::string& name, const std::string& authority, const std::string& tenant,
      std::string client_id, core::SecretString client_secret, const std::string& ca_file);

  // A token valid for at least the refresh margin, fetched with `post` if needed. A failed
  // fetch is returned to every caller that waited for it; the next call tries again.
  net::awaitable<core::Result<core::SecretString>> Token(const PostFn& post);

  const TokenEndpoint& endpoint() const { return endpoint_; }
  int fetch_count() const;

 private:
  struct Waiter;
  void WakeAll();

  const TokenEndpoint endpoint_;
  const BodyFn body_;
  const ClockFn clock_;
  const std::int64_t margin_s_;
  mutable std::mutex mu_;
  core::SecretString token_;          // mu_
  std::int64_t expires_at_ = 0;       // mu_; 0 until the first successful fetch
  std::int64_t lifetime_ = 0;         // mu_; expires_in of the current token
  bool in_flight_ = false;            // mu_
  std::uint64_t generation_ = 0;      // mu_; bumped when a fetch ends
  core::Status last_error_;           // mu_; the outcome of the last fetch
  std::vector<std::shared_ptr<Waiter>> waiters_;  // mu_
  int fetches_ = 0;                   // mu_
};

}  // namespace baagate::providers::auth
