# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by vhnet's shell tests: KTAP output (the kernel's own helpers) and
# where the module under test lives.

ksft_dir=${KSFT_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache/linux-src/tools/testing/selftests}
# shellcheck source=/dev/null
. "$ksft_dir/kselftest/ktap_helpers.sh"

# The module to test: $VHNET_KO, or the in-tree build.
VHNET_KO=${VHNET_KO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/module/vhnet.ko}

vhnet_loaded()
{
	[ -d /sys/module/vhnet ]
}

# Run a test case function; its status is the case's result.
run_case()
{
	local name=$1
	shift
	if "$@"; then
		ktap_test_pass "$name"
	else
		ktap_test_fail "$name"
	fi
}
