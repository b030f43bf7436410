#include "audit/record.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "audit/chain.h"
#include "audit/checkpoint.h"
#include "audit/jcs.h"

namespace baagate::audit {
namespace {

TEST(AuditJcs, SortsKeysAndEscapesPerRfc8785) {
  auto v = boost::json::parse(R"({"b":[1,true,null],"a":{"z":"x\ny","\u00e9":0}})");
  // Non-ASCII keys are refused (the schema never has them).
  EXPECT_FALSE(CanonicalJson(v).ok());
  v = boost::json::parse(R"({"b":[1,true,null],"a":{"z":"q\"\\\u0001\u00e9","c":-5}})");
  auto s = CanonicalJson(v);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "{\"a\":{\"c\":-5,\"z\":\"q\\\"\\\\\\u0001\xc3\xa9\"},\"b\":[1,true,null]}");
}

TEST(AuditJcs, RefusesFloatsAndUnsafeIntegers) {
  EXPECT_FALSE(CanonicalJson(boost::json::value(1.5)).ok());
  EXPECT_FALSE(CanonicalJson(boost::json::value(std::uint64_t{1} << 60)).ok());
  EXPECT_TRUE(CanonicalJson(boost::json::value(std::int64_t{1} << 53)).ok());
}

TEST(AuditId, AcceptsOpaqueIdentifiers) {
  for (const char* s : {"tenant-a", "gpt-4o-mini", "10.1.2.0/24", "req_0123abcd",
                        "bedrock-runtime.us-east-1.amazonaws.com", "2001:db8:1::/48"}) {
    EXPECT_TRUE(Id::Parse(s).ok()) << s;
  }
}

// Canary: PHI-looking strings can never enter a record, because no field takes free text.
TEST(AuditId, RefusesPhiShapedAndFreeText) {
  for (const char* s : {"John Smith", "john.smith@example.com", "123-45-6789", "SSN123-45-6789",
                        "555-867-5309", "1980-02-29", "02/29/1980", "patient has diabetes",
                        "MRN: 12345", "\"quoted\"", "", "line\nbreak"}) {
    EXPECT_FALSE(Id::Parse(s).ok()) << s;
    EXPECT_FALSE(Code::Parse(s).ok()) << s;
  }
  EXPECT_FALSE(Id::Parse(std::string(129, 'a')).ok());
}

TEST(AuditRecord, DecisionJsonHoldsOnlySchemaFields) {
  DecisionRecord r;
  r.event_id = "0190f5a2-7b3c-7d4e-8f00-112233445566";
  r.tenant_id = *Id::Parse("tenant-a");
  r.provider = *Id::Parse("openai");
  r.endpoint_path = *Id::Parse("/v1/chat/completions");
  r.phi_findings[*Code::Parse("NAME")] = 3;
  r.baa_effective_date = 20250101;
  r.decision = Decision::kAllowDeidentified;
  r.baa_in_scope = BaaScope::kConditionalMet;
  auto enc = ToCanonical(r);
  ASSERT_TRUE(enc.ok());
  std::string text = std::move(*enc).Finish();
  auto parsed = boost::json::parse(text);
  // The fast encoder agrees with the generic JCS encoder.
  EXPECT_EQ(*CanonicalJson(parsed), text);
  auto* o = &parsed.as_object();
  EXPECT_EQ((*o)["schema_version"], "baagate.audit/1");
  EXPECT_EQ((*o)["phase"], "decision");
  EXPECT_EQ((*o)["endpoint"], "POST /v1/chat/completions");
  EXPECT_EQ((*o)["decision"], "allow_deidentified");
  EXPECT_EQ((*o)["baa_in_scope"], "conditional_met");
  EXPECT_EQ((*o)["baa_effective_date"], "2025-01-01");
  EXPECT_EQ((*o)["phi_findings"].at("NAME"), 3);
  r.event_id = "not a uuid";
  EXPECT_FALSE(ToCanonical(r).ok());
}

TEST(AuditRecord, EveryFieldEncodesCanonically) {
  // ToCanonical adds members in key order and writes arrays and maps straight into the object;
  // with every field set, the result must equal the generic JCS encoding of itself.
  auto id = [](std::string_view s) { return *Id::Parse(s); };
  auto code = [](std::string_view s) { return *Code::Parse(s); };
  DecisionRecord d;
  d.event_id = "0190f5a2-7b3c-7d4e-8f00-112233445566";
  d.request_id = id("req-1");
  d.tenant_id = id("tenant-a");
  d.app_id = id("scribe");
  d.purpose_id = id("treatment");
  d.actor_ref = id("Qm9i");
  d.actor_role = code("clinician");
  d.actor_type = ActorType::kWorkforce;
  d.client_net = id("10.1.2.0/24");
  d.auth_method = AuthMethod::kMtls;
  d.credential_ref = id("key-1");
  d.provider = id("openai");
  d.api_surface = code("openai.chat_completions");
  d.endpoint_method = HttpMethod::kPut;
  d.endpoint_path = id("/v1/files");
  d.model_requested = id("gpt-4o");
  d.upstream_host = id("api.openai.com");
  d.region = id("us-east-1");
  d.deployment_type = code("global");
  d.stream = true;
  d.features = {code("text"), code("tools")};
  d.modalities_in = {Modality::kText, Modality::kImage};
  d.modalities_out = {Modality::kAudio};
  d.baa_contract_id = id("baa-7");
  d.baa_effective_date = 20250101;
  d.registry_version = core::Sha256("registry");
  d.registry_rule_id = code("openai.chat");
  d.baa_in_scope = BaaScope::kNotCovered;
  d.scope_reasons = {code("FEATURE_NOT_LISTED:web_fetch")};
  d.subprocessor_chain = {id("openai"), id("azure")};
  d.config_retention = code("zero");
  d.config_checked_at_ms = 1790000000123;
  d.config_flags[code("zdr")] = true;
  d.config_flags[code("abuse_monitoring")] = false;
  d.enforcement_actions = {code("deidentify")};
  d.deid_method = code("safe_harbor");
  d.deid_ruleset_version = id("v3");
  d.phi_findings[code("NAME")] = 2;
  d.phi_findings[code("DATE")] = 1;
  d.residual_risk_flags = {code("low_confidence")};
  d.policy_version = core::Sha256("policy");
  d.config_hash = core::Sha256("config");
  d.decision = Decision::kBlock;
  auto enc = ToCanonical(d);
  ASSERT_TRUE(enc.ok());
  std::string text = std::move(*enc).Finish();
  EXPECT_EQ(*CanonicalJson(boost::json::parse(text)), text);
  EXPECT_NE(text.find(R"("endpoint":"PUT /v1/files")"), std::string::npos);
  EXPECT_NE(text.find(R"("config_flags":{"abuse_monitoring":false,"zdr":true})"),
            std::string::npos);

  OutcomeRecord o;
  o.event_id = "0190f5a2-7b3c-7d4e-8f00-112233445567";
  o.decision_event_id = d.event_id;
  o.request_id = id("req-1");
  o.tenant_id = id("tenant-a");
  o.app_id = id("scribe");
  o.provider = id("openai");
  o.model_served = *Id::ParseModel("gpt-4o-2024-08-06");
  o.status = OutcomeStatus::kClientDisconnected;
  o.http_status = 200;
  o.upstream_status = 200;
  o.error_class = code("client_gone");
  o.finish_reason = code("stop");
  o.usage = {12, 34, 5, 6, UsageSource::kEstimated};
  o.bytes_in = 100;
  o.bytes_out = 512;
  o.stream_events = 9;
  o.latency_ms = 40;
  o.ttfb_ms = 10;
  o.upstream_request_id = id("chatcmpl-1");
  auto out = ToCanonical(o);
  ASSERT_TRUE(out.ok());
  text = std::move(*out).Finish();
  EXPECT_EQ(*CanonicalJson(boost::json::parse(text)), text);
}

TEST(AuditJcs, EscapesAtEveryPositionOfLongStrings) {
  // The plain-string check looks at eight bytes at a time; a character that needs escaping
  // must be found wherever it sits, and UTF-8 bytes are left alone.
  for (std::string_view special : {"\"", "\\", "\x01", "\x1f", "\xc3\xa9"}) {
    for (std::size_t at = 0; at <= 24; ++at) {
      std::string s(24, 'a');
      s.insert(at, special);
      std::string expected = "\"" + s.substr(0, at);
      if (special == "\"") expected += "\\\"";
      else if (special == "\\") expected += "\\\\";
      else if (special == "\x01") expected += "\\u0001";
      else if (special == "\x1f") expected += "\\u001f";
      else expected += special;
      expected += s.substr(at + special.size()) + "\"";
      std::string out;
      AppendJcsString(s, out);
      EXPECT_EQ(out, expected) << "at " << at;
    }
  }
}

TEST(AuditJcs, FinishReportsWhereValuesStart) {
  CanonicalObject o;
  o.Str("b", "x");
  o.Uint("a", 7);
  o.Sort();
  o.InsertStr("c", "yz");
  std::size_t at[3];
  std::string text = std::move(o).Finish({"a", "c", "missing"}, at, 8);
  EXPECT_EQ(text, R"({"a":7,"b":"x","c":"yz"})");
  EXPECT_EQ(text.substr(at[0], 1), "7");
  EXPECT_EQ(text.substr(at[1], 4), R"("yz")");
  EXPECT_EQ(at[2], std::string::npos);
  EXPECT_GE(text.capacity(), text.size() + 8);
}

TEST(AuditRecord, RecordHashFollowsTheSpecifiedConstruction) {
  core::Sha256Digest prev{};
  std::string body = R"({"a":1})";
  std::string input = std::string("baagate-audit-v1") + '\0' + std::string(32, '\0') + body;
  EXPECT_EQ(RecordHash(prev, body), core::Sha256(input));
}

TEST(AuditTimestamp, FormatsAndParsesMilliseconds) {
  EXPECT_EQ(FormatTimestampMs(1790000000123), "2026-09-21T14:13:20.123Z");
  EXPECT_EQ(ParseTimestampMs("2026-09-21T14:13:20.123Z"), 1790000000123);
  EXPECT_EQ(ParseTimestampMs("1970-01-02"), 86400000);
  EXPECT_FALSE(ParseTimestampMs("yesterday"));
}

TEST(AuditCheckpoint, SignedNoteRoundTripsAndRejectsTampering) {
  auto key = SigningKey::Generate("baagate.example/test");
  ASSERT_TRUE(key.ok());
  Checkpoint cp;
  cp.origin = "baagate.example/test";
  cp.tree_size = 42;
  cp.root[0] = 7;
  cp.chain_head[1] = 9;
  cp.ts_ms = 1790000000000;
  std::string note = key->Sign(cp);
  EXPECT_EQ(note.substr(0, cp.Body().size()), cp.Body());
  EXPECT_NE(note.find("\n\n\xe2\x80\x94 baagate.example/test "), std::string::npos);
  auto pub = PublicKey::Parse(key->public_key().ToString());
  ASSERT_TRUE(pub.ok());
  auto opened = OpenCheckpoint(note, *pub);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->tree_size, 42u);
  EXPECT_EQ(opened->root, cp.root);
  EXPECT_EQ(opened->chain_head, cp.chain_head);

  std::string forged = note;
  forged.replace(forged.find("\n42\n"), 4, "\n43\n");
  EXPECT_FALSE(OpenCheckpoint(forged, *pub).ok());
  auto other = SigningKey::Generate("baagate.example/test");
  EXPECT_FALSE(OpenCheckpoint(note, other->public_key()).ok());
}

TEST(Id, ModelSnapshotSuffixIsNotADateAboutAPerson) {
  EXPECT_FALSE(Id::Parse("gpt-4o-2024-08-06").ok());
  EXPECT_EQ(Id::ParseModel("gpt-4o-2024-08-06")->str(), "gpt-4o-2024-08-06");
  EXPECT_TRUE(Id::ParseModel("claude-3-5-sonnet-20241022").ok());
  // Only a trailing suffix is exempt; other shapes and characters are still refused.
  EXPECT_FALSE(Id::ParseModel("123-45-6789-2024-08-06").ok());
  EXPECT_FALSE(Id::ParseModel("2024-08-06-gpt").ok());
  EXPECT_FALSE(Id::ParseModel("gpt 4o-2024-08-06").ok());
}

}  // namespace
}  // namespace baagate::audit
