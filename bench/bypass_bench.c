// SPDX-License-Identifier: BSD-2-Clause
/*
 * bypass_bench.c - per-packet cost of the bypass programs, measured with
 * BPF_PROG_TEST_RUN and a large repeat count (the kernel times the loop and
 * reports ns per run): map hit (counted, dropped) and miss (passed), IPv4
 * and IPv6, XDP and socket filter, next to a floor per program type (a
 * program that only returns: what the test-run loop itself costs).
 *
 * This VM is shared and noisy, so every case is run RUNS times, the cases
 * interleaved round-robin (a burst of noise hits all of them alike), after
 * one warm-up round; reported are the minimum and the median over the runs,
 * gross and net of the floor of the same program type (min - min floor,
 * median - median floor). Pin it to one CPU (taskset -c 1) for steadier
 * numbers. The map holds 10k other flows, as in a busy monitor.
 * usage: bypass_bench [REPEAT [RUNS]]
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "flowcut/bypass.h"
#include "../tests/bpf/frames.h"

#define MAX_RUNS 101

struct bcase {
	const char *prog, *what, *fam;
	int fd;				/* program */
	int len;			/* frame */
	uint8_t buf[1600];
	double ns[MAX_RUNS];
	double min, med;
	struct bcase *floor;
};

static int run_one(struct bcase *c, uint32_t repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = c->buf, .data_size_in = (uint32_t)c->len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(c->fd, &o))
		return -errno;
	*ns = o.duration;
	return 0;
}

/* A program that only returns: XDP_PASS, or "keep the whole packet" for a socket filter. */
static int floor_prog(int xdp)
{
	struct bpf_insn x[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpf_insn s[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0xffff },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return xdp ? bpf_prog_load(BPF_PROG_TYPE_XDP, "fc_floor_xdp", "GPL", x, 2, NULL)
		   : bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "fc_floor_sk", "GPL", s, 2, NULL);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void add_flow(struct fc_bypass *b, const struct frame_spec *s)
{
	struct fc_flow_rec r;
	int af = s->family == 6 ? AF_INET6 : AF_INET;

	memset(&r, 0, sizeof(r));
	r.family = (uint8_t)s->family, r.proto = s->proto;
	inet_pton(af, s->src, r.src.b);
	inet_pton(af, s->dst, r.dst.b);
	r.sport = s->sport, r.dport = s->dport;
	(void)fc_bypass__add(b, &r, 0);
}

int main(int argc, char **argv)
{
	struct fc_bypass_opts o = { .mode = FC_BYPASS_SOCKET, .ifname = "lo", .pin_root = "",
				    .max_entries = 65536, .vlan_key = true };
	uint32_t repeat = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
	int runs = argc > 2 ? atoi(argv[2]) : 15;
	/* hit: the flow has an entry; miss: the same flow with another client port */
	struct frame_spec v4 = { .family = 4, .src = "10.1.0.2", .dst = "10.1.0.1", .sport = 40000,
				 .dport = 443, .proto = 6, .payload = 1400 };
	struct frame_spec v6 = { .family = 6, .src = "2001:db8::2", .dst = "2001:db8::1",
				 .sport = 40000, .dport = 443, .proto = 6, .payload = 1400 };
	struct frame_spec *fs[2] = { &v4, &v6 }, m;
	static struct bcase cs[10];
	struct fc_bypass *b;
	struct fc_flow_rec r;
	char err[256];
	int n = 0, xdp, hit, f, i, j, floor_fd[2] = { -1, -1 }, rc = 0;

	if (runs < 1 || runs > MAX_RUNS)
		runs = 15;
	if (fc_bypass__open(&o, &b, err, sizeof(err))) {
		fprintf(stderr, "bypass_bench: %s\n", err);
		return 1;
	}
	/* a realistically filled map: 10k other flows */
	for (i = 0; i < 10000; i++) {
		memset(&r, 0, sizeof(r));
		r.family = 4, r.proto = 6;
		r.src.b[0] = 10, r.src.b[1] = 2, r.src.b[2] = (uint8_t)(i >> 8), r.src.b[3] = (uint8_t)i;
		r.dst.b[0] = 10, r.dst.b[3] = 1, r.sport = 1000, r.dport = 80;
		(void)fc_bypass__add(b, &r, 0);
	}
	add_flow(b, &v4);
	add_flow(b, &v6);
	for (xdp = 1; xdp >= 0; xdp--) {
		floor_fd[xdp] = floor_prog(xdp);
		if (floor_fd[xdp] < 0) {
			fprintf(stderr, "bypass_bench: floor program: %s\n", strerror(errno));
			return 1;
		}
		cs[n] = (struct bcase){ .prog = xdp ? "xdp" : "socket-filter", .what = "floor",
					.fam = "ipv4", .fd = floor_fd[xdp] };
		cs[n].len = frame_build(&v4, cs[n].buf);
		n++;
		for (hit = 1; hit >= 0; hit--) {
			for (f = 0; f < 2; f++) {
				m = *fs[f];
				if (!hit)
					m.sport = 40001;
				cs[n] = (struct bcase){ .prog = xdp ? "xdp" : "socket-filter",
							.what = hit ? "hit" : "miss", .fam = f ? "ipv6" : "ipv4",
							.fd = fc_bypass__prog_fd(b, xdp) };
				cs[n].len = frame_build(&m, cs[n].buf);
				n++;
			}
		}
	}
	for (i = 0; i < n; i++)
		cs[i].floor = strcmp(cs[i].prog, "xdp") ? &cs[5] : &cs[0];
	for (j = -1; j < runs && !rc; j++) {	/* round -1 warms caches and the JIT'd code up */
		for (i = 0; i < n && !rc; i++) {
			double ns = 0;

			rc = run_one(&cs[i], repeat, &ns);
			if (j >= 0)
				cs[i].ns[j] = ns;
		}
	}
	if (rc) {
		fprintf(stderr, "bypass_bench: test run: %s\n", strerror(-rc));
		fc_bypass__close(b);
		return 1;
	}
	for (i = 0; i < n; i++) {
		qsort(cs[i].ns, (size_t)runs, sizeof(double), cmp_d);
		cs[i].min = cs[i].ns[0];
		cs[i].med = cs[i].ns[runs / 2];
	}
	printf("%-13s %-5s %-4s  %8s %8s  %8s %8s   (ns/packet, %d runs x %u)\n", "program", "case", "ip",
	       "min", "median", "net-min", "net-med", runs, repeat);
	for (i = 0; i < n; i++)
		printf("%-13s %-5s %-4s  %8.1f %8.1f  %8.1f %8.1f\n", cs[i].prog, cs[i].what, cs[i].fam,
		       cs[i].min, cs[i].med, cs[i].min - cs[i].floor->min, cs[i].med - cs[i].floor->med);
	close(floor_fd[0]);
	close(floor_fd[1]);
	fc_bypass__close(b);
	return 0;
}
