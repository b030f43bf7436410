// UTF-8 helpers for untrusted input: validation and repair. The detector works on bytes and
// accepts anything; callers that need exact code-point offsets or must emit valid JSON repair
// the text first (each invalid sequence becomes U+FFFD).
#pragma once

#include <string>
#include <string_view>

namespace baagate::phi {

// True if `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view s);
// Copy of `s` with every maximal invalid subsequence replaced by U+FFFD.
std::string RepairUtf8(std::string_view s);

}  // namespace baagate::phi
