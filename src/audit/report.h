// The compliance report (`baagate audit report`): what happened in a time range, from the
// records alone (no content), plus the verification result of every chain in the store.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "audit/store.h"
#include "audit/verify.h"

namespace baagate::audit {

struct Report {
  std::int64_t from_ms = 0, to_ms = 0;
  std::uint64_t records = 0, decisions = 0, outcomes = 0;
  std::map<std::string, std::uint64_t> by_decision, by_scope, by_provider, by_status;
  std::map<std::string, std::uint64_t> block_reasons;    // scope_reasons of blocked calls
  std::map<std::string, std::uint64_t> deid_by_class;    // phi_findings summed
  std::map<std::string, std::uint64_t> drift;            // config_hash/policy/registry changes
  std::uint64_t outcomes_without_decision_in_range = 0;
  std::vector<VerifyReport> verification;
  std::string verification_error;  // set when a chain could not be read at all
};

// Aggregates records with ts in [from_ms, to_ms); verifies every chain with `key` if given.
core::Result<Report> BuildReport(Store& store, std::int64_t from_ms, std::int64_t to_ms,
                                 const PublicKey* key);

boost::json::object ReportJson(const Report& r);
// A standalone HTML page with inline SVG bar charts (no scripts, no external assets).
std::string ReportHtml(const Report& r);

}  // namespace baagate::audit
