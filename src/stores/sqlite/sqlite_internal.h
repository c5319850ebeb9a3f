/* libpatron-sqlite — declarations shared by its files and its white-box
 * tests.  Not installed.
 * SPDX-License-Identifier: MIT */
#ifndef PATRON_SQLITE_INTERNAL_H
#define PATRON_SQLITE_INTERNAL_H

#include <sqlite3.h>
#include <time.h>
#include <stddef.h>
#include <stdint.h>

#include "patron/patron.h"
#include "patron/sqlite.h"
#include "patron/store.h"

#if defined(__GNUC__)
#  define PSQ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define PSQ_PRINTF(f, a)
#endif

/* Every statement the store runs, prepared once per connection on first
 * use and kept (SQLITE_PREPARE_PERSISTENT) until the store is closed. */
enum psq_stmt {
    ST_BEGIN_IMMEDIATE,
    ST_BEGIN_DEFERRED,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_CUST_INSERT, /* generated from the column table */
    ST_CUST_UPDATE, /* generated */
    ST_CUST_SELECT, /* generated */
    ST_CUST_DELETE,
    ST_ADDR_INSERT, /* generated */
    ST_ADDR_SELECT, /* generated */
    ST_ADDR_DELETE,
    ST_TAG_INSERT,
    ST_TAG_SELECT,
    ST_TAG_DELETE,
    ST_PROP_INSERT,
    ST_PROP_SELECT,
    ST_PROP_DELETE,
    ST_EXTRA_INSERT,
    ST_EXTRA_SELECT,
    ST_EXTRA_DELETE,
    ST_KEY_INSERT,
    ST_KEY_DELETE,
    ST_KEY_DELETE_ONE,
    ST_KEY_OF,
    ST_KEY_LOOKUP,
    ST_KEY_COUNT,
    ST_KEY_COUNTED,
    ST_COUNT_UP,
    ST_COUNT_DOWN,
    ST_COUNT_DROP,
    ST_COUNT_DOWN_ALL,
    ST_COUNT_DROP_ALL,
    ST_SCAN,
    ST_COUNTER_BUMP,
    ST_COUNTER_GET,
    ST_COUNTER_SET,
    ST_UNCLAIM,
    ST_JOURNAL_DELETE,
    ST_CLAIM,
    ST_JOURNAL_INSERT,
    ST_JOURNAL_GET,
    ST_JOURNAL_SCAN,
    ST_JOURNAL_UNDONE,
    ST_JOURNAL_REWRITE,
    ST_META_GET,
    ST_META_SET,
    ST_META_DELETE,
    ST_META_SCAN,      /* prefix with a successor: key >= ?1 AND key < ?2 */
    ST_META_SCAN_FROM, /* empty prefix, or one of 0xFF bytes: key >= ?1 */
    ST_KEY_INSERT_MANY, /* generated: PSQ_FLUSH_ROWS rows of keys */
    ST_COUNT_ADD_MANY,  /* generated: PSQ_FLUSH_ROWS rows of key_counts deltas */
    ST_COUNT_ADD,
    ST_COUNT_RECOUNT,
    ST_FLUSH_SAVEPOINT,
    ST_FLUSH_RELEASE,
    ST_FLUSH_ROLLBACK_TO,
    ST__COUNT
};

enum psq_tx {
    TX_NONE = 0,
    TX_OWN, /* BEGIN ... COMMIT of our own */
    TX_HOST /* inside a transaction of the host */
};

/* Inside a host transaction a call must be undone on its own.  A SAVEPOINT
 * does that, but makes SQLite copy every page the call touches; an import
 * of many customers would spend a third of its time on it.  So the cheap
 * writes of a create (insert, next_number, claim_number, journal_append)
 * note how to undo themselves here, and only the others (update, remove,
 * relink, ...) open a savepoint, at their first use in the call.  rollback()
 * rolls back to the savepoint, then undoes the notes in reverse.  The notes
 * grow with the call (patron_db_create_many() makes thousands of creates in
 * one call); only if they cannot grow (out of memory, a number longer than
 * a note holds) does the savepoint cover the writes from there on.  The
 * counter needs one note per call: the value before its first bump. */
enum psq_undo_kind { UNDO_INSERT, UNDO_COUNTER, UNDO_CLAIM, UNDO_JOURNAL };

typedef struct psq_undo {
    enum psq_undo_kind kind;
    int64_t v;         /* id, or the old counter value */
    char number[72];   /* UNDO_CLAIM */
} psq_undo;


/* A blocking key of a customer inserted in the open call, not yet written
 * (see psq_flush in store.c). */
typedef struct psq_pkey {
    int64_t hash, id;
    int kind;
} psq_pkey;

/* Changed pages a transaction keeps in memory before SQLite writes some to
 * the WAL ahead of the commit (PRAGMA cache_spill; store.c). */
#define PSQ_SPILL_BYTES (512L * 1024 * 1024)

/* Rows per statement when pending keys and counts are written. */
#define PSQ_FLUSH_ROWS 64

/* A table of the host that merges re-link (a copy of a
 * patron_sqlite_ref_table, with its statements, prepared on first use). */
typedef struct psq_ref {
    char *kind, *table, *customer_column, *id_column;
    unsigned flags;
    sqlite3_stmt *of;     /* ids of a customer's rows */
    sqlite3_stmt *relink; /* move all rows of ?1 to ?2 */
    sqlite3_stmt *move;   /* move row ?1 to ?2 */
    sqlite3_stmt *count;  /* how many rows ?1 has */
} psq_ref;

#define PSQ_MAX_REFS 64
#define PSQ_MAX_IDENT 64

struct patron_sqlite {
    sqlite3 *db;
    unsigned flags;
    int busy_ms;                    /* how long psq_busy waits for a lock (store.c) */
    struct timespec busy_since;     /* when the current wait began */
    enum psq_tx tx;
    int sp_open;        /* TX_HOST: the call's savepoint is open */
    size_t n_undo;      /* TX_HOST: notes of writes before the savepoint */
    size_t cap_undo;
    psq_undo *undo;     /* cap_undo of them, kept from call to call */
    int counter_noted;  /* TX_HOST: the call's UNDO_COUNTER is among them */
    /* The open call's writes gathered for psq_flush: the hashed keys of the
     * customers it inserted, and the counter once read. */
    psq_pkey *pend;
    size_t n_pend, cap_pend;
    int ctr_have, ctr_dirty;
    int64_t ctr_value;
    int flush_down; /* the next psq_flush writes its rows in descending order */
    sqlite3_stmt *st[ST__COUNT];
    char *sql[ST__COUNT]; /* every statement's SQL, with the table prefix */
    char prefix[PATRON_SQLITE_PREFIX_MAX + 1];
    psq_ref *refs;
    size_t n_refs;
    /* Field ids the loaded libpatron knows (it may be newer than the header
     * this store was built with).  Fields from known_*_end on, up to
     * rt_*_end, have no column and go to customer_extra. */
    int known_field_end, known_addr_end;
    int rt_field_end, rt_addr_end;
    char err[512];
};

/* schema.c */

/* Bring patron's tables under `prefix` in `db` to
 * PATRON_SQLITE_SCHEMA_VERSION (or check them, for a read-only store).  On
 * failure writes a message to `msg`. */
patron_status psq_schema_prepare(sqlite3 *db, unsigned flags, const char *prefix,
                                 const char *path, char *msg, size_t msgsz);

/* `tmpl` with every '@' replaced by `prefix`, from patron_malloc; NULL if
 * out of memory.  SQL of this library never has '@' otherwise (values are
 * bound). */
char *psq_expand(const char *tmpl, const char *prefix);

/* The highest schema version this library can migrate to. */
int psq_schema_latest(void);

/* Keys of kinds from PSQ_HASHED_KINDS on (the matcher's blocking keys) are
 * stored as a 64-bit hash of their value (an INTEGER), the others as text.
 * The hash is part of the file format: never change it. */
#define PSQ_HASHED_KINDS 100
int64_t psq_key_hash(const char *value);

/* The key kinds whose holders are counted in the table key_counts (schema
 * 3): those the core asks counts of (the matcher's value frequencies:
 * email, phone, address, and the frequency keys of given name, last name,
 * company and "every customer", src/match/match.h).  The count of any
 * other kind is read from the keys' index.  Part of the file format (the
 * migration fills the counts of these kinds): a change needs a schema
 * step. */
#define PSQ_COUNTED_KINDS "100, 101, 102, 120, 121, 122, 123"
int psq_kind_counted(int kind);

/* store.c */
int psq_fail(struct patron_sqlite *s, int rc, const char *fmt, ...) PSQ_PRINTF(3, 4);
int psq_status_of(int sqlite_rc);

#endif /* PATRON_SQLITE_INTERNAL_H */
