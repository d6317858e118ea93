// SPDX-License-Identifier: Apache-2.0
// DNS wire format (RFC 1035): header, names with compression, and a bounds-checked reader
// and a size-capped writer. Nothing here reads past the message it was given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "userspace/common/result.h"

namespace weft::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeNs = 2;
inline constexpr uint16_t kTypeSoa = 6;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeSrv = 33;
inline constexpr uint16_t kTypeOpt = 41;
inline constexpr uint16_t kTypeAny = 255;
inline constexpr uint16_t kClassIn = 1;
inline constexpr uint16_t kClassAny = 255;

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameLength = 255;  // wire octets, length bytes and root included
inline constexpr size_t kMaxLabelLength = 63;
inline constexpr size_t kMaxUdpPlainSize = 512;  // without EDNS (RFC 1035 4.2.1)
inline constexpr size_t kMaxMessageSize = 65535;

// Extended codes above 15 travel partly in the OPT record (RFC 6891).
enum class Rcode : uint16_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
  kBadVers = 16,
};

struct Header {
  uint16_t id = 0;
  bool qr = false;
  uint8_t opcode = 0;
  bool aa = false;
  bool tc = false;
  bool rd = false;
  bool ra = false;
  bool ad = false;
  bool cd = false;
  uint8_t rcode = 0;  // low four bits only
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;
};

// A domain name as its labels in the case received, root label left out:
// "web.default.svc." is {"web", "default", "svc"}; the root is {}.
using Name = std::vector<std::string>;

// ASCII-only case folding, as DNS name comparison requires (RFC 4343).
std::string lowerAscii(std::string_view text);
bool namesEqual(const Name& a, const Name& b);
// Whether `name` is `suffix` or lies below it.
bool nameEndsWith(const Name& name, const Name& suffix);
// Presentation form with a trailing dot; '.', '\\' and non-printable bytes escaped.
std::string nameToText(const Name& name);
// Parses "cluster.local" or "cluster.local." (no escapes) into lower-case labels: each
// 1..63 octets of letters, digits and '-', at most 255 octets on the wire. Errors name `field`.
Result<Name> parseNameText(std::string_view text, std::string_view field);

// Reads a message front to back. Every read checks the remaining length first and fails
// instead of reading past the end; a failed read leaves the cursor where it was.
class WireReader {
 public:
  explicit WireReader(std::span<const uint8_t> message) : msg_(message) {}

  bool u8(uint8_t* out);
  bool u16(uint16_t* out);
  bool u32(uint32_t* out);
  bool skip(size_t n);
  Result<Header> header();
  // A name at the cursor, following compression pointers. A pointer must point into the
  // message, past the header, and strictly before the start of the run of labels that
  // holds it, so every jump moves backwards and loops are impossible.
  Result<Name> name();

  size_t offset() const { return pos_; }
  size_t remaining() const { return msg_.size() - pos_; }
  std::span<const uint8_t> message() const { return msg_; }

 private:
  std::span<const uint8_t> msg_;
  size_t pos_ = 0;
};

// Appends to a buffer that may not grow past `max_size`. A write that does not fit sets
// overflowed() and is dropped; an invalid name sets invalid(). The caller checks both.
class WireWriter {
 public:
  explicit WireWriter(size_t max_size) : max_(max_size) {}

  void u8(uint8_t v);
  void u16(uint16_t v);
  void u32(uint32_t v);
  void bytes(std::span<const uint8_t> data);
  void header(const Header& h);
  // Writes `name`; with `compress`, ends it with a pointer to the longest suffix written
  // before (case-insensitively). Every name's suffixes become targets for later names.
  void name(const Name& name, bool compress);
  void patchU16(size_t offset, uint16_t v);

  size_t size() const { return buf_.size(); }
  bool overflowed() const { return overflowed_; }
  bool invalid() const { return invalid_; }
  std::vector<uint8_t> take() { return std::move(buf_); }

 private:
  bool fits(size_t n);

  size_t max_;
  std::vector<uint8_t> buf_;
  bool overflowed_ = false;
  bool invalid_ = false;
  std::map<std::string, uint16_t> suffixes_;  // lower-case wire form of a suffix -> offset
};

}  // namespace weft::dns
