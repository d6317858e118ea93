// SPDX-License-Identifier: Apache-2.0
// Typed calls of the API client over HttpConnection, decoding with model_json.
#include "userspace/api_client/api_client.h"

#include <cerrno>

#include "userspace/api_client/http_connection.h"
#include "userspace/registry/model_json.h"
#include "userspace/registry/registry.h"

namespace weft::api {
namespace {

std::string encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

int codeForStatus(int status) {
  switch (status) {
    case 400:
      return registry::kInvalid;
    case 404:
      return registry::kNotFound;
    case 409:
      return registry::kConflict;
    case 413:
      return E2BIG;
    case 503:
      return EAGAIN;
    default:
      return EPROTO;
  }
}

Error serverError(int status, const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_discarded() && json.is_object() && json.contains("error") &&
      json["error"].is_object() && json["error"].contains("message") &&
      json["error"]["message"].is_string()) {
    return makeError(json["error"]["message"].get<std::string>(), codeForStatus(status));
  }
  return makeError("weft API answered HTTP " + std::to_string(status) + " without an error body",
                   codeForStatus(status));
}

Error badReply(const std::string& what, const Error& error) {
  return makeError("weft API sent " + what + " the client cannot read: " + error.message, EPROTO);
}

// Server-added fields that are not part of the model ("id", "healthy", "endpoints").
nlohmann::json withoutExtras(nlohmann::json json) {
  if (json.is_object()) {
    json.erase("id");
    json.erase("healthy");
    json.erase("endpoints");
  }
  return json;
}

Result<registry::Service> decodeService(const nlohmann::json& json) {
  auto service = registry::serviceFromJson(withoutExtras(json));
  if (!service) {
    return badReply("a service", service.error());
  }
  return service;
}

Result<EndpointStatus> decodeEndpointStatus(const nlohmann::json& json) {
  auto endpoint = registry::endpointFromJson(withoutExtras(json));
  if (!endpoint) {
    return badReply("an endpoint", endpoint.error());
  }
  EndpointStatus out{std::move(*endpoint), false};
  if (json.is_object() && json.contains("healthy") && json["healthy"].is_boolean()) {
    out.healthy = json["healthy"].get<bool>();
  }
  return out;
}

Result<std::vector<EndpointStatus>> decodeEndpointList(const nlohmann::json& json) {
  if (!json.is_array()) {
    return makeError("weft API sent an endpoint list that is not a list", EPROTO);
  }
  std::vector<EndpointStatus> out;
  for (const auto& item : json) {
    auto endpoint = decodeEndpointStatus(item);
    if (!endpoint) {
      return endpoint.error();
    }
    out.push_back(std::move(*endpoint));
  }
  return out;
}

Status toStatus(const Result<nlohmann::json>& reply) {
  if (!reply) {
    return reply.error();
  }
  return {};
}

}  // namespace

std::string servicePath(const std::string& ns, const std::string& name) {
  return "/v1/services/" + encode(ns) + "/" + encode(name);
}

std::string endpointPath(const std::string& ns, const std::string& service,
                         const std::string& endpoint_id) {
  return servicePath(ns, service) + "/endpoints/" + encode(endpoint_id);
}

ApiClient::ApiClient(ClientOptions options)
    : connection_(std::make_unique<HttpConnection>(std::move(options))) {}

ApiClient::~ApiClient() = default;

Result<nlohmann::json> ApiClient::call(std::string_view method, const std::string& target,
                                       const std::string& body) {
  Result<HttpReply> reply = [&] {
    std::lock_guard lock(mu_);
    return connection_->roundTrip(method, target, body);
  }();
  if (!reply) {
    return reply.error();
  }
  if (reply->status < 200 || reply->status > 299) {
    return serverError(reply->status, reply->body);
  }
  if (reply->body.empty()) {
    return nlohmann::json();
  }
  auto json = nlohmann::json::parse(reply->body, nullptr, false);
  if (json.is_discarded()) {
    return makeError("weft API sent a reply that is not JSON", EPROTO);
  }
  return json;
}

Result<registry::Service> ApiClient::registerService(const registry::Service& service) {
  auto reply = call("POST", "/v1/services", registry::toJson(service).dump());
  if (!reply) {
    return reply.error();
  }
  return decodeService(*reply);
}

Result<registry::Service> ApiClient::updateService(const registry::Service& service) {
  auto reply = call("PUT", servicePath(service.ns, service.name), registry::toJson(service).dump());
  if (!reply) {
    return reply.error();
  }
  return decodeService(*reply);
}

Status ApiClient::deregisterService(const std::string& ns, const std::string& name) {
  return toStatus(call("DELETE", servicePath(ns, name)));
}

Result<std::vector<registry::Service>> ApiClient::listServices(const std::string& ns) {
  std::string target = "/v1/services";
  if (!ns.empty()) {
    target += "?ns=" + encode(ns);
  }
  auto reply = call("GET", target);
  if (!reply) {
    return reply.error();
  }
  if (!reply->is_array()) {
    return makeError("weft API sent a service list that is not a list", EPROTO);
  }
  std::vector<registry::Service> out;
  for (const auto& item : *reply) {
    auto service = decodeService(item);
    if (!service) {
      return service.error();
    }
    out.push_back(std::move(*service));
  }
  return out;
}

Result<ServiceDetail> ApiClient::getService(const std::string& ns, const std::string& name) {
  auto reply = call("GET", servicePath(ns, name));
  if (!reply) {
    return reply.error();
  }
  auto service = decodeService(*reply);
  if (!service) {
    return service.error();
  }
  ServiceDetail out{std::move(*service), {}};
  if (reply->contains("endpoints")) {
    auto endpoints = decodeEndpointList((*reply)["endpoints"]);
    if (!endpoints) {
      return endpoints.error();
    }
    out.endpoints = std::move(*endpoints);
  }
  return out;
}

Result<registry::Endpoint> ApiClient::registerEndpoint(const registry::Endpoint& endpoint,
                                                       bool create_service,
                                                       weft_lb_algo created_algorithm) {
  std::string target = servicePath(endpoint.ns, endpoint.service) + "/endpoints";
  if (create_service) {
    target += "?create_service=true";
    if (created_algorithm != WEFT_LB_ROUND_ROBIN) {
      target += std::string("&algorithm=") + algorithmName(created_algorithm);
    }
  }
  auto reply = call("POST", target, registry::toJson(endpoint).dump());
  if (!reply) {
    return reply.error();
  }
  auto decoded = decodeEndpointStatus(*reply);
  if (!decoded) {
    return decoded.error();
  }
  return std::move(decoded->endpoint);
}

Status ApiClient::deregisterEndpoint(const std::string& ns, const std::string& service,
                                     const std::string& endpoint_id) {
  return toStatus(call("DELETE", endpointPath(ns, service, endpoint_id)));
}

Status ApiClient::heartbeat(const std::string& ns, const std::string& service,
                            const std::string& endpoint_id) {
  return toStatus(call("PUT", endpointPath(ns, service, endpoint_id) + "/heartbeat"));
}

Result<std::vector<EndpointStatus>> ApiClient::listEndpoints(const std::string& ns,
                                                             const std::string& service) {
  auto reply = call("GET", servicePath(ns, service) + "/endpoints");
  if (!reply) {
    return reply.error();
  }
  return decodeEndpointList(*reply);
}

Result<registry::Endpoint> ApiClient::discover(const std::string& ns, const std::string& service) {
  auto reply = call("GET", "/v1/discover/" + encode(ns) + "/" + encode(service));
  if (!reply) {
    return reply.error();
  }
  auto decoded = decodeEndpointStatus(*reply);
  if (!decoded) {
    return decoded.error();
  }
  return std::move(decoded->endpoint);
}

Result<nlohmann::json> ApiClient::status() {
  return call("GET", "/v1/status");
}

}  // namespace weft::api
