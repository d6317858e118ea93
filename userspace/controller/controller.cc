// SPDX-License-Identifier: Apache-2.0
// Controller::apply: diff the wanted services against the mirrored map state and write only
// the difference, in an order that is safe for concurrent readers (see controller.h).
#include "userspace/controller/controller.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include <fmt/format.h>

#include "userspace/common/log.h"
#include "userspace/config/config_validate.h"
#include "userspace/controller/weighted_slots.h"

namespace weft {
namespace {

constexpr std::string_view kComponent = "controller";

std::string describe(const ServiceConfig& svc) {
  return fmt::format("service \"{}\" ({})", svc.name, formatServiceKey(encodeServiceKey(svc)));
}

}  // namespace

Controller::Controller(MapStore& store)
    : store_(store), service_ids_(WEFT_MAX_SERVICES - 1), backend_ids_(WEFT_MAX_BACKENDS) {}

Controller::BackendKey Controller::backendKey(const weft_backend& backend) {
  static_assert(offsetof(weft_backend, state) == sizeof(BackendKey));
  BackendKey key{};
  std::memcpy(key.data(), &backend, key.size());
  return key;
}

uint32_t Controller::serviceId(const weft_svc_key& key) const {
  auto it = services_.find(key);
  return it == services_.end() ? 0 : it->second.id;
}

uint32_t Controller::backendId(const BackendConfig& backend, uint8_t protocol) const {
  auto it = backend_by_key_.find(backendKey(encodeBackend(backend, protocol, 0)));
  return it == backend_by_key_.end() ? 0 : it->second;
}

Status Controller::checkServices(const std::vector<ServiceConfig>& services) const {
  if (services.size() > service_ids_.maxId()) {
    return makeError(
        fmt::format("services: {} services; at most {}", services.size(), service_ids_.maxId()));
  }

  std::set<weft_svc_key, BytesLess> keys;
  for (const ServiceConfig& svc : services) {
    bool family_ok = svc.vip.isV4() || svc.vip.isV6();
    bool proto_ok = svc.protocol == WEFT_PROTO_TCP || svc.protocol == WEFT_PROTO_UDP;
    bool algo_ok = svc.algorithm == WEFT_LB_ROUND_ROBIN || svc.algorithm == WEFT_LB_RANDOM ||
                   svc.algorithm == WEFT_LB_WEIGHTED || svc.algorithm == WEFT_LB_LEAST_CONN ||
                   svc.algorithm == WEFT_LB_MAGLEV;
    if (!family_ok || !proto_ok || !algo_ok || svc.port == 0) {
      return makeError(fmt::format("{}: bad vip family, port, protocol or algorithm ({}, {}, {})",
                                   describe(svc), svc.vip.family, svc.protocol,
                                   static_cast<int>(svc.algorithm)));
    }
    if (svc.algorithm == WEFT_LB_LEAST_CONN && svc.protocol != WEFT_PROTO_TCP) {
      return makeError(fmt::format("{}: least_conn counts TCP connections only", describe(svc)));
    }
    if (std::string problem = maglevTableSizeProblem(svc.maglev_table_size); !problem.empty()) {
      return makeError(fmt::format("{}: maglev_table_size {}", describe(svc), problem));
    }
    if (svc.affinity_timeout_s > kMaxAffinityTimeoutSeconds) {
      return makeError(fmt::format("{}: affinity_timeout_seconds {} is above {}", describe(svc),
                                   svc.affinity_timeout_s, kMaxAffinityTimeoutSeconds));
    }
    if (svc.name.size() >= WEFT_SVC_NAME_LEN) {
      return makeError(
          fmt::format("{}: name longer than {} bytes", describe(svc), WEFT_SVC_NAME_LEN - 1));
    }
    if (!keys.insert(encodeServiceKey(svc)).second) {
      return makeError(
          fmt::format("{}: another service has the same vip, port and protocol", describe(svc)));
    }
    // Draining backends take no slot, only a member entry.
    auto active = std::count_if(svc.backends.begin(), svc.backends.end(),
                                [](const BackendConfig& be) { return !be.draining; });
    if (static_cast<size_t>(active) > WEFT_MAX_SLOTS_PER_SVC) {
      return makeError(fmt::format("{}: {} active backends; at most {}", describe(svc), active,
                                   WEFT_MAX_SLOTS_PER_SVC));
    }
    for (const BackendConfig& be : svc.backends) {
      if (be.address.family != svc.vip.family || be.port == 0) {
        return makeError(fmt::format("{}: backend {} port {} has another family or port 0",
                                     describe(svc), be.address.toString(), be.port));
      }
    }
  }
  return {};
}

Result<ApplySummary> Controller::apply(const std::vector<ServiceConfig>& services) {
  if (auto st = checkServices(services); !st) {
    return st.error();
  }
  return run([&] { return reconcile(services); });
}

Result<ApplySummary> Controller::applyChanges(const std::vector<ServiceConfig>& upserts,
                                              const std::vector<weft_svc_key>& removals) {
  if (auto st = checkServices(upserts); !st) {
    return st.error();
  }
  return run([&] { return reconcileChanges(upserts, removals); });
}

Result<ApplySummary> Controller::run(const std::function<Status()>& change) {
  summary_ = {};
  if (needs_adopt_) {
    if (auto st = adopt(); !st) {
      return st.error();
    }
  }

  auto st = change();
  // Ids freed by this apply become reusable only now, so a reader still holding a removed
  // service's value never finds another service's slots under the same id.
  for (uint32_t id : released_service_ids_) {
    service_ids_.release(id);
  }
  released_service_ids_.clear();

  if (!st) {
    // The mirror may be ahead of or behind the maps; read them again before the next diff.
    needs_adopt_ = true;
    // The caller reports the error itself; this line only records the partial progress.
    log::warn(kComponent, "apply stopped; the maps will be re-read before the next apply",
              {{"error", st.error().message}, {"map_writes", summary_.map_writes}});
    return st.error();
  }
  return summary_;
}

Status Controller::reconcile(const std::vector<ServiceConfig>& services) {
  if (auto st = removeOrphans(); !st) {
    return st;
  }

  std::set<weft_svc_key, BytesLess> wanted;
  for (const ServiceConfig& svc : services) {
    wanted.insert(encodeServiceKey(svc));
  }
  for (auto it = services_.begin(); it != services_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    if (auto st = removeService(it->second); !st) {
      return st;
    }
    it = services_.erase(it);
  }

  return upsertServices(services);
}

Status Controller::reconcileChanges(const std::vector<ServiceConfig>& upserts,
                                    const std::vector<weft_svc_key>& removals) {
  if (auto st = removeOrphans(); !st) {
    return st;
  }

  std::set<weft_svc_key, BytesLess> upserted;
  for (const ServiceConfig& svc : upserts) {
    upserted.insert(encodeServiceKey(svc));
  }
  for (const weft_svc_key& key : removals) {
    auto it = services_.find(key);
    if (it == services_.end() || upserted.contains(key)) {
      continue;
    }
    if (auto st = removeService(it->second); !st) {
      return st;
    }
    services_.erase(it);
  }

  // A key still held under another name means the caller's view of who owns it is stale.
  for (const ServiceConfig& svc : upserts) {
    auto it = services_.find(encodeServiceKey(svc));
    if (it != services_.end() && it->second.has_info &&
        decodeServiceName(it->second.info) != svc.name) {
      return makeError(fmt::format("{}: vip, port and protocol are held by service {}",
                                   describe(svc), decodeServiceName(it->second.info)));
    }
  }
  return upsertServices(upserts);
}

Status Controller::upsertServices(const std::vector<ServiceConfig>& services) {
  if (auto st = ensureBackends(services); !st) {
    return st;
  }
  for (const ServiceConfig& svc : services) {
    auto it = services_.find(encodeServiceKey(svc));
    auto st = it == services_.end() ? addService(svc) : updateService(it->second, svc);
    if (!st) {
      return st;
    }
  }
  return collectBackends();
}

Status Controller::removeOrphans() {
  for (const auto& [key, backend_id] : orphan_slots_) {
    if (auto st = counted(store_.eraseSlot(key)); !st) {
      return st;
    }
    release(backend_id);
  }
  orphan_slots_.clear();
  for (const auto& [key, backend_id] : orphan_maglev_) {
    if (auto st = counted(store_.eraseMaglev(key)); !st) {
      return st;
    }
    release(backend_id);
  }
  orphan_maglev_.clear();
  for (const weft_member_key& key : orphan_members_) {
    if (auto st = counted(store_.eraseMember(key)); !st) {
      return st;
    }
    release(key.backend_id);
  }
  orphan_members_.clear();

  for (uint32_t id : orphan_infos_) {
    if (auto st = counted(store_.eraseServiceInfo(id)); !st) {
      return st;
    }
  }
  for (uint32_t id : orphan_service_ids_) {
    if (auto st = counted(store_.resetRoundRobin(id)); !st) {
      return st;
    }
    released_service_ids_.push_back(id);
  }
  orphan_infos_.clear();
  orphan_service_ids_.clear();
  return {};
}

Status Controller::removeService(ServiceState& state) {
  if (auto st = counted(store_.eraseService(state.key)); !st) {
    return st;
  }
  notifyUdpRemoved(state, activeBackends(state), Desired{});

  for (uint8_t half : {0, 1}) {
    while (!state.slots[half].empty()) {
      if (auto st = eraseSlot(state, half, state.slots[half].begin()->first); !st) {
        return st;
      }
    }
  }
  if (auto st = trimMaglev(state, 0); !st) {
    return st;
  }
  if (auto st = pruneMembers(state, {}); !st) {
    return st;
  }
  if (state.has_info) {
    if (auto st = counted(store_.eraseServiceInfo(state.id)); !st) {
      return st;
    }
  }
  if (auto st = counted(store_.resetRoundRobin(state.id)); !st) {
    return st;
  }

  released_service_ids_.push_back(state.id);
  ++summary_.services_removed;
  log::info(kComponent, "service removed",
            {{"service", decodeServiceName(state.info)},
             {"key", formatServiceKey(state.key)},
             {"svc_id", state.id}});
  return {};
}

Status Controller::ensureBackends(const std::vector<ServiceConfig>& services) {
  // TODO(weft): state is always ACTIVE until drain and health checks own the other bits.
  for (const ServiceConfig& svc : services) {
    for (const BackendConfig& be : svc.backends) {
      weft_backend value = encodeBackend(be, svc.protocol, WEFT_BE_ACTIVE);
      auto [it, inserted] = backend_by_key_.try_emplace(backendKey(value), 0);

      if (!inserted) {
        if (!sameBytes(backends_[it->second], value)) {
          if (auto st = counted(store_.putBackend(it->second, value)); !st) {
            return st;
          }
          backends_[it->second] = value;
        }
        continue;
      }

      auto id = backend_ids_.allocate();
      if (!id) {
        backend_by_key_.erase(it);
        return makeError(fmt::format("{}: no free backend id for {}: {}", describe(svc),
                                     formatBackend(value), id.error().message));
      }
      it->second = *id;
      // A reused id starts with no connections; closes of the old backend's connections
      // saturate at zero in the data path.
      if (auto st = store_.resetConnCount(*id); !st) {
        backend_by_key_.erase(it);
        backend_ids_.release(*id);
        return st;
      }
      if (auto st = counted(store_.putBackend(*id, value)); !st) {
        return st;
      }
      backends_[*id] = value;
      // Named by no slot until the service is written; a cut set may never name it.
      maybe_unused_.insert(*id);
      ++summary_.backends_added;
    }
  }
  return {};
}

Status Controller::addService(const ServiceConfig& config) {
  auto wanted = desired(config, nullptr);
  if (!wanted) {
    return wanted.error();
  }
  auto id = service_ids_.allocate();
  if (!id) {
    return makeError(
        fmt::format("{}: no free service id: {}", describe(config), id.error().message));
  }

  weft_svc_key key = encodeServiceKey(config);
  ServiceState& state = services_[key];
  state.id = *id;
  state.key = key;

  if (auto st = writeMembers(state, wanted->members); !st) {
    return st;
  }
  if (auto st = writeHalf(state, 0, wanted->slots); !st) {
    return st;
  }
  if (auto st = writeMaglev(state, wanted->maglev); !st) {
    return st;
  }
  state.maglev_input = wanted->maglev_input;
  if (auto st = putInfo(state, encodeServiceInfo(key, config.name)); !st) {
    return st;
  }

  weft_svc_value value{};
  value.svc_id = *id;
  value.half = 0;
  value.generation = 1;
  if (auto st = putService(state, serviceValue(value, config, *wanted)); !st) {
    return st;
  }

  ++summary_.services_added;
  log::info(kComponent, "service added",
            {{"service", config.name},
             {"key", formatServiceKey(key)},
             {"svc_id", *id},
             {"algorithm", algorithmName(config.algorithm)},
             {"backends", wanted->slots.size()},
             {"maglev_size", wanted->maglev.size()}});
  return {};
}

Status Controller::updateService(ServiceState& state, const ServiceConfig& config) {
  auto wanted = desired(config, &state);
  if (!wanted) {
    return wanted.error();
  }
  std::vector<uint32_t> before = activeBackends(state);
  weft_svc_value value = state.value;
  size_t writes_before = summary_.map_writes;

  // Joining and changed members first: a client remembered on a backend that is now draining
  // must not be sent there again once the new value is in place.
  if (auto st = writeMembers(state, wanted->members); !st) {
    return st;
  }
  if (before != wanted->slots) {
    // Fill the half no reader is using, then switch to it with one update.
    uint8_t target = state.value.half ^ 1;
    if (auto st = writeHalf(state, target, wanted->slots); !st) {
      return st;
    }
    value.half = target;
  }
  size_t maglev_writes = summary_.map_writes;
  if (auto st = writeMaglev(state, wanted->maglev); !st) {
    return st;
  }
  state.maglev_input = wanted->maglev_input;
  maglev_writes = summary_.map_writes - maglev_writes;

  value = serviceValue(value, config, *wanted);
  bool changed = summary_.map_writes != writes_before;
  if (changed || !sameBytes(value, state.value)) {
    ++value.generation;
    if (auto st = putService(state, value); !st) {
      return st;
    }
    changed = true;
  }
  notifyUdpRemoved(state, before, *wanted);
  if (auto st = trimMaglev(state, wanted->maglev.size()); !st) {
    return st;
  }
  if (auto st = pruneMembers(state, wanted->members); !st) {
    return st;
  }

  weft_svc_info info = encodeServiceInfo(state.key, config.name);
  if (!state.has_info || !sameBytes(info, state.info)) {
    if (auto st = putInfo(state, info); !st) {
      return st;
    }
    changed = true;
  }

  if (changed) {
    ++summary_.services_changed;
    log::info(kComponent, "service changed",
              {{"service", config.name},
               {"key", formatServiceKey(state.key)},
               {"svc_id", state.id},
               {"algorithm", algorithmName(config.algorithm)},
               {"backends", wanted->slots.size()},
               {"maglev_size", state.value.maglev_size},
               {"maglev_slots_written", maglev_writes},
               {"generation", state.value.generation}});
  }
  return {};
}

Status Controller::writeHalf(ServiceState& state, uint8_t half,
                             const std::vector<uint32_t>& backend_ids) {
  auto& slots = state.slots[half];
  for (size_t i = 0; i < backend_ids.size(); ++i) {
    auto index = static_cast<uint16_t>(i);
    auto it = slots.find(index);
    if (it != slots.end() && it->second == backend_ids[i]) {
      continue;
    }
    if (auto st = putSlot(state, half, index, backend_ids[i]); !st) {
      return st;
    }
  }

  // Slots past the new count were last read through a value that is two flips old.
  while (!slots.empty() && slots.rbegin()->first >= backend_ids.size()) {
    if (auto st = eraseSlot(state, half, slots.rbegin()->first); !st) {
      return st;
    }
  }
  return {};
}

void Controller::release(uint32_t backend_id) {
  uint32_t& refs = backend_refs_[backend_id];
  refs -= refs > 0 ? 1 : 0;
  if (refs == 0) {
    maybe_unused_.insert(backend_id);
  }
}

// Looks only at backends whose slot count dropped to zero (or that adopt found), so a change
// to a few services costs the same with 100 or 100,000 backends.
Status Controller::collectBackends() {
  while (!maybe_unused_.empty()) {
    uint32_t id = *maybe_unused_.begin();
    auto refs = backend_refs_.find(id);
    if (refs != backend_refs_.end() && refs->second > 0) {
      maybe_unused_.erase(maybe_unused_.begin());
      continue;
    }
    if (refs != backend_refs_.end()) {
      backend_refs_.erase(refs);
    }

    auto it = backends_.find(id);
    if (it == backends_.end()) {
      // A slot named it without a backend entry (found by adopt): free once unnamed.
      backend_ids_.release(id);
      maybe_unused_.erase(maybe_unused_.begin());
      continue;
    }
    if (auto st = counted(store_.eraseBackend(id)); !st) {
      return st;
    }
    auto by_key = backend_by_key_.find(backendKey(it->second));
    if (by_key != backend_by_key_.end() && by_key->second == id) {
      backend_by_key_.erase(by_key);
    }
    backend_ids_.release(id);
    ++summary_.backends_removed;
    log::debug(kComponent, "backend removed",
               {{"backend_id", id}, {"backend", formatBackend(it->second)}});
    backends_.erase(it);
    maybe_unused_.erase(maybe_unused_.begin());
  }
  return {};
}

Status Controller::counted(Status st) {
  if (st) {
    ++summary_.map_writes;
  }
  return st;
}

Status Controller::putSlot(ServiceState& state, uint8_t half, uint16_t index, uint32_t backend_id) {
  weft_slot_key key{};
  key.svc_id = state.id;
  key.index = index;
  key.half = half;
  weft_slot_value value{};
  value.backend_id = backend_id;
  if (auto st = counted(store_.putSlot(key, value)); !st) {
    return st;
  }

  auto [it, inserted] = state.slots[half].try_emplace(index, backend_id);
  if (!inserted) {
    release(it->second);
    it->second = backend_id;
  }
  ++backend_refs_[backend_id];
  return {};
}

Status Controller::eraseSlot(ServiceState& state, uint8_t half, uint16_t index) {
  weft_slot_key key{};
  key.svc_id = state.id;
  key.index = index;
  key.half = half;
  if (auto st = counted(store_.eraseSlot(key)); !st) {
    return st;
  }

  auto it = state.slots[half].find(index);
  if (it != state.slots[half].end()) {
    release(it->second);
    state.slots[half].erase(it);
  }
  return {};
}

Status Controller::putService(ServiceState& state, const weft_svc_value& value) {
  if (auto st = counted(store_.putService(state.key, value)); !st) {
    return st;
  }
  state.value = value;
  return {};
}

Status Controller::putInfo(ServiceState& state, const weft_svc_info& info) {
  if (auto st = counted(store_.putServiceInfo(state.id, info)); !st) {
    return st;
  }
  state.info = info;
  state.has_info = true;
  return {};
}

std::vector<uint32_t> Controller::activeBackends(const ServiceState& state) const {
  std::vector<uint32_t> ids;
  const auto& slots = state.slots[state.value.half & 1];
  for (uint16_t i = 0; i < state.value.count; ++i) {
    auto it = slots.find(i);
    // A hole never matches a wanted set, so it gets rewritten.
    ids.push_back(it == slots.end() ? 0 : it->second);
  }
  return ids;
}

Result<Controller::Desired> Controller::desired(const ServiceConfig& config,
                                                const ServiceState* state) const {
  Desired out;
  out.slots = desiredSlots(config);
  for (const BackendConfig& be : config.backends) {
    out.members[backendId(be, config.protocol)] = be.draining ? WEFT_BE_DRAINING : WEFT_BE_ACTIVE;
  }
  if (config.algorithm == WEFT_LB_MAGLEV) {
    if (auto st = desiredMaglev(config, state, &out); !st) {
      return st.error();
    }
  }
  return out;
}

std::vector<uint32_t> Controller::desiredSlots(const ServiceConfig& config) const {
  std::vector<const BackendConfig*> usable;
  for (const BackendConfig& be : config.backends) {
    if (!be.draining) {
      usable.push_back(&be);
    }
  }
  std::vector<uint32_t> ids;
  if (config.algorithm == WEFT_LB_WEIGHTED) {
    // Weights become slot counts; the kernel takes the slots in turn.
    std::vector<uint32_t> weights;
    for (const BackendConfig* be : usable) {
      weights.push_back(be->weight);
    }
    for (size_t index : weightedSlots(weights, WEFT_MAX_SLOTS_PER_SVC)) {
      ids.push_back(backendId(*usable[index], config.protocol));
    }
    return ids;
  }
  for (const BackendConfig* be : usable) {
    ids.push_back(backendId(*be, config.protocol));
  }
  return ids;
}

weft_svc_value Controller::serviceValue(const weft_svc_value& current, const ServiceConfig& config,
                                        const Desired& desired) {
  weft_svc_value value = current;
  value.count = static_cast<__u16>(desired.slots.size());
  value.algo = static_cast<__u8>(config.algorithm);
  value.flags = config.hash_key == HashKey::kClientAddrPort ? WEFT_SVC_F_HASH_PORT : 0;
  value.maglev_size = static_cast<__u32>(desired.maglev.size());
  value.affinity_timeout_s = config.affinity_timeout_s;
  return value;
}

void Controller::notifyUdpRemoved(const ServiceState& state, const std::vector<uint32_t>& before,
                                  const Desired& after) const {
  if (state.key.proto != WEFT_PROTO_UDP || !on_udp_backend_removed_) {
    return;
  }

  // Draining members keep their connected sockets, like TCP keeps established connections.
  std::set<uint32_t> done(after.slots.begin(), after.slots.end());
  for (const auto& [id, member_state] : after.members) {
    done.insert(id);
  }
  for (uint32_t id : before) {
    auto it = backends_.find(id);
    if (id == 0 || it == backends_.end() || !done.insert(id).second) {
      continue;
    }
    on_udp_backend_removed_(state.id, it->second);
  }
}

}  // namespace weft
