// SPDX-License-Identifier: BSD-2-Clause
/*
 * floor.c - the I/O floor of the benchmark: the least work any pcap-reading
 * flow tool must do.
 *
 * A bare libpcap loop (pcap_open_offline + pcap_next_ex) that reads every
 * packet of a file and touches its network header: it skips the link header
 * (and any 802.1Q / 802.1ad tags on Ethernet) and sums the IPv4 protocol or
 * IPv6 next-header byte, so the packet data is really loaded from memory.
 * bench/run.sh reports every tool's time as a multiple of this one.
 *
 * Output, one line on stdout:
 *   floor: packets=N bytes=B seconds=S ns_per_packet=X sum=Y
 *
 * Build: cc -O2 -o floor floor.c -lpcap
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define VLAN_MAX_DEPTH 8

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Offset of the network header, or -1 if the frame is not IP. */
static long l3_offset(int dlt, const uint8_t *p, uint32_t caplen)
{
	uint32_t off, type, depth;

	switch (dlt) {
	case DLT_EN10MB:
		off = 12;
		for (depth = 0; depth <= VLAN_MAX_DEPTH; depth++) {
			if (off + 2 > caplen)
				return -1;
			type = (uint32_t)p[off] << 8 | p[off + 1];
			if (type != 0x8100 && type != 0x88a8 && type != 0x9100)
				break;
			off += 4;
		}
		return type == 0x0800 || type == 0x86dd ? (long)off + 2 : -1;
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		return 0;
	case DLT_NULL:
	case DLT_LOOP:
		return 4;
	case DLT_LINUX_SLL:
		return 16;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		return 20;
#endif
	default:
		return -1;
	}
}

/* --buf64k: the stdio buffer flowcut gives libpcap (source_pcap.c), for a
 * floor with the same I/O pattern. The buffer lives until exit. */
static pcap_t *open_buf64k(const char *path, char *errbuf)
{
	static char buf[64 << 10];
	FILE *fp = fopen(path, "rb");

	if (!fp) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
		return NULL;
	}
	setvbuf(fp, buf, _IOFBF, sizeof(buf));
	return pcap_fopen_offline(fp, errbuf);
}

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t packets = 0, bytes = 0, sum = 0, t0, t1;
	pcap_t *pc;
	int dlt, rc;

	if (argc != 2 && !(argc == 3 && !strcmp(argv[1], "--buf64k"))) {
		fprintf(stderr, "usage: floor [--buf64k] FILE.pcap\n");
		return 2;
	}
	t0 = now_ns();
	pc = argc == 3 ? open_buf64k(argv[2], errbuf) : pcap_open_offline(argv[1], errbuf);
	if (!pc) {
		fprintf(stderr, "floor: %s\n", errbuf);
		return 1;
	}
	dlt = pcap_datalink(pc);
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		long off = l3_offset(dlt, data, h->caplen);

		packets++;
		bytes += h->caplen;
		if (off >= 0 && (uint32_t)off + 10 <= h->caplen) {
			const uint8_t *ip = data + off;

			sum += (ip[0] >> 4) == 6 ? ip[6] : ip[9];
		}
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "floor: %s: %s\n", argv[argc - 1], pcap_geterr(pc));
		pcap_close(pc);
		return 1;
	}
	pcap_close(pc);
	t1 = now_ns();
	printf("floor: packets=%llu bytes=%llu seconds=%.6f ns_per_packet=%.1f sum=%llu\n",
	       (unsigned long long)packets, (unsigned long long)bytes, (t1 - t0) / 1e9,
	       packets ? (double)(t1 - t0) / packets : 0.0, (unsigned long long)sum);
	return 0;
}
