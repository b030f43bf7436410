#include "policy/facts.h"

#include "policy/enforce.h"

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace baagate::policy {
namespace {

namespace json = boost::json;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

RequestFacts Extract(Surface s, const char* body, const char* beta = "") {
  RequestFacts f;
  ExtractFacts(s, json::parse(body).as_object(), beta, &f);
  return f;
}

TEST(Facts, OpenAIChatFeaturesAndModalities) {
  RequestFacts f = Extract(Surface::kOpenAIChat, R"({
    "model":"gpt-4o","stream":true,"n":2,"logprobs":true,"store":true,"user":"u","metadata":{"k":"v"},
    "tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","parallel_tool_calls":true,
    "response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}},
    "reasoning_effort":"low","prompt_cache_retention":"24h","service_tier":"priority",
    "messages":[{"role":"user","content":[{"type":"text","text":"hello"},
      {"type":"image_url","image_url":{"url":"https://x"}},{"type":"input_audio","input_audio":{"data":"","format":"wav"}},
      {"type":"file","file":{"file_id":"file-1"}}]}]})");
  EXPECT_TRUE(f.extraction_error.empty());
  EXPECT_THAT(f.features, ElementsAre("audio.input", "end_user_id", "file_ref", "logprobs", "metadata_attached",
                                      "n_gt_1", "priority_tier", "prompt_cache.extended", "reasoning", "store",
                                      "structured_output.json_schema", "tool_choice.forced", "tools.function",
                                      "tools.parallel", "vision.image_input"));
  EXPECT_THAT(f.modalities_in, ElementsAre("audio", "file_ref", "image", "text"));
  EXPECT_TRUE(f.stream && f.store && f.metadata_attached && f.end_user_id);
  EXPECT_THAT(f.unknown_fields, IsEmpty());
  EXPECT_EQ(f.model, "gpt-4o");
}

TEST(Facts, UnknownFieldsAndPartTypesAreRecordedWithSafeNames) {
  RequestFacts f = Extract(Surface::kOpenAIChat, R"({"model":"m","brand_new_field":1,"John Smith":2,
    "messages":[{"role":"user","content":[{"type":"hologram"}]}]})");
  EXPECT_THAT(f.unknown_fields, ElementsAre("?", "brand_new_field", "messages[].content[].type=hologram"));
}

TEST(Facts, MalformedBodiesSetAnError) {
  EXPECT_FALSE(Extract(Surface::kOpenAIChat, R"({"model":"m","messages":"x"})").extraction_error.empty());
  EXPECT_FALSE(Extract(Surface::kOpenAIChat, R"({"model":"m","messages":[1]})").extraction_error.empty());
  EXPECT_FALSE(Extract(Surface::kOpenAIResponses, R"({"model":"m"})").extraction_error.empty());
  EXPECT_FALSE(Extract(Surface::kAnthropicMessages, R"({"model":"m","messages":[{"role":"user","content":5}]})").extraction_error.empty());
}

TEST(Facts, ResponsesDefaultsToStoredAndSeesHostedTools) {
  RequestFacts f = Extract(Surface::kOpenAIResponses, R"({"model":"m","input":"hi","background":true,
    "previous_response_id":"resp_1","tools":[{"type":"web_search","external_web_access":false},
    {"type":"mcp","server_url":"https://MCP.Example.com/x","server_label":"x"},{"type":"code_interpreter"}]})");
  EXPECT_TRUE(f.store);
  EXPECT_TRUE(f.background);
  EXPECT_TRUE(f.conversation_state);
  EXPECT_THAT(f.features, Contains("web_search.cache_only"));
  EXPECT_THAT(f.features, Not(Contains("web_search")));
  EXPECT_THAT(f.features, Contains("mcp"));
  EXPECT_THAT(f.features, Contains("code_execution"));
  EXPECT_THAT(f.recipients, ElementsAre("mcp:mcp.example.com"));
  RequestFacts stateless = Extract(Surface::kOpenAIResponses, R"({"model":"m","input":"hi","store":false})");
  EXPECT_FALSE(stateless.store);
}

TEST(Facts, AnthropicMessages) {
  RequestFacts f = Extract(Surface::kAnthropicMessages, R"({"model":"claude","max_tokens":10,
    "system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],
    "thinking":{"type":"enabled","budget_tokens":1000},"metadata":{"user_id":"u1"},"inference_geo":"global",
    "tools":[{"name":"lookup","input_schema":{"type":"object"}},{"type":"web_fetch_20250910","name":"web_fetch"},
             {"type":"computer_20250124","name":"computer"}],
    "messages":[{"role":"user","content":[{"type":"text","text":"x"},
      {"type":"image","source":{"type":"url","url":"https://x"}},
      {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":""}},
      {"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":""}}]}]}]})",
                              "files-api-2025-04-14, fancy-beta");
  EXPECT_THAT(f.features, ElementsAre("beta_header:fancy-beta", "beta_header:files-api-2025-04-14", "computer_use",
                                      "end_user_id", "pdf_input", "prompt_cache", "reasoning", "tools.function",
                                      "url_source", "vision.image_input", "web_fetch"));
  EXPECT_EQ(f.inference_geo, "global");
  EXPECT_THAT(f.modalities_in, ElementsAre("image", "pdf", "text"));
  EXPECT_THAT(f.unknown_fields, IsEmpty());
}

TEST(Facts, UpstreamSurfaces) {
  EXPECT_EQ(UpstreamSurface("openai", Surface::kOpenAIChat), "openai.chat_completions");
  EXPECT_EQ(UpstreamSurface("azure_openai", Surface::kOpenAIEmbeddings), "azure_openai.embeddings");
  EXPECT_EQ(UpstreamSurface("anthropic", Surface::kOpenAIChat), "anthropic.messages");
  EXPECT_EQ(UpstreamSurface("bedrock", Surface::kAnthropicMessages), "bedrock.invoke");
  EXPECT_EQ(UpstreamSurface("bedrock", Surface::kBedrockConverse), "bedrock.converse");
}

TEST(Facts, BedrockConverseFeaturesModalitiesAndUnknownBlocks) {
  auto body = json::parse(R"({
    "messages":[{"role":"user","content":[{"text":"hi"},
       {"image":{"format":"png","source":{"bytes":"AAAA"}}},
       {"document":{"format":"pdf","name":"d","source":{"s3Location":{"uri":"s3://b/k"}}}}]},
      {"role":"assistant","content":[{"toolUse":{"toolUseId":"t","name":"f","input":{}}}]},
      {"role":"user","content":[{"toolResult":{"toolUseId":"t","content":[{"json":{"a":1}}]}},
                                {"cachePoint":{"type":"default"}},{"audio":{}}]}],
    "system":[{"text":"s"}],
    "toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{}}}}],
                  "toolChoice":{"any":{}}},
    "guardrailConfig":{"guardrailIdentifier":"g","guardrailVersion":"1"},
    "additionalModelRequestFields":{"thinking":{"type":"enabled"},"top_k":3},
    "requestMetadata":{"k":"v"}})").as_object();
  RequestFacts f;
  ExtractFacts(Surface::kBedrockConverse, body, "", &f);
  EXPECT_TRUE(f.extraction_error.empty()) << f.extraction_error;
  for (const char* feature : {"vision.image_input", "pdf_input", "s3_source", "tools.function",
                              "tool_choice.forced", "guardrail", "reasoning", "prompt_cache",
                              "metadata_attached"}) {
    EXPECT_TRUE(f.HasFeature(feature)) << feature;
  }
  EXPECT_EQ(f.modalities_in, (std::vector<std::string>{"image", "pdf", "text"}));
  EXPECT_EQ(f.unknown_fields, (std::vector<std::string>{"additionalModelRequestFields.top_k",
                                                        "messages[].content[].audio"}));
  json::object enforced = body;
  EnforcementResult r = Enforce(Surface::kBedrockConverse, enforced, {});
  EXPECT_FALSE(enforced.contains("requestMetadata"));
  EXPECT_EQ(r.actions, (std::vector<std::string>{"strip_metadata"}));
}

}  // namespace
}  // namespace baagate::policy
