// SPDX-License-Identifier: Apache-2.0
// Picks virtual IPs from the configured ranges: the lowest address not in use. Pure; the
// Registry supplies the used set and retries when another host took the pick first.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "userspace/common/result.h"
#include "userspace/config/ip_addr.h"

namespace weft::registry {

// The lowest address of the ranges that is neither in `used` nor reserved. Reserved: the
// network and broadcast addresses of IPv4 prefixes shorter than /31, and the
// subnet-router anycast address (the prefix itself) of IPv6 prefixes shorter than /127.
// Ranges of `preferred_family` are searched first, then the rest in configured order;
// family 0 keeps the configured order. Exhausted ranges fail with kConflict naming them.
Result<IpAddr> lowestFreeVip(const std::vector<Cidr>& ranges, const std::set<IpAddr>& used,
                             uint8_t preferred_family = 0);

// Whether `vip` lies in one of the ranges; fails with kInvalid naming the ranges otherwise.
Status checkVipInRanges(const std::vector<Cidr>& ranges, const IpAddr& vip);

// "10.96.0.0/16, fd00:96::/112", for messages.
std::string rangeList(const std::vector<Cidr>& ranges);

}  // namespace weft::registry
