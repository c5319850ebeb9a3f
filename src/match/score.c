/*
 * Field comparison levels, Fellegi-Sunter weights, the decision and its
 * explanation.
 *
 * SPDX-License-Identifier: MIT
 */
#include "match.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- configuration ---------------------------------------------------------- */

struct mu {
    int field, level;
    double m, u;
};

/*
 * Built-in m/u probabilities.  m: how often the level occurs for two records
 * of one person; u: how often for two different people that share a
 * blocking key (so u of "postal code equal" is high: candidates mostly come
 * from one area).  Derived from German shop data patterns and checked on
 * the generator and FEBRL sets; they are general, not fitted per record.
 */
static const struct mu default_mu[] = {
    {PATRON__MF_FIRST, PATRON__ML_EXACT, 0.86, 0.02},
    {PATRON__MF_FIRST, PATRON__ML_VARIANT, 0.02, 0.002},
    {PATRON__MF_FIRST, PATRON__ML_SIMILAR, 0.09, 0.004},
    {PATRON__MF_FIRST, PATRON__ML_PHONETIC, 0.01, 0.005},
    {PATRON__MF_FIRST, PATRON__ML_PARTIAL, 0.01, 0.001},
    {PATRON__MF_FIRST, PATRON__ML_INITIAL, 0.03, 0.01},
    {PATRON__MF_FIRST, PATRON__ML_SWAPPED, 0.01, 0.0003},
    {PATRON__MF_FIRST, PATRON__ML_DIFFERENT, 0.05, 0.95},

    {PATRON__MF_LAST, PATRON__ML_EXACT, 0.85, 0.01},
    {PATRON__MF_LAST, PATRON__ML_SIMILAR, 0.08, 0.003},
    {PATRON__MF_LAST, PATRON__ML_PHONETIC, 0.015, 0.005},
    {PATRON__MF_LAST, PATRON__ML_PARTIAL, 0.01, 0.001},
    {PATRON__MF_LAST, PATRON__ML_SWAPPED, 0.01, 0.0003},
    {PATRON__MF_LAST, PATRON__ML_DIFFERENT, 0.05, 0.97},

    {PATRON__MF_STREET, PATRON__ML_EXACT, 0.85, 0.03},
    {PATRON__MF_STREET, PATRON__ML_SIMILAR, 0.1, 0.006},
    {PATRON__MF_STREET, PATRON__ML_DIFFERENT, 0.04, 0.96},

    {PATRON__MF_NUMBER, PATRON__ML_EXACT, 0.88, 0.05},
    {PATRON__MF_NUMBER, PATRON__ML_PARTIAL, 0.04, 0.015},
    {PATRON__MF_NUMBER, PATRON__ML_DIFFERENT, 0.06, 0.93},

    {PATRON__MF_ADDITION, PATRON__ML_EXACT, 0.8, 0.02},
    {PATRON__MF_ADDITION, PATRON__ML_SIMILAR, 0.1, 0.01},
    {PATRON__MF_ADDITION, PATRON__ML_DIFFERENT, 0.1, 0.97},

    {PATRON__MF_POSTAL, PATRON__ML_EXACT, 0.9, 0.05},
    {PATRON__MF_POSTAL, PATRON__ML_PARTIAL, 0.05, 0.01},
    {PATRON__MF_POSTAL, PATRON__ML_DIFFERENT, 0.03, 0.93},

    {PATRON__MF_CITY, PATRON__ML_EXACT, 0.9, 0.2},
    {PATRON__MF_CITY, PATRON__ML_SIMILAR, 0.06, 0.02},
    {PATRON__MF_CITY, PATRON__ML_DIFFERENT, 0.04, 0.7},

    {PATRON__MF_EMAIL, PATRON__ML_EXACT, 0.9, 0.0005},
    /* one character apart: a typo, or two namesakes' name-built mailboxes
     * (sabine.mueller@ / sabine_mueller@) */
    {PATRON__MF_EMAIL, PATRON__ML_SIMILAR, 0.03, 0.005},
    /* two mailboxes of one person happen (a second address), but two
     * different people differ in their mailbox almost always */
    {PATRON__MF_EMAIL, PATRON__ML_DIFFERENT, 0.02, 0.999},

    {PATRON__MF_PHONE, PATRON__ML_EXACT, 0.85, 0.002},
    {PATRON__MF_PHONE, PATRON__ML_SIMILAR, 0.05, 0.001},
    {PATRON__MF_PHONE, PATRON__ML_DIFFERENT, 0.1, 0.99},

    /* two people of one block share a birth date about 1 in 25 000 times
     * (365 days, some 70 years); u leaves room for twins and placeholder
     * dates (01.01.): a full name and a birth date say one person even
     * after a move with a new mailbox and phone */
    {PATRON__MF_BIRTH, PATRON__ML_EXACT, 0.88, 0.0003},
    {PATRON__MF_BIRTH, PATRON__ML_PARTIAL, 0.06, 0.001},
    /* the year agrees, day and month do not (not a typo of them): the
     * day entered wrongly, or two people of one age - a birth year is
     * shared by about 1 in 80 strangers, never by father and son */
    {PATRON__MF_BIRTH, PATRON__ML_SIMILAR, 0.0125, 0.0125},
    {PATRON__MF_BIRTH, PATRON__ML_DIFFERENT, 0.04, 0.9765},

    {PATRON__MF_COMPANY, PATRON__ML_EXACT, 0.85, 0.01},
    {PATRON__MF_COMPANY, PATRON__ML_SIMILAR, 0.05, 0.01},
    {PATRON__MF_COMPANY, PATRON__ML_DIFFERENT, 0.1, 0.98},


    /* an identifier (customer card, number in a previous ERP, VAT ID of a
     * company) settles identity both ways */
    {PATRON__MF_IDENTIFIER, PATRON__ML_EXACT, 0.95, 0.0001},
    {PATRON__MF_IDENTIFIER, PATRON__ML_SIMILAR, 0.05, 0.0005}, /* one typo */
    /* a new card, a number entered wrongly: it happens (FEBRL replaces
     * about 4 in 100); EM on the shop's data refines it */
    {PATRON__MF_IDENTIFIER, PATRON__ML_DIFFERENT, 0.04, 0.9999},
};

/* log2 and 2^x without libm (the core links only libc), from the bits of
 * the double: exact to ~1e-13, and cheap — the batch calls them for every
 * scored pair. */
double patron__match_log2(double x)
{
    uint64_t bits;
    int e;
    double m, y, y2, term, sum = 0;

    if (!(x > 0))
        return -1e9;
    if (x > 1e300)
        return 1e9;
    memcpy(&bits, &x, sizeof bits);
    e = (int)((bits >> 52) & 0x7ff);
    if (e == 0) { /* subnormal: scale up first */
        x *= 4503599627370496.0; /* 2^52 */
        memcpy(&bits, &x, sizeof bits);
        e = (int)((bits >> 52) & 0x7ff) - 52;
    }
    e -= 1023;
    bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
    memcpy(&m, &bits, sizeof m); /* [1, 2) */
    if (m > 1.4142135623730951) {
        m /= 2.0;
        e++;
    }
    /* ln m = 2 atanh((m-1)/(m+1)), |y| <= 0.172 */
    y = (m - 1.0) / (m + 1.0);
    y2 = y * y;
    term = y;
    for (int k = 1; k < 24; k += 2) {
        sum += term / k;
        term *= y2;
    }
    return (double)e + 2.0 * sum / 0.69314718055994530942;
}

double patron__match_exp2(double x)
{
    double f, t = 1.0, r = 1.0, scale;
    int i;
    uint64_t bits;

    if (x > 1000)
        x = 1000;
    if (x < -1000)
        x = -1000;
    i = (int)x;
    if ((double)i > x)
        i--;
    f = (x - i) * 0.69314718055994530942; /* [0, ln 2) */
    for (int k = 1; k < 18; k++) {
        t *= f / k;
        r += t;
    }
    if (i < -1022 || i > 1023) { /* outside the normal range: by halves */
        for (; i > 0; i--)
            r *= 2.0;
        for (; i < 0; i++)
            r /= 2.0;
        return r;
    }
    bits = (uint64_t)(i + 1023) << 52;
    memcpy(&scale, &bits, sizeof scale);
    return r * scale;
}

double patron__match_probability(double score)
{
    double e = patron__match_exp2(-score);
    return 1.0 / (1.0 + e);
}

static double logit2(double p)
{
    if (p <= 0)
        return -1e9;
    if (p >= 1)
        return 1e9;
    return patron__match_log2(p / (1.0 - p));
}

void patron__match_model_default(patron__match_model *mo)
{
    size_t i;

    memset(mo, 0, sizeof *mo);
    mo->lambda = 0.1;
    for (i = 0; i < sizeof default_mu / sizeof default_mu[0]; i++) {
        mo->m[default_mu[i].field][default_mu[i].level] = default_mu[i].m;
        mo->u[default_mu[i].field][default_mu[i].level] = default_mu[i].u;
    }
    /* Term frequencies: a value held by about this many records weighs
     * what the level's m/u say; by more, less; by fewer, up to tf_up_max
     * more.  Email, phone, address, company: a person (and a duplicate or a
     * partner) hold one; names: a share of the store. */
    mo->tf_ref[PATRON__MF_EMAIL] = 2;
    mo->tf_ref[PATRON__MF_PHONE] = 2;
    mo->tf_ref[PATRON__MF_STREET] = 3; /* the address: street + number + postal code */
    mo->tf_ref[PATRON__MF_COMPANY] = 3;
    mo->tf_ref[PATRON__MF_LAST] = 3;
    mo->tf_share[PATRON__MF_LAST] = 0.0005;
    mo->tf_ref[PATRON__MF_FIRST] = 3;
    mo->tf_share[PATRON__MF_FIRST] = 0.003;
    mo->tf_up_max = 1.0;
    /* c holders of one mailbox, phone, address or company are (nearly) c
     * people: from 3 holders on such a value soon says nothing (5 holders
     * of info@: -8 bits of 10.8) */
    mo->tf_power = 6.0;
    mo->tf_power_name = 2.0;
    mo->name_address_max = 14.0;
}

void patron__match_config_update(patron__match_config *cfg)
{
    int f, l;

    for (f = 0; f < PATRON__MF_COUNT; f++)
        for (l = 0; l < PATRON__ML_COUNT; l++) {
            double m = cfg->m[f][l], u = cfg->u[f][l];
            cfg->weight[f][l] = (m > 0 && u > 0 && l != PATRON__ML_MISSING) ? patron__match_log2(m / u) : 0.0;
        }
    cfg->prior = logit2(cfg->lambda);
    cfg->merge_score = logit2(cfg->merge_threshold);
    cfg->review_score = logit2(cfg->review_threshold);
}

void patron__match_config_default(patron__match_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    memcpy(cfg->default_country, "DE", 3);
    cfg->mode = PATRON__MATCH_MODE_FIELDS;
    patron__match_model_default(&cfg->model);
    cfg->merge_threshold = 0.98;
    cfg->review_threshold = 0.6;
    /* a move is one event: P(moved | one person) / P(other address | two
     * people) is about 2^-6, however many address fields differ */
    cfg->address_floor = -6.0;
    /* one building is one fact: street, number, postal code, city and
     * addition agreeing add at most this much (a household, a company, a
     * Packstation share them all) */
    cfg->address_max = 13.0;
    /* info@ says "this company", not "this person" */
    cfg->role_mailbox_max = 0.0;
    /* Another house number on the same street: another building.  The
     * number level's m (0.06) counts moves, where the street differs as
     * well; one person on one street writes one number (a typo of it is
     * PARTIAL): about 1 in 60 of one person's pairs against 19 in 20 of
     * two neighbours', log2(0.016 / 0.95) = -5.9 */
    cfg->other_building = -5.0;
    /* registered at work: the office's address, mailbox and phone beside
     * the home's are expected of one person (about 2^-1 each, not 2^-6) */
    cfg->company_contact_floor = -1.0;
    /* a landline is the home's: a move changes it with the address (one
     * event, as the address floor says), about 2^-1 against one person */
    cfg->moved_landline_floor = -1.0;
    /* a mobile number is its owner's, kept for years (ported from one
     * contract to the next): two records of one person at one address
     * with two different mobile numbers are about 1 in 40 (a number given
     * up, a work phone), two housemates' almost always -
     * log2(0.025 / 0.99) = -5.3 in place of the phone's -3.3 */
    cfg->home_mobiles_differ = -5.3;
    /* a full name that only the pair holds lifts the names to this much:
     * with the prior, REVIEW and not MERGE on its own */
    cfg->full_name_max = 8.0;
    /* a mobile number or personal mailbox held by two records only: u is
     * not the level's (households and offices share landlines and
     * mailboxes) but about one in 10 000 candidate pairs,
     * log2(0.9 / 0.0001) = 13.1; a second mailbox or a new number beside it
     * is one person's, about 2^-1 */
    cfg->personal_contact = 13.0;
    cfg->second_contact_floor = -1.0;
    /* a marriage is as often as not a move to a home of two: where a
     * personal contact value ties the two names, their two addresses weigh
     * about log2(0.5) */
    cfg->marriage_move_floor = -1.0;
    /* a new mailbox with a new home, where name and birth date say one
     * person (moved_with_birth): about log2(0.5) */
    cfg->moved_mailbox_floor = -1.0;
    /* two holders of a name expected 0.1 times among independent names:
     * about 20 to 1 that they are one person, not two namesakes, before the
     * contact data (which a move with a new mailbox changes all at once) */
    cfg->rare_name_expect = 0.1;
    /* a generation: a mother is 15 or older at a child's birth; a birth
     * date entered wrongly is one digit, two transposed, day and month
     * swapped (PARTIAL), not 15 years (see generation_apart) */
    cfg->generation_years = 15;
    /* a mailbox built from the name is the person's own where fewer than
     * half a namesake is expected by chance (name_mailbox_unshared) */
    cfg->name_mailbox_expect = 0.5;
    patron__match_config_update(cfg);
}

/* ---- names -------------------------------------------------------------------- */

static inline uint32_t load4(const char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* memcmp(a, b, n) == 0, the call left out where the first or the last
 * bytes differ (most of the values a scorer compares; phone numbers and
 * postal codes share their first digits), and for values of up to 16
 * bytes (most of them: a batch makes millions of these tests): two
 * overlapping loads of 4 or 8 bytes cover all n bytes, none past them */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    if (n == 0)
        return 1;
    if (a[0] != b[0] || a[n - 1] != b[n - 1])
        return 0;
    if (n <= 3)
        return n < 3 || a[1] == b[1];
    if (n <= 8)
        return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
    if (n <= 16)
        return load8(a) == load8(b) && load8(a + n - 8) == load8(b + n - 8);
    return memcmp(a, b, n) == 0;
}

static size_t min_sz(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* ---- one record against many (patron__match_query) ------------------------------ */

/* A query's pattern, built the second time a comparison needs it (bits -1:
 * not used yet, -2: used once); NULL stays NULL.  NULL also on the first
 * use: the plain kernels then, with the same results (most records of a
 * batch are compared once - blocks are mostly pairs - and 2 KiB of masks
 * cost more than the comparison). */
static const patron__match_pattern *ready(patron__match_pattern *p)
{
    if (!p || p->bits == -1) {
        if (p)
            p->bits = -2;
        return NULL;
    }
    if (p->bits == -2)
        patron__match_pattern_init(p, p->s, p->len);
    return p;
}

static void later(patron__match_pattern *p, const char *s, size_t len)
{
    p->s = s;
    p->len = len;
    p->bits = -1;
}

void patron__match_query_init(patron__match_query *q, const patron__match_rec *a)
{
    size_t i;

    q->rec = a;
    q->distinct_only = 0;
    q->decision_only = 0;
    q->names_ready = 0;
    later(&q->first, a->first, a->first_len);
    later(&q->last, a->last, a->last_len);
    later(&q->company, a->company, a->company_len);
    /* (the patterns of addresses a does not have are never asked for:
     * find_addresses takes a's addresses only) */
    for (i = 0; i < PATRON__MATCH_QUERY_ADDR && i < a->n_addr; i++) {
        const patron__match_addr *x = &a->addr[i];
        later(&q->street[i], x->street, x->street_len);
        later(&q->addition[i], x->addition, x->addition_len);
        later(&q->city[i], x->city, x->city_len);
    }
}

/* p: a's pattern, built (from ready()), or NULL */
static double jw_with(const patron__match_pattern *p, const char *a, size_t la, const char *b, size_t lb)
{
    return p ? patron__match_jaro_winkler_p(p, b, lb) : patron__match_jaro_winkler(a, la, b, lb);
}

static double jw_q(patron__match_pattern *pa, const char *a, size_t la, const char *b, size_t lb)
{
    return jw_with(ready(pa), a, la, b, lb);
}

/* What typo_close tells without its kernels: 1 (a name cut short by a
 * letter or two: "ne" / "ned"), 0 (the lengths, or the bytes the two
 * share, leave neither kernel a yes), else -1 (the kernels decide). */
static int typo_pre(const char *a, size_t la, const char *b, size_t lb, double jw_min)
{
    if (min_sz(la, lb) >= 2 && (la > lb ? la - lb : lb - la) <= 2 &&
        same_bytes(a, b, min_sz(la, lb)))
        return 1;
    {
        /* Jaro-Winkler cannot reach jw_min when the lengths differ too
         * much: Jaro <= (2 + short/long) / 3, the prefix adds at most
         * 0.4 of the rest.  Then only an edit distance of 2 could count. */
        double lo = (double)min_sz(la, lb), hi = (double)(la > lb ? la : lb);
        double jaro_max = (2.0 + lo / hi) / 3.0;
        if (jaro_max + 0.4 * (1.0 - jaro_max) < jw_min && hi - lo > 2)
            return 0;
    }
    {
        /* neither kernel can say yes: the bytes the two have in common
         * are too few (most pairs of names in a block, and the pattern
         * is then never built) */
        int osa = min_sz(la, lb) >= 3 && (la > lb ? la - lb : lb - la) <= 2;
        if (patron__match_typo_out(a, la, b, lb, !osa ? -1 : min_sz(la, lb) >= 8 ? 2 : 1, jw_min))
            return 0;
    }
    return -1;
}

/* A small typo: one edit, or a high Jaro-Winkler similarity.  pa: a's
 * pattern when a is a query's field (or NULL). */
static int typo_close(patron__match_pattern *pa, const char *a, size_t la, const char *b, size_t lb,
                      double jw_min)
{
    size_t d;
    const patron__match_pattern *p;
    int pre = typo_pre(a, la, b, lb, jw_min);

    if (pre >= 0)
        return pre;
    p = ready(pa); /* one use of the pattern for both kernels */
    if (min_sz(la, lb) >= 3 && (la > lb ? la - lb : lb - la) <= 2) {
        d = p ? patron__match_osa_p(p, b, lb) : patron__match_osa(a, la, b, lb);
        if (d <= 1 || (d == 2 && min_sz(la, lb) >= 8))
            return 1;
    }
    return jw_with(p, a, la, b, lb) >= jw_min;
}

/* typo_close(., a, la, b, lb, jw_min) may be 1: 0 only where its tests
 * before the kernels (typo_pre) say 0. */
static int typo_may(const char *a, size_t la, const char *b, size_t lb, double jw_min)
{
    return typo_pre(a, la, b, lb, jw_min) != 0;
}

/* Jan/Jana, Paul/Paula, Simon/Simone, Andrea/Andreas: the male and female
 * forms of one name are two people, not a typo. */
static int gender_suffix(const char *s, size_t ls, const char *l, size_t ll)
{
    char e;

    if (ll != ls + 1 || memcmp(s, l, ls) != 0)
        return 0;
    /* a male form ends in a consonant (Jan, Paul, Simon, Daniel), or is
     * Andrea(s); "Sophi" / "Sophie" is a letter lost, not a man */
    if (ls > 0 && strchr("aeiouy", s[ls - 1]) && !(s[ls - 1] == 'a' && l[ll - 1] == 's'))
        return 0;
    e = l[ll - 1];
    return e == 'a' || e == 'e' || (e == 's' && ls > 0 && s[ls - 1] == 'a');
}

/* The other ways German (and Latin) names form the female from the male:
 * a stem of at least three letters, the male ending, the female ending.
 * Peter/Petra, Stefan/Stefanie, Josef/Josefine, Ulrich/Ulrike,
 * Julius/Julia, Mario/Maria: another person, never a typo. */
static int gender_stem(const char *m, size_t lm, const char *f, size_t lf)
{
    /* the endings with their lengths (a pair of names asks all eight) */
    static const struct {
        const char *m, *f;
        unsigned char sm, sf;
    } pairs[] = {
        { "", "ie", 0, 2 }, { "", "ja", 0, 2 }, { "", "ine", 0, 3 }, { "", "ina", 0, 3 },
        { "er", "ra", 2, 2 }, { "ich", "ike", 3, 3 }, { "us", "a", 2, 1 }, { "o", "a", 1, 1 },
    };
    /* every form shares a stem of three letters or more: most pairs of
     * names part before that */
    if (lm < 3 || lf < 3 || memcmp(m, f, 3) != 0)
        return 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        size_t sm = pairs[i].sm, sf = pairs[i].sf;
        if (lm < sm + 3 || lf < sf + 3 || lm - sm != lf - sf)
            continue;
        if (memcmp(m + lm - sm, pairs[i].m, sm) != 0 || memcmp(f + lf - sf, pairs[i].f, sf) != 0 ||
            memcmp(m, f, lm - sm) != 0)
            continue;
        /* a plain appended ending: the male form ends in a consonant
         * (Stefan / Stefanie; not "Mari" / "Marie", a letter lost) */
        if (sm == 0 && strchr("aeiouy", m[lm - 1]))
            continue;
        return 1;
    }
    return 0;
}

static int gender_pair(const char *a, size_t la, const char *b, size_t lb)
{
    /* both tests need one first letter (a prefix, a stem of three) when
     * neither name is empty: most pairs differ there */
    if (la && lb && a[0] != b[0])
        return 0;
    if (la > lb ? gender_suffix(b, lb, a, la) : gender_suffix(a, la, b, lb))
        return 1;
    return gender_stem(a, la, b, lb) || gender_stem(b, lb, a, la);
}

static int first_token_eq(const char *a, const char *b)
{
    size_t la = strcspn(a, " "), lb = strcspn(b, " ");
    return la == lb && same_bytes(a, b, la);
}

/* any token of a equals any token of b */
static int token_overlap(const char *a, const char *b)
{
    const char *p, *q;

    for (p = a; *p;) {
        size_t lp = strcspn(p, " ");
        for (q = b; *q;) {
            size_t lq = strcspn(q, " ");
            if (lp == lq && lp > 1 && memcmp(p, q, lp) == 0)
                return 1;
            q += lq;
            while (*q == ' ')
                q++;
        }
        p += lp;
        while (*p == ' ')
            p++;
    }
    return 0;
}

static int role_mailbox(const char *email);

/* `tok` (len bytes) is one of the blank-separated tokens of `names`, or
 * close to one (a typo, a short form: Steffi / Stefanie, Flo / Florian) */
static int near_a_name(const char *tok, size_t len, const char *names)
{
    const char *p = names;

    while (*p) {
        size_t lp = strcspn(p, " ");
        if (lp >= 2 && (memcmp(p, tok, lp < len ? lp : len) == 0 ||
                        patron__match_jaro_winkler(p, lp, tok, len) >= 0.8))
            return 1;
        p += lp;
        while (*p == ' ')
            p++;
    }
    return 0;
}

/* An initial's own mailbox may spell out the given name it stands for:
 * "J. Frank, jens1960@..." is Jens, not Johanna.  1 when the local part of
 * `ini`'s mailbox has a word of three letters or more that begins with the
 * initial and is neither near `full`'s given names nor near a last name
 * of either record (frank.j@, j.frank@ say nothing); a mailbox the two
 * records share, or a role mailbox (info@), says nothing either. */
static int mailbox_names_another(const patron__match_rec *ini, const patron__match_rec *full)
{
    const char *e = ini->email, *at, *p;

    if (!ini->email_len || !ini->first[0] || full->first_initials || role_mailbox(e))
        return 0; /* (two initials: nothing to tell the mailbox's name from) */
    if (full->email_len == ini->email_len && memcmp(full->email, e, ini->email_len) == 0)
        return 0;
    at = strchr(e, '@');
    if (!at)
        return 0;
    for (p = e; p < at;) {
        const char *t;
        size_t len;
        while (p < at && !(*p >= 'a' && *p <= 'z'))
            p++;
        for (t = p; t < at && *t >= 'a' && *t <= 'z'; t++)
            ;
        len = (size_t)(t - p);
        if (len >= 3 && p[0] == ini->first[0] && !near_a_name(p, len, full->first) &&
            !near_a_name(p, len, full->last) && !near_a_name(p, len, ini->last))
            return 1;
        p = t;
    }
    return 0;
}

/* q->rec's given name in the table of variants, looked up once per query */
static const patron__match_name_q *given_names(patron__match_query *q)
{
    if (!q->names_ready) {
        patron__match_name_q_init(&q->names, q->rec->first);
        q->names_ready = 1;
    }
    return &q->names;
}

/* Are the given names of a and b variants of one name (cmp_first's
 * VARIANT, asked after its tests before it)?  (The entries of each name
 * in the table of variants were looked up when the record was normalised;
 * a record made otherwise has none.)  memo: the answer for this pair (-1
 * not asked yet; NULL: none) - the early exit's bound asks it, then
 * cmp_first. */
static int first_variant(const patron__match_rec *a, const patron__match_rec *b, patron__match_query *q, int *memo)
{
    int v;

    if (memo && *memo >= 0)
        return *memo;
    v = a->first_known && b->first_known &&
        (a->first_ids.set && b->first_ids.set ? patron__match_name_variant_ids(&a->first_ids, &b->first_ids)
         : q                                  ? patron__match_name_variant_q(given_names(q), b->first)
                                              : patron__match_name_variant(a->first, b->first));
    if (memo)
        *memo = v;
    return v;
}

/* variant: first_variant's memo of the pair (or NULL) */
static int cmp_first(const patron__match_rec *a, const patron__match_rec *b, patron__match_query *q, int *variant)
{
    if (!a->first[0] || !b->first[0])
        return PATRON__ML_MISSING;
    if (a->first_initials || b->first_initials) {
        const char *ini = a->first_initials ? a->first : b->first;
        const char *full = a->first_initials ? b->first : a->first;
        if (!patron__match_initials_fit(ini, full))
            return PATRON__ML_DIFFERENT;
        return mailbox_names_another(a->first_initials ? a : b, a->first_initials ? b : a) ? PATRON__ML_DIFFERENT
                                                                                            : PATRON__ML_INITIAL;
    }
    if (a->first_len == b->first_len && same_bytes(a->first, b->first, a->first_len))
        return PATRON__ML_EXACT;
    if (gender_pair(a->first, a->first_len, b->first, b->first_len))
        return PATRON__ML_DIFFERENT;
    if (first_variant(a, b, q, variant))
        return PATRON__ML_VARIANT;
    /* a shared token needs a blank in one of them: else each has one
     * token, the whole name, and the two are not the same bytes */
    if ((memchr(a->first, ' ', a->first_len) || memchr(b->first, ' ', b->first_len)) &&
        (first_token_eq(a->first, b->first) || token_overlap(a->first, b->first)))
        return PATRON__ML_PARTIAL;
    if (typo_close(q ? &q->first : NULL, a->first, a->first_len, b->first, b->first_len, 0.92))
        return PATRON__ML_SIMILAR;
    /* The Kölner code of a short given name is a digit or two: Emma / Jan,
     * Tanja / Tim, Michael / Nicole share one.  Phonetic counts only where
     * the spelling is close too.  (The first digits first: most codes
     * differ there, and strcmp is not called.) */
    if (a->first_kp[0] && a->first_kp[0] == b->first_kp[0] && strcmp(a->first_kp, b->first_kp) == 0 &&
        jw_q(q ? &q->first : NULL, a->first, a->first_len, b->first, b->first_len) >= 0.8)
        return PATRON__ML_PHONETIC;
    return PATRON__ML_DIFFERENT;
}

static int cmp_last(const patron__match_rec *a, const patron__match_rec *b, patron__match_query *q)
{
    if (!a->last[0] || !b->last[0])
        return PATRON__ML_MISSING;
    if (a->last_len == b->last_len && same_bytes(a->last, b->last, a->last_len))
        return PATRON__ML_EXACT;
    if (typo_close(q ? &q->last : NULL, a->last, a->last_len, b->last, b->last_len, 0.92))
        return PATRON__ML_SIMILAR;
    if ((memchr(a->last, ' ', a->last_len) || memchr(b->last, ' ', b->last_len)) && /* (as in cmp_first) */
        token_overlap(a->last, b->last))
        return PATRON__ML_PARTIAL; /* Müller-Lüdenscheidt / Müller */
    if (a->last_kp[0] && a->last_kp[0] == b->last_kp[0] && strcmp(a->last_kp, b->last_kp) == 0)
        return PATRON__ML_PHONETIC;
    return PATRON__ML_DIFFERENT;
}

static int names_close(patron__match_pattern *pa, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (!la || !lb)
        return 0;
    if (la == lb && same_bytes(a, b, la))
        return 1;
    /* an initial in the wrong field: "K." / "Kaemmerer" */
    if (patron__match_is_initials(a))
        return patron__match_initials_fit(a, b);
    if (patron__match_is_initials(b))
        return patron__match_initials_fit(b, a);
    return typo_close(pa, a, la, b, lb, 0.92);
}

/* Two names clearly apart: no initial that fits, no shared token, more
 * than two edits between them (the reading of "clearly differ" of the
 * names rule; a typo, an initial or a double name is not apart). */
static int names_apart(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (!la || !lb)
        return 0;
    if (patron__match_is_initials(a) || patron__match_is_initials(b))
        return !(patron__match_is_initials(a) ? patron__match_initials_fit(a, b) : patron__match_initials_fit(b, a));
    if (token_overlap(a, b))
        return 0;
    if (la >= 3 && lb >= 3 && patron__match_osa(a, la, b, lb) <= 2)
        return 0;
    return 1;
}

/* Two different names that are one name's given-name and surname forms:
 * a patronymic ending (Peter / Peters, Hermann / Hermanns, Lorenz /
 * Lorenzen), another last letter (Frank / Franz) or an h (Günter /
 * Günther, Walter / Walther).
 * Unlike a typo (pulford / pulfrd, pascoe / pasceo), such a pair names two
 * people as often as one: a given name in one record, a surname in the
 * other. */
static int name_forms(const char *a, const char *b)
{
    static const char *const endings[] = { "s", "n", "en", "sen", "son" };
    size_t la = strlen(a), lb = strlen(b), i, j;
    const char *s = la < lb ? a : b, *l = la < lb ? b : a;
    size_t ls = la < lb ? la : lb, ll = la < lb ? lb : la;

    if (ls < 3 || strcmp(a, b) == 0)
        return 0;
    if (memcmp(s, l, ls) == 0)
        for (i = 0; i < sizeof endings / sizeof endings[0]; i++)
            if (strcmp(l + ls, endings[i]) == 0)
                return 1;
    /* another last letter: Frank / Franz, Bernd / Berne */
    if (la == lb && memcmp(a, b, la - 1) == 0)
        return 1;
    /* equal without their h's */
    for (i = j = 0;;) {
        while (a[i] == 'h')
            i++;
        while (b[j] == 'h')
            j++;
        if (a[i] != b[j])
            return 0;
        if (!a[i])
            return 1;
        i++;
        j++;
    }
    (void)ll;
}

/* The given names without their blanks ("ssha un" / "shaun"), compared
 * loosely: could one be a garbled form of the other?  Used only to tell a
 * household (another given name: Juergen / Sabine) from one person whose
 * given name was mistyped beyond a typo (racxe / rachel): the latter is
 * shown for review, never filed away as a household. */
/* Several given names that share one but each keep one the other lacks,
 * clearly apart (not a typo or initial of it): "Hannah Maria" / "Maria
 * Marianne", "Bernhard Conrad" / "Conrad Bastian" - two people of one
 * family with a common name among theirs.  One person leaves a second
 * given name out ("Frauke" / "Frauke Birgit") or misspells it ("Gudrun
 * Irmgard" / "Gudruna Irmgard"); a given name is not exchanged for
 * another. */
static int given_names_apart(const char *a, const char *b)
{
    char x[PATRON__MATCH_BUF], y[PATRON__MATCH_BUF];
    const char *p, *q;
    int extra_a = 0, extra_b = 0;

    for (p = a; *p;) { /* a's tokens not in b, against b's not in a */
        size_t lp = strcspn(p, " ");
        if (lp < sizeof x) {
            memcpy(x, p, lp);
            x[lp] = '\0';
        }
        if (lp >= sizeof x || lp < 2)
            return 0; /* an initial: not known */
        if (!token_overlap(x, b)) {
            extra_a = 1;
            for (q = b; *q;) {
                size_t lq = strcspn(q, " ");
                if (lq >= sizeof y || lq < 2)
                    return 0;
                memcpy(y, q, lq);
                y[lq] = '\0';
                if (!token_overlap(y, a)) {
                    extra_b = 1;
                    if (!names_apart(x, y))
                        return 0; /* a typo of the other */
                }
                q += lq;
                while (*q == ' ')
                    q++;
            }
        }
        p += lp;
        while (*p == ' ')
            p++;
    }
    return extra_a && extra_b && token_overlap(a, b);
}

/* A half swap (one name of a in the other field of b) where both records
 * are in order: x1, a's given name is b's last name ("Thomas Krause" /
 * "Nicole Thomas"), else a's last name is b's given name.  In order means
 * that the record which would be swapped has a known given name in its
 * given-name field, and the other no known given name in its last-name
 * field: a name that is a given name and a surname (Thomas, Peters,
 * Martin) then stands where it belongs in each record, and the two
 * leftover names - clearly apart - say two people.  A real swap puts a
 * surname into the given-name field ("Capurso Ruby"), which the list of
 * given names does not know.  (Known: in the list of given names and
 * their variants.) */
static int half_swap_in_order(const patron__match_rec *a, const patron__match_rec *b, int x1)
{
    const patron__match_rec *g = x1 ? a : b, *o = x1 ? b : a; /* g: the shared name as a given name */

    if (!o->first_known || !g->first_known || patron__match_name_known(g->last))
        return 0;
    return names_apart(g->last, o->first);
}

static int first_unclear(const char *a, const char *b)
{
    char x[PATRON__MATCH_BUF], y[PATRON__MATCH_BUF];
    size_t lx = 0, ly = 0, d;

    for (; *a && lx < sizeof x - 1; a++)
        if (*a != ' ')
            x[lx++] = *a;
    for (; *b && ly < sizeof y - 1; b++)
        if (*b != ' ')
            y[ly++] = *b;
    x[lx] = y[ly] = '\0';
    if (lx < 3 || ly < 3)
        return 0;
    if (gender_pair(x, lx, y, ly))
        return 0; /* Jan / Jana: two people */
    d = patron__match_osa(x, lx, y, ly);
    if (d <= 1 || (d == 2 && (lx < ly ? lx : ly) >= 5))
        return 1;
    return x[0] == y[0] && patron__match_jaro_winkler(x, lx, y, ly) >= 0.85;
}

/* ---- other fields -------------------------------------------------------------- */

static int cmp_plain(patron__match_pattern *pa, const char *a, size_t la, const char *b, size_t lb,
                     double jw_min)
{
    if (!la || !lb)
        return PATRON__ML_MISSING;
    if (la == lb && same_bytes(a, b, la))
        return PATRON__ML_EXACT;
    if (jw_min <= 1.0 && typo_close(pa, a, la, b, lb, jw_min))
        return PATRON__ML_SIMILAR;
    return PATRON__ML_DIFFERENT;
}

static int cmp_number(const char *a, size_t la, const char *b, size_t lb)
{
    size_t da = 0, db = 0;

    if (!la || !lb)
        return PATRON__ML_MISSING;
    if (la == lb && same_bytes(a, b, la))
        return PATRON__ML_EXACT;
    while (a[da] >= '0' && a[da] <= '9')
        da++;
    while (b[db] >= '0' && b[db] <= '9')
        db++;
    /* 12 / 12a, 12 / 12-14: the same building */
    if (da > 0 && da == db && same_bytes(a, b, da))
        return PATRON__ML_PARTIAL;
    /* a typo in the number: 48 / 84, 123 / 132 */
    if (da == db && da >= 2 && patron__match_osa_is_one(a, da, b, db))
        return PATRON__ML_PARTIAL;
    return PATRON__ML_DIFFERENT;
}

/* (inline: asked for every pair of addresses, by the bound and by
 * find_addresses) */
static inline int cmp_postal(const patron__match_addr *a, const patron__match_addr *b)
{
    size_t la, lb;

    if (!a->postal[0] || !b->postal[0])
        return PATRON__ML_MISSING;
    if (memcmp(a->country, b->country, 2) != 0)
        return PATRON__ML_DIFFERENT;
    la = a->postal_len;
    lb = b->postal_len;
    if (la == lb && same_bytes(a->postal, b->postal, la))
        return PATRON__ML_EXACT;
    if (la == lb && patron__match_osa_is_one(a->postal, la, b->postal, lb))
        return PATRON__ML_PARTIAL;
    return PATRON__ML_DIFFERENT;
}

/* The digits of two strings, in order, differ: in a mailbox they are a
 * year or a counter (thomas.mueller1960@ / thomas.mueller1970@), which
 * tells namesakes apart rather than being a typo. */
static int digits_differ(const char *a, const char *b)
{
    for (;;) {
        while (*a && (*a < '0' || *a > '9'))
            a++;
        while (*b && (*b < '0' || *b > '9'))
            b++;
        if (*a != *b)
            return 1;
        if (!*a)
            return 0;
        a++;
        b++;
    }
}

/* A role mailbox (info@, kontakt@, buchhaltung@, ...): it belongs to a
 * company or an office, not to a person; everyone there shares it. */
static int role_mailbox(const char *email)
{
    /* by length (4 to 12 bytes): a pair's mailbox is compared with the
     * few roles of its local part's length, not with all 34 */
    static const char *const roles[13][10] = {
        [4] = {"info", "mail", "post", "team", "jobs"},
        [5] = {"buero", "hallo", "hello", "order", "sales", "admin"},
        [6] = {"office", "orders", "praxis"},
        [7] = {"kontakt", "contact", "service", "support", "empfang", "einkauf", "verkauf", "kanzlei", "noreply"},
        [8] = {"zentrale", "rechnung", "vertrieb", "personal", "no-reply"},
        [10] = {"verwaltung", "rechnungen", "bestellung"},
        [11] = {"buchhaltung", "sekretariat"},
        [12] = {"bestellungen"},
    };
    size_t n = 0;

    while (n <= 12 && email[n] && email[n] != '@') /* (no role is longer) */
        n++;
    if (n > 12 || email[n] != '@')
        return 0;
    for (const char *const *r = roles[n]; *r; r++)
        if ((*r)[0] == email[0] && memcmp(*r, email, n) == 0)
            return 1;
    return 0;
}

/* A mailbox at a public provider (web.de, gmx, gmail, ...): a person's
 * own, wherever the person registered.  A mailbox at any other domain on a
 * record that names a company is the company's: a work mailbox. */
static int freemail(const char *email)
{
    static const char *const hosts[] = {
        "web.de",      "gmx.de",     "gmx.net",       "gmx.at",       "gmx.ch",      "gmx.com",
        "t-online.de", "gmail.com",  "googlemail.com", "posteo.de",   "posteo.net",  "freenet.de",
        "mailbox.org", "arcor.de",   "yahoo.de",      "yahoo.com",    "ymail.com",   "outlook.de",
        "outlook.com", "hotmail.de", "hotmail.com",   "live.de",      "live.com",    "msn.com",
        "icloud.com",  "me.com",     "mac.com",       "aol.de",       "aol.com",     "mail.de",
        "online.de",   "email.de",   "vodafone.de",   "vodafonemail.de", "kabelmail.de", "1und1.de",
        "bluewin.ch",  "gmx.li",     "protonmail.com", "proton.me",   "tutanota.com", "tutanota.de",
        "ewe.net",     "osnanet.de", "htp-tel.de",    "unitybox.de",  "magenta.de",  "t-mobile.de",
    };
    const char *at = strchr(email, '@');

    if (!at)
        return 1; /* no domain: nothing known, treat as personal */
    /* the first byte before the call: most hosts are passed over without
     * one */
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
        if (hosts[i][0] == at[1] && strcmp(at + 1, hosts[i]) == 0)
            return 1;
    return 0;
}

/* Letters of s up to `stop` (or its end) without blanks and separators,
 * into out (cap bytes); -1 when s holds a digit or does not fit. */
static int letters_of(char *out, size_t cap, const char *s, char stop)
{
    size_t n = 0;

    for (; *s && *s != stop; s++) {
        if (*s >= '0' && *s <= '9')
            return -1;
        if (*s == ' ' || *s == '.' || *s == '_' || *s == '-')
            continue;
        if (n + 1 >= cap)
            return -1;
        out[n++] = *s;
    }
    out[n] = '\0';
    return (int)n;
}

/* A mailbox whose local part is nothing but the owner's name (thomas.mueller@,
 * tmueller@, mueller.thomas@, thomas@): namesakes build the same one, so
 * beside an agreeing name it repeats the name rather than adding a person's
 * own evidence.  One with digits or anything else in it does not. */
/* loc (n bytes) is x then y */
static int joined(const char *loc, size_t n, const char *x, size_t lx, const char *y, size_t ly)
{
    return n == lx + ly && memcmp(loc, x, lx) == 0 && memcmp(loc + lx, y, ly) == 0;
}

static int name_built_mailbox(const char *email, const char *first, const char *last)
{
    char loc[PATRON__MATCH_BUF], l[PATRON__MATCH_BUF];
    size_t nf;
    int nloc, nl;

    if (!strchr(email, '@') || (nloc = letters_of(loc, sizeof loc, email, '@')) <= 0)
        return 0;
    nf = strcspn(first, " "); /* the first given name */
    if (nf == 0 || nf >= PATRON__MATCH_BUF || (nl = letters_of(l, sizeof l, last, '\0')) <= 0)
        return 0;
    /* the local part is the given name, the last name, both in either
     * order, or the initial beside the last name (compared in place: this
     * runs for many scored pairs) */
    return joined(loc, (size_t)nloc, first, nf, "", 0) || joined(loc, (size_t)nloc, l, (size_t)nl, "", 0) ||
           joined(loc, (size_t)nloc, first, nf, l, (size_t)nl) || joined(loc, (size_t)nloc, l, (size_t)nl, first, nf) ||
           joined(loc, (size_t)nloc, first, 1, l, (size_t)nl) || joined(loc, (size_t)nloc, l, (size_t)nl, first, 1);
}

static int cmp_email(const char *a, size_t la, const char *b, size_t lb)
{
    if (!la || !lb)
        return PATRON__ML_MISSING;
    if (la == lb && same_bytes(a, b, la))
        return PATRON__ML_EXACT;
    /* A typo only.  The same local part at another provider is no evidence:
     * it is usually built from the name, which namesakes share. */
    if ((la > lb ? la - lb : lb - la) <= 1 && patron__match_osa_is_one(a, la, b, lb) && !digits_differ(a, b))
        return PATRON__ML_SIMILAR;
    return PATRON__ML_DIFFERENT;
}

static int cmp_phone(const char *a, size_t la, const char *b, size_t lb)
{
    if (!la || !lb)
        return PATRON__ML_MISSING;
    if (la == lb && same_bytes(a, b, la))
        return PATRON__ML_EXACT;
    if (la == lb && la >= 9 && patron__match_osa_is_one(a, la, b, lb))
        return PATRON__ML_SIMILAR;
    return PATRON__ML_DIFFERENT;
}

/* A landline (a number bound to a place), from the normalised number
 * (+49...): in Germany every number but the mobile ones (+491...), in
 * Austria every one but +436..., in Switzerland every one but +417...;
 * elsewhere not known (0). */
static int landline(const char *p, size_t lp)
{
    if (lp < 6 || p[0] != '+' || p[1] != '4')
        return 0;
    switch (p[2]) {
    case '9': return p[3] != '1';
    case '3': return p[3] != '6';
    case '1': return p[3] != '7';
    default: return 0;
    }
}

/* A mobile number (a person's own, not a place's): in Germany +4915,
 * +4916, +4917, in Austria +4365 to +4369, in Switzerland +4175 to +4179;
 * elsewhere not known (0). */
static int mobile(const char *p, size_t lp)
{
    if (lp < 8 || p[0] != '+' || p[1] != '4')
        return 0;
    switch (p[2]) {
    case '9': return p[3] == '1' && p[4] >= '5' && p[4] <= '7';
    case '3': return p[3] == '6' && p[4] >= '5' && p[4] <= '9';
    case '1': return p[3] == '7' && p[4] >= '5' && p[4] <= '9';
    default: return 0;
    }
}

static int cmp_birth(uint32_t a, uint32_t b)
{
    int diff = 0, i, pos = -1, pos2 = -1;
    char sa[9], sb[9];
    uint32_t ya = a / 10000, yb = b / 10000;

    if (!a || !b)
        return PATRON__ML_MISSING;
    if (a == b)
        return PATRON__ML_EXACT;
    /* day and month swapped */
    if (ya == yb && a % 100 == (b / 100) % 100 && b % 100 == (a / 100) % 100)
        return PATRON__ML_PARTIAL;
    for (i = 7; i >= 0; i--) {
        sa[i] = (char)('0' + a % 10);
        sb[i] = (char)('0' + b % 10);
        a /= 10;
        b /= 10;
    }
    for (i = 0; i < 8; i++)
        if (sa[i] != sb[i]) {
            diff++;
            if (pos < 0)
                pos = i;
            else
                pos2 = i;
        }
    if (diff == 1)
        return PATRON__ML_PARTIAL; /* one digit off */
    if (diff == 2 && pos2 == pos + 1 && sa[pos] == sb[pos2] && sa[pos2] == sb[pos])
        return PATRON__ML_PARTIAL; /* two digits transposed */
    if (ya == yb)
        return PATRON__ML_SIMILAR; /* the year only: no evidence either way */
    return PATRON__ML_DIFFERENT;
}

/* ---- scoring ---------------------------------------------------------------------- */

/* A field weight from which on an agreement is one person's own evidence
 * (see the full name's lift in score()): a mailbox or phone held by a few
 * (an info@ or a switchboard held by many falls below it), a birth date, an
 * identifier: 3 bits, 8 times likelier for one person than for two. */
#define OWN_EVIDENCE_MIN 3.0

/* A delivery point, not where anyone lives: a Packstation, a post office
 * (Postfiliale), a parcel shop, a post-office box.  (Normalised street:
 * folded, no blanks.) */
static int delivery_point(const char *street)
{
    static const char *const kinds[] = { "packstation", "postfiliale", "paketshop", "paketstation",
                                         "postfach",    "paketbox",    "postlagernd" };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if ((!kinds[i][0] || street[0] == kinds[i][0]) && strncmp(street, kinds[i], strlen(kinds[i])) == 0)
            return 1;
    return 0;
}

static void birth_str(char out[12], uint32_t d)
{
    int i;

    if (!d) {
        out[0] = '\0';
        return;
    }
    for (i = 9; i >= 0; i--) {
        if (i == 4 || i == 7) {
            out[i] = '-';
            continue;
        }
        out[i] = (char)('0' + d % 10);
        d /= 10;
    }
    out[10] = '\0';
}

/* Field f of r in full (no frequency: apply_tf adds it), whatever it held. */
static void set(patron__match_result *r, const patron__match_config *cfg, int f, int level,
                const char *a, const char *b)
{
    r->field[f].level = level;
    r->field[f].weight = r->field[f].base_weight = cfg->weight[f][level];
    r->field[f].a = a;
    r->field[f].b = b;
    r->field[f].tf = 0;
    r->field[f].count = r->field[f].n = 0;
}


/* The house number's weight.  Another number on the street that agrees is
 * another building (other_building), unless the two numbers are one digit
 * lost or added apart (71 / 1, 14 / 147): a typo as often as a neighbour,
 * the number level's own weight. */
static double number_weight(const patron__match_config *cfg, int ls, int ln, const patron__match_addr *x,
                            const patron__match_addr *y)
{
    size_t lx = x->number_len, ly = y->number_len;

    if (ln != PATRON__ML_DIFFERENT || (ls != PATRON__ML_EXACT && ls != PATRON__ML_SIMILAR))
        return cfg->weight[PATRON__MF_NUMBER][ln];
    if ((lx > ly ? lx - ly : ly - lx) == 1 && patron__match_osa(x->number, lx, y->number, ly) == 1)
        return cfg->weight[PATRON__MF_NUMBER][ln];
    return cfg->other_building;
}

/* The best pair of addresses of two records: its
 * indexes (-1: a record has none), the fields' levels, the house number's
 * weight and the address weight after the floor, the Packstation rule and
 * the ceiling. */
typedef struct addr_best {
    int i, j;
    int lv[5];
    double wn, weight;
} addr_best;

/* first: the house number's and the postal code's levels of the first
 * addresses of a and b as others_up found them (NULL: not asked) */
static void find_addresses(addr_best *o, const patron__match_rec *a, const patron__match_rec *b,
                           const patron__match_config *cfg, patron__match_query *q, const int *first)
{
    double best = -1e9, wn;
    size_t i, j;

    o->i = o->j = -1;
    o->wn = 0;
    memset(o->lv, 0, sizeof o->lv);
    for (i = 0; i < a->n_addr; i++)
        for (j = 0; j < b->n_addr; j++) {
            const patron__match_addr *x = &a->addr[i], *y = &b->addr[j];
            int qa = q && i < PATRON__MATCH_QUERY_ADDR; /* the query's patterns of address i */
            patron__match_pattern *ps = qa ? &q->street[i] : NULL, *pd = qa ? &q->addition[i] : NULL;
            int l0 = cmp_plain(ps, x->street, x->street_len, y->street, y->street_len, 0.9);
            int l1 = first && !i && !j ? first[0] : cmp_number(x->number, x->number_len, y->number, y->number_len);
            int l2 = cmp_plain(pd, x->addition, x->addition_len, y->addition, y->addition_len, 0.9);
            int l3 = first && !i && !j ? first[1] : cmp_postal(x, y);
            int l4 = cmp_plain(qa ? &q->city[i] : NULL, x->city, x->city_len, y->city, y->city_len, 0.9);
            double s;
            if (l0 == PATRON__ML_DIFFERENT && x->addition[0] && y->addition[0] &&
                cmp_plain(ps, x->street, x->street_len, y->addition, y->addition_len, 0.9) != PATRON__ML_DIFFERENT &&
                cmp_plain(pd, x->addition, x->addition_len, y->street, y->street_len, 0.9) != PATRON__ML_DIFFERENT)
                l0 = l2 = PATRON__ML_SIMILAR; /* the two address lines swapped */
            /* a house number agrees only on the same street; the same
             * number on two streets says nothing either way (a typo or a
             * replaced street name beside it, or a coincidence): no
             * evidence, not a second disagreement beside the street's */
            if (l0 == PATRON__ML_DIFFERENT && l1 != PATRON__ML_MISSING)
                l1 = l1 == PATRON__ML_EXACT ? PATRON__ML_MISSING : PATRON__ML_DIFFERENT;
            wn = number_weight(cfg, l0, l1, x, y);
            s = wn + cfg->weight[PATRON__MF_STREET][l0] +
                       cfg->weight[PATRON__MF_ADDITION][l2] +
                       cfg->weight[PATRON__MF_POSTAL][l3] + cfg->weight[PATRON__MF_CITY][l4];
            if (s > best) {
                best = s;
                o->wn = wn;
                o->i = (int)i;
                o->j = (int)j;
                o->lv[0] = l0;
                o->lv[1] = l1;
                o->lv[2] = l2;
                o->lv[3] = l3;
                o->lv[4] = l4;
            }
        }
    if (o->i < 0) {
        o->weight = 0;
        return;
    }
    o->weight = best < cfg->address_floor ? cfg->address_floor : best;
    /* A Packstation beside a home address: where the parcels go, not a
     * move; the two addresses say nothing either way. */
    if (o->weight < 0 && o->lv[0] == PATRON__ML_DIFFERENT &&
        (delivery_point(a->addr[o->i].street) || delivery_point(b->addr[o->j].street)))
        o->weight = 0;
    /* ... and at most address_max: street, number, postal code and city
     * that all agree are one fact (one building), not four */
    if (cfg->address_max > 0 && o->weight > cfg->address_max)
        o->weight = cfg->address_max;
}

/* The address fields of r from the best pair (find_addresses). */
static void set_addresses(patron__match_result *r, const addr_best *o, const patron__match_rec *a,
                          const patron__match_rec *b, const patron__match_config *cfg)
{
    static const char empty[] = "";

    r->addr_a = o->i;
    r->addr_b = o->j;
    r->address_weight = o->weight;
    if (o->i < 0) {
        set(r, cfg, PATRON__MF_STREET, PATRON__ML_MISSING, empty, empty);
        set(r, cfg, PATRON__MF_NUMBER, PATRON__ML_MISSING, empty, empty);
        set(r, cfg, PATRON__MF_ADDITION, PATRON__ML_MISSING, empty, empty);
        set(r, cfg, PATRON__MF_POSTAL, PATRON__ML_MISSING, empty, empty);
        set(r, cfg, PATRON__MF_CITY, PATRON__ML_MISSING, empty, empty);
        return;
    }
    {
        const patron__match_addr *x = &a->addr[o->i], *y = &b->addr[o->j];
        set(r, cfg, PATRON__MF_STREET, o->lv[0], x->street, y->street);
        set(r, cfg, PATRON__MF_NUMBER, o->lv[1], x->number, y->number);
        r->field[PATRON__MF_NUMBER].weight = o->wn;
        set(r, cfg, PATRON__MF_ADDITION, o->lv[2], x->addition, y->addition);
        set(r, cfg, PATRON__MF_POSTAL, o->lv[3], x->postal, y->postal);
        set(r, cfg, PATRON__MF_CITY, o->lv[4], x->city, y->city);
    }
}

/* The count of a's value of field f from the per-record slots; -1 when none. */
static double tf_direct(const uint32_t *counts, int f, const patron__match_rec *a, int addr)
{
    int slot;
    switch (f) {
    case PATRON__MF_FIRST: slot = PATRON__MATCH_TF_SLOT_FIRST; break;
    case PATRON__MF_LAST: slot = PATRON__MATCH_TF_SLOT_LAST; break;
    case PATRON__MF_COMPANY: slot = PATRON__MATCH_TF_SLOT_COMPANY; break;
    case PATRON__MF_EMAIL: slot = PATRON__MATCH_TF_SLOT_EMAIL; break;
    case PATRON__MF_PHONE: slot = PATRON__MATCH_TF_SLOT_PHONE; break;
    case PATRON__TF_FULL_NAME: slot = PATRON__MATCH_TF_SLOT_FULL_NAME; break;
    case PATRON__MF_STREET:
        if (addr < 0 || (size_t)addr >= a->n_addr)
            return -1;
        slot = PATRON__MATCH_TF_SLOT_ADDR + addr;
        break;
    default: return -1;
    }
    return counts[slot] ? (double)counts[slot] : -1;
}

void patron__match_tf_memo_init(patron__match_tf_memo *m)
{
    memset(m->key, 0, sizeof m->key);
}

/* patron__match_log2(x) where x is a function of (kind, count) alone for
 * the memo's configuration and n: looked up, else computed and kept
 * (log2_of: count any number; log2_kept: a record count, a whole number
 * of 32 bits, in memo m). */
static inline double log2_kept(patron__match_tf_memo *m, int kind, uint32_t count, double x)
{
    uint64_t key = (uint64_t)(unsigned)(kind + 1) << 32 | count, h; /* never 0 */
    size_t slot;
    h = key * UINT64_C(0x9e3779b97f4a7c15);
    slot = (size_t)(h >> 54) & (PATRON__MATCH_TF_MEMO - 1);
    if (m->key[slot] != key) {
        m->val[slot] = patron__match_log2(x);
        m->key[slot] = key;
    }
    return m->val[slot];
}

static double log2_of(patron__match_tf_memo *m, int kind, double count, double x)
{
    if (!m || !(count >= 1 && count < 4294967296.0) || count != (double)(uint32_t)count)
        return patron__match_log2(x);
    return log2_kept(m, kind, (uint32_t)count, x);
}
_Static_assert((PATRON__MATCH_TF_MEMO & (PATRON__MATCH_TF_MEMO - 1)) == 0 && PATRON__MATCH_TF_MEMO <= 1024,
               "the memo's slot is 10 bits of the hash");

/* An exact agreement on a value many records hold says less (see model.h).
 * apply_tf: only where the field agrees exactly (most calls do not: the
 * test before the call). */
/* (inline: six call sites in score(), and the call's register saves cost
 * about as much as its body) */
static inline void apply_tf_exact(patron__match_result *r, const patron__match_config *cfg,
                                  const patron__match_tf *tf, const patron__match_rec *a, int f, int addr,
                                  double down_max)
{
    double count, ref, adj;
    patron__match_field_expl *e = &r->field[f];

    if (!tf || (!tf->count && !tf->counts) || tf->n <= 0 || cfg->tf_ref[f] <= 0)
        return;
    if (tf->counts)
        count = tf_direct(tf->counts, f, a, addr);
    else
        count = tf->count(tf->ctx, f, a, addr);
    if (count < 1)
        return; /* unknown (or not indexed): the level's weight */
    ref = cfg->tf_share[f] * tf->n;
    if (ref < cfg->tf_ref[f])
        ref = cfg->tf_ref[f];
    /* (a count of tf->counts is a whole number of 32 bits: the memo
     * without log2_of's tests) */
    adj = tf->counts && tf->memo ? log2_kept(tf->memo, f, (uint32_t)count, ref / count)
                                 : patron__match_log2(ref / count);
    if (adj < 0) /* a common value loses: a name as its share of the store, a
                  * contact value shared by c holders fast (c people, not one) */
        adj *= (f == PATRON__MF_FIRST || f == PATRON__MF_LAST) ? cfg->tf_power_name : cfg->tf_power;
    if (adj > cfg->tf_up_max)
        adj = cfg->tf_up_max;
    if (adj < -down_max)
        adj = -down_max;
    e->tf = 1;
    e->count = count;
    e->n = tf->n;
    e->base_weight = e->weight;
    e->weight += adj;
}

static inline void apply_tf(patron__match_result *r, const patron__match_config *cfg,
                            const patron__match_tf *tf, const patron__match_rec *a, int f, int addr,
                            double down_max)
{
    if (r->field[f].level == PATRON__ML_EXACT)
        apply_tf_exact(r, cfg, tf, a, f, addr, down_max);
}

/* Given and last name both exact: where the store counts the full name,
 * its frequency is evidence as well.  The parts' frequencies assume they
 * are independent; a full name that only these two records hold is rare
 * even when each part is common (every second customer of a shop may be a
 * Müller or a Schmidt without two of them being "Anna Schmidt").  The name
 * then weighs what the two levels say, less tf_power_name bits per
 * doubling of its holders beyond the pair; never less than the parts
 * alone.  A name many hold (Thomas Müller, twenty times in one city) gains
 * nothing. */
static double full_name_tf(patron__match_result *r, const patron__match_config *cfg, const patron__match_tf *tf,
                           const patron__match_rec *a, double *holders)
{
    patron__match_field_expl *ef = &r->field[PATRON__MF_FIRST], *el = &r->field[PATRON__MF_LAST];
    double count, base, joint, parts;

    if (!tf || (!tf->count && !tf->counts) || tf->n <= 0 || cfg->tf_ref[PATRON__MF_FIRST] <= 0 ||
        cfg->tf_ref[PATRON__MF_LAST] <= 0)
        return 0;
    count = tf->counts ? tf_direct(tf->counts, PATRON__TF_FULL_NAME, a, -1)
                       : tf->count(tf->ctx, PATRON__TF_FULL_NAME, a, -1);
    if (count < 1)
        return 0; /* unknown (not counted here) */
    if (count < 2)
        count = 2; /* a customer not stored yet, matched against the one holder */
    *holders = count;
    base = cfg->weight[PATRON__MF_FIRST][PATRON__ML_EXACT] + cfg->weight[PATRON__MF_LAST][PATRON__ML_EXACT];
    joint = base + log2_of(tf->counts ? tf->memo : NULL, -1, count, 2.0 / count) * cfg->tf_power_name;
    /* a name is no identity on its own: the full name's rarity lifts it
     * to at most full_name_max (a pair of one rare name and nothing else
     * is shown for review, not merged) */
    if (joint > cfg->full_name_max)
        joint = cfg->full_name_max;
    parts = ef->weight + el->weight;
    return joint > parts ? joint - parts : 0;
}

/* Is the exact full name of a pair a surprise?  Only the pair holds it
 * (holders, from full_name_tf: 2, or 0 when not counted) and by its parts
 * it is rare: given name holders x last name holders / customers - how
 * many holders the full name would have if names were combined at random -
 * is at most rare_name_expect.  Two holders of such a name are far more
 * often one person registered twice than two namesakes; a full name held
 * by two where its parts are common (Anna Schmidt) is no surprise, nor one
 * that many hold (Thomas Müller in one city). */
/* How many holders of the pair's exact full name the store would have by
 * chance if names were combined at random: given name holders x last name
 * holders / customers; -1 where it is not known (a name not exact on both
 * parts, or not counted by the store).  The pair's own two records count
 * (a customer not stored yet is matched against one holder: count it as
 * the batch does). */
static double namesakes_expected(const patron__match_result *r, const patron__match_tf *tf)
{
    const patron__match_field_expl *ef = &r->field[PATRON__MF_FIRST], *el = &r->field[PATRON__MF_LAST];
    double cf, cl;

    if (!tf || tf->n <= 0 || ef->level != PATRON__ML_EXACT || el->level != PATRON__ML_EXACT || !ef->tf || !el->tf)
        return -1;
    cf = ef->count < 2 ? 2 : ef->count;
    cl = el->count < 2 ? 2 : el->count;
    return cf * cl / tf->n;
}

static int rare_name_surprise(const patron__match_result *r, const patron__match_config *cfg,
                              const patron__match_tf *tf, double holders)
{
    double e;

    if (cfg->rare_name_expect <= 0 || holders < 1 || holders > 2)
        return 0;
    e = namesakes_expected(r, tf);
    return e >= 0 && e <= cfg->rare_name_expect;
}

/* The same surprise within one place: only the pair holds the full name,
 * and among the customers at the pair's one address (a company's
 * building, a Packstation: the address's holders, from its frequency) a
 * second holder of it by chance - address holders x given name holders /
 * customers x last name holders / customers - is expected at most
 * rare_name_expect times.  Colleagues of one firm rarely share a full name
 * that the whole store holds twice; where the parts are common the place's
 * few holders make a chance namesake unlikely all the same. */
static int place_name_surprise(const patron__match_result *r, const patron__match_config *cfg,
                               const patron__match_tf *tf, double holders)
{
    const patron__match_field_expl *ef = &r->field[PATRON__MF_FIRST], *el = &r->field[PATRON__MF_LAST];
    const patron__match_field_expl *ea = &r->field[PATRON__MF_STREET];
    double cf, cl, ca;

    if (cfg->rare_name_expect <= 0 || !tf || tf->n <= 0 || holders < 1 || holders > 2 ||
        ef->level != PATRON__ML_EXACT || el->level != PATRON__ML_EXACT || !ef->tf || !el->tf || !ea->tf)
        return 0;
    cf = ef->count < 2 ? 2 : ef->count;
    cl = el->count < 2 ? 2 : el->count;
    ca = ea->count < 2 ? 2 : ea->count;
    return ca * (cf / tf->n) * (cl / tf->n) <= cfg->rare_name_expect;
}

/* Add `gain` bits to the given and last name's weights: first to the given
 * name, up to what its frequency took, the rest to the last name. */
static void lift_names(patron__match_result *r, double gain)
{
    patron__match_field_expl *ef = &r->field[PATRON__MF_FIRST], *el = &r->field[PATRON__MF_LAST];
    double lost_f = ef->base_weight - ef->weight;
    double to_f = lost_f > 0 ? (gain < lost_f ? gain : lost_f) : 0;

    ef->weight += to_f;
    el->weight += gain - to_f;
}

/* Two identifiers, both present: EXACT, SIMILAR (a typo in the number)
 * or DIFFERENT.  (Apart from cmp_ident: most pairs have none, and its
 * loop is then a few loads, inlined.) */
static int ident_level(const char *a, const char *b)
{
    size_t la, lb;

    if (strcmp(a, b) == 0)
        return PATRON__ML_EXACT;
    la = strlen(a);
    lb = strlen(b);
    if (la >= 4 && (la > lb ? la - lb : lb - la) <= 1 && patron__match_osa_is_one(a, la, b, lb))
        return PATRON__ML_SIMILAR;
    return PATRON__ML_DIFFERENT;
}

static inline int cmp_ident(const patron__match_rec *a, const patron__match_rec *b, int *which)
{
    size_t i, n = a->n_ident < b->n_ident ? a->n_ident : b->n_ident;
    int any = 0;

    *which = -1;
    for (i = 0; i < n; i++) {
        int l;
        if (!a->ident[i][0] || !b->ident[i][0])
            continue;
        l = ident_level(a->ident[i], b->ident[i]);
        if (l != PATRON__ML_DIFFERENT) {
            *which = (int)i;
            return l;
        }
        if (!any)
            *which = (int)i;
        any = 1;
    }
    return any ? PATRON__ML_DIFFERENT : PATRON__ML_MISSING;
}

/* ---- an early exit for pairs that cannot reach REVIEW ---------------------------- */

/* The highest weight of field f at one of the levels in `levels` (a bit
 * per level). */
static double wmax(const patron__match_config *cfg, int f, unsigned levels)
{
    double m = -1e300;
    for (int l = 0; l < PATRON__ML_COUNT; l++)
        if ((levels >> l & 1) && cfg->weight[f][l] > m)
            m = cfg->weight[f][l];
    return m;
}

static double max2(double x, double y)
{
    return x > y ? x : y;
}

#define LV(l) (1u << (l))

/* The most a term frequency adds to an exact agreement of field f
 * (apply_tf: at most tf_up_max, or -down_max where that is more). */
static double tf_up(const patron__match_config *cfg, const patron__match_tf *tf, int f, double down_max)
{
    double up = cfg->tf_up_max > -down_max ? cfg->tf_up_max : -down_max;
    return tf && up > 0 ? up : 0; /* 0: no frequency applied */
}

/* The most a plain field (compared by cmp_plain, or its level not known)
 * can weigh: missing when a side is empty, exact only when the bytes agree
 * (and, with `swap`, similar as well: the address lines' swap), else
 * similar or different. */
static double plain_up(const patron__match_config *cfg, int f, const char *x, size_t lx, const char *y,
                       size_t ly, int swap)
{
    const double *w = cfg->weight[f];
    if (!lx || !ly)
        return w[PATRON__ML_MISSING];
    if (lx == ly && same_bytes(x, y, lx))
        return swap ? max2(w[PATRON__ML_EXACT], w[PATRON__ML_SIMILAR]) : w[PATRON__ML_EXACT];
    return max2(w[PATRON__ML_SIMILAR], w[PATRON__ML_DIFFERENT]);
}

/* What the fields beside the names can add at most (see surely_distinct). */
typedef struct upper {
    double addr; /* the address fields (address_weight) */
    double rest; /* mailbox, phone, birth date, company, identifiers */
    /* a pair of addresses can be one building of the household rule
     * (one_family_building in score()): street alike or possibly so,
     * one house number, the postal codes not different */
    int number;
    /* addr_dp: the address fields where a delivery point is among the
     * addresses; dp: -1 not asked yet, 1 there is one, 0 not (or the
     * Packstation rule cannot lift addr) */
    double addr_dp;
    int dp;
    /* the mailbox, phone or an identifier could weigh OWN_EVIDENCE_MIN or
     * more: rule (f) (own_evidence) could lift a DISTINCT pair; then
     * nothing else of the bound is filled in (no exit can be taken) */
    int own;
    /* for address_up: the registered-at-work floor may apply; a personal
     * contact value may lift the addresses to the marriage's floor */
    int at_work, marriage;
    /* the levels of house number and postal code of the first addresses
     * (first_set: asked), for find_addresses */
    int first[2], first_set;
} upper;

static int personal_kind(const patron__match_rec *a, const patron__match_rec *b, int f);

/* After the address floor: the ceiling, the address's frequency, the
 * registered-at-work floor (find_addresses, score()). */
static double address_rest(const patron__match_config *cfg, double addr, double street_tf, int at_work)
{
    if (cfg->address_max > 0 && addr > cfg->address_max)
        addr = cfg->address_max;
    addr += street_tf;
    if (at_work && addr < cfg->company_contact_floor)
        addr = cfg->company_contact_floor;
    return addr;
}


/* A house number agrees, and street and postal code may: the household
 * rule's one building (score(): one_family_building needs the street
 * EXACT or SIMILAR - both present and the same bytes, a typo as
 * typo_close may find it, or the address lines swapped -, the number
 * EXACT and the postal codes not DIFFERENT). */
static int one_building_may(const patron__match_addr *x, const patron__match_addr *y, int lp)
{
    if (lp == PATRON__ML_DIFFERENT || !x->street_len || !y->street_len)
        return 0;
    return (x->street_len == y->street_len && same_bytes(x->street, y->street, x->street_len)) ||
           (x->addition[0] && y->addition[0]) || typo_may(x->street, x->street_len, y->street, y->street_len, 0.9);
}

static void others_up(upper *u, const patron__match_rec *a, const patron__match_rec *b,
                      const patron__match_config *cfg, const patron__match_tf *tf, int le)
{
    double up, addr = -1e300, fl = cfg->company_contact_floor, street_tf = 0;
    const double *wn = cfg->weight[PATRON__MF_NUMBER]; /* a house number: see find_addresses */
    int at_work = fl < 0 && (a->company_len == 0) != (b->company_len == 0);
    int wi;
    int lp = cmp_phone(a->phone, a->phone_len, b->phone, b->phone_len), lb = cmp_birth(a->birth, b->birth);
    /* personal_kind of the mailbox and of the phone, from their levels
     * (EXACT: both there and the same bytes, as personal_kind asks) */
    int pk_email = le == PATRON__ML_EXACT && !role_mailbox(a->email);
    int pk_phone = lp == PATRON__ML_EXACT && (mobile(a->phone, a->phone_len) || landline(a->phone, a->phone_len));

    /* the fields beside the addresses first: where one of them can be the
     * person's own evidence, no exit is taken and the addresses are not
     * asked (a pair of one mailbox, most of them kept) */
    /* the mailbox and phone: their level's weight, the most a frequency
     * adds to an exact agreement, the registered-at-work floor */
    up = cfg->weight[PATRON__MF_EMAIL][le] +
         (le == PATRON__ML_EXACT ? tf_up(cfg, tf, PATRON__MF_EMAIL, cfg->weight[PATRON__MF_EMAIL][PATRON__ML_EXACT]) : 0);
    if (at_work && le == PATRON__ML_DIFFERENT && up < fl)
        up = fl;
    /* a new mailbox after a move beside an agreeing birth date
     * (moved_with_birth; its name conditions are not asked here) */
    if (le == PATRON__ML_DIFFERENT && cfg->moved_mailbox_floor < 0 && up < cfg->moved_mailbox_floor && a->n_addr &&
        b->n_addr && lb == PATRON__ML_EXACT)
        up = cfg->moved_mailbox_floor;
    /* a personal contact value (personal_contact): the mailbox's weight,
     * or the floor of its disagreement beside a personal mobile number */
    if (cfg->personal_contact > 0) {
        if (pk_email)
            up = max2(up, cfg->personal_contact);
        else if (le == PATRON__ML_DIFFERENT && pk_phone)
            up = max2(up, cfg->second_contact_floor);
    }
    u->own = up >= OWN_EVIDENCE_MIN;
    u->rest = up;
    {
        up = cfg->weight[PATRON__MF_PHONE][lp] +
             (lp == PATRON__ML_EXACT ? tf_up(cfg, tf, PATRON__MF_PHONE, cfg->weight[PATRON__MF_PHONE][PATRON__ML_EXACT]) : 0);
        if (at_work && lp == PATRON__ML_DIFFERENT && up < fl)
            up = fl;
        /* a move's landline (score()): the addresses may differ */
        if (lp == PATRON__ML_DIFFERENT && cfg->moved_landline_floor < 0 && up < cfg->moved_landline_floor &&
            a->n_addr && b->n_addr &&
            (landline(a->phone, a->phone_len) || landline(b->phone, b->phone_len)))
            up = cfg->moved_landline_floor;
        if (cfg->personal_contact > 0) {
            if (pk_phone)
                up = max2(up, cfg->personal_contact);
            else if (lp == PATRON__ML_DIFFERENT && pk_email)
                up = max2(up, cfg->second_contact_floor);
        }
        u->own |= up >= OWN_EVIDENCE_MIN;
        u->rest += up;
    }
    up = cfg->weight[PATRON__MF_IDENTIFIER][cmp_ident(a, b, &wi)];
    u->own |= up >= OWN_EVIDENCE_MIN;
    if (u->own)
        return; /* rule (f) could lift it: the bound is not asked */
    u->rest += up;
    u->rest += cfg->weight[PATRON__MF_BIRTH][lb];
    up = plain_up(cfg, PATRON__MF_COMPANY, a->company, a->company_len, b->company, b->company_len, 0);
    if (a->company_len && a->company_len == b->company_len && same_bytes(a->company, b->company, a->company_len))
        up += tf_up(cfg, tf, PATRON__MF_COMPANY, cfg->weight[PATRON__MF_COMPANY][PATRON__ML_EXACT]);
    u->rest += up;

    u->number = 0;
    for (size_t i = 0; i < a->n_addr; i++)
        for (size_t j = 0; j < b->n_addr; j++) {
            const patron__match_addr *x = &a->addr[i], *y = &b->addr[j];
            int l1 = cmp_number(x->number, x->number_len, y->number, y->number_len);
            int l3 = cmp_postal(x, y);
            double s;
            if (!i && !j) {
                u->first[0] = l1;
                u->first[1] = l3;
                u->first_set = 1;
            }
            if (l1 == PATRON__ML_EXACT) {
                if (!u->number)
                    u->number = one_building_may(x, y, l3);
                street_tf = tf_up(cfg, tf, PATRON__MF_STREET, 0); /* the address's frequency */
            }
            s = plain_up(cfg, PATRON__MF_STREET, x->street, x->street_len, y->street, y->street_len, 1) +
                (l1 == PATRON__ML_MISSING ? wn[PATRON__ML_MISSING]
                 : l1 == PATRON__ML_EXACT ? max2(max2(wn[l1], wn[PATRON__ML_MISSING]), wn[PATRON__ML_DIFFERENT])
                                           : max2(wn[l1], wn[PATRON__ML_DIFFERENT])) +
                plain_up(cfg, PATRON__MF_ADDITION, x->addition, x->addition_len, y->addition, y->addition_len, 1) +
                cfg->weight[PATRON__MF_POSTAL][l3] +
                plain_up(cfg, PATRON__MF_CITY, x->city, x->city_len, y->city, y->city_len, 0);
            if (s > addr)
                addr = s;
        }
    u->dp = 0;
    u->at_work = at_work;
    /* a marriage's move beside a personal contact value
     * (personal_contact): the two addresses weigh at least its floor */
    u->marriage = a->n_addr && b->n_addr && cfg->personal_contact > 0 && cfg->marriage_move_floor < 0 &&
                  (pk_email || pk_phone);
    if (a->n_addr && b->n_addr) {
        if (addr < cfg->address_floor)
            addr = cfg->address_floor;
        /* a Packstation's pair counts 0: where that lifts the bound, asked
         * only when the bound would exit (below_review) */
        if (u->marriage && addr < cfg->marriage_move_floor)
            addr = cfg->marriage_move_floor;
        u->dp = addr < 0 ? -1 : 0;
        u->addr_dp = address_rest(cfg, 0, street_tf, at_work);
        addr = address_rest(cfg, addr, street_tf, at_work);
    } else {
        addr = 0;
    }
    u->addr = addr;
}

/* The address fields at most once the best pair of addresses is known
 * (find_addresses: after its floor, Packstation rule and ceiling): the
 * address's frequency where number and postal code agree exactly, the
 * registered-at-work floor and the marriage's floor (score(),
 * personal_contact) can lift it; a pair without addresses stays 0. */
static double address_up(const upper *u, const addr_best *o, const patron__match_config *cfg,
                         const patron__match_tf *tf)
{
    double w = o->weight;

    if (o->i < 0)
        return 0;
    if (u->marriage && w < cfg->marriage_move_floor)
        w = cfg->marriage_move_floor;
    return address_rest(cfg, w,
                        o->lv[1] == PATRON__ML_EXACT && o->lv[3] == PATRON__ML_EXACT ? tf_up(cfg, tf, PATRON__MF_STREET, 0) : 0,
                        u->at_work);
}

/* The score stays below REVIEW when the names weigh `names` at most
 * (name and address together at most name_address_max); a margin for the
 * sums' rounding in another order. */
static int below_review_at(const upper *u, const patron__match_config *cfg, double names, double addr)
{
    double group = names + addr;
    if (cfg->name_address_max > 0 && group > cfg->name_address_max)
        group = cfg->name_address_max;
    return cfg->prior + group + u->rest < cfg->review_score - 1e-9;
}

/* u->dp once asked (see below_review): is a delivery point among the
 * addresses?  (Apart from below_review, which is inlined at its callers:
 * a pair asks it once at most.) */
static int any_delivery_point(const patron__match_rec *a, const patron__match_rec *b)
{
    for (size_t i = 0; i < a->n_addr; i++)
        if (delivery_point(a->addr[i].street))
            return 1;
    for (size_t j = 0; j < b->n_addr; j++)
        if (delivery_point(b->addr[j].street))
            return 1;
    return 0;
}

static inline int below_review(upper *u, const patron__match_config *cfg, double names, const patron__match_rec *a,
                               const patron__match_rec *b)
{
    if (!below_review_at(u, cfg, names, u->addr))
        return 0;
    if (u->dp < 0)
        u->dp = any_delivery_point(a, b);
    return !u->dp || below_review_at(u, cfg, names, u->addr_dp);
}

/*
 * Is the pair DISTINCT whatever the fields not compared yet say?  For a
 * query that asks only for the decision of a DISTINCT pair
 * (patron__match_query.distinct_only), score() asks once the names are
 * compared (`names`: what given and last name weigh together, their
 * frequencies and the full name's lift included; ll the last name's
 * level, other_given as the household rule reads it), first with the
 * addresses' bound (o NULL), then with their best pair (o: its levels and
 * weight, find_addresses).  (Before the names it is not asked:
 * names_then_distinct, after the last name, is no weaker and costs less
 * than asking it for every pair.)  `u`: the other fields at most
 * (others_up).  1 only when
 *  - the upper bound of the score stays below REVIEW: the address fields'
 *    best pair from what cheap comparisons tell (a level the costly
 *    Jaro-Winkler could give counts at its highest weight), or the best
 *    pair itself, with the
 *    floor, Packstation, ceiling, frequency and registered-at-work rules
 *    that can lift it; the mailbox, phone, birth date and identifiers at
 *    their own levels and the highest term frequency; the company at its
 *    highest level; name and address together at most name_address_max;
 *  - and no safety rule can lift a DISTINCT pair: the household rule
 *    needs one house number and a family (another given name under one
 *    last name), the rare full name two exact names, the own-evidence
 *    rule (f) a mailbox, phone or identifier of OWN_EVIDENCE_MIN bits.
 * Every rule that lowers a score or a decision is left out: the bound
 * stays a bound (tests/match/test_kernels.c checks it against the full
 * scorer on random pairs under several configurations).
 */
static int surely_distinct(upper *u, const patron__match_result *r, const patron__match_rec *a,
                           const patron__match_rec *b, const patron__match_config *cfg, const patron__match_tf *tf,
                           double names, int ll, int other_given, double name_holders, const addr_best *o)
{
    if (u->own)
        return 0; /* rule (f) could lift it */
    if (rare_name_surprise(r, cfg, tf, name_holders))
        return 0; /* rule (d) could lift it (the names are final here) */
    if (other_given && (ll == PATRON__ML_EXACT || ll == PATRON__ML_SIMILAR || ll == PATRON__ML_PARTIAL) &&
        (o ? o->i >= 0 && (o->lv[0] == PATRON__ML_EXACT || o->lv[0] == PATRON__ML_SIMILAR) &&
                 o->lv[1] == PATRON__ML_EXACT && o->lv[3] != PATRON__ML_DIFFERENT
           : u->number))
        return 0; /* the household rule could hold it (one_family_building) */
    return o ? below_review_at(u, cfg, names, address_up(u, o, cfg, tf)) : below_review(u, cfg, names, a, b);
}

/* names_close(., a, b) may be 1: 0 only where it surely is 0 (a side
 * empty; neither initials nor the same bytes, and typo_may 0). */
static int names_may_close(const char *a, size_t la, const char *b, size_t lb)
{
    if (!la || !lb)
        return 0;
    if ((la == lb && same_bytes(a, b, la)) || patron__match_is_initials(a) || patron__match_is_initials(b))
        return 1;
    return typo_may(a, la, b, lb, 0.92);
}

/*
 * The second question of surely_distinct (the names compared) asked
 * early: with the last name's level ll known (cmp_last) and the given
 * names not compared yet, is the pair sure to be DISTINCT?  1 only where
 * surely_distinct(.., names, ll', other_given, ..) after the names would
 * say 1 for every outcome of the given names' comparison and of the swap
 * rule (ll' the last name's level after it), so the decision is the one
 * the full path gives:
 *  - u->own: surely_distinct says 0; here too.
 *  - the household rule: surely_distinct says 0 when u->number, other_given
 *    and ll' is EXACT, SIMILAR or PARTIAL.  The swap rule sets ll' to
 *    SWAPPED or DIFFERENT or leaves it ll, so ll' in those three needs ll
 *    in them: u->number and ll in them gives 0 here, whatever other_given.
 *  - rule (d), rare_name_surprise: needs both names EXACT with a
 *    frequency and rare_name_expect > 0, so given names of the same bytes
 *    and ll EXACT and a tf: then 0 here.
 *  - else surely_distinct says below_review(u, cfg, names, a, b), and
 *    names (given + last name weight + the full name's lift) is at most
 *    the bound `up` below; below_review grows with names (a sum and a
 *    ceiling), so below_review at the bound implies it at names.  The
 *    bound: the last name at ll's weight (EXACT: plus at most tf_up, as
 *    apply_tf adds), the given name at the best level cmp_first can still
 *    give - a level is left out only by a test cmp_first (or typo_close,
 *    names_close) makes itself on the way to it:
 *      MISSING: a side empty (no swap then: lf is not DIFFERENT);
 *      initials: INITIAL or DIFFERENT;
 *      the same bytes: EXACT plus at most tf_up, never swapped, and with
 *        ll EXACT the full name's lift (up to full_name_max at most);
 *      else DIFFERENT (gender_pair, the end), VARIANT only for two
 *        variants of one name (first_variant, which cmp_first asks
 *        after gender_pair), PARTIAL only where one has a blank (without one, the
 *        first token and every token is the whole name, and the two are
 *        not the same bytes), SIMILAR only where typo_close may say so
 *        (typo_may), PHONETIC only for one Kölner code;
 *    and where the swap rule may apply (lf DIFFERENT, ll neither EXACT
 *    nor SIMILAR): one name close across the fields (x1 or x2, names_close;
 *    names_may_close) gives SWAPPED and DIFFERENT, both SWAPPED twice
 *    (or the levels stay as they are, counted already).
 *    The costly tests (typo_may, names_may_close) are made only where the
 *    level they could rule out would decide.
 * tests/match/test_kernels.c checks it against the scorer without it.
 */
static int names_then_distinct(upper *u, const patron__match_rec *a, const patron__match_rec *b,
                               const patron__match_config *cfg, const patron__match_tf *tf, int ll,
                               patron__match_query *q, int *variant)
{
    const double *wf = cfg->weight[PATRON__MF_FIRST], *wl = cfg->weight[PATRON__MF_LAST];
    double last = wl[ll], up, sw1, sw2;
    unsigned lv;
    int general = 0;

    if (u->own || (u->number && (ll == PATRON__ML_EXACT || ll == PATRON__ML_SIMILAR || ll == PATRON__ML_PARTIAL)))
        return 0;
    if (ll == PATRON__ML_EXACT)
        last += tf_up(cfg, tf, PATRON__MF_LAST, wl[PATRON__ML_EXACT]);
    if (!a->first[0] || !b->first[0])
        return below_review(u, cfg, wf[PATRON__ML_MISSING] + last, a, b);
    if (a->first_initials || b->first_initials) {
        lv = LV(PATRON__ML_INITIAL) | LV(PATRON__ML_DIFFERENT);
    } else if (a->first_len == b->first_len && same_bytes(a->first, b->first, a->first_len)) {
        up = wf[PATRON__ML_EXACT] + tf_up(cfg, tf, PATRON__MF_FIRST, wf[PATRON__ML_EXACT]) + last;
        if (ll == PATRON__ML_EXACT && tf) {
            if (cfg->rare_name_expect > 0)
                return 0;
            if (up < cfg->full_name_max)
                up = cfg->full_name_max;
        }
        return below_review(u, cfg, up, a, b);
    } else {
        general = 1;
        lv = LV(PATRON__ML_DIFFERENT);
        /* VARIANT only for two variants of one name (cmp_first's test,
         * kept for it) */
        if (a->first_known && b->first_known && first_variant(a, b, q, variant))
            lv |= LV(PATRON__ML_VARIANT);
        if (memchr(a->first, ' ', a->first_len) || memchr(b->first, ' ', b->first_len))
            lv |= LV(PATRON__ML_PARTIAL);
        if (a->first_kp[0] && a->first_kp[0] == b->first_kp[0] && strcmp(a->first_kp, b->first_kp) == 0)
            lv |= LV(PATRON__ML_PHONETIC);
    }
    up = wmax(cfg, PATRON__MF_FIRST, lv) + last;
    if (!below_review(u, cfg, up, a, b))
        return 0;
    if (general && !(lv & LV(PATRON__ML_SIMILAR)) && wf[PATRON__ML_SIMILAR] + last > up &&
        typo_may(a->first, a->first_len, b->first, b->first_len, 0.92)) {
        up = wf[PATRON__ML_SIMILAR] + last;
        if (!below_review(u, cfg, up, a, b))
            return 0;
    }
    if (ll == PATRON__ML_EXACT || ll == PATRON__ML_SIMILAR)
        return 1;
    sw1 = wf[PATRON__ML_SWAPPED] + wl[PATRON__ML_DIFFERENT];
    sw2 = wf[PATRON__ML_SWAPPED] + wl[PATRON__ML_SWAPPED];
    if (sw1 <= up && sw2 <= up)
        return 1;
    {
        int x1 = names_may_close(a->first, a->first_len, b->last, b->last_len), x2;
        if (!x1 && sw1 <= up)
            return 1; /* only both (x1 and x2) could lift it */
        x2 = names_may_close(a->last, a->last_len, b->first, b->first_len);
        if (x1 || x2)
            up = max2(up, sw1);
        if (x1 && x2)
            up = max2(up, sw2);
    }
    return below_review(u, cfg, up, a, b);
}

int patron__match_score(patron__match_result *r, const patron__match_rec *a,
                        const patron__match_rec *b, const patron__match_config *cfg)
{
    return patron__match_score_tf(r, a, b, cfg, NULL);
}

static int score(patron__match_result *r, const patron__match_rec *a, const patron__match_rec *b,
                 const patron__match_config *cfg, const patron__match_tf *tf, patron__match_query *q);

int patron__match_score_tf(patron__match_result *r, const patron__match_rec *a,
                           const patron__match_rec *b, const patron__match_config *cfg,
                           const patron__match_tf *tf)
{
    return score(r, a, b, cfg, tf, NULL);
}

int patron__match_score_q(patron__match_result *r, patron__match_query *q, const patron__match_rec *b,
                          const patron__match_config *cfg, const patron__match_tf *tf)
{
    return score(r, q->rec, b, cfg, tf, q);
}

/* Two mobile numbers that differ where the addresses agree (no move
 * between the two records, which home_mobiles_differ's m leaves out: a
 * move is when contracts change, if ever): each is its owner's, so the
 * disagreement weighs home_mobiles_differ.  A landline among them, or an
 * unknown kind, keeps the phone level's weight: one person gives the
 * home's landline once and the mobile another time.  0 turns it off. */
static void home_mobiles(patron__match_result *r, const patron__match_rec *a, const patron__match_rec *b,
                         const patron__match_config *cfg)
{
    patron__match_field_expl *e = &r->field[PATRON__MF_PHONE];

    if (cfg->home_mobiles_differ >= 0 || e->level != PATRON__ML_DIFFERENT || r->addr_a < 0 ||
        r->address_weight <= 0 || e->weight <= cfg->home_mobiles_differ ||
        !mobile(a->phone, a->phone_len) || !mobile(b->phone, b->phone_len))
        return;
    e->weight = cfg->home_mobiles_differ;
}

/* Evidence of one person's own beside the names: a mailbox or phone that
 * few customers hold (an info@ or a switchboard many hold has lost its
 * weight to them, a role mailbox has none), an agreeing birth date or
 * identifier - OWN_EVIDENCE_MIN bits or more.  The address is not among
 * it: a household, a company or a Packstation shares one; nor is the phone
 * of two records that name one company (its switchboard).  Nor is a
 * mailbox at a public provider built from nothing but the name both
 * records bear (thomas.mueller@web.de): namesakes build it too.  One built
 * from the maiden name under the married one, or at a company's own
 * domain, is the person's.  with_birth: an agreeing birth date counts;
 * pair_only: only a mailbox or phone that no third customer holds (its
 * frequency took nothing from its weight). */
static int own_evidence(const patron__match_result *r, const patron__match_rec *a, const patron__match_rec *b,
                        int with_birth, int pair_only)
{
    int f, firm = r->field[PATRON__MF_COMPANY].level == PATRON__ML_EXACT ||
                  r->field[PATRON__MF_COMPANY].level == PATRON__ML_SIMILAR;

    for (f = PATRON__MF_EMAIL; f < PATRON__MF_COUNT; f++)
        if (f != PATRON__MF_COMPANY && !(firm && f == PATRON__MF_PHONE) && (with_birth || f != PATRON__MF_BIRTH) &&
            r->field[f].weight >= OWN_EVIDENCE_MIN &&
            !(pair_only && r->field[f].tf && r->field[f].weight < r->field[f].base_weight) &&
            !(f == PATRON__MF_EMAIL && freemail(a->email) && name_built_mailbox(a->email, a->first, a->last) &&
              name_built_mailbox(b->email, b->first, b->last)))
            return 1;
    return 0;
}

/* Can field f (the mailbox or the phone) of the pair be a personal contact
 * value (see personal_contact) by its bytes alone: an exact mobile number,
 * an exact mailbox that is no role mailbox?  The frequency and the names
 * are asked by personal_contact; the early-exit bound asks only this. */
static int personal_kind(const patron__match_rec *a, const patron__match_rec *b, int f)
{
    if (f == PATRON__MF_PHONE) /* (a landline only after a move: personal_contact) */
        return a->phone_len && a->phone_len == b->phone_len && same_bytes(a->phone, b->phone, a->phone_len) &&
               (mobile(a->phone, a->phone_len) || landline(a->phone, a->phone_len));
    return a->email_len && a->email_len == b->email_len && same_bytes(a->email, b->email, a->email_len) &&
           !role_mailbox(a->email);
}

/* Does the local part of a mailbox hold one of the parts (3 letters or
 * more) of last name `last` (normalised: parts apart by blanks)? */
static int mailbox_names_last(const char *email, const char *last)
{
    char loc[PATRON__MATCH_BUF], part[PATRON__MATCH_BUF];
    const char *p = last;

    if (letters_of(loc, sizeof loc, email, '@') < 0) {
        /* digits in it: the letters alone */
        size_t n = 0;
        for (const char *e = email; *e && *e != '@' && n + 1 < sizeof loc; e++)
            if (*e >= 'a' && *e <= 'z')
                loc[n++] = *e;
        loc[n] = '\0';
    }
    while (*p) {
        size_t n = strcspn(p, " -");
        if (n >= 3 && n < sizeof part) {
            memcpy(part, p, n);
            part[n] = '\0';
            if (strstr(loc, part))
                return 1;
        }
        p += n;
        while (*p == ' ' || *p == '-')
            p++;
    }
    return 0;
}

/* Is a mailbox built from nothing but the name at a public provider
 * (thomas.mueller@web.de), beside the same given and last name, the
 * person's own after all?  Namesakes are said to build it - but one
 * address string is one mailbox at a provider, so two strangers hold it
 * only where one namesake exists at all and happened to build the very
 * same string (style and provider, 1 in 5 at the very most) or one typed
 * the other's.  How many namesakes the store holds by chance is given
 * name holders x last name holders / customers (rare_name_surprise); at
 * most name_mailbox_expect (0.5) of them, times that 1 in 5, is the odds
 * rare_name_expect (0.1) takes for a name alone: the mailbox is the
 * person's, and a move that keeps it is one person's.  A name of common
 * parts (Thomas Müller, Anna Schmidt: a namesake or more expected) keeps
 * the rule that such a mailbox is the name's again.  Both names exact and
 * counted by the store; 0 turns it off. */
static int name_mailbox_unshared(const patron__match_result *r, const patron__match_config *cfg,
                                 const patron__match_tf *tf)
{
    double e;

    if (cfg->name_mailbox_expect <= 0)
        return 0;
    e = namesakes_expected(r, tf);
    return e >= 0 && e <= cfg->name_mailbox_expect;
}

/* A personal contact value that only these two records hold: a mobile
 * number, or a mailbox that is no role mailbox and not one built from
 * nothing but the name at a public provider (namesakes build those), each
 * counted by the store at two holders at most.  Beside the same given and
 * last name (exact, a typo of them, or a double name of a marriage that
 * keeps the other: Weber / Bachmann-Weber; or the same given name under
 * another last name, a marriage, where a mailbox must name one of the two
 * last names: mweber.66@ for Maria Weber / Maria Bachmann) it is as good
 * as an identifier:
 * two people do not share one mobile number or mailbox - a household or an
 * office shares a landline, an info@ or a family mailbox, whose holders
 * have other given names or which many hold.  Its weight is then at least
 * cfg->personal_contact, and after a move the other contact field's
 * disagreement is a second mailbox or a new number of one person (the
 * issue: "a move with the same name and a personal email is MERGE"), at
 * most cfg->second_contact_floor against.  1 when it applied. */
static int personal_contact(patron__match_result *r, const patron__match_rec *a, const patron__match_rec *b,
                            const patron__match_config *cfg, const patron__match_tf *tf, int lf, int ll)
{
    int f, hit = 0;

    if (cfg->personal_contact <= 0)
        return 0;
    /* a birth date or identifier that differs says two people (a father
     * and son of one name on the family's mobile) */
    if (r->field[PATRON__MF_BIRTH].level == PATRON__ML_DIFFERENT ||
        r->field[PATRON__MF_IDENTIFIER].level == PATRON__ML_DIFFERENT)
        return 0;
    if (!(lf == PATRON__ML_EXACT || (lf == PATRON__ML_SIMILAR && !names_apart(a->first, b->first))) ||
        !(ll == PATRON__ML_EXACT || ll == PATRON__ML_SIMILAR || ll == PATRON__ML_PARTIAL ||
          (ll == PATRON__ML_DIFFERENT && lf == PATRON__ML_EXACT)))
        return 0;
    for (f = PATRON__MF_EMAIL; f <= PATRON__MF_PHONE; f++) {
        patron__match_field_expl *e = &r->field[f], *o = &r->field[f == PATRON__MF_EMAIL ? PATRON__MF_PHONE : PATRON__MF_EMAIL];
        if (e->level != PATRON__ML_EXACT || !e->tf || e->count > 2 || !personal_kind(a, b, f))
            continue;
        /* a landline is a household's at one address; at two it is one
         * line that a person kept (two people at two homes do not hold
         * one number) */
        if (f == PATRON__MF_PHONE && !mobile(a->phone, a->phone_len) && !(r->addr_a >= 0 && r->address_weight < 0))
            continue;
        if (f == PATRON__MF_EMAIL && freemail(a->email) && name_built_mailbox(a->email, a->first, a->last) &&
            name_built_mailbox(b->email, b->first, b->last) && !name_mailbox_unshared(r, cfg, tf))
            continue;
        /* another last name (a marriage): a mailbox that names neither
         * (gabriele2005@) ties the two to no name of theirs */
        if (f == PATRON__MF_EMAIL && ll == PATRON__ML_DIFFERENT && !mailbox_names_last(a->email, a->last) &&
            !mailbox_names_last(a->email, b->last))
            continue;
        if (e->weight < cfg->personal_contact)
            e->weight = cfg->personal_contact;
        /* ... after a move (the addresses differ): at one address two
         * different mobiles are two housemates' (home_mobiles) */
        if (o->level == PATRON__ML_DIFFERENT && o->weight < cfg->second_contact_floor && r->address_weight < 0)
            o->weight = cfg->second_contact_floor;
        hit = 1;
    }
    /* ... and where it ties two records of one given name under two last
     * names (a marriage), their two addresses are the marriage's move: one
     * event with the name change, about 2^-1, not the address floor's
     * independent 2^-6 */
    if (hit && ll == PATRON__ML_DIFFERENT && cfg->marriage_move_floor < 0 && r->addr_a >= 0 &&
        r->address_weight < cfg->marriage_move_floor) {
        r->address_weight = cfg->marriage_move_floor;
    }
    return hit;
}

/* A mailbox built from nothing but the name, that only these two records
 * hold, under a full name that is a surprise by its parts
 * (rare_name_surprise: only the pair holds it, and two strangers would
 * rarely share it).  Namesakes build such a mailbox - but there is no
 * namesake to build it here: the mailbox is the person's own evidence
 * after all, and a move keeping it is one person's. */
static int rare_name_mailbox(const patron__match_result *r, const patron__match_rec *a,
                             const patron__match_config *cfg, const patron__match_tf *tf, double holders)
{
    const patron__match_field_expl *e = &r->field[PATRON__MF_EMAIL];

    return e->level == PATRON__ML_EXACT && e->tf && e->count <= 2 && !role_mailbox(a->email) &&
           e->weight >= OWN_EVIDENCE_MIN && rare_name_surprise(r, cfg, tf, holders);
}

/* ---- two people of one name: a generation apart, neighbours -------------------- */

/* Neither record has a mailbox or a phone (a register such as FEBRL). */
static int no_contact(const patron__match_rec *a, const patron__match_rec *b)
{
    return !a->email_len && !a->phone_len && !b->email_len && !b->phone_len;
}

/* A birth date that is no one's: 1 January (a form's default) or before
 * 1901 (a placeholder year). */
static int placeholder_birth(uint32_t d)
{
    return d % 10000 == 101 || d / 10000 <= 1900;
}

/* Months between two birth dates (YYYYMMDD), as a magnitude. */
static int birth_months_apart(uint32_t a, uint32_t b)
{
    int ma = (int)(a / 10000) * 12 + (int)(a / 100 % 100), mb = (int)(b / 10000) * 12 + (int)(b / 100 % 100);
    return ma > mb ? ma - mb : mb - ma;
}

/* Two people of one name at one home, a generation apart: father and son,
 * mother and daughter.  The birth dates differ by cfg->generation_years or
 * more and not as a typo does (cmp_birth: not one digit, not two transposed,
 * not day and month swapped - those are PARTIAL), neither is a placeholder;
 * the pair carries contact data (a mailbox or phone on at least one
 * record) and none of it is evidence of one person (own_evidence: no
 * mailbox, phone or identifier of OWN_EVIDENCE_MIN bits agrees).  What
 * tells one person from a namesake in the same house is a mailbox, a
 * phone, a birth date (name_address_max): the birth date says another
 * generation, and nothing of the person's own says otherwise. */
static int generation_apart(const patron__match_result *r, const patron__match_rec *a, const patron__match_rec *b,
                            const patron__match_config *cfg)
{
    if (cfg->generation_years <= 0 || r->field[PATRON__MF_BIRTH].level != PATRON__ML_DIFFERENT ||
        placeholder_birth(a->birth) || placeholder_birth(b->birth) ||
        birth_months_apart(a->birth, b->birth) < cfg->generation_years * 12)
        return 0;
    /* records without any contact data (a register, FEBRL) have nothing
     * else to tell one person from two: whole birth dates replaced by
     * entry errors are as likely there as a second generation */
    if (no_contact(a, b))
        return 0;
    return !own_evidence(r, a, b, 0, 0);
}

/* Neighbours: one street of one town (street alike, postal code alike),
 * two house numbers that differ by more than a typo (number_weight's
 * other_building: not one digit lost, added, changed or two transposed),
 * two households.  The address then says "the same street", which
 * neighbours share by definition; what tells a person who moved next door
 * (rare) from a neighbour of one name is evidence of the person's own.
 * 1 when the pair carries contact data (a mailbox or phone on at least one
 * record), no mailbox or phone agrees, and nothing else of the person's own
 * does (own_evidence, a birth date included).  Records without any contact
 * data (a register such as FEBRL, which rewrites house numbers) are left
 * to the evidence. */
static int neighbours(const patron__match_result *r, const patron__match_rec *a, const patron__match_rec *b,
                      const patron__match_config *cfg)
{
    int ls = r->field[PATRON__MF_STREET].level, lp = r->field[PATRON__MF_POSTAL].level;

    if (r->addr_a < 0 || cfg->other_building >= 0 || (ls != PATRON__ML_EXACT && ls != PATRON__ML_SIMILAR) ||
        (lp != PATRON__ML_EXACT && lp != PATRON__ML_PARTIAL) ||
        r->field[PATRON__MF_NUMBER].level != PATRON__ML_DIFFERENT ||
        r->field[PATRON__MF_NUMBER].weight != cfg->other_building)
        return 0;
    if (no_contact(a, b))
        return 0;
    if (r->field[PATRON__MF_EMAIL].level == PATRON__ML_EXACT || r->field[PATRON__MF_PHONE].level == PATRON__ML_EXACT)
        return 0;
    return !own_evidence(r, a, b, 1, 0);
}

/* Two given names that are each a known given name of one word and
 * differ, yet are alike enough to pass for a typo (SIMILAR or PHONETIC:
 * Maria / Marie, Maria / Martina, Frank / Franz, Johannes / Johanna,
 * Leonhard / Reinhard): two names, so two people where they share one
 * home - the household rule's "another given name".  A mailbox both
 * records hold says it is one person who wrote the name two ways (Rainer
 * / Reiner): a household shares a landline, not as a rule a mailbox. */
static int known_names_apart(const patron__match_result *r, const patron__match_rec *a, const patron__match_rec *b)
{
    int lf = r->field[PATRON__MF_FIRST].level;

    return (lf == PATRON__ML_SIMILAR || lf == PATRON__ML_PHONETIC) && a->first_known && b->first_known &&
           !strchr(a->first, ' ') && !strchr(b->first, ' ') &&
           r->field[PATRON__MF_EMAIL].level != PATRON__ML_EXACT;
}

/* A move with a new mailbox, where the full name (both parts exact) is
 * held by this pair alone (full_name_tf's holders: 2) and the birth date
 * agrees: two strangers of one full name are rare, of one name and one
 * birth date rarer by some 25 000 - this is one person, and the new mailbox
 * came with the new home (a new provider's mailbox, years between the two
 * registrations): one event with the move, as the landline is, not
 * independent evidence against.  The mailboxes' disagreement then weighs
 * at most moved_mailbox_floor (about 2^-1).  A third holder of the name
 * (a namesake who may share a placeholder birth date) keeps the level's
 * weight.  0 turns it off. */
static void moved_with_birth(patron__match_result *r, const patron__match_config *cfg, int lf, int ll,
                             double name_holders)
{
    patron__match_field_expl *e = &r->field[PATRON__MF_EMAIL];

    if (cfg->moved_mailbox_floor < 0 && lf == PATRON__ML_EXACT && ll == PATRON__ML_EXACT && name_holders >= 1 &&
        name_holders <= 2 && r->field[PATRON__MF_BIRTH].level == PATRON__ML_EXACT && r->addr_a >= 0 &&
        r->address_weight < 0 && e->level == PATRON__ML_DIFFERENT && e->weight < cfg->moved_mailbox_floor)
        e->weight = cfg->moved_mailbox_floor;
}

/* q: a's patterns (a is q->rec), or NULL */
static int score(patron__match_result *r, const patron__match_rec *a, const patron__match_rec *b,
                 const patron__match_config *cfg, const patron__match_tf *tf, patron__match_query *q)
{
    static const char empty[] = "";
    int variant = -1; /* first_variant's memo */
    int exact; /* given and last names the same bytes */
    int lf, ll, f, le, li, wi, half_swap = 0, whole_swap = 0, half_apart = 0, half_near = 0, given_apart = 0;
    double s = 0, name_lift = 0, name_holders = 0;
    /* with distinct_only: what the fields beside the names add at most */
    upper up = {0};
    addr_best best;
    const int early = q && q->distinct_only;
    /* decision_only: the steps before the early exits read the names'
     * explanations alone (each written in full by set()) and the
     * decision, and most pairs end there; the head of r is cleared only
     * for a pair that gets past them, and every field is then written by
     * set() */
    const int lazy = early && q->decision_only && cfg->mode != PATRON__MATCH_MODE_EMAIL;

    if (lazy) {
        r->decision = PATRON__MATCH_DISTINCT;
    } else {
        memset(r, 0, sizeof *r);
        birth_str(r->birth_a, a->birth);
        birth_str(r->birth_b, b->birth);
    }
    le = cmp_email(a->email, a->email_len, b->email, b->email_len);

    if (cfg->mode == PATRON__MATCH_MODE_EMAIL) {
        for (f = 0; f < PATRON__MF_COUNT; f++)
            set(r, cfg, f, PATRON__ML_MISSING, empty, empty);
        r->addr_a = r->addr_b = -1;
        lf = cmp_first(a, b, q, NULL);
        set(r, cfg, PATRON__MF_FIRST, lf, a->first, b->first);
        r->field[PATRON__MF_FIRST].weight = 0; /* shown, not scored */
        le = (le == PATRON__ML_EXACT) ? le : (le == PATRON__ML_MISSING ? le : PATRON__ML_DIFFERENT);
        set(r, cfg, PATRON__MF_EMAIL, le, a->email, b->email);
        r->score = cfg->prior + r->field[PATRON__MF_EMAIL].weight;
        r->probability = patron__match_probability(r->score);
        r->decision = le == PATRON__ML_EXACT ? PATRON__MATCH_MERGE : PATRON__MATCH_DISTINCT;
        if (le == PATRON__ML_EXACT && lf == PATRON__ML_DIFFERENT) {
            r->rule = PATRON__MATCH_RULE_SHARED_EMAIL;
            r->decision = PATRON__MATCH_REVIEW;
        }
        return r->decision;
    }

    if (early)
        others_up(&up, a, b, cfg, tf, le);
    /* the last name first: with its level, most pairs of another given
     * name are known DISTINCT before the given names are compared */
    ll = cmp_last(a, b, q);
    /* both names the same bytes (cmp_first's EXACT: no initials), the
     * pair of most blocks of one name: cmp_first is not asked, and with
     * frequencies and rule (d) on neither is the early exit, which cannot
     * tell before the full name's frequency (names_then_distinct) */
    exact = ll == PATRON__ML_EXACT && a->first[0] && b->first[0] && !a->first_initials && !b->first_initials &&
            a->first_len == b->first_len && same_bytes(a->first, b->first, a->first_len);
    if (early && !(exact && tf && cfg->rare_name_expect > 0) && names_then_distinct(&up, a, b, cfg, tf, ll, q, &variant)) {
        /* DISTINCT; of r only the last name's level is filled (the tests
         * tell this exit from the others by it) */
        set(r, cfg, PATRON__MF_LAST, ll, a->last, b->last);
        return r->decision;
    }
    lf = exact ? PATRON__ML_EXACT : cmp_first(a, b, q, &variant);
    /* first and last name swapped, both or one of them ("Müller Max" /
     * "Max Meier": the name that is there stands in the other field) */
    if (lf == PATRON__ML_DIFFERENT && ll != PATRON__ML_EXACT && ll != PATRON__ML_SIMILAR) {
        int x1 = names_close(q ? &q->first : NULL, a->first, b->last);
        int x2 = names_close(q ? &q->last : NULL, a->last, b->first);
        if (x1 && x2) {
            lf = ll = PATRON__ML_SWAPPED;
        } else if ((x1 || x2) && half_swap_in_order(a, b, x1)) {
            /* both records in order, one's given name the other's surname:
             * two people, the levels stay DIFFERENT */
        } else if (x1 || x2) {
            lf = PATRON__ML_SWAPPED;
            ll = PATRON__ML_DIFFERENT;
            half_swap = 1;
            /* a whole name (no initial) stands in the other field: the
             * pair shares a name, only its field differs ("Harrison
             * Capurso" / "Capurso Ruby") - not another given name under
             * one last name, the household's pattern */
            whole_swap = x1 ? !patron__match_is_initials(a->first) && !patron__match_is_initials(b->last)
                            : !patron__match_is_initials(a->last) && !patron__match_is_initials(b->first);
            /* ... and the two names left over: clearly apart, or one
             * name garbled beyond a small typo? */
            half_apart = x1 ? names_apart(a->last, b->first) : names_apart(a->first, b->last);
            /* the name in the other field is only like the other, as a
             * surname formed from a given name is (Peters / Peter, Günther
             * / Günter), not the same and not a typo of it */
            half_near = x1 ? name_forms(a->first, b->last) : name_forms(a->last, b->first);
        }
    }
    if (lf == PATRON__ML_SWAPPED) {
        set(r, cfg, PATRON__MF_FIRST, lf, a->first, b->last);
        set(r, cfg, PATRON__MF_LAST, ll, a->last, b->first);
    } else {
        set(r, cfg, PATRON__MF_FIRST, lf, a->first, b->first);
        set(r, cfg, PATRON__MF_LAST, ll, a->last, b->last);
        apply_tf(r, cfg, tf, a, PATRON__MF_FIRST, -1, cfg->weight[PATRON__MF_FIRST][PATRON__ML_EXACT]);
        apply_tf(r, cfg, tf, a, PATRON__MF_LAST, -1, cfg->weight[PATRON__MF_LAST][PATRON__ML_EXACT]);
        if (lf == PATRON__ML_EXACT && ll == PATRON__ML_EXACT)
            name_lift = full_name_tf(r, cfg, tf, a, &name_holders);
    }
    /* given names that share one and keep two others apart: another
     * person's, for the household rule */
    if ((lf == PATRON__ML_PARTIAL || lf == PATRON__ML_VARIANT) && given_names_apart(a->first, b->first))
        given_apart = 1;
    if (early) {
        double names = r->field[PATRON__MF_FIRST].weight + r->field[PATRON__MF_LAST].weight + name_lift;
        int other_given = lf == PATRON__ML_DIFFERENT || (half_swap && !whole_swap) || given_apart;
        if (surely_distinct(&up, r, a, b, cfg, tf, names, ll, other_given, name_holders, NULL))
            return r->decision; /* DISTINCT; the rest of r is not filled */
        /* once more with the best pair of addresses in place of their
         * bound: the comparison the rest of the scoring makes next */
        find_addresses(&best, a, b, cfg, q, up.first_set ? up.first : NULL);
        if (surely_distinct(&up, r, a, b, cfg, tf, names, ll, other_given, name_holders, &best))
            return r->decision; /* DISTINCT; the rest of r is not filled */
    } else {
        find_addresses(&best, a, b, cfg, q, up.first_set ? up.first : NULL);
    }
    if (lazy) {
        memset(r, 0, offsetof(patron__match_result, field));
        birth_str(r->birth_a, a->birth);
        birth_str(r->birth_b, b->birth);
    }
    set_addresses(r, &best, a, b, cfg);
    if (r->addr_a >= 0 && r->field[PATRON__MF_NUMBER].level == PATRON__ML_EXACT &&
        r->field[PATRON__MF_POSTAL].level == PATRON__ML_EXACT) {
        /* the address (postal code, street, number) as a whole: a
         * Packstation or a company's building shared by many says little */
        double whole = r->address_weight;
        double before = r->field[PATRON__MF_STREET].weight;
        apply_tf(r, cfg, tf, a, PATRON__MF_STREET, r->addr_a, whole > 0 ? whole : 0);
        r->address_weight += r->field[PATRON__MF_STREET].weight - before;
    }
    set(r, cfg, PATRON__MF_EMAIL, le, a->email, b->email);
    apply_tf(r, cfg, tf, a, PATRON__MF_EMAIL, -1, cfg->weight[PATRON__MF_EMAIL][PATRON__ML_EXACT]);
    if (le == PATRON__ML_EXACT && role_mailbox(a->email) && r->field[PATRON__MF_EMAIL].weight > cfg->role_mailbox_max) {
        /* info@ of a company: the company's, not a person's (the
         * explanation keeps the level's weight beside it) */
        r->field[PATRON__MF_EMAIL].weight = cfg->role_mailbox_max;
    }
    if (le == PATRON__ML_SIMILAR && r->field[PATRON__MF_EMAIL].weight > 0 &&
        name_built_mailbox(a->email, a->first, a->last) && name_built_mailbox(b->email, b->first, b->last)) {
        /* Two mailboxes one character apart, each built from nothing but
         * its own record's name (gerhard.stein-krueger@ /
         * gerhardstein-krueger@): the name written into a mailbox two ways,
         * as two namesakes write it, as often as a typo of one mailbox.
         * The likeness is the names' again, counted there: no evidence. */
        r->field[PATRON__MF_EMAIL].weight = 0;
    }
    set(r, cfg, PATRON__MF_PHONE, cmp_phone(a->phone, a->phone_len, b->phone, b->phone_len), a->phone, b->phone);
    apply_tf(r, cfg, tf, a, PATRON__MF_PHONE, -1, cfg->weight[PATRON__MF_PHONE][PATRON__ML_EXACT]);
    set(r, cfg, PATRON__MF_BIRTH, cmp_birth(a->birth, b->birth), r->birth_a, r->birth_b);
    set(r, cfg, PATRON__MF_COMPANY, cmp_plain(q ? &q->company : NULL, a->company, a->company_len, b->company, b->company_len, 0.9), a->company,
        b->company);
    apply_tf(r, cfg, tf, a, PATRON__MF_COMPANY, -1, cfg->weight[PATRON__MF_COMPANY][PATRON__ML_EXACT]);
    /* registered at work (see company_contact_floor): one record names a
     * company and has a personal work mailbox (not at a public provider,
     * not a role mailbox such as info@), the other names no company */
    if ((a->company_len == 0) != (b->company_len == 0) && cfg->company_contact_floor < 0 &&
        (a->company_len ? a : b)->email_len && !freemail((a->company_len ? a : b)->email) &&
        !role_mailbox((a->company_len ? a : b)->email)) {
        double fl = cfg->company_contact_floor;
        if (r->addr_a >= 0 && r->address_weight < fl)
            r->address_weight = fl;
        if (r->field[PATRON__MF_EMAIL].level == PATRON__ML_DIFFERENT && r->field[PATRON__MF_EMAIL].weight < fl)
            r->field[PATRON__MF_EMAIL].weight = fl;
        if (r->field[PATRON__MF_PHONE].level == PATRON__ML_DIFFERENT && r->field[PATRON__MF_PHONE].weight < fl)
            r->field[PATRON__MF_PHONE].weight = fl;
    }
    /* a move: the home's landline changed with the address (one event) */
    if (cfg->moved_landline_floor < 0 && r->addr_a >= 0 && r->address_weight < 0 &&
        r->field[PATRON__MF_PHONE].level == PATRON__ML_DIFFERENT &&
        r->field[PATRON__MF_PHONE].weight < cfg->moved_landline_floor &&
        (landline(a->phone, a->phone_len) || landline(b->phone, b->phone_len)))
        r->field[PATRON__MF_PHONE].weight = cfg->moved_landline_floor;
    home_mobiles(r, a, b, cfg);
    li = cmp_ident(a, b, &wi);
    if (wi >= 0)
        set(r, cfg, PATRON__MF_IDENTIFIER, li, a->ident[wi], b->ident[wi]);
    else
        set(r, cfg, PATRON__MF_IDENTIFIER, li, empty, empty);
    if (lf != PATRON__ML_SWAPPED)
        personal_contact(r, a, b, cfg, tf, lf, ll);
    moved_with_birth(r, cfg, lf, ll, name_holders);
    for (f = 0; f < PATRON__MF_COUNT; f++)
        if (f != PATRON__MF_STREET && f != PATRON__MF_NUMBER && f != PATRON__MF_ADDITION &&
            f != PATRON__MF_POSTAL && f != PATRON__MF_CITY)
            s += r->field[f].weight;
    s += r->address_weight;
    /* Name and address are not independent: a household shares last name
     * and address, and now and then the given name too (father and son).
     * Together they say at most name_address_max; what tells one person
     * from a namesake in the same house is a mailbox, a phone, a birth date. */
    {
        double na = r->field[PATRON__MF_FIRST].weight + r->field[PATRON__MF_LAST].weight + r->address_weight;
        if (cfg->name_address_max > 0 && na > cfg->name_address_max) {
            r->name_address_cut = na - cfg->name_address_max;
            s -= r->name_address_cut;
        }
    }
    /* The full name's rarity (full_name_tf) on its own is a reason to
     * look, not to merge: it lifts a pair up to REVIEW at most, and only as
     * far as the name and address ceiling leaves room.  Beside evidence of
     * one person's own (a mailbox or phone that few hold, a birth date, an
     * identifier) it counts in full: a rare name and a rare mailbox at two
     * addresses is a move, a common name and a shared mailbox is not (the
     * name gains nothing, the mailbox lost its weight to its holders). */
    if (name_lift > 0 && cfg->prior + s < cfg->merge_score) {
        double na = r->field[PATRON__MF_FIRST].weight + r->field[PATRON__MF_LAST].weight + r->address_weight;
        double room = cfg->merge_score - 0.01 - (cfg->prior + s);
        /* ... or one place of strangers: a full name that only these two
         * hold, at one address that is a company's both records name or a
         * Packstation (place_name_surprise): a namesake would have to be
         * among the few customers of that place.  Not a home: a family
         * shares its last name by birth, not by chance. */
        int one_place = r->addr_a >= 0 &&
                        (r->field[PATRON__MF_STREET].level == PATRON__ML_EXACT ||
                         r->field[PATRON__MF_STREET].level == PATRON__ML_SIMILAR) &&
                        r->field[PATRON__MF_NUMBER].level == PATRON__ML_EXACT &&
                        r->field[PATRON__MF_POSTAL].level == PATRON__ML_EXACT &&
                        (r->field[PATRON__MF_COMPANY].level == PATRON__ML_EXACT ||
                         r->field[PATRON__MF_COMPANY].level == PATRON__ML_SIMILAR ||
                         delivery_point(a->addr[r->addr_a].street) || delivery_point(b->addr[r->addr_b].street));
        int own = own_evidence(r, a, b, 1, 0) || (one_place && place_name_surprise(r, cfg, tf, name_holders)) ||
                  rare_name_mailbox(r, a, cfg, tf, name_holders);
        if (cfg->name_address_max > 0 && na + name_lift > cfg->name_address_max)
            name_lift = cfg->name_address_max > na ? cfg->name_address_max - na : 0;
        if (!own && name_lift > room)
            name_lift = room;
        if (name_lift > 0) {
            lift_names(r, name_lift);
            s += name_lift;
        }
    }
    r->score = cfg->prior + s;
    r->decision = r->score >= cfg->merge_score    ? PATRON__MATCH_MERGE
                  : r->score >= cfg->review_score ? PATRON__MATCH_REVIEW
                                                  : PATRON__MATCH_DISTINCT;

    /* The safety rules: few, explicit, named in the result. */
    {
        int ls = r->field[PATRON__MF_STREET].level, ln = r->field[PATRON__MF_NUMBER].level;
        int lp = r->field[PATRON__MF_POSTAL].level, lb = r->field[PATRON__MF_BIRTH].level;
        int la = r->field[PATRON__MF_ADDITION].level;
        int la_ok = la == PATRON__ML_EXACT || la == PATRON__ML_SIMILAR;
        int same_address = (ls == PATRON__ML_EXACT || ls == PATRON__ML_SIMILAR ||
                            (ls == PATRON__ML_MISSING && la_ok)) &&
                           (ln == PATRON__ML_EXACT || ln == PATRON__ML_MISSING) &&
                           (lp == PATRON__ML_EXACT || lp == PATRON__ML_PARTIAL ||
                            lp == PATRON__ML_MISSING);
        int other_first = lf == PATRON__ML_DIFFERENT || half_swap;
        /* a half swap whose shared name is only alike in the other field
         * (Angelika Peters / Peter Meyer, Christian Günther / Meyer Günter)
         * and whose two other names are clearly apart shares no name at
         * all: two people for rule (b), unless the birth date agrees.  One
         * name shared exactly in the other field (Harrison Capurso /
         * Capurso Ruby) is left to the evidence. */
        int other_last = ll == PATRON__ML_DIFFERENT &&
                         (!half_swap || (half_apart && half_near && r->field[PATRON__MF_BIRTH].level != PATRON__ML_EXACT &&
                                         r->field[PATRON__MF_BIRTH].level != PATRON__ML_PARTIAL));
        /* another given name as the household rule reads it: a whole name
         * in the other field is a shared name, not another person's */
        int other_given = lf == PATRON__ML_DIFFERENT || (half_swap && !whole_swap) || given_apart;
        /* one building (street and number agree) and one last name */
        int one_family_building = same_address && ls != PATRON__ML_MISSING && ln == PATRON__ML_EXACT &&
                                  (ll == PATRON__ML_EXACT || ll == PATRON__ML_SIMILAR || ll == PATRON__ML_PARTIAL);
        /* Given names that are not the same name written otherwise: one
         * shared token of several given names ("Irmgard Ilse" / "Ilse"), a
         * short form or variant (Ilse / Elisabeth, Conrad / Konrad), a
         * phonetic likeness (Ulrike / Ulrich).  Under another last name
         * they are two people: a variant is a name of its own for the
         * colleague or the stranger who bears it. */
        int first_weak = other_first || lf == PATRON__ML_PARTIAL || lf == PATRON__ML_VARIANT ||
                         lf == PATRON__ML_PHONETIC ||
                         /* alike only by their common beginning (Maria /
                          * Marianne, Christa / Christine): Jaro-Winkler's
                          * prefix, not a typo */
                         (lf == PATRON__ML_SIMILAR && names_apart(a->first, b->first));
        int birth_agrees = lb == PATRON__ML_EXACT || lb == PATRON__ML_PARTIAL;
        /* one home: the same building and house number (or address
         * addition), an address that few customers hold (its frequency
         * took nothing from its weight), and neither the company both
         * records name (the employer's building) nor a Packstation */
        int one_home = same_address && (ln == PATRON__ML_EXACT || la_ok) &&
                       !(r->field[PATRON__MF_STREET].tf &&
                         r->field[PATRON__MF_STREET].weight < r->field[PATRON__MF_STREET].base_weight) &&
                       r->field[PATRON__MF_COMPANY].level != PATRON__ML_EXACT &&
                       r->field[PATRON__MF_COMPANY].level != PATRON__ML_SIMILAR &&
                       !(r->addr_a >= 0 && (delivery_point(a->addr[r->addr_a].street) ||
                                            delivery_point(b->addr[r->addr_b].street)));
        /* an identifier that agrees, or differs by one typo (two digits
         * transposed), says who it is */
        int ident_agrees = li == PATRON__ML_EXACT || li == PATRON__ML_SIMILAR;

        /* the evidence beside the names: does any other field agree? */
        int other_agrees = r->address_weight > 0;
        for (f = PATRON__MF_EMAIL; f < PATRON__MF_COUNT && !other_agrees; f++)
            other_agrees = r->field[f].weight > 0;

        /* (b) two people by their names: never MERGE, whatever they share
         * (only an agreeing declared identifier settles it otherwise) */
        if (first_weak && other_last && !ident_agrees) {
            if (r->decision == PATRON__MATCH_MERGE) {
                r->decision = PATRON__MATCH_REVIEW;
                r->rule = PATRON__MATCH_RULE_OTHER_NAMES;
            }
        } else if (other_given && !birth_agrees && !ident_agrees &&
                   (same_address || le == PATRON__ML_EXACT ||
                    r->field[PATRON__MF_PHONE].level == PATRON__ML_EXACT) &&
                   r->decision != PATRON__MATCH_DISTINCT && lf != PATRON__ML_SWAPPED &&
                   first_unclear(r->field[PATRON__MF_FIRST].a, r->field[PATRON__MF_FIRST].b)) {
            /* another given name at one address that may be this one
             * garbled (racxe / rachel, "ssha un" / shaun): not filed away
             * as a household and not merged either (the household rule
             * holds it back): a person looks */
            r->decision = PATRON__MATCH_REVIEW;
            r->rule = PATRON__MATCH_RULE_HOUSEHOLD;
        } else if (r->decision == PATRON__MATCH_MERGE && ll == PATRON__ML_DIFFERENT && lf != PATRON__ML_SWAPPED &&
                   !ident_agrees && !one_home && !own_evidence(r, a, b, 1, 0)) {
            /* (e) another last name: a marriage - or another person who
             * shares the given name and a place (a neighbour, a colleague
             * at the company's address, a stranger at one Packstation).
             * At one home few customers share it is a marriage; elsewhere
             * what tells them apart is evidence of the person's own
             * (own_evidence: a birth date, a mailbox or phone few hold, an
             * identifier).  Without it a person looks. */
            r->decision = PATRON__MATCH_REVIEW;
            r->rule = PATRON__MATCH_RULE_NAME_CHANGE;
        } else if (other_given && !birth_agrees && !ident_agrees &&
                   (same_address || le == PATRON__ML_EXACT ||
                    r->field[PATRON__MF_PHONE].level == PATRON__ML_EXACT) &&
                   (r->decision != PATRON__MATCH_DISTINCT || one_family_building)) {
            /* (a) a household: same address (or the household's mailbox or
             * phone), another given name, no agreeing birth date (an
             * agreeing one says it is one person after all; twins are the
             * known exception).  Family members at one building with one
             * last name are a household even where the evidence alone
             * would call them distinct (one catalogue per household). */
            r->decision = PATRON__MATCH_HOUSEHOLD;
            r->rule = PATRON__MATCH_RULE_HOUSEHOLD;
            /* ... but a household is one last name and other given names:
             * where one record has no last name, that it is another person
             * of one family is not known - a person looks (the rule still
             * holds the pair back from MERGE) */
            if (ll == PATRON__ML_MISSING)
                r->decision = PATRON__MATCH_REVIEW;
        } else if (r->decision != PATRON__MATCH_DISTINCT && one_family_building && !other_given &&
                   lf != PATRON__ML_SWAPPED && !ident_agrees && generation_apart(r, a, b, cfg)) {
            /* (a') one name at one home, the birth dates a generation
             * apart (generation_apart): father and son, mother and
             * daughter - two people of one household */
            r->decision = PATRON__MATCH_HOUSEHOLD;
            r->rule = PATRON__MATCH_RULE_HOUSEHOLD;
        } else if (r->decision != PATRON__MATCH_DISTINCT && one_family_building && !birth_agrees && !ident_agrees &&
                   known_names_apart(r, a, b)) {
            /* (a'') two known given names alike only in their spelling at
             * one home under one last name (known_names_apart): a
             * household, as (a) */
            r->decision = PATRON__MATCH_HOUSEHOLD;
            r->rule = PATRON__MATCH_RULE_HOUSEHOLD;
        } else if (r->decision == PATRON__MATCH_MERGE && !ident_agrees && neighbours(r, a, b, cfg)) {
            /* (g) neighbours of one name: one street, two buildings,
             * nothing of the person's own agreeing (neighbours): a person
             * looks, never a MERGE */
            r->decision = PATRON__MATCH_REVIEW;
            r->rule = PATRON__MATCH_RULE_OTHER_BUILDING;
        } else if (r->decision == PATRON__MATCH_MERGE && !other_agrees) {
            /* (c) one name and nothing else in common (a Packstation and
             * a missing mailbox beside a home; the only link of the batch's
             * rare-name key): a person looks, however rare the name */
            r->decision = PATRON__MATCH_REVIEW;
            r->rule = PATRON__MATCH_RULE_NAME_ONLY;
        } else if (r->decision == PATRON__MATCH_DISTINCT && rare_name_surprise(r, cfg, tf, name_holders) &&
                   lb != PATRON__ML_DIFFERENT && li != PATRON__ML_DIFFERENT) {
            /* (d) a full name only these two hold, and one that two
             * strangers would rarely share (rare_name_surprise): the
             * contact data that disagree are one event (a move with a new
             * mailbox and phone, a registration at work), not independent
             * evidence against.  A person looks; never a MERGE.  A birth
             * date or identifier that differs still says two people. */
            r->decision = PATRON__MATCH_REVIEW;
            r->rule = PATRON__MATCH_RULE_NAME_ONLY;
            if (r->score < cfg->review_score)
                r->score = cfg->review_score;
        } else if (r->decision == PATRON__MATCH_DISTINCT &&
                   (lf == PATRON__ML_EXACT || (lf == PATRON__ML_SIMILAR && !names_apart(a->first, b->first))) &&
                   lb != PATRON__ML_DIFFERENT && li != PATRON__ML_DIFFERENT && own_evidence(r, a, b, 0, 1)) {
            /* (f) the same given name and a mailbox or phone that only
             * these two customers hold (or an identifier), everything else
             * changed at once: a move with a new mailbox, a marriage and a
             * move.  A person looks.  (Not a birth date: without its
             * frequency, a placeholder many share would count.) */
            r->decision = PATRON__MATCH_REVIEW;
            r->rule = PATRON__MATCH_RULE_OWN_EVIDENCE;
            if (r->score < cfg->review_score)
                r->score = cfg->review_score;
        }
    }
    /* the probability of the final score, once the rules are done (one of
     * them may lift a DISTINCT pair to a household or a REVIEW), and only
     * where someone looks at it (a batch scores millions of DISTINCT
     * pairs) */
    if (r->decision != PATRON__MATCH_DISTINCT)
        r->probability = patron__match_probability(r->score);
    return r->decision;
}

const char *patron__match_field_name(int field)
{
    static const char *const names[PATRON__MF_COUNT] = {
        "first_name", "last_name", "street", "house_number", "address_addition", "postal_code",
        "city",       "email",     "phone",  "birth_date",   "company",          "identifier",
    };
    return (field >= 0 && field < PATRON__MF_COUNT) ? names[field] : "?";
}

const char *patron__match_level_name(int level)
{
    static const char *const names[PATRON__ML_COUNT] = {
        "missing", "exact", "variant", "similar", "phonetic",
        "partial", "initial", "swapped", "different",
    };
    return (level >= 0 && level < PATRON__ML_COUNT) ? names[level] : "?";
}

const char *patron__match_rule_name(int rule)
{
    switch (rule) {
    case PATRON__MATCH_RULE_HOUSEHOLD:
        return "household";
    case PATRON__MATCH_RULE_OTHER_NAMES:
        return "other_names";
    case PATRON__MATCH_RULE_SHARED_EMAIL:
        return "shared_email";
    case PATRON__MATCH_RULE_NAME_ONLY:
        return "name_only";
    case PATRON__MATCH_RULE_NAME_CHANGE:
        return "name_change";
    case PATRON__MATCH_RULE_OWN_EVIDENCE:
        return "own_evidence";
    case PATRON__MATCH_RULE_OTHER_BUILDING:
        return "other_building";
    default:
        return "";
    }
}

const char *patron__match_decision_name(int decision)
{
    switch (decision) {
    case PATRON__MATCH_HOUSEHOLD:
        return "household";
    case PATRON__MATCH_MERGE:
        return "merge";
    case PATRON__MATCH_REVIEW:
        return "review";
    default:
        return "distinct";
    }
}
