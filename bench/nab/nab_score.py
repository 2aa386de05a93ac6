#!/usr/bin/env python3
"""The Numenta Anomaly Benchmark scoring method, written here from its
published description (nab-dev README; Lavin & Ahmad 2015).

    nab_score.py --corpus DIR DETECTIONS... [--threshold T] [--json FILE] [--per-file]

DETECTIONS are CSV files (plain or .gz) with rows `file,timestamp,anomaly_score`
(`file` is `category/name.csv` of the corpus). A row is a detection when its
score is >= the threshold; for an engine that emits alert events the rows
where an alert opens carry score 1 and every other row 0 (threshold 0.5).
Rows the detections do not name count as score 0. Prints the normalised
score for the standard, reward_low_FP_rate and reward_low_FN_rate profiles.

Per file with n rows:
  - probation: the first min(floor(0.15 n), 750) rows are not scored;
  - a detection inside window [a, b] (row indices, width w) is worth
    tp * f(-(b - i + 1) / w) / f(-1), f(x) = 2 / (1 + exp(5 x)) - 1, the best
    one per window counting; a scored window without one costs -fn;
  - a detection outside every window costs fp * f((i - b') / (w' - 1)) for
    the nearest window [a', b'] to its left, or -fp when there is none or
    that position is beyond 3.
Normalised: 100 (raw - null) / (perfect - null), null = -fn x windows scored,
perfect = tp x windows scored.
"""
import argparse
import csv
import glob
import gzip
import json
import math
import os
import sys

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


def scaled_sigmoid(x):
    if x > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def norm_ts(s):
    """'2014-04-10 07:15:00.000000' and '2014-04-10 07:15:00' name the same row."""
    s = s.strip()
    return s[:19]


def open_text(path):
    return gzip.open(path, "rt", newline="") if path.endswith(".gz") else open(path, newline="")


class Corpus:
    """The corpus: each file's timestamps (in order) and its label windows as row indices."""

    def __init__(self, root):
        self.root = root
        with open(os.path.join(root, "labels", "combined_windows.json")) as f:
            windows = json.load(f)
        with open(os.path.join(root, "config", "profiles.json")) as f:
            self.profiles = {k: v["CostMatrix"] for k, v in json.load(f).items()}
        self.files = {}
        for name in sorted(windows):
            path = os.path.join(root, "data", name)
            with open(path, newline="") as f:
                rows = list(csv.reader(f))
            ts = [norm_ts(r[0]) for r in rows[1:] if r]
            index = {t: i for i, t in enumerate(ts)}
            wins = []
            for a, b in windows[name]:
                ia, ib = index.get(norm_ts(a)), index.get(norm_ts(b))
                if ia is None or ib is None:
                    raise SystemExit(f"nab_score: window {a} .. {b} of {name} is not on data rows")
                wins.append((ia, ib))
            wins.sort()
            self.files[name] = (ts, index, wins)

    def probation(self, n):
        return min(math.floor(0.15 * n), 0.15 * 5000)


def file_parts(corpus, name, detected_rows, cost):
    """Raw score parts of one file: (window rewards and costs, fp costs, windows scored, tp, fp)."""
    ts, _, wins = corpus.files[name]
    n = len(ts)
    prob = corpus.probation(n)
    max_tp = scaled_sigmoid(-1.0)
    # Which window (or the last one to the left) each row belongs to.
    best = {}
    scored = [k for k, (a, b) in enumerate(wins) if b >= prob]
    for k in scored:
        best[k] = -cost["fnWeight"]
    fp_sum = 0.0
    ntp = nfp = 0
    for i in sorted(detected_rows):
        if i < prob:
            continue
        inside = None
        left = None
        for k, (a, b) in enumerate(wins):
            if a <= i <= b:
                inside = k
                break
            if b < i:
                left = k
        if inside is not None:
            a, b = wins[inside]
            w = float(b - a + 1)
            s = scaled_sigmoid(-(b - i + 1) / w) * cost["tpWeight"] / max_tp
            best[inside] = max(best[inside], s)
            ntp += 1
        else:
            if left is None:
                u = -1.0
            else:
                a, b = wins[left]
                u = scaled_sigmoid(abs(b - i) / float(b - a))
            fp_sum += u * cost["fpWeight"]
            nfp += 1
    return sum(best.values()), fp_sum, len(scored), ntp, nfp


def load_detections(paths, corpus, threshold):
    """{file: set of row indices at or above the threshold}."""
    det = {name: set() for name in corpus.files}
    for path in paths:
        with open_text(path) as f:
            r = csv.reader(f)
            head = next(r, None)
            if head is None or len(head) < 3 or head[0] != "file":
                raise SystemExit(f"nab_score: {path}: expected a header file,timestamp,anomaly_score")
            for line, row in enumerate(r, 2):
                if not row:
                    continue
                name, t, s = row[0], norm_ts(row[1]), row[2]
                if name not in corpus.files:
                    continue
                try:
                    v = float(s)
                except ValueError:
                    raise SystemExit(f"nab_score: {path}:{line}: score {s!r} is not a number")
                if v >= threshold:
                    i = corpus.files[name][1].get(t)
                    if i is None:
                        raise SystemExit(f"nab_score: {path}:{line}: {t} is not a row of {name}")
                    det[name].add(i)
    return det


def score(corpus, det, profile):
    cost = corpus.profiles[profile]
    raw = 0.0
    nwin = 0
    per_file = {}
    for name in corpus.files:
        wsum, fsum, nw, ntp, nfp = file_parts(corpus, name, det.get(name, ()), cost)
        raw += wsum + fsum
        nwin += nw
        per_file[name] = {"raw": wsum + fsum, "windows": nw, "fp_cost": fsum, "detections_in_windows": ntp,
                          "false_detections": nfp,
                          "null": -cost["fnWeight"] * nw, "perfect": cost["tpWeight"] * nw}
    null = -cost["fnWeight"] * nwin
    perfect = cost["tpWeight"] * nwin
    return 100.0 * (raw - null) / (perfect - null), raw, per_file


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--threshold", type=float, default=None,
                    help="one threshold for all profiles (default 0.5; see --detector)")
    ap.add_argument("--detector", help="take the thresholds per profile from config/thresholds.json")
    ap.add_argument("--json", help="write the scores (and per-file parts) here")
    ap.add_argument("detections", nargs="+")
    a = ap.parse_args()
    corpus = Corpus(a.corpus)
    out = {}
    thr = {}
    if a.detector:
        with open(os.path.join(a.corpus, "config", "thresholds.json")) as f:
            t = json.load(f)[a.detector]
        thr = {p: t[p]["threshold"] for p in PROFILES}
    cache = {}
    for p in PROFILES:
        th = a.threshold if a.threshold is not None else thr.get(p, 0.5)
        if th not in cache:
            cache[th] = load_detections(a.detections, corpus, th)
        s, raw, per_file = score(corpus, cache[th], p)
        out[p] = {"score": s, "raw": raw, "threshold": th, "files": per_file}
        print(f"{p} {s:.4f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
