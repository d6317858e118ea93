// SPDX-License-Identifier: Apache-2.0
// Endpoint routes of the API: register, list, patch (weight, drain), deregister, heartbeat,
// and discovery.
#include <algorithm>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "userspace/api/api_router.h"
#include "userspace/registry/model_json.h"
#include "userspace/registry/model_validate.h"

namespace weft::api {
namespace {

// Path ids are parsed and printed again, so "[fd00:0::1]:80" finds "[fd00::1]:80".
Result<std::string> canonicalId(const std::string& id) {
  auto parsed = parseHostPort(id, "endpoint");
  if (!parsed) {
    return parsed.error();
  }
  registry::Endpoint endpoint;
  endpoint.host = parsed->host;
  endpoint.port = parsed->port;
  return endpoint.id();
}

Result<bool> flag(const RequestTarget& target, const std::string& key) {
  auto it = target.query.find(key);
  if (it == target.query.end() || it->second == "false" || it->second == "0") {
    return false;
  }
  if (it->second == "true" || it->second == "1" || it->second.empty()) {
    return true;
  }
  return makeError(key + ": " + registry::quoteValue(it->second) + " is not true or false",
                   registry::kInvalid);
}

// {"weight": 0..65535, "drained": bool}: at least one of them, nothing else.
Result<registry::EndpointPatch> endpointPatchFromJson(const std::string& body) {
  auto json = registry::parseJson(body);
  if (!json) {
    return makeError(json.error().message, kMalformed);
  }
  if (!json->is_object()) {
    return makeError("body: expected a JSON object", registry::kInvalid);
  }
  registry::EndpointPatch patch;
  for (const auto& item : json->items()) {
    const nlohmann::json& value = item.value();
    if (item.key() == "weight") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() > registry::kMaxWeight) {
        return makeError(
            fmt::format("weight: {} is not in 0..{}", value.dump(), registry::kMaxWeight),
            registry::kInvalid);
      }
      patch.weight = value.get<uint32_t>();
    } else if (item.key() == "drained") {
      if (!value.is_boolean()) {
        return makeError("drained: " + value.dump() + " is not true or false", registry::kInvalid);
      }
      patch.drained = value.get<bool>();
    } else {
      return makeError(
          item.key().substr(0, 80) + ": unknown field; an endpoint patch has weight and drained",
          registry::kInvalid);
    }
  }
  if (!patch.weight && !patch.drained) {
    return makeError("body: nothing to change; give weight or drained", registry::kInvalid);
  }
  return patch;
}

}  // namespace

Result<nlohmann::json> ApiRouter::endpointsJson(const std::string& ns, const std::string& name) {
  // Keyed reads of this one service: the cost does not grow with the registry.
  auto usable = registry_->usableEndpoints(ns, name, *health_);
  if (!usable) {
    return usable.error();
  }
  auto all = registry_->listEndpoints(ns, name);
  if (!all) {
    return all.error();
  }
  std::set<std::string> usable_ids;
  for (const registry::Endpoint& endpoint : *usable) {
    usable_ids.insert(endpoint.id());
  }

  std::vector<const registry::Endpoint*> endpoints;
  for (const registry::Endpoint& endpoint : *all) {
    endpoints.push_back(&endpoint);
  }
  std::sort(endpoints.begin(), endpoints.end(), [](const auto* a, const auto* b) {
    return std::tie(a->host, a->port) < std::tie(b->host, b->port);
  });

  nlohmann::json out = nlohmann::json::array();
  for (const registry::Endpoint* endpoint : endpoints) {
    nlohmann::json row = registry::toJson(*endpoint);
    row["id"] = endpoint->id();
    row["healthy"] = usable_ids.count(endpoint->id()) > 0;
    out.push_back(std::move(row));
  }
  return out;
}

ApiResponse ApiRouter::registerEndpoint(const std::string& ns, const std::string& name,
                                        const RequestTarget& target, const std::string& body) {
  auto create_service = flag(target, "create_service");
  if (!create_service) {
    return errorResponse(create_service.error());
  }
  // The algorithm of a service this call creates (the C API passes its mesh's setting).
  weft_lb_algo algorithm = WEFT_LB_ROUND_ROBIN;
  if (auto it = target.query.find("algorithm");
      it != target.query.end() && !algorithmFromName(it->second, &algorithm)) {
    return errorResponse(makeError("algorithm: " + registry::quoteValue(it->second) +
                                       " is not one of " + registry::algorithmNames(),
                                   registry::kInvalid));
  }
  auto json = bodyForPath(body, "service", ns, name);
  if (!json) {
    return errorResponse(json.error());
  }
  auto endpoint = registry::endpointFromJson(*json);
  if (!endpoint) {
    return errorResponse(endpoint.error());
  }
  auto stored = registry_->registerEndpoint(std::move(*endpoint), *create_service, algorithm);
  if (!stored) {
    return errorResponse(stored.error());
  }
  nlohmann::json out = registry::toJson(*stored);
  out["id"] = stored->id();
  return jsonResponse(201, out);
}

ApiResponse ApiRouter::listEndpoints(const std::string& ns, const std::string& name) {
  auto endpoints = endpointsJson(ns, name);
  if (!endpoints) {
    return errorResponse(endpoints.error());
  }
  return jsonResponse(200, *endpoints);
}

ApiResponse ApiRouter::deregisterEndpoint(const std::string& ns, const std::string& name,
                                          const std::string& id) {
  auto canonical = canonicalId(id);
  if (!canonical) {
    return errorResponse(canonical.error());
  }
  Status deleted = registry_->deregisterEndpoint(ns, name, *canonical);
  if (!deleted) {
    return errorResponse(deleted.error());
  }
  return ApiResponse{204, {}, {}};
}

ApiResponse ApiRouter::patchEndpoint(const std::string& ns, const std::string& name,
                                     const std::string& id, const std::string& body) {
  auto canonical = canonicalId(id);
  if (!canonical) {
    return errorResponse(canonical.error());
  }
  auto patch = endpointPatchFromJson(body);
  if (!patch) {
    return errorResponse(patch.error());
  }
  auto stored = registry_->patchEndpoint(ns, name, *canonical, *patch);
  if (!stored) {
    return errorResponse(stored.error());
  }
  nlohmann::json out = registry::toJson(*stored);
  out["id"] = stored->id();
  return jsonResponse(200, out);
}

ApiResponse ApiRouter::heartbeat(const std::string& ns, const std::string& name,
                                 const std::string& id) {
  auto canonical = canonicalId(id);
  if (!canonical) {
    return errorResponse(canonical.error());
  }
  Status refreshed = registry_->heartbeat(ns, name, *canonical);
  if (!refreshed) {
    return errorResponse(refreshed.error());
  }
  return ApiResponse{204, {}, {}};
}

ApiResponse ApiRouter::discover(const std::string& ns, const std::string& name) {
  auto usable = registry_->usableEndpoints(ns, name, *health_);
  if (!usable) {
    return errorResponse(usable.error());
  }
  // The algorithm lives on the service; an empty usable set needs no snapshot at all.
  if (usable->empty()) {
    return errorResponse(503, kCodeUnavailable,
                         "service " + ns + "/" + name + " has no healthy endpoint");
  }
  auto service = registry_->getService(ns, name);
  if (!service) {
    return errorResponse(service.error());
  }
  auto picked = picker_->pick(*service, std::move(*usable));
  if (!picked) {
    return errorResponse(503, kCodeUnavailable,
                         "service " + ns + "/" + name + " has no healthy endpoint");
  }
  nlohmann::json out = registry::toJson(*picked);
  out["id"] = picked->id();
  return jsonResponse(200, out);
}

}  // namespace weft::api
