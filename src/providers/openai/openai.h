// The OpenAI wire dialect as the gateway needs it: request validation and rewriting for
// /v1/chat/completions and /v1/embeddings, usage extraction, and error bodies.
// Pure functions: no I/O, no logging, no clock (a Translator in the sense of STYLE.md).
//
// Error messages produced here never quote request content: they name the parameter only.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace baagate::providers::openai {

enum class Endpoint { kChatCompletions, kEmbeddings, kModels, kUnknown };

// Maps a request path (no query) to an endpoint.
Endpoint ClassifyPath(std::string_view path);
std::string_view EndpointName(Endpoint e);  // "chat_completions", … for metrics and logs
std::string_view EndpointUpstreamPath(Endpoint e);  // "/chat/completions", appended to base path

// {"error":{"message":…,"type":…,"param":…|null,"code":…|null}}
std::string ErrorJson(std::string_view message, std::string_view type, std::string_view param,
                      std::string_view code);
std::string_view ErrorTypeForStatus(unsigned status);
// ErrorJson with the type that goes with `status` and no param; fits http::JsonErrorBodyFn.
std::string ErrorJsonForStatus(unsigned status, std::string_view code, std::string_view message);

// A request validated and ready to be re-encoded for the upstream.
struct ParsedRequest {
  Endpoint endpoint = Endpoint::kUnknown;
  std::string model;
  bool stream = false;
  bool client_wants_usage = false;  // stream_options.include_usage as the client sent it
  boost::json::object body;
};

// A validation failure: Status message for the client, plus the parameter it concerns.
struct RequestError {
  std::string message;
  std::string param;
};

// Parses and validates a request body for `endpoint`. On failure fills `error` and returns false.
bool ParseRequest(Endpoint endpoint, std::string_view body, ParsedRequest* out,
                  RequestError* error);

// Encodes the body the vendor receives: `model` replaced by `upstream_model`, and for streams
// stream_options.include_usage forced on so usage is always known. Rewrites req.body in place
// (no copy of a possibly large body); the other fields of `req` keep the client's values.
std::string EncodeUpstreamBody(ParsedRequest& req, std::string_view upstream_model);

struct Usage {
  std::int64_t prompt_tokens = -1;  // -1: not reported
  std::int64_t completion_tokens = -1;
  std::int64_t total_tokens = -1;
};
// Reads `usage` from a response or chunk object, if present and an object.
bool ReadUsage(const boost::json::object& obj, Usage* out);

// Fields from a vendor error body that are safe to pass to the client: `type` and `code` only
// when they are known OpenAI error words, `param` only when it is a lower-case parameter path
// like "messages[0].content". The vendor's message is never read: it may echo the prompt.
struct SafeErrorFields {
  std::string type;
  std::string code;
  std::string param;
};
SafeErrorFields ExtractSafeErrorFields(std::string_view body);
SafeErrorFields ExtractSafeErrorFieldsFromObject(const boost::json::value& error_object);

}  // namespace baagate::providers::openai
