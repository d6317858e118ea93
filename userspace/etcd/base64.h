// SPDX-License-Identifier: Apache-2.0
// Standard base64 (RFC 4648, with padding): etcd's JSON gateway carries keys and values as
// base64 because they are arbitrary bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace weft::etcd {

std::string base64Encode(std::string_view bytes);

// Strict: the length must be a multiple of 4, padding only at the end, no whitespace.
// nullopt on anything else, so a corrupted reply is reported instead of misread.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace weft::etcd
