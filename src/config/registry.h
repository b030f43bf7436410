// The BAA coverage registry document (registry/default.yaml, docs/formats/registry.md) as
// plain data. Loading validates everything the policy engine relies on and reports errors as
// file:line:col; the policy module compiles a RegistryDoc into its lookup structures.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace baagate::config {

enum class CoverageStatus { kCovered, kCond, kNotCovered, kNever };
std::string_view CoverageStatusName(CoverageStatus s);  // covered, cond, not_covered, never

struct RegistryProvider {
  std::string id;      // openai, anthropic, azure_openai, bedrock, vertex_google, …
  std::string vendor;  // whose BAA applies: openai, anthropic, microsoft, aws, google
  std::string product;  // api, enterprise_app, consumer
  std::vector<std::string> chain;         // parties that always receive content
  std::vector<std::string> retention_ok;  // retention modes that satisfy C-RET
  bool never = false;
  int line = 0;
};

struct RegistryRule {
  std::string id;
  std::string provider;
  std::string surface = "*";   // api surface, e.g. openai.chat_completions; "*": any
  std::string feature;         // "core", a tag, "prefix*", "{a,b.*}" or "*"
  std::string modality;        // documentation and the matrix
  std::string models = "*";    // model pattern; a trailing '*' matches a prefix
  CoverageStatus status = CoverageStatus::kNotCovered;
  std::vector<std::string> conditions;  // C-… codes
  std::string eligible_from;   // YYYY-MM-DD or empty
  std::string eligible_until;
  std::string note;
  int line = 0;
};

struct RegistryDoc {
  std::string source;
  std::string version_label;  // the document's own `version`
  std::string sha256;         // hex SHA-256 of the document bytes: the registry version
  std::vector<RegistryProvider> providers;
  std::vector<RegistryRule> rules;
};

// The condition codes of COMPLIANCE.md §7.1.
bool IsKnownCondition(std::string_view code);

core::Result<RegistryDoc> ParseRegistry(std::string_view yaml, std::string_view source);
core::Result<RegistryDoc> LoadRegistryFile(const std::string& path);
// registry/default.yaml as built into the binary.
std::string_view EmbeddedRegistryYaml();

}  // namespace baagate::config
