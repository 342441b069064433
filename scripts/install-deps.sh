#!/usr/bin/env bash
# Installs the Debian packages the suite and its tests use (root). Swift 6.3 must already be on PATH.
set -euo pipefail
packages=(iproute2 nftables iptables iputils-ping fping util-linux curl openssl procps python3 dnsmasq-base
          libbpf-dev libelf-dev libnetfilter-queue-dev wrk)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift not found: install the Swift 6.3 toolchain first" >&2; exit 1; }
