#include "phi/detector.h"

#include <hs/hs.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_set>

#include "core/crypto.h"
#include "phi/token_rules.h"
#include "phi/validators.h"

namespace baagate::phi {

namespace generated {
// The builtin rules' Hyperscan databases serialised at build time; empty where not built.
std::string_view PrecompiledDatabases();
}  // namespace generated

// What to do with a Hyperscan match before it becomes a candidate.
enum class Check : std::uint8_t {
  kPlain,        // boundary check only
  kEmail,
  kUrl,
  kIpv4,
  kIpv6,
  kSsn,
  kPhone,
  kDateNumeric,  // m/d/y or d/m/y
  kDateIso,      // y-m-d
  kDateMonth,    // month-name forms: the month must be capitalised
  kAge,          // "92-year-old": the number must be > 89
  kAgePrefix,    // "aged 92"
  kBirthYear,    // "born in 1931": the year must imply an age > 89
  kCue,          // a cue word: the identifier that follows becomes the finding
  kMbi,
  kNpi,
  kDea,
  kVin,
  kIdDigits,     // generic long numbers and dashed digit groups
  kIdAlpha,      // letter prefix + digits ("CC-456789")
  kCustom,
  kAddressCue,   // "address:", "lives at": the rest of the line, if it holds a number
};

struct Detector::RuleSpec {
  std::string id;
  std::string regex;
  unsigned flags;
  PhiClass cls;
  float conf;
  Check check;
};

namespace {

using Rule = Detector::RuleSpec;
constexpr unsigned kCi = HS_FLAG_CASELESS;
// Start of match tracked in stage 1 itself: set on rules for which that costs the stage-1
// scan next to nothing (measured: the numeric dates, month-day-year dates, phones, IPv4 and
// UDI rules), which saves their stage-2 scans. On other rules it makes the whole stage-1
// scan up to 40% slower.
constexpr unsigned kSom = HS_FLAG_SOM_LEFTMOST;

#define MONTH                                                                             \
  "(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|" \
  "oct(ober)?|nov(ember)?|dec(ember)?)\\.?"
#define ORD "(st|nd|rd|th)?"

std::vector<Rule> BuiltinRules() {
  using C = PhiClass;
  return {
      {"email", "[A-Za-z0-9._%+\\-]+@[A-Za-z0-9\\-]+(\\.[A-Za-z0-9\\-]+)*\\.[A-Za-z]{2,24}", 0,
       C::kEmail, 0.99F, Check::kEmail},
      {"url.scheme", "(https?|ftp|sftp)://[^\\s<>\"'\\]\\)]+", kCi, C::kUrl, 0.97F, Check::kUrl},
      {"url.www", "www\\.[A-Za-z0-9\\-]+(\\.[A-Za-z0-9\\-]+)+[^\\s<>\"'\\]\\)]*", kCi, C::kUrl,
       0.95F, Check::kUrl},
      {"url.domain",
       "[A-Za-z0-9\\-]+(\\.[A-Za-z0-9\\-]+)*\\.(com|org|net|edu|gov|io|info|biz|us|health)"
       "(/[^\\s<>\"'\\]\\)]*)?",
       0, C::kUrl, 0.8F, Check::kUrl},
      {"ip.v4", "\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}", kSom, C::kIp, 0.92F, Check::kIpv4},
      {"ip.v6", "[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]{0,40}", 0, C::kIp, 0.92F,
       Check::kIpv6},
      {"ssn.dashed", "\\d{3}-\\d{2}-\\d{4}", 0, C::kSsn, 0.9F, Check::kSsn},
      {"ssn.spaced", "\\d{3} \\d{2} \\d{4}", 0, C::kSsn, 0.75F, Check::kSsn},
      {"phone.us",
       "(\\+?1[ .\\-]?)?(\\(\\d{3}\\)[ .\\-]?|\\d{3}[ .\\-])\\d{3}[ .\\-]\\d{4}"
       "([ ]?(x|ext\\.?|extension)[ ]?\\d{1,5})?",
       kCi | kSom, C::kPhone, 0.9F, Check::kPhone},
      {"phone.intl", "\\+\\d{1,3}[ \\-]?\\(?\\d{1,4}\\)?([ \\-]?\\d{2,4}){2,4}", kSom, C::kPhone,
       0.85F, Check::kPhone},
      {"phone.intl_area", "\\(\\d{2,4}\\)[ ]?\\d{3,4}[ \\-]\\d{3,4}", kSom, C::kPhone, 0.8F,
       Check::kPhone},
      {"phone.dotted", "0\\d([ .]\\d{2}){4}", 0, C::kPhone, 0.8F, Check::kPhone},
      {"phone.compact", "\\(\\d{3}\\)\\d{7}", 0, C::kPhone, 0.85F, Check::kPhone},
      {"date.numeric", "\\d{1,2}[/\\-.]\\d{1,2}[/\\-.](\\d{4}|\\d{2})", kSom, C::kDate, 0.9F,
       Check::kDateNumeric},
      {"date.iso",
       "\\d{4}[\\-/]\\d{1,2}[\\-/]\\d{1,2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+\\-]\\d{2}:?"
       "\\d{2})?)?",
       0, C::kDate, 0.92F, Check::kDateIso},
      {"date.month_year", "\\d{1,2}/\\d{4}", kSom, C::kDate, 0.7F, Check::kDateNumeric},
      {"date.month_day_year",
       MONTH "[ \\t]+\\d{1,2}" ORD "(,?[ \\t]+(\\d{4}|'\\d{2}))?"
             "([ ,]+(at[ ]+)?\\d{1,2}(:\\d{2})+[ ]?([ap]\\.?m\\.?)?)?",
       kCi | kSom, C::kDate, 0.92F, Check::kDateMonth},
      // "5th of May, 2021", and "02-Feb-2024" / "2/Feb/24" (the form many record systems print).
      {"date.day_month_year",
       "\\d{1,2}" ORD "(([ \\t]+of)?[ \\t]+|[\\-/])" MONTH
       "(,?[ \\t]+\\d{4}|[\\-/](\\d{4}|\\d{2}))?",
       kCi, C::kDate, 0.92F, Check::kDateMonth},
      // A holiday with its year ("Christmas Eve 2023") is a day. Capitalised, as proper
      // nouns are: a caseless "day" would make stage 1 slower on every "daily".
      {"date.holiday",
       "\\b(Christmas([ \t]+(Eve|Day))?|New[ \t]+Year'?s([ \t]+(Eve|Day))?|Thanksgiving"
       "([ \t]+Day)?|Easter([ \t]+(Sunday|Monday))?|Halloween|Independence[ \t]+Day|"
       "(Memorial|Labor|Labour|Veterans'?|Mother'?s|Father'?s|Valentine'?s|Boxing)[ \t]+Day)"
       ",?[ \t]+(of[ \t]+)?(\\d{4}|'\\d{2})",
       0, C::kDate, 0.85F, Check::kPlain},
      {"date.month_year_words", MONTH ",?[ \\t]+(of[ \\t]+)?\\d{4}", kCi, C::kDate, 0.85F,
       Check::kDateMonth},
      {"age.over89",
       "\\d{2,3}[ \\-]?(years?|yrs?|y/?o|y\\.o\\.?|yo)([ \\-]old)?", kCi, C::kAge, 0.9F,
       Check::kAge},
      {"age.prefix", "(aged?|age:)[ \\t]*\\d{2,3}", kCi, C::kAge, 0.9F, Check::kAgePrefix},
      {"age.decade", "(in (his|her|their) )?(90|100|110)'?s", kCi, C::kAge, 0.6F, Check::kAge},
      {"date.birth_year",
       "(born([ \\t]+in)?|birth[ \\t]*year:?|year[ \\t]+of[ \\t]+birth:?|yob:?|b\\.)[ \\t]*"
       "\\d{4}",
       kCi, C::kDate, 0.9F, Check::kBirthYear},
      // Cue words: the identifier that follows is the finding.
      {"cue.mrn",
       "(mrn|medical[ \\t]+record([ \\t]+(number|no\\.?|#))?|med\\.?[ \\t]*rec(ord)?\\.?|emr|"
       "ehr|chart[ \\t]+(number|no\\.?|#)|patient[ \\t]+(id|number|#)|pt\\.?[ \\t]+id|"
       "hospital[ \\t]+(number|#)|record[ \\t]+(number|#))",
       kCi, C::kMrn, 0.92F, Check::kCue},
      {"cue.health_plan",
       "(insurance|policy|plan|member|subscriber|group|medicaid|medicare|mbi|beneficiary|"
       "health[ \\t]+id|health[ \\t]+plan|hicn|ins\\.?)([ \\t]+(policy|plan|member|id|number|"
       "no\\.?|#))*",
       kCi, C::kHealthPlan, 0.9F, Check::kCue},
      {"cue.account",
       "(account|acct\\.?|billing|invoice|bank)([ \\t]+(number|no\\.?|#|id))?", kCi,
       C::kAccount, 0.9F, Check::kCue},
      {"cue.license",
       "(licen[sc]e|driver'?s[ \\t]+licen[sc]e|dl|dea|npi|certificate|cert\\.?|registration|"
       "passport)([ \\t]+(number|no\\.?|#|id))?",
       kCi, C::kLicense, 0.9F, Check::kCue},
      {"cue.vehicle",
       "(vin|licen[sc]e[ \\t]+plate|plate|tag)([ \\t]+(number|no\\.?|#))?", kCi,
       C::kVehicle, 0.9F, Check::kCue},
      {"cue.device",
       "(serial|s/n|sn|device([ \\t]+(id|serial))?|udi|imei|implant([ \\t]+(id|serial))?|"
       "pacemaker|model)([ \\t]+(number|no\\.?|#|id))?",
       kCi, C::kDevice, 0.9F, Check::kCue},
      {"cue.ssn", "(ssn|ss#|social[ \\t]+security([ \\t]+(number|no\\.?|#))?)", kCi,
       C::kSsn, 0.95F, Check::kCue},
      {"cue.fax", "(fax|facsimile)([ \\t]+(number|no\\.?|#))?", kCi, C::kFax, 0.92F,
       Check::kCue},
      {"cue.biometric",
       "(fingerprint|finger[ \\t]+print|voice[ \\t]*print|retina(l)?[ \\t]+scan|iris[ \\t]+"
       "scan|face[ \\t]*print|palm[ \\t]*print|biometric)([ \\t]+(id|template|sample|record|"
       "hash))?",
       kCi, C::kBiometric, 0.9F, Check::kCue},
      {"cue.unique_id",
       "(site|employee|staff|trial|study|subject|participant|claim|case|badge|encounter|visit|"
       "order|specimen|accession|requisition|reference|ref|confirmation|booking|enrollment|"
       "enrolment|registry|customer|client|user|unique)[ \\t]+(id|number|no\\.?|#|code)",
       kCi, C::kUniqueId, 0.9F, Check::kCue},
      {"cue.address",
       "(address(es)?|addr\\.?|lives[ \t]+at|living[ \t]+at|located[ \t]+at|resides?[ \t]+at|"
       "send[ \t]+(it|them|this)?[ \t]*to|mail(ed)?[ \t]+to|ship(ped)?[ \t]+to)[ \t]*"
       "((is|are|was)[ \t]*)?:?[ \t]*(here[ \t]+(it[ \t]+is|they[ \t]+are):?[ \t]*)?",
       kCi, C::kLocation, 0.8F, Check::kAddressCue},
      {"location.unit",
       "(Apt\\.?|Apartment|APT|Suite|SUITE|Ste\\.?|Unit|UNIT|PSC|P\\.?O\\.? Box|PO BOX|Box|BOX)[ \t]*#?"
       "[ \t]*\\d{1,6}[A-Za-z]?",
       0, C::kLocation, 0.8F, Check::kPlain},
      // US military mail ("PSC 0413, Box 8144, APO AA 42323"): the ZIP of an overseas base.
      {"location.military", "\\b(APO|FPO|DPO)[ \t]+(AA|AE|AP)[ \t]+\\d{5}(-\\d{4})?", kSom,
       C::kLocation, 0.9F, Check::kPlain},
      // Structured identifiers with their own check digits.
      {"mbi",
       "[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\\d-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\\d-?"
       "[AC-HJKMNP-RT-Y]{2}\\d{2}",
       0, C::kHealthPlan, 0.85F, Check::kMbi},
      {"npi", "\\d{10}", 0, C::kLicense, 0.8F, Check::kNpi},
      {"dea", "[A-Z][A-Z9]\\d{7}", 0, C::kLicense, 0.9F, Check::kDea},
      {"vin", "[A-HJ-NPR-Z0-9]{17}", 0, C::kVehicle, 0.9F, Check::kVin},
      {"udi.gs1", "\\(01\\)\\d{14}(\\(\\d{2,4}\\)[A-Za-z0-9\\-]{1,20}){0,4}", kSom, C::kDevice,
       0.95F, Check::kPlain},
      // Generic identifiers without a cue: long digit runs and letter-prefixed numbers.
      {"id.digits", "#?\\d{2,}([\\-/ ]?\\d{2,}){0,3}", 0, C::kUniqueId, 0.65F, Check::kIdDigits},
      {"id.alpha", "#?[A-Z]{1,5}-?\\d{4,}(-\\d{1,6})?|#?\\d{4,}-?[A-Z]{1,4}", 0, C::kUniqueId,
       0.65F, Check::kIdAlpha},
  };
}

#undef MONTH
#undef ORD

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
// ASCII letters and digits (what std::isalnum answers in the "C" locale, without the call).
inline bool IsAlnum(char c) { return IsDigit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }

// True if [b, e) is not glued to a letter or digit on either side.
bool AtWordBoundary(std::string_view t, std::size_t b, std::size_t e) {
  if (b > 0 && IsAlnum(t[b - 1])) return false;
  if (e < t.size() && IsAlnum(t[e])) return false;
  return true;
}

// Numbers inside a decimal or a longer number ("1.73", "3,000") are not identifiers.
bool NumericBoundary(std::string_view t, std::size_t b, std::size_t e) {
  if (!AtWordBoundary(t, b, e)) return false;
  if (b >= 2 && (t[b - 1] == '.' || t[b - 1] == ',' || t[b - 1] == '-' || t[b - 1] == '/') &&
      IsDigit(t[b - 2])) {
    return false;
  }
  if (e + 1 < t.size() && (t[e] == '.' || t[e] == ',' || t[e] == '/') && IsDigit(t[e + 1])) {
    return false;
  }
  return true;
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) {
    if (!IsDigit(c)) break;
    v = v * 10 + (c - '0');
    if (v > 100000) break;
  }
  return v;
}

// Splits "12/31/2023" into its digit groups.
std::vector<std::string_view> DigitGroups(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && !IsDigit(s[i])) ++i;
    std::size_t b = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

bool ValidNumericDate(std::string_view s) {
  auto g = DigitGroups(s);
  if (g.size() == 2) {  // m/yyyy
    int m = ToInt(g[0]), y = ToInt(g[1]);
    return m >= 1 && m <= 12 && y >= 1900 && y <= 2100;
  }
  if (g.size() != 3) return false;
  int a = ToInt(g[0]), b = ToInt(g[1]);
  if (g[2].size() == 4) {
    int y = ToInt(g[2]);
    if (y < 1880 || y > 2100) return false;
  }
  // Either month/day or day/month.
  bool md = a >= 1 && a <= 12 && b >= 1 && b <= 31;
  bool dm = b >= 1 && b <= 12 && a >= 1 && a <= 31;
  if (!md && !dm) return false;
  // "1.2.3"-style version numbers: a dotted form needs a four-digit year.
  if (s.find('.') != std::string_view::npos && g[2].size() != 4) return false;
  return true;
}

bool ValidIsoDate(std::string_view s) {
  auto g = DigitGroups(s);
  if (g.size() < 3) return false;
  int y = ToInt(g[0]), m = ToInt(g[1]), d = ToInt(g[2]);
  return y >= 1880 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

// Matches arrive per rule in end order; we keep, per rule and start, the longest end.
struct ScanCtx {
  std::string_view text;
  const std::vector<Rule>* rules;
  std::vector<Detector::RawMatch>* raw;
  std::vector<std::size_t>* last;  // per rule: index into raw of its latest match, or npos
};

// "3/1-3/5/2024": if the date at b is the second end of a range whose first end ("3/1-") has no
// year, the first end's start, else npos. The first end must start cleanly (not after a digit
// or a separator), so a run "1/1-1/1-1/1-..." has one range at most.
std::size_t DateRangeStart(std::string_view t, std::size_t b) {
  if (b < 4 || t[b - 1] != '-') return std::string_view::npos;
  std::size_t k = b - 1, day = 0, month = 0;
  while (k > 0 && IsDigit(t[k - 1]) && day < 3) --k, ++day;
  if (day < 1 || day > 2 || k < 2 || t[k - 1] != '/') return std::string_view::npos;
  std::size_t m = k - 1;
  while (m > 0 && IsDigit(t[m - 1]) && month < 3) --m, ++month;
  if (month < 1 || month > 2) return std::string_view::npos;
  if (m > 0 && (IsAlnum(t[m - 1]) || t[m - 1] == '-' || t[m - 1] == '/' || t[m - 1] == '.')) {
    return std::string_view::npos;
  }
  return m;
}

void Accept(ScanCtx* ctx, unsigned id, std::size_t b, std::size_t e) {
  // A match that starts inside a word can never pass (all rules need a left boundary), so it
  // is dropped here and pathological inputs (a long digit run) stay O(1) memory per start.
  const Rule& rule = (*ctx->rules)[id];
  if (b > 0 && rule.check != Check::kCustom) {
    char p = ctx->text[b - 1];
    if (IsAlnum(p)) return;
    // Nor can one that continues a separated group ("1-1-1-...", ":::..."): only the first
    // group of a run starts a match, which keeps long runs from storing a match per group.
    if ((p == '-' || p == '/' || p == '.' || p == ':') && b > 1 && IsAlnum(ctx->text[b - 2]) &&
        rule.check != Check::kEmail &&
        !(rule.check == Check::kDateNumeric &&
          DateRangeStart(ctx->text, b) != std::string_view::npos)) {
      return;
    }
    if (p == ':' && rule.check == Check::kIpv6) return;
  }
  std::size_t& li = (*ctx->last)[id];
  if (li != std::string::npos && (*ctx->raw)[li].from == b) {
    (*ctx->raw)[li].to = std::max((*ctx->raw)[li].to, e);
    return;
  }
  li = ctx->raw->size();
  ctx->raw->push_back({id, b, e});
}

// Rules read by NativeNumbers instead of Hyperscan. Generic digit identifiers ("id.digits",
// `#?\d{2,}([-/ ]?\d{2,}){0,3}`) match at almost every number; NPI, DEA and VIN are
// fixed-width runs of letters and digits that, as Hyperscan patterns, made the whole stage-1
// scan 20% slower. Same results as the patterns: each match end is reported once, with its
// leftmost start, and a start keeps its longest end.
using NativeIds = Detector::NativeIds;
constexpr unsigned kNoRule = NativeIds::kNoRule;

// Where a native rule's pattern id goes in `ids`; nullptr for a rule Hyperscan runs.
unsigned* NativeSlot(NativeIds& ids, std::string_view rule_id) {
  if (rule_id == "id.digits") return &ids.digits;
  if (rule_id == "npi") return &ids.npi;
  if (rule_id == "dea") return &ids.dea;
  if (rule_id == "vin") return &ids.vin;
  return nullptr;
}
bool IsNative(const Rule& r) {
  NativeIds ids;
  return NativeSlot(ids, r.id) != nullptr;
}

// True if the rule's match starts are found by a stage-2 scan (see ScanWindow): variable-width
// rules that Hyperscan does not already give the start of in stage 1.
bool NeedsStage2(const Rule& r, const std::array<unsigned, 2>& width) {
  return !IsNative(r) && width[0] != width[1] && (r.flags & kSom) == 0;
}

// True if one of the eight bytes at p is an ASCII digit or '#' (SWAR: per byte, the high bit
// of t + 0x50 is set for t >= '0' and that of t + 0x46 for t > '9'; a zero byte of x ^ '#'
// marks a '#', and a false positive there only costs a byte-wise look).
inline bool HasDigitOrHash8(const char* p) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  const std::uint64_t t = x & ~kHigh;
  const std::uint64_t digit = (t + 0x50 * kOnes) & ~(t + 0x46 * kOnes) & ~x & kHigh;
  const std::uint64_t h = x ^ (0x23 * kOnes);
  const std::uint64_t hash = (h - kOnes) & ~h & kHigh;
  return (digit | hash) != 0;
}

inline bool IsVinChar(char c) {
  return IsDigit(c) || (IsUpper(c) && c != 'I' && c != 'O' && c != 'Q');
}

// NPI `\d{10}`, DEA `[A-Z][A-Z9]\d{7}` and VIN `[A-HJ-NPR-Z0-9]{17}` around the digit run
// [q, r): a match must end where no letter or digit follows (EndCanPass) and Accept drops one
// that a letter or digit precedes, so each is a whole run of that shape.
void NativeFixedWidth(ScanCtx* ctx, const NativeIds& ids, std::size_t q, std::size_t r,
                      std::size_t* vin_done) {
  std::string_view t = ctx->text;
  const std::size_t n = t.size();
  const bool ends_run = r >= n || !IsAlnum(t[r]);
  if (ends_run && r - q == 10 && ids.npi != kNoRule) Accept(ctx, ids.npi, q, r);
  if (ends_run && ids.dea != kNoRule && r >= 9) {
    // Two letters then seven digits, or a letter, a 9 and seven digits (an eight-digit run).
    const std::size_t b = r - 9;
    const bool second = (r - q == 7 && IsUpper(t[b + 1])) || (r - q == 8 && t[b + 1] == '9');
    if (second && IsUpper(t[b])) Accept(ctx, ids.dea, b, r);
  }
  if (ids.vin == kNoRule || r <= *vin_done) return;
  // The letters-and-digits run around [q, r), looked at once.
  std::size_t a = q, z = r;
  while (a > 0 && q - a < 17 && IsAlnum(t[a - 1])) --a;
  while (z < n && z - a <= 17 && IsAlnum(t[z])) ++z;
  *vin_done = z;
  if (z - a != 17 || (a > 0 && IsAlnum(t[a - 1])) || (z < n && IsAlnum(t[z]))) return;
  for (std::size_t k = a; k < z; ++k) {
    if (!IsVinChar(t[k])) return;
  }
  Accept(ctx, ids.vin, a, z);
}

void NativeNumbers(ScanCtx* ctx, const NativeIds& ids) {
  const unsigned id = ids.digits;
  std::string_view t = ctx->text;
  const std::size_t n = t.size();
  const char* data = t.data();
  auto digit = [&](std::size_t k) { return k < n && static_cast<unsigned>(data[k] - '0') < 10U; };
  auto run_end = [&](std::size_t k) {
    while (digit(k)) ++k;
    return k;
  };
  std::size_t reach = 0;  // the furthest end reported so far (a later start gets only ends past it)
  std::size_t vin_done = 0;
  for (std::size_t i = 0; i < n; ++i) {
    // Skip eight bytes at a time while they hold no digit and no '#' (most of the text).
    while (i + 8 <= n && !HasDigitOrHash8(data + i)) i += 8;
    if (i >= n) break;
    char c = data[i];
    std::size_t q;
    if (c == '#') {
      if (!digit(i + 1)) continue;
      q = i + 1;
    } else if (static_cast<unsigned>(c - '0') < 10U) {
      if (i > 0 && (digit(i - 1) || data[i - 1] == '#')) continue;  // not a leftmost start
      q = i;
    } else {
      continue;
    }
    std::size_t r = run_end(q);
    NativeFixedWidth(ctx, ids, q, r, &vin_done);
    if (id == kNoRule) {
      i = r - 1;
      continue;
    }
    if (r - q < 2) {
      i = r - 1;
      continue;
    }
    std::size_t e = r;
    for (int reps = 0; reps < 3; ++reps) {
      std::size_t k = e;
      if (k < n && (data[k] == '-' || data[k] == '/' || data[k] == ' ')) ++k;
      std::size_t r2 = run_end(k);
      if (r2 - k < 2) break;
      e = r2;
    }
    if (e > reach) {
      Accept(ctx, id, i, e);
      reach = e;
    }
    i = r - 1;  // the rest of this digit run holds no leftmost start
  }
}

// Reads the identifier that follows a cue (after its separators), e.g. "#CC-7654321".
// Returns [b, e) or b == e if none. An identifier has at least two digits, or is a
// letters+digits code; it may be split in groups by '-', '/', '.', or single spaces between
// digit groups.
std::pair<std::size_t, std::size_t> IdAfter(std::string_view t, std::size_t pos) {
  std::size_t i = pos;
  std::size_t limit = std::min(t.size(), pos + 24);
  while (i < limit && (t[i] == ' ' || t[i] == '\t' || t[i] == ':' || t[i] == '=')) ++i;
  std::size_t b = i;
  if (i < t.size() && t[i] == '#') ++i;
  std::size_t digits = 0, alnum = 0;
  std::size_t e = i;
  std::size_t max_end = std::min(t.size(), b + 48);
  while (i < max_end) {
    char c = t[i];
    if (IsAlnum(c)) {
      if (IsDigit(c)) ++digits;
      ++alnum;
      ++i;
      e = i;
    } else if ((c == '-' || c == '/' || c == '.' || c == '_') && i + 1 < t.size() &&
               IsAlnum(t[i + 1])) {
      ++i;
    } else if (c == ' ' && digits > 0 && i + 1 < t.size() && IsDigit(t[i + 1]) && e > b &&
               IsDigit(t[e - 1])) {
      ++i;  // "123 456 789"
    } else {
      break;
    }
  }
  if (digits >= 2 || (digits >= 1 && alnum >= 4)) return {b, e};
  return {b, b};
}

// A cue's identifier may follow separators, as in "MRN: 123", "Policy no. 123", "Acct # is
// 123". The cue patterns end at the cue's last word (a separator tail in the pattern made
// Hyperscan report every way of reading it, and the stage-1 scan ~25% slower); this reads the
// tail instead: [ \t]*(#|no\.?|num(ber)?|id|is|:|=|-)?[ \t]*(#|no\.?|number|is|:)?[ \t]*
// in any case. Returns the furthest end of such a tail after `e` from which IdAfter reads an
// identifier, or npos if there is none.
std::size_t CueEnd(std::string_view t, std::size_t e) {
  auto blanks = [&](std::size_t p) {
    while (p < t.size() && (t[p] == ' ' || t[p] == '\t')) ++p;
    return p;
  };
  auto at = [&](std::size_t p, std::string_view w) {
    if (t.size() - p < w.size()) return false;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if ((t[p + i] | (IsAlnum(w[i]) ? 0x20 : 0)) != w[i]) return false;
    }
    return true;
  };
  // Also the last digits of a number: "SSN ends in 4821", "card ending in 1234", "SSN last
  // 4: 4821".
  static constexpr std::string_view kFirst[] = {
      "#",  "no", "no.", "num", "number", "id", "is", ":", "=", "-", "ends in", "ending in",
      "last 4 digits", "last four digits", "last 4", "last four"};
  static constexpr std::string_view kSecond[] = {"#", "no", "no.", "number", "is", ":"};
  std::size_t best = std::string::npos;
  auto consider = [&](std::size_t end) {
    if (best == std::string::npos || end > best) {
      auto [ib, ie] = IdAfter(t, end);
      if (ie > ib) best = end;
    }
  };
  auto second = [&](std::size_t p) {  // p: after the first group and its blanks
    consider(p);
    for (std::string_view w : kSecond) {
      if (at(p, w)) {
        consider(p + w.size());
        consider(blanks(p + w.size()));
      }
    }
  };
  const std::size_t p0 = blanks(e);  // IdAfter skips blanks too: ends inside them add nothing
  second(p0);
  for (std::string_view w : kFirst) {
    if (at(p0, w)) {
      consider(p0 + w.size());
      second(blanks(p0 + w.size()));
    }
  }
  return best;
}

// Stage 1: match ends only. Fixed-width rules know their start already.
struct Stage1Ctx {
  ScanCtx* ctx;
  const std::vector<std::array<unsigned, 2>>* widths;
  std::vector<std::vector<std::size_t>>* ends;
  std::vector<unsigned>* pending;  // rules with ends to resolve in stage 2
};

// False if a match of `r` ending at `e` can never become a candidate, whatever its start, so
// stage 2 need not look for the start (most ends of "Plan:" or "44-year-old" are dropped here).
// The tests mirror Validate's: a right word boundary, an identifier after a cue, an age > 89.
bool EndCanPass(const Rule& r, std::string_view t, std::size_t e, unsigned max_width) {
  switch (r.check) {
    case Check::kCue:
      return CueEnd(t, e) != std::string::npos;
    case Check::kAge: {
      if (e < t.size() && IsAlnum(t[e])) return false;
      // The match's only digit run is its number: read it backwards from the end.
      const std::size_t span = std::min<std::size_t>(max_width, 16);  // "129-years-old"
      std::size_t k = e, lo = e > span ? e - span : 0;
      while (k > lo && !IsDigit(t[k - 1])) --k;
      std::size_t de = k;
      while (k > 0 && IsDigit(t[k - 1]) && de - k < 4) --k;
      int age = ToInt(t.substr(k, de - k));
      return age >= 90 && age < 130;
    }
    case Check::kEmail:
    case Check::kIpv4:
    case Check::kSsn:
    case Check::kPhone:
    case Check::kDateNumeric:
    case Check::kDateIso:
    case Check::kDateMonth:
    case Check::kAgePrefix:
    case Check::kBirthYear:
    case Check::kMbi:
    case Check::kNpi:
    case Check::kDea:
    case Check::kVin:
    case Check::kIdAlpha:
      return e >= t.size() || !IsAlnum(t[e]);
    default:
      return true;
  }
}

// Reading a start backwards stops after this many bytes (stage 2 then finds it), which keeps
// a scan linear however many matches end inside one long run.
constexpr std::size_t kMaxNativeWalk = 4096;

// The leftmost start of an e-mail match that ends at `e` (stage 1 found one): the domain has
// no '@', so the match's '@' is the first byte back from `e` that is not a domain byte, and
// the local part is the longest run before it. npos if that is not certain within the walk.
std::size_t EmailStart(std::string_view t, std::size_t e) {
  const std::size_t lo = e > kMaxNativeWalk ? e - kMaxNativeWalk : 0;
  std::size_t k = e;
  while (k > lo && (IsAlnum(t[k - 1]) || t[k - 1] == '-' || t[k - 1] == '.')) --k;
  if (k == lo || t[k - 1] != '@') return std::string::npos;
  const std::size_t at = k - 1;
  k = at;
  auto local = [](char c) {
    return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
  };
  while (k > lo && local(t[k - 1])) --k;
  if (k == at || (k == lo && lo > 0)) return std::string::npos;
  return k;
}

// Start of the run of digits that ends at `e`, or npos if it reaches `lo` (and lo > 0).
std::size_t DigitRunStart(std::string_view t, std::size_t e, std::size_t lo) {
  std::size_t k = e;
  while (k > lo && IsDigit(t[k - 1])) --k;
  return (k == lo && lo > 0) ? std::string::npos : k;
}

// The leftmost start of an "id.alpha" match (`#?[A-Z]{1,5}-?\d{4,}(-\d{1,6})?` or
// `#?\d{4,}-?[A-Z]{1,4}`) that ends at `e`, read backwards; npos if none or not certain.
std::size_t IdAlphaStart(std::string_view t, std::size_t e) {
  constexpr std::size_t npos = std::string::npos;
  const std::size_t lo = e > kMaxNativeWalk ? e - kMaxNativeWalk : 0;
  if (e == 0) return npos;
  // `#?[A-Z]{1,5}-?` ending at k, where the digits begin.
  auto letters_before = [&](std::size_t k) -> std::size_t {
    if (k == npos) return npos;
    if (k > lo && t[k - 1] == '-') --k;
    std::size_t j = k;
    while (j > lo && k - j < 5 && IsUpper(t[j - 1])) --j;
    if (j == k) return npos;
    if (j > lo && t[j - 1] == '#') --j;
    return j;
  };
  if (IsDigit(t[e - 1])) {
    const std::size_t run = DigitRunStart(t, e, lo);
    if (run == npos) return npos;
    std::size_t best = npos;
    if (e - run >= 4) best = letters_before(run);  // no suffix
    // With the suffix "-" 1..6 digits: the digits before the dash are the main group.
    if (e - run <= 6 && run > lo + 1 && t[run - 1] == '-' && IsDigit(t[run - 2])) {
      const std::size_t main = DigitRunStart(t, run - 1, lo);
      if (main == npos) return npos;
      if (run - 1 - main >= 4) best = std::min(best, letters_before(main));
    }
    return best;
  }
  if (!IsUpper(t[e - 1])) return npos;
  std::size_t k = e;
  while (k > lo && e - k < 5 && IsUpper(t[k - 1])) --k;
  if (e - k > 4) return npos;  // five or more capitals: the letters cannot start the suffix
  if (k > lo && t[k - 1] == '-') --k;
  const std::size_t run = DigitRunStart(t, k, lo);
  if (run == npos || k - run < 4) return npos;
  return (run > lo && t[run - 1] == '#') ? run - 1 : run;
}

// Stage 2 is skipped where the start is known without it: Hyperscan tracked it (kSom), or a
// backward read finds it (the most frequent variable-width rules).
std::size_t KnownStart(const Rule& r, std::string_view t, std::size_t from, std::size_t e) {
  if ((r.flags & kSom) != 0) return from;
  if (r.check == Check::kEmail) return EmailStart(t, e);
  if (r.check == Check::kIdAlpha) return IdAlphaStart(t, e);
  return std::string::npos;
}

int OnEnd(unsigned id, unsigned long long from, unsigned long long to, unsigned /*flags*/,
          void* vctx) {
  auto* c = static_cast<Stage1Ctx*>(vctx);
  const auto& w = (*c->widths)[id];
  const Rule& rule = (*c->ctx->rules)[id];
  std::size_t e = static_cast<std::size_t>(to);
  if (!EndCanPass(rule, c->ctx->text, e, w[1])) return 0;
  if (w[0] == w[1]) {
    if (e >= w[0]) Accept(c->ctx, id, e - w[0], e);
    return 0;
  }
  if (std::size_t b = KnownStart(rule, c->ctx->text, static_cast<std::size_t>(from), e);
      b != std::string::npos) {
    Accept(c->ctx, id, b, e);
    return 0;
  }
  auto& v = (*c->ends)[id];
  if (v.empty()) c->pending->push_back(id);
  v.push_back(e);
  return 0;
}

// Stage 2: start-of-match scan of one rule over a window [ws, we) of the text.
struct Stage2Ctx {
  std::size_t ws;
  std::size_t min_end;  // ends before it belong to an earlier window
  std::vector<Detector::RawMatch>* found;
  bool truncated;  // a match starts at the window's first byte: its start may lie before it
};

int OnStart(unsigned id, unsigned long long from, unsigned long long to, unsigned /*flags*/,
            void* vctx) {
  auto* c = static_cast<Stage2Ctx*>(vctx);
  std::size_t b = c->ws + static_cast<std::size_t>(from), e = c->ws + static_cast<std::size_t>(to);
  if (e < c->min_end) return 0;
  if (from == 0 && c->ws > 0) c->truncated = true;
  c->found->push_back({id, b, e});
  return 0;
}

// The builtin rules' databases, serialised at build time (phi_db.cc, written by
// tools/phi/dbgen.cc), or empty.
//   "BGHS1" | u64 fingerprint | u32 count | count x { u32 rule (kStage1Entry: stage 1), u32 size, bytes }
constexpr std::string_view kDbMagic = "BGHS1";
constexpr std::uint32_t kStage1Entry = UINT32_MAX;

// The first 8 bytes of a SHA-256 of everything the compiled databases depend on: the rules
// (ids, expressions, flags; NUL-separated) and the Hyperscan version.
std::uint64_t RulesFingerprint(const std::vector<Rule>& rules) {
  std::string all(hs_version());
  for (const Rule& r : rules) {
    for (std::string_view part : {std::string_view(r.id), std::string_view(r.regex)}) {
      all += '\0';
      all += part;
    }
    all += '\0';
    all += std::to_string(r.flags);
    all += IsNative(r) ? 'N' : 'H';  // natives are left out of the databases
  }
  const core::Sha256Digest d = core::Sha256(all);
  std::uint64_t h;
  std::memcpy(&h, d.data(), sizeof(h));
  return h;
}

// INVALID_ARGUMENT naming the rule and Hyperscan's reason (consumes `err`). Only rule ids and
// the deployment's own expressions reach it, never text being scanned.
core::Status PatternError(std::string_view rule_id, hs_compile_error_t* err) {
  std::string msg = "PHI pattern does not compile: " + std::string(rule_id);
  if (err != nullptr) {
    if (err->message != nullptr) msg += std::string(" (") + err->message + ")";
    hs_free_compile_error(err);
  }
  return core::InvalidArgumentError(msg);
}

template <typename T>
void PutInt(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(v));
}

template <typename T>
bool GetInt(std::string_view& in, T* v) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(v, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

}  // namespace

core::Status Detector::CompileRules(std::size_t first, std::size_t last, hs_database** stage1) {
  std::vector<const char*> exprs;
  std::vector<unsigned> flags, ids;
  for (std::size_t i = first; i < last; ++i) {
    if (IsNative(rules_[i])) continue;
    exprs.push_back(rules_[i].regex.c_str());
    flags.push_back(rules_[i].flags);
    ids.push_back(static_cast<unsigned>(i));
  }
  if (exprs.empty()) return core::Status::Ok();
  // Stage-2 databases: one small start-of-match database per variable-width rule (small
  // databases compile fast; a scan runs only the rules that matched). They compile on a
  // second thread while stage 1 compiles here, which halves the compile time on two cores.
  std::size_t som_failed = SIZE_MAX;
  hs_compile_error_t* som_err = nullptr;
  std::thread som_thread([&] {
    for (std::size_t k = 0; k < ids.size(); ++k) {
      std::size_t i = ids[k];
      if (!NeedsStage2(rules_[i], widths_[i])) continue;
      unsigned id = ids[k];
      unsigned f = flags[k] | HS_FLAG_SOM_LEFTMOST;
      if (hs_compile_multi(exprs.data() + k, &f, &id, 1, HS_MODE_BLOCK, nullptr, &som_[i],
                           &som_err) != HS_SUCCESS) {
        som_failed = i;
        return;
      }
    }
  });
  hs_compile_error_t* err = nullptr;
  hs_error_t rc = hs_compile_multi(exprs.data(), flags.data(), ids.data(),
                                   static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr,
                                   stage1, &err);
  som_thread.join();
  if (rc != HS_SUCCESS) {
    if (som_err != nullptr) hs_free_compile_error(som_err);
    // Name the failing rule: ids[] maps the expression index back to the rule.
    std::size_t rule = first;
    if (err != nullptr && err->expression >= 0) rule = ids[static_cast<std::size_t>(err->expression)];
    return PatternError(rules_[rule].id, err);
  }
  if (som_failed != SIZE_MAX) return PatternError(rules_[som_failed].id, som_err);
  return core::Status::Ok();
}

bool Detector::LoadPrecompiled(std::string_view blob, std::size_t builtin) {
  if (blob.substr(0, kDbMagic.size()) != kDbMagic) return false;
  blob.remove_prefix(kDbMagic.size());
  std::uint64_t fingerprint = 0;
  std::uint32_t count = 0;
  if (!GetInt(blob, &fingerprint) || !GetInt(blob, &count)) return false;
  if (fingerprint != RulesFingerprint({rules_.begin(), rules_.begin() + static_cast<long>(builtin)})) {
    return false;
  }
  std::vector<hs_database*> loaded(builtin, nullptr);
  hs_database* stage1 = nullptr;
  auto discard = [&] {
    for (hs_database* db : loaded) {
      if (db != nullptr) hs_free_database(db);
    }
    if (stage1 != nullptr) hs_free_database(stage1);
    return false;
  };
  for (std::uint32_t k = 0; k < count; ++k) {
    std::uint32_t rule = 0, size = 0;
    if (!GetInt(blob, &rule) || !GetInt(blob, &size) || blob.size() < size) return discard();
    if (rule != kStage1Entry && rule >= builtin) return discard();
    hs_database*& slot = rule == kStage1Entry ? stage1 : loaded[rule];
    if (slot != nullptr) return discard();
    // Fails with HS_DB_PLATFORM_ERROR where the CPU lacks what the build machine had.
    if (hs_deserialize_database(blob.data(), size, &slot) != HS_SUCCESS) {
      slot = nullptr;
      return discard();
    }
    blob.remove_prefix(size);
  }
  for (std::size_t i = 0; i < builtin; ++i) {
    bool wants = NeedsStage2(rules_[i], widths_[i]);
    if (wants != (loaded[i] != nullptr)) return discard();
  }
  if (stage1 == nullptr || !blob.empty()) return discard();
  stage1_ = stage1;
  for (std::size_t i = 0; i < builtin; ++i) som_[i] = loaded[i];
  return true;
}

core::Status Detector::CompileLists() {
  std::vector<const char*> lits;
  std::vector<std::size_t> lens;
  std::vector<unsigned> flags, ids;
  auto add = [&](const std::vector<std::string>& phrases, PhiClass cls, unsigned f) {
    for (const std::string& p : phrases) {
      if (p.empty()) continue;
      ids.push_back(static_cast<unsigned>(list_class_.size()));
      list_class_.push_back(cls);
      lits.push_back(p.data());
      lens.push_back(p.size());
      flags.push_back(f | HS_FLAG_SOM_LEFTMOST);
    }
  };
  add(dicts_->roster_phrases(), PhiClass::kName, HS_FLAG_CASELESS);
  add(dicts_->facility_phrases(), PhiClass::kLocation, 0);
  if (lits.empty()) return core::Status::Ok();
  hs_compile_error_t* err = nullptr;
  if (hs_compile_lit_multi(lits.data(), flags.data(), ids.data(), lens.data(),
                           static_cast<unsigned>(lits.size()), HS_MODE_BLOCK, nullptr, &lists_,
                           &err) != HS_SUCCESS) {
    // The message names no entry: the lists hold PHI.
    if (err != nullptr) hs_free_compile_error(err);
    return core::InvalidArgumentError("the roster or facility list does not compile");
  }
  return core::Status::Ok();
}

core::Result<std::string> Detector::SerializeBuiltinDatabases() {
  DetectorOptions options;
  options.precompiled_blob = std::string_view();  // compile them
  auto det = Create(std::move(options));
  if (!det.ok()) return det.status();
  const Detector& d = **det;
  std::string out(kDbMagic);
  PutInt(out, RulesFingerprint(d.rules_));
  std::vector<std::pair<std::uint32_t, hs_database*>> dbs{{kStage1Entry, d.stage1_}};
  for (std::size_t i = 0; i < d.som_.size(); ++i) {
    if (d.som_[i] != nullptr) dbs.emplace_back(static_cast<std::uint32_t>(i), d.som_[i]);
  }
  PutInt(out, static_cast<std::uint32_t>(dbs.size()));
  for (const auto& [rule, db] : dbs) {
    char* bytes = nullptr;
    std::size_t size = 0;
    if (hs_serialize_database(db, &bytes, &size) != HS_SUCCESS) {
      return core::InternalError("hyperscan serialisation failed");
    }
    PutInt(out, rule);
    PutInt(out, static_cast<std::uint32_t>(size));
    out.append(bytes, size);
    std::free(bytes);
  }
  return out;
}

core::Result<std::shared_ptr<const Detector>> Detector::Create(DetectorOptions options) {
  std::shared_ptr<Detector> d(new Detector());
  d->dicts_ = Dictionaries::Build(options.extras);
  d->rules_ = BuiltinRules();
  const std::size_t builtin = d->rules_.size();
  for (const CustomPattern& p : options.custom_patterns) {
    d->rules_.push_back({"custom." + p.name, p.regex, p.caseless ? kCi : 0U, p.cls, 0.95F,
                         Check::kCustom});
  }
  const std::size_t n = d->rules_.size();
  for (std::size_t i = 0; i < builtin; ++i) {
    if (unsigned* slot = NativeSlot(d->native_ids_, d->rules_[i].id)) {
      *slot = static_cast<unsigned>(i);
    }
  }
  d->widths_.assign(n, {0U, 0U});
  d->som_.assign(n, nullptr);
  for (std::size_t i = 0; i < n; ++i) {
    const Rule& r = d->rules_[i];
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_expression_info(r.regex.c_str(), r.flags, &info, &err) != HS_SUCCESS) {
      return PatternError(r.id, err);
    }
    d->widths_[i] = {info->min_width, info->max_width};
    std::free(info);
  }
  // The builtin rules come precompiled unless the blob is missing, stale or made for another
  // CPU; custom patterns always compile here, into a database of their own.
  d->precompiled_ = d->LoadPrecompiled(
      options.precompiled_blob.value_or(generated::PrecompiledDatabases()), builtin);
  if (!d->precompiled_) {
    if (core::Status s = d->CompileRules(0, builtin, &d->stage1_); !s.ok()) return s;
  }
  if (core::Status s = d->CompileRules(builtin, n, &d->custom1_); !s.ok()) return s;
  if (core::Status s = d->CompileLists(); !s.ok()) return s;
  for (hs_database* db : {d->stage1_, d->custom1_, d->lists_}) {
    if (db != nullptr && hs_alloc_scratch(db, &d->prototype_) != HS_SUCCESS) {
      return core::InternalError("hyperscan scratch allocation failed");
    }
  }
  for (hs_database* db : d->som_) {
    if (db != nullptr && hs_alloc_scratch(db, &d->prototype_) != HS_SUCCESS) {
      return core::InternalError("hyperscan scratch allocation failed");
    }
  }
  d->options_ = std::move(options);
  return std::shared_ptr<const Detector>(std::move(d));
}

Detector::~Detector() {
  for (hs_scratch* s : free_scratch_) hs_free_scratch(s);
  if (prototype_ != nullptr) hs_free_scratch(prototype_);
  if (stage1_ != nullptr) hs_free_database(stage1_);
  if (custom1_ != nullptr) hs_free_database(custom1_);
  if (lists_ != nullptr) hs_free_database(lists_);
  for (hs_database* db : som_) {
    if (db != nullptr) hs_free_database(db);
  }
}

hs_scratch* Detector::AcquireScratch() const {
  {
    std::lock_guard<std::mutex> lock(scratch_mu_);
    if (!free_scratch_.empty()) {
      hs_scratch* s = free_scratch_.back();
      free_scratch_.pop_back();
      return s;
    }
  }
  hs_scratch* s = nullptr;
  if (hs_clone_scratch(prototype_, &s) != HS_SUCCESS) return nullptr;
  return s;
}

void Detector::ReleaseScratch(hs_scratch* s) const {
  std::lock_guard<std::mutex> lock(scratch_mu_);
  free_scratch_.push_back(s);
}

namespace {

// True if t[b, e) is a number (digits, ',' and '.'; also '-', '/' and ' ' between groups if
// `groups`, for ranges) of at most `max_digits` digits followed by a unit word: a quantity.
bool QuantityWithUnit(std::string_view t, std::size_t b, std::size_t e, std::size_t max_digits,
                      bool groups) {
  std::size_t digits = 0;
  for (std::size_t k = b; k < e; ++k) {
    const char c = t[k];
    if (IsDigit(c)) {
      ++digits;
    } else if (c != ',' && c != '.' && !(groups && (c == '-' || c == '/' || c == ' '))) {
      return false;
    }
  }
  if (digits == 0 || digits > max_digits) return false;
  std::size_t k = e;
  while (k < t.size() && t[k] == ' ') ++k;
  std::size_t w = k;
  while (w < t.size() && std::isalpha(static_cast<unsigned char>(t[w]))) ++w;
  return IsUnitWord(t.substr(k, w - k));
}

// Turns a validated raw match into zero or more candidates.
void Validate(std::string_view t, const Rule& r, const Detector::RawMatch& m,
              const Dictionaries& dicts, std::vector<Candidate>& out) {
  std::size_t b = m.from, e = m.to;
  std::string_view s = t.substr(b, e - b);
  auto add = [&](std::size_t cb, std::size_t ce, PhiClass cls, float conf) {
    if (ce > cb) out.push_back({cb, ce, cls, conf, r.id});
  };
  switch (r.check) {
    case Check::kPlain:
    case Check::kCustom:
      add(b, e, r.cls, r.conf);
      return;
    case Check::kEmail:
      if (AtWordBoundary(t, b, e)) add(b, e, r.cls, r.conf);
      return;
    case Check::kUrl: {
      while (e > b && std::strchr(".,;:!?'\"", t[e - 1]) != nullptr) --e;
      if (e > b && AtWordBoundary(t, b, e) && (e < t.size() ? t[e] != '@' : true)) {
        // A bare domain must not be part of an e-mail address or a file name like "a.py".
        if (r.id == "url.domain" && b > 0 && t[b - 1] == '@') return;
        add(b, e, r.cls, r.conf);
      }
      return;
    }
    case Check::kIpv4: {
      if (!NumericBoundary(t, b, e)) return;
      if (b > 0 && t[b - 1] == '.') return;
      for (std::string_view g : DigitGroups(s)) {
        if (ToInt(g) > 255 || (g.size() > 1 && g[0] == '0' && g.size() == 3 && ToInt(g) == 0)) return;
      }
      add(b, e, r.cls, r.conf);
      return;
    }
    case Check::kIpv6: {
      while (e > b && (t[e - 1] == '.' || t[e - 1] == ':') && !(e - b >= 2 && t[e - 2] == ':')) --e;
      if (e - b < 3 || e - b > 45 || !AtWordBoundary(t, b, e)) return;
      std::string tmp(t.substr(b, e - b));
      unsigned char buf[16];
      if (std::count(tmp.begin(), tmp.end(), ':') < 2) return;
      if (inet_pton(AF_INET6, tmp.c_str(), buf) != 1) return;
      add(b, e, r.cls, r.conf);
      return;
    }
    case Check::kSsn: {
      if (!NumericBoundary(t, b, e)) return;
      auto g = DigitGroups(s);
      int area = ToInt(g[0]);
      bool valid = area != 0 && area != 666 && area < 900 && ToInt(g[1]) != 0 && ToInt(g[2]) != 0;
      add(b, e, r.cls, valid ? r.conf : r.conf - 0.1F);
      return;
    }
    case Check::kPhone: {
      if (b > 0 && (IsDigit(t[b - 1]) || t[b - 1] == '.' || t[b - 1] == '-')) return;
      if (e < t.size() && IsAlnum(t[e])) return;
      add(b, e, r.cls, r.conf);
      return;
    }
    case Check::kDateNumeric: {
      // "3/1-3/5/2024" is one finding, from the range's first end (NumericBoundary refuses a
      // start after a digit and '-', which is part of a longer number elsewhere).
      const std::size_t range = DateRangeStart(t, b);
      const std::size_t from = range != std::string_view::npos ? range : b;
      if (NumericBoundary(t, from, e) && ValidNumericDate(s)) add(from, e, r.cls, r.conf);
      return;
    }
    case Check::kDateIso:
      if (NumericBoundary(t, b, e) && ValidIsoDate(s)) add(b, e, r.cls, r.conf);
      return;
    case Check::kDateMonth: {
      if (!AtWordBoundary(t, b, e)) return;
      // The month word must be capitalised ("May 5", not "may 5 patients").
      std::size_t mpos = b;
      while (mpos < e && !std::isalpha(static_cast<unsigned char>(t[mpos]))) ++mpos;
      // For "5th of May", skip the ordinal and "of".
      if (IsDigit(t[b])) {
        mpos = b;
        while (mpos < e && (IsDigit(t[mpos]) || t[mpos] == ' ' || t[mpos] == '\t' ||
                            t[mpos] == '-' || t[mpos] == '/')) {
          ++mpos;
        }
        std::string_view rest = t.substr(mpos, e - mpos);
        for (std::string_view skip : {"st", "nd", "rd", "th"}) {
          if (rest.substr(0, 2) == skip) {
            mpos += 2;
            break;
          }
        }
        while (mpos < e && t[mpos] == ' ') ++mpos;
        if (t.substr(mpos, 3) == "of ") mpos += 3;
        while (mpos < e && t[mpos] == ' ') ++mpos;
      }
      if (mpos >= e || !IsUpper(t[mpos])) return;
      // A day must be a valid day of the month.
      auto g = DigitGroups(s);
      if (!g.empty() && g[0].size() <= 2 && (ToInt(g[0]) < 1 || ToInt(g[0]) > 31)) return;
      if (r.id == "date.month_year_words") {
        int y = ToInt(g.back());
        if (y < 1880 || y > 2100) return;
      }
      add(b, e, r.cls, r.conf);
      return;
    }
    case Check::kAge: {
      if (!AtWordBoundary(t, b, e) && !(e < t.size() && t[e] == '-')) return;
      if (b > 0 && (t[b - 1] == '.' || t[b - 1] == ',')) return;
      auto g = DigitGroups(s);
      if (g.empty()) return;
      int age = ToInt(g[0]);
      if (age >= 90 && age < 130) add(b, e, r.cls, r.conf);
      return;
    }
    case Check::kAgePrefix: {
      if (!AtWordBoundary(t, b, e)) return;
      auto g = DigitGroups(s);
      int age = g.empty() ? 0 : ToInt(g.back());
      if (age >= 90 && age < 130) add(b, e, r.cls, r.conf);
      return;
    }
    case Check::kBirthYear: {
      if (!AtWordBoundary(t, b, e)) return;
      auto g = DigitGroups(s);
      int y = g.empty() ? 0 : ToInt(g.back());
      // Conservative: any birth year that could mean an age over 89 today (2026 - 89).
      if (y >= 1850 && y <= 1937) {
        std::size_t yb = e - 4;
        add(yb, e, r.cls, r.conf);
      }
      return;
    }
    case Check::kCue: {
      if (b > 0 && IsAlnum(t[b - 1])) return;
      e = CueEnd(t, e);  // the cue with its separators ("MRN #: ")
      if (e == std::string::npos) return;
      s = t.substr(b, e - b);
      // The cue must end at a word boundary (cue "plan" must not match "planned").
      std::size_t ce = e;
      while (ce > b && (t[ce - 1] == ' ' || t[ce - 1] == '\t')) --ce;
      if (ce < t.size() && IsAlnum(t[ce]) && ce > b && IsAlnum(t[ce - 1])) return;
      auto [ib, ie] = IdAfter(t, e);
      if (ie <= ib) return;
      // A number followed by a unit is a quantity ("plan: 500 mg"), not an identifier; a
      // cued code with letters or groups, or a long digit run ("SSN no 123456789 x"), is not.
      if (QuantityWithUnit(t, ib, ie, /*max_digits=*/6, /*groups=*/false)) return;
      // "Medicare #AB-987654" and "Site ID: 98765": the cue names the identifier's issuer,
      // so it goes with the identifier.
      if (r.cls == PhiClass::kUniqueId ||
          (r.cls == PhiClass::kHealthPlan &&
           (s.substr(0, 8) == "Medicare" || s.substr(0, 8) == "Medicaid") &&
           (t[ib] == '#' || s.find('#') != std::string_view::npos))) {
        ib = b;
      }
      // Words ("plan is to start") are not identifiers: the id needs a digit.
      add(ib, ie, r.cls, r.conf);
      return;
    }
    case Check::kAddressCue: {
      if (b > 0 && IsAlnum(t[b - 1])) return;
      if (e > b && IsAlnum(t[e - 1]) && e < t.size() && IsAlnum(t[e])) return;
      // "IP address", "e-mail address", "web address": not a place (the value has its own
      // rule), and the rest of the sentence is not an address.
      {
        std::size_t we = b;
        while (we > 0 && (t[we - 1] == ' ' || t[we - 1] == '\t')) --we;
        std::size_t ws = we;
        while (ws > 0 && (IsAlnum(t[ws - 1]) || t[ws - 1] == '-')) --ws;
        std::string word(t.substr(ws, we - ws));
        for (char& ch : word) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        static constexpr std::string_view kNotPostal[] = {
            "ip", "ipv4", "ipv6", "email", "e-mail", "web", "website", "url", "mac", "server",
            "memory", "wallet", "bitcoin", "network", "internet"};
        if (we > ws && std::find(std::begin(kNotPostal), std::end(kNotPostal), word) !=
                           std::end(kNotPostal)) {
          return;
        }
      }
      // The address runs to the end of the line or sentence (at most 160 bytes).
      std::size_t limit = std::min(t.size(), e + 160);
      std::size_t end = e;
      bool digit = false;
      for (std::size_t k = e; k < limit; ++k) {
        char c = t[k];
        if (c == '\n' || c == '\r' || c == '?' || c == '!' || c == ';' || c == '"') break;
        if (c == '.' && (k + 1 >= t.size() || t[k + 1] == ' ' || t[k + 1] == '\n') &&
            !(k > 0 && IsUpper(t[k - 1]) && (k < 2 || !IsAlnum(t[k - 2])))) {
          break;  // a sentence end (but not "St." or "u.")
        }
        if (IsDigit(c)) digit = true;
        end = k + 1;
      }
      while (end > e && (t[end - 1] == ' ' || t[end - 1] == ',' || t[end - 1] == '.')) --end;
      if (digit && end > e) add(e, end, r.cls, r.conf);
      return;
    }
    case Check::kMbi:
      if (AtWordBoundary(t, b, e)) add(b, e, r.cls, r.conf);
      return;
    case Check::kNpi:
      if (NumericBoundary(t, b, e) && ValidNpi(s)) add(b, e, r.cls, r.conf);
      return;
    case Check::kDea:
      if (AtWordBoundary(t, b, e) && ValidDea(s)) add(b, e, r.cls, r.conf);
      return;
    case Check::kVin:
      if (AtWordBoundary(t, b, e) && ValidVin(s)) add(b, e, r.cls, r.conf);
      return;
    case Check::kIdDigits: {
      while (e > b && (t[e - 1] == ' ' || t[e - 1] == '-' || t[e - 1] == '/')) --e;
      s = t.substr(b, e - b);
      if (!NumericBoundary(t, b, e)) return;
      std::size_t digits = 0;
      for (char c : s) digits += IsDigit(c) ? 1 : 0;
      bool grouped = s.find_first_of("-/ ") != std::string_view::npos;
      if (digits < (grouped ? 6U : 5U)) return;
      // A plain 5-digit number is an identifier only next to a state ("IL 60601", a ZIP).
      if (!grouped && digits == 5) {
        if (b >= 3 && t[b - 1] == ' ' && IsUpper(t[b - 2]) && IsUpper(t[b - 3]) &&
            dicts.IsStateAbbr(t.substr(b - 3, 2))) {
          add(b, e, PhiClass::kLocation, 0.9F);
        }
        return;
      }
      // "1,000,000" and quantities with units ("100-200 mg") are not identifiers; nine digits
      // or more are, whatever follows.
      if (QuantityWithUnit(t, b, e, /*max_digits=*/8, /*groups=*/true)) return;
      if (s.find(' ') != std::string_view::npos && s.find('-') == std::string_view::npos &&
          digits < 7) {
        return;
      }
      add(b, e, r.cls, r.conf);
      return;
    }
    case Check::kIdAlpha:
      if (AtWordBoundary(t, b, e)) add(b, e, r.cls, r.conf);
      return;
  }
}

struct ListCtx {
  std::string_view text;
  std::size_t off;
  const std::vector<PhiClass>* cls;
  std::vector<Candidate>* out;
};

int OnListMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned /*flags*/,
                void* vctx) {
  auto* c = static_cast<ListCtx*>(vctx);
  std::size_t b = c->off + static_cast<std::size_t>(from), e = c->off + static_cast<std::size_t>(to);
  // Whole words only: "Ann Lee" is not inside "Joann Leeds".
  if (AtWordBoundary(c->text, b, e)) {
    bool roster = (*c->cls)[id] == PhiClass::kName;
    c->out->push_back({b, e, (*c->cls)[id], 0.99F, roster ? "name.roster" : "location.custom"});
  }
  return 0;
}


}  // namespace

struct Detector::ScanState {
  std::vector<RawMatch> raw;
  std::vector<std::size_t> last;
  std::vector<std::vector<std::size_t>> ends;
  std::vector<unsigned> pending;
  std::vector<RawMatch> found;
  std::vector<Candidate> cands;

  // Keeps the buffers of ordinary texts across scans but not those of a huge one.
  void Trim() {
    constexpr std::size_t kKeep = std::size_t{1} << 16;
    if (raw.capacity() > kKeep) std::vector<RawMatch>().swap(raw);
    if (found.capacity() > kKeep) std::vector<RawMatch>().swap(found);
    if (cands.capacity() > kKeep) std::vector<Candidate>().swap(cands);
    for (auto& v : ends) {
      if (v.capacity() > kKeep) std::vector<std::size_t>().swap(v);
    }
  }
};

bool Detector::ScanWindow(std::string_view text, std::size_t off, std::size_t len,
                          hs_scratch* scratch, ScanState& st) const {
  std::string_view win = text.substr(off, len);
  std::size_t before = st.raw.size();
  std::fill(st.last.begin(), st.last.end(), std::string::npos);
  ScanCtx ctx{win, &rules_, &st.raw, &st.last};
  Stage1Ctx c1{&ctx, &widths_, &st.ends, &st.pending};
  st.pending.clear();
  for (hs_database* db : {stage1_, custom1_}) {
    if (db != nullptr &&
        hs_scan(db, win.data(), static_cast<unsigned>(len), 0, scratch, OnEnd, &c1) != HS_SUCCESS) {
      return false;
    }
  }
  // Roster and facility names become candidates directly (offsets in the whole text).
  if (lists_ != nullptr) {
    ListCtx lc{text, off, &list_class_, &st.cands};
    if (hs_scan(lists_, win.data(), static_cast<unsigned>(len), 0, scratch, OnListMatch, &lc) !=
        HS_SUCCESS) {
      return false;
    }
  }
  for (unsigned id : st.pending) {
    std::vector<std::size_t>& ends = st.ends[id];
    if (!std::is_sorted(ends.begin(), ends.end())) std::sort(ends.begin(), ends.end());
    const bool bounded = widths_[id][1] != UINT_MAX;
    // Unbounded rules (e-mail local parts, "MRN:" followed by any run of blanks) start with a
    // short lookback that doubles while a match may begin before the window.
    constexpr std::size_t kUnboundedLookback = 40;
    const std::size_t lookback = bounded ? widths_[id][1] : kUnboundedLookback;
    std::size_t i = 0;
    while (i < ends.size()) {
      auto start_of = [&](std::size_t e, std::size_t lb) { return e > lb ? e - lb : 0; };
      std::size_t we = ends[i];
      std::size_t j = i + 1;
      while (j < ends.size() && start_of(ends[j], lookback) <= we) we = ends[j++];
      std::size_t lb = lookback;
      while (true) {
        std::size_t ws = start_of(ends[i], lb);
        st.found.clear();
        Stage2Ctx c2{ws, ends[i], &st.found, false};
        if (hs_scan(som_[id], win.data() + ws, static_cast<unsigned>(we - ws), 0, scratch, OnStart,
                    &c2) != HS_SUCCESS) {
          return false;
        }
        // Every stage-1 end must be found again with a start inside the window; otherwise
        // widen the window (only unbounded rules can need it). Only the wanted ends count:
        // the window also holds ends EndCanPass dropped. Both lists are in end order.
        // The lookback stops doubling at kMaxLookback (a longer match keeps a later start, as
        // the window overlap does): without the cap, one end that is not found again would
        // rescan ever longer prefixes of a huge text.
        constexpr std::size_t kMaxLookback = 4096;
        bool complete = bounded || ws == 0 || lb >= kMaxLookback;
        if (!complete && !c2.truncated) {
          std::size_t wanted = i, seen = 0;
          for (const RawMatch& m : st.found) {
            while (wanted < j && ends[wanted] < m.to) ++wanted;
            if (wanted < j && ends[wanted] == m.to) {
              ++seen;
              ++wanted;
            }
          }
          complete = seen == j - i;
        }
        if (complete) break;
        lb *= 2;
      }
      for (const RawMatch& m : st.found) Accept(&ctx, m.id, m.from, m.to);
      i = j;
    }
    ends.clear();
  }
  NativeNumbers(&ctx, native_ids_);
  if (off != 0) {
    for (std::size_t k = before; k < st.raw.size(); ++k) {
      st.raw[k].from += off;
      st.raw[k].to += off;
    }
  }
  return true;
}


core::Result<std::vector<Finding>> Detector::Scan(std::string_view text) const {
  // Per-thread buffers: a scan allocates nothing once they have grown to the usual sizes.
  thread_local ScanState st;
  st.cands.clear();
  if (!text.empty()) {
    st.raw.clear();
    st.last.assign(rules_.size(), std::string::npos);
    if (st.ends.size() < rules_.size()) st.ends.resize(rules_.size());
    hs_scratch* scratch = AcquireScratch();
    if (scratch == nullptr) return core::InternalError("hyperscan scratch allocation failed");
    // Hyperscan takes lengths as unsigned int: scan very large texts in windows that overlap by
    // more than the longest structured match, so nothing at a window edge is missed.
    constexpr std::size_t kWindow = std::size_t{1} << 30;
    constexpr std::size_t kOverlap = 4096;
    bool ok = true;
    for (std::size_t off = 0; off < text.size() && ok; off += kWindow - kOverlap) {
      std::size_t len = std::min(kWindow, text.size() - off);
      ok = ScanWindow(text, off, len, scratch, st);
      if (off + len >= text.size()) break;
    }
    ReleaseScratch(scratch);
    if (!ok) {
      for (auto& v : st.ends) v.clear();
      st.Trim();
      return core::InternalError("hyperscan scan failed");
    }
    for (const RawMatch& m : st.raw) Validate(text, rules_[m.id], m, *dicts_, st.cands);
    RunTokenRules(text, *dicts_, st.cands);
  }
  auto out = Resolve(text, st.cands, options_.thresholds, *dicts_);
  st.Trim();
  return out;
}

}  // namespace baagate::phi
