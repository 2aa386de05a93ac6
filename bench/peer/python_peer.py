#!/usr/bin/python3
"""The hand-written peer: what a team writes instead of earshot. A plain
Python consumer (python3-kafka) that reads mentions from a topic, matches
each query as one `re` regex (its terms OR-ed, boolean structure ignored,
as such scripts usually do), scores sentiment with a straightforward
transcription of the VADER rules over the npm lexicon, and counts
per-query one-minute windows in dicts.

    python_peer.py BOOTSTRAP TOPIC QUERIES.yaml LEXICON_DIR MAX_RECORDS

Prints one JSON line: records, seconds (first to last record), per_s,
windows. For the bench only (bench/kafka_vs_kcat.sh): a throughput peer,
not a reference for what earshot should match.
"""
import json
import math
import re
import sys
import time

import yaml
from kafka import KafkaConsumer

B_INCR, C_INCR, N_SCALAR = 0.293, 0.733, -0.74
NEGATE = set("""aint arent cannot cant couldnt darent didnt doesnt ain't aren't can't couldn't daren't didn't
doesn't dont hadnt hasnt havent isnt mightnt mustnt neither don't hadn't hasn't haven't isn't mightn't mustn't
neednt needn't never none nope nor not nothing nowhere oughtnt shant shouldnt uhuh wasnt werent oughtn't shan't
shouldn't uh-uh wasn't weren't without wont wouldnt won't wouldn't rarely seldom despite""".split())
BOOST = {w: B_INCR for w in """absolutely amazingly awfully completely considerably decidedly deeply effing
enormously entirely especially exceptionally extremely fabulously flipping flippin fricking frickin frigging
friggin fully fucking greatly hella highly hugely incredibly intensely majorly more most particularly purely
quite really remarkably so substantially thoroughly totally tremendously uber unbelievably unusually utterly
very""".split()}
BOOST.update({w: -B_INCR for w in """almost barely hardly kinda kindof kind-of less little marginally
occasionally partly scarcely slightly somewhat sorta sortof sort-of""".split()})
PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'


def load_lexicon(lexdir):
    lex = {}
    with open(lexdir + '/en/vader.tsv', encoding='utf-8') as f:
        for line in f:
            if not line.startswith('#'):
                tok, v = line.rstrip('\n').split('\t')[:2]
                lex[tok] = float(v)
    return lex


def vader(text, lex):
    words = []
    for t in text.split():
        s = t.strip(PUNCT)
        words.append(t if len(s) <= 2 else s)
    lower = [w.lower() for w in words]
    caps = sum(1 for w in words if w.isupper())
    cap_diff = 0 < caps < len(words)
    vals = []
    for i, w in enumerate(lower):
        v = 0.0
        if w in lex and w not in BOOST:
            v = lex[w]
            if words[i].isupper() and cap_diff:
                v += C_INCR if v > 0 else -C_INCR
            for k in range(3):
                if i > k and lower[i - k - 1] not in lex:
                    p = lower[i - k - 1]
                    s = BOOST.get(p, 0.0) * (1 if v >= 0 else -1) * (1, 0.95, 0.9)[k]
                    v += s
                    if p in NEGATE or "n't" in p:
                        v *= N_SCALAR
        vals.append(v)
    if 'but' in lower:
        b = lower.index('but')
        vals = [v * 0.5 if i < b else v * 1.5 if i > b else v for i, v in enumerate(vals)]
    total = sum(vals)
    emph = min(text.count('!'), 4) * 0.292
    q = text.count('?')
    if q > 1:
        emph += q * 0.18 if q <= 3 else 0.96
    if total:
        total += emph if total > 0 else -emph
    return total / math.sqrt(total * total + 15) if total else 0.0


def query_regex(q):
    terms = re.findall(r'"([^"]+)"|([^\s()"]+)', q)
    words = []
    for phrase, word in terms:
        t = phrase or word
        if t in ('AND', 'OR', 'NOT') or t.startswith('NEAR/') or ':' in t or t.startswith('/'):
            continue
        words.append(re.escape(t.lower()).replace(r'\*', r'\w*').replace(r'\?', r'\w'))
    return re.compile(r'\b(?:' + '|'.join(words) + r')\b', re.I) if words else None


def main():
    boot, topic, qpath, lexdir, limit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    lex = load_lexicon(lexdir)
    with open(qpath) as f:
        queries = [(q['id'], query_regex(q['query'])) for q in yaml.safe_load(f)['queries']]
    queries = [(i, r) for i, r in queries if r]
    consumer = KafkaConsumer(topic, bootstrap_servers=boot, auto_offset_reset='earliest', enable_auto_commit=False,
                             group_id=None, consumer_timeout_ms=10000)
    windows = {}
    n, first, last = 0, None, None
    for rec in consumer:
        m = json.loads(rec.value)
        text = m.get('text', '')
        ts = m.get('ts')
        minute = ts[:16] if isinstance(ts, str) else int(ts) // 60000
        score = None
        for qid, rx in queries:
            if rx.search(text):
                if score is None:
                    score = vader(text, lex)
                w = windows.setdefault((qid, minute), [0, 0.0])
                w[0] += 1
                w[1] += score
        last = time.monotonic()
        if first is None:
            first = last
        n += 1
        if n >= limit:
            break
    consumer.close()
    secs = (last - first) if n > 1 else 0.0
    print(json.dumps({'records': n, 'seconds': secs, 'per_s': (n - 1) / secs if secs else 0, 'windows': len(windows)}))


if __name__ == '__main__':
    main()
