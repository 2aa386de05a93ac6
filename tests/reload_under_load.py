#!/usr/bin/python3
"""Query hot reload under load, through the CLI.

`earshot replay --workers 2` reads mentions from a pipe that a feeder
thread keeps full, while the query file is replaced 100 times: 50 valid
versions (each with its own number of queries) and 50 broken ones,
alternately; half of the replacements are announced with SIGHUP, the rest
only by the file-system event. After each replacement the test waits
(bounded) for the engine's log to show the outcome. Checks: every valid
version is loaded, every broken one is refused and the active set stays,
no other error, no crash (exit 0, every mention read), and the windows
only ever name queries of valid versions, including the last one's.

usage: reload_under_load.py EARSHOT EARSHOT_GEN"""
import datetime, json, os, re, signal, subprocess, sys, tempfile, threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish, tally, wait_for  # noqa: E402  (generic helpers)

EARSHOT, GEN = sys.argv[1], sys.argv[2]
ROUNDS = 100


def valid_version(k):
    """Valid version k: the topics, plus query vK_i for i < k//2 + 1."""
    qs = [("fees", "fee OR fees"), ("app", "app OR login")]
    qs += [("v%d_%d" % (k, i), "card NEAR/3 fee* OR \\\"customer service\\\"") for i in range(k // 2 + 1)]
    return qs


def write_queries(path, queries, broken=None):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("queries:\n")
        for qid, q in queries:
            f.write('  - id: %s\n    query: "%s"\n' % (qid, q))
        if broken:
            f.write('  - id: %s\n    query: "fee AND (card OR"\n' % broken)
    os.rename(tmp, path)  # editors and deploy tools replace files this way


def main():
    d = tempfile.mkdtemp(prefix="earshot-reload-")
    qpath, log_path = d + "/q.yaml", d + "/engine.log"
    subprocess.run([GEN, "mentions", "--count", "200000", "--rate", "2000", "--start", "2026-01-05T00:00:00Z", "-o", d + "/m.jsonl"], check=True)
    with open(d + "/m.jsonl", "rb") as f:
        lines = f.read().splitlines(keepends=True)
    write_queries(qpath, valid_version(0))
    log = open(log_path, "w")
    eng = subprocess.Popen([EARSHOT, "replay", "--queries", qpath, "--workers", "2", "--output", d + "/w.jsonl",
                            "--no-progress", "--idle-flush", "0", "--dlq-output", d + "/dlq.jsonl"], stdin=subprocess.PIPE, stderr=log)
    done = threading.Event()
    fed = [0]

    def feed():  # keeps the pipe full until told to stop, cycling through the mentions a day later each time
        i, cycle, day0 = 0, 0, datetime.date(2026, 1, 5)
        try:
            while not done.is_set():
                chunk = b"".join(lines[i:i + 500])
                if cycle:  # both timestamp forms the generator writes move on by `cycle` days
                    day = (day0 + datetime.timedelta(days=cycle)).isoformat().encode()
                    chunk = chunk.replace(b'"ts":"2026-01-05', b'"ts":"' + day)
                    chunk = re.sub(rb'"ts":(\d{13})', lambda m: b'"ts":%d' % (int(m.group(1)) + cycle * 86400000), chunk)
                eng.stdin.write(chunk)
                fed[0] += len(lines[i:i + 500])
                i += 500
                if i >= len(lines):
                    i, cycle = 0, cycle + 1
        except BrokenPipeError:
            pass
    feeder = threading.Thread(target=feed)
    feeder.start()

    def log_text():
        with open(log_path) as f:
            return f.read()
    valid_seen = broken_seen = 0
    try:
        check(wait_for(lambda: "reloading the queries on change" in log_text(), 30), "the engine watches its query file")
        for k in range(1, ROUNDS + 1):
            if k % 2:
                write_queries(qpath, valid_version(k), broken="broken%d" % k)
                want = "query 'broken%d'" % k
            else:
                write_queries(qpath, valid_version(k))
                want = "queries=%d " % len(valid_version(k))
            if k % 4 < 2:
                eng.send_signal(signal.SIGHUP)
            ok = wait_for(lambda: want in log_text(), 20)
            if k % 2:
                broken_seen += ok
            else:
                valid_seen += ok
            if not ok:
                check(False, "round %d: the engine never reported '%s'" % (k, want))
                break
        check(valid_seen == ROUNDS // 2, "every valid version was loaded (%d)" % valid_seen)
        check(broken_seen == ROUNDS // 2, "every broken version was refused with its query id (%d)" % broken_seen)
        done.set()
        feeder.join()
        eng.stdin.close()
        rc = eng.wait(timeout=120)
        check(rc == 0, "the engine finished cleanly under reloads (exit %d)" % rc)
        text = log_text()
        errors = [ln for ln in text.splitlines() if "level=error" in ln and "query reload failed" not in ln]
        check(not errors, "no other error: %s" % errors[:2])
        fin = [ln for ln in text.splitlines() if 'msg="finished"' in ln]
        check(fin and ("lines=%d " % fed[0]) in fin[0], "every mention fed was read (%d): %s" % (fed[0], fin[:1]))
        ids = set()
        with open(d + "/w.jsonl") as f:
            for ln in f:
                ids.add(json.loads(ln)["query"])
        valid_ids = {qid for k in range(0, ROUNDS + 1, 2) for qid, _ in valid_version(k)}
        check(ids <= valid_ids, "windows only name queries of valid versions (%s)" % sorted(ids - valid_ids)[:3])
        check("v%d_0" % ROUNDS in ids, "the last valid version's queries have windows")
        check("fees" in ids, "queries kept across versions keep their windows")
    finally:
        done.set()
        if eng.poll() is None:
            eng.kill()
        if tally["failed"]:
            print("".join(ln for ln in open(log_path) if "progress" not in ln)[-4000:])
        subprocess.run(["rm", "-rf", d])
    return finish()


sys.exit(main())
