// SPDX-License-Identifier: Apache-2.0
// weftd entry point: flags, config loading, and the --cleanup mode.
#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "loader/data_plane.h"
#include "userspace/agent/agent.h"
#include "userspace/common/log.h"
#include "userspace/config/config_parser.h"

namespace {

int fatal(const std::string& message) {
  weft::log::error("weftd", message);
  return 1;
}

// Cleanup needs only the bpffs root, so it works even when the config file has since become
// invalid or is gone.
int runCleanup(const std::string& config_path, std::optional<std::string> bpffs_root) {
  if (!bpffs_root) {
    auto config = weft::loadConfigFile(config_path);
    if (!config) {
      return fatal("cleanup: " + config.error().message + " (or pass --bpffs-root)");
    }
    bpffs_root = config->bpffs_root;
  }
  auto removed = weft::cleanupDataPlane(*bpffs_root);
  if (!removed) {
    return fatal("cleanup: " + removed.error().message);
  }
  weft::log::info("weftd", "cleanup done",
                  {{"bpffs_root", *bpffs_root}, {"pins_removed", *removed}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weftd: the weft agent"};
  std::string config_path;
  std::optional<std::string> log_level;
  std::optional<std::string> bpffs_root;
  bool cleanup = false;
  app.add_option("-c,--config", config_path, "YAML config file");
  app.add_option("--log-level", log_level, "debug, info, warn or error (overrides the config)");
  app.add_option("--bpffs-root", bpffs_root, "with --cleanup: the bpffs root to clean");
  app.add_flag("--cleanup", cleanup, "detach and unpin everything weft created, then exit");
  CLI11_PARSE(app, argc, argv);

  if (log_level) {
    weft::log::Level level;
    if (!weft::log::parseLevel(*log_level, &level)) {
      return fatal("--log-level: \"" + *log_level + "\" is not debug, info, warn or error");
    }
    weft::log::setLevel(level);
  }
  if (cleanup) {
    if (config_path.empty() && !bpffs_root) {
      return fatal("--cleanup needs --config or --bpffs-root");
    }
    return runCleanup(config_path, bpffs_root);
  }
  if (config_path.empty()) {
    return fatal("--config is required");
  }

  auto config = weft::loadConfigFile(config_path);
  if (!config) {
    return fatal(config.error().message);
  }
  if (!log_level) {
    weft::log::setLevel(config->log_level);
  }

  weft::Agent agent(config_path, std::move(*config));
  if (auto st = agent.start(); !st) {
    return fatal(st.error().message);
  }
  agent.run();
  return 0;
}
