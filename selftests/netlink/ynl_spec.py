#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The spec and the code agree.

Drives the vhnet family with the kernel's own YNL library straight from
Documentation/netlink/specs/vhnet.yaml (dump, get, set, refusals with
EINVAL/ERANGE and extack), and compares the policy the running kernel
reports for every operation (nlctrl CTRL_CMD_GETPOLICY, CTRL_CMD_GETFAMILY)
with the spec: the policy in module/netlink.c is hand-written because the
generated split ops do not build on 6.1, and this test is what keeps the two
in step.

usage: ynl_spec.py [YNL_DIR]    (tools/net/ynl of a 6.12 source; default
       .cache/linux-src/tools/net/ynl, extracted by scripts/linux-src.sh)
KTAP on stdout; exit 0 only if every test passed. Root, vhnet.ko loaded.
"""
import errno
import os
import sys

import yaml

import ktap

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SPEC = os.path.join(TOP, 'Documentation/netlink/specs/vhnet.yaml')


def find_ynl():
    cands = sys.argv[1:2] + [os.path.join(TOP, '.cache/linux-src/tools/net/ynl')]
    for c in cands:
        if os.path.exists(os.path.join(c, 'lib', 'ynl.py')):
            return c
    print('Bail out! no tools/net/ynl found')
    sys.exit(1)


YNL = find_ynl()
sys.path.insert(0, YNL)
from lib import YnlFamily, NlError  # noqa: E402

def expect_error(name, err, fn, msg_part=None):
    try:
        fn()
    except NlError as e:
        ext = e.nl_msg.extack or {}
        ok = e.error == err and (msg_part is None or msg_part in str(ext))
        ktap.result(name, ok, f'errno {e.error} extack {ext}')
        return
    ktap.result(name, False, 'accepted')


def main():
    # Schema validation is done by scripts/netlink-gen.sh on the host;
    # skipping it here saves importing jsonschema in the slow test VM.
    vh = YnlFamily(SPEC, '')
    ctrl = YnlFamily(os.path.join(os.path.dirname(YNL), '..', '..',
                                  'Documentation/netlink/specs/nlctrl.yaml'), '')
    with open(SPEC) as f:
        spec = yaml.safe_load(f)

    ktap.start()
    fd = os.open('/dev/vhnet', os.O_RDWR)
    try:
        run(vh, ctrl, spec)
    finally:
        os.close(fd)
    ktap.finish()


def run(vh, ctrl, spec):
    insts = vh.dump('instance-get', {})
    ktap.result('ynl dump instance-get', len(insts) >= 1 and len(insts[-1]['queue']) == 2, insts)
    iid = insts[-1]['id']

    got = vh.do('instance-get', {'id': iid})
    ktap.result('ynl do instance-get', got['id'] == iid and
         [q['index'] for q in got['queue']] == ['rx', 'tx'], got)

    vh.do('tunables-set', {'id': iid, 'tx-batch': 32, 'coalesce-us': 50})
    t = vh.do('tunables-get', {'id': iid})
    ktap.result('ynl do tunables-set then tunables-get', t['tx-batch'] == 32 and
         t['coalesce-us'] == 50, t)

    st = vh.do('stats-get', {'id': iid})
    drops = [a['name'] for a in attr_set(spec, 'drops') if a['type'] != 'pad']
    hist = [a['name'] for a in attr_set(spec, 'batch-hist') if a['type'] != 'pad']
    ok = len(st['queue']) == 2 and all(sorted(q['drops']) == sorted(drops) and
                                       sorted(q['batch-hist']) == sorted(hist)
                                       for q in st['queue'])
    ktap.result('ynl do stats-get: every drop reason and bucket', ok, st)
    ktap.result('ynl dump stats-get', any(s['id'] == iid for s in vh.dump('stats-get', {})))
    vh.do('stats-reset', {'id': iid})
    ktap.result('ynl do stats-reset', True)

    expect_error('instance-get without id: EINVAL + extack', errno.EINVAL,
                 lambda: vh.do('instance-get', {}), 'id attribute missing')
    expect_error('stats-get without id: EINVAL + extack', errno.EINVAL,
                 lambda: vh.do('stats-get', {}), 'id attribute missing')
    expect_error('tunables-set with nothing to set: EINVAL + extack', errno.EINVAL,
                 lambda: vh.do('tunables-set', {'id': iid}), 'no tunable given')
    expect_error('tunables-set id 0: ERANGE + policy', errno.ERANGE,
                 lambda: vh.do('tunables-set', {'id': 0, 'tx-batch': 1}), 'min-value')
    expect_error('tunables-set tx-batch 0: ERANGE + policy', errno.ERANGE,
                 lambda: vh.do('tunables-set', {'id': iid, 'tx-batch': 0}), 'out of range')
    expect_error('tunables-set bad cpulist: EINVAL + extack', errno.EINVAL,
                 lambda: vh.do('tunables-set', {'id': iid, 'worker-cpus': 'x'}), 'cpulist')

    check_policy(ctrl, spec)


def attr_set(spec, name):
    return next(s for s in spec['attribute-sets'] if s['name'] == name)['attributes']


LIMITS = {'u32-max': 2**32 - 1, 'u16-max': 2**16 - 1, 's32-max': 2**31 - 1}
TYPE_RANGE = {'u32': (0, 2**32 - 1)}


def expected_policy(spec, op):
    """attr number -> what the kernel must report for the do request."""
    aset = attr_set(spec, op['attribute-set'])
    num = {a['name']: i + 1 for i, a in enumerate(aset)}
    want = {}
    for name in op['do']['request']['attributes']:
        a = next(x for x in aset if x['name'] == name)
        checks = a.get('checks', {})
        if a['type'] == 'string':
            want[num[name]] = {'type': 'nul-string', 'max-length': checks['max-len']}
        else:
            lo, hi = TYPE_RANGE[a['type']]
            lo = LIMITS.get(checks.get('min', lo), checks.get('min', lo))
            hi = LIMITS.get(checks.get('max', hi), checks.get('max', hi))
            want[num[name]] = {'type': a['type'], 'min-value-u': lo, 'max-value-u': hi}
    return want


def as_list(v):
    return v if isinstance(v, list) else [v]


def check_policy(ctrl, spec):
    fam = ctrl.do('getfamily', {'family-name': 'vhnet'})
    fam_id = fam['family-id']
    # ops: an indexed array, [{index: {'id': cmd, 'flags': [...]}}]
    ops = {}
    for item in fam.get('ops', []):
        for o in item.values():
            ops[o['id']] = o
    cmd = 0
    for op in spec['operations']['list']:
        cmd += 1
        if 'do' not in op or 'request' not in op['do']:
            continue
        o = ops.get(cmd, {})
        admin = 'admin-perm' in o.get('flags', [])
        ktap.result(f'{op["name"]}: admin-perm as in the spec',
             admin == ('admin-perm' in op.get('flags', [])), o)

        # One op-policy ({'op-id', 'do', 'dump'}) and one message per
        # policy attribute ({'policy-id', 'attr-id', 'type', ...}).
        msgs = ctrl.dump('getpolicy', {'family-id': fam_id, 'op': cmd})
        idx = None
        policies = {}
        for m in msgs:
            for opp in as_list(m.get('op-policy', [])):
                if opp.get('op-id') == cmd and 'do' in opp:
                    idx = opp['do']
            for pol in as_list(m.get('policy', [])):
                policies.setdefault(pol['policy-id'], {})[pol['attr-id']] = pol
        have = policies.get(idx)
        if have is None:
            ktap.result(f'{op["name"]}: kernel policy matches the spec', False,
                 f'no do policy in {msgs}')
            continue
        want = expected_policy(spec, op)
        diff = []
        for a, w in want.items():
            h = have.get(a, {})
            for k, v in w.items():
                if h.get(k) != v:
                    diff.append(f'attr {a} {k}: kernel {h.get(k)} spec {v}')
        extra = set(have) - set(want)
        if extra:
            diff.append(f'kernel accepts attributes the spec does not: {sorted(extra)}')
        ktap.result(f'{op["name"]}: kernel policy matches the spec', not diff,
             '\n'.join(diff) or None)


if __name__ == '__main__':
    sys.exit(main())
