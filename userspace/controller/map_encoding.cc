// SPDX-License-Identifier: Apache-2.0
// Map struct encoding. The offsets below are what the BPF programs read; they are checked here
// as well as in maps/weft_maps.h so that a change to either side fails the build.
#include "userspace/controller/map_encoding.h"

#include <arpa/inet.h>

#include <cstddef>

#include <fmt/format.h>

namespace weft {
namespace {

static_assert(offsetof(weft_svc_key, port) == 16 && offsetof(weft_svc_key, family) == 19);
static_assert(offsetof(weft_svc_value, half) == 6 && offsetof(weft_svc_value, algo) == 7);
static_assert(offsetof(weft_slot_key, half) == 6 && offsetof(weft_slot_value, weight) == 4);
static_assert(offsetof(weft_backend, port) == 16 && offsetof(weft_backend, state) == 20);
static_assert(offsetof(weft_svc_info, name) == 24);

void copyAddr(const IpAddr& addr, __u32 (&out)[4]) {
  std::memset(out, 0, sizeof(out));
  std::memcpy(out, addr.bytes.data(), addr.size());
}

std::string hostPort(const IpAddr& addr, uint16_t port) {
  if (addr.isV6()) {
    return fmt::format("[{}]:{}", addr.toString(), port);
  }
  return fmt::format("{}:{}", addr.toString(), port);
}

}  // namespace

weft_svc_key encodeServiceKey(const IpAddr& vip, uint16_t port, uint8_t protocol) {
  weft_svc_key key{};
  copyAddr(vip, key.addr);
  key.port = htons(port);
  key.proto = protocol;
  key.family = vip.family;
  return key;
}

weft_svc_key encodeServiceKey(const ServiceConfig& service) {
  return encodeServiceKey(service.vip, service.port, service.protocol);
}

weft_backend encodeBackend(const BackendConfig& backend, uint8_t protocol, uint8_t state) {
  weft_backend value{};
  copyAddr(backend.address, value.addr);
  value.port = htons(backend.port);
  value.proto = protocol;
  value.family = backend.address.family;
  value.state = state;
  return value;
}

weft_svc_info encodeServiceInfo(const weft_svc_key& key, std::string_view name) {
  weft_svc_info info{};
  info.key = key;
  std::memcpy(info.name, name.data(), std::min(name.size(), sizeof(info.name) - 1));
  return info;
}

IpAddr decodeAddr(uint8_t family, const __u32 (&addr)[4]) {
  IpAddr out;
  out.family = family;
  std::memcpy(out.bytes.data(), addr, out.size());
  return out;
}

uint16_t decodePort(__u16 net_port) {
  return ntohs(net_port);
}

std::string decodeServiceName(const weft_svc_info& info) {
  return std::string(info.name, strnlen(info.name, sizeof(info.name)));
}

std::string formatServiceKey(const weft_svc_key& key) {
  return fmt::format("{}/{}", hostPort(decodeAddr(key.family, key.addr), decodePort(key.port)),
                     protocolName(key.proto));
}

std::string formatBackend(const weft_backend& backend) {
  return fmt::format("{}/{}",
                     hostPort(decodeAddr(backend.family, backend.addr), decodePort(backend.port)),
                     protocolName(backend.proto));
}

}  // namespace weft
