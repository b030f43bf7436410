// Word lists behind the PHI detector. The built-in lists are compiled into the binary at build
// time from packages installed by scripts/setup.sh (see tools/phi/gen_dicts.js); a deployment
// adds its own (patient roster, staff names, local facilities) through DictionaryExtras.
// Immutable once built; lookups are thread-safe. Entries are lower case; lookups take any case.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace baagate::phi {

// Lower-case words, each with a set of bits (which lists it is on), looked up in any case
// without copying: an open-addressing table of 16-byte {64-bit hash, length, bits} slots,
// probed linearly. The hash is computed while case-folding and identifies the word (length and
// 64 bits of hash; the lists are heuristics, so a collision, about 1e-14 per lookup, would only
// mislabel one word), so a lookup touches one cache line and never the word list itself. One
// table for all lists means one probe per word, whatever the number of lists asked about.
class WordSet {
 public:
  // Case-folding hash of `word` (what FindHashed and Prefetch take).
  static std::uint64_t Hash(std::string_view word);
  // Adds `bits` to `lower`'s entry (creating it). `bits` must not be 0.
  void Insert(std::string_view lower, std::uint16_t bits = 1);
  // The entry's bits, or 0 if `word` (ASCII case folding) is absent.
  std::uint16_t Find(std::string_view word) const { return FindHashed(Hash(word), word.size()); }
  std::uint16_t FindHashed(std::uint64_t hash, std::size_t len) const;
  // Starts loading the slot `hash` probes first (for a lookup a little later).
  void Prefetch(std::uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[static_cast<std::size_t>(hash >> shift_)]);
  }
  bool Has(std::string_view word) const { return Find(word) != 0; }
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint16_t len = 0;
    std::uint16_t bits = 0;  // 0: empty slot
  };
  static_assert(sizeof(Slot) == 16);
  void Grow();
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
  std::size_t shift_ = 64;
};

// Deployment-supplied lists. Roster names are always PHI wherever they occur.
struct DictionaryExtras {
  std::vector<std::string> roster_names;   // full names or single name tokens
  std::vector<std::string> staff_names;    // single tokens treated as name evidence
  std::vector<std::string> facilities;     // facility names (exact phrases)
};

class Dictionaries {
 public:
  // The lists a word can be on (bits of Lookup's answer).
  enum : std::uint16_t {
    kFirstName = 1,
    kSurname = 2,
    kCity = 4,
    kStateName = 8,
    kEnglish = 16,
    kRoster = 32,
    kStreetSuffix = 64,
    kStateAbbr = 128,
    // The first words of a longer city name ("new", "new york" for "New York Mills"): a
    // phrase lookup goes on to the next word only while this is set.
    kCityPrefix = 256,
  };

  // Builds from the compiled-in lists plus `extras`.
  static std::shared_ptr<const Dictionaries> Build(const DictionaryExtras& extras);

  // `word` in any case; ASCII case folding.
  // Every list `word` (or a city/state phrase) is on, in one lookup.
  std::uint16_t Lookup(std::string_view word) const { return words_.Find(word); }
  // The same for a word hashed with WordSet::Hash, e.g. while tokenising.
  std::uint16_t LookupHashed(std::uint64_t hash, std::size_t len) const {
    return words_.FindHashed(hash, len);
  }
  void Prefetch(std::uint64_t hash) const { words_.Prefetch(hash); }
  bool IsFirstName(std::string_view word) const { return On(word, kFirstName); }
  bool IsSurname(std::string_view word) const { return On(word, kSurname); }
  bool IsCity(std::string_view phrase) const { return On(phrase, kCity); }
  bool IsStateName(std::string_view phrase) const { return On(phrase, kStateName); }
  bool IsStateAbbr(std::string_view word) const { return On(word, kStateAbbr); }
  bool IsStreetSuffix(std::string_view word) const { return On(word, kStreetSuffix); }
  bool IsEnglishWord(std::string_view word) const { return On(word, kEnglish); }
  bool IsRosterToken(std::string_view word) const { return On(word, kRoster); }
  const std::vector<std::string>& roster_phrases() const { return roster_phrases_; }
  const std::vector<std::string>& facility_phrases() const { return facility_phrases_; }
  // Longest number of words in a city name (bounds the phrase lookups).
  std::size_t max_city_words() const { return max_city_words_; }

 private:
  bool On(std::string_view word, std::uint16_t bit) const { return (words_.Find(word) & bit) != 0; }

  WordSet words_;  // every list, a bit each
  std::vector<std::string> roster_phrases_, facility_phrases_;
  std::size_t max_city_words_ = 1;
};

}  // namespace baagate::phi
