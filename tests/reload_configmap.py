#!/usr/bin/python3
"""Query hot reload from a Kubernetes ConfigMap volume, through the CLI.

A ConfigMap volume holds each key as a link `queries.yaml -> ..data/queries.yaml`,
`..data` being itself a link to a timestamped directory. An update writes a
new timestamped directory, points a new link `..data_tmp` at it, renames
`..data_tmp` over `..data` (atomic) and removes the old directory: the file's
own name sees no event. This test builds such a directory, runs
`earshot replay --queries DIR/queries.yaml` on a pipe, swaps the directory
three times the same way (no SIGHUP) and checks that each version is loaded
(its query count in the log), that windows after the last swap name its
queries, and that the run ends cleanly with every mention read.

usage: reload_configmap.py EARSHOT EARSHOT_GEN"""
import json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish, tally, wait_for  # noqa: E402  (generic helpers)

EARSHOT, GEN = sys.argv[1], sys.argv[2]


def version(k):
    """Version k: the fee query, plus k+1 queries named vK_i."""
    qs = [("fees", "fee OR fees")]
    return qs + [("v%d_%d" % (k, i), "card OR app OR login") for i in range(k + 1)]


def publish(cm, k):
    """Writes version k into ConfigMap volume directory `cm` as the kubelet does."""
    ts = os.path.join(cm, "..2026_12_07_00_00_0%d.00000000%d" % (k, k))
    os.mkdir(ts)
    with open(os.path.join(ts, "queries.yaml"), "w") as f:
        f.write("queries:\n")
        for qid, q in version(k):
            f.write('  - id: %s\n    query: "%s"\n' % (qid, q))
    data = os.path.join(cm, "..data")
    old = os.path.realpath(data) if os.path.islink(data) else None
    tmp = os.path.join(cm, "..data_tmp")
    os.symlink(os.path.basename(ts), tmp)
    os.rename(tmp, data)
    link = os.path.join(cm, "queries.yaml")
    if not os.path.islink(link):
        os.symlink("..data/queries.yaml", link)
    if old:
        subprocess.run(["rm", "-rf", old], check=True)


def main():
    d = tempfile.mkdtemp(prefix="earshot-configmap-")
    cm, log_path = d + "/cm", d + "/engine.log"
    os.mkdir(cm)
    publish(cm, 0)
    subprocess.run([GEN, "mentions", "--count", "40000", "--rate", "1000", "--start", "2026-01-05T00:00:00Z",
                    "-o", d + "/m.jsonl"], check=True)
    with open(d + "/m.jsonl", "rb") as f:
        lines = f.read().splitlines(keepends=True)
    quarter = len(lines) // 4
    log = open(log_path, "w")
    eng = subprocess.Popen([EARSHOT, "replay", "--queries", cm + "/queries.yaml", "--output", d + "/w.jsonl",
                            "--no-progress", "--idle-flush", "0", "--dlq-output", d + "/dlq.jsonl"],
                           stdin=subprocess.PIPE, stderr=log)

    def log_text():
        with open(log_path) as f:
            return f.read()
    try:
        check(wait_for(lambda: "reloading the queries on change" in log_text(), 30), "the engine watches its query file")
        eng.stdin.write(b"".join(lines[:quarter]))
        eng.stdin.flush()
        for k in (1, 2, 3):
            publish(cm, k)
            want = "queries=%d " % len(version(k))
            check(wait_for(lambda: want in log_text(), 20), "swap %d: version %d loaded through the ..data link (%s)" % (k, k, want))
            eng.stdin.write(b"".join(lines[k * quarter:(k + 1) * quarter if k < 3 else len(lines)]))
            eng.stdin.flush()
        eng.stdin.close()
        rc = eng.wait(timeout=120)
        check(rc == 0, "the engine finished cleanly (exit %d)" % rc)
        text = log_text()
        check(text.count("queries reloaded") == 3, "one reload per swap (%d)" % text.count("queries reloaded"))
        fin = [ln for ln in text.splitlines() if 'msg="finished"' in ln]
        check(fin and ("lines=%d " % len(lines)) in fin[0], "every mention was read: %s" % fin[:1])
        ids = set()
        with open(d + "/w.jsonl") as f:
            for ln in f:
                ids.add(json.loads(ln)["query"])
        check({q for q, _ in version(3)} <= ids, "the last version's queries have windows (%s)" % sorted(ids))
    finally:
        if eng.poll() is None:
            eng.kill()
        if tally["failed"]:
            print(log_text()[-4000:])
        subprocess.run(["rm", "-rf", d])
    return finish()


sys.exit(main())
