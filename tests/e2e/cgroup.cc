// SPDX-License-Identifier: Apache-2.0
// Test cgroups under the cgroup2 mount, never the mount itself.
#include "tests/e2e/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace weft::e2e {
namespace {

// rmdir fails with EBUSY while exiting tasks still hold the cgroup; that lasts
// microseconds, so a short bounded retry is enough.
constexpr int kRemoveAttempts = 200;
constexpr std::chrono::milliseconds kRemoveRetryInterval(10);

// The test process's own cgroup2 directory, where leftovers are moved back to.
std::string ownCgroup(const std::string& mount) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) {
      return mount + line.substr(3);
    }
  }
  return mount;
}

std::vector<pid_t> readPids(const std::string& procs_file) {
  std::vector<pid_t> pids;
  std::ifstream in(procs_file);
  pid_t pid = 0;
  while (in >> pid) {
    pids.push_back(pid);
  }
  return pids;
}

}  // namespace

std::string cgroup2Mount() {
  std::ifstream in("/proc/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string source, target, type;
    fields >> source >> target >> type;
    if (type == "cgroup2") {
      return target;
    }
  }
  return "";
}

TestCgroup::TestCgroup(const std::string& name) {
  std::string mount = cgroup2Mount();
  // A nested name ("a/b") makes a child of an existing test cgroup; never a path outside.
  if (mount.empty() || name.empty() || name.front() == '/' ||
      name.find("..") != std::string::npos) {
    return;
  }
  std::string path = mount + "/" + name;
  if (::mkdir(path.c_str(), 0755) != 0) {
    return;
  }
  path_ = path;
  procs_file_ = path + "/cgroup.procs";
}

TestCgroup::~TestCgroup() {
  remove();
}

bool TestCgroup::join(const char* procs_file, pid_t pid) {
  char buf[32];
  int len = 0;
  // Digits by hand: snprintf is not async-signal-safe.
  char digits[16];
  int n = 0;
  for (pid_t v = pid; v > 0 && n < 16; v /= 10) {
    digits[n++] = static_cast<char>('0' + v % 10);
  }
  while (n > 0) {
    buf[len++] = digits[--n];
  }
  buf[len++] = '\n';

  int fd = ::open(procs_file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  bool ok = ::write(fd, buf, static_cast<size_t>(len)) == len;
  ::close(fd);
  return ok;
}

bool TestCgroup::remove() {
  if (path_.empty()) {
    return true;
  }
  std::string target = ownCgroup(cgroup2Mount()) + "/cgroup.procs";
  for (int attempt = 0; attempt < kRemoveAttempts; ++attempt) {
    for (pid_t pid : readPids(procs_file_)) {
      join(target.c_str(), pid);
    }
    if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) {
      path_.clear();
      return true;
    }
    std::this_thread::sleep_for(kRemoveRetryInterval);
  }
  return false;
}

}  // namespace weft::e2e
