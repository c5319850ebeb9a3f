/* Merge plans, apply, re-linking, journal and undo — against every store.
 * The backend is argv[1] ("memory", "sqlite"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"
#include "fixture.h"


/* Where field f of plan p takes its value from. */
static int choice_of(const patron_merge_plan *p, int f)
{
    int c = 99;
    assert_int_equal(patron_merge_plan_choice(p, &c, f), PATRON_OK);
    return c;
}

/* A customer in Köln, house number 1, its address the default one, with
 * one more field set by name. */
static int64_t add(patron_db *db, const char *first, const char *last, const char *email,
                   const char *street, const char *plz, const char *extra_field, const char *extra)
{
    patron_customer *c = fx_person(first, last, email, street, "1", plz, "Köln");
    assert_int_equal(patron_customer_address_set(c, 0, PATRON_A_DEFAULT, "1"), PATRON_OK);
    if (extra_field) {
        int f = patron_field_from_name(extra_field);
        assert_true(f > 0);
        assert_int_equal(patron_customer_set(c, f, extra), PATRON_OK);
    }
    return fx_save(db, c);
}

static void set_field(patron_db *db, int64_t id, int field, const char *value)
{
    patron_customer *c = fx_load(db, id);
    assert_int_equal(patron_customer_set(c, field, value), PATRON_OK);
    OK(db, patron_db_update(db, c));
    patron_customer_free(c);
}

static void set_login(patron_db *db, int64_t id, const char *user, const char *hash)
{
    patron_customer *c = fx_load(db, id);
    assert_int_equal(patron_customer_set(c, PATRON_F_LOGIN_USER, user), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_LOGIN_HASH, hash), PATRON_OK);
    OK(db, patron_db_update(db, c));
    patron_customer_free(c);
}

/* The store's state without journal lines: what undo must restore. */
static char *state_of(tb_fx *f)
{
    static const char *const orders[] = { "A-1", "A-2", "B-1", "C-1", NULL };
    char *fp, *out, *w;
    f->tb.probe_orders = orders;
    fp = store_fingerprint(&f->tb, NULL, NULL);
    out = malloc(strlen(fp) + 1);
    w = out;
    for (char *line = fp; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
        if (strncmp(line, "journal ", 8) != 0) {
            memcpy(w, line, n);
            w += n;
        }
        line += n;
    }
    *w = '\0';
    free(fp);
    return out;
}

/* Equal states, or a message with the first line that differs. */
static void assert_same_state(const char *a, const char *b)
{
    const char *pa = a, *pb = b;
    while (*pa && *pb) {
        const char *ea = strchr(pa, '\n'), *eb = strchr(pb, '\n');
        size_t la = ea ? (size_t)(ea - pa) : strlen(pa), lb = eb ? (size_t)(eb - pb) : strlen(pb);
        if (la != lb || memcmp(pa, pb, la) != 0)
            fail_msg("states differ:\n  before: %.*s\n  after:  %.*s", (int)la, pa, (int)lb, pb);
        pa += la + (ea != NULL);
        pb += lb + (eb != NULL);
    }
    if (*pa || *pb)
        fail_msg("states differ in length:\n  before rest: %.200s\n  after rest:  %.200s", pa, pb);
}

/* ---- plans ----------------------------------------------------------------- */

static void test_plan_choices_and_conflicts(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    int64_t a = add(f->db, "Anna", "Müller", "anna@example.de", "Hauptstraße", "50667", "phone",
                    "0221 1234");
    int64_t b = add(f->db, "Anna", "Mueller", "ANNA@example.de ", "Hauptstr.", "50667", "birth_date",
                    "1980-05-17");
    set_field(f->db, b, PATRON_F_PHONE, "0221 9999");
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, PATRON_MERGE_SURVIVOR));
    assert_int_equal(patron_merge_plan_count(p), 2);
    assert_int_equal(patron_customer_id(patron_merge_plan_record(p, 1)), b);
    assert_null(patron_merge_plan_record(p, 2));
    /* survivor's value wins, empty survivor fields are filled */
    assert_int_equal(choice_of(p, PATRON_F_PHONE), 0);
    assert_string_equal(patron_merge_plan_value(p, PATRON_F_PHONE), "0221 1234");
    assert_int_equal(patron_merge_plan_conflict(p, PATRON_F_PHONE), 1);
    assert_int_equal(choice_of(p, PATRON_F_BIRTH_DATE), 1);
    assert_string_equal(patron_merge_plan_value(p, PATRON_F_BIRTH_DATE), "1980-05-17");
    assert_int_equal(patron_merge_plan_conflict(p, PATRON_F_BIRTH_DATE), 0);
    /* equal after normalisation: umlaut spelling, case */
    assert_int_equal(patron_merge_plan_conflict(p, PATRON_F_LAST_NAME), 0);
    assert_int_equal(patron_merge_plan_conflict(p, PATRON_F_FIRST_NAME), 0);
    /* system fields and the number are not chosen */
    assert_int_equal(choice_of(p, PATRON_F_NUMBER), PATRON_MERGE_NOT_MERGED);
    assert_int_equal(choice_of(p, PATRON_F_REVISION), PATRON_MERGE_NOT_MERGED);
    assert_int_equal(choice_of(p, PATRON_F_LOGIN_HASH), PATRON_MERGE_NOT_MERGED);
    {
        /* an unknown field is out of range, not a sentinel */
        int c = 5;
        assert_int_equal(patron_merge_plan_choice(p, &c, PATRON_F__END), PATRON_E_RANGE);
        assert_int_equal(c, PATRON_MERGE_NOT_MERGED);
        assert_int_equal(patron_merge_plan_choice(p, &c, 0), PATRON_E_RANGE);
        assert_int_equal(patron_merge_plan_choice(p, NULL, PATRON_F_PHONE), PATRON_E_INVALID);
    }
    assert_string_equal(patron_merge_plan_problems(p), "");

    /* custom choices */
    OK(f->db, patron_merge_plan_take(p, PATRON_F_PHONE, 1));
    assert_string_equal(patron_merge_plan_value(p, PATRON_F_PHONE), "0221 9999");
    assert_int_equal(patron_merge_plan_set(p, PATRON_F_EMAIL, "not an email"), PATRON_E_INVALID);
    assert_non_null(strstr(patron_merge_plan_errmsg(p), "email"));
    OK(f->db, patron_merge_plan_set(p, PATRON_F_COMPANY, "Müller GmbH"));
    assert_int_equal(choice_of(p, PATRON_F_COMPANY), PATRON_MERGE_CUSTOM);
    assert_int_equal(patron_merge_plan_take(p, PATRON_F_PHONE, 2), PATRON_E_RANGE);
    assert_int_equal(patron_merge_plan_take(p, PATRON_F_REVISION, 0), PATRON_E_INVALID);
    assert_int_equal(patron_merge_plan_set(p, PATRON_F_STATE, "active"), PATRON_E_INVALID);

    {
        int64_t jid;
        patron_customer *s, *d, *via;
        OK(f->db, patron_db_merge(f->db, &jid, p));
        assert_true(jid > 0);
        s = fx_load(f->db, a);
        d = fx_load(f->db, b);
        assert_string_equal(patron_customer_get(s, PATRON_F_PHONE), "0221 9999");
        assert_string_equal(patron_customer_get(s, PATRON_F_BIRTH_DATE), "1980-05-17");
        assert_string_equal(patron_customer_get(s, PATRON_F_COMPANY), "Müller GmbH");
        assert_int_equal(patron_customer_revision(s), 2);
        assert_int_equal(patron_customer_state(d), PATRON_STATE_MERGED);
        /* the same address spelled differently (Hauptstr. / Hauptstraße) is
         * one address after normalisation (issue 12), in the survivor's form */
        assert_int_equal(patron_customer_address_count(s), 1);
        assert_string_equal(patron_customer_address_get(s, 0, PATRON_A_STREET), "Hauptstraße");
        assert_string_equal(patron_customer_address_get(s, 0, PATRON_A_DEFAULT), "1");
        /* the duplicate's number leads to the survivor */
        OK(f->db, patron_db_find(f->db, &via, PATRON_KEY_NUMBER, patron_customer_get(d, PATRON_F_NUMBER)));
        assert_int_equal(patron_customer_id(via), a);
        patron_customer_free(via);
        /* its email no longer finds it: one customer for the address */
        OK(f->db, patron_db_find(f->db, &via, PATRON_KEY_EMAIL, "anna@example.de"));
        assert_int_equal(patron_customer_id(via), a);
        patron_customer_free(via);
        /* a merged record cannot be updated or deleted */
        assert_int_equal(patron_db_update(f->db, d), PATRON_E_STATE);
        assert_int_equal(patron_db_delete(f->db, b, 0), PATRON_E_STATE);
        patron_customer_free(s);
        patron_customer_free(d);
    }
    patron_merge_plan_free(p);
}

static void test_plan_refusals(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p = NULL;
    int64_t a = add(f->db, "Bernd", "Schmidt", NULL, "Ring", "10115", NULL, NULL);
    int64_t b = add(f->db, "Bernd", "Schmitt", NULL, "Ring", "10115", NULL, NULL);
    int64_t c = add(f->db, "B.", "Schmidt", NULL, "Ring", "10115", NULL, NULL);
    int64_t self[] = { a }, twice[] = { b, b }, missing[] = { 999 };
    int64_t jid;
    assert_int_equal(patron_merge_plan_new(f->db, &p, a, self, 1, 0), PATRON_E_INVALID);
    assert_non_null(strstr(patron_db_errmsg(f->db), "itself"));
    assert_int_equal(patron_merge_plan_new(f->db, &p, a, twice, 2, 0), PATRON_E_INVALID);
    assert_int_equal(patron_merge_plan_new(f->db, &p, a, NULL, 0, 0), PATRON_E_INVALID);
    assert_int_equal(patron_merge_plan_new(f->db, &p, a, missing, 1, 0), PATRON_E_NOT_FOUND);
    assert_int_equal(patron_merge_plan_new(f->db, &p, a, &b, 1, 7), PATRON_E_INVALID);
    assert_null(p);

    /* a plan made stale by an edit is refused, and nothing changes */
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, 0));
    set_field(f->db, b, PATRON_F_PHONE, "030 1");
    {
        char *before = state_of(f);
        char *after;
        assert_int_equal(patron_db_merge(f->db, &jid, p), PATRON_E_CONFLICT);
        after = state_of(f);
        assert_same_state(before, after);
        free(before);
        free(after);
    }
    patron_merge_plan_free(p);

    /* merged records can be neither survivor nor duplicate */
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, 0));
    OK(f->db, patron_db_merge(f->db, &jid, p));
    patron_merge_plan_free(p);
    p = NULL;
    assert_int_equal(patron_merge_plan_new(f->db, &p, b, &c, 1, 0), PATRON_E_STATE);
    assert_int_equal(patron_merge_plan_new(f->db, &p, c, &b, 1, 0), PATRON_E_STATE);
    assert_null(p);
}

/* A plan's group goes through the same check as an update: a group that
 * does not exist is refused, and nothing changes. */
static void test_plan_group_must_exist(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p = NULL;
    patron_customer *c;
    int64_t a, b, jid = 0;
    char *before, *after;
    patron_status st = patron_db_group_add(f->db, "Stammkunden");
    if (st == PATRON_E_UNSUPPORTED)
        skip(); /* a store without customer groups: nothing to check */
    OK(f->db, st);
    a = add(f->db, "Bernd", "Schmidt", NULL, "Ring", "10115", NULL, NULL);
    b = add(f->db, "Bernd", "Schmitt", NULL, "Ring", "10115", NULL, NULL);
    /* the update path refuses the unknown group ... */
    c = fx_load(f->db, a);
    assert_int_equal(patron_customer_set(c, PATRON_F_GROUP, "nope"), PATRON_OK);
    assert_int_equal(patron_db_update(f->db, c), PATRON_E_INVALID);
    patron_customer_free(c);
    /* ... and so does the merge */
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, PATRON_MERGE_SURVIVOR));
    OK(f->db, patron_merge_plan_set(p, PATRON_F_GROUP, "nope"));
    before = state_of(f);
    assert_int_equal(patron_db_merge(f->db, &jid, p), PATRON_E_INVALID);
    assert_non_null(strstr(patron_db_errmsg(f->db), "nope"));
    after = state_of(f);
    assert_same_state(before, after);
    free(before);
    free(after);
    /* an existing group is taken */
    OK(f->db, patron_merge_plan_set(p, PATRON_F_GROUP, "Stammkunden"));
    OK(f->db, patron_db_merge(f->db, &jid, p));
    c = fx_load(f->db, a);
    assert_string_equal(patron_customer_get(c, PATRON_F_GROUP), "Stammkunden");
    patron_customer_free(c);
    patron_merge_plan_free(p);
}

static void test_n_way_and_lists(void **state)
{
    tb_fx *f = *state;
    int64_t ids[6];
    patron_merge_plan *p;
    patron_customer *s;
    int64_t jid;
    ids[0] = add(f->db, "Claudia", "Weber", "c.weber@example.de", "Lindenallee", "80331", NULL, NULL);
    for (int i = 1; i < 6; i++) {
        char street[32], tag[16];
        patron_customer *c;
        snprintf(street, sizeof street, "%s", i % 2 ? "Lindenallee" : "Parkweg");
        ids[i] = add(f->db, "Claudia", "Weber", NULL, street, "80331", NULL, NULL);
        c = fx_load(f->db, ids[i]);
        snprintf(tag, sizeof tag, "tag%d", i % 3);
        assert_int_equal(patron_customer_tag_add(c, tag), PATRON_OK);
        assert_int_equal(patron_customer_prop_set(c, "source", i == 1 ? "ebay" : "shop"), PATRON_OK);
        OK(f->db, patron_db_update(f->db, c));
        patron_customer_free(c);
    }
    set_field(f->db, ids[4], PATRON_F_VAT_ID, "DE123456789");
    OK(f->db, patron_merge_plan_new(f->db, &p, ids[0], ids + 1, 5, PATRON_MERGE_SURVIVOR));
    assert_int_equal(patron_merge_plan_count(p), 6);
    assert_int_equal(choice_of(p, PATRON_F_VAT_ID), 4);
    OK(f->db, patron_db_merge(f->db, &jid, p));
    patron_merge_plan_free(p);
    s = fx_load(f->db, ids[0]);
    /* addresses united without repeats: Lindenallee and Parkweg */
    assert_int_equal(patron_customer_address_count(s), 2);
    /* tags: tag1, tag2, tag0 once each */
    assert_int_equal(patron_customer_tag_count(s), 3);
    /* properties: the first record that has the key wins */
    assert_string_equal(patron_customer_prop_get(s, "source"), "ebay");
    assert_string_equal(patron_customer_get(s, PATRON_F_VAT_ID), "DE123456789");
    patron_customer_free(s);
    for (int i = 1; i < 6; i++) {
        patron_customer *d = fx_load(f->db, ids[i]);
        char into[24];
        snprintf(into, sizeof into, "%lld", (long long)ids[0]);
        assert_int_equal(patron_customer_state(d), PATRON_STATE_MERGED);
        assert_string_equal(patron_customer_get(d, PATRON_F_MERGED_INTO), into);
        patron_customer_free(d);
    }
}

static void test_login_rules(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    patron_customer *s;
    int64_t jid;
    /* offline survivor, online duplicate: the login moves, as a unit */
    int64_t off = add(f->db, "Dirk", "Krause", NULL, "Am Markt", "01067", NULL, NULL);
    int64_t on = add(f->db, "Dirk", "Krause", NULL, "Am Markt", "01067", NULL, NULL);
    int64_t other = add(f->db, "Dirk", "Krause", NULL, "Am Markt", "01067", NULL, NULL);
    int64_t third = add(f->db, "Dirk", "Krause", NULL, "Am Markt", "01067", NULL, NULL);
    int64_t pair[2];
    set_login(f->db, on, "dirk", "$2y$10$hash-of-dirk");
    OK(f->db, patron_merge_plan_new(f->db, &p, off, &on, 1, 0));
    assert_int_equal(choice_of(p, PATRON_F_LOGIN_USER), 1);
    /* the hash is never handed out by a plan, nor in its JSON */
    assert_null(patron_merge_plan_value(p, PATRON_F_LOGIN_HASH));
    {
        char *json;
        OK(f->db, patron_merge_plan_to_json(p, &json, PATRON_JSON_PRETTY));
        assert_null(strstr(json, "hash-of-dirk"));
        assert_non_null(strstr(json, "\"has_password\": true") ? strstr(json, "has_password")
                                                               : strstr(json, "has_password"));
        assert_non_null(strstr(json, "\"conflict\""));
        patron_free(json);
    }
    /* an offline record's (empty) login never replaces an online one */
    assert_int_equal(patron_merge_plan_take(p, PATRON_F_LOGIN_USER, 0), PATRON_E_INVALID);
    assert_int_equal(patron_merge_plan_set(p, PATRON_F_LOGIN_USER, "x"), PATRON_E_INVALID);
    OK(f->db, patron_db_merge(f->db, &jid, p));
    patron_merge_plan_free(p);
    s = fx_load(f->db, off);
    assert_string_equal(patron_customer_get(s, PATRON_F_LOGIN_USER), "dirk");
    assert_string_equal(patron_customer_get(s, PATRON_F_LOGIN_HASH), "$2y$10$hash-of-dirk");
    patron_customer_free(s);
    OK(f->db, patron_db_find(f->db, &s, PATRON_KEY_LOGIN, "dirk"));
    assert_int_equal(patron_customer_id(s), off);
    patron_customer_free(s);

    /* two different logins: a conflict the caller must resolve */
    set_login(f->db, other, "dirk.k", "$2y$10$other");
    pair[0] = other;
    pair[1] = third;
    OK(f->db, patron_merge_plan_new(f->db, &p, off, pair, 2, 0));
    assert_int_equal(patron_merge_plan_conflict(p, PATRON_F_LOGIN_USER), 1);
    assert_non_null(strstr(patron_merge_plan_problems(p), "login"));
    assert_int_equal(patron_db_merge(f->db, &jid, p), PATRON_E_STATE);
    assert_non_null(strstr(patron_db_errmsg(f->db), "login"));
    OK(f->db, patron_merge_plan_take(p, PATRON_F_LOGIN_USER, 1));
    assert_string_equal(patron_merge_plan_problems(p), "");
    OK(f->db, patron_db_merge(f->db, &jid, p));
    patron_merge_plan_free(p);
    s = fx_load(f->db, off);
    assert_string_equal(patron_customer_get(s, PATRON_F_LOGIN_USER), "dirk.k");
    assert_string_equal(patron_customer_get(s, PATRON_F_LOGIN_HASH), "$2y$10$other");
    patron_customer_free(s);
}

static void test_lock_decision(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    patron_customer *s;
    int64_t jid;
    int64_t a = add(f->db, "Eva", "Lange", NULL, "Weg", "20095", NULL, NULL);
    int64_t b = add(f->db, "Eva", "Lange", NULL, "Weg", "20095", NULL, NULL);
    int64_t c = add(f->db, "Eva", "Lange", NULL, "Weg", "20095", NULL, NULL);
    int64_t d = add(f->db, "Eva", "Lange", NULL, "Weg", "20095", NULL, NULL);
    assert_int_equal(patron_db_lock(f->db, b, ""), PATRON_E_INVALID);
    OK(f->db, patron_db_lock(f->db, b, "Zahlungsausfall"));
    OK(f->db, patron_db_lock(f->db, d, "Betrug"));
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, 0));
    OK(f->db, patron_db_merge(f->db, &jid, p));
    patron_merge_plan_free(p);
    s = fx_load(f->db, a);
    assert_int_equal(patron_customer_locked(s), 1);
    assert_string_equal(patron_customer_get(s, PATRON_F_LOCK_REASON), "Zahlungsausfall");
    patron_customer_free(s);
    /* the caller may decide otherwise */
    OK(f->db, patron_merge_plan_new(f->db, &p, c, &d, 1, 0));
    assert_int_equal(patron_merge_plan_set_lock(p, (patron_merge_lock)2), PATRON_E_INVALID);
    OK(f->db, patron_merge_plan_set_lock(p, PATRON_MERGE_LOCK_UNLOCKED));
    OK(f->db, patron_db_merge(f->db, &jid, p));
    patron_merge_plan_free(p);
    s = fx_load(f->db, c);
    assert_int_equal(patron_customer_locked(s), 0);
    patron_customer_free(s);
    /* unlock */
    OK(f->db, patron_db_unlock(f->db, a));
    s = fx_load(f->db, a);
    assert_int_equal(patron_customer_locked(s), 0);
    assert_null(patron_customer_get(s, PATRON_F_LOCK_REASON));
    patron_customer_free(s);
}

static void test_policy_newest(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    int64_t a = add(f->db, "Frank", "Vogel", NULL, "Allee", "04109", "phone", "0341 1");
    int64_t b = add(f->db, "Frank", "Vogel", NULL, "Allee", "04109", "phone", "0341 2");
    patron_customer *c = fx_load(f->db, b);
    /* make b the newer one without waiting a second: an update stamps now,
     * and a's updated_at is set to the past through a store-level write */
    patron_customer *old = fx_load(f->db, a);
    patron_key none[1];
    (void)none;
    assert_int_equal(patron_record_set(old, PATRON_F_UPDATED_AT, "1000"), PATRON_OK);
    assert_int_equal(f->tb.ops->begin(f->tb.ctx), 0);
    {
        patron_key keys[1] = { { PATRON_KEY_NUMBER, patron_customer_get(old, PATRON_F_NUMBER) } };
        assert_int_equal(f->tb.ops->update(f->tb.ctx, old, keys, 1), 0);
    }
    assert_int_equal(f->tb.ops->commit(f->tb.ctx), 0);
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, PATRON_MERGE_NEWEST));
    assert_int_equal(choice_of(p, PATRON_F_PHONE), 1);
    assert_string_equal(patron_merge_plan_value(p, PATRON_F_PHONE), "0341 2");
    patron_merge_plan_free(p);
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, PATRON_MERGE_SURVIVOR));
    assert_string_equal(patron_merge_plan_value(p, PATRON_F_PHONE), "0341 1");
    patron_merge_plan_free(p);
    patron_customer_free(c);
    patron_customer_free(old);
}

/* ---- re-linking, journal, undo ---------------------------------------------- */

static void test_relink_and_undo(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    int64_t jid, uid;
    int64_t a = add(f->db, "Gerd", "Hahn", "gerd@example.de", "Gartenstraße", "70173", NULL, NULL);
    int64_t b = add(f->db, "Gerd", "Hahn", "g.hahn@example.de", "Gartenstr.", "70173", NULL, NULL);
    int64_t c = add(f->db, "G.", "Hahn", NULL, "Gartenstraße", "70173", "notes", "ruft oft an");
    int64_t dups[2] = { b, c };
    char *before, *before_masked, *merged, *after;
    uint64_t revs[3];
    set_login(f->db, b, "gerd", "$2y$10$gerdsecret");
    assert_int_equal(tb_add_order(&f->tb, "A-1", a), 0);
    assert_int_equal(tb_add_order(&f->tb, "B-1", b), 0);
    assert_int_equal(tb_add_order(&f->tb, "A-2", a), 0);
    assert_int_equal(tb_add_order(&f->tb, "C-1", c), 0);
    before = state_of(f);
    f->tb.fp_no_revision = true;
    before_masked = state_of(f);
    f->tb.fp_no_revision = false;

    OK(f->db, patron_merge_plan_new(f->db, &p, a, dups, 2, 0));
    OK(f->db, patron_db_merge(f->db, &jid, p));
    patron_merge_plan_free(p);
    assert_int_equal(tb_order_owner(&f->tb, "B-1"), a);
    assert_int_equal(tb_order_owner(&f->tb, "C-1"), a);
    assert_int_equal(tb_order_owner(&f->tb, "A-1"), a);
    merged = state_of(f);
    assert_string_not_equal(before, merged);
    {
        int64_t all[3] = { a, b, c };
        for (int i = 0; i < 3; i++) {
            patron_customer *r = fx_load(f->db, all[i]);
            revs[i] = patron_customer_revision(r);
            patron_customer_free(r);
        }
    }

    /* the journal lists it, without before-images or hashes */
    {
        char *j;
        OK(f->db, patron_db_journal_to_json(f->db, &j, 0, 100));
        assert_non_null(strstr(j, "\"kind\":\"merge\""));
        assert_non_null(strstr(j, "merged"));
        assert_null(strstr(j, "gerdsecret"));
        assert_null(strstr(j, "record "));
        patron_free(j);
    }
    /* the same entry read as a struct: no payload to be had */
    {
        patron_journal *jl = NULL;
        const patron_journal_item *e;
        OK(f->db, patron_db_journal_list(f->db, &jl, 0, 100));
        assert_true(patron_journal_count(jl) >= 1);
        e = patron_journal_at(jl, patron_journal_count(jl) - 1);
        assert_int_equal(patron_journal_item_id(e), jid);
        assert_string_equal(patron_journal_item_kind(e), "merge");
        assert_int_equal(patron_journal_item_customer(e), a);
        assert_int_equal(patron_journal_item_undone_by(e), 0);
        assert_true(patron_journal_item_time(e) > 0);
        assert_non_null(strstr(patron_journal_item_summary(e), "merged"));
        assert_null(strstr(patron_journal_item_summary(e), "gerdsecret"));
        assert_null(patron_journal_at(jl, patron_journal_count(jl)));
        patron_journal_free(jl);
        /* paging: nothing after the last entry */
        OK(f->db, patron_db_journal_list(f->db, &jl, jid, 100));
        assert_int_equal(patron_journal_count(jl), 0);
        patron_journal_free(jl);
        assert_int_equal(patron_db_journal_list(f->db, NULL, 0, 1), PATRON_E_INVALID);
    }
    /* export of the involved records: no hash either */
    {
        char *e;
        int64_t ids[3] = { a, b, c };
        OK(f->db, patron_db_export_to_json(f->db, &e, ids, 3, PATRON_JSON_PRETTY));
        assert_null(strstr(e, "gerdsecret"));
        assert_non_null(strstr(e, "Hahn"));
        patron_free(e);
    }

    OK(f->db, patron_db_undo(f->db, &uid, jid, 0));
    assert_true(uid > jid);
    /* records byte for byte, keys, orders: exactly as before the merge —
     * but for the revisions, which go on growing (and the update times) */
    f->tb.fp_no_revision = true;
    after = state_of(f);
    f->tb.fp_no_revision = false;
    assert_same_state(before_masked, after);
    {
        int64_t all[3] = { a, b, c };
        for (int i = 0; i < 3; i++) {
            patron_customer *r = fx_load(f->db, all[i]);
            assert_true(patron_customer_revision(r) > revs[i]);
            patron_customer_free(r);
        }
    }
    assert_int_equal(tb_order_owner(&f->tb, "B-1"), b);
    assert_int_equal(tb_order_owner(&f->tb, "C-1"), c);
    {
        /* the merge entry now names its undo */
        patron_journal *jl = NULL;
        int found = 0;
        OK(f->db, patron_db_journal_list(f->db, &jl, jid - 1, 10));
        for (size_t i = 0; i < patron_journal_count(jl); i++) {
            const patron_journal_item *e = patron_journal_at(jl, i);
            if (patron_journal_item_id(e) == jid) {
                assert_int_equal(patron_journal_item_undone_by(e), uid);
                found = 1;
            }
            if (patron_journal_item_id(e) == uid)
                assert_string_equal(patron_journal_item_kind(e), "undo");
        }
        assert_true(found);
        patron_journal_free(jl);
    }
    /* once only */
    assert_int_equal(patron_db_undo(f->db, &uid, jid, 0), PATRON_E_STATE);
    assert_non_null(strstr(patron_db_errmsg(f->db), "undone already"));
    /* an undo entry is not a merge; unknown entries are not found */
    assert_int_equal(patron_db_undo(f->db, NULL, uid, 0), PATRON_E_INVALID);
    assert_int_equal(patron_db_undo(f->db, NULL, 9999, 0), PATRON_E_NOT_FOUND);
    free(before);
    free(before_masked);
    free(merged);
    free(after);
}

static void test_undo_refused_when_later_changes_depend(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    int64_t j1, j2, uid;
    int64_t a = add(f->db, "Heike", "Roth", NULL, "Bergstraße", "69115", NULL, NULL);
    int64_t b = add(f->db, "Heike", "Roth", NULL, "Bergstraße", "69115", NULL, NULL);
    int64_t c = add(f->db, "Heike", "Roth", NULL, "Bergstraße", "69115", NULL, NULL);
    patron_customer *s;

    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, 0));
    OK(f->db, patron_db_merge(f->db, &j1, p));
    patron_merge_plan_free(p);
    /* the survivor is edited after: refused, unless forced */
    set_field(f->db, a, PATRON_F_PHONE, "06221 1");
    assert_int_equal(patron_db_undo(f->db, &uid, j1, 0), PATRON_E_STATE);
    assert_non_null(strstr(patron_db_errmsg(f->db), "edited"));
    OK(f->db, patron_db_undo(f->db, &uid, j1, PATRON_UNDO_FORCE));
    s = fx_load(f->db, a);
    assert_null(patron_customer_get(s, PATRON_F_PHONE));
    /* created 1, merged 2, edited 3, undone 4: revisions never go back */
    assert_int_equal(patron_customer_revision(s), 4);
    patron_customer_free(s);
    s = fx_load(f->db, b);
    assert_int_equal(patron_customer_state(s), PATRON_STATE_ACTIVE);
    patron_customer_free(s);

    /* the survivor merged again: refused even with force */
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, 0));
    OK(f->db, patron_db_merge(f->db, &j1, p));
    patron_merge_plan_free(p);
    OK(f->db, patron_merge_plan_new(f->db, &p, c, &a, 1, 0));
    OK(f->db, patron_db_merge(f->db, &j2, p));
    patron_merge_plan_free(p);
    assert_int_equal(patron_db_undo(f->db, &uid, j1, PATRON_UNDO_FORCE), PATRON_E_STATE);
    assert_non_null(strstr(patron_db_errmsg(f->db), "merged again"));
    /* undo the later one first, then the earlier one goes */
    OK(f->db, patron_db_undo(f->db, &uid, j2, 0));
    OK(f->db, patron_db_undo(f->db, &uid, j1, 0));
}

static int64_t g_pinned_id;

static int pin_check_refs(void *ctx, int64_t id, patron_emit_reason_fn emit, void *ectx)
{
    (void)ctx;
    if (id == g_pinned_id) {
        emit(ectx, "contract V-17 is signed by this customer");
        emit(ectx, "open correspondence 2024/88");
    }
    return 0;
}

/* A host store that reports references that cannot move: the merge is
 * refused with every reason, and nothing changes. */
static void test_refused_with_reasons(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    int64_t jid;
    int64_t a = add(f->db, "Ina", "Kurz", NULL, "Talweg", "79098", NULL, NULL);
    int64_t b = add(f->db, "Ina", "Kurz", NULL, "Talweg", "79098", NULL, NULL);
    char *before, *after;
    patron_db *pdb;
    patron_status st;

    static fault_store fs;
    pdb = NULL;
    if (f->tb.ms) {
        /* the memory store's own pinned references */
        OK(f->db, patron_memstore_set_ref(f->tb.ms, "contract", "V-17", b, PATRON_REF_PINNED));
        pdb = f->db;
    } else {
        /* any store: a host whose check_refs reports what cannot move */
        patron_db *tmp = fault_db(&fs, &f->tb);
        assert_non_null(tmp);
        patron_db_close(tmp);
        fs.ops.check_refs = pin_check_refs;
        g_pinned_id = b;
        OK(f->db, patron_db_open(&pdb, &fs.ops, &fs));
    }
    before = state_of(f);
    OK(pdb, patron_merge_plan_new(pdb, &p, a, &b, 1, 0));
    st = patron_db_merge(pdb, &jid, p);
    assert_int_equal(st, PATRON_E_STATE);
    assert_non_null(strstr(patron_db_errmsg(pdb), "contract V-17"));
    after = state_of(f);
    assert_same_state(before, after);
    patron_merge_plan_free(p);
    if (pdb != f->db)
        patron_db_close(pdb);
    free(before);
    free(after);
}

/* A merged-away customer's email still leads to the survivor: find gives
 * the survivor, the gate says "merged" and names it; where the survivor has
 * the email itself, it is simply the survivor's. */
static void test_merged_email_is_an_alias(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    patron_customer *c;
    int64_t jid, cid;
    patron_gate v;
    int64_t a = add(f->db, "Jana", "Koch", "jana@example.de", "Weg", "28195", NULL, NULL);
    int64_t b = add(f->db, "Jana", "Koch", "j.koch@example.org", "Weg", "28195", NULL, NULL);
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, 0));
    OK(f->db, patron_db_merge(f->db, &jid, p));
    patron_merge_plan_free(p);
    OK(f->db, patron_db_find(f->db, &c, PATRON_KEY_EMAIL, "J.Koch@example.org"));
    assert_int_equal(patron_customer_id(c), a);
    patron_customer_free(c);
    OK(f->db, patron_db_can_login(f->db, &v, &cid, "j.koch@example.org"));
    assert_int_equal(v, PATRON_GATE_MERGED);
    assert_int_equal(cid, a);
    OK(f->db, patron_db_can_login(f->db, &v, &cid, "jana@example.de"));
    assert_int_equal(v, PATRON_GATE_ALLOWED);
    assert_int_equal(cid, a);
    /* undo: the email is b's own again */
    OK(f->db, patron_db_undo(f->db, NULL, jid, 0));
    OK(f->db, patron_db_can_login(f->db, &v, &cid, "j.koch@example.org"));
    assert_int_equal(v, PATRON_GATE_ALLOWED);
    assert_int_equal(cid, b);
}

/* Merging into a pending shop customer activates it — only when asked. */
static void test_pending_survivor(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    patron_customer *c;
    int64_t jid, pend, act;
    size_t a;
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_FIRST_NAME, "Olaf"), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_LAST_NAME, "Brandt"), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_LOGIN_USER, "olaf"), PATRON_OK);
    assert_int_equal(patron_customer_address_add(c, &a), PATRON_OK);
    OK(f->db, patron_db_register(f->db, NULL, c));
    pend = patron_customer_id(c);
    patron_customer_free(c);
    act = add(f->db, "Olaf", "Brandt", NULL, "Weg", "24103", NULL, NULL);
    OK(f->db, patron_merge_plan_new(f->db, &p, pend, &act, 1, 0));
    assert_int_equal(patron_db_merge(f->db, &jid, p), PATRON_E_STATE);
    assert_non_null(strstr(patron_db_errmsg(f->db), "pending"));
    OK(f->db, patron_merge_plan_set_activate(p, 1));
    OK(f->db, patron_db_merge(f->db, &jid, p));
    patron_merge_plan_free(p);
    c = fx_load(f->db, pend);
    assert_int_equal(patron_customer_state(c), PATRON_STATE_ACTIVE);
    assert_non_null(patron_customer_get(c, PATRON_F_NUMBER));
    assert_string_equal(patron_customer_get(c, PATRON_F_LOGIN_USER), "olaf");
    patron_customer_free(c);
    /* undo: pending again, without a number (the number stays used up) */
    OK(f->db, patron_db_undo(f->db, NULL, jid, 0));
    c = fx_load(f->db, pend);
    assert_int_equal(patron_customer_state(c), PATRON_STATE_PENDING);
    assert_null(patron_customer_get(c, PATRON_F_NUMBER));
    patron_customer_free(c);
}

/* ---- a journal payload damaged in the store ---------------------------- */

/* journal_get of the store under test, with the payload of entry
 * `tamper_id` replaced by `tamper_payload` (a copy that is exactly as long
 * as the text, so that ASan sees any read past its end). */
static const patron_store_ops *tamper_inner;
static int64_t tamper_id;
static const char *tamper_payload;
static size_t tamper_len;

typedef struct tamper_emit {
    patron_emit_journal_fn emit;
    void *ctx;
} tamper_emit;

static int tamper_pass(void *ctx, const patron_journal_entry *e)
{
    tamper_emit *t = ctx;
    patron_journal_entry copy = *e;
    char *exact = NULL;
    int rc;
    if (e->id == tamper_id && tamper_payload) {
        exact = malloc(tamper_len + 1);
        memcpy(exact, tamper_payload, tamper_len);
        exact[tamper_len] = '\0';
        copy.payload = exact;
    }
    rc = t->emit(t->ctx, &copy);
    free(exact);
    return rc;
}

static int tamper_get(void *ctx, int64_t id, patron_emit_journal_fn emit, void *emit_ctx)
{
    tamper_emit t = { emit, emit_ctx };
    return tamper_inner->journal_get(ctx, id, tamper_pass, &t);
}

static int tamper_scan(void *ctx, int64_t after_id, size_t limit, patron_emit_journal_fn emit, void *emit_ctx)
{
    tamper_emit t = { emit, emit_ctx };
    return tamper_inner->journal_scan(ctx, after_id, limit, tamper_pass, &t);
}

static int grab_payload(void *ctx, const patron_journal_entry *e)
{
    *(char **)ctx = strdup(e->payload);
    return 0;
}

/* Undo of entry `jid` with `payload` in its place must fail with
 * PATRON_E_STORE — "corrupt journal entry <jid>" if `named` — and change
 * nothing. */
static void expect_corrupt(tb_fx *f, patron_db *db, int64_t jid, const char *payload, size_t len,
                           const char *before, bool named)
{
    char want[64], *after;
    patron_status st;
    tamper_payload = payload;
    tamper_len = len;
    st = patron_db_undo(db, NULL, jid, 0);
    if (st != PATRON_E_STORE)
        fail_msg("undo of a payload damaged to %zu bytes ('%.*s'): got %d (%s), want PATRON_E_STORE",
                 len, (int)(len > 80 ? 80 : len), payload, st, patron_db_errmsg(db));
    snprintf(want, sizeof want, "corrupt journal entry %lld", (long long)jid);
    if (named)
        CONTAINS(patron_db_errmsg(db), want);
    after = state_of(f);
    assert_same_state(before, after);
    free(after);
}

static void test_undo_of_a_damaged_journal_entry(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    patron_store_ops ops;
    patron_db *db;
    int64_t jid;
    char *payload = NULL, *merged, *buf;
    size_t len;
    int64_t a = add(f->db, "Gerd", "Hahn", "gerd@example.de", "Gartenstraße", "70173", NULL, NULL);
    int64_t b = add(f->db, "Gerd", "Hahn", "g.hahn@example.de", "Gartenstr.", "70173", NULL, NULL);
    assert_int_equal(tb_add_order(&f->tb, "B-1", b), 0);
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, 0));
    OK(f->db, patron_db_merge(f->db, &jid, p));
    patron_merge_plan_free(p);
    merged = state_of(f);

    /* the real payload, then a handle whose journal_get hands out damaged ones */
    tamper_inner = f->tb.ops;
    assert_int_equal(f->tb.ops->journal_get(f->tb.ctx, jid, grab_payload, &payload), 0);
    assert_non_null(payload);
    len = strlen(payload);
    assert_non_null(strstr(payload, "\nref "));
    ops = *f->tb.ops;
    ops.journal_get = tamper_get;
    ops.journal_scan = tamper_scan;
    ops.destroy = NULL; /* the fixture owns the store */
    OK(f->db, patron_db_open(&db, &ops, f->tb.ctx));
    tamper_id = jid;

    /* the cases of the issue: lines that end right after their numbers */
    {
        static const char *const bad[] = {
            "patron-merge 1\nrecord 1 2",
            "patron-merge 1\nref 1 61",
            "patron-merge 1\nrecord 1 2 ",
            "patron-merge 1\nref 1 61 ",
            "patron-merge 1\nref 1 61 6",
            "patron-merge 1\nrecord 1",
            "patron-merge 1\nrecord",
            "patron-merge 1\nrecord ",
            "patron-merge 1\nsurvivor",
            "patron-merge 1\nsurvivor 1\nrecord 1 2 6",
            "patron-merge 1\nsurvivor 1\nrecord 1 2 zz",
            "patron-merge 1\nsurvivor 1\nrecord 1 2 -",
            "patron-merge 1\nsurvivor 1\nrecord -1 2 00\nrecord 2 2 00",
            "patron-merge 1\nsurvivor 99999999999999999999\n",
            "patron-merge 1\n",
            "patron-merge 1",
            "patron-merge",
            "",
            "\n\n\n",
            "patron-merge 1\n\xff\xfe record 1 2 ff\n",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
            expect_corrupt(f, db, jid, bad[i], strlen(bad[i]), merged, true);
    }
    /* every truncation of the real payload, but those that leave whole
     * lines: without its last line, the reference line, it is a well-formed
     * payload of a merge that moved nothing (and without only its final
     * newline, the same payload).  A reference id cut short is still a
     * well-formed line: the store refuses to move that reference. */
    {
        size_t ref_at = (size_t)(strstr(payload, "\nref ") - payload);
        for (size_t n = 0; n + 1 < len; n++)
            if (n != ref_at && n != ref_at + 1)
                expect_corrupt(f, db, jid, payload, n, merged, n < ref_at);
    }
    /* each byte replaced by a space, a newline, or a non-hex byte, in the lines the parser reads */
    buf = strdup(payload);
    for (size_t i = strstr(payload, "\nsurvivor ") - payload + 1; i + 1 < len; i++) {
        static const char subst[] = { ' ', '\n', 'x' };
        if (payload[i] == '\n')
            continue;
        for (size_t k = 0; k < sizeof subst; k++) {
            patron_status st;
            char *after;
            if (payload[i] == subst[k])
                continue;
            buf[i] = subst[k];
            tamper_payload = buf;
            tamper_len = len;
            st = patron_db_undo(db, NULL, jid, 0);
            /* a space or newline may split a line into two that are each
             * well-formed but not a merge of these records: refused too */
            if (st != PATRON_E_STORE && st != PATRON_E_STATE)
                fail_msg("byte %zu as '%c': got %d (%s)", i, subst[k], st, patron_db_errmsg(db));
            after = state_of(f);
            assert_same_state(merged, after);
            free(after);
            buf[i] = payload[i];
        }
    }
    free(buf);
    /* the before-images swapped between the record lines: ids disagree */
    {
        char *r1 = strstr(payload, "\nrecord "), *r2 = r1 ? strstr(r1 + 1, "\nrecord ") : NULL;
        char *sw = malloc(len + 1), *w = sw;
        char *h1, *h2, *e1, *e2;
        assert_non_null(r2);
        h1 = strchr(strchr(r1 + 8, ' ') + 1, ' ') + 1;
        e1 = strchr(h1, '\n');
        h2 = strchr(strchr(r2 + 8, ' ') + 1, ' ') + 1;
        e2 = strchr(h2, '\n');
        memcpy(w, payload, (size_t)(h1 - payload)), w += h1 - payload;
        memcpy(w, h2, (size_t)(e2 - h2)), w += e2 - h2;
        memcpy(w, e1, (size_t)(h2 - e1)), w += h2 - e1;
        memcpy(w, h1, (size_t)(e1 - h1)), w += e1 - h1;
        strcpy(w, e2);
        expect_corrupt(f, db, jid, sw, strlen(sw), merged, true);
        free(sw);
    }

    /* a summary line with bytes that are not UTF-8: the journal listing
     * stays valid JSON in valid UTF-8 (U+FFFD for each bad byte) */
    {
        static const char odd[] = "patron-merge 1\nsummary merged \xff\xfe\xc3 #2\nsurvivor 1\n";
        char *j = NULL;
        tamper_payload = odd;
        tamper_len = sizeof odd - 1;
        OK(db, patron_db_journal_to_json(db, &j, 0, 10));
        CONTAINS(j, "merged \\ufffd\\ufffd\\ufffd #2");
        for (const unsigned char *q = (const unsigned char *)j; *q; q++)
            assert_true(*q < 0x80); /* nothing else here is outside ASCII */
        patron_free(j);
    }
    /* the payload as written still undoes */
    tamper_payload = NULL;
    OK(db, patron_db_undo(db, NULL, jid, 0));
    assert_int_equal(tb_order_owner(&f->tb, "B-1"), b);
    patron_db_close(db);
    free(payload);
    free(merged);
}

static char *hex_of(const char *s)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = strlen(s);
    char *h = malloc(2 * n + 1);
    assert_non_null(h);
    for (size_t i = 0; i < n; i++) {
        h[2 * i] = digits[(unsigned char)s[i] >> 4];
        h[2 * i + 1] = digits[(unsigned char)s[i] & 15];
    }
    h[2 * n] = '\0';
    return h;
}

/* `payload` with the first `from` after `after` replaced by `to` (same length). */
static char *replaced(const char *payload, const char *after, const char *from, const char *to)
{
    char *out = strdup(payload), *at;
    assert_non_null(out);
    assert_int_equal(strlen(from), strlen(to));
    at = strstr(out + (strstr(out, after) - out), from);
    assert_non_null(at);
    memcpy(at, to, strlen(to));
    return out;
}

/* Found by tests/fuzz/fuzz_journal: a well-formed payload whose
 * before-image is not what a merge writes — a duplicate given the
 * survivor's customer number, or a state "merged" — was restored as it
 * was: two customers with one number, a merged record without a survivor.
 * Such an image is a corrupt journal entry; and a login taken by another
 * customer since the merge is not given back twice (PATRON_E_EXISTS). */
static void test_undo_of_a_forged_before_image(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    patron_store_ops ops;
    patron_db *db;
    int64_t jid, uid = 0;
    char *payload = NULL, *merged, *forged, *line_b, *num_a, *num_b, *active, *merged_hex;
    patron_customer *ca, *cb;
    int64_t a = add(f->db, "Gerd", "Hahn", "gerd@example.de", "Gartenstraße", "70173", "login_user", "gerd");
    int64_t b = add(f->db, "Gerd", "Hahn", "g.hahn@example.de", "Gartenstr.", "70173", "login_user", "gerd2");
    ca = fx_load(f->db, a);
    cb = fx_load(f->db, b);
    num_a = hex_of(patron_customer_get(ca, PATRON_F_NUMBER));
    num_b = hex_of(patron_customer_get(cb, PATRON_F_NUMBER));
    patron_customer_free(ca);
    patron_customer_free(cb);
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, 0));
    OK(f->db, patron_merge_plan_take(p, PATRON_F_LOGIN_USER, 0)); /* a's login stays, b's goes */
    OK(f->db, patron_db_merge(f->db, &jid, p));
    patron_merge_plan_free(p);
    merged = state_of(f);

    tamper_inner = f->tb.ops;
    assert_int_equal(f->tb.ops->journal_get(f->tb.ctx, jid, grab_payload, &payload), 0);
    assert_non_null(payload);
    ops = *f->tb.ops;
    ops.journal_get = tamper_get;
    ops.journal_scan = tamper_scan;
    ops.destroy = NULL;
    OK(f->db, patron_db_open(&db, &ops, f->tb.ctx));
    tamper_id = jid;
    line_b = malloc(40);
    snprintf(line_b, 40, "\nrecord %lld ", (long long)b);

    /* b's before-image with a's number */
    forged = replaced(payload, line_b, num_b, num_a);
    expect_corrupt(f, db, jid, forged, strlen(forged), merged, true);
    CONTAINS(patron_db_errmsg(db), "customer number");
    free(forged);
    /* b's before-image as a merged record */
    active = hex_of("active");
    merged_hex = hex_of("merged");
    forged = replaced(payload, line_b, active, merged_hex);
    expect_corrupt(f, db, jid, forged, strlen(forged), merged, true);
    free(forged);

    /* the payload as written, but b's login now belongs to someone else */
    tamper_payload = NULL;
    {
        patron_customer *c = fx_person("Gerda", "Wolf", "gerda@example.de", NULL, NULL, NULL, NULL);
        int64_t other;
        char *before;
        OK(f->db, patron_customer_set(c, PATRON_F_LOGIN_USER, "gerd2"));
        other = fx_save(f->db, c);
        before = state_of(f);
        EXPECT(db, PATRON_E_EXISTS, patron_db_undo(db, &uid, jid, 0));
        CONTAINS(patron_db_errmsg(db), "login name is already used by customer #");
        {
            char *after = state_of(f);
            assert_same_state(before, after);
            free(after);
        }
        free(before);
        /* once it is free again, the undo goes through */
        OK(f->db, patron_db_delete(f->db, other, 0));
        OK(db, patron_db_undo(db, &uid, jid, 0));
        fx_assert_field(f->db, b, PATRON_F_LOGIN_USER, "gerd2");
    }
    patron_db_close(db);
    free(line_b);
    free(active);
    free(merged_hex);
    free(num_a);
    free(num_b);
    free(payload);
    free(merged);
}

/* Issue 13, defect 3: undo must not give the survivor back a revision it
 * had before, or a copy loaded in between matches again and overwrites a
 * later edit (a lost update). */
static void test_undo_never_reuses_a_revision(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    patron_customer *x, *y, *s;
    int64_t jid;
    int64_t a = add(f->db, "Ute", "Lang", "ute@example.de", "Kirchweg", "79098", NULL, NULL);
    int64_t b = add(f->db, "Ute", "Lang", "u.lang@example.de", "Kirchweg", "79098", "notes", "Stammkundin");

    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, 0));
    OK(f->db, patron_db_merge(f->db, &jid, p));
    patron_merge_plan_free(p);
    /* client X loads the merged survivor (revision 2, with the notes) */
    x = fx_load(f->db, a);
    assert_int_equal(patron_customer_revision(x), 2);
    assert_string_equal(patron_customer_get(x, PATRON_F_NOTES), "Stammkundin");
    /* undo; client Y loads the survivor and changes its phone */
    OK(f->db, patron_db_undo(f->db, NULL, jid, 0));
    y = fx_load(f->db, a);
    assert_true(patron_customer_revision(y) > 2);
    assert_null(patron_customer_get(y, PATRON_F_NOTES));
    OK(f->db, patron_customer_set(y, PATRON_F_PHONE, "0761 123"));
    OK(f->db, patron_db_update(f->db, y));
    /* X saves its stale copy: refused, Y's phone stays, the notes stay gone */
    OK(f->db, patron_customer_set(x, PATRON_F_FIRST_NAME, "Uta"));
    EXPECT(f->db, PATRON_E_CONFLICT, patron_db_update(f->db, x));
    s = fx_load(f->db, a);
    assert_string_equal(patron_customer_get(s, PATRON_F_PHONE), "0761 123");
    assert_string_equal(patron_customer_get(s, PATRON_F_FIRST_NAME), "Ute");
    assert_null(patron_customer_get(s, PATRON_F_NOTES));
    patron_customer_free(s);
    /* the duplicate too: a copy from before the undo is stale */
    s = fx_load(f->db, b);
    assert_true(patron_customer_revision(s) > 2);
    assert_string_equal(patron_customer_get(s, PATRON_F_NOTES), "Stammkundin");
    patron_customer_free(s);
    patron_customer_free(x);
    patron_customer_free(y);
}

/* Issue 13, defect 4: lists that would be too long united are a limit
 * named in words, not "out of memory". */
static void test_plan_refuses_lists_past_the_limit(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p = NULL;
    int64_t ids[2];
    char tag[32];
    for (int k = 0; k < 2; k++) {
        patron_customer *c = fx_person("Tim", "Berg", NULL, NULL, NULL, NULL, NULL);
        for (int i = 0; i < 600; i++) {
            snprintf(tag, sizeof tag, "t%d-%d", k, i);
            OK(f->db, patron_customer_tag_add(c, tag));
        }
        ids[k] = fx_save(f->db, c);
    }
    EXPECT(f->db, PATRON_E_INVALID, patron_merge_plan_new(f->db, &p, ids[0], &ids[1], 1, 0));
    assert_null(p);
    CONTAINS(patron_db_errmsg(f->db), "more than 1000 tags");
    /* addresses: 600 + 600 different ones */
    for (int k = 0; k < 2; k++) {
        patron_customer *c = fx_person("Tim", "Berg", NULL, NULL, NULL, NULL, NULL);
        for (int i = 0; i < 600; i++) {
            size_t a;
            snprintf(tag, sizeof tag, "Weg %d", k * 1000 + i);
            OK(f->db, patron_customer_address_add(c, &a));
            OK(f->db, patron_customer_address_set(c, a, PATRON_A_STREET, tag));
        }
        ids[k] = fx_save(f->db, c);
    }
    EXPECT(f->db, PATRON_E_INVALID, patron_merge_plan_new(f->db, &p, ids[0], &ids[1], 1, 0));
    CONTAINS(patron_db_errmsg(f->db), "more than 1000 addresses");
    assert_null(strstr(patron_db_errmsg(f->db), "memory"));
}

/* ---- plans a merchant can accept as proposed (issue 12, point 7) --------- */

static void test_addresses_united_after_normalisation(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    patron_customer *s;
    int64_t a = fx_add(f->db, "Holger", "Keller", "h@keller.de", "Lindenstr", "144 b", "10115", "Berlin");
    int64_t b = fx_add(f->db, "Holger", "Keller", NULL, "Lindenstraße", "144b", "10115", "Berlin");
    int64_t c;
    {
        /* a third record: the same address and a second one */
        patron_customer *r = fx_person("Holger", "Keller", NULL, "Lindenstraße 144 B", NULL, "10115", "berlin");
        size_t i;
        OK(f->db, patron_customer_address_add(r, &i));
        OK(f->db, patron_customer_address_set(r, i, PATRON_A_STREET, "Ringweg"));
        OK(f->db, patron_customer_address_set(r, i, PATRON_A_HOUSE_NUMBER, "3"));
        OK(f->db, patron_customer_address_set(r, i, PATRON_A_POSTAL_CODE, "50667"));
        OK(f->db, patron_customer_address_set(r, i, PATRON_A_CITY, "Köln"));
        OK(f->db, patron_customer_address_set(r, i, PATRON_A_DEFAULT, "1"));
        c = fx_save(f->db, r);
    }
    int64_t dups[2] = { b, c };
    OK(f->db, patron_merge_plan_new(f->db, &p, a, dups, 2, PATRON_MERGE_SURVIVOR));
    /* Lindenstr 144 b / Lindenstraße 144b / Lindenstraße 144 B: one address,
     * in the survivor's form, held by all three */
    assert_int_equal(patron_merge_plan_address_count(p), 2);
    assert_string_equal(patron_merge_plan_address_get(p, 0, PATRON_A_STREET), "Lindenstr");
    assert_string_equal(patron_merge_plan_address_get(p, 0, PATRON_A_HOUSE_NUMBER), "144 b");
    for (size_t k = 0; k < 3; k++)
        assert_int_equal(patron_merge_plan_address_from(p, 0, k), 1);
    assert_string_equal(patron_merge_plan_address_get(p, 1, PATRON_A_CITY), "Köln");
    assert_int_equal(patron_merge_plan_address_from(p, 1, 0), 0);
    assert_int_equal(patron_merge_plan_address_from(p, 1, 2), 1);
    assert_int_equal(patron_merge_plan_address_kept(p, 0), 1);
    assert_int_equal(patron_merge_plan_address_kept(p, 1), 1);
    assert_null(patron_merge_plan_address_get(p, 2, PATRON_A_STREET));
    assert_int_equal(patron_merge_plan_address_from(p, 0, 3), 0);
    /* out of range and dropped-default refusals change nothing */
    assert_int_equal(patron_merge_plan_address_keep(p, 2, 0), PATRON_E_RANGE);
    CONTAINS(patron_merge_plan_errmsg(p), "no address at position 2");
    assert_int_equal(patron_merge_plan_address_set_default(p, 5), PATRON_E_RANGE);
    /* choose: keep Köln only, as the default */
    OK(f->db, patron_merge_plan_address_keep(p, 0, 0));
    assert_int_equal(patron_merge_plan_address_set_default(p, 0), PATRON_E_INVALID);
    OK(f->db, patron_merge_plan_address_set_default(p, 1));
    {
        char *json = NULL;
        OK(f->db, patron_merge_plan_to_json(p, &json, 0));
        CONTAINS(json, "\"addresses\": [{\"from\": [0, 1, 2], \"kept\": false, \"default\": false}, "
                       "{\"from\": [2], \"kept\": true, \"default\": true}]");
        patron_free(json);
    }
    OK(f->db, patron_db_merge(f->db, NULL, p));
    patron_merge_plan_free(p);
    s = fx_load(f->db, a);
    assert_int_equal(patron_customer_address_count(s), 1);
    assert_string_equal(patron_customer_address_get(s, 0, PATRON_A_CITY), "Köln");
    assert_string_equal(patron_customer_address_get(s, 0, PATRON_A_DEFAULT), "1");
    patron_customer_free(s);
}

static void test_address_drop_moves_the_default(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    patron_customer *s;
    int64_t a = add(f->db, "Ida", "Roth", "ida@roth.de", "Bachweg", "50667", NULL, NULL);
    int64_t b = add(f->db, "Ida", "Roth", NULL, "Am Markt", "50668", NULL, NULL);
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, PATRON_MERGE_SURVIVOR));
    assert_int_equal(patron_merge_plan_address_count(p), 2);
    /* drop the survivor's default: the first kept one becomes the default */
    OK(f->db, patron_merge_plan_address_keep(p, 0, 0));
    OK(f->db, patron_db_merge(f->db, NULL, p));
    patron_merge_plan_free(p);
    s = fx_load(f->db, a);
    assert_int_equal(patron_customer_address_count(s), 1);
    assert_string_equal(patron_customer_address_get(s, 0, PATRON_A_STREET), "Am Markt");
    assert_string_equal(patron_customer_address_get(s, 0, PATRON_A_DEFAULT), "1");
    patron_customer_free(s);
}

static void test_full_name_beats_initial(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    int64_t a = add(f->db, "H.", "Keller", "h@keller.de", "Lindenstraße", "10115", NULL, NULL);
    int64_t b = add(f->db, "Holger", "Keller", NULL, "Lindenstraße", "10115", NULL, NULL);
    int fl;
    for (int policy = PATRON_MERGE_SURVIVOR; policy <= PATRON_MERGE_NEWEST; policy++) {
        OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, (patron_merge_policy)policy));
        assert_string_equal(patron_merge_plan_value(p, PATRON_F_FIRST_NAME), "Holger");
        assert_int_equal(choice_of(p, PATRON_F_FIRST_NAME), 1);
        assert_int_equal(patron_merge_plan_conflict(p, PATRON_F_FIRST_NAME), 1); /* still shown */
        patron_merge_plan_free(p);
    }
    /* the other way round too; and initials that do not fit stay */
    OK(f->db, patron_merge_plan_new(f->db, &p, b, &a, 1, PATRON_MERGE_SURVIVOR));
    assert_string_equal(patron_merge_plan_value(p, PATRON_F_FIRST_NAME), "Holger");
    patron_merge_plan_free(p);
    {
        int64_t c = add(f->db, "K.", "Keller", NULL, "Lindenstraße", "10115", NULL, NULL);
        int64_t d = add(f->db, "Holger", "Keller", NULL, "Lindenstraße", "10115", NULL, NULL);
        OK(f->db, patron_merge_plan_new(f->db, &p, c, &d, 1, PATRON_MERGE_SURVIVOR));
        assert_string_equal(patron_merge_plan_value(p, PATRON_F_FIRST_NAME), "K.");
        patron_merge_plan_free(p);
    }
    /* the person can still take the initial */
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, PATRON_MERGE_SURVIVOR));
    OK(f->db, patron_merge_plan_take(p, PATRON_F_FIRST_NAME, 0));
    OK(f->db, patron_merge_plan_choice(p, &fl, PATRON_F_FIRST_NAME));
    assert_int_equal(fl, 0);
    assert_string_equal(patron_merge_plan_value(p, PATRON_F_FIRST_NAME), "H.");
    patron_merge_plan_free(p);
}

static void test_shared_value_beats_a_typo(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    int64_t a = add(f->db, "Lhna", "Schulz", "lena@schulz.de", "Ringweg", "50667", NULL, NULL);
    int64_t b = add(f->db, "Lena", "Schulz", NULL, "Ringweg", "50667", NULL, NULL);
    int64_t c = add(f->db, "Lena", "Schluz", NULL, "Ringweg", "50667", NULL, NULL);
    int64_t dups[2] = { b, c };
    OK(f->db, patron_merge_plan_new(f->db, &p, a, dups, 2, PATRON_MERGE_SURVIVOR));
    assert_string_equal(patron_merge_plan_value(p, PATRON_F_FIRST_NAME), "Lena");
    assert_int_equal(choice_of(p, PATRON_F_FIRST_NAME), 1);
    /* Schulz is the survivor's and b's: shared, it stays against c's typo */
    assert_string_equal(patron_merge_plan_value(p, PATRON_F_LAST_NAME), "Schulz");
    assert_int_equal(choice_of(p, PATRON_F_LAST_NAME), 0);
    patron_merge_plan_free(p);
    /* two records, one value each: no majority, the policy decides */
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, PATRON_MERGE_SURVIVOR));
    assert_string_equal(patron_merge_plan_value(p, PATRON_F_FIRST_NAME), "Lhna");
    patron_merge_plan_free(p);
    /* a shared value does not replace one that is no typo of it */
    {
        int64_t d = add(f->db, "Magdalena", "Schulz", NULL, "Ringweg", "50667", NULL, NULL);
        int64_t e[2] = { b, c };
        OK(f->db, patron_merge_plan_new(f->db, &p, d, e, 2, PATRON_MERGE_SURVIVOR));
        assert_string_equal(patron_merge_plan_value(p, PATRON_F_FIRST_NAME), "Magdalena");
        patron_merge_plan_free(p);
    }
}

static void test_property_conflicts_are_kept_and_chosen(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    patron_customer *s;
    const char *key, *val;
    int choice, conflict;
    int64_t a, b;
    {
        patron_customer *r = fx_person("Eva", "Lang", "eva@lang.de", NULL, NULL, NULL, NULL);
        OK(f->db, patron_customer_prop_set(r, "card", "1001"));
        OK(f->db, patron_customer_prop_set(r, "color", "red"));
        a = fx_save(f->db, r);
        r = fx_person("Eva", "Lang", "eva@lang.de", NULL, NULL, NULL, NULL);
        OK(f->db, patron_customer_prop_set(r, "card", "2002"));
        OK(f->db, patron_customer_prop_set(r, "size", "M"));
        OK(f->db, patron_customer_prop_set(r, "color", " RED"));
        b = fx_save(f->db, r);
    }
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, PATRON_MERGE_SURVIVOR));
    assert_int_equal(patron_merge_plan_prop_count(p), 3);
    OK(f->db, patron_merge_plan_prop_at(p, &key, &val, &choice, &conflict, 0));
    assert_string_equal(key, "card");
    assert_string_equal(val, "1001");
    assert_int_equal(choice, 0);
    assert_int_equal(conflict, 1);
    OK(f->db, patron_merge_plan_prop_at(p, &key, &val, &choice, &conflict, 1));
    assert_string_equal(key, "color");
    assert_int_equal(conflict, 0); /* red / RED: loosely equal */
    OK(f->db, patron_merge_plan_prop_at(p, &key, &val, &choice, &conflict, 2));
    assert_string_equal(key, "size");
    assert_string_equal(val, "M");
    assert_int_equal(choice, 1);
    assert_int_equal(conflict, 0);
    assert_int_equal(patron_merge_plan_prop_at(p, NULL, NULL, NULL, NULL, 3), PATRON_E_RANGE);
    {
        char *json = NULL;
        OK(f->db, patron_merge_plan_to_json(p, &json, 0));
        CONTAINS(json, "\"card\": {\"values\": [\"1001\", \"2002\"], \"choice\": 0, \"result\": \"1001\", "
                       "\"conflict\": true}");
        patron_free(json);
    }
    /* choose the duplicate's card; refusals leave the plan alone */
    assert_int_equal(patron_merge_plan_prop_take(p, "nope", 1), PATRON_E_NOT_FOUND);
    assert_int_equal(patron_merge_plan_prop_take(p, "card", 2), PATRON_E_RANGE);
    assert_int_equal(patron_merge_plan_prop_take(p, "size", 0), PATRON_E_INVALID);
    CONTAINS(patron_merge_plan_errmsg(p), "record 0 has no property 'size'");
    OK(f->db, patron_merge_plan_prop_take(p, "card", 1));
    OK(f->db, patron_merge_plan_prop_at(p, &key, &val, &choice, NULL, 0));
    assert_string_equal(val, "2002");
    assert_int_equal(choice, 1);
    OK(f->db, patron_db_merge(f->db, NULL, p));
    patron_merge_plan_free(p);
    s = fx_load(f->db, a);
    assert_string_equal(patron_customer_prop_get(s, "card"), "2002");
    assert_string_equal(patron_customer_prop_get(s, "color"), "red");
    assert_string_equal(patron_customer_prop_get(s, "size"), "M");
    patron_customer_free(s);
}

static void test_merging_distinct_records_is_said_not_refused(void **state)
{
    tb_fx *f = *state;
    patron_merge_plan *p;
    int64_t a = add(f->db, "Anna", "Müller", "anna@example.de", "Hauptstraße", "50667", NULL, NULL);
    int64_t b = add(f->db, "Anna", "Mueller", "anna@example.de", "Hauptstr.", "50667", NULL, NULL);
    int64_t c = add(f->db, "Bernd", "Zimmermann", "bz@example.org", "Feldweg", "80331", NULL, NULL);
    char buf[160];
    /* a pair the matcher calls a duplicate: no problem at all */
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &b, 1, PATRON_MERGE_SURVIVOR));
    assert_string_equal(patron_merge_plan_problems(p), "");
    assert_int_equal(patron_merge_plan_blocked(p), 0);
    patron_merge_plan_free(p);
    /* a distinct pair: said in the problems list, and the merge goes ahead */
    OK(f->db, patron_merge_plan_new(f->db, &p, a, &c, 1, PATRON_MERGE_SURVIVOR));
    snprintf(buf, sizeof buf, "note: the matcher calls customer #%lld and customer #%lld distinct (score ",
             (long long)a, (long long)c);
    CONTAINS(patron_merge_plan_problems(p), buf);
    CONTAINS(patron_merge_plan_problems(p), "merging them is allowed");
    assert_int_equal(patron_merge_plan_blocked(p), 0);
    {
        char *json = NULL;
        OK(f->db, patron_merge_plan_to_json(p, &json, 0));
        CONTAINS(json, "\"blocked\": false");
        patron_free(json);
    }
    OK(f->db, patron_db_merge(f->db, NULL, p));
    assert_int_equal(fx_state_of(f->db, c), PATRON_STATE_MERGED);
    patron_merge_plan_free(p);
    assert_int_equal(patron_merge_plan_blocked(NULL), 1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plan_choices_and_conflicts, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_plan_refusals, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_n_way_and_lists, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_login_rules, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_lock_decision, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_policy_newest, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_relink_and_undo, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_undo_of_a_damaged_journal_entry, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_undo_of_a_forged_before_image, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_undo_never_reuses_a_revision, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_plan_refuses_lists_past_the_limit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_undo_refused_when_later_changes_depend, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_refused_with_reasons, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_merged_email_is_an_alias, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_pending_survivor, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_plan_group_must_exist, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_addresses_united_after_normalisation, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_address_drop_moves_the_default, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_full_name_beats_initial, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_shared_value_beats_a_typo, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_property_conflicts_are_kept_and_chosen, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_merging_distinct_records_is_said_not_refused, fx_setup, fx_teardown),
    };
    tb_backend = tb_selected(argc, argv);
    return cmocka_run_group_tests_name(tb_backend, tests, NULL, NULL);
}
