#!/usr/bin/env bash
# The main job: a 3-node local cluster with a real Kubernetes control plane that the node agents join,
# health probing between every node, a fault and its repair, then the connectivity-check workload run
# on that cluster with a report.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces and raw sockets)" >&2; exit 1; }
bash scripts/install-deps.sh
bash scripts/build-kubernetes.sh   # once per machine (about 5 min), cached outside the checkout
swift build
bin=$(swift build --show-bin-path)
agent="$bin/agent"
trap '"$agent" cluster down' EXIT

"$agent" cluster up --nodes 3 --ipv6 --probe-ratio 0
export KUBECONFIG="${NETHEALTH_STATE_DIR:-/run/nethealth}/local/kubeconfig"
echo; echo "== kubectl get nodes -o wide (each node is one of our agents; Lease heartbeats every 2 s)"
kubectl get nodes -o wide
kubectl get leases -n kube-node-lease
echo; echo "== the troubleshooting guide's workflow: kubectl apply of connectivity-check.yaml (agents are kubelet, proxy and DNS)"
kubectl create ns cilium-test
until kubectl get serviceaccount default -n cilium-test >/dev/null 2>&1; do sleep 0.5; done
kubectl apply -n cilium-test -f examples/connectivity-check/connectivity-check.yaml
# The external checks need the internet (the deny check passes: the node agents enforce the CNP).
kubectl wait -n cilium-test --for=condition=Available --timeout=2m $(kubectl get deploy -n cilium-test -o name \
  | grep -v -e pod-to-external)
kubectl get pods -n cilium-test -o wide
echo; echo "== why pod-to-external-1111 is not ready (kubectl describe pod)"
kubectl describe pod -n cilium-test -l name=pod-to-external-1111 | sed -n '/^Events:/,$p'
kubectl delete ns cilium-test --wait=true --timeout=60s
echo; echo "== node-1: cilium-health status --probe"
"$agent" cluster exec node-1 -- cilium-health status --probe
echo; echo "== black-holing node-2 (agent cluster fault node-2 --drop all)"
"$agent" cluster fault node-2 --drop all
"$agent" cluster exec node-1 -- cilium-health status --probe --verbose
echo; echo "== clearing the fault"
"$agent" cluster fault node-2 --clear
"$agent" cluster exec node-1 -- cilium-health status --probe
echo; echo "== connectivity-check workload on the same cluster (conntest run)"
# --external-ip: the external checks probe a simulated host in its own namespace (never the internet).
"$bin/conntest" run --cluster local --timeout 2m --external-ip 198.18.200.1
echo; echo "== the same checks over IPv6 only (every Service, NodePort and DNS answer IPv6)"
"$bin/conntest" run --cluster local --timeout 2m --ip-family ipv6
