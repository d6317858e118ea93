// SPDX-License-Identifier: Apache-2.0
// A service registered through the API is reached by its DNS name: a program in the mesh cgroup
// resolves it with getaddrinfo against weftd's DNS server and connects through the VIP it gets.
#include <gtest/gtest.h>
#include <netdb.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

using nlohmann::json;

constexpr milliseconds kIoTimeout(3000);
// The DNS records follow the same sync as the maps, posted right after them: a few retries
// cover the gap between a map showing the backend and the name answering.
constexpr int kResolveAttempts = 20;
constexpr milliseconds kResolveRetry(100);

// The "vip" of weftctl's JSON answer, or "" when it is not one.
std::string vipOf(const std::string& out) {
  json doc = json::parse(out, nullptr, false);
  return doc.is_object() ? doc.value("vip", "") : "";
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Gives the calling process (a forked mesh client) a private mount namespace in which
// `resolv_conf` is /etc/resolv.conf: the machine's resolver configuration is never touched.
std::string usePrivateResolver(const std::string& resolv_conf) {
  if (::unshare(CLONE_NEWNS) != 0) {
    return "unshare:" + errnoName(errno);
  }
  // Private first, so the bind mount below does not propagate back to the host.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return "mount-private:" + errnoName(errno);
  }
  if (::mount(resolv_conf.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0) {
    return "bind-resolv.conf:" + errnoName(errno);
  }
  return "";
}

// What an application does: getaddrinfo, connect to the first address, read the greeting.
// Reports every address returned, the backend's name and getpeername() of the socket.
json resolveAndConnect(const std::string& name, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) {
    return {{"error", std::string("getaddrinfo:") + ::gai_strerror(rc)}};
  }
  std::vector<std::string> addresses;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    addresses.push_back(Endpoint::fromSockaddr(ss, ai->ai_addrlen).str());
  }
  sockaddr_storage first{};
  std::memcpy(&first, found->ai_addr, found->ai_addrlen);
  Endpoint to = Endpoint::fromSockaddr(first, found->ai_addrlen);
  ::freeaddrinfo(found);

  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (int err = connectWithin(fd.get(), to, kIoTimeout); err != 0) {
    return {{"addresses", addresses}, {"error", "connect:" + errnoName(err)}};
  }
  int err = 0;
  auto greeting = recvLine(fd.get(), kIoTimeout, &err);
  return {{"addresses", addresses},
          {"backend", greeting ? *greeting : "error:recv:" + errnoName(err)},
          {"peer", peerOf(fd.get())}};
}

class RegistryDnsTest : public AgentTest {
 protected:
  void SetUp() override {
    AgentTest::SetUp();
    char dir[] = "/tmp/weft-dns-agent-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    resolv_conf_ = dir_ + "/resolv.conf";
    std::ofstream out(resolv_conf_);
    out << "nameserver 127.0.0.1\noptions timeout:1 attempts:2\n";
    ASSERT_TRUE(out.flush());
  }

  void TearDown() override {
    AgentTest::TearDown();
    std::error_code ec;
    if (dir_.rfind("/tmp/weft-dns-agent-", 0) == 0) {
      std::filesystem::remove_all(dir_, ec);
    }
  }

  CommandResult api(std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", config_.api_socket});
    return sandbox_.weftctl(args);
  }

  // Runs resolveAndConnect in a mesh client with the private resolver; retries (at most
  // `attempts` runs) while the name does not resolve yet.
  json resolveInMesh(const std::string& name, uint16_t port, int attempts = kResolveAttempts) {
    json result;
    for (int attempt = 0; attempt < attempts; ++attempt) {
      std::string text = runClient(sandbox_.procsFile(), [&] {
        std::string failed = usePrivateResolver(resolv_conf_);
        json out = failed.empty() ? resolveAndConnect(name, port) : json{{"error", failed}};
        return out.dump();
      });
      result = json::parse(text, nullptr, false);
      if (!result.is_object()) {
        return {{"error", text}};
      }
      if (result.value("error", "").rfind("getaddrinfo:", 0) != 0) {
        return result;
      }
      std::this_thread::sleep_for(kResolveRetry);
    }
    return result;
  }

  AgentConfig config_;
  std::string dir_;
  std::string resolv_conf_;
};

TEST_F(RegistryDnsTest, ApiServiceIsReachedByItsDnsNameFromTheMesh) {
  // glibc's resolver only asks port 53: weftd binds it on 127.0.0.1 of the test's own
  // network namespace, never the host's.
  config_ = sandbox_.baseConfig();
  config_.dns_listen = "127.0.0.1:53";
  ASSERT_NO_FATAL_FAILURE(startAgent(config_));
  ASSERT_TRUE(sandbox_.waitForLog("agent ready", milliseconds(10000))) << sandbox_.logText();

  // Two services, so the test tells a right answer from any answer.
  auto& b1 = tcpServer("b1");
  auto& b2 = tcpServer("b2");
  std::vector<std::string> vips;
  for (const auto& [service, backend] : {std::pair{"web", &b1}, std::pair{"api", &b2}}) {
    auto reg = api({"-o", "json", "service", "register", service, "--port", "80/tcp"});
    ASSERT_EQ(reg.exit_code, 0) << reg.out << reg.err;
    vips.push_back(vipOf(reg.out));
    auto ep = api({"endpoint", "register", service, "--host", backend->ip(), "--port",
                   std::to_string(backend->port())});
    ASSERT_EQ(ep.exit_code, 0) << ep.out << ep.err;
    ASSERT_TRUE(
        sandbox_.waitForBackends(service, {"127.0.0.1:" + std::to_string(backend->port())}));
  }
  ASSERT_FALSE(vips[0].empty());
  ASSERT_FALSE(vips[1].empty());
  std::string host_resolv = readFile("/etc/resolv.conf");
  std::string host_mounts = readFile("/proc/self/mountinfo");

  json web = resolveInMesh("web.default.svc.cluster.local", 80);
  EXPECT_EQ(web.value("addresses", json::array()), json::array({vips[0] + ":80"})) << web;
  EXPECT_EQ(web.value("backend", ""), "b1") << web;
  EXPECT_EQ(web.value("peer", ""), vips[0] + ":80") << web;

  json api_answer = resolveInMesh("api.default.svc.cluster.local", 80);
  EXPECT_EQ(api_answer.value("backend", ""), "b2") << api_answer;
  EXPECT_EQ(api_answer.value("peer", ""), vips[1] + ":80") << api_answer;

  // An unknown name in the domain fails to resolve; nothing is connected.
  json missing = resolveInMesh("nope.default.svc.cluster.local", 80, 1);
  EXPECT_EQ(missing.value("error", "").rfind("getaddrinfo:", 0), 0u) << missing;

  EXPECT_EQ(readFile("/etc/resolv.conf"), host_resolv);
  EXPECT_EQ(readFile("/proc/self/mountinfo"), host_mounts);
}

}  // namespace
}  // namespace weft::e2e
