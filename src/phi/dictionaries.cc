#include "phi/dictionaries.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

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

// Eight bytes with ASCII upper-case letters folded to lower case (others unchanged).
inline std::uint64_t FoldLower8(std::uint64_t x) {
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  std::uint64_t t = x & ~kHigh;
  std::uint64_t ge_a = t + 0x3F3F3F3F3F3F3F3FULL;  // high bit set where t >= 'A'
  std::uint64_t gt_z = t + 0x2525252525252525ULL;  // high bit set where t > 'Z'
  std::uint64_t upper = ge_a & ~gt_z & ~x & kHigh;
  return x | (upper >> 2);
}

// Hash of the case-folded word, eight bytes at a time, with a finish that makes the top bits
// (the slot index) depend on every byte.
inline std::uint64_t FoldHash(std::string_view w) {
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ w.size();
  std::size_t i = 0;
  for (; i + 8 <= w.size(); i += 8) {
    std::uint64_t x;
    std::memcpy(&x, w.data() + i, 8);
    h = (h ^ FoldLower8(x)) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
  }
  if (i < w.size()) {
    std::uint64_t x = 0;
    std::memcpy(&x, w.data() + i, w.size() - i);
    h = (h ^ FoldLower8(x)) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
  }
  h *= 0x94D049BB133111EBULL;
  return h ^ (h >> 29);
}

// Adds each space-separated word of `name` of two bytes or more to `set` with `bits`.
void InsertWords(WordSet& set, std::string_view name, std::uint16_t bits) {
  std::size_t pos = 0;
  while (pos < name.size()) {
    std::size_t sp = name.find(' ', pos);
    if (sp == std::string_view::npos) sp = name.size();
    if (sp - pos > 1) set.Insert(name.substr(pos, sp - pos), bits);
    pos = sp + 1;
  }
}

}  // namespace

std::uint64_t WordSet::Hash(std::string_view word) { return FoldHash(word); }

void WordSet::Grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  std::size_t cap = old.empty() ? 64 : old.size() * 2;
  slots_.assign(cap, Slot{});
  shift_ = 64 - static_cast<std::size_t>(__builtin_ctzll(cap));
  for (const Slot& s : old) {
    if (s.bits == 0) continue;
    std::size_t i = static_cast<std::size_t>(s.hash >> shift_);
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
      s = {h, static_cast<std::uint16_t>(lower.size()), bits};
      ++size_;
      return;
    }
    if (s.hash == h && s.len == lower.size()) {
      s.bits = static_cast<std::uint16_t>(s.bits | bits);
      return;
    }
  }
}

std::uint16_t WordSet::FindHashed(std::uint64_t hash, std::size_t len) const {
  if (len == 0 || len > kMaxKey || slots_.empty()) return 0;
  std::size_t mask = slots_.size() - 1;
  for (std::size_t i = static_cast<std::size_t>(hash >> shift_);; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.bits == 0) return 0;
    if (s.hash == hash && s.len == len) return s.bits;
  }
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
    // Every city's word count, and its proper word prefixes as kCityPrefix.
    std::string_view cities = generated::kCities;
    std::size_t pos = 0;
    while (pos < cities.size()) {
      std::size_t nl = cities.find('\n', pos);
      if (nl == std::string_view::npos) nl = cities.size();
      std::string_view city = cities.substr(pos, nl - pos);
      std::size_t words = 1;
      for (std::size_t sp = city.find(' '); sp != std::string_view::npos;
           sp = city.find(' ', sp + 1)) {
        d->words_.Insert(city.substr(0, sp), kCityPrefix);
        ++words;
      }
      d->max_city_words_ = std::max(d->max_city_words_, words);
      pos = nl + 1;
    }
  }
  // Each word (two letters or more) of a roster name is a roster token; a staff name's words
  // count as name evidence like surnames ("Dr. Okonkwo-Baptiste" is on no Census list).
  for (const std::string& name : extras.roster_names) {
    d->roster_phrases_.push_back(name);
    InsertWords(d->words_, name, kRoster);
  }
  for (const std::string& name : extras.staff_names) InsertWords(d->words_, name, kSurname);
  d->facility_phrases_ = extras.facilities;
  return d;
}

}  // namespace baagate::phi
