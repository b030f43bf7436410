// Inclusion proofs for one record against a signed checkpoint (`baagate audit prove`), as a
// self-contained JSON document (docs/formats/audit.md) that CheckProof — or any RFC 9162
// implementation plus an Ed25519 signed-note verifier — can check without the log.
#pragma once

#include <boost/json/object.hpp>

#include <string>

#include "audit/checkpoint.h"
#include "audit/store.h"

namespace baagate::audit {

// Finds `event_id`, takes the latest checkpoint of its log that covers it and returns the proof.
// kNotFound if the event is unknown or not yet covered by a checkpoint.
core::Result<boost::json::object> BuildProof(Store& store, const std::string& event_id);

// Checks a proof: the record hashes to record_hash, the leaf is included under the checkpoint's
// root, and the checkpoint carries a valid signature by `pinned` (required: a proof is only as
// good as the key the checker trusts).
core::Status CheckProof(const boost::json::object& proof, const PublicKey* pinned);

}  // namespace baagate::audit
