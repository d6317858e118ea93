// SPDX-License-Identifier: Apache-2.0
// Pinned-map MapStore: opens each map by path, then forwards to TypedMap.
#include "userspace/controller/bpf_map_store.h"

namespace weft {
namespace {

template <typename K, typename V>
Status openInto(const std::string& maps_dir, const char* name, TypedMap<K, V>* out) {
  auto map = TypedMap<K, V>::openPinned(maps_dir + "/" + name, name);
  if (!map) {
    return map.error();
  }
  *out = std::move(map).value();
  return {};
}

}  // namespace

Result<std::unique_ptr<BpfMapStore>> BpfMapStore::open(const std::string& maps_dir) {
  std::unique_ptr<BpfMapStore> store(new BpfMapStore());
  Status st;

  if (st = openInto(maps_dir, WEFT_MAP_SVC, &store->svc_); !st) {
    return st.error();
  }
  if (st = openInto(maps_dir, WEFT_MAP_SLOT, &store->slot_); !st) {
    return st.error();
  }
  if (st = openInto(maps_dir, WEFT_MAP_BACKEND, &store->backend_); !st) {
    return st.error();
  }
  if (st = openInto(maps_dir, WEFT_MAP_SVC_INFO, &store->info_); !st) {
    return st.error();
  }
  if (st = openInto(maps_dir, WEFT_MAP_MAGLEV, &store->maglev_); !st) {
    return st.error();
  }
  if (st = openInto(maps_dir, WEFT_MAP_MEMBER, &store->member_); !st) {
    return st.error();
  }
  if (st = openInto(maps_dir, WEFT_MAP_RR, &store->rr_); !st) {
    return st.error();
  }
  if (st = openInto(maps_dir, WEFT_MAP_CONNS, &store->conns_); !st) {
    return st.error();
  }
  if (st = openInto(maps_dir, WEFT_MAP_REVNAT, &store->revnat_); !st) {
    return st.error();
  }
  return store;
}

Result<MapEntries<weft_svc_key, weft_svc_value>> BpfMapStore::listServices() const {
  return svc_.entries();
}

Status BpfMapStore::putService(const weft_svc_key& key, const weft_svc_value& value) {
  return svc_.update(key, value);
}

Status BpfMapStore::eraseService(const weft_svc_key& key) {
  return svc_.erase(key);
}

Result<MapEntries<weft_slot_key, weft_slot_value>> BpfMapStore::listSlots() const {
  return slot_.entries();
}

Status BpfMapStore::putSlot(const weft_slot_key& key, const weft_slot_value& value) {
  return slot_.update(key, value);
}

Status BpfMapStore::eraseSlot(const weft_slot_key& key) {
  return slot_.erase(key);
}

Result<MapEntries<uint32_t, weft_backend>> BpfMapStore::listBackends() const {
  return backend_.entries();
}

Status BpfMapStore::putBackend(uint32_t backend_id, const weft_backend& value) {
  return backend_.update(backend_id, value);
}

Status BpfMapStore::eraseBackend(uint32_t backend_id) {
  return backend_.erase(backend_id);
}

Result<MapEntries<uint32_t, weft_svc_info>> BpfMapStore::listServiceInfo() const {
  return info_.entries();
}

Status BpfMapStore::putServiceInfo(uint32_t svc_id, const weft_svc_info& value) {
  return info_.update(svc_id, value);
}

Status BpfMapStore::eraseServiceInfo(uint32_t svc_id) {
  return info_.erase(svc_id);
}

Result<MapEntries<weft_maglev_key, uint32_t>> BpfMapStore::listMaglev() const {
  return maglev_.entries();
}

Status BpfMapStore::putMaglev(const weft_maglev_key& key, uint32_t backend_id) {
  return maglev_.update(key, backend_id);
}

Status BpfMapStore::eraseMaglev(const weft_maglev_key& key) {
  return maglev_.erase(key);
}

Result<MapEntries<weft_member_key, weft_member>> BpfMapStore::listMembers() const {
  return member_.entries();
}

Status BpfMapStore::putMember(const weft_member_key& key, const weft_member& value) {
  return member_.update(key, value);
}

Status BpfMapStore::eraseMember(const weft_member_key& key) {
  return member_.erase(key);
}

Status BpfMapStore::resetRoundRobin(uint32_t svc_id) {
  // Array maps cannot delete; an update to zero is the reset.
  return rr_.update(svc_id, __u64{0});
}

Status BpfMapStore::resetConnCount(uint32_t backend_id) {
  return conns_.update(backend_id, __u64{0});
}

Result<MapEntries<weft_revnat_key, weft_revnat_value>> BpfMapStore::listRevNat() const {
  return revnat_.entries();
}

Status BpfMapStore::eraseRevNat(const weft_revnat_key& key) {
  return revnat_.erase(key);
}

}  // namespace weft
