// SPDX-License-Identifier: BSD-2-Clause
/*
 * sink.c - the sink registry, sink URL parsing, and the thin instance layer
 * every sink type sits behind (see sink.h). Registration happens in
 * constructors before main(), single-threaded, so the registry needs no lock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowcut/sink.h"

#define MAX_TYPES 32

static const struct fc_sink_ops *registry[MAX_TYPES];
static unsigned nregistered;

struct fc_sink {
	const struct fc_sink_ops *ops;
	char *name;
	struct fc_sink_health health;
	size_t batch_hint;
	int opened;
	/* private state follows, 16-byte aligned */
	_Alignas(16) unsigned char priv[];
};

void fc_sink_register(const struct fc_sink_ops *ops)
{
	if (nregistered < MAX_TYPES && !fc_sink_lookup(ops->type))
		registry[nregistered++] = ops;
}

const struct fc_sink_ops *fc_sink_lookup(const char *type)
{
	unsigned i;

	for (i = 0; i < nregistered; i++)
		if (!strcmp(registry[i]->type, type))
			return registry[i];
	return NULL;
}

const struct fc_sink_ops *fc_sink_type_at(unsigned i)
{
	return i < nregistered ? registry[i] : NULL;
}

void fc_sink_spec__free(struct fc_sink_spec *spec)
{
	unsigned i;

	if (!spec)
		return;
	free(spec->type);
	free(spec->target);
	for (i = 0; i < spec->nopts; i++) {
		free((char *)spec->opts[i].key);
		free((char *)spec->opts[i].val);
	}
	memset(spec, 0, sizeof(*spec));
}

static int parse_opts(char *q, struct fc_sink_spec *spec, char *err, size_t errlen)
{
	char *save = NULL, *kv;

	for (kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq || eq == kv) {
			snprintf(err, errlen, "sink option '%s' is not key=value", kv);
			return -EINVAL;
		}
		if (spec->nopts == FC_SINK_MAX_OPTS) {
			snprintf(err, errlen, "more than %d sink options", FC_SINK_MAX_OPTS);
			return -EINVAL;
		}
		*eq = '\0';
		spec->opts[spec->nopts].key = strdup(kv);
		spec->opts[spec->nopts].val = strdup(eq + 1);
		spec->nopts++;
		if (!spec->opts[spec->nopts - 1].key || !spec->opts[spec->nopts - 1].val) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

int fc_sink_spec__parse(const char *text, struct fc_sink_spec *spec, char *err, size_t errlen)
{
	char *copy = strdup(text), *colon, *target, *q;
	int rc = -EINVAL;

	memset(spec, 0, sizeof(*spec));
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	colon = strchr(copy, ':');
	if (!colon || colon == copy) {
		snprintf(err, errlen, "sink '%s' is not TYPE:TARGET (e.g. json:-, sqlite:/path, "
				      "ipfix://host:4739)", text);
		goto out;
	}
	*colon = '\0';
	target = colon + 1;
	if (!strncmp(target, "//", 2))
		target += 2;
	q = strchr(target, '?');
	if (q)
		*q++ = '\0';
	spec->type = strdup(copy);
	spec->target = strdup(target);
	if (!spec->type || !spec->target) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	rc = q ? parse_opts(q, spec, err, errlen) : 0;
out:
	if (rc)
		fc_sink_spec__free(spec);
	free(copy);
	return rc;
}

const char *fc_sink_spec__opt(const struct fc_sink_spec *spec, const char *key)
{
	unsigned i;

	for (i = 0; i < spec->nopts; i++)
		if (!strcmp(spec->opts[i].key, key))
			return spec->opts[i].val;
	return NULL;
}

struct fc_sink *fc_sink__open(const struct fc_sink_spec *spec, char *err, size_t errlen)
{
	const struct fc_sink_ops *ops = fc_sink_lookup(spec->type);
	struct fc_sink *s;
	size_t namelen;
	int rc;

	if (!ops) {
		snprintf(err, errlen, "unknown sink type '%s'", spec->type);
		return NULL;
	}
	s = calloc(1, sizeof(*s) + ops->priv_size);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ops = ops;
	namelen = strlen(spec->type) + strlen(spec->target) + 2;
	s->name = malloc(namelen);
	if (!s->name) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->name, namelen, "%s:%s", spec->type, spec->target);
	rc = ops->open(s, spec);
	if (rc) {
		snprintf(err, errlen, "%s: %s", s->name,
			 s->health.last_error[0] ? s->health.last_error : strerror(-rc));
		fc_sink__close(s);
		return NULL;
	}
	s->opened = 1;
	return s;
}

void fc_sink__close(struct fc_sink *s)
{
	if (!s)
		return;
	if (s->ops->close)
		s->ops->close(s);
	free(s->name);
	free(s);
}

int fc_sink__write(struct fc_sink *s, const struct fc_flow_rec *recs, size_t n)
{
	return s->ops->write(s, recs, n);
}

int fc_sink__flush(struct fc_sink *s)
{
	return s->ops->flush ? s->ops->flush(s) : 0;
}

int fc_sink__reopen(struct fc_sink *s)
{
	return s->ops->reopen ? s->ops->reopen(s) : 0;
}

const char *fc_sink__name(const struct fc_sink *s)
{
	return s->name;
}

const struct fc_sink_ops *fc_sink__ops(const struct fc_sink *s)
{
	return s->ops;
}

void fc_sink__set_batch_hint(struct fc_sink *s, size_t records)
{
	s->batch_hint = records;
}

size_t fc_sink__batch_hint(const struct fc_sink *s)
{
	return s->batch_hint;
}

void *fc_sink__priv(struct fc_sink *s)
{
	return s->priv;
}

struct fc_sink_health *fc_sink__health(struct fc_sink *s)
{
	return &s->health;
}

void fc_sink__set_err(struct fc_sink *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->health.last_error, sizeof(s->health.last_error), fmt, ap);
	va_end(ap);
}
