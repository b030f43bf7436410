#include "http/upstream.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>

namespace baagate::http {

core::Result<ParsedUrl> ParseBaseUrl(std::string_view url) {
  ParsedUrl out;
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    out.tls = true;
    rest = url.substr(8);
  } else {
    return core::InvalidArgumentError("base_url must start with http:// or https://");
  }
  if (rest.find_first_of("?#@ ") != std::string_view::npos) {
    return core::InvalidArgumentError("base_url must not have a query, fragment, user or space");
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.path = std::string(path);
  if (authority.empty()) return core::InvalidArgumentError("base_url has no host");
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return core::InvalidArgumentError("bad IPv6 host");
    out.host = std::string(authority.substr(1, close - 1));
    authority = authority.substr(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return core::InvalidArgumentError("bad base_url authority");
      out.port = std::string(authority.substr(1));
    }
  } else {
    auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  }
  if (out.host.empty()) return core::InvalidArgumentError("base_url has no host");
  if (out.port.empty()) out.port = out.tls ? "443" : "80";
  for (char c : out.port) {
    if (c < '0' || c > '9') return core::InvalidArgumentError("base_url port is not a number");
  }
  if (out.port.size() > 5 || std::stoul(out.port) == 0 || std::stoul(out.port) > 65535) {
    return core::InvalidArgumentError("base_url port is out of range");
  }
  return out;
}

std::string_view UpstreamFailureName(UpstreamFailure f) {
  switch (f) {
    case UpstreamFailure::kNone: return "none";
    case UpstreamFailure::kConnect: return "connect";
    case UpstreamFailure::kConnectTimeout: return "connect_timeout";
    case UpstreamFailure::kTls: return "tls";
    case UpstreamFailure::kWrite: return "write";
    case UpstreamFailure::kFirstByteTimeout: return "first_byte_timeout";
    case UpstreamFailure::kIdleTimeout: return "idle_timeout";
    case UpstreamFailure::kRead: return "read";
    case UpstreamFailure::kProtocol: return "protocol";
    case UpstreamFailure::kTooLarge: return "too_large";
  }
  return "unknown";
}

unsigned UpstreamFailureHttpStatus(UpstreamFailure f) {
  switch (f) {
    case UpstreamFailure::kConnectTimeout:
    case UpstreamFailure::kFirstByteTimeout:
    case UpstreamFailure::kIdleTimeout:
      return 504;
    default:
      return 502;
  }
}

namespace {

// An idle keep-alive connection is usable only if the server has sent nothing on it: no FIN,
// no reset, no stray bytes (a TLS close_notify counts as stray).
bool LooksAlive(UpstreamConnection& conn) {
  auto& sock = conn.stream().socket();
  if (!sock.is_open()) return false;
  char probe;
  ssize_t r = ::recv(sock.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool IsIpLiteral(const std::string& host) {
  error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

net::awaitable<std::unique_ptr<UpstreamConnection>> UpstreamPool::Acquire(
    const UpstreamTarget& target, Deadline& deadline, UpstreamFailure* failure) {
  *failure = UpstreamFailure::kNone;
  auto it = idle_.find(target.pool_key);
  if (it != idle_.end()) {
    auto& list = it->second;
    auto now = Clock::now();
    while (!list.empty()) {
      std::unique_ptr<UpstreamConnection> c = std::move(list.back());
      list.pop_back();
      if (now - c->idle_since_ < target.pool_idle_timeout && LooksAlive(*c)) {
        c->reused_ = true;
        co_return c;
      }
      c->stream().Close();
    }
  }

  tcp::resolver resolver(ex_);
  tcp::socket socket(ex_);
  deadline.Arm(target.connect_timeout, [&resolver, &socket] {
    resolver.cancel();
    error_code ignored;
    socket.close(ignored);
  });
  auto [rec, endpoints] = co_await resolver.async_resolve(target.url.host, target.url.port, kTok);
  if (rec) {
    *failure = deadline.fired() ? UpstreamFailure::kConnectTimeout : UpstreamFailure::kConnect;
    deadline.Disarm();
    co_return nullptr;
  }
  auto [cec, ep] = co_await net::async_connect(socket, endpoints, kTok);
  if (cec) {
    *failure = deadline.fired() ? UpstreamFailure::kConnectTimeout : UpstreamFailure::kConnect;
    deadline.Disarm();
    co_return nullptr;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);

  if (!target.url.tls) {
    socket.non_blocking(true, ignored);  // for NowOrLater's synchronous attempts
    deadline.Disarm();
    co_return std::make_unique<UpstreamConnection>(AnyStream(std::move(socket)), target.pool_key);
  }

  auto conn = std::make_unique<UpstreamConnection>(AnyStream(std::move(socket), *target.tls),
                                                   target.pool_key);
  auto* tls = conn->stream().tls();
  if (!IsIpLiteral(target.url.host) &&
      !SSL_set_tlsext_host_name(tls->native_handle(), target.url.host.c_str())) {
    deadline.Disarm();
    *failure = UpstreamFailure::kTls;
    co_return nullptr;
  }
  tls->set_verify_callback(ssl::host_name_verification(target.url.host));
  deadline.Arm(target.connect_timeout, [c = conn.get()] { c->stream().Close(); });
  auto [hec] = co_await tls->async_handshake(ssl::stream_base::client, kTok);
  bool fired = deadline.fired();
  deadline.Disarm();
  if (hec) {
    *failure = fired ? UpstreamFailure::kConnectTimeout : UpstreamFailure::kTls;
    co_return nullptr;
  }
  co_return conn;
}

void UpstreamPool::Release(const UpstreamTarget& target, std::unique_ptr<UpstreamConnection> conn) {
  if (!conn || conn->pool_key() != target.pool_key) return;
  auto& list = idle_[target.pool_key];
  if (list.size() >= target.max_idle_connections) {
    conn->stream().Close();
    return;
  }
  conn->idle_since_ = Clock::now();
  list.push_back(std::move(conn));
}

std::size_t UpstreamPool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

net::awaitable<UpstreamFailure> ReadBodySome(UpstreamConnection& conn,
                                            bhttp::response_parser<bhttp::buffer_body>& parser,
                                            Deadline& deadline, Millis idle, std::string& out,
                                            std::size_t max_read) {
  char buf[16384];
  std::size_t got = 0;
  while (!parser.is_done() && got < max_read) {
    std::size_t want = std::min(sizeof buf, max_read - got);
    parser.get().body().data = buf;
    parser.get().body().size = want;
    deadline.Arm(idle, [&conn] { conn.stream().Close(); });
    auto [ec, n] = co_await NowOrLater(
        conn.stream(),
        [&](tcp::socket& s, error_code& e) { return bhttp::read_some(s, conn.buffer(), parser, e); },
        [&](auto& s) { return bhttp::async_read_some(s, conn.buffer(), parser, kTok); });
    bool fired = deadline.fired();
    deadline.Disarm();
    std::size_t used = want - parser.get().body().size;
    out.append(buf, used);
    got += used;
    if (ec == bhttp::error::need_buffer) continue;
    if (ec) {
      if (fired) co_return UpstreamFailure::kIdleTimeout;
      if (ec == bhttp::error::partial_message || ec == net::error::eof ||
          ec == net::error::connection_reset || ec == net::error::operation_aborted ||
          ec == net::error::bad_descriptor) {
        co_return UpstreamFailure::kRead;
      }
      co_return UpstreamFailure::kProtocol;
    }
    if (used > 0) break;  // hand what arrived to the caller promptly (streaming)
  }
  co_return UpstreamFailure::kNone;
}

}  // namespace baagate::http
