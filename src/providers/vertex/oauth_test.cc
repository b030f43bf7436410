#include "providers/vertex/oauth.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/json.hpp>

namespace baagate::providers::vertex {
namespace {

// A fresh 2048-bit RSA key as PKCS#8 PEM (private) and SubjectPublicKeyInfo PEM (public).
std::pair<std::string, std::string> MakeRsaKeyPem() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  EXPECT_NE(key, nullptr);
  auto to_string = [](BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string s(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return s;
  };
  BIO* priv = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr);
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(pub, key);
  EVP_PKEY_free(key);
  return {to_string(priv), to_string(pub)};
}

const std::pair<std::string, std::string>& TestKey() {
  static const auto* key = new std::pair<std::string, std::string>(MakeRsaKeyPem());
  return *key;
}

std::string KeyJson(std::string_view token_uri) {
  boost::json::object o;
  o["type"] = "service_account";
  o["project_id"] = "demo-project";
  o["private_key_id"] = "kid-1";
  o["private_key"] = TestKey().first;
  o["client_email"] = "gateway@demo-project.iam.gserviceaccount.com";
  if (!token_uri.empty()) o["token_uri"] = token_uri;
  return boost::json::serialize(o);
}

TEST(VertexBase64Url, RoundTripsAndOmitsPadding) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\x00\xff\xfe\x10"}) {
    EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(s)), s);
  }
  EXPECT_FALSE(Base64UrlDecode("a+b/").ok());
  EXPECT_FALSE(Base64UrlDecode("abcde").ok());
}

TEST(VertexServiceAccountKey, ParsesTheFieldsAndDefaultsTheTokenUri) {
  auto key = ParseServiceAccountKey(KeyJson(""));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->client_email, "gateway@demo-project.iam.gserviceaccount.com");
  EXPECT_EQ(key->private_key_id, "kid-1");
  EXPECT_EQ(key->token_uri, kDefaultTokenUri);
  EXPECT_EQ(key->project_id, "demo-project");
  EXPECT_EQ(key->private_key_pem.ToString(), "[redacted]");
}

TEST(VertexServiceAccountKey, RejectsMissingFieldsWithoutQuotingTheFile) {
  auto no_email = ParseServiceAccountKey(R"({"private_key_id":"k","private_key":"x"})");
  EXPECT_EQ(no_email.status().message(), "service account key: missing client_email");
  auto bad_pem = ParseServiceAccountKey(
      R"({"client_email":"a","private_key_id":"k","private_key":"SECRETMATERIAL"})");
  EXPECT_FALSE(bad_pem.ok());
  EXPECT_EQ(bad_pem.status().message().find("SECRETMATERIAL"), std::string::npos);
  EXPECT_FALSE(ParseServiceAccountKey(R"({"type":"authorized_user"})").ok());
  EXPECT_FALSE(ParseServiceAccountKey("not json").ok());
}

TEST(VertexJwt, BuildsAnRs256AssertionThatVerifiesWithThePublicKey) {
  auto key = *ParseServiceAccountKey(KeyJson("http://127.0.0.1:1/token"));
  const std::int64_t now = 1767225600;
  auto jwt = BuildJwtAssertion(key, kCloudPlatformScope, now);
  ASSERT_TRUE(jwt.ok());
  const std::string header = *Base64UrlDecode(jwt->substr(0, jwt->find('.')));
  EXPECT_EQ(header, R"({"alg":"RS256","typ":"JWT","kid":"kid-1"})");

  auto claims_text = VerifyJwtAssertion(*jwt, TestKey().second, "http://127.0.0.1:1/token", now);
  ASSERT_TRUE(claims_text.ok()) << claims_text.status().ToString();
  auto claims = boost::json::parse(*claims_text).as_object();
  EXPECT_EQ(claims["iss"].as_string(), "gateway@demo-project.iam.gserviceaccount.com");
  EXPECT_EQ(claims["scope"].as_string(), kCloudPlatformScope);
  EXPECT_EQ(claims["iat"].as_int64(), now);
  EXPECT_EQ(claims["exp"].as_int64(), now + 3600);
  // The private key PEM works as the verification key too (the fake vendor's configuration).
  EXPECT_TRUE(VerifyJwtAssertion(*jwt, TestKey().first, "http://127.0.0.1:1/token", now).ok());
}

TEST(VertexJwt, VerificationRejectsTamperingWrongAudienceAndExpiry) {
  auto key = *ParseServiceAccountKey(KeyJson(""));
  const std::int64_t now = 1767225600;
  std::string jwt = *BuildJwtAssertion(key, kCloudPlatformScope, now);
  const std::string aud(kDefaultTokenUri);
  const std::string& pub = TestKey().second;
  EXPECT_TRUE(VerifyJwtAssertion(jwt, pub, aud, now + 10).ok());
  EXPECT_FALSE(VerifyJwtAssertion(jwt, pub, "https://other/token", now).ok());
  EXPECT_FALSE(VerifyJwtAssertion(jwt, pub, aud, now + 3600).ok());  // expired
  EXPECT_FALSE(VerifyJwtAssertion(jwt, pub, aud, now - 120).ok());   // issued in the future
  // Claims swapped for others signed by nobody.
  std::size_t d1 = jwt.find('.'), d2 = jwt.find('.', d1 + 1);
  std::string forged = jwt.substr(0, d1 + 1) +
                       Base64UrlEncode(R"({"iss":"x","scope":"s","aud":")" + aud +
                                       R"(","iat":1767225600,"exp":1767229200})") +
                       jwt.substr(d2);
  EXPECT_FALSE(VerifyJwtAssertion(forged, pub, aud, now).ok());
  // Another key's signature.
  auto other = MakeRsaKeyPem();
  EXPECT_FALSE(VerifyJwtAssertion(jwt, other.second, aud, now).ok());
  EXPECT_FALSE(VerifyJwtAssertion("a.b", pub, aud, now).ok());
}

TEST(VertexTokenRequest, IsTheFormEncodedJwtBearerGrant) {
  EXPECT_EQ(TokenRequestBody("aa.bb.cc"),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=aa.bb.cc");
}

TEST(VertexTokenResponse, ParsesExpiryAndRejectsBadAnswers) {
  auto t = ParseTokenResponse(R"({"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"})",
                              1000);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->token.Expose(), "ya29.x");
  EXPECT_EQ(t->expires_at_unix, 4599);
  EXPECT_FALSE(ParseTokenResponse(R"({"error":"invalid_grant"})", 0).ok());
  EXPECT_FALSE(ParseTokenResponse(R"({"access_token":"a","expires_in":0})", 0).ok());
  EXPECT_FALSE(ParseTokenResponse(R"({"access_token":"a","expires_in":10,"token_type":"MAC"})", 0)
                   .ok());
  EXPECT_FALSE(ParseTokenResponse("<html>", 0).ok());
}

TEST(VertexTokenCache, FetchesOnceAndRefreshesBeforeExpiry) {
  auto key = *ParseServiceAccountKey(KeyJson("http://fake/token"));
  std::int64_t now = 1767225600;
  int served = 0;
  std::string last_body;
  TokenCache cache(
      key,
      [&](const std::string& uri, const std::string& body) -> core::Result<std::string> {
        EXPECT_EQ(uri, "http://fake/token");
        last_body = body;
        // A real token endpoint verifies the assertion; so does this one.
        std::string assertion = body.substr(body.find("assertion=") + 10);
        if (!VerifyJwtAssertion(assertion, TestKey().second, uri, now).ok()) {
          return core::UnauthenticatedError("token endpoint refused the assertion");
        }
        ++served;
        return R"({"access_token":"tok-)" + std::to_string(served) +
               R"(","expires_in":3600,"token_type":"Bearer"})";
      },
      [&] { return now; }, std::chrono::seconds(300));

  EXPECT_EQ(cache.GetToken()->Expose(), "tok-1");
  now += 1000;
  EXPECT_EQ(cache.GetToken()->Expose(), "tok-1");
  EXPECT_EQ(cache.fetch_count_for_test(), 1);
  now += 2300;  // 3300 s after issue: inside the 300 s margin
  EXPECT_EQ(cache.GetToken()->Expose(), "tok-2");
  EXPECT_EQ(cache.fetch_count_for_test(), 2);
  EXPECT_EQ(last_body.rfind("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&", 0),
            0u);
}

TEST(VertexTokenCache, ReturnsTheFetchErrorAndNeverAStaleToken) {
  auto key = *ParseServiceAccountKey(KeyJson(""));
  std::int64_t now = 1767225600;
  bool up = true;
  TokenCache cache(
      key,
      [&](const std::string&, const std::string&) -> core::Result<std::string> {
        if (!up) return core::UnavailableError("token endpoint down");
        return std::string(R"({"access_token":"t","expires_in":600})");
      },
      [&] { return now; }, std::chrono::seconds(60));
  ASSERT_TRUE(cache.GetToken().ok());
  up = false;
  now += 590;
  auto r = cache.GetToken();
  EXPECT_EQ(r.status().code(), core::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace baagate::providers::vertex
