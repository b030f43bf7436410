#include "audit/chain.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace baagate::audit {

namespace {

struct CtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

[[noreturn]] void Die() {
  std::fputs("fatal: SHA-256 failed\n", stderr);
  std::abort();
}

}  // namespace

core::Sha256Digest Sha256Parts(std::initializer_list<std::string_view> parts) {
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  if (!kSha256 || !ctx || EVP_DigestInit_ex2(ctx.get(), kSha256, nullptr) != 1) Die();
  for (auto p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) Die();
  }
  core::Sha256Digest out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) Die();
  return out;
}

core::Sha256Digest RecordHash(const core::Sha256Digest& prev_hash, std::string_view body) {
  static constexpr char kZero = '\0';
  return Sha256Parts({kRecordHashDomain, std::string_view(&kZero, 1), AsView(prev_hash), body});
}

}  // namespace baagate::audit
