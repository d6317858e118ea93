// SPDX-License-Identifier: Apache-2.0
// Test clients whose sockets bind a chosen loopback source address (and port) before they
// connect, so each one is a distinct client to Maglev and session affinity.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/e2e/sockets.h"

namespace weft::e2e {

// "127.1.<i / 250>.<i % 250 + 1>": a distinct address of 127.0.0.0/8 (all on lo) for each
// client index below 64000.
std::string clientAddress(int index);

// fetchName() from a TCP socket bound to `source` (port `source_port`, 0: the kernel picks);
// empty `source` leaves the socket unbound. Returns the name or "error:<step>:<errno name>".
std::string fetchNameFrom(const std::string& source, uint16_t source_port, const Endpoint& to,
                          milliseconds timeout = milliseconds(3000));

// One datagram from a UDP socket bound to `source`:`source_port` and connected to `to`; the
// reply's text (the backend's name) or "error:<step>:<errno name>".
std::string udpNameFrom(const std::string& source, uint16_t source_port, const Endpoint& to,
                        milliseconds timeout = milliseconds(3000));

// Names joined by single spaces, for sending a whole pass through a Channel.
std::string joinNames(const std::vector<std::string>& names);
std::vector<std::string> splitNames(const std::string& text);

}  // namespace weft::e2e
