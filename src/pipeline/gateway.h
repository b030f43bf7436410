// The gateway's request pipeline for the OpenAI-compatible front door.
//
// Stages, in fixed order, each a small function over the per-request context:
//   classify (path, method) → authenticate (gateway key) → parse (content type, JSON, model)
//   → route (model → upstream) → decide (policy) → audit (durable decision record, else 503)
//   → forward (pooled upstream, vendor credential) → relay (JSON or
//   SSE, usage extracted, vendor errors replaced) → record (access log line, metrics).
// A stage that cannot do its job answers with an error in OpenAI's shape and stops the request.
//
// Thread-safety: Gateway is shared; the handler it makes for each worker runs on that worker's
// thread only and owns that worker's upstream pool.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "admin/metrics.h"
#include "audit/audit_log.h"
#include "config/config.h"
#include "http/server.h"
#include "phi/detector.h"
#include "pipeline/snapshot.h"

namespace baagate::pipeline {

class GatewayHandler;

// The server limits a configuration asks for.
http::ServerLimits ServerLimitsFromConfig(const config::LimitsConfig& l);

class Gateway {
 public:
  // `audit` (nullable: audit disabled) must outlive the gateway. With an audit log, every call
  // that reaches the policy decision gets a durable decision record before it is forwarded or
  // refused (a 503 audit_unavailable if that fails) and an outcome record at completion.
  Gateway(std::shared_ptr<const Snapshot> snapshot, admin::Metrics& metrics,
          audit::AuditLog* audit = nullptr);

  // For Server's HandlerFactory.
  std::unique_ptr<http::Handler> MakeHandler(http::Worker& worker);

  // Installs a new snapshot on every worker (asynchronously, on each worker's thread).
  // Requests already running keep the snapshot they started with.
  void Swap(std::shared_ptr<const Snapshot> snapshot);

  std::shared_ptr<const Snapshot> current() const;

  // The PHI detector for de-identified fallback routes. Without one, calls the policy sends to
  // a de-identified fallback are refused (DEID_UNAVAILABLE). May be called at any time (a
  // reload with new deployment lists): like Swap, calls already running keep the detector
  // they started with.
  void SetDeidentifier(std::shared_ptr<const phi::Detector> detector);

 private:
  admin::Metrics& metrics_;
  audit::AuditLog* const audit_;
  std::shared_ptr<const phi::Detector> detector_;
  RetryBudget budget_;  // failovers, across all workers
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_;                    // mu_
  std::vector<std::pair<http::Worker*, GatewayHandler*>> handlers_;  // mu_
};

}  // namespace baagate::pipeline
