#!/usr/bin/env bash
# Installs the Debian packages the suite and its tests use (root). Swift 6.3 must already be on PATH.
set -euo pipefail
# prometheus: its promtool checks the metrics exposition in the tests. libsqlite3-dev: GRDB links the system SQLite.
# librsvg2-bin: rsvg-convert turns the history charts into PNG.
packages=(iproute2 nftables iptables iputils-ping fping util-linux curl openssl procps python3 dnsmasq-base
          libbpf-dev libelf-dev libnetfilter-queue-dev prometheus wrk libsqlite3-dev librsvg2-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Python validators the conformance tests run: a JUnit consumer and a JSON Schema validator.
if ! python3 -c 'import junitparser, jsonschema' 2>/dev/null; then
  echo "installing python packages: junitparser jsonschema"
  python3 -m pip install --quiet --disable-pip-version-check 'junitparser>=2.8' 'jsonschema>=4' 2>/dev/null \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-junitparser python3-jsonschema >/dev/null
  python3 -c 'import junitparser, jsonschema' || { echo "python3 cannot import junitparser/jsonschema" >&2; exit 1; }
fi
command -v swift >/dev/null || { echo "swift not found: install the Swift 6.3 toolchain first" >&2; exit 1; }
