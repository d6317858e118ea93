// SPDX-License-Identifier: Apache-2.0
// Where weft pins its maps and links under one bpffs root, and the fixed list of what it owns.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "maps/weft_maps.h"

#include "userspace/common/result.h"

namespace weft {

// The names of every map and program weft pins, and of maps earlier layouts pinned. Cleanup
// removes these and nothing else.
inline constexpr std::array<std::string_view, 15> kMapNames = {
    WEFT_MAP_META,   WEFT_MAP_SVC,    WEFT_MAP_SLOT,     WEFT_MAP_BACKEND,  WEFT_MAP_RR,
    WEFT_MAP_REVNAT, WEFT_MAP_STATS,  WEFT_MAP_SVC_INFO, WEFT_MAP_CONNS,    WEFT_MAP_SK_CONN,
    WEFT_MAP_BYPASS, WEFT_MAP_MAGLEV, WEFT_MAP_MEMBER,   WEFT_MAP_AFFINITY,
    "weft_svc_v1",  // retired: layout before the Maglev and affinity fields
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
