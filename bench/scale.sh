#!/usr/bin/env bash
# Scale benchmark of the health prober, side by side with reference tools. Needs root.
#  (a) REAL agents on REAL namespace nodes: detection time of a black-holed node on every other
#      node, ICMP bursts/s per agent, agent RSS, /v1beta/status latency.
#  (b) one prober against 1000 and 5000 simulated targets (addresses on one namespace's lo, one
#      responder answering for all): RSS, CPU, status time; CPU per ICMP probe vs fping and per
#      HTTP probe vs Debian's prometheus-blackbox-exporter probing the same targets.
# All traffic stays inside namespaces made here; they are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}   # a separate release tree (e.g. .build-rel) keeps debug builds undisturbed

REAL=${REAL:-100}                 # real agents (cluster nodes); 0 skips (a)
TARGETS=${TARGETS-"1000 5000"}    # simulated targets for (b); empty (TARGETS=) skips it
RUN_SECONDS=${RUN_SECONDS:-60}
ICMP_RUNS=${ICMP_RUNS:-3}         # repetitions of the ICMP CPU comparison (median)
STEPS=${STEPS:-"agent icmp http"} # which measurements of (b) to run, per target count
# VERBOSE=1 also prints the prober's RSS/CPU every 5 s (where its peak happens).
CONFIG=${CONFIG:-release}

for t in ip fping curl python3 nsenter; do
  command -v "$t" >/dev/null || { echo "missing $t (apt-get install -y iproute2 fping curl python3 util-linux)" >&2; exit 1; }
done
if ! command -v prometheus-blackbox-exporter >/dev/null; then
  echo "== installing prometheus-blackbox-exporter (Debian)"
  apt-get install -y -q prometheus-blackbox-exporter >/dev/null
fi

echo "== building ($CONFIG)"
for p in agent cilium-health cilium-health-responder nfq-delay icmp-bench health-scale-bench; do
  swift build -c "$CONFIG" --scratch-path "$SCRATCH" --product "$p" 2>&1 | tail -1
done
BIN="$(swift build -c "$CONFIG" --scratch-path "$SCRATCH" --show-bin-path)"
TMP=$(mktemp -d)
ID=$(printf '%04x%04x' $RANDOM $RANDOM)
P="scale-$ID-p"; T="scale-$ID-t"; NAME="sc$(printf '%04x' $RANDOM)"
export NETHEALTH_STATE_DIR="$TMP/state"
EXPORTER_PID=""; AGENT_PID=""
cleanup() {
  for f in "$TMP/exporter.pid" "$TMP/responder.pid"; do [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null; done || true
  [ -n "$EXPORTER_PID" ] && kill "$EXPORTER_PID" 2>/dev/null || true
  [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null || true
  "$BIN/agent" cluster down --name "$NAME" >/dev/null 2>&1 || true
  ip netns del "$P" 2>/dev/null || true
  ip netns del "$T" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# ---------------------------------------------------------------- (a) real agents
if [ "$REAL" -gt 0 ]; then
  echo "== (a) $REAL real agents (no Kubernetes, ratio 0.5)"
  free -m | awk '/Mem:/ {print "   memory before: used " $3 " MiB of " $2}'
  start=$(date +%s.%N)
  "$BIN/agent" cluster up --name "$NAME" --nodes "$REAL" --no-kubernetes --probe-ratio 0.5 >/dev/null
  echo "   cluster up in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s"
  sleep "${SETTLE:-30}"
  free -m | awk '/Mem:/ {print "   memory with the cluster: used " $3 " MiB"}'
  VICTIM=node-$((REAL / 2))
  python3 - "$NETHEALTH_STATE_DIR" "$NAME" "$REAL" "$VICTIM" "$BIN/agent" <<'PY'
import http.client, json, os, socket, subprocess, sys, threading, time
state, name, n, victim, agent = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
nodes = [f"node-{i}" for i in range(1, n + 1)]
class UnixConn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=5); self.path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.settimeout(5); self.sock.connect(self.path)
def sock(node):
    return f"{state}/{name}/{node}/health.sock"
def get(node, path):
    c = UnixConn(sock(node)); t = time.monotonic(); c.request("GET", path); r = c.getresponse(); body = r.read()
    return json.loads(body), time.monotonic() - t
missing = [x for x in nodes if not os.path.exists(sock(x))]
if missing:
    print("   health sockets missing:", missing[:3]); sys.exit(1)
# RSS of every agent process of this cluster
rss = []
for pid in os.listdir("/proc"):
    if not pid.isdigit(): continue
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        if b"node" in cmd and b"run" in cmd and name.encode() in cmd:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"): rss.append(int(line.split()[1]) / 1024)
    except OSError: pass
rss.sort()
lat = sorted(get(x, "/v1beta/status")[1] * 1000 for x in nodes[:20] * 3)
rates = sorted(get(x, "/v1beta/status/wide")[0]["prober"]["probesPerSecond"] for x in nodes)
print(f"   agents: {len(rss)}, RSS median {rss[len(rss)//2]:.1f} MB, max {rss[-1]:.1f} MB")
print(f"   /v1beta/status latency: median {lat[len(lat)//2]:.2f} ms, max {lat[-1]:.2f} ms")
print(f"   ICMP bursts/s per agent (fast path + sweep, last minute): median {rates[len(rates)//2]:.2f}, max {rates[-1]:.2f} (goal <= 20)")
full = f"{name}/{victim}"
observers = [x for x in nodes if x != victim]
subprocess.run([agent, "cluster", "fault", "--name", name, victim, "--drop", "all"], check=True, stdout=subprocess.DEVNULL)
t0 = time.monotonic(); seen = {}
def poll(node):
    while node not in seen and time.monotonic() - t0 < 60:
        try:
            status, _ = get(node, "/v1beta/status")
            for s in status["nodes"]:
                if s["name"] == full:
                    paths = [s.get("host", {}).get("primary-address", {})]
                    if any(p.get("icmp", {}).get("status") or p.get("http", {}).get("status") for p in paths):
                        seen[node] = time.monotonic() - t0
        except Exception: pass
        time.sleep(0.2)
threads = [threading.Thread(target=poll, args=(x,)) for x in observers]
for t in threads: t.start()
for t in threads: t.join()
times = sorted(seen.values())
print(f"   black-hole of {victim}: reported by {len(times)}/{len(observers)} nodes, "
      f"p50 {times[len(times)//2]:.2f} s, max {times[-1]:.2f} s (goal <= 5 s at 100 nodes; polled every 0.2 s)")
# The slowest observers next to their own scheduling delay (last minute): a late report from a
# starved prober is the machine's CPU, not the detection logic.
def prober(node):
    try: return get(node, "/v1beta/status/wide")[0]["prober"]
    except Exception: return None
slow = sorted(observers, key=lambda x: -seen.get(x, 99))[:5]
for node in slow:
    p = prober(node)
    delay = f"scheduling delay p99 {p['schedulingDelayP99']/1e6:.0f} ms, max {p['schedulingDelayMax']/1e6:.0f} ms" if p else "no wide status"
    print(f"     {node}: {seen.get(node, float('nan')):.2f} s; {delay}")
delays = sorted(p["schedulingDelayMax"] / 1e6 for p in map(prober, observers) if p)
if delays:
    print(f"   prober scheduling delay max over the last minute, all observers: median {delays[len(delays)//2]:.0f} ms, max {delays[-1]:.0f} ms")
subprocess.run([agent, "cluster", "fault", "--name", name, victim, "--clear"], check=True, stdout=subprocess.DEVNULL)
PY
  "$BIN/agent" cluster down --name "$NAME" >/dev/null
fi

# ---------------------------------------------------------------- (b) simulated targets
[ -z "$TARGETS" ] && exit 0
echo "== (b) one prober against simulated targets ($P -> $T: addresses on $T's lo, one responder)"
TARGET_ROUTE=198.18.64.0/18 source bench/netns-pair.sh
inP() { nsenter --net="/run/netns/$P" "$@"; }
inT() { nsenter --net="/run/netns/$T" "$@"; }
MAX=$(for n in $TARGETS; do echo "$n"; done | sort -n | tail -1)
for i in $(seq 0 $((MAX - 1))); do n=$((64 * 256 + 1 + i)); echo "198.18.$((n / 256)).$((n % 256))"; done > "$TMP/all"
sed 's|.*|addr add &/32 dev lo|' "$TMP/all" | ip -n "$T" -batch -
inT "$BIN/cilium-health-responder" --listen 4240 --pidfile "$TMP/responder.pid" >/dev/null 2>&1 &
for _ in $(seq 50); do inP curl -s -o /dev/null --max-time 1 http://198.18.64.1:4240/hello && break; sleep 0.2; done
cpu() { # "user+sys" seconds of a command (wait4 rusage)
  python3 - "$@" <<'PY'
import os, sys
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 1); os.dup2(fd, 2); os.execvp(sys.argv[1], sys.argv[1:])
_, _, ru = os.wait4(pid, 0)
print(f"{ru.ru_utime + ru.ru_stime:.4f}")
PY
}
proc_cpu() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
cat > "$TMP/blackbox.yml" <<'YML'
modules:
  http_2xx:
    prober: http
    timeout: 10s
    http:
      method: GET
      valid_status_codes: [200]
YML

printf '\n%-8s %-44s %14s %14s %10s\n' targets metric nethealth reference ratio
step() { [[ " $STEPS " == *" $1 "* ]]; }
for n in $TARGETS; do
  head -n "$n" "$TMP/all" > "$TMP/t$n"
  if step agent; then
  # The prober as the agent runs it, with its API on a unix socket.
  inP "$BIN/health-scale-bench" agent --file "$TMP/t$n" --socket "$TMP/h$n.sock" --seconds "$RUN_SECONDS" > "$TMP/agent$n.out" 2>&1 &
  AGENT_PID=$!
  sleep $((RUN_SECONDS / 2))
  st=(); cl=()
  for _ in 1 2 3 4 5; do
    st+=("$(curl -s -o /dev/null --unix-socket "$TMP/h$n.sock" -w '%{time_total}' http://localhost/v1beta/status | awk '{print $1*1000}')")
    s0=$(date +%s%N); "$BIN/cilium-health" -H "unix://$TMP/h$n.sock" status -o json >/dev/null; s1=$(date +%s%N)
    cl+=("$(( (s1 - s0) / 1000000 ))")
  done
  wait "$AGENT_PID" || true; AGENT_PID=""
  final=$(tail -1 "$TMP/agent$n.out")
  rss=$(sed -n 's/.*peak_kib=\([0-9]*\).*/\1/p' <<<"$final"); cpu_s=$(sed -n 's/.*cpu_s=\([0-9.]*\).*/\1/p' <<<"$final")
  echoes=$(grep -o 'echoes=[0-9]*' "$TMP/agent$n.out" | tail -1 | cut -d= -f2)
  printf '%-8s %-44s %12.1fMB %14s %10s\n' "$n" "prober peak RSS (goal <= 40 MB)" "$(awk -v k="$rss" 'BEGIN{print k/1024}')" "-" "-"
  # The rest of the RSS is mapped library and binary text (about 34 MB however few the targets).
  anon=$(grep -o 'anon_kib=[0-9]*' "$TMP/agent$n.out" | cut -d= -f2 | sort -n | tail -1)
  printf '%-8s %-44s %12.1fMB %14s %10s\n' "$n" "prober anon RSS, largest 5 s sample" "$(awk -v k="${anon:-0}" 'BEGIN{print k/1024}')" "-" "-"
  printf '%-8s %-44s %12.2fms %14s %10s\n' "$n" "GET /v1beta/status, server (goal <= 50 ms)" "$(printf '%s\n' "${st[@]}" | median)" "-" "-"
  # The first request encodes every node; later ones only the nodes whose status changed since.
  printf '%-8s %-44s %12.2fms %14s %10s\n' "$n" "GET /v1beta/status, first request" "${st[0]}" "-" "-"
  printf '%-8s %-44s %12dms %14s %10s\n' "$n" "cilium-health status -o json, whole CLI" "$(printf '%s\n' "${cl[@]}" | median)" "-" "-"
  printf '%-8s %-44s %12.2fs %14s %10s\n' "$n" "prober CPU over ${RUN_SECONDS}s ($echoes echoes)" "$cpu_s" "-" "-"
  echo "         $(sed -n 's/^\(targets=.*\)/\1/p' "$TMP/agent$n.out")"
  if [ -n "${VERBOSE:-}" ]; then sed 's/^/         /' "$TMP/agent$n.out"; fi
  fi

  # CPU per ICMP probe: a 5-echo burst per target, 20 ms apart, vs fping sending the same.
  if step icmp; then
  ours=(); theirs=()
  for _ in $(seq "$ICMP_RUNS"); do
    ours+=("$(cpu nsenter --net="/run/netns/$P" "$BIN/icmp-bench" sweep --file "$TMP/t$n" --burst 5 --spacing-ms 20 --deadline-ms 1000 --concurrency 256)")
    theirs+=("$(cpu nsenter --net="/run/netns/$P" fping -q -C 5 -p 20 -i 1 -f "$TMP/t$n")")
  done
  o=$(printf '%s\n' "${ours[@]}" | median); f=$(printf '%s\n' "${theirs[@]}" | median)
  printf '%-8s %-44s %12.1fus %12.1fus %9.2fx\n' "$n" "CPU per ICMP probe (5 echoes) vs fping -C5" \
    "$(awk -v c="$o" -v n="$n" 'BEGIN{print c/n*1e6}')" "$(awk -v c="$f" -v n="$n" 'BEGIN{print c/n*1e6}')" "$(awk -v a="$o" -v b="$f" 'BEGIN{print (b>0)?a/b:0}')"
  fi

  # CPU per HTTP probe: our probe vs blackbox exporter's http prober, same targets, 16 at a time.
  step http || continue
  ours_line=$(inP "$BIN/health-scale-bench" http --file "$TMP/t$n" --rounds 1 --concurrency 16)
  ours_http=$(sed -n 's/.*cpu_us_per_probe=\([0-9.]*\).*/\1/p' <<<"$ours_line")
  echo "         nethealth: $(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$ours_line")/$n probes succeeded"
  # sh records its own pid and execs the exporter, so the pid is the exporter's (nsenter forks).
  inP sh -c 'echo $$ > "$1"; exec prometheus-blackbox-exporter --config.file="$2" --web.listen-address=127.0.0.1:9115' \
    _ "$TMP/exporter.pid" "$TMP/blackbox.yml" >/dev/null 2>&1 &
  EXPORTER_PID=$!
  for _ in $(seq 50); do inP curl -s -o /dev/null --max-time 1 http://127.0.0.1:9115/metrics && break; sleep 0.2; done
  XPID=$(cat "$TMP/exporter.pid")
  c0=$(proc_cpu "$XPID")
  # The driver's own CPU is not counted: only the exporter's, as only the prober's is above.
  inP python3 - "$TMP/t$n" <<'PY'
import sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
targets = [l.strip() for l in open(sys.argv[1]) if l.strip()]
def probe(ip):
    with urllib.request.urlopen(f"http://127.0.0.1:9115/probe?module=http_2xx&target=http://{ip}:4240/hello", timeout=15) as r:
        return b"probe_success 1" in r.read()
with ThreadPoolExecutor(16) as pool:
    ok = sum(pool.map(probe, targets))
print(f"         blackbox-exporter: {ok}/{len(targets)} probes succeeded")
PY
  c1=$(proc_cpu "$XPID")
  kill "$XPID"; wait "$EXPORTER_PID" 2>/dev/null || true; EXPORTER_PID=""; rm -f "$TMP/exporter.pid"
  bb=$(awk -v a="$c0" -v b="$c1" -v n="$n" 'BEGIN{print (b-a)/n*1e6}')
  printf '%-8s %-44s %12.1fus %12.1fus %9.2fx\n' "$n" "CPU per HTTP probe vs blackbox-exporter" "$ours_http" "$bb" \
    "$(awk -v a="$ours_http" -v b="$bb" 'BEGIN{print (b>0)?a/b:0}')"
done
