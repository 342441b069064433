#!/usr/bin/env bash
# The local cluster's Kubernetes control plane, measured:
#   build   - scripts/build-kubernetes.sh from a clean tree (COLD_BUILD=1 rebuilds into a scratch cache;
#             otherwise the time recorded when this machine's cache was built is printed)
#   up      - `agent cluster up --nodes N` to every Node Ready: cold (page cache dropped) and warm (median)
#   RSS     - of etcd, kube-apiserver, controller-manager, scheduler, the forwarder and each node agent
#   apply   - `kubectl apply` of connectivity-check.yaml to the 11 locally passable deployments Available
#             (the troubleshooting guide's `kubectl wait --for=condition=Available`), agents' RSS after
# Reference: the same control plane started by hand (../shared/spec/kubernetes.md): /readyz after 4.6 s,
# apiserver 323 MB, etcd 44 MB. Needs root. Its cluster is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

NODES=${NODES:-3}
RUNS=${RUNS:-3}
CONFIG=${CONFIG:-debug}

if [ "${COLD_BUILD:-0}" = 1 ]; then
  scratch=$(mktemp -d)
  t0=$(date +%s)
  NETHEALTH_K8S_CACHE="$scratch" bash scripts/build-kubernetes.sh >/dev/null
  printf 'control-plane build (cold, clean tree): %ds\n' "$(( $(date +%s) - t0 ))"
  rm -rf "$scratch"
else
  bash scripts/build-kubernetes.sh >/dev/null
  stamp="${NETHEALTH_K8S_CACHE:-/var/cache/nethealth}/kubernetes-1.20.2/.complete"
  printf 'control-plane build (cold, recorded when the cache was made): %ss (COLD_BUILD=1 to measure again)\n' \
    "$(sed -n 's/^seconds=//p' "$stamp" 2>/dev/null || echo '?')"
fi

swift build -c "$CONFIG" 2>&1 | tail -1
BIN="$(swift build -c "$CONFIG" --show-bin-path)"
NAME="cpb$(printf '%04x' $RANDOM)"
export NETHEALTH_STATE_DIR=$(mktemp -d)
cleanup() { "$BIN/agent" cluster down --name "$NAME" >/dev/null 2>&1 || true; rm -rf "$NETHEALTH_STATE_DIR"; }
trap cleanup EXIT INT TERM

up() {
  local t0 t1
  t0=$(date +%s.%N)
  "$BIN/agent" cluster up --name "$NAME" --nodes "$NODES" >/dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

sync; echo 3 >/proc/sys/vm/drop_caches
cold=$(up)
printf 'cluster up -> %d nodes Ready, cold (page cache dropped): %.2fs\n' "$NODES" "$cold"

rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
dir="$NETHEALTH_STATE_DIR/$NAME"
total=0
for c in etcd kube-apiserver kube-controller-manager kube-scheduler apiserver-forward; do
  pid=$(cat "$dir/control-plane/$c.pid")
  m=$(rss "$pid"); total=$((total + m))
  printf '  RSS %-24s %5s MB\n' "$c" "$m"
done
printf '  RSS control plane total        %5s MB   (by hand, spec: apiserver 323 MB, etcd 44 MB)\n' "$total"
agents=0
for i in $(seq "$NODES"); do agents=$((agents + $(rss "$(cat "$dir/node-$i/agent.pid")"))); done
printf '  RSS node agents                %5s MB   (%d agents, %s MB each on average)\n' "$agents" "$NODES" "$((agents / NODES))"

export KUBECONFIG="$dir/kubeconfig"
kubectl create ns cilium-test >/dev/null
until kubectl get serviceaccount default -n cilium-test >/dev/null 2>&1; do sleep 0.2; done
t0=$(date +%s.%N)
kubectl apply -n cilium-test -f examples/connectivity-check/connectivity-check.yaml >/dev/null
kubectl wait -n cilium-test --for=condition=Available --timeout=3m $(kubectl get deploy -n cilium-test -o name \
  | grep -v -e pod-to-external -e pod-to-a-denied-cnp) >/dev/null
t1=$(date +%s.%N)
printf 'kubectl apply connectivity-check.yaml -> 11 deployments Available: %.2fs\n' "$(echo "$t1 - $t0" | bc)"
agents=0
for i in $(seq "$NODES"); do agents=$((agents + $(rss "$(cat "$dir/node-$i/agent.pid")"))); done
printf '  RSS node agents with the workload %5s MB\n' "$agents"

times=()
for _ in $(seq "$RUNS"); do
  "$BIN/agent" cluster down --name "$NAME" >/dev/null
  times+=("$(up)")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf 'cluster up -> %d nodes Ready, warm, %d runs: median %.2fs (all: %s)\n' "$NODES" "$RUNS" "$median" "${times[*]}"
