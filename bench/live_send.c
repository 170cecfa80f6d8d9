// SPDX-License-Identifier: BSD-2-Clause
/*
 * live_send.c - the live benchmark's traffic generator: replays a pcap file
 * out of one interface as fast as the kernel takes it, or at a fixed rate.
 *
 * tcpreplay --topspeed pays one send() per frame and reaches 220-400 k
 * frames/s over a veth on the 2-core bench VM; trafgen's TX ring is no
 * faster there (veth must copy its zero-copy pages). This sender loads the
 * whole file into memory once and hands the kernel up to BATCH frames per
 * sendmmsg() on an AF_PACKET socket that skips the qdisc
 * (PACKET_QDISC_BYPASS), so the kernel's own per-frame work is what limits
 * the rate. Frames go out byte for byte as in the file (802.1Q tags
 * included), in file order, LOOPS times.
 *
 * usage: live_send -i IF [-l LOOPS] [-r PPS] FILE.pcap
 *   -r PPS  pace to about PPS frames/s (checked every batch); 0 = flat out
 * Output, one line on stdout:
 *   live_send: packets=N bytes=B seconds=S pps=P
 *
 * Build: cc -O2 -o live_send live_send.c -lpcap
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* sendmmsg */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr, "usage: live_send -i IF [-l LOOPS] [-r PPS] FILE.pcap\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *data;
	const char *ifname = NULL;
	unsigned long loops = 1, pps = 0;
	struct iovec *iov = NULL;
	struct mmsghdr msg[BATCH];
	struct sockaddr_ll sll;
	uint8_t *buf = NULL;
	size_t nframes = 0, cap_frames = 0, used = 0, cap_bytes = 0;
	size_t *off = NULL;
	uint64_t sent = 0, bytes = 0, t0, dt;
	pcap_t *p;
	int c, fd, one = 1;

	while ((c = getopt(argc, argv, "i:l:r:")) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'l': loops = strtoul(optarg, NULL, 10); break;
		case 'r': pps = strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (!ifname || optind + 1 != argc)
		usage();
	p = pcap_open_offline(argv[optind], errbuf);
	if (!p) {
		fprintf(stderr, "live_send: %s\n", errbuf);
		return 1;
	}
	while (pcap_next_ex(p, &ph, &data) == 1) {
		if (nframes == cap_frames) {
			cap_frames = cap_frames ? 2 * cap_frames : 65536;
			off = realloc(off, (cap_frames + 1) * sizeof(*off));
			if (!off)
				goto oom;
		}
		if (used + ph->caplen > cap_bytes) {
			cap_bytes = cap_bytes ? 2 * cap_bytes : (16u << 20);
			buf = realloc(buf, cap_bytes);
			if (!buf)
				goto oom;
		}
		memcpy(buf + used, data, ph->caplen);
		off[nframes++] = used;
		used += ph->caplen;
	}
	pcap_close(p);
	if (!nframes) {
		fprintf(stderr, "live_send: no frames in %s\n", argv[optind]);
		return 1;
	}
	off[nframes] = used;
	iov = calloc(nframes, sizeof(*iov));
	if (!iov)
		goto oom;
	for (size_t i = 0; i < nframes; i++) {
		iov[i].iov_base = buf + off[i];
		iov[i].iov_len = off[i + 1] - off[i];
	}

	fd = socket(AF_PACKET, SOCK_RAW, 0);	/* protocol 0: never receives */
	if (fd == -1) {
		perror("live_send: socket");
		return 1;
	}
	/* Straight to the driver: no qdisc, like trafgen's default. */
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		fprintf(stderr, "live_send: %s: %s\n", ifname, strerror(errno ? errno : ENODEV));
		return 1;
	}

	t0 = now_ns();
	for (unsigned long l = 0; l < loops; l++) {
		size_t i = 0;

		while (i < nframes) {
			unsigned n = nframes - i < BATCH ? (unsigned)(nframes - i) : BATCH, k;
			int r;

			for (k = 0; k < n; k++) {
				memset(&msg[k], 0, sizeof(msg[k]));
				msg[k].msg_hdr.msg_iov = &iov[i + k];
				msg[k].msg_hdr.msg_iovlen = 1;
			}
			r = sendmmsg(fd, msg, n, 0);
			if (r == -1) {
				if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
					continue;
				perror("live_send: sendmmsg");
				return 1;
			}
			for (k = 0; k < (unsigned)r; k++)
				bytes += iov[i + k].iov_len;
			i += (size_t)r;
			sent += (uint64_t)r;
			if (pps) {	/* behind the schedule: go on; ahead: wait for it */
				uint64_t due = t0 + sent * 1000000000ull / pps, now = now_ns();

				if (due > now) {
					struct timespec ts = { (time_t)((due - now) / 1000000000u),
							       (long)((due - now) % 1000000000u) };

					nanosleep(&ts, NULL);
				}
			}
		}
	}
	dt = now_ns() - t0;
	printf("live_send: packets=%llu bytes=%llu seconds=%.3f pps=%.0f\n",
	       (unsigned long long)sent, (unsigned long long)bytes, dt / 1e9,
	       dt ? sent * 1e9 / dt : 0.0);
	close(fd);
	free(iov);
	free(off);
	free(buf);
	return 0;
oom:
	fprintf(stderr, "live_send: out of memory\n");
	return 1;
}
