#include "providers/bedrock/sigv4.h"

#include <gtest/gtest.h>

#include "core/crypto.h"

namespace baagate::providers::bedrock {
namespace {

// Credentials and instant of the AWS SigV4 test suite (aws-sig-v4-test-suite, 2015 edition).
AwsCredentials SuiteCredentials() {
  return AwsCredentials{"AKIDEXAMPLE",
                        core::SecretString("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), {}};
}
constexpr std::string_view kSuiteDate = "20150830T123600Z";
constexpr std::string_view kSuiteHost = "example.amazonaws.com";

std::string Authz(std::string_view signed_headers, std::string_view signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=" +
         std::string(signed_headers) + ", Signature=" + std::string(signature);
}

SigV4Signature SignSuite(std::string_view method, std::string_view path, std::string_view query,
                         HeaderList extra, std::string_view payload) {
  SigV4Request req{method, path, query, {}, payload};
  req.headers.emplace_back("Host", std::string(kSuiteHost));
  req.headers.emplace_back("X-Amz-Date", std::string(kSuiteDate));
  for (auto& h : extra) req.headers.push_back(std::move(h));
  auto sig = ComputeSignature(req, SuiteCredentials(), "us-east-1", "service");
  EXPECT_TRUE(sig.ok()) << sig.status().ToString();
  return sig.ok() ? *sig : SigV4Signature{};
}

TEST(SigV4TestSuite, GetVanilla) {
  auto sig = SignSuite("GET", "/", "", {}, "");
  EXPECT_EQ(sig.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sig.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(sig.authorization,
            Authz("host;x-amz-date",
                  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST(SigV4TestSuite, GetVanillaQueryWithAnEmptyQuerySignsLikeVanilla) {
  // get-vanilla-query: "GET /?" has an empty canonical query string.
  auto sig = SignSuite("GET", "/", "", {}, "");
  EXPECT_EQ(sig.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4TestSuite, GetVanillaQueryOrderKeyCase) {
  auto sig = SignSuite("GET", "/", "Param2=value2&Param1=value1", {}, "");
  EXPECT_NE(sig.canonical_request.find("\nParam1=value1&Param2=value2\n"), std::string::npos);
  EXPECT_EQ(sig.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4TestSuite, PostVanilla) {
  auto sig = SignSuite("POST", "/", "", {}, "");
  EXPECT_EQ(sig.signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4TestSuite, PostXWwwFormUrlencoded) {
  auto sig = SignSuite("POST", "/", "", {{"Content-Type", "application/x-www-form-urlencoded"}},
                       "Param1=value1");
  // The last canonical line is the body hash; the string to sign carries the request's hash.
  EXPECT_EQ(sig.canonical_request.substr(sig.canonical_request.rfind('\n') + 1),
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(sig.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  EXPECT_EQ(sig.authorization,
            Authz("content-type;host;x-amz-date",
                  "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

// AWS general reference, "Examples of how to derive a signing key" and the IAM ListUsers example.
TEST(SigV4SigningKey, MatchesTheDocumentedIamKeys) {
  auto k1 = DeriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20110909", "us-east-1",
                             "iam");
  EXPECT_EQ(core::HexEncode(k1.data(), k1.size()),
            "98f1d889fec4f4421adc522bab0ce1f82e6929c262ed15e5a94c90efd1e3b0e7");
  auto k2 = DeriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1",
                             "iam");
  EXPECT_EQ(core::HexEncode(k2.data(), k2.size()),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

TEST(SigV4SigningKey, SignsTheIamListUsersExample) {
  SigV4Request req{"GET", "/", "Action=ListUsers&Version=2010-05-08", {}, ""};
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                 {"Host", "iam.amazonaws.com"},
                 {"X-Amz-Date", "20150830T123600Z"}};
  auto sig = ComputeSignature(req, SuiteCredentials(), "us-east-1", "iam");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->string_to_sign.substr(sig->string_to_sign.rfind('\n') + 1),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(sig->signature, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(SigV4Bedrock, DoubleEncodesAModelIdWithAColon) {
  const std::string segment = EncodeModelIdSegment("anthropic.claude-3-5-sonnet-20240620-v1:0");
  EXPECT_EQ(segment, "anthropic.claude-3-5-sonnet-20240620-v1%3A0");
  const std::string wire_path = "/model/" + segment + "/converse";
  EXPECT_EQ(CanonicalUri(wire_path),
            "/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse");
  auto sign_path = [](const std::string& path) {
    SigV4Request req{"POST", path, "", {{"host", "bedrock-runtime.us-east-1.amazonaws.com"},
                                        {"x-amz-date", std::string(kSuiteDate)}},
                     "{}"};
    auto sig = ComputeSignature(req, SuiteCredentials(), "us-east-1", "bedrock");
    EXPECT_TRUE(sig.ok());
    return sig.ok() ? *sig : SigV4Signature{};
  };
  auto sig = sign_path(wire_path);
  EXPECT_NE(sig.canonical_request.find(
                "\n/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse\n"),
            std::string::npos);
  // A path sent with a raw ':' is signed with a single encoding, hence differently: the
  // signature AWS computes from the %3A wire path would not match it.
  auto raw = sign_path("/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse");
  EXPECT_NE(raw.canonical_request.find("v1%3A0/converse\n"), std::string::npos);
  EXPECT_NE(raw.signature, sig.signature);
}

TEST(SigV4Bedrock, EncodesAnArnWithSlashesAsOneSegment) {
  const std::string arn =
      "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-v1:0";
  const std::string segment = EncodeModelIdSegment(arn);
  EXPECT_EQ(segment,
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic."
            "claude-v1%3A0");
  EXPECT_EQ(CanonicalUri("/model/" + segment + "/invoke"),
            "/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A123456789012%253Ainference-"
            "profile%252Fus.anthropic.claude-v1%253A0/invoke");
}

TEST(SigV4Verify, AcceptsWhatSignRequestProducesAndRejectsTampering) {
  AwsCredentials creds = SuiteCredentials();
  creds.session_token = core::SecretString("session-token");
  const std::string path = "/model/" + EncodeModelIdSegment("anthropic.claude-v2:1") + "/invoke";
  SigV4Request req{"POST", path, "", {{"Host", "127.0.0.1:8080"},
                                      {"Content-Type", "application/json"}},
                   R"({"max_tokens":5})"};
  auto added = SignRequest(req, creds, "eu-west-1", "bedrock", "20260101T000000Z");
  ASSERT_TRUE(added.ok());
  ASSERT_EQ(added->size(), 4u);  // date, token, content hash, authorization
  EXPECT_TRUE(VerifyRequest(req, creds, nullptr).ok());

  SigV4Request tampered = req;
  tampered.payload = R"({"max_tokens":6})";
  std::string canonical;
  auto st = VerifyRequest(tampered, creds, &canonical);
  EXPECT_EQ(st.code(), core::StatusCode::kPermissionDenied);
  EXPECT_NE(canonical.find("%253A1/invoke"), std::string::npos);

  AwsCredentials other = creds;
  other.secret_access_key = core::SecretString("another-secret");
  EXPECT_EQ(VerifyRequest(req, other, nullptr).code(), core::StatusCode::kPermissionDenied);

  SigV4Request no_auth = req;
  no_auth.headers.pop_back();
  EXPECT_EQ(VerifyRequest(no_auth, creds, nullptr).code(), core::StatusCode::kUnauthenticated);
}

TEST(SigV4Parse, ReadsTheAuthorizationHeader) {
  auto a = ParseAuthorization(Authz(
      "content-type;host;x-amz-date",
      "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(a->date, "20150830");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->service, "service");
  EXPECT_EQ(a->signed_headers.size(), 3u);
  EXPECT_FALSE(ParseAuthorization("Bearer x").ok());
  EXPECT_FALSE(ParseAuthorization("AWS4-HMAC-SHA256 Credential=a/b, Signature=00").ok());
}

TEST(SigV4Format, FormatsAmzDateInUtc) {
  EXPECT_EQ(FormatAmzDate(std::chrono::system_clock::from_time_t(1440938160)), kSuiteDate);
}

TEST(SigV4Canonical, CollapsesHeaderSpacesAndRejectsAMissingDate) {
  auto sig = SignSuite("GET", "/", "", {{"My-Header1", "  value1   with  spaces "}}, "");
  EXPECT_NE(sig.canonical_request.find("my-header1:value1 with spaces\n"), std::string::npos);
  SigV4Request req{"GET", "/", "", {{"host", "h"}}, ""};
  EXPECT_FALSE(ComputeSignature(req, SuiteCredentials(), "r", "s").ok());
}

}  // namespace
}  // namespace baagate::providers::bedrock
