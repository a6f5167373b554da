#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The vhnet family over raw netlink: bytes built by hand, no library.

vhnetctl (libnl) and YNL only ever send well-formed requests; this test
sends what they cannot: unknown attributes, attributes of the wrong size,
an attribute this command does not take, truncated messages, a string
without its NUL, a non-zero reserved header field, unknown commands, dump
flags on do-only commands. Each must be refused with the right errno and an
extack message (the offset of the offending attribute where there is one),
and a refused request must change nothing. It also runs every command
and every tunable's range edges (from the spec's checks), a caller
without CAP_NET_ADMIN, another network namespace and the monitor group.

Attribute and command numbers are include/uapi/linux/vhnet.h's.
usage: raw.py    KTAP on stdout; exit 0 only if every test passed.
Root, vhnet.ko loaded.
"""
import ctypes
import errno
import os
import struct
import sys

import yaml

import ktap

from rawnl import (A_ID, A_INSTANCE_QUEUE, A_STATS_QUEUE, A_TUNABLES_MAX,
                   A_TUNABLES_RX_BATCH, A_TUNABLES_TX_BATCH, A_TUNABLES_WORKER_CPUS,
                   CMD_INSTANCE_ADD_NTF, CMD_INSTANCE_DEL_NTF, CMD_INSTANCE_GET,
                   CMD_STATS_GET, CMD_STATS_RESET, CMD_TUNABLES_GET, CMD_TUNABLES_SET,
                   HDRS, NETLINK_ADD_MEMBERSHIP, NL_POLICY_TYPE_ATTR_MAX_VALUE_U,
                   NL_POLICY_TYPE_ATTR_MIN_VALUE_U, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
                   NLM_F_ROOT, SOL_NETLINK, Genl, attr, get_u32, in_child, parse,
                   resolve, u32)

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SPEC = os.path.join(TOP, 'Documentation/netlink/specs/vhnet.yaml')

def tunables(spec):
    """(name, attr type, min, max) of every ranged u32 tunable, from the spec."""
    aset = next(s for s in spec['attribute-sets'] if s['name'] == 'tunables')
    out = []
    for atype, a in enumerate(aset['attributes'], 1):
        if a['name'] != 'id' and a['type'] == 'u32':
            c = a.get('checks', {})
            out.append((a['name'], atype, c.get('min', 0), c.get('max', 0xffffffff)))
    return out


def tget(g, fam, iid):
    """The instance's tunables as {attribute type: payload}."""
    r = g.do(fam, CMD_TUNABLES_GET, u32(A_ID, iid))
    return dict(r.msgs[0][1]) if not r.error and r.msgs else {}


def tunable(g, fam, iid, atype):
    p = tget(g, fam, iid).get(atype)
    return None if p is None else struct.unpack('=I', p[:4])[0]


def refused(name, r, err, msg_part, offs=None, miss_type=None, unchanged=True):
    ok = (r.error == err and r.msg is not None and msg_part in r.msg and
          (offs is None or r.offs == offs) and
          (miss_type is None or r.miss_type == miss_type) and unchanged)
    ktap.result(name, ok, f'{r}; state unchanged: {unchanged}')


def main():
    with open(SPEC) as f:
        spec = yaml.safe_load(f)
    ktap.start()
    g = Genl()
    fam, groups = resolve(g)
    ktap.result('ctrl: family vhnet with its monitor group', 'monitor' in groups, groups)

    mon = Genl()
    mon.sk.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, groups['monitor'])
    mon.sk.settimeout(5)
    fd = os.open('/dev/vhnet', os.O_RDWR)
    try:
        run(g, fam, mon, spec)
    finally:
        if fd >= 0:
            os.close(fd)
    ktap.finish()


def next_event(mon):
    while True:
        data = mon.sk.recv(1 << 16)
        _, _, _, seq, _ = struct.unpack_from('=IHHII', data)
        if seq == 0:
            return data[16], parse(data[20:])


def run(g, fam, mon, spec):
    cmd, a = next_event(mon)
    iid = get_u32(a, A_ID)
    ktap.result('monitor: instance-add-ntf with the new id at open',
         cmd == CMD_INSTANCE_ADD_NTF and iid, (cmd, a))
    every_command(g, fam, iid)
    tunable_edges(g, fam, iid, spec)
    malformed(g, fam, iid)
    unprivileged(fam, iid)
    other_netns(fam, iid)

    fd = os.open('/dev/vhnet', os.O_RDWR)
    cmd, a = next_event(mon)
    other = get_u32(a, A_ID)
    os.close(fd)
    cmd2, a2 = next_event(mon)
    ktap.result('monitor: instance-del-ntf with the id at close',
         cmd == CMD_INSTANCE_ADD_NTF and cmd2 == CMD_INSTANCE_DEL_NTF and
         get_u32(a2, A_ID) == other and other != iid, (cmd, a, cmd2, a2))


def every_command(g, fam, iid):
    r = g.dump(fam, CMD_INSTANCE_GET)
    ids = [get_u32(a, A_ID) for _, a in r.msgs]
    ktap.result('instance-get dump lists the instance', not r.error and iid in ids, (r, ids))
    r = g.do(fam, CMD_INSTANCE_GET, u32(A_ID, iid))
    queues = [q for t, q in r.msgs[0][1] if t == A_INSTANCE_QUEUE] if r.msgs else []
    ktap.result('instance-get do: the instance and its two queues',
         not r.error and len(r.msgs) == 1 and len(queues) == 2, r)
    r = g.do(fam, CMD_TUNABLES_GET)
    ktap.result('tunables-get do without id: the module defaults',
         not r.error and r.msgs and get_u32(r.msgs[0][1], A_ID) is None and
         get_u32(r.msgs[0][1], A_TUNABLES_TX_BATCH), r)
    r = g.dump(fam, CMD_TUNABLES_GET)
    ktap.result('tunables-get dump', not r.error and
         iid in [get_u32(a, A_ID) for _, a in r.msgs], r)
    r = g.do(fam, CMD_TUNABLES_SET, u32(A_ID, iid), u32(A_TUNABLES_TX_BATCH, 17))
    ktap.result('tunables-set do on the instance', not r.error and
         tunable(g, fam, iid, A_TUNABLES_TX_BATCH) == 17, r)
    old = g.do(fam, CMD_TUNABLES_GET)
    old_rx = get_u32(old.msgs[0][1], A_TUNABLES_RX_BATCH)
    r = g.do(fam, CMD_TUNABLES_SET, u32(A_TUNABLES_RX_BATCH, 19))
    now = g.do(fam, CMD_TUNABLES_GET)
    g.do(fam, CMD_TUNABLES_SET, u32(A_TUNABLES_RX_BATCH, old_rx))
    ktap.result('tunables-set do without id: the module defaults', not r.error and
         get_u32(now.msgs[0][1], A_TUNABLES_RX_BATCH) == 19, r)
    r = g.do(fam, CMD_STATS_GET, u32(A_ID, iid))
    ktap.result('stats-get do: both queues', not r.error and r.msgs and
         len([q for t, q in r.msgs[0][1] if t == A_STATS_QUEUE]) == 2, r)
    r = g.dump(fam, CMD_STATS_GET)
    ktap.result('stats-get dump', not r.error and
         iid in [get_u32(a, A_ID) for _, a in r.msgs], r)
    r = g.do(fam, CMD_STATS_RESET, u32(A_ID, iid))
    ktap.result('stats-reset do on the instance', not r.error and not r.msgs, r)
    r = g.do(fam, CMD_STATS_RESET)
    ktap.result('stats-reset do without id: every instance', not r.error, r)


def tunable_edges(g, fam, iid, spec):
    for name, atype, lo, hi in tunables(spec):
        for v in (lo, hi):
            r = g.do(fam, CMD_TUNABLES_SET, u32(A_ID, iid), u32(atype, v))
            got = tunable(g, fam, iid, atype)
            ktap.result(f'{name} {v} (edge) accepted', not r.error and got == v, (r, got))
        before = tget(g, fam, iid)
        for v in ([lo - 1] if lo > 0 else []) + ([hi + 1] if hi < 0xffffffff else []):
            r = g.do(fam, CMD_TUNABLES_SET, u32(A_ID, iid), u32(atype, v))
            pol = dict((t, struct.unpack('=Q', p)[0]) for t, p in r.policy or []
                       if len(p) == 8)
            ok_pol = (pol.get(NL_POLICY_TYPE_ATTR_MIN_VALUE_U) == lo and
                      pol.get(NL_POLICY_TYPE_ATTR_MAX_VALUE_U) == hi)
            refused(f'{name} {v}: ERANGE, extack, offset, policy {lo}..{hi}', r,
                    errno.ERANGE, 'out of range', offs=HDRS + 8,
                    unchanged=ok_pol and tget(g, fam, iid) == before)


def malformed(g, fam, iid):
    before = tget(g, fam, iid)
    tx = u32(A_TUNABLES_TX_BATCH, 5)
    idattr = u32(A_ID, iid)

    def same():
        return tget(g, fam, iid) == before

    r = g.do(fam, CMD_TUNABLES_SET, idattr, tx, u32(A_TUNABLES_MAX + 1, 1))
    refused('unknown attribute type: EINVAL, extack, offset', r, errno.EINVAL,
            'Unknown attribute type', offs=HDRS + 16, unchanged=same())
    r = g.do(fam, CMD_TUNABLES_GET, idattr, tx)
    refused('an attribute this command does not take: EINVAL', r, errno.EINVAL,
            'Unknown attribute type', offs=HDRS + 8)
    r = g.do(fam, CMD_TUNABLES_SET, idattr,
             attr(A_TUNABLES_TX_BATCH, struct.pack('=H', 5)))
    refused('u32 sent in 2 bytes: EINVAL, extack, offset', r, errno.EINVAL,
            'invalid attribute length', offs=HDRS + 8, unchanged=same())
    r = g.do(fam, CMD_TUNABLES_SET, idattr,
             attr(A_TUNABLES_TX_BATCH, struct.pack('=Q', 5)))
    refused('u32 sent in 8 bytes: EINVAL, extack, offset', r, errno.EINVAL,
            'invalid attribute length', offs=HDRS + 8, unchanged=same())
    r = g.do(fam, CMD_INSTANCE_GET, attr(A_ID, struct.pack('=B', 1)))
    refused('id sent in 1 byte: EINVAL', r, errno.EINVAL, 'invalid attribute length',
            offs=HDRS)
    r = g.do(fam, CMD_TUNABLES_SET, idattr, attr(A_TUNABLES_WORKER_CPUS, b'0-1'))
    refused('worker-cpus without its NUL: EINVAL', r, errno.EINVAL,
            'failed policy validation', offs=HDRS + 8, unchanged=same())
    r = g.do(fam, CMD_TUNABLES_SET, idattr,
             attr(A_TUNABLES_WORKER_CPUS, b'0,' * 2500 + b'\0'))
    refused('worker-cpus longer than 4096: refused', r, errno.EINVAL,
            'failed policy validation', offs=HDRS + 8, unchanged=same())
    r = g.do(fam, CMD_TUNABLES_SET, idattr, tx + b'\x08\x00')
    refused('a truncated attribute: EINVAL, extack', r, errno.EINVAL,
            'bytes leftover', unchanged=same())
    r = g.do(fam, CMD_TUNABLES_SET, idattr, tx, attr(A_TUNABLES_WORKER_CPUS, b'x\0'))
    refused('valid tx-batch with a bad cpulist: EINVAL, nothing applied', r,
            errno.EINVAL, 'cpulist', offs=HDRS + 16, unchanged=same())
    r = g.do(fam, CMD_TUNABLES_SET, idattr, tx, u32(A_TUNABLES_RX_BATCH, 0))
    refused('valid tx-batch with rx-batch 0: ERANGE, nothing applied', r,
            errno.ERANGE, 'out of range', offs=HDRS + 16, unchanged=same())
    r = g.do(fam, CMD_INSTANCE_GET)
    refused('instance-get without id: EINVAL, missing type', r, errno.EINVAL,
            'id attribute missing', miss_type=A_ID)
    r = g.do(fam, CMD_STATS_GET)
    refused('stats-get without id: EINVAL, missing type', r, errno.EINVAL,
            'id attribute missing', miss_type=A_ID)
    r = g.do(fam, CMD_TUNABLES_SET, idattr)
    refused('tunables-set with nothing to set: EINVAL', r, errno.EINVAL,
            'no tunable given', unchanged=same())
    r = g.do(fam, CMD_TUNABLES_SET, u32(A_ID, 0xfffffff0))
    refused('tunables-set with nothing to set, for an id nobody has: EINVAL first',
            r, errno.EINVAL, 'no tunable given', unchanged=same())
    r = g.do(fam, CMD_INSTANCE_GET, u32(A_ID, 0))
    refused('id 0: ERANGE', r, errno.ERANGE, 'out of range', offs=HDRS)
    r = g.do(fam, CMD_STATS_GET, u32(A_ID, 0xfffffff0))
    refused('an id nobody has: ENOENT, extack, offset', r, errno.ENOENT,
            'no instance with this id', offs=HDRS)
    r = g.do(fam, CMD_TUNABLES_SET, idattr, tx, reserved=1)
    refused('reserved genetlink header field set: EINVAL, nothing applied', r,
            errno.EINVAL, 'reserved field is not 0', unchanged=same())
    r = g.send(fam, CMD_TUNABLES_SET, idattr + tx,
               flags=NLM_F_REQUEST | NLM_F_ACK | NLM_F_ROOT)
    refused('half a dump flag (NLM_F_ROOT alone): EINVAL, nothing applied', r,
            errno.EINVAL, 'ambiguous or reserved bits', unchanged=same())
    for cmd, what in ((99, 'an unknown command'),
                      (CMD_INSTANCE_ADD_NTF, 'a notification sent as a request')):
        r = g.do(fam, cmd, idattr)
        ktap.result(f'{what}: EOPNOTSUPP', r.error == errno.EOPNOTSUPP, r)
    for cmd, what in ((CMD_TUNABLES_SET, 'tunables-set'), (CMD_STATS_RESET, 'stats-reset')):
        r = g.send(fam, cmd, idattr + tx, flags=NLM_F_REQUEST | NLM_F_DUMP)
        ktap.result(f'dump of {what} (do only): EOPNOTSUPP, nothing applied',
             r.error == errno.EOPNOTSUPP and same(), r)


def unprivileged(fam, iid):
    def child():
        os.setgroups([])
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)   # drops every capability
        g = Genl()
        res = [g.do(fam, CMD_TUNABLES_SET, u32(A_ID, iid), u32(A_TUNABLES_TX_BATCH, 9)),
               g.do(fam, CMD_TUNABLES_SET, u32(A_TUNABLES_TX_BATCH, 9)),
               g.do(fam, CMD_STATS_RESET, u32(A_ID, iid)),
               g.do(fam, CMD_STATS_RESET),
               g.do(fam, CMD_TUNABLES_GET, u32(A_ID, iid)),
               g.do(fam, CMD_STATS_GET, u32(A_ID, iid))]
        for r in res:
            print(f'# uid 65534: {r}')
        return [r.error for r in res] == [errno.EPERM] * 4 + [0, 0]
    ktap.result('without CAP_NET_ADMIN: set and reset EPERM, get allowed', in_child(child))


def other_netns(fam, iid):
    def child():
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x40000000):            # CLONE_NEWNET
            raise OSError(ctypes.get_errno(), 'unshare')
        g = Genl()
        f2, _ = resolve(g)
        res = [g.dump(f2, CMD_INSTANCE_GET), g.dump(f2, CMD_STATS_GET),
               g.dump(f2, CMD_TUNABLES_GET), g.do(f2, CMD_INSTANCE_GET, u32(A_ID, iid)),
               g.do(f2, CMD_TUNABLES_SET, u32(A_ID, iid), u32(A_TUNABLES_TX_BATCH, 9)),
               g.do(f2, CMD_STATS_RESET, u32(A_ID, iid))]
        for r in res:
            print(f'# other netns: {r}')
        return (all(not r.error and not r.msgs for r in res[:3]) and
                [r.error for r in res[3:]] == [errno.ENOENT] * 3)
    ktap.result('another network namespace sees nothing and reaches nothing', in_child(child))


if __name__ == '__main__':
    sys.exit(main())
