// SPDX-License-Identifier: Apache-2.0
// YAML rendering of test configs. Every scalar is quoted except numbers, so IPv6
// addresses and names never need escaping rules of their own.
#include "tests/e2e/config.h"

#include <sstream>

namespace weft::e2e {
namespace {

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

}  // namespace

std::string renderYaml(const AgentConfig& config) {
  std::ostringstream out;
  out << "cgroup: " << quoted(config.cgroup) << "\n";
  if (!config.bypass_cgroups.empty()) {
    out << "bypass_cgroups:\n";
    for (const std::string& path : config.bypass_cgroups) {
      out << "  - " << quoted(path) << "\n";
    }
  }
  out << "bpffs_root: " << quoted(config.bpffs_root) << "\n";
  out << "log_level: " << config.log_level << "\n";
  out << "vip_ranges: [";
  for (size_t i = 0; i < config.vip_ranges.size(); ++i) {
    out << (i ? ", " : "") << quoted(config.vip_ranges[i]);
  }
  out << "]\n";
  out << "registry:\n  store: " << config.registry_store << "\n";
  if (!config.registry_path.empty()) {
    out << "  path: " << quoted(config.registry_path) << "\n";
  }
  if (!config.etcd_endpoints.empty()) {
    out << "  etcd_endpoints: [";
    for (size_t i = 0; i < config.etcd_endpoints.size(); ++i) {
      out << (i ? ", " : "") << quoted(config.etcd_endpoints[i]);
    }
    out << "]\n";
  }
  if (!config.etcd_prefix.empty()) {
    out << "  etcd_prefix: " << quoted(config.etcd_prefix) << "\n";
  }
  if (!config.api_socket.empty()) {
    out << "api:\n  socket: " << quoted(config.api_socket) << "\n";
  }
  if (!config.dns_listen.empty()) {
    out << "dns:\n  listen: " << quoted(config.dns_listen) << "\n";
    if (!config.dns_forward.empty()) {
      out << "  forward: " << quoted(config.dns_forward) << "\n";
    }
  }

  out << "services:" << (config.services.empty() ? " []" : "") << "\n";
  for (const ServiceSpec& svc : config.services) {
    out << "  - name: " << svc.name << "\n";
    out << "    vip: " << quoted(svc.vip) << "\n";
    out << "    port: " << svc.port << "\n";
    out << "    protocol: " << svc.protocol << "\n";
    out << "    algorithm: " << svc.algorithm << "\n";
    if (svc.maglev_table_size >= 0) {
      out << "    maglev_table_size: " << svc.maglev_table_size << "\n";
    }
    if (!svc.hash_key.empty()) {
      out << "    hash_key: " << svc.hash_key << "\n";
    }
    if (svc.affinity_timeout_seconds >= 0) {
      out << "    affinity_timeout_seconds: " << svc.affinity_timeout_seconds << "\n";
    }
    out << "    backends:" << (svc.backends.empty() ? " []" : "") << "\n";
    for (const BackendSpec& be : svc.backends) {
      out << "      - address: " << quoted(be.address) << "\n";
      out << "        port: " << be.port << "\n";
      if (be.weight >= 0) {
        out << "        weight: " << be.weight << "\n";
      }
    }
  }
  return out.str();
}

}  // namespace weft::e2e
