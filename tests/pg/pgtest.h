/* Scaffolding shared by the PostgreSQL tests (tests/pg): the server from
 * PATRON_TEST_PG, an admin connection without notices, and failed checks
 * counted instead of ending the run (the stand-alone tests, which report
 * every failed check of a round and exit 1 at the end).
 * SPDX-License-Identifier: MIT */
#ifndef PATRON_TEST_PGTEST_H
#define PATRON_TEST_PGTEST_H

#include <libpq-fe.h>

/* Failed checks so far (pgt_fail). */
extern int pgt_failures;

/* Print "FAIL: <message>" on stderr and count it. */
void pgt_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* A notice processor that drops the notices ("drop cascades to ..."). */
void pgt_quiet(void *arg, const char *message);

/* The server to test on: PATRON_TEST_PG, or NULL when it is not set. */
const char *pgt_conninfo(void);

/* A stand-alone test without a server: say so on stderr; returns 77, the
 * exit status meson counts as "skipped". */
int pgt_skip(void);

/* A connection to `conninfo` that drops notices; NULL (the reason on
 * stderr) when it cannot connect. */
PGconn *pgt_connect(const char *conninfo);

#endif
