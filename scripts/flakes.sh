#!/usr/bin/env bash
# Runs the real-Asterisk suite several rounds in a row and reports how many rounds failed: a test
# that passes once and fails later is a bug to find, not noise.
#
#   scripts/flakes.sh [ROUNDS] [extra go test flags...]     (default 20 rounds)
#
# Each round runs every ARI package with its simulator subtests skipped (they have their own runs in
# make test), and passes only when all of them pass. FLAKES_LANES=2 runs a round in two lanes at
# once, each against an Asterisk 22.10.1 of its own (the tests share the Stasis app name, so one
# Asterisk serves one lane): e2e in one, the other packages in the other. That halves a round's
# time, and loads the machine more than make test does. A failing round's output is kept under
# $FLAKES_DIR (default /tmp/hotline-flakes). The closing line reads "N passed, N failed". One more
# Asterisk (systemname node-b) is the second node of the several-nodes tests (e2e/TestSeveralNodes*),
# which run in one lane only.
set -uo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
shift || true
out=${FLAKES_DIR:-/tmp/hotline-flakes}
mkdir -p "$out"
GO=${GO:-go}
all=(./asterisk-config/... ./asterisksim/... ./internal/aritest/... ./switchboard/... ./e2e/...)
case ${FLAKES_LANES:-1} in
1) lanes=("${all[*]}") ;;
2) lanes=("./e2e/..." "./asterisk-config/... ./asterisksim/... ./internal/aritest/... ./switchboard/...") ;;
*)
	echo "flakes.sh: FLAKES_LANES is 1 or 2" >&2
	exit 2
	;;
esac

run_dirs=()
cleanup() {
	for d in "${run_dirs[@]}"; do
		scripts/asterisk.sh stop "$d"
		rm -rf "$d"
	done
}
trap cleanup EXIT
for _ in "${lanes[@]}"; do
	d=$(mktemp -d "${TMPDIR:-/tmp}/hotline-asterisk.XXXXXX")
	run_dirs+=("$d")
	scripts/asterisk.sh start "$d" node-a || exit 1
done
node_b=$(mktemp -d "${TMPDIR:-/tmp}/hotline-asterisk-node-b.XXXXXX")
run_dirs+=("$node_b")
scripts/asterisk.sh start "$node_b" node-b || exit 1
export HOTLINE_TEST_REQUIRE_ASTERISK=1
# shellcheck disable=SC1091
HOTLINE_TEST_ARI2_URL=$(. "$node_b/env" && echo "$HOTLINE_TEST_ARI_URL")
HOTLINE_TEST_ARI2_USER=$(. "$node_b/env" && echo "$HOTLINE_TEST_ARI_USER")
HOTLINE_TEST_ARI2_PASSWORD=$(. "$node_b/env" && echo "$HOTLINE_TEST_ARI_PASSWORD")
export HOTLINE_TEST_ARI2_URL HOTLINE_TEST_ARI2_USER HOTLINE_TEST_ARI2_PASSWORD

# Compile once, so the rounds time the tests and not the build.
$GO test -race -count=1 -run '^$' "${all[@]}" >/dev/null || exit 1

# lane N LOG PKGS...: one lane's go test against its own Asterisk.
lane() {
	local n=$1 log=$2
	shift 2
	(
		set -a
		# shellcheck disable=SC1091
		. "${run_dirs[$n]}/env"
		set +a
		# shellcheck disable=SC2068
		$GO test -race -count=1 -p 1 -timeout 30m -skip '/sim$' "${extra[@]}" $@ >"$log" 2>&1
	)
}
extra=("$@")

passed=0 failed=0 start=$SECONDS
for i in $(seq 1 "$rounds"); do
	t0=$SECONDS
	pids=() logs=()
	for n in "${!lanes[@]}"; do
		log="$out/round-$i.lane-$n.log"
		logs+=("$log")
		# shellcheck disable=SC2086
		lane "$n" "$log" ${lanes[$n]} &
		pids+=($!)
	done
	ok=1
	for p in "${pids[@]}"; do
		wait "$p" || ok=0
	done
	times=$(awk '$1 == "ok" { sub(".*/hotline/", "", $2); printf "%s %s  ", $2, $3 }' "${logs[@]}")
	if [ "$ok" = 1 ]; then
		passed=$((passed + 1))
		echo "round $i: ok ($((SECONDS - t0)) s: $times)"
		rm -f "${logs[@]}"
	else
		failed=$((failed + 1))
		echo "round $i: FAILED ($((SECONDS - t0)) s): $(grep -hE -- '^\s*--- FAIL|^FAIL' "${logs[@]}" | tr -s ' ' | head -5 | tr '\n' ' ') — ${logs[*]}"
	fi
done
echo "flakes: $rounds rounds in $((SECONDS - start)) s, ${#lanes[@]} lane(s), against Asterisk 22.10.1 ($(nproc) cores)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
