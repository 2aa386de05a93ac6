#!/usr/bin/python3
"""The deployment files, validated as far as this machine can without a
registry or a cluster: deploy/compose.yaml and deploy/k8s/*.yaml.

Compose: the YAML parses; the services are there (Kafka in KRaft mode, the
topics, earshot, the generator, Prometheus); every bind mount exists; the
config it mounts, with the queries it mounts, passes `earshot config check`;
the generator's command is one earshot accepts; Prometheus's config passes
`promtool check config` and scrapes earshot's service and port.

Kubernetes: every document parses and has a kind, a name and the app label;
the Deployment runs the image of this version as non-root with a read-only
root filesystem, no privilege escalation and every capability dropped, has
resources, probes on /healthz and /readyz at the port the config listens on,
a grace period of at least 45 s, and mounts the ConfigMap as a directory
(no subPath: it would never see updates); the ConfigMap's config and queries,
written out as the volume would hold them, pass `earshot config check`; the
Service and the ServiceMonitor select the pods and name the port;
kustomization.yaml lists the files.

usage: deploy_check.py EARSHOT EARSHOT_GEN"""
import os, re, subprocess, sys, tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import check, finish  # noqa: E402  (generic helpers)

EARSHOT = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY = os.path.join(ROOT, "deploy")
with open(os.path.join(ROOT, "include", "earshot", "version.h")) as f:
    VERSION = re.search(r'#define ES_VERSION "([^"]+)"', f.read()).group(1)
IMAGE = "localhost/earshot:" + VERSION


def config_check(config, queries):
    r = subprocess.run([EARSHOT, "config", "check", "-c", config, "--queries", queries], capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip()


def compose_checks():
    with open(os.path.join(DEPLOY, "compose.yaml")) as f:
        c = yaml.safe_load(f)
    svc = c.get("services", {})
    check({"kafka", "topics", "earshot", "generator", "prometheus"} <= set(svc), "compose: the services (%s)" % sorted(svc))
    env = svc["kafka"].get("environment", {})
    check(svc["kafka"]["image"].startswith("docker.io/apache/kafka:") and "controller" in env.get("KAFKA_PROCESS_ROLES", ""),
          "compose: apache/kafka in KRaft mode (broker and controller in one node)")
    mounts = {}
    for name, s in svc.items():
        for v in s.get("volumes", []):
            host, ctr = v.split(":")[:2]
            ok = os.path.exists(os.path.join(DEPLOY, host))
            check(ok, "compose: %s mounts %s, which exists" % (name, host))
            mounts[(name, ctr)] = os.path.normpath(os.path.join(DEPLOY, host))
    e = svc["earshot"]
    check(e["image"] == IMAGE and e["build"]["dockerfile"] == "deploy/Containerfile", "compose: earshot is %s, built from deploy/Containerfile" % IMAGE)
    cfg = mounts[("earshot", e["command"][e["command"].index("-c") + 1])]
    with open(cfg) as f:
        qpath = yaml.safe_load(f)["queries"]
    rc, out = config_check(cfg, mounts[("earshot", qpath)])
    check(rc == 0, "compose: the mounted config with the mounted queries passes earshot config check: %s" % out)
    check(e.get("read_only") is True and e.get("stop_grace_period") == "45s", "compose: earshot read-only, 45 s to drain")
    check(any(p.startswith("8089:") for p in e.get("ports", [])), "compose: the dashboard and metrics port published")
    g = svc["generator"]["command"]
    check(g[:2] == ["demo", "--feed"] and svc["generator"]["image"] == IMAGE, "compose: the generator is earshot demo --feed")
    # The generator's flags are ones earshot accepts: a wrong one exits 2 at once, a right one tries to connect.
    r = subprocess.run([EARSHOT] + g[:1] + ["--feed", "127.0.0.1:1"] + g[3:] + ["--nope", "x"], capture_output=True, text=True)
    check(r.returncode == 2, "compose: earshot demo --feed refuses unknown flags (so the accepted ones are checked)")
    prom = mounts[("prometheus", "/etc/prometheus/prometheus.yml")]
    r = subprocess.run(["promtool", "check", "config", prom], capture_output=True, text=True)
    check(r.returncode == 0, "compose: promtool check config: %s" % (r.stdout + r.stderr).strip()[-200:])
    with open(prom) as f:
        targets = [t for sc in yaml.safe_load(f)["scrape_configs"] for s in sc["static_configs"] for t in s["targets"]]
    check("earshot:8089" in targets, "compose: Prometheus scrapes earshot:8089 (%s)" % targets)


def k8s_checks():
    kdir = os.path.join(DEPLOY, "k8s")
    docs = {}
    for fn in sorted(os.listdir(kdir)):
        if fn.endswith(".yaml") and fn != "kustomization.yaml":
            with open(os.path.join(kdir, fn)) as f:
                for d in yaml.safe_load_all(f):
                    ok = d and d.get("kind") and d.get("metadata", {}).get("name") == "earshot" and \
                        d["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "earshot"
                    check(ok, "k8s: %s: %s with a name and the app label" % (fn, d and d.get("kind")))
                    docs[d["kind"]] = (fn, d)
    check({"Deployment", "ConfigMap", "Service", "PodDisruptionBudget", "ServiceMonitor"} <= set(docs), "k8s: %s" % sorted(docs))
    with open(os.path.join(kdir, "kustomization.yaml")) as f:
        kust = yaml.safe_load(f)["resources"]
    check(all(docs[k][0] in kust for k in ("Deployment", "ConfigMap", "Service", "PodDisruptionBudget")),
          "k8s: kustomization.yaml lists them (%s)" % kust)
    dep = docs["Deployment"][1]
    pod = dep["spec"]["template"]["spec"]
    ctr = pod["containers"][0]
    check(ctr["image"] == IMAGE, "k8s: the image of this version (%s)" % ctr["image"])
    psc, sc = pod.get("securityContext", {}), ctr.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and psc.get("runAsUser") == 10001, "k8s: runs as non-root user 10001")
    check(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False and
          sc.get("capabilities", {}).get("drop") == ["ALL"], "k8s: read-only root, no privilege escalation, capabilities dropped")
    res = ctr.get("resources", {})
    check(res.get("requests", {}).get("cpu") and res.get("limits", {}).get("memory"), "k8s: resources requested and limited")
    port = ctr["ports"][0]["containerPort"]
    live, ready = ctr["livenessProbe"]["httpGet"], ctr["readinessProbe"]["httpGet"]
    check(live["path"] == "/healthz" and ready["path"] == "/readyz", "k8s: liveness /healthz, readiness /readyz")
    check(pod.get("terminationGracePeriodSeconds", 30) >= 45, "k8s: 45 s to drain on SIGTERM")
    vols = {v["name"]: v for v in pod["volumes"]}
    cm_mounts = [m for m in ctr["volumeMounts"] if "configMap" in vols[m["name"]]]
    check(cm_mounts and all("subPath" not in m for m in cm_mounts) and cm_mounts[0]["mountPath"] == "/etc/earshot",
          "k8s: the ConfigMap mounted as the directory /etc/earshot, without subPath (updates reach it)")
    cm = docs["ConfigMap"][1]["data"]
    with tempfile.TemporaryDirectory() as d:
        for k, v in cm.items():
            with open(os.path.join(d, k), "w") as f:
                f.write(v)
        conf = yaml.safe_load(cm["earshot.yaml"])
        args = ctr["args"]
        check(args[:2] == ["run", "-c"] and args[2] == "/etc/earshot/earshot.yaml" and conf["queries"] == "/etc/earshot/queries.yaml",
              "k8s: the container runs the ConfigMap's config, which names the ConfigMap's queries")
        rc, out = config_check(os.path.join(d, "earshot.yaml"), os.path.join(d, "queries.yaml"))
        check(rc == 0, "k8s: the ConfigMap's config and queries pass earshot config check: %s" % out)
        check(conf["http"]["listen"].endswith(":%d" % port) and conf["http"]["listen"].startswith("0.0.0.0"),
              "k8s: the config listens on all addresses at the container port %d" % port)
    svc = docs["Service"][1]["spec"]
    check(svc["selector"] == dep["spec"]["selector"]["matchLabels"] and svc["ports"][0]["targetPort"] == "http",
          "k8s: the Service selects the pods and targets the http port")
    sm = docs["ServiceMonitor"][1]["spec"]
    check(sm["endpoints"][0]["port"] == "http" and sm["endpoints"][0]["path"] == "/metrics", "k8s: the ServiceMonitor scrapes /metrics")


def main():
    compose_checks()
    k8s_checks()
    return finish()


sys.exit(main())
