#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

patron_customer *fx_person(const char *first, const char *last, const char *email, const char *street,
                           const char *number, const char *plz, const char *city)
{
    patron_customer *c = NULL;
    size_t a;
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    if (first)
        assert_int_equal(patron_customer_set(c, PATRON_F_FIRST_NAME, first), PATRON_OK);
    if (last)
        assert_int_equal(patron_customer_set(c, PATRON_F_LAST_NAME, last), PATRON_OK);
    if (email)
        assert_int_equal(patron_customer_set(c, PATRON_F_EMAIL, email), PATRON_OK);
    if (street) {
        assert_int_equal(patron_customer_address_add(c, &a), PATRON_OK);
        assert_int_equal(patron_customer_address_set(c, a, PATRON_A_STREET, street), PATRON_OK);
        if (number)
            assert_int_equal(patron_customer_address_set(c, a, PATRON_A_HOUSE_NUMBER, number), PATRON_OK);
        if (plz)
            assert_int_equal(patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, plz), PATRON_OK);
        if (city)
            assert_int_equal(patron_customer_address_set(c, a, PATRON_A_CITY, city), PATRON_OK);
    }
    return c;
}

int64_t fx_create(patron_db *db, patron_customer *c)
{
    patron_status st = patron_db_create(db, c);
    if (st != PATRON_OK)
        fail_msg("create: %s (%s)", patron_status_message(st), patron_db_errmsg(db));
    assert_true(patron_customer_id(c) > 0);
    return patron_customer_id(c);
}

int64_t fx_add(patron_db *db, const char *first, const char *last, const char *email, const char *street,
               const char *number, const char *plz, const char *city)
{
    patron_customer *c = fx_person(first, last, email, street, number, plz, city);
    int64_t id = fx_create(db, c);
    patron_customer_free(c);
    return id;
}

int64_t fx_save(patron_db *db, patron_customer *c)
{
    int64_t id = fx_create(db, c);
    patron_customer_free(c);
    return id;
}

patron_customer *fx_load(patron_db *db, int64_t id)
{
    patron_customer *c = NULL;
    patron_status st = patron_db_load(db, &c, id);
    if (st != PATRON_OK)
        fail_msg("load %lld: %s (%s)", (long long)id, patron_status_message(st), patron_db_errmsg(db));
    assert_non_null(c);
    return c;
}

int64_t fx_register(patron_db *db, patron_customer *c)
{
    int64_t id;
    OK(db, patron_db_register(db, NULL, c));
    id = patron_customer_id(c);
    assert_true(id > 0);
    patron_customer_free(c);
    return id;
}

int fx_state_of(patron_db *db, int64_t id)
{
    patron_customer *c = fx_load(db, id);
    int s = patron_customer_state(c);
    patron_customer_free(c);
    return s;
}

char *fx_field_of(patron_db *db, int64_t id, int field)
{
    patron_customer *c = fx_load(db, id);
    const char *v = patron_customer_get(c, field);
    char *r = v ? strdup(v) : NULL;
    patron_customer_free(c);
    return r;
}

void fx_assert_field(patron_db *db, int64_t id, int field, const char *want)
{
    char *v = fx_field_of(db, id, field);
    if (!want && v)
        fail_msg("customer #%lld %s: '%s', want unset", (long long)id, patron_field_name(field), v);
    if (want && (!v || strcmp(v, want) != 0))
        fail_msg("customer #%lld %s: '%s', want '%s'", (long long)id, patron_field_name(field),
                 v ? v : "(unset)", want);
    free(v);
}

char *fx_fingerprint(tb_fx *f)
{
    static const patron_key probes[] = {
        { PATRON_KEY_EMAIL, "maxmuster@gmail.com" },
        { PATRON_KEY_EMAIL, "max@example.de" },
        { PATRON_KEY_LOGIN, "maxm" },
        { 0, NULL },
    };
    static const char *const numbers[] = { "K000001", "K000002", "K000003", "K000004", NULL };
    return store_fingerprint(&f->tb, probes, numbers);
}

void fx_assert_same_store(const char *before, const char *after, const char *what)
{
    if (strcmp(before, after) != 0)
        fail_msg("%s changed the store\nbefore:\n%s\nafter:\n%s", what, before, after);
}
