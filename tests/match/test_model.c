/*
 * Unit tests of the evidence model (issue 11): weights from m and u, the
 * prior and the probability, value frequencies, the safety rules, the
 * model's text form for the store's meta.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match/match.h"

#include "match_person.h"

/* A store of frequencies for the test: every value is held by `holders`
 * records unless it is in the list of (field, value, count). */
struct freq {
    double n, holders;
    int field;
    const char *value;
    double count;
};

static double freq_count(void *ctx, int field, const patron__match_rec *r, int addr)
{
    const struct freq *f = ctx;
    char value[PATRON__MATCH_KEY_MAX];
    if (!patron__match_tf_value(value, field, r, addr))
        return -1;
    if (f->value && field == f->field && strcmp(value, f->value) == 0)
        return f->count;
    return f->holders;
}

static int decide_tf(const struct person *a, const struct person *b, patron__match_result *res,
                     const struct freq *fr)
{
    patron__match_rec ra, rb;
    patron__match_config cfg;
    patron__match_tf tf;
    int d;

    patron__match_config_default(&cfg);
    tf.count = freq_count;
    tf.ctx = (void *)fr;
    tf.n = fr ? fr->n : 0;
    norm(&ra, a);
    norm(&rb, b);
    d = patron__match_score_tf(res, &ra, &rb, &cfg, fr ? &tf : NULL);
    patron__match_rec_free(&ra);
    patron__match_rec_free(&rb);
    return d;
}

static const struct person anna = {"Anna", "Schmidt", "Lindenstra\xc3\x9f" "e 5", "50667", "K\xc3\xb6ln",
                                   "anna.schmidt@web.de", "0221 4455667", NULL, NULL};

/* ---- weights, prior, probability -------------------------------------------- */

static void test_weights_from_m_u(void **state)
{
    patron__match_config cfg;
    (void)state;
    patron__match_config_default(&cfg);
    /* weight = log2(m/u) */
    for (int f = 0; f < PATRON__MF_COUNT; f++)
        for (int l = 0; l < PATRON__ML_COUNT; l++) {
            double m = cfg.m[f][l], u = cfg.u[f][l];
            if (m > 0 && u > 0 && l != PATRON__ML_MISSING)
                assert_true(fabs(cfg.weight[f][l] - log2(m / u)) < 1e-9);
            else
                assert_true(cfg.weight[f][l] == 0.0);
        }
    /* change m and u: the weight follows */
    cfg.m[PATRON__MF_PHONE][PATRON__ML_EXACT] = 0.5;
    cfg.u[PATRON__MF_PHONE][PATRON__ML_EXACT] = 0.125;
    patron__match_config_update(&cfg);
    assert_true(fabs(cfg.weight[PATRON__MF_PHONE][PATRON__ML_EXACT] - 2.0) < 1e-9);
    /* the prior and the thresholds are log-odds of probabilities */
    cfg.lambda = 0.2;
    cfg.merge_threshold = 0.8;
    cfg.review_threshold = 0.5;
    patron__match_config_update(&cfg);
    assert_true(fabs(cfg.prior - log2(0.25)) < 1e-9);
    assert_true(fabs(cfg.merge_score - 2.0) < 1e-9);
    assert_true(fabs(cfg.review_score) < 1e-9);
    /* the probability of a score */
    assert_true(fabs(patron__match_probability(0) - 0.5) < 1e-12);
    assert_true(fabs(patron__match_probability(3) - 8.0 / 9.0) < 1e-9);
    assert_true(fabs(patron__match_exp2(-7.25) - exp2(-7.25)) < 1e-12);
    assert_true(fabs(patron__match_log2(1e-5) - log2(1e-5)) < 1e-9);
}

static void test_score_is_prior_plus_weights(void **state)
{
    patron__match_result r;
    patron__match_config cfg;
    struct person b = anna;
    double sum = 0;
    (void)state;
    patron__match_config_default(&cfg);
    b.street = "Hauptstra\xc3\x9f" "e 99"; /* moved within Köln, same email and phone */
    decide_tf(&anna, &b, &r, NULL);
    for (int f = 0; f < PATRON__MF_COUNT; f++)
        if (f < PATRON__MF_STREET || f > PATRON__MF_CITY)
            sum += r.field[f].weight;
    sum += r.address_weight - r.name_address_cut;
    assert_true(fabs(r.score - (cfg.prior + sum)) < 1e-9);
    assert_true(fabs(r.probability - 1.0 / (1.0 + exp2(-r.score))) < 1e-9);
    assert_int_equal(r.decision, PATRON__MATCH_MERGE);
    assert_true(r.probability >= cfg.merge_threshold);
    assert_int_equal(r.rule, 0);
}

/* ---- value frequencies ----------------------------------------------------- */

static void test_frequency_weighs_common_values_less(void **state)
{
    patron__match_result r1, r50;
    struct freq one = {20000, 1, 0, NULL, 0}, fifty = {20000, 1, PATRON__MF_LAST, "schmidt", 50};
    struct person a = anna, b = anna;
    (void)state;
    a.email = b.email = NULL;
    a.phone = b.phone = NULL;
    b.street = "Ringstra\xc3\x9f" "e 1";
    decide_tf(&a, &b, &r1, &one);
    decide_tf(&a, &b, &r50, &fifty);
    assert_int_equal(r1.field[PATRON__MF_LAST].level, PATRON__ML_EXACT);
    assert_int_equal(r50.field[PATRON__MF_LAST].tf, 1);
    assert_true(r50.field[PATRON__MF_LAST].count == 50);
    assert_true(r50.field[PATRON__MF_LAST].n == 20000);
    /* held by 50: less than held by 1, and less than the level's weight */
    assert_true(r50.field[PATRON__MF_LAST].weight < r1.field[PATRON__MF_LAST].weight);
    assert_true(r50.field[PATRON__MF_LAST].weight < r50.field[PATRON__MF_LAST].base_weight);
    assert_true(r50.field[PATRON__MF_LAST].weight >= 0);
    /* held by one: at most tf_up_max more than the level's weight */
    assert_true(r1.field[PATRON__MF_LAST].weight > r1.field[PATRON__MF_LAST].base_weight);
    assert_true(r1.field[PATRON__MF_LAST].weight <= r1.field[PATRON__MF_LAST].base_weight + 1.0 + 1e-9);
    assert_true(r50.score < r1.score);
}

static void test_frequency_of_shared_contacts(void **state)
{
    /* an info@ mailbox held by 40, a mailbox held by 2 (a person and the
     * duplicate) */
    patron__match_result shared, own;
    struct person a = anna, b = anna;
    struct freq f40 = {5000, 2, PATRON__MF_EMAIL, "info@firma.de", 40}, f2 = {5000, 2, 0, NULL, 0};
    (void)state;
    a.email = b.email = "info@firma.de";
    decide_tf(&a, &b, &shared, &f40);
    decide_tf(&a, &b, &own, &f2);
    assert_int_equal(shared.field[PATRON__MF_EMAIL].level, PATRON__ML_EXACT);
    assert_true(shared.field[PATRON__MF_EMAIL].weight < own.field[PATRON__MF_EMAIL].weight - 4);
    /* an unknown count (a store that cannot say) keeps the level's weight */
    {
        struct freq unknown = {5000, -1, 0, NULL, 0};
        patron__match_result r;
        decide_tf(&a, &b, &r, &unknown);
        assert_int_equal(r.field[PATRON__MF_EMAIL].tf, 0);
        assert_true(r.field[PATRON__MF_EMAIL].weight == r.field[PATRON__MF_EMAIL].base_weight ||
                    r.field[PATRON__MF_EMAIL].base_weight == 0);
    }
}

/* ---- safety rules ----------------------------------------------------------- */

static void test_rule_household(void **state)
{
    patron__match_result r;
    struct person b = anna;
    (void)state;
    b.first = "Peter";
    b.email = "peter.schmidt@gmx.de";
    assert_int_equal(decide_tf(&anna, &b, &r, NULL), PATRON__MATCH_HOUSEHOLD);
    assert_int_equal(r.rule, PATRON__MATCH_RULE_HOUSEHOLD);
    assert_string_equal(patron__match_rule_name(r.rule), "household");
    assert_string_equal(patron__match_decision_name(r.decision), "household");
    /* an agreeing birth date: one person after all, no household */
    {
        struct person x = anna, y = b;
        x.birth = y.birth = "1970-03-04";
        assert_int_not_equal(decide_tf(&x, &y, &r, NULL), PATRON__MATCH_HOUSEHOLD);
        assert_int_not_equal(r.rule, PATRON__MATCH_RULE_HOUSEHOLD);
    }
}

static void test_rule_other_names(void **state)
{
    /* colleagues: one company address, switchboard and info@ mailbox */
    patron__match_result r;
    struct person a = {"Jonas", "Becker", "Industriestra\xc3\x9f" "e 7", "70173", "Stuttgart", "info@becker-bau.de",
                       "0711 900100", NULL, "Becker Bau GmbH"};
    struct person b = {"Miriam", "Okafor", "Industriestr. 7", "70173", "Stuttgart", "info@becker-bau.de",
                       "0711 900100", NULL, "Becker Bau GmbH"};
    (void)state;
    assert_int_not_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_MERGE);
    assert_int_equal(r.rule, PATRON__MATCH_RULE_OTHER_NAMES);
    assert_string_equal(patron__match_rule_name(r.rule), "other_names");
    /* a typo in one name is no "clearly different" */
    b.first = "Jonas";
    b.last = "Bekcer";
    decide_tf(&a, &b, &r, NULL);
    assert_int_not_equal(r.rule, PATRON__MATCH_RULE_OTHER_NAMES);
}

static void test_no_cap_on_strong_evidence(void **state)
{
    patron__match_result r;
    struct person b = anna;
    (void)state;
    /* a move: the same name and personal email, another city */
    b.street = "Leopoldstra\xc3\x9f" "e 40";
    b.postal = "80802";
    b.city = "M\xc3\xbcnchen";
    b.phone = NULL;
    assert_int_equal(decide_tf(&anna, &b, &r, NULL), PATRON__MATCH_MERGE);
    assert_int_equal(r.rule, 0);
    /* a second mailbox: the same name, address and phone */
    b = anna;
    b.email = "anna.s@posteo.de";
    assert_int_equal(decide_tf(&anna, &b, &r, NULL), PATRON__MATCH_MERGE);
    assert_int_equal(r.rule, 0);
}

/* ---- the model as text ------------------------------------------------------ */

static void test_model_text_round_trip(void **state)
{
    patron__match_model m, back;
    char *text;
    (void)state;
    patron__match_model_default(&m);
    m.lambda = 0.25;
    m.m[PATRON__MF_LAST][PATRON__ML_EXACT] = 0.7;
    m.u[PATRON__MF_LAST][PATRON__ML_EXACT] = 0.003;
    m.tf_ref[PATRON__MF_PHONE] = 4;
    text = patron__match_model_format(&m);
    assert_non_null(text);
    patron__match_model_default(&back);
    assert_int_equal(patron__match_model_parse(&back, text), 0);
    assert_true(back.lambda == 0.25);
    assert_true(back.m[PATRON__MF_LAST][PATRON__ML_EXACT] == 0.7);
    assert_true(back.u[PATRON__MF_LAST][PATRON__ML_EXACT] == 0.003);
    assert_true(back.tf_ref[PATRON__MF_PHONE] == 4);
    assert_true(memcmp(&m, &back, sizeof m) == 0);
    patron__free(text);
    /* untrusted text: refused, the model unchanged */
    {
        static const char *const bad[] = {
            "",                                 /* no version */
            "v=2;",                             /* unknown version */
            "v=1;lambda=1.5;",                  /* not a probability */
            "v=1;last_name.exact=0.5,0;",       /* u = 0 */
            "v=1;last_name.exact=0.5;",         /* no u */
            "v=1;shoe_size.exact=0.5,0.1;",     /* unknown field */
            "v=1;last_name.exact=nan,0.1;",     /* not a number */
            "v=1;lambda=0.1",                   /* unterminated */
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            patron__match_model x;
            patron__match_model_default(&x);
            back = x;
            assert_int_equal(patron__match_model_parse(&x, bad[i]), -1);
            assert_true(memcmp(&x, &back, sizeof x) == 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_from_m_u),
        cmocka_unit_test(test_score_is_prior_plus_weights),
        cmocka_unit_test(test_frequency_weighs_common_values_less),
        cmocka_unit_test(test_frequency_of_shared_contacts),
        cmocka_unit_test(test_rule_household),
        cmocka_unit_test(test_rule_other_names),
        cmocka_unit_test(test_no_cap_on_strong_evidence),
        cmocka_unit_test(test_model_text_round_trip),
    };
    return cmocka_run_group_tests_name("match/model", tests, NULL, NULL);
}
