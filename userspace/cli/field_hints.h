// SPDX-License-Identifier: Apache-2.0
// The names maps/weft_maps.h gives to hinted integer fields: protocols, address families,
// balancing algorithms and backend state flags, in both directions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "userspace/cli/btf_layout.h"

namespace weft::cli {

// The name of `raw` under `hint` ("tcp", "round_robin", "active,draining", "none"), or
// nullopt when the hint has none for it (a value the contract does not know yet).
std::optional<std::string> hintName(Hint hint, uint64_t raw);

// The number `name` stands for under `hint`; state takes a comma-separated list of flags.
// nullopt when a name is unknown.
std::optional<uint64_t> hintValue(Hint hint, const std::string& name);

// For messages: what the hint names ("a protocol") and the names it accepts ("tcp, udp").
std::string hintNoun(Hint hint);
std::string hintNames(Hint hint);

}  // namespace weft::cli
