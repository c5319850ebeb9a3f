/* Benchmark: incremental matching latency against a large memory store.
 *
 *   bench_incremental CUSTOMERS.csv [QUERIES]
 *   bench_incremental_sqlite CUSTOMERS.csv [QUERIES] --sqlite DB
 *
 * Loads the file into the memory store, then matches QUERIES (default 2000)
 * stored customers, spread evenly over the file, one by one with
 * patron_db_match, and prints p50/p90/p99/max latency.  Targets: p99 <=
 * 200 µs (issue 4), <= 100 µs CPU time (issue 14) against 1 000 000 stored
 * customers.
 *
 * bench_incremental_sqlite (built with the SQLite store) matches against
 * the SQLite file DB instead, which must hold the same file imported
 * (`patron --db DB import CUSTOMERS.csv`); the CSV only gives the number
 * of customers. */
#include "csvload.h"
#ifdef PATRON_BENCH_SQLITE
#include <patron/sqlite.h>
#endif

static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    patron_db *db;
    long n, refused, queries = argc > 2 ? atol(argv[2]) : 2000;
    double t0, c0, *lat, *cpu;
    size_t found = 0;
    const char *sqlite_path = NULL;
    long skipped = 0;
    if (argc > 3 && strcmp(argv[3], "--sqlite") == 0 && argc > 4)
        sqlite_path = argv[4];
    if (argc < 2 || (argc > 3 && !sqlite_path)) {
        fprintf(stderr, "usage: bench_incremental CUSTOMERS.csv [QUERIES] [--sqlite DB]\n");
        return 2;
    }
    if (sqlite_path) {
#ifdef PATRON_BENCH_SQLITE
        char *msg = NULL, line[4096];
        FILE *fp = fopen(argv[1], "rb");
        if (patron_db_open_sqlite(&db, NULL, &msg, sqlite_path, NULL) != PATRON_OK) {
            fprintf(stderr, "bench_incremental: %s: %s\n", sqlite_path, msg ? msg : "cannot open");
            return 1;
        }
        /* the customers are the file's rows (ids 1..n; a refused row has
         * none, its id is skipped below) */
        n = -1;
        while (fp && fgets(line, sizeof line, fp))
            n++;
        if (fp)
            fclose(fp);
        if (n <= 0)
            return 1;
        printf("customers in sqlite   %ld (rows of %s)\n", n, argv[1]);
        refused = 0;
#else
        fprintf(stderr, "bench_incremental: built without the SQLite store (use bench_incremental_sqlite)\n");
        return 2;
#endif
    } else {
        if (patron_db_open_memory(&db, NULL) != PATRON_OK)
            return 1;
        t0 = perf_now();
        n = perf_load(db, argv[1], &refused);
        if (n <= 0)
            return 1;
        printf("customers loaded      %ld in %.2f s\n", n, perf_now() - t0);
    }
    lat = malloc((size_t)queries * sizeof *lat);
    cpu = malloc((size_t)queries * sizeof *cpu);
    if (!lat || !cpu)
        return 1;
    for (long q = 0; q < queries; q++) {
        int64_t id = 1 + (int64_t)((double)q / (double)queries * (double)n);
        patron_customer *c;
        patron_matches *m;
        patron_status ls;
        /* a row the import refused has no id: the next one */
        while ((ls = patron_db_load(db, &c, id)) == PATRON_E_NOT_FOUND && sqlite_path && skipped < 1000) {
            skipped++;
            id++;
        }
        if (ls != PATRON_OK) {
            fprintf(stderr, "bench_incremental: customer %lld: %s\n", (long long)id, patron_db_errmsg(db));
            return 1;
        }
        t0 = perf_now();
        c0 = thread_cpu();
        if (patron_db_match(db, &m, c, PATRON_MATCH_FIELDS) != PATRON_OK) {
            fprintf(stderr, "match: %s\n", patron_db_errmsg(db));
            return 1;
        }
        lat[q] = (perf_now() - t0) * 1e6;
        cpu[q] = (thread_cpu() - c0) * 1e6;
        found += patron_matches_count(m);
        patron_matches_free(m);
        patron_customer_free(c);
    }
    qsort(lat, (size_t)queries, sizeof *lat, cmp_d);
    qsort(cpu, (size_t)queries, sizeof *cpu, cmp_d);
    printf("incremental match     %ld queries against %ld stored customers (%s store)\n", queries, n,
           sqlite_path ? "sqlite" : "memory");
    printf("latency               p50 %.0f us, p90 %.0f us, p99 %.0f us, max %.0f us\n",
           lat[queries / 2], lat[queries * 9 / 10], lat[queries * 99 / 100], lat[queries - 1]);
    printf("cpu time              p50 %.0f us, p90 %.0f us, p99 %.0f us, max %.0f us (target p99 <= 100 us)\n",
           cpu[queries / 2], cpu[queries * 9 / 10], cpu[queries * 99 / 100], cpu[queries - 1]);
    printf("candidates            %.2f per query (merge or review)\n", (double)found / (double)queries);
    free(lat);
    free(cpu);
    patron_db_close(db);
    return 0;
}
