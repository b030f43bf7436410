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

// A set of lower-case words (views into storage the owner keeps alive), looked up in any case
// without copying: an open-addressing table of {64-bit hash, pointer, length}, probed linearly.
// The hash is computed while case-folding, and the word bytes are compared only on a hash hit.
class WordSet {
 public:
  void Insert(std::string_view lower);
  bool Has(std::string_view word) const;  // ASCII case folding
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    const char* data = nullptr;
    std::uint32_t len = 0;
  };
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
  // Builds from the compiled-in lists plus `extras`.
  static std::shared_ptr<const Dictionaries> Build(const DictionaryExtras& extras);

  // `word` in any case; ASCII case folding.
  bool IsFirstName(std::string_view word) const { return Has(first_, word); }
  bool IsSurname(std::string_view word) const { return Has(surname_, word); }
  bool IsCity(std::string_view phrase) const { return Has(city_, phrase); }
  bool IsStateName(std::string_view phrase) const { return Has(state_name_, phrase); }
  bool IsStateAbbr(std::string_view word) const { return Has(state_abbr_, word); }
  bool IsStreetSuffix(std::string_view word) const { return Has(street_suffix_, word); }
  bool IsEnglishWord(std::string_view word) const { return Has(english_, word); }
  bool IsRosterToken(std::string_view word) const { return Has(roster_token_, word); }
  const std::vector<std::string>& roster_phrases() const { return roster_phrases_; }
  const std::vector<std::string>& facility_phrases() const { return facility_phrases_; }
  // Longest number of words in a city name (bounds the phrase lookups).
  std::size_t max_city_words() const { return max_city_words_; }

 private:
  using Set = WordSet;
  static bool Has(const Set& set, std::string_view word) { return set.Has(word); }
  void AddOwned(Set& set, std::string_view word);

  // Owned storage for entries that do not come from the compiled-in literals; a deque-like
  // vector of unique_ptr keeps string_views stable.
  std::vector<std::unique_ptr<std::string>> owned_;
  Set first_, surname_, city_, state_name_, state_abbr_, street_suffix_, english_, roster_token_;
  std::vector<std::string> roster_phrases_, facility_phrases_;
  std::size_t max_city_words_ = 1;
};

}  // namespace baagate::phi
