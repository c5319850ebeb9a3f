/* Batch deduplication over a whole store: pairs, clusters, modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"
#include "fixture.h"


/* The decision of the pair (a, b), or -1 if it is not listed. */
static int pair_decision(const patron_pairs *p, int64_t a, int64_t b)
{
    if (a > b) {
        int64_t t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < patron_pairs_count(p); i++) {
        int64_t x, y;
        patron_decision d;
        assert_int_equal(patron_pairs_get(p, &x, &y, NULL, &d, i), PATRON_OK);
        assert_true(x < y);
        if (x == a && y == b)
            return d;
    }
    return -1;
}

static void test_pairs_and_clusters(void **state)
{
    tb_fx *f = *state;
    patron_pairs *p;
    /* one person three times: umlaut spelling, Str./Straße, case, initial */
    int64_t m1 = fx_add(f->db, "Jürgen", "Müller", "juergen.mueller@example.de", "Hauptstraße", "12", "50667", "Köln");
    int64_t m2 = fx_add(f->db, "Juergen", "Mueller", "Juergen.Mueller@example.de", "Hauptstr.", "12", "50667", "Koeln");
    int64_t m3 = fx_add(f->db, "Jürgen", "Müller", "juergen.mueller@example.de", "Hauptstrasse", "12", "50667", "Köln");
    /* his wife at the same address: a household, never a merge */
    int64_t w = fx_add(f->db, "Sabine", "Müller", "sabine.mueller@example.de", "Hauptstraße", "12", "50667", "Köln");
    /* somebody else entirely */
    int64_t o = fx_add(f->db, "Petra", "Schulz", "petra@example.com", "Ringstraße", "3", "80331", "München");
    int64_t first, prev = 0;
    assert_int_equal(patron_db_dedupe(f->db, &p, 7), PATRON_E_INVALID);
    assert_int_equal(patron_db_dedupe(f->db, &p, PATRON_MATCH_FIELDS), PATRON_OK);
    assert_int_equal(pair_decision(p, m1, m2), PATRON_DECISION_MERGE);
    assert_int_equal(pair_decision(p, m1, m3), PATRON_DECISION_MERGE);
    assert_int_equal(pair_decision(p, m2, m3), PATRON_DECISION_MERGE);
    assert_true(pair_decision(p, m1, w) != PATRON_DECISION_MERGE);
    assert_int_equal(pair_decision(p, m1, o), -1);
    /* sorted by id_a, id_b */
    for (size_t i = 0; i < patron_pairs_count(p); i++) {
        int64_t a, b;
        patron_pairs_get(p, &a, &b, NULL, NULL, i);
        assert_true(a * 1000000 + b > prev);
        prev = a * 1000000 + b;
    }
    assert_int_equal(patron_pairs_get(p, NULL, NULL, NULL, NULL, patron_pairs_count(p)), PATRON_E_RANGE);
    /* one cluster, named by its smallest id */
    first = patron_pairs_cluster(p, m1);
    assert_int_equal(first, m1);
    assert_int_equal(patron_pairs_cluster(p, m2), m1);
    assert_int_equal(patron_pairs_cluster(p, m3), m1);
    assert_int_equal(patron_pairs_cluster(p, w), 0);
    assert_int_equal(patron_pairs_cluster(p, o), 0);
    patron_pairs_free(p);

    /* stable: the same data gives the same pairs and clusters */
    {
        patron_pairs *q;
        assert_int_equal(patron_db_dedupe(f->db, &q, PATRON_MATCH_FIELDS), PATRON_OK);
        assert_int_equal(patron_pairs_cluster(q, m3), m1);
        patron_pairs_free(q);
    }

    /* merged records are left out */
    {
        patron_merge_plan *plan;
        patron_pairs *q;
        int64_t jid;
        assert_int_equal(patron_merge_plan_new(f->db, &plan, m1, &m2, 1, 0), PATRON_OK);
        assert_int_equal(patron_db_merge(f->db, &jid, plan), PATRON_OK);
        patron_merge_plan_free(plan);
        assert_int_equal(patron_db_dedupe(f->db, &q, PATRON_MATCH_FIELDS), PATRON_OK);
        assert_int_equal(pair_decision(q, m1, m2), -1);
        assert_int_equal(pair_decision(q, m2, m3), -1);
        assert_int_equal(pair_decision(q, m1, m3), PATRON_DECISION_MERGE);
        patron_pairs_free(q);
    }
}

static void test_email_mode(void **state)
{
    tb_fx *f = *state;
    patron_pairs *p;
    int64_t a = fx_add(f->db, "Max", "Muster", "Max.Muster+shop@googlemail.com", "Weg", "1", "10115", "Berlin");
    int64_t b = fx_add(f->db, "Maximilian", "Mustermann", "maxmuster@gmail.com", "Allee", "9", "20095", "Hamburg");
    int64_t c = fx_add(f->db, "Max", "Muster", "max@example.de", "Weg", "1", "10115", "Berlin");
    assert_int_equal(patron_db_dedupe(f->db, &p, PATRON_MATCH_EMAIL), PATRON_OK);
    assert_int_equal(pair_decision(p, a, b), PATRON_DECISION_MERGE);
    assert_int_equal(pair_decision(p, a, c), -1); /* same person by fields, other email */
    patron_pairs_free(p);
}

static void test_empty_store(void **state)
{
    tb_fx *f = *state;
    patron_pairs *p;
    assert_int_equal(patron_db_dedupe(f->db, &p, PATRON_MATCH_FIELDS), PATRON_OK);
    assert_int_equal(patron_pairs_count(p), 0);
    assert_int_equal(patron_pairs_cluster(p, 1), 0);
    patron_pairs_free(p);
}

/* Thousands of customers sharing keys (one street, one name): the store's
 * index keeps them apart exactly, through inserts, updates, deletes and a
 * rolled-back transaction. */
static void test_popular_keys(void **state)
{
    tb_fx *f = *state;
    enum { N = 900 }; /* popular keys (past 8: overflow sets), under the block limit */
    int64_t *ids = calloc(N, sizeof *ids);
    patron_matches *m;
    patron_customer *c;
    char email[64];
    assert_non_null(ids);
    for (int i = 0; i < N; i++) {
        patron_customer *p;
        snprintf(email, sizeof email, "kunde%d@example.de", i);
        p = fx_person(i % 2 ? "Anna" : "Anne", "Schmidt", email, "Hauptstraße", "1", "50667", "Köln");
        /* 900 namesakes at one address say little (issue 11: value
         * frequencies); one birth date makes them candidates again */
        assert_int_equal(patron_customer_set(p, PATRON_F_BIRTH_DATE, "1970-01-01"), PATRON_OK);
        ids[i] = fx_save(f->db, p);
    }
    /* exact keys stay exact */
    OK(f->db, patron_db_find(f->db, &c, PATRON_KEY_EMAIL, "kunde834@example.de"));
    assert_int_equal(patron_customer_id(c), ids[834]);
    patron_customer_free(c);
    /* one of them: the others are candidates, none of them itself */
    OK(f->db, patron_db_load(f->db, &c, ids[7]));
    OK(f->db, patron_db_match(f->db, &m, c, PATRON_MATCH_FIELDS));
    assert_true(patron_matches_count(m) > 0);
    for (size_t i = 0; i < patron_matches_count(m); i++) {
        int64_t cid = 0;
        OK(f->db, patron_matches_get(m, &cid, NULL, NULL, i));
        assert_true(cid != ids[7]);
    }
    patron_matches_free(m);
    patron_customer_free(c);
    /* move half of them away, delete a quarter */
    for (int i = 0; i < N; i += 2) {
        patron_customer *u;
        size_t a = 0;
        OK(f->db, patron_db_load(f->db, &u, ids[i]));
        OK(f->db, patron_customer_address_set(u, a, PATRON_A_STREET, "Ringstraße"));
        OK(f->db, patron_db_update(f->db, u));
        patron_customer_free(u);
    }
    for (int i = 1; i < N; i += 4)
        OK(f->db, patron_db_delete(f->db, ids[i], 0));
    OK(f->db, patron_db_find(f->db, &c, PATRON_KEY_EMAIL, "kunde835@example.de"));
    assert_int_equal(patron_customer_id(c), ids[835]);
    patron_customer_free(c);
    assert_int_equal(patron_db_find(f->db, &c, PATRON_KEY_EMAIL, "kunde833@example.de"), PATRON_E_NOT_FOUND);
    {
        /* the survivors of Hauptstraße still find each other, the deleted
         * ones are gone, and no one finds itself */
        unsigned char *seen = calloc(N, 1);
        size_t same_street = 0;
        assert_non_null(seen);
        assert_int_equal(patron_db_match(f->db, &m, NULL, PATRON_MATCH_FIELDS), PATRON_E_INVALID);
        OK(f->db, patron_db_load(f->db, &c, ids[3]));
        OK(f->db, patron_db_match(f->db, &m, c, PATRON_MATCH_FIELDS));
        for (size_t i = 0; i < patron_matches_count(m); i++) {
            int64_t id = 0;
            OK(f->db, patron_matches_get(m, &id, NULL, NULL, i));
            size_t k = (size_t)(id - ids[0]);
            assert_true(id != ids[3]);
            assert_true(k < N && k % 4 != 1);
            assert_int_equal(seen[k], 0); /* each candidate once */
            seen[k] = 1;
        }
        /* every other survivor of Hauptstraße (i % 4 == 3, same name, same
         * address, own email) is among the candidates */
        for (int i = 3; i < N; i += 4) {
            if (i == 3)
                continue;
            if (!seen[i])
                fail_msg("survivor %d (id %lld) at the same address is not a candidate", i, (long long)ids[i]);
            same_street++;
        }
        assert_int_equal(same_street, N / 4 - 1);
        print_message("candidates of one of %d popular-key customers: %zu (%zu at the same address)\n", N,
                      patron_matches_count(m), same_street);
        patron_matches_free(m);
        patron_customer_free(c);
        free(seen);
    }
    free(ids);
}

/* The memory store reads candidates straight from its packed records; any
 * other store (here the same store behind a pass-through wrapper) goes
 * through load().  Both must give the same candidates, scores and
 * explanations. */
static void test_fast_and_general_paths_agree(void **state)
{
    tb_fx *f = *state;
    static const char *const first[] = { "Jürgen", "Juergen", "J.", "Sabine", "Hans", "Johannes" };
    static const char *const last[] = { "Müller", "Mueller", "Müller-Lüdenscheidt", "Meyer", "Maier" };
    static const char *const street[] = { "Hauptstraße", "Hauptstr.", "Lindenallee", "Am Markt" };
    fault_store fs;
    patron_db *general;
    int64_t ids[60];
    for (int i = 0; i < 60; i++) {
        patron_customer *c;
        size_t a;
        char email[64], phone[32];
        assert_int_equal(patron_customer_new(&c), PATRON_OK);
        OK(f->db, patron_customer_set(c, PATRON_F_FIRST_NAME, first[i % 6]));
        OK(f->db, patron_customer_set(c, PATRON_F_LAST_NAME, last[i % 5]));
        if (i % 3) {
            snprintf(email, sizeof email, "%s%d@example.de", i % 2 ? "jm" : "sm", i % 7);
            OK(f->db, patron_customer_set(c, PATRON_F_EMAIL, email));
        }
        snprintf(phone, sizeof phone, "0221 %d", 100 + i % 9);
        OK(f->db, patron_customer_set(c, i % 4 ? PATRON_F_PHONE : PATRON_F_MOBILE, phone));
        if (i % 5 == 0)
            OK(f->db, patron_customer_set(c, PATRON_F_BIRTH_DATE, "1970-05-17"));
        for (int k = 0; k < 1 + i % 3; k++) {
            OK(f->db, patron_customer_address_add(c, &a));
            OK(f->db, patron_customer_address_set(c, a, PATRON_A_STREET, street[(i + k) % 4]));
            OK(f->db, patron_customer_address_set(c, a, PATRON_A_HOUSE_NUMBER, k ? "3" : "12a"));
            OK(f->db, patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, k % 2 ? "80331" : "50667"));
            OK(f->db, patron_customer_address_set(c, a, PATRON_A_CITY, k % 2 ? "München" : "Köln"));
            if (k == 1)
                OK(f->db, patron_customer_address_set(c, a, PATRON_A_PHONE, "089 4711"));
        }
        OK(f->db, patron_db_create(f->db, c));
        ids[i] = patron_customer_id(c);
        patron_customer_free(c);
    }
    general = fault_db(&fs, &f->tb);
    assert_non_null(general);
    for (int i = 0; i < 60; i++) {
        patron_customer *c;
        patron_matches *m1, *m2;
        char *j1, *j2;
        OK(f->db, patron_db_load(f->db, &c, ids[i]));
        OK(f->db, patron_db_match(f->db, &m1, c, PATRON_MATCH_FIELDS));
        OK(general, patron_db_match(general, &m2, c, PATRON_MATCH_FIELDS));
        OK(f->db, patron_matches_to_json(m1, &j1, 0));
        OK(f->db, patron_matches_to_json(m2, &j2, 0));
        assert_string_equal(j1, j2);
        patron_free(j1);
        patron_free(j2);
        patron_matches_free(m1);
        patron_matches_free(m2);
        patron_customer_free(c);
    }
    /* and the batch: the same pairs, scores and decisions */
    {
        patron_pairs *p1, *p2;
        OK(f->db, patron_db_dedupe(f->db, &p1, PATRON_MATCH_FIELDS));
        OK(general, patron_db_dedupe(general, &p2, PATRON_MATCH_FIELDS));
        assert_true(patron_pairs_count(p1) > 0);
        assert_int_equal(patron_pairs_count(p1), patron_pairs_count(p2));
        for (size_t i = 0; i < patron_pairs_count(p1); i++) {
            int64_t a1, b1, a2, b2;
            double s1, s2;
            patron_decision d1, d2;
            OK(f->db, patron_pairs_get(p1, &a1, &b1, &s1, &d1, i));
            OK(f->db, patron_pairs_get(p2, &a2, &b2, &s2, &d2, i));
            assert_int_equal(a1, a2);
            assert_int_equal(b1, b2);
            assert_int_equal(d1, d2);
            assert_true(s1 == s2);
            assert_int_equal(patron_pairs_cluster(p1, a1), patron_pairs_cluster(p2, a2));
        }
        patron_pairs_free(p1);
        patron_pairs_free(p2);
    }
    patron_db_close(general);
}

/* The first customer read has no blocking key at all (a name only, a
 * common record): both ways of reading the store (match forms, and loading
 * every record) handle a batch that starts without key hashes — under
 * clang's UBSan, adding its zero offset to no array was undefined. */
static void test_first_customer_without_keys(void **state)
{
    tb_fx *f = *state;
    fault_store fs;
    patron_db *general;
    patron_db *dbs[2];
    int64_t lone, a, b;
    patron_customer *c;
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    OK(f->db, patron_customer_set(c, PATRON_F_LAST_NAME, "Nurname"));
    lone = fx_save(f->db, c);
    a = fx_add(f->db, "Jürgen", "Müller", "juergen.mueller@example.de", "Hauptstraße", "12", "50667", "Köln");
    b = fx_add(f->db, "Juergen", "Mueller", "juergen.mueller@example.de", "Hauptstr.", "12", "50667", "Köln");
    general = fault_db(&fs, &f->tb);
    assert_non_null(general);
    dbs[0] = f->db;
    dbs[1] = general;
    for (int k = 0; k < 2; k++) {
        patron_pairs *p;
        OK(dbs[k], patron_db_dedupe(dbs[k], &p, PATRON_MATCH_FIELDS));
        assert_int_equal(patron_pairs_count(p), 1);
        assert_int_equal(pair_decision(p, a, b), PATRON_DECISION_MERGE);
        assert_int_equal(pair_decision(p, lone, a), -1);
        patron_pairs_free(p);
    }
    /* a store of keyless customers only: no pairs, no error */
    OK(f->db, patron_db_delete(f->db, a, 0));
    OK(f->db, patron_db_delete(f->db, b, 0));
    for (int k = 0; k < 2; k++) {
        patron_pairs *p;
        OK(dbs[k], patron_db_dedupe(dbs[k], &p, PATRON_MATCH_FIELDS));
        assert_int_equal(patron_pairs_count(p), 0);
        patron_pairs_free(p);
    }
    patron_db_close(general);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pairs_and_clusters, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_email_mode, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_empty_store, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_popular_keys, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_fast_and_general_paths_agree, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_first_customer_without_keys, fx_setup, fx_teardown),
    };
    tb_backend = tb_selected(argc, argv);
    return cmocka_run_group_tests_name(tb_backend, tests, NULL, NULL);
}
