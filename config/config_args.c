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

/* arg is "--name" or "--name=value", as typed. */
static int unknown_long(const char *arg, char *err, size_t errlen)
{
	size_t n = strcspn(arg + 2, "="), i;
	const char *hint = "see --help";

	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++)
		if (strncmp(cfg_opts[i].flag, arg + 2, n) == 0)
			hint = "options cannot be abbreviated";
	return cfg_fail(err, errlen, "unknown option '--%.*s' (%s)",
			n > (size_t)echo_len(arg + 2) ? echo_len(arg + 2) : (int)n,
			arg + 2, hint);
}

/*
 * glibc takes any unique prefix ("--rem" for --remote); phantun's clap
 * does not, and a command line that works only with fauxtcp is a trap,
 * so insist on the whole name.  lo is the option getopt matched.
 */
static int check_abbrev(const struct option *lo, int argc, char **argv,
			char *err, size_t errlen)
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
	return unknown_long(arg, err, errlen);
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
		return unknown_long(arg, err, errlen);
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
			ret = check_abbrev(&lo[li], argc, argv, err, errlen);
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
		return cfg_fail(err, errlen, "unexpected argument " QFMT
				" (phantun options take no positional arguments)",
				QARG(argv[optind]));
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
