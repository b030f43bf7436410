// Typed field lookups on a JSON object for the translators: null (or the fallback) when the
// field is missing or of another type, so request and vendor bodies never throw.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace baagate::providers::json_fields {

inline const boost::json::string* Str(const boost::json::object& o, std::string_view k) {
  const boost::json::value* v = o.if_contains(k);
  return v != nullptr ? v->if_string() : nullptr;
}

// Records the vendor's served-model field `key` of `o` in *model once (first value wins),
// if it is a string of at most 128 bytes.
inline void NoteServedModel(const boost::json::object& o, std::string_view key, std::string* model) {
  if (!model->empty()) return;
  if (const boost::json::string* m = Str(o, key); m != nullptr && m->size() <= 128) {
    model->assign(m->data(), m->size());
  }
}

inline const boost::json::object* Obj(const boost::json::object& o, std::string_view k) {
  const boost::json::value* v = o.if_contains(k);
  return v != nullptr ? v->if_object() : nullptr;
}

inline std::int64_t Int(const boost::json::object& o, std::string_view k, std::int64_t fallback) {
  const boost::json::value* v = o.if_contains(k);
  if (v == nullptr) return fallback;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return fallback;
}

}  // namespace baagate::providers::json_fields
