#include "providers/anthropic/translate.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "providers/bedrock/converse.h"

namespace baagate::providers::anthropic {
namespace {

namespace json = boost::json;

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

// ---- Requests: OpenAI chat -> Anthropic messages --------------------------------------------

TEST(ChatToMessagesRequest, MapsSystemToolsToolResultsAndSampling) {
  auto chat = Obj(R"({
    "model":"claude-alias","max_completion_tokens":256,"temperature":0.5,"stop":"END",
    "user":"pseudonym-1","stream":true,"stream_options":{"include_usage":true},
    "parallel_tool_calls":false,"tool_choice":"required",
    "tools":[{"type":"function","function":{"name":"lookup","description":"d",
              "parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}],
    "messages":[
      {"role":"system","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"hi"},
                                {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
      {"role":"assistant","content":null,"tool_calls":[
        {"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"x\"}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"result"},
      {"role":"user","content":"thanks"}]})");
  json::object out;
  TranslateError err;
  ASSERT_TRUE(ChatRequestToMessages(chat, "claude-3-5-sonnet", &out, &err)) << err.message;
  EXPECT_EQ(out["model"].as_string(), "claude-3-5-sonnet");
  EXPECT_EQ(out["max_tokens"].as_int64(), 256);
  EXPECT_EQ(out["temperature"].as_double(), 0.5);
  EXPECT_EQ(out["stop_sequences"].as_array()[0].as_string(), "END");
  EXPECT_EQ(out["metadata"].at("user_id").as_string(), "pseudonym-1");
  EXPECT_TRUE(out["stream"].as_bool());
  EXPECT_EQ(out["system"].as_array()[0].at("text").as_string(), "be brief");
  EXPECT_EQ(out["tool_choice"].at("type").as_string(), "any");
  EXPECT_TRUE(out["tool_choice"].at("disable_parallel_tool_use").as_bool());
  EXPECT_EQ(out["tools"].as_array()[0].at("input_schema").at("type").as_string(), "object");
  const auto& msgs = out["messages"].as_array();
  ASSERT_EQ(msgs.size(), 3u);  // user, assistant(tool_use), user(tool_result + text)
  EXPECT_EQ(msgs[0].at("content").as_array()[1].at("source").at("media_type").as_string(),
            "image/png");
  EXPECT_EQ(msgs[1].at("content").as_array()[0].at("input").at("q").as_string(), "x");
  const auto& last = msgs[2].at("content").as_array();
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].at("type").as_string(), "tool_result");
  EXPECT_EQ(last[0].at("tool_use_id").as_string(), "call_1");
  EXPECT_EQ(last[1].at("text").as_string(), "thanks");
  EXPECT_FALSE(out.contains("stream_options"));
}

TEST(ChatToMessagesRequest, RefusesWhatAnthropicCannotExpressNamingTheParameter) {
  const char* base = R"("model":"m","messages":[{"role":"user","content":"SECRET PHI"}])";
  struct Case {
    std::string extra;
    std::string param;
  } cases[] = {
      {R"("n":2)", "n"},
      {R"("logprobs":true)", "logprobs"},
      {R"("response_format":{"type":"json_object"})", "response_format"},
      {R"("audio":{"voice":"alloy"})", "audio"},
      {R"("temperature":1.5)", "temperature"},
      {R"("store":true)", "store"},
      {R"("tools":[{"type":"custom","custom":{"name":"x"}}])", "tools[0].type"},
  };
  for (const auto& c : cases) {
    json::object out;
    TranslateError err;
    EXPECT_FALSE(ChatRequestToMessages(Obj("{" + std::string(base) + "," + c.extra + "}"), "u",
                                       &out, &err))
        << c.extra;
    EXPECT_EQ(err.param, c.param);
    EXPECT_EQ(err.message.find("SECRET"), std::string::npos);
  }
  json::object out;
  TranslateError err;
  EXPECT_FALSE(ChatRequestToMessages(
      Obj(R"({"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]})"),
      "u", &out, &err));
  EXPECT_EQ(err.param, "messages[0].content[0].type");
}

TEST(ChatToMessagesRequest, DefaultsMaxTokensBecauseAnthropicRequiresIt) {
  json::object out;
  TranslateError err;
  ASSERT_TRUE(ChatRequestToMessages(Obj(R"({"model":"m","messages":[{"role":"user","content":"x"}]})"),
                                    "u", &out, &err));
  EXPECT_EQ(out["max_tokens"].as_int64(), kDefaultMaxTokens);
}

// ---- Requests: Anthropic messages -> OpenAI chat --------------------------------------------

TEST(MessagesToChatRequest, MapsSystemToolUseAndToolResults) {
  auto msgs = Obj(R"({"model":"gpt-alias","max_tokens":100,"system":"be brief","stream":true,
    "stop_sequences":["END"],"metadata":{"user_id":"u-1"},
    "tool_choice":{"type":"tool","name":"lookup","disable_parallel_tool_use":true},
    "tools":[{"name":"lookup","input_schema":{"type":"object"}}],
    "messages":[
      {"role":"user","content":"hi"},
      {"role":"assistant","content":[{"type":"text","text":"checking"},
        {"type":"tool_use","id":"toolu_1","name":"lookup","input":{"q":"x"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"r"},
                                {"type":"text","text":"and?"}]}]})");
  json::object out;
  TranslateError err;
  ASSERT_TRUE(MessagesRequestToChat(msgs, "gpt-4o", &out, &err)) << err.message;
  EXPECT_EQ(out["model"].as_string(), "gpt-4o");
  EXPECT_EQ(out["max_completion_tokens"].as_int64(), 100);
  EXPECT_TRUE(out["stream_options"].at("include_usage").as_bool());
  EXPECT_EQ(out["safety_identifier"].as_string(), "u-1");
  EXPECT_EQ(out["tool_choice"].at("function").at("name").as_string(), "lookup");
  EXPECT_FALSE(out["parallel_tool_calls"].as_bool());
  const auto& m = out["messages"].as_array();
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].at("role").as_string(), "system");
  EXPECT_EQ(m[2].at("tool_calls").as_array()[0].at("function").at("arguments").as_string(),
            R"({"q":"x"})");
  EXPECT_EQ(m[3].at("role").as_string(), "tool");
  EXPECT_EQ(m[3].at("tool_call_id").as_string(), "toolu_1");
  EXPECT_EQ(m[4].at("content").as_string(), "and?");
}

TEST(MessagesToChatRequest, RefusesThinkingServerToolsAndDocuments) {
  const std::string base = R"("model":"m","max_tokens":5)";
  struct Case {
    std::string extra;
    std::string param;
  } cases[] = {
      {R"("messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled","budget_tokens":1024})",
       "thinking"},
      {R"("messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search_20250305","name":"web_search"}])",
       "tools.0.type"},
      {R"("messages":[{"role":"user","content":[{"type":"document","source":{}}]}])",
       "messages.0.content[0].type"},
      {R"("messages":[{"role":"user","content":"x"}],"top_k":5)", "top_k"},
      {R"("messages":[{"role":"user","content":"x"}],"container":"c")", "container"},
  };
  for (const auto& c : cases) {
    json::object out;
    TranslateError err;
    EXPECT_FALSE(MessagesRequestToChat(Obj("{" + base + "," + c.extra + "}"), "u", &out, &err))
        << c.extra;
    EXPECT_EQ(err.param, c.param) << c.extra;
  }
}

TEST(OpenAiToAnthropicStreamTest, InterleavedParallelToolCallsStayInTheirOwnBlocks) {
  OpenAiToAnthropicStream t("alias");
  std::vector<SseOut> out;
  auto chunk = [](const char* delta_json, const char* finish) {
    return std::string(R"({"id":"c","choices":[{"index":0,"delta":)") + delta_json +
           R"(,"finish_reason":)" + finish + "}]}";
  };
  for (const std::string& c :
       {chunk(R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{\"x\""}}]})", "null"),
        chunk(R"({"tool_calls":[{"index":1,"id":"b","function":{"name":"g","arguments":"{\"y\":2}"}}]})", "null"),
        chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]})", "null"),
        chunk("{}", R"("tool_calls")"), std::string("[DONE]")}) {
    ASSERT_TRUE(t.OnData(c, &out).ok()) << c;
  }
  int open = -1;
  std::map<std::int64_t, std::string> args;
  for (const auto& e : out) {
    auto d = Obj(e.data);
    if (e.event == "content_block_start") open = static_cast<int>(d["index"].as_int64());
    if (e.event == "content_block_delta") {
      ASSERT_EQ(d["index"].as_int64(), open);  // never a delta into a closed block
      args[open] += std::string(d["delta"].at("partial_json").as_string());
    }
    if (e.event == "content_block_stop") open = -1;
  }
  ASSERT_EQ(args.size(), 2u);
  EXPECT_EQ(args[0], R"({"x":1})");
  EXPECT_EQ(args[1], R"({"y":2})");
}

TEST(TranslatedErrors, NeverCarryVendorText) {
  std::string a = AnthropicErrorToOpenAi(
      429, R"({"type":"error","error":{"type":"rate_limit_error","message":"patient Jane"}})");
  EXPECT_EQ(a.find("Jane"), std::string::npos);
  EXPECT_EQ(Obj(a)["error"].at("type").as_string(), "rate_limit_error");
  std::string o =
      OpenAiErrorToAnthropic(400, R"({"error":{"message":"patient Jane","type":"x"}})");
  EXPECT_EQ(o.find("Jane"), std::string::npos);
  EXPECT_EQ(Obj(o)["error"].at("type").as_string(), "invalid_request_error");
  EXPECT_EQ(Obj(o)["type"].as_string(), "error");
}

// ---- Conformance battery: every translator through the same scenarios ------------------------

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON object text
};

// What the model "did", in canonical terms; each dialect's fixture encodes it natively.
struct Scenario {
  std::string text;
  std::vector<ToolCall> tools;
  FinishReason finish = FinishReason::kStop;
  std::int64_t input_tokens = 11;
  std::int64_t cached_tokens = 0;
  std::int64_t output_tokens = 7;
  bool midstream_error = false;
};

// What a client of the target dialect observes.
struct Observed {
  std::string text;
  std::vector<ToolCall> tools;
  std::string finish;  // in the client's vocabulary
  std::int64_t input_tokens = -1;
  std::int64_t output_tokens = -1;
  bool error = false;
  bool terminated = false;  // [DONE] or message_stop
};

// -- Anthropic-dialect fixtures and readers --

json::object AnthropicUsage(const Scenario& s) {
  json::object u{{"input_tokens", s.input_tokens - s.cached_tokens},
                 {"output_tokens", s.output_tokens}};
  if (s.cached_tokens > 0) u["cache_read_input_tokens"] = s.cached_tokens;
  return u;
}

std::string AnthropicMessageJson(const Scenario& s) {
  json::array content;
  if (!s.text.empty()) content.push_back(json::object{{"type", "text"}, {"text", s.text}});
  for (const auto& t : s.tools) {
    content.push_back(json::object{
        {"type", "tool_use"}, {"id", t.id}, {"name", t.name}, {"input", json::parse(t.arguments)}});
  }
  return json::serialize(json::object{{"id", "msg_01"},
                                      {"type", "message"},
                                      {"role", "assistant"},
                                      {"model", "claude-x"},
                                      {"content", std::move(content)},
                                      {"stop_reason", ToAnthropicStopReason(s.finish)},
                                      {"stop_sequence", nullptr},
                                      {"usage", AnthropicUsage(s)}});
}

std::vector<SseOut> AnthropicEvents(const Scenario& s) {
  std::vector<SseOut> ev;
  auto add = [&](std::string name, json::object data) {
    data["type"] = name;
    ev.push_back({name, json::serialize(data)});
  };
  json::object start_usage = AnthropicUsage(s);
  start_usage["output_tokens"] = 1;
  add("message_start", {{"message",
                         {{"id", "msg_01"}, {"type", "message"}, {"role", "assistant"},
                          {"model", "claude-x"}, {"content", json::array()},
                          {"stop_reason", nullptr}, {"usage", std::move(start_usage)}}}});
  add("ping", {});
  int index = 0;
  if (!s.text.empty()) {
    add("content_block_start", {{"index", index}, {"content_block", {{"type", "text"}, {"text", ""}}}});
    const std::size_t half = s.text.size() / 2;
    for (const std::string& part : {s.text.substr(0, half), s.text.substr(half)}) {
      add("content_block_delta",
          {{"index", index}, {"delta", {{"type", "text_delta"}, {"text", part}}}});
    }
    add("content_block_stop", {{"index", index}});
    ++index;
  }
  if (s.midstream_error) {
    add("error", {{"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}});
    return ev;
  }
  for (const auto& t : s.tools) {
    add("content_block_start",
        {{"index", index},
         {"content_block",
          {{"type", "tool_use"}, {"id", t.id}, {"name", t.name}, {"input", json::object()}}}});
    // Split the JSON mid-token, as the vendor does.
    for (std::size_t i = 0; i < t.arguments.size(); i += 3) {
      add("content_block_delta",
          {{"index", index},
           {"delta", {{"type", "input_json_delta"}, {"partial_json", t.arguments.substr(i, 3)}}}});
    }
    add("content_block_stop", {{"index", index}});
    ++index;
  }
  add("message_delta", {{"delta", {{"stop_reason", ToAnthropicStopReason(s.finish)},
                                   {"stop_sequence", nullptr}}},
                        {"usage", {{"output_tokens", s.output_tokens}}}});
  add("ping", {});
  add("message_stop", {});
  return ev;
}

Observed ReadAnthropicMessage(const std::string& body) {
  Observed o;
  auto m = Obj(body);
  EXPECT_EQ(m["type"].as_string(), "message");
  for (const auto& b : m["content"].as_array()) {
    const auto& bo = b.as_object();
    if (bo.at("type").as_string() == "text") o.text += std::string(bo.at("text").as_string());
    if (bo.at("type").as_string() == "tool_use") {
      o.tools.push_back({std::string(bo.at("id").as_string()),
                         std::string(bo.at("name").as_string()),
                         json::serialize(bo.at("input"))});
    }
  }
  o.finish = std::string(m["stop_reason"].as_string());
  const auto& u = m["usage"].as_object();
  o.input_tokens = u.at("input_tokens").as_int64() +
                   (u.contains("cache_read_input_tokens") ? u.at("cache_read_input_tokens").as_int64() : 0);
  o.output_tokens = u.at("output_tokens").as_int64();
  o.terminated = true;
  return o;
}

// Reads an Anthropic event sequence the way the SDK does, checking the ordering rules.
Observed ReadAnthropicEvents(const std::vector<SseOut>& events) {
  Observed o;
  EXPECT_FALSE(events.empty());
  if (events.empty()) return o;
  EXPECT_EQ(events.front().event, "message_start");
  int open = -1;
  std::map<std::int64_t, std::string> tool_args;
  std::map<std::int64_t, ToolCall> tools;
  for (const auto& e : events) {
    auto d = Obj(e.data);
    EXPECT_EQ(d["type"].as_string(), e.event);
    EXPECT_FALSE(o.terminated) << "event after message_stop";
    if (e.event == "message_start") {
      o.input_tokens = d["message"].at("usage").at("input_tokens").as_int64();
    } else if (e.event == "content_block_start") {
      EXPECT_EQ(open, -1) << "block opened while another is open";
      open = static_cast<int>(d["index"].as_int64());
      const auto& cb = d["content_block"].as_object();
      if (cb.at("type").as_string() == "tool_use") {
        tools[open] = {std::string(cb.at("id").as_string()), std::string(cb.at("name").as_string()),
                       ""};
      }
    } else if (e.event == "content_block_delta") {
      EXPECT_EQ(d["index"].as_int64(), open);
      const auto& delta = d["delta"].as_object();
      if (delta.at("type").as_string() == "text_delta") {
        o.text += std::string(delta.at("text").as_string());
      } else {
        tools[open].arguments += std::string(delta.at("partial_json").as_string());
      }
    } else if (e.event == "content_block_stop") {
      EXPECT_EQ(d["index"].as_int64(), open);
      open = -1;
    } else if (e.event == "message_delta") {
      EXPECT_EQ(open, -1);
      o.finish = std::string(d["delta"].at("stop_reason").as_string());
      const auto& u = d["usage"].as_object();
      o.output_tokens = u.at("output_tokens").as_int64();
      if (u.contains("input_tokens")) {
        o.input_tokens = u.at("input_tokens").as_int64() +
                         (u.contains("cache_read_input_tokens")
                              ? u.at("cache_read_input_tokens").as_int64()
                              : 0);
      }
    } else if (e.event == "message_stop") {
      o.terminated = true;
    } else if (e.event == "error") {
      o.error = true;
    }
  }
  for (auto& [i, t] : tools) {
    t.arguments = json::serialize(json::parse(t.arguments.empty() ? "{}" : t.arguments));
    o.tools.push_back(t);
  }
  return o;
}

// -- OpenAI-dialect fixtures and readers --

json::object OpenAiUsage(const Scenario& s) {
  json::object u{{"prompt_tokens", s.input_tokens},
                 {"completion_tokens", s.output_tokens},
                 {"total_tokens", s.input_tokens + s.output_tokens}};
  if (s.cached_tokens > 0) u["prompt_tokens_details"] = {{"cached_tokens", s.cached_tokens}};
  return u;
}

std::string OpenAiCompletionJson(const Scenario& s) {
  json::object message{{"role", "assistant"}};
  message["content"] = s.text.empty() ? json::value(nullptr) : json::value(s.text);
  json::array calls;
  for (const auto& t : s.tools) {
    calls.push_back(json::object{{"id", t.id},
                                 {"type", "function"},
                                 {"function", {{"name", t.name}, {"arguments", t.arguments}}}});
  }
  if (!calls.empty()) message["tool_calls"] = std::move(calls);
  return json::serialize(json::object{
      {"id", "chatcmpl-1"},
      {"object", "chat.completion"},
      {"created", 1},
      {"model", "gpt-x"},
      {"choices", json::array{json::object{{"index", 0},
                                           {"message", std::move(message)},
                                           {"finish_reason", ToOpenAiFinishReason(s.finish)}}}},
      {"usage", OpenAiUsage(s)}});
}

std::vector<SseOut> OpenAiChunks(const Scenario& s) {
  std::vector<SseOut> out;
  auto chunk = [&](json::object delta, json::value finish) {
    out.push_back({"", json::serialize(json::object{
                           {"id", "chatcmpl-1"},
                           {"object", "chat.completion.chunk"},
                           {"created", 1},
                           {"model", "gpt-x"},
                           {"choices", json::array{json::object{{"index", 0},
                                                                {"delta", std::move(delta)},
                                                                {"finish_reason", finish}}}}})});
  };
  chunk({{"role", "assistant"}, {"content", ""}}, nullptr);
  const std::size_t half = s.text.size() / 2;
  if (!s.text.empty()) {
    chunk({{"content", s.text.substr(0, half)}}, nullptr);
    chunk({{"content", s.text.substr(half)}}, nullptr);
  }
  if (s.midstream_error) {
    out.push_back({"", R"({"error":{"message":"overloaded","type":"server_error","param":null,"code":null}})"});
    return out;
  }
  for (std::size_t k = 0; k < s.tools.size(); ++k) {
    const auto& t = s.tools[k];
    chunk({{"tool_calls", json::array{json::object{
                              {"index", k}, {"id", t.id}, {"type", "function"},
                              {"function", {{"name", t.name}, {"arguments", ""}}}}}}},
          nullptr);
    for (std::size_t i = 0; i < t.arguments.size(); i += 4) {
      chunk({{"tool_calls",
              json::array{json::object{{"index", k},
                                       {"function", {{"arguments", t.arguments.substr(i, 4)}}}}}}},
            nullptr);
    }
  }
  chunk(json::object(), json::value(ToOpenAiFinishReason(s.finish)));
  out.push_back({"", json::serialize(json::object{{"id", "chatcmpl-1"},
                                                  {"object", "chat.completion.chunk"},
                                                  {"created", 1},
                                                  {"model", "gpt-x"},
                                                  {"choices", json::array()},
                                                  {"usage", OpenAiUsage(s)}})});
  out.push_back({"", "[DONE]"});
  return out;
}

Observed ReadOpenAiCompletion(const std::string& body) {
  Observed o;
  auto r = Obj(body);
  EXPECT_EQ(r["object"].as_string(), "chat.completion");
  const auto& choice = r["choices"].as_array()[0].as_object();
  const auto& m = choice.at("message").as_object();
  if (m.at("content").is_string()) o.text = std::string(m.at("content").as_string());
  if (m.contains("tool_calls")) {
    for (const auto& tc : m.at("tool_calls").as_array()) {
      const auto& f = tc.at("function").as_object();
      o.tools.push_back({std::string(tc.at("id").as_string()), std::string(f.at("name").as_string()),
                         json::serialize(json::parse(f.at("arguments").as_string()))});
    }
  }
  o.finish = std::string(choice.at("finish_reason").as_string());
  o.input_tokens = r["usage"].at("prompt_tokens").as_int64();
  o.output_tokens = r["usage"].at("completion_tokens").as_int64();
  o.terminated = true;
  return o;
}

Observed ReadOpenAiChunks(const std::vector<SseOut>& events) {
  Observed o;
  std::map<std::int64_t, ToolCall> tools;
  for (const auto& e : events) {
    EXPECT_TRUE(e.event.empty());
    EXPECT_FALSE(o.terminated) << "data after [DONE]";
    if (e.data == "[DONE]") {
      o.terminated = true;
      continue;
    }
    auto c = Obj(e.data);
    if (c.contains("error")) {
      o.error = true;
      continue;
    }
    EXPECT_EQ(c["object"].as_string(), "chat.completion.chunk");
    if (c.contains("usage") && c["usage"].is_object()) {
      o.input_tokens = c["usage"].at("prompt_tokens").as_int64();
      o.output_tokens = c["usage"].at("completion_tokens").as_int64();
    }
    for (const auto& ch : c["choices"].as_array()) {
      const auto& delta = ch.at("delta").as_object();
      if (delta.contains("content") && delta.at("content").is_string()) {
        o.text += std::string(delta.at("content").as_string());
      }
      if (delta.contains("tool_calls")) {
        for (const auto& tc : delta.at("tool_calls").as_array()) {
          auto& t = tools[tc.at("index").as_int64()];
          if (tc.as_object().contains("id")) t.id = std::string(tc.at("id").as_string());
          const auto& f = tc.at("function").as_object();
          if (f.contains("name")) t.name = std::string(f.at("name").as_string());
          if (f.contains("arguments")) t.arguments += std::string(f.at("arguments").as_string());
        }
      }
      if (ch.at("finish_reason").is_string()) {
        o.finish = std::string(ch.at("finish_reason").as_string());
      }
    }
  }
  for (auto& [i, t] : tools) {
    t.arguments = json::serialize(json::parse(t.arguments));
    o.tools.push_back(t);
  }
  return o;
}

// -- The two translator directions as typed-test parameters --

// Upstream speaks Anthropic, the client speaks OpenAI (an OpenAI client on a Claude route).
struct AnthropicUpstreamOpenAiClient {
  static std::string FinishWord(FinishReason r) { return std::string(ToOpenAiFinishReason(r)); }
  static core::Result<std::string> TranslateJson(const Scenario& s, CanonicalOutcome* outcome) {
    return MessageToChatCompletion(AnthropicMessageJson(s), "alias", 123, outcome);
  }
  static core::Status TranslateStream(const Scenario& s, std::vector<SseOut>* out,
                                      CanonicalOutcome* outcome) {
    AnthropicToOpenAiStream t("alias", 123, /*include_usage=*/true);
    for (const auto& e : AnthropicEvents(s)) {
      core::Status st = t.OnEvent(e.event, e.data, out);
      if (!st.ok()) return st;
    }
    *outcome = t.outcome();
    return core::Status::Ok();
  }
  static core::Status TranslateBadStream(std::vector<SseOut>* out) {
    AnthropicToOpenAiStream t("alias", 1, true);
    return t.OnEvent("content_block_delta", "{not json", out);
  }
  static Observed ReadJson(const std::string& body) { return ReadOpenAiCompletion(body); }
  static Observed ReadStream(const std::vector<SseOut>& ev) { return ReadOpenAiChunks(ev); }
  static std::string ErrorType(unsigned status) {
    return std::string(Obj(AnthropicErrorToOpenAi(status, "{}"))["error"].at("type").as_string());
  }
};

// Upstream speaks OpenAI, the client speaks Anthropic (an Anthropic client on an OpenAI route).
struct OpenAiUpstreamAnthropicClient {
  static std::string FinishWord(FinishReason r) { return std::string(ToAnthropicStopReason(r)); }
  static core::Result<std::string> TranslateJson(const Scenario& s, CanonicalOutcome* outcome) {
    return ChatCompletionToMessage(OpenAiCompletionJson(s), "alias", outcome);
  }
  static core::Status TranslateStream(const Scenario& s, std::vector<SseOut>* out,
                                      CanonicalOutcome* outcome) {
    OpenAiToAnthropicStream t("alias");
    for (const auto& e : OpenAiChunks(s)) {
      core::Status st = t.OnData(e.data, out);
      if (!st.ok()) return st;
    }
    *outcome = t.outcome();
    return core::Status::Ok();
  }
  static core::Status TranslateBadStream(std::vector<SseOut>* out) {
    OpenAiToAnthropicStream t("alias");
    return t.OnData("{not json", out);
  }
  static Observed ReadJson(const std::string& body) { return ReadAnthropicMessage(body); }
  static Observed ReadStream(const std::vector<SseOut>& ev) { return ReadAnthropicEvents(ev); }
  static std::string ErrorType(unsigned status) {
    return std::string(Obj(OpenAiErrorToAnthropic(status, "{}"))["error"].at("type").as_string());
  }
};

// -- Bedrock Converse fixtures (PROVIDERS.md §5.2, §5.3) --

std::string_view ConverseStopReason(FinishReason r) {
  switch (r) {
    case FinishReason::kLength: return "max_tokens";
    case FinishReason::kToolCalls: return "tool_use";
    case FinishReason::kContentFilter: return "content_filtered";
    default: return "end_turn";
  }
}

// Converse's inputTokens excludes cache reads, like Anthropic's input_tokens.
json::object ConverseUsage(const Scenario& s) {
  json::object u{{"inputTokens", s.input_tokens - s.cached_tokens},
                 {"outputTokens", s.output_tokens},
                 {"totalTokens", s.input_tokens + s.output_tokens}};
  if (s.cached_tokens > 0) u["cacheReadInputTokens"] = s.cached_tokens;
  return u;
}

std::string ConverseJson(const Scenario& s) {
  json::array content;
  if (!s.text.empty()) content.push_back(json::object{{"text", s.text}});
  for (const auto& t : s.tools) {
    content.push_back(json::object{{"toolUse", {{"toolUseId", t.id}, {"name", t.name},
                                                {"input", json::parse(t.arguments)}}}});
  }
  return json::serialize(json::object{
      {"output", {{"message", {{"role", "assistant"}, {"content", std::move(content)}}}}},
      {"stopReason", ConverseStopReason(s.finish)},
      {"usage", ConverseUsage(s)},
      {"metrics", {{"latencyMs", 42}}}});
}

struct ConverseMessage {
  std::string message_type;  // event | exception
  std::string type;          // :event-type or :exception-type
  std::string payload;
};

// The wire form: each payload is the union member without a wrapping key, with Bedrock's
// random-length "p" padding field that parsers must ignore.
std::vector<ConverseMessage> ConverseEvents(const Scenario& s) {
  std::vector<ConverseMessage> ev;
  auto add = [&](std::string type, json::object data) {
    data["p"] = "abcdefgh";
    ev.push_back({"event", type, json::serialize(data)});
  };
  add("messageStart", {{"role", "assistant"}});
  int index = 0;
  if (!s.text.empty()) {
    const std::size_t half = s.text.size() / 2;
    for (const std::string& part : {s.text.substr(0, half), s.text.substr(half)}) {
      add("contentBlockDelta", {{"contentBlockIndex", index}, {"delta", {{"text", part}}}});
    }
    add("contentBlockStop", {{"contentBlockIndex", index}});
    ++index;
  }
  if (s.midstream_error) {
    ev.push_back({"exception", "modelStreamErrorException",
                  R"({"message":"Overloaded","originalStatusCode":529})"});
    return ev;
  }
  for (const auto& t : s.tools) {
    add("contentBlockStart", {{"contentBlockIndex", index},
                              {"start", {{"toolUse", {{"toolUseId", t.id}, {"name", t.name}}}}}});
    for (std::size_t i = 0; i < t.arguments.size(); i += 5) {
      add("contentBlockDelta", {{"contentBlockIndex", index},
                                {"delta", {{"toolUse", {{"input", t.arguments.substr(i, 5)}}}}}});
    }
    add("contentBlockStop", {{"contentBlockIndex", index}});
    ++index;
  }
  add("messageStop", {{"stopReason", ConverseStopReason(s.finish)}});
  add("metadata", {{"usage", ConverseUsage(s)}, {"metrics", {{"latencyMs", 42}}}});
  return ev;
}

// Upstream speaks Bedrock Converse, the client speaks OpenAI (an OpenAI client on a Converse
// route).
struct ConverseUpstreamOpenAiClient {
  static std::string FinishWord(FinishReason r) { return std::string(ToOpenAiFinishReason(r)); }
  static core::Result<std::string> TranslateJson(const Scenario& s, CanonicalOutcome* outcome) {
    return bedrock::ConverseToChatCompletion(ConverseJson(s), "alias", "req-1", 123, outcome);
  }
  static core::Status TranslateStream(const Scenario& s, std::vector<SseOut>* out,
                                      CanonicalOutcome* outcome) {
    bedrock::ConverseToOpenAiStream t("alias", "req-1", 123, /*include_usage=*/true);
    for (const auto& m : ConverseEvents(s)) {
      core::Status st = t.OnMessage(m.message_type, m.type, m.payload, out);
      if (!st.ok()) return st;
    }
    *outcome = t.outcome();
    return core::Status::Ok();
  }
  static core::Status TranslateBadStream(std::vector<SseOut>* out) {
    bedrock::ConverseToOpenAiStream t("alias", "req-1", 1, true);
    return t.OnMessage("event", "contentBlockDelta", "{not json", out);
  }
  static Observed ReadJson(const std::string& body) { return ReadOpenAiCompletion(body); }
  static Observed ReadStream(const std::vector<SseOut>& ev) { return ReadOpenAiChunks(ev); }
  static std::string ErrorType(unsigned status) {
    return std::string(
        Obj(bedrock::ConverseErrorToOpenAi(status, "{}"))["error"].at("type").as_string());
  }
};

template <typename T>
class TranslatorConformance : public ::testing::Test {};
using Translators = ::testing::Types<AnthropicUpstreamOpenAiClient, OpenAiUpstreamAnthropicClient,
                                     ConverseUpstreamOpenAiClient>;
TYPED_TEST_SUITE(TranslatorConformance, Translators);

void ExpectSame(const Scenario& s, const Observed& o, const std::string& finish_word) {
  EXPECT_EQ(o.text, s.text);
  ASSERT_EQ(o.tools.size(), s.tools.size());
  for (std::size_t i = 0; i < s.tools.size(); ++i) {
    EXPECT_EQ(o.tools[i].id, s.tools[i].id);
    EXPECT_EQ(o.tools[i].name, s.tools[i].name);
    EXPECT_EQ(o.tools[i].arguments, json::serialize(json::parse(s.tools[i].arguments)));
  }
  EXPECT_EQ(o.finish, finish_word);
  EXPECT_EQ(o.input_tokens, s.input_tokens);
  EXPECT_EQ(o.output_tokens, s.output_tokens);
  EXPECT_TRUE(o.terminated);
  EXPECT_FALSE(o.error);
}

TYPED_TEST(TranslatorConformance, Plain) {
  Scenario s{.text = "Hello there, how can I help?"};
  CanonicalOutcome outcome;
  auto body = TypeParam::TranslateJson(s, &outcome);
  ASSERT_TRUE(body.ok());
  ExpectSame(s, TypeParam::ReadJson(*body), TypeParam::FinishWord(FinishReason::kStop));
  EXPECT_EQ(outcome.finish, FinishReason::kStop);
  EXPECT_EQ(AuditStatus(outcome), "ok");
}

TYPED_TEST(TranslatorConformance, Streamed) {
  Scenario s{.text = "Hello there, how can I help?"};
  std::vector<SseOut> out;
  CanonicalOutcome outcome;
  ASSERT_TRUE(TypeParam::TranslateStream(s, &out, &outcome).ok());
  ExpectSame(s, TypeParam::ReadStream(out), TypeParam::FinishWord(FinishReason::kStop));
  EXPECT_EQ(outcome.usage.output_tokens, 7);
  EXPECT_EQ(AuditStatus(outcome), "ok");
}

TYPED_TEST(TranslatorConformance, ToolsJsonAndStreamed) {
  Scenario s{.text = "Let me check.",
             .tools = {{"call_a", "lookup", R"({"q":"blood pressure","limit":3})"},
                       {"call_b", "fetch", R"({"id":"x-1"})"}},
             .finish = FinishReason::kToolCalls};
  CanonicalOutcome outcome;
  auto body = TypeParam::TranslateJson(s, &outcome);
  ASSERT_TRUE(body.ok());
  ExpectSame(s, TypeParam::ReadJson(*body), TypeParam::FinishWord(FinishReason::kToolCalls));
  std::vector<SseOut> out;
  CanonicalOutcome stream_outcome;
  ASSERT_TRUE(TypeParam::TranslateStream(s, &out, &stream_outcome).ok());
  ExpectSame(s, TypeParam::ReadStream(out), TypeParam::FinishWord(FinishReason::kToolCalls));
  EXPECT_EQ(stream_outcome.finish, FinishReason::kToolCalls);
}

TYPED_TEST(TranslatorConformance, UsageIncludesCachedInput) {
  Scenario s{.text = "ok", .input_tokens = 1200, .cached_tokens = 1000, .output_tokens = 3};
  CanonicalOutcome outcome;
  auto body = TypeParam::TranslateJson(s, &outcome);
  ASSERT_TRUE(body.ok());
  ExpectSame(s, TypeParam::ReadJson(*body), TypeParam::FinishWord(FinishReason::kStop));
  EXPECT_EQ(outcome.usage.input_tokens, 1200);
  EXPECT_EQ(outcome.usage.cached_input_tokens, 1000);
  EXPECT_EQ(outcome.usage.total(), 1203);
  std::vector<SseOut> out;
  CanonicalOutcome so;
  ASSERT_TRUE(TypeParam::TranslateStream(s, &out, &so).ok());
  EXPECT_EQ(so.usage.input_tokens, 1200);
  EXPECT_EQ(so.usage.output_tokens, 3);
}

TYPED_TEST(TranslatorConformance, ContentFilterMapsToTheAuditStatus) {
  Scenario s{.text = "I can't help with that.", .finish = FinishReason::kContentFilter};
  CanonicalOutcome outcome;
  auto body = TypeParam::TranslateJson(s, &outcome);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(TypeParam::ReadJson(*body).finish,
            TypeParam::FinishWord(FinishReason::kContentFilter));
  EXPECT_EQ(AuditStatus(outcome), "content_filter_triggered");
  std::vector<SseOut> out;
  CanonicalOutcome so;
  ASSERT_TRUE(TypeParam::TranslateStream(s, &out, &so).ok());
  EXPECT_EQ(TypeParam::ReadStream(out).finish,
            TypeParam::FinishWord(FinishReason::kContentFilter));
  EXPECT_EQ(AuditStatus(so), "content_filter_triggered");
}

TYPED_TEST(TranslatorConformance, MidStreamErrorEndsTheStreamAsAnError) {
  Scenario s{.text = "partial answer", .midstream_error = true};
  std::vector<SseOut> out;
  CanonicalOutcome outcome;
  ASSERT_TRUE(TypeParam::TranslateStream(s, &out, &outcome).ok());
  Observed o = TypeParam::ReadStream(out);
  EXPECT_TRUE(o.error);
  EXPECT_FALSE(o.terminated);  // no [DONE] / message_stop after an error
  EXPECT_EQ(o.text, "partial answer");
  EXPECT_EQ(AuditStatus(outcome), "error");
  for (const auto& e : out) {
    EXPECT_EQ(e.data.find("Overloaded"), std::string::npos);  // vendor text not copied
    EXPECT_EQ(e.data.find("overloaded\""), std::string::npos);
  }
}

TYPED_TEST(TranslatorConformance, HttpErrorsKeepTheClassNotTheText) {
  EXPECT_EQ(TypeParam::ErrorType(401), "authentication_error");
  EXPECT_EQ(TypeParam::ErrorType(429), "rate_limit_error");
  EXPECT_FALSE(TypeParam::ErrorType(500).empty());
}

TYPED_TEST(TranslatorConformance, InvalidJsonFromUpstreamIsAnError) {
  std::vector<SseOut> out;
  EXPECT_EQ(TypeParam::TranslateBadStream(&out).code(), core::StatusCode::kInvalidArgument);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace baagate::providers::anthropic
