// SPDX-License-Identifier: Apache-2.0
// TCP and HTTP probes on Boost.Beast streams whose deadline covers connect, write and read.
#include "userspace/health/prober.h"

#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <utility>

#include <fmt/format.h>

namespace weft::health {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

// A health endpoint answers with a short header; anything bigger is not worth reading.
constexpr uint32_t kMaxHeaderBytes = 8192;

std::string hostHeader(const boost::asio::ip::tcp::endpoint& target) {
  const auto& addr = target.address();
  std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
  return host + ":" + std::to_string(target.port());
}

}  // namespace

struct Prober::Attempt {
  explicit Attempt(boost::asio::io_context& io) : stream(io) {}

  boost::beast::tcp_stream stream;
  boost::beast::flat_buffer buffer{kMaxHeaderBytes};
  http::request<http::empty_body> request;
  http::response_parser<http::empty_body> parser;
  Clock::time_point started;
};

bool isSafeHttpPath(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return false;
  }
  return std::all_of(path.begin(), path.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7f;
  });
}

Prober::Prober(boost::asio::io_context& io, std::shared_ptr<ProbeSlots> slots,
               boost::asio::ip::tcp::endpoint target, registry::HealthCheck check, Report report)
    : io_(io),
      slots_(std::move(slots)),
      target_(std::move(target)),
      check_(std::move(check)),
      host_header_(hostHeader(target_)),
      report_(std::move(report)),
      timer_(io) {}

void Prober::start() {
  waitForSlot();
}

void Prober::stop() {
  stopped_ = true;
  timer_.cancel();
  if (current_) {
    // The pending handler still runs (with operation_aborted) and frees the probe slot.
    current_->stream.cancel();
  }
}

void Prober::waitForSlot() {
  std::weak_ptr<Prober> weak = weak_from_this();
  slots_->acquire([weak] {
    auto self = weak.lock();
    if (!self || self->stopped_) {
      return false;
    }
    self->begin();
    return true;
  });
}

void Prober::begin() {
  auto attempt = std::make_shared<Attempt>(io_);
  attempt->started = Clock::now();
  last_start_ = attempt->started;
  current_ = attempt;

  attempt->stream.expires_after(
      std::chrono::milliseconds(std::max<uint32_t>(check_.timeout_ms, 1)));
  attempt->stream.async_connect(
      target_, [self = shared_from_this(), attempt](const boost::system::error_code& ec) {
        if (ec) {
          self->finish(attempt, {false, self->describe("connect", ec)});
          return;
        }
        self->onConnected(attempt);
      });
}

void Prober::onConnected(const std::shared_ptr<Attempt>& attempt) {
  if (stopped_ || check_.kind != registry::HealthCheckKind::kHttp) {
    finish(attempt, {true, ""});
    return;
  }
  if (!isSafeHttpPath(check_.http_path)) {
    finish(attempt,
           {false, fmt::format("http_path \"{}\" is not a safe request path", check_.http_path)});
    return;
  }

  auto& req = attempt->request;
  req.method(http::verb::get);
  req.target(check_.http_path);
  req.version(11);
  req.set(http::field::host, host_header_);
  req.set(http::field::user_agent, "weft-health/1");
  req.set(http::field::connection, "close");
  attempt->parser.header_limit(kMaxHeaderBytes);

  http::async_write(
      attempt->stream, req,
      [self = shared_from_this(), attempt](const boost::system::error_code& ec, size_t /*bytes*/) {
        if (ec) {
          self->finish(attempt, {false, self->describe("write", ec)});
          return;
        }
        http::async_read_header(
            attempt->stream, attempt->buffer, attempt->parser,
            [self, attempt](const boost::system::error_code& rec, size_t /*n*/) {
              if (rec) {
                self->finish(attempt, {false, self->describe("read", rec)});
                return;
              }
              self->onHeader(attempt);
            });
      });
}

void Prober::onHeader(const std::shared_ptr<Attempt>& attempt) {
  int status = static_cast<int>(attempt->parser.get().result_int());
  if (status != check_.expected_status) {
    finish(attempt,
           {false, fmt::format("HTTP status {}, expected {}", status, check_.expected_status)});
    return;
  }
  finish(attempt, {true, ""});
}

void Prober::finish(const std::shared_ptr<Attempt>& attempt, ProbeResult result) {
  // Closing without reading the body: the endpoint may see a reset, which is harmless.
  attempt->stream.close();
  if (current_ == attempt) {
    current_.reset();
  }
  slots_->release();
  if (stopped_) {
    return;
  }

  result.latency =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - attempt->started);
  report_(result);
  scheduleNext();
}

void Prober::scheduleNext() {
  if (stopped_) {
    return;
  }
  auto interval = std::chrono::milliseconds(std::max<uint32_t>(check_.interval_ms, 1));
  timer_.expires_at(std::max(last_start_ + interval, Clock::now()));
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stopped_) {
      return;
    }
    self->waitForSlot();
  });
}

std::string Prober::describe(const char* step, const boost::system::error_code& ec) const {
  if (ec == boost::beast::error::timeout) {
    return fmt::format("{}: timed out after {} ms", step, check_.timeout_ms);
  }
  return fmt::format("{}: {}", step, ec.message());
}

}  // namespace weft::health
