// SPDX-License-Identifier: Apache-2.0
// Typed access to one BPF map by file descriptor. The key and value types come from
// maps/weft_maps.h, so a size mismatch is caught at open time, not as silent garbage.
#pragma once

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "userspace/common/result.h"

namespace weft {

// Owns a map fd. Not thread-safe per instance; the kernel serialises updates.
template <typename K, typename V>
class TypedMap {
 public:
  TypedMap() = default;
  TypedMap(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  ~TypedMap() { reset(); }
  TypedMap(TypedMap&& o) noexcept : fd_(std::exchange(o.fd_, -1)), name_(std::move(o.name_)) {}
  TypedMap& operator=(TypedMap&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
      name_ = std::move(o.name_);
    }
    return *this;
  }
  TypedMap(const TypedMap&) = delete;
  TypedMap& operator=(const TypedMap&) = delete;

  // Opens a pinned map and checks that its key and value sizes match K and V.
  static Result<TypedMap> openPinned(const std::string& path, const std::string& name) {
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) {
      return makeError("map " + name + ": open " + path + ": " + std::strerror(errno), errno);
    }
    TypedMap map(fd, name);
    if (auto st = map.checkShape(); !st) {
      return st.error();
    }
    return map;
  }

  // Checks key and value size against the map the kernel has.
  Status checkShape() const {
    bpf_map_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd_, &info, &len) != 0) {
      return makeError("map " + name_ + ": get info: " + std::strerror(errno), errno);
    }
    if (info.key_size != sizeof(K) || info.value_size != sizeof(V)) {
      return makeError("map " + name_ + ": key/value size " + std::to_string(info.key_size) + "/" +
                       std::to_string(info.value_size) + " does not match the contract " +
                       std::to_string(sizeof(K)) + "/" + std::to_string(sizeof(V)));
    }
    return {};
  }

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  bool valid() const { return fd_ >= 0; }

  std::optional<V> lookup(const K& key) const {
    V value{};
    if (bpf_map_lookup_elem(fd_, &key, &value) != 0) {
      return std::nullopt;
    }
    return value;
  }

  Status update(const K& key, const V& value, __u64 flags = BPF_ANY) {
    if (bpf_map_update_elem(fd_, &key, &value, flags) != 0) {
      return makeError("map " + name_ + ": update failed: " + std::strerror(errno), errno);
    }
    return {};
  }

  // Deleting a key that is not there is not an error.
  Status erase(const K& key) {
    if (bpf_map_delete_elem(fd_, &key) != 0 && errno != ENOENT) {
      return makeError("map " + name_ + ": delete failed: " + std::strerror(errno), errno);
    }
    return {};
  }

  // All entries. Entries added or removed during the walk may or may not appear.
  Result<std::vector<std::pair<K, V>>> entries() const {
    std::vector<std::pair<K, V>> out;
    K key{};
    K next{};
    const K* prev = nullptr;
    while (bpf_map_get_next_key(fd_, prev, &next) == 0) {
      V value{};
      if (bpf_map_lookup_elem(fd_, &next, &value) == 0) {
        out.emplace_back(next, value);
      }
      key = next;
      prev = &key;
    }
    if (errno != ENOENT) {
      return makeError("map " + name_ + ": iterate failed: " + std::strerror(errno), errno);
    }
    return out;
  }

 private:
  void reset() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  int fd_ = -1;
  std::string name_;
};

}  // namespace weft
