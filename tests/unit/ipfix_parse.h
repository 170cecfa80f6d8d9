/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ipfix_parse.h - a strict little IPFIX (RFC 7011) reader for the tests of
 * the ipfix encoder and sink: checks the message header, the sequence
 * number, every Set length (no padding allowed, since the encoder never
 * pads), template and options template records, and decodes data records
 * into (pen, id) -> value pairs. Independent of ipfix_enc.c on purpose: it
 * shares no code or tables with it, so a round trip proves the bytes, not the
 * encoder agreeing with itself. Header-only for the unit test and the fuzz
 * target.
 */
#ifndef FC_TEST_IPFIX_PARSE_H
#define FC_TEST_IPFIX_PARSE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define P_MAX_FIELDS 32
#define P_MAX_TID 1024

struct p_field {
	uint16_t id;
	uint16_t len;
	uint32_t pen;
};

struct p_tmpl {
	int defined;
	unsigned n, scope;
	size_t reclen;
	struct p_field f[P_MAX_FIELDS];
};

struct p_val {
	uint16_t id;
	uint32_t pen;
	uint64_t v;		/* fields of up to 8 octets, big-endian */
	uint8_t b[16];		/* raw octets (addresses) */
};

struct p_rec {
	uint16_t tid;
	uint32_t msg;		/* index of the message it came in */
	unsigned n;
	struct p_val f[P_MAX_FIELDS];
};

struct p_state {
	struct p_tmpl t[P_MAX_TID];
	uint32_t next_seq;	/* expected sequence number of the next message */
	int have_seq;
	uint32_t domain;
	uint32_t msgs;
	uint32_t tmpl_recs, opt_tmpl_recs;
	struct p_rec *recs;
	size_t nrecs, cap;
	const char *why;	/* reason of the last failure */
};

static inline uint16_t p_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t p_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void p_free(struct p_state *ps)
{
	free(ps->recs);
	ps->recs = NULL;
	ps->nrecs = ps->cap = 0;
}

static inline int p_fail(struct p_state *ps, const char *why)
{
	ps->why = why;
	return -1;
}

/* Template (options = 0) or options template (options = 1) Set body. */
static inline int p_templates(struct p_state *ps, const uint8_t *p, size_t len, int options)
{
	size_t off = 0;

	while (off < len) {
		struct p_tmpl t = { 0 };
		uint16_t tid, n, scope = 0;
		unsigned i;

		if (len - off < 4)
			return p_fail(ps, "template record header cut");
		tid = p_be16(p + off);
		n = p_be16(p + off + 2);
		off += 4;
		if (options) {
			if (len - off < 2)
				return p_fail(ps, "scope count cut");
			scope = p_be16(p + off);
			off += 2;
			if (!scope || scope > n)
				return p_fail(ps, "bad scope count");
		}
		if (tid < 256 || tid >= P_MAX_TID || !n || n > P_MAX_FIELDS)
			return p_fail(ps, "bad template id or field count");
		for (i = 0; i < n; i++) {
			uint16_t id, flen;

			if (len - off < 4)
				return p_fail(ps, "field specifier cut");
			id = p_be16(p + off);
			flen = p_be16(p + off + 2);
			off += 4;
			if (flen == 0 || flen == 0xffff || flen > 16)
				return p_fail(ps, "bad field length");
			t.f[i].id = id & 0x7fff;
			t.f[i].len = flen;
			if (id & 0x8000) {
				if (len - off < 4)
					return p_fail(ps, "enterprise number cut");
				t.f[i].pen = p_be32(p + off);
				off += 4;
			}
			t.reclen += flen;
		}
		t.defined = 1;
		t.n = n;
		t.scope = scope;
		ps->t[tid] = t;
		if (options)
			ps->opt_tmpl_recs++;
		else
			ps->tmpl_recs++;
	}
	return 0;
}

static inline int p_data(struct p_state *ps, uint16_t tid, const uint8_t *p, size_t len,
			 uint32_t *nrecs)
{
	const struct p_tmpl *t;
	size_t off = 0;

	if (tid >= P_MAX_TID || !ps->t[tid].defined)
		return p_fail(ps, "data set before its template");
	t = &ps->t[tid];
	if (len % t->reclen)
		return p_fail(ps, "data set length is not a whole number of records (padding?)");
	for (off = 0; off < len; off += t->reclen) {
		struct p_rec *r;
		size_t foff = off;
		unsigned i, k;

		if (ps->nrecs == ps->cap) {
			size_t nc = ps->cap ? ps->cap * 2 : 64;
			struct p_rec *nr = realloc(ps->recs, nc * sizeof(*nr));

			if (!nr)
				return p_fail(ps, "out of memory");
			ps->recs = nr;
			ps->cap = nc;
		}
		r = &ps->recs[ps->nrecs++];
		memset(r, 0, sizeof(*r));
		r->tid = tid;
		r->msg = ps->msgs;
		r->n = t->n;
		for (i = 0; i < t->n; i++) {
			r->f[i].id = t->f[i].id;
			r->f[i].pen = t->f[i].pen;
			memcpy(r->f[i].b, p + foff, t->f[i].len);
			if (t->f[i].len <= 8)
				for (k = 0; k < t->f[i].len; k++)
					r->f[i].v = r->f[i].v << 8 | p[foff + k];
			foff += t->f[i].len;
		}
		(*nrecs)++;
	}
	return 0;
}

/* Parse one message. Returns 0, or -1 with ps->why. */
static inline int p_message(struct p_state *ps, const uint8_t *b, size_t len)
{
	uint32_t seq, nrecs = 0;
	size_t off = 16;

	if (len < 16)
		return p_fail(ps, "message shorter than its header");
	if (p_be16(b) != 10)
		return p_fail(ps, "version is not 10");
	if (p_be16(b + 2) != len)
		return p_fail(ps, "header length differs from message length");
	seq = p_be32(b + 8);
	if (ps->have_seq && seq != ps->next_seq)
		return p_fail(ps, "sequence number is not the count of earlier data records");
	ps->domain = p_be32(b + 12);
	while (off < len) {
		uint16_t id, slen;

		if (len - off < 4)
			return p_fail(ps, "set header cut");
		id = p_be16(b + off);
		slen = p_be16(b + off + 2);
		if (slen < 4 || slen > len - off)
			return p_fail(ps, "bad set length");
		if (slen == 4)
			return p_fail(ps, "empty set");
		if (id == 2 || id == 3) {
			if (p_templates(ps, b + off + 4, slen - 4u, id == 3))
				return -1;
		} else if (id >= 256) {
			if (p_data(ps, id, b + off + 4, slen - 4u, &nrecs))
				return -1;
		} else {
			return p_fail(ps, "reserved set id");
		}
		off += slen;
	}
	ps->next_seq = seq + nrecs;
	ps->have_seq = 1;
	ps->msgs++;
	return 0;
}

/* The value of (pen, id) in r, or NULL. */
static inline const struct p_val *p_get(const struct p_rec *r, uint32_t pen, uint16_t id)
{
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (r->f[i].id == id && r->f[i].pen == pen)
			return &r->f[i];
	return NULL;
}

#endif
