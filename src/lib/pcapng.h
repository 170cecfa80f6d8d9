/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcapng.h - a reader for pcapng files (draft-ietf-opsawg-pcapng), used instead
 * of libpcap's because libpcap 1.10 refuses sections whose interfaces differ
 * in link type or snap length, which the format allows and real captures
 * contain (see docs/capture-files.md).
 */
#ifndef FC_PCAPNG_H
#define FC_PCAPNG_H

#include <stdio.h>

#include "flowcut/source.h"

/* Takes ownership of f. Returns NULL with a message in err if the file does
 * not start with a valid Section Header Block. */
struct fc_pcapng *fc_pcapng__open(FILE *f, char *err, size_t errlen);
void fc_pcapng__close(struct fc_pcapng *r);

/* FC_SRC_FRAME, FC_SRC_EOF, FC_SRC_TRUNCATED or FC_SRC_ERROR (message in err). */
enum fc_src_status fc_pcapng__next(struct fc_pcapng *r, struct fc_frame *f, char *err,
				   size_t errlen);

/* Link type of the first interface (for filters), or -1 before any IDB. */
int fc_pcapng__first_linktype(const struct fc_pcapng *r);
FILE *fc_pcapng__file(struct fc_pcapng *r);

#endif
