// Vertex AI routes through the gateway (Gemini generateContent and Claude rawPredict) with the
// service-account OAuth flow against the fake's token endpoint, and Azure OpenAI with Entra
// client credentials. Real sockets on loopback; the fake verifies the JWT assertion's RS256
// signature and accepts only tokens it issued.
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "audit/sqlite_store.h"
#include "core/uuid.h"
#include "harness.h"

namespace baagate::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

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

const std::string& FakeGoogleKey() {
  static const std::string pem = NewRsaKeyPem();
  return pem;
}

constexpr char kTenant[] = R"(tenant:
  id: t1
  contracts:
    - { id: BAA-OPENAI-TEST, vendor: openai, effective_date: "2025-01-01" }
    - { id: BAA-GOOGLE-TEST, vendor: google, effective_date: "2025-01-01" }
    - { id: BAA-MICROSOFT-TEST, vendor: microsoft, effective_date: "2025-01-01" }
  attestations:
    - { vendor: openai, retention: zero_data_retention, source: verified, verified_at: "{NOW}" }
    - { vendor: google, retention: default, source: verified, verified_at: "{NOW}" }
    - { vendor: microsoft, retention: abuse_monitoring_off, source: verified, verified_at: "{NOW}" }
  allowed_regions: [us, "eastus*"]
apps:
  - { id: a1, purpose: treatment }
)";

constexpr char kGeminiPath[] =
    "/v1/projects/demo-proj/locations/us-central1/publishers/google/models/gemini-2.0-flash";
constexpr char kClaudePath[] =
    "/v1/projects/demo-proj/locations/us-east5/publishers/anthropic/models/"
    "claude-3-5-sonnet-v2@20241022";

struct VertexOptions {
  std::string signing_key_pem = FakeGoogleKey();  // the key the gateway signs with
  int token_lifetime_s = 3599;
  std::string entra_secret = "entra-secret-0001";  // what the gateway sends
  audit::AuditLog* audit = nullptr;
};

// A harness with Vertex Gemini and Claude routes and an Entra-authenticated Azure route.
class VertexHarness {
 public:
  explicit VertexHarness(VertexOptions vo = {}) {
    key_file_ = (fs::temp_directory_path() / ("baagate-sa-" + core::NewUuidV7() + ".json")).string();
    setenv("BAAGATE_TEST_SA_FILE", key_file_.c_str(), 1);
    setenv("BAAGATE_TEST_ENTRA_TENANT", "tenant-0001", 1);
    setenv("BAAGATE_TEST_ENTRA_CLIENT", "client-0001", 1);
    setenv("BAAGATE_TEST_ENTRA_SECRET", vo.entra_secret.c_str(), 1);
    Harness::Options o;
    o.tenant_yaml = kTenant;
    o.audit = vo.audit;
    o.fake_options = [vo](fake_vendor::Options& fo) {
      fo.google_key_pem = FakeGoogleKey();
      fo.google_token_lifetime_s = vo.token_lifetime_s;
      fo.entra_tenant_id = "tenant-0001";
      fo.entra_client_id = "client-0001";
      fo.entra_client_secret = "entra-secret-0001";
    };
    o.before_gateway = [this, pem = vo.signing_key_pem](const std::string& addr) {
      std::ofstream(key_file_) << json::serialize(json::object{
          {"type", "service_account"},
          {"project_id", "demo-proj"},
          {"private_key_id", "kid-1"},
          {"private_key", pem},
          {"client_email", "gw@demo-proj.iam.gserviceaccount.com"},
          {"token_uri", "http://" + addr + "/token"}});
    };
    o.extra_upstreams_yaml =
        "  vertex-gemini:\n    provider: vertex_google\n    project: demo-proj\n"
        "    region: us-central1\n    base_url: http://{FAKE}\n"
        "    credential: { google_service_account: { file_env: BAAGATE_TEST_SA_FILE } }\n"
        "  vertex-claude:\n    provider: vertex_anthropic\n    project: demo-proj\n"
        "    region: us-east5\n    base_url: http://{FAKE}\n"
        "    credential: { google_service_account: { file_env: BAAGATE_TEST_SA_FILE } }\n"
        "  azure-entra:\n    provider: azure_openai\n    region: eastus2\n    base_url: http://{FAKE}\n"
        "    credential:\n      entra_client_credentials:\n"
        "        tenant_id: { env: BAAGATE_TEST_ENTRA_TENANT }\n"
        "        client_id: { env: BAAGATE_TEST_ENTRA_CLIENT }\n"
        "        client_secret: { env: BAAGATE_TEST_ENTRA_SECRET }\n"
        "        authority: http://{FAKE}\n";
    o.extra_routes_yaml =
        "  - { model: gemini, upstream: vertex-gemini, upstream_model: gemini-2.0-flash }\n"
        "  - { model: claude-vertex, upstream: vertex-claude, upstream_model: "
        "\"claude-3-5-sonnet-v2@20241022\" }\n"
        "  - { model: azure-entra, upstream: azure-entra, upstream_model: gpt4o-deployment }\n";
    o.extra_key_models = ", gemini, claude-vertex, azure-entra";
    h_ = std::make_unique<Harness>(o);
  }
  ~VertexHarness() {
    h_.reset();
    fs::remove(key_file_);
  }
  Harness& h() { return *h_; }

  // Requests the fake received, oldest first.
  std::vector<json::object> Received() {
    std::vector<json::object> out;
    auto all = json::parse(h_->vendor().RecordedJson()).as_object();
    for (auto& r : all["requests"].as_array()) out.push_back(r.as_object());
    return out;
  }
  int Count(std::string_view path_prefix) {
    int n = 0;
    for (auto& r : Received()) {
      if (std::string_view(r["path"].as_string()).substr(0, path_prefix.size()) == path_prefix) ++n;
    }
    return n;
  }

 private:
  std::string key_file_;
  std::unique_ptr<Harness> h_;
};

RawResponse Chat(Harness& h, const std::string& body) {
  Client c(h.gateway());
  return c.Send(bhttp::verb::post, "/v1/chat/completions", body);
}

RawResponse Messages(Harness& h, const std::string& body) {
  Client c(h.gateway());
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/v1/messages", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set("x-api-key", kGatewayKey);
  req.set("anthropic-version", "2023-06-01");
  req.set(bhttp::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  bhttp::write(c.socket(), req);
  return c.Read();
}

// Concatenated delta content, finish reason and usage of an OpenAI SSE body.
struct Streamed {
  std::string text;
  std::string finish;
  std::int64_t prompt_tokens = -1;
  bool done = false;
};
Streamed ReadChunks(const std::string& body) {
  Streamed s;
  std::size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    pos += 6;
    std::string data = body.substr(pos, body.find('\n', pos) - pos);
    if (data == "[DONE]") {
      s.done = true;
      continue;
    }
    auto c = json::parse(data).as_object();
    if (c.contains("usage") && c["usage"].is_object()) {
      s.prompt_tokens = c["usage"].at("prompt_tokens").as_int64();
    }
    for (auto& ch : c["choices"].as_array()) {
      auto& d = ch.at("delta").as_object();
      if (d.contains("content") && d.at("content").is_string()) {
        s.text += std::string(d.at("content").as_string());
      }
      if (ch.at("finish_reason").is_string()) s.finish = std::string(ch.at("finish_reason").as_string());
    }
  }
  return s;
}

TEST(VertexGateway, GeminiRoutePlainAndStreamedWithOneTokenFetch) {
  VertexHarness v;
  auto r = Chat(v.h(), ChatBody("hello gemini", false, R"("max_tokens":20,"temperature":0.1)", "gemini"));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = r.Json().as_object();
  EXPECT_EQ(j["object"].as_string(), "chat.completion");
  EXPECT_EQ(j["model"].as_string(), "gemini");
  EXPECT_EQ(j["choices"].at(0).at("message").at("content").as_string(), "ECHO: hello gemini");
  EXPECT_EQ(j["choices"].at(0).at("finish_reason").as_string(), "stop");
  EXPECT_EQ(j["usage"].at("completion_tokens").as_int64(), 3);

  auto sent = v.Received();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0]["path"].as_string(), "/token");
  EXPECT_EQ(sent[1]["path"].as_string(), std::string(kGeminiPath) + ":generateContent");
  EXPECT_EQ(sent[1]["headers"].at("authorization").as_string(), "Bearer ya29.fake-1");
  auto body = json::parse(sent[1]["body"].as_string()).as_object();
  EXPECT_FALSE(body.contains("model"));
  EXPECT_EQ(body["contents"].at(0).at("role").as_string(), "user");
  EXPECT_EQ(body["generationConfig"].at("maxOutputTokens").as_int64(), 20);

  auto s = Chat(v.h(), ChatBody("stream me", true, R"("stream_options":{"include_usage":true})", "gemini"));
  ASSERT_EQ(s.status, 200u) << s.body;
  Streamed st = ReadChunks(s.body);
  EXPECT_EQ(st.text, "ECHO: stream me");
  EXPECT_EQ(st.finish, "stop");
  EXPECT_TRUE(st.done);
  EXPECT_GT(st.prompt_tokens, 0);
  EXPECT_EQ(v.Received().back()["path"].as_string(),
            std::string(kGeminiPath) + ":streamGenerateContent");
  EXPECT_EQ(v.Count("/token"), 1);  // cached for the second call

  auto filtered = Chat(v.h(), ChatBody("[[fake:safety]] x", false, "", "gemini"));
  ASSERT_EQ(filtered.status, 200u);
  EXPECT_EQ(filtered.Json().at("choices").at(0).at("finish_reason").as_string(), "content_filter");
  auto blocked = Chat(v.h(), ChatBody("[[fake:blocked-prompt]] x", true, "", "gemini"));
  ASSERT_EQ(blocked.status, 200u);
  EXPECT_EQ(ReadChunks(blocked.body).finish, "content_filter");
}

TEST(VertexGateway, ClaudeOnVertexForOpenAiAndAnthropicClientsPlainAndStreamed) {
  VertexHarness v;
  auto r = Chat(v.h(), ChatBody("hello claude", false, "", "claude-vertex"));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("choices").at(0).at("message").at("content").as_string(), "ECHO: hello claude");
  auto sent = v.Received().back();
  EXPECT_EQ(sent["path"].as_string(), std::string(kClaudePath) + ":rawPredict");
  EXPECT_EQ(sent["headers"].at("authorization").as_string().subview().substr(0, 17), "Bearer ya29.fake-");
  EXPECT_FALSE(sent["headers"].as_object().contains("x-api-key"));
  auto body = json::parse(sent["body"].as_string()).as_object();
  EXPECT_FALSE(body.contains("model"));
  EXPECT_EQ(body["anthropic_version"].as_string(), "vertex-2023-10-16");

  auto s = Chat(v.h(), ChatBody("stream claude", true, "", "claude-vertex"));
  ASSERT_EQ(s.status, 200u);
  Streamed st = ReadChunks(s.body);
  EXPECT_EQ(st.text, "ECHO: stream claude");
  EXPECT_TRUE(st.done);
  EXPECT_EQ(v.Received().back()["path"].as_string(), std::string(kClaudePath) + ":streamRawPredict");

  auto m = Messages(v.h(), R"({"model":"claude-vertex","max_tokens":32,"messages":[{"role":"user","content":"native hi"}]})");
  ASSERT_EQ(m.status, 200u) << m.body;
  EXPECT_EQ(m.Json().at("content").at(0).at("text").as_string(), "ECHO: native hi");
  auto ms = Messages(v.h(), R"({"model":"claude-vertex","max_tokens":32,"stream":true,"messages":[{"role":"user","content":"native stream"}]})");
  ASSERT_EQ(ms.status, 200u);
  EXPECT_NE(ms.body.find("event: message_stop"), std::string::npos);
  EXPECT_NE(ms.body.find("native"), std::string::npos);
  EXPECT_EQ(v.Count("/token"), 1);
}

TEST(VertexGateway, GoogleErrorsKeepTheStatusNotTheText) {
  VertexHarness v;
  auto r = Chat(v.h(), ChatBody("secret prompt [[fake:429]]", false, "", "gemini"));
  EXPECT_EQ(r.status, 429u) << r.body;
  EXPECT_EQ(r.Json().at("error").at("type").as_string(), "rate_limit_error");
  EXPECT_EQ(r.body.find("secret prompt"), std::string::npos);  // Google's message quotes it
  EXPECT_EQ(r.body.find("Quota"), std::string::npos);
}

TEST(VertexGateway, GeminiFaultsBecomeClearErrorsWithoutVendorText) {
  VertexHarness v;
  auto e500 = Chat(v.h(), ChatBody("secret prompt [[fake:500]]", false, "", "gemini"));
  EXPECT_EQ(e500.status, 502u) << e500.body;
  auto bad = Chat(v.h(), ChatBody("secret prompt [[fake:bad-json]]", false, "", "gemini"));
  EXPECT_EQ(bad.status, 502u) << bad.body;
  for (const char* fault : {"truncate-stream", "malformed-sse", "error-event", "reset-mid-stream"}) {
    auto r = Chat(v.h(), ChatBody(std::string("secret prompt one two three [[fake:") + fault + "]]",
                                  true, "", "gemini"));
    EXPECT_EQ(r.status, 200u) << fault;
    EXPECT_EQ(r.body.find("data: [DONE]"), std::string::npos) << fault << ": " << r.body;
    EXPECT_NE(r.body.find("\"error\""), std::string::npos) << fault << ": " << r.body;
    EXPECT_EQ(r.body.find("Internal error"), std::string::npos) << fault;  // Google's text
  }
}

TEST(VertexGateway, ShortLivedTokensAreRefreshedBeforeTheyExpire) {
  VertexOptions vo;
  vo.token_lifetime_s = 4;  // refreshed at half its lifetime
  VertexHarness v(vo);
  ASSERT_EQ(Chat(v.h(), ChatBody("one", false, "", "gemini")).status, 200u);
  ASSERT_EQ(Chat(v.h(), ChatBody("two", false, "", "gemini")).status, 200u);
  EXPECT_EQ(v.Count("/token"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ASSERT_EQ(Chat(v.h(), ChatBody("three", false, "", "gemini")).status, 200u);
  EXPECT_EQ(v.Count("/token"), 2);
  auto sent = v.Received();
  EXPECT_EQ(sent.back()["headers"].at("authorization").as_string(), "Bearer ya29.fake-2");
}

TEST(VertexGateway, ATokenEndpointFailureIsA502AndNothingIsForwarded) {
  VertexOptions vo;
  vo.signing_key_pem = NewRsaKeyPem();  // not the key the fake knows: invalid_grant
  VertexHarness v(vo);
  for (const char* model : {"gemini", "claude-vertex"}) {
    auto r = Chat(v.h(), ChatBody("hello", false, "", model));
    EXPECT_EQ(r.status, 502u) << r.body;
    EXPECT_EQ(r.Json().at("error").at("code").as_string(), "upstream_auth_failed");
    EXPECT_EQ(r.body.find("JWT"), std::string::npos);
    EXPECT_EQ(r.body.find("invalid_grant"), std::string::npos);
  }
  EXPECT_EQ(v.Count("/token"), 2);  // a failed fetch is not cached
  EXPECT_EQ(v.Count("/v1/projects/"), 0);
}

TEST(VertexGateway, PolicyDecidesOnTheGeminiBodyThatLeaves) {
  VertexHarness v;
  // OpenAI web search becomes Grounding with Google Search, which no BAA covers.
  auto r = Chat(v.h(), ChatBody("search the web", false, R"("web_search_options":{})", "gemini"));
  EXPECT_EQ(r.status, 403u) << r.body;
  EXPECT_EQ(r.Json().at("error").at("code").as_string(), "baa_scope_violation");
  EXPECT_NE(r.body.find("web_search"), std::string::npos);
  EXPECT_EQ(v.Count("/v1/projects/"), 0);
  EXPECT_EQ(v.Count("/token"), 0);  // refused before any credential is used
  // What cannot be expressed is a 400, not a silent drop.
  auto bad = Chat(v.h(), ChatBody("x", false, R"("logprobs":true)", "gemini"));
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.Json().at("error").at("code").as_string(), "untranslatable_request");
}

TEST(VertexGateway, AzureWithEntraClientCredentialsSendsTheIssuedBearer) {
  VertexHarness v;
  auto r = Chat(v.h(), ChatBody("hello azure", false, "", "azure-entra"));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("choices").at(0).at("message").at("content").as_string(), "ECHO: hello azure");
  auto sent = v.Received();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0]["path"].as_string(), "/tenant-0001/oauth2/v2.0/token");
  EXPECT_NE(sent[0]["body"].as_string().find("grant_type=client_credentials"), std::string::npos);
  EXPECT_EQ(sent[1]["path"].as_string(), "/openai/deployments/gpt4o-deployment/chat/completions");
  EXPECT_EQ(sent[1]["headers"].at("authorization").as_string(),
            "Bearer eyJ0eXAiOiJKV1QifQ.fake-entra-1");
  EXPECT_FALSE(sent[1]["headers"].as_object().contains("api-key"));
  auto s = Chat(v.h(), ChatBody("stream azure", true, "", "azure-entra"));
  ASSERT_EQ(s.status, 200u);
  EXPECT_EQ(ReadChunks(s.body).text, "ECHO: stream azure");
  EXPECT_EQ(v.Count("/tenant-0001/"), 1);
}

TEST(VertexGateway, AzureEntraWithAWrongSecretIsA502WithoutTheIdentityProvidersText) {
  VertexOptions vo;
  vo.entra_secret = "wrong-secret";
  VertexHarness v(vo);
  auto r = Chat(v.h(), ChatBody("hello", false, "", "azure-entra"));
  EXPECT_EQ(r.status, 502u);
  EXPECT_EQ(r.Json().at("error").at("code").as_string(), "upstream_auth_failed");
  EXPECT_EQ(r.body.find("AADSTS"), std::string::npos);
  EXPECT_EQ(v.Count("/openai/"), 0);
}

TEST(VertexGateway, AuditSeesVertexCallsWithSurfaceFinishAndUsage) {
  fs::path dir = fs::temp_directory_path() / ("baagate-vx-audit-" + core::NewUuidV7());
  fs::create_directories(dir);
  const std::string db = (dir / "audit.db").string();
  {
    auto store = audit::OpenSqliteStore(db);
    ASSERT_TRUE(store.ok());
    audit::AuditLogOptions ao;
    ao.log_id = "it/vx";
    ao.key_file = (dir / "audit.key").string();
    auto log = audit::AuditLog::Open(std::move(store).value(), ao);
    ASSERT_TRUE(log.ok());
    {
      VertexOptions vo;
      vo.audit = log->get();
      VertexHarness v(vo);
      ASSERT_EQ(Chat(v.h(), ChatBody("audit me", false, "", "gemini")).status, 200u);
      ASSERT_EQ(Chat(v.h(), ChatBody("[[fake:safety]] y", true, "", "gemini")).status, 200u);
      ASSERT_EQ(Chat(v.h(), ChatBody("claude audit", false, "", "claude-vertex")).status, 200u);
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    (*log)->Close();
  }
  std::vector<audit::StoredRecord> recs;
  auto store = audit::OpenSqliteStore(db);
  ASSERT_TRUE((*store)->Scan("it/vx", 0, [&](const audit::StoredRecord& r) {
    recs.push_back(r);
    return true;
  }).ok());
  ASSERT_EQ(recs.size(), 6u);
  // Decisions are written before each call is forwarded, so they are in call order. An outcome
  // is written after its answer reached the client and may follow the next call's decision
  // (seen under ASan), so outcomes are found by their decision's event id.
  std::vector<const audit::StoredRecord*> decisions;
  std::map<std::string, const audit::StoredRecord*> outcome_of;
  for (const audit::StoredRecord& r : recs) {
    if (r.phase == "decision") {
      decisions.push_back(&r);
    } else {
      const boost::json::value v = boost::json::parse(r.body);
      outcome_of[std::string(v.at("decision_event_id").as_string())] = &r;
    }
  }
  ASSERT_EQ(decisions.size(), 3u);
  ASSERT_EQ(outcome_of.size(), 3u);
  auto outcome = [&](std::size_t call) -> const std::string& {
    static const std::string kNone;
    auto it = outcome_of.find(decisions[call]->event_id);
    return it != outcome_of.end() ? it->second->body : kNone;
  };
  EXPECT_NE(decisions[0]->body.find("vertex.generate_content"), std::string::npos)
      << decisions[0]->body;
  EXPECT_NE(decisions[0]->body.find("vertex_google"), std::string::npos);
  EXPECT_NE(decisions[0]->body.find("\"decision\":\"allow\""), std::string::npos);
  EXPECT_EQ(decisions[0]->body.find("audit me"), std::string::npos);  // never the prompt
  EXPECT_NE(outcome(0).find("\"status\":\"success\""), std::string::npos) << outcome(0);
  EXPECT_NE(outcome(0).find("\"finish_reason\":\"stop\""), std::string::npos);
  EXPECT_NE(outcome(0).find("\"in\":2,\"out\":3"), std::string::npos) << outcome(0);
  EXPECT_NE(outcome(1).find("\"status\":\"content_filter_triggered\""), std::string::npos)
      << outcome(1);
  EXPECT_NE(decisions[2]->body.find("vertex.raw_predict"), std::string::npos)
      << decisions[2]->body;
  EXPECT_NE(outcome(2).find("\"status\":\"success\""), std::string::npos) << outcome(2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace baagate::testing
