# SPDX-License-Identifier: Apache-2.0
# Shell helpers shared by the setup, demo, test and bench scripts: messages, mounts, and a
# sandbox (network namespace + child cgroup + bpffs root) that is always torn down.
# shellcheck shell=bash

die() {
  echo "error: $*" >&2
  exit 1
}

step() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }

# Prints the first cgroup2 mount point; fails when the host has none.
cgroup2_root() {
  awk '$3 == "cgroup2" { print $2; found = 1; exit } END { exit !found }' /proc/mounts
}

ensure_bpffs() {
  if ! awk '$2 == "/sys/fs/bpf" && $3 == "bpf" { found = 1 } END { exit !found }' /proc/mounts
  then
    mkdir -p /sys/fs/bpf
    mount -t bpf bpf /sys/fs/bpf
  fi
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds or SECONDS pass.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# --- sandbox -------------------------------------------------------------------------------
# sandbox_init NAME sets SB_NS, SB_CG, SB_BPFFS, SB_TMP; sandbox_up creates them;
# sandbox_down removes them and everything started with sandbox_spawn; sandbox_traps makes
# that happen on exit, error, Ctrl-C and SIGTERM.

SB_PIDS=()
SB_KEEP_LOGS=1 # keep SB_TMP after a failure, not after Ctrl-C or SIGTERM
SB_WEFTD="" # set to the weftd binary once it may have pinned anything

sandbox_init() {
  local cg_root
  cg_root=$(cgroup2_root) || die "no cgroup2 filesystem in /proc/mounts (weft needs cgroup v2)"
  SB_NS=$1
  SB_CG=$cg_root/$1
  SB_BPFFS=/sys/fs/bpf/$1
  SB_TMP=$(mktemp -d "/tmp/$1.XXXXXX")
}

sandbox_traps() {
  trap sandbox_down EXIT
  trap 'echo "interrupted; cleaning up" >&2; SB_KEEP_LOGS=0; exit 130' INT
  trap 'SB_KEEP_LOGS=0; exit 143' TERM
}

sandbox_up() {
  ensure_bpffs
  ip netns add "$SB_NS"
  ip -n "$SB_NS" link set lo up
  mkdir "$SB_CG"
  mkdir -p "$SB_BPFFS"
}

# in_ns CMD...: runs CMD in the sandbox's network namespace. nsenter rather than
# `ip netns exec`, which remounts /sys and so hides the cgroup2 and bpffs mounts.
in_ns() { nsenter --net="/run/netns/$SB_NS" "$@"; }

# in_mesh CMD...: runs CMD in the namespace and inside the mesh cgroup, where weft balances.
in_mesh() {
  # shellcheck disable=SC2016 # $$ and $0 belong to the inner shell
  in_ns sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$SB_CG" "$@"
}

# sandbox_spawn LOG CMD...: starts CMD in the namespace in the background; sets SPAWNED_PID.
sandbox_spawn() {
  local log=$1
  shift
  # nsenter execs CMD, so $! is CMD's own PID.
  nsenter --net="/run/netns/$SB_NS" "$@" >"$log" 2>&1 &
  SPAWNED_PID=$!
  SB_PIDS+=("$SPAWNED_PID")
}

pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# stop_pid PID: SIGTERM, then SIGKILL after 5 s; only for processes this script started.
stop_pid() {
  local pid=$1
  pid_gone "$pid" && return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait_until 5 pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

sandbox_down() {
  local rc=$? pid
  trap - EXIT INT TERM
  [[ -n ${SB_NS:-} ]] || return "$rc"

  for pid in "${SB_PIDS[@]}"; do
    stop_pid "$pid"
  done
  # By bpffs root rather than config, so cleanup works even if the config went bad.
  if [[ -n $SB_WEFTD && -d $SB_BPFFS ]]; then
    "$SB_WEFTD" --cleanup --bpffs-root "$SB_BPFFS" >"$SB_TMP/cleanup.log" 2>&1 ||
      echo "warning: weftd --cleanup failed, see $SB_TMP/cleanup.log" >&2
  fi

  # Only this script's clients ever join the cgroup; any still alive were started here.
  if [[ -f $SB_CG/cgroup.procs ]]; then
    while read -r pid; do
      kill -KILL "$pid" 2>/dev/null || true
    done <"$SB_CG/cgroup.procs"
    wait_until 5 test ! -s "$SB_CG/cgroup.procs" || true
    rmdir "$SB_CG" 2>/dev/null || echo "warning: could not remove cgroup $SB_CG" >&2
  fi
  ip netns del "$SB_NS" 2>/dev/null || true
  # Removing the pins drops the last reference to any link weftd --cleanup left behind.
  [[ -d $SB_BPFFS ]] && rm -rf "$SB_BPFFS"
  if ((rc != 0 && SB_KEEP_LOGS)); then
    echo "logs kept in $SB_TMP" >&2
  else
    rm -rf "$SB_TMP"
  fi
  return "$rc"
}
