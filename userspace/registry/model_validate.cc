// SPDX-License-Identifier: Apache-2.0
// Value checks for the registry model. Every message reads "<field path>: <value> <problem>"
// so an API client can tell which part of its request to fix.
#include "userspace/registry/model_validate.h"

#include <algorithm>
#include <map>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "userspace/config/agent_config.h"
#include "userspace/config/config_validate.h"
#include "userspace/registry/registry.h"

namespace weft::registry {
namespace {

constexpr size_t kMaxQuotedChars = 80;

Error invalid(const std::string& field, const std::string& what) {
  return makeError(field + ": " + what, kInvalid);
}

template <typename T>
Status checkRange(const std::string& field, T value, T lo, T hi) {
  if (value < lo || value > hi) {
    return invalid(field, fmt::format("{} is not in {}..{}", value, lo, hi));
  }
  return {};
}

// Overlong forms, surrogates and code points past U+10FFFF are rejected, as JSON needs.
bool validUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<uint8_t>(text[i]);
    size_t extra = c < 0x80             ? 0
                   : (c & 0xe0) == 0xc0 ? 1
                   : (c & 0xf0) == 0xe0 ? 2
                   : (c & 0xf8) == 0xf0 ? 3
                                        : 4;
    if (extra == 4 || extra >= text.size() - i) {
      return false;
    }
    uint32_t cp = extra == 0 ? c : c & (0x3f >> extra);
    for (size_t k = 1; k <= extra; ++k) {
      auto cont = static_cast<uint8_t>(text[i + k]);
      if ((cont & 0xc0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cont & 0x3f);
    }
    constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

Status checkText(const std::string& field, const std::string& value, size_t max_len) {
  if (!validUtf8(value)) {
    return invalid(field, "is not valid UTF-8");
  }
  if (value.size() > max_len) {
    return invalid(field, fmt::format("{} is {} characters; at most {}", quoteValue(value),
                                      value.size(), max_len));
  }
  return {};
}

Status checkLabel(const std::string& field, const std::string& name) {
  if (std::string problem = dnsLabelProblem(field, name); !problem.empty()) {
    return makeError(problem, kInvalid);
  }
  return {};
}

// Ports are identified by name; with several ports every one needs a name so endpoints and
// DNS SRV records can refer to it.
Status checkPorts(const std::vector<ServicePort>& ports, const std::string& path) {
  std::string field = fieldPath(path, "ports");
  if (ports.empty()) {
    return invalid(field, "at least one port is required");
  }
  if (ports.size() > kMaxPorts) {
    return invalid(field, fmt::format("{} ports; at most {}", ports.size(), kMaxPorts));
  }

  std::map<std::string, size_t> names;
  std::map<std::pair<uint16_t, uint8_t>, size_t> numbers;
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string port_path = fmt::format("{}[{}]", field, i);
    const ServicePort& port = ports[i];
    if (auto st = validateServicePort(port, port_path); !st) {
      return st;
    }

    if (port.name.empty() && ports.size() > 1) {
      return invalid(port_path + ".name", "a name is required when a service has several ports");
    }
    if (auto [it, fresh] = names.emplace(port.name, i); !fresh) {
      return invalid(port_path + ".name", fmt::format("{} is used twice (first at {}[{}])",
                                                      quoteValue(port.name), field, it->second));
    }
    if (auto [it, fresh] = numbers.emplace(std::make_pair(port.port, port.protocol), i); !fresh) {
      return invalid(port_path, fmt::format("{}/{} is listed twice (first at {}[{}])", port.port,
                                            protocolName(port.protocol), field, it->second));
    }
  }
  return {};
}

// Maglev table size, hash key, affinity timeout, and least_conn only on TCP ports.
Status validateBalancing(const Service& service, const std::string& path) {
  if (service.algorithm == WEFT_LB_LEAST_CONN) {
    for (const ServicePort& port : service.ports) {
      if (port.protocol == WEFT_PROTO_UDP) {
        return invalid(fieldPath(path, "algorithm"), leastConnUdpProblem(service.name, port.port));
      }
    }
  }
  if (std::string problem = maglevTableSizeProblem(service.maglev_table_size); !problem.empty()) {
    return invalid(fieldPath(path, "maglev_table_size"), problem);
  }
  if (service.hash_key != HashKey::kClientAddr && service.hash_key != HashKey::kClientAddrPort) {
    return invalid(fieldPath(path, "hash_key"),
                   fmt::format("{} is not client_addr or client_addr_port",
                               static_cast<int>(service.hash_key)));
  }
  return checkRange<uint32_t>(fieldPath(path, "affinity_timeout_seconds"),
                              service.affinity_timeout_seconds, 0, kMaxAffinitySeconds);
}

}  // namespace

std::string fieldPath(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string quoteValue(std::string_view text) {
  bool cut = text.size() > kMaxQuotedChars;
  std::string shown(text.substr(0, kMaxQuotedChars));
  // Replace rather than throw on invalid UTF-8: the text comes straight from a client.
  std::string quoted =
      nlohmann::json(shown).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return cut ? quoted + "..." : quoted;
}

std::string dnsLabelProblem(std::string_view field, std::string_view name) {
  std::string prefix = std::string(field) + ": ";
  if (name.empty()) {
    return prefix + "\"\" is empty; a DNS label has 1..63 characters";
  }
  if (name.size() > 63) {
    return prefix + fmt::format("{} is {} characters; a DNS label has at most 63", quoteValue(name),
                                name.size());
  }

  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  };
  auto bad = std::find_if_not(name.begin(), name.end(), allowed);
  if (bad != name.end()) {
    return prefix + fmt::format("{} is not a DNS label: only a-z, 0-9 and '-' are allowed",
                                quoteValue(name));
  }
  if (name.front() == '-' || name.back() == '-') {
    return prefix + fmt::format("{} is not a DNS label: it must not start or end with '-'",
                                quoteValue(name));
  }
  return "";
}

Result<std::string> canonicalEndpointId(std::string_view id) {
  auto bad = [&]() {
    return makeError(
        fmt::format("endpoint: {} is not host:port (IPv6 as [address]:port)", quoteValue(id)),
        kInvalid);
  };

  std::string_view host_text;
  std::string_view port_text;
  if (id.starts_with('[')) {
    size_t close = id.find("]:");
    if (close == id.npos) {
      return bad();
    }
    host_text = id.substr(1, close - 1);
    port_text = id.substr(close + 2);
  } else {
    size_t colon = id.rfind(':');
    if (colon == id.npos) {
      return bad();
    }
    host_text = id.substr(0, colon);
    port_text = id.substr(colon + 1);
  }

  auto host = IpAddr::parse(host_text);
  bool digits =
      !port_text.empty() && port_text.size() <= 5 &&
      std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!host || (host->isV6() != id.starts_with('[')) || !digits) {
    return bad();
  }
  unsigned long port = std::stoul(std::string(port_text));
  if (port == 0 || port > 65535) {
    return bad();
  }

  Endpoint ep;
  ep.host = *host;
  ep.port = static_cast<uint16_t>(port);
  return ep.id();
}

Status validateHost(const IpAddr& host, const std::string& field) {
  if (!host.isV4() && !host.isV6()) {
    return invalid(field, "an IPv4 or IPv6 address is required");
  }
  if (host.isUnspecified()) {
    return invalid(field, fmt::format("{} is the unspecified address", host.toString()));
  }
  if (host.isV4Mapped()) {
    IpAddr v4{WEFT_AF_INET, {}};
    std::copy(host.bytes.begin() + 12, host.bytes.end(), v4.bytes.begin());
    return invalid(field, fmt::format("{} is an IPv4-mapped IPv6 address; use the IPv4 form {}",
                                      host.toString(), v4.toString()));
  }
  return {};
}

Status validateLabels(const Labels& labels, const std::string& path) {
  std::string field = fieldPath(path, "labels");
  if (labels.size() > kMaxLabels) {
    return invalid(field, fmt::format("{} labels; at most {}", labels.size(), kMaxLabels));
  }
  for (const auto& [key, value] : labels) {
    if (!validUtf8(key)) {
      return invalid(field, "a key is not valid UTF-8");
    }
    if (key.empty() || key.size() > kMaxLabelKeyLen) {
      return invalid(field, fmt::format("key {} is {} characters; keys have 1..{}", quoteValue(key),
                                        key.size(), kMaxLabelKeyLen));
    }
    if (auto st = checkText(fieldPath(field, key), value, kMaxLabelValueLen); !st) {
      return st;
    }
  }
  return {};
}

std::string algorithmNames() {
  std::string out;
  // The config file's order; algorithms the data path lacks read "unknown" and are left out.
  for (weft_lb_algo algo : {WEFT_LB_ROUND_ROBIN, WEFT_LB_RANDOM, WEFT_LB_WEIGHTED,
                            WEFT_LB_LEAST_CONN, WEFT_LB_MAGLEV}) {
    std::string_view name = algorithmName(algo);
    if (name != "unknown") {
      out += (out.empty() ? "" : ", ") + std::string(name);
    }
  }
  return out;
}

Status validateSplit(const TrafficSplit& split, const std::string& path) {
  std::string key_field = fieldPath(path, "key");
  if (!validUtf8(split.key) || split.key.empty() || split.key.size() > kMaxLabelKeyLen) {
    return invalid(key_field, fmt::format("{} is not a label key of 1..{} characters",
                                          quoteValue(split.key), kMaxLabelKeyLen));
  }
  std::string subsets_field = fieldPath(path, "subsets");
  if (split.subsets.empty() || split.subsets.size() > kMaxSplitSubsets) {
    return invalid(subsets_field, fmt::format("{} subsets; a split has 1..{}", split.subsets.size(),
                                              kMaxSplitSubsets));
  }
  uint32_t total = 0;
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < split.subsets.size(); ++i) {
    const SplitSubset& subset = split.subsets[i];
    std::string at = fmt::format("{}[{}]", subsets_field, i);
    if (subset.value.empty()) {
      return invalid(fieldPath(at, "value"), "\"\" is not a label value to split by");
    }
    if (auto st = checkText(fieldPath(at, "value"), subset.value, kMaxLabelValueLen); !st) {
      return st;
    }
    if (auto [it, fresh] = seen.emplace(subset.value, i); !fresh) {
      return invalid(fieldPath(at, "value"), fmt::format("{} is already subsets[{}]",
                                                         quoteValue(subset.value), it->second));
    }
    if (auto st =
            checkRange<uint32_t>(fieldPath(at, "percent"), subset.percent, 0, kSplitPercentTotal);
        !st) {
      return st;
    }
    total += subset.percent;
  }
  if (total != kSplitPercentTotal) {
    return invalid(subsets_field,
                   fmt::format("percents add up to {}; they must add up to 100", total));
  }
  return {};
}

Status validateServicePort(const ServicePort& port, const std::string& path) {
  if (!port.name.empty()) {
    if (auto st = checkLabel(fieldPath(path, "name"), port.name); !st) {
      return st;
    }
  }
  if (auto st = checkRange<unsigned>(fieldPath(path, "port"), port.port, 1, 65535); !st) {
    return st;
  }
  if (port.protocol != WEFT_PROTO_TCP && port.protocol != WEFT_PROTO_UDP) {
    return invalid(fieldPath(path, "protocol"),
                   fmt::format("{} is not tcp ({}) or udp ({})", port.protocol, WEFT_PROTO_TCP,
                               WEFT_PROTO_UDP));
  }
  return {};
}

Status validateService(const Service& service, const std::string& path) {
  if (auto st = checkLabel(fieldPath(path, "name"), service.name); !st) {
    return st;
  }
  if (auto st = checkLabel(fieldPath(path, "ns"), service.ns); !st) {
    return st;
  }
  if (auto st = checkPorts(service.ports, path); !st) {
    return st;
  }
  if (auto st = validateLabels(service.labels, path); !st) {
    return st;
  }

  // Only what the data path implements; the name table is the single list of those.
  if (std::string_view(algorithmName(service.algorithm)) == "unknown") {
    return invalid(fieldPath(path, "algorithm"),
                   fmt::format("{} is not a supported algorithm ({})",
                               static_cast<int>(service.algorithm), algorithmNames()));
  }
  if (auto st = validateBalancing(service, path); !st) {
    return st;
  }
  if (service.split) {
    if (auto st = validateSplit(*service.split, fieldPath(path, "split")); !st) {
      return st;
    }
  }
  if (service.vip) {
    return validateHost(*service.vip, fieldPath(path, "vip"));
  }
  return {};
}

Status validateHealthCheck(const HealthCheck& health, const std::string& path) {
  if (health.kind != HealthCheckKind::kNone && health.kind != HealthCheckKind::kTcp &&
      health.kind != HealthCheckKind::kHttp) {
    return invalid(fieldPath(path, "kind"),
                   fmt::format("{} is not none, tcp or http", static_cast<int>(health.kind)));
  }

  // The path goes into a request line verbatim: no spaces or control characters.
  std::string path_field = fieldPath(path, "http_path");
  if (health.http_path.empty() || health.http_path.front() != '/') {
    return invalid(path_field, fmt::format("{} must start with '/'", quoteValue(health.http_path)));
  }
  if (auto st = checkText(path_field, health.http_path, kMaxHttpPathLen); !st) {
    return st;
  }
  // Visible ASCII only, as in a URL path (anything else is percent-encoded).
  auto printable = [](char c) {
    auto byte = static_cast<uint8_t>(c);
    return byte > 0x20 && byte < 0x7f;
  };
  if (!std::all_of(health.http_path.begin(), health.http_path.end(), printable)) {
    return invalid(path_field, fmt::format("{} contains a space, control or non-ASCII character",
                                           quoteValue(health.http_path)));
  }

  if (auto st = checkRange(fieldPath(path, "expected_status"), health.expected_status,
                           kMinHttpStatus, kMaxHttpStatus);
      !st) {
    return st;
  }
  if (auto st = checkRange(fieldPath(path, "interval_ms"), health.interval_ms, kMinIntervalMs,
                           kMaxIntervalMs);
      !st) {
    return st;
  }
  std::string timeout_field = fieldPath(path, "timeout_ms");
  if (auto st = checkRange<uint32_t>(timeout_field, health.timeout_ms, 1, kMaxIntervalMs); !st) {
    return st;
  }
  // A probe still running when the next is due would overlap it.
  if (health.timeout_ms >= health.interval_ms) {
    return invalid(timeout_field, fmt::format("{} must be less than interval_ms ({})",
                                              health.timeout_ms, health.interval_ms));
  }
  if (auto st = checkRange<uint32_t>(fieldPath(path, "healthy_threshold"), health.healthy_threshold,
                                     1, kMaxThreshold);
      !st) {
    return st;
  }
  return checkRange<uint32_t>(fieldPath(path, "unhealthy_threshold"), health.unhealthy_threshold, 1,
                              kMaxThreshold);
}

Status validateEndpoint(const Endpoint& endpoint, const std::string& path) {
  if (auto st = checkLabel(fieldPath(path, "service"), endpoint.service); !st) {
    return st;
  }
  if (auto st = checkLabel(fieldPath(path, "ns"), endpoint.ns); !st) {
    return st;
  }
  if (auto st = validateHost(endpoint.host, fieldPath(path, "host")); !st) {
    return st;
  }
  if (auto st = checkRange<unsigned>(fieldPath(path, "port"), endpoint.port, 1, 65535); !st) {
    return st;
  }
  if (!endpoint.port_name.empty()) {
    if (auto st = checkLabel(fieldPath(path, "port_name"), endpoint.port_name); !st) {
      return st;
    }
  }
  if (auto st = checkText(fieldPath(path, "version"), endpoint.version, kMaxTextLen); !st) {
    return st;
  }
  if (auto st = checkText(fieldPath(path, "zone"), endpoint.zone, kMaxTextLen); !st) {
    return st;
  }
  if (auto st = checkRange<uint32_t>(fieldPath(path, "weight"), endpoint.weight, 0, kMaxWeight);
      !st) {
    return st;
  }
  if (auto st = validateLabels(endpoint.labels, path); !st) {
    return st;
  }
  if (auto st = validateHealthCheck(endpoint.health, fieldPath(path, "health")); !st) {
    return st;
  }
  return checkRange<uint32_t>(fieldPath(path, "ttl_seconds"), endpoint.ttl_seconds, 0,
                              kMaxTtlSeconds);
}

}  // namespace weft::registry
