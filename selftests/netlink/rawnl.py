# SPDX-License-Identifier: GPL-2.0
"""Raw generic netlink for the vhnet tests: bytes built and read by hand.

Shared by raw.py (hand-written malformed requests) and fuzz.py (random
ones). Standard library only. Attribute and command numbers are
include/uapi/linux/vhnet.h's.
"""
import ctypes
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_ECHO = 0x1, 0x2, 0x4, 0x8
NLM_F_DUMP_INTR, NLM_F_DUMP_FILTERED = 0x10, 0x20
NLM_F_ROOT, NLM_F_MATCH, NLM_F_ATOMIC, NLM_F_DUMP = 0x100, 0x200, 0x400, 0x300
NLM_F_ACK_TLVS = 0x200
NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE, NLMSG_OVERRUN = 1, 2, 3, 4
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS = 1, 2
NLMSGERR_ATTR_POLICY, NLMSGERR_ATTR_MISS_TYPE = 4, 5
NL_POLICY_TYPE_ATTR_MIN_VALUE_U, NL_POLICY_TYPE_ATTR_MAX_VALUE_U = 4, 5
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 0x8000, 0x4000
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
CTRL_ATTR_MCAST_GROUPS = 7
CTRL_ATTR_MCAST_GRP_NAME, CTRL_ATTR_MCAST_GRP_ID = 1, 2
CLONE_NEWNET = 0x40000000

# include/uapi/linux/vhnet.h
CMD_INSTANCE_GET, CMD_INSTANCE_ADD_NTF, CMD_INSTANCE_DEL_NTF = 1, 2, 3
CMD_TUNABLES_GET, CMD_TUNABLES_SET, CMD_STATS_GET, CMD_STATS_RESET = 4, 5, 6, 7
A_ID = 1                        # the id of every attribute set
A_INSTANCE_OWNER_PID, A_INSTANCE_QUEUE = 2, 7
A_TUNABLES_TX_BATCH, A_TUNABLES_RX_BATCH = 2, 3
A_TUNABLES_WORKER_CPUS, A_TUNABLES_MAX = 9, 9
A_STATS_QUEUE = 2

HDRS = 16 + 4                   # nlmsghdr + genlmsghdr: attributes start here


def attr(atype, payload):
    hdr = struct.pack('=HH', 4 + len(payload), atype)
    return hdr + payload + b'\0' * (-len(payload) % 4)


def u32(atype, v):
    return attr(atype, struct.pack('=I', v))


def parse(buf):
    """Attributes of buf as a list of (type, payload); stops at garbage."""
    out, off = [], 0
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from('=HH', buf, off)
        if alen < 4 or off + alen > len(buf):
            break
        out.append((atype & 0x3fff, buf[off + 4:off + alen]))
        off += (alen + 3) & ~3
    return out


def first(attrs, atype):
    return next((p for t, p in attrs if t == atype), None)


def get_u32(attrs, atype):
    p = first(attrs, atype)
    return None if p is None else struct.unpack('=I', p[:4])[0]


def messages(data):
    """The netlink messages of one datagram: (type, flags, seq, body)."""
    off = 0
    while off + 16 <= len(data):
        mlen, mtype, mflags, mseq, _ = struct.unpack_from('=IHHII', data, off)
        if mlen < 16:
            return
        yield mtype, mflags, mseq, data[off + 16:off + mlen]
        off += (mlen + 3) & ~3


class Reply:
    def __init__(self):
        self.error = 0
        self.msg = None
        self.offs = None
        self.policy = None
        self.miss_type = None
        self.msgs = []          # (cmd, attrs) of every answer

    def __repr__(self):
        return (f'errno {self.error} extack {self.msg!r} offs {self.offs} '
                f'miss-type {self.miss_type} answers {len(self.msgs)}')

    def set_error(self, mflags, body):
        """Fill in from the body of an NLMSG_ERROR (or NLMSG_DONE)."""
        self.error = -struct.unpack_from('=i', body)[0] if len(body) >= 4 else 0
        if mflags & NLM_F_ACK_TLVS:
            # CAP_ACK: only the request's header is echoed.
            tlvs = parse(body[4 + 16:])
            m = first(tlvs, NLMSGERR_ATTR_MSG)
            self.msg = m.rstrip(b'\0').decode(errors='replace') if m else None
            self.offs = get_u32(tlvs, NLMSGERR_ATTR_OFFS)
            self.miss_type = get_u32(tlvs, NLMSGERR_ATTR_MISS_TYPE)
            p = first(tlvs, NLMSGERR_ATTR_POLICY)
            self.policy = parse(p) if p else None


class Genl:
    def __init__(self, timeout=None):
        self.sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sk.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sk.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.sk.bind((0, 0))
        self.sk.settimeout(timeout)
        self.seq = 1

    def send(self, ftype, cmd, payload=b'', flags=NLM_F_REQUEST | NLM_F_ACK,
             version=1, reserved=0):
        self.seq += 1
        body = struct.pack('=BBH', cmd, version, reserved) + payload
        self.sk.send(struct.pack('=IHHII', 16 + len(body), ftype, flags,
                                 self.seq, 0) + body)
        return self.recv(self.seq)

    def recv(self, seq):
        r = Reply()
        while True:
            data = self.sk.recv(1 << 20)
            for mtype, mflags, mseq, body in messages(data):
                if mseq != seq:
                    continue
                if mtype == NLMSG_DONE:
                    r.error = -struct.unpack_from('=i', body)[0]
                    return r
                if mtype == NLMSG_ERROR:
                    r.set_error(mflags, body)
                    return r
                r.msgs.append((body[0], parse(body[4:])))

    def do(self, ftype, cmd, *attrs, **kw):
        return self.send(ftype, cmd, b''.join(attrs), **kw)

    def dump(self, ftype, cmd, *attrs):
        return self.send(ftype, cmd, b''.join(attrs), flags=NLM_F_REQUEST | NLM_F_DUMP)


def resolve(g):
    r = g.do(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
             attr(CTRL_ATTR_FAMILY_NAME, b'vhnet\0'))
    if r.error or not r.msgs:
        print(f'Bail out! family vhnet not found: {r}')
        sys.exit(1)
    a = r.msgs[0][1]
    fid = struct.unpack('=H', first(a, CTRL_ATTR_FAMILY_ID)[:2])[0]
    groups = {}
    for _, grp in parse(first(a, CTRL_ATTR_MCAST_GROUPS) or b''):
        g_attrs = parse(grp)
        groups[first(g_attrs, CTRL_ATTR_MCAST_GRP_NAME).rstrip(b'\0').decode()] = \
            get_u32(g_attrs, CTRL_ATTR_MCAST_GRP_ID)
    return fid, groups


def unshare_net():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET):
        raise OSError(ctypes.get_errno(), 'unshare')


def drop_privileges(uid=65534, gid=65534):
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)         # drops every capability


def in_child(fn):
    """Run fn() in a forked child; its bool result comes back as the exit code."""
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if fn() else 1)
        except BaseException as e:      # noqa: B036 - report, never escape
            print(f'# child: {e!r}')
            os._exit(2)
    return os.waitpid(pid, 0)[1] == 0
