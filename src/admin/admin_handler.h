// The admin listener's handler: /healthz, /readyz, /metrics. Served on its own port, never on
// the client port.
#pragma once

#include <atomic>
#include <memory>

#include "admin/metrics.h"
#include "http/server.h"

namespace baagate::admin {

// Shared process state the admin endpoints report on. Thread-safe.
struct AdminState {
  std::atomic<bool> ready{false};     // configuration loaded and listeners bound
  std::atomic<bool> draining{false};  // SIGTERM received
};

std::unique_ptr<http::Handler> MakeAdminHandler(Metrics& metrics, AdminState& state);

}  // namespace baagate::admin
