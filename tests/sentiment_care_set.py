#!/usr/bin/env python3
"""Sentiment on the customer-care set (tests/data/care/care_set.tsv: 1,521
mentions across ten industries, written and labelled here by the guideline
in tests/data/care/README.md), split into dev (rules are tuned on it) and
test (reported, never tuned on).

    sentiment_care_set.py EARSHOT EARSHOT_GEN [--split dev|test] [--report FILE] [--errors]

Scores every text with `earshot score --batch` (the default layers) and
reports accuracy, per-class precision/recall/F1 and macro-F1 per split,
per industry on test, and the confusion matrix; asserts the test split's
macro-F1 stays at or above FLOOR (a regression floor below the measured
value). --errors prints the dev split's mistakes (for tuning: never test).
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = ('negative', 'neutral', 'positive')
FLOOR = 0.75


def load():
    rows = []
    with open(os.path.join(HERE, 'data', 'care', 'care_set.tsv'), encoding='utf-8') as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            industry, split, label, text = line.rstrip('\n').split('\t')
            rows.append((industry, split, label, text))
    return rows


def score(earshot, texts, extra=()):
    p = subprocess.run([earshot, 'score', '--batch', *extra], input='\n'.join(texts) + '\n', capture_output=True,
                       text=True, check=True)
    return [ln.split('\t')[1] for ln in p.stdout.splitlines()]


def metrics(gold, pred):
    out = {'n': len(gold), 'accuracy': sum(g == p for g, p in zip(gold, pred)) / max(len(gold), 1)}
    f1s = []
    for c in LABELS:
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        fp = sum(g != c and p == c for g, p in zip(gold, pred))
        fn = sum(g == c and p != c for g, p in zip(gold, pred))
        pr = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * pr * rc / (pr + rc) if pr + rc else 0.0
        out[c] = (pr, rc, f1)
        f1s.append(f1)
    out['macro_f1'] = sum(f1s) / len(f1s)
    return out


def row(name, m):
    cls = ' | '.join('%.2f/%.2f/%.2f' % m[c] for c in LABELS)
    return '| %s | %d | %.1f%% | %.3f | %s |' % (name, m['n'], 100 * m['accuracy'], m['macro_f1'], cls)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('earshot')
    ap.add_argument('gen')
    ap.add_argument('--report')
    ap.add_argument('--errors', action='store_true')
    a = ap.parse_args()
    rows = load()
    check(len(rows) >= 1500, '%d mentions in the care set (at least 1,500)' % len(rows))
    pred = score(a.earshot, [r[3] for r in rows])
    check(len(pred) == len(rows), 'earshot scored every mention (%d)' % len(pred))
    lines = ['# Sentiment on the customer-care set (%d mentions; tuned on dev, reported on test)' % len(rows), '',
             '| split | mentions | accuracy | macro-F1 | negative P/R/F1 | neutral P/R/F1 | positive P/R/F1 |',
             '|---|---|---|---|---|---|---|']
    res = {}
    for split in ('dev', 'test'):
        idx = [i for i, r in enumerate(rows) if r[1] == split]
        res[split] = metrics([rows[i][2] for i in idx], [pred[i] for i in idx])
        lines.append(row(split, res[split]))
    lines += ['', '## Test, per industry', '', '| industry | mentions | accuracy | macro-F1 | negative P/R/F1 | neutral P/R/F1 | positive P/R/F1 |',
              '|---|---|---|---|---|---|---|']
    for ind in sorted({r[0] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r[1] == 'test' and r[0] == ind]
        lines.append(row(ind, metrics([rows[i][2] for i in idx], [pred[i] for i in idx])))
    idx = [i for i, r in enumerate(rows) if r[1] == 'test']
    lines += ['', '## Test, confusion (rows: label; columns: scored)', '', '| | ' + ' | '.join(LABELS) + ' |', '|---|---|---|---|']
    for g in LABELS:
        lines.append('| %s | ' % g + ' | '.join(str(sum(rows[i][2] == g and pred[i] == p for i in idx)) for p in LABELS) + ' |')
    text = '\n'.join(lines) + '\n'
    print(text)
    if a.report:
        with open(a.report, 'w') as f:
            f.write(text)
    if a.errors:
        for i, r in enumerate(rows):
            if r[1] == 'dev' and pred[i] != r[2]:
                print('%s -> %s\t%s' % (r[2], pred[i], r[3]))
    check(res['test']['macro_f1'] >= FLOOR, 'macro-F1 on test %.3f >= %.2f' % (res['test']['macro_f1'], FLOOR))
    return finish()


if __name__ == '__main__':
    sys.exit(main())
