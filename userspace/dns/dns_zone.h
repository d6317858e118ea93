// SPDX-License-Identifier: Apache-2.0
// The service zone: an immutable snapshot of registry services answering for
// <service>.<namespace>.svc.<domain> (A/AAAA) and its SRV names.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "userspace/dns/dns_message.h"
#include "userspace/registry/model.h"

namespace weft::dns {

struct ZoneAnswer {
  Rcode rcode = Rcode::kNoError;
  std::vector<Record> answers;
  std::vector<Record> authority;  // the SOA on NXDOMAIN and NODATA, for negative caching
  std::vector<Record> additional;
};

// Names the zone knows, below `domain`:
//   <svc>.<ns>.svc             A or AAAA (the VIP, by family), SRV listing every port
//   _<port>._<proto>.<svc>.<ns>.svc   SRV for one named port
// Their ancestors (svc, <ns>.svc, _<proto>.<svc>.<ns>.svc, the apex) exist without records
// and answer NODATA; any other name answers NXDOMAIN. Queries whose type the name lacks
// (AAAA for an IPv4 VIP, MX, ...) answer NODATA. Immutable after construction.
class Zone {
 public:
  // `domain` must come from parseNameText (lower case, valid).
  Zone(Name domain, uint32_t ttl_seconds, uint32_t serial,
       const std::vector<registry::Service>& services);

  const Name& domain() const { return domain_; }
  bool contains(const Name& qname) const { return nameEndsWith(qname, domain_); }
  size_t serviceCount() const { return services_.size(); }

  // Answers a question whose name contains() holds; the answer's owner names are the
  // question's name as asked, so case is kept and compression can point at the question.
  ZoneAnswer answer(const Question& question) const;

 private:
  struct Entry {
    std::string name;
    std::string ns;
    std::optional<IpAddr> vip;
    std::vector<registry::ServicePort> ports;
  };

  const Entry* find(const std::string& ns, const std::string& name) const;
  Name serviceName(const Entry& entry) const;
  Name under(Name relative) const;
  std::optional<Record> addressRecord(const Name& owner, const Entry& entry) const;
  Record srvRecord(const Name& owner, const Entry& entry, uint16_t port) const;
  Record soaRecord() const;
  ZoneAnswer negative(Rcode rcode) const;
  ZoneAnswer serviceAnswer(const Question& q, const Entry& entry) const;
  ZoneAnswer portAnswer(const Question& q, const Entry& entry,
                        const registry::ServicePort& port) const;

  Name domain_;
  uint32_t ttl_;
  uint32_t serial_;
  std::map<std::pair<std::string, std::string>, Entry> services_;  // (ns, name), lower case
  std::set<std::string> namespaces_;
};

}  // namespace weft::dns
