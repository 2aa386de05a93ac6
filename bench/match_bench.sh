#!/usr/bin/env bash
# The match stage with 100, 1,000, 10,000 and 100,000 generated queries
# (terms, phrases, wildcards, '?', NEAR, boolean mixes) on the same
# generated mentions, each against the raw hs_scan of the same database and
# a naive one-PCRE2-regex-per-query peer, in one run; prints a markdown
# table. usage: bench/match_bench.sh [BUILD_DIR] [MENTIONS] [SIZES...]
set -euo pipefail
build=${1:-build} n=${2:-100000}
shift $(( $# > 2 ? 2 : $# )) || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 10000 100000)
d=$(mktemp -d /tmp/earshot-mbench.XXXXXX)
trap 'rm -rf "$d"' EXIT
"$build/bench/earshot-gen" mentions --count "$n" --rate 2000 --seed 7 -o "$d/m.jsonl"
echo "| queries | distinct atoms | compile s | database KiB | RSS KiB | earshot mentions/s | MB/s | raw hs_scan mentions/s | ratio to hs_scan | PCRE2 peer mentions/s | speedup over PCRE2 | matches/mention |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for q in "${sizes[@]}"; do
  "$build/bench/earshot-gen" queries --count "$q" --seed 7 -o "$d/q.yaml"
  r=$("$build/bench/match_bench" "$d/m.jsonl" "$d/q.yaml" 3)
  v() { echo "$r" | tr ' ' '\n' | grep "^$1=" | cut -d= -f2; }
  echo "| $(v queries) | $(v atoms) | $(v compile_s) | $(v db_kb) | $(v rss_kb) | $(v earshot_per_s) | $(v earshot_mb_s) | $(v hs_scan_per_s) | $(v ratio_to_hs_scan) | $(v pcre2_per_s) | $(v speedup_over_pcre2) | $(v matches_per_mention) |"
done
