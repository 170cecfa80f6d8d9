// SPDX-License-Identifier: BSD-2-Clause
/*
 * capture_ctl.c - the control socket of `flowcut capture --bypass ...`: a
 * UNIX stream socket (default /run/flowcut/<ifname>.sock, mode 0600, and
 * only the same user or root may talk to it), served by the capture's main
 * thread one client at a time. A client sends one line and reads the answer
 * until EOF: "ok" or "error: why", then data lines (the protocol of
 * `flowcut bypass` and `flowcut block`, see cmd_bypass.c and flowcut(1)).
 *
 *   list | add PROTO A:PORT B:PORT | del PROTO A:PORT B:PORT | flush
 *   block-add CIDR | block-del CIDR | block-list
 *
 * Map reads and block list changes happen here; whatever touches a flow
 * table (claiming a flow a manual add names, ending a bypass) is handed to
 * the workers through cap_bypass_ask(), since each table belongs to one
 * worker thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "capture_bypass.h"
#include "cli.h"

#define ASK_TIMEOUT_S 3
#define REPLY_MAX (1u << 20)

int cap_bypass_ctl_open(struct cap_bypass *bp, const char *ifname)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, n;

	bp->ifname = ifname;
	if (!bp->mu_init) {
		pthread_mutex_init(&bp->mu, NULL);
		pthread_cond_init(&bp->cv, NULL);
		bp->mu_init = true;
	}
	if (bp->ctl_opt && !*bp->ctl_opt)
		return 0;	/* --bypass-control "": none */
	if (bp->ctl_opt) {
		n = snprintf(bp->ctl_path, sizeof(bp->ctl_path), "%s", bp->ctl_opt);
	} else {
		if (mkdir(CAP_BYPASS_CTL_DIR, 0700) == -1 && errno != EEXIST) {
			fc_cli_error("bypass: cannot create %s: %s (--bypass-control PATH, or \"\" for "
				     "none)", CAP_BYPASS_CTL_DIR, strerror(errno));
			return -1;
		}
		n = snprintf(bp->ctl_path, sizeof(bp->ctl_path), "%s/%s.sock", CAP_BYPASS_CTL_DIR, ifname);
	}
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		fc_cli_error("bypass: control socket path too long");
		return -1;
	}
	memcpy(sa.sun_path, bp->ctl_path, (size_t)n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		fc_cli_error("bypass: control socket: %s", strerror(errno));
		return -1;
	}
	/* A socket file nobody answers on is a leftover of a run that died. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN) {
		fc_cli_error("bypass: %s: another flowcut capture is serving it", bp->ctl_path);
		close(fd);
		return -1;
	}
	close(fd);
	(void)unlink(bp->ctl_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		fc_cli_error("bypass: control socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);	/* owner-only from the start, not after a chmod */
	n = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (n == -1 || listen(fd, 8) == -1) {
		fc_cli_error("bypass: control socket %s: %s", bp->ctl_path, strerror(errno));
		close(fd);
		return -1;
	}
	bp->ctl_fd = fd;
	bp->ctl_open = true;
	return 0;
}

void cap_bypass_ctl_close(struct cap_bypass *bp)
{
	if (bp->ctl_open) {
		close(bp->ctl_fd);
		(void)unlink(bp->ctl_path);
		bp->ctl_open = false;
	}
	if (bp->mu_init) {
		pthread_mutex_destroy(&bp->mu);
		pthread_cond_destroy(&bp->cv);
		bp->mu_init = false;
	}
}

int cap_bypass_ctl_fd(const struct cap_bypass *bp)
{
	return bp->ctl_open ? bp->ctl_fd : -1;
}

int cap_bypass_ask(struct cap_bypass *bp, uint64_t mask, int op, const struct fc_flow_rec *id)
{
	struct timespec dl;
	unsigned i;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ASK_TIMEOUT_S;
	pthread_mutex_lock(&bp->mu);
	bp->req_op = op;
	if (id)
		bp->req_id = *id;
	for (i = 0; i < bp->nworkers; i++)
		bp->req_res[i] = -ENOENT;
	atomic_store(&bp->pending, mask);
	while (atomic_load(&bp->pending) && rc == 0)
		rc = pthread_cond_timedwait(&bp->cv, &bp->mu, &dl);
	if (atomic_load(&bp->pending)) {
		atomic_store(&bp->pending, 0);
		rc = -ETIMEDOUT;
	} else {
		rc = 0;
	}
	pthread_mutex_unlock(&bp->mu);
	return rc;
}

/* ---- replies -------------------------------------------------------- */

struct reply {
	char *s;
	size_t len, cap;
	bool full;
};

static void __attribute__((format(printf, 2, 3))) say(struct reply *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->full)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(r->s ? r->s + r->len : NULL, r->s ? r->cap - r->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			r->full = true;
			return;
		}
		if (r->s && (size_t)n < r->cap - r->len) {
			r->len += (size_t)n;
			return;
		}
		if (r->cap >= REPLY_MAX) {
			r->full = true;
			return;
		}
		{
			size_t nc = r->cap ? r->cap * 2 : 4096;
			char *p = realloc(r->s, nc);

			if (!p) {
				r->full = true;
				return;
			}
			r->s = p;
			r->cap = nc;
		}
	}
}

static void fmt_ep(char *out, size_t cap, int family, const struct fc_addr *a, uint16_t port)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(family == 4 ? AF_INET : AF_INET6, a->b, s, sizeof(s));
	snprintf(out, cap, family == 4 ? "%s:%u" : "[%s]:%u", s, port);
}

static int list_one(void *ctx, const struct fc_bypass_entry *e)
{
	struct reply *r = ctx;
	char a[64], b[64];
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * FC_NS_PER_SEC + (uint64_t)ts.tv_nsec;
	fmt_ep(a, sizeof(a), e->id.family, &e->id.src, e->id.sport);
	fmt_ep(b, sizeof(b), e->id.family, &e->id.dst, e->id.dport);
	say(r, "%s %s %s pkts=%llu bytes=%llu rpkts=%llu rbytes=%llu age=%.1fs idle=%.1fs owner=%u\n",
	    e->id.proto == 6 ? "tcp" : "udp", a, b, (unsigned long long)e->k.pkts[0],
	    (unsigned long long)e->k.bytes[0], (unsigned long long)e->k.pkts[1],
	    (unsigned long long)e->k.bytes[1],
	    e->start_ns && now > e->start_ns ? (double)(now - e->start_ns) / 1e9 : 0.0,
	    (double)e->idle_ns / 1e9, e->owner);
	return 0;
}

/* "10.0.0.1:443" or "[2001:db8::1]:443" */
static int parse_ep(const char *s, uint8_t *family, struct fc_addr *a, uint16_t *port)
{
	char buf[80], *colon, *host = buf, *end;
	unsigned long p;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if (*host == '[') {
		colon = strchr(host, ']');
		if (!colon || colon[1] != ':')
			return -1;
		*colon = '\0';
		host++;
		colon++;
	} else {
		colon = strrchr(host, ':');
		if (!colon)
			return -1;
	}
	*colon = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, host, a->b) == 1)
		*family = 4;
	else if (inet_pton(AF_INET6, host, a->b) == 1)
		*family = 6;
	else
		return -1;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || p > 65535)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

/* "tcp A:P B:P" -> a record identity (src = A, the initiator). */
static int parse_flow(char *args, struct fc_flow_rec *id)
{
	char *proto = strtok(args, " \t"), *a = strtok(NULL, " \t"), *b = strtok(NULL, " \t");
	uint8_t fa, fb;

	memset(id, 0, sizeof(*id));
	if (!proto || !a || !b || strtok(NULL, " \t"))
		return -1;
	if (!strcmp(proto, "tcp") || !strcmp(proto, "6"))
		id->proto = 6;
	else if (!strcmp(proto, "udp") || !strcmp(proto, "17"))
		id->proto = 17;
	else
		return -1;
	if (parse_ep(a, &fa, &id->src, &id->sport) || parse_ep(b, &fb, &id->dst, &id->dport) || fa != fb)
		return -1;
	id->family = fa;
	return 0;
}

static uint64_t all_workers(const struct cap_bypass *bp)
{
	return bp->nworkers >= 64 ? ~0ull : (1ull << bp->nworkers) - 1;
}

static void cmd_add(struct cap_bypass *bp, char *args, struct reply *r)
{
	struct fc_flow_rec id;
	unsigned i, h = 0;
	int err;

	if (parse_flow(args, &id)) {
		say(r, "error: usage: add tcp|udp ADDR:PORT ADDR:PORT\n");
		return;
	}
	err = fc_bypass__add(bp->b, &id, 0);
	if (err == -EEXIST) {
		say(r, "error: the flow is already bypassed\n");
		return;
	}
	if (err) {
		say(r, "error: %s%s\n", strerror(-err),
		    err == -E2BIG  ? " (the flow table is full: --bypass-max-entries)" :
		    err == -ENOSPC ? " (no free slot in this flow's probe window: --bypass-max-entries)" :
				     "");
		return;
	}
	/* The entry counts from now on; the worker that has the flow folds it in. */
	if (cap_bypass_ask(bp, all_workers(bp), CAP_BP_OP_CLAIM, &id)) {
		say(r, "error: a worker did not answer\n");
		return;
	}
	for (i = 0; i < bp->nworkers; i++)
		if (bp->req_res[i] == 0 || bp->req_res[i] == -EEXIST) {
			say(r, "ok\nadded, flow on worker %u\n", i);
			return;
		}
	/* No worker has the flow: one takes it, so its idle end emits a record. */
	for (i = 0; i < 16; i++)
		h = h * 31 + (unsigned)(id.src.b[i] ^ id.dst.b[i]);
	h += (unsigned)(id.sport ^ id.dport);
	h %= bp->nworkers;
	if (cap_bypass_ask(bp, 1ull << h, CAP_BP_OP_ADOPT, &id) || bp->req_res[h]) {
		say(r, "ok\nadded (no worker could take the flow: map GC will end it)\n");
		return;
	}
	say(r, "ok\nadded, new flow on worker %u\n", h);
}

static void cmd_del(struct cap_bypass *bp, char *args, struct reply *r)
{
	struct fc_bypass_entry e;
	struct fc_flow_rec id;
	unsigned i;
	int err;

	if (parse_flow(args, &id)) {
		say(r, "error: usage: del tcp|udp ADDR:PORT ADDR:PORT\n");
		return;
	}
	if (cap_bypass_ask(bp, all_workers(bp), CAP_BP_OP_DROP, &id)) {
		say(r, "error: a worker did not answer\n");
		return;
	}
	for (i = 0; i < bp->nworkers; i++)
		if (bp->req_res[i] == 0) {
			say(r, "ok\nremoved, the flow stays on worker %u (counts kept)\n", i);
			return;
		}
	err = fc_bypass__del(bp->b, &id, &e);
	if (err == -ENOENT) {
		say(r, "error: no such entry\n");
		return;
	}
	if (err) {
		say(r, "error: %s\n", strerror(-err));
		return;
	}
	say(r, "ok\nremoved an entry no flow owned: pkts=%llu bytes=%llu rpkts=%llu rbytes=%llu\n",
	    (unsigned long long)e.k.pkts[0], (unsigned long long)e.k.bytes[0],
	    (unsigned long long)e.k.pkts[1], (unsigned long long)e.k.bytes[1]);
}

static void cmd_flush(struct cap_bypass *bp, struct reply *r)
{
	long released = 0, rest;
	unsigned i;

	if (cap_bypass_ask(bp, all_workers(bp), CAP_BP_OP_RELEASE, NULL)) {
		say(r, "error: a worker did not answer\n");
		return;
	}
	for (i = 0; i < bp->nworkers; i++)
		if (bp->req_res[i] > 0)
			released += bp->req_res[i];
	rest = fc_bypass__flush(bp->b);
	if (rest < 0) {
		say(r, "error: %s\n", strerror((int)-rest));
		return;
	}
	say(r, "ok\nflushed %ld entries (%ld of live flows, whose counts stay in userspace)\n",
	    released + rest, released);
}

static void handle(struct cap_bypass *bp, char *line, struct reply *r)
{
	char *cmd = line, *args;
	int err;

	args = cmd + strcspn(cmd, " \t");
	if (*args)
		*args++ = '\0';
	if (!strcmp(cmd, "list")) {
		say(r, "ok\n");
		err = fc_bypass__foreach(bp->b, list_one, r);
		(void)err;
	} else if (!strcmp(cmd, "add")) {
		cmd_add(bp, args, r);
	} else if (!strcmp(cmd, "del")) {
		cmd_del(bp, args, r);
	} else if (!strcmp(cmd, "flush")) {
		cmd_flush(bp, r);
	} else if (!strcmp(cmd, "block-add") || !strcmp(cmd, "block-del")) {
		err = cmd[6] == 'a' ? fc_bypass__block_add(bp->b, args) : fc_bypass__block_del(bp->b, args);
		if (err == -EINVAL)
			say(r, "error: '%s' is not an address/prefix\n", args);
		else if (err == -ENOENT)
			say(r, "error: %s is not in the block list\n", args);
		else if (err)
			say(r, "error: %s\n", strerror(-err));
		else
			say(r, "ok\n");
	} else if (!strcmp(cmd, "block-list")) {
		char *buf = malloc(REPLY_MAX);

		if (!buf || (err = fc_bypass__block_list(bp->b, buf, REPLY_MAX)) < 0)
			say(r, "error: %s\n", buf ? strerror(-err) : "out of memory");
		else
			say(r, "ok\n%s", buf);
		free(buf);
	} else {
		say(r, "error: unknown request '%s'\n", cmd);
	}
}

/* The same user as the capture, or root. */
static bool peer_allowed(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return false;
	return uc.uid == 0 || uc.uid == geteuid();
}

void cap_bypass_ctl_serve(struct cap_bypass *bp)
{
	struct timeval tv = { .tv_sec = 1 };
	struct reply r = { 0 };
	char line[512];
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = accept4(bp->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd == -1)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!peer_allowed(fd)) {
		say(&r, "error: permission denied\n");
		goto send;
	}
	/* one request line; a client that sends nothing for a second is dropped */
	while (got < sizeof(line) - 1) {
		n = read(fd, line + got, sizeof(line) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(line, '\n', got))
			break;
	}
	line[got] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (!memchr(line, '\0', got) && got == sizeof(line) - 1)
		say(&r, "error: request too long\n");
	else
		handle(bp, line, &r);
	if (r.full)
		say(&r, "error: reply too large\n");
send:
	for (size_t off = 0; r.s && off < r.len; off += (size_t)n) {
		n = write(fd, r.s + off, r.len - off);
		if (n <= 0)
			break;
	}
	free(r.s);
	close(fd);
}
