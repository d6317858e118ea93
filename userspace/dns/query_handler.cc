// SPDX-License-Identifier: Apache-2.0
// Query dispatch: zone answers, refusals, forwards and error responses.
#include "userspace/dns/query_handler.h"

#include <algorithm>

namespace weft::dns {
namespace {

constexpr size_t kMaxUdpAnswer = 1232;

size_t answerLimit(const Query& query, Transport transport) {
  if (transport == Transport::kTcp) {
    return kMaxMessageSize;
  }
  if (!query.edns) {
    return kMaxUdpPlainSize;
  }
  return std::clamp<size_t>(query.edns->udp_size, kMaxUdpPlainSize, kMaxUdpAnswer);
}

Response responseTo(const Query& query, bool ra) {
  Response r;
  r.id = query.header.id;
  r.opcode = query.header.opcode;
  r.rd = query.header.rd;
  r.ra = ra;
  r.question = query.question;
  if (query.edns) {
    // RFC 3225: the DO bit is copied from the query.
    r.edns = Edns{kMaxUdpPlainSize, 0, query.edns->dnssec_ok};
  }
  return r;
}

}  // namespace

QueryHandler::QueryHandler(const DnsOptions& options)
    : ttl_(options.ttl_seconds), can_forward_(options.forward.has_value()) {
  auto domain = parseNameText(options.domain, "dns.domain");
  domain_ = domain ? *domain : Name{"cluster", "local"};
  zone_ = std::make_shared<const Zone>(domain_, ttl_, serial_, std::vector<registry::Service>{});
}

void QueryHandler::setRecords(const std::vector<registry::Service>& services) {
  uint32_t serial = 0;
  {
    std::lock_guard lock(mutex_);
    serial = ++serial_;
  }
  // Built outside the lock: 10,000 services must not stall queries meanwhile.
  auto zone = std::make_shared<const Zone>(domain_, ttl_, serial, services);
  std::lock_guard lock(mutex_);
  // Two racing calls: the later call's records win even if its zone was built first.
  if (serial > installed_serial_) {
    zone_ = std::move(zone);
    installed_serial_ = serial;
  }
}

size_t QueryHandler::serviceCount() const {
  return zone()->serviceCount();
}

std::shared_ptr<const Zone> QueryHandler::zone() const {
  std::lock_guard lock(mutex_);
  return zone_;
}

Decision QueryHandler::handle(std::span<const uint8_t> message, Transport transport) const {
  Decision d;
  ParsedQuery parsed = parseQuery(message);
  if (parsed.outcome == ParsedQuery::Outcome::kDrop) {
    return d;
  }
  d.action = Decision::Action::kRespond;
  if (parsed.outcome == ParsedQuery::Outcome::kError) {
    d.rcode = parsed.rcode;
    d.response = buildErrorResponse(parsed.query.header, parsed.rcode);
    return d;
  }

  const Query& query = parsed.query;
  const Question& q = query.question;
  auto current = zone();
  Response r = responseTo(query, can_forward_);

  if (!current->contains(q.name)) {
    if (can_forward_) {
      d.action = Decision::Action::kForward;
      return d;
    }
    r.rcode = Rcode::kRefused;
  } else if (q.klass != kClassIn && q.klass != kClassAny) {
    r.rcode = Rcode::kRefused;
  } else {
    ZoneAnswer answer = current->answer(q);
    r.aa = true;
    r.rcode = answer.rcode;
    r.answers = std::move(answer.answers);
    r.authority = std::move(answer.authority);
    r.additional = std::move(answer.additional);
  }
  d.rcode = r.rcode;
  d.response = buildResponse(r, answerLimit(query, transport));
  if (d.response.empty()) {
    d.action = Decision::Action::kDrop;
  }
  return d;
}

std::vector<uint8_t> QueryHandler::servfail(std::span<const uint8_t> message) const {
  ParsedQuery parsed = parseQuery(message);
  if (parsed.outcome != ParsedQuery::Outcome::kQuery) {
    return {};
  }
  Response r = responseTo(parsed.query, can_forward_);
  r.rcode = Rcode::kServFail;
  return buildResponse(r, answerLimit(parsed.query, Transport::kUdp));
}

}  // namespace weft::dns
