#!/usr/bin/python3
"""Early updates on Kafka, the way a dashboard reads them: `earshot run`
with early updates every 20 ms on the embedded broker; an independent
client (python3-kafka) produces mentions of one open window and reads the
windows topic.

Checks: while the window is still open, the windows topic gets early
records for it (key = query id, schema header earshot.window.early.v1,
"early": true, "final": false, no detection fields, no window or state
header), growing to the full count; SIGTERM exits 0 and leaves the window
open (no final record: a later run closes it).

usage: kafka_early.py EARSHOT EARSHOT_GEN
Waits are on conditions (records arriving), bounded by deadlines."""
import json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish, produce, start_broker, stop_broker, wait_for  # noqa: E402
from kafka import KafkaConsumer, TopicPartition  # noqa: E402

EARSHOT = sys.argv[1]


def main():
    d = tempfile.mkdtemp(prefix="earshot-kafka-early-")
    broker, boot = start_broker(EARSHOT, ["mentions:2", "earshot.windows:2", "earshot.alerts:1", "earshot.dlq:1"])
    engine = None
    try:
        with open(d + "/q.yaml", "w") as f:
            f.write("queries:\n  - id: fees\n    query: fee\n  - id: app\n    query: app\n")
        engine = subprocess.Popen([EARSHOT, "run", "--brokers", boot, "--topic", "mentions", "--group", "early",
                                   "--queries", d + "/q.yaml", "--early-updates", "20ms", "--idle-flush", "0",
                                   "--no-progress", "--output", d + "/w.jsonl"],
                                  stderr=open(d + "/engine.log", "w"))
        first = [json.dumps({"id": "m%d" % i, "ts": "2026-01-05T00:00:%02dZ" % i, "text": "the fee again",
                             "author": "u%d" % i}).encode() for i in range(30)]
        produce(boot, first, partitions=2)

        c = KafkaConsumer(bootstrap_servers=boot, group_id=None, auto_offset_reset="earliest",
                          enable_auto_commit=False, consumer_timeout_ms=200)
        parts = [TopicPartition("earshot.windows", p) for p in range(2)]
        c.assign(parts)
        c.seek_to_beginning(*parts)
        got = []

        def counts():
            for m in c:
                got.append(m)
            return [json.loads(m.value)["count"] for m in got]
        check(wait_for(lambda: 30 in counts(), 60), "an early record with all 30 mentions arrives while the window is open")
        more = [json.dumps({"id": "n%d" % i, "ts": "2026-01-05T00:00:%02dZ" % (30 + i), "text": "a fee and the app",
                            "author": "v%d" % i}).encode() for i in range(10)]
        produce(boot, more, partitions=2)
        check(wait_for(lambda: 40 in counts() and any(json.loads(m.value)["query"] == "app" for m in got), 60),
              "the window grows to 40 in a later early record, and the other query's window appears")
        fees = [m for m in got if m.key == b"fees"]
        check(fees, "early records are keyed by query id")
        for m in got:
            v = json.loads(m.value)
            headers = dict(m.headers or [])
            if not (v.get("early") is True and v["final"] is False and "class" not in v and
                    headers.get("schema") == b"earshot.window.early.v1" and not any(k != "schema" for k in headers)):
                check(False, "an early record as documented: %r %r" % (v, headers))
                break
        else:
            check(True, "all %d records are early (early: true, final: false, no detection, schema header only)" % len(got))
        check(sorted(json.loads(m.value)["count"] for m in fees) == [json.loads(m.value)["count"] for m in fees],
              "a window's early counts only grow")
        engine.send_signal(15)
        rc = engine.wait(timeout=60)
        engine = None
        check(rc == 0, "SIGTERM: exit 0 (%s)" % rc)
        counts()
        check(not any(json.loads(m.value)["final"] for m in got), "no final record: the open window is left to the next run")
        with open(d + "/w.jsonl") as f:
            lines = [json.loads(x) for x in f.read().splitlines()]
        check(lines and all(x["early"] for x in lines), "--output gets the same early records (%d)" % len(lines))
        c.close()
    finally:
        if engine:
            engine.kill()
        stop_broker(broker)
    return finish()


sys.exit(main())
