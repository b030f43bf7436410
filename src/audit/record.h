// Audit record schema `baagate.audit/1` (COMPLIANCE.md §4; wire format in docs/formats/audit.md).
//
// PHI hygiene is a type property here: every field is an enum, an integer, a boolean, a digest,
// or one of the validated token types below (Id, Code). Neither can be built from free text: they
// refuse whitespace, '@', quotes and shapes that look like SSNs, phone numbers or dates, so a
// prompt, a vendor error message or an e-mail address cannot be stored even by mistake. The only
// way to put a string into a record is Id::Parse / Code::Parse, which return an error instead.
//
// Records are plain data; the AuditLog (audit_log.h) assigns log_id, seq, ts, prev_hash and
// record_hash when it appends them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/jcs.h"
#include "core/crypto.h"
#include "core/status.h"

namespace baagate::audit {

inline constexpr std::string_view kSchemaVersion = "baagate.audit/1";

// An opaque identifier: tenant, app, purpose, credential reference, model, host, region, request
// id, vendor request id, network prefix. 1..128 characters of [A-Za-z0-9._:/+=-], not shaped like
// an SSN, a phone number or a calendar date.
class Id {
 public:
  Id() = default;  // empty: the field is absent
  static core::Result<Id> Parse(std::string_view s);
  // A model name: like Parse, but a vendor snapshot suffix "-YYYY-MM-DD" (gpt-4o-2024-08-06) is
  // a release date, not a date about a person, and does not make the name refused.
  static core::Result<Id> ParseModel(std::string_view s);
  const std::string& str() const { return v_; }
  bool empty() const { return v_.empty(); }
  bool operator==(const Id&) const = default;

 private:
  explicit Id(std::string v) : v_(std::move(v)) {}
  std::string v_;
};

// A code from a stable vocabulary: feature tags, scope reasons (`FEATURE_NOT_LISTED:web_fetch`),
// enforcement actions, PHI classes, error classes, finish reasons. 1..64 characters of
// [A-Za-z0-9._:-], starting with a letter.
class Code {
 public:
  Code() = default;
  static core::Result<Code> Parse(std::string_view s);
  const std::string& str() const { return v_; }
  bool empty() const { return v_.empty(); }
  bool operator<(const Code& o) const { return v_ < o.v_; }
  bool operator==(const Code&) const = default;

 private:
  explicit Code(std::string v) : v_(std::move(v)) {}
  std::string v_;
};

enum class Phase { kDecision, kOutcome };
enum class Decision { kAllow, kAllowDeidentified, kBlock };
enum class BaaScope { kCovered, kConditionalMet, kNotCovered, kUnknown };
enum class ActorType { kUnknown, kWorkforce, kPatient, kService };
enum class AuthMethod { kNone, kApiKey, kMtls, kOidc };
enum class Modality { kText, kImage, kAudio, kFile };
enum class OutcomeStatus {
  kSuccess,
  kError,
  kContentFilterTriggered,
  kClientDisconnected,
  kUpstreamTimeout,
  kBlocked,
};
enum class UsageSource { kUpstream, kEstimated, kMissing };
enum class HttpMethod { kGet, kPost, kPut, kDelete };

std::string_view Name(Phase v);
std::string_view Name(Decision v);
std::string_view Name(BaaScope v);
std::string_view Name(ActorType v);
std::string_view Name(AuthMethod v);
std::string_view Name(Modality v);
std::string_view Name(OutcomeStatus v);
std::string_view Name(UsageSource v);
std::string_view Name(HttpMethod v);

// The decision record: written, and durable, before the request is forwarded.
struct DecisionRecord {
  std::string event_id;  // UUIDv7; the log assigns one when empty
  Id request_id;
  Id tenant_id, app_id, purpose_id;
  Id actor_ref;  // keyed HMAC pseudonym, never the user id
  Code actor_role;
  ActorType actor_type = ActorType::kUnknown;
  Id client_net;  // IPv4 /24 or IPv6 /48 prefix
  AuthMethod auth_method = AuthMethod::kNone;
  Id credential_ref;
  Id provider;
  Code api_surface;
  HttpMethod endpoint_method = HttpMethod::kPost;
  Id endpoint_path;  // e.g. /v1/chat/completions
  Id model_requested;
  Id upstream_host, region;
  Code deployment_type;
  bool stream = false;
  std::vector<Code> features;
  std::vector<Modality> modalities_in, modalities_out;
  Id baa_contract_id;
  std::int32_t baa_effective_date = 0;  // YYYYMMDD (written as YYYY-MM-DD); 0: none
  std::optional<core::Sha256Digest> registry_version;
  Code registry_rule_id;
  BaaScope baa_in_scope = BaaScope::kUnknown;
  std::vector<Code> scope_reasons;
  std::vector<Id> subprocessor_chain;
  Code config_retention;
  std::int64_t config_checked_at_ms = 0;  // 0: never checked
  std::map<Code, bool> config_flags;
  std::vector<Code> enforcement_actions;
  Code deid_method;
  Id deid_ruleset_version;
  std::map<Code, std::uint64_t> phi_findings;  // class -> count
  std::vector<Code> residual_risk_flags;
  std::optional<core::Sha256Digest> policy_version, config_hash;
  Decision decision = Decision::kBlock;
};

struct Usage {
  std::uint64_t in = 0, out = 0, cached = 0, reasoning = 0;
  UsageSource source = UsageSource::kMissing;
};

// The outcome record: written at completion, pointing back at its decision record.
struct OutcomeRecord {
  std::string event_id;           // assigned when empty
  std::string decision_event_id;  // the decision record's event_id (UUID)
  Id request_id;
  Id tenant_id, app_id, provider;  // repeated from the decision so queries need no join
  Id model_served;
  OutcomeStatus status = OutcomeStatus::kError;
  int http_status = 0, upstream_status = 0;
  Code error_class, finish_reason;
  Usage usage;
  std::uint64_t bytes_in = 0, bytes_out = 0, stream_events = 0;
  std::uint64_t latency_ms = 0, ttfb_ms = 0;
  Id upstream_request_id;
};

// True for the 8-4-4-4-12 lower-case hex form NewUuidV7 produces.
bool IsUuid(std::string_view s);

// The record's fields, canonically encoded, without the chain fields (log_id, seq, ts,
// prev_hash, record_hash) the log adds before Finish(). Fails only on a malformed event id.
core::Result<CanonicalObject> ToCanonical(const DecisionRecord& r);
core::Result<CanonicalObject> ToCanonical(const OutcomeRecord& r);

// "2026-09-30T12:00:00.123Z"
std::string FormatTimestampMs(std::int64_t unix_ms);
// Inverse of FormatTimestampMs; also accepts "YYYY-MM-DD" and seconds without milliseconds.
std::optional<std::int64_t> ParseTimestampMs(std::string_view s);

}  // namespace baagate::audit
