// SPDX-License-Identifier: Apache-2.0
// Everything one end-to-end test owns: a child cgroup, a bpffs root, a temp dir with
// the weftd config and log, and the weftd process. Torn down on destruction, also when
// the test failed: weftd stopped by PID, `weftd --cleanup`, pins removed, cgroup removed.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/e2e/cgroup.h"
#include "tests/e2e/config.h"
#include "tests/e2e/process.h"

namespace weft::e2e {

using std::chrono::milliseconds;

// One row of `weftctl backend list -o json`.
struct BackendRow {
  std::string service;
  uint32_t backend_id = 0;
  std::string address;
  uint32_t port = 0;
  std::string protocol;
  std::string state;
  // "127.0.0.1:8081" or "[::1]:8081", canonical, for comparing sets.
  std::string endpoint() const;
};

class Sandbox {
 public:
  Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;
  ~Sandbox();

  // Empty when setup succeeded, else what failed.
  const std::string& setupError() const { return setup_error_; }
  const std::string& cgroupPath() const { return cgroup_.path(); }
  const std::string& procsFile() const { return cgroup_.procsFile(); }
  const std::string& bpffsRoot() const { return bpffs_root_; }
  const std::string& configPath() const { return config_path_; }

  // Removes the test cgroup now (teardown would); true when it is gone.
  bool removeCgroup() { return cgroup_.remove(); }

  // A config with this sandbox's cgroup and bpffs root and no services.
  AgentConfig baseConfig() const;
  // Replaces the config file atomically (write + rename), so an agent watching it
  // never reads half a file.
  bool writeConfig(const AgentConfig& config);
  bool writeRawConfig(const std::string& yaml);

  // Runs weftd and weftctl behind `prefix` from now on, e.g. PeerNetns::commandPrefix() so
  // they live in another network namespace. `weftd --cleanup` runs without it: it needs
  // nothing from the namespace, which may be gone by teardown.
  void setCommandPrefix(std::vector<std::string> prefix) { prefix_ = std::move(prefix); }

  // Starts weftd on the config file; stderr goes to the sandbox log.
  bool startAgent();
  Subprocess& agent() { return agent_; }
  bool reloadAgent() { return agent_.signal(SIGHUP); }

  CommandResult weftctl(const std::vector<std::string>& args);
  CommandResult cleanupAgent();
  // Runs another weftd on this sandbox's config in the foreground until it exits (or is
  // killed at `timeout`), beside the one startAgent() started.
  CommandResult runSecondAgent(milliseconds timeout);
  // Parsed `backend list SERVICE -o json`; nullopt when weftctl fails or prints junk.
  std::optional<std::vector<BackendRow>> backendList(const std::string& service);
  // Whether `service list -o json` shows `service` (by name) with `backends` backends.
  bool serviceHasBackendCount(const std::string& service, int backends);
  // Polls weftctl until the backends `service` lists as taking new connections are exactly
  // `expected` (endpoint() strings, any order; rows in state "draining" or "drained" left
  // out). For an empty set the service itself must be listed. On timeout returns
  // false and leaves the last weftctl answer in *last.
  bool waitForBackends(const std::string& service, std::vector<std::string> expected,
                       milliseconds timeout = milliseconds(10000), std::string* last = nullptr);
  // Polls the agent log until it contains `needle`.
  bool waitForLog(const std::string& needle, milliseconds timeout);
  std::string logText() const;

 private:
  void teardown();

  std::string name_;
  TestCgroup cgroup_;
  std::string bpffs_root_;
  std::string temp_dir_;
  std::string config_path_;
  std::string log_path_;
  std::string setup_error_;
  std::vector<std::string> prefix_;
  Subprocess agent_;
};

}  // namespace weft::e2e
