// SPDX-License-Identifier: Apache-2.0
// Name tables for hinted fields, built from the contract's constants so they cannot drift.
#include "userspace/cli/field_hints.h"

#include <span>

#include "maps/weft_maps.h"

namespace weft::cli {
namespace {

struct Name {
  uint64_t value;
  const char* name;
};

constexpr Name kProtos[] = {{WEFT_PROTO_TCP, "tcp"}, {WEFT_PROTO_UDP, "udp"}};
// "inet" and "inet6" are accepted on input too; output uses the first name of a value.
constexpr Name kFamilies[] = {{WEFT_AF_INET, "ipv4"},
                              {WEFT_AF_INET6, "ipv6"},
                              {WEFT_AF_INET, "inet"},
                              {WEFT_AF_INET6, "inet6"}};
constexpr Name kAlgos[] = {{WEFT_LB_RANDOM, "random"},
                           {WEFT_LB_ROUND_ROBIN, "round_robin"},
                           {WEFT_LB_WEIGHTED, "weighted"},
                           {WEFT_LB_LEAST_CONN, "least_conn"},
                           {WEFT_LB_MAGLEV, "maglev"}};
constexpr Name kStates[] = {{WEFT_BE_ACTIVE, "active"},
                            {WEFT_BE_DRAINING, "draining"},
                            {WEFT_BE_UNHEALTHY, "unhealthy"},
                            {WEFT_BE_CIRCUIT_OPEN, "circuit_open"}};

std::span<const Name> tableOf(Hint hint) {
  switch (hint) {
    case Hint::kProto:
      return kProtos;
    case Hint::kFamily:
      return kFamilies;
    case Hint::kAlgo:
      return kAlgos;
    case Hint::kBackendState:
      return kStates;
    default:
      return {};
  }
}

std::optional<uint64_t> lookup(std::span<const Name> table, const std::string& name) {
  for (const Name& n : table) {
    if (name == n.name) {
      return n.value;
    }
  }
  return std::nullopt;
}

std::optional<std::string> stateName(uint64_t state) {
  if (state == 0) {
    return "none";
  }
  std::string out;
  uint64_t known = 0;
  for (const Name& n : kStates) {
    if (state & n.value) {
      out += (out.empty() ? "" : ",") + std::string(n.name);
      known |= n.value;
    }
  }
  // Bits the contract does not name yet: the number says everything.
  return (state & ~known) != 0 ? std::nullopt : std::optional(out);
}

std::optional<uint64_t> stateValue(const std::string& text) {
  if (text == "none") {
    return 0;
  }
  uint64_t bits = 0;
  for (size_t start = 0; start <= text.size();) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) {
      comma = text.size();
    }
    auto v = lookup(kStates, text.substr(start, comma - start));
    if (!v) {
      return std::nullopt;
    }
    bits |= *v;
    start = comma + 1;
  }
  return bits;
}

}  // namespace

std::optional<std::string> hintName(Hint hint, uint64_t raw) {
  if (hint == Hint::kBackendState) {
    return stateName(raw);
  }
  for (const Name& n : tableOf(hint)) {
    if (n.value == raw) {
      return n.name;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> hintValue(Hint hint, const std::string& name) {
  return hint == Hint::kBackendState ? stateValue(name) : lookup(tableOf(hint), name);
}

std::string hintNoun(Hint hint) {
  switch (hint) {
    case Hint::kProto:
      return "a protocol";
    case Hint::kFamily:
      return "an address family";
    case Hint::kAlgo:
      return "a balancing algorithm";
    case Hint::kBackendState:
      return "a list of backend states";
    default:
      return "a name";
  }
}

std::string hintNames(Hint hint) {
  std::string out;
  for (const Name& n : tableOf(hint)) {
    out += (out.empty() ? "" : ", ") + std::string(n.name);
  }
  return hint == Hint::kBackendState ? out + ", none" : out;
}

}  // namespace weft::cli
