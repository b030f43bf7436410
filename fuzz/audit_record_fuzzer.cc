// libFuzzer target for the audit verifier's parsers of stored, attacker-reachable bytes:
//   - the one-pass walk that checks a stored row's index columns against its canonical body
//     (RowMismatch, which must agree with RowMismatchPortable) and BodySeq, over any body;
//   - the signed-note checkpoint parser (ParseCheckpointBody, OpenCheckpoint with a pinned key).
// Neither may crash, and no input may pass OpenCheckpoint against a key generated at start (the
// fuzzer cannot forge an Ed25519 signature). The first byte picks
// the parser. Build with -DBAAGATE_FUZZ_NO_ENTRY to reuse the body in the GCC corpus replay.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/checkpoint.h"
#include "audit/verify.h"

namespace baagate::fuzz {

inline int AuditRecordOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    audit::StoredRecord r;
    r.body = std::string(input);
    r.log_id = "fuzz";
    r.phase = "decision";
    r.event_id = "01890000-0000-7000-8000-000000000000";
    // The code picked for this CPU and the portable one must agree on every body.
    auto check = [&] {
      const audit::StoredRecordView v = audit::ViewOf(r);
      if (audit::RowMismatch(v) != audit::RowMismatchPortable(v)) std::abort();
    };
    (void)audit::BodySeq(r.body);
    check();
    if (auto seq = audit::BodySeq(r.body)) r.seq = *seq;
    check();
    return 0;
  }
  (void)audit::ParseCheckpointBody(input);
  static const audit::PublicKey key = [] {
    auto k = audit::SigningKey::Generate("fuzz");
    if (!k.ok()) std::abort();
    return k->public_key();
  }();
  if (audit::OpenCheckpoint(input, key).ok()) std::abort();
  return 0;
}

}  // namespace baagate::fuzz

#ifndef BAAGATE_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return baagate::fuzz::AuditRecordOneInput(data, size);
}
#endif
