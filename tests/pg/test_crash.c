/*
 * kill -9 in the middle of a large merge and of an import (issue 15).
 *
 *   test_crash [--dups N] [--rows N]        (defaults 300, 4000)
 *
 * PATRON_TEST_PG names the server (tests/pg/cluster.sh run).  Each round
 * works in a fresh schema.
 *
 * Merge: a survivor and N duplicates (one person, N spellings), each with
 * two rows in the host's orders table (a ref table of the store).  A child
 * process applies the merge of all of them; once its connection holds the
 * store's write lock (pg_locks), the parent waits a fraction of the time an
 * undisturbed merge took and kills the child with SIGKILL.  Afterwards the
 * merge must be complete (one journal entry, every duplicate merged into
 * the survivor, every order on the survivor) or absent (no entry, nobody
 * merged, every order where it was), the tables consistent (key counts =
 * keys, every number in used_numbers), and the store must work on: the
 * complete merge is undone, the absent one is applied again.
 *
 * Import: a child creates R customers in host transactions of 500
 * (patron_pg_begin/commit, one patron_db_create() per row); killed
 * half-way, every batch is all there or not at all, the numbers are
 * K000001.. without a gap, the tables consistent, and importing goes on
 * from there.  The same with patron_db_create_many() (calls of 500, as
 * `patron import` now does), whose rows the store gathers and writes with
 * COPY at the commit: killed half-way, and killed while its connection is
 * in the middle of such a COPY (pg_stat_activity), with the same checks.
 *
 * Exit 0 when every round holds, 1 otherwise, 77 without PATRON_TEST_PG.
 */
#include <patron/patron.h>
#include <patron/postgres.h>

#include <libpq-fe.h>

#include "pgtest.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *conninfo;
static PGconn *admin;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec t;
    if (s <= 0)
        return;
    t.tv_sec = (time_t)s;
    t.tv_nsec = (long)((s - (double)t.tv_sec) * 1e9);
    nanosleep(&t, NULL);
}

/* One value of a query on the admin connection ("" on no row; NULL on error). */
static char *q1(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static char *q1(const char *fmt, ...)
{
    static char buf[256];
    char sql[2048];
    va_list ap;
    PGresult *r;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    r = PQexec(admin, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        pgt_fail("%s: %s", sql, PQerrorMessage(admin));
        PQclear(r);
        return NULL;
    }
    snprintf(buf, sizeof buf, "%s", PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return buf;
}

/* A count: `tmpl` with every '@' replaced by the schema. */
static long qn(const char *tmpl, const char *schema)
{
    char sql[2048], *o = sql, *v;
    for (const char *t = tmpl; *t && o < sql + sizeof sql - 80; t++) {
        if (*t == '@')
            o += snprintf(o, 70, "%s", schema);
        else
            *o++ = *t;
    }
    *o = '\0';
    v = q1("%s", sql);
    return v ? strtol(v, NULL, 10) : -1;
}

static patron_db *open_db(const char *schema, patron_pg **pg)
{
    static const patron_pg_ref_table orders = { "order", "orders", "customer_id", "order_id", 0 };
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    patron_db *db = NULL;
    char *msg = NULL, tbl[128];
    patron_status st;
    patron_pg_ref_table ref = orders;

    snprintf(tbl, sizeof tbl, "%s.orders", schema);
    ref.table = tbl;
    o.schema = schema;
    o.ref_tables = &ref;
    o.n_ref_tables = 1;
    st = patron_db_open_postgres(&db, pg, &msg, conninfo, &o);
    if (st != PATRON_OK) {
        pgt_fail("open %s: %s: %s", schema, patron_status_name(st), msg ? msg : "");
        patron_free(msg);
        return NULL;
    }
    return db;
}

static int new_schema(char *schema, size_t cap, const char *what, int round)
{
    snprintf(schema, cap, "crash_%.20s_%ld_%d", what, (long)getpid(), round);
    return q1("CREATE SCHEMA %s; CREATE TABLE %s.orders (order_id text PRIMARY KEY, customer_id bigint NOT NULL)",
              schema, schema) != NULL;
}

/* The tables agree with each other: key counts, used numbers, merged rows. */
static void check_tables(const char *schema, const char *round)
{
    long bad;
    bad = qn("SELECT count(*) FROM @.patron_key_counts c LEFT JOIN (SELECT kind, value, count(*) n"
             " FROM @.patron_customer_keys GROUP BY 1, 2) k USING (kind, value) WHERE c.n <> coalesce(k.n, 0)",
             schema);
    if (bad != 0)
        pgt_fail("%s: %ld key counts differ from the keys", round, bad);
    bad = qn("SELECT count(*) FROM @.patron_customer_keys k WHERE k.kind IN (SELECT kind FROM @.patron_key_counts)"
             " AND NOT EXISTS (SELECT 1 FROM @.patron_key_counts c WHERE c.kind = k.kind AND c.value = k.value)",
             schema);
    if (bad != 0)
        pgt_fail("%s: %ld keys without their count", round, bad);
    bad = qn("SELECT count(*) FROM @.patron_customers c WHERE number IS NOT NULL"
             " AND NOT EXISTS (SELECT 1 FROM @.patron_used_numbers u WHERE u.number = c.number)",
             schema);
    if (bad != 0)
        pgt_fail("%s: %ld customer numbers missing from used_numbers", round, bad);
    bad = qn("SELECT count(*) FROM @.patron_customers WHERE (state = 'merged') <> (merged_into IS NOT NULL)", schema);
    if (bad != 0)
        pgt_fail("%s: %ld customers merged without a survivor or the other way round", round, bad);
    bad = qn("SELECT count(*) FROM @.patron_customers GROUP BY number HAVING count(*) > 1 AND number IS NOT NULL",
             schema);
    if (bad > 0)
        pgt_fail("%s: a number held twice", round);
}

/* The child's backend: wait until its connection holds the store's advisory
 * lock (the call has begun writing), or gives up. */
static int wait_lock(int backend_pid, double timeout)
{
    double t0 = now();
    while (now() - t0 < timeout) {
        char *v = q1("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = %d", backend_pid);
        if (v && atoi(v) > 0)
            return 1;
        sleep_s(0.002);
    }
    return 0;
}

static void wait_backend_gone(int backend_pid)
{
    double t0 = now();
    while (now() - t0 < 30) {
        char *v = q1("SELECT count(*) FROM pg_stat_activity WHERE pid = %d", backend_pid);
        if (!v || atoi(v) == 0)
            return;
        sleep_s(0.01);
    }
    pgt_fail("the killed client's backend %d is still there after 30 s", backend_pid);
}

/* ---- the large merge ------------------------------------------------------- */

static const char *const spellings[] = { "Müller", "Mueller", "Muller", "Müler", "Mülller" };

static int merge_setup(const char *schema, int n_dups, int64_t *ids)
{
    patron_db *db = open_db(schema, NULL);
    if (!db)
        return -1;
    for (int i = 0; i <= n_dups; i++) {
        patron_customer *c;
        size_t a;
        char email[64];
        patron_customer_new(&c);
        patron_customer_set(c, PATRON_F_FIRST_NAME, i % 3 ? "Max" : "M.");
        patron_customer_set(c, PATRON_F_LAST_NAME, spellings[i % 5]);
        snprintf(email, sizeof email, "max%d@example.de", i);
        patron_customer_set(c, PATRON_F_EMAIL, email);
        patron_customer_address_add(c, &a);
        patron_customer_address_set(c, a, PATRON_A_STREET, i % 2 ? "Hauptstraße" : "Hauptstr.");
        patron_customer_address_set(c, a, PATRON_A_HOUSE_NUMBER, "12");
        patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, "10115");
        patron_customer_address_set(c, a, PATRON_A_CITY, "Berlin");
        if (patron_db_create(db, c) != PATRON_OK) {
            pgt_fail("create: %s", patron_db_errmsg(db));
            patron_customer_free(c);
            patron_db_close(db);
            return -1;
        }
        ids[i] = patron_customer_id(c);
        patron_customer_free(c);
    }
    patron_db_close(db);
    return q1("INSERT INTO %s.orders SELECT 'O-' || id || '-' || k, id FROM %s.patron_customers,"
              " generate_series(1, 2) k",
              schema, schema)
               ? 0
               : -1;
}

static int merge_child(const char *schema, const int64_t *ids, int n_dups, int fd)
{
    patron_pg *pg = NULL;
    patron_db *db = open_db(schema, &pg);
    patron_merge_plan *plan = NULL;
    int backend;
    int64_t jid = 0;
    patron_status st;

    if (!db)
        return 2;
    if (patron_merge_plan_new(db, &plan, ids[0], ids + 1, (size_t)n_dups, PATRON_MERGE_SURVIVOR) != PATRON_OK) {
        fprintf(stderr, "plan: %s\n", patron_db_errmsg(db));
        return 2;
    }
    backend = PQbackendPID((PGconn *)patron_pg_handle(pg));
    if (write(fd, &backend, sizeof backend) != (ssize_t)sizeof backend)
        return 2;
    st = patron_db_merge(db, &jid, plan);
    if (st != PATRON_OK) {
        fprintf(stderr, "merge: %s\n", patron_db_errmsg(db));
        return 3;
    }
    return 0;
}

/* 1 complete, 0 absent, -1 neither (a failure is reported). */
static int merge_outcome(const char *schema, const int64_t *ids, int n_dups, const char *round)
{
    long entries =
        qn("SELECT count(*) FROM @.patron_journal WHERE kind = 'merge' AND coalesce(undone_by, 0) = 0", schema);
    long merged = qn("SELECT count(*) FROM @.patron_customers WHERE state = 'merged'", schema);
    char *v = q1("SELECT count(*) FROM %s.orders WHERE customer_id = %" PRId64, schema, ids[0]);
    long on_survivor = v ? atol(v) : -1;
    long misplaced = qn("SELECT count(*) FROM @.orders WHERE order_id NOT LIKE 'O-' || customer_id || '-%'", schema);

    if (entries == 1 && merged == n_dups && on_survivor == 2L * (n_dups + 1) &&
        qn("SELECT count(*) FROM @.patron_customers WHERE state = 'merged' AND merged_into IS DISTINCT FROM "
           "(SELECT min(id) FROM @.patron_customers)",
           schema) == 0)
        return 1;
    if (entries == 0 && merged == 0 && on_survivor == 2 && misplaced == 0)
        return 0;
    pgt_fail("%s: the merge is half there: %ld journal entries, %ld of %d merged, %ld orders on the survivor, "
          "%ld orders moved",
          round, entries, merged, n_dups, on_survivor, misplaced);
    return -1;
}

static double merge_round(int round, int n_dups, double fraction, double t_merge, int *outcome)
{
    char schema[64], name[64];
    int64_t *ids = calloc((size_t)n_dups + 1, sizeof *ids);
    int fds[2], backend = 0, status = 0;
    pid_t pid;
    double t0, took = 0;

    *outcome = -1;
    snprintf(name, sizeof name, "merge round %d", round);
    if (!new_schema(schema, sizeof schema, "merge", round) || merge_setup(schema, n_dups, ids) != 0 || pipe(fds) != 0) {
        pgt_fail("%s: setup failed", name);
        free(ids);
        return 0;
    }
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        _exit(merge_child(schema, ids, n_dups, fds[1]));
    }
    close(fds[1]);
    if (read(fds[0], &backend, sizeof backend) != (ssize_t)sizeof backend) {
        pgt_fail("%s: the child did not start", name);
    } else if (!wait_lock(backend, 60)) {
        pgt_fail("%s: the child's merge never took the write lock", name);
    } else {
        t0 = now();
        if (fraction >= 0) {
            sleep_s(fraction * t_merge);
            kill(pid, SIGKILL);
        }
        waitpid(pid, &status, 0);
        took = now() - t0;
        close(fds[0]);
        wait_backend_gone(backend);
        if (fraction < 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            pgt_fail("%s: the undisturbed merge failed (status %d)", name, status);
        *outcome = merge_outcome(schema, ids, n_dups, name);
        check_tables(schema, name);
        /* the store works on: undo the complete merge, apply the absent one */
        if (*outcome >= 0) {
            patron_db *db = open_db(schema, NULL);
            if (db && *outcome == 1) {
                char *j = q1("SELECT id FROM %s.patron_journal WHERE kind = 'merge'", schema);
                if (!j || patron_db_undo(db, NULL, strtoll(j, NULL, 10), 0) != PATRON_OK)
                    pgt_fail("%s: undo after the crash: %s", name, db ? patron_db_errmsg(db) : "");
                else if (merge_outcome(schema, ids, n_dups, name) != 0)
                    pgt_fail("%s: the undo did not restore everything", name);
            } else if (db) {
                patron_merge_plan *plan = NULL;
                if (patron_merge_plan_new(db, &plan, ids[0], ids + 1, (size_t)n_dups, PATRON_MERGE_SURVIVOR) !=
                        PATRON_OK ||
                    patron_db_merge(db, NULL, plan) != PATRON_OK)
                    pgt_fail("%s: merging again after the crash: %s", name, patron_db_errmsg(db));
                else if (merge_outcome(schema, ids, n_dups, name) != 1)
                    pgt_fail("%s: the second merge is not complete", name);
                patron_merge_plan_free(plan);
            }
            if (db)
                check_tables(schema, name);
            patron_db_close(db);
        }
    }
    if (!pgt_failures)
        q1("DROP SCHEMA %s CASCADE", schema);
    free(ids);
    return took;
}

/* ---- the import -------------------------------------------------------------- */

#define BATCH 500

static void refused(void *payload, size_t index, patron_status status, const char *message)
{
    (void)payload;
    fprintf(stderr, "row %zu refused (%s): %s\n", index, patron_status_name(status), message);
}

static patron_customer *import_row(int k)
{
    patron_customer *c;
    char buf[64];
    patron_customer_new(&c);
    snprintf(buf, sizeof buf, "Kunde%d", k);
    patron_customer_set(c, PATRON_F_LAST_NAME, buf);
    patron_customer_set(c, PATRON_F_FIRST_NAME, "Import");
    snprintf(buf, sizeof buf, "kunde%d@example.de", k);
    patron_customer_set(c, PATRON_F_EMAIL, buf);
    return c;
}

/* patron_db_create_many() in calls of BATCH (each its own transaction). */
static int import_many(patron_db *db, int first, int rows)
{
    patron_customer *cs[BATCH];
    for (int i = first; i < first + rows; i += BATCH) {
        size_t n = 0, created = 0;
        for (int k = i; k < i + BATCH && k < first + rows; k++)
            cs[n++] = import_row(k);
        if (patron_db_create_many(db, &created, cs, n, refused, NULL) != PATRON_OK || created != n) {
            fprintf(stderr, "create_many: %s\n", patron_db_errmsg(db));
            return 3;
        }
        for (size_t k = 0; k < n; k++)
            patron_customer_free(cs[k]);
    }
    patron_db_close(db);
    return 0;
}

static int import_child(const char *schema, int first, int rows, int fd, int many)
{
    patron_pg *pg = NULL;
    patron_db *db = open_db(schema, &pg);
    int backend;

    if (!db)
        return 2;
    backend = PQbackendPID((PGconn *)patron_pg_handle(pg));
    if (fd >= 0 && write(fd, &backend, sizeof backend) != (ssize_t)sizeof backend)
        return 2;
    if (many)
        return import_many(db, first, rows);
    for (int i = first; i < first + rows; i += BATCH) {
        if (patron_pg_begin(pg) != PATRON_OK)
            return 3;
        for (int k = i; k < i + BATCH && k < first + rows; k++) {
            patron_customer *c = import_row(k);
            if (patron_db_create(db, c) != PATRON_OK) {
                fprintf(stderr, "create: %s\n", patron_db_errmsg(db));
                return 3;
            }
            patron_customer_free(c);
        }
        if (patron_pg_commit(pg) != PATRON_OK)
            return 3;
    }
    patron_db_close(db);
    return 0;
}

static void import_check(const char *schema, long expect_min, const char *name, long *count)
{
    long n = qn("SELECT count(*) FROM @.patron_customers", schema);
    long maxnum = qn("SELECT coalesce(max(substr(number, 2)::bigint), 0) FROM @.patron_customers", schema);
    long names = qn("SELECT count(DISTINCT last_name) FROM @.patron_customers", schema);
    *count = n;
    if (n % BATCH != 0)
        pgt_fail("%s: %ld customers, not whole batches of %d", name, n, BATCH);
    if (maxnum != n)
        pgt_fail("%s: %ld customers but the highest number is %ld (a gap or a reuse)", name, n, maxnum);
    if (names != n)
        pgt_fail("%s: %ld customers, %ld distinct rows", name, n, names);
    if (n < expect_min)
        pgt_fail("%s: only %ld customers", name, n);
    check_tables(schema, name);
}

/* Wait until `backend_pid` runs a COPY (the bulk write at a commit of
 * patron_db_create_many). */
static int wait_copy(int backend_pid, double timeout)
{
    double t0 = now();
    while (now() - t0 < timeout) {
        char *v = q1("SELECT count(*) FROM pg_stat_activity WHERE pid = %d AND state = 'active'"
                     " AND query LIKE 'COPY %%'", backend_pid);
        if (v && atoi(v) > 0)
            return 1;
    }
    return 0;
}

/* many: 0 one create per row; 1 create_many, killed half-way; 2 create_many,
 * killed during a COPY. */
static void import_round(int rows, int many)
{
    static const char *const names[] = { "import", "import_many", "import_copy" };
    char schema[64], what[40];
    int fds[2], backend = 0, status;
    pid_t pid;
    long n = 0, n2 = 0;
    double t0, t_full;

    /* calibrate: the whole import undisturbed, in a schema of its own */
    snprintf(what, sizeof what, "%s0", names[many]);
    if (!new_schema(schema, sizeof schema, what, 0))
        return;
    t0 = now();
    pid = fork();
    if (pid == 0)
        _exit(import_child(schema, 0, rows, -1, many));
    waitpid(pid, &status, 0);
    t_full = now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        pgt_fail("import undisturbed: status %d", status);
    import_check(schema, rows, "import undisturbed", &n);
    if (!pgt_failures)
        q1("DROP SCHEMA %s CASCADE", schema);

    if (!new_schema(schema, sizeof schema, names[many], 1) || pipe(fds) != 0)
        return;
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        _exit(import_child(schema, 0, rows, fds[1], many));
    }
    close(fds[1]);
    if (read(fds[0], &backend, sizeof backend) != (ssize_t)sizeof backend) {
        pgt_fail("import: the child did not start");
        return;
    }
    close(fds[0]);
    t0 = now();
    if (many == 2) {
        /* the second call's COPY: one batch committed before */
        if (!wait_copy(backend, 60))
            pgt_fail("%s: no COPY seen", names[many]);
        while (qn("SELECT count(*) FROM @.patron_customers", schema) < BATCH && now() - t0 < 60)
            sleep_s(0.001);
        if (!wait_copy(backend, 60))
            pgt_fail("%s: no second COPY seen", names[many]);
    } else {
        sleep_s(t_full * 0.5);
    }
    kill(pid, SIGKILL);
    t0 = now() - t0;
    waitpid(pid, &status, 0);
    wait_backend_gone(backend);
    snprintf(what, sizeof what, "%s killed", names[many]);
    import_check(schema, many == 2 ? BATCH : 0, what, &n);
    printf("%s: %d rows undisturbed in %.2f s; killed after %.2f s%s: %ld customers kept (whole batches)\n",
           names[many], rows, t_full, t0, many == 2 ? " during a COPY" : "", n);
    /* importing goes on: numbers continue without a gap */
    pid = fork();
    if (pid == 0)
        _exit(import_child(schema, (int)n, BATCH, -1, many));
    waitpid(pid, &status, 0);
    snprintf(what, sizeof what, "%s after the crash", names[many]);
    import_check(schema, n + BATCH, what, &n2);
    if (n2 != n + BATCH)
        pgt_fail("import after the crash: %ld customers, want %ld", n2, n + BATCH);
    if (!pgt_failures)
        q1("DROP SCHEMA %s CASCADE", schema);
}

int main(int argc, char **argv)
{
    int n_dups = 300, rows = 4000;
    static const double fractions[] = { 0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97, 1.2 };
    int complete = 0, absent = 0, outcome;
    double t_merge;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dups") && i + 1 < argc)
            n_dups = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--dups N] [--rows N]\n", argv[0]);
            return 2;
        }
    }
    if (!(conninfo = pgt_conninfo()))
        return pgt_skip();
    if (!(admin = pgt_connect(conninfo)))
        return 1;

    /* the undisturbed merge: how long the write lock is held */
    t_merge = merge_round(0, n_dups, -1, 0, &outcome);
    if (outcome != 1)
        pgt_fail("the undisturbed merge is not complete");
    printf("merge of %d duplicates (%d orders re-linked) undisturbed: %.2f s under the write lock\n", n_dups,
           2 * n_dups, t_merge);
    for (size_t k = 0; k < sizeof fractions / sizeof fractions[0]; k++) {
        merge_round((int)k + 1, n_dups, fractions[k], t_merge, &outcome);
        printf("merge killed at %.0f%% of %.2f s: %s\n", fractions[k] * 100, t_merge,
               outcome == 1 ? "complete" : outcome == 0 ? "absent" : "HALF");
        complete += outcome == 1;
        absent += outcome == 0;
    }
    printf("merge rounds: %d complete, %d absent, %d half\n", complete, absent,
           (int)(sizeof fractions / sizeof fractions[0]) - complete - absent);
    import_round(rows, 0);
    import_round(rows, 1);
    import_round(rows, 2);
    PQfinish(admin);
    if (pgt_failures) {
        fprintf(stderr, "%d checks failed (schemas kept)\n", pgt_failures);
        return 1;
    }
    printf("PASS\n");
    return 0;
}
