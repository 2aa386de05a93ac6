#!/usr/bin/python3
"""Triage through the engine, the way a user runs it.

`earshot replay --triage` over mentions with event times chosen so that:
a threshold alert on `fees` opens (3 negative fee mentions in a minute) and
later fee mentions go to the crisis track while it is open; the `care`
track's capacity (3 an hour) sends the rest of that hour to `overflow`; a
mention outside office hours goes to `night`; spam is ignored; a mention no
route takes is written with route null. Checks each record's route,
respond_by (event time + SLA), situations with evidence, that the output is
byte-identical with 1 and 3 workers, and that `earshot run` with
--triage-topic publishes the same records on Kafka keyed by track
(python3-kafka reads them).

usage: triage_replay.py EARSHOT [EARSHOT_GEN]"""
import json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish, produce, read_topic, start_broker, stop_broker  # noqa: E402

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
    return "".join(json.dumps({"id": i, "ts": t, "author": a, "text": x, "lang": "en"}) + "\n"
                   for i, t, a, x in MENTIONS)


def replay(d, workers):
    out = "%s/triage.%d.jsonl" % (d, workers)
    subprocess.run([EARSHOT, "replay", "--queries", DATA + "/queries.yaml", "--triage", DATA + "/conformance.yaml",
                    "--input", d + "/m.jsonl", "--output", d + "/windows.jsonl", "--alerts-output", d + "/alerts.jsonl",
                    "--triage-output", out, "--workers", str(workers), "--no-progress", "--no-reload"],
                   check=True, stderr=subprocess.DEVNULL)
    with open(out, "rb") as f:
        return f.read()


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
    one = replay(d, 1)
    recs = [json.loads(x) for x in one.splitlines()]
    check_records(recs, "replay")
    with open(d + "/alerts.jsonl") as f:
        alerts = [json.loads(x) for x in f]
    check(any(a["query"] == "fees" and a["alert"]["state"] == "opened" for a in alerts),
          "the fees threshold alert opened (the crisis' trigger)")
    check(replay(d, 3) == one, "triage records are byte-identical with 1 and 3 workers")

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
        engine.send_signal(15)
        check(engine.wait(timeout=60) == 0, "earshot run exits 0 on SIGTERM")
        krecs = [json.loads(m.value) for m in msgs]
        check_records(krecs, "kafka")
        keys = {json.loads(m.value)["id"]: m.key.decode() for m in msgs}
        check(keys.get("m1") == "care" and keys.get("m5") == "ignore" and keys.get("m8") == "unrouted"
              and keys.get("m9") == "night", "kafka records are keyed by track (%s)" % keys)
        hdr = dict(msgs[0].headers) if msgs else {}
        check(hdr.get("schema") == b"earshot.triage.v1", "kafka triage records carry their schema header (%s)" % hdr)
    finally:
        stop_broker(broker)
    finish()


if __name__ == "__main__":
    main()
