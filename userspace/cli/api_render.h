// SPDX-License-Identifier: Apache-2.0
// Human tables for the registry objects weftctl gets from the agent's API (services,
// endpoints), built from the API's JSON so that -o json can print it unchanged.
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

namespace weft::cli {

// One flat row per service: ns, name, vip, ports, algorithm, split, labels.
nlohmann::ordered_json serviceRow(const nlohmann::json& service);
// One flat row per endpoint: id, version, zone, weight, drained, check, ttl, serving, labels.
nlohmann::ordered_json endpointRow(const nlohmann::json& endpoint);

// A service as "key: value" lines, then its endpoints as a table when the JSON has them.
void printService(std::ostream& out, const nlohmann::json& service);
// A JSON list of endpoints as a table.
void printEndpoints(std::ostream& out, const nlohmann::json& endpoints);
// One endpoint as "key: value" lines.
void printEndpoint(std::ostream& out, const nlohmann::json& endpoint);

// 1000 -> "1s", 1500 -> "1.5s", 250 -> "250ms".
std::string formatMs(uint64_t ms);

}  // namespace weft::cli
