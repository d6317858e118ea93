#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Connection-rate benchmark: direct connect vs weft's socket LB vs kube-proxy-style iptables
# DNAT, all inside one throwaway network namespace, cgroup and bpffs root.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$root_dir/scripts/lib.sh"

usage() {
  cat <<'EOF'
usage: sudo bench/socklb.sh [--count N] [--seconds S] [--rounds R] [--skip-setup]
  --count N     measured connections per round (default 20000)
  --seconds S   time limit per round (default 10)
  --rounds R    rounds per case; the table shows the round with the median rate (default 3)
  --skip-setup  do not run scripts/setup.sh (binaries must already be built)
EOF
}

count=20000
seconds=10
rounds=3
run_setup=1
while (($#)); do
  case "$1" in
    --count) count=${2:?} && shift ;;
    --seconds) seconds=${2:?} && shift ;;
    --rounds) rounds=${2:?} && shift ;;
    --skip-setup) run_setup=0 ;;
    -h | --help) usage && exit 0 ;;
    *) usage >&2 && die "bench: unknown argument '$1'" ;;
  esac
  shift
done
[[ $EUID -eq 0 ]] || die "bench: run as root: sudo bench/socklb.sh"

if ((run_setup)); then
  "$root_dir/scripts/setup.sh" >/dev/null
fi
build_dir=${WEFT_BUILD_DIR:-$root_dir/build}
weftd=$build_dir/weftd
weftctl=$build_dir/weftctl
bench=$build_dir/bench/weft_connect_bench
gen=$root_dir/bench/gen_services.py
for bin in "$weftd" "$weftctl" "$bench"; do
  [[ -x $bin ]] || die "bench: $bin missing; run scripts/setup.sh"
done

sandbox_init "weft-bench-$$"
sandbox_traps
sandbox_up
SB_WEFTD=$weftd
config=$SB_TMP/weftd.yaml

echo "weft socket-LB benchmark: $rounds rounds per case of $count connections or ${seconds}s," \
  "one connection at a time"
echo "sandbox: netns $SB_NS, cgroup $SB_CG, bpffs $SB_BPFFS"

# Every case gets a fresh backend on its own port, so conntrack entries one case leaves
# behind (iptables runs) can never collide with the next case's connections.
next_port=9100
start_backend() {
  next_port=$((next_port + 1))
  backend_port=$next_port
  sandbox_spawn "$SB_TMP/server-$backend_port.log" "$bench" server "$backend_port"
  backend_pid=$SPAWNED_PID
  wait_until 10 in_ns "$bench" client 127.0.0.1 "$backend_port" 1 1 0 >/dev/null ||
    die "bench: backend on port $backend_port did not start"
}

stop_backend() { stop_pid "$backend_pid"; }

direct_rate=""
rows=()
# measure LABEL RUNNER ADDR PORT: runs the client through RUNNER (in_ns or in_mesh) for each
# round and keeps the round with the median rate: other load on the host skews single rounds.
measure() {
  local label=$1 runner=$2 addr=$3 port=$4 line key value i errors=0 pct
  local -a lines=()
  local -A r=()
  echo "   running: $label" >&2
  for ((i = 0; i < rounds; i++)); do
    line=$("$runner" "$bench" client "$addr" "$port" "$count" "$seconds") || true
    [[ $line == *" rate="* ]] || die "bench: $label: client printed no result: $line"
    lines+=("$line")
    line=${line#*errors=}
    errors=$((errors + ${line%% *}))
  done
  line=$(printf '%s\n' "${lines[@]}" | sed 's/.* rate=\([0-9]*\) .*/\1\t&/' | sort -n |
    sed -n "$(((rounds + 1) / 2))p" | cut -f2-)

  # key=value pairs; the last one, error=, is free text.
  for kv in ${line%% error=*}; do
    key=${kv%%=*}
    value=${kv#*=}
    r[$key]=$value
  done
  [[ -n $direct_rate ]] || direct_rate=${r[rate]}
  pct=$(awk -v a="${r[rate]}" -v b="$direct_rate" 'BEGIN { printf "%.0f%%", b ? 100 * a / b : 0 }')
  rows+=("$(printf '%-40s %9s %9s %9s %9s %7s' "$label" "${r[rate]}" "${r[p50_us]}" \
    "${r[p99_us]}" "$pct" "$errors")")
  if ((errors > 0)); then
    rows+=("$(printf '%-40s first error: %s' "" "$(printf '%s\n' "${lines[@]}" |
      grep -v 'error=none' | head -n 1 | sed 's/.* error=//')")")
  fi
}

service_count_is() {
  local n
  n=$("$weftctl" --bpffs-root "$SB_BPFFS" -o json service list 2>/dev/null |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' 2>/dev/null) || return 1
  [[ $n == "$1" ]]
}

# services_balance_with ALGORITHM AFFINITY_SECONDS: every service shows both, so a case label
# never names a setting the data path did not get.
services_balance_with() {
  "$weftctl" --bpffs-root "$SB_BPFFS" -o json service list 2>/dev/null | python3 -c '
import json, sys
rows = json.load(sys.stdin)
ok = all(r["algorithm"] == sys.argv[1] and r.get("affinity_timeout_seconds", 0) == int(sys.argv[2])
         for r in rows)
sys.exit(0 if rows and ok else 1)' "$1" "$2" 2>/dev/null
}

# weft_apply N [ALGORITHM [AFFINITY_SECONDS]]: writes an N-service config pointing at the current
# backend and waits (bounded) until weftctl shows all N services with that algorithm and affinity
# timeout. Starts weftd on first use, then reloads with SIGHUP.
weftd_pid=""
weft_apply() {
  local n=$1 algorithm=${2:-round_robin} affinity=${3:-0} deadline=$((SECONDS + 120))
  python3 "$gen" weftd "$n" --cgroup "$SB_CG" --bpffs-root "$SB_BPFFS" \
    --backend-port "$backend_port" --state-dir "$SB_TMP" --algorithm "$algorithm" \
    --affinity-timeout "$affinity" >"$config.tmp"
  mv "$config.tmp" "$config"
  if [[ -z $weftd_pid ]]; then
    sandbox_spawn "$SB_TMP/weftd.log" "$weftd" --config "$config" --log-level warn
    weftd_pid=$SPAWNED_PID
  else
    kill -HUP "$weftd_pid"
  fi
  # A reload that keeps the service count must still show the new backend port.
  local last_vip
  last_vip=$(python3 "$gen" vip "$n" $((n - 1)))
  until service_count_is "$n" && services_balance_with "$algorithm" "$affinity" &&
    "$weftctl" --bpffs-root "$SB_BPFFS" -o json backend list "$last_vip:80" 2>/dev/null |
    grep -q "\"port\": *$backend_port"; do
    pid_gone "$weftd_pid" && tail -n 20 "$SB_TMP/weftd.log" >&2 && die "bench: weftd exited"
    ((SECONDS < deadline)) || die "bench: weftd did not apply $n services in time"
    sleep 0.2
  done
}

iptables_apply() {
  python3 "$gen" iptables "$1" --backend-port "$backend_port" >"$SB_TMP/rules-$1.txt"
  in_ns iptables-restore <"$SB_TMP/rules-$1.txt"
}

start_backend
measure "direct 127.0.0.1" in_ns 127.0.0.1 "$backend_port"
stop_backend

start_backend
weft_apply 1
measure "weft, 1 service" in_mesh "$(python3 "$gen" vip 1 0)" 80
stop_backend

# The other algorithms on the same single service: the cost of each decision (least_conn
# also pays for its sockops accounting of every connection; maglev hashes the client and
# reads one table entry).
for algorithm in random weighted least_conn maglev; do
  start_backend
  weft_apply 1 "$algorithm"
  measure "weft, 1 service, $algorithm" in_mesh "$(python3 "$gen" vip 1 0)" 80
  stop_backend
done

# Session affinity on top of round robin: every connect after the first is an affinity hit
# (the client, an unbound socket, is the benchmark's network namespace), so this measures the
# lookup, the member check and the refresh.
start_backend
weft_apply 1 round_robin 30
measure "weft, 1 service, round_robin + affinity" in_mesh "$(python3 "$gen" vip 1 0)" 80
stop_backend

start_backend
weft_apply 10000
measure "weft, 10,000 services" in_mesh "$(python3 "$gen" vip 10000 9999)" 80
stop_backend

# Proof that the weft rows went through weft: its connect hook counts every rewrite.
lb_ok=$("$weftctl" --bpffs-root "$SB_BPFFS" -o json status |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["counters"]["lb_ok"])')
weft_note="weft's lb_ok counter after its cases: $lb_ok connects rewritten"

# From here on weft is gone and the clients run outside the mesh cgroup; the virtual IPs
# get a route so the packets reach the nat OUTPUT hook, which is where kube-proxy works.
stop_pid "$weftd_pid"
"$weftd" --cleanup --bpffs-root "$SB_BPFFS" >"$SB_TMP/cleanup.log" 2>&1 ||
  die "bench: weftd --cleanup failed, see $SB_TMP/cleanup.log"
ip -n "$SB_NS" route add 10.96.0.0/16 dev lo src 127.0.0.1

declare -A ipt_label=([1]="1 service" [1000]="1,000 services" [10000]="10,000 services")
for n in 1 1000 10000; do
  start_backend
  iptables_apply "$n"
  measure "iptables DNAT, ${ipt_label[$n]}" in_ns "$(python3 "$gen" vip "$n" $((n - 1)))" 80
  stop_backend
done

echo
printf '%-40s %9s %9s %9s %9s %7s\n' "case" "conn/s" "p50 us" "p99 us" "vs direct" "errors"
printf '%s\n' "${rows[@]}"
echo
echo "$weft_note"
echo "conn = connect + 5-byte request/response + close, one at a time; errors summed over" \
  "rounds; $(nproc) CPUs, kernel $(uname -r)"
