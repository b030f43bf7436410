#include "http/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace baagate::http {
namespace {

std::vector<SseEvent> ParseInPieces(const std::string& s, std::size_t piece) {
  SseParser p;
  std::vector<SseEvent> out;
  for (std::size_t i = 0; i < s.size(); i += piece) {
    EXPECT_TRUE(p.Feed(std::string_view(s).substr(i, piece), [&](const SseEvent& e) {
                   SseEvent copy = e;
                   copy.raw = {};
                   out.push_back(copy);
                 }).ok());
  }
  return out;
}

TEST(SseParser, ParsesEventsSplitAtEveryByte) {
  const std::string s = "event: a\ndata: one\ndata: two\n\r\ndata: {\"x\":1}\r\n\r\ndata: [DONE]\n\n";
  for (std::size_t piece : {1u, 2u, 3u, 7u, 1000u}) {
    auto ev = ParseInPieces(s, piece);
    ASSERT_EQ(ev.size(), 3u) << piece;
    EXPECT_EQ(ev[0].event, "a");
    EXPECT_EQ(ev[0].data, "one\ntwo");
    EXPECT_EQ(ev[1].data, "{\"x\":1}");
    EXPECT_EQ(ev[2].data, "[DONE]");
  }
}

TEST(SseParser, ReportsCommentBlocksWithoutData) {
  auto ev = ParseInPieces(": keep-alive\n\ndata: x\n\n", 4);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_FALSE(ev[0].has_data);
  EXPECT_TRUE(ev[1].has_data);
}

TEST(SseParser, HandlesCarriageReturnOnlyLineEnds) {
  auto ev = ParseInPieces("data: a\r\rdata: b\r\r", 1);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].data, "b");
}

TEST(SseParser, StripsOneSpaceAndToleratesUnknownFields) {
  auto ev = ParseInPieces("data:  two spaces\nretry: 5\nfoo: bar\nid: 7\n\n", 5);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, " two spaces");
  EXPECT_EQ(ev[0].id, "7");
}

TEST(SseParser, SkipsALeadingByteOrderMarkEvenWhenSplit) {
  auto ev = ParseInPieces("\xEF\xBB\xBF" "data: x\n\n", 1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "x");
}

TEST(SseParser, RawBytesReassembleTheStream) {
  const std::string s = ": c\n\ndata: a\r\n\r\nevent: e\ndata: b\n\n";
  SseParser p;
  std::string joined;
  ASSERT_TRUE(p.Feed(s, [&](const SseEvent& e) { joined.append(e.raw); }).ok());
  EXPECT_EQ(joined, s);
}

TEST(SseParser, FailsOnABlockLargerThanTheLimit) {
  SseParser p(64);
  EXPECT_FALSE(p.Feed("data: " + std::string(100, 'x'), [](const SseEvent&) {}).ok());
}

TEST(SseEncode, WritesOneDataLinePerLine) {
  EXPECT_EQ(EncodeSseEvent("a\nb"), "data: a\ndata: b\n\n");
  EXPECT_EQ(EncodeSseEvent("x", "error"), "event: error\ndata: x\n\n");
}

}  // namespace
}  // namespace baagate::http
