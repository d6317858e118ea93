// SPDX-License-Identifier: Apache-2.0
// Service routes of the API: create, list, get (with endpoints), update, patch, delete.
#include <algorithm>
#include <tuple>

#include "userspace/api/api_router.h"
#include "userspace/registry/model_json.h"
#include "userspace/registry/model_validate.h"

namespace weft::api {
namespace {

Error invalidField(const std::string& field, const std::string& what) {
  return makeError(field + ": " + what, registry::kInvalid);
}

// {"algorithm": "weighted", "split": {...} | null}: at least one of them, nothing else.
Result<registry::ServicePatch> servicePatchFromJson(const std::string& body) {
  auto json = registry::parseJson(body);
  if (!json) {
    return makeError(json.error().message, kMalformed);
  }
  if (!json->is_object()) {
    return invalidField("body", "expected a JSON object");
  }
  registry::ServicePatch patch;
  for (const auto& item : json->items()) {
    if (item.key() == "algorithm") {
      weft_lb_algo algorithm{};
      if (!item.value().is_string() ||
          !algorithmFromName(item.value().get<std::string>(), &algorithm)) {
        std::string shown = item.value().is_string()
                                ? registry::quoteValue(item.value().get<std::string>())
                                : std::string("a ") + item.value().type_name();
        return invalidField("algorithm", shown + " is not one of " + registry::algorithmNames());
      }
      patch.algorithm = algorithm;
    } else if (item.key() == "split") {
      patch.set_split = true;
      if (!item.value().is_null()) {
        auto split = registry::splitFromJson(item.value());
        if (!split) {
          return split.error();
        }
        patch.split = std::move(*split);
      }
    } else {
      return invalidField(item.key().substr(0, 80),
                          "unknown field; a service patch has algorithm and split");
    }
  }
  if (!patch.algorithm && !patch.set_split) {
    return invalidField("body", "nothing to change; give algorithm or split");
  }
  return patch;
}

}  // namespace

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

ApiResponse ApiRouter::patchService(const std::string& ns, const std::string& name,
                                    const std::string& body) {
  auto patch = servicePatchFromJson(body);
  if (!patch) {
    return errorResponse(patch.error());
  }
  auto stored = registry_->patchService(ns, name, *patch);
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
