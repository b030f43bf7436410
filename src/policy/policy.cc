#include "policy/policy.h"

#include <boost/json.hpp>

#include <algorithm>

#include "config/yaml_reader.h"
#include "policy/config_hash.h"

namespace baagate::policy {

namespace {

using config::CoverageStatus;

// Features whose use stores content at rest on the vendor's side (C-KEY applies to them even
// when the tenant does not require customer-managed keys everywhere).
bool StoresAtRest(std::string_view item) {
  return item == "file_ref" || item == "s3_source" || item == "gcs_source" || item == "batch" ||
         item == "fine_tuning";
}

int FeatureSpecificity(std::string_view pattern, std::string_view item) {
  if (pattern == item) return 60;
  if (pattern == "*") return 0;
  if (pattern.back() == '*') return 20 + static_cast<int>(pattern.size());
  return 50;  // a set that lists the item exactly (prefix elements score lower below)
}

bool ElementMatches(std::string_view el, std::string_view item) {
  if (el == "*") return true;
  if (!el.empty() && el.back() == '*') return item.substr(0, el.size() - 1) == el.substr(0, el.size() - 1);
  return el == item;
}

void Add(std::vector<std::string>& v, std::string s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::string_view DecisionName(DecisionKind d) {
  switch (d) {
    case DecisionKind::kAllow: return "allow";
    case DecisionKind::kAllowDeidentified: return "allow_deidentified";
    case DecisionKind::kBlock: return "block";
  }
  return "block";
}

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kCovered: return "covered";
    case Scope::kConditionalMet: return "conditional_met";
    case Scope::kNotCovered: return "not_covered";
    case Scope::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string_view QuestionName(Question q) {
  switch (q) {
    case kEndpoint: return "endpoint";
    case kFeatures: return "features";
    case kConfiguration: return "configuration";
    case kSubprocessors: return "subprocessors";
    case kAudit: return "audit";
  }
  return "?";
}

bool FeaturePatternMatches(std::string_view pattern, std::string_view item) {
  if (pattern.size() >= 2 && pattern.front() == '{' && pattern.back() == '}') {
    std::string_view list = pattern.substr(1, pattern.size() - 2);
    while (!list.empty()) {
      auto comma = list.find(',');
      if (ElementMatches(list.substr(0, comma), item)) return true;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    return false;
  }
  return ElementMatches(pattern, item);
}

bool RegionAllowed(std::string_view region, const std::vector<std::string>& allowed) {
  if (region.empty()) return false;
  for (std::string_view a : allowed) {
    if (a.empty()) continue;
    if (a.back() == '*') {
      if (region.substr(0, a.size() - 1) == a.substr(0, a.size() - 1)) return true;
    } else if (region == a) {
      return true;
    } else if (region.size() > a.size() && region.substr(0, a.size()) == a &&
               (region[a.size()] == '-' || region[a.size()] == '.')) {
      return true;
    }
  }
  return false;
}

core::Result<std::shared_ptr<const PolicySet>> PolicySet::Build(config::RegistryDoc registry,
                                                                const config::Config& cfg) {
  auto set = std::make_shared<PolicySet>();
  set->registry_ = std::move(registry);
  set->tenant_ = cfg.tenant;
  set->apps_ = cfg.apps;
  for (const auto& r : set->registry_.rules) set->rules_by_provider_[r.provider].push_back(&r);
  for (const auto& c : cfg.tenant.contracts) {
    bool known = false;
    for (const auto& p : set->registry_.providers) known = known || p.vendor == c.vendor;
    if (!known) {
      return core::InvalidArgumentError(cfg.source + ":" + std::to_string(c.line) +
                                        ": tenant.contracts: vendor '" + c.vendor +
                                        "' is not a vendor of the registry");
    }
  }
  for (const auto& [name, u] : cfg.upstreams) {
    if (!set->FindProvider(u.provider)) {
      return core::InvalidArgumentError(cfg.source + ":" + std::to_string(u.line) + ": upstreams." +
                                        name + ".provider: not in the registry");
    }
  }
  set->config_hash_ = ConfigHash(cfg, set->registry_);
  return std::shared_ptr<const PolicySet>(std::move(set));
}

const config::RegistryProvider* PolicySet::FindProvider(std::string_view id) const {
  for (const auto& p : registry_.providers) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const config::RegistryRule* PolicySet::Match(std::string_view provider, std::string_view surface,
                                             std::string_view item, std::string_view model) const {
  auto it = rules_by_provider_.find(provider);
  if (it == rules_by_provider_.end()) return nullptr;
  const config::RegistryRule* best = nullptr;
  int best_score = -1;
  for (const config::RegistryRule* r : it->second) {
    if (r->surface != "*" && r->surface != surface) continue;
    if (!FeaturePatternMatches(r->feature, item)) continue;
    if (!config::ModelPatternMatches(r->models, model) && r->models != "*") continue;
    int score = (r->surface != "*" ? 100 : 0) + FeatureSpecificity(r->feature, item);
    if (r->models != "*") score += r->models.back() == '*' ? 5 + int(r->models.size()) : 40;
    if (score > best_score) {
      best = r;
      best_score = score;
    }
  }
  return best;
}

Decision PolicySet::Evaluate(const RequestFacts& facts, const CallContext& ctx) const {
  Decision d;
  d.registry_version = registry_.sha256;
  d.config_hash = config_hash_;
  auto& q = d.questions;
  auto fail = [&](Question which, std::string reason) {
    q[which].ok = false;
    Add(q[which].reasons, std::move(reason));
  };

  const config::RegistryProvider* provider = FindProvider(facts.provider);
  const std::string today = config::DateOfEpoch(ctx.now);
  const config::ContractConfig* contract = nullptr;
  const config::AttestationConfig* attestation = nullptr;
  if (provider) {
    for (const auto& c : tenant_.contracts) {
      if (c.vendor == provider->vendor) contract = &c;
    }
    for (const auto& a : tenant_.attestations) {
      if (a.vendor == provider->vendor) attestation = &a;
    }
    d.subprocessor_chain = provider->chain;
  }
  if (contract) {
    d.contract_id = contract->id;
    d.contract_effective_date = contract->effective_date;
  }
  const config::AppConfig* app = nullptr;
  for (const auto& a : apps_) {
    if (a.id == ctx.app) app = &a;
  }

  // Configuration facts, recorded whether or not a rule asks for them.
  // An Anthropic inference_geo hint must itself be allowed ("global" is not a US region).
  d.region_ok = RegionAllowed(facts.region, tenant_.allowed_regions) &&
                (facts.inference_geo.empty() ||
                 RegionAllowed(facts.inference_geo, tenant_.allowed_regions));
  d.private_connectivity = facts.private_connectivity;
  // A verification time in the future (beyond clock skew) is as untrustworthy as a stale one.
  const bool attestation_future = attestation && attestation->verified_at > ctx.now + 300;
  const bool attestation_fresh = attestation && !attestation_future &&
                                 ctx.now - attestation->verified_at <= tenant_.attestation_max_age_s;
  if (attestation) {
    d.config_retention = std::string(attestation->verified ? "verified:" : "asserted:") +
                         attestation->retention;
    d.config_checked_at = attestation->verified_at;
    d.customer_managed_keys = attestation->customer_managed_keys && attestation_fresh;
  } else {
    d.config_retention = "absent";
  }

  bool never = false;
  bool unknown = false;
  if (!provider) {
    fail(kEndpoint, "UNKNOWN_PROVIDER");
    unknown = true;
  } else if (provider->never) {
    fail(kEndpoint, "NEVER_COVERED");
    never = true;
  }
  if (!facts.extraction_error.empty()) {
    fail(kFeatures, "UNREADABLE_REQUEST");
    unknown = true;
  }
  for (const auto& f : facts.unknown_fields) fail(kFeatures, "UNKNOWN_FIELD:" + f);

  // One condition, checked for one item. Returns false and records the reason when unmet.
  auto check = [&](std::string_view cond, const config::RegistryRule& rule,
                   const std::string& item) -> bool {
    const bool core = item == "core";
    if (cond == "C-BAA") {
      if (!contract) {
        fail(kEndpoint, "NO_BAA:" + (provider ? provider->vendor : std::string("?")));
        return false;
      }
      if (contract->effective_date > today) {
        fail(kEndpoint, "BAA_NOT_YET_EFFECTIVE");
        return false;
      }
      return true;
    }
    if (cond == "C-LIST") {
      if (contract && (contract->dynamic_eligibility ||
                       std::find(contract->include_features.begin(),
                                 contract->include_features.end(),
                                 item) != contract->include_features.end())) {
        return true;
      }
      fail(core ? kEndpoint : kFeatures, "FEATURE_NOT_LISTED:" + item);
      return false;
    }
    if (cond == "C-DATE") return true;  // effective dating applies to every rule (below)
    if (cond == "C-GA") {
      if (facts.preview) {
        fail(core ? kEndpoint : kFeatures, "NOT_GENERALLY_AVAILABLE");
        return false;
      }
      return true;
    }
    if (cond == "C-RET") {
      if (!attestation) {
        fail(kConfiguration, "RETENTION_UNVERIFIED");
        return false;
      }
      if (!attestation_fresh) {
        fail(kConfiguration, attestation_future ? "ATTESTATION_IN_FUTURE" : "ATTESTATION_STALE");
        return false;
      }
      if (std::find(provider->retention_ok.begin(), provider->retention_ok.end(),
                    attestation->retention) == provider->retention_ok.end()) {
        fail(kConfiguration, "RETENTION_MODE_NOT_ALLOWED");
        return false;
      }
      return true;
    }
    if (cond == "C-STATELESS") {
      bool ok = true;
      if (facts.store) fail(kConfiguration, "STATEFUL:store"), ok = false;
      if (facts.background) fail(kConfiguration, "STATEFUL:background"), ok = false;
      if (facts.conversation_state) fail(kConfiguration, "STATEFUL:conversation_state"), ok = false;
      if (facts.HasFeature("file_ref")) fail(kConfiguration, "STATEFUL:file_ref"), ok = false;
      return ok;
    }
    if (cond == "C-REGION") {
      if (facts.region.empty()) {
        fail(kConfiguration, "REGION_UNKNOWN");
        return false;
      }
      if (!d.region_ok) {
        fail(kConfiguration, "REGION_NOT_ALLOWED");
        return false;
      }
      return true;
    }
    if (cond == "C-NET") {
      if (tenant_.require_private_connectivity && !facts.private_connectivity) {
        fail(kConfiguration, "PRIVATE_CONNECTIVITY_REQUIRED");
        return false;
      }
      return true;
    }
    if (cond == "C-KEY") {
      if ((tenant_.require_customer_managed_keys || StoresAtRest(item)) && !d.customer_managed_keys) {
        fail(kConfiguration, "CUSTOMER_MANAGED_KEYS_REQUIRED");
        return false;
      }
      return true;
    }
    if (cond == "C-SUB") {
      std::vector<std::string> recipients = facts.recipients;
      if (app && item.rfind("tools.", 0) == 0) {
        recipients.insert(recipients.end(), app->tool_targets.begin(), app->tool_targets.end());
      }
      bool ok = true;
      for (const auto& r : recipients) {
        bool covered = false;
        for (const auto& s : tenant_.subprocessors) covered = covered || (s.id == r && s.baa);
        if (!covered) {
          fail(kSubprocessors, "SUBPROCESSOR_NOT_COVERED:" + r);
          ok = false;
        }
      }
      return ok;
    }
    if (cond == "C-META") {
      bool ok = true;
      if (facts.metadata_attached) fail(kConfiguration, "METADATA_PRESENT"), ok = false;
      if (facts.end_user_id && !facts.end_user_pseudonymized) {
        fail(kConfiguration, "END_USER_ID_NOT_PSEUDONYMIZED");
        ok = false;
      }
      return ok;
    }
    (void)rule;
    fail(kEndpoint, "UNKNOWN_CONDITION");
    return false;
  };

  // Request-wide conditions give the same answer for every item: check each once.
  enum Memo : signed char { kUnchecked = -1, kUnmet = 0, kMet = 1 };
  constexpr std::string_view kRequestWide[] = {"C-BAA", "C-RET", "C-STATELESS", "C-REGION",
                                               "C-NET", "C-META"};
  Memo memo[std::size(kRequestWide)] = {kUnchecked, kUnchecked, kUnchecked,
                                        kUnchecked, kUnchecked, kUnchecked};
  auto checked = [&](std::string_view cond, const config::RegistryRule& rule,
                     const std::string& item) -> bool {
    for (std::size_t i = 0; i < std::size(kRequestWide); ++i) {
      if (cond != kRequestWide[i]) continue;
      if (memo[i] == kUnchecked) memo[i] = check(cond, rule, item) ? kMet : kUnmet;
      return memo[i] == kMet;
    }
    return check(cond, rule, item);
  };

  bool all_covered = true;
  if (provider && !never) {
    std::vector<std::string> items;
    items.reserve(facts.features.size() + 1);
    items.emplace_back("core");
    items.insert(items.end(), facts.features.begin(), facts.features.end());
    for (const std::string& item : items) {
      const bool core = item == "core";
      const Question where = core ? kEndpoint : kFeatures;
      ItemResult ir;
      ir.item = item;
      const config::RegistryRule* rule = Match(facts.provider, facts.surface, item, facts.model);
      if (!rule) {
        fail(where, core ? std::string("NO_RULE") : "NO_RULE:" + item);
        d.items.push_back(std::move(ir));
        all_covered = false;
        continue;
      }
      ir.rule_id = rule->id;
      Add(d.rule_ids, rule->id);
      CoverageStatus status = rule->status;
      const bool named = contract && std::find(contract->include_features.begin(),
                                               contract->include_features.end(),
                                               item) != contract->include_features.end();
      const bool excluded = contract && std::find(contract->exclude_features.begin(),
                                                  contract->exclude_features.end(),
                                                  item) != contract->exclude_features.end();
      if (status == CoverageStatus::kNotCovered && named) status = CoverageStatus::kCond;
      ir.status = status;
      bool ok = true;
      if (status == CoverageStatus::kNever) {
        fail(where, core ? std::string("NEVER_COVERED") : "NEVER_COVERED:" + item);
        never = true;
        ok = false;
      } else if (excluded) {
        fail(where, "EXCLUDED_BY_CONTRACT:" + item);
        ok = false;
      } else if (status == CoverageStatus::kNotCovered) {
        fail(where, core ? std::string("ENDPOINT_NOT_COVERED") : "FEATURE_NOT_COVERED:" + item);
        ok = false;
      } else {
        // Effective dating (§7.3 rule 3).
        if (!rule->eligible_from.empty() && contract) {
          const std::string& as_of = contract->dynamic_eligibility ? today : contract->effective_date;
          if (rule->eligible_from > as_of) {
            fail(where, contract->dynamic_eligibility ? "FEATURE_NOT_YET_ELIGIBLE:" + item
                                                      : "FEATURE_AFTER_CONTRACT_DATE:" + item);
            ok = false;
          }
        }
        if (!rule->eligible_until.empty() && rule->eligible_until < today) {
          fail(where, "FEATURE_NO_LONGER_ELIGIBLE:" + item);
          ok = false;
        }
        bool has_baa = false;
        for (const auto& c : rule->conditions) {
          has_baa = has_baa || c == "C-BAA";
          if (!checked(c, *rule, item)) ok = false;
        }
        if (!has_baa && !checked("C-BAA", *rule, item)) ok = false;  // the baseline of every row
      }
      ir.ok = ok;
      all_covered = all_covered && ok && status == CoverageStatus::kCovered;
      d.items.push_back(std::move(ir));
    }
  }
  q[kAudit].ok = true;  // decided by the caller when the decision record is written

  bool in_scope = true;
  for (const auto& qr : q) {
    in_scope = in_scope && qr.ok;
    d.reasons.insert(d.reasons.end(), qr.reasons.begin(), qr.reasons.end());
  }
  SortUnique(d.reasons);
  SortUnique(d.rule_ids);
  if (unknown) {
    d.scope = Scope::kUnknown;
  } else if (!in_scope) {
    d.scope = Scope::kNotCovered;
  } else {
    d.scope = all_covered ? Scope::kCovered : Scope::kConditionalMet;
  }

  if (in_scope) {
    d.decision = DecisionKind::kAllow;
  } else {
    // A de-identified fallback is possible only where Safe Harbor de-identification can remove
    // what the vendor would receive: text only, every field understood, no "never" product.
    bool text_only = facts.modalities_in.size() <= 1 &&
                     (facts.modalities_in.empty() || facts.modalities_in[0] == "text");
    bool fallback = app && app->deidentified_fallback && ctx.route_allows_deidentified && !never &&
                    !unknown && facts.unknown_fields.empty() && text_only;
    d.decision = fallback ? DecisionKind::kAllowDeidentified : DecisionKind::kBlock;
  }
  return d;
}

boost::json::object DecisionToJson(const Decision& d) {
  namespace json = boost::json;
  auto strings = [](const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
  };
  json::object questions;
  for (int i = 0; i < 5; ++i) {
    questions[QuestionName(static_cast<Question>(i))] =
        json::object{{"ok", d.questions[i].ok}, {"reasons", strings(d.questions[i].reasons)}};
  }
  json::array items;
  for (const auto& it : d.items) {
    items.push_back(json::object{{"item", it.item},
                                 {"rule", it.rule_id.empty() ? json::value(nullptr) : json::value(it.rule_id)},
                                 {"status", config::CoverageStatusName(it.status)},
                                 {"ok", it.ok}});
  }
  json::object contract;
  if (!d.contract_id.empty()) {
    contract = json::object{{"id", d.contract_id}, {"effective_date", d.contract_effective_date}};
  }
  return json::object{
      {"decision", DecisionName(d.decision)},
      {"baa_in_scope", ScopeName(d.scope)},
      {"questions", std::move(questions)},
      {"items", std::move(items)},
      {"rule_ids", strings(d.rule_ids)},
      {"reasons", strings(d.reasons)},
      {"contract", contract.empty() ? json::value(nullptr) : json::value(std::move(contract))},
      {"registry_version", d.registry_version},
      {"config_hash", d.config_hash},
      {"subprocessor_chain", strings(d.subprocessor_chain)},
      {"config_retention", d.config_retention},
      {"config_checked_at", d.config_checked_at},
      {"config_flags", json::object{{"region_ok", d.region_ok},
                                    {"private_connectivity", d.private_connectivity},
                                    {"customer_managed_keys", d.customer_managed_keys}}},
      {"enforcement_actions", strings(d.enforcement_actions)}};
}

}  // namespace baagate::policy
