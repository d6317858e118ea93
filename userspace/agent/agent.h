// SPDX-License-Identifier: Apache-2.0
// weftd's agent: loads the data plane, serves the registry API and DNS, runs health checks,
// and keeps the maps in step with the registry. Everything runs on one io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "userspace/agent/config_watcher.h"
#include "userspace/common/result.h"
#include "userspace/config/agent_config.h"

namespace weft {

class Controller;
class BpfMapStore;
class RegistrySync;
class StartupHealthView;
namespace registry {
class Store;
class Registry;
}  // namespace registry
namespace api {
class ApiServer;
}  // namespace api
namespace health {
class HealthChecker;
}  // namespace health
namespace dns {
class DnsServer;
}  // namespace dns

class Agent {
 public:
  Agent(std::string config_path, AgentConfig config);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Loads or adopts the data plane, opens the registry, declares the config's services,
  // syncs the maps and starts the API and DNS servers. A failure is fatal for the caller:
  // the message is one line saying what to fix.
  Status start();

  // Serves signals, file changes, API and DNS requests until SIGTERM or SIGINT. Pins and
  // links stay in place on exit so that connects keep being balanced while no agent runs.
  void run();

 private:
  Status openRegistry();
  Status startServers();
  void waitForSignal();
  void reload(const char* trigger);

  std::string config_path_;
  AgentConfig config_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  ConfigWatcher watcher_;
  boost::asio::steady_timer grace_timer_;
  std::unique_ptr<BpfMapStore> map_store_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<registry::Store> store_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<health::HealthChecker> health_;
  std::unique_ptr<StartupHealthView> startup_health_;
  std::unique_ptr<RegistrySync> sync_;
  std::unique_ptr<api::ApiServer> api_;
  std::unique_ptr<dns::DnsServer> dns_;
};

}  // namespace weft
