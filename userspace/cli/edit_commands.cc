// SPDX-License-Identifier: Apache-2.0
// Live edits: command lines to PATCH bodies on the service or endpoint path.
#include "userspace/cli/edit_commands.h"

#include <charconv>

#include "maps/weft_maps.h"
#include "userspace/api_client/api_client.h"
#include "userspace/config/config_validate.h"

namespace weft::cli {
namespace {

// "v1=90" -> {"value":"v1","percent":90}; the server checks the sum and the ranges again.
Result<nlohmann::json> subsetOf(const std::string& text) {
  size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0) {
    return makeError("\"" + text + "\": expected VALUE=PERCENT, e.g. v1=90");
  }
  std::string digits = text.substr(eq + 1);
  unsigned percent = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), percent);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      percent > 100) {
    return makeError("\"" + text + "\": percent \"" + digits + "\" is not an integer in 0..100");
  }
  return nlohmann::json{{"value", text.substr(0, eq)}, {"percent", percent}};
}

}  // namespace

EditCommands::EditCommands(CLI::App& app, CLI::App& service, CLI::App& backend) {
  set_weight_ = addEndpoint(addTarget(backend.add_subcommand(
      "set-weight", "set an endpoint's weight in the registry (0: no new connections)")));
  set_weight_->add_option("WEIGHT", weight_, "0..65535")->required()->check(CLI::Range(0, 65535));
  drain_ = addEndpoint(addTarget(backend.add_subcommand(
      "drain", "stop new connections to an endpoint; established ones stay")));
  undrain_ = addEndpoint(
      addTarget(backend.add_subcommand("undrain", "let an endpoint take new connections again")));

  set_algorithm_ = addTarget(
      service.add_subcommand("set-algorithm", "change a registry service's balancing algorithm"));
  set_algorithm_->add_option("ALGORITHM", algorithm_, "round_robin, random, weighted, ...")
      ->required()
      ->check(CLI::IsMember({"round_robin", "random", "weighted", "least_conn", "maglev"}));
  set_algorithm_->add_option("--table-size", table_size_,
                             "Maglev table size: a prime in " +
                                 std::to_string(WEFT_MAGLEV_MIN_SIZE) + ".." +
                                 std::to_string(WEFT_MAGLEV_MAX_SIZE) + " (default " +
                                 std::to_string(WEFT_MAGLEV_DEFAULT_SIZE) + ")");
  set_algorithm_->add_option("--hash-key", hash_key_, "what Maglev hashes")
      ->check(CLI::IsMember({"client_addr", "client_addr_port"}));
  set_affinity_ = addTarget(service.add_subcommand(
      "set-affinity", "keep each client on its backend while it reconnects within SECONDS"));
  set_affinity_
      ->add_option("SECONDS", affinity_seconds_,
                   "idle timeout, 0.." + std::to_string(kMaxAffinityTimeoutSeconds) +
                       "; 0 turns affinity off")
      ->required()
      ->check(CLI::Range(uint32_t{0}, kMaxAffinityTimeoutSeconds));

  auto* split = app.add_subcommand("split", "traffic splits between endpoint subsets");
  split->require_subcommand(1);
  split_set_ = addTarget(split->add_subcommand(
      "set", "divide new connections between subsets, e.g. `split set web v1=90 v2=10`"));
  split_set_->add_option("SUBSET", split_parts_, "LABEL_VALUE=PERCENT, percents adding to 100")
      ->required();
  split_set_->add_option("--key", split_key_, "endpoint label that names the subsets")
      ->capture_default_str();
  split_clear_ = addTarget(
      split->add_subcommand("clear", "remove the split; the service's algorithm applies again"));
}

CLI::App* EditCommands::addTarget(CLI::App* command) {
  command->add_option("SERVICE", service_, "registry service name")->required();
  command->add_option("--ns", ns_, "namespace")->capture_default_str();
  return command;
}

CLI::App* EditCommands::addEndpoint(CLI::App* command) {
  command->add_option("ENDPOINT", endpoint_id_, "host:port or [v6]:port")->required();
  return command;
}

bool EditCommands::parsed() const {
  for (const CLI::App* command :
       {set_weight_, drain_, undrain_, set_algorithm_, set_affinity_, split_set_, split_clear_}) {
    if (command->parsed()) {
      return true;
    }
  }
  return false;
}

Result<nlohmann::json> EditCommands::splitBody() const {
  nlohmann::json subsets = nlohmann::json::array();
  for (const std::string& part : split_parts_) {
    auto subset = subsetOf(part);
    if (!subset) {
      return subset.error();
    }
    subsets.push_back(std::move(*subset));
  }
  return nlohmann::json{{"split", {{"key", split_key_}, {"subsets", std::move(subsets)}}}};
}

nlohmann::json EditCommands::algorithmBody(std::string* message) const {
  nlohmann::json body = {{"algorithm", algorithm_}};
  *message = "algorithm " + algorithm_;
  // Sent only when given, so set-algorithm alone leaves the service's Maglev options alone.
  if (set_algorithm_->count("--table-size") > 0) {
    body["maglev_table_size"] = table_size_;
    *message += ", table size " + std::to_string(table_size_);
  }
  if (!hash_key_.empty()) {
    body["hash_key"] = hash_key_;
    *message += ", hash key " + hash_key_;
  }
  return body;
}

int EditCommands::run(const api::ClientOptions& options, bool json, std::ostream& out,
                      std::ostream& err) {
  auto fail = [&](const Error& error) {
    err << "weftctl: " << error.message << "\n";
    return 1;
  };
  api::ApiClient client(options);
  const std::string qualified = ns_ + "/" + service_;
  const std::string service_path = api::servicePath(ns_, service_);

  std::string path = service_path;
  nlohmann::json body;
  std::string message;
  if (set_weight_->parsed() || drain_->parsed() || undrain_->parsed()) {
    path = api::endpointPath(ns_, service_, endpoint_id_);
    std::string what = "endpoint " + endpoint_id_ + " of " + qualified;
    if (set_weight_->parsed()) {
      body = {{"weight", weight_}};
      message = what + ": weight " + std::to_string(weight_);
    } else {
      body = {{"drained", drain_->parsed()}};
      message = what + (drain_->parsed() ? ": drained" : ": undrained");
    }
  } else if (set_algorithm_->parsed()) {
    body = algorithmBody(&message);
    message = "service " + qualified + ": " + message;
  } else if (set_affinity_->parsed()) {
    body = {{"affinity_timeout_seconds", affinity_seconds_}};
    message = "service " + qualified + ": session affinity " +
              (affinity_seconds_ == 0 ? std::string("off")
                                      : std::to_string(affinity_seconds_) + "s idle timeout");
  } else if (split_set_->parsed()) {
    auto split = splitBody();
    if (!split) {
      return fail(split.error());
    }
    body = std::move(*split);
    message = "service " + qualified + ": split by " + split_key_;
    for (const std::string& part : split_parts_) {
      message += " " + part;
    }
  } else {
    body = {{"split", nullptr}};
    message = "service " + qualified + ": split cleared";
  }

  auto reply = client.call("PATCH", path, body.dump());
  if (!reply) {
    return fail(reply.error());
  }
  out << (json ? reply->dump(2) : message) << "\n";
  return 0;
}

}  // namespace weft::cli
