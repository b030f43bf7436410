#include "config/phi_options.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace baagate::config {
namespace {

// A list file in the test's temporary directory, removed at the end of the test.
class ListFile {
 public:
  ListFile(const std::string& name, const std::string& content)
      : path_(::testing::TempDir() + name) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << content;
  }
  ~ListFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const phi::Finding* Covering(const std::vector<phi::Finding>& fs, std::string_view text,
                             std::string_view value) {
  std::size_t b = text.find(value);
  for (const phi::Finding& f : fs) {
    if (b != std::string_view::npos && f.begin <= b && f.end >= b + value.size()) return &f;
  }
  return nullptr;
}

TEST(ParseConfig, ReadsThePhiSection) {
  auto c = ParseConfig(
      "phi:\n  roster_file: /etc/baagate/roster.txt\n  staff_file: /etc/baagate/staff.txt\n"
      "  facilities_file: /etc/baagate/facilities.txt\n"
      "  patterns:\n    - { name: badge, regex: 'BDG-[0-9]{6}', class: UNIQUE_IDENTIFIER }\n"
      "    - { name: local_mrn, regex: 'k[0-9]{7}', class: MRN, caseless: true }\n",
      "x");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->phi.roster_file, "/etc/baagate/roster.txt");
  ASSERT_EQ(c->phi.patterns.size(), 2U);
  EXPECT_EQ(c->phi.patterns[1].cls, "MRN");
  EXPECT_TRUE(c->phi.patterns[1].caseless);
  EXPECT_FALSE(ParseConfig("phi: { patterns: [ { name: x, regex: y, class: SHOE_SIZE } ] }", "x").ok());
  EXPECT_FALSE(ParseConfig("phi: { patterns: [ { name: X Y, regex: y } ] }", "x").ok());
  EXPECT_FALSE(ParseConfig("phi: { patterns: [ { name: x } ] }", "x").ok());
  EXPECT_FALSE(ParseConfig("phi: { patterns: [ { name: x, regex: a }, { name: x, regex: b } ] }", "x").ok());
  EXPECT_FALSE(ParseConfig("phi: { roster: x }", "x").ok());
}

TEST(DetectorOptionsFrom, RosterStaffFacilitiesAndPatternsReachTheDetector) {
  ListFile roster("roster.txt",
                  "\xEF\xBB\xBFZebulon   Quarrington\n# patients\n\n  Ysolde Brackenridge-Oyelaran  \n");
  ListFile staff("staff.txt", "Okonkwo-Baptiste\n");
  ListFile facilities("facilities.txt", "Harborview Annex 3\n");
  PhiConfig pc;
  pc.roster_file = roster.path();
  pc.staff_file = staff.path();
  pc.facilities_file = facilities.path();
  pc.patterns.push_back({"badge", "BDG-[0-9]{6}", "UNIQUE_IDENTIFIER", false});
  auto opts = DetectorOptionsFrom(pc);
  ASSERT_TRUE(opts.ok()) << opts.status().message();
  EXPECT_EQ(opts->extras.roster_names.size(), 2U);
  EXPECT_EQ(opts->extras.roster_names[0], "Zebulon Quarrington");  // BOM and blank run gone
  EXPECT_EQ(opts->extras.roster_names[1], "Ysolde Brackenridge-Oyelaran");
  auto det = phi::Detector::Create(std::move(*opts));
  ASSERT_TRUE(det.ok()) << det.status().message();

  // Lower case, mid-sentence: only the roster makes these names.
  std::string text =
      "spoke with zebulon quarrington and ysolde brackenridge-oyelaran today; "
      "seen by Dr. Okonkwo-Baptiste at Harborview Annex 3, badge BDG-123456.";
  auto fs = (*det)->Scan(text);
  ASSERT_TRUE(fs.ok());
  for (std::string_view v : {"zebulon quarrington", "ysolde brackenridge-oyelaran",
                             "Okonkwo-Baptiste", "Harborview Annex 3", "BDG-123456"}) {
    EXPECT_NE(Covering(*fs, text, v), nullptr) << v;
  }
  EXPECT_EQ(Covering(*fs, text, "zebulon quarrington")->cls, phi::PhiClass::kName);
  EXPECT_EQ(Covering(*fs, text, "BDG-123456")->rule, "custom.badge");

  // Whole words only: a roster name inside longer words is not a match; a possessive is.
  std::string inner = "the xzebulon quarringtons file";
  auto fi = (*det)->Scan(inner);
  ASSERT_TRUE(fi.ok());
  for (const phi::Finding& f : *fi) EXPECT_NE(f.rule, "name.roster");
  std::string poss = "reviewed Zebulon Quarrington's chart and Harborview Annex 34";
  auto fp = (*det)->Scan(poss);
  ASSERT_TRUE(fp.ok());
  ASSERT_NE(Covering(*fp, poss, "Zebulon Quarrington"), nullptr);
  // "Harborview Annex 34" is not the listed facility "Harborview Annex 3".
  for (const phi::Finding& f : *fp) EXPECT_NE(f.rule, "location.custom");
}

TEST(DetectorOptionsFrom, AMissingOrBadListIsAnErrorThatQuotesNoEntry) {
  PhiConfig pc;
  pc.roster_file = ::testing::TempDir() + "no-such-roster.txt";
  auto opts = DetectorOptionsFrom(pc);
  ASSERT_FALSE(opts.ok());
  EXPECT_NE(opts.status().message().find("no-such-roster.txt"), std::string::npos);

  ListFile bad("bad-roster.txt", "Zebulon \xff Quarrington\n");
  pc.roster_file = bad.path();
  opts = DetectorOptionsFrom(pc);
  ASSERT_FALSE(opts.ok());
  EXPECT_EQ(opts.status().message().find("Zebulon"), std::string::npos);

  PhiConfig pat;
  pat.patterns.push_back({"broken", "([unclosed", "UNIQUE_IDENTIFIER", false});
  auto po = DetectorOptionsFrom(pat);
  ASSERT_TRUE(po.ok());
  auto det = phi::Detector::Create(std::move(*po));
  ASSERT_FALSE(det.ok());
  EXPECT_NE(det.status().message().find("custom.broken"), std::string::npos);
}

}  // namespace
}  // namespace baagate::config
