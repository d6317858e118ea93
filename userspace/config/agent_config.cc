// SPDX-License-Identifier: Apache-2.0
// Name tables for the enumerated config fields.
#include "userspace/config/agent_config.h"

#include <utility>

namespace weft {
namespace {

constexpr std::pair<uint8_t, const char*> kProtocols[] = {
    {WEFT_PROTO_TCP, "tcp"},
    {WEFT_PROTO_UDP, "udp"},
};

// Only the algorithms the data path implements today are accepted.
constexpr std::pair<weft_lb_algo, const char*> kAlgorithms[] = {
    {WEFT_LB_ROUND_ROBIN, "round_robin"}, {WEFT_LB_RANDOM, "random"},
    {WEFT_LB_WEIGHTED, "weighted"},       {WEFT_LB_LEAST_CONN, "least_conn"},
    {WEFT_LB_MAGLEV, "maglev"},
};

constexpr std::pair<HashKey, const char*> kHashKeys[] = {
    {HashKey::kClientAddr, "client_addr"},
    {HashKey::kClientAddrPort, "client_addr_port"},
};

constexpr std::pair<log::Level, const char*> kLevels[] = {
    {log::Level::kDebug, "debug"},
    {log::Level::kInfo, "info"},
    {log::Level::kWarn, "warn"},
    {log::Level::kError, "error"},
};

template <typename T, size_t N>
const char* nameOf(const std::pair<T, const char*> (&table)[N], T value) {
  for (const auto& [v, name] : table) {
    if (v == value) {
      return name;
    }
  }
  return "unknown";
}

template <typename T, size_t N>
bool valueOf(const std::pair<T, const char*> (&table)[N], std::string_view text, T* out) {
  for (const auto& [v, name] : table) {
    if (text == name) {
      *out = v;
      return true;
    }
  }
  return false;
}

}  // namespace

const char* protocolName(uint8_t protocol) {
  return nameOf(kProtocols, protocol);
}
const char* algorithmName(weft_lb_algo algorithm) {
  return nameOf(kAlgorithms, algorithm);
}
const char* hashKeyName(HashKey key) {
  return nameOf(kHashKeys, key);
}
const char* logLevelName(log::Level level) {
  return nameOf(kLevels, level);
}

bool protocolFromName(std::string_view text, uint8_t* out) {
  return valueOf(kProtocols, text, out);
}
bool algorithmFromName(std::string_view text, weft_lb_algo* out) {
  return valueOf(kAlgorithms, text, out);
}
bool hashKeyFromName(std::string_view text, HashKey* out) {
  return valueOf(kHashKeys, text, out);
}
bool logLevelFromName(std::string_view text, log::Level* out) {
  return valueOf(kLevels, text, out);
}

}  // namespace weft
