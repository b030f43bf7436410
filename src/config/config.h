// baagate's configuration: the YAML schema (docs/formats/config.md), loading and validation.
//
// Errors name the file, line and column and the path of the offending key, for example
// "gateway.yaml:12:5: routes[0].upstream: unknown upstream 'openia'". Unknown keys are errors:
// a misspelt safety setting must not be silently ignored.
//
// A Config is plain data; the pipeline compiles it into an immutable runtime snapshot.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.h"
#include "core/log.h"
#include "core/status.h"

namespace baagate::config {

using Millis = std::chrono::milliseconds;

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  std::string ToString() const;
};

struct LimitsConfig {
  std::size_t max_body_bytes = 8u << 20;
  std::size_t max_header_bytes = 16u << 10;
  std::size_t max_connections = 10000;
  Millis header_timeout{10000};
  Millis body_timeout{30000};
  Millis keepalive_timeout{60000};
  Millis write_timeout{60000};
  Millis drain_timeout{30000};
  Millis timer_resolution{50};
};

struct ServerConfig {
  HostPort listen{"127.0.0.1", 8080};
  HostPort admin_listen{"127.0.0.1", 8081};
  int workers = 0;  // 0: one per core
  std::string tls_cert_file;  // both set: clients connect with TLS
  std::string tls_key_file;
  LimitsConfig limits;
};

struct LogConfig {
  core::LogLevel level = core::LogLevel::kInfo;
  bool access = true;  // one line per request (never bodies)
};

// Where a vendor credential comes from. The value itself is never in the configuration.
struct CredentialConfig {
  // kAwsEnvironment: the standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
  // variables, else the shared credentials file (Bedrock's SigV4 needs a key pair, not one
  // secret; providers/bedrock/credentials.h).
  // kGoogleServiceAccount: a Google service-account JSON key file (Vertex AI), at `ref` or, when
  //   `ref_env` is set, at the path that variable holds (GOOGLE_APPLICATION_CREDENTIALS style).
  // kEntraToken: a Microsoft Entra access token in the variable `ref` (sent as a bearer).
  // kEntraClientCredentials: the client-credentials flow; tenant, client id and secret come from
  //   the variables named below, the token from {authority}/{tenant}/oauth2/v2.0/token.
  enum class Kind {
    kNone, kEnv, kFile, kAwsEnvironment, kGoogleServiceAccount, kEntraToken,
    kEntraClientCredentials
  };
  Kind kind = Kind::kNone;
  std::string ref;  // variable name or file path
  std::string ref_env;  // kGoogleServiceAccount: the variable holding the key file's path
  std::string tenant_id_env;      // kEntraClientCredentials
  std::string client_id_env;      // kEntraClientCredentials
  std::string client_secret_env;  // kEntraClientCredentials
  std::string authority;          // kEntraClientCredentials; empty: login.microsoftonline.com
};

struct UpstreamConfig {
  std::string name;
  // A provider id of the coverage registry: openai, anthropic, azure_openai, bedrock,
  // vertex_google, vertex_anthropic.
  std::string provider = "openai";
  // Where the vendor processes requests sent here (us, us-east-1, eastus2, …); empty: unknown,
  // which fails the region condition (C-REGION) wherever it applies.
  std::string region;
  // The path to this upstream is private (PrivateLink, Private Service Connect, VPN): C-NET.
  bool private_connectivity = false;
  std::string base_url;
  // Azure OpenAI deployment URLs: the api-version query parameter (empty: 2024-10-21). Unused
  // with the v1 API (a base_url ending in /openai/v1) and by other providers.
  std::string api_version;
  // Vertex AI (vertex_google, vertex_anthropic): the Google Cloud project in the model path.
  std::string project;
  std::string ca_file;
  CredentialConfig credential;
  // Bedrock only. The runtime API: "converse" or "invoke"; empty chooses per model id (invoke
  // for Anthropic models, "anthropic." or ".anthropic.", converse otherwise).
  std::string bedrock_api;
  // Bedrock only. The shared credentials file's profile when AWS_PROFILE is unset.
  std::string profile;
  Millis connect_timeout{5000};
  Millis first_byte_timeout{120000};
  Millis idle_timeout{120000};
  Millis pool_idle_timeout{30000};
  std::size_t max_idle_connections = 64;
  std::size_t max_response_bytes = 64u << 20;
  int line = 0;  // where it was declared, for later diagnostics
};

struct RouteConfig {
  std::string name;            // for `scope check --route` and the matrix; default: model
  std::string model;           // what clients send; a trailing '*' matches any suffix
  std::string upstream;        // a key of Config::upstreams
  std::string upstream_model;  // what the vendor receives; empty: the client's model
  // When the call is not in BAA scope, this route may still take it de-identified (Safe Harbor)
  // for apps that allow a de-identified fallback.
  bool deidentified_fallback = false;
  int line = 0;
};

struct KeyConfig {
  std::string name;
  core::Sha256Digest sha256{};  // SHA-256 of the key the client sends
  std::string tenant;
  std::string app;
  std::string role;
  std::string purpose;
  std::vector<std::string> models;  // route patterns this key may use; empty: all
  int line = 0;
};

// A Business Associate Agreement the tenant holds with a vendor.
struct ContractConfig {
  std::string id;              // the contract's reference, recorded with every decision
  std::string vendor;          // openai, anthropic, microsoft, aws, google
  std::string effective_date;  // YYYY-MM-DD
  // static: the vendor's eligibility list as of effective_date; dynamic: the list in force at
  // the time of each call.
  bool dynamic_eligibility = false;
  std::string scope_reference;                 // where the signed scope document lives
  std::vector<std::string> include_features;   // named in the contract (C-LIST; loosens N)
  std::vector<std::string> exclude_features;   // carved out by the contract (tightens)
  int line = 0;
};

// Configuration the tenant has set on the vendor's side and verified (or merely declared).
struct AttestationConfig {
  std::string vendor;
  std::string retention;     // zero_data_retention, hipaa_enabled_org, none, default, …
  bool verified = false;     // true: checked against the vendor's admin API; false: asserted
  bool customer_managed_keys = false;
  std::int64_t verified_at = 0;  // seconds since the epoch; older than the limit: stale
  int line = 0;
};

// A party that receives content besides the model vendor (tool target, MCP server, vector
// store, search provider) and whether a BAA or subcontractor BAA covers it.
struct SubprocessorConfig {
  std::string id;  // e.g. "mcp:ehr.example.org", "acme-ehr"
  bool baa = false;
  std::string contract;
  int line = 0;
};

struct TenantConfig {
  std::string id;
  std::vector<ContractConfig> contracts;
  std::vector<AttestationConfig> attestations;
  std::vector<SubprocessorConfig> subprocessors;
  // Region names or prefixes ("us" matches us, us-east-1 and us.anthropic…; "eastus*" a prefix).
  std::vector<std::string> allowed_regions = {"us"};
  bool require_private_connectivity = false;
  bool require_customer_managed_keys = false;
  std::int64_t attestation_max_age_s = 24 * 3600;
  // Key for pseudonymising end-user ids (HMAC-SHA256). Without it, user ids are stripped.
  CredentialConfig pseudonym_key;
};

struct AppConfig {
  std::string id;
  std::string purpose;
  bool deidentified_fallback = false;        // may use de-identified fallback routes
  std::vector<std::string> tool_targets;     // systems its client-executed tools send data to
  int line = 0;
};

struct PolicyConfig {
  std::string registry_file;  // empty: the registry built into the binary
  std::string baseline_hash;  // approved effective-configuration hash; empty: none pinned
  bool refuse_on_drift = false;  // false: warn
};

// The tamper-evident audit log (src/audit/, docs/formats/audit.md). On by default: a gateway
// that cannot write its decision record refuses the request (fail closed).
struct AuditConfig {
  bool enabled = true;
  std::string store = "sqlite:baagate-data/audit.db";  // or postgres:CONNINFO
  bool strict = false;           // durability: fsync each batch before forwarding
  std::string log_id;            // empty: "<host>/<start uuid>", a new chain per process
  std::uint64_t checkpoint_every = 1000;
  Millis checkpoint_interval{60000};
  std::string key_file = "baagate-data/audit.key";  // generated (0600) if missing
  std::string mirror_dir;        // optional write-once copy of every checkpoint
};

// Failover between the routes of one model (routes that share a `model` form an ordered list).
struct FailoverConfig {
  int breaker_failures = 5;          // consecutive failures that open a route's circuit
  Millis breaker_cooldown{30000};    // how long an open circuit refuses calls before one probe
  int retry_budget_percent = 20;     // failovers allowed per window, as a share of requests …
  int retry_budget_min = 10;         // … but at least this many per 10-second window
};

// The PHI detector's deployment lists (de-identified fallback routes and `baagate scan/deid/eval
// --config`). The files hold PHI: they are read at start-up and never logged or hashed into
// anything that leaves the process.
struct PhiPatternConfig {
  std::string name;   // rule id "custom.<name>" in findings
  std::string regex;  // Hyperscan syntax
  std::string cls = "UNIQUE_IDENTIFIER";  // a PHI class name or placeholder tag
  bool caseless = false;
};
struct PhiConfig {
  std::string roster_file;      // one patient name per line: always PHI wherever it appears
  std::string staff_file;       // one staff name per line: counts as evidence of a name
  std::string facilities_file;  // one local facility name per line (matched exactly)
  std::vector<PhiPatternConfig> patterns;  // local identifier formats (MRNs, badge numbers, ...)

  bool HasLists() const {
    return !roster_file.empty() || !staff_file.empty() || !facilities_file.empty() ||
           !patterns.empty();
  }
};

struct Config {
  std::string source;  // file name, or "<embedded defaults>"
  ServerConfig server;
  LogConfig log;
  std::map<std::string, UpstreamConfig> upstreams;
  std::vector<RouteConfig> routes;
  std::vector<KeyConfig> keys;
  TenantConfig tenant;
  std::vector<AppConfig> apps;
  PolicyConfig policy;
  AuditConfig audit;
  FailoverConfig failover;
  PhiConfig phi;
};

core::Result<Config> ParseConfig(std::string_view yaml, std::string_view source);
// Parses "host:port" or "[v6]:port"; port 0 to 65535.
core::Result<HostPort> ParseHostPort(std::string_view s);
core::Result<Config> LoadConfigFile(const std::string& path);

// The configuration `baagate serve` uses without --config: loopback listeners, the real OpenAI
// API with OPENAI_API_KEY, and no gateway keys (so every request is refused until keys are
// configured: fail closed).
std::string_view EmbeddedDefaultYaml();

// The upstream provider ids the gateway knows (the coverage registry's provider ids).
bool IsKnownProvider(std::string_view provider);

// Matches a route or key-allowlist pattern: exact, or prefix when it ends with '*'.
bool ModelPatternMatches(std::string_view pattern, std::string_view model);

}  // namespace baagate::config
