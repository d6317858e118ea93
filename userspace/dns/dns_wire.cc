// SPDX-License-Identifier: Apache-2.0
// Bounds-checked reading and size-capped writing of DNS messages.
#include "userspace/dns/dns_wire.h"

#include <fmt/format.h>

namespace weft::dns {
namespace {

constexpr uint8_t kPointerMask = 0xc0;
// A pointer takes two octets and a name at most 255, so no legal name needs more jumps.
constexpr size_t kMaxPointerJumps = kMaxNameLength / 2;

char lowerChar(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool isNameTextChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// The wire form of labels[from..], lower case: a collision-free map key.
std::string suffixKey(const Name& name, size_t from) {
  std::string key;
  for (size_t i = from; i < name.size(); ++i) {
    key.push_back(static_cast<char>(name[i].size()));
    key += lowerAscii(name[i]);
  }
  return key;
}

}  // namespace

std::string lowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = lowerChar(c);
  }
  return out;
}

bool namesEqual(const Name& a, const Name& b) {
  return a.size() == b.size() && nameEndsWith(a, b);
}

bool nameEndsWith(const Name& name, const Name& suffix) {
  if (suffix.size() > name.size()) {
    return false;
  }
  size_t skip = name.size() - suffix.size();
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (lowerAscii(name[skip + i]) != lowerAscii(suffix[i])) {
      return false;
    }
  }
  return true;
}

std::string nameToText(const Name& name) {
  if (name.empty()) {
    return ".";
  }
  std::string out;
  for (const std::string& label : name) {
    for (char c : label) {
      auto byte = static_cast<unsigned char>(c);
      if (c == '.' || c == '\\') {
        out.push_back('\\');
        out.push_back(c);
      } else if (byte <= 0x20 || byte >= 0x7f) {
        out += fmt::format("\\{:03d}", byte);
      } else {
        out.push_back(c);
      }
    }
    out.push_back('.');
  }
  return out;
}

Result<Name> parseNameText(std::string_view text, std::string_view field) {
  std::string quoted = fmt::format("{}: \"{}\"", field, text);
  if (!text.empty() && text.back() == '.') {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    return makeError(quoted + " is not a domain name (empty)");
  }

  Name name;
  size_t wire = 1;
  size_t start = 0;
  while (start <= text.size()) {
    size_t dot = text.find('.', start);
    std::string label = lowerAscii(text.substr(start, dot == text.npos ? text.npos : dot - start));
    if (label.empty() || label.size() > kMaxLabelLength) {
      return makeError(quoted + " has a label that is empty or longer than 63 octets");
    }
    for (char c : label) {
      if (!isNameTextChar(c)) {
        return makeError(quoted + " has a character other than letters, digits and '-'");
      }
    }
    wire += label.size() + 1;
    name.push_back(std::move(label));
    if (dot == text.npos) {
      break;
    }
    start = dot + 1;
  }
  if (wire > kMaxNameLength) {
    return makeError(quoted + " is longer than 255 octets on the wire");
  }
  return name;
}

bool WireReader::u8(uint8_t* out) {
  if (remaining() < 1) {
    return false;
  }
  *out = msg_[pos_++];
  return true;
}

bool WireReader::u16(uint16_t* out) {
  if (remaining() < 2) {
    return false;
  }
  *out = static_cast<uint16_t>((msg_[pos_] << 8) | msg_[pos_ + 1]);
  pos_ += 2;
  return true;
}

bool WireReader::u32(uint32_t* out) {
  if (remaining() < 4) {
    return false;
  }
  *out = (uint32_t{msg_[pos_]} << 24) | (uint32_t{msg_[pos_ + 1]} << 16) |
         (uint32_t{msg_[pos_ + 2]} << 8) | uint32_t{msg_[pos_ + 3]};
  pos_ += 4;
  return true;
}

bool WireReader::skip(size_t n) {
  if (remaining() < n) {
    return false;
  }
  pos_ += n;
  return true;
}

Result<Header> WireReader::header() {
  if (remaining() < kHeaderSize) {
    return makeError(fmt::format("header: {} octets left, need 12", remaining()));
  }
  Header h;
  uint16_t flags = 0;
  (void)u16(&h.id);
  (void)u16(&flags);
  (void)u16(&h.qdcount);
  (void)u16(&h.ancount);
  (void)u16(&h.nscount);
  (void)u16(&h.arcount);
  h.qr = (flags & 0x8000) != 0;
  h.opcode = static_cast<uint8_t>((flags >> 11) & 0xf);
  h.aa = (flags & 0x0400) != 0;
  h.tc = (flags & 0x0200) != 0;
  h.rd = (flags & 0x0100) != 0;
  h.ra = (flags & 0x0080) != 0;
  h.ad = (flags & 0x0020) != 0;
  h.cd = (flags & 0x0010) != 0;
  h.rcode = static_cast<uint8_t>(flags & 0xf);
  return h;
}

Result<Name> WireReader::name() {
  Name name;
  size_t pos = pos_;
  size_t run_start = pos_;  // where the current run of labels began
  size_t end_of_name = 0;   // cursor after the name: after its first pointer or its root
  size_t wire = 1;
  size_t jumps = 0;

  while (true) {
    if (pos >= msg_.size()) {
      return makeError(fmt::format("name at {}: runs past the end of the message", pos_));
    }
    uint8_t len = msg_[pos];
    if ((len & kPointerMask) == kPointerMask) {
      if (pos + 2 > msg_.size()) {
        return makeError(fmt::format("name at {}: pointer cut off at the end", pos_));
      }
      size_t target = (size_t{len & 0x3fu} << 8) | msg_[pos + 1];
      if (target < kHeaderSize || target >= run_start || ++jumps > kMaxPointerJumps) {
        return makeError(fmt::format("name at {}: bad compression pointer to {}", pos_, target));
      }
      if (end_of_name == 0) {
        end_of_name = pos + 2;
      }
      pos = target;
      run_start = target;
      continue;
    }
    if ((len & kPointerMask) != 0) {
      return makeError(fmt::format("name at {}: unsupported label type 0x{:02x}", pos_, len));
    }
    if (len == 0) {
      if (end_of_name == 0) {
        end_of_name = pos + 1;
      }
      break;
    }
    if (pos + 1 + len > msg_.size()) {
      return makeError(fmt::format("name at {}: label runs past the end of the message", pos_));
    }
    wire += size_t{len} + 1;
    if (wire > kMaxNameLength) {
      return makeError(fmt::format("name at {}: longer than 255 octets", pos_));
    }
    name.emplace_back(reinterpret_cast<const char*>(msg_.data() + pos + 1), len);
    pos += size_t{len} + 1;
  }
  pos_ = end_of_name;
  return name;
}

bool WireWriter::fits(size_t n) {
  if (overflowed_ || buf_.size() + n > max_) {
    overflowed_ = true;
    return false;
  }
  return true;
}

void WireWriter::u8(uint8_t v) {
  if (fits(1)) {
    buf_.push_back(v);
  }
}

void WireWriter::u16(uint16_t v) {
  if (fits(2)) {
    buf_.push_back(static_cast<uint8_t>(v >> 8));
    buf_.push_back(static_cast<uint8_t>(v));
  }
}

void WireWriter::u32(uint32_t v) {
  if (fits(4)) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
}

void WireWriter::bytes(std::span<const uint8_t> data) {
  if (fits(data.size())) {
    buf_.insert(buf_.end(), data.begin(), data.end());
  }
}

void WireWriter::header(const Header& h) {
  uint16_t flags =
      static_cast<uint16_t>((h.qr ? 0x8000 : 0) | ((h.opcode & 0xf) << 11) | (h.aa ? 0x0400 : 0) |
                            (h.tc ? 0x0200 : 0) | (h.rd ? 0x0100 : 0) | (h.ra ? 0x0080 : 0) |
                            (h.ad ? 0x0020 : 0) | (h.cd ? 0x0010 : 0) | (h.rcode & 0xf));
  u16(h.id);
  u16(flags);
  u16(h.qdcount);
  u16(h.ancount);
  u16(h.nscount);
  u16(h.arcount);
}

void WireWriter::name(const Name& name, bool compress) {
  size_t wire = 1;
  for (const std::string& label : name) {
    wire += label.size() + 1;
    if (label.empty() || label.size() > kMaxLabelLength) {
      invalid_ = true;
      return;
    }
  }
  if (wire > kMaxNameLength) {
    invalid_ = true;
    return;
  }

  for (size_t i = 0; i < name.size(); ++i) {
    std::string key = suffixKey(name, i);
    auto found = suffixes_.find(key);
    if (compress && found != suffixes_.end()) {
      u16(static_cast<uint16_t>(0xc000 | found->second));
      return;
    }
    // Pointers carry 14 bits of offset; later suffixes cannot be reached.
    if (found == suffixes_.end() && buf_.size() < 0x4000 && !overflowed_) {
      suffixes_.emplace(std::move(key), static_cast<uint16_t>(buf_.size()));
    }
    u8(static_cast<uint8_t>(name[i].size()));
    bytes({reinterpret_cast<const uint8_t*>(name[i].data()), name[i].size()});
  }
  u8(0);
}

void WireWriter::patchU16(size_t offset, uint16_t v) {
  if (offset + 2 <= buf_.size()) {
    buf_[offset] = static_cast<uint8_t>(v >> 8);
    buf_[offset + 1] = static_cast<uint8_t>(v);
  }
}

}  // namespace weft::dns
