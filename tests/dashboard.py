#!/usr/bin/python3
"""The dashboard in a real browser (headless Chromium): `earshot replay`
reads a generated stream with a planted fee-complaint incident from a pipe,
stopped in the middle of the incident so its alert is open, and serves
HTTP; Chromium loads the page (nothing else is reachable: no CDN), runs its
scripts and its event stream, and the rendered page must show the alert in
the open-alerts panel, flag the query's card, and list it in the feed. A
screenshot is kept as a test artefact (ARTEFACT_DIR, default the build
directory).

usage: dashboard.py EARSHOT EARSHOT_GEN [ARTEFACT_DIR]"""
import datetime, json, os, re, shutil, subprocess, sys, tempfile, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish, served_url, wait_for  # noqa: E402

EARSHOT, GEN = sys.argv[1], sys.argv[2]
ART = sys.argv[3] if len(sys.argv) > 3 else os.getcwd()


def browser():
    for b in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(b):
            return b
    return None


def chrome(b, d, *args):
    return subprocess.run([b, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--user-data-dir=" + d + "/chrome", "--virtual-time-budget=8000",
                           "--window-size=1600,1000"] + list(args),
                          capture_output=True, text=True, timeout=120)


def main():
    b = browser()
    if not check(b is not None, "Chromium is installed (deploy/install-deps.sh installs chromium)"):
        return finish()
    d = tempfile.mkdtemp(prefix="earshot-dashboard-")
    eng = None
    try:
        subprocess.run([GEN, "queries", "--count", "8", "-o", d + "/q.yaml"], check=True)
        subprocess.run([GEN, "mentions", "--count", "30000", "--rate", "600", "--seed", "5", "--incident",
                        "fees@30m+10m*8", "-o", d + "/m.jsonl"], check=True)
        # Up to 36 minutes in: the incident (30-40 min) is under way.
        first = None
        lines = []
        for x in open(d + "/m.jsonl"):
            ts = json.loads(x)["ts"]
            if isinstance(ts, str):  # the generator writes some times as RFC 3339
                ts = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000
            first = ts if first is None else first
            if ts - first < 36 * 60000:
                lines.append(x)
        triage = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models", "triage", "bank.yaml")
        eng = subprocess.Popen([EARSHOT, "replay", "--queries", d + "/q.yaml", "--triage", triage, "--http", "127.0.0.1:0",
                                "--idle-flush", "200ms", "--early-updates", "200ms", "--output", "/dev/null",
                                "--no-progress"], stdin=subprocess.PIPE, stderr=open(d + "/engine.log", "w"))
        base = served_url(d + "/engine.log")
        check(base is not None, "the engine serves HTTP")
        eng.stdin.write("".join(lines).encode())
        eng.stdin.flush()

        def open_fees():
            with urllib.request.urlopen(base + "api/v1/alerts?state=open", timeout=5) as r:
                return any(a["query"] == "fees" for a in json.loads(r.read()))
        check(wait_for(open_fees, 60), "the fee incident's alert is open (API)")
        page = base + "?snapshot=1"
        r = chrome(b, d, "--dump-dom", page)
        dom = r.stdout
        with open(os.path.join(ART, "dashboard.dom.html"), "w") as f:
            f.write(dom)
        check('data-alert="fees"' in dom, "the page lists the fee alert among the open alerts")
        check(re.search(r'class="card alerting" data-query="fees"', dom) is not None, "the fees card is flagged")
        check(re.search(r"<b>fees</b> (opened|updated)", dom) is not None, "the alert feed shows it")
        check("Fee complaints" in dom, "cards carry the query names")
        check('id="triage-sec"' in dom and 'id="triage-sec" hidden' not in dom and 'data-track="' in dom,
              "the triage panel lists the tracks (a run with a triage file)")
        check(re.search(r'id="k-ready" class="pill ok"', dom) is not None, "engine health: ready (from the event stream)")
        shot = os.path.join(ART, "dashboard.png")
        if os.path.exists(shot):
            os.remove(shot)
        chrome(b, d, "--screenshot=" + shot, page)
        check(os.path.exists(shot) and os.path.getsize(shot) > 20000, "a screenshot is kept: %s" % shot)
        eng.stdin.close()
        check(eng.wait(timeout=60) == 0, "the engine ends cleanly")
        eng = None
    finally:
        if eng:
            eng.kill()
        shutil.rmtree(d, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
