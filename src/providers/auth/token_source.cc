#include "providers/auth/token_source.h"

#include <algorithm>

#include "http/tls.h"
#include "providers/bedrock/sigv4.h"

// GCC 12 reports a false -Wmismatched-new-delete on Asio's awaitable frame (allocated and freed
// by Asio's own operator new/delete pair), as in fake_vendor.cc; clang and the sanitizers see
// no mismatch.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace baagate::providers::auth {

namespace bhttp = boost::beast::http;
using http::error_code;
using http::tcp;

namespace {

constexpr std::size_t kMaxTokenResponse = 64 * 1024;
// A waiter whose leader never reports (cannot happen while the leader's guard runs) gives up
// after this long rather than hanging a request.
constexpr auto kMaxWait = std::chrono::seconds(60);

std::int64_t SystemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

core::Result<TokenEndpoint> MakeTokenEndpoint(const std::string& name, const std::string& url,
                                              const std::string& ca_file) {
  // ParseBaseUrl keeps the path; a token URL has no query.
  auto parsed = http::ParseBaseUrl(url);
  if (!parsed.ok()) return core::InvalidArgumentError("token endpoint URL: " + parsed.status().message());
  TokenEndpoint ep;
  http::UpstreamTarget& t = ep.target;
  t.name = name;
  t.url = *parsed;
  ep.path = t.url.path.empty() ? "/" : t.url.path;
  const bool default_port = (t.url.tls && t.url.port == "443") || (!t.url.tls && t.url.port == "80");
  const std::string host =
      t.url.host.find(':') != std::string::npos ? "[" + t.url.host + "]" : t.url.host;
  t.host_header = default_port ? host : host + ":" + t.url.port;
  t.connect_timeout = http::Millis(5000);
  t.first_byte_timeout = http::Millis(15000);
  t.idle_timeout = http::Millis(15000);
  t.pool_idle_timeout = http::Millis(30000);
  t.max_idle_connections = 2;
  t.pool_key = "token|" + name + "|" + t.url.host + "|" + t.url.port +
               (t.url.tls ? "|tls|" : "|plain|") + ca_file;
  if (t.url.tls) {
    auto ctx = http::MakeClientTlsContext(ca_file);
    if (!ctx.ok()) return ctx.status();
    t.tls = *ctx;
  }
  return ep;
}

net::awaitable<core::Result<HttpReply>> PostForm(http::UpstreamPool& pool,
                                                 const TokenEndpoint& endpoint,
                                                 http::Deadline& deadline, std::string body) {
  using http::UpstreamFailure;
  const http::UpstreamTarget& target = endpoint.target;
  UpstreamFailure failure = UpstreamFailure::kNone;
  std::unique_ptr<http::UpstreamConnection> uc = co_await pool.Acquire(target, deadline, &failure);
  if (!uc) {
    co_return core::UnavailableError("token endpoint: " +
                                     std::string(http::UpstreamFailureName(failure)));
  }
  http::Request req{bhttp::verb::post, endpoint.path, 11};
  req.set(bhttp::field::host, target.host_header);
  req.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
  req.set(bhttp::field::accept, "application/json");
  req.set(bhttp::field::user_agent, "baagate/0.1");
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();

  deadline.Arm(target.first_byte_timeout, [c = uc.get()] { c->stream().Close(); });
  bhttp::request_serializer<bhttp::string_body> sr(req);
  auto [wec, wn] = co_await http::NowOrLater(
      uc->stream(), [&](tcp::socket& s, error_code& e) { return bhttp::write(s, sr, e); },
      [&](auto& s) { return bhttp::async_write(s, sr, http::kTok); });
  (void)wn;
  if (wec) {
    const bool fired = deadline.fired();
    deadline.Disarm();
    co_return core::UnavailableError(fired ? "token endpoint: timeout" : "token endpoint: write");
  }
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(kMaxTokenResponse);
  auto [hec, hn] = co_await uc->stream().With(
      [&](auto& s) { return bhttp::async_read_header(s, uc->buffer(), parser, http::kTok); });
  (void)hn;
  const bool fired = deadline.fired();
  deadline.Disarm();
  if (hec) {
    co_return core::UnavailableError(fired ? "token endpoint: timeout" : "token endpoint: read");
  }
  HttpReply reply;
  reply.status = parser.get().result_int();
  UpstreamFailure f = UpstreamFailure::kNone;
  while (!parser.is_done() && f == UpstreamFailure::kNone && reply.body.size() < kMaxTokenResponse) {
    f = co_await http::ReadBodySome(*uc, parser, deadline, target.idle_timeout, reply.body,
                                    kMaxTokenResponse - reply.body.size());
  }
  if (!parser.is_done()) {
    co_return core::UnavailableError("token endpoint: incomplete response");
  }
  if (parser.keep_alive() && uc->stream().socket().is_open()) pool.Release(target, std::move(uc));
  co_return reply;
}

std::string ClientCredentialsBody(std::string_view client_id, std::string_view client_secret,
                                  std::string_view scope) {
  using bedrock::UriEncode;
  return "grant_type=client_credentials&client_id=" + UriEncode(client_id, false) +
         "&client_secret=" + UriEncode(client_secret, false) + "&scope=" + UriEncode(scope, false);
}

// One coroutine waiting for another's fetch: woken on its own executor.
struct TokenSource::Waiter {
  explicit Waiter(const net::any_io_executor& ex) : timer(ex) {}
  net::steady_timer timer;
};

TokenSource::TokenSource(TokenEndpoint endpoint, BodyFn body, ClockFn clock,
                         std::chrono::seconds refresh_margin)
    : endpoint_(std::move(endpoint)),
      body_(std::move(body)),
      clock_(clock ? std::move(clock) : ClockFn(&SystemNow)),
      margin_s_(refresh_margin.count()) {}

core::Result<std::shared_ptr<TokenSource>> TokenSource::GoogleServiceAccount(
    vertex::ServiceAccountKey key, const std::string& name, const std::string& token_url,
    const std::string& ca_file) {
  const std::string url = token_url.empty() ? key.token_uri : token_url;
  auto ep = MakeTokenEndpoint(name, url, ca_file);
  if (!ep.ok()) return ep.status();
  auto shared_key = std::make_shared<const vertex::ServiceAccountKey>(std::move(key));
  BodyFn body = [shared_key](std::int64_t now) -> core::Result<core::SecretString> {
    auto assertion =
        vertex::BuildJwtAssertion(*shared_key, vertex::kCloudPlatformScope, now);
    if (!assertion.ok()) return assertion.status();
    return core::SecretString(vertex::TokenRequestBody(*assertion));
  };
  return std::make_shared<TokenSource>(std::move(*ep), std::move(body));
}

core::Result<std::shared_ptr<TokenSource>> TokenSource::EntraClientCredentials(
    const std::string& name, const std::string& authority, const std::string& tenant,
    std::string client_id, core::SecretString client_secret, const std::string& ca_file) {
  std::string base = authority.empty() ? std::string(kEntraAuthority) : authority;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto ep = MakeTokenEndpoint(name, base + "/" + bedrock::UriEncode(tenant, false) +
                                        "/oauth2/v2.0/token",
                              ca_file);
  if (!ep.ok()) return ep.status();
  BodyFn body = [id = std::move(client_id),
                 secret = std::move(client_secret)](std::int64_t) -> core::Result<core::SecretString> {
    return core::SecretString(ClientCredentialsBody(id, secret.Expose()));
  };
  return std::make_shared<TokenSource>(std::move(*ep), std::move(body));
}

int TokenSource::fetch_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fetches_;
}

void TokenSource::WakeAll() {
  std::vector<std::shared_ptr<Waiter>> ws;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_ = false;
    ++generation_;
    ws.swap(waiters_);
  }
  // Each waiter's timer lives on its worker's executor: touch it there. Setting the expiry in
  // the past both cancels a pending wait and makes a wait not yet started complete at once.
  for (auto& w : ws) {
    net::post(w->timer.get_executor(),
              [w] { w->timer.expires_at(net::steady_timer::time_point::min()); });
  }
}

net::awaitable<core::Result<core::SecretString>> TokenSource::Token(const PostFn& post) {
  const net::any_io_executor ex = co_await net::this_coro::executor;
  for (;;) {
    std::shared_ptr<Waiter> waiter;
    std::uint64_t generation = 0;
    std::int64_t now = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      now = clock_();
      // A token shorter-lived than twice the margin is refreshed at half its lifetime.
      const std::int64_t margin = std::min(margin_s_, lifetime_ / 2);
      if (expires_at_ != 0 && now + margin < expires_at_) co_return token_;
      if (in_flight_) {
        waiter = std::make_shared<Waiter>(ex);
        waiter->timer.expires_after(kMaxWait);
        waiters_.push_back(waiter);
        generation = generation_;
      } else {
        in_flight_ = true;
        ++fetches_;
      }
    }
    if (waiter) {
      auto [ec] = co_await waiter->timer.async_wait(http::kTok);
      (void)ec;
      std::lock_guard<std::mutex> lock(mu_);
      if (generation_ == generation) {
        co_return core::UnavailableError("token endpoint: gave up waiting for the fetch");
      }
      if (!last_error_.ok()) co_return last_error_;
      continue;  // the fetch succeeded: take the token from the cache
    }

    // This coroutine fetches. The guard ends the flight even if the coroutine is destroyed
    // mid-fetch (server shutdown), so waiters never wait for a fetch nobody runs.
    struct EndFlight {
      TokenSource* self;
      ~EndFlight() { self->WakeAll(); }
    } end_flight{this};
    core::Result<core::SecretString> result = core::UnavailableError("token endpoint: no body");
    auto body = body_(now);
    if (!body.ok()) {
      result = core::UnavailableError("token request could not be built");
    } else {
      auto reply = co_await post(endpoint_, body->Expose());
      if (!reply.ok()) {
        result = reply.status();
      } else if (reply->status != 200) {
        result = core::UnavailableError("token endpoint answered HTTP " +
                                        std::to_string(reply->status));
      } else {
        auto token = vertex::ParseTokenResponse(reply->body, now);
        if (!token.ok()) {
          result = core::UnavailableError("token endpoint answer is not a token");
        } else {
          std::lock_guard<std::mutex> lock(mu_);
          token_ = token->token;
          expires_at_ = token->expires_at_unix;
          lifetime_ = token->expires_at_unix - now;
          result = token_;
        }
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_error_ = result.ok() ? core::Status::Ok() : result.status();
    }
    co_return result;
  }
}

}  // namespace baagate::providers::auth
