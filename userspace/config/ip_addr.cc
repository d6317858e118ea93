// SPDX-License-Identifier: Apache-2.0
// Strict address and prefix parsing on top of inet_pton/inet_ntop.
#include "userspace/config/ip_addr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace weft {
namespace {

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool allDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

const char* familyName(uint8_t family) {
  switch (family) {
    case WEFT_AF_INET:
      return "IPv4";
    case WEFT_AF_INET6:
      return "IPv6";
    default:
      return "unknown family";
  }
}

Result<IpAddr> IpAddr::parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; an embedded NUL must not truncate the input.
  if (text.empty() || text.size() > INET6_ADDRSTRLEN || text.find('\0') != text.npos) {
    return makeError("\"" + std::string(text) + "\" is not an IP address");
  }
  std::string copy(text);
  IpAddr addr;

  if (inet_pton(AF_INET, copy.c_str(), addr.bytes.data()) == 1) {
    addr.family = WEFT_AF_INET;
    return addr;
  }
  if (inet_pton(AF_INET6, copy.c_str(), addr.bytes.data()) == 1) {
    addr.family = WEFT_AF_INET6;
    return addr;
  }
  return makeError("\"" + copy + "\" is not an IP address");
}

std::string IpAddr::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  int af = isV4() ? AF_INET : isV6() ? AF_INET6 : -1;

  if (af < 0 || inet_ntop(af, bytes.data(), buf, sizeof(buf)) == nullptr) {
    return "<invalid address>";
  }
  return buf;
}

bool IpAddr::isV4Mapped() const {
  return isV6() && std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), bytes.begin());
}

bool IpAddr::isUnspecified() const {
  return std::all_of(bytes.begin(), bytes.begin() + size(), [](uint8_t b) { return b == 0; });
}

Result<Cidr> Cidr::parse(std::string_view text) {
  std::string quoted = "\"" + std::string(text) + "\"";
  size_t slash = text.find('/');
  if (slash == text.npos) {
    return makeError(quoted + " is not a CIDR prefix (expected address/length)");
  }

  auto base = IpAddr::parse(text.substr(0, slash));
  if (!base) {
    return makeError(quoted + " is not a CIDR prefix: bad address");
  }
  if (base->isV4Mapped()) {
    return makeError(quoted + " is an IPv4-mapped IPv6 prefix; use the IPv4 form");
  }

  std::string_view len_text = text.substr(slash + 1);
  unsigned max_len = base->isV4() ? 32 : 128;
  if (!allDigits(len_text) || len_text.size() > 3 || std::stoul(std::string(len_text)) > max_len) {
    return makeError(quoted + " is not a CIDR prefix: length must be 0.." +
                     std::to_string(max_len));
  }

  Cidr cidr{*base, static_cast<uint8_t>(std::stoul(std::string(len_text)))};
  Cidr masked = cidr;
  for (size_t i = 0; i < masked.base.size(); ++i) {
    int keep = std::clamp(static_cast<int>(cidr.prefix_len) - static_cast<int>(i) * 8, 0, 8);
    masked.base.bytes[i] &= static_cast<uint8_t>(0xff00 >> keep);
  }
  if (masked.base != cidr.base) {
    return makeError(quoted + " has host bits set; did you mean " + masked.toString() + "?");
  }
  return cidr;
}

std::string Cidr::toString() const {
  return base.toString() + "/" + std::to_string(prefix_len);
}

bool Cidr::contains(const IpAddr& addr) const {
  if (addr.family != base.family) {
    return false;
  }
  size_t full = prefix_len / 8;
  if (!std::equal(base.bytes.begin(), base.bytes.begin() + full, addr.bytes.begin())) {
    return false;
  }
  unsigned rest = prefix_len % 8;
  if (rest == 0) {
    return true;
  }
  auto mask = static_cast<uint8_t>(0xff00 >> rest);
  return (addr.bytes[full] & mask) == base.bytes[full];
}

}  // namespace weft
