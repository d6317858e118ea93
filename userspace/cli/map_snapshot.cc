// SPDX-License-Identifier: Apache-2.0
// Reads the pinned maps and links into a Snapshot.
#include "userspace/cli/map_snapshot.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "loader/data_plane.h"
#include "loader/pin_layout.h"
#include "loader/typed_map.h"

namespace weft::cli {
namespace {

template <typename K, typename V>
Result<TypedMap<K, V>> openMap(const PinLayout& pins, const char* name) {
  return TypedMap<K, V>::openPinned(pins.mapPath(name), name);
}

// One lookup per known backend: the array holds a slot for every possible id.
Status readConnCounts(const PinLayout& pins, Snapshot& snap) {
  auto conns = openMap<__u32, __u64>(pins, WEFT_MAP_CONNS);
  if (!conns) {
    return conns.error();
  }
  for (const auto& [id, backend] : snap.backends) {
    if (auto count = conns->lookup(id)) {
      snap.active_connections[id] = *count;
    }
  }
  return {};
}

// Agents that predate drain reporting pin no member map; their services simply show no
// draining backends.
Status readMembers(const PinLayout& pins, Snapshot& snap) {
  auto members = openMap<weft_member_key, weft_member>(pins, WEFT_MAP_MEMBER);
  if (!members) {
    return members.error().code == ENOENT ? Status{} : Status{members.error()};
  }
  auto entries = members->entries();
  if (!entries) {
    return entries.error();
  }
  for (const auto& [key, member] : *entries) {
    snap.members[key.svc_id][key.backend_id] = member.state;
  }
  return {};
}

Status readServices(const PinLayout& pins, Snapshot& snap) {
  auto svc = openMap<weft_svc_key, weft_svc_value>(pins, WEFT_MAP_SVC);
  auto info = openMap<__u32, weft_svc_info>(pins, WEFT_MAP_SVC_INFO);
  auto slots = openMap<weft_slot_key, weft_slot_value>(pins, WEFT_MAP_SLOT);
  auto backends = openMap<__u32, weft_backend>(pins, WEFT_MAP_BACKEND);
  for (const Status& st :
       {svc ? Status{} : Status{svc.error()}, info ? Status{} : Status{info.error()},
        slots ? Status{} : Status{slots.error()}, backends ? Status{} : Status{backends.error()}}) {
    if (!st) {
      return st;
    }
  }

  auto services = svc->entries();
  if (!services) {
    return services.error();
  }
  for (const auto& [key, value] : *services) {
    ServiceRow row{key, value, {}};
    if (auto i = info->lookup(value.svc_id)) {
      i->name[WEFT_SVC_NAME_LEN - 1] = '\0';
      row.name = i->name;
    }
    // Only the active half is the backend set a connect sees now.
    std::vector<uint32_t>& ids = snap.active_backends[value.svc_id];
    for (uint16_t index = 0; index < value.count; index++) {
      weft_slot_key slot_key{value.svc_id, index, value.half, 0};
      if (auto slot = slots->lookup(slot_key)) {
        ids.push_back(slot->backend_id);
      }
    }
    snap.services.push_back(row);
  }

  auto all_backends = backends->entries();
  if (!all_backends) {
    return all_backends.error();
  }
  for (const auto& [id, backend] : *all_backends) {
    snap.backends[id] = backend;
  }
  if (auto st = readMembers(pins, snap); !st) {
    return st;
  }
  return readConnCounts(pins, snap);
}

Status readStats(const PinLayout& pins, Snapshot& snap) {
  std::string path = pins.mapPath(WEFT_MAP_STATS);
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) {
    return makeError("map " WEFT_MAP_STATS ": open " + path + ": " + std::strerror(errno), errno);
  }
  int cpus = libbpf_num_possible_cpus();
  std::vector<uint64_t> per_cpu(cpus > 0 ? cpus : 1);
  snap.reason_counts.assign(WEFT_R_MAX, 0);
  for (__u32 reason = 0; reason < WEFT_R_MAX; reason++) {
    if (bpf_map_lookup_elem(fd, &reason, per_cpu.data()) != 0) {
      continue;
    }
    for (uint64_t v : per_cpu) {
      snap.reason_counts[reason] += v;
    }
  }
  ::close(fd);

  auto revnat = openMap<weft_revnat_key, weft_revnat_value>(pins, WEFT_MAP_REVNAT);
  if (revnat) {
    if (auto entries = revnat->entries()) {
      snap.revnat_entries = entries->size();
    }
  }
  return {};
}

void readLinks(const PinLayout& pins, Snapshot& snap) {
  for (std::string_view name : kProgramNames) {
    LinkRow row{std::string(name), false, 0, 0};
    int fd = bpf_obj_get(pins.linkPath(name).c_str());
    if (fd >= 0) {
      bpf_link_info info{};
      __u32 len = sizeof(info);
      if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
        row.pinned = true;
        row.prog_id = info.prog_id;
        row.cgroup_id = info.cgroup.cgroup_id;
      }
      ::close(fd);
    }
    snap.links.push_back(row);
  }
}

}  // namespace

Result<Snapshot> readSnapshot(const std::string& bpffs_root) {
  PinLayout pins(bpffs_root);
  auto version = pinnedLayoutVersion(pins);
  if (!version) {
    return version.error();
  }
  if (*version == 0) {
    return makeError("bpffs_root " + bpffs_root + ": no weft maps are pinned there (is weftd " +
                     "running with this --bpffs-root?)");
  }
  if (*version != WEFT_LAYOUT_VERSION) {
    return makeError("bpffs_root " + bpffs_root + ": maps have layout version " +
                     std::to_string(*version) + ", this weftctl reads version " +
                     std::to_string(WEFT_LAYOUT_VERSION));
  }

  Snapshot snap;
  snap.layout_version = *version;
  if (auto st = readServices(pins, snap); !st) {
    return st.error();
  }
  if (auto st = readStats(pins, snap); !st) {
    return st.error();
  }
  readLinks(pins, snap);
  return snap;
}

}  // namespace weft::cli
