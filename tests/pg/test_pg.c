/* Tests of libpatron-pg that are specific to PostgreSQL (the contract
 * suites run against it from tests/meson.build): plans of the key
 * statements, host transactions on the host's PGconn, numbers and the
 * advisory lock across connections, schema versions, options, a lost
 * connection.  White-box: links the store's internal library to reach the
 * names of its prepared statements.  Needs PATRON_TEST_PG (meson runs it
 * inside tests/pg/cluster.sh run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pg_internal.h"
#include "pgtest.h"

typedef struct fixture {
    char schema[64];
    PGconn *admin; /* the test's own connection, for raw SQL */
} fixture;

static const char *conninfo(void)
{
    return pgt_conninfo();
}

static int setup(void **state)
{
    static unsigned seq;
    fixture *f = calloc(1, sizeof *f);
    if (!f || !conninfo()) {
        fprintf(stderr, "PATRON_TEST_PG is not set (run through tests/pg/cluster.sh run)\n");
        free(f);
        return -1;
    }
    snprintf(f->schema, sizeof f->schema, "tp_%ld_%u", (long)getpid(), seq++);
    if (!(f->admin = pgt_connect(conninfo()))) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static void sql_ok(PGconn *c, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    PGresult *r;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    r = PQexec(c, sql);
    if (!r || (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK))
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

static long long sql_int(PGconn *c, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    PGresult *r;
    long long v;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    r = PQexec(c, sql);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char sql[128];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS \"%s\" CASCADE", f->schema);
    PQclear(PQexec(f->admin, sql));
    PQfinish(f->admin);
    free(f);
    return 0;
}

static patron_db *open_db(fixture *f, unsigned flags, patron_pg **store)
{
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    patron_db *db = NULL;
    char *msg = NULL;
    o.schema = f->schema;
    o.flags = flags;
    if (patron_db_open_postgres(&db, store, &msg, conninfo(), &o) != PATRON_OK)
        fail_msg("open: %s", msg ? msg : "?");
    return db;
}

static patron_customer *person(const char *first, const char *last, const char *email)
{
    patron_customer *c = NULL;
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_FIRST_NAME, first), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_LAST_NAME, last), PATRON_OK);
    if (email)
        assert_int_equal(patron_customer_set(c, PATRON_F_EMAIL, email), PATRON_OK);
    return c;
}

static int64_t create(patron_db *db, const char *first, const char *last, const char *number,
                      char *num_out, size_t cap)
{
    patron_customer *c = person(first, last, NULL);
    int64_t id;
    patron_status st;
    if (number)
        assert_int_equal(patron_customer_set(c, PATRON_F_NUMBER, number), PATRON_OK);
    st = patron_db_create(db, c);
    if (st != PATRON_OK)
        fail_msg("create %s %s: %s", first, last, patron_db_errmsg(db));
    id = patron_customer_id(c);
    if (num_out)
        snprintf(num_out, cap, "%s", patron_customer_get(c, PATRON_F_NUMBER));
    patron_customer_free(c);
    return id;
}

/* ---- plans --------------------------------------------------------------- */

static int count_ids(void *ctx, int64_t id)
{
    (void)id;
    (*(int *)ctx)++;
    return 0;
}

/* The plan of prepared statement `st` of store `s` for (kind, value). */
static char *plan_of(patron_pg *s, enum ppg_stmt st, int kind, const char *value)
{
    char sql[256], *out;
    size_t len = 0, cap = 4096;
    PGresult *r;
    char *lit = PQescapeLiteral(s->conn, value, strlen(value));
    snprintf(sql, sizeof sql, "EXPLAIN EXECUTE \"%s_%d\"(%d, %s)", s->stmt_base, (int)st, kind, lit);
    PQfreemem(lit);
    r = PQexec(s->conn, sql);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(s->conn));
    out = calloc(1, cap);
    assert_non_null(out);
    for (int i = 0; i < PQntuples(r); i++) {
        int w = snprintf(out + len, cap - len, "%s\n", PQgetvalue(r, i, 0));
        assert_true(w > 0 && (size_t)w < cap - len);
        len += (size_t)w;
    }
    PQclear(r);
    return out;
}

static void assert_index_plan(const char *what, const char *plan, const char *table)
{
    printf("-- %s\n%s", what, plan);
    if (strstr(plan, "Seq Scan"))
        fail_msg("%s: a sequential scan:\n%s", what, plan);
    if (!strstr(plan, "Index"))
        fail_msg("%s: no index in the plan:\n%s", what, plan);
    if (!strstr(plan, table))
        fail_msg("%s: table %s not in the plan:\n%s", what, table, plan);
}

/* Candidate lookup and the frequency count are index scans, on a table of
 * realistic size and statistics (ANALYZE, nothing disabled), with the plan
 * PostgreSQL picks for the given values and with its generic plan (what a
 * prepared statement runs after a few executions). */
static void test_explain_lookup_and_count(void **state)
{
    fixture *f = *state;
    patron_pg *s = NULL;
    patron_db *db = open_db(f, 0, &s);
    patron_store_ops ops;
    void *ctx = NULL;
    char *msg = NULL;
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    uint64_t n = 0;
    int hits = 0;
    char email[64];

    for (int i = 0; i < 50; i++) {
        patron_customer *c;
        snprintf(email, sizeof email, "person%d@example.de", i);
        c = person(i % 2 ? "Anna" : "Bernd", i % 3 ? "Müller" : "Schmidt", email);
        assert_int_equal(patron_db_create(db, c), PATRON_OK);
        patron_customer_free(c);
    }
    /* 200 000 customers' worth of keys of four kinds, and their counts:
     * the shape of a real key table (many distinct values per kind). */
    sql_ok(f->admin,
           "INSERT INTO \"%s\".patron_customer_keys(kind, value, customer_id) "
           "SELECT k, 'v' || (i %% 50000)::text || '-' || k::text, 1000 + i "
           "FROM generate_series(1, 200000) AS i, (VALUES (1), (3), (100), (120)) AS t(k)",
           f->schema);
    sql_ok(f->admin,
           "INSERT INTO \"%s\".patron_key_counts(kind, value, n) "
           "SELECT kind, value, count(*) FROM \"%s\".patron_customer_keys "
           "WHERE kind IN (100, 120) GROUP BY kind, value "
           "ON CONFLICT (kind, value) DO UPDATE SET n = excluded.n",
           f->schema, f->schema);
    sql_ok(f->admin, "ANALYZE \"%s\".patron_customer_keys", f->schema);
    sql_ok(f->admin, "ANALYZE \"%s\".patron_key_counts", f->schema);

    /* a store of its own, to prepare the statements on a known connection */
    o.schema = f->schema;
    if (patron_pg_store_open(&ops, &ctx, &msg, conninfo(), &o) != PATRON_OK)
        fail_msg("open: %s", msg);
    s = ctx;
    assert_int_equal(ops.begin_read(ctx), 0);
    assert_int_equal(ops.lookup(ctx, PATRON_KEY_EMAIL, "v17-3", count_ids, &hits), 0);
    assert_int_equal(hits, 4); /* 200000 / 50000 */
    assert_int_equal(ops.count(ctx, PATRON_KEY_EMAIL, "v17-3", &n), 0); /* not counted: index */
    assert_int_equal(n, 4);
    assert_int_equal(ops.count(ctx, 100, "v17-100", &n), 0); /* counted: key_counts */
    assert_int_equal(n, 4);
    assert_int_equal(ops.commit(ctx), 0);

    for (int generic = 0; generic < 2; generic++) {
        char *p;
        sql_ok(s->conn, "SET plan_cache_mode = %s", generic ? "force_generic_plan" : "auto");
        p = plan_of(s, ST_KEY_LOOKUP, PATRON_KEY_EMAIL, "v17-3");
        assert_index_plan(generic ? "lookup (generic plan)" : "lookup", p, "patron_customer_keys");
        free(p);
        p = plan_of(s, ST_KEY_COUNT, PATRON_KEY_EMAIL, "v17-3");
        assert_index_plan(generic ? "count, uncounted kind (generic plan)" : "count, uncounted kind",
                          p, "patron_customer_keys");
        free(p);
        p = plan_of(s, ST_KEY_COUNTED, 100, "v17-100");
        assert_index_plan(generic ? "count, counted kind (generic plan)" : "count, counted kind", p,
                          "patron_key_counts");
        free(p);
        /* a blocking key of the matcher */
        p = plan_of(s, ST_KEY_LOOKUP, 120, "v4711-120");
        assert_index_plan(generic ? "lookup kind 120 (generic plan)" : "lookup kind 120", p,
                          "patron_customer_keys");
        free(p);
    }
    sql_ok(s->conn, "RESET plan_cache_mode");
    patron_pg_close(ctx);
    patron_db_close(db);
}

/* ---- key counts stay exact ---------------------------------------------------- */

/* Keys of counted kinds whose count in key_counts differs from the rows in
 * customer_keys (zero-count rows may stay in key_counts). */
static long long count_mismatches(fixture *f)
{
    return sql_int(f->admin,
                   "SELECT count(*) FROM (SELECT kind, value, count(*) AS n FROM \"%s\".patron_customer_keys"
                   " WHERE kind IN (" PPG_COUNTED_KINDS ") GROUP BY kind, value) AS a"
                   " FULL JOIN (SELECT kind, value, n FROM \"%s\".patron_key_counts WHERE n <> 0) AS b"
                   " USING (kind, value) WHERE a.n IS DISTINCT FROM b.n",
                   f->schema, f->schema);
}

static void test_key_counts_exact(void **state)
{
    fixture *f = *state;
    patron_db *db = open_db(f, 0, NULL);
    int64_t ids[12], journal = 0, undo = 0;
    patron_merge_plan *plan = NULL;
    patron_customer *c = NULL;
    char email[64];

    for (int i = 0; i < 12; i++) {
        patron_customer *p;
        size_t a;
        snprintf(email, sizeof email, "k%d@example.de", i % 4);
        p = person(i % 3 ? "Anna" : "Bernd", i % 2 ? "Müller" : "Schmidt", email);
        assert_int_equal(patron_customer_address_add(p, &a), PATRON_OK);
        assert_int_equal(patron_customer_address_set(p, a, PATRON_A_STREET, "Hauptstr. 1"), PATRON_OK);
        assert_int_equal(patron_customer_address_set(p, a, PATRON_A_POSTAL_CODE, "10115"), PATRON_OK);
        assert_int_equal(patron_customer_address_set(p, a, PATRON_A_CITY, "Berlin"), PATRON_OK);
        assert_int_equal(patron_db_create(db, p), PATRON_OK);
        ids[i] = patron_customer_id(p);
        patron_customer_free(p);
    }
    assert_true(sql_int(f->admin, "SELECT count(*) FROM \"%s\".patron_key_counts WHERE n > 1", f->schema) > 0);
    assert_int_equal(count_mismatches(f), 0);
    /* an update that changes counted keys */
    assert_int_equal(patron_db_load(db, &c, ids[0]), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_LAST_NAME, "Neumann"), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_EMAIL, "neu@example.de"), PATRON_OK);
    assert_int_equal(patron_db_update(db, c), PATRON_OK);
    patron_customer_free(c);
    assert_int_equal(count_mismatches(f), 0);
    /* a delete */
    assert_int_equal(patron_db_delete(db, ids[1], 0), PATRON_OK);
    assert_int_equal(count_mismatches(f), 0);
    /* a merge and its undo */
    assert_int_equal(patron_merge_plan_new(db, &plan, ids[4], &ids[8], 1, PATRON_MERGE_SURVIVOR), PATRON_OK);
    assert_int_equal(patron_db_merge(db, &journal, plan), PATRON_OK);
    patron_merge_plan_free(plan);
    assert_int_equal(count_mismatches(f), 0);
    assert_int_equal(patron_db_undo(db, &undo, journal, 0), PATRON_OK);
    assert_int_equal(count_mismatches(f), 0);
    patron_db_close(db);
}

/* ---- host transactions on the host's connection --------------------------- */

static void test_host_transaction_on_host_conn(void **state)
{
    fixture *f = *state;
    PGconn *conn = PQconnectdb(conninfo());
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    patron_db *db = NULL;
    patron_pg *s = NULL;
    patron_customer *c;
    char *msg = NULL, num[32];
    int64_t ids[8];
    size_t n = 0;

    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PQsetNoticeProcessor(conn, pgt_quiet, NULL);
    o.schema = f->schema;
    /* opened inside the host's transaction: the tables are created in it */
    sql_ok(conn, "BEGIN");
    if (patron_db_open_postgres_conn(&db, &s, &msg, conn, &o) != PATRON_OK)
        fail_msg("open: %s", msg);
    assert_ptr_equal(patron_pg_handle(s), conn);
    sql_ok(conn, "CREATE TABLE \"%s\".orders (id text PRIMARY KEY, customer_id bigint)", f->schema);
    sql_ok(conn, "COMMIT");

    create(db, "Anna", "Alt", NULL, num, sizeof num);
    assert_string_equal(num, "K000001");

    /* rolled back as a whole by the host: records, counter, claims */
    sql_ok(conn, "BEGIN");
    create(db, "Bernd", "Bau", NULL, num, sizeof num);
    create(db, "Clara", "Chor", "M-77", NULL, 0);
    sql_ok(conn, "ROLLBACK");
    assert_int_equal(patron_db_list(db, ids, &n, 8, NULL, 0), PATRON_OK);
    assert_int_equal(n, 1);
    create(db, "Bernd", "Bau", NULL, num, sizeof num);
    assert_string_equal(num, "K000002");
    create(db, "Clara", "Chor", "M-77", NULL, 0); /* the claim went with the rollback */

    /* a failing call undoes only itself; the host's row commits with
     * patron's */
    sql_ok(conn, "BEGIN");
    sql_ok(conn, "INSERT INTO \"%s\".orders VALUES ('A-1', 1)", f->schema);
    c = person("Dora", "Dach", NULL);
    assert_int_equal(patron_customer_set(c, PATRON_F_NUMBER, "K000001"), PATRON_OK);
    assert_int_equal(patron_db_create(db, c), PATRON_E_EXISTS);
    patron_customer_free(c);
    assert_int_equal(PQtransactionStatus(conn), PQTRANS_INTRANS);
    create(db, "Emil", "Eck", NULL, num, sizeof num);
    assert_string_equal(num, "K000003");
    sql_ok(conn, "COMMIT");
    assert_int_equal(patron_db_list(db, ids, &n, 8, NULL, 0), PATRON_OK);
    assert_int_equal(n, 4);
    assert_int_equal(sql_int(f->admin, "SELECT count(*) FROM \"%s\".orders", f->schema), 1);

    /* a failed host transaction is not written into */
    sql_ok(conn, "BEGIN");
    PQclear(PQexec(conn, "SELECT 1/0"));
    assert_int_equal(PQtransactionStatus(conn), PQTRANS_INERROR);
    c = person("Fritz", "Fall", NULL);
    assert_int_equal(patron_db_create(db, c), PATRON_E_STORE);
    assert_non_null(strstr(patron_db_errmsg(db), "roll it back"));
    patron_customer_free(c);
    sql_ok(conn, "ROLLBACK");

    /* patron_pg_begin / commit / rollback on the host's connection */
    assert_int_equal(patron_pg_begin(s), PATRON_OK);
    assert_int_equal(patron_pg_begin(s), PATRON_E_STATE);
    create(db, "Gerd", "Gans", NULL, NULL, 0);
    assert_int_equal(patron_pg_rollback(s), PATRON_OK);
    assert_int_equal(patron_pg_commit(s), PATRON_E_STATE);
    assert_int_equal(patron_db_list(db, ids, &n, 8, NULL, 0), PATRON_OK);
    assert_int_equal(n, 4);

    /* closing leaves the host's connection open and clean: a second store
     * on it prepares its statements again */
    patron_db_close(db);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    assert_int_equal(sql_int(conn, "SELECT count(*) FROM pg_prepared_statements"), 0);
    if (patron_db_open_postgres_conn(&db, &s, &msg, conn, &o) != PATRON_OK)
        fail_msg("reopen: %s", msg);
    create(db, "Hanna", "Hof", NULL, num, sizeof num);
    assert_string_equal(num, "K000004");
    patron_db_close(db);
    PQfinish(conn);
}

/* ---- several connections --------------------------------------------------- */

static void test_numbers_across_connections(void **state)
{
    fixture *f = *state;
    patron_db *a = open_db(f, 0, NULL), *b = open_db(f, 0, NULL);
    patron_customer *c;
    char num[32], prev[32] = "";

    create(a, "Anna", "Alt", "M-1", NULL, 0);
    c = person("Bernd", "Bau", NULL);
    assert_int_equal(patron_customer_set(c, PATRON_F_NUMBER, "M-1"), PATRON_OK);
    assert_int_equal(patron_db_create(b, c), PATRON_E_EXISTS);
    patron_customer_free(c);
    /* drawn numbers alternate between the connections, never twice */
    for (int i = 0; i < 10; i++) {
        create(i % 2 ? a : b, "Clara", "Chor", NULL, num, sizeof num);
        assert_true(strcmp(num, prev) > 0);
        snprintf(prev, sizeof prev, "%s", num);
    }
    assert_string_equal(prev, "K000010");
    /* a number taken by hand is skipped by the counter, from the other
     * connection too */
    create(a, "Dora", "Dach", "K000011", NULL, 0);
    create(b, "Emil", "Eck", NULL, num, sizeof num);
    assert_string_equal(num, "K000012");
    patron_db_close(a);
    patron_db_close(b);
}

/* Optimistic revisions across connections (processes): the second clerk's
 * change on a stale copy is refused, and changes nothing. */
static void test_revisions_across_connections(void **state)
{
    fixture *f = *state;
    patron_db *a = open_db(f, 0, NULL), *b = open_db(f, 0, NULL);
    patron_customer *ca = NULL, *cb = NULL, *back = NULL;
    int64_t id = create(a, "Anna", "Alt", NULL, NULL, 0);

    assert_int_equal(patron_db_load(a, &ca, id), PATRON_OK);
    assert_int_equal(patron_db_load(b, &cb, id), PATRON_OK);
    assert_int_equal(patron_customer_set(ca, PATRON_F_LAST_NAME, "Schulze"), PATRON_OK);
    assert_int_equal(patron_db_update(a, ca), PATRON_OK);
    assert_int_equal(patron_customer_set(cb, PATRON_F_FIRST_NAME, "Anne"), PATRON_OK);
    assert_int_equal(patron_db_update(b, cb), PATRON_E_CONFLICT);
    assert_int_equal(patron_db_load(b, &back, id), PATRON_OK);
    assert_string_equal(patron_customer_get(back, PATRON_F_FIRST_NAME), "Anna");
    assert_string_equal(patron_customer_get(back, PATRON_F_LAST_NAME), "Schulze");
    assert_int_equal(patron_customer_revision(back), 2);
    patron_customer_free(ca);
    patron_customer_free(cb);
    patron_customer_free(back);
    patron_db_close(a);
    patron_db_close(b);
}

typedef struct waiter {
    patron_db *db;
    volatile int done;
    patron_status st;
} waiter;

static void *create_in_thread(void *arg)
{
    waiter *w = arg;
    patron_customer *c = person("Wart", "Weile", NULL);
    w->st = patron_db_create(w->db, c);
    patron_customer_free(c);
    w->done = 1;
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Writers are serialised by the store's advisory lock; readers are not. */
static void test_writers_serialise_readers_do_not_wait(void **state)
{
    fixture *f = *state;
    patron_pg *sa = NULL;
    patron_db *a = open_db(f, 0, &sa), *b = open_db(f, 0, NULL), *r = open_db(f, 0, NULL);
    patron_customer *loaded = NULL;
    pthread_t t;
    waiter w = { b, 0, PATRON_E_STATE };
    int64_t id = create(a, "Anna", "Alt", NULL, NULL, 0);

    assert_int_equal(patron_pg_begin(sa), PATRON_OK); /* holds the lock */
    assert_int_equal(sql_int(f->admin,
                             "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                             "AND ((classid::bigint << 32) | objid::bigint) = %lld",
                             (long long)patron_pg_lock_key(sa)),
                     1);
    assert_int_equal(pthread_create(&t, NULL, create_in_thread, &w), 0);
    sleep_ms(500);
    assert_false(w.done); /* b waits for a's transaction */
    /* a reader does not wait */
    assert_int_equal(patron_db_load(r, &loaded, id), PATRON_OK);
    patron_customer_free(loaded);
    assert_false(w.done);
    create(a, "Bernd", "Bau", NULL, NULL, 0);
    assert_int_equal(patron_pg_commit(sa), PATRON_OK);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(w.done);
    assert_int_equal(w.st, PATRON_OK);
    assert_int_equal(sql_int(f->admin, "SELECT count(*) FROM \"%s\".patron_customers", f->schema), 3);
    patron_db_close(a);
    patron_db_close(b);
    patron_db_close(r);
}

static int collect_ids(void *ctx, int64_t id)
{
    int64_t *v = ctx;
    v[++v[0]] = id;
    return 0;
}

static void assert_form(patron_store_ops *ops, void *ctx, int64_t id, const char *want)
{
    const void *form = NULL;
    size_t len = 0;
    int st = ops->match_form_get(ctx, id, &form, &len);
    if (!want) {
        assert_int_equal(st, PATRON_E_NOT_FOUND);
        return;
    }
    assert_int_equal(st, 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(form, want, len);
}

/* The match forms of the ids a lookup gave come in one statement at the
 * first match_form_get() of one of them; the answers are those of one
 * fetch per id (a form, or none), the bytes stay valid until the
 * transaction ends, and a write in the transaction is never answered from
 * forms fetched before it. */
static void test_match_forms_fetched_ahead(void **state)
{
    fixture *f = *state;
    patron_store_ops ops;
    void *ctx = NULL;
    char *msg = NULL;
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    patron_pg *s;
    int64_t id[4], ids[8] = { 0 };
    patron_key key = { 110, "shared-block" };
    const void *early = NULL;
    size_t early_len = 0;

    o.schema = f->schema;
    if (patron_pg_store_open(&ops, &ctx, &msg, conninfo(), &o) != PATRON_OK)
        fail_msg("open: %s", msg);
    s = ctx;
    assert_int_equal(ops.begin(ctx), 0);
    for (int i = 0; i < 4; i++) {
        patron_customer *c = person("Form", i % 2 ? "Eins" : "Zwei", NULL);
        assert_int_equal(ops.insert(ctx, c, &key, 1, &id[i]), 0);
        patron_customer_free(c);
    }
    assert_int_equal(ops.match_form_put(ctx, id[0], "form-0", 6), 0);
    assert_int_equal(ops.match_form_put(ctx, id[1], "form-1\0x", 8), 0); /* bytes, not a string */
    assert_int_equal(ops.match_form_put(ctx, id[3], "form-3", 6), 0);    /* id[2]: no form */
    assert_int_equal(ops.commit(ctx), 0);

    /* a reader: one statement for the block */
    assert_int_equal(ops.begin_read(ctx), 0);
    assert_int_equal(ops.lookup(ctx, key.kind, key.value, collect_ids, ids), 0);
    assert_int_equal(ids[0], 4);
    assert_false(s->prepared[ST_FORMS_GET]);
    assert_int_equal(ops.match_form_get(ctx, id[1], &early, &early_len), 0);
    assert_true(s->prepared[ST_FORMS_GET]);
    assert_int_equal(s->n_forms, 4);
    assert_form(&ops, ctx, id[0], "form-0");
    assert_form(&ops, ctx, id[2], NULL);
    assert_form(&ops, ctx, id[3], "form-3");
    assert_form(&ops, ctx, id[3] + 1000, NULL); /* not in the block: fetched alone */
    assert_int_equal(early_len, 8);
    assert_memory_equal(early, "form-1\0x", 8);
    assert_int_equal(ops.commit(ctx), 0);
    assert_int_equal(s->n_forms, 0);

    /* a writer: forms fetched ahead, then one of them replaced */
    assert_int_equal(ops.begin(ctx), 0);
    ids[0] = 0;
    assert_int_equal(ops.lookup(ctx, key.kind, key.value, collect_ids, ids), 0);
    assert_form(&ops, ctx, id[0], "form-0");
    assert_int_equal(ops.match_form_put(ctx, id[0], "form-0b", 7), 0);
    assert_int_equal(ops.match_form_put(ctx, id[2], "form-2", 6), 0);
    assert_form(&ops, ctx, id[0], "form-0b");
    assert_form(&ops, ctx, id[2], "form-2");
    assert_int_equal(ops.rollback(ctx), 0);

    /* rolled back: the old forms */
    assert_int_equal(ops.begin_read(ctx), 0);
    ids[0] = 0;
    assert_int_equal(ops.lookup(ctx, key.kind, key.value, collect_ids, ids), 0);
    assert_form(&ops, ctx, id[0], "form-0");
    assert_form(&ops, ctx, id[2], NULL);
    assert_int_equal(ops.commit(ctx), 0);
    ops.destroy(ctx);
}

typedef struct opener {
    fixture *f;
    const char *schema;
    volatile int done;
    patron_status st;
} opener;

static void *open_in_thread(void *arg)
{
    opener *o = arg;
    patron_pg_options opts = PATRON_PG_OPTIONS_INIT;
    patron_db *db = NULL;
    char *msg = NULL;
    opts.schema = o->schema;
    o->st = patron_db_open_postgres(&db, NULL, &msg, conninfo(), &opts);
    patron_free(msg);
    if (o->st == PATRON_OK)
        patron_db_close(db);
    o->done = 1;
    return NULL;
}

/* An application server opens the store while a writer (an import's host
 * transaction) holds the lock: tables of the newest version need no
 * migration, so opening does not wait for it.  Opening a new schema (its
 * tables created) still takes the lock of that store. */
static void test_open_does_not_wait_for_writers(void **state)
{
    fixture *f = *state;
    patron_pg *sa = NULL;
    patron_db *a = open_db(f, 0, &sa);
    opener o = { f, f->schema, 0, PATRON_E_STATE };
    pthread_t t;
    char other[80];

    create(a, "Anna", "Alt", NULL, NULL, 0);
    assert_int_equal(patron_pg_begin(sa), PATRON_OK); /* holds the lock */
    create(a, "Bernd", "Bau", NULL, NULL, 0);
    assert_int_equal(pthread_create(&t, NULL, open_in_thread, &o), 0);
    for (int i = 0; i < 100 && !o.done; i++)
        sleep_ms(50);
    assert_true(o.done); /* opened while a's transaction is open */
    assert_int_equal(o.st, PATRON_OK);
    assert_int_equal(patron_pg_commit(sa), PATRON_OK);
    assert_int_equal(pthread_join(t, NULL), 0);

    /* a schema without tables: created under the lock of its own store */
    snprintf(other, sizeof other, "%s_new", f->schema);
    o.schema = other;
    o.done = 0;
    assert_int_equal(pthread_create(&t, NULL, open_in_thread, &o), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(o.st, PATRON_OK);
    assert_int_equal(sql_int(f->admin, "SELECT value FROM \"%s\".patron_schema WHERE name = 'version'", other),
                     PATRON_PG_SCHEMA_VERSION);
    sql_ok(f->admin, "DROP SCHEMA \"%s\" CASCADE", other);
    patron_db_close(a);
}

typedef struct claimer {
    patron_db *db;
    volatile int done;
    patron_status st;
} claimer;

static void *create_m5(void *arg)
{
    claimer *w = arg;
    patron_customer *c = person("Zweiter", "Versuch", NULL);
    assert_int_equal(patron_customer_set(c, PATRON_F_NUMBER, "M-5"), PATRON_OK);
    w->st = patron_db_create(w->db, c);
    patron_customer_free(c);
    w->done = 1;
    return NULL;
}

/* A writer sees every write committed before it got the lock, even when
 * its session's default isolation is REPEATABLE READ: the number another
 * process took while this one waited is refused as taken (EXISTS), not a
 * serialisation failure. */
static void test_writer_sees_what_committed_while_it_waited(void **state)
{
    fixture *f = *state;
    patron_pg *sa = NULL, *sb = NULL;
    patron_db *a = open_db(f, 0, &sa), *b = open_db(f, 0, &sb);
    claimer w = { b, 0, PATRON_E_STATE };
    pthread_t t;

    sql_ok(patron_pg_handle(sb), "SET default_transaction_isolation = 'repeatable read'");
    assert_int_equal(patron_pg_begin(sa), PATRON_OK);
    assert_int_equal(pthread_create(&t, NULL, create_m5, &w), 0);
    sleep_ms(400);
    assert_false(w.done);
    create(a, "Erster", "Versuch", "M-5", NULL, 0);
    assert_int_equal(patron_pg_commit(sa), PATRON_OK);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.st, PATRON_E_EXISTS);
    assert_int_equal(sql_int(f->admin, "SELECT count(*) FROM \"%s\".patron_customers", f->schema), 1);
    patron_db_close(a);
    patron_db_close(b);
}

/* ---- a deadlock at begin() is retried ------------------------------------------ */

typedef struct host_call {
    patron_db *db;
    patron_status st;
    char msg[512];
} host_call;

static void *create_in_host_tx(void *arg)
{
    host_call *h = arg;
    patron_customer *c = person("Rita", "Retry", NULL);
    h->st = patron_db_create(h->db, c);
    snprintf(h->msg, sizeof h->msg, "%s", patron_db_errmsg(h->db));
    patron_customer_free(c);
    return NULL;
}

/* A host whose own transaction holds a lock that another session wants,
 * while that session holds the store's advisory lock: a real deadlock at
 * begin().  The host's call waits first and its deadlock_timeout (2 s) is
 * shorter than the other session's (6 s), so PostgreSQL picks the host's
 * lock request as the victim — again on each retry — until the other
 * session's own check aborts it.  With a retry budget the call then
 * succeeds; with none it fails at once, naming the SQLSTATE and budget. */
static void run_deadlock(fixture *f, int budget, patron_status want)
{
    PGconn *host = PQconnectdb(conninfo()), *other = PQconnectdb(conninfo());
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    host_call h = { NULL, PATRON_E_STATE, "" };
    patron_pg *s = NULL;
    char *msg = NULL;
    pthread_t t;
    PGresult *r;
    long long key, other_key = 424242;
    char other_state[8] = "";

    assert_int_equal(PQstatus(host), CONNECTION_OK);
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    PQsetNoticeProcessor(host, pgt_quiet, NULL);
    o.schema = f->schema;
    o.retry_budget = budget;
    if (patron_db_open_postgres_conn(&h.db, &s, &msg, host, &o) != PATRON_OK)
        fail_msg("open: %s", msg);
    key = (long long)patron_pg_lock_key(s);
    sql_ok(host, "SET deadlock_timeout = '2s'");
    sql_ok(other, "SET deadlock_timeout = '6s'");
    sql_ok(host, "BEGIN");
    sql_ok(host, "SELECT pg_advisory_xact_lock(%lld)", other_key);
    sql_ok(other, "BEGIN");
    sql_ok(other, "SELECT pg_advisory_xact_lock(%lld)", key);
    assert_int_equal(pthread_create(&t, NULL, create_in_host_tx, &h), 0);
    sleep_ms(400); /* the host's call waits for the store's lock */
    {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%lld)", other_key);
        assert_int_equal(PQsendQuery(other, sql), 1);
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    printf("budget %d: %s %s\n", budget, patron_status_message(h.st), h.msg);
    assert_int_equal(h.st, want);
    if (want != PATRON_OK) {
        assert_non_null(strstr(h.msg, "40P01"));
        assert_non_null(strstr(h.msg, "retry budget (0)"));
        assert_int_equal(PQtransactionStatus(host), PQTRANS_INTRANS); /* the host's goes on */
        sql_ok(host, "ROLLBACK"); /* lets the other session on */
    }
    while ((r = PQgetResult(other)) != NULL) {
        if (PQresultStatus(r) == PGRES_FATAL_ERROR)
            snprintf(other_state, sizeof other_state, "%s", PQresultErrorField(r, PG_DIAG_SQLSTATE));
        PQclear(r);
    }
    if (want == PATRON_OK) {
        assert_string_equal(other_state, "40P01"); /* the other session was the victim */
        sql_ok(host, "COMMIT");
        assert_int_equal(sql_int(f->admin, "SELECT count(*) FROM \"%s\".patron_customers", f->schema), 1);
    } else {
        assert_string_equal(other_state, "");
        assert_int_equal(sql_int(f->admin, "SELECT count(*) FROM \"%s\".patron_customers", f->schema), 0);
    }
    PQclear(PQexec(other, "ROLLBACK"));
    patron_db_close(h.db);
    PQfinish(host);
    PQfinish(other);
}

static void test_deadlock_at_begin_is_retried(void **state)
{
    run_deadlock(*state, 0, PATRON_OK);
}

static void test_deadlock_without_budget_fails_clearly(void **state)
{
    run_deadlock(*state, -1, PATRON_E_STORE);
}

/* ---- schema versions, flags, options ----------------------------------------- */

static void test_schema_versions_and_flags(void **state)
{
    fixture *f = *state;
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    patron_db *db = NULL;
    patron_customer *c;
    char *msg = NULL;

    o.schema = f->schema;
    o.flags = PATRON_PG_NOCREATE;
    assert_int_equal(patron_db_open_postgres(&db, NULL, &msg, conninfo(), &o), PATRON_E_NOT_FOUND);
    assert_non_null(msg);
    patron_free(msg);
    o.flags = PATRON_PG_READONLY;
    assert_int_equal(patron_db_open_postgres(&db, NULL, &msg, conninfo(), &o), PATRON_E_NOT_FOUND);
    patron_free(msg);
    assert_int_equal(sql_int(f->admin, "SELECT count(*) FROM pg_namespace WHERE nspname = '%s'", f->schema), 0);

    db = open_db(f, 0, NULL);
    create(db, "Anna", "Alt", NULL, NULL, 0);
    patron_db_close(db);
    assert_int_equal(sql_int(f->admin, "SELECT value FROM \"%s\".patron_schema WHERE name = 'version'",
                             f->schema),
                     PATRON_PG_SCHEMA_VERSION);

    /* read-only: reads work, writes are refused and change nothing */
    db = open_db(f, PATRON_PG_READONLY, NULL);
    {
        int64_t ids[4];
        size_t n = 0;
        assert_int_equal(patron_db_list(db, ids, &n, 4, NULL, 0), PATRON_OK);
        assert_int_equal(n, 1);
    }
    c = person("Bernd", "Bau", NULL);
    assert_int_not_equal(patron_db_create(db, c), PATRON_OK);
    patron_customer_free(c);
    patron_db_close(db);
    assert_int_equal(sql_int(f->admin, "SELECT count(*) FROM \"%s\".patron_customers", f->schema), 1);

    /* tables of a newer library are refused */
    sql_ok(f->admin, "UPDATE \"%s\".patron_schema SET value = 99 WHERE name = 'version'", f->schema);
    o.flags = 0;
    assert_int_equal(patron_db_open_postgres(&db, NULL, &msg, conninfo(), &o), PATRON_E_ABI);
    assert_non_null(strstr(msg, "99"));
    patron_free(msg);
    assert_null(db);
}

static void test_bad_options_and_connection(void **state)
{
    fixture *f = *state;
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    patron_pg_ref_table bad_ref = { "order", "orders; DROP TABLE x", "customer_id", "id", 0 };
    patron_db *db = NULL;
    char *msg = NULL;

    o.schema = "a-b";
    assert_int_equal(patron_db_open_postgres(&db, NULL, &msg, conninfo(), &o), PATRON_E_INVALID);
    assert_non_null(strstr(msg, "schema"));
    patron_free(msg);
    o.schema = "pg_reserved"; /* PostgreSQL's own */
    assert_int_equal(patron_db_open_postgres(&db, NULL, &msg, conninfo(), &o), PATRON_E_INVALID);
    assert_non_null(strstr(msg, "pg_"));
    patron_free(msg);
    o.schema = f->schema;
    o.table_prefix = "much_too_long_a_prefix_for_patron_tables";
    assert_int_equal(patron_db_open_postgres(&db, NULL, &msg, conninfo(), &o), PATRON_E_INVALID);
    patron_free(msg);
    o.table_prefix = NULL;
    o.retry_budget = 5000;
    assert_int_equal(patron_db_open_postgres(&db, NULL, &msg, conninfo(), &o), PATRON_E_INVALID);
    patron_free(msg);
    o.retry_budget = 0;
    o.ref_tables = &bad_ref;
    o.n_ref_tables = 1;
    assert_int_equal(patron_db_open_postgres(&db, NULL, &msg, conninfo(), &o), PATRON_E_INVALID);
    assert_non_null(strstr(msg, "ref_tables[0]"));
    patron_free(msg);
    o.n_ref_tables = 0;
    o.version = 99;
    assert_int_equal(patron_db_open_postgres(&db, NULL, &msg, conninfo(), &o), PATRON_E_ABI);
    patron_free(msg);
    o.version = PATRON_PG_OPTIONS_VERSION;
    o.flags = 1u << 20;
    assert_int_equal(patron_db_open_postgres(&db, NULL, &msg, conninfo(), &o), PATRON_E_INVALID);
    patron_free(msg);
    o.flags = 0;
    assert_int_equal(patron_db_open_postgres(&db, NULL, &msg, NULL, &o), PATRON_E_INVALID);
    patron_free(msg);
    assert_int_equal(patron_db_open_postgres_conn(&db, NULL, &msg, NULL, &o), PATRON_E_INVALID);
    patron_free(msg);

    /* no server there: a clear message without the password */
    assert_int_equal(patron_db_open_postgres(&db, NULL, &msg,
                                             "host=127.0.0.1 port=1 user=x password=SECRETPW "
                                             "connect_timeout=5",
                                             &o),
                     PATRON_E_STORE);
    assert_non_null(strstr(msg, "cannot connect"));
    assert_null(strstr(msg, "SECRETPW"));
    patron_free(msg);
    assert_null(db);
    /* nothing was created by the refused opens */
    assert_int_equal(sql_int(f->admin, "SELECT count(*) FROM pg_namespace WHERE nspname = '%s'", f->schema), 0);
}

/* The server ends the store's session: the call running then fails
 * cleanly, the next one reconnects. */
static void test_lost_connection_is_reset(void **state)
{
    fixture *f = *state;
    patron_pg *s = NULL;
    patron_db *db = open_db(f, 0, &s);
    patron_customer *c;
    patron_status st;
    char num[32];
    int64_t ids[8];
    size_t n = 0;

    create(db, "Anna", "Alt", NULL, NULL, 0);
    sql_ok(f->admin, "SELECT pg_terminate_backend(%d)", PQbackendPID(patron_pg_handle(s)));
    sleep_ms(200);
    c = person("Bernd", "Bau", NULL);
    st = patron_db_create(db, c);
    patron_customer_free(c);
    if (st != PATRON_OK)
        assert_int_equal(st, PATRON_E_STORE);
    create(db, "Clara", "Chor", NULL, num, sizeof num);
    assert_int_equal(patron_db_list(db, ids, &n, 8, NULL, 0), PATRON_OK);
    assert_int_equal(n, st == PATRON_OK ? 3 : 2);
    assert_string_equal(num, st == PATRON_OK ? "K000003" : "K000002");
    patron_db_close(db);
}

/* The host's connection is lost: calls fail until the host reconnects it;
 * then the store prepares its statements in the new session. */
static void test_host_conn_lost_and_reset(void **state)
{
    fixture *f = *state;
    PGconn *conn = PQconnectdb(conninfo());
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    patron_db *db = NULL;
    patron_customer *c;
    char *msg = NULL, num[32];

    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    o.schema = f->schema;
    if (patron_db_open_postgres_conn(&db, NULL, &msg, conn, &o) != PATRON_OK)
        fail_msg("open: %s", msg);
    create(db, "Anna", "Alt", NULL, NULL, 0);
    sql_ok(f->admin, "SELECT pg_terminate_backend(%d)", PQbackendPID(conn));
    sleep_ms(200);
    for (int i = 0; i < 2; i++) {
        c = person("Bernd", "Bau", NULL);
        assert_int_equal(patron_db_create(db, c), PATRON_E_STORE);
        patron_customer_free(c);
    }
    PQreset(conn);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    create(db, "Clara", "Chor", NULL, num, sizeof num);
    assert_string_equal(num, "K000002");
    patron_db_close(db);
    PQfinish(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_explain_lookup_and_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_counts_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_transaction_on_host_conn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_across_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revisions_across_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writers_serialise_readers_do_not_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_does_not_wait_for_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_forms_fetched_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_sees_what_committed_while_it_waited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadlock_at_begin_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadlock_without_budget_fails_clearly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_versions_and_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options_and_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_connection_is_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_conn_lost_and_reset, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
