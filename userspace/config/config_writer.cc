// SPDX-License-Identifier: Apache-2.0
// YAML emitter for AgentConfig. YAML::Emitter reports errors through its state, not by throwing.
#include "userspace/config/config_writer.h"

#include <yaml-cpp/yaml.h>

namespace weft {
namespace {

void writeService(YAML::Emitter& out, const ServiceConfig& svc) {
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << svc.name;
  out << YAML::Key << "vip" << YAML::Value << svc.vip.toString();
  out << YAML::Key << "port" << YAML::Value << svc.port;
  out << YAML::Key << "protocol" << YAML::Value << protocolName(svc.protocol);
  out << YAML::Key << "algorithm" << YAML::Value << algorithmName(svc.algorithm);
  // Defaults are left out, so files written before these keys existed read the same.
  const ServiceConfig defaults;
  if (svc.maglev_table_size != defaults.maglev_table_size) {
    out << YAML::Key << "maglev_table_size" << YAML::Value << svc.maglev_table_size;
  }
  if (svc.hash_key != defaults.hash_key) {
    out << YAML::Key << "hash_key" << YAML::Value << hashKeyName(svc.hash_key);
  }
  if (svc.affinity_timeout_s != defaults.affinity_timeout_s) {
    out << YAML::Key << "affinity_timeout_seconds" << YAML::Value << svc.affinity_timeout_s;
  }

  out << YAML::Key << "backends" << YAML::Value << YAML::BeginSeq;
  for (const BackendConfig& be : svc.backends) {
    out << YAML::BeginMap;
    out << YAML::Key << "address" << YAML::Value << be.address.toString();
    out << YAML::Key << "port" << YAML::Value << be.port;
    if (be.weight != BackendConfig{}.weight) {
      out << YAML::Key << "weight" << YAML::Value << be.weight;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
}

}  // namespace

std::string toYaml(const AgentConfig& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "cgroup" << YAML::Value << config.cgroup;
  out << YAML::Key << "bpffs_root" << YAML::Value << config.bpffs_root;
  out << YAML::Key << "log_level" << YAML::Value << logLevelName(config.log_level);

  out << YAML::Key << "vip_ranges" << YAML::Value << YAML::BeginSeq;
  for (const Cidr& c : config.vip_ranges) {
    out << c.toString();
  }
  out << YAML::EndSeq;

  out << YAML::Key << "services" << YAML::Value << YAML::BeginSeq;
  for (const ServiceConfig& svc : config.services) {
    writeService(out, svc);
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace weft
