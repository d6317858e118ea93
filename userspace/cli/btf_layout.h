// SPDX-License-Identifier: Apache-2.0
// The field layout of a map key or value, walked from the map's BTF, with the presentation
// hints that maps/weft_maps.h implies by field name (addresses, ports, protocols, ...).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct btf;

namespace weft::cli {

// How a leaf is shown and parsed. Set only on members of weft_* structs, by member name.
enum class Hint {
  kNone,
  kPad,           // "pad", "pad0", ...: hidden on output, zero on input
  kIpAddr,        // "addr" (__u32[4]) beside a "family": IPv4 in addr[0], else IPv6
  kFamily,        // "family": ipv4 / ipv6
  kPort,          // "port" (__u16): network byte order, shown as a host number
  kProto,         // "proto": tcp / udp
  kAlgo,          // "algo": enum weft_lb_algo names
  kBackendState,  // "state" of weft_backend*: enum weft_backend_state flag names
};

struct Field {
  enum class Kind {
    kInt,     // 1, 2, 4 or 8 bytes (or a bitfield), host byte order
    kEnum,    // a BTF enum: its enumerator names, or the number
    kStruct,  // members in order
    kArray,   // `count` elements of members[0]
    kString,  // char array: a NUL-terminated string
    kBytes,   // anything else (unions, floats, odd sizes): hex bytes
  };

  Kind kind = Kind::kBytes;
  std::string name;         // member name; "key" or "value" at the root; "" for elements
  std::string type_name;    // "struct weft_svc_key", "__u32", "char[128]", for messages
  uint32_t offset = 0;      // bytes from the start of the parent (struct) or element
  uint32_t size = 0;        // bytes this field covers
  uint32_t bit_offset = 0;  // bitfields only: bits from `offset`, little-endian numbering
  uint32_t bit_size = 0;    // bitfields only; 0 for whole integers
  bool is_signed = false;
  Hint hint = Hint::kNone;
  uint32_t count = 0;                                        // kArray
  std::vector<Field> members;                                // kStruct; kArray: the element
  std::vector<std::pair<std::string, int64_t>> enumerators;  // kEnum
};

// Builds the layout of BTF type `type_id` for a key or value of `size` bytes, named `name`.
// Without usable BTF (btf null, type_id 0, a size that disagrees, or a type that cannot be
// walked) a 1/2/4/8-byte field is an unsigned integer and anything else hex bytes, so every
// map can still be read. Does not keep `btf`.
Field buildLayout(const struct btf* btf, uint32_t type_id, uint32_t size, const std::string& name);

// An integer or hex-bytes layout of `size` bytes, used where no BTF describes the data.
Field plainLayout(uint32_t size, const std::string& name);

// Whether every visible leaf is a plain number, so per-CPU values can be summed leaf by leaf.
bool isSummable(const Field& field);

}  // namespace weft::cli
