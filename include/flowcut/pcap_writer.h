/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcap_writer.h - write frames to a classic pcap file (the format every
 * tool reads: tcpdump, tshark, tcpreplay). Host byte order, nanosecond
 * timestamps (magic 0xa1b23c4d) by default or microseconds (0xa1b2c3d4).
 * Buffered through stdio; one writer is not thread-safe, callers serialise.
 */
#ifndef FLOWCUT_PCAP_WRITER_H
#define FLOWCUT_PCAP_WRITER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Create (truncate) path and write the file header. linktype is a LINKTYPE_*
 * value, snaplen the largest caplen that will be written. Returns a writer,
 * or NULL with errno set. Close with fc_pcap_writer__close().
 */
struct fc_pcap_writer *fc_pcap_writer__open(const char *path, int linktype, uint32_t snaplen,
					    bool usec);

/*
 * Append one frame: caplen bytes of data, wirelen its length on the wire,
 * ts_ns epoch nanoseconds. caplen is cut to the snaplen. Returns 0 or a
 * negative errno; after an error every later write fails the same way.
 */
int fc_pcap_writer__write(struct fc_pcap_writer *w, uint64_t ts_ns, const uint8_t *data,
			  uint32_t caplen, uint32_t wirelen);

/* Push buffered frames to the file. Returns 0 or a negative errno. */
int fc_pcap_writer__flush(struct fc_pcap_writer *w);

/* Flush and close. Returns 0 or the first negative errno seen. Accepts NULL. */
int fc_pcap_writer__close(struct fc_pcap_writer *w);

#endif
