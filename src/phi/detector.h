// Detector: finds Safe Harbor identifiers in text. Built once (Hyperscan database compiled,
// dictionaries loaded), immutable and shared across threads; every Scan takes its Hyperscan
// scratch from an internal pool, so concurrent Scans never share mutable state.
//
// How it works (one pass per layer, linear in the input):
//   1. Hyperscan block-mode scan of all structured patterns at once (dates, phones, e-mail,
//      SSN, URLs, IPs, MBI, NPI, DEA, VIN, UDI, generic ids, cue words such as "MRN:").
//      That scan only reports where matches end (start-of-match tracking makes Hyperscan three
//      times slower); the start of each match is then found by a start-of-match scan of the
//      rule's own small database over a short window ending there. Generic digit runs, by far
//      the most frequent match, are read by a hand-written scanner instead.
//      Each match is checked by a validator (calendar, octets, check digits, boundaries) and
//      cue matches read the identifier that follows them.
//   2. A token pass for names and places: dictionaries (Census names, US cities, USPS street
//      suffixes, English words to suppress false positives), capitalisation and cue words
//      ("Dr.", "named", "seen at", "lives in"), with eponym suppression ("Wilson's disease").
//   3. Candidates are scored; those at or above their class threshold are kept, and
//      overlapping ones are merged (union of extents, so nothing leaks at the edges).
#pragma once

#include <array>
#include <climits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "phi/dictionaries.h"
#include "phi/types.h"

struct hs_database;
struct hs_scratch;

namespace baagate::phi {

// A deployment-defined identifier format ("other unique identifying number", class R).
// `regex` is Hyperscan syntax; matches are taken at confidence 0.95.
struct CustomPattern {
  std::string name;
  std::string regex;
  PhiClass cls = PhiClass::kUniqueId;
  bool caseless = false;
};

struct DetectorOptions {
  DictionaryExtras extras;
  std::vector<CustomPattern> custom_patterns;
  // The builtin rules' serialised databases. Unset: those compiled at build time and embedded.
  // The rules compile at start-up instead when the blob is empty, damaged, stale or was built
  // for a CPU with other features.
  std::optional<std::string_view> precompiled_blob;
  // Minimum confidence per class; a candidate below it is dropped.
  std::array<float, kPhiClassCount> thresholds = DefaultThresholds();

  static std::array<float, kPhiClassCount> DefaultThresholds() {
    std::array<float, kPhiClassCount> t;
    t.fill(0.5F);
    return t;
  }
};

class Detector {
 public:
  // Fails (INVALID_ARGUMENT) if a custom pattern does not compile, INTERNAL if Hyperscan fails.
  static core::Result<std::shared_ptr<const Detector>> Create(DetectorOptions options = {});
  ~Detector();
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;

  // Thread-safe. Findings sorted by begin, non-overlapping, with byte and code-point offsets.
  // Any byte sequence is accepted (invalid UTF-8 and NUL included); time and memory are linear
  // in the input. Fails only if Hyperscan fails (the caller must then fail closed).
  core::Result<std::vector<Finding>> Scan(std::string_view text) const;

  const Dictionaries& dictionaries() const { return *dicts_; }
  // True if the builtin rules' databases were loaded precompiled (not compiled at start-up).
  bool precompiled() const { return precompiled_; }

  // The builtin rules' compiled Hyperscan databases in the form Create loads (used at build
  // time by tools/phi/dbgen.cc to embed them in the binary).
  static core::Result<std::string> SerializeBuiltinDatabases();

  // Implementation types, public so the .cc's helpers can name them.
  struct RuleSpec;
  struct ScanState;  // per-thread buffers reused across scans
  struct RawMatch {
    unsigned id;
    std::size_t from;
    std::size_t to;
  };
  // Pattern ids of the rules read natively rather than by Hyperscan (kNoRule: absent).
  struct NativeIds {
    static constexpr unsigned kNoRule = UINT_MAX;
    unsigned digits = kNoRule, npi = kNoRule, dea = kNoRule, vin = kNoRule;
  };

 private:
  Detector() = default;
  // Compiles the deployment's roster and facility phrases into lists_ (none: nullptr).
  core::Status CompileLists();
  // Compiles stage 1 of rules [first, last) into *stage1 and their stage-2 databases into som_.
  core::Status CompileRules(std::size_t first, std::size_t last, hs_database** stage1);
  bool LoadPrecompiled(std::string_view blob, std::size_t builtin);
  hs_scratch* AcquireScratch() const;
  void ReleaseScratch(hs_scratch* s) const;
  // Both stages, and the roster and facility lists, over one window of at most 1 GiB
  // (Hyperscan lengths are 32-bit).
  bool ScanWindow(std::string_view text, std::size_t off, std::size_t len, hs_scratch* scratch,
                  ScanState& st) const;

  DetectorOptions options_;
  std::shared_ptr<const Dictionaries> dicts_;
  std::vector<RuleSpec> rules_;  // index = Hyperscan pattern id
  NativeIds native_ids_;
  // Stage 1: every rule in one database without start-of-match tracking (cheap), reporting
  // match ends. Stage 2: per rule, a start-of-match database run only over small windows
  // that end at stage-1 matches (see Scan). Fixed-width rules need no stage 2.
  hs_database* stage1_ = nullptr;   // builtin rules
  hs_database* custom1_ = nullptr;  // deployment patterns, if any
  // Roster names (caseless) and facility names (exact) as literals with start of match; one
  // scan finds them all, however long the lists. Index = pattern id.
  hs_database* lists_ = nullptr;
  std::vector<PhiClass> list_class_;
  bool precompiled_ = false;
  std::vector<hs_database*> som_;  // index = rule; nullptr for fixed-width or native rules
  // Per rule: {min width, max width} of a match (max = UINT_MAX when unbounded).
  std::vector<std::array<unsigned, 2>> widths_;
  hs_scratch* prototype_ = nullptr;
  mutable std::mutex scratch_mu_;
  mutable std::vector<hs_scratch*> free_scratch_;  // GUARDED_BY(scratch_mu_)
};

}  // namespace baagate::phi
