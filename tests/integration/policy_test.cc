// The policy engine in the gateway: one test per decision kind, through the fake vendor.
#include <gmock/gmock.h>

#include <cstdio>
#include <fstream>

#include "harness.h"

namespace baagate::testing {
namespace {

namespace json = boost::json;
using bhttp::verb;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

std::size_t VendorRequests(Harness& h) {
  return json::parse(h.vendor().RecordedJson()).as_object()["requests"].as_array().size();
}

std::vector<std::string> Reasons(const RawResponse& r) {
  std::vector<std::string> out;
  const json::value parsed = r.Json();
  for (const auto& v : parsed.at("error").at("reasons").as_array()) out.emplace_back(v.as_string());
  return out;
}

TEST(GatewayPolicy, AllowEnforcesStoreMetadataAndUserPseudonym) {
  Harness h;
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions",
                  ChatBody("hello", false,
                           R"("store":true,"metadata":{"mrn":"MRN-CANARY-778"},"user":"jane.canary@example.org")"));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto sent = json::parse(h.LastVendorRequest()["body"].as_string()).as_object();
  EXPECT_EQ(sent["store"], json::value(false));
  EXPECT_FALSE(sent.contains("metadata"));
  std::string user(sent["user"].as_string());
  EXPECT_THAT(user, ::testing::StartsWith("bgu_"));
  EXPECT_EQ(h.LastVendorRequest()["body"].as_string().find("CANARY"), json::string::npos);
}

TEST(GatewayPolicy, BlockIsA403InOpenAIShapeAndNothingIsSent) {
  Harness h;
  Client c(h.gateway());
  const std::size_t before = VendorRequests(h);
  std::string body = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":[
      {"type":"text","text":"Patient Jane Canary-Doe, SSN 123-45-6789"},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}],
      "web_search_options":{},"Jane Canary-Doe":1})";
  auto r = c.Send(verb::post, "/v1/chat/completions", body);
  ASSERT_EQ(r.status, 403u) << r.body;
  const json::value parsed = r.Json();
  const auto& err = parsed.at("error").as_object();
  EXPECT_EQ(err.at("code").as_string(), "baa_scope_violation");
  EXPECT_EQ(err.at("type").as_string(), "permission_error");
  EXPECT_THAT(Reasons(r), Contains("FEATURE_NOT_COVERED:vision.image_input"));
  EXPECT_THAT(Reasons(r), Contains("FEATURE_NOT_COVERED:web_search"));
  EXPECT_THAT(Reasons(r), Contains("UNKNOWN_FIELD:?"));  // a name-shaped key is never repeated
  EXPECT_THAT(r.body, Not(HasSubstr("Canary")));
  EXPECT_THAT(r.body, Not(HasSubstr("123-45-6789")));
  EXPECT_EQ(VendorRequests(h), before);
}

TEST(GatewayPolicy, RegionOutsideTheTenantsListIsBlocked) {
  Harness h;
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("x", false, "", "eu-model"));
  ASSERT_EQ(r.status, 403u) << r.body;
  EXPECT_THAT(Reasons(r), Contains("REGION_NOT_ALLOWED"));
}

TEST(GatewayPolicy, DeidentifiedFallbackFailsClosedWithoutADeidentifier) {
  // The claude-fallback route goes to a vendor without a BAA and allows de-identified
  // fallback, and the app allows it: the decision is allow_deidentified. A gateway without a
  // de-identifier refuses the call rather than send PHI.
  Harness::Options o;
  o.deidentifier = false;
  Harness h(o);
  Client c(h.gateway());
  const std::size_t before = VendorRequests(h);
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("x", false, "", "claude-fallback"));
  ASSERT_EQ(r.status, 403u) << r.body;
  EXPECT_THAT(Reasons(r), Contains("NO_BAA:anthropic"));
  EXPECT_THAT(Reasons(r), Contains("DEID_UNAVAILABLE"));
  EXPECT_EQ(VendorRequests(h), before);
}

constexpr char kSeededPhi[] =
    "Patient John Smith, MRN 48213977, DOB 03/14/1962, phone (617) 555-0199, email "
    "john.smith@example.org, was seen at St. Mary's Hospital in Springfield on 11/02/2026.";
const char* const kSeededValues[] = {"John", "Smith", "48213977", "03/14/1962", "555-0199",
                                     "john.smith@example.org", "St. Mary", "11/02/2026"};

TEST(GatewayPolicy, DeidentifiedFallbackSendsNoPhiAndRestoresTheAnswer) {
  // eu-deid: an EU upstream (outside the tenant's regions) that takes de-identified calls.
  Harness h;
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody(kSeededPhi, false, "", "eu-deid"));
  ASSERT_EQ(r.status, 200u) << r.body;
  std::string sent(h.LastVendorRequest()["body"].as_string());
  for (const char* v : kSeededValues) EXPECT_EQ(sent.find(v), std::string::npos) << v << " in " << sent;
  EXPECT_NE(sent.find("[NAME_1]"), std::string::npos) << sent;
  // The fake vendor echoes what it received; the client reads the originals.
  const json::value parsed = r.Json();
  EXPECT_EQ(parsed.at("choices").at(0).at("message").at("content").as_string(),
            std::string("ECHO: ") + kSeededPhi);
}

TEST(GatewayPolicy, DeidentifiedFallbackRestoresPlaceholdersSplitAcrossStreamEvents) {
  Harness h;
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody(kSeededPhi, true, "", "eu-deid"));
  ASSERT_EQ(r.status, 200u) << r.body;
  std::string sent(h.LastVendorRequest()["body"].as_string());
  for (const char* v : kSeededValues) EXPECT_EQ(sent.find(v), std::string::npos) << v;
  // Reassemble the streamed text.
  std::string text;
  std::size_t pos = 0;
  int events = 0;
  while ((pos = r.body.find("data: ", pos)) != std::string::npos) {
    std::size_t end = r.body.find("\n\n", pos);
    std::string data = r.body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") break;
    ++events;
    json::value v = json::parse(data);
    const json::value* content = v.at("choices").at(0).at("delta").as_object().if_contains("content");
    if (content && content->is_string()) text += std::string(content->as_string());
  }
  EXPECT_GT(events, 5);  // the fake streams word by word, so placeholders were split
  EXPECT_EQ(text, std::string("ECHO: ") + kSeededPhi);
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
}

TEST(GatewayPolicy, DeidentifiedFallbackUsesTheDeploymentsRosterAndPatterns) {
  // A roster name written in lower case mid-sentence and a local badge format: neither is
  // found without the deployment's lists (`phi:` in the configuration).
  const std::string roster = ::testing::TempDir() + "gateway-roster.txt";
  { std::ofstream(roster, std::ios::trunc) << "Zebulon Quarrington\n"; }
  Harness::Options o;
  o.extra_top_yaml = "phi:\n  roster_file: " + roster +
                     "\n  patterns:\n    - { name: badge, regex: 'BDG-[0-9]{6}' }\n";
  Harness h(o);
  Client c(h.gateway());
  const std::string prompt = "ask zebulon quarrington about badge BDG-734120 please";
  for (bool stream : {false, true}) {
    auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody(prompt, stream, "", "eu-deid"));
    ASSERT_EQ(r.status, 200u) << r.body;
    std::string sent(h.LastVendorRequest()["body"].as_string());
    EXPECT_EQ(sent.find("zebulon"), std::string::npos) << sent;
    EXPECT_EQ(sent.find("quarrington"), std::string::npos) << sent;
    EXPECT_EQ(sent.find("734120"), std::string::npos) << sent;
    EXPECT_NE(sent.find("[ID_1]"), std::string::npos) << sent;
    if (!stream) {
      EXPECT_EQ(r.Json().at("choices").at(0).at("message").at("content").as_string(),
                "ECHO: " + prompt);
    } else {
      EXPECT_NE(r.body.find("quarrington"), std::string::npos);
    }
  }
  std::remove(roster.c_str());
}

// The de-identified fallback on every route shape: translated (OpenAI client to Claude,
// Anthropic client to an OpenAI-dialect route), Anthropic pass-through and Bedrock event
// streams. The vendor must see none of the seeded values, and the client must read the originals,
// plain and streamed.
struct DeidCase {
  const char* name;
  bool anthropic_client;
  const char* model;
  bool stream;
  // Appended to the prompt: a literal that looks like the start of a placeholder is held back
  // to the end of its block and must still reach the client.
  const char* tail = "";
};

class DeidentifiedFallbackOnEveryRoute : public ::testing::TestWithParam<DeidCase> {};

// The text the client reads: the message content, or the streamed deltas joined.
std::string ClientText(const RawResponse& r, bool anthropic, bool stream) {
  std::string text;
  if (!stream) {
    const json::value v = r.Json();
    if (anthropic) {
      for (const auto& block : v.at("content").as_array()) {
        if (block.at("type") == "text") text += std::string(block.at("text").as_string());
      }
      return text;
    }
    return std::string(v.at("choices").at(0).at("message").at("content").as_string());
  }
  std::size_t pos = 0;
  while ((pos = r.body.find("data: ", pos)) != std::string::npos) {
    std::size_t end = r.body.find("\n\n", pos);
    std::string data = r.body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") break;
    json::value v = json::parse(data);
    if (anthropic) {
      if (v.at("type") != "content_block_delta") continue;
      const json::value* t = v.at("delta").as_object().if_contains("text");
      if (t && t->is_string()) text += std::string(t->as_string());
    } else {
      const json::value* content = v.at("choices").at(0).at("delta").as_object().if_contains("content");
      if (content && content->is_string()) text += std::string(content->as_string());
    }
  }
  return text;
}

TEST_P(DeidentifiedFallbackOnEveryRoute, SendsNoPhiAndRestoresTheAnswer) {
  const DeidCase& p = GetParam();
  Harness::Options o;
  o.extra_routes_yaml =
      "  - { model: bedrock-deid, upstream: fake-bedrock, deidentified_fallback: true, "
      "upstream_model: \"anthropic.claude-3-5-sonnet-20240620-v1:0\" }\n";
  o.extra_key_models = ", bedrock-deid";
  Harness h(o);
  Client c(h.gateway());
  const std::string prompt = std::string(kSeededPhi) + p.tail;
  RawResponse r;
  if (p.anthropic_client) {
    json::object body{{"model", p.model},
                      {"max_tokens", 256},
                      {"messages", json::array{json::object{{"role", "user"}, {"content", prompt}}}}};
    if (p.stream) body["stream"] = true;
    bhttp::request<bhttp::string_body> req{verb::post, "/v1/messages", 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set("x-api-key", kGatewayKey);
    req.set("anthropic-version", "2023-06-01");
    req.set(bhttp::field::content_type, "application/json");
    req.body() = json::serialize(body);
    req.prepare_payload();
    bhttp::write(c.socket(), req);
    r = c.Read();
  } else {
    r = c.Send(verb::post, "/v1/chat/completions", ChatBody(prompt, p.stream, "", p.model));
  }
  ASSERT_EQ(r.status, 200u) << r.body;
  std::string sent(h.LastVendorRequest()["body"].as_string());
  for (const char* v : kSeededValues) EXPECT_EQ(sent.find(v), std::string::npos) << v << " in " << sent;
  EXPECT_NE(sent.find("[NAME_1]"), std::string::npos) << sent;
  EXPECT_EQ(ClientText(r, p.anthropic_client, p.stream), "ECHO: " + prompt) << r.body;
}

INSTANTIATE_TEST_SUITE_P(
    Routes, DeidentifiedFallbackOnEveryRoute,
    ::testing::Values(DeidCase{"OpenAIClientToClaude", false, "claude-fallback", false},
                      DeidCase{"OpenAIClientToClaudeStreamed", false, "claude-fallback", true},
                      DeidCase{"AnthropicClientToClaude", true, "claude-fallback", false},
                      DeidCase{"AnthropicClientToClaudeStreamed", true, "claude-fallback", true},
                      DeidCase{"AnthropicClientToOpenAI", true, "eu-deid", false},
                      DeidCase{"AnthropicClientToOpenAIStreamed", true, "eu-deid", true},
                      DeidCase{"OpenAIClientToBedrock", false, "bedrock-deid", false},
                      DeidCase{"OpenAIClientToBedrockStreamed", false, "bedrock-deid", true},
                      DeidCase{"AnthropicClientToBedrockStreamed", true, "bedrock-deid", true},
                      DeidCase{"HeldBackTailAnthropicStream", true, "claude-fallback", true, " [NAME_"},
                      DeidCase{"HeldBackTailTranslatedStream", false, "claude-fallback", true, " [NAME_"},
                      DeidCase{"HeldBackTailOpenAIStream", false, "eu-deid", true, " [NAME_"}),
    [](const ::testing::TestParamInfo<DeidCase>& info) { return std::string(info.param.name); });

TEST(GatewayPolicy, StaleAttestationBlocks) {
  Harness::Options o;
  o.tenant_yaml = "tenant:\n  id: t1\n  contracts:\n    - { id: C, vendor: openai, effective_date: \"2025-01-01\" }\n"
                  "  attestations:\n    - { vendor: openai, retention: zero_data_retention, source: verified, verified_at: \"" +
                  Harness::NowRfc3339(-3 * 86400) + "\" }\n";
  Harness h(o);
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("x"));
  ASSERT_EQ(r.status, 403u) << r.body;
  EXPECT_THAT(Reasons(r), Contains("ATTESTATION_STALE"));
}

TEST(GatewayPolicy, MetricsShowDecisionsAndTheConfigurationHash) {
  Harness h;
  h.metrics().SetConfigInfo(h.gateway_state().current()->policy().config_hash(),
                            h.gateway_state().current()->policy().registry().sha256, false);
  Client c(h.gateway());
  ASSERT_EQ(c.Send(verb::post, "/v1/chat/completions", ChatBody("x")).status, 200u);
  ASSERT_EQ(c.Send(verb::post, "/v1/chat/completions", ChatBody("x", false, "", "eu-model")).status, 403u);
  Client m(h.admin());
  auto r = m.Send(verb::get, "/metrics", "", "", "");
  EXPECT_THAT(r.body, HasSubstr("baagate_policy_decisions_total{decision=\"allow\"} 1"));
  EXPECT_THAT(r.body, HasSubstr("baagate_policy_decisions_total{decision=\"block\"} 1"));
  EXPECT_THAT(r.body, HasSubstr("baagate_config_info{config_hash=\"" +
                                    h.gateway_state().current()->policy().config_hash()));
  EXPECT_THAT(r.body, HasSubstr("baagate_config_drift 0"));
}

TEST(GatewayPolicy, PinnedBaselineRefusesADriftedConfiguration) {
  Harness h;
  auto cfg = config::ParseConfig(h.yaml() + "policy:\n  baseline_hash: " + std::string(64, 'a') +
                                     "\n  on_drift: refuse\n", "drift.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  auto snap = pipeline::Snapshot::Build(*cfg);
  ASSERT_FALSE(snap.ok());
  EXPECT_THAT(snap.status().message(), HasSubstr("differs from the approved baseline"));
  // warn: builds, and says so.
  auto warn = config::ParseConfig(h.yaml() + "policy:\n  baseline_hash: " + std::string(64, 'a') + "\n", "drift.yaml");
  auto warned = pipeline::Snapshot::Build(*warn);
  ASSERT_TRUE(warned.ok());
  EXPECT_TRUE((*warned)->drift());
  // The right baseline: no drift.
  auto pinned = config::ParseConfig(h.yaml() + "policy:\n  baseline_hash: " +
                                        (*warned)->policy().config_hash() + "\n  on_drift: refuse\n",
                                    "pinned.yaml");
  auto ok = pipeline::Snapshot::Build(*pinned);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_FALSE((*ok)->drift());
}

}  // namespace
}  // namespace baagate::testing
