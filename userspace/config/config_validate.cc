// SPDX-License-Identifier: Apache-2.0
// Whole-config validation. The parser has already checked types and syntax; this checks the
// values against each other and against what the maps can hold.
#include "userspace/config/config_validate.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "userspace/lb/maglev.h"

namespace weft {
namespace {

// Both halves of a service's backend set may hold slots at once.
constexpr size_t kMaxBackendEntries = WEFT_MAX_SLOTS / 2;
// Service id 0 is never allocated, and ids index the round-robin array.
constexpr size_t kMaxServices = WEFT_MAX_SERVICES - 1;

std::optional<ConfigProblem> problem(std::string path, std::string message) {
  return ConfigProblem{std::move(path), std::move(message)};
}

std::optional<ConfigProblem> checkPath(const std::string& field, const std::string& value) {
  if (value.empty() || value.front() != '/') {
    return problem(field, fmt::format("\"{}\" must be an absolute path", value));
  }
  if (value.find("/../") != value.npos || value.ends_with("/..")) {
    return problem(field, fmt::format("\"{}\" must not contain \"..\"", value));
  }
  if (value.find_first_not_of('/') == value.npos) {
    return problem(field, fmt::format("\"{}\" must not be the filesystem root", value));
  }
  return std::nullopt;
}

std::string rangeList(const std::vector<Cidr>& ranges) {
  std::string out;
  for (const Cidr& c : ranges) {
    out += (out.empty() ? "" : ", ") + c.toString();
  }
  return out;
}

std::optional<ConfigProblem> checkVip(const AgentConfig& config, const std::string& path,
                                      const IpAddr& vip) {
  if (vip.isV4Mapped()) {
    IpAddr v4{WEFT_AF_INET, {}};
    std::copy(vip.bytes.begin() + 12, vip.bytes.end(), v4.bytes.begin());
    return problem(path, fmt::format("{} is an IPv4-mapped IPv6 address; use the IPv4 form {}",
                                     vip.toString(), v4.toString()));
  }
  if (vip.isUnspecified()) {
    return problem(path, fmt::format("{} is the unspecified address", vip.toString()));
  }

  bool in_range = std::any_of(config.vip_ranges.begin(), config.vip_ranges.end(),
                              [&](const Cidr& c) { return c.contains(vip); });
  if (!in_range) {
    std::string ranges = config.vip_ranges.empty() ? "vip_ranges is empty"
                                                   : "vip_ranges: " + rangeList(config.vip_ranges);
    return problem(
        path, fmt::format("{} is outside every vip_ranges entry ({})", vip.toString(), ranges));
  }
  return std::nullopt;
}

std::optional<ConfigProblem> checkBackends(const std::string& path, const ServiceConfig& svc) {
  if (svc.backends.size() > WEFT_MAX_SLOTS_PER_SVC) {
    return problem(path + ".backends", fmt::format("{} backends; at most {} per service",
                                                   svc.backends.size(), WEFT_MAX_SLOTS_PER_SVC));
  }

  std::map<std::pair<IpAddr, uint16_t>, size_t> seen;
  for (size_t j = 0; j < svc.backends.size(); ++j) {
    const BackendConfig& be = svc.backends[j];
    std::string be_path = fmt::format("{}.backends[{}]", path, j);
    std::string addr = be.address.toString();

    if (be.address.family != svc.vip.family) {
      return problem(be_path + ".address",
                     fmt::format("{} is {} but vip {} is {}", addr, familyName(be.address.family),
                                 svc.vip.toString(), familyName(svc.vip.family)));
    }
    if (be.address.isV4Mapped()) {
      return problem(be_path + ".address",
                     fmt::format("{} is an IPv4-mapped IPv6 address; use the IPv4 form", addr));
    }
    if (be.address.isUnspecified()) {
      return problem(be_path + ".address", fmt::format("{} is the unspecified address", addr));
    }
    if (be.port == 0) {
      return problem(be_path + ".port", "0 is not in 1..65535");
    }

    auto [it, inserted] = seen.emplace(std::make_pair(be.address, be.port), j);
    if (!inserted) {
      return problem(be_path, fmt::format("{} port {} is listed twice (first at backends[{}])",
                                          addr, be.port, it->second));
    }
  }
  return std::nullopt;
}

std::optional<ConfigProblem> checkBalancing(const std::string& path, const ServiceConfig& svc) {
  if (svc.algorithm != WEFT_LB_ROUND_ROBIN && svc.algorithm != WEFT_LB_RANDOM &&
      svc.algorithm != WEFT_LB_WEIGHTED && svc.algorithm != WEFT_LB_LEAST_CONN &&
      svc.algorithm != WEFT_LB_MAGLEV) {
    return problem(path + ".algorithm",
                   fmt::format("{} is not round_robin, random, weighted, least_conn or maglev",
                               static_cast<int>(svc.algorithm)));
  }
  if (svc.algorithm == WEFT_LB_LEAST_CONN && svc.protocol == WEFT_PROTO_UDP) {
    return problem(path + ".algorithm", leastConnUdpProblem(svc.name, svc.port));
  }
  if (std::string p = maglevTableSizeProblem(svc.maglev_table_size); !p.empty()) {
    return problem(path + ".maglev_table_size", p);
  }
  if (svc.hash_key != HashKey::kClientAddr && svc.hash_key != HashKey::kClientAddrPort) {
    return problem(path + ".hash_key", fmt::format("{} is not client_addr or client_addr_port",
                                                   static_cast<int>(svc.hash_key)));
  }
  if (svc.affinity_timeout_s > kMaxAffinityTimeoutSeconds) {
    return problem(
        path + ".affinity_timeout_seconds",
        fmt::format("{} is not in 0..{}", svc.affinity_timeout_s, kMaxAffinityTimeoutSeconds));
  }
  return std::nullopt;
}

}  // namespace

std::string maglevTableSizeProblem(uint32_t size) {
  if (size == 0 ||
      (size >= WEFT_MAGLEV_MIN_SIZE && size <= WEFT_MAGLEV_MAX_SIZE && lb::isPrime(size))) {
    return "";
  }
  return fmt::format("{} is not a prime in {}..{} (0 picks the default {})", size,
                     WEFT_MAGLEV_MIN_SIZE, WEFT_MAGLEV_MAX_SIZE, WEFT_MAGLEV_DEFAULT_SIZE);
}

std::string leastConnUdpProblem(std::string_view service, uint16_t port) {
  return fmt::format("least_conn counts TCP connections; service \"{}\" port {} is udp", service,
                     port);
}

bool isDnsLabel(std::string_view name) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  };
  return !name.empty() && name.size() <= 63 && name.front() != '-' && name.back() != '-' &&
         std::all_of(name.begin(), name.end(), allowed);
}

std::optional<ConfigProblem> findConfigProblem(const AgentConfig& config) {
  if (auto p = checkPath("cgroup", config.cgroup)) {
    return p;
  }
  if (auto p = checkPath("bpffs_root", config.bpffs_root)) {
    return p;
  }
  for (size_t i = 0; i < config.bypass_cgroups.size(); ++i) {
    std::string field = fmt::format("bypass_cgroups[{}]", i);
    const std::string& path = config.bypass_cgroups[i];
    if (auto p = checkPath(field, path)) {
      return p;
    }
    // Only sockets the attached programs see can be bypassed: those below `cgroup`.
    std::string below = config.cgroup.ends_with('/') ? config.cgroup : config.cgroup + "/";
    if (!path.starts_with(below)) {
      return problem(field, fmt::format("\"{}\" is not below cgroup \"{}\"", path, config.cgroup));
    }
  }
  if (config.services.size() > kMaxServices) {
    return problem("services",
                   fmt::format("{} services; at most {}", config.services.size(), kMaxServices));
  }

  std::map<std::string, size_t> names;
  std::map<std::tuple<IpAddr, uint16_t, uint8_t>, size_t> keys;
  std::set<std::tuple<IpAddr, uint16_t, uint8_t>> distinct_backends;
  size_t backend_entries = 0;
  for (size_t i = 0; i < config.services.size(); ++i) {
    const ServiceConfig& svc = config.services[i];
    std::string path = fmt::format("services[{}]", i);

    if (!isDnsLabel(svc.name)) {
      return problem(path + ".name",
                     fmt::format("\"{}\" is not a DNS label ([a-z0-9-], 1..63 characters, "
                                 "starting and ending with a letter or digit)",
                                 svc.name));
    }
    if (auto [it, inserted] = names.emplace(svc.name, i); !inserted) {
      return problem(path + ".name",
                     fmt::format("\"{}\" is already used by services[{}]", svc.name, it->second));
    }
    if (auto p = checkVip(config, path + ".vip", svc.vip)) {
      return p;
    }
    if (svc.port == 0) {
      return problem(path + ".port", "0 is not in 1..65535");
    }
    if (svc.protocol != WEFT_PROTO_TCP && svc.protocol != WEFT_PROTO_UDP) {
      return problem(path + ".protocol", fmt::format("{} is not tcp or udp", svc.protocol));
    }
    if (auto p = checkBalancing(path, svc)) {
      return p;
    }

    auto key = std::make_tuple(svc.vip, svc.port, svc.protocol);
    if (auto [it, inserted] = keys.emplace(key, i); !inserted) {
      return problem(path + ".vip",
                     fmt::format("{} port {}/{} is already used by services[{}] (\"{}\")",
                                 svc.vip.toString(), svc.port, protocolName(svc.protocol),
                                 it->second, config.services[it->second].name));
    }

    if (auto p = checkBackends(path, svc)) {
      return p;
    }
    backend_entries += svc.backends.size();
    for (const BackendConfig& be : svc.backends) {
      distinct_backends.emplace(be.address, be.port, svc.protocol);
    }
  }

  if (backend_entries > kMaxBackendEntries) {
    return problem("services", fmt::format("{} backend entries in total; at most {}",
                                           backend_entries, kMaxBackendEntries));
  }
  if (distinct_backends.size() > WEFT_MAX_BACKENDS) {
    return problem("services", fmt::format("{} distinct backends; at most {}",
                                           distinct_backends.size(), WEFT_MAX_BACKENDS));
  }
  return std::nullopt;
}

Status validateConfig(const AgentConfig& config) {
  if (auto p = findConfigProblem(config)) {
    return makeError(p->path + ": " + p->message);
  }
  return {};
}

}  // namespace weft
