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

/*
 * Room for n more bytes and the NUL: a pointer to write them at, then
 * commit() the end. NULL (and the writer marked overflowed) if they do not fit.
 */
static char *reserve(struct fc_jsonw *w, size_t n)
{
	if (w->overflow)
		return NULL;
	if (w->cap - w->len <= n) {
		w->overflow = true;
		return NULL;
	}
	return w->buf + w->len;
}

static void commit(struct fc_jsonw *w, char *end)
{
	w->len = (size_t)(end - w->buf);
	*end = '\0';
}

/* Member names are the program's own literals: JSON-safe, so not scanned. */
static void put_key(struct fc_jsonw *w, const char *key)
{
	size_t klen = key ? strlen(key) : 0;
	char *p = reserve(w, klen + 4);	/* , " key " : */
	bool comma = w->need_comma;

	w->need_comma = true;
	if (!p)
		return;
	if (comma)
		*p++ = ',';
	if (key) {
		*p++ = '"';
		memcpy(p, key, klen);
		p += klen;
		*p++ = '"';
		*p++ = ':';
	}
	commit(w, p);
}

/* Decimal digits of v, two at a time, ending at end; returns the first. */
static char *u64_digits(char *end, uint64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	char *p = end;

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

static void put_u64(struct fc_jsonw *w, uint64_t v)
{
	char tmp[20], *first = u64_digits(tmp + sizeof(tmp), v);

	fc_jsonw__raw(w, first, (size_t)(tmp + sizeof(tmp) - first));
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
	char tmp[30], *end = tmp + sizeof(tmp), *first;

	/* 1e9 + the nanoseconds is ten digits, "1" then the nine of the
	 * fraction: the "1" becomes the point. */
	first = u64_digits(end, ns % 1000000000ULL + 1000000000ULL);
	*first = '.';
	first = u64_digits(first, ns / 1000000000ULL);
	put_key(w, key);
	fc_jsonw__raw(w, first, (size_t)(end - first));
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
