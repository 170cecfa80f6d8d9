// SPDX-License-Identifier: BSD-2-Clause
/*
 * cmd_query.c - `flowcut query`: reads the SQLite flow store (read-only)
 * and prints top-N summaries (--top talkers|src|dst|ports|protocols) or the
 * matching flow records, as an aligned table for people or JSON lines for
 * scripts. Time arguments are parsed here (relative "1h", local-time
 * "2026-11-20T10:00", epoch seconds); the store API (flowcut/store.h) does
 * the rest. Exit status: 0, 1 when the store cannot be read, 2 on a bad
 * command line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "flowcut/record.h"
#include "flowcut/store.h"

#define DEFAULT_TOP_LIMIT 10
#define DEFAULT_LIST_LIMIT 100
#define MAX_LIMIT 10000000

struct query_opts {
	const char *db;
	int top;		/* -1 = list records */
	int json;
	uint64_t limit;		/* 0 = default */
	struct fc_store_filter f;
};

enum { OPT_SINCE = 256, OPT_UNTIL, OPT_SRC, OPT_DST, OPT_HOST, OPT_PORT, OPT_PROTO, OPT_FORMAT,
       OPT_DB, OPT_TOP, OPT_LIMIT };

static const struct option query_longopts[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "src", required_argument, NULL, OPT_SRC },
	{ "dst", required_argument, NULL, OPT_DST },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "proto", required_argument, NULL, OPT_PROTO },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void query_usage(FILE *out)
{
	fputs("usage: flowcut query [options]\n"
	      "  top summaries (by bytes both ways) or, without --top, the newest matching flows\n"
	      "      --db PATH          flow store (default: /var/lib/flowcut/flows.db as root,\n"
	      "                         else ~/.local/share/flowcut/flows.db)\n"
	      "      --top WHAT         talkers | src | dst | ports | protocols\n"
	      "      --since TIME       flows that ended at or after TIME: 1h, 30m, 7d (ago),\n"
	      "                         2026-11-20T10:00, '2026-11-20 10:00:00' (local), or epoch seconds\n"
	      "      --until TIME       flows that ended before TIME\n"
	      "      --src ADDR         initiator address\n"
	      "      --dst ADDR         responder address\n"
	      "      --host ADDR        either address\n"
	      "      --port N           either port\n"
	      "      --proto P          tcp, udp, icmp, icmpv6, sctp, or a number\n"
	      "      --limit N          rows (default 10 with --top, 100 for flows)\n"
	      "      --format F         table (default) or json (one object per line)\n",
	      out);
}

static const struct { const char *name; int num; } protos[] = {
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 }, { "esp", 50 },
	{ "icmpv6", 58 }, { "sctp", 132 },
};

static const char *proto_name(int p, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].num == p)
			return protos[i].name;
	snprintf(buf, cap, "%d", p);
	return buf;
}

static int parse_proto(const char *s, int *out)
{
	unsigned long v;
	char *end;
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (!strcasecmp(s, protos[i].name)) {
			*out = protos[i].num;
			return 0;
		}
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v > 255) {
		fc_cli_error("--proto: '%s' is not a protocol (tcp, udp, icmp, icmpv6, sctp, or 0..255)",
			     s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Absolute local time "YYYY-MM-DD[(T| )HH:MM[:SS]]". Returns 0 or -1. */
static int parse_local(const char *s, uint64_t *ns)
{
	static const char *const fmts[] = { "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
					    "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d" };
	size_t i;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct tm tm;
		const char *end;
		time_t t;

		memset(&tm, 0, sizeof(tm));
		end = strptime(s, fmts[i], &tm);
		if (!end || *end)
			continue;
		tm.tm_isdst = -1;	/* let mktime apply the zone's DST rules */
		t = mktime(&tm);
		if (t == (time_t)-1 || t < 0)
			return -1;
		*ns = (uint64_t)t * 1000000000ULL;
		return 0;
	}
	return -1;
}

/*
 * TIME: a duration ago ("1h", "30m", "7d", "90s", "2w"), "now", a local date
 * and time, or epoch seconds (digits, optionally with a fraction).
 * Returns 0 or -1 (message printed).
 */
static int parse_time(const char *opt, const char *s, uint64_t *ns)
{
	static const struct { char unit; uint64_t mul; } units[] = {
		{ 's', 1000000000ULL }, { 'm', 60000000000ULL }, { 'h', 3600000000000ULL },
		{ 'd', 86400000000000ULL }, { 'w', 604800000000000ULL },
	};
	uint64_t now = wall_ns();
	size_t len = strlen(s), i;
	char *end;
	double v;

	if (!strcmp(s, "now")) {
		*ns = now;
		return 0;
	}
	if (len >= 2 && s[0] >= '0' && s[0] <= '9') {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (s[len - 1] != units[i].unit)
				continue;
			errno = 0;
			v = strtod(s, &end);
			if (errno || end != s + len - 1 || v < 0 || isnan(v))
				break;
			if (v * (double)units[i].mul >= (double)now)
				*ns = 0;
			else
				*ns = now - (uint64_t)(v * (double)units[i].mul);
			return 0;
		}
	}
	if (s[0] >= '0' && s[0] <= '9' && !strchr(s, '-')) {
		errno = 0;
		v = strtod(s, &end);
		if (!errno && !*end && v >= 0 && v < 1e10) {
			*ns = (uint64_t)llround(v * 1e9);
			return 0;
		}
	}
	if (!parse_local(s, ns))
		return 0;
	fc_cli_error("%s: '%s' is not a time (examples: 1h, 30m, 7d, 2026-11-20T10:00, "
		     "'2026-11-20 10:00:00', 1763632800)", opt, s);
	return -1;
}

/* Returns 0, -1 on a usage error, or 1 when --help was printed. */
static int parse_query_args(int argc, char **argv, struct query_opts *o)
{
	enum fc_store_top top;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->top = -1;
	fc_store_filter__init(&o->f);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", query_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DB: o->db = optarg; break;
		case OPT_SRC: o->f.src = optarg; break;
		case OPT_DST: o->f.dst = optarg; break;
		case OPT_HOST: o->f.host = optarg; break;
		case OPT_TOP:
			if (fc_store_top_parse(optarg, &top)) {
				fc_cli_error("--top: '%s' is not one of talkers, src, dst, ports, protocols",
					     optarg);
				return -1;
			}
			o->top = (int)top;
			break;
		case OPT_SINCE:
			if (parse_time("--since", optarg, &o->f.since_ns))
				return -1;
			break;
		case OPT_UNTIL:
			if (parse_time("--until", optarg, &o->f.until_ns))
				return -1;
			if (!o->f.until_ns) {
				fc_cli_error("--until: '%s' is before the epoch", optarg);
				return -1;
			}
			break;
		case OPT_PORT:
			if (fc_cli_parse_count("--port", optarg, &v))
				return -1;
			if (v > 65535) {
				fc_cli_error("--port: %s is out of range (0 .. 65535)", optarg);
				return -1;
			}
			o->f.port = (int)v;
			break;
		case OPT_PROTO:
			if (parse_proto(optarg, &o->f.proto))
				return -1;
			break;
		case OPT_LIMIT:
			if (fc_cli_parse_count("--limit", optarg, &o->limit))
				return -1;
			if (o->limit < 1 || o->limit > MAX_LIMIT) {
				fc_cli_error("--limit: %s is out of range (1 .. %d)", optarg, MAX_LIMIT);
				return -1;
			}
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "json")) {
				o->json = 1;
			} else if (strcmp(optarg, "table")) {
				fc_cli_error("--format: '%s' is not table or json", optarg);
				return -1;
			}
			break;
		case 'h': query_usage(stdout); return 1;
		default: query_usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fc_cli_error("unexpected argument '%s' (flowcut query takes only options)", argv[optind]);
		return -1;
	}
	if (o->f.until_ns && o->f.since_ns >= o->f.until_ns) {
		fc_cli_error("--since must be before --until");
		return -1;
	}
	if (!o->limit)
		o->limit = o->top >= 0 ? DEFAULT_TOP_LIMIT : DEFAULT_LIST_LIMIT;
	return 0;
}

/* "1.2 GB", "950 B"; SI (powers of 1000) like network tools. */
static const char *human(uint64_t v, const char *unit, char *buf, size_t cap)
{
	static const char *const pfx[] = { "", "k", "M", "G", "T", "P", "E" };
	double d = (double)v;
	int i = 0;

	while (d >= 999.95 && i < 6) {
		d /= 1000;
		i++;
	}
	if (!i)
		snprintf(buf, cap, "%" PRIu64 "%s%s", v, *unit ? " " : "", unit);
	else
		snprintf(buf, cap, "%.1f %s%s", d, pfx[i], unit);
	return buf;
}

/* Table output is buffered so columns can be as wide as their widest cell. */
struct out {
	int json;
	enum fc_store_top top;
	unsigned rows;
	struct fc_store_top_row *tops;
	struct fc_flow_rec *recs;
	size_t cap;
};

static int grow(struct out *o, size_t elem)
{
	size_t ncap = o->cap ? o->cap * 2 : 64;
	void *p = realloc(o->tops ? (void *)o->tops : (void *)o->recs, ncap * elem);

	if (!p)
		return -ENOMEM;
	if (elem == sizeof(*o->tops))
		o->tops = p;
	else
		o->recs = p;
	o->cap = ncap;
	return 0;
}

/* A JSON string. Addresses come from our own formatting, but the store is
 * a file anyone can edit, so the output stays valid JSON whatever it holds. */
static void put_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int top_row(const struct fc_store_top_row *r, void *ctx)
{
	struct out *o = ctx;

	if (o->json) {
		putchar('{');
		if (o->top == FC_STORE_TOP_PORTS)
			printf("\"proto\":%d,\"port\":%d,", r->proto, r->port);
		else if (o->top == FC_STORE_TOP_PROTOCOLS)
			printf("\"proto\":%d,", r->proto);
		else {
			fputs("\"addr\":", stdout);
			put_json_str(r->addr);
			putchar(',');
		}
		printf("\"bytes\":%" PRIu64 ",\"pkts\":%" PRIu64 ",\"flows\":%" PRIu64 "}\n",
		       r->bytes, r->pkts, r->flows);
		o->rows++;
		return ferror(stdout) ? -EIO : 0;
	}
	if (o->rows == o->cap && grow(o, sizeof(*o->tops)))
		return -ENOMEM;
	o->tops[o->rows++] = *r;
	return 0;
}

static int rec_row(const struct fc_flow_rec *r, void *ctx)
{
	struct out *o = ctx;
	char buf[1024];

	if (o->json) {
		if (fc_record_to_json(r, buf, sizeof(buf)) > 0)
			printf("%s\n", buf);
		o->rows++;
		return ferror(stdout) ? -EIO : 0;
	}
	if (o->rows == o->cap && grow(o, sizeof(*o->recs)))
		return -ENOMEM;
	o->recs[o->rows++] = *r;
	return 0;
}

static int maxw(int a, size_t b)
{
	return (size_t)a > b ? a : (int)b;
}

static void print_tops(const struct out *o)
{
	const char *kh = o->top == FC_STORE_TOP_TALKERS ? "HOST" :
			 o->top == FC_STORE_TOP_SRC ? "SOURCE" :
			 o->top == FC_STORE_TOP_DST ? "DESTINATION" : "PROTO";
	char b[32], p[32], f[32], pn[16];
	int kw = (int)strlen(kh);
	unsigned i;

	for (i = 0; i < o->rows; i++)
		if (o->top != FC_STORE_TOP_PORTS && o->top != FC_STORE_TOP_PROTOCOLS)
			kw = maxw(kw, strlen(o->tops[i].addr));
	if (o->top == FC_STORE_TOP_PORTS)
		printf("%-8s %5s", "PROTO", "PORT");
	else
		printf("%-*s", kw, kh);
	printf("  %10s %10s %10s\n", "BYTES", "PKTS", "FLOWS");
	for (i = 0; i < o->rows; i++) {
		const struct fc_store_top_row *r = &o->tops[i];

		if (o->top == FC_STORE_TOP_PORTS)
			printf("%-8s %5d", proto_name(r->proto, pn, sizeof(pn)), r->port);
		else if (o->top == FC_STORE_TOP_PROTOCOLS)
			printf("%-*s", kw, proto_name(r->proto, pn, sizeof(pn)));
		else
			printf("%-*s", kw, r->addr);
		printf("  %10s %10s %10s\n", human(r->bytes, "B", b, sizeof(b)),
		       human(r->pkts, "", p, sizeof(p)), human(r->flows, "", f, sizeof(f)));
	}
}

static void endpoint(char *buf, size_t cap, const struct fc_addr *a, int family, unsigned port)
{
	char s[64];

	fc_addr_to_str(a, family, s, sizeof(s));
	snprintf(buf, cap, family == 6 ? "[%s]:%u" : "%s:%u", s, port);
}

static void print_recs(const struct out *o)
{
	char src[80], dst[80], when[32], b[32], p[32], pn[16];
	int sw = 6, dw = 11;
	unsigned i;

	for (i = 0; i < o->rows; i++) {
		endpoint(src, sizeof(src), &o->recs[i].src, o->recs[i].family, o->recs[i].sport);
		endpoint(dst, sizeof(dst), &o->recs[i].dst, o->recs[i].family, o->recs[i].dport);
		sw = maxw(sw, strlen(src));
		dw = maxw(dw, strlen(dst));
	}
	printf("%-19s  %-6s  %-*s  %-*s  %10s %10s  %s\n", "END", "PROTO", sw, "SOURCE", dw,
	       "DESTINATION", "BYTES", "PKTS", "STATE");
	for (i = 0; i < o->rows; i++) {
		const struct fc_flow_rec *r = &o->recs[i];
		time_t t = (time_t)(r->end_ns / 1000000000ULL);
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		endpoint(src, sizeof(src), &r->src, r->family, r->sport);
		endpoint(dst, sizeof(dst), &r->dst, r->family, r->dport);
		printf("%-19s  %-6s  %-*s  %-*s  %10s %10s  %s\n", when,
		       proto_name(r->proto, pn, sizeof(pn)), sw, src, dw, dst,
		       human(r->bytes + r->rbytes, "B", b, sizeof(b)),
		       human(r->pkts + r->rpkts, "", p, sizeof(p)),
		       r->proto == 6 ? fc_tcp_state_name(r->tcp_state) : fc_end_reason_name(r->end_reason));
	}
}

int fc_cmd_query(int argc, char **argv)
{
	struct query_opts o;
	struct out out = { 0 };
	struct fc_store *st;
	char path[4096], err[512];
	int rc;

	rc = parse_query_args(argc, argv, &o);
	if (rc)
		return rc > 0 ? FC_EXIT_OK : FC_EXIT_USAGE;
	if (!o.db) {
		if (fc_store_default_path(path, sizeof(path))) {
			fc_cli_error("no default flow store path (HOME is not set); pass --db");
			return FC_EXIT_USAGE;
		}
		o.db = path;
	}
	st = fc_store__open(o.db, err, sizeof(err));
	if (!st) {
		if (errno == ENOENT)
			fc_cli_error("no flow store at %s (start `flowcut capture`, or pass --db)", o.db);
		else
			fc_cli_error("%s", err);
		return FC_EXIT_FAIL;
	}
	out.json = o.json;
	if (o.top >= 0) {
		out.top = (enum fc_store_top)o.top;
		rc = fc_store__top(st, out.top, &o.f, (unsigned)o.limit, top_row, &out, err,
				   sizeof(err));
	} else {
		rc = fc_store__list(st, &o.f, (unsigned)o.limit, rec_row, &out, err, sizeof(err));
	}
	fc_store__close(st);
	if (!rc && !out.json && out.rows) {
		if (o.top >= 0)
			print_tops(&out);
		else
			print_recs(&out);
	}
	free(out.tops);
	free(out.recs);
	if (rc == -EINVAL) {
		fc_cli_error("%s", err);
		return FC_EXIT_USAGE;
	}
	if (rc == -ENOMEM) {
		fc_cli_error("out of memory (try a smaller --limit or --format json)");
		return FC_EXIT_FAIL;
	}
	if (rc == -EIO && ferror(stdout)) {
		fc_cli_error("cannot write the output");
		return FC_EXIT_FAIL;
	}
	if (rc) {
		fc_cli_error("%s: %s", o.db, err);
		return FC_EXIT_FAIL;
	}
	if (!out.rows && !out.json)
		fprintf(stderr, "no matching flows\n");
	if (fflush(stdout) == EOF) {
		fc_cli_error("cannot write the output: %s", strerror(errno));
		return FC_EXIT_FAIL;
	}
	return FC_EXIT_OK;
}
