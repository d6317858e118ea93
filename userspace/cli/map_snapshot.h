// SPDX-License-Identifier: Apache-2.0
// A read-only snapshot of weft's pinned maps, taken by weftctl without the agent.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "maps/weft_maps.h"
#include "userspace/common/result.h"

namespace weft::cli {

struct ServiceRow {
  weft_svc_key key{};
  weft_svc_value value{};
  std::string name;  // empty when the info map has no entry
};

struct BackendRow {
  uint32_t svc_id = 0;
  uint32_t backend_id = 0;
  weft_backend backend{};
};

struct LinkRow {
  std::string program;
  bool pinned = false;
  uint64_t cgroup_id = 0;
  uint32_t prog_id = 0;
};

struct Snapshot {
  unsigned layout_version = 0;
  std::vector<ServiceRow> services;
  std::map<uint32_t, weft_backend> backends;                  // every backend by id
  std::map<uint32_t, std::vector<uint32_t>> active_backends;  // svc id -> ids, slot order
  // weft_member_v1: svc id -> backend id -> WEFT_BE_ACTIVE or WEFT_BE_DRAINING. Holds the
  // drained backends that slots no longer name, and the members of Maglev tables.
  std::map<uint32_t, std::map<uint32_t, uint8_t>> members;
  std::map<uint32_t, uint64_t> active_connections;  // backend id -> established
  std::vector<LinkRow> links;
  std::vector<uint64_t> reason_counts;  // indexed by enum weft_reason, summed over CPUs
  uint64_t revnat_entries = 0;
};

// Reads everything under the bpffs root. Fails with a clear message when nothing is
// pinned there or the pins are of another layout.
Result<Snapshot> readSnapshot(const std::string& bpffs_root);

}  // namespace weft::cli
