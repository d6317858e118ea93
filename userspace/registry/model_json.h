// SPDX-License-Identifier: Apache-2.0
// JSON form of the registry model, as the HTTP API and the stores carry it. Field names are
// the C++ field names; enums are names ("tcp", "round_robin", "http").
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "userspace/common/result.h"
#include "userspace/registry/model.h"

namespace weft::registry {

// kFull: every field, as the API returns it. kStored: for stores, which keep the revision
// themselves: drops "revision" and every field that holds its default, since decoding
// restores defaults and a snapshot of 100k endpoints spends most of its time parsing.
enum class JsonForm { kFull, kStored };

nlohmann::json toJson(const ServicePort& port, JsonForm form = JsonForm::kFull);
// {"key":"version","subsets":[{"value":"v1","percent":90},{"value":"v2","percent":10}]}
nlohmann::json toJson(const TrafficSplit& split);
// "vip" and "split" only when set. kStored leaves maglev_table_size, hash_key and
// affinity_timeout_seconds out at their defaults, like every default: a service that uses
// none of them is stored exactly as agents that predate them stored it.
nlohmann::json toJson(const Service& service, JsonForm form = JsonForm::kFull);
nlohmann::json toJson(const HealthCheck& health);
nlohmann::json toJson(const Endpoint& endpoint, JsonForm form = JsonForm::kFull);

// Decoders never throw. They check structure and types only: unknown fields, wrong JSON
// types, numbers that do not fit the field's range, unknown enum names and unparsable
// addresses all fail with kInvalid and "<path>: <value> <problem>", e.g.
// "ports[0].port: 70000 is not in 1..65535". Absent optional fields keep the model's
// defaults. Required: Service.name, ServicePort.port, Endpoint.host and Endpoint.port.
// Value rules (DNS labels, port 0, timeouts) are model_validate.h's job.
// `path` prefixes field names in messages ("" = the value is the whole document).
Result<ServicePort> servicePortFromJson(const nlohmann::json& json, const std::string& path = "");
Result<Service> serviceFromJson(const nlohmann::json& json, const std::string& path = "");
// "key" defaults to "version"; "subsets" is required. A null "split" in a Service is no split.
Result<TrafficSplit> splitFromJson(const nlohmann::json& json, const std::string& path = "split");
Result<HealthCheck> healthCheckFromJson(const nlohmann::json& json,
                                        const std::string& path = "health");
Result<Endpoint> endpointFromJson(const nlohmann::json& json, const std::string& path = "");

// Parses a request body or stored document; malformed JSON fails with kInvalid and the
// parser's position. Never throws.
Result<nlohmann::json> parseJson(std::string_view text);

const char* healthKindName(HealthCheckKind kind);
bool healthKindFromName(std::string_view text, HealthCheckKind* out);

}  // namespace weft::registry
