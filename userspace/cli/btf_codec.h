// SPDX-License-Identifier: Apache-2.0
// Converts map keys and values between raw bytes and JSON with named fields, following a
// Field layout (userspace/cli/btf_layout.h). Used by `weftctl map`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "userspace/cli/btf_layout.h"
#include "userspace/common/result.h"

namespace weft::cli {

// Decodes `bytes` (at least field.size of them) to JSON: an object per struct without its
// pad members, arrays, strings for char arrays, hex for bytes, and the hinted forms (IP
// strings, host-order ports, "tcp", algorithm and state names). Never fails: values a hint
// does not know are shown as numbers.
nlohmann::ordered_json decodeField(const Field& field, std::span<const uint8_t> bytes);

// Encodes `input` into field.size bytes. Accepts what decodeField prints and the numeric
// forms. Every non-pad member must be present; unknown members, out-of-range numbers, bad
// addresses or names, over-long strings and non-zero pads fail with a message that names
// the field path (e.g. "key.addr") and the value.
Result<std::vector<uint8_t>> encodeField(const Field& field, const nlohmann::json& input);

// Parses `text` as JSON (an object, or a bare number for integer keys) and encodes it. A
// parse error names field.name ("key" or "value") and the text.
Result<std::vector<uint8_t>> encodeText(const Field& field, const std::string& text);

// Adds decoded per-CPU values leaf by leaf (numbers summed, objects and arrays walked).
// Meant for layouts where isSummable() holds; `values` must not be empty.
nlohmann::ordered_json sumDecoded(const std::vector<nlohmann::ordered_json>& values);

// Compact JSON text for messages and table cells; invalid UTF-8 never throws.
std::string compactJson(const nlohmann::ordered_json& value);

}  // namespace weft::cli
