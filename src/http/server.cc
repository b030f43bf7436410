#include "http/server.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <sstream>
#include <vector>

#include "core/log.h"

namespace baagate::http {

namespace {

using core::LogLevel;
using core::LogLine;

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kLingerMaxBytes = 1 << 20;
constexpr Millis kLingerTime{1000};

using ReusePort = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

}  // namespace

// One client connection: reads requests, hands each to the worker's handler, writes responses.
class Session final : public Connection {
 public:
  Session(Worker& worker, AnyStream stream)
      : worker_(worker), limits_(worker.server().options().limits), stream_(std::move(stream)) {
    it_ = worker_.sessions_.insert(worker_.sessions_.end(), this);
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address();
  }
  ~Session() override {
    worker_.sessions_.erase(it_);
    worker_.server().connections_.fetch_sub(1);
  }

  net::awaitable<void> Run();

  // Connection:
  net::awaitable<error_code> Send(Response& res) override;
  net::awaitable<error_code> StartStream(bhttp::response<bhttp::empty_body>& head) override;
  net::awaitable<error_code> SendChunk(std::string_view data) override;
  net::awaitable<error_code> EndStream() override;
  void ArmDisconnectWatch(std::function<void()> on_disconnect) override {
    on_disconnect_ = std::move(on_disconnect);
  }
  void DisarmDisconnectWatch() override { on_disconnect_ = nullptr; }
  void Abort() override {
    aborted_ = true;
    stream_.Reset();
  }
  bool response_started() const override { return started_; }
  Deadline& deadline() override { return deadline_; }
  Worker& worker() override { return worker_; }
  bool tls() const override { return stream_.is_tls(); }
  net::ip::address remote_address() const override { return remote_; }

  bool idle() const { return idle_; }
  // For the sweep: the socket to poll, if a disconnect watch is armed.
  bool disconnect_watched() const { return static_cast<bool>(on_disconnect_); }
  int native_handle() { return stream_.socket().native_handle(); }
  void FireDisconnect() {
    if (auto f = std::move(on_disconnect_)) f();
    on_disconnect_ = nullptr;
  }
  Deadline& deadline_for_sweep() { return deadline_; }
  void CancelIo() { stream_.Cancel(); }

 private:
  // Reads the next request into `out`. Returns false when the connection should close (the
  // error response, if any, was already sent).
  net::awaitable<bool> ReadRequest(std::optional<Request>& out, bool first);
  net::awaitable<void> SendError(unsigned status, std::string_view code,
                                 std::string_view message);
  // Answers a failed header or body read: 408 (deadline), 431, 413, 400; nothing if the client
  // closed or the read was cancelled by drain.
  net::awaitable<void> AnswerReadError(error_code ec);
  // Half-closes, then reads and discards what the client still sends for a short while, so a
  // client that is still uploading receives our error instead of a reset.
  net::awaitable<void> LingeringClose();
  net::awaitable<error_code> WriteAll(net::const_buffer buf);
  void ArmIoDeadline(Millis after) {
    deadline_.Arm(after, [this] { stream_.Cancel(); });
  }

  Worker& worker_;
  const ServerLimits& limits_;
  AnyStream stream_;
  beast::flat_buffer buffer_;
  Deadline deadline_;
  std::function<void()> on_disconnect_;  // armed disconnect watch, if any
  std::list<Session*>::iterator it_;
  bool keep_alive_ = false;  // for the response being written
  bool started_ = false;     // a response or stream head was written for this request
  bool raw_stream_ = false;  // HTTP/1.0 stream: no chunk framing, close at the end
  bool aborted_ = false;
  net::ip::address remote_;  // the client, read once at accept
  bool idle_ = false;  // waiting for the next request; drain may close it
  unsigned version_ = 11;
  std::string path_;  // the current request's path once its header is read (error dialect)
};

net::awaitable<bool> Session::ReadRequest(std::optional<Request>& out, bool first) {
  if (buffer_.size() == 0) {
    if (worker_.draining()) co_return false;
    idle_ = true;
    ArmIoDeadline(first ? limits_.header_timeout : limits_.keepalive_timeout);
    auto [ec, n] = co_await stream_.With(
        [&](auto& s) { return s.async_read_some(buffer_.prepare(kReadChunk), kTok); });
    deadline_.Disarm();
    idle_ = false;
    if (ec) co_return false;  // closed, idle timeout or drain: nothing to answer
    buffer_.commit(n);
  }

  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  parser.body_limit(limits_.max_body_bytes);

  ArmIoDeadline(limits_.header_timeout);
  auto [ec, n] = co_await NowOrLater(
      stream_, [&](tcp::socket& s, error_code& e) { return bhttp::read_header(s, buffer_, parser, e); },
      [&](auto& s) { return bhttp::async_read_header(s, buffer_, parser, kTok); });
  deadline_.Disarm();
  {
    // Known even when the header was read but refused (a Content-Length over the body limit).
    std::string_view target = parser.get().target();
    path_ = std::string(target.substr(0, std::min<std::size_t>(target.find('?'), 128)));
  }
  if (ec) {
    co_await AnswerReadError(ec);
    co_return false;
  }

  if (!parser.is_done()) {
    auto expect = parser.get()[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue") && parser.get().version() >= 11) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      ArmIoDeadline(limits_.write_timeout);
      error_code wec = co_await WriteAll(net::buffer(kContinue));
      deadline_.Disarm();
      if (wec) co_return false;
    }
    ArmIoDeadline(limits_.body_timeout);
    auto [bec, bn] = co_await NowOrLater(
        stream_, [&](tcp::socket& s, error_code& e) { return bhttp::read(s, buffer_, parser, e); },
        [&](auto& s) { return bhttp::async_read(s, buffer_, parser, kTok); });
    deadline_.Disarm();
    if (bec) {
      co_await AnswerReadError(bec);
      co_return false;
    }
  }
  out.emplace(parser.release());
  co_return true;
}

net::awaitable<void> Session::AnswerReadError(error_code ec) {
  if (deadline_.fired()) {
    co_await SendError(408, "request_timeout", "The request was not received in time.");
  } else if (ec == bhttp::error::header_limit) {
    co_await SendError(431, "request_header_fields_too_large",
                       "The request headers are larger than this gateway accepts.");
  } else if (ec == bhttp::error::body_limit) {
    co_await SendError(413, "request_too_large",
                       "The request body is larger than this gateway accepts.");
  } else if (ec != bhttp::error::end_of_stream && ec != net::error::eof &&
             ec != net::error::operation_aborted && ec != net::error::connection_reset) {
    co_await SendError(400, "bad_request", "The HTTP request is malformed.");
  }
  // Otherwise the client went away: there is nobody to answer.
}

net::awaitable<error_code> Session::WriteAll(net::const_buffer buf) {
  auto [ec, n] = co_await NowOrLater(
      stream_,
      [&](tcp::socket& s, error_code& e) {
        std::size_t done = net::write(s, buf, e);
        buf += done;  // on would_block the async write continues with the rest
        return done;
      },
      [&](auto& s) { return net::async_write(s, buf, kTok); });
  co_return ec;
}

net::awaitable<void> Session::SendError(unsigned status, std::string_view code,
                                        std::string_view message) {
  Response res = worker_.server().MakeErrorResponse(status, code, message, path_);
  started_ = true;
  ArmIoDeadline(limits_.write_timeout);
  auto [ec, n] = co_await stream_.With([&](auto& s) { return bhttp::async_write(s, res, kTok); });
  deadline_.Disarm();
  if (!ec) co_await LingeringClose();
}

net::awaitable<void> Session::LingeringClose() {
  error_code ignored;
  if (stream_.is_tls()) {
    // A TLS peer expects close_notify; the discard read below would need the TLS layer.
    co_return;
  }
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  std::size_t discarded = 0;
  ArmIoDeadline(kLingerTime);
  char sink[4096];
  while (discarded < kLingerMaxBytes) {
    auto [ec, n] = co_await stream_.socket().async_read_some(net::buffer(sink), kTok);
    if (ec) break;
    discarded += n;
  }
  deadline_.Disarm();
}

net::awaitable<error_code> Session::Send(Response& res) {
  started_ = true;
  res.keep_alive(keep_alive_);
  res.prepare_payload();
  bhttp::response_serializer<bhttp::string_body> sr(res);
  ArmIoDeadline(limits_.write_timeout);
  auto [ec, n] = co_await NowOrLater(
      stream_, [&](tcp::socket& s, error_code& e) { return bhttp::write(s, sr, e); },
      [&](auto& s) { return bhttp::async_write(s, sr, kTok); });
  deadline_.Disarm();
  if (ec) keep_alive_ = false;
  co_return ec;
}

net::awaitable<error_code> Session::StartStream(bhttp::response<bhttp::empty_body>& head) {
  started_ = true;
  if (version_ < 11) {
    raw_stream_ = true;
    keep_alive_ = false;
    head.version(10);
    head.keep_alive(false);
  } else {
    head.chunked(true);
    head.keep_alive(keep_alive_);
  }
  bhttp::response_serializer<bhttp::empty_body> sr(head);
  ArmIoDeadline(limits_.write_timeout);
  auto [ec, n] = co_await NowOrLater(
      stream_, [&](tcp::socket& s, error_code& e) { return bhttp::write_header(s, sr, e); },
      [&](auto& s) { return bhttp::async_write_header(s, sr, kTok); });
  deadline_.Disarm();
  if (ec) keep_alive_ = false;
  co_return ec;
}

net::awaitable<error_code> Session::SendChunk(std::string_view data) {
  if (data.empty()) co_return error_code{};
  ArmIoDeadline(limits_.write_timeout);
  error_code ec;
  if (raw_stream_) {
    ec = co_await WriteAll(net::buffer(data));
  } else {
    // Chunk framing is written as its own small buffer so a partial write can resume plainly.
    char size_line[24];
    int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
    std::string frame;
    frame.reserve(static_cast<std::size_t>(len) + data.size() + 2);
    frame.append(size_line, static_cast<std::size_t>(len)).append(data).append("\r\n");
    ec = co_await WriteAll(net::buffer(frame));
  }
  deadline_.Disarm();
  if (ec) keep_alive_ = false;
  co_return ec;
}

net::awaitable<error_code> Session::EndStream() {
  if (raw_stream_) co_return error_code{};
  ArmIoDeadline(limits_.write_timeout);
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";
  error_code ec = co_await WriteAll(net::buffer(kLastChunk));
  deadline_.Disarm();
  if (ec) keep_alive_ = false;
  co_return ec;
}

net::awaitable<void> Session::Run() {
  if (stream_.is_tls()) {
    ArmIoDeadline(limits_.header_timeout);
    auto [ec] = co_await stream_.tls()->async_handshake(ssl::stream_base::server, kTok);
    deadline_.Disarm();
    if (ec) co_return;
  }
  bool first = true;
  for (;;) {
    std::optional<Request> req;
    if (!co_await ReadRequest(req, first)) break;
    first = false;
    version_ = req->version();
    keep_alive_ = req->keep_alive() && !worker_.draining();
    started_ = false;
    raw_stream_ = false;
    bool failed = false;
    try {
      co_await worker_.handler_->Handle(*req, *this);
    } catch (const std::exception&) {
      // The exception text may quote request content, so it is not logged.
      failed = true;
    }
    deadline_.Disarm();
    on_disconnect_ = nullptr;  // a handler that threw may have left it armed
    if (failed) {
      LogLine(LogLevel::kError, "handler_exception").Str("server", worker_.server().options().name).Emit();
      if (!started_ && !aborted_) {
        co_await SendError(500, "internal_error", "The gateway failed to handle the request.");
      }
      break;
    }
    if (!started_ && !aborted_) {
      co_await SendError(500, "internal_error", "The gateway produced no response.");
      break;
    }
    if (aborted_ || !keep_alive_ || worker_.draining()) break;
  }
  if (!aborted_) {
    if (stream_.is_tls()) {
      // Best effort close_notify, bounded by the write timeout.
      ArmIoDeadline(Millis(1000));
      (void)co_await stream_.tls()->async_shutdown(kTok);
      deadline_.Disarm();
    }
    stream_.Close();
  }
}

namespace {

net::awaitable<void> RunSession(Worker& worker, AnyStream stream) {
  Session session(worker, std::move(stream));
  co_await session.Run();
}

}  // namespace

Worker::Worker(Server& server, int index) : server_(server), index_(index) {}

core::Status Worker::Bind(const tcp::endpoint& endpoint) {
  error_code ec;
  acceptor_.emplace(io_);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_->set_option(ReusePort(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(4096, ec);
  if (ec) {
    return core::UnavailableError("cannot listen on " + endpoint.address().to_string() + ":" +
                                  std::to_string(endpoint.port()) + ": " + ec.message());
  }
  return core::Status::Ok();
}

net::awaitable<void> Worker::AcceptLoop() {
  const ServerOptions& opts = server_.options();
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(kTok);
    if (ec) {
      if (!acceptor_->is_open() || ec == net::error::operation_aborted) co_return;
      // Out of file descriptors or a transient error: back off briefly instead of spinning.
      net::steady_timer backoff(io_, Millis(10));
      co_await backoff.async_wait(kTok);
      continue;
    }
    if (server_.connections_.fetch_add(1) >= opts.limits.max_connections) {
      server_.connections_.fetch_sub(1);
      if (!opts.tls) {
        // Best effort, without blocking the accept loop: one non-blocking write.
        Response res = server_.MakeErrorResponse(503, "too_many_connections",
                                                 "The gateway has reached its connection limit.");
        std::ostringstream raw;
        raw << res;
        error_code ignored;
        socket.non_blocking(true, ignored);
        socket.write_some(net::buffer(raw.str()), ignored);
      }
      error_code ignored;
      socket.close(ignored);
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    // Synchronous calls on a plain socket must not block the worker (see NowOrLater).
    if (!opts.tls) socket.non_blocking(true, ignored);
    AnyStream stream = opts.tls ? AnyStream(std::move(socket), *opts.tls)
                                : AnyStream(std::move(socket));
    net::co_spawn(io_, RunSession(*this, std::move(stream)), net::detached);
  }
}

net::awaitable<void> Worker::SweepLoop() {
  net::steady_timer timer(io_);
  const Millis period = server_.options().limits.timer_resolution;
  for (;;) {
    timer.expires_after(period);
    auto [ec] = co_await timer.async_wait(kTok);
    if (ec) co_return;
    auto now = Clock::now();
    for (Session* s : sessions_) s->deadline_for_sweep().CheckForSweep(now);
    CheckDisconnects();
  }
}

void Worker::CheckDisconnects() {
  std::vector<pollfd> fds;
  std::vector<Session*> watched;
  for (Session* s : sessions_) {
    if (!s->disconnect_watched()) continue;
    fds.push_back(pollfd{s->native_handle(), POLLRDHUP, 0});
    watched.push_back(s);
  }
  if (fds.empty() || ::poll(fds.data(), fds.size(), 0) <= 0) return;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) watched[i]->FireDisconnect();
  }
}

void Worker::BeginDrain() {
  draining_ = true;
  if (acceptor_) {
    error_code ignored;
    acceptor_->close(ignored);
  }
  for (Session* s : sessions_) {
    if (s->idle()) s->CancelIo();
  }
}

Server::Server(ServerOptions options, HandlerFactory factory)
    : options_(std::move(options)), factory_(std::move(factory)) {}

Server::~Server() { Stop(); }

Response Server::MakeErrorResponse(unsigned status, std::string_view code,
                                   std::string_view message, std::string_view path) const {
  Response res{static_cast<bhttp::status>(status), 11};
  if (options_.json_error_body) {
    res.set(bhttp::field::content_type, "application/json");
    res.body() = options_.json_error_body(status, code, message, path);
  } else {
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res.body() = std::string(code) + ": " + std::string(message) + "\n";
  }
  res.set(bhttp::field::connection, "close");
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

core::Status Server::Start() {
  int n = options_.workers > 0 ? options_.workers : 1;
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>(*this, i);
    core::Status st = w->Bind(i == 0 ? options_.endpoint : bound_);
    if (!st.ok()) return st;
    if (i == 0) bound_ = w->acceptor_->local_endpoint();
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) {
    w->handler_ = factory_(*w);
    net::co_spawn(w->io_, w->AcceptLoop(), net::detached);
    net::co_spawn(w->io_, w->SweepLoop(), net::detached);
  }
  for (auto& w : workers_) {
    Worker* wp = w.get();
    wp->thread_ = std::thread([wp] { wp->io_.run(); });
  }
  return core::Status::Ok();
}

void Server::ForEachWorker(const std::function<void(Worker&)>& fn) {
  for (auto& w : workers_) {
    Worker* wp = w.get();
    net::post(wp->io_, [wp, fn] { fn(*wp); });
  }
}

void Server::Drain() {
  if (stopped_.load()) return;
  ForEachWorker([](Worker& w) { w.BeginDrain(); });
  auto until = Clock::now() + options_.limits.drain_timeout;
  while (connections_.load() > 0 && Clock::now() < until) {
    std::this_thread::sleep_for(Millis(10));
    // Connections that became idle after the first pass are closed too.
    ForEachWorker([](Worker& w) { w.BeginDrain(); });
  }
  Stop();
}

void Server::Stop() {
  if (stopped_.exchange(true)) return;
  for (auto& w : workers_) w->io_.stop();
  for (auto& w : workers_) {
    if (w->thread_.joinable()) w->thread_.join();
  }
}

}  // namespace baagate::http
