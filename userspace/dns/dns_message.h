// SPDX-License-Identifier: Apache-2.0
// DNS queries and responses as values: strict parsing of a query (one question, optional
// EDNS OPT record) and serialisation of a response that fits a size limit.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "userspace/dns/dns_wire.h"

namespace weft::dns {

struct Question {
  Name name;
  uint16_t type = 0;
  uint16_t klass = kClassIn;
};

// EDNS(0) parameters of an OPT record (RFC 6891).
struct Edns {
  uint16_t udp_size = kMaxUdpPlainSize;
  uint8_t version = 0;
  bool dnssec_ok = false;
};

struct Query {
  Header header;
  Question question;
  std::optional<Edns> edns;
};

struct ParsedQuery {
  enum class Outcome {
    kQuery,  // `query` is complete
    kError,  // answer with `rcode`; only query.header is meaningful
    kDrop,   // not a query we may answer (too short for a header, or a response)
  };
  Outcome outcome = Outcome::kDrop;
  Query query;
  Rcode rcode = Rcode::kNoError;
  std::string reason;  // for kError and kDrop, for debug logs
};

// Accepts a standard query (opcode 0) with exactly one question and, in the additional
// section, at most one OPT record. Every record of every section is walked with bounds
// checks; trailing octets are an error. Unknown opcodes get NOTIMP, everything malformed
// FORMERR, EDNS versions above 0 BADVERS.
ParsedQuery parseQuery(std::span<const uint8_t> message);

// The header and first question of any message (used to match upstream replies).
Result<std::pair<Header, Question>> parseHeaderAndQuestion(std::span<const uint8_t> message);

struct SrvData {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  Name target;
};

struct SoaData {
  Name mname;
  Name rname;
  uint32_t serial = 0;
  uint32_t refresh = 0;
  uint32_t retry = 0;
  uint32_t expire = 0;
  uint32_t minimum = 0;
};

struct Record {
  Name name;
  uint16_t type = 0;
  uint16_t klass = kClassIn;
  uint32_t ttl = 0;
  std::variant<std::array<uint8_t, 4>, std::array<uint8_t, 16>, SrvData, SoaData> data;
};

struct Response {
  uint16_t id = 0;
  uint8_t opcode = 0;
  bool aa = false;
  bool rd = false;
  bool ra = false;
  Rcode rcode = Rcode::kNoError;
  std::optional<Question> question;
  std::vector<Record> answers;
  std::vector<Record> authority;
  std::vector<Record> additional;
  std::optional<Edns> edns;  // our OPT record; set when the query carried one
};

// Serialises `response` into at most `max_size` octets. When it does not fit, additional
// records go first; if it still does not fit, TC is set and answers and authority go too.
// Owner names are compressed; SRV and SOA targets are not (RFC 2782 forbids it for SRV).
std::vector<uint8_t> buildResponse(const Response& response, size_t max_size);

// A response that carries only an rcode, for a query that could not be parsed or handled.
// Echoes id, opcode and RD from `header`.
std::vector<uint8_t> buildErrorResponse(const Header& header, Rcode rcode);

}  // namespace weft::dns
