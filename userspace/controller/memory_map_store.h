// SPDX-License-Identifier: Apache-2.0
// An in-memory MapStore for unit tests: std::map tables, a log of every write in order, and
// injectable write failures. Needs no root and no kernel.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "userspace/controller/map_encoding.h"
#include "userspace/controller/map_store.h"

namespace weft {

class MemoryMapStore : public MapStore {
 public:
  enum class OpKind {
    kPutService,
    kEraseService,
    kPutSlot,
    kEraseSlot,
    kPutBackend,
    kEraseBackend,
    kPutServiceInfo,
    kEraseServiceInfo,
    kResetRoundRobin,
    kEraseRevNat,
    kPutMaglev,
    kEraseMaglev,
    kPutMember,
    kEraseMember,
  };

  // One write. `id` is the svc_id (service, slot, info, rr, maglev, member ops) or the backend
  // id (backend ops); `backend_id` is set for slot, maglev and member ops, `half` for slot ops,
  // `index` for slot and maglev ops.
  struct Op {
    OpKind kind;
    uint32_t id = 0;
    uint8_t half = 0;
    uint32_t index = 0;
    uint32_t backend_id = 0;
  };

  Result<MapEntries<weft_svc_key, weft_svc_value>> listServices() const override;
  Status putService(const weft_svc_key& key, const weft_svc_value& value) override;
  Status eraseService(const weft_svc_key& key) override;

  Result<MapEntries<weft_slot_key, weft_slot_value>> listSlots() const override;
  Status putSlot(const weft_slot_key& key, const weft_slot_value& value) override;
  Status eraseSlot(const weft_slot_key& key) override;

  Result<MapEntries<uint32_t, weft_backend>> listBackends() const override;
  Status putBackend(uint32_t backend_id, const weft_backend& value) override;
  Status eraseBackend(uint32_t backend_id) override;

  Result<MapEntries<uint32_t, weft_svc_info>> listServiceInfo() const override;
  Status putServiceInfo(uint32_t svc_id, const weft_svc_info& value) override;
  Status eraseServiceInfo(uint32_t svc_id) override;

  Result<MapEntries<weft_maglev_key, uint32_t>> listMaglev() const override;
  Status putMaglev(const weft_maglev_key& key, uint32_t backend_id) override;
  Status eraseMaglev(const weft_maglev_key& key) override;

  Result<MapEntries<weft_member_key, weft_member>> listMembers() const override;
  Status putMember(const weft_member_key& key, const weft_member& value) override;
  Status eraseMember(const weft_member_key& key) override;

  Status resetRoundRobin(uint32_t svc_id) override;
  // Not logged as an op: it resets data-path state, not the balancing configuration.
  Status resetConnCount(uint32_t backend_id) override;

  Result<MapEntries<weft_revnat_key, weft_revnat_value>> listRevNat() const override;
  Status eraseRevNat(const weft_revnat_key& key) override;

  // Test hooks.
  const std::vector<Op>& ops() const { return ops_; }
  void clearOps() { ops_.clear(); }
  // The next write of `kind`, after `skip` successful ones, fails with EIO and changes nothing.
  void failWrite(OpKind kind, int skip = 0) { fail_ = {kind, skip}; }
  void clearFailure() { fail_.reset(); }
  // Called after every successful write, with the state already changed: tests check what a
  // concurrent reader could see at that moment.
  void setObserver(std::function<void(const Op&)> observer) { observer_ = std::move(observer); }
  // Seeds a round-robin position or a revnat entry, as the data path would.
  void setRoundRobin(uint32_t svc_id, uint64_t pos) { rr_[svc_id] = pos; }
  void setConnCount(uint32_t backend_id, uint64_t count) { conns_[backend_id] = count; }
  uint64_t connCount(uint32_t backend_id) const {
    auto it = conns_.find(backend_id);
    return it == conns_.end() ? 0 : it->second;
  }
  void putRevNat(const weft_revnat_key& key, const weft_revnat_value& value) {
    revnat_[key] = value;
  }

  std::optional<weft_svc_value> service(const weft_svc_key& key) const;
  std::optional<weft_slot_value> slot(uint32_t svc_id, uint8_t half, uint16_t index) const;
  std::optional<weft_backend> backend(uint32_t backend_id) const;
  std::optional<weft_svc_info> serviceInfo(uint32_t svc_id) const;
  uint64_t roundRobin(uint32_t svc_id) const;
  std::optional<uint32_t> maglevSlot(uint32_t svc_id, uint32_t index) const;
  std::optional<weft_member> member(uint32_t svc_id, uint32_t backend_id) const;
  size_t maglevCount() const { return maglev_.size(); }
  size_t memberCount() const { return member_.size(); }
  size_t serviceCount() const { return svc_.size(); }
  size_t slotCount() const { return slot_.size(); }
  size_t backendCount() const { return backend_.size(); }
  size_t serviceInfoCount() const { return info_.size(); }

 private:
  // Records `op` unless an injected failure is due for its kind; the caller applies it and
  // then calls notify().
  Status record(const Op& op);
  void notify() const {
    if (observer_) {
      observer_(ops_.back());
    }
  }

  std::map<weft_svc_key, weft_svc_value, BytesLess> svc_;
  std::map<weft_slot_key, weft_slot_value, BytesLess> slot_;
  std::map<uint32_t, weft_backend> backend_;
  std::map<uint32_t, weft_svc_info> info_;
  std::map<weft_maglev_key, uint32_t, BytesLess> maglev_;
  std::map<weft_member_key, weft_member, BytesLess> member_;
  std::map<uint32_t, uint64_t> rr_;
  std::map<uint32_t, uint64_t> conns_;
  std::map<weft_revnat_key, weft_revnat_value, BytesLess> revnat_;
  std::vector<Op> ops_;
  std::optional<std::pair<OpKind, int>> fail_;
  std::function<void(const Op&)> observer_;
};

// "put_slot svc=1 half=0 index=2 backend=3", for test failure messages.
std::string toString(const MemoryMapStore::Op& op);

}  // namespace weft
