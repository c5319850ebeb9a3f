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

/* A title or particle word (gen_names_table.py has the lists and what
 * each kind means). */
enum { WORD_STRONG = 1, WORD_WEAK = 2, WORD_PARTICLE = 3 };
struct name_word {
    char s[12];
    uint8_t n; /* strlen(s), 0 for an empty slot */
    uint8_t kind;
};

/* A slot of the hashed index of name_table: the entries [lo, hi) of one
 * name (hi 0: an empty slot). */
struct name_slot {
    uint16_t lo, hi;
};

/* The hash of s[0..n) (n >= 1) that places a name or word in the hashed
 * tables of names_table.h (gen_names_table.py computes the same): its
 * first two bytes, its last one and its length, mixed by one
 * multiplication; the slot is in the top bits.  (Every byte hashed cost
 * more than the few more probes this gives.) */
static inline uint32_t name_hash(const char *s, size_t n)
{
    uint32_t x = (uint32_t)(unsigned char)s[0] | (uint32_t)(n > 1 ? (unsigned char)s[1] : 0) << 8 |
                 (uint32_t)(unsigned char)s[n - 1] << 16 | (uint32_t)(n & 0xFF) << 24;
    return x * 2654435761u;
}

#include "names_table.h"

/* The kind of the word s[0..n) (WORD_*), 0 when it is none: one probe of
 * a hashed table for most words, where three binary searches of the
 * title and particle lists ran for every token of every name. */
static int word_kind(const char *s, size_t n)
{
    if (n == 0 || n > WORD_MAX)
        return 0;
    for (uint32_t i = name_hash(s, n) >> (32 - WORD_BITS);; i = (i + 1) % WORD_SLOTS) {
        const struct name_word *w = &name_words[i];
        size_t j;
        if (!w->n)
            return 0;
        if (w->n != n)
            continue;
        for (j = 0; j < n && w->s[j] == s[j]; j++)
            ;
        if (j == n)
            return w->kind;
    }
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- tokens --------------------------------------------------------- */

#define MAX_TOK 32

struct tok {
    char s[64];
    size_t n;
    int dotted;      /* followed by '.' */
    int comma_after; /* a comma follows */
    int kind;        /* word_kind(s, n) */
};

struct toks {
    struct tok t[MAX_TOK];
    size_t n;
};

/* a byte of a token: a letter, a digit or one of a multi-byte character
 * (no separator is one) */
static inline int tok_byte(unsigned char c)
{
    return (unsigned)(c - 'a') < 26u || (unsigned)(c - '0') < 10u || c >= 0x80;
}

static void tokenize(struct toks *out, const char *folded)
{
    const unsigned char *p = (const unsigned char *)folded;
    struct tok *cur = NULL;

    out->n = 0;
    for (;; p++) {
        unsigned char c = *p;
        int sep;
        if (tok_byte(c)) { /* a run of them, copied at once (most bytes are in one) */
            const unsigned char *q = p + 1;
            size_t k;
            while (tok_byte(*q)) /* (the NUL ends it) */
                q++;
            if (!cur) {
                if (out->n == MAX_TOK)
                    return;
                cur = &out->t[out->n++];
                cur->n = 0;
                cur->dotted = cur->comma_after = 0;
            }
            k = (size_t)(q - p);
            if (k > sizeof cur->s - 1 - cur->n)
                k = sizeof cur->s - 1 - cur->n;
            patron__match_copy_small(cur->s + cur->n, (const char *)p, k);
            cur->n += k;
            p = q - 1;
            continue;
        }
        sep = (c == '\0' || c == ' ' || c == ',' || c == '.' || c == '-' || c == '/' || c == '(' || c == ')' ||
               c == '&' || c == '+' || c == ';' || c == ':' || c == '_' || c == '"' || c == '\t');
        if (!sep)
            continue; /* apostrophes and the like vanish: o'brien → obrien */
        if (cur) {
            cur->s[cur->n] = '\0';
            cur->kind = word_kind(cur->s, cur->n);
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
        int strong = k->kind == WORD_STRONG;
        int weak = k->kind == WORD_WEAK;
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
    return k->kind == WORD_PARTICLE;
}

/* The entries [*lo, *hi) of the name s[0..n) (no NUL in it) in
 * name_table, and 1; when it has none, the empty range at the table's end
 * and 0.  One probe of the table's hashed index for most names: a binary
 * search of the table (with strcmp) ran 340 instructions a name, and the
 * entries after it were found by strcmp again. */
static int name_lookup(const char *s, size_t n, uint32_t *lo, uint32_t *hi)
{
    *lo = *hi = (uint32_t)COUNT(name_table);
    if (n == 0)
        return 0;
    for (uint32_t i = name_hash(s, n) >> (32 - NAME_BITS);; i = (i + 1) % NAME_SLOTS) {
        const char *m;
        size_t j;
        if (!name_slot[i].hi)
            return 0;
        m = name_table[name_slot[i].lo].name;
        for (j = 0; j < n && m[j] == s[j]; j++) /* (stops at m's NUL: s has none) */
            ;
        if (j == n && m[n] == '\0') {
            *lo = name_slot[i].lo;
            *hi = name_slot[i].hi;
            return 1;
        }
    }
}

/* s[0..n) (no NUL in it) is a name of name_table */
static int name_known(const char *s, size_t n)
{
    uint32_t lo, hi;

    return name_lookup(s, n, &lo, &hi);
}

static size_t join(char *out, const struct toks *t, size_t from, size_t to)
{
    size_t i, n = 0;

    for (i = from; i < to; i++) {
        size_t k = t->t[i].n;
        if (n + k + (n > 0) > PATRON__MATCH_FIELD_MAX)
            break;
        if (n > 0)
            out[n++] = ' ';
        patron__match_copy_small(out + n, t->t[i].s, k);
        n += k;
    }
    out[n] = '\0';
    return n;
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

/* The n folded bytes at s are at most one token as tokenize makes it:
 * bytes of tokens only, no more than a token keeps (most names are one
 * word) */
static int one_token(const char *s, size_t n)
{
    return n < sizeof ((struct tok *)0)->s && patron__match_word_bytes(s, n, 1, 0);
}

/* patron__match_fold of a name part (NULL: "") into out
 * (PATRON__MATCH_BUF bytes); its length.  A word of ASCII letters and
 * digits (most names) is lowered as it is copied: folding does nothing
 * else to it, and the fold's steps for any text cost several times
 * more.  *word: 1 when it was such a word (one_token of the result). */
static size_t fold_name(char *out, const char *in, int *word)
{
    size_t len = in ? strlen(in) : 0;

    if (len < 64 && patron__match_word_bytes(in, len, 1, 1)) {
        patron__match_lower_alnum(out, in, len);
        *word = 1;
        return len;
    }
    *word = 0;
    return patron__match_fold(out, PATRON__MATCH_BUF, in ? in : "", len);
}

static void norm_name(char *first, size_t *first_len, char *last, size_t *last_len, char *particles_out,
                      const char *in_first, const char *in_last)
{
    struct toks tf, tl;
    char parts[PATRON__MATCH_BUF];
    size_t i, j, nf, nl;
    int wf, wl;

    /* folded into the outputs themselves: tokenize copies what it keeps
     * before join writes them */
    nf = fold_name(first, in_first, &wf);
    nl = fold_name(last, in_last, &wl);
    if ((wf || one_token(first, nf)) && (wl || one_token(last, nl))) {
        /* a word (or nothing) in each: what the steps below make of it
         * without tokens - a strong title goes (a weak one stays: it is
         * neither dotted nor after a title), no part is split off (one
         * word each), a particle that is the whole last name stays, and
         * no particle is left over */
        if (nf && word_kind(first, nf) == WORD_STRONG)
            first[nf = 0] = '\0';
        if (nl && word_kind(last, nl) == WORD_STRONG)
            last[nl = 0] = '\0';
        *first_len = nf;
        *last_len = nl;
        if (particles_out)
            particles_out[0] = '\0';
        return;
    }
    parts[0] = '\0';
    tokenize(&tf, first);
    tokenize(&tl, last);
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
        } else if (tl.n == 2 && name_known(tl.t[0].s, tl.t[0].n)) { /* "Max Mustermann" */
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
                if (!is_particle(&tl.t[i])) {
                    if (j != i) /* (a token is 88 bytes: not copied onto itself) */
                        tl.t[j] = tl.t[i];
                    j++;
                }
            tl.n = j;
        }
    }
    *first_len = join(first, &tf, 0, tf.n);
    *last_len = join(last, &tl, 0, tl.n);
    if (particles_out)
        strcpy(particles_out, parts);
}

void patron__match_norm_name(char *first, char *last, char *particles_out, const char *in_first,
                             const char *in_last)
{
    size_t nf, nl;

    norm_name(first, &nf, last, &nl, particles_out, in_first, in_last);
}

size_t patron__match_norm_name_len(char *first, char *last, size_t *last_len, const char *in_first,
                                   const char *in_last)
{
    size_t nf;

    norm_name(first, &nf, last, last_len, NULL, in_first, in_last);
    return nf;
}

/* ---- given-name variants ---------------------------------------------- */

/* [*lo, *hi): the entries of s (an empty range when none) */
static void name_range(const char *s, uint32_t *lo, uint32_t *hi)
{
    name_lookup(s, strlen(s), lo, hi);
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

/* patron__match_name_q_init of s, len its length: the first token is
 * looked up in place, by its length (no copy of it) */
static void name_q_fill(patron__match_name_q *n, const char *s, size_t len)
{
    size_t k;

    n->s = s;
    n->lo = n->hi = n->tlo = n->thi = 0;
    for (k = 0; k < len && s[k] != ' '; k++)
        ;
    n->tlen = k;
    n->blank = k < len;
    n->tok = k < 64; /* (the longest first token looked up: no name is that long) */
    if (!len)
        return;
    name_lookup(s, len, &n->lo, &n->hi);
    if (!n->tok)
        return;
    if (!n->blank) {
        n->tlo = n->lo;
        n->thi = n->hi;
        return;
    }
    name_lookup(s, k, &n->tlo, &n->thi);
}

void patron__match_name_q_init(patron__match_name_q *n, const char *s)
{
    name_q_fill(n, s, strlen(s));
}

int patron__match_name_variant_q(const patron__match_name_q *n, const char *b)
{
    size_t lb;
    uint32_t blo, bhi;

    /* the whole names, then, where either has more than one, the first
     * given names ("hans peter" / "johannes"); the first name's lookups
     * were done by patron__match_name_q_init */
    if (!b || !*n->s || !*b)
        return 0;
    if (variant_range(n->lo, n->hi, b))
        return 1;
    lb = strcspn(b, " ");
    if ((n->blank || b[lb]) && n->tok && lb < 64) {
        if (n->tlo == n->thi)
            return 0; /* (the first token is not in the table) */
        name_lookup(b, lb, &blo, &bhi); /* (b's first token, in place) */
        return variant_entries(n->tlo, n->thi, blo, bhi);
    }
    return 0;
}

int patron__match_name_ids_init(patron__match_name_ids *ids, const char *s, size_t len)
{
    patron__match_name_q n;

    /* the lookups of patron__match_name_q_init, kept; known as
     * patron__match_name_known tells it: the first token in the table, or
     * the whole name where it has a blank */
    _Static_assert(COUNT(name_table) <= UINT16_MAX, "entries fit patron__match_name_ids");
    name_q_fill(&n, s, len);
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
    size_t k;

    if (!s || !*s)
        return 0;
    for (k = 0; s[k] && s[k] != ' '; k++)
        ;
    if (k >= 64) /* (no name is that long) */
        return 0;
    return name_known(s, k) || (s[k] && name_known(s, k + strlen(s + k)));
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
