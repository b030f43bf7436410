// The decide-and-enforce stage, shared by the gateway and `baagate scope check` so that the
// offline answer is the answer the gateway would give: facts from the route and the body,
// enforcement on the body, extraction again, then the five questions.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <string_view>

#include "pipeline/snapshot.h"
#include "policy/facts.h"
#include "policy/policy.h"

namespace baagate::pipeline {

struct DecideInput {
  const RouteRuntime* route = nullptr;
  std::string_view app;              // the gateway key's app
  policy::Surface surface = policy::Surface::kOpenAIChat;
  std::string_view upstream_model;   // what the vendor will receive
  std::string_view beta_headers;     // anthropic-beta, if any
  std::int64_t now = 0;              // seconds since the epoch
};

struct DecideOutput {
  policy::Decision decision;       // after enforcement (what the gateway acts on)
  policy::Decision before;         // on the body as the client sent it (filled if asked)
  policy::RequestFacts facts;      // the facts the final decision was made on
};

// Rewrites `body` in place (enforcement). When `want_before` is set, also evaluates the body
// as received, for `scope check` to show what enforcement changed.
void DecideAndEnforce(const Snapshot& snap, const DecideInput& in, boost::json::object& body,
                      DecideOutput* out, bool want_before = false);

std::int64_t NowSeconds();

}  // namespace baagate::pipeline
