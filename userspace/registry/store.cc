// SPDX-License-Identifier: Apache-2.0
// Default keyed reads over snapshot(), for stores that have no cheaper way.
#include "userspace/registry/store.h"

#include <algorithm>

#include <fmt/format.h>

#include "userspace/registry/registry.h"

namespace weft::registry {

Result<Service> Store::getService(const std::string& ns, const std::string& name) {
  auto snap = snapshot();
  if (!snap) {
    return snap.error();
  }
  for (Service& svc : snap->services) {
    if (svc.ns == ns && svc.name == name) {
      return std::move(svc);
    }
  }
  return makeError(fmt::format("service {}/{} does not exist", ns, name), kNotFound);
}

Result<Endpoint> Store::getEndpoint(const std::string& ns, const std::string& service,
                                    const std::string& endpoint_id) {
  auto snap = snapshot();
  if (!snap) {
    return snap.error();
  }
  for (Endpoint& ep : snap->endpoints) {
    if (ep.ns == ns && ep.service == service && ep.id() == endpoint_id) {
      return std::move(ep);
    }
  }
  return makeError(
      fmt::format("endpoint {} does not exist in service {}/{}", endpoint_id, ns, service),
      kNotFound);
}

Result<std::vector<Service>> Store::listServices() {
  auto snap = snapshot();
  if (!snap) {
    return snap.error();
  }
  return std::move(snap->services);
}

Result<std::vector<Endpoint>> Store::listEndpoints(const std::string& ns,
                                                   const std::string& service) {
  auto snap = snapshot();
  if (!snap) {
    return snap.error();
  }
  std::vector<Endpoint> out;
  std::copy_if(snap->endpoints.begin(), snap->endpoints.end(), std::back_inserter(out),
               [&](const Endpoint& ep) { return ep.ns == ns && ep.service == service; });
  return out;
}

Result<std::vector<IpAddr>> Store::usedVips() {
  auto snap = snapshot();
  if (!snap) {
    return snap.error();
  }
  std::vector<IpAddr> out;
  for (const Service& svc : snap->services) {
    if (svc.vip) {
      out.push_back(*svc.vip);
    }
  }
  return out;
}

Status Store::putAll(const std::vector<Service>& services, const std::vector<Endpoint>& endpoints) {
  for (const Service& service : services) {
    if (auto put = putService(service, false); !put) {
      return put.error();
    }
  }
  for (const Endpoint& endpoint : endpoints) {
    if (auto put = putEndpoint(endpoint, false); !put) {
      return put.error();
    }
  }
  return {};
}

}  // namespace weft::registry
