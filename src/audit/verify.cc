#include "audit/verify.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "audit/chain.h"
#include "audit/merkle.h"

namespace baagate::audit {

namespace {

std::string MirrorName(std::string_view log_id) {
  std::string s(log_id);
  std::replace(s.begin(), s.end(), '/', '_');
  return s;
}

std::vector<std::string> MirrorNotes(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 5 && name.substr(name.size() - 5) == ".note") {
      std::ifstream in(dir + "/" + name, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      out.push_back(ss.str());
    }
  }
  ::closedir(d);
  return out;
}

VerifyReport Fail(VerifyReport r, std::optional<std::uint64_t> seq, std::string problem) {
  r.ok = false;
  r.first_bad_seq = seq;
  r.problem = std::move(problem);
  return r;
}

}  // namespace

std::optional<std::uint64_t> BodySeq(std::string_view body) {
  // Top-level "seq" is the last occurrence: JCS sorts keys, and the only nested objects that can
  // follow it ("usage") have fixed keys. Strings cannot hold '"', so this cannot match inside one.
  constexpr std::string_view kKey = "\"seq\":";
  auto pos = body.rfind(kKey);
  if (pos == std::string_view::npos) return std::nullopt;
  pos += kKey.size();
  std::uint64_t n = 0;
  std::size_t digits = 0;
  while (pos < body.size() && body[pos] >= '0' && body[pos] <= '9' && digits < 19) {
    n = n * 10 + static_cast<std::uint64_t>(body[pos++] - '0');
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  return n;
}

core::Result<VerifyReport> VerifyLog(Store& store, const std::string& log_id,
                                     const VerifyOptions& options) {
  VerifyReport report;
  report.log_id = log_id;
  if (!options.key) return core::InvalidArgumentError("verify: a public key is required");

  // 1. Checkpoints, signed by the pinned key; the mirror fills in any the store lost.
  auto stored = store.Checkpoints(log_id);
  if (!stored.ok()) return stored.status();
  std::vector<std::string> notes;
  for (const auto& cp : *stored) notes.push_back(cp.note);
  if (!options.mirror_dir.empty()) {
    auto mirrored = MirrorNotes(options.mirror_dir + "/" + MirrorName(log_id));
    notes.insert(notes.end(), mirrored.begin(), mirrored.end());
  }
  std::map<std::uint64_t, Checkpoint> checkpoints;
  for (const auto& note : notes) {
    auto cp = OpenCheckpoint(note, *options.key);
    if (!cp.ok()) {
      return Fail(report, std::nullopt, "checkpoint: " + cp.status().message());
    }
    auto [it, inserted] = checkpoints.emplace(cp->tree_size, *cp);
    if (!inserted && (it->second.root != cp->root || it->second.chain_head != cp->chain_head)) {
      return Fail(report, std::nullopt,
                  "two signed checkpoints disagree at tree size " + std::to_string(cp->tree_size) +
                      " (split view)");
    }
  }
  for (auto it = checkpoints.begin(); it != checkpoints.end(); ++it) {
    if (it != checkpoints.begin() && std::prev(it)->second.ts_ms > it->second.ts_ms) {
      return Fail(report, std::nullopt,
                  "checkpoint at tree size " + std::to_string(it->first) +
                      " is older than a smaller one (tree size decreased over time)");
    }
  }
  report.checkpoints = checkpoints.size();

  // 2 and 3. Records, streamed.
  MerkleTree tree;
  core::Sha256Digest prev{};
  std::uint64_t expected = 0;
  auto next_cp = checkpoints.begin();
  std::optional<VerifyReport> failure;
  auto check_checkpoint = [&]() -> bool {
    while (next_cp != checkpoints.end() && next_cp->first == tree.size()) {
      const Checkpoint& cp = next_cp->second;
      if (cp.tree_size > 0 && (tree.Root() != cp.root || prev != cp.chain_head)) {
        failure = Fail(report, cp.tree_size - 1,
                       "Merkle root or chain head differs from the checkpoint signed at tree "
                       "size " + std::to_string(cp.tree_size));
        return false;
      }
      ++next_cp;
    }
    return true;
  };
  if (!check_checkpoint()) return *failure;
  auto s = store.Scan(log_id, 0, [&](const StoredRecord& r) {
    if (r.seq != expected) {
      failure = Fail(report, expected,
                     r.seq > expected ? "seq " + std::to_string(expected) + " is missing (next is " +
                                            std::to_string(r.seq) + ")"
                                      : "seq out of order");
      return false;
    }
    core::Sha256Digest h = RecordHash(prev, r.body);
    if (r.prev_hash != prev) {
      failure = Fail(report, r.seq, "prev_hash does not link to the previous record");
      return false;
    }
    if (h != r.record_hash) {
      failure = Fail(report, r.seq, "record_hash does not match the record (altered, inserted "
                                    "or reordered)");
      return false;
    }
    if (BodySeq(r.body) != r.seq) {
      failure = Fail(report, r.seq, "the record's seq field differs from its position");
      return false;
    }
    tree.AppendLeafHash(HashLeaf(AsView(h)));
    prev = h;
    ++expected;
    return check_checkpoint();
  });
  if (!s.ok()) return s;
  if (failure) {
    failure->records = expected;
    return *failure;
  }
  report.records = expected;
  if (next_cp != checkpoints.end()) {
    return Fail(report, expected,
                "log truncated: a checkpoint covers " + std::to_string(next_cp->first) +
                    " records but only " + std::to_string(expected) + " are stored");
  }

  // 4. Consistency between consecutive checkpoints (each root was also recomputed above).
  const Checkpoint* last = nullptr;
  for (const auto& [size, cp] : checkpoints) {
    if (last && last->tree_size > 0) {
      auto proof = tree.ConsistencyProof(last->tree_size, size);
      if (!VerifyConsistency(last->tree_size, size, last->root, cp.root, proof)) {
        return Fail(report, size - 1,
                    "checkpoints " + std::to_string(last->tree_size) + " and " +
                        std::to_string(size) + " are not consistent");
      }
    }
    last = &cp;
  }

  // 5. The unsigned tail.
  report.signed_size = checkpoints.empty() ? 0 : checkpoints.rbegin()->first;
  report.unsigned_tail = report.records - report.signed_size;
  report.ok = true;
  return report;
}

}  // namespace baagate::audit
