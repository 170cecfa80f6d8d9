// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_sink_json.c - the json sink: one line per record with hostile text
 * escaped, rotation by size (PATH.YYYYmmddTHHMMSS files, nothing lost),
 * reopen after the file was moved away (logrotate), bad options refused,
 * and a write error surfacing as a negative errno.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flowcut/sink.h"
#include "t.h"

static char dir[] = "/tmp/fc_test_json.XXXXXX";

static struct fc_sink *open_spec(const char *text, char *err, size_t errlen)
{
	struct fc_sink_spec spec;
	struct fc_sink *s;

	if (fc_sink_spec__parse(text, &spec, err, errlen))
		return NULL;
	s = fc_sink__open(&spec, err, errlen);
	fc_sink_spec__free(&spec);
	return s;
}

static void mkrec(struct fc_flow_rec *r, uint64_t id)
{
	memset(r, 0, sizeof(*r));
	r->flow_id = id;
	r->family = 4;
	r->proto = 6;
	r->src.b[0] = 10;
	r->src.b[3] = 1;
	r->dst.b[0] = 10;
	r->dst.b[3] = 2;
	r->sport = 1234;
	r->dport = 80;
	r->pkts = 3;
	r->bytes = 180;
	r->start_ns = 1700000000000000000ull;
	r->end_ns = r->start_ns + 1000;
}

static size_t count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);

	if (f && buf && fread(buf, 1, (1 << 16) - 1, f) == 0)
		buf[0] = '\0';
	if (f)
		fclose(f);
	return buf;
}

static void test_lines_and_escaping(void)
{
	struct fc_flow_rec r[2];
	char path[300], spec[400], err[256], *text;
	struct fc_sink *s;

	snprintf(path, sizeof(path), "%s/esc.json", dir);
	snprintf(spec, sizeof(spec), "json:%s", path);
	s = open_spec(spec, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	mkrec(&r[0], 1);
	mkrec(&r[1], 2);
	memcpy(r[1].history, "ShADadFf", 9);
	memcpy(r[1].community_id, "1:abc+/=", 9);
	CHECK(fc_sink__write(s, r, 2) == 2);
	CHECK(fc_sink__flush(s) == 0);
	CHECK_EQ_U(fc_sink__health(s)->written, 2);
	CHECK(fc_sink__health(s)->bytes > 0);
	fc_sink__close(s);
	CHECK_EQ_U(count_lines(path), 2);
	text = slurp(path);
	CHECK(text && strstr(text, "\"flow_id\":1,") != NULL);
	CHECK(text && strstr(text, "\"history\":\"ShADadFf\"") != NULL);
	CHECK(text && strstr(text, "\"community_id\":\"1:abc+/=\"") != NULL);
	free(text);
}

static void test_rotate_by_size(void)
{
	struct fc_flow_rec r[100];
	char path[300], spec[400], err[256];
	struct fc_sink *s;
	struct dirent *de;
	size_t total = 0, rotated = 0;
	DIR *d;
	int i;

	snprintf(path, sizeof(path), "%s/rot.json", dir);
	snprintf(spec, sizeof(spec), "json:%s?rotate_size=8k", path);
	s = open_spec(spec, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	for (i = 0; i < 100; i++)
		mkrec(&r[i], (uint64_t)i + 1);
	for (i = 0; i < 5; i++) {	/* ~5 x 100 lines of ~400 bytes: several rotations */
		CHECK(fc_sink__write(s, r, 100) == 100);
		CHECK(fc_sink__flush(s) == 0);
		sleep(i == 2);		/* a second apart: distinct time stamps, and .N for equal ones */
	}
	fc_sink__close(s);
	d = opendir(dir);
	CHECK(d != NULL);
	while (d && (de = readdir(d))) {
		char p[600];

		if (strncmp(de->d_name, "rot.json", 8))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		total += count_lines(p);
		if (de->d_name[8] == '.') {
			rotated++;
			CHECK(strlen(de->d_name) >= 8 + 1 + 15);	/* .YYYYmmddTHHMMSS */
			CHECK(de->d_name[9 + 8] == 'T');
		}
	}
	if (d)
		closedir(d);
	CHECK(rotated >= 2);
	CHECK_EQ_U(total, 500);	/* nothing lost across rotations */
}

static void test_reopen_after_move(void)
{
	struct fc_flow_rec r;
	char path[300], moved[320], spec[400], err[256];
	struct fc_sink *s;

	snprintf(path, sizeof(path), "%s/hup.json", dir);
	snprintf(moved, sizeof(moved), "%s/hup.json.1", dir);
	snprintf(spec, sizeof(spec), "json:%s", path);
	s = open_spec(spec, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	mkrec(&r, 1);
	CHECK(fc_sink__write(s, &r, 1) == 1);
	CHECK(fc_sink__flush(s) == 0);
	CHECK(rename(path, moved) == 0);	/* logrotate moves the file ... */
	mkrec(&r, 2);
	CHECK(fc_sink__write(s, &r, 1) == 1);
	CHECK(fc_sink__reopen(s) == 0);		/* ... and sends SIGHUP */
	mkrec(&r, 3);
	CHECK(fc_sink__write(s, &r, 1) == 1);
	fc_sink__close(s);
	CHECK_EQ_U(count_lines(moved), 2);	/* record 2 was buffered for the old file */
	CHECK_EQ_U(count_lines(path), 1);
}

static void test_bad_options_and_errors(void)
{
	struct fc_flow_rec r;
	char err[256];
	struct fc_sink *s;
	int rc, i;

	CHECK(open_spec("json:-?rotate_size=1M", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "stdout cannot be rotated") != NULL);
	CHECK(open_spec("json:/tmp/x?rotate_size=huge", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "rotate_size") != NULL);
	CHECK(open_spec("json:/tmp/x?colour=blue", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "unknown option 'colour'") != NULL);
	CHECK(open_spec("json:/nonexistent/dir/x.json", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "No such file") != NULL);
	/* /dev/full: every write fails with ENOSPC, which the exporter retries/spools */
	s = open_spec("json:/dev/full", err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	mkrec(&r, 1);
	rc = 0;
	for (i = 0; i < 2000 && rc >= 0; i++)
		rc = fc_sink__write(s, &r, 1);
	CHECK(rc == -ENOSPC);
	CHECK(fc_sink__flush(s) == -ENOSPC);
	CHECK(fc_sink__health(s)->up == 0);
	CHECK(strstr(fc_sink__health(s)->last_error, "No space") != NULL);
	fc_sink__close(s);
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_lines_and_escaping);
	RUN(test_rotate_by_size);
	RUN(test_reopen_after_move);
	RUN(test_bad_options_and_errors);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return T_DONE();
}
