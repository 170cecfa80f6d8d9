// SPDX-License-Identifier: BSD-2-Clause
/*
 * source_afpacket.c - live frames from an AF_PACKET socket (see afpacket.h).
 *
 * Setup order matters: the socket is created with protocol 0 so it sees
 * nothing until bind(); the filter and the ring are in place before bind, so
 * the first frame delivered already went through both; fanout can only be
 * joined once the socket is bound.
 *
 * The ring is TPACKET_V3: the kernel fills fixed-size blocks with
 * variable-size frames and hands a block over when it is full or after
 * block_timeout_ms. We walk the frames of the current block in place (no
 * copy), handing them out in batches, and give the block back when the
 * caller asks for the frames after its last one: a batch stays valid until
 * the next call. Everything the kernel wrote into a block (offsets, lengths)
 * is checked against the block's bounds before it is used.
 *
 * An offloaded VLAN tag is put back in place, as libpcap does: the socket
 * asks the kernel for VLAN_TAG_LEN spare bytes in front of every frame
 * (PACKET_RESERVE), and the MAC addresses move into them to make room for
 * the tag. No copy of the frame, no shared buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flowcut/afpacket.h"
#include "flowcut/pkt.h"

#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif
#ifndef TP_STATUS_VLAN_TPID_VALID
#define TP_STATUS_VLAN_TPID_VALID (1 << 6)
#endif

#define VLAN_TAG_LEN 4
#define MAC_ADDRS_LEN 12
#define CACHE_LINE 64
/*
 * How far the prefetch cursor runs ahead of the frame walk. The kernel wrote
 * the block from another CPU, so every frame header is a cache miss, and the
 * walk is a chain (each header gives the next offset): without prefetching
 * the load of tp_mac was 70 % of the walk. Frames lie one after another, so
 * the bytes ahead are the next frames; 2 KiB is ~12 small frames.
 */
#define PREFETCH_AHEAD 2048u

struct fc_afp {
	int fd;
	int linktype;
	uint8_t *ring;
	size_t ring_len;
	uint32_t block_size;
	uint32_t block_count;
	uint32_t block;			/* index of the block being read */
	struct tpacket_block_desc *cur;	/* that block while we own it, else NULL */
	uint32_t left;			/* frames of cur not yet returned */
	uint32_t next_off;		/* offset in cur of the next frame */
	uint32_t pf_off;		/* offset in cur prefetched up to */
	uint32_t used;			/* bytes of cur the kernel filled (blk_len, bounded) */
};

/* Write "<message>: <strerror(-rc)>" into err; returns rc. */
__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	n = strlen(err);
	if (n < errlen)
		snprintf(err + n, errlen - n, ": %s", strerror(-rc));
	return rc;
}

static int arphrd_to_linktype(int hw)
{
	switch (hw) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:	/* lo carries a zeroed Ethernet header */
		return FC_LINKTYPE_ETHERNET;
	case ARPHRD_NONE:	/* tun and other L3 devices: the frame starts at IP */
	case ARPHRD_RAWIP:
		return FC_LINKTYPE_RAW;
	default:
		return -1;
	}
}

/* Interface facts: index, link type, up or down. */
static int probe_iface(int fd, const char *ifname, int *ifindex, int *linktype, char *err,
		       size_t errlen)
{
	struct ifreq ifr;
	int rc;

	if (strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "interface name '%s' is too long", ifname);
		return -ENODEV;
	}
	*ifindex = (int)if_nametoindex(ifname);
	if (!*ifindex) {
		snprintf(err, errlen, "no such interface '%s'", ifname);
		return -ENODEV;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1) {
		rc = -errno;
		return fail(err, errlen, rc, "%s: cannot read the link type", ifname);
	}
	*linktype = arphrd_to_linktype(ifr.ifr_hwaddr.sa_family);
	if (*linktype < 0) {
		snprintf(err, errlen, "%s: link type (ARPHRD %u) is not supported for capture",
			 ifname, (unsigned)ifr.ifr_hwaddr.sa_family);
		return -EPROTONOSUPPORT;
	}
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1) {
		rc = -errno;
		return fail(err, errlen, rc, "%s: cannot read the interface flags", ifname);
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		snprintf(err, errlen, "interface '%s' is down (ip link set %s up)", ifname,
			 ifname);
		return -ENETDOWN;
	}
	return 0;
}

static int attach_filter(int fd, int linktype, const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;
	struct sock_fprog fprog;
	pcap_t *dead;
	int rc = 0;

	dead = pcap_open_dead(linktype == FC_LINKTYPE_RAW ? DLT_RAW : DLT_EN10MB,
			      FC_AFP_FILTER_SNAPLEN);
	if (!dead) {
		snprintf(err, errlen, "cannot set up the filter compiler");
		return -ENOMEM;
	}
	if (pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "bad filter expression '%s': %s", filter, pcap_geterr(dead));
		pcap_close(dead);
		return -EINVAL;
	}
	/* struct bpf_insn and struct sock_filter have the same layout. */
	_Static_assert(sizeof(struct bpf_insn) == sizeof(struct sock_filter), "bpf insn size");
	fprog.len = (unsigned short)prog.bf_len;
	fprog.filter = (struct sock_filter *)prog.bf_insns;
	if (prog.bf_len > 0xffff) {
		snprintf(err, errlen, "filter '%s' is too long", filter);
		rc = -EINVAL;
	} else if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) == -1) {
		rc = -errno;
		fail(err, errlen, rc, "cannot attach filter '%s'", filter);
	}
	pcap_freecode(&prog);
	pcap_close(dead);
	return rc;
}

static int setup_ring(struct fc_afp *a, const struct fc_afp_opts *o, char *err, size_t errlen)
{
	struct tpacket_req3 req;
	long page = sysconf(_SC_PAGESIZE);
	int ver = TPACKET_V3, rc;
	unsigned reserve = VLAN_TAG_LEN;

	a->block_size = o->block_size ? o->block_size : FC_AFP_DEFAULT_BLOCK_SIZE;
	a->block_count = o->block_count ? o->block_count : FC_AFP_DEFAULT_BLOCK_COUNT;
	if (page <= 0 || a->block_size % (uint32_t)page || a->block_size & (a->block_size - 1) ||
	    a->block_count > (1u << 20) ||
	    (uint64_t)a->block_size * a->block_count > (1ull << 34)) {
		snprintf(err, errlen, "ring geometry %u x %u: block size must be a power of two "
			 "multiple of the page size, ring at most 16 GiB", a->block_size,
			 a->block_count);
		return -EINVAL;
	}
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) == -1) {
		rc = -errno;
		return fail(err, errlen, rc, "this kernel does not offer TPACKET_V3");
	}
	/* Room to put an offloaded VLAN tag back in front of each frame. */
	if (setsockopt(a->fd, SOL_PACKET, PACKET_RESERVE, &reserve, sizeof(reserve)) == -1) {
		rc = -errno;
		return fail(err, errlen, rc, "cannot reserve frame headroom (PACKET_RESERVE)");
	}
	memset(&req, 0, sizeof(req));
	req.tp_block_size = a->block_size;
	req.tp_block_nr = a->block_count;
	/* V3 frames are variable-size; tp_frame_size only has to divide the block. */
	req.tp_frame_size = TPACKET_ALIGNMENT << 7;
	req.tp_frame_nr = (unsigned)(((uint64_t)a->block_size * a->block_count) / req.tp_frame_size);
	req.tp_retire_blk_tov = o->block_timeout_ms ? o->block_timeout_ms :
						      FC_AFP_DEFAULT_BLOCK_TIMEOUT_MS;
	req.tp_feature_req_word = 0;
	if (setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) == -1) {
		rc = -errno;
		return fail(err, errlen, rc, "cannot set up the RX ring (%u blocks of %u bytes)", a->block_count, a->block_size);
	}
	a->ring_len = (size_t)a->block_size * a->block_count;
	a->ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED,
		       a->fd, 0);
	if (a->ring == MAP_FAILED) {
		/* MAP_LOCKED can fail under RLIMIT_MEMLOCK; an unlocked ring still works. */
		a->ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
		if (a->ring == MAP_FAILED) {
			rc = -errno;
			a->ring = NULL;
			return fail(err, errlen, rc, "cannot map the RX ring");
		}
	}
	return 0;
}

static int join(struct fc_afp *a, const struct fc_afp_opts *o, int ifindex, char *err,
		size_t errlen)
{
	struct sockaddr_ll sll;
	int rc;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		rc = -errno;
		return fail(err, errlen, rc, "cannot bind to %s", o->ifname);
	}
	if (o->fanout_id >= 0) {
		uint32_t arg = ((uint32_t)o->fanout_id & 0xffff) |
			       ((uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);

		if (setsockopt(a->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) == -1) {
			rc = -errno;
			return fail(err, errlen, rc, "%s: cannot join fanout group %d", o->ifname,
				    o->fanout_id);
		}
	}
	if (o->promisc) {
		struct packet_mreq mr;

		memset(&mr, 0, sizeof(mr));
		mr.mr_ifindex = ifindex;
		mr.mr_type = PACKET_MR_PROMISC;
		if (setsockopt(a->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) == -1) {
			rc = -errno;
			return fail(err, errlen, rc, "%s: cannot enter promiscuous mode", o->ifname);
		}
	}
	return 0;
}

int fc_afp__open(const struct fc_afp_opts *o, struct fc_afp **out, char *err, size_t errlen)
{
	struct fc_afp *a;
	int ifindex, rc;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (a->fd == -1) {
		rc = -errno;
		if (rc == -EPERM || rc == -EACCES)
			snprintf(err, errlen, "cannot open a packet socket: capture needs "
				 "CAP_NET_RAW (run as root or grant the capability)");
		else
			fail(err, errlen, rc, "cannot open a packet socket");
		goto err_free;
	}
	rc = probe_iface(a->fd, o->ifname, &ifindex, &a->linktype, err, errlen);
	if (rc)
		goto err_close;
	if (o->filter && *o->filter) {
		rc = attach_filter(a->fd, a->linktype, o->filter, err, errlen);
		if (rc)
			goto err_close;
	}
	rc = setup_ring(a, o, err, errlen);
	if (rc)
		goto err_close;
	rc = join(a, o, ifindex, err, errlen);
	if (rc)
		goto err_close;
	*out = a;
	return 0;

err_close:
	fc_afp__close(a);
	return rc;
err_free:
	free(a);
	return rc;
}

void fc_afp__close(struct fc_afp *a)
{
	if (!a)
		return;
	if (a->ring)
		munmap(a->ring, a->ring_len);
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

int fc_afp__fd(const struct fc_afp *a)
{
	return a->fd;
}

int fc_afp__linktype(const struct fc_afp *a)
{
	return a->linktype;
}

static struct tpacket_block_desc *block_at(struct fc_afp *a, uint32_t i)
{
	return (struct tpacket_block_desc *)(a->ring + (size_t)i * a->block_size);
}

static void release_block(struct fc_afp *a)
{
	__atomic_store_n(&a->cur->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	a->cur = NULL;
	a->block = (a->block + 1) % a->block_count;
}

/* Take the next block if the kernel has handed it over. */
static bool acquire_block(struct fc_afp *a)
{
	struct tpacket_block_desc *bd = block_at(a, a->block);

	if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
		return false;
	a->cur = bd;
	a->left = bd->hdr.bh1.num_pkts;
	a->next_off = bd->hdr.bh1.offset_to_first_pkt;
	a->pf_off = a->next_off & ~(CACHE_LINE - 1);
	a->used = bd->hdr.bh1.blk_len < a->block_size ? bd->hdr.bh1.blk_len : a->block_size;
	return true;
}

static int wait_ready(struct fc_afp *a, int timeout_ms)
{
	struct pollfd pfd = { .fd = a->fd, .events = POLLIN };
	int n, soerr = 0;
	socklen_t len = sizeof(soerr);

	n = poll(&pfd, 1, timeout_ms);
	if (n == -1)
		return errno == EINTR ? 0 : -errno;
	if (n && pfd.revents & POLLERR) {
		/* Reading SO_ERROR consumes it: the next poll waits again. */
		if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
			return -errno;
		if (soerr)
			return -soerr;
	}
	return 0;
}

/*
 * Put an offloaded 802.1Q/802.1ad tag back after the MAC addresses, in the
 * ring: the addresses move VLAN_TAG_LEN bytes forward into the headroom that
 * PACKET_RESERVE left in front of the frame (take_frame checked it is past
 * the frame's header), and the tag goes where they were.
 */
static uint8_t *restore_vlan(const struct fc_afp *a, const struct tpacket3_hdr *h,
			     uint8_t *data, uint32_t *caplen, uint32_t *wirelen)
{
	uint16_t tpid = ETH_P_8021Q, tci = (uint16_t)h->hv1.tp_vlan_tci;
	__be16 be;

	if (a->linktype != FC_LINKTYPE_ETHERNET || *caplen < MAC_ADDRS_LEN ||
	    h->tp_mac < sizeof(*h) + VLAN_TAG_LEN)
		return data;
	if (h->tp_status & TP_STATUS_VLAN_TPID_VALID && h->hv1.tp_vlan_tpid)
		tpid = (uint16_t)h->hv1.tp_vlan_tpid;
	memmove(data - VLAN_TAG_LEN, data, MAC_ADDRS_LEN);
	data -= VLAN_TAG_LEN;
	be = htons(tpid);
	memcpy(data + MAC_ADDRS_LEN, &be, 2);
	be = htons(tci);
	memcpy(data + MAC_ADDRS_LEN + 2, &be, 2);
	*caplen += VLAN_TAG_LEN;
	*wirelen += VLAN_TAG_LEN;
	return data;
}

/*
 * The frame at next_off of the current block, or NULL when the kernel's
 * offsets do not fit in the block (the rest of the block is then skipped).
 */
static struct tpacket3_hdr *take_frame(struct fc_afp *a)
{
	struct tpacket3_hdr *h;
	uint32_t off = a->next_off;

	if (off < sizeof(struct tpacket_block_desc) ||
	    (uint64_t)off + sizeof(*h) > a->block_size)
		return NULL;
	h = (struct tpacket3_hdr *)((uint8_t *)a->cur + off);
	if ((uint64_t)off + h->tp_mac + h->tp_snaplen > a->block_size ||
	    h->tp_mac < sizeof(*h))
		return NULL;
	a->next_off = off + h->tp_next_offset;
	a->left--;
	if (a->left && !h->tp_next_offset)
		a->left = 0;	/* a next offset of 0 with frames left: stop here */
	return h;
}

/* Up to max frames of the current block into f; returns how many. */
static int take_frames(struct fc_afp *a, struct fc_frame *f, int max)
{
	struct tpacket3_hdr *h;
	uint8_t *data;
	int n = 0;

	while (n < max && a->left) {
		uint32_t pf_end = a->next_off + PREFETCH_AHEAD;

		if (pf_end > a->used)
			pf_end = a->used;
		for (; a->pf_off < pf_end; a->pf_off += CACHE_LINE)
			__builtin_prefetch((const uint8_t *)a->cur + a->pf_off);
		h = take_frame(a);
		if (!h) {
			a->left = 0;
			break;
		}
		data = (uint8_t *)h + h->tp_mac;
		f[n].caplen = h->tp_snaplen;
		f[n].wirelen = h->tp_len;
		f[n].ts_ns = (uint64_t)h->tp_sec * 1000000000ull + h->tp_nsec;
		f[n].linktype = a->linktype;
		if (h->tp_status & TP_STATUS_VLAN_VALID)
			data = restore_vlan(a, h, data, &f[n].caplen, &f[n].wirelen);
		f[n].data = data;
		n++;
	}
	return n;
}

int fc_afp__next_batch(struct fc_afp *a, struct fc_frame *f, int max, int timeout_ms)
{
	int n, rc;

	if (max < 1)
		return -EINVAL;
	for (;;) {
		if (a->cur && !a->left)
			release_block(a);
		if (!a->cur && !acquire_block(a)) {
			rc = wait_ready(a, timeout_ms);
			if (rc)
				return rc;
			if (!acquire_block(a))
				return 0;
		}
		n = take_frames(a, f, max);
		if (n)
			return n;
	}
}

int fc_afp__next(struct fc_afp *a, struct fc_frame *f, int timeout_ms)
{
	return fc_afp__next_batch(a, f, 1, timeout_ms);
}

int fc_afp__read_stats(struct fc_afp *a, struct fc_afp_stats *acc)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	memset(&st, 0, sizeof(st));
	if (getsockopt(a->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == -1)
		return -errno;
	acc->packets += st.tp_packets;
	acc->drops += st.tp_drops;
	acc->freezes += st.tp_freeze_q_cnt;
	return 0;
}
