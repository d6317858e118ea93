// SPDX-License-Identifier: Apache-2.0
// weftctl: reads weft's pinned maps directly and prints status, services and backends; the
// registry commands (service register|deregister|show, endpoint ...) go through weftd's API.
#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "userspace/cli/api_commands.h"
#include "userspace/cli/bypass_commands.h"
#include "userspace/cli/edit_commands.h"
#include "userspace/cli/map_commands.h"
#include "userspace/cli/map_snapshot.h"
#include "userspace/cli/render.h"

namespace {

enum class Output { kTable, kJson };

int fail(const std::string& message) {
  std::cerr << "weftctl: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weftctl: inspect the weft data plane and edit its service registry"};
  app.require_subcommand(1);
  // Global options may also follow the subcommand: `weftctl endpoint list web -o json`.
  app.fallthrough();
  std::string bpffs_root = "/sys/fs/bpf/weft";
  std::string output = "table";
  app.add_option("--bpffs-root", bpffs_root, "bpffs directory weftd pins under")
      ->capture_default_str();
  app.add_option("-o,--output", output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  weft::api::ClientOptions api_options;
  app.add_option("--socket", api_options.socket_path, "weftd API socket (registry commands)")
      ->capture_default_str();

  auto* status = app.add_subcommand("status", "layout version, links, counts, counters");
  auto* service = app.add_subcommand("service", "services in the maps or the registry");
  service->require_subcommand(1);
  auto* service_list = service->add_subcommand("list", "list services");
  auto* backend = app.add_subcommand("backend", "backends in the maps");
  backend->require_subcommand(1);
  auto* backend_list =
      backend->add_subcommand("list", "list the active backends and the draining ones");
  std::optional<std::string> backend_service;
  backend_list->add_option("SERVICE", backend_service, "name, vip:port/proto or vip:port");
  weft::cli::ApiCommands api_commands(app, *service);
  weft::cli::EditCommands edit_commands(app, *service, *backend);
  weft::cli::MapCommands map_commands(app);
  weft::cli::BypassCommands bypass_commands(app);

  CLI11_PARSE(app, argc, argv);
  Output out = output == "json" ? Output::kJson : Output::kTable;
  if (api_commands.parsed()) {
    return api_commands.run(api_options, out == Output::kJson, std::cout, std::cerr);
  }

  if (edit_commands.parsed()) {
    return edit_commands.run(api_options, out == Output::kJson, std::cout, std::cerr);
  }

  if (map_commands.parsed()) {
    return map_commands.run(bpffs_root, out == Output::kJson, std::cout, std::cerr);
  }
  if (bypass_commands.parsed()) {
    return bypass_commands.run(bpffs_root, out == Output::kJson, std::cout, std::cerr);
  }

  auto snap = weft::cli::readSnapshot(bpffs_root);
  if (!snap) {
    return fail(snap.error().message);
  }

  nlohmann::ordered_json result;
  if (status->parsed()) {
    result = weft::cli::statusJson(*snap, bpffs_root);
    if (out == Output::kTable) {
      weft::cli::printKeyValues(std::cout, result);
      return 0;
    }
  } else if (service_list->parsed()) {
    result = weft::cli::servicesJson(*snap, out == Output::kJson);
  } else if (backend_list->parsed()) {
    auto rows = weft::cli::backendsJson(*snap, backend_service);
    if (!rows) {
      return fail(rows.error().message);
    }
    result = *rows;
  }

  if (out == Output::kJson) {
    std::cout << result.dump(2) << "\n";
  } else {
    weft::cli::printTable(std::cout, result);
  }
  return 0;
}
