// SPDX-License-Identifier: Apache-2.0
// GoogleTest fixture shared by the agent end-to-end tests: a sandbox, loopback
// backends, and helpers that start weftd and wait until it serves a config.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/mesh_client.h"
#include "tests/e2e/sandbox.h"
#include "tests/e2e/servers.h"

namespace weft::e2e {

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override;
  // Prints the agent log when the test failed, so the cause is in the test output.
  void TearDown() override;

  // Starts a loopback backend owned by the fixture; throws (failing the test) if it cannot.
  TcpNameServer& tcpServer(const std::string& name, int family = AF_INET);
  UdpNameServer& udpServer(const std::string& name, int family = AF_INET);

  // Writes `config`, starts weftd and waits until it logged "agent ready" and every service
  // lists its backends.
  // Use with ASSERT_NO_FATAL_FAILURE.
  void startAgent(const AgentConfig& config);
  // Waits until every service of `config` lists exactly its backends.
  void expectServing(const AgentConfig& config);

  // Endpoint of a vip or backend; fails the test on a bad literal.
  static Endpoint endpoint(const std::string& ip, uint16_t port);

  // Declared first so they outlive the sandbox: weftd stops before its backends do.
  std::vector<std::unique_ptr<TcpNameServer>> tcp_servers_;
  std::vector<std::unique_ptr<UdpNameServer>> udp_servers_;
  Sandbox sandbox_;
};

BackendSpec backendOf(const TcpNameServer& server);
BackendSpec backendOf(const UdpNameServer& server);

}  // namespace weft::e2e
