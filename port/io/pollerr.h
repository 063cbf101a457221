// SPDX-License-Identifier: MIT
/*
 * pollerr: libuv stops a poll handle when the kernel reports POLLERR and
 * calls back with UV_EBADF. On our sockets that is a pending socket
 * error, not a dead descriptor: ECONNREFUSED on a connected UDP socket
 * after the peer's port unreachable, ENETDOWN on a packet socket when its
 * interface goes down (the kernel resumes delivery when it comes back up).
 * Reading SO_ERROR clears it; polling can then go on.
 */
#ifndef FAUXTCP_POLLERR_H
#define FAUXTCP_POLLERR_H

#include <uv.h>

/* For a poll callback called with status < 0 on fd: returns the pending
 * socket error (negative errno) after restarting h with cb, or status if
 * there was none or the restart failed (h stays stopped). */
int pollerr_resume(uv_poll_t *h, int fd, int status, uv_poll_cb cb);

#endif
