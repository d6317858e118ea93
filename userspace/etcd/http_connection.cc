// SPDX-License-Identifier: Apache-2.0
// HttpConnection: Beast async operations driven to completion on a private io_context, so a
// deadline (the tcp_stream timer) bounds each step and abort() can close the socket from
// another thread by posting onto that io_context.
#include "userspace/etcd/http_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>

namespace weft::etcd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kReadChunkBytes = 16 * 1024;
constexpr uint64_t kErrorBodyBytes = 64 * 1024;
// A peer that vanished without a FIN or RST (host down, partition) is noticed after about
// idle + interval * count seconds instead of never.
constexpr int kKeepaliveIdleSec = 10;
constexpr int kKeepaliveIntervalSec = 3;
constexpr int kKeepaliveCount = 3;

void setKeepalive(int fd) {
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &kKeepaliveIdleSec, sizeof(int));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &kKeepaliveIntervalSec, sizeof(int));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &kKeepaliveCount, sizeof(int));
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

}  // namespace

struct HttpConnection::Impl {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::buffer_body>> stream_parser;
  bool open = false;
  bool keep_alive = false;

  // Runs handlers until the pending operation has completed. The tcp_stream timer makes
  // every operation complete by its deadline, so this loop is bounded by it.
  void runUntil(const bool& done) {
    ioc.restart();
    while (!done && ioc.run_one() > 0) {
    }
  }

  void close() {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    buffer.clear();
    stream_parser.reset();
    open = false;
    keep_alive = false;
  }
};

Result<HttpEndpoint> HttpEndpoint::parse(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  auto bad = [&](const char* why) {
    return makeError(fmt::format("etcd endpoint \"{}\": {}", url, why), EINVAL);
  };
  if (url.rfind(kScheme, 0) != 0) {
    return bad("must start with http:// (TLS is not supported)");
  }

  std::string rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') {
    rest.pop_back();
  }
  HttpEndpoint out;
  size_t colon;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return bad("expected [ipv6]:port");
    }
    out.host = rest.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = rest.rfind(':');
    if (colon == std::string::npos) {
      return bad("missing :port");
    }
    out.host = rest.substr(0, colon);
  }
  out.port = rest.substr(colon + 1);

  if (out.host.empty() || out.host.find_first_of("/?#@ ") != std::string::npos) {
    return bad("bad host");
  }
  if (out.port.empty() || out.port.size() > 5 ||
      out.port.find_first_not_of("0123456789") != std::string::npos || std::stoul(out.port) == 0 ||
      std::stoul(out.port) > 65535) {
    return bad("port must be 1..65535");
  }
  return out;
}

std::string HttpEndpoint::toString() const {
  bool v6 = host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

HttpConnection::HttpConnection(HttpEndpoint endpoint)
    : endpoint_(std::move(endpoint)), impl_(std::make_unique<Impl>()) {}

HttpConnection::~HttpConnection() {
  impl_->close();
}

bool HttpConnection::reusable() const {
  return impl_->open && impl_->keep_alive && !aborted_.load();
}

void HttpConnection::abort() {
  aborted_.store(true);
  Impl* impl = impl_.get();
  asio::post(impl->ioc, [impl] { impl->stream.close(); });
}

Status HttpConnection::connect(Clock::time_point deadline) {
  beast::error_code ec;
  tcp::resolver::results_type targets;
  asio::ip::address literal = asio::ip::make_address(endpoint_.host, ec);
  if (!ec) {
    targets = tcp::resolver::results_type::create(
        tcp::endpoint(literal, static_cast<uint16_t>(std::stoul(endpoint_.port))), endpoint_.host,
        endpoint_.port);
  } else {
    tcp::resolver resolver(impl_->ioc);
    targets = resolver.resolve(endpoint_.host, endpoint_.port, ec);
    if (ec) {
      return makeError(fmt::format("etcd {}: resolve: {}", endpoint_.toString(), ec.message()),
                       EHOSTUNREACH);
    }
  }

  bool done = false;
  impl_->stream.expires_at(deadline);
  impl_->stream.async_connect(targets, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  impl_->runUntil(done);
  if (!done || ec || aborted_.load()) {
    impl_->close();
    if (aborted_.load()) {
      return makeError(fmt::format("etcd {}: aborted", endpoint_.toString()), ECANCELED);
    }
    bool timeout = ec == beast::error::timeout;
    return makeError(fmt::format("etcd {}: connect: {}", endpoint_.toString(),
                                 timeout ? "timed out" : ec.message()),
                     timeout ? ETIMEDOUT : ec.value());
  }

  setKeepalive(impl_->stream.socket().native_handle());
  impl_->open = true;
  return {};
}

namespace {

Error transportError(const HttpEndpoint& endpoint, const char* step, beast::error_code ec,
                     bool aborted) {
  if (aborted) {
    return makeError(fmt::format("etcd {}: {}: aborted", endpoint.toString(), step), ECANCELED);
  }
  if (ec == beast::error::timeout) {
    return makeError(fmt::format("etcd {}: {}: timed out", endpoint.toString(), step), ETIMEDOUT);
  }
  bool system = ec.category() == boost::system::system_category();
  return makeError(fmt::format("etcd {}: {}: {}", endpoint.toString(), step, ec.message()),
                   system ? ec.value() : EPROTO);
}

http::request<http::string_body> makeRequest(const HttpEndpoint& endpoint,
                                             const std::string& target, const std::string& body,
                                             const HttpHeaders& headers = {}) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, endpoint.host + ":" + endpoint.port);
  req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  for (const auto& [name, value] : headers) {
    req.set(name, value);
  }
  req.body() = body;
  req.prepare_payload();
  return req;
}

}  // namespace

Result<HttpResponse> HttpConnection::post(const std::string& target, const std::string& body,
                                          Clock::time_point deadline, uint64_t max_body_bytes) {
  failed_before_response_ = true;
  if (aborted_.load()) {
    return transportError(endpoint_, "post", {}, true);
  }
  if (!impl_->open) {
    Status connected = connect(deadline);
    if (!connected) {
      return connected.error();
    }
  }

  auto req = makeRequest(endpoint_, target, body);
  beast::error_code ec;
  bool done = false;
  impl_->stream.expires_at(deadline);
  http::async_write(impl_->stream, req, [&](beast::error_code e, size_t) {
    ec = e;
    done = true;
  });
  impl_->runUntil(done);
  if (!done || ec || aborted_.load()) {
    impl_->close();
    return transportError(endpoint_, "send", ec, aborted_.load());
  }

  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body_bytes);
  done = false;
  http::async_read(impl_->stream, impl_->buffer, parser, [&](beast::error_code e, size_t) {
    ec = e;
    done = true;
  });
  impl_->runUntil(done);
  ++exchanges_;
  if (!done || ec || aborted_.load()) {
    failed_before_response_ = !parser.got_some();
    impl_->close();
    return transportError(endpoint_, "receive", ec, aborted_.load());
  }

  failed_before_response_ = false;
  impl_->keep_alive = parser.get().keep_alive();
  if (!impl_->keep_alive) {
    impl_->close();
  }
  HttpResponse out;
  out.status = parser.get().result_int();
  out.body = std::move(parser.get().body());
  return out;
}

Status HttpConnection::beginStream(const std::string& target, const std::string& body,
                                   Clock::time_point deadline, const HttpHeaders& headers) {
  if (aborted_.load()) {
    return transportError(endpoint_, "stream", {}, true);
  }
  if (!impl_->open) {
    Status connected = connect(deadline);
    if (!connected) {
      return connected;
    }
  }

  auto req = makeRequest(endpoint_, target, body, headers);
  beast::error_code ec;
  bool done = false;
  impl_->stream.expires_at(deadline);
  http::async_write(impl_->stream, req, [&](beast::error_code e, size_t) {
    ec = e;
    done = true;
  });
  impl_->runUntil(done);
  if (!done || ec || aborted_.load()) {
    impl_->close();
    return transportError(endpoint_, "send", ec, aborted_.load());
  }

  // The stream may run for days: no body limit; the caller bounds what it buffers.
  impl_->stream_parser.emplace();
  impl_->stream_parser->body_limit(boost::none);
  done = false;
  http::async_read_header(impl_->stream, impl_->buffer, *impl_->stream_parser,
                          [&](beast::error_code e, size_t) {
                            ec = e;
                            done = true;
                          });
  impl_->runUntil(done);
  if (!done || ec || aborted_.load()) {
    impl_->close();
    return transportError(endpoint_, "receive header", ec, aborted_.load());
  }

  unsigned status = impl_->stream_parser->get().result_int();
  if (status == 200) {
    return {};
  }

  // Keep the error body (etcd's JSON error) for the message.
  std::string error_body;
  while (error_body.size() < kErrorBodyBytes && !impl_->stream_parser->is_done()) {
    auto chunk = readStream(deadline);
    if (!chunk) {
      break;
    }
    error_body += *chunk;
  }
  impl_->close();
  return makeError(fmt::format("etcd {}: {}: HTTP {}: {}", endpoint_.toString(), target, status,
                               error_body.substr(0, 512)),
                   EPROTO);
}

Result<std::string> HttpConnection::readStream(std::optional<Clock::time_point> deadline) {
  auto& parser = impl_->stream_parser;
  if (aborted_.load() || !parser) {
    return transportError(endpoint_, "stream", {}, true);
  }

  char buf[kReadChunkBytes];
  while (true) {
    if (parser->is_done()) {
      impl_->close();
      return makeError(fmt::format("etcd {}: stream ended by the server", endpoint_.toString()),
                       ECONNRESET);
    }
    parser->get().body().data = buf;
    parser->get().body().size = sizeof(buf);

    if (deadline) {
      impl_->stream.expires_at(*deadline);
    } else {
      impl_->stream.expires_never();
    }
    beast::error_code ec;
    bool done = false;
    http::async_read_some(impl_->stream, impl_->buffer, *parser, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    impl_->runUntil(done);
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    if (!done || ec || aborted_.load()) {
      impl_->close();
      return transportError(endpoint_, "stream", ec, aborted_.load());
    }

    size_t got = sizeof(buf) - parser->get().body().size;
    if (got > 0) {
      return std::string(buf, got);
    }
  }
}

}  // namespace weft::etcd
