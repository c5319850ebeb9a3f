#include "backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef PATRON_TEST_HAVE_SQLITE
#include <patron/sqlite.h>
#include <sqlite3.h>
#endif
#ifdef PATRON_TEST_HAVE_PG
#include <libpq-fe.h>
#include <patron/postgres.h>
#include <time.h>

/* Run `sql` on the store's connection; 0 on success. */
static int pg_exec(test_backend *tb, const char *sql)
{
    PGresult *r = PQexec(patron_pg_handle(tb->ctx), sql);
    int ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    if (!ok)
        fprintf(stderr, "postgres: %s: %s", sql, PQerrorMessage(patron_pg_handle(tb->ctx)));
    PQclear(r);
    return ok ? 0 : -1;
}
#endif

const char *tb_selected(int argc, char **argv)
{
    const char *env = getenv("PATRON_TEST_BACKEND");
    if (argc > 1 && argv[1][0] != '-')
        return argv[1];
    return env && *env ? env : "memory";
}

int tb_open(test_backend *tb, const char *name)
{
    memset(tb, 0, sizeof *tb);
    snprintf(tb->name, sizeof tb->name, "%s", name);
    if (strcmp(name, "memory") == 0) {
        if (patron_memstore_new(&tb->ms) != PATRON_OK)
            return -1;
        tb->ops_copy.version = PATRON_STORE_VERSION;
        if (patron_memstore_ops(&tb->ops_copy, &tb->ctx, tb->ms) != PATRON_OK) {
            patron_memstore_free(tb->ms);
            tb->ms = NULL;
            return -1;
        }
        tb->ops = &tb->ops_copy;
        return 0;
    }
#ifdef PATRON_TEST_HAVE_SQLITE
    if (strcmp(name, "sqlite") == 0) {
        char *err = NULL;
        int fd;
        const char *tmp = getenv("TMPDIR");
        snprintf(tb->path, sizeof tb->path, "%s/patron-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        fd = mkstemp(tb->path);
        if (fd < 0)
            return -1;
        close(fd);
        unlink(tb->path); /* the store creates it */
        /* The orders are the test's own table, which merges re-link. */
        static const patron_sqlite_ref_table orders = { "order", "test_orders", "customer_id",
                                                        "order_id", 0 };
        patron_sqlite_options o = PATRON_SQLITE_OPTIONS_INIT;
        o.ref_tables = &orders;
        o.n_ref_tables = 1;
        if (patron_sqlite_store_open(&tb->ops_copy, &tb->ctx, &err, tb->path, &o) != PATRON_OK) {
            fprintf(stderr, "sqlite store: %s\n", err ? err : "?");
            patron_free(err);
            return -1;
        }
        if (sqlite3_exec(patron_sqlite_handle(tb->ctx),
                         "CREATE TABLE test_orders (order_id TEXT PRIMARY KEY, "
                         "customer_id INTEGER, total TEXT)",
                         NULL, NULL, NULL) != SQLITE_OK) {
            tb->ops_copy.destroy(tb->ctx);
            return -1;
        }
        tb->ops = &tb->ops_copy;
        return 0;
    }
#endif
#ifdef PATRON_TEST_HAVE_PG
    if (strcmp(name, "postgres") == 0) {
        static unsigned seq;
        const char *conninfo = getenv("PATRON_TEST_PG");
        char *err = NULL, table[128], sql[512];
        patron_pg_ref_table orders = { "order", NULL, "customer_id", "order_id", 0 };
        patron_pg_options o = PATRON_PG_OPTIONS_INIT;
        if (!conninfo || !*conninfo) {
            fprintf(stderr, "postgres backend: PATRON_TEST_PG is not set (run the suite through "
                            "tests/pg/cluster.sh run, as meson test does)\n");
            return -1;
        }
        /* a schema of its own per store: tests never see each other's rows */
        snprintf(tb->pg_schema, sizeof tb->pg_schema, "t_%ld_%u_%lx", (long)getpid(), seq++,
                 (unsigned long)time(NULL) & 0xFFFFFu);
        snprintf(table, sizeof table, "%s.test_orders", tb->pg_schema);
        orders.table = table;
        o.schema = tb->pg_schema;
        o.ref_tables = &orders;
        o.n_ref_tables = 1;
        if (patron_pg_store_open(&tb->ops_copy, &tb->ctx, &err, conninfo, &o) != PATRON_OK) {
            fprintf(stderr, "postgres store: %s\n", err ? err : "?");
            patron_free(err);
            return -1;
        }
        snprintf(sql, sizeof sql,
                 "CREATE TABLE \"%s\".test_orders (order_id text PRIMARY KEY, customer_id bigint, "
                 "total text)",
                 tb->pg_schema);
        if (pg_exec(tb, sql) != 0) {
            tb->ops_copy.destroy(tb->ctx);
            return -1;
        }
        tb->ops = &tb->ops_copy;
        return 0;
    }
#endif
    fprintf(stderr, "unknown or unavailable backend '%s'\n", name);
    return -1;
}

void tb_close(test_backend *tb)
{
#ifdef PATRON_TEST_HAVE_PG
    if (tb->pg_schema[0] && tb->ctx) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA \"%s\" CASCADE", tb->pg_schema);
        pg_exec(tb, sql);
    }
#endif
    free(tb->restore_sql);
    if (tb->ops && tb->ops->destroy)
        tb->ops->destroy(tb->ctx);
    patron_memstore_free(tb->ms);
    if (tb->path[0]) {
        char side[300];
        unlink(tb->path);
        snprintf(side, sizeof side, "%s-wal", tb->path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", tb->path);
        unlink(side);
    }
    memset(tb, 0, sizeof *tb);
}

bool tb_can_restore(const char *name)
{
#ifdef PATRON_TEST_HAVE_SQLITE
    if (strcmp(name, "sqlite") == 0)
        return true;
#endif
#ifdef PATRON_TEST_HAVE_PG
    if (strcmp(name, "postgres") == 0)
        return true;
#endif
    (void)name;
    return false;
}

#if defined(PATRON_TEST_HAVE_PG) || defined(PATRON_TEST_HAVE_SQLITE)
/* Append to a growing string; NULL (and *buf freed) when out of memory. */
static char *cat(char **buf, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *grown;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(grown = realloc(*buf, *len + (size_t)n + 1))) {
        free(*buf);
        return *buf = NULL;
    }
    va_start(ap, fmt);
    vsnprintf(grown + *len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *len += (size_t)n;
    return *buf = grown;
}
#endif

#ifdef PATRON_TEST_HAVE_SQLITE
/* As pg_checkpoint() below: each table of the file (sqlite_sequence, the
 * AUTOINCREMENT counters, included) copied to a temporary table of the
 * store's connection, and the SQL that puts the rows back. */
static int sqlite_checkpoint(test_backend *tb)
{
    sqlite3 *h = patron_sqlite_handle(tb->ctx);
    sqlite3_stmt *st;
    char *sql = NULL;
    size_t len = 0;
    int ok = 1, i = 0, rc;

    free(tb->restore_sql);
    tb->restore_sql = NULL;
    if (sqlite3_prepare_v2(h, "SELECT name FROM main.sqlite_master WHERE type = 'table'", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    cat(&sql, &len, "BEGIN IMMEDIATE;");
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        char *copy = sqlite3_mprintf("DROP TABLE IF EXISTS temp.tb_ck_%d;"
                                     "CREATE TEMP TABLE tb_ck_%d AS SELECT * FROM main.\"%w\"",
                                     i, i, name);
        ok = copy && sqlite3_exec(h, copy, NULL, NULL, NULL) == SQLITE_OK &&
             cat(&sql, &len, "DELETE FROM main.\"%s\"; INSERT INTO main.\"%s\" SELECT * FROM temp.tb_ck_%d;",
                 name, name, i) != NULL;
        sqlite3_free(copy);
        i++;
    }
    sqlite3_finalize(st);
    if (!ok || !cat(&sql, &len, "COMMIT")) {
        fprintf(stderr, "sqlite checkpoint: %s\n", sqlite3_errmsg(h));
        free(sql);
        return -1;
    }
    tb->restore_sql = sql;
    return 0;
}
#endif

#ifdef PATRON_TEST_HAVE_PG

/* The copy: each table of the store's schema as a temporary table of the
 * store's session (pg_temp.tb_ck_<n>, outside the schema, which tests list
 * and fingerprint), and the sequences' positions written into the SQL that
 * puts them back.  Plain statements, built once: restoring a handful of
 * rows takes a few milliseconds, a new schema 60 ms and more. */
static int pg_checkpoint(test_backend *tb)
{
    PGconn *c = patron_pg_handle(tb->ctx);
    const char *params[1] = { tb->pg_schema };
    PGresult *r;
    char *sql = NULL;
    size_t len = 0;
    int ok = 1;

    free(tb->restore_sql);
    tb->restore_sql = NULL;
    r = PQexecParams(c,
                     "SELECT 't', quote_ident(tablename), NULL, NULL FROM pg_tables WHERE schemaname = $1 "
                     "UNION ALL SELECT 's', quote_ident(sequencename), coalesce(last_value, 1), "
                     "last_value IS NOT NULL FROM pg_sequences WHERE schemaname = $1",
                     1, NULL, params, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "postgres checkpoint: %s", PQerrorMessage(c));
        PQclear(r);
        return -1;
    }
    cat(&sql, &len, "BEGIN;");
    for (int i = 0; ok && i < PQntuples(r); i++) {
        const char *name = PQgetvalue(r, i, 1);
        char copy[512];
        if (PQgetvalue(r, i, 0)[0] == 's') {
            ok = cat(&sql, &len, "SELECT setval('\"%s\".%s', %s, %s);", tb->pg_schema, name,
                     PQgetvalue(r, i, 2), PQgetvalue(r, i, 3)[0] == 't' ? "true" : "false") != NULL;
            continue;
        }
        snprintf(copy, sizeof copy,
                 "DROP TABLE IF EXISTS pg_temp.tb_ck_%d;"
                 "CREATE TEMP TABLE tb_ck_%d AS SELECT * FROM \"%s\".%s",
                 i, i, tb->pg_schema, name);
        ok = pg_exec(tb, copy) == 0 &&
             cat(&sql, &len, "DELETE FROM \"%s\".%s; INSERT INTO \"%s\".%s SELECT * FROM pg_temp.tb_ck_%d;",
                 tb->pg_schema, name, tb->pg_schema, name, i) != NULL;
    }
    PQclear(r);
    if (!ok || !cat(&sql, &len, "COMMIT")) {
        free(sql);
        return -1;
    }
    tb->restore_sql = sql;
    return 0;
}
#endif

int tb_checkpoint(test_backend *tb)
{
#ifdef PATRON_TEST_HAVE_SQLITE
    if (strcmp(tb->name, "sqlite") == 0 && tb->ctx)
        return sqlite_checkpoint(tb);
#endif
#ifdef PATRON_TEST_HAVE_PG
    if (tb->pg_schema[0] && tb->ctx)
        return pg_checkpoint(tb);
#endif
    (void)tb;
    return -1;
}

int tb_restore(test_backend *tb)
{
#ifdef PATRON_TEST_HAVE_SQLITE
    if (tb->restore_sql && strcmp(tb->name, "sqlite") == 0) {
        char *err = NULL;
        if (sqlite3_exec(patron_sqlite_handle(tb->ctx), tb->restore_sql, NULL, NULL, &err) == SQLITE_OK)
            return 0;
        fprintf(stderr, "sqlite restore: %s\n", err ? err : "?");
        sqlite3_free(err);
        sqlite3_exec(patron_sqlite_handle(tb->ctx), "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
#endif
#ifdef PATRON_TEST_HAVE_PG
    if (tb->restore_sql)
        return pg_exec(tb, tb->restore_sql);
#endif
    (void)tb;
    return -1;
}

patron_db *tb_db(test_backend *tb)
{
    patron_store_ops ops = *tb->ops;
    patron_db *db = NULL;
    ops.destroy = NULL; /* the backend owns its context */
    if (patron_db_open(&db, &ops, tb->ctx) != PATRON_OK)
        return NULL;
    return db;
}

const char *tb_backend = "memory";

int fx_setup(void **state)
{
    tb_fx *f = calloc(1, sizeof *f);
    if (!f || tb_open(&f->tb, tb_backend) != 0) {
        free(f);
        return -1;
    }
    f->db = tb_db(&f->tb);
    *state = f;
    return f->db ? 0 : -1;
}

int fx_teardown(void **state)
{
    tb_fx *f = *state;
    patron_db_close(f->db);
    tb_close(&f->tb);
    free(f);
    return 0;
}

int tb_add_order(test_backend *tb, const char *order_id, int64_t customer_id)
{
    if (tb->ms)
        return patron_memstore_set_ref(tb->ms, "order", order_id, customer_id, 0) == PATRON_OK ? 0 : -1;
#ifdef PATRON_TEST_HAVE_SQLITE
    if (strcmp(tb->name, "sqlite") == 0) {
        sqlite3 *h = patron_sqlite_handle(tb->ctx);
        sqlite3_stmt *st;
        int rc;
        if (sqlite3_prepare_v2(h, "INSERT INTO test_orders(order_id, customer_id, total) VALUES(?, ?, '9.99')",
                               -1, &st, NULL) != SQLITE_OK)
            return -1;
        sqlite3_bind_text(st, 1, order_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, customer_id);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : -1;
    }
#endif
#ifdef PATRON_TEST_HAVE_PG
    if (tb->pg_schema[0]) {
        char sql[256], num[24];
        const char *params[2];
        PGresult *r;
        int ok;
        snprintf(sql, sizeof sql,
                 "INSERT INTO \"%s\".test_orders(order_id, customer_id, total) VALUES ($1, $2, '9.99')",
                 tb->pg_schema);
        snprintf(num, sizeof num, "%lld", (long long)customer_id);
        params[0] = order_id;
        params[1] = num;
        r = PQexecParams(patron_pg_handle(tb->ctx), sql, 2, NULL, params, NULL, NULL, 0);
        ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        return ok ? 0 : -1;
    }
#endif
    return -1;
}

int64_t tb_order_owner(test_backend *tb, const char *order_id)
{
    if (tb->ms)
        return patron_memstore_ref_owner(tb->ms, "order", order_id);
#ifdef PATRON_TEST_HAVE_SQLITE
    if (strcmp(tb->name, "sqlite") == 0) {
        sqlite3 *h = patron_sqlite_handle(tb->ctx);
        sqlite3_stmt *st;
        int64_t owner = 0;
        if (sqlite3_prepare_v2(h, "SELECT customer_id FROM test_orders WHERE order_id = ?", -1, &st, NULL) !=
            SQLITE_OK)
            return -1;
        sqlite3_bind_text(st, 1, order_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            owner = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return owner;
    }
#endif
#ifdef PATRON_TEST_HAVE_PG
    if (tb->pg_schema[0]) {
        char sql[256];
        const char *params[1] = { order_id };
        PGresult *r;
        int64_t owner = -1;
        snprintf(sql, sizeof sql, "SELECT customer_id FROM \"%s\".test_orders WHERE order_id = $1",
                 tb->pg_schema);
        r = PQexecParams(patron_pg_handle(tb->ctx), sql, 1, NULL, params, NULL, NULL, 0);
        if (r && PQresultStatus(r) == PGRES_TUPLES_OK)
            owner = PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
        PQclear(r);
        return owner;
    }
#endif
    return -1;
}

/* ---- fault injection -------------------------------------------------- */

static int fault_hit(fault_store *fs, const char *name)
{
    fs->calls++;
    if (fs->fail_at && fs->calls == fs->fail_at) {
        fs->failed = true;
        snprintf(fs->last_failed, sizeof fs->last_failed, "%s", name);
        return 1;
    }
    return 0;
}

#define FAULT_ERR (-1000)
#define FS ((fault_store *)ctx)
#define HIT(name) \
    do { \
        if (fault_hit(FS, name)) \
            return FAULT_ERR; \
    } while (0)

static int f_begin(void *ctx) { HIT("begin"); return FS->inner->begin(FS->inner_ctx); }
static int f_commit(void *ctx) { HIT("commit"); return FS->inner->commit(FS->inner_ctx); }
static int f_rollback(void *ctx) { return FS->inner->rollback(FS->inner_ctx); }
static int f_load(void *ctx, int64_t id, patron_customer *out)
{
    HIT("load");
    return FS->inner->load(FS->inner_ctx, id, out);
}
static int f_insert(void *ctx, const patron_customer *c, const patron_key *k, size_t n, int64_t *id)
{
    HIT("insert");
    return FS->inner->insert(FS->inner_ctx, c, k, n, id);
}
static int f_update(void *ctx, const patron_customer *c, const patron_key *k, size_t n)
{
    HIT("update");
    return FS->inner->update(FS->inner_ctx, c, k, n);
}
static int f_remove(void *ctx, int64_t id)
{
    HIT("remove");
    return FS->inner->remove(FS->inner_ctx, id);
}
static int f_lookup(void *ctx, int kind, const char *v, patron_emit_id_fn e, void *ec)
{
    HIT("lookup");
    return FS->inner->lookup(FS->inner_ctx, kind, v, e, ec);
}
static int f_scan(void *ctx, const patron_store_filter *f, int64_t after, size_t lim, patron_emit_id_fn e,
                  void *ec)
{
    HIT("scan");
    return FS->inner->scan(FS->inner_ctx, f, after, lim, e, ec);
}
static int f_next_number(void *ctx, uint64_t *out)
{
    HIT("next_number");
    return FS->inner->next_number(FS->inner_ctx, out);
}
static int f_claim_number(void *ctx, const char *num)
{
    HIT("claim_number");
    return FS->inner->claim_number(FS->inner_ctx, num);
}
static int f_relink(void *ctx, int64_t from, int64_t to, patron_emit_ref_fn e, void *ec)
{
    HIT("relink");
    return FS->inner->relink(FS->inner_ctx, from, to, e, ec);
}
static int f_move_ref(void *ctx, const char *kind, const char *ref, int64_t to)
{
    HIT("move_ref");
    return FS->inner->move_ref(FS->inner_ctx, kind, ref, to);
}
static int f_check_refs(void *ctx, int64_t id, patron_emit_reason_fn e, void *ec)
{
    HIT("check_refs");
    return FS->inner->check_refs(FS->inner_ctx, id, e, ec);
}
static int f_journal_append(void *ctx, const patron_journal_entry *je, int64_t *id)
{
    HIT("journal_append");
    return FS->inner->journal_append(FS->inner_ctx, je, id);
}
static int f_journal_get(void *ctx, int64_t id, patron_emit_journal_fn e, void *ec)
{
    HIT("journal_get");
    return FS->inner->journal_get(FS->inner_ctx, id, e, ec);
}
static int f_journal_scan(void *ctx, int64_t after, size_t lim, patron_emit_journal_fn e, void *ec)
{
    HIT("journal_scan");
    return FS->inner->journal_scan(FS->inner_ctx, after, lim, e, ec);
}
static int f_journal_set_undone(void *ctx, int64_t id, int64_t by)
{
    HIT("journal_set_undone");
    return FS->inner->journal_set_undone(FS->inner_ctx, id, by);
}
static int f_journal_rewrite(void *ctx, int64_t id, const char *payload)
{
    HIT("journal_rewrite");
    return FS->inner->journal_rewrite(FS->inner_ctx, id, payload);
}
static int f_match_form_put(void *ctx, int64_t id, const void *form, size_t len)
{
    HIT("match_form_put");
    return FS->inner->match_form_put(FS->inner_ctx, id, form, len);
}
static int f_match_form_get(void *ctx, int64_t id, const void **form, size_t *len)
{
    HIT("match_form_get");
    return FS->inner->match_form_get(FS->inner_ctx, id, form, len);
}
static int f_prefetch(void *ctx, const patron_key *k, size_t nk, const char *const *nums, size_t nn, size_t ni)
{
    HIT("prefetch");
    return FS->inner->prefetch(FS->inner_ctx, k, nk, nums, nn, ni);
}
static int f_meta_get(void *ctx, const char *key, patron_emit_meta_fn e, void *ec)
{
    HIT("meta_get");
    return FS->inner->meta_get(FS->inner_ctx, key, e, ec);
}
static int f_meta_put(void *ctx, const char *key, const char *value)
{
    HIT("meta_put");
    return FS->inner->meta_put(FS->inner_ctx, key, value);
}
static int f_meta_scan(void *ctx, const char *prefix, patron_emit_meta_fn e, void *ec)
{
    HIT("meta_scan");
    return FS->inner->meta_scan(FS->inner_ctx, prefix, e, ec);
}
static const char *f_errmsg(void *ctx)
{
    if (FS->failed)
        return "injected failure";
    return FS->inner->errmsg ? FS->inner->errmsg(FS->inner_ctx) : NULL;
}

static patron_db *fault_db_build(fault_store *fs, test_backend *tb, bool meta)
{
    const patron_store_ops *in = tb->ops;
    patron_store_ops o = PATRON_STORE_OPS_INIT;
    patron_db *db = NULL;
    memset(fs, 0, sizeof *fs);
    fs->inner = in;
    fs->inner_ctx = tb->ctx;
    o.begin = f_begin;
    o.commit = f_commit;
    o.rollback = f_rollback;
    o.load = f_load;
    o.insert = f_insert;
    o.update = f_update;
    o.remove = f_remove;
    o.lookup = f_lookup;
    o.scan = f_scan;
    o.next_number = f_next_number;
    o.claim_number = f_claim_number;
    o.relink = in->relink ? f_relink : NULL;
    o.move_ref = in->move_ref ? f_move_ref : NULL;
    o.check_refs = in->check_refs ? f_check_refs : NULL;
    o.journal_append = in->journal_append ? f_journal_append : NULL;
    o.journal_get = in->journal_get ? f_journal_get : NULL;
    o.journal_scan = in->journal_scan ? f_journal_scan : NULL;
    o.journal_set_undone = in->journal_set_undone ? f_journal_set_undone : NULL;
    /* the match form goes through the wrapper too: the fault sweeps cover
     * the path matching and dedupe really take */
    o.match_form_put = in->version >= 2 && in->match_form_put ? f_match_form_put : NULL;
    o.match_form_get = in->version >= 2 && in->match_form_get ? f_match_form_get : NULL;
    /* erasure scrubs the journal through the wrapper; purge runs after the
     * commit (not part of an atomic step) and is left out */
    o.journal_rewrite = in->version >= 5 && in->journal_rewrite ? f_journal_rewrite : NULL;
    /* the batched creates' hint (version 6), so that a store's bulk path
     * is swept too */
    o.prefetch = in->version >= 6 && in->prefetch ? f_prefetch : NULL;
    if (meta && in->meta_get && in->meta_put && in->meta_scan) {
        o.meta_get = f_meta_get;
        o.meta_put = f_meta_put;
        o.meta_scan = f_meta_scan;
    }
    o.errmsg = f_errmsg;
    o.destroy = NULL;
    fs->ops = o;
    if (patron_db_open(&db, &fs->ops, fs) != PATRON_OK)
        return NULL;
    return db;
}

patron_db *fault_db(fault_store *fs, test_backend *tb)
{
    return fault_db_build(fs, tb, false);
}

patron_db *fault_db_with_meta(fault_store *fs, test_backend *tb)
{
    return fault_db_build(fs, tb, true);
}

void fault_arm(fault_store *fs, long n)
{
    fs->fail_at = n;
    fs->calls = 0;
    fs->failed = false;
    fs->last_failed[0] = '\0';
}

/* ---- fingerprint ------------------------------------------------------ */

typedef struct buf {
    char *s;
    size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s)
            abort();
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void putf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

typedef struct ids {
    int64_t v[4096];
    size_t n;
} ids;

static int add_id(void *ctx, int64_t id)
{
    ids *l = ctx;
    if (l->n < sizeof l->v / sizeof l->v[0])
        l->v[l->n++] = id;
    return 0;
}

static void key_ids(buf *b, test_backend *tb, int kind, const char *value)
{
    ids l = { .n = 0 };
    tb->ops->lookup(tb->ctx, kind, value, add_id, &l);
    putf(b, "key %d ", kind);
    put(b, value, strlen(value));
    put(b, " ->", 3);
    for (size_t i = 0; i < l.n; i++)
        putf(b, " %lld", (long long)l.v[i]);
    put(b, "\n", 1);
}

static int add_journal(void *ctx, const patron_journal_entry *e)
{
    buf *b = ctx;
    putf(b, "journal %lld %s cust=%lld undone_by=%lld ", (long long)e->id, e->kind,
         (long long)e->customer_id, (long long)e->undone_by);
    for (const char *p = e->payload; *p; p++) /* one line per entry */
        put(b, *p == '\n' ? "|" : p, 1);
    put(b, "\n", 1);
    return 0;
}

char *store_fingerprint(test_backend *tb, const patron_key *probe_keys, const char *const *probe_numbers)
{
    static const patron_filter all = PATRON_FILTER_INIT;
    const patron_store_ops *o = tb->ops;
    buf b = { NULL, 0, 0 };
    ids *l = calloc(1, sizeof *l);
    uint64_t counter = 0;
    if (!l)
        abort();
    put(&b, "", 0);
    if (o->begin(tb->ctx) != 0)
        abort();
    o->scan(tb->ctx, &all, 0, 1000000, add_id, l);
    for (size_t i = 0; i < l->n; i++) {
        patron_customer *c;
        char *packed;
        size_t len;
        const char *v;
        patron_customer_new(&c);
        if (o->load(tb->ctx, l->v[i], c) != 0)
            abort();
        if (tb->fp_no_revision) {
            patron_record_set(c, PATRON_F_REVISION, "0");
            patron_record_set(c, PATRON_F_UPDATED_AT, "0");
        }
        patron_record_pack(&packed, &len, c);
        putf(&b, "record %lld %zu ", (long long)l->v[i], len);
        /* packed records hold binary lengths: escape them, so that the
         * fingerprint is one C string that strcmp compares whole */
        for (size_t k = 0; k < len; k++) {
            unsigned char ch = (unsigned char)packed[k];
            if (ch >= 0x20 && ch < 0x7F && ch != '\\')
                put(&b, (const char *)&packed[k], 1);
            else
                putf(&b, "\\x%02x", ch);
        }
        put(&b, "\n", 1);
        patron_free(packed);
        if ((v = patron_customer_get(c, PATRON_F_NUMBER)))
            key_ids(&b, tb, PATRON_KEY_NUMBER, v);
        if ((v = patron_customer_get(c, PATRON_F_EXTERNAL_ID)))
            key_ids(&b, tb, PATRON_KEY_EXTERNAL, v);
        if ((v = patron_customer_get(c, PATRON_F_LOGIN_USER)))
            key_ids(&b, tb, PATRON_KEY_LOGIN, v);
        patron_customer_free(c);
    }
    for (const patron_key *k = probe_keys; k && k->kind; k++)
        key_ids(&b, tb, k->kind, k->value);
    if (o->journal_scan)
        o->journal_scan(tb->ctx, 0, 100000, add_journal, &b);
    o->next_number(tb->ctx, &counter);
    putf(&b, "counter %llu\n", (unsigned long long)counter);
    for (const char *const *n = probe_numbers; n && *n; n++)
        putf(&b, "claimed %s %d\n", *n, o->claim_number(tb->ctx, *n) == PATRON_E_EXISTS);
    o->rollback(tb->ctx);
    /* outside the transaction: the memory store's ref lookup takes its lock */
    for (const char *const *ord = tb->probe_orders; ord && *ord; ord++)
        putf(&b, "order %s -> %lld\n", *ord, (long long)tb_order_owner(tb, *ord));
    free(l);
    return b.s;
}
