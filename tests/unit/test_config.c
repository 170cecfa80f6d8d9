// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_config.c - the configuration file: a good file (sections, comments,
 * sink specs with options) and every error naming its file and line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowcut/config.h"
#include "t.h"

static char path[] = "/tmp/fc_test_config.XXXXXX";

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static int load_err(const char *text, char *err, size_t errlen)
{
	struct fc_config *c;
	int rc;

	write_file(text);
	rc = fc_config__load(path, &c, err, errlen);
	fc_config__free(c);
	return rc;
}

static void test_good_file(void)
{
	struct fc_config *c;
	const struct fc_config_section *s;
	struct fc_sink_spec spec;
	char err[512];

	write_file("# flowcut.conf\n"
		   "; another comment\n"
		   "[capture]\n"
		   "interface = eth0\n"
		   "workers=2   ; inline comment\n"
		   "\n"
		   "[sink main]\n"
		   "type = json\n"
		   "target = /var/log/flowcut/flows.json\n"
		   "rotate_size = 100M\n"
		   "[sink collector]\n"
		   "type = ipfix\n"
		   "target = 192.0.2.1:4739\n");
	CHECK(fc_config__load(path, &c, err, sizeof(err)) == 0);
	if (!c) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	s = fc_config__section(c, "capture");
	CHECK(s != NULL);
	if (s) {
		CHECK_EQ_U(s->nkv, 2);
		CHECK_STR(s->kv[0].key, "interface");
		CHECK_STR(s->kv[0].val, "eth0");
		CHECK_EQ_U(s->kv[0].line, 4);
		CHECK_STR(s->kv[1].val, "2");
		CHECK_EQ_U(s->line, 3);
	}
	CHECK(fc_config__section(c, "read") == NULL);
	CHECK_EQ_U(fc_config__nsinks(c), 2);
	CHECK(fc_config__sink_spec(c, 0, &spec, err, sizeof(err)) == 0);
	CHECK_STR(spec.type, "json");
	CHECK_STR(spec.target, "/var/log/flowcut/flows.json");
	CHECK_EQ_U(spec.nopts, 1);
	CHECK_STR(fc_sink_spec__opt(&spec, "rotate_size"), "100M");
	fc_sink_spec__free(&spec);
	CHECK(fc_config__sink_spec(c, 1, &spec, err, sizeof(err)) == 0);
	CHECK_STR(spec.type, "ipfix");
	CHECK_EQ_U(spec.nopts, 0);
	fc_sink_spec__free(&spec);
	CHECK(fc_config__sink_spec(c, 2, &spec, err, sizeof(err)) == -ENOENT);
	s = fc_config__sink_section(c, 0);
	CHECK(s != NULL);
	if (s) {
		CHECK_STR(s->arg, "main");
		CHECK_EQ_U(s->line, 7);
		CHECK_EQ_U(fc_config__blame_line(s, "unknown option 'rotate_size'"), 10);
		CHECK_EQ_U(fc_config__blame_line(s, "cannot open"), 7);
	}
	fc_config__free(c);
}

/* text must fail with a message starting "PATH:want" */
static void expect_error(const char *text, const char *want)
{
	char err[512], prefix[600];

	CHECK(load_err(text, err, sizeof(err)) < 0);
	snprintf(prefix, sizeof(prefix), "%s:%s", path, want);
	if (strncmp(err, prefix, strlen(prefix))) {
		fprintf(stderr, "  got \"%s\"\n  want \"%s...\"\n", err, prefix);
		CHECK(0);
	}
}

static void test_error_lines(void)
{
	char err[512];

	expect_error("interface = eth0\n", "1: 'interface' outside any section");
	expect_error("[capture]\ninterface = eth0\nbroken line\n", "3: syntax error");
	expect_error("[capture]\n\n[bogus]\nx = 1\n", "3: unknown section [bogus]");
	expect_error("[capture]\nworkers = 1\nworkers = 2\n", "3: 'workers' twice in [capture] (first on line 2)");
	expect_error("[sink]\ntype = json\n", "1: [sink] needs a name");
	expect_error("[read]\nfilter=tcp\n[sink a]\n\ntarget = -\n", "3: [sink a] has no 'type'");
	expect_error("[sink a]\ntype = json\n", "1: [sink a] has no 'target'");
	expect_error("[capture x]\nk = v\n", "1: [capture] takes no name");
	expect_error("[sink a]\ntype=json\ntarget=-\n[capture]\nk=v\n[sink a]\ntype=json\n",
		     "6: [sink a] again (first on line 1)");
	{
		char longline[400];

		memset(longline, 'x', sizeof(longline));
		memcpy(longline, "[capture]\nk=", 12);
		longline[sizeof(longline) - 2] = '\n';
		longline[sizeof(longline) - 1] = '\0';
		expect_error(longline, "2: line longer than");
	}
	CHECK(fc_config__load("/nonexistent/flowcut.conf", &(struct fc_config *){ NULL }, err,
			      sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "/nonexistent/flowcut.conf: No such file") != NULL);
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	RUN(test_good_file);
	RUN(test_error_lines);
	unlink(path);
	return T_DONE();
}
