/*
 * Field normalisers and the normalised record.
 *
 * SPDX-License-Identifier: MIT
 */
#include "match.h"

#include <stdbool.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return c >= 'a' && c <= 'z';
}

static int is_space(int c)
{
    return c == ' ' || (unsigned)(c - '\t') <= '\r' - '\t'; /* \t \n \v \f \r */
}

static size_t fold_str(char *out, const char *in)
{
    return patron__match_fold(out, PATRON__MATCH_BUF, in ? in : "", in ? strlen(in) : 0);
}

/* s is two bytes long (strlen(s) == 2, without measuring it) */
static int two_bytes(const char *s)
{
    return s[0] && s[1] && !s[2];
}

/* A two-byte code ("DE") as one number for comparing; 0 for any other
 * length, which then equals none of the codes. */
#define CC(a, b) ((unsigned)(unsigned char)(a) << 8 | (unsigned char)(b))
static unsigned cc_code(const char *s)
{
    return two_bytes(s) ? CC(s[0], s[1]) : 0;
}

/* cc is one of the codes in list ("ATCH...": two bytes each). */
static int cc_in(unsigned cc, const char *list)
{
    for (; *list; list += 2)
        if (cc == CC(list[0], list[1]))
            return 1;
    return 0;
}

/* ---- street and house number ------------------------------------------ */

#define MAX_STOK 24
#define STOK_MAX 63 /* bytes of a token that count; the rest is skipped */

/* A token of the folded street: its first n bytes (at most STOK_MAX) at s,
 * in the folded buffer itself (the tokens are not copied). */
struct stok {
    const char *s;
    size_t n;
};

struct stoks {
    struct stok t[MAX_STOK];
    size_t n;
};

static int street_blank(int c)
{
    return c == ' ' || c == ',' || c == ';';
}

/* Split folded text on blanks and commas, and between a letter or dot and
 * a following digit ("hauptstr.12" → "hauptstr." "12").  A token longer
 * than STOK_MAX bytes keeps its first STOK_MAX, and the split before a
 * digit looks at the last byte kept. */
static void street_tokens(struct stoks *t, const char *s)
{
    t->n = 0;
    for (;;) {
        const char *start;
        size_t k;

        while (street_blank(*s))
            s++;
        if (!*s || t->n == MAX_STOK)
            break;
        start = s++;
        for (; *s && !street_blank(*s); s++) {
            if (is_digit((unsigned char)*s)) {
                char l;
                k = (size_t)(s - start);
                l = start[(k < STOK_MAX ? k : STOK_MAX) - 1];
                if (is_alpha((unsigned char)l) || l == '.')
                    break;
            }
        }
        k = (size_t)(s - start);
        t->t[t->n].s = start;
        t->t[t->n].n = k < STOK_MAX ? k : STOK_MAX;
        t->n++;
    }
}

static int number_like(const struct stok *w)
{
    size_t i;

    /* 12, 12a, 12-14, 12/1, 12a-c */
    if (w->n == 0 || !is_digit((unsigned char)w->s[0]))
        return 0;
    for (i = 1; i < w->n; i++) {
        unsigned char c = (unsigned char)w->s[i];
        if (!(is_digit(c) || is_alpha(c) || c == '-' || c == '/' || c == '.'))
            return 0;
    }
    return 1;
}

static int all_digits(const char *s, size_t n)
{
    size_t i;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        if (!is_digit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int stok_is(const struct stok *w, const char *lit, size_t n)
{
    return w->n == n && memcmp(w->s, lit, n) == 0;
}

/* House number from the n folded bytes at folded: lower case, blanks and
 * dots removed; the length written. */
static size_t norm_number(char *out, const char *folded, size_t len)
{
    size_t n = 0, i;

    for (i = 0; i < len && n < PATRON__MATCH_FIELD_MAX; i++) {
        unsigned char c = (unsigned char)folded[i];
        if (is_digit(c) || is_alpha(c) || c == '-' || c == '/')
            out[n++] = (char)c;
    }
    /* no dangling separators */
    while (n > 0 && (out[n - 1] == '-' || out[n - 1] == '/'))
        n--;
    out[n] = '\0';
    return n;
}

/* The house number from tokens a[0..n) written one after the other ("12"
 * "a", "12" "-" "14"). */
static size_t number_of(char *out, const struct stok *a, size_t n)
{
    char nb[3 * STOK_MAX]; /* (at most three tokens: "12" "-" "14") */
    size_t k = 0, i;

    for (i = 0; i < n; i++) {
        memcpy(nb + k, a[i].s, a[i].n);
        k += a[i].n;
    }
    return norm_number(out, nb, k);
}

static int ends_with(const char *s, size_t n, const char *suf, size_t k)
{
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

/* The length of the word w[0..k) (k >= 1) with the German street words
 * unified; first: it is the street's first word (and may be "sankt") */
static size_t street_word(char *w, size_t k, int first)
{
    if (first && k == 5 && memcmp(w, "sankt", 5) == 0) { /* Sankt-Georg-Str. / St.-Georg-Str. */
        memcpy(w, "st", 2);
        k = 2;
    }
    if (ends_with(w, k, "strasse", 7))
        k -= 4; /* → "str" */
    else if (ends_with(w, k, "strase", 6) || ends_with(w, k, "strabe", 6))
        k -= 3;
    else if (ends_with(w, k, "platz", 5))
        k -= 3; /* → "pl" */
    return k;
}

/* The street's name from its tokens [from, to): German street words are
 * unified ("straße", "strasse", "str." → "str"; "platz", "pl." → "pl",
 * street_word).  Words of other languages are kept as written:
 * abbreviating them ("street" → "st") would turn a typo in the word
 * ("stre et", "dtreet") into a different street. */
static size_t street_name(char *out, const struct stoks *t, size_t from, size_t to)
{
    size_t n = 0, i, j;

    for (i = from; i < to; i++) {
        char wb[STOK_MAX];
        size_t k = 0;
        const char *src = t->t[i].s;
        /* the word is written in place when it fits whatever it keeps */
        char *w = n + t->t[i].n <= PATRON__MATCH_FIELD_MAX ? out + n : wb;
        /* letters and digits only: "goethe-str." → "goethestr" */
        for (j = 0; j < t->t[i].n; j++) {
            unsigned char c = (unsigned char)src[j];
            if (is_digit(c) || is_alpha(c) || c >= 0x80)
                w[k++] = (char)c;
        }
        if (k == 0)
            continue;
        k = street_word(w, k, i == from);
        if (n + k > PATRON__MATCH_FIELD_MAX)
            break;
        if (w == wb)
            memcpy(out + n, w, k);
        n += k;
    }
    out[n] = '\0';
    return n;
}

/* The house number given apart (in_number not empty) into number; its
 * length. */
static size_t number_given(char *number, const char *in_number)
{
    char nb[PATRON__MATCH_BUF];
    size_t i;
    /* ASCII as it is: folding would lower A-Z and make control bytes
     * blanks (dropped here) in the first PATRON__MATCH_FIELD_MAX bytes */
    const unsigned char *q = (const unsigned char *)in_number;

    for (i = 0; i < PATRON__MATCH_FIELD_MAX && q[i] && q[i] < 0x80; i++)
        nb[i] = (char)((unsigned)(q[i] - 'A') < 26u ? q[i] + 32 : q[i]);
    if (i < PATRON__MATCH_FIELD_MAX && q[i])
        i = fold_str(nb, in_number); /* (not ASCII) */
    return norm_number(number, nb, i);
}

/* The n folded bytes at s are one word of letters that street_tokens
 * keeps whole: no blank, comma, digit or punctuation, at most STOK_MAX
 * bytes */
static int one_word(const char *s, size_t n)
{
    return n > 0 && n <= STOK_MAX && patron__match_word_bytes(s, n, 0, 0);
}

/* patron__match_norm_street, giving the lengths of what it wrote. */
static void street_norm(char *street, size_t *street_len, char *number, size_t *number_len,
                        const char *in_street, const char *in_number)
{
    char buf[PATRON__MATCH_BUF];
    struct stoks t;
    size_t from = 0, to, nl = 0;

    number[0] = '\0';
    to = fold_str(buf, in_street);
    if (one_word(buf, to)) {
        /* one word of letters (most streets, their number apart: the
         * tokens would be that word, no number among them, and nothing
         * of it filtered out): unified in place */
        to = street_word(buf, to, 1);
        patron__match_copy_small(street, buf, to);
        street[to] = '\0';
        *street_len = to;
        *number_len = in_number && *in_number ? number_given(number, in_number) : 0;
        return;
    }
    street_tokens(&t, buf);
    to = t.n;
    if (in_number && *in_number) {
        nl = number_given(number, in_number);
    } else if (t.n == 1 && number_like(&t.t[0])) { /* only a number: "68" */
        nl = number_of(number, &t.t[0], 1);
        from = 1;
    } else if (t.n >= 2) {
        const struct stok *last = &t.t[t.n - 1];
        if (last->n == 1 && is_alpha((unsigned char)last->s[0]) &&
            all_digits(t.t[t.n - 2].s, t.t[t.n - 2].n)) {
            /* "12 a" */
            nl = number_of(number, &t.t[t.n - 2], 2);
            to = t.n - 2;
        } else if (number_like(last)) {
            to = t.n - 1;
            /* "12 - 14", "12 / 1" */
            if (to >= 2 && (stok_is(&t.t[to - 1], "-", 1) || stok_is(&t.t[to - 1], "/", 1)) &&
                number_like(&t.t[to - 2])) {
                to -= 2;
                nl = number_of(number, &t.t[to], 3);
            } else {
                nl = number_of(number, last, 1);
            }
        } else if (number_like(&t.t[0])) { /* "12 Main Street" */
            nl = number_of(number, &t.t[0], 1);
            from = 1;
        }
        /* "Nr." before the number */
        if (to > from + 1 && (stok_is(&t.t[to - 1], "nr", 2) || stok_is(&t.t[to - 1], "nr.", 3)))
            to--;
    }
    *number_len = nl;
    *street_len = street_name(street, &t, from, to);
}

void patron__match_norm_street(char *street, char *number, const char *in_street,
                               const char *in_number)
{
    size_t sl, nl;

    street_norm(street, &sl, number, &nl, in_street, in_number);
}

/* ---- country ------------------------------------------------------------ */

static const char *const countries[][2] = {
    {"d", "DE"}, {"deu", "DE"}, {"ger", "DE"}, {"deutschland", "DE"}, {"germany", "DE"},
    {"brd", "DE"}, {"bundesrepublikdeutschland", "DE"}, {"allemagne", "DE"},
    {"a", "AT"}, {"aut", "AT"}, {"oesterreich", "AT"}, {"osterreich", "AT"},
    {"austria", "AT"}, {"ch", "CH"}, {"che", "CH"}, {"schweiz", "CH"},
    {"switzerland", "CH"}, {"suisse", "CH"}, {"svizzera", "CH"}, {"liechtenstein", "LI"},
    {"nl", "NL"}, {"nld", "NL"}, {"niederlande", "NL"}, {"netherlands", "NL"},
    {"holland", "NL"}, {"nederland", "NL"}, {"belgien", "BE"}, {"belgium", "BE"},
    {"belgique", "BE"}, {"luxemburg", "LU"}, {"luxembourg", "LU"}, {"frankreich", "FR"},
    {"france", "FR"}, {"italien", "IT"}, {"italy", "IT"}, {"italia", "IT"},
    {"polen", "PL"}, {"poland", "PL"}, {"polska", "PL"}, {"daenemark", "DK"},
    {"denmark", "DK"}, {"tschechien", "CZ"}, {"czechia", "CZ"}, {"spanien", "ES"},
    {"spain", "ES"}, {"espana", "ES"}, {"uk", "GB"}, {"grossbritannien", "GB"},
    {"unitedkingdom", "GB"}, {"england", "GB"}, {"usa", "US"}, {"unitedstates", "US"},
    {"australien", "AU"}, {"australia", "AU"}, {"schweden", "SE"}, {"sweden", "SE"},
    {"norwegen", "NO"}, {"norway", "NO"}, {"portugal", "PT"}, {"ungarn", "HU"},
    {"hungary", "HU"}, {"slowakei", "SK"}, {"slovakia", "SK"}, {"irland", "IE"},
    {"ireland", "IE"}, {"tuerkei", "TR"}, {"turkey", "TR"}, {"finnland", "FI"},
    {"finland", "FI"}, {"griechenland", "GR"}, {"greece", "GR"},
};

void patron__match_norm_country(char out[3], const char *in, const char *default_country)
{
    char buf[PATRON__MATCH_BUF], w[PATRON__MATCH_BUF];
    size_t n = 0, i;
    const char *p;

    if (!default_country || !two_bytes(default_country))
        default_country = "DE";
    /* the common case, two ASCII letters ("DE", "at"): what folding and
     * the ISO-code case below make of them, without folding */
    if (in && in[0] && in[1] && !in[2] && ((in[0] | 32) >= 'a' && (in[0] | 32) <= 'z') &&
        ((in[1] | 32) >= 'a' && (in[1] | 32) <= 'z') && !((in[0] | 32) == 'u' && (in[1] | 32) == 'k')) {
        out[0] = (char)(in[0] & ~32);
        out[1] = (char)(in[1] & ~32);
        out[2] = '\0';
        return;
    }
    fold_str(buf, in);
    for (p = buf; *p; p++)
        if (is_alpha((unsigned char)*p))
            w[n++] = *p;
    w[n] = '\0';
    if (n == 0) {
        out[0] = default_country[0];
        out[1] = default_country[1];
        out[2] = '\0';
        return;
    }
    /* the common case, an ISO code ("de"): no table walk; "uk" is the one
     * two-letter name that is not its own code */
    if (n == 2 && !(w[0] == 'u' && w[1] == 'k')) {
        out[0] = (char)(w[0] - 32);
        out[1] = (char)(w[1] - 32);
        out[2] = '\0';
        return;
    }
    for (i = 0; i < COUNT(countries); i++)
        if (strcmp(w, countries[i][0]) == 0) {
            memcpy(out, countries[i][1], 3);
            return;
        }
    if (n == 2) {
        out[0] = (char)(w[0] - 32);
        out[1] = (char)(w[1] - 32);
        out[2] = '\0';
        return;
    }
    /* unknown: keep it recognisable, never empty */
    out[0] = (char)(w[0] - 32);
    out[1] = (char)(w[1] - 32);
    out[2] = '\0';
}

/* ---- postal code ---------------------------------------------------------- */

size_t patron__match_norm_postal(char *out, const char *in, const char *country)
{
    /* the four-digit countries, and those written "123 45" */
    static const char four[] = "ATCHLIBELUDKNOHUAUSIBGNZZA", five_space[] = "CZSKSEGR";
    char buf[PATRON__MATCH_BUF], anb[PATRON__MATCH_BUF], dgb[PATRON__MATCH_BUF];
    const char *an = anb, *dg = dgb; /* each followed by its NUL */
    size_t n = 0, nd = 0, i;
    const char *p;
    unsigned cc;

    out[0] = '\0';
    if (!in || !*in)
        return 0;
    cc = !country || !*country ? CC('D', 'E') : cc_code(country);
    /* digits alone (most codes): folding keeps them, there is no prefix,
     * and they are all the letters and digits there are - the code
     * itself is both lists */
    for (n = 0; is_digit((unsigned char)in[n]); n++)
        ;
    if (!in[n] && n <= PATRON__MATCH_FIELD_MAX) {
        an = dg = in;
        nd = n;
        goto rules;
    }
    n = 0;
    fold_str(buf, in);
    p = buf;
    while (is_space((unsigned char)*p))
        p++;
    /* country prefix: "D-12345", "DE-12345", "CH-8000", "L-1234" */
    {
        const char *q = p;
        while (is_alpha((unsigned char)*q))
            q++;
        if (q > p && q - p <= 3 && (*q == '-' || *q == ' ') && is_digit((unsigned char)q[1]))
            p = q + 1;
    }
    for (; *p && n < PATRON__MATCH_FIELD_MAX; p++) {
        unsigned char c = (unsigned char)*p;
        if (is_digit(c) || is_alpha(c)) {
            anb[n++] = (char)(is_alpha(c) ? c - 32 : c);
            if (is_digit(c))
                dgb[nd++] = (char)c;
        }
    }
    anb[n] = '\0';
    dgb[nd] = '\0';
    if (n == 0)
        return 0;
rules:
    if (cc == CC('D', 'E') || cc_in(cc, four) || cc == CC('U', 'S')) {
        if (nd == n) {
            if (cc == CC('D', 'E') && nd == 4) { /* lost leading zero */
                out[0] = '0';
                memcpy(out + 1, dg, 5);
                return 5;
            }
            if (cc == CC('U', 'S') && nd == 9)
                nd = 5; /* ZIP+4 */
            memcpy(out, dg, nd);
            out[nd] = '\0';
            return nd;
        }
    } else if (cc == CC('N', 'L')) {
        if (n == 6 && nd == 4 && all_digits(dg, nd) && is_digit((unsigned char)an[3]) &&
            !is_digit((unsigned char)an[4]) && !is_digit((unsigned char)an[5])) {
            memcpy(out, an, 4);
            out[4] = ' ';
            out[5] = an[4];
            out[6] = an[5];
            out[7] = '\0';
            return 7;
        }
    } else if (cc == CC('P', 'L') && nd == 5 && n == 5) {
        memcpy(out, dg, 2);
        out[2] = '-';
        memcpy(out + 3, dg + 2, 4);
        return 6;
    } else if (cc == CC('P', 'T') && nd == 7 && n == 7) {
        memcpy(out, dg, 4);
        out[4] = '-';
        memcpy(out + 5, dg + 4, 4);
        return 8;
    } else if (cc_in(cc, five_space) && nd == 5 && n == 5) {
        memcpy(out, dg, 3);
        out[3] = ' ';
        memcpy(out + 4, dg + 3, 3);
        return 6;
    } else if ((cc == CC('G', 'B') || cc == CC('I', 'E') || cc == CC('C', 'A')) && n > 3 && n <= 8) {
        memcpy(out, an, n - 3);
        out[n - 3] = ' ';
        memcpy(out + n - 2, an + n - 3, 4);
        return n + 1;
    }
    for (i = 0; i <= n; i++)
        out[i] = an[i];
    return n;
}

/* ---- city, company ---------------------------------------------------------- */

/* The city of s[0..len): its letters and digits (and bytes of other
 * characters) outside brackets, up to a '/'.  raw: s is the value as
 * given, read as folding gives it while it is ASCII (A-Z lowered; a
 * control byte, a blank to folding, is dropped as one); (size_t)-1 at a
 * byte >= 0x80 (then it must be folded first). */
static inline size_t city_keep(char *out, const char *s, size_t len, int raw)
{
    size_t n = 0, i;
    int depth = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (raw) {
            if (c >= 0x80)
                return (size_t)-1;
            if ((unsigned)(c - 'A') < 26u)
                c += 32;
        }
        if (is_digit(c) || is_alpha(c) || c >= 0x80) { /* (the common case first) */
            if (depth == 0)
                out[n++] = (char)c;
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth -= depth > 0;
        } else if (c == '/' && n > 0) {
            break; /* "Halle/Saale" → "halle" */
        }
    }
    out[n] = '\0';
    return n;
}

size_t patron__match_norm_city(char *out, const char *in)
{
    char buf[PATRON__MATCH_BUF];
    size_t n, len;

    out[0] = '\0';
    if (!in || !*in)
        return 0;
    /* ASCII (most cities): read as it is, not folded into a buffer first;
     * folding keeps PATRON__MATCH_FIELD_MAX bytes of it */
    len = strlen(in);
    if (len <= PATRON__MATCH_FIELD_MAX && patron__match_word_bytes(in, len, 1, 1)) {
        /* one word of letters and digits ("Berlin"): all of it, lowered */
        patron__match_lower_alnum(out, in, len);
        return len;
    }
    n = city_keep(out, in, len < PATRON__MATCH_FIELD_MAX ? len : PATRON__MATCH_FIELD_MAX, 1);
    if (n != (size_t)-1)
        return n;
    len = patron__match_fold(buf, sizeof buf, in, len);
    return city_keep(out, buf, len, 0);
}

static const char *const legal_forms[] = {
    "ag", "cie", "co", "eg", "ek", "ekfm", "ekfr", "ev", "gbr", "gmbh", "haftungsbeschraenkt",
    "inc", "kg", "kgaa", "llc", "ltd", "limited", "mbh", "nv", "bv", "ohg", "partg", "plc",
    "sarl", "se", "srl", "ug", "und", "u",
};

size_t patron__match_norm_company(char *out, const char *in)
{
    char buf[PATRON__MATCH_BUF], w[PATRON__MATCH_BUF];
    size_t n = 0, fallback = 0, k, i;
    const char *p;
    char all[PATRON__MATCH_BUF];

    out[0] = '\0';
    if (!in || !*in)
        return 0;
    fold_str(buf, in);
    p = buf;
    for (;;) {
        int legal = 0;
        k = 0;
        while (*p && !(is_digit((unsigned char)*p) || is_alpha((unsigned char)*p) ||
                       (unsigned char)*p >= 0x80))
            p++;
        if (!*p)
            break;
        while (*p && (is_digit((unsigned char)*p) || is_alpha((unsigned char)*p) ||
                      (unsigned char)*p >= 0x80 || *p == '.'))
            if (*p++ != '.')
                w[k++] = p[-1];
        w[k] = '\0';
        memcpy(all + fallback, w, k);
        fallback += k;
        for (i = 0; i < COUNT(legal_forms); i++)
            if (legal_forms[i][0] == w[0] && strcmp(w, legal_forms[i]) == 0) {
                legal = 1;
                break;
            }
        if (k == 1 && is_alpha((unsigned char)w[0]))
            legal = 1; /* the "e" "k" of e. K., stray letters */
        if (!legal) {
            memcpy(out + n, w, k);
            n += k;
        }
    }
    if (n == 0 && fallback > 0) { /* nothing but legal words: keep them */
        memcpy(out, all, fallback);
        n = fallback;
    }
    out[n] = '\0';
    return n;
}

/* ---- email ------------------------------------------------------------------- */

size_t patron__match_norm_email(char *out, const char *in)
{
    char buf[PATRON__MATCH_BUF];
    const char *s, *e, *at, *dom, *lt, *gt = NULL;
    size_t n, k;
    int gmail;

    out[0] = '\0';
    if (!in || !*in)
        return 0;
    /* (the folded text holds no NUL: its ends are pointers, not searched) */
    n = patron__match_casefold(buf, sizeof buf, in, strlen(in));
    s = buf;
    e = buf + n;
    lt = memchr(s, '<', n);
    if (lt)
        gt = memchr(lt, '>', (size_t)(e - lt));
    if (lt && gt) { /* "Max <max@example.de>" */
        s = lt + 1;
        e = gt;
    }
    while (s < e && is_space((unsigned char)*s))
        s++;
    while (e > s && is_space((unsigned char)e[-1]))
        e--;
    if ((size_t)(e - s) > 7 && memcmp(s, "mailto:", 7) == 0)
        s += 7;
    /* the last '@' of s..e */
    for (at = e; at > s && at[-1] != '@'; at--)
        ;
    if (at == s || at == e) /* none, or nothing after it */
        return 0;
    at--;
    if (at == s) /* nothing before it */
        return 0;
    dom = at + 1;
    k = (size_t)(e - dom);
    while (k > 0 && dom[k - 1] == '.')
        k--;
    if (k == 0)
        return 0;
    if (k == 14 && memcmp(dom, "googlemail.com", 14) == 0) {
        dom = "gmail.com";
        k = 9;
    }
    n = 0;
    gmail = k == 9 && memcmp(dom, "gmail.com", 9) == 0;
    /* eight bytes at a time while none of them is a '+', a blank or a
     * control byte (or a dot of a gmail address): kept as they are;
     * the rest byte by byte (the tests only tell whether there is such a
     * byte among the eight) */
    {
        const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
        while (at - s >= 8) {
            uint64_t w, plus, dot;
            memcpy(&w, s, 8);
            plus = w ^ (ones * '+');
            dot = w ^ (ones * '.');
            if ((((w - ones * 0x21) & ~w) | ((plus - ones) & ~plus) | (gmail ? (dot - ones) & ~dot : 0)) & highs)
                break;
            memcpy(out + n, &w, 8);
            n += 8;
            s += 8;
        }
    }
    for (; s < at && *s != '+'; s++)
        if (!is_space((unsigned char)*s) && !(*s == '.' && gmail))
            out[n++] = *s;
    if (n == 0)
        return 0;
    out[n++] = '@';
    if (n + k > PATRON__MATCH_FIELD_MAX)
        k = PATRON__MATCH_FIELD_MAX - n;
    memcpy(out + n, dom, k);
    n += k;
    out[n] = '\0';
    return n;
}

/* ---- phone -------------------------------------------------------------------- */

struct dial {
    char iso[3];
    char cc[4];
    char trunk[3]; /* national prefix dropped in international form */
};

static const struct dial dials[] = {
    {"DE", "49", "0"},  {"AT", "43", "0"},  {"CH", "41", "0"},  {"LI", "423", ""},
    {"NL", "31", "0"},  {"BE", "32", "0"},  {"LU", "352", ""},  {"FR", "33", "0"},
    {"IT", "39", ""},   {"ES", "34", ""},   {"PT", "351", ""},  {"PL", "48", ""},
    {"CZ", "420", ""},  {"SK", "421", "0"}, {"DK", "45", ""},   {"SE", "46", "0"},
    {"NO", "47", ""},   {"FI", "358", "0"}, {"GB", "44", "0"},  {"IE", "353", "0"},
    {"US", "1", "1"},   {"CA", "1", "1"},   {"AU", "61", "0"},  {"NZ", "64", "0"},
    {"HU", "36", "06"}, {"SI", "386", "0"}, {"HR", "385", "0"}, {"TR", "90", "0"},
    {"GR", "30", ""},   {"RU", "7", "8"},
};

/* strlen of a dialling code or trunk prefix (at most three bytes), and
 * whether s starts with its k bytes: a few bytes each, compared here
 * rather than by calls of strlen and memcmp */
static size_t dial_len(const char *p)
{
    return !p[0] ? 0 : !p[1] ? 1 : !p[2] ? 2 : 3;
}

static int dial_at(const char *s, const char *p, size_t k)
{
    size_t i;

    for (i = 0; i < k && s[i] == p[i]; i++)
        ;
    return i == k;
}

/* The plan of country code iso; NULL when none is known. */
static const struct dial *dial_find(const char *iso)
{
    unsigned cc = iso ? cc_code(iso) : 0;
    size_t i;

    for (i = 0; cc && i < COUNT(dials); i++)
        if (cc == CC(dials[i].iso[0], dials[i].iso[1]))
            return &dials[i];
    return NULL;
}

static const struct dial *dial_of(const char *iso)
{
    const struct dial *d = dial_find(iso);
    return d ? d : &dials[0];
}

/* The country whose dialling plan a national number of the record follows:
 * the country its first address names (an Austrian customer's 0664 ... is
 * +43 664 ..., not the store's +49 664 ...), where that country's plan is
 * known; else the store's default.  first: that address's country as
 * patron__match_norm_country gave it (with default_country), when there
 * is an address. */
static const char *phone_country(const patron__match_raw *in, const char *first,
                                 const char *default_country)
{
    if (in->n_addr == 0 || !in->addr || !in->addr[0].country || !in->addr[0].country[0])
        return default_country;
    return dial_find(first) ? first : default_country;
}

size_t patron__match_norm_phone(char *out, const char *in, const char *default_country)
{
    char dg[PATRON__MATCH_BUF];
    size_t nd = 0, n = 0, i, skip = 0;
    int plus = 0, seen = 0;
    const struct dial *d;
    const char *p;

    out[0] = '\0';
    if (!in || !*in)
        return 0;
    d = dial_of(default_country);
    for (p = in; *p; p++) {
        if (is_digit((unsigned char)*p)) { /* (the common case first) */
            seen = 1;
            if (nd < 32)
                dg[nd++] = *p;
        } else if (p[0] == '(' && p[1] == '0' && p[2] == ')') { /* "+49 (0)30" */
            p += 2;
        } else if (*p == '+') {
            plus |= !seen;
        } else if (is_alpha((unsigned char)(*p | 0x20)) && seen) {
            break; /* "030 1234 ext 5", "… (mobil)" */
        }
    }
    dg[nd] = '\0';
    if (nd == 0)
        return 0;
    out[n++] = '+';
    if (plus) {
        skip = 0;
    } else if (nd > 2 && dg[0] == '0' && dg[1] == '0') {
        skip = 2;
    } else {
        size_t tl = dial_len(d->trunk);
        size_t cl = dial_len(d->cc);
        if (tl > 0 && nd > tl && dial_at(dg, d->trunk, tl))
            skip = tl;
        patron__match_copy_small(out + n, d->cc, cl);
        n += cl;
        plus = -1; /* national number made international */
    }
    if (plus != -1) {
        /* "+49 030 …": a trunk zero after a country code that drops it */
        for (i = 0; i < COUNT(dials); i++) {
            size_t cl = dial_len(dials[i].cc);
            if (dials[i].trunk[0] == '0' && !dials[i].trunk[1] && nd > skip + cl &&
                dial_at(dg + skip, dials[i].cc, cl) && dg[skip + cl] == '0') {
                patron__match_copy_small(out + n, dg + skip, cl);
                n += cl;
                skip += cl + 1;
                break;
            }
        }
    }
    patron__match_copy_small(out + n, dg + skip, nd - skip);
    n += nd - skip;
    out[n] = '\0';
    if (n - 1 < 6 || n - 1 > 15) {
        out[0] = '\0';
        return 0;
    }
    return n;
}

/* ---- birth date ----------------------------------------------------------------- */

static int read_num(const char **p, int maxd)
{
    int v = 0, k = 0;

    while (is_digit((unsigned char)**p) && k < maxd) {
        v = v * 10 + (**p - '0');
        (*p)++;
        k++;
    }
    return k ? v : -1;
}

uint32_t patron__match_norm_birth(const char *in)
{
    const char *p = in;
    int a, b, c, y, m, d;
    size_t nd = 0;

    if (!in)
        return 0;
    while (is_space((unsigned char)*p))
        p++;
    while (is_digit((unsigned char)p[nd]))
        nd++;
    if (nd == 8) { /* YYYYMMDD */
        y = read_num(&p, 4);
        m = read_num(&p, 2);
        d = read_num(&p, 2);
    } else {
        a = read_num(&p, 4);
        if (a < 0 || !(*p == '-' || *p == '.' || *p == '/'))
            return 0;
        p++;
        b = read_num(&p, 2);
        if (b < 0 || !(*p == '-' || *p == '.' || *p == '/'))
            return 0;
        p++;
        c = read_num(&p, 4);
        if (c < 0)
            return 0;
        if (nd == 4) { /* YYYY-MM-DD */
            y = a;
            m = b;
            d = c;
        } else { /* DD.MM.YYYY, DD/MM/YYYY */
            d = a;
            m = b;
            y = c;
            if (y < 100)
                return 0;
        }
    }
    /* Kept even when day or month is out of range: a typo in a real date
     * still compares usefully; only the year must be plausible. */
    if (y < 1800 || y > 2200 || m < 0 || m > 99 || d < 0 || d > 99 || (m == 0 && d == 0))
        return 0;
    return (uint32_t)(y * 10000 + m * 100 + d);
}

/* ---- the record --------------------------------------------------------------- */

struct addr_tmp {
    char street[PATRON__MATCH_BUF], number[PATRON__MATCH_BUF], addition[PATRON__MATCH_BUF];
    char postal[PATRON__MATCH_BUF], city[PATRON__MATCH_BUF];
    char country[4];
    size_t street_len, number_len, addition_len, postal_len, city_len;
    bool used; /* not all empty */
};

/* The first addresses of a record are normalised once and kept for the
 * second pass (a record has one or two); later ones are normalised again
 * rather than kept in a large temporary array. */
#define ADDR_KEPT 2

/* One address normalised into t (tok: scratch of PATRON__MATCH_BUF). */
static void addr_norm(struct addr_tmp *t, const patron__match_raw_addr *ra, const char *default_country, char *tok)
{
    patron__match_norm_country(t->country, ra->country, default_country);
    street_norm(t->street, &t->street_len, t->number, &t->number_len, ra->street, ra->house_number);
    /* (the normalisers give the lengths they wrote: not measured again) */
    t->addition_len = ra->addition && ra->addition[0] ? (fold_str(tok, ra->addition),
                                                         patron__match_norm_city(t->addition, tok))
                                                      : (t->addition[0] = '\0', (size_t)0);
    t->postal_len = patron__match_norm_postal(t->postal, ra->postal_code, t->country);
    t->city_len = patron__match_norm_city(t->city, ra->city);
    t->used = t->street_len || t->number_len || t->postal_len || t->city_len || t->addition_len;
}

/* s (n bytes, then its NUL) at *cur (copied inline: most values are a
 * few bytes, where a call of memcpy for each of the record's dozen
 * strings cost more than the copy) */
static char *put_n(char **cur, const char *s, size_t n)
{
    char *r = *cur;
    patron__match_copy_small(r, s, n + 1);
    *cur += n + 1;
    return r;
}

/* the length of s[0..n)'s first token (up to a blank) */
static size_t first_token(const char *s, size_t n)
{
    size_t k;

    for (k = 0; k < n && s[k] != ' '; k++)
        ;
    return k;
}

/* The room of a pool's blocks, and what a record's bytes are aligned to
 * there (its addresses come first). */
#define POOL_BLOCK 65536
#define POOL_ALIGN 16

/* n bytes of pool; NULL when out of memory (the pool is kept as it was). */
static char *pool_take(patron__match_pool *pool, size_t n)
{
    char *p;
    n = (n + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
    if (!pool->cur || (size_t)(pool->end - pool->cur) < n) {
        /* a new block (one of its own for a record larger than a block's
         * room: the rare one with very many addresses), its first
         * POOL_ALIGN bytes the previous block's address */
        size_t room = n > POOL_BLOCK - POOL_ALIGN ? n : POOL_BLOCK - POOL_ALIGN;
        char *blk = PATRON_MALLOC(POOL_ALIGN + room);
        if (!blk)
            return NULL;
        memcpy(blk, &pool->block, sizeof pool->block);
        pool->block = blk;
        if (room > POOL_BLOCK - POOL_ALIGN) /* (the one record's: the room left stays in the block before) */
            return blk + POOL_ALIGN;
        pool->cur = blk + POOL_ALIGN;
        pool->end = blk + POOL_ALIGN + room;
    }
    p = pool->cur;
    pool->cur += n;
    return p;
}

void patron__match_pool_free(patron__match_pool *pool)
{
    void *blk = pool->block;
    while (blk) {
        void *prev;
        memcpy(&prev, blk, sizeof prev);
        PATRON_FREE(blk);
        blk = prev;
    }
    memset(pool, 0, sizeof *pool);
}

int patron__match_normalize(patron__match_rec *out, const patron__match_raw *in,
                            const char *default_country)
{
    return patron__match_normalize_pool(out, in, default_country, NULL);
}

int patron__match_normalize_pool(patron__match_rec *out, const patron__match_raw *in,
                                 const char *default_country, patron__match_pool *pool)
{
    char first[PATRON__MATCH_BUF], last[PATRON__MATCH_BUF], company[PATRON__MATCH_BUF];
    char email[PATRON__MATCH_BUF], phone[PATRON__MATCH_BUF], tok[PATRON__MATCH_BUF];
    struct addr_tmp at, kept[ADDR_KEPT];
    size_t total, i, na = 0, lfirst, llast, lcompany, lemail, lphone, ltok;
    char *mem, *cur;
    patron__match_addr *addr;
    char ident[PATRON__MATCH_IDENT_MAX][PATRON__MATCH_BUF];
    size_t ident_len[PATRON__MATCH_IDENT_MAX], n_ident;

    memset(out, 0, sizeof *out);
    if (!default_country || !two_bytes(default_country))
        default_country = "DE";
    lfirst = patron__match_norm_name_len(first, last, &llast, in->first_name, in->last_name);
    /* (the normalisers give the lengths they wrote) */
    lcompany = patron__match_norm_company(company, in->company);
    lemail = patron__match_norm_email(email, in->email);

    /* First pass: sizes.  Addresses are normalised twice rather than kept
     * in a large temporary array. */
    n_ident = in->n_ident < PATRON__MATCH_IDENT_MAX ? in->n_ident : PATRON__MATCH_IDENT_MAX;
    total = 0;
    for (i = 0; i < n_ident; i++) {
        /* (most customers have none: nothing to fold) */
        size_t k = 0, j, n = in->ident[i] && in->ident[i][0] ? fold_str(tok, in->ident[i]) : 0;
        for (j = 0; j < n; j++) { /* letters and digits only: "DE 123/45" = "de12345" */
            unsigned char c = (unsigned char)tok[j];
            if (is_digit(c) || is_alpha(c) || c >= 0x80)
                ident[i][k++] = (char)c;
        }
        ident[i][k] = '\0';
        ident_len[i] = k;
        total += k + 1;
    }
    for (i = 0; i < in->n_addr; i++) {
        struct addr_tmp *t = i < ADDR_KEPT ? &kept[i] : &at;
        addr_norm(t, &in->addr[i], default_country, tok);
        if (!t->used)
            continue;
        total += t->street_len + t->number_len + t->addition_len + t->postal_len + t->city_len + 5;
        na++;
    }
    /* (after the addresses: the first one's country is the phone's) */
    lphone = patron__match_norm_phone(phone, in->phone,
                                      phone_country(in, in->n_addr ? kept[0].country : NULL, default_country));
    total += lfirst + llast + lcompany + lemail + lphone + 5;
    total += na * sizeof(patron__match_addr);
    mem = pool ? pool_take(pool, total) : PATRON_MALLOC(total);
    if (!mem)
        return -1;
    addr = (patron__match_addr *)(void *)mem;
    cur = mem + na * sizeof(patron__match_addr);
    out->mem = pool ? NULL : mem; /* (a pool's bytes are freed with it) */
    out->addr = na ? addr : NULL;
    out->first = put_n(&cur, first, lfirst);
    out->last = put_n(&cur, last, llast);
    out->company = put_n(&cur, company, lcompany);
    out->email = put_n(&cur, email, lemail);
    out->phone = put_n(&cur, phone, lphone);
    out->n_ident = n_ident;
    for (i = 0; i < n_ident; i++)
        out->ident[i] = put_n(&cur, ident[i], ident_len[i]);
    na = 0;
    for (i = 0; i < in->n_addr; i++) {
        const struct addr_tmp *t = i < ADDR_KEPT ? &kept[i] : &at;
        patron__match_addr *a;
        if (i >= ADDR_KEPT) { /* (the rare record with many: normalised again) */
            addr_norm(&at, &in->addr[i], default_country, tok);
            t = &at;
        }
        if (!t->used)
            continue;
        a = &addr[na++];
        a->street = put_n(&cur, t->street, t->street_len);
        a->number = put_n(&cur, t->number, t->number_len);
        a->addition = put_n(&cur, t->addition, t->addition_len);
        a->postal = put_n(&cur, t->postal, t->postal_len);
        a->city = put_n(&cur, t->city, t->city_len);
        memcpy(a->country, t->country, 3);
        a->country[3] = '\0';
        a->street_len = (uint16_t)t->street_len;
        a->number_len = (uint16_t)t->number_len;
        a->addition_len = (uint16_t)t->addition_len;
        a->postal_len = (uint16_t)t->postal_len;
        a->city_len = (uint16_t)t->city_len;
    }
    out->n_addr = na;
    out->birth = patron__match_norm_birth(in->birth_date);
    out->first_len = (uint16_t)lfirst;
    out->last_len = (uint16_t)llast;
    out->company_len = (uint16_t)lcompany;
    out->email_len = (uint16_t)lemail;
    out->phone_len = (uint16_t)lphone;
    out->first_initials = (uint8_t)patron__match_is_initials(first);
    out->first_known = (uint8_t)patron__match_name_ids_init(&out->first_ids, first, lfirst);
    /* (the first given name in place: its length up to the first blank) */
    ltok = first_token(first, lfirst);
    patron__match_koelner_folded(out->first_kp, sizeof out->first_kp, first, ltok);
    patron__match_koelner_folded(out->last_kp, sizeof out->last_kp, last, llast);
    return 0;
}

void patron__match_rec_free(patron__match_rec *r)
{
    if (!r)
        return;
    PATRON_FREE(r->mem);
    memset(r, 0, sizeof *r);
}
