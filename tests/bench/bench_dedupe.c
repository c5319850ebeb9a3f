/* Benchmark: batch deduplication of a generated customer file.
 *
 *   bench_dedupe CUSTOMERS.csv [TRUTH.csv]
 *
 * Loads the file into the memory store, runs patron_db_dedupe, prints the
 * figures (load rate, dedupe wall time, peak memory), and writes the pairs
 * as id_a,id_b,score,decision to $BENCH_PAIRS if set (for score_pairs.py).
 * Targets (issue 4): about 1 000 000 customers in <= 20 s wall on 2 cores,
 * peak memory <= 2 GB. */
#include "csvload.h"

/* Resident memory now, in MiB (Linux), or -1: the store's share of the
 * peak is what is resident when the dedupe starts. */
static double rss_mib(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    double kib = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atof(line + 6);
    if (fp)
        fclose(fp);
    return kib < 0 ? -1 : kib / 1024.0;
}

int main(int argc, char **argv)
{
    patron_db *db;
    patron_pairs *p;
    long n, refused;
    double t0, t_load, t_dedupe, c0, c_dedupe, rss0;
    size_t merges = 0;
    const char *out = getenv("BENCH_PAIRS");
    if (argc < 2) {
        fprintf(stderr, "usage: bench_dedupe CUSTOMERS.csv\n");
        return 2;
    }
    if (patron_db_open_memory(&db, NULL) != PATRON_OK)
        return 1;
    t0 = perf_now();
    n = perf_load(db, argv[1], &refused);
    t_load = perf_now() - t0;
    if (n < 0)
        return 1;
    rss0 = rss_mib();
    t0 = perf_now();
    c0 = perf_cpu();
    if (patron_db_dedupe(db, &p, PATRON_MATCH_FIELDS) != PATRON_OK) {
        fprintf(stderr, "dedupe: %s\n", patron_db_errmsg(db));
        return 1;
    }
    t_dedupe = perf_now() - t0;
    c_dedupe = perf_cpu() - c0;
    for (size_t i = 0; i < patron_pairs_count(p); i++) {
        patron_decision d = PATRON_DECISION_DISTINCT;
        patron_pairs_get(p, NULL, NULL, NULL, &d, i);
        merges += d == PATRON_DECISION_MERGE;
    }
    printf("customers loaded      %ld (%ld refused) in %.2f s, %.0f per second\n", n, refused, t_load,
           n / t_load);
    printf("batch dedupe          %.2f s wall for %ld customers (target <= 20 s for 1 000 000)\n",
           t_dedupe, n);
    printf("batch dedupe cpu      %.2f s (all threads of the process; steadier than wall on a busy machine)\n",
           c_dedupe);
    printf("pairs                 %zu (%zu merge, %zu review)\n", patron_pairs_count(p), merges,
           patron_pairs_count(p) - merges);
    printf("peak memory           %.0f MiB (target <= 2048 MiB), store included\n", perf_peak_mib());
    printf("resident before       %.0f MiB (the loaded store, before patron_db_dedupe)\n", rss0);
    if (out) {
        FILE *fp = fopen(out, "w");
        if (!fp)
            return 1;
        fprintf(fp, "id_a,id_b,score,decision\n");
        for (size_t i = 0; i < patron_pairs_count(p); i++) {
            int64_t a, b;
            double s;
            patron_decision d;
            patron_customer *ca, *cb;
            patron_pairs_get(p, &a, &b, &s, &d, i);
            patron_db_load(db, &ca, a);
            patron_db_load(db, &cb, b);
            fprintf(fp, "%s,%s,%.2f,%s\n", patron_customer_get(ca, PATRON_F_EXTERNAL_ID),
                    patron_customer_get(cb, PATRON_F_EXTERNAL_ID), s, patron_decision_name(d));
            patron_customer_free(ca);
            patron_customer_free(cb);
        }
        fclose(fp);
    }
    patron_pairs_free(p);
    patron_db_close(db);
    return 0;
}
