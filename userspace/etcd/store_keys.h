// SPDX-License-Identifier: Apache-2.0
// Where EtcdStore keeps things under its prefix (default "/weft/"):
//   services/<ns>/<name>           -> Service JSON
//   vips/<ip>                      -> "<ns>/<name>" of the service holding the VIP
//   endpoints/<ns>/<service>/<id>  -> Endpoint JSON (id = "host:port", "[v6]:port")
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "userspace/common/result.h"
#include "userspace/config/ip_addr.h"

namespace weft::etcd {

struct ParsedKey {
  enum class Kind { kService, kVip, kEndpoint, kOther };

  Kind kind = Kind::kOther;
  std::string ns;
  std::string name;  // service name (kService, kEndpoint) or the VIP text (kVip)
  std::string endpoint_id;
};

class StoreKeys {
 public:
  // A prefix without a trailing '/' gets one, so "/weft" and "/weft/" mean the same.
  explicit StoreKeys(std::string prefix);

  const std::string& prefix() const { return prefix_; }

  std::string service(const std::string& ns, const std::string& name) const;
  std::string vip(const IpAddr& vip) const;
  std::string endpoint(const std::string& ns, const std::string& service,
                       const std::string& endpoint_id) const;
  // Every service: the prefix of their keys.
  std::string services() const;
  // Every endpoint of one service; the trailing '/' keeps "web" from matching "web2".
  std::string endpointsOf(const std::string& ns, const std::string& service) const;

  // The inverse, for keys read back; kOther for anything this layout did not write.
  ParsedKey parse(std::string_view key) const;

  // The VIP owner value: "<ns>/<name>".
  static std::string owner(const std::string& ns, const std::string& name);
  // Rejects what would make a key ambiguous: empty parts and '/'. Each pair is the field
  // name for the message and its value.
  static Status checkParts(
      std::initializer_list<std::pair<std::string_view, std::string_view>> parts);

 private:
  std::string prefix_;
};

}  // namespace weft::etcd
