// Policy evaluation kernels: PolicySet::Evaluate alone (budget: <= 5 us a decision), and the
// whole decide stage the gateway runs per request (enforce, extract, evaluate) on a parsed body.
#include <benchmark/benchmark.h>
#include <boost/json.hpp>

#include "config/config.h"
#include "config/registry.h"
#include "policy/enforce.h"
#include "policy/facts.h"
#include "policy/policy.h"

namespace {

using namespace baagate;

std::shared_ptr<const policy::PolicySet> MakePolicy() {
  auto cfg = config::ParseConfig(R"(
tenant:
  id: t
  contracts:
    - { id: c1, vendor: openai, effective_date: "2025-01-01" }
    - { id: c2, vendor: anthropic, effective_date: "2026-03-01", include_features: [web_search] }
  attestations:
    - { vendor: openai, retention: zero_data_retention, source: verified, verified_at: "2026-11-22T00:00:00Z" }
    - { vendor: anthropic, retention: hipaa_enabled_org, source: verified, verified_at: "2026-11-22T00:00:00Z" }
  subprocessors:
    - { id: ehr, baa: true }
apps:
  - { id: a, tool_targets: [ehr] }
)", "bench.yaml");
  auto reg = config::ParseRegistry(config::EmbeddedRegistryYaml(), "r");
  return *policy::PolicySet::Build(*reg, *cfg);
}

constexpr std::int64_t kNow = 1795348800;

policy::RequestFacts ChatFacts(std::vector<std::string> features) {
  policy::RequestFacts f;
  f.provider = "openai";
  f.surface = "openai.chat_completions";
  f.model = "gpt-4o";
  f.region = "us";
  for (auto& x : features) f.AddFeature(x);
  f.AddModalityIn("text");
  f.Normalize();
  return f;
}

void BM_EvaluatePlainChat(benchmark::State& state) {
  auto ps = MakePolicy();
  policy::RequestFacts f = ChatFacts({});
  policy::CallContext ctx{"a", false, kNow};
  for (auto _ : state) benchmark::DoNotOptimize(ps->Evaluate(f, ctx));
}
BENCHMARK(BM_EvaluatePlainChat);

void BM_EvaluateChatWithFeatures(benchmark::State& state) {
  auto ps = MakePolicy();
  policy::RequestFacts f = ChatFacts({"tools.function", "tools.parallel", "tool_choice.forced",
                                      "structured_output.json_schema", "reasoning", "prompt_cache"});
  policy::CallContext ctx{"a", false, kNow};
  for (auto _ : state) benchmark::DoNotOptimize(ps->Evaluate(f, ctx));
}
BENCHMARK(BM_EvaluateChatWithFeatures);

void BM_EvaluateBlocked(benchmark::State& state) {
  auto ps = MakePolicy();
  policy::RequestFacts f = ChatFacts({"vision.image_input", "web_search", "audio.input"});
  f.region = "eu-west-1";
  policy::CallContext ctx{"a", false, kNow};
  for (auto _ : state) benchmark::DoNotOptimize(ps->Evaluate(f, ctx));
}
BENCHMARK(BM_EvaluateBlocked);

// What the gateway does per request after parsing: enforce, extract, evaluate.
void BM_DecideStageChat(benchmark::State& state) {
  auto ps = MakePolicy();
  const boost::json::object original = boost::json::parse(R"({"model":"gpt-4o","messages":[
    {"role":"system","content":"You are a clinical documentation assistant."},
    {"role":"user","content":"Summarise the visit note in three bullet points."}],
    "store":true,"user":"clinician-17","temperature":0.2,
    "tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}]})").as_object();
  policy::EnforcementOptions opts;
  opts.pseudonym_key = "0123456789abcdef0123456789abcdef";
  policy::CallContext ctx{"a", false, kNow};
  for (auto _ : state) {
    state.PauseTiming();
    boost::json::object body = original;
    state.ResumeTiming();
    policy::EnforcementResult er = policy::Enforce(policy::Surface::kOpenAIChat, body, opts);
    policy::RequestFacts f;
    f.provider = "openai";
    f.surface = "openai.chat_completions";
    f.model = "gpt-4o";
    f.region = "us";
    policy::ExtractFacts(policy::Surface::kOpenAIChat, body, "", &f);
    f.end_user_pseudonymized = er.pseudonymized;
    policy::Decision d = ps->Evaluate(f, ctx);
    if (d.decision != policy::DecisionKind::kAllow) state.SkipWithError("not allowed");
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_DecideStageChat);

}  // namespace
