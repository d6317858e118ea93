// SPDX-License-Identifier: Apache-2.0
// Encoding and strict decoding of the registry model. nlohmann::json throws on type errors,
// so every access here is preceded by a type check and parse errors are caught at the edge.
#include "userspace/registry/model_json.h"

#include <initializer_list>
#include <limits>

#include <fmt/format.h>

#include "userspace/config/agent_config.h"
#include "userspace/registry/model_validate.h"
#include "userspace/registry/registry.h"

namespace weft::registry {
namespace {

using nlohmann::json;

constexpr size_t kMaxKeyShown = 80;

Error invalid(const std::string& field, const std::string& what) {
  return makeError(field + ": " + what, kInvalid);
}

// Containers are named, not printed: printing a deeply nested client value recurses.
std::string describe(const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "a list";
    case json::value_t::string:
      return quoteValue(value.get_ref<const std::string&>());
    case json::value_t::discarded:
      return "nothing";
    default:
      return value.dump();
  }
}

// The fields of one JSON object, looked up by name after unknown names were rejected.
class Fields {
 public:
  Fields(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  Status check(std::initializer_list<std::string_view> known) const {
    if (!object_.is_object()) {
      std::string where = path_.empty() ? "body" : path_;
      return invalid(where, describe(object_) + " is not an object");
    }
    for (const auto& item : object_.items()) {
      const std::string& key = item.key();
      bool found = false;
      for (std::string_view k : known) {
        found = found || k == key;
      }
      if (!found) {
        return invalid(field(key.substr(0, kMaxKeyShown)), "unknown field");
      }
    }
    return {};
  }

  std::string field(std::string_view key) const { return fieldPath(path_, key); }

  const json* find(const char* key) const {
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  Status missing(const char* key) const { return invalid(field(key), "required field is missing"); }

  Status string(const char* key, std::string* out, bool required = false) const {
    const json* value = find(key);
    if (value == nullptr) {
      return required ? missing(key) : Status{};
    }
    if (!value->is_string()) {
      return invalid(field(key), describe(*value) + " is not a string");
    }
    *out = value->get<std::string>();
    return {};
  }

  // Integers only (1.0 is rejected); the range is the field's, so the message states it.
  template <typename T>
  Status integer(const char* key, T lo, T hi, T* out, bool required = false) const {
    const json* value = find(key);
    if (value == nullptr) {
      return required ? missing(key) : Status{};
    }
    if (!value->is_number_integer()) {
      return invalid(field(key), describe(*value) + " is not an integer");
    }

    bool in_range = false;
    if (value->is_number_unsigned()) {
      auto v = value->get<uint64_t>();
      in_range = (lo <= 0 || v >= static_cast<uint64_t>(lo)) && v <= static_cast<uint64_t>(hi);
    } else {
      auto v = value->get<int64_t>();
      in_range = v >= static_cast<int64_t>(lo) &&
                 (v < 0 || static_cast<uint64_t>(v) <= static_cast<uint64_t>(hi));
    }
    if (!in_range) {
      return invalid(field(key), fmt::format("{} is not in {}..{}", value->dump(), lo, hi));
    }
    *out = value->get<T>();
    return {};
  }

  Status address(const char* key, IpAddr* out, bool required = false) const {
    std::string text;
    if (auto st = string(key, &text, required); !st || find(key) == nullptr) {
      return st;
    }
    auto addr = IpAddr::parse(text);
    if (!addr) {
      return invalid(field(key), quoteValue(text) + " is not an IP address");
    }
    *out = *addr;
    return {};
  }

  Status boolean(const char* key, bool* out) const {
    const json* value = find(key);
    if (value == nullptr) {
      return {};
    }
    if (!value->is_boolean()) {
      return invalid(field(key), describe(*value) + " is not true or false");
    }
    *out = value->get<bool>();
    return {};
  }

  Status labels(const char* key, Labels* out) const {
    const json* value = find(key);
    if (value == nullptr) {
      return {};
    }
    if (!value->is_object()) {
      return invalid(field(key), describe(*value) + " is not an object");
    }
    Labels labels;
    for (const auto& item : value->items()) {
      if (!item.value().is_string()) {
        std::string label_field = fieldPath(field(key), item.key().substr(0, kMaxKeyShown));
        return invalid(label_field, describe(item.value()) + " is not a string");
      }
      labels.emplace(item.key(), item.value().get<std::string>());
    }
    *out = std::move(labels);
    return {};
  }

 private:
  const json& object_;
  std::string path_;
};

Status protocolField(const Fields& fields, uint8_t* out) {
  std::string name;
  if (auto st = fields.string("protocol", &name); !st || fields.find("protocol") == nullptr) {
    return st;
  }
  if (!protocolFromName(name, out)) {
    return invalid(fields.field("protocol"), quoteValue(name) + " is not one of tcp, udp");
  }
  return {};
}

Status algorithmField(const Fields& fields, weft_lb_algo* out) {
  std::string name;
  if (auto st = fields.string("algorithm", &name); !st || fields.find("algorithm") == nullptr) {
    return st;
  }
  if (!algorithmFromName(name, out)) {
    return invalid(fields.field("algorithm"),
                   quoteValue(name) + " is not one of " + algorithmNames());
  }
  return {};
}

Status hashKeyField(const Fields& fields, HashKey* out) {
  std::string name;
  if (auto st = fields.string("hash_key", &name); !st || fields.find("hash_key") == nullptr) {
    return st;
  }
  if (!hashKeyFromName(name, out)) {
    return invalid(fields.field("hash_key"),
                   quoteValue(name) + " is not one of client_addr, client_addr_port");
  }
  return {};
}

Status healthKindField(const Fields& fields, HealthCheckKind* out) {
  std::string name;
  if (auto st = fields.string("kind", &name); !st || fields.find("kind") == nullptr) {
    return st;
  }
  if (!healthKindFromName(name, out)) {
    return invalid(fields.field("kind"), quoteValue(name) + " is not one of none, tcp, http");
  }
  return {};
}

Result<SplitSubset> splitSubsetFromJson(const json& value, const std::string& path) {
  Fields fields(value, path);
  SplitSubset subset;
  Status st = fields.check({"value", "percent"});
  if (st) {
    st = fields.string("value", &subset.value, true);
  }
  if (st) {
    st = fields.integer<uint32_t>("percent", 0, kSplitPercentTotal, &subset.percent, true);
  }
  if (!st) {
    return st.error();
  }
  return subset;
}

json labelsJson(const Labels& labels) {
  json out = json::object();
  for (const auto& [key, value] : labels) {
    out[key] = value;
  }
  return out;
}

template <typename T>
void dropDefault(json& out, const char* key, const T& value, const T& default_value) {
  if (value == default_value) {
    out.erase(key);
  }
}

}  // namespace

const char* healthKindName(HealthCheckKind kind) {
  switch (kind) {
    case HealthCheckKind::kNone:
      return "none";
    case HealthCheckKind::kTcp:
      return "tcp";
    case HealthCheckKind::kHttp:
      return "http";
  }
  return "unknown";
}

bool healthKindFromName(std::string_view text, HealthCheckKind* out) {
  for (HealthCheckKind kind :
       {HealthCheckKind::kNone, HealthCheckKind::kTcp, HealthCheckKind::kHttp}) {
    if (text == healthKindName(kind)) {
      *out = kind;
      return true;
    }
  }
  return false;
}

json toJson(const ServicePort& port, JsonForm form) {
  json out{{"name", port.name}, {"port", port.port}, {"protocol", protocolName(port.protocol)}};
  if (form == JsonForm::kStored) {
    dropDefault(out, "name", port.name, ServicePort{}.name);
    dropDefault(out, "protocol", port.protocol, ServicePort{}.protocol);
  }
  return out;
}

json toJson(const TrafficSplit& split) {
  json subsets = json::array();
  for (const SplitSubset& subset : split.subsets) {
    subsets.push_back(json{{"value", subset.value}, {"percent", subset.percent}});
  }
  return json{{"key", split.key}, {"subsets", std::move(subsets)}};
}

json toJson(const Service& service, JsonForm form) {
  json ports = json::array();
  for (const ServicePort& port : service.ports) {
    ports.push_back(toJson(port, form));
  }

  json out{{"name", service.name},
           {"ns", service.ns},
           {"ports", std::move(ports)},
           {"labels", labelsJson(service.labels)},
           {"algorithm", algorithmName(service.algorithm)},
           {"maglev_table_size", service.maglev_table_size},
           {"hash_key", hashKeyName(service.hash_key)},
           {"affinity_timeout_seconds", service.affinity_timeout_seconds},
           {"revision", service.revision}};
  if (service.vip) {
    out["vip"] = service.vip->toString();
  }
  // Absent (not null) without a split, so stored documents of older agents look the same.
  if (service.split) {
    out["split"] = toJson(*service.split);
  }
  if (form == JsonForm::kStored) {
    const Service defaults;
    out.erase("revision");
    dropDefault(out, "labels", service.labels, defaults.labels);
    dropDefault(out, "algorithm", service.algorithm, defaults.algorithm);
    dropDefault(out, "maglev_table_size", service.maglev_table_size, defaults.maglev_table_size);
    dropDefault(out, "hash_key", service.hash_key, defaults.hash_key);
    dropDefault(out, "affinity_timeout_seconds", service.affinity_timeout_seconds,
                defaults.affinity_timeout_seconds);
  }
  return out;
}

json toJson(const HealthCheck& health) {
  return json{{"kind", healthKindName(health.kind)},
              {"http_path", health.http_path},
              {"expected_status", health.expected_status},
              {"interval_ms", health.interval_ms},
              {"timeout_ms", health.timeout_ms},
              {"healthy_threshold", health.healthy_threshold},
              {"unhealthy_threshold", health.unhealthy_threshold}};
}

json toJson(const Endpoint& endpoint, JsonForm form) {
  json out{{"service", endpoint.service},
           {"ns", endpoint.ns},
           {"host", endpoint.host.toString()},
           {"port", endpoint.port},
           {"port_name", endpoint.port_name},
           {"version", endpoint.version},
           {"zone", endpoint.zone},
           {"weight", endpoint.weight},
           {"drained", endpoint.drained},
           {"labels", labelsJson(endpoint.labels)},
           {"health", toJson(endpoint.health)},
           {"ttl_seconds", endpoint.ttl_seconds},
           {"last_heartbeat_ms", endpoint.last_heartbeat_ms},
           {"revision", endpoint.revision}};
  if (form == JsonForm::kStored) {
    const Endpoint defaults;
    out.erase("revision");
    dropDefault(out, "port_name", endpoint.port_name, defaults.port_name);
    dropDefault(out, "version", endpoint.version, defaults.version);
    dropDefault(out, "zone", endpoint.zone, defaults.zone);
    dropDefault(out, "weight", endpoint.weight, defaults.weight);
    dropDefault(out, "drained", endpoint.drained, defaults.drained);
    dropDefault(out, "labels", endpoint.labels, defaults.labels);
    dropDefault(out, "health", endpoint.health, defaults.health);
    dropDefault(out, "ttl_seconds", endpoint.ttl_seconds, defaults.ttl_seconds);
    dropDefault(out, "last_heartbeat_ms", endpoint.last_heartbeat_ms, defaults.last_heartbeat_ms);
  }
  return out;
}

Result<ServicePort> servicePortFromJson(const json& value, const std::string& path) {
  Fields fields(value, path);
  ServicePort port;
  Status st = fields.check({"name", "port", "protocol"});
  if (st) {
    st = fields.string("name", &port.name);
  }
  if (st) {
    st = fields.integer<uint16_t>("port", 1, 65535, &port.port, true);
  }
  if (st) {
    st = protocolField(fields, &port.protocol);
  }
  if (!st) {
    return st.error();
  }
  return port;
}

Result<Service> serviceFromJson(const json& value, const std::string& path) {
  Fields fields(value, path);
  Service service;
  Status st = fields.check({"name", "ns", "ports", "labels", "algorithm", "maglev_table_size",
                            "hash_key", "affinity_timeout_seconds", "vip", "split", "revision"});
  if (st) {
    st = fields.string("name", &service.name, true);
  }
  if (st) {
    st = fields.string("ns", &service.ns);
  }
  if (st) {
    st = fields.labels("labels", &service.labels);
  }
  if (st) {
    st = algorithmField(fields, &service.algorithm);
  }
  // Any uint32 here; whether it is a usable prime is validateService's question.
  if (st) {
    st = fields.integer<uint32_t>("maglev_table_size", 0, std::numeric_limits<uint32_t>::max(),
                                  &service.maglev_table_size);
  }
  if (st) {
    st = hashKeyField(fields, &service.hash_key);
  }
  if (st) {
    st = fields.integer<uint32_t>("affinity_timeout_seconds", 0, kMaxAffinitySeconds,
                                  &service.affinity_timeout_seconds);
  }
  if (st) {
    st = fields.integer<uint64_t>("revision", 0, std::numeric_limits<uint64_t>::max(),
                                  &service.revision);
  }
  if (st) {
    const json* vip = fields.find("vip");
    if (vip != nullptr && !vip->is_null()) {
      IpAddr addr;
      st = fields.address("vip", &addr);
      service.vip = addr;
    }
  }
  if (!st) {
    return st.error();
  }

  // null clears a split in a PATCH and reads as "no split" anywhere else.
  if (const json* split = fields.find("split"); split != nullptr && !split->is_null()) {
    auto decoded = splitFromJson(*split, fields.field("split"));
    if (!decoded) {
      return decoded.error();
    }
    service.split = std::move(*decoded);
  }

  if (const json* ports = fields.find("ports")) {
    if (!ports->is_array()) {
      return invalid(fields.field("ports"), describe(*ports) + " is not a list");
    }
    // Bounded before decoding so a huge list costs nothing; validation repeats the limit.
    if (ports->size() > kMaxPorts) {
      return invalid(fields.field("ports"),
                     fmt::format("{} ports; at most {}", ports->size(), kMaxPorts));
    }
    for (size_t i = 0; i < ports->size(); ++i) {
      auto port = servicePortFromJson((*ports)[i], fmt::format("{}[{}]", fields.field("ports"), i));
      if (!port) {
        return port.error();
      }
      service.ports.push_back(*port);
    }
  }
  return service;
}

Result<TrafficSplit> splitFromJson(const json& value, const std::string& path) {
  Fields fields(value, path);
  TrafficSplit split;
  Status st = fields.check({"key", "subsets"});
  if (st) {
    st = fields.string("key", &split.key);
  }
  if (!st) {
    return st.error();
  }
  const json* subsets = fields.find("subsets");
  if (subsets == nullptr) {
    return invalid(fields.field("subsets"), "required field is missing");
  }
  if (!subsets->is_array()) {
    return invalid(fields.field("subsets"), describe(*subsets) + " is not a list");
  }
  if (subsets->size() > kMaxSplitSubsets) {
    return invalid(fields.field("subsets"),
                   fmt::format("{} subsets; at most {}", subsets->size(), kMaxSplitSubsets));
  }
  for (size_t i = 0; i < subsets->size(); ++i) {
    auto subset =
        splitSubsetFromJson((*subsets)[i], fmt::format("{}[{}]", fields.field("subsets"), i));
    if (!subset) {
      return subset.error();
    }
    split.subsets.push_back(std::move(*subset));
  }
  return split;
}

Result<HealthCheck> healthCheckFromJson(const json& value, const std::string& path) {
  Fields fields(value, path);
  HealthCheck health;
  Status st = fields.check({"kind", "http_path", "expected_status", "interval_ms", "timeout_ms",
                            "healthy_threshold", "unhealthy_threshold"});
  if (st) {
    st = healthKindField(fields, &health.kind);
  }
  if (st) {
    st = fields.string("http_path", &health.http_path);
  }
  if (st) {
    st = fields.integer("expected_status", kMinHttpStatus, kMaxHttpStatus, &health.expected_status);
  }
  if (st) {
    st = fields.integer("interval_ms", kMinIntervalMs, kMaxIntervalMs, &health.interval_ms);
  }
  if (st) {
    st = fields.integer<uint32_t>("timeout_ms", 1, kMaxIntervalMs, &health.timeout_ms);
  }
  if (st) {
    st = fields.integer<uint32_t>("healthy_threshold", 1, kMaxThreshold, &health.healthy_threshold);
  }
  if (st) {
    st = fields.integer<uint32_t>("unhealthy_threshold", 1, kMaxThreshold,
                                  &health.unhealthy_threshold);
  }
  if (!st) {
    return st.error();
  }
  return health;
}

Result<Endpoint> endpointFromJson(const json& value, const std::string& path) {
  Fields fields(value, path);
  Endpoint endpoint;
  Status st =
      fields.check({"service", "ns", "host", "port", "port_name", "version", "zone", "weight",
                    "drained", "labels", "health", "ttl_seconds", "last_heartbeat_ms", "revision"});
  if (st) {
    st = fields.string("service", &endpoint.service);
  }
  if (st) {
    st = fields.string("ns", &endpoint.ns);
  }
  if (st) {
    st = fields.address("host", &endpoint.host, true);
  }
  if (st) {
    st = fields.integer<uint16_t>("port", 1, 65535, &endpoint.port, true);
  }
  if (st) {
    st = fields.string("port_name", &endpoint.port_name);
  }
  if (st) {
    st = fields.string("version", &endpoint.version);
  }
  if (st) {
    st = fields.string("zone", &endpoint.zone);
  }
  if (st) {
    st = fields.integer<uint32_t>("weight", 0, kMaxWeight, &endpoint.weight);
  }
  if (st) {
    st = fields.boolean("drained", &endpoint.drained);
  }
  if (st) {
    st = fields.labels("labels", &endpoint.labels);
  }
  if (st) {
    st = fields.integer<uint32_t>("ttl_seconds", 0, kMaxTtlSeconds, &endpoint.ttl_seconds);
  }
  if (st) {
    st = fields.integer<int64_t>("last_heartbeat_ms", 0, std::numeric_limits<int64_t>::max(),
                                 &endpoint.last_heartbeat_ms);
  }
  if (st) {
    st = fields.integer<uint64_t>("revision", 0, std::numeric_limits<uint64_t>::max(),
                                  &endpoint.revision);
  }
  if (!st) {
    return st.error();
  }

  if (const json* health = fields.find("health")) {
    auto decoded = healthCheckFromJson(*health, fields.field("health"));
    if (!decoded) {
      return decoded.error();
    }
    endpoint.health = *decoded;
  }
  return endpoint;
}

Result<json> parseJson(std::string_view text) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
    std::string what = e.what();
    size_t start = what.find("] ");
    return makeError("malformed JSON: " + what.substr(start == what.npos ? 0 : start + 2),
                     kInvalid);
  }
}

}  // namespace weft::registry
