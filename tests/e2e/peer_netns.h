// SPDX-License-Identifier: Apache-2.0
// A second network namespace for tests that need two hosts: held open by a child process and
// linked to the test's own namespace by a veth pair whose /30 exists only in the two of them.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/e2e/process.h"
#include "tests/e2e/sockets.h"

namespace weft::e2e {

class PeerNetns {
 public:
  // Creates the namespace, the veth pair and the addresses, brings the links and the peer's
  // loopback up. setupError() says what failed; the destructor removes whatever was made.
  PeerNetns();
  PeerNetns(const PeerNetns&) = delete;
  PeerNetns& operator=(const PeerNetns&) = delete;
  // Deletes the veth pair and kills the holder (by PID): the namespace goes with it.
  ~PeerNetns();

  const std::string& setupError() const { return setup_error_; }
  // The test namespace's end of the veth pair and the peer namespace's end.
  const std::string& localIp() const { return local_ip_; }
  const std::string& peerIp() const { return peer_ip_; }
  // "/proc/<pid>/ns/net" of the holder, for `nsenter --net=`.
  const std::string& path() const { return path_; }
  // {"nsenter", "--net=<path>"}: put before a command's argv to run it in the peer namespace.
  std::vector<std::string> commandPrefix() const;

  // Moves the calling thread into the peer namespace. Meant for a freshly forked child (its
  // only thread): async-signal-safe, sockets it opens afterwards live in the peer namespace.
  bool enter() const;

 private:
  CommandResult ip(const std::vector<std::string>& args, bool in_peer);
  bool setup();

  pid_t holder_ = -1;
  UniqueFd ns_fd_;
  std::string path_;
  std::string local_if_;
  std::string peer_if_;
  std::string local_ip_ = "10.250.0.1";
  std::string peer_ip_ = "10.250.0.2";
  bool veth_created_ = false;
  std::string setup_error_;
};

}  // namespace weft::e2e
