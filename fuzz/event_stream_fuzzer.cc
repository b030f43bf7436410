// libFuzzer target for the Bedrock event-stream decoder: any byte sequence, split at any point,
// must decode without crashing; splitting must not change the result; and every decoded message
// must re-encode to exactly the bytes it came from (the decoder accepts nothing it cannot
// represent). Build with -DBAAGATE_FUZZ_NO_ENTRY to reuse the body in the GCC corpus replay.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "providers/bedrock/event_stream.h"

namespace baagate::fuzz {

inline int EventStreamOneInput(const std::uint8_t* data, std::size_t size) {
  using providers::bedrock::EventStreamDecoder;
  using providers::bedrock::EventStreamMessage;
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = data[0] % size;
  EventStreamDecoder whole(1 << 20);
  EventStreamDecoder parts(1 << 20);
  std::vector<EventStreamMessage> a;
  std::vector<EventStreamMessage> b;
  const core::Status sa = whole.Feed(input, &a);
  core::Status sb = parts.Feed(input.substr(0, split), &b);
  if (sb.ok()) sb = parts.Feed(input.substr(split), &b);
  if (sa.code() != sb.code() || a.size() != b.size()) std::abort();
  std::size_t offset = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].payload != b[i].payload || a[i].headers.size() != b[i].headers.size()) std::abort();
    auto encoded = providers::bedrock::EncodeEventStreamMessage(a[i]);
    if (!encoded.ok() || input.substr(offset, encoded->size()) != *encoded) std::abort();
    offset += encoded->size();
  }
  if (sa.ok() && whole.buffered() != size - offset) std::abort();
  return 0;
}

}  // namespace baagate::fuzz

#ifndef BAAGATE_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return baagate::fuzz::EventStreamOneInput(data, size);
}
#endif
