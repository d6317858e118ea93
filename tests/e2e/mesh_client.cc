// SPDX-License-Identifier: Apache-2.0
// fork-based clients with a message channel back to the test.
#include "tests/e2e/mesh_client.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>
#include <utility>
#include <vector>

#include "tests/e2e/cgroup.h"

namespace weft::e2e {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxMessage = 64 * 1024;

}  // namespace

bool Channel::send(const std::string& msg) const {
  return ::send(fd_.get(), msg.data(), msg.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(msg.size());
}

std::optional<std::string> Channel::receive(milliseconds timeout) const {
  auto deadline = Clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd_.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::max<long>(left, 0)));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return std::nullopt;
    }
    std::vector<char> buf(kMaxMessage);
    ssize_t r = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      return std::nullopt;
    }
    return std::string(buf.data(), static_cast<size_t>(r));
  }
}

MeshClient MeshClient::start(const std::string& cgroup_procs, Body body) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return MeshClient();
  }
  UniqueFd parent_end(pair[0]);
  UniqueFd child_end(pair[1]);

  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    parent_end.reset();
    Channel channel(std::move(child_end));
    // Joining before any socket exists matters: a socket belongs to the cgroup of
    // the process that created it, and that decides which BPF programs see it.
    if (!cgroup_procs.empty() && !TestCgroup::join(cgroup_procs.c_str(), ::getpid())) {
      channel.send("join-failed");
      ::_exit(2);
    }
    body(channel);
    ::_exit(0);
  }

  MeshClient client;
  if (pid < 0) {
    return client;
  }
  client.pid_ = pid;
  client.channel_ = Channel(std::move(parent_end));
  return client;
}

MeshClient::MeshClient(MeshClient&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), channel_(std::move(other.channel_)) {}

MeshClient& MeshClient::operator=(MeshClient&& other) noexcept {
  if (this != &other) {
    kill();
    pid_ = std::exchange(other.pid_, -1);
    channel_ = std::move(other.channel_);
  }
  return *this;
}

MeshClient::~MeshClient() {
  kill();
}

bool MeshClient::wait(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      pid_ = -1;
      return true;
    }
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
  return true;
}

void MeshClient::kill() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait(milliseconds(10000));
  }
}

std::string runClient(const std::string& cgroup_procs, const std::function<std::string()>& body,
                      milliseconds timeout) {
  MeshClient client =
      MeshClient::start(cgroup_procs, [&body](Channel& channel) { channel.send(body()); });
  if (client.pid() < 0) {
    return "harness-error:fork";
  }
  auto result = client.channel().receive(timeout);
  client.wait(milliseconds(2000));
  return result ? *result : "harness-error:no report from client";
}

}  // namespace weft::e2e
