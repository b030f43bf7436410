// Translation between OpenAI Chat Completions and Anthropic Messages, both directions, for
// JSON bodies and streams. A Translator in the sense of STYLE.md: pure (no I/O, logging or
// clock: `created` is passed in), one stream translator per request, not thread-safe.
//
// Requests that use a feature the other dialect cannot express fail with a TranslateError the
// gateway answers as 400 in the client's dialect; the message names the parameter, never its
// value. Vendor error text is never copied: translated errors carry a fixed message.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "providers/anthropic/anthropic.h"
#include "providers/common/canonical.h"

namespace baagate::providers::anthropic {

struct TranslateError {
  std::string message;  // "'<param>' cannot be translated to <dialect>: <why>"
  std::string param;
};

// Upper bound on max_tokens when an OpenAI client sent none (Anthropic requires one).
inline constexpr std::int64_t kDefaultMaxTokens = 4096;

// OpenAI chat request (validated by openai::ParseRequest) -> Anthropic Messages body.
bool ChatRequestToMessages(const boost::json::object& chat, std::string_view upstream_model,
                           boost::json::object* out, TranslateError* error);
// Anthropic Messages request (validated by anthropic::ParseRequest) -> OpenAI chat body. For
// streams, stream_options.include_usage is set so usage is always known.
bool MessagesRequestToChat(const boost::json::object& messages, std::string_view upstream_model,
                           boost::json::object* out, TranslateError* error);

// Non-streamed responses. `client_model` is what the client asked for (the alias). Fails
// (INVALID_ARGUMENT -> 502) when the upstream body is not the expected shape.
core::Result<std::string> MessageToChatCompletion(std::string_view anthropic_body,
                                                  std::string_view client_model,
                                                  std::int64_t created,
                                                  CanonicalOutcome* outcome);
core::Result<std::string> ChatCompletionToMessage(std::string_view openai_body,
                                                  std::string_view client_model,
                                                  CanonicalOutcome* outcome);

// Upstream error bodies re-expressed in the client's dialect, with fixed messages.
std::string AnthropicErrorToOpenAi(unsigned status, std::string_view anthropic_body);
std::string OpenAiErrorToAnthropic(unsigned status, std::string_view openai_body);

// One named or unnamed SSE event to write to the client.
struct SseOut {
  std::string event;  // empty: an unnamed `data:` event
  std::string data;
};

// Anthropic SSE events -> OpenAI chat.completion.chunk events (unnamed `data:`), ending with
// `[DONE]`. A mid-stream Anthropic `error` event becomes an OpenAI error payload and ends the
// stream without `[DONE]`, as OpenAI SDKs expect.
class AnthropicToOpenAiStream {
 public:
  AnthropicToOpenAiStream(std::string client_model, std::int64_t created, bool include_usage);
  // INVALID_ARGUMENT when `data` is not a JSON object; the caller then ends the stream (502).
  core::Status OnEvent(std::string_view event, std::string_view data, std::vector<SseOut>* out);
  bool done() const { return done_; }
  const CanonicalOutcome& outcome() const { return observer_.outcome(); }

 private:
  std::string Chunk(boost::json::object delta, const boost::json::value& finish) const;

  std::string model_;
  std::int64_t created_;
  bool include_usage_;
  std::string id_ = "chatcmpl-unknown";
  StreamObserver observer_;
  std::map<std::int64_t, int> tool_index_;  // Anthropic block index -> OpenAI tool_calls index
  int next_tool_ = 0;
  bool done_ = false;
};

// OpenAI chat.completion.chunk events -> the Anthropic event sequence. Call OnData for every
// `data:` payload, including `[DONE]`. Text streams as it comes; tool calls are buffered until
// the choice finishes and then sent one block each (OpenAI may interleave fragments of parallel
// calls, and an Anthropic block cannot be reopened), so their size is bounded by the response.
class OpenAiToAnthropicStream {
 public:
  explicit OpenAiToAnthropicStream(std::string client_model);
  core::Status OnData(std::string_view data, std::vector<SseOut>* out);
  bool done() const { return done_; }
  const CanonicalOutcome& outcome() const { return outcome_; }

 private:
  void Start(std::string_view id, std::vector<SseOut>* out);
  void CloseBlock(std::vector<SseOut>* out);
  void OpenBlock(boost::json::object block, std::vector<SseOut>* out);
  void Finish(std::vector<SseOut>* out);

  std::string model_;
  bool started_ = false;
  bool done_ = false;
  int block_index_ = -1;       // index of the last opened block
  bool block_open_ = false;
  bool block_is_text_ = false;
  struct PendingTool {
    std::string id;
    std::string name;
    std::string arguments;
  };
  void FlushTools(std::vector<SseOut>* out);
  std::map<std::int64_t, PendingTool> tools_;  // OpenAI tool index -> call, until finish
  CanonicalOutcome outcome_;
};

}  // namespace baagate::providers::anthropic
