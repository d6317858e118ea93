// SPDX-License-Identifier: Apache-2.0
// weftd's DNS server: UDP and TCP on the configured address, answers from the registry's
// services, other names refused or forwarded to the configured upstream.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "userspace/common/result.h"
#include "userspace/dns/dns_options.h"
#include "userspace/registry/model.h"

namespace weft::dns {

struct DnsStats {
  uint64_t udp_queries = 0;
  uint64_t tcp_queries = 0;
  uint64_t noerror = 0;
  uint64_t nxdomain = 0;
  uint64_t refused = 0;
  uint64_t formerr = 0;
  uint64_t servfail = 0;      // includes failed forwards
  uint64_t other_errors = 0;  // NOTIMP, BADVERS
  uint64_t forwarded = 0;
  uint64_t forward_failures = 0;
  uint64_t dropped = 0;       // runts and responses sent to us
  uint64_t tcp_rejected = 0;  // connections over max_tcp_connections
};

// Threading: start() and destruction on the io_context's thread or while it is not running;
// setRecords(), stats() and localAddress() from any thread. Nothing is logged per query
// above debug.
class DnsServer {
 public:
  // Validates `options`, binds UDP (and TCP on the same port) and starts serving on `io`.
  // Errors name the field: "dns.listen: 127.0.0.1:53: bind: Address already in use".
  static Result<std::unique_ptr<DnsServer>> start(boost::asio::io_context& io, DnsOptions options);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Replaces every record with those of `services` (the VIP by family, SRV per port).
  void setRecords(const std::vector<registry::Service>& services);
  // The bound address; its port is the real one when the options asked for port 0.
  SocketAddress localAddress() const;
  DnsStats stats() const;

 private:
  struct Core;
  explicit DnsServer(std::shared_ptr<Core> core);

  std::shared_ptr<Core> core_;
};

}  // namespace weft::dns
