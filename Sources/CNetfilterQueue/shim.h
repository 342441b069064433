// libnetfilter_queue (Debian: libnetfilter-queue-dev) for Swift, plus the few helpers Swift
// cannot express directly: the packet header is a packed, big-endian struct, and some flags are
// macros Swift does not import.
#ifndef NETHEALTH_CNETFILTERQUEUE_SHIM_H
#define NETHEALTH_CNETFILTERQUEUE_SHIM_H

#include <stdint.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/// The kernel's id for a queued packet in host order; 0 if the message has no header (ids start at 1).
static inline uint32_t nfqd_packet_id(struct nfq_data *nfad) {
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfad);
    return ph ? ntohl(ph->packet_id) : 0;
}

static const uint32_t NFQD_ACCEPT = NF_ACCEPT;
static const uint8_t NFQD_COPY_META = NFQNL_COPY_META;
/// Accept instead of drop when the kernel queue is full.
static const uint32_t NFQD_FLAG_FAIL_OPEN = NFQA_CFG_F_FAIL_OPEN;
/// Queue GSO packets whole: we never look at the payload, so segmenting them is wasted work.
static const uint32_t NFQD_FLAG_GSO = NFQA_CFG_F_GSO;

#endif
