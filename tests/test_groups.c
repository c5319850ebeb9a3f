/* Customer groups — add, rename, attributes, the default group, assignment,
 * delete — against every store.  The backend is argv[1] ("memory",
 * "sqlite"). */
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

/* Groups need the store's meta callbacks: a store without them refuses
 * (test_groups_refused_without_meta_callbacks checks how), and the group
 * tests are reported as skipped on it. */
static bool groups_supported(tb_fx *f)
{
    char *j = NULL;
    patron_status st = patron_db_groups_to_json(f->db, &j);
    patron_free(j);
    if (st == PATRON_E_UNSUPPORTED) {
        print_message("store '%s' has no meta callbacks: no customer groups\n", tb_backend);
        skip();
    }
    assert_int_equal(st, PATRON_OK);
    return true;
}


static char *groups(tb_fx *f)
{
    char *j = NULL;
    OK(f->db, patron_db_groups_to_json(f->db, &j));
    if (!json_valid(j))
        fail_msg("groups_json is not valid JSON: %s", j);
    return j;
}

/* The JSON object of group `name` in groups_json (copied; free()), or NULL. */
static char *group_obj(tb_fx *f, const char *name)
{
    char *j = groups(f), key[128], *p, *e, *r = NULL;
    snprintf(key, sizeof key, "{\"name\":\"%s\"", name);
    p = strstr(j, key);
    if (p) {
        e = strchr(p, '}');
        r = strndup(p, (size_t)(e - p + 1));
    }
    patron_free(j);
    return r;
}

static void assert_group(tb_fx *f, const char *name, const char *part)
{
    char *o = group_obj(f, name);
    if (!o)
        fail_msg("no group \"%s\" in groups_json", name);
    if (!strstr(o, part))
        fail_msg("group \"%s\": %s does not contain %s", name, o, part);
    free(o);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* A store without meta callbacks keeps no groups: every group call is
 * refused with PATRON_E_UNSUPPORTED and a message, changes nothing, and
 * customers are still kept. */
static void test_groups_refused_without_meta_callbacks(void **state)
{
    tb_fx *f = *state;
    patron_store_ops ops = *f->tb.ops;
    patron_db *db = NULL;
    patron_customer *c = fx_person("Lena", "Vogel", "lena@example.de", "Lindenweg", "3", "04109", "Leipzig");
    char *j = NULL, *before, *after;
    int64_t id;
    ops.destroy = NULL; /* the backend owns its context */
    ops.meta_get = NULL;
    ops.meta_put = NULL;
    ops.meta_scan = NULL;
    assert_int_equal(patron_db_open(&db, &ops, f->tb.ctx), PATRON_OK);
    OK(db, patron_db_create(db, c));
    id = patron_customer_id(c);
    assert_true(id > 0);
    before = fx_fingerprint(f);
    assert_int_equal(patron_db_groups_to_json(db, &j), PATRON_E_UNSUPPORTED);
    assert_null(j);
    assert_non_null(strstr(patron_db_errmsg(db), "group"));
    assert_int_equal(patron_db_group_add(db, "Händler"), PATRON_E_UNSUPPORTED);
    assert_non_null(strstr(patron_db_errmsg(db), "group"));
    assert_int_equal(patron_db_group_rename(db, "Händler", "B2B"), PATRON_E_UNSUPPORTED);
    assert_int_equal(patron_db_group_set(db, "Händler", "discount_percent", "5"), PATRON_E_UNSUPPORTED);
    assert_int_equal(patron_db_group_assign(db, "Händler", id), PATRON_E_UNSUPPORTED);
    assert_int_equal(patron_db_group_delete(db, "Händler"), PATRON_E_UNSUPPORTED);
    after = fx_fingerprint(f);
    fx_assert_same_store(before, after, "group calls on a store without meta callbacks");
    free(before);
    free(after);
    patron_customer_free(c);
    patron_db_close(db);
}

static void test_groups_add(void **state)
{
    tb_fx *f = *state;
    char *j, long_name[80];
    if (!groups_supported(f))
        return;
    j = groups(f);
    assert_string_equal(j, "[]");
    patron_free(j);

    OK(f->db, patron_db_group_add(f->db, "Standard"));
    OK(f->db, patron_db_group_add(f->db, "Händler"));
    assert_group(f, "Standard", "\"default\":true");
    assert_group(f, "Händler", "\"default\":false");
    assert_group(f, "Standard", "\"discount_percent\":0,");
    assert_group(f, "Standard", "\"price_category\":\"\"");
    assert_group(f, "Standard", "\"customers\":0}");
    j = groups(f);
    assert_int_equal(count_of(j, "\"name\":"), 2);
    assert_int_equal(count_of(j, "\"default\":true"), 1);
    patron_free(j);

    /* refusals */
    {
        char *before = groups(f), *after;
        EXPECT(f->db, PATRON_E_EXISTS, patron_db_group_add(f->db, "Händler"));
        CONTAINS(patron_db_errmsg(f->db), "Händler");
        EXPECT(f->db, PATRON_E_INVALID, patron_db_group_add(f->db, ""));
        EXPECT(f->db, PATRON_E_INVALID, patron_db_group_add(f->db, NULL));
        memset(long_name, 'x', 65);
        long_name[65] = '\0';
        EXPECT(f->db, PATRON_E_INVALID, patron_db_group_add(f->db, long_name));
        EXPECT(f->db, PATRON_E_INVALID, patron_db_group_add(f->db, "zwei\nZeilen"));
        EXPECT(f->db, PATRON_E_INVALID, patron_db_group_add(f->db, "Tab\there"));
        EXPECT(f->db, PATRON_E_INVALID, patron_db_group_add(f->db, "bad \xC3"));
        after = groups(f);
        assert_string_equal(before, after);
        patron_free(before);
        patron_free(after);
    }
    /* 64 bytes is the limit */
    memset(long_name, 'y', 64);
    long_name[64] = '\0';
    OK(f->db, patron_db_group_add(f->db, long_name));
    assert_group(f, long_name, "\"default\":false");
    /* a name that needs escaping in JSON */
    OK(f->db, patron_db_group_add(f->db, "Groß \"&\" Klein\\"));
    patron_free(groups(f));
}

/* Each of `bad` is refused with PATRON_E_INVALID as discount_percent of
 * "Händler"; fails once, naming every value taken. */
static void refuse_discounts(tb_fx *f, const char *const *bad, size_t n)
{
    char taken[512] = "";
    for (size_t i = 0; i < n; i++) {
        patron_status st = patron_db_group_set(f->db, "Händler", "discount_percent", bad[i]);
        if (st != PATRON_E_INVALID) {
            char *j = NULL, one[96];
            OK(f->db, patron_db_groups_to_json(f->db, &j));
            snprintf(one, sizeof one, " \"%s\"(%s%s)", bad[i], patron_status_message(st),
                     json_valid(j) ? "" : ", groups_json now invalid JSON");
            strncat(taken, one, sizeof taken - strlen(taken) - 1);
            patron_free(j);
            OK(f->db, patron_db_group_set(f->db, "Händler", "discount_percent", "12.5"));
        }
    }
    if (taken[0])
        fail_msg("discount_percent accepted values that are not 0..100 with at most two decimals:%s", taken);
}

static void test_groups_set(void **state)
{
    tb_fx *f = *state;
    static const char *const good[] = { "0", "12.5", "100", "99.99", "0.5", "7", "100.00" };
    static const char *const bad[] = { "-1", "100.01", "101", "12,5", "abc", "", "12.345",
                                       " 5", "nan", "inf", "+5", "5 ", "1.2.3", "100.001" };
    char *before, *after, want[64];
    if (!groups_supported(f))
        return;
    OK(f->db, patron_db_group_add(f->db, "Standard"));
    OK(f->db, patron_db_group_add(f->db, "Händler"));

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        OK(f->db, patron_db_group_set(f->db, "Händler", "discount_percent", good[i]));
        snprintf(want, sizeof want, "\"discount_percent\":%s,", good[i]);
        assert_group(f, "Händler", want);
    }
    OK(f->db, patron_db_group_set(f->db, "Händler", "discount_percent", "12.5"));
    before = groups(f);
    refuse_discounts(f, bad, sizeof bad / sizeof bad[0]);
    EXPECT(f->db, PATRON_E_INVALID, patron_db_group_set(f->db, "Händler", "discount_percent", NULL));
    after = groups(f);
    assert_string_equal(before, after);
    patron_free(before);
    patron_free(after);

    /* price category: text, "" clears */
    OK(f->db, patron_db_group_set(f->db, "Händler", "price_category", "B2B-Preis \"netto\""));
    assert_group(f, "Händler", "\"price_category\":\"B2B-Preis \\\"netto\\\"\"");
    assert_group(f, "Händler", "\"discount_percent\":12.5,"); /* kept */
    EXPECT(f->db, PATRON_E_INVALID, patron_db_group_set(f->db, "Händler", "price_category", "a\nb"));
    OK(f->db, patron_db_group_set(f->db, "Händler", "price_category", ""));
    assert_group(f, "Händler", "\"price_category\":\"\"");
    OK(f->db, patron_db_group_set(f->db, "Händler", "price_category", "C"));
    OK(f->db, patron_db_group_set(f->db, "Händler", "price_category", NULL));
    assert_group(f, "Händler", "\"price_category\":\"\"");

    /* default: moves the flag */
    OK(f->db, patron_db_group_set(f->db, "Händler", "default", "1"));
    assert_group(f, "Händler", "\"default\":true");
    assert_group(f, "Standard", "\"default\":false");
    OK(f->db, patron_db_group_set(f->db, "Händler", "default", "1")); /* again: no change */
    before = groups(f);
    assert_int_equal(count_of(before, "\"default\":true"), 1);
    EXPECT(f->db, PATRON_E_STATE, patron_db_group_set(f->db, "Händler", "default", "0"));
    OK(f->db, patron_db_group_set(f->db, "Standard", "default", "0")); /* not the default: nothing to do */
    EXPECT(f->db, PATRON_E_INVALID, patron_db_group_set(f->db, "Standard", "default", "2"));
    EXPECT(f->db, PATRON_E_INVALID, patron_db_group_set(f->db, "Standard", "default", NULL));
    EXPECT(f->db, PATRON_E_INVALID, patron_db_group_set(f->db, "Standard", "colour", "blau"));
    EXPECT(f->db, PATRON_E_INVALID, patron_db_group_set(f->db, "Standard", NULL, "1"));
    EXPECT(f->db, PATRON_E_NOT_FOUND, patron_db_group_set(f->db, "Gibtsnicht", "discount_percent", "1"));
    after = groups(f);
    assert_string_equal(before, after);
    patron_free(before);
    patron_free(after);
    OK(f->db, patron_db_group_set(f->db, "Standard", "default", "1"));
    assert_group(f, "Standard", "\"default\":true");
    assert_group(f, "Händler", "\"default\":false");
}

/* "discount_percent (0..100, up to two decimals)": written as a plain decimal.
 * groups_json copies the stored text into the JSON as a number, so any other
 * notation that strtod() takes breaks the JSON (0x10, .5, 5., 007). */
static void test_groups_discount_strict_format(void **state)
{
    tb_fx *f = *state;
    static const char *const odd[] = { "0x10", "1e2", ".5", "5.", "007", "0X1A", "1E1" };
    if (!groups_supported(f))
        return;
    OK(f->db, patron_db_group_add(f->db, "Standard"));
    OK(f->db, patron_db_group_add(f->db, "Händler"));
    refuse_discounts(f, odd, sizeof odd / sizeof odd[0]);
    patron_free(groups(f));
}

static void test_groups_new_customers_join_default(void **state)
{
    tb_fx *f = *state;
    int64_t before_groups, a, b, c;
    patron_customer *x;
    char *fp1, *fp2;
    if (!groups_supported(f))
        return;
    /* no groups yet: no group */
    before_groups = fx_save(f->db, fx_person("Anna", "Ahorn", NULL, NULL, NULL, NULL, NULL));
    fx_assert_field(f->db, before_groups, PATRON_F_GROUP, NULL);

    OK(f->db, patron_db_group_add(f->db, "Standard"));
    OK(f->db, patron_db_group_add(f->db, "Händler"));
    a = fx_save(f->db, fx_person("Bert", "Birke", NULL, NULL, NULL, NULL, NULL));
    fx_assert_field(f->db, a, PATRON_F_GROUP, "Standard");
    b = fx_register(f->db, fx_person("Cora", "Zeder", "cora@example.de", NULL, NULL, NULL, NULL));
    fx_assert_field(f->db, b, PATRON_F_GROUP, "Standard");
    x = fx_person("Dora", "Eiche", NULL, NULL, NULL, NULL, NULL);
    OK(f->db, patron_customer_set(x, PATRON_F_GROUP, "Händler"));
    c = fx_save(f->db, x);
    fx_assert_field(f->db, c, PATRON_F_GROUP, "Händler");

    /* the default moves: new customers follow it */
    OK(f->db, patron_db_group_set(f->db, "Händler", "default", "1"));
    a = fx_register(f->db, fx_person("Emil", "Esche", "emil@example.de", NULL, NULL, NULL, NULL));
    fx_assert_field(f->db, a, PATRON_F_GROUP, "Händler");

    /* an unknown group is refused, by create, register and update */
    fp1 = fx_fingerprint(f);
    x = fx_person("Fritz", "Fichte", "fritz@example.de", NULL, NULL, NULL, NULL);
    OK(f->db, patron_customer_set(x, PATRON_F_GROUP, "Gibtsnicht"));
    EXPECT(f->db, PATRON_E_INVALID, patron_db_create(f->db, x));
    CONTAINS(patron_db_errmsg(f->db), "Gibtsnicht");
    EXPECT(f->db, PATRON_E_INVALID, patron_db_register(f->db, NULL, x));
    assert_int_equal(patron_customer_id(x), 0);
    patron_customer_free(x);
    x = fx_load(f->db, c);
    OK(f->db, patron_customer_set(x, PATRON_F_GROUP, "Gibtsnicht"));
    EXPECT(f->db, PATRON_E_INVALID, patron_db_update(f->db, x));
    patron_customer_free(x);
    fp2 = fx_fingerprint(f);
    fx_assert_same_store(fp1, fp2, "customer with an unknown group");
    free(fp1);
    free(fp2);
    /* activation keeps the group */
    {
        patron_activation *r = NULL;
        OK(f->db, patron_db_activate(f->db, &r, b, PATRON_ACTIVATE_AUTO, 0));
        assert_int_equal(patron_activation_outcome(r), PATRON_OUTCOME_ACTIVATED);
        patron_activation_free(r);
        fx_assert_field(f->db, b, PATRON_F_GROUP, "Standard");
    }
    assert_group(f, "Standard", "\"customers\":2}"); /* a, b: active */
    assert_group(f, "Händler", "\"customers\":1}");  /* c; emil is pending */
}

static void test_groups_rename_and_assign(void **state)
{
    tb_fx *f = *state;
    int64_t a, b, p, m, ids[8];
    size_t n;
    patron_filter flt = PATRON_FILTER_INIT;
    char *rev;
    if (!groups_supported(f))
        return;
    OK(f->db, patron_db_group_add(f->db, "Standard"));
    OK(f->db, patron_db_group_add(f->db, "Händler"));
    OK(f->db, patron_db_group_set(f->db, "Händler", "discount_percent", "15"));
    a = fx_save(f->db, fx_person("Anna", "Ahorn", NULL, NULL, NULL, NULL, NULL));
    b = fx_save(f->db, fx_person("Bert", "Birke", NULL, NULL, NULL, NULL, NULL));
    p = fx_register(f->db, fx_person("Cora", "Zeder", "cora@example.de", NULL, NULL, NULL, NULL));
    m = fx_save(f->db, fx_person("Bert", "Birke", "bert2@example.de", NULL, NULL, NULL, NULL));

    /* assign */
    rev = fx_field_of(f->db, a, PATRON_F_REVISION);
    OK(f->db, patron_db_group_assign(f->db, "Händler", a));
    fx_assert_field(f->db, a, PATRON_F_GROUP, "Händler");
    {
        char *r2 = fx_field_of(f->db, a, PATRON_F_REVISION);
        assert_int_equal(atoll(r2), atoll(rev) + 1);
        free(r2);
    }
    free(rev);
    OK(f->db, patron_db_group_assign(f->db, "Händler", p));
    OK(f->db, patron_db_group_assign(f->db, "Händler", m));
    {
        patron_merge_plan *pl = NULL;
        OK(f->db, patron_merge_plan_new(f->db, &pl, b, &m, 1, 0));
        OK(f->db, patron_db_merge(f->db, NULL, pl));
        patron_merge_plan_free(pl);
    }
    {
        char *fp1 = fx_fingerprint(f), *fp2;
        EXPECT(f->db, PATRON_E_NOT_FOUND, patron_db_group_assign(f->db, "Gibtsnicht", b));
        EXPECT(f->db, PATRON_E_NOT_FOUND, patron_db_group_assign(f->db, "Händler", 999));
        EXPECT(f->db, PATRON_E_STATE, patron_db_group_assign(f->db, "Händler", m)); /* merged */
        EXPECT(f->db, PATRON_E_INVALID, patron_db_group_assign(f->db, "", b));
        fp2 = fx_fingerprint(f);
        fx_assert_same_store(fp1, fp2, "refused assign");
        free(fp1);
        free(fp2);
    }

    /* rename: every customer follows, attributes stay */
    OK(f->db, patron_db_group_rename(f->db, "Händler", "Wiederverkäufer"));
    fx_assert_field(f->db, a, PATRON_F_GROUP, "Wiederverkäufer");
    fx_assert_field(f->db, p, PATRON_F_GROUP, "Wiederverkäufer");
    fx_assert_field(f->db, m, PATRON_F_GROUP, "Wiederverkäufer");
    fx_assert_field(f->db, b, PATRON_F_GROUP, "Standard");
    assert_group(f, "Wiederverkäufer", "\"discount_percent\":15,");
    assert_group(f, "Wiederverkäufer", "\"customers\":1}");
    assert_null(group_obj(f, "Händler"));
    flt.group = "Wiederverkäufer";
    OK(f->db, patron_db_list(f->db, ids, &n, 8, &flt, 0));
    assert_int_equal(n, 3);
    flt.group = "Händler";
    OK(f->db, patron_db_list(f->db, ids, &n, 8, &flt, 0));
    assert_int_equal(n, 0);
    /* the default group keeps its flag through a rename */
    OK(f->db, patron_db_group_rename(f->db, "Standard", "Privat"));
    assert_group(f, "Privat", "\"default\":true");
    fx_assert_field(f->db, b, PATRON_F_GROUP, "Privat");
    {
        int64_t n2 = fx_save(f->db, fx_person("Neu", "Kunde", NULL, NULL, NULL, NULL, NULL));
        fx_assert_field(f->db, n2, PATRON_F_GROUP, "Privat");
    }
    /* refusals */
    {
        char *fp1 = fx_fingerprint(f), *fp2, *g1 = groups(f), *g2;
        EXPECT(f->db, PATRON_E_NOT_FOUND, patron_db_group_rename(f->db, "Gibtsnicht", "X"));
        EXPECT(f->db, PATRON_E_EXISTS, patron_db_group_rename(f->db, "Privat", "Wiederverkäufer"));
        EXPECT(f->db, PATRON_E_INVALID, patron_db_group_rename(f->db, "Privat", ""));
        EXPECT(f->db, PATRON_E_INVALID, patron_db_group_rename(f->db, NULL, "X"));
        OK(f->db, patron_db_group_rename(f->db, "Privat", "Privat"));
        fp2 = fx_fingerprint(f);
        g2 = groups(f);
        fx_assert_same_store(fp1, fp2, "refused rename");
        assert_string_equal(g1, g2);
        free(fp1);
        free(fp2);
        patron_free(g1);
        patron_free(g2);
    }
}

static void test_groups_delete(void **state)
{
    tb_fx *f = *state;
    int64_t a1, a2, p, m, s;
    char *fp1, *fp2, *g1, *g2;
    if (!groups_supported(f))
        return;
    OK(f->db, patron_db_group_add(f->db, "Standard"));
    OK(f->db, patron_db_group_add(f->db, "Händler"));
    a1 = fx_save(f->db, fx_person("Anna", "Ahorn", NULL, NULL, NULL, NULL, NULL));
    a2 = fx_save(f->db, fx_person("Bert", "Birke", NULL, NULL, NULL, NULL, NULL));
    p = fx_register(f->db, fx_person("Cora", "Zeder", "cora@example.de", NULL, NULL, NULL, NULL));
    m = fx_save(f->db, fx_person("Dora", "Eiche", "dora.alt@example.de", NULL, NULL, NULL, NULL));
    s = fx_save(f->db, fx_person("Dora", "Eiche", "dora@example.de", NULL, NULL, NULL, NULL));
    OK(f->db, patron_db_group_assign(f->db, "Händler", a1));
    OK(f->db, patron_db_group_assign(f->db, "Händler", a2));
    OK(f->db, patron_db_group_assign(f->db, "Händler", p));
    OK(f->db, patron_db_group_assign(f->db, "Händler", m));
    {
        patron_merge_plan *pl = NULL;
        OK(f->db, patron_merge_plan_new(f->db, &pl, s, &m, 1, 0));
        OK(f->db, patron_db_merge(f->db, NULL, pl));
        patron_merge_plan_free(pl);
    }

    /* refused while active customers are in it: the message says how many */
    fp1 = fx_fingerprint(f);
    g1 = groups(f);
    EXPECT(f->db, PATRON_E_STATE, patron_db_group_delete(f->db, "Händler"));
    CONTAINS(patron_db_errmsg(f->db), "2 active customers");
    OK(f->db, patron_db_group_assign(f->db, "Standard", a2));
    patron_free(g1);
    free(fp1);
    fp1 = fx_fingerprint(f);
    g1 = groups(f);
    EXPECT(f->db, PATRON_E_STATE, patron_db_group_delete(f->db, "Händler"));
    CONTAINS(patron_db_errmsg(f->db), "1 active customer");
    /* the default group: never */
    EXPECT(f->db, PATRON_E_STATE, patron_db_group_delete(f->db, "Standard"));
    CONTAINS(patron_db_errmsg(f->db), "default");
    EXPECT(f->db, PATRON_E_NOT_FOUND, patron_db_group_delete(f->db, "Gibtsnicht"));
    EXPECT(f->db, PATRON_E_INVALID, patron_db_group_delete(f->db, ""));
    fp2 = fx_fingerprint(f);
    g2 = groups(f);
    fx_assert_same_store(fp1, fp2, "refused group delete");
    assert_string_equal(g1, g2);
    free(fp1);
    free(fp2);
    patron_free(g1);
    patron_free(g2);

    /* only pending and merged customers left: allowed, they move to the default */
    OK(f->db, patron_db_group_assign(f->db, "Standard", a1));
    OK(f->db, patron_db_group_delete(f->db, "Händler"));
    assert_null(group_obj(f, "Händler"));
    fx_assert_field(f->db, p, PATRON_F_GROUP, "Standard");
    fx_assert_field(f->db, m, PATRON_F_GROUP, "Standard");
    assert_int_equal(fx_state_of(f->db, m), PATRON_STATE_MERGED);
    assert_int_equal(fx_state_of(f->db, p), PATRON_STATE_PENDING);
    g1 = groups(f);
    assert_int_equal(count_of(g1, "\"name\":"), 1);
    assert_int_equal(count_of(g1, "\"default\":true"), 1);
    patron_free(g1);
    assert_group(f, "Standard", "\"customers\":3}"); /* a1, a2, s */
    /* an empty non-default group goes without further ado; the name is free again */
    OK(f->db, patron_db_group_add(f->db, "Händler"));
    OK(f->db, patron_db_group_delete(f->db, "Händler"));
    OK(f->db, patron_db_group_add(f->db, "Händler"));
    assert_group(f, "Händler", "\"default\":false");
}

static void test_groups_structs(void **state)
{
    tb_fx *f = *state;
    patron_groups *l = NULL;
    patron_group *g = NULL;
    const patron_group *h;
    int64_t a, b;
    if (!groups_supported(f))
        skip();
    OK(f->db, patron_db_group_list(f->db, &l));
    assert_int_equal(patron_groups_count(l), 0);
    assert_null(patron_groups_at(l, 0));
    patron_groups_free(l);

    OK(f->db, patron_db_group_add(f->db, "Standard"));
    OK(f->db, patron_db_group_add(f->db, "Händler"));
    OK(f->db, patron_db_group_set(f->db, "Händler", "discount_percent", "12.5"));
    OK(f->db, patron_db_group_set(f->db, "Händler", "price_category", "B"));
    a = fx_save(f->db, fx_person("Lena", "Vogel", "lena@example.de", "Lindenweg", "3", "04109", "Leipzig"));
    b = fx_save(f->db, fx_person("Ole", "Hahn", "ole@example.de", "Seeweg", "4", "24103", "Kiel"));
    OK(f->db, patron_db_group_assign(f->db, "Händler", a));
    (void)b;

    OK(f->db, patron_db_group_list(f->db, &l));
    assert_int_equal(patron_groups_count(l), 2);
    /* name order (bytewise): "Händler" < "Standard" */
    h = patron_groups_at(l, 0);
    assert_string_equal(patron_group_name(h), "Händler");
    assert_string_equal(patron_group_discount_percent(h), "12.5");
    assert_string_equal(patron_group_price_category(h), "B");
    assert_int_equal(patron_group_is_default(h), 0);
    assert_int_equal(patron_group_customers(h), 1);
    h = patron_groups_at(l, 1);
    assert_string_equal(patron_group_name(h), "Standard");
    assert_string_equal(patron_group_discount_percent(h), "0");
    assert_null(patron_group_price_category(h));
    assert_int_equal(patron_group_is_default(h), 1);
    assert_int_equal(patron_group_customers(h), 1); /* b joined the default group */
    assert_null(patron_groups_at(l, 2));
    patron_groups_free(l);

    OK(f->db, patron_db_group_get(f->db, &g, "Händler"));
    assert_string_equal(patron_group_name(g), "Händler");
    assert_int_equal(patron_group_customers(g), 1);
    patron_group_free(g);
    g = (patron_group *)1;
    EXPECT(f->db, PATRON_E_NOT_FOUND, patron_db_group_get(f->db, &g, "Gibt es nicht"));
    assert_null(g);
    CONTAINS(patron_db_errmsg(f->db), "Gibt es nicht");
    EXPECT(f->db, PATRON_E_INVALID, patron_db_group_get(f->db, &g, ""));
    EXPECT(f->db, PATRON_E_INVALID, patron_db_group_get(f->db, NULL, "Standard"));
    EXPECT(f->db, PATRON_E_INVALID, patron_db_group_list(f->db, NULL));
    patron_groups_free(NULL);
    patron_group_free(NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_groups_refused_without_meta_callbacks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_groups_structs, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_groups_add, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_groups_set, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_groups_discount_strict_format, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_groups_new_customers_join_default, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_groups_rename_and_assign, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_groups_delete, fx_setup, fx_teardown),
    };
    tb_backend = tb_selected(argc, argv);
    return cmocka_run_group_tests_name(tb_backend, tests, NULL, NULL);
}
