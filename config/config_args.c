// SPDX-License-Identifier: MIT
/*
 * config: the command line, with getopt_long(), and the one-line errors
 * for what it refuses.
 */
#define _GNU_SOURCE	/* getopt_long() */

#include "config_int.h"

#include <getopt.h>
#include <string.h>

/* getopt_long() val for cfg_opts[i] when it has no short flag. */
#define LONG_VAL_BASE	0x100

static bool starts_with_dashdash(const char *s)
{
	return strncmp(s, "--", 2) == 0;
}

static int opt_val(size_t i)
{
	return cfg_opts[i].short_flag ? cfg_opts[i].short_flag :
					LONG_VAL_BASE + (int)i;
}

static const struct opt_desc *find_val(int val)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++)
		if (opt_val(i) == val)
			return &cfg_opts[i];
	return NULL;
}

static void build_getopt(struct option *lo, char *shorts)
{
	char *s = shorts;
	size_t i;

	/* "+": stop at the first non-option rather than permute argv. */
	*s++ = '+';
	*s++ = ':';	/* report a missing argument as ':', not '?' */
	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++) {
		lo[i] = (struct option){
			.name = cfg_opts[i].flag,
			.has_arg = cfg_opts[i].flag_value ?
					   no_argument : required_argument,
			.val = opt_val(i),
		};
		if (cfg_opts[i].short_flag) {
			*s++ = cfg_opts[i].short_flag;
			if (!cfg_opts[i].flag_value)
				*s++ = ':';
		}
	}
	lo[i] = (struct option){ 0 };
	*s = '\0';
}

/* Name the option the way the user typed it: "-l" or "--local". */
static const char *typed(const struct opt_desc *o, bool via_short, char *buf,
			 size_t buflen)
{
	if (via_short)
		cfg_format(buf, buflen, "-%c", o->short_flag);
	else
		cfg_format(buf, buflen, "--%s", o->flag);
	return buf;
}

/* Levenshtein distance between a[0..an) and b, or 3 when it is more. */
static unsigned int distance(const char *a, size_t an, const char *b)
{
	unsigned int row[CFG_NAME_MAX + 1], up;
	size_t bn = strlen(b), i, j;

	if (an > CFG_NAME_MAX || bn > CFG_NAME_MAX ||
	    (an > bn ? an - bn : bn - an) > 2)
		return 3;
	for (j = 0; j <= bn; j++)
		row[j] = (unsigned int)j;
	for (i = 1; i <= an; i++) {
		unsigned int diag = row[0], best = (unsigned int)i;

		row[0] = (unsigned int)i;
		for (j = 1; j <= bn; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (row[j] < best)
				best = row[j];
			diag = up;
		}
		if (best > 2)
			return 3;
	}
	return row[bn] > 2 ? 3 : row[bn];
}

/*
 * The role's option that name[0..n) most likely meant: the only one it
 * starts, else the closest within two edits; NULL if none.  *prefix says
 * which rule found it.
 */
static const char *suggest(enum config_role role, const char *name, size_t n,
			   bool *prefix)
{
	const char *best = NULL, *start = NULL;
	unsigned int best_d = 3, d;
	size_t i, starts = 0;

	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++) {
		const char *f = cfg_opts[i].flag;

		if (!(cfg_opts[i].roles & role_bit(role)))
			continue;
		if (n > 0 && strncmp(f, name, n) == 0) {
			start = f;
			starts++;
		}
		d = distance(name, n, f);
		if (d < best_d) {
			best_d = d;
			best = f;
		}
	}
	/* Ambiguous ("--tun-l"): naming one would be a guess. */
	*prefix = starts == 1;
	if (starts > 1)
		return NULL;
	return starts == 1 ? start : best;
}

/* arg is "--name" or "--name=value", as typed. */
static int unknown_long(enum config_role role, const char *arg, char *err,
			size_t errlen)
{
	size_t n = strcspn(arg + 2, "="), i;
	const char *hint = "see --help", *meant;
	bool prefix;
	int shown = n > (size_t)echo_len(arg + 2) ? echo_len(arg + 2) : (int)n;

	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++)
		if (strncmp(cfg_opts[i].flag, arg + 2, n) == 0)
			hint = "options cannot be abbreviated";
	meant = suggest(role, arg + 2, n, &prefix);
	if (meant)
		return cfg_fail(err, errlen,
				"unknown option '--%.*s' (%sdid you mean --%s?)",
				shown, arg + 2,
				prefix ? "options cannot be abbreviated: " : "",
				meant);
	return cfg_fail(err, errlen, "unknown option '--%.*s' (%s)", shown,
			arg + 2, hint);
}

/* A stray word: "stauts" for the status subcommand, or a leftover. */
static int unexpected(const char *arg, bool first, char *err, size_t errlen)
{
	if (first && distance(arg, strlen(arg), CONFIG_SUBCOMMAND_STATUS) <= 2)
		return cfg_fail(err, errlen,
				"unknown subcommand " QFMT " (did you mean '%s'?)",
				QARG(arg), CONFIG_SUBCOMMAND_STATUS);
	return cfg_fail(err, errlen, "unexpected argument " QFMT
			" (phantun options take no positional arguments)",
			QARG(arg));
}

/*
 * glibc takes any unique prefix ("--rem" for --remote); phantun's clap
 * does not, and a command line that works only with fauxtcp is a trap,
 * so insist on the whole name.  lo is the option getopt matched.
 */
static int check_abbrev(enum config_role role, const struct option *lo,
			int argc, char **argv, char *err, size_t errlen)
{
	size_t len = strlen(lo->name);
	const char *arg;
	int at = optind - 1;

	/* A separate argument ("--local X") sits after the option itself. */
	if (lo->has_arg && at >= 1 && optarg == argv[at])
		at--;
	if (at < 1 || at >= argc || !starts_with_dashdash(argv[at]))
		return 0;
	arg = argv[at];
	if (strcspn(arg + 2, "=") == len &&
	    strncmp(arg + 2, lo->name, len) == 0)
		return 0;
	return unknown_long(role, arg, err, errlen);
}

static int getopt_error(const struct config *c, int rc, int argc,
			char **argv, char *err, size_t errlen)
{
	const char *arg = optind >= 1 && optind <= argc ? argv[optind - 1] : "";
	const struct opt_desc *o = find_val(optopt);
	bool short_opt = optopt > 0 && optopt < LONG_VAL_BASE;
	bool via_short = short_opt && !starts_with_dashdash(arg);

	if (rc == ':' && o) {
		char name[80];

		return cfg_fail(err, errlen, "%s: missing value %s",
				typed(o, via_short, name, sizeof(name)),
				cfg_metavar(o, c->role));
	}
	/* A known option getopt refused: "--check=yes". */
	if (o && !via_short)
		return cfg_fail(err, errlen, "--%s takes no value", o->flag);
	if (short_opt && optopt >= ' ' && optopt < 0x7f)
		return cfg_fail(err, errlen, "unknown option '-%c' (see --help)",
				optopt);
	if (starts_with_dashdash(arg))
		return unknown_long(c->role, arg, err, errlen);
	return cfg_fail(err, errlen, "bad option " QFMT " (see --help)", QARG(arg));
}

static int apply_flag(struct config *c, const struct opt_desc *o,
		      bool via_short, const char *arg, char *err, size_t errlen)
{
	char msg[MSG_MAX], name[80];

	typed(o, via_short, name, sizeof(name));
	if (!(o->roles & role_bit(c->role)))
		return cfg_fail(err, errlen, "%s is a %s option, not a %s one",
				name, role_name(other_role(c->role)),
				role_name(c->role));
	if (cfg_set_opt(c, o, arg ? arg : o->flag_value, msg, sizeof(msg)) < 0)
		return cfg_fail(err, errlen, "%s: %s", name, msg);
	return 0;
}

static bool is_early(const struct opt_desc *o)
{
	return o->id == CONFIG_OPT_CONFIG || o->id == CONFIG_OPT_HELP ||
	       o->id == CONFIG_OPT_VERSION;
}

/*
 * One getopt_long() walk over argv.  The early pass takes only -c, -h and
 * -V, so the file can be loaded before the other flags override it; it
 * also reports every syntax error, so the late pass cannot hit one.
 */
static int walk_args(struct config *c, int argc, char **argv, bool early,
		     char *err, size_t errlen)
{
	struct option lo[ARRAY_SIZE(cfg_opts) + 1];
	char shorts[2 + 2 * ARRAY_SIZE(cfg_opts) + 1];
	int rc, li = -1;

	build_getopt(lo, shorts);
	optind = 0;	/* glibc: 0 also forgets a half-read "-4x" cluster */
	opterr = 0;
	/* getopt_long() sets li only when it matched a long option. */
	while ((rc = getopt_long(argc, argv, shorts, lo, &li)) != -1) {
		const struct opt_desc *o;
		int ret = 0;

		if (rc == '?' || rc == ':')
			return getopt_error(c, rc, argc, argv, err, errlen);
		if (li >= 0)
			ret = check_abbrev(c->role, &lo[li], argc, argv, err,
					   errlen);
		if (ret < 0)
			return ret;
		o = find_val(rc);
		if (!o)
			return cfg_fail(err, errlen, "internal error: getopt %d",
					rc);
		if (early == is_early(o))
			ret = apply_flag(c, o, li < 0, optarg, err, errlen);
		if (ret < 0)
			return ret;
		li = -1;
	}
	if (optind < argc)
		return unexpected(argv[optind], optind == 1, err, errlen);
	return 0;
}

int config_parse_args(struct config *c, int argc, char **argv, char *err,
		      size_t errlen)
{
	int rc;

	rc = walk_args(c, argc, argv, true, err, errlen);
	if (rc < 0 || c->help || c->version)
		return rc;
	if (c->config_file[0]) {
		rc = config_load_file(c, c->config_file, err, errlen);
		if (rc < 0)
			return rc;
	}
	return walk_args(c, argc, argv, false, err, errlen);
}
