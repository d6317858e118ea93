// SPDX-License-Identifier: Apache-2.0
// Helpers for the DNS unit tests: build query messages and decode responses into values
// with the library's own bounds-checked reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "userspace/dns/dns_message.h"
#include "userspace/dns/dns_wire.h"

namespace weft::dns::testing {

inline Name nameOf(std::string_view text) {
  Name name;
  while (!text.empty()) {
    size_t dot = text.find('.');
    name.emplace_back(text.substr(0, dot));
    if (dot == text.npos) {
      break;
    }
    text.remove_prefix(dot + 1);
  }
  return name;
}

struct QuerySpec {
  QuerySpec(std::string n, uint16_t t = kTypeA) : name(std::move(n)), type(t) {}  // NOLINT
  QuerySpec& withId(uint16_t v) {
    id = v;
    return *this;
  }
  QuerySpec& withClass(uint16_t v) {
    klass = v;
    return *this;
  }
  // Adds an OPT record.
  QuerySpec& withEdns(uint16_t size, uint8_t version = 0) {
    edns_size = size;
    edns_version = version;
    return *this;
  }

  std::string name;
  uint16_t type = kTypeA;
  uint16_t klass = kClassIn;
  uint16_t id = 0x1234;
  std::optional<uint16_t> edns_size;
  uint8_t edns_version = 0;
  bool rd = true;
};

inline std::vector<uint8_t> makeQuery(const QuerySpec& spec) {
  WireWriter w(kMaxMessageSize);
  Header h;
  h.id = spec.id;
  h.rd = spec.rd;
  h.qdcount = 1;
  h.arcount = spec.edns_size ? 1 : 0;
  w.header(h);
  w.name(nameOf(spec.name), false);
  w.u16(spec.type);
  w.u16(spec.klass);
  if (spec.edns_size) {
    w.u8(0);
    w.u16(kTypeOpt);
    w.u16(*spec.edns_size);
    w.u32(uint32_t{spec.edns_version} << 16);
    w.u16(0);
  }
  return w.take();
}

struct DecodedRecord {
  std::string name;  // presentation form, trailing dot
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;
  size_t rdata_offset = 0;
};

struct DecodedMessage {
  Header header;
  std::vector<Question> questions;
  std::vector<DecodedRecord> answers;
  std::vector<DecodedRecord> authority;
  std::vector<DecodedRecord> additional;
  std::vector<uint8_t> raw;

  // Reads an SRV record's rdata (the target may be compressed in foreign messages).
  std::optional<SrvData> srv(const DecodedRecord& r) const {
    WireReader reader(raw);
    SrvData srv;
    if (!reader.skip(r.rdata_offset) || !reader.u16(&srv.priority) || !reader.u16(&srv.weight) ||
        !reader.u16(&srv.port)) {
      return std::nullopt;
    }
    auto target = reader.name();
    if (!target) {
      return std::nullopt;
    }
    srv.target = *target;
    return srv;
  }
};

inline std::optional<DecodedMessage> decode(const std::vector<uint8_t>& bytes) {
  DecodedMessage m;
  m.raw = bytes;
  WireReader reader(m.raw);
  auto header = reader.header();
  if (!header) {
    return std::nullopt;
  }
  m.header = *header;
  for (int i = 0; i < header->qdcount; ++i) {
    auto name = reader.name();
    Question q;
    if (!name || !reader.u16(&q.type) || !reader.u16(&q.klass)) {
      return std::nullopt;
    }
    q.name = *name;
    m.questions.push_back(q);
  }
  auto section = [&](int count, std::vector<DecodedRecord>* out) {
    for (int i = 0; i < count; ++i) {
      auto name = reader.name();
      DecodedRecord r;
      uint16_t rdlength = 0;
      if (!name || !reader.u16(&r.type) || !reader.u16(&r.klass) || !reader.u32(&r.ttl) ||
          !reader.u16(&rdlength) || reader.remaining() < rdlength) {
        return false;
      }
      r.name = nameToText(*name);
      r.rdata_offset = reader.offset();
      r.rdata.assign(m.raw.begin() + static_cast<long>(reader.offset()),
                     m.raw.begin() + static_cast<long>(reader.offset() + rdlength));
      (void)reader.skip(rdlength);
      out->push_back(std::move(r));
    }
    return true;
  };
  if (!section(header->ancount, &m.answers) || !section(header->nscount, &m.authority) ||
      !section(header->arcount, &m.additional) || reader.remaining() != 0) {
    return std::nullopt;
  }
  return m;
}

}  // namespace weft::dns::testing
