// SPDX-License-Identifier: Apache-2.0
// Name lookup in the service zone.
#include "userspace/dns/dns_zone.h"

#include <algorithm>

namespace weft::dns {
namespace {

constexpr uint16_t kSrvWeight = 100;
constexpr uint32_t kSoaRefresh = 7200;
constexpr uint32_t kSoaRetry = 1800;
constexpr uint32_t kSoaExpire = 86400;

const char* protoLabel(uint8_t protocol) {
  return protocol == WEFT_PROTO_UDP ? "_udp" : "_tcp";
}

bool wants(uint16_t qtype, uint16_t type) {
  return qtype == type || qtype == kTypeAny;
}

}  // namespace

Zone::Zone(Name domain, uint32_t ttl_seconds, uint32_t serial,
           const std::vector<registry::Service>& services)
    : domain_(std::move(domain)), ttl_(ttl_seconds), serial_(serial) {
  for (const registry::Service& svc : services) {
    Entry entry{lowerAscii(svc.name), lowerAscii(svc.ns), svc.vip, svc.ports};
    if (entry.name.empty() || entry.ns.empty()) {
      continue;
    }
    namespaces_.insert(entry.ns);
    auto key = std::make_pair(entry.ns, entry.name);
    services_.insert_or_assign(std::move(key), std::move(entry));
  }
}

const Zone::Entry* Zone::find(const std::string& ns, const std::string& name) const {
  auto it = services_.find({lowerAscii(ns), lowerAscii(name)});
  return it == services_.end() ? nullptr : &it->second;
}

Name Zone::under(Name relative) const {
  relative.insert(relative.end(), domain_.begin(), domain_.end());
  return relative;
}

Name Zone::serviceName(const Entry& entry) const {
  return under({entry.name, entry.ns, "svc"});
}

std::optional<Record> Zone::addressRecord(const Name& owner, const Entry& entry) const {
  if (!entry.vip) {
    return std::nullopt;
  }
  Record r{owner, 0, kClassIn, ttl_, {}};
  if (entry.vip->isV4()) {
    r.type = kTypeA;
    std::array<uint8_t, 4> b{};
    std::copy_n(entry.vip->bytes.begin(), 4, b.begin());
    r.data = b;
  } else {
    r.type = kTypeAaaa;
    r.data = entry.vip->bytes;
  }
  return r;
}

Record Zone::srvRecord(const Name& owner, const Entry& entry, uint16_t port) const {
  return Record{owner, kTypeSrv, kClassIn, ttl_, SrvData{0, kSrvWeight, port, serviceName(entry)}};
}

Record Zone::soaRecord() const {
  SoaData soa{under({"ns", "dns"}),
              under({"hostmaster"}),
              serial_,
              kSoaRefresh,
              kSoaRetry,
              kSoaExpire,
              ttl_};
  return Record{domain_, kTypeSoa, kClassIn, ttl_, soa};
}

ZoneAnswer Zone::negative(Rcode rcode) const {
  ZoneAnswer out;
  out.rcode = rcode;
  out.authority.push_back(soaRecord());
  return out;
}

ZoneAnswer Zone::serviceAnswer(const Question& q, const Entry& entry) const {
  ZoneAnswer out;
  auto address = addressRecord(q.name, entry);
  if (address && wants(q.type, address->type)) {
    out.answers.push_back(*address);
  }
  if (wants(q.type, kTypeSrv)) {
    for (const registry::ServicePort& port : entry.ports) {
      out.answers.push_back(srvRecord(q.name, entry, port.port));
    }
    if (address && q.type == kTypeSrv) {
      address->name = serviceName(entry);
      out.additional.push_back(*address);
    }
  }
  return out.answers.empty() ? negative(Rcode::kNoError) : out;
}

ZoneAnswer Zone::portAnswer(const Question& q, const Entry& entry,
                            const registry::ServicePort& port) const {
  if (!wants(q.type, kTypeSrv)) {
    return negative(Rcode::kNoError);
  }
  ZoneAnswer out;
  out.answers.push_back(srvRecord(q.name, entry, port.port));
  if (auto address = addressRecord(serviceName(entry), entry)) {
    out.additional.push_back(*address);
  }
  return out;
}

ZoneAnswer Zone::answer(const Question& q) const {
  if (!contains(q.name)) {
    return negative(Rcode::kNxDomain);
  }
  // Labels left of the domain, lower case, innermost last: web.default.svc -> {web,default,svc}.
  Name rel;
  for (size_t i = 0; i + domain_.size() < q.name.size(); ++i) {
    rel.push_back(lowerAscii(q.name[i]));
  }
  size_t n = rel.size();

  if (n == 0) {
    if (wants(q.type, kTypeSoa)) {
      ZoneAnswer out;
      out.answers.push_back(soaRecord());
      out.answers.back().name = q.name;
      return out;
    }
    return negative(Rcode::kNoError);
  }
  if (rel[n - 1] != "svc") {
    return negative(Rcode::kNxDomain);
  }
  if (n == 1) {
    return negative(services_.empty() ? Rcode::kNxDomain : Rcode::kNoError);
  }
  if (n == 2) {
    return negative(namespaces_.count(rel[0]) ? Rcode::kNoError : Rcode::kNxDomain);
  }

  const Entry* entry = find(rel[n - 2], rel[n - 3]);
  if (!entry || n > 5) {
    return negative(Rcode::kNxDomain);
  }
  if (n == 3) {
    return serviceAnswer(q, *entry);
  }

  // _<proto> (n == 4) or _<port>._<proto> (n == 5) under the service.
  const std::string& proto = rel[n - 4];
  for (const registry::ServicePort& port : entry->ports) {
    if (port.name.empty() || proto != protoLabel(port.protocol)) {
      continue;
    }
    if (n == 4) {
      return negative(Rcode::kNoError);
    }
    if (rel[0] == "_" + lowerAscii(port.name)) {
      return portAnswer(q, *entry, port);
    }
  }
  return negative(Rcode::kNxDomain);
}

}  // namespace weft::dns
