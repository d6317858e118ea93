#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Everything CI checks: setup with a sanitizer build, formatting, unit tests (plain and
# ASan/UBSan), end-to-end tests. Ends with "N passed, M failed" over all test cases.
set -uo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$root_dir/scripts/lib.sh"

[[ $EUID -eq 0 ]] || die "test: run as root: sudo ./scripts/test.sh"
cd "$root_dir" || exit 1

build_dir=${WEFT_BUILD_DIR:-$root_dir/build}
san_dir=${WEFT_SAN_BUILD_DIR:-$root_dir/build-san}
results=$(mktemp -d /tmp/weft-test.XXXXXX)
trap 'rm -rf "$results"' EXIT
trap 'echo "interrupted" >&2; exit 130' INT
passed=0
failed=0

summary() {
  echo
  echo "$passed passed, $failed failed"
}

# check NAME CMD...: a check that is not a gtest binary counts as one test case.
check() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    note "ok: $name"
  else
    failed=$((failed + 1))
    note "FAILED: $name"
  fi
}

step "Setup and build (plain and sanitizer)"
# Only the unit tests run sanitized, so only they are built that way: it halves the build.
if ! "$root_dir/scripts/setup.sh" --sanitize --san-target weft_unit_tests; then
  failed=$((failed + 1))
  summary
  exit 1
fi

step "Formatting"
# Every C/C++ file in the tree (bpf/ and maps/ use their own kernel-style .clang-format).
mapfile -t sources < <(find . \( -path ./.git -o -path './build*' -o -path ./vagrant/.vagrant \) \
  -prune -o -type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' -o -name '*.hpp' \) -print |
  sed 's|^\./||' | sort)
note "${#sources[@]} C/C++ files"

clang_format_clean() { clang-format --dry-run --Werror "${sources[@]}"; }

# clang-format leaves long comments and strings alone, so the limit gets its own check.
# Tabs count as 8 columns, as in the BPF sources' kernel style.
within_100_columns() {
  local f bad=0
  for f in "${sources[@]}"; do
    expand -t 8 "$f" | awk -v f="$f" 'length($0) > 100 { printf "%s:%d: %d columns\n", f, NR,
      length($0); bad = 1 } END { exit bad }' || bad=1
  done
  return "$bad"
}

check "clang-format" clang_format_clean
check "100-column limit" within_100_columns

# run_gtest LABEL BINARY TIMEOUT: runs one gtest binary and adds its cases to the totals.
# A binary that fails without reporting a failed case (crash, timeout, sanitizer abort)
# counts as one extra failure.
run_gtest() {
  local label=$1 bin=$2 limit=$3 json rc counts
  json=$results/$label.json
  step "Tests: $label ($bin)"
  if [[ ! -x $bin ]]; then
    note "FAILED: $bin was not built"
    failed=$((failed + 1))
    return
  fi
  # --foreground keeps the binary in our process group, so Ctrl-C reaches it.
  timeout --foreground --kill-after=10 "$limit" "$bin" --gtest_output="json:$json" </dev/null
  rc=$?
  counts=$(python3 - "$json" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        report = json.load(f)
except (OSError, ValueError):
    print(0, 0)
    sys.exit()
ok = bad = 0
for suite in report.get("testsuites", []):
    for case in suite.get("testsuite", []):
        if case.get("status") != "RUN" or case.get("result") == "SKIPPED":
            continue
        if case.get("failures"):
            bad += 1
        else:
            ok += 1
print(ok, bad)
EOF
  )
  read -r ok bad <<<"$counts"
  if ((rc != 0 && bad == 0)); then
    note "FAILED: $label exited with status $rc without a failed case (crash or timeout)"
    bad=1
  fi
  note "$label: $ok passed, $bad failed"
  passed=$((passed + ok))
  failed=$((failed + bad))
}

run_gtest unit "$build_dir/tests/weft_unit_tests" 300
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  run_gtest unit-sanitized "$san_dir/tests/weft_unit_tests" 300
if compgen -G "tests/e2e/*.cc" >/dev/null; then
  run_gtest e2e "$build_dir/tests/weft_e2e_tests" 600
else
  note "no end-to-end tests in tests/e2e"
fi

summary
((failed == 0))
