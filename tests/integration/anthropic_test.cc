// The Anthropic front door (/v1/messages) and the translated routes, against the fake vendor's
// Anthropic Messages emulation (issue #6).
#include <gtest/gtest.h>

#include "harness.h"

namespace baagate::testing {
namespace {

namespace json = boost::json;
using bhttp::verb;

// A tenant with BAAs for OpenAI and Anthropic, both with verified zero data retention.
constexpr char kTwoVendorTenant[] = R"(tenant:
  id: t1
  contracts:
    - { id: BAA-OPENAI-TEST, vendor: openai, effective_date: "2025-01-01" }
    - { id: BAA-ANTHROPIC-TEST, vendor: anthropic, effective_date: "2025-01-01" }
    - { id: BAA-AWS-TEST, vendor: aws, effective_date: "2025-01-01" }
    - { id: BAA-MICROSOFT-TEST, vendor: microsoft, effective_date: "2025-01-01" }
  attestations:
    - { vendor: openai, retention: zero_data_retention, source: verified, verified_at: "{NOW}" }
    - { vendor: anthropic, retention: zero_data_retention, source: verified, verified_at: "{NOW}" }
    - { vendor: aws, retention: none, source: verified, verified_at: "{NOW}" }
    - { vendor: microsoft, retention: abuse_monitoring_off, source: verified, verified_at: "{NOW}" }
  allowed_regions: [us, "eastus*"]
  pseudonym_key: { env: BAAGATE_TEST_PSEUDONYM_KEY }
apps:
  - { id: a1, purpose: treatment, deidentified_fallback: true }
)";

Harness::Options TwoVendors() {
  Harness::Options o;
  o.tenant_yaml = kTwoVendorTenant;
  return o;
}

// The route the harness sends to its Anthropic upstream.
constexpr char kClaudeRoute[] = "claude-fallback";

std::string MessagesBody(const std::string& text, const std::string& model, bool stream = false,
                         const std::string& extra = "") {
  json::object o{{"model", model},
                 {"max_tokens", 64},
                 {"messages", json::array{json::object{{"role", "user"}, {"content", text}}}}};
  if (stream) o["stream"] = true;
  std::string s = json::serialize(o);
  if (!extra.empty()) s = s.substr(0, s.size() - 1) + "," + extra + "}";
  return s;
}

RawResponse SendAnthropic(Client& c, const std::string& path, const std::string& body,
                          bool with_version = true, const std::string& key = kGatewayKey) {
  bhttp::request<bhttp::string_body> req{verb::post, path, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set("x-api-key", key);
  if (with_version) req.set("anthropic-version", "2023-06-01");
  req.set(bhttp::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  bhttp::write(c.socket(), req);
  return c.Read();
}


TEST(GatewayAnthropic, ServerLevelErrorsOnTheMessagesPathUseAnthropicsShape) {
  Harness::Options o = TwoVendors();
  o.extra_server_yaml = "    max_body_bytes: 1024\n";
  Harness h(o);
  Client c(h.gateway());
  auto r = SendAnthropic(c, "/v1/messages", MessagesBody(std::string(4096, 'a'), kClaudeRoute));
  EXPECT_EQ(r.status, 413u);
  auto body = r.Json().as_object();
  EXPECT_EQ(body["type"], "error");
  EXPECT_EQ(body["error"].at("type"), "request_too_large");
  // The OpenAI front door keeps OpenAI's shape for the same limit.
  Client c2(h.gateway());
  auto o413 = c2.Send(verb::post, "/v1/chat/completions", ChatBody(std::string(4096, 'a')));
  EXPECT_EQ(o413.status, 413u);
  EXPECT_EQ(o413.Json().at("error").at("code"), "request_too_large");
}

TEST(GatewayAnthropic, RelaysAMessageAndSwapsInTheVendorKey) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = SendAnthropic(c, "/v1/messages", MessagesBody("hello claude", kClaudeRoute));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto m = r.Json().as_object();
  EXPECT_EQ(m["type"].as_string(), "message");
  EXPECT_EQ(m["content"].as_array()[0].at("text").as_string(), "ECHO: hello claude");
  EXPECT_EQ(m["stop_reason"].as_string(), "end_turn");
  EXPECT_FALSE(r.headers["request-id"].empty());
  auto last = h.LastVendorRequest();
  EXPECT_EQ(last["path"].as_string(), "/v1/messages");
  auto headers = last["headers"].as_object();
  EXPECT_EQ(headers["x-api-key"].as_string(), kVendorKey);
  EXPECT_EQ(headers["anthropic-version"].as_string(), "2023-06-01");
  EXPECT_FALSE(headers.contains("authorization"));
  EXPECT_EQ(last["body"].as_string().find(kGatewayKey), json::string::npos);
}

TEST(GatewayAnthropic, StreamsTheFullEventSequence) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = SendAnthropic(c, "/v1/messages", MessagesBody("stream to me", kClaudeRoute, true));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto events = ParseSse(r.body);
  ASSERT_GE(events.size(), 6u);
  EXPECT_EQ(events.front().name, "message_start");
  EXPECT_EQ(events.back().name, "message_stop");
  std::string text;
  bool saw_ping = false;
  for (const auto& e : events) {
    saw_ping = saw_ping || e.name == "ping";
    if (e.name == "content_block_delta") text += std::string(e.data.at("delta").at("text").as_string());
  }
  EXPECT_TRUE(saw_ping);
  EXPECT_EQ(text, "ECHO: stream to me");
}

TEST(GatewayAnthropic, ReplacesAMidStreamVendorErrorWithoutItsText) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = SendAnthropic(c, "/v1/messages",
                         MessagesBody("secret-canary [[fake:error-event]]", kClaudeRoute, true));
  ASSERT_EQ(r.status, 200u);
  auto events = ParseSse(r.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().name, "error");
  EXPECT_EQ(events.back().data.at("error").at("type").as_string(), "api_error");
  EXPECT_EQ(r.body.find("Overloaded while answering"), std::string::npos);
}

TEST(GatewayAnthropic, AnswersErrorsInAnthropicsShape) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto no_version = SendAnthropic(c, "/v1/messages", MessagesBody("x", kClaudeRoute), false);
  EXPECT_EQ(no_version.status, 400u);
  EXPECT_EQ(no_version.Json().at("type").as_string(), "error");
  EXPECT_EQ(no_version.Json().at("error").at("type").as_string(), "invalid_request_error");

  Client c2(h.gateway());
  auto bad_key = SendAnthropic(c2, "/v1/messages", MessagesBody("x", kClaudeRoute), true, "nope");
  EXPECT_EQ(bad_key.status, 401u);
  EXPECT_EQ(bad_key.Json().at("error").at("type").as_string(), "authentication_error");

  Client c3(h.gateway());
  auto no_max = SendAnthropic(
      c3, "/v1/messages",
      R"({"model":"claude-fallback","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(no_max.status, 400u);
  EXPECT_EQ(no_max.Json().at("error").at("message").as_string(), "max_tokens: Field required");

  Client c4(h.gateway());
  auto limited = SendAnthropic(c4, "/v1/messages",
                               MessagesBody("patient-canary [[fake:429]]", kClaudeRoute));
  EXPECT_EQ(limited.status, 429u);
  EXPECT_EQ(limited.Json().at("error").at("type").as_string(), "rate_limit_error");
  EXPECT_EQ(limited.body.find("patient-canary"), std::string::npos);
}

TEST(GatewayAnthropic, BlocksAnUncoveredBetaHeaderIn403AnthropicShape) {
  // A Claude route without de-identified fallback (on claude-fallback the same call would be
  // sent de-identified).
  Harness::Options o = TwoVendors();
  o.extra_routes_yaml = "  - { model: claude-direct, upstream: fake-anthropic }\n";
  o.extra_key_models = ", claude-direct";
  Harness h(o);
  Client c(h.gateway());
  bhttp::request<bhttp::string_body> req{verb::post, "/v1/messages", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set("x-api-key", kGatewayKey);
  req.set("anthropic-version", "2023-06-01");
  req.set("anthropic-beta", "files-api-2025-04-14");
  req.set(bhttp::field::content_type, "application/json");
  req.body() = MessagesBody("x", "claude-direct");
  req.prepare_payload();
  bhttp::write(c.socket(), req);
  auto r = c.Read();
  EXPECT_EQ(r.status, 403u) << r.body;
  EXPECT_EQ(r.Json().at("type").as_string(), "error");
  EXPECT_EQ(r.Json().at("error").at("type").as_string(), "permission_error");
  EXPECT_NE(r.body.find("beta_header"), std::string::npos);
  // Nothing reached the vendor.
  EXPECT_TRUE(h.LastVendorRequest().empty());
}

TEST(GatewayAnthropic, CountsTokensOnAnAnthropicRoute) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = SendAnthropic(
      c, "/v1/messages/count_tokens",
      R"({"model":"claude-fallback","messages":[{"role":"user","content":"one two three"}]})");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("input_tokens").as_int64(), 6);
  EXPECT_EQ(h.LastVendorRequest()["path"].as_string(), "/v1/messages/count_tokens");
}

TEST(GatewayTranslation, ServesAnOpenAiClientFromAClaudeRoute) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hi from openai", false, "",
                                                                 kClaudeRoute));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto o = r.Json().as_object();
  EXPECT_EQ(o["object"].as_string(), "chat.completion");
  EXPECT_EQ(o["model"].as_string(), kClaudeRoute);
  const auto& choice = o["choices"].as_array()[0].as_object();
  EXPECT_EQ(choice.at("message").at("content").as_string(), "ECHO: hi from openai");
  EXPECT_EQ(choice.at("finish_reason").as_string(), "stop");
  EXPECT_GT(o["usage"].at("prompt_tokens").as_int64(), 0);
  auto vendor = json::parse(h.LastVendorRequest()["body"].as_string()).as_object();
  EXPECT_EQ(vendor["max_tokens"].as_int64(), 4096);
  EXPECT_EQ(h.LastVendorRequest()["path"].as_string(), "/v1/messages");
}

TEST(GatewayTranslation, StreamsChunksToAnOpenAiClientFromAClaudeRoute) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions",
                  ChatBody("stream please", true, R"("stream_options":{"include_usage":true})",
                           kClaudeRoute));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto events = ParseSse(r.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().name, "[DONE]");
  std::string text;
  std::string finish;
  bool usage = false;
  for (const auto& e : events) {
    if (e.name == "[DONE]") continue;
    EXPECT_EQ(e.data.at("object").as_string(), "chat.completion.chunk");
    for (const auto& ch : e.data.at("choices").as_array()) {
      const auto& d = ch.at("delta").as_object();
      if (d.contains("content")) text += std::string(d.at("content").as_string());
      if (ch.at("finish_reason").is_string()) finish = std::string(ch.at("finish_reason").as_string());
    }
    usage = usage || (e.data.contains("usage") && e.data.at("usage").is_object());
  }
  EXPECT_EQ(text, "ECHO: stream please");
  EXPECT_EQ(finish, "stop");
  EXPECT_TRUE(usage);
}

TEST(GatewayTranslation, ServesAnAnthropicClientFromAnOpenAiRoute) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = SendAnthropic(c, "/v1/messages", MessagesBody("hi from anthropic", "gpt-4o-mini"));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto m = r.Json().as_object();
  EXPECT_EQ(m["type"].as_string(), "message");
  EXPECT_EQ(m["content"].as_array()[0].at("text").as_string(), "ECHO: hi from anthropic");
  EXPECT_EQ(m["stop_reason"].as_string(), "end_turn");
  EXPECT_EQ(h.LastVendorRequest()["path"].as_string(), "/v1/chat/completions");

  Client c2(h.gateway());
  auto s = SendAnthropic(c2, "/v1/messages", MessagesBody("and streamed", "gpt-4o-mini", true));
  ASSERT_EQ(s.status, 200u) << s.body;
  auto events = ParseSse(s.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().name, "message_start");
  EXPECT_EQ(events.back().name, "message_stop");
  std::string text;
  for (const auto& e : events) {
    if (e.name == "content_block_delta") text += std::string(e.data.at("delta").at("text").as_string());
  }
  EXPECT_EQ(text, "ECHO: and streamed");
}

TEST(GatewayTranslation, RefusesWhatCannotBeTranslatedWith400) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions",
                  ChatBody("x", false, R"("logprobs":true)", kClaudeRoute));
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(r.Json().at("error").at("code").as_string(), "untranslatable_request");
  EXPECT_EQ(r.Json().at("error").at("param").as_string(), "logprobs");
}

TEST(GatewayTranslation, MapsATruncatedUpstreamStreamToAnErrorEvent) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions",
                  ChatBody("cut [[fake:truncate-stream]]", true, "", kClaudeRoute));
  ASSERT_EQ(r.status, 200u);
  auto events = ParseSse(r.body);
  ASSERT_FALSE(events.empty());
  EXPECT_NE(events.back().name, "[DONE]");
  EXPECT_EQ(events.back().data.at("error").at("code").as_string(), "upstream_stream_incomplete");

  Client c2(h.gateway());
  auto bad = SendAnthropic(c2, "/v1/messages",
                           MessagesBody("x [[fake:malformed-sse]]", kClaudeRoute, true));
  ASSERT_EQ(bad.status, 200u);
  auto bev = ParseSse(bad.body);
  ASSERT_FALSE(bev.empty());
  EXPECT_EQ(bev.back().name, "error");
}

// --- Bedrock InvokeModel (SigV4 + event-stream) ---

constexpr char kBedrockRoute[] = "claude-bedrock";

TEST(GatewayBedrock, SignsInvokeModelAndTranslatesForAnOpenAiClient) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hi bedrock", false, "",
                                                                 kBedrockRoute));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto o = r.Json().as_object();
  EXPECT_EQ(o["choices"].as_array()[0].at("message").at("content").as_string(),
            "ECHO: hi bedrock");
  auto last = h.LastVendorRequest();
  // The model id travels percent-encoded; the fake verified the signature over %253A.
  EXPECT_EQ(last["path"].as_string(),
            "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke");
  auto headers = last["headers"].as_object();
  EXPECT_EQ(headers["authorization"].as_string().find("AWS4-HMAC-SHA256 Credential=" +
                                                      std::string(kAwsAccessKeyId) + "/"),
            0u);
  EXPECT_NE(headers["authorization"].as_string().find("/us-east-1/bedrock/aws4_request"),
            json::string::npos);
  auto body = json::parse(last["body"].as_string()).as_object();
  EXPECT_EQ(body["anthropic_version"].as_string(), "bedrock-2023-05-31");
  EXPECT_FALSE(body.contains("model"));
  EXPECT_FALSE(body.contains("stream"));
}

TEST(GatewayBedrock, StreamsEventStreamFramesToBothDialects) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions",
                  ChatBody("stream from bedrock", true, R"("stream_options":{"include_usage":true})",
                           kBedrockRoute));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto events = ParseSse(r.body);
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events.back().name, "[DONE]") << r.body;
  std::string text;
  bool usage = false;
  for (const auto& e : events) {
    if (e.name == "[DONE]") continue;
    for (const auto& ch : e.data.at("choices").as_array()) {
      const auto& d = ch.at("delta").as_object();
      if (d.contains("content")) text += std::string(d.at("content").as_string());
    }
    usage = usage || (e.data.contains("usage") && e.data.at("usage").is_object());
  }
  EXPECT_EQ(text, "ECHO: stream from bedrock");
  EXPECT_TRUE(usage);

  Client c2(h.gateway());
  auto a = SendAnthropic(c2, "/v1/messages", MessagesBody("native stream", kBedrockRoute, true));
  ASSERT_EQ(a.status, 200u) << a.body;
  auto aev = ParseSse(a.body);
  ASSERT_FALSE(aev.empty());
  EXPECT_EQ(aev.front().name, "message_start");
  EXPECT_EQ(aev.back().name, "message_stop");
  EXPECT_FALSE(aev.back().data.contains("amazon-bedrock-invocationMetrics"));
  EXPECT_EQ(a.body.find("amazon-bedrock"), std::string::npos);
}

TEST(GatewayBedrock, MapsBadCrcTruncationAndExceptionsToErrorEvents) {
  Harness h(TwoVendors());
  for (const char* fault : {"[[fake:bad-crc]]", "[[fake:truncate-stream]]", "[[fake:error-event]]"}) {
    Client c(h.gateway());
    auto r = c.Send(verb::post, "/v1/chat/completions",
                    ChatBody(std::string("canary-4410 ") + fault, true, "", kBedrockRoute));
    ASSERT_EQ(r.status, 200u) << fault;
    auto events = ParseSse(r.body);
    ASSERT_FALSE(events.empty()) << fault;
    EXPECT_NE(events.back().name, "[DONE]") << fault;
    EXPECT_TRUE(events.back().data.contains("error")) << fault << r.body;
    // The exception's own message (which quotes the prompt) is never relayed; echoed content
    // before a framing fault legitimately is.
    EXPECT_EQ(r.body.find("Model failed on"), std::string::npos) << fault;
  }
}

TEST(GatewayBedrock, PassesThrottlingAs429WithoutVendorText) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = SendAnthropic(c, "/v1/messages", MessagesBody("canary-3301 [[fake:429]]", kBedrockRoute));
  EXPECT_EQ(r.status, 429u) << r.body;
  EXPECT_EQ(r.Json().at("error").at("type").as_string(), "rate_limit_error");
  EXPECT_EQ(r.body.find("canary-3301"), std::string::npos);
}

// --- Azure OpenAI deployment URLs ---

TEST(GatewayAzure, CallsTheDeploymentUrlWithApiKeyAndApiVersion) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hi azure", false, "", "azure-gpt"));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("choices").as_array()[0].at("message").at("content").as_string(),
            "ECHO: hi azure");
  auto last = h.LastVendorRequest();
  // The fake answers 404 without api-version, so a 200 proves it was sent.
  EXPECT_EQ(last["path"].as_string(), "/openai/deployments/gpt4o-deployment/chat/completions");
  auto headers = last["headers"].as_object();
  EXPECT_EQ(headers["api-key"].as_string(), kVendorKey);
  EXPECT_FALSE(headers.contains("authorization"));

  Client c2(h.gateway());
  auto a = SendAnthropic(c2, "/v1/messages", MessagesBody("anthropic to azure", "azure-gpt"));
  ASSERT_EQ(a.status, 200u) << a.body;
  EXPECT_EQ(a.Json().at("content").as_array()[0].at("text").as_string(),
            "ECHO: anthropic to azure");
}

TEST(GatewayAzure, PassesABlockedPromptAs400ContentFilterWithoutVendorText) {
  Harness h(TwoVendors());
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions",
                  ChatBody("canary-6620 [[fake:content-filter]]", false, "", "azure-gpt"));
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(r.Json().at("error").at("code").as_string(), "content_filter");
  EXPECT_EQ(r.body.find("canary-6620"), std::string::npos);

  Client c2(h.gateway());
  auto f = c2.Send(verb::post, "/v1/chat/completions",
                   ChatBody("x [[fake:filtered-completion]]", false, "", "azure-gpt"));
  ASSERT_EQ(f.status, 200u) << f.body;
  EXPECT_EQ(f.Json().at("choices").as_array()[0].at("finish_reason").as_string(),
            "content_filter");
}

}  // namespace
}  // namespace baagate::testing
