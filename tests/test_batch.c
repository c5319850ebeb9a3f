/* The lean batch path (patron/batch.h) against the store path: the same
 * customers created in a memory store and deduplicated with
 * patron_db_dedupe, and added to a batch and run — the same refusals with
 * the same messages, the same ids and numbers, the same pairs, scores,
 * decisions, clusters and households.  On the generator's data (a CSV
 * path as the first argument) and on rows with bad values.
 *
 *   test_batch GENERATED.csv */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <patron/batch.h>
#include <patron/memory.h>

#include "csv.h"

static const char *csv_path;

enum { C_ID, C_FIRST, C_LAST, C_COMPANY, C_STREET, C_POSTAL, C_CITY, C_COUNTRY, C_EMAIL, C_PHONE, C_BIRTH,
       C_NUMBER, C_LOGIN, C_BILLING, C_N };

/* One row as a customer: field values by column (NULL: not set). */
static patron_customer *make(const char *const v[C_N])
{
    static const int fields[C_N] = { PATRON_F_EXTERNAL_ID, PATRON_F_FIRST_NAME, PATRON_F_LAST_NAME,
                                     PATRON_F_COMPANY, -1, -1, -1, -1, PATRON_F_EMAIL, PATRON_F_PHONE,
                                     PATRON_F_BIRTH_DATE, PATRON_F_NUMBER, PATRON_F_LOGIN_USER, -1 };
    patron_customer *c;
    size_t a;
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    /* the setters check too: a refused value stays unset here, and the
     * stores see the same customer either way */
    for (int i = 0; i < C_N; i++)
        if (fields[i] > 0 && v[i] && v[i][0])
            (void)patron_customer_set(c, fields[i], v[i]);
    if (v[C_STREET] || v[C_POSTAL] || v[C_CITY]) {
        assert_int_equal(patron_customer_address_add(c, &a), PATRON_OK);
        (void)patron_customer_address_set(c, a, PATRON_A_STREET, v[C_STREET]);
        (void)patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, v[C_POSTAL]);
        (void)patron_customer_address_set(c, a, PATRON_A_CITY, v[C_CITY]);
        if (v[C_COUNTRY] && v[C_COUNTRY][0])
            (void)patron_customer_address_set(c, a, PATRON_A_COUNTRY, v[C_COUNTRY]);
        if (v[C_BILLING])
            assert_int_equal(patron_customer_address_set(c, a, PATRON_A_BILLING, v[C_BILLING]), PATRON_OK);
    }
    return c;
}

/* A customer created in the store, waiting for its batch twin to be added
 * with others through patron_batch_add_many. */
typedef struct pend {
    patron_customer *c2;
    patron_status s1;
    int64_t id1;
    char *num1, *msg1;
} pend;

typedef struct both {
    patron_db *db, *cfg;
    patron_batch *b;
    size_t created, refused;
    /* patron_batch_add_many: the rows waiting, and the part sizes to
     * send them in (cycled; 1 means patron_batch_add) */
    pend *p;
    size_t n_p, part;
    size_t n_many, n_single;
} both;

static const size_t part_sizes[] = { 1, 700, 9000, 5, 1, 2500, 20000 };

static void both_open(both *t)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(patron_db_open_memory(&t->db, NULL), PATRON_OK);
    assert_int_equal(patron_db_open_memory(&t->cfg, NULL), PATRON_OK);
    assert_int_equal(patron_batch_new(&t->b, t->cfg), PATRON_OK);
}

/* The row into both; the outcomes must agree. */
static void both_add(both *t, const char *const v[C_N])
{
    patron_customer *c1 = make(v), *c2 = make(v);
    patron_status s1 = patron_db_create(t->db, c1), s2 = patron_batch_add(t->b, c2);
    assert_int_equal(s2, s1);
    if (s1 == PATRON_OK) {
        const char *n1 = patron_customer_get(c1, PATRON_F_NUMBER), *n2 = patron_customer_get(c2, PATRON_F_NUMBER);
        assert_true(patron_customer_id(c1) == patron_customer_id(c2));
        assert_non_null(n1);
        assert_non_null(n2);
        assert_string_equal(n2, n1);
        assert_string_equal(patron_batch_errmsg(t->b), "");
        t->created++;
    } else {
        assert_string_equal(patron_batch_errmsg(t->b), patron_db_errmsg(t->db));
        t->refused++;
    }
    patron_customer_free(c1);
    patron_customer_free(c2);
}

/* Send the waiting rows to the batch in the next part: the same outcomes,
 * messages, ids and numbers as create gave them one by one. */
static void both_flush(both *t)
{
    size_t want = part_sizes[t->part % (sizeof part_sizes / sizeof part_sizes[0])];
    patron_customer **cs = calloc(t->n_p + 1, sizeof *cs);
    patron_status *st = calloc(t->n_p + 1, sizeof *st);
    assert_non_null(cs);
    assert_non_null(st);
    t->part++;
    for (size_t i = 0; i < t->n_p; i++)
        cs[i] = t->p[i].c2;
    if (want == 1 && t->n_p == 1) {
        st[0] = patron_batch_add(t->b, cs[0]);
        if (st[0] != PATRON_OK)
            assert_string_equal(patron_batch_errmsg(t->b), t->p[0].msg1);
        t->n_single++;
    } else {
        assert_int_equal(patron_batch_add_many(t->b, cs, t->n_p, st), PATRON_OK);
        assert_string_equal(patron_batch_errmsg(t->b), "");
        t->n_many += t->n_p;
    }
    for (size_t i = 0; i < t->n_p; i++) {
        pend *p = &t->p[i];
        assert_int_equal(st[i], p->s1);
        if (p->s1 == PATRON_OK) {
            assert_true(patron_customer_id(p->c2) == p->id1);
            assert_string_equal(patron_customer_get(p->c2, PATRON_F_NUMBER), p->num1);
            t->created++;
        } else {
            assert_int_equal(patron_customer_id(p->c2), 0);
            if (!(want == 1 && t->n_p == 1))
                assert_string_equal(patron_customer_errmsg(p->c2), p->msg1);
            t->refused++;
        }
        patron_customer_free(p->c2);
        free(p->num1);
        free(p->msg1);
    }
    t->n_p = 0;
    free(cs);
    free(st);
}

/* The row into the store now, into the batch with the next part. */
static void both_add_later(both *t, const char *const v[C_N])
{
    patron_customer *c1 = make(v);
    pend *p;
    if (!t->p) {
        t->p = calloc(20000, sizeof *t->p);
        assert_non_null(t->p);
    }
    p = &t->p[t->n_p++];
    p->c2 = make(v);
    p->s1 = patron_db_create(t->db, c1);
    p->id1 = patron_customer_id(c1);
    p->num1 = strdup(p->s1 == PATRON_OK ? patron_customer_get(c1, PATRON_F_NUMBER) : "");
    p->msg1 = strdup(p->s1 == PATRON_OK ? "" : patron_db_errmsg(t->db));
    patron_customer_free(c1);
    if (t->n_p == part_sizes[t->part % (sizeof part_sizes / sizeof part_sizes[0])])
        both_flush(t);
}

/* Both results, pair by pair, cluster by cluster. */
static size_t both_compare(both *t, patron_match_mode mode)
{
    patron_pairs *p1, *p2;
    size_t n;
    assert_int_equal(patron_db_dedupe(t->db, &p1, mode), PATRON_OK);
    assert_int_equal(patron_batch_run(t->b, &p2, mode), PATRON_OK);
    n = patron_pairs_count(p1);
    assert_int_equal(patron_pairs_count(p2), n);
    for (size_t i = 0; i < n; i++) {
        int64_t a1, b1, a2, b2;
        double s1, s2;
        patron_decision d1, d2;
        assert_int_equal(patron_pairs_get(p1, &a1, &b1, &s1, &d1, i), PATRON_OK);
        assert_int_equal(patron_pairs_get(p2, &a2, &b2, &s2, &d2, i), PATRON_OK);
        assert_true(a1 == a2 && b1 == b2);
        assert_true(s1 == s2);
        assert_int_equal(d2, d1);
        assert_true(patron_pairs_cluster(p1, a1) == patron_pairs_cluster(p2, a1));
        assert_true(patron_pairs_household(p1, b1) == patron_pairs_household(p2, b1));
    }
    /* once per batch */
    patron_pairs_free(p2);
    assert_int_equal(patron_batch_run(t->b, &p2, mode), PATRON_E_STATE);
    assert_null(p2);
    patron_pairs_free(p1);
    return n;
}

static void both_close(both *t)
{
    free(t->p);
    patron_batch_free(t->b);
    patron_db_close(t->db);
    patron_db_close(t->cfg);
}

/* Every row of the generator's file, and every 40th row again with a
 * fault: a date that is none, a broken email, the previous row's id, a
 * login or number given twice, a number the counter gives later, a
 * company's billing address without a company.  (A value the setters refuse never reaches
 * either: both see the customer without it.) */
static void run_file_ex(patron_match_mode mode, bool faults, int copies, bool many, size_t *pairs_out,
                        size_t *refused_out);
static void run_file(patron_match_mode mode, bool faults, size_t *pairs_out, size_t *refused_out)
{
    run_file_ex(mode, faults, 1, false, pairs_out, refused_out);
}

/* With copies > 1 the file's rows again and again (ids given a suffix);
 * with many through patron_batch_add_many in parts of part_sizes. */
static void run_file_ex(patron_match_mode mode, bool faults, int copies, bool many, size_t *pairs_out,
                        size_t *refused_out)
{
    FILE *fp = NULL;
    csv_reader *r = NULL;
    csv_record rec;
    int col[C_N];
    static const char *const names[C_N] = { "id", "first_name", "last_name", "company", "street", "postal_code",
                                            "city", "country", "email", "phone", "birth_date", "number", "login",
                                            "billing" };
    char prev_id[64] = "", idbuf[80];
    size_t row = 0;
    int copy = 0;
    both t;
    both_open(&t);
    for (;;) {
        const char *v[C_N];
        char num[32], login[32];
        int k;
        if (!r) {
            if (copy == copies)
                break;
            copy++;
            fp = fopen(csv_path, "rb");
            assert_non_null(fp);
            assert_true(csv_reader_open(&r, fp, ',') >= 0);
            assert_true(csv_read(r, &rec) > 0);
            for (int i = 0; i < C_N; i++) {
                col[i] = -1;
                for (size_t j = 0; j < rec.n; j++)
                    if (strcmp(rec.fields[j], names[i]) == 0)
                        col[i] = (int)j;
            }
        }
        k = csv_read(r, &rec);
        assert_true(k >= 0);
        if (k == 0) {
            csv_reader_free(r);
            fclose(fp);
            r = NULL;
            continue;
        }
        if (rec.error)
            continue;
        for (int i = 0; i < C_N; i++)
            v[i] = col[i] >= 0 && (size_t)col[i] < rec.n ? rec.fields[col[i]] : NULL;
        if (copy > 1 && v[C_ID] && v[C_ID][0]) {
            snprintf(idbuf, sizeof idbuf, "%s-%d", v[C_ID], copy);
            v[C_ID] = idbuf;
        }
        row++;
        if (faults && row % 40 == 0) {
            switch ((row / 40) % 7) {
            case 0: v[C_BIRTH] = "1984-19-05"; break;
            case 1: v[C_EMAIL] = "not an address"; break;
            case 2: v[C_ID] = prev_id; break;
            case 3: /* a login twice: the second time refused */
                snprintf(login, sizeof login, "user%zu", row / 80);
                v[C_LOGIN] = login;
                break;
            case 4: /* a number the counter will reach: it skips it */
                snprintf(num, sizeof num, "%06zu", row + 3);
                v[C_NUMBER] = num;
                break;
            case 5: /* a number given before */
                v[C_NUMBER] = "000002";
                break;
            case 6: /* a company's billing address without a company: refused
                     * by create's check of the whole record */
                v[C_BILLING] = "company";
                v[C_COMPANY] = NULL;
                break;
            }
        }
        if (many)
            both_add_later(&t, v);
        else
            both_add(&t, v);
        if (v[C_ID] && v[C_ID] != prev_id)
            snprintf(prev_id, sizeof prev_id, "%s", v[C_ID]);
    }
    if (t.n_p)
        both_flush(&t);
    if (many) /* both ways, and a part of more than one chunk (8192) */
        assert_true(t.n_single > 0 && t.n_many > 9000);
    assert_true(t.created > 1000);
    assert_int_equal(patron_batch_count(t.b), t.created);
    *pairs_out = both_compare(&t, mode);
    *refused_out = t.refused;
    both_close(&t);
}

static void test_generated_fields(void **state)
{
    size_t pairs, refused;
    (void)state;
    run_file(PATRON_MATCH_FIELDS, false, &pairs, &refused);
    assert_true(pairs > 100); /* the generator's duplicates are found */
    assert_int_equal(refused, 0);
    printf("generated data, field mode: %zu pairs, identical\n", pairs);
}

static void test_generated_email(void **state)
{
    size_t pairs, refused;
    (void)state;
    run_file(PATRON_MATCH_EMAIL, false, &pairs, &refused);
    assert_true(pairs > 10);
    printf("generated data, email mode: %zu pairs, identical\n", pairs);
}

static void test_bad_rows(void **state)
{
    size_t pairs, refused;
    (void)state;
    run_file(PATRON_MATCH_FIELDS, true, &pairs, &refused);
    assert_true(refused > 10);
    assert_true(pairs > 100);
    printf("with bad rows: %zu refused alike, %zu pairs, identical\n", refused, pairs);
}

/* patron_batch_add_many: the file three times over (more than one chunk
 * of 8192 in one call, on all cores), with the faults, in parts of
 * several sizes mixed with single adds: each customer's outcome, message,
 * id and number as create gives them one by one, and the same pairs. */
static void test_many(void **state)
{
    size_t pairs, refused;
    (void)state;
    run_file_ex(PATRON_MATCH_FIELDS, true, 3, true, &pairs, &refused);
    assert_true(refused > 30);
    assert_true(pairs > 300);
    printf("add_many, three copies with bad rows: %zu refused alike, %zu pairs, identical\n", refused, pairs);
}

/* patron_batch_add_many's own refusals. */
static void test_many_args(void **state)
{
    patron_db *db;
    patron_batch *b;
    patron_customer *c[4];
    patron_status st[4];
    patron_pairs *p;
    (void)state;
    assert_int_equal(patron_db_open_memory(&db, NULL), PATRON_OK);
    assert_int_equal(patron_batch_new(&b, db), PATRON_OK);
    assert_int_equal(patron_batch_add_many(NULL, c, 1, st), PATRON_E_INVALID);
    assert_int_equal(patron_batch_add_many(b, NULL, 1, st), PATRON_E_INVALID);
    assert_int_equal(patron_batch_add_many(b, c, 1, NULL), PATRON_E_INVALID);
    assert_int_equal(patron_batch_add_many(b, NULL, 0, NULL), PATRON_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(patron_customer_new(&c[i]), PATRON_OK);
        assert_int_equal(patron_customer_set(c[i], PATRON_F_FIRST_NAME, "Josef"), PATRON_OK);
        assert_int_equal(patron_customer_set(c[i], PATRON_F_LAST_NAME, "Huber"), PATRON_OK);
        assert_int_equal(patron_customer_set(c[i], PATRON_F_EMAIL, "josef.huber@example.de"), PATRON_OK);
    }
    /* the same customer twice: nothing added */
    {
        patron_customer *twice[3] = { c[0], c[1], c[0] };
        assert_int_equal(patron_batch_add_many(b, twice, 3, st), PATRON_E_INVALID);
        assert_string_equal(patron_batch_errmsg(b), "the same customer is given twice");
        assert_int_equal(patron_batch_count(b), 0);
        assert_int_equal(patron_customer_id(c[0]), 0);
    }
    /* a NULL customer, one saved before, and a whole-record refusal: each
     * its own result, the others added in order */
    {
        patron_customer *mixed[4] = { c[0], NULL, c[1], c[2] };
        size_t a;
        assert_int_equal(patron_customer_address_add(c[2], &a), PATRON_OK);
        assert_int_equal(patron_customer_address_set(c[2], a, PATRON_A_BILLING, "company"), PATRON_OK);
        assert_int_equal(patron_batch_add(b, c[1]), PATRON_OK); /* id 1 */
        assert_int_equal(patron_batch_add_many(b, mixed, 4, st), PATRON_OK);
        assert_int_equal(st[0], PATRON_OK);
        assert_int_equal(st[1], PATRON_E_INVALID);
        assert_int_equal(st[2], PATRON_E_STATE);
        assert_string_equal(patron_customer_errmsg(c[1]), "this customer was saved before; use patron_db_update");
        assert_int_equal(st[3], PATRON_E_INVALID);
        assert_string_equal(patron_customer_errmsg(c[2]), "address 1 bills a company but no company name is given");
        assert_int_equal(patron_customer_id(c[2]), 0);
        assert_true(patron_customer_id(c[1]) == 1 && patron_customer_id(c[0]) == 2);
        assert_string_equal(patron_customer_get(c[0], PATRON_F_NUMBER), "K000002");
        assert_int_equal(patron_batch_count(b), 2);
    }
    /* a number the counter gave is taken (as in a store); one it has not
     * reached yet is not, and the counter then skips it */
    {
        static const char *const nums[] = { "K000002", "K2", "K000004", "K000004", NULL };
        static const patron_status want[] = { PATRON_E_EXISTS, PATRON_OK, PATRON_OK, PATRON_E_EXISTS, PATRON_OK };
        patron_customer *d[5];
        patron_status ds[5];
        for (int i = 0; i < 5; i++) {
            assert_int_equal(patron_customer_new(&d[i]), PATRON_OK);
            assert_int_equal(patron_customer_set(d[i], PATRON_F_LAST_NAME, "Zeller"), PATRON_OK);
            if (nums[i])
                assert_int_equal(patron_customer_set(d[i], PATRON_F_NUMBER, nums[i]), PATRON_OK);
        }
        assert_int_equal(patron_batch_add_many(b, d, 5, ds), PATRON_OK);
        for (int i = 0; i < 5; i++)
            assert_int_equal(ds[i], want[i]);
        assert_string_equal(patron_customer_errmsg(d[0]),
                            "customer number K000002 is taken or was given before; numbers are never reused");
        assert_string_equal(patron_customer_get(d[4], PATRON_F_NUMBER), "K000003");
        assert_int_equal(patron_customer_set(d[0], PATRON_F_NUMBER, NULL), PATRON_OK);
        assert_int_equal(patron_batch_add(b, d[0]), PATRON_OK); /* K000004 is taken: skipped */
        assert_string_equal(patron_customer_get(d[0], PATRON_F_NUMBER), "K000005");
        assert_int_equal(patron_batch_count(b), 6);
        for (int i = 0; i < 5; i++)
            patron_customer_free(d[i]);
    }
    assert_int_equal(patron_batch_run(b, &p, PATRON_MATCH_FIELDS), PATRON_OK);
    assert_int_equal(patron_pairs_count(p), 1); /* the two Hubers (the Zellers have no keys) */
    patron_pairs_free(p);
    assert_int_equal(patron_batch_add_many(b, &c[3], 1, st), PATRON_E_STATE);
    assert_int_equal(patron_customer_id(c[3]), 0);
    for (int i = 0; i < 4; i++)
        patron_customer_free(c[i]);
    patron_batch_free(b);
    patron_db_close(db);
}

/* A customer patron_customer_validate passed and that changed after: the
 * batch checks it again (an unchecked value through patron_record_set, an
 * address added and set); one unchanged since is taken. */
static void test_validated_then_changed(void **state)
{
    patron_db *db;
    patron_batch *b;
    patron_customer *c[3];
    patron_status st[3];
    size_t a;
    (void)state;
    assert_int_equal(patron_db_open_memory(&db, NULL), PATRON_OK);
    assert_int_equal(patron_batch_new(&b, db), PATRON_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(patron_customer_new(&c[i]), PATRON_OK);
        assert_int_equal(patron_customer_set(c[i], PATRON_F_LAST_NAME, "Huber"), PATRON_OK);
        assert_int_equal(patron_customer_set(c[i], PATRON_F_EMAIL, "josef.huber@example.de"), PATRON_OK);
        assert_int_equal(patron_customer_validate(c[i]), PATRON_OK);
    }
    assert_int_equal(patron_record_set(c[0], PATRON_F_EMAIL, "no address"), PATRON_OK);
    assert_int_equal(patron_customer_address_add(c[1], &a), PATRON_OK);
    assert_int_equal(patron_customer_address_set(c[1], a, PATRON_A_BILLING, "company"), PATRON_OK);
    assert_int_equal(patron_batch_add_many(b, c, 3, st), PATRON_OK);
    assert_int_equal(st[0], PATRON_E_INVALID);
    assert_string_equal(patron_customer_errmsg(c[0]), "email is not a valid email address");
    assert_int_equal(st[1], PATRON_E_INVALID);
    assert_string_equal(patron_customer_errmsg(c[1]), "address 1 bills a company but no company name is given");
    assert_int_equal(st[2], PATRON_OK);
    assert_int_equal(patron_batch_count(b), 1);
    for (int i = 0; i < 3; i++)
        patron_customer_free(c[i]);
    patron_batch_free(b);
    patron_db_close(db);
}

/* Declared identifiers come from the store the batch was made from. */
static void test_identifier_config(void **state)
{
    patron_db *db, *cfg;
    patron_batch *b;
    patron_pairs *p1, *p2;
    const char *const rows[3][3] = { { "Anna", "Schmidt", "K-1" }, { "Anne", "Schmitt", "K-1" },
                                     { "Berta", "Huber", "K-2" } };
    (void)state;
    assert_int_equal(patron_db_open_memory(&db, NULL), PATRON_OK);
    assert_int_equal(patron_db_open_memory(&cfg, NULL), PATRON_OK);
    assert_int_equal(patron_db_match_config_identifier_add(db, "card"), PATRON_OK);
    assert_int_equal(patron_db_match_config_identifier_add(cfg, "card"), PATRON_OK);
    assert_int_equal(patron_batch_new(&b, cfg), PATRON_OK);
    for (int i = 0; i < 3; i++) {
        patron_customer *c1, *c2;
        size_t a;
        assert_int_equal(patron_customer_new(&c1), PATRON_OK);
        assert_int_equal(patron_customer_set(c1, PATRON_F_FIRST_NAME, rows[i][0]), PATRON_OK);
        assert_int_equal(patron_customer_set(c1, PATRON_F_LAST_NAME, rows[i][1]), PATRON_OK);
        assert_int_equal(patron_customer_prop_set(c1, "card", rows[i][2]), PATRON_OK);
        assert_int_equal(patron_customer_address_add(c1, &a), PATRON_OK);
        assert_int_equal(patron_customer_address_set(c1, a, PATRON_A_CITY, i == 1 ? "Bonn" : "Köln"), PATRON_OK);
        assert_int_equal(patron_customer_clone(c1, &c2), PATRON_OK);
        assert_int_equal(patron_db_create(db, c1), PATRON_OK);
        assert_int_equal(patron_batch_add(b, c2), PATRON_OK);
        patron_customer_free(c1);
        patron_customer_free(c2);
    }
    assert_int_equal(patron_db_dedupe(db, &p1, PATRON_MATCH_FIELDS), PATRON_OK);
    assert_int_equal(patron_batch_run(b, &p2, PATRON_MATCH_FIELDS), PATRON_OK);
    assert_true(patron_pairs_count(p1) >= 1); /* found through the card alone */
    assert_int_equal(patron_pairs_count(p2), patron_pairs_count(p1));
    for (size_t i = 0; i < patron_pairs_count(p1); i++) {
        int64_t a1, b1, a2, b2;
        double s1, s2;
        assert_int_equal(patron_pairs_get(p1, &a1, &b1, &s1, NULL, i), PATRON_OK);
        assert_int_equal(patron_pairs_get(p2, &a2, &b2, &s2, NULL, i), PATRON_OK);
        assert_true(a1 == a2 && b1 == b2 && s1 == s2);
    }
    /* no more adds after the run */
    {
        patron_customer *c;
        assert_int_equal(patron_customer_new(&c), PATRON_OK);
        assert_int_equal(patron_batch_add(b, c), PATRON_E_STATE);
        assert_int_equal(patron_customer_id(c), 0);
        patron_customer_free(c);
    }
    patron_pairs_free(p1);
    patron_pairs_free(p2);
    patron_batch_free(b);
    patron_db_close(db);
    patron_db_close(cfg);
}

static void test_empty_and_null(void **state)
{
    patron_db *db;
    patron_batch *b;
    patron_pairs *p;
    (void)state;
    assert_int_equal(patron_db_open_memory(&db, NULL), PATRON_OK);
    assert_int_equal(patron_batch_new(NULL, db), PATRON_E_INVALID);
    assert_int_equal(patron_batch_new(&b, NULL), PATRON_E_INVALID);
    assert_null(b);
    assert_int_equal(patron_batch_new(&b, db), PATRON_OK);
    assert_int_equal(patron_batch_add(b, NULL), PATRON_E_INVALID);
    assert_int_equal(patron_batch_run(b, NULL, PATRON_MATCH_FIELDS), PATRON_E_INVALID);
    assert_int_equal(patron_batch_run(b, &p, (patron_match_mode)7), PATRON_E_INVALID);
    assert_int_equal(patron_batch_run(b, &p, PATRON_MATCH_FIELDS), PATRON_OK);
    assert_int_equal(patron_pairs_count(p), 0);
    patron_pairs_free(p);
    patron_batch_free(b);
    patron_batch_free(NULL);
    patron_db_close(db);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_fields), cmocka_unit_test(test_generated_email),
        cmocka_unit_test(test_bad_rows),         cmocka_unit_test(test_identifier_config),
        cmocka_unit_test(test_empty_and_null),   cmocka_unit_test(test_many),
        cmocka_unit_test(test_many_args),        cmocka_unit_test(test_validated_then_changed),
    };
    if (argc < 2) {
        fprintf(stderr, "usage: test_batch GENERATED.csv\n");
        return 2;
    }
    csv_path = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
