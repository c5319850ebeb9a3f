/* patron — customer records into the matcher.  SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- candidates --------------------------------------------------------- */

typedef struct cand_field {
    const char *name, *level;
    char *a, *b;
    double weight;
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

/* The normalised form of candidate `id` for scoring: from the store's match
 * form when it keeps one (no load, no normalisation), else loaded and
 * normalised here — also when the form read back is not one the core wrote.
 * *skip: merged, or not active when active_only.  *bp points at `view` or
 * at `own` (then *owned is true and the caller frees `own`). */
static patron_status candidate_rec(patron_db *db, int64_t id, const patron__match_config *cfg, bool active_only,
                                   patron__match_rec *view, patron__match_addr *addr, size_t cap,
                                   patron__match_addr **heap, patron__match_rec *own, bool *owned,
                                   const patron__match_rec **bp, bool *skip)
{
    const void *form;
    size_t len;
    int state = 0;
    patron_customer *o = NULL;
    patron_status st = patron__st_match_form(db, id, &form, &len);
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
            *skip = state == PATRON_STATE_MERGED || (active_only && state != PATRON_STATE_ACTIVE);
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
    *skip = state == PATRON_STATE_MERGED || (active_only && state != PATRON_STATE_ACTIVE);
    if (!*skip) {
        if (patron__cust_match_rec(own, o, cfg->default_country) != 0)
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
    patron__match_config cfg;
    patron__match_rec a, b, view;
    patron__match_addr addr[8], *heap = NULL;
    patron__match_key *keys = NULL;
    patron_matches *m = NULL;
    patron__idvec ids = PATRON__IDVEC_INIT;
    size_t nk;
    int64_t self = patron_customer_id(c);
    patron_status st = PATRON_OK;
    *out = NULL;
    cfg = *db->match_cfg;
    cfg.mode = mode == PATRON_MATCH_EMAIL ? PATRON__MATCH_MODE_EMAIL : PATRON__MATCH_MODE_FIELDS;
    if (patron__cust_match_rec(&a, c, cfg.default_country) != 0)
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
    if (st)
        goto out;
    patron__idvec_sort_unique(&ids);
    for (size_t i = 0; i < ids.n && !st; i++) {
        patron__match_result res;
        const patron__match_rec *bp = NULL;
        bool owned, skip;
        if (ids.v[i] == self)
            continue;
        st = candidate_rec(db, ids.v[i], &cfg, active_only, &view, addr, sizeof addr / sizeof addr[0], &heap,
                           &b, &owned, &bp, &skip);
        if (st || skip)
            continue;
        patron__match_score(&res, &a, bp, &cfg);
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
            m->c[m->n].decision = res.decision == PATRON__MATCH_MERGE ? PATRON_DECISION_MERGE
                                                                      : PATRON_DECISION_REVIEW;
            if (explain) {
                cand_field *f = &m->fields[m->n * PATRON__MF_COUNT];
                bool oom = false;
                for (int k = 0; k < PATRON__MF_COUNT; k++) {
                    f[k].name = patron__match_field_name(k);
                    f[k].level = patron__match_level_name(res.field[k].level);
                    f[k].weight = res.field[k].weight;
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
    default: return NULL;
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

patron_status patron_matches_to_json(const patron_matches *m, char **out, unsigned flags)
{
    patron_strbuf sb;
    bool pretty = flags & PATRON_JSON_PRETTY;
    if (!out || !m)
        return PATRON_E_INVALID;
    patron__sb_init(&sb);
    patron__sb_putc(&sb, '[');
    for (size_t i = 0; i < m->n; i++) {
        patron__sb_printf(&sb, "%s%s{\"id\":%lld,\"score\":%.3f,\"decision\":\"%s\",\"fields\":[",
                          i ? "," : "", pretty ? "\n  " : "", (long long)m->c[i].id, m->c[i].score,
                          decision_word(m->c[i].decision));
        for (size_t k = 0; m->fields && k < PATRON__MF_COUNT; k++) {
            const cand_field *f = &m->fields[i * PATRON__MF_COUNT + k];
            patron__sb_printf(&sb, "%s%s{\"field\":\"%s\",\"a\":", k ? "," : "", pretty ? "\n    " : "",
                              f->name);
            patron__json_str(&sb, f->a);
            patron__sb_puts(&sb, ",\"b\":");
            patron__json_str(&sb, f->b);
            patron__sb_printf(&sb, ",\"level\":\"%s\",\"weight\":%.3f}", f->level, f->weight);
        }
        patron__sb_puts(&sb, pretty ? "\n  ]}" : "]}");
    }
    patron__sb_puts(&sb, pretty && m->n ? "\n]" : "]");
    *out = patron__sb_detach(&sb, NULL);
    return *out ? PATRON_OK : PATRON_E_NOMEM;
}
