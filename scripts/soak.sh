#!/usr/bin/env bash
# Soaks the whole call path on the simulator: HOURS peak hours of the seed center (2,800 calls an
# hour) with time running 60 times faster, in rounds of 10 simulated minutes, checking after each
# that every call is gone and that goroutines, the heap and Redis's keys stay where the first round
# left them (loadgen/TestSoak; CI runs a short version of it).
#
#   scripts/soak.sh [HOURS]      (default 8: 48 rounds, about 8 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
hours=${1:-8}
HOTLINE_SOAK_ROUNDS=$((hours * 6)) HOTLINE_SOAK_SECONDS=10 HOTLINE_SOAK_RATE=47 \
	exec go test -count=1 -run '^TestSoak$' -v -timeout 3h ./loadgen/
