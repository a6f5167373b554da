#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The two QEMU versions vhnet is tested with, and where they are.
#
#   scripts/qemu-vmms.sh              print "NAME BINARY" per VMM, one a line
#   scripts/qemu-vmms.sh path NAME    print one VMM's binary (exit 1: none);
#                                     NAME may also be a path, or
#                                     qemu-system-x86_64 (the machine's)
#   scripts/qemu-vmms.sh install      make the second VMM available (root)
#
# NAME is the QEMU series: "7.2" is Debian 12's own qemu-system-x86, the
# machine's /usr/bin/qemu-system-x86_64; "10.0" is Debian 13's series, taken
# from bookworm-backports. Both are real Debian builds a host engineer runs.
#
# The backports QEMU is not installed as a package: it would replace 7.2,
# and both must run side by side. `install` adds the bookworm-backports
# suite to apt (a sources file of its own, at apt's default low priority,
# so nothing is ever upgraded from it), downloads exactly the packages named
# below at the newest version that suite has, and unpacks them with dpkg -x
# under /var/cache/vhnet/qemu. Its libraries
# are Debian 12's (the same ones 7.2 uses); install checks with ldd.
# BINARY for 10.0 is a wrapper that points QEMU at its own firmware and
# option ROMs (-L), so it never mixes in 7.2's.
set -euo pipefail

# Fixed: the test VM finds it there too (it sees this machine's root).
cache=/var/cache/vhnet/qemu
suite=bookworm-backports
sources=/etc/apt/sources.list.d/vhnet-$suite.sources
# The packages taken from backports: the emulator, its firmware data and
# the SeaBIOS it requires (>= 1.16.3; Debian 12 has 1.16.2).
pkgs=(qemu-system-x86 qemu-system-data seabios)

newest_dir() {
	local d
	for d in "$cache"/10.0.*; do
		[ -d "$d" ] && echo "$d"
	done | sort -V | tail -n 1
}

path_of() {
	local d
	case "$1" in
	*/*) [ -x "$1" ] && echo "$1" ;;
	qemu-system-x86_64) command -v qemu-system-x86_64 ;;
	7.2)
		command -v qemu-system-x86_64 >/dev/null &&
			qemu-system-x86_64 --version | head -n 1 | grep -q 'version 7\.2\.' &&
			command -v qemu-system-x86_64
		;;
	10.0)
		d=$(newest_dir)
		[ -n "$d" ] && [ -x "$d/bin/qemu-system-x86_64" ] && echo "$d/bin/qemu-system-x86_64"
		;;
	*) return 1 ;;
	esac
}

add_suite() {
	local uri
	[ -e "$sources" ] && return 0
	# The same mirror the machine's own bookworm entry uses.
	# shellcheck disable=SC2016 # $(REPO_URI) is apt's, not the shell's
	uri=$(apt-get indextargets --format '$(REPO_URI)' 'Codename: bookworm' 2>/dev/null |
		grep -v security | head -n 1) || true
	uri=${uri:-http://deb.debian.org/debian/}
	cat >"$sources" <<-EOF
		# Added by vhnet's scripts/qemu-vmms.sh: QEMU 10.0 for the tests.
		# Nothing is installed from here; apt's default priority for
		# backports (100) keeps every package on bookworm.
		Types: deb
		URIs: $uri
		Suites: $suite
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	apt-get update -qq
}

install_10() {
	local ver dir tmp f missing
	add_suite
	ver=$(apt-cache madison qemu-system-x86 | awk -v s="$suite" '$0 ~ s"/main" { print $3; exit }')
	if [ -z "$ver" ]; then
		apt-get update -qq
		ver=$(apt-cache madison qemu-system-x86 | awk -v s="$suite" '$0 ~ s"/main" { print $3; exit }')
	fi
	[ -n "$ver" ] || { echo "qemu-vmms: no qemu-system-x86 in $suite" >&2; return 1; }
	# 1:10.0.2+ds-2+deb13u1~bpo12+1 -> 10.0.2+ds-2+deb13u1~bpo12+1
	dir=$cache/${ver#*:}
	case "${ver#*:}" in 10.0.*) ;; *) echo "qemu-vmms: $suite has QEMU $ver, not 10.0" >&2; return 1 ;; esac
	if [ -x "$dir/bin/qemu-system-x86_64" ]; then
		echo "qemu-vmms: QEMU $ver already in $dir" >&2
		return 0
	fi
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.new.XXXXXX")
	# apt's sandbox user cannot write to a root-only temp dir.
	chmod 755 "$tmp"
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root -t "$suite" "${pkgs[@]}")
	for f in "$tmp"/*.deb; do
		dpkg -x "$f" "$tmp/root"
	done
	missing=$(ldd "$tmp/root/usr/bin/qemu-system-x86_64" | awk '/not found/ { print $1 }')
	if [ -n "$missing" ]; then
		echo "qemu-vmms: QEMU $ver lacks libraries here: $missing" >&2
		rm -rf "$tmp"
		return 1
	fi
	mkdir -p "$tmp/bin"
	cat >"$tmp/bin/qemu-system-x86_64" <<-EOF
		#!/bin/sh
		# QEMU $ver (Debian, $suite), unpacked by vhnet's scripts/qemu-vmms.sh.
		# Its own option ROMs and SeaBIOS first; the modules directory of
		# the machine's QEMU build does not match and is not used.
		exec "$dir/root/usr/bin/qemu-system-x86_64" \\
			-L "$dir/root/usr/share/qemu" -L "$dir/root/usr/share/seabios" "\$@"
	EOF
	chmod +x "$tmp/bin/qemu-system-x86_64"
	rm -f "$tmp"/*.deb
	rm -rf "$dir"
	mv "$tmp" "$dir"
	"$dir/bin/qemu-system-x86_64" --version | head -n 1 >&2
}

case "${1:-list}" in
list)
	for n in 7.2 10.0; do
		p=$(path_of "$n") || continue
		echo "$n $p"
	done
	;;
path) path_of "${2:?usage: qemu-vmms.sh path NAME}" ;;
install) install_10 ;;
*) sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
