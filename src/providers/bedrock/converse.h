// Translation between OpenAI Chat Completions and Bedrock Converse / ConverseStream
// (PROVIDERS.md §5.2, §5.3). A Translator in the sense of STYLE.md: pure (no I/O, logging or
// clock: `created` and the response id are passed in), one stream translator per request, not
// thread-safe.
//
// Only the OpenAI-client direction exists: an OpenAI chat request becomes a Converse body, and
// the Converse answer (JSON or event-stream messages) becomes a chat completion or
// chat.completion.chunk events. Requests using a feature Converse cannot express fail with a
// TranslateError naming the parameter (never its value); the gateway answers 400. Vendor error
// and exception text is never copied: translated errors carry fixed messages.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "providers/anthropic/translate.h"
#include "providers/common/canonical.h"

namespace baagate::providers::bedrock {

using TranslateError = anthropic::TranslateError;
using SseOut = anthropic::SseOut;

// Which runtime API a Bedrock route uses: the upstream's `bedrock_api` option ("converse" or
// "invoke") when set, else InvokeModel for Anthropic models (ids starting "anthropic." or
// holding ".anthropic.", as inference profiles and ARNs do) and Converse for every other model.
bool BedrockUsesConverse(std::string_view bedrock_api, std::string_view model_id);

// The runtime path for `model_id` (encoded once for the wire): /model/{id}/converse[-stream]
// or /model/{id}/invoke[-with-response-stream].
std::string BedrockRuntimePath(std::string_view model_id, bool converse, bool stream);

// OpenAI chat request (validated by openai::ParseRequest) -> Converse body. The model is not in
// the body (it is the path's modelId) and neither is `stream` (the path picks converse-stream).
bool ChatRequestToConverse(const boost::json::object& chat, boost::json::object* out,
                           TranslateError* error);

// Converse response -> OpenAI chat.completion. `id` becomes "chatcmpl-<id>" (Converse has no
// response id); `client_model` is what the client asked for. INVALID_ARGUMENT (-> 502) when the
// body is not a Converse response.
core::Result<std::string> ConverseToChatCompletion(std::string_view converse_body,
                                                   std::string_view client_model,
                                                   std::string_view id, std::int64_t created,
                                                   CanonicalOutcome* outcome);

// Converse `usage` object -> canonical usage (inputTokens excludes cache reads and writes).
void ReadConverseUsage(const boost::json::object& usage, CanonicalUsage* out);

// An upstream Converse error body re-expressed as an OpenAI error with a fixed message.
std::string ConverseErrorToOpenAi(unsigned status, std::string_view converse_body);

// ConverseStream event-stream messages -> OpenAI chat.completion.chunk events (unnamed `data:`),
// ending with `[DONE]` after the trailing `metadata` event (which carries usage). An exception
// message (`:message-type exception`, or `error`) becomes an OpenAI error payload and ends the
// stream without `[DONE]`.
class ConverseToOpenAiStream {
 public:
  ConverseToOpenAiStream(std::string client_model, std::string id, std::int64_t created,
                         bool include_usage);
  // `message_type` is the `:message-type` header, `type` the `:event-type` (events) or
  // `:exception-type` (exceptions), `payload` the message's JSON. INVALID_ARGUMENT when an
  // event's payload is not a JSON object; the caller then ends the stream (502).
  core::Status OnMessage(std::string_view message_type, std::string_view type,
                         std::string_view payload, std::vector<SseOut>* out);
  bool done() const { return done_; }
  // True once messageStop was seen: the answer is complete even if `metadata` never comes.
  bool stopped() const { return stopped_; }
  // End of input after messageStop without `metadata`: closes the stream with `[DONE]`.
  void Finish(std::vector<SseOut>* out);
  const CanonicalOutcome& outcome() const { return outcome_; }

 private:
  std::string Chunk(boost::json::object delta, const boost::json::value& finish) const;

  std::string model_;
  std::string id_;
  std::int64_t created_;
  bool include_usage_;
  CanonicalOutcome outcome_;
  std::map<std::int64_t, int> tool_index_;  // Converse block index -> OpenAI tool_calls index
  int next_tool_ = 0;
  bool stopped_ = false;
  bool done_ = false;
};

}  // namespace baagate::providers::bedrock
