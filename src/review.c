/* patron — the duplicate review queue (issue 12): scans that turn the
 * matcher's pairs into cases, the list of cases, decisions, and merges
 * through the queue.  The cases' text in the store's meta, fingerprints
 * and the suppression of decided pairs are in reviewmeta.c.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static double absd(double x)
{
    return x < 0 ? -x : x;
}

#define MAX_REASON_FIELDS 64
/* pairs of a case that keep their explanation (the best ones) */
#define MAX_EXPLAINED 50

struct patron_cases {
    size_t n;
    patron_case *c;
};

/* ---- accessors -------------------------------------------------------------- */

int64_t patron_case_id(const patron_case *c)
{
    return c ? c->id : 0;
}

patron_case_state patron_case_state_of(const patron_case *c)
{
    return c ? (patron_case_state)c->state : PATRON_CASE_OPEN;
}

patron_decision patron_case_verdict(const patron_case *c)
{
    return c ? (patron_decision)c->verdict : PATRON_DECISION_DISTINCT;
}

double patron_case_score(const patron_case *c)
{
    return c ? c->score : 0;
}

int64_t patron_case_created_at(const patron_case *c)
{
    return c ? c->created : 0;
}

int64_t patron_case_updated_at(const patron_case *c)
{
    return c ? c->updated : 0;
}

size_t patron_case_member_count(const patron_case *c)
{
    return c ? c->nm : 0;
}

patron_status patron_case_member(const patron_case *c, int64_t *id_out, size_t i)
{
    if (id_out)
        *id_out = 0;
    if (!c || !id_out)
        return PATRON_E_INVALID;
    if (i >= c->nm)
        return PATRON_E_RANGE;
    *id_out = c->m[i].id;
    return PATRON_OK;
}

size_t patron_case_pair_count(const patron_case *c)
{
    return c ? c->np : 0;
}

patron_status patron_case_pair(const patron_case *c, int64_t *id_a_out, int64_t *id_b_out, double *score_out,
                               patron_decision *decision_out, size_t i)
{
    if (id_a_out)
        *id_a_out = 0;
    if (id_b_out)
        *id_b_out = 0;
    if (score_out)
        *score_out = 0;
    if (decision_out)
        *decision_out = PATRON_DECISION_DISTINCT;
    if (!c)
        return PATRON_E_INVALID;
    if (i >= c->np)
        return PATRON_E_RANGE;
    if (id_a_out)
        *id_a_out = c->p[i].a;
    if (id_b_out)
        *id_b_out = c->p[i].b;
    if (score_out)
        *score_out = c->p[i].score;
    if (decision_out)
        *decision_out = (patron_decision)c->p[i].decision;
    return PATRON_OK;
}

size_t patron_case_field_count(const patron_case *c, size_t i)
{
    return c && i < c->np ? c->p[i].nf : 0;
}

patron_status patron_case_explain(const patron_case *c, const char **field_out, const char **value_a_out,
                                  const char **value_b_out, const char **level_out, double *weight_out, size_t i,
                                  size_t k)
{
    const patron__case_field *f;
    if (field_out)
        *field_out = NULL;
    if (value_a_out)
        *value_a_out = NULL;
    if (value_b_out)
        *value_b_out = NULL;
    if (level_out)
        *level_out = NULL;
    if (weight_out)
        *weight_out = 0;
    if (!c)
        return PATRON_E_INVALID;
    if (i >= c->np || k >= c->p[i].nf)
        return PATRON_E_RANGE;
    f = &c->p[i].f[k];
    if (field_out)
        *field_out = f->name;
    if (value_a_out)
        *value_a_out = f->a;
    if (value_b_out)
        *value_b_out = f->b;
    if (level_out)
        *level_out = f->level;
    if (weight_out)
        *weight_out = f->weight;
    return PATRON_OK;
}

const char *patron_case_reason(const patron_case *c)
{
    return c ? (c->reason ? c->reason : "") : NULL;
}

const char *patron_case_decided_by(const patron_case *c)
{
    return c ? c->by : NULL;
}

int64_t patron_case_decided_at(const patron_case *c)
{
    return c ? c->decided_at : 0;
}

const char *patron_case_note(const patron_case *c)
{
    return c ? c->note : NULL;
}

int64_t patron_case_journal(const patron_case *c)
{
    return c ? c->journal : 0;
}

const char *patron_case_change(const patron_case *c)
{
    return c ? c->change : NULL;
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_opt(patron_strbuf *sb, const char *name, const char *v)
{
    patron__sb_printf(sb, ",\"%s\":", name);
    if (v)
        patron__json_str(sb, v);
    else
        patron__sb_puts(sb, "null");
}

static void case_json(patron_strbuf *sb, const patron_case *c, bool pretty)
{
    const char *nl = pretty ? "\n  " : "";
    patron__sb_printf(sb, "{%s\"id\":%lld,\"state\":\"%s\",\"verdict\":\"%s\",\"score\":%.3f,\"created_at\":%lld,"
                          "\"updated_at\":%lld,\"members\":[",
                      nl, (long long)c->id, patron_case_state_name((patron_case_state)c->state),
                      patron_decision_name((patron_decision)c->verdict), c->score, (long long)c->created,
                      (long long)c->updated);
    for (size_t i = 0; i < c->nm; i++)
        patron__sb_printf(sb, "%s%lld", i ? "," : "", (long long)c->m[i].id);
    patron__sb_printf(sb, "],%s\"pairs\":[", nl);
    for (size_t i = 0; i < c->np; i++) {
        const patron__case_pair *p = &c->p[i];
        patron__sb_printf(sb, "%s%s{\"a\":%lld,\"b\":%lld,\"score\":%.3f,\"decision\":\"%s\",\"fields\":[",
                          i ? "," : "", pretty ? "\n    " : "", (long long)p->a, (long long)p->b, p->score,
                          patron_decision_name((patron_decision)p->decision));
        for (size_t k = 0; k < p->nf; k++) {
            patron__sb_printf(sb, "%s{\"field\":", k ? "," : "");
            patron__json_str(sb, p->f[k].name);
            patron__sb_puts(sb, ",\"a\":");
            patron__json_str(sb, p->f[k].a);
            patron__sb_puts(sb, ",\"b\":");
            patron__json_str(sb, p->f[k].b);
            patron__sb_puts(sb, ",\"level\":");
            patron__json_str(sb, p->f[k].level);
            patron__sb_printf(sb, ",\"weight\":%.3f}", p->f[k].weight);
        }
        patron__sb_puts(sb, "]}");
    }
    patron__sb_puts(sb, "]");
    json_opt(sb, "reason", c->reason ? c->reason : "");
    json_opt(sb, "decided_by", c->by);
    patron__sb_printf(sb, ",\"decided_at\":%lld", (long long)c->decided_at);
    json_opt(sb, "note", c->note);
    patron__sb_printf(sb, ",\"journal\":%lld", (long long)c->journal);
    json_opt(sb, "change", c->change);
    patron__sb_puts(sb, pretty ? "\n}" : "}");
}

patron_status patron_case_to_json(const patron_case *c, char **out, unsigned flags)
{
    patron_strbuf sb;
    if (!out)
        return PATRON_E_INVALID;
    *out = NULL;
    if (!c)
        return PATRON_E_INVALID;
    patron__sb_init(&sb);
    case_json(&sb, c, flags & PATRON_JSON_PRETTY);
    *out = patron__sb_detach(&sb, NULL);
    return *out ? PATRON_OK : PATRON_E_NOMEM;
}

patron_status patron_cases_to_json(const patron_cases *l, char **out, unsigned flags)
{
    patron_strbuf sb;
    if (!out)
        return PATRON_E_INVALID;
    *out = NULL;
    if (!l)
        return PATRON_E_INVALID;
    patron__sb_init(&sb);
    patron__sb_putc(&sb, '[');
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            patron__sb_putc(&sb, ',');
        case_json(&sb, &l->c[i], flags & PATRON_JSON_PRETTY);
    }
    patron__sb_putc(&sb, ']');
    *out = patron__sb_detach(&sb, NULL);
    return *out ? PATRON_OK : PATRON_E_NOMEM;
}

/* ---- reading ---------------------------------------------------------------- */

static patron_status need_meta(patron_db *db)
{
    if (!patron__st_has(db, PATRON__CAP_META))
        return patron__db_error(db, PATRON_E_UNSUPPORTED,
                                "this store keeps no named values (meta callbacks), so no review queue");
    return PATRON_OK;
}

patron_status patron_db_review_get(patron_db *db, patron_case **out, int64_t case_id)
{
    patron_case *c;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if ((st = need_meta(db)) != 0)
        return st;
    if (!(c = patron__calloc(1, sizeof *c)))
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if ((st = patron__tx_begin_read(db)) != 0) {
        patron__free(c);
        return st;
    }
    st = patron__tx_end(db, case_id > 0 ? patron__case_read(db, c, case_id)
                                        : patron__db_error(db, PATRON_E_NOT_FOUND, "there is no case %lld",
                                                           (long long)case_id));
    if (st) {
        patron_case_free(c);
        return st;
    }
    *out = c;
    return patron__db_ok(db);
}

/* Every case (all states), read inside a transaction. */
typedef struct case_set {
    patron_case *c;
    size_t n, cap;
    patron_status st;
    patron_db *db;
    unsigned states; /* keep only these */
} case_set;

static int take_case(void *ctx, const char *key, const char *value)
{
    case_set *s = ctx;
    const char *digits = key + strlen(PATRON__REVIEW_CASE);
    char *end;
    long long id = strtoll(digits, &end, 10);
    patron_status st;
    if (strncmp(key, PATRON__REVIEW_CASE, strlen(PATRON__REVIEW_CASE)) != 0 || *end || id <= 0 ||
        strlen(digits) != 20) {
        s->st = patron__db_error(s->db, PATRON_E_STORE, "corrupt review entry under key '%.80s'", key);
        return 1;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        patron_case *n = patron__realloc(s->c, nc * sizeof *n);
        if (!n) {
            s->st = patron__db_error(s->db, PATRON_E_NOMEM, "out of memory");
            return 1;
        }
        s->c = n;
        s->cap = nc;
    }
    st = patron__case_decode(&s->c[s->n], (int64_t)id, value);
    if (st == PATRON_E_STORE) {
        s->st = patron__db_error(s->db, st, "corrupt case %lld: the store gave bytes that are not a case", id);
        return 1;
    }
    if (st) {
        s->st = patron__db_error(s->db, st, "out of memory");
        return 1;
    }
    if (!(s->states & (1u << (unsigned)s->c[s->n].state)))
        patron__case_clear(&s->c[s->n]);
    else
        s->n++;
    return 0;
}

static void case_set_free(case_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        patron__case_clear(&s->c[i]);
    patron__free(s->c);
    s->c = NULL;
    s->n = s->cap = 0;
}

static patron_status read_cases(patron_db *db, case_set *s, unsigned states)
{
    patron_status st;
    memset(s, 0, sizeof *s);
    s->db = db;
    s->states = states;
    st = patron__st_meta_scan(db, PATRON__REVIEW_CASE, take_case, s);
    if (!st)
        st = s->st;
    if (st)
        case_set_free(s);
    return st;
}

static int cmp_best(const void *x, const void *y)
{
    const patron_case *a = x, *b = y;
    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    return (a->id > b->id) - (a->id < b->id);
}

patron_status patron_db_review_list(patron_db *db, patron_cases **out, unsigned states)
{
    case_set s;
    patron_cases *l;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if ((states & PATRON_REVIEW_ALL) == 0)
        return patron__db_error(db, PATRON_E_INVALID, "no case state asked for");
    if ((st = need_meta(db)) != 0)
        return st;
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    if ((st = patron__tx_end(db, read_cases(db, &s, states))) != 0)
        return st;
    if (!(l = patron__calloc(1, sizeof *l))) {
        case_set_free(&s);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    if (s.n > 1)
        qsort(s.c, s.n, sizeof *s.c, cmp_best);
    l->c = s.c;
    l->n = s.n;
    *out = l;
    return patron__db_ok(db);
}

size_t patron_cases_count(const patron_cases *l)
{
    return l ? l->n : 0;
}

const patron_case *patron_cases_at(const patron_cases *l, size_t i)
{
    return l && i < l->n ? &l->c[i] : NULL;
}

void patron_cases_free(patron_cases *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        patron__case_clear(&l->c[i]);
    patron__free(l->c);
    patron__free(l);
}

/* ---- fingerprints of members -------------------------------------------------- */

/* The fingerprint of customer `id` as stored now.  *gone: it no longer
 * exists or was merged away (then fp is "").  `rec` (may be NULL) gets the
 * record as the matcher sees it (the caller frees it; untouched when gone). */
static patron_status member_rec(patron_db *db, char fp[PATRON__FP_LEN + 1], bool *gone, patron__match_rec *rec,
                                int64_t id)
{
    patron_customer *c = NULL;
    patron__match_rec r;
    patron_status st = patron__load_in_tx(db, &c, id);
    fp[0] = '\0';
    *gone = false;
    if (st == PATRON_E_NOT_FOUND) {
        *gone = true;
        return PATRON_OK;
    }
    if (st)
        return st;
    if (patron_customer_state(c) == PATRON_STATE_MERGED || patron_customer_state(c) == PATRON_STATE_ERASED) {
        *gone = true;
        patron_customer_free(c);
        return PATRON_OK;
    }
    if (patron__cust_match_rec_cfg(&r, c, db->match_cfg) != 0) {
        patron_customer_free(c);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    patron__fingerprint(fp, &r);
    if (rec)
        *rec = r;
    else
        patron__match_rec_free(&r);
    patron_customer_free(c);
    return PATRON_OK;
}

static patron_status member_fp(patron_db *db, char fp[PATRON__FP_LEN + 1], bool *gone, int64_t id)
{
    return member_rec(db, fp, gone, NULL, id);
}

/* What changed of member `id` of case `c`: the fields whose fingerprints
 * differ, with the value the case's explanation shows and the value now
 * ("email jm@firma.example -> juergen@example.de"). */
static void describe_change(patron_strbuf *sb, const patron_case *c, int64_t id, const char *old_fp,
                            const char *new_fp, const patron__match_rec *r)
{
    bool first = true;
    for (int k = 0; k < PATRON__FP_FIELDS; k++) {
        const char *name = patron__fp_field[k], *was = NULL, *now = NULL;
        char birth[16];
        if (memcmp(old_fp + 8 * k, new_fp + 8 * k, 8) == 0)
            continue;
        switch (k) {
        case 0: now = r->first; break;
        case 1: now = r->last; break;
        case 2: now = r->company; break;
        case 3: now = r->email; break;
        case 4: now = r->phone; break;
        case 5:
            if (r->birth)
                snprintf(birth, sizeof birth, "%04u-%02u-%02u", (unsigned)(r->birth / 10000),
                         (unsigned)(r->birth / 100 % 100), (unsigned)(r->birth % 100));
            else
                birth[0] = '\0';
            now = birth;
            break;
        default: break;
        }
        for (size_t i = 0; now && !was && i < c->np; i++)
            for (size_t f = 0; f < c->p[i].nf && !was; f++)
                if (strcmp(c->p[i].f[f].name, name) == 0 && (c->p[i].a == id || c->p[i].b == id))
                    was = c->p[i].a == id ? c->p[i].f[f].a : c->p[i].f[f].b;
        patron__sb_printf(sb, "%s%s", first ? "" : ", ", name);
        if (now && was)
            patron__sb_printf(sb, " %.80s -> %.80s", *was ? was : "(none)", *now ? now : "(none)");
        first = false;
    }
}

/* ---- decisions ------------------------------------------------------------ */

static patron_status check_line(patron_db *db, const char *what, const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 200)
        return patron__db_error(db, PATRON_E_INVALID, "%s must be 1 to 200 bytes", what);
    if (patron__utf8_check(v, n) != 0)
        return patron__db_error(db, PATRON_E_INVALID, "%s is not valid UTF-8", what);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return patron__db_error(db, PATRON_E_INVALID, "%s must be one line without control characters",
                                    what);
    return PATRON_OK;
}

static patron_status set_text(patron_db *db, char **slot, const char *v)
{
    char *n = NULL;
    if (v && !(n = patron__strdup(v)))
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    patron__free(*slot);
    *slot = n;
    return PATRON_OK;
}

static patron_status decide_in_tx(patron_db *db, int64_t case_id, int state, const char *who, const char *note)
{
    patron_case c;
    int64_t now = (int64_t)time(NULL);
    patron_status st = patron__match_config_load(db);
    if (st)
        return st;
    if ((st = patron__case_read(db, &c, case_id)) != 0)
        return st;
    if (c.state == PATRON_CASE_MERGED)
        st = patron__db_error(db, PATRON_E_STATE,
                              "case %lld was merged (journal entry %lld); undo the merge to reopen it",
                              (long long)case_id, (long long)c.journal);
    if (!st && patron__case_suppresses(c.state))
        st = patron__case_index(db, &c, false);
    for (size_t i = 0; i < c.nm && !st; i++) {
        bool gone = false;
        if (state == PATRON_CASE_OPEN) {
            c.m[i].fp[0] = '\0';
            continue;
        }
        st = member_fp(db, c.m[i].fp, &gone, c.m[i].id);
        if (!st && gone)
            st = patron__db_error(db, PATRON_E_STATE,
                                  "customer #%lld of case %lld no longer exists or was merged; scan again",
                                  (long long)c.m[i].id, (long long)case_id);
    }
    if (!st)
        st = set_text(db, &c.by, who);
    if (!st)
        st = set_text(db, &c.note, note);
    if (!st)
        st = set_text(db, &c.change, NULL);
    if (!st) {
        c.state = state;
        c.decided_at = now;
        c.updated = now;
        st = patron__case_write(db, &c);
    }
    if (!st && patron__case_suppresses(state))
        st = patron__case_index(db, &c, true);
    patron__case_clear(&c);
    return st;
}

patron_status patron_db_review_decide(patron_db *db, int64_t case_id, patron_case_state state, const char *who,
                                      const char *note)
{
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (state == PATRON_CASE_MERGED)
        return patron__db_error(db, PATRON_E_INVALID, "a case is merged with patron_db_review_merge()");
    if (!patron_case_state_name(state))
        return patron__db_error(db, PATRON_E_INVALID, "unknown case state %d", (int)state);
    if (!who)
        return patron__db_error(db, PATRON_E_INVALID, "who decides must be given");
    if ((st = check_line(db, "who decides", who)) != 0)
        return st;
    if (note && *note && (st = check_line(db, "the note", note)) != 0)
        return st;
    if ((st = need_meta(db)) != 0)
        return st;
    if ((st = patron__tx_begin(db)) != 0)
        return st;
    st = patron__tx_end(db, decide_in_tx(db, case_id, (int)state, who, note && *note ? note : NULL));
    return st ? st : patron__db_ok(db);
}

/* ---- merging through the queue ------------------------------------------------- */

/* The default plan of a case (inside a transaction). */
static patron_status case_plan(patron_db *db, patron_merge_plan **out, const patron_case *c, int policy)
{
    int64_t survivor = 0, *dups;
    size_t nd = 0;
    patron_status st = PATRON_OK;
    for (size_t i = 0; i < c->nm && !st; i++) {
        patron_customer *r = NULL;
        st = patron__load_in_tx(db, &r, c->m[i].id);
        if (!st && patron_customer_state(r) == PATRON_STATE_MERGED)
            st = patron__db_error(db, PATRON_E_STATE, "customer #%lld of case %lld was merged away",
                                  (long long)c->m[i].id, (long long)c->id);
        if (!st && patron_customer_state(r) == PATRON_STATE_ERASED)
            st = patron__db_error(db, PATRON_E_STATE, "customer #%lld of case %lld was erased",
                                  (long long)c->m[i].id, (long long)c->id);
        if (!st && !survivor && patron_customer_state(r) == PATRON_STATE_ACTIVE)
            survivor = c->m[i].id;
        patron_customer_free(r);
    }
    if (st)
        return st;
    if (!survivor)
        survivor = c->m[0].id;
    if (!(dups = patron__malloc(c->nm * sizeof *dups)))
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    for (size_t i = 0; i < c->nm; i++)
        if (c->m[i].id != survivor)
            dups[nd++] = c->m[i].id;
    st = patron__plan_new_in_tx(db, out, survivor, dups, nd, policy);
    patron__free(dups);
    return st;
}

patron_status patron_db_review_plan(patron_db *db, patron_merge_plan **out, int64_t case_id,
                                    patron_merge_policy policy)
{
    patron_case c;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if ((st = need_meta(db)) != 0)
        return st;
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    st = patron__case_read(db, &c, case_id);
    if (!st && c.state == PATRON_CASE_MERGED)
        st = patron__db_error(db, PATRON_E_STATE, "case %lld was merged already", (long long)case_id);
    if (!st)
        st = case_plan(db, out, &c, (int)policy);
    patron__case_clear(&c);
    st = patron__tx_end(db, st);
    if (st) {
        patron_merge_plan_free(*out);
        *out = NULL;
        return st;
    }
    return patron__db_ok(db);
}

/* A plan for some of the case's members: the others leave the case with
 * their pairs (the next scan proposes them again, beside the survivor). */
static patron_status keep_only(patron_db *db, patron_case *c, const patron_merge_plan *p)
{
    size_t n = patron_merge_plan_count(p), km = 0, kp = 0;
    for (size_t i = 0; i < c->nm; i++) {
        bool in = false;
        for (size_t k = 0; k < n && !in; k++)
            in = patron_customer_id(patron_merge_plan_record(p, k)) == c->m[i].id;
        if (in)
            c->m[km++] = c->m[i];
    }
    c->nm = km;
    for (size_t i = 0; i < c->np; i++) {
        if (patron__case_has(c, c->p[i].a) && patron__case_has(c, c->p[i].b)) {
            c->p[kp++] = c->p[i];
            continue;
        }
        for (size_t k = 0; k < c->p[i].nf; k++) {
            patron__free(c->p[i].f[k].name);
            patron__free(c->p[i].f[k].level);
            patron__free(c->p[i].f[k].a);
            patron__free(c->p[i].f[k].b);
        }
        patron__free(c->p[i].f);
    }
    c->np = kp;
    if (kp == 0) /* the plan joins members no pair of the case ties together: no label */
        return patron__db_error(db, PATRON_E_INVALID,
                                "no pair of case %lld lies between the plan's customers; merge them with "
                                "patron_db_merge()", (long long)c->id);
    c->score = c->p[0].score;
    c->verdict = PATRON_DECISION_REVIEW;
    for (size_t i = 0; i < kp; i++)
        if (c->p[i].decision == PATRON_DECISION_MERGE)
            c->verdict = PATRON_DECISION_MERGE;
    return PATRON_OK;
}

static patron_status merge_in_tx(patron_db *db, int64_t *jid, int64_t case_id, patron_merge_plan *given,
                                 const char *who)
{
    patron_case c;
    patron_merge_plan *own = NULL, *p = given;
    int64_t now = (int64_t)time(NULL);
    char key[64], val[32];
    patron_status st = patron__case_read(db, &c, case_id);
    if (st)
        return st;
    if (c.state == PATRON_CASE_MERGED)
        st = patron__db_error(db, PATRON_E_STATE, "case %lld was merged already (journal entry %lld)",
                              (long long)case_id, (long long)c.journal);
    if (!st && !p) {
        st = case_plan(db, &own, &c, PATRON_MERGE_SURVIVOR);
        p = own;
    } else if (!st) { /* the plan's records must be members of the case */
        size_t n = patron_merge_plan_count(p);
        for (size_t k = 0; k < n && !st; k++) {
            int64_t id = patron_customer_id(patron_merge_plan_record(p, k));
            if (!patron__case_has(&c, id))
                st = patron__db_error(db, PATRON_E_INVALID, "customer #%lld of the plan is not in case %lld",
                                      (long long)id, (long long)case_id);
        }
        if (!st && n < c.nm)
            st = keep_only(db, &c, p);
    }
    if (!st)
        st = patron__merge_in_tx(db, p, jid);
    if (!st && patron__case_suppresses(c.state))
        st = patron__case_index(db, &c, false);
    if (!st)
        st = set_text(db, &c.by, who);
    if (!st)
        st = set_text(db, &c.change, NULL);
    if (!st) {
        c.state = PATRON_CASE_MERGED;
        c.journal = *jid;
        c.decided_at = now;
        c.updated = now;
        for (size_t i = 0; i < c.nm; i++)
            c.m[i].fp[0] = '\0';
        st = patron__case_write(db, &c);
    }
    if (!st) {
        patron__review_key(key, sizeof key, PATRON__REVIEW_JOURNAL, *jid);
        snprintf(val, sizeof val, "%lld", (long long)case_id);
        st = patron__st_meta_put(db, key, val);
    }
    patron_merge_plan_free(own);
    patron__case_clear(&c);
    return st;
}

patron_status patron_db_review_merge(patron_db *db, int64_t *journal_id_out, int64_t case_id,
                                     patron_merge_plan *plan, const char *who)
{
    int64_t jid = 0;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (journal_id_out)
        *journal_id_out = 0;
    if (!who)
        return patron__db_error(db, PATRON_E_INVALID, "who decides must be given");
    if ((st = check_line(db, "who decides", who)) != 0)
        return st;
    if ((st = need_meta(db)) != 0)
        return st;
    if (!patron__st_has(db, PATRON__CAP_JOURNAL))
        return patron__db_error(db, PATRON_E_UNSUPPORTED,
                                "this store keeps no journal, so a merge could not be undone");
    if ((st = patron__tx_begin(db)) != 0)
        return st;
    st = patron__tx_end(db, merge_in_tx(db, &jid, case_id, plan, who));
    if (st)
        return st;
    if (journal_id_out)
        *journal_id_out = jid;
    return patron__db_ok(db);
}

/* ---- scanning ----------------------------------------------------------------- */

typedef struct pairvec {
    patron__case_pair *p;
    size_t n, cap;
} pairvec;

static void pair_free_fields(patron__case_pair *p)
{
    for (size_t k = 0; k < p->nf; k++) {
        patron__free(p->f[k].name);
        patron__free(p->f[k].level);
        patron__free(p->f[k].a);
        patron__free(p->f[k].b);
    }
    patron__free(p->f);
    p->f = NULL;
    p->nf = 0;
}

static void pairvec_free(pairvec *v)
{
    for (size_t i = 0; i < v->n; i++)
        pair_free_fields(&v->p[i]);
    patron__free(v->p);
    memset(v, 0, sizeof *v);
}

static bool pairvec_push(pairvec *v, const patron__case_pair *p)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 64;
        patron__case_pair *n = patron__realloc(v->p, nc * sizeof *n);
        if (!n)
            return false;
        v->p = n;
        v->cap = nc;
    }
    v->p[v->n++] = *p;
    return true;
}

static bool in_ids(const patron__idvec *v, int64_t id)
{
    return v->n && bsearch(&id, v->v, v->n, sizeof *v->v, patron__cmp_i64) != NULL;
}

/* Both in one deferred case: the scan leaves that case alone. */
static bool deferred_pair(const case_set *cs, int64_t a, int64_t b)
{
    for (size_t i = 0; i < cs->n; i++)
        if (cs->c[i].state == PATRON_CASE_DEFERRED && patron__case_has(&cs->c[i], a) &&
            patron__case_has(&cs->c[i], b))
            return true;
    return false;
}

/* The pairs of customer `id` as the matcher sees them now. */
static patron_status match_one(patron_db *db, pairvec *out, const case_set *cs, int64_t id, bool *matched)
{
    patron_customer *c = NULL;
    patron_matches *m = NULL;
    patron_status st = patron__load_in_tx(db, &c, id);
    *matched = false;
    if (st == PATRON_E_NOT_FOUND)
        return PATRON_OK;
    if (st)
        return st;
    if (patron_customer_state(c) == PATRON_STATE_MERGED || patron_customer_state(c) == PATRON_STATE_ERASED) {
        patron_customer_free(c);
        return PATRON_OK;
    }
    *matched = true;
    st = patron__candidates_in_tx(db, &m, c, PATRON_MATCH_FIELDS, false, true);
    for (size_t i = 0; !st && i < patron_matches_count(m); i++) {
        patron__case_pair p;
        patron_match_detail d = PATRON_MATCH_DETAIL_INIT;
        int64_t other;
        size_t nf = patron_matches_field_count(m);
        bool swap;
        memset(&p, 0, sizeof p);
        patron_matches_get(m, &other, &p.score, NULL, i);
        patron_matches_detail(m, &d, i);
        if (d.decision != PATRON_DECISION_MERGE && d.decision != PATRON_DECISION_REVIEW)
            continue;
        swap = other < id;
        p.a = swap ? other : id;
        p.b = swap ? id : other;
        p.decision = d.decision;
        if (deferred_pair(cs, p.a, p.b))
            continue;
        if (nf && !(p.f = patron__calloc(nf + 1, sizeof *p.f))) {
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
            break;
        }
        for (size_t k = 0; k < nf && !st; k++) {
            const char *name, *va, *vb, *level;
            double w;
            patron__case_field *f = &p.f[p.nf++];
            patron_matches_explain(m, &name, &va, &vb, &level, &w, i, k);
            f->name = patron__strdup(name);
            f->level = patron__strdup(level);
            f->a = patron__strdup(swap ? vb : va);
            f->b = patron__strdup(swap ? va : vb);
            f->weight = w;
            if (!f->name || !f->level || !f->a || !f->b)
                st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        }
        if (!st && d.rule && *d.rule) { /* the safety rule, as a field of its own */
            patron__case_field *f = &p.f[p.nf++];
            f->name = patron__strdup("rule");
            f->level = patron__strdup(d.rule);
            f->a = patron__strdup("");
            f->b = patron__strdup("");
            if (!f->name || !f->level || !f->a || !f->b)
                st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        }
        if (!st && !pairvec_push(out, &p))
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        if (st)
            pair_free_fields(&p);
    }
    patron_matches_free(m);
    patron_customer_free(c);
    return st;
}

static int cmp_pair_ids(const void *x, const void *y)
{
    const patron__case_pair *p = x, *q = y;
    if (p->a != q->a)
        return (p->a > q->a) - (p->a < q->a);
    return (p->b > q->b) - (p->b < q->b);
}

static size_t uf_find(size_t *parent, size_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static size_t idx_of(const patron__idvec *v, int64_t id)
{
    const int64_t *p = bsearch(&id, v->v, v->n, sizeof *v->v, patron__cmp_i64);
    return p ? (size_t)(p - v->v) : (size_t)-1;
}

/* The reason in one line, from the best pair: its four heaviest fields. */
static char *reason_of(const patron__case_pair *p)
{
    patron_strbuf sb;
    bool used[MAX_REASON_FIELDS] = { false };
    const char *rule = NULL;
    patron__sb_init(&sb);
    for (int r = 0; r < 4; r++) {
        size_t best = (size_t)-1;
        for (size_t k = 0; k < p->nf && k < MAX_REASON_FIELDS; k++) {
            if (strcmp(p->f[k].name, "rule") == 0) {
                rule = p->f[k].level;
                continue;
            }
            if (!used[k] && p->f[k].weight != 0 &&
                (best == (size_t)-1 || absd(p->f[k].weight) > absd(p->f[best].weight)))
                best = k;
        }
        if (best == (size_t)-1)
            break;
        used[best] = true;
        patron__sb_printf(&sb, "%s%s %s %+.1f", r ? ", " : "", p->f[best].name, p->f[best].level,
                          p->f[best].weight);
    }
    if (rule)
        patron__sb_printf(&sb, "; rule %s", rule);
    return patron__sb_detach(&sb, NULL);
}

static int take_dirty(void *ctx, const char *key, const char *value)
{
    patron__idvec *v = ctx;
    const char *digits = key + strlen(PATRON__REVIEW_DIRTY);
    char *end;
    long long id;
    (void)value;
    if (strncmp(key, PATRON__REVIEW_DIRTY, strlen(PATRON__REVIEW_DIRTY)) != 0)
        return 0;
    id = strtoll(digits, &end, 10);
    if (*end || id <= 0)
        return 0; /* garbage: not a customer; removed with the rest below */
    return !patron__idvec_push(v, (int64_t)id);
}

/* Every customer id of the store. */
static patron_status all_ids(patron_db *db, patron__idvec *out)
{
    patron_filter all = PATRON_FILTER_INIT;
    patron__idpage *page = patron__malloc(sizeof *page);
    int64_t after = 0;
    patron_status st = PATRON_OK;
    if (!page)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    for (;;) {
        page->n = 0;
        if ((st = patron__st_scan(db, &all, after, PATRON__IDPAGE, patron__idpage_emit, page)) != 0)
            break;
        for (size_t i = 0; i < page->n; i++)
            patron__idvec_push(out, page->ids[i]);
        if (out->oom) {
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
            break;
        }
        if (page->n < PATRON__IDPAGE)
            break;
        after = page->ids[page->n - 1];
    }
    patron__free(page);
    return st;
}

/* The dirty keys as they were read: removed once the scan has used them. */
typedef struct dirty_keys {
    char **k;
    size_t n, cap;
    bool oom;
} dirty_keys;

static int take_dirty_key(void *ctx, const char *key, const char *value)
{
    dirty_keys *d = ctx;
    (void)value;
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 64;
        char **n = patron__realloc(d->k, nc * sizeof *n);
        if (!n) {
            d->oom = true;
            return 1;
        }
        d->k = n;
        d->cap = nc;
    }
    if (!(d->k[d->n] = patron__strdup(key))) {
        d->oom = true;
        return 1;
    }
    d->n++;
    return 0;
}

static bool same_content(const patron_case *o, const patron_case *n)
{
    if (o->nm != n->nm || o->np != n->np || o->verdict != n->verdict)
        return false;
    for (size_t i = 0; i < o->nm; i++)
        if (o->m[i].id != n->m[i].id)
            return false;
    for (size_t i = 0; i < o->np; i++)
        if (o->p[i].a != n->p[i].a || o->p[i].b != n->p[i].b || o->p[i].decision != n->p[i].decision ||
            absd(o->p[i].score - n->p[i].score) > 1e-6)
            return false;
    return true;
}

typedef struct root_case {
    size_t root, k; /* component root, index into the case set */
} root_case;

static int cmp_root_case(const void *x, const void *y)
{
    const root_case *a = x, *b = y;
    if (a->root != b->root)
        return (a->root > b->root) - (a->root < b->root);
    return (a->k > b->k) - (a->k < b->k);
}

typedef struct pair_ref {
    size_t root, i;
    double score;
    int64_t a, b;
} pair_ref;

static int cmp_pair_ref(const void *x, const void *y)
{
    const pair_ref *p = x, *q = y;
    if (p->root != q->root)
        return (p->root > q->root) - (p->root < q->root);
    if (p->score != q->score)
        return p->score < q->score ? 1 : -1;
    if (p->a != q->a)
        return (p->a > q->a) - (p->a < q->a);
    return (p->b > q->b) - (p->b < q->b);
}

typedef struct scan_state {
    patron_db *db;
    patron_review_scan_stats *stats;
    int64_t now, next;
    case_set cs;
    bool *affected, *claimed, *reopened;
    patron__idvec dirty, S, V;
    dirty_keys dk;
    pairvec pv;
    size_t *parent;
    root_case *rc;
    size_t nrc;
    pair_ref *pr;
    char fp[17]; /* the matcher's fingerprint (patron__match_config_fingerprint) */
} scan_state;

static void scan_free(scan_state *s)
{
    case_set_free(&s->cs);
    patron__free(s->affected);
    patron__free(s->claimed);
    patron__free(s->reopened);
    patron__idvec_free(&s->dirty);
    patron__idvec_free(&s->S);
    patron__idvec_free(&s->V);
    for (size_t i = 0; i < s->dk.n; i++)
        patron__free(s->dk.k[i]);
    patron__free(s->dk.k);
    pairvec_free(&s->pv);
    patron__free(s->parent);
    patron__free(s->rc);
    patron__free(s->pr);
}

/* Decided cases with a member that changed in a matched field: open again. */
static patron_status reopen_changed(scan_state *s, bool full)
{
    patron_db *db = s->db;
    patron_status st = PATRON_OK;
    for (size_t i = 0; i < s->cs.n && !st; i++) {
        patron_case *c = &s->cs.c[i];
        patron_strbuf chg;
        bool changed = false;
        if (c->state != PATRON_CASE_NOT_DUPLICATE && c->state != PATRON_CASE_HOUSEHOLD &&
            c->state != PATRON_CASE_DEFERRED)
            continue;
        patron__sb_init(&chg);
        for (size_t k = 0; k < c->nm && !st; k++) {
            char fp[PATRON__FP_LEN + 1];
            bool gone;
            patron__match_rec r;
            if (!c->m[k].fp[0] || (!full && !in_ids(&s->S, c->m[k].id)))
                continue;
            st = member_rec(db, fp, &gone, &r, c->m[k].id);
            if (st || gone)
                continue;
            if (strcmp(fp, c->m[k].fp) != 0) {
                patron__sb_printf(&chg, "%scustomer #%lld: ", changed ? "; " : "", (long long)c->m[k].id);
                describe_change(&chg, c, c->m[k].id, c->m[k].fp, fp, &r);
                changed = true;
            }
            patron__match_rec_free(&r);
        }
        if (!st && changed && chg.oom)
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        if (!st && changed && patron__case_suppresses(c->state))
            st = patron__case_index(db, c, false);
        if (!st && changed) {
            patron__free(c->change);
            c->change = patron__sb_detach(&chg, NULL);
            c->state = PATRON_CASE_OPEN;
            c->updated = s->now;
            for (size_t k = 0; k < c->nm; k++)
                c->m[k].fp[0] = '\0';
            s->reopened[i] = true;
            s->stats->reopened++;
        } else {
            patron__sb_free(&chg);
        }
    }
    return st;
}

/* Write the case of the component made of pairs pr[from, to). */
static patron_status make_case(scan_state *s, size_t from, size_t to)
{
    patron_db *db = s->db;
    patron_case nc;
    patron__idvec mem = PATRON__IDVEC_INIT;
    size_t root = s->pr[from].root, reuse = (size_t)-1, lo = 0, hi = s->nrc;
    patron_status st = PATRON_OK;
    bool write = true;
    memset(&nc, 0, sizeof nc);
    for (size_t i = from; i < to; i++) {
        patron__idvec_push(&mem, s->pr[i].a);
        patron__idvec_push(&mem, s->pr[i].b);
    }
    if (mem.oom) {
        patron__idvec_free(&mem);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    patron__idvec_sort_unique(&mem);
    /* the open cases it overlaps: the first unclaimed keeps its id */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->rc[mid].root < root)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < s->nrc && s->rc[lo].root == root; lo++)
        if (!s->claimed[s->rc[lo].k] &&
            (reuse == (size_t)-1 || s->cs.c[s->rc[lo].k].id < s->cs.c[reuse].id))
            reuse = s->rc[lo].k;
    nc.nm = mem.n;
    nc.np = to - from;
    nc.m = patron__calloc(mem.n, sizeof *nc.m);
    nc.p = patron__calloc(nc.np, sizeof *nc.p);
    if (!nc.m || !nc.p) {
        patron__free(nc.m);
        patron__free(nc.p);
        patron__idvec_free(&mem);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < mem.n; i++)
        nc.m[i].id = mem.v[i];
    patron__idvec_free(&mem);
    nc.verdict = PATRON_DECISION_REVIEW;
    for (size_t i = from; i < to; i++) {
        patron__case_pair *p = &s->pv.p[s->pr[i].i];
        nc.p[i - from] = *p;
        p->f = NULL; /* moved */
        p->nf = 0;
        if (i - from >= MAX_EXPLAINED)
            pair_free_fields(&nc.p[i - from]);
        if (nc.p[i - from].decision == PATRON_DECISION_MERGE)
            nc.verdict = PATRON_DECISION_MERGE;
    }
    nc.score = nc.p[0].score;
    nc.state = PATRON_CASE_OPEN;
    nc.updated = s->now;
    if (!(nc.reason = reason_of(&nc.p[0])))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st && reuse != (size_t)-1) {
        patron_case *o = &s->cs.c[reuse];
        s->claimed[reuse] = true;
        nc.id = o->id;
        nc.created = o->created;
        nc.decided_at = o->decided_at;
        nc.by = o->by, o->by = NULL;
        nc.note = o->note, o->note = NULL;
        nc.change = o->change, o->change = NULL;
        if (!s->reopened[reuse] && same_content(o, &nc)) {
            write = false;
        } else if (!s->reopened[reuse]) {
            s->stats->refreshed++;
        }
    } else if (!st) {
        nc.id = ++s->next;
        nc.created = s->now;
        s->stats->opened++;
    }
    if (!st && write)
        st = patron__case_write(db, &nc);
    patron__case_clear(&nc);
    return st;
}

static patron_status scan_in_tx(scan_state *s, bool full)
{
    patron_db *db = s->db;
    char *text = NULL;
    const char *fp = s->fp;
    patron_status st = patron__match_config_load(db);
    if (!st)
        st = patron__match_config_fingerprint(db, s->fp);
    if (st)
        return st;
    if (!full) {
        /* the last full scan's matcher: when the settings, the model or the
         * library changed since, every verdict may have changed */
        st = patron__meta_text(db, &text, PATRON__REVIEW_SCANNED);
        if (st == PATRON_E_NOT_FOUND || (!st && strcmp(text, fp) != 0))
            full = true, st = PATRON_OK;
        patron__free(text);
        text = NULL;
        if (st)
            return st;
    }
    s->stats->full = full;
    st = patron__meta_text(db, &text, PATRON__REVIEW_NEXT);
    if (st == PATRON_E_NOT_FOUND) {
        st = PATRON_OK;
    } else if (!st) {
        char *end;
        long long v = strtoll(text, &end, 10);
        s->next = *end || v < 0 ? 0 : (int64_t)v;
    }
    patron__free(text);
    if (st)
        return st;
    if ((st = read_cases(db, &s->cs, PATRON_REVIEW_ALL)) != 0)
        return st;
    for (size_t i = 0; i < s->cs.n; i++)
        if (s->cs.c[i].id > s->next)
            s->next = s->cs.c[i].id; /* never give an id twice, whatever the counter says */
    s->affected = patron__calloc(s->cs.n + 1, sizeof *s->affected);
    s->claimed = patron__calloc(s->cs.n + 1, sizeof *s->claimed);
    s->reopened = patron__calloc(s->cs.n + 1, sizeof *s->reopened);
    if (!s->affected || !s->claimed || !s->reopened)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    /* who changed since the last scan */
    st = patron__st_meta_scan(db, PATRON__REVIEW_DIRTY, take_dirty_key, &s->dk);
    if (!st && s->dk.oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    for (size_t i = 0; i < s->dk.n && !st; i++)
        if (take_dirty(&s->dirty, s->dk.k[i], NULL))
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (st)
        return st;
    patron__idvec_sort_unique(&s->dirty);
    if (full) {
        st = all_ids(db, &s->S);
    } else {
        for (size_t i = 0; i < s->dirty.n; i++)
            patron__idvec_push(&s->S, s->dirty.v[i]);
        if (s->S.oom)
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    if (st)
        return st;
    patron__idvec_sort_unique(&s->S);
    if ((st = reopen_changed(s, full)) != 0)
        return st;
    /* the pairs of the customers looked at */
    for (size_t i = 0; i < s->S.n && !st; i++) {
        bool matched;
        st = match_one(db, &s->pv, &s->cs, s->S.v[i], &matched);
        s->stats->customers += matched;
    }
    if (st)
        return st;
    /* open cases they (or their new partners) are in: the pairs that do
     * not involve the customers looked at stay as they were */
    for (size_t i = 0; i < s->pv.n; i++) {
        patron__idvec_push(&s->V, s->pv.p[i].a);
        patron__idvec_push(&s->V, s->pv.p[i].b);
    }
    if (s->V.oom)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    patron__idvec_sort_unique(&s->V);
    for (size_t i = 0; i < s->cs.n && !st; i++) {
        patron_case *c = &s->cs.c[i];
        if (c->state != PATRON_CASE_OPEN)
            continue;
        for (size_t k = 0; k < c->nm && !s->affected[i]; k++)
            s->affected[i] = full || in_ids(&s->S, c->m[k].id) || in_ids(&s->V, c->m[k].id);
        if (!s->affected[i] || full)
            continue;
        for (size_t j = 0; j < c->np && !st; j++) {
            patron__case_pair *p = &c->p[j];
            if (in_ids(&s->S, p->a) || in_ids(&s->S, p->b) || deferred_pair(&s->cs, p->a, p->b))
                continue;
            if (!pairvec_push(&s->pv, p))
                st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
            else
                p->f = NULL, p->nf = 0; /* moved */
        }
    }
    if (st)
        return st;
    /* one of each pair (both ends may have found it) */
    if (s->pv.n > 1) {
        size_t k = 0;
        qsort(s->pv.p, s->pv.n, sizeof *s->pv.p, cmp_pair_ids);
        for (size_t i = 0; i < s->pv.n; i++) {
            if (k && s->pv.p[k - 1].a == s->pv.p[i].a && s->pv.p[k - 1].b == s->pv.p[i].b) {
                pair_free_fields(&s->pv.p[i]);
                continue;
            }
            s->pv.p[k++] = s->pv.p[i];
        }
        s->pv.n = k;
    }
    s->stats->pairs = s->pv.n;
    /* clusters: union-find over the pairs */
    s->V.n = 0;
    for (size_t i = 0; i < s->pv.n; i++) {
        patron__idvec_push(&s->V, s->pv.p[i].a);
        patron__idvec_push(&s->V, s->pv.p[i].b);
    }
    if (s->V.oom)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    patron__idvec_sort_unique(&s->V);
    s->parent = patron__malloc((s->V.n + 1) * sizeof *s->parent);
    s->pr = patron__malloc((s->pv.n + 1) * sizeof *s->pr);
    if (!s->parent || !s->pr)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    for (size_t i = 0; i < s->V.n; i++)
        s->parent[i] = i;
    for (size_t i = 0; i < s->pv.n; i++) {
        size_t x = uf_find(s->parent, idx_of(&s->V, s->pv.p[i].a)),
               y = uf_find(s->parent, idx_of(&s->V, s->pv.p[i].b));
        if (x != y)
            s->parent[x > y ? x : y] = x < y ? x : y;
    }
    for (size_t i = 0; i < s->pv.n; i++)
        s->pr[i] = (pair_ref){ uf_find(s->parent, idx_of(&s->V, s->pv.p[i].a)), i, s->pv.p[i].score,
                               s->pv.p[i].a, s->pv.p[i].b };
    qsort(s->pr, s->pv.n, sizeof *s->pr, cmp_pair_ref);
    /* which components the affected open cases overlap */
    {
        size_t n = 0;
        for (size_t i = 0; i < s->cs.n; i++)
            if (s->affected[i])
                n += s->cs.c[i].nm;
        if (!(s->rc = patron__malloc((n + 1) * sizeof *s->rc)))
            return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        for (size_t i = 0; i < s->cs.n; i++)
            for (size_t k = 0; s->affected[i] && k < s->cs.c[i].nm; k++) {
                size_t x = s->V.n ? idx_of(&s->V, s->cs.c[i].m[k].id) : (size_t)-1;
                if (x != (size_t)-1)
                    s->rc[s->nrc++] = (root_case){ uf_find(s->parent, x), i };
            }
        qsort(s->rc, s->nrc, sizeof *s->rc, cmp_root_case);
    }
    for (size_t from = 0; from < s->pv.n && !st;) {
        size_t to = from + 1;
        while (to < s->pv.n && s->pr[to].root == s->pr[from].root)
            to++;
        st = make_case(s, from, to);
        from = to;
    }
    /* affected open cases no component took: their pairs no longer match */
    for (size_t i = 0; i < s->cs.n && !st; i++) {
        char key[64];
        if (!s->affected[i] || s->claimed[i])
            continue;
        patron__review_key(key, sizeof key, PATRON__REVIEW_CASE, s->cs.c[i].id);
        st = patron__st_meta_put(db, key, NULL);
        s->stats->closed++;
    }
    for (size_t i = 0; i < s->cs.n; i++)
        if (s->cs.c[i].state == PATRON_CASE_OPEN && (!s->affected[i] || s->claimed[i]))
            s->stats->open++;
    s->stats->open += s->stats->opened;
    /* the marks are used up */
    for (size_t i = 0; i < s->dk.n && !st; i++)
        st = patron__st_meta_put(db, s->dk.k[i], NULL);
    if (!st && full)
        st = patron__st_meta_put(db, PATRON__REVIEW_SCANNED, s->fp);
    if (!st && s->stats->opened) {
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)s->next);
        st = patron__st_meta_put(db, PATRON__REVIEW_NEXT, v);
    }
    return st;
}

patron_status patron_db_review_scan(patron_db *db, patron_review_scan_stats *stats_out,
                                    const patron_review_scan_options *opts)
{
    patron_review_scan_options o = PATRON_REVIEW_SCAN_OPTIONS_INIT;
    patron_review_scan_stats stats = PATRON_REVIEW_SCAN_STATS_INIT;
    scan_state s;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (opts) {
        if (opts->version < 1 || opts->version > PATRON_REVIEW_SCAN_OPTIONS_VERSION)
            return patron__db_error(db, PATRON_E_ABI, "unknown version %u of patron_review_scan_options",
                                    opts->version);
        o.flags = opts->flags;
    }
    if (stats_out && (stats_out->version < 1 || stats_out->version > PATRON_REVIEW_SCAN_STATS_VERSION))
        return patron__db_error(db, PATRON_E_ABI, "unknown version %u of patron_review_scan_stats",
                                stats_out->version);
    if ((st = need_meta(db)) != 0)
        return st;
    memset(&s, 0, sizeof s);
    s.db = db;
    s.stats = &stats;
    s.now = (int64_t)time(NULL);
    if ((st = patron__tx_begin(db)) != 0)
        return st;
    st = patron__tx_end(db, scan_in_tx(&s, (o.flags & PATRON_REVIEW_SCAN_FULL) != 0));
    scan_free(&s);
    if (st)
        return st;
    if (stats_out)
        *stats_out = stats;
    return patron__db_ok(db);
}
