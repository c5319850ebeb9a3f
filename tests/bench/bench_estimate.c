/* Benchmark: patron_db_estimate() on a generated customer file (issue 11).
 *
 *   bench_estimate CUSTOMERS.csv
 *
 * Loads the file into the memory store, estimates the matcher's model from
 * it (stored in the store), prints wall and CPU time, peak memory and the
 * estimate's report, then the batch dedupe with the estimated model. */
#include "csvload.h"

int main(int argc, char **argv)
{
    patron_db *db;
    patron_pairs *p;
    patron_estimate_report r = PATRON_ESTIMATE_REPORT_INIT;
    long n, refused;
    double t0, c0, t_load, t_est, c_est, t_dd;
    size_t merges = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: bench_estimate CUSTOMERS.csv\n");
        return 2;
    }
    if (patron_db_open_memory(&db, NULL) != PATRON_OK)
        return 1;
    t0 = perf_now();
    n = perf_load(db, argv[1], &refused);
    t_load = perf_now() - t0;
    if (n < 0)
        return 1;
    t0 = perf_now();
    c0 = perf_cpu();
    if (patron_db_estimate(db, &r, NULL) != PATRON_OK) {
        fprintf(stderr, "estimate: %s\n", patron_db_errmsg(db));
        return 1;
    }
    t_est = perf_now() - t0;
    c_est = perf_cpu() - c0;
    printf("customers loaded      %ld (%ld refused) in %.2f s\n", n, refused, t_load);
    printf("patron_db_estimate    %.2f s wall, %.2f s cpu for %ld customers (%zu candidate pairs, "
           "%zu random pairs, %d iterations)\n",
           t_est, c_est, n, r.candidate_pairs, r.random_pairs, r.iterations);
    printf("estimate report       %s\n", r.message);
    printf("peak memory           %.0f MiB after the estimate, store included\n", perf_peak_mib());
    t0 = perf_now();
    if (patron_db_dedupe(db, &p, PATRON_MATCH_FIELDS) != PATRON_OK) {
        fprintf(stderr, "dedupe: %s\n", patron_db_errmsg(db));
        return 1;
    }
    t_dd = perf_now() - t0;
    for (size_t i = 0; i < patron_pairs_count(p); i++) {
        patron_decision d = PATRON_DECISION_DISTINCT;
        patron_pairs_get(p, NULL, NULL, NULL, &d, i);
        merges += d == PATRON_DECISION_MERGE;
    }
    printf("dedupe, estimated     %.2f s wall, %zu pairs (%zu merge)\n", t_dd, patron_pairs_count(p), merges);
    patron_pairs_free(p);
    patron_db_close(db);
    return 0;
}
