// SPDX-License-Identifier: BSD-2-Clause
/*
 * spool.c - a sink's disk spool (spool.h). A directory of append-only
 * segment files named by a sequence number ("%020llu.seg"), oldest first,
 * each a 32-byte header (magic, version, record size) followed by whole
 * fixed-size records (struct fc_flow_rec as it is in memory: the spool is
 * read back by the same build; the header's record size and version keep a
 * different build from misreading it). A small "cursor" file remembers how
 * many records of the oldest segment were delivered, so a restart replays
 * from there (a crash between delivery and cursor update replays at most one
 * batch twice: delivery is at least once).
 *
 * Sequence numbers start at 2^32 so that records put back at close
 * (fc_spool__prepend) can take a lower number than the oldest segment.
 * A write that fails half-way is cut back to the last whole record.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

#define SPOOL_MAGIC "FCSPOOL\0"
#define SPOOL_VERSION 1u
#define SPOOL_HDR 32u
#define SPOOL_FIRST_SEQ (1ull << 32)
#define SEG_MIN (64ull * 1024)
#define SEG_MAX (64ull * 1024 * 1024)
#define REC_SIZE ((uint64_t)sizeof(struct fc_flow_rec))

struct seg {
	uint64_t seq;
	uint64_t nrecs;		/* whole records in the file */
	uint64_t off;		/* records already delivered (only the oldest has any) */
};

struct fc_spool {
	char *dir;
	uint64_t max_bytes;
	uint64_t seg_bytes;	/* start a new segment past this many bytes */
	uint64_t bytes;		/* on disk */
	uint64_t pending;	/* records not yet consumed */
	struct seg *segs;	/* oldest first */
	size_t nsegs, capsegs;
	int tail_fd;		/* open for appending to segs[nsegs-1], or -1 */
	int head_fd;		/* open for reading segs[0], or -1 */
	uint64_t head_seq;
	int cursor_fd;
};

static void seg_path(const struct fc_spool *sp, uint64_t seq, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%020llu.seg", sp->dir, (unsigned long long)seq);
}

static void zclose(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int mkdir_p(const char *dir)
{
	char buf[4096];
	size_t len = strlen(dir), i;

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			return -errno;
		if (i < len)
			buf[i] = '/';
	}
	return 0;
}

static int segs_insert(struct fc_spool *sp, size_t at, const struct seg *s)
{
	if (sp->nsegs == sp->capsegs) {
		size_t ncap = sp->capsegs ? sp->capsegs * 2 : 16;
		struct seg *n = realloc(sp->segs, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		sp->segs = n;
		sp->capsegs = ncap;
	}
	memmove(&sp->segs[at + 1], &sp->segs[at], (sp->nsegs - at) * sizeof(*s));
	sp->segs[at] = *s;
	sp->nsegs++;
	return 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void write_header(unsigned char *hdr)
{
	uint32_t v = SPOOL_VERSION, rs = (uint32_t)REC_SIZE;

	memset(hdr, 0, SPOOL_HDR);
	memcpy(hdr, SPOOL_MAGIC, 8);
	memcpy(hdr + 8, &v, 4);
	memcpy(hdr + 12, &rs, 4);
}

static int header_ok(const unsigned char *hdr)
{
	uint32_t v, rs;

	memcpy(&v, hdr + 8, 4);
	memcpy(&rs, hdr + 12, 4);
	return !memcmp(hdr, SPOOL_MAGIC, 8) && v == SPOOL_VERSION && rs == REC_SIZE;
}

static void save_cursor(struct fc_spool *sp)
{
	uint64_t cur[2];

	if (!sp->nsegs)
		return;
	if (sp->cursor_fd < 0) {
		char path[4200];

		snprintf(path, sizeof(path), "%s/cursor", sp->dir);
		sp->cursor_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (sp->cursor_fd < 0)
			return;	/* at worst a restart replays the oldest segment again */
	}
	cur[0] = sp->segs[0].seq;
	cur[1] = sp->segs[0].off;
	if (pwrite(sp->cursor_fd, cur, sizeof(cur), 0) != (ssize_t)sizeof(cur))
		return;
}

static void load_cursor(struct fc_spool *sp)
{
	char path[4200];
	uint64_t cur[2];
	int fd;

	snprintf(path, sizeof(path), "%s/cursor", sp->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (read(fd, cur, sizeof(cur)) == (ssize_t)sizeof(cur) && sp->nsegs &&
	    cur[0] == sp->segs[0].seq && cur[1] <= sp->segs[0].nrecs) {
		sp->segs[0].off = cur[1];
		sp->pending -= cur[1];
	}
	close(fd);
}

/* Pick up what a previous run left. Missing directory = empty spool. */
static int scan(struct fc_spool *sp, char *note, size_t notelen)
{
	DIR *d = opendir(sp->dir);
	struct dirent *de;
	unsigned skipped = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		unsigned long long seq;
		unsigned char hdr[SPOOL_HDR];
		char path[4200], tailc;
		struct stat st;
		struct seg s;
		int fd, ok;

		if (strlen(de->d_name) != 24 || sscanf(de->d_name, "%20llu.se%c", &seq, &tailc) != 2 ||
		    tailc != 'g')
			continue;
		seg_path(sp, seq, path, sizeof(path));
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ok = fstat(fd, &st) == 0 && read(fd, hdr, SPOOL_HDR) == SPOOL_HDR && header_ok(hdr);
		close(fd);
		if (!ok) {
			skipped++;	/* another version's file: leave it for that version */
			continue;
		}
		s.seq = seq;
		s.nrecs = ((uint64_t)st.st_size - SPOOL_HDR) / REC_SIZE;
		s.off = 0;
		if (!s.nrecs) {
			unlink(path);
			continue;
		}
		if (segs_insert(sp, sp->nsegs, &s)) {
			closedir(d);
			return -ENOMEM;
		}
		sp->bytes += SPOOL_HDR + s.nrecs * REC_SIZE;
		sp->pending += s.nrecs;
	}
	closedir(d);
	if (sp->nsegs)
		qsort(sp->segs, sp->nsegs, sizeof(*sp->segs), cmp_seg);
	load_cursor(sp);
	if (skipped)
		snprintf(note, notelen, "%s: skipped %u segment file%s of another version", sp->dir,
			 skipped, skipped == 1 ? "" : "s");
	return 0;
}

struct fc_spool *fc_spool__open(const char *dir, uint64_t max_bytes, char *note, size_t notelen)
{
	struct fc_spool *sp;
	int rc;

	if (notelen)
		note[0] = '\0';
	if (!dir || !*dir || strlen(dir) > 4000) {
		errno = EINVAL;
		return NULL;
	}
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	sp->dir = strdup(dir);
	sp->max_bytes = max_bytes;
	sp->seg_bytes = max_bytes / 16;
	if (sp->seg_bytes < SEG_MIN)
		sp->seg_bytes = SEG_MIN;
	if (sp->seg_bytes > SEG_MAX)
		sp->seg_bytes = SEG_MAX;
	sp->tail_fd = sp->head_fd = sp->cursor_fd = -1;
	if (!sp->dir) {
		free(sp);
		errno = ENOMEM;
		return NULL;
	}
	rc = scan(sp, note, notelen);
	if (rc) {
		fc_spool__close(sp);
		errno = -rc;
		return NULL;
	}
	return sp;
}

void fc_spool__close(struct fc_spool *sp)
{
	if (!sp)
		return;
	save_cursor(sp);
	zclose(&sp->tail_fd);
	zclose(&sp->head_fd);
	zclose(&sp->cursor_fd);
	free(sp->segs);
	free(sp->dir);
	free(sp);
}

uint64_t fc_spool__records(const struct fc_spool *sp)
{
	return sp->pending;
}

uint64_t fc_spool__bytes(const struct fc_spool *sp)
{
	return sp->bytes;
}

const char *fc_spool__dir(const struct fc_spool *sp)
{
	return sp->dir;
}

/* Create segment seq with its header. Returns an fd or a negative errno. */
static int create_seg(struct fc_spool *sp, uint64_t seq)
{
	unsigned char hdr[SPOOL_HDR];
	char path[4200];
	int fd, rc;

	if (sp->bytes + SPOOL_HDR + REC_SIZE > sp->max_bytes)
		return -EDQUOT;
	rc = mkdir_p(sp->dir);
	if (rc)
		return rc;
	seg_path(sp, seq, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	write_header(hdr);
	if (write(fd, hdr, SPOOL_HDR) != SPOOL_HDR) {
		rc = errno ? -errno : -ENOSPC;
		close(fd);
		unlink(path);
		return rc;
	}
	sp->bytes += SPOOL_HDR;
	return fd;
}

/*
 * Write up to n records to fd whose file holds *nrecs records. Cuts a
 * partial write back to a whole record. Returns records written or -errno.
 */
static int write_recs(struct fc_spool *sp, int fd, uint64_t *nrecs, const struct fc_flow_rec *recs,
		      size_t n)
{
	uint64_t room = (sp->max_bytes - sp->bytes) / REC_SIZE;	/* caller checked bytes <= max */
	size_t want = n < room ? n : (size_t)room;
	ssize_t w;
	uint64_t whole;

	if (!want)
		return -EDQUOT;
	w = write(fd, recs, want * REC_SIZE);
	if (w < 0)
		return -errno;
	whole = (uint64_t)w / REC_SIZE;
	if ((uint64_t)w % REC_SIZE &&
	    ftruncate(fd, (off_t)(SPOOL_HDR + (*nrecs + whole) * REC_SIZE)) == -1)
		return -errno;
	*nrecs += whole;
	sp->bytes += whole * REC_SIZE;
	sp->pending += whole;
	if (!whole)
		return -ENOSPC;	/* a short write without errno: the disk is full */
	return (int)whole;
}

int fc_spool__append(struct fc_spool *sp, const struct fc_flow_rec *recs, size_t n)
{
	size_t done = 0;
	int rc = 0;

	if (n > INT32_MAX)
		n = INT32_MAX;
	while (done < n) {
		struct seg *t = sp->nsegs ? &sp->segs[sp->nsegs - 1] : NULL;
		uint64_t left;
		size_t chunk;

		if (sp->tail_fd < 0 || SPOOL_HDR + t->nrecs * REC_SIZE >= sp->seg_bytes) {
			struct seg s = { .seq = t ? t->seq + 1 : SPOOL_FIRST_SEQ };
			int fd;

			zclose(&sp->tail_fd);
			fd = create_seg(sp, s.seq);
			if (fd < 0) {
				rc = fd;
				break;
			}
			if (segs_insert(sp, sp->nsegs, &s)) {
				close(fd);
				rc = -ENOMEM;
				break;
			}
			sp->tail_fd = fd;
			t = &sp->segs[sp->nsegs - 1];
		}
		left = (sp->seg_bytes - SPOOL_HDR) / REC_SIZE;
		left = left > t->nrecs ? left - t->nrecs : 1;
		chunk = n - done < left ? n - done : (size_t)left;
		rc = write_recs(sp, sp->tail_fd, &t->nrecs, recs + done, chunk);
		if (rc < 0)
			break;
		done += (size_t)rc;
		rc = 0;
	}
	return done ? (int)done : rc;
}

/*
 * Bytes from disk are not trusted the way the flow table's own records are:
 * sinks copy text fields without escaping (they are letters and base64 by
 * construction), so a damaged spool must not smuggle in quotes or control
 * bytes. Terminate the strings and mask anything outside their alphabets.
 */
static void clean_str(char *s, size_t cap, const char *extra)
{
	size_t i;

	s[cap - 1] = '\0';
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(extra, c)))
			s[i] = '?';
	}
}

static void sanitize(struct fc_flow_rec *r)
{
	clean_str(r->history, sizeof(r->history), "^");
	clean_str(r->community_id, sizeof(r->community_id), ":+/=");
}

static int read_recs(struct fc_spool *sp, const struct seg *s, uint64_t from, struct fc_flow_rec *out,
		     size_t n)
{
	ssize_t r;

	if (sp->head_fd < 0 || sp->head_seq != s->seq) {
		char path[4200];

		zclose(&sp->head_fd);
		seg_path(sp, s->seq, path, sizeof(path));
		sp->head_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (sp->head_fd < 0)
			return -errno;
		sp->head_seq = s->seq;
	}
	r = pread(sp->head_fd, out, n * REC_SIZE, (off_t)(SPOOL_HDR + from * REC_SIZE));
	if (r < 0)
		return -errno;
	n = (size_t)((uint64_t)r / REC_SIZE);
	for (size_t i = 0; i < n; i++)
		sanitize(&out[i]);
	return (int)n;
}

int fc_spool__prepend(struct fc_spool *sp, const struct fc_flow_rec *recs, size_t n)
{
	struct seg s = { 0 }, *h = sp->nsegs ? &sp->segs[0] : NULL;
	struct fc_flow_rec *rest = NULL;
	size_t nrest = 0;
	int fd, rc;

	if (!h)
		return fc_spool__append(sp, recs, n);
	if (!n)
		return 0;
	/*
	 * The oldest segment's delivered part cannot be described by a second
	 * cursor: copy its undelivered rest behind the new records instead.
	 */
	if (h->off) {
		nrest = (size_t)(h->nrecs - h->off);
		rest = malloc(nrest * sizeof(*rest));
		if (!rest)
			return -ENOMEM;
		rc = read_recs(sp, h, h->off, rest, nrest);
		if (rc != (int)nrest) {
			free(rest);
			return rc < 0 ? rc : -EIO;
		}
	}
	s.seq = h->seq - 1;
	fd = create_seg(sp, s.seq);
	if (fd < 0) {
		free(rest);
		return fd;
	}
	rc = write_recs(sp, fd, &s.nrecs, recs, n);
	if (rc == (int)n && nrest) {
		rc = write_recs(sp, fd, &s.nrecs, rest, nrest);
		if (rc == (int)nrest) {
			char path[4200];

			/* the old head's rest now lives in the new segment */
			if (sp->nsegs == 1)
				zclose(&sp->tail_fd);
			seg_path(sp, h->seq, path, sizeof(path));
			unlink(path);
			sp->bytes -= SPOOL_HDR + h->nrecs * REC_SIZE;
			sp->pending -= h->nrecs - h->off;
			memmove(&sp->segs[0], &sp->segs[1], (sp->nsegs - 1) * sizeof(s));
			sp->nsegs--;
			rc = (int)n;
		} else {
			/* keep the old head as it is; drop the duplicate copy */
			if (rc > 0) {
				sp->pending -= (uint64_t)rc;
				sp->bytes -= (uint64_t)rc * REC_SIZE;
				s.nrecs -= (uint64_t)rc;
			}
			if (ftruncate(fd, (off_t)(SPOOL_HDR + s.nrecs * REC_SIZE)) == -1)
				rc = -errno;
			rc = (int)n;
		}
	}
	free(rest);
	close(fd);
	if (s.nrecs) {
		if (segs_insert(sp, 0, &s))
			return -ENOMEM;
		save_cursor(sp);
	} else {
		char path[4200];

		seg_path(sp, s.seq, path, sizeof(path));
		unlink(path);
		sp->bytes -= SPOOL_HDR;
	}
	return rc;
}

int fc_spool__peek(struct fc_spool *sp, struct fc_flow_rec *out, size_t max)
{
	const struct seg *h;
	uint64_t avail;

	if (!sp->nsegs || !max)
		return 0;
	h = &sp->segs[0];
	avail = h->nrecs - h->off;
	if (avail > max)
		avail = max;
	return read_recs(sp, h, h->off, out, (size_t)avail);
}

int fc_spool__consume(struct fc_spool *sp, size_t n)
{
	while (n && sp->nsegs) {
		struct seg *h = &sp->segs[0];
		uint64_t take = h->nrecs - h->off < n ? h->nrecs - h->off : n;

		h->off += take;
		sp->pending -= take;
		n -= take;
		if (h->off == h->nrecs) {
			char path[4200];

			if (sp->nsegs == 1)
				zclose(&sp->tail_fd);
			if (sp->head_seq == h->seq)
				zclose(&sp->head_fd);
			seg_path(sp, h->seq, path, sizeof(path));
			unlink(path);
			sp->bytes -= SPOOL_HDR + h->nrecs * REC_SIZE;
			memmove(&sp->segs[0], &sp->segs[1], (sp->nsegs - 1) * sizeof(*h));
			sp->nsegs--;
		}
	}
	if (sp->nsegs) {
		save_cursor(sp);
	} else if (sp->cursor_fd >= 0) {
		char path[4200];

		zclose(&sp->cursor_fd);
		snprintf(path, sizeof(path), "%s/cursor", sp->dir);
		unlink(path);
	}
	return n ? -EINVAL : 0;
}
