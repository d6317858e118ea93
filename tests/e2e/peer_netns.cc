// SPDX-License-Identifier: Apache-2.0
// PeerNetns: a holder child in a new network namespace, a veth pair made with iproute2.
#include "tests/e2e/peer_netns.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace weft::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kPrefixLen = "/30";
constexpr milliseconds kHolderStartTimeout(5000);
constexpr milliseconds kLinkUpTimeout(5000);
constexpr milliseconds kPollInterval(10);
// The holder outlives no test by much: an upper bound on its life besides PDEATHSIG.
constexpr unsigned kHolderLifetimeSec = 3600;

std::atomic<int> g_peer_count{0};

ino_t inodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// In the forked holder: only async-signal-safe calls. Keeps no fd of the test process but
// the pipe, so no listening socket stays open in it after the test closes its copy.
[[noreturn]] void runHolder(int ready_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (ready_fd > 0) {
    ::close_range(0, static_cast<unsigned>(ready_fd) - 1, 0);
  }
  ::close_range(static_cast<unsigned>(ready_fd) + 1, ~0U, 0);
  char verdict = ::unshare(CLONE_NEWNET) == 0 ? '1' : '0';
  ssize_t n = ::write(ready_fd, &verdict, 1);
  (void)n;
  ::close(ready_fd);
  ::alarm(kHolderLifetimeSec);
  while (true) {
    ::pause();
  }
}

}  // namespace

PeerNetns::PeerNetns() {
  int n = ++g_peer_count;
  local_if_ = "wefta" + std::to_string(n);
  peer_if_ = "weftb" + std::to_string(n);
  if (!setup() && setup_error_.empty()) {
    setup_error_ = "peer netns setup failed";
  }
}

PeerNetns::~PeerNetns() {
  if (veth_created_) {
    // Deleting one end deletes the pair; the namespace's end would also go with it.
    ip({"link", "del", local_if_}, false);
  }
  ns_fd_.reset();
  if (holder_ > 0) {
    ::kill(holder_, SIGKILL);
    // SIGKILL cannot be ignored; the bound only guards against a stuck kernel.
    auto deadline = Clock::now() + milliseconds(10000);
    while (::waitpid(holder_, nullptr, WNOHANG) == 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(2));
    }
  }
}

std::vector<std::string> PeerNetns::commandPrefix() const {
  return {toolPath("nsenter"), "--net=" + path_};
}

bool PeerNetns::enter() const {
  return ns_fd_.valid() && ::setns(ns_fd_.get(), CLONE_NEWNET) == 0;
}

CommandResult PeerNetns::ip(const std::vector<std::string>& args, bool in_peer) {
  std::vector<std::string> argv;
  if (in_peer) {
    argv = commandPrefix();
  }
  argv.push_back(toolPath("ip"));
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = runCommand(argv);
  if (r.exit_code != 0 && setup_error_.empty()) {
    setup_error_ = joinArgs(argv) + ": " + r.err;
  }
  return r;
}

bool PeerNetns::setup() {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) {
    setup_error_ = "pipe2 failed";
    return false;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    runHolder(ready[1]);
  }
  ::close(ready[1]);
  UniqueFd ready_fd(ready[0]);
  if (pid < 0) {
    setup_error_ = "fork failed";
    return false;
  }
  holder_ = pid;

  pollfd p{ready_fd.get(), POLLIN, 0};
  char verdict = 0;
  if (::poll(&p, 1, static_cast<int>(kHolderStartTimeout.count())) != 1 ||
      ::read(ready_fd.get(), &verdict, 1) != 1 || verdict != '1') {
    setup_error_ = "the holder could not unshare a network namespace";
    return false;
  }
  path_ = "/proc/" + std::to_string(pid) + "/ns/net";
  ns_fd_.reset(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns_fd_.valid() || inodeOf(path_) == inodeOf("/proc/self/ns/net")) {
    setup_error_ = "cannot open a new namespace at " + path_;
    return false;
  }

  if (ip({"link", "add", local_if_, "type", "veth", "peer", "name", peer_if_, "netns",
          std::to_string(pid)},
         false)
          .exit_code != 0) {
    return false;
  }
  veth_created_ = true;
  bool ok = ip({"addr", "add", local_ip_ + kPrefixLen, "dev", local_if_}, false).exit_code == 0 &&
            ip({"link", "set", local_if_, "up"}, false).exit_code == 0 &&
            ip({"addr", "add", peer_ip_ + kPrefixLen, "dev", peer_if_}, true).exit_code == 0 &&
            ip({"link", "set", peer_if_, "up"}, true).exit_code == 0 &&
            ip({"link", "set", "lo", "up"}, true).exit_code == 0;
  if (!ok) {
    return false;
  }

  // A veth end has carrier only once both ends are up; until then SYNs are dropped and a
  // first connect would wait for a retransmission.
  auto deadline = Clock::now() + kLinkUpTimeout;
  while (true) {
    CommandResult link = runCommand({toolPath("ip"), "-o", "link", "show", "dev", local_if_});
    if (link.exit_code == 0 && link.out.find("LOWER_UP") != std::string::npos) {
      return true;
    }
    if (Clock::now() >= deadline) {
      setup_error_ = "veth " + local_if_ + " has no carrier: " + link.out;
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace weft::e2e
