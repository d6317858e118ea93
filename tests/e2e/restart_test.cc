// SPDX-License-Identifier: Apache-2.0
// Agent restarts: pinned links keep balancing while weftd is dead, and the new agent
// adopts the pinned state instead of rebuilding it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// The client loop ends at whichever comes first. The pause keeps thousands of
// connects spread over the whole restart instead of finishing before it begins.
constexpr int kMaxConnects = 20000;
constexpr milliseconds kMaxLoop(10000);
constexpr std::chrono::microseconds kPause(300);
// Connects made after the test says the new agent is up.
constexpr int kConnectsAfterStop = 200;
constexpr int kConnectsBeforeReport = 50;

size_t countOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// Connects in a loop until told to stop (plus a tail) or a bound is hit; reports the
// number of connects and of failures with the first failure's text.
void connectLoop(Channel& channel, const Endpoint& vip) {
  auto deadline = Clock::now() + kMaxLoop;
  int total = 0;
  int failures = 0;
  int stop_at = kMaxConnects;
  std::string first_failure;
  while (total < stop_at && Clock::now() < deadline) {
    std::string name = fetchName(vip);
    ++total;
    if (name.rfind("error:", 0) == 0) {
      first_failure = failures++ == 0 ? name : first_failure;
    }
    if (total == kConnectsBeforeReport) {
      channel.send("running");
    }
    if (stop_at == kMaxConnects && channel.poll()) {
      stop_at = std::min(kMaxConnects, total + kConnectsAfterStop);
    }
    std::this_thread::sleep_for(kPause);
  }
  channel.send(json{{"total", total},
                    {"failures", failures},
                    {"first_failure", first_failure},
                    {"stopped", stop_at != kMaxConnects}}
                   .dump());
}

TEST_F(AgentTest, RestartUnderLoadLosesNoConnectionAndAdoptsState) {
  auto& b1 = tcpServer("b1");
  auto& b2 = tcpServer("b2");
  auto& b3 = tcpServer("b3");
  AgentConfig config = sandbox_.baseConfig();
  std::vector<BackendSpec> backends = {backendOf(b1), backendOf(b2), backendOf(b3)};
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "round_robin", backends});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  ASSERT_TRUE(sandbox_.waitForLog("agent ready", milliseconds(10000)));
  auto before = sandbox_.backendList("web");
  ASSERT_TRUE(before.has_value());
  Endpoint vip = endpoint("10.96.0.10", 80);

  MeshClient client =
      MeshClient::start(sandbox_.procsFile(), [&](Channel& channel) { connectLoop(channel, vip); });
  ASSERT_GT(client.pid(), 0);
  ASSERT_EQ(client.channel().receive(milliseconds(5000)), "running");

  sandbox_.agent().kill();
  ASSERT_TRUE(sandbox_.startAgent());
  // The log is appended across runs: the second "agent ready" is the new agent's.
  auto deadline = Clock::now() + milliseconds(10000);
  while (countOf(sandbox_.logText(), "agent ready") < 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_EQ(countOf(sandbox_.logText(), "agent ready"), 2u);
  ASSERT_NO_FATAL_FAILURE(expectServing(config));
  auto after = sandbox_.backendList("web");

  ASSERT_TRUE(client.channel().send("stop"));
  auto raw = client.channel().receive(milliseconds(15000));
  ASSERT_TRUE(raw.has_value());
  json report = json::parse(*raw, nullptr, false);
  EXPECT_EQ(report["failures"], 0) << *raw;
  EXPECT_EQ(report["stopped"], true) << *raw;
  EXPECT_GE(report.value("total", 0), kConnectsBeforeReport + kConnectsAfterStop) << *raw;

  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->size(), before->size());
  for (size_t i = 0; i < before->size(); ++i) {
    EXPECT_EQ((*after)[i].backend_id, (*before)[i].backend_id) << (*before)[i].endpoint();
    EXPECT_EQ((*after)[i].endpoint(), (*before)[i].endpoint());
  }
}

}  // namespace
}  // namespace weft::e2e
