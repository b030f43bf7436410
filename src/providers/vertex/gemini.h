// Translation between OpenAI Chat Completions and Vertex AI Gemini generateContent
// (PROVIDERS.md §6.2, §6.3), for JSON bodies and alt=sse streams. Pure translators in the sense
// of STYLE.md: no I/O, logging or clock (`created` is passed in); one stream translator per
// request, not thread-safe.
//
// A request using a feature generateContent cannot express fails with a TranslateError that the
// gateway answers as 400; the message names the parameter, never its value. Vendor error text is
// never copied into what the client sees.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "providers/anthropic/translate.h"
#include "providers/common/canonical.h"

namespace baagate::providers::vertex {

using anthropic::SseOut;
using anthropic::TranslateError;

// OpenAI chat request (validated by openai::ParseRequest) -> GenerateContentRequest. The model
// and the stream flag are not in the body (the URL carries them).
bool ChatRequestToGenerateContent(const boost::json::object& chat, boost::json::object* out,
                                  TranslateError* error);

// Reads a GenerateContentResponse's finish reason, prompt block and usage into `outcome`.
void ReadGeminiOutcome(const boost::json::object& response, CanonicalOutcome* outcome);

// Non-streamed GenerateContentResponse -> chat.completion. INVALID_ARGUMENT (-> 502) when the
// body is not a GenerateContentResponse.
core::Result<std::string> GenerateContentToChatCompletion(std::string_view gemini_body,
                                                          std::string_view client_model,
                                                          std::int64_t created,
                                                          CanonicalOutcome* outcome);

// A Google error body re-expressed for an OpenAI client with a fixed message.
std::string GoogleErrorToOpenAi(unsigned status, std::string_view google_body);

// streamGenerateContent?alt=sse events (each a partial GenerateContentResponse) ->
// chat.completion.chunk events ending with [DONE]. The event carrying finishReason (or a prompt
// blockReason) ends the stream; its usageMetadata is the call's usage. A Google error object
// mid-stream becomes an OpenAI error payload without the vendor's text and ends the stream
// without [DONE].
class GeminiToOpenAiStream {
 public:
  GeminiToOpenAiStream(std::string client_model, std::int64_t created, bool include_usage);
  // INVALID_ARGUMENT when `data` is not a JSON object; the caller then ends the stream (502).
  core::Status OnData(std::string_view data, std::vector<SseOut>* out);
  bool done() const { return done_; }
  const CanonicalOutcome& outcome() const { return outcome_; }

 private:
  std::string Chunk(boost::json::object delta, const boost::json::value& finish) const;
  void Finish(std::vector<SseOut>* out);

  std::string model_;
  std::int64_t created_;
  bool include_usage_;
  std::string id_ = "chatcmpl-vertex";
  bool started_ = false;
  bool done_ = false;
  int tools_ = 0;  // function calls sent so far (OpenAI tool_calls indexes)
  CanonicalOutcome outcome_;
};

}  // namespace baagate::providers::vertex
