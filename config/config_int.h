// SPDX-License-Identifier: MIT
/*
 * config_int.h: what the files of config/ share; not for the daemons,
 * which use config.h only.
 *
 *	config.c	 the option table, error helpers, defaults, checks
 *	config_value.c	 one value: parse it, check it, store it
 *	config_ini.c	 the INI file reader
 *	config_args.c	 the command line (getopt_long) and its errors
 *	config_usage.c	 --help, printed from the option table
 */
#ifndef FAUXTCP_CONFIG_INT_H
#define FAUXTCP_CONFIG_INT_H

#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Room for one reason ("expected ..., got '...'") before it gets a prefix. */
#define MSG_MAX		256

/*
 * Values are echoed back in errors, but only their start: a 4 KiB path
 * must not push the explanation out of the caller's err buffer. Nothing
 * from a control character on is echoed (an argument may hold a newline,
 * and err is one line); "..." marks what was left out.
 */
#define ECHO_MAX	64
#define QFMT		"'%.*s%s'"
#define QARG(v)		echo_len(v), (v), (v)[echo_len(v)] ? "..." : ""
/* A file name in full, but for the same control characters. */
#define PFMT		"%.*s%s"
#define PARG(p)		shown_len((p), CONFIG_PATH_MAX), (p), \
			(p)[shown_len((p), CONFIG_PATH_MAX)] ? "..." : ""

#define ROLE_CLIENT	(1u << CONFIG_CLIENT)
#define ROLE_SERVER	(1u << CONFIG_SERVER)
#define ROLE_BOTH	(ROLE_CLIENT | ROLE_SERVER)

struct opt_desc {
	const char *flag;	/* long flag, without "--" */
	const char *key;	/* INI key, NULL for flag-only switches */
	/*
	 * Value a flag without an argument stands for, parsed like an INI
	 * value; NULL means the flag takes an argument.
	 */
	const char *flag_value;
	enum config_opt id;
	char short_flag;
	unsigned char roles;
	bool client_ignores;	/* phantun TUN option, moot without a TUN */
	/*
	 * By role (enum config_role): the value's name in --help and in
	 * "missing value" errors (NULL for a switch), and the --help text
	 * (NULL where the option is not listed).  Both NULL for a role the
	 * option is not valid in.
	 */
	struct opt_text {
		const char *metavar;
		const char *help;
	} text[2];
};

/* The longest flag name "did you mean" compares (without "--"). */
#define CFG_NAME_MAX	32

/*
 * The daemons' one subcommand (daemon.c takes "NAME status ..." before
 * the flags are parsed); named here so a misspelt one gets a suggestion.
 */
#define CONFIG_SUBCOMMAND_STATUS	"status"

/* Entries in cfg_opts[]; a constant so callers can size arrays by it. */
#define CFG_NOPTS	27

/* Every flag and INI key, in config.c: one table drives them all. */
extern const struct opt_desc cfg_opts[CFG_NOPTS];

/*
 * The only vsnprintf() and memcpy() of config/ (see config.c for why).
 * cfg_vformat() and cfg_format() do nothing when buf is NULL or len 0.
 */
int cfg_vformat(char *buf, size_t len, const char *fmt, va_list ap);
__attribute__((format(printf, 3, 4)))
int cfg_format(char *buf, size_t len, const char *fmt, ...);
/* dst must have room for n + 1 bytes; callers check. */
void cfg_copy_bytes(char *dst, const char *src, size_t n);

/* Put the one-line reason in err and return -EINVAL. */
__attribute__((format(printf, 3, 4)))
int cfg_fail(char *err, size_t errlen, const char *fmt, ...);
/* Like cfg_fail() but for a caller-chosen errno. */
__attribute__((format(printf, 4, 5)))
int cfg_fail_rc(int rc, char *err, size_t errlen, const char *fmt, ...);

/* "IP:PORT", "FILE", ...: what o's value is called, for role. */
const char *cfg_metavar(const struct opt_desc *o, enum config_role role);

/* Set one option from text v and remember that it was given (value.c). */
int cfg_set_opt(struct config *c, const struct opt_desc *o, const char *v,
		char *msg, size_t msglen);

/* The length of v's start without control characters, at most max. */
static inline int shown_len(const char *v, size_t max)
{
	size_t n = 0;

	while (n < max && (unsigned char)v[n] >= 0x20 && v[n] != 0x7f)
		n++;
	return (int)n;
}

static inline int echo_len(const char *v)
{
	return shown_len(v, ECHO_MAX);
}

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline const char *role_name(enum config_role role)
{
	return role == CONFIG_SERVER ? "server" : "client";
}

static inline enum config_role other_role(enum config_role role)
{
	return role == CONFIG_SERVER ? CONFIG_CLIENT : CONFIG_SERVER;
}

/* Index of struct opt_desc's text[]; any bad role reads as the client's. */
static inline int role_index(enum config_role role)
{
	return role == CONFIG_SERVER ? CONFIG_SERVER : CONFIG_CLIENT;
}

static inline unsigned int role_bit(enum config_role role)
{
	return 1u << role;
}

#endif /* FAUXTCP_CONFIG_INT_H */
