// The effective configuration — registry version, tenant contracts and attestations, apps,
// upstreams, routes and key bindings — as one canonical JSON document and its SHA-256.
//
// The hash is recorded at start, on every reload and with every decision, so an auditor can
// tell which rules were in force for a call and notice drift between calls. Secrets never enter
// it: credentials appear as their source (env var name or file path), keys as their hashes.
// Server tuning (listen addresses, timeouts, log level) and the drift baseline itself are left
// out: they do not change what is in scope.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <vector>

#include "config/config.h"
#include "config/registry.h"

namespace baagate::policy {

boost::json::value EffectiveConfigJson(const config::Config& cfg,
                                       const config::RegistryDoc& registry);
// Compact JSON with object members sorted by key (the ordering of RFC 8785 for ASCII keys).
std::string CanonicalJson(const boost::json::value& v);
// Hex SHA-256 of CanonicalJson(EffectiveConfigJson(cfg, registry)).
std::string ConfigHash(const config::Config& cfg, const config::RegistryDoc& registry);

// Line-oriented differences between two effective configurations: "+ path: value",
// "- path: value", "~ path: old -> new", in path order. Empty when they are equal.
std::vector<std::string> DiffEffectiveConfig(const boost::json::value& a,
                                             const boost::json::value& b);

}  // namespace baagate::policy
