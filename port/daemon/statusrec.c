// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "statusrec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void srec_begin(struct status_buf *b)
{
	status_printf(b, "%s\n", SREC_MAGIC);
}

/* Printable ASCII only: no tab or newline can split a record. */
static void put_clean(struct status_buf *b, const char *s)
{
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(buf) - 1 && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf[i] = s[i];
		if (ch < 0x20 || ch > 0x7e)
			buf[i] = '?';
	}
	buf[i] = 0;
	status_printf(b, "%s", buf);
}

void srec_str(struct status_buf *b, const char *name, const char *value)
{
	status_printf(b, "s\tinfo\t%s\t", name);
	put_clean(b, value);
	status_printf(b, "\t\n");
}

void srec_num(struct status_buf *b, char kind, const char *group, const char *name, uint64_t v,
	      const char *help)
{
	status_printf(b, "%c\t%s\t%s\t%llu\t%s\n", kind, group, name, (unsigned long long)v, help);
}

void srec_conn(struct status_buf *b)
{
	status_printf(b, "n\n");
}

static struct srec_item *list_add(struct srec_list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct srec_item *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	return &l->v[l->n++];
}

static struct srec_list *conn_add(struct srec_report *r)
{
	if (r->nconns == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		struct srec_list *v = realloc(r->conns, cap * sizeof(*v));
		if (!v)
			return NULL;
		r->conns = v;
		r->cap = cap;
	}
	memset(&r->conns[r->nconns], 0, sizeof(r->conns[0]));
	return &r->conns[r->nconns++];
}

/* Is s non-empty and made of set's bytes only? */
static int only(const char *s, const char *set)
{
	return s[0] && s[strspn(s, set)] == 0;
}

/* Printable ASCII only (empty is fine): no terminal escapes. */
static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* One record line (NUL-terminated, without its newline) into l. Names
 * become Prometheus metric and label names, values and help are shown
 * as they are: anything else is no report of ours. */
static int parse_line(struct srec_list *l, char *line)
{
	char *f[5];
	int n = 0;

	for (char *p = line; n < 5; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = 0;
	}
	if (n != 4 || strlen(f[0]) != 1 || !strchr("scg", f[0][0]) ||
	    !only(f[1], "abcdefghijklmnopqrstuvwxyz") ||
	    !only(f[2], "abcdefghijklmnopqrstuvwxyz0123456789_") || !printable(f[3]) || !printable(f[4]))
		return -EPROTO;
	struct srec_item *it = list_add(l);
	if (!it)
		return -ENOMEM;
	*it = (struct srec_item){f[0][0], f[1], f[2], f[3], f[4], 0};
	if (it->kind != 's') {
		char *end;
		errno = 0;
		it->num = strtoull(f[3], &end, 10);
		if (errno || end == f[3] || *end)
			return -EPROTO;
	}
	return 0;
}

int srec_parse(struct srec_report *r, char *text)
{
	size_t magic = strlen(SREC_MAGIC);
	struct srec_list *cur = &r->inst;
	int e = 0;

	memset(r, 0, sizeof(*r));
	r->text = text;
	if (strncmp(text, SREC_MAGIC, magic) != 0 || text[magic] != '\n')
		return -EPROTO;
	for (char *line = text + magic + 1; !e && *line;) {
		char *nl = strchr(line, '\n');
		if (!nl)
			return -EPROTO; /* cut short */
		*nl = 0;
		if (strcmp(line, "n") == 0) {
			cur = conn_add(r);
			e = cur ? 0 : -ENOMEM;
		} else {
			e = parse_line(cur, line);
		}
		line = nl + 1;
	}
	return e;
}

void srec_free(struct srec_report *r)
{
	for (size_t i = 0; i < r->nconns; i++)
		free(r->conns[i].v);
	free(r->conns);
	free(r->inst.v);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

const struct srec_item *srec_find(const struct srec_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

const char *srec_s(const struct srec_list *l, const char *name)
{
	const struct srec_item *it = srec_find(l, name);

	return it ? it->value : "";
}

uint64_t srec_u(const struct srec_list *l, const char *name)
{
	const struct srec_item *it = srec_find(l, name);

	return it ? it->num : 0;
}
