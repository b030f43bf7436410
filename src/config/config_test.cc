#include "config/config.h"

#include <gtest/gtest.h>

namespace baagate::config {
namespace {

constexpr char kGood[] = R"(server:
  listen: 0.0.0.0:9000
  limits: { max_body_bytes: 1024, header_timeout_ms: 500 }
upstreams:
  up:
    base_url: http://127.0.0.1:1/v1
    credential: { env: X }
routes:
  - { model: a, upstream: up, upstream_model: b }
  - { model: "gpt-*", upstream: up }
keys:
  - { name: k, sha256: 0000000000000000000000000000000000000000000000000000000000000000,
      tenant: t, app: a, role: r, purpose: p }
)";

TEST(ParseConfig, ReadsAGoodFile) {
  auto c = ParseConfig(kGood, "good.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->server.listen.port, 9000);
  EXPECT_EQ(c->server.limits.max_body_bytes, 1024u);
  EXPECT_EQ(c->routes.size(), 2u);
  EXPECT_EQ(c->routes[0].upstream_model, "b");
  EXPECT_EQ(c->keys[0].tenant, "t");
}

TEST(ParseConfig, NamesFileLineAndKeyOfAnError) {
  std::string bad = kGood;
  bad.replace(bad.find("upstream: up, upstream_model"), 12, "upstream: uq");
  auto c = ParseConfig(bad, "bad.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "bad.yaml:9:27: routes[0].upstream: unknown upstream 'uq'");
}

TEST(ParseConfig, RejectsUnknownKeys) {
  auto c = ParseConfig("server:\n  lisen: 1.2.3.4:5\n", "x.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("x.yaml:2:3: server.lisen: unknown key"), std::string::npos)
      << c.status().message();
}

TEST(ParseConfig, RejectsBadValues) {
  EXPECT_FALSE(ParseConfig("server: { listen: nohost }", "x").ok());
  EXPECT_FALSE(ParseConfig("server: { workers: -1 }", "x").ok());
  EXPECT_FALSE(ParseConfig("log: { level: loud }", "x").ok());
  EXPECT_FALSE(ParseConfig("keys: [{name: k, sha256: zz, tenant: t, app: a, role: r, purpose: p}]", "x").ok());
  EXPECT_FALSE(ParseConfig("server: [", "x").ok());
}

TEST(ParseConfig, ReadsBedrockApiAndProfileWithLineNumberedErrors) {
  constexpr char kBedrock[] = R"(upstreams:
  br:
    provider: bedrock
    region: us-east-1
    base_url: https://bedrock-runtime.us-east-1.amazonaws.com
    credential: aws_environment
    bedrock_api: converse
    profile: clinic
)";
  auto c = ParseConfig(kBedrock, "b.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->upstreams.at("br").bedrock_api, "converse");
  EXPECT_EQ(c->upstreams.at("br").profile, "clinic");
  std::string bad = kBedrock;
  bad.replace(bad.find("api: converse"), 13, "api: chat");
  auto b = ParseConfig(bad, "b.yaml");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("b.yaml:7:18: upstreams.br.bedrock_api: must be converse or invoke"),
            std::string::npos) << b.status().message();
  std::string other = kGood;
  other.replace(other.find("credential: { env: X }"), 22, "credential: { env: X }\n    profile: p");
  auto o = ParseConfig(other, "o.yaml");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("upstreams.up.profile: is for bedrock upstreams only"),
            std::string::npos) << o.status().message();
}

TEST(ParseConfig, EmbeddedDefaultsAreValidAndHaveNoKeys) {
  auto c = ParseConfig(EmbeddedDefaultYaml(), "<embedded>");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->keys.empty());
  EXPECT_EQ(c->server.listen.ToString(), "127.0.0.1:8080");
  EXPECT_EQ(c->server.admin_listen.ToString(), "127.0.0.1:8081");
}

TEST(ModelPatternMatches, MatchesExactAndPrefix) {
  EXPECT_TRUE(ModelPatternMatches("gpt-*", "gpt-4o"));
  EXPECT_FALSE(ModelPatternMatches("gpt-*", "o1"));
  EXPECT_TRUE(ModelPatternMatches("a", "a"));
  EXPECT_FALSE(ModelPatternMatches("a", "ab"));
}

}  // namespace
}  // namespace baagate::config

namespace baagate::config {
namespace {

TEST(ParseConfig, ReadsTheAuditSection) {
  auto d = ParseConfig("", "x");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->audit.enabled);
  EXPECT_EQ(d->audit.store, "sqlite:baagate-data/audit.db");
  auto c = ParseConfig(
      "audit:\n  store: postgres:host=/tmp dbname=audit\n  durability: strict\n"
      "  log_id: prod/gw-1\n  checkpoint_every: 50\n  checkpoint_interval_ms: 5000\n"
      "  key_file: /etc/baagate/audit.key\n  mirror_dir: /mnt/worm\n",
      "x");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->audit.strict);
  EXPECT_EQ(c->audit.store, "postgres:host=/tmp dbname=audit");
  EXPECT_EQ(c->audit.log_id, "prod/gw-1");
  EXPECT_EQ(c->audit.checkpoint_every, 50u);
  EXPECT_EQ(c->audit.checkpoint_interval, Millis(5000));
  EXPECT_EQ(c->audit.mirror_dir, "/mnt/worm");
  EXPECT_FALSE(ParseConfig("audit: { store: mysql:x }", "x").ok());
  EXPECT_FALSE(ParseConfig("audit: { durability: eventually }", "x").ok());
  EXPECT_FALSE(ParseConfig("audit: { checkpoint_every: 0 }", "x").ok());
  EXPECT_FALSE(ParseConfig("audit: { strore: sqlite:x }", "x").ok());
}

TEST(ParseConfig, RoutesSharingAModelFormAnOrderedFailoverList) {
  constexpr char kUp[] =
      "upstreams:\n"
      "  a: { base_url: 'http://127.0.0.1:1/v1', credential: none }\n"
      "  b: { base_url: 'http://127.0.0.1:2/v1', credential: none }\n";
  auto ok = ParseConfig(std::string(kUp) +
                            "routes:\n"
                            "  - { model: m, upstream: a }\n"
                            "  - { model: m, name: m-backup, upstream: b }\n"
                            "failover: { breaker_failures: 3, breaker_cooldown_ms: 2000,\n"
                            "            retry_budget_percent: 10, retry_budget_min: 4 }\n",
                        "f.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  ASSERT_EQ(ok->routes.size(), 2u);
  EXPECT_EQ(ok->routes[0].name, "m");
  EXPECT_EQ(ok->routes[1].name, "m-backup");
  EXPECT_EQ(ok->failover.breaker_failures, 3);
  EXPECT_EQ(ok->failover.breaker_cooldown.count(), 2000);
  EXPECT_EQ(ok->failover.retry_budget_percent, 10);
  EXPECT_EQ(ok->failover.retry_budget_min, 4);
  // A second route for the same model needs its own name (scope check, metrics, audit).
  auto unnamed = ParseConfig(std::string(kUp) +
                                 "routes:\n"
                                 "  - { model: m, upstream: a }\n"
                                 "  - { model: m, upstream: b }\n",
                             "f.yaml");
  ASSERT_FALSE(unnamed.ok());
  EXPECT_NE(unnamed.status().message().find("f.yaml:6:"), std::string::npos)
      << unnamed.status().message();
  EXPECT_NE(unnamed.status().message().find("failover route and needs its own name"),
            std::string::npos);
  EXPECT_FALSE(ParseConfig("failover: { breaker_failures: 0 }", "x").ok());
  EXPECT_FALSE(ParseConfig("failover: { retry_budget_percent: 101 }", "x").ok());
  EXPECT_FALSE(ParseConfig("failover: { breakers: 1 }", "x").ok());
}

}  // namespace
}  // namespace baagate::config
