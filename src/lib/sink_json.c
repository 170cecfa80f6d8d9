// SPDX-License-Identifier: BSD-2-Clause
/*
 * sink_json.c - the "json" sink: one JSON object per line
 * (fc_record_to_json()) to stdout ("json:-") or a file ("json:/path").
 *
 * Options: rotate_size=SIZE (e.g. 100M) and rotate_interval=DUR (e.g. 1h)
 * rename the file to PATH.YYYYmmddTHHMMSS (UTC; ".N" added if taken) and
 * start a new one; reopen (SIGHUP) closes and reopens PATH, for logrotate.
 *
 * Lines are built in a private buffer and written with write(2), so every
 * error is a real errno: a record counts as taken once its line is in the
 * buffer; when the buffer cannot be written the sink keeps it (retried by the
 * next write or flush) and returns -errno, and the exporter keeps the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flowcut/sink.h"
#include "units.h"

#define JSON_BUF (256 * 1024)
#define JSON_LINE_MAX 2048	/* fc_record_to_json() needs at most 1024 */

struct json_sink {
	char path[4096];	/* "" = stdout */
	int fd;
	uint64_t rotate_size;	/* 0 = off */
	uint64_t rotate_ns;	/* 0 = off */
	uint64_t file_bytes;	/* in the current file (written, not buffered) */
	uint64_t opened_ns;	/* CLOCK_MONOTONIC when the current file was opened */
	size_t len;		/* bytes buffered */
	char buf[JSON_BUF];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int open_file(struct fc_sink *s, struct json_sink *j)
{
	struct stat st;

	j->opened_ns = mono_ns();
	if (!j->path[0]) {
		j->fd = STDOUT_FILENO;
		j->file_bytes = 0;
		return 0;
	}
	j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (j->fd < 0) {
		int err = errno;

		fc_sink__set_err(s, "%s: %s", j->path, strerror(err));
		fc_sink__health(s)->up = 0;
		return -err;
	}
	j->file_bytes = fstat(j->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	fc_sink__health(s)->up = 1;
	return 0;
}

static void close_file(struct json_sink *j)
{
	if (j->fd > STDOUT_FILENO)
		close(j->fd);
	j->fd = -1;
}

/* Write out the buffer. Keeps what could not be written. 0 or -errno. */
static int drain(struct fc_sink *s, struct json_sink *j)
{
	size_t off = 0;
	int err = 0;

	if (j->fd < 0 && open_file(s, j))
		return -EIO;
	while (off < j->len) {
		ssize_t w = write(j->fd, j->buf + off, j->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? errno : ENOSPC;
			break;
		}
		off += (size_t)w;
	}
	if (off) {
		memmove(j->buf, j->buf + off, j->len - off);
		j->len -= off;
		j->file_bytes += off;
		fc_sink__health(s)->bytes += off;
	}
	if (err) {
		fc_sink__set_err(s, "%s: %s", j->path[0] ? j->path : "stdout", strerror(err));
		fc_sink__health(s)->up = 0;
		return -err;
	}
	fc_sink__health(s)->up = 1;
	return 0;
}

/* PATH -> PATH.YYYYmmddTHHMMSS[.N], then a fresh PATH. 0 or -errno. */
static int rotate(struct fc_sink *s, struct json_sink *j)
{
	char dst[4200], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	unsigned n;
	int rc;

	rc = drain(s, j);
	if (rc)
		return rc;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(dst, sizeof(dst), "%s.%s", j->path, stamp);
	for (n = 1; access(dst, F_OK) == 0 && n < 1000; n++)
		snprintf(dst, sizeof(dst), "%s.%s.%u", j->path, stamp, n);
	if (rename(j->path, dst) == -1) {
		rc = -errno;
		fc_sink__set_err(s, "rotate %s: %s", j->path, strerror(-rc));
		return rc;
	}
	close_file(j);
	return open_file(s, j);
}

static bool due(const struct json_sink *j)
{
	if (!j->path[0])
		return false;
	if (j->rotate_size && j->file_bytes + j->len >= j->rotate_size)
		return true;
	return j->rotate_ns && mono_ns() - j->opened_ns >= j->rotate_ns;
}

static int json_open(struct fc_sink *s, const struct fc_sink_spec *spec)
{
	struct json_sink *j = fc_sink__priv(s);
	unsigned i;

	j->fd = -1;
	if (!spec->target[0]) {
		fc_sink__set_err(s, "json needs a target: json:- (stdout) or json:PATH");
		return -EINVAL;
	}
	if (strcmp(spec->target, "-")) {
		if (strlen(spec->target) >= sizeof(j->path) - 64) {
			fc_sink__set_err(s, "path too long");
			return -ENAMETOOLONG;
		}
		strcpy(j->path, spec->target);
	}
	for (i = 0; i < spec->nopts; i++) {
		const char *k = spec->opts[i].key, *v = spec->opts[i].val;

		if (!strcmp(k, "rotate_size")) {
			if (fc_parse_size(v, &j->rotate_size) || j->rotate_size < 4096) {
				fc_sink__set_err(s, "rotate_size=%s: not a size of at least 4k (e.g. 100M)", v);
				return -EINVAL;
			}
		} else if (!strcmp(k, "rotate_interval")) {
			if (fc_parse_duration_ns(v, &j->rotate_ns) || j->rotate_ns < 1000000000ull) {
				fc_sink__set_err(s, "rotate_interval=%s: not a duration of at least 1s "
						 "(e.g. 1h)", v);
				return -EINVAL;
			}
		} else {
			fc_sink__set_err(s, "unknown option '%s' (json takes rotate_size, "
					 "rotate_interval)", k);
			return -EINVAL;
		}
	}
	if (!j->path[0] && (j->rotate_size || j->rotate_ns)) {
		fc_sink__set_err(s, "stdout cannot be rotated");
		return -EINVAL;
	}
	return open_file(s, j);
}

static int json_write(struct fc_sink *s, const struct fc_flow_rec *recs, size_t n)
{
	struct json_sink *j = fc_sink__priv(s);
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		int len;

		if (due(j) && (rc = rotate(s, j)) < 0)
			return i ? (int)i : rc;
		if (JSON_BUF - j->len < JSON_LINE_MAX) {
			rc = drain(s, j);
			if (rc < 0 && JSON_BUF - j->len < JSON_LINE_MAX)
				return i ? (int)i : rc;
		}
		len = fc_record_to_json(&recs[i], j->buf + j->len, JSON_LINE_MAX - 1);
		if (len < 0) {
			/* cannot happen with 2 KiB; do not wedge the queue on it */
			fc_sink__set_err(s, "record %llu: %s", (unsigned long long)recs[i].flow_id,
					 strerror(-len));
			continue;
		}
		j->len += (size_t)len;
		j->buf[j->len++] = '\n';
		fc_sink__health(s)->written++;
	}
	return (int)(n > INT32_MAX ? INT32_MAX : n);
}

static int json_flush(struct fc_sink *s)
{
	struct json_sink *j = fc_sink__priv(s);

	if (due(j))
		return rotate(s, j);
	return drain(s, j);
}

static int json_reopen(struct fc_sink *s)
{
	struct json_sink *j = fc_sink__priv(s);
	int rc = drain(s, j);

	if (!j->path[0])
		return rc;
	close_file(j);
	return open_file(s, j) ? -EIO : rc;
}

static void json_close(struct fc_sink *s)
{
	struct json_sink *j = fc_sink__priv(s);

	if (j->fd >= 0 && j->len)
		drain(s, j);
	close_file(j);
}

static const struct fc_sink_ops json_ops = {
	.type = "json",
	.help = "json:- (stdout) or json:PATH?rotate_size=100M&rotate_interval=1h",
	.priv_size = sizeof(struct json_sink),
	.open = json_open,
	.write = json_write,
	.flush = json_flush,
	.reopen = json_reopen,
	.close = json_close,
};

FC_SINK_REGISTER(json_ops);
