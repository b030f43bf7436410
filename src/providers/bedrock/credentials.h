// AWS credentials for SigV4 signing, resolved the way the AWS SDKs' default chain starts:
// the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) first, else the
// shared credentials file (AWS_SHARED_CREDENTIALS_FILE, or ~/.aws/credentials) under a profile
// (AWS_PROFILE, else the upstream's `profile:` option, else "default"). Instance roles, SSO and
// credential_process are not read.
//
// Thread-safe (no state). Error messages name variables, files and profiles, never a secret.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "providers/bedrock/sigv4.h"

namespace baagate::providers::bedrock {

// Returns the value of an environment variable, or null when unset (std::getenv in production).
using GetEnvFn = std::function<const char*(const char*)>;

// Parses the INI text of a shared credentials file and returns `profile`'s key pair
// (aws_access_key_id, aws_secret_access_key, optional aws_session_token). Section headers are
// "[name]" (also "[profile name]", as the config file writes them); "#" and ";" start comments;
// keys and values are trimmed. NOT_FOUND when the profile is absent; INVALID_ARGUMENT when it
// lacks the key pair.
core::Result<AwsCredentials> ParseSharedCredentials(std::string_view ini, std::string_view profile);

// Resolves credentials as described above. `profile_option` is the upstream's `profile:` (may be
// empty). On success `*source` (if given) says where they came from: "environment" or
// "<file> [profile]". NOT_FOUND when neither source has them.
core::Result<AwsCredentials> ResolveAwsCredentials(std::string_view profile_option,
                                                   const GetEnvFn& getenv,
                                                   std::string* source = nullptr);

}  // namespace baagate::providers::bedrock
