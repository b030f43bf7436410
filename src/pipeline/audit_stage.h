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
#include "http/asio.h"
#include "pipeline/snapshot.h"
#include "policy/policy.h"

namespace baagate::pipeline {

struct DecisionFacts {
  std::string_view request_id;
  const Principal* principal = nullptr;
  const RouteRuntime* route = nullptr;
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
};

audit::OutcomeRecord MakeOutcomeRecord(const OutcomeFacts& f);

// Appends from a coroutine: resumes on the caller's executor once the record is durable.
// Returns the append's status and, if OK, where it landed.
boost::asio::awaitable<std::tuple<core::Status, audit::Appended>> AppendDecision(
    audit::AuditLog& log, audit::DecisionRecord record);

// Opens the audit log the configuration asks for (creating the data directory and key).
core::Result<std::unique_ptr<audit::AuditLog>> OpenAuditLog(const config::AuditConfig& cfg);

}  // namespace baagate::pipeline
