// SPDX-License-Identifier: Apache-2.0
// Service routes of the API: create, list, get (with endpoints), update, delete.
#include <algorithm>
#include <tuple>

#include "userspace/api/api_router.h"
#include "userspace/registry/model_json.h"

namespace weft::api {

ApiResponse ApiRouter::createService(const std::string& body) {
  auto json = registry::parseJson(body);
  if (!json) {
    return errorResponse(makeError(json.error().message, kMalformed));
  }
  auto service = registry::serviceFromJson(*json);
  if (!service) {
    return errorResponse(service.error());
  }
  auto stored = registry_->registerService(std::move(*service));
  if (!stored) {
    return errorResponse(stored.error());
  }
  return jsonResponse(201, registry::toJson(*stored));
}

ApiResponse ApiRouter::listServices(const RequestTarget& target) {
  auto stored = registry_->listServices();
  if (!stored) {
    return errorResponse(stored.error());
  }
  auto ns = target.query.find("ns");
  std::vector<const registry::Service*> services;
  for (const registry::Service& service : *stored) {
    if (ns == target.query.end() || service.ns == ns->second) {
      services.push_back(&service);
    }
  }
  std::sort(services.begin(), services.end(), [](const auto* a, const auto* b) {
    return std::tie(a->ns, a->name) < std::tie(b->ns, b->name);
  });

  nlohmann::json body = nlohmann::json::array();
  for (const registry::Service* service : services) {
    body.push_back(registry::toJson(*service));
  }
  return jsonResponse(200, body);
}

ApiResponse ApiRouter::getService(const std::string& ns, const std::string& name) {
  auto service = registry_->getService(ns, name);
  if (!service) {
    return errorResponse(service.error());
  }
  auto endpoints = endpointsJson(ns, name);
  if (!endpoints) {
    return errorResponse(endpoints.error());
  }
  nlohmann::json body = registry::toJson(*service);
  body["endpoints"] = std::move(*endpoints);
  return jsonResponse(200, body);
}

ApiResponse ApiRouter::updateService(const std::string& ns, const std::string& name,
                                     const std::string& body) {
  auto json = bodyForPath(body, "name", ns, name);
  if (!json) {
    return errorResponse(json.error());
  }
  auto service = registry::serviceFromJson(*json);
  if (!service) {
    return errorResponse(service.error());
  }
  auto stored = registry_->updateService(std::move(*service));
  if (!stored) {
    return errorResponse(stored.error());
  }
  return jsonResponse(200, registry::toJson(*stored));
}

ApiResponse ApiRouter::deleteService(const std::string& ns, const std::string& name) {
  Status deleted = registry_->deregisterService(ns, name);
  if (!deleted) {
    return errorResponse(deleted.error());
  }
  picker_->forget(ns, name);
  return ApiResponse{204, {}, {}};
}

}  // namespace weft::api
