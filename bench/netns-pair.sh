# Sourced by the benches that probe many addresses (icmp.sh, scale.sh): two namespaces joined by a
# veth, P (the prober, 198.18.0.1) and T (the targets, 198.18.0.2), with TARGET_ROUTE routed from P
# to T. In: P, T, ID, TARGET_ROUTE. The caller's cleanup deletes the namespaces.
ip netns add "$P"; ip netns add "$T"
ip link add "bp$ID" netns "$P" type veth peer name "bt$ID" netns "$T"
ip -n "$P" addr add 198.18.0.1/24 dev "bp$ID"
ip -n "$T" addr add 198.18.0.2/24 dev "bt$ID"
for ns in "$P" "$T"; do ip -n "$ns" link set lo up; done
ip -n "$P" link set "bp$ID" up
ip -n "$T" link set "bt$ID" up
ip -n "$P" route add "$TARGET_ROUTE" via 198.18.0.2
