#include "providers/anthropic/anthropic.h"

#include <gtest/gtest.h>

namespace baagate::providers::anthropic {
namespace {

TEST(AnthropicParseRequest, RequiresModelMessagesAndMaxTokens) {
  ParsedRequest r;
  RequestError e;
  ASSERT_TRUE(ParseRequest(Endpoint::kMessages,
                           R"({"model":"m","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]})",
                           &r, &e));
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.model, "m");
  auto body = boost::json::parse(EncodeUpstreamBody(r, "claude-x")).as_object();
  EXPECT_EQ(body["model"].as_string(), "claude-x");

  EXPECT_FALSE(ParseRequest(Endpoint::kMessages,
                            R"({"model":"m","messages":[{"role":"user","content":"SECRET"}]})", &r, &e));
  EXPECT_EQ(e.message, "max_tokens: Field required");
  EXPECT_FALSE(ParseRequest(Endpoint::kMessages,
                            R"({"model":"m","max_tokens":1,"messages":[{"role":"system","content":"SECRET"}]})",
                            &r, &e));
  EXPECT_EQ(e.message.find("SECRET"), std::string::npos);
  EXPECT_FALSE(ParseRequest(Endpoint::kMessages, "[]", &r, &e));
  // count_tokens needs no max_tokens.
  EXPECT_TRUE(ParseRequest(Endpoint::kCountTokens,
                           R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", &r, &e));
}

TEST(AnthropicErrors, HaveTheVendorShapeAndKnownTypesOnly) {
  auto v = boost::json::parse(ErrorJson("rate_limit_error", "slow down", "req_1")).as_object();
  EXPECT_EQ(v["type"].as_string(), "error");
  EXPECT_EQ(v["error"].at("type").as_string(), "rate_limit_error");
  EXPECT_EQ(v["request_id"].as_string(), "req_1");
  EXPECT_EQ(ErrorTypeForStatus(529), "overloaded_error");
  EXPECT_EQ(ErrorTypeForStatus(413), "request_too_large");
  EXPECT_EQ(ErrorTypeForStatus(502), "api_error");
  EXPECT_EQ(SafeErrorType(R"({"type":"error","error":{"type":"overloaded_error","message":"x"}})"),
            "overloaded_error");
  EXPECT_EQ(SafeErrorType(R"({"type":"error","error":{"type":"Jane Doe","message":"x"}})"), "");
}

TEST(AnthropicStreamObserver, KeepsCumulativeUsageAndTheStopReason) {
  StreamObserver o;
  ASSERT_TRUE(o.OnEvent("message_start",
                        R"({"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":5,"cache_read_input_tokens":100,"output_tokens":1}}})")
                  .ok());
  ASSERT_TRUE(o.OnEvent("ping", R"({"type":"ping"})").ok());
  ASSERT_TRUE(o.OnEvent("message_delta",
                        R"({"type":"message_delta","delta":{"stop_reason":"refusal"},"usage":{"output_tokens":9}})")
                  .ok());
  EXPECT_FALSE(o.done());
  ASSERT_TRUE(o.OnEvent("message_stop", R"({"type":"message_stop"})").ok());
  EXPECT_TRUE(o.done());
  EXPECT_EQ(o.message_id(), "msg_1");
  EXPECT_EQ(o.outcome().usage.input_tokens, 105);
  EXPECT_EQ(o.outcome().usage.cached_input_tokens, 100);
  EXPECT_EQ(o.outcome().usage.output_tokens, 9);
  EXPECT_EQ(AuditStatus(o.outcome()), "content_filter_triggered");

  StreamObserver bad;
  EXPECT_FALSE(bad.OnEvent("message_start", "{truncated").ok());
  StreamObserver err;
  ASSERT_TRUE(err.OnEvent("error", R"({"type":"error","error":{"type":"overloaded_error"}})").ok());
  EXPECT_TRUE(err.errored());
  EXPECT_EQ(AuditStatus(err.outcome()), "error");
}

TEST(CanonicalFinishReasons, MapEveryVendorVocabulary) {
  EXPECT_EQ(FromBedrockStopReason("guardrail_intervened"), FinishReason::kContentFilter);
  EXPECT_EQ(FromBedrockStopReason("content_filtered"), FinishReason::kContentFilter);
  EXPECT_EQ(FromVertexFinishReason("SAFETY"), FinishReason::kContentFilter);
  EXPECT_EQ(FromVertexFinishReason("MAX_TOKENS"), FinishReason::kLength);
  EXPECT_EQ(FromOpenAiFinishReason("content_filter"), FinishReason::kContentFilter);
  EXPECT_EQ(FromAnthropicStopReason("tool_use"), FinishReason::kToolCalls);
  EXPECT_EQ(FromAnthropicStopReason("something_new"), FinishReason::kUnknown);
}

}  // namespace
}  // namespace baagate::providers::anthropic
