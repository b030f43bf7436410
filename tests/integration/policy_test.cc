// The policy engine in the gateway: one test per decision kind, through the fake vendor.
#include <gmock/gmock.h>

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
  // fallback, and the app allows it: the decision is allow_deidentified. This build has no
  // de-identifier wired into the gateway, so the call is refused rather than sent with PHI.
  Harness h;
  Client c(h.gateway());
  const std::size_t before = VendorRequests(h);
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("x", false, "", "claude-fallback"));
  ASSERT_EQ(r.status, 403u) << r.body;
  EXPECT_THAT(Reasons(r), Contains("NO_BAA:anthropic"));
  EXPECT_THAT(Reasons(r), Contains("DEID_UNAVAILABLE"));
  EXPECT_EQ(VendorRequests(h), before);
}

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
