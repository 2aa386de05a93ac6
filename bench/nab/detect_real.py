#!/usr/bin/env python3
"""Detection on real labelled series: runs `earshot detect` over every series
of a NAB-layout corpus (../shared/data/nab-dev), takes the rows where an alert
opens as the detections (what pages a person), and scores them with the NAB
method (nab_score.py, checked against the published table by ctest
nab_scorer). Prints the three profiles per category and overall, the alert
openings per series-week, and the published detectors' scores side by side.

    detect_real.py --earshot BIN --corpus DIR [--params K=V]... [--values count|gauge]
                   [--as-counts] [--out DIR] [--json FILE] [--per-file]

--as-counts gives every series to the count path as mention volume of a
realistic size: (value - its minimum) scaled so that the median is 100
mentions a window, rounded. The shapes stay real (heavy tails, level
shifts, gaps, bursts); only the unit changes.
"""
import argparse
import concurrent.futures as cf
import csv
import datetime
import io
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nab_score  # noqa: E402

PROFILES = nab_score.PROFILES
SHORT = {"standard": "standard", "reward_low_FP_rate": "low FP", "reward_low_FN_rate": "low FN"}


def as_counts(path):
    """The series as whole mention counts, median 100 above its minimum."""
    with open(path, newline="") as f:
        rows = [r for r in list(csv.reader(f))[1:] if r]
    v = [float(r[1]) for r in rows]
    lo = min(v)
    d = sorted(x - lo for x in v)
    med = d[len(d) // 2] or (sum(d) / len(d)) or 1.0
    return "timestamp,value\n" + "".join(f"{r[0]},{round((x - lo) * 100 / med)}\n" for r, x in zip(rows, v))


def run_one(args, name):
    path = os.path.join(args.corpus, "data", name)
    cmd = [args.earshot, "detect"] + ([] if args.as_counts else [path])
    for p in args.params:
        cmd += ["--params", p]
    if args.values or args.as_counts:
        cmd += ["--values", "count" if args.as_counts else args.values]
    r = subprocess.run(cmd, capture_output=True, text=True, input=as_counts(path) if args.as_counts else None)
    if r.returncode != 0:
        raise SystemExit(f"detect_real: {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    return name, rows, r.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--earshot", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--params", action="append", default=[])
    ap.add_argument("--values")
    ap.add_argument("--as-counts", action="store_true", help="every series as mention volume (median 100 a window)")
    ap.add_argument("--out", help="keep each file's detector output and the detections here")
    ap.add_argument("--json", help="write the scores here")
    ap.add_argument("--per-file", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min-standard", type=float, help="exit 1 when the standard score is below this (a CI floor)")
    ap.add_argument("--min-low-fp", type=float, help="exit 1 when the reward_low_FP_rate score is below this")
    a = ap.parse_args()
    corpus = nab_score.Corpus(a.corpus)
    names = list(corpus.files)
    det = {n: set() for n in names}
    weeks = {}
    opened = {}
    with cf.ThreadPoolExecutor(a.jobs) as ex:
        for name, rows, err in ex.map(lambda n: run_one(a, n), names):
            ts, index, _ = corpus.files[name]
            for r in rows:
                if r["alert_state"] == "opened":
                    det[name].add(index[nab_score.norm_ts(r["timestamp"])])
            t0 = datetime.datetime.fromisoformat(ts[0])
            t1 = datetime.datetime.fromisoformat(ts[-1])
            weeks[name] = max((t1 - t0).total_seconds() / 604800.0, 1e-9)
            opened[name] = len(det[name])
            if a.out:
                os.makedirs(a.out, exist_ok=True)
                with open(os.path.join(a.out, name.replace("/", "__")), "w") as f:
                    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()) if rows else ["timestamp"])
                    w.writeheader()
                    w.writerows(rows)
    if a.out:
        with open(os.path.join(a.out, "detections.csv"), "w") as f:
            w = csv.writer(f)
            w.writerow(["file", "timestamp", "anomaly_score"])
            for name in names:
                ts = corpus.files[name][0]
                for i in sorted(det[name]):
                    w.writerow([name, ts[i], 1])
    result = {"params": a.params, "profiles": {}, "categories": {}, "files": {}}
    cats = sorted({n.split("/")[0] for n in names})
    for p in PROFILES:
        s, raw, per_file = nab_score.score(corpus, det, p)
        result["profiles"][p] = s
        for cat in cats:
            sub = [n for n in names if n.startswith(cat + "/")]
            nw = sum(per_file[n]["windows"] for n in sub)
            rw = sum(per_file[n]["raw"] for n in sub)
            null = sum(per_file[n]["null"] for n in sub)
            perf = sum(per_file[n]["perfect"] for n in sub)
            result["categories"].setdefault(cat, {})[p] = 100.0 * (rw - null) / (perf - null) if nw else None
        for n in names:
            result["files"].setdefault(n, {})[p] = per_file[n]
    total_weeks = sum(weeks.values())
    total_open = sum(opened.values())
    result["openings"] = total_open
    result["openings_per_series_week"] = total_open / total_weeks
    result["series_weeks"] = total_weeks
    print("| category | standard | low FP | low FN |")
    print("|---|---|---|---|")
    for cat in cats:
        v = result["categories"][cat]
        cells = ["n/a (no windows)" if v[p] is None else f"{v[p]:.2f}" for p in PROFILES]
        print(f"| {cat} | " + " | ".join(cells) + " |")
    print("| **all 48 series** | " + " | ".join(f"**{result['profiles'][p]:.2f}**" for p in PROFILES) + " |")
    print()
    print(f"alert openings: {total_open} over {total_weeks:.1f} series-weeks "
          f"({result['openings_per_series_week']:.2f} per series-week)")
    ref = os.path.join(a.corpus, "reference", "scores.csv")
    if os.path.exists(ref):
        print()
        print("| detector | standard | low FP | low FN |")
        print("|---|---|---|---|")
        rows = list(csv.DictReader(open(ref)))
        mine = ("**earshot (alert openings)**", result["profiles"])
        placed = False
        for r in rows:
            if not placed and float(r["standard"]) < mine[1]["standard"]:
                print(f"| {mine[0]} | " + " | ".join(f"**{mine[1][p]:.2f}**" for p in PROFILES) + " |")
                placed = True
            print(f"| {r['detector']} | {float(r['standard']):.2f} | {float(r['reward_low_FP_rate']):.2f} | "
                  f"{float(r['reward_low_FN_rate']):.2f} |")
        if not placed:
            print(f"| {mine[0]} | " + " | ".join(f"**{mine[1][p]:.2f}**" for p in PROFILES) + " |")
    if a.per_file:
        print()
        print("| series | windows | openings | in windows | standard raw | null |")
        print("|---|---|---|---|---|---|")
        for n in names:
            f = result["files"][n]["standard"]
            print(f"| {n} | {f['windows']} | {opened[n]} | {f['detections_in_windows']} | {f['raw']:.2f} | "
                  f"{f['null']:.0f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    rc = 0
    for prof, floor in (("standard", a.min_standard), ("reward_low_FP_rate", a.min_low_fp)):
        if floor is not None and result["profiles"][prof] < floor:
            print(f"detect_real: {prof} score {result['profiles'][prof]:.2f} is below the floor {floor}")
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
