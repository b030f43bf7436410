// The token layer of the detector (names and places) and the final scoring/merging step.
// Internal to src/phi; detector.h is the public interface.
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "phi/dictionaries.h"
#include "phi/types.h"

namespace baagate::phi {

// A scored span before thresholds and merging. `rule` has static (or Detector) lifetime.
struct Candidate {
  std::size_t begin;
  std::size_t end;
  PhiClass cls;
  float conf;
  std::string_view rule;
};

// Appends name and location candidates found from tokens, dictionaries and cue words.
void RunTokenRules(std::string_view text, const Dictionaries& dicts, std::vector<Candidate>& out);

// Drops candidates under their class threshold, merges overlapping ones (union of extents; the
// class and rule of the most confident one), joins place names written as one ("X Hospital
// in Chicago", "Fairfield, CT"), and fills code-point offsets. Reorders and trims `cands`.
// The result depends only on which candidates there are, not on their order.
std::vector<Finding> Resolve(std::string_view text, std::vector<Candidate>& cands,
                             const std::array<float, kPhiClassCount>& thresholds,
                             const Dictionaries& dicts);

}  // namespace baagate::phi
