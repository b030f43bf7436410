#include <gtest/gtest.h>

#include <set>

#include "core/crypto.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/status.h"
#include "core/uuid.h"

namespace baagate::core {
namespace {

TEST(Status, CarriesCodeAndMessage) {
  Status s = NotFoundError("x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "NOT_FOUND: x");
  Result<int> r(5);
  EXPECT_TRUE(r.ok());
  Result<int> e(InvalidArgumentError("bad"));
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
}

TEST(Crypto, HashesAndComparesInConstantTime) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Digest d;
  ASSERT_TRUE(ParseSha256Hex(HexEncode(Sha256("abc")), &d));
  EXPECT_TRUE(ConstantTimeEqual(d, Sha256("abc")));
  EXPECT_FALSE(ConstantTimeEqual(d, Sha256("abd")));
  EXPECT_FALSE(ParseSha256Hex("zz", &d));
}

TEST(Secret, RedactsItself) {
  SecretString s("sk-live");
  EXPECT_EQ(s.ToString(), "[redacted]");
  EXPECT_EQ(s.Expose(), "sk-live");
}

TEST(UuidV7, HasVersionVariantAndTimeOrder) {
  EXPECT_EQ(FormatUuidV7ForTest(0x0123456789ab, 0xfff, ~0ull),
            "01234567-89ab-7fff-bfff-ffffffffffff");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(NewUuidV7());
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(NewUuidV7()[14], '7');
}

TEST(LogJson, EscapesAndRepairsInvalidUtf8) {
  std::string out;
  AppendJsonString(out, "a\"b\\\n\x01 \xC3\xA9 \xC3\x28");
  EXPECT_EQ(out, "\"a\\\"b\\\\\\n\\u0001 \xC3\xA9 \\ufffd(\"");
}

}  // namespace
}  // namespace baagate::core
