// SPDX-License-Identifier: Apache-2.0
// Unix socket path preparation and loopback address checks for the API listeners.
#include "userspace/api/listen_address.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "userspace/registry/registry.h"

namespace weft::api {
namespace {

Error sysError(const std::string& what, int err) {
  return makeError(what + ": " + std::strerror(err), err);
}

Status makeParents(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0755) == 0) {
      // mkdir's mode is filtered by the umask; the brief wants exactly 0755.
      if (::chmod(dir.c_str(), 0755) != 0) {
        return sysError("api socket directory " + dir + ": chmod 0755", errno);
      }
    } else if (errno != EEXIST) {
      return sysError("api socket directory " + dir + ": mkdir", errno);
    }
  }
  return {};
}

// True when a process accepts connections on the socket file.
Result<bool> someoneListens(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return sysError("api socket " + path + ": socket", errno);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  ::close(fd);
  if (rc == 0 || err == EAGAIN) {
    // EAGAIN: a listener whose backlog is full; it is alive all the same.
    return true;
  }
  if (err == ECONNREFUSED) {
    return false;
  }
  return sysError("api socket " + path + ": probing for a listener", err);
}

}  // namespace

Status prepareSocketPath(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return makeError("api.socket: \"" + path + "\" is not an absolute path", registry::kInvalid);
  }
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return makeError("api.socket: \"" + path + "\" is longer than " +
                         std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes",
                     registry::kInvalid);
  }
  Status parents = makeParents(path);
  if (!parents) {
    return parents;
  }

  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return {};
    }
    return sysError("api socket " + path + ": stat", errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return makeError("api socket " + path + ": exists and is not a socket; not replacing it",
                     EEXIST);
  }
  auto listening = someoneListens(path);
  if (!listening) {
    return listening.error();
  }
  if (*listening) {
    return makeError("api socket " + path +
                         ": another process listens on it (is weftd "
                         "already running?)",
                     EADDRINUSE);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return sysError("api socket " + path + ": removing the stale socket", errno);
  }
  return {};
}

Status restrictSocketFile(const std::string& path) {
  if (::chmod(path.c_str(), 0600) != 0) {
    return sysError("api socket " + path + ": chmod 0600", errno);
  }
  if (::geteuid() == 0 && ::lchown(path.c_str(), 0, 0) != 0) {
    return sysError("api socket " + path + ": chown root", errno);
  }
  return {};
}

Result<boost::asio::ip::tcp::endpoint> parseLoopbackEndpoint(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return makeError("api.tcp: \"" + std::string(text) + "\" " + why, registry::kInvalid);
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return bad("is not host:port");
  }
  std::string host(text.substr(0, colon));
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") {
    host = "127.0.0.1";
  }

  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return bad("has a port outside 0..65535");
  }
  boost::system::error_code addr_ec;
  auto addr = boost::asio::ip::make_address(host, addr_ec);
  if (addr_ec) {
    return bad("has a host that is not an IP address");
  }
  if (!addr.is_loopback()) {
    return bad("is not a loopback address; the API listens only on 127.0.0.0/8 or ::1");
  }
  return boost::asio::ip::tcp::endpoint(addr, static_cast<uint16_t>(port));
}

}  // namespace weft::api
