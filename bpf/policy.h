/* Shared layout between bpf/policy.bpf.c and the Swift loader (Sources/Datapath).
 * Keep in sync with Sources/Datapath/PolicyMaps.swift. All structs are packed by
 * construction (natural alignment, explicit padding). */
#ifndef NETHEALTH_POLICY_H
#define NETHEALTH_POLICY_H

#define POLICY_F_EGRESS_ENFORCE   (1u << 0)
#define POLICY_F_INGRESS_ENFORCE  (1u << 1)
#define POLICY_F_ALLOW_ICMP_ECHO  (1u << 2)

#define POLICY_DIR_EGRESS  1 /* from the pod (host veth tc ingress) */
#define POLICY_DIR_INGRESS 2 /* to the pod (host veth tc egress) */

#define DROP_REASON_POLICY_EGRESS  1
#define DROP_REASON_POLICY_INGRESS 2

/* pod_config value (key: __u32 endpoint id) — 24 bytes */
struct pod_config {
    __u32 flags;
    __u8  ipv4[4];
    __u8  ipv6[16];
};

/* egress_allow / ingress_allow LPM trie key — 28 bytes.
 * prefixlen = 64 + IP prefix length: endpoint, family, proto and dport are
 * always matched exactly; proto 0 = any protocol, dport 0 = any port. */
struct policy_key {
    __u32 prefixlen;
    __u32 endpoint;
    __u8  family;   /* 4 or 6 */
    __u8  proto;    /* IPPROTO_*, 0 = any */
    __u16 dport;    /* network byte order, 0 = any */
    __u8  addr[16]; /* peer address; IPv4 in the first 4 bytes */
};

/* conntrack LRU key (5-tuple of the originating direction) — 40 bytes */
struct ct_key {
    __u8  family;
    __u8  proto;
    __u16 pad;
    __u16 sport;    /* network byte order (ICMP echo: identifier) */
    __u16 dport;
    __u8  saddr[16];
    __u8  daddr[16];
};

/* ring buffer record — 56 bytes */
struct drop_event {
    __u64 timestamp_ns;  /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
    __u32 ifindex;       /* host-side veth ifindex (node namespace) */
    __u32 endpoint;
    __u8  direction;     /* POLICY_DIR_* */
    __u8  family;        /* 4 or 6 */
    __u8  proto;
    __u8  reason;        /* DROP_REASON_* */
    __u16 sport;         /* host byte order */
    __u16 dport;         /* host byte order */
    __u8  saddr[16];
    __u8  daddr[16];
};

#endif
