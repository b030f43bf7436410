#include "config/config.h"

#include "config/yaml_reader.h"
#include "phi/types.h"

#include <fstream>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>

namespace baagate::config {

namespace {

class Parser : public YamlReader {
 public:
  using YamlReader::YamlReader;

  Millis Ms(const YAML::Node& n, const std::string& path, std::int64_t min = 1,
            std::int64_t max = 86'400'000) const {
    return Millis(Int(n, path, min, max));
  }

  HostPort Address(const YAML::Node& n, const std::string& path) const {
    auto hp = ParseHostPort(Str(n, path));
    if (!hp.ok()) Fail(n, path, hp.status().message());
    return *hp;
  }

  void ParseLimits(const YAML::Node& n, LimitsConfig& l) const {
    CheckKeys(n, "server.limits",
              {"max_body_bytes", "max_header_bytes", "max_connections", "header_timeout_ms",
               "body_timeout_ms", "keepalive_timeout_ms", "write_timeout_ms", "drain_timeout_ms",
               "timer_resolution_ms"});
    const std::string p = "server.limits.";
    if (n["max_body_bytes"])
      l.max_body_bytes = Int(n["max_body_bytes"], p + "max_body_bytes", 1, 1ll << 30);
    if (n["max_header_bytes"])
      l.max_header_bytes = Int(n["max_header_bytes"], p + "max_header_bytes", 1024, 1 << 20);
    if (n["max_connections"])
      l.max_connections = Int(n["max_connections"], p + "max_connections", 1, 1'000'000);
    if (n["header_timeout_ms"]) l.header_timeout = Ms(n["header_timeout_ms"], p + "header_timeout_ms");
    if (n["body_timeout_ms"]) l.body_timeout = Ms(n["body_timeout_ms"], p + "body_timeout_ms");
    if (n["keepalive_timeout_ms"])
      l.keepalive_timeout = Ms(n["keepalive_timeout_ms"], p + "keepalive_timeout_ms");
    if (n["write_timeout_ms"]) l.write_timeout = Ms(n["write_timeout_ms"], p + "write_timeout_ms");
    if (n["drain_timeout_ms"])
      l.drain_timeout = Ms(n["drain_timeout_ms"], p + "drain_timeout_ms", 0);
    if (n["timer_resolution_ms"])
      l.timer_resolution = Ms(n["timer_resolution_ms"], p + "timer_resolution_ms", 1, 1000);
  }

  void ParseServer(const YAML::Node& n, ServerConfig& s) const {
    CheckKeys(n, "server", {"listen", "admin_listen", "workers", "tls", "limits"});
    if (n["listen"]) s.listen = Address(n["listen"], "server.listen");
    if (n["admin_listen"]) s.admin_listen = Address(n["admin_listen"], "server.admin_listen");
    if (n["workers"]) s.workers = static_cast<int>(Int(n["workers"], "server.workers", 0, 256));
    if (n["tls"]) {
      const auto& t = n["tls"];
      CheckKeys(t, "server.tls", {"cert_file", "key_file"});
      if (!t["cert_file"] || !t["key_file"]) {
        Fail(t, "server.tls", "needs both cert_file and key_file");
      }
      s.tls_cert_file = Str(t["cert_file"], "server.tls.cert_file");
      s.tls_key_file = Str(t["key_file"], "server.tls.key_file");
    }
    if (n["limits"]) ParseLimits(n["limits"], s.limits);
  }

  void ParseLog(const YAML::Node& n, LogConfig& l) const {
    CheckKeys(n, "log", {"level", "access"});
    if (n["level"] && !core::ParseLogLevel(Str(n["level"], "log.level"), &l.level)) {
      Fail(n["level"], "log.level", "must be one of debug, info, warn, error, off");
    }
    if (n["access"]) l.access = Bool(n["access"], "log.access");
  }

  CredentialConfig ParseCredential(const YAML::Node& n, const std::string& path) const {
    CredentialConfig c;
    if (n.IsScalar() && n.as<std::string>() == "none") return c;
    if (n.IsScalar() && n.as<std::string>() == "aws_environment") {
      c.kind = CredentialConfig::Kind::kAwsEnvironment;
      return c;
    }
    if (n.IsMap() && n["google_service_account"]) return ParseGoogleCredential(n, path);
    if (n.IsMap() && n["entra_token"]) {
      CheckKeys(n, path, {"entra_token"});
      const YAML::Node& t = n["entra_token"];
      CheckKeys(t, path + ".entra_token", {"env"});
      if (!t["env"]) Fail(t, path + ".entra_token", "needs env (the variable holding the token)");
      c.kind = CredentialConfig::Kind::kEntraToken;
      c.ref = NonEmptyStr(t["env"], path + ".entra_token.env");
      return c;
    }
    if (n.IsMap() && n["entra_client_credentials"]) return ParseEntraCredential(n, path);
    CheckKeys(n, path, {"env", "file"});
    if (n["env"] && n["file"]) Fail(n, path, "give either env or file, not both");
    if (n["env"]) {
      c.kind = CredentialConfig::Kind::kEnv;
      c.ref = Str(n["env"], path + ".env");
    } else if (n["file"]) {
      c.kind = CredentialConfig::Kind::kFile;
      c.ref = Str(n["file"], path + ".file");
    } else {
      Fail(n, path, "needs env or file (or the word none)");
    }
    if (c.ref.empty()) Fail(n, path, "must not be empty");
    return c;
  }

  // google_service_account: { file: /path/key.json } or { file_env: GOOGLE_APPLICATION_CREDENTIALS }
  CredentialConfig ParseGoogleCredential(const YAML::Node& n, const std::string& path) const {
    CheckKeys(n, path, {"google_service_account"});
    const YAML::Node& g = n["google_service_account"];
    const std::string gp = path + ".google_service_account";
    CheckKeys(g, gp, {"file", "file_env"});
    if (static_cast<bool>(g["file"]) == static_cast<bool>(g["file_env"])) {
      Fail(g, gp, "needs exactly one of file (the key file's path) or file_env (a variable "
                  "holding that path)");
    }
    CredentialConfig c;
    c.kind = CredentialConfig::Kind::kGoogleServiceAccount;
    if (g["file"]) c.ref = NonEmptyStr(g["file"], gp + ".file");
    if (g["file_env"]) c.ref_env = NonEmptyStr(g["file_env"], gp + ".file_env");
    return c;
  }

  // entra_client_credentials: { tenant_id: { env: V }, client_id: { env: V },
  //                             client_secret: { env: V }, authority: https://… }
  CredentialConfig ParseEntraCredential(const YAML::Node& n, const std::string& path) const {
    CheckKeys(n, path, {"entra_client_credentials"});
    const YAML::Node& e = n["entra_client_credentials"];
    const std::string ep = path + ".entra_client_credentials";
    CheckKeys(e, ep, {"tenant_id", "client_id", "client_secret", "authority"});
    CredentialConfig c;
    c.kind = CredentialConfig::Kind::kEntraClientCredentials;
    for (auto [field, out] : {std::pair<const char*, std::string*>{"tenant_id", &c.tenant_id_env},
                              {"client_id", &c.client_id_env},
                              {"client_secret", &c.client_secret_env}}) {
      const std::string fp = ep + "." + field;
      if (!e[field]) Fail(e, ep, std::string("needs ") + field + ": { env: VARIABLE }");
      CheckKeys(e[field], fp, {"env"});
      if (!e[field]["env"]) Fail(e[field], fp, "needs env (the variable holding the value)");
      *out = NonEmptyStr(e[field]["env"], fp + ".env");
    }
    if (e["authority"]) {
      c.authority = NonEmptyStr(e["authority"], ep + ".authority");
      if (c.authority.rfind("https://", 0) != 0 && c.authority.rfind("http://", 0) != 0) {
        Fail(e["authority"], ep + ".authority", "must start with https://");
      }
    }
    return c;
  }

  void ParseUpstreams(const YAML::Node& n, Config& cfg) const {
    if (!n.IsMap()) Fail(n, "upstreams", "must be a mapping of name to upstream");
    for (const auto& kv : n) {
      UpstreamConfig u;
      u.name = kv.first.as<std::string>();
      u.line = kv.first.Mark().line + 1;
      const std::string p = "upstreams." + u.name;
      const YAML::Node& v = kv.second;
      CheckKeys(v, p,
                {"provider", "region", "project", "private_connectivity", "base_url", "api_version",
                 "ca_file", "credential", "bedrock_api", "profile",
                 "connect_timeout_ms",
                 "first_byte_timeout_ms", "idle_timeout_ms", "pool_idle_timeout_ms",
                 "max_idle_connections", "max_response_bytes"});
      if (v["provider"]) u.provider = Str(v["provider"], p + ".provider");
      if (!IsKnownProvider(u.provider)) {
        Fail(v["provider"], p + ".provider",
             "unknown provider (known: openai, anthropic, azure_openai, bedrock, vertex_google, "
             "vertex_anthropic)");
      }
      if (v["region"]) u.region = NonEmptyStr(v["region"], p + ".region");
      if (v["private_connectivity"])
        u.private_connectivity = Bool(v["private_connectivity"], p + ".private_connectivity");
      if (!v["base_url"]) Fail(v, p, "needs base_url");
      u.base_url = Str(v["base_url"], p + ".base_url");
      if (u.base_url.rfind("http://", 0) != 0 && u.base_url.rfind("https://", 0) != 0) {
        Fail(v["base_url"], p + ".base_url", "must start with http:// or https://");
      }
      // PROVIDERS.md §6.6: the Gemini Developer API (AI Studio) is not covered by Google
      // Cloud's BAA; no route may ever send a request there.
      if (u.base_url.find("generativelanguage.googleapis.com") != std::string::npos) {
        Fail(v["base_url"], p + ".base_url",
             "generativelanguage.googleapis.com is the Gemini Developer API, which no BAA covers "
             "(never); use Vertex AI (provider vertex_google, "
             "https://{region}-aiplatform.googleapis.com)");
      }
      const bool vertex = u.provider == "vertex_google" || u.provider == "vertex_anthropic";
      if (v["project"]) {
        if (!vertex) Fail(v["project"], p + ".project", "is for vertex_google and vertex_anthropic upstreams");
        u.project = NonEmptyStr(v["project"], p + ".project");
      }
      if (vertex && (u.project.empty() || u.region.empty())) {
        Fail(v, p, "a Vertex AI upstream needs project and region (they are in the model path)");
      }
      if (v["ca_file"]) u.ca_file = Str(v["ca_file"], p + ".ca_file");
      if (v["api_version"]) u.api_version = Str(v["api_version"], p + ".api_version");
      if (!v["credential"]) Fail(v, p, "needs credential (env, file, or none)");
      u.credential = ParseCredential(v["credential"], p + ".credential");
      using CK = CredentialConfig::Kind;
      if (vertex != (u.credential.kind == CK::kGoogleServiceAccount)) {
        Fail(v["credential"], p + ".credential",
             vertex ? "a Vertex AI upstream authenticates with a Google OAuth token: use "
                      "google_service_account: { file_env: GOOGLE_APPLICATION_CREDENTIALS }"
                    : "google_service_account is for vertex_google and vertex_anthropic upstreams");
      }
      if ((u.credential.kind == CK::kEntraToken || u.credential.kind == CK::kEntraClientCredentials) &&
          u.provider != "azure_openai") {
        Fail(v["credential"], p + ".credential", "Entra credentials are for azure_openai upstreams");
      }
      if ((u.provider == "bedrock") !=
          (u.credential.kind == CredentialConfig::Kind::kAwsEnvironment)) {
        Fail(v["credential"], p + ".credential",
             u.provider == "bedrock" ? "a bedrock upstream signs with SigV4: use aws_environment"
                                     : "aws_environment is for bedrock upstreams only");
      }
      for (const char* key : {"bedrock_api", "profile"}) {
        if (v[key] && u.provider != "bedrock") {
          Fail(v[key], p + "." + key, "is for bedrock upstreams only");
        }
      }
      if (v["bedrock_api"]) {
        u.bedrock_api = Str(v["bedrock_api"], p + ".bedrock_api");
        if (u.bedrock_api != "converse" && u.bedrock_api != "invoke") {
          Fail(v["bedrock_api"], p + ".bedrock_api", "must be converse or invoke");
        }
      }
      if (v["profile"]) u.profile = NonEmptyStr(v["profile"], p + ".profile");
      if (v["connect_timeout_ms"]) u.connect_timeout = Ms(v["connect_timeout_ms"], p + ".connect_timeout_ms");
      if (v["first_byte_timeout_ms"])
        u.first_byte_timeout = Ms(v["first_byte_timeout_ms"], p + ".first_byte_timeout_ms");
      if (v["idle_timeout_ms"]) u.idle_timeout = Ms(v["idle_timeout_ms"], p + ".idle_timeout_ms");
      if (v["pool_idle_timeout_ms"])
        u.pool_idle_timeout = Ms(v["pool_idle_timeout_ms"], p + ".pool_idle_timeout_ms");
      if (v["max_idle_connections"])
        u.max_idle_connections = Int(v["max_idle_connections"], p + ".max_idle_connections", 0, 100000);
      if (v["max_response_bytes"])
        u.max_response_bytes = Int(v["max_response_bytes"], p + ".max_response_bytes", 1024, 1ll << 32);
      cfg.upstreams.emplace(u.name, std::move(u));
    }
  }

  void ParseRoutes(const YAML::Node& n, Config& cfg) const {
    if (!n.IsSequence()) Fail(n, "routes", "must be a list");
    std::set<std::string> models;
    std::set<std::string> names;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const YAML::Node& r = n[i];
      const std::string p = "routes[" + std::to_string(i) + "]";
      CheckKeys(r, p, {"name", "model", "upstream", "upstream_model", "deidentified_fallback"});
      RouteConfig rc;
      rc.line = r.Mark().line + 1;
      if (!r["model"]) Fail(r, p, "needs model");
      rc.model = Str(r["model"], p + ".model");
      if (rc.model.empty() || rc.model.find('*') < rc.model.size() - 1) {
        Fail(r["model"], p + ".model", "must be a name, optionally ending in '*'");
      }
      // Routes that share a model pattern form an ordered failover list: the first is the
      // primary, each later one needs a name of its own.
      const bool fallback = !models.insert(rc.model).second;
      if (fallback && !r["name"]) {
        Fail(r["model"], p + ".model",
             "a second route for the same model is a failover route and needs its own name");
      }
      rc.name = r["name"] ? NonEmptyStr(r["name"], p + ".name") : rc.model;
      if (!names.insert(rc.name).second) Fail(r["name"] ? r["name"] : r["model"], p + ".name", "duplicate route name");
      if (r["deidentified_fallback"])
        rc.deidentified_fallback = Bool(r["deidentified_fallback"], p + ".deidentified_fallback");
      if (!r["upstream"]) Fail(r, p, "needs upstream");
      rc.upstream = Str(r["upstream"], p + ".upstream");
      if (!cfg.upstreams.count(rc.upstream)) {
        Fail(r["upstream"], p + ".upstream", "unknown upstream '" + rc.upstream + "'");
      }
      if (r["upstream_model"]) rc.upstream_model = Str(r["upstream_model"], p + ".upstream_model");
      if (rc.model.back() == '*' && !rc.upstream_model.empty()) {
        Fail(r["upstream_model"], p + ".upstream_model",
             "a wildcard route passes the client's model through; remove upstream_model");
      }
      cfg.routes.push_back(std::move(rc));
    }
  }

  void ParseKeys(const YAML::Node& n, Config& cfg) const {
    if (!n.IsSequence()) Fail(n, "keys", "must be a list");
    std::set<std::string> names;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const YAML::Node& k = n[i];
      const std::string p = "keys[" + std::to_string(i) + "]";
      CheckKeys(k, p, {"name", "sha256", "tenant", "app", "role", "purpose", "models"});
      KeyConfig kc;
      kc.line = k.Mark().line + 1;
      for (auto [field, out] : {std::pair{"name", &kc.name}, std::pair{"tenant", &kc.tenant},
                                std::pair{"app", &kc.app}, std::pair{"role", &kc.role},
                                std::pair{"purpose", &kc.purpose}}) {
        if (!k[field]) Fail(k, p, std::string("needs ") + field);
        *out = Str(k[field], p + "." + field);
        if (out->empty()) Fail(k[field], p + "." + field, "must not be empty");
      }
      if (!names.insert(kc.name).second) Fail(k["name"], p + ".name", "duplicate key name");
      if (!k["sha256"]) Fail(k, p, "needs sha256 (the hash of the key; see `baagate key generate`)");
      if (!core::ParseSha256Hex(Str(k["sha256"], p + ".sha256"), &kc.sha256)) {
        Fail(k["sha256"], p + ".sha256", "must be 64 hex digits");
      }
      if (k["models"]) {
        if (!k["models"].IsSequence()) Fail(k["models"], p + ".models", "must be a list");
        for (std::size_t j = 0; j < k["models"].size(); ++j) {
          kc.models.push_back(Str(k["models"][j], p + ".models[" + std::to_string(j) + "]"));
        }
      }
      for (const auto& other : cfg.keys) {
        if (other.sha256 == kc.sha256) Fail(k["sha256"], p + ".sha256", "same key as " + other.name);
      }
      cfg.keys.push_back(std::move(kc));
    }
  }

  void ParseTenant(const YAML::Node& n, TenantConfig& t) const {
    CheckKeys(n, "tenant",
              {"id", "contracts", "attestations", "subprocessors", "allowed_regions",
               "require_private_connectivity", "require_customer_managed_keys",
               "attestation_max_age_hours", "pseudonym_key"});
    if (!n["id"]) Fail(n, "tenant", "needs id");
    t.id = NonEmptyStr(n["id"], "tenant.id");
    if (n["contracts"]) {
      const YAML::Node& cs = n["contracts"];
      if (!cs.IsSequence()) Fail(cs, "tenant.contracts", "must be a list");
      std::set<std::string> ids;
      for (std::size_t i = 0; i < cs.size(); ++i) {
        const YAML::Node& c = cs[i];
        const std::string p = "tenant.contracts[" + std::to_string(i) + "]";
        CheckKeys(c, p,
                  {"id", "vendor", "effective_date", "eligibility", "scope_reference",
                   "include_features", "exclude_features"});
        ContractConfig cc;
        cc.line = c.Mark().line + 1;
        for (const char* req : {"id", "vendor", "effective_date"}) {
          if (!c[req]) Fail(c, p, std::string("needs ") + req);
        }
        cc.id = NonEmptyStr(c["id"], p + ".id");
        if (!ids.insert(cc.id).second) Fail(c["id"], p + ".id", "duplicate contract id");
        cc.vendor = NonEmptyStr(c["vendor"], p + ".vendor");
        cc.effective_date = Date(c["effective_date"], p + ".effective_date");
        if (c["eligibility"]) {
          std::string e = Str(c["eligibility"], p + ".eligibility");
          if (e != "static" && e != "dynamic") Fail(c["eligibility"], p + ".eligibility", "must be static or dynamic");
          cc.dynamic_eligibility = e == "dynamic";
        }
        if (c["scope_reference"]) cc.scope_reference = Str(c["scope_reference"], p + ".scope_reference");
        if (c["include_features"]) cc.include_features = StrList(c["include_features"], p + ".include_features");
        if (c["exclude_features"]) cc.exclude_features = StrList(c["exclude_features"], p + ".exclude_features");
        for (const auto& other : t.contracts) {
          if (other.vendor == cc.vendor) Fail(c["vendor"], p + ".vendor", "a second contract with the same vendor");
        }
        t.contracts.push_back(std::move(cc));
      }
    }
    if (n["attestations"]) {
      const YAML::Node& as = n["attestations"];
      if (!as.IsSequence()) Fail(as, "tenant.attestations", "must be a list");
      for (std::size_t i = 0; i < as.size(); ++i) {
        const YAML::Node& a = as[i];
        const std::string p = "tenant.attestations[" + std::to_string(i) + "]";
        CheckKeys(a, p, {"vendor", "retention", "source", "customer_managed_keys", "verified_at"});
        AttestationConfig ac;
        ac.line = a.Mark().line + 1;
        for (const char* req : {"vendor", "retention", "source", "verified_at"}) {
          if (!a[req]) Fail(a, p, std::string("needs ") + req);
        }
        ac.vendor = NonEmptyStr(a["vendor"], p + ".vendor");
        ac.retention = NonEmptyStr(a["retention"], p + ".retention");
        std::string src = Str(a["source"], p + ".source");
        if (src != "verified" && src != "asserted") Fail(a["source"], p + ".source", "must be verified or asserted");
        ac.verified = src == "verified";
        if (a["customer_managed_keys"])
          ac.customer_managed_keys = Bool(a["customer_managed_keys"], p + ".customer_managed_keys");
        ac.verified_at = Timestamp(a["verified_at"], p + ".verified_at");
        for (const auto& other : t.attestations) {
          if (other.vendor == ac.vendor) Fail(a["vendor"], p + ".vendor", "a second attestation for the same vendor");
        }
        t.attestations.push_back(std::move(ac));
      }
    }
    if (n["subprocessors"]) {
      const YAML::Node& ss = n["subprocessors"];
      if (!ss.IsSequence()) Fail(ss, "tenant.subprocessors", "must be a list");
      for (std::size_t i = 0; i < ss.size(); ++i) {
        const YAML::Node& x = ss[i];
        const std::string p = "tenant.subprocessors[" + std::to_string(i) + "]";
        CheckKeys(x, p, {"id", "baa", "contract"});
        SubprocessorConfig sc;
        sc.line = x.Mark().line + 1;
        if (!x["id"] || !x["baa"]) Fail(x, p, "needs id and baa");
        sc.id = NonEmptyStr(x["id"], p + ".id");
        sc.baa = Bool(x["baa"], p + ".baa");
        if (x["contract"]) sc.contract = Str(x["contract"], p + ".contract");
        t.subprocessors.push_back(std::move(sc));
      }
    }
    if (n["allowed_regions"]) t.allowed_regions = StrList(n["allowed_regions"], "tenant.allowed_regions");
    if (n["require_private_connectivity"])
      t.require_private_connectivity = Bool(n["require_private_connectivity"], "tenant.require_private_connectivity");
    if (n["require_customer_managed_keys"])
      t.require_customer_managed_keys = Bool(n["require_customer_managed_keys"], "tenant.require_customer_managed_keys");
    if (n["attestation_max_age_hours"])
      t.attestation_max_age_s = 3600 * Int(n["attestation_max_age_hours"], "tenant.attestation_max_age_hours", 1, 24 * 366 * 10);
    if (n["pseudonym_key"]) t.pseudonym_key = ParseCredential(n["pseudonym_key"], "tenant.pseudonym_key");
  }

  void ParseApps(const YAML::Node& n, Config& cfg) const {
    if (!n.IsSequence()) Fail(n, "apps", "must be a list");
    std::set<std::string> ids;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const YAML::Node& a = n[i];
      const std::string p = "apps[" + std::to_string(i) + "]";
      CheckKeys(a, p, {"id", "purpose", "deidentified_fallback", "tool_targets"});
      AppConfig ac;
      ac.line = a.Mark().line + 1;
      if (!a["id"]) Fail(a, p, "needs id");
      ac.id = NonEmptyStr(a["id"], p + ".id");
      if (!ids.insert(ac.id).second) Fail(a["id"], p + ".id", "duplicate app");
      if (a["purpose"]) ac.purpose = Str(a["purpose"], p + ".purpose");
      if (a["deidentified_fallback"])
        ac.deidentified_fallback = Bool(a["deidentified_fallback"], p + ".deidentified_fallback");
      if (a["tool_targets"]) ac.tool_targets = StrList(a["tool_targets"], p + ".tool_targets");
      cfg.apps.push_back(std::move(ac));
    }
  }

  void ParseFailover(const YAML::Node& n, FailoverConfig& f) const {
    CheckKeys(n, "failover", {"breaker_failures", "breaker_cooldown_ms", "retry_budget_percent",
                              "retry_budget_min"});
    if (n["breaker_failures"])
      f.breaker_failures = static_cast<int>(Int(n["breaker_failures"], "failover.breaker_failures", 1, 1000));
    if (n["breaker_cooldown_ms"])
      f.breaker_cooldown = Ms(n["breaker_cooldown_ms"], "failover.breaker_cooldown_ms", 1, 3600 * 1000);
    if (n["retry_budget_percent"])
      f.retry_budget_percent = static_cast<int>(Int(n["retry_budget_percent"], "failover.retry_budget_percent", 0, 100));
    if (n["retry_budget_min"])
      f.retry_budget_min = static_cast<int>(Int(n["retry_budget_min"], "failover.retry_budget_min", 0, 100000));
  }

  void ParseAudit(const YAML::Node& n, AuditConfig& a) const {
    CheckKeys(n, "audit", {"enabled", "store", "durability", "log_id", "checkpoint_every",
                           "checkpoint_interval_ms", "key_file", "mirror_dir"});
    if (n["enabled"]) a.enabled = Bool(n["enabled"], "audit.enabled");
    if (n["store"]) {
      a.store = NonEmptyStr(n["store"], "audit.store");
      if (a.store.rfind("sqlite:", 0) != 0 && a.store.rfind("postgres:", 0) != 0) {
        Fail(n["store"], "audit.store", "must be sqlite:PATH or postgres:CONNINFO");
      }
    }
    if (n["durability"]) {
      std::string v = Str(n["durability"], "audit.durability");
      if (v != "default" && v != "strict") Fail(n["durability"], "audit.durability", "must be default or strict");
      a.strict = v == "strict";
    }
    if (n["log_id"]) a.log_id = NonEmptyStr(n["log_id"], "audit.log_id");
    if (n["checkpoint_every"]) {
      a.checkpoint_every = static_cast<std::uint64_t>(Int(n["checkpoint_every"], "audit.checkpoint_every", 1, 1'000'000'000));
    }
    if (n["checkpoint_interval_ms"]) a.checkpoint_interval = Ms(n["checkpoint_interval_ms"], "audit.checkpoint_interval_ms", 100, 86'400'000);
    if (n["key_file"]) a.key_file = NonEmptyStr(n["key_file"], "audit.key_file");
    if (n["mirror_dir"]) a.mirror_dir = NonEmptyStr(n["mirror_dir"], "audit.mirror_dir");
  }

  void ParsePhi(const YAML::Node& n, PhiConfig& pc) const {
    CheckKeys(n, "phi", {"roster_file", "staff_file", "facilities_file", "patterns"});
    if (n["roster_file"]) pc.roster_file = NonEmptyStr(n["roster_file"], "phi.roster_file");
    if (n["staff_file"]) pc.staff_file = NonEmptyStr(n["staff_file"], "phi.staff_file");
    if (n["facilities_file"]) pc.facilities_file = NonEmptyStr(n["facilities_file"], "phi.facilities_file");
    if (!n["patterns"]) return;
    const YAML::Node& ps = n["patterns"];
    if (!ps.IsSequence()) Fail(ps, "phi.patterns", "must be a list");
    std::set<std::string> names;
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const YAML::Node& a = ps[i];
      const std::string p = "phi.patterns[" + std::to_string(i) + "]";
      CheckKeys(a, p, {"name", "regex", "class", "caseless"});
      PhiPatternConfig pat;
      if (!a["name"] || !a["regex"]) Fail(a, p, "needs name and regex");
      pat.name = NonEmptyStr(a["name"], p + ".name");
      if (pat.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos) {
        Fail(a["name"], p + ".name", "must be lower-case letters, digits, '_' or '-'");
      }
      if (!names.insert(pat.name).second) Fail(a["name"], p + ".name", "duplicate pattern");
      pat.regex = NonEmptyStr(a["regex"], p + ".regex");
      if (a["class"]) {
        pat.cls = NonEmptyStr(a["class"], p + ".class");
        if (!phi::ParseClass(pat.cls)) Fail(a["class"], p + ".class", "is not a PHI class");
      }
      if (a["caseless"]) pat.caseless = Bool(a["caseless"], p + ".caseless");
      pc.patterns.push_back(std::move(pat));
    }
  }

  void ParsePolicy(const YAML::Node& n, PolicyConfig& pc) const {
    CheckKeys(n, "policy", {"registry_file", "baseline_hash", "on_drift"});
    if (n["registry_file"]) pc.registry_file = NonEmptyStr(n["registry_file"], "policy.registry_file");
    if (n["baseline_hash"]) {
      pc.baseline_hash = Str(n["baseline_hash"], "policy.baseline_hash");
      core::Sha256Digest d;
      if (!core::ParseSha256Hex(pc.baseline_hash, &d)) Fail(n["baseline_hash"], "policy.baseline_hash", "must be 64 hex digits");
    }
    if (n["on_drift"]) {
      std::string v = Str(n["on_drift"], "policy.on_drift");
      if (v != "warn" && v != "refuse") Fail(n["on_drift"], "policy.on_drift", "must be warn or refuse");
      pc.refuse_on_drift = v == "refuse";
    }
  }

  Config Parse(std::string_view yaml) const {
    YAML::Node root = Load(yaml);
    Config cfg;
    cfg.source = std::string(source());
    if (root.IsNull()) return cfg;
    CheckKeys(root, "", {"server", "log", "upstreams", "routes", "keys", "tenant", "apps", "policy",
                         "audit", "failover", "phi"});
    if (root["server"]) ParseServer(root["server"], cfg.server);
    if (root["log"]) ParseLog(root["log"], cfg.log);
    if (root["upstreams"]) ParseUpstreams(root["upstreams"], cfg);
    if (root["routes"]) ParseRoutes(root["routes"], cfg);
    if (root["keys"]) ParseKeys(root["keys"], cfg);
    if (root["tenant"]) ParseTenant(root["tenant"], cfg.tenant);
    if (root["apps"]) ParseApps(root["apps"], cfg);
    if (root["policy"]) ParsePolicy(root["policy"], cfg.policy);
    if (root["audit"]) ParseAudit(root["audit"], cfg.audit);
    if (root["failover"]) ParseFailover(root["failover"], cfg.failover);
    if (root["phi"]) ParsePhi(root["phi"], cfg.phi);
    if (!cfg.tenant.id.empty()) {
      for (std::size_t i = 0; i < cfg.keys.size(); ++i) {
        if (cfg.keys[i].tenant != cfg.tenant.id) {
          Fail(root["keys"][i]["tenant"], "keys[" + std::to_string(i) + "].tenant",
               "must be the configured tenant '" + cfg.tenant.id + "'");
        }
      }
    }
    return cfg;
  }

};

}  // namespace

bool IsKnownProvider(std::string_view p) {
  for (std::string_view k : {"openai", "anthropic", "azure_openai", "bedrock", "vertex_google",
                             "vertex_anthropic"}) {
    if (p == k) return true;
  }
  return false;
}

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

core::Result<HostPort> ParseHostPort(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return core::InvalidArgumentError("must be host:port");
  }
  HostPort hp;
  hp.host = std::string(s.substr(0, colon));
  if (hp.host.size() > 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  }
  std::string_view port = s.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoi(std::string(port)) > 65535) {
    return core::InvalidArgumentError("port must be a number from 0 to 65535");
  }
  hp.port = static_cast<std::uint16_t>(std::stoi(std::string(port)));
  return hp;
}

core::Result<Config> ParseConfig(std::string_view yaml, std::string_view source) {
  try {
    return Parser(source).Parse(yaml);
  } catch (const YamlError& e) {
    return core::InvalidArgumentError(e.message);
  } catch (const YAML::Exception& e) {
    return core::InvalidArgumentError(std::string(source) + ": " + e.what());
  }
}

core::Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::NotFoundError("cannot read config file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

bool ModelPatternMatches(std::string_view pattern, std::string_view model) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return model.substr(0, pattern.size()) == pattern;
  }
  return pattern == model;
}

std::string_view EmbeddedDefaultYaml() {
  return R"yaml(# baagate embedded defaults (used when `baagate serve` runs without --config).
server:
  listen: 127.0.0.1:8080
  admin_listen: 127.0.0.1:8081
log:
  level: info
  access: true
upstreams:
  openai:
    provider: openai
    base_url: https://api.openai.com/v1
    credential: { env: OPENAI_API_KEY }
routes:
  - model: "gpt-*"
    upstream: openai
  - model: "o*"
    upstream: openai
  - model: "text-embedding-*"
    upstream: openai
# No gateway keys: every request is refused with 401 until a configuration adds some.
keys: []
)yaml";
}

}  // namespace baagate::config
