// SPDX-License-Identifier: BSD-2-Clause
/*
 * cmd_capture.c - `flowcut capture -i IF`: flow records from live traffic to
 * the sinks (--sink, repeatable; default the SQLite store, -o FILE being
 * --sink json:FILE) until SIGINT/SIGTERM or --duration.
 *
 * Threads: one worker per AF_PACKET socket (a fanout group spreads flows over
 * them by a symmetric hash, so each flow lives on one worker); each worker
 * owns its engine and flow table, its flow ids start at index << 48. Workers
 * hand records to the exporter through their own lock-free ring (producer
 * index = worker index) and share, with -w, only the pcap writer (one mutex
 * around each frame). The exporter and each sink run on their own threads;
 * the /metrics server on another. The main thread owns signals (signalfd:
 * SIGHUP reopens the sinks' files, SIGINT/SIGTERM stop and flush every
 * sink), the once-a-second timer (timerfd) that reads the kernel counters
 * and logs drops, and --duration.
 *
 * Exit status: 0 after a clean stop, 1 when the capture cannot start or the
 * output cannot be written, 2 on a bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "flow_opts.h"
#include "export_cli.h"
#include "flowcut/afpacket.h"
#include "flowcut/engine.h"
#include "flowcut/metrics.h"
#include "capture_bypass.h"
#include "flowcut/pcap_writer.h"
#include "flowcut/record.h"

#define MAX_WORKERS 64
#define POLL_MS 100			/* how long a worker waits before checking stop / ticking */
#define BATCH_FRAMES 64			/* frames a worker takes from its ring at a time */
#define PUBLISH_EVERY_FRAMES 4096	/* check the /metrics publish cadence this often */
#define TICK_EVERY_NS (250 * 1000000ull)
#define STATS_LOG_EVERY_S 10
#define FLOW_ID_SHIFT 48

struct cap_opts {
	const char *ifname;
	const char *out;
	const char *stats;
	const char *filter;
	const char *pcap_out;
	unsigned workers;
	uint64_t duration_ns;		/* 0 = until a signal */
	bool promisc;
	bool quiet;
	uint32_t block_size, block_count;
	uint64_t block_timeout_ns;
	struct fc_engine_opts eng;
	struct fc_cli_export ex;
	char *out_sink;			/* "json:" + -o FILE */
	struct cap_bypass bp;		/* --bypass and its policies */
};


struct capture;

struct worker {
	unsigned idx;
	pthread_t tid;
	bool running;
	struct capture *cap;
	struct fc_afp *afp;
	struct fc_engine *eng;
	struct fc_afp_stats kstats;	/* main thread only */
	uint64_t frames;		/* worker only: for the metrics publish cadence */
	uint64_t publish_at_frames;	/* worker only: next cadence check */
	uint64_t last_publish_ns;	/* worker only */
	struct fc_bypass_worker bpw;	/* kernel bypass hooks (--bypass) */
};

struct capture {
	struct cap_opts o;
	struct fc_export *x;
	struct fc_metrics *metrics;
	pthread_mutex_t pcap_mu;
	struct fc_pcap_writer *pcap;
	int pcap_err;			/* under pcap_mu */
	struct worker *w;
	atomic_bool stop;
	atomic_bool down;		/* interface reported down, not yet seen back */
	uint64_t drain_ns;		/* how long workers keep reading after stop */
};

enum {
	OPT_STATS = 256, OPT_WORKERS,
	OPT_DURATION, OPT_PROMISC, OPT_BLOCK_SIZE, OPT_BLOCKS, OPT_BLOCK_TIMEOUT,
};

static const struct option cap_longopts[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "output", required_argument, NULL, 'o' },
	{ "filter", required_argument, NULL, 'f' },
	{ "write", required_argument, NULL, 'w' },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "promisc", no_argument, NULL, OPT_PROMISC },
	{ "block-size", required_argument, NULL, OPT_BLOCK_SIZE },
	{ "blocks", required_argument, NULL, OPT_BLOCKS },
	{ "block-timeout", required_argument, NULL, OPT_BLOCK_TIMEOUT },
	FC_CLI_FLOW_LONGOPTS,
	CAP_BYPASS_LONGOPTS,
	FC_CLI_EXPORT_LONGOPTS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void cap_usage(FILE *out)
{
	fputs("usage: flowcut capture -i IF [options]\n"
	      "  -i, --interface IF        capture on this interface (required)\n"
	      "  -o, --output FILE         JSON lines to FILE (= --sink json:FILE)\n"
	      "  -f, --filter EXPR         tcpdump filter expression, run in the kernel\n"
	      "  -w, --write FILE          also save every captured frame to a pcap file\n"
	      "      --stats FILE          write the final counters as JSON\n"
	      "  -q, --quiet               no periodic kernel-counter lines on stderr\n"
	      "      --workers N           capture threads in a fanout group (default 1)\n"
	      "      --duration DUR        stop after DUR (default: run until SIGINT/SIGTERM)\n"
	      "      --promisc             put the interface in promiscuous mode\n"
	      "      --block-size BYTES    ring block size, power of two (default 4M)\n"
	      "      --blocks N            ring blocks per worker (default 16)\n"
	      "      --block-timeout DUR   hand over a part-filled block after DUR (default 50ms)\n"
	      "      --idle-timeout DUR    idle timeout for every protocol (0 = off)\n"
	      "      --tcp-idle-timeout DUR   (default 300s)\n"
	      "      --udp-idle-timeout DUR   (default 60s)\n"
	      "      --other-idle-timeout DUR (default 60s)\n"
	      "      --active-timeout DUR  interim records for long flows (default 1800s, 0 = off)\n"
	      "      --tcp-close-grace DUR time a closed TCP flow still collects packets (default 5s)\n"
	      "      --max-flows N         flow table cap per worker (default 1048576)\n"
	      "      --no-vlan-key         do not tell flows apart by VLAN id\n"
	      "      --frag-timeout DUR    how long a first fragment is remembered (default 30s)\n"
	      "      --max-frags N         fragment table size per worker (default 8192)\n"
	      FC_CLI_EXPORT_USAGE
	      "                            (capture: default sink sqlite:, metrics on "
	      FC_CLI_DEFAULT_METRICS ")\n",
	      out);
}

static int parse_ring_opt(int c, const char *arg, struct cap_opts *o)
{
	uint64_t v;

	switch (c) {
	case OPT_WORKERS:
		if (fc_cli_parse_count("--workers", arg, &v))
			return -1;
		if (v < 1 || v > MAX_WORKERS) {
			fc_cli_error("--workers: %s is out of range (1 .. %d)", arg, MAX_WORKERS);
			return -1;
		}
		o->workers = (unsigned)v;
		return 0;
	case OPT_DURATION:
		if (fc_cli_parse_duration("--duration", arg, &o->duration_ns))
			return -1;
		if (!o->duration_ns) {
			fc_cli_error("--duration: must be more than 0");
			return -1;
		}
		return 0;
	case OPT_BLOCK_SIZE:
		if (fc_cli_parse_size("--block-size", arg, UINT32_MAX, &v))
			return -1;
		if (v < 4096 || v & (v - 1)) {
			fc_cli_error("--block-size: %s must be a power of two, at least 4k", arg);
			return -1;
		}
		o->block_size = (uint32_t)v;
		return 0;
	case OPT_BLOCKS:
		if (fc_cli_parse_count("--blocks", arg, &v))
			return -1;
		if (v < 2 || v > 65536) {
			fc_cli_error("--blocks: %s is out of range (2 .. 65536)", arg);
			return -1;
		}
		o->block_count = (uint32_t)v;
		return 0;
	case OPT_BLOCK_TIMEOUT:
		if (fc_cli_parse_duration("--block-timeout", arg, &o->block_timeout_ns))
			return -1;
		if (o->block_timeout_ns < 1000000 || o->block_timeout_ns > 60 * FC_NS_PER_SEC) {
			fc_cli_error("--block-timeout: %s is out of range (1ms .. 60s)", arg);
			return -1;
		}
		return 0;
	}
	return -1;
}

/* Returns 0, -1 on a usage error, or 1 when --help was printed. */
static int parse_cap_args(int argc, char **argv, struct cap_opts *o)
{
	int c, rc;

	o->workers = 1;
	fc_flowtab_opts__defaults(&o->eng.flow);
	if (fc_cli_export__config(&o->ex, "capture", cap_longopts, &argc, &argv))
		return -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:o:f:w:qh", cap_longopts, NULL)) != -1) {
		rc = fc_cli_export__opt(&o->ex, c, optarg);
		if (!rc)
			rc = fc_cli_flow_opt(c, optarg, &o->eng);
		if (rc < 0)
			return -1;
		if (rc)
			continue;
		switch (c) {
		case 'i': o->ifname = optarg; break;
		case 'o': o->out = optarg; break;
		case 'f': o->filter = optarg; break;
		case 'w': o->pcap_out = optarg; break;
		case 'q': o->quiet = true; break;
		case OPT_STATS: o->stats = optarg; break;
		case OPT_PROMISC: o->promisc = true; break;
		case 'h': cap_usage(stdout); return 1;
		case '?': cap_usage(stderr); return -1;
		default:
			if (c >= CAP_BYPASS_OPT_BASE) {
				if (cap_bypass_parse_opt(&o->bp, c, optarg))
					return -1;
				break;
			}
			if (parse_ring_opt(c, optarg, o))
				return -1;
		}
	}
	if (optind != argc) {
		fc_cli_error("capture: unexpected argument '%s'", argv[optind]);
		cap_usage(stderr);
		return -1;
	}
	if (!o->ifname) {
		fc_cli_error("capture: no interface given (-i IF)");
		cap_usage(stderr);
		return -1;
	}
	if (o->out) {	/* -o FILE: one more sink, json:FILE */
		size_t len = strlen(o->out) + 6;

		o->out_sink = malloc(len);
		if (!o->out_sink) {
			fc_cli_error("out of memory");
			return -1;
		}
		snprintf(o->out_sink, len, "json:%s", o->out);
		if (fc_cli_export__opt(&o->ex, FC_CLI_OPT_SINK, o->out_sink) < 0)
			return -1;
	}
	return 0;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * FC_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Worker thread: a copy of its counters for /metrics, about once a second. */
static void publish(struct worker *w)
{
	uint64_t now;

	if (!w->cap->metrics)
		return;
	now = fc_cli_now_ns();
	if (now - w->last_publish_ns < FC_NS_PER_SEC)
		return;
	w->last_publish_ns = now;
	fc_engine__drain(w->eng);
	fc_metrics__publish(w->cap->metrics, w->idx, fc_engine__stats(w->eng),
			    fc_engine__flow_stats(w->eng));
}

/* A batch of frames from one ring block: one lock for -w, then the engine. */
static void handle_frames(struct worker *w, const struct fc_frame *f, int n)
{
	struct capture *cap = w->cap;
	int i;

	if (cap->pcap) {
		pthread_mutex_lock(&cap->pcap_mu);
		for (i = 0; i < n && !cap->pcap_err; i++)
			cap->pcap_err = fc_pcap_writer__write(cap->pcap, f[i].ts_ns, f[i].data,
							      f[i].caplen, f[i].wirelen);
		pthread_mutex_unlock(&cap->pcap_mu);
	}
	for (i = 0; i < n; i++)
		fc_engine__frame(w->eng, &f[i], false);
}

static void note_error(struct worker *w, int rc, uint64_t *last_log_ns)
{
	struct capture *cap = w->cap;
	uint64_t now = fc_cli_now_ns();

	if (rc == -ENETDOWN) {
		if (!atomic_exchange(&cap->down, true))
			fc_cli_warn("%s: interface went down; still capturing, waiting for it to "
				    "come back", cap->o.ifname);
		return;
	}
	if (now - *last_log_ns >= FC_NS_PER_SEC) {	/* never fatal, at most one line a second */
		fc_cli_warn("%s: worker %u: %s", cap->o.ifname, w->idx, strerror(-rc));
		*last_log_ns = now;
	}
	usleep(POLL_MS * 1000);	/* the error may repeat at once: do not spin */
}

/*
 * Idle flows must end even when nothing arrives, so the engine's clock is
 * moved on by the wall clock. It lags by the drain time: a block the kernel
 * has not handed over yet may still hold older frames.
 */
static void tick(struct worker *w, uint64_t *last_tick_ns)
{
	uint64_t now = realtime_ns();

	if (now - *last_tick_ns < TICK_EVERY_NS)
		return;
	*last_tick_ns = now;
	fc_engine__tick(w->eng, now - w->cap->drain_ns);
}

/* After stop: take what the kernel already has, bounded by drain_ns. */
static void drain(struct worker *w)
{
	uint64_t deadline = fc_cli_now_ns() + w->cap->drain_ns;
	struct fc_frame f[BATCH_FRAMES];
	int n;

	for (;;) {
		uint64_t now = fc_cli_now_ns();
		int wait_ms = now < deadline ? (int)((deadline - now) / 1000000) + 1 : 0;

		n = fc_afp__next_batch(w->afp, f, BATCH_FRAMES, wait_ms);
		if (n <= 0)
			break;
		handle_frames(w, f, n);
		if (now > deadline)
			break;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct capture *cap = w->cap;
	uint64_t last_tick = 0, last_log = 0;
	struct fc_frame f[BATCH_FRAMES];
	int rc;

	/* Everything but the engine runs once per batch, not once per frame. */
	while (!atomic_load_explicit(&cap->stop, memory_order_relaxed)) {
		rc = fc_afp__next_batch(w->afp, f, BATCH_FRAMES, POLL_MS);
		if (rc > 0) {
			if (atomic_load_explicit(&cap->down, memory_order_relaxed) &&
			    atomic_exchange(&cap->down, false))
				fc_cli_warn("%s: traffic again after the interface was down",
					    cap->o.ifname);
			handle_frames(w, f, rc);
			cap_bypass_service(&cap->o.bp, w->idx, false);
			w->frames += (uint64_t)rc;
			if (w->frames >= w->publish_at_frames) {
				w->publish_at_frames = w->frames + PUBLISH_EVERY_FRAMES;
				publish(w);
			}
			continue;
		}
		if (rc < 0)
			note_error(w, rc, &last_log);
		tick(w, &last_tick);
		cap_bypass_service(&cap->o.bp, w->idx, true);
		publish(w);
	}
	drain(w);
	fc_engine__finish(w->eng, FC_END_SHUTDOWN);
	w->last_publish_ns = 0;
	publish(w);
	return NULL;
}

static int open_workers(struct capture *cap)
{
	const struct cap_opts *o = &cap->o;
	struct fc_afp_opts ao = {
		.ifname = o->ifname,
		.filter = o->filter,
		.block_size = o->block_size,
		.block_count = o->block_count,
		.block_timeout_ms = (uint32_t)(o->block_timeout_ns / 1000000),
		/* The group is per network namespace; the pid keeps two captures apart. */
		.fanout_id = o->workers > 1 ? (int)(getpid() & 0xffff) : -1,
		.promisc = o->promisc,
	};
	char err[512];
	unsigned i;
	int rc;

	for (i = 0; i < o->workers; i++) {
		struct worker *w = &cap->w[i];

		w->idx = i;
		w->cap = cap;
		rc = fc_afp__open(&ao, &w->afp, err, sizeof(err));
		if (rc) {
			fc_cli_error("%s", err);
			return rc == -EINVAL && strstr(err, "filter") ? FC_EXIT_USAGE : FC_EXIT_FAIL;
		}
	}
	/* Sinks open once the sockets are known to work: a bad interface touches no store. */
	cap->x = fc_cli_export__open(&cap->o.ex, o->workers, false, "sqlite:");
	if (!cap->x)
		return FC_EXIT_FAIL;
	for (i = 0; i < o->workers; i++) {
		struct worker *w = &cap->w[i];
		struct fc_engine_opts eo = o->eng;

		eo.flow.emit = fc_export__emit_cb;
		eo.flow.defer_community_id = true;	/* the exporter thread computes it */
		eo.flow.emit_ctx = fc_export__producer(cap->x, i);
		eo.flow.flow_id_base = (uint64_t)i << FLOW_ID_SHIFT;
		if (cap_bypass_worker(&cap->o.bp, o->ifname, o->eng.flow.no_vlan_key, &w->bpw, w->afp, i,
				      &eo.flow))
			return FC_EXIT_FAIL;
		w->eng = fc_engine__new(&eo);
		if (!w->eng) {
			fc_cli_error("cannot create the flow table (--max-flows %u): %s",
				     eo.flow.max_flows, strerror(errno));
			return FC_EXIT_FAIL;
		}
		cap_bypass_table(&cap->o.bp, i, fc_engine__flowtab(w->eng), o->workers);
	}
	return FC_EXIT_OK;
}

static void read_kernel_stats(struct capture *cap, struct fc_afp_stats *sum)
{
	unsigned i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < cap->o.workers; i++) {
		struct worker *w = &cap->w[i];

		fc_afp__read_stats(w->afp, &w->kstats);
		sum->packets += w->kstats.packets;
		sum->drops += w->kstats.drops;
		sum->freezes += w->kstats.freezes;
	}
}

static void log_kernel_stats(const struct capture *cap, const struct fc_afp_stats *k)
{
	fprintf(stderr, "flowcut: %s: kernel_packets=%llu kernel_drops=%llu kernel_freezes=%llu\n",
		cap->o.ifname, (unsigned long long)k->packets, (unsigned long long)k->drops,
		(unsigned long long)k->freezes);
}

static void flush_output(struct capture *cap)
{
	if (cap->pcap) {
		pthread_mutex_lock(&cap->pcap_mu);
		if (!cap->pcap_err)
			cap->pcap_err = fc_pcap_writer__flush(cap->pcap);
		pthread_mutex_unlock(&cap->pcap_mu);
	}
}

static int arm_timer(uint64_t first_ns, uint64_t every_ns)
{
	struct itimerspec its = {
		.it_value = { (time_t)(first_ns / FC_NS_PER_SEC), (long)(first_ns % FC_NS_PER_SEC) },
		.it_interval = { (time_t)(every_ns / FC_NS_PER_SEC),
				 (long)(every_ns % FC_NS_PER_SEC) },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd == -1)
		return -1;
	if (timerfd_settime(fd, 0, &its, NULL) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The main thread's loop: returns when a signal or --duration says stop. */
static int main_loop(struct capture *cap, int sig_fd)
{
	struct pollfd pfd[4];
	struct fc_afp_stats k;
	uint64_t last_drops = 0, ticks = 0, expirations;
	int tick_fd, dur_fd = -1, n, rc = 0;

	tick_fd = arm_timer(FC_NS_PER_SEC, FC_NS_PER_SEC);
	if (tick_fd < 0) {
		fc_cli_error("timerfd: %s", strerror(errno));
		return -1;
	}
	if (cap->o.duration_ns) {
		dur_fd = arm_timer(cap->o.duration_ns, 0);
		if (dur_fd < 0) {
			fc_cli_error("timerfd: %s", strerror(errno));
			close(tick_fd);
			return -1;
		}
	}
	pfd[0] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = tick_fd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = dur_fd, .events = POLLIN };
	pfd[3] = (struct pollfd){ .fd = cap_bypass_ctl_fd(&cap->o.bp), .events = POLLIN };
	for (;;) {
		n = poll(pfd, 4, -1);	/* negative fds are skipped */
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fc_cli_error("poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (pfd[0].revents) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {	/* logrotate: sinks reopen their files */
				if (!cap->o.quiet)
					fprintf(stderr, "flowcut: %s: hangup, reopening sink outputs\n",
						cap->o.ifname);
				fc_export__reopen(cap->x);
				continue;
			}
			if (!cap->o.quiet)
				fprintf(stderr, "flowcut: %s: %s, stopping\n", cap->o.ifname,
					strsignal((int)si.ssi_signo));
			break;
		}
		if (dur_fd >= 0 && pfd[2].revents)
			break;
		if (pfd[3].revents)	/* flowcut bypass / block */
			cap_bypass_ctl_serve(&cap->o.bp);
		if (pfd[1].revents && read(tick_fd, &expirations, sizeof(expirations)) > 0) {
			read_kernel_stats(cap, &k);
			fc_metrics__publish_kernel(cap->metrics, k.packets, k.drops, k.freezes);
			if (k.drops > last_drops)
				fc_cli_warn("%s: kernel dropped %llu packets (total %llu): the ring is "
					    "full; try --workers, --blocks or --block-size",
					    cap->o.ifname, (unsigned long long)(k.drops - last_drops),
					    (unsigned long long)k.drops);
			last_drops = k.drops;
			if (!cap->o.quiet && ++ticks % STATS_LOG_EVERY_S == 0)
				log_kernel_stats(cap, &k);
			flush_output(cap);
		}
	}
	close(tick_fd);
	if (dur_fd >= 0)
		close(dur_fd);
	return rc;
}

static int start_workers(struct capture *cap)
{
	unsigned i;
	int rc;

	for (i = 0; i < cap->o.workers; i++) {
		rc = pthread_create(&cap->w[i].tid, NULL, worker_main, &cap->w[i]);
		if (rc) {
			fc_cli_error("cannot start worker %u: %s", i, strerror(rc));
			return -1;
		}
		cap->w[i].running = true;
	}
	return 0;
}

static void stop_workers(struct capture *cap)
{
	unsigned i;

	atomic_store(&cap->stop, true);
	for (i = 0; i < cap->o.workers; i++) {
		if (cap->w[i].running)
			pthread_join(cap->w[i].tid, NULL);
		cap->w[i].running = false;
	}
}

/* The "workers" array and kernel totals, as members for the --stats object. */
static char *kernel_members(const struct capture *cap, const struct fc_afp_stats *k)
{
	size_t cap_len = 256 + CAP_BYPASS_MEMBERS_MAX + (size_t)cap->o.workers * 320, len = 0;
	char *s = malloc(cap_len);
	unsigned i;

	if (!s)
		return NULL;
	len += cap_bypass_members(&cap->o.bp, s, cap_len);
	len += (size_t)snprintf(s + len, cap_len - len,
				"\"kernel_packets\":%llu,\"kernel_drops\":%llu,"
				"\"kernel_freezes\":%llu,\"workers\":[",
				(unsigned long long)k->packets, (unsigned long long)k->drops,
				(unsigned long long)k->freezes);
	for (i = 0; i < cap->o.workers && len < cap_len; i++) {
		const struct worker *w = &cap->w[i];
		const struct fc_stats *st = fc_engine__stats(w->eng);
		const struct fc_flowtab_stats *fs = fc_engine__flow_stats(w->eng);
		uint64_t records = 0;
		unsigned r;

		for (r = 0; r < FC_END__COUNT; r++)
			records += fs->records[r];
		len += (size_t)snprintf(s + len, cap_len - len,
					"%s{\"worker\":%u,\"packets_read\":%llu,\"bytes_read\":%llu,"
					"\"flows_created\":%llu,\"records\":%llu,"
					"\"kernel_packets\":%llu,\"kernel_drops\":%llu,"
					"\"kernel_freezes\":%llu}",
					i ? "," : "", i, (unsigned long long)st->packets_read,
					(unsigned long long)st->bytes_read,
					(unsigned long long)fs->flows_created,
					(unsigned long long)records,
					(unsigned long long)w->kstats.packets,
					(unsigned long long)w->kstats.drops,
					(unsigned long long)w->kstats.freezes);
	}
	if (len + 2 > cap_len) {
		free(s);
		errno = ENOSPC;
		return NULL;
	}
	memcpy(s + len, "]", 2);
	return s;
}

static int write_stats(const struct capture *cap, const struct fc_afp_stats *k, uint64_t t0)
{
	struct fc_stats_extra ex = {
		.source = cap->o.ifname,
		.elapsed_s = (double)(fc_cli_now_ns() - t0) / 1e9,
	};
	struct fc_flowtab_stats fs = { 0 };
	struct fc_stats st = { 0 };
	char *members, *sinks;
	unsigned i;
	FILE *f;
	int err;

	if (!cap->o.stats)
		return 0;
	for (i = 0; i < cap->o.workers; i++) {
		fc_stats__merge(&st, fc_engine__stats(cap->w[i].eng));
		fc_stats__merge_flows(&fs, fc_engine__flow_stats(cap->w[i].eng));
	}
	members = kernel_members(cap, k);
	sinks = members ? fc_cli_export__stats_members(cap->x) : NULL;
	if (sinks) {
		size_t len = strlen(members) + strlen(sinks) + 2;
		char *both = malloc(len);

		if (both)
			snprintf(both, len, "%s,%s", members, sinks);
		free(sinks);
		free(members);
		members = both;
	} else {
		free(members);
		members = NULL;
	}
	if (!members) {
		fc_cli_error("--stats %s: %s", cap->o.stats, strerror(errno ? errno : ENOMEM));
		return -1;
	}
	f = strcmp(cap->o.stats, "-") ? fopen(cap->o.stats, "w") : stdout;
	if (!f) {
		fc_cli_error("--stats %s: %s", cap->o.stats, strerror(errno));
		free(members);
		return -1;
	}
	err = fc_stats__write_json_ext(&st, &fs, &ex, members, f);
	free(members);
	if (f != stdout && fclose(f) && !err)
		err = -errno;
	if (err) {
		fc_cli_error("--stats %s: %s", cap->o.stats, strerror(-err));
		return -1;
	}
	return 0;
}

static void free_workers(struct capture *cap)
{
	unsigned i;

	for (i = 0; i < cap->o.workers; i++) {
		fc_engine__free(cap->w[i].eng);
		fc_afp__close(cap->w[i].afp);
	}
	free(cap->w);
}

/* Route SIGINT/SIGTERM to a signalfd; done before any thread starts so all inherit the mask. */
static int block_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	return fd;
}

static int finish_output(struct capture *cap, int rc)
{
	int err;

	if (cap->pcap) {
		err = fc_pcap_writer__close(cap->pcap);
		if (!cap->pcap_err)
			cap->pcap_err = err;
		cap->pcap = NULL;
		if (cap->pcap_err) {
			fc_cli_error("-w %s: %s", cap->o.pcap_out, strerror(-cap->pcap_err));
			rc = FC_EXIT_FAIL;
		}
	}
	/* SIGTERM path: every sink delivers (or spools, and says so) before exit */
	if (fc_cli_export__close(cap->x))
		rc = FC_EXIT_FAIL;
	return rc;
}

/* Metrics on by default: an explicit --metrics that cannot bind is fatal, the default is not. */
static int start_metrics(struct capture *cap)
{
	const struct fc_cli_export *ex = &cap->o.ex;
	char err[512];

	if (ex->no_metrics)
		return 0;
	cap->metrics = fc_metrics__start(ex->metrics ? ex->metrics : FC_CLI_DEFAULT_METRICS,
					 cap->o.workers, cap->x, err, sizeof(err));
	if (cap->metrics)
		return 0;
	if (ex->metrics) {
		fc_cli_error("--metrics: %s", err);
		return -1;
	}
	fc_cli_warn("%s; running without /metrics (see --metrics, --no-metrics)", err);
	return 0;
}

int fc_cmd_capture(int argc, char **argv)
{
	struct capture *cap;
	struct fc_afp_stats k;
	uint64_t t0 = fc_cli_now_ns();
	int rc = FC_EXIT_OK, prc, sig_fd = -1;

	cap = calloc(1, sizeof(*cap));
	if (!cap) {
		fc_cli_error("out of memory");
		return FC_EXIT_FAIL;
	}
	prc = parse_cap_args(argc, argv, &cap->o);
	if (prc) {
		rc = prc > 0 ? FC_EXIT_OK : FC_EXIT_USAGE;
		goto out_opts;
	}
	pthread_mutex_init(&cap->pcap_mu, NULL);
	cap->drain_ns = 2 * (cap->o.block_timeout_ns ? cap->o.block_timeout_ns :
				FC_AFP_DEFAULT_BLOCK_TIMEOUT_MS * 1000000ull) + 20 * 1000000ull;
	cap->w = calloc(cap->o.workers, sizeof(*cap->w));
	sig_fd = block_signals();
	if (!cap->w || sig_fd < 0) {
		fc_cli_error("cannot set up: %s", strerror(errno));
		rc = FC_EXIT_FAIL;
		goto out_free;
	}
	rc = open_workers(cap);
	if (rc)
		goto out_workers;
	if (start_metrics(cap)) {
		rc = FC_EXIT_FAIL;
		goto out_workers;
	}
	if (cap->o.pcap_out) {
		cap->pcap = fc_pcap_writer__open(cap->o.pcap_out, fc_afp__linktype(cap->w[0].afp),
						 FC_AFP_FILTER_SNAPLEN, false);
		if (!cap->pcap) {
			fc_cli_error("-w %s: %s", cap->o.pcap_out, strerror(errno));
			rc = FC_EXIT_FAIL;
			goto out_workers;
		}
	}
	if (start_workers(cap) == 0) {
		/* Every socket is bound: tests and scripts wait for this line. */
		fprintf(stderr, "flowcut: capturing on %s (%u worker%s)\n", cap->o.ifname,
			cap->o.workers, cap->o.workers == 1 ? "" : "s");
		if (main_loop(cap, sig_fd))
			rc = FC_EXIT_FAIL;
	} else {
		rc = FC_EXIT_FAIL;
	}
	stop_workers(cap);
	read_kernel_stats(cap, &k);
	fc_metrics__publish_kernel(cap->metrics, k.packets, k.drops, k.freezes);
	if (!cap->o.quiet)
		log_kernel_stats(cap, &k);
	rc = finish_output(cap, rc);
	if (write_stats(cap, &k, t0))
		rc = FC_EXIT_FAIL;
out_workers:
	fc_pcap_writer__close(cap->pcap);
	fc_metrics__stop(cap->metrics);
	fc_export__free(cap->x);	/* workers never started: closes (and spools) here */
	free_workers(cap);
	cap_bypass_close(&cap->o.bp);
out_free:
	if (sig_fd >= 0)
		close(sig_fd);
	pthread_mutex_destroy(&cap->pcap_mu);
out_opts:
	free(cap->o.out_sink);
	fc_cli_export__fini(&cap->o.ex);
	free(cap);
	return rc;
}
