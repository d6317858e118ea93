// SPDX-License-Identifier: Apache-2.0
// bpffs root checks and directory creation.
#include "loader/pin_layout.h"

#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace weft {
namespace {

constexpr long kBpfFsMagic = 0xcafe4a11;

// The nearest existing ancestor decides which filesystem a new directory lands on.
Status checkOnBpffs(const std::string& root) {
  std::filesystem::path p(root);
  while (!p.empty() && !std::filesystem::exists(p)) {
    p = p.parent_path();
  }
  struct statfs fs {};
  if (::statfs(p.c_str(), &fs) != 0) {
    return makeError("bpffs_root: statfs " + p.string() + ": " + std::strerror(errno), errno);
  }
  if (fs.f_type != kBpfFsMagic) {
    return makeError("bpffs_root: " + root + " is not on a bpf filesystem (mount one with " +
                     "`mount -t bpf bpf /sys/fs/bpf`)");
  }
  return {};
}

Status makeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return makeError("bpffs_root: mkdir " + path + ": " + std::strerror(errno), errno);
  }
  return {};
}

}  // namespace

Status checkBpffsRoot(const std::string& root) {
  if (root.empty() || root[0] != '/') {
    return makeError("bpffs_root: \"" + root + "\" must be an absolute path");
  }
  if (root.find("/../") != std::string::npos || root.ends_with("/..")) {
    return makeError("bpffs_root: \"" + root + "\" must not contain ..");
  }
  return checkOnBpffs(root);
}

Status PinLayout::prepare() const {
  if (auto st = checkBpffsRoot(root_); !st) {
    return st;
  }
  for (const std::string& dir : {root_, mapsDir(), linksDir()}) {
    if (auto st = makeDir(dir); !st) {
      return st;
    }
  }
  return {};
}

}  // namespace weft
