// SPDX-License-Identifier: Apache-2.0
// YAML to AgentConfig. yaml-cpp reports problems by throwing; everything it can throw is caught
// in parseConfig, so callers only ever see a Result.
#include "userspace/config/config_parser.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "userspace/config/config_validate.h"

namespace weft {
namespace {

// Far larger than any sensible config; stops a wrong path (a log file, a device) early.
constexpr size_t kMaxConfigBytes = 4 << 20;

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string location(const YAML::Mark& mark) {
  if (mark.is_null()) {
    return "";
  }
  return fmt::format(" (line {}, column {})", mark.line + 1, mark.column + 1);
}

const char* kindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// Walks the document and fills an AgentConfig, remembering where each field was so that the
// value checks that run afterwards can point at a line too.
class ConfigReader {
 public:
  Status read(const YAML::Node& root, AgentConfig* out);

  std::string locate(const std::string& path) const {
    auto it = marks_.find(path);
    return it == marks_.end() ? "" : location(it->second);
  }

 private:
  Error fail(const std::string& path, const YAML::Node& node, const std::string& what) const {
    return makeError(path + ": " + what + location(node.Mark()));
  }
  Error missing(const YAML::Node& map, const std::string& path, const char* key) const {
    return fail(join(path, key), map, "required field is missing");
  }

  // The value of `key` when present and not null. YAML::Node is a reference into the
  // document: assigning one Node to another writes through, so nodes here are only ever
  // copy-constructed, never assigned.
  static std::optional<YAML::Node> field(const YAML::Node& map, const char* key) {
    YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) {
      return std::nullopt;
    }
    return node;
  }

  Status expectMap(const YAML::Node& node, const std::string& path,
                   std::initializer_list<std::string_view> allowed);
  Status readString(const YAML::Node& node, const std::string& path, std::string* out);
  Status readAddr(const YAML::Node& node, const std::string& path, IpAddr* out);
  Status readInteger(const YAML::Node& node, const std::string& path, uint64_t min, uint64_t max,
                     uint64_t* out);
  Status readPort(const YAML::Node& node, const std::string& path, uint16_t* out);
  // 0..65535; 0 drains the backend.
  Status readWeight(const YAML::Node& node, const std::string& path, uint32_t* out);
  Status readVipRanges(const YAML::Node& node, std::vector<Cidr>* out);
  Status readService(const YAML::Node& node, const std::string& path, ServiceConfig* out);
  Status readBackend(const YAML::Node& node, const std::string& path, BackendConfig* out);
  // maglev_table_size, hash_key and affinity_timeout_seconds; value rules are the validator's.
  Status readBalancing(const YAML::Node& node, const std::string& path, ServiceConfig* out);
  Status readOptionalString(const YAML::Node& map, const std::string& path, const char* key,
                            std::string* out);
  Status readRegistry(const YAML::Node& node, RegistryConfig* out);
  Status readApi(const YAML::Node& node, ApiConfig* out);
  Status readDns(const YAML::Node& node, DnsConfig* out);

  std::map<std::string, YAML::Mark> marks_;
};

Status ConfigReader::expectMap(const YAML::Node& node, const std::string& path,
                               std::initializer_list<std::string_view> allowed) {
  std::string where = path.empty() ? "config" : path;
  if (!node.IsMap()) {
    return fail(where, node, fmt::format("expected a mapping, got {}", kindName(node)));
  }
  marks_[path] = node.Mark();

  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // The iterator hands out a temporary pair; keep a copy of the key node (a cheap handle).
    const YAML::Node key = (*it).first;
    if (!key.IsScalar()) {
      return fail(where, key, fmt::format("keys must be strings, got {}", kindName(key)));
    }

    const std::string& name = key.Scalar();
    bool known = false;
    for (std::string_view a : allowed) {
      known = known || a == name;
    }
    if (!known) {
      return fail(join(path, name), key,
                  fmt::format("unknown key (expected one of: {})", fmt::join(allowed, ", ")));
    }
    if (!seen.insert(name).second) {
      return fail(join(path, name), key, "duplicate key");
    }
  }
  return {};
}

Status ConfigReader::readString(const YAML::Node& node, const std::string& path, std::string* out) {
  marks_[path] = node.Mark();
  if (!node.IsScalar()) {
    return fail(path, node, fmt::format("expected a string, got {}", kindName(node)));
  }
  *out = node.Scalar();
  return {};
}

Status ConfigReader::readAddr(const YAML::Node& node, const std::string& path, IpAddr* out) {
  std::string text;
  if (auto st = readString(node, path, &text); !st) {
    return st;
  }

  auto addr = IpAddr::parse(text);
  if (!addr) {
    return fail(path, node, addr.error().message);
  }
  *out = *addr;
  return {};
}

Status ConfigReader::readInteger(const YAML::Node& node, const std::string& path, uint64_t min,
                                 uint64_t max, uint64_t* out) {
  marks_[path] = node.Mark();
  if (!node.IsScalar()) {
    return fail(path, node, fmt::format("expected an integer, got {}", kindName(node)));
  }

  // Quoted numbers are strings in YAML; accepting them would hide typos such as "8O".
  const std::string& text = node.Scalar();
  if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") {
    return fail(path, node, fmt::format("\"{}\" is a quoted string, not an integer", text));
  }

  size_t start = (text.starts_with('-') || text.starts_with('+')) ? 1 : 0;
  size_t digits = text.size() - start;
  if (digits == 0 || text.find_first_not_of("0123456789", start) != text.npos) {
    return fail(path, node, fmt::format("\"{}\" is not an integer", text));
  }

  uint64_t value = 0;
  for (size_t i = start; i < text.size() && value <= max; ++i) {
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (text.front() == '-' || value < min || value > max) {
    return fail(path, node, fmt::format("{} is not in {}..{}", text, min, max));
  }
  *out = value;
  return {};
}

Status ConfigReader::readPort(const YAML::Node& node, const std::string& path, uint16_t* out) {
  uint64_t value = 0;
  if (auto st = readInteger(node, path, 1, 65535, &value); !st) {
    return st;
  }
  *out = static_cast<uint16_t>(value);
  return {};
}

Status ConfigReader::readWeight(const YAML::Node& node, const std::string& path, uint32_t* out) {
  uint64_t value = 0;
  if (auto st = readInteger(node, path, 0, 65535, &value); !st) {
    return st;
  }
  *out = static_cast<uint32_t>(value);
  return {};
}

Status ConfigReader::readVipRanges(const YAML::Node& node, std::vector<Cidr>* out) {
  marks_["vip_ranges"] = node.Mark();
  if (!node.IsSequence()) {
    return fail("vip_ranges", node, fmt::format("expected a list, got {}", kindName(node)));
  }

  for (size_t i = 0; i < node.size(); ++i) {
    std::string path = fmt::format("vip_ranges[{}]", i);
    std::string text;
    if (auto st = readString(node[i], path, &text); !st) {
      return st;
    }

    auto cidr = Cidr::parse(text);
    if (!cidr) {
      return fail(path, node[i], cidr.error().message);
    }
    out->push_back(*cidr);
  }
  return {};
}

Status ConfigReader::readBackend(const YAML::Node& node, const std::string& path,
                                 BackendConfig* out) {
  if (auto st = expectMap(node, path, {"address", "port", "weight"}); !st) {
    return st;
  }
  if (auto weight = field(node, "weight")) {
    if (auto st = readWeight(*weight, path + ".weight", &out->weight); !st) {
      return st;
    }
  }

  auto address = field(node, "address");
  if (!address) {
    return missing(node, path, "address");
  }
  if (auto st = readAddr(*address, path + ".address", &out->address); !st) {
    return st;
  }
  auto port = field(node, "port");
  if (!port) {
    return missing(node, path, "port");
  }
  return readPort(*port, path + ".port", &out->port);
}

Status ConfigReader::readBalancing(const YAML::Node& node, const std::string& path,
                                   ServiceConfig* out) {
  uint64_t value = 0;
  if (auto size = field(node, "maglev_table_size")) {
    if (auto st = readInteger(*size, path + ".maglev_table_size", 0, UINT32_MAX, &value); !st) {
      return st;
    }
    out->maglev_table_size = static_cast<uint32_t>(value);
  }
  if (auto key = field(node, "hash_key")) {
    std::string text;
    if (auto st = readString(*key, path + ".hash_key", &text); !st) {
      return st;
    }
    if (!hashKeyFromName(text, &out->hash_key)) {
      return fail(path + ".hash_key", *key,
                  fmt::format("\"{}\" is not one of client_addr, client_addr_port", text));
    }
  }
  if (auto timeout = field(node, "affinity_timeout_seconds")) {
    if (auto st = readInteger(*timeout, path + ".affinity_timeout_seconds", 0,
                              kMaxAffinityTimeoutSeconds, &value);
        !st) {
      return st;
    }
    out->affinity_timeout_s = static_cast<uint32_t>(value);
  }
  return {};
}

Status ConfigReader::readService(const YAML::Node& node, const std::string& path,
                                 ServiceConfig* out) {
  auto st = expectMap(node, path,
                      {"name", "vip", "port", "protocol", "algorithm", "maglev_table_size",
                       "hash_key", "affinity_timeout_seconds", "backends"});
  if (!st) {
    return st;
  }

  auto name = field(node, "name");
  if (!name) {
    return missing(node, path, "name");
  }
  if (st = readString(*name, path + ".name", &out->name); !st) {
    return st;
  }
  auto vip = field(node, "vip");
  if (!vip) {
    return missing(node, path, "vip");
  }
  if (st = readAddr(*vip, path + ".vip", &out->vip); !st) {
    return st;
  }
  auto port = field(node, "port");
  if (!port) {
    return missing(node, path, "port");
  }
  if (st = readPort(*port, path + ".port", &out->port); !st) {
    return st;
  }

  std::string text;
  if (auto protocol = field(node, "protocol")) {
    if (st = readString(*protocol, path + ".protocol", &text); !st) {
      return st;
    }
    if (!protocolFromName(text, &out->protocol)) {
      return fail(path + ".protocol", *protocol,
                  fmt::format("\"{}\" is not one of tcp, udp", text));
    }
  }
  if (auto algorithm = field(node, "algorithm")) {
    if (st = readString(*algorithm, path + ".algorithm", &text); !st) {
      return st;
    }
    if (!algorithmFromName(text, &out->algorithm)) {
      return fail(path + ".algorithm", *algorithm,
                  fmt::format("\"{}\" is not one of round_robin, random, weighted, least_conn, "
                              "maglev",
                              text));
    }
  }
  if (st = readBalancing(node, path, out); !st) {
    return st;
  }

  auto backends = field(node, "backends");
  if (!backends) {
    return {};
  }
  marks_[path + ".backends"] = backends->Mark();
  if (!backends->IsSequence()) {
    return fail(path + ".backends", *backends,
                fmt::format("expected a list, got {}", kindName(*backends)));
  }
  out->backends.resize(backends->size());
  for (size_t j = 0; j < backends->size(); ++j) {
    st = readBackend((*backends)[j], fmt::format("{}.backends[{}]", path, j), &out->backends[j]);
    if (!st) {
      return st;
    }
  }
  return {};
}

Status ConfigReader::read(const YAML::Node& root, AgentConfig* out) {
  auto st = expectMap(root, "",
                      {"cgroup", "bypass_cgroups", "bpffs_root", "log_level", "vip_ranges",
                       "services", "registry", "api", "dns"});
  if (!st) {
    return st;
  }

  auto cgroup = field(root, "cgroup");
  if (!cgroup) {
    return missing(root, "", "cgroup");
  }
  if (st = readString(*cgroup, "cgroup", &out->cgroup); !st) {
    return st;
  }
  if (auto bypass = field(root, "bypass_cgroups")) {
    if (!bypass->IsSequence()) {
      return fail("bypass_cgroups", *bypass,
                  fmt::format("expected a list of cgroup paths, got {}", kindName(*bypass)));
    }
    for (size_t i = 0; i < bypass->size(); ++i) {
      std::string path;
      if (st = readString((*bypass)[i], fmt::format("bypass_cgroups[{}]", i), &path); !st) {
        return st;
      }
      out->bypass_cgroups.push_back(path);
    }
  }
  if (auto bpffs_root = field(root, "bpffs_root")) {
    if (st = readString(*bpffs_root, "bpffs_root", &out->bpffs_root); !st) {
      return st;
    }
  }
  if (auto level = field(root, "log_level")) {
    std::string text;
    if (st = readString(*level, "log_level", &text); !st) {
      return st;
    }
    if (!logLevelFromName(text, &out->log_level)) {
      return fail("log_level", *level,
                  fmt::format("\"{}\" is not one of debug, info, warn, error", text));
    }
  }
  if (auto ranges = field(root, "vip_ranges")) {
    if (st = readVipRanges(*ranges, &out->vip_ranges); !st) {
      return st;
    }
  }

  if (auto registry = field(root, "registry")) {
    if (st = readRegistry(*registry, &out->registry); !st) {
      return st;
    }
  }
  if (auto api = field(root, "api")) {
    if (st = readApi(*api, &out->api); !st) {
      return st;
    }
  }
  if (auto dns = field(root, "dns")) {
    if (st = readDns(*dns, &out->dns); !st) {
      return st;
    }
  }

  auto services = field(root, "services");
  if (!services) {
    return {};
  }
  marks_["services"] = services->Mark();
  if (!services->IsSequence()) {
    return fail("services", *services, fmt::format("expected a list, got {}", kindName(*services)));
  }
  out->services.resize(services->size());
  for (size_t i = 0; i < services->size(); ++i) {
    if (st = readService((*services)[i], fmt::format("services[{}]", i), &out->services[i]); !st) {
      return st;
    }
  }
  return {};
}

Status ConfigReader::readOptionalString(const YAML::Node& map, const std::string& path,
                                        const char* key, std::string* out) {
  if (auto node = field(map, key)) {
    return readString(*node, join(path, key), out);
  }
  return {};
}

Status ConfigReader::readRegistry(const YAML::Node& node, RegistryConfig* out) {
  auto st = expectMap(node, "registry",
                      {"store", "path", "sqlite_synchronous", "etcd_endpoints", "etcd_prefix"});
  if (!st) {
    return st;
  }
  if (st = readOptionalString(node, "registry", "store", &out->store); !st) {
    return st;
  }
  if (out->store != "sqlite" && out->store != "etcd") {
    return fail("registry.store", node["store"],
                fmt::format("\"{}\" is not one of sqlite, etcd", out->store));
  }
  if (st = readOptionalString(node, "registry", "path", &out->path); !st) {
    return st;
  }
  if (out->path.empty() || out->path[0] != '/') {
    return fail("registry.path", node, fmt::format("\"{}\" must be an absolute path", out->path));
  }
  if (st = readOptionalString(node, "registry", "sqlite_synchronous", &out->sqlite_synchronous);
      !st) {
    return st;
  }
  if (out->sqlite_synchronous != "normal" && out->sqlite_synchronous != "full") {
    return fail("registry.sqlite_synchronous", node["sqlite_synchronous"],
                fmt::format("\"{}\" is not one of normal, full", out->sqlite_synchronous));
  }
  if (st = readOptionalString(node, "registry", "etcd_prefix", &out->etcd_prefix); !st) {
    return st;
  }
  if (auto endpoints = field(node, "etcd_endpoints")) {
    if (!endpoints->IsSequence() || endpoints->size() == 0) {
      return fail("registry.etcd_endpoints", *endpoints, "expected a non-empty list of URLs");
    }
    out->etcd_endpoints.clear();
    for (size_t i = 0; i < endpoints->size(); ++i) {
      std::string path = fmt::format("registry.etcd_endpoints[{}]", i);
      std::string url;
      if (st = readString((*endpoints)[i], path, &url); !st) {
        return st;
      }
      if (!url.starts_with("http://")) {
        return fail(path, (*endpoints)[i],
                    fmt::format("\"{}\" must be an http:// URL (host:port)", url));
      }
      out->etcd_endpoints.push_back(url);
    }
  }
  return {};
}

Status ConfigReader::readApi(const YAML::Node& node, ApiConfig* out) {
  auto st = expectMap(node, "api", {"socket", "tcp"});
  if (!st) {
    return st;
  }
  if (st = readOptionalString(node, "api", "socket", &out->socket); !st) {
    return st;
  }
  if (out->socket.empty() || out->socket[0] != '/') {
    return fail("api.socket", node, fmt::format("\"{}\" must be an absolute path", out->socket));
  }
  return readOptionalString(node, "api", "tcp", &out->tcp);
}

Status ConfigReader::readDns(const YAML::Node& node, DnsConfig* out) {
  auto st = expectMap(node, "dns", {"listen", "domain", "forward"});
  if (!st) {
    return st;
  }
  if (st = readOptionalString(node, "dns", "listen", &out->listen); !st) {
    return st;
  }
  if (st = readOptionalString(node, "dns", "domain", &out->domain); !st) {
    return st;
  }
  return readOptionalString(node, "dns", "forward", &out->forward);
}

Result<AgentConfig> parseDocument(std::string_view yaml_text) {
  std::vector<YAML::Node> docs = YAML::LoadAll(std::string(yaml_text));
  if (docs.size() > 1) {
    return makeError(fmt::format("config: found {} YAML documents; expected one", docs.size()));
  }
  if (docs.empty() || docs[0].IsNull()) {
    return makeError("config: the document is empty");
  }

  AgentConfig config;
  ConfigReader reader;
  if (auto st = reader.read(docs[0], &config); !st) {
    return st.error();
  }
  if (auto p = findConfigProblem(config)) {
    return makeError(p->path + ": " + p->message + reader.locate(p->path));
  }
  return config;
}

}  // namespace

Result<AgentConfig> parseConfig(std::string_view yaml_text) {
  try {
    return parseDocument(yaml_text);
  } catch (const YAML::Exception& e) {
    std::string where =
        e.mark.is_null() ? ""
                         : fmt::format(" line {}, column {}:", e.mark.line + 1, e.mark.column + 1);
    return makeError("config:" + where + " " + e.msg);
  } catch (const std::exception& e) {
    return makeError(std::string("config: ") + e.what());
  }
}

Result<AgentConfig> loadConfigFile(const std::string& path) {
  std::string prefix = "config " + path + ": ";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return makeError(prefix + "cannot open: " + std::strerror(errno), errno);
  }

  struct stat st {};
  std::string text;
  int err = 0;
  if (::fstat(fd, &st) != 0) {
    err = errno;
  } else if (!S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) > kMaxConfigBytes) {
    ::close(fd);
    return makeError(prefix + "not a regular file of at most 4 MiB");
  } else {
    char buf[8192];
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0 && text.size() <= kMaxConfigBytes) {
      text.append(buf, static_cast<size_t>(n));
    }
    err = n < 0 ? errno : 0;
  }
  ::close(fd);
  if (err != 0) {
    return makeError(prefix + "cannot read: " + std::strerror(err), err);
  }

  auto config = parseConfig(text);
  if (!config) {
    return makeError(prefix + config.error().message);
  }
  return config;
}

}  // namespace weft
