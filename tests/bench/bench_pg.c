/*
 * The PostgreSQL store under 1, 2, 4 and 8 client processes (issue 15).
 *
 *   tests/pg/cluster.sh run build/tests/bench/bench_pg CUSTOMERS.csv [options]
 *
 *   --customers N     the stored base: the first N rows of CUSTOMERS.csv
 *                     (default 1000000, or $PATRON_BENCH_CUSTOMERS; the generator's layout, e.g.
 *                     gen_customers.py --people 800000 --seed 3, 1.09 M rows)
 *   --schema S        the store's schema (default bench_<pid>, dropped at the
 *                     end).  If S already holds a store with at least N
 *                     customers (the first N rows of the same file, imported
 *                     by an earlier run with the same S and N, or by
 *                     `patron import`), it is reused as the base and kept:
 *                     nothing is imported (the import line is measured on
 *                     --import-rows rows in a scratch schema instead), and
 *                     customers beyond N are taken as the registrations of
 *                     earlier runs.
 *   --import-rows M   rows for the import vs COPY line when the base is
 *                     reused (default 0: no import line)
 *   --probes P        new customers matched per client count (default 2000)
 *   --seconds S       registration time per client count (default 10)
 *   --truth T.csv     the generator's truth (id,person): say how many probes
 *                     have a twin among the stored customers
 *
 * Rows after the first N of CUSTOMERS.csv are new customers (of the same
 * generator, so some are duplicates of stored ones, with typos, other
 * emails, ...): the first P are the match probes, the rest are registered.
 * (PATRON_PG_FSYNC=on for a cluster with durable commits; cluster.sh's
 * default runs with fsync off.)  Prints, with units:
 *
 *  1. import vs COPY: the base through the store with patron_db_create_many()
 *     in calls of 10 000, as `patron import` does (--per-row: patron_db_create
 *     per customer in host transactions of 1 000), against a plain COPY of
 *     the same rows: every table the import wrote (customers, addresses,
 *     extra fields, keys, key counts, match forms, used numbers) is copied
 *     out to files under /tmp (untimed) and COPY FROM loads those very rows
 *     into tables made LIKE them (same columns, indexes, constraints), with
 *     the counter row, in one transaction.  Wall and CPU time (client and its
 *     server process) of each, the ratio (target <= 2).  --import-only stops
 *     after it;
 *  2. the plans of candidate lookup, frequency count and match-form fetch
 *     on the stored base: each must be an index scan (exit status 1 if not);
 *  3. incremental match: patron_db_match() of the P probes, split over 1,
 *     2, 4 and 8 client processes (fork, one connection each): p50, p99 and
 *     max latency in ms, matches per second; first one pass of 8 clients
 *     (pages not in memory yet come from disk, as after an import or a
 *     restart), then the same probes again, warm;
 *  4. registrations, 1, 2, 4 and 8 client processes for S seconds each: a
 *     registration is the shop's patron_db_register() followed by the
 *     automatic activation, patron_db_activate(PATRON_ACTIVATE_AUTO) (runs
 *     the matcher: a new number, or a merge into the stored twin, or review).
 *     Registrations per second, the latency of each step, the outcomes, and
 *     every status that is not PATRON_OK (documented ones are counted:
 *     EXISTS = the email already registered and pending; LOCKED = the email
 *     of a locked customer; anything else is a failure, with its message).
 *
 * Writers are serialised by the store's advisory lock (patron/postgres.h):
 * registrations per second is the store's write throughput, not a sum of
 * independent clients.  Readers (match) take no lock.  Wall times on a
 * loaded machine are noisy: load average, wall and CPU time (the clients'
 * and their server backends') are printed beside every figure.
 */
#define _DEFAULT_SOURCE /* getloadavg, MAP_ANONYMOUS */
#include <patron/patron.h>
#include <patron/postgres.h>

#include "../../src/stores/postgres/pg_internal.h"
#include "csvload.h"

#include <libpq-fe.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *conninfo;
static char schema[64];
static int bad_plans;

static double cpu_children(void)
{
    struct rusage u;
    getrusage(RUSAGE_CHILDREN, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           (double)u.ru_stime.tv_usec / 1e6;
}

/* CPU seconds (user + system) of process `pid` (a server backend on this
 * machine), from /proc; -1 if unreadable. */
static double cpu_of_pid(int pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    size_t n;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* fields after the command name */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static const char *loadavg(void)
{
    static char out[64];
    double l[3];
    if (getloadavg(l, 3) == 3)
        snprintf(out, sizeof out, "%.1f %.1f %.1f", l[0], l[1], l[2]);
    else
        snprintf(out, sizeof out, "?");
    return out;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGresult *q(PGconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static PGresult *q(PGconn *c, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    PGresult *r;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "bench_pg: %s: %s", sql, PQerrorMessage(c));
        exit(1);
    }
    return r;
}

static patron_db *open_db(const char *in_schema, patron_pg **pg)
{
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    patron_db *db = NULL;
    char *msg = NULL;
    o.schema = in_schema;
    if (patron_db_open_postgres(&db, pg, &msg, conninfo, &o) != PATRON_OK) {
        fprintf(stderr, "bench_pg: open: %s\n", msg ? msg : "");
        exit(1);
    }
    return db;
}

/* ---- the CSV, in memory ------------------------------------------------------------ */

typedef struct row {
    char *v[PC_N]; /* "" when the column is missing */
} row;

static row *rows;
static long n_rows;

static void read_csv(const char *path)
{
    FILE *fp = fopen(path, "rb");
    csv_reader *r = NULL;
    csv_record rec;
    int col[PC_N];
    long cap = 0;
    if (!fp || csv_reader_open(&r, fp, ',') < 0 || csv_read(r, &rec) <= 0) {
        fprintf(stderr, "bench_pg: cannot read %s\n", path);
        exit(1);
    }
    perf_columns(col, &rec);
    for (;;) {
        int k = csv_read(r, &rec);
        if (k < 0) {
            fprintf(stderr, "bench_pg: %s: cannot read line %lu\n", path, csv_reader_line(r));
            exit(1);
        }
        if (k == 0)
            break;
        if (rec.error)
            continue;
        if (n_rows == cap) {
            cap = cap ? cap * 2 : 65536;
            rows = realloc(rows, (size_t)cap * sizeof *rows);
            if (!rows)
                exit(1);
        }
        for (int i = 0; i < PC_N; i++)
            rows[n_rows].v[i] = strdup(perf_value(&rec, col, i));
        n_rows++;
    }
    csv_reader_free(r);
    fclose(fp);
}

static patron_customer *customer_of(const row *r)
{
    return perf_customer((const char *const *)r->v);
}

/* ---- 1. import vs COPY -------------------------------------------------------------- */

/* (PGIMP's measurement: patron_db_create_many() in calls of 10 000, as
 * `patron import`; the COPY peer loads the very rows the import wrote.) */

static long refused_rows;
static char first_refusal[256];

static void refused_count(void *payload, size_t index, patron_status status, const char *message)
{
    (void)payload;
    if (!refused_rows++)
        snprintf(first_refusal, sizeof first_refusal, "row %zu: %s: %s", index, patron_status_name(status),
                 message);
}

#define CHUNK 10000

/* The first n rows of the file into the store in `in_schema`. */
static double import_store(const char *in_schema, long n, int per_row, double *cpu_out, double *server_out)
{
    patron_pg *pg = NULL;
    patron_db *db = open_db(in_schema, &pg);
    int pid = PQbackendPID(patron_pg_handle(pg));
    double t0 = perf_now(), c0 = perf_cpu(), s0 = cpu_of_pid(pid);
    patron_customer **cs = calloc(CHUNK, sizeof *cs);
    refused_rows = 0;
    first_refusal[0] = '\0';
    for (long i = 0; i < n; i += per_row ? 1000 : CHUNK) {
        long end = i + (per_row ? 1000 : CHUNK) < n ? i + (per_row ? 1000 : CHUNK) : n;
        if (per_row) {
            if (patron_pg_begin(pg) != PATRON_OK) {
                fprintf(stderr, "bench_pg: begin: %s\n", patron_pg_errmsg(pg));
                exit(1);
            }
            for (long k = i; k < end; k++) {
                patron_customer *c = customer_of(&rows[k]);
                patron_status st = c ? patron_db_create(db, c) : PATRON_E_INVALID;
                if (st != PATRON_OK)
                    refused_count(NULL, (size_t)k, st, c ? patron_db_errmsg(db) : "unreadable row");
                patron_customer_free(c);
            }
            if (patron_pg_commit(pg) != PATRON_OK) {
                fprintf(stderr, "bench_pg: commit: %s\n", patron_pg_errmsg(pg));
                exit(1);
            }
        } else {
            size_t created = 0, m = 0;
            for (long k = i; k < end; k++)
                if ((cs[m] = customer_of(&rows[k])) != NULL)
                    m++;
                else
                    refused_count(NULL, (size_t)k, PATRON_E_INVALID, "unreadable row");
            if (patron_db_create_many(db, &created, cs, m, refused_count, NULL) != PATRON_OK) {
                fprintf(stderr, "bench_pg: create_many: %s\n", patron_db_errmsg(db));
                exit(1);
            }
            for (size_t k = 0; k < m; k++)
                patron_customer_free(cs[k]);
        }
    }
    *cpu_out = perf_cpu() - c0;
    *server_out = cpu_of_pid(pid) - s0;
    free(cs);
    patron_db_close(db);
    return perf_now() - t0;
}

/* The tables the import writes, as patron names them (schema version 1). */
static const char *const import_tables[] = { "patron_customers", "patron_customer_addresses",
                                             "patron_customer_extra", "patron_customer_keys",
                                             "patron_key_counts", "patron_match_forms", "patron_used_numbers" };
#define N_IMPORT_TABLES (sizeof import_tables / sizeof import_tables[0])

static void copy_path(char *out, size_t cap, size_t t)
{
    snprintf(out, cap, "/tmp/pgbench-copy-%ld-%s.copy", (long)getpid(), import_tables[t]);
}

/* Untimed: every row the import wrote, to files, and empty tables LIKE
 * the store's to copy them into. */
static long long export_tables(PGconn *c, const char *in_schema)
{
    char path[200];
    long long bytes = 0;
    for (size_t t = 0; t < N_IMPORT_TABLES; t++) {
        FILE *f;
        PGresult *res;
        char *buf, sql[400];
        int len;
        copy_path(path, sizeof path, t);
        if (!(f = fopen(path, "w"))) {
            perror(path);
            exit(1);
        }
        snprintf(sql, sizeof sql, "COPY \"%s\".%s TO STDOUT", in_schema, import_tables[t]);
        res = PQexec(c, sql);
        if (PQresultStatus(res) != PGRES_COPY_OUT) {
            fprintf(stderr, "bench_pg: %s: %s", sql, PQerrorMessage(c));
            exit(1);
        }
        PQclear(res);
        while ((len = PQgetCopyData(c, &buf, 0)) > 0) {
            fwrite(buf, 1, (size_t)len, f);
            bytes += len;
            PQfreemem(buf);
        }
        PQclear(PQgetResult(c));
        fclose(f);
        PQclear(q(c, "CREATE TABLE \"%s\".copy_%s (LIKE \"%s\".%s INCLUDING ALL)", in_schema, import_tables[t],
                  in_schema, import_tables[t]));
    }
    PQclear(q(c,
              "CREATE TABLE \"%s\".copy_counters (LIKE \"%s\".patron_counters INCLUDING ALL);"
              " INSERT INTO \"%s\".copy_counters VALUES ('customer_number', 0)",
              in_schema, in_schema, in_schema));
    return bytes;
}

static double import_copy(const char *in_schema, long n, double *cpu_out, double *server_out, long long *bytes_out)
{
    PGconn *c = PQconnectdb(conninfo);
    char path[200], buf[1 << 16];
    double t0, c0, s0, t1;
    int pid;

    PQsetNoticeProcessor(c, quiet, NULL);
    *bytes_out = export_tables(c, in_schema);
    pid = PQbackendPID(c);
    t0 = perf_now();
    c0 = perf_cpu();
    s0 = cpu_of_pid(pid);
    PQclear(q(c, "BEGIN"));
    for (size_t t = 0; t < N_IMPORT_TABLES; t++) {
        FILE *f;
        size_t len;
        PGresult *res;
        char sql[400];
        copy_path(path, sizeof path, t);
        f = fopen(path, "r");
        snprintf(sql, sizeof sql, "COPY \"%s\".copy_%s FROM STDIN", in_schema, import_tables[t]);
        res = PQexec(c, sql);
        if (!f || PQresultStatus(res) != PGRES_COPY_IN) {
            fprintf(stderr, "bench_pg: %s: %s", sql, PQerrorMessage(c));
            exit(1);
        }
        PQclear(res);
        while ((len = fread(buf, 1, sizeof buf, f)) > 0)
            PQputCopyData(c, buf, (int)len);
        fclose(f);
        PQputCopyEnd(c, NULL);
        res = PQgetResult(c);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            fprintf(stderr, "bench_pg: %s: %s", sql, PQerrorMessage(c));
            exit(1);
        }
        PQclear(res);
    }
    PQclear(q(c, "UPDATE \"%s\".copy_counters SET value = %ld", in_schema, n));
    PQclear(q(c, "COMMIT"));
    *cpu_out = perf_cpu() - c0;
    *server_out = cpu_of_pid(pid) - s0;
    t1 = perf_now();
    for (size_t t = 0; t < N_IMPORT_TABLES; t++) {
        copy_path(path, sizeof path, t);
        unlink(path);
        PQclear(q(c, "DROP TABLE \"%s\".copy_%s", in_schema, import_tables[t]));
    }
    PQclear(q(c, "DROP TABLE \"%s\".copy_counters", in_schema));
    PQfinish(c);
    return t1 - t0;
}

static void import_line(const char *in_schema, long n, int per_row)
{
    double t_store, t_copy, c_store, c_copy, s_store, s_copy;
    long long bytes = 0;
    printf("\n== 1. import of %ld customers (the first %ld rows) through the store vs a plain COPY of the same rows"
           " ==\n",
           n, n);
    printf("   (load average before: %s)\n", loadavg());
    fflush(stdout);
    t_store = import_store(in_schema, n, per_row, &c_store, &s_store);
    printf("   import through the store (%s): %ld customers (%ld refused%s%s) in %.1f s wall = %.0f customers/s;"
           " CPU: client %.1f s, server %.1f s\n",
           per_row ? "patron_db_create per row, host transactions of 1 000"
                   : "patron_db_create_many, 10 000 per call, as `patron import`",
           n - refused_rows, refused_rows, refused_rows ? "; first: " : "", first_refusal, t_store,
           (double)n / t_store, c_store, s_store);
    fflush(stdout);
    t_copy = import_copy(in_schema, n, &c_copy, &s_copy, &bytes);
    printf("   plain COPY of the very rows the import wrote (customers, addresses, extra fields, keys, key counts,"
           " match forms, used numbers, counter; %.0f MB) into tables LIKE the store's (same indexes), one"
           " transaction: %.1f s wall; CPU: client %.1f s, server %.1f s\n",
           (double)bytes / 1e6, t_copy, c_copy, s_copy);
    printf("   import / COPY: %.2f x wall (target <= 2 x), %.2f x CPU (client + server)   (load average after: %s)\n",
           t_store / t_copy, (c_store + s_store) / (c_copy + s_copy), loadavg());
    fflush(stdout);
}

/* ---- 2. plans ---------------------------------------------------------------------- */

/* The kinds whose frequency the store keeps in key_counts (store.c). */
static int kind_counted_for_bench(int kind)
{
    return (kind >= 100 && kind <= 102) || (kind >= 120 && kind <= 123);
}

static int note_id(void *ctx, int64_t id)
{
    (void)id;
    (*(long *)ctx)++;
    return 0;
}

/* The first line of the plan of the store's prepared statement `st` for
 * the given parameters, as custom and generic plan; flags a sequential
 * scan.  `params` is a literal parameter list "(1, 'x')". */
static void check_plan(patron_pg *s, const char *what, enum ppg_stmt st, const char *params, const char *must)
{
    char shown[2][200];
    for (int generic = 0; generic < 2; generic++) {
        char sql[4096], plan[4096] = "";
        size_t len = 0;
        PGresult *r;
        const char *node;
        PQclear(q(s->conn, "SET plan_cache_mode = %s", generic ? "force_generic_plan" : "force_custom_plan"));
        snprintf(sql, sizeof sql, "EXPLAIN EXECUTE \"%s_%d\"%s", s->stmt_base, (int)st, params);
        r = PQexec(s->conn, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            fprintf(stderr, "bench_pg: %.200s: %s", sql, PQerrorMessage(s->conn));
            exit(1);
        }
        for (int i = 0; i < PQntuples(r) && len + 2 < sizeof plan; i++)
            len += (size_t)snprintf(plan + len, sizeof plan - len, "%s%s", i ? " | " : "", PQgetvalue(r, i, 0));
        PQclear(r);
        if (strstr(plan, "Seq Scan") || !strstr(plan, "Index") || !strstr(plan, must)) {
            printf("   %s (%s plan) is NOT AN INDEX SCAN: %s\n", what, generic ? "generic" : "custom", plan);
            bad_plans++;
        }
        /* the scan node: "Index Only Scan using x on y" up to its cost */
        node = strstr(plan, "Index");
        if (node && node > plan && node[-1] == ' ' && !strncmp(node - 7, "Bitmap ", 7))
            node -= 7;
        snprintf(shown[generic], sizeof shown[generic], "%.*s", node ? (int)strcspn(node, "(") : 0, node ? node : "");
    }
    printf("   %-52s %s%s\n", what, shown[0], strcmp(shown[0], shown[1]) ? "" : "(custom and generic plan)");
    if (strcmp(shown[0], shown[1]))
        printf("   %-52s %s(generic plan)\n", "", shown[1]);
    PQclear(q(s->conn, "SET plan_cache_mode = auto"));
}

static void plans(const char *in_schema, PGconn *admin)
{
    patron_store_ops ops;
    void *ctx = NULL;
    char *msg = NULL;
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    patron_pg *s;
    PGresult *keys, *st;
    int64_t id;

    printf("\n== 2. plans on the stored base (every candidate lookup must be an index scan) ==\n");
    st = q(admin,
           "SELECT c.reltuples::bigint, coalesce(s.last_analyze, s.last_autoanalyze)::text FROM pg_class c"
           " JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid"
           " WHERE n.nspname = '%s' AND c.relname = 'patron_customer_keys'",
           in_schema);
    if (PQntuples(st) == 1)
        printf("   customer_keys: %s rows estimated by the planner, last analyzed %s\n", PQgetvalue(st, 0, 0),
               PQgetisnull(st, 0, 1) ? "never" : PQgetvalue(st, 0, 1));
    PQclear(st);
    o.schema = in_schema;
    if (patron_pg_store_open(&ops, &ctx, &msg, conninfo, &o) != PATRON_OK) {
        fprintf(stderr, "bench_pg: open: %s\n", msg ? msg : "");
        exit(1);
    }
    s = ctx;
    /* the keys of a customer in the middle of the base, and the most
     * frequent value of each counted kind (the worst case for the planner) */
    st = q(admin, "SELECT max(id) / 2 FROM \"%s\".patron_customers", in_schema);
    id = atoll(PQgetvalue(st, 0, 0));
    PQclear(st);
    keys = q(admin,
             "(SELECT DISTINCT ON (kind) kind, value, 'a customer''s key' FROM \"%s\".patron_customer_keys"
             "  WHERE customer_id = %" PRId64 " ORDER BY kind, value)"
             " UNION ALL (SELECT DISTINCT ON (kind) kind, value, 'most frequent, n = ' || n FROM \"%s\".patron_key_counts"
             "  ORDER BY kind, n DESC) ORDER BY 1, 3",
             in_schema, id, in_schema);
    if (ops.begin_read(ctx) != 0) {
        fprintf(stderr, "bench_pg: begin: %s\n", ops.errmsg(ctx));
        exit(1);
    }
    for (int i = 0; i < PQntuples(keys); i++) {
        int kind = atoi(PQgetvalue(keys, i, 0));
        const char *value = PQgetvalue(keys, i, 1);
        long hits = 0;
        uint64_t n = 0;
        char *lit = PQescapeLiteral(s->conn, value, strlen(value));
        char params[600], what[120];
        /* a key every customer holds (kind 123, "*") is only counted: it
         * is explained, not run */
        int looked_up = kind < 120 || kind == 125; /* 120-123: only counted (term frequencies) */
        if (ops.count(ctx, kind, value, &n) != 0 || (looked_up && ops.lookup(ctx, kind, value, note_id, &hits) != 0)) {
            fprintf(stderr, "bench_pg: lookup: %s\n", ops.errmsg(ctx));
            exit(1);
        }
        snprintf(params, sizeof params, "(%d, %s)", kind, lit);
        PQfreemem(lit);
        snprintf(what, sizeof what, "lookup kind %d, %s: %" PRIu64 " ids", kind, PQgetvalue(keys, i, 2), n);
        if (looked_up)
            check_plan(s, what, ST_KEY_LOOKUP, params, "customer_keys");
        {
            snprintf(what, sizeof what, "count kind %d (%s)", kind, kind_counted_for_bench(kind) ? "key_counts" : "index");
            check_plan(s, what, kind_counted_for_bench(kind) ? ST_KEY_COUNTED : ST_KEY_COUNT, params,
                       kind_counted_for_bench(kind) ? "key_counts" : "customer_keys");
        }
    }
    {
        const void *form;
        size_t len;
        char params[64];
        /* the forms of a block of candidates, in one statement (noted by
         * the lookups above), and of one customer */
        if (ops.match_form_get(ctx, id, &form, &len) == 0) {
            PGresult *ids = q(admin, "SELECT '{' || string_agg(id::text, ',') || '}' FROM (SELECT id FROM"
                                     " \"%s\".patron_customers WHERE id >= %" PRId64 " ORDER BY id LIMIT 200) AS x",
                              in_schema, id);
            snprintf(params, sizeof params, "(%" PRId64 ")", id);
            if (s->prepared[ST_FORM_GET])
                check_plan(s, "match form of one customer", ST_FORM_GET, params, "match_forms");
            if (s->prepared[ST_FORMS_GET]) {
                char *lit = PQescapeLiteral(s->conn, PQgetvalue(ids, 0, 0), strlen(PQgetvalue(ids, 0, 0)));
                char *big = malloc(strlen(lit) + 8);
                sprintf(big, "(%s)", lit);
                check_plan(s, "match forms of 200 candidates, one statement", ST_FORMS_GET, big, "match_forms");
                free(big);
                PQfreemem(lit);
            }
            PQclear(ids);
        }
    }
    ops.commit(ctx);
    PQclear(keys);
    ops.destroy(ctx);
    if (bad_plans)
        printf("   %d plan(s) NOT an index scan\n", bad_plans);
    else
        printf("   all index scans\n");
    fflush(stdout);
}

/* ---- 3. incremental match ------------------------------------------------------------ */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct shared {
    volatile long ready;        /* clients connected and warmed up */
    volatile int go;            /* the parent's start signal */
    volatile long cursor;       /* registrations: next row to register */
    double server_cpu[64];      /* per client: its backend's CPU in the measured part */
    long count[64][12];         /* per client: counters, see enum below */
    char failure[512];          /* the first failure's message */
    double lat_a[];             /* latencies in ms: lat_cap of step a, then lat_cap of step b */
} shared;

enum { K_OPS, K_FOUND, K_REG_OK, K_REG_EXISTING, K_REG_EXISTS, K_REG_LOCKED, K_REG_FAIL, K_ACT_NEW, K_ACT_MERGED,
       K_ACT_REVIEW, K_ACT_FAIL, K_EMPTY };

static shared *sh;
static long lat_cap;
#define LAT_B(i) (sh->lat_a[lat_cap + (i)])

static void record_failure(const char *what, patron_db *db)
{
    if (!sh->failure[0])
        snprintf(sh->failure, sizeof sh->failure, "%s: %s", what, patron_db_errmsg(db));
}

static void start_together(int clients)
{
    __atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
    (void)clients;
    while (!__atomic_load_n(&sh->go, __ATOMIC_SEQ_CST))
        usleep(1000);
}

static void release_clients(int clients)
{
    while (__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < clients)
        usleep(1000);
    __atomic_store_n(&sh->go, 1, __ATOMIC_SEQ_CST);
}

static void reset_shared(void)
{
    sh->ready = 0;
    sh->go = 0;
    memset(sh->count, 0, sizeof sh->count);
    memset(sh->server_cpu, 0, sizeof sh->server_cpu);
}

static void match_client(const char *in_schema, int w, int clients, long first, long probes)
{
    patron_pg *pg = NULL;
    patron_db *db = open_db(in_schema, &pg);
    int backend = PQbackendPID(patron_pg_handle(pg));
    double s0;
    { /* warm up: prepare the statements */
        patron_customer *c = customer_of(&rows[first]);
        patron_matches *m = NULL;
        if (patron_db_match(db, &m, c, PATRON_MATCH_FIELDS) != PATRON_OK) {
            fprintf(stderr, "bench_pg: match: %s\n", patron_db_errmsg(db));
            _exit(1);
        }
        patron_matches_free(m);
        patron_customer_free(c);
    }
    start_together(clients);
    s0 = cpu_of_pid(backend);
    for (long p = w; p < probes; p += clients) {
        patron_customer *c = customer_of(&rows[first + p]);
        patron_matches *m = NULL;
        double t0 = perf_now();
        if (!c) {
            sh->count[w][K_EMPTY]++;
            sh->lat_a[p] = 0;
            continue;
        }
        if (patron_db_match(db, &m, c, PATRON_MATCH_FIELDS) != PATRON_OK) {
            record_failure("match", db);
            _exit(1);
        }
        sh->lat_a[p] = (perf_now() - t0) * 1000;
        sh->count[w][K_OPS]++;
        sh->count[w][K_FOUND] += patron_matches_count(m) > 0;
        patron_matches_free(m);
        patron_customer_free(c);
    }
    sh->server_cpu[w] = cpu_of_pid(backend) - s0;
    patron_db_close(db);
    _exit(0);
}

static int wait_all(pid_t *pids, int clients)
{
    int bad = 0;
    for (int w = 0; w < clients; w++) {
        int st;
        waitpid(pids[w], &st, 0);
        bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    return bad;
}

static long sum(int clients, int k)
{
    long s = 0;
    for (int w = 0; w < clients; w++)
        s += sh->count[w][k];
    return s;
}

static double sum_server(int clients)
{
    double s = 0;
    for (int w = 0; w < clients; w++)
        s += sh->server_cpu[w];
    return s;
}

static double pct(double *v, long n, int p)
{
    if (n <= 0)
        return 0;
    return v[(long)((double)(n - 1) * p / 100.0 + 0.5)];
}

static void bench_match(const char *in_schema, long first, long probes, int clients, const char *label)
{
    pid_t pids[64];
    double t0, t1, c0 = cpu_children(), *lat;
    long n = 0;
    reset_shared();
    for (int w = 0; w < clients; w++) {
        pids[w] = fork();
        if (pids[w] == 0)
            match_client(in_schema, w, clients, first, probes);
    }
    release_clients(clients);
    t0 = perf_now();
    if (wait_all(pids, clients)) {
        fprintf(stderr, "bench_pg: a match client failed: %s\n", sh->failure);
        exit(1);
    }
    t1 = perf_now();
    lat = malloc((size_t)probes * sizeof *lat);
    for (long p = 0; p < probes; p++)
        if (sh->lat_a[p] > 0)
            lat[n++] = sh->lat_a[p];
    qsort(lat, (size_t)n, sizeof *lat, cmp_d);
    printf("   %s %d client%s  %6ld matches  p50 %7.2f ms  p99 %7.2f ms  max %7.1f ms  %6.0f matches/s"
           "  | wall %5.1f s, CPU clients %5.1f s, server %5.1f s, load %s; with candidates %ld\n",
           label, clients, clients > 1 ? "s" : " ", n, pct(lat, n, 50), pct(lat, n, 99), n ? lat[n - 1] : 0,
           (double)n / (t1 - t0), t1 - t0, cpu_children() - c0, sum_server(clients), loadavg(),
           sum(clients, K_FOUND));
    fflush(stdout);
    free(lat);
}

/* ---- 4. registrations --------------------------------------------------------------- */

static void register_client(const char *in_schema, int w, int clients, long first, long last, double seconds)
{
    patron_pg *pg = NULL;
    patron_db *db = open_db(in_schema, &pg);
    int backend = PQbackendPID(patron_pg_handle(pg));
    double s0, end;
    start_together(clients);
    s0 = cpu_of_pid(backend);
    end = perf_now() + seconds;
    while (perf_now() < end) {
        long i = __atomic_fetch_add(&sh->cursor, 1, __ATOMIC_SEQ_CST);
        long slot;
        patron_customer *c;
        int64_t existing = 0;
        patron_activation *act = NULL;
        patron_status st;
        double t0, t1;
        if (first + i >= last)
            break;
        slot = i % lat_cap;
        c = customer_of(&rows[first + i]);
        if (!c) {
            sh->count[w][K_EMPTY]++;
            continue;
        }
        t0 = perf_now();
        st = patron_db_register(db, &existing, c);
        t1 = perf_now();
        sh->lat_a[slot] = (t1 - t0) * 1000;
        LAT_B(slot) = 0;
        sh->count[w][K_OPS]++;
        if (st == PATRON_E_EXISTS)
            sh->count[w][K_REG_EXISTS]++;
        else if (st == PATRON_E_LOCKED)
            sh->count[w][K_REG_LOCKED]++;
        else if (st != PATRON_OK) {
            sh->count[w][K_REG_FAIL]++;
            record_failure("register", db);
        } else {
            sh->count[w][K_REG_OK]++;
            sh->count[w][K_REG_EXISTING] += existing != 0;
            st = patron_db_activate(db, &act, patron_customer_id(c), PATRON_ACTIVATE_AUTO, 0);
            LAT_B(slot) = (perf_now() - t1) * 1000;
            if (st != PATRON_OK) {
                sh->count[w][K_ACT_FAIL]++;
                record_failure("activate", db);
            } else {
                patron_outcome o = patron_activation_outcome(act);
                sh->count[w][o == PATRON_OUTCOME_ACTIVATED ? K_ACT_NEW
                             : o == PATRON_OUTCOME_MERGED  ? K_ACT_MERGED
                             : o == PATRON_OUTCOME_REVIEW  ? K_ACT_REVIEW
                                                           : K_ACT_FAIL]++;
            }
            patron_activation_free(act);
        }
        patron_customer_free(c);
    }
    sh->server_cpu[w] = cpu_of_pid(backend) - s0;
    patron_db_close(db);
    _exit(0);
}

static void bench_register(const char *in_schema, long first, long last, int clients, double seconds)
{
    pid_t pids[64];
    long from = sh->cursor, ops, n_a = 0, n_b = 0, completed;
    double t0, t1, c0 = cpu_children(), *la, *lb;
    reset_shared();
    for (int w = 0; w < clients; w++) {
        pids[w] = fork();
        if (pids[w] == 0)
            register_client(in_schema, w, clients, first, last, seconds);
    }
    release_clients(clients);
    t0 = perf_now();
    if (wait_all(pids, clients)) {
        fprintf(stderr, "bench_pg: a registration client died: %s\n", sh->failure);
        exit(1);
    }
    t1 = perf_now();
    ops = sum(clients, K_OPS);
    la = malloc((size_t)(ops + 1) * sizeof *la);
    lb = malloc((size_t)(ops + 1) * sizeof *lb);
    for (long i = from; i < sh->cursor && i - from < lat_cap && n_a < ops; i++) {
        long slot = i % lat_cap;
        if (sh->lat_a[slot] > 0)
            la[n_a++] = sh->lat_a[slot];
        if (LAT_B(slot) > 0)
            lb[n_b++] = LAT_B(slot);
    }
    qsort(la, (size_t)n_a, sizeof *la, cmp_d);
    qsort(lb, (size_t)n_b, sizeof *lb, cmp_d);
    completed = sum(clients, K_ACT_NEW) + sum(clients, K_ACT_MERGED) + sum(clients, K_ACT_REVIEW);
    printf("   %d client%s  %6.1f registrations/s  (%ld registered + activated in %.1f s)"
           "  register p50 %6.2f p99 %7.2f ms, activate p50 %6.2f p99 %7.2f ms\n",
           clients, clients > 1 ? "s" : " ", (double)completed / (t1 - t0), completed, t1 - t0, pct(la, n_a, 50),
           pct(la, n_a, 99), pct(lb, n_b, 50), pct(lb, n_b, 99));
    printf("             outcomes: %ld new customer number, %ld merged into a stored customer, %ld left for review;"
           " %ld registrations had the email of an active customer\n",
           sum(clients, K_ACT_NEW), sum(clients, K_ACT_MERGED), sum(clients, K_ACT_REVIEW),
           sum(clients, K_REG_EXISTING));
    printf("             not OK: %ld PATRON_E_EXISTS (email pending already: documented), %ld PATRON_E_LOCKED"
           " (documented), FAILED %ld register + %ld activate%s%s\n",
           sum(clients, K_REG_EXISTS), sum(clients, K_REG_LOCKED), sum(clients, K_REG_FAIL),
           sum(clients, K_ACT_FAIL), sh->failure[0] ? "; first: " : "", sh->failure);
    printf("             | wall %.1f s, CPU clients %.1f s, server %.1f s, load %s\n", t1 - t0,
           cpu_children() - c0, sum_server(clients), loadavg());
    fflush(stdout);
    free(la);
    free(lb);
}

/* ---- main ---------------------------------------------------------------------------- */

static long stored_customers(PGconn *admin, const char *in_schema)
{
    PGresult *r = q(admin,
                    "SELECT count(*) FROM pg_tables WHERE schemaname = '%s' AND tablename = 'patron_customers'",
                    in_schema);
    long n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!n)
        return 0;
    r = q(admin, "SELECT count(*) FROM \"%s\".patron_customers", in_schema);
    n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

static long twins(const char *truth, long n, long first, long probes)
{
    FILE *f = fopen(truth, "r");
    char line[256];
    long *person = calloc((size_t)n_rows, sizeof *person), k = 0, max = 0, found = 0;
    unsigned char *seen;
    if (!f || !person)
        return -1;
    if (!fgets(line, sizeof line, f)) /* header */
        return -1;
    /* the truth has a row per CSV row, in the same order */
    while (k < n_rows && fgets(line, sizeof line, f)) {
        char *comma = strchr(line, ',');
        person[k] = comma ? atol(comma + 1) : -1;
        if (person[k] > max)
            max = person[k];
        k++;
    }
    fclose(f);
    seen = calloc((size_t)max + 1, 1);
    for (long i = 0; i < n && i < k; i++)
        if (person[i] >= 0)
            seen[person[i]] = 1;
    for (long p = 0; p < probes && first + p < k; p++)
        found += person[first + p] >= 0 && seen[person[first + p]];
    free(seen);
    free(person);
    return found;
}

int main(int argc, char **argv)
{
    const char *csv = NULL, *truth = NULL, *want_schema = NULL;
    long n = 1000000, probes = 2000, import_rows = 0, have;
    int per_row = 0, import_only = 0;
    const char *env_n = getenv("PATRON_BENCH_CUSTOMERS");
    double seconds = 10, t0 = perf_now();
    int reused, failures = 0;
    PGconn *admin;
    PGresult *r;

    if (env_n && *env_n)
        n = atol(env_n);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--per-row"))
            per_row = 1;
        else if (!strcmp(argv[i], "--import-only"))
            import_only = 1;
        else if (!strcmp(argv[i], "--customers") && i + 1 < argc)
            n = atol(argv[++i]);
        else if (!strcmp(argv[i], "--schema") && i + 1 < argc)
            want_schema = argv[++i];
        else if (!strcmp(argv[i], "--import-rows") && i + 1 < argc)
            import_rows = atol(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--probes") && i + 1 < argc)
            probes = atol(argv[++i]);
        else if (!strcmp(argv[i], "--truth") && i + 1 < argc)
            truth = argv[++i];
        else if (argv[i][0] != '-' && !csv)
            csv = argv[i];
        else {
            fprintf(stderr, "usage: %s CUSTOMERS.csv [--customers N] [--schema S] [--import-rows M] [--probes P]"
                            " [--seconds S] [--truth T.csv] [--import-only] [--per-row]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!csv || n < 1000 || probes < 8 || seconds < 0 || import_rows < 0) {
        fprintf(stderr, "bench_pg: give CUSTOMERS.csv; --customers >= 1000, --probes >= 8, --seconds >= 0\n");
        return 2;
    }
    conninfo = getenv("PATRON_TEST_PG");
    if (!conninfo || !conninfo[0]) {
        fprintf(stderr, "bench_pg: PATRON_TEST_PG is not set: run under tests/pg/cluster.sh run\n");
        return 2;
    }
    if (want_schema && (strlen(want_schema) >= sizeof schema || strspn(want_schema,
        "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(want_schema))) {
        fprintf(stderr, "bench_pg: --schema: lower-case letters, digits and _\n");
        return 2;
    }
    snprintf(schema, sizeof schema, "%s", want_schema ? want_schema : "");
    if (!want_schema)
        snprintf(schema, sizeof schema, "bench_%ld", (long)getpid());

    read_csv(csv);
    if (n_rows < n + probes + 100) {
        fprintf(stderr, "bench_pg: %s has %ld rows: need N + probes + at least 100 for registrations\n", csv,
                n_rows);
        return 2;
    }
    admin = PQconnectdb(conninfo);
    if (PQstatus(admin) != CONNECTION_OK) {
        fprintf(stderr, "bench_pg: %s", PQerrorMessage(admin));
        return 1;
    }
    PQsetNoticeProcessor(admin, quiet, NULL);
    lat_cap = probes > 200000 ? probes : 200000;
    sh = mmap(NULL, sizeof *sh + 2 * (size_t)lat_cap * sizeof(double), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;

    r = q(admin, "SELECT current_setting('server_version'), current_setting('fsync'),"
                 " current_setting('synchronous_commit'), current_setting('shared_buffers')");
    printf("bench_pg: the PostgreSQL store (issue 15)\n");
    printf("   base N = %ld stored customers (the first N rows of %s, %ld rows); %ld match probes and up to %ld"
           " registrations from the rows after them (new customers, some duplicates of stored ones)\n",
           n, csv, n_rows, probes, n_rows - n - probes);
    printf("   PostgreSQL %s, fsync %s, synchronous_commit %s, shared_buffers %s; %ld CPUs, load average %s\n",
           PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3),
           sysconf(_SC_NPROCESSORS_ONLN), loadavg());
    printf("   clients: 1, 2, 4, 8 processes (fork), each with its own connection; times in ms (latency) and s\n");
    PQclear(r);
    fflush(stdout);

    have = want_schema ? stored_customers(admin, schema) : 0;
    reused = have >= n;
    if (reused) {
        printf("\n== 1. the base: reused the %ld customers already stored in schema %s (imported before this run,"
               " through the store) ==\n",
               have, schema);
        if (have > n) /* the registrations of earlier runs: the rows after the probes */
            printf("   (%ld more than N: registrations of earlier runs, from the rows after the probes; this run"
                   " registers the rows after those)\n",
                   have - n);
        if (import_rows > 0) {
            char scratch[64];
            snprintf(scratch, sizeof scratch, "bench_imp_%ld", (long)getpid());
            import_line(scratch, import_rows, per_row);
            PQclear(q(admin, "DROP SCHEMA \"%s\" CASCADE", scratch));
        } else
            printf("   import vs COPY: not measured in this run (--import-rows M measures it on M rows)\n");
    } else {
        if (have > 0) {
            fprintf(stderr, "bench_pg: schema %s holds %ld customers, fewer than N = %ld\n", schema, have, n);
            return 1;
        }
        import_line(schema, n, per_row);
        have = stored_customers(admin, schema);
    }
    if (import_only)
        goto done;
    /* what autovacuum would do some time after a large import; the store
     * itself does not ANALYZE */
    plans(schema, admin);

    if (truth) {
        long t = twins(truth, n, n, probes);
        printf("\n   generator truth: %ld of the %ld probes have a twin among the first %ld rows (stored)\n", t,
               probes, n);
    }
    printf("\n== 3. incremental match: patron_db_match() of %ld new customers against %ld stored,"
           " split over the clients ==\n",
           probes, have);
    printf("   first pass (8 clients): every probe once, pages of the store not in memory yet come from disk"
           " (as after an import or a restart); then the same probes again ('warm') with 1, 2, 4, 8 clients\n");
    bench_match(schema, n, probes, 8, "first");
    for (int clients = 1; clients <= 8; clients *= 2)
        bench_match(schema, n, probes, clients, "warm ");

    if (seconds > 0)
        printf("\n== 4. registrations: patron_db_register() + patron_db_activate(AUTO) of new customers, %.0f s per"
           " client count (writers serialised by the store's lock) ==\n",
           seconds);
    /* a reused base already holds the registrations of earlier runs */
    sh->cursor = reused ? have - n : 0;
    failures = 0;
    for (int clients = 1; clients <= 8 && seconds > 0; clients *= 2) {
        bench_register(schema, n + probes, n_rows, clients, seconds);
        failures += (int)(sum(clients, K_REG_FAIL) + sum(clients, K_ACT_FAIL));
        if (n + probes + sh->cursor >= n_rows) {
            printf("   (the new rows ran out: rerun with a smaller --seconds or a larger file)\n");
            break;
        }
    }
done:
    printf("\nbench_pg: done in %.0f s wall; load average %s; %d plan(s) not an index scan, %d failed operations\n",
           perf_now() - t0, loadavg(), bad_plans, failures);
    if (!want_schema)
        PQclear(q(admin, "DROP SCHEMA \"%s\" CASCADE", schema));
    PQfinish(admin);
    return bad_plans || failures ? 1 : 0;
}
