/* Scaffolding shared by the PostgreSQL tests: see pgtest.h.
 * SPDX-License-Identifier: MIT */
#include "pgtest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int pgt_failures;

void pgt_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    pgt_failures++;
}

void pgt_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

const char *pgt_conninfo(void)
{
    const char *c = getenv("PATRON_TEST_PG");
    return c && *c ? c : NULL;
}

int pgt_skip(void)
{
    fprintf(stderr, "SKIP: PATRON_TEST_PG is not set (run under tests/pg/cluster.sh run)\n");
    return 77;
}

PGconn *pgt_connect(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect: %s\n", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, pgt_quiet, NULL);
    return c;
}
