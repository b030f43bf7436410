// Google service-account OAuth (JWT bearer flow, RFC 7523) for Vertex AI: parse the JSON key,
// build and sign the RS256 assertion with OpenSSL, encode the token request, parse the answer,
// and cache the access token until shortly before it expires.
//
// Everything but TokenCache is pure (no I/O, no clock: `now` is passed in). Secrets (the
// private key, assertions, access tokens) travel as core::SecretString or are returned to the
// caller who sends them; nothing here logs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "core/secret.h"
#include "core/status.h"

namespace baagate::providers::vertex {

inline constexpr std::string_view kCloudPlatformScope =
    "https://www.googleapis.com/auth/cloud-platform";
inline constexpr std::string_view kDefaultTokenUri = "https://oauth2.googleapis.com/token";
inline constexpr std::string_view kJwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

struct ServiceAccountKey {
  std::string client_email;
  std::string private_key_id;
  core::SecretString private_key_pem;  // PKCS#8 PEM
  std::string token_uri;               // defaults to kDefaultTokenUri
  std::string project_id;
};

// Parses a service-account key file. Errors name the missing field, never quote the file.
core::Result<ServiceAccountKey> ParseServiceAccountKey(std::string_view json);

std::string Base64UrlEncode(std::string_view data);  // no padding
core::Result<std::string> Base64UrlDecode(std::string_view data);

// header.claims.signature, RS256; iat = now, exp = now + lifetime (capped at 3600 s);
// aud = the key's token_uri.
core::Result<std::string> BuildJwtAssertion(const ServiceAccountKey& key, std::string_view scope,
                                            std::int64_t now_unix,
                                            std::int64_t lifetime_s = 3600);

// application/x-www-form-urlencoded body of the token request.
std::string TokenRequestBody(std::string_view assertion);

struct AccessToken {
  core::SecretString token;
  std::int64_t expires_at_unix = 0;
};
// {"access_token":…,"expires_in":N,"token_type":"Bearer"} -> token valid until now + N.
core::Result<AccessToken> ParseTokenResponse(std::string_view body, std::int64_t now_unix);

// For the fake token endpoint: checks the RS256 signature against `key_pem` (a public key or
// the private key, whose public half is used), alg, and that aud == `expected_aud`,
// iat <= now + 60 and now < exp <= iat + 3600. Returns the claims object as JSON text.
core::Result<std::string> VerifyJwtAssertion(std::string_view jwt, std::string_view key_pem,
                                             std::string_view expected_aud,
                                             std::int64_t now_unix);

// Caches one access token per service account. Thread-safe; a refresh is single-flight (the
// mutex is held across `fetch`, so concurrent callers wait for the one refresh instead of each
// asking Google). `fetch` POSTs the form body to the token URI and returns the response body;
// it and `clock` must outlive the cache.
class TokenCache {
 public:
  using FetchFn = std::function<core::Result<std::string>(const std::string& token_uri,
                                                          const std::string& form_body)>;
  using ClockFn = std::function<std::int64_t()>;  // unix seconds

  TokenCache(ServiceAccountKey key, FetchFn fetch, ClockFn clock,
             std::chrono::seconds refresh_margin = std::chrono::seconds(300));

  // A token valid for at least the refresh margin, fetching a new one if needed. A failed
  // fetch is returned as is (UNAVAILABLE/UNAUTHENTICATED from `fetch`), never a stale token.
  core::Result<core::SecretString> GetToken();
  int fetch_count_for_test() const;

 private:
  const ServiceAccountKey key_;
  const FetchFn fetch_;
  const ClockFn clock_;
  const std::int64_t margin_s_;
  mutable std::mutex mu_;
  AccessToken current_;  // GUARDED_BY(mu_); expires_at_unix == 0 until the first fetch
  int fetches_ = 0;      // GUARDED_BY(mu_)
};

}  // namespace baagate::providers::vertex
