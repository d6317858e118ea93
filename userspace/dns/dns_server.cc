// SPDX-License-Identifier: Apache-2.0
// Sockets of the DNS server: a UDP receive loop, a TCP acceptor with a connection cap, and
// the hand-off to the query handler and the forwarder.
#include "userspace/dns/dns_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <list>

#include <fmt/format.h>

#include "userspace/common/log.h"
#include "userspace/dns/forwarder.h"
#include "userspace/dns/query_handler.h"
#include "userspace/dns/tcp_session.h"

namespace weft::dns {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

constexpr const char* kComponent = "dns";
// With port 0 the UDP port is picked first; TCP may find it taken and the pair is retried.
constexpr int kBindAttempts = 8;
// After an unexpected receive error the loop pauses briefly instead of spinning.
constexpr std::chrono::milliseconds kReceiveErrorPause(50);

asio::ip::address toAddress(const IpAddr& ip) {
  if (ip.isV4()) {
    asio::ip::address_v4::bytes_type b;
    std::copy_n(ip.bytes.begin(), b.size(), b.begin());
    return asio::ip::address_v4(b);
  }
  asio::ip::address_v6::bytes_type b;
  std::copy_n(ip.bytes.begin(), b.size(), b.begin());
  return asio::ip::address_v6(b);
}

}  // namespace

struct DnsServer::Core : std::enable_shared_from_this<Core> {
  Core(asio::io_context& io_context, DnsOptions opts)
      : io(io_context),
        options(std::move(opts)),
        handler(options),
        udp_socket(io),
        acceptor(io),
        pause_timer(io),
        udp_buffer(kMaxMessageSize) {}

  Status bind();
  Status bindOnce(uint16_t port, std::string* step, boost::system::error_code* ec);
  void receiveUdp();
  void acceptTcp();
  void process(std::vector<uint8_t> query, Transport transport, TcpSession::Reply reply);
  void count(Rcode rcode);
  void stop();

  asio::io_context& io;
  DnsOptions options;
  QueryHandler handler;
  udp::socket udp_socket;
  tcp::acceptor acceptor;
  asio::steady_timer pause_timer;
  std::vector<uint8_t> udp_buffer;
  udp::endpoint udp_peer;
  std::shared_ptr<Forwarder> forwarder;
  std::list<std::weak_ptr<TcpSession>> sessions;
  SocketAddress local;
  bool stopped = false;

  std::atomic<uint64_t> udp_queries{0};
  std::atomic<uint64_t> tcp_queries{0};
  std::atomic<uint64_t> noerror{0};
  std::atomic<uint64_t> nxdomain{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> formerr{0};
  std::atomic<uint64_t> servfail{0};
  std::atomic<uint64_t> other_errors{0};
  std::atomic<uint64_t> forwarded{0};
  std::atomic<uint64_t> forward_failures{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> tcp_rejected{0};
};

Status DnsServer::Core::bindOnce(uint16_t port, std::string* step, boost::system::error_code* ec) {
  asio::ip::address addr = toAddress(options.listen.ip);
  boost::system::error_code ignored;
  udp_socket.close(ignored);
  acceptor.close(ignored);

  *step = "open udp";
  udp_socket.open(addr.is_v6() ? udp::v6() : udp::v4(), *ec);
  if (!*ec && addr.is_v6()) {
    udp_socket.set_option(asio::ip::v6_only(true), *ec);
  }
  if (!*ec) {
    *step = "bind udp";
    udp_socket.bind(udp::endpoint(addr, port), *ec);
  }
  if (*ec) {
    return makeError("udp");
  }
  uint16_t bound = udp_socket.local_endpoint(ignored).port();
  local = SocketAddress{options.listen.ip, bound};
  if (!options.tcp) {
    return {};
  }

  *step = "bind tcp";
  acceptor.open(addr.is_v6() ? tcp::v6() : tcp::v4(), *ec);
  if (!*ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), *ec);
  }
  if (!*ec && addr.is_v6()) {
    acceptor.set_option(asio::ip::v6_only(true), *ec);
  }
  if (!*ec) {
    acceptor.bind(tcp::endpoint(addr, bound), *ec);
  }
  if (!*ec) {
    *step = "listen tcp";
    acceptor.listen(asio::socket_base::max_listen_connections, *ec);
  }
  return *ec ? Status(makeError("tcp")) : Status();
}

Status DnsServer::Core::bind() {
  std::string step;
  boost::system::error_code ec;
  for (int attempt = 0; attempt < kBindAttempts; ++attempt) {
    if (bindOnce(options.listen.port, &step, &ec)) {
      return {};
    }
    bool retry = options.listen.port == 0 && ec == asio::error::address_in_use;
    if (!retry) {
      break;
    }
  }
  return makeError(
      fmt::format("dns.listen: {}: {}: {}", options.listen.toString(), step, ec.message()),
      ec.value());
}

void DnsServer::Core::receiveUdp() {
  udp_socket.async_receive_from(
      asio::buffer(udp_buffer), udp_peer,
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        if (self->stopped || ec == asio::error::operation_aborted) {
          return;
        }
        if (ec) {
          log::debug(kComponent, "udp receive failed", {{"error", ec.message()}});
          self->pause_timer.expires_after(kReceiveErrorPause);
          self->pause_timer.async_wait([self](const boost::system::error_code& tec) {
            if (!tec && !self->stopped) {
              self->receiveUdp();
            }
          });
          return;
        }

        ++self->udp_queries;
        std::vector<uint8_t> query(self->udp_buffer.begin(), self->udp_buffer.begin() + n);
        udp::endpoint peer = self->udp_peer;
        self->process(
            std::move(query), Transport::kUdp, [self, peer](std::vector<uint8_t> response) {
              if (response.empty() || self->stopped) {
                return;
              }
              auto out = std::make_shared<std::vector<uint8_t>>(std::move(response));
              self->udp_socket.async_send_to(asio::buffer(*out), peer,
                                             [out](const boost::system::error_code&, size_t) {});
            });
        self->receiveUdp();
      });
}

void DnsServer::Core::acceptTcp() {
  acceptor.async_accept(
      [self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
        if (self->stopped || ec == asio::error::operation_aborted) {
          return;
        }
        if (!ec) {
          self->sessions.remove_if([](const std::weak_ptr<TcpSession>& s) { return s.expired(); });
          if (self->sessions.size() >= self->options.max_tcp_connections) {
            ++self->tcp_rejected;
            boost::system::error_code ignored;
            socket.close(ignored);
          } else {
            auto session = std::make_shared<TcpSession>(
                std::move(socket), self->options.tcp_idle_timeout,
                [self](std::vector<uint8_t> query, TcpSession::Reply reply) {
                  ++self->tcp_queries;
                  self->process(std::move(query), Transport::kTcp, std::move(reply));
                });
            self->sessions.push_back(session);
            session->start();
          }
        }
        self->acceptTcp();
      });
}

void DnsServer::Core::process(std::vector<uint8_t> query, Transport transport,
                              TcpSession::Reply reply) {
  Decision d = handler.handle(query, transport);
  switch (d.action) {
    case Decision::Action::kDrop:
      ++dropped;
      reply({});
      return;
    case Decision::Action::kRespond:
      count(d.rcode);
      reply(std::move(d.response));
      return;
    case Decision::Action::kForward:
      break;
  }

  ++forwarded;
  auto original = std::make_shared<std::vector<uint8_t>>(query);
  forwarder->forward(std::move(query),
                     [self = shared_from_this(), original,
                      reply = std::move(reply)](std::optional<std::vector<uint8_t>> answer) {
                       if (answer) {
                         reply(std::move(*answer));
                         return;
                       }
                       ++self->forward_failures;
                       ++self->servfail;
                       reply(self->handler.servfail(*original));
                     });
}

void DnsServer::Core::count(Rcode rcode) {
  switch (rcode) {
    case Rcode::kNoError:
      ++noerror;
      break;
    case Rcode::kNxDomain:
      ++nxdomain;
      break;
    case Rcode::kRefused:
      ++refused;
      break;
    case Rcode::kFormErr:
      ++formerr;
      break;
    case Rcode::kServFail:
      ++servfail;
      break;
    default:
      ++other_errors;
      break;
  }
}

void DnsServer::Core::stop() {
  if (stopped) {
    return;
  }
  stopped = true;
  boost::system::error_code ignored;
  udp_socket.close(ignored);
  acceptor.close(ignored);
  pause_timer.cancel();
  if (forwarder) {
    forwarder->stop();
  }
  for (auto& weak : sessions) {
    if (auto session = weak.lock()) {
      session->close();
    }
  }
  sessions.clear();
}

Result<std::unique_ptr<DnsServer>> DnsServer::start(asio::io_context& io, DnsOptions options) {
  if (auto st = validateDnsOptions(options); !st) {
    return st.error();
  }
  auto core = std::make_shared<Core>(io, std::move(options));
  if (auto st = core->bind(); !st) {
    return st.error();
  }
  if (core->options.forward) {
    core->forwarder =
        std::make_shared<Forwarder>(io, *core->options.forward, core->options.forward_timeout,
                                    core->options.max_forwards_in_flight);
  }
  core->receiveUdp();
  if (core->options.tcp) {
    core->acceptTcp();
  }
  log::info(kComponent, "dns server listening",
            {{"listen", core->local.toString()},
             {"domain", core->options.domain},
             {"forward", core->options.forward ? core->options.forward->toString() : "refuse"},
             {"tcp", core->options.tcp ? "on" : "off"}});
  return std::unique_ptr<DnsServer>(new DnsServer(std::move(core)));
}

DnsServer::DnsServer(std::shared_ptr<Core> core) : core_(std::move(core)) {}

DnsServer::~DnsServer() {
  core_->stop();
}

void DnsServer::setRecords(const std::vector<registry::Service>& services) {
  core_->handler.setRecords(services);
}

SocketAddress DnsServer::localAddress() const {
  return core_->local;
}

DnsStats DnsServer::stats() const {
  const Core& c = *core_;
  DnsStats s;
  s.udp_queries = c.udp_queries.load();
  s.tcp_queries = c.tcp_queries.load();
  s.noerror = c.noerror.load();
  s.nxdomain = c.nxdomain.load();
  s.refused = c.refused.load();
  s.formerr = c.formerr.load();
  s.servfail = c.servfail.load();
  s.other_errors = c.other_errors.load();
  s.forwarded = c.forwarded.load();
  s.forward_failures = c.forward_failures.load();
  s.dropped = c.dropped.load();
  s.tcp_rejected = c.tcp_rejected.load();
  return s;
}

}  // namespace weft::dns
