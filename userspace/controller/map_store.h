// SPDX-License-Identifier: Apache-2.0
// Typed operations on the load-balancing maps of maps/weft_maps.h. The controller writes through
// this interface only, so it runs against pinned kernel maps (BpfMapStore) or against memory in
// unit tests (MemoryMapStore).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "maps/weft_maps.h"
#include "userspace/common/result.h"

namespace weft {

template <typename K, typename V>
using MapEntries = std::vector<std::pair<K, V>>;

// Every write is one kernel map operation: an update replaces the whole value atomically for
// readers, which is what the backend-set flip relies on. Erasing a missing key succeeds.
// Implementations are not thread-safe.
class MapStore {
 public:
  virtual ~MapStore() = default;

  // weft_svc_v2: (vip, port, protocol) -> service.
  virtual Result<MapEntries<weft_svc_key, weft_svc_value>> listServices() const = 0;
  virtual Status putService(const weft_svc_key& key, const weft_svc_value& value) = 0;
  virtual Status eraseService(const weft_svc_key& key) = 0;

  // weft_slot_v1: (svc_id, half, index) -> backend id.
  virtual Result<MapEntries<weft_slot_key, weft_slot_value>> listSlots() const = 0;
  virtual Status putSlot(const weft_slot_key& key, const weft_slot_value& value) = 0;
  virtual Status eraseSlot(const weft_slot_key& key) = 0;

  // weft_be_v1: backend id -> address and state.
  virtual Result<MapEntries<uint32_t, weft_backend>> listBackends() const = 0;
  virtual Status putBackend(uint32_t backend_id, const weft_backend& value) = 0;
  virtual Status eraseBackend(uint32_t backend_id) = 0;

  // weft_svcinfo_v1: svc_id -> key and name, for operators.
  virtual Result<MapEntries<uint32_t, weft_svc_info>> listServiceInfo() const = 0;
  virtual Status putServiceInfo(uint32_t svc_id, const weft_svc_info& value) = 0;
  virtual Status eraseServiceInfo(uint32_t svc_id) = 0;

  // weft_maglev_v1: (svc_id, index) -> backend id.
  virtual Result<MapEntries<weft_maglev_key, uint32_t>> listMaglev() const = 0;
  virtual Status putMaglev(const weft_maglev_key& key, uint32_t backend_id) = 0;
  virtual Status eraseMaglev(const weft_maglev_key& key) = 0;

  // weft_member_v1: (svc_id, backend id) -> active or draining.
  virtual Result<MapEntries<weft_member_key, weft_member>> listMembers() const = 0;
  virtual Status putMember(const weft_member_key& key, const weft_member& value) = 0;
  virtual Status eraseMember(const weft_member_key& key) = 0;

  // weft_rr_v1 is an array: a service id's counter always exists; reset sets it to 0.
  virtual Status resetRoundRobin(uint32_t svc_id) = 0;

  // weft_conns_v1 is an array of active connection counts by backend id, kept by the data
  // path; reset sets an id's count to 0 before the id names a new backend.
  virtual Status resetConnCount(uint32_t backend_id) = 0;

  // weft_revnat_v1: written by the data path; the agent only lists and prunes it.
  virtual Result<MapEntries<weft_revnat_key, weft_revnat_value>> listRevNat() const = 0;
  virtual Status eraseRevNat(const weft_revnat_key& key) = 0;
};

}  // namespace weft
