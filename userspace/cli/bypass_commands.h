// SPDX-License-Identifier: Apache-2.0
// weftctl bypass add|remove|list: cgroups whose sockets weft leaves alone, edited in the
// pinned map directly (the agent keeps its config file's entries beside these).
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace weft::cli {

class BypassCommands {
 public:
  explicit BypassCommands(CLI::App& app);
  bool parsed() const;
  int run(const std::string& bpffs_root, bool json, std::ostream& out, std::ostream& err);

 private:
  CLI::App* add_ = nullptr;
  CLI::App* remove_ = nullptr;
  CLI::App* list_ = nullptr;
  std::string path_;
};

}  // namespace weft::cli
