// SPDX-License-Identifier: BSD-2-Clause
/*
 * main.c - the flowcut command: dispatches to subcommands. Each subcommand
 * lives in its own file and returns an exit status (cli.h).
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
	fputs("usage: flowcut <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  read FILE     turn a pcap/pcapng capture into flow records (JSON lines)\n"
	      "  capture -i IF flow records from live traffic on an interface (AF_PACKET)\n"
	      "  bypass        kernel bypass entries of a running capture (list, add, del, flush)\n"
	      "  block         the block list of a running capture (add, del, list)\n"
	      "  query         top talkers/ports/protocols and flows from the SQLite flow store\n"
	      "\n"
	      "  flowcut --version    version and git revision\n"
	      "  flowcut read --help  options of a command\n"
	      "see flowcut(1) for the record fields and counters.\n",
	      out);
}

static void version(void)
{
	printf("flowcut %s (git %s)\n%s\n", fc_cli_version, fc_cli_gitrev, pcap_lib_version());
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return FC_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		version();
		return FC_EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return FC_EXIT_OK;
	}
	if (!strcmp(argv[1], "read"))
		return fc_cmd_read(argc - 1, argv + 1);
	if (!strcmp(argv[1], "capture"))
		return fc_cmd_capture(argc - 1, argv + 1);
	if (!strcmp(argv[1], "bypass"))
		return fc_cmd_bypass(argc - 1, argv + 1);
	if (!strcmp(argv[1], "block"))
		return fc_cmd_block(argc - 1, argv + 1);
	if (!strcmp(argv[1], "query"))
		return fc_cmd_query(argc - 1, argv + 1);
	fc_cli_error("unknown command '%s' (try: flowcut --help)", argv[1]);
	return FC_EXIT_USAGE;
}
