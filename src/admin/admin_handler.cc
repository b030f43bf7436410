#include "admin/admin_handler.h"

namespace baagate::admin {

namespace {

using namespace baagate::http;

class AdminHandler final : public Handler {
 public:
  AdminHandler(Metrics& metrics, AdminState& state) : metrics_(metrics), state_(state) {}

  net::awaitable<void> Handle(Request& req, Connection& conn) override {
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    Response res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::cache_control, "no-store");
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      res.result(bhttp::status::method_not_allowed);
      res.set(bhttp::field::allow, "GET, HEAD");
      res.set(bhttp::field::content_type, "text/plain");
      res.body() = "method not allowed\n";
    } else if (path == "/healthz") {
      res.set(bhttp::field::content_type, "text/plain");
      res.body() = "ok\n";
    } else if (path == "/readyz") {
      bool ready = state_.ready.load() && !state_.draining.load();
      res.result(ready ? bhttp::status::ok : bhttp::status::service_unavailable);
      res.set(bhttp::field::content_type, "text/plain");
      res.body() = ready ? "ready\n" : (state_.draining.load() ? "draining\n" : "starting\n");
    } else if (path == "/metrics") {
      res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = metrics_.RenderPrometheus();
    } else {
      res.result(bhttp::status::not_found);
      res.set(bhttp::field::content_type, "text/plain");
      res.body() = "not found (try /healthz, /readyz, /metrics)\n";
    }
    co_await conn.Send(res);
  }

 private:
  Metrics& metrics_;
  AdminState& state_;
};

}  // namespace

std::unique_ptr<http::Handler> MakeAdminHandler(Metrics& metrics, AdminState& state) {
  return std::make_unique<AdminHandler>(metrics, state);
}

}  // namespace baagate::admin
