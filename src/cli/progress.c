// SPDX-License-Identifier: BSD-2-Clause
/*
 * progress.c - stderr progress bar (see progress.h).
 */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"

#define BAR_WIDTH 30
#define FIRST_SHOW_NS 1000000000ULL
#define REDRAW_NS 200000000ULL

void fc_progress__init(struct fc_progress *p, bool enabled)
{
	p->enabled = enabled && isatty(STDERR_FILENO);
	p->shown = false;
	p->start_ns = fc_cli_now_ns();
	p->next_ns = p->start_ns + FIRST_SHOW_NS;
}

void fc_progress__update(struct fc_progress *p, uint64_t pos, uint64_t size, uint64_t pkts)
{
	uint64_t now;
	double frac, secs, eta;
	char bar[BAR_WIDTH + 1];
	int i, fill;

	if (!p->enabled)
		return;
	now = fc_cli_now_ns();
	if (now < p->next_ns)
		return;
	p->next_ns = now + REDRAW_NS;
	frac = size ? (double)pos / (double)size : 0.0;
	if (frac > 1.0)
		frac = 1.0;
	secs = (double)(now - p->start_ns) / 1e9;
	eta = frac > 0.0 ? secs / frac - secs : 0.0;
	fill = (int)(frac * BAR_WIDTH);
	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r[%s] %5.1f%%  %.2f Mpkt/s  %.1f MB/s  ETA %.0fs ", bar, frac * 100.0,
		(double)pkts / secs / 1e6, (double)pos / secs / 1e6, eta);
	p->shown = true;
}

void fc_progress__done(struct fc_progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}
