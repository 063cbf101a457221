// SPDX-License-Identifier: MIT
/*
 * statuscli: `fauxtcp-client status` and `fauxtcp-server status`. With
 * -l (or -c FILE) it asks that one instance; alone it finds every
 * instance running in the network namespace by its status socket's name
 * (/proc/net/unix). It asks each daemon for its records (statusrec.h)
 * and renders them here (statusfmt.h): short text, --json or
 * --prometheus; -v/--verbose asks for the daemon's full text report
 * instead. Exit: 0 answered, 1 refused or an error talking to it,
 * 2 bad arguments, 3 not running.
 */
#ifndef FAUXTCP_STATUSCLI_H
#define FAUXTCP_STATUSCLI_H

#include <stddef.h>

#include "config.h"

#define STATUSCLI_OK 0
#define STATUSCLI_ERROR 1
#define STATUSCLI_USAGE 2
#define STATUSCLI_NOT_RUNNING 3

/* The status socket's name: the client's follows its --local, the
 * server's its port ("fauxtcp-server 4567"). */
void statuscli_name(enum config_role role, const struct config *cfg, char *buf, size_t len);
/* argv[1] is "status": the exit code. */
int statuscli_main(enum config_role role, int argc, char **argv);

#endif
