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

void AddLines(WordSet& set, std::string_view data, std::uint16_t bit) {
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) nl = data.size();
    if (nl > pos) set.Insert(data.substr(pos, nl - pos), bit);
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

inline std::uint32_t Tag(std::uint64_t h) { return static_cast<std::uint32_t>(h); }

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
    if (s.bits == 0) continue;
    std::size_t i = static_cast<std::size_t>(FoldHash({s.data, s.len}) >> shift_);
    while (slots_[i].bits != 0) i = (i + 1) & (cap - 1);
    slots_[i] = s;
  }
}

void WordSet::Insert(std::string_view lower, std::uint16_t bits) {
  if (lower.empty() || lower.size() > kMaxKey || bits == 0) return;
  if ((size_ + 1) * 2 > slots_.size()) Grow();  // load factor at most 1/2
  std::uint64_t h = FoldHash(lower);
  std::size_t mask = slots_.size() - 1;
  for (std::size_t i = static_cast<std::size_t>(h >> shift_);; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.bits == 0) {
      s = {Tag(h), static_cast<std::uint16_t>(lower.size()), bits, lower.data()};
      ++size_;
      return;
    }
    if (s.tag == Tag(h) && s.len == lower.size() && EqualsFolded(s.data, lower)) {
      s.bits = static_cast<std::uint16_t>(s.bits | bits);
      return;
    }
  }
}

std::uint16_t WordSet::Find(std::string_view word) const {
  if (word.empty() || word.size() > kMaxKey || slots_.empty()) return 0;
  std::uint64_t h = FoldHash(word);
  std::size_t mask = slots_.size() - 1;
  for (std::size_t i = static_cast<std::size_t>(h >> shift_);; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.bits == 0) return 0;
    if (s.tag == Tag(h) && s.len == word.size() && EqualsFolded(s.data, word)) return s.bits;
  }
}

void Dictionaries::AddOwned(std::string_view word, std::uint16_t bit) {
  if (word.empty() || word.size() > kMaxKey) return;
  owned_.push_back(std::make_unique<std::string>(Lower(word)));
  words_.Insert(*owned_.back(), bit);
}

std::shared_ptr<const Dictionaries> Dictionaries::Build(const DictionaryExtras& extras) {
  auto d = std::shared_ptr<Dictionaries>(new Dictionaries());
  AddLines(d->words_, generated::kFirstNames, kFirstName);
  AddLines(d->words_, generated::kSurnames, kSurname);
  AddLines(d->words_, generated::kCities, kCity);
  AddLines(d->words_, generated::kStateNames, kStateName);
  AddLines(d->words_, generated::kStateAbbrs, kStateAbbr);
  AddLines(d->words_, generated::kStreetSuffixes, kStreetSuffix);
  AddLines(d->words_, generated::kEnglishWords, kEnglish);
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
      if (sp - pos > 1) d->AddOwned(std::string_view(name).substr(pos, sp - pos), kRoster);
      pos = sp + 1;
    }
  }
  for (const std::string& name : extras.staff_names) d->AddOwned(name, kSurname);
  d->facility_phrases_ = extras.facilities;
  return d;
}

}  // namespace baagate::phi
