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

/* The statements of store.c, prepared on first use. */
enum ppg_stmt {
    ST_CUST_INSERT, /* generated from the column tables */
    ST_CUST_UPDATE,
    ST_CUST_SELECT,
    ST_ADDR_SELECT,
    ST_CUST_DELETE,
    ST_CHILDREN_DELETE,
    ST_TAG_SELECT,
    ST_PROP_SELECT,
    ST_EXTRA_INSERT,
    ST_EXTRA_SELECT,
    ST_KEYS_REPLACE,
    ST_LISTS_INSERT, /* generated */
    ST_KEYS_DELETE,
    ST_KEY_LOOKUP,
    ST_KEY_COUNT,
    ST_KEY_COUNTED,
    ST_FORM_PUT,
    ST_FORM_GET,
    ST_SCAN,
    ST_COUNTER_BUMP,
    ST_CLAIM,
    ST_JOURNAL_INSERT,
    ST_JOURNAL_GET,
    ST_JOURNAL_SCAN,
    ST_JOURNAL_UNDONE,
    ST_JOURNAL_REWRITE,
    ST_META_GET,
    ST_META_SET,
    ST_META_DELETE,
    ST_META_SCAN,
    ST_META_SCAN_FROM,
    /* batched creates (store version 6, prefetch) */
    ST_PREFETCH_KEYS,
    ST_PREFETCH_NUMBERS,
    ST_COUNTER_GET,
    ST_COUNTER_SET,
    ST_IDS,
    ST_COUNTS_ADD,
    ST_FORMS_GET, /* the match forms of many customers (cb_match_form_get) */
    ST__COUNT
};

enum ppg_tx { TX_NONE = 0, TX_OWN, TX_HOST };

typedef struct ppg_ref {
    char *kind, *table_sql, *table, *customer_column, *id_column;
    unsigned flags;
    int prepared; /* bit per enum ref_stmt */
} ppg_ref;

enum ref_stmt { REF_OF, REF_RELINK, REF_MOVE, REF_COUNT, REF__COUNT };

#define PPG_MAX_REFS 64
#define PPG_MAX_IDENT 64

struct patron_pg {
    PGconn *conn;
    int own_conn;
    int backend_pid; /* the session our statements are prepared in */
    unsigned flags;
    int retry_budget;
    enum ppg_tx tx;
    char schema[PATRON_PG_SCHEMA_MAX + 1];
    char prefix[PATRON_PG_PREFIX_MAX + 1];
    int64_t lock_key;
    char stmt_base[48]; /* names of the prepared statements: <base>_<n> */
    char *sql[ST__COUNT];
    unsigned char prepared[ST__COUNT];
    ppg_ref *refs;
    size_t n_refs;
    /* results whose bytes a callback lent out (match_form_get) until the
     * transaction ends */
    PGresult **held;
    size_t n_held, cap_held;
    int tx_write; /* the open transaction holds the writers' lock */
    struct ppg_bulk *bulk; /* batched creates of the open transaction (prefetch), or NULL */
    int flushing;
    /* Match forms fetched ahead: the ids lookup() gave in this transaction
     * (want), fetched in one statement at the first match_form_get() of
     * one of them; each fetched id's form (len -1: none) points into a held
     * result.  Both are forgotten when the transaction ends or anything is
     * written. */
    int64_t *want;
    size_t n_want, cap_want;
    struct ppg_form {
        int64_t id;
        const char *form;
        int len;
    } *forms; /* sorted by id */
    size_t n_forms, cap_forms;
    int known_field_end, known_addr_end;
    int rt_field_end, rt_addr_end;
    char err[512];
};


/* schema.c */

/* Bring the tables of `s` (schema, prefix) to PATRON_PG_SCHEMA_VERSION, or
 * check them for a read-only store.  Runs in a transaction of its own (or
 * a savepoint of the host's) under the store's advisory lock.  On failure
 * writes a message to msg. */
patron_status ppg_schema_prepare(struct patron_pg *s, char *msg, size_t msgsz);

/* `tmpl` with every "@name" replaced by "schema"."<prefix>name" and every
 * "%name" by "<prefix>name" (index names, which take no schema), from
 * patron_malloc; NULL if out of memory. */
char *ppg_expand(const struct patron_pg *s, const char *tmpl);


#endif /* PATRON_PG_INTERNAL_H */
