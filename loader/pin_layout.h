// SPDX-License-Identifier: Apache-2.0
// Where weft pins its maps and links under one bpffs root, and the fixed list of what it owns.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "userspace/common/result.h"

namespace weft {

// The names of every map and program weft pins. Cleanup removes these and nothing else.
inline constexpr std::array<std::string_view, 11> kMapNames = {
    "weft_meta",     "weft_svc_v1",    "weft_slot_v1",   "weft_be_v1",
    "weft_rr_v1",    "weft_revnat_v1", "weft_stats_v1",  "weft_svcinfo_v1",
    "weft_conns_v1", "weft_skconn_v1", "weft_bypass_v1",
};
inline constexpr std::array<std::string_view, 9> kProgramNames = {
    "weft_connect4", "weft_connect6", "weft_sendmsg4", "weft_sendmsg6", "weft_recvmsg4",
    "weft_recvmsg6", "weft_getpeer4", "weft_getpeer6", "weft_sockops",
};

class PinLayout {
 public:
  explicit PinLayout(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string mapsDir() const { return root_ + "/maps"; }
  std::string linksDir() const { return root_ + "/links"; }
  std::string mapPath(std::string_view name) const { return mapsDir() + "/" + std::string(name); }
  std::string linkPath(std::string_view name) const { return linksDir() + "/" + std::string(name); }

  // Checks that the root lies on a bpffs mount and creates root, maps/ and links/.
  Status prepare() const;

 private:
  std::string root_;
};

// Validates a bpffs root given by a user: absolute, no "..", below a bpffs mount.
Status checkBpffsRoot(const std::string& root);

}  // namespace weft
