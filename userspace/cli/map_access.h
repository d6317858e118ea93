// SPDX-License-Identifier: Apache-2.0
// One map pinned under <bpffs_root>/maps, opened by name with the field layout of its BTF:
// raw key/value access for `weftctl map`, including per-CPU and map-in-map outer maps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "userspace/cli/btf_layout.h"
#include "userspace/common/result.h"

namespace weft::cli {

using Bytes = std::vector<uint8_t>;

struct MapInfo {
  std::string name;  // the pin's file name
  std::string path;
  std::string type;  // "hash", "percpu_array", ... as libbpf names them
  uint32_t type_id = 0;
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
};

// Pin names under <bpffs_root>/maps, sorted. Fails when the directory cannot be read.
Result<std::vector<std::string>> pinnedMapNames(const std::string& bpffs_root);

// NAME as given on the command line -> a pin name from `pins`: the exact name, or NAME
// plus a layout suffix "_v<N>" when exactly one pin matches ("weft_svc" -> "weft_svc_v2").
// Anything else (including paths) fails with the list of names that exist.
Result<std::string> resolveMapName(const std::vector<std::string>& pins, const std::string& name);

// Owns the map fd. Single-threaded; the kernel serialises concurrent updates by the agent.
class PinnedMap {
 public:
  // Resolves `name` among the pins under `bpffs_root` and opens it.
  static Result<PinnedMap> open(const std::string& bpffs_root, const std::string& name);

  PinnedMap(PinnedMap&& other) noexcept;
  PinnedMap& operator=(PinnedMap&& other) noexcept;
  PinnedMap(const PinnedMap&) = delete;
  PinnedMap& operator=(const PinnedMap&) = delete;
  ~PinnedMap();

  const MapInfo& info() const { return info_; }
  // Layouts of a key and of one value (one CPU's value for per-CPU maps; for map-in-map
  // outer maps a struct with the inner map's id).
  const Field& keyLayout() const { return key_; }
  const Field& valueLayout() const { return value_; }

  // Entries present: max_entries for plain arrays, else counted by walking the keys;
  // nullopt for map types whose keys cannot be walked from user space.
  std::optional<uint64_t> countEntries() const;

  // Up to `limit` keys in the kernel's order; `*truncated` says whether more exist.
  Result<std::vector<Bytes>> keys(size_t limit, bool* truncated) const;

  // {"key":K,"value":V}, or for per-CPU maps {"key":K,"per_cpu":[V...],"sum":V} (sum only
  // when every field is a plain number). nullopt when the key is absent.
  Result<std::optional<nlohmann::ordered_json>> entry(const Bytes& key) const;

  // Writes `value` (valueLayout().size bytes) under `key`; per-CPU maps get it on every CPU.
  // `flags` is BPF_ANY, BPF_NOEXIST or BPF_EXIST.
  Status update(const Bytes& key, const Bytes& value, uint64_t flags);
  // Fails when the key is absent or the map type has no delete (arrays).
  Status erase(const Bytes& key);

 private:
  PinnedMap() = default;
  Status load(const std::string& path, const std::string& name);
  bool perCpu() const;
  bool innerMaps() const;
  Error sysError(const std::string& op, int err) const;

  int fd_ = -1;
  int cpus_ = 1;
  MapInfo info_;
  Field key_;
  Field value_;
};

}  // namespace weft::cli
