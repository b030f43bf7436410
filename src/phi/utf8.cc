#include "phi/utf8.h"

#include <cstdint>
#include <cstring>

namespace baagate::phi {

namespace {

// Length of the valid sequence at s[i], or 0 if invalid.
std::size_t ValidSeq(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = s.size() - i;
  auto cont = [&](std::size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return n >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(i + 1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;
    if (c == 0xF4 && b(i + 1) > 0x8F) return 0;
    return 4;
  }
  return 0;
}

// Index of the first byte >= 0x80 at or after `i` (s.size() if none), eight bytes at a time.
std::size_t SkipAscii(std::string_view s, std::size_t i) {
  while (i + 8 <= s.size()) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    std::uint64_t high = w & 0x8080808080808080ULL;
    if (high != 0) return i + static_cast<std::size_t>(__builtin_ctzll(high) / 8);
    i += 8;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = SkipAscii(s, 0); i < s.size(); i = SkipAscii(s, i)) {
    std::size_t n = ValidSeq(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string RepairUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size());
  bool in_bad = false;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = ValidSeq(s, i);
    if (n == 0) {
      if (!in_bad) out += "\xEF\xBF\xBD";
      in_bad = true;
      ++i;
      continue;
    }
    in_bad = false;
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace baagate::phi
