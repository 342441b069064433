#!/usr/bin/env bash
# ICMPProbe benchmark: RTT vs ping, CPU vs fping. Needs root, iproute2, ping (iputils), fping, python3 (rusage).
# All traffic stays inside two namespaces made here (icmpt-<random>-bp / -bt); they are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-7}            # repetitions of the CPU measurement (median is reported)
CONCURRENCY=${CONCURRENCY:-256}

for t in ip ping fping nsenter python3; do
  command -v "$t" >/dev/null || { echo "missing $t (apt-get install -y iproute2 iputils-ping fping python3)" >&2; exit 1; }
done

PRODUCT=icmp-bench
echo "== building release $PRODUCT"
swift build -c release --product "$PRODUCT" 2>&1 | tail -1
BIN="$(swift build -c release --show-bin-path)/$PRODUCT"

ID=$(printf '%04x%04x' $RANDOM $RANDOM)
P="icmpt-$ID-bp"; T="icmpt-$ID-bt"
TMP=$(mktemp -d)
cleanup() {
  ip netns del "$P" 2>/dev/null || true
  ip netns del "$T" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

echo "== topology $P <-> $T (1000 targets on $T's lo)"
TARGET_ROUTE=198.18.100.0/22 source bench/netns-pair.sh

# 198.18.100.1 .. 198.18.103.232
for i in $(seq 0 999); do
  n=$((100 * 256 + 1 + i)); echo "198.18.$((n / 256)).$((n % 256))"
done > "$TMP/addrs"
sed 's|.*|addr add &/32 dev lo|' "$TMP/addrs" | ip -n "$T" -batch -

inP() { nsenter --net="/run/netns/$P" "$@"; }
for _ in $(seq 10); do inP ping -c1 -W1 198.18.0.2 >/dev/null 2>&1 && break; done

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "== 1. RTT median, 20 echoes 200 ms apart to 198.18.0.2 (two alternating rounds)"
ours=(); theirs=()
for round in 1 2; do
  ours+=("$(inP "$BIN" rtt --count 20 --interval-ms 200 --quiet 198.18.0.2)")
  theirs+=("$(inP ping -c 20 -i 0.2 198.18.0.2 | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | awk '{print $1*1000}' | median)")
  echo "   round $round: ICMPProbe ${ours[-1]} us, ping ${theirs[-1]} us"
done
OUR_RTT=$(printf '%s\n' "${ours[@]}" | median)
PING_RTT=$(printf '%s\n' "${theirs[@]}" | median)

echo "== 2. CPU (user+sys) to probe 1000 addresses once, $RUNS runs each"
cpu() { # prints "user sys wall" seconds of the command (wait4 rusage, µs resolution; /usr/bin/time only has 10 ms)
  python3 - "$TMP/out" "$@" <<'PY'
import os, sys, time
out = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    os.dup2(out, 1); os.dup2(out, 2)
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
print(f"{ru.ru_utime:.4f} {ru.ru_stime:.4f} {time.monotonic() - t0:.3f}")
PY
}
ourc=(); fpc=(); fpc1=()
for r in $(seq "$RUNS"); do
  read -r u s e < <(cpu nsenter --net="/run/netns/$P" "$BIN" sweep --file "$TMP/addrs" --concurrency "$CONCURRENCY")
  ourc+=("$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')"); ours_wall=$e
  [ "$r" = 1 ] && echo "   ICMPBench sweep: $(cat "$TMP/out")"
  read -r u s e < <(cpu nsenter --net="/run/netns/$P" fping -q -c1 -f "$TMP/addrs")
  fpc+=("$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')"); fp_wall=$e
  [ "$r" = 1 ] && echo "   fping -q -c1: $(grep -c 'xmt/rcv/%loss = 1/1/0%' "$TMP/out") of 1000 answered, wall ${e}s"
  read -r u s e < <(cpu nsenter --net="/run/netns/$P" fping -q -c1 -i1 -f "$TMP/addrs")
  fpc1+=("$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')"); fp1_wall=$e
  echo "   run $r: ICMPBench ${ourc[-1]} s, fping ${fpc[-1]} s, fping -i1 ${fpc1[-1]} s"
done
OUR_CPU=$(printf '%s\n' "${ourc[@]}" | median)
FP_CPU=$(printf '%s\n' "${fpc[@]}" | median)
FP1_CPU=$(printf '%s\n' "${fpc1[@]}" | median)

echo
echo "================ summary ================"
printf '%-44s %12s %12s %12s\n' "metric" "ICMPProbe" "reference" "result"
awk -v a="$OUR_RTT" -v b="$PING_RTT" 'BEGIN{d=a-b; printf "%-44s %10.1fus %10.1fus  diff %+.1fus %s\n", "RTT median (vs ping -c20 -i0.2)", a, b, d, ((d<=20 && d>=-20)?"OK (goal |diff|<=20us)":"MISSED goal 20us")}'
awk -v a="$OUR_CPU" -v b="$FP_CPU" 'BEGIN{r=(b>0)?a/b:0; printf "%-44s %11.4fs %11.4fs  ratio %.2fx %s\n", "CPU 1000 addrs (vs fping -q -c1)", a, b, r, ((b>0 && r<=1.5)?"OK (goal <=1.5x)":(b>0?"MISSED goal 1.5x":"fping cpu below clock resolution"))}'
awk -v a="$OUR_CPU" -v b="$FP1_CPU" 'BEGIN{r=(b>0)?a/b:0; printf "%-44s %11.4fs %11.4fs  ratio %.2fx\n", "CPU 1000 addrs (vs fping -q -c1 -i1)", a, b, r}'
echo "wall: ICMPBench ${ours_wall}s (concurrency $CONCURRENCY), fping ${fp_wall}s, fping -i1 ${fp1_wall}s"
