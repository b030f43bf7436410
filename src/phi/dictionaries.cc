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

void AddLines(std::unordered_set<std::string_view>& set, std::string_view data) {
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) nl = data.size();
    if (nl > pos) set.insert(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool Dictionaries::Has(const Set& set, std::string_view word) {
  if (word.empty() || word.size() > kMaxKey) return false;
  std::array<char, kMaxKey> buf;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  return set.count(std::string_view(buf.data(), word.size())) > 0;
}

void Dictionaries::AddOwned(Set& set, std::string_view word) {
  if (word.empty() || word.size() > kMaxKey) return;
  owned_.push_back(std::make_unique<std::string>(Lower(word)));
  set.insert(*owned_.back());
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
  for (std::string_view c : d->city_) {
    d->max_city_words_ =
        std::max<std::size_t>(d->max_city_words_, 1 + std::count(c.begin(), c.end(), ' '));
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
