#!/usr/bin/env bash
# Runs every test: `make test` calls this. Packages that drive ARI run each ARI test twice, on the
# simulator and on a real Asterisk 22.10.1 that this script starts (scripts/asterisk.sh) when one is
# built, or always when CI=true (building it first if needed, a few minutes once per machine).
#
# With a real Asterisk the tests run as four streams at once, each on Asterisks of its own (one
# Stasis app name can be held by one WebSocket at a time, and a test clears its Asterisk of every
# channel, so within a stream the packages that drive ARI run one at a time):
#   unit   every package that does not drive ARI; no Asterisk (it starts while Asterisk builds)
#   ari    switchboard, asterisk-config, asterisksim, internal/aritest, loadgen; one Asterisk (node-c)
#   e2e-a  e2e's several-nodes tests and faults at load; two Asterisks (systemnames node-a and
#          node-b), the second exported as HOTLINE_TEST_ARI2_URL, _USER and _PASSWORD
#   e2e-b  the rest of e2e; one Asterisk (node-d)
# (with GO_TEST_FLAGS, e2e is one stream on node-a and node-b, so that a -run there is not split).
# Each stream's output is printed whole when it ends, then a line per stream with its time.
#
#   HOTLINE_TEST_ASTERISK=1   build and use a real Asterisk even outside CI
#   HOTLINE_TEST_ASTERISK=0   use only the simulator
#   GO_TEST_FLAGS             extra flags for go test (e.g. -run TestX -v)
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

ari_pkgs=(./asterisk-config/... ./asterisksim/... ./internal/aritest/... ./switchboard/... ./loadgen/...)
e2e_pkgs=(./e2e/...)
mapfile -t unit_pkgs < <($GO list ./... | grep -v -E '/(asterisk-config|asterisksim|internal/aritest|switchboard|loadgen|e2e)($|/)')

want=${HOTLINE_TEST_ASTERISK:-}
if [ -z "$want" ]; then
	if [ "${CI:-}" = true ] || [ -x "$(scripts/asterisk.sh prefix)/sbin/asterisk" ]; then want=1; else want=0; fi
fi
if [ "${CI:-}" = true ] && [ "$want" != 1 ]; then
	echo "test.sh: CI must run the real-Asterisk tests (HOTLINE_TEST_ASTERISK=$want)" >&2
	exit 1
fi

if [ "$want" != 1 ]; then
	status=0
	# shellcheck disable=SC2086
	$GO test -race -count=1 -timeout 30m ${GO_TEST_FLAGS:-} ./... || status=1
	cat >&2 <<'MSG'

test.sh: the real-Asterisk subtests (…/asterisk) were SKIPPED: no Asterisk 22.10.1 is built here.
  Every ARI test ran on the simulator only. To run them on a real Asterisk too:
    scripts/asterisk.sh build     # once per machine, a few minutes on 2 cores
    make test
MSG
	exit $status
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hotline-test.XXXXXX")
names=() pids=() keep_logs=0
cleanup() {
	local pid d
	for pid in "${pids[@]}"; do
		kill -- "-$pid" 2>/dev/null || true
	done
	for d in "$work"/asterisk-*; do
		[ -d "$d" ] || continue
		scripts/asterisk.sh stop "$d" || true
	done
	if [ "$keep_logs" = 1 ]; then
		echo "test.sh: Asterisk's logs are in $work/asterisk-*/log" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# stream NAME "SYSTEMNAME..." ARG...: starts a real Asterisk of the stream's own for each
# SYSTEMNAME, then go test ARGs (packages, and flags that choose tests), in the background, its
# output in $work/NAME.log.
stream() {
	local name=$1 nodes
	read -r -a nodes <<<"$2"
	shift 2
	# A process group of its own (set -m), so that cleanup can stop the whole stream.
	set -m
	(
		set +m
		exec >"$work/$name.log" 2>&1
		unset HOTLINE_TEST_ARI_URL HOTLINE_TEST_ARI_USER HOTLINE_TEST_ARI_PASSWORD \
			HOTLINE_TEST_ARI2_URL HOTLINE_TEST_ARI2_USER HOTLINE_TEST_ARI2_PASSWORD HOTLINE_TEST_REQUIRE_ASTERISK
		local i dirs=() p=()
		for i in "${!nodes[@]}"; do
			dirs+=("$work/asterisk-${nodes[i]}")
			scripts/asterisk.sh start "${dirs[i]}" "${nodes[i]}"
		done
		if [ "${#nodes[@]}" -ge 2 ]; then
			# The second node first, its ARI under the ARI2 names; then the first, whose variables
			# are the ones every other test reads.
			# shellcheck disable=SC1091
			. "${dirs[1]}/env"
			export HOTLINE_TEST_ARI2_URL=$HOTLINE_TEST_ARI_URL HOTLINE_TEST_ARI2_USER=$HOTLINE_TEST_ARI_USER \
				HOTLINE_TEST_ARI2_PASSWORD=$HOTLINE_TEST_ARI_PASSWORD
		fi
		if [ "${#nodes[@]}" -ge 1 ]; then
			# shellcheck disable=SC1091
			. "${dirs[0]}/env"
			# From here a real-Asterisk subtest that cannot run is a failure, not a skip.
			export HOTLINE_TEST_REQUIRE_ASTERISK=1
			p=(-p 1)
		fi
		local t0=$SECONDS rc=0
		# shellcheck disable=SC2086
		$GO test -race -count=1 -timeout 30m "${p[@]}" ${GO_TEST_FLAGS:-} "$@" || rc=$?
		echo "$((SECONDS - t0))" >"$work/$name.took"
		exit $rc
	) &
	set +m
	names+=("$name")
	pids+=($!)
}

start=$SECONDS
stream unit "" "${unit_pkgs[@]}"
scripts/asterisk.sh build
stream ari "node-c" "${ari_pkgs[@]}"
if [ -n "${GO_TEST_FLAGS:-}" ]; then
	stream e2e "node-a node-b" "${e2e_pkgs[@]}"
else
	# About 400 s and 270 s of tests (2026-12-04), beside the ari stream's 460 s.
	several='^(TestSeveralNodes.*|TestFaultsAtLoad)$'
	stream e2e-a "node-a node-b" -run "$several" "${e2e_pkgs[@]}"
	stream e2e-b "node-d" -skip "$several" "${e2e_pkgs[@]}"
fi

status=0 summary=()
for i in "${!pids[@]}"; do
	rc=0
	wait "${pids[i]}" || rc=$?
	name=${names[i]}
	echo "=== test.sh: stream $name ==="
	cat "$work/$name.log"
	summary+=("test.sh: stream $name: $([ $rc = 0 ] && echo ok || echo "FAILED (exit $rc)"), its tests $(cat "$work/$name.took" 2>/dev/null || echo ?) s, done $((SECONDS - start)) s after the start")
	if [ $rc != 0 ]; then
		status=1
		[ "$name" = unit ] || keep_logs=1
	fi
done
pids=()
printf '%s\n' "${summary[@]}"
exit $status
