/*
 * patron — estimation of Fellegi-Sunter m/u probabilities (issue 11).
 * Not public API.
 *
 * SPDX-License-Identifier: MIT
 *
 * A pure module: comparison vectors in, m and u per field x level and the
 * share of matches (lambda) out.  It knows nothing of records, stores or the
 * matcher's level enum; the caller maps its fields and levels onto indexes
 * 0..n_fields-1 and 0..n_levels[f]-1.
 *
 * Model (Fellegi-Sunter with conditional independence, as in Splink and
 * fastLink): a pair is a match with probability lambda; given its class the
 * fields' levels are independent, level l of field f occurring with
 * probability m[f][l] for a match and u[f][l] for a non-match.  EM:
 *
 *   E  g(pair) = lambda * prod m / (lambda * prod m + (1-lambda) * prod u)
 *   M  m[f][l] = (sum g [x_f = l] + K m0[f][l]) / (sum g [x_f present] + K)
 *      u[f][l] = (sum (1-g) [x_f = l] + K u0[f][l]) / (sum (1-g) [x_f present] + K)
 *      lambda  = (sum g + K lambda0) / (n + K)
 *
 * K (prior_pairs) pseudo-pairs of each class hold the built-in defaults:
 * with few pairs the result stays near the defaults, with many the data
 * decides.  A missing value ("one side empty") says nothing about the
 * class and is left out of that field's sums.  u can instead be fixed from
 * a sample of random pairs (almost all of which are non-matches), the
 * usual way when the candidate pairs are few or one-sided.
 *
 * Identical vectors are counted once with a multiplicity, so the cost per
 * iteration is the number of distinct patterns, not of pairs.
 *
 * Everything stays in probabilities (products and ratios): no libm.
 */
#ifndef PATRON_MATCH_ESTIMATE_H
#define PATRON_MATCH_ESTIMATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON__EST_FIELDS_MAX 16
#define PATRON__EST_LEVELS_MAX 12
/** A field's level in a comparison vector when a value is missing. */
#define PATRON__EST_MISSING 0xFFu

/** Bounds of every estimated probability. */
#define PATRON__EST_P_MIN 1e-6
#define PATRON__EST_P_MAX (1.0 - 1e-6)

/* Result flags (patron__est_result.flags); 0 = a usable estimate. */
enum {
    PATRON__EST_NOT_CONVERGED = 1, /* iteration limit reached first */
    PATRON__EST_TOO_FEW = 2,       /* fewer pairs than min_pairs: defaults returned */
    PATRON__EST_DEGENERATE = 4,    /* fewer than two distinct vectors, or lambda ran to
                                      0 or 1, or the match class ended up with weaker
                                      agreement than the non-match class (the classes
                                      swapped): the data cannot tell the classes apart */
    PATRON__EST_BAD_INPUT = 8      /* a level out of range, sizes out of range: defaults */
};

/** What the estimator reads.  All arrays belong to the caller. */
typedef struct patron__est_input {
    size_t n_fields;                          /* 1..PATRON__EST_FIELDS_MAX */
    uint8_t n_levels[PATRON__EST_FIELDS_MAX]; /* 2..PATRON__EST_LEVELS_MAX per field */
    /* agree[f][l] = 1: level l of field f is an agreement (exact, typo, ...);
     * its m is kept >= its u (an agreement is never evidence against). */
    uint8_t agree[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX];
    /* estimate_m[f] = 0: m of field f is kept at its start value (a field
     * the candidate pairs were blocked on says nothing about the class
     * within them).  All 1 when estimating everything. */
    uint8_t estimate_m[PATRON__EST_FIELDS_MAX];
    /* m_agree_min[f] > 0: the match class agrees on field f (the sum of m
     * over its agreement levels) at least this often.  For the fields that
     * tell one person from another (given name, last name, birth date): a
     * block of pairs sharing an address holds households, and EM left
     * alone may take "one household" (shared phone, shared last name) for
     * the match class, learning that one person's two records mostly have
     * different given names.  The bound keeps the match class to persons.
     * 0: no bound. */
    double m_agree_min[PATRON__EST_FIELDS_MAX];

    /* The candidate pairs: n_pairs vectors of n_fields levels each, row
     * after row (pair p, field f at vectors[p * n_fields + f]). */
    const uint8_t *vectors;
    size_t n_pairs;
    /* Optional: vectors of random pairs; when n_random > 0, u is fixed from
     * them (shrunk towards u0 by prior_pairs) and EM estimates m and lambda. */
    const uint8_t *random_vectors;
    size_t n_random;

    /* Start values and the prior: the built-in defaults. */
    double m0[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX];
    double u0[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX];
    double lambda0;

    double prior_pairs; /* K; < 0: the default (50) */
    size_t min_pairs;   /* fewer pairs: defaults, TOO_FEW; 0: the default (50) */
    int max_iter;       /* <= 0: the default (200) */
    double tolerance;   /* largest change of any parameter; <= 0: the default (1e-6) */
} patron__est_input;

typedef struct patron__est_result {
    double m[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX];
    double u[PATRON__EST_FIELDS_MAX][PATRON__EST_LEVELS_MAX];
    double lambda;
    int iterations;    /* EM iterations run */
    int flags;         /* PATRON__EST_* ; 0: converged and sane */
    size_t n_patterns; /* distinct vectors among the candidate pairs */
    double matches;    /* expected number of matching pairs (sum of g) */
} patron__est_result;

/** Fill `in` with zeros and the defaults of the tuning values; the caller
 *  then sets sizes, levels, vectors and start values. */
void patron__est_input_init(patron__est_input *in);

/**
 * Run the estimation.  Always fills `out` with finite probabilities inside
 * [PATRON__EST_P_MIN, PATRON__EST_P_MAX]: the estimate, or the start values
 * (the defaults) when flags has TOO_FEW or BAD_INPUT.  A caller uses the
 * estimate only when flags is 0 and otherwise falls back to the defaults
 * with a warning.  Returns 0, or -1 when out of memory (out then holds the
 * defaults, flags BAD_INPUT is not set).
 */
int patron__est_run(patron__est_result *out, const patron__est_input *in);

/** The flags in words ("did not converge in 200 iterations" style parts,
 *  joined by "; "), for a warning.  Writes at most cap - 1 bytes and a NUL;
 *  returns `buf`. */
const char *patron__est_describe(char *buf, size_t cap, const patron__est_result *r);

#ifdef __cplusplus
}
#endif

#endif
