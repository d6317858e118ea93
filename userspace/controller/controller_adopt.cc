// SPDX-License-Identifier: Apache-2.0
// Controller::adopt: rebuild the controller's mirror from what is already in the maps, so a
// restarted agent keeps ids and active halves and rewrites nothing that is still right.
#include <algorithm>

#include <fmt/format.h>

#include "userspace/common/log.h"
#include "userspace/controller/controller.h"

namespace weft {

void Controller::reset() {
  services_.clear();
  backends_.clear();
  backend_by_key_.clear();
  backend_refs_.clear();
  maybe_unused_.clear();
  service_ids_.clear();
  backend_ids_.clear();
  released_service_ids_.clear();
  orphan_slots_.clear();
  orphan_maglev_.clear();
  orphan_members_.clear();
  orphan_infos_.clear();
  orphan_service_ids_.clear();
}

Status Controller::adopt() {
  reset();
  auto services = store_.listServices();
  auto infos = store_.listServiceInfo();
  auto slots = store_.listSlots();
  auto backends = store_.listBackends();
  auto maglev = store_.listMaglev();
  auto members = store_.listMembers();
  for (const Error* e :
       {services ? nullptr : &services.error(), infos ? nullptr : &infos.error(),
        slots ? nullptr : &slots.error(), backends ? nullptr : &backends.error(),
        maglev ? nullptr : &maglev.error(), members ? nullptr : &members.error()}) {
    if (e != nullptr) {
      return *e;
    }
  }

  std::map<uint32_t, ServiceState*> by_id;
  for (const auto& [key, value] : *services) {
    // A value the controller would never write means someone else wrote the map; guessing
    // which half is live could send connects to the wrong backends.
    if (value.svc_id < 1 || value.svc_id > service_ids_.maxId() || value.half > 1 ||
        value.count > WEFT_MAX_SLOTS_PER_SVC || value.maglev_size > WEFT_MAGLEV_MAX_SIZE) {
      reset();
      return makeError(
          fmt::format("map {}: service {} has an invalid value (svc_id {}, half {}, "
                      "count {}); run weftd --cleanup",
                      WEFT_MAP_SVC, formatServiceKey(key), value.svc_id, value.half, value.count));
    }
    if (auto it = by_id.find(value.svc_id); it != by_id.end()) {
      std::string other = formatServiceKey(it->second->key);
      reset();
      return makeError(
          fmt::format("map {}: svc_id {} is used by both {} and {}; run weftd "
                      "--cleanup",
                      WEFT_MAP_SVC, value.svc_id, other, formatServiceKey(key)));
    }

    ServiceState& state = services_[key];
    state.id = value.svc_id;
    state.key = key;
    state.value = value;
    by_id[value.svc_id] = &state;
    service_ids_.reserve(value.svc_id);
  }

  for (const auto& [id, info] : *infos) {
    if (auto it = by_id.find(id); it != by_id.end()) {
      it->second->info = info;
      it->second->has_info = true;
    } else {
      orphan_infos_.insert(id);
      if (id >= 1 && id <= service_ids_.maxId()) {
        orphan_service_ids_.insert(id);
      }
    }
  }

  for (const auto& [key, value] : *slots) {
    auto it = by_id.find(key.svc_id);
    if (it != by_id.end() && key.half <= 1) {
      it->second->slots[key.half][key.index] = value.backend_id;
    } else {
      orphan_slots_.emplace_back(key, value.backend_id);
      if (it == by_id.end() && key.svc_id >= 1 && key.svc_id <= service_ids_.maxId()) {
        orphan_service_ids_.insert(key.svc_id);
      }
    }
    ++backend_refs_[value.backend_id];
    maybe_unused_.insert(value.backend_id);
    backend_ids_.reserve(value.backend_id);
  }
  // Slots at or past the table size are what an interrupted shrink left; readers never reach
  // them, so they are deleted like orphans.
  for (const auto& [key, backend_id] : *maglev) {
    auto it = by_id.find(key.svc_id);
    if (it != by_id.end() && key.index < it->second->value.maglev_size) {
      std::vector<uint32_t>& table = it->second->maglev;
      table.resize(std::max<size_t>(table.size(), key.index + 1), 0);
      table[key.index] = backend_id;
    } else {
      orphan_maglev_.emplace_back(key, backend_id);
      if (it == by_id.end() && key.svc_id >= 1 && key.svc_id <= service_ids_.maxId()) {
        orphan_service_ids_.insert(key.svc_id);
      }
    }
    ++backend_refs_[backend_id];
    maybe_unused_.insert(backend_id);
    backend_ids_.reserve(backend_id);
  }
  for (const auto& [key, member] : *members) {
    auto it = by_id.find(key.svc_id);
    if (it != by_id.end()) {
      it->second->members[key.backend_id] = member.state;
    } else {
      orphan_members_.push_back(key);
      if (key.svc_id >= 1 && key.svc_id <= service_ids_.maxId()) {
        orphan_service_ids_.insert(key.svc_id);
      }
    }
    ++backend_refs_[key.backend_id];
    maybe_unused_.insert(key.backend_id);
    backend_ids_.reserve(key.backend_id);
  }
  for (uint32_t id : orphan_service_ids_) {
    service_ids_.reserve(id);
  }

  // Lowest id first, so that if an interrupted run left two entries for one address the
  // older one is the one new slots name.
  std::sort(backends->begin(), backends->end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [id, value] : *backends) {
    backends_[id] = value;
    backend_by_key_.try_emplace(backendKey(value), id);
    backend_ids_.reserve(id);
    maybe_unused_.insert(id);
  }

  needs_adopt_ = false;
  log::info("controller", "adopted map state",
            {{"services", services_.size()},
             {"backends", backends_.size()},
             {"orphan_slots", orphan_slots_.size()},
             {"orphan_maglev_slots", orphan_maglev_.size()},
             {"orphan_members", orphan_members_.size()},
             {"orphan_services", orphan_service_ids_.size()}});
  return {};
}

}  // namespace weft
