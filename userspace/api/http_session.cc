// SPDX-License-Identifier: Apache-2.0
// The API's HTTP/1.1 connection handling on Boost.Beast, with error_code overloads only.
#include "userspace/api/http_session.h"

#include <array>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "userspace/common/log.h"

namespace weft::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using ErrorCode = beast::error_code;

constexpr char kComponent[] = "api";
// After a 413 the rest of the body is read and dropped before closing, so the client sees
// the response instead of a reset; bounded so a client cannot keep the connection open.
constexpr size_t kDrainLimit = 1024 * 1024;
constexpr std::chrono::seconds kDrainTimeout{2};

// Rendered once: a busy server should not build strings for connections it turns away.
const std::string& busyResponse() {
  static const std::string text = [] {
    ApiResponse out = errorResponse(503, kCodeUnavailable, "too many connections to the weft API");
    http::response<http::string_body> response{http::status::service_unavailable, 11};
    response.set(http::field::content_type, "application/json");
    response.body() = out.body + "\n";
    response.keep_alive(false);
    response.prepare_payload();
    std::ostringstream stream;
    stream << response;
    return stream.str();
  }();
  return text;
}

bool isQuietEnd(const ErrorCode& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout ||
         ec == boost::asio::error::operation_aborted || ec == boost::asio::error::eof ||
         ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe;
}

template <class Protocol>
class HttpSession : public Session, public std::enable_shared_from_this<HttpSession<Protocol>> {
 public:
  HttpSession(std::shared_ptr<ServerState> state, typename Protocol::socket socket)
      : state_(std::move(state)), stream_(std::move(socket)) {
    state_->active++;
  }

  ~HttpSession() override {
    state_->active--;
    state_->sessions.erase(this);
  }

  void start() {
    state_->sessions[this] = this->weak_from_this();
    readHeader();
  }

  void close() override {
    ErrorCode ec;
    stream_.socket().shutdown(Protocol::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  auto self() { return this->shared_from_this(); }

  void readHeader() {
    parser_.emplace();
    parser_->body_limit(state_->options.body_limit);
    parser_->header_limit(static_cast<uint32_t>(state_->options.header_limit));
    stream_.expires_after(state_->options.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [s = self()](ErrorCode ec, size_t) { s->onHeader(ec); });
  }

  void onHeader(ErrorCode ec) {
    if (ec) {
      onReadError(ec);
      return;
    }
    if (parser_->is_done()) {
      onRequest({});
      return;
    }
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      // curl asks before sending bodies over 1 KiB and would otherwise wait a second.
      interim_.emplace(http::status::continue_, parser_->get().version());
      stream_.expires_after(state_->options.write_timeout);
      http::async_write(stream_, *interim_, [s = self()](ErrorCode ec, size_t) {
        if (ec) {
          s->close();
          return;
        }
        s->readBody();
      });
      return;
    }
    readBody();
  }

  void readBody() {
    stream_.expires_after(state_->options.body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [s = self()](ErrorCode ec, size_t) { s->onRequest(ec); });
  }

  void onReadError(ErrorCode ec) {
    const unsigned version = 11;
    if (ec == http::error::body_limit) {
      drain_after_write_ = true;
      respond(errorResponse(413, kCodeTooLarge,
                            "request body is larger than " +
                                std::to_string(state_->options.body_limit) + " bytes"),
              version, false);
    } else if (ec == http::error::header_limit) {
      respond(errorResponse(431, kCodeHeaderTooLarge,
                            "request header is larger than " +
                                std::to_string(state_->options.header_limit) + " bytes"),
              version, false);
    } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
               ec != http::error::partial_message) {
      respond(errorResponse(400, kCodeBadRequest, "malformed HTTP request: " + ec.message()),
              version, false);
    } else {
      if (!isQuietEnd(ec) && ec != http::error::partial_message) {
        log::debug(kComponent, "connection: read failed", {{"error", ec.message()}});
      }
      close();
    }
  }

  void onRequest(ErrorCode ec) {
    if (ec) {
      onReadError(ec);
      return;
    }
    http::request<http::string_body> request = parser_->release();
    ApiRequest api{std::string(request.method_string()), std::string(request.target()),
                   std::move(request.body())};
    ApiResponse out = state_->router.handle(api);
    log::debug(kComponent, "request",
               {{"method", api.method}, {"target", api.target}, {"status", out.status}});
    respond(out, request.version(), request.keep_alive());
  }

  void respond(const ApiResponse& out, unsigned version, bool keep_alive) {
    response_ = {};
    response_.version(version);
    response_.result(static_cast<unsigned>(out.status));
    response_.set(http::field::server, "weftd");
    if (!out.allow.empty()) {
      response_.set(http::field::allow, out.allow);
    }
    if (!out.body.empty()) {
      response_.set(http::field::content_type, "application/json");
      response_.body() = out.body + "\n";
    }
    response_.keep_alive(keep_alive && !state_->stopped);
    response_.prepare_payload();

    stream_.expires_after(state_->options.write_timeout);
    http::async_write(stream_, response_, [s = self()](ErrorCode ec, size_t) { s->onWrite(ec); });
  }

  void onWrite(ErrorCode ec) {
    if (ec) {
      close();
      return;
    }
    if (response_.keep_alive()) {
      readHeader();
      return;
    }
    ErrorCode ignored;
    stream_.socket().shutdown(Protocol::socket::shutdown_send, ignored);
    if (drain_after_write_) {
      stream_.expires_after(kDrainTimeout);
      drain();
      return;
    }
    stream_.close();
  }

  void drain() {
    stream_.async_read_some(boost::asio::buffer(drain_buffer_),
                            [s = self()](ErrorCode ec, size_t n) {
                              s->drained_ += n;
                              if (ec || s->drained_ > kDrainLimit) {
                                s->stream_.close();
                                return;
                              }
                              s->drain();
                            });
  }

  std::shared_ptr<ServerState> state_;
  beast::basic_stream<Protocol> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> interim_;
  http::response<http::string_body> response_;
  bool drain_after_write_ = false;
  size_t drained_ = 0;
  std::array<char, 4096> drain_buffer_{};
};

template <class Socket>
void rejectBusy(Socket socket) {
  auto held = std::make_shared<Socket>(std::move(socket));
  boost::asio::async_write(*held, boost::asio::buffer(busyResponse()), [held](ErrorCode, size_t) {
    ErrorCode ignored;
    held->shutdown(Socket::shutdown_both, ignored);
    held->close(ignored);
  });
}

}  // namespace

template <class Protocol>
void serveConnection(const std::shared_ptr<ServerState>& state, typename Protocol::socket socket) {
  if (state->stopped) {
    return;
  }
  if (state->active >= state->options.max_connections) {
    log::debug(kComponent, "connection refused: at the connection limit",
               {{"limit", state->options.max_connections}});
    rejectBusy(std::move(socket));
    return;
  }
  std::make_shared<HttpSession<Protocol>>(state, std::move(socket))->start();
}

template void serveConnection<boost::asio::ip::tcp>(const std::shared_ptr<ServerState>&,
                                                    boost::asio::ip::tcp::socket);
template void serveConnection<boost::asio::local::stream_protocol>(
    const std::shared_ptr<ServerState>&, boost::asio::local::stream_protocol::socket);

}  // namespace weft::api
