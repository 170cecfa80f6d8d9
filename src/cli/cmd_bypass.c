// SPDX-License-Identifier: BSD-2-Clause
/*
 * cmd_bypass.c - `flowcut bypass list|add|del|flush` and `flowcut block
 * add|del|list`: clients of a running capture's control socket (see
 * capture_ctl.c). The socket is /run/flowcut/<IF>.sock for -i IF, the one
 * given with -S, or the only socket in /run/flowcut. `flowcut bypass flush`
 * with no capture running empties the pinned maps directly (--pin-dir).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "capture_bypass.h"
#include "cli.h"

static void usage(FILE *out, bool block)
{
	if (block)
		fputs("usage: flowcut block [-i IF | -S SOCKET] add|del CIDR\n"
		      "       flowcut block [-i IF | -S SOCKET] list\n"
		      "Drop and count everything sent from CIDR (XDP mode drops it; socket mode\n"
		      "hides it from the monitor), in the capture running on IF.\n", out);
	else
		fputs("usage: flowcut bypass [-i IF | -S SOCKET] list\n"
		      "       flowcut bypass [-i IF | -S SOCKET] add|del tcp|udp ADDR:PORT ADDR:PORT\n"
		      "       flowcut bypass [-i IF | -S SOCKET] [--pin-dir DIR] flush\n"
		      "Kernel bypass entries of the capture running on IF: list them with their\n"
		      "counters and age, hand a flow to the kernel (the first endpoint is the\n"
		      "initiator), stop bypassing one, or remove them all. IPv6: [ADDR]:PORT.\n"
		      "flush with no capture running empties the maps pinned under\n"
		      "DIR/IF (default " FC_BYPASS_PIN_ROOT ").\n", out);
}

/* The only *.sock in the control directory, or NULL (message printed). */
static char *only_socket(void)
{
	DIR *d = opendir(CAP_BYPASS_CTL_DIR);
	struct dirent *de;
	char *found = NULL;
	int n = 0;

	if (!d) {
		fc_cli_error("no capture with --bypass is running (%s: %s)", CAP_BYPASS_CTL_DIR,
			     strerror(errno));
		return NULL;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l > 5 && !strcmp(de->d_name + l - 5, ".sock")) {
			n++;
			free(found);
			if (asprintf(&found, "%s/%s", CAP_BYPASS_CTL_DIR, de->d_name) < 0)
				found = NULL;
		}
	}
	closedir(d);
	if (n == 1)
		return found;
	free(found);
	fc_cli_error(n ? "several captures are running: name one with -i IF" :
			 "no capture with --bypass is running (no socket in " CAP_BYPASS_CTL_DIR ")");
	return NULL;
}

/* Send one request line, copy the answer's data to stdout. Exit status. */
static int ask(const char *path, const char *req, bool *no_server)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[65536];
	size_t got = 0;
	bool first = true, ok = false;
	ssize_t n;
	int fd;

	*no_server = false;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fc_cli_error("%s: path too long", path);
		return FC_EXIT_USAGE;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		int e = errno;

		*no_server = e == ENOENT || e == ECONNREFUSED;
		fc_cli_error("%s: %s%s", path, strerror(e),
			     *no_server ? " (is a capture with --bypass running on that interface?)" : "");
		if (fd != -1)
			close(fd);
		return FC_EXIT_FAIL;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) || shutdown(fd, SHUT_WR) == -1) {
		fc_cli_error("%s: %s", path, strerror(errno));
		close(fd);
		return FC_EXIT_FAIL;
	}
	/* First line: "ok" or "error: ..."; the rest is data. */
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
		char *nl;

		got += (size_t)n;
		buf[got] = '\0';
		if (first) {
			nl = strchr(buf, '\n');
			if (!nl)
				continue;
			*nl = '\0';
			ok = !strcmp(buf, "ok");
			if (!ok)
				fc_cli_error("%s", !strncmp(buf, "error: ", 7) ? buf + 7 : buf);
			first = false;
			fwrite(nl + 1, 1, got - (size_t)(nl + 1 - buf), ok ? stdout : stderr);
		} else {
			fwrite(buf, 1, got, ok ? stdout : stderr);
		}
		got = 0;
	}
	close(fd);
	if (first) {
		fc_cli_error("%s: no answer", path);
		return FC_EXIT_FAIL;
	}
	return ok ? FC_EXIT_OK : FC_EXIT_FAIL;
}

static int run(int argc, char **argv, bool block)
{
	static const struct option lo[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "socket", required_argument, NULL, 'S' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ifname = NULL, *sock = NULL, *pin_root = FC_BYPASS_PIN_ROOT, *verb;
	char *path = NULL, req[512];
	size_t len;
	bool no_server;
	int c, i, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+i:S:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'S': sock = optarg; break;
		case 'P': pin_root = optarg; break;
		case 'h': usage(stdout, block); return FC_EXIT_OK;
		default: usage(stderr, block); return FC_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr, block);
		return FC_EXIT_USAGE;
	}
	verb = argv[optind];
	if (block ? !((!strcmp(verb, "add") || !strcmp(verb, "del")) && argc - optind == 2) &&
			    !(!strcmp(verb, "list") && argc - optind == 1)
		  : !((!strcmp(verb, "add") || !strcmp(verb, "del")) && argc - optind == 4) &&
			    !((!strcmp(verb, "list") || !strcmp(verb, "flush")) && argc - optind == 1)) {
		usage(stderr, block);
		return FC_EXIT_USAGE;
	}
	len = (size_t)snprintf(req, sizeof(req), "%s%s", block ? "block-" : "", verb);
	for (i = optind + 1; i < argc && len < sizeof(req); i++)
		len += (size_t)snprintf(req + len, sizeof(req) - len, " %s", argv[i]);
	if (len + 2 > sizeof(req)) {
		fc_cli_error("request too long");
		return FC_EXIT_USAGE;
	}
	memcpy(req + len, "\n", 2);
	if (sock)
		path = strdup(sock);
	else if (ifname) {
		if (asprintf(&path, "%s/%s.sock", CAP_BYPASS_CTL_DIR, ifname) < 0)
			path = NULL;
	} else
		path = only_socket();
	if (!path && !(!block && !strcmp(verb, "flush") && ifname))
		return FC_EXIT_FAIL;
	rc = path ? ask(path, req, &no_server) : FC_EXIT_FAIL;
	free(path);
	if (rc != FC_EXIT_OK && !block && !strcmp(verb, "flush") && ifname && no_server) {
		/* no capture: empty the pinned maps themselves */
		char dir[512];
		long n;

		snprintf(dir, sizeof(dir), "%s/%s", pin_root, ifname);
		n = fc_bypass_flush_pins(dir);
		if (n < 0) {
			fc_cli_error("%s: %s", dir, strerror((int)-n));
			return FC_EXIT_FAIL;
		}
		fprintf(stderr, "flowcut: no capture running: flushed the pinned maps in %s\n", dir);
		printf("flushed %ld entries\n", n);
		return FC_EXIT_OK;
	}
	return rc;
}

int fc_cmd_bypass(int argc, char **argv)
{
	return run(argc, argv, false);
}

int fc_cmd_block(int argc, char **argv)
{
	return run(argc, argv, true);
}
