// SPDX-License-Identifier: Apache-2.0
// MapStore over the pinned kernel maps under <bpffs_root>/maps.
#pragma once

#include <memory>
#include <string>

#include "loader/typed_map.h"
#include "userspace/controller/map_store.h"

namespace weft {

// Owns one fd per map. The maps themselves are shared with the BPF programs and with weftctl;
// each write is a single bpf(2) call. Not thread-safe.
class BpfMapStore : public MapStore {
 public:
  // Opens every load-balancing map pinned in `maps_dir` (normally <bpffs_root>/maps) and checks
  // key and value sizes against maps/weft_maps.h. Fails naming the first map that is missing
  // or has another shape.
  static Result<std::unique_ptr<BpfMapStore>> open(const std::string& maps_dir);

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
  Status resetConnCount(uint32_t backend_id) override;

  Result<MapEntries<weft_revnat_key, weft_revnat_value>> listRevNat() const override;
  Status eraseRevNat(const weft_revnat_key& key) override;

 private:
  BpfMapStore() = default;

  TypedMap<weft_svc_key, weft_svc_value> svc_;
  TypedMap<weft_slot_key, weft_slot_value> slot_;
  TypedMap<__u32, weft_backend> backend_;
  TypedMap<__u32, weft_svc_info> info_;
  TypedMap<weft_maglev_key, __u32> maglev_;
  TypedMap<weft_member_key, weft_member> member_;
  TypedMap<__u32, __u64> rr_;
  TypedMap<__u32, __u64> conns_;
  TypedMap<weft_revnat_key, weft_revnat_value> revnat_;
};

}  // namespace weft
