// SPDX-License-Identifier: Apache-2.0
// Endpoint identity: "host:port", with IPv6 hosts in brackets as in URLs; split labels.
#include "userspace/registry/model.h"

namespace weft::registry {

std::string Endpoint::id() const {
  std::string text = host.toString();
  if (host.isV6()) {
    text = "[" + text + "]";
  }
  return text + ":" + std::to_string(port);
}

std::string splitLabelValue(const Endpoint& endpoint, const std::string& key) {
  if (auto it = endpoint.labels.find(key); it != endpoint.labels.end()) {
    return it->second;
  }
  // `weftctl endpoint register --version v2` sets the field, not a label; both should split.
  if (key == "version") {
    return endpoint.version;
  }
  return key == "zone" ? endpoint.zone : "";
}

}  // namespace weft::registry
