/* Every mutating operation against a store that fails its Nth callback, for
 * every N: the operation reports the failure, and the store and the
 * caller's record are exactly as before.  Then the same operation, without
 * a failure, succeeds on the same store (nothing was left half-open). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"

static const char *g_backend = "memory";

typedef struct fixture {
    test_backend tb;
    patron_db *plain; /* a handle without faults, to set up data */
    int64_t id_a, id_b;
    int64_t journal_id; /* a merge to undo */
} fixture;

/* An operation under test: run it on `db` against the fixture; the record it
 * works on (if any) is in *rec, made by prepare(). */
typedef struct op {
    const char *name;
    void (*prepare)(fixture *fx, patron_customer **rec);
    patron_status (*run)(fixture *fx, patron_db *db, patron_customer *rec);
} op;

static patron_customer *person(const char *first, const char *last, const char *email)
{
    patron_customer *c;
    size_t a;
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_FIRST_NAME, first), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_LAST_NAME, last), PATRON_OK);
    if (email)
        assert_int_equal(patron_customer_set(c, PATRON_F_EMAIL, email), PATRON_OK);
    assert_int_equal(patron_customer_address_add(c, &a), PATRON_OK);
    assert_int_equal(patron_customer_address_set(c, a, PATRON_A_STREET, "Hauptstraße"), PATRON_OK);
    assert_int_equal(patron_customer_address_set(c, a, PATRON_A_HOUSE_NUMBER, "12a"), PATRON_OK);
    assert_int_equal(patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, "10115"), PATRON_OK);
    assert_int_equal(patron_customer_address_set(c, a, PATRON_A_CITY, "Berlin"), PATRON_OK);
    assert_int_equal(patron_customer_tag_add(c, "vip"), PATRON_OK);
    assert_int_equal(patron_customer_prop_set(c, "shoe_size", "44"), PATRON_OK);
    return c;
}

static void fixture_open(fixture *fx)
{
    patron_customer *a, *b;
    memset(fx, 0, sizeof *fx);
    assert_int_equal(tb_open(&fx->tb, g_backend), 0);
    fx->plain = tb_db(&fx->tb);
    assert_non_null(fx->plain);
    a = person("Anna", "Müller", "anna@example.de");
    assert_int_equal(patron_customer_set(a, PATRON_F_EXTERNAL_SOURCE, "shop"), PATRON_OK);
    assert_int_equal(patron_customer_set(a, PATRON_F_EXTERNAL_ID, "1001"), PATRON_OK);
    assert_int_equal(patron_db_create(fx->plain, a), PATRON_OK);
    b = person("Bernd", "Schmidt", "bernd@example.de");
    assert_int_equal(patron_customer_set(b, PATRON_F_LOGIN_USER, "bernd"), PATRON_OK);
    assert_int_equal(patron_customer_set(b, PATRON_F_LOGIN_HASH, "$2y$10$secret"), PATRON_OK);
    assert_int_equal(patron_db_create(fx->plain, b), PATRON_OK);
    fx->id_a = patron_customer_id(a);
    fx->id_b = patron_customer_id(b);
    assert_int_equal(tb_add_order(&fx->tb, "O-1", fx->id_a), 0);
    assert_int_equal(tb_add_order(&fx->tb, "O-2", fx->id_b), 0);
    assert_int_equal(tb_add_order(&fx->tb, "O-3", fx->id_b), 0);
    {
        static const char *const orders[] = { "O-1", "O-2", "O-3", NULL };
        fx->tb.probe_orders = orders;
    }
    patron_customer_free(a);
    patron_customer_free(b);
}

static void fixture_close(fixture *fx)
{
    patron_db_close(fx->plain);
    tb_close(&fx->tb);
}

static const patron_key PROBE_KEYS[] = {
    { PATRON_KEY_EMAIL, "anna@example.de" },
    { PATRON_KEY_EMAIL, "bernd@example.de" },
    { PATRON_KEY_EMAIL, "carla@example.de" },
    { PATRON_KEY_EMAIL, "anna.neu@example.de" },
    { PATRON_KEY_EXTERNAL, "shop\x1f" "2002" },
    { PATRON_KEY_NUMBER, "K000003" },
    { PATRON_KEY_NUMBER, "M-77" },
    { PATRON_KEY_LOGIN, "carla" },
    { 0, NULL },
};
static const char *const PROBE_NUMBERS[] = { "K000001", "K000002", "K000003", "K000004", "M-77", NULL };

static char *pack(const patron_customer *c)
{
    char *p;
    size_t n;
    if (!c)
        return strdup("(none)");
    assert_int_equal(patron_record_pack(&p, &n, c), PATRON_OK);
    return p;
}

/* ---- the operations ----------------------------------------------------- */

static void prep_new(fixture *fx, patron_customer **rec)
{
    (void)fx;
    *rec = person("Carla", "Weiß", "carla@example.de");
    assert_int_equal(patron_customer_set(*rec, PATRON_F_EXTERNAL_SOURCE, "shop"), PATRON_OK);
    assert_int_equal(patron_customer_set(*rec, PATRON_F_EXTERNAL_ID, "2002"), PATRON_OK);
    assert_int_equal(patron_customer_set(*rec, PATRON_F_LOGIN_USER, "carla"), PATRON_OK);
}

static void prep_new_manual(fixture *fx, patron_customer **rec)
{
    prep_new(fx, rec);
    assert_int_equal(patron_customer_set(*rec, PATRON_F_NUMBER, "M-77"), PATRON_OK);
}

static patron_status run_create(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    return patron_db_create(db, rec);
}

static void prep_loaded_a(fixture *fx, patron_customer **rec)
{
    assert_int_equal(patron_db_load(fx->plain, rec, fx->id_a), PATRON_OK);
    assert_int_equal(patron_customer_set(*rec, PATRON_F_EMAIL, "anna.neu@example.de"), PATRON_OK);
    assert_int_equal(patron_customer_set(*rec, PATRON_F_LAST_NAME, "Müller-Lüdenscheidt"), PATRON_OK);
    assert_int_equal(patron_customer_address_set(*rec, 0, PATRON_A_CITY, "Potsdam"), PATRON_OK);
    assert_int_equal(patron_customer_tag_add(*rec, "newsletter"), PATRON_OK);
}

static patron_status run_update(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    return patron_db_update(db, rec);
}

static void prep_none(fixture *fx, patron_customer **rec)
{
    (void)fx;
    *rec = NULL;
}

static patron_status run_delete(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)rec;
    return patron_db_delete(db, fx->id_b, 1);
}

/* Not mutations, but reads must also end their transaction on any failure. */
static patron_status run_find(fixture *fx, patron_db *db, patron_customer *rec)
{
    patron_customer *c = NULL;
    patron_status st;
    (void)fx;
    (void)rec;
    st = patron_db_find(db, &c, PATRON_KEY_EMAIL, "bernd@example.de");
    patron_customer_free(c);
    return st;
}

static patron_status run_list(fixture *fx, patron_db *db, patron_customer *rec)
{
    int64_t ids[4];
    size_t n;
    patron_filter f = PATRON_FILTER_INIT;
    (void)fx;
    (void)rec;
    f.state = PATRON_STATE_ACTIVE;
    return patron_db_list(db, ids, 4, &n, &f, 0);
}

static patron_status run_merge(fixture *fx, patron_db *db, patron_customer *rec)
{
    patron_merge_plan *p = NULL;
    int64_t jid;
    patron_status st;
    (void)rec;
    st = patron_merge_plan_new(db, &p, fx->id_a, &fx->id_b, 1, PATRON_MERGE_SURVIVOR);
    if (!st)
        st = patron_db_merge(db, &jid, p);
    patron_merge_plan_free(p);
    return st;
}

static void prep_merged(fixture *fx, patron_customer **rec)
{
    patron_merge_plan *p;
    *rec = NULL;
    assert_int_equal(patron_merge_plan_new(fx->plain, &p, fx->id_a, &fx->id_b, 1, 0), PATRON_OK);
    assert_int_equal(patron_db_merge(fx->plain, &fx->journal_id, p), PATRON_OK);
    patron_merge_plan_free(p);
}

static patron_status run_undo(fixture *fx, patron_db *db, patron_customer *rec)
{
    int64_t uid;
    (void)rec;
    return patron_db_undo(db, &uid, fx->journal_id, 0);
}

static patron_status run_lock(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)rec;
    return patron_db_lock(db, fx->id_a, "Zahlungsausfall");
}

static void prep_locked(fixture *fx, patron_customer **rec)
{
    *rec = NULL;
    assert_int_equal(patron_db_lock(fx->plain, fx->id_a, "Betrug"), PATRON_OK);
}

static patron_status run_unlock(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)rec;
    return patron_db_unlock(db, fx->id_a);
}

static const op OPS[] = {
    { "create", prep_new, run_create },
    { "create-manual-number", prep_new_manual, run_create },
    { "update", prep_loaded_a, run_update },
    { "delete", prep_none, run_delete },
    { "find", prep_none, run_find },
    { "list", prep_none, run_list },
    { "merge", prep_none, run_merge },
    { "undo", prep_merged, run_undo },
    { "lock", prep_none, run_lock },
    { "unlock", prep_locked, run_unlock },
};

/* ---- the driver --------------------------------------------------------- */

static void every_step(const op *o)
{
    long n;
    long steps = 0;
    for (n = 1;; n++) {
        fixture fx;
        fault_store fs;
        patron_customer *rec = NULL;
        patron_db *db;
        char *before, *after, *rec_before, *rec_after;
        patron_status st;

        fixture_open(&fx);
        o->prepare(&fx, &rec);
        db = fault_db(&fs, &fx.tb);
        assert_non_null(db);
        before = store_fingerprint(&fx.tb, PROBE_KEYS, PROBE_NUMBERS);
        rec_before = pack(rec);

        fault_arm(&fs, n);
        st = o->run(&fx, db, rec);
        if (!fs.failed) {
            /* n is past the last callback: the operation ran clean. */
            assert_int_equal(st, PATRON_OK);
            steps = n - 1;
            free(before);
            patron_free(rec_before);
            patron_customer_free(rec);
            patron_db_close(db);
            fixture_close(&fx);
            break;
        }
        if (st == PATRON_OK)
            fail_msg("%s: injected failure in '%s' (call %ld) was not reported", o->name,
                     fs.last_failed, n);
        if (st != PATRON_E_STORE)
            fail_msg("%s: failure in '%s' reported as %d (%s), want PATRON_E_STORE", o->name,
                     fs.last_failed, st, patron_db_errmsg(db));
        if (!strstr(patron_db_errmsg(db), fs.last_failed))
            fail_msg("%s: message '%s' does not name the callback '%s'", o->name,
                     patron_db_errmsg(db), fs.last_failed);
        after = store_fingerprint(&fx.tb, PROBE_KEYS, PROBE_NUMBERS);
        if (strcmp(before, after) != 0)
            fail_msg("%s: store changed after failure of '%s' (call %ld)\nbefore:\n%s\nafter:\n%s",
                     o->name, fs.last_failed, n, before, after);
        rec_after = pack(rec);
        if (strcmp(rec_before, rec_after) != 0)
            fail_msg("%s: caller's record changed after failure of '%s'", o->name, fs.last_failed);

        /* The same store, no fault: the operation goes through. */
        fault_arm(&fs, 0);
        assert_int_equal(o->run(&fx, db, rec), PATRON_OK);

        free(before);
        free(after);
        patron_free(rec_before);
        patron_free(rec_after);
        patron_customer_free(rec);
        patron_db_close(db);
        fixture_close(&fx);
    }
    /* Every operation needs at least begin, one step and commit. */
    assert_true(steps >= 3);
    print_message("[ %-20s ] %ld callbacks, failed at each\n", o->name, steps);
}

static void test_ops(void **state)
{
    const op *o = *state;
    every_step(o);
}

int main(int argc, char **argv)
{
    struct CMUnitTest tests[sizeof OPS / sizeof OPS[0]];
    char names[sizeof OPS / sizeof OPS[0]][64];
    g_backend = tb_selected(argc, argv);
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
        snprintf(names[i], sizeof names[i], "%s/%s", g_backend, OPS[i].name);
        tests[i] = (struct CMUnitTest){ names[i], test_ops, NULL, NULL, (void *)&OPS[i] };
    }
    return _cmocka_run_group_tests("faults", tests, sizeof OPS / sizeof OPS[0], NULL, NULL);
}
