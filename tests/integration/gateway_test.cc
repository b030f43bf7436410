// Gateway + fake vendor over loopback: the OpenAI front door, streaming, keys, bad input,
// upstream failures, cancellation, TLS, drain and reload.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "harness.h"

namespace baagate::testing {
namespace {

namespace json = boost::json;
using bhttp::verb;

// One chat request carrying `text` through a fresh gateway and fake vendor.
RawResponse ChatOnce(const std::string& text, bool stream = false, Harness::Options opts = {}) {
  Harness h(opts);
  Client c(h.gateway());
  return c.Send(verb::post, "/v1/chat/completions", ChatBody(text, stream));
}

std::string Content(const RawResponse& r) {
  return std::string(
      r.Json().at("choices").at(0).at("message").at("content").as_string());
}

TEST(GatewayChat, AnswersWithTheVendorsReplyAndSwapsInTheVendorKey) {
  Harness h;
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("hello gateway"));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(Content(r), "ECHO: hello gateway");
  EXPECT_FALSE(r.headers["x-request-id"].empty());
  auto last = h.LastVendorRequest();
  auto headers = last["headers"].as_object();
  EXPECT_EQ(headers["authorization"].as_string(), std::string("Bearer ") + kVendorKey);
  EXPECT_EQ(last["path"].as_string(), "/v1/chat/completions");
  EXPECT_EQ(last["body"].as_string().find(kGatewayKey), json::string::npos);
}

TEST(GatewayChat, MapsAnAliasToTheUpstreamModel) {
  Harness h;
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("x", false, "", "clinical"));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto body = json::parse(h.LastVendorRequest()["body"].as_string()).as_object();
  EXPECT_EQ(body["model"].as_string(), "gpt-4o");
}

TEST(GatewayChat, KeepAliveServesManyRequestsOnOneConnection) {
  Harness h;
  Client c(h.gateway());
  for (int i = 0; i < 20; ++i) {
    auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("n" + std::to_string(i)));
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(Content(r), "ECHO: n" + std::to_string(i));
  }
}

TEST(GatewayStream, RelaysEventsUntilDoneWithoutTheUsageChunkNobodyAskedFor) {
  Harness h;
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("stream me please", true));
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.headers[bhttp::field::content_type], "text/event-stream; charset=utf-8");
  EXPECT_NE(r.body.find("\"content\":\"stream \""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("data: [DONE]\n\n"), std::string::npos);
  EXPECT_EQ(r.body.find("\"choices\":[]"), std::string::npos) << "usage-only chunk leaked";
  // The vendor was asked for usage so the gateway always knows the token counts.
  auto body = json::parse(h.LastVendorRequest()["body"].as_string()).as_object();
  EXPECT_TRUE(body["stream_options"].at("include_usage").as_bool());
}

TEST(GatewayStream, PassesTheUsageChunkWhenTheClientAsks) {
  Harness h;
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/chat/completions",
                  ChatBody("count me", true, R"("stream_options":{"include_usage":true})"));
  ASSERT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find("\"choices\":[],\"usage\":{\"prompt_tokens\""), std::string::npos)
      << r.body;
}

TEST(GatewayEmbeddings, ReturnsVectors) {
  Harness h;
  Client c(h.gateway());
  auto r = c.Send(verb::post, "/v1/embeddings",
                  R"({"model":"text-embedding-3-small","input":["a","b"]})");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("data").as_array().size(), 2u);
}

TEST(GatewayModels, ListsTheRoutesTheKeyMayUse) {
  Harness h;
  Client c(h.gateway());
  auto r = c.Send(verb::get, "/v1/models", "", kGatewayKey, "");
  ASSERT_EQ(r.status, 200u);
  std::string s = r.body;
  EXPECT_NE(s.find("\"gpt-4o-mini\""), std::string::npos);
  EXPECT_EQ(s.find("\"restricted\""), std::string::npos);
}

// --- gateway keys ---

void ExpectOpenAiError(const RawResponse& r, unsigned status, std::string_view code) {
  EXPECT_EQ(r.status, status) << r.body;
  auto v = r.Json();
  const auto& e = v.at("error").as_object();
  EXPECT_TRUE(e.contains("message") && e.contains("type") && e.contains("param") &&
              e.contains("code"))
      << r.body;
  if (!code.empty()) {
    EXPECT_EQ(e.at("code").as_string(), code) << r.body;
  }
}

TEST(GatewayKeys, RefusesAMissingKey) {
  Harness h;
  Client c(h.gateway());
  ExpectOpenAiError(c.Send(verb::post, "/v1/chat/completions", ChatBody("x"), ""), 401,
                    "missing_api_key");
}

TEST(GatewayKeys, RefusesAWrongKeyAndAVendorKey) {
  Harness h;
  Client c(h.gateway());
  ExpectOpenAiError(c.Send(verb::post, "/v1/chat/completions", ChatBody("x"), "bg-wrong"), 401,
                    "invalid_api_key");
  ExpectOpenAiError(c.Send(verb::post, "/v1/chat/completions", ChatBody("x"), kVendorKey), 401,
                    "invalid_api_key");
}

TEST(GatewayKeys, ForbidsAModelOutsideTheKeysList) {
  Harness h;
  Client c(h.gateway());
  ExpectOpenAiError(
      c.Send(verb::post, "/v1/chat/completions", ChatBody("x", false, "", "restricted")), 403,
      "model_not_allowed");
}

// --- bad input ---

TEST(GatewayBadInput, AnswersMalformedJsonWith400) {
  Harness h;
  Client c(h.gateway());
  ExpectOpenAiError(c.Send(verb::post, "/v1/chat/completions", "{\"model\":"), 400,
                    "invalid_request");
}

TEST(GatewayBadInput, AnswersInvalidUtf8With400) {
  Harness h;
  Client c(h.gateway());
  ExpectOpenAiError(c.Send(verb::post, "/v1/chat/completions", ChatBody("bad \xC3\x28 byte")),
                    400, "invalid_request");
}

TEST(GatewayBadInput, AnswersMissingAndUnknownModels) {
  Harness h;
  Client c(h.gateway());
  ExpectOpenAiError(c.Send(verb::post, "/v1/chat/completions", R"({"messages":[]})"), 400,
                    "invalid_request");
  ExpectOpenAiError(
      c.Send(verb::post, "/v1/chat/completions", ChatBody("x", false, "", "no-such-model")), 404,
      "model_not_found");
}

TEST(GatewayBadInput, AnswersWrongContentTypeWith415) {
  Harness h;
  Client c(h.gateway());
  ExpectOpenAiError(
      c.Send(verb::post, "/v1/chat/completions", ChatBody("x"), kGatewayKey, "text/plain"), 415,
      "unsupported_media_type");
}

TEST(GatewayBadInput, AnswersUnknownPathsAndMethods) {
  Harness h;
  Client c(h.gateway());
  ExpectOpenAiError(c.Send(verb::post, "/v1/nope", "{}"), 404, "unknown_url");
  auto r = c.Send(verb::get, "/v1/chat/completions", "", kGatewayKey, "");
  ExpectOpenAiError(r, 405, "method_not_allowed");
  EXPECT_EQ(r.headers[bhttp::field::allow], "POST");
}

TEST(GatewayBadInput, AnswersOversizedBodiesWith413) {
  Harness h({.extra_server_yaml = "    max_body_bytes: 1024\n"});
  Client c(h.gateway());
  ExpectOpenAiError(
      c.Send(verb::post, "/v1/chat/completions", ChatBody(std::string(4096, 'a'))), 413,
      "request_too_large");
}

TEST(GatewayBadInput, AnswersHugeHeadersWith431) {
  Harness h;
  Client c(h.gateway());
  std::string raw = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Big: " +
                    std::string(64 * 1024, 'a') + "\r\n\r\n";
  std::string out = c.RawExchange(raw);
  EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out.substr(0, 200);
}

TEST(GatewayBadInput, AnswersSlowClientsWith408) {
  Harness h({.extra_server_yaml = "    header_timeout_ms: 300\n"});
  Client c(h.gateway());
  auto start = std::chrono::steady_clock::now();
  std::string out = c.RawExchange("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(GatewayBadInput, AnswersCrLfInjectionInHeadersWith400) {
  Harness h;
  Client c(h.gateway());
  std::string out = c.RawExchange(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Evil: a\rInjected: b\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
}

// --- upstream failures: vendor-shaped errors that never echo vendor text ---

constexpr char kCanary[] = "CANARY-PATIENT-Zebulon-Quartermaine-MRN-99887766";

TEST(GatewayUpstream, Maps500To502WithoutVendorText) {
  auto r = ChatOnce(std::string(kCanary) + " [[fake:500]]");
  ExpectOpenAiError(r, 502, "upstream_error");
  EXPECT_EQ(r.body.find("CANARY"), std::string::npos) << r.body;
}

TEST(GatewayUpstream, Passes429WithRetryAfterWithoutVendorText) {
  auto r = ChatOnce(std::string(kCanary) + " [[fake:429]]");
  ExpectOpenAiError(r, 429, "rate_limit_exceeded");
  EXPECT_EQ(r.headers[bhttp::field::retry_after], "1");
  EXPECT_EQ(r.body.find("CANARY"), std::string::npos) << r.body;
}

TEST(GatewayUpstream, Passes400WithSafeFieldsOnly) {
  auto r = ChatOnce(std::string(kCanary) + " [[fake:400]]");
  ExpectOpenAiError(r, 400, "invalid_value");
  EXPECT_EQ(r.Json().at("error").at("param").as_string(), "messages[0].content");
  EXPECT_EQ(r.body.find("CANARY"), std::string::npos) << r.body;
}

TEST(GatewayUpstream, TimesOutWith504) {
  auto r = ChatOnce("[[fake:timeout]]", false,
                    {.extra_upstream_yaml = "    first_byte_timeout_ms: 300\n"});
  ExpectOpenAiError(r, 504, "upstream_timeout");
}

TEST(GatewayUpstream, AnswersAMalformedVendorBodyWith502) {
  ExpectOpenAiError(ChatOnce("[[fake:bad-json]]"), 502, "upstream_unavailable");
}

TEST(GatewayUpstream, AnswersARefusedConnectionWith502) {
  Harness h;
  // Point a reloaded config at a port nobody listens on.
  net::io_context io;
  tcp::acceptor a(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  auto dead_port = a.local_endpoint().port();
  a.close();
  std::string y = h.yaml();
  auto pos = y.find("127.0.0.1:" + std::to_string(h.fake().port()));
  y.replace(pos, std::string("127.0.0.1:" + std::to_string(h.fake().port())).size(),
            "127.0.0.1:" + std::to_string(dead_port));
  auto cfg = config::ParseConfig(y, "t");
  ASSERT_TRUE(cfg.ok());
  h.gateway_state().Swap(*pipeline::Snapshot::Build(*cfg));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Client c(h.gateway());
  ExpectOpenAiError(c.Send(verb::post, "/v1/chat/completions", ChatBody("x")), 502,
                    "upstream_unavailable");
}

void ExpectStreamFailedCleanly(const RawResponse& r, std::string_view code) {
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body.find("[DONE]"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(std::string("\"code\":\"") + std::string(code) + "\""), std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find("CANARY"), std::string::npos) << r.body;
}

TEST(GatewayUpstream, EndsAStreamWithAnErrorEventWhenTheVendorResets) {
  auto r = ChatOnce(std::string(kCanary) + " [[fake:reset-mid-stream]]", true);
  ExpectStreamFailedCleanly(r, "upstream_stream_broken");
}

TEST(GatewayUpstream, EndsAStreamWithAnErrorEventOnMalformedSse) {
  auto r = ChatOnce(std::string(kCanary) + " [[fake:malformed-sse]]", true);
  ExpectStreamFailedCleanly(r, "upstream_malformed_stream");
}

TEST(GatewayUpstream, ReplacesAVendorErrorEventWithoutItsText) {
  auto r = ChatOnce(std::string(kCanary) + " [[fake:error-event]]", true);
  ExpectStreamFailedCleanly(r, "upstream_stream_error");
}

TEST(GatewayUpstream, FlagsATruncatedStream) {
  auto r = ChatOnce("[[fake:truncate-stream]]", true);
  ExpectStreamFailedCleanly(r, "upstream_stream_incomplete");
}

std::string WaitForStats(Harness& h, std::string_view want) {
  std::string stats;
  for (int i = 0; i < 100; ++i) {
    stats = h.vendor().StatsJson();
    if (stats.find(want) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return stats;
}

std::string RawChatRequest(const std::string& body) {
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
         std::string(kGatewayKey) + "\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(GatewayCancellation, AClientThatLeavesMidStreamCancelsTheUpstream) {
  Harness h;
  {
    Client c(h.gateway());
    net::write(c.socket(), net::buffer(RawChatRequest(
                               ChatBody("one two three four five six seven [[fake:chunk-delay=200]]", true))));
    char buf[256];
    c.socket().read_some(net::buffer(buf));  // the head and first events arrived
  }  // the client closes here, mid-stream
  std::string stats = WaitForStats(h, "\"streams_aborted\":1");
  EXPECT_NE(stats.find("\"streams_aborted\":1"), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"streams_completed\":0"), std::string::npos) << stats;
}

// The vendor is still thinking (2 s before its first byte) when the client leaves: the gateway
// must notice the hang-up itself, not at its next write, and drop the vendor connection.
TEST(GatewayCancellation, AClientThatLeavesBeforeTheFirstByteCancelsTheUpstream) {
  Harness h;
  {
    Client c(h.gateway());
    net::write(c.socket(), net::buffer(RawChatRequest(ChatBody("x [[fake:latency=2000]]", true))));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::string stats = WaitForStats(h, "\"streams_aborted\":1");
  EXPECT_NE(stats.find("\"streams_aborted\":1"), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"streams_completed\":0"), std::string::npos) << stats;
}

TEST(GatewayCancellation, ATlsClientThatLeavesBeforeTheFirstByteCancelsTheUpstream) {
  Harness h({.gateway_tls = true});
  {
    net::io_context io;
    net::ssl::context ctx(net::ssl::context::tls_client);
    ctx.load_verify_file(Harness::CertDir() + "/ca.pem");
    net::ssl::stream<tcp::socket> s(io, ctx);
    s.next_layer().connect(h.gateway());
    s.handshake(net::ssl::stream_base::client);
    net::write(s, net::buffer(RawChatRequest(ChatBody("x [[fake:latency=2000]]", true))));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    s.next_layer().close();  // the client goes away (as an aborted SDK request does)
  }
  std::string stats = WaitForStats(h, "\"streams_aborted\":1");
  EXPECT_NE(stats.find("\"streams_aborted\":1"), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"streams_completed\":0"), std::string::npos) << stats;
}

// --- TLS ---

TEST(GatewayTls, VerifiesTheUpstreamAgainstACustomCa) {
  auto r = ChatOnce("over tls", false, {.fake_tls = true});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(Content(r), "ECHO: over tls");
}

TEST(GatewayTls, RefusesAnUpstreamItCannotVerify) {
  ExpectOpenAiError(ChatOnce("x", false, {.fake_tls = true, .trust_fake_ca = false}), 502,
                    "upstream_unavailable");
}

TEST(GatewayTls, ServesClientsOverTls) {
  Harness h({.gateway_tls = true});
  net::io_context io;
  net::ssl::context ctx(net::ssl::context::tls_client);
  ctx.load_verify_file(Harness::CertDir() + "/ca.pem");
  ctx.set_verify_mode(net::ssl::verify_peer);
  net::ssl::stream<tcp::socket> s(io, ctx);
  s.next_layer().connect(h.gateway());
  s.handshake(net::ssl::stream_base::client);
  bhttp::request<bhttp::string_body> req{verb::post, "/v1/chat/completions", 11};
  req.set(bhttp::field::host, "localhost");
  req.set(bhttp::field::authorization, std::string("Bearer ") + kGatewayKey);
  req.set(bhttp::field::content_type, "application/json");
  req.body() = ChatBody("tls client");
  req.prepare_payload();
  bhttp::write(s, req);
  boost::beast::flat_buffer b;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(s, b, res);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_NE(res.body().find("ECHO: tls client"), std::string::npos);
}

// --- operations ---

TEST(GatewayOps, DrainLetsAnInFlightStreamFinishAndRefusesNewConnections) {
  Harness h;
  auto ep = h.gateway();
  auto fut = std::async(std::launch::async, [&] {
    Client c(ep);
    return c.Send(verb::post, "/v1/chat/completions",
                  ChatBody("a b c d e [[fake:chunk-delay=100]]", true));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  h.gateway_server().Drain();
  auto r = fut.get();
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find("[DONE]"), std::string::npos) << r.body;
  net::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect(ep, ec);
  EXPECT_TRUE(ec) << "connection accepted after drain";
}

TEST(GatewayOps, EnforcesTheConnectionLimit) {
  Harness h({.extra_server_yaml = "    max_connections: 2\n"});
  Client a(h.gateway());
  Client b(h.gateway());
  ASSERT_EQ(a.Send(verb::post, "/v1/chat/completions", ChatBody("x")).status, 200u);
  ASSERT_EQ(b.Send(verb::post, "/v1/chat/completions", ChatBody("x")).status, 200u);
  Client c(h.gateway());
  std::string out = c.ReadUntilClose(2000);
  EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0u) << out;
}

TEST(GatewayOps, ReloadInstallsNewRoutes) {
  Harness h;
  Client c(h.gateway());
  ExpectOpenAiError(
      c.Send(verb::post, "/v1/chat/completions", ChatBody("x", false, "", "brand-new")), 404,
      "model_not_found");
  std::string y = h.yaml();
  y.replace(y.find("routes:\n"), 8, "routes:\n  - { model: brand-new, upstream: fake }\n");
  y.replace(y.find("models: ["), 9, "models: [brand-new, ");
  auto cfg = config::ParseConfig(y, "t");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  h.gateway_state().Swap(*pipeline::Snapshot::Build(*cfg));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto r = c.Send(verb::post, "/v1/chat/completions", ChatBody("x", false, "", "brand-new"));
  EXPECT_EQ(r.status, 200u) << r.body;
}

TEST(GatewayOps, MetricsCountRequestsAndHoldNoPromptText) {
  Harness h;
  Client c(h.gateway());
  ASSERT_EQ(c.Send(verb::post, "/v1/chat/completions", ChatBody(kCanary)).status, 200u);
  c.Send(verb::post, "/v1/chat/completions",
         ChatBody(kCanary, false, "", std::string("model-") + kCanary));
  c.Send(verb::post, "/v1/chat/completions", ChatBody(std::string(kCanary) + "[[fake:500]]"));
  // A request is counted just after its response is written, so the last one may still be
  // finishing when the client has its answer: poll until nothing is in flight (bounded).
  Client m(h.admin());
  RawResponse r;
  for (int i = 0; i < 100; ++i) {
    r = m.Send(verb::get, "/metrics", "", "", "");
    if (r.body.find("baagate_in_flight_requests 0") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find("baagate_requests_total{route=\"gpt-4o-mini\",endpoint=\"chat_completions\",status=\"200\"} 1"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("route=\"none\",endpoint=\"chat_completions\",status=\"404\""),
            std::string::npos);
  EXPECT_NE(r.body.find("baagate_upstream_errors_total{upstream=\"fake\",kind=\"http_500\"} 1"),
            std::string::npos);
  EXPECT_NE(r.body.find("baagate_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(r.body.find("baagate_in_flight_requests 0"), std::string::npos);
  EXPECT_EQ(r.body.find("CANARY"), std::string::npos);
  Client hz(h.admin());
  EXPECT_EQ(hz.Send(verb::get, "/healthz", "", "", "").status, 200u);
  EXPECT_EQ(hz.Send(verb::get, "/readyz", "", "", "").status, 200u);
}

}  // namespace
}  // namespace baagate::testing
