// SPDX-License-Identifier: Apache-2.0
// weft_bypass_v1 from cgroup paths: ids are the directories' inode numbers on cgroup v2.
#include "loader/bypass.h"

#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <linux/magic.h>

#include "loader/typed_map.h"
#include "maps/weft_maps.h"

namespace weft {
namespace {

using BypassMap = TypedMap<__u64, __u32>;

Result<BypassMap> openBypass(const std::string& maps_dir) {
  return BypassMap::openPinned(maps_dir + "/" + WEFT_MAP_BYPASS, WEFT_MAP_BYPASS);
}

// The pinned map and what it holds now.
struct BypassState {
  BypassMap map;
  std::vector<std::pair<__u64, __u32>> entries;
};

Result<BypassState> readBypass(const std::string& maps_dir) {
  auto map = openBypass(maps_dir);
  if (!map) {
    return map.error();
  }
  auto entries = map->entries();
  if (!entries) {
    return entries.error();
  }
  return BypassState{std::move(*map), std::move(*entries)};
}

}  // namespace

Result<uint64_t> cgroupId(const std::string& field, const std::string& path) {
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) {
    int err = errno;
    return makeError(fmt::format("{}: {}: {}", field, path, std::strerror(err)), err);
  }
  if (fs.f_type != CGROUP2_SUPER_MAGIC) {
    return makeError(fmt::format("{}: {} is not on a cgroup v2 file system", field, path), EINVAL);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return makeError(fmt::format("{}: {} is not a cgroup directory", field, path), ENOTDIR);
  }
  return static_cast<uint64_t>(st.st_ino);
}

Status syncConfigBypass(const std::string& maps_dir, const std::vector<std::string>& paths) {
  std::set<uint64_t> wanted;
  for (size_t i = 0; i < paths.size(); ++i) {
    auto id = cgroupId(fmt::format("bypass_cgroups[{}]", i), paths[i]);
    if (!id) {
      return id.error();
    }
    wanted.insert(*id);
  }
  auto state = readBypass(maps_dir);
  if (!state) {
    return state.error();
  }
  for (const auto& [id, source] : state->entries) {
    if (source == WEFT_BYPASS_CONFIG && !wanted.contains(id)) {
      if (auto st = state->map.erase(id); !st) {
        return st;
      }
    }
  }
  for (uint64_t id : wanted) {
    if (auto st = state->map.update(id, WEFT_BYPASS_CONFIG); !st) {
      return st;
    }
  }
  return {};
}

Status addBypass(const std::string& maps_dir, const std::string& path) {
  auto id = cgroupId("cgroup", path);
  if (!id) {
    return id.error();
  }
  auto map = openBypass(maps_dir);
  if (!map) {
    return map.error();
  }
  auto st = map->update(*id, WEFT_BYPASS_COMMAND, BPF_NOEXIST);
  // Already there (perhaps from the config, which then stays the owner): nothing to do.
  return st || st.error().code == EEXIST ? Status{} : st;
}

Status removeBypass(const std::string& maps_dir, const std::string& path) {
  auto id = cgroupId("cgroup", path);
  if (!id) {
    return id.error();
  }
  auto state = readBypass(maps_dir);
  if (!state) {
    return state.error();
  }
  for (const auto& [key, source] : state->entries) {
    if (key != *id) {
      continue;
    }
    if (source == WEFT_BYPASS_CONFIG) {
      return makeError(fmt::format("cgroup: {} is bypassed by weftd's config file "
                                   "(bypass_cgroups); remove it there",
                                   path),
                       EPERM);
    }
    return state->map.erase(*id);
  }
  return makeError(fmt::format("cgroup: {} is not bypassed", path), ENOENT);
}

Result<std::vector<BypassEntry>> listBypass(const std::string& maps_dir) {
  auto state = readBypass(maps_dir);
  if (!state) {
    return state.error();
  }
  std::vector<BypassEntry> out;
  for (const auto& [id, source] : state->entries) {
    out.push_back({id, source});
  }
  return out;
}

}  // namespace weft
