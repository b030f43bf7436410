// The audit stage of the gateway: turns what the pipeline knows about a call into the PHI-free
// records of src/audit/ and appends them from a coroutine.
//
// Every string goes through audit::Id / audit::Code validation; a value that does not validate
// (e.g. a client-chosen model name with spaces) is recorded as absent rather than stored, so no
// request text can reach the log even when a client puts it in an identifier field.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/audit_log.h"
#include "audit/chain.h"
#include "http/asio.h"
#include "pipeline/snapshot.h"
#include "policy/policy.h"

namespace baagate::pipeline {

struct DecisionFacts {
  std::string_view request_id;
  const Principal* principal = nullptr;
  const RouteRuntime* route = nullptr;
  // The client's address; only its network (IPv4 /24, IPv6 /48) is recorded.
  boost::asio::ip::address client_address;
  // Key of the actor_ref pseudonym (AuditLog::actor_key()); empty: no actor_ref.
  std::string_view actor_key;
  std::string_view endpoint_path;    // e.g. /v1/chat/completions
  std::string_view api_surface;      // e.g. openai.chat_completions
  std::string_view model_requested;  // the client's model (validated before recording)
  bool stream = false;
  const policy::Decision* decision = nullptr;
  // Set for a de-identified call: Safe Harbor finding counts per class (never the text).
  bool deidentified = false;
  const std::vector<std::pair<std::string, std::uint64_t>>* phi_findings = nullptr;
};

audit::DecisionRecord MakeDecisionRecord(const DecisionFacts& f);

// "203.0.113.0/24" or "2001:db8:1::/48" (COMPLIANCE.md §4 field 11: an address is a Safe Harbor
// identifier, its network is not); empty for an unspecified address.
std::string ClientNet(const boost::asio::ip::address& a);
// base64url(HMAC-SHA256(key, tenant 0x00 credential))[0:22]: the same principal always maps to
// the same reference, which only the key holder can recompute (field 9).
std::string ActorRef(std::string_view key, std::string_view tenant, std::string_view credential);

struct OutcomeFacts {
  std::string_view decision_event_id;
  std::string_view request_id;
  const Principal* principal = nullptr;
  const RouteRuntime* route = nullptr;
  audit::OutcomeStatus status = audit::OutcomeStatus::kError;
  unsigned http_status = 0, upstream_status = 0;
  std::string_view error_class;     // the gateway's own error code, or empty
  std::string_view finish_reason;   // vendor value; recorded only if code-shaped
  std::int64_t prompt_tokens = -1, completion_tokens = -1;  // -1: not reported
  std::uint64_t bytes_in = 0, bytes_out = 0, stream_events = 0;
  std::uint64_t latency_ms = 0, ttfb_ms = 0;
  std::string_view upstream_request_id;  // vendor header; recorded only if id-shaped
  std::string_view model_served;         // the vendor's response "model"; only if id-shaped
};

audit::OutcomeRecord MakeOutcomeRecord(const OutcomeFacts& f);

// Appends from a coroutine: resumes on the caller's executor once the record is durable.
// Returns the append's status and, if OK, where it landed.
boost::asio::awaitable<std::tuple<core::Status, audit::Appended>> AppendDecision(
    audit::AuditLog& log, audit::DecisionRecord record);

// Opens the audit log the configuration asks for (creating the data directory and key).
core::Result<std::unique_ptr<audit::AuditLog>> OpenAuditLog(const config::AuditConfig& cfg);

}  // namespace baagate::pipeline
