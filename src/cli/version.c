// SPDX-License-Identifier: BSD-2-Clause
/* version.c - the version and git revision baked in at build time (Makefile). */
#include "cli.h"

const char fc_cli_version[] = FC_VERSION;
const char fc_cli_gitrev[] = FC_GITREV;
