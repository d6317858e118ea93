// SPDX-License-Identifier: Apache-2.0
// Row encoding for SqliteStore.
#include "userspace/registry/sqlite_rows.h"

#include <fmt/format.h>

#include "userspace/registry/model_json.h"

namespace weft::registry::sqlite_rows {
namespace {

std::string dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string key(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}

std::string encode(const Service& service) {
  return dump(toJson(service, JsonForm::kStored));
}

std::string encode(const Endpoint& endpoint) {
  return dump(toJson(endpoint, JsonForm::kStored));
}

Result<Service> decodeService(const SqliteStatement& row, const std::string& path) {
  auto json = parseJson(row.text(0));
  auto service = json ? serviceFromJson(*json) : Result<Service>(json.error());
  if (!service) {
    return makeError(fmt::format("registry store {}: stored service is unreadable: {}", path,
                                 service.error().message));
  }
  service->revision = static_cast<uint64_t>(row.integer(1));
  return service;
}

Result<Endpoint> decodeEndpoint(const SqliteStatement& row, const std::string& path) {
  auto json = parseJson(row.text(0));
  auto endpoint = json ? endpointFromJson(*json) : Result<Endpoint>(json.error());
  if (!endpoint) {
    return makeError(fmt::format("registry store {}: stored endpoint is unreadable: {}", path,
                                 endpoint.error().message));
  }
  endpoint->revision = static_cast<uint64_t>(row.integer(1));
  return endpoint;
}

}  // namespace weft::registry::sqlite_rows
