// Routing and failover: routes that share a model form an ordered list; a call moves to the
// next route the policy allows on a connect error, 429 or 5xx that reached no byte to the
// client; circuit breakers, Retry-After and the retry budget limit what is tried.
#include <gmock/gmock.h>

#include <chrono>
#include <thread>

#include "harness.h"

namespace baagate::testing {
namespace {

namespace json = boost::json;
using bhttp::verb;
using ::testing::HasSubstr;
using ::testing::Not;

std::size_t VendorRequests(Harness& h) {
  return json::parse(h.vendor().RecordedJson()).as_object()["requests"].as_array().size();
}

fake_vendor::Options Failing(double rate_500, double rate_429 = 0) {
  fake_vendor::Options o;
  o.fault_rate_500 = rate_500;
  o.fault_rate_429 = rate_429;
  return o;
}

// A port nothing listens on: bound, then released.
std::uint16_t ClosedPort() {
  net::io_context io;
  tcp::acceptor a(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  std::uint16_t port = a.local_endpoint().port();
  a.close();
  return port;
}

std::string Metrics(Harness& h) {
  Client m(h.admin());
  return m.Send(verb::get, "/metrics", "", "", "").body;
}

// The good fake (`fake`) behind a failing primary `bad`, for model fo.
Harness::Options Pair(const ExtraVendor& bad, const std::string& top_yaml = "") {
  Harness::Options o;
  o.extra_upstreams_yaml = bad.UpstreamYaml("bad");
  o.extra_routes_yaml =
      "  - { model: fo, upstream: bad, upstream_model: gpt-4o }\n"
      "  - { model: fo, name: fo-backup, upstream: fake, upstream_model: gpt-4o }\n";
  o.extra_key_models = ", fo";
  o.extra_top_yaml = top_yaml;
  return o;
}

TEST(Failover, ServerErrorMovesTheCallToTheNextRoute) {
  ExtraVendor bad(Failing(1.0));
  Harness h(Pair(bad));
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo"));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_THAT(r.body, HasSubstr("ECHO: hello"));
  EXPECT_EQ(bad.requests(), 1u);
  EXPECT_EQ(VendorRequests(h), 1u);
  EXPECT_THAT(Metrics(h), HasSubstr("baagate_upstream_errors_total{upstream=\"bad\",kind=\"failover\"} 1"));
}

TEST(Failover, StreamedCallFailsOverBeforeTheFirstByte) {
  ExtraVendor bad(Failing(1.0));
  Harness h(Pair(bad));
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", true, "", "fo"));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_THAT(r.body, HasSubstr("data: [DONE]"));
  EXPECT_EQ(bad.requests(), 1u);
}

TEST(Failover, ConnectErrorMovesTheCallToTheNextRoute) {
  Harness::Options o;
  o.extra_upstreams_yaml = "  dead:\n    region: us\n    base_url: http://127.0.0.1:" +
                           std::to_string(ClosedPort()) +
                           "/v1\n    connect_timeout_ms: 500\n"
                           "    credential: { env: BAAGATE_TEST_VENDOR_KEY }\n";
  o.extra_routes_yaml =
      "  - { model: fo, upstream: dead }\n"
      "  - { model: fo, name: fo-backup, upstream: fake }\n";
  o.extra_key_models = ", fo";
  Harness h(o);
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo"));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(VendorRequests(h), 1u);
}

TEST(Failover, RetryAfterKeepsARateLimitedRouteOutOfRotation) {
  ExtraVendor bad(Failing(0, 1.0));  // 429 with Retry-After: 1
  Harness h(Pair(bad));
  Client c(h.gateway());
  for (int i = 0; i < 3; ++i) {
    auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo"));
    ASSERT_EQ(r.status, 200u) << r.body;
  }
  EXPECT_EQ(bad.requests(), 1u);  // the next two went straight to the backup
  EXPECT_EQ(VendorRequests(h), 3u);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo"));
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(bad.requests(), 2u);  // the wait is over: the primary is tried again
}

TEST(Failover, CircuitOpensAfterConsecutiveFailuresAndProbesAfterTheCooldown) {
  ExtraVendor bad(Failing(1.0));
  Harness h(Pair(bad, "failover:\n  breaker_failures: 2\n  breaker_cooldown_ms: 300\n"));
  Client c(h.gateway());
  auto send = [&] {
    auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo"));
    EXPECT_EQ(r.status, 200u) << r.body;
  };
  send();
  send();
  EXPECT_EQ(bad.requests(), 2u);
  send();
  send();
  EXPECT_EQ(bad.requests(), 2u);  // open: skipped
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  send();
  EXPECT_EQ(bad.requests(), 3u);  // half-open: one probe, which fails again
  send();
  EXPECT_EQ(bad.requests(), 3u);
  EXPECT_EQ(VendorRequests(h), 6u);
}

TEST(Failover, EveryCircuitOpenAnswers503WithRetryAfter) {
  ExtraVendor bad(Failing(1.0));
  ExtraVendor bad2(Failing(1.0));
  Harness::Options o;
  o.extra_upstreams_yaml = bad.UpstreamYaml("bad") + bad2.UpstreamYaml("bad2");
  o.extra_routes_yaml =
      "  - { model: fo, upstream: bad }\n"
      "  - { model: fo, name: fo-2, upstream: bad2 }\n";
  o.extra_key_models = ", fo";
  o.extra_top_yaml = "failover:\n  breaker_failures: 1\n  breaker_cooldown_ms: 5000\n";
  Harness h(o);
  Client c(h.gateway());
  auto first = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo"));
  EXPECT_EQ(first.status, 502u) << first.body;  // both failed; the vendor's text is withheld
  EXPECT_THAT(first.body, Not(HasSubstr("hello")));
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo"));
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_EQ(r.headers[bhttp::field::retry_after], "5");
  EXPECT_THAT(r.body, HasSubstr("upstream_unavailable"));
  EXPECT_EQ(bad.requests() + bad2.requests(), 2u);
}

TEST(Failover, OnlyRoutesThePolicyAllowsAreCandidates) {
  Harness::Options o;
  // The primary processes in the EU, outside the tenant's allowed regions.
  o.extra_routes_yaml =
      "  - { model: fo, upstream: fake-eu }\n"
      "  - { model: fo, name: fo-us, upstream: fake }\n"
      "  - { model: fo-eu, upstream: fake-eu }\n"
      "  - { model: fo-eu, name: fo-eu-2, upstream: fake-eu }\n";
  o.extra_key_models = ", fo, fo-eu";
  Harness h(o);
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo"));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(VendorRequests(h), 1u);
  // No route allowed: the primary's block, and nothing sent.
  auto blocked = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo-eu"));
  EXPECT_EQ(blocked.status, 403u);
  EXPECT_THAT(blocked.body, HasSubstr("REGION_NOT_ALLOWED"));
  EXPECT_EQ(VendorRequests(h), 1u);
}

TEST(Failover, NoFailoverOnceBytesReachedTheClient) {
  ExtraVendor backup{fake_vendor::Options{}};
  Harness::Options o;
  o.extra_upstreams_yaml = backup.UpstreamYaml("backup");
  o.extra_routes_yaml =
      "  - { model: fo, upstream: fake }\n"
      "  - { model: fo, name: fo-backup, upstream: backup }\n";
  o.extra_key_models = ", fo";
  Harness h(o);
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions",
                  ChatBody("hello [[fake:reset-mid-stream]]", true, "", "fo"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_THAT(r.body, Not(HasSubstr("data: [DONE]")));
  EXPECT_EQ(backup.requests(), 0u);
  // A client error (400) is the vendor's answer, not a failure: no failover either.
  auto bad_request = c.Send(verb::post, "/v1/chat/completions",
                            ChatBody("hello [[fake:400]]", false, "", "fo"));
  EXPECT_EQ(bad_request.status, 400u);
  EXPECT_EQ(backup.requests(), 0u);
}

TEST(Failover, RetryBudgetLimitsFailovers) {
  ExtraVendor bad(Failing(1.0));
  Harness h(Pair(bad, "failover:\n  breaker_failures: 1000\n  retry_budget_percent: 0\n"
                      "  retry_budget_min: 1\n"));
  Client c(h.gateway());
  auto first = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo"));
  EXPECT_EQ(first.status, 200u);
  // The budget is spent: the primary's failure is answered, not retried elsewhere.
  auto second = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo"));
  EXPECT_EQ(second.status, 502u) << second.body;
  EXPECT_EQ(bad.requests(), 2u);
  EXPECT_EQ(VendorRequests(h), 1u);
}

TEST(Failover, WhenNoLaterRouteTakesTheCallTheVendorsRateLimitIsAnswered) {
  ExtraVendor bad(Failing(0, 1.0));  // 429 with Retry-After: 1
  Harness::Options o;
  o.extra_upstreams_yaml = bad.UpstreamYaml("bad");
  // The second route is refused by the policy (EU region) only once it is prepared.
  o.extra_routes_yaml =
      "  - { model: fo, upstream: bad }\n"
      "  - { model: fo, name: fo-eu, upstream: fake-eu }\n";
  o.extra_key_models = ", fo";
  Harness h(o);
  Client c(h.gateway());
  const std::size_t before = VendorRequests(h);
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello", false, "", "fo"));
  EXPECT_EQ(r.status, 429u) << r.body;
  EXPECT_EQ(r.headers[bhttp::field::retry_after], "1");
  EXPECT_THAT(r.body, Not(HasSubstr("hello")));
  EXPECT_EQ(bad.requests(), 1u);
  EXPECT_EQ(VendorRequests(h), before);
}

TEST(Failover, AnthropicClientFailsOverToo) {
  ExtraVendor bad(Failing(1.0));
  Harness h(Pair(bad));
  Client c(h.gateway());
  bhttp::request<bhttp::string_body> req{verb::post, "/v1/messages", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set("x-api-key", kGatewayKey);
  req.set("anthropic-version", "2023-06-01");
  req.set(bhttp::field::content_type, "application/json");
  req.body() = R"({"model":"fo","max_tokens":64,"messages":[{"role":"user","content":"hello"}]})";
  req.prepare_payload();
  bhttp::write(c.socket(), req);
  auto r = c.Read();
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_THAT(r.body, HasSubstr("ECHO: hello"));
  EXPECT_EQ(bad.requests(), 1u);
}

}  // namespace
}  // namespace baagate::testing
