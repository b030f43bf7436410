#include "admin/metrics.h"

#include <cstdio>

namespace baagate::admin {

namespace {

// Label values come from configuration; escape anyway so the exposition stays well-formed.
std::string Escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// The value for `a`,`b` (and `c`), inserted on first use.
template <typename Map>
typename Map::mapped_type& Slot(Map& map, std::string_view a, std::string_view b) {
  auto it = map.find(std::tuple<std::string_view, std::string_view>(a, b));
  if (it == map.end()) it = map.try_emplace({std::string(a), std::string(b)}).first;
  return it->second;
}

template <typename Map>
typename Map::mapped_type& Slot(Map& map, std::string_view a, std::string_view b, unsigned c) {
  auto it = map.find(std::tuple<std::string_view, std::string_view, unsigned>(a, b, c));
  if (it == map.end()) it = map.try_emplace({std::string(a), std::string(b), c}).first;
  return it->second;
}

}  // namespace

void Metrics::RecordRequest(std::string_view route, std::string_view endpoint, unsigned status,
                            double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++Slot(requests_, route, endpoint, status);
  Histogram& h = Slot(latency_, route, endpoint);
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::RecordUpstreamError(std::string_view upstream, std::string_view kind) {
  std::lock_guard<std::mutex> lock(mu_);
  ++Slot(upstream_errors_, upstream, kind);
}

void Metrics::RecordTokens(std::string_view route, std::int64_t prompt, std::int64_t completion) {
  std::lock_guard<std::mutex> lock(mu_);
  if (prompt > 0) Slot(tokens_, route, "prompt") += static_cast<std::uint64_t>(prompt);
  if (completion > 0) Slot(tokens_, route, "completion") += static_cast<std::uint64_t>(completion);
}

void Metrics::RecordDecision(std::string_view decision) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = decisions_.find(decision);
  if (it == decisions_.end()) it = decisions_.emplace(std::string(decision), 0).first;
  ++it->second;
}

void Metrics::SetConfigInfo(std::string_view config_hash, std::string_view registry_version,
                            bool drift) {
  std::lock_guard<std::mutex> lock(mu_);
  config_hash_ = config_hash;
  registry_version_ = registry_version;
  drift_ = drift;
}

std::string Metrics::RenderPrometheus() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP baagate_requests_total Requests answered, by route, endpoint and HTTP status.\n";
  out += "# TYPE baagate_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, endpoint, status] = key;
    out += "baagate_requests_total{route=\"" + Escape(route) + "\",endpoint=\"" +
           Escape(endpoint) + "\",status=\"" + std::to_string(status) + "\"} " +
           std::to_string(n) + "\n";
  }
  out += "# HELP baagate_request_duration_seconds Time from request read to response end.\n";
  out += "# TYPE baagate_request_duration_seconds histogram\n";
  for (const auto& [key, h] : latency_) {
    const auto& [route, endpoint] = key;
    std::string labels = "route=\"" + Escape(route) + "\",endpoint=\"" + Escape(endpoint) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out += "baagate_request_duration_seconds_bucket{" + labels + ",le=\"" +
             Num(kLatencyBuckets[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += "baagate_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "baagate_request_duration_seconds_sum{" + labels + "} " + Num(h.sum) + "\n";
    out += "baagate_request_duration_seconds_count{" + labels + "} " + std::to_string(h.count) + "\n";
  }
  out += "# HELP baagate_in_flight_requests Requests being handled now.\n";
  out += "# TYPE baagate_in_flight_requests gauge\n";
  out += "baagate_in_flight_requests " + std::to_string(in_flight_.load()) + "\n";
  out += "# HELP baagate_upstream_errors_total Failed upstream exchanges, by upstream and kind.\n";
  out += "# TYPE baagate_upstream_errors_total counter\n";
  for (const auto& [key, n] : upstream_errors_) {
    const auto& [upstream, kind] = key;
    out += "baagate_upstream_errors_total{upstream=\"" + Escape(upstream) + "\",kind=\"" +
           Escape(kind) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP baagate_tokens_total Tokens reported by upstreams, by route and kind.\n";
  out += "# TYPE baagate_tokens_total counter\n";
  for (const auto& [key, n] : tokens_) {
    const auto& [route, kind] = key;
    out += "baagate_tokens_total{route=\"" + Escape(route) + "\",kind=\"" + Escape(kind) +
           "\"} " + std::to_string(n) + "\n";
  }
  // One per route attempt, like the audit log's decision records: a call that fails over to a
  // second route counts two decisions.
  out += "# HELP baagate_policy_decisions_total Policy decisions (one per route attempt, as in the "
         "audit log), by outcome.\n";
  out += "# TYPE baagate_policy_decisions_total counter\n";
  for (const auto& [decision, n] : decisions_) {
    out += "baagate_policy_decisions_total{decision=\"" + Escape(decision) + "\"} " +
           std::to_string(n) + "\n";
  }
  if (!config_hash_.empty()) {
    out += "# HELP baagate_config_info The effective configuration in force (hash and registry version).\n";
    out += "# TYPE baagate_config_info gauge\n";
    out += "baagate_config_info{config_hash=\"" + Escape(config_hash_) + "\",registry_version=\"" +
           Escape(registry_version_) + "\"} 1\n";
    out += "# HELP baagate_config_drift 1 when the configuration differs from the pinned baseline.\n";
    out += "# TYPE baagate_config_drift gauge\n";
    out += std::string("baagate_config_drift ") + (drift_ ? "1" : "0") + "\n";
  }
  return out;
}

}  // namespace baagate::admin
