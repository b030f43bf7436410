#include "phi/detector.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "phi/utf8.h"
#include "phi/validators.h"

namespace baagate::phi {
namespace {

const Detector& Shared() {
  static const std::shared_ptr<const Detector> d = [] {
    auto r = Detector::Create();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  }();
  return *d;
}

std::vector<Finding> Scan(std::string_view text) {
  auto r = Shared().Scan(text);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::vector<Finding>{};
}

// The single finding covering `value` in `text`, or nullptr.
const Finding* Covering(const std::vector<Finding>& fs, std::string_view text,
                        std::string_view value) {
  std::size_t b = text.find(value);
  if (b == std::string_view::npos) return nullptr;
  for (const Finding& f : fs) {
    if (f.begin <= b && f.end >= b + value.size()) return &f;
  }
  return nullptr;
}

struct Case {
  std::string text;
  std::string value;
  PhiClass cls;
};

TEST(PhiDetector, FindsEverySafeHarborClassInContext) {
  const std::vector<Case> cases = {
      {"Follow-up for Sarah P. next week.", "Sarah P.", PhiClass::kName},
      {"Seen by Dr. Anna Smith yesterday.", "Dr. Anna Smith", PhiClass::kName},
      {"Pt. Hernandez reports chest pain.", "Pt. Hernandez", PhiClass::kName},
      {"His wife Margarethe called.", "Margarethe", PhiClass::kName},
      {"Lives at 123 Maple Street, Chicago, IL 60601 with family.",
       "123 Maple Street, Chicago, IL 60601", PhiClass::kLocation},
      {"Admitted to St. Mary's Hospital in Chicago overnight.", "St. Mary's Hospital in Chicago",
       PhiClass::kLocation},
      {"Transferred from Mt. Sinai last night.", "Mt. Sinai", PhiClass::kLocation},
      {"She lives in Cook County now.", "Cook County", PhiClass::kLocation},
      {"Mailing ZIP: 94110 on file.", "94110", PhiClass::kLocation},
      {"zip code 02115-1234 on the form", "02115-1234", PhiClass::kLocation},
      {"Postal code: 3520 (abroad).", "3520", PhiClass::kLocation},
      {"Lives in Boise, Idaho 83702 with his son.", "83702", PhiClass::kLocation},
      {"Moved to Albany, New York 12203-4567 last year.", "12203-4567", PhiClass::kLocation},
      {"Her daughter, Keisha Washington, can be reached.", "Keisha Washington", PhiClass::kName},
      {"Patient states her name is lucy chen and she is 52.", "lucy chen", PhiClass::kName},
      {"Chart note by R. Gutierrez, RN, at noon.", "R. Gutierrez", PhiClass::kName},
      {"R. Kowalczyk, RN reviewed the orders.", "R. Kowalczyk", PhiClass::kName},
      {"He is ninety-four years old and well.", "ninety-four years old", PhiClass::kAge},
      {"A one hundred and two year-old woman.", "one hundred and two year-old", PhiClass::kAge},
      {"Aged ninety-one, she lives alone.", "ninety-one", PhiClass::kAge},
      {"Admitted 3/1-3/5/2024 for CHF.", "3/1-3/5/2024", PhiClass::kDate},
      {"Mrs. Reyes, 67, from Queens, NY, came alone.", "Queens", PhiClass::kLocation},
      {"Visit on March 5th, 2021 went well.", "March 5th, 2021", PhiClass::kDate},
      {"Admission date: 02-Feb-2024.", "02-Feb-2024", PhiClass::kDate},
      {"Seen 2/Feb/24 in clinic.", "2/Feb/24", PhiClass::kDate},
      {"Visit on 08/18/2023 went well.", "08/18/2023", PhiClass::kDate},
      {"Visit on 2023-08-18T10:30:00Z went well.", "2023-08-18T10:30:00Z", PhiClass::kDate},
      {"Seen on the 15th of January 2022.", "15th of January 2022", PhiClass::kDate},
      {"A 94-year-old woman with CHF.", "94-year-old", PhiClass::kAge},
      {"Patient born in 1929 with dementia.", "1929", PhiClass::kDate},
      {"Call (310) 555-1234 after 5pm.", "(310) 555-1234", PhiClass::kPhone},
      {"Fax: 212-555-1234 for records.", "212-555-1234", PhiClass::kFax},
      {"Email jane.e@example.com today.", "jane.e@example.com", PhiClass::kEmail},
      {"SSN 123-45-6789 on file.", "123-45-6789", PhiClass::kSsn},
      {"Last four of SSN: 6789 verified.", "6789", PhiClass::kSsn},
      {"(MRN: #CC-7654321) reviewed.", "#CC-7654321", PhiClass::kMrn},
      {"Member ID: XYZ-987654 is active.", "XYZ-987654", PhiClass::kHealthPlan},
      {"Medicare MBI 1EG4-TE5-MK73 verified.", "1EG4-TE5-MK73", PhiClass::kHealthPlan},
      {"Acct#: SH-456789 billed.", "SH-456789", PhiClass::kAccount},
      // Separators between a cue and its identifier.
      {"Policy No. 44556677 on file.", "44556677", PhiClass::kHealthPlan},
      {"Account number is 99887766, closed.", "99887766", PhiClass::kAccount},
      {"Serial num 7766-55 checked.", "7766-55", PhiClass::kDevice},
      // A long digit run is an identifier even before a unit-like word.
      {"SSN no 123456789 x", "123456789", PhiClass::kSsn},
      {"Prescriber NPI 1234567893 signed.", "1234567893", PhiClass::kLicense},
      {"DEA AB1234563 on the script.", "AB1234563", PhiClass::kLicense},
      {"Driver's license number D1234-5678 seen.", "D1234-5678", PhiClass::kLicense},
      {"Car VIN 1HGCM82633A004352 towed.", "1HGCM82633A004352", PhiClass::kVehicle},
      {"Licence plate 7ABC123 noted.", "7ABC123", PhiClass::kVehicle},
      {"Pacemaker serial number PM-88231 interrogated.", "PM-88231", PhiClass::kDevice},
      {"UDI (01)00844588003288(17)141120 on the implant.", "(01)00844588003288(17)141120",
       PhiClass::kDevice},
      {"See https://portal.example.org/p/123 for images.", "https://portal.example.org/p/123",
       PhiClass::kUrl},
      {"Login from 192.168.10.24 flagged.", "192.168.10.24", PhiClass::kIp},
      {"Login from 2001:db8::8a2e:370:7334 flagged.", "2001:db8::8a2e:370:7334", PhiClass::kIp},
      {"Voiceprint ID VP-22831 enrolled.", "VP-22831", PhiClass::kBiometric},
      {"Trial ID: 98765 assigned.", "98765", PhiClass::kUniqueId},
      {"Billing address: Puruntie 82, 53650 LAPPEENRANTA\nThanks", "Puruntie 82, 53650 LAPPEENRANTA",
       PhiClass::kLocation},
      {"Mail to PSC 0413, Box 8144 please.", "PSC 0413", PhiClass::kLocation},
  };
  for (const Case& c : cases) {
    auto fs = Scan(c.text);
    const Finding* f = Covering(fs, c.text, c.value);
    ASSERT_NE(f, nullptr) << c.text;
    EXPECT_EQ(f->cls, c.cls) << c.text << " got " << ClassName(f->cls) << " rule " << f->rule;
    EXPECT_GE(f->confidence, 0.5F) << c.text;
    EXPECT_FALSE(f->rule.empty());
  }
}

TEST(PhiDetector, LeavesClinicalLanguageAlone) {
  const std::vector<std::string> negatives = {
      "Management of Wilson's disease in a 42-year-old male diagnosed in 2021?",
      "Positive Chaddock reflex and a high McIsaac score; Framingham risk score of 12%.",
      "Atrial fibrillation on warfarin, targeting an INR of 2.0-3.0, GFR of 45 mL/min/1.73m2.",
      "Start metformin 500 mg twice daily; HbA1c of 10 in a 55yo Hispanic female.",
      "Guidelines for early detection of Alzheimer's disease in a 65-year-old patient.",
      "A 58-year-old African American female with a history of asthma, seen last summer.",
      "Recommended dosage of amoxicillin for a 7-year-old with strep throat.",
      "The plan is to start insulin; follow up in 3 months per ADA guidelines.",
      "What is the role of SGLT2 inhibitors with an eGFR of 30 and CHADS2 score of 3?",
      "We need to address the patient's anxiety before discharge.",
      "She wrote her first story in English at age 12.",
      "Give 100-200 mg daily; penicillin G 1,000,000 units IV; platelets 250000 cells.",
      "Plan: 500 mg twice daily. Order 2000-4000 units of heparin.",
      "Vitamin D Deficiency, Hepatitis B Virus and a Wilms B Tumor in the history.",
      "Tablets kept in a ZIP lock bag, 12 of them; zip 2 more later.",
      "Her name is not on the list; a drug named lasix; name is pending.",
      "He is eighty-nine years old; ninety patients; a hundred tablets; nine years old.",
      "Apgar scores 8 and 9; Kussmaul breathing, Cheyne-Stokes respirations; Addison crisis.",
      "Kaplan-Meier curves; a Holter monitor for 48 hours; the Nissen fundoplication.",
  };
  for (const std::string& text : negatives) {
    auto fs = Scan(text);
    for (const Finding& f : fs) {
      ADD_FAILURE() << text << ": unexpected " << ClassName(f.cls) << " '"
                    << text.substr(f.begin, f.end - f.begin) << "' rule " << f.rule;
    }
  }
}

TEST(PhiDetector, ValidatorsRejectWrongCheckDigitsAndImpossibleValues) {
  EXPECT_TRUE(ValidNpi("1234567893"));
  EXPECT_FALSE(ValidNpi("1234567890"));
  EXPECT_TRUE(ValidDea("AB1234563"));
  EXPECT_FALSE(ValidDea("AB1234567"));
  EXPECT_TRUE(ValidVin("1HGCM82633A004352"));
  EXPECT_FALSE(ValidVin("1HGCM82633A004353"));
  EXPECT_TRUE(LuhnValid("79927398713"));
  EXPECT_TRUE(Scan("Version 999.300.1.7 released.").empty());
  for (const Finding& f : Scan("Ratio 13/45/2023 noted.")) {
    EXPECT_NE(f.cls, PhiClass::kDate);  // no month 13 or 45
  }
}

TEST(PhiDetector, ReportsByteAndCodePointOffsets) {
  std::string text = "Café patient José Martinez, MRN: 445566.";
  auto fs = Scan(text);
  const Finding* name = Covering(fs, text, "José Martinez");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->begin, text.find("José"));
  EXPECT_EQ(name->cp_begin, 13U);  // "Café patient " is 13 code points, 14 bytes
  EXPECT_EQ(name->begin, 14U);
  EXPECT_EQ(name->cp_end - name->cp_begin, 13U);
  EXPECT_EQ(name->end - name->begin, 14U);
}

TEST(PhiDetector, SurvivesInvalidUtf8NulAndPathologicalInput) {
  std::string bad = "Dr. Smith \xff\xfe\x80 MRN: 12\0 34 \xc3";
  bad.append(std::string("\0\0John P. 555-123-4567", 22));
  auto fs = Scan(bad);
  EXPECT_NE(Covering(fs, bad, "555-123-4567"), nullptr);
  EXPECT_EQ(RepairUtf8("a\xff" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_TRUE(IsValidUtf8(RepairUtf8(bad)));

  // Worst cases for the patterns: long digit runs, repeated separators, endless capitals.
  const std::vector<std::string> nasty = {
      std::string(2 << 20, '9'),
      [] {
        std::string s;
        for (int i = 0; i < 200000; ++i) s += "1-";
        return s;
      }(),
      [] {
        std::string s;
        for (int i = 0; i < 200000; ++i) s += "Dr. ";
        return s;
      }(),
      [] {
        std::string s;
        for (int i = 0; i < 100000; ++i) s += "a@b.";
        return s;
      }(),
      std::string(2 << 20, ':'),
  };
  for (const std::string& s : nasty) {
    auto start = std::chrono::steady_clock::now();
    auto r = Shared().Scan(s);
    ASSERT_TRUE(r.ok());
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    EXPECT_LT(ms, 5000) << "input of " << s.size() << " bytes took " << ms << " ms";
  }
}

TEST(PhiDetector, AppliesCustomPatternsAndRoster) {
  DetectorOptions opts;
  opts.custom_patterns.push_back({"employee", "EMP-[0-9]{5}", PhiClass::kUniqueId, false});
  opts.extras.roster_names.push_back("Zebulon Quarrington");
  auto d = Detector::Create(opts);
  ASSERT_TRUE(d.ok());
  std::string text = "badge EMP-12345 for zebulon quarrington";
  auto fs = (*d)->Scan(text);
  ASSERT_TRUE(fs.ok());
  const Finding* emp = Covering(*fs, text, "EMP-12345");
  ASSERT_NE(emp, nullptr);
  EXPECT_EQ(emp->rule, "custom.employee");
  ASSERT_NE(Covering(*fs, text, "zebulon quarrington"), nullptr);

  DetectorOptions broken;
  broken.custom_patterns.push_back({"bad", "([unclosed", PhiClass::kUniqueId, false});
  auto b = Detector::Create(broken);
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), core::StatusCode::kInvalidArgument);
}

// The builtin databases compiled at build time load, and find exactly what compiling the rules
// at start-up finds; a custom pattern still works next to them (it compiles on its own).
TEST(PhiDetector, PrecompiledDatabasesMatchRuntimeCompilation) {
  EXPECT_TRUE(Shared().precompiled());
  DetectorOptions runtime;
  runtime.precompiled_blob = std::string_view();  // compile at start-up
  auto fresh = Detector::Create(runtime);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE((*fresh)->precompiled());
  std::string text =
      "Sarah P., a 92-year-old, MRN: CC-4456721, phone (312) 555-0187, seen 03/14/2022 at "
      "UCLA Medical Center; lives at 4521 Maple Street, Chicago, IL 60614; s.p@example.com; "
      "SSN 123-45-6789, NPI 1234567893, VIN 1HGCM82633A004352, http://example.org/x, 10.1.2.3";
  auto a = Shared().Scan(text);
  auto b = (*fresh)->Scan(text);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_GE(a->size(), 10U);
  ASSERT_EQ(a->size(), b->size());
  for (std::size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].begin, (*b)[i].begin);
    EXPECT_EQ((*a)[i].end, (*b)[i].end);
    EXPECT_EQ((*a)[i].rule, (*b)[i].rule);
  }
  // A blob that is damaged, stale or truncated is refused as a whole and the rules compile
  // at start-up instead: same findings.
  auto good = Detector::SerializeBuiltinDatabases();
  ASSERT_TRUE(good.ok());
  std::string bad_magic = *good, stale = *good, truncated = good->substr(0, good->size() / 2),
              trailing = *good + "x";
  bad_magic[0] = 'X';
  stale[6] = static_cast<char>(stale[6] ^ 1);  // the rules' fingerprint
  for (const std::string* blob : {&bad_magic, &stale, &truncated, &trailing}) {
    DetectorOptions o;
    o.precompiled_blob = *blob;
    auto d = Detector::Create(o);
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE((*d)->precompiled());
    auto f = (*d)->Scan(text);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->size(), a->size());
  }
  DetectorOptions reloaded;
  reloaded.precompiled_blob = *good;
  auto r = Detector::Create(reloaded);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->precompiled());

  DetectorOptions custom;
  custom.custom_patterns.push_back({"badge", "BDG[0-9]{4}", PhiClass::kUniqueId, false});
  auto c = Detector::Create(custom);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE((*c)->precompiled());
  std::string t2 = "badge BDG1234, MRN: CC-4456721";
  auto fc = (*c)->Scan(t2);
  ASSERT_TRUE(fc.ok());
  const Finding* badge = Covering(*fc, t2, "BDG1234");
  ASSERT_NE(badge, nullptr);
  EXPECT_EQ(badge->rule, "custom.badge");
  EXPECT_NE(Covering(*fc, t2, "CC-4456721"), nullptr);
}

// A middle initial between two capitalised words that are not common words: the whole name,
// not only its first word (which left "M. Smith" in the text).
TEST(PhiDetector, AMiddleInitialJoinsTheNameAroundIt) {
  const std::pair<std::string, std::string> cases[] = {
      {"Janka M. Smith will be talking", "Janka M. Smith"},
      {"Have you been to a Ravil G Yefimov concert?", "Ravil G Yefimov"},
      {"Soib K. Kishiev signed the form.", "Soib K. Kishiev"},
  };
  for (const auto& [text, name] : cases) {
    auto fs = Scan(text);
    const Finding* f = Covering(fs, text, name);
    ASSERT_NE(f, nullptr) << text;
    EXPECT_EQ(f->cls, PhiClass::kName) << text;
  }
}

// "IP address" (or e-mail, web address) is no cue for a postal address: the IP is found by its
// own rule and the rest of the sentence stays.
TEST(PhiDetector, AnIpAddressCueDoesNotTakeTheRestOfTheSentence) {
  const std::string text = "IP address 192.168.10.24 accessed the chart at noon.";
  auto fs = Scan(text);
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].cls, PhiClass::kIp);
  EXPECT_EQ(text.substr(fs[0].begin, fs[0].end - fs[0].begin), "192.168.10.24");
  const std::string postal = "Mailing address: 42 Elm Street, Apt 3, Evanston.";
  const auto postal_fs = Scan(postal);
  const Finding* f = Covering(postal_fs, postal, "42 Elm Street, Apt 3, Evanston");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->cls, PhiClass::kLocation);
}

// Record headings after a title are not names: "Pt DOB 1/2/45" is a date, not "Pt. Dob";
// "Patient: John H. MRN: ..." keeps "MRN" out of the name.
TEST(PhiDetector, RecordHeadingsAreNotNames) {
  std::string text = "Pt DOB 1/2/45, seen today.";
  auto fs = Scan(text);
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].cls, PhiClass::kDate);
  text = "Patient: John H. MRN: 678-90-1234.";
  fs = Scan(text);
  const Finding* name = Covering(fs, text, "John H.");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(text.substr(name->begin, name->end - name->begin), "John H.");
}

TEST(PhiDetector, AVisitVerbWithFromNamesAPlaceNotAPerson) {
  std::string text = "Patient was transferred from Denver for evaluation; a note from Denver Hale.";
  auto fs = Scan(text);
  const Finding* place = Covering(fs, text, "Denver");  // the first one
  ASSERT_NE(place, nullptr);
  EXPECT_EQ(place->cls, PhiClass::kLocation);
  const Finding* person = Covering(fs, text, "Denver Hale");
  ASSERT_NE(person, nullptr);
  EXPECT_EQ(person->cls, PhiClass::kName);
}

TEST(PhiDetector, MergesOverlapsIntoSortedDisjointFindings) {
  std::string text =
      "John Smith (DOB 01/02/1950, MRN 123456789) at UCLA Medical Center, phone 555-987-6543.";
  auto fs = Scan(text);
  ASSERT_GE(fs.size(), 4U);
  for (std::size_t i = 1; i < fs.size(); ++i) EXPECT_LE(fs[i - 1].end, fs[i].begin);
}

}  // namespace
}  // namespace baagate::phi

namespace baagate::phi {
namespace {

// Match starts are found by a second, windowed scan (see Detector::Scan): matches longer than
// the first window (unbounded rules), runs of matches, and digit groups must come out whole.
TEST(PhiDetector, LongAndAdjacentMatchesKeepTheirStart) {
  std::string local(300, 'a');
  std::string text = "Write to " + local + ".b@example.com today.";
  auto fs = Scan(text);
  const Finding* f = Covering(fs, text, local + ".b@example.com");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->cls, PhiClass::kEmail);

  std::string blanks = "MRN:" + std::string(200, ' ') + "4455667";
  fs = Scan(blanks);
  ASSERT_NE(Covering(fs, blanks, "4455667"), nullptr);

  std::string runs = "Calls: 312-555-0187, 312-555-0188, 312-555-0189. SSN 123-45-6789. "
                     "Account #12 34 56 78 90.";
  fs = Scan(runs);
  for (std::string_view v : {"312-555-0187", "312-555-0188", "312-555-0189", "123-45-6789",
                             "12 34 56 78 90"}) {
    EXPECT_NE(Covering(fs, runs, v), nullptr) << v;
  }
}

// Found by the fuzzer: a city grown by its state ("Chicago, IL") overlapped the next finding
// ("IL-60601"); findings must stay sorted and disjoint.
TEST(PhiDetector, ALocationGrownByItsStateDoesNotOverlapTheNextFinding) {
  const std::string text = "Dr. Anna Smith, 123 Maple Stre\x7ft, Chicago, IL-60601; born 1929";
  auto fs = Scan(text);
  std::size_t prev_end = 0;
  for (const Finding& f : fs) {
    EXPECT_GE(f.begin, prev_end) << f.rule;
    EXPECT_LT(f.begin, f.end);
    prev_end = f.end;
  }
  EXPECT_NE(Covering(fs, text, "Chicago, IL-60601"), nullptr);
}

// NPI, DEA and VIN without a cue word are read natively (not by Hyperscan), as are the starts
// of e-mail addresses and letter-prefixed ids: whole runs at word boundaries only.
TEST(PhiDetector, NativeReadersFindBareIdsAtWordBoundariesOnly) {
  struct Case {
    std::string text;
    std::string value;  // empty: no finding of `rule` at all
    std::string rule;
  };
  const Case cases[] = {
      {"signed 1234567893 today", "1234567893", "npi"},
      {"signed x1234567893 today", "", "npi"},     // glued to a letter
      {"signed 12345678934 today", "", "npi"},     // eleven digits
      {"script AB1234563, refill", "AB1234563", "dea"},
      {"script A91234563 refill", "A91234563", "dea"},  // the second letter may be a 9
      {"script XAB1234563 refill", "", "dea"},
      {"car 1HGCM82633A004352.", "1HGCM82633A004352", "vin"},
      {"car 1HGCM82633A0043521 here", "", "vin"},  // eighteen characters
      {"car 1HGCM82633A00435I here", "", "vin"},   // I is not a VIN letter
      {"write to olivia.thompson@example.com now", "olivia.thompson@example.com", "email"},
      {"code QX-88231 and more", "QX-88231", "id.alpha"},
      {"code 77881234-AB and more", "77881234-AB", "id.alpha"},
      // The longer match ending at "-88" fails its right boundary; the shorter one stands.
      {"code DEAA0033223674-88CB", "DEAA0033223674", "id.alpha"},
  };
  for (const Case& c : cases) {
    auto fs = Scan(c.text);
    const Finding* by_rule = nullptr;
    for (const Finding& f : fs) {
      if (f.rule == c.rule) by_rule = &f;
    }
    if (c.value.empty()) {
      EXPECT_EQ(by_rule, nullptr) << c.text;
      continue;
    }
    ASSERT_NE(by_rule, nullptr) << c.text;
    EXPECT_EQ(c.text.substr(by_rule->begin, by_rule->end - by_rule->begin), c.value) << c.text;
  }
}

}  // namespace
}  // namespace baagate::phi

namespace baagate::phi {
namespace {

TEST(PhiDetector, EveryMentionOfANameWordIsTheSamePerson) {
  // Found as a full name once, the first name alone elsewhere (before and after, possessive
  // too) is the same person.
  std::string text = "Asya spent a year as the assistant to Asya Godina. It was Asya's idea.";
  auto fs = Scan(text);
  std::size_t pos = 0;
  for (int k = 0; k < 3; ++k) {
    pos = text.find("Asya", pos);
    bool covered = false;
    for (const Finding& x : fs) {
      covered |= x.begin <= pos && x.end >= pos + 4 && x.cls == PhiClass::kName;
    }
    EXPECT_TRUE(covered) << "mention " << k;
    pos += 4;
  }
  // A name word that is also an English word: mid-sentence it is the person, at a sentence
  // start it is the word.
  std::string t2 = "Seen by Dr. Grant today. Grant applications are due; I told Grant.";
  auto f2 = Scan(t2);
  std::size_t start = t2.find("Grant applications"), told = t2.rfind("Grant");
  bool at_start = false, mid = false;
  for (const Finding& x : f2) {
    at_start |= x.begin <= start && x.end > start;
    mid |= x.begin <= told && x.end >= told + 5 && x.cls == PhiClass::kName;
  }
  EXPECT_FALSE(at_start);
  EXPECT_TRUE(mid);
}

// Each of `values` lies inside one finding of class `cls`.
void ExpectFound(std::string_view text, std::initializer_list<std::string_view> values,
                 PhiClass cls) {
  auto fs = Scan(text);
  for (std::string_view v : values) {
    const Finding* f = Covering(fs, text, v);
    ASSERT_NE(f, nullptr) << v << " in: " << text;
    EXPECT_EQ(f->cls, cls) << v << " in: " << text;
  }
}

TEST(PhiDetector, AGivenNameThatIsAMonthOrACommonWordFollowsATitle) {
  for (const auto& [text, name, word] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"Ms. April Stone was admitted in April.", "April Stone", "in April"},
           {"Seen by Dr. Will Martin. Will follow up in two weeks.", "Will Martin",
            "Will follow"}}) {
    ExpectFound(text, {name}, PhiClass::kName);
    const std::size_t w = text.find(word);
    for (const Finding& x : Scan(text)) {
      EXPECT_FALSE(x.begin < w + word.size() && x.end > w) << text;
    }
  }
  // An eponym before "symptoms" is not a person.
  EXPECT_TRUE(Scan("Parkinson symptoms resolved.").empty());
}

TEST(PhiDetector, SurnameParticlesBelongToTheName) {
  ExpectFound("Mr. de la Cruz and Ms. van der Berg were roommates.", {"de la Cruz", "van der Berg"},
              PhiClass::kName);
  ExpectFound("Seen by Ludwig van Beethoven and Carlos de la Cruz.",
              {"Ludwig van Beethoven", "Carlos de la Cruz"}, PhiClass::kName);
  EXPECT_TRUE(Scan("The van der Waals forces and de facto rules; he went to the van.").empty());
}

TEST(PhiDetector, MilitaryMailZipIsAPostalCode) {
  ExpectFound("Stationed: PSC 0413, Box 8144, APO AA 42323; later FPO\tAE 09501-1234.",
              {"APO AA 42323", "FPO\tAE 09501-1234"}, PhiClass::kLocation);
  EXPECT_TRUE(Scan("The APO AA team met; DPO AP 1234 is not a ZIP.").empty());
}

TEST(PhiDetector, ACityThatIsACommonWordNeedsAPlaceCueAndNoModifier) {
  for (std::string_view text : {"Mr. Rednjak flew to Phoenix on Tuesday.",
                                "Patient transferred from Phoenix for evaluation.",
                                "Treated at St. Joseph's Hospital in Phoenix in 2023."}) {
    ExpectFound(text, {"Phoenix"}, PhiClass::kLocation);
  }
  // The same words as departments, destinations or modifiers.
  for (std::string_view text : {"Discharged to Home. Back to Normal Saline.",
                                "Admitted from Home with values in Normal range.",
                                "Seen in Clinic, then sent to Surgery and to Recovery."}) {
    EXPECT_TRUE(Scan(text).empty()) << text;
  }
}

TEST(PhiDetector, StreetAddressesWithDirectionsAndNumberedStreets) {
  ExpectFound("Write to Mrs. Nguyen at 1450 W. Elm St., Apt 3B about her results.",
              {"1450 W. Elm St., Apt 3B"}, PhiClass::kLocation);
  ExpectFound("She lives in Apt. 5C, 301 East 21st Street, and visits 100 W 34th St. often.",
              {"301 East 21st Street", "100 W 34th St"}, PhiClass::kLocation);
  EXPECT_TRUE(Scan("Take the 2nd left on 5th Avenue after 3 blocks.").empty());
  // A ZIP after "is".
  ExpectFound("Follow up next Tuesday; her ZIP is 97701.", {"97701"}, PhiClass::kLocation);
  ExpectFound("The zip code is: 97701.", {"97701"}, PhiClass::kLocation);
  EXPECT_TRUE(Scan("Her ZIP is unknown; a zip is 5 digits.").empty());
}

TEST(PhiDetector, AMonthAndDayAfterADatingWordIsADate) {
  ExpectFound("Pt seen 6/3. Labs 6/4: K 4.1. Plan d/c 6/6 to SNF; admitted 2/14.",
              {"6/3", "6/4", "6/6", "2/14"}, PhiClass::kDate);
  ExpectFound("Transfer on Tuesday 3/12 at noon. DOS: 6/4.", {"3/12", "6/4"}, PhiClass::kDate);
  // Scores, fractions and ratios.
  EXPECT_TRUE(Scan("Strength 4/5 bilaterally, pain 7/10, on 1/2 tab metoprolol, 2/3 of "
                   "patients, BP 120/80, 24/7 care, seen 13/40 times.")
                  .empty());
}

TEST(PhiDetector, PartialSsnAndAgeWithSex) {
  ExpectFound("Her SSN ends in 4821; SSN last 4: 4822.", {"4821", "4822"},
              PhiClass::kSsn);
  ExpectFound("Summary for Eleanor Park, 91F, and (93M) the other; a 94M with CHF.",
              {"91F", "93M", "94M"}, PhiClass::kAge);
  // Temperatures and younger patients; a lab symbol with its value is not a first name.
  EXPECT_TRUE(Scan("Fever 101F, T 100.4F, temp 102F; a 45M; 100M dash. Labs: Na 134, Cl 101.")
                  .empty());
}

TEST(PhiDetector, AHolidayWithItsYearIsADate) {
  ExpectFound("Discussed on Christmas Eve 2023, Thanksgiving Day, 2022 and Labor Day of 2021.",
              {"Christmas Eve 2023", "Thanksgiving Day, 2022", "Labor Day of 2021"},
              PhiClass::kDate);
  EXPECT_TRUE(
      Scan("Christmas tree lights, Easter eggs and Mother's Day cards; see you on New Year's Day.")
          .empty());
}

}  // namespace
}  // namespace baagate::phi
