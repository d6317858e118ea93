// SPDX-License-Identifier: Apache-2.0
// weftctl bypass: thin wrappers over loader/bypass.h.
#include "userspace/cli/bypass_commands.h"

#include <nlohmann/json.hpp>

#include "loader/bypass.h"
#include "loader/pin_layout.h"
#include "maps/weft_maps.h"

namespace weft::cli {

BypassCommands::BypassCommands(CLI::App& app) {
  CLI::App* bypass = app.add_subcommand(
      "bypass", "cgroups whose sockets weft does not balance (with all cgroups below them)");
  add_ = bypass->add_subcommand("add", "stop balancing the sockets of a cgroup subtree");
  add_->add_option("CGROUP", path_, "cgroup v2 directory, below weftd's cgroup")->required();
  remove_ = bypass->add_subcommand("remove", "balance a cgroup added with 'bypass add' again");
  remove_->add_option("CGROUP", path_, "cgroup v2 directory")->required();
  list_ = bypass->add_subcommand("list", "cgroup ids bypassed, and who asked");
  bypass->require_subcommand(1);
}

bool BypassCommands::parsed() const {
  return add_->parsed() || remove_->parsed() || list_->parsed();
}

int BypassCommands::run(const std::string& bpffs_root, bool json, std::ostream& out,
                        std::ostream& err) {
  std::string maps_dir = PinLayout(bpffs_root).mapsDir();
  if (add_->parsed() || remove_->parsed()) {
    Status st = add_->parsed() ? addBypass(maps_dir, path_) : removeBypass(maps_dir, path_);
    if (!st) {
      err << "weftctl: " << st.error().message << "\n";
      return 1;
    }
    out << (add_->parsed() ? "bypassed " : "balanced again ") << path_ << "\n";
    return 0;
  }

  auto entries = listBypass(maps_dir);
  if (!entries) {
    err << "weftctl: " << entries.error().message << "\n";
    return 1;
  }
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const BypassEntry& entry : *entries) {
    const char* source = entry.source == WEFT_BYPASS_CONFIG ? "config" : "weftctl";
    rows.push_back({{"cgroup_id", entry.cgroup_id}, {"source", source}});
  }
  if (json) {
    out << rows.dump(2) << "\n";
    return 0;
  }
  out << "CGROUP_ID  SOURCE\n";
  for (const auto& row : rows) {
    out << row["cgroup_id"].get<uint64_t>() << "  " << row["source"].get<std::string>() << "\n";
  }
  return 0;
}

}  // namespace weft::cli
