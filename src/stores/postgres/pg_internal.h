/* libpatron-pg — declarations shared by its files.  Not installed.
 * SPDX-License-Identifier: MIT */
#ifndef PATRON_PG_INTERNAL_H
#define PATRON_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "patron/patron.h"
#include "patron/postgres.h"
#include "patron/store.h"

#if defined(__GNUC__)
#  define PPG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define PPG_PRINTF(f, a)
#endif

/* The key kinds whose holders are counted in the table key_counts: the
 * matcher's value frequencies (email, phone, address, given name, last
 * name, company, "every customer"; src/match/match.h).  Part of the schema
 * (a change needs a migration step).  As in the SQLite store. */
#define PPG_COUNTED_KINDS "100, 101, 102, 120, 121, 122, 123"

/* schema.c */

/* Bring the tables of `s` (schema, prefix) to PATRON_PG_SCHEMA_VERSION, or
 * check them for a read-only store.  Runs in a transaction of its own (or
 * a savepoint of the host's) under the store's advisory lock.  On failure
 * writes a message to msg. */
struct patron_pg;
patron_status ppg_schema_prepare(struct patron_pg *s, char *msg, size_t msgsz);

/* `tmpl` with every "@name" replaced by "schema"."<prefix>name" and every
 * "%name" by "<prefix>name" (index names, which take no schema), from
 * patron_malloc; NULL if out of memory. */
char *ppg_expand(const struct patron_pg *s, const char *tmpl);

/* store.c: the parts schema.c uses */
const char *ppg_schema_name(const struct patron_pg *s);
const char *ppg_prefix_name(const struct patron_pg *s);
PGconn *ppg_conn(const struct patron_pg *s);
int64_t ppg_lock_key(const struct patron_pg *s);
unsigned ppg_flags(const struct patron_pg *s);

#endif /* PATRON_PG_INTERNAL_H */
