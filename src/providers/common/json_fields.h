// Typed field lookups on a JSON object for the translators: null (or the fallback) when the
// field is missing or of another type, so request and vendor bodies never throw.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
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

// The "url" of an OpenAI content part's "image_url" object, or null.
inline const boost::json::string* ImageUrl(const boost::json::object& part) {
  const boost::json::object* iu = Obj(part, "image_url");
  return iu != nullptr ? Str(*iu, "url") : nullptr;
}

// A base64 data URL ("data:image/png;base64,AAAA") split into its media type and its data.
struct DataUrl {
  std::string_view media_type;
  std::string_view data;
};
inline std::optional<DataUrl> ParseBase64DataUrl(std::string_view url) {
  if (url.rfind("data:", 0) != 0) return std::nullopt;
  const std::size_t semi = url.find(";base64,");
  if (semi == std::string_view::npos) return std::nullopt;
  return DataUrl{url.substr(5, semi - 5), url.substr(semi + 8)};
}

}  // namespace baagate::providers::json_fields
