/* patron — customer records into the matcher.  SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- candidates --------------------------------------------------------- */

typedef struct cand_field {
    const char *name, *level;
    char *a, *b;
    double weight;
    int tf;                      /* the weight was adjusted by the value's frequency */
    double count, n, base_weight; /* count of n customers hold it; the level's weight */
} cand_field;

struct patron_matches {
    size_t n, cap;
    patron__cand *c;
    cand_field *fields; /* n * PATRON__MF_COUNT, when explained */
};

static int cmp_cand(const void *a, const void *b)
{
    const patron__cand *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

void patron_matches_free(patron_matches *m)
{
    if (!m)
        return;
    if (m->fields)
        for (size_t i = 0; i < m->n * PATRON__MF_COUNT; i++) {
            patron__free(m->fields[i].a);
            patron__free(m->fields[i].b);
        }
    patron__free(m->fields);
    patron__free(m->c);
    patron__free(m);
}

static char *dup_or_empty(const char *s)
{
    return patron__strdup(s ? s : "");
}

/* ---- term frequencies from the store's key index --------------------------- */

#define TF_CACHE 16
/* A store without count(): counting stops here (a lookup emits every id). */
#define TF_FALLBACK_CAP 1000
#define TF_FALLBACK_CAP_N 100000

typedef struct tf_ctx {
    patron_db *db;
    patron_status st; /* the first store failure */
    size_t n;
    struct {
        int kind;
        double count;
        char value[PATRON__MATCH_KEY_MAX];
    } cache[TF_CACHE];
} tf_ctx;

/* How many records hold (kind, value); -1 when the store fails (recorded in
 * t->st). */
static double store_count(tf_ctx *t, int kind, const char *value, size_t cap)
{
    uint64_t n = 0;
    patron_status st = patron__st_count(t->db, kind, value, cap, &n);
    if (!st)
        return (double)n;
    if (!t->st)
        t->st = st;
    return -1;
}

static double glue_tf_count(void *ctx, int field, const patron__match_rec *r, int addr)
{
    tf_ctx *t = ctx;
    int kind = patron__match_tf_kind(field);
    size_t i;
    double c;
    char value[PATRON__MATCH_KEY_MAX];
    size_t vlen;
    if (!kind || t->st || !(vlen = patron__match_tf_value(value, field, r, addr)))
        return -1;
    for (i = 0; i < t->n; i++)
        if (t->cache[i].kind == kind && strcmp(t->cache[i].value, value) == 0)
            return t->cache[i].count;
    c = store_count(t, kind, value, TF_FALLBACK_CAP);
    if (c >= 0 && t->n < TF_CACHE) {
        t->cache[t->n].kind = kind;
        t->cache[t->n].count = c;
        memcpy(t->cache[t->n].value, value, vlen + 1); /* vlen < PATRON__MATCH_KEY_MAX */
        t->n++;
    }
    return c;
}

/* The normalised form of candidate `id` for scoring: from the store's match
 * form when it keeps one (no load, no normalisation), else loaded and
 * normalised here — also when the form read back is not one the core wrote.
 * *skip: merged, or not active when active_only.  *bp points at `view` or
 * at `own` (then *owned is true and the caller frees `own`). */
/* A candidate's match form fetched ahead (see patron__candidates_in_tx). */
typedef struct fetched_form {
    const void *form;
    size_t len;
    patron_status st;
} fetched_form;

static patron_status candidate_rec(patron_db *db, int64_t id, const patron__match_config *cfg, bool active_only,
                                   patron__match_rec *view, patron__match_addr *addr, size_t cap,
                                   patron__match_addr **heap, patron__match_rec *own, bool *owned,
                                   const patron__match_rec **bp, bool *skip, const fetched_form *ahead)
{
    const void *form = NULL;
    size_t len = 0;
    int state = 0;
    patron_customer *o = NULL;
    /* the match form carries the VAT ID, not the declared identifiers */
    patron_status st = cfg->n_ident ? PATRON_E_NOT_FOUND
                       : ahead      ? ahead->st
                                    : patron__st_match_form(db, id, &form, &len);
    if (ahead && !cfg->n_ident) {
        form = ahead->form;
        len = ahead->len;
    }
    *owned = *skip = false;
    *bp = NULL;
    if (st == PATRON_OK) {
        long na = patron__form_view(view, addr, cap, &state, form, len, cfg->default_country);
        if (na > (long)cap) {
            patron__match_addr *more = patron__realloc(*heap, (size_t)na * sizeof *more);
            if (!more)
                return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
            *heap = more;
            na = patron__form_view(view, more, (size_t)na, &state, form, len, cfg->default_country);
        }
        if (na >= 0) {
            *skip = state == PATRON_STATE_MERGED || state == PATRON_STATE_ERASED || (active_only && state != PATRON_STATE_ACTIVE);
            *bp = view;
            return PATRON_OK;
        }
        /* not a form of ours: the record itself decides */
    } else if (st != PATRON_E_NOT_FOUND) {
        return st;
    }
    if ((st = patron__load_in_tx(db, &o, id)) != 0)
        return st;
    state = patron_customer_state(o);
    *skip = state == PATRON_STATE_MERGED || state == PATRON_STATE_ERASED || (active_only && state != PATRON_STATE_ACTIVE);
    if (!*skip) {
        if (patron__cust_match_rec_cfg(own, o, cfg) != 0)
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        else
            *owned = true, *bp = own;
    }
    patron_customer_free(o);
    return st;
}

patron_status patron__candidates_in_tx(patron_db *db, patron_matches **out, const patron_customer *c,
                                       int mode, bool active_only, bool explain)
{
    tf_ctx tfc;
    patron__match_tf tf = { glue_tf_count, &tfc, 0, NULL, NULL };
    bool tf_ready = false;
    patron__match_config cfg;
    patron__match_rec a, b, view;
    patron__match_addr addr[8], *heap = NULL;
    patron__match_key *keys = NULL;
    patron_matches *m = NULL;
    patron__idvec ids = PATRON__IDVEC_INIT;
    patron__review_sup *sup = NULL;
    patron__match_query *q = NULL; /* a's patterns, once for all candidates */
    fetched_form *ahead = NULL;
    size_t nk, n_ahead = 0;
    int64_t self = patron_customer_id(c);
    patron_status st = PATRON_OK;
    *out = NULL;
    if ((st = patron__match_config_load(db)) != 0)
        return st;
    cfg = *db->match_cfg;
    cfg.mode = mode == PATRON_MATCH_EMAIL ? PATRON__MATCH_MODE_EMAIL : PATRON__MATCH_MODE_FIELDS;
    if (patron__cust_match_rec_cfg(&a, c, &cfg) != 0)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    keys = patron__malloc(PATRON__MATCH_KEYS_MAX * sizeof *keys);
    m = patron__calloc(1, sizeof *m);
    if (!keys || !m) {
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        goto out;
    }
    nk = patron__match_keys(keys, PATRON__MATCH_KEYS_MAX, &a, &cfg);
    for (size_t i = 0; i < nk && !st; i++) {
        size_t before = ids.n;
        st = patron__st_lookup(db, keys[i].kind, keys[i].value, patron__idvec_emit, &ids);
        if (!st && ids.oom)
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        /* A key shared by very many records says little (one company
         * mailbox, one huge street): as in the batch, such a block is left
         * out and candidates are found through their other keys — and one
         * match never loads tens of thousands of records. */
        if (!st && ids.n - before > PATRON__BLOCK_MAX)
            ids.n = before;
    }
    /* A rare full name (at most PATRON__RARE_BLOCK_MAX holders), as the
     * batch's rare-name key: registered at work, moved with a new mailbox,
     * the name is all two records of one person may share.  Counted first,
     * so that a common name is never read. */
    if (!st && cfg.mode == PATRON__MATCH_MODE_FIELDS) {
        char full[PATRON__MATCH_KEY_MAX];
        uint64_t holders = 0;
        if (patron__match_tf_value(full, PATRON__TF_FULL_NAME, &a, -1) &&
            (st = patron__st_count(db, PATRON__KEY_RARE_NAME, full, PATRON__RARE_BLOCK_MAX + 1, &holders)) == 0 &&
            holders >= 1 && holders <= PATRON__RARE_BLOCK_MAX) {
            st = patron__st_lookup(db, PATRON__KEY_RARE_NAME, full, patron__idvec_emit, &ids);
            if (!st && ids.oom)
                st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        }
    }
    /* A street no other customer lives in (postal code and street, at
     * most PATRON__RARE_STREET_MAX holders with this one), as the batch's
     * rare-street key: a house number mistyped or left out.  Counted
     * first, as the name; a customer not stored yet is no holder. */
    if (!st && cfg.mode == PATRON__MATCH_MODE_FIELDS) {
        patron__match_key rs[PATRON__MATCH_RARE_STREETS];
        size_t nrs = patron__match_rare_street_keys(rs, PATRON__MATCH_RARE_STREETS, &a, &cfg);
        for (size_t i = 0; i < nrs && !st; i++) {
            uint64_t holders = 0;
            uint64_t most = self > 0 ? PATRON__RARE_STREET_MAX : PATRON__RARE_STREET_MAX - 1;
            if ((st = patron__st_count(db, rs[i].kind, rs[i].value, most + 1, &holders)) == 0 && holders >= 1 &&
                holders <= most) {
                st = patron__st_lookup(db, rs[i].kind, rs[i].value, patron__idvec_emit, &ids);
                if (!st && ids.oom)
                    st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
            }
        }
    }
    /* pairs a merchant decided are not proposed again (review.h) */
    if (!st && self > 0)
        st = patron__review_sup_load(db, &sup, self);
    if (st)
        goto out;
    patron__idvec_sort_unique(&ids);
    /* The candidates' match forms first, one call after the other, each
     * form's bytes prefetched: in a large store every form is a cache miss
     * (two, with the store's slot), and issued back to back they overlap
     * instead of stalling the scoring one by one.  The store keeps the
     * bytes until the transaction ends (store.h).  Up to the first failure;
     * the rest is fetched in the loop as before. */
    if (!cfg.n_ident && ids.n > 1 && patron__st_has(db, PATRON__CAP_MATCH_FORM) &&
        (ahead = patron__malloc(ids.n * sizeof *ahead)) != NULL) {
        for (n_ahead = 0; n_ahead < ids.n; n_ahead++) {
            fetched_form *f = &ahead[n_ahead];
            if (ids.v[n_ahead] == self) { /* not scored: not fetched */
                f->st = PATRON_E_NOT_FOUND;
                continue;
            }
            f->st = patron__st_match_form(db, ids.v[n_ahead], &f->form, &f->len);
            if (f->st && f->st != PATRON_E_NOT_FOUND)
                break; /* reported when the loop reaches it */
#if defined(__GNUC__) || defined(__clang__)
            if (!f->st)
                for (size_t off = 0; off < f->len && off < 512; off += 64)
                    __builtin_prefetch((const char *)f->form + off);
#endif
        }
        if (n_ahead < ids.n)
            n_ahead++; /* the failure itself is known */
    }
    for (size_t i = 0; i < ids.n && !st; i++) {
        patron__match_result res;
        const patron__match_rec *bp = NULL;
        bool owned, skip;
        if (ids.v[i] == self)
            continue;
        st = candidate_rec(db, ids.v[i], &cfg, active_only, &view, addr, sizeof addr / sizeof addr[0], &heap,
                           &b, &owned, &bp, &skip, i < n_ahead ? &ahead[i] : NULL);
        if (st || skip)
            continue;
        if (!tf_ready && cfg.mode == PATRON__MATCH_MODE_FIELDS) {
            /* the number of customers, once per call, only when there is a
             * candidate to score */
            tfc.db = db;
            tfc.st = PATRON_OK;
            tfc.n = 0;
            tf.n = store_count(&tfc, PATRON__KEY_TF_ALL, "*", TF_FALLBACK_CAP_N);
            tf_ready = true;
        }
        if (!q && (q = patron__malloc(sizeof *q)) != NULL) {
            patron__match_query_init(q, &a);
            q->distinct_only = 1; /* DISTINCT candidates are left out below */
        }
        if (q) /* the same result; without memory for it, pair by pair */
            patron__match_score_q(&res, q, bp, &cfg, tf_ready && tf.n > 0 ? &tf : NULL);
        else
            patron__match_score_tf(&res, &a, bp, &cfg, tf_ready && tf.n > 0 ? &tf : NULL);
        if (tf_ready && tfc.st) {
            st = tfc.st;
            if (owned)
                patron__match_rec_free(&b);
            break;
        }
        if (res.decision != PATRON__MATCH_DISTINCT && sup &&
            patron__review_sup_pair(sup, self, &a, ids.v[i], bp))
            res.decision = PATRON__MATCH_DISTINCT;
        if (res.decision != PATRON__MATCH_DISTINCT) {
            if (m->n == m->cap) {
                size_t nc = m->cap ? m->cap * 2 : 8;
                patron__cand *nc_ = patron__realloc(m->c, nc * sizeof *nc_);
                cand_field *nf = explain ? patron__realloc(m->fields, nc * PATRON__MF_COUNT * sizeof *nf) : NULL;
                if (nc_)
                    m->c = nc_;
                if (nf)
                    m->fields = nf;
                if (!nc_ || (explain && !nf)) {
                    if (owned)
                        patron__match_rec_free(&b);
                    st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                    break;
                }
                m->cap = nc;
            }
            m->c[m->n].id = ids.v[i];
            m->c[m->n].score = res.score;
            m->c[m->n].probability = res.probability;
            m->c[m->n].decision = patron__decision_public(res.decision);
            m->c[m->n].rule = res.rule;
            m->c[m->n].prior = cfg.prior;
            {
                double sum = 0;
                for (int k = 0; k < PATRON__MF_COUNT; k++)
                    sum += res.field[k].weight;
                m->c[m->n].adjustment = res.score - cfg.prior - sum;
            }
            if (explain) {
                cand_field *f = &m->fields[m->n * PATRON__MF_COUNT];
                bool oom = false;
                for (int k = 0; k < PATRON__MF_COUNT; k++) {
                    f[k].name = patron__match_field_name(k);
                    f[k].level = patron__match_level_name(res.field[k].level);
                    f[k].weight = res.field[k].weight;
                    f[k].tf = res.field[k].tf;
                    f[k].count = res.field[k].count;
                    f[k].n = res.field[k].n;
                    f[k].base_weight = res.field[k].base_weight;
                    f[k].a = dup_or_empty(res.field[k].a);
                    f[k].b = dup_or_empty(res.field[k].b);
                    oom |= !f[k].a || !f[k].b;
                }
                if (oom) {
                    m->n++; /* so that free releases what was copied */
                    if (owned)
                        patron__match_rec_free(&b);
                    st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                    break;
                }
            }
            m->n++;
        }
        if (owned)
            patron__match_rec_free(&b);
    }
out:
    patron__review_sup_free(sup);
    patron__free(q);
    patron__free(ahead);
    patron__match_rec_free(&a);
    patron__free(keys);
    patron__free(heap);
    patron__idvec_free(&ids);
    if (st) {
        patron_matches_free(m);
        return st;
    }
    /* best first; the explanation rows move with their candidate */
    if (explain && m->n > 1) {
        /* sort an index, then permute both arrays */
        size_t *idx = patron__malloc(m->n * sizeof *idx);
        patron__cand *nc = patron__malloc(m->n * sizeof *nc);
        cand_field *nf = patron__malloc(m->n * PATRON__MF_COUNT * sizeof *nf);
        if (!idx || !nc || !nf) {
            patron__free(idx);
            patron__free(nc);
            patron__free(nf);
            patron_matches_free(m);
            return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < m->n; i++)
            idx[i] = i;
        for (size_t i = 1; i < m->n; i++) /* insertion sort: candidate lists are short */
            for (size_t j = i; j > 0 && cmp_cand(&m->c[idx[j - 1]], &m->c[idx[j]]) > 0; j--) {
                size_t t = idx[j];
                idx[j] = idx[j - 1];
                idx[j - 1] = t;
            }
        for (size_t i = 0; i < m->n; i++) {
            nc[i] = m->c[idx[i]];
            memcpy(&nf[i * PATRON__MF_COUNT], &m->fields[idx[i] * PATRON__MF_COUNT],
                   PATRON__MF_COUNT * sizeof *nf);
        }
        patron__free(m->c);
        patron__free(m->fields);
        patron__free(idx);
        m->c = nc;
        m->fields = nf;
        m->cap = m->n;
    } else if (m->n > 1) {
        qsort(m->c, m->n, sizeof *m->c, cmp_cand);
    }
    *out = m;
    return PATRON_OK;
}

size_t patron__matches_n(const patron_matches *m, const patron__cand **cands)
{
    *cands = m ? m->c : NULL;
    return m ? m->n : 0;
}

/* ---- the public matching API ------------------------------------------ */

const char *patron_decision_name(patron_decision d)
{
    switch (d) {
    case PATRON_DECISION_DISTINCT: return "distinct";
    case PATRON_DECISION_REVIEW: return "review";
    case PATRON_DECISION_MERGE: return "merge";
    case PATRON_DECISION_HOUSEHOLD: return "household";
    default: return NULL;
    }
}

int patron__decision_public(int d)
{
    switch (d) {
    case PATRON__MATCH_MERGE: return PATRON_DECISION_MERGE;
    case PATRON__MATCH_REVIEW: return PATRON_DECISION_REVIEW;
    case PATRON__MATCH_HOUSEHOLD: return PATRON_DECISION_HOUSEHOLD;
    default: return PATRON_DECISION_DISTINCT;
    }
}

/* For messages and JSON: never NULL. */
static const char *decision_word(int d)
{
    const char *n = patron_decision_name((patron_decision)d);
    return n ? n : "unknown";
}

patron_status patron_db_match(patron_db *db, patron_matches **out, const patron_customer *c,
                              patron_match_mode mode)
{
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out || !c)
        return patron__db_error(db, PATRON_E_INVALID, "no customer or no place for the result (NULL)");
    *out = NULL;
    if (mode != PATRON_MATCH_FIELDS && mode != PATRON_MATCH_EMAIL)
        return patron__db_error(db, PATRON_E_INVALID, "unknown match mode %d", (int)mode);
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    st = patron__tx_end(db, patron__candidates_in_tx(db, out, c, (int)mode, false, true));
    if (st) {
        patron_matches_free(*out);
        *out = NULL;
        return st;
    }
    return patron__db_ok(db);
}

size_t patron_matches_count(const patron_matches *m)
{
    return m ? m->n : 0;
}

patron_status patron_matches_get(const patron_matches *m, int64_t *id, double *score, patron_decision *decision,
                                 size_t i)
{
    if (id)
        *id = 0;
    if (score)
        *score = 0;
    if (decision)
        *decision = PATRON_DECISION_DISTINCT;
    if (!m)
        return PATRON_E_INVALID;
    if (i >= m->n)
        return PATRON_E_RANGE;
    if (id)
        *id = m->c[i].id;
    if (score)
        *score = m->c[i].score;
    if (decision)
        *decision = (patron_decision)m->c[i].decision;
    return PATRON_OK;
}

size_t patron_matches_field_count(const patron_matches *m)
{
    return m && m->fields ? PATRON__MF_COUNT : 0;
}

patron_status patron_matches_explain(const patron_matches *m, const char **field, const char **value_a,
                                     const char **value_b, const char **level, double *weight, size_t i,
                                     size_t k)
{
    const cand_field *f;
    if (field)
        *field = NULL;
    if (value_a)
        *value_a = NULL;
    if (value_b)
        *value_b = NULL;
    if (level)
        *level = NULL;
    if (weight)
        *weight = 0;
    if (!m)
        return PATRON_E_INVALID;
    if (i >= m->n || !m->fields || k >= PATRON__MF_COUNT)
        return PATRON_E_RANGE;
    f = &m->fields[i * PATRON__MF_COUNT + k];
    if (field)
        *field = f->name;
    if (value_a)
        *value_a = f->a;
    if (value_b)
        *value_b = f->b;
    if (level)
        *level = f->level;
    if (weight)
        *weight = f->weight;
    return PATRON_OK;
}

patron_status patron_matches_detail(const patron_matches *m, patron_match_detail *out, size_t i)
{
    const patron__cand *c;
    if (!m || !out)
        return PATRON_E_INVALID;
    if (out->version < 1 || out->version > PATRON_MATCH_DETAIL_VERSION)
        return PATRON_E_ABI;
    out->score = out->probability = out->prior = out->adjustment = 0;
    out->decision = PATRON_DECISION_DISTINCT;
    out->rule = NULL;
    if (i >= m->n)
        return PATRON_E_RANGE;
    c = &m->c[i];
    out->score = c->score;
    out->probability = c->probability;
    out->prior = c->prior;
    out->adjustment = c->adjustment;
    out->decision = (patron_decision)c->decision;
    out->rule = patron__match_rule_name(c->rule);
    return PATRON_OK;
}

patron_status patron_matches_field_detail(const patron_matches *m, patron_match_field_detail *out, size_t i,
                                          size_t k)
{
    const cand_field *f;
    if (!m || !out)
        return PATRON_E_INVALID;
    if (out->version < 1 || out->version > PATRON_MATCH_FIELD_DETAIL_VERSION)
        return PATRON_E_ABI;
    out->field = out->value_a = out->value_b = out->level = NULL;
    out->weight = out->level_weight = 0;
    out->frequency = 0;
    out->holders = out->customers = 0;
    if (i >= m->n || !m->fields || k >= PATRON__MF_COUNT)
        return PATRON_E_RANGE;
    f = &m->fields[i * PATRON__MF_COUNT + k];
    out->field = f->name;
    out->value_a = f->a;
    out->value_b = f->b;
    out->level = f->level;
    out->weight = f->weight;
    out->level_weight = f->base_weight;
    out->frequency = f->tf;
    out->holders = f->tf ? (uint64_t)f->count : 0;
    out->customers = f->tf ? (uint64_t)f->n : 0;
    return PATRON_OK;
}

patron_status patron_matches_to_json(const patron_matches *m, char **out, unsigned flags)
{
    patron_strbuf sb;
    bool pretty = flags & PATRON_JSON_PRETTY;
    if (!out || !m)
        return PATRON_E_INVALID;
    patron__sb_init(&sb);
    patron__sb_putc(&sb, '[');
    for (size_t i = 0; i < m->n; i++) {
        patron__sb_printf(&sb,
                          "%s%s{\"id\":%lld,\"score\":%.3f,\"probability\":%.6f,\"decision\":\"%s\","
                          "\"rule\":\"%s\",\"prior\":%.3f,\"adjustment\":%.3f,\"fields\":[",
                          i ? "," : "", pretty ? "\n  " : "", (long long)m->c[i].id, m->c[i].score,
                          m->c[i].probability, decision_word(m->c[i].decision),
                          patron__match_rule_name(m->c[i].rule), m->c[i].prior, m->c[i].adjustment);
        for (size_t k = 0; m->fields && k < PATRON__MF_COUNT; k++) {
            const cand_field *f = &m->fields[i * PATRON__MF_COUNT + k];
            patron__sb_printf(&sb, "%s%s{\"field\":\"%s\",\"a\":", k ? "," : "", pretty ? "\n    " : "",
                              f->name);
            patron__json_str(&sb, f->a);
            patron__sb_puts(&sb, ",\"b\":");
            patron__json_str(&sb, f->b);
            patron__sb_printf(&sb, ",\"level\":\"%s\",\"weight\":%.3f,\"level_weight\":%.3f", f->level,
                              f->weight, f->base_weight);
            if (f->tf)
                patron__sb_printf(&sb, ",\"holders\":%.0f,\"customers\":%.0f", f->count, f->n);
            patron__sb_putc(&sb, '}');
        }
        patron__sb_puts(&sb, pretty ? "\n  ]}" : "]}");
    }
    patron__sb_puts(&sb, pretty && m->n ? "\n]" : "]");
    *out = patron__sb_detach(&sb, NULL);
    return *out ? PATRON_OK : PATRON_E_NOMEM;
}

/* The matcher's verdict on two records as patron_db_match() would give it
 * (the store's model, term frequencies), for a merge plan to say when a
 * person merges what the matcher calls distinct.  *decision gets a
 * PATRON_DECISION_*. */
patron_status patron__pair_verdict_in_tx(patron_db *db, const patron_customer *a, const patron_customer *b,
                                         int *decision, double *score)
{
    tf_ctx tfc;
    patron__match_tf tf = { glue_tf_count, &tfc, 0, NULL, NULL };
    patron__match_config cfg;
    patron__match_rec ra, rb;
    patron__match_result res;
    patron_status st;
    if ((st = patron__match_config_load(db)) != 0)
        return st;
    cfg = *db->match_cfg;
    cfg.mode = PATRON__MATCH_MODE_FIELDS;
    if (patron__cust_match_rec_cfg(&ra, a, &cfg) != 0)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (patron__cust_match_rec_cfg(&rb, b, &cfg) != 0) {
        patron__match_rec_free(&ra);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    tfc.db = db;
    tfc.st = PATRON_OK;
    tfc.n = 0;
    tf.n = store_count(&tfc, PATRON__KEY_TF_ALL, "*", TF_FALLBACK_CAP_N);
    patron__match_score_tf(&res, &ra, &rb, &cfg, tf.n > 0 ? &tf : NULL);
    patron__match_rec_free(&ra);
    patron__match_rec_free(&rb);
    if (tfc.st)
        return tfc.st;
    *decision = patron__decision_public(res.decision);
    *score = res.score;
    return PATRON_OK;
}
