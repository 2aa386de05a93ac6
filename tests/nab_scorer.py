#!/usr/bin/env python3
"""The NAB scorer in bench/nab reproduces the published table: with the four
detectors' outputs shipped in nab-dev/reference and their thresholds, every
profile's normalised score within 0.01 of reference/scores.csv; and the
bounds of the method hold (no detection 0, the first row of every window
and nothing else 100, one detection per row far below 0).

    nab_scorer.py CORPUS
"""
import csv
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench", "nab"))
import nab_score  # noqa: E402


def main():
    corpus_dir = sys.argv[1]
    if not os.path.isdir(corpus_dir):
        print(f"nab_scorer: no corpus at {corpus_dir}: skipped")
        return 77
    c = nab_score.Corpus(corpus_dir)
    import json
    thresholds = json.load(open(os.path.join(corpus_dir, "config", "thresholds.json")))
    ref = {r["detector"]: r for r in csv.DictReader(open(os.path.join(corpus_dir, "reference", "scores.csv")))}
    failed = passed = 0
    for det in ("numenta", "ARTime", "contextOSE", "twitterADVec"):
        path = os.path.join(corpus_dir, "reference", det + ".csv.gz")
        for prof in nab_score.PROFILES:
            th = thresholds[det][prof]["threshold"]
            s, _, _ = nab_score.score(c, nab_score.load_detections([path], c, th), prof)
            want = float(ref[det][prof])
            ok = abs(s - want) <= 0.01
            print(f"{'ok  ' if ok else 'FAIL'} {det:13s} {prof:19s} {s:8.4f} (published {want:.4f})")
            passed += ok
            failed += not ok
    # The bounds: silent 0; first row of every scored window 100; every row far below 0.
    silent = {n: set() for n in c.files}
    first = {n: {max(a, int(c.probation(len(ts)))) for a, b in w if b >= c.probation(len(ts))}
             for n, (ts, _, w) in c.files.items()}
    every = {n: set(range(len(ts))) for n, (ts, _, _) in c.files.items()}
    for name, det, check in (("silent", silent, lambda s: abs(s) < 1e-9),
                             ("first row of every window", first, lambda s: s > 99.0),
                             ("every row", every, lambda s: s < -100)):
        s, _, _ = nab_score.score(c, det, "standard")
        ok = check(s)
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {s:.4f}")
        passed += ok
        failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
