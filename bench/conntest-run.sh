#!/usr/bin/env bash
# Wall time of `conntest run` on a 3-node local cluster with scaled probe periods (--time-scale 0.1):
#   cold = cluster up + deploy + checks + report + teardown (run brings the cluster up itself),
#   warm = deploy + checks + report + workload teardown on a cluster that is already up.
# Needs root. Everything lives in namespaces of a cluster named here; removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}                 # warm repetitions (median reported)
CONFIG=${CONFIG:-debug}         # release takes ~10 min to build on 2 cores
SCALE=${SCALE:-0.1}
FAMILY=${FAMILY:-ipv4}          # ipv6: a dual-stack cluster and IPv6-only Services (--ip-family ipv6)

swift build -c "$CONFIG" --product conntest 2>&1 | tail -1
swift build -c "$CONFIG" --product agent 2>&1 | tail -1
swift build -c "$CONFIG" --product echo-server 2>&1 | tail -1
swift build -c "$CONFIG" --product cilium-health-responder 2>&1 | tail -1
BIN="$(swift build -c "$CONFIG" --show-bin-path)"

NAME="bench$(printf '%04x' $RANDOM)"
export NETHEALTH_STATE_DIR=$(mktemp -d)
cleanup() { "$BIN/agent" cluster down --name "$NAME" >/dev/null 2>&1 || true; rm -rf "$NETHEALTH_STATE_DIR"; }
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
run() { "$BIN/conntest" run --cluster "$NAME" --nodes 3 --time-scale "$SCALE" --ip-family "$FAMILY" --timeout 2m "$@" >/dev/null 2>&1; }

t0=$(now); run && rc=0 || rc=$?; t1=$(now)
printf 'cold (cluster up -> report -> cluster down), 3 nodes, %s: %.2fs (exit %d)\n' "$FAMILY" "$(echo "$t1 - $t0" | bc)" "$rc"

"$BIN/agent" cluster up --name "$NAME" --nodes 3 $([ "$FAMILY" = ipv6 ] && echo --ipv6) >/dev/null
times=()
for _ in $(seq "$RUNS"); do
  t0=$(now); run; t1=$(now)
  times+=("$(echo "$t1 - $t0" | bc)")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf 'warm (deploy -> report -> workload removed), 3 nodes, %s, %d runs: median %.2fs (all: %s)\n' "$FAMILY" "$RUNS" "$median" "${times[*]}"
