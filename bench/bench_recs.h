/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_recs.h - the flow records of a capture, made by the library's own
 * engine (default timeouts), in memory: what the sink benchmarks and the
 * end-to-end sender tools replay. Link with libflowcut.
 */
#ifndef FC_BENCH_RECS_H
#define FC_BENCH_RECS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowcut/engine.h"
#include "flowcut/record.h"
#include "flowcut/source.h"

struct bench_recs {
	struct fc_flow_rec *v;
	size_t n, cap;
	int oom;	/* a record could not be kept */
};

static inline void bench_recs__collect(void *ctx, const struct fc_flow_rec *rec)
{
	struct bench_recs *r = ctx;

	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 4096;
		struct fc_flow_rec *nv = realloc(r->v, nc * sizeof(*nv));

		if (!nv) {
			r->oom = 1;
			return;
		}
		r->v = nv;
		r->cap = nc;
	}
	r->v[r->n++] = *rec;
}

/* Append the records of the capture at path to r. 0, or -1 with a message
 * on stderr (unreadable file, read error, out of memory). */
static inline int bench_recs__read_capture(const char *path, struct bench_recs *r)
{
	struct fc_engine_opts eo;
	struct fc_pcap_src *src;
	struct fc_engine *eng;
	struct fc_frame f;
	enum fc_src_status st;
	char err[512];

	memset(&eo, 0, sizeof(eo));
	fc_flowtab_opts__defaults(&eo.flow);
	eo.flow.emit = bench_recs__collect;
	eo.flow.emit_ctx = r;
	src = fc_pcap_src__open(path, NULL, err, sizeof(err));
	if (!src) {
		fprintf(stderr, "%s: %s\n", path, err);
		return -1;
	}
	eng = fc_engine__new(&eo);
	if (!eng) {
		perror("engine");
		fc_pcap_src__close(src);
		return -1;
	}
	while ((st = fc_pcap_src__next(src, &f)) == FC_SRC_FRAME)
		fc_engine__frame(eng, &f, false);
	fc_engine__finish(eng, FC_END_EOF);
	fc_engine__free(eng);
	fc_pcap_src__close(src);
	if (st == FC_SRC_ERROR)
		fprintf(stderr, "%s: read error\n", path);
	if (r->oom)
		fprintf(stderr, "%s: out of memory for the records\n", path);
	return st == FC_SRC_ERROR || r->oom ? -1 : 0;
}

#endif
