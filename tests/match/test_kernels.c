/*
 * The bit-parallel string kernels (issue 14) against the scans they
 * replace: Jaro-Winkler, uncached and one-against-many, and OSA through a
 * pattern, must give the same results bit for bit on every pair — generated
 * ones over small and large alphabets, and the edge cases (empty, one
 * byte, identical, more than 64 bytes, UTF-8).
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match/match.h"

/* ---- the reference: the scan used before issue 14, verbatim ------------- */

#define REF_MAX 255

static double ref_jaro(const char *a, size_t la, const char *b, size_t lb)
{
    unsigned char fa[REF_MAX], fb[REF_MAX];
    size_t window = (la > lb ? la : lb) / 2, i, j, m = 0, t = 0;

    window = window > 0 ? window - 1 : 0;
    memset(fa, 0, la);
    memset(fb, 0, lb);
    for (i = 0; i < la; i++) {
        size_t lo = i > window ? i - window : 0;
        size_t hi = i + window + 1 < lb ? i + window + 1 : lb;
        for (j = lo; j < hi; j++)
            if (!fb[j] && a[i] == b[j]) {
                fa[i] = fb[j] = 1;
                m++;
                break;
            }
    }
    if (m == 0)
        return 0.0;
    for (i = 0, j = 0; i < la; i++) {
        if (!fa[i])
            continue;
        while (!fb[j])
            j++;
        t += a[i] != b[j];
        j++;
    }
    return ((double)m / (double)la + (double)m / (double)lb + ((double)m - (double)(t / 2)) / (double)m) / 3.0;
}

static double ref_jw(const char *a, size_t la, const char *b, size_t lb)
{
    double jaro;
    size_t l = 0;

    if (la > REF_MAX)
        la = REF_MAX;
    if (lb > REF_MAX)
        lb = REF_MAX;
    if (la == 0 && lb == 0)
        return 1.0;
    if (la == 0 || lb == 0)
        return 0.0;
    if (la == lb && memcmp(a, b, la) == 0)
        return 1.0;
    jaro = ref_jaro(a, la, b, lb);
    if (jaro > 0.7) {
        while (l < 4 && l < la && l < lb && a[l] == b[l])
            l++;
        jaro += (double)l * 0.1 * (1.0 - jaro);
    }
    return jaro;
}

/* OSA by plain dynamic programming */
static size_t ref_osa(const char *a, size_t la, const char *b, size_t lb)
{
    static size_t d[301][301]; /* callers: at most 300 bytes */
    size_t i, j;

    for (i = 0; i <= la; i++)
        d[i][0] = i;
    for (j = 0; j <= lb; j++)
        d[0][j] = j;
    for (i = 1; i <= la; i++)
        for (j = 1; j <= lb; j++) {
            size_t v = d[i - 1][j] + 1, w = d[i][j - 1] + 1, x = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            v = v < w ? v : w;
            v = v < x ? v : x;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

/* ---- checks ---------------------------------------------------------------- */

static patron__match_pattern pat;
static size_t n_checked;

/* every kernel on (a, b) and (b, a) against the reference; bit for bit */
static void check_pair(const char *a, size_t la, const char *b, size_t lb)
{
    double want = ref_jw(a, la, b, lb), want_ba = ref_jw(b, lb, a, la);
    size_t d = ref_osa(a, la, b, lb);
    double got;

    got = patron__match_jaro_winkler(a, la, b, lb);
    if (memcmp(&got, &want, sizeof got) != 0)
        fail_msg("jaro-winkler(\"%.*s\", \"%.*s\") = %.17g, the scan gives %.17g", (int)la, a, (int)lb, b, got,
                 want);
    got = patron__match_jaro_winkler(b, lb, a, la);
    if (memcmp(&got, &want_ba, sizeof got) != 0)
        fail_msg("jaro-winkler(\"%.*s\", \"%.*s\") = %.17g, the scan gives %.17g", (int)lb, b, (int)la, a, got,
                 want_ba);
    patron__match_pattern_init(&pat, a, la);
    got = patron__match_jaro_winkler_p(&pat, b, lb);
    if (memcmp(&got, &want, sizeof got) != 0)
        fail_msg("pattern \"%.*s\" vs \"%.*s\" = %.17g, the scan gives %.17g", (int)la, a, (int)lb, b, got, want);
    assert_int_equal(patron__match_osa(a, la, b, lb), d);
    assert_int_equal(patron__match_osa_p(&pat, b, lb), d);
    n_checked++;
}

static void check(const char *a, const char *b)
{
    check_pair(a, strlen(a), b, strlen(b));
}

static void test_edge_cases(void **state)
{
    char l1[300], l2[300];
    (void)state;
    check("", "");
    check("", "a");
    check("a", "");
    check("a", "a");
    check("a", "b");
    check("ab", "ba");
    check("abc", "abc");
    check("martha", "marhta");
    check("dixon", "dicksonx");
    check("dwayne", "duane");
    check("mueller", "muller");
    check("M\xc3\xbcller", "Mueller");             /* UTF-8 bytes */
    check("\xc3\xa4\xc3\xb6\xc3\xbc", "\xc3\xbc\xc3\xb6\xc3\xa4");
    check("\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd", "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\xd0\xbe\xd0\xb2"); /* Cyrillic */
    check("\xff\xfe\x80", "\x80\xfe\xff");
    /* around 64 bytes: the last word position, and the fallback */
    for (size_t n = 60; n <= 70; n++)
        for (size_t k = n - 3; k <= n + 3; k++) {
            for (size_t i = 0; i < n; i++)
                l1[i] = (char)('a' + (i * 7) % 5);
            for (size_t i = 0; i < k; i++)
                l2[i] = (char)('a' + (i * 3) % 5);
            check_pair(l1, n, l2, k);
            check_pair(l1, n, l1, k < n ? k : n); /* a prefix */
            memcpy(l2, l1, n);
            l2[n / 2] = 'z';
            check_pair(l1, n, l2, n);
        }
    /* longer than the 255 bytes compared */
    memset(l1, 'x', 290);
    memset(l2, 'x', 290);
    l2[280] = 'y';
    check_pair(l1, 290, l2, 290);
    check_pair(l1, 290, l2, 10);
    check_pair(l1, 10, l2, 290);
}

/* every pair of strings up to 6 bytes over {a, b}: all matchings and
 * transposition patterns of a small alphabet */
static void test_exhaustive_binary(void **state)
{
    char a[8], b[8];
    (void)state;
    for (size_t la = 0; la <= 6; la++)
        for (unsigned xa = 0; xa < (1u << la); xa++) {
            for (size_t i = 0; i < la; i++)
                a[i] = (xa >> i & 1) ? 'b' : 'a';
            for (size_t lb = 0; lb <= 6; lb++)
                for (unsigned xb = 0; xb < (1u << lb); xb++) {
                    for (size_t i = 0; i < lb; i++)
                        b[i] = (xb >> i & 1) ? 'b' : 'a';
                    check_pair(a, la, b, lb);
                }
        }
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* random pairs: alphabets of 2 to 256 bytes, lengths 1 to 80, and typo'd
 * copies (the pairs a matcher sees) */
static void test_random(void **state)
{
    char a[96], b[96];
    (void)state;
    for (int k = 0; k < 12000; k++) {
        size_t la = 1 + next() % 80, lb, alpha = (k % 4 == 0) ? 256 : 2 + next() % 26;
        for (size_t i = 0; i < la; i++)
            a[i] = (char)(alpha == 256 ? next() % 256 : 'a' + next() % alpha);
        if (k % 2) { /* a typo'd copy: a few edits */
            lb = la;
            memcpy(b, a, la);
            for (int e = (int)(next() % 4); e > 0; e--) {
                size_t p = next() % lb;
                switch (next() % 4) {
                case 0: b[p] = (char)('a' + next() % 26); break;
                case 1: if (p + 1 < lb) { char c = b[p]; b[p] = b[p + 1]; b[p + 1] = c; } break;
                case 2: if (lb > 1) { memmove(b + p, b + p + 1, lb - p - 1); lb--; } break;
                default: if (lb < 90) { memmove(b + p + 1, b + p, lb - p); b[p] = 'q'; lb++; } break;
                }
            }
        } else {
            lb = 1 + next() % 80;
            for (size_t i = 0; i < lb; i++)
                b[i] = (char)(alpha == 256 ? next() % 256 : 'a' + next() % alpha);
        }
        check_pair(a, la, b, lb);
    }
}

/* German names, normalised as the matcher has them */
static void test_names(void **state)
{
    static const char *const names[] = {
        "mueller", "muller", "mueler", "schmidt", "schmitt", "schmid", "meier", "meyer", "maier",
        "hans peter", "hanspeter", "peter", "friedrichebertstr", "friedrich ebert str", "hauptstr",
        "mueller luedenscheidt", "k", "kaemmerer", "sabine", "sabina", "jan", "jana", "", "x",
    };
    size_t n = sizeof names / sizeof names[0];
    (void)state;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            check(names[i], names[j]);
    print_message("%zu pairs compared bit for bit\n", n_checked);
}

/* ---- a record against many: patron__match_score_q == patron__match_score_tf -- */

static double fake_count(void *ctx, int field, const patron__match_rec *r, int addr)
{
    (void)ctx;
    (void)addr;
    return (double)(1 + (r->last_len + (size_t)field) % 7);
}

static void same_result(const patron__match_result *x, const patron__match_result *y)
{
    assert_memory_equal(&x->score, &y->score, sizeof x->score);
    assert_memory_equal(&x->probability, &y->probability, sizeof x->probability);
    assert_int_equal(x->decision, y->decision);
    assert_int_equal(x->rule, y->rule);
    assert_int_equal(x->addr_a, y->addr_a);
    assert_int_equal(x->addr_b, y->addr_b);
    for (int f = 0; f < PATRON__MF_COUNT; f++) {
        assert_int_equal(x->field[f].level, y->field[f].level);
        assert_memory_equal(&x->field[f].weight, &y->field[f].weight, sizeof(double));
        assert_string_equal(x->field[f].a, y->field[f].a); /* birth dates point into the result */
        assert_string_equal(x->field[f].b, y->field[f].b);
    }
}

static void test_query(void **state)
{
    /* names, streets, cities with typos, swaps, initials, long and UTF-8
     * values; every combination below is a record */
    static const char *const first[] = {"Max", "Maxi", "M.", "Mustermann", "Hans-Peter", "", "Sabine",
                                        "Sabina", "J\xc3\xbcrgen", "Juergen"};
    static const char *const last[] = {"M\xc3\xbcller", "Mueler", "Max", "Schmidt", "Schmitt", "",
                                       "M\xc3\xbcller-L\xc3\xbc" "denscheidt von und zu Hohenlohe-Schillingsf\xc3\xbcrst "
                                       "Waldburg-Zeil-Trauchburg"};
    static const char *const street[] = {"Hauptstr. 12a", "Hauptstrasse 12", "Hauptsr. 14", "Packstation 101",
                                         "Friedrich-Ebert-Stra\xc3\x9f" "e 3", ""};
    static const char *const city[] = {"Berlin", "Berln", "M\xc3\xbcnchen", ""};
    static const char *const company[] = {"", "Muster GmbH", "Mustr GmbH"};
    enum { N = 10 * 7 * 6 * 4 * 3 };
    patron__match_rec *recs = calloc(N, sizeof *recs);
    patron__match_query *q = malloc(sizeof *q);
    patron__match_config cfg;
    patron__match_tf tf = {fake_count, NULL, 1000, NULL};
    size_t n = 0, pairs = 0;
    (void)state;
    assert_non_null(recs);
    assert_non_null(q);
    patron__match_config_default(&cfg);
    for (size_t i0 = 0; i0 < 10; i0++)
        for (size_t i1 = 0; i1 < 7; i1++)
            for (size_t i2 = 0; i2 < 6; i2++)
                for (size_t i3 = 0; i3 < 4; i3++)
                    for (size_t i4 = 0; i4 < 3; i4++) {
                        patron__match_raw raw;
                        patron__match_raw_addr ad[2];
                        memset(&raw, 0, sizeof raw);
                        memset(ad, 0, sizeof ad);
                        raw.first_name = first[i0];
                        raw.last_name = last[i1];
                        raw.company = company[i4];
                        ad[0].street = street[i2];
                        ad[0].postal_code = (i3 & 1) ? "10115" : "10117";
                        ad[0].city = city[i3];
                        ad[1].street = street[(i2 + 3) % 6]; /* a second address */
                        ad[1].addition = street[(i2 + 1) % 6];
                        ad[1].city = city[(i3 + 1) % 4];
                        raw.addr = ad;
                        raw.n_addr = (i0 + i2) % 3 == 0 ? 2 : 1;
                        assert_int_equal(patron__match_normalize(&recs[n++], &raw, "DE"), 0);
                    }
    /* each record as a query against a stride of the others */
    for (size_t i = 0; i < N; i += 61) {
        patron__match_query_init(q, &recs[i]);
        for (size_t j = i % 13; j < N; j += 13) {
            patron__match_result x, y;
            patron__match_score_tf(&x, &recs[i], &recs[j], &cfg, (j & 1) ? &tf : NULL);
            patron__match_score_q(&y, q, &recs[j], &cfg, (j & 1) ? &tf : NULL);
            same_result(&x, &y);
            pairs++;
        }
    }
    print_message("%zu record pairs: the query's result is the pair's\n", pairs);
    for (size_t i = 0; i < N; i++)
        patron__match_rec_free(&recs[i]);
    free(recs);
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_exhaustive_binary),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
