// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "privdrop.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cap_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};

	return syscall(SYS_capget, &h, d) < 0 ? -errno : 0;
}

bool privdrop_has(int cap)
{
	struct __user_cap_data_struct d[2] = {{0}};

	if (cap_get(d) < 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

int privdrop_keep_only(int keep)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};
	bool had = privdrop_has(keep);

	/* The bounding set needs CAP_SETPCAP to shrink; without it the
	 * permitted set below is what counts (and no_new_privs keeps it). */
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (c != keep)
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (had) {
		d[keep / 32].effective = 1u << (keep % 32);
		d[keep / 32].permitted = 1u << (keep % 32);
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

bool privdrop_elevated(void)
{
	return getauxval(AT_SECURE) != 0 || getuid() != geteuid() || getgid() != getegid();
}

/* What the kernel itself drops from the effective set when the file
 * system uid leaves 0 (capabilities(7)): the overrides of file
 * permissions and ownership. */
static const int fs_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
	CAP_FSETID, CAP_LINUX_IMMUTABLE, CAP_MKNOD, CAP_MAC_OVERRIDE,
};

int privdrop_files_as_user(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};

	if (!privdrop_elevated())
		return 0;
	/* A file named on the command line or in -c FILE is the user's
	 * choice: it must be one the user could open without us. */
	setfsgid(getgid());
	setfsuid(getuid());
	/* Both return the previous id whatever happened: ask again. */
	if ((uid_t)setfsuid((uid_t)-1) != getuid() || (gid_t)setfsgid((gid_t)-1) != getgid())
		return -EPERM;
	int e = cap_get(d);
	if (e < 0)
		return e;
	for (size_t i = 0; i < sizeof(fs_caps) / sizeof(fs_caps[0]); i++)
		d[fs_caps[i] / 32].effective &= ~(1u << (fs_caps[i] % 32));
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}
