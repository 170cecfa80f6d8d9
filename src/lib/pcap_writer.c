// SPDX-License-Identifier: BSD-2-Clause
/*
 * pcap_writer.c - classic pcap output (see pcap_writer.h). The format is
 * small enough to write by hand: a 24-byte file header, then a 16-byte
 * record header before each frame. Writing it ourselves keeps the capture
 * path free of libpcap's allocations and gives nanosecond timestamps
 * without a libpcap version check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowcut/pcap_writer.h"

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define WRITE_BUF (1u << 20)

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_rec_hdr {
	uint32_t ts_sec;
	uint32_t ts_frac;	/* micro- or nanoseconds */
	uint32_t caplen;
	uint32_t wirelen;
};

_Static_assert(sizeof(struct pcap_file_hdr) == 24, "pcap file header is 24 bytes");
_Static_assert(sizeof(struct pcap_rec_hdr) == 16, "pcap record header is 16 bytes");

struct fc_pcap_writer {
	FILE *f;
	uint32_t snaplen;
	bool usec;
	int err;		/* first negative errno, sticky */
};

struct fc_pcap_writer *fc_pcap_writer__open(const char *path, int linktype, uint32_t snaplen,
					    bool usec)
{
	struct pcap_file_hdr fh = {
		.magic = usec ? PCAP_MAGIC_USEC : PCAP_MAGIC_NSEC,
		.version_major = PCAP_VERSION_MAJOR,
		.version_minor = PCAP_VERSION_MINOR,
		.snaplen = snaplen,
		.linktype = (uint32_t)linktype,
	};
	struct fc_pcap_writer *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return NULL;
	w->snaplen = snaplen;
	w->usec = usec;
	w->f = fopen(path, "w");
	if (!w->f)
		goto err_free;
	setvbuf(w->f, NULL, _IOFBF, WRITE_BUF);
	if (fwrite(&fh, sizeof(fh), 1, w->f) != 1)
		goto err_close;
	return w;

err_close:
	err = errno ? errno : EIO;
	fclose(w->f);
	errno = err;
err_free:
	err = errno;
	free(w);
	errno = err;
	return NULL;
}

int fc_pcap_writer__write(struct fc_pcap_writer *w, uint64_t ts_ns, const uint8_t *data,
			  uint32_t caplen, uint32_t wirelen)
{
	struct pcap_rec_hdr rh;

	if (w->err)
		return w->err;
	if (caplen > w->snaplen)
		caplen = w->snaplen;
	if (wirelen < caplen)
		wirelen = caplen;
	rh.ts_sec = (uint32_t)(ts_ns / 1000000000ull);
	rh.ts_frac = (uint32_t)(ts_ns % 1000000000ull);
	if (w->usec)
		rh.ts_frac /= 1000;
	rh.caplen = caplen;
	rh.wirelen = wirelen;
	if (fwrite(&rh, sizeof(rh), 1, w->f) != 1 ||
	    (caplen && fwrite(data, caplen, 1, w->f) != 1))
		w->err = errno ? -errno : -EIO;
	return w->err;
}

int fc_pcap_writer__flush(struct fc_pcap_writer *w)
{
	if (!w->err && fflush(w->f))
		w->err = errno ? -errno : -EIO;
	return w->err;
}

int fc_pcap_writer__close(struct fc_pcap_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = fc_pcap_writer__flush(w);
	if (fclose(w->f) && !err)
		err = errno ? -errno : -EIO;
	free(w);
	return err;
}
