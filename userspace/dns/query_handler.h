// SPDX-License-Identifier: Apache-2.0
// Turns one request message into an answer, a forward, or nothing: the DNS server's logic
// without any socket, so it is testable on bytes alone.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "userspace/dns/dns_message.h"
#include "userspace/dns/dns_options.h"
#include "userspace/dns/dns_zone.h"
#include "userspace/registry/model.h"

namespace weft::dns {

enum class Transport { kUdp, kTcp };

struct Decision {
  enum class Action { kRespond, kForward, kDrop };
  Action action = Action::kDrop;
  std::vector<uint8_t> response;  // kRespond only
  Rcode rcode = Rcode::kNoError;  // what the response says (for counters)
};

// Thread-safe: setRecords() swaps an immutable Zone under a lock; handle() answers from
// whichever zone was current when it started.
class QueryHandler {
 public:
  // `options` must have passed validateDnsOptions().
  explicit QueryHandler(const DnsOptions& options);

  void setRecords(const std::vector<registry::Service>& services);
  size_t serviceCount() const;

  // Names in the domain are answered from the zone (authoritative). Other names are
  // forwarded when an upstream is configured, else REFUSED. Malformed queries get FORMERR,
  // other opcodes NOTIMP; responses and runts are dropped. A UDP answer fits the client's
  // EDNS buffer (512 octets without EDNS, at most 1232) or is truncated with TC set.
  Decision handle(std::span<const uint8_t> message, Transport transport) const;

  // SERVFAIL for a query that could not be forwarded; empty when it cannot be parsed.
  std::vector<uint8_t> servfail(std::span<const uint8_t> message) const;

 private:
  std::shared_ptr<const Zone> zone() const;

  Name domain_;
  uint32_t ttl_;
  bool can_forward_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Zone> zone_;
  uint32_t serial_ = 1;            // last serial handed out
  uint32_t installed_serial_ = 1;  // serial of zone_
};

}  // namespace weft::dns
