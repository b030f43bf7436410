// libFuzzer target for streaming re-identification: a session issues placeholders for a fixed
// text, then arbitrary model output (which may contain real, invented and mangled
// placeholders) is fed in chunks split at fuzzer-chosen points. The streamed result must equal
// the one-shot result, and the held-back tail must stay shorter than the longest placeholder.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "phi/detector.h"
#include "phi/session.h"

namespace {

const std::shared_ptr<const baagate::phi::Detector>& ReidFuzzDetector() {
  static const std::shared_ptr<const baagate::phi::Detector> d = [] {
    auto r = baagate::phi::Detector::Create();
    if (!r.ok()) std::abort();
    return *r;
  }();
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  baagate::phi::Session session(ReidFuzzDetector(), baagate::phi::TransformMode::kPlaceholder);
  auto de = session.Deidentify(
      "Sarah P. and Dr. John Smith met at UCLA Medical Center on March 5th, 2021, "
      "MRN: CC-456789, phone 555-123-4567, Sarah P. again.");
  if (!de.ok()) std::abort();
  std::string_view out(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string whole = session.Reidentify(out);
  baagate::phi::StreamReidentifier stream(session);
  std::string streamed;
  std::size_t step = 1 + data[0] % 7, pos = 0, i = 0;
  while (pos < out.size()) {
    std::size_t n = std::min(out.size() - pos, step + (i++ % 3));
    streamed += stream.Feed(out.substr(pos, n));
    if (stream.held_bytes() >= session.max_placeholder_length()) std::abort();
    pos += n;
  }
  streamed += stream.Finish();
  if (streamed != whole) std::abort();
  return 0;
}
