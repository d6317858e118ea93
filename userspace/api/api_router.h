// SPDX-License-Identifier: Apache-2.0
// The API's routes: maps a method and path to a Registry call and its result to a status
// and JSON body. Knows nothing of HTTP framing, so tests drive it without sockets.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "userspace/api/api_response.h"
#include "userspace/api/endpoint_picker.h"
#include "userspace/api/request_target.h"
#include "userspace/registry/registry.h"

namespace weft::api {

// Routes (JSON bodies use model_json.h; errors are {"error":{"code","message"}}):
//   POST   /v1/services                                   Service -> 201 Service
//   GET    /v1/services[?ns=NS]                           -> 200 [Service]
//   GET    /v1/services/{ns}/{name}                       -> 200 Service + "endpoints"
//   PUT    /v1/services/{ns}/{name}                       Service -> 200 Service
//   PATCH  /v1/services/{ns}/{name}                       {"algorithm"?, "split"?} -> 200
//          Service; "split": null clears it. Live edits: one registry write, one map flip.
//   DELETE /v1/services/{ns}/{name}                       -> 204
//   POST   /v1/services/{ns}/{name}/endpoints[?create_service=true]  Endpoint -> 201
//   GET    /v1/services/{ns}/{name}/endpoints             -> 200 [Endpoint + "healthy"]
//   DELETE /v1/services/{ns}/{name}/endpoints/{host:port} -> 204
//   PATCH  /v1/services/{ns}/{name}/endpoints/{host:port} {"weight"?, "drained"?} -> 200
//          Endpoint. Fields of a config-declared item the config file owns (a service's
//          algorithm, an endpoint's weight) -> 409 conflict; an empty patch -> 400.
//   PUT    /v1/services/{ns}/{name}/endpoints/{host:port}/heartbeat -> 204
//   GET    /v1/discover/{ns}/{name}                       -> 200 Endpoint, 503 when none usable
//   GET    /v1/status                                     -> 200 counts and version
// A failed call leaves the registry as it was: every route makes at most one mutating call.
class ApiRouter {
 public:
  // `registry` and `health` must outlive the router.
  ApiRouter(registry::Registry& registry, const registry::HealthView& health, std::string version);

  // Never throws: an unexpected exception becomes a 500 with its message. Thread-safe as
  // far as Registry is; the agent calls it from its io thread only.
  ApiResponse handle(const ApiRequest& request) noexcept;

 private:
  using Segments = std::vector<std::string>;

  ApiResponse route(const ApiRequest& request, const RequestTarget& target);
  ApiResponse status();

  // service_routes.cc
  ApiResponse createService(const std::string& body);
  ApiResponse listServices(const RequestTarget& target);
  ApiResponse getService(const std::string& ns, const std::string& name);
  ApiResponse updateService(const std::string& ns, const std::string& name,
                            const std::string& body);
  ApiResponse deleteService(const std::string& ns, const std::string& name);
  ApiResponse patchService(const std::string& ns, const std::string& name, const std::string& body);

  // endpoint_routes.cc
  ApiResponse registerEndpoint(const std::string& ns, const std::string& name,
                               const RequestTarget& target, const std::string& body);
  ApiResponse listEndpoints(const std::string& ns, const std::string& name);
  ApiResponse deregisterEndpoint(const std::string& ns, const std::string& name,
                                 const std::string& id);
  ApiResponse heartbeat(const std::string& ns, const std::string& name, const std::string& id);
  ApiResponse patchEndpoint(const std::string& ns, const std::string& name, const std::string& id,
                            const std::string& body);
  ApiResponse discover(const std::string& ns, const std::string& name);
  // The service's endpoints, each with "healthy" (usable for traffic: passing its checks,
  // not expired, not drained and not of weight 0). Fails with kNotFound for an unknown service.
  Result<nlohmann::json> endpointsJson(const std::string& ns, const std::string& name);

  registry::Registry* registry_;
  const registry::HealthView* health_;
  std::string version_;
  std::unique_ptr<EndpointPicker> picker_;  // behind a pointer: it holds a mutex, routers move
};

// Parses a request body as a JSON object and makes its `name_key` and "ns" agree with the
// path: absent fields are filled in, different ones are a kInvalid error naming both.
Result<nlohmann::json> bodyForPath(const std::string& body, const char* name_key,
                                   const std::string& ns, const std::string& name);

}  // namespace weft::api
