// SPDX-License-Identifier: Apache-2.0
// Helpers for registry tests: a private temporary directory removed on destruction, and
// short constructors for model values.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "userspace/registry/model.h"

namespace weft::registry::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "weft-registry-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp " << pattern << " failed";
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

inline Cidr cidr(const char* text) {
  return *Cidr::parse(text);
}

inline Service makeService(const std::string& name, uint16_t port = 80,
                           const std::string& ns = "default") {
  Service svc;
  svc.name = name;
  svc.ns = ns;
  svc.ports = {{"", port, WEFT_PROTO_TCP}};
  return svc;
}

inline Endpoint makeEndpoint(const std::string& service, const char* host, uint16_t port,
                             const std::string& ns = "default") {
  Endpoint ep;
  ep.service = service;
  ep.ns = ns;
  ep.host = ip(host);
  ep.port = port;
  return ep;
}

}  // namespace weft::registry::testing
