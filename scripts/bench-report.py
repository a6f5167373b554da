#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise make bench's raw TSV ("round backend metric value" lines,
"# key: value" header lines).

Per workload and metric: each backend's median and min..max over the
rounds, then the per-round ratios backend / vhost-net (each round's pair
ran in the same VM minutes apart), as median and min..max, and in how many
rounds the backend was better. Metrics ending in _pps: higher is better;
_ns_per_pkt (worker CPU time per packet): lower is better."""
import re
import statistics
import sys
from collections import defaultdict

REF = "vhost-net"
ORDER = [REF, "vhnet", "vhnet-tuned"]

header = []
vals = defaultdict(dict)          # (metric, backend) -> {round: value}
for line in open(sys.argv[1]):
    if line.startswith("#"):
        header.append(line[1:].strip())
        continue
    parts = line.split()
    if len(parts) != 4:
        continue
    rnd, backend, metric, value = parts
    vals[(metric, backend)][rnd] = float(value)

for h in header:
    print(h)


def lower_is_better(metric):
    return not metric.endswith("_pps") and not metric.endswith("_mbps")


def fmt(v):
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


# Primary workloads first, then the secondary ones (fakeguest, nested).
PRIMARY = ["tx64", "rx60"]


def rank(metric):
    w = metric.split("_")[0]
    return (0, PRIMARY.index(w), metric) if w in PRIMARY else (1, 0, metric)


metrics = sorted({m for m, _ in vals}, key=rank)
def backend_key(b):
    """The fixed order first, then sweep variants (vhnet-txbN) by name and N."""
    if b in ORDER:
        return (ORDER.index(b), "", 0)
    m = re.fullmatch(r"(.*?)(\d+)", b)
    return (len(ORDER), m.group(1), int(m.group(2))) if m else (len(ORDER), b, 0)


backends = sorted({b for _, b in vals}, key=backend_key)
secondary_noted = False
for m in metrics:
    if rank(m)[0] == 1 and not secondary_noted:
        print("\nsecondary workloads (the fake guest's per-packet checks or a "
              "nested guest dominate these):")
        secondary_noted = True
    better = "lower" if lower_is_better(m) else "higher"
    print(f"\n{m} ({better} is better)")
    print(f"  {'backend':<12} {'median':>10} {'min..max':>21} {'rounds':>6}"
          f"   {'ratio to ' + REF:>16} {'min..max':>13} better")
    ref = vals.get((m, REF), {})
    for b in backends:
        cur = vals.get((m, b), {})
        if not cur:
            continue
        row = (f"  {b:<12} {fmt(statistics.median(cur.values())):>10} "
               f"{fmt(min(cur.values())) + '..' + fmt(max(cur.values())):>21} "
               f"{len(cur):>6}")
        rounds = sorted(set(ref) & set(cur))
        ratios = [cur[r] / ref[r] for r in rounds if ref[r] > 0]
        if b != REF and ratios:
            wins = sum(1 for x in ratios if (x < 1) == lower_is_better(m) and x != 1)
            row += (f"   {statistics.median(ratios):>16.2f} "
                    f"{min(ratios):>6.2f}..{max(ratios):<5.2f} "
                    f"{wins}/{len(ratios)}")
        print(row)
