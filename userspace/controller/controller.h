// SPDX-License-Identifier: Apache-2.0
// Reconciles the configured services into the load-balancing maps with minimal writes, keeping
// every intermediate map state safe for a connect that runs concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "userspace/common/result.h"
#include "userspace/config/agent_config.h"
#include "userspace/controller/id_allocator.h"
#include "userspace/controller/map_encoding.h"
#include "userspace/controller/map_store.h"
#include "userspace/lb/maglev.h"

namespace weft {

struct ApplySummary {
  size_t services_added = 0;
  size_t services_removed = 0;
  size_t services_changed = 0;
  size_t backends_added = 0;
  size_t backends_removed = 0;
  size_t map_writes = 0;  // successful map updates, deletes and resets
};

// Threading: not thread-safe. weftd drives one Controller from a single Asio strand; adopt(),
// apply() and the hook all run there, and the hook is called synchronously inside apply().
//
// Identity: a service is its (vip, port, protocol); changing any of them removes the old service
// and adds a new one. A backend is its (address, port, protocol) and is shared by every service
// that names it. Service and backend ids are the lowest free integers >= 1 and stay the same for
// as long as the service or backend exists, across agent restarts (see adopt()).
//
// Ordering guarantees, for a connect that reads the maps at any moment:
// - a backend entry is written before any slot names it, and deleted only when no slot of
//   either half of any service names it;
// - a new service's slots (half 0) are written before its service value;
// - a changed backend set is written to the inactive half, then the service value is replaced
//   in one update (half flipped, count, generation + 1); the active half is never written;
//   stale slots of a half are deleted only when that half is written next;
// - a removed service's value is deleted before its slots, name and round-robin counter;
// - a Maglev table (weft_maglev_v1) is written in place, only the slots whose backend changes;
//   a table that grows is written before the value that names its new size, one that shrinks
//   loses its tail only after that value;
// - a member (weft_member_v1) that joins or changes state is written before the service
//   value, one that leaves is deleted after it. Draining backends stay members (and in
//   weft_be_v1) until they leave the registry, so their active counts stay readable.
class Controller {
 public:
  // `store` must outlive the controller.
  explicit Controller(MapStore& store);

  // Reads the services, slots, backends and names already in the maps and takes them as the
  // current state, so ids and active halves survive an agent restart. Writes nothing. Leftovers
  // of an interrupted removal (slots or names of a service id without a service) are deleted by
  // the next apply(). apply() calls this itself the first time and after a failed apply.
  Status adopt();

  // Makes the maps hold exactly `services`. On a map error, stops at a state that is still
  // consistent for readers, returns the error and re-adopts from the maps on the next call.
  // `services` is checked first (families, ports, duplicates, limits); nothing is written
  // when it is rejected.
  Result<ApplySummary> apply(const std::vector<ServiceConfig>& services);

  // Changes part of the maps, for a registry change that touched a few services: removes the
  // services with keys in `removals` (unless also upserted), then adds or updates `upserts`;
  // every other service is left as it is. Same checks, ordering and error handling as apply().
  // Fails, writing nothing, when an upsert's key is held by a service of another name.
  Result<ApplySummary> applyChanges(const std::vector<ServiceConfig>& upserts,
                                    const std::vector<weft_svc_key>& removals);

  // Ids in use, for logs and tests; 0 when unknown.
  uint32_t serviceId(const weft_svc_key& key) const;
  uint32_t backendId(const BackendConfig& backend, uint8_t protocol) const;

  using UdpBackendRemovedHook = std::function<void(uint32_t svc_id, const weft_backend& backend)>;

  // Called after the flip (or removal) that takes a backend out of a UDP service, once per
  // backend and service, while the backend entry is still in the map: weftd closes connected
  // UDP sockets that still point at it. Runs inside apply(); must not call back into the
  // controller.
  void setUdpBackendRemovedHook(UdpBackendRemovedHook hook) {
    on_udp_backend_removed_ = std::move(hook);
  }

 private:
  // A Maglev table's inputs: backend identities and weights, their ids, and the table size.
  struct MaglevInput {
    std::vector<lb::MaglevBackend> backends;
    std::vector<uint32_t> ids;
    uint32_t size = 0;

    bool operator==(const MaglevInput&) const = default;
  };

  // What the maps hold for one service.
  struct ServiceState {
    uint32_t id = 0;
    weft_svc_key key{};
    weft_svc_value value{};
    bool has_info = false;
    weft_svc_info info{};
    std::array<std::map<uint16_t, uint32_t>, 2> slots;  // half -> index -> backend id
    std::map<uint32_t, uint8_t> members;                // backend id -> WEFT_BE_* state
    // Maglev slots as written, index -> backend id; 0 where nothing is written. Readers use
    // the first value.maglev_size entries.
    std::vector<uint32_t> maglev;
    // What `maglev` was built from, so an unchanged backend set is not built again on every
    // sync; empty after adopt() (the first apply builds once).
    MaglevInput maglev_input;
  };

  // What a service should look like in the maps.
  struct Desired {
    std::vector<uint32_t> slots;          // the active half, in order
    std::map<uint32_t, uint8_t> members;  // backend id -> WEFT_BE_* state
    std::vector<uint32_t> maglev;         // the Maglev table; empty unless Maglev
    MaglevInput maglev_input;
  };

  // Backend identity: the address bytes, port, protocol and family of weft_backend.
  using BackendKey = std::array<uint8_t, 20>;
  static BackendKey backendKey(const weft_backend& backend);

  void reset();
  Status checkServices(const std::vector<ServiceConfig>& services) const;
  // Runs one apply: adopts first when needed, releases ids afterwards, re-adopts on failure.
  Result<ApplySummary> run(const std::function<Status()>& change);
  Status reconcile(const std::vector<ServiceConfig>& services);
  Status reconcileChanges(const std::vector<ServiceConfig>& upserts,
                          const std::vector<weft_svc_key>& removals);
  Status upsertServices(const std::vector<ServiceConfig>& services);

  Status removeOrphans();
  Status removeService(ServiceState& state);
  Status ensureBackends(const std::vector<ServiceConfig>& services);
  Status addService(const ServiceConfig& config);
  Status updateService(ServiceState& state, const ServiceConfig& config);
  Status writeHalf(ServiceState& state, uint8_t half, const std::vector<uint32_t>& backend_ids);
  Status collectBackends();
  // Writes the service's members that are new or changed; pruneMembers deletes the others.
  Status writeMembers(ServiceState& state, const std::map<uint32_t, uint8_t>& wanted);
  Status pruneMembers(ServiceState& state, const std::map<uint32_t, uint8_t>& wanted);
  // Writes the table's slots that differ from what is written; trimMaglev deletes slots at
  // `size` and above.
  Status writeMaglev(ServiceState& state, const std::vector<uint32_t>& table);
  Status trimMaglev(ServiceState& state, size_t size);
  // Drops one slot reference; a backend left unnamed becomes a collection candidate.
  void release(uint32_t backend_id);

  // Single writes: each updates the mirror and the counters only when the map write succeeded.
  Status putSlot(ServiceState& state, uint8_t half, uint16_t index, uint32_t backend_id);
  Status eraseSlot(ServiceState& state, uint8_t half, uint16_t index);
  Status putService(ServiceState& state, const weft_svc_value& value);
  Status putInfo(ServiceState& state, const weft_svc_info& info);
  Status putMaglevSlot(ServiceState& state, uint32_t index, uint32_t backend_id);
  Status eraseMaglevSlot(ServiceState& state, uint32_t index);
  Status counted(Status st);

  std::vector<uint32_t> activeBackends(const ServiceState& state) const;
  // `state` is the service as written, or null for a new one.
  Result<Desired> desired(const ServiceConfig& config, const ServiceState* state) const;
  std::vector<uint32_t> desiredSlots(const ServiceConfig& config) const;
  // Fills out->maglev and out->maglev_input; reuses state's table when the inputs match.
  Status desiredMaglev(const ServiceConfig& config, const ServiceState* state, Desired* out) const;
  static weft_svc_value serviceValue(const weft_svc_value& current, const ServiceConfig& config,
                                     const Desired& desired);
  void notifyUdpRemoved(const ServiceState& state, const std::vector<uint32_t>& before,
                        const Desired& after) const;

  MapStore& store_;
  UdpBackendRemovedHook on_udp_backend_removed_;
  bool needs_adopt_ = true;
  ApplySummary summary_;

  std::map<weft_svc_key, ServiceState, BytesLess> services_;
  std::map<uint32_t, weft_backend> backends_;      // backend id -> map value
  std::map<BackendKey, uint32_t> backend_by_key_;  // identity -> backend id
  std::map<uint32_t, uint32_t> backend_refs_;      // backend id -> slots naming it
  std::set<uint32_t> maybe_unused_;                // ids collectBackends() must look at
  IdAllocator service_ids_;
  IdAllocator backend_ids_;
  std::vector<uint32_t> released_service_ids_;  // reusable once the current apply ends

  // Left by an interrupted removal; deleted by the next apply.
  std::vector<std::pair<weft_slot_key, uint32_t>> orphan_slots_;  // with the backend named
  std::vector<std::pair<weft_maglev_key, uint32_t>> orphan_maglev_;
  std::vector<weft_member_key> orphan_members_;
  std::set<uint32_t> orphan_infos_;
  std::set<uint32_t> orphan_service_ids_;
};

}  // namespace weft
