// SPDX-License-Identifier: Apache-2.0
// weftctl's live edits through weftd's API, persisted in the registry: backend set-weight,
// backend drain|undrain, split set|clear, service set-algorithm and set-affinity.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "userspace/api_client/client_options.h"
#include "userspace/common/result.h"

namespace weft::cli {

class EditCommands {
 public:
  // Adds set-weight, drain and undrain under `backend`, set-algorithm and set-affinity under
  // `service` and a new `split` command on `app`. All must outlive this object.
  EditCommands(CLI::App& app, CLI::App& service, CLI::App& backend);

  bool parsed() const;

  // Sends the chosen edit as one PATCH; prints a line (or the API's JSON when `json`) to
  // `out`, or the server's message to `err` and returns 1.
  int run(const api::ClientOptions& options, bool json, std::ostream& out, std::ostream& err);

 private:
  CLI::App* addTarget(CLI::App* command);
  CLI::App* addEndpoint(CLI::App* command);
  // {"split": {...}} from VALUE=PERCENT arguments.
  Result<nlohmann::json> splitBody() const;
  // {"algorithm": ...} plus the Maglev options given, and the line that reports it.
  nlohmann::json algorithmBody(std::string* message) const;

  std::string service_;
  std::string ns_ = "default";
  std::string endpoint_id_;
  uint32_t weight_ = 0;
  std::string algorithm_;
  uint32_t table_size_ = 0;
  std::string hash_key_;
  uint32_t affinity_seconds_ = 0;
  std::string split_key_ = "version";
  std::vector<std::string> split_parts_;

  CLI::App* set_weight_ = nullptr;
  CLI::App* drain_ = nullptr;
  CLI::App* undrain_ = nullptr;
  CLI::App* set_algorithm_ = nullptr;
  CLI::App* set_affinity_ = nullptr;
  CLI::App* split_set_ = nullptr;
  CLI::App* split_clear_ = nullptr;
};

}  // namespace weft::cli
