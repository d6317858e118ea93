// SPDX-License-Identifier: Apache-2.0
// Base64 encode and strict decode.
#include "userspace/etcd/base64.h"

#include <array>
#include <cstdint>

namespace weft::etcd {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> makeReverse() {
  std::array<int8_t, 256> table{};
  for (int8_t& entry : table) {
    entry = kInvalid;
  }
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

constexpr std::array<int8_t, 256> kReverse = makeReverse();

}  // namespace

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);

  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t group = static_cast<uint8_t>(bytes[i]) << 16 |
                     static_cast<uint8_t>(bytes[i + 1]) << 8 | static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[group >> 18 & 0x3f];
    out += kAlphabet[group >> 12 & 0x3f];
    out += kAlphabet[group >> 6 & 0x3f];
    out += kAlphabet[group & 0x3f];
  }

  size_t rest = bytes.size() - i;
  if (rest == 0) {
    return out;
  }
  uint32_t group = static_cast<uint8_t>(bytes[i]) << 16;
  if (rest == 2) {
    group |= static_cast<uint8_t>(bytes[i + 1]) << 8;
  }
  out += kAlphabet[group >> 18 & 0x3f];
  out += kAlphabet[group >> 12 & 0x3f];
  out += rest == 2 ? kAlphabet[group >> 6 & 0x3f] : '=';
  out += '=';
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') {
    padding = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  }

  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      bool pad_slot = last && j >= 4 - padding;
      int8_t value = pad_slot ? 0 : kReverse[static_cast<uint8_t>(text[i + j])];
      if (value == kInvalid) {
        return std::nullopt;
      }
      group = group << 6 | static_cast<uint32_t>(value);
    }
    out += static_cast<char>(group >> 16 & 0xff);
    if (!last || padding < 2) {
      out += static_cast<char>(group >> 8 & 0xff);
    }
    if (!last || padding < 1) {
      out += static_cast<char>(group & 0xff);
    }
  }
  return out;
}

}  // namespace weft::etcd
