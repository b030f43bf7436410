#include "policy/config_hash.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>

#include "core/crypto.h"

namespace baagate::policy {

namespace json = boost::json;

namespace {

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::value Credential(const config::CredentialConfig& c) {
  switch (c.kind) {
    case config::CredentialConfig::Kind::kEnv: return json::object{{"env", c.ref}};
    case config::CredentialConfig::Kind::kFile: return json::object{{"file", c.ref}};
    case config::CredentialConfig::Kind::kAwsEnvironment: return "aws_environment";
    case config::CredentialConfig::Kind::kGoogleServiceAccount:
      return json::object{{"google_service_account",
                           json::object{{"file", c.ref}, {"file_env", c.ref_env}}}};
    case config::CredentialConfig::Kind::kEntraToken:
      return json::object{{"entra_token", json::object{{"env", c.ref}}}};
    case config::CredentialConfig::Kind::kEntraClientCredentials:
      return json::object{{"entra_client_credentials",
                           json::object{{"tenant_id", c.tenant_id_env},
                                        {"client_id", c.client_id_env},
                                        {"client_secret", c.client_secret_env},
                                        {"authority", c.authority}}}};
    case config::CredentialConfig::Kind::kNone: break;
  }
  return "none";
}

void CanonicalInto(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::object: {
      const json::object& o = v.get_object();
      std::vector<const json::key_value_pair*> members;
      for (const auto& kv : o) members.push_back(&kv);
      std::sort(members.begin(), members.end(),
                [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i) out += ',';
        out += json::serialize(json::string_view(members[i]->key()));
        out += ':';
        CanonicalInto(members[i]->value(), out);
      }
      out += '}';
      break;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        CanonicalInto(e, out);
      }
      out += ']';
      break;
    }
    default:
      out += json::serialize(v);
  }
}

void Flatten(const json::value& v, const std::string& path, std::map<std::string, std::string>& out) {
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      Flatten(kv.value(), path.empty() ? std::string(kv.key()) : path + "." + std::string(kv.key()), out);
    }
    if (v.get_object().empty()) out[path] = "{}";
  } else if (v.is_array()) {
    std::size_t i = 0;
    for (const auto& e : v.get_array()) Flatten(e, path + "[" + std::to_string(i++) + "]", out);
    if (v.get_array().empty()) out[path] = "[]";
  } else {
    out[path] = json::serialize(v);
  }
}

}  // namespace

json::value EffectiveConfigJson(const config::Config& cfg, const config::RegistryDoc& registry) {
  json::object root;
  root["schema"] = "baagate.effective-config/1";
  root["registry"] = json::object{{"sha256", registry.sha256}, {"version", registry.version_label}};
  const config::TenantConfig& t = cfg.tenant;
  json::array contracts;
  for (const auto& c : t.contracts) {
    contracts.push_back(json::object{{"id", c.id},
                                     {"vendor", c.vendor},
                                     {"effective_date", c.effective_date},
                                     {"eligibility", c.dynamic_eligibility ? "dynamic" : "static"},
                                     {"scope_reference", c.scope_reference},
                                     {"include_features", Strings(c.include_features)},
                                     {"exclude_features", Strings(c.exclude_features)}});
  }
  json::array attestations;
  for (const auto& a : t.attestations) {
    attestations.push_back(json::object{{"vendor", a.vendor},
                                        {"retention", a.retention},
                                        {"source", a.verified ? "verified" : "asserted"},
                                        {"customer_managed_keys", a.customer_managed_keys},
                                        {"verified_at", a.verified_at}});
  }
  json::array subs;
  for (const auto& s : t.subprocessors) {
    subs.push_back(json::object{{"id", s.id}, {"baa", s.baa}, {"contract", s.contract}});
  }
  root["tenant"] = json::object{{"id", t.id},
                                {"contracts", std::move(contracts)},
                                {"attestations", std::move(attestations)},
                                {"subprocessors", std::move(subs)},
                                {"allowed_regions", Strings(t.allowed_regions)},
                                {"require_private_connectivity", t.require_private_connectivity},
                                {"require_customer_managed_keys", t.require_customer_managed_keys},
                                {"attestation_max_age_s", t.attestation_max_age_s},
                                {"pseudonym_key", Credential(t.pseudonym_key)}};
  json::array apps;
  for (const auto& a : cfg.apps) {
    apps.push_back(json::object{{"id", a.id},
                                {"purpose", a.purpose},
                                {"deidentified_fallback", a.deidentified_fallback},
                                {"tool_targets", Strings(a.tool_targets)}});
  }
  root["apps"] = std::move(apps);
  json::object ups;
  for (const auto& [name, u] : cfg.upstreams) {
    ups[name] = json::object{{"provider", u.provider},
                             {"base_url", u.base_url},
                             {"region", u.region},
                             {"private_connectivity", u.private_connectivity},
                             {"ca_file", u.ca_file},
                             {"credential", Credential(u.credential)}};
    // Only when set, so configurations without Vertex upstreams keep their hash.
    if (!u.project.empty()) ups[name].as_object()["project"] = u.project;
  }
  root["upstreams"] = std::move(ups);
  json::array routes;
  for (const auto& r : cfg.routes) {
    routes.push_back(json::object{{"name", r.name},
                                  {"model", r.model},
                                  {"upstream", r.upstream},
                                  {"upstream_model", r.upstream_model},
                                  {"deidentified_fallback", r.deidentified_fallback}});
  }
  root["routes"] = std::move(routes);
  json::array keys;
  for (const auto& k : cfg.keys) {
    keys.push_back(json::object{{"name", k.name},
                                {"sha256", core::HexEncode(k.sha256)},
                                {"tenant", k.tenant},
                                {"app", k.app},
                                {"role", k.role},
                                {"purpose", k.purpose},
                                {"models", Strings(k.models)}});
  }
  root["keys"] = std::move(keys);
  // The de-identifier's deployment lists by file name (their contents are PHI) and its
  // patterns; absent when none are configured, so existing hashes stay as they were.
  const config::PhiConfig& phi = cfg.phi;
  if (phi.HasLists()) {
    json::array patterns;
    for (const auto& p : phi.patterns) {
      patterns.push_back(json::object{
          {"name", p.name}, {"regex", p.regex}, {"class", p.cls}, {"caseless", p.caseless}});
    }
    root["phi"] = json::object{{"roster_file", phi.roster_file},
                               {"staff_file", phi.staff_file},
                               {"facilities_file", phi.facilities_file},
                               {"patterns", std::move(patterns)}};
  }
  return root;
}

std::string CanonicalJson(const json::value& v) {
  std::string out;
  CanonicalInto(v, out);
  return out;
}

std::string ConfigHash(const config::Config& cfg, const config::RegistryDoc& registry) {
  return core::HexEncode(core::Sha256(CanonicalJson(EffectiveConfigJson(cfg, registry))));
}

std::vector<std::string> DiffEffectiveConfig(const json::value& a, const json::value& b) {
  std::map<std::string, std::string> fa, fb;
  Flatten(a, "", fa);
  Flatten(b, "", fb);
  std::vector<std::string> out;
  auto ia = fa.begin();
  auto ib = fb.begin();
  while (ia != fa.end() || ib != fb.end()) {
    if (ib == fb.end() || (ia != fa.end() && ia->first < ib->first)) {
      out.push_back("- " + ia->first + ": " + ia->second);
      ++ia;
    } else if (ia == fa.end() || ib->first < ia->first) {
      out.push_back("+ " + ib->first + ": " + ib->second);
      ++ib;
    } else {
      if (ia->second != ib->second) {
        out.push_back("~ " + ia->first + ": " + ia->second + " -> " + ib->second);
      }
      ++ia;
      ++ib;
    }
  }
  return out;
}

}  // namespace baagate::policy
