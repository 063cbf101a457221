// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "statusfmt.h"

#include <inttypes.h>
#include <string.h>

/* ---- short text ---- */

static const char *dur(uint64_t s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%us", (unsigned)s);
	else if (s < 3600)
		snprintf(buf, len, "%um %us", (unsigned)(s / 60), (unsigned)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%uh %um", (unsigned)(s / 3600), (unsigned)(s / 60 % 60));
	else
		snprintf(buf, len, "%ud %uh", (unsigned)(s / 86400), (unsigned)(s / 3600 % 24));
	return buf;
}

static const char *bytes(uint64_t n, char *buf, size_t len)
{
	if (n < 1024)
		snprintf(buf, len, "%u B", (unsigned)n);
	else if (n < 1048576)
		snprintf(buf, len, "%.2f KiB", (double)n / 1024);
	else if (n < 1073741824)
		snprintf(buf, len, "%.2f MiB", (double)n / 1048576);
	else
		snprintf(buf, len, "%.2f GiB", (double)n / 1073741824);
	return buf;
}

/* "  LABEL: name N, name N" for l's non-zero counters of group, wrapped
 * under the first item past 78 columns; nothing if all are zero. */
static void nonzero(FILE *out, const struct srec_list *l, const char *group, const char *indent,
		    const char *label)
{
	int col = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct srec_item *it = &l->v[i];
		char item[96];
		if (it->kind != 'c' || !it->num || strcmp(it->group, group) != 0)
			continue;
		int n = snprintf(item, sizeof(item), "%s %" PRIu64, it->name, it->num);
		for (char *p = strchr(item, '_'); p; p = strchr(p, '_'))
			*p = ' ';
		if (!col)
			col = fprintf(out, "%s%s: %s", indent, label, item);
		else if (col + n + 2 > 78)
			col = fprintf(out, ",\n%s%*s%s", indent, (int)strlen(label) + 2, "", item);
		else
			col += fprintf(out, ", %s", item);
	}
	if (col)
		fputc('\n', out);
}

static void text_conn(FILE *out, const struct srec_list *c)
{
	char ago[32], in[32], outb[32];
	const char *peer = srec_s(c, "peer"), *closing = srec_s(c, "closing");

	if (peer[0])
		fprintf(out, "\n  peer: %s\n    tuple: %s\n", peer, srec_s(c, "tuple"));
	else
		fprintf(out, "\n  connection: %s\n", srec_s(c, "tuple"));
	fprintf(out, "    state: %s%s%s\n", srec_s(c, "state"), closing[0] ? ", " : "", closing);
	fprintf(out, "    last heard: %s ago\n", dur(srec_u(c, "idle_ms") / 1000, ago, sizeof(ago)));
	fprintf(out, "    transfer: %s received, %s sent\n", bytes(srec_u(c, "bytes_in"), in, sizeof(in)),
		bytes(srec_u(c, "bytes_out"), outb, sizeof(outb)));
	nonzero(out, c, "drop", "    ", "drops");
	nonzero(out, c, "reset", "    ", "resets");
}

void statusfmt_text(FILE *out, const struct srec_report *r)
{
	const struct srec_list *l = &r->inst;
	const char *src = srec_s(l, "source"), *ifc = srec_s(l, "interface");
	char up[32];

	fprintf(out, "%s: %s%s\n", srec_s(l, "role"), strcmp(srec_s(l, "role"), "server") == 0 ? "port " : "",
		srec_s(l, "local"));
	fprintf(out, "  %s: %s\n", strcmp(srec_s(l, "role"), "client") == 0 ? "server" : "remote",
		srec_s(l, "remote"));
	fprintf(out, "  mode: %s%s%s%s%s%s\n", srec_s(l, "mode"), ifc[0] ? " on " : "", ifc,
		src[0] ? " (source " : "", src, src[0] ? ")" : "");
	fprintf(out, "  up: %s, pid %" PRIu64 "\n", dur(srec_u(l, "uptime_seconds"), up, sizeof(up)),
		srec_u(l, "pid"));
	fprintf(out, "  connections: %" PRIu64 " of %" PRIu64 "\n", srec_u(l, "open_connections"),
		srec_u(l, "max_connections"));
	nonzero(out, l, "drop", "  ", "drops");
	nonzero(out, l, "reset", "  ", "resets");
	for (size_t i = 0; i < r->nconns; i++)
		text_conn(out, &r->conns[i]);
}

/* ---- JSON ---- */

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p > 0x7e)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* l's strings and gauges as members, its counters in "counters". */
static void json_fields(FILE *out, const struct srec_list *l, const char *indent)
{
	int first = 1;

	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].kind == 'c')
			continue;
		fprintf(out, "%s%s", indent, "");
		json_str(out, l->v[i].name);
		fputs(": ", out);
		if (l->v[i].kind == 's')
			json_str(out, l->v[i].value);
		else
			fprintf(out, "%" PRIu64, l->v[i].num);
		fputs(",\n", out);
	}
	fprintf(out, "%s\"counters\": {", indent);
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].kind != 'c')
			continue;
		fprintf(out, "%s\n%s  ", first ? "" : ",", indent);
		json_str(out, l->v[i].name);
		fprintf(out, ": %" PRIu64, l->v[i].num);
		first = 0;
	}
	fprintf(out, "\n%s}", indent);
}

void statusfmt_json(FILE *out, const struct srec_report *r, size_t n)
{
	fputs("{\n  \"schema\": 1,\n  \"instances\": [", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s\n    {\n", i ? "," : "");
		json_fields(out, &r[i].inst, "      ");
		fputs(",\n      \"connections\": [", out);
		for (size_t c = 0; c < r[i].nconns; c++) {
			fprintf(out, "%s\n        {\n", c ? "," : "");
			json_fields(out, &r[i].conns[c], "          ");
			fputs("\n        }", out);
		}
		fputs(r[i].nconns ? "\n      ]\n    }" : "]\n    }", out);
	}
	fputs(n ? "\n  ]\n}\n" : "]\n}\n", out);
}

/* ---- Prometheus ---- */

static void prom_escape(FILE *out, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '"' && quote)
			fputs("\\\"", out);
		else
			fputc(*s, out);
	}
}

static void prom_labels(FILE *out, const struct srec_list *l)
{
	fputs("{role=\"", out);
	prom_escape(out, srec_s(l, "role"), 1);
	fputs("\",local=\"", out);
	prom_escape(out, srec_s(l, "local"), 1);
	fputs("\"}", out);
}

/* Is item i of report k's instance the first of its name in r[0..k]? */
static int first_seen(const struct srec_report *r, size_t k, size_t i)
{
	const char *name = r[k].inst.v[i].name;
	char kind = r[k].inst.v[i].kind;

	for (size_t j = 0; j < k; j++) {
		const struct srec_item *v = srec_find(&r[j].inst, name);
		if (v && v->kind == kind)
			return 0;
	}
	for (size_t j = 0; j < i; j++)
		if (r[k].inst.v[j].kind == kind && strcmp(r[k].inst.v[j].name, name) == 0)
			return 0;
	return 1;
}

static void prom_family(FILE *out, const struct srec_report *r, size_t n, size_t k, size_t i)
{
	const struct srec_item *it = &r[k].inst.v[i];
	int counter = it->kind == 'c';

	fprintf(out, "# HELP fauxtcp_%s%s ", it->name, counter ? "_total" : "");
	prom_escape(out, it->help, 0);
	fprintf(out, "\n# TYPE fauxtcp_%s%s %s\n", it->name, counter ? "_total" : "",
		counter ? "counter" : "gauge");
	for (size_t j = k; j < n; j++) {
		const struct srec_item *v = srec_find(&r[j].inst, it->name);
		if (!v || v->kind != it->kind)
			continue;
		fprintf(out, "fauxtcp_%s%s", it->name, counter ? "_total" : "");
		prom_labels(out, &r[j].inst);
		fprintf(out, " %" PRIu64 "\n", v->num);
	}
}

static void prom_info(FILE *out, const struct srec_report *r, size_t n)
{
	fputs("# HELP fauxtcp_info The instance's settings as labels; always 1.\n# TYPE fauxtcp_info gauge\n", out);
	for (size_t k = 0; k < n; k++) {
		const struct srec_list *l = &r[k].inst;
		int first = 1;
		fputs("fauxtcp_info{", out);
		for (size_t i = 0; i < l->n; i++) {
			if (l->v[i].kind != 's')
				continue;
			fprintf(out, "%s%s=\"", first ? "" : ",", l->v[i].name);
			prom_escape(out, l->v[i].value, 1);
			fputc('"', out);
			first = 0;
		}
		fputs("} 1\n", out);
	}
}

void statusfmt_prometheus(FILE *out, const struct srec_report *r, size_t n)
{
	if (n)
		prom_info(out, r, n);
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < r[k].inst.n; i++)
			if (r[k].inst.v[i].kind != 's' && first_seen(r, k, i))
				prom_family(out, r, n, k, i);
}
