// SPDX-License-Identifier: Apache-2.0
// Lowest-free VIP search. Addresses are walked as big-endian byte strings; the walk skips
// only addresses found in the used set, so it ends after at most used.size() + 1 steps per
// range however large the range is.
#include "userspace/registry/vip_allocator.h"

#include <algorithm>

#include <fmt/format.h>

#include "userspace/registry/registry.h"

namespace weft::registry {
namespace {

// base with every host bit set: the last address of the prefix.
IpAddr lastAddress(const Cidr& range) {
  IpAddr last = range.base;
  for (size_t i = 0; i < last.size(); ++i) {
    int keep = std::clamp(static_cast<int>(range.prefix_len) - static_cast<int>(i) * 8, 0, 8);
    last.bytes[i] |= static_cast<uint8_t>(0xff >> keep);
  }
  return last;
}

// Adds one; false on wrap-around past the all-ones address.
bool increment(IpAddr& addr) {
  for (size_t i = addr.size(); i-- > 0;) {
    if (++addr.bytes[i] != 0) {
      return true;
    }
  }
  return false;
}

bool decrement(IpAddr& addr) {
  for (size_t i = addr.size(); i-- > 0;) {
    if (addr.bytes[i]-- != 0) {
      return true;
    }
  }
  return false;
}

// The first and last allocatable addresses; false when the range has none.
bool usableBounds(const Cidr& range, IpAddr* first, IpAddr* last) {
  *first = range.base;
  *last = lastAddress(range);
  bool skip_base = range.base.isV4() ? range.prefix_len < 31 : range.prefix_len < 127;
  bool skip_last = range.base.isV4() && range.prefix_len < 31;

  if (skip_base && !increment(*first)) {
    return false;
  }
  if (skip_last && !decrement(*last)) {
    return false;
  }
  // 0.0.0.0/32 or ::/128: the unspecified address can never be a VIP.
  if (first->isUnspecified() && !increment(*first)) {
    return false;
  }
  return *first <= *last;
}

bool lowestIn(const Cidr& range, const std::set<IpAddr>& used, IpAddr* out) {
  IpAddr addr;
  IpAddr last;
  if (!usableBounds(range, &addr, &last)) {
    return false;
  }
  // Each pass either returns or steps over one used address.
  for (auto it = used.lower_bound(addr); it != used.end() && *it == addr; ++it) {
    if (addr == last || !increment(addr)) {
      return false;
    }
  }
  *out = addr;
  return true;
}

}  // namespace

std::string rangeList(const std::vector<Cidr>& ranges) {
  std::string out;
  for (const Cidr& range : ranges) {
    out += (out.empty() ? "" : ", ") + range.toString();
  }
  return out;
}

Result<IpAddr> lowestFreeVip(const std::vector<Cidr>& ranges, const std::set<IpAddr>& used,
                             uint8_t preferred_family) {
  if (ranges.empty()) {
    return makeError("vip: none given and no vip_ranges are configured to allocate from", kInvalid);
  }

  std::vector<Cidr> order = ranges;
  std::stable_partition(order.begin(), order.end(),
                        [&](const Cidr& range) { return range.base.family == preferred_family; });
  for (const Cidr& range : order) {
    IpAddr vip;
    if (lowestIn(range, used, &vip)) {
      return vip;
    }
  }
  return makeError(fmt::format("vip: no free address left in vip_ranges ({})", rangeList(ranges)),
                   kConflict);
}

Status checkVipInRanges(const std::vector<Cidr>& ranges, const IpAddr& vip) {
  bool inside = std::any_of(ranges.begin(), ranges.end(),
                            [&](const Cidr& range) { return range.contains(vip); });
  if (inside) {
    return {};
  }
  if (ranges.empty()) {
    return makeError(fmt::format("vip: {} is outside vip_ranges, which is empty", vip.toString()),
                     kInvalid);
  }
  return makeError(fmt::format("vip: {} is outside every vip_ranges entry ({})", vip.toString(),
                               rangeList(ranges)),
                   kInvalid);
}

}  // namespace weft::registry
