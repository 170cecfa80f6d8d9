// SPDX-License-Identifier: BSD-2-Clause
/*
 * config.c - the configuration file (config.h), parsed by libinih.
 *
 * inih (as Debian builds it) does not pass line numbers to the handler, so
 * the file is fed through our own line reader that counts them; the handler
 * records the first error with its line and ignores the rest. Lines longer
 * than inih's limit are an error rather than being silently cut.
 */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowcut/config.h"

static const char *const known_sections[] = { "capture", "read", "sink" };

struct parse_ctx {
	struct fc_config *c;
	FILE *f;
	unsigned line;		/* line the last chunk handed to inih started on */
	unsigned next_line;
	unsigned header_line;	/* line of the last [section] header */
	int failed;
	int rc;
	char *err;
	size_t errlen;
	const char *base;	/* file name for messages */
};

static void fail(struct parse_ctx *p, unsigned line, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail(struct parse_ctx *p, unsigned line, int rc, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	p->rc = rc;
	n = (size_t)snprintf(p->err, p->errlen, "%s:%u: ", p->base, line);
	if (n >= p->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
}

static char *reader(char *str, int num, void *stream)
{
	struct parse_ctx *p = stream;
	char *s;
	size_t len;

	p->line = p->next_line;
	s = fgets(str, num, p->f);
	if (!s)
		return NULL;
	len = strlen(s);
	if (s[strspn(s, " \t")] == '[')
		p->header_line = p->line;
	if (len && s[len - 1] == '\n')
		p->next_line++;
	else if (!feof(p->f))
		fail(p, p->line, -EINVAL, "line longer than %d characters", num - 2);
	return s;
}

static struct fc_config_section *add_section(struct parse_ctx *p, const char *header)
{
	struct fc_config *c = p->c;
	struct fc_config_section *n, *s;
	const char *sp = strchr(header, ' ');
	size_t namelen = sp ? (size_t)(sp - header) : strlen(header);
	unsigned i;

	n = realloc(c->sec, (c->nsec + 1) * sizeof(*n));
	if (!n)
		return NULL;
	c->sec = n;
	s = &c->sec[c->nsec];
	memset(s, 0, sizeof(*s));
	s->name = strndup(header, namelen);
	while (sp && *sp == ' ')
		sp++;
	s->arg = strdup(sp ? sp : "");
	s->line = p->header_line;
	if (!s->name || !s->arg) {
		free(s->name);
		free(s->arg);
		return NULL;
	}
	c->nsec++;
	for (i = 0; i < sizeof(known_sections) / sizeof(known_sections[0]); i++)
		if (!strcmp(s->name, known_sections[i]))
			break;
	if (i == sizeof(known_sections) / sizeof(known_sections[0]))
		fail(p, s->line, -EINVAL, "unknown section [%s] (known: [capture], [read], "
		     "[sink NAME])", header);
	else if (!strcmp(s->name, "sink") && !s->arg[0])
		fail(p, s->line, -EINVAL, "[sink] needs a name: [sink NAME]");
	else if (strcmp(s->name, "sink") && s->arg[0])
		fail(p, s->line, -EINVAL, "[%s] takes no name", s->name);
	for (i = 0; i + 1 < c->nsec && !p->failed; i++)
		if (!strcmp(c->sec[i].name, s->name) && !strcmp(c->sec[i].arg, s->arg))
			fail(p, s->line, -EINVAL, "[%s] again (first on line %u)", header,
			     c->sec[i].line);
	return s;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *p = user;
	struct fc_config *c = p->c;
	struct fc_config_section *s = c->nsec ? &c->sec[c->nsec - 1] : NULL;
	struct fc_config_kv *kv;
	char header[256];
	unsigned i;

	if (p->failed)
		return 1;	/* report the first error only */
	if (!section[0]) {
		fail(p, p->line, -EINVAL, "'%s' outside any section", name);
		return 1;
	}
	if (s)
		snprintf(header, sizeof(header), "%s%s%s", s->name, s->arg[0] ? " " : "", s->arg);
	if (!s || strcmp(header, section)) {
		s = add_section(p, section);
		if (!s) {
			fail(p, p->line, -ENOMEM, "out of memory");
			return 1;
		}
		if (p->failed)
			return 1;
	}
	for (i = 0; i < s->nkv; i++)
		if (!strcmp(s->kv[i].key, name)) {
			fail(p, p->line, -EINVAL, "'%s' twice in [%s] (first on line %u)", name,
			     section, s->kv[i].line);
			return 1;
		}
	kv = realloc(s->kv, (s->nkv + 1) * sizeof(*kv));
	if (!kv) {
		fail(p, p->line, -ENOMEM, "out of memory");
		return 1;
	}
	s->kv = kv;
	kv = &s->kv[s->nkv];
	kv->key = strdup(name);
	kv->val = strdup(value);
	kv->line = p->line;
	if (!kv->key || !kv->val) {
		free(kv->key);
		free(kv->val);
		fail(p, p->line, -ENOMEM, "out of memory");
		return 1;
	}
	s->nkv++;
	return 1;
}

static const char *find(const struct fc_config_section *s, const char *key, unsigned *line)
{
	unsigned i;

	for (i = 0; i < s->nkv; i++)
		if (!strcmp(s->kv[i].key, key)) {
			if (line)
				*line = s->kv[i].line;
			return s->kv[i].val;
		}
	return NULL;
}

int fc_config__load(const char *path, struct fc_config **out, char *err, size_t errlen)
{
	struct parse_ctx p = { .err = err, .errlen = errlen, .next_line = 1, .base = path };
	unsigned i;
	int rc;

	*out = NULL;
	p.c = calloc(1, sizeof(*p.c));
	if (!p.c || !(p.c->path = strdup(path))) {
		free(p.c);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	p.f = fopen(path, "r");
	if (!p.f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		fc_config__free(p.c);
		return rc;
	}
	rc = ini_parse_stream(reader, &p, handler, &p);
	fclose(p.f);
	if (rc > 0 && !p.failed)
		fail(&p, (unsigned)rc, -EINVAL, "syntax error (expected [section] or key = value)");
	else if (rc < 0 && !p.failed)
		fail(&p, 0, -ENOMEM, "cannot parse");
	for (i = 0; i < p.c->nsec && !p.failed; i++) {
		const struct fc_config_section *s = &p.c->sec[i];

		if (strcmp(s->name, "sink"))
			continue;
		if (!find(s, "type", NULL))
			fail(&p, s->line, -EINVAL, "[sink %s] has no 'type' (json, sqlite, ipfix, "
			     "clickhouse, ...)", s->arg);
		else if (!find(s, "target", NULL))
			fail(&p, s->line, -EINVAL, "[sink %s] has no 'target'", s->arg);
	}
	if (p.failed) {
		fc_config__free(p.c);
		return p.rc;
	}
	*out = p.c;
	return 0;
}

void fc_config__free(struct fc_config *c)
{
	unsigned i, j;

	if (!c)
		return;
	for (i = 0; i < c->nsec; i++) {
		for (j = 0; j < c->sec[i].nkv; j++) {
			free(c->sec[i].kv[j].key);
			free(c->sec[i].kv[j].val);
		}
		free(c->sec[i].kv);
		free(c->sec[i].name);
		free(c->sec[i].arg);
	}
	free(c->sec);
	free(c->path);
	free(c);
}

const struct fc_config_section *fc_config__section(const struct fc_config *c, const char *name)
{
	unsigned i;

	for (i = 0; c && i < c->nsec; i++)
		if (!strcmp(c->sec[i].name, name))
			return &c->sec[i];
	return NULL;
}

unsigned fc_config__nsinks(const struct fc_config *c)
{
	unsigned i, n = 0;

	for (i = 0; c && i < c->nsec; i++)
		n += !strcmp(c->sec[i].name, "sink");
	return n;
}

const struct fc_config_section *fc_config__sink_section(const struct fc_config *c, unsigned idx)
{
	unsigned i;

	for (i = 0; c && i < c->nsec; i++)
		if (!strcmp(c->sec[i].name, "sink") && idx-- == 0)
			return &c->sec[i];
	return NULL;
}

int fc_config__sink_spec(const struct fc_config *c, unsigned idx, struct fc_sink_spec *spec,
			 char *err, size_t errlen)
{
	const struct fc_config_section *s = fc_config__sink_section(c, idx);
	unsigned i;

	memset(spec, 0, sizeof(*spec));
	if (!s)
		return -ENOENT;
	spec->type = strdup(find(s, "type", NULL));
	spec->target = strdup(find(s, "target", NULL));
	if (!spec->type || !spec->target)
		goto nomem;
	for (i = 0; i < s->nkv; i++) {
		const struct fc_config_kv *kv = &s->kv[i];

		if (!strcmp(kv->key, "type") || !strcmp(kv->key, "target"))
			continue;
		if (spec->nopts == FC_SINK_MAX_OPTS) {
			snprintf(err, errlen, "%s:%u: more than %d options in [sink %s]", c->path,
				 kv->line, FC_SINK_MAX_OPTS, s->arg);
			fc_sink_spec__free(spec);
			return -EINVAL;
		}
		spec->opts[spec->nopts].key = strdup(kv->key);
		spec->opts[spec->nopts].val = strdup(kv->val);
		spec->nopts++;
		if (!spec->opts[spec->nopts - 1].key || !spec->opts[spec->nopts - 1].val)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	fc_sink_spec__free(spec);
	return -ENOMEM;
}

unsigned fc_config__blame_line(const struct fc_config_section *s, const char *msg)
{
	char pat[300];
	unsigned i;

	for (i = 0; msg && i < s->nkv; i++) {
		snprintf(pat, sizeof(pat), "'%s'", s->kv[i].key);
		if (strstr(msg, pat))
			return s->kv[i].line;
		snprintf(pat, sizeof(pat), "%s=", s->kv[i].key);
		if (strstr(msg, pat))
			return s->kv[i].line;
	}
	return s->line;
}
