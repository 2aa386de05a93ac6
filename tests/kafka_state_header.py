#!/usr/bin/python3
"""A corrupted or foreign `earshot.state` header on the windows topic, read
back by an exactly-once restart (issue 19). An independent client
(python3-kafka) writes into earshot.windows, before the engine starts: a
record with no headers at all (not ours), a window record of query `fees`
whose state header is garbage, one whose state holds NaN, and one whose
state header is missing. `earshot run --exactly-once` must refuse the three
(a warning that counts them and says where the first is), count the
foreign one apart, never crash, and go on: the mentions produced after it
are counted in windows on the topic, and SIGTERM exits 0.

usage: kafka_state_header.py EARSHOT EARSHOT_GEN
Waits are on conditions (log lines, records), bounded by deadlines."""
import json, os, re, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish, produce, read_topic, start_broker, stop_broker, wait_for  # noqa: E402
from kafka import KafkaProducer  # noqa: E402

EARSHOT = sys.argv[1]
END = 1767571260000  # the end of the first minute of 2026-01-05


def main():
    d = tempfile.mkdtemp(prefix="earshot-state-")
    broker, boot = start_broker(EARSHOT, ["mentions:1", "earshot.windows:1", "earshot.alerts:1", "earshot.dlq:1"])
    eng = None
    try:
        with open(d + "/q.yaml", "w") as f:
            f.write("queries:\n  - id: fees\n    query: fee\n")
        p = KafkaProducer(bootstrap_servers=boot)
        win = ("earshot.window", b"60000 %d 0" % END)
        p.send("earshot.windows", key=b"other", value=b"{}")
        p.send("earshot.windows", key=b"fees", value=b"{}", headers=[win, ("earshot.state", b"v5 not a state")])
        p.send("earshot.windows", key=b"fees", value=b"{}",
               headers=[win, ("earshot.state", b"v5 " + b" ".join([b"nan"] * 22) + b" 0" * 60)])
        p.send("earshot.windows", key=b"fees", value=b"{}", headers=[win])
        p.flush()
        p.close()
        eng = subprocess.Popen([EARSHOT, "run", "--brokers", boot, "--group", "state", "--queries", d + "/q.yaml",
                                "--exactly-once", "--idle-flush", "1s", "--no-progress", "--http", "off"],
                               stderr=open(d + "/engine.log", "w"))
        log = lambda: open(d + "/engine.log").read()  # noqa: E731
        check(wait_for(lambda: "exactly-once: read the output topics" in log(), 60), "the restart reads the topics")
        m = re.search(r'unreadable detector state.*refused=(\d+) first=(\S+)', log())
        check(m is not None and m.group(1) == "3", "a warning: 3 window records refused (%s)" % (m and m.group(0)))
        check(m is not None and m.group(2) == "earshot.windows/0/1", "it says where the first is (%s)" % (m and m.group(2)))
        check(re.search(r"other_records=1\b", log()) is not None, "the record without headers is counted apart")
        produce(boot, [json.dumps({"id": "m%d" % i, "ts": END + 1000 * i, "text": "a fee again",
                                   "author": "u%d" % i}).encode() for i in range(30)])
        got = []

        def counted():
            got[:] = [json.loads(r.value) for r in read_topic(boot, "earshot.windows", deadline_s=2)
                      if r.value != b"{}"]
            return sum(r["count"] for r in got if r["query"] == "fees" and not r.get("early")) == 30
        check(wait_for(counted, 60), "the mentions after it are counted in windows on the topic (%d records)" % len(got))
        eng.send_signal(15)
        rc = eng.wait(timeout=60)
        eng = None
        check(rc == 0, "SIGTERM: exit 0 (%s)" % rc)
        check("AddressSanitizer" not in log() and "runtime error" not in log(), "no sanitizer report")
    finally:
        if eng:
            eng.kill()
        stop_broker(broker)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
