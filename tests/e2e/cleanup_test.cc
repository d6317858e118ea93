// SPDX-License-Identifier: Apache-2.0
// Lifecycle: SIGTERM leaves the data path in place; `weftd --cleanup` removes every
// pin and cgroup attachment it made, so the cgroup can be removed.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <string>

#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

namespace fs = std::filesystem;

// Files (pins) left under `root`, directories not counted; "" when none.
std::string pinsUnder(const std::string& root) {
  std::string found;
  std::error_code ec;
  if (!fs::exists(root, ec)) {
    return found;
  }
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_directory(ec)) {
      found += it->path().string() + " ";
    }
  }
  return found;
}

TEST_F(AgentTest, CleanupRemovesPinsAndAttachments) {
  auto& b1 = tcpServer("b1");
  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "round_robin", {backendOf(b1)}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint vip = endpoint("10.96.0.10", 80);

  // SIGTERM: a clean exit that keeps links pinned, so balancing continues.
  int status = sandbox_.agent().stop(milliseconds(5000));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  EXPECT_NE(pinsUnder(sandbox_.bpffsRoot()), "");
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return fetchName(vip); }), "b1");

  CommandResult cleanup = sandbox_.cleanupAgent();
  ASSERT_EQ(cleanup.exit_code, 0) << cleanup.err;
  EXPECT_EQ(pinsUnder(sandbox_.bpffsRoot()), "");

  CommandResult attached =
      runCommand({toolPath("bpftool"), "cgroup", "show", sandbox_.cgroupPath()});
  EXPECT_EQ(attached.exit_code, 0) << attached.err;
  EXPECT_EQ(attached.out, "");
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return fetchName(vip); }),
            "error:connect:ENETUNREACH");
  EXPECT_TRUE(sandbox_.removeCgroup());
}

// Started twice by mistake: the second agent must leave the first one's programs and maps alone.
TEST_F(AgentTest, ASecondAgentOnTheSameConfigStopsBeforeTouchingTheDataPlane) {
  auto& b1 = tcpServer("b1");
  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "round_robin", {backendOf(b1)}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));

  CommandResult second = sandbox_.runSecondAgent(milliseconds(15000));
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_NE(second.err.find("another process listens on it (is weftd already running?)"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(second.err.find("data plane attached"), std::string::npos) << second.err;
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return fetchName(endpoint("10.96.0.10", 80)); }),
            "b1");
}

}  // namespace
}  // namespace weft::e2e
