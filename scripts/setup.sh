#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Prepares a Debian 12 host for weft (packages, bpffs, cgroup v2 check) and builds it.
# Safe to rerun: installed packages, mounts and up-to-date builds are left alone.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/setup.sh [--sanitize [--san-target T]...] [--no-build]
  --sanitize      also build with ASan/UBSan into build-san (-DWEFT_SANITIZE=ON)
  --san-target T  build only target T there (repeatable; default: everything)
  --no-build      prepare the host only
environment: WEFT_BUILD_DIR (default ./build), WEFT_SAN_BUILD_DIR (default ./build-san),
             WEFT_JOBS (default 2)
EOF
}

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$root_dir/scripts/lib.sh"

sanitize=0
san_targets=()
build=1
while (($#)); do
  case "$1" in
    --sanitize) sanitize=1 ;;
    --san-target) san_targets+=("${2:?--san-target needs a target}") && shift ;;
    --no-build) build=0 ;;
    -h | --help) usage && exit 0 ;;
    *) usage >&2 && die "setup: unknown argument '$1'" ;;
  esac
  shift
done

[[ $EUID -eq 0 ]] || die "setup: must run as root (BPF, bpffs and apt need it)"

# Everything the build, the demo, the tests and the benchmark use.
packages=(
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config cmake make g++
  libboost-system-dev libboost-dev libssl-dev libgtest-dev libgmock-dev libyaml-cpp-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libsqlite3-dev
  iproute2 iptables util-linux curl wrk python3 clang-format dnsutils etcd-server etcd-client
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
  step "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${packages[@]}"
else
  note "setup: all ${#packages[@]} packages present"
fi

ensure_bpffs
cgroup_root=$(cgroup2_root) ||
  die "setup: no cgroup2 filesystem in /proc/mounts; weft needs cgroup v2 (unified or hybrid)"
note "setup: cgroup v2 at $cgroup_root, bpffs at /sys/fs/bpf"

((build)) || exit 0

jobs=${WEFT_JOBS:-2}
build_dir=${WEFT_BUILD_DIR:-$root_dir/build}
step "setup: building into $build_dir"
cmake -S "$root_dir" -B "$build_dir" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DWEFT_SANITIZE=OFF >/dev/null
make -C "$build_dir" -j"$jobs" --no-print-directory

if ((sanitize)); then
  san_dir=${WEFT_SAN_BUILD_DIR:-$root_dir/build-san}
  step "setup: building with sanitizers into $san_dir"
  cmake -S "$root_dir" -B "$san_dir" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=Debug \
    -DWEFT_SANITIZE=ON >/dev/null
  make -C "$san_dir" -j"$jobs" --no-print-directory "${san_targets[@]}"
fi
