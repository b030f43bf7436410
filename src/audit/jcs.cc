#include "audit/jcs.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <vector>

namespace baagate::audit {

namespace {

constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53);

template <typename T>
void AppendInteger(T n, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

}  // namespace

void AppendJcsString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the pending run of characters copied verbatim
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x20 && u != '"' && u != '\\') continue;  // RFC 8785 3.2.2.2: verbatim
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (u) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[u >> 4]);
        out.push_back(kHex[u & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void CanonicalObject::Str(std::string_view key, std::string_view value) {
  std::string v;
  v.reserve(value.size() + 2);
  AppendJcsString(value, v);
  members_.emplace_back(key, std::move(v));
}

void CanonicalObject::Uint(std::string_view key, std::uint64_t value) {
  if (value > static_cast<std::uint64_t>(kMaxSafeInteger)) value = kMaxSafeInteger;
  std::string v;
  AppendInteger(value, v);
  members_.emplace_back(key, std::move(v));
}

void CanonicalObject::Int(std::string_view key, std::int64_t value) {
  value = std::clamp(value, -kMaxSafeInteger, kMaxSafeInteger);
  std::string v;
  AppendInteger(value, v);
  members_.emplace_back(key, std::move(v));
}

void CanonicalObject::Bool(std::string_view key, bool value) {
  members_.emplace_back(key, value ? "true" : "false");
}

void CanonicalObject::Raw(std::string_view key, std::string json) {
  members_.emplace_back(key, std::move(json));
}

bool CanonicalObject::Has(std::string_view key) const {
  for (const auto& m : members_) {
    if (m.first == key) return true;
  }
  return false;
}

void CanonicalObject::Sort() {
  std::sort(members_.begin(), members_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
}

void CanonicalObject::InsertStr(std::string_view key, std::string_view value) {
  std::string v;
  v.reserve(value.size() + 2);
  AppendJcsString(value, v);
  auto at = std::lower_bound(members_.begin(), members_.end(), key,
                             [](const auto& m, std::string_view k) { return m.first < k; });
  members_.emplace(at, key, std::move(v));
}

void CanonicalObject::InsertUint(std::string_view key, std::uint64_t value) {
  if (value > static_cast<std::uint64_t>(kMaxSafeInteger)) value = kMaxSafeInteger;
  std::string v;
  AppendInteger(value, v);
  auto at = std::lower_bound(members_.begin(), members_.end(), key,
                             [](const auto& m, std::string_view k) { return m.first < k; });
  members_.emplace(at, key, std::move(v));
}

std::string CanonicalObject::Finish() && {
  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (!std::is_sorted(members_.begin(), members_.end(), by_key)) {
    std::sort(members_.begin(), members_.end(), by_key);
  }
  std::size_t size = 2;
  for (const auto& m : members_) size += m.first.size() + m.second.size() + 4;
  std::string out;
  out.reserve(size);
  out.push_back('{');
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJcsString(members_[i].first, out);
    out.push_back(':');
    out += members_[i].second;
  }
  out.push_back('}');
  return out;
}

std::string CanonicalStringArray(const std::vector<std::string_view>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJcsString(items[i], out);
  }
  out.push_back(']');
  return out;
}

core::Status AppendCanonicalJson(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; return {};
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; return {};
    case boost::json::kind::int64: {
      std::int64_t n = v.get_int64();
      if (n > kMaxSafeInteger || n < -kMaxSafeInteger) {
        return core::InvalidArgumentError("jcs: integer outside the I-JSON range");
      }
      AppendInteger(n, out);
      return {};
    }
    case boost::json::kind::uint64: {
      std::uint64_t n = v.get_uint64();
      if (n > static_cast<std::uint64_t>(kMaxSafeInteger)) {
        return core::InvalidArgumentError("jcs: integer outside the I-JSON range");
      }
      AppendInteger(n, out);
      return {};
    }
    case boost::json::kind::double_:
      return core::InvalidArgumentError("jcs: floating-point numbers are not used by the schema");
    case boost::json::kind::string: AppendJcsString(v.get_string(), out); return {};
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        if (auto s = AppendCanonicalJson(e, out); !s.ok()) return s;
      }
      out.push_back(']');
      return {};
    }
    case boost::json::kind::object: {
      const auto& obj = v.get_object();
      std::vector<const boost::json::key_value_pair*> members;
      members.reserve(obj.size());
      for (const auto& kv : obj) {
        for (char c : kv.key()) {
          if (static_cast<unsigned char>(c) >= 0x80) {
            return core::InvalidArgumentError("jcs: non-ASCII object key");
          }
        }
        members.push_back(&kv);
      }
      std::sort(members.begin(), members.end(),
                [](auto* a, auto* b) { return a->key() < b->key(); });
      out.push_back('{');
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i > 0) {
          if (members[i]->key() == members[i - 1]->key()) {
            return core::InvalidArgumentError("jcs: duplicate object key");
          }
          out.push_back(',');
        }
        AppendJcsString(members[i]->key(), out);
        out.push_back(':');
        if (auto s = AppendCanonicalJson(members[i]->value(), out); !s.ok()) return s;
      }
      out.push_back('}');
      return {};
    }
  }
  return core::InternalError("jcs: unknown JSON kind");
}

core::Result<std::string> CanonicalJson(const boost::json::value& v) {
  std::string out;
  if (auto s = AppendCanonicalJson(v, out); !s.ok()) return s;
  return out;
}

}  // namespace baagate::audit
