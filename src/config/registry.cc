#include "config/registry.h"

#include <fstream>
#include <set>
#include <sstream>

#include "config/yaml_reader.h"
#include "core/crypto.h"

namespace baagate::config {

namespace {

constexpr std::string_view kConditions[] = {"C-BAA", "C-LIST", "C-DATE",  "C-GA",
                                            "C-RET", "C-STATELESS", "C-REGION", "C-NET",
                                            "C-KEY", "C-SUB", "C-META"};

class RegistryParser : public YamlReader {
 public:
  using YamlReader::YamlReader;

  RegistryDoc Parse(std::string_view yaml) const {
    YAML::Node root = Load(yaml);
    if (!root.IsMap()) Fail(root, "registry", "must be a mapping");
    CheckKeys(root, "", {"schema", "version", "providers", "rules"});
    RegistryDoc doc;
    doc.source = std::string(source());
    if (!root["schema"] || Str(root["schema"], "schema") != "baagate.registry/1") {
      Fail(root["schema"], "schema", "must be baagate.registry/1");
    }
    if (!root["version"]) Fail(root, "version", "is required");
    doc.version_label = NonEmptyStr(root["version"], "version");
    if (!root["providers"] || !root["providers"].IsMap()) {
      Fail(root["providers"], "providers", "must be a mapping of provider id to provider");
    }
    for (const auto& kv : root["providers"]) {
      RegistryProvider p;
      p.id = kv.first.as<std::string>();
      p.line = kv.first.Mark().line + 1;
      const std::string path = "providers." + p.id;
      const YAML::Node& v = kv.second;
      CheckKeys(v, path, {"vendor", "product", "chain", "retention_ok", "never"});
      if (!v["vendor"]) Fail(v, path, "needs vendor");
      p.vendor = NonEmptyStr(v["vendor"], path + ".vendor");
      if (v["product"]) {
        p.product = Str(v["product"], path + ".product");
        if (p.product != "api" && p.product != "enterprise_app" && p.product != "consumer") {
          Fail(v["product"], path + ".product", "must be api, enterprise_app or consumer");
        }
      }
      if (v["chain"]) p.chain = StrList(v["chain"], path + ".chain");
      if (v["retention_ok"]) p.retention_ok = StrList(v["retention_ok"], path + ".retention_ok");
      if (v["never"]) p.never = Bool(v["never"], path + ".never");
      // Consumer products are never covered, whatever the file says.
      if (p.product == "consumer") p.never = true;
      doc.providers.push_back(std::move(p));
    }
    const YAML::Node& rules = root["rules"];
    if (!rules || !rules.IsSequence()) Fail(rules, "rules", "must be a list");
    std::set<std::string> ids;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const YAML::Node& r = rules[i];
      const std::string path = "rules[" + std::to_string(i) + "]";
      CheckKeys(r, path,
                {"id", "provider", "surface", "feature", "modality", "models", "status",
                 "conditions", "eligible_from", "eligible_until", "note"});
      RegistryRule rule;
      rule.line = r.Mark().line + 1;
      for (const char* req : {"id", "provider", "feature", "status"}) {
        if (!r[req]) Fail(r, path, std::string("needs ") + req);
      }
      rule.id = NonEmptyStr(r["id"], path + ".id");
      if (!ids.insert(rule.id).second) Fail(r["id"], path + ".id", "duplicate rule id");
      rule.provider = NonEmptyStr(r["provider"], path + ".provider");
      bool known = false;
      for (const auto& p : doc.providers) known = known || p.id == rule.provider;
      if (!known) Fail(r["provider"], path + ".provider", "not declared under providers");
      if (r["surface"]) rule.surface = NonEmptyStr(r["surface"], path + ".surface");
      rule.feature = NonEmptyStr(r["feature"], path + ".feature");
      if (rule.feature.front() == '{' && rule.feature.back() != '}') {
        Fail(r["feature"], path + ".feature", "a set must look like {a,b,c.*}");
      }
      if (r["modality"]) rule.modality = Str(r["modality"], path + ".modality");
      if (r["models"]) rule.models = NonEmptyStr(r["models"], path + ".models");
      std::string st = Str(r["status"], path + ".status");
      if (st == "covered") rule.status = CoverageStatus::kCovered;
      else if (st == "cond") rule.status = CoverageStatus::kCond;
      else if (st == "not_covered") rule.status = CoverageStatus::kNotCovered;
      else if (st == "never") rule.status = CoverageStatus::kNever;
      else Fail(r["status"], path + ".status", "must be one of covered, cond, not_covered, never");
      if (r["conditions"]) {
        rule.conditions = StrList(r["conditions"], path + ".conditions");
        for (std::size_t j = 0; j < rule.conditions.size(); ++j) {
          if (!IsKnownCondition(rule.conditions[j])) {
            Fail(r["conditions"][j], path + ".conditions[" + std::to_string(j) + "]",
                 "unknown condition (known: C-BAA C-LIST C-DATE C-GA C-RET C-STATELESS C-REGION "
                 "C-NET C-KEY C-SUB C-META)");
          }
        }
      }
      if (rule.status == CoverageStatus::kCond && rule.conditions.empty()) {
        Fail(r, path, "a cond rule needs conditions");
      }
      if (r["eligible_from"]) rule.eligible_from = Date(r["eligible_from"], path + ".eligible_from");
      if (r["eligible_until"]) rule.eligible_until = Date(r["eligible_until"], path + ".eligible_until");
      if (r["note"]) rule.note = Str(r["note"], path + ".note");
      doc.rules.push_back(std::move(rule));
    }
    return doc;
  }
};

}  // namespace

std::string_view CoverageStatusName(CoverageStatus s) {
  switch (s) {
    case CoverageStatus::kCovered: return "covered";
    case CoverageStatus::kCond: return "cond";
    case CoverageStatus::kNotCovered: return "not_covered";
    case CoverageStatus::kNever: return "never";
  }
  return "never";
}

bool IsKnownCondition(std::string_view code) {
  for (auto c : kConditions) {
    if (c == code) return true;
  }
  return false;
}

core::Result<RegistryDoc> ParseRegistry(std::string_view yaml, std::string_view source) {
  try {
    RegistryDoc doc = RegistryParser(source).Parse(yaml);
    doc.sha256 = core::HexEncode(core::Sha256(yaml));
    return doc;
  } catch (const YamlError& e) {
    return core::InvalidArgumentError(e.message);
  } catch (const YAML::Exception& e) {
    return core::InvalidArgumentError(std::string(source) + ": " + e.what());
  }
}

core::Result<RegistryDoc> LoadRegistryFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::NotFoundError("cannot read registry file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseRegistry(ss.str(), path);
}

}  // namespace baagate::config
