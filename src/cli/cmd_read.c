// SPDX-License-Identifier: BSD-2-Clause
/*
 * cmd_read.c - `flowcut read FILE`: flow records from a capture file to the
 * sinks (--sink, repeatable; default JSON lines on stdout, -o FILE being
 * --sink json:FILE), final counters with --stats. Timestamps are the
 * capture's, never the wall clock. Records go through the exporter in its
 * lossless mode: a file can wait for a slow sink, so nothing is dropped
 * while a sink works. Exit status: 0 on success (a file cut mid-record is a
 * warning), 1 when the input cannot be read or a sink could not take every
 * record, 2 on a bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "flow_opts.h"
#include "export_cli.h"
#include "flowcut/engine.h"
#include "flowcut/metrics.h"
#include "flowcut/record.h"
#include "flowcut/source.h"
#include "flowcut/source_thread.h"
#include "progress.h"

struct read_opts {
	const char *in;
	const char *out;
	const char *stats;
	const char *filter;
	bool quiet;
	bool no_reader_thread;
	struct fc_engine_opts eng;
	struct fc_cli_export ex;
	char *out_sink;		/* "json:" + -o FILE */
};

enum {
	OPT_STATS = 256, OPT_NO_READER,
};

static const struct option read_longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "filter", required_argument, NULL, 'f' },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "quiet", no_argument, NULL, 'q' },
	FC_CLI_FLOW_LONGOPTS,
	{ "no-reader-thread", no_argument, NULL, OPT_NO_READER },
	FC_CLI_EXPORT_LONGOPTS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void read_usage(FILE *out)
{
	fputs("usage: flowcut read FILE [options]\n"
	      "  -o, --output FILE         JSON lines to FILE (= --sink json:FILE; default: stdout)\n"
	      "  -f, --filter EXPR         tcpdump filter expression; others are counted as filtered\n"
	      "      --stats FILE          write the final counters as JSON\n"
	      "  -q, --quiet               no progress bar\n"
	      "      --idle-timeout DUR    idle timeout for every protocol (0 = off)\n"
	      "      --tcp-idle-timeout DUR   (default 300s)\n"
	      "      --udp-idle-timeout DUR   (default 60s)\n"
	      "      --other-idle-timeout DUR (default 60s)\n"
	      "      --active-timeout DUR  interim records for long flows (default 1800s, 0 = off)\n"
	      "      --tcp-close-grace DUR time a closed TCP flow still collects packets (default 5s)\n"
	      "      --max-flows N         flow table cap (default 1048576); LRU eviction beyond\n"
	      "      --no-vlan-key         do not tell flows apart by VLAN id\n"
	      "      --frag-timeout DUR    how long a first fragment is remembered (default 30s)\n"
	      "      --max-frags N         fragment table size (default 8192)\n"
	      "      --no-reader-thread    read the file on the flow thread (default: a reader\n"
	      "                            thread when there are 2 or more CPUs)\n"
	      FC_CLI_EXPORT_USAGE
	      "                            (read serves no /metrics unless --metrics is given)\n",
	      out);
}

/* Returns 0, -1 on a usage error, or 1 when --help was printed. */
static int parse_read_args(int argc, char **argv, struct read_opts *o)
{
	int c, rc;

	fc_flowtab_opts__defaults(&o->eng.flow);
	if (fc_cli_export__config(&o->ex, "read", read_longopts, &argc, &argv))
		return -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:f:qh", read_longopts, NULL)) != -1) {
		rc = fc_cli_export__opt(&o->ex, c, optarg);
		if (!rc)
			rc = fc_cli_flow_opt(c, optarg, &o->eng);
		if (rc < 0)
			return -1;
		if (rc)
			continue;
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'f': o->filter = optarg; break;
		case 'q': o->quiet = true; break;
		case OPT_STATS: o->stats = optarg; break;
		case OPT_NO_READER: o->no_reader_thread = true; break;
		case 'h': read_usage(stdout); return 1;
		default: read_usage(stderr); return -1;
		}
	}
	if (optind != argc - 1) {
		fc_cli_error(optind == argc ? "read: no capture file given" :
					      "read: one capture file at a time");
		read_usage(stderr);
		return -1;
	}
	o->in = argv[optind];
	if (o->out) {	/* -o FILE: one more sink, json:FILE */
		size_t len = strlen(o->out) + 6;

		o->out_sink = malloc(len);
		if (!o->out_sink) {
			fc_cli_error("out of memory");
			return -1;
		}
		snprintf(o->out_sink, len, "json:%s", o->out);
		if (fc_cli_export__opt(&o->ex, FC_CLI_OPT_SINK, o->out_sink) < 0)
			return -1;
	}
	return 0;
}

static int write_stats(const struct read_opts *o, struct fc_engine *eng, struct fc_export *x,
		       const char *warning, uint64_t t0)
{
	struct fc_stats_extra ex = {
		.source = o->in,
		.warning = warning,
		.elapsed_s = (double)(fc_cli_now_ns() - t0) / 1e9,
	};
	char *members;
	FILE *f;
	int err;

	if (!o->stats)
		return 0;
	members = fc_cli_export__stats_members(x);
	if (!members) {
		fc_cli_error("--stats %s: %s", o->stats, strerror(errno));
		return -1;
	}
	f = strcmp(o->stats, "-") ? fopen(o->stats, "w") : stdout;
	if (!f) {
		fc_cli_error("--stats %s: %s", o->stats, strerror(errno));
		free(members);
		return -1;
	}
	err = fc_stats__write_json_ext(fc_engine__stats(eng), fc_engine__flow_stats(eng), &ex,
				       members, f);
	free(members);
	if (f != stdout && fclose(f) && !err)
		err = -errno;
	if (err) {
		fc_cli_error("--stats %s: %s", o->stats, strerror(-err));
		return -1;
	}
	return 0;
}

/* Pump every frame of src into eng. Returns the source's final status. */
/*
 * Pump every frame of src into eng. With a reader thread, file reading and
 * filtering overlap with decoding and flow tracking; the frames and their
 * order are the same either way. Returns the source's final status.
 */
static enum fc_src_status pump(struct fc_pcap_src *src, struct fc_engine *eng, bool quiet,
			       struct fc_metrics *m, bool reader_thread)
{
	struct fc_src_thread *t = reader_thread ? fc_src_thread__start(src, 4 << 20) : NULL;
	struct fc_progress prog;
	enum fc_src_status st;
	struct fc_frame f;
	bool filtered;
	uint64_t n = 0;

	fc_progress__init(&prog, !quiet);
	for (;;) {
		if (t) {
			st = fc_src_thread__next(t, &f, &filtered);
		} else {
			st = fc_pcap_src__next(src, &f);
			filtered = st == FC_SRC_FRAME && !fc_pcap_src__match(src, &f);
		}
		if (st != FC_SRC_FRAME)
			break;
		fc_engine__frame(eng, &f, filtered);
		if (!(++n & 0xffff) && m)
			fc_metrics__publish(m, 0, fc_engine__stats(eng), fc_engine__flow_stats(eng));
		if (!(n & 0xfff) && prog.enabled) {
			uint64_t pos, size;

			if (t)
				fc_src_thread__progress(t, &pos, &size);
			else
				fc_pcap_src__progress(src, &pos, &size);
			fc_progress__update(&prog, pos, size, n);
		}
	}
	fc_src_thread__stop(t);
	fc_progress__done(&prog);
	return st;
}

int fc_cmd_read(int argc, char **argv)
{
	struct read_opts o = { 0 };
	struct fc_metrics *m = NULL;
	struct fc_pcap_src *src;
	struct fc_export *x;
	struct fc_engine *eng;
	enum fc_src_status st;
	const char *warning = NULL;
	char err[512];
	uint64_t t0 = fc_cli_now_ns();
	int rc = FC_EXIT_OK, prc;

	prc = parse_read_args(argc, argv, &o);
	if (prc) {
		rc = prc > 0 ? FC_EXIT_OK : FC_EXIT_USAGE;
		goto out_opts;
	}
	src = fc_pcap_src__open(o.in, o.filter, err, sizeof(err));
	if (!src) {
		fc_cli_error("%s: %s", o.in, err);
		rc = strstr(err, "filter") ? FC_EXIT_USAGE : FC_EXIT_FAIL;
		goto out_opts;
	}
	/* A file can wait for its sinks: lossless, nothing dropped while they work. */
	x = fc_cli_export__open(&o.ex, 1, true, "json:-");
	if (!x) {
		rc = FC_EXIT_FAIL;
		goto out_src;
	}
	if (o.ex.metrics && !o.ex.no_metrics) {
		m = fc_metrics__start(o.ex.metrics, 1, x, err, sizeof(err));
		if (!m) {
			fc_cli_error("--metrics: %s", err);
			rc = FC_EXIT_FAIL;
			goto out_export;
		}
	}
	o.eng.flow.emit = fc_export__emit_cb;
	o.eng.flow.defer_community_id = true;	/* the exporter thread computes it */
	o.eng.flow.emit_ctx = fc_export__producer(x, 0);
	eng = fc_engine__new(&o.eng);
	if (!eng) {
		fc_cli_error("cannot create the flow table (--max-flows %u): %s", o.eng.flow.max_flows,
			     strerror(errno));
		rc = FC_EXIT_FAIL;
		goto out_metrics;
	}
	st = pump(src, eng, o.quiet, m, !o.no_reader_thread && sysconf(_SC_NPROCESSORS_ONLN) >= 2);
	fc_engine__finish(eng, FC_END_EOF);
	fc_metrics__publish(m, 0, fc_engine__stats(eng), fc_engine__flow_stats(eng));
	if (st == FC_SRC_TRUNCATED) {
		warning = fc_pcap_src__error(src);
		fc_cli_warn("%s: %s; every complete packet before it was read", o.in, warning);
	} else if (st == FC_SRC_ERROR) {
		warning = fc_pcap_src__error(src);
		fc_cli_error("%s: %s (records for the packets before it were written)", o.in,
			     warning);
		rc = FC_EXIT_FAIL;
	}
	/* every record delivered (or spooled, and said so) before the counters */
	if (fc_cli_export__close(x))
		rc = FC_EXIT_FAIL;
	if (write_stats(&o, eng, x, warning, t0))
		rc = FC_EXIT_FAIL;
	fc_engine__free(eng);
out_metrics:
	fc_metrics__stop(m);
out_export:
	fc_export__free(x);
out_src:
	fc_pcap_src__close(src);
out_opts:
	free(o.out_sink);
	fc_cli_export__fini(&o.ex);
	return rc;
}
