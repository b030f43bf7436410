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
  enum class Kind { kNone, kEnv, kFile };
  Kind kind = Kind::kNone;
  std::string ref;  // variable name or file path
};

struct UpstreamConfig {
  std::string name;
  std::string provider = "openai";
  std::string base_url;
  std::string ca_file;
  CredentialConfig credential;
  Millis connect_timeout{5000};
  Millis first_byte_timeout{120000};
  Millis idle_timeout{120000};
  Millis pool_idle_timeout{30000};
  std::size_t max_idle_connections = 64;
  std::size_t max_response_bytes = 64u << 20;
  int line = 0;  // where it was declared, for later diagnostics
};

struct RouteConfig {
  std::string model;           // what clients send; a trailing '*' matches any suffix
  std::string upstream;        // a key of Config::upstreams
  std::string upstream_model;  // what the vendor receives; empty: the client's model
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

struct Config {
  std::string source;  // file name, or "<embedded defaults>"
  ServerConfig server;
  LogConfig log;
  std::map<std::string, UpstreamConfig> upstreams;
  std::vector<RouteConfig> routes;
  std::vector<KeyConfig> keys;
};

core::Result<Config> ParseConfig(std::string_view yaml, std::string_view source);
// Parses "host:port" or "[v6]:port"; port 0 to 65535.
core::Result<HostPort> ParseHostPort(std::string_view s);
core::Result<Config> LoadConfigFile(const std::string& path);

// The configuration `baagate serve` uses without --config: loopback listeners, the real OpenAI
// API with OPENAI_API_KEY, and no gateway keys (so every request is refused until keys are
// configured: fail closed).
std::string_view EmbeddedDefaultYaml();

// Matches a route or key-allowlist pattern: exact, or prefix when it ends with '*'.
bool ModelPatternMatches(std::string_view pattern, std::string_view model);

}  // namespace baagate::config
