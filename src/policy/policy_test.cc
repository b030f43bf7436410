#include "policy/policy.h"

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "config/yaml_reader.h"
#include "policy/block.h"
#include "policy/config_hash.h"
#include "policy/enforce.h"

namespace baagate::policy {
namespace {

namespace json = boost::json;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// 2026-11-22T12:00:00Z
constexpr std::int64_t kNow = 1795348800;

// A tenant with a contract and a fresh, acceptable attestation for every vendor, so a test
// changes one thing and sees one reason.
constexpr const char* kTenant = R"(
upstreams:
  u: { provider: openai, base_url: "https://x/v1", credential: none }
tenant:
  id: t1
  contracts:
    - { id: C-OPENAI, vendor: openai, effective_date: "2025-01-01" }
    - { id: C-ANTHROPIC, vendor: anthropic, effective_date: "2026-03-01", include_features: [web_search, computer_use] }
    - { id: C-MS, vendor: microsoft, effective_date: "2025-01-01" }
    - { id: C-AWS, vendor: aws, effective_date: "2024-01-01", eligibility: dynamic }
    - { id: C-GOOGLE, vendor: google, effective_date: "2025-01-01", eligibility: dynamic }
  attestations:
    - { vendor: openai, retention: zero_data_retention, source: verified, verified_at: "2026-11-22T06:00:00Z" }
    - { vendor: anthropic, retention: hipaa_enabled_org, source: verified, verified_at: "2026-11-22T06:00:00Z" }
    - { vendor: microsoft, retention: abuse_monitoring_off, source: asserted, verified_at: "2026-11-22T06:00:00Z", customer_managed_keys: true }
    - { vendor: aws, retention: none, source: verified, verified_at: "2026-11-22T06:00:00Z", customer_managed_keys: true }
    - { vendor: google, retention: zero_data_retention, source: verified, verified_at: "2026-11-22T06:00:00Z", customer_managed_keys: true }
  subprocessors:
    - { id: ehr, baa: true }
    - { id: "mcp:mcp.example.com", baa: true }
    - { id: "mcp:evil.example.com", baa: false }
  allowed_regions: [us, eastus2]
apps:
  - { id: app, purpose: treatment, deidentified_fallback: true, tool_targets: [ehr] }
  - { id: strict, purpose: treatment }
)";

config::Config ParseOrDie(const std::string& yaml) {
  auto cfg = config::ParseConfig(yaml, "test.yaml");
  EXPECT_TRUE(cfg.ok()) << cfg.status().message();
  return cfg.ok() ? *cfg : config::Config{};
}

std::shared_ptr<const PolicySet> Build(const std::string& yaml = kTenant,
                                       std::string_view registry_yaml = config::EmbeddedRegistryYaml()) {
  auto reg = config::ParseRegistry(registry_yaml, "registry.yaml");
  EXPECT_TRUE(reg.ok()) << reg.status().message();
  auto ps = PolicySet::Build(*reg, ParseOrDie(yaml));
  EXPECT_TRUE(ps.ok()) << ps.status().message();
  return *ps;
}

RequestFacts Facts(std::string provider, std::string surface, std::vector<std::string> features = {},
                   std::string region = "us") {
  RequestFacts f;
  f.provider = std::move(provider);
  f.surface = std::move(surface);
  f.model = "m";
  f.region = std::move(region);
  for (auto& x : features) f.AddFeature(x);
  f.AddModalityIn("text");
  f.Normalize();
  return f;
}

CallContext Ctx(std::string app = "strict", bool route_deid = false, std::int64_t now = kNow) {
  return CallContext{std::move(app), route_deid, now};
}

// A surface a provider's "*" rules apply to, for the registry table test.
std::string SurfaceFor(const config::RegistryRule& r) {
  if (r.surface != "*") return r.surface;
  if (r.provider == "openai") return "openai.chat_completions";
  if (r.provider == "anthropic") return "anthropic.messages";
  return r.provider + ".chat_completions";
}

// Items a feature pattern stands for: the elements of a set, a sample for a prefix.
std::vector<std::string> Items(std::string_view pattern) {
  std::vector<std::string> out;
  std::string_view list = pattern;
  if (pattern.front() == '{') list = pattern.substr(1, pattern.size() - 2);
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string el(list.substr(0, comma));
    if (el == "*") el = "core";
    else if (el.back() == '*') el = el.substr(0, el.size() - 1) + (el.size() > 1 && el[el.size() - 2] == '.' ? "function" : "x");
    out.push_back(el);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

// Every row of the default registry: the row is reachable (some item resolves to it) and its
// status is what the engine decides for that item when every tenant condition is met.
TEST(Registry, EveryRowDecidesItsStatus) {
  auto ps = Build();
  int rows = 0;
  for (const auto& rule : ps->registry().rules) {
    bool reached = false;
    for (const std::string& item : Items(rule.feature)) {
      const std::string surface = SurfaceFor(rule);
      if (ps->Match(rule.provider, surface, item, "m") != &rule) continue;
      reached = true;
      RequestFacts f = Facts(rule.provider, surface, item == "core" ? std::vector<std::string>{}
                                                                     : std::vector<std::string>{item});
      if (rule.provider == "azure_openai") f.region = "eastus2";
      if (item == "background") f.background = true;
      if (item == "store") f.store = true;
      if (item == "conversation_state") f.conversation_state = true;
      Decision d = ps->Evaluate(f, Ctx());
      if (rule.status == config::CoverageStatus::kNever) {
        EXPECT_EQ(d.decision, DecisionKind::kBlock);
        EXPECT_THAT(d.reasons, Contains(HasSubstr("NEVER_COVERED"))) << rule.id;
        continue;
      }
      const ItemResult* ir = nullptr;
      for (const auto& x : d.items) {
        if (x.item == item) ir = &x;
      }
      ASSERT_NE(ir, nullptr) << rule.id;
      EXPECT_EQ(ir->rule_id, rule.id);
      switch (rule.status) {
        case config::CoverageStatus::kCovered:
        case config::CoverageStatus::kCond:
          if (rule.conditions.end() ==
              std::find(rule.conditions.begin(), rule.conditions.end(), "C-LIST") ||
              rule.provider == "anthropic" || rule.provider == "bedrock" ||
              rule.provider.rfind("vertex", 0) == 0) {
            // Conditions that hold for this tenant: the item is in scope, unless the row
            // needs C-STATELESS and the item is itself stateful (file_ref).
            if (item == "file_ref" && std::find(rule.conditions.begin(), rule.conditions.end(),
                                                "C-STATELESS") != rule.conditions.end()) {
              EXPECT_FALSE(ir->ok) << rule.id;
            } else {
              EXPECT_TRUE(ir->ok) << rule.id << " " << item << " reasons: "
                                  << ::testing::PrintToString(d.reasons);
            }
          } else {
            EXPECT_THAT(d.reasons, Contains("FEATURE_NOT_LISTED:" + item)) << rule.id;
          }
          break;
        case config::CoverageStatus::kNotCovered:
          EXPECT_FALSE(ir->ok);
          EXPECT_EQ(d.decision, DecisionKind::kBlock) << rule.id;
          EXPECT_THAT(d.reasons, Contains(item == "core" ? std::string("ENDPOINT_NOT_COVERED")
                                                         : "FEATURE_NOT_COVERED:" + item))
              << rule.id;
          break;
        case config::CoverageStatus::kNever:
          EXPECT_EQ(d.decision, DecisionKind::kBlock);
          EXPECT_THAT(d.reasons, Contains(HasSubstr("NEVER_COVERED"))) << rule.id;
          break;
      }
    }
    EXPECT_TRUE(reached) << "registry row " << rule.id << " is shadowed by a more specific row";
    ++rows;
  }
  EXPECT_GT(rows, 60);
}

struct ReasonCase {
  const char* name;
  std::string tenant_yaml;  // empty: kTenant
  RequestFacts facts;
  CallContext ctx;
  const char* reason;
  Question question;
};

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

RequestFacts With(RequestFacts f, void (*mut)(RequestFacts&)) {
  mut(f);
  f.Normalize();
  return f;
}

std::vector<ReasonCase> ReasonCases() {
  const RequestFacts chat = Facts("openai", "openai.chat_completions");
  const RequestFacts claude = Facts("anthropic", "anthropic.messages");
  std::vector<ReasonCase> c;
  c.push_back({"no_rule", "", Facts("openai", "openai.chat_completions", {"teleportation"}), Ctx(), "NO_RULE:teleportation", kFeatures});
  c.push_back({"no_rule_endpoint", "", Facts("openai", "openai.unheard_of"), Ctx(), "NO_RULE", kEndpoint});
  c.push_back({"unknown_provider", "", Facts("mystery", "x"), Ctx(), "UNKNOWN_PROVIDER", kEndpoint});
  c.push_back({"never", "", Facts("gemini_developer", "gemini.generate"), Ctx(), "NEVER_COVERED", kEndpoint});
  c.push_back({"no_baa", Replace(kTenant, "    - { id: C-ANTHROPIC, vendor: anthropic, effective_date: \"2026-03-01\", include_features: [web_search, computer_use] }\n", ""), claude, Ctx(), "NO_BAA:anthropic", kEndpoint});
  c.push_back({"baa_future", Replace(kTenant, "effective_date: \"2025-01-01\" }", "effective_date: \"2027-01-01\" }"), chat, Ctx(), "BAA_NOT_YET_EFFECTIVE", kEndpoint});
  c.push_back({"unreadable", "", With(chat, [](RequestFacts& f) { f.extraction_error = "x"; }), Ctx(), "UNREADABLE_REQUEST", kFeatures});
  c.push_back({"unknown_field", "", With(chat, [](RequestFacts& f) { f.unknown_fields = {"foo"}; }), Ctx(), "UNKNOWN_FIELD:foo", kFeatures});
  c.push_back({"endpoint_not_covered", "", Facts("openai", "openai.images"), Ctx(), "ENDPOINT_NOT_COVERED", kEndpoint});
  c.push_back({"feature_not_covered", "", Facts("openai", "openai.chat_completions", {"web_search"}), Ctx(), "FEATURE_NOT_COVERED:web_search", kFeatures});
  c.push_back({"excluded", Replace(kTenant, "{ id: C-OPENAI, vendor: openai, effective_date: \"2025-01-01\" }", "{ id: C-OPENAI, vendor: openai, effective_date: \"2025-01-01\", exclude_features: [tools.function] }"), Facts("openai", "openai.chat_completions", {"tools.function"}), Ctx(), "EXCLUDED_BY_CONTRACT:tools.function", kFeatures});
  c.push_back({"not_listed", Replace(kTenant, "include_features: [web_search, computer_use]", "include_features: [computer_use]"), Facts("anthropic", "anthropic.messages", {"web_search"}), Ctx(), "FEATURE_NOT_LISTED:web_search", kFeatures});
  c.push_back({"after_contract_date", Replace(kTenant, "effective_date: \"2026-03-01\"", "effective_date: \"2025-06-01\""), Facts("anthropic", "anthropic.messages", {"web_search"}), Ctx(), "FEATURE_AFTER_CONTRACT_DATE:web_search", kFeatures});
  c.push_back({"not_yet_eligible_dynamic", Replace(kTenant, "effective_date: \"2026-03-01\", include", "effective_date: \"2025-06-01\", eligibility: dynamic, include"), Facts("anthropic", "anthropic.messages", {"web_search"}), Ctx("strict", false, 1764547200 /* 2025-12-01 */), "FEATURE_NOT_YET_ELIGIBLE:web_search", kFeatures});
  c.push_back({"not_ga", "", With(Facts("azure_openai", "azure_openai.chat_completions", {}, "eastus2"), [](RequestFacts& f) { f.preview = true; }), Ctx(), "NOT_GENERALLY_AVAILABLE", kEndpoint});
  c.push_back({"stateful_store", "", With(chat, [](RequestFacts& f) { f.store = true; }), Ctx(), "STATEFUL:store", kConfiguration});
  c.push_back({"stateful_background", "", With(Facts("openai", "openai.responses"), [](RequestFacts& f) { f.background = true; }), Ctx(), "STATEFUL:background", kConfiguration});
  c.push_back({"stateful_conversation", "", With(Facts("openai", "openai.responses"), [](RequestFacts& f) { f.conversation_state = true; }), Ctx(), "STATEFUL:conversation_state", kConfiguration});
  c.push_back({"stateful_file", "", Facts("openai", "openai.chat_completions", {"file_ref"}), Ctx(), "STATEFUL:file_ref", kConfiguration});
  c.push_back({"retention_unverified", Replace(kTenant, "    - { vendor: openai, retention: zero_data_retention, source: verified, verified_at: \"2026-11-22T06:00:00Z\" }\n", ""), chat, Ctx(), "RETENTION_UNVERIFIED", kConfiguration});
  c.push_back({"attestation_stale", "", chat, Ctx("strict", false, kNow + 2 * 86400), "ATTESTATION_STALE", kConfiguration});
  c.push_back({"attestation_future", "", chat, Ctx("strict", false, kNow - 86400), "ATTESTATION_IN_FUTURE", kConfiguration});
  c.push_back({"retention_mode", Replace(kTenant, "retention: zero_data_retention, source: verified, verified_at: \"2026-11-22T06:00:00Z\" }", "retention: thirty_days, source: verified, verified_at: \"2026-11-22T06:00:00Z\" }"), chat, Ctx(), "RETENTION_MODE_NOT_ALLOWED", kConfiguration});
  c.push_back({"region_unknown", "", Facts("openai", "openai.chat_completions", {}, ""), Ctx(), "REGION_UNKNOWN", kConfiguration});
  c.push_back({"region_not_allowed", "", Facts("openai", "openai.chat_completions", {}, "eu-west-1"), Ctx(), "REGION_NOT_ALLOWED", kConfiguration});
  c.push_back({"inference_geo", "", With(claude, [](RequestFacts& f) { f.inference_geo = "global"; }), Ctx(), "REGION_NOT_ALLOWED", kConfiguration});
  c.push_back({"private_link", Replace(kTenant, "allowed_regions: [us, eastus2]", "allowed_regions: [us, eastus2]\n  require_private_connectivity: true"), Facts("bedrock", "bedrock.converse", {}, "us-east-1"), Ctx(), "PRIVATE_CONNECTIVITY_REQUIRED", kConfiguration});
  c.push_back({"cmk", Replace(kTenant, "retention: none, source: verified, verified_at: \"2026-11-22T06:00:00Z\", customer_managed_keys: true", "retention: none, source: verified, verified_at: \"2026-11-22T06:00:00Z\""), Facts("bedrock", "bedrock.converse", {"s3_source"}, "us-east-1"), Ctx(), "CUSTOMER_MANAGED_KEYS_REQUIRED", kConfiguration});
  c.push_back({"subprocessor", "", With(Facts("openai", "openai.responses", {"tools.function"}), [](RequestFacts& f) { f.recipients = {"mcp:evil.example.com"}; }), Ctx(), "SUBPROCESSOR_NOT_COVERED:mcp:evil.example.com", kSubprocessors});
  c.push_back({"subprocessor_app_target", Replace(kTenant, "- { id: ehr, baa: true }", "- { id: ehr, baa: false }"), Facts("openai", "openai.chat_completions", {"tools.function"}), Ctx("app"), "SUBPROCESSOR_NOT_COVERED:ehr", kSubprocessors});
  c.push_back({"metadata", "", With(chat, [](RequestFacts& f) { f.metadata_attached = true; }), Ctx(), "METADATA_PRESENT", kConfiguration});
  c.push_back({"end_user", "", With(chat, [](RequestFacts& f) { f.end_user_id = true; }), Ctx(), "END_USER_ID_NOT_PSEUDONYMIZED", kConfiguration});
  return c;
}

TEST(Evaluate, EveryReasonCode) {
  for (const ReasonCase& rc : ReasonCases()) {
    SCOPED_TRACE(rc.name);
    auto ps = Build(rc.tenant_yaml.empty() ? std::string(kTenant) : rc.tenant_yaml);
    Decision d = ps->Evaluate(rc.facts, rc.ctx);
    EXPECT_EQ(d.decision, DecisionKind::kBlock);
    EXPECT_THAT(d.reasons, Contains(rc.reason));
    EXPECT_FALSE(d.questions[rc.question].ok);
    EXPECT_THAT(d.questions[rc.question].reasons, Contains(rc.reason));
    EXPECT_NE(d.scope, Scope::kCovered);
    EXPECT_EQ(d.registry_version, ps->registry().sha256);
    EXPECT_EQ(d.config_hash, ps->config_hash());
  }
}

TEST(Evaluate, AllowsWhenEveryConditionHolds) {
  auto ps = Build();
  Decision d = ps->Evaluate(Facts("openai", "openai.chat_completions", {"tools.function", "structured_output.json_schema"}), Ctx("app"));
  EXPECT_EQ(d.decision, DecisionKind::kAllow) << ::testing::PrintToString(d.reasons);
  EXPECT_EQ(d.scope, Scope::kConditionalMet);
  EXPECT_THAT(d.reasons, IsEmpty());
  EXPECT_EQ(d.contract_id, "C-OPENAI");
  EXPECT_EQ(d.config_retention, "verified:zero_data_retention");
  EXPECT_THAT(d.rule_ids, Contains("openai.chat.tools"));
  EXPECT_EQ(d.subprocessor_chain, std::vector<std::string>{"openai"});
  for (const auto& q : d.questions) EXPECT_TRUE(q.ok);
}

TEST(Evaluate, EveryFeatureResolvesOnItsOwn) {
  auto ps = Build();
  // One uncovered feature among covered ones blocks, and only it is named.
  Decision d = ps->Evaluate(Facts("openai", "openai.chat_completions", {"tools.function", "audio.input", "reasoning"}), Ctx());
  EXPECT_EQ(d.decision, DecisionKind::kBlock);
  EXPECT_EQ(d.reasons, std::vector<std::string>{"FEATURE_NOT_COVERED:audio.input"});
  int ok = 0;
  for (const auto& it : d.items) ok += it.ok;
  EXPECT_EQ(ok, 3);  // core, tools.function, reasoning
}

TEST(Evaluate, MostSpecificRuleWins) {
  auto ps = Build();
  // web_search on responses has its own row; the cache-only variant another.
  EXPECT_EQ(ps->Match("openai", "openai.responses", "web_search", "m")->id, "openai.responses.web_search");
  EXPECT_EQ(ps->Match("openai", "openai.responses", "web_search.cache_only", "m")->id, "openai.responses.web_search_cache");
  EXPECT_EQ(ps->Match("openai", "openai.chat_completions", "tools.function", "m")->id, "openai.chat.tools");
  EXPECT_EQ(ps->Match("openai", "openai.chat_completions", "file_ref", "m")->id, "openai.chat.file_ref");
  EXPECT_EQ(ps->Match("anthropic", "anthropic.messages", "web_fetch", "m")->id, "anthropic.ineligible");
  EXPECT_EQ(ps->Match("openai", "openai.chat_completions", "teleport", "m"), nullptr);
}

TEST(Evaluate, ContractIncludeLoosensNotCovered) {
  auto ps = Build(Replace(kTenant, "{ id: C-OPENAI, vendor: openai, effective_date: \"2025-01-01\" }",
                          "{ id: C-OPENAI, vendor: openai, effective_date: \"2025-01-01\", include_features: [vision.image_input] }"));
  RequestFacts f = Facts("openai", "openai.chat_completions", {"vision.image_input"});
  EXPECT_EQ(ps->Evaluate(f, Ctx()).decision, DecisionKind::kAllow);
  // …but never a "never".
  EXPECT_EQ(ps->Evaluate(Facts("gemini_developer", "x"), Ctx()).decision, DecisionKind::kBlock);
}

TEST(Evaluate, DeidentifiedFallbackOnlyWhereSafeHarborCanHelp) {
  auto ps = Build();
  RequestFacts eu = Facts("openai", "openai.chat_completions", {}, "eu-west-1");
  EXPECT_EQ(ps->Evaluate(eu, Ctx("app", true)).decision, DecisionKind::kAllowDeidentified);
  EXPECT_EQ(ps->Evaluate(eu, Ctx("app", false)).decision, DecisionKind::kBlock);     // route says no
  EXPECT_EQ(ps->Evaluate(eu, Ctx("strict", true)).decision, DecisionKind::kBlock);   // app says no
  RequestFacts image = Facts("openai", "openai.chat_completions", {"vision.image_input"});
  image.modalities_in = {"image", "text"};
  EXPECT_EQ(ps->Evaluate(image, Ctx("app", true)).decision, DecisionKind::kBlock);   // not text
  RequestFacts unknown = eu;
  unknown.unknown_fields = {"foo"};
  EXPECT_EQ(ps->Evaluate(unknown, Ctx("app", true)).decision, DecisionKind::kBlock);
  EXPECT_EQ(ps->Evaluate(Facts("gemini_developer", "x"), Ctx("app", true)).decision, DecisionKind::kBlock);
  // And the decision still says why the call was not in scope.
  EXPECT_THAT(ps->Evaluate(eu, Ctx("app", true)).reasons, Contains("REGION_NOT_ALLOWED"));
}

TEST(Evaluate, CoveredScopeWhenEveryRowIsCovered) {
  std::string reg(config::EmbeddedRegistryYaml());
  reg = Replace(reg, "  - id: openai.embeddings\n    provider: openai\n    surface: openai.embeddings\n    feature: core\n    modality: text\n    status: cond\n    conditions: [C-BAA, C-RET, C-META]",
                "  - id: openai.embeddings\n    provider: openai\n    surface: openai.embeddings\n    feature: core\n    modality: text\n    status: covered");
  auto ps = Build(kTenant, reg);
  Decision d = ps->Evaluate(Facts("openai", "openai.embeddings"), Ctx());
  EXPECT_EQ(d.scope, Scope::kCovered);
  EXPECT_EQ(d.decision, DecisionKind::kAllow);
  // C-BAA is the baseline of a covered row.
  auto no_contract = Build(Replace(kTenant, "    - { id: C-OPENAI, vendor: openai, effective_date: \"2025-01-01\" }\n", ""), reg);
  EXPECT_THAT(no_contract->Evaluate(Facts("openai", "openai.embeddings"), Ctx()).reasons, Contains("NO_BAA:openai"));
}

TEST(Evaluate, NoLongerEligible) {
  std::string reg(config::EmbeddedRegistryYaml());
  reg = Replace(reg, "    note: client-executed tools; C-SUB for the systems the app calls",
                "    eligible_until: 2026-06-30\n    note: client-executed tools");
  auto ps = Build(kTenant, reg);
  EXPECT_THAT(ps->Evaluate(Facts("openai", "openai.chat_completions", {"tools.function"}), Ctx()).reasons,
              Contains("FEATURE_NO_LONGER_ELIGIBLE:tools.function"));
}

TEST(Registry, ErrorsNameFileAndLine) {
  auto bad = config::ParseRegistry(
      "schema: baagate.registry/1\nversion: x\nproviders:\n  p: { vendor: v }\nrules:\n"
      "  - { id: r, provider: p, feature: core, status: maybe }\n",
      "reg.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("reg.yaml:6:"));
  EXPECT_THAT(bad.status().message(), HasSubstr("rules[0].status"));
  auto cond = config::ParseRegistry(
      "schema: baagate.registry/1\nversion: x\nproviders:\n  p: { vendor: v }\nrules:\n"
      "  - { id: r, provider: p, feature: core, status: cond, conditions: [C-NOPE] }\n",
      "reg.yaml");
  ASSERT_FALSE(cond.ok());
  EXPECT_THAT(cond.status().message(), HasSubstr("unknown condition"));
  auto provider = config::ParseRegistry(
      "schema: baagate.registry/1\nversion: x\nproviders:\n  p: { vendor: v }\nrules:\n"
      "  - { id: r, provider: q, feature: core, status: covered }\n",
      "reg.yaml");
  ASSERT_FALSE(provider.ok());
  EXPECT_THAT(provider.status().message(), HasSubstr("not declared"));
  // Consumer products are never covered, whatever the file says.
  auto consumer = config::ParseRegistry(
      "schema: baagate.registry/1\nversion: x\nproviders:\n  p: { vendor: v, product: consumer }\nrules: []\n",
      "reg.yaml");
  ASSERT_TRUE(consumer.ok());
  EXPECT_TRUE(consumer->providers[0].never);
}

TEST(TenantConfig, ErrorsNameFileAndLine) {
  auto cfg = config::ParseConfig("tenant:\n  id: t\n  contracts:\n    - { id: c, vendor: openai, effective_date: 2025-13-01 }\n", "gw.yaml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), HasSubstr("gw.yaml:4:"));
  EXPECT_THAT(cfg.status().message(), HasSubstr("effective_date"));
  auto att = config::ParseConfig("tenant:\n  id: t\n  attestations:\n    - { vendor: openai, retention: x, source: hearsay, verified_at: \"2026-01-01T00:00:00Z\" }\n", "gw.yaml");
  ASSERT_FALSE(att.ok());
  EXPECT_THAT(att.status().message(), HasSubstr("source"));
  auto vendor = PolicySet::Build(*config::ParseRegistry(config::EmbeddedRegistryYaml(), "r"),
                                 ParseOrDie("tenant:\n  id: t\n  contracts:\n    - { id: c, vendor: acme, effective_date: \"2025-01-01\" }\n"));
  ASSERT_FALSE(vendor.ok());
  EXPECT_THAT(vendor.status().message(), HasSubstr("not a vendor of the registry"));
}

TEST(ConfigHash, StableCanonicalAndSensitive) {
  auto reg = *config::ParseRegistry(config::EmbeddedRegistryYaml(), "r");
  config::Config a = ParseOrDie(kTenant);
  config::Config b = ParseOrDie(std::string("log: { level: debug }\n") + kTenant);  // not policy
  EXPECT_EQ(ConfigHash(a, reg), ConfigHash(b, reg));
  config::Config c = ParseOrDie(Replace(kTenant, "allowed_regions: [us, eastus2]", "allowed_regions: [us]"));
  EXPECT_NE(ConfigHash(a, reg), ConfigHash(c, reg));
  auto diff = DiffEffectiveConfig(EffectiveConfigJson(a, reg), EffectiveConfigJson(c, reg));
  EXPECT_THAT(diff, Contains("- tenant.allowed_regions[1]: \"eastus2\""));
  EXPECT_THAT(DiffEffectiveConfig(EffectiveConfigJson(a, reg), EffectiveConfigJson(b, reg)), IsEmpty());
  // A changed de-identification pattern is a change of the effective configuration.
  config::Config p1 = ParseOrDie(std::string("phi: { patterns: [ { name: b, regex: 'B[0-9]{4}' } ] }\n") + kTenant);
  config::Config p2 = ParseOrDie(std::string("phi: { patterns: [ { name: b, regex: 'B[0-9]{5}' } ] }\n") + kTenant);
  EXPECT_NE(ConfigHash(p1, reg), ConfigHash(a, reg));
  EXPECT_NE(ConfigHash(p1, reg), ConfigHash(p2, reg));
  EXPECT_EQ(CanonicalJson(json::parse(R"({"b":1,"a":{"d":[true,null],"c":"x"}})")),
            R"({"a":{"c":"x","d":[true,null]},"b":1})");
}

TEST(Enforce, MakesStatelessAndMetadataFree) {
  json::object body = json::parse(R"({"model":"m","messages":[],"store":true,"metadata":{"k":"v"},"user":"patient-42","safety_identifier":"s"})").as_object();
  EnforcementOptions opts;
  opts.pseudonym_key = "key";
  EnforcementResult r = Enforce(Surface::kOpenAIChat, body, opts);
  EXPECT_EQ(r.actions, (std::vector<std::string>{"set_store_false", "strip_metadata", "pseudonymize_user", "pseudonymize_safety_identifier"}));
  EXPECT_EQ(body["store"], json::value(false));
  EXPECT_FALSE(body.contains("metadata"));
  EXPECT_EQ(body["user"].as_string(), PseudonymizeUserId("key", "patient-42"));
  EXPECT_THAT(std::string(body["user"].as_string()), ::testing::StartsWith("bgu_"));
  EXPECT_EQ(body["user"].as_string().size(), 26u);
  // Responses stores by default: absent store becomes false.
  json::object resp = json::parse(R"({"model":"m","input":"x"})").as_object();
  EXPECT_EQ(Enforce(Surface::kOpenAIResponses, resp, {}).actions, std::vector<std::string>{"set_store_false"});
  EXPECT_EQ(resp["store"], json::value(false));
  // Without a key, user ids are removed.
  json::object anon = json::parse(R"({"model":"m","messages":[],"user":"u"})").as_object();
  EXPECT_EQ(Enforce(Surface::kOpenAIChat, anon, {}).actions, std::vector<std::string>{"strip_user"});
  EXPECT_FALSE(anon.contains("user"));
  // Anthropic: user_id pseudonymised, inference_geo pinned.
  json::object msg = json::parse(R"({"model":"m","max_tokens":1,"messages":[],"metadata":{"user_id":"jane@x.org"},"inference_geo":"global"})").as_object();
  EnforcementOptions geo;
  geo.pseudonym_key = "k";
  geo.pin_region = "us";
  geo.allowed_regions = {"us"};
  EXPECT_EQ(Enforce(Surface::kAnthropicMessages, msg, geo).actions, (std::vector<std::string>{"pseudonymize_user_id", "pin_inference_geo"}));
  EXPECT_EQ(msg["inference_geo"].as_string(), "us");
  EXPECT_EQ(msg["metadata"].as_object()["user_id"].as_string(), PseudonymizeUserId("k", "jane@x.org"));
}

Decision GoldenDecision() {
  Decision d;
  d.decision = DecisionKind::kBlock;
  d.reasons = {"FEATURE_NOT_COVERED:web_search", "UNKNOWN_FIELD:foo"};
  return d;
}

TEST(BlockBody, GoldenOpenAI) {
  EXPECT_EQ(BlockBody(Dialect::kOpenAI, GoldenDecision(), "req-1"),
            R"({"error":{"message":"This call is outside the organisation's BAA scope and was not sent. Remove the request fields the gateway does not recognise, or add them to the registry after review.","type":"permission_error","param":null,"code":"baa_scope_violation","reasons":["FEATURE_NOT_COVERED:web_search","UNKNOWN_FIELD:foo"],"request_id":"req-1"}})");
}

TEST(BlockBody, GoldenAnthropic) {
  EXPECT_EQ(BlockBody(Dialect::kAnthropic, GoldenDecision(), "req-1"),
            R"({"type":"error","error":{"type":"permission_error","message":"This call is outside the organisation's BAA scope and was not sent. Remove the request fields the gateway does not recognise, or add them to the registry after review.","code":"baa_scope_violation","reasons":["FEATURE_NOT_COVERED:web_search","UNKNOWN_FIELD:foo"]},"request_id":"req-1"})");
}

TEST(BlockBody, HintFollowsTheMostFundamentalReason) {
  Decision d;
  d.reasons = {"METADATA_PRESENT", "NO_BAA:openai"};
  EXPECT_THAT(FixHint(d), HasSubstr("BAA with this vendor"));
}

// Property: whatever else a request contains, image or audio parts never reach a route whose
// registry rows do not cover them (OpenAI chat: neither is covered).
TEST(Property, ImageAndAudioNeverReachUncoveredRoutes) {
  auto ps = Build();
  std::mt19937 rng(20261122);
  const char* parts[] = {R"({"type":"text","text":"t"})", R"({"type":"image_url","image_url":{"url":"data:,"}})",
                         R"({"type":"input_audio","input_audio":{"data":"","format":"wav"}})"};
  const char* extras[] = {"", R"(,"tools":[{"type":"function","function":{"name":"f"}}])",
                          R"(,"response_format":{"type":"json_object"})", R"(,"reasoning_effort":"low")",
                          R"(,"store":false)", R"(,"n":1)"};
  int checked = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string content = "[";
    int n = 1 + static_cast<int>(rng() % 4);
    bool media = false;
    for (int j = 0; j < n; ++j) {
      int k = static_cast<int>(rng() % 3);
      media = media || k > 0;
      content += (j ? "," : "") + std::string(parts[k]);
    }
    content += "]";
    std::string body = R"({"model":"m","messages":[{"role":"user","content":)" + content + "}]" +
                       extras[rng() % std::size(extras)] + "}";
    RequestFacts f = Facts("openai", "openai.chat_completions");
    f.modalities_in.clear();
    ExtractFacts(Surface::kOpenAIChat, json::parse(body).as_object(), "", &f);
    Decision d = ps->Evaluate(f, Ctx("app", true));
    if (media) {
      ++checked;
      EXPECT_EQ(d.decision, DecisionKind::kBlock) << body;
    } else {
      EXPECT_EQ(d.decision, DecisionKind::kAllow) << body << ::testing::PrintToString(d.reasons);
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(Region, Matching) {
  std::vector<std::string> us = {"us", "eastus*"};
  EXPECT_TRUE(RegionAllowed("us", us));
  EXPECT_TRUE(RegionAllowed("us-east-1", us));
  EXPECT_TRUE(RegionAllowed("us.anthropic", us));
  EXPECT_TRUE(RegionAllowed("eastus2", us));
  EXPECT_FALSE(RegionAllowed("usa-north", us));
  EXPECT_FALSE(RegionAllowed("eu-west-1", us));
  EXPECT_FALSE(RegionAllowed("", us));
  EXPECT_FALSE(RegionAllowed("global", us));
}

}  // namespace
}  // namespace baagate::policy
