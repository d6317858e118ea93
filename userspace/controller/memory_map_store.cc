// SPDX-License-Identifier: Apache-2.0
// std::map-backed MapStore with an operation log.
#include "userspace/controller/memory_map_store.h"

#include <cerrno>

#include <fmt/format.h>

namespace weft {
namespace {

template <typename K, typename V, typename C>
MapEntries<K, V> entriesOf(const std::map<K, V, C>& table) {
  return MapEntries<K, V>(table.begin(), table.end());
}

template <typename K, typename V, typename C>
std::optional<V> find(const std::map<K, V, C>& table, const K& key) {
  auto it = table.find(key);
  return it == table.end() ? std::nullopt : std::optional<V>(it->second);
}

const char* kindName(MemoryMapStore::OpKind kind) {
  using K = MemoryMapStore::OpKind;
  switch (kind) {
    case K::kPutService:
      return "put_service";
    case K::kEraseService:
      return "erase_service";
    case K::kPutSlot:
      return "put_slot";
    case K::kEraseSlot:
      return "erase_slot";
    case K::kPutBackend:
      return "put_backend";
    case K::kEraseBackend:
      return "erase_backend";
    case K::kPutServiceInfo:
      return "put_service_info";
    case K::kEraseServiceInfo:
      return "erase_service_info";
    case K::kResetRoundRobin:
      return "reset_rr";
    case K::kEraseRevNat:
      return "erase_revnat";
    case K::kPutMaglev:
      return "put_maglev";
    case K::kEraseMaglev:
      return "erase_maglev";
    case K::kPutMember:
      return "put_member";
    case K::kEraseMember:
      return "erase_member";
  }
  return "unknown";
}

}  // namespace

std::string toString(const MemoryMapStore::Op& op) {
  using K = MemoryMapStore::OpKind;
  if (op.kind == K::kPutSlot || op.kind == K::kEraseSlot) {
    return fmt::format("{} svc={} half={} index={} backend={}", kindName(op.kind), op.id, op.half,
                       op.index, op.backend_id);
  }
  if (op.kind == K::kPutMaglev || op.kind == K::kEraseMaglev) {
    return fmt::format("{} svc={} index={} backend={}", kindName(op.kind), op.id, op.index,
                       op.backend_id);
  }
  if (op.kind == K::kPutMember || op.kind == K::kEraseMember) {
    return fmt::format("{} svc={} backend={}", kindName(op.kind), op.id, op.backend_id);
  }
  bool is_backend = op.kind == K::kPutBackend || op.kind == K::kEraseBackend;
  return fmt::format("{} {}={}", kindName(op.kind), is_backend ? "backend" : "svc", op.id);
}

Status MemoryMapStore::record(const Op& op) {
  if (fail_ && fail_->first == op.kind) {
    if (fail_->second-- == 0) {
      fail_.reset();
      return makeError(fmt::format("memory map: {} failed: injected EIO", kindName(op.kind)), EIO);
    }
  }
  ops_.push_back(op);
  return {};
}

Result<MapEntries<weft_svc_key, weft_svc_value>> MemoryMapStore::listServices() const {
  return entriesOf(svc_);
}

Status MemoryMapStore::putService(const weft_svc_key& key, const weft_svc_value& value) {
  auto st = record({OpKind::kPutService, value.svc_id});
  if (st) {
    svc_[key] = value;
    notify();
  }
  return st;
}

Status MemoryMapStore::eraseService(const weft_svc_key& key) {
  auto it = svc_.find(key);
  auto st = record({OpKind::kEraseService, it == svc_.end() ? 0 : it->second.svc_id});
  if (st) {
    if (it != svc_.end()) {
      svc_.erase(it);
    }
    notify();
  }
  return st;
}

Result<MapEntries<weft_slot_key, weft_slot_value>> MemoryMapStore::listSlots() const {
  return entriesOf(slot_);
}

Status MemoryMapStore::putSlot(const weft_slot_key& key, const weft_slot_value& value) {
  auto st = record({OpKind::kPutSlot, key.svc_id, key.half, key.index, value.backend_id});
  if (st) {
    slot_[key] = value;
    notify();
  }
  return st;
}

Status MemoryMapStore::eraseSlot(const weft_slot_key& key) {
  auto it = slot_.find(key);
  uint32_t backend_id = it == slot_.end() ? 0 : it->second.backend_id;
  auto st = record({OpKind::kEraseSlot, key.svc_id, key.half, key.index, backend_id});
  if (st) {
    if (it != slot_.end()) {
      slot_.erase(it);
    }
    notify();
  }
  return st;
}

Result<MapEntries<uint32_t, weft_backend>> MemoryMapStore::listBackends() const {
  return entriesOf(backend_);
}

Status MemoryMapStore::putBackend(uint32_t backend_id, const weft_backend& value) {
  auto st = record({OpKind::kPutBackend, backend_id});
  if (st) {
    backend_[backend_id] = value;
    notify();
  }
  return st;
}

Status MemoryMapStore::eraseBackend(uint32_t backend_id) {
  auto st = record({OpKind::kEraseBackend, backend_id});
  if (st) {
    backend_.erase(backend_id);
    notify();
  }
  return st;
}

Result<MapEntries<uint32_t, weft_svc_info>> MemoryMapStore::listServiceInfo() const {
  return entriesOf(info_);
}

Status MemoryMapStore::putServiceInfo(uint32_t svc_id, const weft_svc_info& value) {
  auto st = record({OpKind::kPutServiceInfo, svc_id});
  if (st) {
    info_[svc_id] = value;
    notify();
  }
  return st;
}

Status MemoryMapStore::eraseServiceInfo(uint32_t svc_id) {
  auto st = record({OpKind::kEraseServiceInfo, svc_id});
  if (st) {
    info_.erase(svc_id);
    notify();
  }
  return st;
}

Result<MapEntries<weft_maglev_key, uint32_t>> MemoryMapStore::listMaglev() const {
  return entriesOf(maglev_);
}

Status MemoryMapStore::putMaglev(const weft_maglev_key& key, uint32_t backend_id) {
  auto st = record({OpKind::kPutMaglev, key.svc_id, 0, key.index, backend_id});
  if (st) {
    maglev_[key] = backend_id;
    notify();
  }
  return st;
}

Status MemoryMapStore::eraseMaglev(const weft_maglev_key& key) {
  auto it = maglev_.find(key);
  uint32_t backend_id = it == maglev_.end() ? 0 : it->second;
  auto st = record({OpKind::kEraseMaglev, key.svc_id, 0, key.index, backend_id});
  if (st) {
    if (it != maglev_.end()) {
      maglev_.erase(it);
    }
    notify();
  }
  return st;
}

Result<MapEntries<weft_member_key, weft_member>> MemoryMapStore::listMembers() const {
  return entriesOf(member_);
}

Status MemoryMapStore::putMember(const weft_member_key& key, const weft_member& value) {
  auto st = record({OpKind::kPutMember, key.svc_id, 0, 0, key.backend_id});
  if (st) {
    member_[key] = value;
    notify();
  }
  return st;
}

Status MemoryMapStore::eraseMember(const weft_member_key& key) {
  auto st = record({OpKind::kEraseMember, key.svc_id, 0, 0, key.backend_id});
  if (st) {
    member_.erase(key);
    notify();
  }
  return st;
}

Status MemoryMapStore::resetRoundRobin(uint32_t svc_id) {
  if (svc_id >= WEFT_MAX_SERVICES) {
    return makeError(fmt::format("memory map: rr index {} out of range", svc_id), E2BIG);
  }
  auto st = record({OpKind::kResetRoundRobin, svc_id});
  if (st) {
    rr_.erase(svc_id);
    notify();
  }
  return st;
}

Status MemoryMapStore::resetConnCount(uint32_t backend_id) {
  if (backend_id >= WEFT_MAX_CONN_COUNTS) {
    return makeError(fmt::format("memory map: conns index {} out of range", backend_id), E2BIG);
  }
  conns_.erase(backend_id);
  return {};
}

Result<MapEntries<weft_revnat_key, weft_revnat_value>> MemoryMapStore::listRevNat() const {
  return entriesOf(revnat_);
}

Status MemoryMapStore::eraseRevNat(const weft_revnat_key& key) {
  auto it = revnat_.find(key);
  auto st = record({OpKind::kEraseRevNat, it == revnat_.end() ? 0 : it->second.svc_id});
  if (st) {
    if (it != revnat_.end()) {
      revnat_.erase(it);
    }
    notify();
  }
  return st;
}

std::optional<weft_svc_value> MemoryMapStore::service(const weft_svc_key& key) const {
  return find(svc_, key);
}

std::optional<weft_slot_value> MemoryMapStore::slot(uint32_t svc_id, uint8_t half,
                                                    uint16_t index) const {
  weft_slot_key key{};
  key.svc_id = svc_id;
  key.half = half;
  key.index = index;
  return find(slot_, key);
}

std::optional<weft_backend> MemoryMapStore::backend(uint32_t backend_id) const {
  return find(backend_, backend_id);
}

std::optional<weft_svc_info> MemoryMapStore::serviceInfo(uint32_t svc_id) const {
  return find(info_, svc_id);
}

uint64_t MemoryMapStore::roundRobin(uint32_t svc_id) const {
  auto it = rr_.find(svc_id);
  return it == rr_.end() ? 0 : it->second;
}

std::optional<uint32_t> MemoryMapStore::maglevSlot(uint32_t svc_id, uint32_t index) const {
  weft_maglev_key key{};
  key.svc_id = svc_id;
  key.index = index;
  return find(maglev_, key);
}

std::optional<weft_member> MemoryMapStore::member(uint32_t svc_id, uint32_t backend_id) const {
  weft_member_key key{};
  key.svc_id = svc_id;
  key.backend_id = backend_id;
  return find(member_, key);
}

}  // namespace weft
