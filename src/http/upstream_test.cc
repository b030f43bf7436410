#include "http/upstream.h"

#include <gtest/gtest.h>

namespace baagate::http {
namespace {

TEST(ParseBaseUrl, SplitsSchemeHostPortAndPath) {
  auto u = ParseBaseUrl("https://api.openai.com/v1/");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "api.openai.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->path, "/v1");
  auto v = ParseBaseUrl("http://[::1]:9090");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->host, "::1");
  EXPECT_EQ(v->port, "9090");
  EXPECT_EQ(v->path, "");
}

TEST(ParseBaseUrl, RejectsWhatItCannotUse) {
  EXPECT_FALSE(ParseBaseUrl("ftp://x").ok());
  EXPECT_FALSE(ParseBaseUrl("http://").ok());
  EXPECT_FALSE(ParseBaseUrl("http://h:99999").ok());
  EXPECT_FALSE(ParseBaseUrl("http://user@h").ok());
  EXPECT_FALSE(ParseBaseUrl("http://h/v1?x=1").ok());
}

TEST(UpstreamFailure, TimeoutsAre504AndTheRest502) {
  EXPECT_EQ(UpstreamFailureHttpStatus(UpstreamFailure::kFirstByteTimeout), 504u);
  EXPECT_EQ(UpstreamFailureHttpStatus(UpstreamFailure::kConnectTimeout), 504u);
  EXPECT_EQ(UpstreamFailureHttpStatus(UpstreamFailure::kConnect), 502u);
  EXPECT_EQ(UpstreamFailureHttpStatus(UpstreamFailure::kProtocol), 502u);
}

}  // namespace
}  // namespace baagate::http
