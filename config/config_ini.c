// SPDX-License-Identifier: MIT
/*
 * config: the INI file (-c/--config), read with inih through a reader of
 * our own that refuses what inih would silently take in pieces.
 */
#define _GNU_SOURCE	/* GNU strerror_r() */

#include "config_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ini.h>

struct ini_ctx {
	struct config *c;
	FILE *fp;
	int lineno;		/* of the line inih is working on */
	int err_line;		/* first line in error, 0 if none */
	int err_rc;
	bool io_error;		/* about the file, not one line of it */
	char msg[MSG_MAX];	/* why err_line is wrong, without file:line */
};

__attribute__((format(printf, 3, 4)))
static void ini_error(struct ini_ctx *x, int rc, const char *fmt, ...)
{
	va_list ap;

	if (x->err_line)
		return;
	x->err_line = x->lineno;
	x->err_rc = rc;
	va_start(ap, fmt);
	cfg_vformat(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
}

static void read_failed(struct ini_ctx *x)
{
	char ebuf[MSG_MAX];
	int e = errno ? errno : EIO;

	x->lineno++;
	x->io_error = true;
	ini_error(x, -e, "cannot read: %s", strerror_r(e, ebuf, sizeof(ebuf)));
}

/*
 * inih's own fgets() reader would hand a too-long line over in pieces, the
 * first of them as a valid-looking but truncated value, and would read an
 * indented line as a continuation of the previous value.  This reader
 * refuses the former and strips the indentation for the latter.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct ini_ctx *x = stream;
	size_t len, skip, i;

	if (x->err_line || num < 2)
		return NULL;	/* the first error is the one worth reading */
	if (!fgets(str, num, x->fp)) {
		if (ferror(x->fp))
			read_failed(x);
		return NULL;
	}
	x->lineno++;
	len = strlen(str);
	if (len == 0 || str[len - 1] != '\n') {
		int ch = fgetc(x->fp);

		/* A '\n' right after a full buffer ends the line in time. */
		if (ch != EOF && ch != '\n') {
			ini_error(x, -EINVAL, "line too long (max %d characters)",
				  num - 1);
			return NULL;
		}
	}
	skip = strspn(str, " \t");
	for (i = skip; i <= len; i++)
		str[i - skip] = str[i];
	return str;
}

static const struct opt_desc *find_key(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++)
		if (cfg_opts[i].key && streq(cfg_opts[i].key, key))
			return &cfg_opts[i];
	return NULL;
}

/* Where a key may appear: only in the section named after the role. */
static bool key_placed_ok(struct ini_ctx *x, const char *section,
			  const char *name)
{
	const char *want = role_name(x->c->role);

	if (!*section) {
		ini_error(x, -EINVAL,
			  "key " QFMT " is outside any section; put it under [%s]",
			  QARG(name), want);
		return false;
	}
	if (!streq(section, want)) {
		ini_error(x, -EINVAL,
			  "key " QFMT " is in [%s], but the %s reads only [%s]",
			  QARG(name), section, want, want);
		return false;
	}
	return true;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct ini_ctx *x = user;
	const struct opt_desc *o;
	char msg[MSG_MAX];

	if (x->err_line || !key_placed_ok(x, section, name))
		return 0;
	o = find_key(name);
	if (!o) {
		ini_error(x, -EINVAL, "unknown key " QFMT " in [%s]", QARG(name),
			  section);
		return 0;
	}
	if (!(o->roles & role_bit(x->c->role))) {
		ini_error(x, -EINVAL, "key '%s' is only valid in [%s]", o->key,
			  role_name(other_role(x->c->role)));
		return 0;
	}
	if (cfg_set_opt(x->c, o, value, msg, sizeof(msg)) < 0) {
		ini_error(x, -EINVAL, "bad value for %s: %s", o->key, msg);
		return 0;
	}
	return 1;
}

int config_load_file(struct config *c, const char *path, char *err,
		     size_t errlen)
{
	struct ini_ctx x = { .c = c };
	int rc;

	x.fp = fopen(path, "r");
	if (!x.fp) {
		char ebuf[MSG_MAX];
		int e = errno;

		return cfg_fail_rc(-e, err, errlen, PFMT ": cannot open: %s",
				   PARG(path), strerror_r(e, ebuf, sizeof(ebuf)));
	}
	rc = ini_parse_stream(read_line, &x, on_key, &x);
	fclose(x.fp);

	/* inih's own syntax errors come back only as a line number. */
	if (rc > 0 && (!x.err_line || rc < x.err_line))
		return cfg_fail(err, errlen,
				PFMT ":%d: syntax error: expected 'key = value' or '[section]'",
				PARG(path), rc);
	if (x.io_error)
		return cfg_fail_rc(x.err_rc, err, errlen, PFMT ": %s", PARG(path),
				   x.msg);
	if (x.err_line)
		return cfg_fail_rc(x.err_rc, err, errlen, PFMT ":%d: %s", PARG(path),
				   x.err_line, x.msg);
	if (rc < 0)
		return cfg_fail_rc(-ENOMEM, err, errlen, PFMT ": out of memory",
				   PARG(path));
	return 0;
}
