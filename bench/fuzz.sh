#!/usr/bin/env bash
# Bounded libFuzzer runs of the outside-input parsers (bench/fuzz/FuzzParsers): health/agent API
# JSON, JSONPath templates, policy YAML, -t tags, Go durations. Each run is capped in time, per-input
# time and memory, so a hang or a leak fails it like a crash does. Inputs that crashed are kept in
# bench/fuzz/regressions/ (commit them: the plain `fuzz-parsers` replays that directory, and the
# test suite replays it in FuzzRegressionTests).
#   SECONDS_PER_RUN=60 bash bench/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-60}
export SWIFT_BACKTRACE=enable=no         # let the sanitizer report a trap, not the backtracer's reads
BUILD=.build/fuzz                        # instrumented objects apart from the normal build
CORPUS=$(mktemp -d)
trap 'rm -rf "$CORPUS"' EXIT

swift build --build-path "$BUILD" --product fuzz-parsers \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING 2>&1 | grep -v "Cannot export" | tail -1
BIN="$(swift build --build-path "$BUILD" --show-bin-path)/fuzz-parsers"

# Seeds: real API answers, templates and the suite's own policies, so mutations start from valid input.
cp -r bench/fuzz/seeds/. "$CORPUS"/ 2>/dev/null || true
i=0
for f in examples/connectivity-check/*.yaml; do
  awk -v dir="$CORPUS" -v base="$(basename "$f" .yaml)" 'BEGIN{n=0} /^---/{n++; next} {print > (dir "/" base "-" n ".yaml")}' "$f"
done
cp bench/fuzz/regressions/* "$CORPUS"/ 2>/dev/null || true

mkdir -p bench/fuzz/regressions
LOG="$CORPUS.log"
status=0
"$BIN" "$CORPUS" -max_total_time="$SECONDS_PER_RUN" -timeout=5 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix=bench/fuzz/regressions/ -print_final_stats=1 >"$LOG" 2>&1 || status=$?
grep -E "DONE|Done [0-9]+ runs|stat::(number_of_executed_units|peak_rss_mb)|ERROR|SUMMARY|Test unit written" "$LOG" || true
rm -f "$LOG"
if ls bench/fuzz/regressions/crash-* bench/fuzz/regressions/timeout-* bench/fuzz/regressions/oom-* >/dev/null 2>&1; then
  echo "fuzz-parsers found failing inputs (kept in bench/fuzz/regressions/; commit them with the fix):" >&2
  ls bench/fuzz/regressions/ >&2
  exit 1
fi
exit "$status"
