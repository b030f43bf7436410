#include "audit/proof.h"

#include <boost/json.hpp>

#include "audit/chain.h"
#include "audit/merkle.h"
#include "audit/verify.h"

namespace baagate::audit {

core::Result<boost::json::object> BuildProof(Store& store, const std::string& event_id) {
  auto found = store.FindEvent(event_id);
  if (!found.ok()) return found.status();
  if (!*found) return core::NotFoundError("prove: no record with event_id " + event_id);
  const StoredRecord rec = **found;
  auto cps = store.Checkpoints(rec.log_id);
  if (!cps.ok()) return cps.status();
  if (cps->empty() || cps->back().tree_size <= rec.seq) {
    return core::NotFoundError("prove: no checkpoint covers seq " + std::to_string(rec.seq) +
                               " yet; retry after the next checkpoint");
  }
  const StoredCheckpoint& cp = cps->back();
  auto parsed = ParseCheckpointBody(cp.note);
  if (!parsed.ok()) return parsed.status();
  MerkleTree tree;
  auto s = store.Scan(rec.log_id, 0, [&](const StoredRecord& r) {
    tree.AppendLeafHash(HashLeaf(AsView(r.record_hash)));
    return tree.size() < cp.tree_size;
  });
  if (!s.ok()) return s;
  if (tree.size() != cp.tree_size) {
    return core::Status(core::StatusCode::kDataLoss,
                        "prove: the log is shorter than its checkpoint; run audit verify");
  }
  if (tree.Root() != parsed->root) {
    return core::Status(core::StatusCode::kDataLoss,
                        "prove: stored records do not match the checkpoint; run audit verify");
  }
  boost::json::array path;
  for (const auto& h : tree.InclusionProof(rec.seq, cp.tree_size)) path.emplace_back(core::HexEncode(h));
  boost::json::object out;
  out["format"] = "baagate.audit-proof/1";
  out["log_id"] = rec.log_id;
  out["event_id"] = rec.event_id;
  out["seq"] = rec.seq;
  out["record"] = rec.body;
  out["prev_hash"] = core::HexEncode(rec.prev_hash);
  out["record_hash"] = core::HexEncode(rec.record_hash);
  out["leaf_index"] = rec.seq;
  out["tree_size"] = cp.tree_size;
  out["inclusion_path"] = std::move(path);
  out["checkpoint"] = cp.note;
  out["how_to_check"] =
      "record_hash = SHA-256(\"baagate-audit-v1\" || 0x00 || prev_hash || record); "
      "leaf = SHA-256(0x00 || record_hash); verify inclusion_path for leaf_index in tree_size "
      "(RFC 9162 2.1.3.2) against the checkpoint's root (line 3, base64); verify the "
      "checkpoint's Ed25519 signed-note signature with the log's pinned public key. "
      "Or: baagate audit prove --check FILE --pubkey KEY.pub";
  return out;
}

core::Status CheckProof(const boost::json::object& proof, const PublicKey* pinned) {
  auto bad = [](std::string m) { return core::Status(core::StatusCode::kDataLoss, "proof: " + m); };
  try {
    const std::string record(proof.at("record").as_string());
    core::Sha256Digest prev{}, claimed{};
    if (!core::ParseSha256Hex(proof.at("prev_hash").as_string(), &prev) ||
        !core::ParseSha256Hex(proof.at("record_hash").as_string(), &claimed)) {
      return bad("malformed hashes");
    }
    core::Sha256Digest h = RecordHash(prev, record);
    if (h != claimed) return bad("the record does not hash to record_hash");
    std::uint64_t index = proof.at("leaf_index").to_number<std::uint64_t>();
    std::uint64_t size = proof.at("tree_size").to_number<std::uint64_t>();
    if (BodySeq(record) != index) return bad("the record's seq is not the leaf index");
    std::vector<Hash> path;
    for (const auto& e : proof.at("inclusion_path").as_array()) {
      Hash p{};
      if (!core::ParseSha256Hex(e.as_string(), &p)) return bad("malformed inclusion path");
      path.push_back(p);
    }
    std::string note(proof.at("checkpoint").as_string());
    if (!pinned) {
      return core::InvalidArgumentError("proof: a pinned public key is required (--pubkey)");
    }
    core::Result<Checkpoint> cp = OpenCheckpoint(note, *pinned);
    if (!cp.ok()) return cp.status();
    if (cp->tree_size != size) return bad("tree_size differs from the checkpoint");
    if (!VerifyInclusion(index, size, HashLeaf(AsView(h)), path, cp->root)) {
      return bad("the inclusion path does not lead to the checkpoint's root");
    }
    return {};
  } catch (const std::exception&) {
    return bad("malformed proof document");
  }
}

}  // namespace baagate::audit
