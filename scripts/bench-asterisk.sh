#!/usr/bin/env bash
# hotline beside Asterisk's own app_queue on one real Asterisk 22.10.1 (issue 13; BENCHMARKS.md,
# "hotline and app_queue on a real Asterisk"). Starts its own Asterisk (scripts/asterisk.sh start)
# and redis-server on free ports, adds asterisk-config/bench to it, and runs `hotline loadgen`
# against hotline and against Queue(bench) with the same callers, agents, talk and wrap-up:
#
#   scripts/bench-asterisk.sh [DIR]
#
# RATES (default "10 50"): the call rates compared; MAX_RATES (default "20 30 40 50 60 80"; empty
# for none): the rates tried, in order, for the highest one each sustains (all its callers reach an
# agent but 1%, at 95% of the rate or more): a system's ladder stops at its first rate that it does
# not sustain; DURATION (default 20s) of each run; TALK (default
# 2s: agents talk 1-3 s) and MAX_TALK (default 1s: 0.5-1.5 s, so that 300 agents carry 150 calls
# a second); AGENTS: hotline's crew (500, of whom 300 serve the general queue) and QUEUE_AGENTS:
# app_queue's members (300); SYSTEMS (default "hotline appqueue"): which of the two run;
# HOTLINE_FLAGS: more flags for hotline's runs, e.g. "-cpuprofile /tmp/cpu.out"; MAX_CALLS (default
# 0: off): the node's HOTLINE_MAX_CALLS, with hotline's callers entering [from-carrier] to be counted
# against it as a carrier's are (app_queue's callers are not). Results go to
# DIR/results.txt (DIR: a new folder under /tmp), each run's log to DIR/NAME.log and, for hotline's,
# Redis's command counts to DIR/NAME.cmdstats.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$(mktemp -d /tmp/hotline-bench.XXXXXX)}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
RATES=${RATES-"10 50"}
MAX_RATES=${MAX_RATES-"20 30 40 50 60 80"}
DURATION=${DURATION:-20s}
TALK=${TALK:-2s}
MAX_TALK=${MAX_TALK:-1s}
AGENTS=${AGENTS:-500}
QUEUE_AGENTS=${QUEUE_AGENTS:-300}
SYSTEMS=${SYSTEMS:-"hotline appqueue"}
HOTLINE_FLAGS=${HOTLINE_FLAGS:-}
MAX_CALLS=${MAX_CALLS:-0}
if [ "$MAX_CALLS" != 0 ]; then
	HOTLINE_FLAGS="-entry from-carrier $HOTLINE_FLAGS"
fi
# app_queue's wrapuptime is whole seconds (asterisk-config/bench/queues.conf): hotline's crew wraps
# up as long.
WRAPUP=1s

log() { echo "bench-asterisk.sh: $*" >&2; }

redis_pid=
cleanup() {
	[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
	"$here/scripts/asterisk.sh" stop "$dir/asterisk"
}
trap cleanup EXIT

"$here/scripts/asterisk.sh" start "$dir/asterisk"
# shellcheck disable=SC1091
. "$dir/asterisk/env"
ast() { "$("$here/scripts/asterisk.sh" prefix)/sbin/asterisk" -C "$HOTLINE_TEST_ASTERISK_CONF" -rx "$1"; }

# app_queue and what its bench dialplan uses, which the shipped modules.conf leaves out (hotline
# does not need them): loaded into this Asterisk only.
cp "$here"/asterisk-config/bench/*.conf "$dir/asterisk/etc/"
printf '\n#include "extensions-bench.conf"\n' >>"$dir/asterisk/etc/extensions.conf"
for m in $(grep -v '^#' "$here/asterisk-config/bench/modules.list"); do
	ast "module load $m.so" >/dev/null
done
ast "dialplan reload" >/dev/null
ast "dialplan set global HOTLINE_MAX_CALLS $MAX_CALLS" >/dev/null
# The test Asterisk has 1,000 RTP ports (500 media streams); hotline's agents' legs are one
# externalMedia channel per talking call: room for 2,500.
rtp=$(sed -nE 's/^rtpstart *= *([0-9]+).*/\1/p' "$dir/asterisk/etc/rtp.conf")
sed -i -E "s/^rtpend *=.*/rtpend = $((rtp + 4999))/" "$dir/asterisk/etc/rtp.conf"
ast "module reload res_rtp_asterisk.so" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

log "building hotline"
(cd "$here" && go build -o "$dir/hotline" ./cmd/hotline)

results=$dir/results.txt
{
	echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$results"

apid=$(cat "$dir/asterisk/run/asterisk.pid")
# cpu_ticks: Asterisk's user and system time so far, in clock ticks (1/100 s).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$apid/stat"; }

# run NAME ARGS...: one loadgen run; its summary line goes to the results, with the load average
# before and after and the CPU time Asterisk spent on it. Its exit status says whether the rate
# was sustained.
run() {
	local name=$1
	shift
	log "$name: $*"
	local out before t0
	before=$(cut -d' ' -f1-3 /proc/loadavg)
	t0=$(cpu_ticks)
	out=$("$dir/hotline" loadgen -ari "$HOTLINE_TEST_ARI_URL" -duration "$DURATION" -wrapup "$WRAPUP" "$@" | tee "$dir/$name.log" | grep -E '^loadgen: (hotline|app_queue):' | tail -1)
	if [[ $name == hotline-* ]]; then
		redis-cli -p "$port" info commandstats >"$dir/$name.cmdstats"
		redis-cli -p "$port" config resetstat >/dev/null
	fi
	echo "$name ($*; load average before $before, after $(cut -d' ' -f1-3 /proc/loadavg); Asterisk CPU $(( ($(cpu_ticks) - t0) / 100 )) s): $out" | tee -a "$results"
	sustained "$out" "$rate"
}

# seconds DURATION: a Go duration (135.7ms, 2.6s, 1m11.5s) in seconds.
seconds() {
	awk -v d="$1" 'BEGIN {
		t = 0
		while (match(d, /^[0-9.]+(h|ms|µs|us|ns|m|s)/)) {
			tok = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
			u = tok; sub(/^[0-9.]+/, "", u)
			f = u == "h" ? 3600 : u == "m" ? 60 : u == "s" ? 1 : u == "ms" ? 0.001 : u == "ns" ? 1e-9 : 1e-6
			t += (tok + 0) * f
		}
		print t
	}'
}

# sustained SUMMARY RATE: all callers but 1% reached an agent, at 95% of RATE or more, and the
# IVR answered 99% of them within a second (callers that all get through minutes late, behind a
# backlog, are not a rate sustained).
sustained() {
	local dialled failed setups ivr99
	dialled=$(sed -nE 's/.*dialled ([0-9]+),.*/\1/p' <<<"$1")
	failed=$(sed -nE 's/.*failed ([0-9]+) in.*/\1/p' <<<"$1")
	setups=$(sed -nE 's/.*: ([0-9.]+) setups\/s.*/\1/p' <<<"$1")
	ivr99=$(seconds "$(sed -nE 's/.*IVR answer p50 [^ ]+ p99 ([^;]+);.*/\1/p' <<<"$1")")
	[ -n "$dialled" ] && [ -n "$failed" ] && [ -n "$setups" ] &&
		awk -v d="$dialled" -v f="$failed" -v s="$setups" -v r="$2" -v i="$ivr99" \
			'BEGIN { exit !(d > 0 && f <= d / 100 && s >= 0.95 * r && i <= 1) }'
}

on() { [[ " $SYSTEMS " == *" $1 "* ]]; }
for rate in $RATES; do
	if on hotline; then
		redis-cli -p "$port" flushall >/dev/null
		# shellcheck disable=SC2086 # HOTLINE_FLAGS is a list of flags
		run "hotline-$rate" -target hotline -rate "$rate" -agents "$AGENTS" -talk "$TALK" -answer-after 1ms -redis "127.0.0.1:$port" $HOTLINE_FLAGS || true
	fi
	if on appqueue; then
		run "appqueue-$rate" -target appqueue -rate "$rate" -agents "$QUEUE_AGENTS" -talk "$TALK" || true
	fi
done
hotline_max=0 appqueue_max=0 hotline_on=0 appqueue_on=0
on hotline && hotline_on=1
on appqueue && appqueue_on=1
for rate in $MAX_RATES; do
	if [ "$hotline_on" = 1 ]; then
		redis-cli -p "$port" flushall >/dev/null
		# shellcheck disable=SC2086
		if run "hotline-max-$rate" -target hotline -rate "$rate" -agents "$AGENTS" -talk "$MAX_TALK" -answer-after 1ms -redis "127.0.0.1:$port" $HOTLINE_FLAGS; then
			hotline_max=$rate
		else
			hotline_on=0
		fi
	fi
	if [ "$appqueue_on" = 1 ]; then
		if run "appqueue-max-$rate" -target appqueue -rate "$rate" -agents "$QUEUE_AGENTS" -talk "$MAX_TALK"; then
			appqueue_max=$rate
		else
			appqueue_on=0
		fi
	fi
done
if [ -n "$MAX_RATES" ]; then
	echo "highest rate sustained of $MAX_RATES: hotline $hotline_max, app_queue $appqueue_max (0: none)" | tee -a "$results"
fi
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results"
log "results in $results"
