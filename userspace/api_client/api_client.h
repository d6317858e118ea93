// SPDX-License-Identifier: Apache-2.0
// Synchronous client of weftd's local HTTP/JSON API, for weftctl and the C API. Calls
// return the server's error message and a registry error code (kInvalid, kNotFound,
// kConflict) so callers can tell bad input from a missing service.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "userspace/api_client/client_options.h"
#include "userspace/common/result.h"
#include "userspace/registry/model.h"

namespace weft::api {

class HttpConnection;

struct EndpointStatus {
  registry::Endpoint endpoint;
  bool healthy = false;  // usable for traffic: passing its checks and not expired
};

struct ServiceDetail {
  registry::Service service;
  std::vector<EndpointStatus> endpoints;
};

// Thread-safe: calls are serialised over one kept-alive connection, opened on first use.
// Error codes: the registry's kInvalid (400), kNotFound (404), kConflict (409); E2BIG (413);
// EAGAIN (503, e.g. no healthy endpoint to discover); ECONNREFUSED when weftd cannot be
// reached, ETIMEDOUT, EIO or EPROTO for transport trouble; EPROTO for other statuses.
class ApiClient {
 public:
  explicit ApiClient(ClientOptions options = {});
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  Result<registry::Service> registerService(const registry::Service& service);
  Result<registry::Service> updateService(const registry::Service& service);
  Status deregisterService(const std::string& ns, const std::string& name);
  // All services, or those of one namespace when `ns` is not empty; sorted by ns and name.
  Result<std::vector<registry::Service>> listServices(const std::string& ns = "");
  Result<ServiceDetail> getService(const std::string& ns, const std::string& name);

  // With `create_service`, a missing service is created balanced with `created_algorithm`.
  Result<registry::Endpoint> registerEndpoint(const registry::Endpoint& endpoint,
                                              bool create_service = false,
                                              weft_lb_algo created_algorithm = WEFT_LB_ROUND_ROBIN);
  // `endpoint_id` is "host:port" or "[v6]:port" (Endpoint::id()).
  Status deregisterEndpoint(const std::string& ns, const std::string& service,
                            const std::string& endpoint_id);
  Status heartbeat(const std::string& ns, const std::string& service,
                   const std::string& endpoint_id);
  Result<std::vector<EndpointStatus>> listEndpoints(const std::string& ns,
                                                    const std::string& service);
  // One usable endpoint picked with the service's algorithm.
  Result<registry::Endpoint> discover(const std::string& ns, const std::string& service);

  // GET /v1/status as sent by the server.
  Result<nlohmann::json> status();

  // Any route: the parsed body of a 2xx reply (null for an empty one), else the server's
  // error. `target` is the path and query, already percent-encoded.
  Result<nlohmann::json> call(std::string_view method, const std::string& target,
                              const std::string& body = "");

 private:
  std::mutex mu_;
  std::unique_ptr<HttpConnection> connection_;
};

// Path of a service ("/v1/services/default/web"), segments percent-encoded.
std::string servicePath(const std::string& ns, const std::string& name);
// Path of one endpoint ("/v1/services/default/web/endpoints/%5B%3A%3A1%5D%3A80").
std::string endpointPath(const std::string& ns, const std::string& service,
                         const std::string& endpoint_id);

}  // namespace weft::api
