/*
 * patron — the review commands' helpers shared with the HTML page.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PATRON_CLI_REVIEW_H
#define PATRON_CLI_REVIEW_H

#include "cli.h"

/* "Max Müller"; the company when there is no name; `none` when there is
 * neither (dedupe's name columns stay empty, the review lists say so). */
const char *review_name(const patron_customer *c, const char *none, char *buf, size_t cap);
/* The same from the three values (each NULL when not given). */
const char *review_name_of(const char *first, const char *last, const char *company, const char *none, char *buf,
                           size_t cap);
/* review_name_of of values whose lengths are known (lf, ll, lc; each 0
 * when its value is NULL); returns the length written to buf. */
size_t review_name_len(const char *first, size_t lf, const char *last, size_t ll, const char *company, size_t lc,
                       const char *none, char *buf, size_t cap);
/* Load the members of a case, in its order.  CLI_OK or the exit code
 * after a message; free with review_members_free(). */
int review_members(cli *ctx, const patron_case *c, patron_customer ***out, size_t *n_out);
void review_members_free(patron_customer **m, size_t n);
/* Scan the queue (a full scan when `full`) and say what it did: on stdout,
 * or on stderr after "patron: " when `quiet` (dedupe).  CLI_OK or exit code. */
int review_scan(cli *ctx, int full, int quiet);
/* Write the cases in `states` as the library's self-contained HTML page
 * (patron_db_review_html()) to `path` (review_html.c). */
int review_write_html(cli *ctx, unsigned states, const char *path);

#endif
