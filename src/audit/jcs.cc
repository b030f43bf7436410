#include "audit/jcs.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
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

namespace {

bool IsPlain(unsigned char u) { return u >= 0x20 && u != '"' && u != '\\'; }

// True if `s` needs no escaping; eight bytes at a time, since every key and most values of a
// record go through here.
bool NeedsNoEscape(std::string_view s) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const char* p = s.data();
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    const std::uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
    // A byte below 0x20 or equal to '"' or '\\' sets its high bit in `hit` (other bytes may
    // too, after a real one: only "none" matters here). Bytes >= 0x80 (UTF-8) are excluded by
    // ~w: they are plain.
    const std::uint64_t hit = ((w - kOnes * 0x20) | (quote - kOnes) | (backslash - kOnes)) &
                              ~w & kHigh;
    if (hit) {
      for (std::size_t k = i; k < i + 8; ++k) {
        if (!IsPlain(static_cast<unsigned char>(p[k]))) return false;
      }
    }
  }
  for (; i < s.size(); ++i) {
    if (!IsPlain(static_cast<unsigned char>(p[i]))) return false;
  }
  return true;
}

// `s` in quotes at `p`, which has room for s.size() + 2 characters; returns the end.
char* PutQuoted(std::string_view s, char* p) {
  *p++ = '"';
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  p += s.size();
  *p++ = '"';
  return p;
}

}  // namespace

void AppendJcsString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (NeedsNoEscape(s)) {  // ids, codes, keys: the common case, in one step
    const std::size_t at = out.size();
    out.resize(at + s.size() + 2);
    PutQuoted(s, out.data() + at);
    return;
  }
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

CanonicalObject::CanonicalObject(std::size_t members, std::size_t bytes) {
  members_.reserve(members);
  values_.reserve(bytes);
}

void CanonicalObject::Add(std::string_view key, std::size_t at) {
  members_.push_back({key, at, values_.size() - at});
}

void CanonicalObject::InsertAdded(std::string_view key, std::size_t at) {
  auto pos = std::lower_bound(members_.begin(), members_.end(), key,
                              [](const Member& m, std::string_view k) { return m.key < k; });
  members_.insert(pos, {key, at, values_.size() - at});
}

void CanonicalObject::Str(std::string_view key, std::string_view value) {
  const std::size_t at = values_.size();
  AppendJcsString(value, values_);
  Add(key, at);
}

void CanonicalObject::Uint(std::string_view key, std::uint64_t value) {
  if (value > static_cast<std::uint64_t>(kMaxSafeInteger)) value = kMaxSafeInteger;
  const std::size_t at = values_.size();
  AppendInteger(value, values_);
  Add(key, at);
}

void CanonicalObject::Int(std::string_view key, std::int64_t value) {
  value = std::clamp(value, -kMaxSafeInteger, kMaxSafeInteger);
  const std::size_t at = values_.size();
  AppendInteger(value, values_);
  Add(key, at);
}

void CanonicalObject::Bool(std::string_view key, bool value) {
  const std::size_t at = values_.size();
  values_ += value ? "true" : "false";
  Add(key, at);
}

void CanonicalObject::Raw(std::string_view key, std::string_view json) {
  const std::size_t at = values_.size();
  values_ += json;
  Add(key, at);
}

bool CanonicalObject::Has(std::string_view key) const {
  for (const auto& m : members_) {
    if (m.key == key) return true;
  }
  return false;
}

void CanonicalObject::Sort() {
  auto by_key = [](const Member& a, const Member& b) { return a.key < b.key; };
  if (!std::is_sorted(members_.begin(), members_.end(), by_key)) {
    std::sort(members_.begin(), members_.end(), by_key);
  }
}

void CanonicalObject::InsertStr(std::string_view key, std::string_view value) {
  const std::size_t at = values_.size();
  AppendJcsString(value, values_);
  InsertAdded(key, at);
}

void CanonicalObject::InsertUint(std::string_view key, std::uint64_t value) {
  if (value > static_cast<std::uint64_t>(kMaxSafeInteger)) value = kMaxSafeInteger;
  const std::size_t at = values_.size();
  AppendInteger(value, values_);
  InsertAdded(key, at);
}

std::string CanonicalObject::Finish() && { return std::move(*this).Finish({}, nullptr, 0); }

std::string CanonicalObject::Finish(std::initializer_list<std::string_view> keys,
                                    std::size_t* offsets, std::size_t extra) && {
  Sort();
  for (std::size_t k = 0; k < keys.size(); ++k) offsets[k] = std::string::npos;
  std::size_t size = 2;
  bool plain_keys = true;
  for (const auto& m : members_) {
    size += m.key.size() + m.size + 4;  // "key": and a comma (one too many: the braces)
    plain_keys = plain_keys && NeedsNoEscape(m.key);
  }
  size -= members_.empty() ? 0 : 1;
  std::string out;
  out.reserve(size + extra);
  if (!plain_keys) {  // keys that need escaping: never the audit schema's
    out.push_back('{');
    for (std::size_t i = 0; i < members_.size(); ++i) {
      const Member& m = members_[i];
      if (i > 0) out.push_back(',');
      AppendJcsString(m.key, out);
      out.push_back(':');
      for (std::size_t k = 0; k < keys.size(); ++k) {
        if (keys.begin()[k] == m.key) offsets[k] = out.size();
      }
      out.append(values_, m.at, m.size);
    }
    out.push_back('}');
    return out;
  }
  // The exact size is known, so the members are written without any capacity checks.
  out.resize(size);
  char* const begin = out.data();
  char* p = begin;
  *p++ = '{';
  for (std::size_t i = 0; i < members_.size(); ++i) {
    const Member& m = members_[i];
    if (i > 0) *p++ = ',';
    p = PutQuoted(m.key, p);
    *p++ = ':';
    for (std::size_t k = 0; k < keys.size(); ++k) {
      if (keys.begin()[k] == m.key) offsets[k] = static_cast<std::size_t>(p - begin);
    }
    if (m.size > 0) std::memcpy(p, values_.data() + m.at, m.size);
    p += m.size;
  }
  *p++ = '}';
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
