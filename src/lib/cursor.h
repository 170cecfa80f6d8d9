/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cursor.h - the only way the decoder touches packet bytes.
 *
 * A cursor is a window [p, end) over untrusted bytes. Every read goes
 * through fc_pull()/fc_peek(), which check the length first and never form a
 * pointer past `end` (so no pointer overflow even for huge n). Scalars are
 * loaded with memcpy: packet memory is never cast to a struct and may be
 * unaligned. Descending into a header narrows the window (fc_narrow) so an
 * inner parser can never read the outer layer's padding or trailer.
 */
#ifndef FC_CURSOR_H
#define FC_CURSOR_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

struct fc_cursor {
	const uint8_t *p, *end;
};

/* Bytes left in the window. */
static inline size_t fc_left(const struct fc_cursor *c)
{
	return (size_t)(c->end - c->p);
}

/* Returns the next n bytes and advances, or NULL (cursor unchanged) if fewer remain. */
static inline const uint8_t *fc_pull(struct fc_cursor *c, size_t n)
{
	const uint8_t *p = c->p;

	if (unlikely(fc_left(c) < n)) /* never form p + n: no pointer overflow */
		return NULL;
	c->p = p + n;
	return p;
}

/* Returns the next n bytes without advancing, or NULL if fewer remain. */
static inline const uint8_t *fc_peek(const struct fc_cursor *c, size_t n)
{
	if (unlikely(fc_left(c) < n))
		return NULL;
	return c->p;
}

/* Shrink the window to at most n bytes from the current position. */
static inline void fc_narrow(struct fc_cursor *c, size_t n)
{
	if (fc_left(c) > n)
		c->end = c->p + n;
}

static inline uint16_t fc_load_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static inline uint32_t fc_load_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline uint16_t fc_load_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t fc_load_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

#endif
