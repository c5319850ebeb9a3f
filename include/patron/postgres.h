/*
 * patron — the PostgreSQL store (libpatron-pg).
 *
 * SPDX-License-Identifier: MIT
 *
 * Keeps patron's customers in a PostgreSQL database that several processes
 * on several application servers share.  Link with
 * `pkg-config --libs patron-pg`; needs libpq only.
 *
 * Quick start:
 *
 *     patron_pg_options opts = PATRON_PG_OPTIONS_INIT;
 *     patron_db *db;
 *     char *msg = NULL;
 *     opts.schema = "shop";            // tables shop.patron_customers, ...
 *     if (patron_db_open_postgres(&db, NULL, &msg,
 *                                 "host=db1 dbname=shop user=app", &opts) != PATRON_OK) {
 *         fprintf(stderr, "%s\n", msg);
 *         patron_free(msg);
 *         ...
 *     }
 *     ... patron_db_create(db, c) ...
 *     patron_db_close(db);   // closes the connection too
 *
 * Connections and transactions
 * ----------------------------
 * One patron_db (one store) uses one libpq connection, either its own
 * (patron_pg_store_open(), patron_db_open_postgres(): from a conninfo
 * string or URI) or the host's (the *_conn variants: the host keeps
 * ownership and closes it after patron_db_close()).  The connection is
 * used synchronously and by one thread at a time, like the patron_db.
 *
 * Every patron call is one transaction:
 *  - a call that may write (create, update, delete, merge, undo, activate,
 *    lock, group changes, ...) begins with `BEGIN ISOLATION LEVEL READ
 *    COMMITTED` (whatever the session's default) and at
 *    once takes a transaction-scoped advisory lock,
 *    `pg_advisory_xact_lock(key)`, where key is a 64-bit hash of
 *    "<schema>.<prefix>" (patron_pg_lock_key() gives it).  So all writing
 *    calls on one store — in any process, on any server — run one after
 *    the other, each seeing everything committed before it: two merges of
 *    overlapping clusters, an activation racing a merge, an update racing
 *    a lock are serialised in full, and a caller never sees a deadlock or
 *    a serialisation failure between patron calls.  Optimistic revisions
 *    (patron_customer_revision()) work across processes as within one.
 *  - a call that only reads (load, find, list, match, dedupe, merge plans,
 *    exports, the journal listing, the login and order gates) begins with
 *    `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` (the store's
 *    begin_read()): one consistent snapshot, no lock; it never waits for a
 *    writer and a writer never waits for it.
 *  - should `BEGIN` or the lock still fail with a serialisation failure
 *    (SQLSTATE 40001) or a deadlock (40P01) — possible only when the host
 *    takes locks of its own in the same database — the store rolls back
 *    (inside a host transaction: to its savepoint) and tries again, up to
 *    patron_pg_options.retry_budget times (default
 *    PATRON_PG_DEFAULT_RETRIES).  Nothing of the call has run then, so a
 *    retry is always safe; when the budget is spent the call fails with
 *    PATRON_E_STORE and a message naming the SQLSTATE and the budget.  A
 *    failure later in the call is not retried (the library's work between
 *    begin() and commit() cannot be repeated by the store): the call fails
 *    with PATRON_E_STORE, changes nothing, and its message names the
 *    SQLSTATE.  Between patron calls of any processes neither can happen:
 *    every writer holds the one advisory lock before it touches a row.
 *  - `BEGIN` and the lock go to the server in one round trip (a simple
 *    query of two statements whose only value is the lock key); every
 *    other statement is prepared.
 *  - a lost connection fails the call with PATRON_E_STORE and changes
 *    nothing (the server rolls the transaction back); on the store's own
 *    connection the next call tries PQreset() once before it begins, on a
 *    host's connection it fails until the host has reconnected it
 *    (PQreset()); the store then prepares its statements again.
 *
 * Host transactions: when the connection already is inside a transaction
 * (the host's `BEGIN` on patron_pg_handle() or on its own PGconn, or
 * patron_pg_begin()), each patron call runs inside it as a
 * `SAVEPOINT`: a failed call undoes exactly its own work and the host's
 * transaction goes on; nothing is durable until the host commits.  The
 * advisory lock is then held until the host's transaction ends — keep
 * host transactions short, or other writers wait.  That is how an import
 * writes many customers per transaction, and how a host writes its own
 * rows (an order) atomically with patron's.  A call on a connection whose
 * transaction has failed (PQTRANS_INERROR) is refused with PATRON_E_STORE.
 * The host's transaction should be READ COMMITTED (PostgreSQL's default;
 * patron_pg_begin() makes it so): under REPEATABLE READ or SERIALIZABLE
 * its snapshot may be older than the moment it got patron's lock, so it
 * would not see another process's last write (an update could then fail
 * with a serialisation failure, which is not retried).
 *
 * Customer numbers
 * ----------------
 * The counter is a row of `<prefix>counters` ('customer_number'), advanced
 * with `UPDATE ... SET value = value + 1 RETURNING value`, which takes the
 * row's lock until the transaction ends (and the advisory lock serialises
 * writers anyway).  A rolled-back transaction gives the number back, a
 * committed one never: numbers are unique and never reused, across
 * processes and servers.  Every number a customer ever had — drawn or
 * given by hand — is a row of `<prefix>used_numbers` (primary key), never
 * deleted: a manual number that collides with any, however old, is
 * refused with PATRON_E_EXISTS, and a drawn number that was taken by hand
 * before is skipped by the core.  (A SEQUENCE would give numbers without
 * the row lock, but it is not transactional: a rolled-back call would
 * burn numbers and the gapless counter of the other stores would differ.)
 *
 * Batched creates (import)
 * ------------------------
 * patron_db_create_many() creates many customers in one call and gives
 * the store the prefetch hint of store version 6.  Inside that call's
 * transaction (which holds the advisory lock from its first statement) the
 * store then works in bulk: the external references and logins of all
 * rows are looked up in one statement (`= ANY` over the key index), so are
 * the manual numbers and the numbers the counter will give; the counter
 * row is read once and written once; ids come from the table's sequence in
 * one block; and the new rows of every table — customers, addresses,
 * tags, properties, extra fields, keys, match forms, used numbers — are
 * gathered in memory and written with one `COPY ... FROM STDIN` per table
 * at the commit, the key counts with one aggregated upsert.  Nothing
 * changes for other processes: they wait for the lock as for any writer
 * and see all of the call or none of it.  The lock guarantees that what
 * was fetched stays true until the commit; any statement of the store
 * that could read or change the gathered rows writes them first (and
 * forgets the fetched keys).  A row the server refuses at the COPY fails
 * the whole call (PATRON_E_STORE, everything rolled back).  Ids of
 * refused rows stay unused (the sequence is not transactional); numbers
 * stay gapless.  `patron import` uses it.  tests/bench/bench_pg.c: 1 M
 * customers in 1.34x the wall time (1.32x the CPU time, client and server)
 * of a plain COPY of the same rows into tables with the same indexes;
 * one patron_db_create() per row took about 20x.

 * Tables, schema and prefix
 * -------------------------
 * Every table and index is `<schema>.<prefix><name>`; the schema is
 * patron_pg_options.schema (default "public", created if missing), the
 * prefix patron_pg_options.table_prefix (default "patron_").  Several
 * (schema, prefix) pairs in one database are separate stores.
 *
 * Schema (version PATRON_PG_SCHEMA_VERSION).  The version of the tables
 * under a prefix is kept in `<prefix>schema` (name 'version').  Opening
 * creates the tables, or migrates them to the newest version this library
 * knows, in one transaction under the store's advisory lock (several
 * processes may open a new database at once); tables already at that
 * version are opened without the lock, so opening never waits for a
 * writer (an import's host transaction); tables written by a newer
 * library are refused with PATRON_E_ABI.  The tables are those of the
 * SQLite store (see patron/sqlite.h) with PostgreSQL types, so that a host
 * can query and report with the same SQL:
 *
 *     customers (id bigserial PRIMARY KEY, number, state, salutation, ...,
 *                merged_into)    -- one text / bigint column per field,
 *                                -- as in sqlite.h; NULL = unset
 *     customer_addresses, customer_tags, customer_properties,
 *     customer_extra             -- as in sqlite.h
 *     customer_keys (kind integer, value text, customer_id bigint,
 *                    PRIMARY KEY (kind, value, customer_id))
 *                    -- index on (customer_id); keys stored as text, all
 *                    -- kinds (no hash: PostgreSQL's btree handles text)
 *     key_counts (kind integer, value text, n bigint,
 *                 PRIMARY KEY (kind, value))
 *                    -- how many customers hold a key of the kinds the
 *                    -- matcher weighs (100-102, 120-123), kept in the
 *                    -- statement that writes or deletes the key; a row
 *                    -- may stay with n = 0
 *     match_forms (customer_id bigint PRIMARY KEY, form bytea)
 *     used_numbers (number text PRIMARY KEY)      -- never emptied
 *     counters (name text PRIMARY KEY, value bigint)
 *     journal (id bigserial PRIMARY KEY, time bigint, kind text,
 *              customer_id bigint, undone_by bigint, payload text)
 *     schema (name text PRIMARY KEY, value integer)
 *     meta (key text COLLATE "C" PRIMARY KEY, value text)
 *
 * Candidate lookup (lookup()) and the frequency count (count()) are one
 * index range of customer_keys' primary key and one row of key_counts by
 * its primary key: never a scan of the table.  Every statement is
 * prepared once per connection (PQprepare) and run with bound parameters
 * (PQexecPrepared), so any value round-trips unchanged.
 *
 * The host's references (orders, invoices) are the host's tables:
 * patron_pg_options.ref_tables, exactly as patron_sqlite_ref_table.
 *
 * Erasure (patron_db_erase()): the store rewrites the rows and the
 * journal's payloads in the erasure's transaction.  It has no purge():
 * PostgreSQL keeps the old row versions in the tables' dead tuples until
 * VACUUM reclaims them, and in its WAL (and any WAL archive or replica)
 * until those are recycled — run `VACUUM` on the store's tables after an
 * erasure, and keep WAL retention in mind.
 *
 * Memory: the store allocates through libpatron's allocator; what it hands
 * out is freed with patron_free().
 */
#ifndef PATRON_POSTGRES_H
#define PATRON_POSTGRES_H

#include "patron.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** libpq's connection (PGconn); this header does not include libpq-fe.h. */
struct pg_conn;

/** The schema version this library writes (kept per schema and prefix, in
 *  the table `<prefix>schema`). */
#define PATRON_PG_SCHEMA_VERSION 1

/** The schema used when patron_pg_options.schema is NULL. */
#define PATRON_PG_DEFAULT_SCHEMA "public"
/** The table prefix used when patron_pg_options.table_prefix is NULL. */
#define PATRON_PG_DEFAULT_PREFIX "patron_"
/** The longest schema name and table prefix, in bytes. */
#define PATRON_PG_SCHEMA_MAX 48
#define PATRON_PG_PREFIX_MAX 32
/** How often begin() is retried after a serialisation failure or deadlock
 *  when patron_pg_options.retry_budget is 0. */
#define PATRON_PG_DEFAULT_RETRIES 8

/** Flags for patron_pg_options.flags (a set: combine with `|`). */
enum {
    /** Read only: no schema creation or migration, every call a read-only
     *  transaction (writes fail).  The tables must exist at the current
     *  version. */
    PATRON_PG_READONLY = 1u << 0,
    /** Fail with PATRON_E_NOT_FOUND if the tables do not exist (instead of
     *  creating them). */
    PATRON_PG_NOCREATE = 1u << 1
};

/** Flags for patron_pg_ref_table.flags. */
enum {
    /** Rows that cannot move (contracts): a merge of a customer with any is
     *  refused; relink() never touches them. */
    PATRON_PG_REF_PINNED = 1u << 0
};

/**
 * A table of the host whose rows belong to a customer, re-linked by merges
 * (same meaning as patron_sqlite_ref_table).  `table` may be qualified
 * with a schema ("shop.orders"); names are identifiers of letters, digits
 * and `_` (at most 64 bytes each), quoted as given.
 */
typedef struct patron_pg_ref_table {
    const char *kind;            /**< e.g. "order" */
    const char *table;           /**< e.g. "orders" or "shop.orders" */
    const char *customer_column; /**< holds the patron customer id (bigint) */
    const char *id_column;       /**< the row's id */
    unsigned flags;              /**< PATRON_PG_REF_* flags, or 0 */
} patron_pg_ref_table;

/** The version of patron_pg_options this header describes. */
#define PATRON_PG_OPTIONS_VERSION 1

/**
 * How to open a PostgreSQL store.  Start from PATRON_PG_OPTIONS_INIT (or
 * patron_pg_options_init()); members are only ever appended, each append
 * bumps PATRON_PG_OPTIONS_VERSION, and the library reads no member past
 * the version the host set.
 */
typedef struct patron_pg_options {
    /** PATRON_PG_OPTIONS_VERSION of the header the host was built with. */
    unsigned version;

    /* ---- version 1 ---------------------------------------------------- */

    /** PATRON_PG_* flags, or 0. */
    unsigned flags;
    /** The schema of patron's tables; NULL: PATRON_PG_DEFAULT_SCHEMA.
     *  Letters, digits and `_`, 1 to PATRON_PG_SCHEMA_MAX bytes, not
     *  starting with "pg_"; created when missing (unless READONLY or
     *  NOCREATE). */
    const char *schema;
    /** Put in front of every table and index name; NULL:
     *  PATRON_PG_DEFAULT_PREFIX.  Letters, digits and `_`, at most
     *  PATRON_PG_PREFIX_MAX bytes; "" means no prefix. */
    const char *table_prefix;
    /** The host's tables that merges re-link; may be NULL when
     *  n_ref_tables is 0. */
    const patron_pg_ref_table *ref_tables;
    /** Number of entries of ref_tables (at most 64). */
    size_t n_ref_tables;
    /** How often begin() retries after SQLSTATE 40001/40P01 (0: the
     *  default PATRON_PG_DEFAULT_RETRIES; at most 1000; negative: never). */
    int retry_budget;
} patron_pg_options;

/** Initialiser: the current version, everything else 0/NULL (defaults). */
#define PATRON_PG_OPTIONS_INIT { PATRON_PG_OPTIONS_VERSION, 0, NULL, NULL, NULL, 0, 0 }

/** Set `opts` to PATRON_PG_OPTIONS_INIT (for bindings). */
PATRON_API void patron_pg_options_init(patron_pg_options *opts);

/** The store context: one connection and its prepared statements. */
typedef struct patron_pg patron_pg;

/**
 * Connect with `conninfo` (a libpq keyword/value string or a
 * postgresql:// URI), create or migrate patron's tables, and fill
 * `ops_out` with the store's callbacks (every callback of store version 4,
 * and journal_rewrite() of version 5; no purge(): see "Erasure" above)
 * and `*ctx_out` with its context (a patron_pg *), ready for
 * patron_db_open(ops_out, *ctx_out).  The context is freed (and the
 * connection closed) by ops_out->destroy(), which patron_db_close() calls;
 * if it is never handed to a patron_db, free it with patron_pg_close().
 *
 * @param[out] errmsg_out  may be NULL; on failure a message (free with
 *                         patron_free()), never containing a password;
 *                         on success NULL.
 * @param opts  may be NULL for the defaults.
 * @return PATRON_E_STORE (cannot connect, migration failed),
 *         PATRON_E_NOT_FOUND (no tables and NOCREATE or READONLY),
 *         PATRON_E_ABI (tables of a newer schema, unknown opts version),
 *         PATRON_E_INVALID (a bad schema, prefix, ref table or flag),
 *         PATRON_E_NOMEM.
 */
PATRON_API patron_status patron_pg_store_open(patron_store_ops *ops_out, void **ctx_out,
                                              char **errmsg_out, const char *conninfo,
                                              const patron_pg_options *opts);

/**
 * As patron_pg_store_open(), on the host's open connection `conn` (a
 * PGconn *).  The host keeps ownership: destroy() does not close it.  The
 * store prepares its statements on it under names starting "patron_"
 * followed by a hash of schema and prefix; the host must not deallocate
 * them.  If the connection is inside a transaction, the schema is created
 * or migrated inside it (as a savepoint) too.
 * @return as patron_pg_store_open(); PATRON_E_INVALID if conn is NULL or
 *         not connected.
 */
PATRON_API patron_status patron_pg_store_open_conn(patron_store_ops *ops_out, void **ctx_out,
                                                   char **errmsg_out, struct pg_conn *conn,
                                                   const patron_pg_options *opts);

/** Close a store context that was never handed to patron_db_open() (the
 *  same as ops->destroy).  NULL is ignored. */
PATRON_API void patron_pg_close(void *ctx);

/**
 * patron_pg_store_open() and patron_db_open() in one; patron_db_close()
 * closes the connection.
 * @param[out] store_out  may be NULL; the store, owned by the handle.
 */
PATRON_API patron_status patron_db_open_postgres(patron_db **out, patron_pg **store_out,
                                                 char **errmsg_out, const char *conninfo,
                                                 const patron_pg_options *opts);

/** patron_pg_store_open_conn() and patron_db_open() in one;
 *  patron_db_close() leaves `conn` open. */
PATRON_API patron_status patron_db_open_postgres_conn(patron_db **out, patron_pg **store_out,
                                                      char **errmsg_out, struct pg_conn *conn,
                                                      const patron_pg_options *opts);

/**
 * The store's connection (a PGconn *), for a host's own statements and
 * transactions.  Owned by the store (or by the host that gave it).  Do not
 * use it while a patron call on it runs.  `store` may be the `void *`
 * from patron_pg_store_open().
 */
PATRON_API struct pg_conn *patron_pg_handle(patron_pg *store);

/**
 * Start a host transaction (`BEGIN`, then the store's advisory lock):
 * every following patron call runs inside it as a savepoint until
 * patron_pg_commit() or patron_pg_rollback().  Use it to import in
 * batches.  Other writers of the store wait until it ends.
 * @return PATRON_E_STATE if a transaction is already open, PATRON_E_STORE.
 */
PATRON_API patron_status patron_pg_begin(patron_pg *store);
/** Commit the host transaction.  PATRON_E_STATE if none is open. */
PATRON_API patron_status patron_pg_commit(patron_pg *store);
/** Roll back the host transaction.  PATRON_E_STATE if none is open. */
PATRON_API patron_status patron_pg_rollback(patron_pg *store);

/** The advisory lock key of the store (what begin() locks with
 *  pg_advisory_xact_lock()), for a host that wants to serialise its own
 *  work with patron's writers. */
PATRON_API int64_t patron_pg_lock_key(const patron_pg *store);

/** The message of the store's last failure ("" if none).  Owned by the
 *  store; valid until its next call.  Never contains a password. */
PATRON_API const char *patron_pg_errmsg(const patron_pg *store);

#ifdef __cplusplus
}
#endif
#endif /* PATRON_POSTGRES_H */
