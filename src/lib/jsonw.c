// SPDX-License-Identifier: BSD-2-Clause
/*
 * jsonw.c - bounded JSON writer (see jsonw.h). Numbers are formatted by hand
 * on the record path: snprintf per field would dominate the cost of writing a
 * flow record.
 */
#include <stdio.h>
#include <string.h>

#include "jsonw.h"

void fc_jsonw__init(struct fc_jsonw *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = cap == 0;
	w->need_comma = false;
	if (cap)
		buf[0] = '\0';
}

void fc_jsonw__raw(struct fc_jsonw *w, const char *s, size_t n)
{
	if (w->overflow)
		return;
	if (w->cap - w->len <= n) {	/* keep room for the NUL */
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void put_c(struct fc_jsonw *w, char c)
{
	fc_jsonw__raw(w, &c, 1);
}

static void put_escaped(struct fc_jsonw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	put_c(w, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		fc_jsonw__raw(w, run, (size_t)(s - run));
		run = s + 1;
		esc[0] = '\\';
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			fc_jsonw__raw(w, esc, 2);
		} else if (c == '\n') {
			fc_jsonw__raw(w, "\\n", 2);
		} else if (c == '\t') {
			fc_jsonw__raw(w, "\\t", 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			fc_jsonw__raw(w, esc, 6);
		}
	}
	fc_jsonw__raw(w, run, (size_t)(s - run));
	put_c(w, '"');
}

/* Member names are the program's own literals: JSON-safe, so not scanned. */
static void put_key(struct fc_jsonw *w, const char *key)
{
	if (w->need_comma)
		put_c(w, ',');
	if (key) {
		put_c(w, '"');
		fc_jsonw__raw(w, key, strlen(key));
		fc_jsonw__raw(w, "\":", 2);
	}
	w->need_comma = true;
}

static void put_u64(struct fc_jsonw *w, uint64_t v)
{
	char tmp[20];
	int i = 20;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fc_jsonw__raw(w, tmp + i, (size_t)(20 - i));
}

void fc_jsonw__obj_open(struct fc_jsonw *w, const char *key)
{
	put_key(w, key);
	put_c(w, '{');
	w->need_comma = false;
}

void fc_jsonw__obj_close(struct fc_jsonw *w)
{
	put_c(w, '}');
	w->need_comma = true;
}

void fc_jsonw__arr_open(struct fc_jsonw *w, const char *key)
{
	put_key(w, key);
	put_c(w, '[');
	w->need_comma = false;
}

void fc_jsonw__arr_close(struct fc_jsonw *w)
{
	put_c(w, ']');
	w->need_comma = true;
}

void fc_jsonw__u64(struct fc_jsonw *w, const char *key, uint64_t v)
{
	put_key(w, key);
	put_u64(w, v);
}

void fc_jsonw__str(struct fc_jsonw *w, const char *key, const char *s)
{
	put_key(w, key);
	put_escaped(w, s);
}

void fc_jsonw__str_plain(struct fc_jsonw *w, const char *key, const char *s, size_t n)
{
	put_key(w, key);
	put_c(w, '"');
	fc_jsonw__raw(w, s, n);
	put_c(w, '"');
}

void fc_jsonw__bool(struct fc_jsonw *w, const char *key, bool v)
{
	put_key(w, key);
	if (v)
		fc_jsonw__raw(w, "true", 4);
	else
		fc_jsonw__raw(w, "false", 5);
}

void fc_jsonw__null(struct fc_jsonw *w, const char *key)
{
	put_key(w, key);
	fc_jsonw__raw(w, "null", 4);
}

void fc_jsonw__ts(struct fc_jsonw *w, const char *key, uint64_t ns)
{
	char frac[10];
	uint64_t f = ns % 1000000000ULL;
	int i;

	put_key(w, key);
	put_u64(w, ns / 1000000000ULL);
	frac[0] = '.';
	for (i = 9; i >= 1; i--) {
		frac[i] = (char)('0' + f % 10);
		f /= 10;
	}
	fc_jsonw__raw(w, frac, 10);
}

void fc_jsonw__double(struct fc_jsonw *w, const char *key, double v)
{
	char tmp[64];
	int n = snprintf(tmp, sizeof(tmp), "%.6g", v);

	put_key(w, key);
	if (n > 0 && (size_t)n < sizeof(tmp))
		fc_jsonw__raw(w, tmp, (size_t)n);
	else
		fc_jsonw__raw(w, "0", 1);
}
