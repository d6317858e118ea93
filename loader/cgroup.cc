// SPDX-License-Identifier: Apache-2.0
// cgroup v2 mount discovery and attach-target validation.
#include "loader/cgroup.h"

#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace weft {
namespace {

constexpr long kCgroup2Magic = 0x63677270;

}  // namespace

Result<std::string> findCgroup2Mount() {
  std::ifstream mounts("/proc/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string device, mount_point, fs_type;
    fields >> device >> mount_point >> fs_type;
    if (fs_type == "cgroup2") {
      return mount_point;
    }
  }
  return makeError("cgroup: no cgroup2 filesystem in /proc/mounts; weft needs cgroup v2");
}

Status checkAttachableCgroup(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return makeError("cgroup: \"" + path + "\" must be an absolute path");
  }
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) {
    return makeError("cgroup: " + path + ": " + std::strerror(errno), errno);
  }
  if (fs.f_type != kCgroup2Magic) {
    return makeError("cgroup: " + path + " is not on a cgroup2 filesystem");
  }

  std::error_code ec;
  auto canonical = std::filesystem::canonical(path, ec);
  if (ec) {
    return makeError("cgroup: " + path + ": " + ec.message());
  }
  auto parent = canonical.parent_path();
  struct statfs parent_fs {};
  bool parent_is_cgroup2 =
      ::statfs(parent.c_str(), &parent_fs) == 0 && parent_fs.f_type == kCgroup2Magic;
  struct stat self_st {
  }, parent_st{};
  bool same_device = ::stat(canonical.c_str(), &self_st) == 0 &&
                     ::stat(parent.c_str(), &parent_st) == 0 && self_st.st_dev == parent_st.st_dev;
  if (!parent_is_cgroup2 || !same_device) {
    return makeError("cgroup: " + path +
                     " is the root of a cgroup2 mount; weft attaches only to a child cgroup");
  }
  return {};
}

Result<uint64_t> cgroupId(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return makeError("cgroup: stat " + path + ": " + std::strerror(errno), errno);
  }
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace weft
