// SPDX-License-Identifier: Apache-2.0
// weftctl's raw map commands: map list|dump|get|update|delete on any map pinned under
// <bpffs_root>/maps, with named fields from the map's BTF.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <ostream>
#include <string>

namespace weft::cli {

class MapCommands {
 public:
  // Adds the "map" command and its subcommands to `app`, which must outlive this object.
  explicit MapCommands(CLI::App& app);

  // Whether the command line chose one of these commands.
  bool parsed() const;

  // Runs the chosen command on the pins under `bpffs_root`. Prints tables (or JSON when
  // `json`) to `out`; on failure prints "weftctl: <message>" to `err` and returns 1, having
  // written nothing to the map.
  int run(const std::string& bpffs_root, bool json, std::ostream& out, std::ostream& err);

 private:
  int list(const std::string& bpffs_root, bool json, std::ostream& out, std::ostream& err);
  int dump(const std::string& bpffs_root, bool json, std::ostream& out, std::ostream& err);
  int get(const std::string& bpffs_root, bool json, std::ostream& out, std::ostream& err);
  int update(const std::string& bpffs_root, bool json, std::ostream& out, std::ostream& err);
  int erase(const std::string& bpffs_root, bool json, std::ostream& out, std::ostream& err);

  CLI::App* map_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* dump_ = nullptr;
  CLI::App* get_ = nullptr;
  CLI::App* update_ = nullptr;
  CLI::App* delete_ = nullptr;
  std::string name_;
  std::string key_;
  std::string value_;
  size_t limit_ = 10000;
  bool create_ = false;
  bool exist_ = false;
};

}  // namespace weft::cli
