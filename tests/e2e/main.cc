// SPDX-License-Identifier: Apache-2.0
// Entry point of weft_e2e_tests: moves the whole test process into a fresh network
// namespace before anything else runs, so no test traffic can reach a real network.
#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/e2e/sockets.h"

namespace {

constexpr const char* kBpffs = "/sys/fs/bpf";

bool bringLoopbackUp() {
  weft::e2e::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return false;
  }
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(fd.get(), SIOCGIFFLAGS, &ifr) != 0) {
    return false;
  }
  ifr.ifr_flags |= IFF_UP;
  return ::ioctl(fd.get(), SIOCSIFFLAGS, &ifr) == 0;
}

bool bpffsMounted() {
  std::ifstream in("/proc/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string source, target, type;
    fields >> source >> target >> type;
    if (target == kBpffs && type == "bpf") {
      return true;
    }
  }
  return false;
}

int fail(const char* what) {
  std::fprintf(stderr, "weft_e2e_tests: %s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "weft_e2e_tests: must run as root (BPF, cgroups, netns)\n");
    return 1;
  }
  // Before any thread exists: unshare(CLONE_NEWNET) only moves the calling thread,
  // and every server thread and child process must inherit the new namespace.
  if (::unshare(CLONE_NEWNET) != 0) {
    return fail("unshare(CLONE_NEWNET)");
  }
  if (!bringLoopbackUp()) {
    return fail("bring lo up in the test namespace");
  }
  if (!bpffsMounted() && ::mount("bpf", kBpffs, "bpf", 0, nullptr) != 0) {
    return fail("mount bpffs at /sys/fs/bpf");
  }
  // A peer that resets a connection must fail a send, not kill the test process.
  std::signal(SIGPIPE, SIG_IGN);

  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
