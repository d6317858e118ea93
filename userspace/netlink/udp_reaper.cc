// SPDX-License-Identifier: Apache-2.0
// UDP reaper: one sock_diag dump per address family, then one SOCK_DESTROY per match.
#include "userspace/netlink/udp_reaper.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "userspace/common/log.h"
#include "userspace/netlink/netlink_socket.h"

namespace weft {
namespace {

constexpr std::string_view kComponent = "udp-reaper";
// connect() moves a UDP socket to TCP_ESTABLISHED (1); unconnected ones sit in
// TCP_CLOSE and have no peer worth comparing.
constexpr uint32_t kConnectedStates = 1u << 1;

struct Victim {
  uint8_t family;
  inet_diag_sockid id;
};

uint64_t cookieOf(const inet_diag_sockid& id) {
  return static_cast<uint64_t>(id.idiag_cookie[0]) |
         (static_cast<uint64_t>(id.idiag_cookie[1]) << 32);
}

// The kernel reports an IPv6 socket's peer as 16 bytes; an IPv4 backend matches it
// only in its IPv4-mapped form (::ffff:a.b.c.d).
bool peerIs(const inet_diag_msg& msg, const weft_backend& backend) {
  if (msg.id.idiag_dport != backend.port) {
    return false;
  }
  const __be32* dst = msg.id.idiag_dst;
  if (backend.family == WEFT_AF_INET) {
    if (msg.idiag_family == AF_INET) {
      return dst[0] == backend.addr[0];
    }
    return dst[0] == 0 && dst[1] == 0 && dst[2] == htonl(0xffff) && dst[3] == backend.addr[0];
  }
  return msg.idiag_family == AF_INET6 && std::memcmp(dst, backend.addr, 16) == 0;
}

std::span<const uint8_t> bytesOf(const inet_diag_req_v2& req) {
  return {reinterpret_cast<const uint8_t*>(&req), sizeof(req)};
}

Status collectVictims(NetlinkSocket& nl, uint8_t family, const weft_backend& backend,
                      const std::function<bool(uint64_t)>& balanced, std::vector<Victim>* victims) {
  inet_diag_req_v2 req{};
  req.sdiag_family = family;
  req.sdiag_protocol = IPPROTO_UDP;
  req.idiag_states = kConnectedStates;

  auto on_message = [&](const nlmsghdr& hdr) -> Status {
    if (hdr.nlmsg_type != SOCK_DIAG_BY_FAMILY) {
      return {};
    }
    if (hdr.nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
      return makeError(
          "udp reaper: short inet_diag message (" + std::to_string(hdr.nlmsg_len) + " bytes)", EIO);
    }
    const auto* msg = static_cast<const inet_diag_msg*>(NLMSG_DATA(&hdr));
    if (peerIs(*msg, backend) && balanced(cookieOf(msg->id))) {
      victims->push_back({msg->idiag_family, msg->id});
    }
    return {};
  };

  auto st = nl.request(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, bytesOf(req), on_message);
  if (!st) {
    return makeError(
        "udp reaper: dump family " + std::to_string(family) + ": " + st.error().message,
        st.error().code);
  }
  return {};
}

// True when the socket was destroyed, false when it had already gone away.
Result<bool> destroy(NetlinkSocket& nl, const Victim& victim) {
  inet_diag_req_v2 req{};
  req.sdiag_family = victim.family;
  req.sdiag_protocol = IPPROTO_UDP;
  req.idiag_states = kConnectedStates;
  req.id = victim.id;

  auto st = nl.request(SOCK_DESTROY, NLM_F_ACK, bytesOf(req),
                       [](const nlmsghdr&) -> Status { return {}; });
  if (st) {
    return true;
  }
  // ENOENT: closed since the dump. ESTALE: the 4-tuple now belongs to another
  // socket (the cookie differs), which was not judged by the predicate.
  if (st.error().code == ENOENT || st.error().code == ESTALE) {
    return false;
  }
  return makeError("udp reaper: destroy socket cookie " + std::to_string(cookieOf(victim.id)) +
                       ": " + st.error().message,
                   st.error().code);
}

}  // namespace

Result<int> destroyConnectedUdp(const weft_backend& backend,
                                const std::function<bool(uint64_t cookie)>& balanced) {
  if (backend.family != WEFT_AF_INET && backend.family != WEFT_AF_INET6) {
    return makeError("udp reaper: backend family " + std::to_string(backend.family) +
                     " is neither AF_INET nor AF_INET6");
  }

  auto nl = NetlinkSocket::open(NETLINK_SOCK_DIAG);
  if (!nl) {
    return nl.error();
  }

  // IPv6 sockets are searched for IPv4 backends too: dual-stack applications reach
  // IPv4 services through IPv4-mapped addresses.
  std::vector<Victim> victims;
  for (uint8_t family : {uint8_t{AF_INET}, uint8_t{AF_INET6}}) {
    if (family == AF_INET && backend.family == WEFT_AF_INET6) {
      continue;
    }
    if (auto st = collectVictims(*nl, family, backend, balanced, &victims); !st) {
      return st.error();
    }
  }

  int destroyed = 0;
  for (const Victim& victim : victims) {
    auto gone = destroy(*nl, victim);
    if (!gone) {
      return makeError(
          gone.error().message + " (after " + std::to_string(destroyed) + " destroyed)",
          gone.error().code);
    }
    destroyed += *gone ? 1 : 0;
  }
  if (!victims.empty()) {
    log::debug(kComponent, "destroyed connected udp sockets",
               {{"matched", victims.size()}, {"destroyed", destroyed}});
  }
  return destroyed;
}

}  // namespace weft
