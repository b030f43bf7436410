// The upstream client: pooled keep-alive connections to vendor endpoints, TLS with CA
// verification and SNI, connect / first-byte / idle timeouts enforced through the calling
// connection's Deadline.
//
// Retry rule: a request is sent at most once. The pool hands out only connections that look
// alive (no pending bytes, no FIN) so that a stale keep-alive connection is not where bytes go;
// once bytes were written, a failure becomes a 502/504 for the client, never a second send.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "http/asio.h"
#include "http/server.h"
#include "http/stream.h"

namespace baagate::http {

struct ParsedUrl {
  bool tls = false;
  std::string host;  // without brackets for IPv6 literals
  std::string port;
  std::string path;  // no trailing slash; may be empty
};

// Parses "http[s]://host[:port][/path]". No query, fragment or user info.
core::Result<ParsedUrl> ParseBaseUrl(std::string_view url);

// Immutable description of one upstream, built from configuration and shared by all workers.
struct UpstreamTarget {
  std::string name;
  ParsedUrl url;
  std::string host_header;  // "host" or "host:port" when the port is not the scheme's default
  Millis connect_timeout{5000};     // TCP connect plus TLS handshake
  Millis first_byte_timeout{120000};  // request written to response head received
  Millis idle_timeout{120000};      // between two reads of the response body
  Millis pool_idle_timeout{30000};  // how long an idle pooled connection may be reused
  std::size_t max_idle_connections = 64;
  std::shared_ptr<ssl::context> tls;  // set iff url.tls
  std::string pool_key;               // identity of the endpoint for pooling
};

class UpstreamConnection {
 public:
  UpstreamConnection(AnyStream stream, std::string pool_key)
      : stream_(std::move(stream)), pool_key_(std::move(pool_key)) {}

  AnyStream& stream() { return stream_; }
  beast::flat_buffer& buffer() { return buffer_; }
  const std::string& pool_key() const { return pool_key_; }
  bool reused() const { return reused_; }

 private:
  friend class UpstreamPool;
  AnyStream stream_;
  beast::flat_buffer buffer_;
  std::string pool_key_;
  Clock::time_point idle_since_{};
  bool reused_ = false;
};

// Why an upstream exchange failed, for metrics, logs and the client's status code.
enum class UpstreamFailure { kNone, kConnect, kConnectTimeout, kTls, kWrite, kFirstByteTimeout,
                             kIdleTimeout, kRead, kProtocol, kTooLarge };
std::string_view UpstreamFailureName(UpstreamFailure f);
// 504 for timeouts, 502 otherwise.
unsigned UpstreamFailureHttpStatus(UpstreamFailure f);

// One per worker: not thread-safe, used on the worker's thread only.
class UpstreamPool {
 public:
  explicit UpstreamPool(net::any_io_executor ex) : ex_(std::move(ex)) {}
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // A live pooled connection, or a new one connected within target.connect_timeout (armed on
  // `deadline`, disarmed on return). On failure `*failure` says why.
  net::awaitable<std::unique_ptr<UpstreamConnection>> Acquire(const UpstreamTarget& target,
                                                              Deadline& deadline,
                                                              UpstreamFailure* failure);
  // Returns a connection whose last response was read completely and allows keep-alive.
  void Release(const UpstreamTarget& target, std::unique_ptr<UpstreamConnection> conn);

  std::size_t idle_count() const;

 private:
  net::any_io_executor ex_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
};

// Reads body bytes into `out` (appending) until the message is complete, or up to `limit`
// bytes. Arms `idle` on `deadline` before each read. Returns kNone when the body is complete.
net::awaitable<UpstreamFailure> ReadBodySome(UpstreamConnection& conn,
                                            bhttp::response_parser<bhttp::buffer_body>& parser,
                                            Deadline& deadline, Millis idle, std::string& out,
                                            std::size_t max_read);

}  // namespace baagate::http
