// The Vertex service-account OAuth flow end to end against the fake vendor's token endpoint
// (JWT bearer grant, RS256 verified with the key's public half), and the fake's Vertex
// generateContent / streamGenerateContent?alt=sse / rawPredict emulation with the issued token.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "harness.h"
#include "providers/common/canonical.h"
#include "providers/vertex/oauth.h"

namespace baagate::testing {
namespace {

namespace json = boost::json;
namespace vx = providers::vertex;

std::string NewRsaKeyPem() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

// A fake vendor that knows the service account's key.
class GoogleFake {
 public:
  explicit GoogleFake(std::string key_pem) {
    fake_vendor::Options fo;
    fo.google_key_pem = std::move(key_pem);
    vendor_ = std::make_unique<fake_vendor::FakeVendor>(fo);
    http::ServerOptions so;
    so.name = "fake";
    so.endpoint = tcp::endpoint(net::ip::make_address("127.0.0.1"), 0);
    so.workers = 1;
    server_ = std::make_unique<http::Server>(
        so, [this](http::Worker& w) { return vendor_->MakeHandler(w); });
    EXPECT_TRUE(server_->Start().ok());
  }
  ~GoogleFake() { server_->Stop(); }
  tcp::endpoint endpoint() const { return server_->local_endpoint(); }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(endpoint().port()); }

 private:
  std::unique_ptr<fake_vendor::FakeVendor> vendor_;
  std::unique_ptr<http::Server> server_;
};

RawResponse Post(tcp::endpoint ep, const std::string& target, const std::string& body,
                 const std::string& content_type, const std::string& bearer = "") {
  Client c(ep);
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, target, 11};
  req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(ep.port()));
  req.set(bhttp::field::content_type, content_type);
  if (!bearer.empty()) req.set(bhttp::field::authorization, "Bearer " + bearer);
  req.body() = body;
  req.prepare_payload();
  bhttp::write(c.socket(), req);
  return c.Read();
}

std::string KeyJson(const std::string& pem, const std::string& token_uri) {
  return json::serialize(json::object{{"type", "service_account"},
                                      {"project_id", "demo"},
                                      {"private_key_id", "kid-1"},
                                      {"private_key", pem},
                                      {"client_email", "gw@demo.iam.gserviceaccount.com"},
                                      {"token_uri", token_uri}});
}

TEST(VertexOAuth, TokenCacheGetsATokenFromTheFakeEndpointAndCachesIt) {
  const std::string pem = NewRsaKeyPem();
  GoogleFake fake(pem);
  auto key = vx::ParseServiceAccountKey(KeyJson(pem, fake.base() + "/token"));
  ASSERT_TRUE(key.ok()) << key.status().message();
  int posts = 0;
  vx::TokenCache cache(
      *key,
      [&](const std::string& uri, const std::string& form) -> core::Result<std::string> {
        ++posts;
        EXPECT_EQ(uri, fake.base() + "/token");
        auto r = Post(fake.endpoint(), "/token", form, "application/x-www-form-urlencoded");
        if (r.status != 200) return core::UnauthenticatedError("token endpoint refused");
        return r.body;
      },
      [] {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
      });
  auto token = cache.GetToken();
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_EQ(token->Expose().rfind("ya29.fake-", 0), 0u);
  EXPECT_EQ(cache.GetToken()->Expose(), token->Expose());
  EXPECT_EQ(posts, 1);

  const std::string model_path =
      "/v1/projects/demo/locations/us-central1/publishers/google/models/gemini-2.0-flash";
  auto g = Post(fake.endpoint(), model_path + ":generateContent",
                R"({"contents":[{"role":"user","parts":[{"text":"hello gemini"}]}]})",
                "application/json", token->Expose());
  ASSERT_EQ(g.status, 200u) << g.body;
  auto gj = g.Json().as_object();
  EXPECT_EQ(gj["candidates"].as_array()[0].at("content").at("parts").as_array()[0].at("text")
                .as_string(),
            "ECHO: hello gemini");
  EXPECT_EQ(gj["usageMetadata"].at("candidatesTokenCount").as_int64(), 3);

  auto s = Post(fake.endpoint(), model_path + ":streamGenerateContent?alt=sse",
                R"({"contents":[{"role":"user","parts":[{"text":"stream [[fake:safety]]"}]}]})",
                "application/json", token->Expose());
  ASSERT_EQ(s.status, 200u) << s.body;
  EXPECT_NE(s.body.find("\"finishReason\":\"SAFETY\""), std::string::npos);
  EXPECT_EQ(providers::FromVertexFinishReason("SAFETY"), providers::FinishReason::kContentFilter);

  auto raw = Post(fake.endpoint(),
                  "/v1/projects/demo/locations/us-east5/publishers/anthropic/models/"
                  "claude-3-5-sonnet-v2@20241022:rawPredict",
                  R"({"anthropic_version":"vertex-2023-10-16","max_tokens":16,"messages":[{"role":"user","content":"hi claude on vertex"}]})",
                  "application/json", token->Expose());
  ASSERT_EQ(raw.status, 200u) << raw.body;
  EXPECT_EQ(raw.Json().at("content").as_array()[0].at("text").as_string(),
            "ECHO: hi claude on vertex");

  auto denied = Post(fake.endpoint(), model_path + ":generateContent",
                     R"({"contents":[{"parts":[{"text":"x"}]}]})", "application/json",
                     "ya29.not-issued");
  EXPECT_EQ(denied.status, 401u);
  EXPECT_EQ(denied.Json().at("error").at("status").as_string(), "UNAUTHENTICATED");
}

TEST(VertexOAuth, TheFakeEndpointRefusesAnAssertionSignedByAnotherKey) {
  GoogleFake fake(NewRsaKeyPem());
  auto other = vx::ParseServiceAccountKey(KeyJson(NewRsaKeyPem(), fake.base() + "/token"));
  ASSERT_TRUE(other.ok());
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  auto jwt = vx::BuildJwtAssertion(*other, vx::kCloudPlatformScope, now);
  ASSERT_TRUE(jwt.ok());
  auto r = Post(fake.endpoint(), "/token", vx::TokenRequestBody(*jwt),
                "application/x-www-form-urlencoded");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.Json().at("error").as_string(), "invalid_grant");
}

}  // namespace
}  // namespace baagate::testing
