/*
 * Person names: titles and salutations, name particles, a full name in one
 * field, given-name variants, initials.
 *
 * SPDX-License-Identifier: MIT
 */
#include "match.h"

#include <string.h>

struct name_entry {
    const char *name;
    const char *group;
    int canonical;
};

#include "names_table.h"

struct word {
    const char *s;
    size_t n; /* strlen(s) */
};
#define W(x) { x, sizeof x - 1 }
#define WORD_MAX 9 /* the longest word of the lists below */

/* Salutations and titles that are removed wherever they stand. */
static const struct word strong_titles[] = {
    W("dr"), W("mr"), W("mme"), W("mrs"), W("dipl"), W("drhc"), W("frau"), W("herr"), W("mlle"), W("prof"),
    W("dring"), W("drjur"), W("drmed"), W("herrn"), W("diplom"), W("diplvw"), W("doktor"), W("drphil"),
    W("profdr"), W("diplinf"), W("dipling"), W("diplkff"), W("diplkfm"), W("ehepaar"), W("familie"),
    W("drrernat"), W("eheleute"), W("diplpsych"), W("professor"),
};

/* Parts of titles that are removed only right after a title ("Dr. med.")
 * or when written with a dot and longer than one letter ("Ing.", "Fr."). */
static const struct word weak_titles[] = {
    W("c"), W("h"), W("ba"), W("fr"), W("hc"), W("hr"), W("ma"), W("ms"), W("bsc"), W("fam"), W("ing"),
    W("jun"), W("jur"), W("llm"), W("mag"), W("mba"), W("med"), W("msc"), W("nat"), W("oec"), W("phd"),
    W("pol"), W("rer"), W("sen"), W("vet"), W("dent"), W("mult"), W("phil"),
};

static const struct word particles[] = {
    W("af"), W("av"), W("da"), W("de"), W("di"), W("do"), W("du"), W("la"), W("le"), W("op"), W("te"),
    W("zu"), W("das"), W("dei"), W("del"), W("dem"), W("den"), W("der"), W("des"), W("dos"), W("ten"),
    W("ter"), W("van"), W("vom"), W("von"), W("zum"), W("zur"), W("della"),
};

/* Every word is compared by its length first, a number kept beside it:
 * the lists were measured again (strlen) for every token of every name.
 * Each list is sorted by (length, bytes): a binary search, not a walk of
 * the list for every token (test_title_and_particle_words takes each). */
/* memcmp of at most WORD_MAX bytes, inline (a call of memcmp cost more
 * than the compare) */
static inline int word_cmp(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
    return 0;
}

static int in_list(const struct word *list, size_t n, const char *s, size_t len)
{
    size_t lo = 0, hi = n;

    if (len == 0 || len > WORD_MAX)
        return 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = list[mid].n != len ? (list[mid].n < len ? -1 : 1) : word_cmp(list[mid].s, s, len);
        if (d == 0)
            return 1;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- tokens --------------------------------------------------------- */

#define MAX_TOK 32

struct tok {
    char s[64];
    size_t n;
    int dotted;      /* followed by '.' */
    int comma_after; /* a comma follows */
};

struct toks {
    struct tok t[MAX_TOK];
    size_t n;
};

static void tokenize(struct toks *out, const char *folded)
{
    const unsigned char *p = (const unsigned char *)folded;
    struct tok *cur = NULL;

    out->n = 0;
    for (;; p++) {
        unsigned char c = *p;
        int sep = (c == '\0' || c == ' ' || c == ',' || c == '.' || c == '-' || c == '/' ||
                   c == '(' || c == ')' || c == '&' || c == '+' || c == ';' || c == ':' ||
                   c == '_' || c == '"' || c == '\t');
        if (!sep) {
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80))
                continue; /* apostrophes and the like vanish: o'brien → obrien */
            if (!cur) {
                if (out->n == MAX_TOK)
                    return;
                cur = &out->t[out->n++];
                cur->n = 0;
                cur->dotted = cur->comma_after = 0;
            }
            if (cur->n < sizeof cur->s - 1)
                cur->s[cur->n++] = (char)c;
            continue;
        }
        if (cur) {
            cur->s[cur->n] = '\0';
            if (c == '.')
                cur->dotted = 1;
            if (c == ',')
                cur->comma_after = 1;
            cur = NULL;
        } else if (out->n > 0 && c == ',') {
            out->t[out->n - 1].comma_after = 1;
        } else if (out->n > 0 && c == '.') {
            out->t[out->n - 1].dotted = 1;
        }
        if (c == '\0')
            break;
    }
}

static void remove_tok(struct toks *t, size_t i)
{
    memmove(&t->t[i], &t->t[i + 1], (t->n - i - 1) * sizeof t->t[0]);
    t->n--;
}

static void strip_titles(struct toks *t)
{
    size_t i = 0;
    int after_title = 0;

    while (i < t->n) {
        struct tok *k = &t->t[i];
        int strong = in_list(strong_titles, COUNT(strong_titles), k->s, k->n);
        int weak = !strong && in_list(weak_titles, COUNT(weak_titles), k->s, k->n);
        if (strong || (weak && (after_title || (k->dotted && k->n > 1)))) {
            if (k->comma_after && i > 0)
                t->t[i - 1].comma_after = 1;
            remove_tok(t, i);
            after_title = 1;
            continue;
        }
        after_title = 0;
        i++;
    }
}

static int is_particle(const struct tok *k)
{
    return in_list(particles, COUNT(particles), k->s, k->n);
}

static int name_known(const char *s);

static void join(char *out, const struct toks *t, size_t from, size_t to)
{
    size_t i, n = 0;

    for (i = from; i < to; i++) {
        size_t k = t->t[i].n;
        if (n + k + (n > 0) > PATRON__MATCH_FIELD_MAX)
            break;
        if (n > 0)
            out[n++] = ' ';
        memcpy(out + n, t->t[i].s, k);
        n += k;
    }
    out[n] = '\0';
}

static void append_particles(char *out, const struct toks *t, size_t from, size_t to)
{
    size_t n = strlen(out), i;

    for (i = from; i < to; i++) {
        size_t k = t->t[i].n;
        if (!is_particle(&t->t[i]))
            continue;
        if (n + k + 1 > PATRON__MATCH_FIELD_MAX)
            break;
        if (n > 0)
            out[n++] = ' ';
        memcpy(out + n, t->t[i].s, k);
        n += k;
        out[n] = '\0';
    }
}

void patron__match_norm_name(char *first, char *last, char *particles_out, const char *in_first,
                             const char *in_last)
{
    char buf[PATRON__MATCH_BUF];
    struct toks tf, tl;
    char parts[PATRON__MATCH_BUF];
    size_t i, j;

    parts[0] = '\0';
    patron__match_fold(buf, sizeof buf, in_first ? in_first : "",
                       in_first ? strlen(in_first) : 0);
    tokenize(&tf, buf);
    patron__match_fold(buf, sizeof buf, in_last ? in_last : "", in_last ? strlen(in_last) : 0);
    tokenize(&tl, buf);
    strip_titles(&tf);
    strip_titles(&tl);

    /* A full name in one field. */
    if (tl.n == 0 && tf.n >= 2) {
        size_t comma = tf.n;
        for (i = 0; i + 1 < tf.n; i++)
            if (tf.t[i].comma_after) {
                comma = i;
                break;
            }
        if (comma < tf.n) { /* "Mustermann, Max" */
            for (i = 0; i <= comma; i++)
                tl.t[tl.n++] = tf.t[i];
            for (i = comma + 1, j = 0; i < tf.n; i++)
                tf.t[j++] = tf.t[i];
            tf.n = j;
        } else { /* "Max [von] Mustermann" */
            size_t cut = tf.n - 1;
            while (cut > 1 && is_particle(&tf.t[cut - 1]))
                cut--;
            for (i = cut; i < tf.n; i++)
                tl.t[tl.n++] = tf.t[i];
            tf.n = cut;
        }
    } else if (tf.n == 0 && tl.n >= 2) {
        size_t comma = tl.n;
        for (i = 0; i + 1 < tl.n; i++)
            if (tl.t[i].comma_after) {
                comma = i;
                break;
            }
        if (comma < tl.n) { /* "Mustermann, Max" as last name */
            for (i = comma + 1; i < tl.n; i++)
                tf.t[tf.n++] = tl.t[i];
            tl.n = comma + 1;
        } else if (tl.n == 2 && name_known(tl.t[0].s)) { /* "Max Mustermann" */
            tf.t[tf.n++] = tl.t[0];
            remove_tok(&tl, 0);
        }
    }

    /* Particles: out of the last name (unless it is nothing else), and off
     * the end of the first name ("Max von" / "Müller"). */
    while (tf.n > 1 && is_particle(&tf.t[tf.n - 1])) {
        append_particles(parts, &tf, tf.n - 1, tf.n);
        tf.n--;
    }
    {
        size_t keep = 0;
        for (i = 0; i < tl.n; i++)
            keep += !is_particle(&tl.t[i]);
        if (keep > 0) {
            append_particles(parts, &tl, 0, tl.n);
            for (i = 0, j = 0; i < tl.n; i++)
                if (!is_particle(&tl.t[i]))
                    tl.t[j++] = tl.t[i];
            tl.n = j;
        }
    }
    join(first, &tf, 0, tf.n);
    join(last, &tl, 0, tl.n);
    if (particles_out)
        strcpy(particles_out, parts);
}

/* ---- given-name variants ---------------------------------------------- */

/* The first four bytes of s, the first one highest, those from its NUL
 * on 0 (never read past the NUL). */
static inline uint32_t prefix4(const char *s)
{
    uint32_t k = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)s[i];
        k = k << 8 | c;
        if (!c) {
            k <<= 8 * (3 - i);
            break;
        }
    }
    return k;
}

/* First entry of `name` in name_table, or the table size. */
static size_t name_find(const char *s)
{
    size_t lo = 0, hi = COUNT(name_table);

    /* the first four bytes compared here as one number, in the order
     * strcmp gives them (the bytes after a name's NUL taken as 0): most
     * steps of the search end there, without a call of strcmp */
    uint32_t key = prefix4(s);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *m = name_table[mid].name;
        uint32_t mk = prefix4(m);
        if (mk < key || (mk == key && strcmp(m, s) < 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < COUNT(name_table) && strcmp(name_table[lo].name, s) == 0) ? lo
                                                                            : COUNT(name_table);
}

static int name_known(const char *s)
{
    return name_find(s) < COUNT(name_table);
}

/* [*lo, *hi): the entries of s (an empty range when none) */
static void name_range(const char *s, uint32_t *lo, uint32_t *hi)
{
    size_t i = name_find(s), n = COUNT(name_table);

    *lo = (uint32_t)i;
    if (i < n)
        for (i++; i < n && strcmp(name_table[i].name, s) == 0; i++)
            ;
    *hi = (uint32_t)i;
}

/* Are names with the entries [alo, ahi) and [blo, bhi) variants of one
 * another: an entry of each in one group, one of the two the group's
 * canonical form. */
static int variant_entries(uint32_t alo, uint32_t ahi, uint32_t blo, uint32_t bhi)
{
    for (uint32_t ia = alo; ia < ahi; ia++)
        for (uint32_t k = blo; k < bhi; k++)
            if ((name_table[ia].canonical || name_table[k].canonical) &&
                strcmp(name_table[ia].group, name_table[k].group) == 0)
                return 1;
    return 0;
}

/* Is a name with the entries [alo, ahi) a variant of b? */
static int variant_range(uint32_t alo, uint32_t ahi, const char *b)
{
    uint32_t blo, bhi;

    if (alo == ahi)
        return 0;
    name_range(b, &blo, &bhi);
    return variant_entries(alo, ahi, blo, bhi);
}

void patron__match_name_q_init(patron__match_name_q *n, const char *s)
{
    char t[64];

    n->s = s;
    n->lo = n->hi = n->tlo = n->thi = 0;
    n->tlen = strcspn(s, " ");
    n->blank = s[n->tlen] != '\0';
    n->tok = n->tlen < sizeof t;
    if (!*s)
        return;
    name_range(s, &n->lo, &n->hi);
    if (!n->tok)
        return;
    if (!n->blank) {
        n->tlo = n->lo;
        n->thi = n->hi;
        return;
    }
    memcpy(t, s, n->tlen);
    t[n->tlen] = '\0';
    name_range(t, &n->tlo, &n->thi);
}

int patron__match_name_variant_q(const patron__match_name_q *n, const char *b)
{
    char tb[64];
    size_t lb;

    /* the whole names, then, where either has more than one, the first
     * given names ("hans peter" / "johannes"); the first name's lookups
     * were done by patron__match_name_q_init */
    if (!b || !*n->s || !*b)
        return 0;
    if (variant_range(n->lo, n->hi, b))
        return 1;
    lb = strcspn(b, " ");
    if ((n->blank || b[lb]) && n->tok && lb < sizeof tb) {
        if (n->tlo == n->thi)
            return 0; /* (the first token is not in the table) */
        memcpy(tb, b, lb);
        tb[lb] = '\0';
        return variant_range(n->tlo, n->thi, tb);
    }
    return 0;
}

int patron__match_name_ids_init(patron__match_name_ids *ids, const char *s)
{
    patron__match_name_q n;

    /* the lookups of patron__match_name_q_init, kept; known as
     * patron__match_name_known tells it: the first token in the table, or
     * the whole name where it has a blank */
    _Static_assert(COUNT(name_table) <= UINT16_MAX, "entries fit patron__match_name_ids");
    patron__match_name_q_init(&n, s);
    ids->lo = (uint16_t)n.lo;
    ids->hi = (uint16_t)n.hi;
    ids->tlo = (uint16_t)n.tlo;
    ids->thi = (uint16_t)n.thi;
    ids->blank = (uint8_t)n.blank;
    ids->tok = (uint8_t)n.tok;
    ids->set = 1;
    return *s && n.tok && (n.tlo < n.thi || (n.blank && n.lo < n.hi));
}

int patron__match_name_variant_ids(const patron__match_name_ids *a, const patron__match_name_ids *b)
{
    /* as patron__match_name_variant_q: the whole names, then, where
     * either has more than one, the first given names (an empty name has
     * no entries) */
    if (variant_entries(a->lo, a->hi, b->lo, b->hi))
        return 1;
    return (a->blank || b->blank) && a->tok && b->tok && variant_entries(a->tlo, a->thi, b->tlo, b->thi);
}

int patron__match_name_known(const char *s)
{
    char t[64];
    size_t k;

    if (!s || !*s)
        return 0;
    k = strcspn(s, " ");
    if (k >= sizeof t)
        return 0;
    memcpy(t, s, k);
    t[k] = '\0';
    return name_known(t) || (s[k] && name_known(s));
}

int patron__match_name_variant(const char *a, const char *b)
{
    patron__match_name_q n;

    if (!a || !b || !*a || !*b)
        return 0;
    patron__match_name_q_init(&n, a);
    return patron__match_name_variant_q(&n, b);
}

/* ---- initials ---------------------------------------------------------- */

int patron__match_is_initials(const char *s)
{
    int any = 0;

    if (!s)
        return 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        if (s[1] != '\0' && s[1] != ' ')
            return 0;
        any = 1;
        s++;
    }
    return any;
}

int patron__match_initials_fit(const char *ini, const char *full)
{
    int n = 0;

    if (!ini || !full)
        return 0;
    for (;;) {
        while (*ini == ' ')
            ini++;
        while (*full == ' ')
            full++;
        if (!*ini || !*full)
            return n > 0;
        if (*ini != *full)
            return 0;
        n++;
        ini++;
        while (*full && *full != ' ')
            full++;
    }
}
