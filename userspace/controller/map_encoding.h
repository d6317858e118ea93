// SPDX-License-Identifier: Apache-2.0
// Conversions between config values and the map structs of maps/weft_maps.h: byte order,
// address placement and text forms for logs and tools.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "maps/weft_maps.h"
#include "userspace/config/agent_config.h"
#include "userspace/config/ip_addr.h"

namespace weft {

// Ports and addresses go into the maps in network byte order; an IPv4 address fills addr[0]
// and leaves addr[1..3] zero. Padding is always zero.
weft_svc_key encodeServiceKey(const IpAddr& vip, uint16_t port, uint8_t protocol);
weft_svc_key encodeServiceKey(const ServiceConfig& service);
weft_backend encodeBackend(const BackendConfig& backend, uint8_t protocol, uint8_t state);
// `name` is cut to WEFT_SVC_NAME_LEN - 1 bytes; the result is always NUL-terminated.
weft_svc_info encodeServiceInfo(const weft_svc_key& key, std::string_view name);

IpAddr decodeAddr(uint8_t family, const __u32 (&addr)[4]);
uint16_t decodePort(__u16 net_port);
// The name stored in `info`, up to its first NUL or the end of the field.
std::string decodeServiceName(const weft_svc_info& info);

// "10.96.0.10:80/tcp", "[fd00::1]:80/udp".
std::string formatServiceKey(const weft_svc_key& key);
// "127.0.0.1:8081/tcp".
std::string formatBackend(const weft_backend& backend);

// The map structs are plain C with explicit padding, so bytes are their identity.
template <typename T>
bool sameBytes(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

struct BytesLess {
  template <typename T>
  bool operator()(const T& a, const T& b) const {
    return std::memcmp(&a, &b, sizeof(T)) < 0;
  }
};

}  // namespace weft
