/* The model learns from the merchant's decisions (issue 12, point 4).
 *
 *   bench_review CUSTOMERS.csv TRUTH.csv [LABELS]
 *
 * The customers (the generator's layout) go into two memory stores.  On the
 * first: estimate the model, measure, scan the review queue, and label the
 * LABELS (default 200) highest-scoring open REVIEW pairs by the truth file
 * the way a merchant does — the case of a true duplicate is merged through
 * the queue, the case of different people marked not_duplicate (a case
 * mixing both is left open) — then estimate again, which now learns from
 * those decisions.  The learnt model is copied into the second store (meta
 * keys patron.match.*), which holds the untouched customers, so that the
 * "after" figures measure the model alone, not the pairs the decisions
 * suppress or the records the merges removed.  Printed before and after:
 * MERGE recall (true pairs in one MERGE cluster), MERGE precision (raw
 * pairs), the review load (REVIEW pairs of different people per 1000
 * customers), REVIEW pairs of one person, and the open cases of a scan.
 * Exit status 1 when the review load did not go down.
 *
 * SPDX-License-Identifier: MIT */
#include <patron/memory.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvload.h"

typedef struct truth_row {
    char id[32];
    long person;
} truth_row;

static int cmp_truth(const void *x, const void *y)
{
    return strcmp(((const truth_row *)x)->id, ((const truth_row *)y)->id);
}

static truth_row *g_truth;
static size_t g_ntruth;

static void read_truth(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[256];
    size_t cap = 0;
    if (!fp) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    while (fgets(line, sizeof line, fp)) {
        char *comma = strchr(line, ',');
        if (!comma || strncmp(line, "id,", 3) == 0)
            continue;
        *comma = '\0';
        if (g_ntruth == cap) {
            cap = cap ? cap * 2 : 1024;
            g_truth = realloc(g_truth, cap * sizeof *g_truth);
            if (!g_truth)
                exit(2);
        }
        if (strlen(line) >= sizeof g_truth[0].id) {
            fprintf(stderr, "truth file: id too long: %.40s...\n", line);
            exit(2);
        }
        memcpy(g_truth[g_ntruth].id, line, strlen(line) + 1);
        g_truth[g_ntruth++].person = atol(comma + 1);
    }
    fclose(fp);
    qsort(g_truth, g_ntruth, sizeof *g_truth, cmp_truth);
}

static long person_of_ext(const char *ext)
{
    truth_row key, *r;
    snprintf(key.id, sizeof key.id, "%s", ext ? ext : "");
    r = bsearch(&key, g_truth, g_ntruth, sizeof *g_truth, cmp_truth);
    return r ? r->person : -1;
}

/* person[id] of every customer of a store (ids are 1..max) */
typedef struct people {
    long *person;
    int64_t max;
    size_t n;
} people;

static void read_people(patron_db *db, people *pp)
{
    int64_t ids[1024], after = 0;
    size_t n;
    memset(pp, 0, sizeof *pp);
    do {
        if (patron_db_list(db, ids, &n, 1024, NULL, after) != PATRON_OK)
            exit(2);
        for (size_t i = 0; i < n; i++) {
            patron_customer *c = NULL;
            if (ids[i] > pp->max) {
                pp->person = realloc(pp->person, (size_t)(ids[i] + 1) * sizeof *pp->person);
                for (int64_t k = pp->max + 1; k <= ids[i]; k++)
                    pp->person[k] = -1;
                pp->max = ids[i];
            }
            if (patron_db_load(db, &c, ids[i]) != PATRON_OK)
                exit(2);
            pp->person[ids[i]] = person_of_ext(patron_customer_get(c, PATRON_F_EXTERNAL_ID));
            patron_customer_free(c);
            pp->n++;
        }
        if (n)
            after = ids[n - 1];
    } while (n == 1024);
}

static bool same_person(const people *pp, int64_t a, int64_t b)
{
    return a <= pp->max && b <= pp->max && pp->person[a] >= 0 && pp->person[a] == pp->person[b];
}

typedef struct figures {
    double merge_recall, merge_precision, false_review_per_1000;
    size_t true_pairs, review_true, review_false, merge_pairs, open_cases;
} figures;

typedef struct pc {
    long person;
    int64_t cluster;
} pc;

static int cmp_pc(const void *x, const void *y)
{
    const pc *a = x, *b = y;
    if (a->person != b->person)
        return (a->person > b->person) - (a->person < b->person);
    return (a->cluster > b->cluster) - (a->cluster < b->cluster);
}

static figures measure(patron_db *db, const people *pp)
{
    figures f;
    patron_pairs *p = NULL;
    pc *v = malloc((pp->n + 1) * sizeof *v);
    size_t nv = 0, recalled = 0, merge_true = 0;
    patron_review_scan_stats st = PATRON_REVIEW_SCAN_STATS_INIT;
    patron_review_scan_options o = PATRON_REVIEW_SCAN_OPTIONS_INIT;
    memset(&f, 0, sizeof f);
    if (!v || patron_db_dedupe(db, &p, PATRON_MATCH_FIELDS) != PATRON_OK) {
        fprintf(stderr, "dedupe: %s\n", patron_db_errmsg(db));
        exit(2);
    }
    for (size_t i = 0; i < patron_pairs_count(p); i++) {
        int64_t a, b;
        patron_decision d;
        patron_pairs_get(p, &a, &b, NULL, &d, i);
        if (d == PATRON_DECISION_MERGE) {
            f.merge_pairs++;
            merge_true += same_person(pp, a, b);
        } else if (d == PATRON_DECISION_REVIEW) {
            if (same_person(pp, a, b))
                f.review_true++;
            else
                f.review_false++;
        }
    }
    for (int64_t id = 1; id <= pp->max; id++)
        if (pp->person[id] >= 0)
            v[nv++] = (pc){ pp->person[id], patron_pairs_cluster(p, id) };
    qsort(v, nv, sizeof *v, cmp_pc);
    for (size_t i = 0; i < nv;) {
        size_t j = i;
        while (j < nv && v[j].person == v[i].person)
            j++;
        f.true_pairs += (j - i) * (j - i - 1) / 2;
        for (size_t k = i; k < j;) {
            size_t l = k;
            while (l < j && v[l].cluster == v[k].cluster)
                l++;
            if (v[k].cluster)
                recalled += (l - k) * (l - k - 1) / 2;
            k = l;
        }
        i = j;
    }
    f.merge_recall = f.true_pairs ? (double)recalled / (double)f.true_pairs : 0;
    f.merge_precision = f.merge_pairs ? (double)merge_true / (double)f.merge_pairs : 0;
    f.false_review_per_1000 = pp->n ? 1000.0 * (double)f.review_false / (double)pp->n : 0;
    patron_pairs_free(p);
    free(v);
    o.flags = PATRON_REVIEW_SCAN_FULL;
    {
        double t = perf_now(), c = perf_cpu();
        if (patron_db_review_scan(db, &st, &o) != PATRON_OK) {
            fprintf(stderr, "scan: %s\n", patron_db_errmsg(db));
            exit(2);
        }
        printf("full scan of %zu customers: %.2f s (%.2f s CPU), %zu pairs, %zu open cases\n", st.customers,
               perf_now() - t, perf_cpu() - c, st.pairs, st.open);
    }
    f.open_cases = st.open;
    return f;
}

static void print_figures(const char *what, const figures *f)
{
    printf("%-7s MERGE recall %.4f  MERGE precision %.4f  review load %.2f false REVIEW pairs per 1000 "
           "(%zu false, %zu true REVIEW pairs)  open cases %zu\n",
           what, f->merge_recall, f->merge_precision, f->false_review_per_1000, f->review_false, f->review_true,
           f->open_cases);
}

typedef struct rpair {
    int64_t case_id, a, b;
    double score;
} rpair;

static int cmp_rpair(const void *x, const void *y)
{
    const rpair *a = x, *b = y;
    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    return (a->case_id > b->case_id) - (a->case_id < b->case_id);
}

typedef struct copy_ctx {
    const patron_store_ops *ops;
    void *ctx;
    int rc;
} copy_ctx;

static int copy_meta(void *ctx, const char *key, const char *value)
{
    copy_ctx *c = ctx;
    if (c->rc == 0)
        c->rc = c->ops->meta_put(c->ctx, key, value);
    return c->rc != 0;
}

static void estimate(patron_db *db, const char *what)
{
    patron_estimate_report r = PATRON_ESTIMATE_REPORT_INIT;
    patron_match_settings s = PATRON_MATCH_SETTINGS_INIT;
    if (patron_db_estimate(db, &r, NULL) != PATRON_OK) {
        fprintf(stderr, "estimate: %s\n", patron_db_errmsg(db));
        exit(2);
    }
    patron_db_match_config_get(db, &s);
    printf("%s: %s (review at p >= %.4f)\n", what, r.message, s.review_probability);
}

int main(int argc, char **argv)
{
    patron_memstore *ms[2] = { NULL, NULL };
    patron_db *db[2] = { NULL, NULL };
    people pp[2];
    long refused;
    size_t want = argc > 3 ? (size_t)atol(argv[3]) : 200;
    figures before, after;
    patron_cases *l = NULL;
    rpair *rp = NULL;
    size_t nrp = 0, cap = 0, labelled_true = 0, labelled_false = 0, merged = 0, distinct = 0, nlab = 0;
    double t0 = perf_now();
    if (argc < 3) {
        fprintf(stderr, "usage: bench_review CUSTOMERS.csv TRUTH.csv [LABELS]\n");
        return 2;
    }
    read_truth(argv[2]);
    for (int k = 0; k < 2; k++) {
        if (patron_memstore_new(&ms[k]) != PATRON_OK || patron_db_open_memory(&db[k], ms[k]) != PATRON_OK)
            return 2;
        if (perf_load(db[k], argv[1], &refused) < 0)
            return 2;
        read_people(db[k], &pp[k]);
    }
    printf("%zu customers (%ld rows refused)\n", pp[0].n, refused);
    estimate(db[0], "estimate");
    before = measure(db[0], &pp[0]);
    print_figures("before", &before);

    /* the highest-scoring open REVIEW pairs of the queue, decided as the
     * truth says; a case of one person's records and somebody else's: the
     * person's records are merged, and the rest comes back in the next
     * scan beside the survivor, to be decided then */
    for (int round = 0; round < 8 && nlab < want; round++) {
        patron_review_scan_stats sst = PATRON_REVIEW_SCAN_STATS_INIT;
        nrp = 0;
        if (patron_db_review_list(db[0], &l, PATRON_REVIEW_STATE(PATRON_CASE_OPEN)) != PATRON_OK)
            return 2;
        for (size_t i = 0; i < patron_cases_count(l); i++) {
            const patron_case *c = patron_cases_at(l, i);
            for (size_t k = 0; k < patron_case_pair_count(c); k++) {
                rpair r;
                patron_decision d;
                patron_case_pair(c, &r.a, &r.b, &r.score, &d, k);
                if (d != PATRON_DECISION_REVIEW)
                    continue;
                r.case_id = patron_case_id(c);
                if (nrp == cap) {
                    cap = cap ? cap * 2 : 256;
                    rp = realloc(rp, cap * sizeof *rp);
                    if (!rp)
                        return 2;
                }
                rp[nrp++] = r;
            }
        }
        patron_cases_free(l);
        l = NULL;
        qsort(rp, nrp, sizeof *rp, cmp_rpair);
        for (size_t i = 0; i < nrp && nlab < want; i++) {
            patron_case *c = NULL;
            size_t n;
            int64_t grp[64];
            size_t ng = 0;
            if (patron_db_review_get(db[0], &c, rp[i].case_id) != PATRON_OK)
                return 2;
            if (patron_case_state_of(c) != PATRON_CASE_OPEN) { /* decided with an earlier pair */
                patron_case_free(c);
                continue;
            }
            n = patron_case_member_count(c);
            /* the members of the same person as one end of the pair */
            for (int side = 0; side < 2 && ng < 2; side++) {
                int64_t who = side ? rp[i].b : rp[i].a;
                ng = 0;
                for (size_t x = 0; x < n && ng < 64; x++) {
                    int64_t m;
                    patron_case_member(c, &m, x);
                    if (m == who || same_person(&pp[0], m, who))
                        grp[ng++] = m;
                }
            }
            if (ng < 2) {
                bool none_same = true;
                for (size_t x = 0; x < n; x++)
                    for (size_t y = x + 1; y < n; y++) {
                        int64_t a, b;
                        patron_case_member(c, &a, x);
                        patron_case_member(c, &b, y);
                        none_same &= !same_person(&pp[0], a, b);
                    }
                if (!none_same) { /* the pair's ends are single, others are one person */
                    for (size_t x = 0; x < n && ng < 2; x++) {
                        int64_t a;
                        patron_case_member(c, &a, x);
                        ng = 0;
                        for (size_t y = 0; y < n && ng < 64; y++) {
                            int64_t b;
                            patron_case_member(c, &b, y);
                            if (a == b || same_person(&pp[0], a, b))
                                grp[ng++] = b;
                        }
                    }
                }
            }
            if (ng >= 2) {
                patron_merge_plan *plan = NULL;
                if (ng == n) {
                    plan = NULL;
                } else if (patron_merge_plan_new(db[0], &plan, grp[0], grp + 1, ng - 1, PATRON_MERGE_SURVIVOR) !=
                           PATRON_OK) {
                    fprintf(stderr, "plan: %s\n", patron_db_errmsg(db[0]));
                    return 2;
                }
                if (patron_db_review_merge(db[0], NULL, rp[i].case_id, plan, "bench") == PATRON_OK)
                    merged++;
                else
                    fprintf(stderr, "case %lld not merged: %s\n", (long long)rp[i].case_id,
                            patron_db_errmsg(db[0]));
                patron_merge_plan_free(plan);
                if (same_person(&pp[0], rp[i].a, rp[i].b)) {
                    nlab++;
                    labelled_true++;
                }
            } else {
                if (patron_db_review_decide(db[0], rp[i].case_id, PATRON_CASE_NOT_DUPLICATE, "bench", NULL) !=
                    PATRON_OK)
                    return 2;
                distinct++;
                nlab++;
                labelled_false++;
            }
            patron_case_free(c);
        }
        if (patron_db_review_scan(db[0], &sst, NULL) != PATRON_OK)
            return 2;
    }
    printf("labelled %zu REVIEW pairs (%zu duplicates, %zu not): %zu merges through the queue, %zu cases not "
           "duplicates\n",
           nlab, labelled_true, labelled_false, merged, distinct);
    estimate(db[0], "re-estimate");
    /* the learnt model into the untouched copy */
    {
        patron_store_ops o0 = PATRON_STORE_OPS_INIT, o1 = PATRON_STORE_OPS_INIT;
        void *c0 = NULL, *c1 = NULL;
        copy_ctx cc;
        if (patron_memstore_ops(&o0, &c0, ms[0]) != PATRON_OK || patron_memstore_ops(&o1, &c1, ms[1]) != PATRON_OK)
            return 2;
        cc.ops = &o1;
        cc.ctx = c1;
        cc.rc = 0;
        if (o0.begin(c0) || o1.begin(c1) || o0.meta_scan(c0, "patron.match", copy_meta, &cc) || cc.rc ||
            o1.commit(c1) || o0.commit(c0))
            return 2;
        o0.destroy(c0);
        o1.destroy(c1);
    }
    after = measure(db[1], &pp[1]);
    print_figures("before", &before);
    print_figures("after", &after);
    printf("review load %.2f -> %.2f per 1000 customers; MERGE recall %.4f -> %.4f (%.1f s)\n",
           before.false_review_per_1000, after.false_review_per_1000, before.merge_recall, after.merge_recall,
           perf_now() - t0);
    patron_cases_free(l);
    free(rp);
    for (int k = 0; k < 2; k++) {
        patron_db_close(db[k]);
        patron_memstore_free(ms[k]);
        free(pp[k].person);
    }
    free(g_truth);
    return after.false_review_per_1000 < before.false_review_per_1000 ? 0 : 1;
}
