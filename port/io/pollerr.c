// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "pollerr.h"

#include <errno.h>
#include <sys/socket.h>

int pollerr_resume(uv_poll_t *h, int fd, int status, uv_poll_cb cb)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || !soerr)
		return status;
	if (uv_is_closing((uv_handle_t *)h) || uv_poll_start(h, UV_READABLE, cb) < 0)
		return status;
	return -soerr;
}
