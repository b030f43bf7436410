// libFuzzer target for the streaming translators (Anthropic SSE -> OpenAI chunks and back, and
// Bedrock ConverseStream -> OpenAI chunks): any sequence of events must be consumed without
// crashing, every output must be JSON (or [DONE]), and nothing may follow a terminal output.
// Input: lines "name\tdata"; the first byte picks the translator (bit 2: Converse, where a name
// starting with '!' is an exception message; else bit 0: the Anthropic direction). Build with -DBAAGATE_FUZZ_NO_ENTRY to reuse the body in the GCC replay.
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "providers/anthropic/translate.h"
#include "providers/bedrock/converse.h"

namespace baagate::fuzz {

inline void CheckOutputs(const std::vector<providers::anthropic::SseOut>& outs, bool* ended) {
  for (const auto& o : outs) {
    if (*ended) std::abort();  // output after [DONE] / message_stop / error
    if (o.data == "[DONE]") {
      *ended = true;
      continue;
    }
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(o.data, ec);
    if (ec || !v.is_object()) std::abort();
    if (o.event == "message_stop" || o.event == "error" || v.as_object().contains("error")) {
      *ended = true;
    }
  }
}

inline int TranslatorStreamOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool converse = (data[0] & 4) != 0;
  const bool to_openai = (data[0] & 1) != 0;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  providers::anthropic::AnthropicToOpenAiStream a2o("m", 1, (data[0] & 2) != 0);
  providers::anthropic::OpenAiToAnthropicStream o2a("m");
  providers::bedrock::ConverseToOpenAiStream c2o("m", "id", 1, (data[0] & 2) != 0);
  bool ended = false;
  while (!input.empty()) {
    std::size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    std::size_t tab = line.find('\t');
    std::string_view name = tab == std::string_view::npos ? std::string_view() : line.substr(0, tab);
    std::string_view payload = tab == std::string_view::npos ? line : line.substr(tab + 1);
    std::vector<providers::anthropic::SseOut> outs;
    core::Status st;
    if (converse) {
      const bool exception = !name.empty() && name.front() == '!';
      st = c2o.OnMessage(exception ? "exception" : "event",
                         exception ? name.substr(1) : name, payload, &outs);
    } else {
      st = to_openai ? a2o.OnEvent(name, payload, &outs) : o2a.OnData(payload, &outs);
    }
    if (!st.ok()) return 0;  // the gateway ends the stream on the first error
    CheckOutputs(outs, &ended);
  }
  return 0;
}

}  // namespace baagate::fuzz

#ifndef BAAGATE_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return baagate::fuzz::TranslatorStreamOneInput(data, size);
}
#endif
