/* patron — duplicate cases in the store's meta (issue 12): the text of a
 * case and its parser, the fingerprints of matched fields, the marks the
 * save path leaves for incremental scans, the suppression of pairs a
 * merchant decided, and the reopening of a case whose merge was undone.
 * The queue's API is in review.c; this file sits below the features
 * (save.c, matchglue.c, dedupe.c and merge.c call into it) and calls only
 * the store glue and the record layer.
 *
 * Key layout (see include/patron/review.h):
 *   review/case/<id %020>      a case, as written by patron__case_encode()
 *   review/member/<id %020>    ids of the not_duplicate / household cases
 *                              a customer is in, one per line
 *   review/journal/<id %020>   the case a queue merge closed
 *   review/dirty/<id %020>     "1": saved since the last scan
 *   review/next                the last case id given
 *   review/scanned             "1" once a full scan ran
 *
 * A case is lines of tab-separated words; text is escaped (\\, \t, \n):
 *   patron-case 1
 *   state <token>  verdict <token>  score <%.17g>
 *   created, updated, decided_at, journal <decimal>
 *   by, note, change, reason <escaped text>      (absent: none)
 *   member <id> <fingerprint or ->               (ascending ids)
 *   pair <a> <b> <score> <decision token>        (best first)
 *   field <name> <level> <weight> <a> <b>        (of the pair before it)
 * Bytes read back from a store are untrusted: every line is checked and a
 * case that does not parse is "corrupt case N", never half-read.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_MEMBERS 100000
#define MAX_PAIRS 1000000
#define MAX_FIELDS 64

/* ---- keys ----------------------------------------------------------------- */

void patron__review_key(char *buf, size_t size, const char *prefix, int64_t id)
{
    snprintf(buf, size, "%s%020lld", prefix, (long long)id);
}

/* ---- cases in memory -------------------------------------------------------- */

void patron__case_clear(patron_case *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->np; i++) {
        for (size_t k = 0; k < c->p[i].nf; k++) {
            patron__free(c->p[i].f[k].name);
            patron__free(c->p[i].f[k].level);
            patron__free(c->p[i].f[k].a);
            patron__free(c->p[i].f[k].b);
        }
        patron__free(c->p[i].f);
    }
    patron__free(c->p);
    patron__free(c->m);
    patron__free(c->by);
    patron__free(c->note);
    patron__free(c->change);
    patron__free(c->reason);
    memset(c, 0, sizeof *c);
}

void patron_case_free(patron_case *c)
{
    patron__case_clear(c);
    patron__free(c);
}

const char *patron_case_state_name(patron_case_state s)
{
    switch (s) {
    case PATRON_CASE_OPEN: return "open";
    case PATRON_CASE_MERGED: return "merged";
    case PATRON_CASE_NOT_DUPLICATE: return "not_duplicate";
    case PATRON_CASE_HOUSEHOLD: return "household";
    case PATRON_CASE_DEFERRED: return "deferred";
    default: return NULL;
    }
}

static int state_from(const char *s)
{
    for (int i = PATRON_CASE_OPEN; i <= PATRON_CASE_DEFERRED; i++)
        if (strcmp(s, patron_case_state_name((patron_case_state)i)) == 0)
            return i;
    return -1;
}

/* the tokens of patron_decision_name() (kept here: matchglue.c calls into
 * this file, so this file does not call into it) */
static const char *const decision_tok[] = { "distinct", "review", "merge", "household" };

static const char *decision_name(int d)
{
    return d >= 0 && d <= 3 ? decision_tok[d] : "distinct";
}

static int decision_from(const char *s)
{
    for (int i = 0; i <= 3; i++)
        if (strcmp(s, decision_tok[i]) == 0)
            return i;
    return -1;
}

patron_status patron_case_state_from_name(patron_case_state *out, const char *name)
{
    int s;
    if (!out)
        return PATRON_E_INVALID;
    *out = PATRON_CASE_OPEN;
    if (!name)
        return PATRON_E_INVALID;
    s = strcmp(name, "distinct") == 0 ? PATRON_CASE_NOT_DUPLICATE : state_from(name);
    if (s < 0)
        return PATRON_E_INVALID;
    *out = (patron_case_state)s;
    return PATRON_OK;
}

bool patron__case_has(const patron_case *c, int64_t id)
{
    size_t lo = 0, hi = c->nm;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->m[mid].id == id)
            return true;
        if (c->m[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* ---- the text of a case --------------------------------------------------- */

static void put_esc(patron_strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            patron__sb_puts(sb, "\\\\");
        else if (*s == '\t')
            patron__sb_puts(sb, "\\t");
        else if (*s == '\n')
            patron__sb_puts(sb, "\\n");
        else if (*s == '\r')
            patron__sb_puts(sb, "\\r");
        else
            patron__sb_putc(sb, *s);
    }
}

static void put_text(patron_strbuf *sb, const char *key, const char *v)
{
    if (!v)
        return;
    patron__sb_printf(sb, "%s\t", key);
    put_esc(sb, v);
    patron__sb_putc(sb, '\n');
}

char *patron__case_encode(const patron_case *c)
{
    patron_strbuf sb;
    patron__sb_init(&sb);
    patron__sb_printf(&sb, "patron-case 1\nstate\t%s\nverdict\t%s\nscore\t%.17g\ncreated\t%lld\nupdated\t%lld\n"
                           "decided_at\t%lld\njournal\t%lld\n",
                      patron_case_state_name((patron_case_state)c->state),
                      decision_name(c->verdict), c->score, (long long)c->created,
                      (long long)c->updated, (long long)c->decided_at, (long long)c->journal);
    put_text(&sb, "by", c->by);
    put_text(&sb, "note", c->note);
    put_text(&sb, "change", c->change);
    put_text(&sb, "reason", c->reason);
    for (size_t i = 0; i < c->nm; i++)
        patron__sb_printf(&sb, "member\t%lld\t%s\n", (long long)c->m[i].id, c->m[i].fp[0] ? c->m[i].fp : "-");
    for (size_t i = 0; i < c->np; i++) {
        const patron__case_pair *p = &c->p[i];
        patron__sb_printf(&sb, "pair\t%lld\t%lld\t%.17g\t%s\n", (long long)p->a, (long long)p->b, p->score,
                          decision_name(p->decision));
        for (size_t k = 0; k < p->nf; k++) {
            patron__sb_puts(&sb, "field\t");
            put_esc(&sb, p->f[k].name);
            patron__sb_putc(&sb, '\t');
            put_esc(&sb, p->f[k].level);
            patron__sb_printf(&sb, "\t%.17g\t", p->f[k].weight);
            put_esc(&sb, p->f[k].a);
            patron__sb_putc(&sb, '\t');
            put_esc(&sb, p->f[k].b);
            patron__sb_putc(&sb, '\n');
        }
    }
    return patron__sb_detach(&sb, NULL);
}

/* An escaped word (n bytes at s) as a new string; NULL when out of memory
 * or not a valid escape (*bad set then). */
static char *unesc(const char *s, size_t n, bool *bad)
{
    char *o = patron__malloc(n + 1), *w = o;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            *w++ = s[i];
            continue;
        }
        if (++i >= n) {
            *bad = true;
            break;
        }
        switch (s[i]) {
        case '\\': *w++ = '\\'; break;
        case 't': *w++ = '\t'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        default: *bad = true; break;
        }
    }
    *w = '\0';
    if (*bad || patron__utf8_check(o, (size_t)(w - o)) != 0) {
        *bad = true;
        patron__free(o);
        return NULL;
    }
    return o;
}

static bool parse_i64(const char *s, size_t n, int64_t *out)
{
    char buf[24], *end;
    long long v;
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
        return false;
    errno = 0;
    v = strtoll(buf, &end, 10);
    if (errno || *end)
        return false;
    *out = (int64_t)v;
    return true;
}

static bool parse_num(const char *s, size_t n, double *out)
{
    char buf[48], *end;
    double v;
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    v = strtod(buf, &end);
    if (errno || *end || v != v || v > 1e9 || v < -1e9)
        return false;
    *out = v;
    return true;
}

static bool word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* Grow an array of `size`-byte elements to room for one more. */
static bool grow(void **v, size_t n, size_t *cap, size_t size)
{
    void *nv;
    size_t nc;
    if (n < *cap)
        return true;
    nc = *cap ? *cap * 2 : 4;
    nv = patron__realloc(*v, nc * size);
    if (!nv)
        return false;
    *v = nv;
    *cap = nc;
    return true;
}

/* Parse the text of case `id`.  PATRON_E_NOMEM, or PATRON_E_STORE when the
 * bytes are not a case (nothing half-read: *c is empty then). */
patron_status patron__case_decode(patron_case *c, int64_t id, const char *text)
{
    const char *s = text, *w[8];
    size_t wl[8], capm = 0, capp = 0, capf = 0;
    bool bad = false, oom = false, seen_state = false;
    memset(c, 0, sizeof *c);
    c->id = id;
    if (!text || strncmp(text, "patron-case 1\n", 14) != 0)
        return PATRON_E_STORE;
    s += 14;
    while (*s && !bad && !oom) {
        const char *e = strchr(s, '\n');
        size_t nw = 0;
        if (!e)
            e = s + strlen(s);
        for (const char *p = s; nw < 8;) {
            const char *t = memchr(p, '\t', (size_t)(e - p));
            w[nw] = p;
            wl[nw++] = (size_t)((t ? t : e) - p);
            if (!t)
                break;
            p = t + 1;
        }
        if (nw == 2 && word_is(w[0], wl[0], "state")) {
            char tok[24];
            int v;
            snprintf(tok, sizeof tok, "%.*s", (int)(wl[1] < 23 ? wl[1] : 23), w[1]);
            v = wl[1] < 23 ? state_from(tok) : -1;
            bad = v < 0;
            c->state = v;
            seen_state = true;
        } else if (nw == 2 && word_is(w[0], wl[0], "verdict")) {
            char tok[24];
            int v;
            snprintf(tok, sizeof tok, "%.*s", (int)(wl[1] < 23 ? wl[1] : 23), w[1]);
            v = wl[1] < 23 ? decision_from(tok) : -1;
            bad = v < 0;
            c->verdict = v;
        } else if (nw == 2 && word_is(w[0], wl[0], "score")) {
            bad = !parse_num(w[1], wl[1], &c->score);
        } else if (nw == 2 && word_is(w[0], wl[0], "created")) {
            bad = !parse_i64(w[1], wl[1], &c->created);
        } else if (nw == 2 && word_is(w[0], wl[0], "updated")) {
            bad = !parse_i64(w[1], wl[1], &c->updated);
        } else if (nw == 2 && word_is(w[0], wl[0], "decided_at")) {
            bad = !parse_i64(w[1], wl[1], &c->decided_at);
        } else if (nw == 2 && word_is(w[0], wl[0], "journal")) {
            bad = !parse_i64(w[1], wl[1], &c->journal) || c->journal < 0;
        } else if (nw == 2 && (word_is(w[0], wl[0], "by") || word_is(w[0], wl[0], "note") ||
                               word_is(w[0], wl[0], "change") || word_is(w[0], wl[0], "reason"))) {
            char **slot = w[0][0] == 'b' ? &c->by : w[0][0] == 'n' ? &c->note : w[0][0] == 'c' ? &c->change
                                                                                                : &c->reason;
            if (*slot)
                bad = true;
            else if (!(*slot = unesc(w[1], wl[1], &bad)) && !bad)
                oom = true;
        } else if (nw == 3 && word_is(w[0], wl[0], "member")) {
            int64_t mid;
            if (!parse_i64(w[1], wl[1], &mid) || mid <= 0 || (c->nm && mid <= c->m[c->nm - 1].id) ||
                c->nm >= MAX_MEMBERS || !(word_is(w[2], wl[2], "-") || wl[2] == PATRON__FP_LEN)) {
                bad = true;
            } else if (!grow((void **)&c->m, c->nm, &capm, sizeof *c->m)) {
                oom = true;
            } else {
                patron__case_member *m = &c->m[c->nm++];
                m->id = mid;
                m->fp[0] = '\0';
                if (wl[2] == PATRON__FP_LEN) {
                    memcpy(m->fp, w[2], PATRON__FP_LEN);
                    m->fp[PATRON__FP_LEN] = '\0';
                    for (size_t k = 0; k < PATRON__FP_LEN; k++)
                        bad |= !((m->fp[k] >= '0' && m->fp[k] <= '9') || (m->fp[k] >= 'a' && m->fp[k] <= 'f'));
                }
            }
        } else if (nw == 5 && word_is(w[0], wl[0], "pair")) {
            patron__case_pair p;
            char tok[24];
            int d;
            memset(&p, 0, sizeof p);
            snprintf(tok, sizeof tok, "%.*s", (int)(wl[4] < 23 ? wl[4] : 23), w[4]);
            d = wl[4] < 23 ? decision_from(tok) : -1;
            if (!parse_i64(w[1], wl[1], &p.a) || !parse_i64(w[2], wl[2], &p.b) || p.a <= 0 || p.b <= p.a ||
                !parse_num(w[3], wl[3], &p.score) || d < 0 || c->np >= MAX_PAIRS) {
                bad = true;
            } else if (!grow((void **)&c->p, c->np, &capp, sizeof *c->p)) {
                oom = true;
            } else {
                p.decision = d;
                c->p[c->np++] = p;
                capf = 0;
            }
        } else if (nw == 6 && word_is(w[0], wl[0], "field")) {
            patron__case_pair *p = c->np ? &c->p[c->np - 1] : NULL;
            patron__case_field f;
            memset(&f, 0, sizeof f);
            if (!p || p->nf >= MAX_FIELDS || !parse_num(w[3], wl[3], &f.weight)) {
                bad = true;
            } else if (!grow((void **)&p->f, p->nf, &capf, sizeof *p->f)) {
                oom = true;
            } else {
                f.name = unesc(w[1], wl[1], &bad);
                f.level = bad ? NULL : unesc(w[2], wl[2], &bad);
                f.a = bad ? NULL : unesc(w[4], wl[4], &bad);
                f.b = bad ? NULL : unesc(w[5], wl[5], &bad);
                if (!bad && (!f.name || !f.level || !f.a || !f.b))
                    oom = true;
                p->f[p->nf++] = f; /* freed with the case, also when half made */
            }
        } else {
            static const char *const known[] = { "state", "verdict", "score", "created", "updated",
                                                 "decided_at", "journal", "by", "note", "change",
                                                 "reason", "member", "pair", "field" };
            /* a known key in a wrong shape is garbage; an unknown key (of a
             * later version) is skipped */
            for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
                bad |= word_is(w[0], wl[0], known[k]);
        }
        s = *e ? e + 1 : e;
    }
    /* every pair between members */
    for (size_t i = 0; i < c->np && !bad; i++)
        bad = !patron__case_has(c, c->p[i].a) || !patron__case_has(c, c->p[i].b);
    if (!bad && !oom && (!seen_state || c->nm < 2 || c->verdict == PATRON_DECISION_DISTINCT))
        bad = true;
    if (bad || oom) {
        patron__case_clear(c);
        return oom ? PATRON_E_NOMEM : PATRON_E_STORE;
    }
    return PATRON_OK;
}

/* ---- reading and writing cases -------------------------------------------- */

typedef struct text_out {
    char *s;
    bool oom;
} text_out;

static int take_text(void *ctx, const char *key, const char *value)
{
    text_out *t = ctx;
    (void)key;
    patron__free(t->s);
    t->s = patron__strdup(value ? value : "");
    t->oom = !t->s;
    return t->oom;
}

patron_status patron__meta_text(patron_db *db, char **out, const char *key)
{
    text_out t = { NULL, false };
    patron_status st = patron__st_meta_get(db, key, take_text, &t, PASS_NOT_FOUND);
    if (!st && t.oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st && !t.s)
        st = PATRON_E_NOT_FOUND;
    if (st) {
        patron__free(t.s);
        t.s = NULL;
    }
    *out = t.s;
    return st;
}

patron_status patron__case_read(patron_db *db, patron_case *c, int64_t id)
{
    char key[64], *text = NULL;
    patron_status st;
    memset(c, 0, sizeof *c);
    patron__review_key(key, sizeof key, PATRON__REVIEW_CASE, id);
    st = patron__meta_text(db, &text, key);
    if (st == PATRON_E_NOT_FOUND)
        return patron__db_error(db, st, "there is no case %lld", (long long)id);
    if (st)
        return st;
    st = patron__case_decode(c, id, text);
    patron__free(text);
    if (st == PATRON_E_STORE)
        return patron__db_error(db, st, "corrupt case %lld: the store gave bytes that are not a case",
                                (long long)id);
    if (st)
        return patron__db_error(db, st, "out of memory");
    return PATRON_OK;
}

patron_status patron__case_write(patron_db *db, const patron_case *c)
{
    char key[64], *text = patron__case_encode(c);
    patron_status st;
    if (!text)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    patron__review_key(key, sizeof key, PATRON__REVIEW_CASE, c->id);
    st = patron__st_meta_put(db, key, text);
    patron__free(text);
    return st;
}

/* ---- the member index of suppressing cases -------------------------------- */

bool patron__case_suppresses(int state)
{
    return state == PATRON_CASE_NOT_DUPLICATE || state == PATRON_CASE_HOUSEHOLD;
}

/* Add or remove case `cid` in the list of customer `id`. */
static patron_status member_index(patron_db *db, int64_t id, int64_t cid, bool add)
{
    char key[64], *text = NULL, *nl;
    patron_strbuf sb;
    bool present = false;
    patron_status st;
    patron__review_key(key, sizeof key, PATRON__REVIEW_MEMBER, id);
    st = patron__meta_text(db, &text, key);
    if (st && st != PATRON_E_NOT_FOUND)
        return st;
    patron__sb_init(&sb);
    for (const char *s = text ? text : ""; *s; s = nl ? nl + 1 : s + strlen(s)) {
        int64_t v;
        nl = strchr(s, '\n');
        if (!parse_i64(s, nl ? (size_t)(nl - s) : strlen(s), &v) || v <= 0)
            continue; /* garbage in the index: dropped */
        if (v == cid) {
            present = true;
            if (!add)
                continue;
        }
        patron__sb_printf(&sb, "%lld\n", (long long)v);
    }
    patron__free(text);
    if (add && !present)
        patron__sb_printf(&sb, "%lld\n", (long long)cid);
    if (sb.oom) {
        patron__sb_free(&sb);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    if (add && present) {
        patron__sb_free(&sb);
        return PATRON_OK;
    }
    st = patron__st_meta_put(db, key, sb.len ? sb.buf : NULL);
    patron__sb_free(&sb);
    return st;
}

patron_status patron__case_index(patron_db *db, const patron_case *c, bool add)
{
    patron_status st = PATRON_OK;
    for (size_t i = 0; i < c->nm && !st; i++)
        st = member_index(db, c->m[i].id, c->id, add);
    return st;
}

/* ---- fingerprints of matched fields ---------------------------------------- */

const char *const patron__fp_field[PATRON__FP_FIELDS] = { "first_name", "last_name", "company", "email",
                                                          "phone", "birth_date", "address", "identifier" };

static uint32_t h32(uint64_t h, const void *p, size_t n)
{
    uint64_t x = patron__hash_bytes(p, n) ^ (h * PATRON__HASH_K);
    return (uint32_t)(patron__hash_mix(x) >> 16);
}

void patron__fingerprint(char out[PATRON__FP_LEN + 1], const patron__match_rec *r)
{
    uint32_t v[PATRON__FP_FIELDS];
    uint64_t h = 0;
    v[0] = h32(1, r->first, r->first_len);
    v[1] = h32(2, r->last, r->last_len);
    v[2] = h32(3, r->company, r->company_len);
    v[3] = h32(4, r->email, r->email_len);
    v[4] = h32(5, r->phone, r->phone_len);
    v[5] = h32(6, &r->birth, sizeof r->birth);
    for (size_t i = 0; i < r->n_addr; i++) {
        const patron__match_addr *a = &r->addr[i];
        h = h32(h + 7, a->street, a->street_len);
        h = h32(h, a->number, a->number_len);
        h = h32(h, a->addition, a->addition_len);
        h = h32(h, a->postal, a->postal_len);
        h = h32(h, a->city, a->city_len);
        h = h32(h, a->country, strlen(a->country));
    }
    v[6] = (uint32_t)h;
    h = 0;
    for (size_t i = 0; i < r->n_ident; i++)
        h = h32(h + 8, r->ident[i], strlen(r->ident[i]));
    v[7] = (uint32_t)h;
    for (int k = 0; k < PATRON__FP_FIELDS; k++)
        snprintf(out + 8 * k, 9, "%08x", (unsigned)v[k]);
}

/* ---- suppression of decided pairs ------------------------------------------ */

typedef struct sup_ref {
    int64_t id;
    size_t k; /* index into cases */
} sup_ref;

struct patron__review_sup {
    patron_case *cases;
    size_t n, cap;
    sup_ref *refs; /* by id */
    size_t nrefs;
};

void patron__review_sup_free(patron__review_sup *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        patron__case_clear(&s->cases[i]);
    patron__free(s->cases);
    patron__free(s->refs);
    patron__free(s);
}

static int cmp_ref(const void *x, const void *y)
{
    const sup_ref *a = x, *b = y;
    if (a->id != b->id)
        return (a->id > b->id) - (a->id < b->id);
    return (a->k > b->k) - (a->k < b->k);
}

static void ids_from_text(patron__idvec *iv, const char *s)
{
    const char *nl;
    for (; s && *s; s = nl ? nl + 1 : s + strlen(s)) {
        int64_t v;
        nl = strchr(s, '\n');
        if (parse_i64(s, nl ? (size_t)(nl - s) : strlen(s), &v) && v > 0)
            patron__idvec_push(iv, v);
    }
}

static int take_index(void *ctx, const char *key, const char *value)
{
    (void)key;
    ids_from_text(ctx, value);
    return ((patron__idvec *)ctx)->oom;
}

patron_status patron__review_sup_load(patron_db *db, patron__review_sup **out, int64_t self)
{
    patron__idvec cids = PATRON__IDVEC_INIT;
    patron__review_sup *s = NULL;
    patron_status st;
    *out = NULL;
    if (!patron__st_has(db, PATRON__CAP_META))
        return PATRON_OK;
    if (self > 0) {
        char key[64];
        patron__review_key(key, sizeof key, PATRON__REVIEW_MEMBER, self);
        st = patron__st_meta_get(db, key, take_index, &cids, PASS_NOT_FOUND);
        if (st == PATRON_E_NOT_FOUND)
            st = PATRON_OK;
    } else {
        st = patron__st_meta_scan(db, PATRON__REVIEW_MEMBER, take_index, &cids);
    }
    if (!st && cids.oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (st || cids.n == 0) {
        patron__idvec_free(&cids);
        return st;
    }
    patron__idvec_sort_unique(&cids);
    if (!(s = patron__calloc(1, sizeof *s)) || !(s->cases = patron__calloc(cids.n, sizeof *s->cases))) {
        patron__free(s);
        patron__idvec_free(&cids);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < cids.n && !st; i++) {
        st = patron__case_read(db, &s->cases[s->n], cids.v[i]);
        if (st == PATRON_E_NOT_FOUND) { /* a stale index entry: nothing to suppress */
            st = PATRON_OK;
            continue;
        }
        if (!st && !patron__case_suppresses(s->cases[s->n].state)) {
            patron__case_clear(&s->cases[s->n]);
            continue;
        }
        if (!st) {
            s->nrefs += s->cases[s->n].nm;
            s->n++;
        }
    }
    patron__idvec_free(&cids);
    if (!st && s->nrefs && !(s->refs = patron__malloc(s->nrefs * sizeof *s->refs)))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (st || s->n == 0) {
        patron__review_sup_free(s);
        return st;
    }
    s->nrefs = 0;
    for (size_t k = 0; k < s->n; k++)
        for (size_t i = 0; i < s->cases[k].nm; i++)
            s->refs[s->nrefs++] = (sup_ref){ s->cases[k].m[i].id, k };
    qsort(s->refs, s->nrefs, sizeof *s->refs, cmp_ref);
    *out = s;
    return PATRON_OK;
}

static const char *member_fp(const patron_case *c, int64_t id)
{
    for (size_t i = 0; i < c->nm; i++)
        if (c->m[i].id == id)
            return c->m[i].fp;
    return NULL;
}

bool patron__review_sup_pair(const patron__review_sup *s, int64_t a, const patron__match_rec *ra, int64_t b,
                             const patron__match_rec *rb)
{
    size_t lo = 0, hi;
    char fa[PATRON__FP_LEN + 1], fb[PATRON__FP_LEN + 1];
    bool have = false;
    if (!s)
        return false;
    hi = s->nrefs;
    while (lo < hi) { /* the first ref of a */
        size_t mid = (lo + hi) / 2;
        if (s->refs[mid].id < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < s->nrefs && s->refs[lo].id == a; lo++) {
        const patron_case *c = &s->cases[s->refs[lo].k];
        const char *ea, *eb;
        if (!patron__case_has(c, b))
            continue;
        if (!have) {
            patron__fingerprint(fa, ra);
            patron__fingerprint(fb, rb);
            have = true;
        }
        ea = member_fp(c, a);
        eb = member_fp(c, b);
        if (ea && eb && strcmp(ea, fa) == 0 && strcmp(eb, fb) == 0)
            return true;
    }
    return false;
}

/* ---- marks for incremental scans -------------------------------------------- */

/* Marks are on once the queue had its first (full) scan: before it, marks
 * would say nothing and cost a meta entry per customer of an import. */
patron_status patron__review_marks_on(patron_db *db, bool *on)
{
    *on = false;
    if (!patron__st_has(db, PATRON__CAP_META))
        return PATRON_OK;
    if (!db->review_scanned) {
        char *text = NULL;
        patron_status st = patron__meta_text(db, &text, PATRON__REVIEW_SCANNED);
        patron__free(text);
        if (st == PATRON_E_NOT_FOUND)
            return PATRON_OK;
        if (st)
            return st;
        db->review_scanned = true;
    }
    *on = true;
    return PATRON_OK;
}

patron_status patron__review_touch(patron_db *db, int64_t id)
{
    char key[64];
    bool on;
    patron_status st;
    if (id <= 0)
        return PATRON_OK;
    if ((st = patron__review_marks_on(db, &on)) != 0 || !on)
        return st;
    patron__review_key(key, sizeof key, PATRON__REVIEW_DIRTY, id);
    return patron__st_meta_put(db, key, "1");
}

/* ---- undo of a queue merge -------------------------------------------------- */

patron_status patron__review_undone(patron_db *db, int64_t journal_id, int64_t now)
{
    char key[64], *text = NULL;
    int64_t cid;
    patron_case c;
    patron_status st;
    if (!patron__st_has(db, PATRON__CAP_META))
        return PATRON_OK;
    patron__review_key(key, sizeof key, PATRON__REVIEW_JOURNAL, journal_id);
    st = patron__meta_text(db, &text, key);
    if (st == PATRON_E_NOT_FOUND)
        return PATRON_OK; /* not a merge of the queue */
    if (st)
        return st;
    if (!parse_i64(text, strlen(text), &cid) || cid <= 0) {
        patron__free(text);
        return patron__db_error(db, PATRON_E_STORE, "corrupt review entry for journal entry %lld",
                                (long long)journal_id);
    }
    patron__free(text);
    st = patron__case_read(db, &c, cid);
    if (st == PATRON_E_NOT_FOUND)
        return patron__st_meta_put(db, key, NULL);
    if (st)
        return st;
    if (c.state == PATRON_CASE_MERGED && c.journal == journal_id) {
        char msg[64];
        snprintf(msg, sizeof msg, "merge %lld undone", (long long)journal_id);
        patron__free(c.change);
        c.change = patron__strdup(msg);
        c.state = PATRON_CASE_OPEN;
        c.journal = 0;
        c.updated = now;
        for (size_t i = 0; i < c.nm; i++)
            c.m[i].fp[0] = '\0';
        st = c.change ? patron__case_write(db, &c) : patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    if (!st)
        st = patron__st_meta_put(db, key, NULL);
    patron__case_clear(&c);
    return st;
}
