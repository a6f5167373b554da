#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise make bench's rounds: per metric, the median of the per-round
ratios backend / vhost-net, with min..max, and the raw medians.
Metrics ending in _us are times: for them a ratio below 1 is the better."""
import statistics
import sys
from collections import defaultdict

vals = defaultdict(dict)          # (metric, backend) -> {round: value}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) != 4:
        continue
    rnd, backend, metric, value = parts
    vals[(metric, backend)][rnd] = float(value)

metrics = sorted({m for m, _ in vals})
backends = sorted({b for _, b in vals if b != "vhost-net"})
print(f"{'metric':<24} {'backend':<12} {'median':>12} {'vhost-net':>12} "
      f"{'ratio':>7} {'min..max':>13} rounds better")
for m in metrics:
    ref = vals.get((m, "vhost-net"), {})
    for b in backends:
        cur = vals.get((m, b), {})
        rounds = sorted(set(ref) & set(cur))
        ratios = [cur[r] / ref[r] for r in rounds if ref[r] > 0]
        if not ratios:
            continue
        print(f"{m:<24} {b:<12} {statistics.median(cur[r] for r in rounds):>12.0f} "
              f"{statistics.median(ref[r] for r in rounds):>12.0f} "
              f"{statistics.median(ratios):>7.2f} "
              f"{min(ratios):>6.2f}..{max(ratios):<6.2f} {len(ratios):>6} "
              f"{'lower' if m.endswith('_us') else 'higher'}")
