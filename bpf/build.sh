#!/usr/bin/env bash
# Compile bpf/policy.bpf.c into <package>/.build/bpf/policy.bpf.o (or $1 / $BPF_OUT_DIR).
# Prefers the clang shipped beside `swift`, falls back to `clang` on PATH.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
out_dir="${1:-${BPF_OUT_DIR:-$root/.build/bpf}}"
mkdir -p "$out_dir"

cc="${BPF_CLANG:-}"
if [ -z "$cc" ] && command -v swift >/dev/null 2>&1; then
    cand="$(dirname "$(readlink -f "$(command -v swift)")")/clang"
    [ -x "$cand" ] && cc="$cand"
fi
[ -z "$cc" ] && cc="$(command -v clang || true)"
[ -z "$cc" ] && { echo "build.sh: no clang found (install the Swift toolchain or clang)" >&2; exit 1; }

multiarch="$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
tmp="$out_dir/.policy.bpf.o.$$"
"$cc" -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_x86 \
    -I"/usr/include/$multiarch" -I"$here" \
    -c "$here/policy.bpf.c" -o "$tmp"
mv -f "$tmp" "$out_dir/policy.bpf.o"   # atomic: concurrent test runs never see a partial object
echo "$out_dir/policy.bpf.o"
