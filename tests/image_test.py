#!/usr/bin/python3
"""The container image, built and run as a platform team would.

Builds the image with deploy/image.sh (`make image`: podman, buildah or
docker; the Debian base made with mmdebstrap when no BASE is given), then
checks its configuration (non-root user 10001, ENTRYPOINT earshot, the
default `run` command and config, port 8089, a HEALTHCHECK that runs
`earshot health`, OCI labels) and, inside it: `earshot version` (jemalloc in
use), `earshot config check` of the shipped config, `earshot replay` of a
generated stream with a planted incident using the shipped queries (the fee
spike is flagged there and nowhere else), that the user is not root, and
that no compiler, build tool, header or -dev package is in the runtime image.
Then the image as a service: against a broker (`earshot broker` on the
host), the image's generator (`earshot demo --feed`, as in compose.yaml)
and the image's `earshot run` with the shipped config: ready (probed with
`earshot health .../readyz`), window records on earshot.windows, and on
SIGTERM a drain that exits 0.
Commands run with `podman run` where it works, else `buildah run
--isolation=chroot` (rootless or restricted machines refuse podman's
setrlimit).

usage: image_test.py EARSHOT EARSHOT_GEN BUILD"""
import json, os, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish, read_topic, start_broker, stop_broker, tally, wait_for  # noqa: E402

EARSHOT, GEN, BUILD = sys.argv[1], sys.argv[2], sys.argv[3]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class Inside:
    """Runs commands in a container of the image."""

    def __init__(self, image, tool):
        self.image, self.tool, self.ctr = image, tool, None
        if tool == "podman" and run(["podman", "run", "--rm", image, "version"]).returncode == 0:
            self.how = "podman run"
        elif shutil.which("buildah"):
            self.how = "buildah run --isolation=chroot"
            self.ctr = run(["buildah", "from", "--pull-never", image], check=True).stdout.strip()
        else:
            self.how = "docker run"

    def put(self, src, dst):
        """Copies a host file into the container (readable by its user)."""
        if self.ctr:
            run(["buildah", "copy", "--chown", "10001:10001", self.ctr, src, dst], check=True)
        else:
            self.mounts = getattr(self, "mounts", []) + ["-v", "%s:%s:ro" % (src, dst)]

    def sh(self, script, user=None):
        if self.ctr:
            cmd = ["buildah", "run", "--isolation=chroot"] + (["--user", user] if user else []) + [self.ctr, "--", "sh", "-c", script]
        else:
            tool = "podman" if self.how.startswith("podman") else "docker"
            cmd = [tool, "run", "--rm", "--entrypoint", "sh"] + getattr(self, "mounts", []) + (["--user", user] if user else []) + [self.image, "-c", script]
        return run(cmd)

    def close(self):
        if self.ctr:
            run(["buildah", "rm", self.ctr])


def service_checks(ins, d):
    """The generator and the engine from the image against a broker on the
    host (chroot isolation shares the host's network)."""
    broker, boot = start_broker(EARSHOT, ["mentions:4", "earshot.windows:4", "earshot.alerts:1", "earshot.dlq:1"])
    port = 18000 + os.getpid() % 1000
    script = ("earshot demo --feed %s --speed 120 --rate 600 2>/tmp/feed.log & f=$!; "
              "earshot run -c /etc/earshot/earshot.yaml --brokers %s --http 127.0.0.1:%d --window 1m 2>/tmp/run.log & r=$!; "
              "wait $r; echo run_exit=$?; kill -TERM $f; wait $f; echo feed_exit=$?; tail -5 /tmp/run.log" % (boot, boot, port))
    cmd = ["buildah", "run", "--isolation=chroot", ins.ctr, "--", "sh", "-c", script]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = "http://127.0.0.1:%d/readyz" % port
        ready = wait_for(lambda: subprocess.run([EARSHOT, "health", url], capture_output=True).returncode == 0, 60)
        check(ready, "the image's earshot run is ready (earshot health %s)" % url)
        recs = read_topic(boot, "earshot.windows", want=10, deadline_s=90)
        check(len(recs) >= 10, "the image's generator and engine put window records on earshot.windows (%d)" % len(recs))
        # SIGTERM to the engine inside (chroot isolation: same process table).
        # (Anchored: buildah's and sh's command lines contain the same words.)
        subprocess.run(["pkill", "-TERM", "-f", "^earshot run -c /etc/earshot/earshot.yaml --brokers " + boot])
        out = proc.communicate(timeout=60)[0]
        check("run_exit=0" in out and '"msg":"finished"' in out,
              "SIGTERM drains the engine and it exits 0: %r" % out[-600:])
    finally:
        if proc.poll() is None:
            proc.kill()
        stop_broker(broker)


def main():
    env = dict(os.environ, BUILD=BUILD)
    b = run(["bash", os.path.join(ROOT, "deploy", "image.sh")], env=env)
    check(b.returncode == 0, "deploy/image.sh builds the image: %s" % b.stderr.strip().splitlines()[-1:])
    if b.returncode:
        print(b.stderr[-4000:])
        return finish()
    image = b.stdout.strip().splitlines()[-1]
    tool = next(t for t in ("podman", "buildah", "docker") if shutil.which(t) and (t != "docker" or run(["docker", "info"]).returncode == 0))
    size_line = [ln for ln in b.stderr.splitlines() if ln.startswith("image: built")]
    print("  " + (size_line[0] if size_line else b.stderr.strip()[-200:]))

    # The image's configuration.
    # buildah shows the docker-format config (HEALTHCHECK included) of
    # podman's and buildah's images; docker its own.
    if shutil.which("buildah"):
        insp = json.loads(run(["buildah", "inspect", "--type", "image", image]).stdout)
        cfg = insp["Docker"]["config"]
        size = json.loads(run([tool, "image", "inspect", image]).stdout or "[{}]")[0].get("Size", 0) if tool != "buildah" else 0
    else:
        insp = json.loads(run(["docker", "image", "inspect", image]).stdout)[0]
        cfg, size = insp["Config"], insp.get("Size", 0)
    check(cfg.get("User") == "10001:10001", "runs as user 10001, not root (%r)" % cfg.get("User"))
    check(cfg.get("Entrypoint") == ["earshot"], "ENTRYPOINT earshot (%r)" % cfg.get("Entrypoint"))
    check(cfg.get("Cmd") == ["run", "-c", "/etc/earshot/earshot.yaml"], "default command: run with the shipped config (%r)" % cfg.get("Cmd"))
    check("8089/tcp" in (cfg.get("ExposedPorts") or {}), "port 8089 exposed")
    hc = (cfg.get("Healthcheck") or {}).get("Test") or []
    check("health" in hc and "earshot" in " ".join(hc), "HEALTHCHECK runs earshot health (%r)" % hc)
    labels = cfg.get("Labels") or {}
    check(labels.get("org.opencontainers.image.version") and labels.get("org.opencontainers.image.source")
          and labels.get("org.opencontainers.image.licenses"), "OCI labels: version, source, licences (%r)" % labels)
    if not size and size_line:  # as image.sh measured it
        size = float(size_line[0].split(": ")[-1].split()[0]) * 1e6
    check(0 < size < 160e6, "the image is small: %.0f MB (< 160)" % (size / 1e6))

    ins = Inside(image, tool)
    d = tempfile.mkdtemp(prefix="earshot-image-")
    try:
        print("  commands run with: " + ins.how)
        r = ins.sh("earshot version")
        check(r.returncode == 0 and "earshot " in r.stdout and "jemalloc" in r.stdout and "(in use)" in r.stdout,
              "earshot version inside: %r" % r.stdout.strip().splitlines()[:1])
        r = ins.sh("id -u; id -un")
        check(r.stdout.split()[:2] == ["10001", "earshot"], "the user inside is earshot (10001), not root: %r" % r.stdout)
        r = ins.sh("earshot config check -c /etc/earshot/earshot.yaml")
        check(r.returncode == 0 and "valid" in r.stdout, "the shipped config passes earshot config check: %r" % (r.stdout + r.stderr))
        # A generated stream with a fee incident, replayed with the shipped queries.
        subprocess.run([GEN, "mentions", "--count", "60000", "--rate", "500", "--seed", "5", "--incident", "fees@1h+10m*8",
                        "-o", d + "/m.jsonl"], check=True)
        os.chmod(d, 0o755)
        os.chmod(d + "/m.jsonl", 0o644)
        ins.put(d + "/m.jsonl", "/tmp/m.jsonl")
        r = ins.sh("earshot replay --queries /etc/earshot/queries.yaml --input /tmp/m.jsonl --window 5m --output - "
                   "--dlq-output /tmp/dlq.jsonl --no-progress --http off")
        recs = [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith("{")]
        spikes = {(w["query"], w["window_start"]) for w in recs if w.get("class") == "spike"}
        check(r.returncode == 0 and recs, "earshot replay inside: %d window records (exit %d) %s" % (len(recs), r.returncode, r.stderr[-300:]))
        check(spikes and all(q == "fees" for q, _ in spikes) and any(ws.endswith("T01:00:00Z") for _, ws in spikes),
              "the planted fee spike is flagged at 01:00 and nothing else: %s" % sorted(spikes))
        # Nothing to build with.
        r = ins.sh("for t in cc gcc g++ c++ cmake make ld as pkg-config node npm; do command -v $t; done; "
                   "find /usr/include -name '*.h' 2>/dev/null | head -3; "
                   "dpkg-query -W -f '${Package}\\n' | grep -E -- '-dev$|^build-essential$|^cpp' ; true")
        check(r.stdout.strip() == "", "no compiler, build tool, header or -dev package in the runtime image: %r" % r.stdout[:300])
        r = ins.sh("touch /etc/earshot/x 2>&1; touch /usr/bin/x 2>&1")
        check("Permission denied" in r.stdout, "the user cannot write the config or the binaries: %r" % r.stdout.strip())
        if ins.ctr:
            service_checks(ins, d)
    finally:
        ins.close()
        shutil.rmtree(d, ignore_errors=True)
        if tally["failed"]:
            print(b.stderr[-2000:])
    return finish()


sys.exit(main())
