/* patron — patron_db_estimate(): the matcher's model from the store's own
 * customers (issue 11, point 3).  SPDX-License-Identifier: MIT
 *
 * Splink's recipe on patron's scorer:
 *  - the active customers are read and normalised once;
 *  - u of every field and level from random pairs (deterministic seed);
 *  - m by EM (match/estimate.c) in two passes over candidate pairs:
 *      A: pairs with the same given name and last name (exact, after
 *         normalisation): m of the names is not estimated there;
 *      B: pairs sharing a birth date + postal code key: m of the birth
 *         date and the postal code is not estimated there;
 *    the fields a pass blocks on are left out of its EM (they agree in
 *    every pair of it); a field estimated in both passes gets the mean of
 *    the two, one that neither pass estimates keeps the defaults' m.
 *    Not blocking on the address is deliberate: pairs sharing an address
 *    are mostly households (one last name, one landline, one mailbox), and
 *    EM over them takes the household for the match class - it learnt
 *    that one person's records mostly differ in the given name.  Besides,
 *    the match class must agree on the names at least EST_PERSON_AGREE_MIN
 *    and on the birth date at least EST_BIRTH_AGREE_MIN of the time
 *    (patron__est_input.m_agree_min): father and son of one name at one
 *    address and phone would otherwise teach it that birth dates differ;
 *  - the levels are the scorer's own (patron__match_score_tf, no term
 *    frequencies), so the estimate is of exactly what the scorer weighs;
 *  - the prior becomes the share of matches among random pairs (u is of
 *    random pairs now): the matches EM finds in a pass divided by the share
 *    of all matches the pass can see (Splink's recall correction), and the
 *    ceilings on name + address and on the address move with it, so that
 *    name and address alone reach the same probability as before.
 * A pass with too few pairs (a store without birth dates has no pairs in
 * B) is left out; a pass that does not converge or cannot tell the classes
 * apart keeps the model in force: nothing is stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "match/estimate.h"

#define EST_BLOCK_MAX 50          /* larger blocks say little and cost much */
#define EST_PAIRS_MAX 4000000u    /* candidate pairs per pass */
#define EST_RANDOM_DEFAULT 100000u
/* the match class agrees on given name, last name and birth date at least
 * this often (see patron__est_input.m_agree_min) */
#define EST_PERSON_AGREE_MIN 0.7
#define EST_BIRTH_AGREE_MIN 0.9
/* The guard (guard_check): at most this many of the matcher's candidate
 * pairs are scored under the defaults and under the estimate ... */
#define EST_GUARD_PAIRS 300000u
/* ... and the estimate may turn at most this share of the defaults' MERGE
 * pairs into something else (most become REVIEW: a merchant still sees
 * them) ... */
#define EST_GUARD_LOST_SHARE 0.025
/* ... and at most this share (of the defaults' MERGE pairs) of other pairs
 * into MERGE (merged with nobody looking: the stricter bound) ... */
#define EST_GUARD_GAINED_SHARE 0.01
/* ... and at most this share of their MERGE or REVIEW pairs into DISTINCT
 * or HOUSEHOLD (a merchant would no longer see them) ... */
#define EST_GUARD_ANY_SHARE 0.15
/* ... plus this many pairs of each kind, so that one pair of a tiny store
 * is no share */
#define EST_GUARD_SLACK 2

typedef struct est_recs {
    patron__match_rec *r;
    size_t n, cap;
} est_recs;

static double now_s(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void recs_free(est_recs *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        patron__match_rec_free(&rs->r[i]);
    patron__free(rs->r);
    memset(rs, 0, sizeof *rs);
}

/* Every active customer, normalised. */
static patron_status read_active(patron_db *db, const patron__match_config *cfg, est_recs *rs)
{
    static const patron_filter all = PATRON_FILTER_INIT;
    patron__idpage *page = patron__malloc(sizeof *page);
    int64_t after = 0;
    patron_status st = page ? PATRON_OK : patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    while (!st) {
        page->n = 0;
        if ((st = patron__st_scan(db, &all, after, PATRON__IDPAGE, patron__idpage_emit, page)) != 0)
            break;
        for (size_t i = 0; i < page->n && !st; i++) {
            patron_customer *c = NULL;
            if ((st = patron__load_in_tx(db, &c, page->ids[i])) != 0)
                break;
            if (patron_customer_state(c) == PATRON_STATE_ACTIVE) {
                if (rs->n == rs->cap) {
                    size_t nc = rs->cap ? rs->cap * 2 : 1024;
                    patron__match_rec *nr = patron__realloc(rs->r, nc * sizeof *nr);
                    if (!nr)
                        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                    else
                        rs->r = nr, rs->cap = nc;
                }
                if (!st && patron__cust_match_rec_cfg(&rs->r[rs->n], c, cfg) != 0)
                    st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                if (!st)
                    rs->n++;
            }
            patron_customer_free(c);
        }
        if (page->n < PATRON__IDPAGE)
            break;
        after = page->ids[page->n - 1];
    }
    patron__free(page);
    return st;
}

/* ---- fields and levels as the estimator sees them ----------------------- */

typedef struct est_map {
    size_t n_fields;
    int field[PATRON__EST_FIELDS_MAX];                      /* estimator field -> patron__match_field */
    uint8_t level[PATRON__MF_COUNT][PATRON__ML_COUNT];     /* scorer level -> estimator level */
    int back[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX]; /* estimator level -> scorer level */
    uint8_t n_levels[PATRON__EST_FIELDS_MAX];
} est_map;

/* The levels a field uses are those the defaults give a weight. */
static void map_build(est_map *mp, const patron__match_config *d)
{
    memset(mp, 0, sizeof *mp);
    for (int f = 0; f < PATRON__MF_COUNT; f++) {
        uint8_t n = 0;
        int idx = (int)mp->n_fields;
        for (int l = 0; l < PATRON__ML_COUNT; l++)
            mp->level[f][l] = PATRON__EST_MISSING;
        for (int l = PATRON__ML_EXACT; l < PATRON__ML_COUNT && idx < PATRON__EST_FIELDS_MAX; l++)
            if (d->m[f][l] > 0 && d->u[f][l] > 0 && n < PATRON__EST_LEVELS_MAX) {
                mp->level[f][l] = n;
                mp->back[idx][n] = l;
                n++;
            }
        if (n < 2 || idx >= PATRON__EST_FIELDS_MAX) {
            for (int l = 0; l < PATRON__ML_COUNT; l++)
                mp->level[f][l] = PATRON__EST_MISSING;
            continue;
        }
        mp->field[idx] = f;
        mp->n_levels[idx] = n;
        mp->n_fields++;
    }
}

static void vector_of(uint8_t *v, const est_map *mp, const patron__match_rec *a, const patron__match_rec *b,
                      const patron__match_config *cfg)
{
    patron__match_result res;
    patron__match_score_tf(&res, a, b, cfg, NULL);
    for (size_t k = 0; k < mp->n_fields; k++) {
        int f = mp->field[k];
        int l = res.field[f].level;
        v[k] = (l >= 0 && l < PATRON__ML_COUNT) ? mp->level[f][l] : PATRON__EST_MISSING;
    }
}

/* ---- candidate pairs of one pass ------------------------------------------ */

typedef struct kent {
    uint64_t h;
    uint32_t i;
} kent;

static int cmp_kent(const void *x, const void *y)
{
    const kent *a = x, *b = y;
    if (a->h != b->h)
        return a->h < b->h ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static uint64_t key_hash(int kind, const char *v)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(unsigned)kind;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The estimator's own key: given name and last name, both exact after
 * normalisation (not a blocking key of the matcher) */
#define EST_KEY_FULL_NAME 0
/* every blocking key of the matcher (the validation pairs of the guard) */
#define EST_KEY_ALL (-1)

/* Pairs (i < j, packed i << 32 | j) sharing a key of kind `kind`, distinct. */
static bool pass_pairs(const est_recs *rs, const patron__match_config *cfg, int kind, size_t max_pairs, uint64_t **out,
                       size_t *n_out, double *share)
{
    double all_pairs = 0, taken = 0;
    patron__match_key *keys = patron__malloc(PATRON__MATCH_KEYS_MAX * sizeof *keys);
    kent *ent = NULL;
    uint64_t *pairs = NULL;
    size_t ne = 0, cape = 0, np = 0, capp = 0;
    bool ok = keys != NULL;
    for (size_t i = 0; ok && i < rs->n; i++) {
        size_t nk;
        if (kind == EST_KEY_FULL_NAME) {
            const patron__match_rec *r = &rs->r[i];
            nk = 0;
            if (r->first[0] && r->last[0] && !r->first_initials) {
                snprintf(keys[0].value, sizeof keys[0].value, "%s|%s", r->first, r->last);
                keys[0].kind = kind;
                nk = 1;
            }
        } else {
            nk = patron__match_keys(keys, PATRON__MATCH_KEYS_MAX, &rs->r[i], cfg);
        }
        for (size_t k = 0; ok && k < nk; k++) {
            if (kind != EST_KEY_ALL && keys[k].kind != kind)
                continue;
            if (ne == cape) {
                size_t nc = cape ? cape * 2 : 4096;
                kent *ne2 = patron__realloc(ent, nc * sizeof *ne2);
                if (!ne2) {
                    ok = false;
                    break;
                }
                ent = ne2, cape = nc;
            }
            ent[ne].h = key_hash(keys[k].kind, keys[k].value);
            ent[ne++].i = (uint32_t)i;
        }
    }
    if (ok && ne)
        qsort(ent, ne, sizeof *ent, cmp_kent);
    for (size_t s = 0; ok && s < ne;) {
        size_t e = s + 1;
        while (e < ne && ent[e].h == ent[s].h)
            e++;
        if (e - s <= EST_BLOCK_MAX)
            all_pairs += (double)(e - s) * (double)(e - s - 1) / 2;
        if (e - s <= EST_BLOCK_MAX)
            for (size_t x = s; ok && x < e; x++)
                for (size_t y = x + 1; ok && y < e && np < max_pairs; y++) {
                    if (ent[x].i == ent[y].i)
                        continue;
                    if (np == capp) {
                        size_t nc = capp ? capp * 2 : 4096;
                        uint64_t *p2 = patron__realloc(pairs, nc * sizeof *p2);
                        if (!p2) {
                            ok = false;
                            break;
                        }
                        pairs = p2, capp = nc;
                    }
                    pairs[np++] = (uint64_t)ent[x].i << 32 | ent[y].i;
                    taken++;
                }
        s = e;
    }
    if (ok && np) {
        size_t w = 1;
        qsort(pairs, np, sizeof *pairs, cmp_u64);
        for (size_t r = 1; r < np; r++)
            if (pairs[r] != pairs[w - 1])
                pairs[w++] = pairs[r];
        np = w;
    }
    patron__free(keys);
    patron__free(ent);
    if (!ok) {
        patron__free(pairs);
        return false;
    }
    *out = pairs;
    *n_out = np;
    /* the share of the pass's pairs taken: below 1 when EST_PAIRS_MAX cut
     * it (the blocks come in the order of their key's hash, a sample) */
    *share = all_pairs > 0 ? taken / all_pairs : 1;
    return true;
}

static uint64_t next_rand(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ---- the guard ----------------------------------------------------------- */

static double lerp_log(double a, double b, double t)
{
    if (t >= 1)
        return b;
    if (t <= 0)
        return a;
    return patron__match_exp2((1 - t) * patron__match_log2(a) + t * patron__match_log2(b));
}

/* The model a share t of the way from the built-in defaults (t = 0) to the
 * estimate `full` (t = 1): log m and log u of every estimated level and the
 * prior's log-odds move by t of their change, so every weight log2(m/u)
 * and the prior do.  Everything else is the model in force's (thresholds,
 * identifiers).  with_shifts: the ceilings in bits moved with the prior,
 * as patron_db_estimate() stores them and the store loads them. */
static void candidate(patron__match_config *out, const patron__match_config *cfg, const patron__match_config *full,
                      const est_map *mp, double t, int with_shifts)
{
    patron__match_config d;
    double lo;
    patron__match_config_default(&d);
    *out = *cfg;
    for (size_t k = 0; k < mp->n_fields; k++) {
        int f = mp->field[k];
        for (uint8_t j = 0; j < mp->n_levels[k]; j++) {
            int l = mp->back[k][j];
            out->m[f][l] = lerp_log(d.m[f][l], full->m[f][l], t);
            out->u[f][l] = lerp_log(d.u[f][l], full->u[f][l], t);
        }
    }
    if (t >= 1) {
        out->lambda = full->lambda;
    } else {
        lo = (1 - t) * patron__match_log2(d.lambda / (1 - d.lambda)) +
             t * patron__match_log2(full->lambda / (1 - full->lambda));
        lo = patron__match_exp2(lo);
        out->lambda = lo / (1 + lo);
    }
    patron__match_config_update(out);
    if (with_shifts) {
        double shift = cfg->prior - out->prior;
        if (out->name_address_max > 0)
            out->name_address_max += shift;
        out->address_max_shift += shift;
        if (out->address_max > 0)
            out->address_max += shift;
        if (out->full_name_max > 0)
            out->full_name_max += shift;
    }
}

typedef struct guard_stats {
    size_t merges;  /* the defaults' MERGE pairs */
    size_t any;     /* ... MERGE or REVIEW pairs */
    size_t lost;    /* MERGE under the defaults, not under the estimate */
    size_t gained;  /* MERGE under the estimate, not under the defaults */
    size_t dropped; /* MERGE or REVIEW under the defaults, neither under the estimate */
    int pass;
} guard_stats;

/* Life events break the model's assumption that the fields are independent
 * given the class: among one person's records a move makes every address
 * field and the landline disagree together, a marriage the last name;
 * among two people's a household shares last name, address, phone and
 * mailbox.  EM then learns weights that fit the dependence, not identity
 * (on a life-event set: a differing mailbox -1.2 instead of -5.6, an
 * initial for a given name +6.9 instead of +1.6, the prior 9.7 bits lower).
 * A likelihood cannot show it - the misfit model explains the data better -
 * but the decisions can: the estimate must keep nearly all of the
 * defaults' decisions on the matcher's candidate pairs and may only move
 * the few near a threshold.  An estimate that would change many of them
 * is one a merchant could not check on data nobody labelled. */
static void guard_check(guard_stats *g, const est_recs *rs, const uint64_t *pairs, const uint8_t *base, size_t n,
                        const patron__match_config *cfg)
{
    memset(g, 0, sizeof *g);
    for (size_t p = 0; p < n; p++) {
        patron__match_result res;
        int e = patron__match_score_tf(&res, &rs->r[pairs[p] >> 32], &rs->r[pairs[p] & 0xffffffffu], cfg, NULL);
        int bm = base[p] == PATRON__MATCH_MERGE, em = e == PATRON__MATCH_MERGE;
        int ba = bm || base[p] == PATRON__MATCH_REVIEW, ea = em || e == PATRON__MATCH_REVIEW;
        g->merges += (size_t)bm;
        g->any += (size_t)ba;
        g->lost += (size_t)(bm && !em);
        g->gained += (size_t)(!bm && em);
        g->dropped += (size_t)(ba && !ea);
    }
    g->pass = (double)g->lost <= EST_GUARD_LOST_SHARE * (double)g->merges + EST_GUARD_SLACK &&
              (double)g->gained <= EST_GUARD_GAINED_SHARE * (double)g->merges + EST_GUARD_SLACK &&
              (double)g->dropped <= EST_GUARD_ANY_SHARE * (double)g->any + EST_GUARD_SLACK;
}

/* ---- one EM pass ----------------------------------------------------------- */

static int run_pass(patron__est_result *res, const est_map *mp, const patron__match_config *d,
                    const uint8_t *vec, size_t n, const uint8_t *rvec, size_t nr, const int *blocked, int max_iter)
{
    patron__est_input in;
    patron__est_input_init(&in);
    in.n_fields = mp->n_fields;
    for (size_t k = 0; k < mp->n_fields; k++) {
        int f = mp->field[k];
        double msum = 0, usum = 0;
        in.n_levels[k] = mp->n_levels[k];
        in.estimate_m[k] = !blocked[f];
        /* one person's two records mostly agree on the names and the
         * birth date: keeps EM from taking households (or father and son)
         * for matches */
        if (f == PATRON__MF_FIRST || f == PATRON__MF_LAST)
            in.m_agree_min[k] = EST_PERSON_AGREE_MIN;
        else if (f == PATRON__MF_BIRTH)
            in.m_agree_min[k] = EST_BIRTH_AGREE_MIN;
        for (uint8_t j = 0; j < mp->n_levels[k]; j++) {
            int l = mp->back[k][j];
            in.agree[k][j] = l != PATRON__ML_DIFFERENT;
            msum += d->m[f][l];
            usum += d->u[f][l];
        }
        /* the defaults of a field as distributions over its levels */
        for (uint8_t j = 0; j < mp->n_levels[k]; j++) {
            int l = mp->back[k][j];
            in.m0[k][j] = d->m[f][l] / msum;
            in.u0[k][j] = d->u[f][l] / usum;
        }
    }
    in.lambda0 = d->lambda;
    in.vectors = vec;
    in.n_pairs = n;
    in.random_vectors = rvec;
    in.n_random = nr;
    if (max_iter > 0)
        in.max_iter = max_iter;
    return patron__est_run(res, &in);
}

static void fill_vectors(uint8_t *v, const est_map *mp, const est_recs *rs, const uint64_t *pairs, size_t n,
                         const patron__match_config *cfg)
{
    for (size_t p = 0; p < n; p++)
        vector_of(v + p * mp->n_fields, mp, &rs->r[pairs[p] >> 32], &rs->r[pairs[p] & 0xffffffffu], cfg);
}

patron_status patron_db_estimate(patron_db *db, patron_estimate_report *out, const patron_estimate_options *opts)
{
    static const patron_estimate_options defaults = PATRON_ESTIMATE_OPTIONS_INIT;
    patron_estimate_report rep;
    patron__match_config cfg, d, est, full;
    uint64_t *gpairs = NULL;
    uint8_t *gdec = NULL;
    size_t ngpairs = 0;
    double gshare = 1, shrink = 1;
    guard_stats gs = { 0, 0, 0, 0, 0, 0 };
    est_map mp;
    est_recs rs = { NULL, 0, 0 };
    uint64_t *pairs[2] = { NULL, NULL }, seed;
    size_t npairs[2] = { 0, 0 }, nrand = 0;
    uint8_t *vec[2] = { NULL, NULL }, *rvec = NULL;
    patron__est_result *res = NULL;
    patron_status st;
    double t0 = now_s();
    char why[200] = "";
    int blocked[2][PATRON__MF_COUNT], skipped[2] = { 0, 0 };
    double present[PATRON__EST_FIELDS_MAX] = { 0 }, share[2] = { 1, 1 };
    static const int pass_kind[2] = { EST_KEY_FULL_NAME, PATRON__KEY_BIRTH_POSTAL };
    unsigned flags = 0;
    size_t learned[2] = { 0, 0 }; /* decided pairs: duplicates, not duplicates */

    if (!db)
        return PATRON_E_INVALID;
    if (out && (out->version < 1 || out->version > PATRON_ESTIMATE_REPORT_VERSION))
        return patron__db_error(db, PATRON_E_ABI, "patron_estimate_report version %u (this library knows 1..%d)",
                                out->version, PATRON_ESTIMATE_REPORT_VERSION);
    if (!opts)
        opts = &defaults;
    if (opts->version < 1 || opts->version > PATRON_ESTIMATE_OPTIONS_VERSION)
        return patron__db_error(db, PATRON_E_ABI, "patron_estimate_options version %u (this library knows 1..%d)",
                                opts->version, PATRON_ESTIMATE_OPTIONS_VERSION);
    if (opts->flags & ~PATRON_ESTIMATE_DRY_RUN)
        return patron__db_error(db, PATRON_E_INVALID, "unknown estimate flags 0x%x", opts->flags);
    memset(&rep, 0, sizeof rep);
    rep.version = PATRON_ESTIMATE_REPORT_VERSION;

    /* the customers are only read here (the model is written in a
     * transaction of its own below): no write lock, so writers on other
     * connections go on while the store is read */
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    if ((st = patron__match_config_load(db)) == 0) {
        cfg = *db->match_cfg;
        cfg.mode = PATRON__MATCH_MODE_FIELDS;
        st = read_active(db, &cfg, &rs);
    }
    if ((st = patron__tx_end(db, st)) != 0) {
        recs_free(&rs);
        return st;
    }
    rep.customers = rs.n;

    /* the defaults: start values and what the estimate is shrunk towards;
     * levels are computed under the model in force (which address pair is
     * best depends on its weights) */
    patron__match_config_default(&d);
    map_build(&mp, &d);
    memset(blocked, 0, sizeof blocked);
    blocked[0][PATRON__MF_FIRST] = blocked[0][PATRON__MF_LAST] = 1;
    blocked[1][PATRON__MF_BIRTH] = blocked[1][PATRON__MF_POSTAL] = 1;

    if (rs.n < 2) {
        flags |= PATRON_ESTIMATE_TOO_FEW;
        snprintf(why, sizeof why, "%zu active customer%s: too few to estimate", rs.n, rs.n == 1 ? "" : "s");
        goto report;
    }
    /* random pairs for u */
    nrand = opts->random_pairs ? opts->random_pairs : EST_RANDOM_DEFAULT;
    {
        double all = (double)rs.n * (double)(rs.n - 1) / 2;
        if ((double)nrand > all)
            nrand = (size_t)all;
    }
    seed = opts->seed;
    rvec = patron__malloc(nrand * mp.n_fields + 1);
    res = patron__malloc(2 * sizeof *res);
    if (!rvec || !res) {
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t p = 0; p < nrand; p++) {
        size_t i = (size_t)(next_rand(&seed) % rs.n), j = (size_t)(next_rand(&seed) % (rs.n - 1));
        if (j >= i)
            j++;
        vector_of(rvec + p * mp.n_fields, &mp, &rs.r[i], &rs.r[j], &cfg);
    }
    rep.random_pairs = nrand;
    /* how often both records of a pair hold a value, per field */
    for (size_t k = 0; k < mp.n_fields; k++) {
        size_t c = 0;
        for (size_t p = 0; p < nrand; p++)
            c += rvec[p * mp.n_fields + k] != PATRON__EST_MISSING;
        present[k] = nrand ? (double)c / (double)nrand : 0;
    }
    for (int ps = 0; ps < 2; ps++) {
        if (!pass_pairs(&rs, &cfg, pass_kind[ps], EST_PAIRS_MAX, &pairs[ps], &npairs[ps], &share[ps]) ||
            !(vec[ps] = patron__malloc(npairs[ps] * mp.n_fields + 1))) {
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
            goto done;
        }
        fill_vectors(vec[ps], &mp, &rs, pairs[ps], npairs[ps], &cfg);
        /* the fields a pass blocks on agree in every pair of it: no
         * evidence within the pass (as in Splink), left out of its EM */
        for (size_t p = 0; p < npairs[ps]; p++)
            for (size_t k = 0; k < mp.n_fields; k++)
                if (blocked[ps][mp.field[k]])
                    vec[ps][p * mp.n_fields + k] = PATRON__EST_MISSING;
        rep.candidate_pairs += npairs[ps];
        if (run_pass(&res[ps], &mp, &d, vec[ps], npairs[ps], rvec, nrand, blocked[ps], opts->max_iterations) != 0) {
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
            goto done;
        }
        rep.iterations += res[ps].iterations;
        /* a pass without enough pairs (a store without birth dates has no
         * name + birth date pairs) is left out: its fields keep the
         * defaults' m; anything else wrong with a pass keeps the model */
        if (res[ps].flags == PATRON__EST_TOO_FEW) {
            skipped[ps] = 1;
            if (!why[0])
                snprintf(why, sizeof why, "%s pass: %zu pairs, too few to estimate from",
                         ps ? "birth date and postal code" : "full name", npairs[ps]);
        } else if (res[ps].flags) {
            char msg[120];
            int ef = res[ps].flags;
            flags |= (ef & PATRON__EST_NOT_CONVERGED ? PATRON_ESTIMATE_NOT_CONVERGED : 0u) |
                     (ef & PATRON__EST_TOO_FEW ? PATRON_ESTIMATE_TOO_FEW : 0u) |
                     (ef & (PATRON__EST_DEGENERATE | PATRON__EST_BAD_INPUT) ? PATRON_ESTIMATE_DEGENERATE : 0u);
            patron__est_describe(msg, sizeof msg, &res[ps]);
            snprintf(why, sizeof why, "%s pass (%zu pairs): %.100s", ps ? "birth date and postal code" : "full name",
                     npairs[ps], msg);
        }
    }
    if (skipped[0] && skipped[1])
        flags |= PATRON_ESTIMATE_TOO_FEW;
    if (flags) {
        /* EM cannot tell; the merchant's decisions may still refine the
         * model in force (reviewlearn.c) */
        if ((st = patron__review_learn_in_force(db, &cfg, (opts->flags & PATRON_ESTIMATE_DRY_RUN) != 0,
                                                &rep.stored, &learned[0], &learned[1])) != 0)
            goto done;
        goto report;
    }

    /* the estimate: each field's m from the pass(es) not blocked on it
     * that were used; a field no used pass estimates keeps the defaults' m;
     * u is the same in both passes (from the random pairs) */
    full = cfg;
    {
        double all = (double)rs.n * (double)(rs.n - 1) / 2;
        int up = skipped[0] ? 1 : 0;
        for (size_t k = 0; k < mp.n_fields; k++) {
            int f = mp.field[k];
            int in0 = !skipped[0] && !blocked[0][f], in1 = !skipped[1] && !blocked[1][f];
            for (uint8_t j = 0; j < mp.n_levels[k]; j++) {
                int l = mp.back[k][j];
                full.m[f][l] = in0 && in1 ? (res[0].m[k][j] + res[1].m[k][j]) / 2
                              : in0      ? res[0].m[k][j]
                              : in1      ? res[1].m[k][j]
                                         : d.m[f][l];
                full.u[f][l] = res[up].u[k][j];
            }
        }
        /* the prior: the duplicate pairs EM found in a pass, divided by
         * the share of all duplicate pairs that pass can see (both records
         * hold the fields it blocks on, they agree exactly, and the pair
         * was among those taken), averaged over the passes used (Splink's
         * recall correction) */
        double matches = 0, lambda;
        int used = 0;
        for (int ps = 0; ps < 2; ps++) {
            double recall = 1;
            if (skipped[ps])
                continue;
            for (size_t k = 0; k < mp.n_fields; k++) {
                int f = mp.field[k];
                double msum = 0;
                if (!blocked[ps][f])
                    continue;
                for (uint8_t j = 0; j < mp.n_levels[k]; j++)
                    msum += full.m[f][mp.back[k][j]];
                recall *= present[k] * (msum > 0 ? full.m[f][PATRON__ML_EXACT] / msum : 1);
            }
            recall *= share[ps] > 0 ? share[ps] : 1;
            if (recall < 1e-4)
                recall = 1e-4;
            matches += res[ps].matches / recall;
            used++;
        }
        matches /= used ? used : 1;
        lambda = matches / all;
        if (lambda < 1e-12)
            lambda = 1e-12;
        if (lambda > 0.5)
            lambda = 0.5;
        full.lambda = lambda;
        rep.matches = matches;
    }

    /* The guard: the estimate, or failing that the estimate pulled half or
     * three quarters of the way back to the defaults, must keep the
     * defaults' decisions on the matcher's own candidate pairs (guard_check);
     * an estimate that fails all three is not used. */
    if (!pass_pairs(&rs, &cfg, EST_KEY_ALL, EST_GUARD_PAIRS, &gpairs, &ngpairs, &gshare) ||
        !(gdec = patron__malloc(ngpairs + 1))) {
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        goto done;
    }
    candidate(&est, &cfg, &full, &mp, 0.0, 1);
    for (size_t p = 0; p < ngpairs; p++) {
        patron__match_result res1;
        gdec[p] = (uint8_t)patron__match_score_tf(&res1, &rs.r[gpairs[p] >> 32], &rs.r[gpairs[p] & 0xffffffffu],
                                                  &est, NULL);
    }
    {
        static const double steps[] = { 1.0, 0.5, 0.25 };
        size_t si;
        for (si = 0; si < sizeof steps / sizeof steps[0]; si++) {
            candidate(&est, &cfg, &full, &mp, steps[si], 1);
            guard_check(&gs, &rs, gpairs, gdec, ngpairs, &est);
            if (gs.pass)
                break;
        }
        if (si == sizeof steps / sizeof steps[0]) {
            flags |= PATRON_ESTIMATE_UNSAFE;
            snprintf(why, sizeof why,
                     "unsafe: changes too many decisions of the defaults (pulled 3/4 back, of %zu pairs: "
                     "%zu of %zu MERGE lost, %zu new, %zu of %zu MERGE/REVIEW dropped)",
                     ngpairs, gs.lost, gs.merges, gs.gained, gs.dropped, gs.any);
            if ((st = patron__review_learn_in_force(db, &cfg, (opts->flags & PATRON_ESTIMATE_DRY_RUN) != 0,
                                                    &rep.stored, &learned[0], &learned[1])) != 0)
                goto done;
            goto report;
        }
        shrink = steps[si];
    }
    {
        double old_prior = cfg.prior;
        candidate(&est, &cfg, &full, &mp, shrink, 0);
        rep.prior = est.lambda;
        /* the merchant's decisions refine it (reviewlearn.c) */
        if ((st = patron__review_learn(db, &est, &learned[0], &learned[1])) != 0)
            goto done;
        /* name and address alone reach the probability they reached before */
        if (est.name_address_max > 0)
            est.name_address_max += old_prior - est.prior;
        /* ... and an address alone (one building) what it reached before */
        est.address_max_shift += old_prior - est.prior;
        if (est.address_max > 0)
            est.address_max += old_prior - est.prior;
        /* ... and a rare full name alone (full_name_tf) what it reached */
        if (est.full_name_max > 0)
            est.full_name_max += old_prior - est.prior;
    }
    rep.stored = 0;
    rep.converged = 1;
    if (!(opts->flags & PATRON_ESTIMATE_DRY_RUN)) {
        patron_strbuf sb;
        char *text;
        patron__sb_init(&sb);
        patron__sb_printf(&sb, "v=1;customers=%zu;pairs=%zu;random=%zu;seed=%llu;fields=", rs.n,
                          rep.candidate_pairs, nrand, (unsigned long long)opts->seed);
        for (size_t k = 0; k < mp.n_fields; k++)
            patron__sb_printf(&sb, "%s%s", k ? "," : "", patron__match_field_name(mp.field[k]));
        patron__sb_printf(&sb, ";shrink=%.17g;guard=%zu,%zu,%zu,%zu,%zu,%zu;", shrink, ngpairs, gs.merges,
                          gs.lost, gs.gained, gs.any, gs.dropped);
        text = patron__sb_detach(&sb, NULL);
        if (!text) {
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
            goto done;
        }
        st = patron__match_config_save(db, &est, text);
        patron__free(text);
        if (st)
            goto done;
        rep.stored = 1;
    }
    snprintf(rep.message, sizeof rep.message,
             "estimated from %zu customers (%zu pairs, %d iterations, about %.0f duplicates), %s; checked on %zu "
             "pairs: %zu of %zu MERGE lost, %zu new; %zu+%zu decided pairs learnt from%s",
             rs.n, rep.candidate_pairs, rep.iterations, rep.matches,
             shrink >= 1 ? "used in full" : shrink >= 0.5 ? "pulled 1/2 back to the defaults" : "pulled 3/4 back to the defaults",
             ngpairs, gs.lost, gs.merges, gs.gained, learned[0], learned[1],
             rep.stored ? "; model stored" : "; dry run, nothing stored");

report:
    rep.flags = flags;
    if (flags && rep.stored)
        snprintf(rep.message, sizeof rep.message,
                 "not estimated (%.150s); the model in force refined with %zu+%zu decided pairs and stored", why,
                 learned[0], learned[1]);
    else if (flags)
        snprintf(rep.message, sizeof rep.message, "model kept as it was (nothing stored): %.200s", why);
done:
    rep.seconds = now_s() - t0;
    if (!st && out) {
        /* only the members of the caller's version (there is one so far) */
        *out = rep;
    }
    for (int ps = 0; ps < 2; ps++) {
        patron__free(pairs[ps]);
        patron__free(vec[ps]);
    }
    patron__free(rvec);
    patron__free(res);
    patron__free(gpairs);
    patron__free(gdec);
    recs_free(&rs);
    return st ? st : patron__db_ok(db);
}
