// libFuzzer target for the SSE parser: any byte sequence, split at any point, must parse
// without crashing, and the raw bytes of the reported blocks plus the pending tail must add up
// to the input (minus a leading BOM).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/sse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte picks where to split, to exercise chunk boundaries.
  std::size_t split = data[0] % size;
  baagate::http::SseParser parser(1 << 16);
  std::size_t raw_total = 0;
  auto cb = [&](const baagate::http::SseEvent& ev) {
    raw_total += ev.raw.size();
    if (!ev.has_data && !ev.data.empty()) std::abort();
  };
  if (!parser.Feed(input.substr(0, split), cb).ok()) return 0;
  if (!parser.Feed(input.substr(split), cb).ok()) return 0;
  std::size_t bom = input.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  if (raw_total + parser.pending_bytes() + bom != size &&
      raw_total + parser.pending_bytes() != size) {
    // A held-back partial BOM at the very start is the only other difference allowed.
    if (size >= 3) std::abort();
  }
  return 0;
}
