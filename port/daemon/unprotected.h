// SPDX-License-Identifier: MIT
/*
 * unprotected: the attack tests' negative control. FAUXTCP_UNPROTECTED=1
 * in a daemon's environment switches its forged-packet protection off
 * (phantun's rules, docs/security.md), so the tests can show that their
 * attacks do break a session that is not protected. Never for real use:
 * the daemon says so loudly when it is set.
 */
#ifndef FAUXTCP_UNPROTECTED_H
#define FAUXTCP_UNPROTECTED_H

#include <stdbool.h>

/* Reads the variable once and logs a warning if it is set. */
bool unprotected_from_env(void);

#endif
