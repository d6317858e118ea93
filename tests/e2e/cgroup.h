// SPDX-License-Identifier: Apache-2.0
// A cgroup v2 directory created for one test, removed on destruction even if processes
// were left in it (they are moved back to the test process's own cgroup first).
#pragma once

#include <sys/types.h>

#include <string>

namespace weft::e2e {

// The cgroup2 mount point from /proc/mounts, or "" when there is none.
std::string cgroup2Mount();

class TestCgroup {
 public:
  // Creates <cgroup2 mount>/<name>; `name` may name a child of an existing test cgroup
  // ("weft-test-1-1/proxy"). path() is empty when creation failed.
  explicit TestCgroup(const std::string& name);
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;
  ~TestCgroup();

  const std::string& path() const { return path_; }
  // Moves `pid` into this cgroup. Async-signal-safe: callable in a freshly forked child.
  static bool join(const char* procs_file, pid_t pid);
  const std::string& procsFile() const { return procs_file_; }
  // Moves leftovers out and removes the directory; true when it is gone.
  bool remove();

 private:
  std::string path_;
  std::string procs_file_;
};

}  // namespace weft::e2e
