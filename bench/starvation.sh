#!/usr/bin/env bash
# Prober CPU starvation must not show up as network latency (issue 12): on a 2-node cluster, node-1's
# agent is (1) pinned to one core that two spinning processes keep busy, then (2) throttled by a CPU
# quota as a Kubernetes CPU limit does (cgroup cpu.cfs_quota_us, QUOTA_PCT of one CPU). The ICMP RTT
# and HTTP latency node-1 reports for node-2 are compared with idle phases, side by side with `ping`
# from node-1 (pinned to the same core, outside the quota), and with the prober's own scheduling
# delay, which must grow instead.
# Needs root, taskset (util-linux), ping, curl, python3. Traffic stays inside the cluster made here.
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIG=${CONFIG:-debug}
SETTLE=${SETTLE:-40}       # seconds per phase: the scheduling-delay figures cover the last minute
CORE=${CORE:-1}
QUOTA_PCT=${QUOTA_PCT:-5}
TOOLS="ip ping curl python3 taskset" TOOLS_HINT="iproute2 iputils-ping curl python3 util-linux" PREFIX=st UP_ARGS="--no-kubernetes"
source bench/two-node-cluster.sh
SPIN=()
stopSpin() { for p in "${SPIN[@]}"; do kill "$p" 2>/dev/null || true; done; SPIN=(); }
CG=/sys/fs/cgroup/cpu/nethealth-starve-$NAME
unthrottle() {
  [ -d "$CG" ] || return 0
  for t in $(cat "$CG/tasks"); do echo "$t" > /sys/fs/cgroup/cpu/tasks 2>/dev/null || true; done
  rmdir "$CG" 2>/dev/null || true
}
trap 'stopSpin; unthrottle; cleanup' EXIT INT TERM
AGENT=$(cat "$NETHEALTH_STATE_DIR/$NAME/node-1/agent.pid")
SOCK="$NETHEALTH_STATE_DIR/$NAME/node-1/health.sock"

# One phase's figures: node-1's view of node-2 (host primary address) from /v1beta/status/wide,
# and the median of 20 pings from node-1 pinned to the core under test.
phase() {
  local label=$1
  sleep "$SETTLE"
  local wide; wide=$(curl -s --unix-socket "$SOCK" http://localhost/v1beta/status/wide)
  # A fresh HTTP probe (the sweep's figure may be minutes old); its RTT is read from the same call.
  local probe; probe=$(inNode node-1 cilium-health status --probe -o json)
  local ping_us
  ping_us=$(inNode node-1 taskset -c "$CORE" ping -n -c 20 -i 0.05 198.18.0.12 | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' \
            | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)] * 1000}')
  WIDE=$wide PROBE=$probe python3 - "$label" "$ping_us" <<'PY'
import json, os, sys
label, ping_us = sys.argv[1], float(sys.argv[2])
w = json.loads(os.environ["WIDE"])
fresh = json.loads(os.environ["PROBE"])
p = w["prober"]
path = [x for x in w["paths"] if x["node"].endswith("/node-2") and x["ip"] == "198.18.0.12"][0]
node = [n for n in fresh["nodes"] if n["name"].endswith("/node-2")][0]["host"]["primary-address"]
print(f"{label:<28} {path['rtt']/1e3:>10.1f} {ping_us:>10.1f} {node['http'].get('latency', 0)/1e6:>10.3f} "
      f"{p['schedulingDelayP50']/1e6:>9.2f} {p['schedulingDelayP99']/1e6:>9.2f} {p['schedulingDelayMax']/1e6:>9.2f}")
PY
}

echo
printf '%-28s %10s %10s %10s %9s %9s %9s\n' "phase (node-1 -> node-2)" "icmp us" "ping us" "http ms" "sched p50" "p99 ms" "max ms"
taskset -a -pc "$CORE" "$AGENT" >/dev/null
phase "idle, agent on core $CORE"
for _ in 1 2; do taskset -c "$CORE" sh -c 'while :; do :; done' & SPIN+=($!); done
phase "core $CORE busy (2 spinners)"
stopSpin
phase "idle again"
mkdir "$CG"
echo $((QUOTA_PCT * 1000)) > "$CG/cpu.cfs_quota_us"   # of the 100 ms period
for t in /proc/"$AGENT"/task/*; do echo "${t##*/}" > "$CG/tasks"; done
phase "agent throttled to $QUOTA_PCT% CPU"
unthrottle
phase "idle again"
