#!/usr/bin/env bash
# Runs every test: unit, golden, and end-to-end on real local clusters (root: namespaces, raw ICMP).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces and raw sockets)" >&2; exit 1; }
bash scripts/install-deps.sh
# The local cluster's Kubernetes control plane: built once per machine, cached outside the checkout.
bash scripts/build-kubernetes.sh

# Safety net: simulated addresses never leave the machine from the host namespace.
added_blackhole=0
if ! ip route show 198.18.0.0/15 | grep -q .; then
  ip route add blackhole 198.18.0.0/15 && added_blackhole=1
fi
cleanup() {
  [ "$added_blackhole" = 1 ] && ip route del blackhole 198.18.0.0/15 2>/dev/null || true
}
trap cleanup EXIT

swift build --build-tests
swift test --skip-build

# Tests clean up after themselves; make a leak visible rather than silent.
leftover=$(ip netns list | awk '{print $1}' | grep -E '^(nh-t[0-9a-f]+-|icmpt-)' || true)
if [ -n "$leftover" ]; then
  echo "tests left namespaces behind:" $leftover >&2
  exit 1
fi
