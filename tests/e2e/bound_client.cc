// SPDX-License-Identifier: Apache-2.0
// Bound-source test clients: bind, connect through the mesh, read the backend's name.
#include "tests/e2e/bound_client.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <sstream>

namespace weft::e2e {
namespace {

// Binds `fd` to source:port; 0 or the errno of the failure.
int bindTo(int fd, const std::string& source, uint16_t port) {
  auto ep = Endpoint::parse(source, port);
  if (!ep) {
    return EINVAL;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  return ::bind(fd, ep->sa(), ep->len) == 0 ? 0 : errno;
}

}  // namespace

std::string clientAddress(int index) {
  return "127.1." + std::to_string(index / 250) + "." + std::to_string(index % 250 + 1);
}

std::string fetchNameFrom(const std::string& source, uint16_t source_port, const Endpoint& to,
                          milliseconds timeout) {
  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return "error:socket:" + errnoName(errno);
  }
  if (!source.empty()) {
    if (int err = bindTo(fd.get(), source, source_port); err != 0) {
      return "error:bind:" + errnoName(err);
    }
  }
  if (int err = connectWithin(fd.get(), to, timeout); err != 0) {
    return "error:connect:" + errnoName(err);
  }
  int err = 0;
  auto name = recvLine(fd.get(), timeout, &err);
  // RST on close: thousands of passes must not leave TIME_WAIT entries behind.
  setLingerZero(fd.get());
  return name ? *name : "error:recv:" + errnoName(err);
}

std::string udpNameFrom(const std::string& source, uint16_t source_port, const Endpoint& to,
                        milliseconds timeout) {
  UniqueFd fd(::socket(to.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return "error:socket:" + errnoName(errno);
  }
  if (int err = bindTo(fd.get(), source, source_port); err != 0) {
    return "error:bind:" + errnoName(err);
  }
  if (::connect(fd.get(), to.sa(), to.len) != 0) {
    return "error:connect:" + errnoName(errno);
  }
  if (::send(fd.get(), "hi", 2, 0) != 2) {
    return "error:send:" + errnoName(errno);
  }
  int err = 0;
  auto name = recvDatagram(fd.get(), timeout, &err);
  return name ? *name : "error:recv:" + errnoName(err);
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    out += (out.empty() ? "" : " ") + name;
  }
  return out;
}

std::vector<std::string> splitNames(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string name;
  while (in >> name) {
    out.push_back(name);
  }
  return out;
}

}  // namespace weft::e2e
