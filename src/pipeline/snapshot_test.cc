#include "pipeline/snapshot.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace baagate::pipeline {
namespace {

std::shared_ptr<const Snapshot> Build(const std::string& extra_env = "SNAPSHOT_TEST_KEY") {
  setenv("SNAPSHOT_TEST_KEY", "sk-1", 1);
  std::string yaml = "upstreams:\n  u:\n    base_url: http://127.0.0.1:1/v1\n    credential: { env: " +
                     extra_env +
                     " }\nroutes:\n  - { model: exact, upstream: u }\n  - { model: \"gpt-*\", upstream: u }\n"
                     "  - { model: \"gpt-4*\", upstream: u }\nkeys:\n"
                     "  - { name: a, sha256: " + core::HexEncode(core::Sha256("key-a")) +
                     ", tenant: t, app: x, role: r, purpose: p, models: [exact] }\n"
                     "  - { name: b, sha256: " + core::HexEncode(core::Sha256("key-b")) +
                     ", tenant: t, app: x, role: r, purpose: p }\n";
  auto cfg = config::ParseConfig(yaml, "t");
  EXPECT_TRUE(cfg.ok()) << cfg.status().message();
  auto s = Snapshot::Build(*cfg);
  EXPECT_TRUE(s.ok());
  return *s;
}

TEST(SnapshotAuthenticate, FindsTheKeyByItsHashOnly) {
  auto s = Build();
  ASSERT_NE(s->Authenticate("key-a"), nullptr);
  EXPECT_EQ(s->Authenticate("key-a")->key_name, "a");
  EXPECT_EQ(s->Authenticate("key-b")->key_name, "b");
  EXPECT_EQ(s->Authenticate("key-c"), nullptr);
  EXPECT_EQ(s->Authenticate(""), nullptr);
}

TEST(SnapshotRoutes, PreferExactThenLongestPrefix) {
  auto s = Build();
  EXPECT_EQ(s->FindRoute("exact")->pattern, "exact");
  EXPECT_EQ(s->FindRoute("gpt-4o")->pattern, "gpt-4*");
  EXPECT_EQ(s->FindRoute("gpt-3.5")->pattern, "gpt-*");
  EXPECT_EQ(s->FindRoute("claude"), nullptr);
}

TEST(SnapshotRoutes, KeysAreLimitedToTheirModels) {
  auto s = Build();
  const Principal* a = s->Authenticate("key-a");
  EXPECT_TRUE(s->Allows(*a, *s->FindRoute("exact")));
  EXPECT_FALSE(s->Allows(*a, *s->FindRoute("gpt-4o")));
}

TEST(SnapshotCredentials, AMissingCredentialIsReportedNotFatal) {
  auto s = Build("SNAPSHOT_TEST_UNSET_VARIABLE");
  ASSERT_EQ(s->upstreams().size(), 1u);
  EXPECT_EQ(s->upstreams()[0]->credential_problem,
            "environment variable SNAPSHOT_TEST_UNSET_VARIABLE is not set");
  EXPECT_EQ(s->upstreams()[0]->authorization.ToString(), "[redacted]");
}

// Every shipped example must load and build (credentials may be missing: they only warn).
TEST(Snapshot, EveryExampleConfigurationBuilds) {
  setenv("BAAGATE_PSEUDONYM_KEY", "example-pseudonym-key", 1);
  const std::filesystem::path examples =
      std::filesystem::path(BAAGATE_FUZZ_CORPUS_DIR).parent_path().parent_path() / "examples";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(examples)) {
    if (entry.path().extension() != ".yaml") continue;
    ++seen;
    auto cfg = config::LoadConfigFile(entry.path().string());
    ASSERT_TRUE(cfg.ok()) << cfg.status().message();
    auto snap = Snapshot::Build(*cfg);
    EXPECT_TRUE(snap.ok()) << entry.path() << ": " << snap.status().message();
  }
  EXPECT_GE(seen, 6);
}

}  // namespace
}  // namespace baagate::pipeline
