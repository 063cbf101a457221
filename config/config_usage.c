// SPDX-License-Identifier: MIT
/*
 * config: --help, printed from the option table (cfg_opts[]) that the
 * parsers use, so the usage cannot list a flag they refuse or miss one
 * they take.  Defaults come from config_init(), not from the help texts.
 */
#define _GNU_SOURCE

#include "config_int.h"

#include <stdio.h>
#include <string.h>

/* Lines stay shorter than a classic 80-column terminal. */
#define USAGE_WIDTH	79
/* Room for "(default 192.168.201.1)" and the like. */
#define DEFAULT_MAX	(CONFIG_IP_MAX + 16)

/* What config_validate() insists on, for the "usage:" line. */
static const enum config_opt required[] = {
	CONFIG_OPT_LOCAL,
	CONFIG_OPT_REMOTE,
};

static const struct opt_desc *find_id(enum config_opt id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++)
		if (cfg_opts[i].id == id)
			return &cfg_opts[i];
	return NULL;
}

/* Whether o gets a line of its own in role's usage. */
static bool listed(const struct opt_desc *o, enum config_role role)
{
	return (o->roles & role_bit(role)) &&
	       o->text[role_index(role)].help != NULL;
}

/* "  -l, --local IP:PORT" or "      --iface NAME": its length. */
static int flag_part(const struct opt_desc *o, enum config_role role,
		     char *buf, size_t len)
{
	const char *mv = o->flag_value ? NULL : cfg_metavar(o, role);
	int n;

	if (o->short_flag)
		n = cfg_format(buf, len, "  -%c, --%s", o->short_flag, o->flag);
	else
		n = cfg_format(buf, len, "      --%s", o->flag);
	if (mv && n >= 0 && (size_t)n < len)
		n += cfg_format(buf + n, len - (size_t)n, " %s", mv);
	return n;
}

/* "(default 180)" from d, a config_init()ed config; "" when none. */
static void default_of(const struct config *d, enum config_opt id,
		       char *buf, size_t len)
{
	const char *s = NULL;
	unsigned int n = 0;

	switch (id) {
	case CONFIG_OPT_TUN_LOCAL:
		s = d->tun_local;
		break;
	case CONFIG_OPT_TUN_PEER:
		s = d->tun_peer;
		break;
	case CONFIG_OPT_TUN_LOCAL6:
		s = d->tun_local6;
		break;
	case CONFIG_OPT_TUN_PEER6:
		s = d->tun_peer6;
		break;
	case CONFIG_OPT_MODE:
		s = d->mode == CONFIG_MODE_RAW ? "raw" : "tun";
		break;
	case CONFIG_OPT_LOG_LEVEL:
		s = config_log_level_name(d->log_level);
		break;
	case CONFIG_OPT_MAX_CONNS:
		n = d->max_conns;
		break;
	case CONFIG_OPT_IDLE_TIMEOUT:
		n = d->idle_timeout;
		break;
	case CONFIG_OPT_HEAL_TIMEOUT:
		n = d->heal_timeout;
		break;
	case CONFIG_OPT_RESOLVE_INTERVAL:
		n = d->resolve_interval;
		break;
	case CONFIG_OPT_BUSY_POLL:
		n = d->busy_poll;
		break;
	default:
		buf[0] = '\0';
		return;
	}
	if (s)
		cfg_format(buf, len, "(default %s)", s);
	else
		cfg_format(buf, len, "(default %u)", n);
}

/*
 * Put w bytes of s at column *at: after a space, or at column indent of a
 * new line when they would reach USAGE_WIDTH.
 */
static void put_unit(FILE *f, int *at, int indent, const char *s, size_t w)
{
	if (*at > indent && *at + 1 + (int)w > USAGE_WIDTH)
		*at = fprintf(f, "\n%*s", indent, "") - 1;
	else if (*at > indent)
		*at += fprintf(f, " ");
	*at += fprintf(f, "%.*s", (int)w, s);
}

/*
 * Print text word by word from column at, wrapped at USAGE_WIDTH onto
 * lines that start at column indent, then tail ("(default 5)") unbroken,
 * then '\n'.
 */
static void put_words(FILE *f, int at, int indent, const char *text,
		      const char *tail)
{
	for (text += strspn(text, " "); *text; text += strspn(text, " ")) {
		size_t w = strcspn(text, " ");

		put_unit(f, &at, indent, text, w);
		text += w;
	}
	if (*tail)
		put_unit(f, &at, indent, tail, strlen(tail));
	fputc('\n', f);
}

/* The column the help texts start at: past the longest flag part. */
static int help_column(enum config_role role)
{
	char buf[128];
	int col = 0, n;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++) {
		if (!listed(&cfg_opts[i], role))
			continue;
		n = flag_part(&cfg_opts[i], role, buf, sizeof(buf));
		if (n > col)
			col = n;
	}
	return col + 2;
}

static void put_option(FILE *f, const struct opt_desc *o,
		       const struct config *d, int col)
{
	char flags[128], def[DEFAULT_MAX];
	int n = flag_part(o, d->role, flags, sizeof(flags));

	default_of(d, o->id, def, sizeof(def));
	/* help_column() leaves at least two spaces after the longest. */
	fprintf(f, "%s%*s", flags, n < col ? col - n : 1, "");
	put_words(f, col, col, o->text[role_index(d->role)].help, def);
}

/* "usage: fauxtcp-client -l IP:PORT -r HOST:PORT [options]" */
static void put_synopsis(FILE *f, enum config_role role)
{
	size_t i;

	fprintf(f, "usage: fauxtcp-%s", role_name(role));
	for (i = 0; i < ARRAY_SIZE(required); i++) {
		const struct opt_desc *o = find_id(required[i]);

		if (o)
			fprintf(f, " -%c %s", o->short_flag,
				cfg_metavar(o, role));
	}
	fprintf(f, " [options]\n");
}

/* The daemons' status subcommand, and the client's ignored TUN flags. */
static void put_footer(FILE *f, enum config_role role)
{
	const struct opt_desc *local = find_id(CONFIG_OPT_LOCAL);
	char names[MSG_MAX] = "phantun's";
	size_t i, used = strlen(names);
	int n = 0;

	fprintf(f, "  fauxtcp-%s status -l %s   report of a running %s\n",
		role_name(role), local ? cfg_metavar(local, role) : "",
		role_name(role));
	fprintf(f, "  fauxtcp-%s status [-v|--json|--prometheus]   all running here\n",
		role_name(role));
	if (role == CONFIG_SERVER)
		return;
	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++) {
		if (!cfg_opts[i].client_ignores)
			continue;
		used += (size_t)cfg_format(names + used, sizeof(names) - used,
					   "%s --%s", n++ ? "," : "",
					   cfg_opts[i].flag);
		if (used >= sizeof(names))
			return;	/* cannot happen: five short names */
	}
	cfg_format(names + used, sizeof(names) - used,
		   " %s accepted and ignored: fauxtcp needs no TUN.",
		   n > 1 ? "are" : "is");
	fprintf(f, "  ");
	put_words(f, 2, 2, names, "");
}

void config_usage(FILE *f, enum config_role role)
{
	struct config d;
	size_t i;
	int col;

	config_init(&d, role);
	col = help_column(role);
	put_synopsis(f, role);
	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++)
		if (listed(&cfg_opts[i], role))
			put_option(f, &cfg_opts[i], &d, col);
	put_footer(f, role);
}
