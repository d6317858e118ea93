// SPDX-License-Identifier: Apache-2.0
// Client processes for the end-to-end tests. A mesh client is a forked child that
// moves itself into the test cgroup before it opens a socket, so the BPF programs
// attached there balance its connections; an outside client skips that step.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "tests/e2e/sockets.h"

namespace weft::e2e {

// One end of a SOCK_SEQPACKET pair: each send is one message, so results need no
// framing. Used from the child (body) and from the test (MeshClient::channel()).
class Channel {
 public:
  Channel() = default;
  explicit Channel(UniqueFd fd) : fd_(std::move(fd)) {}

  bool send(const std::string& msg) const;
  // Next message, or nullopt on timeout, error or when the other side closed.
  std::optional<std::string> receive(milliseconds timeout) const;
  // Like receive() but never waits; nullopt when nothing is queued.
  std::optional<std::string> poll() const { return receive(milliseconds(0)); }

 private:
  UniqueFd fd_;
};

class MeshClient {
 public:
  using Body = std::function<void(Channel& channel)>;

  // Forks a child that joins `cgroup_procs` (skipped when empty: an outside client),
  // runs `body` and exits. The child sends "join-failed" first if it cannot join.
  // pid() is -1 when fork failed.
  static MeshClient start(const std::string& cgroup_procs, Body body);

  MeshClient() = default;
  MeshClient(MeshClient&& other) noexcept;
  MeshClient& operator=(MeshClient&& other) noexcept;
  MeshClient(const MeshClient&) = delete;
  MeshClient& operator=(const MeshClient&) = delete;
  // Kills (SIGKILL, by PID) and reaps the child if it is still running.
  ~MeshClient();

  pid_t pid() const { return pid_; }
  Channel& channel() { return channel_; }
  // Waits up to `timeout` for the child to exit; false if it did not.
  bool wait(milliseconds timeout);

 private:
  void kill();

  pid_t pid_ = -1;
  Channel channel_;
};

// Runs `body` in a mesh (or outside, with empty `cgroup_procs`) child and returns
// the string it produced, or "harness-error:..." when the child failed to report
// within `timeout`.
std::string runClient(const std::string& cgroup_procs, const std::function<std::string()>& body,
                      milliseconds timeout = milliseconds(20000));

}  // namespace weft::e2e
