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
#include <stdio.h>
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
    tf.counts = NULL; /* the callback, not per-record counts */
    tf.memo = NULL;
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
    /* a shop's shared mailbox held by 40, a mailbox held by 2 (a person and
     * the duplicate) */
    patron__match_result shared, own;
    struct person a = anna, b = anna;
    struct freq f40 = {5000, 2, PATRON__MF_EMAIL, "team-koeln@firma.de", 40}, f2 = {5000, 2, 0, NULL, 0};
    (void)state;
    a.email = b.email = "team-koeln@firma.de";
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

/* Shared contact data loses fast: c holders of one mailbox are c people.
 * A name loses more slowly (its frequency is the population's). */
static void test_frequency_contact_loses_faster_than_name(void **state)
{
    patron__match_config cfg;
    patron__match_result r;
    struct person a = anna, b = anna;
    struct freq mail5 = {5000, 2, PATRON__MF_EMAIL, "anna.schmidt@web.de", 5};
    struct freq last5 = {5000, 2, PATRON__MF_LAST, "schmidt", 20};
    double base;
    (void)state;
    patron__match_config_default(&cfg);
    assert_true(cfg.tf_power > cfg.tf_power_name);
    decide_tf(&a, &b, &r, &mail5);
    base = r.field[PATRON__MF_EMAIL].base_weight;
    /* held by 5 against a reference of 2: tf_power * log2(5/2) less */
    assert_true(fabs(r.field[PATRON__MF_EMAIL].weight - (base - cfg.tf_power * log2(5.0 / 2.0))) < 1e-6);
    assert_true(r.field[PATRON__MF_EMAIL].weight < base - 7.5); /* 10.8 -> 2.9 */
    /* a last name held by 20 of 5000 (reference max(3, 0.0005 N) = 3) */
    decide_tf(&a, &b, &r, &last5);
    base = r.field[PATRON__MF_LAST].base_weight;
    assert_true(fabs(r.field[PATRON__MF_LAST].weight - (base - cfg.tf_power_name * log2(20.0 / 3.0))) < 1e-6);
}

/* A building is one fact: every address field agreeing adds at most
 * address_max, not the sum of five fields. */
static void test_address_is_one_fact(void **state)
{
    patron__match_config cfg;
    patron__match_result r;
    struct person b = anna;
    (void)state;
    patron__match_config_default(&cfg);
    assert_true(cfg.address_max > 0);
    b.email = b.phone = NULL;
    decide_tf(&anna, &b, &r, NULL);
    assert_int_equal(r.field[PATRON__MF_STREET].level, PATRON__ML_EXACT);
    assert_int_equal(r.field[PATRON__MF_POSTAL].level, PATRON__ML_EXACT);
    assert_true(r.field[PATRON__MF_STREET].weight + r.field[PATRON__MF_NUMBER].weight +
                    r.field[PATRON__MF_POSTAL].weight + r.field[PATRON__MF_CITY].weight >
                cfg.address_max);
    assert_true(fabs(r.address_weight - cfg.address_max) < 1e-9);
}

/* A Packstation beside a home address is where the parcels go, not a move:
 * the addresses count neither for nor against. */
static void test_packstation_is_no_move(void **state)
{
    patron__match_config cfg;
    patron__match_result home, moved;
    struct person b = anna;
    (void)state;
    patron__match_config_default(&cfg);
    b.street = "Packstation 145";
    b.postal = "50670";
    b.phone = NULL;
    assert_int_equal(decide_tf(&anna, &b, &home, NULL), PATRON__MATCH_MERGE);
    assert_int_equal(home.field[PATRON__MF_STREET].level, PATRON__ML_DIFFERENT);
    assert_true(home.address_weight == 0);
    /* an ordinary other street: a move, the address floor */
    b.street = "Ringstra\xc3\x9f" "e 9";
    decide_tf(&anna, &b, &moved, NULL);
    assert_true(fabs(moved.address_weight - cfg.address_floor) < 1e-9);
    assert_true(moved.score < home.score);
}

/* The hard rule: given names AND last names that both differ are never a
 * MERGE — a short form or a variant of a given name (Ilse / Elisabeth,
 * Conrad / Konrad) and a phonetic likeness count as another name here,
 * whatever company address, switchboard and mailbox the two share. */
static void test_rule_other_names_variant_and_phonetic(void **state)
{
    static const char *const pairs[][4] = {
        {"Ilse", "Brandl", "Elisabeth", "M\xc3\xa4" "der"},
        {"Conrad", "Vollmer", "Konrad", "Trautmann"},
        {"Ulrike", "Schulz", "Ulrich", "Becker"},
        {"Hans Peter", "Kranz", "Peter", "Okafor"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        patron__match_result r;
        struct person a = {pairs[i][0], pairs[i][1], "Gewerbepark 31", "80469", "M\xc3\xbcnchen",
                           "info@nowicki-spedition.de", "02065 85380", "1970-01-02", "Spedition Nowicki GmbH"};
        struct person b = a;
        b.first = pairs[i][2];
        b.last = pairs[i][3];
        /* even one mailbox, phone, address, company and birth date */
        assert_int_not_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_MERGE);
        assert_int_equal(r.field[PATRON__MF_LAST].level, PATRON__ML_DIFFERENT);
        assert_int_equal(r.rule, PATRON__MATCH_RULE_OTHER_NAMES);
    }
}

/* Names in each other's fields with an initial ("K." / "Elisabeth" against
 * "Elisabeth" / "Kaemmerer") are swapped names, not another given name:
 * no household. */
static void test_swapped_names_with_an_initial(void **state)
{
    patron__match_result r;
    struct person a = anna, b = anna;
    (void)state;
    a.first = "S.";
    a.last = "Anna";
    a.email = NULL;
    assert_int_not_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_HOUSEHOLD);
    assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_SWAPPED);
    assert_int_equal(r.field[PATRON__MF_LAST].level, PATRON__ML_SWAPPED);
    assert_int_not_equal(r.rule, PATRON__MATCH_RULE_HOUSEHOLD);
}

/* One whole name in the other field ("Schmidt Peter" / "Anna Schmidt"):
 * the pair shares that name, written in the other field, beside a given
 * name that differs; that is not the household pattern (one last name,
 * another given name), so the household rule does not decide it.  An
 * initial in the other field ("S." / "Schmidt") is too weak to count as a
 * shared name: beside another given name at one address it stays a
 * household. */
static void test_half_swap_of_a_whole_name_is_no_household(void **state)
{
    patron__match_result r;
    struct person a = anna, b = anna;
    (void)state;
    b.first = "Schmidt";
    b.last = "Peter";
    b.email = NULL;
    b.phone = NULL;
    decide_tf(&anna, &b, &r, NULL);
    assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_SWAPPED);
    assert_int_equal(r.field[PATRON__MF_LAST].level, PATRON__ML_DIFFERENT);
    assert_int_not_equal(r.decision, PATRON__MATCH_HOUSEHOLD);
    assert_int_not_equal(r.rule, PATRON__MATCH_RULE_HOUSEHOLD);

    /* Peter Schmidt / "S." Peter's wife Anna: an initial in the other
     * field, another given name, one address: the household */
    a.first = "Peter";
    a.last = "Schmidt";
    a.email = NULL;
    a.phone = NULL;
    b.first = "S.";
    b.last = "Anna";
    decide_tf(&a, &b, &r, NULL);
    assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_SWAPPED);
    assert_int_equal(r.field[PATRON__MF_LAST].level, PATRON__ML_DIFFERENT);
    assert_int_not_equal(r.decision, PATRON__MATCH_MERGE);
}

/* The household verdict says "another person of one family": one last
 * name, another given name.  Where one record has no last name that is not
 * known; the pair is shown for review (and still never merged). */
static void test_household_needs_a_last_name(void **state)
{
    patron__match_result r;
    struct person a = anna, b = anna;
    (void)state;
    a.email = b.email = NULL;
    a.phone = b.phone = NULL;
    b.first = "Peter";
    b.last = NULL;
    decide_tf(&a, &b, &r, NULL);
    assert_int_equal(r.field[PATRON__MF_LAST].level, PATRON__ML_MISSING);
    assert_int_equal(r.decision, PATRON__MATCH_REVIEW);
    assert_int_equal(r.rule, PATRON__MATCH_RULE_HOUSEHOLD);
    /* with the last name, the household */
    b.last = anna.last;
    assert_int_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_HOUSEHOLD);
}

/* An initial's own mailbox may spell out the name it stands for: "J.
 * Frank" with jens1960@ is Jens, not Johanna Frank of the same address
 * (another given name: the household); with j.frank@, frank.j@ or
 * johanna.f@ the initial fits Johanna as before. */
static void test_initial_resolved_by_its_mailbox(void **state)
{
    patron__match_result r;
    struct person jo = {"Johanna", "Frank", "Industriestra\xc3\x9f" "e 10", "34117", "Kassel",
                        "frank.johanna@outlook.de", NULL, NULL, NULL};
    struct person j = jo;
    static const char *const fits[] = {"j.frank@gmx.de", "frank.j@gmx.de", "johanna.f1960@gmx.de",
                                       "jo.frank@gmx.de", NULL};
    (void)state;
    j.first = "J.";
    j.email = "jens1960@gmx.de";
    decide_tf(&jo, &j, &r, NULL);
    assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_DIFFERENT);
    assert_int_not_equal(r.decision, PATRON__MATCH_MERGE);
    decide_tf(&j, &jo, &r, NULL); /* either order */
    assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_DIFFERENT);
    for (int i = 0; fits[i]; i++) {
        j.email = fits[i];
        decide_tf(&jo, &j, &r, NULL);
        assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_INITIAL);
    }
    /* two initials: the mailbox names Jens, the other side says nothing */
    jo.first = "J.";
    j.email = "jens1960@gmx.de";
    decide_tf(&jo, &j, &r, NULL);
    assert_int_not_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_DIFFERENT);
    /* a role mailbox names no one */
    jo.first = "Johanna";
    j.email = "jobs@frank-bau.de";
    decide_tf(&jo, &j, &r, NULL);
    assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_INITIAL);
}

/* A house number agrees only on the same street, and the same number on
 * two streets is no evidence either way: not a second disagreement beside
 * the street's (a person whose street was written otherwise, or replaced,
 * keeps the number). */
static void test_same_number_on_another_street_is_neutral(void **state)
{
    patron__match_result r1, r2;
    struct person b = anna, c = anna;
    (void)state;
    b.street = "Goethestra\xc3\x9f" "e 5";
    c.street = "Goethestra\xc3\x9f" "e 7";
    decide_tf(&anna, &b, &r1, NULL);
    decide_tf(&anna, &c, &r2, NULL);
    assert_int_equal(r1.field[PATRON__MF_STREET].level, PATRON__ML_DIFFERENT);
    assert_int_equal(r1.field[PATRON__MF_NUMBER].level, PATRON__ML_MISSING);
    assert_true(r1.field[PATRON__MF_NUMBER].weight == 0.0);
    assert_int_equal(r2.field[PATRON__MF_NUMBER].level, PATRON__ML_DIFFERENT);
    assert_true(r2.field[PATRON__MF_NUMBER].weight < 0);
    /* the neutral number never scores above the agreeing one */
    assert_true(r1.score >= r2.score);
}

/* At one address, a given name that may be this one garbled beyond a typo
 * (Racxe / Rachel, "Ssha Un" / Shaun) is shown for review, not filed away
 * as a household and not merged (the household rule holds it back from
 * MERGE); another name (Juergen / Sabine) is the household. */
static void test_garbled_given_name_is_review_not_household(void **state)
{
    static const char *const garbled[][2] = {{"Racxe", "Rachel"}, {"Ssha Un", "Shaun"}};
    patron__match_result r;
    struct person a = anna, b = anna;
    (void)state;
    a.email = b.email = NULL;
    for (size_t i = 0; i < sizeof garbled / sizeof garbled[0]; i++) {
        a.first = garbled[i][0];
        b.first = garbled[i][1];
        assert_int_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_REVIEW);
        assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_DIFFERENT);
        assert_int_equal(r.rule, PATRON__MATCH_RULE_HOUSEHOLD); /* held back from MERGE */
    }
    a.first = "J\xc3\xbcrgen";
    b.first = "Sabine";
    assert_int_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_HOUSEHOLD);
    /* Jan / Jana: two people, the household */
    a.first = "Jan";
    b.first = "Jana";
    assert_int_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_HOUSEHOLD);
}

/* An identifier one typo apart (4086300 / 4086030) says who it is, like an
 * equal one: neither safety rule holds the pair back. */
static void test_identifier_typo_agrees(void **state)
{
    patron__match_config cfg;
    patron__match_raw raw[2];
    patron__match_raw_addr ad;
    patron__match_rec ra, rb;
    patron__match_result r;
    (void)state;
    patron__match_config_default(&cfg);
    memset(raw, 0, sizeof raw);
    memset(&ad, 0, sizeof ad);
    ad.street = "Erldunda Circuit 7";
    ad.postal_code = "62330";
    ad.city = "Jena";
    for (int i = 0; i < 2; i++) {
        raw[i].last_name = "Capurso";
        raw[i].addr = &ad;
        raw[i].n_addr = 1;
        raw[i].n_ident = 1;
    }
    raw[0].first_name = "Harrison";
    raw[1].first_name = "Ruby";
    raw[0].ident[0] = "4086300";
    raw[1].ident[0] = "4086030";
    assert_int_equal(patron__match_normalize(&ra, &raw[0], "DE"), 0);
    assert_int_equal(patron__match_normalize(&rb, &raw[1], "DE"), 0);
    patron__match_score_tf(&r, &ra, &rb, &cfg, NULL);
    assert_int_equal(r.field[PATRON__MF_IDENTIFIER].level, PATRON__ML_SIMILAR);
    assert_int_not_equal(r.decision, PATRON__MATCH_HOUSEHOLD);
    assert_int_equal(r.rule, 0);
    patron__match_rec_free(&ra);
    patron__match_rec_free(&rb);
}

/* info@, kontakt@, buchhaltung@: an office's mailbox says "this company",
 * not "this person", however few customers hold it; the explanation keeps
 * the level's weight beside the weight given. */
static void test_role_mailbox_is_no_personal_evidence(void **state)
{
    patron__match_config cfg;
    patron__match_result role, own;
    struct person a = anna, b = anna;
    (void)state;
    patron__match_config_default(&cfg);
    a.email = b.email = "Info@Schmidt-Druck.de";
    decide_tf(&a, &b, &role, NULL);
    assert_int_equal(role.field[PATRON__MF_EMAIL].level, PATRON__ML_EXACT);
    assert_true(role.field[PATRON__MF_EMAIL].weight == cfg.role_mailbox_max);
    assert_true(role.field[PATRON__MF_EMAIL].base_weight == cfg.weight[PATRON__MF_EMAIL][PATRON__ML_EXACT]);
    a.email = b.email = "anna.schmidt@schmidt-druck.de";
    decide_tf(&a, &b, &own, NULL);
    assert_true(own.field[PATRON__MF_EMAIL].weight == cfg.weight[PATRON__MF_EMAIL][PATRON__ML_EXACT]);
    assert_true(own.score > role.score + 8);
    /* "information@" or "infos@" are not on the list; only whole names count */
    a.email = b.email = "informatik@schmidt-druck.de";
    decide_tf(&a, &b, &own, NULL);
    assert_true(own.field[PATRON__MF_EMAIL].weight == cfg.weight[PATRON__MF_EMAIL][PATRON__ML_EXACT]);
}

/* Two family members at one building under one last name are a household
 * even when the evidence alone says DISTINCT (other mailboxes, other
 * phones): "one catalogue per household" finds them. */
static void test_household_without_shared_contacts(void **state)
{
    patron__match_result r;
    struct person a = anna, b = anna;
    /* four people at the address; a common last name */
    struct freq f = {20000, 4, PATRON__MF_LAST, "schmidt", 200};
    (void)state;
    b.first = "Peter";
    b.email = "p.schmidt@gmx.de";
    b.phone = "0171 2345678";
    assert_int_equal(decide_tf(&a, &b, &r, &f), PATRON__MATCH_HOUSEHOLD);
    assert_int_equal(r.rule, PATRON__MATCH_RULE_HOUSEHOLD);
    {
        patron__match_config cfg;
        patron__match_config_default(&cfg);
        assert_true(r.score < cfg.review_score); /* the evidence alone: DISTINCT */
    }
    /* another house number: neighbours, not a household */
    b.street = "Lindenstra\xc3\x9f" "e 7";
    assert_int_equal(decide_tf(&a, &b, &r, &f), PATRON__MATCH_DISTINCT);
}

/* ---- names alone (issue 11: registered at work, moved with a new mailbox) ---- */

/* Frequencies by field: given name, last name and the full name each held
 * by their own number of records (< 0: not counted), anything else by 1. */
struct name_freq {
    double n, first, last, full;
};

static double name_count(void *ctx, int field, const patron__match_rec *r, int addr)
{
    const struct name_freq *f = ctx;
    (void)r;
    (void)addr;
    if (field == PATRON__MF_FIRST)
        return f->first;
    if (field == PATRON__MF_LAST)
        return f->last;
    if (field == PATRON__TF_FULL_NAME)
        return f->full;
    return 1;
}

static int decide_names(const struct person *a, const struct person *b, patron__match_result *res,
                        const struct name_freq *fr)
{
    patron__match_rec ra, rb;
    patron__match_config cfg;
    patron__match_tf tf = { name_count, (void *)fr, fr->n, NULL, NULL };
    int d;

    patron__match_config_default(&cfg);
    norm(&ra, a);
    norm(&rb, b);
    d = patron__match_score_tf(res, &ra, &rb, &cfg, &tf);
    patron__match_rec_free(&ra);
    patron__match_rec_free(&rb);
    return d;
}

/* Frequencies of a place many strangers share: given, last and full name
 * as struct name_freq, the address, mailbox, phone and company each held
 * by `place` records (a company's building, info@ and switchboard; a
 * Packstation). */
struct place_freq {
    struct name_freq names;
    double place;
};

static double place_count(void *ctx, int field, const patron__match_rec *r, int addr)
{
    const struct place_freq *f = ctx;
    if (field == PATRON__MF_FIRST || field == PATRON__MF_LAST || field == PATRON__TF_FULL_NAME)
        return name_count((void *)&f->names, field, r, addr);
    return f->place;
}

static int decide_place(const struct person *a, const struct person *b, patron__match_result *res,
                        const struct place_freq *fr)
{
    patron__match_rec ra, rb;
    patron__match_config cfg;
    patron__match_tf tf = { place_count, (void *)fr, fr->names.n, NULL, NULL };
    int d;

    patron__match_config_default(&cfg);
    norm(&ra, a);
    norm(&rb, b);
    d = patron__match_score_tf(res, &ra, &rb, &cfg, &tf);
    patron__match_rec_free(&ra);
    patron__match_rec_free(&rb);
    return d;
}

/* A colleague who registered twice with the company's address, info@ and
 * switchboard (issue 11): the contact data are eight colleagues' and say
 * little; a full name that only these two hold says one person when a
 * chance namesake among the place's few customers is unlikely (eight
 * holders x 100/8 000 x 160/8 000 = 0.002) - even where each part is
 * common.  A third holder of the name, or a place so many share that a
 * namesake is expected, keeps the pair at REVIEW; so does a home, whose
 * family shares its last name by birth. */
static void test_colleague_registered_twice(void **state)
{
    patron__match_result r;
    struct person a = { "Roswitha", "WÃ¤" "chter", "Werkstr. 41", "24937", "Flensburg",
                        "info@ostermann-logistik.de", "0461 399100", NULL, "Ostermann Logistik GmbH" };
    struct person b = a;
    struct place_freq fr = { { 8000, 100, 160, 2 }, 8 };
    (void)state;
    assert_int_equal(decide_place(&a, &b, &r, &fr), PATRON__MATCH_MERGE);
    assert_true(r.field[PATRON__MF_EMAIL].weight <= 0); /* info@ is the company's */
    /* a third holder of the full name: a namesake colleague is possible */
    fr.names.full = 3;
    assert_int_equal(decide_place(&a, &b, &r, &fr), PATRON__MATCH_REVIEW);
    fr.names.full = 2;
    /* a place held by 4 000 customers: a namesake there is expected */
    fr.place = 4000;
    assert_int_equal(decide_place(&a, &b, &r, &fr), PATRON__MATCH_REVIEW);
    fr.place = 8;
    /* strangers at one Packstation: the same */
    a.company = b.company = NULL;
    a.email = b.email = NULL;
    a.phone = b.phone = NULL;
    a.street = b.street = "Packstation 145";
    assert_int_equal(decide_place(&a, &b, &r, &fr), PATRON__MATCH_MERGE);
    fr.names.full = 3;
    assert_int_equal(decide_place(&a, &b, &r, &fr), PATRON__MATCH_REVIEW);
    fr.names.full = 2;
    /* another given name at that place: never MERGE */
    b.first = "Rosemarie";
    assert_int_not_equal(decide_place(&a, &b, &r, &fr), PATRON__MATCH_MERGE);
}

/* Frequencies for the personal-contact rule: names as struct name_freq,
 * the mailbox and the phone each held by `contact` records, the rest by
 * one. */
struct contact_freq {
    struct name_freq names;
    double contact;
};

static double contact_count(void *ctx, int field, const patron__match_rec *r, int addr)
{
    const struct contact_freq *f = ctx;
    if (field == PATRON__MF_EMAIL || field == PATRON__MF_PHONE)
        return f->contact;
    return name_count((void *)&f->names, field, r, addr);
}

static int decide_contact(const struct person *a, const struct person *b, patron__match_result *res,
                          const struct contact_freq *fr, const patron__match_config *cfg)
{
    patron__match_rec ra, rb;
    patron__match_tf tf = { contact_count, (void *)fr, fr->names.n, NULL, NULL };
    int d;

    norm(&ra, a);
    norm(&rb, b);
    d = patron__match_score_tf(res, &ra, &rb, cfg, &tf);
    patron__match_rec_free(&ra);
    patron__match_rec_free(&rb);
    return d;
}

/* A personal contact value only the pair holds (issue 11: "a move with the
 * same name and a personal email is MERGE"): a customer with a common
 * name (100 and 160 of 8 000 customers hold the parts) moved to another
 * town and kept the mobile number (or the landline) but not the mailbox,
 * or kept a personal mailbox.  Two people do not share one mobile number
 * or mailbox, nor one line at two homes: MERGE.  A landline at one address
 * (the household's), a number or mailbox that three customers hold,
 * a name-built mailbox at a public provider (namesakes build it) or
 * another given name (a family phone) is no such evidence. */
static void test_personal_contact(void **state)
{
    patron__match_result r;
    patron__match_config cfg, off;
    struct person a = { "Klaus", "M\xc3\xbcller", "Lindenweg 3", "79098", "Freiburg", "kmueller.fr@posteo.de",
                        "0171 2233445", NULL, NULL };
    struct person b = { "Klaus", "M\xc3\xbcller", "Am Hafen 21", "28195", "Bremen", "klaus.mueller.hb@web.de",
                        "+49 171 2233445", NULL, NULL };
    struct contact_freq fr = { { 8000, 100, 160, 2 }, 2 };
    (void)state;
    patron__match_config_default(&cfg);
    off = cfg;
    off.personal_contact = 0;
    /* a move, the mobile kept, a new mailbox */
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    assert_true(r.field[PATRON__MF_PHONE].weight == cfg.personal_contact);
    assert_true(r.field[PATRON__MF_EMAIL].weight == cfg.second_contact_floor);
    assert_int_not_equal(decide_contact(&a, &b, &r, &fr, &off), PATRON__MATCH_MERGE);
    /* held by three: a shared phone */
    fr.contact = 3;
    assert_int_not_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    fr.contact = 2;
    /* a landline kept through a move: one line, two homes - one person */
    a.phone = "0761 4455667";
    b.phone = "0761 4455667";
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    assert_true(r.field[PATRON__MF_PHONE].weight == cfg.personal_contact);
    assert_int_not_equal(decide_contact(&a, &b, &r, &fr, &off), PATRON__MATCH_MERGE);
    /* ... at one address it is the household's: the level's weight */
    {
        struct person h = b;
        h.street = a.street;
        h.postal = a.postal;
        h.city = a.city;
        decide_contact(&a, &h, &r, &fr, &cfg);
        assert_true(r.field[PATRON__MF_PHONE].weight < cfg.personal_contact);
    }
    /* birth dates a generation apart: a father and son on one mobile */
    a.birth = "1955-02-11";
    b.birth = "1988-09-30";
    decide_contact(&a, &b, &r, &fr, &cfg);
    assert_true(r.field[PATRON__MF_PHONE].weight < cfg.personal_contact);
    a.birth = b.birth = NULL;
    /* another given name sharing the mobile: never MERGE */
    a.phone = b.phone = "0171 2233445";
    b.first = "Sabine";
    assert_int_not_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    b.first = "Klaus";
    /* a move with the personal mailbox kept, another mobile; a full name
     * twenty customers hold (no lift from its rarity) */
    b.email = a.email;
    b.phone = "0160 9988776";
    fr.names.full = 20;
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    assert_true(r.field[PATRON__MF_EMAIL].weight == cfg.personal_contact);
    assert_true(r.field[PATRON__MF_PHONE].weight == cfg.second_contact_floor);
    assert_int_not_equal(decide_contact(&a, &b, &r, &fr, &off), PATRON__MATCH_MERGE);
    /* a marriage to a double name that keeps the old one, and a move:
     * the personal mailbox kept */
    {
        struct person m = { "Maria", "Weber", "Lindenweg 3", "79098", "Freiburg", "mweber.66@mail.de", "0171 2233445",
                            NULL, NULL };
        struct person w = { "Maria", "Bachmann-Weber", "Am Hafen 21", "28195", "Bremen", "mweber.66@mail.de",
                            "0160 9988776", NULL, NULL };
        assert_int_equal(decide_contact(&m, &w, &r, &fr, &cfg), PATRON__MATCH_MERGE);
        assert_int_equal(r.field[PATRON__MF_LAST].level, PATRON__ML_PARTIAL);
        assert_int_not_equal(decide_contact(&m, &w, &r, &fr, &off), PATRON__MATCH_MERGE);
        /* another last name altogether: a marriage as well, the mailbox
         * names the maiden name (test_married_moved_contact); the
         * evidence decides */
        w.last = "Bachmann";
        decide_contact(&m, &w, &r, &fr, &cfg);
        assert_true(r.field[PATRON__MF_EMAIL].weight == cfg.personal_contact);
    }
    /* the mailbox of nothing but the name at a public provider */
    a.email = b.email = "klaus.mueller@web.de";
    decide_contact(&a, &b, &r, &fr, &cfg);
    assert_true(r.field[PATRON__MF_EMAIL].weight < cfg.personal_contact);
    /* a role mailbox */
    a.email = b.email = "info@mueller-haustechnik.de";
    decide_contact(&a, &b, &r, &fr, &cfg);
    assert_true(r.field[PATRON__MF_EMAIL].weight < cfg.personal_contact);
}

/* A mailbox of nothing but the name at a public provider, kept through a
 * move: namesakes build such mailboxes, so beside a full name whose parts
 * are common (a namesake expected) a person looks; beside a full name that
 * only the pair holds and that two strangers would rarely share
 * (60 x 13 / 8 000 = 0.1 holders expected) there is no namesake to build
 * it, and it is the person's own: MERGE.  A third holder of the full name,
 * or a third holder of the mailbox, keeps it at REVIEW.  (The parts weigh
 * little here: a model whose name frequencies take 6 bits per doubling.) */
static void test_rare_name_mailbox(void **state)
{
    patron__match_result r;
    patron__match_config cfg;
    struct person a = { "Wiebke", "Tjarks", "Lindenweg 3", "79098", "Freiburg", "wiebke.tjarks@web.de", NULL, NULL,
                        NULL };
    struct person b = { "Wiebke", "Tjarks", "Am Hafen 21", "28195", "Bremen", "wiebke.tjarks@web.de", NULL, NULL,
                        NULL };
    struct contact_freq fr = { { 8000, 60, 13, 2 }, 2 };
    (void)state;
    patron__match_config_default(&cfg);
    cfg.tf_power_name = 6.0;
    /* this rule alone (test_name_mailbox_unshared: at 0.1 namesakes
     * expected such a mailbox is a personal contact value as well) */
    cfg.name_mailbox_expect = 0;
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    /* common parts: a namesake is expected */
    fr.names.first = 100;
    fr.names.last = 160;
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_REVIEW);
    fr.names.first = 60;
    fr.names.last = 13;
    /* a third holder of the full name */
    fr.names.full = 3;
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_REVIEW);
    fr.names.full = 2;
    /* a third holder of the mailbox */
    fr.contact = 3;
    assert_int_not_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
}

/* A marriage and a move at once (issue 11's life events): the same given
 * name under another last name at another address, and a personal contact
 * value only the pair holds - the mobile number kept, or the mailbox kept
 * that names the maiden or the married name (muellerh2@ for Helga Müller /
 * Helga Böhm).  Two people do not share one: it weighs +13, and where
 * the given name is rare enough to outweigh the other last name and the
 * move (8 of 8 000 hold Helga here) it is a MERGE (rule name_change lets
 * it: the value is the person's own evidence); the mobile kept weighs
 * +13 as well, the new mailbox beside it -1.  A mailbox that names
 * neither last name (helga1961@: any Helga's), a given name only alike, or
 * a value three customers hold keeps it from MERGE. */
static void test_married_moved_contact(void **state)
{
    patron__match_result r;
    patron__match_config cfg;
    struct person a = { "Helga", "M\xc3\xbcller", "Wiesenweg 20", "10115", "Berlin", "muellerh2@gmx.net", NULL, NULL,
                        NULL };
    struct person b = { "Helga", "B\xc3\xb6hm", "Talstra\xc3\x9f" "e 57", "83022", "Rosenheim", "muellerh2@gmx.net", NULL,
                        NULL, NULL };
    struct contact_freq fr = { { 8000, 8, 160, 2 }, 2 };
    (void)state;
    patron__match_config_default(&cfg);
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    assert_int_equal(r.field[PATRON__MF_LAST].level, PATRON__ML_DIFFERENT);
    assert_true(r.field[PATRON__MF_EMAIL].weight == cfg.personal_contact);
    /* held by three */
    fr.contact = 3;
    assert_int_not_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    fr.contact = 2;
    /* a mailbox that names no last name of the two */
    a.email = b.email = "helga1961@gmx.net";
    assert_int_not_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    /* the mobile kept, a mailbox of the new name */
    a.email = "muellerh2@gmx.net";
    b.email = "helga.boehm@web.de";
    a.phone = "0171 2233445";
    b.phone = "+49 171 2233445";
    decide_contact(&a, &b, &r, &fr, &cfg);
    assert_true(r.field[PATRON__MF_PHONE].weight == cfg.personal_contact);
    assert_true(r.field[PATRON__MF_EMAIL].weight == cfg.second_contact_floor);
    /* a given name only alike: two people */
    b.first = "Helge";
    assert_int_not_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    assert_true(r.field[PATRON__MF_PHONE].weight < cfg.personal_contact);
}

/* The marriage's move: Maria Müller of Halle and Maria Kaiser of
 * Rosenheim hold maria.kaiser1961@ alone - a personal mailbox that names
 * one of the two last names ties the two names (a marriage), and a
 * marriage is as often as not a move to a home of two: the two addresses
 * weigh marriage_move_floor (-1), not the address floor (-6), and the pair
 * of a common given name (100 of 8 000) is a MERGE.  Without the floor it
 * is REVIEW; without the shared mailbox nothing ties the names and the
 * address keeps its weight. */
static void test_marriage_move(void **state)
{
    patron__match_result r;
    patron__match_config cfg, off;
    struct person a = { "Maria", "M\xc3\xbcller", "Birkenweg 45", "06108", "Halle", "maria.kaiser1961@mail.de", NULL,
                        NULL, NULL };
    struct person b = { "Maria", "Kaiser", "Am Sportplatz 113", "83022", "Rosenheim", "maria.kaiser1961@mail.de", NULL,
                        NULL, NULL };
    struct contact_freq fr = { { 8000, 100, 160, 2 }, 2 };
    (void)state;
    patron__match_config_default(&cfg);
    off = cfg;
    off.marriage_move_floor = 0;
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    assert_true(r.address_weight == cfg.marriage_move_floor);
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &off), PATRON__MATCH_REVIEW);
    assert_true(r.address_weight == cfg.address_floor);
    /* one last name: a move, not a marriage - the address floor */
    b.last = a.last;
    b.email = a.email = "maria.mueller1961@mail.de";
    decide_contact(&a, &b, &r, &fr, &cfg);
    assert_true(r.address_weight == cfg.address_floor);
    /* two mailboxes: nothing ties the two names */
    b.last = "Kaiser";
    b.email = "maria.kaiser@web.de";
    decide_contact(&a, &b, &r, &fr, &cfg);
    assert_true(r.address_weight == cfg.address_floor);
}

/* A move with a new mailbox where the full name only the pair holds and
 * the birth date agree (Regina Lindemann, born 1946-09-25, of Bremen and
 * of Berlin): one person - the new mailbox came with the new home, so the
 * mailboxes' disagreement weighs moved_mailbox_floor (-1), not -5.6, and
 * the pair is a MERGE.  Without the floor REVIEW; a third holder of the
 * full name (a namesake who may share a placeholder birth date), a birth
 * date that differs, or one address keep the level's weight. */
static void test_moved_with_birth(void **state)
{
    patron__match_result r;
    patron__match_config cfg, off;
    struct person a = { "Regina", "Lindemann", "Pappelallee 94", "28203", "Bremen", "r.lindemann91@posteo.de", NULL,
                        "1946-09-25", NULL };
    struct person b = { "Regina", "Lindemann", "Kiefernweg 70", "10247", "Berlin", "regina_lindemann@gmx.net", NULL,
                        "1946-09-25", NULL };
    struct contact_freq fr = { { 8000, 20, 157, 2 }, 1 };
    (void)state;
    patron__match_config_default(&cfg);
    off = cfg;
    off.moved_mailbox_floor = 0;
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    assert_true(r.field[PATRON__MF_EMAIL].weight == cfg.moved_mailbox_floor);
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &off), PATRON__MATCH_REVIEW);
    /* the early-exit bound knows the floor: with REVIEW and MERGE at
     * 0.995 the pair is a MERGE by the floor's lift alone, and a query that
     * asks for DISTINCT pairs only must not call it one early */
    {
        patron__match_config hi = cfg;
        patron__match_rec ra, rb;
        patron__match_tf tf = { contact_count, (void *)&fr, fr.names.n, NULL, NULL };
        patron__match_query *q = malloc(sizeof *q);
        assert_non_null(q);
        hi.review_threshold = hi.merge_threshold = 0.995;
        patron__match_config_update(&hi);
        norm(&ra, &a);
        norm(&rb, &b);
        patron__match_query_init(q, &ra);
        q->distinct_only = 1;
        assert_int_equal(patron__match_score_q(&r, q, &rb, &hi, &tf), PATRON__MATCH_MERGE);
        free(q);
        patron__match_rec_free(&ra);
        patron__match_rec_free(&rb);
    }
    /* a third holder of the full name */
    fr.names.full = 3;
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_REVIEW);
    fr.names.full = 2;
    /* another birth date */
    b.birth = "1946-10-25";
    decide_contact(&a, &b, &r, &fr, &cfg);
    assert_true(r.field[PATRON__MF_EMAIL].weight < cfg.moved_mailbox_floor - 1);
    b.birth = a.birth;
    /* one address: no move */
    b.street = a.street;
    b.postal = a.postal;
    b.city = a.city;
    decide_contact(&a, &b, &r, &fr, &cfg);
    assert_true(r.field[PATRON__MF_EMAIL].weight < cfg.moved_mailbox_floor - 1);
}

/* A mailbox of nothing but the name at a public provider, kept through a
 * move, under a full name of uncommon parts (40 x 50 / 8 000 = 0.25
 * namesakes expected by chance: not rare enough for the name alone,
 * rare_name_expect 0.1): one address string is one mailbox, and a
 * namesake who built this very one is rarer still - the person's own,
 * MERGE (issue 11: "a move with the same name and a personal email is
 * MERGE").  Parts a namesake is expected of (100 x 160 / 8 000 = 2), a
 * third holder of the mailbox keep it from MERGE; a third
 * holder of the full name does not (one person's third record, as often
 * as not). */
static void test_name_mailbox_unshared(void **state)
{
    patron__match_result r;
    patron__match_config cfg, off;
    struct person a = { "Wiebke", "Tjarks", "Lindenweg 3", "79098", "Freiburg", "wiebke.tjarks@web.de", NULL, NULL,
                        NULL };
    struct person b = { "Wiebke", "Tjarks", "Am Hafen 21", "28195", "Bremen", "wiebke.tjarks@web.de",
                        "0160 9988776", NULL, NULL };
    struct contact_freq fr = { { 8000, 40, 50, 2 }, 2 };
    (void)state;
    patron__match_config_default(&cfg);
    off = cfg;
    off.name_mailbox_expect = 0;
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    assert_true(r.field[PATRON__MF_EMAIL].weight == cfg.personal_contact);
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &off), PATRON__MATCH_REVIEW);
    /* a third holder of the full name: still the one mailbox */
    fr.names.full = 3;
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    fr.names.full = 2;
    /* common parts: a namesake expected */
    fr.names.first = 100;
    fr.names.last = 160;
    assert_int_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_REVIEW);
    fr.names.first = 40;
    fr.names.last = 50;
    /* a third holder of the mailbox */
    fr.contact = 3;
    assert_int_not_equal(decide_contact(&a, &b, &r, &fr, &cfg), PATRON__MATCH_MERGE);
    fr.contact = 2;
}

/* One name and nothing else in common - a Packstation and no mailbox
 * beside a home - is REVIEW ("name_only"), however rare the name; one
 * agreeing mailbox more and it is a MERGE. */
static void test_rule_name_only(void **state)
{
    patron__match_result r;
    struct person a = anna, b = anna;
    struct name_freq rare = {20000, 2, 2, 2};
    (void)state;
    b.street = "Packstation 145";
    b.postal = "04103";
    b.city = "Leipzig";
    b.email = NULL;
    b.phone = NULL;
    assert_int_equal(decide_names(&a, &b, &r, &rare), PATRON__MATCH_REVIEW);
    assert_int_equal(r.rule, PATRON__MATCH_RULE_NAME_ONLY);
    assert_string_equal(patron__match_rule_name(r.rule), "name_only");
    {
        patron__match_config cfg;
        patron__match_config_default(&cfg);
        assert_true(r.score >= cfg.merge_score); /* the evidence alone said MERGE */
    }
    b.email = a.email;
    assert_int_equal(decide_names(&a, &b, &r, &rare), PATRON__MATCH_MERGE);
    assert_int_equal(r.rule, 0);
}

/* Registered at work: the company's address, a personal work mailbox and
 * the switchboard against a home.  Given and last name are common in the
 * store (each a few percent of it), but only these two hold the full
 * name: REVIEW.  Not counted, or held by many (Thomas Müller twenty times),
 * or with the company's info@ or a public mailbox: DISTINCT. */
static void test_registered_at_work(void **state)
{
    patron__match_result r;
    const struct person home = {"Volker", "Gebauer", "Am Anger 105", "28203", "Bremen", "gebauer.volker@gmx.net",
                                "0160 9353052", NULL, NULL};
    struct person work = {"Volker", "Gebauer", "Gewerbepark 27", "24937", "Flensburg",
                          "volker.gebauer@pruefer-software.de", "0461 2017000", NULL,
                          "Softwarehaus PrÃ¼" "fer GmbH"};
    struct name_freq fr = {8000, 100, 160, 2};
    patron__match_config cfg;
    (void)state;
    patron__match_config_default(&cfg);
    assert_int_equal(decide_names(&home, &work, &r, &fr), PATRON__MATCH_REVIEW);
    assert_true(r.score < cfg.merge_score); /* the full name lifts to REVIEW, never to MERGE */
    /* the office's contact data weigh at most company_contact_floor each */
    assert_true(r.address_weight >= cfg.company_contact_floor);
    assert_true(r.field[PATRON__MF_EMAIL].weight >= cfg.company_contact_floor);
    assert_true(r.field[PATRON__MF_PHONE].weight >= cfg.company_contact_floor);
    fr.full = -1; /* no count of the full name (a store): the parts decide */
    assert_int_equal(decide_names(&home, &work, &r, &fr), PATRON__MATCH_DISTINCT);
    fr.full = 20;
    assert_int_equal(decide_names(&home, &work, &r, &fr), PATRON__MATCH_DISTINCT);
    fr.full = 2;
    work.email = "info@pruefer-software.de";
    assert_int_equal(decide_names(&home, &work, &r, &fr), PATRON__MATCH_DISTINCT);
    work.email = "volker.gebauer@web.de"; /* a public mailbox is the person's own */
    assert_int_equal(decide_names(&home, &work, &r, &fr), PATRON__MATCH_DISTINCT);
}

/* Jan / Jana at one address are two people (a household); Sophi / Sophie
 * is a letter lost (a male form ends in a consonant, or is Andrea/Andreas). */
static void test_gender_pair_or_lost_letter(void **state)
{
    patron__match_result r;
    struct person a = anna, b = anna;
    (void)state;
    a.first = "Jan";
    b.first = "Jana";
    b.email = "jana.schmidt@gmx.de";
    b.phone = NULL;
    assert_int_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_HOUSEHOLD);
    a.first = "Sophi";
    b.first = "Sophie";
    assert_int_not_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_HOUSEHOLD);
    assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_SIMILAR);
    a.first = "Andrea";
    b.first = "Andreas";
    assert_int_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_HOUSEHOLD);
}

/* A move (another town, another street) of one person with a full name
 * only the two records hold, in a store whose given and last names are
 * each common (a few percent of it): the name lifts to MERGE beside a
 * person's own evidence - the same mobile, the same birth date, a mailbox
 * that is more than the name - and to REVIEW at most beside a mailbox that
 * only repeats the name (namesakes build the same one). */
static void test_move_with_own_evidence(void **state)
{
    static const char *const names[][2] = {
        { "Conrad", "Rademacher" }, { "Bettina", "Kaczmarek" }, { "J\xc3\xbcrgen", "Wei\xc3\x9f" }, { "Ilse", "Oberl\xc3\xa4nder" },
    };
    struct name_freq fr = { 8000, 90, 150, 2 };
    patron__match_config cfg;
    (void)state;
    patron__match_config_default(&cfg);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        patron__match_result r;
        char built[64], other[64], digits[64];
        struct person home = { names[i][0], names[i][1], "Marienstra\xc3\x9f" "e 12", "45138", "Essen", NULL,
                               "0171 2345678", NULL, NULL };
        struct person moved = { names[i][0], names[i][1], "Am Anger 7", "87435", "Kempten", NULL, NULL, NULL, NULL };
        patron__match_rec rec;
        /* the mailboxes as their owner builds them: from the normalised name */
        norm(&rec, &home);
        snprintf(built, sizeof built, "%s.%s@web.de", rec.first, rec.last);
        snprintf(other, sizeof other, "%c%s@gmx.net", rec.first[0], rec.last);
        snprintf(digits, sizeof digits, "%s%s71@web.de", rec.first, rec.last);
        patron__match_rec_free(&rec);
        home.email = built;

        /* the same mobile, no mailbox given */
        moved.phone = "+49 171 2345678";
        assert_int_equal(decide_names(&home, &moved, &r, &fr), PATRON__MATCH_MERGE);
        assert_int_equal(r.rule, 0);
        /* ... and a new mailbox beside it: a second mailbox of one person
         * - two namesakes do not share a mobile number that only they hold
         * (personal_contact; until issue 11's second session a person
         * looked) */
        moved.email = other;
        assert_int_equal(decide_names(&home, &moved, &r, &fr), PATRON__MATCH_MERGE);
        moved.email = NULL;
        /* no mailbox, no phone, the same birth date */
        home.birth = moved.birth = "1961-03-14";
        moved.email = moved.phone = NULL;
        assert_int_equal(decide_names(&home, &moved, &r, &fr), PATRON__MATCH_MERGE);
        home.birth = moved.birth = NULL;
        /* the same mailbox with more than the name in it */
        home.email = moved.email = digits;
        assert_int_equal(decide_names(&home, &moved, &r, &fr), PATRON__MATCH_MERGE);
        /* the same mailbox that is the name and nothing else: the name
         * twice, not a person's own evidence */
        home.email = moved.email = built;
        assert_int_equal(decide_names(&home, &moved, &r, &fr), PATRON__MATCH_REVIEW);
        assert_true(r.score < cfg.merge_score);
        /* ... and with the mobile beside it, MERGE again */
        home.phone = moved.phone = "0171 2345678";
        assert_int_equal(decide_names(&home, &moved, &r, &fr), PATRON__MATCH_MERGE);
        /* a full name many hold (twenty Thomas Müllers) gains nothing from
         * its rarity: the name-built mailbox alone keeps it from MERGE */
        home.phone = moved.phone = NULL;
        fr.full = 20;
        assert_int_not_equal(decide_names(&home, &moved, &r, &fr), PATRON__MATCH_MERGE);
        fr.full = 2;
    }
}

/* Nothing but the full name in common: moved to another city with a new
 * mailbox and phone.  A full name only the pair holds, of parts that two
 * strangers would rarely combine, is a reason to look (REVIEW, rule
 * "name_only"); the same pair under a full name many hold, or under one
 * whose parts are common (a full name held twice by chance), or with a
 * birth date that differs, is DISTINCT; no such pair is ever MERGE. */
static void test_rare_name_only_pair(void **state)
{
    static const char *const firsts[] = { "Zbigniew", "Hans-Peter", "Hans Peter" };
    struct person home = { NULL, "D\xc4\x85" "browski", "Marienstra\xc3\x9f" "e 12", "45138", "Essen",
                           "z.dabrowski71@gmx.de", "0201 887766", NULL, NULL };
    struct person moved = { NULL, "D\xc4\x85" "browski", "Am Anger 7", "87435", "Kempten", "dabrowski.z@posteo.de",
                            "0831 554433", NULL, NULL };
    /* 8000 customers: given name held by 3, last name by 4, the full name
     * only by the pair (expected 3 x 4 / 8000 = 0.0015 times by chance) */
    struct name_freq rare = { 8000, 3, 4, 2 };
    /* common parts (Anna: 200, Schmidt: 300 -> 7.5 expected), held twice */
    struct name_freq chance = { 8000, 200, 300, 2 };
    /* a full name many hold (Thomas M\xc3\xbcller, twenty times) */
    struct name_freq many = { 8000, 200, 300, 20 };
    /* not counted at all (no store): the level weights decide */
    struct name_freq uncounted = { 8000, -1, -1, -1 };
    patron__match_result r;
    (void)state;
    for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++) {
        home.first = firsts[0 == i ? 0 : 1];
        moved.first = firsts[i];
        assert_int_equal(decide_names(&home, &moved, &r, &rare), PATRON__MATCH_REVIEW);
        assert_int_equal(r.rule, PATRON__MATCH_RULE_NAME_ONLY);
        assert_true(r.probability > 0 && r.probability < 0.98);
        /* the pair's record order does not matter */
        assert_int_equal(decide_names(&moved, &home, &r, &rare), PATRON__MATCH_REVIEW);
        assert_int_equal(decide_names(&home, &moved, &r, &chance), PATRON__MATCH_DISTINCT);
        assert_int_equal(decide_names(&home, &moved, &r, &many), PATRON__MATCH_DISTINCT);
        assert_int_equal(decide_names(&home, &moved, &r, &uncounted), PATRON__MATCH_DISTINCT);
        /* a birth date that differs: two people */
        home.birth = "1961-03-14";
        moved.birth = "1984-11-02";
        assert_int_equal(decide_names(&home, &moved, &r, &rare), PATRON__MATCH_DISTINCT);
        home.birth = moved.birth = NULL;
    }
    /* an initial is no full name: no full-name key, no lift */
    home.first = "Zbigniew";
    moved.first = "Z.";
    assert_int_equal(decide_names(&home, &moved, &r, &rare), PATRON__MATCH_DISTINCT);
    /* a name-only pair is never MERGE, however rare its name and parts */
    {
        struct name_freq rarest = { 1000000, 1, 1, 1 };
        moved.first = "Zbigniew";
        assert_int_equal(decide_names(&home, &moved, &r, &rarest), PATRON__MATCH_REVIEW);
        moved.street = "Packstation 145";
        moved.postal = "04103";
        moved.city = "Leipzig";
        moved.email = moved.phone = NULL;
        assert_int_not_equal(decide_names(&home, &moved, &r, &rarest), PATRON__MATCH_MERGE);
        assert_int_not_equal(decide_names(&home, &moved, &r, &rare), PATRON__MATCH_MERGE);
    }
}

/* The female form of a male given name is another person, however the
 * language forms it: at one address a household, never a typo. */
static void test_gender_forms(void **state)
{
    static const char *const pairs[][2] = {
        { "Peter", "Petra" }, { "Stefan", "Stefanie" }, { "Ulrich", "Ulrike" }, { "Julius", "Julia" },
        { "Mario", "Maria" }, { "Josef", "Josefine" }, { "Christian", "Christiane" }, { "Michael", "Michaela" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        patron__match_result r;
        struct person a = anna, b = anna;
        a.first = pairs[i][0];
        b.first = pairs[i][1];
        b.email = NULL;
        assert_int_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_HOUSEHOLD);
        assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_DIFFERENT);
        assert_int_equal(decide_tf(&b, &a, &r, NULL), PATRON__MATCH_HOUSEHOLD);
    }
    /* typing errors stay typing errors */
    {
        static const char *const typos[][2] = { { "Stefan", "Stefna" }, { "Petra", "Petar" }, { "Maria", "Marai" } };
        for (size_t i = 0; i < sizeof typos / sizeof typos[0]; i++) {
            patron__match_result r;
            struct person a = anna, b = anna;
            a.first = typos[i][0];
            b.first = typos[i][1];
            assert_int_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_MERGE);
            assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_SIMILAR);
        }
    }
}

/* A half swap whose shared name is only alike (Peters in one record's last
 * name, Peter in the other's given name) and whose other two names are
 * clearly apart shares no name: at one address with one landline it is
 * never MERGE (rule other_names), nor are colleagues of that pattern. */
static void test_half_swap_of_an_alike_name_is_two_people(void **state)
{
    static const struct {
        const char *f1, *l1, *f2, *l2;
    } cases[] = {
        { "Angelika", "Peters", "Meyer", "Peter" },
        { "Christian", "G\xc3\xbcnther", "Meyer", "G\xc3\xbcnter" },
        { "Nicole", "Peters", "Peter", "Bergmann" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        patron__match_result r;
        struct person a = anna, b = anna;
        a.first = cases[i].f1;
        a.last = cases[i].l1;
        b.first = cases[i].f2;
        b.last = cases[i].l2;
        a.email = b.email = NULL;
        assert_int_not_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_MERGE);
        a.company = b.company = "Elektro Fischer OG";
        a.email = b.email = "service@fischer-elektro.at";
        assert_int_not_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_MERGE);
    }
}

/* ... while a typo of the name in the other field (Pulford / "Pulfrd",
 * Pascoe / "Pasceo": a letter lost or two letters turned) is the one name
 * garbled, not a surname formed from a given name: the pair is left to its
 * evidence, as a half swap of the exact name is.  Frank / Franz (another
 * last letter) is a given name beside a surname: two people. */
static void test_half_swap_of_a_typo_is_one_name(void **state)
{
    static const struct {
        const char *f1, *l1, *f2, *l2;
    } typos[] = {
        { "Victoria", "Pulford", "Pulfrd", "Cassandra" },
        { "Samantha", "Pascoe", "Pasceo", "William" },
    };
    patron__match_result r;
    struct person a = anna, b = anna;
    (void)state;
    a.email = b.email = NULL;
    a.phone = b.phone = NULL;
    for (size_t i = 0; i < sizeof typos / sizeof typos[0]; i++) {
        a.first = typos[i].f1;
        a.last = typos[i].l1;
        b.first = typos[i].f2;
        b.last = typos[i].l2;
        decide_tf(&a, &b, &r, NULL);
        assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_SWAPPED);
        assert_int_not_equal(r.rule, PATRON__MATCH_RULE_OTHER_NAMES);
        assert_int_not_equal(r.decision, PATRON__MATCH_HOUSEHOLD);
    }
    a.first = "Maria";
    a.last = "Frank";
    b.first = "Franz";
    b.last = "Jan\xc3\x9f" "en";
    assert_int_not_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_MERGE);
}

/* Given names alike only by their beginning (Maria / Marianne, Christa /
 * Christine) under two other last names are two people: strangers at one
 * Packstation are never MERGE. */
static void test_prefix_alike_given_names_are_other_names(void **state)
{
    static const char *const firsts[][2] = { { "Maria", "Marianne" }, { "Christa", "Christine" }, { "Hanna", "Hannelore" } };
    (void)state;
    for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++) {
        patron__match_result r;
        struct person a = { firsts[i][0], "Zbinden", "Packstation 855", "83022", "Rosenheim", NULL, NULL, NULL, NULL };
        struct person b = { firsts[i][1], "Gr\xc3\xbcnwald", "Packstation 855", "83022", "Rosenheim", NULL, NULL, NULL, NULL };
        assert_int_not_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_MERGE);
        b.phone = a.phone = "0171 9988776"; /* even with one phone */
        assert_int_not_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_MERGE);
    }
}

/* The batch's rare-name key: given names and last name, none for initials
 * or in email-only mode. */
static void test_rare_name_key(void **state)
{
    patron__match_rec rec;
    patron__match_key keys[2];
    patron__match_config cfg;
    struct person p = anna;
    (void)state;
    patron__match_config_default(&cfg);
    char street[PATRON__MATCH_KEY_MAX];
    norm(&rec, &p);
    /* the full name, then the street of each address (postal code and
     * street, no house number: the rare street) */
    snprintf(street, sizeof street, "50667|%s", rec.addr[0].street);
    assert_int_equal(patron__match_rare_keys(keys, 2, &rec, &cfg), 2);
    assert_int_equal(keys[0].kind, PATRON__KEY_RARE_NAME);
    assert_string_equal(keys[0].value, "anna|schmidt");
    assert_int_equal(keys[1].kind, PATRON__KEY_RARE_STREET);
    assert_string_equal(keys[1].value, street);
    assert_null(strchr(strchr(keys[1].value, '|') + 1, '|')); /* two parts: no house number */
    assert_int_equal(patron__match_rare_street_keys(keys, 2, &rec, &cfg), 1);
    assert_int_equal(keys[0].kind, PATRON__KEY_RARE_STREET);
    assert_int_equal(patron__match_rare_keys(keys, 1, &rec, &cfg), 1);
    assert_int_equal(patron__match_rare_keys(keys, 0, &rec, &cfg), 0);
    cfg.mode = PATRON__MATCH_MODE_EMAIL;
    assert_int_equal(patron__match_rare_keys(keys, 2, &rec, &cfg), 0);
    assert_int_equal(patron__match_rare_street_keys(keys, 2, &rec, &cfg), 0);
    patron__match_rec_free(&rec);
    /* an initial has no rare name, its street still is one */
    p.first = "A.";
    cfg.mode = PATRON__MATCH_MODE_FIELDS;
    norm(&rec, &p);
    assert_int_equal(patron__match_rare_keys(keys, 2, &rec, &cfg), 1);
    assert_int_equal(keys[0].kind, PATRON__KEY_RARE_STREET);
    patron__match_rec_free(&rec);
}

/* Another house number on the street that agrees is another building: it
 * weighs other_building, more than the number level's own weight (whose m
 * counts moves, where the street differs too).  "C. Bauer, Dorfstraße 131"
 * beside "Carsten Bauer, Dorfstraße 62" of a common last name is then
 * shown for review, not merged; a digit lost (71 / 1) may be a typo and
 * keeps the level's weight, a number one typo off (48 / 84) is PARTIAL. */
static void test_other_number_on_one_street(void **state)
{
    static const struct person carsten = {"Carsten", "Bauer", "Dorfstra\xc3\x9f" "e 62", "17489", "Greifswald",
                                          "carstenbauer@icloud.com", NULL, NULL, NULL};
    struct person c = carsten;
    patron__match_config cfg;
    patron__match_rec ra, rb;
    patron__match_result r;
    patron__match_tf tf;
    struct freq common = {27281, 190, 0, NULL, 0}; /* every value held by 190 customers */
    (void)state;
    patron__match_config_default(&cfg);
    assert_true(cfg.other_building < cfg.weight[PATRON__MF_NUMBER][PATRON__ML_DIFFERENT]);
    c.first = "C.";
    c.street = "Dorfstra\xc3\x9f" "e 131";
    c.email = NULL;
    c.phone = "0350 256911";
    tf.count = freq_count;
    tf.ctx = &common;
    tf.n = common.n;
    tf.counts = NULL;
    tf.memo = NULL;
    norm(&ra, &carsten);
    norm(&rb, &c);
    assert_int_equal(patron__match_score_tf(&r, &ra, &rb, &cfg, &tf), PATRON__MATCH_REVIEW);
    assert_int_equal(r.field[PATRON__MF_STREET].level, PATRON__ML_EXACT);
    assert_int_equal(r.field[PATRON__MF_NUMBER].level, PATRON__ML_DIFFERENT);
    assert_true(r.field[PATRON__MF_NUMBER].weight == cfg.other_building);
    assert_int_equal(r.rule, 0); /* the weight alone */
    /* with the number level's own weight the evidence says MERGE; the
     * safety rule other_building (neighbours: nothing of the person's own
     * agrees) still holds the pair to REVIEW */
    cfg.other_building = cfg.weight[PATRON__MF_NUMBER][PATRON__ML_DIFFERENT];
    assert_int_equal(patron__match_score_tf(&r, &ra, &rb, &cfg, &tf), PATRON__MATCH_REVIEW);
    assert_true(r.score >= cfg.merge_score);
    assert_int_equal(r.rule, PATRON__MATCH_RULE_OTHER_BUILDING);
    patron__match_rec_free(&rb);
    patron__match_config_default(&cfg);
    /* a digit lost: the number level's weight */
    c.street = "Dorfstra\xc3\x9f" "e 6";
    norm(&rb, &c);
    patron__match_score_tf(&r, &ra, &rb, &cfg, &tf);
    assert_int_equal(r.field[PATRON__MF_NUMBER].level, PATRON__ML_DIFFERENT);
    assert_true(r.field[PATRON__MF_NUMBER].weight == cfg.weight[PATRON__MF_NUMBER][PATRON__ML_DIFFERENT]);
    patron__match_rec_free(&rb);
    /* one typo of the same length: PARTIAL, as before */
    c.street = "Dorfstra\xc3\x9f" "e 26";
    norm(&rb, &c);
    patron__match_score_tf(&r, &ra, &rb, &cfg, &tf);
    assert_int_equal(r.field[PATRON__MF_NUMBER].level, PATRON__ML_PARTIAL);
    patron__match_rec_free(&rb);
    /* on another street the number says nothing (unchanged) */
    c.street = "Ringstra\xc3\x9f" "e 131";
    norm(&rb, &c);
    patron__match_score_tf(&r, &ra, &rb, &cfg, &tf);
    assert_int_equal(r.field[PATRON__MF_STREET].level, PATRON__ML_DIFFERENT);
    assert_true(r.field[PATRON__MF_NUMBER].weight == cfg.weight[PATRON__MF_NUMBER][PATRON__ML_DIFFERENT]);
    patron__match_rec_free(&rb);
    patron__match_rec_free(&ra);
}

/* Sven / Svenja: the female form by "-ja" is another given name (at one
 * address a household), not a typo; a lost letter stays a typo. */
static void test_gender_form_ja(void **state)
{
    patron__match_result r;
    struct person a = anna, b = anna;
    (void)state;
    a.first = "Sven";
    b.first = "Svenja";
    b.email = NULL;
    assert_int_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_HOUSEHOLD);
    assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_DIFFERENT);
    assert_int_equal(decide_tf(&b, &a, &r, NULL), PATRON__MATCH_HOUSEHOLD);
    a.first = "Svenja";
    b.first = "Svnja";
    assert_int_equal(decide_tf(&a, &b, &r, NULL), PATRON__MATCH_MERGE);
    assert_int_equal(r.field[PATRON__MF_FIRST].level, PATRON__ML_SIMILAR);
}

/* A birth date whose year agrees while day and month do not (and are no
 * typo of each other) is its own level: no evidence either way (weight
 * about 0), where a date of another year weighs against.  It does not
 * agree for the household rule. */
static void test_birth_year_only(void **state)
{
    patron__match_config cfg;
    patron__match_result same_year, other_year, typo;
    struct person a = anna, b = anna;
    (void)state;
    patron__match_config_default(&cfg);
    a.birth = "1925-07-08";
    b.birth = "1925-10-30";
    decide_tf(&a, &b, &same_year, NULL);
    assert_int_equal(same_year.field[PATRON__MF_BIRTH].level, PATRON__ML_SIMILAR);
    assert_true(fabs(same_year.field[PATRON__MF_BIRTH].weight) < 0.5);
    b.birth = "1962-10-30";
    decide_tf(&a, &b, &other_year, NULL);
    assert_int_equal(other_year.field[PATRON__MF_BIRTH].level, PATRON__ML_DIFFERENT);
    assert_true(other_year.field[PATRON__MF_BIRTH].weight < -4);
    assert_true(same_year.score > other_year.score + 4);
    b.birth = "1925-07-18"; /* one digit off: PARTIAL, as before */
    decide_tf(&a, &b, &typo, NULL);
    assert_int_equal(typo.field[PATRON__MF_BIRTH].level, PATRON__ML_PARTIAL);
    /* another given name at one address, born in the same year: still a
     * household (twins share the whole date, not the year alone) */
    b.first = "Sabine";
    b.birth = "1925-10-30";
    assert_int_equal(decide_tf(&a, &b, &same_year, NULL), PATRON__MATCH_HOUSEHOLD);
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
    m.tf_power_name = 1.5;
    m.address_max_shift = 12.5; /* what patron_db_estimate() moved the address ceiling by */
    text = patron__match_model_format(&m);
    assert_non_null(text);
    patron__match_model_default(&back);
    assert_int_equal(patron__match_model_parse(&back, text), 0);
    assert_true(back.lambda == 0.25);
    assert_true(back.m[PATRON__MF_LAST][PATRON__ML_EXACT] == 0.7);
    assert_true(back.u[PATRON__MF_LAST][PATRON__ML_EXACT] == 0.003);
    assert_true(back.tf_ref[PATRON__MF_PHONE] == 4);
    assert_true(back.tf_power_name == 1.5);
    assert_true(back.address_max_shift == 12.5);
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
        cmocka_unit_test(test_frequency_contact_loses_faster_than_name),
        cmocka_unit_test(test_address_is_one_fact),
        cmocka_unit_test(test_packstation_is_no_move),
        cmocka_unit_test(test_rule_other_names_variant_and_phonetic),
        cmocka_unit_test(test_swapped_names_with_an_initial),
        cmocka_unit_test(test_half_swap_of_a_whole_name_is_no_household),
        cmocka_unit_test(test_same_number_on_another_street_is_neutral),
        cmocka_unit_test(test_household_needs_a_last_name),
        cmocka_unit_test(test_initial_resolved_by_its_mailbox),
        cmocka_unit_test(test_garbled_given_name_is_review_not_household),
        cmocka_unit_test(test_identifier_typo_agrees),
        cmocka_unit_test(test_role_mailbox_is_no_personal_evidence),
        cmocka_unit_test(test_household_without_shared_contacts),
        cmocka_unit_test(test_rule_name_only),
        cmocka_unit_test(test_registered_at_work),
        cmocka_unit_test(test_gender_pair_or_lost_letter),
        cmocka_unit_test(test_move_with_own_evidence),
        cmocka_unit_test(test_colleague_registered_twice),
        cmocka_unit_test(test_personal_contact),
        cmocka_unit_test(test_rare_name_mailbox),
        cmocka_unit_test(test_name_mailbox_unshared),
        cmocka_unit_test(test_married_moved_contact),
        cmocka_unit_test(test_marriage_move),
        cmocka_unit_test(test_moved_with_birth),
        cmocka_unit_test(test_gender_forms),
        cmocka_unit_test(test_half_swap_of_an_alike_name_is_two_people),
        cmocka_unit_test(test_half_swap_of_a_typo_is_one_name),
        cmocka_unit_test(test_prefix_alike_given_names_are_other_names),
        cmocka_unit_test(test_rare_name_key),
        cmocka_unit_test(test_rare_name_only_pair),
        cmocka_unit_test(test_other_number_on_one_street),
        cmocka_unit_test(test_gender_form_ja),
        cmocka_unit_test(test_birth_year_only),
        cmocka_unit_test(test_model_text_round_trip),
    };
    return cmocka_run_group_tests_name("match/model", tests, NULL, NULL);
}
