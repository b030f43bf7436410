#include "policy/block.h"

#include <boost/json.hpp>

namespace baagate::policy {

namespace json = boost::json;

namespace {

bool Starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

struct Hint {
  std::string_view prefix;
  std::string_view sentence;
};

// In order of what to fix first: without a contract nothing else matters.
constexpr Hint kHints[] = {
    {"UNREADABLE_REQUEST", "Send a well-formed request body for this endpoint."},
    {"UNKNOWN_PROVIDER", "Route this model to an upstream whose provider is in the coverage registry."},
    {"NEVER_COVERED", "This product or endpoint can never carry PHI; use a covered API instead."},
    {"NO_BAA", "Record an executed BAA with this vendor under tenant.contracts, or route the model to a vendor you hold a BAA with."},
    {"BAA_NOT_YET_EFFECTIVE", "The BAA with this vendor is not yet in effect; wait for its effective date or route elsewhere."},
    {"NO_RULE", "Nobody has reviewed this endpoint or feature for BAA coverage; add a registry rule after checking your agreement, or stop using it."},
    {"UNKNOWN_FIELD", "Remove the request fields the gateway does not recognise, or add them to the registry after review."},
    {"ENDPOINT_NOT_COVERED", "This endpoint is outside the BAA; use a covered endpoint or a de-identified fallback route."},
    {"EXCLUDED_BY_CONTRACT", "Your contract carves this feature out; remove it from the request."},
    {"FEATURE_NOT_COVERED", "Remove the uncovered feature from the request, or name it in the contract's include_features if your agreement covers it."},
    {"FEATURE_NOT_LISTED", "Name the feature in the contract's include_features once the vendor's eligibility list or your agreement covers it."},
    {"FEATURE_AFTER_CONTRACT_DATE", "The feature became eligible after your contract's effective date; amend the contract or move to a dynamic eligibility list."},
    {"FEATURE_NOT_YET_ELIGIBLE", "The feature is not yet eligible under the vendor's list; remove it from the request."},
    {"FEATURE_NO_LONGER_ELIGIBLE", "The feature is no longer eligible; remove it from the request."},
    {"NOT_GENERALLY_AVAILABLE", "Use a generally available model or API version instead of a preview."},
    {"STATEFUL", "Send the call without server-side state (no background, previous_response_id, conversation or file ids)."},
    {"RETENTION_UNVERIFIED", "Verify the vendor's retention setting (for example zero data retention) and record it under tenant.attestations."},
    {"ATTESTATION_STALE", "Re-verify the vendor configuration and update verified_at under tenant.attestations."},
    {"RETENTION_MODE_NOT_ALLOWED", "Switch the vendor account to a retention mode the registry accepts for PHI."},
    {"REGION_UNKNOWN", "Declare the upstream's processing region (upstreams.<name>.region)."},
    {"REGION_NOT_ALLOWED", "Use an upstream in one of the tenant's allowed regions."},
    {"PRIVATE_CONNECTIVITY_REQUIRED", "Reach this vendor over private connectivity, as the tenant requires."},
    {"CUSTOMER_MANAGED_KEYS_REQUIRED", "Enable customer-managed keys with the vendor and record them in the attestation."},
    {"SUBPROCESSOR_NOT_COVERED", "Record a BAA for every tool, MCP or data-store recipient under tenant.subprocessors, or remove it."},
    {"METADATA_PRESENT", "Remove metadata from the request."},
    {"END_USER_ID_NOT_PSEUDONYMIZED", "Configure tenant.pseudonym_key so end-user ids can be pseudonymised."},
    {"AUDIT_UNAVAILABLE", "The audit log cannot record the call; an operator must restore it."},
    {"DEID_UNAVAILABLE", "De-identification is unavailable for this call; send it on a covered route."},
};

}  // namespace

std::string FixHint(const Decision& d) {
  for (const Hint& h : kHints) {
    for (const auto& r : d.reasons) {
      if (Starts(r, h.prefix)) return std::string(h.sentence);
    }
  }
  return "Bring the call within the organisation's BAA scope.";
}

std::string BlockBody(Dialect dialect, const Decision& d, std::string_view request_id) {
  json::array reasons;
  for (const auto& r : d.reasons) reasons.emplace_back(r);
  std::string message = "This call is outside the organisation's BAA scope and was not sent. " +
                        FixHint(d);
  if (dialect == Dialect::kAnthropic) {
    return json::serialize(json::object{
        {"type", "error"},
        {"error", json::object{{"type", "permission_error"},
                               {"message", message},
                               {"code", "baa_scope_violation"},
                               {"reasons", std::move(reasons)}}},
        {"request_id", request_id}});
  }
  return json::serialize(json::object{
      {"error", json::object{{"message", message},
                             {"type", "permission_error"},
                             {"param", nullptr},
                             {"code", "baa_scope_violation"},
                             {"reasons", std::move(reasons)},
                             {"request_id", request_id}}}});
}

}  // namespace baagate::policy
