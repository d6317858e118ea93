// SPDX-License-Identifier: Apache-2.0
// UDP forwarding with reply matching and a per-query deadline.
#include "userspace/dns/forwarder.h"

#include <algorithm>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "userspace/common/log.h"
#include "userspace/dns/dns_message.h"

namespace weft::dns {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

// Stray datagrams (late replies, spoofing attempts) tolerated per query before giving up.
constexpr int kMaxMismatches = 16;

udp::endpoint toEndpoint(const SocketAddress& addr) {
  if (addr.ip.isV4()) {
    asio::ip::address_v4::bytes_type b;
    std::copy_n(addr.ip.bytes.begin(), b.size(), b.begin());
    return {asio::ip::address_v4(b), addr.port};
  }
  asio::ip::address_v6::bytes_type b;
  std::copy_n(addr.ip.bytes.begin(), b.size(), b.begin());
  return {asio::ip::address_v6(b), addr.port};
}

bool sameQuestion(const Question& a, const Question& b) {
  return a.type == b.type && a.klass == b.klass && namesEqual(a.name, b.name);
}

}  // namespace

struct Forwarder::Pending {
  explicit Pending(asio::io_context& io) : socket(io), timer(io) {}

  udp::socket socket;
  asio::steady_timer timer;
  std::vector<uint8_t> query;
  std::vector<uint8_t> reply = std::vector<uint8_t>(kMaxMessageSize);
  Question question;
  uint16_t client_id = 0;
  uint16_t upstream_id = 0;
  int mismatches = 0;
  Done done;
};

Forwarder::Forwarder(asio::io_context& io, SocketAddress upstream,
                     std::chrono::milliseconds timeout, size_t max_in_flight)
    : io_(io),
      upstream_(std::move(upstream)),
      timeout_(timeout),
      max_in_flight_(max_in_flight),
      random_(std::random_device{}()) {}

void Forwarder::forward(std::vector<uint8_t> query, Done done) {
  auto parsed = parseHeaderAndQuestion(query);
  if (stopped_ || !parsed || pending_.size() >= max_in_flight_) {
    asio::post(io_, [done = std::move(done), self = shared_from_this()] {
      if (!self->stopped_) {
        done(std::nullopt);
      }
    });
    return;
  }

  auto p = std::make_shared<Pending>(io_);
  p->question = std::move(parsed->second);
  p->client_id = parsed->first.id;
  p->upstream_id = static_cast<uint16_t>(random_());
  p->query = std::move(query);
  p->query[0] = static_cast<uint8_t>(p->upstream_id >> 8);
  p->query[1] = static_cast<uint8_t>(p->upstream_id);
  p->done = std::move(done);
  pending_.insert(p);

  boost::system::error_code ec;
  udp::endpoint upstream = toEndpoint(upstream_);
  p->socket.open(upstream.protocol(), ec);
  if (!ec) {
    // A connected socket drops datagrams from any other source in the kernel.
    p->socket.connect(upstream, ec);
  }
  if (ec) {
    log::debug("dns", "forward socket failed", {{"error", ec.message()}});
    asio::post(io_, [self = shared_from_this(), p] { self->finish(p, std::nullopt); });
    return;
  }

  p->timer.expires_after(timeout_);
  p->timer.async_wait([self = shared_from_this(), p](const boost::system::error_code& tec) {
    if (!tec) {
      self->finish(p, std::nullopt);
    }
  });
  p->socket.async_send(
      asio::buffer(p->query),
      [self = shared_from_this(), p](const boost::system::error_code& sec, size_t /*n*/) {
        if (sec) {
          self->finish(p, std::nullopt);
          return;
        }
        self->receive(p);
      });
}

void Forwarder::receive(const std::shared_ptr<Pending>& p) {
  p->socket.async_receive(
      asio::buffer(p->reply),
      [self = shared_from_this(), p](const boost::system::error_code& ec, size_t n) {
        if (ec) {
          self->finish(p, std::nullopt);
          return;
        }
        std::span<const uint8_t> bytes(p->reply.data(), n);
        auto parsed = parseHeaderAndQuestion(bytes);
        bool match = parsed && parsed->first.qr && parsed->first.id == p->upstream_id &&
                     sameQuestion(parsed->second, p->question);
        if (!match) {
          if (++p->mismatches < kMaxMismatches) {
            self->receive(p);
          } else {
            self->finish(p, std::nullopt);
          }
          return;
        }
        std::vector<uint8_t> reply(bytes.begin(), bytes.end());
        reply[0] = static_cast<uint8_t>(p->client_id >> 8);
        reply[1] = static_cast<uint8_t>(p->client_id);
        self->finish(p, std::move(reply));
      });
}

void Forwarder::finish(const std::shared_ptr<Pending>& p,
                       std::optional<std::vector<uint8_t>> reply) {
  if (pending_.erase(p) == 0) {
    return;  // already finished (the timer and the socket can both complete)
  }
  boost::system::error_code ignored;
  p->timer.cancel();
  p->socket.close(ignored);
  Done done = std::move(p->done);
  if (!stopped_ && done) {
    done(std::move(reply));
  }
}

void Forwarder::stop() {
  stopped_ = true;
  auto pending = std::move(pending_);
  pending_.clear();
  for (const auto& p : pending) {
    boost::system::error_code ignored;
    p->timer.cancel();
    p->socket.close(ignored);
  }
}

}  // namespace weft::dns
