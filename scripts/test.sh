#!/usr/bin/env bash
# Runs every test: `make test` calls this. Packages that drive ARI run each ARI test twice, on the
# simulator and on a real Asterisk 22.10.1 that this script starts (scripts/asterisk.sh) when one is
# built, or always when CI=true (building it first if needed, ~10 minutes once per machine). A second
# Asterisk (systemname node-b; the first is node-a) is the other node of the several-nodes tests
# (e2e/TestSeveralNodes*), exported as HOTLINE_TEST_ARI2_URL, _USER and _PASSWORD.
#
#   HOTLINE_TEST_ASTERISK=1   build and use a real Asterisk even outside CI
#   HOTLINE_TEST_ASTERISK=0   use only the simulator
#   GO_TEST_FLAGS             extra flags for go test (e.g. -run TestX -v)
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

# The packages whose tests drive ARI. One Stasis app name can be held by one WebSocket at a time,
# so against one Asterisk they run one package at a time.
ari_pkgs=(./asterisk-config/... ./asterisksim/... ./internal/aritest/... ./switchboard/... ./e2e/...)
mapfile -t other_pkgs < <($GO list ./... | grep -v -E '/(asterisk-config|asterisksim|internal/aritest|switchboard|e2e)($|/)')

want=${HOTLINE_TEST_ASTERISK:-}
if [ -z "$want" ]; then
	if [ "${CI:-}" = true ] || [ -x "$(scripts/asterisk.sh prefix)/sbin/asterisk" ]; then want=1; else want=0; fi
fi
if [ "${CI:-}" = true ] && [ "$want" != 1 ]; then
	echo "test.sh: CI must run the real-Asterisk tests (HOTLINE_TEST_ASTERISK=$want)" >&2
	exit 1
fi

run_dirs=()
cleanup() {
	local d
	for d in "${run_dirs[@]}"; do
		scripts/asterisk.sh stop "$d" || true
		if [ "${keep_logs:-}" = 1 ]; then
			echo "test.sh: Asterisk's log is in $d/log" >&2
		else
			rm -rf "$d"
		fi
	done
}
trap cleanup EXIT

if [ "$want" = 1 ]; then
	scripts/asterisk.sh build
	for node in node-a node-b; do
		d=$(mktemp -d "${TMPDIR:-/tmp}/hotline-asterisk-$node.XXXXXX")
		run_dirs+=("$d")
		scripts/asterisk.sh start "$d" "$node"
	done
	# The second node first, its ARI under the ARI2 names; then the first, whose variables are the
	# ones every other test reads.
	set -a
	# shellcheck disable=SC1091
	. "${run_dirs[1]}/env"
	HOTLINE_TEST_ARI2_URL=$HOTLINE_TEST_ARI_URL
	HOTLINE_TEST_ARI2_USER=$HOTLINE_TEST_ARI_USER
	HOTLINE_TEST_ARI2_PASSWORD=$HOTLINE_TEST_ARI_PASSWORD
	# shellcheck disable=SC1091
	. "${run_dirs[0]}/env"
	set +a
	# From here a real-Asterisk subtest that cannot run is a failure, not a skip.
	export HOTLINE_TEST_REQUIRE_ASTERISK=1
fi

status=0
# shellcheck disable=SC2086
$GO test -race -count=1 -timeout 20m ${GO_TEST_FLAGS:-} "${other_pkgs[@]}" || status=1
# shellcheck disable=SC2086
$GO test -race -count=1 -timeout 30m -p 1 ${GO_TEST_FLAGS:-} "${ari_pkgs[@]}" || { status=1; keep_logs=1; }

if [ "$want" != 1 ]; then
	cat >&2 <<'MSG'

test.sh: the real-Asterisk subtests (…/asterisk) were SKIPPED: no Asterisk 22.10.1 is built here.
  Every ARI test ran on the simulator only. To run them on a real Asterisk too:
    scripts/asterisk.sh build     # once per machine, about 10 minutes on 2 cores
    make test
MSG
fi
exit $status
