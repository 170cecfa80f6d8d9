// SPDX-License-Identifier: BSD-2-Clause
/*
 * pcapng.c - pcapng reader: Section Header, Interface Description, Enhanced
 * Packet, Simple Packet and (obsolete) Packet Blocks; every other block type
 * is skipped by its length. Each section may have its own byte order; each
 * interface its own link type, snap length, timestamp resolution and offset.
 *
 * Every length is checked against the block before it is used. A file that
 * ends inside a block is "truncated" (the packets before it stand); a block
 * whose lengths disagree is an error.
 *
 *   Generic block:  0 Block Type | 4 Block Total Length | body | Block Total Length
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcapng.h"

#define BT_SHB 0x0A0D0D0AU
#define BT_IDB 0x00000001U
#define BT_PB 0x00000002U
#define BT_SPB 0x00000003U
#define BT_EPB 0x00000006U
#define BOM 0x1A2B3C4DU

#define MAX_BLOCK (64U << 20)	/* no sane block is larger; bigger is corruption */
#define MAX_IFACES 65536U

struct iface {
	int linktype;
	uint32_t snaplen;
	uint8_t tsresol;	/* if_tsresol option byte; default 6 (microseconds) */
	int64_t tsoffset_s;
};

struct fc_pcapng {
	FILE *f;
	uint8_t *buf;
	size_t bufcap;
	int swap;		/* current section is opposite-endian */
	struct iface *ifs;
	uint32_t nifs, ifcap;
	int first_linktype;
	uint64_t offset;	/* file offset of the next block */
};

static uint32_t rd32(const struct fc_pcapng *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct fc_pcapng *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

static int reserve(struct fc_pcapng *r, size_t n)
{
	uint8_t *nb;

	if (n <= r->bufcap)
		return 0;
	nb = realloc(r->buf, n);
	if (!nb)
		return -ENOMEM;
	r->buf = nb;
	r->bufcap = n;
	return 0;
}

/* Read exactly n bytes: 1 ok, 0 clean EOF before any byte, -1 short read. */
static int read_exact(struct fc_pcapng *r, void *p, size_t n)
{
	size_t got = fread(p, 1, n, r->f);

	if (got == n)
		return 1;
	return got == 0 && feof(r->f) ? 0 : -1;
}

/* Parse a Section Header Block body (after type and length); resets interfaces. */
static int parse_shb(struct fc_pcapng *r, const uint8_t *bom_le, char *err, size_t errlen)
{
	uint32_t bom;

	memcpy(&bom, bom_le, 4);
	if (bom == BOM)
		r->swap = 0;
	else if (__builtin_bswap32(bom) == BOM)
		r->swap = 1;
	else {
		snprintf(err, errlen, "bad byte-order magic in pcapng section header");
		return -1;
	}
	r->nifs = 0;
	return 0;
}

static void parse_idb_options(struct fc_pcapng *r, struct iface *ifc, const uint8_t *p,
			      const uint8_t *end)
{
	while ((size_t)(end - p) >= 4) {
		uint16_t code = rd16(r, p), len = rd16(r, p + 2);
		size_t padded = ((size_t)len + 3) & ~(size_t)3;

		p += 4;
		if (code == 0 || (size_t)(end - p) < len)
			return;
		if (code == 9 && len >= 1)
			ifc->tsresol = p[0];
		if (code == 14 && len >= 8) {
			uint64_t v;

			memcpy(&v, p, 8);
			if (r->swap)
				v = __builtin_bswap64(v);
			ifc->tsoffset_s = (int64_t)v;
		}
		if ((size_t)(end - p) < padded)
			return;
		p += padded;
	}
}

static int parse_idb(struct fc_pcapng *r, const uint8_t *body, uint32_t blen, char *err,
		     size_t errlen)
{
	struct iface *ifc;

	if (blen < 8) {
		snprintf(err, errlen, "interface description block too short (%u bytes)", blen);
		return -1;
	}
	if (r->nifs == r->ifcap) {
		uint32_t ncap = r->ifcap ? r->ifcap * 2 : 8;
		struct iface *n;

		if (r->nifs >= MAX_IFACES) {
			snprintf(err, errlen, "more than %u interfaces in one pcapng section",
				 MAX_IFACES);
			return -1;
		}
		n = realloc(r->ifs, ncap * sizeof(*n));
		if (!n) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		r->ifs = n;
		r->ifcap = ncap;
	}
	ifc = &r->ifs[r->nifs++];
	ifc->linktype = rd16(r, body);
	ifc->snaplen = rd32(r, body + 4);
	ifc->tsresol = 6;
	ifc->tsoffset_s = 0;
	parse_idb_options(r, ifc, body + 8, body + blen);
	if (r->first_linktype < 0)
		r->first_linktype = ifc->linktype;
	return 0;
}

static uint64_t ts_to_ns(const struct iface *ifc, uint64_t ts)
{
	uint8_t v = ifc->tsresol & 0x7f;
	uint64_t ns;

	if (ifc->tsresol & 0x80) {	/* 2^-v seconds */
		unsigned __int128 t = (unsigned __int128)ts * 1000000000U;

		ns = v < 64 ? (uint64_t)(t >> v) : 0;
	} else if (v <= 9) {
		uint64_t mul = 1;

		while (v++ < 9)
			mul *= 10;
		ns = ts * mul;
	} else {
		uint64_t div = 1;

		while (v-- > 9 && div < UINT64_MAX / 10)
			div *= 10;
		ns = ts / div;
	}
	return ns + (uint64_t)(ifc->tsoffset_s * 1000000000LL);
}

static int take_packet(struct fc_pcapng *r, uint32_t ifid, uint64_t ts, uint32_t caplen,
		       uint32_t wirelen, const uint8_t *data, uint32_t room, struct fc_frame *f,
		       char *err, size_t errlen)
{
	if (ifid >= r->nifs) {
		snprintf(err, errlen, "packet refers to interface %u, which has no description block",
			 ifid);
		return -1;
	}
	if (caplen > room) {
		snprintf(err, errlen, "captured length %u larger than its block", caplen);
		return -1;
	}
	f->data = data;
	f->caplen = caplen;
	f->wirelen = wirelen < caplen ? caplen : wirelen;
	f->linktype = r->ifs[ifid].linktype;
	f->ts_ns = ts_to_ns(&r->ifs[ifid], ts);
	return 0;
}

/* Interpret one complete block; 1 when it produced a frame. */
static int handle_block(struct fc_pcapng *r, uint32_t type, const uint8_t *body, uint32_t blen,
			struct fc_frame *f, char *err, size_t errlen)
{
	switch (type) {
	case BT_IDB:
		return parse_idb(r, body, blen, err, errlen);
	case BT_EPB:
		if (blen < 20)
			break;
		if (take_packet(r, rd32(r, body),
				((uint64_t)rd32(r, body + 4) << 32) | rd32(r, body + 8),
				rd32(r, body + 12), rd32(r, body + 16), body + 20, blen - 20, f, err,
				errlen))
			return -1;
		return 1;
	case BT_PB:
		if (blen < 20)
			break;
		if (take_packet(r, rd16(r, body),
				((uint64_t)rd32(r, body + 4) << 32) | rd32(r, body + 8),
				rd32(r, body + 12), rd32(r, body + 16), body + 20, blen - 20, f, err,
				errlen))
			return -1;
		return 1;
	case BT_SPB: {
		uint32_t wire, cap;

		if (blen < 4)
			break;
		if (r->nifs == 0) {
			snprintf(err, errlen, "simple packet block before any interface description");
			return -1;
		}
		wire = rd32(r, body);
		cap = wire;
		if (r->ifs[0].snaplen && cap > r->ifs[0].snaplen)
			cap = r->ifs[0].snaplen;
		if (cap > blen - 4)
			cap = blen - 4;
		if (take_packet(r, 0, 0, cap, wire, body + 4, blen - 4, f, err, errlen))
			return -1;
		return 1;
	}
	default:
		return 0;	/* NRB, ISB, custom, ...: nothing for us */
	}
	snprintf(err, errlen, "block type %#x too short (%u bytes)", type, blen);
	return -1;
}

enum fc_src_status fc_pcapng__next(struct fc_pcapng *r, struct fc_frame *f, char *err,
				   size_t errlen)
{
	for (;;) {
		uint8_t hdr[8];
		uint32_t type, total, trailer;
		int rc = read_exact(r, hdr, 8);

		if (rc == 0)
			return FC_SRC_EOF;
		if (rc < 0) {
			snprintf(err, errlen, "file ends inside a block header at offset %llu",
				 (unsigned long long)r->offset);
			return FC_SRC_TRUNCATED;
		}
		memcpy(&type, hdr, 4);
		if (type == BT_SHB) {
			/* The byte order comes with the section: peek the BOM first. */
			uint8_t bom[4];

			if (read_exact(r, bom, 4) != 1) {
				snprintf(err, errlen, "file ends inside a section header");
				return FC_SRC_TRUNCATED;
			}
			if (parse_shb(r, bom, err, errlen))
				return FC_SRC_ERROR;
			total = rd32(r, hdr + 4);
			if (total < 28 || total % 4 || total > MAX_BLOCK) {
				snprintf(err, errlen, "bad section header length %u at offset %llu",
					 total, (unsigned long long)r->offset);
				return FC_SRC_ERROR;
			}
			if (reserve(r, total)) {
				snprintf(err, errlen, "out of memory");
				return FC_SRC_ERROR;
			}
			memcpy(r->buf, hdr, 8);
			memcpy(r->buf + 8, bom, 4);
			rc = read_exact(r, r->buf + 12, total - 12);
		} else {
			type = rd32(r, hdr);
			total = rd32(r, hdr + 4);
			if (total < 12 || total % 4 || total > MAX_BLOCK) {
				snprintf(err, errlen, "bad block length %u at offset %llu", total,
					 (unsigned long long)r->offset);
				return FC_SRC_ERROR;
			}
			if (reserve(r, total)) {
				snprintf(err, errlen, "out of memory");
				return FC_SRC_ERROR;
			}
			memcpy(r->buf, hdr, 8);
			rc = read_exact(r, r->buf + 8, total - 8);
		}
		if (rc != 1) {
			snprintf(err, errlen, "file ends inside a %u-byte block at offset %llu", total,
				 (unsigned long long)r->offset);
			return FC_SRC_TRUNCATED;
		}
		trailer = rd32(r, r->buf + total - 4);
		if (trailer != total) {
			snprintf(err, errlen,
				 "block at offset %llu: trailing length %u differs from leading %u",
				 (unsigned long long)r->offset, trailer, total);
			return FC_SRC_ERROR;
		}
		r->offset += total;
		if (type == BT_SHB)
			continue;
		rc = handle_block(r, type, r->buf + 8, total - 12, f, err, errlen);
		if (rc < 0)
			return FC_SRC_ERROR;
		if (rc == 1)
			return FC_SRC_FRAME;
	}
}

struct fc_pcapng *fc_pcapng__open(FILE *f, char *err, size_t errlen)
{
	struct fc_pcapng *r = calloc(1, sizeof(*r));
	uint8_t head[12];

	if (!r) {
		snprintf(err, errlen, "out of memory");
		fclose(f);
		return NULL;
	}
	r->f = f;
	r->first_linktype = -1;
	/* Validate the first SHB up front so "not a capture" fails at open. */
	if (fread(head, 1, 12, f) != 12 || rd32(r, head) != BT_SHB) {
		snprintf(err, errlen, "not a pcapng file (no section header block)");
		fc_pcapng__close(r);
		return NULL;
	}
	if (parse_shb(r, head + 8, err, errlen)) {
		fc_pcapng__close(r);
		return NULL;
	}
	{
		uint32_t total = rd32(r, head + 4);

		if (total < 28 || total % 4 || total > MAX_BLOCK) {
			snprintf(err, errlen, "bad section header length %u", total);
			fc_pcapng__close(r);
			return NULL;
		}
		if (reserve(r, total) || fread(r->buf, 1, total - 12, f) != total - 12) {
			snprintf(err, errlen, "not a pcapng file (section header cut short)");
			fc_pcapng__close(r);
			return NULL;
		}
	}
	rewind(f);
	return r;
}

void fc_pcapng__close(struct fc_pcapng *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r->buf);
	free(r->ifs);
	free(r);
}

int fc_pcapng__first_linktype(const struct fc_pcapng *r)
{
	return r->first_linktype;
}

FILE *fc_pcapng__file(struct fc_pcapng *r)
{
	return r->f;
}
