#include "harness.h"

#include <cstdio>
#include <ctime>

#include "config/phi_options.h"
#include "http/tls.h"
#include "providers/anthropic/anthropic.h"
#include "providers/openai/openai.h"

namespace baagate::testing {

std::string ChatBody(const std::string& text, bool stream, const std::string& extra,
                     const std::string& model) {
  boost::json::object o{{"model", model},
                        {"messages", boost::json::array{boost::json::object{
                                         {"role", "user"}, {"content", text}}}}};
  if (stream) o["stream"] = true;
  std::string s = boost::json::serialize(o);
  if (!extra.empty()) s = s.substr(0, s.size() - 1) + "," + extra + "}";
  return s;
}

std::string Harness::CertDir() {
  static const std::string dir = [] {
    std::string d = (std::filesystem::temp_directory_path() / "baagate-test-certs").string();
    std::string cmd = "bash ";
    cmd.append(BAAGATE_TEST_CERTS_SCRIPT).append(" ").append(d);
    if (std::system(cmd.c_str()) != 0) ADD_FAILURE() << "cannot make test certificates";
    return d;
  }();
  return dir;
}

namespace {
std::shared_ptr<net::ssl::context> ServerTls() {
  auto ctx = http::MakeServerTlsContext(Harness::CertDir() + "/server.pem",
                                        Harness::CertDir() + "/server.key");
  EXPECT_TRUE(ctx.ok()) << ctx.status().message();
  return *ctx;
}
}  // namespace

namespace {

constexpr std::string_view kDefaultTenant = R"(tenant:
  id: t1
  contracts:
    - { id: BAA-OPENAI-TEST, vendor: openai, effective_date: "2025-01-01" }
  attestations:
    - { vendor: openai, retention: zero_data_retention, source: verified, verified_at: "{NOW}" }
  pseudonym_key: { env: BAAGATE_TEST_PSEUDONYM_KEY }
apps:
  - { id: a1, purpose: treatment, deidentified_fallback: true }
)";

}  // namespace

std::vector<Event> ParseSse(const std::string& body) {
  std::vector<Event> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    std::string block = body.substr(pos, end - pos);
    pos = end + 2;
    Event e;
    std::string data;
    std::size_t lp = 0;
    while (lp < block.size()) {
      std::size_t le = block.find('\n', lp);
      if (le == std::string::npos) le = block.size();
      std::string line = block.substr(lp, le - lp);
      lp = le + 1;
      if (line.rfind("event: ", 0) == 0) e.name = line.substr(7);
      if (line.rfind("data: ", 0) == 0) data += line.substr(6);
    }
    if (data.empty()) continue;
    if (data == "[DONE]") {
      e.name = "[DONE]";
    } else {
      e.data = boost::json::parse(data).as_object();
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string Harness::NowRfc3339(long offset_seconds) {
  std::time_t t = std::time(nullptr) + offset_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Harness::Harness(Options opts) {
  setenv("BAAGATE_TEST_PSEUDONYM_KEY", "test-pseudonym-key-0123456789abcdef", 1);
  setenv("BAAGATE_TEST_VENDOR_KEY", kVendorKey, 1);
  fake_vendor::Options fo;
  fo.api_key = kVendorKey;
  // Bedrock routes sign with the standard AWS variables; the fake verifies the same pair.
  setenv("AWS_ACCESS_KEY_ID", kAwsAccessKeyId, 1);
  setenv("AWS_SECRET_ACCESS_KEY", kAwsSecretKey, 1);
  unsetenv("AWS_SESSION_TOKEN");
  fo.aws_access_key_id = kAwsAccessKeyId;
  fo.aws_secret_access_key = kAwsSecretKey;
  if (opts.fake_options) opts.fake_options(fo);
  vendor_ = std::make_unique<fake_vendor::FakeVendor>(fo);
  http::ServerOptions fso;
  fso.name = "fake";
  fso.endpoint = tcp::endpoint(net::ip::make_address("127.0.0.1"), 0);
  fso.workers = 1;
  fso.json_error_body = &providers::anthropic::ErrorJsonForPath;
  if (opts.fake_tls) fso.tls = ServerTls();
  fake_server_ = std::make_unique<http::Server>(
      fso, [this](http::Worker& w) { return vendor_->MakeHandler(w); });
  EXPECT_TRUE(fake_server_->Start().ok());

  const std::string fake_addr = "127.0.0.1:" + std::to_string(fake().port());
  if (opts.before_gateway) opts.before_gateway(fake_addr);
  auto with_fake = [&fake_addr](std::string y) {
    for (auto at = y.find("{FAKE}"); at != std::string::npos; at = y.find("{FAKE}")) {
      y.replace(at, 6, fake_addr);
    }
    return y;
  };
  std::string scheme = opts.fake_tls ? "https" : "http";
  std::string host = opts.fake_tls ? "localhost" : "127.0.0.1";
  yaml_ = "server:\n  listen: 127.0.0.1:0\n  admin_listen: 127.0.0.1:0\n  limits:\n"
          "    timer_resolution_ms: 10\n" +
          opts.extra_server_yaml +
          "log:\n  level: error\n  access: false\n"
          "upstreams:\n  fake:\n    region: us\n    base_url: " +
          scheme + "://" + host + ":" + std::to_string(fake().port()) +
          "/v1\n    credential: { env: BAAGATE_TEST_VENDOR_KEY }\n" +
          (opts.fake_tls && opts.trust_fake_ca ? "    ca_file: " + CertDir() + "/ca.pem\n" : "") +
          opts.extra_upstream_yaml +
          // The same fake, declared as processing in the EU and as Anthropic (no BAA below).
          "  fake-eu:\n    region: eu-west-1\n    base_url: http://127.0.0.1:" +
          std::to_string(fake().port()) + "/v1\n    credential: { env: BAAGATE_TEST_VENDOR_KEY }\n"
          "  fake-anthropic:\n    provider: anthropic\n    region: us\n    base_url: "
          "http://127.0.0.1:" + std::to_string(fake().port()) +
          "/v1\n    credential: { env: BAAGATE_TEST_VENDOR_KEY }\n"
          "  fake-azure:\n    provider: azure_openai\n    region: eastus2\n    base_url: "
          "http://127.0.0.1:" + std::to_string(fake().port()) +
          "\n    credential: { env: BAAGATE_TEST_VENDOR_KEY }\n"
          "  fake-bedrock:\n    provider: bedrock\n    region: us-east-1\n    base_url: "
          "http://127.0.0.1:" + std::to_string(fake().port()) + "\n    credential: aws_environment\n" +
          with_fake(opts.extra_upstreams_yaml) +
          "routes:\n"
          "  - { model: gpt-4o-mini, upstream: fake }\n"
          "  - { model: clinical, upstream: fake, upstream_model: gpt-4o }\n"
          "  - { model: text-embedding-3-small, upstream: fake }\n"
          "  - { model: restricted, upstream: fake }\n"
          "  - { model: eu-model, upstream: fake-eu }\n"
          "  - { model: claude-fallback, upstream: fake-anthropic, deidentified_fallback: true }\n"
          "  - { model: eu-deid, upstream: fake-eu, deidentified_fallback: true }\n"
          "  - { model: azure-gpt, upstream: fake-azure, upstream_model: gpt4o-deployment }\n"
          "  - { model: claude-bedrock, upstream: fake-bedrock, upstream_model: "
          "\"anthropic.claude-3-5-sonnet-20240620-v1:0\" }\n"
          // Not an Anthropic model id: the Converse API (bedrock_api unset).
          "  - { model: nova-bedrock, upstream: fake-bedrock, upstream_model: "
          "\"amazon.nova-pro-v1:0\" }\n" +
          with_fake(opts.extra_routes_yaml) +
          "keys:\n"
          "  - { name: test, sha256: " +
          core::HexEncode(core::Sha256(kGatewayKey)) +
          ", tenant: t1, app: a1, role: dev, purpose: treatment, models: [gpt-4o-mini, clinical, "
          "text-embedding-3-small, eu-model, claude-fallback, eu-deid, claude-bedrock, azure-gpt, "
          "nova-bedrock" +
          opts.extra_key_models + "] }\n" + opts.extra_top_yaml;
  std::string tenant = opts.tenant_yaml.empty() ? std::string(kDefaultTenant) : opts.tenant_yaml;
  for (auto at = tenant.find("{NOW}"); at != std::string::npos; at = tenant.find("{NOW}")) {
    tenant.replace(at, 5, NowRfc3339());
  }
  yaml_ += tenant;
  auto cfg = config::ParseConfig(yaml_, "harness.yaml");
  EXPECT_TRUE(cfg.ok()) << cfg.status().message();
  auto snap = pipeline::Snapshot::Build(*cfg);
  EXPECT_TRUE(snap.ok()) << snap.status().message();
  gateway_state_ = std::make_unique<pipeline::Gateway>(*snap, metrics_, opts.audit);
  if (opts.deidentifier) {
    // One detector per test process: loading the dictionaries is the slow part.
    static const std::shared_ptr<const phi::Detector> detector = [] {
      auto d = phi::Detector::Create();
      EXPECT_TRUE(d.ok()) << d.status().message();
      return d.ok() ? *d : nullptr;
    }();
    if (!cfg->phi.HasLists()) {
      gateway_state_->SetDeidentifier(detector);
    } else {
      // The configuration's own lists, as `baagate serve` loads them.
      auto d = config::MakeDetector(cfg->phi);
      EXPECT_TRUE(d.ok()) << d.status().message();
      if (d.ok()) gateway_state_->SetDeidentifier(*d);
    }
  }

  http::ServerOptions gso;
  gso.name = "gateway";
  gso.endpoint = tcp::endpoint(net::ip::make_address("127.0.0.1"), 0);
  gso.workers = opts.workers;
  gso.limits = pipeline::ServerLimitsFromConfig(cfg->server.limits);
  gso.json_error_body = &providers::anthropic::ErrorJsonForPath;
  if (opts.gateway_tls) gso.tls = ServerTls();
  gateway_ = std::make_unique<http::Server>(
      gso, [this](http::Worker& w) { return gateway_state_->MakeHandler(w); });
  EXPECT_TRUE(gateway_->Start().ok());

  http::ServerOptions aso;
  aso.endpoint = tcp::endpoint(net::ip::make_address("127.0.0.1"), 0);
  admin_ = std::make_unique<http::Server>(
      aso, [this](http::Worker&) { return admin::MakeAdminHandler(metrics_, admin_state_); });
  EXPECT_TRUE(admin_->Start().ok());
  admin_state_.ready = true;
}

Harness::~Harness() {
  admin_->Stop();
  gateway_->Stop();
  fake_server_->Stop();
}

boost::json::object Harness::LastVendorRequest() {
  auto all = boost::json::parse(vendor_->RecordedJson()).as_object();
  auto& reqs = all["requests"].as_array();
  if (reqs.empty()) return {};
  return reqs.back().as_object();
}

ExtraVendor::ExtraVendor(fake_vendor::Options o) {
  o.api_key = kVendorKey;
  vendor_ = std::make_unique<fake_vendor::FakeVendor>(std::move(o));
  http::ServerOptions so;
  so.name = "extra-fake";
  so.endpoint = tcp::endpoint(net::ip::make_address("127.0.0.1"), 0);
  so.workers = 1;
  so.json_error_body = &providers::anthropic::ErrorJsonForPath;
  server_ = std::make_unique<http::Server>(
      so, [this](http::Worker& w) { return vendor_->MakeHandler(w); });
  EXPECT_TRUE(server_->Start().ok());
}

ExtraVendor::~ExtraVendor() { server_->Stop(); }

std::size_t ExtraVendor::requests() const {
  return boost::json::parse(vendor_->RecordedJson()).as_object()["requests"].as_array().size();
}

std::string ExtraVendor::UpstreamYaml(const std::string& name) const {
  return "  " + name + ":\n    region: us\n    base_url: http://127.0.0.1:" +
         std::to_string(port()) + "/v1\n    credential: { env: BAAGATE_TEST_VENDOR_KEY }\n";
}

}  // namespace baagate::testing
