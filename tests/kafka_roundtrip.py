#!/usr/bin/python3
"""Kafka end to end, the way a user runs it: `earshot broker` as the broker,
python3-kafka (an independent client) producing mentions and reading the
output topics, `earshot run` in between.

Checks: the windows on earshot.windows equal `earshot replay` on the same
data, with fetch, produce and commit errors injected by the broker; keys
are query ids; malformed records reach earshot.dlq with the
original bytes and their reason and position in headers; SIGTERM exits 0;
a restart in the same group resumes from the committed offsets and the
committed watermark, re-emitting nothing and losing nothing.

usage: kafka_roundtrip.py EARSHOT EARSHOT_GEN
Waits are on conditions (records arriving), bounded by deadlines."""
import json, os, signal, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import BAD, check, comparable, corpus, finish, read_topic, start_broker, stop_broker, tally  # noqa: E402
from kafka import KafkaProducer  # noqa: E402

EARSHOT, GEN = sys.argv[1], sys.argv[2]


def main():
    d = tempfile.mkdtemp(prefix="earshot-kafka-")
    broker, boot = start_broker(EARSHOT, ["mentions:4", "earshot.windows:4", "earshot.alerts:1", "earshot.dlq:1",
                                          "earshot.enriched:4"])
    check(boot.startswith("127.0.0.1:"), "broker prints its address first: %r" % boot)
    engine = None
    try:
        mixed, bad = corpus(GEN, d, 20, 30000, 300, 5), BAD
        with open(d + "/in.jsonl", "wb") as f:
            f.write(b"\n".join(mixed) + b"\n")
        cfg = d + "/earshot.yaml"
        with open(cfg, "w") as f:
            f.write("queries: %s/q.yaml\nwindows:\n  lateness: 10s\n  idle_flush: 1s\nprogress: false\n"
                    "kafka:\n  brokers: %s\n  topics: [mentions]\n  group: roundtrip\n  commit_interval: 200ms\n"
                    "  properties:\n    fetch.wait.max.ms: 10\n    session.timeout.ms: 6000\n" % (d, boot))
        # The reference: the same records through the file path.
        subprocess.run([EARSHOT, "replay", "-c", cfg, "--input", d + "/in.jsonl", "--output", d + "/expected.jsonl",
                        "--dlq-output", d + "/expected.dlq"], check=True, stderr=subprocess.DEVNULL)
        with open(d + "/expected.jsonl") as f:
            expected_raw = f.read().splitlines()
        expected = sorted(comparable(v) for v in expected_raw)
        # Top authors are exact up to 32 distinct authors per window (the
        # Space-Saving counters); beyond, which of two near-equal heavy
        # authors ranks first depends on how partitions interleave (README,
        # Delivery). So the heaviest author is compared where it is exact.
        heavy = {(json.loads(v)["query"], json.loads(v)["window_start"]): json.loads(v)["top_authors"][0]["author"]
                 for v in expected_raw if json.loads(v)["top_authors"] and json.loads(v)["unique_authors"] <= 24}
        check(len(heavy) > 100, "windows with at most 24 distinct authors to compare top authors on (%d)" % len(heavy))
        check(len(expected) > 500, "replay produced windows (%d)" % len(expected))

        p = KafkaProducer(bootstrap_servers=boot, linger_ms=5)
        for rec in mixed:
            p.send("mentions", rec)
        p.flush()
        p.close()

        # Faults: the broker fails the engine's next fetches, produces and
        # offset commits; the engine must retry and lose nothing.
        for cmd in ("errors fetch 3", "errors produce 3", "errors commit 2"):
            broker.stdin.write(cmd + "\n")
            broker.stdin.flush()
            reply = broker.stdout.readline().strip()
            check(reply.startswith("ok "), "broker control '%s': %s" % (cmd, reply))
        log = open(d + "/engine.log", "w")
        engine = subprocess.Popen([EARSHOT, "run", "-c", cfg, "--workers", "2"], stderr=log)
        got = read_topic(boot, "earshot.windows", len(expected))
        values = sorted(comparable(m.value) for m in got)
        check(len(values) == len(expected), "windows on the topic: %d, replay: %d" % (len(values), len(expected)))
        check(values == expected, "the windows on earshot.windows equal the replay's")
        tops = {(json.loads(m.value)["query"], json.loads(m.value)["window_start"]): json.loads(m.value)["top_authors"][0]["author"]
                for m in got if json.loads(m.value)["top_authors"]}
        tops = {k: v for k, v in tops.items() if k in heavy}
        check(tops == heavy, "the heaviest author of every window is the replay's")
        check(all(m.key.decode() == json.loads(m.value)["query"] for m in got), "windows are keyed by query id")
        check(all(dict(m.headers).get("schema") == b"earshot.window.v1" for m in got), "schema header")
        alerts = read_topic(boot, "earshot.alerts", 1)
        check(len(alerts) >= 1 and json.loads(alerts[0].value)["query"] == "fees", "the incident reaches earshot.alerts")

        dlq = read_topic(boot, "earshot.dlq", 2)
        check(sorted(m.value for m in dlq) == sorted(bad), "dead letters carry the original bytes")
        reasons = sorted(dict(m.headers)["reason"].decode() for m in dlq)
        check(reasons == ["malformed_json", "no_text"], "dead-letter reasons %s" % reasons)
        check(all(dict(m.headers)["source.topic"] == b"mentions" and dict(m.headers)["source.offset"].isdigit()
                  for m in dlq), "dead letters name their source topic and offset")

        engine.send_signal(signal.SIGTERM)
        check(engine.wait(timeout=30) == 0, "SIGTERM: clean exit 0")
        engine = None

        # Restart in the same group, then add one mention an hour after the
        # stream: only its window may appear; nothing old is emitted again.
        engine = subprocess.Popen([EARSHOT, "run", "-c", cfg, "--workers", "2"], stderr=log)
        later = b'{"id":"late1","ts":"2026-01-05T06:00:00Z","text":"fee after the restart","author":"z"}'
        p = KafkaProducer(bootstrap_servers=boot, linger_ms=5)
        p.send("mentions", later)
        p.flush()
        p.close()
        after = read_topic(boot, "earshot.windows", len(expected) + 1)
        old = set(expected)
        new = [m.value.decode() for m in after if comparable(m.value) not in old]
        check(len(after) == len(expected) + 1, "after the restart exactly one new window (got %d new records)"
              % (len(after) - len(expected)))
        check(len(new) == 1 and '"window_start":"2026-01-05T06:00:00Z"' in new[0], "the new window is the new mention's: %s" % new)
        engine.send_signal(signal.SIGTERM)
        check(engine.wait(timeout=30) == 0, "second run exits 0")
        engine = None
    finally:
        if engine:
            engine.kill()
        stop_broker(broker)
        if tally["failed"] and os.path.exists(d + "/engine.log"):
            print("--- engine.log (without progress lines)")
            print("".join(l for l in open(d + "/engine.log") if 'msg="progress"' not in l)[-8000:])
        subprocess.run(["rm", "-rf", d])
    return finish()


sys.exit(main())
