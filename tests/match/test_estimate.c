/*
 * Unit tests of the m/u estimator (src/match/estimate.c): EM recovers known
 * m/u from synthetic comparison vectors, falls back to the defaults on too
 * little data, stays bounded on degenerate data, honours its iteration
 * limit, fixes u from random pairs, shrinks towards the defaults.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match/estimate.h"

/* ---- a known model ------------------------------------------------------------ */

#define NF 6
static const uint8_t levels[NF] = {4, 3, 3, 2, 3, 3};
/* Which levels are agreements (the last level of each field disagrees). */
static const double true_m[NF][4] = {
    {0.80, 0.10, 0.04, 0.06}, /* first name: exact, typo, initial, different */
    {0.85, 0.10, 0.05},       /* last name: exact, typo, different */
    {0.75, 0.10, 0.15},       /* street: exact, typo, different */
    {0.90, 0.10},             /* postal code: exact, different */
    {0.60, 0.05, 0.35},       /* email: exact, typo, different */
    {0.88, 0.07, 0.05},       /* birth date: exact, partial, different */
};
static const double true_u[NF][4] = {
    {0.03, 0.02, 0.05, 0.90}, {0.02, 0.03, 0.95}, {0.10, 0.05, 0.85},
    {0.30, 0.70},             {0.005, 0.005, 0.99}, {0.002, 0.01, 0.988},
};
/* Share of missing values per field (independent of the class). */
static const double missing[NF] = {0.02, 0.0, 0.05, 0.0, 0.30, 0.50};
/* The "built-in defaults" the estimator starts from: deliberately off. */
static const double start_m[NF][4] = {
    {0.70, 0.10, 0.10, 0.10}, {0.70, 0.10, 0.20}, {0.60, 0.20, 0.20},
    {0.80, 0.20},             {0.70, 0.10, 0.20}, {0.70, 0.10, 0.20},
};
static const double start_u[NF][4] = {
    {0.05, 0.05, 0.10, 0.80}, {0.05, 0.05, 0.90}, {0.20, 0.10, 0.70},
    {0.50, 0.50},             {0.01, 0.01, 0.98}, {0.01, 0.02, 0.97},
};

/* splitmix64: a fixed-seed generator, the same numbers on every platform */
static uint64_t rng_state;

static double uniform(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static uint8_t draw(const double *p, size_t n)
{
    double x = uniform(), acc = 0;
    size_t i;

    for (i = 0; i + 1 < n; i++) {
        acc += p[i];
        if (x < acc)
            return (uint8_t)i;
    }
    return (uint8_t)(n - 1);
}

/* n vectors, each a match with probability lambda; *matches counts them. */
static uint8_t *synth(size_t n, double lambda, uint64_t seed, size_t *matches)
{
    uint8_t *v = malloc(n * NF);
    size_t p, f, k = 0;

    assert_non_null(v);
    rng_state = seed;
    for (p = 0; p < n; p++) {
        int match = uniform() < lambda;
        k += (size_t)match;
        for (f = 0; f < NF; f++) {
            uint8_t l = draw(match ? true_m[f] : true_u[f], levels[f]);
            v[p * NF + f] = uniform() < missing[f] ? PATRON__EST_MISSING : l;
        }
    }
    if (matches)
        *matches = k;
    return v;
}

static void setup_input(patron__est_input *in, const uint8_t *v, size_t n)
{
    size_t f, l;

    patron__est_input_init(in);
    in->n_fields = NF;
    for (f = 0; f < NF; f++) {
        in->n_levels[f] = levels[f];
        for (l = 0; l < levels[f]; l++) {
            in->m0[f][l] = start_m[f][l];
            in->u0[f][l] = start_u[f][l];
            in->agree[f][l] = l + 1 < levels[f];
        }
    }
    in->lambda0 = 0.3;
    in->vectors = v;
    in->n_pairs = n;
}

static void assert_bounded(const patron__est_result *r, const patron__est_input *in)
{
    size_t f, l;

    for (f = 0; f < in->n_fields; f++)
        for (l = 0; l < in->n_levels[f]; l++) {
            /* a NaN fails both */
            assert_true(r->m[f][l] >= PATRON__EST_P_MIN && r->m[f][l] <= PATRON__EST_P_MAX);
            assert_true(r->u[f][l] >= PATRON__EST_P_MIN && r->u[f][l] <= PATRON__EST_P_MAX);
            if (in->agree[f][l])
                assert_true(r->m[f][l] >= r->u[f][l]);
        }
    assert_true(r->lambda >= PATRON__EST_P_MIN && r->lambda <= PATRON__EST_P_MAX);
}

static void assert_near(double got, double want, double tol, const char *what, size_t f, size_t l)
{
    if (!(got >= want - tol && got <= want + tol))
        fail_msg("%s[%zu][%zu] = %.4f, expected %.4f +- %.2f", what, f, l, got, want, tol);
}

/* ---- tests ----------------------------------------------------------------------- */

static void recovers_known_m_u(void **state)
{
    size_t n = 20000, k, f, l;
    uint8_t *v = synth(n, 0.1, 42, &k);
    patron__est_input in;
    patron__est_result r;
    char msg[256];

    (void)state;
    setup_input(&in, v, n);
    assert_int_equal(patron__est_run(&r, &in), 0);
    assert_int_equal(r.flags, 0);
    assert_true(r.iterations > 1 && r.iterations < 200);
    for (f = 0; f < NF; f++)
        for (l = 0; l < levels[f]; l++) {
            assert_near(r.m[f][l], true_m[f][l], 0.05, "m", f, l);
            assert_near(r.u[f][l], true_u[f][l], 0.05, "u", f, l);
        }
    assert_near(r.lambda, 0.1, 0.02, "lambda", 0, 0);
    /* the expected number of matches is close to the number drawn */
    assert_true(r.matches > 0.9 * (double)k && r.matches < 1.1 * (double)k);
    assert_true(r.n_patterns > 1 && r.n_patterns < n);
    assert_bounded(&r, &in);
    assert_string_equal(patron__est_describe(msg, sizeof msg, &r) + 0, msg);
    assert_non_null(strstr(msg, "converged in"));
    free(v);
}

/* The same with u fixed from random pairs: m and lambda from EM. */
static void u_from_random_pairs(void **state)
{
    size_t n = 20000, f, l;
    uint8_t *v = synth(n, 0.1, 7, NULL);
    uint8_t *rnd = synth(20000, 0.0, 8, NULL); /* random pairs: no matches */
    patron__est_input in;
    patron__est_result r;

    (void)state;
    setup_input(&in, v, n);
    in.random_vectors = rnd;
    in.n_random = 20000;
    assert_int_equal(patron__est_run(&r, &in), 0);
    assert_int_equal(r.flags, 0);
    for (f = 0; f < NF; f++)
        for (l = 0; l < levels[f]; l++) {
            assert_near(r.m[f][l], true_m[f][l], 0.05, "m", f, l);
            /* u comes from counting the random pairs alone */
            assert_near(r.u[f][l], true_u[f][l], 0.02, "u", f, l);
        }
    assert_near(r.lambda, 0.1, 0.02, "lambda", 0, 0);
    assert_bounded(&r, &in);
    free(v);
    free(rnd);
}

static void too_few_pairs_give_defaults(void **state)
{
    uint8_t *v = synth(3, 0.5, 1, NULL);
    patron__est_input in;
    patron__est_result r;
    size_t f, l, n;
    char msg[256];

    (void)state;
    for (n = 0; n <= 3; n += 3) { /* empty input, then 3 pairs */
        setup_input(&in, n ? v : NULL, n);
        assert_int_equal(patron__est_run(&r, &in), 0);
        assert_true(r.flags & PATRON__EST_TOO_FEW);
        assert_int_equal(r.iterations, 0);
        for (f = 0; f < NF; f++)
            for (l = 0; l < levels[f]; l++) {
                assert_true(r.m[f][l] == start_m[f][l]);
                assert_true(r.u[f][l] == start_u[f][l]);
            }
        assert_true(r.lambda == 0.3);
        patron__est_describe(msg, sizeof msg, &r);
        assert_non_null(strstr(msg, "too few"));
    }
    free(v);
}

/* Every pair identical: nothing separates the classes.  Bounded, no NaN,
 * flagged. */
static void degenerate_input_is_bounded_and_flagged(void **state)
{
    size_t n = 5000, p, f;
    uint8_t *v = malloc(n * NF);
    patron__est_input in;
    patron__est_result r;

    (void)state;
    assert_non_null(v);
    for (p = 0; p < n; p++)
        for (f = 0; f < NF; f++)
            v[p * NF + f] = 0; /* all exact */
    setup_input(&in, v, n);
    assert_int_equal(patron__est_run(&r, &in), 0);
    assert_true(r.flags & PATRON__EST_DEGENERATE);
    assert_int_equal((int)r.n_patterns, 1);
    assert_bounded(&r, &in);

    /* every value missing: the same */
    memset(v, PATRON__EST_MISSING, n * NF);
    assert_int_equal(patron__est_run(&r, &in), 0);
    assert_true(r.flags & PATRON__EST_DEGENERATE);
    assert_bounded(&r, &in);
    free(v);
}

static void iteration_limit_is_honoured(void **state)
{
    size_t n = 20000;
    uint8_t *v = synth(n, 0.1, 42, NULL);
    patron__est_input in;
    patron__est_result r;
    char msg[256];

    (void)state;
    setup_input(&in, v, n);
    in.max_iter = 3;
    in.tolerance = 1e-15;
    assert_int_equal(patron__est_run(&r, &in), 0);
    assert_int_equal(r.iterations, 3);
    assert_true(r.flags & PATRON__EST_NOT_CONVERGED);
    assert_bounded(&r, &in);
    patron__est_describe(msg, sizeof msg, &r);
    assert_non_null(strstr(msg, "did not converge in 3 iterations"));

    /* with the default limit the same data converges */
    in.max_iter = 0;
    in.tolerance = 0;
    assert_int_equal(patron__est_run(&r, &in), 0);
    assert_false(r.flags & PATRON__EST_NOT_CONVERGED);
    free(v);
}

/* A prior of K pseudo-pairs: with a huge K the defaults stand; with few
 * pairs the estimate lies between the defaults and what K = 0 gives. */
static void shrinks_towards_defaults(void **state)
{
    size_t n = 200, f, l;
    uint8_t *v = synth(n, 0.2, 99, NULL);
    patron__est_input in;
    patron__est_result big, none, mid;
    double d_mid = 0, d_none = 0;

    (void)state;
    setup_input(&in, v, n);
    in.prior_pairs = 1e9;
    assert_int_equal(patron__est_run(&big, &in), 0);
    for (f = 0; f < NF; f++) {
        double sm = 0, su = 0;
        for (l = 0; l < levels[f]; l++) {
            sm += start_m[f][l];
            su += start_u[f][l];
        }
        for (l = 0; l < levels[f]; l++) {
            assert_near(big.m[f][l], start_m[f][l] / sm, 1e-3, "m", f, l);
            assert_near(big.u[f][l], start_u[f][l] / su, 1e-3, "u", f, l);
        }
    }
    in.prior_pairs = 0;
    assert_int_equal(patron__est_run(&none, &in), 0);
    in.prior_pairs = 100;
    assert_int_equal(patron__est_run(&mid, &in), 0);
    assert_bounded(&none, &in);
    assert_bounded(&mid, &in);
    for (f = 0; f < NF; f++)
        for (l = 0; l < levels[f]; l++) {
            d_mid += (mid.m[f][l] - start_m[f][l]) * (mid.m[f][l] - start_m[f][l]);
            d_none += (none.m[f][l] - start_m[f][l]) * (none.m[f][l] - start_m[f][l]);
        }
    assert_true(d_mid < d_none);
    free(v);
}

static void malformed_input_gives_defaults(void **state)
{
    size_t n = 1000;
    uint8_t *v = synth(n, 0.1, 5, NULL);
    patron__est_input in;
    patron__est_result r;

    (void)state;
    setup_input(&in, v, n);
    v[17 * NF + 3] = 2; /* the postal code has levels 0 and 1 only */
    assert_int_equal(patron__est_run(&r, &in), 0);
    assert_true(r.flags & PATRON__EST_BAD_INPUT);
    assert_true(r.m[0][0] == start_m[0][0]);
    assert_true(r.u[4][2] == start_u[4][2]);

    setup_input(&in, v, n);
    in.n_levels[2] = 1; /* a field needs two levels */
    assert_int_equal(patron__est_run(&r, &in), 0);
    assert_true(r.flags & PATRON__EST_BAD_INPUT);

    setup_input(&in, v, n);
    in.n_fields = 0;
    assert_int_equal(patron__est_run(&r, &in), 0);
    assert_true(r.flags & PATRON__EST_BAD_INPUT);
    free(v);
}

/* An agreement level that the data makes rarer for matches than for
 * non-matches keeps m >= u (never evidence against). */
static void agreement_never_counts_against(void **state)
{
    size_t n = 20000, p;
    uint8_t *v = synth(n, 0.1, 3, NULL);
    patron__est_input in;
    patron__est_result r;

    (void)state;
    setup_input(&in, v, n);
    /* first name "typo" (level 1) means nothing: the same in both classes */
    rng_state = 11;
    for (p = 0; p < n; p++)
        if (v[p * NF] == 1)
            v[p * NF] = 3;
    for (p = 0; p < n; p++)
        if (v[p * NF] == 3 && uniform() < 0.3)
            v[p * NF] = 1;
    assert_int_equal(patron__est_run(&r, &in), 0);
    assert_bounded(&r, &in);
    free(v);
}

/* A block of pairs that share an address (issue 11): duplicates of one
 * person (same given name), and many more households - another given name,
 * but the same landline and last name.  u is fixed from random pairs, where
 * a shared phone is rare.  Left alone, EM takes the household for the
 * match class and learns that one person's two records mostly have
 * different given names; m_agree_min keeps the given name's agreement at
 * the bound, so its disagreement stays evidence against. */
static void person_bound_keeps_households_out_of_m(void **state)
{
    /* fields: given name (exact, different), phone (exact, different),
     * last name (exact, different) */
    static const double dup[3][2] = { { 0.95, 0.05 }, { 0.80, 0.20 }, { 0.95, 0.05 } };
    static const double hh[3][2] = { { 0.03, 0.97 }, { 0.90, 0.10 }, { 0.90, 0.10 } };
    static const double rnd[3][2] = { { 0.02, 0.98 }, { 0.001, 0.999 }, { 0.01, 0.99 } };
    size_t n = 6000, nr = 50000, p, f;
    uint8_t *v = malloc(n * 3), *rv = malloc(nr * 3);
    patron__est_input in;
    patron__est_result free_run, bounded;
    (void)state;

    assert_non_null(v);
    assert_non_null(rv);
    rng_state = 7;
    for (p = 0; p < n; p++) {
        int is_dup = uniform() < 0.25;
        for (f = 0; f < 3; f++)
            v[p * 3 + f] = draw(is_dup ? dup[f] : hh[f], 2);
    }
    for (p = 0; p < nr; p++)
        for (f = 0; f < 3; f++)
            rv[p * 3 + f] = draw(rnd[f], 2);
    patron__est_input_init(&in);
    in.n_fields = 3;
    for (f = 0; f < 3; f++) {
        in.n_levels[f] = 2;
        in.agree[f][0] = 1;
        in.m0[f][0] = 0.9;
        in.m0[f][1] = 0.1;
        in.u0[f][0] = rnd[f][0];
        in.u0[f][1] = rnd[f][1];
    }
    in.lambda0 = 0.1;
    in.vectors = v;
    in.n_pairs = n;
    in.random_vectors = rv;
    in.n_random = nr;

    /* without the bound: the household is the match class */
    assert_int_equal(patron__est_run(&free_run, &in), 0);
    assert_int_equal(free_run.flags, 0);
    assert_true(free_run.m[0][1] > 0.5);

    /* with it: one person's records agree on the given name in >= 0.7 */
    in.m_agree_min[0] = 0.7;
    assert_int_equal(patron__est_run(&bounded, &in), 0);
    assert_int_equal(bounded.flags, 0);
    assert_bounded(&bounded, &in);
    assert_true(bounded.m[0][0] >= 0.7 - 1e-9);
    assert_true(bounded.m[0][1] <= 0.3 + 1e-9);
    assert_true(bounded.m[0][1] < bounded.u[0][1] / 3); /* a different given name: evidence against */
    /* the fields without a bound are estimated as before */
    assert_true(bounded.m[1][0] > 0.5);
    /* a bound already met changes nothing */
    in.m_agree_min[0] = 0.01;
    in.m_agree_min[2] = 0.01;
    assert_int_equal(patron__est_run(&bounded, &in), 0);
    assert_true(bounded.m[0][1] > 0.5);
    assert_true(bounded.m[0][1] == free_run.m[0][1]);
    free(v);
    free(rv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recovers_known_m_u),
        cmocka_unit_test(u_from_random_pairs),
        cmocka_unit_test(too_few_pairs_give_defaults),
        cmocka_unit_test(degenerate_input_is_bounded_and_flagged),
        cmocka_unit_test(iteration_limit_is_honoured),
        cmocka_unit_test(shrinks_towards_defaults),
        cmocka_unit_test(malformed_input_gives_defaults),
        cmocka_unit_test(agreement_never_counts_against),
        cmocka_unit_test(person_bound_keeps_households_out_of_m),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
