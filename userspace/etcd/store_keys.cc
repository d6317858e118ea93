// SPDX-License-Identifier: Apache-2.0
// Building and parsing EtcdStore keys.
#include "userspace/etcd/store_keys.h"

#include <fmt/format.h>

#include <vector>

#include "userspace/registry/registry.h"

namespace weft::etcd {
namespace {

constexpr std::string_view kServices = "services/";
constexpr std::string_view kVips = "vips/";
constexpr std::string_view kEndpoints = "endpoints/";

std::vector<std::string> split(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash - start));
    if (slash == std::string_view::npos) {
      return parts;
    }
    start = slash + 1;
  }
}

bool allNonEmpty(const std::vector<std::string>& parts) {
  for (const std::string& part : parts) {
    if (part.empty()) {
      return false;
    }
  }
  return true;
}

}  // namespace

StoreKeys::StoreKeys(std::string prefix) : prefix_(std::move(prefix)) {
  if (prefix_.empty() || prefix_.back() != '/') {
    prefix_ += '/';
  }
}

std::string StoreKeys::service(const std::string& ns, const std::string& name) const {
  return fmt::format("{}{}{}/{}", prefix_, kServices, ns, name);
}

std::string StoreKeys::services() const {
  return fmt::format("{}{}", prefix_, kServices);
}

std::string StoreKeys::vip(const IpAddr& vip) const {
  return fmt::format("{}{}{}", prefix_, kVips, vip.toString());
}

std::string StoreKeys::endpoint(const std::string& ns, const std::string& service,
                                const std::string& endpoint_id) const {
  return fmt::format("{}{}{}/{}/{}", prefix_, kEndpoints, ns, service, endpoint_id);
}

std::string StoreKeys::endpointsOf(const std::string& ns, const std::string& service) const {
  return fmt::format("{}{}{}/{}/", prefix_, kEndpoints, ns, service);
}

ParsedKey StoreKeys::parse(std::string_view key) const {
  ParsedKey out;
  if (key.substr(0, prefix_.size()) != prefix_) {
    return out;
  }
  key.remove_prefix(prefix_.size());

  if (key.substr(0, kServices.size()) == kServices) {
    auto parts = split(key.substr(kServices.size()));
    if (parts.size() == 2 && allNonEmpty(parts)) {
      out = {ParsedKey::Kind::kService, parts[0], parts[1], {}};
    }
  } else if (key.substr(0, kVips.size()) == kVips) {
    std::string_view ip = key.substr(kVips.size());
    if (!ip.empty() && ip.find('/') == std::string_view::npos) {
      out = {ParsedKey::Kind::kVip, {}, std::string(ip), {}};
    }
  } else if (key.substr(0, kEndpoints.size()) == kEndpoints) {
    auto parts = split(key.substr(kEndpoints.size()));
    if (parts.size() == 3 && allNonEmpty(parts)) {
      out = {ParsedKey::Kind::kEndpoint, parts[0], parts[1], parts[2]};
    }
  }
  return out;
}

std::string StoreKeys::owner(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}

Status StoreKeys::checkParts(
    std::initializer_list<std::pair<std::string_view, std::string_view>> parts) {
  for (const auto& [field, value] : parts) {
    if (value.empty()) {
      return makeError(fmt::format("{}: must not be empty", field), registry::kInvalid);
    }
    if (value.find('/') != std::string_view::npos) {
      return makeError(fmt::format("{}: \"{}\" must not contain '/'", field, value),
                       registry::kInvalid);
    }
  }
  return {};
}

}  // namespace weft::etcd
