// SPDX-License-Identifier: Apache-2.0
// Opens pinned maps by name, loads their BTF from the kernel and moves raw entries in and out.
#include "userspace/cli/map_access.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

#include "loader/pin_layout.h"
#include "userspace/cli/btf_codec.h"

namespace weft::cli {
namespace {

bool isPerCpuType(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

bool isMapInMapType(uint32_t type) {
  return type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

bool isLayoutSuffix(const std::string& text) {
  return text.size() > 2 && text.compare(0, 2, "_v") == 0 &&
         std::all_of(text.begin() + 2, text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    out += (out.empty() ? "" : ", ") + n;
  }
  return out.empty() ? "none" : out;
}

// From user space an outer map takes an inner map fd and gives back the inner map's id.
Field innerMapLayout() {
  Field id = plainLayout(4, "inner_map_id");
  Field value;
  value.kind = Field::Kind::kStruct;
  value.name = "value";
  value.type_name = "inner map";
  value.size = 4;
  value.members.push_back(id);
  return value;
}

// Per-CPU values sit in 8-byte aligned slots, one per possible CPU.
uint32_t perCpuStride(uint32_t value_size) {
  return (value_size + 7) / 8 * 8;
}

}  // namespace

Result<std::vector<std::string>> pinnedMapNames(const std::string& bpffs_root) {
  std::string dir = PinLayout(bpffs_root).mapsDir();
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  if (ec) {
    return makeError("bpffs_root " + bpffs_root + ": cannot read " + dir + ": " + ec.message() +
                         " (is weftd running with this --bpffs-root?)",
                     ec.value());
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::string> resolveMapName(const std::vector<std::string>& pins, const std::string& name) {
  if (std::find(pins.begin(), pins.end(), name) != pins.end()) {
    return name;
  }
  std::vector<std::string> matches;
  for (const std::string& pin : pins) {
    if (pin.size() > name.size() && pin.compare(0, name.size(), name) == 0 &&
        isLayoutSuffix(pin.substr(name.size()))) {
      matches.push_back(pin);
    }
  }
  if (matches.size() == 1 && !name.empty()) {
    return matches.front();
  }
  if (matches.size() > 1) {
    return makeError("map \"" + name + "\" is ambiguous: " + joined(matches));
  }
  return makeError("map \"" + name + "\" is not pinned here (maps: " + joined(pins) + ")");
}

Result<PinnedMap> PinnedMap::open(const std::string& bpffs_root, const std::string& name) {
  auto pins = pinnedMapNames(bpffs_root);
  if (!pins) {
    return pins.error();
  }
  auto pin = resolveMapName(*pins, name);
  if (!pin) {
    return pin.error();
  }
  PinnedMap map;
  if (auto st = map.load(PinLayout(bpffs_root).mapPath(*pin), *pin); !st) {
    return st.error();
  }
  return map;
}

PinnedMap::PinnedMap(PinnedMap&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      cpus_(other.cpus_),
      info_(std::move(other.info_)),
      key_(std::move(other.key_)),
      value_(std::move(other.value_)) {}

PinnedMap& PinnedMap::operator=(PinnedMap&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
    cpus_ = other.cpus_;
    info_ = std::move(other.info_);
    key_ = std::move(other.key_);
    value_ = std::move(other.value_);
  }
  return *this;
}

PinnedMap::~PinnedMap() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Status PinnedMap::load(const std::string& path, const std::string& name) {
  info_.name = name;
  info_.path = path;
  fd_ = bpf_obj_get(path.c_str());
  if (fd_ < 0) {
    return makeError("map " + name + ": open " + path + ": " + std::strerror(errno), errno);
  }
  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd_, &info, &len) != 0) {
    return makeError("map " + name + ": " + path + " is not a map: " + std::strerror(errno), errno);
  }
  const char* type = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(info.type));
  info_.type = type != nullptr ? type : "type " + std::to_string(info.type);
  info_.type_id = info.type;
  info_.key_size = info.key_size;
  info_.value_size = info.value_size;
  info_.max_entries = info.max_entries;
  int cpus = libbpf_num_possible_cpus();
  cpus_ = cpus > 0 ? cpus : 1;

  // No BTF, or BTF we cannot load, still leaves integer or hex views of every entry.
  struct btf* btf = info.btf_id != 0 ? btf__load_from_kernel_by_id(info.btf_id) : nullptr;
  key_ = buildLayout(btf, info.btf_key_type_id, info.key_size, "key");
  value_ = isMapInMapType(info.type)
               ? innerMapLayout()
               : buildLayout(btf, info.btf_value_type_id, info.value_size, "value");
  btf__free(btf);
  return {};
}

bool PinnedMap::perCpu() const {
  return isPerCpuType(info_.type_id);
}

bool PinnedMap::innerMaps() const {
  return isMapInMapType(info_.type_id);
}

Error PinnedMap::sysError(const std::string& op, int err) const {
  return makeError("map " + info_.name + ": " + op + ": " + std::strerror(err), err);
}

std::optional<uint64_t> PinnedMap::countEntries() const {
  if (info_.type_id == BPF_MAP_TYPE_ARRAY || info_.type_id == BPF_MAP_TYPE_PERCPU_ARRAY) {
    return info_.max_entries;
  }
  if (info_.key_size == 0) {
    return std::nullopt;
  }
  bool truncated = false;
  auto all = keys(info_.max_entries, &truncated);
  if (!all) {
    return std::nullopt;
  }
  if (!innerMaps()) {
    return all->size();
  }
  // An outer array walks every index; only the slots holding a map count.
  uint64_t n = 0;
  Bytes value(info_.value_size);
  for (const Bytes& key : *all) {
    n += bpf_map_lookup_elem(fd_, key.data(), value.data()) == 0 ? 1 : 0;
  }
  return n;
}

Result<std::vector<Bytes>> PinnedMap::keys(size_t limit, bool* truncated) const {
  std::vector<Bytes> out;
  *truncated = false;
  // Socket storage hangs off each socket; the kernel has no key walk for it (ENOTSUPP).
  if (info_.type_id == BPF_MAP_TYPE_SK_STORAGE) {
    return makeError(
        fmt::format("map {}: socket-storage maps hold one value per socket and "
                    "cannot be listed; weftctl backend list shows their totals",
                    info_.name));
  }
  Bytes prev(info_.key_size);
  Bytes next(info_.key_size);
  bool first = true;
  // A hash walk restarts when its current key is deleted underneath it; the bound keeps a
  // busy map from holding the walk forever.
  uint64_t budget = uint64_t{info_.max_entries} * 2 + 16;
  while (budget-- > 0) {
    if (bpf_map_get_next_key(fd_, first ? nullptr : prev.data(), next.data()) != 0) {
      if (errno == ENOENT) {
        return out;
      }
      return sysError("walk keys", errno);
    }
    if (out.size() == limit) {
      *truncated = true;
      return out;
    }
    out.push_back(next);
    prev.swap(next);
    first = false;
  }
  *truncated = true;
  return out;
}

Result<std::optional<nlohmann::ordered_json>> PinnedMap::entry(const Bytes& key) const {
  uint32_t stride = perCpu() ? perCpuStride(info_.value_size) : info_.value_size;
  Bytes raw(static_cast<size_t>(stride) * (perCpu() ? cpus_ : 1));
  if (bpf_map_lookup_elem(fd_, key.data(), raw.data()) != 0) {
    if (errno == ENOENT) {
      return std::optional<nlohmann::ordered_json>();
    }
    return sysError("lookup", errno);
  }

  nlohmann::ordered_json out;
  out["key"] = decodeField(key_, key);
  if (!perCpu()) {
    out["value"] = decodeField(value_, raw);
    return std::optional(out);
  }
  std::vector<nlohmann::ordered_json> values;
  for (int cpu = 0; cpu < cpus_; cpu++) {
    values.push_back(decodeField(value_, std::span(raw).subspan(size_t(cpu) * stride, stride)));
  }
  out["per_cpu"] = values;
  if (isSummable(value_)) {
    out["sum"] = sumDecoded(values);
  }
  return std::optional(out);
}

Status PinnedMap::update(const Bytes& key, const Bytes& value, uint64_t flags) {
  Bytes raw = value;
  int inner_fd = -1;
  if (innerMaps()) {
    uint32_t id = 0;
    std::memcpy(&id, value.data(), sizeof(id));
    inner_fd = bpf_map_get_fd_by_id(id);
    if (inner_fd < 0) {
      return makeError("field value.inner_map_id: " + std::to_string(id) +
                       " is not a map id: " + std::strerror(errno));
    }
    std::memcpy(raw.data(), &inner_fd, sizeof(inner_fd));
  } else if (perCpu()) {
    uint32_t stride = perCpuStride(info_.value_size);
    raw.assign(static_cast<size_t>(stride) * cpus_, 0);
    for (int cpu = 0; cpu < cpus_; cpu++) {
      std::memcpy(raw.data() + size_t(cpu) * stride, value.data(), value.size());
    }
  }

  int rc = bpf_map_update_elem(fd_, key.data(), raw.data(), flags);
  int err = errno;
  if (inner_fd >= 0) {
    ::close(inner_fd);
  }
  if (rc == 0) {
    return {};
  }
  bool array = info_.type_id == BPF_MAP_TYPE_ARRAY || info_.type_id == BPF_MAP_TYPE_PERCPU_ARRAY ||
               info_.type_id == BPF_MAP_TYPE_ARRAY_OF_MAPS;
  switch (err) {
    case EEXIST:
      return makeError("map " + info_.name + ": update: the key exists (--create)", err);
    case ENOENT:
      return makeError("map " + info_.name + ": update: the key does not exist (--exist)", err);
    case E2BIG:
      return makeError("map " + info_.name +
                           ": update: " + (array ? "index out of range" : "map is full") +
                           " (max_entries " + std::to_string(info_.max_entries) + ")",
                       err);
    default:
      return sysError("update", err);
  }
}

Status PinnedMap::erase(const Bytes& key) {
  if (bpf_map_delete_elem(fd_, key.data()) == 0) {
    return {};
  }
  int err = errno;
  if (err == ENOENT) {
    return makeError("map " + info_.name + ": delete: the key does not exist", err);
  }
  if (err == EINVAL &&
      (info_.type_id == BPF_MAP_TYPE_ARRAY || info_.type_id == BPF_MAP_TYPE_PERCPU_ARRAY)) {
    return makeError("map " + info_.name + ": delete: " + info_.type +
                         " entries cannot be deleted; write zero with `map update` instead",
                     err);
  }
  return sysError("delete", err);
}

}  // namespace weft::cli
