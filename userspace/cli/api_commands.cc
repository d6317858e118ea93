// SPDX-License-Identifier: Apache-2.0
// weftctl's registry commands: flags to request bodies, API calls, replies to tables.
#include "userspace/cli/api_commands.h"

#include "userspace/api_client/api_client.h"
#include "userspace/cli/api_flags.h"
#include "userspace/cli/api_render.h"
#include "userspace/config/agent_config.h"
#include "userspace/registry/model_json.h"

namespace weft::cli {
namespace {

// Endpoint ids in messages and paths use brackets for IPv6, like Endpoint::id().
std::string hostPortId(const IpAddr& host, uint32_t port) {
  registry::Endpoint endpoint;
  endpoint.host = host;
  endpoint.port = static_cast<uint16_t>(port);
  return endpoint.id();
}

}  // namespace

ApiCommands::ApiCommands(CLI::App& app, CLI::App& service) {
  addServiceCommands(service);
  addEndpointCommands(app);
}

CLI::App* ApiCommands::addTarget(CLI::App* command, const char* service_help) {
  command->add_option("SERVICE", common_.service, service_help)->required();
  command->add_option("--ns", common_.ns, "namespace")->capture_default_str();
  return command;
}

void ApiCommands::addServiceCommands(CLI::App& service) {
  service_register_ =
      addTarget(service.add_subcommand("register", "register a service through weftd's API"),
                "service name (DNS label)");
  service_register_
      ->add_option("--port", service_.ports,
                   "[NAME:]PORT[/tcp|/udp], repeatable; unnamed ports of a multi-port "
                   "service are named PROTO-PORT")
      ->required();
  service_register_->add_option("--label", service_.labels, "KEY=VALUE, repeatable");
  service_register_->add_option("--algorithm", service_.algorithm, "balancing algorithm")
      ->check(CLI::IsMember({"round_robin", "random", "weighted", "least_conn", "maglev"}))
      ->capture_default_str();
  service_register_->add_option("--vip", service_.vip,
                                "virtual IP (default: allocated from vip_ranges)");

  service_deregister_ = addTarget(
      service.add_subcommand("deregister", "remove a service and its endpoints"), "service name");
  service_show_ =
      addTarget(service.add_subcommand("show", "a service and its endpoints"), "service name");
}

void ApiCommands::addEndpointCommands(CLI::App& app) {
  auto* endpoint = app.add_subcommand("endpoint", "registry endpoints, through weftd's API");
  endpoint->require_subcommand(1);

  auto* reg =
      addTarget(endpoint->add_subcommand("register", "register an endpoint"), "service name");
  endpoint_register_ = reg;
  reg->add_option("--host", endpoint_.host, "IP address of the endpoint")->required();
  reg->add_option("--port", endpoint_.port, "port on the host")
      ->required()
      ->check(CLI::Range(1, 65535));
  reg->add_option("--port-name", endpoint_.port_name, "the service port it serves");
  reg->add_option("--version", endpoint_.version, "version label, e.g. v1");
  reg->add_option("--zone", endpoint_.zone, "zone, e.g. a");
  reg->add_option("--weight", endpoint_.weight, "relative weight")->capture_default_str();
  reg->add_option("--label", endpoint_.labels, "KEY=VALUE, repeatable");
  reg->add_option("--check", endpoint_.check, "none, tcp, http or http:/PATH")
      ->capture_default_str();
  reg->add_option("--expected-status", endpoint_.expected_status, "HTTP check status");
  reg->add_option("--interval", endpoint_.interval, "check interval, e.g. 1s");
  reg->add_option("--timeout", endpoint_.timeout, "check timeout, e.g. 500ms");
  reg->add_option("--healthy-threshold", endpoint_.healthy_threshold,
                  "successes to become healthy");
  reg->add_option("--unhealthy-threshold", endpoint_.unhealthy_threshold,
                  "failures to become unhealthy");
  reg->add_option("--ttl", endpoint_.ttl, "expire without a heartbeat after, e.g. 30s");
  reg->add_flag("--create-service", endpoint_.create_service,
                "register the service (one tcp port) when it does not exist");

  auto by_id = [&](CLI::App* command) {
    command->add_option("ENDPOINT", endpoint_.endpoint_id, "host:port or [v6]:port");
    command->add_option("--host", endpoint_.host, "IP address (instead of ENDPOINT)");
    command->add_option("--port", endpoint_.port, "port (instead of ENDPOINT)");
    return command;
  };
  endpoint_deregister_ = by_id(
      addTarget(endpoint->add_subcommand("deregister", "remove an endpoint"), "service name"));
  endpoint_heartbeat_ = by_id(addTarget(
      endpoint->add_subcommand("heartbeat", "refresh an endpoint's TTL"), "service name"));
  endpoint_list_ = addTarget(
      endpoint->add_subcommand("list", "endpoints of a service with their health"), "service name");
}

bool ApiCommands::parsed() const {
  for (const CLI::App* command :
       {service_register_, service_deregister_, service_show_, endpoint_register_,
        endpoint_deregister_, endpoint_list_, endpoint_heartbeat_}) {
    if (command->parsed()) {
      return true;
    }
  }
  return false;
}

Result<std::string> ApiCommands::serviceBody() const {
  registry::Service service;
  service.name = common_.service;
  service.ns = common_.ns;
  for (const std::string& text : service_.ports) {
    auto port = parseServicePort(text);
    if (!port) {
      return port.error();
    }
    service.ports.push_back(*port);
  }
  // The registry wants every port named once there are several; `--port 80/tcp --port
  // metrics:9090/tcp` names the first "tcp-80" rather than refusing a common command line.
  if (service.ports.size() > 1) {
    for (registry::ServicePort& port : service.ports) {
      if (port.name.empty()) {
        port.name = std::string(protocolName(port.protocol)) + "-" + std::to_string(port.port);
      }
    }
  }
  auto labels = parseLabels(service_.labels, "--label");
  if (!labels) {
    return labels.error();
  }
  service.labels = std::move(*labels);
  if (!algorithmFromName(service_.algorithm, &service.algorithm)) {
    return makeError("--algorithm: \"" + service_.algorithm + "\" is not known");
  }
  if (!service_.vip.empty()) {
    auto vip = IpAddr::parse(service_.vip);
    if (!vip) {
      return makeError("--vip: " + vip.error().message);
    }
    service.vip = *vip;
  }
  return registry::toJson(service).dump();
}

Result<std::string> ApiCommands::endpointBody() const {
  registry::Endpoint endpoint;
  endpoint.service = common_.service;
  endpoint.ns = common_.ns;
  auto host = IpAddr::parse(endpoint_.host);
  if (!host) {
    return makeError("--host: " + host.error().message);
  }
  endpoint.host = *host;
  endpoint.port = static_cast<uint16_t>(endpoint_.port);
  endpoint.port_name = endpoint_.port_name;
  endpoint.version = endpoint_.version;
  endpoint.zone = endpoint_.zone;
  endpoint.weight = endpoint_.weight;
  auto labels = parseLabels(endpoint_.labels, "--label");
  if (!labels) {
    return labels.error();
  }
  endpoint.labels = std::move(*labels);

  registry::HealthCheck& health = endpoint.health;
  if (Status st = parseCheck(endpoint_.check, &health); !st) {
    return st.error();
  }
  if (endpoint_.expected_status) {
    health.expected_status = *endpoint_.expected_status;
  }
  for (auto [flag, text, out] : {std::tuple{"--interval", &endpoint_.interval, &health.interval_ms},
                                 std::tuple{"--timeout", &endpoint_.timeout, &health.timeout_ms}}) {
    if (!text->empty()) {
      auto ms = parseDurationMs(*text, flag);
      if (!ms) {
        return ms.error();
      }
      *out = *ms;
    }
  }
  if (endpoint_.healthy_threshold) {
    health.healthy_threshold = *endpoint_.healthy_threshold;
  }
  if (endpoint_.unhealthy_threshold) {
    health.unhealthy_threshold = *endpoint_.unhealthy_threshold;
  }
  if (!endpoint_.ttl.empty()) {
    auto seconds = parseDurationSeconds(endpoint_.ttl, "--ttl");
    if (!seconds) {
      return seconds.error();
    }
    endpoint.ttl_seconds = *seconds;
  }
  return registry::toJson(endpoint).dump();
}

Result<std::string> ApiCommands::endpointId() const {
  bool by_flags = !endpoint_.host.empty() || endpoint_.port != 0;
  if (!endpoint_.endpoint_id.empty() && by_flags) {
    return makeError("give the endpoint either as ENDPOINT or as --host and --port, not both");
  }
  if (!by_flags) {
    if (endpoint_.endpoint_id.empty()) {
      return makeError("ENDPOINT: missing (host:port, or --host and --port)");
    }
    return endpoint_.endpoint_id;
  }
  auto host = IpAddr::parse(endpoint_.host);
  if (!host) {
    return makeError("--host: " + host.error().message);
  }
  if (endpoint_.port == 0 || endpoint_.port > 65535) {
    return makeError("--port: " + std::to_string(endpoint_.port) + " is not in 1..65535");
  }
  return hostPortId(*host, endpoint_.port);
}

int ApiCommands::run(const api::ClientOptions& options, bool json, std::ostream& out,
                     std::ostream& err) {
  auto fail = [&](const Error& error) {
    err << "weftctl: " << error.message << "\n";
    return 1;
  };
  api::ApiClient client(options);
  const std::string path = api::servicePath(common_.ns, common_.service);
  const std::string qualified = common_.ns + "/" + common_.service;

  // Commands whose reply is an object or list to print.
  auto print = [&](Result<nlohmann::json> reply, auto human) {
    if (!reply) {
      return fail(reply.error());
    }
    if (json) {
      out << reply->dump(2) << "\n";
    } else {
      human(*reply);
    }
    return 0;
  };
  // Commands whose reply is a bare 204.
  auto done = [&](Result<nlohmann::json> reply, nlohmann::json summary, const std::string& msg) {
    if (!reply) {
      return fail(reply.error());
    }
    out << (json ? summary.dump(2) : msg) << "\n";
    return 0;
  };

  if (service_register_->parsed()) {
    auto body = serviceBody();
    if (!body) {
      return fail(body.error());
    }
    return print(client.call("POST", "/v1/services", *body),
                 [&](const nlohmann::json& reply) { printService(out, reply); });
  }
  if (service_deregister_->parsed()) {
    return done(client.call("DELETE", path),
                {{"ns", common_.ns}, {"name", common_.service}, {"deregistered", true}},
                "service " + qualified + " deregistered");
  }
  if (service_show_->parsed()) {
    return print(client.call("GET", path),
                 [&](const nlohmann::json& reply) { printService(out, reply); });
  }
  if (endpoint_register_->parsed()) {
    auto body = endpointBody();
    if (!body) {
      return fail(body.error());
    }
    std::string target = path + "/endpoints";
    if (endpoint_.create_service) {
      target += "?create_service=true";
    }
    return print(client.call("POST", target, *body),
                 [&](const nlohmann::json& reply) { printEndpoint(out, reply); });
  }
  if (endpoint_list_->parsed()) {
    return print(client.call("GET", path + "/endpoints"),
                 [&](const nlohmann::json& reply) { printEndpoints(out, reply); });
  }

  auto id = endpointId();
  if (!id) {
    return fail(id.error());
  }
  std::string endpoint_path = api::endpointPath(common_.ns, common_.service, *id);
  nlohmann::json summary{{"ns", common_.ns}, {"service", common_.service}, {"endpoint", *id}};
  if (endpoint_deregister_->parsed()) {
    summary["deregistered"] = true;
    return done(client.call("DELETE", endpoint_path), summary,
                "endpoint " + *id + " of " + qualified + " deregistered");
  }
  summary["heartbeat"] = true;
  return done(client.call("PUT", endpoint_path + "/heartbeat"), summary,
              "endpoint " + *id + " of " + qualified + ": heartbeat recorded");
}

}  // namespace weft::cli
