# SPDX-License-Identifier: GPL-2.0
"""KTAP output of vhnet's Python tests, through the kernel's own helpers.

The kernel's kselftest/ksft.py (extracted into .cache/linux-src by
scripts/linux-src.sh; $KSFT_DIR names another selftests tree) prints every
line, as its ktap_helpers.sh does for the shell tests (selftests/lib.sh)
and kselftest_harness.h for the C ones. This adds what those tests share:

    ktap.start()                      # the header
    ktap.result(name, passed, diag)   # one test; diag printed if it failed
    ktap.finish()                     # the plan (at the end: the tests
                                      # count as they go), totals, exit
"""
import os
import sys

_top = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
_ksft_dir = os.environ.get('KSFT_DIR') or os.path.join(
    _top, '.cache', 'linux-src', 'tools', 'testing', 'selftests')
sys.path.insert(0, os.path.join(_ksft_dir, 'kselftest'))
import ksft  # noqa: E402


def start():
    ksft.print_header()
    sys.stdout.flush()


def result(name, passed, diag=None):
    if diag is not None and not passed:
        for line in str(diag).splitlines():
            ksft.print_msg(line)
    ksft.test_result(bool(passed), name)
    sys.stdout.flush()


def finish():
    """Print the plan and the totals, and exit: 0 only if every test passed."""
    ksft.set_plan(ksft.ksft_test_number - 1)
    sys.stdout.flush()
    ksft.finished()


def abort(name):
    """Fail the whole run now, from any thread (a hang it cannot outlive)."""
    ksft.test_result_fail(name)
    ksft.set_plan(ksft.ksft_test_number - 1)
    ksft.print_cnts()
    sys.stdout.flush()
