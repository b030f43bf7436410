#include "providers/bedrock/credentials.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace baagate::providers::bedrock {
namespace {

constexpr const char* kIni = R"(# a comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secretdefault

; another comment
[profile clinic]
aws_access_key_id=AKIDCLINIC
aws_secret_access_key=secretclinic
aws_session_token = tokenclinic

[broken]
aws_access_key_id = AKIDBROKEN
)";

// An environment made of a map, so tests never depend on (or leak) the real one.
struct FakeEnv {
  std::map<std::string, std::string> vars;
  GetEnvFn fn() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

class SharedCredentialsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("baagate-creds-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ / ".aws");
    std::ofstream(dir_ / ".aws" / "credentials") << kIni;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST(ParseSharedCredentialsTest, ReadsTheNamedProfileWithOptionalSessionToken) {
  auto d = ParseSharedCredentials(kIni, "default");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(d->secret_access_key.Expose(), "secretdefault");
  EXPECT_TRUE(d->session_token.Expose().empty());
  auto c = ParseSharedCredentials(kIni, "clinic");  // "[profile clinic]" also names it
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIDCLINIC");
  EXPECT_EQ(c->secret_access_key.Expose(), "secretclinic");
  EXPECT_EQ(c->session_token.Expose(), "tokenclinic");
}

TEST(ParseSharedCredentialsTest, MissingProfileOrKeyPairIsAnErrorThatQuotesNoSecret) {
  auto missing = ParseSharedCredentials(kIni, "nope");
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  auto broken = ParseSharedCredentials(kIni, "broken");
  EXPECT_EQ(broken.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(broken.status().message().find("AKIDBROKEN"), std::string::npos);
  auto crlf = ParseSharedCredentials("[default]\r\naws_access_key_id=A\r\naws_secret_access_key=B\r\n",
                                     "default");
  ASSERT_TRUE(crlf.ok());
  EXPECT_EQ(crlf->secret_access_key.Expose(), "B");
}

TEST_F(SharedCredentialsFile, EnvironmentComesFirst) {
  FakeEnv env{{{"AWS_ACCESS_KEY_ID", "AKIDENV"},
               {"AWS_SECRET_ACCESS_KEY", "secretenv"},
               {"AWS_SESSION_TOKEN", "tokenenv"},
               {"HOME", dir_.string()}}};
  std::string source;
  auto c = ResolveAwsCredentials("clinic", env.fn(), &source);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIDENV");
  EXPECT_EQ(c->session_token.Expose(), "tokenenv");
  EXPECT_EQ(source, "environment");
}

TEST_F(SharedCredentialsFile, HomeFileWithTheUpstreamProfileThenAwsProfileOverrides) {
  FakeEnv env{{{"HOME", dir_.string()}}};
  std::string source;
  auto c = ResolveAwsCredentials("clinic", env.fn(), &source);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->access_key_id, "AKIDCLINIC");
  EXPECT_EQ(source, (dir_ / ".aws" / "credentials").string() + " [clinic]");
  auto d = ResolveAwsCredentials("", env.fn());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->access_key_id, "AKIDDEFAULT");
  env.vars["AWS_PROFILE"] = "default";
  auto e = ResolveAwsCredentials("clinic", env.fn());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->access_key_id, "AKIDDEFAULT");
}

TEST_F(SharedCredentialsFile, ExplicitFileVariableAndClearErrors) {
  const auto other = dir_ / "other";
  std::ofstream(other) << "[default]\naws_access_key_id=AKIDOTHER\naws_secret_access_key=s\n";
  FakeEnv env{{{"HOME", dir_.string()}, {"AWS_SHARED_CREDENTIALS_FILE", other.string()}}};
  auto c = ResolveAwsCredentials("", env.fn());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIDOTHER");
  auto missing = ResolveAwsCredentials("clinic", env.fn());
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'clinic'"), std::string::npos);
  env.vars["AWS_SHARED_CREDENTIALS_FILE"] = (dir_ / "absent").string();
  auto unreadable = ResolveAwsCredentials("", env.fn());
  EXPECT_EQ(unreadable.status().code(), core::StatusCode::kNotFound);
  EXPECT_NE(unreadable.status().message().find("cannot be read"), std::string::npos);
  FakeEnv empty;
  EXPECT_EQ(ResolveAwsCredentials("", empty.fn()).status().code(), core::StatusCode::kNotFound);
}

}  // namespace
}  // namespace baagate::providers::bedrock
