#include "audit/chain.h"

// The audit log hashes two or three times per record (record hash, Merkle leaf, on average one
// Merkle node), mostly over inputs of one or two SHA-256 blocks, so the per-call overhead of the
// EVP layer (provider dispatch, context re-initialisation, cleansing) was a large share of
// `verify`. The one-step SHA256_* functions run the same block function (SHA-NI where the CPU
// has it) without that overhead; OpenSSL 3 marks them deprecated but keeps them. (The
// precompiled header may already have declared them deprecated, hence a pragma rather than
// OPENSSL_SUPPRESS_DEPRECATED.)
#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace baagate::audit {

namespace {

[[noreturn]] void Die() {
  std::fputs("fatal: SHA-256 failed\n", stderr);
  std::abort();
}

}  // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
core::Sha256Digest Sha256Parts(std::initializer_list<std::string_view> parts) {
  SHA256_CTX ctx;
  if (SHA256_Init(&ctx) != 1) Die();
  for (auto p : parts) {
    if (SHA256_Update(&ctx, p.data(), p.size()) != 1) Die();
  }
  core::Sha256Digest out{};
  if (SHA256_Final(out.data(), &ctx) != 1) Die();
  return out;
}
#pragma GCC diagnostic pop

core::Sha256Digest RecordHash(const core::Sha256Digest& prev_hash, std::string_view body) {
  // The domain tag, its 0x00 separator and prev_hash, as one update.
  static_assert(kRecordHashDomain.size() == 16);
  unsigned char head[16 + 1 + 32];
  kRecordHashDomain.copy(reinterpret_cast<char*>(head), 16);
  head[16] = 0;
  std::copy(prev_hash.begin(), prev_hash.end(), head + 17);
  return Sha256Parts({std::string_view(reinterpret_cast<const char*>(head), sizeof head), body});
}

}  // namespace baagate::audit
