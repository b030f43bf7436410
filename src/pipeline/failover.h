// Failover state shared by all workers: a circuit breaker per route and one retry budget per
// gateway (ARCHITECTURE: routing). Routes that share a model pattern form an ordered list; a
// call goes to the first route the policy allows and whose circuit admits it, and moves on to
// the next one on a connect error, 429 or 5xx received before any byte reached the client.
//
// Thread-safety: both classes are lock-free (atomics) and shared across worker threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "config/config.h"

namespace baagate::pipeline {

using FailoverClock = std::chrono::steady_clock;

// Closed → (breaker_failures consecutive failures, or a vendor Retry-After) → open until a
// deadline → half-open: the first caller after the deadline is admitted as the probe and the
// circuit stays open for everyone else for another cooldown; the probe's success closes it,
// its failure keeps it open. A probe that never reports (client gone) just lets the next
// cooldown admit another.
class RouteHealth {
 public:
  // True when a call may be sent now. In the half-open state only the first caller is admitted.
  bool Admit(FailoverClock::time_point now, const config::FailoverConfig& cfg);
  // A call the route answered (any status that is not a failure below).
  void OnSuccess();
  // A connect failure, timeout, 429 or 5xx. `retry_after` (zero: none) keeps the route out of
  // rotation at least that long, as the vendor asked.
  void OnFailure(FailoverClock::time_point now, std::chrono::milliseconds retry_after,
                 const config::FailoverConfig& cfg);
  // When an open circuit admits its next probe; time_point{} when closed.
  FailoverClock::time_point open_until() const;
  bool open(FailoverClock::time_point now) const;

 private:
  std::atomic<int> consecutive_failures_{0};
  std::atomic<std::int64_t> open_until_ns_{0};  // steady-clock ticks; 0: closed
};

// Failovers per 10-second window are limited to retry_budget_percent of the window's requests,
// or retry_budget_min, whichever is larger, so a vendor outage cannot multiply the load on
// the next vendor.
class RetryBudget {
 public:
  void OnRequest(FailoverClock::time_point now);
  // Takes one retry from the budget if there is one left.
  bool TryRetry(FailoverClock::time_point now, const config::FailoverConfig& cfg);

 private:
  void Roll(FailoverClock::time_point now);
  std::atomic<std::int64_t> window_{-1};
  std::atomic<std::uint32_t> requests_{0};
  std::atomic<std::uint32_t> retries_{0};
};

// Seconds in a Retry-After header (delta-seconds form only, at most an hour); zero when absent
// or unreadable.
std::chrono::milliseconds ParseRetryAfter(std::string_view value);

}  // namespace baagate::pipeline
