/* Test helpers: a fresh store of each kind, and a store wrapper that fails
 * its Nth callback.  Shared by the suites of every issue. */
#ifndef PATRON_TEST_BACKEND_H
#define PATRON_TEST_BACKEND_H

#include <patron/patron.h>
#include <patron/store.h>
#include <patron/memory.h>
#include <stdbool.h>

/* A store under test: its raw callbacks and context. */
typedef struct test_backend {
    char name[16];
    const patron_store_ops *ops;
    patron_store_ops ops_copy;
    void *ctx;
    char path[256]; /* file of a file-backed store, else "" */
    patron_memstore *ms; /* the memory store, for "memory" */
    const char *const *probe_orders; /* orders store_fingerprint() reports, or NULL */
    bool fp_no_revision; /* store_fingerprint() leaves out revisions and update times */
    char pg_schema[64]; /* "postgres": the test's own schema on the server, else "" */
    char *restore_sql; /* "postgres", "sqlite": the SQL of tb_restore(), once tb_checkpoint() made it */
} test_backend;

/* The backend the suite runs against: argv[1] if given, else the
 * PATRON_TEST_BACKEND variable, else "memory".  Known: memory, sqlite. */
const char *tb_selected(int argc, char **argv);

/* Open a fresh, empty store of kind `name`.  0 on success. */
int tb_open(test_backend *tb, const char *name);
/* Release the store (and delete its file). */
void tb_close(test_backend *tb);

/* Keep a copy of everything the store holds now, and put it back later:
 * tb_restore() brings every table and sequence of the store to what
 * tb_checkpoint() saw (rows added since are gone), in one transaction, on
 * the store's own connection (no transaction of it may be open).  For
 * "postgres" and "sqlite", where a fresh store is a schema of new tables
 * (and for SQLite a new file) and costs many times more than this: suites
 * that need hundreds of equal stores, as test_faults, make one and restore
 * it.  tb_can_restore() says whether a backend has it.  0 on success, -1
 * on error or if unsupported. */
bool tb_can_restore(const char *name);
int tb_checkpoint(test_backend *tb);
int tb_restore(test_backend *tb);

/* A handle directly on the store (closing it leaves the store open). */
patron_db *tb_db(test_backend *tb);

/* Give the store an order of customer `customer_id` (the host's own table:
 * memory store references, for SQLite the test's table test_orders, configured
 * as the store's ref table of kind "order").
 * 0 on success. */
int tb_add_order(test_backend *tb, const char *order_id, int64_t customer_id);
/* The customer an order belongs to, 0 if none, -1 on error. */
int64_t tb_order_owner(test_backend *tb, const char *order_id);

/* ---- a cmocka fixture: a fresh store and a handle on it ----------------- */

typedef struct tb_fx {
    test_backend tb;
    patron_db *db;
} tb_fx;

/* The backend the fixtures open; set it from main() with tb_selected(). */
extern const char *tb_backend;
int fx_setup(void **state);
int fx_teardown(void **state);

/* Assert that a call succeeds, with the library's message if it does not. */
#define OK(db, call) \
    do { \
        patron_status st_ = (call); \
        if (st_ != PATRON_OK) \
            fail_msg("%s: %s (%s)", #call, patron_status_message(st_), patron_db_errmsg(db)); \
    } while (0)

/* ---- fault injection -------------------------------------------------- */

typedef struct fault_store {
    const patron_store_ops *inner;
    void *inner_ctx;
    patron_store_ops ops;
    long calls;     /* callbacks called so far (rollback and destroy excluded) */
    long fail_at;   /* fail the call with this number (1-based); 0: never */
    bool failed;    /* a failure was injected */
    char last_failed[32];
} fault_store;

/* A handle on `tb` through a fault_store.  Closing it leaves tb open. */
patron_db *fault_db(fault_store *fs, test_backend *tb);
/* The same with the store's meta callbacks (named values) wrapped too, so
 * that they fail in turn; fault_db() leaves them out (the store then has
 * no meta, as the older suites expect). */
patron_db *fault_db_with_meta(fault_store *fs, test_backend *tb);
/* Arm: fail callback number n from now on counting (0 disarms); resets calls. */
void fault_arm(fault_store *fs, long n);

/* A canonical text of everything the store holds: every record packed (in
 * id order), the ids under each key of every record and under each of
 * `probe_keys` (kind/value pairs ending with kind 0), the journal, the
 * number counter (peeked inside a rolled-back transaction) and whether each
 * of `probe_numbers` (NULL-terminated) is claimed.  Free with free(). */
char *store_fingerprint(test_backend *tb, const patron_key *probe_keys, const char *const *probe_numbers);

#endif
