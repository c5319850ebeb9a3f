/*
 * Unit tests of the blocking keys (src/match/block.c) for issue 11's
 * "registered at work": a customer who registered a second time with the
 * company's address, a work mailbox and the switchboard shares only the
 * name with the first record, and used to share no key with it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "match/match.h"

#include "match_person.h"

/* The kinds of key `a` and `b` share, as bits (1 << (kind - 100)); 0: they
 * are no candidates for each other. */
static uint64_t shared_kinds(const struct person *pa, const struct person *pb)
{
    patron__match_key ka[PATRON__MATCH_KEYS_MAX], kb[PATRON__MATCH_KEYS_MAX];
    patron__match_rec a, b;
    patron__match_config cfg;
    size_t na, nb, i, j;
    uint64_t kinds = 0;

    patron__match_config_default(&cfg);
    norm(&a, pa);
    norm(&b, pb);
    na = patron__match_keys(ka, PATRON__MATCH_KEYS_MAX, &a, &cfg);
    nb = patron__match_keys(kb, PATRON__MATCH_KEYS_MAX, &b, &cfg);
    for (i = 0; i < na; i++)
        for (j = 0; j < nb; j++)
            if (ka[i].kind == kb[j].kind && strcmp(ka[i].value, kb[j].value) == 0)
                kinds |= (uint64_t)1 << (ka[i].kind - 100);
    patron__match_rec_free(&a);
    patron__match_rec_free(&b);
    return kinds;
}

#define KIND(k) ((uint64_t)1 << ((k) - 100))

/* at home in Munich (80331), registered again at the office in Garching
 * (85748): another address, the work mailbox, the switchboard, the firm */
static const struct person home = {
    "Sabine", "Kr\xc3\xa4mer", "Lindwurmstra\xc3\x9f" "e 40", "80331", "M\xc3\xbcnchen",
    "sabine.kraemer@gmx.de", "0171 5550123", "1979-03-14", NULL};
static const struct person work = {
    "Sabine", "Kraemer", "Lichtenbergstr. 8", "85748", "Garching b. M\xc3\xbcnchen",
    "s.kraemer@ingbuero-vogt.de", "089 3200-0", NULL, "Ingenieurb\xc3\xbcro Vogt GmbH"};

static void work_registration_is_a_candidate(void **state)
{
    (void)state;
    /* the name and the region (the postal code's first digit) */
    assert_int_equal(shared_kinds(&home, &work), KIND(PATRON__KEY_NAME_REGION));
    /* a double given name counts by its first name ("Sabine Maria") */
    {
        struct person p = work;
        p.first = "Sabine-Maria";
        assert_int_equal(shared_kinds(&home, &p), KIND(PATRON__KEY_NAME_REGION));
    }
}

static void the_key_stays_narrow(void **state)
{
    struct person p = work;
    (void)state;
    /* another region: no candidate (a key on the name alone would make
     * every namesake in the country one) */
    p.postal = "10115";
    p.city = "Berlin";
    assert_int_equal(shared_kinds(&home, &p), 0);
    /* another given name at the same firm: a colleague, not a candidate
     * through this key */
    p = work;
    p.first = "Sandra";
    assert_int_equal(shared_kinds(&home, &p) & KIND(PATRON__KEY_NAME_REGION), 0);
    /* initials do not make the key (far too many "S. Kraemer") */
    p = work;
    p.first = "S.";
    assert_int_equal(shared_kinds(&home, &p) & KIND(PATRON__KEY_NAME_REGION), 0);
    /* a typo in the last name is not the same key either: only the whole,
     * normalised name is (the other keys find typos at one address) */
    p = work;
    p.last = "Kramer";
    assert_int_equal(shared_kinds(&home, &p) & KIND(PATRON__KEY_NAME_REGION), 0);
    /* no postal code: no key */
    p = work;
    p.postal = NULL;
    assert_int_equal(shared_kinds(&home, &p) & KIND(PATRON__KEY_NAME_REGION), 0);
}

/* The key's value: given name, last name, country and region. */
static void the_key_value(void **state)
{
    patron__match_key k[PATRON__MATCH_KEYS_MAX];
    patron__match_rec r;
    patron__match_config cfg;
    size_t n, i, found = 0;
    (void)state;
    patron__match_config_default(&cfg);
    norm(&r, &home);
    n = patron__match_keys(k, PATRON__MATCH_KEYS_MAX, &r, &cfg);
    for (i = 0; i < n; i++)
        if (k[i].kind == PATRON__KEY_NAME_REGION) {
            assert_string_equal(k[i].value, "sabine|kraemer|DE-8");
            found++;
        }
    assert_int_equal(found, 1);
    patron__match_rec_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(work_registration_is_a_candidate),
        cmocka_unit_test(the_key_stays_narrow),
        cmocka_unit_test(the_key_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
