/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spool.h - a sink's disk spool: the records its memory queue could not hold,
 * kept in order on disk until the sink takes them again, across restarts.
 * Not thread-safe: the exporter calls it under the sink's lock.
 */
#ifndef FC_SPOOL_H
#define FC_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "flowcut/record.h"

struct fc_spool;

/*
 * Open the spool in dir (created only when the first record is spilled) and
 * pick up the segments a previous run left there; they come out first.
 * max_bytes caps the bytes on disk. note (may be empty on return) tells of
 * segments that were skipped (foreign version). Returns NULL with errno set.
 */
struct fc_spool *fc_spool__open(const char *dir, uint64_t max_bytes, char *note, size_t notelen);
void fc_spool__close(struct fc_spool *sp);

uint64_t fc_spool__records(const struct fc_spool *sp);	/* not yet consumed */
uint64_t fc_spool__bytes(const struct fc_spool *sp);	/* on disk, headers included */
const char *fc_spool__dir(const struct fc_spool *sp);

/*
 * Append n records after everything spooled. Returns how many were stored
 * (0..n) — fewer than n only with the rest refused — or a negative errno
 * when none was: -EDQUOT past max_bytes, -ENOSPC when the disk is full,
 * other errnos from mkdir/open/write.
 */
int fc_spool__append(struct fc_spool *sp, const struct fc_flow_rec *recs, size_t n);

/* Put n records before everything spooled (what was in memory at close). Same returns. */
int fc_spool__prepend(struct fc_spool *sp, const struct fc_flow_rec *recs, size_t n);

/* Copy up to max of the oldest records to out without consuming them. Count or -errno. */
int fc_spool__peek(struct fc_spool *sp, struct fc_flow_rec *out, size_t max);

/* The n oldest records were delivered: forget them (segments are unlinked when used up). */
int fc_spool__consume(struct fc_spool *sp, size_t n);

#endif
