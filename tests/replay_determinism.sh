#!/usr/bin/env bash
# The pipeline as a user runs it, with 1, 2 and 4 workers on the same
# generated stream (bad records mixed in): every run must write the same
# windows and dead letters byte for byte. Registered with ctest in every
# build; `make test-tsan` runs it on the ThreadSanitizer build, where any
# data race fails the run (TSAN_OPTIONS halt_on_error=1).
#   usage: replay_determinism.sh EARSHOT EARSHOT_GEN
set -uo pipefail
bin=$1 gen=$2
dir=$(mktemp -d /tmp/earshot-det.XXXXXX)
trap 'rm -rf "$dir"' EXIT
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"
"$gen" queries --count 40 -o "$dir/q.yaml" || exit 1
"$gen" mentions --count 40000 --rate 400 --incident 'support@30m+10m*6' -o "$dir/m.jsonl" || exit 1
# Bad records and a record far in the past (late) in the middle of the stream.
head -20000 "$dir/m.jsonl" > "$dir/in.jsonl"
printf '%s\n' '{"ts":"2026-01-05T00:00:00Z"' '{"text":"no time"}' '{"ts":"2026-01-05T00:01:00Z","text":"way too late"}' >> "$dir/in.jsonl"
tail -n +20001 "$dir/m.jsonl" >> "$dir/in.jsonl"
passed=0 failed=0
for w in 1 2 4; do
  if "$bin" replay --queries "$dir/q.yaml" --input "$dir/in.jsonl" --output "$dir/w$w.jsonl" \
       --dlq-output "$dir/d$w.jsonl" --workers "$w" --no-progress 2> "$dir/log$w"; then
    passed=$((passed + 1))
  else
    echo "FAIL: replay with $w workers exited $?"; cat "$dir/log$w"; failed=$((failed + 1))
  fi
done
for w in 2 4; do
  if cmp -s "$dir/w1.jsonl" "$dir/w$w.jsonl" && cmp -s "$dir/d1.jsonl" "$dir/d$w.jsonl"; then
    passed=$((passed + 1))
  else
    echo "FAIL: output with $w workers differs from 1 worker"; failed=$((failed + 1))
  fi
done
if [ "$(grep -c '"reason":"late"' "$dir/d1.jsonl")" = 1 ] && [ "$(wc -l < "$dir/d1.jsonl")" = 3 ]; then
  passed=$((passed + 1))
else
  echo "FAIL: expected 3 dead letters (one late)"; cat "$dir/d1.jsonl"; failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
