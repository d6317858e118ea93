// SPDX-License-Identifier: Apache-2.0
// Row building and table printing for weftctl.
#include "userspace/cli/render.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>
#include <vector>

namespace weft::cli {
namespace {

std::string formatAddr(const __u32 addr[4], __u8 family) {
  char text[INET6_ADDRSTRLEN] = {};
  int af = family == WEFT_AF_INET6 ? AF_INET6 : AF_INET;
  if (!inet_ntop(af, addr, text, sizeof(text))) {
    return "?";
  }
  return text;
}

const char* protoName(__u8 proto) {
  switch (proto) {
    case WEFT_PROTO_TCP:
      return "tcp";
    case WEFT_PROTO_UDP:
      return "udp";
    default:
      return "?";
  }
}

const char* algoName(__u8 algo) {
  switch (algo) {
    case WEFT_LB_RANDOM:
      return "random";
    case WEFT_LB_ROUND_ROBIN:
      return "round_robin";
    case WEFT_LB_WEIGHTED:
      return "weighted";
    case WEFT_LB_LEAST_CONN:
      return "least_conn";
    case WEFT_LB_MAGLEV:
      return "maglev";
    default:
      return "?";
  }
}

const char* reasonName(unsigned reason) {
  static const char* const kNames[WEFT_R_MAX] = {
      "lb_ok",         "not_service",     "no_backend",         "slot_miss",
      "backend_miss",  "family_mismatch", "revnat_update_fail", "peer_restored",
      "recv_restored", "v4_mapped",       "bypassed",
  };
  return reason < WEFT_R_MAX ? kNames[reason] : "?";
}

std::string stateName(__u8 state) {
  std::string out;
  auto add = [&](const char* s) { out += out.empty() ? s : std::string(",") + s; };
  if (state & WEFT_BE_ACTIVE)
    add("active");
  if (state & WEFT_BE_DRAINING)
    add("draining");
  if (state & WEFT_BE_UNHEALTHY)
    add("unhealthy");
  if (state & WEFT_BE_CIRCUIT_OPEN)
    add("circuit_open");
  return out.empty() ? "none" : out;
}

std::string serviceAddress(const weft_svc_key& key) {
  std::string addr = formatAddr(key.addr, key.family);
  if (key.family == WEFT_AF_INET6) {
    addr = "[" + addr + "]";
  }
  return addr + ":" + std::to_string(ntohs(key.port)) + "/" + protoName(key.proto);
}

bool serviceMatches(const ServiceRow& row, const std::string& wanted) {
  // Registry services are named "<name>.<ns>"; a bare name means the default namespace.
  if (wanted == row.name || wanted + ".default" == row.name) {
    return true;
  }
  std::string full = serviceAddress(row.key);
  if (wanted == full) {
    return true;
  }
  // "vip:port" names the TCP service first, as most people mean it.
  std::string no_proto = full.substr(0, full.rfind('/'));
  return wanted == no_proto && row.key.proto == WEFT_PROTO_TCP;
}

struct BackendListing {
  uint32_t id;
  bool draining;
};

// The backends `backend list` shows for one service: the active half's slots in slot order
// (as connects see them), then ACTIVE members no slot names (none, unless the maps were
// edited by hand), then DRAINING members, which keep only their established connections.
std::vector<BackendListing> listBackends(const Snapshot& snap, uint32_t svc_id) {
  std::vector<BackendListing> out;
  std::set<uint32_t> listed;
  if (auto ids = snap.active_backends.find(svc_id); ids != snap.active_backends.end()) {
    for (uint32_t id : ids->second) {
      out.push_back({id, false});
      listed.insert(id);
    }
  }
  auto members = snap.members.find(svc_id);
  if (members == snap.members.end()) {
    return out;
  }
  for (bool draining : {false, true}) {
    for (const auto& [id, state] : members->second) {
      bool is_draining = (state & WEFT_BE_DRAINING) != 0;
      if (is_draining == draining && listed.insert(id).second) {
        out.push_back({id, draining});
      }
    }
  }
  return out;
}

uint64_t activeConnections(const Snapshot& snap, uint32_t backend_id) {
  auto active = snap.active_connections.find(backend_id);
  return active == snap.active_connections.end() ? 0 : active->second;
}

// Table headers shorter than their JSON keys.
std::string columnName(const std::string& key) {
  return key == "active_connections" ? "active" : key;
}

std::string cell(const nlohmann::ordered_json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

}  // namespace

nlohmann::ordered_json statusJson(const Snapshot& snap, const std::string& bpffs_root) {
  nlohmann::ordered_json out;
  out["bpffs_root"] = bpffs_root;
  out["layout_version"] = snap.layout_version;
  out["services"] = snap.services.size();
  out["backends"] = snap.backends.size();
  out["revnat_entries"] = snap.revnat_entries;
  nlohmann::ordered_json links = nlohmann::ordered_json::object();
  for (const LinkRow& link : snap.links) {
    links[link.program] = link.pinned ? "prog " + std::to_string(link.prog_id) + " on cgroup " +
                                            std::to_string(link.cgroup_id)
                                      : std::string("not attached");
  }
  out["links"] = links;
  nlohmann::ordered_json counters = nlohmann::ordered_json::object();
  for (unsigned r = 0; r < snap.reason_counts.size(); r++) {
    counters[reasonName(r)] = snap.reason_counts[r];
  }
  out["counters"] = counters;
  return out;
}

nlohmann::ordered_json servicesJson(const Snapshot& snap, bool balancing) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const ServiceRow& row : snap.services) {
    nlohmann::ordered_json j;
    j["name"] = row.name;
    j["vip"] = formatAddr(row.key.addr, row.key.family);
    j["port"] = ntohs(row.key.port);
    j["protocol"] = protoName(row.key.proto);
    j["svc_id"] = row.value.svc_id;
    j["algorithm"] = algoName(row.value.algo);
    j["backends"] = row.value.count;
    j["generation"] = row.value.generation;
    if (balancing) {
      j["maglev_size"] = row.value.maglev_size;
      j["affinity_timeout_seconds"] = row.value.affinity_timeout_s;
    }
    rows.push_back(j);
  }
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a["svc_id"] < b["svc_id"]; });
  return rows;
}

Result<nlohmann::ordered_json> backendsJson(const Snapshot& snap,
                                            const std::optional<std::string>& service) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  bool found = false;
  for (const ServiceRow& row : snap.services) {
    if (service && !serviceMatches(row, *service)) {
      continue;
    }
    found = true;
    for (const BackendListing& listing : listBackends(snap, row.value.svc_id)) {
      auto backend = snap.backends.find(listing.id);
      if (backend == snap.backends.end()) {
        continue;
      }
      const weft_backend& b = backend->second;
      uint64_t active = activeConnections(snap, listing.id);
      nlohmann::ordered_json j;
      j["service"] = row.name.empty() ? serviceAddress(row.key) : row.name;
      j["backend_id"] = listing.id;
      j["address"] = formatAddr(b.addr, b.family);
      j["port"] = ntohs(b.port);
      j["protocol"] = protoName(b.proto);
      j["state"] = listing.draining ? (active > 0 ? "draining" : "drained") : stateName(b.state);
      j["active_connections"] = active;
      rows.push_back(j);
    }
  }
  if (service && !found) {
    return makeError("service: \"" + *service + "\" is not a known service name or vip:port");
  }
  return rows;
}

void printTable(std::ostream& out, const nlohmann::ordered_json& rows) {
  if (rows.empty()) {
    out << "(none)\n";
    return;
  }
  std::vector<std::string> headers;
  for (const auto& item : rows.front().items()) {
    headers.push_back(item.key());
  }
  std::vector<size_t> widths;
  for (const std::string& h : headers) {
    widths.push_back(columnName(h).size());
  }
  for (const auto& row : rows) {
    for (size_t c = 0; c < headers.size(); c++) {
      widths[c] = std::max(widths[c], cell(row[headers[c]]).size());
    }
  }
  auto print_row = [&](auto get) {
    for (size_t c = 0; c < headers.size(); c++) {
      std::string text = get(c);
      out << text;
      if (c + 1 < headers.size()) {
        out << std::string(widths[c] - text.size() + 2, ' ');
      }
    }
    out << "\n";
  };
  print_row([&](size_t c) {
    std::string upper = columnName(headers[c]);
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    return upper;
  });
  for (const auto& row : rows) {
    print_row([&](size_t c) { return cell(row[headers[c]]); });
  }
}

void printKeyValues(std::ostream& out, const nlohmann::ordered_json& object, int indent) {
  for (const auto& item : object.items()) {
    out << std::string(indent, ' ') << item.key() << ":";
    if (item.value().is_object()) {
      out << "\n";
      printKeyValues(out, item.value(), indent + 2);
    } else {
      out << " " << cell(item.value()) << "\n";
    }
  }
}

}  // namespace weft::cli
