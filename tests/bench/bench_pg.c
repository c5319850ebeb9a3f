/*
 * The PostgreSQL store under several clients (issue 15).
 *
 *   tests/pg/cluster.sh run build/tests/bench/bench_pg [--customers N] [--seconds S] [--probes P]
 *
 * (PATRON_PG_FSYNC=on for a cluster with durable commits; the default
 * throwaway cluster runs with fsync off.)  Defaults: 1 000 000 customers,
 * 5 s per client count, 1 000 probes.  Prints:
 *
 *  1. import: N synthetic customers through the store (host transactions of
 *     1 000 customers, as `patron import` does: every row a savepoint, its
 *     keys, key counts and number written), against a plain COPY of the
 *     same rows into tables of the same columns (customers and addresses,
 *     no patron keys): wall time of each and the ratio (target <= 2);
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

static double import_store(long n, double *cpu_out)
{
    patron_pg *pg = NULL;
    patron_db *db = open_db(&pg);
    double t0 = now(), c0 = cpu();
    row r;
    for (long i = 0; i < n; i += 1000) {
        if (patron_pg_begin(pg) != PATRON_OK) {
            fprintf(stderr, "begin: %s\n", patron_pg_errmsg(pg));
            exit(1);
        }
        for (long k = i; k < i + 1000 && k < n; k++) {
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
    }
    *cpu_out = cpu() - c0;
    patron_db_close(db);
    return now() - t0;
}

static double import_copy(long n, double *cpu_out)
{
    PGconn *c = PQconnectdb(conninfo);
    char sql[600], line[512];
    double t0, c0;
    row r;
    PGresult *res;

    PQsetNoticeProcessor(c, quiet, NULL);
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s.copy_customers (LIKE %s.patron_customers INCLUDING DEFAULTS INCLUDING INDEXES);"
             " CREATE TABLE %s.copy_addresses (LIKE %s.patron_customer_addresses INCLUDING DEFAULTS INCLUDING INDEXES)",
             schema, schema, schema, schema);
    if (!exec_ok(c, sql))
        exit(1);
    t0 = now();
    c0 = cpu();
    exec_ok(c, "BEGIN");
    snprintf(sql, sizeof sql,
             "COPY %s.copy_customers (id, number, state, first_name, last_name, email, created_at, updated_at,"
             " revision) FROM STDIN",
             schema);
    res = PQexec(c, sql);
    PQclear(res);
    for (long i = 0; i < n; i++) {
        int len;
        make_row(&r, i);
        len = snprintf(line, sizeof line, "%ld\tK%06ld\tactive\t%s\t%s\t%s\t1700000000\t1700000000\t1\n", i + 1, i + 1,
                       r.first, r.last, r.email);
        PQputCopyData(c, line, len);
    }
    PQputCopyEnd(c, NULL);
    PQclear(PQgetResult(c));
    snprintf(sql, sizeof sql,
             "COPY %s.copy_addresses (customer_id, position, street, house_number, postal_code, city, country,"
             " is_default) FROM STDIN",
             schema);
    res = PQexec(c, sql);
    PQclear(res);
    for (long i = 0; i < n; i++) {
        int len;
        make_row(&r, i);
        len = snprintf(line, sizeof line, "%ld\t0\t%s\t%s\t%s\t%s\tDE\t1\n", i + 1, r.street, r.house, r.plz, r.city);
        PQputCopyData(c, line, len);
    }
    PQputCopyEnd(c, NULL);
    PQclear(PQgetResult(c));
    if (!exec_ok(c, "COMMIT"))
        exit(1);
    *cpu_out = cpu() - c0;
    PQfinish(c);
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
    double t_store, t_copy, c_store, c_copy;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--customers") && i + 1 < argc)
            n = atol(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--probes") && i + 1 < argc)
            probes = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--customers N] [--seconds S] [--probes P]\n", argv[0]);
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

    t_store = import_store(n, &c_store);
    printf("import through the store: %ld customers in %.1f s (%.0f per second; client CPU %.1f s)\n", n, t_store,
           (double)n / t_store, c_store);
    fflush(stdout);
    t_copy = import_copy(n, &c_copy);
    printf("plain COPY of the same rows (customers, addresses): %.1f s (client CPU %.1f s)\n", t_copy, c_copy);
    printf("import / COPY: %.1f x (target <= 2)\n", t_store / t_copy);
    fflush(stdout);

    bench_match(n, probes);
    fflush(stdout);
    for (int clients = 1; clients <= 8; clients *= 2) {
        bench_register(clients, seconds, &base);
        fflush(stdout);
    }
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
    exec_ok(admin, sql);
    PQfinish(admin);
    return 0;
}
