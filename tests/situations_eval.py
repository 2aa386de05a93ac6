#!/usr/bin/env python3
"""Situation rules on labelled mentions.

    situations_eval.py EARSHOT [EARSHOT_GEN] [--errors] [--report FILE]

1. tests/data/triage/situations.tsv (written and labelled here, guideline in
   tests/data/triage/README.md): precision and recall per situation of the
   shipped rules (`earshot score --batch --situations builtin:en`), on the
   dev split (rules are tuned on it) and the test split (reported, never
   tuned on); the split is the first byte of the text's SHA-256 (even: dev).
2. The customer-care set (tests/data/care/care_set.tsv, labelled for
   sentiment): how many of the complaints (label negative) are tagged
   `complaint`, how few of the praise (label positive) are, and how many of
   the praise are tagged `praise`, per split.

Asserts floors a little below the measured values (regressions fail);
--errors prints the dev split's mistakes (for tuning: never the test split).
"""
import argparse
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SITUATIONS = ('complaint', 'praise', 'question', 'urgent', 'churn_risk', 'purchase_intent', 'policy_breach', 'spam')
# On the test split of the situations set: micro-averaged precision and recall.
FLOOR_P, FLOOR_R = 0.83, 0.82
# On the care set's test split: complaints tagged complaint (recall), praise
# tagged complaint (at most), praise tagged praise.
FLOOR_CARE_COMPLAINT, CEIL_CARE_PRAISE_AS_COMPLAINT, FLOOR_CARE_PRAISE = 0.78, 0.13, 0.76


def split_of(text):
    return 'dev' if hashlib.sha256(text.encode()).digest()[0] % 2 == 0 else 'test'


def tag(earshot, texts):
    p = subprocess.run([earshot, 'score', '--batch', '--situations', 'builtin:en'], input='\n'.join(texts) + '\n',
                       capture_output=True, text=True, check=True)
    rows = [line.split('\t') for line in p.stdout.splitlines()]
    check(len(rows) == len(texts), f'earshot tagged every text ({len(rows)} of {len(texts)})')
    return [set() if r[-1] == '-' else set(r[-1].split(',')) for r in rows]


def load(path, parse):
    rows = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            rows.append(parse(line.rstrip('\n').split('\t')))
    return rows


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('earshot')
    ap.add_argument('earshot_gen', nargs='?', help='(unused; the CLI tests pass it)')
    ap.add_argument('--errors', action='store_true')
    ap.add_argument('--report')
    a = ap.parse_args()
    out = []

    rows = load(os.path.join(HERE, 'data', 'triage', 'situations.tsv'),
                lambda f: (set() if f[0] == '-' else set(f[0].split(',')), f[1]))
    got = tag(a.earshot, [t for _, t in rows])
    micro = {}
    for split in ('dev', 'test'):
        out.append(f'situations set, {split} split '
                   f'({sum(split_of(t) == split for _, t in rows)} mentions):')
        out.append(f'  {"situation":16} {"n":>4} {"precision":>9} {"recall":>7} {"F1":>6}')
        TP = FP = FN = 0
        for s in SITUATIONS:
            tp = fp = fn = 0
            for (want, text), have in zip(rows, got):
                if split_of(text) != split:
                    continue
                tp += s in want and s in have
                fp += s not in want and s in have
                fn += s in want and s not in have
            TP, FP, FN = TP + tp, FP + fp, FN + fn
            p, r, f1 = prf(tp, fp, fn)
            out.append(f'  {s:16} {tp + fn:4d} {p:9.3f} {r:7.3f} {f1:6.3f}')
        p, r, f1 = prf(TP, FP, FN)
        micro[split] = (p, r)
        out.append(f'  {"all (micro)":16} {TP + FN:4d} {p:9.3f} {r:7.3f} {f1:6.3f}')
    if a.errors:
        for (want, text), have in zip(rows, got):
            if split_of(text) == 'dev' and want != have:
                out.append(f'  want {",".join(sorted(want)) or "-":30} got {",".join(sorted(have)) or "-":30} {text}')

    care = load(os.path.join(HERE, 'data', 'care', 'care_set.tsv'), lambda f: (f[1], f[2], f[3]))
    cgot = tag(a.earshot, [t for _, _, t in care])
    care_rates = {}
    out.append('customer-care set (sentiment labels):')
    out.append(f'  {"split":6} {"complaints tagged complaint":>28} {"praise tagged complaint":>24} '
               f'{"praise tagged praise":>21} {"neutral tagged complaint":>25}')
    for split in ('dev', 'test'):
        neg = [g for (sp, lab, _), g in zip(care, cgot) if sp == split and lab == 'negative']
        pos = [g for (sp, lab, _), g in zip(care, cgot) if sp == split and lab == 'positive']
        neu = [g for (sp, lab, _), g in zip(care, cgot) if sp == split and lab == 'neutral']
        nc = sum('complaint' in g for g in neu) / len(neu)
        rc = sum('complaint' in g for g in neg) / len(neg)
        pc = sum('complaint' in g for g in pos) / len(pos)
        pp = sum('praise' in g for g in pos) / len(pos)
        care_rates[split] = (rc, pc, pp)
        out.append(f'  {split:6} {rc:22.3f} ({len(neg)}) {pc:18.3f} ({len(pos)}) {pp:15.3f} ({len(pos)}) '
                   f'{nc:19.3f} ({len(neu)})')
    if a.errors:
        for (sp, lab, text), g in zip(care, cgot):
            if sp == 'dev' and ((lab == 'negative' and 'complaint' not in g) or (lab != 'negative' and 'complaint' in g)
                                or (lab == 'positive' and 'praise' not in g)):
                out.append(f'  care {lab:8} got {",".join(sorted(g)) or "-":30} {text}')

    print('\n'.join(out))
    if a.report:
        with open(a.report, 'w') as f:
            f.write('\n'.join(out) + '\n')
    p, r = micro['test']
    check(p >= FLOOR_P, f'situations test split: micro precision {p:.3f} >= {FLOOR_P}')
    check(r >= FLOOR_R, f'situations test split: micro recall {r:.3f} >= {FLOOR_R}')
    rc, pc, pp = care_rates['test']
    check(rc >= FLOOR_CARE_COMPLAINT, f'care test split: complaints tagged complaint {rc:.3f} >= {FLOOR_CARE_COMPLAINT}')
    check(pc <= CEIL_CARE_PRAISE_AS_COMPLAINT,
          f'care test split: praise tagged complaint {pc:.3f} <= {CEIL_CARE_PRAISE_AS_COMPLAINT}')
    check(pp >= FLOOR_CARE_PRAISE, f'care test split: praise tagged praise {pp:.3f} >= {FLOOR_CARE_PRAISE}')
    finish()


if __name__ == '__main__':
    main()
