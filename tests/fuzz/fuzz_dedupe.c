/* Fuzz target: matching and batch deduplication of customers built from
 * the input (fz_customer(): German names, spellings, mailboxes, addresses,
 * households; some raw).  Up to 10 customers are created (some registered
 * as pending, some locked, one maybe merged away), then every customer is
 * matched and the store deduplicated in both modes.  Invariants:
 *  - a customer is never its own candidate, a merged one never anyone's;
 *    candidates are sorted best first, decisions are never DISTINCT;
 *  - score = prior + the field weights + adjustment, probability =
 *    2^score / (1 + 2^score), and where no safety rule decided, the
 *    decision is what the probability says against the thresholds;
 *  - dedupe pairs are sorted with id_a < id_b, unique, of stored
 *    customers that are not merged; clusters are exactly the connected
 *    parts of the MERGE pairs, named by their smallest id, households
 *    those of MERGE and HOUSEHOLD pairs;
 *  - a pair that dedupe and match both judge has the same decision and
 *    (as a float) the same score either way round;
 *  - the JSON of the candidates is well-formed. */
#include "check.h"

#include <math.h>
#include <string.h>

#define MAXC 10

static size_t index_of(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return i;
    return n;
}

/* Union-find over the stored customers. */
static size_t find(size_t *parent, size_t i)
{
    while (parent[i] != i)
        i = parent[i] = parent[parent[i]];
    return i;
}

static void unite(size_t *parent, size_t a, size_t b)
{
    a = find(parent, a);
    b = find(parent, b);
    if (a != b)
        parent[a < b ? b : a] = a < b ? a : b;
}

typedef struct judged {
    int64_t a, b;
    double score;
    patron_decision d;
} judged;

static void check_matches(patron_db *db, const int64_t *ids, const int *merged, size_t n, size_t self,
                          const patron_customer *c, patron_match_mode mode, judged *seen, size_t *n_seen)
{
    patron_matches *m = NULL;
    patron_match_settings cfg = PATRON_MATCH_SETTINGS_INIT;
    char *json = NULL;
    double last = INFINITY;
    size_t nm;
    FZ_OK(patron_db_match_config_get(db, &cfg));
    FZ_OK(patron_db_match(db, &m, c, mode));
    nm = patron_matches_count(m);
    for (size_t i = 0; i < nm; i++) {
        int64_t id;
        double score, sum = 0;
        patron_decision d;
        patron_match_detail det = PATRON_MATCH_DETAIL_INIT;
        size_t k, nf = patron_matches_field_count(m);
        FZ_OK(patron_matches_get(m, &id, &score, &d, i));
        k = index_of(ids, n, id);
        FZ_CHECK(k < n, "candidate #%lld is a stored customer", (long long)id);
        FZ_CHECK(k != self, "a customer is not its own candidate");
        FZ_CHECK(!merged[k], "a merged customer is never a candidate");
        FZ_CHECK(d == PATRON_DECISION_MERGE || d == PATRON_DECISION_REVIEW || d == PATRON_DECISION_HOUSEHOLD,
                 "candidates judged distinct are left out (%d)", (int)d);
        FZ_CHECK(isfinite(score) && score <= last, "candidates are sorted best first");
        last = score;
        FZ_OK(patron_matches_detail(m, &det, i));
        FZ_CHECK(det.score == score && det.decision == d, "detail and get agree");
        for (size_t f = 0; f < nf; f++) {
            double wgt;
            patron_match_field_detail fd = PATRON_MATCH_FIELD_DETAIL_INIT;
            FZ_OK(patron_matches_explain(m, NULL, NULL, NULL, NULL, &wgt, i, f));
            FZ_OK(patron_matches_field_detail(m, &fd, i, f));
            FZ_CHECK(fd.weight == wgt && fd.field && fd.level && fd.value_a && fd.value_b,
                     "field detail and explain agree");
            FZ_CHECK(isfinite(wgt), "a finite weight");
            sum += wgt;
        }
        FZ_CHECK(patron_matches_explain(m, NULL, NULL, NULL, NULL, NULL, i, nf) == PATRON_E_RANGE,
                 "a field past the end is out of range");
        FZ_CHECK(fabs(det.prior + sum + det.adjustment - score) < 1e-6,
                 "score %.9g = prior %.9g + weights %.9g + adjustment %.9g", score, det.prior, sum,
                 det.adjustment);
        FZ_CHECK(fabs(det.probability - pow(2, score) / (1 + pow(2, score))) < 1e-9,
                 "probability from the score");
        FZ_CHECK(det.rule != NULL, "a rule string, \"\" when none");
        if (det.rule[0] == '\0' && fabs(det.probability - cfg.merge_probability) > 1e-9 &&
            fabs(det.probability - cfg.review_probability) > 1e-9)
            FZ_CHECK(d == (det.probability >= cfg.merge_probability ? PATRON_DECISION_MERGE
                                                                    : PATRON_DECISION_REVIEW),
                     "without a rule the probability %.6f decides (%d)", det.probability, (int)d);
        if (*n_seen < MAXC * MAXC) {
            judged *j = &seen[(*n_seen)++];
            j->a = ids[self];
            j->b = id;
            j->score = score;
            j->d = d;
        }
    }
    FZ_CHECK(patron_matches_get(m, NULL, NULL, NULL, nm) == PATRON_E_RANGE, "past the end is out of range");
    FZ_OK(patron_matches_to_json(m, &json, 0));
    FZ_CHECK(json_valid(json), "matches JSON is well-formed");
    FZ_CHECK(fz_utf8(json), "matches JSON is UTF-8");
    patron_free(json);
    patron_matches_free(m);
}

static void check_pairs(patron_db *db, const int64_t *ids, const int *merged, size_t n, patron_match_mode mode,
                        const judged *seen, size_t n_seen)
{
    patron_pairs *p = NULL;
    size_t np, parent[MAXC], hparent[MAXC];
    int in_merge[MAXC] = { 0 }, in_house[MAXC] = { 0 };
    int64_t la = 0, lb = 0;
    FZ_OK(patron_db_dedupe(db, &p, mode));
    np = patron_pairs_count(p);
    for (size_t i = 0; i < n; i++)
        parent[i] = hparent[i] = i;
    for (size_t i = 0; i < np; i++) {
        int64_t a, b;
        double s;
        patron_decision d;
        size_t ka, kb;
        FZ_OK(patron_pairs_get(p, &a, &b, &s, &d, i));
        ka = index_of(ids, n, a);
        kb = index_of(ids, n, b);
        FZ_CHECK(ka < n && kb < n, "pairs are of stored customers");
        FZ_CHECK(a < b, "id_a < id_b");
        FZ_CHECK(!merged[ka] && !merged[kb], "merged customers are left out");
        FZ_CHECK(i == 0 || a > la || (a == la && b > lb), "pairs sorted and unique");
        FZ_CHECK(d == PATRON_DECISION_MERGE || d == PATRON_DECISION_REVIEW || d == PATRON_DECISION_HOUSEHOLD,
                 "pairs are MERGE, REVIEW or HOUSEHOLD");
        FZ_CHECK(isfinite(s), "a finite score");
        la = a;
        lb = b;
        if (d == PATRON_DECISION_MERGE) {
            unite(parent, ka, kb);
            in_merge[ka] = in_merge[kb] = 1;
        }
        if (d == PATRON_DECISION_MERGE || d == PATRON_DECISION_HOUSEHOLD) {
            unite(hparent, ka, kb);
            in_house[ka] = in_house[kb] = 1;
        }
        /* the same pair through patron_db_match, either way round */
        for (size_t j = 0; j < n_seen; j++)
            if ((seen[j].a == a && seen[j].b == b) || (seen[j].a == b && seen[j].b == a)) {
                FZ_CHECK(seen[j].d == d, "dedupe and match agree on #%lld/#%lld: %d, %d", (long long)a,
                         (long long)b, (int)d, (int)seen[j].d);
                FZ_CHECK((float)seen[j].score == (float)s || fabs(seen[j].score - s) < 1e-4,
                         "dedupe and match score #%lld/#%lld alike: %.9g, %.9g", (long long)a,
                         (long long)b, s, seen[j].score);
            }
    }
    FZ_CHECK(patron_pairs_get(p, NULL, NULL, NULL, NULL, np) == PATRON_E_RANGE, "past the end");
    for (size_t i = 0; i < n; i++) {
        int64_t want = in_merge[i] ? ids[find(parent, i)] : 0;
        int64_t hwant = in_house[i] ? ids[find(hparent, i)] : 0;
        FZ_CHECK(patron_pairs_cluster(p, ids[i]) == want, "cluster of #%lld: %lld, want %lld",
                 (long long)ids[i], (long long)patron_pairs_cluster(p, ids[i]), (long long)want);
        FZ_CHECK(patron_pairs_household(p, ids[i]) == hwant, "household of #%lld: %lld, want %lld",
                 (long long)ids[i], (long long)patron_pairs_household(p, ids[i]), (long long)hwant);
    }
    FZ_CHECK(patron_pairs_cluster(p, 987654321) == 0, "an unknown id is in no cluster");
    patron_pairs_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    patron_db *db = NULL;
    int64_t ids[MAXC];
    int merged[MAXC] = { 0 };
    size_t n = 0;
    unsigned want;
    judged seen[MAXC * MAXC];
    size_t n_seen = 0;
    fz_init(&in, data, size);
    FZ_OK(patron_db_open_memory(&db, NULL));
    want = 2 + fz_pick(&in, MAXC - 1);
    for (unsigned i = 0; i < want && fz_left(&in); i++) {
        unsigned how = fz_u8(&in);
        patron_customer *c = fz_customer(&in);
        patron_status st = (how & 3) == 3 ? patron_db_register(db, NULL, c) : patron_db_create(db, c);
        if (st == PATRON_OK) {
            ids[n] = patron_customer_id(c);
            if (how & 4)
                FZ_OK(patron_db_lock(db, ids[n], "fuzz"));
            n++;
        }
        patron_customer_free(c);
    }
    /* merge the first two active customers, sometimes: merged ones drop out */
    if (n >= 2 && (fz_u8(&in) & 1)) {
        patron_merge_plan *plan = NULL;
        if (patron_merge_plan_new(db, &plan, ids[0], &ids[1], 1, PATRON_MERGE_SURVIVOR) == PATRON_OK) {
            (void)patron_merge_plan_take(plan, PATRON_F_LOGIN_USER, 0);
            if (patron_db_merge(db, NULL, plan) == PATRON_OK)
                merged[1] = 1;
        }
        patron_merge_plan_free(plan);
    }
    for (size_t i = 0; i < n; i++) {
        patron_customer *c = NULL;
        FZ_OK(patron_db_load(db, &c, ids[i]));
        FZ_CHECK((patron_customer_state(c) == PATRON_STATE_MERGED) == (merged[i] != 0), "merged as merged");
        if (merged[i]) {
            patron_customer_free(c);
            continue;
        }
        check_matches(db, ids, merged, n, i, c, PATRON_MATCH_FIELDS, seen, &n_seen);
        if (i < 2) { /* email mode: the first two suffice */
            judged skip[MAXC * MAXC];
            size_t ns = 0;
            check_matches(db, ids, merged, n, i, c, PATRON_MATCH_EMAIL, skip, &ns);
        }
        patron_customer_free(c);
    }
    check_pairs(db, ids, merged, n, PATRON_MATCH_FIELDS, seen, n_seen);
    check_pairs(db, ids, merged, n, PATRON_MATCH_EMAIL, NULL, 0);
    patron_db_close(db);
    return 0;
}
