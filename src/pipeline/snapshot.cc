#include "pipeline/snapshot.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "http/tls.h"
#include "providers/bedrock/credentials.h"

namespace baagate::pipeline {

namespace {

// Reads a credential. Trailing whitespace (a newline at the end of a secrets file) is dropped.
std::string LoadCredential(const config::CredentialConfig& c, std::string* problem) {
  std::string value;
  if (c.kind == config::CredentialConfig::Kind::kEnv) {
    const char* v = std::getenv(c.ref.c_str());
    if (!v || !*v) {
      *problem = "environment variable " + c.ref + " is not set";
      return "";
    }
    value = v;
  } else if (c.kind == config::CredentialConfig::Kind::kFile) {
    std::ifstream in(c.ref, std::ios::binary);
    if (!in) {
      *problem = "credential file " + c.ref + " cannot be read";
      return "";
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    value = ss.str();
  } else {
    return "";
  }
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ')) {
    value.pop_back();
  }
  if (value.empty()) *problem = "the credential from " + c.ref + " is empty";
  for (char ch : value) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      *problem = "the credential from " + c.ref + " has control characters";
      return "";
    }
  }
  return value;
}

}  // namespace

core::Result<std::shared_ptr<const Snapshot>> Snapshot::Build(const config::Config& cfg) {
  auto snap = std::make_shared<Snapshot>();
  snap->config_ = cfg;
  std::map<std::string, const UpstreamRuntime*> by_name;
  for (const auto& [name, u] : cfg.upstreams) {
    auto rt = std::make_unique<UpstreamRuntime>();
    auto url = http::ParseBaseUrl(u.base_url);
    if (!url.ok()) {
      return core::InvalidArgumentError(cfg.source + ":" + std::to_string(u.line) + ": upstreams." +
                                        name + ".base_url: " + url.status().message());
    }
    http::UpstreamTarget& t = rt->target;
    t.name = name;
    t.url = *url;
    bool default_port = (t.url.tls && t.url.port == "443") || (!t.url.tls && t.url.port == "80");
    std::string host = t.url.host.find(':') != std::string::npos ? "[" + t.url.host + "]" : t.url.host;
    t.host_header = default_port ? host : host + ":" + t.url.port;
    t.connect_timeout = u.connect_timeout;
    t.first_byte_timeout = u.first_byte_timeout;
    t.idle_timeout = u.idle_timeout;
    t.pool_idle_timeout = u.pool_idle_timeout;
    t.max_idle_connections = u.max_idle_connections;
    t.pool_key = name + "|" + t.url.host + "|" + t.url.port + (t.url.tls ? "|tls" : "|plain") +
                 "|" + u.ca_file;
    if (t.url.tls) {
      auto ctx = http::MakeClientTlsContext(u.ca_file);
      if (!ctx.ok()) {
        return core::InvalidArgumentError(cfg.source + ":" + std::to_string(u.line) +
                                          ": upstreams." + name + ".ca_file: " +
                                          ctx.status().message());
      }
      t.tls = *ctx;
    }
    std::string problem;
    std::string key;
    if (u.provider == "bedrock") {
      // SigV4 needs a key pair: the standard AWS variables, else the shared credentials file.
      auto creds = providers::bedrock::ResolveAwsCredentials(
          u.profile, [](const char* name) { return std::getenv(name); });
      if (!creds.ok()) {
        problem = creds.status().message();
      } else if (u.region.empty()) {
        problem = "a bedrock upstream needs a region to sign requests";
      } else {
        rt->aws = std::make_shared<providers::bedrock::AwsCredentials>(std::move(*creds));
      }
    } else {
      key = LoadCredential(u.credential, &problem);
    }
    if (problem.empty() && !key.empty()) {
      if (u.provider == "anthropic" || u.provider == "azure_openai") {
        rt->auth_header = u.provider == "anthropic" ? "x-api-key" : "api-key";
        rt->authorization = core::SecretString(key);
      } else {
        rt->authorization = core::SecretString("Bearer " + key);
      }
    }
    rt->credential_problem = problem;
    rt->max_response_bytes = u.max_response_bytes;
    rt->provider = u.provider;
    rt->api_version = u.api_version.empty() ? std::string("2024-10-21") : u.api_version;
    rt->region = u.region;
    rt->bedrock_api = u.bedrock_api;
    rt->private_connectivity = u.private_connectivity;
    by_name[name] = rt.get();
    snap->upstreams_.push_back(std::move(rt));
  }
  for (const auto& r : cfg.routes) {
    RouteRuntime rr;
    rr.name = r.name;
    rr.pattern = r.model;
    rr.deidentified_fallback = r.deidentified_fallback;
    rr.upstream = by_name.at(r.upstream);
    rr.upstream_model = r.upstream_model;
    snap->routes_.push_back(std::move(rr));
  }
  // Failover lists, in configuration order (pointers are stable now that routes_ is complete).
  for (std::size_t i = 0; i < snap->routes_.size(); ++i) {
    RouteRuntime& head = snap->routes_[i];
    bool later = false;
    for (std::size_t j = 0; j < i; ++j) later = later || snap->routes_[j].pattern == head.pattern;
    if (later) continue;
    for (std::size_t j = i; j < snap->routes_.size(); ++j) {
      if (snap->routes_[j].pattern == head.pattern) head.group.push_back(&snap->routes_[j]);
    }
  }
  for (const auto& k : cfg.keys) {
    Principal p{k.name, k.tenant, k.app, k.role, k.purpose, k.models};
    snap->keys_.emplace_back(k.sha256, std::move(p));
  }
  auto registry = LoadRegistryFor(cfg);
  if (!registry.ok()) return registry.status();
  auto policy = policy::PolicySet::Build(std::move(*registry), cfg);
  if (!policy.ok()) return policy.status();
  snap->policy_ = *policy;
  if (!cfg.policy.baseline_hash.empty() && cfg.policy.baseline_hash != snap->policy_->config_hash()) {
    if (cfg.policy.refuse_on_drift) {
      return core::FailedPreconditionError(
          cfg.source + ": the effective configuration hash " + snap->policy_->config_hash() +
          " differs from the approved baseline " + cfg.policy.baseline_hash +
          " (policy.on_drift: refuse); see `baagate config diff`");
    }
    snap->drift_ = true;
  }
  if (cfg.tenant.pseudonym_key.kind != config::CredentialConfig::Kind::kNone) {
    std::string problem;
    std::string key = LoadCredential(cfg.tenant.pseudonym_key, &problem);
    if (!problem.empty()) {
      return core::InvalidArgumentError(cfg.source + ": tenant.pseudonym_key: " + problem);
    }
    snap->pseudonym_key_ = core::SecretString(std::move(key));
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

core::Result<config::RegistryDoc> LoadRegistryFor(const config::Config& cfg) {
  if (!cfg.policy.registry_file.empty()) return config::LoadRegistryFile(cfg.policy.registry_file);
  return config::ParseRegistry(config::EmbeddedRegistryYaml(), "<built-in registry>");
}

const RouteRuntime* Snapshot::FindRouteByName(std::string_view name) const {
  for (const auto& r : routes_) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const RouteRuntime* Snapshot::FindRoute(std::string_view model) const {
  const RouteRuntime* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& r : routes_) {
    if (r.pattern.back() != '*') {
      if (r.pattern == model) return &r;
      continue;
    }
    if (config::ModelPatternMatches(r.pattern, model) && (!best || r.pattern.size() > best_len)) {
      best = &r;
      best_len = r.pattern.size();
    }
  }
  return best;
}

const Principal* Snapshot::Authenticate(std::string_view presented_key) const {
  core::Sha256Digest digest = core::Sha256(presented_key);
  const Principal* found = nullptr;
  for (const auto& [hash, principal] : keys_) {
    bool eq = core::ConstantTimeEqual(hash, digest);
    if (eq) found = &principal;  // no early exit
  }
  return found;
}

bool Snapshot::Allows(const Principal& p, const RouteRuntime& route) const {
  if (p.models.empty()) return true;
  for (const auto& m : p.models) {
    if (m == route.pattern || m == "*") return true;
  }
  return false;
}

}  // namespace baagate::pipeline
