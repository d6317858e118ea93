// SPDX-License-Identifier: Apache-2.0
// weftctl's registry commands, served by weftd's local API rather than the pinned maps:
// service register|deregister|show and endpoint register|deregister|list|heartbeat.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "userspace/api_client/client_options.h"
#include "userspace/common/result.h"

namespace weft::cli {

class ApiCommands {
 public:
  // Adds its subcommands under weftctl's existing "service" command and a new "endpoint"
  // command on `app`. Both must outlive this object.
  ApiCommands(CLI::App& app, CLI::App& service);

  // Whether the command line chose one of these commands.
  bool parsed() const;

  // Runs the chosen command against the API. Prints a table (or the API's JSON when `json`)
  // to `out`; on failure prints the server's message to `err` and returns 1.
  int run(const api::ClientOptions& options, bool json, std::ostream& out, std::ostream& err);

 private:
  struct Common {
    std::string service;
    std::string ns = "default";
  };
  struct ServiceFlags {
    std::vector<std::string> ports;
    std::vector<std::string> labels;
    std::string algorithm = "round_robin";
    std::string vip;
  };
  struct EndpointFlags {
    std::string host;
    uint32_t port = 0;
    std::string endpoint_id;
    std::string port_name;
    std::string version;
    std::string zone;
    uint32_t weight = 100;
    std::vector<std::string> labels;
    std::string check = "none";
    std::optional<int> expected_status;
    std::string interval;
    std::string timeout;
    std::optional<uint32_t> healthy_threshold;
    std::optional<uint32_t> unhealthy_threshold;
    std::string ttl;
    bool create_service = false;
  };

  void addServiceCommands(CLI::App& service);
  void addEndpointCommands(CLI::App& app);
  CLI::App* addTarget(CLI::App* command, const char* service_help);

  Result<std::string> serviceBody() const;
  Result<std::string> endpointBody() const;
  // The endpoint id from ENDPOINT or --host/--port, for deregister and heartbeat.
  Result<std::string> endpointId() const;

  Common common_;
  ServiceFlags service_;
  EndpointFlags endpoint_;
  CLI::App* service_register_ = nullptr;
  CLI::App* service_deregister_ = nullptr;
  CLI::App* service_show_ = nullptr;
  CLI::App* endpoint_register_ = nullptr;
  CLI::App* endpoint_deregister_ = nullptr;
  CLI::App* endpoint_list_ = nullptr;
  CLI::App* endpoint_heartbeat_ = nullptr;
};

}  // namespace weft::cli
