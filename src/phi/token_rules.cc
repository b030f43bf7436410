#include "phi/token_rules.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace baagate::phi {

namespace {

enum class Kind : std::uint8_t { kWord, kNum, kPunct };

struct Token {
  std::uint32_t b;       // relative to the window
  std::uint32_t e;
  std::uint32_t stem_e;  // end without a possessive "'s"
  Kind kind;
  bool cap;       // first letter upper case
  bool all_caps;  // every letter upper case, at least two letters
  bool poss;      // ends in 's or ’s
  bool nl_before; // a line break (or start) precedes: a heading or a new record
  // Dictionary lookup of the stem, done at most once per token (see Window::D).
  std::uint8_t known;  // 1 once looked up
  std::uint16_t value;  // Dictionaries::Lookup bits
  bool hashed;         // `hash` holds WordSet::Hash of the stem
  std::uint8_t name_part;  // Window::NamePart's answer plus one; 0 until first asked
  bool in_name;            // inside a name candidate (Window::PropagateNames)
  std::uint64_t hash;
};

// Dictionary bits cached per token (Dictionaries::Lookup's answer).
enum : std::uint16_t {
  kFirstBit = Dictionaries::kFirstName,
  kSurnameBit = Dictionaries::kSurname,
  kCityBit = Dictionaries::kCity,
  kStateNameBit = Dictionaries::kStateName,
  kEnglishBit = Dictionaries::kEnglish,
  kRosterBit = Dictionaries::kRoster,
  kStreetBit = Dictionaries::kStreetSuffix,
  kCityPrefixBit = Dictionaries::kCityPrefix,
};

inline bool IsAsciiLetter(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
inline bool IsLetterByte(unsigned char c) { return IsAsciiLetter(c) || c >= 0x80; }
inline bool IsDigitByte(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool IsUpperAscii(char c) { return c >= 'A' && c <= 'Z'; }

// Length of an apostrophe at t[i]: 1 for ', 3 for U+2019, else 0.
std::size_t ApostropheAt(std::string_view t, std::size_t i) {
  if (t[i] == '\'') return 1;
  if (i + 2 < t.size() && static_cast<unsigned char>(t[i]) == 0xE2 &&
      static_cast<unsigned char>(t[i + 1]) == 0x80 && static_cast<unsigned char>(t[i + 2]) == 0x99) {
    return 3;
  }
  return 0;
}

// Upper-case letters outside ASCII that names start with: Latin-1 (À–Þ), Latin Extended-A
// (even code points are the capitals), Greek and Cyrillic capitals.
bool UpperNonAscii(std::string_view t, std::size_t i) {
  if (i + 1 >= t.size()) return false;
  unsigned char a = static_cast<unsigned char>(t[i]), b = static_cast<unsigned char>(t[i + 1]);
  if ((b & 0xC0) != 0x80) return false;
  unsigned cp = ((a & 0x1FU) << 6) | (b & 0x3FU);
  if (a < 0xC3 || a > 0xD0) return false;
  if (cp >= 0xC0 && cp <= 0xDE) return cp != 0xD7;
  if (cp >= 0x100 && cp <= 0x17F) return cp % 2 == 0;
  if (cp >= 0x391 && cp <= 0x3A9) return true;
  if (cp >= 0x400 && cp <= 0x42F) return true;
  return false;
}

// Byte classes for the tokenizer's inner loops (one table load per byte instead of a chain of
// comparisons).
enum : std::uint8_t {
  kLetterClass = 1,  // ASCII letter
  kUpperClass = 2,   // ASCII upper case
  kHighClass = 4,    // >= 0x80: part of a letter in any script (U+2000..U+203F excepted)
  kDigitClass = 8,
  kBlankClass = 16,  // skipped between tokens: space, tab, CR, LF, NUL
};

constexpr std::array<std::uint8_t, 256> MakeByteClasses() {
  std::array<std::uint8_t, 256> c{};
  for (int b = 'a'; b <= 'z'; ++b) c[b] = kLetterClass;
  for (int b = 'A'; b <= 'Z'; ++b) c[b] = kLetterClass | kUpperClass;
  for (int b = '0'; b <= '9'; ++b) c[b] = kDigitClass;
  for (int b = 0x80; b <= 0xFF; ++b) c[b] = kHighClass;
  for (char b : {' ', '\t', '\r', '\n', '\0'}) c[static_cast<unsigned char>(b)] = kBlankClass;
  return c;
}
constexpr std::array<std::uint8_t, 256> kByteClass = MakeByteClasses();

inline std::uint8_t ClassOf(char c) { return kByteClass[static_cast<unsigned char>(c)]; }

#if defined(__SSE2__)
// Length of the run of ASCII letters among the 16 bytes at p; sets *lower if the run holds a
// lower-case letter. (Bytes >= 0x80 are negative to the signed compares: never letters.)
inline std::size_t AsciiLetterRun16(const char* p, bool* lower) {
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i folded = _mm_or_si128(c, _mm_set1_epi8(0x20));
  const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(folded, _mm_set1_epi8('a' - 1)),
                                       _mm_cmplt_epi8(folded, _mm_set1_epi8('z' + 1)));
  const __m128i small = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('a' - 1)),
                                      _mm_cmplt_epi8(c, _mm_set1_epi8('z' + 1)));
  const unsigned letters = static_cast<unsigned>(_mm_movemask_epi8(letter));
  const unsigned run = static_cast<unsigned>(__builtin_ctz(~letters | 0x10000U));
  const unsigned in_run = (1U << run) - 1;
  if ((static_cast<unsigned>(_mm_movemask_epi8(small)) & in_run) != 0) *lower = true;
  return run;
}
#endif

// Reads the word starting at t[i] (a letter byte that is not an apostrophe) into `tok`;
// returns the index after it. Letters run on through "O'Brien"; a possessive "'s" ends the
// word and sets `poss`. Bytes of U+2000..U+203F (dashes, quotes) end a word.
std::size_t ReadWord(std::string_view t, std::size_t i, Token& tok) {
  const std::size_t n = t.size();
  std::size_t letters = 0;  // ASCII letters
  bool lower = false;       // one of them is lower case
  while (i < n) {
#if defined(__SSE2__)
    if (n - i >= 16) {  // the common case, 16 bytes at a time
      const std::size_t run = AsciiLetterRun16(t.data() + i, &lower);
      letters += run;
      i += run;
      if (run == 16) continue;
    }
#endif
    const unsigned char d = static_cast<unsigned char>(t[i]);
    const std::uint8_t k = kByteClass[d];
    if (k & kLetterClass) {  // plain ASCII letters near the end of the text
      ++letters;
      lower = lower || (k & kUpperClass) == 0;
      ++i;
      continue;
    }
    if (d == '\'' || d == 0xE2) {
      std::size_t a = ApostropheAt(t, i);
      if (a > 0) {
        if (i + a < n && IsAsciiLetter(static_cast<unsigned char>(t[i + a]))) {
          bool s_end = (t[i + a] == 's' || t[i + a] == 'S') &&
                       (i + a + 1 >= n || !IsLetterByte(static_cast<unsigned char>(t[i + a + 1])));
          if (s_end) {
            tok.poss = true;
            tok.stem_e = static_cast<std::uint32_t>(i);
            i += a + 1;
            break;
          }
          i += a;  // O'Brien
          continue;
        }
        break;
      }
      if (d == 0xE2 && i + 2 < n && static_cast<unsigned char>(t[i + 1]) == 0x80) break;
    }
    if ((k & kHighClass) == 0) break;
    ++i;
  }
  if (i == tok.b) ++i;  // a word that starts with U+2000..U+203F: always make progress
  tok.e = static_cast<std::uint32_t>(i);
  if (!tok.poss) tok.stem_e = tok.e;
  unsigned char first = static_cast<unsigned char>(t[tok.b]);
  tok.cap = (first >= 'A' && first <= 'Z') || UpperNonAscii(t, tok.b);
  tok.all_caps = letters >= 2 && !lower;
  return i;
}

void Tokenize(std::string_view t, std::vector<Token>& toks) {
  toks.clear();
  std::size_t i = 0;
  const std::size_t n = t.size();
  bool nl = true;
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(t[i]);
    const std::uint8_t k = kByteClass[c];
    if (k & kBlankClass) {
      if (c == '\n') nl = true;
      ++i;
      continue;
    }
    Token& tok = toks.emplace_back();
    tok.b = static_cast<std::uint32_t>(i);
    tok.nl_before = nl;
    nl = false;
    if (k & kDigitClass) {
      tok.kind = Kind::kNum;
      ++i;
      while (i < n && (ClassOf(t[i]) & kDigitClass)) ++i;
      tok.e = tok.stem_e = static_cast<std::uint32_t>(i);
      continue;
    }
    const std::size_t ap = (c == '\'' || c == 0xE2) ? ApostropheAt(t, i) : 0;
    if (ap == 0 && (k & (kLetterClass | kHighClass))) {
      tok.kind = Kind::kWord;
      i = ReadWord(t, i, tok);
      continue;
    }
    // Punctuation: one byte, or the three of U+2019.
    tok.kind = Kind::kPunct;
    i += ap > 0 ? ap : 1;
    tok.e = tok.stem_e = static_cast<std::uint32_t>(i);
  }
}

inline char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsLower(std::string_view w, std::string_view lower) {
  if (w.size() != lower.size()) return false;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (LowerAscii(w[i]) != lower[i]) return false;
  }
  return true;
}

// A word list as a flat hash set, built once per list on first use (thread-safe static init).
class ListSet {
 public:
  template <std::size_t N>
  explicit ListSet(const std::string_view (&list)[N]) {
    for (std::string_view w : list) {
      set_.Insert(w);
      max_len_ = std::max(max_len_, w.size());
      shapes_[Shape(w)] = true;
    }
  }
  // Most words are rejected by their (length, first letter) shape before any hashing.
  bool MayHave(std::string_view w) const {
    return !w.empty() && w.size() <= max_len_ && shapes_[Shape(w)];
  }
  bool Has(std::string_view w) const { return MayHave(w) && set_.Has(w); }
  // The same with the word's WordSet::Hash from `hash()` (a token's, computed once), asked for
  // only if the shape passes.
  template <typename HashFn>
  bool Has(std::string_view w, HashFn hash) const {
    return MayHave(w) && set_.FindHashed(hash(), w.size()) != 0;
  }

 private:
  static std::size_t Shape(std::string_view w) {
    unsigned c = static_cast<unsigned char>(w[0]) | 0x20U;
    return std::min<std::size_t>(w.size(), 31) * 32 + (c & 31U);
  }
  WordSet set_;
  std::size_t max_len_ = 0;
  std::array<bool, 32 * 32> shapes_{};
};

// Inlined: asked several times per token, and a call costs more than the guard check.
template <const auto& kList>
[[gnu::always_inline]] inline const ListSet& ListOf() {
  static const ListSet set(kList);
  return set;
}

template <const auto& kList>
bool In(std::string_view w) {
  return ListOf<kList>().Has(w);
}

constexpr std::string_view kTitles[] = {"dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof",
                                        "professor", "pt", "nurse", "sister", "father",
                                        "rev", "judge", "officer", "rn", "np", "pa"};
// Lower-case words after which a capitalised word is likely a person.
constexpr std::string_view kPersonCues[] = {
    "patient", "pt", "named", "name", "wife", "husband", "son", "daughter", "mother", "father",
    "brother", "sister", "caregiver", "spouse", "partner", "grandson", "granddaughter",
    "grandmother", "grandfather", "aunt", "uncle", "niece", "nephew", "friend", "neighbor",
    "neighbour", "employer", "boss", "mom", "dad", "child", "baby", "guardian", "resident",
    "client", "member", "called", "surgeon", "physician", "provider", "nurse", "doctor",
    "attending", "pcp", "referred", "by", "contact", "cc", "from", "mrs", "mr", "ms", "dr"};
constexpr std::string_view kMonths[] = {
    "jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june",
    "jul", "july", "aug", "august", "sep", "sept", "september", "oct", "october", "nov",
    "november", "dec", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "spring", "summer", "fall", "autumn", "winter", "christmas",
    "easter", "thanksgiving"};
// Words that head a facility name ("St. Mary's Hospital", "NYU Langone").
constexpr std::string_view kFacilityHeads[] = {
    "hospital", "hospitals", "hosp", "clinic", "clinics", "center", "centre", "ctr",
    "healthcare", "infirmary", "hospice", "langone", "presbyterian", "permanente", "sinai",
    "hopkins", "general", "memorial", "med", "health", "institute", "pavilion", "sanatorium",
    "sanitarium", "practice", "pediatrics", "associates", "rehab", "rehabilitation",
    "pharmacy", "lab", "laboratory", "laboratories", "urgent", "va", "vamc", "home",
    "methodist", "baptist", "mercy", "kaiser", "geisinger", "mayo", "ochsner", "cedars",
    "regional", "university", "healthcenter", "medcenter", "healthsystem"};
// Heads that need a capitalised modifier ("Chicago General"), and words that, before "Health"
// or "Center", make an organisation or a topic rather than a place.
constexpr std::string_view kWeakHeads[] = {"general", "health", "home", "practice", "lab",
                                           "laboratory", "pharmacy", "university", "regional",
                                           "associates", "pediatrics", "memorial", "urgent",
                                           "center", "centre", "institute", "med", "methodist",
                                           "baptist", "mercy"};
constexpr std::string_view kNonPlaceModifiers[] = {
    "mental", "public", "behavioral", "behavioural", "global", "world", "national", "digital",
    "occupational", "population", "women's", "men's", "community", "the", "a", "an", "this",
    "that", "our", "your", "their", "his", "her", "my", "data", "disease", "cancer", "heart",
    "american", "surgeon", "attorney", "secretary", "inspector", "consul", "home", "nursing",
    "medical", "health", "general", "new", "care", "research", "trauma", "poison", "control"};
// Medical nouns after which a capitalised word is an eponym, not a person or place.
constexpr std::string_view kEponymHeads[] = {
    "disease", "syndrome", "reflex", "sign", "score", "scale", "index", "criteria",
    "criterion", "test", "rule", "rules", "classification", "lymphoma", "palsy", "phenomenon",
    "maneuver", "manoeuvre", "procedure", "operation", "fracture", "triad", "tumor", "tumour",
    "ulcer", "equation", "formula", "method", "technique", "protocol", "staging", "stage",
    "grade", "body", "bodies", "node", "nodes", "cell", "cells", "catheter", "position", "law",
    "effect", "dementia", "disorder", "encephalopathy", "anomaly", "repair", "approach",
    "questionnaire", "inventory", "assessment", "model", "calculator", "wort", "virus",
    "fever", "infection", "bacteria", "agar", "stain", "solution", "type", "murmur", "nodule",
    "contracture", "deformity", "cyst", "sarcoma", "ataxia", "chorea", "dystrophy",
    "neuropathy", "anemia", "anaemia", "thyroiditis", "esophagus", "diverticulum", "space",
    "pouch", "duct", "canal", "gland", "glands", "point", "line", "lines", "curve", "ratio",
    "number", "phase", "trial", "study", "risk", "pain", "depression", "loop", "plan",
    "diet", "tube", "valve", "cycle", "shunt", "block", "angle", "instrument",
    // Plurals and a few more heads ("Apgar scores", "Kussmaul breathing", "Addison crisis",
    // "Kaplan-Meier curves", "Holter monitor", "Nissen fundoplication").
    "scores", "signs", "tests", "scales", "syndromes", "reflexes", "maneuvers", "breathing",
    "respirations", "respiration", "crisis", "crises", "pulse", "spots", "nodules", "curves",
    "estimator", "plot", "monitor", "monitoring", "fundoplication", "fundoplications",
    "symptom", "symptoms", "tremor", "tremors"};
constexpr std::string_view kLocationCues[] = {"in", "at", "from", "to", "near", "of",
                                              "visiting", "lives", "resides", "moved"};
// Words that can follow a place name in a sentence ("in Mobile on Friday", "from Phoenix for
// evaluation").
constexpr std::string_view kClauseWords[] = {"on", "for", "and", "or", "last", "with", "since",
                                             "after", "before", "where", "until", "when",
                                             "but", "yesterday", "today", "this", "the", "a"};
// Common destinations that are also town names.
constexpr std::string_view kDestinationWords[] = {"home", "work", "school", "church", "bed",
                                                  "rehab", "hospice", "surgery", "recovery"};
// Lower-case particles inside surnames ("van der Berg", "de la Cruz", "bin Laden").
constexpr std::string_view kNameParticles[] = {"de", "del", "della", "der", "den", "van", "von",
                                               "la", "le", "da", "di", "du", "dos", "das",
                                               "ten", "ter", "bin", "ibn", "al", "el"};
// Words before a month/day that date an event ("admitted 2/14", "Tuesday 3/12").
constexpr std::string_view kDateCues[] = {
    "on", "admitted", "seen", "since", "until", "till", "discharged", "dated", "visit",
    "visited", "appt", "appointment", "scheduled", "labs", "dos", "dob", "born", "died",
    "expired", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat"};
// Units after a fraction ("1/2 tab", "1/2 NS").
constexpr std::string_view kFractionUnits[] = {
    "tab", "tabs", "tablet", "tablets", "cap", "caps", "capsule", "capsules", "pill", "pills",
    "dose", "doses", "mg", "ml", "cup", "cups", "tsp", "tbsp", "of", "strength", "inch",
    "inches", "unit", "units", "ns", "teaspoon", "tablespoon", "dropper", "puff", "puffs"};
// Verbs after which "to" names a place one travels to.
constexpr std::string_view kTravelVerbs[] = {"flew", "moved", "relocated", "traveled",
                                             "travelled", "drove", "flying", "driving"};
constexpr std::string_view kVisitVerbs[] = {"seen", "treated", "admitted", "transferred",
                                            "presented", "visited", "discharged", "evaluated",
                                            "hospitalized", "followed", "works", "employed",
                                            "lives", "living", "resides", "born"};
constexpr std::string_view kNotNameWords[] = {
    "the", "and", "of", "on", "at", "in", "for", "with", "to", "a", "an", "is", "was", "are",
    "what", "which", "how", "when", "where", "who", "why", "does", "do", "can", "should",
    "could", "would", "will", "please", "patient", "pt", "hospital", "clinic", "center",
    "history", "type", "stage", "grade", "class", "level", "day", "week", "month", "year",
    "i", "ii", "iii", "iv", "md", "do", "phd", "rn", "np", "pa", "dds", "jr", "sr", "st",
    "saint", "mount", "mt", "fort", "ft", "port", "lake", "north", "south", "east", "west",
    "new", "san", "los", "las", "santa", "my", "your", "our", "his", "her", "their", "its",
    "we", "you", "they", "he", "she", "it", "this", "that", "these", "those", "me", "us",
    "hi", "hello", "dear", "thanks", "thank", "yes", "no", "ok", "not", "all", "any", "some",
    // Record headings and abbreviations ("Pt DOB 1/2/45" is no "Pt. Smith").
    "dob", "mrn", "ssn", "hpi", "pmh", "ros", "dx", "hx", "rx", "id", "ekg", "ecg", "bp", "hr"};
// Demonyms, languages and groups: capitalised, absent from the lower-case word list, not
// people or places.
constexpr std::string_view kGroupWords[] = {
    "african", "american", "americans", "asian", "hispanic", "latino", "latina", "latinx",
    "caucasian", "european", "native", "pacific", "islander", "indian", "alaskan", "chinese",
    "japanese", "korean", "vietnamese", "filipino", "mexican", "english", "spanish", "french",
    "german", "italian", "arabic", "arab", "jewish", "muslim", "christian", "catholic",
    "hindu", "buddhist", "russian", "polish", "portuguese", "brazilian", "canadian", "british",
    "irish", "scottish", "african-american", "puerto", "rican", "cuban", "haitian",
    "dominican", "somali", "ethiopian", "nigerian", "ashkenazi", "amish", "navajo",
    "medicare", "medicaid", "covid", "sars", "fda", "cdc", "who", "nih", "aha", "ada", "acc",
    "uspstf", "nice", "gold", "kdigo", "idsa", "acog", "aap", "asco", "nccn"};
constexpr std::string_view kSaintWords[] = {"st", "saint", "mt", "mount", "ste", "sainte"};
constexpr std::string_view kCountyWords[] = {"county", "parish", "borough", "township"};
constexpr std::string_view kKnownFacilities[] = {
    "ucsf", "ucla", "nyu", "upmc", "mgh", "ucsd", "ohsu", "musc", "uchealth", "kaiser",
    "geisinger", "mayo", "ochsner", "cedars-sinai", "intermountain", "sutter", "dignity",
    "atrium", "advocate", "banner", "beaumont", "spectrum", "providence", "northwell",
    "montefiore", "brigham", "dartmouth-hitchcock", "vanderbilt", "emory", "duke", "stanford",
    "usc", "ucd", "uci", "ucsd", "osu", "ohsu", "ummc", "uab", "utsw", "umass"};

class Window {
 public:
  // `toks` is a buffer reused across windows (its contents are replaced).
  Window(std::string_view t, std::size_t base, const Dictionaries& d, std::vector<Candidate>& out,
         std::vector<Token>& toks)
      : t_(t), base_(base), d_(d), out_(out), toks_(toks) {}

  void Run() {
    const std::size_t first_out = out_.size();
    caps_.clear();
    Tokenize(t_, toks_);
    // Capitalised words are the ones the rules look up: their dictionary slots are fetched a
    // few tokens ahead, so the lookup rarely waits for memory.
    constexpr std::size_t kAhead = 6;
    for (std::size_t i = 0; i < std::min(kAhead, toks_.size()); ++i) Prefetch(i);
    for (std::size_t i = 0; i < toks_.size(); ++i) {
      if (i + kAhead < toks_.size()) Prefetch(i + kAhead);
      if (toks_[i].kind == Kind::kNum) {
        Address(i);
        // The byte after the digits decides whether the two rarer rules can apply.
        const char next = toks_[i].e < t_.size() ? t_[toks_[i].e] : '\0';
        if (next == '/') MonthDay(i);
        if (next == 'F' || next == 'M') AgeWithSex(i);
        CuedZip(i);
        ZipAfterStateName(i);
        continue;
      }
      if (toks_[i].kind != Kind::kWord) continue;
      // Guards on lengths and first letters keep the two rarer rules below off the common
      // path: "ninety", "one" or "hundred" starts an age in words; "named", or "name" before
      // "is" or ':', cues a lower-case name.
      if (StartsLike(i, 6, 'n') || StartsLike(i, 3, 'o') || StartsLike(i, 7, 'h')) AgeInWords(i);
      if (!toks_[i].cap) {
        LowerFacilityHead(i);
        if (i > 0 && (StartsLike(i - 1, 5, 'n') ||
                      ((StartsLike(i - 1, 2, 'i') || IsPunct(i - 1, ':')) && i > 1 &&
                       StartsLike(i - 2, 4, 'n')))) {
          LowerCuedName(i);
        }
        continue;
      }
      caps_.push_back(static_cast<std::uint32_t>(i));
      Title(i);
      FacilityHead(i);
      Saint(i);
      KnownFacility(i);
      County(i);
      FirstName(i);
      CuedName(i);
      UnknownName(i);
      City(i);
      CuedPlace(i);
      Roster(i);
    }
    PropagateNames(first_out);
  }

 private:
  std::string_view W(std::size_t i) const {
    return t_.substr(toks_[i].b, toks_[i].e - toks_[i].b);
  }
  std::string_view Stem(std::size_t i) const {
    return t_.substr(toks_[i].b, toks_[i].stem_e - toks_[i].b);
  }
  bool IsWord(std::size_t i) const { return i < toks_.size() && toks_[i].kind == Kind::kWord; }
  bool IsPunct(std::size_t i, char c) const {
    return i < toks_.size() && toks_[i].kind == Kind::kPunct && t_[toks_[i].b] == c &&
           toks_[i].e == toks_[i].b + 1;
  }
  bool Cap(std::size_t i) const { return IsWord(i) && toks_[i].cap; }
  // Token i has `len` bytes and starts with `lower` in either case (a cheap first filter).
  bool StartsLike(std::size_t i, std::uint32_t len, char lower) const {
    return toks_[i].e - toks_[i].b == len && (t_[toks_[i].b] | 0x20) == lower;
  }

  // The value of number token i (a few digits).
  int NumValue(std::size_t i) const {
    int v = 0;
    for (std::size_t p = toks_[i].b; p < toks_[i].e; ++p) v = v * 10 + (t_[p] - '0');
    return v;
  }
  // Token i starts a line, the text, or follows one of the punctuation bytes `breaks`.
  bool AfterBreak(std::size_t i, std::string_view breaks) const {
    return i == 0 || toks_[i].nl_before ||
           (toks_[i - 1].kind == Kind::kPunct &&
            breaks.find(t_[toks_[i - 1].b]) != std::string_view::npos);
  }
  // A title ("Dr", "Mrs.") comes right before token i.
  bool TitleBefore(std::size_t i) const {
    return (i > 0 && WordIn<kTitles>(i - 1)) ||
           (i > 1 && IsPunct(i - 1, '.') && WordIn<kTitles>(i - 2));
  }

  // "P" or "P." (returns the index after the initial and its dot).
  bool Initial(std::size_t i, std::size_t* next) const {
    if (!IsWord(i) || toks_[i].e - toks_[i].b != 1 || !toks_[i].cap) return false;
    *next = IsPunct(i + 1, '.') && toks_[i + 1].b == toks_[i].e ? i + 2 : i + 1;
    return true;
  }
  bool Adjacent(std::size_t a, std::size_t b) const {  // b follows a with at most one space
    return toks_[b].b - toks_[a].e <= 2;
  }
  bool IsMonth(std::size_t i) const { return StemIn<kMonths>(i); }
  bool English(std::size_t i) const { return D(i, kEnglishBit); }
  // Dictionary membership of token i's stem: one lookup per token answers every list.
  bool D(std::size_t i, std::uint16_t bit) const { return (Bits(i) & bit) != 0; }
  std::uint16_t Bits(std::size_t i) const {
    Token& t = toks_[i];
    if (t.known == 0) {
      t.known = 1;
      t.value = d_.LookupHashed(HashOf(i), t.stem_e - t.b);
    }
    return t.value;
  }
  // WordSet::Hash of token i's stem, computed once per token (dictionary and list lookups).
  std::uint64_t HashOf(std::size_t i) const {
    Token& t = toks_[i];
    if (!t.hashed) {
      t.hash = WordSet::Hash(Stem(i));
      t.hashed = true;
    }
    return t.hash;
  }
  void Prefetch(std::size_t i) const {
    const Token& t = toks_[i];
    if (t.kind != Kind::kWord || !t.cap || t.hashed) return;
    d_.Prefetch(HashOf(i));
  }
  // Token i's stem (or whole word, possessive included) is on the small list kList.
  template <const auto& kList>
  bool StemIn(std::size_t i) const {
    return ListOf<kList>().Has(Stem(i), [&] { return HashOf(i); });
  }
  template <const auto& kList>
  bool WordIn(std::size_t i) const {
    return toks_[i].poss ? In<kList>(W(i)) : StemIn<kList>(i);
  }
  // A capitalised word that could be part of a person's name.
  // Asked several times per token by the name rules: answered once (five list lookups).
  bool NamePart(std::size_t i) const {
    if (!Cap(i)) return false;
    Token& t = toks_[i];
    if (t.name_part == 0) {
      bool part = !IsMonth(i) && !StemIn<kGroupWords>(i) && !StemIn<kNotNameWords>(i) &&
                  !StemIn<kFacilityHeads>(i) && !StemIn<kTitles>(i) && !D(i, kStateNameBit);
      t.name_part = part ? 2 : 1;
    }
    return t.name_part == 2;
  }
  void Emit(std::size_t b, std::size_t e, PhiClass cls, float conf, std::string_view rule) {
    if (e > b) out_.push_back({base_ + b, base_ + e, cls, conf, rule});
  }
  std::size_t End(std::size_t i) const { return toks_[i].stem_e; }
  std::size_t LowerIdx(std::size_t i) const { return i; }

  // True if a medical head noun follows token `last` within three tokens ("Wilson's disease",
  // "Framingham risk score", "McGill Pain Index").
  bool EponymAfter(std::size_t last) const {
    for (std::size_t k = last + 1; k < toks_.size() && k <= last + 3; ++k) {
      if (!IsWord(k)) {
        if (IsPunct(k, '-')) continue;
        return false;
      }
      if (StemIn<kEponymHeads>(k)) return true;
    }
    return false;
  }
  bool EponymBefore(std::size_t first) const {  // "the Chaddock reflex"-style, "Lyme"
    return first > 0 && IsWord(first - 1) && EqualsLower(Stem(first - 1), "positive");
  }

  // Collects up to three name parts (words or initials) from token i; returns the end token.
  std::size_t NameRun(std::size_t i, std::size_t max_parts = 3) const {
    std::size_t j = i, parts = 0;
    while (j < toks_.size() && parts < max_parts) {
      std::size_t next = 0;
      if (Initial(j, &next)) {
        j = next;
        ++parts;
        continue;
      }
      if (NamePart(j) && (j == i || Adjacent(j - 1, j))) {
        bool poss = toks_[j].poss;
        ++j;
        ++parts;
        if (poss) break;
        // Hyphenated surnames: "Smith-Jones".
        if (IsPunct(j, '-') && Cap(j + 1) && toks_[j].b == toks_[j - 1].e) j += 2;
        continue;
      }
      // Surname particles: "Maria van der Berg", "Mr. de la Cruz" (after a title they may
      // come first).
      if (std::size_t q = Particles(j); q > j && (parts > 0 || TitleBefore(j))) {
        if (NamePart(q) && Adjacent(q - 1, q) && !toks_[q].poss) {
          j = q;
          continue;
        }
      }
      break;
    }
    return j;
  }
  // The index after one or two lower-case surname particles at i ("de la", "van der"), or i.
  std::size_t Particles(std::size_t i) const {
    std::size_t p = i;
    while (p < i + 2 && IsWord(p) && !toks_[p].cap && !toks_[p].poss &&
           StemIn<kNameParticles>(p) && p + 1 < toks_.size() && Adjacent(p, p + 1)) {
      ++p;
    }
    return p;
  }
  std::size_t SpanEnd(std::size_t end_tok) const {
    // The end offset of the run ending before token end_tok.
    return toks_[end_tok - 1].kind == Kind::kWord ? toks_[end_tok - 1].stem_e
                                                  : toks_[end_tok - 1].e;
  }

  // Every other capitalised mention of a word of a name found in this window is the same
  // person: "Asya Godina ... Asya said" must not leave "Asya" readable. The mention gets the
  // confidence of the name it comes from. A name word that is also an English word counts
  // only mid-sentence ("Brown" after "Dr. Brown", not "Brown urine" at a sentence start), and
  // a city's name after a place cue stays a place.
  void PropagateNames(std::size_t first_out) {
    thread_local std::vector<std::pair<std::uint64_t, float>> parts;  // stem hash, confidence
    parts.clear();
    // The name words: the word tokens inside this window's name candidates (tokens are in
    // text order, so each candidate's are found by a binary search).
    for (std::size_t k = first_out; k < out_.size(); ++k) {
      const Candidate& c = out_[k];
      if (c.cls != PhiClass::kName) continue;
      const std::size_t b = c.begin - base_, e = c.end - base_;
      auto it = std::lower_bound(toks_.begin(), toks_.end(), b,
                                 [](const Token& t, std::size_t off) { return t.b < off; });
      for (std::size_t i = static_cast<std::size_t>(it - toks_.begin());
           i < toks_.size() && toks_[i].stem_e <= e; ++i) {
        toks_[i].in_name = true;
        if (!NamePart(i) || toks_[i].stem_e - toks_[i].b < 2 || toks_[i].all_caps) continue;
        parts.emplace_back(HashOf(i) ^ (toks_[i].stem_e - toks_[i].b), c.conf);
      }
    }
    if (parts.empty()) return;
    // Highest confidence first among equal hashes, so lower_bound finds it.
    std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    // One bit per name word (by the hash's top six bits): most words fail this test and are
    // never searched for.
    std::uint64_t filter = 0;
    for (const auto& p : parts) filter |= std::uint64_t{1} << (p.first >> 58);
    for (const std::uint32_t i : caps_) {
      if (toks_[i].in_name || toks_[i].all_caps || toks_[i].stem_e - toks_[i].b < 2) continue;
      const std::uint64_t key = HashOf(i) ^ (toks_[i].stem_e - toks_[i].b);
      if (((filter >> (key >> 58)) & 1) == 0) continue;
      auto it = std::lower_bound(parts.begin(), parts.end(), key,
                                 [](const auto& p, std::uint64_t k) { return p.first < k; });
      if (it == parts.end() || it->first != key || !NamePart(i)) continue;
      if (English(i) && AfterBreak(i, ".!?\"“(:;")) continue;  // a sentence start
      // "from Denver" stays a place even if "Denver Hale" is a person.
      const bool place_cue =
          i > 0 && IsWord(i - 1) && !toks_[i - 1].cap && WordIn<kLocationCues>(i - 1);
      if ((place_cue && D(i, kCityBit)) || EponymAfter(i)) continue;
      Emit(toks_[i].b, toks_[i].stem_e, PhiClass::kName, it->second, "name.repeated");
    }
  }

  void Title(std::size_t i) {
    if (!WordIn<kTitles>(i) || toks_[i].poss) return;
    std::string_view w = W(i);
    bool strong = !EqualsLower(w, "sister") && !EqualsLower(w, "father") &&
                  !EqualsLower(w, "nurse") && !EqualsLower(w, "judge") &&
                  !EqualsLower(w, "officer") && !EqualsLower(w, "doctor") &&
                  !EqualsLower(w, "professor");
    if (w.size() <= 3 && !toks_[i].cap) return;
    std::size_t j = i + 1;
    if (IsPunct(j, '.')) ++j;
    std::size_t end = NameRun(j);
    // A given name that is also a month or a common word ("Ms. April Stone", "Dr. Will
    // Martin"): after a title, a capitalised word that a name part follows is the given name.
    if (end == j && Cap(j) && !toks_[j].all_caps && !toks_[j].poss && j + 1 < toks_.size() &&
        Adjacent(j, j + 1) && NamePart(j + 1)) {
      end = NameRun(j + 1);
    }
    if (end == j) return;
    // "Dr. Smith" needs a capitalised word (not only an initial) unless the title is strong.
    Emit(toks_[i].b, SpanEnd(end), PhiClass::kName, strong ? 0.95F : 0.8F, "name.title");
  }

  void FirstName(std::size_t i) {
    if (!NamePart(i) || !D(i, kFirstBit)) return;
    if (TitleBefore(i)) return;  // Title() covers it
    // A first name that is also a town ("Kevin", "Alma") is a person unless a place cue
    // comes right before it ("in Alma").
    bool place_cue = i > 0 && IsWord(i - 1) && !toks_[i - 1].cap && WordIn<kLocationCues>(i - 1);
    bool english = English(i) || (place_cue && D(i, kCityBit));
    std::size_t end = NameRun(i);
    std::size_t parts_end = end;
    // A surname that is also a state's name ("Keisha Washington") is not a name part on its
    // own (NamePart), but after a first name it is the surname.
    if (parts_end == i + 1 && !toks_[i].poss && Cap(i + 1) && Adjacent(i, i + 1) &&
        !toks_[i + 1].all_caps && D(i + 1, kStateNameBit) && D(i + 1, kSurnameBit) &&
        !(Cap(i + 2) && Adjacent(i + 1, i + 2) && StemIn<kFacilityHeads>(i + 2))) {
      parts_end = i + 2;  // but "George Washington University" is a facility
    }
    if (parts_end > i + 1 && !toks_[i].poss) {
      // First name + initial or surname.
      std::size_t next = 0;
      bool initial = Initial(i + 1, &next);
      const std::size_t last_name = Particles(i + 1);  // past "van der" in "Maria van der Berg"
      bool surname = !initial && (D(last_name, kSurnameBit) || !English(last_name));
      if (initial || surname) {
        if (EponymAfter(parts_end - 1)) return;
        float conf = english ? 0.75F : 0.92F;
        if (initial && english) conf = 0.8F;
        // Two common words ("Princess Royal", "Carry Me") after a determiner, a quote or at a
        // sentence start are more likely a phrase than a person.
        if (english && !initial && English(i + 1)) {
          bool phrase_start = AfterBreak(i, ".!?\"“(") ||
                              (IsWord(i - 1) && (EqualsLower(W(i - 1), "the") ||
                                                 EqualsLower(W(i - 1), "a") ||
                                                 EqualsLower(W(i - 1), "an")));
          conf = phrase_start ? 0.4F : 0.6F;
        }
        Emit(toks_[i].b, SpanEnd(parts_end), PhiClass::kName, conf, "name.first_last");
        return;
      }
    }
    if (toks_[i].all_caps) return;  // "TIA" is an acronym, not Tia
    // A first name alone ("Anna"): only if it is not also a common word or a place, unless it
    // stands in apposition (", Anna,").
    bool appositive = i > 0 && IsPunct(i - 1, ',') && (IsPunct(i + 1, ',') || IsPunct(i + 1, '.'));
    if ((english && !appositive) || EponymAfter(i) || D(i, kStateNameBit)) return;
    // A symbol with a value ("Na 134", "K 4.1" in a lab list) is not a person.
    if (i + 1 < toks_.size() && toks_[i + 1].kind == Kind::kNum && Adjacent(i, i + 1)) return;
    float conf = 0.6F;
    if (appositive) conf = 0.8F;
    Emit(toks_[i].b, toks_[i].stem_e, PhiClass::kName, conf, "name.first");
  }

  // The value of the number words from token i ("ninety-four", "one hundred and two"), with
  // the token after them in `end`; 0 if there are none. Words up to 999 are enough for ages.
  int NumberWords(std::size_t i, std::size_t& end) const {
    static constexpr std::string_view kUnits[] = {
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen"};
    static constexpr std::string_view kTens[] = {"twenty", "thirty", "forty", "fifty",
                                                 "sixty", "seventy", "eighty", "ninety"};
    auto unit = [&](std::size_t k) {
      for (int v = 1; v < 20; ++v) {
        if (IsWord(k) && EqualsLower(W(k), kUnits[v])) return v;
      }
      return 0;
    };
    auto tens = [&](std::size_t k) {
      for (int v = 0; v < 8; ++v) {
        if (IsWord(k) && EqualsLower(W(k), kTens[v])) return 20 + 10 * v;
      }
      return 0;
    };
    // Below a hundred: "ninety", "ninety-four", "ninety four", "nineteen".
    auto below_100 = [&](std::size_t k, std::size_t& next) {
      if (int t = tens(k)) {
        next = k + 1;
        std::size_t u = k + 1;
        if (IsPunct(u, '-') && toks_[u].b == toks_[k].e) ++u;
        if (u < toks_.size() && Adjacent(u - 1, u)) {
          if (int v = unit(u); v > 0 && v < 10) {
            next = u + 1;
            return t + v;
          }
        }
        return t;
      }
      if (int v = unit(k)) {
        next = k + 1;
        return v;
      }
      return 0;
    };
    std::size_t k = i;
    int value = 0;
    const bool article = IsWord(k) && EqualsLower(W(k), "a");
    std::size_t after = 0;
    int head = article ? 1 : below_100(k, after);
    if (article) after = k + 1;
    if (head == 0) return 0;
    if (head < 10 && IsWord(after) && Adjacent(after - 1, after) &&
        EqualsLower(W(after), "hundred")) {
      value = head * 100;
      k = after + 1;
      std::size_t rest_at = k;
      if (IsWord(k) && Adjacent(k - 1, k) && EqualsLower(W(k), "and")) rest_at = k + 1;
      std::size_t rest_end = 0;
      if (rest_at < toks_.size() && Adjacent(rest_at - 1, rest_at)) {
        if (int r = below_100(rest_at, rest_end)) {
          value += r;
          k = rest_end;
        }
      }
      end = k;
      return value;
    }
    if (article) return 0;
    end = after;
    return head;
  }

  // "ninety-four years old", "one hundred and two year-old", "aged ninety-one": an age over
  // 89 in words (Safe Harbor removes those as it does "94-year-old").
  void AgeInWords(std::size_t i) {
    // An age over 89 in words starts "ninety", "one hundred" or "a hundred": a length and a
    // letter turn nearly every word away before any comparison.
    const std::string_view w = W(i);  // Run() checked the length and first letter
    if (!EqualsLower(w, "ninety") && !EqualsLower(w, "one") && !EqualsLower(w, "hundred")) return;
    if (i > 0 && IsPunct(i - 1, '-') && toks_[i - 1].b == toks_[i].b - 1) return;
    std::size_t end = 0;
    std::size_t start = i;
    if (i > 0 && IsWord(i - 1) && EqualsLower(W(i - 1), "a") && EqualsLower(w, "hundred")) {
      start = i - 1;
    }
    const int age = NumberWords(start, end);
    if (age < 90 || age >= 130) return;
    // Then "years"/"year"/"yrs"/"yo", or a cue before: "aged", "age", "age:".
    std::size_t k = end;
    if (IsPunct(k, '-')) ++k;
    std::size_t stop = 0;
    if (IsWord(k) && (EqualsLower(W(k), "years") || EqualsLower(W(k), "year") ||
                      EqualsLower(W(k), "yrs") || EqualsLower(W(k), "yr") ||
                      EqualsLower(W(k), "yo"))) {
      stop = k + 1;
      std::size_t o = stop;
      if (IsPunct(o, '-')) ++o;
      if (IsWord(o) && EqualsLower(W(o), "old")) stop = o + 1;
    } else {
      std::size_t c0 = start;
      if (c0 > 0 && IsPunct(c0 - 1, ':')) --c0;
      if (c0 == 0 || !IsWord(c0 - 1) ||
          !(EqualsLower(W(c0 - 1), "aged") || EqualsLower(W(c0 - 1), "age"))) {
        return;
      }
      stop = end;
    }
    Emit(toks_[start].b, toks_[stop - 1].e, PhiClass::kAge, 0.9F, "age.words");
  }

  // "her name is lucy chen", "named olga": a name typed in lower case after a cue that says
  // a name follows. The first word must be a known first name, the second a surname.
  void LowerCuedName(std::size_t i) {
    if (i == 0) return;
    std::size_t c = i - 1;
    if (IsPunct(c, ':') && c > 0) --c;
    if (!IsWord(c)) return;
    bool cue = EqualsLower(W(c), "named");
    if (!cue && c > 0 && IsWord(c - 1) && EqualsLower(W(c - 1), "name")) {
      cue = EqualsLower(W(c), "is") || IsPunct(c + 1, ':');
    }
    if (!cue && EqualsLower(W(c), "name") && IsPunct(c + 1, ':')) cue = true;
    // The cue first: a dictionary lookup for every lower-case word cost ~10% of the
    // instructions of a run.
    if (!cue || !D(i, kFirstBit) || StemIn<kNotNameWords>(i)) return;
    std::size_t e = i;
    if (IsWord(i + 1) && !toks_[i + 1].cap && Adjacent(i, i + 1) && !toks_[i].poss &&
        D(i + 1, kSurnameBit) && !StemIn<kNotNameWords>(i + 1)) {
      e = i + 1;
    }
    Emit(toks_[i].b, toks_[e].stem_e, PhiClass::kName, 0.8F, "name.cue_lower");
  }

  void CuedName(std::size_t i) {
    if (i == 0 || !NamePart(i)) return;
    std::size_t c = i - 1;
    if (IsPunct(c, ':') || IsPunct(c, ',')) {
      if (c == 0) return;
      --c;
    }
    // "name is X", "last name? X"
    if (IsWord(c) && (EqualsLower(W(c), "is") || EqualsLower(W(c), "was")) && c > 0 &&
        IsWord(c - 1) && EqualsLower(W(c - 1), "name")) {
      --c;
    } else if (IsPunct(c + 0, '?') && c > 0 && IsWord(c - 1) && EqualsLower(W(c - 1), "name")) {
      --c;
    }
    if (!IsWord(c) || !WordIn<kPersonCues>(c)) return;
    if (WordIn<kTitles>(c) && toks_[c].cap) return;  // Title() covers it
    // "transferred from Denver": after a visit verb, "from" names a place (City, CuedPlace).
    if (EqualsLower(W(c), "from") && c > 0 && IsWord(c - 1) && WordIn<kVisitVerbs>(c - 1)) return;
    bool strong_cue = !EqualsLower(W(c), "by") && !EqualsLower(W(c), "from") &&
                      !EqualsLower(W(c), "contact") && !EqualsLower(W(c), "cc") &&
                      !EqualsLower(W(c), "member") && !EqualsLower(W(c), "client");
    std::size_t end = NameRun(i);
    if (end == i) return;
    if (toks_[i].all_caps) return;  // "from ATM", "patient, MRN"
    // "by R. Gutierrez": the initial says nothing; the word after it must look like a name.
    std::size_t h = i, after_initial = 0;
    if (Initial(i, &after_initial) && after_initial < end) h = after_initial;
    bool namey = D(h, kFirstBit) || D(h, kSurnameBit) || !English(h);
    if (!namey || EponymAfter(end - 1)) return;
    if (D(h, kCityBit) && !D(h, kFirstBit)) return;
    Emit(toks_[i].b, SpanEnd(end), PhiClass::kName, strong_cue ? 0.85F : 0.6F, "name.cue");
  }

  // A surname on its own, or two adjacent capitalised words that are neither common words
  // nor places ("Krisztián Szöllösy"), or such a word, a middle initial and another ("Janka M.
  // Smith"): weaker evidence, kept above threshold only mid-sentence.
  void UnknownName(std::size_t i) {
    if (!NamePart(i) || toks_[i].all_caps || IsMonth(i) || English(i) || D(i, kCityBit) ||
        D(i, kFirstBit)) {
      return;
    }
    if (i > 0 && (WordIn<kSaintWords>(i - 1) || WordIn<kTitles>(i - 1))) return;
    if (i > 1 && IsPunct(i - 1, '.') && (WordIn<kSaintWords>(i - 2) || WordIn<kTitles>(i - 2))) return;
    std::size_t e = i;
    bool initial = false;  // "Ravil G. Yefimov": a middle initial between the two
    std::size_t next = 0;
    if (Cap(i + 1) && Adjacent(i, i + 1) && NamePart(i + 1) && !toks_[i + 1].all_caps &&
        !English(i + 1) && !D(i + 1, kCityBit) && !toks_[i].poss) {
      e = i + 1;
    } else if (!toks_[i].poss && Adjacent(i, i + 1) && Initial(i + 1, &next) &&
               Cap(next) && Adjacent(next - 1, next) && NamePart(next) &&
               !toks_[next].all_caps &&
               (D(next, kSurnameBit) || (!English(next) && !D(next, kCityBit)))) {
      e = next;
      initial = true;
    }
    if (EponymAfter(e)) return;
    if (i > 0 && Cap(i - 1) && Adjacent(i - 1, i)) return;  // inside a longer proper noun
    // "R. Gutierrez": an initial right before belongs to the name.
    std::size_t s = i;
    if (i >= 2 && IsPunct(i - 1, '.') && Adjacent(i - 1, i) && toks_[i - 1].b == toks_[i - 2].e &&
        IsWord(i - 2) && toks_[i - 2].cap && toks_[i - 2].e - toks_[i - 2].b == 1 &&
        (i == 2 || (!IsPunct(i - 3, '.') && !(Cap(i - 3) && Adjacent(i - 3, i - 2))))) {
      s = i - 2;  // but not the "S." of "U.S." or the "B." of "Hepatitis B."
    }
    if (e + 1 < toks_.size() && Cap(e + 1) && Adjacent(e, e + 1) &&
        StemIn<kFacilityHeads>(e + 1)) {
      return;  // a facility
    }
    float conf;
    if (initial) {
      conf = 0.75F;
    } else if (e > i) {
      conf = 0.6F;
    } else if (D(i, kSurnameBit)) {
      conf = 0.55F;
    } else {
      return;
    }
    Emit(toks_[s].b, toks_[e].stem_e, PhiClass::kName, conf, "name.unknown");
  }

  void Roster(std::size_t i) {
    if (D(i, kRosterBit)) {
      Emit(toks_[i].b, toks_[i].stem_e, PhiClass::kName, 0.99F, "name.roster");
    }
  }

  // Extends a facility name leftwards from its head word.
  std::size_t FacilityStart(std::size_t head) const {
    std::size_t s = head;
    int guard = 0;
    while (s > 0 && guard++ < 8) {
      std::size_t p = s - 1;
      if (Cap(p) && !IsMonth(p) && !WordIn<kTitles>(p) && Adjacent(p, s)) {
        if (EqualsLower(Stem(p), "the")) break;
        s = p;
        continue;
      }
      if (IsPunct(p, '.') && p > 0 && Cap(p - 1) && toks_[p - 1].e == toks_[p].b &&
          toks_[p - 1].e - toks_[p - 1].b <= 4) {
        s = p - 1;
        continue;
      }
      if ((IsPunct(p, '-') || IsPunct(p, '&') ||
           (IsWord(p) && (W(p) == "and" || W(p) == "of"))) &&
          p > 0 && Cap(p - 1) && s != head + 1) {
        s = p - 1;
        continue;
      }
      break;
    }
    return s;
  }

  void FacilityHead(std::size_t i) {
    if (!StemIn<kFacilityHeads>(i)) return;
    std::size_t s = FacilityStart(i);
    bool weak = StemIn<kWeakHeads>(i);
    if (s == i) {
      // A bare head word: only proper-noun heads ("Geisinger", "Langone") stand alone.
      static constexpr std::string_view kProperHeads[] = {
          "langone", "presbyterian", "permanente", "sinai", "hopkins", "kaiser", "geisinger",
          "mayo", "ochsner", "cedars"};
      if (!StemIn<kProperHeads>(i) || weak) return;
    }
    if (s < i && weak && StemIn<kNonPlaceModifiers>(i - 1) && s == i - 1) return;
    if (s < i && StemIn<kNonPlaceModifiers>(s) && s + 1 == i) return;
    // Extend right over following heads ("Medical Center", "Clinic Hospital").
    std::size_t e = i;
    while (e + 1 < toks_.size() && Cap(e + 1) && Adjacent(e, e + 1) &&
           StemIn<kFacilityHeads>(e + 1)) {
      ++e;
    }
    // "Methodist Hospital" at a sentence start is still a facility; "The Clinic" is not.
    Emit(toks_[s].b, toks_[e].e, PhiClass::kLocation, s < i ? 0.88F : 0.7F,
         "location.facility");
  }

  // "our Seattle clinic", "UCLA clinic": a lower-case head after a capitalised proper noun.
  void LowerFacilityHead(std::size_t i) {
    static constexpr std::string_view kLowerHeads[] = {"clinic", "hospital", "hosp", "center",
                                                       "centre", "practice", "infirmary"};
    // The capitalised word before is the rarer condition, and the cheaper: asked first.
    if (i == 0 || !Cap(i - 1) || !StemIn<kLowerHeads>(i) || !Adjacent(i - 1, i)) return;
    std::size_t s = FacilityStart(i);
    if (s == i) return;
    bool proper = false;
    for (std::size_t k = s; k < i; ++k) {
      if (!IsWord(k)) continue;
      if (!English(k) || toks_[k].all_caps || D(k, kCityBit)) proper = true;
      if (StemIn<kTitles>(k) || IsMonth(k)) return;
    }
    if (!proper) return;
    Emit(toks_[s].b, toks_[i].e, PhiClass::kLocation, 0.75F, "location.facility_lower");
  }

  void Saint(std::size_t i) {
    if (!WordIn<kSaintWords>(i)) return;
    std::size_t j = i + 1;
    if (IsPunct(j, '.')) ++j;
    if (!Cap(j) || IsMonth(j)) return;
    if (EponymAfter(j)) return;
    Emit(toks_[i].b, toks_[j].e, PhiClass::kLocation, 0.75F, "location.saint");
  }

  void KnownFacility(std::size_t i) {
    std::size_t e = i;
    // "Cedars-Sinai" is three tokens.
    if (IsPunct(i + 1, '-') && Cap(i + 2) && toks_[i + 1].b == toks_[i].e) e = i + 2;
    std::string_view phrase = t_.substr(toks_[i].b, toks_[e].stem_e - toks_[i].b);
    if (In<kKnownFacilities>(phrase) || StemIn<kKnownFacilities>(i)) {
      if (!In<kKnownFacilities>(phrase)) e = i;
      if (EponymAfter(e)) return;
      Emit(toks_[i].b, toks_[e].stem_e, PhiClass::kLocation, 0.8F, "location.known_facility");
    }
  }

  void County(std::size_t i) {
    if (!StemIn<kCountyWords>(i) || i == 0 || !Cap(i - 1)) return;
    std::size_t s = i - 1;
    while (s > 0 && Cap(s - 1) && Adjacent(s - 1, s) && s + 3 > i) --s;
    Emit(toks_[s].b, toks_[i].stem_e, PhiClass::kLocation, 0.9F, "location.county");
  }

  // Longest city phrase starting at token i (capitalised words, "St." allowed); 0 if none.
  std::size_t CityAt(std::size_t i) const {
    std::size_t best = 0;
    // The phrase "w1 w2 ..." in a fixed buffer (city names are short; longer phrases stop).
    char buf[128];
    std::size_t len = 0;
    std::size_t j = i, words = 0;
    while (j < toks_.size() && words < d_.max_city_words() && words < 4) {
      if (!Cap(j)) break;
      std::string_view stem = Stem(j);
      if (len + stem.size() + 1 > sizeof(buf)) break;
      if (words > 0) {
        if (!Adjacent(j - 1, j)) break;
        buf[len++] = ' ';
      }
      std::memcpy(buf + len, stem.data(), stem.size());
      len += stem.size();
      std::string_view phrase(buf, len);
      ++words;
      std::size_t k = j + 1;
      if (IsPunct(k, '.') && StemIn<kSaintWords>(j)) {
        // "St. Louis" is stored as "saint louis" in some lists and "st louis" in others.
        ++k;
      }
      const std::uint16_t bits = words == 1 ? Bits(j) : d_.Lookup(phrase);
      if ((bits & kCityBit) != 0) best = j + 1;
      // No longer city starts with this phrase, or a possessive ends it.
      if ((bits & kCityPrefixBit) == 0 || toks_[j].poss) break;
      j = k;
    }
    return best;
  }

  void City(std::size_t i) {
    if (i > 0 && Cap(i - 1) && Adjacent(i - 1, i) && !toks_[i - 1].nl_before) {
      // Inside a longer capitalised run: only the run's first word starts a city, unless a
      // cue comes right before ("Jane Doe in Miami" is handled at "Miami" by the cue check).
    }
    std::size_t end = CityAt(i);
    if (end == 0) return;
    std::size_t last = end - 1;
    if (Cap(end) && EqualsLower(Stem(end), "city") && Adjacent(last, end)) last = end;
    std::size_t words = 0;
    for (std::size_t k = i; k < end; ++k) words += IsWord(k) ? 1 : 0;
    if (EponymAfter(last) || IsMonth(i) || StemIn<kGroupWords>(i)) return;
    bool ambiguous = English(i) || D(i, kFirstBit) || D(i, kStateNameBit) ||
                     StemIn<kNotNameWords>(i) || toks_[i].all_caps;
    // A city followed by ", ST" or ", State".
    bool state_after = IsPunct(end, ',') && IsWord(end + 1) &&
                       ((toks_[end + 1].all_caps && d_.IsStateAbbr(W(end + 1))) ||
                        D(end + 1, kStateNameBit));
    bool cue_before = i > 0 && IsWord(i - 1) && WordIn<kLocationCues>(i - 1) &&
                      !toks_[i - 1].cap;
    float conf = 0.3F;
    if (words >= 2 && !ambiguous) conf = 0.85F;
    else if (words >= 2) conf = 0.6F;
    else if (!ambiguous) conf = 0.6F;
    if (state_after) conf = std::max(conf, 0.9F);
    if (cue_before && !ambiguous) conf = std::max(conf, 0.8F);
    if (cue_before && ambiguous && !English(i)) conf = std::max(conf, 0.6F);
    // A common word that is also a city, capitalised after a place cue ("flew to Phoenix",
    // "lives in Mobile"): the cue is lower case, so the capital is mid-sentence. Not after
    // "at", "of" or a plain "to", which name departments and destinations ("discharged to
    // Home", "back to Normal").
    if (cue_before && English(i) && !toks_[i].all_caps && !StemIn<kNotNameWords>(i) &&
        !D(i, kStateNameBit)) {
      const std::string_view cue = W(i - 1);
      const bool travel_to = EqualsLower(cue, "to") && i > 1 && IsWord(i - 2) &&
                             StemIn<kTravelVerbs>(i - 2);
      // A lower-case word right after it makes it a modifier ("in Normal range"), and a few
      // towns are first of all where patients come from ("admitted from Home").
      const bool modifier = IsWord(end) && !toks_[end].cap && !WordIn<kLocationCues>(end) &&
                            !StemIn<kClauseWords>(end);
      if ((travel_to || (!EqualsLower(cue, "to") && !EqualsLower(cue, "at") &&
                         !EqualsLower(cue, "of"))) &&
          !modifier && !StemIn<kDestinationWords>(i)) {
        conf = std::max(conf, 0.55F);
      }
    }
    // Sentence-initial capitalised common words are not cities on their own.
    Emit(toks_[i].b, toks_[last].e, PhiClass::kLocation, conf, "location.city");
  }

  // "seen at Cedar Crest", "admitted to Lakeside": a capitalised phrase after a visit verb.
  void CuedPlace(std::size_t i) {
    if (i < 1 || !IsWord(i - 1)) return;
    std::string_view prep = W(i - 1);
    const bool at_to_in = EqualsLower(prep, "at") || EqualsLower(prep, "to") ||
                          EqualsLower(prep, "in");
    const bool from_near = EqualsLower(prep, "from") || EqualsLower(prep, "near");
    if (!at_to_in && !from_near) return;
    bool verb = at_to_in && i >= 2 && IsWord(i - 2) && WordIn<kVisitVerbs>(i - 2);
    bool at = EqualsLower(prep, "at");
    if (IsMonth(i) || StemIn<kTitles>(i) || StemIn<kNotNameWords>(i)) return;
    if (D(i, kStateNameBit) || (toks_[i].all_caps && d_.IsStateAbbr(W(i)))) return;
    std::size_t e = i;
    while (e + 1 < toks_.size() && e < i + 4 && Cap(e + 1) && Adjacent(e, e + 1) &&
           !IsMonth(e + 1) && !toks_[e].poss) {
      ++e;
    }
    // "from Queens, NY", "in Smallville, KS": a place by its state, city list or not (but
    // "Smith, MD" and "Lee, PA" are credentials).
    const bool state_after = IsPunct(e + 1, ',') && IsWord(e + 2) && toks_[e + 2].all_caps &&
                             d_.IsStateAbbr(W(e + 2)) && !EqualsLower(W(e + 2), "md") &&
                             !EqualsLower(W(e + 2), "pa");
    if (!verb && !at && !state_after) return;
    if (state_after && !verb && !at) verb = true;  // as strong as a visit verb
    if (EponymAfter(e)) return;
    std::size_t words = e - i + 1;
    bool plain_word = words == 1 && English(i) && !toks_[i].all_caps;
    if (plain_word && !state_after) return;
    if (D(i, kFirstBit) && words == 1 && !state_after) return;
    float conf = verb ? 0.7F : (words >= 2 || toks_[i].all_caps ? 0.6F : 0.55F);
    Emit(toks_[i].b, toks_[e].stem_e, PhiClass::kLocation, conf, "location.cue");
  }

  // "admitted 2/14", "seen 6/3", "Tuesday 3/12", "d/c 6/6": a month and day without a year
  // after a word that dates an event. Fractions and scores ("strength 4/5", "pain 7/10",
  // "on 1/2 tab") have no such word before them, or a unit after them.
  void MonthDay(std::size_t i) {
    if (i == 0 || i + 2 >= toks_.size() || !IsPunct(i + 1, '/') ||
        toks_[i + 2].kind != Kind::kNum || toks_[i + 1].b != toks_[i].e ||
        toks_[i + 2].b != toks_[i + 1].e || toks_[i].e - toks_[i].b > 2 ||
        toks_[i + 2].e - toks_[i + 2].b > 2) {
      return;
    }
    // Inside a longer date or number ("2/14/2024", "1.2/3"): the numeric rules' business.
    const std::size_t b = toks_[i].b, e = toks_[i + 2].e;
    auto glue = [](char c) {
      return c == '/' || c == '-' || c == '.' || c == ',' ||
             IsDigitByte(static_cast<unsigned char>(c));
    };
    if ((b > 0 && glue(t_[b - 1])) ||
        (e + 1 < t_.size() && glue(t_[e]) && IsDigitByte(static_cast<unsigned char>(t_[e + 1])))) {
      return;
    }
    const int month = NumValue(i), day = NumValue(i + 2);
    if (month < 1 || month > 12 || day < 1 || day > 31) return;
    if (IsWord(i + 3) && Adjacent(i + 2, i + 3) && StemIn<kFractionUnits>(i + 3)) return;
    // The dating word, or "d/c".
    std::size_t c = i - 1;
    bool cue = false;
    if (IsWord(c) && Adjacent(c, i)) {
      cue = StemIn<kDateCues>(c) ||
            (EqualsLower(W(c), "c") && c >= 2 && IsPunct(c - 1, '/') && IsWord(c - 2) &&
             EqualsLower(W(c - 2), "d") && toks_[c - 1].b == toks_[c - 2].e);
    } else if (IsPunct(c, ':') && c > 0 && IsWord(c - 1) && Adjacent(c, i)) {
      cue = StemIn<kDateCues>(c - 1);  // "DOS: 6/4"
    }
    if (!cue) return;
    Emit(b, e, PhiClass::kDate, 0.85F, "date.month_day");
  }

  // "Eleanor Whitfield-Park, 91F," / "a 94M with": an age over 89 written with the sex
  // letter. Temperatures ("fever 101F", "T 100.4F") have a cue or a decimal before them.
  void AgeWithSex(std::size_t i) {
    if (toks_[i].e - toks_[i].b < 2 || toks_[i].e - toks_[i].b > 3 || i + 1 >= toks_.size() ||
        !IsWord(i + 1) || toks_[i + 1].b != toks_[i].e || toks_[i + 1].e - toks_[i + 1].b != 1) {
      return;
    }
    const char sex = t_[toks_[i + 1].b];
    if (sex != 'F' && sex != 'M') return;
    const int age = NumValue(i);
    if (age < 90 || age > 129) return;
    if (i + 2 < toks_.size() && toks_[i + 2].b == toks_[i + 1].e &&
        toks_[i + 2].kind != Kind::kPunct) {
      return;  // "91Fr", "100M2"
    }
    // After a comma, "a"/"an", or an opening parenthesis; not after a decimal point.
    if (i == 0) return;
    const bool after =
        IsPunct(i - 1, ',') || IsPunct(i - 1, '(') ||
        (IsWord(i - 1) && (EqualsLower(W(i - 1), "a") || EqualsLower(W(i - 1), "an")));
    if (!after) return;
    Emit(toks_[i].b, toks_[i + 1].e, PhiClass::kAge, 0.85F, "age.with_sex");
  }

  // "ZIP: 94110", "zip code 62488-1234", "postal code 3520": a postal code after its cue, of
  // any usual length (a bare 5-digit number is a ZIP only after a state abbreviation).
  void CuedZip(std::size_t i) {
    const std::size_t digits = toks_[i].e - toks_[i].b;
    if (digits < 3 || digits > 6 || i == 0) return;
    std::size_t c = i - 1;  // the cue's last word, before an optional ':', '#' or '-'
    if ((IsPunct(c, ':') || IsPunct(c, '#') || IsPunct(c, '-')) && c > 0) --c;
    if (!IsWord(c) || !Adjacent(c, c + 1)) return;
    // "her ZIP is 97701", "zip code is: 02115"
    if (EqualsLower(W(c), "is") && c > 0 && IsWord(c - 1) && Adjacent(c - 1, c)) {
      --c;
    }
    const std::string_view w = W(c);
    bool cue = EqualsLower(w, "zip") || EqualsLower(w, "zipcode") || EqualsLower(w, "postcode");
    if (!cue && EqualsLower(w, "code") && c > 0 && IsWord(c - 1) && Adjacent(c - 1, c)) {
      const std::string_view before = W(c - 1);
      cue = EqualsLower(before, "zip") || EqualsLower(before, "postal") ||
            EqualsLower(before, "post");
    }
    if (!cue) return;
    Emit(toks_[i].b, ZipEnd(i), PhiClass::kLocation, 0.9F, "location.zip_cue");
  }

  // "Boise, Idaho 83702", "New York 10001": a ZIP after a state's name (after its
  // abbreviation, "ID 83702", the numeric rules find it).
  void ZipAfterStateName(std::size_t i) {
    if (toks_[i].e - toks_[i].b != 5 || i == 0 || !Cap(i - 1) || !Adjacent(i - 1, i)) return;
    bool state = D(i - 1, kStateNameBit);
    if (!state && i >= 2 && Cap(i - 2) && Adjacent(i - 2, i - 1)) {
      state = d_.IsStateName(t_.substr(toks_[i - 2].b, toks_[i - 1].e - toks_[i - 2].b));
    }
    if (state) Emit(toks_[i].b, ZipEnd(i), PhiClass::kLocation, 0.9F, "location.zip_state");
  }
  // The end of the postal code at number token i: with a ZIP+4 extension ("94110-1234").
  std::size_t ZipEnd(std::size_t i) const {
    const std::size_t e = toks_[i].e;
    if (e - toks_[i].b == 5 && IsPunct(i + 1, '-') && toks_[i + 1].b == e &&
        i + 2 < toks_.size() && toks_[i + 2].kind == Kind::kNum &&
        toks_[i + 2].b == toks_[i + 1].e && toks_[i + 2].e - toks_[i + 2].b == 4) {
      return toks_[i + 2].e;
    }
    return e;
  }

  // "123 Maple Street", "4 Elm Ave., Apt 2B".
  void Address(std::size_t i) {
    std::size_t digits = toks_[i].e - toks_[i].b;
    if (digits > 6 || !Cap(i + 1) || !Adjacent(i, i + 1)) return;
    if (i > 0 && (IsPunct(i - 1, '.') || IsPunct(i - 1, ',')) && i > 1 &&
        toks_[i - 2].kind == Kind::kNum && toks_[i - 1].e == toks_[i].b) {
      return;  // "1,234 Main" is unlikely; "1.5 Tesla" is a quantity
    }
    std::size_t j = i + 1;
    std::size_t words = 0;
    while (j < toks_.size() && words < 5 && Adjacent(j - 1, j)) {
      // A numbered street ("301 East 21st Street"): the ordinal is one word of the run.
      if (words > 0 && toks_[j].kind == Kind::kNum && j + 1 < toks_.size() && IsWord(j + 1) &&
          toks_[j + 1].b == toks_[j].e && toks_[j].e - toks_[j].b <= 3 &&
          (EqualsLower(W(j + 1), "st") || EqualsLower(W(j + 1), "nd") ||
           EqualsLower(W(j + 1), "rd") || EqualsLower(W(j + 1), "th"))) {
        ++words;
        j += 2;
        continue;
      }
      if (!IsWord(j) || !(toks_[j].cap || words > 0)) break;
      ++words;
      if (words >= 2 && D(j, kStreetBit) && toks_[j].cap) {
        std::size_t e = j;
        if (IsPunct(e + 1, '.')) ++e;
        // Optional direction and unit: "NW", "Apt 4B", "Suite 200".
        std::size_t k = e + 1;
        if (IsPunct(k, ',')) ++k;
        if (IsWord(k) && (EqualsLower(W(k), "apt") || EqualsLower(W(k), "suite") ||
                          EqualsLower(W(k), "unit") || EqualsLower(W(k), "ste"))) {
          std::size_t u = k + 1;
          if (IsPunct(u, '.')) ++u;
          if (IsPunct(u, '#')) ++u;
          if (u < toks_.size() && toks_[u].kind != Kind::kPunct) e = u;
        }
        std::size_t end_off = toks_[e].e;
        // ", City, ST 12345": take the city and state too (the state alone may stay, but a
        // span that stops short would leave part of the address readable).
        std::size_t m = e + 1;
        if (IsPunct(m, ',') && Cap(m + 1)) {
          std::size_t c = m + 1;
          while (c + 1 < toks_.size() && Cap(c + 1) && Adjacent(c, c + 1) && c < m + 4) ++c;
          end_off = toks_[c].e;
          std::size_t s2 = c + 1;
          if (IsPunct(s2, ',') && IsWord(s2 + 1) && toks_[s2 + 1].all_caps &&
              d_.IsStateAbbr(W(s2 + 1))) {
            end_off = toks_[s2 + 1].e;
            if (s2 + 2 < toks_.size() && toks_[s2 + 2].kind == Kind::kNum) end_off = toks_[s2 + 2].e;
          }
        }
        Emit(toks_[i].b, end_off, PhiClass::kLocation, 0.9F, "location.street_address");
        return;
      }
      ++j;
      // A directional abbreviation with its dot ("1450 W. Elm St."): the dot joins the run.
      if (IsPunct(j, '.') && toks_[j].b == toks_[j - 1].e &&
          toks_[j - 1].e - toks_[j - 1].b <= 2 && toks_[j - 1].cap && j + 1 < toks_.size() &&
          Adjacent(j, j + 1)) {
        ++j;
      }
    }
  }

  std::string_view t_;
  std::size_t base_;
  const Dictionaries& d_;
  std::vector<Candidate>& out_;
  std::vector<Token>& toks_;  // holds the per-token dictionary cache, hence D() is const
  // The capitalised words, in order (what PropagateNames looks at); a per-thread buffer.
  std::vector<std::uint32_t>& caps_ = CapsBuffer();
  static std::vector<std::uint32_t>& CapsBuffer() {
    thread_local std::vector<std::uint32_t> caps;
    return caps;
  }
};

}  // namespace

void RunTokenRules(std::string_view text, const Dictionaries& dicts, std::vector<Candidate>& out) {
  // Windows of about 256 KiB cut at a line break (or a space) bound the token buffer, so a
  // 100 MB line costs the same memory as a short one.
  constexpr std::size_t kWindow = 256 * 1024;
  thread_local std::vector<Token> toks;  // per thread: no allocation per call once grown
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = std::min(text.size(), pos + kWindow);
    if (end < text.size()) {
      // Search only the second half of this window (searching the whole prefix would make a
      // long line quadratic).
      std::string_view half = text.substr(pos + kWindow / 2, end - (pos + kWindow / 2));
      std::size_t cut = half.rfind('\n');
      if (cut == std::string_view::npos) cut = half.rfind(' ');
      if (cut != std::string_view::npos) end = pos + kWindow / 2 + cut + 1;
    }
    Window w(text.substr(pos, end - pos), pos, dicts, out, toks);
    w.Run();
    pos = end;
  }
  // Keep the buffer of ordinary texts, not that of a huge one (it also holds word hashes).
  if (toks.capacity() > (std::size_t{1} << 14)) {
    std::vector<Token>().swap(toks);
  } else {
    toks.clear();
  }
}

namespace {

std::size_t SkipSpaces(std::string_view t, std::size_t p) {
  while (p < t.size() && (t[p] == ' ' || t[p] == '\t')) ++p;
  return p;
}

// End of the ASCII word at p (p itself if none).
std::size_t WordEnd(std::string_view t, std::size_t p) {
  while (p < t.size() && IsAsciiLetter(static_cast<unsigned char>(t[p]))) ++p;
  return p;
}

// If a US state (abbreviation or name of up to three words) starts at p, returns its end.
std::size_t StateAt(std::string_view t, std::size_t p, const Dictionaries& d) {
  std::size_t e = WordEnd(t, p);
  if (e == p || (e < t.size() && IsDigitByte(static_cast<unsigned char>(t[e])))) return 0;
  if (e - p == 2 && IsUpperAscii(t[p]) && IsUpperAscii(t[p + 1]) && d.IsStateAbbr(t.substr(p, 2))) {
    return e;
  }
  if (!IsUpperAscii(t[p])) return 0;
  std::size_t best = 0, end = e;
  for (int words = 1; words <= 3; ++words) {
    if (d.IsStateName(t.substr(p, end - p))) best = end;
    std::size_t n = end;
    if (n >= t.size() || t[n] != ' ') break;
    std::size_t w = WordEnd(t, n + 1);
    if (w == n + 1) break;
    end = w;
  }
  return best;
}

// Joins place names written as one ("St. Mary's Hospital in Chicago", "Fairfield, CT",
// "Children's Hospital of Atlanta", "in the Bronx"): a span that stops at the connector
// would leave part of the location readable.
void ChainLocations(std::string_view t, const Dictionaries& d, std::vector<Finding>& fs) {
  std::size_t kept = 0;  // fs[0, kept) is the output: compacted in place, it never passes k
  for (std::size_t k = 0; k < fs.size(); ++k) {
    Finding f = fs[k];
    if (f.cls == PhiClass::kLocation) {
      // "in the Bronx": take "the".
      if (f.begin >= 4 && t.substr(f.begin - 4, 4) == "the ") {
        std::size_t q = f.begin - 4;
        if (q >= 3 && (t.substr(q - 3, 3) == "in " || t.substr(q - 3, 3) == "at ")) f.begin = q;
      }
      for (int guard = 0; guard < 4; ++guard) {
        std::size_t p = f.end;
        bool comma = p < t.size() && t[p] == ',';
        if (comma) ++p;
        p = SkipSpaces(t, p);
        if (p == f.end) break;
        std::size_t after_conn = p;
        for (std::string_view conn : {"in ", "of "}) {
          if (t.substr(p, conn.size()) == conn) after_conn = SkipSpaces(t, p + conn.size());
        }
        if (k + 1 < fs.size() && fs[k + 1].cls == PhiClass::kLocation &&
            (fs[k + 1].begin == after_conn || fs[k + 1].begin == p)) {
          f.end = fs[k + 1].end;
          f.confidence = std::max(f.confidence, fs[k + 1].confidence);
          ++k;
          continue;
        }
        std::size_t st = StateAt(t, after_conn, d);
        if (st > 0 && (comma || after_conn != p)) {
          f.end = st;
          // ", IL 60601"
          std::size_t z = SkipSpaces(t, st);
          if (k + 1 < fs.size() && fs[k + 1].begin == z && fs[k + 1].cls == PhiClass::kLocation) {
            f.end = fs[k + 1].end;
            ++k;
          }
          continue;
        }
        break;
      }
    }
    // A location grown by a state ("Chicago, IL") can reach into the next finding
    // ("IL-60601"): findings stay disjoint, so the two become one span.
    if (kept > 0 && f.begin < fs[kept - 1].end) {
      Finding& last = fs[kept - 1];
      last.end = std::max(last.end, f.end);
      last.confidence = std::max(last.confidence, f.confidence);
      continue;
    }
    fs[kept++] = f;
  }
  fs.resize(kept);
}

}  // namespace

std::vector<Finding> Resolve(std::string_view text, std::vector<Candidate>& cands,
                             const std::array<float, kPhiClassCount>& thresholds,
                             const Dictionaries& dicts) {
  cands.erase(std::remove_if(cands.begin(), cands.end(),
                             [&](const Candidate& c) {
                               return c.end <= c.begin || c.end > text.size() ||
                                      c.conf < thresholds[static_cast<std::size_t>(c.cls)];
                             }),
              cands.end());
  // A total order (ties on the span go to the most confident, then by class and rule), so the
  // findings depend on the set of candidates, not on the order the rules produced them in.
  std::sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end > b.end;
    if (a.conf != b.conf) return a.conf > b.conf;
    if (a.cls != b.cls) return a.cls < b.cls;
    return a.rule < b.rule;
  });
  std::vector<Finding> out;
  out.reserve(cands.size());
  float best = 0;
  for (const Candidate& c : cands) {
    if (!out.empty() && c.begin < out.back().end) {
      Finding& f = out.back();
      f.end = std::max(f.end, c.end);
      // Specific classes beat the generic identifier class at equal footing.
      bool generic = f.cls == PhiClass::kUniqueId && c.cls != PhiClass::kUniqueId;
      if (c.conf > best || (generic && c.conf >= best - 0.3F)) {
        best = std::max(best, c.conf);
        f.cls = c.cls;
        f.rule = c.rule;
        f.confidence = best;
      }
      continue;
    }
    Finding f;
    f.cls = c.cls;
    f.begin = c.begin;
    f.end = c.end;
    f.confidence = c.conf;
    f.rule = c.rule;
    best = c.conf;
    out.push_back(f);
  }
  ChainLocations(text, dicts, out);
  // Code-point offsets in one pass: count bytes that are not UTF-8 continuation bytes.
  std::size_t cp = 0, pos = 0;
  auto advance = [&](std::size_t to) {
    // Eight bytes at a time: a continuation byte has its top bits 10.
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    for (; pos + 8 <= to; pos += 8) {
      std::uint64_t x;
      std::memcpy(&x, text.data() + pos, 8);
      // One bit per continuation byte, moved to the bottom of its byte; the multiply sums
      // the bytes into the top one (no popcount instruction in the baseline x86-64 target).
      const std::uint64_t continuation = (x & ~(x << 1) & kHigh) >> 7;
      cp += 8 - static_cast<std::size_t>((continuation * 0x0101010101010101ULL) >> 56);
    }
    for (; pos < to; ++pos) {
      if ((static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80) ++cp;
    }
  };
  for (Finding& f : out) {
    advance(f.begin);
    f.cp_begin = cp;
    advance(f.end);
    f.cp_end = cp;
  }
  return out;
}

}  // namespace baagate::phi
