// SPDX-License-Identifier: Apache-2.0
// Connects the controller's "UDP backend removed" event to the socket reaper.
#pragma once

#include <cstdint>
#include <functional>

#include "maps/weft_maps.h"
#include "userspace/controller/map_store.h"

namespace weft {

using UdpBackendRemovedHook = std::function<void(uint32_t svc_id, const weft_backend& backend)>;

// The hook closes connected UDP sockets that the data path balanced from service `svc_id`
// to `backend` (their cookies are in the revnat map) and prunes those revnat entries.
// Sockets that reached the backend's address directly are left alone. `store` must
// outlive the hook.
UdpBackendRemovedHook makeUdpReaperHook(MapStore& store);

}  // namespace weft
