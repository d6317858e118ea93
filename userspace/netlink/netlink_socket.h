// SPDX-License-Identifier: Apache-2.0
// An owned netlink socket that sends one request at a time and walks its replies
// (dump parts, NLMSG_DONE, acks and errors). No third-party netlink library.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "userspace/common/result.h"

namespace weft {

// Owns one AF_NETLINK socket of a given protocol. Move-only; not thread-safe per
// instance. Lives in the network namespace of the thread that opened it.
class NetlinkSocket {
 public:
  // Called for each reply message that is not DONE or an ack/error; an error stops
  // the walk after the kernel's reply has been drained.
  using MessageFn = std::function<Status(const nlmsghdr& msg)>;

  static Result<NetlinkSocket> open(int protocol);

  NetlinkSocket(NetlinkSocket&& other) noexcept;
  NetlinkSocket& operator=(NetlinkSocket&& other) noexcept;
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  ~NetlinkSocket();

  // Sends `type` with `flags` (NLM_F_REQUEST is added) and `payload`, then reads
  // replies until the request is finished: NLMSG_DONE for a dump, the ack or error
  // otherwise (ask for NLM_F_ACK to get one). A kernel error comes back as an Error
  // whose code is the positive errno.
  Status request(uint16_t type, uint16_t flags, std::span<const uint8_t> payload,
                 const MessageFn& on_message);

 private:
  explicit NetlinkSocket(int fd) : fd_(fd) {}

  Status send(uint16_t type, uint16_t flags, std::span<const uint8_t> payload, uint32_t seq);
  // Handles one datagram; sets *done when the request has finished.
  Status handleDatagram(std::span<const uint8_t> data, uint32_t seq, const MessageFn& on_message,
                        Status* first_error, bool* done);

  int fd_ = -1;
  uint32_t next_seq_ = 1;
};

}  // namespace weft
