#!/usr/bin/env bash
# Builds the local cluster's control plane (kube-apiserver, kube-controller-manager, kube-scheduler) from
# Debian's `kubernetes` source package, once per machine, into a cache outside the checkout keyed by version:
#   $NETHEALTH_K8S_CACHE (default /var/cache/nethealth)/kubernetes-<version>/bin/
# A complete cache (all three binaries and a .complete stamp) is reused as is; anything else is rebuilt.
# Also installs etcd (Debian `etcd-server`) and, when no kubectl is on PATH, Debian's `kubernetes-client`.
# Root. About 5 min and 1.5 GB of memory on 2 cores the first time; instant afterwards.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "build-kubernetes: run as root (apt-get)" >&2; exit 1; }

version=1.20.2
cache_root=${NETHEALTH_K8S_CACHE:-/var/cache/nethealth}
dest="$cache_root/kubernetes-$version"
binaries=(kube-apiserver kube-controller-manager kube-scheduler)

need_pkgs=()
dpkg -s etcd-server >/dev/null 2>&1 || need_pkgs+=(etcd-server)
command -v kubectl >/dev/null 2>&1 || need_pkgs+=(kubernetes-client)
if ((${#need_pkgs[@]})); then
  echo "build-kubernetes: installing ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
# Debian starts etcd as a service on install; the local cluster runs its own per cluster.
if systemctl is-active --quiet etcd 2>/dev/null; then systemctl disable --now etcd >/dev/null 2>&1 || true; fi
pkill -x etcd -U etcd 2>/dev/null || true

complete=1
for b in "${binaries[@]}"; do [ -x "$dest/bin/$b" ] || complete=0; done
[ -f "$dest/.complete" ] || complete=0
if [ "$complete" = 1 ]; then
  echo "build-kubernetes: control plane $version cached in $dest/bin"
  exit 0
fi

start=$(date +%s)
echo "build-kubernetes: building kube-apiserver, kube-controller-manager, kube-scheduler $version (about 5 min, once per machine)"
# deb-src entry for bookworm main, as the binary entry (apt-get source needs it).
src_list=/etc/apt/sources.list.d/nethealth-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  cat >"$src_list" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev golang-go rsync golang-github-modern-go-reflect2-dev >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/nethealth-k8s-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source -qq kubernetes >/dev/null 2>&1 || apt-get source kubernetes
src=$(find . -maxdepth 1 -type d -name 'kubernetes-*' | head -1)
[ -n "$src" ] || { echo "build-kubernetes: apt-get source kubernetes produced no source tree" >&2; exit 1; }
cd "$src"

# Go >= 1.18 breaks the vendored reflect2 1.0.1 (SIGSEGV in mapiternext on the first custom-resource
# request); Debian's reflect2 1.0.2 is the fix.
r2=vendor/github.com/modern-go/reflect2
rm -f "$r2"/*.go "$r2"/*.s
cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go "$r2"/
cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.s "$r2"/ 2>/dev/null || true
rm -f "$r2"/*_test.go

mkdir -p .go/src/k8s.io
ln -sfn ../../.. .go/src/k8s.io/kubernetes
mkdir -p "$work/home"
GOPATH=$PWD/.go GOCACHE="$work/gocache" CGO_ENABLED=0 HOME="$work/home" GOFLAGS=-mod=vendor \
  make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler" >"$work/make.log" 2>&1 || {
    tail -40 "$work/make.log" >&2
    echo "build-kubernetes: make failed (log above)" >&2
    exit 1
  }

mkdir -p "$dest.tmp/bin"
for b in "${binaries[@]}"; do
  [ -x "_output/bin/$b" ] || { echo "build-kubernetes: _output/bin/$b missing after make" >&2; exit 1; }
  cp "_output/bin/$b" "$dest.tmp/bin/$b"
done
rm -rf "$dest"
mv "$dest.tmp" "$dest"
elapsed=$(( $(date +%s) - start ))
printf 'built=%s\nseconds=%s\n' "$(date -u +%FT%TZ)" "$elapsed" >"$dest/.complete"
echo "build-kubernetes: built in $elapsed s into $dest/bin"
