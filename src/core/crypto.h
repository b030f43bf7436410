// Hashing and randomness on OpenSSL: SHA-256, constant-time comparison, CSPRNG bytes.
// All functions are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace baagate::core {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);
std::string HexEncode(const std::uint8_t* data, std::size_t size);
inline std::string HexEncode(const Sha256Digest& d) { return HexEncode(d.data(), d.size()); }
// Parses 64 hex digits (either case). Returns false on anything else.
bool ParseSha256Hex(std::string_view hex, Sha256Digest* out);
// HMAC-SHA256 (OpenSSL). Aborts if OpenSSL fails, like Sha256.
Sha256Digest HmacSha256(std::string_view key, std::string_view data);
// RFC 4648 §5 base64url without padding.
std::string Base64UrlEncode(const std::uint8_t* data, std::size_t size);
// Compares in time independent of where the inputs differ.
bool ConstantTimeEqual(const Sha256Digest& a, const Sha256Digest& b);
// Fills `out` from the operating system's CSPRNG (OpenSSL RAND_bytes). Aborts if it fails,
// since a gateway without randomness cannot issue keys or ids safely.
void SecureRandomBytes(std::uint8_t* out, std::size_t size);

}  // namespace baagate::core
