// TokenSource on real io_contexts: caching, refresh before expiry, single-flight across two
// threads, and failures that reach every waiter without a stale or vendor-supplied value. The
// POST is an in-process coroutine (the network path is covered by tests/integration/vertex_test).
#include "providers/auth/token_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace baagate::providers::auth {
namespace {

using namespace std::chrono_literals;

struct FakeEndpoint {
  std::atomic<int> posts{0};
  std::atomic<int> next_status{200};
  int lifetime = 3600;
  std::chrono::milliseconds delay{0};

  TokenSource::PostFn Post() {
    return [this](const TokenEndpoint&, std::string body) -> net::awaitable<core::Result<HttpReply>> {
      const int n = ++posts;
      EXPECT_EQ(body, "grant=secret-material");
      if (delay.count() > 0) {
        net::steady_timer t(co_await net::this_coro::executor, delay);
        co_await t.async_wait(net::use_awaitable);
      }
      HttpReply r;
      r.status = static_cast<unsigned>(next_status.load());
      r.body = r.status == 200 ? R"({"access_token":"tok-)" + std::to_string(n) +
                                     R"(","expires_in":)" + std::to_string(lifetime) +
                                     R"(,"token_type":"Bearer"})"
                               : R"({"error":"invalid_grant","error_description":"account gw@x"})";
      co_return r;
    };
  }
};

std::shared_ptr<TokenSource> MakeSource(std::atomic<std::int64_t>* now) {
  auto ep = MakeTokenEndpoint("t", "http://127.0.0.1:9/token", "");
  EXPECT_TRUE(ep.ok());
  return std::make_shared<TokenSource>(
      *ep, [](std::int64_t) { return core::Result<core::SecretString>(core::SecretString("grant=secret-material")); },
      [now] { return now->load(); });
}

core::Result<core::SecretString> RunToken(net::io_context& io, TokenSource& src,
                                          const TokenSource::PostFn& post) {
  core::Result<core::SecretString> out = core::InternalError("not run");
  net::co_spawn(io, [&]() -> net::awaitable<void> { out = co_await src.Token(post); },
                net::detached);
  io.restart();
  io.run();
  return out;
}

TEST(TokenSource, CachesUntilTheRefreshMarginThenFetchesAgain) {
  std::atomic<std::int64_t> now{1'000'000};
  FakeEndpoint fake;
  auto src = MakeSource(&now);
  net::io_context io;
  auto t1 = RunToken(io, *src, fake.Post());
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ(t1->Expose(), "tok-1");
  now += 3000;  // 600 s left: still more than the 300 s margin
  EXPECT_EQ(RunToken(io, *src, fake.Post())->Expose(), "tok-1");
  now += 301;   // inside the margin: refreshed before it expires
  EXPECT_EQ(RunToken(io, *src, fake.Post())->Expose(), "tok-2");
  EXPECT_EQ(fake.posts.load(), 2);
  EXPECT_EQ(src->fetch_count(), 2);
}

TEST(TokenSource, ShortLivedTokensRefreshAtHalfTheirLifetime) {
  std::atomic<std::int64_t> now{1'000'000};
  FakeEndpoint fake;
  fake.lifetime = 10;
  auto src = MakeSource(&now);
  net::io_context io;
  EXPECT_EQ(RunToken(io, *src, fake.Post())->Expose(), "tok-1");
  now += 4;
  EXPECT_EQ(RunToken(io, *src, fake.Post())->Expose(), "tok-1");
  now += 1;
  EXPECT_EQ(RunToken(io, *src, fake.Post())->Expose(), "tok-2");
}

TEST(TokenSource, ConcurrentCallersOnTwoThreadsShareOneFetch) {
  std::atomic<std::int64_t> now{1'000'000};
  FakeEndpoint fake;
  fake.delay = 100ms;
  auto src = MakeSource(&now);
  auto post = fake.Post();
  net::io_context io_a, io_b;
  std::vector<std::string> got_a, got_b;
  for (int i = 0; i < 5; ++i) {
    net::co_spawn(io_a, [&]() -> net::awaitable<void> {
      auto t = co_await src->Token(post);
      got_a.push_back(t.ok() ? t->Expose() : "error");
    }, net::detached);
    net::co_spawn(io_b, [&]() -> net::awaitable<void> {
      auto t = co_await src->Token(post);
      got_b.push_back(t.ok() ? t->Expose() : "error");
    }, net::detached);
  }
  std::thread tb([&] { io_b.run(); });
  io_a.run();
  tb.join();
  EXPECT_EQ(fake.posts.load(), 1);
  ASSERT_EQ(got_a.size(), 5u);
  ASSERT_EQ(got_b.size(), 5u);
  for (const auto& t : got_a) EXPECT_EQ(t, "tok-1");
  for (const auto& t : got_b) EXPECT_EQ(t, "tok-1");
}

TEST(TokenSource, AFailedFetchReachesEveryWaiterWithoutVendorTextAndTheNextCallRetries) {
  std::atomic<std::int64_t> now{1'000'000};
  FakeEndpoint fake;
  fake.delay = 50ms;
  fake.next_status = 400;
  auto src = MakeSource(&now);
  auto post = fake.Post();
  net::io_context io;
  std::vector<core::Status> got;
  for (int i = 0; i < 3; ++i) {
    net::co_spawn(io, [&]() -> net::awaitable<void> {
      auto t = co_await src->Token(post);
      got.push_back(t.status());
    }, net::detached);
  }
  io.run();
  EXPECT_EQ(fake.posts.load(), 1);
  ASSERT_EQ(got.size(), 3u);
  for (const auto& st : got) {
    EXPECT_EQ(st.code(), core::StatusCode::kUnavailable);
    EXPECT_EQ(st.message(), "token endpoint answered HTTP 400");
    EXPECT_EQ(st.message().find("gw@x"), std::string::npos);
  }
  fake.next_status = 200;
  auto t = RunToken(io, *src, post);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Expose(), "tok-2");
}

TEST(TokenSource, EntraBodyAndEndpoint) {
  auto src = TokenSource::EntraClientCredentials("az", "http://127.0.0.1:1/", "tenant-1", "client",
                                                 core::SecretString("s&cret="), "");
  ASSERT_TRUE(src.ok());
  EXPECT_EQ((*src)->endpoint().path, "/tenant-1/oauth2/v2.0/token");
  EXPECT_EQ(ClientCredentialsBody("client", "s&cret="),
            "grant_type=client_credentials&client_id=client&client_secret=s%26cret%3D&scope="
            "https%3A%2F%2Fcognitiveservices.azure.com%2F.default");
}

}  // namespace
}  // namespace baagate::providers::auth
