// TLS contexts for both directions, with one policy: TLS 1.2 or newer, no SSLv2/3, TLS 1.0/1.1.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "http/asio.h"

namespace baagate::http {

// A client context that verifies peers against the system store, or only `ca_file` if set.
// Host name checking and SNI are per connection (UpstreamPool does both).
core::Result<std::shared_ptr<ssl::context>> MakeClientTlsContext(const std::string& ca_file);

// A server context with the certificate chain and private key from PEM files.
core::Result<std::shared_ptr<ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                                 const std::string& key_file);

}  // namespace baagate::http
