/*
 * The PostgreSQL store under several clients (issue 15).
 *
 *   tests/pg/cluster.sh run build/tests/bench/bench_pg [--customers N] [--seconds S] [--probes P]
 *                                                      [--import-only] [--per-row]
 *
 * (PATRON_PG_FSYNC=on for a cluster with durable commits; the default
 * throwaway cluster runs with fsync off.)  Defaults: 1 000 000 customers
 * (or PATRON_BENCH_CUSTOMERS), 5 s per client count, 1 000 probes.  Prints:
 *
 *  1. import: N synthetic customers through the store with
 *     patron_db_create_many() in calls of 10 000, as `patron import` does
 *     (--per-row: patron_db_create() per customer in host transactions of
 *     1 000, every row a savepoint), against a plain COPY of the same rows
 *     into an equivalent table set: after the import, every table the
 *     import wrote (customers, addresses, extra fields, keys, key counts,
 *     match forms, used numbers) is copied out to files under /tmp, and
 *     COPY FROM loads those very rows into tables made LIKE them (same
 *     columns, indexes and constraints), with the counter row, in one
 *     transaction.  Wall time of each, the ratio (target <= 2), and the
 *     CPU time of the client and of its server process;
 *  2. incremental match: patron_db_match() of P new customers, each a
 *     variant of a stored one (typo, initial, other street spelling),
 *     against the N stored: p50, p99 and the mean, in ms;
 *  3. registrations per second with 1, 2, 4 and 8 client processes, each
 *     registering new shop customers for S seconds (writers are serialised
 *     by the store's lock: the sum is the store's write throughput).
 *
 * Wall times on a loaded machine are noisy: the import ratio is measured in
 * one run against its peer, the CPU time of the client is printed beside it.
 */
#define _DEFAULT_SOURCE /* getloadavg, MAP_ANONYMOUS */
#include <patron/patron.h>
#include <patron/postgres.h>

#include <libpq-fe.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *conninfo;
static char schema[64];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           (double)u.ru_stime.tv_usec / 1e6;
}

/* CPU seconds of server process `pid` so far (user + system, from /proc;
 * the server runs on this machine in the benchmark's cluster), or -1. */
static double server_cpu(int pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, stt = 0;
    FILE *f;
    size_t n;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (!(p = strrchr(buf, ')')))
        return -1;
    /* after the name: state (field 3) ... utime (14), stime (15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) != 2)
        return -1;
    return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

static patron_db *open_db(patron_pg **pg)
{
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    patron_db *db = NULL;
    char *msg = NULL;
    o.schema = schema;
    if (patron_db_open_postgres(&db, pg, &msg, conninfo, &o) != PATRON_OK) {
        fprintf(stderr, "open: %s\n", msg ? msg : "");
        exit(1);
    }
    return db;
}

/* ---- synthetic customers: varied enough that blocking keys stay small ---- */

static const char *const firsts[] = { "Max", "Anna", "Jonas", "Lea", "Paul", "Mia", "Felix", "Emma", "Lukas",
                                      "Sophie", "Ben", "Marie", "Finn", "Laura", "Elias", "Hannah", "Noah",
                                      "Lena", "Leon", "Clara", "Tim", "Julia", "Jan", "Sarah", "Tom", "Lisa",
                                      "Nico", "Nina", "Erik", "Katrin", "Moritz", "Greta" };
static const char *const syl[] = { "ber", "mann", "sch", "wal", "ter", "kl", "ein", "hof", "mül", "ler", "bau",
                                   "er", "wag", "ner", "rich", "bach", "feld", "stein", "berg", "horn" };
static const char *const streets[] = { "Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße",
                                       "Lindenallee", "Am Markt", "Bergstraße", "Ringstraße", "Kirchweg",
                                       "Rosenstraße", "Goethestraße", "Waldweg" };

typedef struct row {
    char first[32], last[48], email[128], street[48], house[8], plz[8], city[32];
} row;

static void make_row(row *r, long i)
{
    unsigned long h = (unsigned long)i * 2654435761ul;
    snprintf(r->first, sizeof r->first, "%s", firsts[h % 32]);
    snprintf(r->last, sizeof r->last, "%s%s%s", syl[(h >> 5) % 20], syl[(h >> 10) % 20], syl[(h >> 15) % 20]);
    r->last[0] = (char)(r->last[0] - 'a' + 'A');
    snprintf(r->email, sizeof r->email, "%s.%s%ld@example.de", r->first, r->last, i);
    for (char *s = r->email; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
    snprintf(r->street, sizeof r->street, "%s", streets[(h >> 20) % 12]);
    snprintf(r->house, sizeof r->house, "%lu", 1 + (h >> 7) % 150);
    snprintf(r->plz, sizeof r->plz, "%05lu", 1067 + (h >> 3) % 98000);
    snprintf(r->city, sizeof r->city, "Stadt%lu", (h >> 3) % 98000 / 10);
}

static patron_customer *customer_of(const row *r)
{
    patron_customer *c;
    size_t a;
    patron_customer_new(&c);
    patron_customer_set(c, PATRON_F_FIRST_NAME, r->first);
    patron_customer_set(c, PATRON_F_LAST_NAME, r->last);
    patron_customer_set(c, PATRON_F_EMAIL, r->email);
    patron_customer_address_add(c, &a);
    patron_customer_address_set(c, a, PATRON_A_STREET, r->street);
    patron_customer_address_set(c, a, PATRON_A_HOUSE_NUMBER, r->house);
    patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, r->plz);
    patron_customer_address_set(c, a, PATRON_A_CITY, r->city);
    patron_customer_address_set(c, a, PATRON_A_COUNTRY, "DE");
    return c;
}

/* ---- 1. import vs COPY ---------------------------------------------------------- */

static void refused_fail(void *payload, size_t index, patron_status status, const char *message)
{
    (void)payload;
    fprintf(stderr, "row %zu refused (%s): %s\n", index, patron_status_name(status), message);
    exit(1);
}

#define CHUNK 10000

static double import_store(long n, int per_row, double *cpu_out, double *server_out)
{
    patron_pg *pg = NULL;
    patron_db *db = open_db(&pg);
    int pid = PQbackendPID(patron_pg_handle(pg));
    double t0 = now(), c0 = cpu(), s0 = server_cpu(pid);
    patron_customer **cs = calloc(CHUNK, sizeof *cs);
    row r;
    for (long i = 0; i < n; i += per_row ? 1000 : CHUNK) {
        long end = i + (per_row ? 1000 : CHUNK) < n ? i + (per_row ? 1000 : CHUNK) : n;
        if (per_row) {
            if (patron_pg_begin(pg) != PATRON_OK) {
                fprintf(stderr, "begin: %s\n", patron_pg_errmsg(pg));
                exit(1);
            }
            for (long k = i; k < end; k++) {
                patron_customer *c;
                make_row(&r, k);
                c = customer_of(&r);
                if (patron_db_create(db, c) != PATRON_OK) {
                    fprintf(stderr, "create: %s\n", patron_db_errmsg(db));
                    exit(1);
                }
                patron_customer_free(c);
            }
            if (patron_pg_commit(pg) != PATRON_OK) {
                fprintf(stderr, "commit: %s\n", patron_pg_errmsg(pg));
                exit(1);
            }
        } else {
            size_t created = 0;
            for (long k = i; k < end; k++) {
                make_row(&r, k);
                cs[k - i] = customer_of(&r);
            }
            if (patron_db_create_many(db, &created, cs, (size_t)(end - i), refused_fail, NULL) != PATRON_OK ||
                created != (size_t)(end - i)) {
                fprintf(stderr, "create_many: %s\n", patron_db_errmsg(db));
                exit(1);
            }
            for (long k = i; k < end; k++)
                patron_customer_free(cs[k - i]);
        }
    }
    *cpu_out = cpu() - c0;
    *server_out = server_cpu(pid) - s0;
    free(cs);
    patron_db_close(db);
    return now() - t0;
}

/* The tables the import writes, as patron names them (schema version 1). */
static const char *const import_tables[] = { "patron_customers", "patron_customer_addresses",
                                             "patron_customer_extra", "patron_customer_keys",
                                             "patron_key_counts", "patron_match_forms", "patron_used_numbers" };
#define N_IMPORT_TABLES (sizeof import_tables / sizeof import_tables[0])

static void copy_path(char *out, size_t cap, size_t t)
{
    snprintf(out, cap, "/tmp/pgimp-bench-%ld-%s.copy", (long)getpid(), import_tables[t]);
}

/* Untimed: every row the import wrote, to files, and empty tables LIKE
 * the store's to copy them into. */
static long long export_tables(PGconn *c)
{
    char sql[400], path[200];
    long long bytes = 0;
    for (size_t t = 0; t < N_IMPORT_TABLES; t++) {
        FILE *f;
        PGresult *res;
        char *buf;
        int len;
        copy_path(path, sizeof path, t);
        if (!(f = fopen(path, "w"))) {
            perror(path);
            exit(1);
        }
        snprintf(sql, sizeof sql, "COPY %s.%s TO STDOUT", schema, import_tables[t]);
        res = PQexec(c, sql);
        if (PQresultStatus(res) != PGRES_COPY_OUT) {
            fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
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
        snprintf(sql, sizeof sql, "CREATE TABLE %s.copy_%s (LIKE %s.%s INCLUDING ALL)", schema, import_tables[t],
                 schema, import_tables[t]);
        if (!exec_ok(c, sql))
            exit(1);
    }
    snprintf(sql, sizeof sql, "CREATE TABLE %s.copy_counters (LIKE %s.patron_counters INCLUDING ALL);"
             " INSERT INTO %s.copy_counters VALUES ('customer_number', 0)", schema, schema, schema);
    if (!exec_ok(c, sql))
        exit(1);
    return bytes;
}

static double import_copy(long n, double *cpu_out, double *server_out, long long *bytes_out)
{
    PGconn *c = PQconnectdb(conninfo);
    char sql[400], path[200], buf[1 << 16];
    double t0, c0, s0;
    int pid;

    PQsetNoticeProcessor(c, quiet, NULL);
    *bytes_out = export_tables(c);
    pid = PQbackendPID(c);
    t0 = now();
    c0 = cpu();
    s0 = server_cpu(pid);
    exec_ok(c, "BEGIN");
    for (size_t t = 0; t < N_IMPORT_TABLES; t++) {
        FILE *f;
        size_t len;
        PGresult *res;
        copy_path(path, sizeof path, t);
        f = fopen(path, "r");
        snprintf(sql, sizeof sql, "COPY %s.copy_%s FROM STDIN", schema, import_tables[t]);
        res = PQexec(c, sql);
        if (PQresultStatus(res) != PGRES_COPY_IN) {
            fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
            exit(1);
        }
        PQclear(res);
        while ((len = fread(buf, 1, sizeof buf, f)) > 0)
            PQputCopyData(c, buf, (int)len);
        fclose(f);
        PQputCopyEnd(c, NULL);
        res = PQgetResult(c);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
            exit(1);
        }
        PQclear(res);
    }
    snprintf(sql, sizeof sql, "UPDATE %s.copy_counters SET value = %ld", schema, n);
    exec_ok(c, sql);
    if (!exec_ok(c, "COMMIT"))
        exit(1);
    *cpu_out = cpu() - c0;
    *server_out = server_cpu(pid) - s0;
    PQfinish(c);
    for (size_t t = 0; t < N_IMPORT_TABLES; t++) {
        copy_path(path, sizeof path, t);
        unlink(path);
    }
    return now() - t0;
}

/* ---- 2. incremental match ---------------------------------------------------------- */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench_match(long n, int probes)
{
    patron_db *db = open_db(NULL);
    double *lat = calloc((size_t)probes, sizeof *lat), sum = 0;
    size_t found = 0;
    row r;

    for (int p = 0; p < probes; p++) {
        long i = (long)(((unsigned long)p * 7919ul) % (unsigned long)n);
        patron_customer *c;
        patron_matches *m = NULL;
        double t0;
        make_row(&r, i);
        switch (p % 3) { /* a variant of stored customer i */
        case 0: r.first[1] = '.', r.first[2] = '\0'; break;                 /* initial */
        case 1: r.last[strlen(r.last) - 1] = 'x'; break;                    /* typo */
        default: snprintf(r.email, sizeof r.email, "other%d@example.org", p); /* other email */
        }
        c = customer_of(&r);
        t0 = now();
        if (patron_db_match(db, &m, c, PATRON_MATCH_FIELDS) != PATRON_OK) {
            fprintf(stderr, "match: %s\n", patron_db_errmsg(db));
            exit(1);
        }
        lat[p] = (now() - t0) * 1000;
        sum += lat[p];
        found += patron_matches_count(m) > 0;
        patron_matches_free(m);
        patron_customer_free(c);
    }
    qsort(lat, (size_t)probes, sizeof *lat, cmp_d);
    printf("incremental match against %ld customers, %d probes (1 client): p50 %.2f ms, p99 %.2f ms, mean %.2f ms;"
           " %zu probes found their customer among the candidates\n",
           n, probes, lat[probes / 2], lat[(probes * 99) / 100], sum / probes, found);
    free(lat);
    patron_db_close(db);
}

/* ---- 3. registrations per second ------------------------------------------------------ */

static void bench_register(int clients, double seconds, long *base)
{
    long *done = mmap(NULL, sizeof(long) * 64, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t pids[64];
    double t0 = now(), t1;
    for (int w = 0; w < clients; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            patron_db *db = open_db(NULL);
            double end = now() + seconds;
            long k = 0;
            row r;
            while (now() < end) {
                patron_customer *c;
                make_row(&r, *base + (long)w * 10000000L + k);
                snprintf(r.email, sizeof r.email, "reg%d.%ld.%ld@example.net", w, *base, k);
                c = customer_of(&r);
                if (patron_db_register(db, NULL, c) != PATRON_OK) {
                    fprintf(stderr, "register: %s\n", patron_db_errmsg(db));
                    _exit(1);
                }
                patron_customer_free(c);
                k++;
            }
            done[w] = k;
            patron_db_close(db);
            _exit(0);
        }
    }
    long total = 0;
    for (int w = 0; w < clients; w++) {
        int st;
        waitpid(pids[w], &st, 0);
        total += done[w];
    }
    t1 = now();
    printf("registrations, %d client process%s: %ld in %.1f s = %.0f per second\n", clients, clients > 1 ? "es" : "",
           total, t1 - t0, (double)total / (t1 - t0));
    *base += 100000000L;
    munmap(done, sizeof(long) * 64);
}

int main(int argc, char **argv)
{
    long n = 1000000;
    double seconds = 5;
    int probes = 1000;
    long base = 1000000000L;
    PGconn *admin;
    char sql[200];
    double t_store, t_copy, c_store, c_copy, s_store, s_copy;
    int import_only = 0, per_row = 0;
    long long bytes = 0;
    const char *env_n = getenv("PATRON_BENCH_CUSTOMERS");

    if (env_n && *env_n)
        n = atol(env_n);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--customers") && i + 1 < argc)
            n = atol(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--probes") && i + 1 < argc)
            probes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--import-only"))
            import_only = 1;
        else if (!strcmp(argv[i], "--per-row"))
            per_row = 1;
        else {
            fprintf(stderr, "usage: %s [--customers N] [--seconds S] [--probes P] [--import-only] [--per-row]\n",
                    argv[0]);
            return 2;
        }
    }
    if (n < 1000 || probes < 1 || seconds <= 0) {
        fprintf(stderr, "--customers >= 1000, --probes >= 1, --seconds > 0\n");
        return 2;
    }
    conninfo = getenv("PATRON_TEST_PG");
    if (!conninfo || !conninfo[0]) {
        fprintf(stderr, "PATRON_TEST_PG is not set: run under tests/pg/cluster.sh run\n");
        return 2;
    }
    snprintf(schema, sizeof schema, "bench_%ld", (long)getpid());
    admin = PQconnectdb(conninfo);
    PQsetNoticeProcessor(admin, quiet, NULL);
    {
        double l[3];
        if (getloadavg(l, 3) == 3)
            printf("bench_pg: %ld customers, load average %.1f %.1f %.1f, %ld CPUs\n", n, l[0], l[1], l[2],
                   sysconf(_SC_NPROCESSORS_ONLN));
    }
    fflush(stdout);

    t_store = import_store(n, per_row, &c_store, &s_store);
    printf("import through the store (%s): %ld customers in %.1f s (%.0f per second; client CPU %.1f s,"
           " server CPU %.1f s)\n",
           per_row ? "patron_db_create per row" : "patron_db_create_many, 10 000 per call", n, t_store,
           (double)n / t_store, c_store, s_store);
    fflush(stdout);
    t_copy = import_copy(n, &c_copy, &s_copy, &bytes);
    printf("plain COPY of the same rows (customers, addresses, extra fields, keys, key counts, match forms,"
           " used numbers, counter; %.0f MB): %.1f s (client CPU %.1f s, server CPU %.1f s)\n",
           (double)bytes / 1e6, t_copy, c_copy, s_copy);
    printf("import / COPY: %.2f x wall (target <= 2), %.2f x CPU (client + server)\n", t_store / t_copy,
           (c_store + s_store) / (c_copy + s_copy));
    {
        double l[3];
        if (getloadavg(l, 3) == 3)
            printf("load average after the import: %.1f %.1f %.1f\n", l[0], l[1], l[2]);
    }
    fflush(stdout);
    if (import_only)
        goto done;

    bench_match(n, probes);
    fflush(stdout);
    for (int clients = 1; clients <= 8; clients *= 2) {
        bench_register(clients, seconds, &base);
        fflush(stdout);
    }
done:
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
    exec_ok(admin, sql);
    PQfinish(admin);
    return 0;
}
