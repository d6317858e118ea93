#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# weft in two minutes: three HTTP backends behind one virtual IP inside a throwaway network
# namespace and cgroup, balanced by weft's socket hooks, then a live backend removal.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$root_dir/scripts/lib.sh"

readonly kVip=10.96.0.10
readonly kRequests=90

run_setup=1
case "${1:-}" in
  --skip-setup) run_setup=0 ;;
  "") ;;
  *) die "usage: scripts/demo.sh [--skip-setup]" ;;
esac
[[ $EUID -eq 0 ]] || die "demo: run as root: sudo ./scripts/demo.sh"

if ((run_setup)); then
  step "Setup: packages, bpffs, build (scripts/setup.sh)"
  "$root_dir/scripts/setup.sh"
fi
build_dir=${WEFT_BUILD_DIR:-$root_dir/build}
weftd=$build_dir/weftd
weftctl=$build_dir/weftctl
[[ -x $weftd && -x $weftctl ]] || die "demo: $weftd or $weftctl missing; run scripts/setup.sh"

sandbox_init "weft-demo-$$"
sandbox_traps
sandbox_up
SB_WEFTD=$weftd

step "Sandbox"
note "network namespace  $SB_NS (only lo, no route to $kVip)"
note "mesh cgroup        $SB_CG"
note "bpffs root         $SB_BPFFS"

step "Backends: three HTTP servers on 127.0.0.1:8081..8083 in the namespace"
for i in 1 2 3; do
  mkdir -p "$SB_TMP/www$i"
  echo "backend-$i" >"$SB_TMP/www$i/index.html"
  sandbox_spawn "$SB_TMP/backend$i.log" python3 -m http.server "808$i" --bind 127.0.0.1 \
    --directory "$SB_TMP/www$i"
done
for i in 1 2 3; do
  wait_until 20 in_ns curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:808$i/" ||
    die "demo: backend-$i did not come up, see $SB_TMP/backend$i.log"
done
note "all three answer"

# write_config N: a weftd config whose service "web" has backends 1..N.
write_config() {
  local n=$1 i
  {
    echo "cgroup: $SB_CG"
    echo "bpffs_root: $SB_BPFFS"
    echo "log_level: info"
    echo 'vip_ranges: ["10.96.0.0/16"]'
    # The sandbox's own registry file and API socket: nothing lands in /var/lib or /run.
    echo "registry:"
    echo "  path: $SB_TMP/registry.db"
    echo "api:"
    echo "  socket: $SB_TMP/weftd.sock"
    echo "services:"
    echo "  - name: web"
    echo "    vip: $kVip"
    echo "    port: 80"
    echo "    protocol: tcp"
    echo "    algorithm: round_robin"
    echo "    backends:"
    for ((i = 1; i <= n; i++)); do
      echo "      - address: 127.0.0.1"
      echo "        port: 808$i"
    done
  } >"$config.tmp"
  mv "$config.tmp" "$config"
}

backends_are() {
  local n
  n=$("$weftctl" --bpffs-root "$SB_BPFFS" -o json backend list web 2>/dev/null |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' 2>/dev/null) || return 1
  [[ $n == "$1" ]]
}

# await_backends N: polls weftctl until web has N backends; fails early if weftd died.
await_backends() {
  local deadline=$((SECONDS + 20))
  until backends_are "$1"; do
    pid_gone "$weftd_pid" && tail -n 20 "$SB_TMP/weftd.log" >&2 && die "demo: weftd exited"
    ((SECONDS < deadline)) || die "demo: weftctl never showed $1 backends ($SB_TMP/weftd.log)"
    sleep 0.2
  done
}

# drive: kRequests curls, each a new connection, from inside the mesh cgroup; prints a table.
drive() {
  note "$kRequests requests to http://$kVip/ from inside the mesh cgroup:"
  # shellcheck disable=SC2016 # expanded by the inner shell
  in_mesh sh -c 'i=0; while [ $i -lt "$1" ]; do
      curl -s --max-time 2 "http://$0/" || echo "(failed)"; i=$((i + 1)); done' \
    "$kVip" "$kRequests" | sort | uniq -c |
    awk 'BEGIN { printf "     %-12s %s\n", "served by", "requests" }
         { printf "     %-12s %8d\n", $2, $1 }'
}

step "weftd: service web = $kVip:80, round robin over the three backends"
config=$SB_TMP/weftd.yaml
write_config 3
sandbox_spawn "$SB_TMP/weftd.log" "$weftd" --config "$config"
weftd_pid=$SPAWNED_PID
await_backends 3
note "weftd (pid $weftd_pid) attached to the mesh cgroup; weftctl sees 3 backends"

step "Traffic"
drive

step "weftctl service list"
"$weftctl" --bpffs-root "$SB_BPFFS" service list | sed 's/^/     /'
step "weftctl backend list web"
"$weftctl" --bpffs-root "$SB_BPFFS" backend list web | sed 's/^/     /'

step "Live change: drop backend-3 from the config and send SIGHUP"
write_config 2
kill -HUP "$weftd_pid"
await_backends 2
note "weftctl now shows 2 backends"
drive

step "Outside the mesh cgroup the virtual IP means nothing"
if out=$(in_ns curl -sS --max-time 2 "http://$kVip/" 2>&1); then
  die "demo: a client outside the mesh cgroup reached $kVip: $out"
fi
note "curl from the same namespace but another cgroup: ${out#curl: }"

step "weftctl status: weft's per-reason counters (per-CPU maps, summed)"
"$weftctl" --bpffs-root "$SB_BPFFS" -o json status | python3 -c '
import json, sys
counters = json.load(sys.stdin)["counters"]
print("     " + "  ".join(f"{k}={v}" for k, v in counters.items() if v))'

step "Teardown: stop processes, weftd --cleanup, remove namespace, cgroup and pins"
