#!/usr/bin/env python3
"""Domain accuracy of `earshot score` on the curated customer-care mentions
(tests/data/care_mentions.tsv: label, text, reason; written and labelled
here), with and without the care layer.

    sentiment_domain.py EARSHOT EARSHOT_GEN [--report FILE]

Reports accuracy, per-class precision/recall/F1 and macro-F1 for layers
`vader,emoji` (a general lexicon) and `vader,emoji,care` (the default), and
asserts that the care layer raises macro-F1 by at least 0.10 and reaches a
macro-F1 of at least 0.75: regression floors, set below the measured values
so that a change to the layer that makes it worse fails here.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish  # noqa: E402
from sentiment_care_set import metrics as care_metrics  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = ('negative', 'neutral', 'positive')


def load():
    rows = []
    with open(os.path.join(HERE, 'data', 'care_mentions.tsv'), encoding='utf-8') as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            label, text, reason = line.rstrip('\n').split('\t')
            rows.append((label, text, reason))
    return rows


def score(earshot, texts, layers):
    p = subprocess.run([earshot, 'score', '--batch', '--layers', layers], input='\n'.join(texts) + '\n',
                       capture_output=True, text=True, check=True)
    return [l.split('\t')[1] for l in p.stdout.splitlines()]


def metrics(gold, pred):
    m = care_metrics(gold, pred)  # one implementation, shared with the care set's test
    return m['accuracy'], {c: m[c] for c in LABELS}, m['macro_f1']


def main():
    earshot = sys.argv[1]
    report = sys.argv[sys.argv.index('--report') + 1] if '--report' in sys.argv else None
    rows = load()
    gold = [r[0] for r in rows]
    texts = [r[1] for r in rows]
    counts = {c: gold.count(c) for c in LABELS}
    check(len(rows) >= 300, f'{len(rows)} curated mentions (at least 300): ' +
          ', '.join(f'{v} {k}' for k, v in counts.items()))
    out = [f'# Domain accuracy on {len(rows)} customer-care mentions (tests/data/care_mentions.tsv)', '',
           '| layers | accuracy | macro-F1 | negative P/R/F1 | neutral P/R/F1 | positive P/R/F1 |',
           '|---|---|---|---|---|---|']
    res = {}
    for layers in ('vader,emoji', 'vader,emoji,care'):
        pred = score(earshot, texts, layers)
        check(len(pred) == len(rows), f'earshot scored {len(pred)} of {len(rows)} mentions with {layers}')
        acc, per, macro = metrics(gold, pred)
        res[layers] = (acc, macro, pred)
        cells = ' | '.join('%.2f/%.2f/%.2f' % per[c] for c in LABELS)
        out.append(f'| {layers} | {acc:.1%} | {macro:.3f} | {cells} |')
    pred = res['vader,emoji,care'][2]
    wrong = [(g, p, t, r) for (g, t, r), p in zip(rows, pred) if g != p]
    out += ['', f'## Still wrong with the care layer ({len(wrong)})', '']
    out += [f'- labelled {g}, scored {p}: `{t}` ({r})' for g, p, t, r in wrong]
    print('\n'.join(out[:6]))
    if report:
        with open(report, 'w', encoding='utf-8') as f:
            f.write('\n'.join(out) + '\n')
    base, care = res['vader,emoji'][1], res['vader,emoji,care'][1]
    check(care >= base + 0.10, f'the care layer raises macro-F1 by at least 0.10 ({base:.3f} -> {care:.3f})')
    check(care >= 0.75, f'macro-F1 with the care layer {care:.3f} >= 0.75')
    sys.exit(finish())


if __name__ == '__main__':
    main()
