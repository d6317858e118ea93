// SPDX-License-Identifier: Apache-2.0
// Service routes of the API: create, list, get (with endpoints), update, patch, delete.
#include <algorithm>
#include <limits>
#include <string>
#include <tuple>

#include "userspace/api/api_router.h"
#include "userspace/registry/model_json.h"
#include "userspace/registry/model_validate.h"

namespace weft::api {
namespace {

constexpr const char* kPatchFields =
    "algorithm, maglev_table_size, hash_key, affinity_timeout_seconds or split";

Error invalidField(const std::string& field, const std::string& what) {
  return makeError(field + ": " + what, registry::kInvalid);
}

// JSON values in messages: strings quoted, containers named by type.
std::string shownValue(const nlohmann::json& value) {
  if (value.is_string()) {
    return registry::quoteValue(value.get<std::string>());
  }
  if (value.is_structured()) {
    return value.is_array() ? "a list" : "an object";
  }
  return value.dump();
}

// An integer in 0..max. Whether a table size is a usable prime is the registry's check.
Result<uint32_t> uint32Field(const std::string& field, const nlohmann::json& value, uint32_t max) {
  if (!value.is_number_integer()) {
    return invalidField(field, shownValue(value) + " is not an integer");
  }
  bool in_range = value.is_number_unsigned()
                      ? value.get<uint64_t>() <= max
                      : value.get<int64_t>() >= 0 && value.get<int64_t>() <= int64_t{max};
  if (!in_range) {
    return invalidField(field, value.dump() + " is not in 0.." + std::to_string(max));
  }
  return value.get<uint32_t>();
}

Status setBalancing(const std::string& key, const nlohmann::json& value,
                    registry::ServicePatch* patch) {
  if (key == "hash_key") {
    HashKey hash_key{};
    if (!value.is_string() || !hashKeyFromName(value.get<std::string>(), &hash_key)) {
      return invalidField(key, shownValue(value) + " is not one of client_addr, client_addr_port");
    }
    patch->hash_key = hash_key;
    return {};
  }
  bool table = key == "maglev_table_size";
  auto number = uint32Field(
      key, value, table ? std::numeric_limits<uint32_t>::max() : registry::kMaxAffinitySeconds);
  if (!number) {
    return number.error();
  }
  (table ? patch->maglev_table_size : patch->affinity_timeout_seconds) = *number;
  return {};
}

// {"algorithm": "maglev", "maglev_table_size": 251, "hash_key": "client_addr",
// "affinity_timeout_seconds": 30, "split": {...} | null}: at least one of them, nothing else.
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
    } else if (item.key() == "maglev_table_size" || item.key() == "hash_key" ||
               item.key() == "affinity_timeout_seconds") {
      if (auto st = setBalancing(item.key(), item.value(), &patch); !st) {
        return st.error();
      }
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
                          "unknown field; a service patch has " + std::string(kPatchFields));
    }
  }
  if (!patch.algorithm && !patch.set_split && !patch.maglev_table_size && !patch.hash_key &&
      !patch.affinity_timeout_seconds) {
    return invalidField("body", "nothing to change; give " + std::string(kPatchFields));
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
