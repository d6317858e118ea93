// SPDX-License-Identifier: Apache-2.0
// Query parsing and response serialisation.
#include "userspace/dns/dns_message.h"

#include <fmt/format.h>

namespace weft::dns {
namespace {

constexpr uint16_t kOurUdpSize = 1232;  // fits an IPv6 minimum MTU without fragments

ParsedQuery fail(ParsedQuery parsed, Rcode rcode, std::string reason) {
  parsed.outcome = ParsedQuery::Outcome::kError;
  parsed.rcode = rcode;
  parsed.reason = std::move(reason);
  return parsed;
}

Result<Question> readQuestion(WireReader& reader) {
  auto name = reader.name();
  if (!name) {
    return makeError("question " + name.error().message);
  }
  Question q;
  q.name = std::move(*name);
  if (!reader.u16(&q.type) || !reader.u16(&q.klass)) {
    return makeError("question: type or class cut off");
  }
  return q;
}

// Walks one resource record; records an OPT record's EDNS parameters in *edns.
Status readRecord(WireReader& reader, bool additional, std::optional<Edns>* edns) {
  auto name = reader.name();
  if (!name) {
    return makeError("record " + name.error().message);
  }
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  uint16_t rdlength = 0;
  if (!reader.u16(&type) || !reader.u16(&klass) || !reader.u32(&ttl) || !reader.u16(&rdlength)) {
    return makeError("record: fixed fields cut off");
  }
  if (reader.remaining() < rdlength) {
    return makeError(fmt::format("record: rdlength {} exceeds the {} octets left", rdlength,
                                 reader.remaining()));
  }
  if (type != kTypeOpt) {
    (void)reader.skip(rdlength);
    return {};
  }

  if (!additional || !name->empty() || edns->has_value()) {
    return makeError("OPT record: not a single root-owned record in the additional section");
  }
  WireReader options(reader.message().subspan(reader.offset(), rdlength));
  while (options.remaining() > 0) {
    uint16_t code = 0;
    uint16_t len = 0;
    if (!options.u16(&code) || !options.u16(&len) || !options.skip(len)) {
      return makeError("OPT record: option cut off");
    }
  }
  (void)reader.skip(rdlength);
  Edns e;
  e.udp_size = klass;
  e.version = static_cast<uint8_t>(ttl >> 16);
  e.dnssec_ok = (ttl & 0x8000) != 0;
  *edns = e;
  return {};
}

void writeRecord(WireWriter& w, const Record& r) {
  w.name(r.name, true);
  w.u16(r.type);
  w.u16(r.klass);
  w.u32(r.ttl);
  size_t rdlength_at = w.size();
  w.u16(0);
  size_t rdata_start = w.size();

  if (const auto* v4 = std::get_if<std::array<uint8_t, 4>>(&r.data)) {
    w.bytes(*v4);
  } else if (const auto* v6 = std::get_if<std::array<uint8_t, 16>>(&r.data)) {
    w.bytes(*v6);
  } else if (const auto* srv = std::get_if<SrvData>(&r.data)) {
    w.u16(srv->priority);
    w.u16(srv->weight);
    w.u16(srv->port);
    w.name(srv->target, false);
  } else if (const auto* soa = std::get_if<SoaData>(&r.data)) {
    w.name(soa->mname, false);
    w.name(soa->rname, false);
    w.u32(soa->serial);
    w.u32(soa->refresh);
    w.u32(soa->retry);
    w.u32(soa->expire);
    w.u32(soa->minimum);
  }
  w.patchU16(rdlength_at, static_cast<uint16_t>(w.size() - rdata_start));
}

void writeOpt(WireWriter& w, const Edns& edns, Rcode rcode) {
  w.u8(0);  // root owner
  w.u16(kTypeOpt);
  w.u16(kOurUdpSize);
  uint32_t ext_rcode = static_cast<uint32_t>(static_cast<uint16_t>(rcode) >> 4);
  w.u32((ext_rcode << 24) | (uint32_t{edns.version} << 16) | (edns.dnssec_ok ? 0x8000u : 0u));
  w.u16(0);  // no options
}

// One serialisation attempt with the given sections; empty when it did not fit.
std::vector<uint8_t> serialise(const Response& r, size_t max_size, bool with_answers,
                               bool with_additional, bool truncated) {
  WireWriter w(max_size);
  Header h;
  h.id = r.id;
  h.qr = true;
  h.opcode = r.opcode;
  h.aa = r.aa;
  h.tc = truncated;
  h.rd = r.rd;
  h.ra = r.ra;
  h.rcode = static_cast<uint8_t>(static_cast<uint16_t>(r.rcode) & 0xf);
  h.qdcount = r.question ? 1 : 0;
  h.ancount = with_answers ? static_cast<uint16_t>(r.answers.size()) : 0;
  h.nscount = with_answers ? static_cast<uint16_t>(r.authority.size()) : 0;
  h.arcount = static_cast<uint16_t>((with_additional ? r.additional.size() : 0) + (r.edns ? 1 : 0));
  w.header(h);

  if (r.question) {
    w.name(r.question->name, true);
    w.u16(r.question->type);
    w.u16(r.question->klass);
  }
  if (with_answers) {
    for (const Record& rec : r.answers) {
      writeRecord(w, rec);
    }
    for (const Record& rec : r.authority) {
      writeRecord(w, rec);
    }
  }
  if (with_additional) {
    for (const Record& rec : r.additional) {
      writeRecord(w, rec);
    }
  }
  if (r.edns) {
    writeOpt(w, *r.edns, r.rcode);
  }
  if (w.overflowed() || w.invalid()) {
    return {};
  }
  return w.take();
}

}  // namespace

ParsedQuery parseQuery(std::span<const uint8_t> message) {
  ParsedQuery parsed;
  WireReader reader(message);
  auto header = reader.header();
  if (!header) {
    parsed.reason = header.error().message;
    return parsed;
  }
  parsed.query.header = *header;
  if (header->qr) {
    // Answering responses could make two servers bounce packets forever.
    parsed.reason = "message is a response";
    return parsed;
  }
  if (header->opcode != 0) {
    return fail(parsed, Rcode::kNotImp, fmt::format("opcode {} not supported", header->opcode));
  }
  if (header->qdcount != 1) {
    return fail(parsed, Rcode::kFormErr, fmt::format("{} questions, need 1", header->qdcount));
  }

  auto question = readQuestion(reader);
  if (!question) {
    return fail(parsed, Rcode::kFormErr, question.error().message);
  }
  parsed.query.question = std::move(*question);

  size_t records = size_t{header->ancount} + header->nscount + header->arcount;
  size_t first_additional = size_t{header->ancount} + header->nscount;
  for (size_t i = 0; i < records; ++i) {
    if (auto st = readRecord(reader, i >= first_additional, &parsed.query.edns); !st) {
      return fail(parsed, Rcode::kFormErr, st.error().message);
    }
  }
  if (reader.remaining() != 0) {
    return fail(parsed, Rcode::kFormErr,
                fmt::format("{} octets after the last record", reader.remaining()));
  }
  if (parsed.query.edns && parsed.query.edns->version != 0) {
    return fail(parsed, Rcode::kBadVers,
                fmt::format("EDNS version {} not supported", parsed.query.edns->version));
  }
  parsed.outcome = ParsedQuery::Outcome::kQuery;
  return parsed;
}

Result<std::pair<Header, Question>> parseHeaderAndQuestion(std::span<const uint8_t> message) {
  WireReader reader(message);
  auto header = reader.header();
  if (!header) {
    return header.error();
  }
  if (header->qdcount == 0) {
    return makeError("no question");
  }
  auto question = readQuestion(reader);
  if (!question) {
    return question.error();
  }
  return std::make_pair(*header, std::move(*question));
}

std::vector<uint8_t> buildResponse(const Response& response, size_t max_size) {
  max_size = std::min(max_size, kMaxMessageSize);
  auto out = serialise(response, max_size, true, true, false);
  if (out.empty()) {
    out = serialise(response, max_size, true, false, false);
  }
  if (out.empty()) {
    out = serialise(response, max_size, false, false, true);
  }
  if (out.empty()) {
    Response bare = response;
    bare.question.reset();
    bare.edns.reset();
    out = serialise(bare, max_size, false, false, true);
  }
  return out;
}

std::vector<uint8_t> buildErrorResponse(const Header& header, Rcode rcode) {
  Response r;
  r.id = header.id;
  r.opcode = header.opcode;
  r.rd = header.rd;
  r.rcode = rcode;
  if (rcode == Rcode::kBadVers) {
    // BADVERS only exists in an OPT record's extended rcode bits.
    r.edns = Edns{};
  }
  return buildResponse(r, kMaxUdpPlainSize);
}

}  // namespace weft::dns
