// The Anthropic Messages dialect (PROVIDERS.md §3): request validation, error bodies, usage and
// stop-reason reading, and a stream observer that follows the named SSE event sequence
// (message_start, content_block_*, message_delta, message_stop, ping, error) for the audit.
// Pure: no I/O, no logging, no clock. Error messages never quote request or vendor text.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>

#include "core/status.h"
#include "providers/common/canonical.h"

namespace baagate::providers::anthropic {

inline constexpr std::string_view kApiVersion = "2023-06-01";

enum class Endpoint { kMessages, kCountTokens, kUnknown };
Endpoint ClassifyPath(std::string_view path);
std::string_view EndpointName(Endpoint e);          // "messages", "count_tokens"
std::string_view EndpointUpstreamPath(Endpoint e);  // "/v1/messages", "/v1/messages/count_tokens"

// {"type":"error","error":{"type":…,"message":…},"request_id":…} (request_id omitted if empty).
std::string ErrorJson(std::string_view type, std::string_view message,
                      std::string_view request_id = "");
std::string_view ErrorTypeForStatus(unsigned status);
// The body of an error the HTTP server answers itself (413, 431, 408, …): Anthropic's shape
// for the Anthropic front door's paths (/v1/messages…), OpenAI's for everything else.
std::string ErrorJsonForPath(unsigned status, std::string_view code, std::string_view message,
                             std::string_view path);
// The error type if `type` is one of Anthropic's documented error types, else "".
std::string_view KnownErrorType(std::string_view type);
// Reads error.type from an Anthropic error body, keeping it only if it is a known word.
std::string SafeErrorType(std::string_view body);

struct ParsedRequest {
  Endpoint endpoint = Endpoint::kUnknown;
  std::string model;
  bool stream = false;
  boost::json::object body;
};

struct RequestError {
  std::string message;
};

// Validates the shape the vendor requires (model, messages with user/assistant roles, and for
// /v1/messages a positive integer max_tokens; stream a boolean).
bool ParseRequest(Endpoint endpoint, std::string_view body, ParsedRequest* out,
                  RequestError* error);
// `model` replaced by `upstream_model`; rewrites req.body in place.
std::string EncodeUpstreamBody(ParsedRequest& req, std::string_view upstream_model);

// Reads an Anthropic `usage` object into canonical usage: input = input_tokens +
// cache_creation_input_tokens + cache_read_input_tokens. Fields absent keep their old value,
// since message_delta usage is cumulative and may carry only output_tokens.
void MergeUsage(const boost::json::object& usage, CanonicalUsage* out);
// Reads stop_reason and usage from a non-streamed Message.
void ReadMessageOutcome(const boost::json::object& message, CanonicalOutcome* out);

// Follows a stream of Anthropic SSE events and keeps the canonical outcome. Not thread-safe;
// one per stream. OnEvent fails (INVALID_ARGUMENT) on data that is not a JSON object, and the
// caller should then end the stream with an upstream error (502).
class StreamObserver {
 public:
  core::Status OnEvent(std::string_view event, std::string_view data);
  // OnEvent variant for callers that already parsed the data.
  void OnParsedEvent(std::string_view type, const boost::json::object& data);
  bool done() const { return done_; }  // message_stop or error seen
  bool errored() const { return errored_; }
  const CanonicalOutcome& outcome() const { return outcome_; }
  const std::string& message_id() const { return message_id_; }

 private:
  CanonicalOutcome outcome_;
  std::string message_id_;
  bool done_ = false;
  bool errored_ = false;
};

}  // namespace baagate::providers::anthropic
