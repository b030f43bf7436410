#include "providers/bedrock/converse.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

// The response and stream directions run through the shared translator conformance battery
// (providers/anthropic/translate_test.cc); this file covers the request direction and the
// stream's edges.
namespace baagate::providers::bedrock {
namespace {

namespace json = boost::json;

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

TEST(ChatToConverseRequest, MapsSystemTurnsToolsAndInferenceConfig) {
  auto chat = Obj(R"({
    "model":"alias","max_completion_tokens":256,"temperature":0.2,"top_p":0.9,"stop":"END",
    "stream":true,"stream_options":{"include_usage":true},"user":"u-1",
    "metadata":{"team":"cardio"},
    "messages":[
      {"role":"system","content":"Be brief."},
      {"role":"developer","content":[{"type":"text","text":"Use tools."}]},
      {"role":"user","content":[{"type":"text","text":"Look it up"},
        {"type":"image_url","image_url":{"url":"data:image/jpg;base64,QUJD"}}]},
      {"role":"assistant","content":null,"tool_calls":[
        {"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":1}"}},
        {"id":"call_2","type":"function","function":{"name":"lookup","arguments":"{\"q\":2}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"one"},
      {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"two"}]},
      {"role":"user","content":"thanks"}],
    "tools":[{"type":"function","function":{"name":"lookup","description":"Finds",
              "parameters":{"type":"object","properties":{"q":{"type":"integer"}}}}}],
    "tool_choice":{"type":"function","function":{"name":"lookup"}}})");
  json::object out;
  TranslateError err;
  ASSERT_TRUE(ChatRequestToConverse(chat, &out, &err)) << err.message;
  EXPECT_FALSE(out.contains("model"));
  EXPECT_FALSE(out.contains("stream"));
  EXPECT_EQ(json::serialize(out["system"]), R"([{"text":"Be brief."},{"text":"Use tools."}])");
  const auto& msgs = out["messages"].as_array();
  ASSERT_EQ(msgs.size(), 3u);  // user, assistant, user (tool results + "thanks" merged)
  EXPECT_EQ(json::serialize(msgs[0]),
            R"({"role":"user","content":[{"text":"Look it up"},)"
            R"({"image":{"format":"jpeg","source":{"bytes":"QUJD"}}}]})");
  EXPECT_EQ(json::serialize(msgs[1]),
            R"({"role":"assistant","content":[)"
            R"({"toolUse":{"toolUseId":"call_1","name":"lookup","input":{"q":1}}},)"
            R"({"toolUse":{"toolUseId":"call_2","name":"lookup","input":{"q":2}}}]})");
  EXPECT_EQ(json::serialize(msgs[2]),
            R"({"role":"user","content":[)"
            R"({"toolResult":{"toolUseId":"call_1","content":[{"text":"one"}]}},)"
            R"({"toolResult":{"toolUseId":"call_2","content":[{"text":"two"}]}},)"
            R"({"text":"thanks"}]})");
  EXPECT_EQ(json::serialize(out["inferenceConfig"]),
            R"({"maxTokens":256,"temperature":2E-1,"topP":9E-1,"stopSequences":["END"]})");
  EXPECT_EQ(json::serialize(out["toolConfig"]),
            R"({"tools":[{"toolSpec":{"name":"lookup","description":"Finds","inputSchema":)"
            R"({"json":{"type":"object","properties":{"q":{"type":"integer"}}}}}}],)"
            R"("toolChoice":{"tool":{"name":"lookup"}}})");
  EXPECT_EQ(json::serialize(out["requestMetadata"]), R"({"team":"cardio"})");
  EXPECT_EQ(out.size(), 5u);  // messages, system, inferenceConfig, toolConfig, requestMetadata
}

TEST(ChatToConverseRequest, ToolChoiceWordsMapToConverseUnionMembers) {
  for (auto [choice, want] : {std::pair{R"("auto")", R"({"auto":{}})"},
                              std::pair{R"("required")", R"({"any":{}})"}}) {
    std::string text = R"({"model":"m","messages":[{"role":"user","content":"hi"}],)";
    text += R"("tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":)";
    text += choice;
    text += "}";
    auto chat = Obj(text);
    json::object out;
    TranslateError err;
    ASSERT_TRUE(ChatRequestToConverse(chat, &out, &err)) << err.message;
    EXPECT_EQ(json::serialize(out["toolConfig"].at("toolChoice")), want);
    EXPECT_EQ(json::serialize(out["toolConfig"].at("tools").at(0).at("toolSpec")),
              R"({"name":"f","inputSchema":{"json":{"type":"object"}}})");
    EXPECT_FALSE(out.contains("inferenceConfig"));  // nothing set: the model's defaults
  }
}

TEST(ChatToConverseRequest, RefusesWhatConverseCannotExpressNamingTheParameter) {
  struct Case {
    const char* extra;  // appended to the base request
    const char* messages;
    const char* param;
  };
  const char* user = R"([{"role":"user","content":"hi"}])";
  const Case cases[] = {
      {R"("response_format":{"type":"json_object"})", user, "response_format"},
      {R"("logprobs":true)", user, "logprobs"},
      {R"("n":2)", user, "n"},
      {R"("store":true)", user, "store"},
      {R"("service_tier":"flex")", user, "service_tier"},
      {R"("parallel_tool_calls":false)", user, "parallel_tool_calls"},
      {R"("tool_choice":"none","tools":[{"type":"function","function":{"name":"f"}}])", user,
       "tool_choice"},
      {R"("tool_choice":"auto")", user, "tool_choice"},
      {R"("tools":[{"type":"function","function":{"name":"f","strict":true}}])", user,
       "tools[0].function.strict"},
      {R"("tools":[{"type":"web_search"}])", user, "tools[0].type"},
      {R"("metadata":{"n":1})", user, "metadata"},
      {R"("top_k":3)", user, "top_k"},
      {R"("seed":1)",
       R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}])",
       "seed"},
      {R"("temperature":1)",
       R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}])",
       "messages[0].content[0].image_url.url"},
      {R"("temperature":1)",
       R"([{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}])",
       "messages[0].content[0].type"},
      {R"("temperature":1)",
       R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/tiff;base64,AA"}}]}])",
       "messages[0].content[0].image_url.url"},
      {R"("temperature":1)", R"([{"role":"user","content":"a"},{"role":"system","content":"b"}])",
       "messages[1].role"},
      {R"("temperature":1)", R"([{"role":"assistant","content":"a"}])", "messages"},
      {R"("temperature":1)",
       R"([{"role":"user","content":"a"},{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}])",
       "messages[1].tool_calls[0].function.arguments"},
      {R"("temperature":1)", R"([{"role":"user","name":"bob","content":"a"}])",
       "messages[0].name"},
  };
  for (const auto& c : cases) {
    std::string text = R"({"model":"m","messages":)";
    text += c.messages;
    text += ",";
    text += c.extra;
    text += "}";
    auto chat = Obj(text);
    json::object out;
    TranslateError err;
    EXPECT_FALSE(ChatRequestToConverse(chat, &out, &err)) << c.param;
    EXPECT_EQ(err.param, c.param);
    EXPECT_NE(err.message.find("Bedrock Converse"), std::string::npos) << err.message;
    EXPECT_EQ(err.message.find("x/y.png"), std::string::npos);  // never the value
  }
}

TEST(BedrockApiChoice, AnthropicModelsDefaultToInvokeOthersToConverseOptionWins) {
  EXPECT_FALSE(BedrockUsesConverse("", "anthropic.claude-3-haiku-20240307-v1:0"));
  EXPECT_FALSE(BedrockUsesConverse("", "us.anthropic.claude-sonnet-4-v1:0"));
  EXPECT_FALSE(BedrockUsesConverse(
      "", "arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic.claude-x-v1:0"));
  EXPECT_TRUE(BedrockUsesConverse("", "amazon.nova-pro-v1:0"));
  EXPECT_TRUE(BedrockUsesConverse("", "meta.llama3-70b-instruct-v1:0"));
  EXPECT_TRUE(BedrockUsesConverse("converse", "anthropic.claude-3-haiku-20240307-v1:0"));
  EXPECT_FALSE(BedrockUsesConverse("invoke", "amazon.nova-pro-v1:0"));
  EXPECT_EQ(BedrockRuntimePath("amazon.nova-pro-v1:0", true, true),
            "/model/amazon.nova-pro-v1%3A0/converse-stream");
  EXPECT_EQ(BedrockRuntimePath("a.b", false, false), "/model/a.b/invoke");
}

TEST(ConverseStream, ThrottlingExceptionBecomesARateLimitErrorWithoutVendorText) {
  ConverseToOpenAiStream t("alias", "r", 1, false);
  std::vector<SseOut> out;
  ASSERT_TRUE(t.OnMessage("event", "messageStart", R"({"role":"assistant"})", &out).ok());
  ASSERT_TRUE(t.OnMessage("exception", "throttlingException",
                          R"({"message":"Too many requests for arn:aws:bedrock:…:123456789012"})",
                          &out)
                  .ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(Obj(out[1].data)["error"].at("type").as_string(), "rate_limit_error");
  EXPECT_EQ(out[1].data.find("123456789012"), std::string::npos);
  EXPECT_TRUE(t.done());
  EXPECT_EQ(AuditStatus(t.outcome()), "error");
  out.clear();
  ASSERT_TRUE(t.OnMessage("event", "metadata", "{}", &out).ok());
  EXPECT_TRUE(out.empty());  // nothing after the error
}

TEST(ConverseStream, EndWithoutMetadataAfterMessageStopStillTerminates) {
  ConverseToOpenAiStream t("alias", "r", 1, true);
  std::vector<SseOut> out;
  ASSERT_TRUE(t.OnMessage("event", "messageStart", R"({"role":"assistant"})", &out).ok());
  ASSERT_TRUE(t.OnMessage("event", "contentBlockDelta",
                          R"({"contentBlockIndex":0,"delta":{"text":"hi"}})", &out)
                  .ok());
  ASSERT_TRUE(t.OnMessage("event", "messageStop", R"({"stopReason":"max_tokens"})", &out).ok());
  EXPECT_TRUE(t.stopped());
  EXPECT_FALSE(t.done());
  t.Finish(&out);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(Obj(out[2].data)["choices"].at(0).at("finish_reason").as_string(), "length");
  EXPECT_EQ(Obj(out[3].data)["usage"].at("prompt_tokens").as_int64(), 0);
  EXPECT_EQ(out[4].data, "[DONE]");
  EXPECT_EQ(Obj(out[1].data)["id"].as_string(), "chatcmpl-r");
}

TEST(ConverseResponse, GuardrailInterventionIsAContentFilterAndCacheWritesCountAsInput) {
  CanonicalOutcome outcome;
  auto body = ConverseToChatCompletion(
      R"({"output":{"message":{"role":"assistant","content":[{"text":"blocked"}]}},)"
      R"("stopReason":"guardrail_intervened","usage":{"inputTokens":5,"outputTokens":1,)"
      R"("cacheWriteInputTokens":100,"totalTokens":106}})",
      "alias", "r", 9, &outcome);
  ASSERT_TRUE(body.ok());
  auto r = Obj(*body);
  EXPECT_EQ(r["choices"].at(0).at("finish_reason").as_string(), "content_filter");
  EXPECT_EQ(r["usage"].at("prompt_tokens").as_int64(), 105);
  EXPECT_EQ(outcome.usage.cache_write_tokens, 100);
  EXPECT_EQ(AuditStatus(outcome), "content_filter_triggered");
  EXPECT_FALSE(ConverseToChatCompletion(R"({"output":{}})", "a", "r", 1, &outcome).ok());
  EXPECT_FALSE(ConverseToChatCompletion("not json", "a", "r", 1, &outcome).ok());
}

}  // namespace
}  // namespace baagate::providers::bedrock
