// Bedrock Converse / ConverseStream through the gateway (issue #6): an OpenAI client on a
// Converse route, against the fake vendor's SigV4-verifying Converse emulation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "audit/sqlite_store.h"
#include "core/uuid.h"
#include "harness.h"

namespace baagate::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using bhttp::verb;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kConverseRoute[] = "nova-bedrock";

// A tenant with an AWS BAA and verified retention mode `none`; {EXCLUDE} is replaced by the
// contract's carve-outs.
constexpr char kAwsTenant[] = R"(tenant:
  id: t1
  contracts:
    - { id: BAA-OPENAI-TEST, vendor: openai, effective_date: "2025-01-01" }
    - { id: BAA-AWS-TEST, vendor: aws, effective_date: "2025-01-01", exclude_features: [{EXCLUDE}] }
  attestations:
    - { vendor: openai, retention: zero_data_retention, source: verified, verified_at: "{NOW}" }
    - { vendor: aws, retention: none, source: verified, verified_at: "{NOW}" }
  allowed_regions: [us]
  pseudonym_key: { env: BAAGATE_TEST_PSEUDONYM_KEY }
apps:
  - { id: a1, purpose: treatment, deidentified_fallback: true }
)";

Harness::Options AwsTenant(const std::string& exclude = "") {
  Harness::Options o;
  o.tenant_yaml = kAwsTenant;
  o.tenant_yaml.replace(o.tenant_yaml.find("{EXCLUDE}"), 9, exclude);
  return o;
}

std::size_t VendorRequests(Harness& h) {
  return json::parse(h.vendor().RecordedJson()).as_object()["requests"].as_array().size();
}

TEST(GatewayBedrockConverse, SignsConverseAndTranslatesForAnOpenAiClient) {
  Harness h(AwsTenant());
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions",
                  ChatBody("hi converse", false,
                           R"("max_tokens":50,"temperature":0.5,"metadata":{"ward":"7"})",
                           kConverseRoute));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto o = r.Json().as_object();
  EXPECT_EQ(o["object"].as_string(), "chat.completion");
  EXPECT_EQ(o["model"].as_string(), kConverseRoute);
  EXPECT_EQ(o["choices"].as_array()[0].at("message").at("content").as_string(),
            "ECHO: hi converse");
  EXPECT_EQ(o["choices"].as_array()[0].at("finish_reason").as_string(), "stop");
  EXPECT_GT(o["usage"].at("prompt_tokens").as_int64(), 0);
  auto last = h.LastVendorRequest();
  // The model id travels percent-encoded; the fake verified the signature over %253A.
  EXPECT_EQ(last["path"].as_string(), "/model/amazon.nova-pro-v1%3A0/converse");
  EXPECT_EQ(last["headers"].at("authorization").as_string().find(
                "AWS4-HMAC-SHA256 Credential=" + std::string(kAwsAccessKeyId) + "/"),
            0u);
  auto body = json::parse(last["body"].as_string()).as_object();
  EXPECT_FALSE(body.contains("model"));
  EXPECT_EQ(json::serialize(body["messages"]),
            R"([{"role":"user","content":[{"text":"hi converse"}]}])");
  EXPECT_EQ(body["inferenceConfig"].at("maxTokens").as_int64(), 50);
  EXPECT_FALSE(body.contains("requestMetadata"));  // C-META: enforcement strips it
}

TEST(GatewayBedrockConverse, StreamsConverseStreamAsChatChunksWithUsage) {
  Harness h(AwsTenant());
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions",
                  ChatBody("stream via converse", true,
                           R"("stream_options":{"include_usage":true})", kConverseRoute));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(h.LastVendorRequest()["path"].as_string(),
            "/model/amazon.nova-pro-v1%3A0/converse-stream");
  auto events = ParseSse(r.body);
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events.back().name, "[DONE]") << r.body;
  std::string text;
  std::string finish;
  std::int64_t completion_tokens = -1;
  for (const auto& e : events) {
    if (e.name == "[DONE]") continue;
    EXPECT_EQ(e.data.at("object").as_string(), "chat.completion.chunk");
    for (const auto& ch : e.data.at("choices").as_array()) {
      const auto& d = ch.at("delta").as_object();
      if (d.contains("content")) text += std::string(d.at("content").as_string());
      if (ch.at("finish_reason").is_string()) finish = ch.at("finish_reason").as_string();
    }
    if (e.data.contains("usage") && e.data.at("usage").is_object()) {
      completion_tokens = e.data.at("usage").at("completion_tokens").as_int64();
    }
  }
  EXPECT_EQ(text, "ECHO: stream via converse");
  EXPECT_EQ(finish, "stop");
  EXPECT_EQ(completion_tokens, 4);
}

TEST(GatewayBedrockConverse, StreamsToolCallsAndMapsStreamFaultsToErrorEvents) {
  Harness h(AwsTenant());
  {
    Client c(h.gateway());
    auto r = c.Send(verb::post, "/v1/chat/completions",
                    ChatBody("[[fake:tool-use]] look up", true,
                             R"("tools":[{"type":"function","function":{"name":"lookup"}}])",
                             kConverseRoute));
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_THAT(r.body, HasSubstr(R"("finish_reason":"tool_calls")"));
    EXPECT_THAT(r.body, HasSubstr(R"("name":"lookup")"));
  }
  for (const char* fault : {"[[fake:bad-crc]]", "[[fake:truncate-stream]]", "[[fake:error-event]]"}) {
    Client c(h.gateway());
    auto r = c.Send(verb::post, "/v1/chat/completions",
                    ChatBody(std::string("canary-5521 ") + fault, true, "", kConverseRoute));
    ASSERT_EQ(r.status, 200u) << fault;
    auto events = ParseSse(r.body);
    ASSERT_FALSE(events.empty()) << fault;
    EXPECT_NE(events.back().name, "[DONE]") << fault;
    EXPECT_TRUE(events.back().data.contains("error")) << fault << r.body;
    EXPECT_EQ(r.body.find("Model failed on"), std::string::npos) << fault;
  }
  Client c(h.gateway());
  auto throttled = c.Send(verb::post, "/v1/chat/completions",
                          ChatBody("canary-5522 [[fake:429]]", false, "", kConverseRoute));
  EXPECT_EQ(throttled.status, 429u) << throttled.body;
  EXPECT_THAT(throttled.body, Not(HasSubstr("canary-5522")));
}

TEST(GatewayBedrockConverse, RefusesUntranslatableAndAnthropicClientsWithA400) {
  Harness h(AwsTenant());
  const std::size_t before = VendorRequests(h);
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions",
                  ChatBody("x", false, R"("response_format":{"type":"json_object"})",
                           kConverseRoute));
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(r.Json().at("error").at("param").as_string(), "response_format");
  EXPECT_THAT(r.body, HasSubstr("Bedrock Converse"));
  Client c2(h.gateway());
  bhttp::request<bhttp::string_body> req{verb::post, "/v1/messages", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set("x-api-key", kGatewayKey);
  req.set("anthropic-version", "2023-06-01");
  req.set(bhttp::field::content_type, "application/json");
  req.body() = R"({"model":"nova-bedrock","max_tokens":8,"messages":[{"role":"user","content":"x"}]})";
  req.prepare_payload();
  bhttp::write(c2.socket(), req);
  auto a = c2.Read();
  EXPECT_EQ(a.status, 400u) << a.body;
  EXPECT_THAT(a.body, HasSubstr("bedrock_api: invoke"));
  EXPECT_EQ(VendorRequests(h), before);
}

TEST(GatewayBedrockConverse, PolicyBlocksAFeatureTheContractCarvesOut) {
  Harness h(AwsTenant("vision.image_input"));
  const std::size_t before = VendorRequests(h);
  Client c(h.gateway());
  std::string body = R"({"model":"nova-bedrock","messages":[{"role":"user","content":[
      {"type":"text","text":"Patient Jane Canary-Doe"},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]})";
  auto r = c.Send(verb::post, "/v1/chat/completions", body);
  ASSERT_EQ(r.status, 403u) << r.body;
  EXPECT_EQ(r.Json().at("error").at("code").as_string(), "baa_scope_violation");
  EXPECT_THAT(r.body, HasSubstr("vision.image_input"));
  EXPECT_THAT(r.body, Not(HasSubstr("Canary")));
  EXPECT_EQ(VendorRequests(h), before);
  // The same text without the image is allowed.
  Client c2(h.gateway());
  auto ok = c2.Send(verb::post, "/v1/chat/completions", ChatBody("no image", false, "",
                                                                  kConverseRoute));
  EXPECT_EQ(ok.status, 200u) << ok.body;
}

TEST(GatewayBedrockConverse, AuditRecordsTheConverseSurfaceAndOutcome) {
  const fs::path dir = fs::temp_directory_path() / ("baagate-converse-audit-" + core::NewUuidV7());
  fs::create_directories(dir);
  const std::string db = (dir / "audit.db").string();
  {
    auto store = audit::OpenSqliteStore(db);
    ASSERT_TRUE(store.ok());
    audit::AuditLogOptions ao;
    ao.log_id = "it/converse";
    ao.key_file = (dir / "audit.key").string();
    auto log = audit::AuditLog::Open(std::move(store).value(), ao);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    {
      Harness::Options opts = AwsTenant();
      opts.audit = log->get();
      Harness h(opts);
      Client c(h.gateway());
      auto r = c.Send(verb::post, "/v1/chat/completions",
                      ChatBody("Patient John Smith canary-7781", true,
                               R"("stream_options":{"include_usage":true})", kConverseRoute));
      ASSERT_EQ(r.status, 200u) << r.body;
    }
    (*log)->Close();
  }
  std::vector<audit::StoredRecord> records;
  for (int i = 0; i < 200 && records.size() < 2; ++i) {
    records.clear();
    auto store = audit::OpenSqliteStore(db);
    ASSERT_TRUE((*store)->Scan("it/converse", 0, [&](const audit::StoredRecord& rec) {
      records.push_back(rec);
      return true;
    }).ok());
    if (records.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].phase, "decision");
  EXPECT_THAT(records[0].body, HasSubstr(R"("api_surface":"bedrock.converse")"));
  EXPECT_THAT(records[0].body, HasSubstr(R"("decision":"allow")"));
  EXPECT_EQ(records[1].phase, "outcome");
  EXPECT_THAT(records[1].body, HasSubstr(R"("status":"success")"));
  for (const auto& rec : records) {
    EXPECT_THAT(rec.body, Not(HasSubstr("John")));
    EXPECT_THAT(rec.body, Not(HasSubstr("canary-7781")));
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace baagate::testing
