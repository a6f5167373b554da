#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) and install a debug 6.12 kernel for the test VM: KASAN,
# lockdep, kmemleak, UBSAN, 9p built in, tun/tap/vhost_net/kvm as modules.
#
#   scripts/debug-kernel.sh [--no-install] [--print-key]
#
# Source: the linux-source-6.12 package (/usr/src/linux-source-6.12.tar.xz).
# Config: `make defconfig kvm_guest.config` + the fragment + olddefconfig.
# The fragment is scripts/debug-kernel.config (the repo's copy); when it is
# missing, ../shared/debug-kernel.config next to the repo top is used.
# VHNET_DEBUG_CONFIG overrides both.
#
# The build lives outside git, in $VHNET_DEBUG_CACHE/<key>/ (default
# /var/cache/vhnet/debug-kernel), where <key> is the source package version
# plus a hash of the fragment and of this recipe; a warm cache takes seconds.
# It is then installed on this machine so that
#   selftests/vm/run --kver RELEASE -- CMD
# boots it: /boot/vmlinuz-RELEASE, System.map-RELEASE, config-RELEASE and
# /lib/modules/RELEASE (a copy: the guest sees this root over 9p, and its
# /tmp /run /var/lib /root are tmpfs), with /lib/modules/RELEASE/build
# pointing at the built tree for `make -C /lib/modules/RELEASE/build M=...`.
#
# The last line on stdout is the release string; the rest goes to stderr.
# The build runs under `nice -n ${VHNET_NICE:-10}` with ${VHNET_JOBS:-nproc}
# jobs; its log is <key>/build.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tarball=${VHNET_DEBUG_SRC:-/usr/src/linux-source-6.12.tar.xz}
srcpkg=linux-source-6.12
cache=${VHNET_DEBUG_CACHE:-/var/cache/vhnet/debug-kernel}
localversion=-vhnet-debug
jobs=${VHNET_JOBS:-$(nproc)}
niceness=${VHNET_NICE:-10}
install=1
print_key=

# Bump when the recipe below changes in a way that changes the result.
recipe=1

log() { echo "debug-kernel: $*" >&2; }
die() { log "$*"; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--no-install) install= ;;
	--print-key) print_key=1 ;;
	-h|--help) sed -n '4,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
	shift
done

if [ -n "${VHNET_DEBUG_CONFIG:-}" ]; then
	fragment=$VHNET_DEBUG_CONFIG
elif [ -r "$top/scripts/debug-kernel.config" ]; then
	fragment=$top/scripts/debug-kernel.config
else
	fragment=$top/../shared/debug-kernel.config
fi
[ -r "$fragment" ] || die "config fragment $fragment not found"
fragment=$(cd "$(dirname "$fragment")" && pwd)/$(basename "$fragment")
shared=$top/../shared/debug-kernel.config
if [ "$fragment" != "$(readlink -f "$shared" 2>/dev/null || true)" ] && [ -r "$shared" ] &&
   ! cmp -s "$fragment" "$shared"; then
	log "note: using $fragment, which differs from $shared"
fi

[ -r "$tarball" ] || die "$tarball missing (apt-get install $srcpkg)"
missing=
for p in flex bison libelf-dev libssl-dev bc xz-utils make gcc; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] || die "missing packages:$missing (run scripts/deps.sh)"

# The cache key: what determines the build's result.
srcver=$(dpkg-query -W -f='${Version}' "$srcpkg" 2>/dev/null || true)
[ -n "$srcver" ] || srcver=$(stat -c '%s-%Y' "$tarball")
hash=$({
	cat "$fragment"
	echo "recipe=$recipe localversion=$localversion"
	gcc --version | head -n 1
} | sha256sum | cut -c1-12)
key=$(echo "$srcver" | tr -c 'A-Za-z0-9.+_\n-' '_')-$hash
dir=$cache/$key
src=$dir/src
if [ -n "$print_key" ]; then
	echo "$key"
	exit 0
fi

mkdir -p "$cache"
case "$(cd "$cache" && pwd -P)/" in
/tmp/*|/run/*|/var/tmp/*|/var/lib/*|/root/*)
	log "warning: $cache is on a tmpfs inside the test VM; /lib/modules/*/build will dangle there" ;;
esac

# One builder per key at a time; a second caller waits for the first.
mkdir -p "$dir"
exec 9>"$dir/lock"
if ! flock -n 9; then
	log "another build of $key is running; waiting for it"
	flock 9
fi

kmake() {
	nice -n "$niceness" make -C "$src" LOCALVERSION= "$@"
}

# Every y/m/n/value line of the fragment must survive olddefconfig: a
# silently dropped option (an unmet dependency) would give a kernel that
# does not test what it claims to.
check_config() {
	local line name want bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) ;;
		*) continue ;;
		esac
		name=${line%%=*}
		want=${line#*=}
		if [ "$want" = n ] || [ "$want" = '""' ]; then
			# Off, empty, or hidden by an unmet dependency: all the same.
			grep -q "^$name=[^\"]" "$src/.config" || continue
		else
			grep -qxF "$line" "$src/.config" && continue
		fi
		log "config: wanted $line, got: $(grep -E "^$name=|^# $name is not set" "$src/.config" || echo unset)"
		bad=1
	done <"$fragment"
	return $bad
}

if [ ! -e "$dir/built" ]; then
	start=$SECONDS
	log "building $key in $dir (log: $dir/build.log); this takes a while"
	: >"$dir/build.log"
	if [ ! -e "$dir/extracted" ]; then
		rm -rf "$src"
		mkdir -p "$src"
		tar -xJf "$tarball" -C "$src" --strip-components=1
		touch "$dir/extracted"
	fi
	# The config is regenerated each time an unfinished build resumes; make
	# keeps the objects that are still valid.
	{
		kmake defconfig kvm_guest.config
		(cd "$src" && scripts/kconfig/merge_config.sh -m .config "$fragment")
		(cd "$src" && scripts/config --set-str LOCALVERSION "$localversion" \
			--disable LOCALVERSION_AUTO)
		kmake olddefconfig
	} >>"$dir/build.log" 2>&1 || { tail -n 30 "$dir/build.log" >&2; die "configuring failed"; }
	check_config || die "the fragment does not apply cleanly to $srcpkg $srcver"
	cp "$fragment" "$dir/fragment.config"
	if ! kmake -j"$jobs" bzImage modules >>"$dir/build.log" 2>&1; then
		grep -E 'error|Error' "$dir/build.log" | tail -n 20 >&2 || true
		die "build failed (see $dir/build.log)"
	fi
	rm -rf "$dir/mods"
	kmake INSTALL_MOD_PATH="$dir/mods" INSTALL_MOD_STRIP=1 DEPMOD=/sbin/depmod \
		modules_install >>"$dir/build.log" 2>&1 || die "modules_install failed (see $dir/build.log)"
	kmake -s kernelrelease >"$dir/release"
	touch "$dir/built"
	log "built in $((SECONDS - start)) s"
fi

release=$(cat "$dir/release")
[ -n "$release" ] || die "no release string in $dir/release"

if [ -n "$install" ]; then
	mods=/lib/modules/$release
	# Only replace what this script installed (it leaves a marker).
	if [ -e "$mods" ] && [ ! -e "$mods/.vhnet-debug-key" ]; then
		die "$mods exists and was not installed by this script; not touching it"
	fi
	if [ "$(cat "$mods/.vhnet-debug-key" 2>/dev/null)" != "$key" ]; then
		log "installing $release ($key)"
		rm -rf "$mods.new"
		cp -a "$dir/mods/lib/modules/$release" "$mods.new"
		rm -f "$mods.new/build" "$mods.new/source"
		ln -s "$src" "$mods.new/build"
		ln -s "$src" "$mods.new/source"
		echo "$key" >"$mods.new/.vhnet-debug-key"
		rm -rf "$mods"
		mv "$mods.new" "$mods"
	fi
	for f in vmlinuz:arch/x86/boot/bzImage System.map:System.map config:.config; do
		cmp -s "$src/${f#*:}" "/boot/${f%%:*}-$release" ||
			cp "$src/${f#*:}" "/boot/${f%%:*}-$release"
	done
fi

echo "$release"
