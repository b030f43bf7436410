// Strict YAML reading shared by every file baagate loads (gateway config, coverage registry):
// unknown keys are errors, and every error names the file, line and column and the key path,
// e.g. "registry.yaml:12:5: rules[3].status: must be one of covered, cond, not_covered, never".
// Internal to config/: the parsers throw YamlError and turn it into a Status at their boundary.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace baagate::config {

struct YamlError {
  std::string message;
};

class YamlReader {
 public:
  explicit YamlReader(std::string_view source) : source_(source) {}

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& path,
                         const std::string& what) const {
    std::ostringstream os;
    os << source_;
    if (node.IsDefined() && node.Mark().line >= 0) {
      os << ':' << node.Mark().line + 1 << ':' << node.Mark().column + 1;
    }
    os << ": " << path << ": " << what;
    throw YamlError{os.str()};
  }

  void CheckKeys(const YAML::Node& map, const std::string& path,
                 std::initializer_list<std::string_view> allowed) const {
    if (!map.IsMap()) Fail(map, path, "must be a mapping");
    for (const auto& kv : map) {
      std::string key = kv.first.as<std::string>();
      bool ok = false;
      for (auto a : allowed) ok = ok || key == a;
      if (!ok) Fail(kv.first, path.empty() ? key : path + "." + key, "unknown key");
    }
  }

  std::string Str(const YAML::Node& n, const std::string& path) const {
    if (!n.IsScalar()) Fail(n, path, "must be a string");
    return n.as<std::string>();
  }

  std::string NonEmptyStr(const YAML::Node& n, const std::string& path) const {
    std::string s = Str(n, path);
    if (s.empty()) Fail(n, path, "must not be empty");
    return s;
  }

  std::int64_t Int(const YAML::Node& n, const std::string& path, std::int64_t min,
                   std::int64_t max) const {
    if (!n.IsScalar()) Fail(n, path, "must be a number");
    std::int64_t v;
    try {
      v = n.as<std::int64_t>();
    } catch (const YAML::Exception&) {
      Fail(n, path, "must be a whole number");
    }
    if (v < min || v > max) {
      Fail(n, path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return v;
  }

  bool Bool(const YAML::Node& n, const std::string& path) const {
    if (!n.IsScalar()) Fail(n, path, "must be true or false");
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
      Fail(n, path, "must be true or false");
    }
  }

  std::vector<std::string> StrList(const YAML::Node& n, const std::string& path) const {
    if (!n.IsSequence()) Fail(n, path, "must be a list");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n.size(); ++i) {
      out.push_back(NonEmptyStr(n[i], path + "[" + std::to_string(i) + "]"));
    }
    return out;
  }

  // YYYY-MM-DD with a valid calendar day; returned unchanged (it sorts as a date).
  std::string Date(const YAML::Node& n, const std::string& path) const;
  // RFC 3339 UTC timestamp "YYYY-MM-DDTHH:MM:SSZ"; returns seconds since the epoch.
  std::int64_t Timestamp(const YAML::Node& n, const std::string& path) const;

  // Parses the document; a syntax error becomes a YamlError naming file, line and column.
  YAML::Node Load(std::string_view yaml) const {
    try {
      return YAML::Load(std::string(yaml));
    } catch (const YAML::ParserException& e) {
      std::ostringstream os;
      os << source_ << ':' << e.mark.line + 1 << ':' << e.mark.column + 1 << ": " << e.msg;
      throw YamlError{os.str()};
    }
  }

  std::string_view source() const { return source_; }

 private:
  std::string_view source_;
};

// Calendar helpers shared with the policy engine (dates are "YYYY-MM-DD" strings).
bool IsValidDate(std::string_view ymd);
// Seconds since the epoch for "YYYY-MM-DDTHH:MM:SSZ" (optionally with .fraction); false if bad.
bool ParseRfc3339Utc(std::string_view s, std::int64_t* epoch_seconds);
// "YYYY-MM-DD" for a time in seconds since the epoch (UTC).
std::string DateOfEpoch(std::int64_t epoch_seconds);

}  // namespace baagate::config
