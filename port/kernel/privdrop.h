// SPDX-License-Identifier: MIT
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
/* Whether the process holds privileges its real user was not given by
 * an administrator for this run: the kernel set AT_SECURE at exec (file
 * capabilities, setuid, setgid) or the real and effective ids differ.
 * Root, and a unit's AmbientCapabilities=, are not elevated. */
bool privdrop_elevated(void);
/* When elevated: from now on every file is opened with the real user's
 * permissions (file system ids set to the real ones, and the capabilities
 * that bypass file permissions out of the effective set). 0 otherwise or
 * on success, or a negative errno. */
int privdrop_files_as_user(void);

#endif
