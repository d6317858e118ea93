#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Registry benchmark: full sync of a large registry (time and weftd memory) and the latency of
# one registry change until the BPF map shows it, for the SQLite store and for etcd. Runs in a
# throwaway network namespace, cgroup and bpffs root; etcd listens on the namespace's loopback.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$root_dir/scripts/lib.sh"

usage() {
  cat <<'EOF_USAGE'
usage: sudo bench/registry.sh [--services N] [--endpoints M] [--changes K] [--skip-setup]
  --services N   services in the large registry (default 10000)
  --endpoints M  endpoints per service (default 10)
  --changes K    timed registry changes per case (default 200)
  --stores LIST  which stores to run, comma-separated (default sqlite,etcd)
  --skip-setup   do not run scripts/setup.sh (binaries must already be built)
EOF_USAGE
}

services=10000
endpoints=10
changes=200
stores=sqlite,etcd
run_setup=1
while (($#)); do
  case "$1" in
    --services) services=${2:?} && shift ;;
    --endpoints) endpoints=${2:?} && shift ;;
    --changes) changes=${2:?} && shift ;;
    --stores) stores=${2:?} && shift ;;
    --skip-setup) run_setup=0 ;;
    -h | --help) usage && exit 0 ;;
    *) usage >&2 && die "bench: unknown argument '$1'" ;;
  esac
  shift
done
[[ $EUID -eq 0 ]] || die "bench: run as root: sudo bench/registry.sh"
if ((run_setup)); then
  "$root_dir/scripts/setup.sh" >/dev/null
fi
build_dir=${WEFT_BUILD_DIR:-$root_dir/build}
weftd=$build_dir/weftd
bench=$build_dir/bench/weft_registry_bench
for bin in "$weftd" "$bench"; do
  [[ -x $bin ]] || die "bench: $bin missing; run scripts/setup.sh"
done

sandbox_init "weft-regbench-$$"
sandbox_traps
sandbox_up
SB_WEFTD=$weftd
etcd_url=http://127.0.0.1:23790

start_etcd() {
  sandbox_spawn "$SB_TMP/etcd.log" etcd --name=weft-bench --data-dir="$SB_TMP/etcd" \
    --listen-client-urls="$etcd_url" --advertise-client-urls="$etcd_url" \
    --listen-peer-urls=http://127.0.0.1:23800 \
    --initial-advertise-peer-urls=http://127.0.0.1:23800 \
    --initial-cluster=weft-bench=http://127.0.0.1:23800 --heartbeat-interval=20 \
    --election-timeout=200 --log-level=warn --logger=zap
  wait_until 15 in_ns curl -sf "$etcd_url/health" >/dev/null || die "bench: etcd did not start"
}

# write_config STORE: weftd's config for this run.
write_config() {
  cat >"$SB_TMP/weftd.yaml" <<EOF_CONFIG
cgroup: $SB_CG
bpffs_root: $SB_BPFFS
log_level: info
vip_ranges: ["10.96.0.0/16", "10.97.0.0/16"]
registry:
  store: $1
  path: $SB_TMP/registry.db
  etcd_endpoints: ["$etcd_url"]
  etcd_prefix: /weft-bench/
api:
  socket: $SB_TMP/weftd.sock
EOF_CONFIG
}

weftd_pid=""
start_weftd() {
  : >"$SB_TMP/weftd.log"
  sandbox_spawn "$SB_TMP/weftd.log" "$weftd" --config "$SB_TMP/weftd.yaml"
  weftd_pid=$SPAWNED_PID
  local deadline=$((SECONDS + 300))
  until grep -q '"agent ready"' "$SB_TMP/weftd.log"; do
    pid_gone "$weftd_pid" && tail -n 20 "$SB_TMP/weftd.log" >&2 && die "bench: weftd exited"
    ((SECONDS < deadline)) || die "bench: weftd not ready in 300 s"
    sleep 0.05
  done
}

stop_weftd() {
  stop_pid "$weftd_pid"
  "$weftd" --cleanup --bpffs-root "$SB_BPFFS" >>"$SB_TMP/cleanup.log" 2>&1
  mkdir -p "$SB_BPFFS"
}

rss_line() {
  awk '/^VmRSS/ { rss = $2 } /^VmHWM/ { hwm = $2 }
       END { printf "weftd memory: VmRSS %.1f MB, peak VmHWM %.1f MB\n", rss / 1024, hwm / 1024 }' \
    "/proc/$weftd_pid/status"
}

full_sync_line() {
  grep '"full sync done"' "$SB_TMP/weftd.log" | head -n 1 | python3 -c '
import json, sys
e = json.loads(sys.stdin.readline())
print("full sync at start: %d services, %d endpoints, %d map writes in %.0f ms" %
      (e["services"], e["endpoints"], e["map_writes"], e["duration_ms"]))'
}

# run_case STORE: seed, start weftd (timed full sync), then time changes through the API and
# through the store directly, all against the large registry.
run_case() {
  local store=$1
  echo
  echo "== $store: $services services x $endpoints endpoints"
  write_config "$store"
  in_ns "$bench" seed --store "$store" --path "$SB_TMP/registry.db" --etcd "$etcd_url" \
    --prefix /weft-bench/ --services "$services" --endpoints "$endpoints"
  local started=$EPOCHREALTIME
  start_weftd
  awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {
    printf "weftd start to ready (BPF load + full sync + API): %.0f ms\n", (b - a) * 1000 }'
  full_sync_line
  rss_line
  echo "-- change through weftd's API (one write, then the agent's own sync):"
  in_ns "$bench" changes --socket "$SB_TMP/weftd.sock" --bpffs-root "$SB_BPFFS" \
    --count "$changes"
  echo "-- change written straight into the store by another writer (another host or process):"
  in_ns "$bench" changes --store "$store" --path "$SB_TMP/registry.db" --etcd "$etcd_url" \
    --prefix /weft-bench/ --bpffs-root "$SB_BPFFS" --count "$changes"
  rss_line
  # A resync or a lost watch during the run explains outliers; show them with the figures.
  grep -E '"level":"(warn|error)"|"full sync done"' "$SB_TMP/weftd.log" | tail -n +2 | head -n 5 |
    sed 's/^/weftd log: /' || true
  stop_weftd
}

echo "weft registry benchmark; $(nproc) CPUs, kernel $(uname -r)"
for store in ${stores//,/ }; do
  case $store in
    sqlite) run_case sqlite ;;
    etcd) start_etcd && run_case etcd ;;
    *) die "bench: unknown store '$store' (sqlite, etcd)" ;;
  esac
done
