#!/usr/bin/env bash
# Fast detection at cluster sizes this machine cannot run for real: the discrete-event simulation
# (bench/DetectionSim) drives the agents' own DetectionScheduler, RTTEstimator and PathStatistics
# on a simulated clock and network. No sockets, no namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}   # a separate release tree (e.g. .build-rel) keeps debug builds undisturbed

SIZES=${SIZES:-"100 1000 10000"}
echo "== building release detection-sim"
swift build -c release --scratch-path "$SCRATCH" --product detection-sim 2>&1 | tail -1
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/detection-sim"

echo "== black hole: one node drops everything; time until every other agent's own probe confirmed it"
echo "   (goal: <= 5 s at 100 nodes, <= 10 s at 1000, <= 20 probes/s per agent)"
for n in $SIZES; do
  /usr/bin/time -f "   simulated in %e s, %M KiB" "$BIN" --nodes "$n" --scenario blackhole
done
echo "== no false alarms: 5 % loss on every node, +50 ms ± 25 ms on one (goal: 0 false reports)"
"$BIN" --nodes 1000 --scenario loss --seconds "${LOSS_SECONDS:-300}"
echo "== flapping node: down 2 s, up 2 s (goal: every outage reported by every agent)"
"$BIN" --nodes 1000 --scenario flap --seconds 60
