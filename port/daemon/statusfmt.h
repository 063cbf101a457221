// SPDX-License-Identifier: MIT
/*
 * statusfmt: the `status` command's three views of parsed reports
 * (statusrec.h): the short text (in the style of `wg show`), JSON and
 * the Prometheus text exposition format. Each renders every field
 * generically from the records, so a new counter needs no change here.
 * docs/status.md documents the JSON and Prometheus schemas.
 */
#ifndef FAUXTCP_STATUSFMT_H
#define FAUXTCP_STATUSFMT_H

#include <stddef.h>
#include <stdio.h>

#include "statusrec.h"

void statusfmt_text(FILE *out, const struct srec_report *r);
/* {"instances": [...]} of the n reports. */
void statusfmt_json(FILE *out, const struct srec_report *r, size_t n);
/* Every metric family once, with a sample per report that has it. */
void statusfmt_prometheus(FILE *out, const struct srec_report *r, size_t n);

#endif
