// One place for the Asio/Beast includes and aliases used across http/, pipeline/ and the
// servers built on them. Awaits use `kTok` (as_tuple(use_awaitable)) so that I/O errors come
// back as values, never as exceptions.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace baagate::http {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

inline constexpr auto kTok = net::as_tuple(net::use_awaitable);

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

}  // namespace baagate::http
