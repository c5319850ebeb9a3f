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
    /* the "one edit apart" fast path is the distance's own answer */
    if (patron__match_osa_is_one(a, la, b, lb) != (d == 1) || patron__match_osa_is_one(b, lb, a, la) != (d == 1))
        fail_msg("osa_is_one(\"%.*s\", \"%.*s\") != (distance %zu == 1)", (int)la, a, (int)lb, b, d);
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

/* patron__match_typo_out is a bound: whenever it says no typo, the
 * kernels agree (Jaro-Winkler below the threshold, the edit distance
 * above the edits allowed); it says so for most unrelated pairs, and
 * never for a string and itself or a string of more than 64 bytes */
static void test_typo_out(void **state)
{
    static const double mins[] = { 0.7, 0.8, 0.9, 0.92, 0.95, 1.0 };
    char a[96], b[96];
    size_t fired = 0, tried = 0;
    (void)state;
    for (int k = 0; k < 20000; k++) {
        size_t la = next() % 72, lb, alpha = (k % 5 == 0) ? 256 : 2 + next() % 26;
        for (size_t i = 0; i < la; i++)
            a[i] = (char)(alpha == 256 ? next() % 256 : 'a' + next() % alpha);
        if (k % 2) { /* a typo'd copy */
            lb = la;
            memcpy(b, a, la);
            for (int e = (int)(next() % 5); e > 0 && lb > 0; e--) {
                size_t p = next() % lb;
                switch (next() % 4) {
                case 0: b[p] = (char)('a' + next() % 26); break;
                case 1: if (p + 1 < lb) { char c = b[p]; b[p] = b[p + 1]; b[p + 1] = c; } break;
                case 2: memmove(b + p, b + p + 1, lb - p - 1); lb--; break;
                default: if (lb < 90) { memmove(b + p + 1, b + p, lb - p); b[p] = 'q'; lb++; } break;
                }
            }
        } else {
            lb = next() % 72;
            for (size_t i = 0; i < lb; i++)
                b[i] = (char)(alpha == 256 ? next() % 256 : 'a' + next() % alpha);
        }
        for (size_t m = 0; m < sizeof mins / sizeof mins[0]; m++)
            for (int e = -1; e <= 3; e++) {
                double jw = patron__match_jaro_winkler(a, la, b, lb);
                size_t d = patron__match_osa(a, la, b, lb);
                tried++;
                if (patron__match_typo_out(a, la, b, lb, e, mins[m])) {
                    fired++;
                    assert_true(jw < mins[m]);
                    assert_true(e < 0 || d > (size_t)e);
                    assert_true(la <= 64 && lb <= 64);
                }
            }
        assert_false(patron__match_typo_out(a, la, a, la, -1, 0.92) && la > 0);
        assert_false(patron__match_typo_out(a, la, a, la, 0, 1.0));
    }
    assert_true(fired > tried / 4);
    /* names a block holds together */
    assert_true(patron__match_typo_out("mueller", 7, "schmidt", 7, 1, 0.92));
    assert_false(patron__match_typo_out("mueller", 7, "muller", 6, 1, 0.92));
    assert_false(patron__match_typo_out("meier", 5, "meyer", 5, 1, 0.92));
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
    patron__match_tf tf = {fake_count, NULL, 1000, NULL, NULL};
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

/* ---- distinct_only: the early exit never drops a pair the scorer keeps ---- */

static const char *pick(const char *const *v, size_t n)
{
    return v[next() % n];
}
#define PICK(v) pick(v, sizeof v / sizeof v[0])

static double fake_count_rare(void *ctx, int field, const patron__match_rec *r, int addr)
{
    (void)ctx;
    (void)addr;
    /* few holders for some names (the rare full name's rule), many for
     * others, none known for a third of the values */
    size_t h = r->first_len * 7 + r->last_len * 3 + (size_t)field;
    return h % 3 == 0 ? -1 : (double)(1 + h % 5) * (h % 2 ? 1 : 40);
}

/* ---- the frequency memo: the weights it keeps are the ones computed ---- */

/* Records with per-record counts (the batch's form of frequencies), most
 * names exact so the frequencies apply: every pair scored with a memo
 * shared by all pairs - counts far more than its slots, so slots are
 * taken over - gives the result without one, bit for bit. */
static void test_tf_memo(void **state)
{
    static const char *const first[] = {"Max", "Sabine", "Jan", "Ilse", "Peter"};
    static const char *const last[] = {"M\xc3\xbcller", "Schmidt", "Peters"};
    static const char *const street[] = {"Hauptstr. 12", "Packstation 101", "Ringweg 3"};
    static const char *const email[] = {"", "max.mueller@web.de", "info@muster.de"};
    static const char *const phone[] = {"", "030 1234567"};
    enum { N = 400, SLOTS = PATRON__MATCH_TF_SLOT_ADDR + 2 };
    patron__match_rec *recs = calloc(N, sizeof *recs);
    uint32_t *counts = calloc((size_t)N * SLOTS, sizeof *counts);
    patron__match_tf_memo *memo = malloc(sizeof *memo);
    patron__match_config cfg;
    size_t pairs = 0, taken = 0;
    (void)state;
    assert_non_null(recs);
    assert_non_null(counts);
    assert_non_null(memo);
    patron__match_config_default(&cfg);
    patron__match_tf_memo_init(memo);
    for (size_t i = 0; i < N; i++) {
        patron__match_raw raw;
        patron__match_raw_addr ad;
        memset(&raw, 0, sizeof raw);
        memset(&ad, 0, sizeof ad);
        raw.first_name = PICK(first);
        raw.last_name = PICK(last);
        raw.email = PICK(email);
        raw.phone = PICK(phone);
        ad.street = PICK(street);
        ad.postal_code = "10115";
        ad.city = "Berlin";
        raw.addr = &ad;
        raw.n_addr = 1;
        assert_int_equal(patron__match_normalize(&recs[i], &raw, "DE"), 0);
        /* 0 (unknown), 1 and 2 (the rare full name), small and large */
        for (size_t k = 0; k < SLOTS; k++) {
            uint32_t v = next();
            counts[i * SLOTS + k] = v % 7 == 0 ? 0 : v % 7 == 1 ? 1 + v / 7 % 2 : 1 + v / 7 % 20000;
        }
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j += 1 + i % 3) {
            patron__match_tf plain = {NULL, NULL, 1e6, counts + i * SLOTS, NULL};
            patron__match_tf kept = plain;
            patron__match_result x, y;
            kept.memo = memo;
            patron__match_score_tf(&x, &recs[i], &recs[j], &cfg, &plain);
            patron__match_score_tf(&y, &recs[i], &recs[j], &cfg, &kept);
            same_result(&x, &y);
            pairs++;
        }
    for (size_t k = 0; k < PATRON__MATCH_TF_MEMO; k++)
        taken += memo->key[k] != 0;
    print_message("%zu pairs: the same with the memo (%zu of its %d slots taken)\n", pairs, taken,
                  PATRON__MATCH_TF_MEMO);
    assert_true(taken > PATRON__MATCH_TF_MEMO / 2); /* it was used, and slots were shared */
    for (size_t i = 0; i < N; i++)
        patron__match_rec_free(&recs[i]);
    free(recs);
    free(counts);
    free(memo);
}

/* The exit after the last name (names_then_distinct in score.c): pairs
 * under one last name, or swapped, with given names of every kind cmp_first
 * tells apart - known names and their variants (Hans / Johannes, Konrad /
 * Conrad), typos, one Kölner code (Maier / Meyer), shared tokens, initials,
 * male and female forms, a given name that is the other's last name (the
 * swap rule) - at one building (the household rule) or apart, with and
 * without frequencies (the rare full name).  Every pair gives the same
 * decision with distinct_only as in full, and the same result where it is
 * not DISTINCT, also where the weights of the levels the bound reasons
 * about (SWAPPED, VARIANT, SIMILAR, PHONETIC, PARTIAL, INITIAL) decide.
 * The exit is told by its result: the last name's level set, the given
 * name's not; the test requires it to fire, and the exit after the given
 * names (both set, no address) as well. */
static void test_names_bound(void **state)
{
    static const char *const first[] = {"Hans", "Johannes", "Konrad", "Conrad", "Maier", "Meyer", "Sabine",
                                        "Sabina", "Jan", "Jana", "Irmgard Ilse", "Ilse", "J.", "K. M.", "Thomas",
                                        "Krause", "", "Zwetschge", "Zwetschke", "Anna Maria", "Peter", "Stefan", "Stephan",
                                        "Christina", "Kristiane"};
    static const char *const last[] = {"Krause", "Krauss", "Thomas", "Schmidt", "Schmidt Meyer", "Peters", "",
                                       "Maier", "K."};
    static const char *const street[] = {"Hauptstr.", "Ringweg", "Packstation"};
    static const char *const number[] = {"12", "14", ""};
    static const char *const email[] = {"", "", "hans.krause@web.de", "info@muster.de", "k1960@gmx.de"};
    static const char *const phone[] = {"", "", "030 1234567", "0171 2345678"};
    static const char *const birth[] = {"", "", "1980-01-02", "1955-05-05"};
    enum { N = 1200, PER = 30 };
    patron__match_rec *recs = calloc(N, sizeof *recs);
    patron__match_query *q = malloc(sizeof *q), *qd = malloc(sizeof *qd);
    patron__match_tf tf = {fake_count_rare, NULL, 1000, NULL, NULL};
    size_t at_last = 0, at_names = 0, full = 0;
    (void)state;
    assert_non_null(recs);
    assert_non_null(q);
    assert_non_null(qd);
    for (size_t i = 0; i < N; i++) {
        patron__match_raw raw;
        patron__match_raw_addr ad;
        memset(&raw, 0, sizeof raw);
        memset(&ad, 0, sizeof ad);
        raw.first_name = PICK(first);
        raw.last_name = next() % 3 ? "Krause" : PICK(last); /* most under one name */
        raw.email = PICK(email);
        raw.phone = PICK(phone);
        raw.birth_date = PICK(birth);
        ad.street = PICK(street);
        ad.house_number = PICK(number);
        ad.postal_code = next() % 4 ? "10115" : "80331";
        ad.city = "Berlin";
        raw.addr = &ad;
        raw.n_addr = next() % 8 ? 1 : 0;
        assert_int_equal(patron__match_normalize(&recs[i], &raw, "DE"), 0);
    }
    for (int c = 0; c < 10; c++) {
        patron__match_config cfg;
        patron__match_config_default(&cfg);
        switch (c) {
        case 1: cfg.name_address_max = 0; cfg.address_max = 0; break;
        case 7: cfg.review_threshold = 0.9; cfg.merge_threshold = 0.99; break; /* the rules that lift */
        case 2: cfg.rare_name_expect = 0; cfg.full_name_max = 14.0; break;
        case 3: cfg.review_threshold = 0.02; break;
        case 4: cfg.review_threshold = 0.6; cfg.tf_up_max = 3.0; break;
        default: break;
        }
        patron__match_config_update(&cfg);
        if (c == 5) { /* the levels only cmp_first's kernels or the swap tell apart decide */
            cfg.weight[PATRON__MF_FIRST][PATRON__ML_SWAPPED] = 9.0;
            cfg.weight[PATRON__MF_LAST][PATRON__ML_SWAPPED] = 9.0;
            cfg.weight[PATRON__MF_FIRST][PATRON__ML_VARIANT] = 8.0;
            cfg.weight[PATRON__MF_FIRST][PATRON__ML_PHONETIC] = 8.0;
        }
        if (c == 8)
            cfg.weight[PATRON__MF_FIRST][PATRON__ML_PHONETIC] = 8.0;
        /* VARIANT alone decides: the bound counts it only for two
         * variants of one name (Hans / Johannes), not for any two known
         * names (Hans / Sabine) */
        if (c == 9)
            cfg.weight[PATRON__MF_FIRST][PATRON__ML_VARIANT] = 8.0;
        if (c == 6) {
            cfg.weight[PATRON__MF_FIRST][PATRON__ML_SIMILAR] = 9.0;
            cfg.weight[PATRON__MF_FIRST][PATRON__ML_PARTIAL] = 9.0;
            cfg.weight[PATRON__MF_FIRST][PATRON__ML_INITIAL] = 9.0;
            cfg.weight[PATRON__MF_LAST][PATRON__ML_DIFFERENT] = 1.0;
        }
        for (size_t i = 0; i < N; i++) {
            patron__match_query_init(q, &recs[i]);
            patron__match_query_init(qd, &recs[i]);
            qd->distinct_only = 1;
            for (int k = 0; k < PER; k++) {
                size_t j = next() % N;
                const patron__match_tf *t = (k & 1) ? &tf : NULL;
                patron__match_result x, y;
                int dx = patron__match_score_q(&x, q, &recs[j], &cfg, t);
                int dy = patron__match_score_q(&y, qd, &recs[j], &cfg, t);
                if (dx != dy)
                    fail_msg("config %d, records %zu and %zu: %s in full, %s with distinct_only", c, i, j,
                             patron__match_decision_name(dx), patron__match_decision_name(dy));
                if (dx != PATRON__MATCH_DISTINCT)
                    same_result(&x, &y);
                if (dy == PATRON__MATCH_DISTINCT && y.field[PATRON__MF_LAST].a && !y.field[PATRON__MF_FIRST].a)
                    at_last++;
                else if (dy == PATRON__MATCH_DISTINCT && y.field[PATRON__MF_FIRST].a && !y.field[PATRON__MF_STREET].a)
                    at_names++;
                else
                    full++;
            }
        }
    }
    print_message("names bound: %zu pairs DISTINCT after the last name, %zu after the given names, %zu other\n",
                  at_last, at_names, full);
    {
        /* one rare full name, everything else apart: rule (d) lifts the
         * pair to REVIEW, so no exit may come before the names */
        static const uint32_t two[PATRON__MATCH_TF_SLOT_ADDR + 1] = {2, 2, 2, 2, 2, 2, 2};
        patron__match_tf t2 = {NULL, NULL, 100000, two, NULL};
        patron__match_raw ra, rb;
        patron__match_raw_addr aa, ab;
        patron__match_rec a, b;
        patron__match_config cfg;
        patron__match_result x, y;
        memset(&ra, 0, sizeof ra);
        memset(&aa, 0, sizeof aa);
        ra.first_name = "Hans";
        ra.last_name = "Krause";
        ra.email = "zz1@gmx.de";
        ra.phone = "0171 1234567";
        aa.street = "Hauptstr.";
        aa.house_number = "12";
        aa.postal_code = "10115";
        aa.city = "Berlin";
        ra.addr = &aa;
        ra.n_addr = 1;
        rb = ra;
        ab = aa;
        rb.email = "yy2@web.de";
        rb.phone = "0172 555111";
        ab.street = "Ringweg";
        ab.house_number = "3";
        ab.postal_code = "80331";
        ab.city = "M\xc3\xbcnchen";
        rb.addr = &ab;
        assert_int_equal(patron__match_normalize(&a, &ra, "DE"), 0);
        assert_int_equal(patron__match_normalize(&b, &rb, "DE"), 0);
        patron__match_config_default(&cfg);
        patron__match_config_update(&cfg);
        patron__match_query_init(q, &a);
        patron__match_query_init(qd, &a);
        qd->distinct_only = 1;
        assert_int_equal(patron__match_score_q(&x, q, &b, &cfg, &t2), PATRON__MATCH_REVIEW);
        assert_int_equal(x.rule, PATRON__MATCH_RULE_NAME_ONLY);
        assert_int_equal(patron__match_score_q(&y, qd, &b, &cfg, &t2), PATRON__MATCH_REVIEW);
        same_result(&x, &y);
        patron__match_rec_free(&a);
        patron__match_rec_free(&b);
    }
    assert_true(at_last > 1000 && at_names > 1000 && full > 1000);
    for (size_t i = 0; i < N; i++)
        patron__match_rec_free(&recs[i]);
    free(recs);
    free(q);
    free(qd);
}

/* Random records from small pools of near values (typos, swaps, initials,
 * gender forms, households at one building, shared and role mailboxes,
 * Packstations, companies, identifiers): every pair scored in full and
 * with distinct_only set gives the same decision, and where it is not
 * DISTINCT the same result.  Under several configurations that move the
 * bound's ingredients (ceilings, floors, frequencies). */
static void test_distinct_only(void **state)
{
    static const char *const first[] = {"Max", "Maxi", "M.", "Sabine", "Sabina", "Jan", "Jana", "Hans-Peter",
                                        "Peter", "", "M\xc3\xbcller", "Ilse", "Irmgard Ilse", "Rachel", "Racxe"};
    static const char *const last[] = {"M\xc3\xbcller", "Mueler", "Schmidt", "Schmitt", "Max", "", "Peters",
                                       "M\xc3\xbcller-L\xc3\xbc" "denscheidt", "Zwiebelkuchenbaecker"};
    static const char *const street[] = {"Hauptstr.", "Hauptstrasse", "Hauptsr.", "Packstation",
                                         "Friedrich-Ebert-Stra\xc3\x9f" "e", "", "Hinterhaus"};
    static const char *const number[] = {"12", "12a", "14", "21", ""};
    static const char *const addition[] = {"", "", "Hinterhaus", "Hauptstr."};
    static const char *const postal[] = {"10115", "10117", "10151", ""};
    static const char *const city[] = {"Berlin", "Berln", "M\xc3\xbcnchen", ""};
    static const char *const email[] = {"", "max.mueller@web.de", "max.muller@web.de", "info@muster.de",
                                        "m.mueller@muster.de", "sabine@gmx.de", "jan1960@gmx.de"};
    static const char *const phone[] = {"", "030 1234567", "030 1234576", "089 555111"};
    static const char *const birth[] = {"", "", "1980-01-02", "1980-02-01", "1981-01-02", "1975-05-05"};
    static const char *const company[] = {"", "", "", "Muster GmbH", "Mustr GmbH"};
    static const char *const ident[] = {"", "", "K10001", "K10010", "K20002"};
    enum { N = 1500, PER = 24 };
    patron__match_rec *recs = calloc(N, sizeof *recs);
    patron__match_query *q = malloc(sizeof *q), *qd = malloc(sizeof *qd), *qo = malloc(sizeof *qo);
    patron__match_tf tf = {fake_count_rare, NULL, 1000, NULL, NULL};
    size_t pruned = 0, kept = 0, by_rule[PATRON__MATCH_RULE_COUNT] = {0}, decided[4] = {0};
    (void)state;
    assert_non_null(recs);
    assert_non_null(q);
    assert_non_null(qd);
    assert_non_null(qo);
    for (size_t i = 0; i < N; i++) {
        patron__match_raw raw;
        patron__match_raw_addr ad[2];
        memset(&raw, 0, sizeof raw);
        memset(ad, 0, sizeof ad);
        raw.first_name = PICK(first);
        raw.last_name = PICK(last);
        raw.company = PICK(company);
        raw.email = PICK(email);
        raw.phone = PICK(phone);
        raw.birth_date = PICK(birth);
        raw.ident[0] = PICK(ident);
        raw.n_ident = 1;
        for (size_t k = 0; k < 2; k++) {
            ad[k].street = PICK(street);
            ad[k].house_number = PICK(number);
            ad[k].addition = PICK(addition);
            ad[k].postal_code = PICK(postal);
            ad[k].city = PICK(city);
        }
        raw.addr = ad;
        raw.n_addr = next() % 5 == 0 ? 2 : (next() % 9 == 0 ? 0 : 1);
        assert_int_equal(patron__match_normalize(&recs[i], &raw, "DE"), 0);
    }
    for (int c = 0; c < 6; c++) {
        patron__match_config cfg;
        patron__match_config_default(&cfg);
        switch (c) {
        case 1: cfg.name_address_max = 0; cfg.address_max = 0; break; /* no ceilings */
        case 2: cfg.tf_up_max = 3.0; cfg.full_name_max = 14.0; cfg.review_threshold = 0.3; break;
        case 3: cfg.address_floor = -1.0; cfg.company_contact_floor = -0.5; cfg.rare_name_expect = 0; break;
        case 4: cfg.review_threshold = 0.05; cfg.merge_threshold = 0.5; break;
        /* a personal contact value too weak to be own evidence (the bound
         * cannot leave such pairs to rule (f)) and a marriage's move that
         * weighs nothing against */
        case 5: cfg.personal_contact = 2.5; cfg.marriage_move_floor = -0.01; cfg.review_threshold = 0.3; break;
        default: break;
        }
        cfg.n_ident = 1;
        patron__match_config_update(&cfg);
        for (size_t i = 0; i < N; i++) {
            patron__match_query_init(q, &recs[i]);
            patron__match_query_init(qd, &recs[i]);
            assert_int_equal(qd->distinct_only, 0);
            qd->distinct_only = 1;
            patron__match_query_init(qo, &recs[i]);
            assert_int_equal(qo->decision_only, 0);
            qo->distinct_only = qo->decision_only = 1;
            for (int k = 0; k < PER; k++) {
                /* neighbours share more (the blocks' pairs), others are random */
                size_t j = k < PER / 2 ? (i + 1 + (size_t)k * 7) % N : next() % N;
                const patron__match_tf *t = (j & 1) ? &tf : NULL;
                patron__match_result x, y, z;
                int dx = patron__match_score_q(&x, q, &recs[j], &cfg, t);
                int dy = patron__match_score_q(&y, qd, &recs[j], &cfg, t), dz;
                /* decision_only: a result not cleared beyond what the
                 * scorer reads; garbage before it must not show */
                memset(&z, 0xa5, sizeof z);
                dz = patron__match_score_q(&z, qo, &recs[j], &cfg, t);
                if (dx != dy || dx != dz)
                    fail_msg("config %d, records %zu and %zu: %s in full, %s with distinct_only, %s with decision_only",
                             c, i, j, patron__match_decision_name(dx), patron__match_decision_name(dy),
                             patron__match_decision_name(dz));
                if (dx != PATRON__MATCH_DISTINCT) {
                    same_result(&x, &y);
                    same_result(&x, &z);
                    assert_memory_equal(&x.address_weight, &z.address_weight, sizeof x.address_weight);
                    assert_memory_equal(&x.name_address_cut, &z.name_address_cut, sizeof x.name_address_cut);
                    for (int f = 0; f < PATRON__MF_COUNT; f++) {
                        assert_int_equal(x.field[f].tf, z.field[f].tf);
                        assert_memory_equal(&x.field[f].count, &z.field[f].count, sizeof(double));
                        assert_memory_equal(&x.field[f].n, &z.field[f].n, sizeof(double));
                        assert_memory_equal(&x.field[f].base_weight, &z.field[f].base_weight, sizeof(double));
                    }
                    decided[dx]++;
                    by_rule[x.rule]++;
                }
                /* a pair told DISTINCT early has no address levels set */
                if (dy == PATRON__MATCH_DISTINCT && !y.field[PATRON__MF_STREET].a)
                    pruned++;
                else
                    kept++;
            }
        }
    }
    print_message("distinct_only: %zu pairs told DISTINCT early, %zu scored in full (merge %zu, review %zu, "
                  "household %zu; rules household %zu, other names %zu, name only %zu)\n",
                  pruned, kept, decided[PATRON__MATCH_MERGE], decided[PATRON__MATCH_REVIEW],
                  decided[PATRON__MATCH_HOUSEHOLD], by_rule[PATRON__MATCH_RULE_HOUSEHOLD],
                  by_rule[PATRON__MATCH_RULE_OTHER_NAMES], by_rule[PATRON__MATCH_RULE_NAME_ONLY]);
    /* the test covers both sides of the bound and the rules that lift a
     * pair the evidence calls DISTINCT */
    assert_true(pruned > 1000);
    assert_true(decided[PATRON__MATCH_REVIEW] > 100 && decided[PATRON__MATCH_HOUSEHOLD] > 100 &&
                decided[PATRON__MATCH_MERGE] > 100);
    assert_true(by_rule[PATRON__MATCH_RULE_NAME_ONLY] > 0 && by_rule[PATRON__MATCH_RULE_HOUSEHOLD] > 0);
    for (size_t i = 0; i < N; i++)
        patron__match_rec_free(&recs[i]);
    free(recs);
    free(q);
    free(qd);
    free(qo);
}

/* The exit once the best pair of addresses is known (surely_distinct with
 * find_addresses' result in score.c) and the others_up bound of the
 * household rule's building: households at one building (one last name,
 * other given names, the street alike or mistyped, the address lines
 * swapped), neighbours, Packstations, records registered at work (a work
 * mailbox beside no company), a personal mobile number under two last
 * names (the marriage's move), addresses with frequencies, one and two
 * addresses.  Under configurations that move each floor and ceiling the
 * bound adds, and the review threshold across the range, every pair gives
 * the same decision with distinct_only and decision_only as in full, and
 * the same result where it is not DISTINCT.  One configuration makes a
 * street's SIMILAR level weigh so much that the addresses' bound before
 * find_addresses exits no pair of two streets: the exit after it must
 * fire there (a DISTINCT result with the names set and no address). */
static void test_address_bound(void **state)
{
    static const char *const first[] = {"Hans", "Sabine", "Jan", "Jana", "Peter", "H.", "", "Hans Peter"};
    static const char *const last[] = {"Krause", "Krause", "Krause", "Krauss", "Meier", ""};
    static const char *const company[] = {"", "", "", "Muster GmbH"};
    static const char *const email[] = {"", "", "hk@muster.de", "sabine.krause@web.de", "info@muster.de", "k1960@gmx.de"};
    static const char *const phone[] = {"", "", "0171 2345678", "030 1234567", "0172 555111"};
    static const char *const birth[] = {"", "", "1980-01-02", "1955-05-05"};
    static const char *const street[] = {"Hauptstr.", "Hauptsr.", "Ringweg", "Packstation", "Am Markt", ""};
    static const char *const number[] = {"12", "14", "12a", "21", ""};
    static const char *const addition[] = {"", "", "", "Hinterhaus", "Hauptstr."};
    static const char *const postal[] = {"10115", "10117", "80331", ""};
    static const char *const city[] = {"Berlin", "Berln", "M\xc3\xbcnchen"};
    enum { N = 1000, PER = 24, C = 12, SLOTS = PATRON__MATCH_TF_SLOT_ADDR + 2 };
    patron__match_rec *recs = calloc(N, sizeof *recs);
    uint32_t *counts = calloc((size_t)N * SLOTS, sizeof *counts);
    patron__match_query *q = malloc(sizeof *q), *qd = malloc(sizeof *qd), *qo = malloc(sizeof *qo);
    patron__match_tf_memo *memo = malloc(sizeof *memo);
    size_t at_addresses = 0, kept = 0, pairs = 0;
    (void)state;
    assert_non_null(recs);
    assert_non_null(counts);
    assert_non_null(q);
    assert_non_null(qd);
    assert_non_null(qo);
    assert_non_null(memo);
    for (size_t i = 0; i < N; i++) {
        patron__match_raw raw;
        patron__match_raw_addr ad[2];
        memset(&raw, 0, sizeof raw);
        memset(ad, 0, sizeof ad);
        raw.first_name = PICK(first);
        raw.last_name = PICK(last);
        raw.company = PICK(company);
        raw.email = PICK(email);
        raw.phone = PICK(phone);
        raw.birth_date = PICK(birth);
        for (size_t k = 0; k < 2; k++) {
            ad[k].street = PICK(street);
            ad[k].house_number = PICK(number);
            ad[k].addition = PICK(addition);
            ad[k].postal_code = PICK(postal);
            ad[k].city = PICK(city);
        }
        raw.addr = ad;
        raw.n_addr = next() % 4 == 0 ? 2 : (next() % 10 == 0 ? 0 : 1);
        assert_int_equal(patron__match_normalize(&recs[i], &raw, "DE"), 0);
        for (size_t k = 0; k < SLOTS; k++) {
            uint32_t v = next();
            counts[i * SLOTS + k] = v % 5 == 0 ? 0 : v % 5 <= 2 ? 1 + v / 5 % 2 : 1 + v / 5 % 300;
        }
    }
    for (int c = 0; c < C; c++) {
        patron__match_config cfg;
        patron__match_config_default(&cfg);
        switch (c) {
        case 1: cfg.review_threshold = 0.05; break;
        case 2: cfg.review_threshold = 0.3; cfg.tf_up_max = 3.0; break;
        case 3: cfg.review_threshold = 0.9; cfg.merge_threshold = 0.99; break;
        case 4: cfg.address_max = 0; cfg.name_address_max = 0; break;
        case 5: cfg.address_floor = -1.0; cfg.company_contact_floor = -0.1; break;
        case 6: cfg.company_contact_floor = -3.0; cfg.marriage_move_floor = -0.1; cfg.personal_contact = 2.5; break;
        case 7: cfg.marriage_move_floor = -0.1; cfg.personal_contact = 2.5; cfg.review_threshold = 0.2; cfg.rare_name_expect = 0; break;
        case 8: cfg.address_max = 4.0; cfg.review_threshold = 0.4; break;
        case 11: cfg.personal_contact = 2.5; cfg.marriage_move_floor = -0.1; cfg.tf_up_max = 0.5; break;
        default: break;
        }
        patron__match_config_update(&cfg);
        if (c == 11) { /* a mailbox or mobile number the pair alone holds is no own evidence: the marriage's floor decides */
            cfg.weight[PATRON__MF_EMAIL][PATRON__ML_EXACT] = 1.0;
            cfg.weight[PATRON__MF_PHONE][PATRON__ML_EXACT] = 1.0;
            cfg.review_score = cfg.prior + 1.5;
        }
        if (c == 9 || c == 10) /* the addresses' bound before find_addresses exits no pair of two streets */
            cfg.weight[PATRON__MF_STREET][PATRON__ML_SIMILAR] = 12.0;
        if (c == 10)
            cfg.review_score = cfg.prior + 4.0; /* a review threshold between the levels' sums */
        patron__match_tf_memo_init(memo);
        for (size_t i = 0; i < N; i++) {
            patron__match_query_init(q, &recs[i]);
            patron__match_query_init(qd, &recs[i]);
            patron__match_query_init(qo, &recs[i]);
            qd->distinct_only = 1;
            qo->distinct_only = qo->decision_only = 1;
            for (int k = 0; k < PER; k++) {
                size_t j = k < PER / 2 ? (i + 1 + (size_t)k * 5) % N : next() % N;
                patron__match_tf with = {NULL, NULL, 5000, counts + i * SLOTS, memo}, rare = {fake_count_rare, NULL, 1000, NULL, NULL};
                const patron__match_tf *t = k % 3 == 0 ? NULL : k % 3 == 1 ? &with : &rare;
                patron__match_result x, y, z;
                int dx = patron__match_score_q(&x, q, &recs[j], &cfg, t), dy, dz;
                dy = patron__match_score_q(&y, qd, &recs[j], &cfg, t);
                memset(&z, 0x5a, sizeof z);
                dz = patron__match_score_q(&z, qo, &recs[j], &cfg, t);
                if (dx != dy || dx != dz)
                    fail_msg("config %d, records %zu and %zu: %s in full, %s with distinct_only, %s with decision_only", c, i,
                             j, patron__match_decision_name(dx), patron__match_decision_name(dy),
                             patron__match_decision_name(dz));
                if (dx != PATRON__MATCH_DISTINCT) {
                    same_result(&x, &y);
                    same_result(&x, &z);
                    kept++;
                }
                if ((c == 9 || c == 10) && dy == PATRON__MATCH_DISTINCT && y.field[PATRON__MF_FIRST].a && !y.field[PATRON__MF_STREET].a &&
                    x.field[PATRON__MF_STREET].level == PATRON__ML_DIFFERENT)
                    at_addresses++;
                pairs++;
            }
        }
    }
    print_message("address bound: %zu pairs, %zu not DISTINCT, %zu of two streets DISTINCT once the addresses were "
                  "compared\n", pairs, kept, at_addresses);
    assert_true(kept > 1000);
    assert_true(at_addresses > 300);
    for (size_t i = 0; i < N; i++)
        patron__match_rec_free(&recs[i]);
    free(recs);
    free(counts);
    free(q);
    free(qd);
    free(qo);
    free(memo);
}

/* Records normalised into a pool (batch dedupe's rows) are the records
 * patron__match_normalize makes, each keeps its bytes while more are
 * added (blocks fill and new ones start; a record larger than a block
 * gets one of its own), and freeing the pool frees them all (the ASan and
 * valgrind runs of this suite see a leak or an overlap). */
static int same_str(const char *a, size_t na, const char *b, size_t nb)
{
    return na == nb && memcmp(a, b, na) == 0 && a[na] == '\0' && b[nb] == '\0';
}

static void test_pool(void **state)
{
    enum { N = 3000, MANY = 400 };
    static const char *firsts[] = {"Anna", "Dr. Hans-Peter", "Jürgen", "", "Ömer", "M."};
    static const char *lasts[] = {"Müller", "von der Heide", "Schmidt-Weiß", "O'Brien", ""};
    static const char *streets[] = {"Hauptstr. 5", "Am Weißen Stein 12a", "Königsallee", ""};
    patron__match_rec *pooled = calloc(N, sizeof *pooled), *own = calloc(N, sizeof *own);
    patron__match_raw_addr *many = calloc(MANY, sizeof *many);
    patron__match_pool pool;
    char longstreet[240];
    (void)state;
    assert_non_null(pooled);
    assert_non_null(own);
    assert_non_null(many);
    memset(&pool, 0, sizeof pool);
    memset(longstreet, 'x', sizeof longstreet - 1);
    longstreet[sizeof longstreet - 1] = '\0';
    for (size_t k = 0; k < MANY; k++) {
        many[k].street = longstreet;
        many[k].house_number = "1";
        many[k].postal_code = "10115";
        many[k].city = "Berlin";
    }
    for (size_t i = 0; i < N; i++) {
        patron__match_raw raw;
        patron__match_raw_addr ad;
        memset(&raw, 0, sizeof raw);
        memset(&ad, 0, sizeof ad);
        raw.first_name = firsts[i % 6];
        raw.last_name = lasts[i / 6 % 5];
        raw.email = i % 4 ? "kunde@example.de" : NULL;
        raw.phone = i % 3 ? "+49 30 1234567" : NULL;
        ad.street = streets[i % 4];
        ad.postal_code = "10115";
        ad.city = "Berlin";
        raw.addr = i % 1000 == 999 ? many : &ad; /* (three records of ~100 KB) */
        raw.n_addr = i % 1000 == 999 ? MANY : i % 7 ? 1 : 0;
        assert_int_equal(patron__match_normalize_pool(&pooled[i], &raw, "DE", &pool), 0);
        assert_int_equal(patron__match_normalize(&own[i], &raw, "DE"), 0);
        assert_null(pooled[i].mem);
        assert_non_null(own[i].mem);
    }
    for (size_t i = 0; i < N; i++) { /* (after all were made) */
        const patron__match_rec *p = &pooled[i], *o = &own[i];
        assert_true(same_str(p->first, p->first_len, o->first, o->first_len));
        assert_true(same_str(p->last, p->last_len, o->last, o->last_len));
        assert_true(same_str(p->company, p->company_len, o->company, o->company_len));
        assert_true(same_str(p->email, p->email_len, o->email, o->email_len));
        assert_true(same_str(p->phone, p->phone_len, o->phone, o->phone_len));
        assert_string_equal(p->first_kp, o->first_kp);
        assert_string_equal(p->last_kp, o->last_kp);
        assert_int_equal(p->n_addr, o->n_addr);
        assert_int_equal(p->n_addr, i % 1000 == 999 ? MANY : i % 7 ? 1 : 0);
        assert_int_equal((uintptr_t)p->addr % _Alignof(patron__match_addr), 0);
        for (size_t k = 0; k < p->n_addr; k++) {
            const patron__match_addr *x = &p->addr[k], *y = &o->addr[k];
            assert_true(same_str(x->street, x->street_len, y->street, y->street_len));
            assert_true(same_str(x->number, x->number_len, y->number, y->number_len));
            assert_true(same_str(x->postal, x->postal_len, y->postal, y->postal_len));
            assert_true(same_str(x->city, x->city_len, y->city, y->city_len));
            assert_string_equal(x->country, y->country);
        }
        patron__match_rec_free(&pooled[i]); /* (leaves the pool's bytes) */
        patron__match_rec_free(&own[i]);
    }
    assert_non_null(pool.block);
    patron__match_pool_free(&pool);
    assert_null(pool.block);
    assert_null(pool.cur);
    free(pooled);
    free(own);
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_exhaustive_binary),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_typo_out),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_distinct_only),
        cmocka_unit_test(test_names_bound),
        cmocka_unit_test(test_address_bound),
        cmocka_unit_test(test_tf_memo),
        cmocka_unit_test(test_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
