/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * source_thread.h - read a capture file on its own thread. A reader thread
 * pulls frames from a struct fc_pcap_src (libpcap or pcapng), runs the filter,
 * and copies each frame into a single-producer/single-consumer byte ring; the
 * caller's thread takes them out in order and does the decoding and flow
 * work. On a machine with two cores this overlaps file I/O with flow
 * tracking, so `flowcut read` runs close to the speed of reading the file
 * alone (BENCHMARKS.md). Frames and their order are exactly the source's.
 */
#ifndef FLOWCUT_SOURCE_THREAD_H
#define FLOWCUT_SOURCE_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowcut/source.h"

struct fc_src_thread;

/*
 * Start reading src on a new thread through a ring of ring_bytes (rounded up
 * to a power of two, at least 1 MiB). src stays owned by the caller and must
 * not be used until fc_src_thread__stop(). Returns NULL with errno set.
 */
struct fc_src_thread *fc_src_thread__start(struct fc_pcap_src *src, size_t ring_bytes);

/*
 * Next frame, in source order, and whether the filter rejected it. The frame
 * memory stays valid until the next call. At the end returns the source's
 * final status (FC_SRC_EOF, FC_SRC_TRUNCATED or FC_SRC_ERROR).
 */
enum fc_src_status fc_src_thread__next(struct fc_src_thread *t, struct fc_frame *f, bool *filtered);

/* Bytes of the file consumed so far and its size, safe to call any time. */
void fc_src_thread__progress(const struct fc_src_thread *t, uint64_t *pos, uint64_t *size);

/* Stop the reader (at any point) and free everything. Accepts NULL. */
void fc_src_thread__stop(struct fc_src_thread *t);

/* True once the reader thread has published its last frame (for tests). */
bool fc_src_thread__reader_done(const struct fc_src_thread *t);

/*
 * Tests only: when set, called by the flow thread each time it has looked at
 * the reader's position and found nothing new, before it checks whether the
 * reader is done: a test makes the reader finish inside that window. NULL
 * (the default) costs one load on that slow path.
 */
extern void (*fc_src_thread__empty_look_hook)(struct fc_src_thread *t);

#endif
