#!/usr/bin/python3
"""Triage file hot reload, through the CLI.

`earshot replay --triage DIR/triage.yaml` (two workers) reads mentions from
a pipe in four parts. Between the parts the test edits what the triage was read from and
waits for the engine's log to say it reloaded (no SIGHUP):
  1. as started: complaints go to `care`;
  2. `alice` added to the VIP list file (vip.txt): her mentions go to `comms`;
  3. the triage file broken (bad YAML): the reload fails, the file in force stays;
  4. the triage file fixed with a new track `security` taking complaints, and
     without the extra rule file (its situation `fee_talk` gone).
Each part is fed only once the previous one has been read (the /metrics
count), so each mention's file is known. Checks that every matched mention
has exactly one triage record, routed by the file in force when it was read;
that the care track's hour count went on across reloads (its capacity sends
the 4th complaint of the hour to overflow, the 3 first read under another
version of the file); the reload counts in /metrics and in the run's log.

usage: triage_reload.py EARSHOT"""
import json, os, subprocess, sys, tempfile, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish, served_url, tally, wait_for  # noqa: E402

EARSHOT = sys.argv[1]
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "triage")

TRIAGE = """situations: [builtin:en, rules.tsv]
lists:
  vip: vip.txt
tracks:
  care: {sla: 1h, capacity: 3, overflow: overflow}
  overflow: {sla: 6h}
  comms: {sla: 30m}
%(extra_track)s
routes:
  - name: vips
    when: {author_in: vip}
    track: comms
    priority: 1
  - name: complaints
    when: {situation: complaint}
    track: %(complaints)s
    priority: 2
"""
RULES = "#! kind situations\n# an extra situation of this test\nfee_talk\tfees\t-\tfee OR fees\n"

# part -> mentions (id, author, text); event times rise through the parts, all in one hour.
PARTS = [
    [("p1a", "alice", "charged twice for the monthly fee, ridiculous"),
     ("p1b", "bob", "my card is blocked and nobody answers")],
    [("p2a", "alice", "the overdraft fee is wrong again, terrible"),
     ("p2b", "cat", "another hidden fee on my account, this is a scam")],
    [("p3a", "alice", "still waiting for the refund of that fee, awful service"),
     ("p3b", "dan", "the app crashed and charged me twice, useless")],
    [("p4a", "alice", "fee charged twice again, unacceptable"),
     ("p4b", "eve", "my card was declined and nobody can tell me why, terrible")],
]
EXPECT = {  # id -> (track, rule, via)
    "p1a": ("care", "complaints", "route"), "p1b": ("care", "complaints", "route"),
    "p2a": ("comms", "vips", "route"), "p2b": ("care", "complaints", "route"),
    "p3a": ("comms", "vips", "route"), "p3b": ("overflow", "complaints", "overflow"),  # care's 4th this hour
    "p4a": ("comms", "vips", "route"), "p4b": ("security", "complaints", "route"),
}


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)  # as editors and ConfigMaps do: one event, never a half-written file


def part_lines(k):
    out = []
    for j, (mid, author, text) in enumerate(PARTS[k]):
        ts = "2026-12-07T10:%02d:%02dZ" % (k * 10, j)
        out.append(json.dumps({"id": mid, "ts": ts, "author": author, "text": text, "lang": "en"}) + "\n")
    return "".join(out)


def main():
    d = tempfile.mkdtemp(prefix="earshot-triage-reload-")
    log_path, out = d + "/engine.log", d + "/triage.jsonl"
    write(d + "/vip.txt", "# VIPs\n")
    write(d + "/rules.tsv", RULES)
    write(d + "/triage.yaml", TRIAGE % {"extra_track": "", "complaints": "care"})
    eng = subprocess.Popen([EARSHOT, "replay", "--queries", DATA + "/queries.yaml", "--triage", d + "/triage.yaml",
                            "--triage-output", out, "--output", d + "/windows.jsonl", "--http", "127.0.0.1:0",
                            "--idle-flush", "0", "--no-progress", "--workers", "2"], stdin=subprocess.PIPE,
                           stderr=open(log_path, "w"), text=True)

    def log_text():
        with open(log_path) as f:
            return f.read()

    def metrics():
        with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
            return r.read().decode()

    def read_total():
        for ln in metrics().splitlines():
            if ln.startswith("earshot_mentions_read_total "):
                return int(float(ln.split()[1]))
        return -1
    fed = 0
    try:
        url = (served_url(log_path) or "").rstrip("/")
        check(url != "", "replay serves HTTP (%s)" % url)
        check(wait_for(lambda: "reloading the triage file on change" in log_text(), 30),
              "the engine watches its triage file")
        for k in range(4):
            if k == 1:
                write(d + "/vip.txt", "# VIPs\n@Alice\n")
                check(wait_for(lambda: log_text().count("triage reloaded") == 1, 20),
                      "a change to the VIP list reloads the triage file")
            elif k == 2:
                write(d + "/triage.yaml", "routes: [unclosed\n")
                check(wait_for(lambda: "triage reload failed" in log_text(), 20),
                      "a broken triage file is refused with its error, the file in force stays")
            elif k == 3:
                write(d + "/triage.yaml", TRIAGE.replace("builtin:en, rules.tsv", "builtin:en") % {
                    "extra_track": "  security: {sla: 15m}", "complaints": "security"})
                check(wait_for(lambda: "tracks=4 " in log_text() and log_text().count("triage reloaded") >= 2, 20),
                      "the fixed file with a new track is loaded")
            eng.stdin.write(part_lines(k))
            eng.stdin.flush()
            fed += len(PARTS[k])
            check(wait_for(lambda: read_total() == fed, 20), "part %d read (%d mentions)" % (k + 1, fed))
        met = metrics()
        check('earshot_triage_reloads_total{result="failure"} 1' in met and
              'earshot_triage_reloads_total{result="success"}' in met, "/metrics counts triage reloads by result")
    finally:
        eng.stdin.close()
        rc = eng.wait(timeout=60)
    check(rc == 0, "the run ends cleanly (exit %d)" % rc)
    recs = [json.loads(x) for x in open(out)]
    ids = [r["id"] for r in recs]
    check(sorted(ids) == sorted(EXPECT), "one triage record per mention, none lost or doubled (%s)" % sorted(ids))
    for r in recs:
        route = r["route"] or {}
        got = (route.get("track"), route.get("rule"), route.get("via"))
        check(got == EXPECT.get(r["id"]), "%s routed %s (want %s)" % (r["id"], got, EXPECT.get(r["id"])))
        sits = {s["situation"] for s in r.get("situations", [])}
        if r["id"] in ("p1a", "p2b", "p3a"):
            check("fee_talk" in sits, "%s read under the first rules carries their situation fee_talk" % r["id"])
        if r["id"] == "p4a":
            check("fee_talk" not in sits, "p4a read after the rule file lost fee_talk does not carry it")
    text = log_text()
    fin = [ln for ln in text.splitlines() if 'msg="triage reloads"' in ln]
    check(fin and "failed=1" in fin[0] and "loaded=2" in fin[0], "the run's log sums the triage reloads (%s)" % fin[:1])
    wins = [json.loads(x) for x in open(d + "/windows.jsonl")]
    fees = [w for w in wins if w["query"] == "fees" and w["window_start"].startswith("2026-12-07T10:")]
    first = [w for w in fees if w["window_start"] == "2026-12-07T10:00:00Z"]
    last = [w for w in fees if w["window_start"] >= "2026-12-07T10:30:00Z"]
    check(first and all(w.get("situations", {}).get("fee_talk") for w in first) and last and
          all("situations" in w and "fee_talk" not in w["situations"] for w in last),
          "window records count situations across reloads: fee_talk while its rules are loaded, not after (%s)" %
          [(w["window_start"], w.get("situations")) for w in fees])
    if tally["failed"]:
        print(text[-4000:])
    subprocess.run(["rm", "-rf", d])
    return finish()


sys.exit(main())
