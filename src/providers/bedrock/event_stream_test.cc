#include "providers/bedrock/event_stream.h"

#include <gtest/gtest.h>

#include "core/crypto.h"

namespace baagate::providers::bedrock {
namespace {

std::string Hex(const std::string& s) {
  return core::HexEncode(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(EventStreamCrc, IsTheIeeeCrc32) {
  const std::string check = "123456789";
  EXPECT_EQ(Crc32(reinterpret_cast<const std::uint8_t*>(check.data()), check.size()),
            0xCBF43926u);
}

// Vectors from awslabs/aws-c-event-stream's message tests (PROVIDERS.md §5.7).
TEST(EventStreamEncode, MatchesTheReferenceVectors) {
  EventStreamMessage empty;
  EXPECT_EQ(Hex(*EncodeEventStreamMessage(empty)), "000000100000000005c248eb7d98c8ff");

  EventStreamMessage payload_only;
  payload_only.payload = "{'foo':'bar'}";
  std::string enc = *EncodeEventStreamMessage(payload_only);
  EXPECT_EQ(Hex(enc.substr(0, 12)), "0000001d00000000fd528c5a");
  EXPECT_EQ(Hex(enc.substr(enc.size() - 4)), "c3653936");

  EventStreamMessage with_header;
  with_header.headers.push_back(EventStreamHeader::String("content-type", "application/json"));
  with_header.payload = "{'foo':'bar'}";
  enc = *EncodeEventStreamMessage(with_header);
  EXPECT_EQ(Hex(enc.substr(0, 12)), "0000003d0000002007fd8396");
  EXPECT_EQ(Hex(enc.substr(enc.size() - 4)), "8d9c08b1");
}

TEST(EventStreamDecode, DecodesTheReferenceVectorWithAHeader) {
  EventStreamMessage m;
  m.headers.push_back(EventStreamHeader::String("content-type", "application/json"));
  m.payload = "{'foo':'bar'}";
  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  ASSERT_TRUE(d.Feed(*EncodeEventStreamMessage(m), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].StringHeader("content-type"), "application/json");
  EXPECT_EQ(out[0].payload, "{'foo':'bar'}");
  EXPECT_TRUE(d.Finish().ok());
}

TEST(EventStreamDecode, RoundTripsEveryHeaderType) {
  EventStreamMessage m;
  auto add = [&](std::string name, EventStreamValueType t, std::int64_t v) {
    EventStreamHeader h;
    h.name = std::move(name);
    h.type = t;
    h.int_value = v;
    m.headers.push_back(h);
  };
  add("t", EventStreamValueType::kBoolTrue, 0);
  add("f", EventStreamValueType::kBoolFalse, 0);
  add("byte", EventStreamValueType::kByte, -7);
  add("i16", EventStreamValueType::kInt16, -12345);
  add("i32", EventStreamValueType::kInt32, 2000000000);
  add("i64", EventStreamValueType::kInt64, -9000000000000LL);
  add("ts", EventStreamValueType::kTimestamp, 1767225600000LL);
  EventStreamHeader bytes;
  bytes.name = "bin";
  bytes.type = EventStreamValueType::kBytes;
  bytes.bytes_value = std::string("\x00\x01\xff", 3);
  m.headers.push_back(bytes);
  m.headers.push_back(EventStreamHeader::String(":event-type", "chunk"));
  EventStreamHeader uuid;
  uuid.name = "id";
  uuid.type = EventStreamValueType::kUuid;
  for (int i = 0; i < 16; ++i) uuid.uuid[i] = static_cast<std::uint8_t>(i * 17);
  m.headers.push_back(uuid);
  m.payload = "{}";

  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  ASSERT_TRUE(d.Feed(*EncodeEventStreamMessage(m), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  const auto& got = out[0];
  ASSERT_EQ(got.headers.size(), m.headers.size());
  EXPECT_TRUE(got.Find("t")->bool_value());
  EXPECT_FALSE(got.Find("f")->bool_value());
  EXPECT_EQ(got.Find("byte")->int_value, -7);
  EXPECT_EQ(got.Find("i16")->int_value, -12345);
  EXPECT_EQ(got.Find("i32")->int_value, 2000000000);
  EXPECT_EQ(got.Find("i64")->int_value, -9000000000000LL);
  EXPECT_EQ(got.Find("ts")->type, EventStreamValueType::kTimestamp);
  EXPECT_EQ(got.Find("ts")->int_value, 1767225600000LL);
  EXPECT_EQ(got.Find("bin")->bytes_value, std::string("\x00\x01\xff", 3));
  EXPECT_EQ(got.StringHeader(":event-type"), "chunk");
  EXPECT_EQ(got.StringHeader("bin"), "");  // not a string header
  EXPECT_EQ(got.Find("id")->uuid, uuid.uuid);
}

TEST(EventStreamDecode, ReassemblesMessagesSplitAtEveryByteBoundary) {
  std::string stream = EncodeBedrockEvent("messageStart", R"({"role":"assistant"})") +
                       EncodeBedrockEvent("contentBlockDelta",
                                          R"({"contentBlockIndex":0,"delta":{"text":"hi"}})") +
                       EncodeBedrockException("throttlingException", R"({"message":"slow"})");
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    EventStreamDecoder d;
    std::vector<EventStreamMessage> out;
    ASSERT_TRUE(d.Feed(std::string_view(stream).substr(0, split), &out).ok());
    ASSERT_TRUE(d.Feed(std::string_view(stream).substr(split), &out).ok());
    ASSERT_EQ(out.size(), 3u) << split;
    EXPECT_TRUE(d.Finish().ok());
  }
  // One byte at a time.
  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  for (char c : stream) ASSERT_TRUE(d.Feed(std::string_view(&c, 1), &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].StringHeader(":message-type"), "event");
  EXPECT_EQ(out[0].StringHeader(":event-type"), "messageStart");
  EXPECT_EQ(out[1].payload, R"({"contentBlockIndex":0,"delta":{"text":"hi"}})");
  EXPECT_EQ(out[2].StringHeader(":message-type"), "exception");
  EXPECT_EQ(out[2].StringHeader(":exception-type"), "throttlingException");
}

TEST(EventStreamDecode, ReportsATruncatedStreamAtFinish) {
  std::string msg = EncodeBedrockEvent("chunk", R"({"bytes":"e30="})");
  for (std::size_t cut : {std::size_t{1}, std::size_t{11}, std::size_t{12}, msg.size() - 1}) {
    EventStreamDecoder d;
    std::vector<EventStreamMessage> out;
    ASSERT_TRUE(d.Feed(msg.substr(0, cut), &out).ok());
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(d.Finish().code(), core::StatusCode::kDataLoss) << cut;
  }
}

TEST(EventStreamDecode, RejectsAFlippedBitInThePreludeOrTheMessage) {
  const std::string msg = EncodeBedrockEvent("chunk", R"({"bytes":"e30="})");
  for (std::size_t i = 0; i < msg.size(); ++i) {
    std::string bad = msg;
    bad[i] = static_cast<char>(bad[i] ^ 0x04);
    EventStreamDecoder d(1 << 20);
    std::vector<EventStreamMessage> out;
    core::Status st = d.Feed(bad, &out);
    // A flipped length byte may only make the decoder wait for more bytes; Finish then fails.
    if (st.ok()) st = d.Finish();
    EXPECT_FALSE(st.ok()) << "byte " << i;
    EXPECT_TRUE(out.empty()) << "byte " << i;
  }
  std::string bad_prelude = msg;
  bad_prelude[9] ^= 1;
  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(d.Feed(bad_prelude, &out).code(), core::StatusCode::kDataLoss);
  // Sticky: a good message afterwards is not accepted.
  EXPECT_EQ(d.Feed(msg, &out).code(), core::StatusCode::kDataLoss);
  std::string bad_body = msg;
  bad_body[bad_body.size() - 6] ^= 1;
  EventStreamDecoder d2;
  EXPECT_EQ(d2.Feed(bad_body, &out).code(), core::StatusCode::kDataLoss);
}

TEST(EventStreamDecode, RejectsOversizedAndInconsistentLengths) {
  // A well-formed prelude announcing 17 MiB.
  auto prelude = [](std::uint32_t total, std::uint32_t headers) {
    std::string p;
    for (std::uint32_t v : {total, headers}) {
      for (int i = 3; i >= 0; --i) p.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
    std::uint32_t crc = Crc32(reinterpret_cast<const std::uint8_t*>(p.data()), 8);
    for (int i = 3; i >= 0; --i) p.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
    return p;
  };
  std::vector<EventStreamMessage> out;
  EventStreamDecoder big;
  EXPECT_EQ(big.Feed(prelude(17u << 20, 0), &out).code(), core::StatusCode::kResourceExhausted);
  EventStreamDecoder small_limit(64);
  EXPECT_EQ(small_limit.Feed(prelude(65, 0), &out).code(),
            core::StatusCode::kResourceExhausted);
  EventStreamDecoder too_short;
  EXPECT_EQ(too_short.Feed(prelude(15, 0), &out).code(), core::StatusCode::kInvalidArgument);
  EventStreamDecoder headers_past_end;
  EXPECT_EQ(headers_past_end.Feed(prelude(20, 5), &out).code(),
            core::StatusCode::kInvalidArgument);
}

TEST(EventStreamDecode, RejectsMalformedHeadersEvenWithGoodCrcs) {
  // Header claims a 200-byte string but only 3 bytes follow; CRCs recomputed so only the
  // header parser can catch it.
  std::string headers = Unhex("01610700c8") + "abc";
  std::string msg;
  auto be32 = [&](std::uint32_t v) {
    for (int i = 3; i >= 0; --i) msg.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  be32(static_cast<std::uint32_t>(16 + headers.size()));
  be32(static_cast<std::uint32_t>(headers.size()));
  be32(Crc32(reinterpret_cast<const std::uint8_t*>(msg.data()), 8));
  msg += headers;
  be32(Crc32(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()));
  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(d.Feed(msg, &out).code(), core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace baagate::providers::bedrock
