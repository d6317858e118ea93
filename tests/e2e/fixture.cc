// SPDX-License-Identifier: Apache-2.0
// Shared setup for the agent end-to-end tests.
#include "tests/e2e/fixture.h"

#include <iostream>
#include <stdexcept>

namespace weft::e2e {
namespace {

constexpr size_t kLogTailBytes = 6000;

std::vector<std::string> endpointsOf(const ServiceSpec& svc) {
  std::vector<std::string> out;
  for (const BackendSpec& be : svc.backends) {
    auto ep = Endpoint::parse(be.address, static_cast<uint16_t>(be.port));
    out.push_back(ep ? ep->str() : be.address);
  }
  return out;
}

}  // namespace

void AgentTest::SetUp() {
  ASSERT_EQ(sandbox_.setupError(), "");
}

void AgentTest::TearDown() {
  if (!HasFailure()) {
    return;
  }
  std::string log = sandbox_.logText();
  if (log.size() > kLogTailBytes) {
    log = "...\n" + log.substr(log.size() - kLogTailBytes);
  }
  std::cerr << "---- weftd log (" << sandbox_.configPath() << ") ----\n" << log << "----\n";
}

TcpNameServer& AgentTest::tcpServer(const std::string& name, int family) {
  auto server = TcpNameServer::start(name, family);
  if (!server) {
    // GoogleTest reports the exception as a failure and still tears the test down.
    throw std::runtime_error("cannot start tcp server " + name);
  }
  tcp_servers_.push_back(std::move(server));
  return *tcp_servers_.back();
}

UdpNameServer& AgentTest::udpServer(const std::string& name, int family) {
  auto server = UdpNameServer::start(name, family);
  if (!server) {
    throw std::runtime_error("cannot start udp server " + name);
  }
  udp_servers_.push_back(std::move(server));
  return *udp_servers_.back();
}

void AgentTest::startAgent(const AgentConfig& config) {
  ASSERT_TRUE(sandbox_.writeConfig(config)) << "cannot write " << sandbox_.configPath();
  ASSERT_TRUE(sandbox_.startAgent()) << "cannot start weftd";
  // Serving the config's services is not enough when it declares none: the API socket and
  // the registry watch exist only from "agent ready" on.
  ASSERT_TRUE(sandbox_.waitForLog("agent ready", milliseconds(10000)))
      << "weftd did not become ready";
  ASSERT_NO_FATAL_FAILURE(expectServing(config));
}

void AgentTest::expectServing(const AgentConfig& config) {
  for (const ServiceSpec& svc : config.services) {
    std::string last;
    ASSERT_TRUE(sandbox_.waitForBackends(svc.name, endpointsOf(svc), milliseconds(10000), &last))
        << "service " << svc.name << " never showed its backends; last: " << last;
  }
}

Endpoint AgentTest::endpoint(const std::string& ip, uint16_t port) {
  auto ep = Endpoint::parse(ip, port);
  EXPECT_TRUE(ep.has_value()) << "bad address literal " << ip;
  return ep.value_or(Endpoint{});
}

BackendSpec backendOf(const TcpNameServer& server) {
  return {server.ip(), server.port()};
}
BackendSpec backendOf(const UdpNameServer& server) {
  return {server.ip(), server.port()};
}

}  // namespace weft::e2e
