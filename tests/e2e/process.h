// SPDX-License-Identifier: Apache-2.0
// Child processes for the end-to-end tests: long-running ones owned by PID (weftd) and
// short commands whose output is captured (weftctl, bpftool). Every wait is bounded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace weft::e2e {

using std::chrono::milliseconds;

// A process started with exec. Ends it on destruction: SIGTERM, then SIGKILL.
class Subprocess {
 public:
  // Starts argv[0] with stdout and stderr appended to `log_path` (or /dev/null when
  // empty). Returns an empty Subprocess (pid() == -1) if fork fails.
  static Subprocess spawn(const std::vector<std::string>& argv, const std::string& log_path);

  Subprocess() = default;
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  bool running();
  bool signal(int sig) const;
  // Waits up to `timeout` for the exit; returns the wait status, or -1 on timeout.
  int waitExit(milliseconds timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL and reap. Returns the wait status.
  int stop(milliseconds grace = milliseconds(3000));
  // SIGKILL and reap.
  int kill();

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}

  pid_t pid_ = -1;
  int status_ = -1;
};

struct CommandResult {
  int exit_code = -1;  // -1: did not exit normally (signal, timeout, exec failure)
  std::string out;
  std::string err;
};

// Runs argv to completion (killed after `timeout`) and captures stdout and stderr.
CommandResult runCommand(const std::vector<std::string>& argv,
                         milliseconds timeout = milliseconds(10000));

// Absolute path of `name` found on $PATH (plus the sbin directories), or `name`.
std::string toolPath(const std::string& name);

// "argv[0] argv[1] ..." for failure messages.
std::string joinArgs(const std::vector<std::string>& argv);

}  // namespace weft::e2e
