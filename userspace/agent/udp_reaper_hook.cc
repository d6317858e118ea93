// SPDX-License-Identifier: Apache-2.0
// Finds the sockets weft balanced to a removed UDP backend and has the kernel close them.
#include "userspace/agent/udp_reaper_hook.h"

#include <cstring>
#include <unordered_set>
#include <vector>

#include "userspace/common/log.h"
#include "userspace/netlink/udp_reaper.h"

namespace weft {
namespace {

bool sameBackend(const weft_revnat_key& key, const weft_backend& backend) {
  return key.family == backend.family && key.port == backend.port &&
         std::memcmp(key.addr, backend.addr, sizeof(key.addr)) == 0;
}

}  // namespace

UdpBackendRemovedHook makeUdpReaperHook(MapStore& store) {
  return [&store](uint32_t svc_id, const weft_backend& backend) {
    auto entries = store.listRevNat();
    if (!entries) {
      log::error("reaper", "revnat list failed", {{"error", entries.error().message}});
      return;
    }
    std::unordered_set<uint64_t> cookies;
    std::vector<weft_revnat_key> stale;
    for (const auto& [key, value] : *entries) {
      if (value.svc_id == svc_id && sameBackend(key, backend)) {
        cookies.insert(key.cookie);
        stale.push_back(key);
      }
    }
    if (cookies.empty()) {
      return;
    }

    auto destroyed =
        destroyConnectedUdp(backend, [&](uint64_t cookie) { return cookies.count(cookie) > 0; });
    if (!destroyed) {
      log::error("reaper", "closing UDP sockets failed",
                 {{"svc_id", svc_id}, {"error", destroyed.error().message}});
    } else {
      log::info("reaper", "closed UDP sockets of a removed backend",
                {{"svc_id", svc_id}, {"sockets", *destroyed}});
    }
    for (const weft_revnat_key& key : stale) {
      (void)store.eraseRevNat(key);
    }
  };
}

}  // namespace weft
