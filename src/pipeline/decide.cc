#include "pipeline/decide.h"

#include <chrono>

#include "policy/enforce.h"

namespace baagate::pipeline {

namespace {

policy::RequestFacts RouteFacts(const DecideInput& in) {
  const UpstreamRuntime& up = *in.route->upstream;
  policy::RequestFacts facts;
  facts.provider = up.provider;
  facts.surface = policy::UpstreamSurface(up.provider, in.surface);
  facts.endpoint = std::string(policy::SurfaceEndpoint(in.surface));
  facts.model = std::string(in.upstream_model);
  facts.region = up.region;
  facts.private_connectivity = up.private_connectivity;
  // A preview API version is not generally available (C-GA).
  facts.preview = up.api_version.find("preview") != std::string::npos;
  return facts;
}

policy::CallContext Context(const DecideInput& in) {
  policy::CallContext call;
  call.app = std::string(in.app);
  call.route_allows_deidentified = in.route->deidentified_fallback;
  call.now = in.now;
  return call;
}

}  // namespace

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void DecideAndEnforce(const Snapshot& snap, const DecideInput& in, boost::json::object& body,
                      DecideOutput* out, bool want_before) {
  const policy::PolicySet& ps = snap.policy();
  if (want_before) {
    policy::RequestFacts before = RouteFacts(in);
    policy::ExtractFacts(in.surface, body, in.beta_headers, &before);
    out->before = ps.Evaluate(before, Context(in));
  }
  policy::EnforcementOptions opts;
  opts.pseudonym_key = snap.pseudonym_key();
  opts.allowed_regions = ps.tenant().allowed_regions;
  // Pin a region hint to the first plain geography the tenant allows ("us").
  for (const auto& r : opts.allowed_regions) {
    if (!r.empty() && r.back() != '*' && r.find('-') == std::string::npos) {
      opts.pin_region = r;
      break;
    }
  }
  policy::EnforcementResult enforced = policy::Enforce(in.surface, body, opts);
  out->facts = RouteFacts(in);
  policy::ExtractFacts(in.surface, body, in.beta_headers, &out->facts);
  out->facts.end_user_pseudonymized = enforced.pseudonymized;
  out->decision = ps.Evaluate(out->facts, Context(in));
  out->decision.enforcement_actions = std::move(enforced.actions);
}

}  // namespace baagate::pipeline
