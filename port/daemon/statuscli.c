// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "statuscli.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "status.h"
#include "statusfmt.h"
#include "statusrec.h"

#define PREFIX_CLIENT "fauxtcp-client "
#define PREFIX_SERVER "fauxtcp-server "

enum view { VIEW_TEXT, VIEW_FULL, VIEW_JSON, VIEW_PROMETHEUS };

struct query {
	const char *prog; /* "fauxtcp-client status", in messages */
	enum view view;
	struct srec_report *reports; /* grown by take() */
	size_t n, cap;
};

void statuscli_name(enum config_role role, const struct config *cfg, char *buf, size_t len)
{
	if (role == CONFIG_CLIENT)
		snprintf(buf, len, PREFIX_CLIENT "%s", cfg->local);
	else
		snprintf(buf, len, PREFIX_SERVER "%u", cfg->local_port);
}

/* Who must hold a client's name: the owner of its UDP --local, which
 * only the daemon can hold (anyone may bind an abstract name first).
 * -ENOENT: nothing holds that address, the client is not running. */
static int client_owner(const struct config *cfg, uid_t *owner)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST}, *res;
	char port[8];
	int e = -ENOENT;

	snprintf(port, sizeof(port), "%u", cfg->local_port);
	if (getaddrinfo(cfg->local_host, port, &hints, &res) == 0) {
		e = status_udp_owner(res->ai_addr, owner);
		freeaddrinfo(res);
	}
	return e;
}

/* Printable ASCII, tab and newline only: whoever holds the name must
 * not drive the terminal. */
static void print_clean(FILE *out, char *s)
{
	for (char *p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch != '\n' && ch != '\t' && (ch < 0x20 || ch > 0x7e))
			*p = '?';
	}
	fputs(s, out);
}

/* s with bytes outside printable ASCII as '?', in buf: for messages. */
static const char *clean(const char *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", s);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return buf;
}

static const char *what(enum config_role role)
{
	return role == CONFIG_CLIENT ? "fauxtcp-client" : "fauxtcp-server";
}

static int not_running(const struct query *q, enum config_role role, const struct config *cfg)
{
	if (role == CONFIG_CLIENT) {
		char local[300];
		fprintf(stderr, "%s: no fauxtcp-client runs with --local %s in this network namespace; "
			"start it, or run `fauxtcp-client status` alone to list the instances running here\n",
			q->prog, clean(cfg->local, local, sizeof(local)));
	} else {
		fprintf(stderr, "%s: no fauxtcp-server runs on port %u in this network namespace; "
			"start it, or run `fauxtcp-server status` alone to list the instances running here\n",
			q->prog, cfg->local_port);
	}
	return STATUSCLI_NOT_RUNNING;
}

/* The answer of one instance: printed (text, full) or kept (JSON,
 * Prometheus render them all at the end). */
static int take(struct query *q, enum config_role role, const char *name, struct status_buf *b,
		const struct status_peer *peer)
{
	if (!b->data)
		return STATUSCLI_ERROR; /* status_fetch always leaves a string */
	if (strncmp(b->data, STATUS_REFUSED, sizeof(STATUS_REFUSED) - 1) == 0) {
		fputs(STATUS_REFUSED, stderr);
		return STATUSCLI_ERROR;
	}
	if (q->view == VIEW_FULL) {
		fputs(q->n++ ? "\n" : "", stdout);
		print_clean(stdout, b->data);
		return STATUSCLI_OK;
	}
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 8;
		struct srec_report *v = realloc(q->reports, cap * sizeof(*v));
		if (!v)
			return STATUSCLI_ERROR;
		q->reports = v;
		q->cap = cap;
	}
	struct srec_report *r = &q->reports[q->n];
	int e = srec_parse(r, b->data);
	b->data = NULL;
	if (e < 0) {
		fprintf(stderr, "%s: the process holding the status socket \"%s\" (pid %d, uid %u) did not "
			"answer with a %s status report (%s); `%s status -v` shows its answer as text\n",
			q->prog, name, (int)peer->pid, (unsigned)peer->uid, what(role), strerror(-e), what(role));
		srec_free(r);
		return STATUSCLI_ERROR;
	}
	if (q->view == VIEW_TEXT) {
		fputs(q->n ? "\n" : "", stdout);
		statusfmt_text(stdout, r);
		srec_free(r);
	}
	q->n++;
	return STATUSCLI_OK;
}

/* Asks the instance of role configured as cfg: an exit code. */
static int ask(struct query *q, enum config_role role, const struct config *cfg)
{
	char name[300], shown[300], local[300];
	struct status_buf b = {0};
	struct status_peer peer = {0};
	uid_t owner = (uid_t)-1;
	int e = 0;

	statuscli_name(role, cfg, name, sizeof(name));
	clean(name, shown, sizeof(shown));
	clean(cfg->local, local, sizeof(local));
	if (role == CONFIG_CLIENT)
		e = client_owner(cfg, &owner);
	if (e == 0)
		e = status_fetch(name, owner, q->view == VIEW_FULL ? STATUS_ASK_FULL : STATUS_ASK_RECORDS, &b,
				 &peer);
	int rc = STATUSCLI_ERROR;
	if (e == -ENOENT || e == -ECONNREFUSED)
		rc = not_running(q, role, cfg);
	else if (e == -EPERM)
		fprintf(stderr, "%s: the status socket of --local %s is held by pid %d (uid %u), not by the "
			"fauxtcp-client holding that address (uid %u), so its answer is not shown; stop pid %d "
			"and restart the client\n",
			q->prog, local, (int)peer.pid, (unsigned)peer.uid, (unsigned)owner, (int)peer.pid);
	else if (e == -EAGAIN)
		fprintf(stderr, "%s: skipping the status socket \"%s\": it accepts no connection (backlog full)\n",
			q->prog, shown);
	else if (e == -ETIMEDOUT || e == -EFBIG)
		fprintf(stderr, "%s: skipping the status socket \"%s\" (pid %d, uid %u): %s\n", q->prog, shown,
			(int)peer.pid, (unsigned)peer.uid,
			e == -ETIMEDOUT ? "no whole answer within 2 s" : "its answer is over 16 MiB");
	else if (e < 0)
		fprintf(stderr, "%s: cannot ask %s: %s\n", q->prog, shown, strerror(-e));
	else
		rc = take(q, role, shown, &b, &peer);
	free(b.data);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* p past n space-separated fields and the spaces after them. */
static char *skip_fields(char *p, int n)
{
	for (int i = 0; i < n; i++) {
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	return p;
}

/* name into *names (grown): 0, or -1 out of memory. */
static int add_name(char ***names, size_t *n, size_t *cap, const char *name)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		char **v = realloc(*names, c * sizeof(*v));
		if (!v)
			return -1;
		*names = v;
		*cap = c;
	}
	(*names)[*n] = strdup(name);
	if (!(*names)[*n])
		return -1;
	++*n;
	return 0;
}

/* The listening status sockets in this network namespace: all their
 * names, however many others hold names first (malloc'ed, sorted,
 * maybe repeated) into *out; their count. */
static size_t find_instances(char ***out)
{
	FILE *f = fopen("/proc/net/unix", "re");
	char line[512];
	char **names = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!f)
		return 0;
	/* "Num RefCount Protocol Flags Type St Inode Path": the path is the
	 * rest of the line (ours hold a space), '@' for an abstract name. */
	while (fgets(line, sizeof(line), f)) {
		char *p = skip_fields(line, 3), *end;
		unsigned long flags = strtoul(p, &end, 16);
		p = skip_fields(p, 4);
		/* __SO_ACCEPTCON: listening, not an accepted connection */
		if (end == p || !(flags & 0x10000) || *p != '@')
			continue;
		char *path = p + 1;
		path[strcspn(path, "\n")] = 0;
		if ((strncmp(path, PREFIX_CLIENT, strlen(PREFIX_CLIENT)) == 0 ||
		     strncmp(path, PREFIX_SERVER, strlen(PREFIX_SERVER)) == 0) &&
		    add_name(&names, &n, &cap, path) < 0)
			break;
	}
	fclose(f);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	return n;
}

/* A found name's instance, as if asked with -l. */
static int ask_found(struct query *q, const char *name)
{
	enum config_role role = strncmp(name, PREFIX_CLIENT, strlen(PREFIX_CLIENT)) == 0 ? CONFIG_CLIENT
											  : CONFIG_SERVER;
	char local[256], err[256];
	char *argv[] = {"status", "-l", local, NULL};
	struct config cfg;

	snprintf(local, sizeof(local), "%s", name + strlen(PREFIX_CLIENT));
	config_init(&cfg, role);
	if (config_parse_args(&cfg, 3, argv, err, sizeof(err)) < 0) {
		char shown[300];
		fprintf(stderr, "%s: ignoring the status socket \"%s\": ", q->prog,
			clean(name, shown, sizeof(shown)));
		print_clean(stderr, err);
		fputc('\n', stderr);
		return STATUSCLI_ERROR;
	}
	return ask(q, role, &cfg);
}

static int ask_all(struct query *q)
{
	char **names;
	size_t n = find_instances(&names), asked = 0;
	int rc = STATUSCLI_OK;

	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(names[i], names[i - 1]) == 0)
			continue;
		int e = ask_found(q, names[i]);
		/* One that stopped since it was listed is no error. */
		if (e == STATUSCLI_ERROR)
			rc = e;
		asked++;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!asked) {
		fprintf(stderr, "%s: no fauxtcp-client or fauxtcp-server runs in this network namespace; "
			"start one, or run this in its namespace (ip netns exec NAME ...)\n", q->prog);
		return STATUSCLI_NOT_RUNNING;
	}
	return rc;
}

/* Takes -v/--verbose, --json and --prometheus out of argv (argv[0] is
 * "status"): the new argc, or -1 for two views at once. */
static int take_view(struct query *q, int argc, char **argv)
{
	int n = 1, views = 0;

	q->view = VIEW_TEXT;
	for (int i = 1; i < argc; i++) {
		enum view v = VIEW_TEXT;
		if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
			v = VIEW_FULL;
		else if (strcmp(argv[i], "--json") == 0)
			v = VIEW_JSON;
		else if (strcmp(argv[i], "--prometheus") == 0)
			v = VIEW_PROMETHEUS;
		if (v == VIEW_TEXT) {
			argv[n++] = argv[i];
			continue;
		}
		views += q->view != v;
		q->view = v;
	}
	argv[n] = NULL;
	return views > 1 ? -1 : n;
}

static int ask_configured(struct query *q, enum config_role role, int argc, char **argv)
{
	struct config cfg;
	char err[512];

	config_init(&cfg, role);
	if (config_parse_args(&cfg, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", q->prog, err);
		return STATUSCLI_USAGE;
	}
	if (role == CONFIG_CLIENT ? !cfg.local[0] : !cfg.local_port) {
		fprintf(stderr, "%s: which instance? give -l %s (or -c FILE naming it), or nothing to list "
			"every instance running in this network namespace\n",
			q->prog, role == CONFIG_CLIENT ? "IP:PORT" : "PORT");
		return STATUSCLI_USAGE;
	}
	return ask(q, role, &cfg);
}

int statuscli_main(enum config_role role, int argc, char **argv)
{
	static struct query q;
	static char prog[64];

	snprintf(prog, sizeof(prog), "%s status", what(role));
	q.prog = prog;
	argc = take_view(&q, argc - 1, argv + 1);
	if (argc < 0) {
		fprintf(stderr, "%s: choose one of -v, --json and --prometheus\n", prog);
		return STATUSCLI_USAGE;
	}
	int rc = argc > 1 ? ask_configured(&q, role, argc, argv + 1) : ask_all(&q);
	if (q.view == VIEW_JSON && rc != STATUSCLI_NOT_RUNNING)
		statusfmt_json(stdout, q.reports, q.n);
	if (q.view == VIEW_PROMETHEUS && rc != STATUSCLI_NOT_RUNNING)
		statusfmt_prometheus(stdout, q.reports, q.n);
	/* -v counts the answers it printed in q.n but keeps no reports */
	for (size_t i = 0; q.reports && i < q.n; i++)
		srec_free(&q.reports[i]);
	free(q.reports);
	fflush(stdout);
	return rc;
}
