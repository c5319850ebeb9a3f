/* The incremental matching API — patron_db_match(), the candidates, their
 * explanation and JSON — against every store.  The backend is argv[1]. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"
#include "fixture.h"
#include "jsoncheck.h"

static const char *g_backend = "memory";

static double dabs(double x)
{
    return x < 0 ? -x : x;
}

/* The store: a few customers, one of them merged away. */
typedef struct fx {
    test_backend tb;
    patron_db *db;
    int64_t max, erika, hans, anna, hans_old, karl, gmail;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    patron_customer *c;
    if (!f || tb_open(&f->tb, g_backend) != 0)
        return -1;
    f->db = tb_db(&f->tb);
    if (!f->db)
        return -1;
    c = fx_person("Max", "Mustermann", "max@example.de", "Hauptstraße", "12", "10115", "Berlin");
    patron_customer_set(c, PATRON_F_BIRTH_DATE, "1980-05-17");
    patron_customer_set(c, PATRON_F_PHONE, "030 1234567");
    f->max = fx_save(f->db, c);
    f->erika = fx_save(f->db, fx_person("Erika", "Mustermann", "erika@example.de", "Hauptstraße", "12", "10115",
                                    "Berlin"));
    f->hans = fx_save(f->db, fx_person("Hans", "Müller", "hans.mueller@example.de", "Bahnhofstraße", "5", "50667",
                                   "Köln"));
    f->anna = fx_save(f->db, fx_person("Anna", "Schmidt", "anna@example.de", "Feldweg", "9", "01067", "Dresden"));
    f->hans_old = fx_save(f->db, fx_person("Hans", "Müller", "hans.m@example.de", "Bahnhofstraße", "5", "50667",
                                       "Köln"));
    f->karl = fx_save(f->db, fx_person("Karl", "Meyer", NULL, "Gartenweg", "3", "80331", "München"));
    f->gmail = fx_save(f->db, fx_person("Jana", "Roth", "jana.roth@gmail.com", "Seeweg", "4", "24103", "Kiel"));
    {
        patron_merge_plan *p = NULL;
        OK(f->db, patron_merge_plan_new(f->db, &p, f->hans, &f->hans_old, 1, PATRON_MERGE_SURVIVOR));
        OK(f->db, patron_db_merge(f->db, NULL, p));
        patron_merge_plan_free(p);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    patron_db_close(f->db);
    tb_close(&f->tb);
    free(f);
    return 0;
}

static patron_matches *match(fx *f, const patron_customer *c, int mode)
{
    patron_matches *m = NULL;
    char *before = store_fingerprint(&f->tb, NULL, NULL), *after;
    OK(f->db, patron_db_match(f->db, &m, c, mode));
    assert_non_null(m);
    /* matching only reads */
    after = store_fingerprint(&f->tb, NULL, NULL);
    if (strcmp(before, after) != 0)
        fail_msg("patron_db_match changed the store");
    free(before);
    free(after);
    return m;
}

/* The id of candidate i (0 if out of range, which the caller then sees). */
static int64_t cand_id(const patron_matches *m, size_t i)
{
    int64_t id = -1;
    if (patron_matches_get(m, &id, NULL, NULL, i) != PATRON_OK)
        assert_int_equal(id, 0); /* out of range clears the out-parameter */
    return id;
}

/* Index of candidate `id` in m, or -1. */
static long find(const patron_matches *m, int64_t id)
{
    for (size_t i = 0; i < patron_matches_count(m); i++)
        if (cand_id(m, i) == id)
            return (long)i;
    return -1;
}

/* The explanation row of `field` for candidate i. */
typedef struct row {
    const char *field, *a, *b, *level;
    double weight;
} row;

static row explain(const patron_matches *m, size_t i, const char *field)
{
    row r;
    memset(&r, 0, sizeof r);
    for (size_t k = 0; k < patron_matches_field_count(m); k++) {
        assert_int_equal(patron_matches_explain(m, &r.field, &r.a, &r.b, &r.level, &r.weight, i, k), PATRON_OK);
        if (strcmp(r.field, field) == 0)
            return r;
    }
    fail_msg("no explanation row '%s'", field);
    return r;
}

static void assert_row(const patron_matches *m, size_t i, const char *field, const char *a, const char *b,
                       const char *level)
{
    row r = explain(m, i, field);
    if ((a && strcmp(r.a, a) != 0) || (b && strcmp(r.b, b) != 0) || (level && strcmp(r.level, level) != 0))
        fail_msg("%s: '%s' / '%s' level %s (%.3f), want '%s' / '%s' level %s", field, r.a, r.b, r.level,
                 r.weight, a ? a : "*", b ? b : "*", level ? level : "*");
}

/* Every list: sorted best first, no DISTINCT, no merged record, no repeats,
 * and each explanation adds up to the score (see the rule below). */
static void check_list_mode(fx *f, const patron_matches *m, int mode)
{
    static const char *const fields[] = { "first_name", "last_name", "street", "house_number",
                                          "address_addition", "postal_code", "city", "email", "phone",
                                          "birth_date", "company", "identifier" };
    static const char *const address[] = { "street", "house_number", "address_addition", "postal_code",
                                           "city" };
    double prev = 1e300;
    size_t n = patron_matches_count(m);
    /* an empty list may have no explanation rows at all */
    if (n || patron_matches_field_count(m))
        assert_int_equal(patron_matches_field_count(m), sizeof fields / sizeof fields[0]);
    for (size_t i = 0; i < n; i++) {
        double score = 0, sum_addr = 0, sum_other = 0, expect;
        patron_decision decision = PATRON_DECISION_DISTINCT;
        int64_t id = 0;
        assert_int_equal(patron_matches_get(m, &id, &score, &decision, i), PATRON_OK);
        assert_true(id > 0);
        assert_true(score <= prev);
        prev = score;
        assert_true(decision == PATRON_DECISION_MERGE || decision == PATRON_DECISION_REVIEW ||
                    decision == PATRON_DECISION_HOUSEHOLD);
        assert_int_not_equal(id, f->hans_old);
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(cand_id(m, j), id);
        for (size_t k = 0; k < patron_matches_field_count(m); k++) {
            row r;
            bool is_addr = false;
            assert_int_equal(patron_matches_explain(m, &r.field, &r.a, &r.b, &r.level, &r.weight, i, k),
                             PATRON_OK);
            assert_string_equal(r.field, fields[k]);
            assert_non_null(r.a);
            assert_non_null(r.b);
            assert_non_null(r.level);
            assert_true(isfinite(r.weight));
            /* a missing value weighs nothing; agreement counts for, disagreement against */
            if (strcmp(r.level, "missing") == 0)
                assert_true(r.weight == 0.0);
            else if (strcmp(r.level, "exact") == 0)
                assert_true(r.weight > 0 || (mode == PATRON_MATCH_EMAIL && r.weight == 0));
            else if (strcmp(r.level, "different") == 0)
                assert_true(r.weight < 0 || (mode == PATRON_MATCH_EMAIL && r.weight == 0));
            /* email mode: the other fields are shown, not scored */
            if (mode == PATRON_MATCH_EMAIL && strcmp(r.field, "email") != 0)
                assert_true(r.weight == 0.0);
            if (strcmp(r.level, "exact") == 0)
                assert_string_equal(r.a, r.b);
            for (size_t q = 0; q < sizeof address / sizeof address[0]; q++)
                is_addr |= strcmp(r.field, address[q]) == 0;
            if (is_addr)
                sum_addr += r.weight;
            else
                sum_other += r.weight;
        }
        /* patron.h: score = prior + the field weights + adjustment, where
         * the adjustment is what the address floor (the address part counts
         * at least -9) and the name+address ceiling (at most 14) changed;
         * the probability is 2^score / (1 + 2^score) */
        {
            patron_match_detail d = PATRON_MATCH_DETAIL_INIT;
            OK(f->db, patron_matches_detail(m, &d, i));
            assert_true(d.score == score);
            assert_int_equal(d.decision, decision);
            expect = d.prior + sum_other + sum_addr + d.adjustment;
            if (dabs(expect - score) > 1e-6)
                fail_msg("candidate #%lld: score %.6f, explanation adds up to %.6f", (long long)id, score,
                         expect);
            /* the floor only raises, the ceiling only lowers */
            if (sum_addr >= -9.0)
                assert_true(d.adjustment <= 1e-9);
            else
                assert_true(d.adjustment > 0 || sum_addr + sum_other > 14.0);
            assert_true(d.probability > 0 && d.probability <= 1);
            assert_true(dabs(d.probability - 1.0 / (1.0 + exp2(-score))) < 1e-9);
            assert_non_null(d.rule);
            if (mode == PATRON_MATCH_FIELDS && decision == PATRON_DECISION_MERGE)
                assert_true(d.probability >= 0.98);
        }
    }
    /* out of range */
    {
        int64_t id = 99;
        double s = 1;
        patron_decision d = PATRON_DECISION_MERGE;
        assert_int_equal(patron_matches_get(m, &id, &s, &d, n), PATRON_E_RANGE);
        assert_int_equal(id, 0);
        assert_true(s == 0.0);
        assert_int_equal(d, PATRON_DECISION_DISTINCT);
    }
    assert_int_equal(patron_matches_explain(m, NULL, NULL, NULL, NULL, NULL, n, 0), PATRON_E_RANGE);
    if (n)
        assert_int_equal(patron_matches_explain(m, NULL, NULL, NULL, NULL, NULL, 0, patron_matches_field_count(m)),
                         PATRON_E_RANGE);
}


static void check_list(fx *f, const patron_matches *m)
{
    check_list_mode(f, m, PATRON_MATCH_FIELDS);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_match_new_customer(void **state)
{
    fx *f = *state;
    patron_customer *c = fx_person("Max", "Mustermann", "Max@Example.de", "Hauptstr.", "12", "10115", "Berlin");
    patron_matches *m = match(f, c, PATRON_MATCH_FIELDS);
    double s0 = 0;
    patron_decision d0 = PATRON_DECISION_DISTINCT;
    int64_t id0 = 0;
    long ie;
    check_list(f, m);
    assert_true(patron_matches_count(m) >= 1);
    OK(f->db, patron_matches_get(m, &id0, &s0, &d0, 0));
    assert_int_equal(id0, f->max);
    assert_int_equal(d0, PATRON_DECISION_MERGE);
    assert_true(s0 >= 9.0);
    assert_row(m, 0, "first_name", "max", "max", "exact");
    assert_row(m, 0, "last_name", "mustermann", "mustermann", "exact");
    /* "Hauptstr." and "Hauptstraße" are one street */
    assert_row(m, 0, "street", NULL, NULL, "exact");
    assert_row(m, 0, "house_number", "12", "12", "exact");
    assert_row(m, 0, "postal_code", "10115", "10115", "exact");
    assert_row(m, 0, "email", "max@example.de", "max@example.de", "exact");
    /* not given on one side: missing */
    assert_row(m, 0, "birth_date", "", "1980-05-17", "missing");
    assert_row(m, 0, "company", "", "", "missing");
    {
        row r = explain(m, 0, "street");
        assert_string_equal(r.a, r.b);
        assert_non_null(strstr(r.a, "haupt"));
    }
    /* Erika: the household at the same address is a household, named by
     * the rule that decided (issue 11) */
    ie = find(m, f->erika);
    if (ie >= 0) {
        patron_match_detail d = PATRON_MATCH_DETAIL_INIT;
        OK(f->db, patron_matches_detail(m, &d, (size_t)ie));
        assert_int_equal(d.decision, PATRON_DECISION_HOUSEHOLD);
        assert_string_equal(d.rule, "household");
        assert_row(m, (size_t)ie, "first_name", "max", "erika", "different");
    }
    /* others are not candidates */
    assert_int_equal(find(m, f->anna), -1);
    assert_int_equal(find(m, f->hans), -1);
    assert_int_equal(find(m, f->karl), -1);
    patron_matches_free(m);
    /* the record matched is not touched */
    assert_int_equal(patron_customer_id(c), 0);
    assert_int_equal(patron_customer_state(c), PATRON_STATE_NONE);
    patron_customer_free(c);
}

static void test_match_normalised_values(void **state)
{
    fx *f = *state;
    patron_customer *c = fx_person("Hans", "Mueller", NULL, "Bahnhofstr.", "5", "50667", "Koeln");
    patron_matches *m = match(f, c, PATRON_MATCH_FIELDS);
    long i = find(m, f->hans);
    check_list(f, m);
    assert_true(i >= 0);
    /* Müller and Mueller: one name after German folding */
    assert_row(m, (size_t)i, "last_name", "mueller", "mueller", "exact");
    assert_row(m, (size_t)i, "city", "koeln", "koeln", "exact");
    assert_row(m, (size_t)i, "email", "", "hans.mueller@example.de", "missing");
    /* the merged duplicate with the same data is never a candidate */
    assert_int_equal(find(m, f->hans_old), -1);
    patron_matches_free(m);
    patron_customer_free(c);
}

static void test_match_phonetic_and_initial(void **state)
{
    fx *f = *state;
    patron_customer *c = fx_person("Karl", "Maier", NULL, "Gartenweg", "3", "80331", "München");
    patron_matches *m = match(f, c, PATRON_MATCH_FIELDS);
    long i = find(m, f->karl);
    check_list(f, m);
    assert_true(i >= 0);
    /* Maier / Meyer: Kölner Phonetik 67 both */
    assert_row(m, (size_t)i, "last_name", "maier", "meyer", "phonetic");
    {
        row r = explain(m, (size_t)i, "last_name");
        assert_true(r.weight > 0);
    }
    patron_matches_free(m);
    patron_customer_free(c);

    c = fx_person("M.", "Mustermann", NULL, "Hauptstraße", "12", "10115", "Berlin");
    m = match(f, c, PATRON_MATCH_FIELDS);
    check_list(f, m);
    i = find(m, f->max);
    assert_true(i >= 0);
    assert_row(m, (size_t)i, "first_name", NULL, "max", "initial");
    {
        row r = explain(m, (size_t)i, "first_name");
        assert_true(r.weight > 0);
    }
    /* the initial does not fit Erika */
    i = find(m, f->erika);
    if (i >= 0)
        assert_row(m, (size_t)i, "first_name", NULL, "erika", "different");
    patron_matches_free(m);
    patron_customer_free(c);
}

static void test_match_stored_customer(void **state)
{
    fx *f = *state;
    patron_customer *c = NULL;
    patron_matches *m;
    int64_t twin;
    OK(f->db, patron_db_load(f->db, &c, f->max));
    m = match(f, c, PATRON_MATCH_FIELDS);
    check_list(f, m);
    /* not its own candidate */
    assert_int_equal(find(m, f->max), -1);
    patron_matches_free(m);
    patron_customer_free(c);

    /* with a second record of the same person, that one is found */
    c = fx_person("Max", "Mustermann", "max@example.de", "Hauptstraße", "12", "10115", "Berlin");
    patron_customer_set(c, PATRON_F_BIRTH_DATE, "1980-05-17");
    twin = fx_save(f->db, c);
    OK(f->db, patron_db_load(f->db, &c, f->max));
    m = match(f, c, PATRON_MATCH_FIELDS);
    check_list(f, m);
    assert_int_equal(find(m, f->max), -1);
    assert_int_equal(cand_id(m, 0), twin);
    assert_row(m, 0, "birth_date", "1980-05-17", "1980-05-17", "exact");
    patron_matches_free(m);
    patron_customer_free(c);

    /* the survivor of a merge: its merged duplicate is not a candidate */
    OK(f->db, patron_db_load(f->db, &c, f->hans));
    m = match(f, c, PATRON_MATCH_FIELDS);
    check_list(f, m);
    assert_int_equal(find(m, f->hans_old), -1);
    assert_int_equal(find(m, f->hans), -1);
    patron_matches_free(m);
    patron_customer_free(c);

    /* a merged record itself can be matched: it finds its survivor */
    OK(f->db, patron_db_load(f->db, &c, f->hans_old));
    m = match(f, c, PATRON_MATCH_FIELDS);
    check_list(f, m);
    assert_true(find(m, f->hans) >= 0);
    patron_matches_free(m);
    patron_customer_free(c);
}

static void test_match_email_mode(void **state)
{
    fx *f = *state;
    /* another name, another address: only the email counts */
    patron_customer *c = fx_person("Otto", "Anders", "MAX@example.de", "Irgendwo", "1", "99999", "Nirgends");
    patron_matches *m = match(f, c, PATRON_MATCH_EMAIL);
    check_list_mode(f, m, PATRON_MATCH_EMAIL);
    assert_int_equal(patron_matches_count(m), 1);
    assert_int_equal(cand_id(m, 0), f->max);
    assert_row(m, 0, "email", "max@example.de", "max@example.de", "exact");
    patron_matches_free(m);
    patron_customer_free(c);

    /* gmail: dots, plus tags and googlemail.com are one mailbox */
    c = fx_person("Jana", "Roth", "Jana.Roth+shop@googlemail.com", NULL, NULL, NULL, NULL);
    m = match(f, c, PATRON_MATCH_EMAIL);
    check_list_mode(f, m, PATRON_MATCH_EMAIL);
    assert_int_equal(patron_matches_count(m), 1);
    assert_int_equal(cand_id(m, 0), f->gmail);
    assert_row(m, 0, "email", "janaroth@gmail.com", "janaroth@gmail.com", "exact");
    patron_matches_free(m);
    patron_customer_free(c);

    /* a similar email is not the same email; same name and address do not count */
    c = fx_person("Max", "Mustermann", "max@exampel.de", "Hauptstraße", "12", "10115", "Berlin");
    m = match(f, c, PATRON_MATCH_EMAIL);
    assert_int_equal(patron_matches_count(m), 0);
    patron_matches_free(m);
    /* ... while field matching finds Max */
    m = match(f, c, PATRON_MATCH_FIELDS);
    assert_true(find(m, f->max) >= 0);
    patron_matches_free(m);
    patron_customer_free(c);

    /* no email: nothing to compare */
    c = fx_person("Max", "Mustermann", NULL, "Hauptstraße", "12", "10115", "Berlin");
    m = match(f, c, PATRON_MATCH_EMAIL);
    assert_int_equal(patron_matches_count(m), 0);
    patron_matches_free(m);
    patron_customer_free(c);

    /* the merged record's email leads to no candidate */
    c = fx_person("Hans", "Müller", "hans.m@example.de", NULL, NULL, NULL, NULL);
    m = match(f, c, PATRON_MATCH_EMAIL);
    assert_int_equal(find(m, f->hans_old), -1);
    patron_matches_free(m);
    patron_customer_free(c);
}

static void test_match_distinct_left_out(void **state)
{
    fx *f = *state;
    /* same street and postal code (blocking keys shared), another person and
     * house number: distinct, so not listed */
    patron_customer *c = fx_person("Zoe", "Zander", "zoe@example.de", "Hauptstraße", "99", "10115", "Berlin");
    patron_matches *m = match(f, c, PATRON_MATCH_FIELDS);
    check_list(f, m);
    assert_int_equal(patron_matches_count(m), 0);
    patron_matches_free(m);
    patron_customer_free(c);
    /* an empty record has no candidates */
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    m = match(f, c, PATRON_MATCH_FIELDS);
    assert_int_equal(patron_matches_count(m), 0);
    patron_matches_free(m);
    m = match(f, c, PATRON_MATCH_EMAIL);
    assert_int_equal(patron_matches_count(m), 0);
    patron_matches_free(m);
    patron_customer_free(c);
}

static void test_match_ranking(void **state)
{
    fx *f = *state;
    /* three records of Max of decreasing likeness */
    patron_customer *c = fx_person("Max", "Mustermann", "max@example.de", "Hauptstraße", "12", "10115", "Berlin");
    int64_t close, far;
    patron_matches *m;
    double s0, s1;
    patron_customer_set(c, PATRON_F_BIRTH_DATE, "1980-05-17");
    patron_customer_set(c, PATRON_F_PHONE, "+49 30 1234567");
    close = fx_save(f->db, c);
    far = fx_save(f->db, fx_person("Max", "Mustermann", NULL, "Hauptstraße", "12", "10115", "Berlin"));
    c = fx_person("Max", "Mustermann", "max@example.de", "Hauptstraße", "12", "10115", "Berlin");
    patron_customer_set(c, PATRON_F_BIRTH_DATE, "1980-05-17");
    patron_customer_set(c, PATRON_F_PHONE, "030/1234567");
    m = match(f, c, PATRON_MATCH_FIELDS);
    check_list(f, m);
    assert_true(patron_matches_count(m) >= 3);
    /* max and close are equally good (all fields agree); far lacks email,
     * birth date and phone */
    assert_true(find(m, far) > find(m, close));
    assert_true(find(m, far) > find(m, f->max));
    OK(f->db, patron_matches_get(m, NULL, &s0, NULL, 0));
    OK(f->db, patron_matches_get(m, NULL, &s1, NULL, (size_t)find(m, far)));
    assert_true(s0 > s1);
    /* 030/1234567 and +49 30 1234567: one number */
    assert_row(m, (size_t)find(m, close), "phone", NULL, NULL, "exact");
    patron_matches_free(m);
    patron_customer_free(c);
}



static void test_matches_json(void **state)
{
    fx *f = *state;
    patron_customer *c = fx_person("Max", "Mustermann", "max@example.de", "Hauptstr.", "12", "10115", "Berlin");
    patron_matches *m = match(f, c, PATRON_MATCH_FIELDS);
    char *j = NULL, want[64];
    size_t n = patron_matches_count(m);
    assert_true(n >= 1);
    assert_int_equal(patron_matches_to_json(m, &j, 0), PATRON_OK);
    if (!json_valid(j))
        fail_msg("not valid JSON: %s", j);
    assert_int_equal(j[0], '[');
    snprintf(want, sizeof want, "{\"id\":%lld,", (long long)f->max);
    assert_non_null(strstr(j, want));
    assert_non_null(strstr(j, "\"decision\":\"merge\""));
    assert_non_null(strstr(j, "\"field\":\"last_name\",\"a\":\"mustermann\",\"b\":\"mustermann\",\"level\":\"exact\""));
    assert_null(strstr(j, "\"decision\":\"distinct\""));
    {
        /* one object per candidate, 11 fields each */
        size_t ids = 0, fields = 0;
        for (const char *p = j; (p = strstr(p, "{\"id\":")) != NULL; p++)
            ids++;
        for (const char *p = j; (p = strstr(p, "{\"field\":")) != NULL; p++)
            fields++;
        assert_int_equal(ids, n);
        assert_int_equal(fields, n * patron_matches_field_count(m));
    }
    patron_free(j);
    assert_int_equal(patron_matches_to_json(m, &j, PATRON_JSON_PRETTY), PATRON_OK);
    if (!json_valid(j))
        fail_msg("pretty: not valid JSON: %s", j);
    assert_non_null(strchr(j, '\n'));
    patron_free(j);
    patron_matches_free(m);
    patron_customer_free(c);

    /* names that need escaping survive into valid JSON */
    c = fx_person("Jo \"Jo\"", "O'Neil\\", NULL, "Hauptstraße", "12", "10115", "Berlin");
    fx_save(f->db, c);
    c = fx_person("Jo \"Jo\"", "O'Neil\\", NULL, "Hauptstraße", "12", "10115", "Berlin");
    m = match(f, c, PATRON_MATCH_FIELDS);
    assert_true(patron_matches_count(m) >= 1);
    assert_int_equal(patron_matches_to_json(m, &j, 0), PATRON_OK);
    if (!json_valid(j))
        fail_msg("not valid JSON: %s", j);
    patron_free(j);
    patron_matches_free(m);

    /* no candidates: an empty array */
    assert_int_equal(patron_customer_set(c, PATRON_F_EMAIL, "nobody@example.de"), PATRON_OK);
    m = match(f, c, PATRON_MATCH_EMAIL);
    assert_int_equal(patron_matches_count(m), 0);
    assert_int_equal(patron_matches_to_json(m, &j, 0), PATRON_OK);
    assert_string_equal(j, "[]");
    patron_free(j);
    assert_int_equal(patron_matches_to_json(m, &j, PATRON_JSON_PRETTY), PATRON_OK);
    assert_true(json_valid(j));
    patron_free(j);
    assert_int_equal(patron_matches_to_json(m, NULL, 0), PATRON_E_INVALID);
    assert_int_equal(patron_matches_to_json(NULL, &j, 0), PATRON_E_INVALID);
    patron_matches_free(m);
    patron_customer_free(c);
}

static void test_match_arguments(void **state)
{
    fx *f = *state;
    patron_customer *c = fx_person("Max", "Mustermann", NULL, NULL, NULL, NULL, NULL);
    patron_matches *m = (patron_matches *)1;
    assert_int_equal(patron_db_match(NULL, &m, c, 0), PATRON_E_INVALID);
    assert_int_equal(patron_db_match(f->db, NULL, c, 0), PATRON_E_INVALID);
    assert_int_equal(patron_db_match(f->db, &m, NULL, 0), PATRON_E_INVALID);
    assert_int_equal(patron_db_match(f->db, &m, c, 2), PATRON_E_INVALID);
    assert_null(m);
    assert_int_equal(patron_db_match(f->db, &m, c, -1), PATRON_E_INVALID);
    assert_true(patron_db_errmsg(f->db)[0] != '\0');
    assert_int_equal(patron_matches_count(NULL), 0);
    assert_int_equal(patron_matches_get(NULL, NULL, NULL, NULL, 0), PATRON_E_INVALID);
    assert_int_equal(patron_matches_field_count(NULL), 0);
    assert_int_equal(patron_matches_explain(NULL, NULL, NULL, NULL, NULL, NULL, 0, 0), PATRON_E_INVALID);
    patron_matches_free(NULL);
    patron_customer_free(c);
}

static void test_decision_str(void **state)
{
    (void)state;
    assert_string_equal(patron_decision_name(PATRON_DECISION_DISTINCT), "distinct");
    assert_string_equal(patron_decision_name(PATRON_DECISION_REVIEW), "review");
    assert_string_equal(patron_decision_name(PATRON_DECISION_MERGE), "merge");
    assert_string_equal(patron_decision_name(PATRON_DECISION_HOUSEHOLD), "household");
    /* a value this library does not know has no name */
    assert_null(patron_decision_name((patron_decision)4));
    assert_null(patron_decision_name((patron_decision)-1));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_match_new_customer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_normalised_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_phonetic_and_initial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_stored_customer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_email_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_distinct_left_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_ranking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matches_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_arguments, setup, teardown),
        cmocka_unit_test(test_decision_str),
    };
    g_backend = tb_selected(argc, argv);
    return cmocka_run_group_tests_name(g_backend, tests, NULL, NULL);
}
