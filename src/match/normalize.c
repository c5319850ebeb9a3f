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
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static size_t fold_str(char *out, const char *in)
{
    return patron__match_fold(out, PATRON__MATCH_BUF, in ? in : "", in ? strlen(in) : 0);
}

/* ---- street and house number ------------------------------------------ */

#define MAX_STOK 24

struct stoks {
    char s[MAX_STOK][64];
    size_t n;
};

/* Split folded text on blanks and commas, and between a letter or dot and
 * a following digit ("hauptstr.12" → "hauptstr." "12"). */
static void street_tokens(struct stoks *t, const char *s)
{
    size_t k = 0;
    int open = 0;

    t->n = 0;
    for (;; s++) {
        char c = *s;
        int brk = (c == '\0' || c == ' ' || c == ',' || c == ';');
        if (!brk && open && k > 0 && is_digit(c) &&
            (is_alpha(t->s[t->n - 1][k - 1]) || t->s[t->n - 1][k - 1] == '.'))
            brk = 2;
        if (brk && open) {
            t->s[t->n - 1][k] = '\0';
            open = 0;
        }
        if (c == '\0')
            break;
        if (brk == 1)
            continue;
        if (!open) {
            if (t->n == MAX_STOK)
                break;
            t->n++;
            k = 0;
            open = 1;
        }
        if (k < 63)
            t->s[t->n - 1][k++] = c;
    }
    if (open)
        t->s[t->n - 1][k] = '\0';
}

static int number_like(const char *s)
{
    /* 12, 12a, 12-14, 12/1, 12a-c */
    if (!is_digit((unsigned char)*s))
        return 0;
    for (; *s; s++)
        if (!(is_digit((unsigned char)*s) || is_alpha((unsigned char)*s) || *s == '-' ||
              *s == '/' || *s == '.'))
            return 0;
    return 1;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!is_digit((unsigned char)*s))
            return 0;
    return 1;
}

/* House number: lower case, blanks and dots removed. */
static void norm_number(char *out, const char *folded)
{
    size_t n = 0;

    for (; *folded && n < PATRON__MATCH_FIELD_MAX; folded++) {
        unsigned char c = (unsigned char)*folded;
        if (is_digit(c) || is_alpha(c) || c == '-' || c == '/')
            out[n++] = (char)c;
    }
    /* no dangling separators */
    while (n > 0 && (out[n - 1] == '-' || out[n - 1] == '/'))
        n--;
    out[n] = '\0';
}

static int ends_with(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

/* German street words are unified ("straße", "strasse", "str." → "str";
 * "platz", "pl." → "pl").  Words of other languages are kept as written:
 * abbreviating them ("street" → "st") would turn a typo in the word
 * ("stre et", "dtreet") into a different street. */
static size_t street_name(char *out, const struct stoks *t, size_t from, size_t to)
{
    size_t n = 0, i;

    for (i = from; i < to; i++) {
        char w[64];
        size_t k = 0;
        const char *src = t->s[i];
        /* letters and digits only: "goethe-str." → "goethestr" */
        for (; *src; src++)
            if (is_digit((unsigned char)*src) || is_alpha((unsigned char)*src) ||
                (unsigned char)*src >= 0x80)
                w[k++] = *src;
        w[k] = '\0';
        if (k == 0)
            continue;
        if (i == from && strcmp(w, "sankt") == 0) { /* Sankt-Georg-Str. / St.-Georg-Str. */
            strcpy(w, "st");
            k = 2;
        }
        if (ends_with(w, k, "strasse"))
            k -= 4; /* → "str" */
        else if (ends_with(w, k, "strase") || ends_with(w, k, "strabe"))
            k -= 3;
        else if (ends_with(w, k, "platz"))
            k -= 3; /* → "pl" */
        w[k] = '\0';
        if (n + k > PATRON__MATCH_FIELD_MAX)
            break;
        memcpy(out + n, w, k);
        n += k;
    }
    out[n] = '\0';
    return n;
}

void patron__match_norm_street(char *street, char *number, const char *in_street,
                               const char *in_number)
{
    char buf[PATRON__MATCH_BUF];
    struct stoks t;
    size_t from = 0, to;

    number[0] = '\0';
    fold_str(buf, in_street);
    street_tokens(&t, buf);
    to = t.n;
    if (in_number && *in_number) {
        char nb[PATRON__MATCH_BUF];
        fold_str(nb, in_number);
        norm_number(number, nb);
    } else if (t.n == 1 && number_like(t.s[0])) { /* only a number: "68" */
        norm_number(number, t.s[0]);
        from = 1;
    } else if (t.n >= 2) {
        const char *last = t.s[t.n - 1];
        if (strlen(last) == 1 && is_alpha((unsigned char)last[0]) &&
            all_digits(t.s[t.n - 2])) {
            /* "12 a" */
            char nb[130];
            strcpy(nb, t.s[t.n - 2]);
            strcat(nb, last);
            norm_number(number, nb);
            to = t.n - 2;
        } else if (number_like(last)) {
            char nb[200];
            to = t.n - 1;
            strcpy(nb, last);
            /* "12 - 14", "12 / 1" */
            if (to >= 2 && (strcmp(t.s[to - 1], "-") == 0 || strcmp(t.s[to - 1], "/") == 0) &&
                number_like(t.s[to - 2])) {
                strcpy(nb, t.s[to - 2]);
                strcat(nb, t.s[to - 1]);
                strcat(nb, last);
                to -= 2;
            }
            norm_number(number, nb);
        } else if (number_like(t.s[0])) { /* "12 Main Street" */
            norm_number(number, t.s[0]);
            from = 1;
        }
        /* "Nr." before the number */
        if (to > from + 1 && (strcmp(t.s[to - 1], "nr") == 0 || strcmp(t.s[to - 1], "nr.") == 0))
            to--;
    }
    street_name(street, &t, from, to);
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

    if (!default_country || strlen(default_country) != 2)
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

static int cc_is(const char *country, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(country, list[i]) == 0)
            return 1;
    return 0;
}

size_t patron__match_norm_postal(char *out, const char *in, const char *country)
{
    static const char *const four[] = {"AT", "CH", "LI", "BE", "LU", "DK", "NO", "HU",
                                       "AU", "SI", "BG", "NZ", "ZA"};
    static const char *const five_space[] = {"CZ", "SK", "SE", "GR"};
    char buf[PATRON__MATCH_BUF], an[PATRON__MATCH_BUF], dg[PATRON__MATCH_BUF];
    size_t n = 0, nd = 0, i;
    const char *p;

    out[0] = '\0';
    if (!country || !*country)
        country = "DE";
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
            an[n++] = (char)(is_alpha(c) ? c - 32 : c);
            if (is_digit(c))
                dg[nd++] = (char)c;
        }
    }
    an[n] = '\0';
    dg[nd] = '\0';
    if (n == 0)
        return 0;
    if (strcmp(country, "DE") == 0 || cc_is(country, four, COUNT(four)) ||
        strcmp(country, "US") == 0) {
        if (nd == n) {
            if (strcmp(country, "DE") == 0 && nd == 4) { /* lost leading zero */
                out[0] = '0';
                memcpy(out + 1, dg, 5);
                return 5;
            }
            if (strcmp(country, "US") == 0 && nd == 9)
                nd = 5; /* ZIP+4 */
            memcpy(out, dg, nd);
            out[nd] = '\0';
            return nd;
        }
    } else if (strcmp(country, "NL") == 0) {
        if (n == 6 && nd == 4 && all_digits(dg) && is_digit((unsigned char)an[3]) &&
            !is_digit((unsigned char)an[4]) && !is_digit((unsigned char)an[5])) {
            memcpy(out, an, 4);
            out[4] = ' ';
            out[5] = an[4];
            out[6] = an[5];
            out[7] = '\0';
            return 7;
        }
    } else if (strcmp(country, "PL") == 0 && nd == 5 && n == 5) {
        memcpy(out, dg, 2);
        out[2] = '-';
        memcpy(out + 3, dg + 2, 4);
        return 6;
    } else if (strcmp(country, "PT") == 0 && nd == 7 && n == 7) {
        memcpy(out, dg, 4);
        out[4] = '-';
        memcpy(out + 5, dg + 4, 4);
        return 8;
    } else if (cc_is(country, five_space, COUNT(five_space)) && nd == 5 && n == 5) {
        memcpy(out, dg, 3);
        out[3] = ' ';
        memcpy(out + 4, dg + 3, 3);
        return 6;
    } else if ((strcmp(country, "GB") == 0 || strcmp(country, "IE") == 0 ||
                strcmp(country, "CA") == 0) &&
               n > 3 && n <= 8) {
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

size_t patron__match_norm_city(char *out, const char *in)
{
    char buf[PATRON__MATCH_BUF];
    size_t n = 0;
    int depth = 0;
    const char *p;

    fold_str(buf, in);
    for (p = buf; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '(') {
            depth++;
            continue;
        }
        if (c == ')') {
            depth -= depth > 0;
            continue;
        }
        if (c == '/' && n > 0)
            break; /* "Halle/Saale" → "halle" */
        if (depth == 0 && (is_digit(c) || is_alpha(c) || c >= 0x80))
            out[n++] = (char)c;
    }
    out[n] = '\0';
    return n;
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

    fold_str(buf, in);
    p = buf;
    out[0] = '\0';
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
    char *s, *e, *at;
    const char *dom;
    size_t n, i, k;
    int gmail;

    out[0] = '\0';
    if (!in)
        return 0;
    n = patron__match_casefold(buf, sizeof buf, in, strlen(in));
    s = buf;
    e = buf + n;
    {
        char *lt = strchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;
        if (lt && gt) { /* "Max <max@example.de>" */
            s = lt + 1;
            e = gt;
        }
    }
    while (s < e && is_space((unsigned char)*s))
        s++;
    while (e > s && is_space((unsigned char)e[-1]))
        e--;
    if ((size_t)(e - s) > 7 && memcmp(s, "mailto:", 7) == 0)
        s += 7;
    *e = '\0';
    at = strrchr(s, '@');
    if (!at || at == s || at[1] == '\0')
        return 0;
    *at = '\0';
    dom = at + 1;
    k = strlen(at + 1);
    while (k > 0 && at[k] == '.')
        at[k--] = '\0';
    if (k == 0)
        return 0;
    if (strcmp(dom, "googlemail.com") == 0)
        dom = "gmail.com";
    n = 0;
    gmail = strcmp(dom, "gmail.com") == 0;
    for (i = 0; s[i] && s[i] != '+'; i++) {
        if (is_space((unsigned char)s[i]))
            continue;
        if (s[i] == '.' && gmail)
            continue;
        out[n++] = s[i];
    }
    if (n == 0)
        return 0;
    out[n++] = '@';
    k = strlen(dom);
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

static const struct dial *dial_of(const char *iso)
{
    size_t i;

    for (i = 0; i < COUNT(dials); i++)
        if (iso && strcmp(dials[i].iso, iso) == 0)
            return &dials[i];
    return &dials[0];
}

/* The country whose dialling plan a national number of the record follows:
 * the country its first address names (an Austrian customer's 0664 ... is
 * +43 664 ..., not the store's +49 664 ...), where that country's plan is
 * known; else the store's default. */
static const char *phone_country(char out[3], const patron__match_raw *in, const char *default_country)
{
    size_t i;

    if (in->n_addr == 0 || !in->addr || !in->addr[0].country || !in->addr[0].country[0])
        return default_country;
    patron__match_norm_country(out, in->addr[0].country, default_country);
    for (i = 0; i < COUNT(dials); i++)
        if (strcmp(dials[i].iso, out) == 0)
            return out;
    return default_country;
}

size_t patron__match_norm_phone(char *out, const char *in, const char *default_country)
{
    char dg[PATRON__MATCH_BUF];
    size_t nd = 0, n = 0, i, skip = 0;
    int plus = 0, seen = 0;
    const struct dial *d = dial_of(default_country);
    const char *p;

    out[0] = '\0';
    if (!in)
        return 0;
    for (p = in; *p; p++) {
        if (p[0] == '(' && p[1] == '0' && p[2] == ')') { /* "+49 (0)30" */
            p += 2;
            continue;
        }
        if (*p == '+' && !seen)
            plus = 1;
        if (is_digit((unsigned char)*p)) {
            seen = 1;
            if (nd < 32)
                dg[nd++] = *p;
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
        size_t tl = strlen(d->trunk);
        size_t cl = strlen(d->cc);
        if (tl > 0 && nd > tl && memcmp(dg, d->trunk, tl) == 0)
            skip = tl;
        memcpy(out + n, d->cc, cl);
        n += cl;
        plus = -1; /* national number made international */
    }
    if (plus != -1) {
        /* "+49 030 …": a trunk zero after a country code that drops it */
        for (i = 0; i < COUNT(dials); i++) {
            size_t cl = strlen(dials[i].cc);
            if (strcmp(dials[i].trunk, "0") == 0 && nd > skip + cl &&
                memcmp(dg + skip, dials[i].cc, cl) == 0 && dg[skip + cl] == '0') {
                memcpy(out + n, dg + skip, cl);
                n += cl;
                skip += cl + 1;
                break;
            }
        }
    }
    for (i = skip; i < nd; i++)
        out[n++] = dg[i];
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
    patron__match_norm_street(t->street, t->number, ra->street, ra->house_number);
    /* (the normalisers give the lengths they wrote: not measured again) */
    t->addition_len = ra->addition && ra->addition[0] ? (fold_str(tok, ra->addition),
                                                         patron__match_norm_city(t->addition, tok))
                                                      : (t->addition[0] = '\0', (size_t)0);
    t->postal_len = patron__match_norm_postal(t->postal, ra->postal_code, t->country);
    t->city_len = patron__match_norm_city(t->city, ra->city);
    t->used = t->street[0] || t->number[0] || t->postal_len || t->city_len || t->addition_len;
    if (!t->used)
        return;
    t->street_len = strlen(t->street);
    t->number_len = strlen(t->number);
}

/* s (n bytes, then its NUL) at *cur. */
static char *put_n(char **cur, const char *s, size_t n)
{
    char *r = *cur;
    memcpy(r, s, n + 1);
    *cur += n + 1;
    return r;
}

static char *put_str(char **cur, const char *s)
{
    size_t k = strlen(s) + 1;
    char *r = *cur;
    memcpy(r, s, k);
    *cur += k;
    return r;
}

static size_t first_token(char *out, size_t cap, const char *s)
{
    size_t k = strcspn(s, " ");
    if (k >= cap)
        k = cap - 1;
    memcpy(out, s, k);
    out[k] = '\0';
    return k;
}

int patron__match_normalize(patron__match_rec *out, const patron__match_raw *in,
                            const char *default_country)
{
    char first[PATRON__MATCH_BUF], last[PATRON__MATCH_BUF], company[PATRON__MATCH_BUF];
    char email[PATRON__MATCH_BUF], phone[PATRON__MATCH_BUF], tok[PATRON__MATCH_BUF];
    struct addr_tmp at, kept[ADDR_KEPT];
    size_t total, i, na = 0, lfirst, llast, lcompany, lemail, lphone, ltok;
    char *mem, *cur;
    patron__match_addr *addr;
    char ident[PATRON__MATCH_IDENT_MAX][PATRON__MATCH_BUF];
    size_t n_ident;

    memset(out, 0, sizeof *out);
    if (!default_country || strlen(default_country) != 2)
        default_country = "DE";
    patron__match_norm_name(first, last, NULL, in->first_name, in->last_name);
    /* (the normalisers give the lengths they wrote) */
    lcompany = patron__match_norm_company(company, in->company);
    lemail = patron__match_norm_email(email, in->email);
    {
        char pc[3];
        lphone = patron__match_norm_phone(phone, in->phone, phone_country(pc, in, default_country));
    }

    /* First pass: sizes.  Addresses are normalised twice rather than kept
     * in a large temporary array. */
    lfirst = strlen(first);
    llast = strlen(last);
    total = lfirst + llast + lcompany + lemail + lphone + 5;
    n_ident = in->n_ident < PATRON__MATCH_IDENT_MAX ? in->n_ident : PATRON__MATCH_IDENT_MAX;
    for (i = 0; i < n_ident; i++) {
        size_t k = 0;
        fold_str(tok, in->ident[i]);
        for (const char *q = tok; *q; q++) /* letters and digits only: "DE 123/45" = "de12345" */
            if (is_digit((unsigned char)*q) || is_alpha((unsigned char)*q) || (unsigned char)*q >= 0x80)
                ident[i][k++] = *q;
        ident[i][k] = '\0';
        total += strlen(ident[i]) + 1;
    }
    for (i = 0; i < in->n_addr; i++) {
        struct addr_tmp *t = i < ADDR_KEPT ? &kept[i] : &at;
        addr_norm(t, &in->addr[i], default_country, tok);
        if (!t->used)
            continue;
        total += t->street_len + t->number_len + t->addition_len + t->postal_len + t->city_len + 5;
        na++;
    }
    total += na * sizeof(patron__match_addr);
    mem = PATRON_MALLOC(total);
    if (!mem)
        return -1;
    addr = (patron__match_addr *)(void *)mem;
    cur = mem + na * sizeof(patron__match_addr);
    out->mem = mem;
    out->addr = na ? addr : NULL;
    out->first = put_n(&cur, first, lfirst);
    out->last = put_n(&cur, last, llast);
    out->company = put_n(&cur, company, lcompany);
    out->email = put_n(&cur, email, lemail);
    out->phone = put_n(&cur, phone, lphone);
    out->n_ident = n_ident;
    for (i = 0; i < n_ident; i++)
        out->ident[i] = put_str(&cur, ident[i]);
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
    out->first_known = (uint8_t)patron__match_name_ids_init(&out->first_ids, first);
    ltok = first_token(tok, sizeof tok, first);
    patron__match_koelner(out->first_kp, sizeof out->first_kp, tok, ltok);
    patron__match_koelner(out->last_kp, sizeof out->last_kp, last, llast);
    return 0;
}

void patron__match_rec_free(patron__match_rec *r)
{
    if (!r)
        return;
    PATRON_FREE(r->mem);
    memset(r, 0, sizeof *r);
}
