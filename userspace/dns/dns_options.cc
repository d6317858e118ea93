// SPDX-License-Identifier: Apache-2.0
// Parsing and validation of the DNS server's settings.
#include "userspace/dns/dns_options.h"

#include <charconv>

#include <fmt/format.h>

#include "userspace/dns/dns_wire.h"

namespace weft::dns {

Result<SocketAddress> SocketAddress::parse(std::string_view text, std::string_view field,
                                           bool allow_port_zero) {
  std::string quoted = fmt::format("{}: \"{}\"", field, text);
  std::string_view host;
  std::string_view port_text;

  if (!text.empty() && text.front() == '[') {
    size_t close = text.find("]:");
    if (close == text.npos) {
      return makeError(quoted + " is not [ipv6]:port");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == text.npos || text.find(':') != colon) {
      return makeError(quoted + " is not ip:port (IPv6 needs [addr]:port)");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }

  auto ip = IpAddr::parse(host);
  if (!ip) {
    return makeError(quoted + ": " + ip.error().message);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535 || (port == 0 && !allow_port_zero)) {
    return makeError(quoted + " has no valid port (" + (allow_port_zero ? "0" : "1") + "..65535)");
  }
  return SocketAddress{*ip, static_cast<uint16_t>(port)};
}

std::string SocketAddress::toString() const {
  std::string host = ip.isV6() ? "[" + ip.toString() + "]" : ip.toString();
  return host + ":" + std::to_string(port);
}

Result<std::optional<SocketAddress>> parseForwardSetting(std::string_view text) {
  if (text == "refuse") {
    return std::optional<SocketAddress>();
  }
  auto addr = SocketAddress::parse(text, "dns.forward", false);
  if (!addr) {
    return makeError(addr.error().message + " (or \"refuse\")");
  }
  return std::optional<SocketAddress>(*addr);
}

Status validateDnsOptions(const DnsOptions& options) {
  if (!options.listen.ip.isV4() && !options.listen.ip.isV6()) {
    return makeError("dns.listen: no address");
  }
  if (auto domain = parseNameText(options.domain, "dns.domain"); !domain) {
    return domain.error();
  }
  if (options.forward) {
    const SocketAddress& fwd = *options.forward;
    if ((!fwd.ip.isV4() && !fwd.ip.isV6()) || fwd.ip.isUnspecified() || fwd.port == 0) {
      return makeError(
          fmt::format("dns.forward: \"{}\" is not a usable upstream address", fwd.toString()));
    }
    if (fwd == options.listen) {
      return makeError(
          fmt::format("dns.forward: \"{}\" is this server's own address", fwd.toString()));
    }
  }
  if (options.ttl_seconds > 86400) {
    return makeError(fmt::format("dns.ttl_seconds: {} is above 86400", options.ttl_seconds));
  }
  if (options.forward_timeout.count() <= 0 || options.forward_timeout.count() > 30000) {
    return makeError(fmt::format("dns.forward_timeout: {} ms is not in 1..30000",
                                 options.forward_timeout.count()));
  }
  if (options.max_forwards_in_flight == 0 || options.max_tcp_connections == 0) {
    return makeError("dns: max_forwards_in_flight and max_tcp_connections must be at least 1");
  }
  return {};
}

Result<DnsOptions> dnsOptionsFromConfig(const DnsConfig& config) {
  DnsOptions options;
  auto listen = SocketAddress::parse(config.listen, "dns.listen", true);
  if (!listen) {
    return listen.error();
  }
  options.listen = *listen;
  options.domain = config.domain;
  auto forward = parseForwardSetting(config.forward);
  if (!forward) {
    return forward.error();
  }
  options.forward = *forward;
  if (auto st = validateDnsOptions(options); !st) {
    return st.error();
  }
  return options;
}

}  // namespace weft::dns
