#include "audit/record.h"

#include <charconv>
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
  if (!v) return;
  o.RawWith(key, [&](std::string& out) {
    static constexpr char kDigits[] = "0123456789abcdef";
    out.push_back('"');
    for (std::uint8_t b : *v) {
      out.push_back(kDigits[b >> 4]);
      out.push_back(kDigits[b & 15]);
    }
    out.push_back('"');
  });
}
template <typename T>
void PutStrings(CanonicalObject& o, std::string_view key, const std::vector<T>& v) {
  o.RawWith(key, [&](std::string& out) {
    out.push_back('[');
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendJcsString(v[i].str(), out);
    }
    out.push_back(']');
  });
}
void PutModalities(CanonicalObject& o, std::string_view key, const std::vector<Modality>& v) {
  o.RawWith(key, [&](std::string& out) {
    out.push_back('[');
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendJcsString(Name(v[i]), out);
    }
    out.push_back(']');
  });
}
// A flat object from a map keyed by Code: the map's order (byte order of the codes) is the
// canonical key order, and codes need no escaping.
template <typename V, typename F>
void PutCodeMap(CanonicalObject& o, std::string_view key, const std::map<Code, V>& m,
                F&& value) {
  o.RawWith(key, [&](std::string& out) {
    out.push_back('{');
    bool first = true;
    for (const auto& [k, v] : m) {
      if (!first) out.push_back(',');
      first = false;
      AppendJcsString(k.str(), out);
      out.push_back(':');
      value(v, out);
    }
    out.push_back('}');
  });
}

}  // namespace

// Members are added in key order (RFC 8785 sorts them), so Finish only has to confirm it; an
// out-of-order addition would still be sorted there, just more slowly.
core::Result<CanonicalObject> ToCanonical(const DecisionRecord& r) {
  if (!IsUuid(r.event_id)) return core::InvalidArgumentError("audit: event_id is not a UUID");
  CanonicalObject o(48, 1280);
  PutId(o, "actor_ref", r.actor_ref);
  PutCode(o, "actor_role", r.actor_role);
  o.Str("actor_type", Name(r.actor_type));
  PutCode(o, "api_surface", r.api_surface);
  PutId(o, "app_id", r.app_id);
  o.Str("auth_method", Name(r.auth_method));
  PutId(o, "baa_contract_id", r.baa_contract_id);
  if (r.baa_effective_date > 0) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", r.baa_effective_date / 10000 % 10000,
                  r.baa_effective_date / 100 % 100, r.baa_effective_date % 100);
    o.Str("baa_effective_date", buf);
  }
  o.Str("baa_in_scope", Name(r.baa_in_scope));
  PutId(o, "client_net", r.client_net);
  if (r.config_checked_at_ms > 0) o.Str("config_checked_at", FormatTimestampMs(r.config_checked_at_ms));
  PutCodeMap(o, "config_flags", r.config_flags,
             [](bool v, std::string& out) { out += v ? "true" : "false"; });
  PutDigest(o, "config_hash", r.config_hash);
  PutCode(o, "config_retention", r.config_retention);
  PutId(o, "credential_ref", r.credential_ref);
  o.Str("decision", Name(r.decision));
  PutCode(o, "deid_method", r.deid_method);
  PutId(o, "deid_ruleset_version", r.deid_ruleset_version);
  if (!r.endpoint_path.empty()) {
    o.RawWith("endpoint", [&](std::string& out) {
      // Neither part needs escaping: a method name and an Id.
      out.push_back('"');
      out += Name(r.endpoint_method);
      out.push_back(' ');
      out += r.endpoint_path.str();
      out.push_back('"');
    });
  }
  PutStrings(o, "enforcement_actions", r.enforcement_actions);
  o.Str("event_id", r.event_id);
  PutStrings(o, "features", r.features);
  PutModalities(o, "modalities_in", r.modalities_in);
  PutModalities(o, "modalities_out", r.modalities_out);
  PutId(o, "model_requested", r.model_requested);
  o.Str("phase", Name(Phase::kDecision));
  PutCodeMap(o, "phi_findings", r.phi_findings, [](std::uint64_t v, std::string& out) {
    if (v > (std::uint64_t{1} << 53)) v = std::uint64_t{1} << 53;  // as CanonicalObject::Uint
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
  });
  PutDigest(o, "policy_version", r.policy_version);
  PutId(o, "provider", r.provider);
  PutId(o, "purpose_id", r.purpose_id);
  PutId(o, "region", r.region);
  PutCode(o, "registry_rule_id", r.registry_rule_id);
  PutDigest(o, "registry_version", r.registry_version);
  PutId(o, "request_id", r.request_id);
  PutStrings(o, "residual_risk_flags", r.residual_risk_flags);
  o.Str("schema_version", kSchemaVersion);
  PutStrings(o, "scope_reasons", r.scope_reasons);
  o.Bool("stream", r.stream);
  PutStrings(o, "subprocessor_chain", r.subprocessor_chain);
  PutId(o, "tenant_id", r.tenant_id);
  PutId(o, "upstream_host", r.upstream_host);
  return o;
}

core::Result<CanonicalObject> ToCanonical(const OutcomeRecord& r) {
  if (!IsUuid(r.event_id) || !IsUuid(r.decision_event_id)) {
    return core::InvalidArgumentError("audit: event_id or decision_event_id is not a UUID");
  }
  CanonicalObject o(32, 768);
  PutId(o, "app_id", r.app_id);
  o.Uint("bytes_in", r.bytes_in);
  o.Uint("bytes_out", r.bytes_out);
  o.Str("decision_event_id", r.decision_event_id);
  o.Str("error_class", r.error_class.empty() ? std::string_view("none") : r.error_class.str());
  o.Str("event_id", r.event_id);
  PutCode(o, "finish_reason", r.finish_reason);
  o.Int("http_status", r.http_status);
  o.Uint("latency_ms", r.latency_ms);
  PutId(o, "model_served", r.model_served);
  o.Str("phase", Name(Phase::kOutcome));
  PutId(o, "provider", r.provider);
  PutId(o, "request_id", r.request_id);
  o.Str("schema_version", kSchemaVersion);
  o.Str("status", Name(r.status));
  o.Uint("stream_events", r.stream_events);
  PutId(o, "tenant_id", r.tenant_id);
  o.Uint("ttfb_ms", r.ttfb_ms);
  PutId(o, "upstream_request_id", r.upstream_request_id);
  o.Int("upstream_status", r.upstream_status);
  CanonicalObject usage(5, 64);
  usage.Uint("cached", r.usage.cached);
  usage.Uint("in", r.usage.in);
  usage.Uint("out", r.usage.out);
  usage.Uint("reasoning", r.usage.reasoning);
  usage.Str("source", Name(r.usage.source));
  o.Raw("usage", std::move(usage).Finish());
  return o;
}

}  // namespace baagate::audit
