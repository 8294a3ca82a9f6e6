#!/usr/bin/env bash
# Installs what hotline's tests use, from Debian's packages, when it is missing:
#   redis-server  (tests start their own on a free port; nothing needs to be running)
#   postgresql    (the records' tests start a cluster of their own with initdb, on a free port)
#   chromium      (headless browser tests of the agent and supervisor pages, with real WebRTC audio)
#   espeak-ng sox (prompt audio, scripts/make-prompts.sh)
#   sip-tester    (SIPp: the carrier and registrar of asterisk-config's trunk tests, and the SIP
#                  caller of e2e/sip_test.go, which plays RTP from a pcap through a raw socket and so
#                  runs as root or with CAP_NET_RAW)
#
#   scripts/install-test-deps.sh demo   only what `make demo` uses (postgresql, for its reports), and
#                                       never fails: without it the demo runs without reports
set -euo pipefail

need=()
if [ "${1:-}" != demo ]; then
	command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
	command -v chromium >/dev/null 2>&1 || need+=(chromium)
	command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
	command -v sox >/dev/null 2>&1 || need+=(sox)
	command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
fi
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "${1:-}" = demo ]; then
	trap 'echo "install-test-deps: could not install ${need[*]}; the demo runs without reports" >&2; exit 0' ERR
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install as root: apt-get install ${need[*]}" >&2; exit 1; }
	sudo=sudo
fi
echo "installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
