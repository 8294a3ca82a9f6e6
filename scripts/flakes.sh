#!/usr/bin/env bash
# Runs the real-Asterisk suite several rounds in a row against one Asterisk 22.10.1 and reports how
# many rounds failed: a test that passes once and fails later is a bug to find, not noise.
#
#   scripts/flakes.sh [ROUNDS] [extra go test flags...]     (default 20 rounds)
#
# Each round runs every ARI package with its simulator subtests skipped (they have their own runs in
# make test). A failing round's output is kept under $FLAKES_DIR (default /tmp/hotline-flakes).
# The closing line reads "N passed, N failed" with the rounds counted.
set -uo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
shift || true
out=${FLAKES_DIR:-/tmp/hotline-flakes}
mkdir -p "$out"
GO=${GO:-go}

run_dir=$(mktemp -d "${TMPDIR:-/tmp}/hotline-asterisk.XXXXXX")
trap 'scripts/asterisk.sh stop "$run_dir"; rm -rf "$run_dir"' EXIT
scripts/asterisk.sh start "$run_dir" || exit 1
set -a
# shellcheck disable=SC1091
. "$run_dir/env"
set +a
export HOTLINE_TEST_REQUIRE_ASTERISK=1

# Compile once, so the rounds time the tests and not the build.
$GO test -race -count=1 -run '^$' ./asterisk-config/... ./asterisksim/... ./internal/aritest/... ./switchboard/... ./e2e/... >/dev/null || exit 1

passed=0 failed=0 start=$SECONDS
for i in $(seq 1 "$rounds"); do
	t0=$SECONDS
	log="$out/round-$i.log"
	if $GO test -race -count=1 -p 1 -timeout 30m -skip '/sim$' "$@" \
		./asterisk-config/... ./asterisksim/... ./internal/aritest/... ./switchboard/... ./e2e/... >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "round $i: ok ($((SECONDS - t0)) s)"
		rm -f "$log"
	else
		failed=$((failed + 1))
		echo "round $i: FAILED ($((SECONDS - t0)) s): $(grep -E -- '^\s*--- FAIL' "$log" | tr -s ' ' | head -5 | tr '\n' ' ') — $log"
	fi
done
echo "flakes: $rounds rounds in $((SECONDS - start)) s against Asterisk 22.10.1 ($(nproc) cores)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
