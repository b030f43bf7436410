// The gateway with an audit log: two chained, PHI-free records per call that `verify` accepts,
// and fail-closed behaviour when the decision record cannot be written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "audit/sqlite_store.h"
#include "audit/verify.h"
#include "core/uuid.h"
#include "harness.h"

namespace baagate::testing {
namespace {

namespace fs = std::filesystem;

class GatewayAudit : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("baagate-gw-audit-" + core::NewUuidV7());
    fs::create_directories(dir_);
    auto store = audit::OpenSqliteStore(db());
    ASSERT_TRUE(store.ok());
    audit::AuditLogOptions o;
    o.log_id = "it/gw";
    o.key_file = (dir_ / "audit.key").string();
    auto log = audit::AuditLog::Open(std::move(store).value(), o);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
  }
  void TearDown() override {
    log_.reset();
    fs::remove_all(dir_);
  }
  std::string db() const { return (dir_ / "audit.db").string(); }

  std::vector<audit::StoredRecord> Records(std::size_t at_least) {
    std::vector<audit::StoredRecord> out;
    for (int i = 0; i < 200; ++i) {  // outcome records are written just after the response
      out.clear();
      auto store = audit::OpenSqliteStore(db());
      EXPECT_TRUE((*store)->Scan("it/gw", 0, [&](const audit::StoredRecord& r) {
        out.push_back(r);
        return true;
      }).ok());
      if (out.size() >= at_least) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return out;
  }

  fs::path dir_;
  std::unique_ptr<audit::AuditLog> log_;
};

// A tenant with a BAA and a verified retention attestation for each {contract, vendor,
// retention}, in the US regions.
struct VendorTerms {
  const char* contract;
  const char* vendor;
  const char* retention;
};
std::string TenantWith(std::initializer_list<VendorTerms> vendors) {
  std::string contracts, attestations;
  for (const VendorTerms& v : vendors) {
    contracts += std::string("    - { id: ") + v.contract + ", vendor: " + v.vendor +
                 ", effective_date: \"2025-01-01\" }\n";
    attestations += std::string("    - { vendor: ") + v.vendor + ", retention: " + v.retention +
                    ", source: verified, verified_at: \"{NOW}\" }\n";
  }
  return "tenant:\n  id: t1\n  contracts:\n" + contracts + "  attestations:\n" + attestations +
         "  allowed_regions: [us, \"eastus*\"]\napps:\n  - { id: a1, purpose: treatment }\n";
}

TEST_F(GatewayAudit, EachCallLeavesADecisionAndAnOutcomeRecordThatVerify) {
  {
    Harness::Options opts;
    opts.audit = log_.get();
    Harness h(opts);
    Client c(h.gateway());
    auto ok = c.Send(bhttp::verb::post, "/v1/chat/completions",
                     ChatBody("Patient John Smith, SSN 123-45-6789, has diabetes"));
    EXPECT_EQ(ok.status, 200u) << ok.body;
    auto streamed = c.Send(bhttp::verb::post, "/v1/chat/completions", ChatBody("hello", true));
    EXPECT_EQ(streamed.status, 200u);
    auto records = Records(4);
    ASSERT_EQ(records.size(), 4u);
  }
  log_->Close();
  auto records = Records(4);
  EXPECT_EQ(records[0].phase, "decision");
  EXPECT_EQ(records[1].phase, "outcome");
  EXPECT_NE(records[1].body.find("\"decision_event_id\":\"" + records[0].event_id + "\""),
            std::string::npos);
  EXPECT_NE(records[1].body.find("\"status\":\"success\""), std::string::npos);
  EXPECT_NE(records[0].body.find("\"decision\":\"allow\""), std::string::npos);
  EXPECT_NE(records[3].body.find("\"stream_events\":"), std::string::npos);
  // COMPLIANCE.md §4 fields 9, 11, 14: the client's network (never its address), a keyed actor
  // pseudonym, and the model the vendor says served the call (stream and non-stream).
  EXPECT_NE(records[0].body.find("\"client_net\":\"127.0.0.0/24\""), std::string::npos);
  EXPECT_NE(records[0].body.find("\"actor_ref\":\""), std::string::npos);
  EXPECT_NE(records[1].body.find("\"model_served\":\""), std::string::npos) << records[1].body;
  EXPECT_NE(records[3].body.find("\"model_served\":\""), std::string::npos) << records[3].body;
  for (const auto& r : records) {
    EXPECT_EQ(r.body.find("John"), std::string::npos);
    EXPECT_EQ(r.body.find("123-45-6789"), std::string::npos);
    EXPECT_EQ(r.body.find("diabetes"), std::string::npos);
  }
  auto store = audit::OpenSqliteStore(db());
  auto key = audit::PublicKey::Load((dir_ / "audit.key.pub").string());
  audit::VerifyOptions vo;
  vo.key = &*key;
  auto v = audit::VerifyLog(**store, "it/gw", vo);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->records, 4u);
  EXPECT_EQ(v->unsigned_tail, 0u);
}

TEST_F(GatewayAudit, ModelServedComesFromAnthropicShapedAnswersToo) {
  // Claude on Bedrock: the vendor's answer is an Anthropic message ("model"), translated to the
  // OpenAI client's dialect, plain and streamed (message_start carries the model).
  {
    Harness::Options opts;
    opts.audit = log_.get();
    opts.tenant_yaml = TenantWith(
        {{"BAA-AWS-TEST", "aws", "none"}});
    Harness h(opts);
    Client c(h.gateway());
    for (bool stream : {false, true}) {
      auto r = c.Send(bhttp::verb::post, "/v1/chat/completions",
                      ChatBody("hello", stream, "", "claude-bedrock"));
      ASSERT_EQ(r.status, 200u) << r.body;
    }
    ASSERT_EQ(Records(4).size(), 4u);
  }
  log_->Close();
  for (const auto& r : Records(4)) {
    if (r.phase != "outcome") continue;
    EXPECT_NE(r.body.find("\"model_served\":\"anthropic.claude"), std::string::npos) << r.body;
  }
}

TEST_F(GatewayAudit, AFailedOverAttemptHasItsOwnDecisionAndOutcome) {
  fake_vendor::Options failing;
  failing.fault_rate_500 = 1.0;
  ExtraVendor bad(failing);
  std::string backup_host;
  {
    Harness::Options opts;
    opts.audit = log_.get();
    opts.extra_upstreams_yaml = bad.UpstreamYaml("bad");
    opts.extra_routes_yaml =
        "  - { model: fo, upstream: bad }\n"
        "  - { model: fo, name: fo-backup, upstream: fake }\n";
    opts.extra_key_models = ", fo";
    Harness h(opts);
    backup_host = "127.0.0.1:" + std::to_string(h.fake().port());
    Client c(h.gateway());
    auto r = c.Send(bhttp::verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo"));
    EXPECT_EQ(r.status, 200u) << r.body;
    ASSERT_EQ(Records(4).size(), 4u);
  }
  log_->Close();
  auto records = Records(4);
  ASSERT_EQ(records.size(), 4u);
  // decision (primary) → outcome error, upstream 500 → decision (backup) → outcome success
  EXPECT_EQ(records[0].phase, "decision");
  EXPECT_EQ(records[1].phase, "outcome");
  EXPECT_NE(records[1].body.find("\"decision_event_id\":\"" + records[0].event_id + "\""),
            std::string::npos);
  EXPECT_NE(records[1].body.find("\"status\":\"error\""), std::string::npos) << records[1].body;
  EXPECT_NE(records[1].body.find("500"), std::string::npos) << records[1].body;
  EXPECT_EQ(records[2].phase, "decision");
  // Each decision names the upstream it was made for.
  EXPECT_NE(records[0].body.find("127.0.0.1:" + std::to_string(bad.port())), std::string::npos)
      << records[0].body;
  EXPECT_NE(records[2].body.find(backup_host), std::string::npos) << records[2].body;
  EXPECT_NE(records[3].body.find("\"decision_event_id\":\"" + records[2].event_id + "\""),
            std::string::npos);
  EXPECT_NE(records[3].body.find("\"status\":\"success\""), std::string::npos);
  auto store = audit::OpenSqliteStore(db());
  auto key = audit::PublicKey::Load((dir_ / "audit.key.pub").string());
  audit::VerifyOptions vo;
  vo.key = &*key;
  auto v = audit::VerifyLog(**store, "it/gw", vo);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->problem;
}

TEST_F(GatewayAudit, AStreamThatStallsAndAnOversizedAnswerGetTheRightStatus) {
  {
    Harness::Options opts;
    opts.audit = log_.get();
    opts.extra_upstream_yaml = "    idle_timeout_ms: 300\n    max_response_bytes: 2048\n";
    Harness h(opts);
    Client c(h.gateway());
    // The vendor sends the stream head and a chunk, then nothing for 5 s: an upstream timeout.
    auto stalled = c.Send(bhttp::verb::post, "/v1/chat/completions",
                          ChatBody("stall [[fake:chunk-delay=5000]]", true));
    EXPECT_EQ(stalled.status, 200u);
    EXPECT_NE(stalled.body.find("upstream_timeout"), std::string::npos) << stalled.body;
    EXPECT_EQ(stalled.body.find("[DONE]"), std::string::npos);
    // An answer larger than max_response_bytes: 502, recorded as an error.
    Client c2(h.gateway());
    auto big = c2.Send(bhttp::verb::post, "/v1/chat/completions", ChatBody(std::string(4096, 'x')));
    EXPECT_EQ(big.status, 502u) << big.body;
    ASSERT_EQ(Records(4).size(), 4u);
  }
  log_->Close();
  auto records = Records(4);
  ASSERT_EQ(records.size(), 4u);
  // Outcome records are queued when a call ends, so the second call's decision may come
  // before the first call's outcome: pair them by decision_event_id, not by position.
  auto outcome_of = [&](const audit::StoredRecord& decision) -> std::string {
    for (const auto& r : records) {
      if (r.phase == "outcome" &&
          r.body.find("\"decision_event_id\":\"" + decision.event_id + "\"") != std::string::npos) {
        return r.body;
      }
    }
    return "";
  };
  std::vector<const audit::StoredRecord*> decisions;
  for (const auto& r : records) {
    if (r.phase == "decision") decisions.push_back(&r);
  }
  ASSERT_EQ(decisions.size(), 2u);
  ASSERT_NE(decisions[0]->body.find("\"stream\":true"), std::string::npos) << decisions[0]->body;
  const std::string stalled = outcome_of(*decisions[0]);
  const std::string big = outcome_of(*decisions[1]);
  EXPECT_NE(stalled.find("\"status\":\"upstream_timeout\""), std::string::npos) << stalled;
  EXPECT_NE(big.find("\"status\":\"error\""), std::string::npos) << big;
  EXPECT_NE(big.find("502"), std::string::npos) << big;
}

TEST_F(GatewayAudit, AzureContentFilterResultsAreRecordedAsContentFilterTriggered) {
  {
    Harness::Options opts;
    opts.audit = log_.get();
    opts.tenant_yaml = TenantWith({{"BAA-OPENAI-TEST", "openai", "zero_data_retention"},
                                   {"BAA-MICROSOFT-TEST", "microsoft", "abuse_monitoring_off"}});
    Harness h(opts);
    Client c(h.gateway());
    // A prompt Azure's filter blocks (400), then a completion it filters (finish_reason).
    auto blocked = c.Send(bhttp::verb::post, "/v1/chat/completions",
                          ChatBody("x [[fake:content-filter]]", false, "", "azure-gpt"));
    EXPECT_EQ(blocked.status, 400u) << blocked.body;
    Client c2(h.gateway());
    auto filtered = c2.Send(bhttp::verb::post, "/v1/chat/completions",
                            ChatBody("x [[fake:filtered-completion]]", false, "", "azure-gpt"));
    EXPECT_EQ(filtered.status, 200u) << filtered.body;
    ASSERT_EQ(Records(4).size(), 4u);
  }
  log_->Close();
  int filtered_outcomes = 0;
  for (const auto& r : Records(4)) {
    if (r.phase != "outcome") continue;
    filtered_outcomes += r.body.find("\"status\":\"content_filter_triggered\"") != std::string::npos;
  }
  EXPECT_EQ(filtered_outcomes, 2);
}

TEST_F(GatewayAudit, RefusesTheCallWhenTheDecisionRecordCannotBeWritten) {
  Harness::Options opts;
  opts.audit = log_.get();
  Harness h(opts);
  // Another writer takes this chain's next position, so the gateway's commit fails.
  {
    auto store = audit::OpenSqliteStore(db());
    audit::StoredRecord intruder;
    intruder.log_id = "it/gw";
    intruder.seq = 0;
    intruder.event_id = core::NewUuidV7();
    intruder.phase = "decision";
    intruder.body = "{}";
    ASSERT_TRUE((*store)->Append({intruder}, audit::Durability::kDefault).ok());
  }
  Client c(h.gateway());
  auto r = c.Send(bhttp::verb::post, "/v1/chat/completions", ChatBody("hello"));
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_EQ(r.Json().at("error").at("code"), "audit_unavailable");
  EXPECT_TRUE(h.LastVendorRequest().empty()) << "the call must not reach the vendor";
}

}  // namespace
}  // namespace baagate::testing

namespace baagate::testing {
namespace {

TEST_F(GatewayAudit, DeidentifiedCallRecordsSafeHarborAndFindingCountsButNoText) {
  {
    Harness::Options opts;
    opts.audit = log_.get();
    Harness h(opts);
    Client c(h.gateway());
    auto r = c.Send(bhttp::verb::post, "/v1/chat/completions",
                    ChatBody("Patient John Smith, MRN 48213977, seen 03/14/2026.", false, "", "eu-deid"));
    ASSERT_EQ(r.status, 200u) << r.body;
    ASSERT_GE(Records(2).size(), 2u);
  }
  log_->Close();
  auto records = Records(2);
  const std::string& decision = records[0].body;
  EXPECT_NE(decision.find("\"decision\":\"allow_deidentified\""), std::string::npos) << decision;
  EXPECT_NE(decision.find("\"deid_method\":\"safe_harbor_rules\""), std::string::npos) << decision;
  EXPECT_NE(decision.find("\"NAME\":1"), std::string::npos) << decision;
  EXPECT_NE(decision.find("REGION_NOT_ALLOWED"), std::string::npos) << decision;
  for (const auto& rec : records) {
    for (const char* v : {"John", "Smith", "48213977", "03/14/2026"}) {
      EXPECT_EQ(rec.body.find(v), std::string::npos) << v << " in " << rec.body;
    }
  }
}

}  // namespace
}  // namespace baagate::testing
