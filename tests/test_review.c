/* The duplicate review queue (issue 12) on every store: scans make cases,
 * decisions are remembered by match, dedupe, activation and scans until a
 * matched field changes, a merge through the queue is one transaction and
 * its undo reopens the case, an incremental scan reads only the customers
 * that changed, and bytes of a case read back from the store are checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"
#include "fixture.h"
#include "jsoncheck.h"

/* Jürgen Müller twice (umlaut spelling, another mailbox), his wife, and
 * somebody else. */
typedef struct shop {
    int64_t j1, j2, wife, other;
} shop;

static void make_shop(patron_db *db, shop *s)
{
    s->j1 = fx_add(db, "Jürgen", "Müller", "juergen.mueller@example.de", "Hauptstraße", "12", "50667", "Köln");
    s->j2 = fx_add(db, "Juergen", "Mueller", "jm@firma.example", "Hauptstr.", "12", "50667", "Koeln");
    s->wife = fx_add(db, "Sabine", "Müller", "sabine.mueller@example.de", "Hauptstraße", "12", "50667", "Köln");
    s->other = fx_add(db, "Petra", "Schulz", "petra@example.com", "Ringstraße", "3", "80331", "München");
}

static patron_review_scan_stats scan(patron_db *db, unsigned flags)
{
    patron_review_scan_stats st = PATRON_REVIEW_SCAN_STATS_INIT;
    patron_review_scan_options o = PATRON_REVIEW_SCAN_OPTIONS_INIT;
    o.flags = flags;
    OK(db, patron_db_review_scan(db, &st, &o));
    return st;
}

/* The one open case (the test fails unless there is exactly one). */
static int64_t only_open_case(patron_db *db)
{
    patron_cases *l = NULL;
    int64_t id;
    OK(db, patron_db_review_list(db, &l, PATRON_REVIEW_STATE(PATRON_CASE_OPEN)));
    if (patron_cases_count(l) != 1)
        fail_msg("%zu open cases, want 1", patron_cases_count(l));
    id = patron_case_id(patron_cases_at(l, 0));
    patron_cases_free(l);
    return id;
}

static size_t open_cases(patron_db *db)
{
    patron_cases *l = NULL;
    size_t n;
    OK(db, patron_db_review_list(db, &l, PATRON_REVIEW_STATE(PATRON_CASE_OPEN)));
    n = patron_cases_count(l);
    patron_cases_free(l);
    return n;
}

static patron_case *get_case(patron_db *db, int64_t id)
{
    patron_case *c = NULL;
    OK(db, patron_db_review_get(db, &c, id));
    return c;
}

/* Does patron_db_match() of stored customer `id` propose `other`? */
static bool match_proposes(patron_db *db, int64_t id, int64_t other)
{
    patron_customer *c = fx_load(db, id);
    patron_matches *m = NULL;
    bool found = false;
    OK(db, patron_db_match(db, &m, c, PATRON_MATCH_FIELDS));
    for (size_t i = 0; i < patron_matches_count(m); i++) {
        int64_t x;
        patron_matches_get(m, &x, NULL, NULL, i);
        found |= x == other;
    }
    patron_matches_free(m);
    patron_customer_free(c);
    return found;
}

static bool dedupe_proposes(patron_db *db, int64_t a, int64_t b)
{
    patron_pairs *p = NULL;
    bool found = false;
    OK(db, patron_db_dedupe(db, &p, PATRON_MATCH_FIELDS));
    for (size_t i = 0; i < patron_pairs_count(p); i++) {
        int64_t x, y;
        patron_pairs_get(p, &x, &y, NULL, NULL, i);
        found |= (x == a && y == b) || (x == b && y == a);
    }
    patron_pairs_free(p);
    return found;
}

static void set_field(patron_db *db, int64_t id, int field, const char *value)
{
    patron_customer *c = fx_load(db, id);
    OK(db, patron_customer_set(c, field, value));
    OK(db, patron_db_update(db, c));
    patron_customer_free(c);
}

/* ---- scans make cases -------------------------------------------------------- */

static void test_scan_makes_cases(void **state)
{
    tb_fx *f = *state;
    shop s;
    patron_review_scan_stats st;
    patron_case *c;
    const patron_case *lc;
    patron_cases *l = NULL;
    int64_t cid, m0, m1, a, b;
    double score;
    patron_decision d;
    const char *field, *va, *vb, *level;
    char *json = NULL;
    make_shop(f->db, &s);

    st = scan(f->db, 0);
    assert_int_equal(st.full, 1); /* the first scan looks at everybody */
    assert_int_equal(st.customers, 4);
    assert_int_equal(st.opened, 1);
    assert_int_equal(st.open, 1);
    cid = only_open_case(f->db);
    c = get_case(f->db, cid);
    assert_int_equal(patron_case_state_of(c), PATRON_CASE_OPEN);
    assert_int_equal(patron_case_member_count(c), 2);
    OK(f->db, patron_case_member(c, &m0, 0));
    OK(f->db, patron_case_member(c, &m1, 1));
    assert_true(m0 == s.j1 && m1 == s.j2);
    assert_int_equal(patron_case_member(c, &m0, 2), PATRON_E_RANGE);
    assert_true(patron_case_verdict(c) == PATRON_DECISION_MERGE || patron_case_verdict(c) == PATRON_DECISION_REVIEW);
    assert_int_equal(patron_case_pair_count(c), 1);
    OK(f->db, patron_case_pair(c, &a, &b, &score, &d, 0));
    assert_true(a == s.j1 && b == s.j2);
    assert_true(score == patron_case_score(c) && score > 0);
    assert_int_equal(d, patron_case_verdict(c));
    assert_true(patron_case_field_count(c, 0) > 5);
    /* the explanation snapshot: a's value first */
    for (size_t k = 0; k < patron_case_field_count(c, 0); k++) {
        OK(f->db, patron_case_explain(c, &field, &va, &vb, &level, NULL, 0, k));
        if (strcmp(field, "email") == 0) {
            CONTAINS(va, "juergen");
            CONTAINS(vb, "jm@");
        }
    }
    assert_int_equal(patron_case_explain(c, &field, NULL, NULL, NULL, NULL, 1, 0), PATRON_E_RANGE);
    assert_null(field);
    assert_true(strlen(patron_case_reason(c)) > 5);
    assert_null(patron_case_decided_by(c));
    assert_int_equal(patron_case_journal(c), 0);
    assert_null(patron_case_change(c));
    assert_true(patron_case_created_at(c) > 0);
    OK(f->db, patron_case_to_json(c, &json, 0));
    assert_true(json_valid(json));
    CONTAINS(json, "\"state\":\"open\"");
    CONTAINS(json, "\"members\":[");
    patron_free(json);
    patron_case_free(c);

    /* nothing changed: an incremental scan reads nobody and changes nothing */
    st = scan(f->db, 0);
    assert_int_equal(st.full, 0);
    assert_int_equal(st.customers, 0);
    assert_int_equal(st.opened + st.refreshed + st.closed + st.reopened, 0);
    assert_int_equal(st.open, 1);
    /* a full scan finds the same case under the same id */
    st = scan(f->db, PATRON_REVIEW_SCAN_FULL);
    assert_int_equal(st.customers, 4);
    assert_int_equal(st.opened, 0);
    assert_int_equal(st.refreshed, 0);
    assert_int_equal(only_open_case(f->db), cid);

    /* a third Jürgen joins the case: refreshed, same id, three members */
    {
        int64_t j3 = fx_add(f->db, "Jürgen", "Müller", "juergen.mueller@example.de", "Hauptstrasse", "12", "50667",
                            "Köln");
        st = scan(f->db, 0);
        assert_int_equal(st.customers, 1);
        assert_int_equal(st.opened, 0);
        assert_int_equal(st.refreshed, 1);
        assert_int_equal(only_open_case(f->db), cid);
        c = get_case(f->db, cid);
        assert_int_equal(patron_case_member_count(c), 3);
        assert_int_equal(patron_case_pair_count(c), 3);
        patron_case_free(c);
        /* and leaves again: deleted, the case is back to two */
        OK(f->db, patron_db_delete(f->db, j3, 0));
        st = scan(f->db, 0);
        assert_int_equal(st.refreshed, 1);
        c = get_case(f->db, cid);
        assert_int_equal(patron_case_member_count(c), 2);
        patron_case_free(c);
    }
    /* Jürgen 2 moves away and changes everything: the case closes */
    {
        patron_customer *x = fx_load(f->db, s.j2);
        OK(f->db, patron_customer_set(x, PATRON_F_FIRST_NAME, "Karl"));
        OK(f->db, patron_customer_set(x, PATRON_F_LAST_NAME, "Berg"));
        OK(f->db, patron_customer_set(x, PATRON_F_EMAIL, "karl@berg.example"));
        OK(f->db, patron_customer_address_set(x, 0, PATRON_A_POSTAL_CODE, "01067"));
        OK(f->db, patron_customer_address_set(x, 0, PATRON_A_CITY, "Dresden"));
        OK(f->db, patron_customer_address_set(x, 0, PATRON_A_STREET, "Elbweg"));
        OK(f->db, patron_db_update(f->db, x));
        patron_customer_free(x);
        st = scan(f->db, 0);
        assert_int_equal(st.closed, 1);
        assert_int_equal(st.open, 0);
        assert_int_equal(open_cases(f->db), 0);
        EXPECT(f->db, PATRON_E_NOT_FOUND, patron_db_review_get(f->db, &c, cid));
        assert_null(c);
    }
    OK(f->db, patron_db_review_list(f->db, &l, PATRON_REVIEW_ALL));
    assert_int_equal(patron_cases_count(l), 0);
    lc = patron_cases_at(l, 0);
    assert_null(lc);
    patron_cases_free(l);
}

/* Best first; two clusters become two cases. */
/* The queue follows the matcher: after a change of the settings (or the
 * model, or the library) the next scan is a full one, although nobody was
 * saved; a pair the new settings no longer review leaves the queue. */
static void test_settings_change_rescans(void **state)
{
    tb_fx *f = *state;
    shop s;
    patron_review_scan_stats st;
    patron_match_settings ms = PATRON_MATCH_SETTINGS_INIT, before = PATRON_MATCH_SETTINGS_INIT;
    patron_case *c;
    int64_t cid;
    patron_decision verdict;
    make_shop(f->db, &s);

    st = scan(f->db, 0);
    assert_int_equal(st.full, 1);
    assert_int_equal(st.open, 1);
    cid = only_open_case(f->db);
    c = get_case(f->db, cid);
    verdict = patron_case_verdict(c);
    patron_case_free(c);
    assert_int_equal(verdict, PATRON_DECISION_REVIEW); /* below the default merge probability */
    st = scan(f->db, 0);
    assert_int_equal(st.full, 0);
    assert_int_equal(st.customers, 0);

    /* stricter settings: the case's pair is below the review threshold now */
    OK(f->db, patron_db_match_config_get(f->db, &before));
    ms = before;
    assert_true(before.merge_probability < 0.99);
    ms.review_probability = before.merge_probability + (1.0 - before.merge_probability) / 2;
    ms.merge_probability = before.merge_probability + (1.0 - before.merge_probability) * 3 / 4;
    OK(f->db, patron_db_match_config_set(f->db, &ms));
    st = scan(f->db, 0);
    assert_int_equal(st.full, 1);
    assert_int_equal(st.customers, 4);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.open, 0);
    st = scan(f->db, 0);
    assert_int_equal(st.full, 0);

    /* and back: the pair is reviewed again */
    OK(f->db, patron_db_match_config_set(f->db, &before));
    st = scan(f->db, 0);
    assert_int_equal(st.full, 1);
    assert_int_equal(st.opened, 1);
    assert_int_equal(st.open, 1);
}

static void test_list_best_first(void **state)
{
    tb_fx *f = *state;
    shop s;
    patron_cases *l = NULL;
    char *json = NULL;
    make_shop(f->db, &s);
    fx_add(f->db, "Petra", "Schulz", "petra@example.com", "Ringstr.", "3", "80331", "München");
    fx_add(f->db, "P.", "Schultz", NULL, "Ringstraße", "3", "80331", "München");
    scan(f->db, 0);
    OK(f->db, patron_db_review_list(f->db, &l, PATRON_REVIEW_STATE(PATRON_CASE_OPEN)));
    assert_int_equal(patron_cases_count(l), 2);
    assert_true(patron_case_score(patron_cases_at(l, 0)) >= patron_case_score(patron_cases_at(l, 1)));
    OK(f->db, patron_cases_to_json(l, &json, PATRON_JSON_PRETTY));
    assert_true(json_valid(json));
    assert_true(json[0] == '[');
    patron_free(json);
    patron_cases_free(l);
    EXPECT(f->db, PATRON_E_INVALID, patron_db_review_list(f->db, &l, 0));
    assert_null(l);
    OK(f->db, patron_db_review_list(f->db, &l, PATRON_REVIEW_STATE(PATRON_CASE_DEFERRED)));
    assert_int_equal(patron_cases_count(l), 0);
    patron_cases_free(l);
}

/* Occurrences of `needle` in `hay`. */
static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The review page (issue 12, point 8): one card per case asked for, every
 * value from the store escaped, the page's own script the only one. */
static void test_review_html(void **state)
{
    tb_fx *f = *state;
    shop s;
    char *page = NULL;
    int64_t id;
    make_shop(f->db, &s);
    fx_add(f->db, "Eve", "<script>alert('x')</script>", "eve@example.com", "Ringstraße", "3", "80331", "München");
    fx_add(f->db, "Eve", "<script>alert('x')</script>", "eve@example.com", "Ringstr.", "3", "80331", "München");
    scan(f->db, 0);
    assert_true(open_cases(f->db) >= 2);

    OK(f->db, patron_db_review_html(f->db, &page, 0));
    assert_non_null(page);
    assert_true(strncmp(page, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(page, "Content-Security-Policy"));
    assert_int_equal(count_of(page, "<article class=\"case "), open_cases(f->db));
    assert_non_null(strstr(page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert_int_equal(count_of(page, "<script"), 1); /* the page's own filter */
    assert_non_null(strstr(page, "</html>\n"));
    patron_free(page);

    /* a decided case leaves the default page; asked for by state, it is there */
    {
        patron_cases *l = NULL;
        char want[64];
        OK(f->db, patron_db_review_list(f->db, &l, PATRON_REVIEW_STATE(PATRON_CASE_OPEN)));
        id = patron_case_id(patron_cases_at(l, 0));
        patron_cases_free(l);
        OK(f->db, patron_db_review_decide(f->db, id, PATRON_CASE_DEFERRED, "tester", NULL));
        snprintf(want, sizeof want, "id=\"case-%lld\"", (long long)id);
        OK(f->db, patron_db_review_html(f->db, &page, 0));
        assert_int_equal(count_of(page, "<article class=\"case "), open_cases(f->db));
        assert_null(strstr(page, want));
        patron_free(page);
        OK(f->db, patron_db_review_html(f->db, &page, PATRON_REVIEW_STATE(PATRON_CASE_DEFERRED)));
        assert_int_equal(count_of(page, "<article class=\"case "), 1);
        assert_non_null(strstr(page, want));
        patron_free(page);
    }

    /* bad calls: a clear error, *out NULL */
    EXPECT(f->db, PATRON_E_INVALID, patron_db_review_html(f->db, NULL, 0));
    page = (char *)&page;
    assert_int_equal(patron_db_review_html(NULL, &page, 0), PATRON_E_INVALID);
    assert_null(page);
    page = (char *)&page;
    EXPECT(f->db, PATRON_E_INVALID, patron_db_review_html(f->db, &page, 1u << 7));
    assert_null(page);
}

/* ---- decisions --------------------------------------------------------------- */

static void test_not_duplicate_remembered(void **state)
{
    tb_fx *f = *state;
    shop s;
    patron_case *c;
    patron_review_scan_stats st;
    int64_t cid;
    make_shop(f->db, &s);
    scan(f->db, 0);
    cid = only_open_case(f->db);
    assert_true(match_proposes(f->db, s.j1, s.j2));
    assert_true(dedupe_proposes(f->db, s.j1, s.j2));

    OK(f->db, patron_db_review_decide(f->db, cid, PATRON_CASE_NOT_DUPLICATE, "anna", "father and son"));
    c = get_case(f->db, cid);
    assert_int_equal(patron_case_state_of(c), PATRON_CASE_NOT_DUPLICATE);
    assert_string_equal(patron_case_decided_by(c), "anna");
    assert_string_equal(patron_case_note(c), "father and son");
    assert_true(patron_case_decided_at(c) > 0);
    patron_case_free(c);

    /* never proposed again: match (both ways), dedupe, scan */
    assert_false(match_proposes(f->db, s.j1, s.j2));
    assert_false(match_proposes(f->db, s.j2, s.j1));
    assert_false(dedupe_proposes(f->db, s.j1, s.j2));
    /* the others are still proposed as before */
    assert_true(dedupe_proposes(f->db, s.j1, s.wife) == dedupe_proposes(f->db, s.j2, s.wife));
    st = scan(f->db, PATRON_REVIEW_SCAN_FULL);
    assert_int_equal(st.opened, 0);
    assert_int_equal(st.open, 0);
    assert_int_equal(open_cases(f->db), 0);

    /* a change outside the matched fields changes nothing */
    set_field(f->db, s.j2, PATRON_F_NOTES, "called on Monday");
    assert_false(match_proposes(f->db, s.j1, s.j2));
    st = scan(f->db, 0);
    assert_int_equal(st.customers, 1);
    assert_int_equal(st.reopened, 0);
    assert_int_equal(st.opened, 0);

    /* a change in a matched field: proposed again, and the scan reopens
     * the case with the change shown */
    set_field(f->db, s.j2, PATRON_F_EMAIL, "juergen.mueller@example.de");
    assert_true(match_proposes(f->db, s.j1, s.j2));
    assert_true(dedupe_proposes(f->db, s.j1, s.j2));
    st = scan(f->db, 0);
    assert_int_equal(st.reopened, 1);
    assert_int_equal(st.opened, 0);
    assert_int_equal(only_open_case(f->db), cid);
    c = get_case(f->db, cid);
    assert_int_equal(patron_case_state_of(c), PATRON_CASE_OPEN);
    print_message("change: %s\n", patron_case_change(c));
    CONTAINS(patron_case_change(c), "email jm@firma.example -> juergen.mueller@example.de");
    CONTAINS(patron_case_change(c), "customer #");
    assert_null(strstr(patron_case_change(c), "last_name"));
    assert_string_equal(patron_case_decided_by(c), "anna"); /* the decision that was reopened */
    patron_case_free(c);

    /* household: also never proposed; deferred: proposed, but the scan
     * leaves it alone; open again: proposed */
    OK(f->db, patron_db_review_decide(f->db, cid, PATRON_CASE_HOUSEHOLD, "anna", "er sagt \"Vater\" \\ Sohn"));
    assert_false(match_proposes(f->db, s.j1, s.j2));
    c = get_case(f->db, cid);
    assert_string_equal(patron_case_note(c), "er sagt \"Vater\" \\ Sohn");
    {
        char *json = NULL;
        OK(f->db, patron_case_to_json(c, &json, PATRON_JSON_PRETTY));
        assert_true(json_valid(json));
        CONTAINS(json, "\"state\":\"household\"");
        patron_free(json);
    }
    patron_case_free(c);
    OK(f->db, patron_db_review_decide(f->db, cid, PATRON_CASE_DEFERRED, "anna", "ask the customer"));
    assert_true(match_proposes(f->db, s.j1, s.j2));
    st = scan(f->db, PATRON_REVIEW_SCAN_FULL);
    assert_int_equal(st.opened, 0);
    assert_int_equal(st.open, 0);
    c = get_case(f->db, cid);
    assert_int_equal(patron_case_state_of(c), PATRON_CASE_DEFERRED);
    assert_null(patron_case_change(c));
    patron_case_free(c);
    OK(f->db, patron_db_review_decide(f->db, cid, PATRON_CASE_OPEN, "anna", NULL));
    assert_int_equal(only_open_case(f->db), cid);
}

/* A pending customer marked not-duplicate: activation does not offer the
 * pair, in any mode. */
static void test_activation_respects_decision(void **state)
{
    tb_fx *f = *state;
    int64_t a, p, cid;
    patron_activation *act = NULL;
    patron_customer *c;
    a = fx_add(f->db, "Jürgen", "Müller", "juergen.mueller@example.de", "Hauptstraße", "12", "50667", "Köln");
    c = fx_person("Jürgen", "Müller", "juergen.mueller@example.de", "Hauptstr.", "12", "50667", "Köln");
    p = fx_register(f->db, c);
    scan(f->db, 0);
    cid = only_open_case(f->db);
    {
        patron_case *k = get_case(f->db, cid);
        int64_t m0, m1;
        patron_case_member(k, &m0, 0);
        patron_case_member(k, &m1, 1);
        assert_true(m0 == a && m1 == p);
        patron_case_free(k);
    }
    /* before the decision the interactive activation offers the merge */
    OK(f->db, patron_db_activate(f->db, &act, p, PATRON_ACTIVATE_INTERACTIVE, 0));
    assert_int_equal(patron_activation_outcome(act), PATRON_OUTCOME_REVIEW);
    patron_activation_free(act);
    OK(f->db, patron_db_review_decide(f->db, cid, PATRON_CASE_NOT_DUPLICATE, "anna", NULL));
    OK(f->db, patron_db_activate(f->db, &act, p, PATRON_ACTIVATE_INTERACTIVE, 0));
    assert_int_equal(patron_activation_outcome(act), PATRON_OUTCOME_ACTIVATED);
    assert_int_equal(patron_activation_candidate_count(act), 0);
    patron_activation_free(act);
    assert_int_equal(fx_state_of(f->db, a), PATRON_STATE_ACTIVE);
    assert_int_equal(fx_state_of(f->db, p), PATRON_STATE_ACTIVE);
}

static void test_auto_and_email_activation(void **state)
{
    tb_fx *f = *state;
    for (int mode = PATRON_ACTIVATE_AUTO; mode <= PATRON_ACTIVATE_EMAIL; mode++) {
        char mail[64];
        int64_t a, p, cid;
        patron_activation *act = NULL;
        patron_cases *l = NULL;
        snprintf(mail, sizeof mail, "hans%d@example.de", mode);
        a = fx_add(f->db, "Hans", "Meier", mail, "Lindenweg", "4", "30159", "Hannover");
        p = fx_register(f->db, fx_person("Hans", "Meier", mail, "Lindenweg", "4", "30159", "Hannover"));
        scan(f->db, 0);
        OK(f->db, patron_db_review_list(f->db, &l, PATRON_REVIEW_STATE(PATRON_CASE_OPEN)));
        assert_int_equal(patron_cases_count(l), 1);
        cid = patron_case_id(patron_cases_at(l, 0));
        patron_cases_free(l);
        OK(f->db, patron_db_review_decide(f->db, cid, PATRON_CASE_NOT_DUPLICATE, "anna", NULL));
        OK(f->db, patron_db_activate(f->db, &act, p, (patron_activate_mode)mode, 0));
        assert_int_equal(patron_activation_outcome(act), PATRON_OUTCOME_ACTIVATED);
        assert_int_equal(patron_activation_merged_into(act), 0);
        patron_activation_free(act);
        assert_int_equal(fx_state_of(f->db, a), PATRON_STATE_ACTIVE);
        assert_int_equal(fx_state_of(f->db, p), PATRON_STATE_ACTIVE);
        /* a different person for the next round */
        set_field(f->db, a, PATRON_F_LAST_NAME, "Zander");
        set_field(f->db, p, PATRON_F_LAST_NAME, "Yilmaz");
        set_field(f->db, a, PATRON_F_EMAIL, "z@zander.example");
        set_field(f->db, p, PATRON_F_EMAIL, "y@yilmaz.example");
        OK(f->db, patron_db_review_decide(f->db, cid, PATRON_CASE_NOT_DUPLICATE, "anna", NULL));
    }
}

static void test_decide_errors(void **state)
{
    tb_fx *f = *state;
    shop s;
    int64_t cid;
    patron_case_state cs;
    char *before, *after;
    make_shop(f->db, &s);
    scan(f->db, 0);
    cid = only_open_case(f->db);
    before = fx_fingerprint(f);
    EXPECT(f->db, PATRON_E_INVALID, patron_db_review_decide(f->db, cid, PATRON_CASE_MERGED, "anna", NULL));
    EXPECT(f->db, PATRON_E_INVALID, patron_db_review_decide(f->db, cid, (patron_case_state)17, "anna", NULL));
    EXPECT(f->db, PATRON_E_INVALID, patron_db_review_decide(f->db, cid, PATRON_CASE_NOT_DUPLICATE, NULL, NULL));
    EXPECT(f->db, PATRON_E_INVALID, patron_db_review_decide(f->db, cid, PATRON_CASE_NOT_DUPLICATE, "", NULL));
    EXPECT(f->db, PATRON_E_INVALID,
           patron_db_review_decide(f->db, cid, PATRON_CASE_NOT_DUPLICATE, "anna", "two\nlines"));
    EXPECT(f->db, PATRON_E_INVALID,
           patron_db_review_decide(f->db, cid, PATRON_CASE_NOT_DUPLICATE, "\xff\xfe", NULL));
    EXPECT(f->db, PATRON_E_NOT_FOUND,
           patron_db_review_decide(f->db, cid + 100, PATRON_CASE_NOT_DUPLICATE, "anna", NULL));
    CONTAINS(patron_db_errmsg(f->db), "no case");
    after = fx_fingerprint(f);
    fx_assert_same_store(before, after, "refused decisions");
    free(before);
    free(after);
    assert_string_equal(patron_case_state_name(PATRON_CASE_NOT_DUPLICATE), "not_duplicate");
    assert_null(patron_case_state_name((patron_case_state)9));
    for (int i = PATRON_CASE_OPEN; i <= PATRON_CASE_DEFERRED; i++) {
        OK(f->db, patron_case_state_from_name(&cs, patron_case_state_name((patron_case_state)i)));
        assert_int_equal(cs, i);
    }
    OK(f->db, patron_case_state_from_name(&cs, "distinct"));
    assert_int_equal(cs, PATRON_CASE_NOT_DUPLICATE);
    assert_int_equal(patron_case_state_from_name(&cs, "maybe"), PATRON_E_INVALID);
    {
        patron_review_scan_options o = PATRON_REVIEW_SCAN_OPTIONS_INIT;
        patron_review_scan_stats st = PATRON_REVIEW_SCAN_STATS_INIT;
        o.version = 99;
        EXPECT(f->db, PATRON_E_ABI, patron_db_review_scan(f->db, NULL, &o));
        st.version = 0;
        EXPECT(f->db, PATRON_E_ABI, patron_db_review_scan(f->db, &st, NULL));
    }
}

/* ---- merges through the queue ---------------------------------------------------- */

static void test_queue_merge_and_undo(void **state)
{
    tb_fx *f = *state;
    shop s;
    patron_case *c;
    patron_merge_plan *plan = NULL;
    int64_t cid, jid = 0, undo = 0;
    char *before, *after;
    make_shop(f->db, &s);
    scan(f->db, 0);
    cid = only_open_case(f->db);

    /* a plan for other customers is refused and changes nothing */
    {
        int64_t dup = s.wife;
        before = fx_fingerprint(f);
        OK(f->db, patron_merge_plan_new(f->db, &plan, s.j1, &dup, 1, PATRON_MERGE_SURVIVOR));
        EXPECT(f->db, PATRON_E_INVALID, patron_db_review_merge(f->db, &jid, cid, plan, "anna"));
        assert_int_equal(jid, 0);
        patron_merge_plan_free(plan);
        EXPECT(f->db, PATRON_E_INVALID, patron_db_review_merge(f->db, &jid, cid, NULL, NULL));
        EXPECT(f->db, PATRON_E_NOT_FOUND, patron_db_review_merge(f->db, &jid, cid + 7, NULL, "anna"));
        after = fx_fingerprint(f);
        fx_assert_same_store(before, after, "refused queue merges");
        free(before);
        free(after);
    }
    /* the case's plan, edited: the survivor is the first active member */
    OK(f->db, patron_db_review_plan(f->db, &plan, cid, PATRON_MERGE_SURVIVOR));
    assert_int_equal(patron_merge_plan_count(plan), 2);
    assert_int_equal(patron_customer_id(patron_merge_plan_record(plan, 0)), s.j1);
    OK(f->db, patron_merge_plan_take(plan, PATRON_F_EMAIL, 1));
    OK(f->db, patron_db_review_merge(f->db, &jid, cid, plan, "anna"));
    patron_merge_plan_free(plan);
    assert_true(jid > 0);
    fx_assert_field(f->db, s.j1, PATRON_F_EMAIL, "jm@firma.example");
    assert_int_equal(fx_state_of(f->db, s.j2), PATRON_STATE_MERGED);
    c = get_case(f->db, cid);
    assert_int_equal(patron_case_state_of(c), PATRON_CASE_MERGED);
    assert_int_equal(patron_case_journal(c), jid);
    assert_string_equal(patron_case_decided_by(c), "anna");
    patron_case_free(c);
    assert_int_equal(open_cases(f->db), 0);
    /* decided: no more decisions or merges on it */
    EXPECT(f->db, PATRON_E_STATE, patron_db_review_decide(f->db, cid, PATRON_CASE_DEFERRED, "anna", NULL));
    EXPECT(f->db, PATRON_E_STATE, patron_db_review_merge(f->db, NULL, cid, NULL, "anna"));
    EXPECT(f->db, PATRON_E_STATE, patron_db_review_plan(f->db, &plan, cid, PATRON_MERGE_SURVIVOR));
    assert_null(plan);
    /* a scan leaves it alone */
    {
        patron_review_scan_stats st = scan(f->db, PATRON_REVIEW_SCAN_FULL);
        assert_int_equal(st.opened, 0);
    }

    /* undo of the merge reopens the case */
    OK(f->db, patron_db_undo(f->db, &undo, jid, PATRON_UNDO_FORCE));
    assert_int_equal(fx_state_of(f->db, s.j2), PATRON_STATE_ACTIVE);
    c = get_case(f->db, cid);
    assert_int_equal(patron_case_state_of(c), PATRON_CASE_OPEN);
    assert_int_equal(patron_case_journal(c), 0);
    CONTAINS(patron_case_change(c), "undone");
    patron_case_free(c);
    assert_int_equal(only_open_case(f->db), cid);

    /* merged again with the default plan */
    OK(f->db, patron_db_review_merge(f->db, &jid, cid, NULL, "bob"));
    assert_int_equal(fx_state_of(f->db, s.j2), PATRON_STATE_MERGED);
    c = get_case(f->db, cid);
    assert_int_equal(patron_case_state_of(c), PATRON_CASE_MERGED);
    assert_string_equal(patron_case_decided_by(c), "bob");
    patron_case_free(c);
    /* an ordinary merge's undo touches no case */
    {
        int64_t j2 = 0, dup = s.other;
        OK(f->db, patron_merge_plan_new(f->db, &plan, s.wife, &dup, 1, PATRON_MERGE_SURVIVOR));
        OK(f->db, patron_db_merge(f->db, &j2, plan));
        patron_merge_plan_free(plan);
        OK(f->db, patron_db_undo(f->db, NULL, j2, 0));
        c = get_case(f->db, cid);
        assert_int_equal(patron_case_state_of(c), PATRON_CASE_MERGED);
        patron_case_free(c);
    }
}

/* ---- the model learns from decisions ------------------------------------------ */

static void test_estimate_learns(void **state)
{
    tb_fx *f = *state;
    shop s;
    patron_case *c;
    patron_merge_plan *plan = NULL;
    patron_estimate_report r = PATRON_ESTIMATE_REPORT_INIT;
    int64_t cid, j3, jid = 0;
    const char *level = NULL;
    double m_before, m_after, u;
    make_shop(f->db, &s);
    j3 = fx_add(f->db, "Jürgen", "Müller", "juergen.mueller@example.de", "Hauptstrasse", "12", "50667", "Köln");
    scan(f->db, 0);
    cid = only_open_case(f->db);
    /* one person's records, merged through the queue: a plan for two of
     * the three members; the third leaves the case */
    OK(f->db, patron_merge_plan_new(f->db, &plan, s.j1, &s.j2, 1, PATRON_MERGE_SURVIVOR));
    OK(f->db, patron_db_review_merge(f->db, &jid, cid, plan, "anna"));
    patron_merge_plan_free(plan);
    c = get_case(f->db, cid);
    assert_int_equal(patron_case_member_count(c), 2);
    assert_int_equal(patron_case_pair_count(c), 1);
    for (size_t k = 0; k < patron_case_field_count(c, 0); k++) {
        const char *field, *lv;
        OK(f->db, patron_case_explain(c, &field, NULL, NULL, &lv, NULL, 0, k));
        if (strcmp(field, "email") == 0)
            level = lv;
    }
    assert_non_null(level);
    OK(f->db, patron_db_match_config_probability(f->db, &m_before, &u, "email", level));
    /* too few customers to estimate: the model in force learns from the
     * decision all the same */
    OK(f->db, patron_db_estimate(f->db, &r, NULL));
    CONTAINS(r.message, "1+0 decided pairs");
    assert_int_equal(r.stored, 1);
    OK(f->db, patron_db_match_config_probability(f->db, &m_after, &u, "email", level));
    print_message("m(email, %s): %.4f -> %.4f\n", level, m_before, m_after);
    assert_true(m_after > m_before);
    patron_case_free(c);
    /* the member left out is proposed again next to the survivor */
    scan(f->db, 0);
    c = get_case(f->db, only_open_case(f->db));
    {
        int64_t m0, m1;
        patron_case_member(c, &m0, 0);
        patron_case_member(c, &m1, 1);
        assert_true(m0 == s.j1 && m1 == j3);
    }
    patron_case_free(c);
}

/* ---- incremental scans read only what changed ------------------------------------ */

static patron_store_ops g_inner;
static long g_loads, g_forms, g_scans, g_lookups;

static int c_load(void *ctx, int64_t id, patron_customer *out)
{
    g_loads++;
    return g_inner.load(ctx, id, out);
}

static int c_scan(void *ctx, const patron_store_filter *flt, int64_t after, size_t limit, patron_emit_id_fn emit,
                  void *ectx)
{
    g_scans++;
    return g_inner.scan(ctx, flt, after, limit, emit, ectx);
}

static int c_form(void *ctx, int64_t id, const void **form, size_t *len)
{
    g_forms++;
    return g_inner.match_form_get(ctx, id, form, len);
}

static int c_lookup(void *ctx, int kind, const char *value, patron_emit_id_fn emit, void *ectx)
{
    g_lookups++;
    return g_inner.lookup(ctx, kind, value, emit, ectx);
}

static void test_incremental_touches_only_changed(void **state)
{
    tb_fx *f = *state;
    patron_store_ops ops;
    patron_db *counted = NULL;
    patron_review_scan_stats st;
    int64_t ids[120];
    long full_reads;
    enum { N = 120 };
    static const char *const streets[] = { "Amselweg", "Birkenallee", "Chausseestraße", "Dorfstraße" };
    for (int i = 0; i < N; i++) {
        char first[32], last[32], mail[64], nr[8], plz[8];
        snprintf(first, sizeof first, "Vorname%c%c", 'a' + i % 26, 'a' + i / 26);
        snprintf(last, sizeof last, "Nachname%c%c", 'a' + i / 26, 'a' + i % 26);
        snprintf(mail, sizeof mail, "kunde%d@example.de", i);
        snprintf(nr, sizeof nr, "%d", i + 1);
        snprintf(plz, sizeof plz, "%05d", 10000 + i * 37);
        ids[i] = fx_add(f->db, first, last, mail, streets[i % 4], nr, plz, "Berlin");
    }
    g_inner = *f->tb.ops;
    ops = g_inner;
    ops.destroy = NULL;
    ops.load = c_load;
    ops.scan = c_scan;
    ops.lookup = c_lookup;
    if (ops.match_form_get)
        ops.match_form_get = c_form;
    OK(f->db, patron_db_open(&counted, &ops, f->tb.ctx));

    g_loads = g_forms = g_scans = g_lookups = 0;
    st = scan(counted, 0);
    assert_int_equal(st.full, 1);
    assert_int_equal(st.customers, N);
    full_reads = g_loads + g_forms;
    assert_true(g_scans >= 1);
    assert_true(full_reads >= N);

    /* two customers change: the scan reads them and their few candidates */
    set_field(f->db, ids[10], PATRON_F_EMAIL, "neu10@example.de");
    set_field(f->db, ids[77], PATRON_F_PHONE, "+49 30 1234567");
    g_loads = g_forms = g_scans = g_lookups = 0;
    st = scan(counted, 0);
    assert_int_equal(st.full, 0);
    assert_int_equal(st.customers, 2);
    assert_int_equal(g_scans, 0); /* no walk over the customers */
    print_message("full scan: %ld reads of %d customers; incremental: %ld loads, %ld forms, %ld lookups\n",
                  full_reads, N, g_loads, g_forms, g_lookups);
    assert_true(g_loads + g_forms <= 2 + 2 * 12); /* each and at most a dozen candidates each */
    assert_true(g_lookups <= 2 * 16);
    /* nothing changed: nothing read */
    g_loads = g_forms = g_scans = g_lookups = 0;
    st = scan(counted, 0);
    assert_int_equal(st.customers, 0);
    assert_int_equal(g_loads + g_forms + g_scans + g_lookups, 0);
    patron_db_close(counted);
}

/* ---- bytes from the store are checked ------------------------------------------- */

static void put_meta(tb_fx *f, const char *key, const char *value)
{
    assert_int_equal(f->tb.ops->begin(f->tb.ctx), 0);
    assert_int_equal(f->tb.ops->meta_put(f->tb.ctx, key, value), 0);
    assert_int_equal(f->tb.ops->commit(f->tb.ctx), 0);
}

static void test_corrupt_case(void **state)
{
    tb_fx *f = *state;
    static const char *const bad[] = {
        "garbage",
        "patron-case 1\nstate\topen\n",                                       /* no members */
        "patron-case 1\nstate\tsleeping\nverdict\treview\nmember\t1\t-\nmember\t2\t-\n", /* unknown state */
        "patron-case 1\nstate\topen\nverdict\treview\nmember\t2\t-\nmember\t1\t-\n",     /* not ascending */
        "patron-case 1\nstate\topen\nverdict\treview\nmember\t1\t-\nmember\t2\t-\npair\t1\t3\t2.5\treview\n",
        "patron-case 1\nstate\topen\nverdict\treview\nmember\t1\t-\nmember\t2\t-\nscore\tNaN\n",
        "patron-case 1\nstate\topen\nverdict\treview\nmember\t1\tzz\nmember\t2\t-\n", /* bad fingerprint */
        "patron-case 1\nstate\topen\nverdict\treview\nmember\t1\t-\nmember\t2\t-\nnote\tbad\\q\n",
        "patron-case 1\nstate\topen\nverdict\treview\nmember\t1\t-\nmember\t2\t-\nfield\ta\tb\t1\tx\ty\n",
        "patron-case 1\nstate\topen\nverdict\treview\nmember\t99999999999999999999\t-\nmember\t2\t-\n",
    };
    patron_case *c = NULL;
    patron_cases *l = NULL;
    if (!f->tb.ops->meta_put) {
        skip();
        return;
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_meta(f, "review/case/00000000000000000001", bad[i]);
        EXPECT(f->db, PATRON_E_STORE, patron_db_review_get(f->db, &c, 1));
        assert_null(c);
        CONTAINS(patron_db_errmsg(f->db), "corrupt case 1");
        EXPECT(f->db, PATRON_E_STORE, patron_db_review_list(f->db, &l, PATRON_REVIEW_ALL));
        assert_null(l);
    }
    /* a good one, with a key a later version may add */
    put_meta(f, "review/case/00000000000000000001",
             "patron-case 1\nstate\topen\nverdict\treview\nscore\t2.5\nmember\t1\t-\nmember\t2\t-\n"
             "pair\t1\t2\t2.5\treview\nfield\tlast_name\texact\t4.25\tm\\tx\tmx\nfuture\tthing\n");
    OK(f->db, patron_db_review_get(f->db, &c, 1));
    assert_int_equal(patron_case_member_count(c), 2);
    {
        const char *va;
        double w;
        OK(f->db, patron_case_explain(c, NULL, &va, NULL, NULL, &w, 0, 0));
        assert_string_equal(va, "m\tx");
        assert_true(w == 4.25);
    }
    patron_case_free(c);
    /* a garbage member index does not break matching */
    put_meta(f, "review/member/00000000000000000001", "x\n-5\n1\n");
    {
        int64_t a = fx_add(f->db, "Jürgen", "Müller", NULL, "Hauptstraße", "12", "50667", "Köln");
        patron_customer *x = fx_load(f->db, a);
        patron_matches *m = NULL;
        OK(f->db, patron_db_match(f->db, &m, x, PATRON_MATCH_FIELDS));
        patron_matches_free(m);
        patron_customer_free(x);
    }
}

/* A store without meta callbacks has no queue. */
static void test_no_meta(void **state)
{
    tb_fx *f = *state;
    patron_store_ops ops = *f->tb.ops;
    patron_db *db = NULL;
    patron_cases *l = NULL;
    ops.destroy = NULL;
    ops.meta_get = NULL;
    ops.meta_put = NULL;
    ops.meta_scan = NULL;
    OK(f->db, patron_db_open(&db, &ops, f->tb.ctx));
    EXPECT(db, PATRON_E_UNSUPPORTED, patron_db_review_scan(db, NULL, NULL));
    EXPECT(db, PATRON_E_UNSUPPORTED, patron_db_review_list(db, &l, PATRON_REVIEW_ALL));
    {
        char *page = NULL;
        EXPECT(db, PATRON_E_UNSUPPORTED, patron_db_review_html(db, &page, 0));
        assert_null(page);
    }
    EXPECT(db, PATRON_E_UNSUPPORTED, patron_db_review_decide(db, 1, PATRON_CASE_DEFERRED, "anna", NULL));
    /* saves work as before without marks */
    fx_add(db, "Jürgen", "Müller", NULL, "Hauptstraße", "12", "50667", "Köln");
    patron_db_close(db);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scan_makes_cases, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_settings_change_rescans, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_list_best_first, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_review_html, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_not_duplicate_remembered, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_activation_respects_decision, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_auto_and_email_activation, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_decide_errors, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_queue_merge_and_undo, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_estimate_learns, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_incremental_touches_only_changed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_case, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_no_meta, fx_setup, fx_teardown),
    };
    tb_backend = tb_selected(argc, argv);
    return cmocka_run_group_tests_name(tb_backend, tests, NULL, NULL);
}
