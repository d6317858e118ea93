// SPDX-License-Identifier: Apache-2.0
// Byte <-> JSON conversion over a Field tree, with the contract's hints; every rejection
// names the field path and the offending value.
#include "userspace/cli/btf_codec.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>

#include "maps/weft_maps.h"
#include "userspace/cli/field_hints.h"

namespace weft::cli {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// --- integers --------------------------------------------------------------------------

uint64_t mask(uint32_t bits) {
  return bits >= 64 ? std::numeric_limits<uint64_t>::max() : (uint64_t{1} << bits) - 1;
}

uint32_t bitsOf(const Field& f) {
  return f.bit_size != 0 ? f.bit_size : f.size * 8;
}

// The field's raw bits. Bitfields use the little-endian numbering of BTF on x86 and arm64.
uint64_t loadRaw(const Field& f, const uint8_t* p) {
  if (f.bit_size != 0) {
    uint64_t word = 0;
    for (uint32_t i = 0; i < f.size; i++) {
      word |= uint64_t{p[i]} << (8 * i);
    }
    return (word >> f.bit_offset) & mask(f.bit_size);
  }
  switch (f.size) {
    case 1:
      return p[0];
    case 2: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
}

void storeRaw(const Field& f, uint64_t raw, uint8_t* p) {
  if (f.bit_size != 0) {
    uint64_t word = 0;
    for (uint32_t i = 0; i < f.size; i++) {
      word |= uint64_t{p[i]} << (8 * i);
    }
    uint64_t m = mask(f.bit_size) << f.bit_offset;
    word = (word & ~m) | ((raw << f.bit_offset) & m);
    for (uint32_t i = 0; i < f.size; i++) {
      p[i] = static_cast<uint8_t>(word >> (8 * i));
    }
    return;
  }
  switch (f.size) {
    case 1:
      p[0] = static_cast<uint8_t>(raw);
      break;
    case 2: {
      auto v = static_cast<uint16_t>(raw);
      std::memcpy(p, &v, 2);
      break;
    }
    case 4: {
      auto v = static_cast<uint32_t>(raw);
      std::memcpy(p, &v, 4);
      break;
    }
    default:
      std::memcpy(p, &raw, 8);
      break;
  }
}

ordered_json intJson(const Field& f, uint64_t raw) {
  uint32_t bits = bitsOf(f);
  if (f.is_signed && bits < 64 && (raw >> (bits - 1)) & 1) {
    return static_cast<int64_t>(raw | ~mask(bits));
  }
  if (f.is_signed) {
    return static_cast<int64_t>(raw);
  }
  return raw;
}

std::string rangeText(const Field& f) {
  uint32_t bits = bitsOf(f);
  if (!f.is_signed) {
    return "0.." + std::to_string(mask(bits));
  }
  int64_t lo = bits >= 64 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (bits - 1));
  return std::to_string(lo) + ".." + std::to_string(mask(bits - 1));
}

ordered_json hintedIntJson(const Field& f, uint64_t raw) {
  if (f.hint == Hint::kPort) {
    return ntohs(static_cast<uint16_t>(raw));
  }
  if (f.hint == Hint::kNone || f.hint == Hint::kPad || f.hint == Hint::kIpAddr) {
    return intJson(f, raw);
  }
  auto name = hintName(f.hint, raw);
  return name ? ordered_json(*name) : intJson(f, raw);
}

// --- decoding --------------------------------------------------------------------------

std::string hexOf(const uint8_t* p, uint32_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (uint32_t i = 0; i < size; i++) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 0xf];
  }
  return out;
}

ordered_json decodeAt(const Field& f, const uint8_t* p);

ordered_json decodeArray(const Field& f, const uint8_t* p) {
  ordered_json out = ordered_json::array();
  const Field& elem = f.members[0];
  for (uint32_t i = 0; i < f.count; i++) {
    out.push_back(decodeAt(elem, p + i * elem.size));
  }
  return out;
}

ordered_json decodeString(const Field& f, const uint8_t* p) {
  const uint8_t* end = static_cast<const uint8_t*>(std::memchr(p, 0, f.size));
  size_t len = end != nullptr ? static_cast<size_t>(end - p) : f.size;
  bool printable = std::all_of(p, p + len, [](uint8_t c) { return c >= 0x20 && c < 0x7f; });
  if (!printable) {
    return decodeArray(f, p);
  }
  return std::string(reinterpret_cast<const char*>(p), len);
}

ordered_json decodeAddr(const Field& f, const uint8_t* p, uint64_t family) {
  uint32_t words[4];
  std::memcpy(words, p, sizeof(words));
  char text[INET6_ADDRSTRLEN] = {};
  if (family == WEFT_AF_INET && words[1] == 0 && words[2] == 0 && words[3] == 0) {
    return inet_ntop(AF_INET, p, text, sizeof(text));
  }
  if (family == WEFT_AF_INET6) {
    return inet_ntop(AF_INET6, p, text, sizeof(text));
  }
  return decodeArray(f, p);  // no family to read it by (e.g. a zeroed entry): the words
}

ordered_json decodeStruct(const Field& f, const uint8_t* p) {
  uint64_t family = 0;
  for (const Field& m : f.members) {
    if (m.hint == Hint::kFamily) {
      family = loadRaw(m, p + m.offset);
    }
  }
  ordered_json out = ordered_json::object();
  for (const Field& m : f.members) {
    if (m.hint == Hint::kPad) {
      continue;
    }
    out[m.name] =
        m.hint == Hint::kIpAddr ? decodeAddr(m, p + m.offset, family) : decodeAt(m, p + m.offset);
  }
  return out;
}

ordered_json decodeAt(const Field& f, const uint8_t* p) {
  switch (f.kind) {
    case Field::Kind::kInt:
      return hintedIntJson(f, loadRaw(f, p));
    case Field::Kind::kEnum: {
      ordered_json value = intJson(f, loadRaw(f, p));
      int64_t number = value.is_number_unsigned() ? static_cast<int64_t>(value.get<uint64_t>())
                                                  : value.get<int64_t>();
      for (const auto& [name, v] : f.enumerators) {
        if (v == number) {
          return name;
        }
      }
      return value;
    }
    case Field::Kind::kStruct:
      return decodeStruct(f, p);
    case Field::Kind::kArray:
      return decodeArray(f, p);
    case Field::Kind::kString:
      return decodeString(f, p);
    case Field::Kind::kBytes:
      break;
  }
  return hexOf(p, f.size);
}

// --- encoding --------------------------------------------------------------------------

std::string shown(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

Error fieldError(const std::string& path, const std::string& problem) {
  return makeError("field " + path + ": " + problem);
}

std::string visibleMembers(const Field& f) {
  std::string out;
  for (const Field& m : f.members) {
    if (m.hint != Hint::kPad) {
      out += (out.empty() ? "" : ", ") + m.name;
    }
  }
  return out;
}

// Writes into a zeroed buffer of the root's size; `p` points at the field being encoded.
class Encoder {
 public:
  Status encode(const Field& f, const json& in, const std::string& path, uint8_t* p) {
    switch (f.kind) {
      case Field::Kind::kInt:
        return encodeInt(f, in, path, p);
      case Field::Kind::kEnum:
        return encodeEnum(f, in, path, p);
      case Field::Kind::kStruct:
        return encodeStruct(f, in, path, p);
      case Field::Kind::kArray:
        return encodeArray(f, in, path, p);
      case Field::Kind::kString:
        return encodeString(f, in, path, p);
      case Field::Kind::kBytes:
        break;
    }
    return encodeBytes(f, in, path, p);
  }

 private:
  // A JSON integer within the field's range, as raw two's-complement bits.
  static Result<uint64_t> integer(const Field& f, const json& in, const std::string& path) {
    std::string range = rangeText(f);
    if (in.is_number_unsigned() || (in.is_number_integer() && in.get<int64_t>() >= 0)) {
      uint64_t v = in.get<uint64_t>();
      uint32_t bits = f.is_signed ? bitsOf(f) - 1 : bitsOf(f);
      if (v > mask(bits)) {
        return fieldError(path, shown(in) + " is out of range " + range);
      }
      return v;
    }
    if (in.is_number_integer()) {
      int64_t v = in.get<int64_t>();
      uint32_t bits = bitsOf(f);
      int64_t lo = bits >= 64 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (bits - 1));
      if (!f.is_signed || v < lo) {
        return fieldError(path, shown(in) + " is out of range " + range);
      }
      return static_cast<uint64_t>(v) & mask(bits);
    }
    return fieldError(path, shown(in) + " is not an integer (" + range + ")");
  }

  // A name the contract gives (a list of names for state flags) or the number itself.
  static Result<uint64_t> named(const Field& f, const json& in, const std::string& path) {
    std::string text;
    if (in.is_string()) {
      text = in.get<std::string>();
    } else if (in.is_array() && f.hint == Hint::kBackendState) {
      text = in.empty() ? "none" : "";
      for (const json& item : in) {
        text += (text.empty() ? "" : ",") + (item.is_string() ? item.get<std::string>() : "?");
      }
    } else {
      return integer(f, in, path);
    }
    if (auto v = hintValue(f.hint, text)) {
      return *v;
    }
    return fieldError(path, shown(in) + " is not " + hintNoun(f.hint) + " (" + hintNames(f.hint) +
                                " or a number " + rangeText(f) + ")");
  }

  Status encodeInt(const Field& f, const json& in, const std::string& path, uint8_t* p) {
    Result<uint64_t> raw = makeError("");
    if (f.hint == Hint::kPort) {
      Field port = f;
      port.is_signed = false;
      raw = integer(port, in, path);
      if (raw) {
        raw = uint64_t{htons(static_cast<uint16_t>(*raw))};
      }
    } else if (f.hint == Hint::kProto || f.hint == Hint::kFamily || f.hint == Hint::kAlgo ||
               f.hint == Hint::kBackendState) {
      raw = named(f, in, path);
    } else {
      raw = integer(f, in, path);
    }
    if (!raw) {
      return raw.error();
    }
    storeRaw(f, *raw, p);
    return {};
  }

  Status encodeEnum(const Field& f, const json& in, const std::string& path, uint8_t* p) {
    if (in.is_string()) {
      for (const auto& [name, v] : f.enumerators) {
        if (name == in.get<std::string>()) {
          storeRaw(f, static_cast<uint64_t>(v) & mask(bitsOf(f)), p);
          return {};
        }
      }
      return fieldError(path, shown(in) + " is not a name of " + f.type_name);
    }
    auto raw = integer(f, in, path);
    if (!raw) {
      return raw.error();
    }
    storeRaw(f, *raw, p);
    return {};
  }

  Status encodeStruct(const Field& f, const json& in, const std::string& path, uint8_t* p) {
    if (!in.is_object()) {
      return fieldError(path, shown(in) + " is not an object with the fields of " + f.type_name +
                                  " (" + visibleMembers(f) + ")");
    }
    for (const auto& item : in.items()) {
      auto it = std::find_if(f.members.begin(), f.members.end(),
                             [&](const Field& m) { return m.name == item.key(); });
      if (it == f.members.end()) {
        return fieldError(path + "." + item.key(),
                          "unknown field (" + f.type_name + " has " + visibleMembers(f) + ")");
      }
    }

    const Field* addr = nullptr;
    int addr_family = 0;
    for (const Field& m : f.members) {
      std::string member_path = path + "." + m.name;
      auto given = in.find(m.name);
      if (given == in.end()) {
        if (m.hint == Hint::kPad) {
          continue;
        }
        return fieldError(member_path,
                          "missing (" + f.type_name + " needs " + visibleMembers(f) + ")");
      }
      if (m.hint == Hint::kPad && *given == 0) {
        continue;  // 0 stands for a zeroed pad of any shape
      }
      if (m.hint == Hint::kIpAddr && given->is_string()) {
        addr = &m;
        addr_family = encodeAddr(m, *given, p + m.offset);
        if (addr_family == 0) {
          return fieldError(member_path, shown(*given) + " is not an IPv4 or IPv6 address");
        }
        continue;
      }
      if (auto st = encode(m, *given, member_path, p + m.offset); !st) {
        return st;
      }
      if (m.hint == Hint::kPad && !allZero(p + m.offset, m.size)) {
        return fieldError(member_path, shown(*given) + " must be 0 (padding)");
      }
    }
    return checkFamily(f, addr, addr_family, in, path, p);
  }

  // The family a text address implies must be the one its sibling `family` holds.
  static Status checkFamily(const Field& f, const Field* addr, int addr_family, const json& in,
                            const std::string& path, const uint8_t* p) {
    if (addr == nullptr) {
      return {};
    }
    for (const Field& m : f.members) {
      if (m.hint == Hint::kFamily && loadRaw(m, p + m.offset) != uint64_t(addr_family)) {
        return fieldError(path + "." + m.name, shown(in[m.name]) + " does not match the " +
                                                   (addr_family == WEFT_AF_INET ? "IPv4" : "IPv6") +
                                                   " address " + shown(in[addr->name]) + " in " +
                                                   path + "." + addr->name);
      }
    }
    return {};
  }

  // Returns the weft family of the address, or 0 when the text is not one.
  static int encodeAddr(const Field& f, const json& in, uint8_t* p) {
    std::string text = in.get<std::string>();
    uint8_t buf[16] = {};
    if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
      std::memcpy(p, buf, std::min<uint32_t>(4, f.size));
      return WEFT_AF_INET;
    }
    if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
      std::memcpy(p, buf, std::min<uint32_t>(16, f.size));
      return WEFT_AF_INET6;
    }
    return 0;
  }

  static bool allZero(const uint8_t* p, uint32_t size) {
    return std::all_of(p, p + size, [](uint8_t b) { return b == 0; });
  }

  Status encodeArray(const Field& f, const json& in, const std::string& path, uint8_t* p) {
    if (!in.is_array() || in.size() != f.count) {
      return fieldError(path, shown(in) + " is not an array of " + std::to_string(f.count) +
                                  " elements (" + f.type_name + ")");
    }
    const Field& elem = f.members[0];
    for (uint32_t i = 0; i < f.count; i++) {
      std::string elem_path = path + "[" + std::to_string(i) + "]";
      if (auto st = encode(elem, in[i], elem_path, p + i * elem.size); !st) {
        return st;
      }
    }
    return {};
  }

  Status encodeString(const Field& f, const json& in, const std::string& path, uint8_t* p) {
    if (in.is_array()) {
      return encodeArray(f, in, path, p);
    }
    if (!in.is_string()) {
      return fieldError(path, shown(in) + " is not a string (" + f.type_name + ")");
    }
    const std::string& text = in.get_ref<const std::string&>();
    // The contract's strings are NUL-terminated, so one byte stays zero.
    if (text.size() >= f.size) {
      return fieldError(path, shown(in) + " is " + std::to_string(text.size()) +
                                  " bytes, longer than the " + std::to_string(f.size - 1) +
                                  " that fit (" + f.type_name + ")");
    }
    if (text.find('\0') != std::string::npos) {
      return fieldError(path, shown(in) + " contains a NUL byte");
    }
    std::memcpy(p, text.data(), text.size());
    return {};
  }

  Status encodeBytes(const Field& f, const json& in, const std::string& path, uint8_t* p) {
    std::string digits = in.is_string() ? in.get<std::string>() : "";
    if (digits.rfind("0x", 0) == 0) {
      digits = digits.substr(2);
    }
    bool hex = in.is_string() && digits.size() == f.size * 2 &&
               std::all_of(digits.begin(), digits.end(), [](char c) {
                 return std::isxdigit(static_cast<unsigned char>(c)) != 0;
               });
    if (!hex) {
      return fieldError(path, shown(in) + " is not " + std::to_string(f.size * 2) +
                                  " hex digits (" + f.type_name + ")");
    }
    for (uint32_t i = 0; i < f.size; i++) {
      p[i] = static_cast<uint8_t>(std::stoul(digits.substr(i * 2, 2), nullptr, 16));
    }
    return {};
  }
};

void addInto(ordered_json& acc, const ordered_json& v) {
  if (acc.is_number_unsigned() && v.is_number_unsigned()) {
    acc = acc.get<uint64_t>() + v.get<uint64_t>();  // wraps like the kernel's counters
  } else if (acc.is_number_integer() && v.is_number_integer()) {
    acc = static_cast<int64_t>(static_cast<uint64_t>(acc.get<int64_t>()) +
                               static_cast<uint64_t>(v.get<int64_t>()));
  } else if (acc.is_object() && v.is_object()) {
    for (auto& item : acc.items()) {
      if (v.contains(item.key())) {
        addInto(item.value(), v[item.key()]);
      }
    }
  } else if (acc.is_array() && v.is_array() && acc.size() == v.size()) {
    for (size_t i = 0; i < acc.size(); i++) {
      addInto(acc[i], v[i]);
    }
  }
}

}  // namespace

ordered_json decodeField(const Field& field, std::span<const uint8_t> bytes) {
  if (bytes.size() < field.size) {
    return hexOf(bytes.data(), static_cast<uint32_t>(bytes.size()));
  }
  return decodeAt(field, bytes.data());
}

Result<std::vector<uint8_t>> encodeField(const Field& field, const json& input) {
  std::vector<uint8_t> out(field.size, 0);
  Encoder encoder;
  if (auto st = encoder.encode(field, input, field.name, out.data()); !st) {
    return st.error();
  }
  return out;
}

Result<std::vector<uint8_t>> encodeText(const Field& field, const std::string& text) {
  json input = json::parse(text, nullptr, false);
  if (input.is_discarded()) {
    std::string hint = field.kind == Field::Kind::kStruct
                           ? "a JSON object with the fields of " + field.type_name
                           : "a JSON value for " + field.type_name;
    std::string quoted = text.size() > 60 ? text.substr(0, 57) + "..." : text;
    return makeError(field.name + ": '" + quoted + "' is not valid JSON (expected " + hint + ")");
  }
  return encodeField(field, input);
}

ordered_json sumDecoded(const std::vector<ordered_json>& values) {
  ordered_json acc = values.front();
  for (size_t i = 1; i < values.size(); i++) {
    addInto(acc, values[i]);
  }
  return acc;
}

std::string compactJson(const ordered_json& value) {
  return value.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace weft::cli
