// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Per-pod L3/L4 network policy, attached with tc clsact (direct-action) on the
 * host side of each pod's veth:
 *   host veth tc ingress  -> policy_from_pod  (pod egress)
 *   host veth tc egress   -> policy_to_pod    (pod ingress)
 * The loader (Sources/Datapath) owns all maps; nothing is pinned. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "policy.h"

/* linux/icmp.h drags in libc socket headers; define what we need. */
#define ICMP_ECHOREPLY       0
#define ICMP_ECHO            8
#define ICMPV6_ECHO_REQUEST  128
#define ICMPV6_ECHO_REPLY    129

/* ifindex of a host-side veth (in the node namespace) -> endpoint id */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32);
    __type(value, __u32);
} endpoints SEC(".maps");

/* endpoint id -> enforcement flags + pod addresses */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32);
    __type(value, struct pod_config);
} pod_config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 16384);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct policy_key);
    __type(value, __u8);
} egress_allow SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 16384);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct policy_key);
    __type(value, __u8);
} ingress_allow SEC(".maps");

/* originating 5-tuple -> last seen (ns). Created for every forward packet
 * that passes; a packet whose reversed tuple is present is a reply. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct ct_key);
    __type(value, __u64);
} conntrack SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct pkt {
    __u8  family;
    __u8  proto;
    __u8  icmp_type;
    __u8  is_nd;      /* ICMPv6 ND or MLD: always allowed */
    __u16 sport;      /* network order */
    __u16 dport;      /* network order; 0 for ICMP */
    __u16 ct_sport;   /* ports used for conntrack (ICMP echo: id/id) */
    __u16 ct_dport;
    __u8  saddr[16];
    __u8  daddr[16];
};

enum { PARSE_PASS = 0, PARSE_OK = 1 };

static __always_inline int parse_l4(struct __sk_buff *skb, __u32 off, struct pkt *p)
{
    if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
        __u16 ports[2];
        if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)) < 0)
            return PARSE_OK; /* truncated: ports stay 0 */
        p->sport = ports[0];
        p->dport = ports[1];
        p->ct_sport = ports[0];
        p->ct_dport = ports[1];
    } else if (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) {
        __u8 hdr[8];
        if (bpf_skb_load_bytes(skb, off, hdr, sizeof(hdr)) < 0)
            return PARSE_OK;
        p->icmp_type = hdr[0];
        __u16 id = (__u16)hdr[4] | ((__u16)hdr[5] << 8); /* keep network order */
        if (p->proto == IPPROTO_ICMP) {
            if (hdr[0] == ICMP_ECHO || hdr[0] == ICMP_ECHOREPLY) {
                p->ct_sport = id;
                p->ct_dport = id;
            }
        } else {
            /* MLD (130-132, 143) and ND (RS/RA/NS/NA/redirect 133-137) */
            if ((hdr[0] >= 130 && hdr[0] <= 137) || hdr[0] == 143)
                p->is_nd = 1;
            if (hdr[0] == ICMPV6_ECHO_REQUEST || hdr[0] == ICMPV6_ECHO_REPLY) {
                p->ct_sport = id;
                p->ct_dport = id;
            }
        }
    }
    return PARSE_OK;
}

static __always_inline int parse(struct __sk_buff *skb, struct pkt *p)
{
    __u16 proto = bpf_ntohs(skb->protocol);

    if (proto == ETH_P_IP) {
        struct iphdr ip;
        if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
            return PARSE_PASS;
        if (ip.version != 4 || ip.ihl < 5)
            return PARSE_PASS;
        p->family = 4;
        p->proto = ip.protocol;
        __builtin_memcpy(p->saddr, &ip.saddr, 4);
        __builtin_memcpy(p->daddr, &ip.daddr, 4);
        /* non-first fragments carry no L4 header */
        if (ip.frag_off & bpf_htons(0x1fff))
            return PARSE_OK;
        return parse_l4(skb, ETH_HLEN + ip.ihl * 4, p);
    }
    if (proto == ETH_P_IPV6) {
        struct ipv6hdr ip6;
        if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) < 0)
            return PARSE_PASS;
        p->family = 6;
        p->proto = ip6.nexthdr;
        __builtin_memcpy(p->saddr, &ip6.saddr, 16);
        __builtin_memcpy(p->daddr, &ip6.daddr, 16);
        __u32 off = ETH_HLEN + sizeof(ip6);
        /* Only one extension header is walked: Hop-by-Hop, which MLD reports carry
         * (router alert). Anything else is classified by its first next-header. */
        if (p->proto == IPPROTO_HOPOPTS) {
            __u8 ext[2];
            if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)) < 0)
                return PARSE_OK;
            p->proto = ext[0];
            off += ((__u32)ext[1] + 1) * 8;
        }
        return parse_l4(skb, off, p);
    }
    return PARSE_PASS; /* ARP and everything else that is not IP */
}

/* The conntrack key of p's tuple as sent, or reversed (the tuple its reply would carry). */
static __always_inline void ct_key_of(const struct pkt *p, struct ct_key *k, int reversed)
{
    __builtin_memset(k, 0, sizeof(*k));
    k->family = p->family;
    k->proto = p->proto;
    k->sport = reversed ? p->ct_dport : p->ct_sport;
    k->dport = reversed ? p->ct_sport : p->ct_dport;
    __builtin_memcpy(k->saddr, reversed ? p->daddr : p->saddr, 16);
    __builtin_memcpy(k->daddr, reversed ? p->saddr : p->daddr, 16);
}

static __always_inline int policy_lookup(void *map, __u32 ep, const struct pkt *p,
                                         const __u8 *peer)
{
    struct policy_key k;
    __builtin_memset(&k, 0, sizeof(k));
    k.prefixlen = 64 + (p->family == 4 ? 32 : 128);
    k.endpoint = ep;
    k.family = p->family;
    __builtin_memcpy(k.addr, peer, 16);

    /* (proto, port) (proto, any) (any, port) (any, any) */
    k.proto = p->proto; k.dport = p->dport;
    if (bpf_map_lookup_elem(map, &k)) return 1;
    k.dport = 0;
    if (bpf_map_lookup_elem(map, &k)) return 1;
    k.proto = 0; k.dport = p->dport;
    if (p->dport && bpf_map_lookup_elem(map, &k)) return 1;
    k.dport = 0;
    if (bpf_map_lookup_elem(map, &k)) return 1;
    return 0;
}

static __always_inline void emit_drop(struct __sk_buff *skb, __u32 ep, __u8 dir,
                                      const struct pkt *p, __u8 reason)
{
    struct drop_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e)
        return;
    e->timestamp_ns = bpf_ktime_get_ns();
    e->ifindex = skb->ifindex;
    e->endpoint = ep;
    e->direction = dir;
    e->family = p->family;
    e->proto = p->proto;
    e->reason = reason;
    e->sport = bpf_ntohs(p->sport);
    e->dport = bpf_ntohs(p->dport);
    __builtin_memcpy(e->saddr, p->saddr, 16);
    __builtin_memcpy(e->daddr, p->daddr, 16);
    bpf_ringbuf_submit(e, 0);
}

static __always_inline int is_icmp_echo(const struct pkt *p)
{
    if (p->proto == IPPROTO_ICMP)
        return p->icmp_type == ICMP_ECHO || p->icmp_type == ICMP_ECHOREPLY;
    if (p->proto == IPPROTO_ICMPV6)
        return p->icmp_type == ICMPV6_ECHO_REQUEST || p->icmp_type == ICMPV6_ECHO_REPLY;
    return 0;
}

static __always_inline int handle(struct __sk_buff *skb, __u8 dir)
{
    __u32 ifindex = skb->ifindex;
    __u32 *ep = bpf_map_lookup_elem(&endpoints, &ifindex);
    if (!ep)
        return TC_ACT_OK; /* not a managed endpoint */
    __u32 epid = *ep;

    struct pkt p;
    __builtin_memset(&p, 0, sizeof(p));
    if (parse(skb, &p) != PARSE_OK)
        return TC_ACT_OK; /* ARP, non-IP */
    if (p.is_nd)
        return TC_ACT_OK; /* IPv6 neighbour discovery / MLD */

    struct ct_key ck;
    ct_key_of(&p, &ck, 1);
    __u64 now = bpf_ktime_get_ns();
    __u64 *seen = bpf_map_lookup_elem(&conntrack, &ck);
    if (seen) {
        *seen = now; /* reply of a tracked connection */
        return TC_ACT_OK;
    }

    struct pod_config *cfg = bpf_map_lookup_elem(&pod_config, &epid);
    __u32 flags = cfg ? cfg->flags : 0;
    __u32 need = dir == POLICY_DIR_EGRESS ? POLICY_F_EGRESS_ENFORCE : POLICY_F_INGRESS_ENFORCE;

    if ((flags & need) &&
        !((flags & POLICY_F_ALLOW_ICMP_ECHO) && is_icmp_echo(&p))) {
        int ok = dir == POLICY_DIR_EGRESS
                     ? policy_lookup(&egress_allow, epid, &p, p.daddr)
                     : policy_lookup(&ingress_allow, epid, &p, p.saddr);
        if (!ok) {
            emit_drop(skb, epid, dir, &p,
                      dir == POLICY_DIR_EGRESS ? DROP_REASON_POLICY_EGRESS
                                               : DROP_REASON_POLICY_INGRESS);
            return TC_ACT_SHOT;
        }
    }

    ct_key_of(&p, &ck, 0);
    seen = bpf_map_lookup_elem(&conntrack, &ck);
    if (seen)
        *seen = now;
    else
        bpf_map_update_elem(&conntrack, &ck, &now, BPF_ANY);
    return TC_ACT_OK;
}

SEC("tc")
int policy_from_pod(struct __sk_buff *skb)
{
    return handle(skb, POLICY_DIR_EGRESS);
}

SEC("tc")
int policy_to_pod(struct __sk_buff *skb)
{
    return handle(skb, POLICY_DIR_INGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
