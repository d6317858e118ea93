// SPDX-License-Identifier: Apache-2.0
// Synchronous HTTP over Beast's async operations: each step runs the client's private
// io_context until it finishes, so the stream's timer can bound it (blocking socket calls
// in Asio would wait forever).
#include "userspace/api_client/http_connection.h"

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <charconv>
#include <optional>

namespace weft::api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Protocol = net::generic::stream_protocol;
using ErrorCode = beast::error_code;

// Large enough for a full listing of a big registry; a bound so a confused peer cannot
// exhaust the caller's memory.
constexpr uint64_t kReplyBodyLimit = 512ull * 1024 * 1024;

Result<Protocol::endpoint> peerEndpoint(const ClientOptions& options) {
  if (options.tcp.empty()) {
    return Protocol::endpoint(net::local::stream_protocol::endpoint(options.socket_path));
  }
  std::string_view text = options.tcp;
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return makeError("api address \"" + options.tcp + "\" is not host:port", EINVAL);
  }
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  std::string_view port_text = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  ErrorCode addr_ec;
  auto addr = net::ip::make_address(host, addr_ec);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535 || addr_ec) {
    return makeError("api address \"" + options.tcp + "\" is not an IP address and port", EINVAL);
  }
  return Protocol::endpoint(net::ip::tcp::endpoint(addr, static_cast<uint16_t>(port)));
}

bool isStaleConnection(const ErrorCode& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted;
}

}  // namespace

struct HttpConnection::Impl {
  net::io_context io;
  std::optional<beast::basic_stream<Protocol>> stream;
  beast::flat_buffer buffer;

  // Starts one operation through `start(handler)` and runs until it completes.
  template <class Start>
  ErrorCode run(Start&& start) {
    ErrorCode result = net::error::would_block;
    start([&result](ErrorCode ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
  }

  void reset() {
    if (stream) {
      ErrorCode ignored;
      stream->socket().shutdown(Protocol::socket::shutdown_both, ignored);
      stream->close();
      stream.reset();
      // Runs the handlers cancelled by close, so none outlives the stream.
      io.restart();
      io.run();
    }
    buffer.clear();
  }
};

HttpConnection::HttpConnection(ClientOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  peer_name_ = options_.tcp.empty() ? "unix:" + options_.socket_path : "tcp:" + options_.tcp;
}

HttpConnection::~HttpConnection() {
  impl_->reset();
}

Result<HttpReply> HttpConnection::roundTrip(std::string_view method, const std::string& target,
                                            const std::string& body) {
  auto fail = [&](const std::string& what, const ErrorCode& ec, int code) {
    impl_->reset();
    if (ec == beast::error::timeout) {
      return makeError("weft API at " + peer_name_ + ": " + what + ": timed out after " +
                           std::to_string(options_.timeout.count()) + " ms",
                       ETIMEDOUT);
    }
    return makeError("weft API at " + peer_name_ + ": " + what + ": " + ec.message(), code);
  };

  beast::string_view method_text(method.data(), method.size());
  http::request<http::string_body> request;
  request.version(11);
  request.method_string(method_text);
  request.target(target);
  request.set(http::field::host, "weftd");
  request.set(http::field::user_agent, "weft-api-client");
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.keep_alive(true);
  request.prepare_payload();

  for (int attempt = 0; attempt < 2; attempt++) {
    bool reused = impl_->stream.has_value();
    if (!reused) {
      auto endpoint = peerEndpoint(options_);
      if (!endpoint) {
        return endpoint.error();
      }
      impl_->stream.emplace(impl_->io);
      impl_->stream->expires_after(options_.timeout);
      ErrorCode ec = impl_->run(
          [&](auto handler) { impl_->stream->async_connect(*endpoint, std::move(handler)); });
      if (ec) {
        std::string what = "connect";
        if (ec != beast::error::timeout) {
          what += " (is weftd running, and may this user open its socket?)";
        }
        return fail(what, ec, ECONNREFUSED);
      }
    }

    impl_->stream->expires_after(options_.timeout);
    ErrorCode ec = impl_->run(
        [&](auto handler) { http::async_write(*impl_->stream, request, std::move(handler)); });
    if (ec && reused && isStaleConnection(ec)) {
      impl_->reset();
      continue;
    }
    if (ec) {
      return fail("sending the request", ec, EIO);
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(kReplyBodyLimit);
    ec = impl_->run([&](auto handler) {
      http::async_read(*impl_->stream, impl_->buffer, parser, std::move(handler));
    });
    if (ec && reused && isStaleConnection(ec)) {
      impl_->reset();
      continue;
    }
    if (ec) {
      bool protocol_error =
          ec.category() == http::make_error_code(http::error::bad_target).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message;
      return fail("reading the reply", ec, protocol_error ? EPROTO : EIO);
    }

    HttpReply reply;
    reply.status = static_cast<int>(parser.get().result_int());
    bool keep_alive = parser.get().keep_alive();
    reply.body = std::move(parser.get().body());
    if (!keep_alive) {
      impl_->reset();
    }
    return reply;
  }
  return makeError("weft API at " + peer_name_ + ": the connection closed twice in a row", EIO);
}

}  // namespace weft::api
