// SPDX-License-Identifier: Apache-2.0
// EtcdServer: spawn, readiness poll through the client under test, teardown.
#include "tests/e2e/etcd_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/sockets.h"
#include "userspace/etcd/etcd_client.h"

namespace weft::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kReadyPoll(50);
constexpr milliseconds kProbeTimeout(500);
// Only ever removed when it has this prefix, so a bug cannot remove anything else.
constexpr std::string_view kDirPrefix = "/tmp/weft-etcd-";

// A port the kernel just handed out on `host`. The test netns holds nothing else, so no one
// takes it before etcd binds it.
uint16_t freePort(const std::string& host) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  socklen_t len = sizeof(addr);
  if (!fd.valid() || ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return 0;
  }
  return ntohs(addr.sin_port);
}

}  // namespace

EtcdServer::EtcdServer(std::string client_host)
    : client_host_(std::move(client_host)),
      client_port_(freePort(client_host_)),
      peer_port_(freePort("127.0.0.1")) {
  std::string tmpl = std::string(kDirPrefix) + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    setup_error_ = "cannot create a temp dir";
    return;
  }
  dir_ = tmpl;
  if (client_port_ == 0 || peer_port_ == 0 || client_port_ == peer_port_) {
    setup_error_ = "cannot find two free ports (clients on " + client_host_ + ")";
  }
}

EtcdServer::~EtcdServer() {
  kill();
  std::error_code ec;
  if (dir_.rfind(kDirPrefix, 0) == 0) {
    fs::remove_all(dir_, ec);
  }
}

std::string EtcdServer::clientUrl() const {
  return "http://" + client_host_ + ":" + std::to_string(client_port_);
}

std::string EtcdServer::logText() const {
  std::ifstream in(dir_ + "/etcd.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void EtcdServer::kill() {
  process_.kill();
}

bool EtcdServer::start(std::string* error, milliseconds timeout) {
  if (!setup_error_.empty()) {
    *error = setup_error_;
    return false;
  }
  std::string etcd = toolPath("etcd");
  if (etcd.find('/') == std::string::npos) {
    *error = "etcd not found on PATH (Debian: apt-get install etcd-server)";
    return false;
  }

  std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
  // Short raft timers: a one-member cluster elects itself after one election timeout, which
  // is most of the start-up time with the defaults (1 s).
  std::vector<std::string> argv = {etcd,
                                   "--name=weft-test",
                                   "--data-dir=" + dir_ + "/data",
                                   "--listen-client-urls=" + clientUrl(),
                                   "--advertise-client-urls=" + clientUrl(),
                                   "--listen-peer-urls=" + peer,
                                   "--initial-advertise-peer-urls=" + peer,
                                   "--initial-cluster=weft-test=" + peer,
                                   "--initial-cluster-state=new",
                                   "--heartbeat-interval=20",
                                   "--election-timeout=200",
                                   "--logger=zap",
                                   "--log-level=warn"};
  process_ = Subprocess::spawn(argv, dir_ + "/etcd.log");
  if (process_.pid() < 0) {
    *error = "cannot start " + joinArgs(argv);
    return false;
  }

  etcd::ClientOptions options;
  options.endpoints = {clientUrl()};
  options.timeout = kProbeTimeout;
  auto client = etcd::Client::create(options);
  if (!client) {
    *error = client.error().message;
    return false;
  }

  auto deadline = Clock::now() + timeout;
  std::string last;
  while (Clock::now() < deadline) {
    if (!process_.running()) {
      *error = "etcd exited during start-up; log:\n" + logText();
      return false;
    }
    auto probe = (*client)->range(etcd::RangeRequest::single("/"));
    if (probe.ok()) {
      return true;
    }
    last = probe.error().message;
    std::this_thread::sleep_for(kReadyPoll);
  }
  *error = "etcd did not answer within " + std::to_string(timeout.count()) + " ms (" + last +
           "); log:\n" + logText();
  process_.kill();
  return false;
}

}  // namespace weft::e2e
