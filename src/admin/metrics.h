// Prometheus metrics for the gateway. Thread-safe.
//
// Labels carry only configuration-derived names (route patterns, upstream names) and numbers,
// never client-supplied strings: an unknown model name a client sends is counted under
// route="none", because a model name can itself carry PHI.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace baagate::admin {

class Metrics {
 public:
  static constexpr std::array<double, 14> kLatencyBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60};

  void RecordRequest(std::string_view route, std::string_view endpoint, unsigned status,
                     double seconds);
  void RecordUpstreamError(std::string_view upstream, std::string_view kind);
  void RecordTokens(std::string_view route, std::int64_t prompt, std::int64_t completion);
  void RecordDecision(std::string_view decision);
  // The effective configuration in force: its hash, the registry version, and whether it
  // differs from a pinned baseline. Set at start and on every reload.
  void SetConfigInfo(std::string_view config_hash, std::string_view registry_version, bool drift);

  // Counts requests being handled; use InFlightGuard.
  void AddInFlight(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }

  // The text exposition format, version 0.0.4.
  std::string RenderPrometheus() const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };

  // Transparent comparators: a hit looks up by string_view and allocates nothing; only a
  // label combination seen for the first time copies its strings.
  using Labels2 = std::tuple<std::string, std::string>;
  using Labels3 = std::tuple<std::string, std::string, unsigned>;

  mutable std::mutex mu_;
  std::map<Labels3, std::uint64_t, std::less<>> requests_;        // mu_
  std::map<Labels2, Histogram, std::less<>> latency_;             // mu_
  std::map<Labels2, std::uint64_t, std::less<>> upstream_errors_;  // mu_
  std::map<Labels2, std::uint64_t, std::less<>> tokens_;           // mu_
  std::map<std::string, std::uint64_t, std::less<>> decisions_;    // mu_
  std::string config_hash_;                                        // mu_
  std::string registry_version_;                                   // mu_
  bool drift_ = false;                                             // mu_
  std::atomic<std::int64_t> in_flight_{0};
};

class InFlightGuard {
 public:
  explicit InFlightGuard(Metrics& m) : m_(m) { m_.AddInFlight(1); }
  ~InFlightGuard() { m_.AddInFlight(-1); }
  InFlightGuard(const InFlightGuard&) = delete;
  InFlightGuard& operator=(const InFlightGuard&) = delete;

 private:
  Metrics& m_;
};

}  // namespace baagate::admin
