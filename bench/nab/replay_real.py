#!/usr/bin/env python3
"""Real volume through the whole engine: turns labelled count series of a
NAB-layout corpus into individual mentions (each row's count as that many
mentions spread over its interval, varied texts, authors drawn from a large
pool), runs `earshot replay` with one catch-all query and the series'
interval as the window, takes the windows where an alert opens as the
detections and scores them with the NAB method (nab_score.py) over those
series. The same series through `earshot detect` are scored beside them.

    replay_real.py --earshot BIN --corpus DIR [--series FILE[:SCALE]]... [--keep DIR]

SCALE divides the counts (a series of taxi passengers per half hour in the
tens of thousands becomes hundreds of mentions). Default series: the
corpus's request and passenger counts.
"""
import argparse
import bisect
import csv
import datetime
import io
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nab_score  # noqa: E402

DEFAULT = ["realAWSCloudwatch/elb_request_count_8c0756.csv:1", "realKnownCause/nyc_taxi.csv:100"]
WORDS = ("card fee charged twice app login outage branch queue refund support delivery courier tracking "
         "payment transfer account balance statement interest loan mortgage savings cashback rewards points "
         "bonus offer update password security alert fraud chargeback dispute limit overdraft").split()


def mentions(rows, step_s, scale, rng, out):
    n = 0
    for t, v in rows:
        c = int(round(float(v) / scale))
        for ts in sorted(t + rng.random() * step_s for _ in range(max(c, 0))):
            words = rng.sample(WORDS, 6)
            out.write(json.dumps({
                "id": f"m{n}", "ts": datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "text": f"acme {' '.join(words)} {n}", "author": f"u{rng.randrange(200000)}",
                "lang": "en"}) + "\n")
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--earshot", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--series", action="append")
    ap.add_argument("--keep", help="keep the mentions, windows and alerts here")
    ap.add_argument("--json")
    a = ap.parse_args()
    corpus = nab_score.Corpus(a.corpus)
    series = a.series or DEFAULT
    tmp = a.keep or tempfile.mkdtemp(prefix="earshot-replay-real-")
    os.makedirs(tmp, exist_ok=True)
    qpath = os.path.join(tmp, "q.yaml")
    with open(qpath, "w") as f:
        f.write("queries:\n  - id: all\n    name: Every mention\n    query: acme\n")
    det_replay, det_detect, names = {}, {}, []
    rng = random.Random(1)
    for spec in series:
        name, _, scale = spec.partition(":")
        scale = float(scale or 1)
        ts, index, _ = corpus.files[name]
        with open(os.path.join(a.corpus, "data", name), newline="") as f:
            rows = [(datetime.datetime.fromisoformat(r[0][:19]).replace(tzinfo=datetime.timezone.utc).timestamp(),
                     r[1]) for r in list(csv.reader(f))[1:] if r]
        steps = sorted(b[0] - a_[0] for a_, b in zip(rows, rows[1:]) if b[0] > a_[0])
        step = int(max(set(steps), key=steps.count))
        base = os.path.join(tmp, name.replace("/", "__"))
        with open(base + ".mentions.jsonl", "w") as f:
            count = mentions(rows, step, scale, rng, f)
        r = subprocess.run([a.earshot, "replay", "--queries", qpath, "--input", base + ".mentions.jsonl",
                            "--output", base + ".windows.jsonl", "--alerts-output", base + ".alerts.jsonl",
                            "--window", f"{step}s", "--no-progress", "--no-reload",
                            "--dlq-output", base + ".dlq.jsonl"], capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"replay_real: replay failed on {name}:\n{r.stderr}")
        summary = [l for l in r.stderr.splitlines() if "finished" in l]
        # The engine's windows are aligned to the epoch, a series' rows need
        # not be (the load balancer's are at :04, :09, ...): a window is the
        # row whose interval overlaps it most, the nearest row start.
        starts = [t for t, _ in rows]
        det = set()
        for line in open(base + ".alerts.jsonl"):
            w = json.loads(line)
            if w["alert"]["state"] == "opened":
                ws = datetime.datetime.fromisoformat(w["window_start"].replace("Z", "+00:00")).timestamp()
                k = bisect.bisect_left(starts, ws)
                near = min((j for j in (k - 1, k) if 0 <= j < len(starts)), key=lambda j: abs(starts[j] - ws))
                if abs(starts[near] - ws) < step:
                    det.add(near)
        det_replay[name] = det
        # The same counts through earshot detect (the count path, no authors).
        scaled = "timestamp,value\n" + "".join(
            f"{datetime.datetime.fromtimestamp(t, datetime.timezone.utc):%Y-%m-%d %H:%M:%S},"
            f"{int(round(float(v) / scale))}\n" for t, v in rows)
        r = subprocess.run([a.earshot, "detect", "--values", "count"], input=scaled, capture_output=True, text=True)
        det_detect[name] = {index[nab_score.norm_ts(x["timestamp"])] for x in csv.DictReader(io.StringIO(r.stdout))
                            if x["alert_state"] == "opened"}
        names.append(name)
        print(f"{name}: {count} mentions, scale 1/{scale:g}, window {step}s; "
              f"{summary[0].split('finished')[-1].strip() if summary else ''}")
    sub = nab_score.Corpus.__new__(nab_score.Corpus)
    sub.root, sub.profiles = corpus.root, corpus.profiles
    sub.files = {n: corpus.files[n] for n in names}
    out = {}
    print()
    print("| path | standard | low FP | low FN | alert openings |")
    print("|---|---|---|---|---|")
    for label, det in (("earshot replay (mentions)", det_replay), ("earshot detect (counts)", det_detect)):
        s = [nab_score.score(sub, det, p)[0] for p in nab_score.PROFILES]
        out[label] = dict(zip(nab_score.PROFILES, s), openings=sum(len(d) for d in det.values()))
        print(f"| {label} | " + " | ".join(f"{x:.2f}" for x in s) + f" | {out[label]['openings']} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
