/*
 * The orders of a wide block (src/dedupe_order.h): order_sort, which
 * compares key prefixes and falls back to cmp_order_a/cmp_order_b only on
 * ties, must give exactly the order qsort gives with those comparators
 * (the windows of a wide block depend on it, ties included); gkey_sort
 * the order of (k, i).  Crafted records with few distinct values, long
 * shared prefixes, empty strings and bytes above 0x7F, so that most
 * comparisons tie on some key.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dedupe_order.h"

static uint64_t rng = 88172645463325252ull;

static unsigned next(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static const char *const codes[] = { "", "1", "12", "1234567", "12345678", "123456789", "1234567890123",
                                     "1234567890124", "2", "21", "87654321", "8765432", "\xc3\xa4" "12" };
static const char *const postals[] = { "", "10115", "1011", "1234567", "12345678", "123456789", "1234568",
                                       "\xc3\xbc" "9" };
static const char *const streets[] = { "", "haupt", "hauptstr", "hauptstrasse", "hauptstrassx", "bahnhofstr",
                                       "\xc3\xa4" "u" };
static const char *const numbers[] = { "", "1", "12", "12a", "12345678", "123456789", "2" };
static const char *const emails[] = { "", "a@x.de", "b@x.de" };

#define NREC 600

static patron__match_rec recs[NREC];
static patron__match_addr addrs[NREC];

#define PICK(a) a[next(sizeof a / sizeof a[0])]

static void make_recs(void)
{
    for (size_t i = 0; i < NREC; i++) {
        patron__match_rec *r = &recs[i];
        memset(r, 0, sizeof *r);
        strcpy(r->first_kp, PICK(codes));
        strcpy(r->last_kp, PICK(codes));
        r->email = PICK(emails);
        r->birth = next(3) == 0 ? 0 : 19800101u + next(2);
        if (next(5) != 0) {
            addrs[i].postal = PICK(postals);
            addrs[i].street = PICK(streets);
            addrs[i].number = PICK(numbers);
            r->addr = &addrs[i];
            r->n_addr = 1;
        }
    }
}

/* A block of m members drawn from recs: order_sort against qsort. */
static void check_block(size_t m)
{
    order *a = malloc(m * sizeof *a), *q = malloc(m * sizeof *q), *tmp = malloc(m * sizeof *tmp);
    assert_non_null(a);
    assert_non_null(q);
    assert_non_null(tmp);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < m; i++) {
            memset(&a[i], 0, sizeof a[i]);
            a[i].r = &recs[next(NREC)];
            a[i].pos = (uint32_t)i;
            order_keys(&a[i], pass);
            q[i] = a[i];
        }
        order_sort(a, tmp, m, pass);
        qsort(q, m, sizeof *q, pass ? cmp_order_b : cmp_order_a);
        for (size_t i = 0; i < m; i++)
            assert_int_equal(a[i].pos, q[i].pos);
    }
    free(a);
    free(q);
    free(tmp);
}

static void test_orders(void **state)
{
    (void)state;
    make_recs();
    for (size_t m = 1; m <= 80; m++)
        for (int rep = 0; rep < 20; rep++)
            check_block(m);
    for (int rep = 0; rep < 20; rep++)
        check_block(100 + next(901)); /* up to PATRON__BLOCK_MAX */
}

/* cmp_order decides as the comparator would on every pair. */
static void test_cmp_pairs(void **state)
{
    (void)state;
    make_recs();
    for (size_t i = 0; i < NREC; i++)
        for (size_t k = 0; k < NREC; k += 7) {
            for (int pass = 0; pass < 2; pass++) {
                order x, y;
                int c, d;
                memset(&x, 0, sizeof x);
                memset(&y, 0, sizeof y);
                x.r = &recs[i];
                y.r = &recs[k];
                x.pos = 1;
                y.pos = 2;
                order_keys(&x, pass);
                order_keys(&y, pass);
                c = cmp_order(&x, &y, pass);
                d = (pass ? cmp_order_b : cmp_order_a)(&x, &y);
                assert_int_equal(c < 0 ? -1 : c > 0, d < 0 ? -1 : d > 0);
            }
        }
}

static int cmp_gk(const void *x, const void *y)
{
    const gkey *p = x, *q = y;
    if (p->k != q->k)
        return (p->k > q->k) - (p->k < q->k);
    return (p->i > q->i) - (p->i < q->i);
}

static void test_gkeys(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 3000; n += 1 + n / 4) {
        gkey *a = malloc((n ? n : 1) * sizeof *a), *q = malloc((n ? n : 1) * sizeof *q),
             *tmp = malloc((n ? n : 1) * sizeof *tmp);
        assert_non_null(a);
        assert_non_null(q);
        assert_non_null(tmp);
        for (size_t i = 0; i < n; i++) {
            a[i].k = (uint64_t)next(17) << 40 | 1u;
            a[i].i = next(64);
            q[i] = a[i];
        }
        gkey_sort(a, tmp, n);
        qsort(q, n, sizeof *q, cmp_gk);
        for (size_t i = 0; i < n; i++) {
            assert_true(a[i].k == q[i].k);
            assert_int_equal(a[i].i, q[i].i);
        }
        free(a);
        free(q);
        free(tmp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orders),
        cmocka_unit_test(test_cmp_pairs),
        cmocka_unit_test(test_gkeys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
