// SPDX-License-Identifier: MIT
/*
 * nomd5 PROGRAM [ARG...]: runs PROGRAM as if on a kernel without TCP-MD5
 * and without CAP_NET_ADMIN, i.e. where port/kernel/guard.c can guard nothing.
 *
 * A seccomp filter makes setsockopt(IPPROTO_TCP, TCP_MD5SIG or
 * TCP_MD5SIG_EXT) fail with ENOPROTOOPT, what a kernel built without
 * CONFIG_TCP_MD5SIG answers, and setsockopt(SOL_SOCKET, SO_ATTACH_FILTER)
 * on a TCP socket fail with EPERM, what attaching guard.c's drop filter
 * without CAP_NET_ADMIN gets. The client attaches a filter to its packet
 * socket with the same call, and a classic BPF program cannot see which
 * kind of socket an fd is: that call goes to a supervisor (seccomp user
 * notification) which looks at the socket and lets anything but TCP
 * through. The filter is installed in this process, which then execs
 * PROGRAM (same pid, stdio and exit status); the supervisor is a detached
 * grandchild that exits when PROGRAM does.
 *
 * x86_64 and aarch64 (others fail to build); a syscall from another ABI
 * (i386 int 0x80 or x32 on x86_64, arm32 on aarch64) kills the process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NOMD5_ARCH AUDIT_ARCH_X86_64
/* x32 syscalls arrive with AUDIT_ARCH_X86_64 and this bit in nr. */
#define NOMD5_NR_LIMIT 0x40000000u
#elif defined(__aarch64__)
#define NOMD5_ARCH AUDIT_ARCH_AARCH64
#define NOMD5_NR_LIMIT 0xffffffffu
#else
#error "nomd5: x86_64 or aarch64 only"
#endif

/* Low 32 bits of argument i (little-endian), where int arguments live. */
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + (i) * sizeof(__u64))

static const struct sock_filter filter[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NOMD5_ARCH, 1, 0),
	/* 2 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	/* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	/* 4 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, NOMD5_NR_LIMIT, 0, 1),
	/* 5 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setsockopt, 1, 0),
	/* 7 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	/* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)), /* level */
	/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 5),
	/* 10 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)), /* optname */
	/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TCP_MD5SIG, 1, 0),
	/* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TCP_MD5SIG_EXT, 0, 1),
	/* 13 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOPROTOOPT),
	/* 14 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	/* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOL_SOCKET, 0, 3),
	/* 16 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
	/* 17 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SO_ATTACH_FILTER, 0, 1),
	/* 18 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	/* 19 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static int send_fd(int sock, int fd)
{
	char data = 0, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = &data, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	memset(cbuf, 0, sizeof(cbuf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char data, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = &data, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* Whether the target's fd is a TCP socket: 1 yes, 0 no, -1 cannot tell. */
static int is_tcp(int pidfd, int target_fd)
{
	int fd = (int)syscall(SYS_pidfd_getfd, pidfd, target_fd, 0), proto = 0;
	socklen_t len = sizeof(proto);

	if (fd < 0)
		return -1;
	int r = getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len);
	close(fd);
	if (r < 0)
		return errno == ENOTSOCK ? 0 : -1;
	return proto == IPPROTO_TCP;
}

/* Answers SO_ATTACH_FILTER calls until the target has exited. */
static void supervise(int listener, pid_t target)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	int pidfd = (int)syscall(SYS_pidfd_open, target, 0);

	if (pidfd < 0) {
		fprintf(stderr, "nomd5: pidfd_open: %s\n", strerror(errno));
		_exit(1);
	}
	for (;;) {
		struct pollfd p = {.fd = listener, .events = POLLIN};

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
			_exit(0); /* no process uses the filter any more */
		memset(&req, 0, sizeof(req));
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
			continue; /* the caller went away (ENOENT) or a signal */
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		int tcp = is_tcp(pidfd, (int)req.data.args[0]);
		if (tcp < 0) {
			fprintf(stderr, "nomd5: cannot inspect fd %d of pid %u: %s\n",
				(int)req.data.args[0], req.pid, strerror(errno));
			resp.error = -EPERM;
		} else if (tcp) {
			resp.error = -EPERM; /* as without CAP_NET_ADMIN */
		} else {
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		}
		/* ENOENT: the call was interrupted meanwhile; nothing to do. */
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

int main(int argc, char **argv)
{
	struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]),
				  .filter = (struct sock_filter *)filter};
	pid_t target = getpid(), child;
	int sv[2], listener, status;

	if (argc < 2) {
		fprintf(stderr, "usage: nomd5 PROGRAM [ARG...]\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("nomd5: socketpair");
		return 1;
	}
	child = fork();
	if (child < 0) {
		perror("nomd5: fork");
		return 1;
	}
	if (child == 0) {
		/* Detach: the supervisor must not be PROGRAM's child. */
		if (fork() != 0)
			_exit(0);
		close(sv[0]);
		signal(SIGINT, SIG_IGN);
		listener = recv_fd(sv[1]);
		if (listener < 0)
			_exit(0); /* the parent failed and said so */
		close(sv[1]);
		supervise(listener, target);
	}
	close(sv[1]);
	waitpid(child, &status, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		perror("nomd5: PR_SET_NO_NEW_PRIVS");
		return 1;
	}
	listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (listener < 0) {
		perror("nomd5: seccomp");
		return 1;
	}
	if (send_fd(sv[0], listener) < 0) {
		perror("nomd5: sending the listener");
		return 1;
	}
	close(listener);
	close(sv[0]);
	execv(argv[1], argv + 1);
	fprintf(stderr, "nomd5: cannot run %s: %s\n", argv[1], strerror(errno));
	return 127;
}
