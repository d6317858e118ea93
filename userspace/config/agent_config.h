// SPDX-License-Identifier: Apache-2.0
// The weftd configuration as plain values, after parsing and validation. Every field holds a
// value the rest of the agent can use without checking it again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "maps/weft_maps.h"
#include "userspace/common/log.h"
#include "userspace/config/ip_addr.h"

namespace weft {

inline constexpr std::string_view kDefaultBpffsRoot = "/sys/fs/bpf/weft";

struct BackendConfig {
  IpAddr address;
  uint16_t port = 0;  // host byte order
  // Relative share under the weighted algorithm, 1..65535; the others ignore it. (An endpoint
  // of weight 0 is drained and never reaches the data path.)
  uint32_t weight = 100;
  // Keeps its established connections and takes no new ones; the maps keep it as a draining
  // member of the service so operators can watch its active count fall to zero.
  bool draining = false;

  bool operator==(const BackendConfig&) const = default;
};

// What Maglev hashes to pick a backend (see weft_svc_value in maps/weft_maps.h for what "client"
// means at a connect hook).
enum class HashKey : uint8_t { kClientAddr, kClientAddrPort };

struct ServiceConfig {
  std::string name;  // DNS label, unique within the config
  IpAddr vip;
  uint16_t port = 0;                  // host byte order
  uint8_t protocol = WEFT_PROTO_TCP;  // WEFT_PROTO_TCP or WEFT_PROTO_UDP
  weft_lb_algo algorithm = WEFT_LB_ROUND_ROBIN;
  std::vector<BackendConfig> backends;  // in slot order; may be empty
  // Maglev only: table size, a prime in [WEFT_MAGLEV_MIN_SIZE, WEFT_MAGLEV_MAX_SIZE]; 0 means
  // WEFT_MAGLEV_DEFAULT_SIZE. The controller grows it when backends need more room.
  uint32_t maglev_table_size = 0;
  HashKey hash_key = HashKey::kClientAddr;
  // Session affinity: a client keeps its backend while it connects again within this many
  // seconds and the backend stays usable; 0 turns it off. At most 86400.
  uint32_t affinity_timeout_s = 0;

  bool operator==(const ServiceConfig&) const = default;
};

// Where the service registry lives. Services from the config file are declared into it.
struct RegistryConfig {
  std::string store = "sqlite";  // sqlite | etcd
  std::string path = "/var/lib/weft/registry.db";
  // SQLite's synchronous setting: "normal" survives kill -9 of the agent, "full" also power
  // loss at the cost of an fsync per write (see SqliteStoreOptions).
  std::string sqlite_synchronous = "normal";
  std::vector<std::string> etcd_endpoints{"http://127.0.0.1:2379"};
  std::string etcd_prefix = "/weft/";

  bool operator==(const RegistryConfig&) const = default;
};

// The local HTTP/JSON API: always on a unix socket; on loopback TCP only when `tcp` is set.
struct ApiConfig {
  std::string socket = "/run/weft/weftd.sock";
  std::string tcp;  // "127.0.0.1:port" or empty

  bool operator==(const ApiConfig&) const = default;
};

// The DNS server for <service>.<namespace>.svc.<domain>; off when `listen` is empty.
struct DnsConfig {
  std::string listen;  // "127.0.0.1:53"
  std::string domain = "cluster.local";
  std::string forward = "refuse";  // refuse | <ip>:<port> of an upstream resolver

  bool operator==(const DnsConfig&) const = default;
};

struct AgentConfig {
  std::string cgroup;  // absolute path of a cgroup v2 directory
  // Cgroups below `cgroup` whose sockets weft leaves alone (with everything below them),
  // e.g. a subtree that runs its own proxy.
  std::vector<std::string> bypass_cgroups;
  std::string bpffs_root{kDefaultBpffsRoot};
  log::Level log_level = log::Level::kInfo;
  std::vector<Cidr> vip_ranges;
  std::vector<ServiceConfig> services;
  RegistryConfig registry;
  ApiConfig api;
  DnsConfig dns;

  bool operator==(const AgentConfig&) const = default;
};

// Names as they appear in the config file ("tcp", "round_robin", "info"), for messages,
// weftctl output and writing a config back out. Unknown values give "unknown".
const char* protocolName(uint8_t protocol);
const char* algorithmName(weft_lb_algo algorithm);
const char* hashKeyName(HashKey key);
const char* logLevelName(log::Level level);

// The inverse; false when `text` is not one of the names the config accepts.
bool protocolFromName(std::string_view text, uint8_t* out);
bool algorithmFromName(std::string_view text, weft_lb_algo* out);
bool hashKeyFromName(std::string_view text, HashKey* out);
bool logLevelFromName(std::string_view text, log::Level* out);

}  // namespace weft
