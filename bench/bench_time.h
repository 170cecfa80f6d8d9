/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_time.h - the clocks every benchmark program reads: wall time
 * (monotonic) and the CPU time of the whole process (all threads, user +
 * system), both in seconds.
 */
#ifndef FC_BENCH_TIME_H
#define FC_BENCH_TIME_H

#include <sys/resource.h>
#include <time.h>

static inline double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double bench_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

#endif
