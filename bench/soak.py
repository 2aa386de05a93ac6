#!/usr/bin/env python3
"""Soak: `earshot run` on the embedded broker under a steady generated
stream for N minutes, with hot reloads of the query file, /metrics and API
scrapes, an event-stream client and early updates, sampling the engine's
resident memory, open file descriptors and threads every second.

After the warm-up (the first fifth of the run, at least 30 s), each series'
least-squares slope is reported per minute, and growth is bounded: RSS at
the end at most the warm-up's peak plus max(10 %, 16 MB), file
descriptors and threads at most their warm-up peak plus 2. With --png, a
gnuplot plot of the three series.

    soak.py --earshot BIN --gen BIN --minutes N [--rate R] [--out DIR] [--json FILE] [--png FILE]

The stream: R mentions a second (default 2,000), each 30 ms of event time
after the last, so a 60 s window closes about every real second and every
query keeps getting windows; 200 generated queries, the query file
rewritten (two versions in turn) every 30 s."""
import argparse, json, os, re, subprocess, sys, tempfile, threading, time, urllib.request

from kafka import KafkaProducer


def rss_fds_threads(pid):
    with open("/proc/%d/status" % pid) as f:
        st = f.read()
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", st).group(1)) / 1024.0
    thr = int(re.search(r"Threads:\s+(\d+)", st).group(1))
    return rss, len(os.listdir("/proc/%d/fd" % pid)), thr


def slope(xs, ys):
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--earshot", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--out")
    ap.add_argument("--json")
    ap.add_argument("--png")
    a = ap.parse_args()
    d = a.out or tempfile.mkdtemp(prefix="earshot-soak-")
    os.makedirs(d, exist_ok=True)
    q1, q2, qf = d + "/q1.yaml", d + "/q2.yaml", d + "/queries.yaml"
    subprocess.run([a.gen, "queries", "--count", "200", "--seed", "1", "-o", q1], check=True)
    subprocess.run([a.gen, "queries", "--count", "200", "--seed", "2", "-o", q2], check=True)
    subprocess.run([a.gen, "mentions", "--count", "50000", "--rate", "2000", "--seed", "3", "-o", d + "/m.jsonl"],
                   check=True)
    texts = [json.loads(x) for x in open(d + "/m.jsonl")]
    with open(q1) as f, open(qf, "w") as g:
        g.write(f.read())
    broker = subprocess.Popen([a.earshot, "broker", "--topic", "mentions:4", "--topic", "earshot.windows:4", "--topic",
                               "earshot.alerts:1", "--topic", "earshot.dlq:1"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    boot = broker.stdout.readline().strip()
    log = open(d + "/engine.log", "w")
    eng = subprocess.Popen([a.earshot, "run", "--brokers", boot, "--group", "soak", "--queries", qf, "--http",
                            "127.0.0.1:0", "--early-updates", "1s", "--idle-flush", "5s", "--no-progress"], stderr=log)
    stop = threading.Event()
    counts = {"produced": 0, "scrapes": 0, "reloads": 0, "errors": 0}
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            m = re.search(r"url=(\S+)", open(d + "/engine.log").read())
            url = m.group(1) if m else None
            time.sleep(0.1)  # polling the log for the address, bounded by the deadline
        if url is None:
            raise SystemExit("soak: the engine did not start serving HTTP")

        def produce():
            p = KafkaProducer(bootstrap_servers=boot, linger_ms=5)
            ts = 1767571200000  # 2026-01-05T00:00:00Z
            i = 0
            t0 = time.monotonic()
            while not stop.is_set():
                for _ in range(a.rate // 10):
                    m = dict(texts[i % len(texts)])
                    ts += 30
                    m["ts"] = ts
                    m["id"] = "s%d" % i
                    p.send("mentions", json.dumps(m).encode())
                    i += 1
                counts["produced"] = i
                # pace to the rate: each tenth of a second gets its share
                ahead = i / a.rate - (time.monotonic() - t0)
                if ahead > 0:
                    stop.wait(ahead)
            p.flush()

        def scrape():
            k = 0
            while not stop.is_set():
                try:
                    urllib.request.urlopen(url + "metrics", timeout=10).read()
                    if k % 5 == 0:
                        urllib.request.urlopen(url + "api/v1/queries", timeout=10).read()
                        urllib.request.urlopen(url + "api/v1/alerts?state=all", timeout=10).read()
                    counts["scrapes"] += 1
                except OSError:
                    counts["errors"] += 1
                k += 1
                stop.wait(1.0)

        def reload():
            k = 0
            while not stop.wait(30):
                k += 1
                with open(q2 if k % 2 else q1) as f, open(qf + ".new", "w") as g:
                    g.write(f.read())
                os.replace(qf + ".new", qf)
                counts["reloads"] += 1

        sse = subprocess.Popen(["curl", "-sN", url + "api/v1/events"], stdout=subprocess.DEVNULL)
        threads = [threading.Thread(target=f) for f in (produce, scrape, reload)]
        for t in threads:
            t.start()
        samples = []
        t0 = time.monotonic()
        end = t0 + a.minutes * 60
        while time.monotonic() < end and eng.poll() is None:
            r, fd, th = rss_fds_threads(eng.pid)
            samples.append((time.monotonic() - t0, r, fd, th))
            time.sleep(1)  # the sampling period
        alive = eng.poll() is None
        stop.set()
        for t in threads:
            t.join()
        sse.terminate()
        sse.wait()
        metrics = urllib.request.urlopen(url + "metrics", timeout=10).read().decode() if alive else ""
    finally:
        stop.set()
        if eng.poll() is None:
            eng.send_signal(15)
            eng.wait(timeout=120)
        broker.send_signal(15)
        broker.wait(timeout=30)
    warm = max(30.0, a.minutes * 60 / 5)
    after = [s for s in samples if s[0] >= warm]
    before = [s for s in samples if s[0] < warm]
    res = {"minutes": a.minutes, "rate": a.rate, "samples": len(samples), "warmup_s": warm,
           "engine_alive": alive, "exit_code": eng.returncode, **counts}
    read = re.search(r"^earshot_mentions_read_total (\S+)", metrics, re.M)
    res["mentions_read"] = float(read.group(1)) if read else 0
    reloads = re.search(r'^earshot_query_reloads_total\{result="success"\} (\S+)', metrics, re.M)
    res["reloads_adopted"] = float(reloads.group(1)) if reloads else 0
    ok = alive and after and before
    for i, name, unit in ((1, "rss", "MB"), (2, "fds", ""), (3, "threads", "")):
        xs = [s[0] / 60 for s in after]
        ys = [s[i] for s in after]
        res[name + "_slope_per_min"] = slope(xs, ys) if after else None
        res[name + "_warm_peak"] = max(s[i] for s in before) if before else None
        res[name + "_end"] = after[-1][i] if after else None
        res[name + "_max_after"] = max(ys) if ys else None
    if ok:
        rss_bound = res["rss_warm_peak"] + max(0.1 * res["rss_warm_peak"], 16)
        res["rss_bound"] = rss_bound
        ok = (res["rss_end"] <= rss_bound and res["fds_max_after"] <= res["fds_warm_peak"] + 2 and
              res["threads_max_after"] <= res["threads_warm_peak"] + 2)
    res["bounded"] = bool(ok)
    with open(d + "/samples.tsv", "w") as f:
        f.write("seconds\trss_mb\tfds\tthreads\n")
        for s in samples:
            f.write("%.1f\t%.1f\t%d\t%d\n" % s)
    if a.png and samples:
        gp = ("set terminal pngcairo size 1000,600\nset output '%s'\nset xlabel 'minutes'\nset ylabel 'RSS (MB)'\n"
              "set y2label 'file descriptors, threads'\nset ytics nomirror\nset y2tics\nset key top left\n"
              "set title 'earshot run soak: %d mentions/s, reloads every 30 s, scrapes every 1 s, SSE client'\n"
              "set yrange [0:*]\nset y2range [0:*]\n"
              "plot '%s' using ($1/60):2 with lines lw 2 title 'RSS (MB)', "
              "'' using ($1/60):3 axes x1y2 with lines title 'open fds', "
              "'' using ($1/60):4 axes x1y2 with lines title 'threads'\n") % (a.png, a.rate, d + "/samples.tsv")
        subprocess.run(["gnuplot"], input=gp, text=True, check=False)
    print("soak: %(minutes)g min at %(rate)d/s, produced %(produced)d, read %(mentions_read).0f, %(scrapes)d scrapes, "
          "%(reloads)d reloads (%(reloads_adopted).0f adopted)" % res)
    for name, unit in (("rss", "MB"), ("fds", ""), ("threads", "")):
        print("  %-8s warm-up peak %8.1f  end %8.1f  max after %8.1f  slope %+.3f%s/min" % (
            name, res[name + "_warm_peak"] or 0, res[name + "_end"] or 0, res[name + "_max_after"] or 0,
            res[name + "_slope_per_min"] or 0, unit))
    print("  bounded: %s" % res["bounded"])
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0 if res["bounded"] else 1


if __name__ == "__main__":
    sys.exit(main())
