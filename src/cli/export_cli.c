// SPDX-License-Identifier: BSD-2-Clause
/*
 * export_cli.c - the export options shared by `read` and `capture`
 * (export_cli.h): config file keys as options, sink selection (with
 * --retain passed on to sqlite sinks), the
 * exporter's stderr log, and the "sinks" member of --stats.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export_cli.h"
#include "jsonw.h"

void fc_cli_log(void *ctx, int level, const char *msg)
{
	fprintf(stderr, "flowcut: %s: %s\n",
		level <= FC_LOG_ERR ? "error" : level == FC_LOG_WARN ? "warning" : "info", msg);
}

static char *keep(struct fc_cli_export *e, char *s)
{
	char **n;

	if (!s)
		return NULL;
	n = realloc(e->strs, (size_t)(e->nstrs + 1) * sizeof(*n));
	if (!n) {
		free(s);
		return NULL;
	}
	e->strs = n;
	e->strs[e->nstrs++] = s;
	return s;
}

static const char *find_config_arg(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], "--config=", 9))
			return argv[i] + 9;
	}
	return NULL;
}

static int bool_value(const char *v)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		return 1;
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		return 0;
	return -1;
}

int fc_cli_export__config(struct fc_cli_export *e, const char *section,
			  const struct option *longopts, int *argcp, char ***argvp)
{
	const struct fc_config_section *s;
	int argc = *argcp;
	char **argv = *argvp;
	const char *path = find_config_arg(argc, argv);
	char err[600], opt[128];
	unsigned i;
	int n = 1;

	if (!path)
		return 0;
	if (fc_config__load(path, &e->cfg, err, sizeof(err))) {
		fc_cli_error("%s", err);
		return -1;
	}
	s = fc_config__section(e->cfg, section);
	e->argv = calloc((size_t)argc + 2 * (s ? s->nkv : 0) + 1, sizeof(char *));
	if (!e->argv) {
		fc_cli_error("out of memory");
		return -1;
	}
	e->argv[0] = argv[0];
	for (i = 0; s && i < s->nkv; i++) {
		const struct fc_config_kv *kv = &s->kv[i];
		const struct option *lo;
		size_t k;
		int b;

		snprintf(opt, sizeof(opt), "%s", kv->key);
		for (k = 0; opt[k]; k++)
			if (opt[k] == '_')
				opt[k] = '-';
		for (lo = longopts; lo->name; lo++)
			if (!strcmp(lo->name, opt))
				break;
		if (!lo->name || !strcmp(opt, "config") || !strcmp(opt, "help") || !strcmp(opt, "sink")) {
			fc_cli_error("%s:%u: unknown key '%s' in [%s]%s", path, kv->line, kv->key, section,
				     !strcmp(opt, "sink") ? " (sinks go in [sink NAME] sections)" : "");
			return -1;
		}
		if (lo->has_arg == no_argument) {
			b = bool_value(kv->val);
			if (b < 0) {
				fc_cli_error("%s:%u: %s = %s: expected yes or no", path, kv->line, kv->key,
					     kv->val);
				return -1;
			}
			if (b) {	/* "--name" */
				char *a = malloc(strlen(opt) + 3);

				if (!a || !keep(e, a))
					goto nomem;
				snprintf(a, strlen(opt) + 3, "--%s", opt);
				e->argv[n++] = a;
			}
			continue;
		}
		{
			size_t len = strlen(opt) + strlen(kv->val) + 4;
			char *a = malloc(len);

			if (!a || !keep(e, a))
				goto nomem;
			snprintf(a, len, "--%s=%s", opt, kv->val);
			e->argv[n++] = a;
		}
	}
	for (i = 1; i < (unsigned)argc; i++)
		e->argv[n++] = argv[i];
	*argcp = n;
	*argvp = e->argv;
	return 0;
nomem:
	fc_cli_error("out of memory");
	return -1;
}

int fc_cli_export__opt(struct fc_cli_export *e, int c, const char *arg)
{
	switch (c) {
	case FC_CLI_OPT_SINK:
		if (e->nsinks == FC_CLI_MAX_SINKS) {
			fc_cli_error("--sink: at most %d sinks", FC_CLI_MAX_SINKS);
			return -1;
		}
		e->sinks[e->nsinks++] = arg;
		return 1;
	case FC_CLI_OPT_CONFIG:
		return 1;	/* loaded before getopt */
	case FC_CLI_OPT_METRICS:
		e->metrics = arg;
		e->no_metrics = false;
		return 1;
	case FC_CLI_OPT_NO_METRICS:
		e->no_metrics = true;
		return 1;
	case FC_CLI_OPT_SPOOL_DIR:
		e->spool_dir = arg;
		return 1;
	case FC_CLI_OPT_RETAIN:
		/* the sink parses it and names the option when it is wrong */
		e->retain = arg;
		return 1;
	case FC_CLI_OPT_FLUSH_TIMEOUT:
		if (fc_cli_parse_duration("--flush-timeout", arg, &e->flush_timeout_ns))
			return -1;
		if (!e->flush_timeout_ns) {
			fc_cli_error("--flush-timeout: must be more than 0");
			return -1;
		}
		return 1;
	}
	return 0;
}

/* --retain DUR as retain=DUR on a sqlite sink that does not set its own.
 * Returns 0 or -1 (printed). */
static int add_retain(struct fc_sink_spec *spec, const char *retain, unsigned *nsqlite)
{
	struct fc_sink_opt *o;

	if (strcmp(spec->type, "sqlite"))
		return 0;
	++*nsqlite;
	if (!retain || fc_sink_spec__opt(spec, "retain"))
		return 0;
	if (spec->nopts == FC_SINK_MAX_OPTS) {
		fc_cli_error("--retain: the sqlite sink has %d options already", FC_SINK_MAX_OPTS);
		return -1;
	}
	o = &spec->opts[spec->nopts];
	o->key = strdup("retain");
	o->val = strdup(retain);
	spec->nopts++;	/* fc_sink_spec__free() frees what is there */
	if (!o->key || !o->val) {
		fc_cli_error("out of memory");
		return -1;
	}
	return 0;
}

static int add_one(struct fc_export *x, struct fc_sink_spec *spec, const char *what,
		   const struct fc_cli_export *e, unsigned *nsqlite)
{
	char err[600];

	if (add_retain(spec, e->retain, nsqlite))
		return -1;
	if (fc_export__add_sink(x, spec, err, sizeof(err))) {
		fc_cli_error("%s: %s", what, err);
		return -1;
	}
	return 0;
}

static int add_text(struct fc_export *x, const char *text, const struct fc_cli_export *e,
		    unsigned *nsqlite)
{
	struct fc_sink_spec spec;
	char err[600];
	int rc;

	if (fc_sink_spec__parse(text, &spec, err, sizeof(err))) {
		fc_cli_error("--sink: %s", err);
		return -1;
	}
	rc = add_one(x, &spec, "--sink", e, nsqlite);
	fc_sink_spec__free(&spec);
	return rc;
}

static int add_config_sinks(struct fc_export *x, const struct fc_config *cfg,
			    const struct fc_cli_export *e, unsigned *nsqlite)
{
	unsigned i, n = fc_config__nsinks(cfg);

	for (i = 0; i < n; i++) {
		const struct fc_config_section *s = fc_config__sink_section(cfg, i);
		struct fc_sink_spec spec;
		char err[600];

		if (fc_config__sink_spec(cfg, i, &spec, err, sizeof(err))) {
			fc_cli_error("%s", err);
			return -1;
		}
		if (add_retain(&spec, e->retain, nsqlite)) {
			fc_sink_spec__free(&spec);
			return -1;
		}
		if (fc_export__add_sink(x, &spec, err, sizeof(err))) {
			fc_cli_error("%s:%u: [sink %s]: %s", cfg->path, fc_config__blame_line(s, err),
				     s->arg, err);
			fc_sink_spec__free(&spec);
			return -1;
		}
		fc_sink_spec__free(&spec);
	}
	return 0;
}

struct fc_export *fc_cli_export__open(struct fc_cli_export *e, unsigned producers, bool lossless,
				      const char *default_sink)
{
	struct fc_export_opts o = {
		.producers = producers,
		.lossless = lossless,
		.close_timeout_ns = e->flush_timeout_ns,
		.log = fc_cli_log,
	};
	char spool[4096], type[32];
	struct fc_export *x;
	unsigned i, nsqlite = 0;
	int rc = 0;

	if (lossless) {
		/* A file waits for its sinks instead of dropping, so short queues
		 * lose nothing and keep memory proportional to flows, not buffers. */
		o.ring_size = 1024;
		o.queue_max = 8192;
	}
	if (e->spool_dir) {
		o.spool_dir = e->spool_dir;
	} else if (fc_export_default_spool_dir(spool, sizeof(spool)) == 0) {
		o.spool_dir = spool;
	}
	x = fc_export__new(&o);
	if (!x) {
		fc_cli_error("cannot set up the exporter: %s", strerror(errno));
		return NULL;
	}
	if (e->nsinks) {
		for (i = 0; i < e->nsinks && !rc; i++)
			rc = add_text(x, e->sinks[i], e, &nsqlite);
	} else if (fc_config__nsinks(e->cfg)) {
		rc = add_config_sinks(x, e->cfg, e, &nsqlite);
	} else {
		snprintf(type, sizeof(type), "%.*s", (int)strcspn(default_sink, ":"), default_sink);
		if (!fc_sink_lookup(type)) {
			fc_cli_warn("the default sink type '%s' is not built in; writing JSON lines "
				    "to stdout", type);
			default_sink = "json:-";
		}
		rc = add_text(x, default_sink, e, &nsqlite);
	}
	if (!rc && e->retain && !nsqlite)
		fc_cli_warn("--retain %s: no sqlite sink to apply it to", e->retain);
	if (!rc && (rc = fc_export__start(x)))
		fc_cli_error("cannot start the exporter: %s", strerror(-rc));
	if (rc) {
		fc_export__free(x);
		return NULL;
	}
	return x;
}

int fc_cli_export__close(struct fc_export *x)
{
	unsigned i;
	int rc = fc_export__close(x) ? -1 : 0;

	for (i = 0; i < fc_export__nsinks(x); i++) {
		struct fc_export_sink_stats st;

		fc_export__sink_stats(x, i, &st);
		if (st.spool_records) {
			fc_cli_error("sink %s: %llu records not delivered yet (kept in the spool for "
				     "the next run)%s%s", st.name, (unsigned long long)st.spool_records,
				     st.last_error[0] ? ": " : "", st.last_error);
			rc = -1;
		}
		if (st.dropped)
			fc_cli_error("sink %s: %llu records dropped", st.name,
				     (unsigned long long)st.dropped);
	}
	return rc;
}

char *fc_cli_export__stats_members(struct fc_export *x)
{
	size_t cap = 512 + (size_t)fc_export__nsinks(x) * 512;
	struct fc_export_producer_stats ps;
	struct fc_jsonw w;
	uint64_t ring_full = 0;
	char *buf = malloc(cap);
	unsigned i;

	if (!buf)
		return NULL;
	fc_jsonw__init(&w, buf, cap);
	fc_jsonw__obj_open(&w, "sinks");
	for (i = 0; i < fc_export__nsinks(x); i++) {
		struct fc_export_sink_stats st;
		char *p;

		fc_export__sink_stats(x, i, &st);
		for (p = st.name; *p; p++)	/* a JSON key without escaping */
			if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
				*p = '_';
		fc_jsonw__obj_open(&w, st.name);
		fc_jsonw__u64(&w, "received", st.received);
		fc_jsonw__u64(&w, "sent", st.sent);
		fc_jsonw__u64(&w, "queued", st.queued);
		fc_jsonw__u64(&w, "failed", st.failed);
		fc_jsonw__u64(&w, "dropped", st.dropped);
		fc_jsonw__u64(&w, "spooled", st.spooled);
		fc_jsonw__u64(&w, "spool_records", st.spool_records);
		fc_jsonw__u64(&w, "spool_bytes", st.spool_bytes);
		fc_jsonw__bool(&w, "up", st.up);
		fc_jsonw__obj_close(&w);
	}
	fc_jsonw__obj_close(&w);
	for (i = 0; i < fc_export__nproducers(x); i++)
		if (!fc_export__producer_stats(x, i, &ps))
			ring_full += ps.ring_full;
	fc_jsonw__u64(&w, "export_ring_full", ring_full);
	if (w.overflow || w.len >= cap) {
		free(buf);
		errno = ENOSPC;
		return NULL;
	}
	buf[w.len] = '\0';
	return buf;
}

void fc_cli_export__fini(struct fc_cli_export *e)
{
	int i;

	for (i = 0; i < e->nstrs; i++)
		free(e->strs[i]);
	free(e->strs);
	free(e->argv);
	fc_config__free(e->cfg);
	memset(e, 0, sizeof(*e));
}
