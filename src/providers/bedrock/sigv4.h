// AWS Signature Version 4 (header form), as Bedrock runtime requires it. Pure: no I/O, no clock
// (the caller passes the x-amz-date), no logging. Thread-safe (no shared state).
//
// Path handling follows the rule for every AWS service except S3: the canonical URI is the wire
// path with each segment URI-encoded once more, so a Bedrock model id with ':' travels as %3A and
// is signed as %253A. Dot segments are not normalised: the gateway never builds such paths.
// Wire format notes: docs/formats/sigv4.md.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/secret.h"
#include "core/status.h"

namespace baagate::providers::bedrock {

struct AwsCredentials {
  std::string access_key_id;
  core::SecretString secret_access_key;
  core::SecretString session_token;  // empty unless temporary credentials
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A request as it will travel. `path` and `query` are in wire form (already percent-encoded,
// query without '?'). `headers` must contain `host`; names in any case.
struct SigV4Request {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  HeaderList headers;
  std::string_view payload;
};

struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // lower-case hex
  std::string authorization;   // full Authorization header value
};

// RFC 3986 unreserved characters stay, everything else becomes %XX (upper-case hex);
// '/' stays only when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);
// The path segment for a Bedrock model id or ARN: ':' -> %3A, '/' -> %2F.
inline std::string EncodeModelIdSegment(std::string_view model_id) {
  return UriEncode(model_id, false);
}
// Wire path -> canonical URI (each segment encoded again; empty path -> "/").
std::string CanonicalUri(std::string_view wire_path);
// Wire query -> canonical query (decoded, re-encoded, sorted by name then value).
std::string CanonicalQuery(std::string_view wire_query);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
std::array<std::uint8_t, 32> DeriveSigningKey(std::string_view secret, std::string_view date,
                                              std::string_view region, std::string_view service);
std::array<std::uint8_t, 32> HmacSha256(const std::uint8_t* key, std::size_t key_size,
                                        std::string_view data);

// "20150830T123600Z" for a UTC instant.
std::string FormatAmzDate(std::chrono::system_clock::time_point t);

// Computes the signature over `req` as given: the caller has already added x-amz-date (and
// x-amz-security-token / x-amz-content-sha256 when used). All request headers are signed.
// Fails when host or x-amz-date is missing or the date is malformed.
core::Result<SigV4Signature> ComputeSignature(const SigV4Request& req,
                                              const AwsCredentials& creds,
                                              std::string_view region, std::string_view service);

// Adds x-amz-date, x-amz-security-token (temporary credentials), x-amz-content-sha256 and
// Authorization to `req.headers` and returns them also as a list for the HTTP layer.
core::Result<HeaderList> SignRequest(SigV4Request& req, const AwsCredentials& creds,
                                     std::string_view region, std::string_view service,
                                     std::string_view amz_date);

// Parsed "AWS4-HMAC-SHA256 Credential=AK/date/region/service/aws4_request, SignedHeaders=…,
// Signature=…".
struct SigV4Authorization {
  std::string access_key_id;
  std::string date;
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
};
core::Result<SigV4Authorization> ParseAuthorization(std::string_view header);

// Server side (the fake vendor): recomputes the signature over the headers the client says it
// signed and compares in constant time. On mismatch the status is PERMISSION_DENIED and
// `*expected_canonical` (if given) receives the canonical request, as AWS reports it.
core::Status VerifyRequest(const SigV4Request& req, const AwsCredentials& creds,
                           std::string* expected_canonical);

}  // namespace baagate::providers::bedrock
