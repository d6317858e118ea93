// SPDX-License-Identifier: Apache-2.0
// Agent start-up, signal handling and config reloads.
#include "userspace/agent/agent.h"

#include <csignal>

#include "loader/data_plane.h"
#include "loader/feature_probe.h"
#include "loader/pin_layout.h"
#include "userspace/agent/udp_reaper_hook.h"
#include "userspace/common/log.h"
#include "userspace/config/config_parser.h"
#include "userspace/controller/bpf_map_store.h"
#include "userspace/controller/controller.h"

namespace weft {

Agent::Agent(std::string config_path, AgentConfig config)
    : config_path_(std::move(config_path)),
      config_(std::move(config)),
      signals_(io_, SIGHUP, SIGTERM, SIGINT),
      watcher_(io_, config_path_, [this] { reload("file change"); }) {}

Agent::~Agent() = default;

Status Agent::start() {
  if (auto st = probeSockLbFeatures(); !st) {
    return st;
  }
  auto loaded = loadDataPlane({config_.bpffs_root, config_.cgroup});
  if (!loaded) {
    return loaded.error();
  }
  log::info("loader", "data plane attached",
            {{"bpffs_root", config_.bpffs_root},
             {"cgroup", config_.cgroup},
             {"maps_reused", loaded->maps_reused},
             {"links_updated", loaded->links_updated},
             {"links_created", loaded->links_created}});

  auto store = BpfMapStore::open(PinLayout(config_.bpffs_root).mapsDir());
  if (!store) {
    return store.error();
  }
  store_ = std::move(*store);
  controller_ = std::make_unique<Controller>(*store_);
  controller_->setUdpBackendRemovedHook(makeUdpReaperHook(*store_));
  if (auto st = controller_->adopt(); !st) {
    return st;
  }
  if (auto st = applyServices(config_, "start"); !st) {
    return st;
  }
  if (auto st = watcher_.start(); !st) {
    // Reload on SIGHUP still works; only the automatic pick-up of edits is lost.
    log::warn("config", "file watch unavailable; reload with SIGHUP",
              {{"error", st.error().message}});
  }
  log::info("weftd", "agent ready", {{"services", config_.services.size()}});
  return {};
}

void Agent::run() {
  waitForSignal();
  io_.run();
  log::info("weftd", "agent stopped; pinned links keep balancing");
}

void Agent::waitForSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) {
      return;
    }
    if (signo == SIGHUP) {
      reload("SIGHUP");
      waitForSignal();
      return;
    }
    log::info("weftd", "stopping", {{"signal", signo}});
    io_.stop();
  });
}

void Agent::reload(const char* trigger) {
  auto next = loadConfigFile(config_path_);
  if (!next) {
    log::error("config", "reload rejected; running state kept",
               {{"trigger", trigger}, {"error", next.error().message}});
    return;
  }
  // The attach point and pin root are fixed for the life of the process: moving them
  // would mean a detach window; a restart with --cleanup is the explicit way.
  if (next->cgroup != config_.cgroup || next->bpffs_root != config_.bpffs_root) {
    log::error("config", "reload rejected: cgroup and bpffs_root need a restart",
               {{"trigger", trigger}, {"cgroup", next->cgroup}, {"bpffs_root", next->bpffs_root}});
    return;
  }
  log::setLevel(next->log_level);
  if (auto st = applyServices(*next, trigger); !st) {
    log::error("controller", "reload failed to apply", {{"error", st.error().message}});
    return;
  }
  config_ = std::move(*next);
}

Status Agent::applyServices(const AgentConfig& config, const char* trigger) {
  auto summary = controller_->apply(config.services);
  if (!summary) {
    return summary.error();
  }
  log::info("controller", "config applied",
            {{"trigger", trigger},
             {"services", config.services.size()},
             {"services_added", summary->services_added},
             {"services_removed", summary->services_removed},
             {"services_changed", summary->services_changed},
             {"backends_added", summary->backends_added},
             {"backends_removed", summary->backends_removed},
             {"map_writes", summary->map_writes}});
  return {};
}

}  // namespace weft
