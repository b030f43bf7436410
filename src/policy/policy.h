// The five-question policy engine (COMPLIANCE.md §1, §7.3).
//
// A PolicySet is compiled once from the coverage registry and the tenant's configuration
// (contracts, attestations, sub-processors, apps) and is immutable; `Evaluate` is a pure
// function of the set, the request facts and the call context, so a decision can be
// reproduced later from the registry version and configuration hash it records.
//
// Default deny: no matching rule, an unknown provider, an unreadable body or an unknown field
// all block. Every feature is resolved on its own; one uncovered feature makes the call not
// covered.
#pragma once

#include <boost/json/object.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/registry.h"
#include "core/status.h"
#include "policy/facts.h"

namespace baagate::policy {

enum class DecisionKind { kAllow, kAllowDeidentified, kBlock };
std::string_view DecisionName(DecisionKind d);  // allow, allow_deidentified, block

// The audit record's baa_in_scope.
enum class Scope { kCovered, kConditionalMet, kNotCovered, kUnknown };
std::string_view ScopeName(Scope s);  // covered, conditional_met, not_covered, unknown

enum Question { kEndpoint = 0, kFeatures, kConfiguration, kSubprocessors, kAudit };
std::string_view QuestionName(Question q);  // endpoint, features, configuration, …

struct QuestionResult {
  bool ok = true;
  std::vector<std::string> reasons;  // machine-readable codes, e.g. FEATURE_NOT_COVERED:web_search
};

// How one item ("core" or a feature tag) resolved.
struct ItemResult {
  std::string item;
  std::string rule_id;  // empty: no rule matched
  config::CoverageStatus status = config::CoverageStatus::kNotCovered;
  bool ok = false;
};

struct Decision {
  DecisionKind decision = DecisionKind::kBlock;
  Scope scope = Scope::kUnknown;
  std::array<QuestionResult, 5> questions;
  std::vector<ItemResult> items;
  std::vector<std::string> rule_ids;   // sorted, unique
  std::vector<std::string> reasons;    // every question's reasons, sorted, unique
  std::string contract_id;             // empty: no contract with the vendor
  std::string contract_effective_date;
  std::string registry_version;        // SHA-256 of the registry document
  std::string config_hash;             // SHA-256 of the effective configuration
  std::vector<std::string> subprocessor_chain;
  std::string config_retention;        // verified:<mode> | asserted:<mode> | absent
  std::int64_t config_checked_at = 0;  // the attestation's verified_at; 0 if none
  bool region_ok = false;
  bool private_connectivity = false;
  bool customer_managed_keys = false;
  std::vector<std::string> enforcement_actions;  // filled by Enforce
};

struct CallContext {
  std::string app;  // the gateway key's app id
  bool route_allows_deidentified = false;
  std::int64_t now = 0;  // seconds since the epoch (UTC)
};

class PolicySet {
 public:
  static core::Result<std::shared_ptr<const PolicySet>> Build(config::RegistryDoc registry,
                                                              const config::Config& cfg);

  Decision Evaluate(const RequestFacts& facts, const CallContext& ctx) const;

  const config::RegistryDoc& registry() const { return registry_; }
  const config::TenantConfig& tenant() const { return tenant_; }
  const std::string& config_hash() const { return config_hash_; }
  // The registry's provider record, or null.
  const config::RegistryProvider* FindProvider(std::string_view id) const;
  // The most specific rule for one item, or null (exposed for the coverage matrix and tests).
  const config::RegistryRule* Match(std::string_view provider, std::string_view surface,
                                    std::string_view item, std::string_view model) const;

 private:
  config::RegistryDoc registry_;
  config::TenantConfig tenant_;
  std::vector<config::AppConfig> apps_;
  std::string config_hash_;
  std::map<std::string, std::vector<const config::RegistryRule*>, std::less<>> rules_by_provider_;
};

// The decision as JSON (for `scope check`, logs of decisions and the audit module):
// decision, baa_in_scope, questions{…{ok,reasons}}, items, rule ids, reasons, contract,
// registry_version, config_hash, subprocessor_chain, config_retention, config_flags,
// enforcement_actions. Holds codes and ids only, never request content.
boost::json::object DecisionToJson(const Decision& d);

// Whether `region` is allowed by an entry of `allowed` ("us" allows us, us-east-1, us.…;
// "eastus*" is a prefix; anything else must be equal).
bool RegionAllowed(std::string_view region, const std::vector<std::string>& allowed);
// Whether a registry feature pattern ("core", "tools.*", "{a,b.*}", "*") matches `item`.
bool FeaturePatternMatches(std::string_view pattern, std::string_view item);

}  // namespace baagate::policy
