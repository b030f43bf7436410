#include "audit/verify.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace baagate::audit {
namespace {

// A decision record as the writer stores it (synthetic values), with the columns it implies.
constexpr std::string_view kBody =
    R"({"actor_ref":"Qm9iX2lzX25vdF9hX3VzZXI","actor_type":"unknown","api_surface":)"
    R"("openai.chat_completions","app_id":"scribe","auth_method":"api_key","baa_in_scope":)"
    R"("covered","config_flags":{},"config_hash":)"
    R"("b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910","credential_ref":)"
    R"("key-1","decision":"allow","endpoint":"POST /v1/chat/completions","enforcement_actions":)"
    R"([],"event_id":"01a2062c-6aaa-7515-b626-592f0ec3bd60","features":["text","tools"],)"
    R"("log_id":"bench","modalities_in":["text"],"modalities_out":["text"],"model_requested":)"
    R"("gpt-4o","phase":"decision","phi_findings":{"DATE":1,"NAME":2},"policy_version":)"
    R"("823412d1eacb67956220e532959f0104603057c88704863ca38e7cd188fda812","prev_hash":)"
    R"("00000000000000000000000000000000000000000000000000000000000000ff","provider":"openai",)"
    R"("purpose_id":"treatment","request_id":"req-0","residual_risk_flags":[],"schema_version":)"
    R"("baagate.audit/1","scope_reasons":[],"seq":12,"stream":false,"subprocessor_chain":[],)"
    R"("tenant_id":"tenant-a","ts":"2026-11-23T02:11:43.915Z","upstream_host":"api.openai.com"})";

StoredRecordView Row(std::string_view body) {
  StoredRecordView r;
  r.log_id = "bench";
  r.seq = 12;
  r.event_id = "01a2062c-6aaa-7515-b626-592f0ec3bd60";
  r.phase = "decision";
  r.ts_ms = 1795399903915;  // 2026-11-23T02:11:43.915Z
  r.prev_hash[31] = 0xff;
  r.body = body;
  return r;
}

TEST(VerifyRowMismatch, AcceptsAWriterBodyAndNamesTheColumnThatDiffers) {
  EXPECT_EQ(RowMismatch(Row(kBody)), nullptr);
  auto r = Row(kBody);
  r.phase = "outcome";
  ASSERT_NE(RowMismatch(r), nullptr);
  EXPECT_NE(std::string(RowMismatch(r)).find("phase"), std::string::npos);
  r = Row(kBody);
  r.seq = 13;
  ASSERT_NE(RowMismatch(r), nullptr);
  EXPECT_NE(std::string(RowMismatch(r)).find("seq"), std::string::npos);
}

TEST(VerifyRowMismatch, RejectsBodiesWithoutTheFieldsTheColumnsRepeat) {
  const std::string body(kBody);
  auto without = [&](std::string_view member) {
    std::string b = body;
    const auto pos = b.find(member);
    EXPECT_NE(pos, std::string::npos) << member;
    b.erase(pos, member.size());
    return b;
  };
  const std::string canonical = "not a canonical";
  for (std::string_view member :
       {std::string_view(R"("seq":12,)"), std::string_view(R"("phase":"decision",)"),
        std::string_view(R"("ts":"2026-11-23T02:11:43.915Z",)"),
        std::string_view(R"("log_id":"bench",)"),
        std::string_view(R"("event_id":"01a2062c-6aaa-7515-b626-592f0ec3bd60",)")}) {
    const std::string b = without(member);
    const char* problem = RowMismatch(Row(b));
    ASSERT_NE(problem, nullptr) << member;
    EXPECT_NE(std::string(problem).find(canonical), std::string::npos) << member;
  }
  // A key of interest whose value is not a string, an unpaired quote, a cut-off body.
  std::string b = body;
  b.replace(b.find(R"("decision","phi)"), 10, "7");
  EXPECT_NE(RowMismatch(Row(b)), nullptr);
  b = body;
  b.insert(b.find("bench") + 2, "\"");
  EXPECT_NE(RowMismatch(Row(b)), nullptr);
  EXPECT_NE(RowMismatch(Row(body.substr(0, body.size() / 2))), nullptr);
  EXPECT_NE(RowMismatch(Row("{}")), nullptr);
  EXPECT_NE(RowMismatch(Row("")), nullptr);
}

// The ts column is checked by formatting it as the writer does, across the range of four-digit
// years and on either side of 1970.
TEST(VerifyRowMismatch, ComparesTheTimestampAcrossItsRange) {
  const std::string body(kBody);
  const std::string_view writer_ts = "2026-11-23T02:11:43.915Z";
  const std::size_t at = body.find(writer_ts);
  ASSERT_NE(at, std::string::npos);
  const std::pair<std::string_view, std::int64_t> cases[] = {
      {"1969-12-31T23:59:59.999Z", -1},
      {"1970-01-01T00:00:00.000Z", 0},
      {"0000-01-01T00:00:00.000Z", -62167219200000},
      {"9999-12-31T23:59:59.999Z", 253402300799999},
      {"2024-02-29T12:00:00.001Z", 1709208000001},
      {"1900-03-01T00:00:00.000Z", -2203891200000},
  };
  for (const auto& [text, ms] : cases) {
    std::string b = body;
    b.replace(at, writer_ts.size(), text);
    auto r = Row(b);
    r.ts_ms = ms;
    EXPECT_EQ(RowMismatch(r), nullptr) << text;
    EXPECT_EQ(RowMismatchPortable(r), nullptr) << text;
    for (std::int64_t off : {-1, 1, 86400000}) {
      r.ts_ms = ms + off;
      EXPECT_NE(RowMismatch(r), nullptr) << text << off;
    }
  }
  auto r = Row(kBody);
  r.ts_ms = 253402300800000;  // year 10000: not four digits
  EXPECT_NE(RowMismatch(r), nullptr);
  r.ts_ms = std::numeric_limits<std::int64_t>::min();
  EXPECT_NE(RowMismatch(r), nullptr);
}

// Every key at every offset within the 64-byte blocks the check reads the body in (the
// actor_ref value grows a byte at a time), and a body past the 4 KB the check keeps on the
// stack: the writer's form always passes, and a changed column is always named. Both the
// code picked at run time and the portable one.
TEST(VerifyRowMismatch, FindsTheFieldsWhereverTheBlocksCutTheBody) {
  const std::string body(kBody);
  const std::size_t at = body.find("Qm9iX2");
  std::vector<std::size_t> pads;
  for (std::size_t pad = 0; pad <= 130; ++pad) pads.push_back(pad);
  pads.push_back(5000);
  for (std::size_t pad : pads) {
    std::string b = body;
    b.insert(at, std::string(pad, 'A'));
    for (auto check : {&RowMismatchPortable, +[](const StoredRecordView& v) {
                         return RowMismatch(v);
                       }}) {
      EXPECT_EQ(check(Row(b)), nullptr) << pad;
      auto r = Row(b);
      r.event_id = "01a2062c-6aaa-7515-b626-592f0ec3bd61";
      EXPECT_NE(std::string(check(r) ? check(r) : "").find("event_id"), std::string::npos) << pad;
      r = Row(b);
      r.log_id = "benc";
      EXPECT_NE(std::string(check(r) ? check(r) : "").find("log_id"), std::string::npos) << pad;
      r = Row(b);
      r.phase = "decisions";
      EXPECT_NE(std::string(check(r) ? check(r) : "").find("phase"), std::string::npos) << pad;
      r = Row(b);
      r.prev_hash[0] = 0xa0;
      EXPECT_NE(std::string(check(r) ? check(r) : "").find("prev_hash"), std::string::npos) << pad;
      r = Row(b);
      r.ts_ms += 1;
      EXPECT_NE(std::string(check(r) ? check(r) : "").find("ts_ms"), std::string::npos) << pad;
      r = Row(b);
      r.seq = 1;
      EXPECT_NE(std::string(check(r) ? check(r) : "").find("seq"), std::string::npos) << pad;
    }
  }
}

}  // namespace
}  // namespace baagate::audit
