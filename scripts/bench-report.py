#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise make bench's raw TSV ("round backend metric value" lines,
"# key: value" header lines).

Per workload and metric: each backend's median and min..max over the
rounds, then the per-round ratios backend / vhost-net (each round's pair
ran in the same VM minutes apart), as median and min..max, and in how many
rounds the backend was better. Metrics ending in _pps: higher is better;
_ns_per_pkt (worker CPU time per packet) and _us (latency): lower is
better. A backend NAME+SUFFIX (vhnet+idle32) is compared with
vhost-net+SUFFIX when that ran.

    bench-report.py RAW.tsv [--plot DIR]

--plot DIR writes DIR/bench-WORKLOAD.png per workload: each backend's
ratio to vhost-net per metric, median with the rounds' range (needs
matplotlib: Debian's python3-matplotlib, so run it with /usr/bin/python3)."""
import argparse
import os
import re
import statistics
from collections import defaultdict

REF = "vhost-net"
ORDER = [REF, "vhnet", "vhnet-tuned"]

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("raw")
ap.add_argument("--plot", metavar="DIR")
args = ap.parse_args()

header = []
vals = defaultdict(dict)          # (metric, backend) -> {round: value}
for line in open(args.raw):
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


# Primary workloads first (testpmd's, by kind, queues and size; latency),
# then the secondary ones (fakeguest, nested).
WORKLOAD = re.compile(r"(tx|rx|fwd)(\d+)(?:q(\d+))?$")
KINDS = ["tx", "rx", "fwd"]


def rank(metric):
    w = metric.split("_")[0]
    m = WORKLOAD.match(w)
    if m:
        return (0, KINDS.index(m.group(1)), int(m.group(3) or 1),
                int(m.group(2)), metric)
    if w == "lat":
        return (0, len(KINDS), 0, 0, metric)
    return (1, 0, 0, 0, metric)


def ref_of(backend):
    """vhnet+idle32 against vhost-net+idle32 if that ran."""
    if "+" in backend:
        r = REF + backend[backend.index("+"):]
        if any(b == r for _, b in vals):
            return r
    return REF


metrics = sorted({m for m, _ in vals}, key=rank)
def backend_key(b):
    """The fixed order first, then sweep variants (vhnet-txbN) by name and
    N; a +SUFFIX variant after its base."""
    base, _, suffix = b.partition("+")
    if base in ORDER:
        return (ORDER.index(base), suffix, "", 0)
    m = re.fullmatch(r"(.*?)(\d+)", base)
    if m:
        return (len(ORDER), suffix, m.group(1), int(m.group(2)))
    return (len(ORDER), suffix, base, 0)


backends = sorted({b for _, b in vals}, key=backend_key)


def ratios_of(metric, backend):
    """Per-round ratios backend / its reference, rounds both ran."""
    ref = vals.get((metric, ref_of(backend)), {})
    cur = vals.get((metric, backend), {})
    if backend == ref_of(backend):
        return []
    return [cur[r] / ref[r] for r in sorted(set(ref) & set(cur)) if ref[r] > 0]


def plot(outdir):
    """One PNG per workload: every backend's ratio to its reference per
    metric, the median as a bar, the rounds' range as a whisker."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mode = next((h.split(":", 1)[1].strip() for h in header
                 if h.startswith("mode:")), "")
    os.makedirs(outdir, exist_ok=True)
    for w in sorted({m.split("_")[0] for m in metrics}, key=rank):
        ms = [m for m in metrics if m.split("_")[0] == w]
        bs = [b for b in backends if any(ratios_of(m, b) for m in ms)]
        if not bs:
            continue
        fig, axes = plt.subplots(1, len(ms), figsize=(4.2 * len(ms), 3.4),
                                 squeeze=False)
        for ax, m in zip(axes[0], ms):
            meds, lo, hi = [], [], []
            for b in bs:
                r = ratios_of(m, b) or [float("nan")]
                med = statistics.median(r)
                meds.append(med)
                lo.append(med - min(r))
                hi.append(max(r) - med)
            good = ["tab:green" if (x < 1) == lower_is_better(m) else
                    "tab:red" for x in meds]
            bars = ax.bar(range(len(bs)), meds, yerr=[lo, hi], capsize=4,
                          color=good)
            ax.bar_label(bars, labels=[f"{x:.2f}" for x in meds],
                         label_type="center", fontsize=8, color="white")
            ax.axhline(1.0, color="black", linewidth=0.8)
            ax.set_xticks(range(len(bs)))
            ax.set_xticklabels(bs, rotation=30, ha="right", fontsize=8)
            better = "lower" if lower_is_better(m) else "higher"
            ax.set_title(f"{m.split('_', 1)[1]} ({better} is better)",
                         fontsize=9)
            ax.set_ylabel(f"ratio to {REF}", fontsize=8)
        fig.suptitle(f"{w}: vhnet / vhost-net per round, median and range"
                     f" ({mode.split(' (')[0]} mode)", fontsize=10)
        fig.tight_layout()
        path = os.path.join(outdir, f"bench-{w}.png")
        fig.savefig(path, dpi=90)
        plt.close(fig)
        print(f"plot: {path}")
secondary_noted = False
for m in metrics:
    if rank(m)[0] == 1 and not secondary_noted:
        print("\nsecondary workloads (the fake guest's per-packet checks or a "
              "nested guest dominate these):")
        secondary_noted = True
    better = "lower" if lower_is_better(m) else "higher"
    print(f"\n{m} ({better} is better)")
    print(f"  {'backend':<16} {'median':>10} {'min..max':>21} {'rounds':>6}"
          f"   {'ratio to ' + REF:>16} {'min..max':>13} better")
    for b in backends:
        cur = vals.get((m, b), {})
        if not cur:
            continue
        row = (f"  {b:<16} {fmt(statistics.median(cur.values())):>10} "
               f"{fmt(min(cur.values())) + '..' + fmt(max(cur.values())):>21} "
               f"{len(cur):>6}")
        ratios = ratios_of(m, b)
        if ratios:
            wins = sum(1 for x in ratios if (x < 1) == lower_is_better(m) and x != 1)
            row += (f"   {statistics.median(ratios):>16.2f} "
                    f"{min(ratios):>6.2f}..{max(ratios):<5.2f} "
                    f"{wins}/{len(ratios)}")
            if ref_of(b) != REF:
                row += f" (to {ref_of(b)})"
        print(row)

if args.plot:
    plot(args.plot)
