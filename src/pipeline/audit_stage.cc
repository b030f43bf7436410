#include "pipeline/audit_stage.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "core/uuid.h"

namespace baagate::pipeline {

namespace {

audit::Id OptId(std::string_view s) {
  auto id = audit::Id::Parse(s);
  return id.ok() ? *id : audit::Id();
}

audit::Id OptModel(std::string_view s) {
  auto id = audit::Id::ParseModel(s);
  return id.ok() ? *id : audit::Id();
}

audit::Code OptCode(std::string_view s) {
  auto c = audit::Code::Parse(s);
  return c.ok() ? *c : audit::Code();
}

std::optional<core::Sha256Digest> OptDigest(std::string_view hex) {
  core::Sha256Digest d{};
  if (hex.size() >= 64 && core::ParseSha256Hex(hex.substr(hex.size() - 64), &d)) return d;
  return std::nullopt;
}

// "2025-01-01" -> 20250101
std::int32_t DateNumber(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return 0;
  std::int32_t n = 0;
  for (char c : s) {
    if (c == '-') continue;
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

audit::Decision MapDecision(policy::DecisionKind d) {
  switch (d) {
    case policy::DecisionKind::kAllow: return audit::Decision::kAllow;
    case policy::DecisionKind::kAllowDeidentified: return audit::Decision::kAllowDeidentified;
    case policy::DecisionKind::kBlock: return audit::Decision::kBlock;
  }
  return audit::Decision::kBlock;
}

audit::BaaScope MapScope(policy::Scope s) {
  switch (s) {
    case policy::Scope::kCovered: return audit::BaaScope::kCovered;
    case policy::Scope::kConditionalMet: return audit::BaaScope::kConditionalMet;
    case policy::Scope::kNotCovered: return audit::BaaScope::kNotCovered;
    case policy::Scope::kUnknown: return audit::BaaScope::kUnknown;
  }
  return audit::BaaScope::kUnknown;
}

}  // namespace

std::string ClientNet(const boost::asio::ip::address& a) {
  if (a.is_unspecified()) return {};
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return ClientNet(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()));
  }
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    b[3] = 0;
    return boost::asio::ip::address_v4(b).to_string() + "/24";
  }
  auto b = a.to_v6().to_bytes();
  for (std::size_t i = 6; i < b.size(); ++i) b[i] = 0;
  return boost::asio::ip::address_v6(b).to_string() + "/48";
}

std::string ActorRef(std::string_view key, std::string_view tenant, std::string_view credential) {
  if (key.empty() || credential.empty()) return {};
  std::string data;
  data.reserve(tenant.size() + 1 + credential.size());
  data.append(tenant);
  data.push_back('\0');
  data.append(credential);
  core::Sha256Digest mac = core::HmacSha256(key, data);
  return core::Base64UrlEncode(mac.data(), mac.size()).substr(0, 22);
}

audit::DecisionRecord MakeDecisionRecord(const DecisionFacts& f) {
  audit::DecisionRecord r;
  r.request_id = OptId(f.request_id);
  if (f.principal) {
    r.tenant_id = OptId(f.principal->tenant);
    r.app_id = OptId(f.principal->app);
    r.purpose_id = OptId(f.principal->purpose);
    r.actor_role = OptCode(f.principal->role);
    r.credential_ref = OptId(f.principal->key_name);
    r.actor_ref = OptId(ActorRef(f.actor_key, f.principal->tenant, f.principal->key_name));
    r.actor_type = audit::ActorType::kService;
    r.auth_method = audit::AuthMethod::kApiKey;
  }
  if (f.route && f.route->upstream) {
    r.provider = OptId(f.route->upstream->provider);
    r.upstream_host = OptId(f.route->upstream->target.host_header);
    r.region = OptId(f.route->upstream->region);
  }
  r.client_net = OptId(ClientNet(f.client_address));
  r.api_surface = OptCode(f.api_surface);
  r.endpoint_method = audit::HttpMethod::kPost;
  r.endpoint_path = OptId(f.endpoint_path);
  r.model_requested = OptId(f.model_requested);  // client text: the strict rules
  r.stream = f.stream;
  // Modalities stay empty (unknown) until the policy facts expose them: a wrong "text" would be
  // worse than none.
  if (const policy::Decision* d = f.decision) {
    r.decision = MapDecision(d->decision);
    r.baa_in_scope = MapScope(d->scope);
    for (const auto& reason : d->reasons) {
      if (auto c = audit::Code::Parse(reason); c.ok()) r.scope_reasons.push_back(*c);
    }
    if (!d->rule_ids.empty()) r.registry_rule_id = OptCode(d->rule_ids.front());
    r.baa_contract_id = OptId(d->contract_id);
    r.baa_effective_date = DateNumber(d->contract_effective_date);
    r.registry_version = OptDigest(d->registry_version);
    r.config_hash = OptDigest(d->config_hash);
    for (const auto& s : d->subprocessor_chain) {
      if (auto id = audit::Id::Parse(s); id.ok()) r.subprocessor_chain.push_back(*id);
    }
    r.config_retention = OptCode(d->config_retention);
    r.config_checked_at_ms = d->config_checked_at * 1000;
    r.config_flags[*audit::Code::Parse("region_ok")] = d->region_ok;
    r.config_flags[*audit::Code::Parse("private_link")] = d->private_connectivity;
    r.config_flags[*audit::Code::Parse("cmk")] = d->customer_managed_keys;
    for (const auto& a : d->enforcement_actions) {
      if (auto c = audit::Code::Parse(a); c.ok()) r.enforcement_actions.push_back(*c);
    }
  }
  r.deid_method = *audit::Code::Parse(f.deidentified ? "safe_harbor_rules" : "none");
  if (f.phi_findings) {
    for (const auto& [cls, n] : *f.phi_findings) {
      if (auto code = audit::Code::Parse(cls); code.ok()) r.phi_findings[*code] = n;
    }
  }
  return r;
}

audit::OutcomeRecord MakeOutcomeRecord(const OutcomeFacts& f) {
  audit::OutcomeRecord o;
  o.decision_event_id = std::string(f.decision_event_id);
  o.request_id = OptId(f.request_id);
  if (f.principal) {
    o.tenant_id = OptId(f.principal->tenant);
    o.app_id = OptId(f.principal->app);
  }
  if (f.route && f.route->upstream) o.provider = OptId(f.route->upstream->provider);
  o.status = f.status;
  o.http_status = static_cast<int>(f.http_status);
  o.upstream_status = static_cast<int>(f.upstream_status);
  o.error_class = OptCode(f.error_class);
  o.finish_reason = OptCode(f.finish_reason);
  if (f.prompt_tokens >= 0 || f.completion_tokens >= 0) {
    o.usage.in = static_cast<std::uint64_t>(std::max<std::int64_t>(0, f.prompt_tokens));
    o.usage.out = static_cast<std::uint64_t>(std::max<std::int64_t>(0, f.completion_tokens));
    o.usage.source = audit::UsageSource::kUpstream;
  }
  o.bytes_in = f.bytes_in;
  o.bytes_out = f.bytes_out;
  o.stream_events = f.stream_events;
  o.latency_ms = f.latency_ms;
  o.ttfb_ms = f.ttfb_ms;
  o.upstream_request_id = OptId(f.upstream_request_id);
  o.model_served = OptModel(f.model_served);
  return o;
}

boost::asio::awaitable<std::tuple<core::Status, audit::Appended>> AppendDecision(
    audit::AuditLog& log, audit::DecisionRecord record) {
  namespace net = boost::asio;
  auto initiate = [&log](auto handler, audit::DecisionRecord rec) {
    auto ex = net::get_associated_executor(handler);
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    log.AppendDecisionAsync(std::move(rec), [h, ex](core::Result<audit::Appended> r) {
      core::Status st = r.ok() ? core::Status() : r.status();
      audit::Appended a = r.ok() ? std::move(r).value() : audit::Appended{};
      net::post(ex, [h, st = std::move(st), a = std::move(a)]() mutable {
        (*h)(std::move(st), std::move(a));
      });
    });
  };
  auto token = net::as_tuple(net::use_awaitable);
  co_return co_await net::async_initiate<decltype(token), void(core::Status, audit::Appended)>(
      initiate, token, std::move(record));
}

namespace {

core::Status MakeParentDirs(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return {};
  std::string cur;
  for (std::size_t i = 0; i < slash; ++i) {
    cur.push_back(path[i]);
    if (path[i + 1] == '/' || i + 1 == slash) {
      if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) {
        return core::UnavailableError("audit: cannot create directory " + cur);
      }
    }
  }
  return {};
}

std::string DefaultLogId() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string h;
  for (char* p = host; *p && h.size() < 48; ++p) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    h.push_back(ok ? c : '-');
  }
  if (h.empty()) h = "gateway";
  return h + "/" + core::NewUuidV7();
}

}  // namespace

core::Result<std::unique_ptr<audit::AuditLog>> OpenAuditLog(const config::AuditConfig& cfg) {
  if (cfg.store.rfind("sqlite:", 0) == 0) {
    if (auto s = MakeParentDirs(cfg.store.substr(7)); !s.ok()) return s;
  }
  if (auto s = MakeParentDirs(cfg.key_file); !s.ok()) return s;
  auto store = audit::OpenStore(cfg.store);
  if (!store.ok()) return store.status();
  audit::AuditLogOptions o;
  o.log_id = cfg.log_id.empty() ? DefaultLogId() : cfg.log_id;
  o.durability = cfg.strict ? audit::Durability::kStrict : audit::Durability::kDefault;
  o.checkpoint_every = cfg.checkpoint_every;
  o.checkpoint_interval = cfg.checkpoint_interval;
  o.key_file = cfg.key_file;
  o.key_name = "baagate-audit";
  o.mirror_dir = cfg.mirror_dir;
  return audit::AuditLog::Open(std::move(store).value(), std::move(o));
}

}  // namespace baagate::pipeline
