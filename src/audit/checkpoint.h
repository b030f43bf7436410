// Signed checkpoints in the transparency-log signed-note format (COMPLIANCE.md §5.2,
// docs/formats/audit.md):
//
//   <origin>\n<tree size>\n<base64 root>\nchain <base64 head record_hash>\nts <RFC 3339>\n
//   \n
//   — <key name> <base64(4-byte key hash || 64-byte Ed25519 signature)>\n
//
// The signature covers the body (every line before the blank line, with its final newline).
// The key hash is the first 4 bytes of SHA-256(key name || "\n" || 0x01 || public key), as in
// the signed-note ecosystem, so verifiers can pick the right pinned key.
//
// Keys are files: the private key `PRIVATE+KEY+<name>+<hash hex>+<base64(0x01 || seed)>` (mode
// 0600) and its public key `<name>+<hash hex>+<base64(0x01 || public key)>` in `<file>.pub`.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "audit/merkle.h"
#include "core/status.h"

namespace baagate::audit {

struct Checkpoint {
  std::string origin;
  std::uint64_t tree_size = 0;
  Hash root{};
  Hash chain_head{};  // record_hash of the last record (zeros for an empty log)
  std::int64_t ts_ms = 0;

  std::string Body() const;
};

class PublicKey {
 public:
  // Parses the `<name>+<hash>+<base64>` form.
  static core::Result<PublicKey> Parse(std::string_view text);
  static core::Result<PublicKey> Load(const std::string& path);
  const std::string& name() const { return name_; }
  std::uint32_t key_hash() const { return key_hash_; }
  std::string ToString() const;  // the `<name>+<hash>+<base64>` form
  bool Verify(std::string_view message, const std::uint8_t* sig64) const;

 private:
  friend class SigningKey;
  std::string name_;
  std::uint32_t key_hash_ = 0;
  std::array<std::uint8_t, 32> pk_{};
};

// Not copyable: holds the secret key, which is wiped on destruction.
class SigningKey {
 public:
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  SigningKey(SigningKey&&) noexcept;
  ~SigningKey();

  static core::Result<SigningKey> Generate(std::string_view name);
  // Loads `path`; if it does not exist and `create` is set, generates a key named `name`,
  // writes it with mode 0600 and its public key to `path + ".pub"`.
  static core::Result<SigningKey> LoadOrCreate(const std::string& path, std::string_view name,
                                               bool create);
  const PublicKey& public_key() const { return pub_; }
  // The signed note: body, blank line, one signature line.
  std::string Sign(const Checkpoint& cp) const;
  // A secret for another purpose, derived from the private key with a label (HMAC-SHA256), so
  // it lives wherever the key lives (outside the log store) and never needs its own file.
  core::Sha256Digest DeriveSecret(std::string_view label) const;
  core::Status Save(const std::string& path) const;

 private:
  SigningKey() = default;
  PublicKey pub_;
  std::array<std::uint8_t, 64> sk_{};
};

// Parses a signed note and checks a signature by `key` on it. Fails with kDataLoss when the
// note is malformed or no valid signature by `key` is present.
core::Result<Checkpoint> OpenCheckpoint(std::string_view note, const PublicKey& key);
// Parses without checking signatures (for display).
core::Result<Checkpoint> ParseCheckpointBody(std::string_view note);

std::string Base64(const std::uint8_t* data, std::size_t n);
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace baagate::audit
