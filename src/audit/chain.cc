#include "audit/chain.h"

#include "core/sha256_pieces.h"

namespace baagate::audit {

core::Sha256Digest Sha256Parts(std::initializer_list<std::string_view> parts) {
  return core::Sha256Of(core::Sha256Pieces(parts));
}

namespace {

// The domain tag and its 0x00 separator: the record hash's first piece, before prev_hash.
constexpr char kRecordPrefix[] = "baagate-audit-v1";  // with its terminating 0x00
constexpr std::string_view kRecordPrefixView(kRecordPrefix, sizeof kRecordPrefix);
static_assert(kRecordPrefixView.size() == kRecordHashDomain.size() + 1 &&
              kRecordPrefixView.substr(0, kRecordHashDomain.size()) == kRecordHashDomain);

}  // namespace

core::Sha256Digest RecordHash(const core::Sha256Digest& prev_hash, std::string_view body) {
  return core::Sha256Of({kRecordPrefixView, AsView(prev_hash), body});
}

void RecordHashTwo(const core::Sha256Digest& prev_a, std::string_view body_a,
                   const core::Sha256Digest& prev_b, std::string_view body_b,
                   core::Sha256Digest& out_a, core::Sha256Digest& out_b) {
  core::Sha256OfTwo({kRecordPrefixView, AsView(prev_a), body_a},
                    {kRecordPrefixView, AsView(prev_b), body_b}, out_a, out_b);
}

}  // namespace baagate::audit
