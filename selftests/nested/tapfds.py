#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Open a multiqueue tap and one vhost device per queue, then exec QEMU.

    tapfds.py TAP QUEUES VHOSTDEV -- QEMU ARGS...

Each queue gets its own tap fd (TUNSETIFF with IFF_MULTI_QUEUE on the same
name) and its own open of VHOSTDEV, as QEMU 7.2 wants for
`-netdev tap,fds=A:B,vhostfds=C:D` (it takes vhostfds= only with fds=).
The literal argument "@FDS@" in the QEMU arguments is replaced by
"fds=A:B,vhostfds=C:D". The fds stay open across exec; nothing else is kept.
"""
import fcntl
import os
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
IFF_MULTI_QUEUE = 0x0100


def open_tap_queue(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE
    ifr = struct.pack("16sH22x", name.encode(), flags)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    return fd


def main(argv):
    if len(argv) < 6 or argv[4] != "--":
        sys.exit(__doc__)
    tap, queues, dev = argv[1], int(argv[2]), argv[3]
    qemu = argv[5:]
    if not 1 <= queues <= 8 or len(tap.encode()) > 15:
        sys.exit("tapfds: bad queue count or tap name")
    taps, vhosts = [], []
    for _ in range(queues):
        taps.append(open_tap_queue(tap))
        vhosts.append(os.open(dev, os.O_RDWR))
    for fd in taps + vhosts:
        os.set_inheritable(fd, True)
    fds = "fds=%s,vhostfds=%s" % (":".join(map(str, taps)),
                                   ":".join(map(str, vhosts)))
    if "@FDS@" not in "".join(qemu):
        sys.exit("tapfds: no @FDS@ in the QEMU arguments")
    qemu = [a.replace("@FDS@", fds) for a in qemu]
    os.execvp(qemu[0], qemu)


if __name__ == "__main__":
    main(sys.argv)
