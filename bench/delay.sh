#!/usr/bin/env bash
# `agent cluster fault --delay` benchmark: measured ping RTT node-1 -> node-2 for several delay
# settings, against the undelayed baseline. Needs root, iproute2, iptables, ping (iputils).
# All traffic stays inside a 2-node cluster made here (state in a temp dir); it is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

SETTINGS=${SETTINGS:-"5 20 50"}   # milliseconds
COUNT=${COUNT:-40}                # echoes per setting
CONFIG=${CONFIG:-debug}

TOOLS="ip ping nsenter iptables" TOOLS_HINT="iproute2 iputils-ping util-linux iptables" PREFIX=db UP_ARGS=""
source bench/two-node-cluster.sh
TARGET=$(inNode node-2 ip -4 -o addr show dev eth0 | awk '{split($4, a, "/"); print a[1]; exit}')

# Prints "min avg max mdev" in ms over COUNT echoes 50 ms apart (first echo dropped: ARP).
rtt() {
  inNode node-1 ping -n -q -c "$COUNT" -i 0.05 "$TARGET" | sed -n 's|.* = \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\) ms|\1 \2 \3 \4|p'
}

inNode node-1 ping -n -q -c 2 -i 0.2 "$TARGET" >/dev/null
printf '%-10s %9s %9s %9s %9s %12s\n' "setting" "min ms" "avg ms" "max ms" "mdev" "avg-setting"
read -r mn av mx md < <(rtt)
printf '%-10s %9s %9s %9s %9s %12s\n' "none" "$mn" "$av" "$mx" "$md" "-"
for d in $SETTINGS; do
  "$BIN/agent" cluster fault --name "$NAME" node-2 --delay "$d" >/dev/null
  read -r mn av mx md < <(rtt)
  printf '%-10s %9s %9s %9s %9s %12s\n' "${d} ms" "$mn" "$av" "$mx" "$md" "$(awk -v a="$av" -v d="$d" 'BEGIN{printf "%+.2f", a-d}')"
done
"$BIN/agent" cluster fault --name "$NAME" node-2 --clear >/dev/null
read -r mn av mx md < <(rtt)
printf '%-10s %9s %9s %9s %9s %12s\n' "cleared" "$mn" "$av" "$mx" "$md" "-"
