// SPDX-License-Identifier: Apache-2.0
// The health checker against real servers on 127.0.0.1 in the test's network namespace:
// HTTP status verdicts, thresholds, a server that stops and returns, TCP probes, black holes
// that must not delay other endpoints, and target diffs.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/health_dns_io_thread.h"
#include "tests/e2e/servers.h"
#include "tests/e2e/sockets.h"
#include "userspace/health/health_checker.h"

namespace weft::e2e {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using health::EndpointHealth;
using health::HealthChecker;
using health::HealthState;
using registry::HealthCheckKind;
using Clock = std::chrono::steady_clock;

constexpr auto kPoll = milliseconds(5);

// A minimal HTTP/1.1 server on 127.0.0.1: answers every request with `status`, or, when
// silent, accepts and never answers. Records request lines and Host headers.
class HttpServer {
 public:
  explicit HttpServer(int status, bool silent = false, uint16_t port = 0)
      : acceptor_(io_.io()), status_(status), silent_(silent) {
    io_.call([&] {
      boost::system::error_code ec;
      tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
      acceptor_.open(ep.protocol(), ec);
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
      acceptor_.bind(ep, ec);
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
      bind_error_ = ec;
      port_ = acceptor_.local_endpoint(ec).port();
      accept();
    });
  }
  ~HttpServer() { stop(); }

  bool ok() const { return !bind_error_; }
  uint16_t port() const { return port_; }
  void setStatus(int status) { status_ = status; }
  uint64_t requests() const { return requests_.load(); }

  std::vector<std::string> heads() {
    std::lock_guard lock(mutex_);
    return heads_;
  }
  // Largest gap between two consecutive requests.
  milliseconds maxGap() {
    std::lock_guard lock(mutex_);
    milliseconds gap(0);
    for (size_t i = 1; i < times_.size(); ++i) {
      gap = std::max(gap, std::chrono::duration_cast<milliseconds>(times_[i] - times_[i - 1]));
    }
    return gap;
  }

  // Closes the listener and every connection: later connects are refused.
  void stop() {
    io_.call([&] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      for (auto& conn : conns_) {
        conn->socket.close(ec);
      }
    });
    io_.stop();
  }

 private:
  struct Conn {
    explicit Conn(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    asio::streambuf buffer;
    std::string reply;
  };

  void accept() {
    auto conn = std::make_shared<Conn>(io_.io());
    acceptor_.async_accept(conn->socket, [this, conn](const boost::system::error_code& ec) {
      if (ec) {
        return;
      }
      conns_.push_back(conn);
      if (!silent_) {
        serve(conn);
      }
      accept();
    });
  }

  void serve(const std::shared_ptr<Conn>& conn) {
    asio::async_read_until(
        conn->socket, conn->buffer, "\r\n\r\n",
        [this, conn](const boost::system::error_code& ec, size_t n) {
          if (ec) {
            return;
          }
          std::string head(asio::buffers_begin(conn->buffer.data()),
                           asio::buffers_begin(conn->buffer.data()) + static_cast<long>(n));
          {
            std::lock_guard lock(mutex_);
            heads_.push_back(head);
            times_.push_back(Clock::now());
          }
          ++requests_;
          conn->reply = "HTTP/1.1 " + std::to_string(status_.load()) +
                        " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
          asio::async_write(conn->socket, asio::buffer(conn->reply),
                            [conn](const boost::system::error_code&, size_t) {
                              boost::system::error_code ignored;
                              conn->socket.shutdown(tcp::socket::shutdown_both, ignored);
                            });
        });
  }

  IoThread io_;
  tcp::acceptor acceptor_;
  std::atomic<int> status_;
  bool silent_;
  boost::system::error_code bind_error_;
  uint16_t port_ = 0;
  std::list<std::shared_ptr<Conn>> conns_;
  std::atomic<uint64_t> requests_{0};
  std::mutex mutex_;
  std::vector<std::string> heads_;
  std::vector<Clock::time_point> times_;
};

// A listener whose accept queue is full and never drained: SYNs to it are dropped, so a
// connect hangs until the prober's timeout.
class BlackHoleListener {
 public:
  BlackHoleListener() {
    auto ep = Endpoint::parse("127.0.0.1", 0);
    listen_fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!ep || ::bind(listen_fd_.get(), ep->sa(), ep->len) != 0 ||
        ::listen(listen_fd_.get(), 0) != 0) {
      return;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    ::getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    self_ = Endpoint::fromSockaddr(ss, len);
    // Fill the queue until a connect no longer completes (a backlog of 0 holds one).
    for (int i = 0; i < 4; ++i) {
      UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      int err = connectWithin(fd.get(), self_, milliseconds(200));
      if (err == ETIMEDOUT) {
        full_ = true;
        return;
      }
      fillers_.push_back(std::move(fd));
    }
  }

  bool full() const { return full_; }
  uint16_t port() const { return self_.port(); }

 private:
  UniqueFd listen_fd_;
  Endpoint self_;
  std::vector<UniqueFd> fillers_;
  bool full_ = false;
};

registry::Endpoint target(uint16_t port, HealthCheckKind kind, uint32_t interval_ms = 50) {
  registry::Endpoint ep;
  ep.service = "web";
  ep.ns = "default";
  ep.host = *IpAddr::parse("127.0.0.1");
  ep.port = port;
  ep.health.kind = kind;
  ep.health.http_path = "/healthz";
  ep.health.expected_status = 200;
  ep.health.interval_ms = interval_ms;
  ep.health.timeout_ms = 500;
  ep.health.healthy_threshold = 2;
  ep.health.unhealthy_threshold = 3;
  return ep;
}

class HealthCheckerE2eTest : public ::testing::Test {
 protected:
  struct Change {
    uint16_t port;
    bool healthy;
  };

  void SetUp() override {
    io_.call([&] {
      checker_ = std::make_unique<HealthChecker>(
          io_.io(), [this](const registry::Endpoint& ep, bool healthy) {
            std::lock_guard lock(mutex_);
            changes_.push_back({ep.port, healthy});
          });
    });
  }

  void TearDown() override {
    io_.call([&] { checker_.reset(); });
    io_.stop();
  }

  void setTargets(std::vector<registry::Endpoint> targets) {
    io_.call([&] { checker_->setTargets(targets); });
  }

  // Polls until healthy(ep) == want; returns the time it took, or nullopt after `timeout`.
  std::optional<milliseconds> waitHealthy(const registry::Endpoint& ep, bool want,
                                          milliseconds timeout = milliseconds(3000)) {
    auto start = Clock::now();
    while (Clock::now() - start < timeout) {
      if (checker_->healthy(ep) == want) {
        return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
      }
      std::this_thread::sleep_for(kPoll);
    }
    return std::nullopt;
  }

  // Polls until the checker's state for `ep` is `want` (unknown and unhealthy both answer
  // healthy() == false, so tests starting from unknown wait for the state itself).
  bool waitState(const registry::Endpoint& ep, HealthState want,
                 milliseconds timeout = milliseconds(3000)) {
    auto start = Clock::now();
    while (Clock::now() - start < timeout) {
      if (status(ep).state == want) {
        return true;
      }
      std::this_thread::sleep_for(kPoll);
    }
    return false;
  }

  EndpointHealth status(const registry::Endpoint& ep) {
    return checker_->status(ep).value_or(EndpointHealth{});
  }

  std::vector<Change> changes() {
    std::lock_guard lock(mutex_);
    return changes_;
  }

  IoThread io_;
  std::unique_ptr<HealthChecker> checker_;
  std::mutex mutex_;
  std::vector<Change> changes_;
};

TEST_F(HealthCheckerE2eTest, Http200BecomesHealthyAndSendsGetWithHost) {
  HttpServer server(200);
  ASSERT_TRUE(server.ok());
  auto ep = target(server.port(), HealthCheckKind::kHttp);
  setTargets({ep});

  ASSERT_TRUE(waitHealthy(ep, true)) << status(ep).last_error;
  EndpointHealth s = status(ep);
  EXPECT_EQ(s.state, HealthState::kHealthy);
  EXPECT_GE(s.checks, 1u);
  EXPECT_EQ(s.failures, 0u);
  EXPECT_GT(s.last_latency.count(), 0);
  auto heads = server.heads();
  ASSERT_FALSE(heads.empty());
  EXPECT_EQ(heads[0].rfind("GET /healthz HTTP/1.1\r\n", 0), 0u) << heads[0];
  std::string host = "Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n";
  EXPECT_NE(heads[0].find(host), std::string::npos) << heads[0];
  ASSERT_EQ(changes().size(), 1u);
  EXPECT_TRUE(changes()[0].healthy);
}

TEST_F(HealthCheckerE2eTest, Http500IsUnhealthyAfterThresholdAndRecovers) {
  HttpServer server(200);
  ASSERT_TRUE(server.ok());
  auto ep = target(server.port(), HealthCheckKind::kHttp);
  setTargets({ep});
  ASSERT_TRUE(waitHealthy(ep, true));

  server.setStatus(500);
  ASSERT_TRUE(waitHealthy(ep, false));
  EndpointHealth s = status(ep);
  EXPECT_EQ(s.state, HealthState::kUnhealthy);
  // Flipped on exactly the third failure in a row.
  EXPECT_GE(s.consecutive_failures, 3u);
  EXPECT_GE(s.failures, 3u);
  EXPECT_EQ(s.last_error, "HTTP status 500, expected 200");

  server.setStatus(200);
  ASSERT_TRUE(waitHealthy(ep, true));
  EXPECT_GE(status(ep).consecutive_successes, 2u);
  auto seen = changes();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_TRUE(seen[0].healthy);
  EXPECT_FALSE(seen[1].healthy);
  EXPECT_TRUE(seen[2].healthy);
}

TEST_F(HealthCheckerE2eTest, WrongExpectedStatusIsAFailure) {
  HttpServer server(204);
  ASSERT_TRUE(server.ok());
  auto ep = target(server.port(), HealthCheckKind::kHttp);
  auto other = ep;
  other.service = "api";
  other.health.expected_status = 204;
  setTargets({ep, other});
  ASSERT_TRUE(waitHealthy(other, true));
  ASSERT_TRUE(waitState(ep, HealthState::kUnhealthy));
  EXPECT_EQ(status(ep).last_error, "HTTP status 204, expected 200");
}

TEST_F(HealthCheckerE2eTest, StoppedServerLeavesWithinBoundAndReturns) {
  constexpr uint32_t kInterval = 50;
  auto server = std::make_unique<HttpServer>(200);
  ASSERT_TRUE(server->ok());
  uint16_t port = server->port();
  auto ep = target(port, HealthCheckKind::kHttp, kInterval);
  setTargets({ep});
  ASSERT_TRUE(waitHealthy(ep, true));
  std::this_thread::sleep_for(milliseconds(3 * kInterval));

  server.reset();
  // interval x unhealthy_threshold + one interval, plus a little scheduling slack.
  auto bound = milliseconds(kInterval * 3 + kInterval + 30);
  auto down = waitHealthy(ep, false, milliseconds(3000));
  ASSERT_TRUE(down);
  EXPECT_LE(*down, bound) << "took " << down->count() << " ms";
  EXPECT_NE(status(ep).last_error.find("connect"), std::string::npos) << status(ep).last_error;

  server = std::make_unique<HttpServer>(200, false, port);
  ASSERT_TRUE(server->ok());
  auto up = waitHealthy(ep, true, milliseconds(3000));
  ASSERT_TRUE(up);
  EXPECT_LE(*up, milliseconds(kInterval * 2 + kInterval + 30)) << "took " << up->count() << " ms";
  std::printf("health: down after %lld ms (bound %lld), up after %lld ms\n",
              static_cast<long long>(down->count()), static_cast<long long>(bound.count()),
              static_cast<long long>(up->count()));
}

TEST_F(HealthCheckerE2eTest, TcpProbe) {
  auto server = TcpNameServer::start("b1", AF_INET);
  ASSERT_NE(server, nullptr);
  auto ep = target(server->port(), HealthCheckKind::kTcp);
  setTargets({ep});
  ASSERT_TRUE(waitHealthy(ep, true));
  // The kernel completes the handshake before the server thread gets to accept().
  for (int i = 0; i < 200 && server->accepted() == 0; ++i) {
    std::this_thread::sleep_for(kPoll);
  }
  EXPECT_GE(server->accepted(), 1u);

  server.reset();
  ASSERT_TRUE(waitHealthy(ep, false));
  EXPECT_NE(status(ep).last_error.find("refused"), std::string::npos) << status(ep).last_error;
}

TEST_F(HealthCheckerE2eTest, BlackHolesDoNotDelayOtherEndpoints) {
  HttpServer good(200);
  HttpServer silent(200, /*silent=*/true);
  BlackHoleListener hole;
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(silent.ok());
  ASSERT_TRUE(hole.full()) << "could not fill the accept queue of the black-hole listener";

  auto good_ep = target(good.port(), HealthCheckKind::kHttp);
  auto silent_ep = target(silent.port(), HealthCheckKind::kHttp);
  auto hole_ep = target(hole.port(), HealthCheckKind::kTcp);
  auto hole_http = target(hole.port(), HealthCheckKind::kHttp);
  hole_http.service = "api";
  for (auto* ep : {&silent_ep, &hole_ep, &hole_http}) {
    ep->health.timeout_ms = 800;
    ep->health.unhealthy_threshold = 1;
  }
  setTargets({silent_ep, hole_ep, hole_http, good_ep});

  std::this_thread::sleep_for(milliseconds(600));
  // The black holes still wait on their first probe; the good endpoint went on meanwhile.
  EXPECT_EQ(status(silent_ep).checks, 0u);
  EXPECT_EQ(status(hole_ep).checks, 0u);
  EXPECT_TRUE(checker_->healthy(good_ep));
  EXPECT_GE(status(good_ep).checks, 8u);  // ~12 at 50 ms
  EXPECT_LE(good.maxGap(), milliseconds(100));

  ASSERT_TRUE(waitState(silent_ep, HealthState::kUnhealthy, milliseconds(2000)));
  ASSERT_TRUE(waitState(hole_ep, HealthState::kUnhealthy, milliseconds(2000)));
  ASSERT_TRUE(waitState(hole_http, HealthState::kUnhealthy, milliseconds(2000)));
  EXPECT_EQ(status(silent_ep).last_error, "read: timed out after 800 ms");
  EXPECT_EQ(status(hole_ep).last_error, "connect: timed out after 800 ms");
  EXPECT_EQ(status(silent_ep).state, HealthState::kUnhealthy);
  EXPECT_TRUE(checker_->healthy(good_ep));
  EXPECT_LE(good.maxGap(), milliseconds(100));
}

TEST_F(HealthCheckerE2eTest, SetTargetsKeepsUnchangedAndStopsRemoved) {
  HttpServer a(200);
  HttpServer b(200);
  ASSERT_TRUE(a.ok() && b.ok());
  auto ep_a = target(a.port(), HealthCheckKind::kHttp);
  auto ep_b = target(b.port(), HealthCheckKind::kHttp);
  setTargets({ep_a, ep_b});
  ASSERT_TRUE(waitHealthy(ep_a, true));
  ASSERT_TRUE(waitHealthy(ep_b, true));
  std::this_thread::sleep_for(milliseconds(200));
  uint64_t checks_a = status(ep_a).checks;

  // Same key and check, other metadata: state and counters carry over. B goes away.
  auto ep_a2 = ep_a;
  ep_a2.weight = 7;
  ep_a2.version = "v2";
  setTargets({ep_a2});
  EXPECT_TRUE(checker_->healthy(ep_a2));
  EXPECT_GE(status(ep_a2).checks, checks_a);
  EXPECT_FALSE(checker_->status(ep_b).has_value());
  EXPECT_FALSE(checker_->healthy(ep_b));
  uint64_t b_requests = b.requests();
  std::this_thread::sleep_for(milliseconds(250));
  EXPECT_LE(b.requests(), b_requests + 1);  // at most the probe in flight at removal
  EXPECT_GT(status(ep_a2).checks, checks_a);

  // A changed check keeps the verdict and probes with the new settings.
  auto ep_a3 = ep_a2;
  ep_a3.health.http_path = "/ready";
  setTargets({ep_a3});
  EXPECT_TRUE(checker_->healthy(ep_a3));
  auto start = Clock::now();
  bool saw_ready = false;
  while (!saw_ready && Clock::now() - start < milliseconds(2000)) {
    for (const auto& head : a.heads()) {
      saw_ready = saw_ready || head.rfind("GET /ready ", 0) == 0;
    }
    std::this_thread::sleep_for(kPoll);
  }
  EXPECT_TRUE(saw_ready);
}

TEST_F(HealthCheckerE2eTest, ManyEndpointsAreProbedConcurrently) {
  // 40 silent servers and one good one, with a 300 ms timeout: sequential probing would
  // take 12 s per round; concurrent probing keeps the good endpoint's 50 ms cadence.
  std::vector<std::unique_ptr<HttpServer>> silent;
  std::vector<registry::Endpoint> targets;
  for (int i = 0; i < 40; ++i) {
    silent.push_back(std::make_unique<HttpServer>(200, true));
    ASSERT_TRUE(silent.back()->ok());
    auto ep = target(silent.back()->port(), HealthCheckKind::kHttp);
    ep.health.timeout_ms = 300;
    ep.health.unhealthy_threshold = 1;
    targets.push_back(ep);
  }
  HttpServer good(200);
  ASSERT_TRUE(good.ok());
  auto good_ep = target(good.port(), HealthCheckKind::kHttp);
  targets.push_back(good_ep);
  setTargets(targets);

  ASSERT_TRUE(waitHealthy(good_ep, true));
  for (const auto& ep : targets) {
    if (ep.port != good.port()) {
      ASSERT_TRUE(waitState(ep, HealthState::kUnhealthy, milliseconds(2000))) << ep.port;
    }
  }
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_LE(good.maxGap(), milliseconds(100));
  EXPECT_TRUE(checker_->healthy(good_ep));
}

}  // namespace
}  // namespace weft::e2e
