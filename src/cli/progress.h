/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * progress.h - a one-line progress bar on stderr (percent, rate, ETA) for long
 * file reads. Shown only when stderr is a terminal and the read has already
 * taken more than a second; silent otherwise.
 */
#ifndef FC_PROGRESS_H
#define FC_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct fc_progress {
	bool enabled;
	bool shown;
	uint64_t start_ns;
	uint64_t next_ns;
};

void fc_progress__init(struct fc_progress *p, bool enabled);
/* Cheap enough to call every few thousand packets. */
void fc_progress__update(struct fc_progress *p, uint64_t pos, uint64_t size, uint64_t pkts);
void fc_progress__done(struct fc_progress *p);

#endif
