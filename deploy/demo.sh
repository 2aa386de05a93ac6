#!/usr/bin/env bash
# The demo: generates four hours of realistic mentions about a bank, with a
# fee-complaint incident planted two hours in (8x the usual volume for
# 15 minutes), and replays them through earshot with 5-minute windows.
# Windows print as they close; the incident's windows are marked SPIKE.
set -euo pipefail
build=${1:-build}
work=${DEMO_DIR:-$(mktemp -d /tmp/earshot-demo.XXXXXX)}
mkdir -p "$work"
"$build/bench/earshot-gen" queries --count 6 -o "$work/queries.yaml"
"$build/bench/earshot-gen" mentions --count 240000 --rate 1000 --seed 7 \
  --incident 'fees@2h+15m*8' --labels "$work/labels.json" -o "$work/mentions.jsonl"
echo "earshot demo: 240,000 generated mentions in $work/mentions.jsonl; planted incident:"
cat "$work/labels.json"
echo
"$build/engine/earshot" replay --queries "$work/queries.yaml" --input "$work/mentions.jsonl" \
  --window 5m --format pretty --output - --dlq-output "$work/dlq.jsonl" --no-progress
echo
echo "earshot demo: JSON window records: $build/engine/earshot replay --queries $work/queries.yaml --input $work/mentions.jsonl --window 5m"
