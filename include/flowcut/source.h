/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * source.h - where frames come from. A source hands out one frame at a time
 * with its capture timestamp (ns), lengths and link type. The frame memory
 * belongs to the source and stays valid until the next call.
 */
#ifndef FLOWCUT_SOURCE_H
#define FLOWCUT_SOURCE_H

#include <stddef.h>
#include <stdint.h>

struct fc_frame {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
	uint64_t ts_ns;		/* epoch nanoseconds from the capture */
	int linktype;		/* LINKTYPE_* of this frame */
};

enum fc_src_status {
	FC_SRC_FRAME = 1,	/* *f is valid */
	FC_SRC_EOF = 0,		/* clean end of input */
	FC_SRC_TRUNCATED = -1,	/* input ends inside a record: warning, not fatal */
	FC_SRC_ERROR = -2,	/* read error: message in the source */
};

/*
 * Open a pcap or pcapng file. filter (may be NULL) is a tcpdump expression,
 * compiled with libpcap and applied to every frame by fc_pcap_src__next()'s
 * caller through fc_pcap_src__match(), so that rejected frames are counted.
 * Returns NULL and writes a one-line reason into err on failure.
 */
struct fc_pcap_src *fc_pcap_src__open(const char *path, const char *filter, char *err,
				      size_t errlen);
void fc_pcap_src__close(struct fc_pcap_src *src);

enum fc_src_status fc_pcap_src__next(struct fc_pcap_src *src, struct fc_frame *f);

/* 1 if the frame passes the filter (or there is none), 0 if rejected. */
int fc_pcap_src__match(struct fc_pcap_src *src, const struct fc_frame *f);

/* Text of the last error or truncation warning. */
const char *fc_pcap_src__error(const struct fc_pcap_src *src);

/* Bytes consumed so far and total file size (0 if unknown), for progress. */
void fc_pcap_src__progress(struct fc_pcap_src *src, uint64_t *pos, uint64_t *size);

#endif
