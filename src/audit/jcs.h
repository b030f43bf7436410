// RFC 8785 JSON Canonicalization Scheme (JCS) for the audit log (docs/formats/audit.md).
//
// The audit schema only uses objects, arrays, strings, booleans, null and integers, so this
// encoder rejects floating-point numbers and integers outside the I-JSON safe range (|n| <= 2^53)
// instead of implementing ECMAScript number formatting. Object keys must be ASCII: the audit
// schema's keys are, and for ASCII the UTF-16 code-unit order RFC 8785 requires is byte order.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace baagate::audit {

// Appends the canonical form of `v` to `out`. Thread-safe (no shared state).
core::Status AppendCanonicalJson(const boost::json::value& v, std::string& out);

core::Result<std::string> CanonicalJson(const boost::json::value& v);

// Appends `s` as an RFC 8785 string literal (quotes included).
void AppendJcsString(std::string_view s, std::string& out);

// Builds one canonical object without a DOM: members are serialised as they are added, into
// one buffer, and sorted by key on Finish (adding them in key order makes that a check). Keys
// must be ASCII string literals (they are borrowed, not copied) and unique. This is the audit
// writer's hot path, hence no per-member allocations.
class CanonicalObject {
 public:
  CanonicalObject() = default;
  // Reserves room for `members` members and `bytes` bytes of values.
  CanonicalObject(std::size_t members, std::size_t bytes);

  void Str(std::string_view key, std::string_view value);
  void Uint(std::string_view key, std::uint64_t value);  // must be <= 2^53
  void Int(std::string_view key, std::int64_t value);    // must be within +-2^53
  void Bool(std::string_view key, bool value);
  // `json` must already be canonical (an array or object built with this class or CanonicalJson).
  void Raw(std::string_view key, std::string_view json);
  // A member whose value `write(std::string& out)` appends; it must append canonical JSON.
  template <typename F>
  void RawWith(std::string_view key, F&& write) {
    const std::size_t at = values_.size();
    write(values_);
    Add(key, at);
  }
  bool Has(std::string_view key) const;
  // Sorts the members now (e.g. on a caller's thread); later Insert keeps the order.
  void Sort();
  // Adds a string member at its sorted position (after Sort).
  void InsertStr(std::string_view key, std::string_view value);
  void InsertUint(std::string_view key, std::uint64_t value);  // must be <= 2^53
  std::string Finish() &&;
  // Finish, also reporting where each of `keys`' values starts in the result (npos if absent).
  // `extra` bytes of capacity are reserved beyond the result, for a later in-place edit.
  std::string Finish(std::initializer_list<std::string_view> keys, std::size_t* offsets,
                     std::size_t extra) &&;

 private:
  struct Member {
    std::string_view key;
    std::size_t at = 0, size = 0;  // the value: values_.substr(at, size)
  };
  void Add(std::string_view key, std::size_t at);
  void InsertAdded(std::string_view key, std::size_t at);

  std::vector<Member> members_;
  std::string values_;  // every member's canonical value, back to back
};

// A canonical array of strings.
std::string CanonicalStringArray(const std::vector<std::string_view>& items);

}  // namespace baagate::audit
