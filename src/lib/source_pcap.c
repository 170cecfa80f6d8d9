// SPDX-License-Identifier: BSD-2-Clause
/*
 * source_pcap.c - frames from a capture file. Classic pcap (micro- and
 * nanosecond, both byte orders, Kuznetzov's variant) is read by libpcap;
 * pcapng by our own reader (pcapng.c, see why there). Filters are tcpdump
 * expressions compiled by libpcap's pcap_compile, one program per link type
 * met in the file, and run by pcap_offline_filter so every rejected frame is
 * seen and counted rather than silently skipped.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flowcut/pkt.h"
#include "flowcut/source.h"
#include "pcapng.h"

#define MAX_PROGS 8
#define FILTER_SNAPLEN 262144

struct filter_prog {
	int linktype;
	int ok;			/* 0: this link type could not compile the filter */
	struct bpf_program prog;
};

#define SRC_IOBUF_SIZE (64u << 10)

struct fc_pcap_src {
	pcap_t *pcap;			/* classic pcap via libpcap, or */
	struct fc_pcapng *ng;		/* pcapng via our reader */
	int linktype;			/* libpcap: the file's DLT */
	char *filter;
	struct filter_prog progs[MAX_PROGS];
	unsigned nprogs;
	uint64_t size;
	char *iobuf;			/* the FILE's buffer; freed after the FILE is closed */
	char err[PCAP_ERRBUF_SIZE + 256];
};

/* pcap_compile wants a DLT; the few LINKTYPE values that differ are mapped. */
static int linktype_to_dlt(int lt)
{
	if (lt == FC_LINKTYPE_RAW)
		return DLT_RAW;
	return lt;
}

static int compile_for(struct fc_pcap_src *src, int linktype, struct bpf_program *prog,
		       char *err, size_t errlen)
{
	pcap_t *dead = pcap_open_dead(linktype_to_dlt(linktype), FILTER_SNAPLEN);
	int rc;

	if (!dead) {
		snprintf(err, errlen, "cannot set up filter compiler");
		return -1;
	}
	rc = pcap_compile(dead, prog, src->filter, 1, PCAP_NETMASK_UNKNOWN);
	if (rc)
		snprintf(err, errlen, "bad filter expression '%s': %s", src->filter,
			 pcap_geterr(dead));
	pcap_close(dead);
	return rc ? -1 : 0;
}

static struct filter_prog *prog_for(struct fc_pcap_src *src, int linktype)
{
	struct filter_prog *fp;
	char ignored[256];
	unsigned i;

	for (i = 0; i < src->nprogs; i++)
		if (src->progs[i].linktype == linktype)
			return &src->progs[i];
	if (src->nprogs == MAX_PROGS)
		return NULL;
	fp = &src->progs[src->nprogs++];
	fp->linktype = linktype;
	fp->ok = compile_for(src, linktype, &fp->prog, ignored, sizeof(ignored)) == 0;
	return fp;
}

int fc_pcap_src__match(struct fc_pcap_src *src, const struct fc_frame *f)
{
	struct filter_prog *fp;
	struct pcap_pkthdr h;

	if (!src->filter)
		return 1;
	fp = prog_for(src, f->linktype);
	if (!fp || !fp->ok)
		return 0;	/* the expression means nothing on this link type */
	memset(&h, 0, sizeof(h));
	h.caplen = f->caplen;
	h.len = f->wirelen;
	return pcap_offline_filter(&fp->prog, &h, f->data) != 0;
}

static int open_classic(struct fc_pcap_src *src, FILE *fp, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];

	src->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!src->pcap) {
		snprintf(err, errlen, "%s", perr);
		fclose(fp);
		return -1;
	}
	src->linktype = pcap_datalink(src->pcap);
	return 0;
}

struct fc_pcap_src *fc_pcap_src__open(const char *path, const char *filter, char *err,
				      size_t errlen)
{
	struct fc_pcap_src *src = calloc(1, sizeof(*src));
	uint8_t magic[4];
	struct stat st;
	FILE *fp;
	size_t got;

	if (!src) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(src);
		return NULL;
	}
	/* libpcap reads records through this FILE. A 64 KiB buffer instead of
	 * the 4 KiB default cuts the read(2) calls 16-fold and still fits in
	 * L2, so records are parsed while the copy is warm; 1 MiB made the
	 * read 1.7x slower (BENCHMARKS.md, "Offline read"). glibc ignores the
	 * size unless it is given the buffer, so the buffer is ours. */
	src->iobuf = malloc(SRC_IOBUF_SIZE);
	if (src->iobuf)
		setvbuf(fp, src->iobuf, _IOFBF, SRC_IOBUF_SIZE);
	if (fstat(fileno(fp), &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "is a directory");
			fclose(fp);
			goto err_free;
		}
		src->size = (uint64_t)st.st_size;
	}
	got = fread(magic, 1, 4, fp);
	rewind(fp);
	if (got < 4) {
		snprintf(err, errlen, got ? "not a capture file (only %zu bytes)" :
				     "not a capture file (empty)", got);
		fclose(fp);
		goto err_free;
	}
	if (!memcmp(magic, "\x0a\x0d\x0d\x0a", 4)) {
		src->ng = fc_pcapng__open(fp, err, errlen);
		if (!src->ng)
			goto err_free;
	} else if (open_classic(src, fp, err, errlen)) {
		goto err_free;
	}
	if (filter && *filter) {
		struct bpf_program check;
		int lt = src->ng ? FC_LINKTYPE_ETHERNET : src->linktype;

		src->filter = strdup(filter);
		if (!src->filter) {
			snprintf(err, errlen, "out of memory");
			goto err_close;
		}
		/* Reject a bad expression now, against the file's (first) link type. */
		if (compile_for(src, lt, &check, err, errlen))
			goto err_close;
		pcap_freecode(&check);
	}
	return src;

err_close:
	fc_pcap_src__close(src);
	return NULL;
err_free:
	free(src->iobuf);	/* the FILE was closed by whoever failed */
	free(src);
	return NULL;
}

void fc_pcap_src__close(struct fc_pcap_src *src)
{
	unsigned i;

	if (!src)
		return;
	for (i = 0; i < src->nprogs; i++)
		if (src->progs[i].ok)
			pcap_freecode(&src->progs[i].prog);
	if (src->pcap)
		pcap_close(src->pcap);
	fc_pcapng__close(src->ng);
	free(src->iobuf);
	free(src->filter);
	free(src);
}

static enum fc_src_status next_classic(struct fc_pcap_src *src, struct fc_frame *f)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(src->pcap, &h, &data);

	if (rc == 1) {
		f->data = data;
		f->caplen = h->caplen;
		f->wirelen = h->len < h->caplen ? h->caplen : h->len;
		/* tv_usec holds nanoseconds (we asked for nano precision); a
		 * fraction >= 1e9 in a broken file is kept as written. */
		f->ts_ns = (uint64_t)(uint32_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
		f->linktype = src->linktype;
		return FC_SRC_FRAME;
	}
	if (rc == PCAP_ERROR_BREAK)
		return FC_SRC_EOF;
	snprintf(src->err, sizeof(src->err), "%s", pcap_geterr(src->pcap));
	/* libpcap reports a file cut inside a record as "truncated dump file". */
	if (strstr(src->err, "truncated"))
		return FC_SRC_TRUNCATED;
	return FC_SRC_ERROR;
}

enum fc_src_status fc_pcap_src__next(struct fc_pcap_src *src, struct fc_frame *f)
{
	if (src->ng)
		return fc_pcapng__next(src->ng, f, src->err, sizeof(src->err));
	return next_classic(src, f);
}

const char *fc_pcap_src__error(const struct fc_pcap_src *src)
{
	return src->err;
}

void fc_pcap_src__progress(struct fc_pcap_src *src, uint64_t *pos, uint64_t *size)
{
	FILE *fp = src->ng ? fc_pcapng__file(src->ng) : pcap_file(src->pcap);
	long off = fp ? ftell(fp) : -1;

	*pos = off < 0 ? 0 : (uint64_t)off;
	*size = src->size;
}
