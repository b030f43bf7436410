#include "providers/bedrock/credentials.h"

#include <fstream>
#include <sstream>

namespace baagate::providers::bedrock {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool Set(const char* v) { return v != nullptr && *v != '\0'; }

}  // namespace

core::Result<AwsCredentials> ParseSharedCredentials(std::string_view ini, std::string_view profile) {
  bool in_profile = false;
  bool found = false;
  AwsCredentials creds;
  std::string secret;
  std::string token;
  while (!ini.empty()) {
    const std::size_t nl = ini.find('\n');
    std::string_view line = Trim(ini.substr(0, nl));
    ini = nl == std::string_view::npos ? std::string_view() : ini.substr(nl + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      std::string_view name = line.substr(1, line.find(']') == std::string_view::npos
                                                 ? std::string_view::npos
                                                 : line.find(']') - 1);
      name = Trim(name);
      if (name.rfind("profile ", 0) == 0) name = Trim(name.substr(8));
      in_profile = name == profile;
      found = found || in_profile;
      continue;
    }
    if (!in_profile) continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = Trim(line.substr(0, eq));
    const std::string_view value = Trim(line.substr(eq + 1));
    if (key == "aws_access_key_id") creds.access_key_id = std::string(value);
    else if (key == "aws_secret_access_key") secret = std::string(value);
    else if (key == "aws_session_token") token = std::string(value);
  }
  if (!found) return core::NotFoundError("profile '" + std::string(profile) + "' not found");
  if (creds.access_key_id.empty() || secret.empty()) {
    return core::InvalidArgumentError("profile '" + std::string(profile) +
                                      "' lacks aws_access_key_id or aws_secret_access_key");
  }
  creds.secret_access_key = core::SecretString(std::move(secret));
  if (!token.empty()) creds.session_token = core::SecretString(std::move(token));
  return creds;
}

core::Result<AwsCredentials> ResolveAwsCredentials(std::string_view profile_option,
                                                   const GetEnvFn& getenv, std::string* source) {
  const char* id = getenv("AWS_ACCESS_KEY_ID");
  const char* secret = getenv("AWS_SECRET_ACCESS_KEY");
  if (Set(id) && Set(secret)) {
    AwsCredentials creds;
    creds.access_key_id = id;
    creds.secret_access_key = core::SecretString(secret);
    if (const char* token = getenv("AWS_SESSION_TOKEN"); Set(token)) {
      creds.session_token = core::SecretString(token);
    }
    if (source) *source = "environment";
    return creds;
  }
  std::string path;
  if (const char* f = getenv("AWS_SHARED_CREDENTIALS_FILE"); Set(f)) {
    path = f;
  } else if (const char* home = getenv("HOME"); Set(home)) {
    path = std::string(home) + "/.aws/credentials";
  } else {
    return core::NotFoundError(
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set and there is no shared "
        "credentials file (AWS_SHARED_CREDENTIALS_FILE and HOME are unset)");
  }
  std::string profile = "default";
  if (const char* p = getenv("AWS_PROFILE"); Set(p)) {
    profile = p;
  } else if (!profile_option.empty()) {
    profile = std::string(profile_option);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::NotFoundError(
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set and the shared credentials "
        "file " + path + " cannot be read");
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto creds = ParseSharedCredentials(text.str(), profile);
  if (!creds.ok()) {
    return core::Status(creds.status().code(),
                        "shared credentials file " + path + ": " + creds.status().message());
  }
  if (source) *source = path + " [" + profile + "]";
  return creds;
}

}  // namespace baagate::providers::bedrock
