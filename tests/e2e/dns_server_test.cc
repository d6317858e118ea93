// SPDX-License-Identifier: Apache-2.0
// The DNS server against real clients in the test's network namespace: dig over UDP and
// TCP (A, AAAA, SRV, NXDOMAIN, REFUSED, forwarding to a second local server, SERVFAIL on
// upstream timeout), raw malformed packets, and getaddrinfo through `getent ahosts` in a
// child whose private mount namespace sees its own /etc/resolv.conf.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/health_dns_io_thread.h"
#include "tests/e2e/process.h"
#include "tests/e2e/sockets.h"
#include "userspace/dns/dns_server.h"

namespace weft::e2e {
namespace {

using dns::DnsOptions;
using dns::DnsServer;
using dns::SocketAddress;
using Clock = std::chrono::steady_clock;

registry::Service service(const std::string& name, const std::string& ns, const char* vip,
                          std::vector<registry::ServicePort> ports) {
  registry::Service s;
  s.name = name;
  s.ns = ns;
  s.vip = *IpAddr::parse(vip);
  s.ports = std::move(ports);
  return s;
}

std::vector<registry::Service> sampleServices() {
  return {
      service("web", "default", "10.96.0.10",
              {{"http", 80, WEFT_PROTO_TCP}, {"metrics", 9090, WEFT_PROTO_TCP}}),
      service("api", "prod", "fd00:96::20", {{"grpc", 443, WEFT_PROTO_TCP}}),
  };
}

SocketAddress loopback(uint16_t port) {
  return SocketAddress{*IpAddr::parse("127.0.0.1"), port};
}

// The ";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: ..." field of dig's output.
std::string digStatus(const std::string& out) {
  size_t at = out.find("status: ");
  if (at == std::string::npos) {
    return "no status in: " + out;
  }
  size_t end = out.find(',', at);
  return out.substr(at + 8, end - at - 8);
}

class DnsServerE2eTest : public ::testing::Test {
 protected:
  void TearDown() override {
    io_.call([&] {
      server_.reset();
      upstream_.reset();
    });
    io_.stop();
  }

  // Starts a server on 127.0.0.1 (port 0 unless given) serving sampleServices().
  DnsServer* startServer(DnsOptions options, std::unique_ptr<DnsServer>* slot,
                         const std::vector<registry::Service>& services = sampleServices()) {
    DnsServer* out = nullptr;
    io_.call([&] {
      auto started = DnsServer::start(io_.io(), options);
      if (!started) {
        ADD_FAILURE() << started.error().message;
        return;
      }
      *slot = std::move(*started);
      (*slot)->setRecords(services);
      out = slot->get();
    });
    return out;
  }

  DnsServer* startDefault(std::optional<SocketAddress> forward = std::nullopt) {
    DnsOptions options;
    options.listen = loopback(0);
    options.forward = forward;
    options.forward_timeout = milliseconds(300);
    return startServer(options, &server_);
  }

  // dig against `server`; `extra` holds the name, type and flags.
  CommandResult dig(const DnsServer& server, std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        toolPath("dig"), "@127.0.0.1", "-p", std::to_string(server.localAddress().port),
        "+tries=1",      "+time=3"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return runCommand(argv, milliseconds(10000));
  }

  std::string digShort(const DnsServer& server, std::vector<std::string> extra) {
    extra.push_back("+short");
    CommandResult r = dig(server, extra);
    EXPECT_EQ(r.exit_code, 0) << joinArgs(extra) << ": " << r.err;
    return r.out;
  }

  IoThread io_;
  std::unique_ptr<DnsServer> server_;
  std::unique_ptr<DnsServer> upstream_;
};

TEST_F(DnsServerE2eTest, DigAnswersAddressRecords) {
  DnsServer* server = startDefault();
  ASSERT_NE(server, nullptr);

  EXPECT_EQ(digShort(*server, {"web.default.svc.cluster.local", "A"}), "10.96.0.10\n");
  EXPECT_EQ(digShort(*server, {"api.prod.svc.cluster.local", "AAAA"}), "fd00:96::20\n");
  EXPECT_EQ(digShort(*server, {"Web.Default.SVC.cluster.local.", "A"}), "10.96.0.10\n");
  EXPECT_EQ(digShort(*server, {"web.default.svc.cluster.local", "A", "+tcp"}), "10.96.0.10\n");

  // NODATA: the name exists, the family does not.
  CommandResult nodata = dig(*server, {"web.default.svc.cluster.local", "AAAA"});
  EXPECT_EQ(digStatus(nodata.out), "NOERROR");
  EXPECT_NE(nodata.out.find("ANSWER: 0,"), std::string::npos) << nodata.out;
  EXPECT_NE(nodata.out.find("flags: qr aa rd;"), std::string::npos) << nodata.out;
}

TEST_F(DnsServerE2eTest, DigAnswersSrv) {
  DnsServer* server = startDefault();
  ASSERT_NE(server, nullptr);

  EXPECT_EQ(digShort(*server, {"_http._tcp.web.default.svc.cluster.local", "SRV"}),
            "0 100 80 web.default.svc.cluster.local.\n");
  EXPECT_EQ(digShort(*server, {"web.default.svc.cluster.local", "SRV"}),
            "0 100 80 web.default.svc.cluster.local.\n"
            "0 100 9090 web.default.svc.cluster.local.\n");
  CommandResult full = dig(*server, {"_grpc._tcp.api.prod.svc.cluster.local", "SRV"});
  EXPECT_EQ(digStatus(full.out), "NOERROR");
  // The target's address rides along in the additional section.
  EXPECT_NE(full.out.find("api.prod.svc.cluster.local. 5\tIN\tAAAA\tfd00:96::20"),
            std::string::npos)
      << full.out;
}

TEST_F(DnsServerE2eTest, DigSeesNxdomainAndRefused) {
  DnsServer* server = startDefault();
  ASSERT_NE(server, nullptr);

  CommandResult nx = dig(*server, {"nope.default.svc.cluster.local", "A"});
  EXPECT_EQ(digStatus(nx.out), "NXDOMAIN");
  EXPECT_NE(nx.out.find("AUTHORITY: 1"), std::string::npos) << nx.out;
  CommandResult refused = dig(*server, {"example.com", "A"});
  EXPECT_EQ(digStatus(refused.out), "REFUSED");
  CommandResult refused_tcp = dig(*server, {"example.com", "A", "+tcp"});
  EXPECT_EQ(digStatus(refused_tcp.out), "REFUSED");

  dns::DnsStats stats = server->stats();
  EXPECT_EQ(stats.nxdomain, 1u);
  EXPECT_EQ(stats.refused, 2u);
  EXPECT_EQ(stats.tcp_queries, 1u);
}

TEST_F(DnsServerE2eTest, RecordUpdatesAreServedAtOnce) {
  DnsServer* server = startDefault();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(digShort(*server, {"web.default.svc.cluster.local", "A"}), "10.96.0.10\n");
  // setRecords from this (non-io) thread: it is thread-safe.
  server->setRecords({service("web", "default", "10.96.0.77", {{"", 80, WEFT_PROTO_TCP}})});
  EXPECT_EQ(digShort(*server, {"web.default.svc.cluster.local", "A"}), "10.96.0.77\n");
  EXPECT_EQ(digStatus(dig(*server, {"api.prod.svc.cluster.local", "AAAA"}).out), "NXDOMAIN");
}

TEST_F(DnsServerE2eTest, ForwardsOtherNamesToTheConfiguredUpstream) {
  DnsOptions up;
  up.listen = loopback(0);
  up.domain = "upstream.test";
  DnsServer* upstream = startServer(
      up, &upstream_, {service("far", "remote", "10.97.0.5", {{"", 80, WEFT_PROTO_TCP}})});
  ASSERT_NE(upstream, nullptr);
  DnsServer* server = startDefault(upstream->localAddress());
  ASSERT_NE(server, nullptr);

  EXPECT_EQ(digShort(*server, {"far.remote.svc.upstream.test", "A"}), "10.97.0.5\n");
  EXPECT_EQ(digShort(*server, {"far.remote.svc.upstream.test", "A", "+tcp"}), "10.97.0.5\n");
  // The upstream's own answers come back unchanged: NXDOMAIN and REFUSED from it.
  EXPECT_EQ(digStatus(dig(*server, {"gone.remote.svc.upstream.test", "A"}).out), "NXDOMAIN");
  CommandResult other = dig(*server, {"example.com", "A"});
  EXPECT_EQ(digStatus(other.out), "REFUSED");
  // Local names never go upstream.
  EXPECT_EQ(digShort(*server, {"web.default.svc.cluster.local", "A"}), "10.96.0.10\n");

  EXPECT_EQ(server->stats().forwarded, 4u);
  EXPECT_EQ(server->stats().forward_failures, 0u);
  EXPECT_EQ(upstream->stats().udp_queries, 4u);
}

TEST_F(DnsServerE2eTest, SilentUpstreamGivesServfailAfterTimeout) {
  // A bound UDP socket that never answers stands in for a dead upstream.
  auto ep = Endpoint::parse("127.0.0.1", 0);
  ASSERT_TRUE(ep.has_value());
  UniqueFd silent(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(silent.get(), ep->sa(), ep->len), 0);
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ASSERT_EQ(::getsockname(silent.get(), reinterpret_cast<sockaddr*>(&ss), &len), 0);
  uint16_t port = Endpoint::fromSockaddr(ss, len).port();

  DnsServer* server = startDefault(loopback(port));
  ASSERT_NE(server, nullptr);
  auto start = Clock::now();
  CommandResult r = dig(*server, {"example.com", "A"});
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_EQ(digStatus(r.out), "SERVFAIL");
  EXPECT_GE(took, milliseconds(250));
  EXPECT_EQ(server->stats().forward_failures, 1u);
}

// Sends raw bytes over UDP and returns the reply (empty on timeout).
std::vector<uint8_t> rawExchange(uint16_t port, const std::vector<uint8_t>& query,
                                 milliseconds timeout = milliseconds(2000)) {
  auto ep = Endpoint::parse("127.0.0.1", port);
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!ep || ::connect(fd.get(), ep->sa(), ep->len) != 0 ||
      ::send(fd.get(), query.data(), query.size(), 0) != static_cast<ssize_t>(query.size())) {
    return {};
  }
  pollfd p{fd.get(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
    return {};
  }
  std::vector<uint8_t> reply(65535);
  ssize_t n = ::recv(fd.get(), reply.data(), reply.size(), 0);
  reply.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return reply;
}

TEST_F(DnsServerE2eTest, MalformedPacketsGetFormerrAndTheServerKeepsServing) {
  DnsServer* server = startDefault();
  ASSERT_NE(server, nullptr);
  uint16_t port = server->localAddress().port;
  // id 0xabcd, RD, one question whose name is a pointer to itself.
  std::vector<uint8_t> loop = {0xab, 0xcd, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  auto reply = rawExchange(port, loop);
  ASSERT_GE(reply.size(), 12u);
  EXPECT_EQ(reply[0], 0xab);
  EXPECT_EQ(reply[1], 0xcd);
  EXPECT_EQ(reply[3] & 0xf, 1);  // FORMERR

  // A label length running past the end.
  std::vector<uint8_t> cut = {0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 40, 'a', 'b'};
  reply = rawExchange(port, cut);
  ASSERT_GE(reply.size(), 12u);
  EXPECT_EQ(reply[3] & 0xf, 1);

  // A runt gets nothing; the server still answers afterwards.
  EXPECT_TRUE(rawExchange(port, {1, 2, 3}, milliseconds(300)).empty());
  EXPECT_EQ(digShort(*server, {"web.default.svc.cluster.local", "A"}), "10.96.0.10\n");
  EXPECT_EQ(server->stats().formerr, 2u);
  EXPECT_EQ(server->stats().dropped, 1u);
}

TEST_F(DnsServerE2eTest, RejectsBadOptionsWithTheFieldName) {
  DnsOptions bad;
  bad.listen = loopback(0);
  bad.domain = "bad_domain";
  auto r = DnsServer::start(io_.io(), bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("dns.domain: ", 0), 0u) << r.error().message;

  DnsServer* server = startDefault();
  ASSERT_NE(server, nullptr);
  DnsOptions taken;
  taken.listen = server->localAddress();
  auto busy = DnsServer::start(io_.io(), taken);
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.error().message.find("dns.listen: 127.0.0.1:"), std::string::npos);
  EXPECT_NE(busy.error().message.find("in use"), std::string::npos) << busy.error().message;
}

// Runs `getent ahosts NAME` in a child that first enters a new mount namespace, makes every
// mount private (so nothing propagates back to the host) and bind-mounts `resolv_conf` over
// /etc/resolv.conf. getent resolves through getaddrinfo() like any application.
CommandResult getentWithResolver(const std::string& resolv_conf, const std::string& name) {
  CommandResult result;
  std::string getent = toolPath("getent");
  std::vector<std::string> args = {getent, "ahosts", name};
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return result;
  }

  pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::unshare(CLONE_NEWNS) != 0) {
      ::_exit(90);
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      ::_exit(91);
    }
    if (::mount(resolv_conf.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0) {
      ::_exit(92);
    }
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(out[1], STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  if (pid < 0) {
    ::close(out[0]);
    return result;
  }

  auto deadline = Clock::now() + milliseconds(10000);
  while (Clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      continue;
    }
    char buf[4096];
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n <= 0) {
      break;
    }
    result.out.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  for (int i = 0; i < 500 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return result;
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(DnsServerE2eTest, GetaddrinfoResolvesServiceNames) {
  // glibc's resolver only talks to port 53: bind it on 127.0.0.1 of this test's private
  // network namespace, never the host's.
  DnsOptions options;
  options.listen = loopback(53);
  DnsServer* server = startServer(options, &server_);
  ASSERT_NE(server, nullptr);

  char dir_template[] = "/tmp/weft-dns-e2e-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  std::string dir = dir_template;
  std::string resolv = dir + "/resolv.conf";
  {
    std::ofstream f(resolv);
    f << "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n";
  }
  std::string host_before = readFile("/etc/resolv.conf");
  std::string mounts_before = readFile("/proc/self/mountinfo");

  CommandResult v4 = getentWithResolver(resolv, "web.default.svc.cluster.local");
  CommandResult v6 = getentWithResolver(resolv, "api.prod.svc.cluster.local");
  CommandResult missing = getentWithResolver(resolv, "nope.default.svc.cluster.local");
  ::unlink(resolv.c_str());
  ::rmdir(dir.c_str());

  EXPECT_EQ(v4.exit_code, 0) << v4.out;
  EXPECT_EQ(v4.out.rfind("10.96.0.10 ", 0), 0u) << v4.out;
  EXPECT_NE(v4.out.find("STREAM web.default.svc.cluster.local"), std::string::npos) << v4.out;
  EXPECT_EQ(v6.exit_code, 0) << v6.out;
  EXPECT_EQ(v6.out.rfind("fd00:96::20 ", 0), 0u) << v6.out;
  EXPECT_EQ(missing.exit_code, 2) << missing.out;  // getent: key not found
  EXPECT_GE(server->stats().udp_queries, 4u);
  // The host's file and mount table are untouched.
  EXPECT_EQ(readFile("/etc/resolv.conf"), host_before);
  EXPECT_EQ(readFile("/proc/self/mountinfo"), mounts_before);
}

}  // namespace
}  // namespace weft::e2e
