// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "tunif.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TUNIF_DEV "/dev/net/tun"

static int tunif_fill_ifreq(struct ifreq *ifr, const char *name, short extra)
{
	size_t len = name ? strlen(name) : 0;

	/* The kernel would silently truncate a long name; refuse instead. */
	if (len >= IFNAMSIZ)
		return -EINVAL;
	memset(ifr, 0, sizeof(*ifr));
	/* Single queue on purpose: one lwIP instance reads one fd. */
	ifr->ifr_flags = (short)(IFF_TUN | IFF_NO_PI | extra);
	if (len)
		memcpy(ifr->ifr_name, name, len);
	return 0;
}

static int tunif_open_flags(const char *name_or_empty, char *name_out, int *fd_out, short extra)
{
	struct ifreq ifr;
	int fd, ret;

	if (!fd_out)
		return -EINVAL;
	ret = tunif_fill_ifreq(&ifr, name_or_empty, extra);
	if (ret)
		return ret;
	fd = open(TUNIF_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (name_out) {
		memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
		name_out[IFNAMSIZ - 1] = '\0';
	}
	*fd_out = fd;
	return 0;
}

int tunif_open(const char *name_or_empty, char *name_out, int *fd_out)
{
	return tunif_open_flags(name_or_empty, name_out, fd_out, 0);
}

int tunif_open_vnet(const char *name_or_empty, char *name_out, int *fd_out,
		    bool *offload)
{
	int ret = tunif_open_flags(name_or_empty, name_out, fd_out, IFF_VNET_HDR);

	if (ret)
		return ret;
	int hdrsz = 10;
	unsigned long off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	if (ioctl(*fd_out, TUNSETVNETHDRSZ, &hdrsz) < 0) {
		ret = -errno;
		close(*fd_out);
		*fd_out = -1;
		return ret;
	}
	*offload = ioctl(*fd_out, TUNSETOFFLOAD, off) == 0;
	return 0;
}

void tunif_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
