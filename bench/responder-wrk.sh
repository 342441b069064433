#!/usr/bin/env bash
# Bounded load on the /hello responder: wrk against `cilium-health-responder` (GET /hello) and
# `echo-server` (GET /public), side by side with Python's ThreadingHTTPServer as a reference, then
# the responder again while 1000 slowloris clients ("GET /hel" and nothing more) hold connections.
# Everything runs in a network namespace of its own, on its loopback only. Needs root and wrk
# (scripts/install-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (network namespace)" >&2; exit 1; }
command -v wrk >/dev/null || bash scripts/install-deps.sh

CONFIG=${CONFIG:-debug}         # release takes ~10 min to build on 2 cores
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}

swift build -c "$CONFIG" --product cilium-health-responder 2>&1 | tail -1
swift build -c "$CONFIG" --product echo-server 2>&1 | tail -1
BIN="$(swift build -c "$CONFIG" --show-bin-path)"

NS="nhbench-wrk-$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns delete "$NS" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
ip netns add "$NS"
ip -n "$NS" link set lo up
inns() { ip netns exec "$NS" "$@"; }

wait_for() {  # url
  for _ in $(seq 1 100); do
    inns curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  echo "server at $1 did not answer" >&2; exit 1
}

# "Requests/sec" and the 99th percentile from wrk's --latency output.
measure() {  # label url
  local out rps p99
  out=$(inns wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Socket errors|Non-2xx/ {print}' <<<"$out" | tr '\n' ' ')
  printf '%-48s %10s req/s   p99 %8s   %s\n' "$1" "$rps" "$p99" "$errors"
}

inns "$BIN/cilium-health-responder" --listen 4240 >/dev/null 2>&1 & pids+=($!)
inns "$BIN/echo-server" --address 127.0.0.1 --port 8080 >/dev/null 2>&1 & pids+=($!)
inns python3 -c '
import http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", 8000), H).serve_forever()' & pids+=($!)
wait_for http://127.0.0.1:4240/hello
wait_for http://127.0.0.1:8080/public
wait_for http://127.0.0.1:8000/

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $CONFIG build, $(nproc) cores:"
measure "cilium-health-responder GET /hello" http://127.0.0.1:4240/hello
measure "echo-server GET /public" http://127.0.0.1:8080/public
measure "reference: python3 ThreadingHTTPServer GET /" http://127.0.0.1:8000/

# 1000 partial requests held open; the responder closes them at its read-header timeout (10 s).
inns python3 -c '
import socket, time, sys
held = []
for _ in range(1000):
    s = socket.create_connection(("127.0.0.1", 4240)); s.sendall(b"GET /hel"); held.append(s)
start = time.time()
print("holding 1000 partial requests", flush=True)
closed_at = {}
while time.time() - start < 30 and len(closed_at) < len(held):
    for i, s in enumerate(held):
        if i in closed_at: continue
        s.setblocking(False)
        try:
            if s.recv(1) == b"": closed_at[i] = time.time() - start
        except BlockingIOError: pass
        except OSError: closed_at[i] = time.time() - start
    time.sleep(0.1)
t = sorted(closed_at.values())
print("partial requests closed by the server: %d/1000, first after %.1fs, last after %.1fs" %
      (len(t), t[0] if t else -1, t[-1] if t else -1), flush=True)
' & holder=$!; pids+=($holder)
sleep 1
measure "cilium-health-responder /hello, 1000 held partial" http://127.0.0.1:4240/hello
wait "$holder" || true
