// SPDX-License-Identifier: MIT
/*
 * check: the small harness the root-only port tests share: counted
 * checks that name the file and line, and shell helpers for the setup.
 */
#ifndef FAUXTCP_TEST_PORT_CHECK_H
#define FAUXTCP_TEST_PORT_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static int passed, failed;

static void check_at(bool ok, const char *file, int line, const char *what)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "%s:%d: FAIL: %s\n", file, line, what);
}

static void check_int_at(long got, long want, const char *file, int line, const char *what)
{
	if (got == want) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "%s:%d: FAIL: %s: got %ld, want %ld\n", file, line, what, got, want);
}

#define CHECK(c) check_at((c), __FILE__, __LINE__, #c)
#define CHECK_INT(e, w) check_int_at((long)(e), (long)(w), __FILE__, __LINE__, #e " == " #w)

static __attribute__((format(printf, 1, 2))) int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st != 0)
		fprintf(stderr, "command failed (%d): %s\n", st, cmd);
	return st;
}

static int capture(const char *cmd, char *buf, size_t len)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	if (!p)
		return -errno;
	n = fread(buf, 1, len - 1, p);
	buf[n] = '\0';
	return pclose(p);
}

#endif
