// SPDX-License-Identifier: Apache-2.0
// Helpers for the API unit tests: an in-memory registry Store that counts writes, a
// HealthView whose verdicts a test sets, a Registry wired to both, and an ApiServer running
// on its own io thread in a private temp directory.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "userspace/api/api_server.h"
#include "userspace/registry/registry.h"
#include "userspace/registry/store.h"

namespace weft::api::testing {

// Keeps everything in maps; enforces the Store contract's uniqueness rules.
class MemoryStore : public registry::Store {
 public:
  Result<registry::Service> putService(const registry::Service& service,
                                       bool create_only) override {
    std::lock_guard lock(mu_);
    std::string key = service.ns + "/" + service.name;
    if (create_only && services_.count(key)) {
      return makeError("service " + key + " already exists", registry::kConflict);
    }
    for (const auto& [other_key, other] : services_) {
      if (other_key != key && other.vip == service.vip) {
        return makeError("vip: " + service.vip->toString() + " is held by " + other_key,
                         registry::kConflict);
      }
    }
    registry::Service stored = service;
    stored.revision = ++revision_;
    services_[key] = stored;
    writes_++;
    return stored;
  }

  Status deleteService(const std::string& ns, const std::string& name) override {
    std::lock_guard lock(mu_);
    std::string key = ns + "/" + name;
    if (services_.erase(key) == 0) {
      return makeError("service " + key + " does not exist", registry::kNotFound);
    }
    for (auto it = endpoints_.begin(); it != endpoints_.end();) {
      it = it->second.ns == ns && it->second.service == name ? endpoints_.erase(it) : ++it;
    }
    revision_++;
    writes_++;
    return {};
  }

  Result<registry::Endpoint> putEndpoint(const registry::Endpoint& endpoint,
                                         bool create_only) override {
    std::lock_guard lock(mu_);
    std::string service_key = endpoint.ns + "/" + endpoint.service;
    if (!services_.count(service_key)) {
      return makeError("service " + service_key + " does not exist", registry::kNotFound);
    }
    std::string key = service_key + "/" + endpoint.id();
    if (create_only && endpoints_.count(key)) {
      return makeError("endpoint " + endpoint.id() + " already exists in " + service_key,
                       registry::kConflict);
    }
    registry::Endpoint stored = endpoint;
    stored.revision = ++revision_;
    endpoints_[key] = stored;
    writes_++;
    return stored;
  }

  Status deleteEndpoint(const std::string& ns, const std::string& service,
                        const std::string& endpoint_id) override {
    std::lock_guard lock(mu_);
    if (endpoints_.erase(ns + "/" + service + "/" + endpoint_id) == 0) {
      return makeError("endpoint " + endpoint_id + " does not exist in " + ns + "/" + service,
                       registry::kNotFound);
    }
    revision_++;
    writes_++;
    return {};
  }

  Result<registry::Snapshot> snapshot() override {
    std::lock_guard lock(mu_);
    registry::Snapshot snap;
    for (const auto& [key, service] : services_) {
      snap.services.push_back(service);
    }
    for (const auto& [key, endpoint] : endpoints_) {
      snap.endpoints.push_back(endpoint);
    }
    snap.revision = revision_;
    return snap;
  }

  Status watch(ChangeCallback) override { return {}; }

  int writes() {
    std::lock_guard lock(mu_);
    return writes_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, registry::Service> services_;
  std::map<std::string, registry::Endpoint> endpoints_;
  uint64_t revision_ = 0;
  int writes_ = 0;
};

// Every endpoint is healthy unless its id was marked down.
class FakeHealth : public registry::HealthView {
 public:
  bool healthy(const registry::Endpoint& endpoint) const override {
    std::lock_guard lock(mu_);
    return down_.count(endpoint.id()) == 0;
  }
  void setDown(const std::string& id, bool down) {
    std::lock_guard lock(mu_);
    if (down) {
      down_.insert(id);
    } else {
      down_.erase(id);
    }
  }

 private:
  mutable std::mutex mu_;
  std::set<std::string> down_;
};

// A registry over a MemoryStore with the VIP range 10.96.0.0/16 and fd00:96::/112 and a
// clock the test moves.
struct RegistryFixture {
  RegistryFixture()
      : registry(store, {*Cidr::parse("10.96.0.0/16"), *Cidr::parse("fd00:96::/112")},
                 [this] { return now_ms; }) {}

  MemoryStore store;
  FakeHealth health;
  int64_t now_ms = 1'700'000'000'000;
  registry::Registry registry;
};

// A directory under $TMPDIR removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "weft-api-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp " << pattern << " failed";
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// An ApiServer over a RegistryFixture, served by a thread of its own; stopped and joined on
// destruction. The socket lives in a fresh temp directory.
class ServerHarness {
 public:
  ServerHarness() { options_.socket_path = dir_.file("run/weft/api.sock"); }
  ~ServerHarness() { stop(); }

  ApiOptions& options() { return options_; }
  const std::string& socketPath() const { return options_.socket_path; }
  RegistryFixture& fixture() { return f_; }

  // Starts the server with options(); the status of ApiServer::start.
  Status start() {
    server_ = std::make_unique<ApiServer>(io_, f_.registry, f_.health, options_);
    Status started = server_->start();
    if (started) {
      // Keeps run() alive between connections; restart() undoes an earlier stop().
      io_.restart();
      work_.emplace(io_.get_executor());
      thread_ = std::thread([this] { io_.run(); });
    }
    return started;
  }

  uint16_t tcpPort() const { return server_ ? server_->tcpPort() : 0; }

  void stop() {
    if (thread_.joinable()) {
      boost::asio::post(io_, [this] {
        server_->stop();
        work_.reset();
        io_.stop();
      });
      thread_.join();
    }
    server_.reset();
  }

 private:
  ScratchDir dir_;
  RegistryFixture f_;
  ApiOptions options_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::unique_ptr<ApiServer> server_;
  std::thread thread_;
};

}  // namespace weft::api::testing
