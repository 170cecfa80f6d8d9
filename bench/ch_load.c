// SPDX-License-Identifier: BSD-2-Clause
/*
 * ch_load.c - drive a sink from a capture file, for the ClickHouse end-to-end
 * test and benchmark: read the flows of a capture with the library (the same
 * engine and defaults as `flowcut read`), then offer them to a sink in
 * batches the way the exporter does: a negative return keeps the batch and
 * retries it with backoff, a short count re-offers the rest.
 *
 *   ch_load [--batch N] [--repeat K] CAPTURE SINK-URL        records/s into the sink
 *   ch_load --encode-only [--batch N] [--repeat K] CAPTURE   RowBinary encoder alone
 *   ch_load --stop-after N --stop-cmd CMD --start-cmd CMD CAPTURE SINK-URL
 *       after N delivered batches run CMD (stop the server), check that the
 *       next write fails, run the start command and retry until delivered.
 *
 * Prints one line of key=value results. Exit 0 when every record was
 * delivered (and, with --stop-after, the outage was reported as a failure).
 *
 * Build: cc -O2 -Iinclude -Isrc/lib bench/ch_load.c -Wl,--whole-archive
 *        build/libflowcut.a -Wl,--no-whole-archive $(LDLIBS)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowcut/engine.h"
#include "flowcut/record.h"
#include "flowcut/sink.h"
#include "flowcut/source.h"
#include "sink_clickhouse.h"
#include "bench_recs.h"
#include "bench_time.h"

/* The records of round k: flow ids shifted so every round's rows are distinct. */
static void round_shift(struct bench_recs *r, uint64_t shift)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		r->v[i].flow_id += shift;
}

static int encode_only(struct bench_recs *r, size_t batch, unsigned repeat)
{
	uint8_t *buf = malloc(batch * FC_CH_ROW_MAX);
	size_t total = 0, bytes = 0, i;
	double t0 = bench_now_s(), c0 = bench_cpu_s(), dt, dc;
	unsigned k;

	if (!buf)
		return 1;
	for (k = 0; k < repeat; k++)
		for (i = 0; i < r->n; i += batch) {
			size_t m = r->n - i < batch ? r->n - i : batch;

			bytes += fc_ch_encode_rows(r->v + i, m, buf);
			total += m;
		}
	dt = bench_now_s() - t0;
	dc = bench_cpu_s() - c0;
	printf("mode=encode records=%zu bytes=%zu bytes_per_record=%.1f seconds=%.3f "
	       "records_per_s=%.0f cpu_s_per_million=%.3f\n",
	       total, bytes, total ? (double)bytes / (double)total : 0.0, dt,
	       dt > 0 ? (double)total / dt : 0.0, total ? dc * 1e6 / (double)total : 0.0);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "batch", required_argument, NULL, 'b' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "encode-only", no_argument, NULL, 'e' },
		{ "stop-after", required_argument, NULL, 's' },
		{ "stop-cmd", required_argument, NULL, 'S' },
		{ "start-cmd", required_argument, NULL, 'T' },
		{ "retry-for", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	size_t batch = 10000, delivered = 0, writes = 0, failures = 0, i;
	unsigned repeat = 1, k, good_writes = 0;
	long stop_after = -1;
	const char *stop_cmd = NULL, *start_cmd = NULL;
	double retry_for = 30, t0, c0, dt;
	int enc = 0, c, outage_failed = -1, first_err = 0;
	char first_msg[FC_SINK_ERR_LEN] = "", err[512];
	struct fc_sink_spec spec;
	struct fc_sink *s;
	struct bench_recs r = { 0 };
	uint64_t max_id = 0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'b': batch = strtoul(optarg, NULL, 10); break;
		case 'r': repeat = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'e': enc = 1; break;
		case 's': stop_after = strtol(optarg, NULL, 10); break;
		case 'S': stop_cmd = optarg; break;
		case 'T': start_cmd = optarg; break;
		case 'R': retry_for = strtod(optarg, NULL); break;
		default: return 2;
		}
	}
	if (optind + (enc ? 1 : 2) != argc || !batch || !repeat) {
		fprintf(stderr, "usage: ch_load [--batch N] [--repeat K] [--encode-only] "
				"[--stop-after N --stop-cmd CMD --start-cmd CMD] CAPTURE [SINK]\n");
		return 2;
	}
	if (bench_recs__read_capture(argv[optind], &r))
		return 1;
	for (i = 0; i < r.n; i++)
		if (r.v[i].flow_id > max_id)
			max_id = r.v[i].flow_id;
	if (enc)
		return encode_only(&r, batch, repeat);

	if (fc_sink_spec__parse(argv[optind + 1], &spec, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	s = fc_sink__open(&spec, err, sizeof(err));
	fc_sink_spec__free(&spec);
	if (!s) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t0 = bench_now_s();
	c0 = bench_cpu_s();
	for (k = 0; k < repeat; k++) {
		if (k)
			round_shift(&r, max_id);
		for (i = 0; i < r.n;) {
			size_t m = r.n - i < batch ? r.n - i : batch;
			double backoff = 0.05, give_up = bench_now_s() + retry_for;
			int rc;

			for (;;) {
				rc = fc_sink__write(s, r.v + i, m);
				writes++;
				if (rc > 0)
					break;
				failures++;
				if (!first_err) {
					first_err = rc;
					snprintf(first_msg, sizeof(first_msg), "%s",
						 fc_sink__health(s)->last_error);
				}
				if (outage_failed == 0)
					outage_failed = 1;
				if (start_cmd && outage_failed == 1 && system(start_cmd)) {
					fprintf(stderr, "start command failed: %s\n", start_cmd);
					start_cmd = NULL;
				} else if (outage_failed == 1) {
					start_cmd = NULL;
				}
				if (bench_now_s() > give_up) {
					fprintf(stderr, "giving up: %s\n", fc_sink__health(s)->last_error);
					goto out;
				}
				usleep((useconds_t)(backoff * 1e6));
				backoff = backoff * 2 > 1 ? 1 : backoff * 2;
			}
			i += (size_t)rc;
			delivered += (size_t)rc;
			if (stop_cmd && ++good_writes == stop_after) {
				if (system(stop_cmd)) {
					fprintf(stderr, "stop command failed: %s\n", stop_cmd);
					goto out;
				}
				outage_failed = 0;	/* the next write must fail */
			}
		}
	}
out:
	dt = bench_now_s() - t0;
	if (fc_sink__flush(s))
		fprintf(stderr, "flush failed\n");
	printf("mode=sink records=%zu delivered=%zu writes=%zu failures=%zu seconds=%.3f "
	       "records_per_s=%.0f cpu_s_per_million=%.3f bytes=%llu first_errno=%d "
	       "first_error=\"%s\"\n",
	       r.n * repeat, delivered, writes, failures, dt, dt > 0 ? (double)delivered / dt : 0.0,
	       delivered ? (bench_cpu_s() - c0) * 1e6 / (double)delivered : 0.0,
	       (unsigned long long)fc_sink__health(s)->bytes, first_err, first_msg);
	fc_sink__close(s);
	free(r.v);
	if (delivered != r.n * repeat)
		return 1;
	if (stop_cmd && outage_failed != 1) {
		fprintf(stderr, "the outage was not reported as a failure\n");
		return 1;
	}
	return 0;
}
