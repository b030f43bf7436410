// In-process harness for integration tests: a fake vendor and a gateway on loopback port 0,
// and a small blocking HTTP client. Everything runs on real sockets.
#pragma once

#include "audit/audit_log.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>
#include <thread>

#include "admin/admin_handler.h"
#include "admin/metrics.h"
#include "config/config.h"
#include "core/crypto.h"
#include "fake_vendor/fake_vendor.h"
#include "http/server.h"
#include "pipeline/gateway.h"
#include "pipeline/snapshot.h"

namespace baagate::testing {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

inline constexpr char kGatewayKey[] = "bg-integration-test-key";
inline constexpr char kVendorKey[] = "sk-vendor-secret-0001";
inline constexpr char kAwsAccessKeyId[] = "AKIDFAKEBEDROCK0001";
inline constexpr char kAwsSecretKey[] = "fake/bedrock+secret-0001";

struct RawResponse {
  unsigned status = 0;
  std::string body;
  bhttp::fields headers;
  boost::json::value Json() const { return boost::json::parse(body); }
};

// A blocking client: one connection, one request at a time.
class Client {
 public:
  explicit Client(tcp::endpoint ep) : socket_(io_) { socket_.connect(ep); }
  tcp::socket& socket() { return socket_; }

  RawResponse Send(bhttp::verb method, const std::string& target, const std::string& body = "",
                   const std::string& key = kGatewayKey,
                   const std::string& content_type = "application/json") {
    bhttp::request<bhttp::string_body> req{method, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!key.empty()) req.set(bhttp::field::authorization, "Bearer " + key);
    if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(socket_, req);
    return Read();
  }

  RawResponse Read() {
    bhttp::response_parser<bhttp::string_body> p;
    p.body_limit(64u << 20);
    boost::system::error_code ec;
    bhttp::read(socket_, buf_, p, ec);
    RawResponse r;
    if (ec) return r;
    r.status = p.get().result_int();
    r.body = p.get().body();
    r.headers = p.get().base();
    return r;
  }

  // Writes raw bytes and reads whatever comes back until the server closes (or 5 s).
  std::string RawExchange(const std::string& bytes, int wait_ms = 5000) {
    net::write(socket_, net::buffer(bytes));
    return ReadUntilClose(wait_ms);
  }

  std::string ReadUntilClose(int wait_ms = 5000) {
    std::string out;
    struct timeval tv{wait_ms / 1000, (wait_ms % 1000) * 1000};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(socket_.native_handle(), buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  net::io_context io_;
  tcp::socket socket_;
  boost::beast::flat_buffer buf_;
};

// One SSE event of a client response; unnamed events get name "", `data: [DONE]` name "[DONE]".
struct Event {
  std::string name;
  boost::json::object data;
};
// Splits an SSE body into events (shared by the Anthropic, Bedrock and Vertex route tests).
std::vector<Event> ParseSse(const std::string& body);

std::string ChatBody(const std::string& text, bool stream = false, const std::string& extra = "",
                     const std::string& model = "gpt-4o-mini");

// Fake vendor + gateway (+ admin) on loopback, torn down by the destructor.
class Harness {
 public:
  struct Options {
    bool fake_tls = false;
    bool gateway_tls = false;
    bool trust_fake_ca = true;
    std::string extra_server_yaml;    // appended under server.limits
    std::string extra_upstream_yaml;  // appended under the upstream
    std::string extra_upstreams_yaml; // more upstreams (indented two spaces, like `  name:`)
    std::string extra_routes_yaml;    // more routes (`  - { … }` lines)
    std::string extra_key_models;     // more route patterns for the test key (", a, b")
    std::string extra_top_yaml;       // more top-level sections (e.g. failover:)
    // Replaces the default tenant (a BAA with OpenAI, zero data retention verified now, US
    // regions) and apps sections; {NOW} is replaced by the current time.
    std::string tenant_yaml;
    bool deidentifier = true;  // give the gateway the PHI detector
    int workers = 2;
    audit::AuditLog* audit = nullptr;  // must outlive the harness; null: no audit log
  };

  explicit Harness(Options opts);
  Harness() : Harness(Options{}) {}
  ~Harness();

  tcp::endpoint gateway() const { return gateway_->local_endpoint(); }
  tcp::endpoint admin() const { return admin_->local_endpoint(); }
  tcp::endpoint fake() const { return fake_server_->local_endpoint(); }
  fake_vendor::FakeVendor& vendor() { return *vendor_; }
  pipeline::Gateway& gateway_state() { return *gateway_state_; }
  http::Server& gateway_server() { return *gateway_; }
  admin::Metrics& metrics() { return metrics_; }
  const std::string& yaml() const { return yaml_; }
  static std::string CertDir();
  // The current time as RFC 3339 UTC, for attestations.
  static std::string NowRfc3339(long offset_seconds = 0);

  // The last request the fake vendor received, as JSON.
  boost::json::object LastVendorRequest();

 private:
  admin::Metrics metrics_;
  admin::AdminState admin_state_;
  std::unique_ptr<fake_vendor::FakeVendor> vendor_;
  std::unique_ptr<http::Server> fake_server_;
  std::unique_ptr<pipeline::Gateway> gateway_state_;
  std::unique_ptr<http::Server> gateway_;
  std::unique_ptr<http::Server> admin_;
  std::string yaml_;
};

// Another fake vendor on loopback (for example one that always fails), for failover tests.
class ExtraVendor {
 public:
  explicit ExtraVendor(fake_vendor::Options o);
  ~ExtraVendor();
  std::uint16_t port() const { return server_->local_endpoint().port(); }
  // Requests it has received so far.
  std::size_t requests() const;
  // An OpenAI upstream entry for Harness::Options::extra_upstreams_yaml.
  std::string UpstreamYaml(const std::string& name) const;

 private:
  std::unique_ptr<fake_vendor::FakeVendor> vendor_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace baagate::testing
