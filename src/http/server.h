// The HTTP/1.1 server under the gateway, its admin listener and the fake vendor.
//
// One io_context per worker thread, each with its own SO_REUSEPORT acceptor, so connections
// never move between threads and per-worker state (upstream pools, handlers) needs no locks.
// Each connection is one coroutine: keep-alive, header and body limits (431/413), read timeouts
// against slow clients (408), a process-wide connection limit (503), and graceful drain.
//
// Timeouts are enforced by a per-worker sweep (every `timer_resolution`) over the deadlines of
// live connections rather than a timer per operation: arming a deadline is a store, not a
// syscall. Expiry runs the deadline's action (cancel the client read, close an upstream socket).
// The same sweep notices clients that hang up while their request is being served.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "http/asio.h"
#include "http/stream.h"

namespace baagate::http {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// A deadline owned by one connection and checked by its worker's sweep. Not thread-safe: used on
// the worker's thread only. At most one action is armed at a time.
class Deadline {
 public:
  // Runs `on_expire` once if Disarm() is not called within `after`.
  void Arm(Clock::duration after, std::function<void()> on_expire) {
    at_ = Clock::now() + after;
    on_expire_ = std::move(on_expire);
    fired_ = false;
  }
  void Disarm() {
    at_ = Clock::time_point::max();
    on_expire_ = nullptr;
  }
  // True if the last armed deadline expired (cleared by the next Arm).
  bool fired() const { return fired_; }

  // Called by the sweep.
  void CheckForSweep(Clock::time_point now) {
    if (now < at_) return;
    at_ = Clock::time_point::max();
    fired_ = true;
    if (auto f = std::move(on_expire_)) f();
  }

 private:
  Clock::time_point at_ = Clock::time_point::max();
  std::function<void()> on_expire_;
  bool fired_ = false;
};

struct ServerLimits {
  std::size_t max_body_bytes = 8u << 20;
  std::size_t max_header_bytes = 16u << 10;
  std::size_t max_connections = 10000;
  Millis header_timeout{10000};      // first byte to end of headers
  Millis body_timeout{30000};        // end of headers to end of body
  Millis keepalive_timeout{60000};   // idle between requests on one connection
  Millis write_timeout{60000};       // one write to a client that does not read
  Millis drain_timeout{30000};       // SIGTERM: how long in-flight requests may finish
  Millis timer_resolution{50};       // sweep period of the deadlines above
};

// Builds the JSON body of an error the server itself answers (400, 408, 413, 431, 500, 503)
// before any handler ran, in the client's error dialect (the vendor dialect's error encoder).
// `path` is the request's path when its header was read (empty otherwise), so an API served
// under a path prefix can answer in its own shape.
using JsonErrorBodyFn = std::string (*)(unsigned status, std::string_view code,
                                        std::string_view message, std::string_view path);

struct ServerOptions {
  std::string name = "http";  // for logs only
  tcp::endpoint endpoint;     // port 0 picks a free port
  int workers = 1;
  ServerLimits limits;
  std::shared_ptr<ssl::context> tls;  // null: plain HTTP
  JsonErrorBodyFn json_error_body = nullptr;  // null: "<code>: <message>" as text/plain
};

class Worker;

// The client side of one request, handed to the Handler. Lives on the connection's coroutine.
// A handler either calls Send() once, or StartStream(), any number of SendChunk(), EndStream().
class Connection {
 public:
  virtual ~Connection() = default;

  virtual net::awaitable<error_code> Send(Response& res) = 0;
  // Writes the head of a chunked response; `head` carries status and headers.
  virtual net::awaitable<error_code> StartStream(bhttp::response<bhttp::empty_body>& head) = 0;
  virtual net::awaitable<error_code> SendChunk(std::string_view data) = 0;
  virtual net::awaitable<error_code> EndStream() = 0;
  // While armed, `on_disconnect` runs once (on the worker's thread) if the client shuts down its
  // side of the connection: the worker's sweep polls all armed connections with one poll(2)
  // for POLLRDHUP each timer_resolution, so an armed request costs no syscall of its own.
  // Pipelined bytes do not count as a disconnect. Disarm before the objects it touches go away.
  virtual void ArmDisconnectWatch(std::function<void()> on_disconnect) = 0;
  virtual void DisarmDisconnectWatch() = 0;
  // Resets the TCP connection at once (for fault injection); the session ends after the handler.
  virtual void Abort() = 0;
  // True once a response (or a stream head) was written.
  virtual bool response_started() const = 0;
  // The connection's deadline, for a handler's own phases (upstream timeouts). The server arms
  // it for reads and writes; a handler arms it for what it awaits and disarms it after.
  virtual Deadline& deadline() = 0;
  virtual Worker& worker() = 0;
  virtual bool tls() const = 0;
  // The client's IP address (unspecified if the socket has none), for the audit log's client_net.
  virtual net::ip::address remote_address() const = 0;
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Runs on the worker's thread. Exceptions are caught by the session: 500 if nothing was sent.
  virtual net::awaitable<void> Handle(Request& req, Connection& conn) = 0;
};

// Makes one handler per worker, on the worker's thread before it accepts.
using HandlerFactory = std::function<std::unique_ptr<Handler>(Worker&)>;

class Server;

// One thread, one io_context, one acceptor. Exposed to handlers for their executor and index.
class Worker {
 public:
  Worker(Server& server, int index);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  net::io_context& io() { return io_; }
  net::any_io_executor executor() { return io_.get_executor(); }
  int index() const { return index_; }
  Server& server() { return server_; }
  bool draining() const { return draining_; }

 private:
  friend class Server;
  friend class Session;

  core::Status Bind(const tcp::endpoint& endpoint);
  net::awaitable<void> AcceptLoop();
  net::awaitable<void> SweepLoop();
  // Polls the sockets of sessions with an armed disconnect watch; fires those whose peer left.
  void CheckDisconnects();
  void BeginDrain();

  // Declaration order matters for destruction: sessions still suspended when the io_context is
  // destroyed unregister from sessions_, so it outlives io_; the handler's sockets close before
  // io_ goes away, so it is declared after io_.
  Server& server_;
  int index_;
  std::list<class Session*> sessions_;  // live sessions, for the sweep and drain; worker thread
  bool draining_ = false;               // worker thread only
  net::io_context io_{1};
  std::optional<tcp::acceptor> acceptor_;
  std::unique_ptr<Handler> handler_;
  std::thread thread_;
};

class Server {
 public:
  Server(ServerOptions options, HandlerFactory factory);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every worker's acceptor (the first picks the port when it is 0) and starts threads.
  core::Status Start();
  // The bound endpoint (valid after Start).
  tcp::endpoint local_endpoint() const { return bound_; }

  // Stops accepting, closes idle keep-alive connections, lets in-flight requests finish for up
  // to drain_timeout, then stops the workers. Blocks. Safe to call from any thread, once.
  void Drain();
  // Stops at once. Blocks until the worker threads have exited.
  void Stop();

  // Runs `fn` on each worker's thread (asynchronously).
  void ForEachWorker(const std::function<void(Worker&)>& fn);

  std::size_t active_connections() const { return connections_.load(); }
  // An error response the server answers itself, with Connection: close.
  Response MakeErrorResponse(unsigned status, std::string_view code, std::string_view message,
                             std::string_view path = {}) const;
  const ServerOptions& options() const { return options_; }

 private:
  friend class Worker;
  friend class Session;

  ServerOptions options_;
  HandlerFactory factory_;
  tcp::endpoint bound_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<bool> stopped_{false};
  std::vector<std::unique_ptr<Worker>> workers_;  // last: workers use the members above
};

}  // namespace baagate::http
