#!/usr/bin/env bash
# Kafka end to end vs a bare consumer on the same embedded broker and topic,
# in one run: kcat reads the whole topic; earshot run consumes the same
# records in a consumer group with 1,000 queries. Reports both rates and
# their ratio (kcat: best of three, first to last record). With PEER_RECORDS
# set, the hand-written Python peer (bench/peer/python_peer.py: python3-kafka,
# one regex per query, VADER in Python) also reads the first PEER_RECORDS
# records of the same topic with the same queries.
# usage: bench/kafka_vs_kcat.sh [BUILD_DIR] [MENTIONS]
set -euo pipefail
build=${1:-build} n=${2:-300000}
d=$(mktemp -d /tmp/earshot-kbench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$d"' EXIT
if [ -n "${QUERIES:-}" ]; then cp "$QUERIES" "$d/q.yaml"; else "$build/bench/earshot-gen" queries --count 1000 -o "$d/q.yaml"; fi
"$build/bench/earshot-gen" mentions --count "$n" --rate 2000 -o "$d/m.jsonl"
# 64 partitions: the embedded broker keeps about 5 MiB per partition.
mkfifo "$d/ctl"
"$build/engine/earshot" broker --topic mentions:64 --topic earshot.windows:4 --topic earshot.alerts:1 \
  --topic earshot.dlq:1 < "$d/ctl" > "$d/broker.out" &
exec 3> "$d/ctl"
until [ -s "$d/broker.out" ]; do sleep 0.1; done
boot=$(head -1 "$d/broker.out")
kcat -P -b "$boot" -t mentions -l "$d/m.jsonl"
# kcat: best of three whole-topic reads, each timed from its first to its
# last record like the engine (not counting start-up, connection and the
# end-of-partition checks).
kcat_rate=0
for _ in 1 2 3; do
  r=$(kcat -C -b "$boot" -t mentions -e -q -o beginning -X fetch.wait.max.ms=10 | /usr/bin/python3 -c '
import sys, time
n, first, last = 0, None, None
for _ in sys.stdin.buffer:
    last = time.monotonic()
    if first is None:
        first = last
    n += 1
print(n, (n - 1) / (last - first))')
  got=${r% *}
  kcat_rate=$(awk -v a="${r#* }" -v b="$kcat_rate" 'BEGIN { print (a > b) ? a : b }')
done
if [ -n "${PEER_RECORDS:-}" ]; then
  here=$(cd "$(dirname "$0")" && pwd)
  peer=$(/usr/bin/python3 "$here/peer/python_peer.py" "$boot" mentions "$d/q.yaml" "$build/lexicon" "$PEER_RECORDS")
  printf 'python peer (first %s records): %s records/s\n' "$PEER_RECORDS" \
    "$(echo "$peer" | /usr/bin/python3 -c 'import json,sys; print("%.0f" % json.load(sys.stdin)["per_s"])')"
fi
printf 'queries: %s/q.yaml\nprogress: false\nkafka:\n  brokers: %s\n  group: bench\n  properties:\n    session.timeout.ms: 6000\n' "$d" "$boot" > "$d/c.yaml"
printf '%b' "${PROPS:-    fetch.wait.max.ms: 10\n}" >> "$d/c.yaml"
${PERF:-} "$build/engine/earshot" run -c "$d/c.yaml" --workers "${WORKERS:-1}" 2> "$d/engine.log" &
engine=$!
# Done when the engine's progress log shows every record consumed.
until grep -q "records=$got " "$d/engine.log" 2>/dev/null; do
  sleep 1
  kill -0 $engine || { cat "$d/engine.log"; exit 1; }
done
kill -TERM $engine; wait $engine || true
cp "$d/engine.log" /tmp/earshot-kbench-engine.log
best=$(grep 'msg="consumed"' "$d/engine.log" | grep -o 'records_per_s=[0-9]*' | cut -d= -f2)
printf 'records: %s\nkcat (bare librdkafka consumer, whole topic): %.0f records/s\nearshot run (%s worker, first to last batch): %s records/s\nratio: %.2f\n' \
  "$got" "$kcat_rate" "${WORKERS:-1}" "$best" "$(echo "$best / $kcat_rate" | bc -l)"
