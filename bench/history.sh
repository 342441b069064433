#!/usr/bin/env bash
# Probe-history benchmark (issue 11): the probe-path cost of recording a result, the batched
# write cost per sample, DB growth per node-day at 1000 targets (upstream's probe rate for 1000
# addresses: one ICMP and one HTTP probe per address every 414.5 s, 2 % failures), and
# `history` query times over 7 days of 100 targets (goal < 100 ms). Synthetic data with an
# injected clock, so a simulated week takes seconds; no network traffic at all.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-release}
echo "== building ($CONFIG) history-bench"
swift build -c "$CONFIG" --product history-bench 2>&1 | tail -1
BIN="$(swift build -c "$CONFIG" --show-bin-path)"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
"$BIN/history-bench" "$OUT/db"
# Reference: the same insert pattern through the sqlite3 shell (one transaction per 10 s batch).
if command -v sqlite3 >/dev/null; then
  python3 - "$OUT/ref.db" <<'PY'
import sqlite3, sys, time, random
db = sqlite3.connect(sys.argv[1]); db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
db.execute("CREATE TABLE sample(t INTEGER NOT NULL, target INTEGER NOT NULL, rtt INTEGER, error TEXT)")
db.execute("CREATE INDEX sample_by_time ON sample(t)")
n = 0; start = time.perf_counter(); t = 1_800_000_000_000
for batch in range(2000):
    rows = [(t + batch * 10_000, i % 2000, random.randint(150_000, 2_150_000), None) for i in range(48)]
    with db: db.executemany("INSERT INTO sample VALUES (?,?,?,?)", rows)
    n += len(rows)
print("reference_python_sqlite3_write_per_sample_us %.2f" % ((time.perf_counter() - start) * 1e6 / n))
PY
fi
