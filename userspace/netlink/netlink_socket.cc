// SPDX-License-Identifier: Apache-2.0
// Netlink request/reply plumbing: framing, sequence matching, dump termination, acks.
#include "userspace/netlink/netlink_socket.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace weft {
namespace {

// Large enough for any dump part the kernel builds (it sizes them to at most 32 KiB
// or the largest buffer a reader has offered), so MSG_TRUNC never happens in practice.
constexpr size_t kRecvBufferSize = 64 * 1024;
// A kernel that stops answering must not hang the agent's control path forever.
constexpr int kRecvTimeoutSeconds = 5;
// A reply never needs this many datagrams; the bound keeps a confused peer from
// keeping us in the loop.
constexpr int kMaxDatagrams = 1 << 20;
constexpr int kMaxInterruptedCalls = 100;

std::string errnoText(int err) {
  return std::strerror(err);
}

}  // namespace

Result<NetlinkSocket> NetlinkSocket::open(int protocol) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) {
    int err = errno;
    return makeError(
        "netlink: socket(protocol=" + std::to_string(protocol) + "): " + errnoText(err), err);
  }
  NetlinkSocket sock(fd);

  timeval timeout{};
  timeout.tv_sec = kRecvTimeoutSeconds;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0) {
    int err = errno;
    return makeError("netlink: set SO_RCVTIMEO: " + errnoText(err), err);
  }

  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    int err = errno;
    return makeError("netlink: bind: " + errnoText(err), err);
  }
  return sock;
}

NetlinkSocket::NetlinkSocket(NetlinkSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), next_seq_(other.next_seq_) {}

NetlinkSocket& NetlinkSocket::operator=(NetlinkSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
    next_seq_ = other.next_seq_;
  }
  return *this;
}

NetlinkSocket::~NetlinkSocket() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Status NetlinkSocket::send(uint16_t type, uint16_t flags, std::span<const uint8_t> payload,
                           uint32_t seq) {
  std::vector<uint8_t> buf(NLMSG_SPACE(payload.size()), 0);
  auto* hdr = reinterpret_cast<nlmsghdr*>(buf.data());
  hdr->nlmsg_len = NLMSG_LENGTH(payload.size());
  hdr->nlmsg_type = type;
  hdr->nlmsg_flags = flags | NLM_F_REQUEST;
  hdr->nlmsg_seq = seq;
  std::memcpy(NLMSG_DATA(hdr), payload.data(), payload.size());

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (int attempt = 0; attempt < kMaxInterruptedCalls; ++attempt) {
    ssize_t n = ::sendto(fd_, buf.data(), hdr->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
                         sizeof(kernel));
    if (n >= 0) {
      return {};
    }
    if (errno != EINTR) {
      int err = errno;
      return makeError("netlink: send type " + std::to_string(type) + ": " + errnoText(err), err);
    }
  }
  return makeError("netlink: send type " + std::to_string(type) + ": interrupted", EINTR);
}

Status NetlinkSocket::request(uint16_t type, uint16_t flags, std::span<const uint8_t> payload,
                              const MessageFn& on_message) {
  uint32_t seq = next_seq_++;
  if (auto st = send(type, flags, payload, seq); !st) {
    return st;
  }

  // Aligned for nlmsghdr; the kernel writes whole messages.
  std::vector<uint64_t> storage(kRecvBufferSize / sizeof(uint64_t));
  auto* buf = reinterpret_cast<uint8_t*>(storage.data());
  Status first_error;
  bool done = false;
  int interrupted = 0;

  for (int datagrams = 0; !done && datagrams < kMaxDatagrams; ++datagrams) {
    iovec iov{buf, kRecvBufferSize};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n = ::recvmsg(fd_, &msg, 0);
    if (n < 0) {
      if (errno == EINTR && ++interrupted < kMaxInterruptedCalls) {
        continue;
      }
      int err = errno;
      return makeError(
          "netlink: receive reply to type " + std::to_string(type) + ": " + errnoText(err), err);
    }
    if (msg.msg_flags & MSG_TRUNC) {
      return makeError("netlink: reply to type " + std::to_string(type) + " truncated", EMSGSIZE);
    }
    auto st = handleDatagram({buf, static_cast<size_t>(n)}, seq, on_message, &first_error, &done);
    if (!st) {
      return st;
    }
  }
  if (!done) {
    return makeError("netlink: reply to type " + std::to_string(type) + " never finished", EIO);
  }
  return first_error;
}

Status NetlinkSocket::handleDatagram(std::span<const uint8_t> data, uint32_t seq,
                                     const MessageFn& on_message, Status* first_error, bool* done) {
  auto* hdr = reinterpret_cast<const nlmsghdr*>(data.data());
  int len = static_cast<int>(data.size());

  for (; NLMSG_OK(hdr, len); hdr = NLMSG_NEXT(hdr, len)) {
    // Stale replies to an earlier request that gave up (timeout) are skipped.
    if (hdr->nlmsg_seq != seq) {
      continue;
    }
    if (hdr->nlmsg_type == NLMSG_DONE) {
      *done = true;
      return {};
    }
    if (hdr->nlmsg_type == NLMSG_ERROR) {
      if (hdr->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
        return makeError("netlink: short error message", EIO);
      }
      const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(hdr));
      *done = true;
      if (err->error != 0 && first_error->ok()) {
        *first_error = makeError("netlink: kernel error: " + errnoText(-err->error), -err->error);
      }
      return {};
    }
    // Keep draining after a callback error so the next request starts clean.
    if (first_error->ok()) {
      if (auto st = on_message(*hdr); !st) {
        *first_error = st;
      }
    }
    if (!(hdr->nlmsg_flags & NLM_F_MULTI)) {
      *done = true;
      return {};
    }
  }
  return {};
}

}  // namespace weft
