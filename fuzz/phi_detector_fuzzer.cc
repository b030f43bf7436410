// libFuzzer target for the PHI detector and de-identification: any bytes must scan without
// crashing; findings must be sorted, disjoint and inside the input with consistent code-point
// offsets; and re-identifying the de-identified text must give the input back exactly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "phi/detector.h"
#include "phi/session.h"

namespace {

const std::shared_ptr<const baagate::phi::Detector>& PhiFuzzDetector() {
  static const std::shared_ptr<const baagate::phi::Detector> d = [] {
    auto r = baagate::phi::Detector::Create();
    if (!r.ok()) std::abort();
    return *r;
  }();
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto fs = PhiFuzzDetector()->Scan(text);
  if (!fs.ok()) std::abort();
  std::size_t prev_end = 0, prev_cp = 0;
  for (const baagate::phi::Finding& f : *fs) {
    if (f.begin >= f.end || f.end > size || f.begin < prev_end) std::abort();
    if (f.cp_begin > f.begin || f.cp_end > f.end || f.cp_begin < prev_cp || f.cp_begin >= f.cp_end + 1) std::abort();
    if (f.confidence < 0.0F || f.confidence > 1.0F || f.rule.empty()) std::abort();
    prev_end = f.end;
    prev_cp = f.cp_end;
  }
  baagate::phi::Session session(PhiFuzzDetector(), baagate::phi::TransformMode::kPlaceholder);
  auto de = session.Deidentify(text);
  if (!de.ok()) std::abort();
  if (session.Reidentify(*de) != text) std::abort();
  return 0;
}
