/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jsonw.h - a bounded JSON text writer over a caller's buffer. Appends never
 * overflow: once the buffer is full the writer remembers it (w->overflow) and
 * every later append is a no-op, so callers check once at the end.
 */
#ifndef FC_JSONW_H
#define FC_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fc_jsonw {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
	bool need_comma;	/* next member/element needs a leading comma */
};

void fc_jsonw__init(struct fc_jsonw *w, char *buf, size_t cap);
void fc_jsonw__raw(struct fc_jsonw *w, const char *s, size_t n);
void fc_jsonw__obj_open(struct fc_jsonw *w, const char *key);	/* key NULL: element/top level */
void fc_jsonw__obj_close(struct fc_jsonw *w);
void fc_jsonw__arr_open(struct fc_jsonw *w, const char *key);
void fc_jsonw__arr_close(struct fc_jsonw *w);
void fc_jsonw__u64(struct fc_jsonw *w, const char *key, uint64_t v);
void fc_jsonw__str(struct fc_jsonw *w, const char *key, const char *s);	/* escaped */
/* For strings that are JSON-safe by construction (addresses, enum names,
 * base64): copied without the escaping scan. */
void fc_jsonw__str_plain(struct fc_jsonw *w, const char *key, const char *s, size_t n);
void fc_jsonw__bool(struct fc_jsonw *w, const char *key, bool v);
void fc_jsonw__null(struct fc_jsonw *w, const char *key);
/* Epoch nanoseconds as seconds with 9 decimals: 1700000000.123456789 */
void fc_jsonw__ts(struct fc_jsonw *w, const char *key, uint64_t ns);
void fc_jsonw__double(struct fc_jsonw *w, const char *key, double v);

#endif
