#include "pipeline/failover.h"

#include <algorithm>
#include <string_view>

namespace baagate::pipeline {

namespace {

std::int64_t Ticks(FailoverClock::time_point t) { return t.time_since_epoch().count(); }

// Moves `target` forward to at least `value` (never backward).
void RaiseTo(std::atomic<std::int64_t>& target, std::int64_t value) {
  std::int64_t cur = target.load(std::memory_order_relaxed);
  while (cur < value && !target.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
}

constexpr std::int64_t kWindowSeconds = 10;

}  // namespace

bool RouteHealth::Admit(FailoverClock::time_point now, const config::FailoverConfig& cfg) {
  std::int64_t until = open_until_ns_.load(std::memory_order_relaxed);
  if (until == 0) return true;
  if (Ticks(now) < until) return false;
  // Half-open: whoever moves the deadline on is the one probe.
  return open_until_ns_.compare_exchange_strong(until, Ticks(now + cfg.breaker_cooldown),
                                                std::memory_order_relaxed);
}

void RouteHealth::OnSuccess() {
  consecutive_failures_.store(0, std::memory_order_relaxed);
  open_until_ns_.store(0, std::memory_order_relaxed);
}

void RouteHealth::OnFailure(FailoverClock::time_point now, std::chrono::milliseconds retry_after,
                            const config::FailoverConfig& cfg) {
  const int failures = consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (failures >= cfg.breaker_failures) {
    RaiseTo(open_until_ns_, Ticks(now + cfg.breaker_cooldown));
  }
  if (retry_after.count() > 0) RaiseTo(open_until_ns_, Ticks(now + retry_after));
}

FailoverClock::time_point RouteHealth::open_until() const {
  const std::int64_t until = open_until_ns_.load(std::memory_order_relaxed);
  return until == 0 ? FailoverClock::time_point{}
                    : FailoverClock::time_point(FailoverClock::duration(until));
}

bool RouteHealth::open(FailoverClock::time_point now) const {
  const std::int64_t until = open_until_ns_.load(std::memory_order_relaxed);
  return until != 0 && Ticks(now) < until;
}

void RetryBudget::Roll(FailoverClock::time_point now) {
  const std::int64_t w =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() /
      kWindowSeconds;
  std::int64_t cur = window_.load(std::memory_order_relaxed);
  if (cur != w && window_.compare_exchange_strong(cur, w, std::memory_order_relaxed)) {
    // A new window: a few increments racing with the reset may be lost, which only errs
    // towards fewer retries.
    requests_.store(0, std::memory_order_relaxed);
    retries_.store(0, std::memory_order_relaxed);
  }
}

void RetryBudget::OnRequest(FailoverClock::time_point now) {
  Roll(now);
  requests_.fetch_add(1, std::memory_order_relaxed);
}

bool RetryBudget::TryRetry(FailoverClock::time_point now, const config::FailoverConfig& cfg) {
  Roll(now);
  const std::uint64_t requests = requests_.load(std::memory_order_relaxed);
  const std::uint64_t allowed =
      std::max<std::uint64_t>(static_cast<std::uint64_t>(cfg.retry_budget_min),
                              requests * static_cast<std::uint64_t>(cfg.retry_budget_percent) / 100);
  // Take one only while below the allowance (never a decrement: a window reset racing with an
  // undo could wrap the counter and refuse every failover until the next window).
  std::uint32_t taken = retries_.load(std::memory_order_relaxed);
  do {
    if (taken >= allowed) return false;
  } while (!retries_.compare_exchange_weak(taken, taken + 1, std::memory_order_relaxed));
  return true;
}

std::chrono::milliseconds ParseRetryAfter(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty() || value.size() > 6) return std::chrono::milliseconds(0);
  std::int64_t s = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::chrono::milliseconds(0);
    s = s * 10 + (c - '0');
  }
  // One answer must not keep a route out of rotation for days: capped like breaker_cooldown_ms.
  return std::chrono::seconds(std::min<std::int64_t>(s, 3600));
}

}  // namespace baagate::pipeline
