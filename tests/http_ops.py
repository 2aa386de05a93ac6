#!/usr/bin/python3
"""The HTTP endpoint the way an operator and Prometheus use it: `earshot
replay` reading a pipe (so the run lasts as long as the test feeds it) with
--http 127.0.0.1:0, then `earshot run` on the embedded broker for readiness.

Checks: /healthz and /readyz; /metrics is valid Prometheus text (promtool
check metrics) and its counters equal what the run reports at the end; the
JSON API (status with redacted secrets, queries, windows, alerts) agrees
with the window records written to --output; the event stream delivers
window and alert events; a client that never reads is dropped and counted;
bearer-token auth; the limits (431, 413, 408, connection cap) answer and the
server stays up; readiness follows the broker going down and coming back.

usage: http_ops.py EARSHOT EARSHOT_GEN [readiness]
(`readiness`: only the `earshot run` part, on the embedded broker, which is
not run under ThreadSanitizer: the mock cluster crashes there)
Waits are on conditions, bounded by deadlines; nothing sleeps blindly."""
import json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish, produce, served_url, start_broker, stop_broker, wait_for  # noqa: E402

EARSHOT, GEN = sys.argv[1], sys.argv[2]


def get(url, token=None, timeout=10):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def raw(host, port, data, read=True, timeout=10):
    """Sends raw bytes; returns the status code of the answer (or None)."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return s
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        m = re.match(rb"HTTP/1.1 (\d+)", buf)
        return int(m.group(1)) if m else None
    finally:
        if read:
            s.close()


def metrics(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def url_of(log_path):
    url = served_url(log_path)
    check(url is not None, "the engine logs the URL it serves")
    return url


def replay_checks(d):
    subprocess.run([GEN, "queries", "--count", "8", "-o", d + "/q.yaml"], check=True)
    subprocess.run([GEN, "mentions", "--count", "30000", "--rate", "600", "--seed", "5", "--incident",
                    "fees@30m+10m*8", "-o", d + "/m.jsonl"], check=True)
    # Fifty hours at 20 a minute: some 20,000 windows (20 MB of events), more
    # than a client that never reads can be buffered for.
    subprocess.run([GEN, "mentions", "--count", "60000", "--rate", "20", "--seed", "6", "--start",
                    "2026-01-05T01:00:00Z", "-o", d + "/bulk.jsonl"], check=True)
    with open(d + "/token", "w") as f:
        f.write("s3cret-token\n")
    with open(d + "/c.yaml", "w") as f:
        f.write("http:\n  max_connections: 4\n  head_timeout: 300ms\n  token_file: %s/token\n" % d)
    eng = subprocess.Popen([EARSHOT, "replay", "-c", d + "/c.yaml", "--queries", d + "/q.yaml", "--http",
                            "127.0.0.1:0", "--output", d + "/w.jsonl", "--no-progress", "--early-updates", "50ms"],
                           stdin=subprocess.PIPE, stderr=open(d + "/engine.log", "w"))
    try:
        base = url_of(d + "/engine.log")
        host, port = re.match(r"http://([\d.]+):(\d+)/", base).groups()
        port = int(port)
        tok = "s3cret-token"
        # Before any input: alive, and ready (a file input is always ready).
        check(wait_for(lambda: get(base + "healthz")[0] == 200, 30), "/healthz answers 200 without a token")
        check(wait_for(lambda: get(base + "readyz")[0] == 200, 30), "/readyz answers 200 once the pipeline runs")
        # The probe the container image's HEALTHCHECK runs (no curl there).
        h = subprocess.run([EARSHOT, "health", base + "healthz"], capture_output=True, text=True)
        check(h.returncode == 0 and '"ok"' in h.stdout, "earshot health URL: exit 0 on 200 (%d %r)" % (h.returncode, h.stdout))
        h = subprocess.run([EARSHOT, "health", base + "metrics"], capture_output=True, text=True)
        check(h.returncode == 1 and "HTTP 401" in h.stderr, "earshot health: exit 1 on 401 (%d %r)" % (h.returncode, h.stderr))
        h = subprocess.run([EARSHOT, "health", "http://%s:1/healthz" % host, "--timeout", "2"], capture_output=True, text=True)
        check(h.returncode == 1 and "refused" in h.stderr, "earshot health: exit 1 when nothing listens (%r)" % h.stderr)
        # Auth.
        check(get(base + "metrics")[0] == 401, "/metrics without the token: 401")
        check(get(base + "metrics", "wrong")[0] == 401, "/metrics with a wrong token: 401")
        check(get(base + "metrics", tok)[0] == 200, "/metrics with Authorization: Bearer: 200")
        check(get(base + "api/v1/status?token=" + tok)[0] == 200, "?token= works where headers cannot be set")
        # The event stream: one reader that reads, one that never does.
        sse = subprocess.Popen(["curl", "-sN", "-H", "Authorization: Bearer " + tok, base + "api/v1/events"],
                               stdout=open(d + "/events.txt", "w"))
        stuck = raw(host, port, ("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % tok)
                    .encode(), read=False)
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        check(wait_for(lambda: metrics(get(base + "metrics", tok)[1]).get("earshot_sse_clients") == 2, 30),
              "two event-stream clients are counted")
        # Feed the run.
        with open(d + "/m.jsonl", "rb") as f:
            eng.stdin.write(f.read())
        eng.stdin.flush()
        n_lines = 30000
        check(wait_for(lambda: metrics(get(base + "metrics", tok)[1]).get("earshot_mentions_read_total") == n_lines, 60),
              "earshot_mentions_read_total reaches the %d lines fed" % n_lines)
        text = get(base + "metrics", tok)[1]
        with open(d + "/metrics.txt", "w") as f:
            f.write(text)
        if shutil.which("promtool"):
            r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
            check(r.returncode == 0, "promtool check metrics: clean (%s)" % (r.stdout + r.stderr).strip()[:300])
        else:
            check(False, "promtool is installed (deploy/install-deps.sh installs prometheus)")
        m = metrics(text)
        for name in ("earshot_build_info{version=\"0.1.0\"}", "earshot_stage_seconds_count{stage=\"match\"}",
                     "earshot_batches", "earshot_query_reloads_total{result=\"failure\"}"):
            check(name in m, "metric %s is exposed" % name)
        check(m["earshot_stage_seconds_count{stage=\"decode\"}"] >= n_lines / 64 - 100,
              "one mention in 64 is timed in decode (%d)" % m["earshot_stage_seconds_count{stage=\"decode\"}"])
        with open(d + "/bulk.jsonl", "rb") as f:
            eng.stdin.write(f.read())
        eng.stdin.flush()
        n_lines += 60000
        check(wait_for(lambda: metrics(get(base + "metrics", tok)[1]).get("earshot_mentions_read_total") == n_lines, 120),
              "then the bulk: %d lines read" % n_lines)
        check(wait_for(lambda: metrics(get(base + "metrics", tok)[1]).get("earshot_sse_dropped_total") == 1, 60),
              "the client that never reads is dropped and counted; the one that reads is not")
        check(metrics(get(base + "metrics", tok)[1]).get("earshot_sse_clients") == 1, "one event-stream client left")
        # Limits, while the stream is live: each answers and the server stays up.
        check(raw(host, port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n") == 431,
              "a 20 kB request head: 431")
        check(raw(host, port, b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n") == 413,
              "a 1 MB body: 413")
        slow = raw(host, port, b"GET /healthz HTTP/1.1\r\nHo", read=False)
        slow.settimeout(10)
        check(re.match(rb"HTTP/1.1 408", slow.recv(4096) or b"") is not None, "a head that does not arrive: 408")
        slow.close()
        check(raw(host, port, b"BREW / HTCPCP/1.0\r\n\r\n") == 400, "garbage: 400")
        held = [raw(host, port, b"GET /healthz HTTP/1.1\r\n", read=False) for _ in range(3)]
        check(raw(host, port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") == 503,
              "beyond max_connections (4, two of them event streams): 503")
        for s in held:
            s.close()
        check(wait_for(lambda: get(base + "healthz")[0] == 200, 10), "the server still answers after all that")
        # End of input: every window closes.
        eng.stdin.close()
        check(eng.wait(timeout=60) == 0, "the run ends cleanly")
        eng = None
        with open(d + "/w.jsonl") as f:
            recs = [json.loads(x) for x in f]
        closed = [r for r in recs if not r.get("early")]
        alerts = [r for r in closed if r.get("alert")]
        log = open(d + "/engine.log").read()
        fin = dict(re.findall(r"(\w+)=(\d+)", log[log.index('msg="finished"'):].splitlines()[0]))
        check(int(fin["windows"]) == len(closed), "the summary counts the closed windows written (%d)" % len(closed))
        sse.terminate()
        sse.wait(timeout=10)
        events = open(d + "/events.txt").read()
        check(events.count("event: window\n") > 0 and events.count("event: alert\n") == len(alerts),
              "the reading client got window events and every alert event (%d)" % len(alerts))
        check("event: early\n" in events and "event: status\n" in events, "and early updates and status events")
        stuck.close()
        return fin, closed, alerts
    finally:
        if eng:
            eng.kill()


def api_checks(d):
    """A second replay kept open after its input, to read the API at rest."""
    eng = subprocess.Popen([EARSHOT, "replay", "--queries", d + "/q.yaml", "--http", "127.0.0.1:0", "--output",
                            d + "/w2.jsonl", "--no-progress", "--idle-flush", "200ms", "--alerts-output",
                            d + "/a2.jsonl"], stdin=subprocess.PIPE, stderr=open(d + "/engine2.log", "w"))
    try:
        base = url_of(d + "/engine2.log")
        with open(d + "/m.jsonl", "rb") as f:
            eng.stdin.write(f.read())
        eng.stdin.flush()
        # The idle flush closes the last windows while the input stays open.
        def settled():
            s, b = get(base + "api/v1/status")
            try:
                st = json.loads(b)
            except ValueError:
                check(False, "status is JSON: %r" % b)
                return True
            now = s == 200 and st.get("mentions", {}).get("read") == 30000 and \
                os.path.getsize(d + "/w2.jsonl") > 0 and st["windows"] == sum(1 for _ in open(d + "/w2.jsonl"))
            # and it stays so for a second (the idle flush closes the last windows 200 ms after the input stops)
            seen.append((time.monotonic(), st.get("windows") if now else None))
            return now and all(w == st["windows"] for t, w in seen if t >= seen[-1][0] - 1.0) and \
                seen[0][0] <= seen[-1][0] - 1.0
        seen = []
        check(wait_for(settled, 60), "the status shows every line read and every window closed")
        recs = [json.loads(x) for x in open(d + "/w2.jsonl")]
        st = json.loads(get(base + "api/v1/status")[1])
        check(st["input"] == "stdin" and st["config"]["http"]["listen"] == "127.0.0.1:0", "status: input and config")
        qs = json.loads(get(base + "api/v1/queries")[1])
        ids = {r["query"] for r in recs}
        check({q["id"] for q in qs} == ids, "queries: every query with a window (%d)" % len(ids))
        last = {}
        for r in recs:
            last[r["query"]] = r
        check(all(q["latest"] == last[q["id"]] for q in qs), "each query's latest window is the last record written")
        fees = [r for r in recs if r["query"] == "fees"]
        ws = json.loads(get(base + "api/v1/queries/fees/windows")[1])["windows"]
        check([w["count"] for w in ws] == [r["count"] for r in fees[-len(ws):]] and len(ws) == min(120, len(fees)),
              "windows of fees: the last %d closed windows, counts as written" % len(ws))
        since = fees[-5]["window_start"]
        ws5 = json.loads(get(base + "api/v1/queries/fees/windows?size=60s&since=" + since)[1])["windows"]
        check(len(ws5) == 5, "?since= keeps the windows from that start on (%d)" % len(ws5))
        check(get(base + "api/v1/queries/nope/windows")[0] == 404, "an unknown query: 404")
        check(get(base + "api/v1/queries/fees/windows?size=abc")[0] == 400, "a bad size: 400")
        alerts = [json.loads(x) for x in open(d + "/a2.jsonl")]
        allv = json.loads(get(base + "api/v1/alerts?state=all")[1])
        check(allv == list(reversed(alerts))[:256], "alerts?state=all: the alert events, newest first (%d)" % len(allv))
        openv = json.loads(get(base + "api/v1/alerts?state=open")[1])
        still = {}
        for a in alerts:
            still[(a["query"], a["window_seconds"])] = a
        want = [a for a in still.values() if a["alert"]["state"] != "resolved"]
        check(sorted(json.dumps(a) for a in openv) == sorted(json.dumps(a) for a in want),
              "alerts?state=open: the last event of each alert not resolved (%d)" % len(openv))
        check(allv and all("expected" in a and "lift" in a and "p_value" in a and "terms" in a and "top_authors" in a
                           and a["alert"]["sample_ids"] is not None for a in allv),
              "alert events carry their explanation (expected, lift, p, terms, top authors, samples)")
        by_class = {}

        def classes_agree():
            # the status behind /metrics is at most 200 ms old: wait for it to catch up with the file
            recs[:] = [json.loads(x) for x in open(d + "/w2.jsonl")]
            by_class.clear()
            for r in recs:
                by_class[r["class"]] = by_class.get(r["class"], 0) + 1
            m = metrics(get(base + "metrics")[1])
            return all(m['earshot_windows_total{class="%s"}' % c] == n for c, n in by_class.items()) and \
                sum(v for k, v in m.items() if k.startswith("earshot_windows_total")) == len(recs)
        check(wait_for(classes_agree, 10), "earshot_windows_total by class equals the records written: %s" % by_class)
        m = metrics(get(base + "metrics")[1])
        opened = sum(1 for a in alerts if a["alert"]["state"] == "opened")
        resolved = sum(1 for a in alerts if a["alert"]["state"] == "resolved")
        check(sum(v for k, v in m.items() if k.startswith("earshot_alerts_opened_total")) == opened and
              sum(v for k, v in m.items() if k.startswith("earshot_alerts_resolved_total")) == resolved and
              m["earshot_alerts_open"] == len(want),
              "alerts opened / resolved / open in the metrics: %d / %d / %d" % (opened, resolved, len(want)))
        check(get(base + "api/v1/alerts?state=maybe")[0] == 400, "a bad state: 400")
        check(get(base + "nowhere")[0] == 404, "an unknown path: 404")
        eng.stdin.close()
        check(eng.wait(timeout=60) == 0, "the second run ends cleanly")
        eng = None
    finally:
        if eng:
            eng.kill()


def readiness_checks(d):
    """`earshot run`: not ready until the group is joined, not ready while
    the broker is down, ready again when it is back; secrets redacted."""
    broker, boot = start_broker(EARSHOT, ["mentions:2", "earshot.windows:1", "earshot.alerts:1", "earshot.dlq:1"])
    eng = None
    try:
        with open(d + "/run.yaml", "w") as f:
            f.write("kafka:\n  properties:\n    sasl.password: hunter2\n    client.id: ops-test\n")
        eng = subprocess.Popen([EARSHOT, "run", "-c", d + "/run.yaml", "--brokers", boot, "--group", "ops",
                                "--queries", d + "/q.yaml", "--http", "127.0.0.1:0", "--no-progress"],
                               stderr=open(d + "/run.log", "w"))
        base = url_of(d + "/run.log")
        check(wait_for(lambda: get(base + "readyz")[0] == 200, 60), "ready once the group is joined and partitions assigned")
        body = get(base + "api/v1/status")[1]
        st = json.loads(body)
        check(st["config"]["kafka"]["properties"]["sasl.password"] == "[redacted]" and "hunter2" not in body,
              "status: kafka secrets redacted")
        check(len(st["partitions"]) == 2, "status lists the 2 input partitions")
        produce(boot, [json.dumps({"ts": "2026-01-05T00:00:00Z", "text": "a fee", "author": "a"}).encode()])
        m = {}
        check(wait_for(lambda: metrics(get(base + "metrics")[1]).get("earshot_mentions_read_total") == 1, 30),
              "a produced mention is counted")
        broker.stdin.write("down 1\n")
        broker.stdin.flush()
        broker.stdout.readline()
        check(wait_for(lambda: get(base + "readyz")[0] == 503, 60), "broker down: /readyz 503")
        s, b = get(base + "readyz")
        check("broker" in b or "group" in b or "partition" in b, "with the reason: %s" % b.strip())
        check(get(base + "healthz")[0] == 200, "still alive (liveness is not readiness)")
        broker.stdin.write("up 1\n")
        broker.stdin.flush()
        broker.stdout.readline()
        check(wait_for(lambda: get(base + "readyz")[0] == 200, 90), "broker back: ready again")
        eng.send_signal(15)
        check(eng.wait(timeout=60) == 0, "SIGTERM: exit 0")
        eng = None
        check("hunter2" not in open(d + "/run.log").read(), "the secret is not in the logs")
    finally:
        if eng:
            eng.kill()
        stop_broker(broker)


def main():
    d = tempfile.mkdtemp(prefix="earshot-http-")
    try:
        if sys.argv[3:] == ["readiness"]:  # the Kafka part alone (ctest http_readiness; not under TSan)
            subprocess.run([GEN, "queries", "--count", "8", "-o", d + "/q.yaml"], check=True)
            readiness_checks(d)
            return finish()
        fin, closed, alerts = replay_checks(d)
        check(len(alerts) > 0, "the planted incident raised alerts (%d events)" % len(alerts))
        api_checks(d)
    finally:
        if os.environ.get("KEEP_TEST_DIR") is None:
            shutil.rmtree(d, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
