#include "phi/dictionaries.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace baagate::phi {

namespace generated {
extern const char kFirstNames[];
extern const char kSurnames[];
extern const char kCities[];
extern const char kStateNames[];
extern const char kStateAbbrs[];
extern const char kStreetSuffixes[];
extern const char kEnglishWords[];
}  // namespace generated

namespace {

constexpr std::size_t kMaxKey = 64;

void AddLines(WordSet& set, std::string_view data) {
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) nl = data.size();
    if (nl > pos) set.Insert(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// FNV-1a over the case-folded bytes, then a multiplicative finish so the top bits (the slot
// index) depend on every byte.
inline std::uint64_t FoldHash(std::string_view w) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : w) {
    unsigned char u = static_cast<unsigned char>(c);
    u = static_cast<unsigned char>(u + ((static_cast<unsigned>(u - 'A') < 26U) ? 32 : 0));
    h = (h ^ u) * 0x100000001b3ULL;
  }
  h ^= h >> 29;
  return h * 0xbf58476d1ce4e5b9ULL;
}

inline bool EqualsFolded(const char* lower, std::string_view w) {
  for (std::size_t i = 0; i < w.size(); ++i) {
    unsigned char u = static_cast<unsigned char>(w[i]);
    u = static_cast<unsigned char>(u + ((static_cast<unsigned>(u - 'A') < 26U) ? 32 : 0));
    if (static_cast<unsigned char>(lower[i]) != u) return false;
  }
  return true;
}

}  // namespace

void WordSet::Grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  std::size_t cap = old.empty() ? 64 : old.size() * 2;
  slots_.assign(cap, Slot{});
  shift_ = 64 - static_cast<std::size_t>(__builtin_ctzll(cap));
  for (const Slot& s : old) {
    if (s.data == nullptr) continue;
    std::size_t i = static_cast<std::size_t>(s.hash >> shift_);
    while (slots_[i].data != nullptr) i = (i + 1) & (cap - 1);
    slots_[i] = s;
  }
}

void WordSet::Insert(std::string_view lower) {
  if (lower.empty() || lower.size() > kMaxKey) return;
  if ((size_ + 1) * 2 > slots_.size()) Grow();  // load factor at most 1/2
  std::uint64_t h = FoldHash(lower);
  std::size_t mask = slots_.size() - 1;
  for (std::size_t i = static_cast<std::size_t>(h >> shift_);; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.data == nullptr) {
      s = {h, lower.data(), static_cast<std::uint32_t>(lower.size())};
      ++size_;
      return;
    }
    if (s.hash == h && s.len == lower.size() && EqualsFolded(s.data, lower)) return;
  }
}

bool WordSet::Has(std::string_view word) const {
  if (word.empty() || word.size() > kMaxKey || slots_.empty()) return false;
  std::uint64_t h = FoldHash(word);
  std::size_t mask = slots_.size() - 1;
  for (std::size_t i = static_cast<std::size_t>(h >> shift_);; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.data == nullptr) return false;
    if (s.hash == h && s.len == word.size() && EqualsFolded(s.data, word)) return true;
  }
}

void Dictionaries::AddOwned(Set& set, std::string_view word) {
  if (word.empty() || word.size() > kMaxKey) return;
  owned_.push_back(std::make_unique<std::string>(Lower(word)));
  set.Insert(*owned_.back());
}

std::shared_ptr<const Dictionaries> Dictionaries::Build(const DictionaryExtras& extras) {
  auto d = std::shared_ptr<Dictionaries>(new Dictionaries());
  AddLines(d->first_, generated::kFirstNames);
  AddLines(d->surname_, generated::kSurnames);
  AddLines(d->city_, generated::kCities);
  AddLines(d->state_name_, generated::kStateNames);
  AddLines(d->state_abbr_, generated::kStateAbbrs);
  AddLines(d->street_suffix_, generated::kStreetSuffixes);
  AddLines(d->english_, generated::kEnglishWords);
  {
    std::string_view cities = generated::kCities;
    std::size_t words = 1;
    for (char c : cities) {
      if (c == ' ') ++words;
      if (c == '\n') {
        d->max_city_words_ = std::max(d->max_city_words_, words);
        words = 1;
      }
    }
    d->max_city_words_ = std::max(d->max_city_words_, words);
  }
  for (const std::string& name : extras.roster_names) {
    d->roster_phrases_.push_back(name);
    std::size_t pos = 0;
    while (pos < name.size()) {
      std::size_t sp = name.find(' ', pos);
      if (sp == std::string::npos) sp = name.size();
      if (sp - pos > 1) d->AddOwned(d->roster_token_, std::string_view(name).substr(pos, sp - pos));
      pos = sp + 1;
    }
  }
  for (const std::string& name : extras.staff_names) d->AddOwned(d->surname_, name);
  d->facility_phrases_ = extras.facilities;
  return d;
}

}  // namespace baagate::phi
