#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Random raw netlink requests against the vhnet family.

Where raw.py sends a fixed list of malformed requests, this sends random
ones for every operation (instance-get, tunables-get, stats-get, do and
dump; tunables-set; stats-reset; notifications and unknown command
numbers): random attribute types, known and unknown, of any size (0,
short, long, odd), nests where a flat attribute is expected and flat ones
with the nested flag, deep nesting, duplicates, strings without their NUL,
truncated messages, bad nlmsg_len, trailing garbage, random nlmsg_flags,
genetlink version and reserved field. It sends them as root, from a child
that dropped to uid/gid 65534 (no capabilities), and from a child in
another network namespace (root there).

It keeps a real instance open (/dev/vhnet, VHOST_SET_OWNER, a kick eventfd
on each queue, kicked once so the counters are not all zero) and after
every request checks, with a socket of its own in the initial namespace:
  - the kernel answered within FUZZ_TIMEOUT (2 s): every request that must
    be answered (NLM_F_ACK, a dump, a refusal) was, and no request got
    stuck in the kernel (a watchdog thread);
  - nothing changed (the instance's tunables, the module defaults, the
    instance's counters) unless the request was accepted and privileged;
    an accepted tunables-set changed exactly the attributes it carried
    (the last of duplicates), then the fuzzer restores them; an accepted
    stats-reset of the instance (or of every instance) zeroed its
    counters, then the fuzzer kicks them non-zero again;
  - without CAP_NET_ADMIN, tunables-set and stats-reset are never
    accepted; from another namespace no instance is seen and none
    changes (its root may change the module defaults: init user ns);
  - a refusal of a valid-looking request (no mutation, as root) carries
    an extack message, as raw.py expects of every refusal but EPERM and
    EOPNOTSUPP; for all refusals the share with one is reported.

  FUZZ_SEED     the seed (default: random); printed first
  FUZZ_SECONDS  time budget (default 30), split root 1/2, unprivileged and
                other netns 1/4 each
  FUZZ_TIMEOUT  seconds the kernel has to answer (default 2)
  FUZZ_ONLY     replay requests, e.g. root#123 or netns#5,root#7
usage: fuzz.py    KTAP on stdout; exit 0 only if every test passed.
Root, vhnet.ko loaded. A failure prints the seed and the request (as
FUZZ_SEED=... FUZZ_ONLY=...) that reproduce it. Standard library only.
"""
import collections
import errno
import fcntl
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time
import zlib

import ktap

from rawnl import (A_ID, A_INSTANCE_OWNER_PID, A_STATS_QUEUE, A_TUNABLES_WORKER_CPUS,
                   CMD_INSTANCE_ADD_NTF, CMD_INSTANCE_DEL_NTF, CMD_INSTANCE_GET,
                   CMD_STATS_GET, CMD_STATS_RESET, CMD_TUNABLES_GET, CMD_TUNABLES_SET,
                   NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLM_F_ACK, NLM_F_ATOMIC,
                   NLM_F_DUMP, NLM_F_DUMP_FILTERED, NLM_F_DUMP_INTR, NLM_F_ECHO,
                   NLM_F_MATCH, NLM_F_MULTI, NLM_F_REQUEST, NLM_F_ROOT, NLMSG_DONE,
                   NLMSG_ERROR, Genl, Reply, attr, drop_privileges, get_u32,
                   messages, parse, resolve, u32, unshare_net)

SEED = int(os.environ.get('FUZZ_SEED') or random.SystemRandom().randrange(1 << 32))
SECONDS = float(os.environ.get('FUZZ_SECONDS') or 30)
TIMEOUT = float(os.environ.get('FUZZ_TIMEOUT') or 2)
ONLY = [x for x in (os.environ.get('FUZZ_ONLY') or '').split(',') if x]
SHARE = {'root': 0.5, 'unpriv': 0.25, 'netns': 0.25}

# <linux/vhost.h>: _IO(VHOST_VIRTIO, 0x01), _IOW(VHOST_VIRTIO, 0x20, struct vhost_vring_file)
VHOST_SET_OWNER = 0xaf01
VHOST_SET_VRING_KICK = 0x4008af20

# The spec's checks of every u32 tunable: attribute type, min, max.
TUNABLE_RANGE = {2: (1, 256), 3: (1, 256), 4: (1, 65536), 5: (1500, 67108864),
                 6: (0, 100000), 7: (0, 1024), 8: (0, 100000)}
# maxattr of each command's request policy (module/netlink.c's op table).
MAXATTR = {CMD_INSTANCE_GET: 1, CMD_TUNABLES_GET: 1, CMD_TUNABLES_SET: 9,
           CMD_STATS_GET: 1, CMD_STATS_RESET: 1}
# Highest attribute of each set, to pick known types from.
SET_MAX = {'instance': 7, 'tunables': 9, 'stats': 2, 'queue': 9,
           'queue-stats': 11, 'batch-hist': 9, 'drops': 8}
CPULISTS = ['', '0', '1', '0-1', '0,1', '0-0', '1-0', '0-7', '0-4095', '4095',
            '65535', 'x', '-', '0-', ',', ',0', '0,', '0-1:1/2', '0-3:2/4', ' 0',
            '0\n', '-1', '00', '0x1', 'all', '0-1,1-0', '0,' * 300 + '0']

# (name, command, do or dump, request attribute set); None: a random number.
OPS = [('instance-get do', CMD_INSTANCE_GET, 'do', 'instance'),
       ('instance-get dump', CMD_INSTANCE_GET, 'dump', 'instance'),
       ('tunables-get do', CMD_TUNABLES_GET, 'do', 'tunables'),
       ('tunables-get dump', CMD_TUNABLES_GET, 'dump', 'tunables'),
       ('tunables-set', CMD_TUNABLES_SET, 'do', 'tunables'),
       ('tunables-set', CMD_TUNABLES_SET, 'do', 'tunables'),
       ('tunables-set', CMD_TUNABLES_SET, 'do', 'tunables'),
       ('stats-get do', CMD_STATS_GET, 'do', 'stats'),
       ('stats-get dump', CMD_STATS_GET, 'dump', 'stats'),
       ('stats-reset', CMD_STATS_RESET, 'do', 'stats'),
       ('stats-reset', CMD_STATS_RESET, 'do', 'stats'),
       ('notification', None, 'do', 'instance'),
       ('unknown command', None, 'do', 'tunables')]

def say(line):
    print('# ' + line)
    sys.stdout.flush()


# ---- requests ----

class Req:
    """One random request: the bytes sent and what the kernel will make of them."""

    def __init__(self, label, op, frame, mutations, seq):
        self.label = label
        self.op = op
        self.frame = frame
        self.mutations = mutations
        self.seq = seq
        self.valid_looking = not mutations
        # The kernel's view of the first message (netlink_rcv_skb): None
        # if it drops the whole send for a bad nlmsg_len.
        self.view = None
        if len(frame) >= 16:
            nlen, ntype, nflags = struct.unpack_from('=IHH', frame)
            if 16 <= nlen <= len(frame):
                self.view = (ntype, nflags, frame[16:nlen])

    def flags(self):
        return self.view[1] if self.view else 0

    def must_answer(self, fam):
        """An ack, a refusal or a dump: the kernel owes an answer."""
        if not self.view or self.view[0] != fam or not self.flags() & NLM_F_REQUEST:
            return False
        return bool(self.flags() & (NLM_F_ACK | NLM_F_ROOT | NLM_F_MATCH))

    def genl(self):
        """(command, top-level attributes) as the family's handler saw them."""
        body = self.view[2] if self.view else b''
        if len(body) < 4:
            return None, []
        return body[0], parse(body[4:])

    def carried(self):
        """What an accepted tunables-set applies: the last of each type wins."""
        out = {}
        for t, p in self.genl()[1]:
            if t == A_TUNABLES_WORKER_CPUS:
                out[t] = cpuset(p.split(b'\0')[0].decode(errors='replace'))
            elif len(p) >= 4:
                out[t] = struct.unpack('=I', p[:4])[0]
        return out

    def describe(self):
        return (f'{self.label} {self.op}, mutations {",".join(self.mutations) or "none"}, '
                f'{len(self.frame)} bytes: {self.frame[:96].hex()}'
                f'{"..." if len(self.frame) > 96 else ""}')


def raw_types(buf):
    """Attribute types with their flag bits, as parse() walks them."""
    out, off = [], 0
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from('=HH', buf, off)
        if alen < 4 or off + alen > len(buf):
            break
        out.append(atype)
        off += (alen + 3) & ~3
    return out


def rbytes(rng, n):
    return rng.randbytes(n)


def rand_u32(rng, lo, hi):
    roll = rng.random()
    if roll < 0.6:
        return rng.randint(lo, hi)
    if roll < 0.8:
        return rng.choice((lo, hi))
    return rng.choice([v for v in (lo - 1, hi + 1, 0xffffffff, rng.getrandbits(32))
                       if 0 <= v <= 0xffffffff])


def rand_id(rng, iid):
    if rng.random() < 0.7:
        return iid
    return rng.choice((0, 1, iid - 1, iid + 1, 0xffffffff, rng.getrandbits(32)))


def rand_size(rng):
    return rng.choice((0, 1, 2, 3, 5, 6, 7, 8, 9, 12, 16, rng.randint(17, 300),
                       rng.randint(1000, 6000), rng.randint(16000, 30000)))


def rand_nest(rng, depth):
    """Random attributes, nested depth deep."""
    out = b''
    for _ in range(rng.randint(0, 3)):
        t = rng.randint(0, 12) | (NLA_F_NESTED if rng.random() < 0.5 else 0)
        if depth > 1 and rng.random() < 0.6:
            out += attr(t | NLA_F_NESTED, rand_nest(rng, depth - 1))
        else:
            out += attr(t, rbytes(rng, rng.choice((0, 1, 4, 8, 13))))
    return out


def template(rng, op, iid):
    """The attributes of a well-formed request: a list of [type, payload]."""
    name, cmd, kind, aset = op
    attrs = []
    if kind == 'dump' or cmd is None:
        return attrs
    if cmd in (CMD_INSTANCE_GET, CMD_STATS_GET):
        attrs.append([A_ID, struct.pack('=I', rand_id(rng, iid))])
    elif cmd in (CMD_TUNABLES_GET, CMD_STATS_RESET):
        if rng.random() < 0.7:
            attrs.append([A_ID, struct.pack('=I', rand_id(rng, iid))])
    elif cmd == CMD_TUNABLES_SET:
        if rng.random() < 0.6:
            attrs.append([A_ID, struct.pack('=I', rand_id(rng, iid))])
        for t in rng.sample(sorted(TUNABLE_RANGE), rng.randint(0, 4)):
            attrs.append([t, struct.pack('=I', rand_u32(rng, *TUNABLE_RANGE[t]))])
        if rng.random() < 0.4:
            attrs.append([A_TUNABLES_WORKER_CPUS, rng.choice(CPULISTS).encode() + b'\0'])
    return attrs


def mutate_attrs(rng, attrs, aset, done):
    m = rng.choice(('unknown', 'foreign', 'size', 'nest-for-flat', 'flat-as-nest',
                    'deep', 'dup', 'flag-bits', 'string', 'drop', 'shuffle'))
    top = SET_MAX[aset]
    pick = rng.randrange(len(attrs)) if attrs else None
    if m == 'unknown':
        t = rng.choice((0, top + 1, rng.randint(top + 1, 0x3fff), 0x3fff))
        attrs.insert(rng.randint(0, len(attrs)), [t, rbytes(rng, rand_size(rng))])
    elif m == 'foreign':
        other = rng.choice(sorted(SET_MAX))
        t = rng.randint(1, SET_MAX[other])
        attrs.insert(rng.randint(0, len(attrs)), [t, struct.pack('=Q', rng.getrandbits(64))
                                                  [:rng.choice((4, 8))]])
    elif m == 'size' and attrs:
        n = rand_size(rng)
        attrs[pick][1] = (attrs[pick][1] * (n // 4 + 1))[:n] if rng.random() < 0.5 \
            else rbytes(rng, n)
    elif m == 'nest-for-flat' and attrs:
        attrs[pick] = [attrs[pick][0] | (NLA_F_NESTED if rng.random() < 0.7 else 0),
                       rand_nest(rng, rng.randint(1, 3))]
    elif m == 'flat-as-nest':
        t = rng.choice((A_STATS_QUEUE, 7, 10, 11, rng.randint(1, top)))
        attrs.insert(rng.randint(0, len(attrs)),
                     [t | NLA_F_NESTED, struct.pack('=I', rng.getrandbits(32))])
    elif m == 'deep':
        payload = b''
        for _ in range(rng.randint(2, 80)):
            payload = attr(rng.randint(0, top + 2) | NLA_F_NESTED, payload)
        t = rng.choice((rng.randint(1, top), rng.randint(top + 1, 300)))
        attrs.insert(rng.randint(0, len(attrs)), [t | NLA_F_NESTED, payload])
    elif m == 'dup' and attrs:
        t, p = attrs[pick]
        if rng.random() < 0.5 and t & 0x3fff in TUNABLE_RANGE:
            p = struct.pack('=I', rand_u32(rng, *TUNABLE_RANGE[t & 0x3fff]))
        attrs.insert(rng.randint(0, len(attrs)), [t, p])
    elif m == 'flag-bits' and attrs:
        attrs[pick][0] |= rng.choice((NLA_F_NESTED, NLA_F_NET_BYTEORDER,
                                      NLA_F_NESTED | NLA_F_NET_BYTEORDER))
    elif m == 'string':
        s = rng.choice((b'0-1', b'0\0junk', b'0' * 4096, b'0' * 4095 + b'\0',
                        b'0' * 4096 + b'\0', b'\0' * 9, rbytes(rng, rng.randint(1, 40))))
        attrs.insert(rng.randint(0, len(attrs)), [A_TUNABLES_WORKER_CPUS, s])
    elif m == 'drop' and attrs:
        del attrs[pick]
    elif m == 'shuffle' and len(attrs) > 1:
        rng.shuffle(attrs)
    else:
        return
    done.append(m)


def mutate_frame(rng, frame, done):
    m = rng.choice(('truncate', 'truncate-fixed', 'nlmsg-len', 'tail', 'second-msg'))
    done.append(m)
    if m in ('truncate', 'truncate-fixed'):
        frame = frame[:rng.randint(0, len(frame))]
        if m == 'truncate-fixed' and len(frame) >= 4:
            frame = struct.pack('=I', len(frame)) + frame[4:]
    elif m == 'nlmsg-len':
        n = len(frame)
        v = rng.choice((0, 1, 4, 15, 16, 17, 19, 20, 21, n - 1, n - 3, n - 4, n + 1, n + 4,
                        n + 4096, 0xffffffff, rng.randint(0, n + 64)))
        frame = struct.pack('=I', v & 0xffffffff) + frame[4:]
    elif m == 'tail':
        frame += rbytes(rng, rng.choice((1, 2, 3, 5, 7, 15, 17, 33)))
    else:
        body = rbytes(rng, rng.choice((0, 3, 4, 20)))
        frame += struct.pack('=IHHII', 16 + len(body), rng.choice((1, 2, 3, 4)),
                             rng.getrandbits(16), rng.getrandbits(32), 0) + body
    return frame


def tame_tail(frame, fam):
    """Messages after the first reach whatever family their type names: keep them
    to control types (< 16) so that no other family gets random requests and
    none to ours escapes the model (which follows the first message)."""
    frame = bytearray(frame)
    if len(frame) < 16:
        return bytes(frame)
    nlen = struct.unpack_from('=I', frame)[0]
    if nlen < 16 or nlen > len(frame):
        return bytes(frame)
    off = (nlen + 3) & ~3
    while len(frame) - off >= 16:
        hlen, htype = struct.unpack_from('=IH', frame, off)
        if hlen < 16 or hlen > len(frame) - off:
            break
        if htype >= 16:
            struct.pack_into('=H', frame, off + 4, 1 + htype % 4)
        off += (hlen + 3) & ~3
    return bytes(frame)


def make_request(label, fam, iid, seq):
    """Request label (phase#n) of this seed: the same bytes every time."""
    rng = random.Random(f'{SEED}/{label}')
    op = rng.choice(OPS)
    name, cmd, kind, aset = op
    if cmd is None:
        cmd = rng.choice((CMD_INSTANCE_ADD_NTF, CMD_INSTANCE_DEL_NTF)) \
            if name == 'notification' else \
            rng.choice((0, 8, 9, 42, 127, 128, 255, rng.randint(8, 255)))
    done = [] if name in ('tunables-set', 'stats-reset') or cmd <= 7 else ['command']
    attrs = template(rng, op, iid)
    if rng.random() < 0.65:
        for _ in range(rng.randint(1, 3)):
            mutate_attrs(rng, attrs, aset, done)
    flags = NLM_F_REQUEST | (NLM_F_DUMP if kind == 'dump' else 0)
    if rng.random() < 0.8:
        flags |= NLM_F_ACK
    version, reserved = 1, 0
    if rng.random() < 0.15:
        done.append('flags')
        flags = rng.choice((rng.getrandbits(16), flags ^ NLM_F_REQUEST,
                            flags | NLM_F_ROOT, flags | NLM_F_MATCH, flags | NLM_F_ATOMIC,
                            flags | NLM_F_ECHO, flags | NLM_F_MULTI, flags | NLM_F_DUMP_INTR,
                            flags | NLM_F_DUMP_FILTERED, flags ^ NLM_F_DUMP))
    if rng.random() < 0.1:
        version = rng.getrandbits(8)     # genetlink ignores it: not a mutation
    if rng.random() < 0.08:
        done.append('reserved')
        reserved = rng.randint(1, 0xffff)
    payload = b''.join(attr(t, p) for t, p in attrs)
    body = struct.pack('=BBH', cmd, version, reserved) + payload
    frame = struct.pack('=IHHII', 16 + len(body), fam, flags, seq, 0) + body
    if rng.random() < 0.12:
        frame = mutate_frame(rng, frame, done)
    frame = tame_tail(frame, fam)
    return Req(label, f'{name} (cmd {cmd})', frame, done, seq)


# ---- sending ----

class Outcome:
    def __init__(self):
        self.reply = Reply()
        self.answered = False
        self.timeout = False
        self.send_errno = 0
        self.ids_seen = []      # id attributes in the data answers


def exchange(sk, req, must):
    """Send req and collect what comes back for its seq. A refusal, an ack, a
    dump's end are awaited (TIMEOUT); anything else was queued by the time
    send() returned, a dump's first part included."""
    out = Outcome()
    try:
        sk.send(req.frame)
    except OSError as e:
        out.send_errno = e.errno
        return out
    deadline = time.monotonic() + TIMEOUT
    multi = done = False
    while not done:
        wait = must or multi
        left = max(0.0, deadline - time.monotonic()) if wait else 0
        if not select.select([sk], [], [], left)[0]:
            out.timeout = wait
            break
        try:
            data = sk.recv(1 << 20, socket.MSG_DONTWAIT)
        except BlockingIOError:
            continue
        for mtype, mflags, mseq, body in messages(data):
            if mseq != req.seq:
                continue
            out.answered = True
            if mtype in (NLMSG_ERROR, NLMSG_DONE):
                out.reply.set_error(mflags, body)
                done = True
            elif len(body) >= 4:
                a = parse(body[4:])
                out.reply.msgs.append((body[0], a))
                out.ids_seen += [get_u32(a, A_ID)] if get_u32(a, A_ID) else []
                multi |= bool(mflags & NLM_F_MULTI)
    return out


# ---- the state that must not change ----

def cpuset(s):
    """The CPUs of a cpulist as the kernel's bitmap_parselist reads it (empty
    regions skipped), or s itself where this model cannot tell."""
    cpus = set()
    for part in s.split(','):
        if not part.strip():
            continue
        try:
            region, _, grp = part.partition(':')
            lo, _, hi = region.partition('-')
            lo, hi = int(lo), int(hi or lo)
            used, size = (int(x) for x in grp.split('/')) if grp else (1, 1)
        except ValueError:
            return s
        cpus |= {c for c in range(lo, hi + 1) if (c - lo) % size < used}
    return frozenset(cpus)


def tunables_of(r):
    if r.error or not r.msgs:
        return {'errno': r.error}
    out = {}
    for t, p in r.msgs[0][1]:
        if t == A_TUNABLES_WORKER_CPUS:
            out[t] = cpuset(p.split(b'\0')[0].decode())
        elif t != A_ID:
            out[t] = struct.unpack('=I', p[:4])[0]
    return out


def counters_of(r):
    if r.error or not r.msgs:
        return {'errno': r.error}
    out = {}
    for t, q in r.msgs[0][1]:
        if t != A_STATS_QUEUE:
            continue
        qa = parse(q)
        idx = get_u32(qa, 1)
        for qt, p in qa:
            if qt in (10, 11):              # batch-hist, drops
                for st, sp in parse(p):
                    if len(sp) == 8:
                        out[(idx, qt, st)] = struct.unpack('=Q', sp)[0]
            elif qt != 1 and len(p) == 8:
                out[(idx, qt)] = struct.unpack('=Q', p)[0]
    return out


class State:
    """The instance and the module defaults, read by a socket of the initial netns."""

    def __init__(self, fam, iid):
        self.g = Genl(timeout=TIMEOUT)
        self.fam, self.iid = fam, iid

    def read(self):
        g, fam = self.g, self.fam
        return {'instance': tunables_of(g.do(fam, CMD_TUNABLES_GET, u32(A_ID, self.iid))),
                'defaults': tunables_of(g.do(fam, CMD_TUNABLES_GET)),
                'counters': counters_of(g.do(fam, CMD_STATS_GET, u32(A_ID, self.iid)))}

    def restore(self, what, tun):
        attrs = [u32(A_ID, self.iid)] if what == 'instance' else []
        for t, v in sorted(tun.items()):
            if t == A_TUNABLES_WORKER_CPUS:
                attrs.append(attr(t, ','.join(map(str, sorted(v))).encode() + b'\0'))
            else:
                attrs.append(u32(t, v))
        return self.g.do(self.fam, CMD_TUNABLES_SET, *attrs)


def diff(a, b):
    out = []
    for part in a:
        for k in sorted(set(a[part]) | set(b[part]), key=str):
            if a[part].get(k) != b[part].get(k):
                out.append(f'{part}[{k}]: {a[part].get(k)!r} -> {b[part].get(k)!r}')
    return '; '.join(out[:8]) + (' ...' if len(out) > 8 else '')


class Instance:
    """An open /dev/vhnet with an owner and a kick eventfd per queue."""

    def __init__(self):
        self.fd = os.open('/dev/vhnet', os.O_RDWR)
        fcntl.ioctl(self.fd, VHOST_SET_OWNER)
        self.kicks = []
        for index in (0, 1):
            efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            fcntl.ioctl(self.fd, VHOST_SET_VRING_KICK, struct.pack('=Ii', index, efd))
            self.kicks.append(efd)

    def kick(self):
        for efd in self.kicks:
            os.eventfd_write(efd, 1)

    def close(self):
        for efd in self.kicks:
            os.close(efd)
        os.close(self.fd)


def find_instance(g, fam):
    r = g.dump(fam, CMD_INSTANCE_GET)
    for _, a in r.msgs:
        if get_u32(a, A_INSTANCE_OWNER_PID) == os.getpid():
            return get_u32(a, A_ID)
    return None


def make_counters_nonzero(inst, state):
    """Kick both queues; wait until the worker counted it and the counters hold still."""
    inst.kick()
    deadline = time.monotonic() + TIMEOUT
    last = None
    while time.monotonic() < deadline:
        s = state.read()
        if any(s['counters'].values()) and s == last:
            return s
        last = s
        time.sleep(0.02)
    return state.read()


# ---- the checks ----

class Tally:
    def __init__(self):
        self.requests = 0
        self.errnos = collections.Counter()
        self.refused = collections.Counter()
        self.with_extack = collections.Counter()
        self.accepted_changes = collections.Counter()
        self.fail = collections.defaultdict(list)   # check name: [diagnostics]
        self.mutated = 0
        self.current = None     # the label of the request being checked

    def failed(self, check, req, what):
        lst = self.fail[check]
        if req.label in lst:
            return
        lst.append(req.label)
        if len(lst) <= 5:
            say(f'FAIL {check}: {what}')
            say(f'  request {req.describe()}')
            say(f'  reproduce: FUZZ_SEED={SEED} FUZZ_ONLY={req.label} '
                f'python3 {os.path.abspath(__file__)}')


def judge(t, ctx, req, out, fam, iid, before, after, state, inst):
    """Check one request's outcome; returns the state to compare the next one with."""
    t.current = req.label
    t.requests += 1
    t.mutated += bool(req.mutations)
    r = out.reply
    must = req.must_answer(fam)
    if out.send_errno:
        what = f'send {errno.errorcode.get(out.send_errno, out.send_errno)}'
    elif not out.answered:
        what = 'silent'
    else:
        what = errno.errorcode.get(r.error, str(r.error)) if r.error else 'ok'
    t.errnos[f'{ctx} {what}'] += 1
    if out.timeout:
        t.failed(f'{ctx}: answered within {TIMEOUT:g} s', req, 'no answer in time')
    elif must and not out.answered and not out.send_errno:
        t.failed(f'{ctx}: answered within {TIMEOUT:g} s', req, 'no answer at all')
    if out.answered and r.error:
        t.refused[ctx] += 1
        t.with_extack[ctx] += r.msg is not None
        if (ctx == 'root' and req.valid_looking and r.msg is None and
                r.error not in (errno.EPERM, errno.EOPNOTSUPP)):
            t.failed('root: a refused valid-looking request carries an extack message',
                     req, f'{r}')
    cmd, top = req.genl()
    # Reached the family's handler and was not refused (a do without
    # NLM_F_ACK that succeeds without data is answered by silence).
    reached = (req.view is not None and req.view[0] == fam and
               req.flags() & NLM_F_REQUEST and len(req.view[2]) >= 4)
    accepted = reached and not out.send_errno and not (out.answered and r.error)
    if accepted:
        # Strict validation (resv_start_op 0): no reserved header bits, no
        # attribute type outside the command's policy.
        bad = [a for a, _ in top if not 1 <= a <= MAXATTR.get(cmd, 0)]
        bad += [f'{a:#x}' for a in raw_types(req.view[2][4:]) if a & NLA_F_NESTED]
        if req.view[2][2:4] != b'\0\0' or bad:
            t.failed(f'{ctx}: strict validation refuses reserved bits and unknown attributes',
                     req, f'accepted: {r}; attribute types {bad}')
    if ctx == 'unpriv' and accepted and cmd in (CMD_TUNABLES_SET, CMD_STATS_RESET):
        t.failed('unpriv: tunables-set and stats-reset refused', req, f'accepted: {r}')
    if ctx == 'netns' and out.ids_seen:
        t.failed('netns: sees no instance and changes none', req,
                 f'ids {out.ids_seen} in the answers')
    expect = {k: dict(v) for k, v in before.items()}
    changing = None
    if accepted and ctx != 'unpriv' and cmd == CMD_TUNABLES_SET:
        carried = req.carried()
        target = carried.pop(A_ID, None)
        if target is None:
            changing = 'defaults'
        elif target == iid and ctx == 'root':
            changing = 'instance'
        if changing:
            if isinstance(carried.get(A_TUNABLES_WORKER_CPUS), str):
                # A cpulist the model cannot read: take the kernel's word.
                carried[A_TUNABLES_WORKER_CPUS] = after[changing].get(A_TUNABLES_WORKER_CPUS)
            expect[changing].update(carried)
    if accepted and ctx == 'root' and cmd == CMD_STATS_RESET:
        # Of two ids the kernel takes the last (nla_parse), like carried().
        if req.carried().get(A_ID) in (None, iid):
            expect['counters'] = {k: 0 for k in before['counters']}
            changing = 'counters'
    if after == expect:
        if changing and after != before:
            t.accepted_changes[f'{ctx} {changing}'] += 1
    else:
        check = {'root': 'root: nothing changed but what an accepted request carried',
                 'unpriv': 'unpriv: tunables-set and stats-reset refused',
                 'netns': 'netns: sees no instance and changes none'}[ctx]
        t.failed(check, req, f'{r}; accepted {bool(accepted)}; '
                 f'expected {diff(before, expect) or "no change"}; '
                 f'got {diff(before, after) or "no change"}')
    if after == before:
        return after
    # Put back what changed (allowed or not): the next request starts clean.
    for part in ('instance', 'defaults'):
        if after[part] != before[part]:
            state.restore(part, before[part])
    if after['counters'] != before['counters'] and not any(after['counters'].values()):
        now = make_counters_nonzero(inst, state)
    else:
        now = state.read()
    if any(now[k] != before[k] for k in ('instance', 'defaults')):
        t.failed(f'{ctx}: restore', req, f'could not restore: {diff(before, now)}')
    return now


# ---- the three senders ----

class Watchdog(threading.Thread):
    """A request that does not come back from the kernel cannot be timed out
    from the thread that is stuck in it."""

    def __init__(self):
        super().__init__(daemon=True)
        self.label, self.since = None, 0

    def start_req(self, label):
        self.label, self.since = label, time.monotonic()

    def end_req(self):
        self.label = None

    def run(self):
        while True:
            time.sleep(0.25)
            label = self.label
            if label and time.monotonic() - self.since > TIMEOUT + 1:
                say(f'FAIL request {label} has not returned from the kernel in '
                    f'{TIMEOUT + 1:g} s (seed {SEED}); reproduce: FUZZ_SEED={SEED} '
                    f'FUZZ_ONLY={label}')
                ktap.abort('the kernel answers every request (hang)')
                os._exit(1)


def labels(phase, deadline):
    if ONLY:
        for lab in ONLY:
            if lab.split('#')[0] == phase:
                yield int(lab.split('#')[1])
        return
    n = 0
    while time.monotonic() < deadline:
        yield n
        n += 1


def sender_child(phase, fam, iid, conn, deadline):
    """Runs in the child: makes and sends requests, reports each to the parent,
    waits for its go-ahead (the parent compares the state in between)."""
    wd = Watchdog()
    wd.start()
    if phase == 'unpriv':
        drop_privileges()
    else:
        unshare_net()
    caps = next(ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('CapEff'))
    g = Genl()
    f2, _ = resolve(g)
    rf = conn.makefile('r')
    wf = conn.makefile('w')
    wf.write(json.dumps({'hello': phase, 'uid': os.getuid(), 'capeff': caps,
                         'fam': f2}) + '\n')
    wf.flush()
    for n in labels(phase, deadline):
        req = make_request(f'{phase}#{n}', fam, iid, 0x40000000 + n)
        wd.start_req(req.label)
        out = exchange(g.sk, req, req.must_answer(fam))
        wd.end_req()
        r = out.reply
        wf.write(json.dumps({'n': n, 'crc': zlib.crc32(req.frame), 'error': r.error,
                             'msg': r.msg, 'answered': out.answered, 'timeout': out.timeout,
                             'send_errno': out.send_errno, 'ids': out.ids_seen,
                             'cmds': [c for c, _ in r.msgs]}) + '\n')
        wf.flush()
        if rf.readline().strip() != 'go':
            break
    wf.write(json.dumps({'end': True}) + '\n')
    wf.flush()
    os._exit(0)


def run_phase(phase, t, fam, iid, state, inst, seconds, base):
    deadline = time.monotonic() + seconds
    if phase == 'root':
        g = Genl()
        wd = Watchdog()
        wd.start()
        before = base
        for n in labels(phase, deadline):
            req = make_request(f'root#{n}', fam, iid, 0x40000000 + n)
            t.current = req.label
            wd.start_req(req.label)
            out = exchange(g.sk, req, req.must_answer(fam))
            after = state.read()
            wd.end_req()
            before = judge(t, 'root', req, out, fam, iid, before, after, state, inst)
        return before, None
    parent, child = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        parent.close()
        try:
            sender_child(phase, fam, iid, child, deadline)
        except BaseException as e:      # noqa: B036 - report, never escape
            say(f'{phase} child: {e!r}')
        os._exit(2)
    child.close()
    rf, wf = parent.makefile('r'), parent.makefile('w')
    hello = json.loads(rf.readline() or '{}')
    say(f'{phase}: sender {hello}')
    before = base
    while True:
        line = rf.readline()
        if not line:
            t.fail[f'{phase}: the sender ran to the end'].append('EOF')
            break
        rep = json.loads(line)
        if rep.get('end'):
            break
        req = make_request(f'{phase}#{rep["n"]}', fam, iid, 0x40000000 + rep['n'])
        out = Outcome()
        out.answered, out.timeout = rep['answered'], rep['timeout']
        out.send_errno, out.ids_seen = rep['send_errno'], rep['ids']
        out.reply.error, out.reply.msg = rep['error'], rep['msg']
        out.reply.msgs = [(c, []) for c in rep['cmds']]
        t.current = req.label
        if rep['crc'] != zlib.crc32(req.frame):
            t.failed(f'{phase}: the sender ran to the end', req, 'parent and child '
                     'made different requests')
        after = state.read()
        before = judge(t, phase, req, out, fam, iid, before, after, state, inst)
        wf.write('go\n')
        wf.flush()
    status = os.waitpid(pid, 0)[1]
    if status:
        t.fail[f'{phase}: the sender ran to the end'].append(f'status {status}')
    return before, hello


def main():
    print(f'# seed {SEED} (FUZZ_SEED), {SECONDS:g} s (FUZZ_SECONDS), '
          f'timeout {TIMEOUT:g} s (FUZZ_TIMEOUT)')
    ktap.start()
    g = Genl(timeout=TIMEOUT)
    fam, _ = resolve(g)
    inst = Instance()
    try:
        iid = find_instance(g, fam)
        if not iid:
            print('Bail out! no instance owned by this process in instance-get dump')
            return 1
        state = State(fam, iid)
        base = make_counters_nonzero(inst, state)
        say(f'instance {iid}: tunables {base["instance"]}; '
            f'counters {sum(1 for v in base["counters"].values() if v)} non-zero')
        t = Tally()
        t0 = time.monotonic()
        hellos = {}
        for phase in ('root', 'unpriv', 'netns'):
            try:
                base, hellos[phase] = run_phase(phase, t, fam, iid, state, inst,
                                                SECONDS * SHARE[phase], base)
            except TimeoutError:
                t.fail[f'{phase}: answered within {TIMEOUT:g} s'].append(t.current)
                say(f'FAIL reading the state after {t.current} timed out; reproduce: '
                    f'FUZZ_SEED={SEED} FUZZ_ONLY={t.current}')
                break
        elapsed = time.monotonic() - t0
        report(t, elapsed, hellos, base)
    finally:
        inst.close()
    ktap.finish()


def report(t, elapsed, hellos, base):
    print(f'# requests {t.requests}, {t.requests / max(elapsed, 1e-9):.0f}/s '
          f'({t.mutated} mutated)')
    for k, v in sorted(t.errnos.items()):
        print(f'#   {k}: {v}')
    for ctx in ('root', 'unpriv', 'netns'):
        if t.refused[ctx]:
            print(f'# {ctx}: {t.with_extack[ctx]} of {t.refused[ctx]} refusals '
                  f'({100 * t.with_extack[ctx] // t.refused[ctx]}%) carry an extack message')
    print(f'# accepted changes (verified, then undone): {dict(t.accepted_changes)}')
    ktap.result('the instance has non-zero counters to watch',
         any(base['counters'].values()), base['counters'])
    u, n = hellos.get('unpriv') or {}, hellos.get('netns') or {}
    ktap.result('unprivileged sender: uid 65534, no capabilities',
         u.get('uid') == 65534 and int(u.get('capeff', '1'), 16) == 0, u)
    ktap.result('netns sender: family resolved in another network namespace', 'fam' in n, n)
    checks = [f'{ctx}: answered within {TIMEOUT:g} s' for ctx in ('root', 'unpriv', 'netns')]
    checks += ['root: nothing changed but what an accepted request carried',
               'root: a refused valid-looking request carries an extack message',
               *[f'{ctx}: strict validation refuses reserved bits and unknown attributes'
                 for ctx in ('root', 'unpriv', 'netns')],
               'unpriv: tunables-set and stats-reset refused',
               'netns: sees no instance and changes none']
    checks += sorted(set(t.fail) - set(checks))
    for c in checks:
        bad = t.fail.get(c, [])
        ktap.result(c, not bad, f'{len(bad)} failed requests: {" ".join(map(str, bad[:20]))}'
             f'\nseed {SEED}: FUZZ_SEED={SEED} FUZZ_ONLY={",".join(map(str, bad[:5]))}')


if __name__ == '__main__':
    sys.exit(main())
