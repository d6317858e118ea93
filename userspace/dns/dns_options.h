// SPDX-License-Identifier: Apache-2.0
// Settings of the DNS server and the parsing of its address fields from config text.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "userspace/common/result.h"
#include "userspace/config/agent_config.h"
#include "userspace/config/ip_addr.h"

namespace weft::dns {

struct SocketAddress {
  IpAddr ip;
  uint16_t port = 0;

  // "127.0.0.1:53" or "[::1]:53"; port 0..65535 when `allow_port_zero`, else 1..65535.
  // Errors name `field` and the text.
  static Result<SocketAddress> parse(std::string_view text, std::string_view field,
                                     bool allow_port_zero);
  // "127.0.0.1:53" or "[::1]:53".
  std::string toString() const;

  bool operator==(const SocketAddress&) const = default;
};

struct DnsOptions {
  // Where to listen (UDP, and TCP on the same port). Port 0 picks a free port (tests).
  SocketAddress listen{*IpAddr::parse("127.0.0.1"), 53};
  std::string domain = "cluster.local";
  // Where names outside `domain` go; nullopt answers them REFUSED. Only ever the address
  // the operator configured: the server never picks an upstream on its own.
  std::optional<SocketAddress> forward;
  uint32_t ttl_seconds = 5;  // short: a deleted service must vanish from caches soon
  std::chrono::milliseconds forward_timeout{2000};
  bool tcp = true;
  size_t max_forwards_in_flight = 256;  // beyond this, SERVFAIL instead of queueing
  size_t max_tcp_connections = 64;
  std::chrono::milliseconds tcp_idle_timeout{10000};
};

// The config's `dns.forward`: "refuse" -> nullopt, else an upstream "ip:port".
Result<std::optional<SocketAddress>> parseForwardSetting(std::string_view text);

// Checks every field; messages name it ("dns.domain: ...").
Status validateDnsOptions(const DnsOptions& options);

// The agent config's `dns:` block as server options (validated). Callers check
// `config.listen` first: an empty listen address means the server is off.
Result<DnsOptions> dnsOptionsFromConfig(const DnsConfig& config);

}  // namespace weft::dns
