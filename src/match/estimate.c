/*
 * Estimation of Fellegi-Sunter m/u probabilities by EM (see estimate.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "estimate.h"

#include "match.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_PRIOR_PAIRS 50.0
#define DEFAULT_MIN_PAIRS 50
#define DEFAULT_MAX_ITER 200
#define DEFAULT_TOLERANCE 1e-6

void patron__est_input_init(patron__est_input *in)
{
    size_t f;

    memset(in, 0, sizeof *in);
    for (f = 0; f < PATRON__EST_FIELDS_MAX; f++)
        in->estimate_m[f] = 1;
    in->lambda0 = 0.5;
    in->prior_pairs = -1;
}

static double clamp_p(double p)
{
    /* also turns a NaN into the lower bound: NaN fails both comparisons */
    if (!(p >= PATRON__EST_P_MIN))
        return PATRON__EST_P_MIN;
    if (p > PATRON__EST_P_MAX)
        return PATRON__EST_P_MAX;
    return p;
}

static double absd(double x)
{
    return x < 0 ? -x : x;
}

/* ---- distinct vectors ------------------------------------------------------- */

typedef struct patterns {
    size_t width;   /* n_fields */
    size_t n, cap;  /* distinct vectors */
    uint8_t *vec;   /* n * width */
    double *count;  /* multiplicity */
    size_t *slot;   /* hash table of pattern index + 1, 0 = empty */
    size_t n_slots; /* power of two */
} patterns;

static uint64_t hash_vec(const uint8_t *v, size_t w)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < w; i++) {
        h ^= v[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static void patterns_free(patterns *p)
{
    PATRON_FREE(p->vec);
    PATRON_FREE(p->count);
    PATRON_FREE(p->slot);
    memset(p, 0, sizeof *p);
}

static int patterns_grow_table(patterns *p)
{
    size_t n_slots = p->n_slots ? p->n_slots * 2 : 1024, i;
    size_t *slot = PATRON_MALLOC(n_slots * sizeof *slot);

    if (!slot)
        return -1;
    memset(slot, 0, n_slots * sizeof *slot);
    for (i = 0; i < p->n; i++) {
        size_t s = (size_t)hash_vec(p->vec + i * p->width, p->width) & (n_slots - 1);
        while (slot[s])
            s = (s + 1) & (n_slots - 1);
        slot[s] = i + 1;
    }
    PATRON_FREE(p->slot);
    p->slot = slot;
    p->n_slots = n_slots;
    return 0;
}

static int patterns_add(patterns *p, const uint8_t *v)
{
    size_t s;

    if ((p->n + 1) * 2 > p->n_slots && patterns_grow_table(p) < 0)
        return -1;
    s = (size_t)hash_vec(v, p->width) & (p->n_slots - 1);
    while (p->slot[s]) {
        size_t i = p->slot[s] - 1;
        if (memcmp(p->vec + i * p->width, v, p->width) == 0) {
            p->count[i] += 1.0;
            return 0;
        }
        s = (s + 1) & (p->n_slots - 1);
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        uint8_t *vec = PATRON_REALLOC(p->vec, cap * p->width);
        double *count;
        if (!vec)
            return -1;
        p->vec = vec;
        count = PATRON_REALLOC(p->count, cap * sizeof *count);
        if (!count)
            return -1;
        p->count = count;
        p->cap = cap;
    }
    memcpy(p->vec + p->n * p->width, v, p->width);
    p->count[p->n] = 1.0;
    p->slot[s] = ++p->n;
    return 0;
}

/* ---- the estimation ------------------------------------------------------------ */

static int input_ok(const patron__est_input *in)
{
    size_t f, p;

    if (in->n_fields < 1 || in->n_fields > PATRON__EST_FIELDS_MAX)
        return 0;
    if ((in->n_pairs && !in->vectors) || (in->n_random && !in->random_vectors))
        return 0;
    for (f = 0; f < in->n_fields; f++)
        if (in->n_levels[f] < 2 || in->n_levels[f] > PATRON__EST_LEVELS_MAX)
            return 0;
    for (p = 0; p < in->n_pairs * in->n_fields; p++) {
        uint8_t l = in->vectors[p];
        if (l != PATRON__EST_MISSING && l >= in->n_levels[p % in->n_fields])
            return 0;
    }
    for (p = 0; p < in->n_random * in->n_fields; p++) {
        uint8_t l = in->random_vectors[p];
        if (l != PATRON__EST_MISSING && l >= in->n_levels[p % in->n_fields])
            return 0;
    }
    return 1;
}

/* The start values as given, only bounded: what a caller falls back to. */
static void start_values(patron__est_result *out, const patron__est_input *in)
{
    size_t f, l;

    for (f = 0; f < PATRON__EST_FIELDS_MAX; f++)
        for (l = 0; l < PATRON__EST_LEVELS_MAX; l++) {
            int used = f < in->n_fields && l < in->n_levels[f];
            out->m[f][l] = used ? clamp_p(in->m0[f][l]) : 0.0;
            out->u[f][l] = used ? clamp_p(in->u0[f][l]) : 0.0;
        }
    out->lambda = clamp_p(in->lambda0);
}

/* Distribution per field: bounded, summing to 1 (the defaults of a matcher
 * need not sum to 1; EM works with proper distributions). */
static void normalise(double p[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX],
                      const patron__est_input *in)
{
    size_t f, l;

    for (f = 0; f < in->n_fields; f++) {
        double sum = 0;
        for (l = 0; l < in->n_levels[f]; l++) {
            p[f][l] = clamp_p(p[f][l]);
            sum += p[f][l];
        }
        for (l = 0; l < in->n_levels[f]; l++)
            p[f][l] = clamp_p(p[f][l] / sum);
    }
}

/* The match class agrees on field f at least m_agree_min[f] of the time:
 * when it does not, the agreement levels are scaled up and the others down,
 * each keeping its share within its group. */
static void agree_min_bound(patron__est_result *r, const patron__est_input *in, size_t f)
{
    double lo = in->m_agree_min[f], a = 0, d = 0;
    size_t l;

    if (!(lo > 0) || lo >= 1)
        return;
    for (l = 0; l < in->n_levels[f]; l++) {
        if (in->agree[f][l])
            a += r->m[f][l];
        else
            d += r->m[f][l];
    }
    if (a >= lo * (a + d))
        return;
    for (l = 0; l < in->n_levels[f]; l++) {
        if (in->agree[f][l])
            r->m[f][l] = clamp_p(a > 0 ? r->m[f][l] * lo / a : lo);
        else
            r->m[f][l] = clamp_p(d > 0 ? r->m[f][l] * (1 - lo) / d : 1 - lo);
    }
}

/* An agreement is never evidence against a match. */
static void agree_bound(patron__est_result *r, const patron__est_input *in)
{
    size_t f, l;

    for (f = 0; f < in->n_fields; f++)
        for (l = 0; l < in->n_levels[f]; l++)
            if (in->agree[f][l] && r->m[f][l] < r->u[f][l])
                r->m[f][l] = r->u[f][l];
}

int patron__est_run(patron__est_result *out, const patron__est_input *in)
{
    patterns pt;
    double K = in->prior_pairs < 0 ? DEFAULT_PRIOR_PAIRS : in->prior_pairs;
    size_t min_pairs = in->min_pairs ? in->min_pairs : DEFAULT_MIN_PAIRS;
    int max_iter = in->max_iter > 0 ? in->max_iter : DEFAULT_MAX_ITER;
    double tol = in->tolerance > 0 ? in->tolerance : DEFAULT_TOLERANCE;
    double m0[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX];
    double u0[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX];
    double lam0;
    int fixed_u = in->n_random > 0, swapped = 0, it;
    size_t f, l, p;

    memset(out, 0, sizeof *out);
    if (!input_ok(in)) {
        start_values(out, in);
        out->flags = PATRON__EST_BAD_INPUT;
        return 0;
    }
    start_values(out, in);
    if (in->n_pairs < min_pairs) {
        out->flags = PATRON__EST_TOO_FEW;
        return 0;
    }

    /* The prior: the start values as distributions. */
    memcpy(m0, out->m, sizeof m0);
    memcpy(u0, out->u, sizeof u0);
    normalise(m0, in);
    normalise(u0, in);
    lam0 = out->lambda;
    memcpy(out->m, m0, sizeof m0);
    memcpy(out->u, u0, sizeof u0);

    memset(&pt, 0, sizeof pt);
    pt.width = in->n_fields;
    for (p = 0; p < in->n_pairs; p++)
        if (patterns_add(&pt, in->vectors + p * in->n_fields) < 0) {
            patterns_free(&pt);
            start_values(out, in);
            return -1;
        }
    out->n_patterns = pt.n;

    /* u from random pairs: counted once, then fixed. */
    if (fixed_u) {
        for (f = 0; f < in->n_fields; f++) {
            double cnt[PATRON__EST_LEVELS_MAX] = {0}, present = 0;
            for (p = 0; p < in->n_random; p++) {
                uint8_t x = in->random_vectors[p * in->n_fields + f];
                if (x != PATRON__EST_MISSING) {
                    cnt[x] += 1.0;
                    present += 1.0;
                }
            }
            for (l = 0; l < in->n_levels[f]; l++)
                out->u[f][l] = clamp_p((cnt[l] + K * u0[f][l]) / (present + K));
        }
    }
    agree_bound(out, in);

    for (it = 0; it < max_iter; it++) {
        double sm[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX];
        double su[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX];
        double odds = out->lambda / (1.0 - out->lambda), sum_g = 0, total = 0, change = 0, lam;

        double prev_m[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX];
        double prev_u[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX];

        memcpy(prev_m, out->m, sizeof prev_m);
        memcpy(prev_u, out->u, sizeof prev_u);
        memset(sm, 0, sizeof sm);
        memset(su, 0, sizeof su);
        for (p = 0; p < pt.n; p++) {
            const uint8_t *v = pt.vec + p * pt.width;
            double r = odds, g, c = pt.count[p];
            for (f = 0; f < in->n_fields; f++)
                if (v[f] != PATRON__EST_MISSING)
                    r *= out->m[f][v[f]] / out->u[f][v[f]];
            g = r / (1.0 + r); /* r is finite: every ratio is bounded */
            for (f = 0; f < in->n_fields; f++)
                if (v[f] != PATRON__EST_MISSING) {
                    sm[f][v[f]] += c * g;
                    su[f][v[f]] += c * (1.0 - g);
                }
            sum_g += c * g;
            total += c;
        }
        out->matches = sum_g;

        swapped = 0;
        for (f = 0; f < in->n_fields; f++) {
            double nm = 0, nu = 0, agree_m = 0, agree_u = 0;
            for (l = 0; l < in->n_levels[f]; l++) {
                nm += sm[f][l];
                nu += su[f][l];
            }
            for (l = 0; l < in->n_levels[f]; l++) {
                double m = out->m[f][l], u = out->u[f][l];
                if (in->estimate_m[f])
                    m = clamp_p((sm[f][l] + K * m0[f][l]) / (nm + K));
                if (!fixed_u)
                    u = clamp_p((su[f][l] + K * u0[f][l]) / (nu + K));
                if (in->agree[f][l]) {
                    agree_m += m;
                    agree_u += u;
                }
                out->m[f][l] = m;
                out->u[f][l] = u;
            }
            if (agree_m < agree_u)
                swapped++;
            if (in->estimate_m[f])
                agree_min_bound(out, in, f);
        }
        agree_bound(out, in);
        /* the change after the bounds: a bound that holds a level in place
         * is no movement */
        for (f = 0; f < in->n_fields; f++)
            for (l = 0; l < in->n_levels[f]; l++) {
                if (absd(out->m[f][l] - prev_m[f][l]) > change)
                    change = absd(out->m[f][l] - prev_m[f][l]);
                if (absd(out->u[f][l] - prev_u[f][l]) > change)
                    change = absd(out->u[f][l] - prev_u[f][l]);
            }
        lam = clamp_p((sum_g + K * lam0) / (total + K));
        if (absd(lam - out->lambda) > change)
            change = absd(lam - out->lambda);
        out->lambda = lam;
        out->iterations = it + 1;
        if (change < tol)
            break;
    }
    if (it >= max_iter)
        out->flags |= PATRON__EST_NOT_CONVERGED;
    if (pt.n < 2 || out->lambda <= 1e-5 || out->lambda >= 1.0 - 1e-5 ||
        (size_t)swapped * 2 > in->n_fields)
        out->flags |= PATRON__EST_DEGENERATE;
    patterns_free(&pt);
    return 0;
}

const char *patron__est_describe(char *buf, size_t cap, const patron__est_result *r)
{
    size_t n = 0;

    if (!cap)
        return buf;
    buf[0] = '\0';
#define PART(...)                                                                 \
    do {                                                                          \
        int k_ = snprintf(buf + n, cap - n, "%s", n ? "; " : "");                 \
        if (k_ > 0 && (size_t)k_ < cap - n)                                       \
            n += (size_t)k_;                                                      \
        k_ = snprintf(buf + n, cap - n, __VA_ARGS__);                             \
        if (k_ > 0)                                                               \
            n = (size_t)k_ < cap - n ? n + (size_t)k_ : cap - 1;                  \
    } while (0)
    if (r->flags & PATRON__EST_BAD_INPUT)
        PART("the comparison vectors are malformed");
    if (r->flags & PATRON__EST_TOO_FEW)
        PART("too few candidate pairs to estimate from");
    if (r->flags & PATRON__EST_NOT_CONVERGED)
        PART("did not converge in %d iterations", r->iterations);
    if (r->flags & PATRON__EST_DEGENERATE)
        PART("the pairs do not separate into matches and non-matches (%zu distinct "
             "comparison patterns, match share %.6f)",
             r->n_patterns, r->lambda);
    if (!r->flags)
        PART("converged in %d iterations", r->iterations);
#undef PART
    return buf;
}
