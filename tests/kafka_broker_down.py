#!/usr/bin/python3
"""The broker down for a minute and back (issue 19). `earshot run` on the
embedded broker has read and published part of a stream when its only
broker goes down; for 60 s the engine must stay up, alive (/healthz 200)
and not ready (/readyz 503); when the broker is back it becomes ready
again, reads the rest, and nothing is lost: at-least-once, so every query
counts at least what a replay of all the mentions counts (duplicates,
windows published twice around the outage, are allowed and reported).

usage: kafka_broker_down.py EARSHOT EARSHOT_GEN
Waits are on conditions, bounded by deadlines; the minute of outage is
the fault itself, checked throughout."""
import json, os, subprocess, sys, tempfile, time, urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish, produce, read_topic, served_url, start_broker, stop_broker, wait_for  # noqa: E402

EARSHOT = sys.argv[1]
T0 = 1767571200000  # 2026-01-05T00:00:00Z
TEXTS = ["a fee again", "the app is down", "fee and app", "my card fee"]


def mentions(start, n, first_minute):
    return [json.dumps({"id": "m%d" % (start + i), "ts": T0 + first_minute * 60000 + 500 * i,
                        "text": TEXTS[(start + i) % len(TEXTS)], "author": "u%d" % (i % 50)}) for i in range(n)]


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def control(broker, cmd):
    broker.stdin.write(cmd + "\n")
    broker.stdin.flush()
    return broker.stdout.readline().strip()


def sums(boot):
    out, n = {}, 0
    for r in read_topic(boot, "earshot.windows", deadline_s=2):
        v = json.loads(r.value)
        if not v.get("early"):
            out[v["query"]] = out.get(v["query"], 0) + v["count"]
            n += 1
    return out, n


def main():
    d = tempfile.mkdtemp(prefix="earshot-broker-down-")
    broker, boot = start_broker(EARSHOT, ["mentions:2", "earshot.windows:1", "earshot.alerts:1", "earshot.dlq:1"])
    eng = None
    try:
        with open(d + "/q.yaml", "w") as f:
            f.write("queries:\n  - id: fees\n    query: fee\n  - id: app\n    query: app\n")
        first, later = mentions(0, 480, 0), mentions(480, 480, 5)
        produce(boot, [m.encode() for m in first], partitions=2)
        eng = subprocess.Popen([EARSHOT, "run", "--brokers", boot, "--group", "down", "--queries", d + "/q.yaml",
                                "--idle-flush", "1s", "--no-progress", "--http", "127.0.0.1:0"],
                               stderr=open(d + "/engine.log", "w"))
        base = served_url(d + "/engine.log")
        check(wait_for(lambda: status(base + "readyz") == 200, 60), "ready")
        check(wait_for(lambda: sums(boot)[0].get("fees", 0) > 0, 60), "windows published before the outage")
        check(control(broker, "down 1").startswith("ok"), "the broker goes down")
        end = time.monotonic() + 60
        alive = True
        not_ready = False
        while time.monotonic() < end:
            h = status(base + "healthz")
            if eng.poll() is not None or h != 200:
                print("at %.0f s: engine %s, /healthz %s" % (60 - (end - time.monotonic()), eng.poll(), h),
                      file=sys.stderr)
                alive = False
            not_ready |= status(base + "readyz") == 503
            time.sleep(1)  # the outage lasts a minute; liveness is checked each second of it
        check(alive, "for the whole minute the engine runs and /healthz answers 200")
        check(not_ready, "and /readyz answers 503")
        check(control(broker, "up 1").startswith("ok"), "the broker is back")
        check(wait_for(lambda: status(base + "readyz") == 200, 90), "ready again")
        produce(boot, [m.encode() for m in later], partitions=2)
        with open(d + "/all.jsonl", "w") as f:
            f.write("\n".join(first + later) + "\n")
        ref = subprocess.run([EARSHOT, "replay", "--queries", d + "/q.yaml", "--input", d + "/all.jsonl",
                              "--no-progress", "--no-reload", "--dlq-output", "/dev/null"],
                             capture_output=True, text=True, check=True)
        want, nref = {}, 0
        for line in ref.stdout.splitlines():
            v = json.loads(line)
            want[v["query"]] = want.get(v["query"], 0) + v["count"]
            nref += 1
        got = [{}, 0]

        def complete():
            got[:] = sums(boot)
            return all(got[0].get(q, 0) >= n for q, n in want.items())
        check(wait_for(complete, 120), "nothing lost: every query counts at least the replay's %s (got %s)" % (want, got[0]))
        print("windows on the topic: %d, in the replay: %d (at-least-once: windows around the outage may be "
              "published twice)" % (got[1], nref), file=sys.stderr)
        eng.send_signal(15)
        rc = eng.wait(timeout=60)
        eng = None
        check(rc == 0, "SIGTERM: exit 0 (%s)" % rc)
    finally:
        if eng:
            eng.kill()
        stop_broker(broker)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
