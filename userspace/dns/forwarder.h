// SPDX-License-Identifier: Apache-2.0
// Relays queries for names outside the domain to the one upstream the operator configured.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "userspace/dns/dns_options.h"

namespace weft::dns {

// Each query goes out over UDP on its own connected socket (a fresh source port) with a
// fresh random ID; only a reply from the upstream address with that ID and the same
// question is accepted, and the client's ID is put back. io_context thread only.
class Forwarder : public std::enable_shared_from_this<Forwarder> {
 public:
  // Called exactly once per forward() on the io thread: the reply, or nullopt on timeout,
  // socket error, or when max_in_flight forwards are already waiting. Not called after stop().
  using Done = std::function<void(std::optional<std::vector<uint8_t>> reply)>;

  Forwarder(boost::asio::io_context& io, SocketAddress upstream, std::chrono::milliseconds timeout,
            size_t max_in_flight);

  void forward(std::vector<uint8_t> query, Done done);
  void stop();
  size_t inFlight() const { return pending_.size(); }

 private:
  struct Pending;

  void receive(const std::shared_ptr<Pending>& p);
  void finish(const std::shared_ptr<Pending>& p, std::optional<std::vector<uint8_t>> reply);

  boost::asio::io_context& io_;
  SocketAddress upstream_;
  std::chrono::milliseconds timeout_;
  size_t max_in_flight_;
  std::mt19937 random_;
  std::set<std::shared_ptr<Pending>> pending_;
  bool stopped_ = false;
};

}  // namespace weft::dns
