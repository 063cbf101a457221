// SPDX-License-Identifier: MIT
/* NO_SYS build: lwIP needs no threads, semaphores or mailboxes. */
#ifndef FAUXTCP_ARCH_SYS_ARCH_H
#define FAUXTCP_ARCH_SYS_ARCH_H
#endif
