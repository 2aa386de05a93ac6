#!/usr/bin/python3
"""The broker goes down and comes back while `earshot run` works.

A first day of mentions is on the topic when the engine starts; once its
first windows are out, the embedded broker is taken down (`down 1` on its
control stdin), and brought back once the engine has logged the outage;
then a second day of mentions is produced. The engine must stay up, say
what happened in its log, and publish exactly the windows that `earshot
replay` computes from both days: nothing lost, nothing twice.

usage: kafka_faults.py EARSHOT EARSHOT_GEN
Waits are on conditions (log lines, records), bounded by deadlines."""
import os, signal, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, comparable, finish, produce, read_topic, start_broker, stop_broker, tally, wait_for  # noqa: E402

EARSHOT, GEN = sys.argv[1], sys.argv[2]


def control(broker, cmd):
    broker.stdin.write(cmd + "\n")
    broker.stdin.flush()
    reply = broker.stdout.readline().strip()
    check(reply.startswith("ok"), "broker control '%s': %s" % (cmd, reply))


def main():
    d = tempfile.mkdtemp(prefix="earshot-faults-")
    broker, boot = start_broker(EARSHOT, ["mentions:4", "earshot.windows:4", "earshot.alerts:1", "earshot.dlq:1"])
    engine = None
    log_path = d + "/engine.log"
    try:
        subprocess.run([GEN, "queries", "--count", "10", "-o", d + "/q.yaml"], check=True)
        days = []
        for i, start in enumerate(("2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z")):
            path = "%s/day%d.jsonl" % (d, i)
            subprocess.run([GEN, "mentions", "--count", "12000", "--rate", "200", "--seed", str(20 + i),
                            "--start", start, "-o", path], check=True)
            with open(path, "rb") as f:
                days.append(f.read().splitlines())
        with open(d + "/all.jsonl", "wb") as f:
            f.write(b"\n".join(days[0] + days[1]) + b"\n")
        cfg = d + "/earshot.yaml"
        with open(cfg, "w") as f:
            f.write("queries: %s/q.yaml\nwindows:\n  lateness: 10s\n  idle_flush: 1s\nprogress: false\n"
                    "kafka:\n  brokers: %s\n  group: faults\n  commit_interval: 200ms\n"
                    "  properties:\n    fetch.wait.max.ms: 10\n    session.timeout.ms: 6000\n"
                    "    reconnect.backoff.max.ms: 500\n" % (d, boot))
        subprocess.run([EARSHOT, "replay", "-c", cfg, "--input", d + "/all.jsonl", "--output", d + "/expected.jsonl"],
                       check=True, stderr=subprocess.DEVNULL)
        with open(d + "/expected.jsonl") as f:
            expected = sorted(comparable(v) for v in f.read().splitlines())
        produce(boot, days[0])
        engine = subprocess.Popen([EARSHOT, "run", "-c", cfg], stderr=open(log_path, "w"))

        def log_lines():
            with open(log_path) as f:
                return f.read().splitlines()
        check(wait_for(lambda: len(read_topic(boot, "earshot.windows", 1, deadline_s=2)) >= 1, 60),
              "the engine publishes its first windows")
        before = len(log_lines())
        control(broker, "down 1")
        outage = []

        def logged():
            outage[:] = [ln for ln in log_lines()[before:] if 'msg="kafka"' in ln]
            return len(outage) >= 3
        check(wait_for(logged, 60), "the engine logs the outage and its failed reconnects (%d lines): %s"
              % (len(outage), outage[-1:]))
        check(engine.poll() is None, "the engine is still running during the outage")
        control(broker, "up 1")
        produce(boot, days[1])
        got = []

        def complete():
            got[:] = read_topic(boot, "earshot.windows", len(expected), deadline_s=5)
            return len(got) >= len(expected)
        check(wait_for(complete, 120), "after the outage every window arrives (%d of %d)" % (len(got), len(expected)))
        values = sorted(comparable(m.value) for m in got)
        check(values == expected, "the windows equal the replay's: nothing lost, nothing twice")
        engine.send_signal(signal.SIGTERM)
        check(engine.wait(timeout=30) == 0, "SIGTERM: clean exit 0")
        engine = None
        again = read_topic(boot, "earshot.windows")
        check(len(again) == len(expected), "no window published twice (%d records)" % len(again))
    finally:
        if engine:
            engine.kill()
        stop_broker(broker)
        if tally["failed"] and os.path.exists(log_path):
            print("".join(ln for ln in open(log_path) if 'msg="progress"' not in ln)[-6000:])
        subprocess.run(["rm", "-rf", d])
    return finish()


sys.exit(main())
