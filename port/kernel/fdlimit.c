// SPDX-License-Identifier: MIT
#include "fdlimit.h"

#include <errno.h>
#include <sys/resource.h>

int fdlimit_raise(unsigned long needed, unsigned long *limit)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	*limit = rl.rlim_cur;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= needed)
		return 0;
	if (rl.rlim_cur == RLIM_INFINITY)
		return 0;
	rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > needed) ? needed : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	*limit = rl.rlim_cur;
	return rl.rlim_cur >= needed ? 0 : -EMFILE;
}
