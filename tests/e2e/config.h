// SPDX-License-Identifier: Apache-2.0
// weftd configuration for one test, rendered as the YAML the agent reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::e2e {

struct BackendSpec {
  std::string address;
  uint32_t port = 0;    // wider than a port so tests can write invalid ones (70000)
  int64_t weight = -1;  // written only when >= 0
};

struct ServiceSpec {
  std::string name;
  std::string vip;
  uint32_t port = 0;
  std::string protocol = "tcp";
  std::string algorithm = "round_robin";
  std::vector<BackendSpec> backends;
  // The keys below are written only when set (>= 0, non-empty), so the agent's defaults apply
  // otherwise and tests can write values the agent must refuse.
  int64_t maglev_table_size = -1;
  std::string hash_key = {};  // client_addr | client_addr_port
  int64_t affinity_timeout_seconds = -1;
};

struct AgentConfig {
  std::string cgroup;
  std::vector<std::string> bypass_cgroups;
  std::string bpffs_root;
  std::string log_level = "info";
  std::vector<std::string> vip_ranges = {"10.96.0.0/16", "fd00:96::/112"};
  std::vector<ServiceSpec> services;
  // Per-test registry file and API socket, so agents of different tests never share them.
  std::string registry_path;
  std::string api_socket;
  std::string dns_listen;   // empty: no DNS server
  std::string dns_forward;  // empty: the default (refuse)
  std::string registry_store = "sqlite";
  std::vector<std::string> etcd_endpoints;
  std::string etcd_prefix;
};

std::string renderYaml(const AgentConfig& config);

}  // namespace weft::e2e
