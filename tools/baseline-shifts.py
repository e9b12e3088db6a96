#!/usr/bin/env python3
"""How far this machine's stored runs sit from the baselines' samples, seed by seed.

The baselines in baselines/<profile>/<dataset>/ keep each metric's per-seed samples as measured on the machine that
accepted them; a report.json (from `report`) keeps the same metrics per seed as measured from this machine's stored
runs. Where both cover the same run, metric and seeds, the difference is what changing the machine alone does to a
number (the seeds, configs and code are the same). This is the measurement behind the band floors' reasons
(`bands:reason` in configs/F*.json).

    python3 tools/baseline-shifts.py artifacts/report/quick/report.json baselines/quick

prints, per metric, the largest shift of a seed-mean (what a baseline check compares) and of a single seed, and where
each was found, then every pair whose seed-mean moved. Uses the standard library only.
"""
import json
import re
import sys
from pathlib import Path


def camel(key):
    """run.metric_name -> run.metricName (the report's spelling); the run's own name is kept as it is."""
    run, _, metric = key.partition(".")
    return run + "." + re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), metric)


def pairs(report, baselines):
    """(metric, finding, dataset, run.metric, baseline samples, this machine's samples) for every comparable pair."""
    for finding in report["findings"]:
        path = baselines / finding["dataset"] / f"{finding['id']}.json"
        if not path.is_file():
            continue
        baseline = json.loads(path.read_text())
        stored = {camel(k): v for k, v in baseline["metrics"].items()}
        for run in finding["runs"]:
            if run["seeds"] != baseline["seeds"]:
                continue
            for metric in run["metrics"]:
                # A per-layer metric (layerCosines) is stored per layer in a baseline (layer1_cosine, ...).
                width = len(metric["perSeed"][0]) if metric["perSeed"] else 0
                names = ([f"{run['name']}.layer{i + 1}Cosine" for i in range(width)] if metric["perLayer"]
                         else [f"{run['name']}.{metric['metric']}"])
                for i, name in enumerate(names):
                    if name not in stored or len(stored[name]["samples"]) != len(metric["perSeed"]):
                        continue
                    kind = "layerCosine" if metric["perLayer"] else metric["metric"]
                    yield (kind, finding["id"], finding["dataset"], name,
                           stored[name]["samples"], [seed[i] for seed in metric["perSeed"]], stored[name])


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    report = json.loads(Path(argv[1]).read_text())
    baselines = Path(argv[2])
    print(f"report: {argv[1]} (machine: {report.get('environment', {}).get('machine', 'n/a')})")
    print(f"baselines: {argv[2]}")
    worst, moved, count = {}, [], 0
    for kind, finding, dataset, name, theirs, ours, band in pairs(report, baselines):
        count += 1
        mean_shift = abs(sum(theirs) / len(theirs) - sum(ours) / len(ours))
        seed_shift = max(abs(a - b) for a, b in zip(theirs, ours))
        where = f"{finding} {dataset} {name}"
        w = worst.setdefault(kind, [0.0, "-", 0.0, "-", 0])
        w[4] += 1
        if mean_shift > w[0]:
            w[0], w[1] = mean_shift, where
        if seed_shift > w[2]:
            w[2], w[3] = seed_shift, where
        if mean_shift > 0:
            moved.append((kind, mean_shift, seed_shift, where, band["absoluteBand"], band["rule"]))
    print(f"{count} comparable run metrics, {len(moved)} with a seed-mean that moved\n")
    print("| metric | pairs | largest seed-mean shift | where | largest one-seed shift | where |")
    print("|---|---|---|---|---|---|")
    for kind, (m, mw, s, sw, n) in sorted(worst.items()):
        print(f"| {kind} | {n} | {m:.3g} | {mw} | {s:.3g} | {sw} |")
    print("\nEvery seed-mean that moved, against its stored band:\n")
    print("| metric | seed-mean shift | one-seed shift | where | band | band from |")
    print("|---|---|---|---|---|---|")
    for kind, m, s, where, band, rule in sorted(moved, key=lambda r: (r[0], -r[1])):
        source = "floor" if "absolute floor" in rule else "relative floor" if "relative floor" in rule else "spread"
        print(f"| {kind} | {m:.3g} | {s:.3g} | {where} | {band:g} | {source} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
