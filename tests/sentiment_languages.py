#!/usr/bin/env python3
"""Sentiment in Spanish, French, German and Portuguese: the labelled sets in
tests/data/lang/ (45 texts each, written and labelled here: 15 negative,
15 neutral, 15 positive), scored with `earshot score --batch --lang xx`
(the AFINN-165 layer of the language and its rules file), and the same
texts with the language identified (`--lang auto`). Reports accuracy and
macro-F1 per language; checks a floor per language, that a language
without a lexicon (Italian) stays `unscored` (never neutral), and that
identification finds each set's language.

    sentiment_languages.py EARSHOT EARSHOT_GEN [--report FILE]
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish  # noqa: E402
from sentiment_care_set import metrics  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LANGS = {'es': 'Spanish', 'fr': 'French', 'de': 'German', 'pt': 'Portuguese'}
FLOOR = 0.70


def load(lang):
    rows = []
    with open(os.path.join(HERE, 'data', 'lang', lang + '.tsv'), encoding='utf-8') as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            label, text = line.rstrip('\n').split('\t')
            rows.append((label, text))
    return rows


def score(earshot, texts, lang):
    p = subprocess.run([earshot, 'score', '--batch', '--lang', lang], input='\n'.join(texts) + '\n',
                       capture_output=True, text=True, check=True)
    return [ln.split('\t') for ln in p.stdout.splitlines()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('earshot')
    ap.add_argument('gen')
    ap.add_argument('--report')
    a = ap.parse_args()
    lines = ['# Sentiment per language (tests/data/lang, 45 texts each)', '',
             '| language | texts | accuracy | macro-F1 | with --lang auto: identified as | accuracy |',
             '|---|---|---|---|---|---|']
    for lang, name in LANGS.items():
        rows = load(lang)
        gold = [r[0] for r in rows]
        out = score(a.earshot, [r[1] for r in rows], lang)
        m = metrics(gold, [o[1] for o in out])
        auto = score(a.earshot, [r[1] for r in rows], 'auto')
        ident = sum(o[5] == lang for o in auto) / len(auto)
        ma = metrics(gold, [o[1] for o in auto])
        lines.append('| %s (`%s`) | %d | %.1f%% | %.3f | %s %.0f%% | %.1f%% |' % (
            name, lang, len(rows), 100 * m['accuracy'], m['macro_f1'], lang, 100 * ident, 100 * ma['accuracy']))
        check(len(rows) >= 45, '%s: %d labelled texts' % (name, len(rows)))
        check(m['accuracy'] >= FLOOR, '%s: accuracy %.2f >= %.2f' % (name, m['accuracy'], FLOOR))
        check(ident >= 0.9, '%s: --lang auto identifies %.0f%% of the texts as %s' % (name, 100 * ident, lang))
    # A language with no lexicon: unscored, never neutral.
    it = score(a.earshot, ['il servizio è stato terribile', 'grazie mille, tutto perfetto'], 'it')
    check(all(o[1] == 'unscored' for o in it), 'Italian (no lexicon): unscored, not neutral (%s)' % [o[1] for o in it])
    text = '\n'.join(lines) + '\n'
    print(text)
    if a.report:
        with open(a.report, 'w') as f:
            f.write(text)
    return finish()


sys.exit(main())
