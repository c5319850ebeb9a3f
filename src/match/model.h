/*
 * patron — the matcher's evidence model (issue 11).  Not public API.
 *
 * SPDX-License-Identifier: MIT
 *
 * One Fellegi-Sunter model: per field a comparison level, per field and
 * level the probabilities
 *
 *   m = P(level | the two records are one person)
 *   u = P(level | two different people that share a blocking key)
 *
 * and the weight log2(m/u).  A pair's match weight is
 *
 *   score = log2(lambda / (1 - lambda)) + sum of the field weights
 *
 * and its match probability 2^score / (1 + 2^score): lambda is the prior,
 * the probability that a candidate pair (two records sharing a blocking
 * key) is one person.
 *
 * Term frequencies (as Splink): the weight of an EXACT agreement on a
 * field with tf_ref[f] > 0 is adjusted by how many records of the store
 * hold that value: u_value = count / N, u_ref = tf_ref_count / N with
 * tf_ref_count = max(tf_ref[f], tf_share[f] * N), and
 *
 *   weight = log2(m / u) + log2(u_ref / u_value)
 *
 * clamped to [0, log2(m/u) + tf_up_max]: a value many customers hold
 * (a Packstation, info@, a switchboard, "mueller") weighs little, a rare
 * one a little more than the level's average.
 *
 * This struct is everything an estimator (patron_db_estimate) learns and
 * everything that is persisted in the store's meta (see
 * patron__match_model_format / _parse): every process on one store uses the
 * same model.
 */
#ifndef PATRON_MATCH_MODEL_H
#define PATRON_MATCH_MODEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum patron__match_field {
    PATRON__MF_FIRST,
    PATRON__MF_LAST,
    PATRON__MF_STREET,
    PATRON__MF_NUMBER,
    PATRON__MF_ADDITION,
    PATRON__MF_POSTAL,
    PATRON__MF_CITY,
    PATRON__MF_EMAIL,
    PATRON__MF_PHONE,
    PATRON__MF_BIRTH,
    PATRON__MF_COMPANY,
    PATRON__MF_IDENTIFIER, /* declared identifiers (custom properties, VAT ID of a company) */
    PATRON__MF_COUNT
} patron__match_field;

/** Comparison levels, best first.  Not every field uses every level. */
typedef enum patron__match_level {
    PATRON__ML_MISSING,   /* one side or both empty: weight 0 */
    PATRON__ML_EXACT,     /* equal after normalisation */
    PATRON__ML_VARIANT,   /* given-name variant / short form */
    PATRON__ML_SIMILAR,   /* small typo (Jaro-Winkler / Damerau-Levenshtein) */
    PATRON__ML_PHONETIC,  /* same Kölner Phonetik */
    PATRON__ML_PARTIAL,   /* part agrees: a name token, a date with swapped
                             day/month or one digit off, 12 vs 12a, ... */
    PATRON__ML_INITIAL,   /* initial fits the full given name */
    PATRON__ML_SWAPPED,   /* first and last name swapped */
    PATRON__ML_DIFFERENT, /* disagree */
    PATRON__ML_COUNT
} patron__match_level;

/** Version of the persisted text form (patron__match_model_format). */
#define PATRON__MODEL_VERSION 1
/** The meta key the model is stored under. */
#define PATRON__MODEL_META_KEY "patron.match.model"

typedef struct patron__match_model {
    double lambda; /* prior P(one person) of a candidate pair, (0, 1) */
    double m[PATRON__MF_COUNT][PATRON__ML_COUNT];
    double u[PATRON__MF_COUNT][PATRON__ML_COUNT];
    /* term-frequency adjustment of EXACT agreements (see above); a field
     * with tf_ref[f] <= 0 is not adjusted */
    double tf_ref[PATRON__MF_COUNT];   /* reference count of holders */
    double tf_share[PATRON__MF_COUNT]; /* ... or this share of N, if larger */
    double tf_up_max;                  /* a rare value adds at most this */
    double tf_power;                   /* a common value: tf_power * log2(ref/count) */
    /* ... for given and last name: a name's frequency is the population's
     * (Splink: log2(ref/count) once); a contact value (email, phone,
     * address, company) is one person's, so that many holders of it are
     * many people: it loses faster (tf_power) */
    double tf_power_name;
    /* given name, last name and address together add at most this (they
     * are not independent: a household shares them, father and son even
     * the given name); <= 0: no ceiling */
    double name_address_max;
} patron__match_model;

/** The built-in defaults (no estimation needed). */
void patron__match_model_default(patron__match_model *m);

/**
 * The model as text for the store's meta: "v=1;lambda=...;tfup=...;" then
 * per field and level with a probability "first_name.exact=m,u;" and per
 * field with a frequency reference "tf.last_name=ref,share;".  Returns a new
 * string (patron__free) or NULL when out of memory.
 */
char *patron__match_model_format(const patron__match_model *m);

/**
 * Parse what patron__match_model_format wrote, over `m` (start from the
 * defaults: entries not in the text keep their value).  Untrusted input:
 * every probability must lie in (0, 1], lambda in (0, 1); returns 0, or -1
 * for text that is not a model of a known version (then `m` is unchanged).
 */
int patron__match_model_parse(patron__match_model *m, const char *text);

#ifdef __cplusplus
}
#endif

#endif
