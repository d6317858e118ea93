// SPDX-License-Identifier: Apache-2.0
// Turns a Snapshot into the rows weftctl prints, as aligned tables or as JSON.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "userspace/cli/map_snapshot.h"

namespace weft::cli {

nlohmann::ordered_json statusJson(const Snapshot& snap, const std::string& bpffs_root);
// With `balancing`, rows also carry maglev_size and affinity_timeout_seconds (for -o json;
// the table stays narrow).
nlohmann::ordered_json servicesJson(const Snapshot& snap, bool balancing = false);

// Backends of one service (matched by name, "vip:port/proto" or "vip:port"), or of all
// services when `service` is empty. Fails when the service is unknown. Active backends come
// first in slot order; draining members follow with state "draining" while they still hold
// connections and "drained" once their count is 0.
Result<nlohmann::ordered_json> backendsJson(const Snapshot& snap,
                                            const std::optional<std::string>& service);

// Prints an array of flat JSON objects as a table with one column per key.
void printTable(std::ostream& out, const nlohmann::ordered_json& rows);
// Prints a flat object as "key: value" lines, nested objects indented.
void printKeyValues(std::ostream& out, const nlohmann::ordered_json& object, int indent = 0);

}  // namespace weft::cli
