#include "http/tls.h"

namespace baagate::http {

namespace {

constexpr auto kProtocolOptions = ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                  ssl::context::no_tlsv1_1;

}  // namespace

core::Result<std::shared_ptr<ssl::context>> MakeClientTlsContext(const std::string& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ec;
  ctx->set_options(kProtocolOptions, ec);
  if (!ec) ctx->set_verify_mode(ssl::verify_peer, ec);
  if (!ec) {
    if (ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
    } else {
      ctx->load_verify_file(ca_file, ec);
    }
  }
  if (ec) return core::InvalidArgumentError("cannot load CA certificates: " + ec.message());
  return ctx;
}

core::Result<std::shared_ptr<ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                                 const std::string& key_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  error_code ec;
  ctx->set_options(kProtocolOptions, ec);
  if (!ec) ctx->use_certificate_chain_file(cert_file, ec);
  if (!ec) ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) {
    return core::InvalidArgumentError("cannot load TLS certificate or key: " + ec.message());
  }
  return ctx;
}

}  // namespace baagate::http
