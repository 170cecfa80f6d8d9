// SPDX-License-Identifier: BSD-2-Clause
/*
 * bypass_bench.c - per-packet cost of the bypass programs, measured with
 * BPF_PROG_TEST_RUN and a large repeat count (the kernel times the loop and
 * reports ns per run): map hit (counted, dropped) and miss (passed), IPv4
 * and IPv6, XDP and socket filter. Prints one line per case; root only.
 * usage: bypass_bench [REPEAT]
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "flowcut/bypass.h"
#include "../tests/bpf/frames.h"

static int one(struct fc_bypass *b, int xdp, const struct frame_spec *s, uint32_t repeat, double *ns)
{
	uint8_t buf[1600];
	int len = frame_build(s, buf);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (uint32_t)len, .repeat = repeat);

	if (bpf_prog_test_run_opts(fc_bypass__prog_fd(b, xdp), &o))
		return -errno;
	*ns = o.duration;
	return 0;
}

/*
 * The floor: an XDP program that only returns XDP_PASS, run the same way.
 * What BPF_PROG_TEST_RUN itself costs per run is in every other number.
 */
static int floor_ns(uint32_t repeat, double *ns)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	uint8_t buf[1600];
	struct frame_spec s = { .family = 4, .src = "10.1.0.2", .dst = "10.1.0.1", .sport = 40000,
				.dport = 443, .proto = 6, .payload = 1400 };
	int len = frame_build(&s, buf), fd, err = 0;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (uint32_t)len, .repeat = repeat);

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "fc_floor", "GPL", insns, 2, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_prog_test_run_opts(fd, &o))
		err = -errno;
	close(fd);
	*ns = o.duration;
	return err;
}

int main(int argc, char **argv)
{
	struct fc_bypass_opts o = { .mode = FC_BYPASS_SOCKET, .ifname = "lo", .pin_root = "",
				    .max_entries = 65536, .vlan_key = true };
	uint32_t repeat = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 10000000;
	struct frame_spec v4 = { .family = 4, .src = "10.1.0.2", .dst = "10.1.0.1", .sport = 40000,
				 .dport = 443, .proto = 6, .payload = 1400 };
	struct frame_spec v6 = { .family = 6, .src = "2001:db8::2", .dst = "2001:db8::1",
				 .sport = 40000, .dport = 443, .proto = 6, .payload = 1400 };
	struct frame_spec *fs[2] = { &v4, &v6 };
	struct fc_bypass *b;
	struct fc_flow_rec r;
	char err[256];
	double ns = 0;
	int xdp, f, hit, i;

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
	if (floor_ns(repeat, &ns) == 0)
		printf("%-13s %-4s %s  %6.1f ns/packet  (%u runs)\n", "xdp-floor", "-", "ipv4", ns, repeat);
	for (xdp = 1; xdp >= 0; xdp--) {
		for (hit = 0; hit < 2; hit++) {
			for (f = 0; f < 2; f++) {
				if (hit) {
					memset(&r, 0, sizeof(r));
					r.family = (uint8_t)fs[f]->family, r.proto = 6;
					inet_pton(f ? AF_INET6 : AF_INET, fs[f]->src, r.src.b);
					inet_pton(f ? AF_INET6 : AF_INET, fs[f]->dst, r.dst.b);
					r.sport = fs[f]->sport, r.dport = fs[f]->dport;
					(void)fc_bypass__add(b, &r, 0);
				}
				if (one(b, xdp, fs[f], repeat, &ns)) {
					fprintf(stderr, "bypass_bench: test run: %s\n", strerror(errno));
					fc_bypass__close(b);
					return 1;
				}
				printf("%-13s %-4s %s  %6.1f ns/packet  (%u runs)\n",
				       xdp ? "xdp" : "socket-filter", hit ? "hit" : "miss",
				       f ? "ipv6" : "ipv4", ns, repeat);
			}
		}
		(void)fc_bypass__flush(b);
	}
	fc_bypass__close(b);
	return 0;
}
