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
