/*
 * patron — the SQLite store (libpatron-sqlite).
 *
 * SPDX-License-Identifier: MIT
 *
 * Keeps patron's customers in one SQLite file, with a real column for every
 * field so that a shop can query and report on it with plain SQL.  Link with
 * `pkg-config --libs patron-sqlite`.
 *
 * Quick start:
 *
 *     // the shop's own orders table, which merges re-link
 *     static const patron_sqlite_ref_table orders =
 *         { "order", "orders", "customer_id", "order_id", 0 };
 *     patron_sqlite_options opts = PATRON_SQLITE_OPTIONS_INIT;
 *     patron_db *db;
 *     char *msg = NULL;
 *     opts.ref_tables = &orders;
 *     opts.n_ref_tables = 1;
 *     if (patron_db_open_sqlite(&db, NULL, &msg, "shop.db", &opts) != PATRON_OK) {
 *         fprintf(stderr, "%s\n", msg);
 *         patron_free(msg);
 *         ...
 *     }
 *     ... patron_db_create(db, c) ...
 *     patron_db_close(db);   // closes the SQLite connection too
 *
 * Connections and transactions
 * ----------------------------
 * One patron_db (one store) owns one SQLite connection.  The file is opened
 * in WAL mode with a busy timeout of 5 s, so several processes may share it.
 * While it waits for a lock the store tries again every 0.5 ms (SQLite's
 * own handler, sqlite3_busy_timeout(), waits up to 100 ms between tries and
 * so mostly misses the moments between the transactions of a connection
 * that writes back to back: a write beside a run of merges could wait the
 * whole timeout); writes of two connections go one after the other.
 * Every patron call is one transaction, ended by `COMMIT` or `ROLLBACK`:
 *  - a call that may write (create, update, delete, merge, undo, activate,
 *    lock, group changes) begins with `BEGIN IMMEDIATE`: the write lock is
 *    taken at once, so two writers never deadlock or fail half-way.  While
 *    another connection holds the write lock (a write call, or a host
 *    transaction such as an import's batch), it waits up to the busy
 *    timeout and then fails with PATRON_E_STORE ("database is locked").
 *    A host may change the timeout with sqlite3_busy_timeout() on
 *    patron_sqlite_handle(); that puts SQLite's own busy handler in place
 *    of the store's (same timeout, tries less often, see above).
 *  - a call that only reads (load, find, list, match, dedupe, merge plans,
 *    exports, the journal listing, the login and order gates, the matching
 *    settings, the reading phase of patron_db_estimate()) begins with
 *    a deferred `BEGIN` (the store's begin_read()): it takes no write lock,
 *    and in WAL mode reads the last committed state without waiting for a
 *    writer — a reader never fails because a writer is busy.
 * Opening a file whose tables are at the current schema takes no write lock
 * either.
 *
 * Erasure (patron_db_erase(), patron/privacy.h): every connection runs with
 * `PRAGMA secure_delete=ON`, so deleted and overwritten rows are zeroed in
 * the pages (and the WAL frames written from then on), and after an
 * erasure's commit the store checkpoints the WAL with TRUNCATE (store.h:
 * purge), so no frame with the erased values stays behind.  The checkpoint
 * waits (up to the busy timeout) for the writes in progress on other
 * connections and for readers of an older snapshot; one still reading
 * after it makes the checkpoint fail: the erasure is committed,
 * patron_db_erase() reports PATRON_E_STORE, and calling it again retries
 * the checkpoint.  Inside a host transaction the host must
 * run `PRAGMA wal_checkpoint(TRUNCATE)` after its own commit.  Copies the
 * host made (backups) are the host's to handle.  A store opened with PATRON_SQLITE_READONLY uses a deferred
 * `BEGIN` for every call and refuses writes — use it for processes that
 * only read (a storefront, reports).
 *
 * Host transactions (batches, and the host's own tables): when the host has
 * already opened a transaction on the connection — with
 * patron_sqlite_begin() or its own `BEGIN` on patron_sqlite_handle() — each
 * patron call runs inside it and stays atomic on its own: a failed call
 * undoes exactly its own work and the host's transaction goes on; nothing
 * is durable until the host commits.  (A create notes how to undo its few
 * writes, also the thousands of a patron_db_create_many() call; an update,
 * delete, merge or change of a customer group uses a SAVEPOINT.)  That is
 * how `patron import` writes 10 000 customers per transaction (a refused
 * row undoes only itself), and how a host writes its own rows atomically
 * with patron's.  A call writes the blocking keys of the customers it
 * creates, their key counts and the number counter together at its end
 * (sorted, many rows per statement); lookups and counts inside the call
 * see them as if written at once.  If a call cannot be undone (an I/O
 * error during the undo), the host's whole transaction is rolled back and
 * the call reports so.
 *
 * Tables and their prefix
 * ------------------------
 * Every table and index of the store is named <prefix><name>; the prefix is
 * patron_sqlite_options.table_prefix, by default "patron_" — so the store
 * lives beside a shop's own `customers`, `orders` or `meta` tables in the
 * same file and never touches them.  Below, the names are given without the
 * prefix.  Several prefixes in one file are separate stores.
 *
 * Schema (version 3).  The version of the tables under a prefix is kept in
 * `<prefix>schema` (name 'version').  Opening creates the tables, or
 * migrates them to the newest version this library knows, in one
 * transaction; tables written by a newer library are refused.  A file the
 * store created from nothing is also marked `PRAGMA application_id` =
 * 0x5054524E ("PTRN") and `PRAGMA user_version` = the schema version; a
 * host's existing file keeps its own header.  Version 3 added the table
 * key_counts; a version 2 file is migrated on its first
 * read-write open (a read-only open refuses it until then).  A file of the pre-release schema 1 (tables
 * without prefix, a demo table `orders`, the version in user_version) is
 * refused with a message: no release wrote it, so there is no migration.
 * Values are stored as the patron_customer getters give them: text, except
 * the columns marked INTEGER (booleans 0/1, timestamps in seconds since
 * 1970, ids, revision).  NULL means "unset".
 *
 *     CREATE TABLE customers (            -- one row per customer
 *       id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, also after a delete
 *       number TEXT,                      -- customer number, e.g. "K000123"
 *       state TEXT,                       -- 'pending', 'active', 'merged'
 *       salutation TEXT, title TEXT, first_name TEXT, last_name TEXT,
 *       company TEXT, email TEXT, phone TEXT, mobile TEXT, fax TEXT,
 *       birth_date TEXT,                  -- 'YYYY-MM-DD'
 *       language TEXT,                    -- 'de', 'de-AT'
 *       b2b INTEGER, vat_id TEXT, payment_terms TEXT, price_category TEXT,
 *       customer_group TEXT,              -- field "group"
 *       newsletter INTEGER, notes TEXT, order_text TEXT,
 *       login_user TEXT,
 *       login_hash TEXT,                  -- password hash, as the shop gave it
 *       external_source TEXT, external_id TEXT,
 *       locked INTEGER, lock_reason TEXT, locked_at INTEGER,
 *       created_at INTEGER, updated_at INTEGER, revision INTEGER,
 *       merged_into INTEGER);             -- id of the survivor of a merge
 *     -- indexes: customers(number), customers(external_source, external_id)
 *
 *     CREATE TABLE customer_addresses (   -- in the order of the record
 *       customer_id INTEGER, position INTEGER,   -- position 0, 1, ...
 *       label, salutation, first_name, last_name, company, street,
 *       house_number, address_addition, postal_code, city, state, country, phone TEXT,
 *       is_default INTEGER, billing TEXT, vat_id TEXT,
 *       PRIMARY KEY (customer_id, position));
 *     CREATE TABLE customer_tags (customer_id, position, tag TEXT,
 *       PRIMARY KEY (customer_id, position));  -- index on (tag)
 *     CREATE TABLE customer_properties (customer_id, position, key TEXT,
 *       value TEXT, PRIMARY KEY (customer_id, position));
 *     CREATE TABLE customer_extra (customer_id, address_position, field,
 *       value TEXT, ...);       -- fields of a newer libpatron than this store
 *                               -- knows (address_position -1: the customer)
 *
 *     CREATE TABLE customer_keys (        -- match and lookup keys
 *       kind INTEGER,                     -- a patron_key_kind, or a match key kind
 *       value,        -- kinds < 100 (number, external id, email, login): the
 *                     -- key as text; kinds >= 100 (the matcher's blocking
 *                     -- keys): a 64-bit hash of it, an INTEGER
 *       customer_id INTEGER,
 *       PRIMARY KEY (kind, value, customer_id)) WITHOUT ROWID;
 *       -- index on (customer_id)
 *     CREATE TABLE key_counts (           -- how many customers hold a key
 *       kind INTEGER, value, n INTEGER,   -- as in customer_keys
 *       PRIMARY KEY (kind, value)) WITHOUT ROWID;
 *       -- kept by the store with every key row it writes or deletes, in
 *       -- the same transaction, for the kinds whose frequency the matcher
 *       -- reads (email, phone, address, given name, last name, company,
 *       -- "every customer"): the store's count callback reads one row
 *     CREATE TABLE used_numbers (number TEXT PRIMARY KEY);  -- never emptied
 *     CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
 *       -- 'customer_number': the last number drawn
 *     CREATE TABLE journal (id INTEGER PRIMARY KEY AUTOINCREMENT,
 *       time INTEGER, kind TEXT, customer_id INTEGER,
 *       undone_by INTEGER NOT NULL DEFAULT 0, payload TEXT);
 *     CREATE TABLE schema (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
 *       -- 'version': the schema version of the tables under this prefix
 *     CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)
 *       WITHOUT ROWID;  -- small named values of the library: customer groups
 *                       -- ("group/<name>"); scanned in byte order of key
 *
 * Blocking keys are hashed because an import writes some 15-25 of them per
 * customer: as 8-byte integers the index is far smaller than as text, and
 * every page of it that a transaction touches is written again at commit.
 * The hash (see psq_key_hash in the source) is part of the file format.  Two
 * different values share a hash with a chance of about 2^-64: a lookup may
 * then give one id too many, which the matcher scores and drops like any
 * other candidate.  Keys of kinds below 100 are exact, so the uniqueness of
 * numbers, external ids, emails and logins never depends on a hash.
 *
 * The store's tables are patron's: a host may read them freely, but should
 * change customers only through patron (or keep customer_keys in step).
 *
 * The host's references (orders, invoices, ...) are the host's tables, not
 * the store's: list them in patron_sqlite_options.ref_tables.  relink()
 * moves a duplicate's rows of each to the survivor and reports each row as
 * (kind, id); move_ref() (undo) moves one back; check_refs() refuses a merge
 * while a customer has rows in a table marked PATRON_SQLITE_REF_PINNED.  A
 * host with references that are not rows of a table wraps the ops from
 * patron_sqlite_store_open() and adds its own relink().
 *
 * Memory: the store allocates through libpatron's allocator
 * (patron_set_allocator); what it hands out is freed with patron_free().
 * SQLite's own memory is SQLite's (sqlite3_config()): a connection keeps
 * up to 128 MiB of pages (`PRAGMA cache_size`), and a transaction that
 * changes more than that (a batch of thousands of new customers in a large
 * file: their keys touch most pages of the key index) keeps up to 512 MiB
 * of changed pages until its commit before SQLite writes some of them to
 * the WAL early (`PRAGMA cache_spill`) — a page written early and changed
 * again is written twice.  A host may lower either with `PRAGMA` on
 * patron_sqlite_handle().  Reads go through the cache, the rest through
 * read(): a process that mostly matches against a file much larger than the
 * cache may set `PRAGMA mmap_size` on the handle (incremental matching
 * against 1 000 000 customers: about 0.7 times the CPU time per match),
 * accepting SQLite's caveat that an I/O error on the mapped file then ends
 * the process instead of failing the call; the store leaves it off.
 */
#ifndef PATRON_SQLITE_H
#define PATRON_SQLITE_H

#include "patron.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The schema version this library writes (kept per table prefix, in the
 *  table `<prefix>schema`). */
#define PATRON_SQLITE_SCHEMA_VERSION 3

/** The table prefix used when patron_sqlite_options.table_prefix is NULL. */
#define PATRON_SQLITE_DEFAULT_PREFIX "patron_"

/** The longest table prefix, in bytes. */
#define PATRON_SQLITE_PREFIX_MAX 32

/** Flags for patron_sqlite_options.flags (a set: combine with `|`). */
enum {
    /** Open the file read-only: no migration, no writes; transactions are
     *  deferred and never wait for writers.  The file must exist and have
     *  the current schema. */
    PATRON_SQLITE_READONLY = 1u << 0,
    /** Fail with PATRON_E_NOT_FOUND if the file does not exist (instead of
     *  creating it). */
    PATRON_SQLITE_NOCREATE = 1u << 1,
    /** `PRAGMA synchronous=NORMAL` instead of FULL: faster commits, still
     *  never corrupt, but the last transactions may be lost on a power cut
     *  (not on a crash of the process). */
    PATRON_SQLITE_SYNC_NORMAL = 1u << 2
};

/** Flags for patron_sqlite_ref_table.flags. */
enum {
    /** The rows of this table cannot move to another customer (contracts,
     *  correspondence): check_refs() names them and a merge of a customer
     *  that has any is refused; relink() never touches them. */
    PATRON_SQLITE_REF_PINNED = 1u << 0
};

/**
 * A table of the host whose rows belong to a customer (orders, invoices,
 * returns): a merge moves the duplicate's rows to the survivor and an undo
 * moves them back.  The store runs, for example,
 * `UPDATE "table" SET "customer_column" = ?survivor WHERE "customer_column" = ?duplicate`
 * inside the merge's transaction, and reports each row moved as
 * (`kind`, value of `id_column` as text).
 *
 * Names are SQL identifiers of letters, digits and `_` (at most 64 bytes),
 * used as given (not prefixed); the table must exist when the first merge
 * runs.  `id_column` must identify a row (a primary key or unique column).
 * `kind` (1 to 64 bytes of UTF-8) names the entries in the journal; it must
 * be unique among the tables.  All strings are copied by the open call.
 */
typedef struct patron_sqlite_ref_table {
    const char *kind;            /**< e.g. "order" */
    const char *table;           /**< e.g. "orders" */
    const char *customer_column; /**< holds the patron customer id, e.g. "customer_id" */
    const char *id_column;       /**< the row's id, e.g. "order_id" */
    unsigned flags;              /**< PATRON_SQLITE_REF_* flags, or 0 */
} patron_sqlite_ref_table;

/** The version of patron_sqlite_options this header describes. */
#define PATRON_SQLITE_OPTIONS_VERSION 1

/**
 * How to open a SQLite store.  Start from PATRON_SQLITE_OPTIONS_INIT (or
 * patron_sqlite_options_init()) and set what you need; members are only
 * ever appended, each append bumps PATRON_SQLITE_OPTIONS_VERSION, and the
 * library reads no member past the version the host set.
 */
typedef struct patron_sqlite_options {
    /** PATRON_SQLITE_OPTIONS_VERSION of the header the host was built with. */
    unsigned version;

    /* ---- version 1 ---------------------------------------------------- */

    /** PATRON_SQLITE_* flags, or 0. */
    unsigned flags;
    /** Put in front of the name of every table and index of patron's
     *  (`patron_customers`, `patron_journal`, ...), so that patron's tables
     *  never meet the host's.  NULL: PATRON_SQLITE_DEFAULT_PREFIX.  Letters,
     *  digits and `_`, at most PATRON_SQLITE_PREFIX_MAX bytes; "" means no
     *  prefix.  Several prefixes may live in one file, each a separate store. */
    const char *table_prefix;
    /** The host's tables that merges re-link; may be NULL when
     *  n_ref_tables is 0 (then merges move nothing). */
    const patron_sqlite_ref_table *ref_tables;
    /** Number of entries of ref_tables (at most 64). */
    size_t n_ref_tables;
} patron_sqlite_options;

/** Initialiser: the current version, everything else 0/NULL (defaults). */
#define PATRON_SQLITE_OPTIONS_INIT { PATRON_SQLITE_OPTIONS_VERSION, 0, NULL, NULL, 0 }

/** Set `opts` to PATRON_SQLITE_OPTIONS_INIT (for bindings that cannot use
 *  the macro). */
PATRON_API void patron_sqlite_options_init(patron_sqlite_options *opts);

/** The store context: one SQLite connection and its prepared statements. */
typedef struct patron_sqlite patron_sqlite;

/**
 * Open (or create) a SQLite file as a store, create or migrate patron's
 * tables under the options' prefix, and fill `ops_out` with the store's
 * callbacks (every callback of version 1, count() of version 3 and
 * begin_read() of version 4) and `*ctx_out` with its context (a
 * patron_sqlite *), ready for patron_db_open(ops_out, *ctx_out).  A host
 * may wrap or change the ops (a fault-injecting wrapper, its own relink())
 * before opening a patron_db.
 *
 * The context is freed by ops_out->destroy(), which patron_db_close() calls;
 * if it is never handed to a patron_db, free it with patron_sqlite_close().
 *
 * @param[out] ops_out     the callbacks.
 * @param[out] ctx_out     the store context.
 * @param[out] errmsg_out  may be NULL; on failure receives a message saying
 *                         what went wrong (free with patron_free()), on
 *                         success NULL.
 * @param path  file name, or ":memory:" for a private in-memory database.
 * @param opts  may be NULL for the defaults.
 * @return PATRON_E_NOT_FOUND (no such file and PATRON_SQLITE_NOCREATE or
 *         READONLY), PATRON_E_ABI (the tables have a newer schema than this
 *         library knows, or opts has an unknown version), PATRON_E_STORE
 *         (cannot open, migration failed, a file of the pre-release schema 1),
 *         PATRON_E_NOMEM, PATRON_E_INVALID (a bad prefix, table entry or flag).
 */
PATRON_API patron_status patron_sqlite_store_open(patron_store_ops *ops_out, void **ctx_out,
                                                  char **errmsg_out, const char *path,
                                                  const patron_sqlite_options *opts);

/** Close a store context from patron_sqlite_store_open() that was never
 *  handed to patron_db_open() (the same as ops->destroy).  NULL is ignored. */
PATRON_API void patron_sqlite_close(void *ctx);

/**
 * Open a patron_db on a SQLite file: patron_sqlite_store_open() and
 * patron_db_open() in one.  patron_db_close() closes the file.
 * @param[out] out         the new handle.
 * @param[out] store_out   may be NULL; the store of the new handle, owned by
 *                         it (valid until patron_db_close()), for
 *                         patron_sqlite_handle() and host transactions.
 * @param[out] errmsg_out  may be NULL; see patron_sqlite_store_open().
 * @return as patron_sqlite_store_open().
 */
PATRON_API patron_status patron_db_open_sqlite(patron_db **out, patron_sqlite **store_out,
                                               char **errmsg_out, const char *path,
                                               const patron_sqlite_options *opts);

/**
 * The store's SQLite connection, for a host that keeps its own tables in the
 * same file and the same transactions.  Owned by the store: do not close it.
 * Do not change or finalize patron's tables' statements; do not use the
 * connection while a patron call on it runs.  `store` may be the `void *`
 * from patron_sqlite_store_open().
 */
PATRON_API struct sqlite3 *patron_sqlite_handle(patron_sqlite *store);

/**
 * Start a host transaction (`BEGIN IMMEDIATE`): every following patron call
 * on this store runs inside it as a savepoint, until patron_sqlite_commit()
 * or patron_sqlite_rollback().  Use it to import in batches.
 * @return PATRON_E_STATE if a transaction is already open, PATRON_E_STORE.
 */
PATRON_API patron_status patron_sqlite_begin(patron_sqlite *store);
/** Commit the host transaction.  PATRON_E_STATE if none is open. */
PATRON_API patron_status patron_sqlite_commit(patron_sqlite *store);
/** Roll back the host transaction (everything since patron_sqlite_begin()). */
PATRON_API patron_status patron_sqlite_rollback(patron_sqlite *store);

/** The message of the last failure of the store ("" if none).  Owned by the
 *  store; valid until its next call.  Never contains a password hash. */
PATRON_API const char *patron_sqlite_errmsg(const patron_sqlite *store);

#ifdef __cplusplus
}
#endif
#endif /* PATRON_SQLITE_H */
