// SPDX-License-Identifier: BSD-2-Clause
/*
 * ipfix_send.c - test driver for the IPFIX end-to-end tests: reads a capture
 * with the library (as `flowcut read` does, same defaults), then writes
 * every record through one sink URL the way the exporter would: batches,
 * re-offering what write() did not take. Built by tests/e2e/test_ipfix.sh.
 *
 * usage: ipfix_send [-b BATCH] [-d DELAY_MS] [-t RETRY_S] FILE SINK_URL
 *   -b  records per write() (default 64)
 *   -d  sleep between batches (for the collector-killed test)
 *   -t  keep retrying a failing write() this many seconds (default 0: fail)
 * Prints "records N delivered N" on success; exits 1 with "write failed:
 * ERROR after N records" on stderr when the sink reports failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowcut/engine.h"
#include "flowcut/record.h"
#include "flowcut/sink.h"
#include "flowcut/source.h"
#include "../../bench/bench_recs.h"

int main(int argc, char **argv)
{
	struct bench_recs r = { 0 };
	struct fc_sink_spec spec;
	struct fc_sink *s;
	size_t batch = 64, done = 0;
	unsigned delay_ms = 0, retry_s = 0;
	time_t fail_since = 0;
	char err[512];
	int c, rc = 0;

	while ((c = getopt(argc, argv, "b:d:t:")) != -1) {
		switch (c) {
		case 'b': batch = strtoul(optarg, NULL, 10); break;
		case 'd': delay_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': retry_s = (unsigned)strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (optind != argc - 2 || !batch) {
		fprintf(stderr, "usage: ipfix_send [-b BATCH] [-d DELAY_MS] [-t RETRY_S] FILE URL\n");
		return 2;
	}
	if (bench_recs__read_capture(argv[optind], &r))
		return 1;
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
	while (done < r.n) {
		size_t n = r.n - done < batch ? r.n - done : batch;

		rc = fc_sink__write(s, r.v + done, n);
		if (rc < 0) {
			if (!fail_since)
				fail_since = time(NULL);
			if (time(NULL) - fail_since >= (time_t)retry_s) {
				fprintf(stderr, "write failed: %s (%s) after %zu records\n",
					strerror(-rc), fc_sink__health(s)->last_error, done);
				break;
			}
			usleep(100000);
			continue;
		}
		fail_since = 0;
		done += (size_t)rc;
		if (delay_ms)
			usleep(delay_ms * 1000);
	}
	if (rc >= 0)
		rc = fc_sink__flush(s);
	printf("records %zu delivered %zu written %llu failed %llu\n", r.n, done,
	       (unsigned long long)fc_sink__health(s)->written,
	       (unsigned long long)fc_sink__health(s)->failed);
	fc_sink__close(s);
	free(r.v);
	return rc < 0 ? 1 : 0;
}
