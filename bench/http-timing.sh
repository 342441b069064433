#!/usr/bin/env bash
# HTTP and ICMP timing of the health prober against the reference tools, from the same namespace
# to the same responder in one run: our "HTTP to agent" vs `curl -w %{time_total}` (goal: within
# 0.2 ms), our "ICMP to stack" vs `ping` (goal: within 20 µs). Needs root, iproute2, ping, curl.
# All traffic stays inside a 2-node cluster made here (state in a temp dir); removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-15}
CONFIG=${CONFIG:-debug}   # the build the README runs

TOOLS="ip ping curl python3" TOOLS_HINT="iproute2 iputils-ping curl python3" PREFIX=ht UP_ARGS="--no-kubernetes"
source bench/two-node-cluster.sh
TARGET=198.18.0.12
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
inNode node-1 curl -s -o /dev/null "http://$TARGET:4240/hello"
inNode node-1 ping -n -q -c 2 -i 0.2 "$TARGET" >/dev/null

ours_http=(); curl_http=(); ours_icmp=(); ping_icmp=()
for r in $(seq "$ROUNDS"); do
  # Alternate the tools so drift on the machine hits both alike.
  json=$(inNode node-1 cilium-health status --probe -o json)
  read -r h i < <(python3 -c '
import json, sys
s = json.load(sys.stdin)
p = [n for n in s["nodes"] if n["name"].endswith("/node-2")][0]["host"]["primary-address"]
print(p["http"].get("latency", 0) / 1e6, p["icmp"].get("latency", 0) / 1e3)' <<<"$json")
  ours_http+=("$h"); ours_icmp+=("$i")
  curl_http+=("$(inNode node-1 curl -s -o /dev/null -w '%{time_total}' "http://$TARGET:4240/hello" | awk '{print $1 * 1000}')")
  ping_icmp+=("$(inNode node-1 ping -n -c 1 "$TARGET" | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | awk '{print $1 * 1000}')")
done
OH=$(printf '%s\n' "${ours_http[@]}" | median); CH=$(printf '%s\n' "${curl_http[@]}" | median)
OI=$(printf '%s\n' "${ours_icmp[@]}" | median); PI=$(printf '%s\n' "${ping_icmp[@]}" | median)
echo
printf '%-40s %12s %12s %14s\n' "median of $ROUNDS ($CONFIG build)" "nethealth" "reference" "gap"
awk -v a="$OH" -v b="$CH" 'BEGIN{d=a-b; printf "%-40s %10.3fms %10.3fms %+10.3fms %s\n", "HTTP /hello (vs curl time_total)", a, b, d, ((d<=0.2 && d>=-0.2)?"OK (goal 0.2 ms)":"MISSED goal 0.2 ms")}'
awk -v a="$OI" -v b="$PI" 'BEGIN{d=a-b; printf "%-40s %10.1fus %10.1fus %+10.1fus %s\n", "ICMP echo (vs ping)", a, b, d, ((d<=20 && d>=-20)?"OK (goal 20 us)":"MISSED goal 20 us")}'
