// SPDX-License-Identifier: Apache-2.0
// IPv4/IPv6 addresses and CIDR prefixes as the config and the maps need them: a family plus
// 16 bytes in network order, parsed strictly and printed in the canonical text form.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "maps/weft_maps.h"
#include "userspace/common/result.h"

namespace weft {

// An IPv4 or IPv6 address. IPv4 uses bytes[0..3]; the other bytes stay zero, so two
// equal addresses compare equal byte for byte. A default-constructed IpAddr has family 0.
struct IpAddr {
  uint8_t family = 0;  // WEFT_AF_INET or WEFT_AF_INET6
  std::array<uint8_t, 16> bytes{};

  // Accepts dotted-quad IPv4 or RFC 4291 IPv6 text; no zone ids, prefixes or spaces.
  static Result<IpAddr> parse(std::string_view text);

  // Canonical text: "10.0.0.1", "fd00::1" (RFC 5952 via inet_ntop).
  std::string toString() const;

  bool isV4() const { return family == WEFT_AF_INET; }
  bool isV6() const { return family == WEFT_AF_INET6; }
  // ::ffff:a.b.c.d; the data path balances these through the IPv4 table.
  bool isV4Mapped() const;
  bool isUnspecified() const;
  // Number of meaningful bytes: 4 or 16.
  size_t size() const { return isV4() ? 4 : 16; }

  auto operator<=>(const IpAddr&) const = default;
};

// A network prefix such as 10.96.0.0/16. Host bits of `base` are always zero.
struct Cidr {
  IpAddr base;
  uint8_t prefix_len = 0;

  // Rejects host bits set ("10.96.0.1/16"), prefixes beyond the family width and
  // IPv4-mapped IPv6 prefixes.
  static Result<Cidr> parse(std::string_view text);

  std::string toString() const;
  bool contains(const IpAddr& addr) const;

  auto operator<=>(const Cidr&) const = default;
};

const char* familyName(uint8_t family);

}  // namespace weft
