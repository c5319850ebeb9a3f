/* patron_db_create_many() (issue 15): many creates in one transaction give
 * exactly what patron_db_create() one after the other gives — the same
 * refusals with the same messages, the same records, numbers, keys and
 * counter — on every store, the PostgreSQL store's bulk path (prefetch,
 * COPY at commit) included; a failure anywhere leaves the store as it was.
 * Run with the backend as argument (memory, sqlite, postgres). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"
#include "fixture.h"

#ifdef PATRON_TEST_HAVE_PG
#  include <libpq-fe.h>
#  include <patron/postgres.h>
#endif

static const char *g_backend = "memory";

/* ---- the input: rows that are created and rows that are refused ------------ */

#define N_ROWS 48

typedef struct spec {
    const char *first, *last, *email, *number, *ext, *login;
} spec;

/* Seeded before: K000001 (auto), K000003 (manual, external E1, login
 * taken), K000002 (auto). */
static const spec rows[N_ROWS] = {
    { "Anna", "Abel", "anna@example.de", NULL, "E2", NULL },
    { "Bernd", "Bauer", "bernd@example.de", "K000006", NULL, NULL }, /* in the counter's way */
    { "Carla", "Cramer", "not an email", NULL, NULL, NULL },         /* INVALID */
    { "Dora", "Dietz", "dora@example.de", NULL, "E1", NULL },         /* external taken before */
    { "Emil", "Engel", "emil@example.de", NULL, "E7", "emil" },
    { "Frida", "Fink", "frida@example.de", NULL, "E7", NULL },       /* external taken in the batch */
    { "Gustav", "Graf", "gustav@example.de", "K000003", NULL, NULL }, /* number taken before */
    { "Hanna", "Horn", "hanna@example.de", NULL, NULL, "taken" },    /* login taken before */
    { "Ida", "Imhof", "ida@example.de", "K000004", NULL, "ida" },     /* K000004 free: the counter skips it */
    { "Jonas", "Jung", "jonas@example.de", NULL, NULL, "emil" },     /* login taken in the batch */
    { "Karl", "Kurz", "karl@example.de", "K000004", NULL, "karl" },  /* number taken in the batch */
    { "Lena", "Lang", "lena@example.de", NULL, NULL, "karl" },       /* karl was refused: free */
    { "Max", "Mustermann", "max@example.de", NULL, NULL, NULL },
    { "Max", "Mustermann", "max@example.de", NULL, NULL, NULL },     /* a duplicate person is no refusal */
    { "Nina", "Neu", "nina@example.de", "K000008", NULL, NULL },     /* an auto number before got it? see below */
    { "Otto", "Ober", "otto@example.de", NULL, "E8", NULL },
    { "Paula", "Pohl", "paula@example.de", "K000900", NULL, NULL },
    { "Quirin", "Quast", "quirin@example.de", "K000900", NULL, NULL }, /* taken in the batch */
    { "Rosa", "Rot", "rosa@example.de", NULL, NULL, NULL },
    { "Sven", "Sommer", "sven@example.de", NULL, "E9", "sven" },
};

static spec row_at(size_t i)
{
    spec s;
    static char first[N_ROWS][16], last[N_ROWS][24], email[N_ROWS][48];
    if (rows[i].first)
        return rows[i];
    /* the rest: plain new customers with automatic numbers, a few with
     * external references, one with a bad birth date */
    snprintf(first[i], sizeof first[i], "Vorname%zu", i);
    snprintf(last[i], sizeof last[i], "Nachname%zu", i % 7);
    snprintf(email[i], sizeof email[i], "v%zu@example.org", i);
    memset(&s, 0, sizeof s);
    s.first = first[i];
    s.last = last[i];
    s.email = email[i];
    if (i % 5 == 0)
        s.ext = email[i];
    if (i == 40)
        s.email = "broken@"; /* INVALID */
    if (i == 44)
        s.ext = email[40]; /* the refused row's reference: free */
    return s;
}

static patron_customer *make(size_t i)
{
    spec s = row_at(i);
    patron_customer *c = fx_person(s.first, s.last, NULL, "Hauptstraße", "12a", "10115", "Berlin");
    if (s.email)
        patron_customer_set(c, PATRON_F_EMAIL, s.email); /* may fail (bad value): create refuses */
    if (s.number)
        assert_int_equal(patron_customer_set(c, PATRON_F_NUMBER, s.number), PATRON_OK);
    if (s.ext) {
        assert_int_equal(patron_customer_set(c, PATRON_F_EXTERNAL_SOURCE, "shop"), PATRON_OK);
        assert_int_equal(patron_customer_set(c, PATRON_F_EXTERNAL_ID, s.ext), PATRON_OK);
    }
    if (s.login)
        assert_int_equal(patron_customer_set(c, PATRON_F_LOGIN_USER, s.login), PATRON_OK);
    assert_int_equal(patron_customer_tag_add(c, "import"), PATRON_OK);
    assert_int_equal(patron_customer_prop_set(c, "row", s.first), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_NEWSLETTER, i % 2 ? "1" : "0"), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_NOTES, "line one\nline\ttwo \\ back"), PATRON_OK);
    return c;
}

/* A bad email is refused by patron_customer_set() already: such a row gets
 * a rule across fields instead, checked only on save (company billing
 * without company and VAT ID). */
static patron_customer *make_row(size_t i)
{
    patron_customer *c = make(i);
    spec s = row_at(i);
    if (s.email && !strchr(s.email, '.'))
        assert_int_equal(patron_customer_address_set(c, 0, PATRON_A_BILLING, "company"), PATRON_OK);
    return c;
}

static void seed(patron_db *db)
{
    patron_customer *c = fx_person("Seed", "Eins", "seed1@example.de", "Weg", "1", "20095", "Hamburg");
    OK(db, patron_db_create(db, c));
    patron_customer_free(c);
    c = fx_person("Seed", "Zwei", "seed2@example.de", "Weg", "2", "20095", "Hamburg");
    assert_int_equal(patron_customer_set(c, PATRON_F_NUMBER, "K000003"), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_EXTERNAL_SOURCE, "shop"), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_EXTERNAL_ID, "E1"), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_LOGIN_USER, "taken"), PATRON_OK);
    OK(db, patron_db_create(db, c));
    patron_customer_free(c);
    c = fx_person("Seed", "Drei", "seed3@example.de", "Weg", "3", "20095", "Hamburg");
    OK(db, patron_db_create(db, c));
    patron_customer_free(c);
}

/* ---- what a store holds, without the clock --------------------------------- */

static const char *const probe_numbers[] = { "K000001", "K000002", "K000003", "K000004", "K000005", "K000006",
                                             "K000007", "K000008", "K000009", "K000010", "K000040", "K000041",
                                             "K000042", "K000043", "K000900", NULL };

static char *fingerprint(test_backend *tb)
{
    patron_key probes[N_ROWS * 3 + 1];
    size_t n = 0;
    char *fp;
    static char ext[N_ROWS][64];
    for (size_t i = 0; i < N_ROWS; i++) {
        spec s = row_at(i);
        if (s.email)
            probes[n++] = (patron_key){ PATRON_KEY_EMAIL, s.email };
        if (s.ext) {
            snprintf(ext[i], sizeof ext[i], "shop\x1f%s", s.ext);
            probes[n++] = (patron_key){ PATRON_KEY_EXTERNAL, ext[i] };
        }
        if (s.login)
            probes[n++] = (patron_key){ PATRON_KEY_LOGIN, s.login };
    }
    probes[n] = (patron_key){ 0, NULL };
    fp = store_fingerprint(tb, probes, probe_numbers);
    /* the records' times are the clock's: created_at, updated_at and the
     * consent's time are packed as 10 decimal digits after their length
     * (escaped "\x0a\x00\x00\x00"): blank them */
    for (char *p = fp; (p = strstr(p, "\\x0a\\x00\\x00\\x00")) != NULL;) {
        size_t d = 0;
        p += 16;
        while (p[d] >= '0' && p[d] <= '9')
            d++;
        if (d == 10)
            memset(p, '#', d);
    }
    return fp;
}

typedef struct outcome {
    patron_status st[N_ROWS];
    char msg[N_ROWS][160];
} outcome;

static void on_refused(void *payload, size_t index, patron_status status, const char *message)
{
    outcome *o = payload;
    assert_true(index < N_ROWS);
    assert_int_equal(o->st[index], PATRON_OK); /* once per row */
    o->st[index] = status;
    snprintf(o->msg[index], sizeof o->msg[index], "%s", message);
}

/* The ids of the seeded records differ by store run: compare what the
 * caller's records became by number and id. */
static void record_line(char *out, size_t cap, const patron_customer *c)
{
    const char *num = patron_customer_get(c, PATRON_F_NUMBER);
    snprintf(out, cap, "id %lld number %s state %s", (long long)patron_customer_id(c), num ? num : "-",
             patron_state_name(patron_customer_state(c)));
}

static void test_same_as_per_row(void **state)
{
    test_backend a, b;
    patron_db *da, *dbb;
    patron_customer *ca[N_ROWS], *cb[N_ROWS];
    outcome oa, ob;
    size_t created = 0, n_ok = 0;
    char *fa, *fb;
    (void)state;

    memset(&oa, 0, sizeof oa);
    memset(&ob, 0, sizeof ob);
    assert_int_equal(tb_open(&a, g_backend), 0);
    assert_int_equal(tb_open(&b, g_backend), 0);
    da = tb_db(&a);
    dbb = tb_db(&b);
    seed(da);
    seed(dbb);
    for (size_t i = 0; i < N_ROWS; i++) {
        ca[i] = make_row(i);
        cb[i] = make_row(i);
    }
    /* row 47: a record saved before (PATRON_E_STATE) */
    OK(da, patron_db_create(da, ca[47]));
    OK(dbb, patron_db_create(dbb, cb[47]));

    /* one after the other */
    for (size_t i = 0; i < N_ROWS; i++) {
        patron_status st = patron_db_create(da, ca[i]);
        if (st != PATRON_OK) {
            oa.st[i] = st;
            snprintf(oa.msg[i], sizeof oa.msg[i], "%s", patron_db_errmsg(da));
        } else {
            n_ok++;
        }
    }
    /* all at once */
    OK(dbb, patron_db_create_many(dbb, &created, cb, N_ROWS, on_refused, &ob));
    assert_int_equal(created, n_ok);
    assert_true(n_ok > 20 && n_ok < N_ROWS - 8); /* both kinds are there */
    for (size_t i = 0; i < N_ROWS; i++) {
        char la[200], lb[200];
        if (oa.st[i] != ob.st[i] || strcmp(oa.msg[i], ob.msg[i]) != 0)
            fail_msg("row %zu: per row %s \"%s\", many %s \"%s\"", i, patron_status_name(oa.st[i]), oa.msg[i],
                     patron_status_name(ob.st[i]), ob.msg[i]);
        record_line(la, sizeof la, ca[i]);
        record_line(lb, sizeof lb, cb[i]);
        assert_string_equal(la, lb);
    }
    /* the refusals expected by the table above */
    assert_int_equal(ob.st[2], PATRON_E_INVALID);
    assert_int_equal(ob.st[3], PATRON_E_EXISTS);
    assert_int_equal(ob.st[5], PATRON_E_EXISTS);
    assert_int_equal(ob.st[6], PATRON_E_EXISTS);
    assert_int_equal(ob.st[7], PATRON_E_EXISTS);
    assert_int_equal(ob.st[9], PATRON_E_EXISTS);
    assert_int_equal(ob.st[10], PATRON_E_EXISTS);
    assert_int_equal(ob.st[11], PATRON_OK);
    assert_int_equal(ob.st[17], PATRON_E_EXISTS);
    assert_int_equal(ob.st[40], PATRON_E_INVALID);
    assert_int_equal(ob.st[44], PATRON_OK);
    assert_int_equal(ob.st[47], PATRON_E_STATE);
    assert_string_equal(patron_customer_get(cb[8], PATRON_F_NUMBER), "K000004");

    fa = fingerprint(&a);
    fb = fingerprint(&b);
    assert_string_equal(fa, fb);
    free(fa);
    free(fb);
    for (size_t i = 0; i < N_ROWS; i++) {
        patron_customer_free(ca[i]);
        patron_customer_free(cb[i]);
    }
    patron_db_close(da);
    patron_db_close(dbb);
    tb_close(&a);
    tb_close(&b);
}

/* Customer groups: a row without a group joins the default group, a row
 * naming a group that does not exist is refused — as one by one. */
static void test_groups(void **state)
{
    static const char *const groups[] = { NULL, "Handel", "Nope", NULL, "Stamm", "Handel" };
    enum { N = sizeof groups / sizeof groups[0] };
    test_backend a, b;
    patron_db *da, *dbb;
    patron_customer *ca[N], *cb[N];
    outcome oa, ob;
    size_t created = 0;
    char *fa, *fb;
    (void)state;

    memset(&oa, 0, sizeof oa);
    memset(&ob, 0, sizeof ob);
    assert_int_equal(tb_open(&a, g_backend), 0);
    assert_int_equal(tb_open(&b, g_backend), 0);
    da = tb_db(&a);
    dbb = tb_db(&b);
    OK(da, patron_db_group_add(da, "Stamm"));
    OK(da, patron_db_group_add(da, "Handel"));
    OK(dbb, patron_db_group_add(dbb, "Stamm"));
    OK(dbb, patron_db_group_add(dbb, "Handel"));
    for (size_t i = 0; i < N; i++) {
        ca[i] = make_row(20 + i);
        cb[i] = make_row(20 + i);
        if (groups[i]) {
            assert_int_equal(patron_customer_set(ca[i], PATRON_F_GROUP, groups[i]), PATRON_OK);
            assert_int_equal(patron_customer_set(cb[i], PATRON_F_GROUP, groups[i]), PATRON_OK);
        }
        if (patron_db_create(da, ca[i]) != PATRON_OK) {
            oa.st[i] = PATRON_E_INVALID;
            snprintf(oa.msg[i], sizeof oa.msg[i], "%s", patron_db_errmsg(da));
        }
    }
    OK(dbb, patron_db_create_many(dbb, &created, cb, N, on_refused, &ob));
    assert_int_equal(created, N - 1);
    assert_int_equal(ob.st[2], PATRON_E_INVALID);
    assert_string_equal(ob.msg[2], oa.msg[2]);
    assert_string_equal(patron_customer_get(cb[0], PATRON_F_GROUP), "Stamm");
    assert_string_equal(patron_customer_get(cb[1], PATRON_F_GROUP), "Handel");
    fa = fingerprint(&a);
    fb = fingerprint(&b);
    assert_string_equal(fa, fb);
    free(fa);
    free(fb);
    for (size_t i = 0; i < N; i++) {
        patron_customer_free(ca[i]);
        patron_customer_free(cb[i]);
    }
    patron_db_close(da);
    patron_db_close(dbb);
    tb_close(&a);
    tb_close(&b);
}

/* A failure at every callback of the call: the store and the records as
 * before; then the call without a failure works. */
static void test_faults(void **state)
{
    test_backend tb;
    patron_db *plain;
    fault_store fs;
    patron_db *db;
    char *before;
    long n;
    (void)state;

    assert_int_equal(tb_open(&tb, g_backend), 0);
    plain = tb_db(&tb);
    seed(plain);
    before = fingerprint(&tb);
    assert_non_null(db = fault_db(&fs, &tb));
    for (n = 1; n < 100000; n++) {
        patron_customer *cs[N_ROWS];
        size_t created = 99;
        patron_status st;
        char *after;
        for (size_t i = 0; i < N_ROWS; i++)
            cs[i] = make_row(i);
        bool failed;
        fault_arm(&fs, n);
        st = patron_db_create_many(db, &created, cs, N_ROWS, NULL, NULL);
        failed = fs.failed;
        fault_arm(&fs, 0);
        if (!failed) {
            OK(db, st);
            assert_true(created > 20);
            for (size_t i = 0; i < N_ROWS; i++)
                patron_customer_free(cs[i]);
            break;
        }
        if (st != PATRON_E_STORE)
            fail_msg("failure at callback %ld: status %s, want PATRON_E_STORE", n,
                     patron_status_name(st));
        assert_int_equal(created, 0);
        for (size_t i = 0; i < N_ROWS; i++) {
            assert_int_equal(patron_customer_id(cs[i]), 0);
            patron_customer_free(cs[i]);
        }
        after = fingerprint(&tb);
        if (strcmp(before, after) != 0)
            fail_msg("failure at callback %ld changed the store", n);
        free(after);
    }
    assert_true(n > 40); /* every row's callbacks were swept */
    free(before);
    patron_db_close(db);
    patron_db_close(plain);
    tb_close(&tb);
}

static void test_arguments(void **state)
{
    test_backend tb;
    patron_db *db;
    patron_customer *cs[3];
    size_t created = 7;
    char *before, *after;
    (void)state;

    assert_int_equal(tb_open(&tb, g_backend), 0);
    db = tb_db(&tb);
    seed(db);
    before = fingerprint(&tb);
    cs[0] = make_row(0);
    cs[1] = make_row(1);
    cs[2] = cs[0];
    assert_int_equal(patron_db_create_many(NULL, &created, cs, 2, NULL, NULL), PATRON_E_INVALID);
    assert_int_equal(patron_db_create_many(db, NULL, cs, 2, NULL, NULL), PATRON_E_INVALID);
    assert_int_equal(patron_db_create_many(db, &created, NULL, 2, NULL, NULL), PATRON_E_INVALID);
    assert_int_equal(created, 0);
    assert_int_equal(patron_db_create_many(db, &created, cs, 3, NULL, NULL), PATRON_E_INVALID);
    assert_non_null(strstr(patron_db_errmsg(db), "twice"));
    assert_int_equal(patron_db_create_many(db, &created, cs, (size_t)PATRON_CREATE_MANY_MAX + 1, NULL, NULL),
                     PATRON_E_RANGE);
    created = 7;
    OK(db, patron_db_create_many(db, &created, cs, 0, NULL, NULL));
    assert_int_equal(created, 0);
    after = fingerprint(&tb);
    assert_string_equal(before, after);
    assert_int_equal(patron_customer_id(cs[0]), 0);
    free(before);
    free(after);
    patron_customer_free(cs[0]);
    patron_customer_free(cs[1]);
    patron_db_close(db);
    tb_close(&tb);
}

#ifdef PATRON_TEST_HAVE_PG
/* ---- PostgreSQL: the tables themselves, and a COPY that fails at commit ---- */

/* A digest of every table the create path writes, timestamps blanked. */
static char *pg_tables(PGconn *c, const char *schema)
{
    static const char *const q[] = {
        "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM (SELECT kind, value, customer_id FROM "
        "\"%s\".patron_customer_keys) t",
        "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"%s\".patron_key_counts t",
        "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"%s\".patron_used_numbers t",
        "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"%s\".patron_counters t",
        "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"%s\".patron_match_forms t",
        "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"%s\".patron_customer_addresses t",
        "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"%s\".patron_customer_tags t",
        "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"%s\".patron_customer_properties t",
        "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM (SELECT customer_id, address_position, field,"
        " CASE WHEN value ~ '^[0-9]{10}$' THEN '#' ELSE value END FROM \"%s\".patron_customer_extra) t",
        "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM (SELECT id, number, state, first_name, "
        "last_name, email, notes, login_user, external_id, revision FROM \"%s\".patron_customers) t",
        "SELECT count(*) || ' keys, ' || sum(n) || ' counted' FROM (SELECT n FROM \"%s\".patron_key_counts) t",
    };
    char sql[600], *out = calloc(1, 4096);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        PGresult *r;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(sql, sizeof sql, q[i], schema); /* q: the constant table above */
#pragma GCC diagnostic pop
        r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            fail_msg("%s: %s", sql, PQerrorMessage(c));
        strcat(out, PQgetisnull(r, 0, 0) ? "NULL" : PQgetvalue(r, 0, 0));
        strcat(out, "\n");
        PQclear(r);
    }
    return out;
}

static void test_pg_tables(void **state)
{
    test_backend a, b;
    patron_db *da, *dbb;
    patron_customer *ca[N_ROWS], *cb[N_ROWS];
    size_t created = 0;
    char *ta, *tb2;
    PGconn *c;
    (void)state;

    if (strcmp(g_backend, "postgres") != 0)
        skip();
    assert_int_equal(tb_open(&a, g_backend), 0);
    assert_int_equal(tb_open(&b, g_backend), 0);
    da = tb_db(&a);
    dbb = tb_db(&b);
    seed(da);
    seed(dbb);
    for (size_t i = 0; i < N_ROWS; i++) {
        ca[i] = make_row(i);
        cb[i] = make_row(i);
        (void)patron_db_create(da, ca[i]);
    }
    OK(dbb, patron_db_create_many(dbb, &created, cb, N_ROWS, NULL, NULL));
    /* both schemas are on one server: read them on a's connection */
    c = patron_pg_handle(a.ctx);
    ta = pg_tables(c, a.pg_schema);
    tb2 = pg_tables(c, b.pg_schema);
    assert_string_equal(ta, tb2);
    assert_null(strstr(ta, "NULL\n0 keys")); /* there is something to compare */
    free(ta);
    free(tb2);
    for (size_t i = 0; i < N_ROWS; i++) {
        patron_customer_free(ca[i]);
        patron_customer_free(cb[i]);
    }
    patron_db_close(da);
    patron_db_close(dbb);
    tb_close(&a);
    tb_close(&b);
}

/* The gathered rows are written at commit: a row the server refuses then
 * (here a CHECK of the test's own) fails the whole call, and nothing of it
 * stays; the counter and the claimed numbers included. */
static void test_pg_commit_fails(void **state)
{
    test_backend tb;
    patron_db *db;
    patron_customer *cs[N_ROWS];
    size_t created = 5;
    char *before, *after, sql[300];
    PGconn *c;
    PGresult *r;
    (void)state;

    if (strcmp(g_backend, "postgres") != 0)
        skip();
    assert_int_equal(tb_open(&tb, g_backend), 0);
    db = tb_db(&tb);
    seed(db);
    c = patron_pg_handle(tb.ctx); /* the store's connection, between its transactions */
    snprintf(sql, sizeof sql, "ALTER TABLE \"%s\".patron_customers ADD CHECK (first_name <> 'Rosa')", tb.pg_schema);
    r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    before = fingerprint(&tb);
    for (size_t i = 0; i < N_ROWS; i++)
        cs[i] = make_row(i);
    assert_int_equal(patron_db_create_many(db, &created, cs, N_ROWS, NULL, NULL), PATRON_E_STORE);
    assert_non_null(strstr(patron_db_errmsg(db), "COPY customers"));
    assert_int_equal(created, 0);
    for (size_t i = 0; i < N_ROWS; i++)
        assert_int_equal(patron_customer_id(cs[i]), 0);
    after = fingerprint(&tb);
    assert_string_equal(before, after);
    /* the handle works on */
    OK(db, patron_db_create(db, cs[0]));
    free(before);
    free(after);
    for (size_t i = 0; i < N_ROWS; i++)
        patron_customer_free(cs[i]);
    patron_db_close(db);
    tb_close(&tb);
}
#endif

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_per_row),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_arguments),
#ifdef PATRON_TEST_HAVE_PG
        cmocka_unit_test(test_pg_tables),
        cmocka_unit_test(test_pg_commit_fails),
#endif
    };
    g_backend = tb_selected(argc, argv);
    return cmocka_run_group_tests_name(g_backend, tests, NULL, NULL);
}
