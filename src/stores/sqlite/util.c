/*
 * libpatron-sqlite: the bottom layer the schema and the store share — a
 * SQLite result code as a patron_status, and table names under the prefix.
 * Calls nothing else of the store, so schema.c and store.c do not depend
 * on each other both ways.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite_internal.h"

#include <string.h>

int psq_status_of(int sqlite_rc)
{
    switch (sqlite_rc & 0xff) {
    case SQLITE_OK:
        return PATRON_OK;
    case SQLITE_NOMEM:
        return PATRON_E_NOMEM;
    case SQLITE_CANTOPEN:
        return PATRON_E_STORE;
    default:
        return PATRON_E_STORE;
    }
}

char *psq_expand(const char *tmpl, const char *prefix)
{
    size_t n = 0, plen = strlen(prefix);
    const char *p;
    char *out, *q;

    for (p = tmpl; *p; p++)
        n += *p == '@' ? plen : 1;
    if (!(out = patron_malloc(n + 1)))
        return NULL;
    for (p = tmpl, q = out; *p; p++) {
        if (*p == '@') {
            memcpy(q, prefix, plen);
            q += plen;
        } else {
            *q++ = *p;
        }
    }
    *q = '\0';
    return out;
}

int psq_kind_counted(int kind)
{
    return kind == 100 || kind == 101 || kind == 102 || (kind >= 120 && kind <= 123);
}
