// Replays fuzz/corpus/audit_record (the seeds and every crash reproducer) under GCC, so the audit
// fuzz target's findings stay regression tests in the ordinary unit-test run.
#define BAAGATE_FUZZ_NO_ENTRY
#include "../../fuzz/audit_record_fuzzer.cc"  // NOLINT: the target under test

#include "../../fuzz/replay.h"

namespace {

TEST(FuzzCorpusReplay, AuditRecordSeedsRunClean) {
  EXPECT_GE(baagate::fuzz::ReplayCorpus("audit_record", baagate::fuzz::AuditRecordOneInput), 5);
}

}  // namespace
