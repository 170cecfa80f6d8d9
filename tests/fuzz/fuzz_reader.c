// SPDX-License-Identifier: BSD-2-Clause
/*
 * fuzz_reader.c - libFuzzer target for the capture-file path: the bytes are a
 * pcap or pcapng file, read through the real source, decoder, fragment and
 * flow tables. Checks the accounting identity on every input: a broken
 * counter is as much a bug as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "flowcut/engine.h"
#include "flowcut/source.h"

static void emit_nothing(void *ctx, const struct fc_flow_rec *rec)
{
	uint64_t *pkts = ctx;

	*pkts += rec->pkts + rec->rpkts;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fc_engine_opts eo = { 0 };
	struct fc_pcap_src *src;
	struct fc_engine *eng;
	struct fc_frame f;
	char path[64], err[512];
	uint64_t emitted = 0;
	int fd = memfd_create("fuzz", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	src = fc_pcap_src__open(path, size & 1 ? "tcp or udp" : NULL, err, sizeof(err));
	if (!src) {
		close(fd);
		return 0;
	}
	fc_flowtab_opts__defaults(&eo.flow);
	eo.flow.max_flows = 64;
	eo.flow.emit = emit_nothing;
	eo.flow.emit_ctx = &emitted;
	eo.frag_max = 16;
	eng = fc_engine__new(&eo);
	if (eng) {
		const struct fc_stats *st;

		while (fc_pcap_src__next(src, &f) == FC_SRC_FRAME)
			fc_engine__frame(eng, &f, !fc_pcap_src__match(src, &f));
		fc_engine__finish(eng, FC_END_EOF);
		st = fc_engine__stats(eng);
		if (!fc_stats_identity_ok(st, fc_engine__flow_stats(eng)) ||
		    emitted != fc_engine__flow_stats(eng)->pkts_emitted)
			abort();
		fc_engine__free(eng);
	}
	fc_pcap_src__close(src);
	close(fd);
	return 0;
}
