#!/usr/bin/python3
"""A 10x input burst keeps memory bounded (issue 19): `earshot replay`
(1,000 queries, windows of 60 s and 1 h) over the same generated stream
with and without a 10x burst on every topic for 30 minutes; the burst's
peak resident memory (wait4's ru_maxrss) may exceed the steady stream's by
at most max(20 %, 16 MB). What bounds it: the fixed batch pool and
fixed-size window summaries (HyperLogLog, Space-Saving counters, a few
near-duplicate clusters), whatever a window holds.

usage: burst_memory.py EARSHOT EARSHOT_GEN"""
import os, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish  # noqa: E402

EARSHOT, GEN = sys.argv[1], sys.argv[2]


def peak_mb(args):
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    check(os.waitstatus_to_exitcode(status) == 0, "%s exits 0" % " ".join(os.path.basename(x) for x in args[:2]))
    return ru.ru_maxrss / 1024.0


def main():
    d = tempfile.mkdtemp(prefix="earshot-burst-")
    try:
        subprocess.run([GEN, "queries", "--count", "1000", "-o", d + "/q.yaml"], check=True)
        common = ["--count", "200000", "--rate", "2000", "--seed", "5"]
        subprocess.run([GEN, "mentions"] + common + ["-o", d + "/steady.jsonl"], check=True)
        inc = []
        for topic in ("fees", "app", "delivery", "support", "rewards", "branch"):
            inc += ["--incident", "%s@20m+30m*10" % topic]
        subprocess.run([GEN, "mentions"] + common + inc + ["-o", d + "/burst.jsonl"], check=True)
        lines = [sum(1 for _ in open(d + "/%s.jsonl" % n)) for n in ("steady", "burst")]
        run = [EARSHOT, "replay", "--queries", d + "/q.yaml", "--output", "/dev/null", "--no-progress", "--no-reload",
               "--dlq-output", "/dev/null", "--window", "60s,1h", "--input"]
        steady = peak_mb(run + [d + "/steady.jsonl"])
        burst = peak_mb(run + [d + "/burst.jsonl"])
        bound = steady + max(0.2 * steady, 16)
        check(burst <= bound, "peak RSS under a 10x burst %.0f MB (%d lines) vs %.0f MB steady (%d lines): "
              "at most %.0f MB" % (burst, lines[1], steady, lines[0], bound))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
