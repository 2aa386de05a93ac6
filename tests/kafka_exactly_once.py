#!/usr/bin/python3
"""Exactly-once output across kill -9 (`kafka.exactly_once: true`).

One engine reads a 2-partition mention topic without interruption (the
reference, its own group and output topics). Another, in its own group,
is killed with SIGKILL again and again at chosen points - while producing
windows, after its outputs were acknowledged but before the offset commit,
just after a commit, during the rebalance that assigns its partitions, on
its first record after a restart, and once from outside at an arbitrary
moment - and restarted each time; the last run goes to the end. Read by an
independent client (python3-kafka), its windows and alerts topics must
equal the reference's record for record, per key, in order. Dead letters
are at-least-once: every reference dead letter is there.

usage: kafka_exactly_once.py EARSHOT EARSHOT_GEN
Waits are on conditions (process exit, records), bounded by deadlines."""
import collections, os, signal, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import BAD, check, comparable, corpus, finish, produce, read_topic, start_broker, stop_broker, tally, wait_for  # noqa: E402

EARSHOT, GEN = sys.argv[1], sys.argv[2]
CRASHES = ["produce:150", "flushed:1", "committed:1", "assigned:1", "produce:1", "outside"]


def by_key(records):
    out = collections.defaultdict(list)
    for m in records:
        out[m.key.decode()].append(comparable(m.value))
    return out


def main():
    d = tempfile.mkdtemp(prefix="earshot-eo-")
    topics = ["mentions:4"] + ["%s.windows:2" % t for t in ("ref", "eo")] + ["%s.alerts:1" % t for t in ("ref", "eo")] \
        + ["%s.dlq:1" % t for t in ("ref", "eo")]
    broker, boot = start_broker(EARSHOT, topics)
    procs = []
    try:
        lines, bad = corpus(GEN, d, 10, 40000, 400, 11), BAD
        cfg = d + "/earshot.yaml"
        with open(cfg, "w") as f:
            f.write("queries: %s/q.yaml\nwindows:\n  sizes: [60s, 5m]\n  lateness: 10s\n  idle_flush: 2s\nprogress: false\n"
                    "kafka:\n  brokers: %s\n  commit_interval: 200ms\n  exactly_once: true\n"
                    "  properties:\n    fetch.wait.max.ms: 10\n    session.timeout.ms: 4500\n" % (d, boot))
        with open(d + "/in.jsonl", "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        subprocess.run([EARSHOT, "replay", "-c", cfg, "--input", d + "/in.jsonl", "--output", d + "/replay.jsonl",
                        "--dlq-output", d + "/replay.dlq"], check=True, stderr=subprocess.DEVNULL)
        with open(d + "/replay.jsonl") as f:
            n_windows = sum(1 for _ in f)
        check(n_windows > 500, "replay gives %d windows" % n_windows)
        produce(boot, lines, partitions=4)

        def engine(name, crash=None, run=0):
            env = dict(os.environ)
            env.pop("EARSHOT_CRASH_AT", None)
            if crash and crash != "outside":
                env["EARSHOT_CRASH_AT"] = crash
            log = open("%s/%s.%d.log" % (d, name, run), "w")
            p = subprocess.Popen([EARSHOT, "run", "-c", cfg, "--group", name, "--windows-topic", name + ".windows",
                                  "--alerts-topic", name + ".alerts", "--dlq-topic", name + ".dlq"],
                                 env=env, stderr=log)
            procs.append(p)
            return p

        def count(topic):
            return len(read_topic(boot, topic))

        # The reference: one uninterrupted run.
        ref = engine("ref", run=0)
        check(wait_for(lambda: count("ref.windows") >= n_windows, 120), "the reference run publishes every window")
        ref.send_signal(signal.SIGTERM)
        check(ref.wait(timeout=30) == 0, "the reference run stops cleanly")

        # The same input, killed at each point in turn, restarted each time.
        def log_has(run, text):
            with open("%s/eo.%d.log" % (d, run)) as f:
                return text in f.read()
        for run, crash in enumerate(CRASHES, 1):
            p = engine("eo", crash, run)
            if crash == "outside":  # at whatever point it has reached just after its assignment
                wait_for(lambda: log_has(run, "partition assigned"), 60)
                p.kill()
            try:
                rc = p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
            reached = crash == "outside" or log_has(run, "EARSHOT_CRASH_AT=%s reached" % crash)
            check(rc == -signal.SIGKILL and reached, "run %d killed with SIGKILL at %s (exit %s%s)"
                  % (run, crash, rc, "" if reached else ", the point was never reached"))
        final = engine("eo", run=len(CRASHES) + 1)
        check(wait_for(lambda: count("eo.windows") >= n_windows, 120), "after the restarts every window is published")
        final.send_signal(signal.SIGTERM)
        check(final.wait(timeout=30) == 0, "the last run stops cleanly")

        ref_w, eo_w = by_key(read_topic(boot, "ref.windows")), by_key(read_topic(boot, "eo.windows"))
        n_ref, n_eo = sum(map(len, ref_w.values())), sum(map(len, eo_w.values()))
        check(n_ref == n_windows and n_eo == n_windows, "windows: reference %d, after kills %d, replay %d"
              % (n_ref, n_eo, n_windows))
        diff = [k for k in ref_w if ref_w[k] != eo_w.get(k)]
        check(not diff and set(ref_w) == set(eo_w), "windows equal the reference record for record, per query, in order"
              + (" (differ for %s)" % diff[:3] if diff else ""))
        if diff:
            a, b = ref_w[diff[0]], eo_w.get(diff[0], [])
            i = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
            print("first difference for %s at %d:\n  reference %s\n  after kills %s"
                  % (diff[0], i, a[i] if i < len(a) else None, b[i] if i < len(b) else None))
        ref_a, eo_a = by_key(read_topic(boot, "ref.alerts")), by_key(read_topic(boot, "eo.alerts"))
        check(sum(map(len, ref_a.values())) > 0, "the incident raises alerts (%d)" % sum(map(len, ref_a.values())))
        check(ref_a == eo_a, "alerts equal the reference record for record (%d / %d)"
              % (sum(map(len, ref_a.values())), sum(map(len, eo_a.values()))))
        ref_d = [m.value for m in read_topic(boot, "ref.dlq")]
        eo_d = [m.value for m in read_topic(boot, "eo.dlq")]
        check(sorted(ref_d) == sorted(bad) and set(eo_d) == set(bad),
              "dead letters: every one is there (%d, %d with at-least-once repeats)" % (len(ref_d), len(eo_d)))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        stop_broker(broker)
        if tally["failed"]:
            for name in ["ref.0"] + ["eo.%d" % i for i in range(len(CRASHES) + 2)]:
                path = "%s/%s.log" % (d, name)
                if os.path.exists(path):
                    keep = [ln for ln in open(path) if 'msg="progress"' not in ln and "partition" not in ln]
                    print("--- %s.log\n%s" % (name, "".join(keep)[-3000:]))
        subprocess.run(["rm", "-rf", d])
    return finish()


sys.exit(main())
