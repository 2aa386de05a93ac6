#!/usr/bin/python3
"""Triage through the engine, the way a user runs it.

`earshot replay --triage` over mentions with event times chosen so that:
a threshold alert on `fees` opens (3 negative fee mentions in a minute) and
later fee mentions go to the crisis track while it is open; the `care`
track's capacity (3 an hour) sends the rest of that hour to `overflow`; a
mention outside office hours goes to `night`; spam is ignored; a mention no
route takes is written with route null. Responses in the same stream
(records with `in_reply_to`) answer some of them: on time, late, or to an
unknown id; the rest stay unanswered. Checks each record's route,
respond_by (event time + SLA), situations with evidence, the time-to-respond
counts and the sla_breach events (hours whose p90 passes the track's SLA),
that the output is byte-identical with 1 and 3 workers, and that `earshot
run` with --triage-topic publishes the same records on Kafka keyed by track
(python3-kafka reads them).

usage: triage_replay.py EARSHOT [EARSHOT_GEN]"""
import json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish, produce, read_topic, served_url, start_broker, stop_broker, wait_for  # noqa: E402
import urllib.request  # noqa: E402

EARSHOT = sys.argv[1]
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "triage")

# (id, time, author, text): Monday 2026-12-07, Paris is UTC+1 (office 09:00-18:00 local).
MENTIONS = [
    ("m1", "2026-12-07T10:00:01Z", "ann", "the monthly fee was charged twice, ridiculous"),
    ("m2", "2026-12-07T10:00:02Z", "bob", "another hidden fee on my account, this is a scam"),
    ("m3", "2026-12-07T10:00:03Z", "cat", "overdraft fee again?? terrible bank"),
    ("m4", "2026-12-07T10:00:30Z", "dan", "my card is blocked and nobody answers"),
    ("m5", "2026-12-07T10:00:40Z", "spambot", "make money from home, click here for free cards"),
    ("m6", "2026-12-07T10:02:00Z", "eve", "the fee is wrong on my statement"),
    ("m7", "2026-12-07T10:02:10Z", "dailyledger", "is the overdraft fee going up next year?"),
    ("m8", "2026-12-07T10:03:00Z", "fay", "new card design arrived today"),
    ("m9", "2026-12-07T20:30:00Z", "gus", "my card was declined at the shop, nobody can tell me why"),
]

# The brand's answers: m1 on time (20 min of 1 h), m2 late (2 h), m6 on time (3 min of 10 min), one to an id
# nobody routed; m3, m4 and m7 get none (m9's respond-by is after the last event: not counted).
RESPONSES = [
    ("2026-12-07T10:05:00Z", "m6"),
    ("2026-12-07T10:20:01Z", "m1"),
    ("2026-12-07T12:00:02Z", "m2"),
    ("2026-12-07T12:30:00Z", "nope"),
]
# (track, window_start, state, p90_s): care's 11:00 hour has m3 unanswered (respond-by 11:00:03), its 12:00 hour
# m2 answered in 2 h; comms' 10:00 hour m6 in 3 min and m7 unanswered (10:12:10); overflow's 16:00 hour m4.
SLA = {("comms", "2026-12-07T10:00:00Z", "opened", None), ("care", "2026-12-07T11:00:00Z", "opened", None),
       ("care", "2026-12-07T12:00:00Z", "updated", 7200), ("overflow", "2026-12-07T16:00:00Z", "opened", None)}

EXPECT = {  # id -> (action, track, priority, sla_s, rule, via)
    "m1": ("route", "care", 2, 3600, "fee_complaints", "route"),
    "m2": ("route", "care", 2, 3600, "fee_complaints", "route"),
    "m3": ("route", "care", 2, 3600, "fee_complaints", "route"),
    "m4": ("route", "overflow", 3, 21600, "complaints", "overflow"),  # care's 4th this hour
    "m5": ("ignore", None, None, None, "spam", None),
    "m6": ("route", "comms", 1, 600, "crisis:fees", "crisis"),  # the fees alert opened when 10:00 closed
    "m7": ("route", "comms", 1, 600, "crisis:fees", "crisis"),
    "m8": None,  # no route takes it
    "m9": ("route", "night", 2, 43200, "very_negative", "off_hours"),  # compound <= -0.6
}


def lines():
    recs = [(t, json.dumps({"id": i, "ts": t, "author": a, "text": x, "lang": "en"})) for i, t, a, x in MENTIONS]
    recs += [(t, json.dumps({"in_reply_to": r, "ts": t, "author": "acmebank"})) for t, r in RESPONSES]
    return "".join(r + "\n" for _, r in sorted(recs, key=lambda x: x[0]))


def replay(d, workers):
    out = "%s/triage.%d.jsonl" % (d, workers)
    p = subprocess.run([EARSHOT, "replay", "--queries", DATA + "/queries.yaml", "--triage", DATA + "/conformance.yaml",
                    "--input", d + "/m.jsonl", "--output", d + "/windows.jsonl", "--alerts-output", d + "/alerts.jsonl",
                    "--triage-output", out, "--workers", str(workers), "--no-progress", "--no-reload"],
                   check=True, stderr=subprocess.PIPE, text=True)
    fin = [ln for ln in p.stderr.splitlines() if 'msg="triage"' in ln]
    with open(out, "rb") as f:
        return f.read(), (fin[0] if fin else "")


def check_records(recs, where):
    by_id = {r["id"]: r for r in recs}
    check(sorted(by_id) == sorted(EXPECT), "%s: one triage record per matched mention (%s)" % (where, sorted(by_id)))
    for mid, want in EXPECT.items():
        r = by_id.get(mid)
        if r is None:
            continue
        route = r["route"]
        if want is None:
            check(route is None and r["respond_by"] is None, "%s: %s has no route (null)" % (where, mid))
            continue
        action, track, prio, sla, rule, via = want
        got = (route.get("action"), route.get("track"), route.get("priority"), route.get("sla_s"), route.get("rule"),
               route.get("via"))
        check(got == want, "%s: %s routed %s (want %s)" % (where, mid, got, want))
        if action == "route":
            ts = [t for i, t, _, _ in MENTIONS if i == mid][0]
            # respond_by = event time + SLA
            from datetime import datetime, timedelta
            due = datetime.fromisoformat(ts.replace("Z", "+00:00")) + timedelta(seconds=sla)
            check(r["respond_by"] == due.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "%s: %s respond_by %s = event time + SLA" % (where, mid, r["respond_by"]))
        else:
            check(route.get("reason") == "spam" and r["respond_by"] is None, "%s: %s ignored with its reason" % (where, mid))
    m1 = by_id.get("m1", {})
    sit = {s["situation"]: s for s in m1.get("situations", [])}
    check("complaint" in sit and sit["complaint"]["rule"].startswith("complaint/") and sit["complaint"]["evidence"],
          "%s: m1's complaint carries its rule and evidence (%s)" % (where, sit.get("complaint")))
    check(by_id.get("m4", {}).get("route", {}).get("asked_track") == "care", "%s: the overflow record names the "
          "track it was meant for" % where)
    check("why" in by_id.get("m7", {}).get("route", {}) and "open alert" in by_id["m7"]["route"]["why"],
          "%s: a crisis record says why (%s)" % (where, by_id.get("m7", {}).get("route", {}).get("why")))


def main():
    d = tempfile.mkdtemp(prefix="earshot-triage-")
    with open(d + "/m.jsonl", "w") as f:
        f.write(lines())
    one, log = replay(d, 1)
    recs = [json.loads(x) for x in one.splitlines()]
    check_records(recs, "replay")
    with open(d + "/alerts.jsonl") as f:
        alerts = [json.loads(x) for x in f]
    check(any(a.get("query") == "fees" and a["alert"]["state"] == "opened" for a in alerts),
          "the fees threshold alert opened (the crisis' trigger)")
    sla = {(a["track"], a["window_start"], a["state"], a["p90_s"]) for a in alerts if a.get("type") == "sla_breach"}
    check(sla == SLA, "sla_breach events: %s (want %s)" % (sorted(sla, key=str), sorted(SLA, key=str)))
    for want in ("responses=3 ", "responses_unknown=1 ", "late=4 ", "unanswered=3 ", "sla_events=4"):
        check(want in log, "time-to-respond counts in the run's log: %s (%s)" % (want.strip(), log))
    with open(d + "/windows.jsonl") as f:
        wins = {(w["query"], w["window_start"]): w for w in map(json.loads, f)}
    w10 = wins.get(("fees", "2026-12-07T10:00:00Z"), {})
    check(w10.get("situations", {}).get("complaint") == 3, "the fees window of 10:00 counts its 3 complaints "
          "(situations %s)" % w10.get("situations"))
    w12 = wins.get(("fees", "2026-12-07T10:02:00Z"), {})
    check(w10.get("tracks") == {"care": 3} and w12.get("tracks") == {"comms": 2},
          "fees windows count the tracks their mentions were routed to: 10:00 %s, 10:02 %s (the crisis)" %
          (w10.get("tracks"), w12.get("tracks")))
    three, _ = replay(d, 3)
    check(three == one, "triage records are byte-identical with 1 and 3 workers")

    # The live views: /api/v1/triage and /metrics while a replay reads a pipe.
    log = open(d + "/http.log", "w")
    eng = subprocess.Popen([EARSHOT, "replay", "--queries", DATA + "/queries.yaml", "--triage", DATA + "/conformance.yaml",
                            "--output", "/dev/null", "--http", "127.0.0.1:0", "--idle-flush", "1s", "--no-progress",
                            "--no-reload"], stdin=subprocess.PIPE, stderr=log, text=True)
    try:
        url = (served_url(d + "/http.log") or "").rstrip("/")
        check(url != "", "replay serves HTTP (%s)" % url)
        eng.stdin.write(lines())
        eng.stdin.flush()
        api = {}

        def all_in():
            with urllib.request.urlopen(url + "/api/v1/triage", timeout=5) as r:
                api.update(json.loads(r.read()))
            return sum(t["records"] for t in api.get("tracks", [])) == len(EXPECT) and len(api["sla_events"]) == len(SLA)
        check(wait_for(all_in, 30), "/api/v1/triage has every record and sla event (%s)" %
              {t["track"]: t["records"] for t in api.get("tracks", [])})
        tr = {t["track"]: t for t in api.get("tracks", [])}
        check(tr.get("care", {}).get("records") == 3 and tr["care"]["recent"][0]["id"] in ("m1", "m2", "m3") and
              tr["care"]["sla_breach_open"], "the care track: 3 records, the newest first, its breach open")
        with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
            met = r.read().decode()
        check('earshot_triage_records_total{track="care"} 3' in met and 'earshot_sla_breach_open{track="care"} 1' in met,
              "/metrics counts triage records and open breaches by track")
    finally:
        eng.stdin.close()
        check(eng.wait(timeout=60) == 0, "the piped replay exits 0 at the end of its input")

    # Kafka: the same records on the triage topic, keyed by track.
    broker, boot = start_broker(EARSHOT, ["mentions:1", "earshot.windows:1", "earshot.alerts:1", "earshot.dlq:1",
                                          "earshot.triage:2"])
    try:
        produce(boot, [x.encode() for x in lines().splitlines()])
        cfg = d + "/run.yaml"
        with open(cfg, "w") as f:
            f.write("queries: %s/queries.yaml\ntriage: %s/conformance.yaml\nwindows:\n  idle_flush: 1s\nprogress: false\n"
                    "kafka:\n  brokers: %s\n  topics: [mentions]\n  group: triage\n  triage_topic: earshot.triage\n"
                    "  commit_interval: 200ms\n  properties:\n    fetch.wait.max.ms: 10\n" % (DATA, DATA, boot))
        engine = subprocess.Popen([EARSHOT, "run", "-c", cfg, "--http", "off"], stderr=open(d + "/run.log", "w"))
        msgs = read_topic(boot, "earshot.triage", want=len(EXPECT), deadline_s=60)
        slam = [m for m in read_topic(boot, "earshot.alerts", want=len(SLA) + 1, deadline_s=30)
                if dict(m.headers).get("schema") == b"earshot.sla.v1"]
        engine.send_signal(15)
        check(engine.wait(timeout=60) == 0, "earshot run exits 0 on SIGTERM")
        krecs = [json.loads(m.value) for m in msgs]
        check_records(krecs, "kafka")
        keys = {json.loads(m.value)["id"]: m.key.decode() for m in msgs}
        check(keys.get("m1") == "care" and keys.get("m5") == "ignore" and keys.get("m8") == "unrouted"
              and keys.get("m9") == "night", "kafka records are keyed by track (%s)" % keys)
        ksla = {(json.loads(m.value)["track"], json.loads(m.value)["window_start"], json.loads(m.value)["state"],
                 json.loads(m.value)["p90_s"]) for m in slam}
        check(ksla == SLA and all(m.key.decode() == json.loads(m.value)["track"] for m in slam),
              "kafka: the sla_breach events on the alerts topic, keyed by track (%s)" % sorted(ksla, key=str))
        hdr = dict(msgs[0].headers) if msgs else {}
        check(hdr.get("schema") == b"earshot.triage.v1", "kafka triage records carry their schema header (%s)" % hdr)
    finally:
        stop_broker(broker)
    finish()


if __name__ == "__main__":
    main()
