#include "audit/record.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace baagate::audit {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Matches `shape` anywhere in `s`, where '9' in the shape stands for any digit and any other
// character for itself. Used to refuse identifier-shaped PHI (SSNs, phone numbers, dates).
bool ContainsShape(std::string_view s, std::string_view shape) {
  if (s.size() < shape.size()) return false;
  for (std::size_t i = 0; i + shape.size() <= s.size(); ++i) {
    bool match = true;
    for (std::size_t j = 0; j < shape.size() && match; ++j) {
      char want = shape[j];
      char got = s[i + j];
      match = want == '9' ? IsDigit(got) : got == want;
    }
    // Only a whole digit group counts: "a123-45-67890" still matches, which errs on refusing.
    if (match) return true;
  }
  return false;
}

bool LooksLikePhi(std::string_view s) {
  int digits = 0;
  for (char c : s) digits += IsDigit(c);
  if (digits < 6) return false;  // every shape below has at least six digits
  static constexpr std::string_view kShapes[] = {
      "999-99-9999",  // SSN
      "999-999-9999", "999.999.9999",  // phone
      "9999-99-99", "99/99/9999", "99-99-9999", "9999/99/99",  // dates
  };
  for (auto shape : kShapes) {
    if (ContainsShape(s, shape)) return true;
  }
  return false;
}

}  // namespace

core::Result<Id> Id::Parse(std::string_view s) {
  if (s.empty() || s.size() > 128) {
    return core::InvalidArgumentError("audit: an id must have 1 to 128 characters");
  }
  for (char c : s) {
    if (!(IsAlpha(c) || IsDigit(c) || c == '.' || c == '_' || c == ':' || c == '/' || c == '+' ||
          c == '=' || c == '-')) {
      return core::InvalidArgumentError("audit: an id may only hold [A-Za-z0-9._:/+=-]");
    }
  }
  if (LooksLikePhi(s)) {
    return core::InvalidArgumentError("audit: an id is shaped like an identifier (SSN/phone/date)");
  }
  return Id(std::string(s));
}

core::Result<Id> Id::ParseModel(std::string_view s) {
  constexpr std::string_view kSuffix = "-9999-99-99";
  if (s.size() > kSuffix.size() + 1) {
    std::string_view tail = s.substr(s.size() - kSuffix.size());
    if (ContainsShape(tail, kSuffix)) {
      // Everything but the suffix must pass on its own, and the whole must be a valid id.
      auto head = Parse(s.substr(0, s.size() - kSuffix.size()));
      if (!head.ok()) return head.status();
      for (char c : s) {
        if (!(IsAlpha(c) || IsDigit(c) || c == '.' || c == '_' || c == ':' || c == '/' ||
              c == '+' || c == '=' || c == '-')) {
          return core::InvalidArgumentError("audit: an id may only hold [A-Za-z0-9._:/+=-]");
        }
      }
      if (s.size() > 128) return core::InvalidArgumentError("audit: an id must have 1 to 128 characters");
      return Id(std::string(s));
    }
  }
  return Parse(s);
}

core::Result<Code> Code::Parse(std::string_view s) {
  if (s.empty() || s.size() > 64 || !IsAlpha(s.front())) {
    return core::InvalidArgumentError("audit: a code must have 1 to 64 characters, from a letter");
  }
  for (char c : s) {
    if (!(IsAlpha(c) || IsDigit(c) || c == '.' || c == '_' || c == ':' || c == '-')) {
      return core::InvalidArgumentError("audit: a code may only hold [A-Za-z0-9._:-]");
    }
  }
  if (LooksLikePhi(s)) {
    return core::InvalidArgumentError("audit: a code is shaped like an identifier");
  }
  return Code(std::string(s));
}

std::string_view Name(Phase v) { return v == Phase::kDecision ? "decision" : "outcome"; }
std::string_view Name(Decision v) {
  switch (v) {
    case Decision::kAllow: return "allow";
    case Decision::kAllowDeidentified: return "allow_deidentified";
    case Decision::kBlock: return "block";
  }
  return "block";
}
std::string_view Name(BaaScope v) {
  switch (v) {
    case BaaScope::kCovered: return "covered";
    case BaaScope::kConditionalMet: return "conditional_met";
    case BaaScope::kNotCovered: return "not_covered";
    case BaaScope::kUnknown: return "unknown";
  }
  return "unknown";
}
std::string_view Name(ActorType v) {
  switch (v) {
    case ActorType::kUnknown: return "unknown";
    case ActorType::kWorkforce: return "workforce";
    case ActorType::kPatient: return "patient";
    case ActorType::kService: return "service";
  }
  return "unknown";
}
std::string_view Name(AuthMethod v) {
  switch (v) {
    case AuthMethod::kNone: return "none";
    case AuthMethod::kApiKey: return "api_key";
    case AuthMethod::kMtls: return "mtls";
    case AuthMethod::kOidc: return "oidc";
  }
  return "none";
}
std::string_view Name(Modality v) {
  switch (v) {
    case Modality::kText: return "text";
    case Modality::kImage: return "image";
    case Modality::kAudio: return "audio";
    case Modality::kFile: return "file";
  }
  return "text";
}
std::string_view Name(OutcomeStatus v) {
  switch (v) {
    case OutcomeStatus::kSuccess: return "success";
    case OutcomeStatus::kError: return "error";
    case OutcomeStatus::kContentFilterTriggered: return "content_filter_triggered";
    case OutcomeStatus::kClientDisconnected: return "client_disconnected";
    case OutcomeStatus::kUpstreamTimeout: return "upstream_timeout";
    case OutcomeStatus::kBlocked: return "blocked";
  }
  return "error";
}
std::string_view Name(UsageSource v) {
  switch (v) {
    case UsageSource::kUpstream: return "upstream";
    case UsageSource::kEstimated: return "estimated";
    case UsageSource::kMissing: return "missing";
  }
  return "missing";
}
std::string_view Name(HttpMethod v) {
  switch (v) {
    case HttpMethod::kGet: return "GET";
    case HttpMethod::kPost: return "POST";
    case HttpMethod::kPut: return "PUT";
    case HttpMethod::kDelete: return "DELETE";
  }
  return "POST";
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!(IsDigit(c) || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string FormatTimestampMs(std::int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

std::optional<std::int64_t> ParseTimestampMs(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  std::string str(s);
  int n = 0;
  if (std::sscanf(str.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3) return std::nullopt;
  if (static_cast<std::size_t>(n) < str.size()) {
    int m2 = 0;
    if (std::sscanf(str.c_str() + n, "T%2d:%2d:%2d%n", &h, &mi, &sec, &m2) != 3) {
      return std::nullopt;
    }
    n += m2;
    if (static_cast<std::size_t>(n) < str.size() && str[static_cast<std::size_t>(n)] == '.') {
      int m3 = 0;
      if (std::sscanf(str.c_str() + n, ".%3d%n", &ms, &m3) != 1) return std::nullopt;
      n += m3;
    }
  }
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  auto days = sys_days(ymd).time_since_epoch().count();
  return ((static_cast<std::int64_t>(days) * 24 + h) * 60 + mi) * 60000 +
         static_cast<std::int64_t>(sec) * 1000 + ms;
}

namespace {

void PutId(CanonicalObject& o, std::string_view key, const Id& v) {
  if (!v.empty()) o.Str(key, v.str());
}
void PutCode(CanonicalObject& o, std::string_view key, const Code& v) {
  if (!v.empty()) o.Str(key, v.str());
}
void PutDigest(CanonicalObject& o, std::string_view key,
               const std::optional<core::Sha256Digest>& v) {
  if (v) o.Str(key, core::HexEncode(*v));
}
template <typename T>
std::string Strings(const std::vector<T>& v) {
  std::vector<std::string_view> items;
  items.reserve(v.size());
  for (const auto& e : v) items.push_back(e.str());
  return CanonicalStringArray(items);
}
std::string Modalities(const std::vector<Modality>& v) {
  std::vector<std::string_view> items;
  for (auto m : v) items.push_back(Name(m));
  return CanonicalStringArray(items);
}

}  // namespace

core::Result<CanonicalObject> ToCanonical(const DecisionRecord& r) {
  if (!IsUuid(r.event_id)) return core::InvalidArgumentError("audit: event_id is not a UUID");
  CanonicalObject o;
  o.Str("schema_version", kSchemaVersion);
  o.Str("phase", Name(Phase::kDecision));
  o.Str("event_id", r.event_id);
  PutId(o, "request_id", r.request_id);
  PutId(o, "tenant_id", r.tenant_id);
  PutId(o, "app_id", r.app_id);
  PutId(o, "purpose_id", r.purpose_id);
  PutId(o, "actor_ref", r.actor_ref);
  PutCode(o, "actor_role", r.actor_role);
  o.Str("actor_type", Name(r.actor_type));
  PutId(o, "client_net", r.client_net);
  o.Str("auth_method", Name(r.auth_method));
  PutId(o, "credential_ref", r.credential_ref);
  PutId(o, "provider", r.provider);
  PutCode(o, "api_surface", r.api_surface);
  if (!r.endpoint_path.empty()) {
    o.Str("endpoint", std::string(Name(r.endpoint_method)) + " " + r.endpoint_path.str());
  }
  PutId(o, "model_requested", r.model_requested);
  PutId(o, "upstream_host", r.upstream_host);
  PutId(o, "region", r.region);
  PutCode(o, "deployment_type", r.deployment_type);
  o.Bool("stream", r.stream);
  o.Raw("features", Strings(r.features));
  o.Raw("modalities_in", Modalities(r.modalities_in));
  o.Raw("modalities_out", Modalities(r.modalities_out));
  PutId(o, "baa_contract_id", r.baa_contract_id);
  if (r.baa_effective_date > 0) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", r.baa_effective_date / 10000 % 10000,
                  r.baa_effective_date / 100 % 100, r.baa_effective_date % 100);
    o.Str("baa_effective_date", buf);
  }
  PutDigest(o, "registry_version", r.registry_version);
  PutCode(o, "registry_rule_id", r.registry_rule_id);
  o.Str("baa_in_scope", Name(r.baa_in_scope));
  o.Raw("scope_reasons", Strings(r.scope_reasons));
  o.Raw("subprocessor_chain", Strings(r.subprocessor_chain));
  PutCode(o, "config_retention", r.config_retention);
  if (r.config_checked_at_ms > 0) o.Str("config_checked_at", FormatTimestampMs(r.config_checked_at_ms));
  CanonicalObject flags;
  for (const auto& [k, v] : r.config_flags) flags.Bool(k.str(), v);
  o.Raw("config_flags", std::move(flags).Finish());
  o.Raw("enforcement_actions", Strings(r.enforcement_actions));
  PutCode(o, "deid_method", r.deid_method);
  PutId(o, "deid_ruleset_version", r.deid_ruleset_version);
  CanonicalObject findings;
  for (const auto& [k, v] : r.phi_findings) findings.Uint(k.str(), v);
  o.Raw("phi_findings", std::move(findings).Finish());
  o.Raw("residual_risk_flags", Strings(r.residual_risk_flags));
  PutDigest(o, "policy_version", r.policy_version);
  PutDigest(o, "config_hash", r.config_hash);
  o.Str("decision", Name(r.decision));
  return o;
}

core::Result<CanonicalObject> ToCanonical(const OutcomeRecord& r) {
  if (!IsUuid(r.event_id) || !IsUuid(r.decision_event_id)) {
    return core::InvalidArgumentError("audit: event_id or decision_event_id is not a UUID");
  }
  CanonicalObject o;
  o.Str("schema_version", kSchemaVersion);
  o.Str("phase", Name(Phase::kOutcome));
  o.Str("event_id", r.event_id);
  o.Str("decision_event_id", r.decision_event_id);
  PutId(o, "request_id", r.request_id);
  PutId(o, "tenant_id", r.tenant_id);
  PutId(o, "app_id", r.app_id);
  PutId(o, "provider", r.provider);
  PutId(o, "model_served", r.model_served);
  o.Str("status", Name(r.status));
  o.Int("http_status", r.http_status);
  o.Int("upstream_status", r.upstream_status);
  o.Str("error_class", r.error_class.empty() ? std::string_view("none") : r.error_class.str());
  PutCode(o, "finish_reason", r.finish_reason);
  CanonicalObject usage;
  usage.Uint("in", r.usage.in);
  usage.Uint("out", r.usage.out);
  usage.Uint("cached", r.usage.cached);
  usage.Uint("reasoning", r.usage.reasoning);
  usage.Str("source", Name(r.usage.source));
  o.Raw("usage", std::move(usage).Finish());
  o.Uint("bytes_in", r.bytes_in);
  o.Uint("bytes_out", r.bytes_out);
  o.Uint("stream_events", r.stream_events);
  o.Uint("latency_ms", r.latency_ms);
  o.Uint("ttfb_ms", r.ttfb_ms);
  PutId(o, "upstream_request_id", r.upstream_request_id);
  return o;
}

}  // namespace baagate::audit
