/*
 * String comparators: Jaro-Winkler and Damerau-Levenshtein (optimal string
 * alignment), bit-parallel for short strings.
 *
 * SPDX-License-Identifier: MIT
 */
#include "match.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- Jaro-Winkler --------------------------------------------------------- */

#define JW_MAX 255 /* longer strings are compared on their first JW_MAX bytes */

/* Lowest set bit's index; x != 0. */
static unsigned lowest_bit(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned n = 0;
    while (!(x & 1)) {
        x >>= 1;
        n++;
    }
    return n;
#endif
}

/*
 * The Jaro matching, bit-parallel (after the bit-vector Jaro of rapidfuzz
 * and Hyyrö's pattern masks): pm[c] has bit i set where p[i] == c; p and t
 * at most 64 bytes.  For each t[j] in order, the lowest free position of p
 * holding t[j] within the window is matched — one AND and one lowest-bit
 * per character instead of a scan of the window.
 *
 * This is the classic scan (for each a[i], the lowest free b[j]) with the
 * roles of the strings exchanged, and both give the same matched pairs: per
 * character the two scans are one two-pointer walk over its positions in
 * either string (drop the position that lies more than the window behind
 * the other one, else match both), which does not depend on the side it
 * starts from.  So m and the transpositions, and with them the score, are
 * the same either way round; the unit tests compare it with the scan.
 */
static double jaro_bits(const uint64_t *pm, const unsigned char *p, size_t lp, const unsigned char *t,
                        size_t lt)
{
    size_t window = (lp > lt ? lp : lt) / 2, j, m = 0, tr = 0;
    uint64_t bound, pflag = 0, tflag = 0;

    window = window > 0 ? window - 1 : 0; /* <= 31 */
    bound = ((uint64_t)2 << window) - 1;  /* positions 0 .. window of p */
    for (j = 0; j < lt; j++) {
        uint64_t x = pm[t[j]] & bound & ~pflag;
        pflag |= x & (0 - x);
        tflag |= (uint64_t)(x != 0) << j;
        m += x != 0;
        bound = j < window ? (bound << 1) | 1 : bound << 1;
    }
    if (m == 0)
        return 0.0;
    /* transpositions: the k-th matched byte of each string differ */
    while (tflag) {
        tr += p[lowest_bit(pflag)] != t[lowest_bit(tflag)];
        pflag &= pflag - 1;
        tflag &= tflag - 1;
    }
    return ((double)m / (double)lp + (double)m / (double)lt + ((double)m - (double)(tr / 2)) / (double)m) /
           3.0;
}

/* Strings longer than 64 bytes: the scan with a flag per byte. */
static double jaro_long(const char *a, size_t la, const char *b, size_t lb)
{
    unsigned char fa[JW_MAX], fb[JW_MAX];
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
    return ((double)m / (double)la + (double)m / (double)lb +
            ((double)m - (double)(t / 2)) / (double)m) /
           3.0;
}

/* Winkler: common prefix up to 4, applied above 0.7 */
static double winkler(double jaro, const char *a, size_t la, const char *b, size_t lb)
{
    size_t l = 0;

    if (jaro > 0.7) {
        while (l < 4 && l < la && l < lb && a[l] == b[l])
            l++;
        jaro += (double)l * 0.1 * (1.0 - jaro);
    }
    return jaro;
}

double patron__match_jaro_winkler(const char *a, size_t la, const char *b, size_t lb)
{
    const unsigned char *ua = (const unsigned char *)a, *ub = (const unsigned char *)b;
    double jaro;

    if (la > JW_MAX)
        la = JW_MAX;
    if (lb > JW_MAX)
        lb = JW_MAX;
    if (la == 0 && lb == 0)
        return 1.0;
    if (la == 0 || lb == 0)
        return 0.0;
    if (la == lb && memcmp(a, b, la) == 0)
        return 1.0;
    if (la <= 64 && lb <= 64) {
        uint64_t pm[256];
        size_t i;
        /* only the entries read below are initialised: no 2 KiB memset */
        for (i = 0; i < la; i++)
            pm[ua[i]] = 0;
        for (i = 0; i < lb; i++)
            pm[ub[i]] = 0;
        for (i = 0; i < lb; i++)
            pm[ub[i]] |= (uint64_t)1 << i;
        jaro = jaro_bits(pm, ub, lb, ua, la);
    } else {
        jaro = jaro_long(a, la, b, lb);
    }
    return winkler(jaro, a, la, b, lb);
}

int patron__match_typo_out(const char *a, size_t la, const char *b, size_t lb, int max_edits, double jw_min)
{
    const unsigned char *ua = (const unsigned char *)a, *ub = (const unsigned char *)b;
    /* the bytes counted by their low 6 bits: the letters of a folded
     * name apart, the rest sharing counters (which only counts more in
     * common: still a bound) */
    size_t i, common = 0, hi = la > lb ? la : lb;
    double jaro;

    if (la > 64 || lb > 64)
        return 0;
#if defined(__SSE2__)
    {
        /* a counter per class for each string, the smaller of each pair
         * summed: the bytes in common without a branch per byte (the
         * test of the scan below mispredicts on most names); a counter
         * is at most 64, a byte holds it */
        _Alignas(16) unsigned char ca[64], cb[64];
        __m128i sum = _mm_setzero_si128();
        memset(ca, 0, sizeof ca);
        memset(cb, 0, sizeof cb);
        for (i = 0; i < la; i++)
            ca[ua[i] & 63]++;
        for (i = 0; i < lb; i++)
            cb[ub[i] & 63]++;
        for (i = 0; i < 64; i += 16)
            sum = _mm_add_epi64(sum, _mm_sad_epu8(_mm_min_epu8(_mm_load_si128((const __m128i *)(const void *)(ca + i)),
                                                               _mm_load_si128((const __m128i *)(const void *)(cb + i))),
                                                 _mm_setzero_si128()));
        common = (size_t)_mm_cvtsi128_si32(sum) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
    }
#else
    {
        unsigned char cnt[64];
        memset(cnt, 0, sizeof cnt);
        for (i = 0; i < la; i++)
            cnt[ua[i] & 63]++;
        for (i = 0; i < lb; i++)
            if (cnt[ub[i] & 63]) {
                cnt[ub[i] & 63]--;
                common++;
            }
    }
#endif
    /* the bag distance hi - common is at most the edit distance: an
     * insertion, deletion or substitution changes it by one at most, a
     * transposition not at all */
    if (max_edits >= 0 && hi - common <= (size_t)max_edits)
        return 0;
    if (la == 0 || lb == 0)
        return (la == 0 && lb == 0 ? 1.0 : 0.0) < jw_min;
    /* Jaro with m matches: (m/la + m/lb + (m - t)/m) / 3, at most that with
     * m = common and no transposition; Winkler adds at most 0.4 of the
     * rest (a prefix of 4).  A margin for the kernels' rounding. */
    jaro = common ? ((double)common / (double)la + (double)common / (double)lb + 1.0) / 3.0 : 0.0;
    return jaro + 0.4 * (1.0 - jaro) < jw_min - 1e-9;
}

/* ---- one string against many: its pattern masks once ------------------------ */

void patron__match_pattern_init(patron__match_pattern *p, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;

    p->s = s;
    p->len = len;
    p->bits = len > 0 && len <= 64;
    if (!p->bits)
        return;
    memset(p->mask, 0, sizeof p->mask);
    for (size_t i = 0; i < len; i++)
        p->mask[u[i]] |= (uint64_t)1 << i;
}

double patron__match_jaro_winkler_p(const patron__match_pattern *p, const char *b, size_t lb)
{
    size_t la = p->len;
    double jaro;

    if (!p->bits || lb == 0 || lb > 64)
        return patron__match_jaro_winkler(p->s, la, b, lb);
    if (la == lb && memcmp(p->s, b, la) == 0)
        return 1.0;
    jaro = jaro_bits(p->mask, (const unsigned char *)p->s, la, (const unsigned char *)b, lb);
    return winkler(jaro, p->s, la, b, lb);
}

/* ---- Damerau-Levenshtein (optimal string alignment) --------------------------- */

/*
 * Bit-parallel OSA distance after Hyyrö (2003), "A bit-vector algorithm for
 * computing Levenshtein and Damerau edit distances": Myers' algorithm with a
 * transposition vector.  peq: the pattern masks of a string of m bytes,
 * 1 <= m <= 64 (the shorter one, or a query's pattern of either length:
 * the distance is symmetric); t: the other string.
 */
static size_t osa_run(const uint64_t *peq, size_t m, const unsigned char *t, size_t n)
{
    uint64_t vp = m == 64 ? ~(uint64_t)0 : (((uint64_t)1 << m) - 1);
    uint64_t vn = 0, d0 = 0, pm_prev = 0, top = (uint64_t)1 << (m - 1);
    size_t i, score = m;

    for (i = 0; i < n; i++) {
        uint64_t pm = peq[t[i]];
        uint64_t tr = (((~d0) & pm) << 1) & pm_prev;
        uint64_t hp, hn;
        d0 = (((pm & vp) + vp) ^ vp) | pm | vn | tr;
        hp = vn | ~(d0 | vp);
        hn = d0 & vp;
        /* at most one of the two is set: no branch to mispredict */
        score += (hp & top) != 0;
        score -= (hn & top) != 0;
        hp = (hp << 1) | 1;
        hn <<= 1;
        vp = hn | ~(d0 | hp);
        vn = hp & d0;
        pm_prev = pm;
    }
    return score;
}

static size_t osa_bits(const unsigned char *p, size_t m, const unsigned char *t, size_t n)
{
    uint64_t peq[256];
    size_t i;

    /* Only the entries read below are initialised: no 2 KiB memset. */
    for (i = 0; i < n; i++)
        peq[t[i]] = 0;
    for (i = 0; i < m; i++)
        peq[p[i]] = 0;
    for (i = 0; i < m; i++)
        peq[p[i]] |= (uint64_t)1 << i;
    return osa_run(peq, m, t, n);
}

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Plain dynamic programming for long strings; three rows. */
static size_t osa_dp(const unsigned char *a, size_t la, const unsigned char *b, size_t lb)
{
    size_t *rows = PATRON_MALLOC(3 * (lb + 1) * sizeof(size_t));
    size_t *r0, *r1, *r2, i, j, d;

    if (!rows)
        return la > lb ? la : lb;
    r0 = rows;              /* row i-2 */
    r1 = rows + (lb + 1);   /* row i-1 */
    r2 = rows + 2 * (lb + 1); /* row i */
    for (j = 0; j <= lb; j++)
        r1[j] = j;
    for (i = 1; i <= la; i++) {
        size_t *tmp;
        r2[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            r2[j] = min3(r1[j] + 1, r2[j - 1] + 1, r1[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                r0[j - 2] + 1 < r2[j])
                r2[j] = r0[j - 2] + 1;
        }
        tmp = r0;
        r0 = r1;
        r1 = r2;
        r2 = tmp;
    }
    d = r1[lb];
    PATRON_FREE(rows);
    return d;
}

size_t patron__match_osa(const char *a, size_t la, const char *b, size_t lb)
{
    const unsigned char *ua = (const unsigned char *)a, *ub = (const unsigned char *)b;

    if (la == 0)
        return lb;
    if (lb == 0)
        return la;
    if (la > lb) {
        const unsigned char *tp = ua;
        size_t tl = la;
        ua = ub;
        la = lb;
        ub = tp;
        lb = tl;
    }
    if (la <= 64)
        return osa_bits(ua, la, ub, lb);
    return osa_dp(ua, la, ub, lb);
}

/* One edit apart (the question of a typo in a postal code, a phone, a
 * mailbox, a house or customer number): a substitution or an adjacent
 * transposition where the lengths agree, an insertion where they differ by
 * one.  A scan of the common prefix and a memcmp of the rest instead of
 * the masks and the bit-parallel pass: most such pairs differ in several
 * places and are told apart at the second mismatch. */
/* memcmp(a, b, n) == 0 as a loop: the rests compared below are short
 * (postal codes, house numbers) or differ early, so a call costs more than
 * the few bytes it reads */
static inline int same_rest(const char *a, const char *b, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (a[k] != b[k])
            return 0;
    return 1;
}

int patron__match_osa_is_one(const char *a, size_t la, const char *b, size_t lb)
{
    size_t i = 0;

    if (la == lb) {
        while (i < la && a[i] == b[i])
            i++;
        if (i == la)
            return 0; /* equal */
        if (same_rest(a + i + 1, b + i + 1, la - i - 1))
            return 1; /* one substitution */
        return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] && same_rest(a + i + 2, b + i + 2, la - i - 2);
    }
    if (la + 1 == lb || lb + 1 == la) {
        const char *s = la < lb ? a : b, *l = la < lb ? b : a;
        size_t ls = la < lb ? la : lb;
        while (i < ls && s[i] == l[i])
            i++;
        return same_rest(s + i, l + i + 1, ls - i); /* l's byte i inserted */
    }
    return 0;
}

size_t patron__match_osa_p(const patron__match_pattern *p, const char *b, size_t lb)
{
    /* the distance is symmetric: the pattern may be the longer string */
    if (!p->bits || lb == 0)
        return patron__match_osa(p->s, p->len, b, lb);
    return osa_run(p->mask, p->len, (const unsigned char *)b, lb);
}
