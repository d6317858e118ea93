// SPDX-License-Identifier: Apache-2.0
// Two agents on one etcd, each in its own network namespace like two hosts: what is registered
// through one agent's API reaches the other agent's BPF maps through the etcd watch, both ways.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/etcd_server.h"
#include "tests/e2e/fixture.h"
#include "tests/e2e/peer_netns.h"

namespace weft::e2e {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kReady(10000);
constexpr milliseconds kPropagation(10000);
constexpr size_t kLogTailBytes = 4000;

// The "vip" of weftctl's JSON answer, or "" when it is not one.
std::string vipOf(const std::string& out) {
  json doc = json::parse(out, nullptr, false);
  return doc.is_object() ? doc.value("vip", "") : "";
}

// The network namespace of `pid` ("net:[4026532...]"), or "" when it cannot be read.
std::string netnsOf(pid_t pid) {
  std::error_code ec;
  auto target = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/ns/net", ec);
  return ec ? "" : target.string();
}

std::string tail(const std::string& text) {
  return text.size() > kLogTailBytes ? "...\n" + text.substr(text.size() - kLogTailBytes) : text;
}

// Host A is the test's namespace: etcd (on A's end of the veth pair), the backends and the
// first agent. Host B is a peer namespace holding the second agent and its clients; it reaches
// etcd and the backends only over the veth pair, whose addresses exist nowhere else.
class EtcdAgentsTest : public AgentTest {
 protected:
  void TearDown() override {
    AgentTest::TearDown();
    if (!HasFailure()) {
      return;
    }
    if (second_) {
      std::cerr << "---- second weftd log ----\n" << tail(second_->logText()) << "----\n";
    }
    if (etcd_) {
      std::cerr << "---- etcd log ----\n" << tail(etcd_->logText()) << "----\n";
    }
  }

  AgentConfig etcdConfig(const Sandbox& host) const {
    AgentConfig config = host.baseConfig();
    config.registry_store = "etcd";
    config.etcd_endpoints = {etcd_->clientUrl()};
    config.etcd_prefix = "/weft-e2e-" + std::to_string(::getpid()) + "/";
    return config;
  }

  // Registers service `name` (80/tcp) and one endpoint through `host`'s weftctl and API
  // socket; returns the VIP the registry allocated, or "" after a failed assertion.
  std::string registerService(Sandbox& host, const std::string& socket, const std::string& name,
                              const TcpNameServer& backend) {
    auto reg = host.weftctl(
        {"--socket", socket, "-o", "json", "service", "register", name, "--port", "80/tcp"});
    EXPECT_EQ(reg.exit_code, 0) << reg.out << reg.err;
    auto ep = host.weftctl({"--socket", socket, "endpoint", "register", name, "--host",
                            backend.ip(), "--port", std::to_string(backend.port())});
    EXPECT_EQ(ep.exit_code, 0) << ep.out << ep.err;
    return vipOf(reg.out);
  }

  TcpNameServer& backendOnVeth(const std::string& name) {
    auto server = TcpNameServer::startOn(name, peer_.localIp());
    if (!server) {
      throw std::runtime_error("cannot start tcp server " + name + " on " + peer_.localIp());
    }
    tcp_servers_.push_back(std::move(server));
    return *tcp_servers_.back();
  }

  // Destroyed in reverse: the second agent stops, then etcd, then the namespace goes.
  PeerNetns peer_;
  std::unique_ptr<EtcdServer> etcd_;
  std::unique_ptr<Sandbox> second_;
};

TEST_F(EtcdAgentsTest, TwoAgentsInTwoNamespacesSeeEachOthersRegistrations) {
  ASSERT_EQ(peer_.setupError(), "");
  etcd_ = std::make_unique<EtcdServer>(peer_.localIp());
  std::string error;
  ASSERT_TRUE(etcd_->start(&error)) << error;

  AgentConfig first = etcdConfig(sandbox_);
  ASSERT_NO_FATAL_FAILURE(startAgent(first));
  ASSERT_TRUE(sandbox_.waitForLog("agent ready", kReady)) << sandbox_.logText();

  second_ = std::make_unique<Sandbox>();
  ASSERT_EQ(second_->setupError(), "");
  second_->setCommandPrefix(peer_.commandPrefix());
  AgentConfig second = etcdConfig(*second_);
  ASSERT_TRUE(second_->writeConfig(second));
  ASSERT_TRUE(second_->startAgent());
  ASSERT_TRUE(second_->waitForLog("agent ready", kReady)) << second_->logText();
  ASSERT_NE(netnsOf(second_->agent().pid()), "");
  ASSERT_NE(netnsOf(second_->agent().pid()), netnsOf(sandbox_.agent().pid()));

  // Registered through A, balanced by B's maps for a client in B's cgroup and namespace; its
  // connect crosses the veth pair. The backend's loopback address is not reachable from B.
  TcpNameServer& b1 = backendOnVeth("b1");
  std::string web_vip = registerService(sandbox_, first.api_socket, "web", b1);
  ASSERT_FALSE(web_vip.empty());
  std::string last;
  ASSERT_TRUE(second_->waitForBackends("web", {peer_.localIp() + ":" + std::to_string(b1.port())},
                                       kPropagation, &last))
      << last;
  Endpoint web = endpoint(web_vip, 80);
  Endpoint b1_loopback = endpoint("127.0.0.1", b1.port());
  std::string in_b = runClient(second_->procsFile(), [&] {
    if (!peer_.enter()) {
      return std::string("error:setns");
    }
    return countNames(web, 3) + " loopback:" + fetchName(b1_loopback, milliseconds(500));
  });
  EXPECT_EQ(in_b, "b1=3 loopback:error:connect:ECONNREFUSED");

  // Registered through B (weftctl in B), balanced by A's maps for a client in A's cgroup.
  TcpNameServer& b2 = backendOnVeth("b2");
  std::string api_vip = registerService(*second_, second.api_socket, "api", b2);
  ASSERT_FALSE(api_vip.empty());
  EXPECT_NE(api_vip, web_vip);
  ASSERT_TRUE(sandbox_.waitForBackends("api", {peer_.localIp() + ":" + std::to_string(b2.port())},
                                       kPropagation, &last))
      << last;
  Endpoint api = endpoint(api_vip, 80);
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(api, 3); }), "b2=3");

  // Removed through B, gone from A's maps.
  auto dereg = second_->weftctl({"--socket", second.api_socket, "service", "deregister", "web"});
  ASSERT_EQ(dereg.exit_code, 0) << dereg.err;
  auto deadline = Clock::now() + kPropagation;
  bool gone = false;
  while (!gone && Clock::now() < deadline) {
    auto list = sandbox_.weftctl({"-o", "json", "service", "list"});
    gone = list.exit_code == 0 && list.out.find("web.default") == std::string::npos;
    if (!gone) {
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
  EXPECT_TRUE(gone);
  EXPECT_TRUE(second_->waitForBackends("api", {peer_.localIp() + ":" + std::to_string(b2.port())},
                                       kPropagation, &last))
      << last;
}

}  // namespace
}  // namespace weft::e2e
