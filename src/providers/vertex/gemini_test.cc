#include "providers/vertex/gemini.h"

#include <gtest/gtest.h>

#include "providers/vertex/route.h"

namespace baagate::providers::vertex {
namespace {

namespace json = boost::json;

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

TEST(ChatToGenerateContent, MapsRolesSystemToolsToolResultsAndSampling) {
  auto chat = Obj(R"({
    "model":"alias","stream":true,"stream_options":{"include_usage":true},
    "messages":[
      {"role":"system","content":"Be brief."},
      {"role":"user","content":[{"type":"text","text":"Look up BP"},
                                {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}}]},
      {"role":"assistant","content":null,"tool_calls":[
         {"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"bp\"}"}},
         {"id":"call_2","type":"function","function":{"name":"fetch","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"120/80"},
      {"role":"tool","tool_call_id":"call_2","content":"ok"}],
    "max_tokens":50,"temperature":0.2,"top_p":0.9,"stop":"END","seed":7,
    "tools":[{"type":"function","function":{"name":"lookup","description":"d",
              "parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}],
    "tool_choice":{"type":"function","function":{"name":"lookup"}},
    "response_format":{"type":"json_object"}})");
  json::object out;
  TranslateError err;
  ASSERT_TRUE(ChatRequestToGenerateContent(chat, &out, &err)) << err.message;
  EXPECT_FALSE(out.contains("model"));
  EXPECT_FALSE(out.contains("stream"));
  EXPECT_EQ(json::serialize(out["systemInstruction"]), R"({"parts":[{"text":"Be brief."}]})");
  const auto& contents = out["contents"].as_array();
  ASSERT_EQ(contents.size(), 3u);  // the two tool results share one user turn
  EXPECT_EQ(contents[0].at("role").as_string(), "user");
  EXPECT_EQ(json::serialize(contents[0].at("parts").as_array()[1]),
            R"({"inlineData":{"mimeType":"image/png","data":"iVBO"}})");
  EXPECT_EQ(contents[1].at("role").as_string(), "model");
  EXPECT_EQ(json::serialize(contents[1].at("parts").as_array()[0]),
            R"({"functionCall":{"name":"lookup","args":{"q":"bp"},"id":"call_1"}})");
  EXPECT_EQ(contents[2].at("role").as_string(), "user");
  ASSERT_EQ(contents[2].at("parts").as_array().size(), 2u);
  EXPECT_EQ(json::serialize(contents[2].at("parts").as_array()[0]),
            R"({"functionResponse":{"id":"call_1","name":"lookup","response":{"content":"120/80"}}})");
  EXPECT_EQ(json::serialize(out["generationConfig"]),
            R"({"maxOutputTokens":50,"temperature":2E-1,"topP":9E-1,"seed":7,"stopSequences":["END"],"responseMimeType":"application/json"})");
  EXPECT_EQ(out["tools"].at(0).at("functionDeclarations").at(0).at("name").as_string(), "lookup");
  EXPECT_EQ(json::serialize(out["toolConfig"]),
            R"({"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["lookup"]}})");
}

TEST(ChatToGenerateContent, WebSearchBecomesGoogleSearchGroundingForThePolicyToSee) {
  auto chat = Obj(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"web_search_options":{}})");
  json::object out;
  TranslateError err;
  ASSERT_TRUE(ChatRequestToGenerateContent(chat, &out, &err));
  EXPECT_EQ(json::serialize(out["tools"]), R"([{"googleSearch":{}}])");
}

TEST(ChatToGenerateContent, RefusesWhatGenerateContentCannotExpressNamingTheParameter) {
  struct Case {
    const char* body;
    const char* param;
  } cases[] = {
      {R"({"messages":[{"role":"user","content":"x"}],"logprobs":true})", "logprobs"},
      {R"({"messages":[{"role":"user","content":"x"}],"n":2})", "n"},
      {R"({"messages":[{"role":"user","content":"x"}],"audio":{}})", "audio"},
      {R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://e/x.png"}}]}]})",
       "messages[0].content[0].image_url.url"},
      {R"({"messages":[{"role":"tool","tool_call_id":"nope","content":"x"}]})", "messages[0].tool_call_id"},
      {R"({"messages":[{"role":"user","content":"x"}],"store":true})", "store"},
  };
  for (const auto& c : cases) {
    json::object out;
    TranslateError err;
    EXPECT_FALSE(ChatRequestToGenerateContent(Obj(c.body), &out, &err)) << c.body;
    EXPECT_EQ(err.param, c.param) << c.body;
    EXPECT_NE(err.message.find("Vertex AI generateContent"), std::string::npos);
  }
}

TEST(GenerateContentResponse, PromptBlockIsAContentFilterWithUsage) {
  CanonicalOutcome o;
  auto body = GenerateContentToChatCompletion(
      R"({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9},"modelVersion":"gemini-2.0-flash-001"})",
      "alias", 5, &o);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(o.model, "gemini-2.0-flash-001");  // the audit's model_served
  auto r = Obj(*body);
  EXPECT_EQ(r["choices"].at(0).at("finish_reason").as_string(), "content_filter");
  EXPECT_TRUE(r["choices"].at(0).at("message").at("content").is_null());
  EXPECT_EQ(r["usage"].at("prompt_tokens").as_int64(), 9);
  EXPECT_EQ(AuditStatus(o), "content_filter_triggered");
}

TEST(GenerateContentResponse, FinishReasonsMap) {
  for (auto [fr, want] : {std::pair<const char*, const char*>{"STOP", "stop"},
                          {"MAX_TOKENS", "length"},
                          {"SAFETY", "content_filter"},
                          {"RECITATION", "content_filter"},
                          {"BLOCKLIST", "content_filter"},
                          {"PROHIBITED_CONTENT", "content_filter"},
                          {"SPII", "content_filter"}}) {
    CanonicalOutcome o;
    std::string in = std::string(R"({"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":")") +
                     fr + R"("}]})";
    auto body = GenerateContentToChatCompletion(in, "m", 1, &o);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(Obj(*body)["choices"].at(0).at("finish_reason").as_string(), want) << fr;
  }
  CanonicalOutcome o;
  EXPECT_FALSE(GenerateContentToChatCompletion(R"({"error":{}})", "m", 1, &o).ok());
}

TEST(GeminiStream, PromptBlockedStreamEndsAsContentFilterWithoutUsageChunkWhenNotAsked) {
  GeminiToOpenAiStream t("alias", 1, /*include_usage=*/false);
  std::vector<SseOut> out;
  ASSERT_TRUE(t.OnData(R"({"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}})", &out).ok());
  EXPECT_TRUE(t.done());
  ASSERT_EQ(out.size(), 3u);  // role chunk, finish chunk, [DONE]
  EXPECT_NE(out[1].data.find("\"finish_reason\":\"content_filter\""), std::string::npos);
  EXPECT_EQ(out[2].data, "[DONE]");
  EXPECT_EQ(AuditStatus(t.outcome()), "content_filter_triggered");
}

TEST(VertexRoute, ModelPathsAndClaudeBody) {
  EXPECT_EQ(ModelPath("my-proj", "us-east5", false, "gemini-2.5-pro", true),
            "/v1/projects/my-proj/locations/us-east5/publishers/google/models/"
            "gemini-2.5-pro:streamGenerateContent?alt=sse");
  EXPECT_EQ(ModelPath("p", "us-east5", true, "claude-sonnet-4@20250514", false),
            "/v1/projects/p/locations/us-east5/publishers/anthropic/models/"
            "claude-sonnet-4@20250514:rawPredict");
  auto body = Obj(ClaudeRawPredictBody(
      Obj(R"({"model":"claude","max_tokens":5,"messages":[]})"), true));
  EXPECT_FALSE(body.contains("model"));
  EXPECT_EQ(body["anthropic_version"].as_string(), "vertex-2023-10-16");
  EXPECT_TRUE(body["stream"].as_bool());
  TranslateError err;
  json::object out;
  EXPECT_FALSE(GeminiRequestFor(true, false, json::object(), &out, &err));
  EXPECT_NE(err.message.find("Gemini route"), std::string::npos);
}

}  // namespace
}  // namespace baagate::providers::vertex
