/* The index generation (patron_db_index_state) and patron_db_reindex():
 * a store whose keys went stale is told so, and one call rebuilds them —
 * candidates found again, value counts exact, the records, the journal and
 * the numbers untouched; under injected store failures nothing changes.
 * Runs against every store (memory, SQLite, PostgreSQL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"
#include "fixture.h"

#define GEN_KEY "patron.index.version"
#define COUNTRY_KEY "patron.index.country"
#define KEY_TF_ALL 123 /* the key every record holds ("*"): its count is N */

static patron_index_state state_of(patron_db *db, unsigned *gen)
{
    patron_index_state s = PATRON_INDEX_UNKNOWN;
    unsigned cur = 0;
    OK(db, patron_db_index_state(db, &s, gen, &cur));
    assert_true(cur >= 1);
    return s;
}

static int count_id(void *ctx, int64_t id)
{
    (void)id;
    ++*(size_t *)ctx;
    return 0;
}

/* How many ids the store has under (kind, value), straight from the store. */
static size_t held(test_backend *tb, int kind, const char *value)
{
    size_t n = 0;
    assert_int_equal(tb->ops->begin(tb->ctx), 0);
    assert_int_equal(tb->ops->lookup(tb->ctx, kind, value, count_id, &n), 0);
    if (tb->ops->count) { /* the store's own count (SQLite, PostgreSQL: a counts table) agrees */
        uint64_t c = 0;
        assert_int_equal(tb->ops->count(tb->ctx, kind, value, &c), 0);
        assert_int_equal(c, n);
    }
    tb->ops->rollback(tb->ctx);
    return n;
}

static int is_candidate(patron_db *db, int64_t of, int64_t other)
{
    patron_customer *c = fx_load(db, of);
    patron_matches *m = NULL;
    int found = 0;
    OK(db, patron_db_match(db, &m, c, PATRON_MATCH_FIELDS));
    for (size_t i = 0; i < patron_matches_count(m); i++) {
        int64_t id = 0;
        OK(db, patron_matches_get(m, &id, NULL, NULL, i));
        found |= id == other;
    }
    patron_matches_free(m);
    patron_customer_free(c);
    return found;
}

/* Make customer `id`'s keys stale as an older release would have left them:
 * written back (unchanged) with its customer number as its only key and no
 * match form, and the store's record of its generation set to `gen` (NULL:
 * removed) — through the store's own callbacks, as a host's store would. */
static void make_stale(test_backend *tb, int64_t id, const char *gen)
{
    const patron_store_ops *o = tb->ops;
    patron_customer *c;
    patron_key k = { PATRON_KEY_NUMBER, NULL };
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    assert_int_equal(o->begin(tb->ctx), 0);
    assert_int_equal(o->load(tb->ctx, id, c), 0);
    k.value = patron_customer_get(c, PATRON_F_NUMBER);
    assert_non_null(k.value);
    assert_int_equal(o->update(tb->ctx, c, &k, 1), 0);
    assert_int_equal(o->meta_put(tb->ctx, GEN_KEY, gen), 0);
    assert_int_equal(o->commit(tb->ctx), 0);
    patron_customer_free(c);
}

/* A store of a few customers: a likely pair (a, b), a merged pair and its
 * journal entry, a locked one. */
typedef struct built {
    int64_t a, b, c, d, journal;
    size_t n;
} built;

static void build(tb_fx *f, built *out)
{
    patron_merge_plan *plan = NULL;
    out->a = fx_add(f->db, "Jürgen", "Zwirnmann", "j.zwirnmann@web.de", "Ahornweg", "2", "04109", "Leipzig");
    out->b = fx_add(f->db, "Juergen", "Zwirnmann", "jz@gmx.de", "Ahornweg", "2", "04109", "Leipzig");
    out->c = fx_add(f->db, "Sabine", "Hagedorn", "sabine@hagedorn.de", "Menckestraße", "8", "04155", "Leipzig");
    out->d = fx_add(f->db, "Sabine", "Hagedorn", "s.hagedorn@web.de", "Menckestraße", "8", "04155", "Leipzig");
    fx_add(f->db, "Otto", "Brenner", "otto@brenner.de", "Lindenallee", "1", "50667", "Köln");
    fx_add(f->db, "Maria", "Kowalski", "maria.k@posteo.de", "Am Markt", "3", "80331", "München");
    OK(f->db, patron_merge_plan_new(f->db, &plan, out->c, &out->d, 1, PATRON_MERGE_SURVIVOR));
    OK(f->db, patron_db_merge(f->db, &out->journal, plan));
    patron_merge_plan_free(plan);
    OK(f->db, patron_db_lock(f->db, out->a, "test"));
    OK(f->db, patron_db_unlock(f->db, out->a));
    out->n = 6; /* records; the merged-away one holds no "*" key */
}

static void test_new_store_current(void **state)
{
    tb_fx *f = *state;
    unsigned gen = 99;
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_CURRENT);
    assert_int_equal(gen, 0); /* nothing recorded: an empty store is current */
    fx_add(f->db, "Otto", "Brenner", "otto@brenner.de", "Lindenallee", "1", "50667", "Köln");
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_CURRENT);
    assert_true(gen >= 1); /* the first create recorded it */
    assert_string_equal(patron_index_state_name(PATRON_INDEX_STALE), "stale");
    assert_string_equal(patron_index_state_name(PATRON_INDEX_UNKNOWN), "unknown");
    assert_null(patron_index_state_name((patron_index_state)42));
    assert_int_equal(patron_db_index_state(f->db, NULL, NULL, NULL), PATRON_E_INVALID);
    assert_int_equal(patron_db_index_state(NULL, NULL, NULL, NULL), PATRON_E_INVALID);
    assert_int_equal(patron_db_reindex(NULL, NULL), PATRON_E_INVALID);
}

/* Customers but no record of the generation (a release before it was
 * recorded), an older one, garbage, a newer one. */
static void test_states_from_meta(void **state)
{
    tb_fx *f = *state;
    const patron_store_ops *o = f->tb.ops;
    unsigned gen = 0, cur = 0;
    patron_index_state s;
    char newer[16];
    fx_add(f->db, "Otto", "Brenner", "otto@brenner.de", "Lindenallee", "1", "50667", "Köln");
    OK(f->db, patron_db_index_state(f->db, &s, &gen, &cur));
    snprintf(newer, sizeof newer, "%u", cur + 1);
    static const char *const texts[] = { NULL, "0", "x1", "-1", "01", "" };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        assert_int_equal(o->begin(f->tb.ctx), 0);
        assert_int_equal(o->meta_put(f->tb.ctx, GEN_KEY, texts[i]), 0);
        assert_int_equal(o->commit(f->tb.ctx), 0);
        assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_STALE);
        assert_int_equal(gen, 0);
    }
    assert_int_equal(o->begin(f->tb.ctx), 0);
    assert_int_equal(o->meta_put(f->tb.ctx, GEN_KEY, newer), 0);
    assert_int_equal(o->commit(f->tb.ctx), 0);
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_NEWER);
    assert_int_equal(gen, cur + 1);
    /* a create into a store with customers records nothing */
    assert_int_equal(o->begin(f->tb.ctx), 0);
    assert_int_equal(o->meta_put(f->tb.ctx, GEN_KEY, NULL), 0);
    assert_int_equal(o->commit(f->tb.ctx), 0);
    {
        patron_db *other = tb_db(&f->tb); /* a handle that has not looked yet */
        assert_non_null(other);
        fx_add(other, "Maria", "Kowalski", "maria.k@posteo.de", "Am Markt", "3", "80331", "München");
        assert_int_equal(state_of(other, &gen), PATRON_INDEX_STALE);
        patron_db_close(other);
    }
}

static void test_stale_keys_rebuilt(void **state)
{
    tb_fx *f = *state;
    built s;
    unsigned gen = 0;
    size_t n = 0;
    char *fp0, *fp1;
    static const patron_key probe[] = { { PATRON_KEY_EMAIL, "jz@gmx.de" }, { PATRON_KEY_EMAIL, "s.hagedorn@web.de" },
                                        { KEY_TF_ALL, "*" }, { 0, NULL } };
    build(f, &s);
    assert_true(is_candidate(f->db, s.a, s.b));
    assert_int_equal(held(&f->tb, KEY_TF_ALL, "*"), s.n - 1);
    fp0 = store_fingerprint(&f->tb, probe, NULL);

    make_stale(&f->tb, s.b, "0");
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_STALE);
    assert_int_equal(gen, 0);
    /* what a stale index does: the pair is missed, the counts are off */
    assert_false(is_candidate(f->db, s.a, s.b));
    assert_int_equal(held(&f->tb, KEY_TF_ALL, "*"), s.n - 2);
    assert_int_equal(held(&f->tb, PATRON_KEY_EMAIL, "jz@gmx.de"), 0);

    OK(f->db, patron_db_reindex(f->db, &n));
    assert_int_equal(n, s.n); /* every record, the merged-away one too */
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_CURRENT);
    assert_true(gen >= 1);
    assert_true(is_candidate(f->db, s.a, s.b));
    assert_int_equal(held(&f->tb, KEY_TF_ALL, "*"), s.n - 1);
    /* the merged-away record's email still leads to its survivor */
    assert_int_equal(held(&f->tb, PATRON_KEY_EMAIL, "s.hagedorn@web.de"), 1);
    /* records (values, numbers, revisions, times), keys, journal, counter:
     * as before the keys went stale */
    fp1 = store_fingerprint(&f->tb, probe, NULL);
    assert_string_equal(fp0, fp1);
    free(fp1);
    /* the merge can still be undone */
    {
        int64_t undo = 0;
        OK(f->db, patron_db_undo(f->db, &undo, s.journal, 0));
        assert_true(undo > 0);
    }
    /* a second reindex changes nothing */
    OK(f->db, patron_db_reindex(f->db, &n));
    free(fp0);
}

/* A store failure at any callback of a reindex leaves the store as it was;
 * the sweep ends with the run that succeeds. */
static void test_reindex_faults(void **state)
{
    tb_fx *f = *state;
    built s;
    fault_store fs;
    patron_db *db;
    char *before, *now;
    unsigned gen = 0;
    long n, failures = 0;
    static const patron_key probe[] = { { PATRON_KEY_EMAIL, "jz@gmx.de" }, { KEY_TF_ALL, "*" }, { 0, NULL } };
    build(f, &s);
    make_stale(&f->tb, s.b, NULL);
    f->tb.probe_orders = NULL;
    before = store_fingerprint(&f->tb, probe, NULL);
    db = fault_db_with_meta(&fs, &f->tb);
    assert_non_null(db);
    for (n = 1;; n++) {
        size_t count = 77;
        patron_status st;
        fault_arm(&fs, n);
        st = patron_db_reindex(db, &count);
        if (!fs.failed) {
            OK(db, st);
            break;
        }
        failures++;
        assert_int_equal(st, PATRON_E_STORE);
        assert_int_equal(count, 0);
        assert_non_null(strstr(patron_db_errmsg(db), fs.last_failed));
        fault_arm(&fs, 0);
        now = store_fingerprint(&f->tb, probe, NULL);
        if (strcmp(before, now) != 0)
            fail_msg("reindex failing at callback %ld (%s) changed the store", n, fs.last_failed);
        free(now);
        assert_int_equal(state_of(db, &gen), PATRON_INDEX_STALE);
        assert_false(is_candidate(db, s.a, s.b));
        if (n > 10000)
            fail_msg("reindex keeps calling the store");
    }
    fault_arm(&fs, 0);
    assert_true(failures > 10);
    assert_int_equal(state_of(db, &gen), PATRON_INDEX_CURRENT);
    assert_true(is_candidate(db, s.a, s.b));
    print_message("reindex of %zu records: %ld callbacks, each failed once\n", s.n, failures);
    patron_db_close(db);
    free(before);
}

/* A store without meta: reindex works, the state is unknown. */
static void test_without_meta(void **state)
{
    tb_fx *f = *state;
    patron_store_ops ops = *f->tb.ops;
    patron_db *db = NULL;
    built s;
    unsigned gen = 5;
    size_t n = 0;
    build(f, &s);
    make_stale(&f->tb, s.b, NULL);
    ops.meta_get = NULL;
    ops.meta_put = NULL;
    ops.meta_scan = NULL;
    ops.destroy = NULL;
    OK(db, patron_db_open(&db, &ops, f->tb.ctx));
    assert_int_equal(state_of(db, &gen), PATRON_INDEX_UNKNOWN);
    assert_int_equal(gen, 0);
    assert_false(is_candidate(db, s.a, s.b));
    OK(db, patron_db_reindex(db, &n));
    assert_int_equal(n, s.n);
    assert_true(is_candidate(db, s.a, s.b));
    assert_int_equal(state_of(db, &gen), PATRON_INDEX_UNKNOWN);
    patron_db_close(db);
    /* the store's own meta was not written through that handle */
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_STALE);
}

#define KEY_PHONE 101 /* the E.164 phone */

/* A customer with a national phone number and no address: the number is
 * read in the dialling plan of the store's default country (with an
 * address, in its country's). */
static int64_t add_with_phone(patron_db *db, const char *first, const char *last, const char *phone)
{
    patron_customer *c = fx_person(first, last, NULL, NULL, NULL, NULL, NULL);
    assert_int_equal(patron_customer_set(c, PATRON_F_PHONE, phone), PATRON_OK);
    return fx_save(db, c);
}

static void set_country(patron_db *db, const char *country)
{
    patron_match_settings s = PATRON_MATCH_SETTINGS_INIT;
    OK(db, patron_db_match_config_get(db, &s));
    memcpy(s.default_country, country, 3);
    OK(db, patron_db_match_config_set(db, &s));
}

/* The default country decides how a national phone number is read, so the
 * keys the store holds were built under the country in force when each
 * record was saved: a change of it leaves the index stale (for every
 * handle on the store) until patron_db_reindex() rebuilds it under the new
 * one.  A change of anything else in the settings does not. */
static void test_country_change_stale(void **state)
{
    tb_fx *f = *state;
    patron_db *other;
    patron_match_settings s = PATRON_MATCH_SETTINGS_INIT;
    unsigned gen = 0;
    size_t n = 0;
    add_with_phone(f->db, "Alois", "Pichler", "0664 1234567");
    other = tb_db(&f->tb); /* another process's handle, opened before the change */
    assert_non_null(other);
    assert_int_equal(state_of(other, &gen), PATRON_INDEX_CURRENT);
    assert_int_equal(held(&f->tb, KEY_PHONE, "+496641234567"), 1);

    /* thresholds and prior: the keys do not depend on them */
    OK(f->db, patron_db_match_config_get(f->db, &s));
    s.review_probability = 0.5;
    s.prior = 0.2;
    OK(f->db, patron_db_match_config_set(f->db, &s));
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_CURRENT);
    /* setting the country in force again changes nothing either */
    set_country(f->db, "DE");
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_CURRENT);

    set_country(f->db, "AT");
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_STALE);
    assert_true(gen >= 1); /* the generation is this library's: the country is what differs */
    assert_int_equal(held(&f->tb, KEY_PHONE, "+436641234567"), 0);
    /* a record saved now gets the new country's keys, also through the
     * handle that read the settings before they changed */
    add_with_phone(other, "Maria", "Huber", "0316 765432");
    assert_int_equal(held(&f->tb, KEY_PHONE, "+43316765432"), 1);
    assert_int_equal(held(&f->tb, KEY_PHONE, "+49316765432"), 0);
    /* the ones saved before are still stale: for every handle */
    assert_int_equal(state_of(other, &gen), PATRON_INDEX_STALE);
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_STALE);
    /* back to the old country: the record saved in between has AT's keys */
    set_country(other, "DE");
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_STALE);
    set_country(other, "AT");
    assert_int_equal(state_of(other, &gen), PATRON_INDEX_STALE);

    OK(other, patron_db_reindex(other, &n));
    assert_int_equal(n, 2);
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_CURRENT);
    assert_int_equal(state_of(other, &gen), PATRON_INDEX_CURRENT);
    assert_int_equal(held(&f->tb, KEY_PHONE, "+436641234567"), 1);
    assert_int_equal(held(&f->tb, KEY_PHONE, "+496641234567"), 0);

    /* back to the built-in defaults (country DE): stale again */
    OK(f->db, patron_db_match_config_reset(f->db));
    assert_int_equal(state_of(other, &gen), PATRON_INDEX_STALE);
    OK(f->db, patron_db_reindex(f->db, &n));
    assert_int_equal(state_of(other, &gen), PATRON_INDEX_CURRENT);
    assert_int_equal(held(&f->tb, KEY_PHONE, "+496641234567"), 1);
    patron_db_close(other);
}

/* A country set before the first customer is the one the index is built
 * under; a store that records no country (written before it was recorded)
 * was built under the built-in default, DE. */
static void test_country_before_first_customer(void **state)
{
    tb_fx *f = *state;
    const patron_store_ops *o = f->tb.ops;
    unsigned gen = 0;
    set_country(f->db, "AT");
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_CURRENT);
    add_with_phone(f->db, "Alois", "Pichler", "0664 1234567");
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_CURRENT);
    assert_int_equal(held(&f->tb, KEY_PHONE, "+436641234567"), 1);
    assert_int_equal(o->begin(f->tb.ctx), 0);
    assert_int_equal(o->meta_put(f->tb.ctx, COUNTRY_KEY, NULL), 0);
    assert_int_equal(o->commit(f->tb.ctx), 0);
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_STALE);
    set_country(f->db, "DE");
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_STALE); /* the keys are AT's */
    OK(f->db, patron_db_reindex(f->db, NULL));
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_CURRENT);
    /* garbage where the country is recorded: stale */
    assert_int_equal(o->begin(f->tb.ctx), 0);
    assert_int_equal(o->meta_put(f->tb.ctx, COUNTRY_KEY, "de"), 0);
    assert_int_equal(o->commit(f->tb.ctx), 0);
    assert_int_equal(state_of(f->db, &gen), PATRON_INDEX_STALE);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_store_current, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_states_from_meta, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stale_keys_rebuilt, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reindex_faults, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_without_meta, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_country_change_stale, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_country_before_first_customer, fx_setup, fx_teardown),
    };
    tb_backend = tb_selected(argc, argv);
    return cmocka_run_group_tests_name(tb_backend, tests, NULL, NULL);
}
