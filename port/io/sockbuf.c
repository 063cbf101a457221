// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "sockbuf.h"

#include <sys/socket.h>

void sockbuf_grow_rcv(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}
