// SPDX-License-Identifier: Apache-2.0
// dmsc_service_endpoint_*: a caller-owned endpoint description. Getters hand out pointers into
// the endpoint's own strings, so they live until the field changes or the endpoint is freed.
#include <string>

#include "userspace/capi/handles.h"
#include "userspace/config/ip_addr.h"

using weft::capi::guarded;

namespace {

template <typename Fn>
int setField(DMSCServiceEndpoint* endpoint, Fn&& fn) noexcept {
  if (endpoint == nullptr)
    return DMSC_ERR_INVALID;
  return guarded(DMSC_ERR_NO_MEMORY, [&] { return fn(*endpoint); });
}

const char* text(const DMSCServiceEndpoint* endpoint, const std::string DMSCServiceEndpoint::*f) {
  return endpoint != nullptr ? (endpoint->*f).c_str() : nullptr;
}

}  // namespace

extern "C" {

DMSCServiceEndpoint* dmsc_service_endpoint_new(void) {
  return guarded<DMSCServiceEndpoint*>(nullptr, [] { return new DMSCServiceEndpoint; });
}

void dmsc_service_endpoint_free(DMSCServiceEndpoint* endpoint) {
  delete endpoint;
}

// Names are checked fully (DNS label) by the registry on register; here only for presence.
int dmsc_service_endpoint_set_name(DMSCServiceEndpoint* endpoint, const char* name) {
  if (name == nullptr || *name == '\0')
    return DMSC_ERR_INVALID;
  return setField(endpoint, [&](auto& e) { return e.name = name, DMSC_OK; });
}

int dmsc_service_endpoint_set_host(DMSCServiceEndpoint* endpoint, const char* host) {
  if (host == nullptr || !weft::IpAddr::parse(host).ok())
    return DMSC_ERR_INVALID;
  return setField(endpoint, [&](auto& e) { return e.host = host, DMSC_OK; });
}

int dmsc_service_endpoint_set_port(DMSCServiceEndpoint* endpoint, uint32_t port) {
  if (port == 0 || port > 65535)
    return DMSC_ERR_INVALID;
  return setField(endpoint, [&](auto& e) { return e.port = static_cast<uint16_t>(port), DMSC_OK; });
}

int dmsc_service_endpoint_set_version(DMSCServiceEndpoint* endpoint, const char* version) {
  if (version == nullptr)
    return DMSC_ERR_INVALID;
  return setField(endpoint, [&](auto& e) { return e.version = version, DMSC_OK; });
}

int dmsc_service_endpoint_set_health_check_url(DMSCServiceEndpoint* endpoint, const char* url) {
  if (url == nullptr || (*url != '\0' && *url != '/'))
    return DMSC_ERR_INVALID;
  return setField(endpoint, [&](auto& e) { return e.health_check_url = url, DMSC_OK; });
}

int dmsc_service_endpoint_set_weight(DMSCServiceEndpoint* endpoint, uint32_t weight) {
  return setField(endpoint, [&](auto& e) { return e.weight = weight, DMSC_OK; });
}

int dmsc_service_endpoint_set_zone(DMSCServiceEndpoint* endpoint, const char* zone) {
  if (zone == nullptr)
    return DMSC_ERR_INVALID;
  return setField(endpoint, [&](auto& e) { return e.zone = zone, DMSC_OK; });
}

int dmsc_service_endpoint_set_namespace(DMSCServiceEndpoint* endpoint, const char* ns) {
  if (ns == nullptr || *ns == '\0')
    return DMSC_ERR_INVALID;
  return setField(endpoint, [&](auto& e) { return e.ns = ns, DMSC_OK; });
}

const char* dmsc_service_endpoint_get_name(const DMSCServiceEndpoint* endpoint) {
  return text(endpoint, &DMSCServiceEndpoint::name);
}

const char* dmsc_service_endpoint_get_host(const DMSCServiceEndpoint* endpoint) {
  return text(endpoint, &DMSCServiceEndpoint::host);
}

uint16_t dmsc_service_endpoint_get_port(const DMSCServiceEndpoint* endpoint) {
  return endpoint != nullptr ? endpoint->port : 0;
}

const char* dmsc_service_endpoint_get_version(const DMSCServiceEndpoint* endpoint) {
  return text(endpoint, &DMSCServiceEndpoint::version);
}

const char* dmsc_service_endpoint_get_health_check_url(const DMSCServiceEndpoint* endpoint) {
  return text(endpoint, &DMSCServiceEndpoint::health_check_url);
}

uint32_t dmsc_service_endpoint_get_weight(const DMSCServiceEndpoint* endpoint) {
  return endpoint != nullptr ? endpoint->weight : 0;
}

const char* dmsc_service_endpoint_get_zone(const DMSCServiceEndpoint* endpoint) {
  return text(endpoint, &DMSCServiceEndpoint::zone);
}

const char* dmsc_service_endpoint_get_namespace(const DMSCServiceEndpoint* endpoint) {
  return text(endpoint, &DMSCServiceEndpoint::ns);
}

}  // extern "C"
