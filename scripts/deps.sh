#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything vhnet needs to build, test and demo on Debian 12.
# Kernel package versions are resolved from apt at run time (newest wins),
# never hard-coded. Already-installed packages are skipped, so a second run
# costs seconds.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
# The test VM boots without Debian's initrd: skip building one per kernel.
export INITRD=No

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: must run as root (apt-get install)" >&2
	exit 1
fi

base_pkgs=(
	build-essential gcc make kmod cpio xz-utils zstd
	qemu-system-x86 busybox-static
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev pkg-config
	linux-source-6.12
	iproute2 iperf3 ethtool python3 python3-yaml python3-jsonschema
	dkms
	flex bison libelf-dev libssl-dev bc
	sparse shellcheck
	# make bench: testpmd (in dpdk-dev), its virtio-user driver, xdp-filter
	dpdk-dev librte-net-virtio23 librte-mempool-ring23 xdp-tools
	# make bench BENCH_PROFILE=1
	linux-perf
	# make bench's plots (scripts/bench-report.py --plot)
	python3-matplotlib
)

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

updated=0
apt_update_once() {
	if [ "$updated" = 0 ]; then
		apt-get update -qq
		updated=1
	fi
}

# Newest 6.12 generic kernel in apt (unsigned image + headers).
resolve_612() {
	apt-cache pkgnames linux-image-6.12. |
		sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb12-amd64\)-unsigned$/\1/p' |
		sort -V | tail -n 1
}

missing=()
for p in "${base_pkgs[@]}"; do
	pkg_installed "$p" || missing+=("$p")
done

# Kernels: install only when no matching headers are there yet.
if ! ls -d /usr/src/linux-headers-6.12.*+deb12-amd64 >/dev/null 2>&1; then
	apt_update_once
	k612=$(resolve_612)
	[ -n "$k612" ] || { echo "deps: no 6.12 kernel in apt" >&2; exit 1; }
	missing+=("linux-image-$k612-unsigned" "linux-headers-$k612")
fi
if ! ls -d /usr/src/linux-headers-6.1.0-*-amd64 >/dev/null 2>&1; then
	missing+=(linux-image-amd64 linux-headers-amd64)
fi

if [ "${#missing[@]}" -ne 0 ]; then
	echo "deps: installing ${missing[*]}"
	apt_update_once
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The second VMM: QEMU 10.0 from bookworm-backports, unpacked beside the
# machine's 7.2 (never installed over it); see scripts/qemu-vmms.sh.
here=$(dirname "$0")
if ! "$here/qemu-vmms.sh" path 10.0 >/dev/null; then
	echo "deps: QEMU 10.0 from bookworm-backports"
	"$here/qemu-vmms.sh" install
fi
if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: everything is installed"
else
	echo "deps: done"
fi
