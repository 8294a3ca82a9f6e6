#!/usr/bin/env bash
# A real Asterisk 22.10.1 for hotline's tests and for a developer's machine, built from the sources in
# ../shared/asterisk (or $HOTLINE_ASTERISK_SRC) once, into a cache outside the checkout.
#
#   scripts/asterisk.sh build        build and install into the cache unless it is there already
#   scripts/asterisk.sh start DIR [SYSTEMNAME]
#                                    start one on loopback, on free ports, from the shipped
#                                    asterisk-config/ plus the test callers; writes DIR/env
#                                    (HOTLINE_TEST_REGISTRAR=127.0.0.1:PORT: the registration trunk
#                                    sample pointed at that registrar instead of the IP one).
#                                    SYSTEMNAME is asterisk.conf's systemname (channel ids
#                                    "<name>-<epoch>.<n>"): several nodes of one center each need
#                                    their own, or two started in the same second name channels alike
#   scripts/asterisk.sh stop DIR     stop the one started in DIR
#   scripts/asterisk.sh sounds ASTDATADIR [PROMPTDIR]
#                                    install Debian's sounds and hold music and hotline's prompts
#                                    (default PROMPTDIR: sounds/, from make prompts) for an Asterisk
#                                    whose data directory is ASTDATADIR, e.g. /var/lib/asterisk
#   scripts/asterisk.sh prefix       print where the build lives
#
# DIR/env holds the HOTLINE_TEST_ARI_* and HOTLINE_TEST_SIP_* variables the tests read.
set -euo pipefail

version=22.10.1
pjversion=2.17
here=$(cd "$(dirname "$0")/.." && pwd)
src=${HOTLINE_ASTERISK_SRC:-$here/../shared/asterisk}
cache=${HOTLINE_ASTERISK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hotline}
prefix=$cache/asterisk-$version
# The modules built: those the shipped modules.conf loads and the bench's. A module added to either
# changes the recipe, so a cached build without it is rebuilt.
modules=$( (sed -nE 's/^load *=> *([a-z0-9_]+)\.so.*/\1/p' "$here/asterisk-config/modules.conf"
	grep -v '^#' "$here/asterisk-config/bench/modules.list") | sort -u)
# Bump the number when the way it is built changes, so an old cache is rebuilt.
recipe="2 $(echo "$modules" | cksum | cut -d' ' -f1)"

log() { echo "asterisk.sh: $*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
	local need=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
	done
	[ ${#need[@]} -eq 0 ] && return 0
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -qq
	as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

build_deps=(build-essential pkg-config bzip2 patch libedit-dev libjansson-dev libxml2-dev libsqlite3-dev
	uuid-dev libssl-dev libcurl4-openssl-dev libsrtp2-dev libopus-dev)
# Sounds and music on hold come from Debian; the plain en and ru folders are symlinks that the
# non-gsm packages bring.
sound_pkgs=(asterisk-core-sounds-en asterisk-core-sounds-en-gsm asterisk-core-sounds-ru asterisk-core-sounds-ru-gsm
	asterisk-moh-opsound-gsm)

built() {
	[ -x "$prefix/sbin/asterisk" ] && [ "$(cat "$prefix/.hotline-recipe" 2>/dev/null)" = "$recipe" ]
}

build() {
	apt_install "${sound_pkgs[@]}"
	built && return 0
	# One build at a time: a second caller waits for the first and then finds it built.
	mkdir -p "$cache"
	exec 9>"$cache/.build.lock"
	flock 9
	built && return 0
	[ -f "$src/asterisk-$version.tar.gz" ] || { log "no $src/asterisk-$version.tar.gz (set HOTLINE_ASTERISK_SRC)"; exit 1; }
	apt_install "${build_deps[@]}"
	local work
	work=$(mktemp -d "$cache/build.XXXXXX" 2>/dev/null || { mkdir -p "$cache" && mktemp -d "$cache/build.XXXXXX"; })
	log "building Asterisk $version into $prefix (3-7 minutes on 2 cores; once per machine)"
	local start=$SECONDS
	mkdir -p "$work/dl"
	cp "$src/pjproject-$pjversion.tar.bz2" "$work/dl/"
	tar -xzf "$src/asterisk-$version.tar.gz" -C "$work"
	(
		cd "$work/asterisk-$version"
		./configure --prefix="$prefix" --with-download-cache="$work/dl" --with-pjproject-bundled >"$work/configure.log" 2>&1 ||
			{ tail -40 "$work/configure.log" >&2; exit 1; }
		make menuselect.makeopts >"$work/menuselect.log" 2>&1
		# Only the modules hotline loads: with autoload off, the other two hundred would be built
		# for nothing, and on two cores they are most of the build.
		local only=() c m
		for c in ADDONS APPS BRIDGES CDR CEL CHANNELS CODECS FORMATS FUNCS PBX RES TESTS; do
			only+=(--disable-category "MENUSELECT_$c")
		done
		for m in $modules; do
			only+=(--enable "$m")
		done
		menuselect/menuselect --disable-category MENUSELECT_CORE_SOUNDS --disable-category MENUSELECT_MOH \
			--disable-category MENUSELECT_EXTRA_SOUNDS --disable BUILD_NATIVE "${only[@]}" \
			menuselect.makeopts >>"$work/menuselect.log" 2>&1
		make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -60 "$work/make.log" >&2; exit 1; }
		rm -rf "$prefix"
		make install >"$work/install.log" 2>&1 || { tail -40 "$work/install.log" >&2; exit 1; }
	)
	echo "$recipe" >"$prefix/.hotline-recipe"
	rm -rf "$work"
	log "built in $((SECONDS - start)) s"
}

# free_port prints a TCP (or UDP with "udp") port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 - "$@" <<'PY'
import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1:] == ["udp"] else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

# install_sounds DATADIR PROMPTDIR lays out an Asterisk data directory (astdatadir) as hotline needs
# it, for the tests and for production alike (README: the operator runs `asterisk.sh sounds`):
#   sounds/<lang>/*       Debian's core sounds, linked entry by entry. The plain en and ru folders
#                         are Debian's symlinks (alternatives) to en_US_f_Allison and
#                         ru_RU_f_IvrvoiceRU: copying into them would write into the packages' files.
#   sounds/<lang>/hotline hotline's prompts (make prompts), copied.
#   moh                   Debian's hold music (asterisk-moh-opsound-gsm): class default.
install_sounds() {
	local data=$1 promptdir=$2 lang entry
	for lang in en ru; do
		[ -d "$promptdir/$lang/hotline" ] || { log "no $promptdir/$lang/hotline: run make prompts first"; exit 1; }
		[ -d "/usr/share/asterisk/sounds/$lang" ] || { log "no /usr/share/asterisk/sounds/$lang: install ${sound_pkgs[*]}"; exit 1; }
		mkdir -p "$data/sounds/$lang"
		for entry in "/usr/share/asterisk/sounds/$lang"/*; do
			ln -sfn "$entry" "$data/sounds/$lang/"
		done
		rm -rf "$data/sounds/$lang/hotline"
		mkdir "$data/sounds/$lang/hotline"
		cp "$promptdir/$lang/hotline"/*.wav "$data/sounds/$lang/hotline/"
	done
	# make install leaves an empty moh folder; anything in it is the operator's: stop there.
	[ -d "$data/moh" ] && [ ! -L "$data/moh" ] && { rmdir "$data/moh" || { log "$data/moh is not empty"; exit 1; }; }
	ln -sfn /usr/share/asterisk/moh "$data/moh"
}

# prompts speaks prompts/catalog.yaml once per catalog version into the cache.
prompts() {
	local sum dir
	sum=$(sha256sum "$here/prompts/catalog.yaml" | cut -c1-16)
	dir=$cache/prompts-$sum
	if [ ! -d "$dir" ]; then
		apt_install espeak-ng sox
		mkdir -p "$cache"
		(
			# Several test runs may start at once: one speaks, the others wait and reuse.
			flock 8
			if [ ! -d "$dir" ]; then
				local tmp
				tmp=$(mktemp -d "$cache/prompts.XXXXXX")
				HOTLINE_PROMPTS_DURATIONS=/dev/null "$here/scripts/make-prompts.sh" "$tmp" >&2
				mv "$tmp" "$dir"
			fi
		) 8>"$cache/.prompts.lock"
	fi
	echo "$dir"
}

start() {
	local run=$1 sysname=${2:-}
	build
	mkdir -p "$run"
	run=$(cd "$run" && pwd)
	if [ -f "$run/run/asterisk.pid" ] && kill -0 "$(cat "$run/run/asterisk.pid")" 2>/dev/null; then
		log "already running in $run"
		return 0
	fi
	local promptdir http sip rtp carrier
	promptdir=$(prompts)
	# A fresh log too: the tests read it for what this start and its calls logged.
	rm -rf "$run/etc" "$run/data" "$run/log"
	# spool/recording as make install leaves /var/spool/asterisk/recording: ARI records only under
	# it, and refuses (500, "No such file or directory") a name with a folder when it is missing.
	mkdir -p "$run"/{etc,data/sounds,spool/recording,run,log,lib,keys}
	install_sounds "$run/data" "$promptdir"
	# The build's XML documentation: without it Asterisk cannot register the options of its own
	# config files (stasis.conf among them) and refuses to start. rest-api serves /ari/api-docs.
	ln -s "$prefix/var/lib/asterisk/documentation" "$run/data/documentation"
	ln -s "$prefix/var/lib/asterisk/rest-api" "$run/data/rest-api"
	http=$(free_port)
	sip=$(free_port udp)
	# RTP ports: one of twelve blocks of 1,000 (500 media streams), below the ephemeral range. Room
	# matters: Asterisk 22 crashes when its range runs out (asterisk/asterisk#1757), and the faults
	# test's 200 calls, whose talking calls each take a fresh leg after a restart before the old one
	# goes, filled the 200 ports this once had. Two nodes may share a block; Asterisk skips ports in
	# use.
	rtp=$((20000 + (RANDOM % 12) * 1000))
	local password=hotline-test
	# The shipped files, as an operator installs them; only what must differ per test instance is
	# rewritten (directories, ports, the ARI password), and the test callers' dialplan is included.
	cp "$here"/asterisk-config/*.conf "$run/etc/"
	cat >>"$run/etc/asterisk.conf" <<CONF

[directories]
astetcdir => $run/etc
astmoddir => $prefix/lib/asterisk/modules
astvarlibdir => $run/lib
astdbdir => $run/lib
astkeydir => $run/keys
astdatadir => $run/data
astagidir => $run/data/agi-bin
astspooldir => $run/spool
astrundir => $run/run
astlogdir => $run/log
astsbindir => $prefix/sbin
CONF
	if [ -n "$sysname" ]; then
		# The shipped file's commented example, switched on as an operator of several nodes does.
		sed -i -E "s/^;systemname *=.*/systemname = $sysname/" "$run/etc/asterisk.conf"
		grep -q "^systemname = $sysname\$" "$run/etc/asterisk.conf" || { log "no ;systemname line in asterisk-config/asterisk.conf"; exit 1; }
	fi
	sed -i -E "s/^bindport *=.*/bindport = $http/" "$run/etc/http.conf"
	sed -i -E "s/^password *=.*/password = $password/" "$run/etc/ari.conf"
	sed -i -E "s/^rtpstart *=.*/rtpstart = $rtp/; s/^rtpend *=.*/rtpend = $((rtp + 999))/" "$run/etc/rtp.conf"
	sed -i -E "s/^bind *= *[0-9.]+:5060/bind = 127.0.0.1:$sip/" "$run/etc/pjsip.conf"
	# The carrier trunk, rendered from a shipped sample the way an operator fills it in: the
	# IP-authentication one with the test "carrier" on loopback, or, with
	# HOTLINE_TEST_REGISTRAR=127.0.0.1:PORT, the registration one with that registrar (a SIPp).
	carrier=$(free_port udp)
	if [ -n "${HOTLINE_TEST_REGISTRAR:-}" ]; then
		carrier=$HOTLINE_TEST_REGISTRAR
		sed -e "s/sip\.carrier\.example:5060/$carrier/g; s/sip\.carrier\.example/${carrier%:*}/g" \
			"$here/asterisk-config/pjsip-trunk-register.conf.sample" >"$run/etc/pjsip-trunk.conf"
		carrier=${carrier#*:}
	else
		sed -e "s/198\.51\.100\.10:5060/127.0.0.1:$carrier/; s/198\.51\.100\.10/127.0.0.1/" \
			"$here/asterisk-config/pjsip-trunk-ip.conf.sample" >"$run/etc/pjsip-trunk.conf"
	fi
	cp "$here"/asterisk-config/test/*.conf "$run/etc/"
	printf '\n#include "extensions-test.conf"\n' >>"$run/etc/extensions.conf"

	"$prefix/sbin/asterisk" -C "$run/etc/asterisk.conf" -f -n -q >"$run/log/console.log" 2>&1 </dev/null &
	local pid=$! i
	for i in $(seq 1 300); do
		if curl -fsS -o /dev/null -u "hotline:$password" "http://127.0.0.1:$http/ari/asterisk/info" 2>/dev/null; then
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			log "asterisk exited while starting; last lines of $run/log:"
			tail -30 "$run/log/console.log" "$run/log/messages.log" >&2 2>/dev/null || true
			exit 1
		fi
		sleep 0.1
	done
	curl -fsS -o /dev/null -u "hotline:$password" "http://127.0.0.1:$http/ari/asterisk/info" || {
		log "ARI did not answer on port $http in 30 s; last lines of $run/log/messages.log:"
		tail -30 "$run/log/messages.log" >&2
		kill "$pid" 2>/dev/null || true
		exit 1
	}
	echo "$pid" >"$run/pid"
	cat >"$run/env" <<ENV
export HOTLINE_TEST_ARI_URL=http://127.0.0.1:$http
export HOTLINE_TEST_ARI_USER=hotline
export HOTLINE_TEST_ARI_PASSWORD=$password
export HOTLINE_TEST_SIP_ADDR=127.0.0.1:$sip
export HOTLINE_TEST_CARRIER_ADDR=127.0.0.1:$carrier
export HOTLINE_TEST_ASTERISK_CONF=$run/etc/asterisk.conf
export HOTLINE_TEST_ASTERISK_LOG=$run/log/messages.log
export HOTLINE_TEST_ASTERISK_SYSTEMNAME=$sysname
ENV
	log "Asterisk $version ${sysname:+($sysname) }running in $run: ARI http://127.0.0.1:$http, SIP udp 127.0.0.1:$sip, RTP $rtp-$((rtp + 999))"
}

stop() {
	local run=$1 pid
	pid=$(cat "$run/pid" 2>/dev/null || cat "$run/run/asterisk.pid" 2>/dev/null) || return 0
	# Bounded: an overloaded Asterisk can leave the remote console hanging; kill -9 follows.
	timeout 10 "$prefix/sbin/asterisk" -C "$run/etc/asterisk.conf" -rx 'core stop now' >/dev/null 2>&1 || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$run/pid" "$run/run/asterisk.pid"
}

case "${1:-}" in
build) build ;;
start) start "${2:?usage: asterisk.sh start DIR [SYSTEMNAME]}" "${3:-}" ;;
stop) stop "${2:?usage: asterisk.sh stop DIR}" ;;
sounds)
	apt_install "${sound_pkgs[@]}"
	install_sounds "${2:?usage: asterisk.sh sounds ASTDATADIR [PROMPTDIR]}" "${3:-$here/sounds}"
	;;
prefix) echo "$prefix" ;;
*)
	sed -n '2,21p' "$0" >&2
	exit 2
	;;
esac
