#include "phi/session.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <boost/json.hpp>
#include <cctype>

namespace baagate::phi {

namespace json = boost::json;

namespace {

// HHS Safe Harbor guidance, Census 2000 (COMPLIANCE.md §2.2); versioned with the source.
constexpr std::string_view kRestrictedZip3[] = {"036", "059", "063", "102", "203", "556",
                                                "692", "790", "821", "823", "830", "831",
                                                "878", "879", "884", "890", "893"};

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

bool IsTagChar(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }

// If a complete placeholder "[TAG_N]" starts at s[i], returns its length, else 0.
std::size_t PlaceholderAt(std::string_view s, std::size_t i) {
  if (s[i] != '[') return 0;
  std::size_t j = i + 1;
  while (j < s.size() && IsTagChar(s[j])) ++j;
  if (j == i + 1 || s[j - 1] != '_') return 0;
  std::size_t d = j;
  while (j < s.size() && j - d < 9 && s[j] >= '0' && s[j] <= '9') ++j;
  if (j == d || j >= s.size() || s[j] != ']') return 0;
  return j + 1 - i;
}

// True if s[i..] could still grow into a placeholder (a '[' then tag characters and digits).
bool PlaceholderPrefix(std::string_view s, std::size_t i) {
  if (s[i] != '[') return false;
  for (std::size_t j = i + 1; j < s.size(); ++j) {
    char c = s[j];
    if (!IsTagChar(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Fields that carry protocol vocabulary, not content; left alone so the vendor can parse them.
bool IsProtocolKey(Dialect dialect, std::string_view key) {
  static constexpr std::string_view kKeys[] = {
      "model", "role", "type", "id", "tool_call_id", "tool_use_id", "call_id",
      "encoding_format", "detail", "media_type", "finish_reason", "stop_reason",
      "reasoning_effort", "service_tier", "object", "voice", "truncation", "format",
      "cache_control", "previous_response_id", "effort", "parallel_tool_calls", "strict"};
  for (std::string_view k : kKeys) {
    if (key == k) return true;
  }
  if (dialect == Dialect::kAnthropicMessages && key == "data") return true;  // base64 media
  return false;
}

}  // namespace

bool IsRestrictedZip3(std::string_view zip3) {
  return std::find(std::begin(kRestrictedZip3), std::end(kRestrictedZip3), zip3) !=
         std::end(kRestrictedZip3);
}

Session::Session(std::shared_ptr<const Detector> detector, TransformMode mode)
    : detector_(std::move(detector)), mode_(mode) {}

Session::~Session() {
  // The vault holds PHI: zero it before the memory goes back to the allocator.
  Wipe(originals_);
}

std::size_t Session::SlotHash(PhiClass cls, std::string_view original) {
  return std::hash<std::string_view>{}(original) ^
         (static_cast<std::size_t>(cls) * 0x9E3779B97F4A7C15ULL);
}

const Session::VaultEntry* Session::Find(PhiClass cls, std::string_view original) const {
  if (slots_.empty()) return nullptr;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t h = SlotHash(cls, original) & mask; slots_[h] != 0; h = (h + 1) & mask) {
    const VaultEntry& e = entries_[slots_[h] - 1];
    if (e.cls == cls && Original(e) == original) return &e;
  }
  return nullptr;
}

const Session::VaultEntry* Session::FindPlaceholder(std::string_view ph) const {
  // "[TAG_N]": the tag is everything up to the last '_'; N has no leading zero (as issued).
  const std::size_t us = ph.rfind('_');
  std::string_view tag = ph.substr(1, us - 1), digits = ph.substr(us + 1, ph.size() - us - 2);
  if (digits.empty() || digits[0] == '0') return nullptr;
  std::uint64_t n = 0;
  for (char c : digits) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  for (std::size_t c = 0; c < kPhiClassCount; ++c) {
    if (PlaceholderTag(static_cast<PhiClass>(c)) != tag) continue;
    const std::vector<std::uint32_t>& v = by_index_[c];
    if (n > v.size() || v[n - 1] == 0) return nullptr;
    return &entries_[v[n - 1] - 1];
  }
  return nullptr;
}

void Session::Insert(PhiClass cls, std::string_view original, std::uint32_t index) {
  // Grow the originals buffer by hand so the old one is wiped, not just freed.
  if (originals_.size() + original.size() > originals_.capacity()) {
    std::string bigger;
    bigger.reserve(std::max(2 * originals_.capacity(), originals_.size() + original.size()));
    bigger.append(originals_);
    Wipe(originals_);
    originals_.swap(bigger);
  }
  entries_.push_back({originals_.size(), original.size(), index, cls});
  originals_.append(original);
  const auto id = static_cast<std::uint32_t>(entries_.size());
  std::vector<std::uint32_t>& by_index = by_index_[static_cast<std::size_t>(cls)];
  by_index.resize(index, 0);
  by_index[index - 1] = id;
  // Load at most one half: a full rebuild when the table doubles, else place the new entry.
  if (2 * entries_.size() > slots_.size()) {
    slots_.assign(std::max<std::size_t>(16, 2 * slots_.size()), 0);
    for (std::uint32_t k = 0; k < entries_.size(); ++k) PlaceSlot(k);
  } else {
    PlaceSlot(id - 1);
  }
}

void Session::PlaceSlot(std::uint32_t entry) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t h = SlotHash(entries_[entry].cls, Original(entries_[entry])) & mask;
  while (slots_[h] != 0) h = (h + 1) & mask;
  slots_[h] = entry + 1;
}

// The same spelling of the same class always gets the same placeholder: exact (not
// case-folded) so re-identification restores each mention byte for byte.
void Session::AppendPlaceholder(PhiClass cls, std::string_view original, std::string& out) {
  const std::string_view tag = PlaceholderTag(cls);
  auto append = [&](std::uint32_t index) {
    char digits[16];
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), index);
    (void)ec;
    out += '[';
    out += tag;
    out += '_';
    out.append(digits, end);
    out += ']';
    return tag.size() + 3 + static_cast<std::size_t>(end - digits);
  };
  if (const VaultEntry* e = Find(cls, original)) {
    append(e->index);
    return;
  }
  std::uint32_t& next = next_index_[static_cast<std::size_t>(cls)];
  for (;;) {
    const std::size_t at = out.size();
    const std::size_t len = append(++next);
    // A placeholder the input already held is never issued (numbers are per class, so one
    // issued is never issued again).
    if (!reserved_.empty() && reserved_.count(std::string_view(out).substr(at, len)) > 0) {
      out.resize(at);
      continue;
    }
    Insert(cls, original, next);
    max_placeholder_len_ = std::max(max_placeholder_len_, len);
    return;
  }
}

void Session::AppendReplacement(PhiClass cls, std::string_view original, std::string& out) {
  switch (mode_) {
    case TransformMode::kPlaceholder:
      AppendPlaceholder(cls, original, out);
      return;
    case TransformMode::kRedact:
      out += '[';
      out += PlaceholderTag(cls);
      out += ']';
      return;
    case TransformMode::kGeneralize:
      out += Generalization(cls, original);
      return;
  }
}

std::string Session::Generalization(PhiClass cls, std::string_view original) {
  if (cls == PhiClass::kAge) return "90 or older";
  if (cls == PhiClass::kDate) {
    // Keep the year only (a four-digit group); birth years implying age > 89 are removed.
    for (std::size_t i = 0; i + 4 <= original.size(); ++i) {
      std::string_view y = original.substr(i, 4);
      bool digits = std::all_of(y.begin(), y.end(), [](char c) { return c >= '0' && c <= '9'; });
      bool bounded = (i == 0 || !std::isdigit(static_cast<unsigned char>(original[i - 1]))) &&
                     (i + 4 == original.size() ||
                      !std::isdigit(static_cast<unsigned char>(original[i + 4])));
      if (digits && bounded && original.size() > 4) return std::string(y);
    }
    return "[DATE]";
  }
  if (cls == PhiClass::kLocation && original.size() >= 5 &&
      std::all_of(original.begin(), original.begin() + 5,
                  [](char c) { return c >= '0' && c <= '9'; }) &&
      (original.size() == 5 || original[5] == '-')) {
    std::string zip3(original.substr(0, 3));
    return IsRestrictedZip3(zip3) ? "000" : zip3;
  }
  return "[" + std::string(PlaceholderTag(cls)) + "]";
}

void Session::Reserve(std::string_view text) {
  for (std::size_t br = text.find('['); br != std::string_view::npos;
       br = text.find('[', br + 1)) {
    std::size_t len = PlaceholderAt(text, br);
    if (len > 0 && FindPlaceholder(text.substr(br, len)) == nullptr) {
      reserved_.emplace(text.substr(br, len));
    }
  }
}

core::Result<std::string> Session::Deidentify(std::string_view text) {
  Reserve(text);
  auto found = detector_->Scan(text);
  if (!found.ok()) return found.status();
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (const Finding& f : *found) {
    out.append(text.substr(pos, f.begin - pos));
    AppendReplacement(f.cls, text.substr(f.begin, f.end - f.begin), out);
    ++counts_[static_cast<std::size_t>(f.cls)];
    pos = f.end;
  }
  out.append(text.substr(pos));
  return out;
}

namespace {

// Replaces every key of `o` with `fn(key)`, keeping the members' order.
template <typename Fn>
core::Status TransformKeys(json::object& o, Fn& fn) {
  json::object out(o.storage());
  out.reserve(o.size());
  for (auto& kv : o) {
    auto r = fn(std::string_view(kv.key().data(), kv.key().size()));
    if (!r.ok()) return r.status();
    // Redaction maps different keys to the same "[NAME]": refuse rather than drop a member.
    if (!out.emplace(r.value(), std::move(kv.value())).second) {
      return core::InvalidArgumentError("two metadata keys are the same after de-identification");
    }
  }
  o = std::move(out);
  return core::Status::Ok();
}

// Applies `fn` to every string value in `v`, skipping protocol keys, and to the keys of
// free-form maps.
template <typename Fn>
core::Status WalkStrings(json::value& v, Dialect dialect, std::string_view key, Fn& fn) {
  switch (v.kind()) {
    case json::kind::string: {
      if (IsProtocolKey(dialect, key)) return core::Status::Ok();
      json::string& s = v.get_string();
      auto r = fn(std::string_view(s.data(), s.size()));
      if (!r.ok()) return r.status();
      s = r.value();
      return core::Status::Ok();
    }
    case json::kind::array:
      for (json::value& e : v.get_array()) {
        core::Status st = WalkStrings(e, dialect, key, fn);
        if (!st.ok()) return st;
      }
      return core::Status::Ok();
    case json::kind::object:
      for (auto& kv : v.get_object()) {
        core::Status st = WalkStrings(kv.value(), dialect, kv.key(), fn);
        if (!st.ok()) return st;
      }
      // The keys of a free-form map ("metadata": {"Jane Doe": ...}) are the caller's text,
      // not protocol vocabulary: they go through `fn` too.
      if (key == "metadata") return TransformKeys(v.get_object(), fn);
      return core::Status::Ok();
    default:
      return core::Status::Ok();
  }
}

}  // namespace

core::Result<std::string> Session::DeidentifyJsonBody(Dialect dialect, std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return core::InvalidArgumentError("request body is not valid JSON");
  // Placeholder-shaped text already in the body is reserved first, in every string, so no
  // issued placeholder can collide with it.
  auto reserve = [this](std::string_view s) -> core::Result<std::string> {
    Reserve(s);
    return std::string(s);
  };
  core::Status st = WalkStrings(v, dialect, "", reserve);
  if (!st.ok()) return st;
  auto fn = [this](std::string_view s) { return Deidentify(s); };
  st = WalkStrings(v, dialect, "", fn);
  if (!st.ok()) return st;
  return json::serialize(v);
}

std::string Session::Reidentify(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t br = text.find('[', i);
    if (br == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, br - i));
    std::size_t len = PlaceholderAt(text, br);
    if (len > 0) {
      if (const VaultEntry* e = FindPlaceholder(text.substr(br, len))) {
        out += Original(*e);
        i = br + len;
        continue;
      }
    }
    out += '[';
    i = br + 1;
  }
  return out;
}

core::Result<std::string> Session::ReidentifyJsonBody(std::string_view body) const {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return core::InvalidArgumentError("response body is not valid JSON");
  auto fn = [this](std::string_view s) -> core::Result<std::string> { return Reidentify(s); };
  // Responses have no protocol keys to skip that could hold a placeholder except ids; those
  // never contain one, so the chat dialect's key list is fine here.
  core::Status st = WalkStrings(v, Dialect::kOpenAiChat, "", fn);
  if (!st.ok()) return st;
  return json::serialize(v);
}

std::string StreamReidentifier::Feed(std::string_view chunk) {
  pending_.append(chunk);
  // Hold back from the last '[' if what follows could still become a placeholder.
  std::size_t hold = pending_.size();
  std::size_t br = pending_.rfind('[');
  std::size_t max_len = session_.max_placeholder_length();
  if (br != std::string::npos && pending_.size() - br < std::max<std::size_t>(max_len, 1) &&
      PlaceholderPrefix(pending_, br)) {
    hold = br;
  }
  std::string out = session_.Reidentify(std::string_view(pending_).substr(0, hold));
  pending_.erase(0, hold);
  return out;
}

std::string StreamReidentifier::Finish() {
  std::string out = session_.Reidentify(pending_);
  pending_.clear();
  return out;
}

namespace {

void WalkStream(json::value& v, std::string path,
                std::map<std::string, std::unique_ptr<StreamReidentifier>>& streams,
                const Session& session) {
  switch (v.kind()) {
    case json::kind::string: {
      auto& slot = streams[path];
      if (!slot) slot = std::make_unique<StreamReidentifier>(session);
      json::string& s = v.get_string();
      s = slot->Feed(std::string_view(s.data(), s.size()));
      return;
    }
    case json::kind::array: {
      std::size_t i = 0;
      for (json::value& e : v.get_array()) WalkStream(e, path + "[" + std::to_string(i++) + "]", streams, session);
      return;
    }
    case json::kind::object:
      for (auto& kv : v.get_object()) {
        // An array element's "index" field names the stream better than its position.
        WalkStream(kv.value(), path + "." + std::string(kv.key()), streams, session);
      }
      return;
    default:
      return;
  }
}

}  // namespace

std::string JsonStreamReidentifier::Feed(std::string_view event_json) {
  boost::system::error_code ec;
  json::value v = json::parse(event_json, ec);
  if (ec) return std::string(event_json);
  WalkStream(v, "", streams_, session_);
  return json::serialize(v);
}

std::vector<std::pair<std::string, std::string>> JsonStreamReidentifier::Finish() {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [path, s] : streams_) {
    std::string rest = s->Finish();
    if (!rest.empty()) out.emplace_back(path, std::move(rest));
  }
  return out;
}

}  // namespace baagate::phi
