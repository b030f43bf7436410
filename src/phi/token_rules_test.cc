#include "phi/token_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace baagate::phi {
namespace {

std::string Describe(const std::vector<Finding>& fs) {
  std::string s;
  for (const Finding& f : fs) {
    s += std::to_string(f.begin) + "-" + std::to_string(f.end) + ":" +
         std::string(PlaceholderTag(f.cls)) + ":" + std::string(f.rule) + " ";
  }
  return s;
}

TEST(PhiResolve, FindingsDoNotDependOnTheOrderOfCandidates) {
  static const auto dicts = Dictionaries::Build({});
  std::array<float, kPhiClassCount> thresholds{};
  thresholds.fill(0.5F);
  const std::string text = "call 555-123-4567 or 555 123 4567 on 2024-01-02 ref 12345678 now";
  // Equal spans of different classes and confidences, nested and overlapping spans, and a
  // generic identifier that a specific class overrides at lower confidence.
  const std::vector<Candidate> cands = {
      {5, 17, PhiClass::kUniqueId, 0.65F, "id.digits"},
      {5, 17, PhiClass::kPhone, 0.9F, "phone.us"},
      {5, 17, PhiClass::kSsn, 0.9F, "ssn.x"},
      {21, 33, PhiClass::kUniqueId, 0.9F, "id.digits"},
      {21, 33, PhiClass::kPhone, 0.8F, "phone.us"},
      {25, 33, PhiClass::kSsn, 0.75F, "ssn.spaced"},
      {37, 47, PhiClass::kDate, 0.92F, "date.iso"},
      {37, 41, PhiClass::kUniqueId, 0.92F, "id.digits"},
      {52, 60, PhiClass::kUniqueId, 0.65F, "id.digits"},
      {52, 60, PhiClass::kAccount, 0.65F, "cue.account"},
  };
  std::vector<Candidate> c = cands;
  const std::string expected = Describe(Resolve(text, c, thresholds, *dicts));
  // Equal confidence: the class listed first in PhiClass wins; a specific class beats the
  // generic identifier within 0.3 of its confidence.
  EXPECT_EQ(expected,
            "5-17:PHONE:phone.us 21-33:PHONE:phone.us 37-47:DATE:date.iso "
            "52-60:ACCOUNT:cue.account ");
  // Every rotation and reversal, and a deterministic shuffle of each.
  std::vector<Candidate> order = cands;
  for (std::size_t r = 0; r < order.size(); ++r) {
    for (int rev = 0; rev < 2; ++rev) {
      std::vector<Candidate> p = order;
      if (rev) std::reverse(p.begin(), p.end());
      std::vector<Candidate> shuffled = p;
      for (std::size_t k = 0; k < shuffled.size(); ++k) {
        std::swap(shuffled[k], shuffled[(k * 7 + r * 3) % shuffled.size()]);
      }
      for (std::vector<Candidate>* v : {&p, &shuffled}) {
        EXPECT_EQ(Describe(Resolve(text, *v, thresholds, *dicts)), expected) << "rotation " << r;
      }
    }
    std::rotate(order.begin(), order.begin() + 1, order.end());
  }
}

}  // namespace
}  // namespace baagate::phi
