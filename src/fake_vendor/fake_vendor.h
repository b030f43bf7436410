// `baagate fake-vendor`: a protocol-faithful local fake of the OpenAI API, the Anthropic Messages
// API (/v1/messages) and the Bedrock runtime's InvokeModel for Anthropic models (SigV4-verified,
// event-stream framed) for tests, benchmarks and the offline quickstart (in the spirit of
// stripe-mock).
//
// Answers are deterministic and report what arrived, so tests can prove exactly which text
// reached the vendor: a chat completion's content is "ECHO: " followed by the last user
// message's text. Every request is also recorded (method, path, headers, body) and can be read
// back from GET /_fake/requests; GET /_fake/stats counts completed and aborted streams.
//
// Faults: process-wide by options, or per request by a marker in the last user message:
//   [[fake:429]] [[fake:500]] [[fake:400]] [[fake:timeout]] [[fake:reset-mid-stream]]
//   [[fake:malformed-sse]] [[fake:error-event]] [[fake:truncate-stream]] [[fake:bad-json]]
//   [[fake:latency=MS]] [[fake:chunk-delay=MS]]
// Error bodies quote the prompt on purpose (as real vendors sometimes do), so tests can prove
// that baagate never passes vendor error text on. See docs/fake-vendor.md.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/server.h"

namespace baagate::fake_vendor {

struct Options {
  std::string api_key;     // if set, requests must carry "Authorization: Bearer <api_key>"
  int latency_ms = 0;      // before the response head
  int chunk_delay_ms = 0;  // between stream chunks
  double fault_rate_429 = 0;  // probability of a 429 per request
  double fault_rate_500 = 0;  // probability of a 500 per request
  std::size_t max_recorded = 200;  // requests kept for /_fake/requests
  int embedding_dimensions = 8;
  // Bedrock runtime (/model/{id}/invoke…): when set, every request must carry a valid SigV4
  // signature by this key pair (service "bedrock"); a mismatch answers 403 as AWS does.
  std::string aws_access_key_id;
  std::string aws_secret_access_key;
  // Google: when set (a service-account private key PEM, or its public key), POST /token runs
  // the JWT bearer flow, verifying the assertion with this key, and Vertex paths require a
  // Bearer token it issued.
  std::string google_key_pem;
  int google_token_lifetime_s = 3599;  // expires_in of the tokens /token issues
  // Microsoft Entra: when entra_client_id is set, POST /{tenant}/oauth2/v2.0/token runs the
  // client-credentials grant for this tenant, client and secret (scope
  // https://cognitiveservices.azure.com/.default), and Azure paths also accept a Bearer token
  // it issued (besides api-key).
  std::string entra_tenant_id;
  std::string entra_client_id;
  std::string entra_client_secret;
  int entra_token_lifetime_s = 3599;
};

// State shared by the fake's workers. Thread-safe.
class FakeVendor {
 public:
  explicit FakeVendor(Options options) : options_(std::move(options)) {}

  std::unique_ptr<http::Handler> MakeHandler(http::Worker& worker);

  const Options& options() const { return options_; }

  struct Recorded {
    std::string method;
    std::string path;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };
  void Record(Recorded r);
  std::string RecordedJson() const;
  void ClearRecorded();
  void CountStream(bool completed);
  std::string StatsJson() const;
  double NextRandom();
  std::string IssueGoogleToken();
  bool IsGoogleToken(std::string_view token) const;
  std::string IssueEntraToken();
  bool IsEntraToken(std::string_view token) const;

 private:
  Options options_;
  mutable std::mutex mu_;
  std::vector<Recorded> recorded_;  // mu_
  std::uint64_t requests_ = 0;      // mu_
  std::uint64_t streams_completed_ = 0;  // mu_
  std::uint64_t streams_aborted_ = 0;    // mu_
  std::uint64_t rng_state_ = 0x9e3779b97f4a7c15ull;  // mu_
  std::vector<std::string> google_tokens_;            // mu_: access tokens issued by /token
  std::vector<std::string> entra_tokens_;             // mu_: issued by the Entra endpoint
};

}  // namespace baagate::fake_vendor
