#!/usr/bin/python3
"""SIGKILL during a hot reload (issue 19). `earshot run` on the embedded
broker reads mentions with a query file of two queries; the file is then
replaced by one with a third query, and the engine is killed (SIGKILL, via
EARSHOT_CRASH_AT=reload:1) just after compiling the new set, before
adopting it. Restarted on the same group and file, it must go on with the
new set: nothing the first run read is lost (at-least-once: every query of
both files counts at least what a replay of all the mentions counts, from
the windows on the topic), the third query's windows appear for the
mentions produced after the restart, and SIGTERM exits 0.

usage: kafka_reload_kill.py EARSHOT EARSHOT_GEN
Waits are on conditions (process exit, records), bounded by deadlines."""
import json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish, produce, read_topic, start_broker, stop_broker, wait_for  # noqa: E402

EARSHOT = sys.argv[1]
T0 = 1767571200000  # 2026-01-05T00:00:00Z
V1 = "queries:\n  - id: fees\n    query: fee\n  - id: app\n    query: app\n"
V2 = V1 + "  - id: delivery\n    query: delivery\n"
TEXTS = ["a fee again", "the app is down", "delivery late", "fee and app", "the delivery fee"]


def mentions(start, n, first_minute):
    return [json.dumps({"id": "m%d" % (start + i), "ts": T0 + first_minute * 60000 + 1000 * i,
                        "text": TEXTS[(start + i) % len(TEXTS)], "author": "u%d" % (i % 40)}) for i in range(n)]


def window_counts(boot):
    out = {}
    for r in read_topic(boot, "earshot.windows", deadline_s=2):
        v = json.loads(r.value)
        if not v.get("early"):
            out.setdefault(v["query"], []).append(v)
    return out


def main():
    d = tempfile.mkdtemp(prefix="earshot-reload-kill-")
    broker, boot = start_broker(EARSHOT, ["mentions:2", "earshot.windows:1", "earshot.alerts:1", "earshot.dlq:1"])
    eng = None
    try:
        qf = d + "/q.yaml"
        with open(qf, "w") as f:
            f.write(V1)
        first = mentions(0, 240, 0)  # minutes 0-3
        produce(boot, [m.encode() for m in first], partitions=2)
        with open(d + "/c.yaml", "w") as f:  # the killed member's session ends sooner
            f.write("kafka:\n  properties:\n    session.timeout.ms: 6000\n")
        args = [EARSHOT, "run", "-c", d + "/c.yaml", "--brokers", boot, "--group", "rk", "--queries", qf, "--idle-flush", "1s",
                "--no-progress", "--http", "off"]
        eng = subprocess.Popen(args, stderr=open(d + "/run1.log", "w"), env=dict(os.environ, EARSHOT_CRASH_AT="reload:1"))
        check(wait_for(lambda: "fees" in window_counts(boot), 60), "the first run publishes windows")
        with open(qf + ".new", "w") as f:
            f.write(V2)
        os.replace(qf + ".new", qf)
        try:
            rc = eng.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = None
        eng = None
        check(rc == -9, "killed (SIGKILL) at the reload, new set compiled, not adopted (%s)" % rc)
        check("EARSHOT_CRASH_AT=reload:1 reached" in open(d + "/run1.log").read(), "at the crash point")
        eng = subprocess.Popen(args, stderr=open(d + "/run2.log", "w"))
        later = mentions(240, 120, 5)  # minutes 5-6
        produce(boot, [m.encode() for m in later], partitions=2)
        with open(d + "/all.jsonl", "w") as f:
            f.write("\n".join(first + later) + "\n")
        ref = subprocess.run([EARSHOT, "replay", "--queries", qf, "--input", d + "/all.jsonl", "--no-progress",
                              "--no-reload", "--dlq-output", "/dev/null"], capture_output=True, text=True, check=True)
        want = {}
        for line in ref.stdout.splitlines():
            v = json.loads(line)
            want[v["query"]] = want.get(v["query"], 0) + v["count"]
        got = {}

        def enough():
            w = window_counts(boot)
            got.clear()
            got.update({q: sum(x["count"] for x in ws) for q, ws in w.items()})
            return all(got.get(q, 0) >= want[q] for q in ("fees", "app")) and \
                any(x["window_start"] >= "2026-01-05T00:05" for x in w.get("delivery", []))
        check(wait_for(enough, 90), "nothing lost: fees and app count at least the replay's %s (got %s), and the "
              "third query has windows after the restart" % ({q: want[q] for q in ("fees", "app")}, got))
        eng.send_signal(15)
        rc = eng.wait(timeout=60)
        eng = None
        check(rc == 0, "SIGTERM: exit 0 (%s)" % rc)
        check("queries=3" in open(d + "/run2.log").read(), "the restart runs the new file's three queries")
    finally:
        if eng:
            eng.kill()
        stop_broker(broker)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
