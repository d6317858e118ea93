// SPDX-License-Identifier: Apache-2.0
// The registry: validated operations on services and endpoints over a Store, VIP
// allocation, and the view the data path needs (usable endpoints per service port).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "userspace/common/result.h"
#include "userspace/config/agent_config.h"
#include "userspace/registry/model.h"
#include "userspace/registry/store.h"

namespace weft::registry {

// Error codes carried in weft::Error::code so the API can map them to HTTP statuses.
inline constexpr int kInvalid = 22;   // EINVAL -> 400
inline constexpr int kNotFound = 2;   // ENOENT -> 404
inline constexpr int kConflict = 17;  // EEXIST -> 409

// Services and endpoints weftd declares from its config file carry this label; the file owns
// their algorithm and weights (the same names as in userspace/agent/config_seed.h).
inline constexpr const char* kSourceLabel = "weft.io/source";
inline constexpr const char* kSourceConfig = "config";

// Live edits of one service: only the fields that are set change.
struct ServicePatch {
  std::optional<weft_lb_algo> algorithm;
  std::optional<uint32_t> maglev_table_size;
  std::optional<HashKey> hash_key;
  std::optional<uint32_t> affinity_timeout_seconds;
  bool set_split = false;             // when true, `split` replaces the service's split
  std::optional<TrafficSplit> split;  // nullopt with set_split clears it
};

// Live edits of one endpoint: only the fields that are set change.
struct EndpointPatch {
  std::optional<uint32_t> weight;
  std::optional<bool> drained;
};

// Health as the local checker sees it; endpoints without a check are always healthy.
class HealthView {
 public:
  virtual ~HealthView() = default;
  virtual bool healthy(const Endpoint& endpoint) const = 0;
};

// Thread-safe: serialises its own read-modify-write sequences.
class Registry {
 public:
  // `now_ms` returns wall-clock milliseconds (injected for tests).
  Registry(Store& store, std::vector<Cidr> vip_ranges, std::function<int64_t()> now_ms);

  // Validates every field (names are DNS labels, ports 1..65535, protocol tcp/udp, at most
  // 16 ports, label keys/values bounded); allocates a VIP from the ranges when none is given
  // (a given VIP must lie in a range and be free). Errors name the field and the value.
  Result<Service> registerService(Service service);
  // Replaces ports, labels, algorithm and split (absent: none); the VIP never changes.
  Result<Service> updateService(Service service);
  Status deregisterService(const std::string& ns, const std::string& name);
  // One read and one write, so the data path sees the change as one backend-set flip (a
  // blue-green switch is one patch of the split). Changing the algorithm, Maglev table size,
  // hash key or affinity timeout of a service declared in the config file is kConflict: the
  // file would set it back on reload.
  Result<Service> patchService(const std::string& ns, const std::string& name,
                               const ServicePatch& patch);

  // Unknown service -> kNotFound unless `create_service` (then a service with one port,
  // endpoint's port, tcp, balanced with `created_algorithm`, is registered first; an existing
  // service keeps its algorithm). Duplicate host:port -> kConflict.
  Result<Endpoint> registerEndpoint(Endpoint endpoint, bool create_service = false,
                                    weft_lb_algo created_algorithm = WEFT_LB_ROUND_ROBIN);
  Status deregisterEndpoint(const std::string& ns, const std::string& service,
                            const std::string& endpoint_id);
  // Refreshes last_heartbeat_ms of a TTL endpoint.
  Status heartbeat(const std::string& ns, const std::string& service,
                   const std::string& endpoint_id);
  // Weight and drain. Config-declared endpoints may be drained (declare() keeps the drain
  // across reloads) but their weight is the file's: changing it is kConflict.
  Result<Endpoint> patchEndpoint(const std::string& ns, const std::string& service,
                                 const std::string& endpoint_id, const EndpointPatch& patch);

  Result<Snapshot> snapshot();
  // Keyed reads straight from the store; kNotFound when the service does not exist.
  Result<Service> getService(const std::string& ns, const std::string& name);
  // Every service, sorted by ns and name, without reading any endpoint.
  Result<std::vector<Service>> listServices();
  // The endpoints of one service; empty when it has none or does not exist.
  Result<std::vector<Endpoint>> listEndpoints(const std::string& ns, const std::string& name);

  // Writes declared content (the config file's services, with their VIPs given, and their
  // endpoints) in one store batch after validating all of it; nothing is written when any
  // item is rejected. Existing services keep their VIP; a different one is an error. Live
  // edits the file does not express survive: a stored service's split and a stored
  // endpoint's drain are carried over.
  Status declare(const std::vector<Service>& services, const std::vector<Endpoint>& endpoints);

  // Endpoints of the service that are healthy, not expired and not drained (weight 0), for
  // discovery: the same rule as toServiceConfigs (endpoint_usable.h).
  Result<std::vector<Endpoint>> usableEndpoints(const std::string& ns, const std::string& name,
                                                const HealthView& health);

 private:
  Result<Service> registerServiceLocked(Service service, uint8_t preferred_family);
  Result<Service> storeWithAllocatedVip(Service service, uint8_t preferred_family);

  std::mutex mutex_;
  Store& store_;
  std::vector<Cidr> vip_ranges_;
  std::function<int64_t()> now_ms_;
};

// The data path's view of a snapshot: one ServiceConfig per service port, named
// "<name>.<ns>" (with ":<port name>" when the service has several ports), holding the usable
// endpoints that serve that port and, marked draining, the drained ones that are otherwise
// usable (endpointDraining). Backends are sorted by address and port. Pure function.
std::vector<ServiceConfig> toServiceConfigs(const Snapshot& snapshot, const HealthView& health,
                                            int64_t now_ms);
// The same for one service and its endpoints (endpoints of other services are ignored);
// empty when the service has no VIP.
std::vector<ServiceConfig> toServiceConfigs(const Service& service,
                                            const std::vector<Endpoint>& endpoints,
                                            const HealthView& health, int64_t now_ms);

}  // namespace weft::registry
