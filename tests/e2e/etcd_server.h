// SPDX-License-Identifier: Apache-2.0
// A real single-member etcd for the etcd store tests: ports on loopback (or on another
// address of the test's own network namespace), a private data dir, owned by PID, killed and
// its data dir removed on destruction.
#pragma once

#include <cstdint>
#include <string>

#include "tests/e2e/process.h"

namespace weft::e2e {

class EtcdServer {
 public:
  // Picks two free ports and makes a temp dir; does not start etcd. Clients are served on
  // `client_host` (an IPv4 address of the test's namespace), peers on 127.0.0.1.
  explicit EtcdServer(std::string client_host = "127.0.0.1");
  ~EtcdServer();
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  // Starts etcd (again, on the same ports and data) and waits until it serves reads, at
  // most `timeout`. On failure returns false with the reason and the log tail in *error.
  bool start(std::string* error, milliseconds timeout = milliseconds(15000));
  // SIGKILL and reap: the data stays for a restart.
  void kill();

  std::string clientUrl() const;
  std::string logText() const;

 private:
  std::string client_host_;
  uint16_t client_port_ = 0;
  uint16_t peer_port_ = 0;
  std::string dir_;
  std::string setup_error_;
  Subprocess process_;
};

}  // namespace weft::e2e
