/* The lean batch path (patron/batch.h) against the store path: the same
 * customers created in a memory store and deduplicated with
 * patron_db_dedupe, and added to a batch and run — the same refusals with
 * the same messages, the same ids and numbers, the same pairs, scores,
 * decisions, clusters and households.  On the generator's data (a CSV
 * path as the first argument) and on rows with bad values.
 *
 *   test_batch GENERATED.csv */
#include <pthread.h>
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


/* ---- rows: patron_batch_add_rows, patron_batch_check_row ------------------- */

/* A value of a row, NUL-terminated (its length taken here). */
static patron_batch_value val(int field, const char *key, const char *v)
{
    patron_batch_value x;
    x.field = field;
    x.key = key;
    x.value = v;
    x.len = v ? strlen(v) : 0;
    return x;
}

/* The customer a row stands for, made by the setters in the row's order:
 * the first refusal stops it (*st, its message in *msg, the value's index
 * + 1 in *at); NULL customer then. */
static patron_customer *row_customer(const patron_batch_value *v, size_t n, patron_status *st, char *msg,
                                     size_t *at)
{
    patron_customer *c;
    size_t a = (size_t)-1;
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    *st = PATRON_OK;
    *at = 0;
    msg[0] = '\0';
    for (size_t i = 0; i < n && *st == PATRON_OK; i++) {
        const char *x = v[i].len ? v[i].value : NULL;
        if (v[i].field == PATRON_BATCH_TAG) {
            *st = patron_customer_tag_add(c, v[i].value ? v[i].value : "");
        } else if (v[i].field == PATRON_BATCH_PROPERTY) {
            *st = patron_customer_prop_set(c, v[i].key, x);
        } else if (v[i].field > PATRON_BATCH_ADDRESS && v[i].field < PATRON_BATCH_TAG) {
            if (a == (size_t)-1)
                assert_int_equal(patron_customer_address_add(c, &a), PATRON_OK);
            *st = patron_customer_address_set(c, a, v[i].field - PATRON_BATCH_ADDRESS, x);
        } else {
            *st = patron_customer_set(c, v[i].field, x);
        }
        if (*st != PATRON_OK) {
            *at = i + 1;
            snprintf(msg, 256, "%s", patron_customer_errmsg(c));
        }
    }
    if (*st != PATRON_OK) {
        patron_customer_free(c);
        return NULL;
    }
    return c;
}

/* Rows against the store: each row also made a customer by the setters
 * and created; outcomes, messages, ids and numbers compared when the rows
 * are sent (in parts of row_parts), and checked by
 * patron_batch_check_row alike. */
typedef struct rowset {
    patron_batch_value v[C_N + 4];
    size_t n;
    char bufs[C_N][80];
    patron_status s1;
    size_t at1;
    int64_t id1;
    char num1[80], msg1[256];
} rowset;

/* the sizes of the parts rows are sent in: one row, more than a chunk
 * (8192), a few */
static const size_t row_parts[] = { 1, 8300, 7, 700 };

typedef struct rows_t {
    patron_db *db, *cfg;
    patron_batch *b;
    rowset *p;
    size_t n_p, part, created, refused, by_value, sent;
} rows_t;

static void rows_flush(rows_t *t)
{
    patron_batch_row *r = calloc(t->n_p + 1, sizeof *r);
    assert_non_null(r);
    for (size_t i = 0; i < t->n_p; i++) {
        patron_batch_row init = PATRON_BATCH_ROW_INIT;
        r[i] = init;
        r[i].values = t->p[i].v;
        r[i].n_values = t->p[i].n;
        r[i].status = PATRON_E_STORE; /* (written over) */
    }
    t->part++;
    assert_int_equal(patron_batch_add_rows(t->b, r, t->n_p), PATRON_OK);
    assert_string_equal(patron_batch_errmsg(t->b), "");
    for (size_t i = 0; i < t->n_p; i++) {
        rowset *p = &t->p[i];
        assert_int_equal(r[i].status, p->s1);
        if (p->s1 == PATRON_OK) {
            assert_true(r[i].id == p->id1);
            assert_string_equal(r[i].number, p->num1);
            assert_string_equal(r[i].errmsg, "");
            assert_int_equal(r[i].refused, 0);
            t->created++;
        } else {
            assert_true(r[i].id == 0);
            assert_string_equal(r[i].number, "");
            assert_string_equal(r[i].errmsg, p->msg1);
            assert_int_equal(r[i].refused, p->at1);
            t->refused++;
            t->by_value += p->at1 > 0;
        }
    }
    t->sent += t->n_p;
    t->n_p = 0;
    free(r);
}

static void rows_add(rows_t *t, const char *const v[C_N])
{
    static const int fields[C_N] = { PATRON_F_EXTERNAL_ID, PATRON_F_FIRST_NAME, PATRON_F_LAST_NAME,
                                     PATRON_F_COMPANY, PATRON_BATCH_ADDRESS + PATRON_A_STREET,
                                     PATRON_BATCH_ADDRESS + PATRON_A_POSTAL_CODE,
                                     PATRON_BATCH_ADDRESS + PATRON_A_CITY, PATRON_BATCH_ADDRESS + PATRON_A_COUNTRY,
                                     PATRON_F_EMAIL, PATRON_F_PHONE, PATRON_F_BIRTH_DATE, PATRON_F_NUMBER,
                                     PATRON_F_LOGIN_USER, PATRON_BATCH_ADDRESS + PATRON_A_BILLING };
    rowset *p;
    patron_customer *c;
    patron_batch_row chk = PATRON_BATCH_ROW_INIT;
    if (!t->p) {
        t->p = calloc(20000, sizeof *t->p);
        assert_non_null(t->p);
    }
    p = &t->p[t->n_p++];
    p->n = 0;
    for (int i = 0; i < C_N; i++)
        if (v[i] && v[i][0]) {
            snprintf(p->bufs[i], sizeof p->bufs[i], "%s", v[i]); /* the caller's may change */
            p->v[p->n++] = val(fields[i], NULL, p->bufs[i]);
        }
    c = row_customer(p->v, p->n, &p->s1, p->msg1, &p->at1);
    if (c) {
        p->s1 = patron_db_create(t->db, c);
        snprintf(p->msg1, sizeof p->msg1, "%s", p->s1 == PATRON_OK ? "" : patron_db_errmsg(t->db));
        p->id1 = patron_customer_id(c);
        snprintf(p->num1, sizeof p->num1, "%s", p->s1 == PATRON_OK ? patron_customer_get(c, PATRON_F_NUMBER) : "");
        patron_customer_free(c);
    }
    /* the check alone: the same verdict on the values (not on uniqueness) */
    chk.values = p->v;
    chk.n_values = p->n;
    {
        patron_status cs = patron_batch_check_row(t->b, &chk);
        assert_int_equal(cs, chk.status);
    }
    if (p->at1 || p->s1 == PATRON_E_INVALID) {
        assert_int_equal(chk.status, p->s1);
        assert_string_equal(chk.errmsg, p->msg1);
        assert_int_equal(chk.refused, p->at1);
    } else {
        assert_int_equal(chk.status, PATRON_OK);
    }
    if (t->n_p == row_parts[t->part % (sizeof row_parts / sizeof row_parts[0])])
        rows_flush(t);
}

/* The generator's file twice over (ids given a suffix the second time)
 * as rows, with faults every 30th row — values the setters refuse now
 * refuse the row (a date that is none, a broken email, a control
 * character, a country that is none), and those of create (an id, login
 * or number given twice, a company's billing address without a company):
 * each row's outcome, message, value refused, id and number as the setters
 * and create give them, and the same pairs as patron_db_dedupe. */
static void test_rows_file(void **state)
{
    FILE *fp = NULL;
    csv_reader *r = NULL;
    csv_record rec;
    int col[C_N];
    static const char *const names[C_N] = { "id", "first_name", "last_name", "company", "street", "postal_code",
                                            "city", "country", "email", "phone", "birth_date", "number", "login",
                                            "billing" };
    char prev_id[64] = "", idbuf[80], num[32], login[32];
    size_t row = 0, pairs;
    int copy = 0;
    rows_t t;
    both x;
    (void)state;
    memset(&t, 0, sizeof t);
    assert_int_equal(patron_db_open_memory(&t.db, NULL), PATRON_OK);
    assert_int_equal(patron_db_open_memory(&t.cfg, NULL), PATRON_OK);
    assert_int_equal(patron_batch_new(&t.b, t.cfg), PATRON_OK);
    for (;;) {
        const char *v[C_N];
        int k;
        if (!r) {
            if (copy == 2)
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
        if (row % 30 == 0) {
            switch ((row / 30) % 10) {
            case 0: v[C_BIRTH] = "1984-19-05"; break;
            case 1: v[C_EMAIL] = "not an address"; break;
            case 2: v[C_ID] = prev_id; break;
            case 3:
                snprintf(login, sizeof login, "user%zu", row / 60);
                v[C_LOGIN] = login;
                break;
            case 4:
                snprintf(num, sizeof num, "%06zu", row + 3);
                v[C_NUMBER] = num;
                break;
            case 5: v[C_NUMBER] = "000002"; break;
            case 6:
                v[C_BILLING] = "company";
                v[C_COMPANY] = NULL;
                break;
            case 7: v[C_CITY] = "Ber\tlin"; break;
            case 8: v[C_COUNTRY] = "Nowhere"; break;
            case 9: v[C_EMAIL] = "  Anna.Huber@Example.DE "; break; /* taken, trimmed */
            }
        }
        rows_add(&t, v);
        if (v[C_ID] && v[C_ID] != prev_id)
            snprintf(prev_id, sizeof prev_id, "%s", v[C_ID]);
    }
    if (t.n_p)
        rows_flush(&t);
    assert_true(t.created > 1000);
    assert_true(t.refused > 50 && t.by_value > 20);
    assert_true(t.part >= 3 && t.sent > 8301); /* parts of one row and one of more than a chunk (8192) */
    assert_int_equal(patron_batch_count(t.b), t.created);
    /* the same pairs: both_compare over the rows' store and batch */
    memset(&x, 0, sizeof x);
    x.db = t.db;
    x.b = t.b;
    pairs = both_compare(&x, PATRON_MATCH_FIELDS);
    assert_true(pairs > 100);
    printf("rows: %zu added, %zu refused alike (%zu for a value), %zu pairs, identical\n", t.created, t.refused,
           t.by_value, pairs);
    free(t.p);
    patron_batch_free(t.b);
    patron_db_close(t.db);
    patron_db_close(t.cfg);
}

/* Every kind of value a row takes, refused as its setter refuses it, and
 * the row API's own refusals: nothing added, nothing of the batch
 * changed. */
static void test_rows_refused(void **state)
{
    patron_db *db;
    patron_batch *b;
    patron_pairs *p;
    char bad_len[] = "ab\0cd";
    struct {
        patron_batch_value v[4];
        size_t n;
    } cases[] = {
        { { val(PATRON_F_EMAIL, NULL, "a@b") }, 1 },
        { { val(PATRON_F_LAST_NAME, NULL, "Huber"), val(PATRON_F_BIRTH_DATE, NULL, "1984-19-05") }, 2 },
        { { val(PATRON_F_STATE, NULL, "active") }, 1 },
        { { val(PATRON_F__END, NULL, "x") }, 1 },
        { { val(0, NULL, "x") }, 1 },
        { { val(PATRON_BATCH_ADDRESS + PATRON_A_CITY, NULL, "Köln"), val(PATRON_BATCH_ADDRESS + PATRON_A_COUNTRY,
                                                                          NULL, "Nowhere") }, 2 },
        { { val(PATRON_BATCH_ADDRESS + PATRON_A_BILLING, NULL, "firm") }, 1 },
        { { val(PATRON_BATCH_ADDRESS + PATRON_A__END, NULL, "x") }, 1 },
        { { val(PATRON_BATCH_TAG, NULL, "") }, 1 },
        { { val(PATRON_BATCH_TAG, NULL, "a\x01") }, 1 },
        { { val(PATRON_BATCH_PROPERTY, "bad key", "1") }, 1 },
        { { val(PATRON_BATCH_PROPERTY, NULL, "1") }, 1 },
        { { val(PATRON_BATCH_PROPERTY, "card", "\xff") }, 1 },
        { { val(PATRON_F_VAT_ID, NULL, "12"), val(PATRON_F_B2B, NULL, "vielleicht") }, 2 },
        { { val(PATRON_F_LAST_NAME, NULL, "Huber"), val(PATRON_BATCH_ADDRESS + PATRON_A_BILLING, NULL, "company"),
            val(PATRON_F_COMPANY, NULL, "Huber GmbH") }, 3 },  /* no VAT ID: the row as a whole */
        { { val(PATRON_F_LANGUAGE, NULL, "german") }, 1 },
    };
    (void)state;
    assert_int_equal(patron_db_open_memory(&db, NULL), PATRON_OK);
    assert_int_equal(patron_batch_new(&b, db), PATRON_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        patron_batch_row r = PATRON_BATCH_ROW_INIT, c = PATRON_BATCH_ROW_INIT;
        patron_status want;
        size_t at;
        char msg[256];
        patron_customer *cu = row_customer(cases[i].v, cases[i].n, &want, msg, &at);
        if (cu) { /* refused by create's check of the whole record */
            patron_customer *copy;
            assert_int_equal(patron_customer_clone(cu, &copy), PATRON_OK);
            want = patron_db_create(db, copy);
            snprintf(msg, sizeof msg, "%s", patron_db_errmsg(db));
            patron_customer_free(copy);
            patron_customer_free(cu);
        }
        assert_int_equal(want, PATRON_E_INVALID);
        r.values = c.values = cases[i].v;
        r.n_values = c.n_values = cases[i].n;
        assert_int_equal(patron_batch_check_row(b, &c), want);
        assert_string_equal(c.errmsg, msg);
        assert_int_equal(c.refused, at);
        assert_int_equal(patron_batch_add_rows(b, &r, 1), PATRON_OK);
        assert_int_equal(r.status, want);
        assert_string_equal(r.errmsg, msg);
        assert_int_equal(r.refused, at);
        assert_true(r.id == 0 && r.number[0] == '\0');
        assert_int_equal(patron_batch_count(b), 0);
    }
    /* a value whose length is not the one given (a NUL inside) */
    {
        patron_batch_value v[2] = { val(PATRON_F_LAST_NAME, NULL, "Huber"), { PATRON_F_FIRST_NAME, NULL, bad_len, 5 } };
        patron_batch_row r = PATRON_BATCH_ROW_INIT;
        r.values = v;
        r.n_values = 2;
        assert_int_equal(patron_batch_check_row(b, &r), PATRON_E_INVALID);
        assert_int_equal(r.refused, 2);
        assert_non_null(strstr(r.errmsg, "value 2"));
        v[1].len = 2; /* "ab": taken */
        assert_int_equal(patron_batch_check_row(b, &r), PATRON_OK);
        assert_string_equal(r.errmsg, "");
        v[1].len = 0; /* "ab" said to be empty */
        assert_int_equal(patron_batch_check_row(b, &r), PATRON_E_INVALID);
        assert_int_equal(r.refused, 2);
        v[1].value = "abc"; /* longer than said */
        v[1].len = 2;
        assert_int_equal(patron_batch_check_row(b, &r), PATRON_E_INVALID);
        assert_non_null(strstr(r.errmsg, "length"));
        v[1].value = NULL; /* NULL with a length */
        v[1].len = 3;
        assert_int_equal(patron_batch_check_row(b, &r), PATRON_E_INVALID);
        r.values = NULL; /* values missing */
        assert_int_equal(patron_batch_check_row(b, &r), PATRON_E_INVALID);
        assert_int_equal(r.refused, 0);
    }
    /* the call's own refusals: nothing added, no row written */
    {
        patron_batch_value v[1] = { val(PATRON_F_LAST_NAME, NULL, "Huber") };
        patron_batch_row r[2] = { PATRON_BATCH_ROW_INIT, PATRON_BATCH_ROW_INIT };
        r[0].values = r[1].values = v;
        r[0].n_values = r[1].n_values = 1;
        r[0].status = r[1].status = PATRON_E_STORE;
        assert_int_equal(patron_batch_add_rows(NULL, r, 1), PATRON_E_INVALID);
        assert_int_equal(patron_batch_add_rows(b, NULL, 1), PATRON_E_INVALID);
        assert_int_equal(patron_batch_add_rows(b, NULL, 0), PATRON_OK);
        assert_int_equal(patron_batch_check_row(NULL, r), PATRON_E_INVALID);
        assert_int_equal(patron_batch_check_row(b, NULL), PATRON_E_INVALID);
        r[1].version = 2;
        assert_int_equal(patron_batch_add_rows(b, r, 2), PATRON_E_ABI);
        assert_non_null(strstr(patron_batch_errmsg(b), "version"));
        r[0].version = 99;
        r[1].version = 99;
        assert_int_equal(patron_batch_add_rows(b, r, 2), PATRON_E_ABI);
        assert_int_equal(patron_batch_check_row(b, r), PATRON_E_ABI);
        assert_int_equal(r[0].status, PATRON_E_STORE); /* not written */
        assert_int_equal(r[1].status, PATRON_E_STORE);
        assert_int_equal(patron_batch_count(b), 0);
        /* rows and customers mix, in order */
        r[0].version = r[1].version = PATRON_BATCH_ROW_VERSION;
        {
            patron_customer *c;
            assert_int_equal(patron_customer_new(&c), PATRON_OK);
            assert_int_equal(patron_customer_set(c, PATRON_F_LAST_NAME, "Huber"), PATRON_OK);
            assert_int_equal(patron_batch_add(b, c), PATRON_OK); /* id 1, K000001 */
            patron_customer_free(c);
        }
        assert_int_equal(patron_batch_add_rows(b, r, 2), PATRON_OK);
        assert_true(r[0].id == 2 && r[1].id == 3);
        assert_string_equal(r[1].number, "K000003");
        assert_int_equal(patron_batch_count(b), 3);
        assert_int_equal(patron_batch_run(b, &p, PATRON_MATCH_FIELDS), PATRON_OK);
        patron_pairs_free(p);
        r[0].status = PATRON_E_STORE;
        assert_int_equal(patron_batch_add_rows(b, r, 1), PATRON_E_STATE);
        assert_int_equal(r[0].status, PATRON_E_STORE);
    }
    patron_batch_free(b);
    patron_db_close(db);
}

/* The score of the one pair of two rows that differ only in their birth
 * dates (the first given as as_kind), on a batch of db; -1 with no pair. */
static double birth_pair_score(patron_db *db, int as_kind, const char *birth_a, const char *birth_b,
                               patron_decision *dec)
{
    patron_batch *b;
    patron_pairs *p;
    double score = -1;
    patron_batch_value va[5] = { val(PATRON_F_FIRST_NAME, NULL, "Wiebke"), val(PATRON_F_LAST_NAME, NULL, "Quandtmann"),
                                 val(PATRON_BATCH_ADDRESS + PATRON_A_POSTAL_CODE, NULL, "24103"),
                                 val(PATRON_BATCH_ADDRESS + PATRON_A_CITY, NULL, "Kiel"), val(as_kind, NULL, birth_a) };
    patron_batch_value vb[5] = { va[0], va[1], va[2], va[3], val(PATRON_F_BIRTH_DATE, NULL, birth_b) };
    patron_batch_row r[2] = { PATRON_BATCH_ROW_INIT, PATRON_BATCH_ROW_INIT };
    r[0].values = va;
    r[1].values = vb;
    r[0].n_values = r[1].n_values = 5;
    assert_int_equal(patron_batch_new(&b, db), PATRON_OK);
    assert_int_equal(patron_batch_add_rows(b, r, 2), PATRON_OK);
    assert_int_equal(r[0].status, PATRON_OK);
    assert_int_equal(r[1].status, PATRON_OK);
    assert_int_equal(patron_batch_run(b, &p, PATRON_MATCH_FIELDS), PATRON_OK);
    if (patron_pairs_count(p) == 1)
        assert_int_equal(patron_pairs_get(p, NULL, NULL, &score, dec, 0), PATRON_OK);
    patron_pairs_free(p);
    patron_batch_free(b);
    return score;
}

/* A birth date that is no real date, given as such (issue 11: "a batch
 * dedupe of a file may compare a value that the store would refuse"). */
static void test_birth_as_given(void **state)
{
    patron_db *db, *up, *down;
    patron_batch *b;
    patron_customer *c;
    patron_decision d_up = PATRON_DECISION_DISTINCT, d_down = PATRON_DECISION_DISTINCT, d;
    double s_up, s_down, s_none, s_real;
    static const char *const taken[] = { "1993-18-19", "19931819", "19.18.1993", "19/18/1993", "1993/18/19",
                                         "1993.02.30", "2000-00-05", "1990-02-29", "1987-04-31", "31-13-1987" };
    static const char *const refused[] = { "1993-10-19", "19931019", "19.10.1993", "2000-02-29", /* real dates */
                                           "1993-18-1", "93-18-19", "1993-18/19", "1993-18-19 ", " 1993-18-19",
                                           "1993-1a-19", "199318190", "1993-00-00", "1899-13-01", "2999-13-01",
                                           "Montag", "1993--18-19" };
    (void)state;
    assert_int_equal(patron_db_open_memory(&db, NULL), PATRON_OK);
    assert_int_equal(patron_batch_new(&b, db), PATRON_OK);
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
        patron_batch_value v[2] = { val(PATRON_F_LAST_NAME, NULL, "Huber"), val(PATRON_BATCH_BIRTH_AS_GIVEN, NULL, taken[i]) };
        patron_batch_row r = PATRON_BATCH_ROW_INIT;
        r.values = v;
        r.n_values = 2;
        if (patron_batch_check_row(b, &r) != PATRON_OK)
            fail_msg("%s refused: %s", taken[i], r.errmsg);
        /* the setters and create keep refusing it */
        assert_int_equal(patron_customer_new(&c), PATRON_OK);
        assert_int_equal(patron_customer_set(c, PATRON_F_BIRTH_DATE, taken[i]), PATRON_E_INVALID);
        patron_customer_free(c);
    }
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        patron_batch_value v[2] = { val(PATRON_F_LAST_NAME, NULL, "Huber"), val(PATRON_BATCH_BIRTH_AS_GIVEN, NULL, refused[i]) };
        patron_batch_row r = PATRON_BATCH_ROW_INIT;
        r.values = v;
        r.n_values = 2;
        if (patron_batch_check_row(b, &r) != PATRON_E_INVALID)
            fail_msg("%s taken as given", refused[i]);
        assert_int_equal(r.refused, 2);
        assert_non_null(strstr(r.errmsg, "birth date as given"));
        if (i < 4) /* a real date: said so */
            assert_non_null(strstr(r.errmsg, "no real date"));
        assert_int_equal(patron_batch_add_rows(b, &r, 1), PATRON_OK);
        assert_int_equal(r.status, PATRON_E_INVALID);
    }
    assert_int_equal(patron_batch_count(b), 0);
    /* an empty value clears the birth date, a later real one replaces it */
    {
        patron_batch_value v[3] = { val(PATRON_F_LAST_NAME, NULL, "Huber"), val(PATRON_BATCH_BIRTH_AS_GIVEN, NULL, ""),
                                    val(PATRON_F_BIRTH_DATE, NULL, "1993-10-19") };
        patron_batch_row r = PATRON_BATCH_ROW_INIT;
        r.values = v;
        r.n_values = 3;
        assert_int_equal(patron_batch_check_row(b, &r), PATRON_OK);
    }
    patron_batch_free(b);
    /* create keeps refusing it, and a store never holds it */
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_LAST_NAME, "Huber"), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_BIRTH_DATE, "1902-78-03"), PATRON_E_INVALID);
    assert_int_equal(patron_db_create(db, c), PATRON_OK);
    assert_null(patron_customer_get(c, PATRON_F_BIRTH_DATE));
    patron_customer_free(c);

    /* compared: 1993-18-19 against 1993-10-19 is one digit off, the level
     * "partial" - a batch whose partial birth date weighs +13 scores the
     * pair 13 higher than without the date, one where it weighs -13 lower */
    assert_int_equal(patron_db_open_memory(&up, NULL), PATRON_OK);
    assert_int_equal(patron_db_open_memory(&down, NULL), PATRON_OK);
    assert_int_equal(patron_db_match_config_set_probability(up, "birth_date", "partial", 0.99, 0.0001), PATRON_OK);
    assert_int_equal(patron_db_match_config_set_probability(down, "birth_date", "partial", 0.0001, 0.99), PATRON_OK);
    s_up = birth_pair_score(up, PATRON_BATCH_BIRTH_AS_GIVEN, "1993-18-19", "1993-10-19", &d_up);
    s_down = birth_pair_score(down, PATRON_BATCH_BIRTH_AS_GIVEN, "1993-18-19", "1993-10-19", &d_down);
    s_none = birth_pair_score(db, PATRON_BATCH_BIRTH_AS_GIVEN, "", "1993-10-19", &d);
    s_real = birth_pair_score(up, PATRON_F_BIRTH_DATE, "1993-10-19", "1971-03-02", &d); /* level "different" */
    print_message("birth as given: partial +13 %.4f, -13 %.4f; none %.4f; a real other date %.4f\n", s_up, s_down,
                  s_none, s_real);
    assert_true(s_none > 0);
    /* exactly the partial level's weight log2(0.99 / 0.0001) = 13.273 */
    assert_true(s_up - s_none > 13.223 && s_up - s_none < 13.323 && d_up == PATRON_DECISION_MERGE);
    assert_true(s_down < s_none && d_down != PATRON_DECISION_MERGE); /* (-1: not even a pair) */
    assert_true(s_real < s_none); /* a real other date: "different", not "partial" */
    patron_db_close(up);
    patron_db_close(down);
    patron_db_close(db);
}

/* patron_batch_add_rows_until: rows up to the first one refused for a
 * value are added (that one decided too), none after it; a refusal of
 * create (an id given twice) does not stop; the ids are those the rows
 * would get one call at a time; over more than a chunk too; flags 0 is
 * patron_batch_add_rows. */
static void test_rows_until(void **state)
{
    enum { N = 7, BIG = 9000, BAD = 8500 };
    static const char *const ids[N] = { "a", "b", "c", "d", "a", "f", "g" };
    static const char *const emails[N] = { "a@x.de", "b@x.de", "no address", "d@x.de", "e@x.de", "f@x.de", "g@x.de" };
    static const char *const countries[N] = { "DE", "AT", "CH", "DE", "DE", "Nowhere", "DE" };
    static const int64_t want_id[N] = { 1, 2, 0, 3, 0, 0, 4 };
    static const patron_status want_st[N] = { PATRON_OK, PATRON_OK, PATRON_E_INVALID, PATRON_OK,
                                              PATRON_E_EXISTS, PATRON_E_INVALID, PATRON_OK };
    patron_batch_value v[N][4];
    patron_batch_row rows[N];
    patron_db *db;
    patron_batch *b;
    size_t done = 99;
    (void)state;
    assert_int_equal(patron_db_open_memory(&db, NULL), PATRON_OK);
    for (int flags = 0; flags < 2; flags++) {
        size_t at = 0, calls = 0;
        assert_int_equal(patron_batch_new(&b, db), PATRON_OK);
        for (int i = 0; i < N; i++) {
            patron_batch_row init = PATRON_BATCH_ROW_INIT;
            v[i][0] = val(PATRON_F_EXTERNAL_ID, NULL, ids[i]);
            v[i][1] = val(PATRON_F_LAST_NAME, NULL, "Huber");
            v[i][2] = val(PATRON_F_EMAIL, NULL, emails[i]);
            v[i][3] = val(PATRON_BATCH_ADDRESS + PATRON_A_COUNTRY, NULL, countries[i]);
            rows[i] = init;
            rows[i].values = v[i];
            rows[i].n_values = 4;
        }
        /* unknown flags, no count: nothing added */
        assert_int_equal(patron_batch_add_rows_until(b, &done, rows, N, 0x80u), PATRON_E_INVALID);
        assert_int_equal(done, 0);
        assert_int_equal(patron_batch_add_rows_until(b, NULL, rows, N, PATRON_BATCH_UNTIL_INVALID), PATRON_E_INVALID);
        assert_int_equal(patron_batch_count(b), 0);
        while (at < N) {
            assert_int_equal(patron_batch_add_rows_until(b, &done, rows + at, N - at,
                                                         flags ? PATRON_BATCH_UNTIL_INVALID : 0),
                             PATRON_OK);
            assert_true(done >= 1 && done <= N - at);
            if (flags && at + done < N)
                assert_int_equal(rows[at + done - 1].status, PATRON_E_INVALID); /* stopped there */
            at += done;
            calls++;
        }
        assert_int_equal(calls, flags ? 3 : 1); /* stops after rows 3 and 6 */
        for (int i = 0; i < N; i++) {
            assert_int_equal(rows[i].status, want_st[i]);
            assert_true(rows[i].id == want_id[i]);
        }
        assert_int_equal(rows[2].refused, 3); /* the email */
        assert_int_equal(rows[5].refused, 4); /* the country */
        assert_int_equal(patron_batch_count(b), 4);
        patron_batch_free(b);
    }
    /* more than a chunk (8192 rows): the stop in the second one */
    {
        patron_batch_value(*bv)[2] = calloc(BIG, sizeof *bv);
        patron_batch_row *br = calloc(BIG, sizeof *br);
        char(*idb)[16] = calloc(BIG, sizeof *idb);
        assert_non_null(bv);
        assert_non_null(br);
        assert_non_null(idb);
        assert_int_equal(patron_batch_new(&b, db), PATRON_OK);
        for (int i = 0; i < BIG; i++) {
            patron_batch_row init = PATRON_BATCH_ROW_INIT;
            snprintf(idb[i], sizeof idb[i], "r%d", i);
            bv[i][0] = val(PATRON_F_EXTERNAL_ID, NULL, idb[i]);
            bv[i][1] = val(PATRON_F_EMAIL, NULL, i == BAD ? "bad" : "ok@x.de");
            br[i] = init;
            br[i].values = bv[i];
            br[i].n_values = 2;
        }
        assert_int_equal(patron_batch_add_rows_until(b, &done, br, BIG, PATRON_BATCH_UNTIL_INVALID), PATRON_OK);
        assert_int_equal(done, BAD + 1);
        assert_int_equal(br[BAD].status, PATRON_E_INVALID);
        assert_true(br[BAD - 1].status == PATRON_OK && br[BAD - 1].id == BAD);
        assert_int_equal(patron_batch_count(b), BAD);
        assert_int_equal(patron_batch_add_rows_until(b, &done, br + BAD + 1, BIG - BAD - 1, PATRON_BATCH_UNTIL_INVALID),
                         PATRON_OK);
        assert_int_equal(done, BIG - BAD - 1);
        assert_true(br[BIG - 1].id == BIG - 1);
        assert_int_equal(patron_batch_count(b), BIG - 1);
        patron_batch_free(b);
        free(bv);
        free(br);
        free(idb);
    }
    patron_db_close(db);
}

/* patron_batch_check_row on one thread while another adds rows to the
 * same batch (as `patron dedupe FILE` checks the next part on its reader
 * thread): the checks keep their verdicts, the rows are added as alone
 * (the thread test under ThreadSanitizer sees any shared write). */
typedef struct checker {
    const patron_batch *b;
    int rounds, wrong;
} checker;

static void *check_thread(void *arg)
{
    checker *k = arg;
    patron_batch_value good[3], bad[2];
    good[0] = val(PATRON_F_EXTERNAL_ID, NULL, "k1");
    good[1] = val(PATRON_F_EMAIL, NULL, "ok@x.de");
    good[2] = val(PATRON_BATCH_ADDRESS + PATRON_A_COUNTRY, NULL, "AT");
    bad[0] = val(PATRON_F_EXTERNAL_ID, NULL, "k2");
    bad[1] = val(PATRON_F_EMAIL, NULL, "no address");
    for (int i = 0; i < k->rounds; i++) {
        patron_batch_row g = PATRON_BATCH_ROW_INIT, w = PATRON_BATCH_ROW_INIT;
        g.values = good;
        g.n_values = 3;
        w.values = bad;
        w.n_values = 2;
        if (patron_batch_check_row(k->b, &g) != PATRON_OK || g.id != 0)
            k->wrong++;
        if (patron_batch_check_row(k->b, &w) != PATRON_E_INVALID || w.refused != 2)
            k->wrong++;
    }
    return NULL;
}

static void test_check_while_adding(void **state)
{
    enum { BIG = 12000 };
    patron_batch_value(*bv)[3] = calloc(BIG, sizeof *bv);
    patron_batch_row *br = calloc(BIG, sizeof *br);
    char(*idb)[16] = calloc(BIG, sizeof *idb);
    patron_db *db;
    patron_batch *b;
    checker k = { NULL, 3000, 0 };
    pthread_t th;
    (void)state;
    assert_non_null(bv);
    assert_non_null(br);
    assert_non_null(idb);
    assert_int_equal(patron_db_open_memory(&db, NULL), PATRON_OK);
    assert_int_equal(patron_batch_new(&b, db), PATRON_OK);
    for (int i = 0; i < BIG; i++) {
        patron_batch_row init = PATRON_BATCH_ROW_INIT;
        snprintf(idb[i], sizeof idb[i], "r%d", i);
        bv[i][0] = val(PATRON_F_EXTERNAL_ID, NULL, idb[i]);
        bv[i][1] = val(PATRON_F_LAST_NAME, NULL, i % 2 ? "Huber" : "Maier");
        bv[i][2] = val(PATRON_F_EMAIL, NULL, i % 1000 == 7 ? "bad" : "ok@x.de");
        br[i] = init;
        br[i].values = bv[i];
        br[i].n_values = 3;
    }
    k.b = b;
    assert_int_equal(pthread_create(&th, NULL, check_thread, &k), 0);
    assert_int_equal(patron_batch_add_rows(b, br, BIG / 2), PATRON_OK);
    assert_int_equal(patron_batch_add_rows(b, br + BIG / 2, BIG - BIG / 2), PATRON_OK);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(k.wrong, 0);
    for (int i = 0; i < BIG; i++) {
        if (i % 1000 == 7) {
            assert_int_equal(br[i].status, PATRON_E_INVALID);
            assert_int_equal(br[i].refused, 3);
        } else {
            assert_int_equal(br[i].status, PATRON_OK);
        }
    }
    assert_int_equal(patron_batch_count(b), BIG - BIG / 1000);
    patron_batch_free(b);
    patron_db_close(db);
    free(bv);
    free(br);
    free(idb);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_fields), cmocka_unit_test(test_generated_email),
        cmocka_unit_test(test_bad_rows),         cmocka_unit_test(test_identifier_config),
        cmocka_unit_test(test_empty_and_null),   cmocka_unit_test(test_many),
        cmocka_unit_test(test_many_args),        cmocka_unit_test(test_validated_then_changed),
        cmocka_unit_test(test_rows_file),        cmocka_unit_test(test_rows_refused),
        cmocka_unit_test(test_birth_as_given),   cmocka_unit_test(test_rows_until),
        cmocka_unit_test(test_check_while_adding),
    };
    if (argc < 2) {
        fprintf(stderr, "usage: test_batch GENERATED.csv\n");
        return 2;
    }
    csv_path = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
