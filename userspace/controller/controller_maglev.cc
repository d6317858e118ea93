// SPDX-License-Identifier: Apache-2.0
// The parts of a service beyond its slots: the Maglev table and the member states, each
// written slot by slot with only the entries that change.
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "userspace/controller/controller.h"
#include "userspace/lb/maglev.h"

namespace weft {
namespace {

// Every host walks the same ladder, so a table grown for a backend count has the same size
// wherever the registry is shared.
constexpr std::array<uint32_t, 10> kMaglevSizeLadder = {
    251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, WEFT_MAGLEV_MAX_SIZE};

uint32_t maglevTableSize(uint32_t configured, size_t backends) {
  uint32_t size = configured == 0 ? WEFT_MAGLEV_DEFAULT_SIZE : configured;
  uint64_t needed = uint64_t{lb::kMaglevSlotsPerBackend} * backends;
  if (size >= needed) {
    return size;
  }
  for (uint32_t step : kMaglevSizeLadder) {
    if (step >= needed) {
      return step;
    }
  }
  return WEFT_MAGLEV_MAX_SIZE;
}

}  // namespace

Status Controller::desiredMaglev(const ServiceConfig& config, const ServiceState* state,
                                 Desired* out) const {
  MaglevInput& input = out->maglev_input;
  for (const BackendConfig& be : config.backends) {
    if (be.draining) {
      continue;
    }
    // The identity every host agrees on: address, port and protocol, never a local id.
    weft_backend value = encodeBackend(be, config.protocol, 0);
    input.backends.push_back({formatBackend(value), std::max<uint32_t>(be.weight, 1)});
    input.ids.push_back(backendId(be, config.protocol));
  }
  if (input.backends.empty()) {
    return {};
  }
  input.size = maglevTableSize(config.maglev_table_size, input.backends.size());
  if (state != nullptr && state->maglev_input == input && state->maglev.size() == input.size) {
    out->maglev = state->maglev;
    return {};
  }

  auto table = lb::buildMaglevTable(input.backends, input.size);
  if (!table) {
    return makeError(
        fmt::format("service \"{}\": maglev table: {}", config.name, table.error().message));
  }
  out->maglev.resize(table->size());
  for (size_t i = 0; i < table->size(); ++i) {
    uint32_t index = (*table)[i];
    out->maglev[i] = index < input.ids.size() ? input.ids[index] : 0;
  }
  return {};
}

Status Controller::writeMaglev(ServiceState& state, const std::vector<uint32_t>& table) {
  if (state.maglev.size() < table.size()) {
    state.maglev.resize(table.size(), 0);
  }
  for (uint32_t i = 0; i < table.size(); ++i) {
    if (state.maglev[i] == table[i] || table[i] == 0) {
      continue;
    }
    if (auto st = putMaglevSlot(state, i, table[i]); !st) {
      return st;
    }
  }
  return {};
}

Status Controller::trimMaglev(ServiceState& state, size_t size) {
  while (state.maglev.size() > size) {
    auto index = static_cast<uint32_t>(state.maglev.size() - 1);
    if (state.maglev[index] != 0) {
      if (auto st = eraseMaglevSlot(state, index); !st) {
        return st;
      }
    }
    state.maglev.pop_back();
  }
  return {};
}

Status Controller::putMaglevSlot(ServiceState& state, uint32_t index, uint32_t backend_id) {
  weft_maglev_key key{};
  key.svc_id = state.id;
  key.index = index;
  if (auto st = counted(store_.putMaglev(key, backend_id)); !st) {
    return st;
  }
  if (state.maglev.size() <= index) {
    state.maglev.resize(index + 1, 0);
  }
  if (state.maglev[index] != 0) {
    release(state.maglev[index]);
  }
  state.maglev[index] = backend_id;
  ++backend_refs_[backend_id];
  return {};
}

Status Controller::eraseMaglevSlot(ServiceState& state, uint32_t index) {
  weft_maglev_key key{};
  key.svc_id = state.id;
  key.index = index;
  if (auto st = counted(store_.eraseMaglev(key)); !st) {
    return st;
  }
  if (index < state.maglev.size() && state.maglev[index] != 0) {
    release(state.maglev[index]);
    state.maglev[index] = 0;
  }
  return {};
}

Status Controller::writeMembers(ServiceState& state, const std::map<uint32_t, uint8_t>& wanted) {
  for (const auto& [backend_id, member_state] : wanted) {
    auto it = state.members.find(backend_id);
    if (it != state.members.end() && it->second == member_state) {
      continue;
    }
    weft_member_key key{};
    key.svc_id = state.id;
    key.backend_id = backend_id;
    weft_member value{};
    value.state = member_state;
    if (auto st = counted(store_.putMember(key, value)); !st) {
      return st;
    }
    if (it == state.members.end()) {
      state.members.emplace(backend_id, member_state);
      ++backend_refs_[backend_id];
    } else {
      it->second = member_state;
    }
  }
  return {};
}

Status Controller::pruneMembers(ServiceState& state, const std::map<uint32_t, uint8_t>& wanted) {
  for (auto it = state.members.begin(); it != state.members.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    weft_member_key key{};
    key.svc_id = state.id;
    key.backend_id = it->first;
    if (auto st = counted(store_.eraseMember(key)); !st) {
      return st;
    }
    release(it->first);
    it = state.members.erase(it);
  }
  return {};
}

}  // namespace weft
