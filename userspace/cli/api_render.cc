// SPDX-License-Identifier: Apache-2.0
// Table and key-value rendering of API replies for weftctl.
#include "userspace/cli/api_render.h"

#include <fmt/format.h>

#include <string>

#include "userspace/cli/render.h"

namespace weft::cli {
namespace {

// Reads a field without throwing when a newer agent sends something unexpected.
std::string text(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return "";
  }
  return it->is_string() ? it->get<std::string>() : it->dump();
}

uint64_t number(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

std::string orDash(std::string value) {
  return value.empty() ? "-" : value;
}

std::string labelsText(const nlohmann::json& object) {
  auto it = object.find("labels");
  if (it == object.end() || !it->is_object()) {
    return "-";
  }
  std::string out;
  for (const auto& item : it->items()) {
    out += (out.empty() ? "" : ",") + item.key() + "=" +
           (item.value().is_string() ? item.value().get<std::string>() : item.value().dump());
  }
  return orDash(out);
}

std::string portsText(const nlohmann::json& service) {
  auto it = service.find("ports");
  if (it == service.end() || !it->is_array()) {
    return "-";
  }
  std::string out;
  for (const auto& port : *it) {
    std::string name = text(port, "name");
    std::string one =
        (name.empty() ? "" : name + ":") + text(port, "port") + "/" + text(port, "protocol");
    out += (out.empty() ? "" : ",") + one;
  }
  return orDash(out);
}

// "version: v1=90 v2=10", or "-" without a split.
std::string splitText(const nlohmann::json& service) {
  auto it = service.find("split");
  if (it == service.end() || !it->is_object()) {
    return "-";
  }
  std::string out = text(*it, "key") + ":";
  auto subsets = it->find("subsets");
  if (subsets != it->end() && subsets->is_array()) {
    for (const auto& subset : *subsets) {
      out += " " + text(subset, "value") + "=" + text(subset, "percent");
    }
  }
  return out;
}

std::string checkText(const nlohmann::json& endpoint) {
  auto it = endpoint.find("health");
  if (it == endpoint.end() || !it->is_object()) {
    return "-";
  }
  const nlohmann::json& health = *it;
  std::string kind = text(health, "kind");
  if (kind.empty() || kind == "none") {
    return "none";
  }
  std::string target = kind == "http" ? "http:" + text(health, "http_path") : kind;
  return fmt::format("{} every {} (timeout {})", target, formatMs(number(health, "interval_ms")),
                     formatMs(number(health, "timeout_ms")));
}

}  // namespace

std::string formatMs(uint64_t ms) {
  if (ms == 0 || ms % 1000 != 0) {
    if (ms >= 1000 && ms % 100 == 0) {
      return fmt::format("{}.{}s", ms / 1000, (ms % 1000) / 100);
    }
    return fmt::format("{}ms", ms);
  }
  return fmt::format("{}s", ms / 1000);
}

namespace {

// "maglev (table 16381, client_addr)": the registry leaves defaults out, so they are filled in.
std::string algorithmText(const nlohmann::json& service) {
  std::string algorithm = text(service, "algorithm");
  if (algorithm != "maglev") {
    return algorithm;
  }
  uint64_t size = number(service, "maglev_table_size");
  std::string key = text(service, "hash_key");
  return fmt::format("maglev (table {}, {})", size == 0 ? WEFT_MAGLEV_DEFAULT_SIZE : size,
                     key.empty() ? "client_addr" : key);
}

}  // namespace

nlohmann::ordered_json serviceRow(const nlohmann::json& service) {
  nlohmann::ordered_json row;
  row["ns"] = text(service, "ns");
  row["name"] = text(service, "name");
  row["vip"] = orDash(text(service, "vip"));
  row["ports"] = portsText(service);
  row["algorithm"] = algorithmText(service);
  uint64_t affinity = number(service, "affinity_timeout_seconds");
  row["affinity"] = affinity == 0 ? std::string("-") : formatMs(affinity * 1000);
  row["split"] = splitText(service);
  row["labels"] = labelsText(service);
  return row;
}

nlohmann::ordered_json endpointRow(const nlohmann::json& endpoint) {
  nlohmann::ordered_json row;
  row["id"] = text(endpoint, "id");
  if (row["id"].get<std::string>().empty()) {
    row["id"] = text(endpoint, "host") + ":" + text(endpoint, "port");
  }
  row["port_name"] = orDash(text(endpoint, "port_name"));
  row["version"] = orDash(text(endpoint, "version"));
  row["zone"] = orDash(text(endpoint, "zone"));
  row["weight"] = text(endpoint, "weight");
  auto drained = endpoint.find("drained");
  row["drained"] =
      drained != endpoint.end() && drained->is_boolean() && drained->get<bool>() ? "yes" : "no";
  row["check"] = checkText(endpoint);
  uint64_t ttl = number(endpoint, "ttl_seconds");
  row["ttl"] = ttl == 0 ? std::string("-") : formatMs(ttl * 1000);
  // The API's "healthy" means "takes new connections" (passing checks, not expired, not
  // drained, weight above 0); a drained endpoint that passes its checks would read as
  // unhealthy under that name.
  auto healthy = endpoint.find("healthy");
  if (healthy != endpoint.end() && healthy->is_boolean()) {
    row["serving"] = healthy->get<bool>() ? "yes" : "no";
  }
  row["labels"] = labelsText(endpoint);
  return row;
}

void printService(std::ostream& out, const nlohmann::json& service) {
  printKeyValues(out, serviceRow(service));
  auto endpoints = service.find("endpoints");
  if (endpoints != service.end() && endpoints->is_array()) {
    out << "endpoints:\n";
    printEndpoints(out, *endpoints);
  }
}

void printEndpoints(std::ostream& out, const nlohmann::json& endpoints) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& endpoint : endpoints) {
    rows.push_back(endpointRow(endpoint));
  }
  printTable(out, rows);
}

void printEndpoint(std::ostream& out, const nlohmann::json& endpoint) {
  nlohmann::ordered_json row;
  row["service"] = text(endpoint, "ns") + "/" + text(endpoint, "service");
  nlohmann::ordered_json fields = endpointRow(endpoint);
  for (const auto& item : fields.items()) {
    row[item.key()] = item.value();
  }
  printKeyValues(out, row);
}

}  // namespace weft::cli
