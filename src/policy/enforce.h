// Enforcement: the conditions the gateway can make true itself (C-STATELESS, C-META, the
// Anthropic region hint), applied to the request body before the final evaluation. Each change
// is named in the returned actions, which the decision and the audit record carry.
//
// What cannot be made true without changing what the caller asked for — background mode,
// previous_response_id, conversation — is left alone, so the evaluation refuses it.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "policy/facts.h"

namespace baagate::policy {

struct EnforcementOptions {
  // HMAC key for end-user ids; empty: user ids are removed instead of pseudonymised.
  std::string_view pseudonym_key;
  // When the request carries a region hint the tenant does not allow, it is pinned to this
  // value (empty: left alone, and the evaluation refuses it).
  std::string pin_region;
  std::vector<std::string> allowed_regions;
};

struct EnforcementResult {
  std::vector<std::string> actions;  // set_store_false, strip_metadata, pseudonymize_user, …
  bool pseudonymized = false;        // end-user ids were replaced by keyed pseudonyms
};

// "bgu_" + the first 22 characters of base64url(HMAC-SHA256(key, user_id)).
std::string PseudonymizeUserId(std::string_view key, std::string_view user_id);

EnforcementResult Enforce(Surface surface, boost::json::object& body,
                          const EnforcementOptions& opts);

}  // namespace baagate::policy
