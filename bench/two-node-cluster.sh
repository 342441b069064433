# Sourced by the benches that run on a 2-node local cluster (delay.sh, http-timing.sh): checks the
# tools, builds what the cluster runs, brings the cluster up (state in a temp dir) and removes it
# on exit. In: CONFIG, TOOLS (commands that must exist, with the apt packages that give them in
# TOOLS_HINT), PREFIX (cluster name prefix), UP_ARGS. Out: BIN, NAME, inNode NODE CMD...
for t in $TOOLS; do
  command -v "$t" >/dev/null || { echo "missing $t (apt-get install -y $TOOLS_HINT)" >&2; exit 1; }
done
echo "== building ($CONFIG) agent, cilium-health, responder, nfq-delay"
for p in agent cilium-health cilium-health-responder nfq-delay; do
  swift build -c "$CONFIG" --product "$p" 2>&1 | tail -1
done
BIN="$(swift build -c "$CONFIG" --show-bin-path)"

NAME="$PREFIX$(printf '%04x' $RANDOM)"
export NETHEALTH_STATE_DIR; NETHEALTH_STATE_DIR=$(mktemp -d)
cleanup() {
  "$BIN/agent" cluster down --name "$NAME" >/dev/null 2>&1 || true
  rm -rf "$NETHEALTH_STATE_DIR"
}
trap cleanup EXIT INT TERM

# shellcheck disable=SC2086
"$BIN/agent" cluster up --name "$NAME" --nodes 2 $UP_ARGS >/dev/null
inNode() { local n=$1; shift; "$BIN/agent" cluster exec --name "$NAME" "$n" -- "$@"; }
