/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t.h - the unit-test harness: a check macro that records failures with
 * file:line, and a per-test wrapper printing "PASS name" / "FAIL name".
 * tests/run.sh counts those lines into the final "N passed, N failed".
 */
#ifndef FC_TEST_T_H
#define FC_TEST_T_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int t_failed_checks;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			t_failed_checks++;                                                 \
		}                                                                          \
	} while (0)

#define CHECK_EQ_U(a, b)                                                                    \
	do {                                                                                \
		unsigned long long t_a_ = (unsigned long long)(a), t_b_ = (unsigned long long)(b); \
		if (t_a_ != t_b_) {                                                         \
			fprintf(stderr, "  %s:%d: %s == %s failed: %llu != %llu\n", __FILE__, \
				__LINE__, #a, #b, t_a_, t_b_);                              \
			t_failed_checks++;                                                  \
		}                                                                           \
	} while (0)

#define CHECK_STR(a, b)                                                                     \
	do {                                                                                \
		const char *t_a_ = (a), *t_b_ = (b);                                        \
		if (strcmp(t_a_, t_b_) != 0) {                                              \
			fprintf(stderr, "  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n",    \
				__FILE__, __LINE__, #a, #b, t_a_, t_b_);                    \
			t_failed_checks++;                                                  \
		}                                                                           \
	} while (0)

static int t_pass, t_fail;

#define RUN(fn)                                                                 \
	do {                                                                    \
		int t_before_ = t_failed_checks;                                \
		fn();                                                           \
		if (t_failed_checks == t_before_) {                             \
			printf("PASS %s\n", #fn);                               \
			t_pass++;                                               \
		} else {                                                        \
			printf("FAIL %s\n", #fn);                               \
			t_fail++;                                               \
		}                                                               \
		fflush(stdout);                                                 \
	} while (0)

#define T_DONE() (t_fail ? 1 : 0)

/* d[0..n) into a new file /tmp/fc_test_XXXXXX; its path (static: valid
 * until the next call). Aborts if the file cannot be written. */
static inline const char *t_write_tmp(const void *d, size_t n)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/fc_test_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);
	return path;
}

#endif
