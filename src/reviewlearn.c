/* patron — the model learns from the merchant's decisions (issue 12,
 * point 4).  patron_db_estimate() calls patron__review_learn() with the
 * model it estimated: every decided case is a set of labelled pairs — a
 * case merged through the queue holds pairs of one person, a case marked
 * not_duplicate or household pairs of different people — with each field's
 * comparison level as the scan saw it (the case's explanation snapshot).
 *
 *  - m of each field and level: the estimate is a prior worth LEARN_K
 *    pairs, the labelled duplicates are counted on top of it
 *    (m = (count + K m_est) / (n + K), over the levels the field uses, so
 *    that the field's m still sums as before).  Duplicates that a merchant
 *    confirmed rarely disagree on a given name, say: that level weighs
 *    more against a pair than EM alone found.
 *  - the REVIEW threshold, once at least LEARN_MIN_EACH pairs of each kind
 *    that the scan scored in the REVIEW band are labelled (duplicates
 *    confirmed at MERGE level say nothing about where REVIEW should start):
 *    raised to the highest value that still keeps every such duplicate but
 *    one in fifty at REVIEW or above, if that drops labelled
 *    non-duplicates — never above the MERGE threshold, never lowered.
 * Scores of labelled pairs are recomputed from their levels under the
 * refined model (the prior and the level weights; the term-frequency
 * adjustment and the address floor of the scorer are not in the snapshot,
 * so they are left out alike for both kinds).
 * SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define LEARN_K 50.0
#define LEARN_MIN_EACH 20

typedef struct label {
    signed char level[PATRON__MF_COUNT]; /* -1: not in the snapshot */
    bool match;
    double score; /* as the scan scored it */
} label;

typedef struct labels {
    label *v;
    size_t n, cap;
    bool oom;
    patron_status st;
    patron_db *db;
} labels;

static int field_index(const char *name)
{
    for (int f = 0; f < PATRON__MF_COUNT; f++)
        if (strcmp(patron__match_field_name(f), name) == 0)
            return f;
    return -1;
}

static int level_index(const char *name)
{
    for (int l = 0; l < PATRON__ML_COUNT; l++) {
        const char *n = patron__match_level_name(l);
        if (n && strcmp(n, name) == 0)
            return l;
    }
    return -1;
}

static int take_labels(void *ctx, const char *key, const char *value)
{
    labels *ls = ctx;
    patron_case c;
    const char *digits = key + strlen(PATRON__REVIEW_CASE);
    long long id = strtoll(digits, NULL, 10);
    patron_status st = patron__case_decode(&c, id > 0 ? (int64_t)id : 1, value);
    bool match;
    if (st == PATRON_E_NOMEM) {
        ls->oom = true;
        return 1;
    }
    if (st) /* a corrupt case teaches nothing; reading it is refused elsewhere */
        return 0;
    if (c.state != PATRON_CASE_MERGED && !patron__case_suppresses(c.state)) {
        patron__case_clear(&c);
        return 0;
    }
    match = c.state == PATRON_CASE_MERGED;
    for (size_t i = 0; i < c.np; i++) {
        label lb;
        bool any = false;
        if (!c.p[i].nf)
            continue;
        memset(lb.level, -1, sizeof lb.level);
        lb.match = match;
        lb.score = c.p[i].score;
        for (size_t k = 0; k < c.p[i].nf; k++) {
            int f = field_index(c.p[i].f[k].name), l = level_index(c.p[i].f[k].level);
            if (f >= 0 && l >= 0) {
                lb.level[f] = (signed char)l;
                any = true;
            }
        }
        if (!any)
            continue;
        if (ls->n == ls->cap) {
            size_t nc = ls->cap ? ls->cap * 2 : 64;
            label *nv = patron__realloc(ls->v, nc * sizeof *nv);
            if (!nv) {
                ls->oom = true;
                break;
            }
            ls->v = nv;
            ls->cap = nc;
        }
        ls->v[ls->n++] = lb;
    }
    patron__case_clear(&c);
    return ls->oom;
}

static double label_score(const patron__match_config *cfg, const label *lb)
{
    double s = cfg->prior;
    for (int f = 0; f < PATRON__MF_COUNT; f++)
        if (lb->level[f] >= 0)
            s += cfg->weight[f][(int)lb->level[f]];
    return s;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

patron_status patron__review_learn(patron_db *db, patron__match_config *est, size_t *matches_out,
                                   size_t *distinct_out)
{
    labels ls;
    size_t nm = 0, nd = 0;
    double band_lo, band_hi;
    patron_status st;
    *matches_out = *distinct_out = 0;
    if (!patron__st_has(db, PATRON__CAP_META))
        return PATRON_OK;
    memset(&ls, 0, sizeof ls);
    ls.db = db;
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    st = patron__st_meta_scan(db, PATRON__REVIEW_CASE, take_labels, &ls);
    if (!st && ls.oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if ((st = patron__tx_end(db, st)) != 0) {
        patron__free(ls.v);
        return st;
    }
    for (size_t i = 0; i < ls.n; i++)
        nm += ls.v[i].match, nd += !ls.v[i].match;
    band_lo = est->review_score; /* the REVIEW band of the model the scans used */
    band_hi = est->merge_score;
    /* m from the labelled duplicates */
    for (int f = 0; f < PATRON__MF_COUNT && nm; f++) {
        double count[PATRON__ML_COUNT] = { 0 }, n = 0, mass = 0;
        for (int l = 0; l < PATRON__ML_COUNT; l++)
            if (est->m[f][l] > 0 && est->u[f][l] > 0)
                mass += est->m[f][l];
        if (mass <= 0)
            continue;
        for (size_t i = 0; i < ls.n; i++) {
            int l = ls.v[i].level[f];
            if (!ls.v[i].match || l < 0 || !(est->m[f][l] > 0 && est->u[f][l] > 0))
                continue; /* missing values say nothing */
            count[l] += 1;
            n += 1;
        }
        if (n == 0)
            continue;
        for (int l = 0; l < PATRON__ML_COUNT; l++) {
            double m;
            if (!(est->m[f][l] > 0 && est->u[f][l] > 0))
                continue;
            m = (count[l] + LEARN_K * est->m[f][l] / mass) / (n + LEARN_K) * mass;
            if (m < 1e-6)
                m = 1e-6;
            if (m > 1 - 1e-6)
                m = 1 - 1e-6;
            est->m[f][l] = m;
        }
    }
    patron__match_config_update(est);
    /* the REVIEW threshold, where both kinds are labelled often enough
     * among the pairs the scan put in the REVIEW band */
    {
        size_t bm = 0, bd = 0;
        double *ms = patron__malloc((nm ? nm : 1) * sizeof *ms);
        if (!ms) {
            patron__free(ls.v);
            return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < ls.n; i++) {
            bool band = ls.v[i].score >= band_lo && ls.v[i].score < band_hi;
            if (band && ls.v[i].match)
                ms[bm++] = label_score(est, &ls.v[i]);
            bd += band && !ls.v[i].match;
        }
        if (bm >= LEARN_MIN_EACH && bd >= LEARN_MIN_EACH) {
            double keep, p;
            size_t dropped = 0;
            qsort(ms, bm, sizeof *ms, cmp_double);
            keep = ms[bm / 50]; /* all but one in fifty stay at REVIEW or above */
            p = patron__match_probability(keep);
            for (size_t i = 0; i < ls.n; i++) {
                double sc = label_score(est, &ls.v[i]);
                dropped += !ls.v[i].match && ls.v[i].score >= band_lo && ls.v[i].score < band_hi && sc < keep &&
                           sc >= est->review_score;
            }
            if (dropped && p > est->review_threshold) {
                est->review_threshold = p < est->merge_threshold ? p : est->merge_threshold;
                patron__match_config_update(est);
            }
        }
        patron__free(ms);
    }
    patron__free(ls.v);
    *matches_out = nm;
    *distinct_out = nd;
    return PATRON_OK;
}

patron_status patron__review_learn_in_force(patron_db *db, const patron__match_config *cfg, bool dry_run,
                                            int *stored, size_t *matches_out, size_t *distinct_out)
{
    patron__match_config est = *cfg;
    patron_status st = patron__review_learn(db, &est, matches_out, distinct_out);
    *stored = 0;
    if (st || *matches_out + *distinct_out == 0 || dry_run)
        return st;
    if ((st = patron__match_config_save(db, &est, NULL)) == 0)
        *stored = 1;
    return st;
}
