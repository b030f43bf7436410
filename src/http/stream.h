// AnyStream: a TCP socket with or without TLS on top, behind one small interface, so sessions
// and upstream connections are not templates. Operations go through With(), which calls the
// given generic lambda with the concrete stream; both instantiations return the same awaitable
// type when the lambda uses kTok.
//
// Not thread-safe: used from one worker thread, like the socket it wraps.
#pragma once

#include <memory>
#include <tuple>
#include <utility>

#include "http/asio.h"

namespace baagate::http {

class AnyStream {
 public:
  explicit AnyStream(tcp::socket socket) : plain_(std::move(socket)) {}
  AnyStream(tcp::socket socket, ssl::context& ctx)
      : plain_(socket.get_executor()),
        tls_(std::make_unique<ssl::stream<tcp::socket>>(std::move(socket), ctx)) {}

  AnyStream(AnyStream&&) = default;
  AnyStream& operator=(AnyStream&&) = default;

  bool is_tls() const { return tls_ != nullptr; }
  ssl::stream<tcp::socket>* tls() { return tls_.get(); }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : plain_; }

  template <typename F>
  auto With(F&& f) {
    if (tls_) return f(*tls_);
    return f(plain_);
  }

  // Cancels pending operations; the stream stays usable.
  void Cancel() {
    error_code ignored;
    socket().cancel(ignored);
  }
  // Closes the socket at once (no TLS close_notify).
  void Close() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }
  // Closes with a TCP reset (SO_LINGER 0): for fault injection and abandoned streams.
  void Reset() {
    error_code ignored;
    socket().set_option(net::socket_base::linger(true, 0), ignored);
    socket().close(ignored);
  }

 private:
  tcp::socket plain_;  // unused (closed) when tls_ is set
  std::unique_ptr<ssl::stream<tcp::socket>> tls_;
};

// Runs `now(socket, ec)`, a synchronous Asio/Beast call on the plain socket (which the server
// and the upstream pool put in non-blocking mode), and returns its result unless it would
// block; then, and always for TLS, it awaits `later(stream)`, which must continue from the
// state `now` left (the same parser, serializer or buffer). On a proxy's fast path the data or
// the buffer space is usually there already, and this saves a trip through the scheduler (and
// an epoll_wait) per I/O step. Both callables are used before this returns.
template <typename Now, typename Later>
net::awaitable<std::tuple<error_code, std::size_t>> NowOrLater(AnyStream& stream, Now now,
                                                                 Later later) {
  if (!stream.is_tls()) {
    error_code ec;
    std::size_t n = now(stream.socket(), ec);
    if (ec != net::error::would_block) co_return std::tuple<error_code, std::size_t>{ec, n};
  }
  co_return co_await stream.With(later);
}

}  // namespace baagate::http
