// SPDX-License-Identifier: MIT
/*
 * fdlimit: each connection holds a descriptor (the client's guard, the
 * server's UDP flow), and the default soft limit (1024) is far below the
 * default max-conns (10000). Raise the soft limit to what is needed, up
 * to the hard limit, as any daemon holding a socket per peer must.
 */
#ifndef FAUXTCP_FDLIMIT_H
#define FAUXTCP_FDLIMIT_H

/* 0, or -EMFILE when the hard limit is below needed (*limit: the soft
 * limit now in force, for the caller's warning). */
int fdlimit_raise(unsigned long needed, unsigned long *limit);

#endif
