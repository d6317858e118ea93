// SPDX-License-Identifier: Apache-2.0
// Kernel feature probes for the socket programs.
#include "loader/feature_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace weft {
namespace {

struct AttachProbe {
  bpf_attach_type type;
  const char* what;
};

// Loads `r0 = 1; exit` for an attach type: the kernel rejects attach types it does not know.
bool attachTypeLoads(bpf_attach_type type) {
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type);
  int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, "weft_probe", "GPL", insns, 2, &opts);
  if (fd < 0) {
    return false;
  }
  ::close(fd);
  return true;
}

}  // namespace

Status probeSockLbFeatures() {
  std::vector<std::string> missing;

  if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    missing.push_back("kernel BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF)");
  }
  if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, nullptr) != 1) {
    missing.push_back("program type cgroup_sock_addr (CONFIG_CGROUP_BPF, kernel 4.17+)");
  }
  const AttachProbe attach_probes[] = {
      {BPF_CGROUP_INET4_CONNECT, "cgroup/connect4 (4.17+)"},
      {BPF_CGROUP_INET6_CONNECT, "cgroup/connect6 (4.17+)"},
      {BPF_CGROUP_UDP4_SENDMSG, "cgroup/sendmsg4 (4.18+)"},
      {BPF_CGROUP_UDP6_SENDMSG, "cgroup/sendmsg6 (4.18+)"},
      {BPF_CGROUP_UDP4_RECVMSG, "cgroup/recvmsg4 (5.2+)"},
      {BPF_CGROUP_UDP6_RECVMSG, "cgroup/recvmsg6 (5.2+)"},
      {BPF_CGROUP_INET4_GETPEERNAME, "cgroup/getpeername4 (5.8+)"},
      {BPF_CGROUP_INET6_GETPEERNAME, "cgroup/getpeername6 (5.8+)"},
  };
  for (const AttachProbe& probe : attach_probes) {
    if (!attachTypeLoads(probe.type)) {
      missing.push_back(std::string("attach type ") + probe.what);
    }
  }
  for (bpf_map_type type : {BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY}) {
    if (libbpf_probe_bpf_map_type(type, nullptr) != 1) {
      missing.push_back(std::string("map type ") + libbpf_bpf_map_type_str(type));
    }
  }
  if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_set_retval, nullptr) != 1) {
    missing.push_back("helper bpf_set_retval for ECONNREFUSED (5.18+)");
  }
  if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_get_socket_cookie,
                              nullptr) != 1) {
    missing.push_back("helper bpf_get_socket_cookie in sock_addr programs (5.0+)");
  }
  // Least-connection counting keeps each socket's backend in socket storage from connect on.
  if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_sk_storage_get, nullptr) !=
      1) {
    missing.push_back("helper bpf_sk_storage_get in sock_addr programs");
  }

  if (missing.empty()) {
    return {};
  }
  std::string message = "kernel lacks what weft needs:";
  for (const std::string& m : missing) {
    message += " " + m + ";";
  }
  message.pop_back();
  return makeError(message);
}

}  // namespace weft
