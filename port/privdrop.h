/*
 * privdrop: keep only the capabilities a daemon needs (the client:
 * CAP_NET_RAW) and forbid regaining others (no_new_privs).
 */
#ifndef FAUXTCP_PRIVDROP_H
#define FAUXTCP_PRIVDROP_H

#include <stdbool.h>

/* Whether the process holds cap (CAP_* number) in its effective set. */
bool privdrop_has(int cap);
/* Effective and permitted sets become exactly {keep}; inheritable, ambient
 * and (when allowed) the bounding set lose everything else. */
int privdrop_keep_only(int keep);

#endif
