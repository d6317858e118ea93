// SPDX-License-Identifier: Apache-2.0
// Skeleton loading, map reuse, link adoption and cleanup for the socket programs.
#include "loader/data_plane.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "loader/cgroup.h"
#include "loader/typed_map.h"
#include "maps/weft_maps.h"
#include "sock_lb.skel.h"

namespace weft {
namespace {

struct SkeletonDeleter {
  void operator()(sock_lb* skel) const { sock_lb__destroy(skel); }
};
using SkeletonPtr = std::unique_ptr<sock_lb, SkeletonDeleter>;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string errnoText(int err) {
  return std::strerror(err < 0 ? -err : err);
}

// Checks that every pinned map of ours has the type and sizes this build expects, so a
// mismatch is reported by name instead of surfacing as a libbpf reuse failure.
Status checkPinnedMaps(const PinLayout& pins, bpf_object* obj) {
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    std::string path = pins.mapPath(bpf_map__name(map));
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) {
      continue;
    }
    Fd owned(fd);
    bpf_map_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) {
      return makeError("map " + std::string(bpf_map__name(map)) +
                       ": get info: " + errnoText(errno));
    }
    if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
        info.value_size != bpf_map__value_size(map) ||
        info.max_entries != bpf_map__max_entries(map)) {
      return makeError("map " + std::string(bpf_map__name(map)) + ": pinned at " + path +
                       " with a different type or size than this build; run `weftd --cleanup`");
    }
  }
  return {};
}

Status writeMetaIfNew(const PinLayout& pins) {
  auto meta = TypedMap<__u32, weft_meta>::openPinned(pins.mapPath(WEFT_MAP_META), WEFT_MAP_META);
  if (!meta) {
    return meta.error();
  }
  __u32 key = 0;
  auto current = meta->lookup(key);
  if (current && current->magic == WEFT_META_MAGIC) {
    return {};
  }
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  weft_meta value{};
  value.magic = WEFT_META_MAGIC;
  value.layout_version = WEFT_LAYOUT_VERSION;
  value.created_ns = static_cast<__u64>(now.tv_sec) * 1000000000ull + now.tv_nsec;
  return meta->update(key, value);
}

// A pinned link is adopted only if it still attaches this program type to our cgroup;
// a link left on another cgroup (the config changed) is detached and replaced.
bool linkMatches(int link_fd, uint64_t cgroup_id, bpf_attach_type attach_type) {
  bpf_link_info info{};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0) {
    return false;
  }
  return info.type == BPF_LINK_TYPE_CGROUP && info.cgroup.cgroup_id == cgroup_id &&
         info.cgroup.attach_type == attach_type;
}

Status attachProgram(const PinLayout& pins, bpf_program* prog, int cgroup_fd, uint64_t cgroup_id,
                     LoadReport& report) {
  const std::string name = bpf_program__name(prog);
  const std::string path = pins.linkPath(name);

  int pinned = bpf_obj_get(path.c_str());
  if (pinned >= 0) {
    Fd link_fd(pinned);
    if (linkMatches(pinned, cgroup_id, bpf_program__expected_attach_type(prog))) {
      if (bpf_link_update(pinned, bpf_program__fd(prog), nullptr) != 0) {
        return makeError("link " + name + ": update to new program: " + errnoText(errno), errno);
      }
      report.links_updated++;
      return {};
    }
    bpf_link_detach(pinned);
    ::unlink(path.c_str());
  }

  bpf_link* link = bpf_program__attach_cgroup(prog, cgroup_fd);
  if (!link) {
    return makeError("program " + name + ": attach to cgroup: " + errnoText(errno), errno);
  }
  int err = bpf_link__pin(link, path.c_str());
  // Closing our fd leaves a pinned link attached; without the pin it would detach now.
  bpf_link__destroy(link);
  if (err != 0) {
    return makeError("link " + name + ": pin " + path + ": " + errnoText(err), -err);
  }
  report.links_created++;
  return {};
}

}  // namespace

Result<unsigned> pinnedLayoutVersion(const PinLayout& pins) {
  std::string path = pins.mapPath(WEFT_MAP_META);
  if (::access(path.c_str(), F_OK) != 0) {
    return 0u;
  }
  auto meta = TypedMap<__u32, weft_meta>::openPinned(path, WEFT_MAP_META);
  if (!meta) {
    return makeError("map weft_meta at " + path +
                     " is not a weft layout map: " + meta.error().message);
  }
  auto value = meta->lookup(0);
  if (!value || value->magic != WEFT_META_MAGIC) {
    return 0u;
  }
  return static_cast<unsigned>(value->layout_version);
}

Result<LoadReport> loadDataPlane(const DataPlaneOptions& options) {
  PinLayout pins(options.bpffs_root);
  if (auto st = checkAttachableCgroup(options.cgroup_path); !st) {
    return st.error();
  }
  if (auto st = pins.prepare(); !st) {
    return st.error();
  }

  auto version = pinnedLayoutVersion(pins);
  if (!version) {
    return version.error();
  }
  if (*version != 0 && *version != WEFT_LAYOUT_VERSION) {
    return makeError("bpffs_root " + pins.root() + " holds maps of layout version " +
                     std::to_string(*version) + ", this agent uses version " +
                     std::to_string(WEFT_LAYOUT_VERSION) +
                     " and has no migration from it; run `weftd --cleanup` to start afresh");
  }

  std::string maps_dir = pins.mapsDir();
  LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = maps_dir.c_str());
  SkeletonPtr skel(sock_lb__open_opts(&open_opts));
  if (!skel) {
    return makeError("bpf object sock_lb: open: " + errnoText(errno), errno);
  }
  if (auto st = checkPinnedMaps(pins, skel->obj); !st) {
    return st.error();
  }

  LoadReport report;
  bpf_map* map;
  bpf_object__for_each_map(map, skel->obj) {
    if (::access(pins.mapPath(bpf_map__name(map)).c_str(), F_OK) == 0) {
      report.maps_reused++;
    }
  }
  if (int err = sock_lb__load(skel.get()); err != 0) {
    return makeError("bpf object sock_lb: load: " + errnoText(err) +
                         " (run with LIBBPF_LOG=debug style verbosity for the verifier log)",
                     -err);
  }
  if (auto st = writeMetaIfNew(pins); !st) {
    return st.error();
  }

  auto cg_id = cgroupId(options.cgroup_path);
  if (!cg_id) {
    return cg_id.error();
  }
  int cg = ::open(options.cgroup_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) {
    return makeError("cgroup: open " + options.cgroup_path + ": " + errnoText(errno), errno);
  }
  Fd cgroup_fd(cg);
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) {
    if (auto st = attachProgram(pins, prog, cg, *cg_id, report); !st) {
      return st.error();
    }
  }
  return report;
}

Result<int> cleanupDataPlane(const std::string& bpffs_root) {
  PinLayout pins(bpffs_root);
  if (auto st = checkBpffsRoot(bpffs_root); !st) {
    return st.error();
  }

  int removed = 0;
  for (std::string_view name : kProgramNames) {
    std::string path = pins.linkPath(name);
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) {
      continue;
    }
    Fd link_fd(fd);
    // Detach explicitly: another process may still hold an fd that would keep it attached.
    if (bpf_link_detach(fd) != 0 && errno != EINVAL) {
      return makeError("link " + std::string(name) + ": detach: " + errnoText(errno), errno);
    }
    if (::unlink(path.c_str()) == 0) {
      removed++;
    }
  }
  for (std::string_view name : kMapNames) {
    if (::unlink(pins.mapPath(name).c_str()) == 0) {
      removed++;
    }
  }
  // Directories go only when empty: anything else there is not ours to delete.
  for (const std::string& dir : {pins.linksDir(), pins.mapsDir(), pins.root()}) {
    ::rmdir(dir.c_str());
  }
  return removed;
}

}  // namespace weft
