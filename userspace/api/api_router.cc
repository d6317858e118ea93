// SPDX-License-Identifier: Apache-2.0
// Path matching and dispatch for the API, plus the status route.
#include "userspace/api/api_router.h"

#include <exception>

#include "userspace/registry/model_json.h"
#include "userspace/registry/model_validate.h"

namespace weft::api {
namespace {

constexpr char kNamespacePrefix[] = "v1";

bool is(const std::vector<std::string>& s, size_t size) {
  return s.size() == size && s[0] == kNamespacePrefix;
}

ApiResponse methodNotAllowed(const ApiRequest& request, const std::string& path,
                             const std::string& allow) {
  ApiResponse out = errorResponse(
      405, kCodeMethod,
      "method " + request.method + " is not allowed on " + path + "; allowed: " + allow);
  out.allow = allow;
  return out;
}

}  // namespace

ApiRouter::ApiRouter(registry::Registry& registry, const registry::HealthView& health,
                     std::string version)
    : registry_(&registry),
      health_(&health),
      version_(std::move(version)),
      picker_(std::make_unique<EndpointPicker>()) {}

ApiResponse ApiRouter::handle(const ApiRequest& request) noexcept {
  try {
    auto target = parseTarget(request.target);
    if (!target) {
      return errorResponse(400, kCodeBadRequest, target.error().message);
    }
    return route(request, *target);
  } catch (const std::exception& e) {
    return errorResponse(500, kCodeInternal, std::string("internal error: ") + e.what());
  } catch (...) {
    return errorResponse(500, kCodeInternal, "internal error");
  }
}

ApiResponse ApiRouter::route(const ApiRequest& request, const RequestTarget& target) {
  const Segments& s = target.segments;
  const std::string& m = request.method;
  std::string path = request.target.substr(0, request.target.find('?'));

  if (is(s, 2) && s[1] == "status") {
    return m == "GET" ? status() : methodNotAllowed(request, path, "GET");
  }
  if (is(s, 2) && s[1] == "services") {
    if (m == "GET") {
      return listServices(target);
    }
    return m == "POST" ? createService(request.body) : methodNotAllowed(request, path, "GET, POST");
  }
  if (is(s, 4) && s[1] == "services") {
    if (m == "GET") {
      return getService(s[2], s[3]);
    }
    if (m == "PUT") {
      return updateService(s[2], s[3], request.body);
    }
    if (m == "PATCH") {
      return patchService(s[2], s[3], request.body);
    }
    return m == "DELETE" ? deleteService(s[2], s[3])
                         : methodNotAllowed(request, path, "GET, PUT, PATCH, DELETE");
  }
  if (is(s, 5) && s[1] == "services" && s[4] == "endpoints") {
    if (m == "GET") {
      return listEndpoints(s[2], s[3]);
    }
    return m == "POST" ? registerEndpoint(s[2], s[3], target, request.body)
                       : methodNotAllowed(request, path, "GET, POST");
  }
  if (is(s, 6) && s[1] == "services" && s[4] == "endpoints") {
    if (m == "PATCH") {
      return patchEndpoint(s[2], s[3], s[5], request.body);
    }
    return m == "DELETE" ? deregisterEndpoint(s[2], s[3], s[5])
                         : methodNotAllowed(request, path, "PATCH, DELETE");
  }
  if (is(s, 7) && s[1] == "services" && s[4] == "endpoints" && s[6] == "heartbeat") {
    return m == "PUT" ? heartbeat(s[2], s[3], s[5]) : methodNotAllowed(request, path, "PUT");
  }
  if (is(s, 4) && s[1] == "discover") {
    return m == "GET" ? discover(s[2], s[3]) : methodNotAllowed(request, path, "GET");
  }
  return errorResponse(404, kCodeNotFound, "no route for " + m + " " + path);
}

ApiResponse ApiRouter::status() {
  auto snap = registry_->snapshot();
  if (!snap) {
    return errorResponse(snap.error());
  }
  size_t passing = 0;
  for (const registry::Endpoint& endpoint : snap->endpoints) {
    passing += health_->healthy(endpoint) ? 1 : 0;
  }
  nlohmann::json body;
  body["version"] = version_;
  body["services"] = snap->services.size();
  body["endpoints"] = snap->endpoints.size();
  // The checker's view only; TTL expiry shows per endpoint in the endpoint list.
  body["healthy_endpoints"] = passing;
  body["revision"] = snap->revision;
  return jsonResponse(200, body);
}

Result<nlohmann::json> bodyForPath(const std::string& body, const char* name_key,
                                   const std::string& ns, const std::string& name) {
  auto json = registry::parseJson(body);
  if (!json) {
    return makeError(json.error().message, kMalformed);
  }
  if (!json->is_object()) {
    return makeError("body: expected a JSON object", registry::kInvalid);
  }

  for (auto [key, wanted] : {std::pair<const char*, const std::string*>{name_key, &name},
                             std::pair<const char*, const std::string*>{"ns", &ns}}) {
    auto it = json->find(key);
    if (it == json->end()) {
      (*json)[key] = *wanted;
    } else if (!it->is_string() || it->get<std::string>() != *wanted) {
      std::string shown = it->is_string() ? registry::quoteValue(it->get<std::string>())
                                          : std::string("a ") + it->type_name();
      return makeError(std::string(key) + ": " + shown + " does not match the path's " +
                           registry::quoteValue(*wanted),
                       registry::kInvalid);
    }
  }
  return json;
}

}  // namespace weft::api
