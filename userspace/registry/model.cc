// SPDX-License-Identifier: Apache-2.0
// Endpoint identity: "host:port", with IPv6 hosts in brackets as in URLs.
#include "userspace/registry/model.h"

namespace weft::registry {

std::string Endpoint::id() const {
  std::string text = host.toString();
  if (host.isV6()) {
    text = "[" + text + "]";
  }
  return text + ":" + std::to_string(port);
}

}  // namespace weft::registry
