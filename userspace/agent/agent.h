// SPDX-License-Identifier: Apache-2.0
// weftd's agent: loads the data plane, keeps the maps in step with the config file and
// reloads it on SIGHUP or when the file changes. Everything runs on one io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>
#include <string>

#include "userspace/agent/config_watcher.h"
#include "userspace/common/result.h"
#include "userspace/config/agent_config.h"

namespace weft {

class Controller;
class BpfMapStore;

class Agent {
 public:
  Agent(std::string config_path, AgentConfig config);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Loads or adopts the data plane and applies the config. A failure here is fatal for
  // the caller: the message is one line saying what to fix.
  Status start();

  // Serves signals and file changes until SIGTERM or SIGINT. Pins and links stay in place
  // on exit so that connects keep being balanced while no agent runs.
  void run();

 private:
  void waitForSignal();
  void reload(const char* trigger);
  Status applyServices(const AgentConfig& config, const char* trigger);

  std::string config_path_;
  AgentConfig config_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  ConfigWatcher watcher_;
  std::unique_ptr<BpfMapStore> store_;
  std::unique_ptr<Controller> controller_;
};

}  // namespace weft
