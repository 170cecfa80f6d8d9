/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * afpacket.h - live frames from one Linux AF_PACKET socket with a TPACKET_V3
 * mmap RX ring. One socket per worker; sockets of one capture join a
 * PACKET_FANOUT group (hash mode, symmetric kernel flow hash, defragmenting)
 * so both directions of a flow reach the same worker. The filter expression
 * runs in the kernel (SO_ATTACH_FILTER): rejected frames never reach
 * userspace and so are not in packets_read.
 *
 * The library never prints: failures come back as a negative errno plus a
 * one-line reason in the caller's buffer.
 */
#ifndef FLOWCUT_AFPACKET_H
#define FLOWCUT_AFPACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowcut/source.h"

/*
 * A 64 MiB ring per worker in 4 MiB blocks. Each block handed over can cost
 * the worker a poll() and a wakeup; 4 MiB blocks took 15-20 % less CPU per
 * frame than 1 MiB ones with small frames and ~6 % with ~515-byte ones
 * (bench/live.sh, BENCHMARKS.md "Live capture"), and the kernel can only
 * fill the blocks the worker is not reading: 15 of 16 is plenty.
 */
#define FC_AFP_DEFAULT_BLOCK_SIZE (4u << 20)	/* bytes per ring block */
#define FC_AFP_DEFAULT_BLOCK_COUNT 16u
/*
 * The kernel hands over a part-filled block after this long. Every handover
 * wakes the worker (~30 us of CPU on a VM): at 10 ms a 50k frames/s link cost
 * 0.3 us a frame, at 50 ms 0.2 us. Busy links fill a block sooner anyway.
 */
#define FC_AFP_DEFAULT_BLOCK_TIMEOUT_MS 50u
#define FC_AFP_FILTER_SNAPLEN 65535u

struct fc_afp;

struct fc_afp_opts {
	const char *ifname;		/* required */
	const char *filter;		/* tcpdump expression, or NULL */
	uint32_t block_size;		/* multiple of the page size, power of two; 0 = default */
	uint32_t block_count;		/* 0 = default */
	uint32_t block_timeout_ms;	/* 0 = default */
	int fanout_id;			/* fanout group id 0..65535, or -1 for none */
	bool promisc;			/* PACKET_MR_PROMISC for the socket's lifetime */
};

/* Kernel counters, summed over every PACKET_STATISTICS read of a socket. */
struct fc_afp_stats {
	uint64_t packets;	/* frames the kernel gave the socket (passed the filter), incl. drops */
	uint64_t drops;		/* frames lost because the ring was full */
	uint64_t freezes;	/* times the ring was frozen (tp_freeze_q_cnt) */
};

/*
 * Open and bind a socket on opts->ifname. On success stores the handle in
 * *out and returns 0. On failure returns a negative errno and writes a
 * one-line reason to err:
 *   -ENODEV   no such interface          -ENETDOWN  interface is down
 *   -EPERM    no CAP_NET_RAW             -EINVAL    bad filter / ring geometry
 *   -EPROTONOSUPPORT  link type we cannot decode
 * Close with fc_afp__close().
 */
int fc_afp__open(const struct fc_afp_opts *opts, struct fc_afp **out, char *err, size_t errlen);

/* Close the socket, unmap the ring (drops promiscuous mode). Accepts NULL. */
void fc_afp__close(struct fc_afp *a);

/*
 * Next frames, up to max (>= 1) of them, all from one ring block. Returns how
 * many were stored in f[0..n) (valid until the next call: the block goes
 * back to the kernel then), 0 when no frame arrived within timeout_ms (0 =
 * do not wait), or a negative errno (-ENETDOWN when the interface went down:
 * the error is consumed and the socket keeps working once the interface is
 * up again). No allocation, no copy and no system call while the current
 * block has frames; one poll() when the reader has caught up with the
 * kernel. Frames that carried an offloaded VLAN tag get it back in place, so
 * decoders and pcap files see the frame as it was on the wire.
 */
int fc_afp__next_batch(struct fc_afp *a, struct fc_frame *f, int max, int timeout_ms);

/* One frame: fc_afp__next_batch() with max 1 (returns 1, 0 or a negative errno). */
int fc_afp__next(struct fc_afp *a, struct fc_frame *f, int timeout_ms);

/*
 * Read PACKET_STATISTICS (which resets the kernel's counters) and add it to
 * the totals in *acc. Thread-safe against fc_afp__next_batch() on another thread.
 * Returns 0 or a negative errno.
 */
int fc_afp__read_stats(struct fc_afp *a, struct fc_afp_stats *acc);

/* LINKTYPE_* of the frames this socket returns. */
int fc_afp__linktype(const struct fc_afp *a);

/* The packet socket, for attaching a BPF socket filter (kernel bypass). */
int fc_afp__fd(const struct fc_afp *a);

#endif
