// libFuzzer target for feature extraction, enforcement and evaluation. For any JSON body and
// every request shape:
//   - extraction never crashes, and its lists are sorted and unique;
//   - a body the extractor cannot read, or with a field it does not know, is never allowed;
//   - after enforcement, an OpenAI body is never stored and carries no metadata;
//   - every reason code is made of identifier characters only: no request content can reach a
//     403 body, a log line or an audit record through a reason.
#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "config/config.h"
#include "config/registry.h"
#include "policy/enforce.h"
#include "policy/facts.h"
#include "policy/policy.h"

namespace {

const baagate::policy::PolicySet& Policy() {
  static std::shared_ptr<const baagate::policy::PolicySet> ps = [] {
    auto cfg = baagate::config::ParseConfig(R"(
tenant:
  id: t
  contracts:
    - { id: c1, vendor: openai, effective_date: "2025-01-01" }
    - { id: c2, vendor: anthropic, effective_date: "2026-03-01", eligibility: dynamic }
  attestations:
    - { vendor: openai, retention: zero_data_retention, source: verified, verified_at: "2026-11-22T00:00:00Z" }
    - { vendor: anthropic, retention: hipaa_enabled_org, source: verified, verified_at: "2026-11-22T00:00:00Z" }
apps:
  - { id: a, deidentified_fallback: true }
)", "fuzz.yaml");
    auto reg = baagate::config::ParseRegistry(baagate::config::EmbeddedRegistryYaml(), "r");
    if (!cfg.ok() || !reg.ok()) std::abort();
    auto built = baagate::policy::PolicySet::Build(*reg, *cfg);
    if (!built.ok()) std::abort();
    return *built;
  }();
  return *ps;
}

bool Sorted(const std::vector<std::string>& v) {
  return std::is_sorted(v.begin(), v.end()) && std::adjacent_find(v.begin(), v.end()) == v.end();
}

bool CodeChars(const std::string& s) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':' || c == '.' || c == '-' || c == '?' || c == '=' || c == '[' ||
              c == ']';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

int FuzzFeatureExtraction(const std::uint8_t* data, std::size_t size) {
  namespace json = boost::json;
  using namespace baagate::policy;
  if (size < 1) return 0;
  const Surface surface = static_cast<Surface>(data[0] % 5);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return 0;
  json::object body = v.as_object();
  const char* provider = surface == Surface::kAnthropicMessages || surface == Surface::kAnthropicCountTokens
                             ? "anthropic" : "openai";
  RequestFacts f;
  f.provider = provider;
  f.surface = UpstreamSurface(provider, surface);
  f.region = "us";
  ExtractFacts(surface, body, "beta-one, x y", &f);
  if (!Sorted(f.features) || !Sorted(f.modalities_in) || !Sorted(f.unknown_fields)) std::abort();
  const CallContext ctx{"a", true, 1795348800};
  Decision d = Policy().Evaluate(f, ctx);
  if ((!f.extraction_error.empty() || !f.unknown_fields.empty()) && d.decision != DecisionKind::kBlock) {
    std::abort();
  }
  for (const auto& r : d.reasons) {
    if (!CodeChars(r)) std::abort();
  }
  EnforcementOptions opts;
  opts.pseudonym_key = "k";
  opts.pin_region = "us";
  opts.allowed_regions = {"us"};
  Enforce(surface, body, opts);
  RequestFacts after;
  after.provider = provider;
  after.surface = f.surface;
  after.region = "us";
  ExtractFacts(surface, body, "", &after);
  if (surface == Surface::kOpenAIChat || surface == Surface::kOpenAIResponses) {
    if (after.store || after.metadata_attached) std::abort();
  }
  Decision d2 = Policy().Evaluate(after, ctx);
  for (const auto& r : d2.reasons) {
    if (!CodeChars(r)) std::abort();
  }
  return 0;
}

#ifndef BAAGATE_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return FuzzFeatureExtraction(data, size);
}
#endif
