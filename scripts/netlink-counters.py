#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write vhnetctl's counter table from the netlink spec.

usage: netlink-counters.py SPEC OUT

Every u64 attribute of the queue-stats set, then of each nest it holds
(batch-hist, drops), becomes one counter: the attribute that carries it and
the name vhnetctl prints (after the queue's "rx_"/"tx_"): the attribute's
name in snake case, prefixed for a nest ("batch_", "drop_"). A counter added
to the spec thus reaches the tool without touching its source. The names
are stable: scripts and tests read them.
"""
import sys

import yaml

# The prefix of a nest's counters in vhnetctl's names.
NEST_PREFIX = {'batch-hist': 'batch_', 'drops': 'drop_'}


def c_name(*parts):
    return '_'.join(p.replace('-', '_') for p in parts).upper()


def main():
    spec_path, out_path = sys.argv[1:3]
    with open(spec_path, encoding='utf-8') as f:
        spec = yaml.safe_load(f)
    sets = {s['name']: s for s in spec['attribute-sets']}
    prefix = spec.get('c-family-name', spec['name'])

    def attr_enum(set_name, attr):
        return 'VHNET_A_' + c_name(set_name, attr)

    rows = []
    qs = sets['queue-stats']
    for attr in qs['attributes']:
        if attr['type'] == 'u64':
            rows.append(('0', attr_enum('queue-stats', attr['name']),
                         attr['name'].replace('-', '_')))
    for attr in qs['attributes']:
        if attr['type'] != 'nest':
            continue
        nest = attr['nested-attributes']
        for inner in sets[nest]['attributes']:
            if inner['type'] == 'u64':
                rows.append((attr_enum('queue-stats', attr['name']),
                             attr_enum(nest, inner['name']),
                             NEST_PREFIX[nest] + inner['name'].replace('-', '_')))

    lines = [
        '/* SPDX-License-Identifier: GPL-2.0 */',
        '/* Do not edit directly, auto-generated from: */',
        '/*\tDocumentation/netlink/specs/%s.yaml */' % spec['name'],
        '/* by scripts/netlink-counters.py */',
        '',
        '#ifndef _%s_COUNTERS_GEN_H' % prefix.upper(),
        '#define _%s_COUNTERS_GEN_H' % prefix.upper(),
        '',
        '#include <linux/%s.h>' % spec['name'],
        '',
        '/* One per-queue counter: where it travels and what vhnetctl calls it. */',
        'struct vhnet_counter_desc {',
        '\tint nest;\t\t/* its nest in queue-stats, 0 for queue-stats itself */',
        '\tint attr;',
        '\tconst char *name;',
        '};',
        '',
        'static const struct vhnet_counter_desc vhnet_counters[] = {',
    ]
    for nest, attr, name in rows:
        lines.append('\t{ %s, %s, "%s" },' % (nest, attr, name))
    lines += ['};', '', '#endif', '']
    with open(out_path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines))


if __name__ == '__main__':
    main()
