// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "sysfwd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

static int sysfwd_path(int family, const char **path)
{
	if (family == AF_INET)
		*path = "/proc/sys/net/ipv4/ip_forward";
	else if (family == AF_INET6)
		*path = "/proc/sys/net/ipv6/conf/all/forwarding";
	else
		return -EAFNOSUPPORT;
	return 0;
}

int sysfwd_get(int family, bool *on)
{
	const char *path;
	char c;
	ssize_t n;
	int fd, ret;

	if (!on)
		return -EINVAL;
	ret = sysfwd_path(family, &path);
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, &c, 1);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	if (n != 1 || c < '0' || c > '9')
		return -EIO;
	/* The kernel stores any non-zero write as 1, but read it as a flag. */
	*on = c != '0';
	return 0;
}

int sysfwd_set(int family, bool on)
{
	const char *path;
	const char *val = on ? "1\n" : "0\n";
	ssize_t n;
	int fd, ret;

	ret = sysfwd_path(family, &path);
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, 2);
	ret = n < 0 ? -errno : (n == 2 ? 0 : -EIO);
	close(fd);
	return ret;
}
