// SPDX-License-Identifier: Apache-2.0
// Closes connected UDP sockets whose peer is a backend that left its service, so
// applications reconnect (and get balanced again) instead of talking to it forever.
#pragma once

#include <cstdint>
#include <functional>

#include "maps/weft_maps.h"
#include "userspace/common/result.h"

namespace weft {

// Finds connected UDP sockets (IPv4 and IPv6) in the caller's network namespace whose
// peer is `backend` (addr and port in network byte order, family WEFT_AF_INET or
// WEFT_AF_INET6; an IPv6 socket whose peer is ::ffff:a.b.c.d counts for an IPv4
// backend) and destroys those for which `balanced(cookie)` is true. backend.proto is
// not consulted: only UDP sockets are looked at. The owner's next recv/send fails
// with ECONNABORTED. Returns how many sockets were destroyed; a socket that closes
// on its own meanwhile is not an error. Needs CAP_NET_ADMIN and a kernel built with
// CONFIG_INET_DIAG_DESTROY. Blocking; call it from a thread that may wait on netlink.
Result<int> destroyConnectedUdp(const weft_backend& backend,
                                const std::function<bool(uint64_t cookie)>& balanced);

}  // namespace weft
