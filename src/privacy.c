/* patron — personal data requests: the export of a person and its erasure
 * (issue 16; include/patron/privacy.h).
 * SPDX-License-Identifier: MIT
 *
 * A person is a customer (the survivor) and every record merged into it:
 * merged records whose merged_into chain ends at the survivor.  They are
 * found by a scan of the merged records — an erasure or an export is rare,
 * and the store has no index from a survivor to its merged records.
 *
 * A journal entry is about the person when its customer is one of the
 * person's records, or when its payload names one: the "record <id>" lines
 * of a merge (its before-images) and the "restored <id>" lines of an undo.
 *
 * An erasure rewrites the payload of every such entry as
 *   patron-erased 1
 *   summary <the entry's summary, without personal values>
 *   erased-by <journal id of the erasure>
 * and undo refuses such an entry (merge.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* ---- the person's records ------------------------------------------------- */

typedef struct person {
    patron_customer *surv;      /* the survivor, as loaded */
    patron_customer **merged;   /* records merged into it, ascending ids */
    size_t n_merged;
    patron__idvec ids;          /* survivor and merged ids, ascending */
} person;

static void person_free(person *p)
{
    patron_customer_free(p->surv);
    for (size_t i = 0; i < p->n_merged; i++)
        patron_customer_free(p->merged[i]);
    patron__free(p->merged);
    patron__idvec_free(&p->ids);
    memset(p, 0, sizeof *p);
}

static bool person_has(const person *p, int64_t id)
{
    for (size_t i = 0; i < p->ids.n; i++)
        if (p->ids.v[i] == id)
            return true;
    return false;
}

static int64_t merged_into(const patron_customer *c)
{
    const char *into = patron_customer_get(c, PATRON_F_MERGED_INTO);
    return into ? strtoll(into, NULL, 10) : 0;
}

/* Does merged record `c` lead to `sid`?  *out 1/0. */
static patron_status leads_to(patron_db *db, const patron_customer *c, int64_t sid, bool *out)
{
    int64_t next = merged_into(c);
    patron_status st = PATRON_OK;
    *out = false;
    for (int hops = 0; next > 0 && hops < 64 && !st; hops++) {
        patron_customer *r = NULL;
        if (next == sid) {
            *out = true;
            return PATRON_OK;
        }
        st = patron__load_in_tx(db, &r, next);
        if (st == PATRON_E_NOT_FOUND)
            return PATRON_OK; /* leads nowhere: not this person */
        if (!st)
            next = patron_customer_state(r) == PATRON_STATE_MERGED ? merged_into(r) : 0;
        patron_customer_free(r);
    }
    return st;
}

/* Load the person of record `id` (inside a transaction). */
static patron_status person_load(patron_db *db, person *p, int64_t id)
{
    patron__idvec merged = PATRON__IDVEC_INIT;
    patron_store_filter f = PATRON_FILTER_INIT;
    patron_status st;
    memset(p, 0, sizeof *p);
    if (id <= 0)
        return patron__db_error(db, PATRON_E_NOT_FOUND, "no customer with id %lld", (long long)id);
    if ((st = patron__resolve(db, &p->surv, id)) != 0)
        return st;
    f.state = PATRON_STATE_MERGED;
    st = patron__st_scan(db, &f, 0, SIZE_MAX, patron__idvec_emit, &merged);
    if (!st && merged.oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st && !patron__idvec_push(&p->ids, patron_customer_id(p->surv)))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    for (size_t i = 0; i < merged.n && !st; i++) {
        patron_customer *c = NULL;
        bool mine = false;
        if ((st = patron__load_in_tx(db, &c, merged.v[i])) != 0)
            break;
        if (patron_customer_state(c) == PATRON_STATE_MERGED)
            st = leads_to(db, c, patron_customer_id(p->surv), &mine);
        if (!st && mine) {
            patron_customer **nm = patron__realloc(p->merged, (p->n_merged + 1) * sizeof *nm);
            if (!nm || !patron__idvec_push(&p->ids, merged.v[i])) {
                if (nm)
                    p->merged = nm;
                st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
            } else {
                p->merged = nm;
                p->merged[p->n_merged++] = c;
                c = NULL;
            }
        }
        patron_customer_free(c);
    }
    patron__idvec_free(&merged);
    if (!st)
        patron__idvec_sort_unique(&p->ids);
    if (st)
        person_free(p);
    return st;
}

/* ---- journal entries about the person --------------------------------------- */

typedef struct jent {
    int64_t id, time, customer_id, undone_by;
    char *kind, *summary;
} jent;

typedef struct jscan {
    const person *p;
    jent *e;
    size_t n, cap;
    bool oom;
} jscan;

/* An id at the start of `s` (digits), or 0. */
static int64_t lead_id(const char *s)
{
    int64_t v = 0;
    if (*s < '0' || *s > '9')
        return 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* Does the payload name one of the person's records? */
static bool payload_names(const person *p, const char *payload)
{
    static const char *const tags[] = { "\nrecord ", "\nrestored " };
    for (size_t t = 0; t < 2 && payload; t++)
        for (const char *s = strstr(payload, tags[t]); s; s = strstr(s + 1, tags[t]))
            if (person_has(p, lead_id(s + strlen(tags[t]))))
                return true;
    return false;
}

static int take_entry(void *ctx, const patron_journal_entry *e)
{
    jscan *js = ctx;
    jent *n;
    if (!person_has(js->p, e->customer_id) && !payload_names(js->p, e->payload))
        return 0;
    if (js->n == js->cap) {
        size_t nc = js->cap ? js->cap * 2 : 8;
        jent *ne = patron__realloc(js->e, nc * sizeof *ne);
        if (!ne) {
            js->oom = true;
            return 1;
        }
        js->e = ne;
        js->cap = nc;
    }
    n = &js->e[js->n];
    n->id = e->id;
    n->time = e->time;
    n->customer_id = e->customer_id;
    n->undone_by = e->undone_by;
    n->kind = patron__strdup(e->kind ? e->kind : "");
    n->summary = patron__journal_summary(e->payload);
    if (!n->kind || !n->summary) {
        patron__free(n->kind);
        patron__free(n->summary);
        js->oom = true;
        return 1;
    }
    js->n++;
    return 0;
}

static void jscan_free(jscan *js)
{
    for (size_t i = 0; i < js->n; i++) {
        patron__free(js->e[i].kind);
        patron__free(js->e[i].summary);
    }
    patron__free(js->e);
    js->e = NULL;
    js->n = js->cap = 0;
}

static patron_status journal_about(patron_db *db, jscan *js, const person *p)
{
    patron_status st;
    memset(js, 0, sizeof *js);
    js->p = p;
    if (!patron__st_has(db, PATRON__CAP_JOURNAL_SCAN))
        return PATRON_OK;
    st = patron__st_journal_scan(db, 0, SIZE_MAX, take_entry, js);
    if (!st && js->oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (st)
        jscan_free(js);
    return st;
}

/* ---- review cases holding the person ---------------------------------------- */

typedef struct cscan {
    patron_case *c;
    size_t n, cap;
    const person *p;
    bool oom, bad;
    int64_t bad_id;
} cscan;

static int take_case(void *ctx, const char *key, const char *value)
{
    cscan *cs = ctx;
    const char *digits = key + strlen(PATRON__REVIEW_CASE);
    int64_t id = lead_id(digits);
    patron_case c;
    patron_status st;
    bool mine = false;
    if (id <= 0)
        return 0; /* not a case key */
    st = patron__case_decode(&c, id, value);
    if (st == PATRON_E_NOMEM) {
        cs->oom = true;
        return 1;
    }
    if (st) {
        cs->bad = true;
        cs->bad_id = id;
        return 1;
    }
    for (size_t i = 0; i < c.nm && !mine; i++)
        mine = person_has(cs->p, c.m[i].id);
    for (size_t i = 0; i < c.np && !mine; i++)
        mine = person_has(cs->p, c.p[i].a) || person_has(cs->p, c.p[i].b);
    if (!mine) {
        patron__case_clear(&c);
        return 0;
    }
    if (cs->n == cs->cap) {
        size_t nc = cs->cap ? cs->cap * 2 : 4;
        patron_case *nv = patron__realloc(cs->c, nc * sizeof *nv);
        if (!nv) {
            patron__case_clear(&c);
            cs->oom = true;
            return 1;
        }
        cs->c = nv;
        cs->cap = nc;
    }
    cs->c[cs->n++] = c;
    return 0;
}

static void cscan_free(cscan *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        patron__case_clear(&cs->c[i]);
    patron__free(cs->c);
    memset(cs, 0, sizeof *cs);
}

static patron_status cases_about(patron_db *db, cscan *cs, const person *p)
{
    patron_status st;
    memset(cs, 0, sizeof *cs);
    cs->p = p;
    if (!patron__st_has(db, PATRON__CAP_META))
        return PATRON_OK;
    st = patron__st_meta_scan(db, PATRON__REVIEW_CASE, take_case, cs);
    if (!st && cs->oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st && cs->bad)
        st = patron__db_error(db, PATRON_E_STORE, "corrupt case %lld: the store gave bytes that are not a case",
                              (long long)cs->bad_id);
    if (st)
        cscan_free(cs);
    return st;
}

/* ---- export --------------------------------------------------------------------- */

static void jkey(patron_strbuf *sb, bool pretty, int ind, bool *first, const char *k)
{
    if (!*first)
        patron__sb_putc(sb, ',');
    *first = false;
    if (pretty) {
        patron__sb_putc(sb, '\n');
        for (int i = 0; i < ind; i++)
            patron__sb_puts(sb, "  ");
    }
    patron__json_str(sb, k);
    patron__sb_puts(sb, pretty ? ": " : ":");
}

static void jstr_or_null(patron_strbuf *sb, const char *s)
{
    if (s)
        patron__json_str(sb, s);
    else
        patron__sb_puts(sb, "null");
}

static bool in_list(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static void export_json(patron_strbuf *sb, const person *p, const jscan *js, const cscan *cs,
                        unsigned flags)
{
    bool pretty = (flags & PATRON_JSON_PRETTY) != 0, first = true, f2;
    const patron_customer *c = p->surv;
    const char *nl = patron_customer_get(c, PATRON_F_NEWSLETTER);
    const char *seen[1024];
    size_t n_seen = 0;

    patron__sb_putc(sb, '{');
    jkey(sb, pretty, 1, &first, "schema_version");
    patron__sb_printf(sb, "%d", PATRON_PERSON_SCHEMA_VERSION);
    jkey(sb, pretty, 1, &first, "generator");
    patron__json_str(sb, "patron " PATRON_VERSION_STRING);
    jkey(sb, pretty, 1, &first, "exported_at");
    patron__sb_printf(sb, "%lld", (long long)time(NULL));
    jkey(sb, pretty, 1, &first, "customer");
    patron__json_customer(sb, c, flags, 1);

    jkey(sb, pretty, 1, &first, "consent");
    patron__sb_putc(sb, '{');
    f2 = true;
    jkey(sb, pretty, 2, &f2, "newsletter");
    patron__sb_puts(sb, !nl ? "null" : strcmp(nl, "1") == 0 ? "true" : "false");
    jkey(sb, pretty, 2, &f2, "changed_at");
    {
        const char *at = patron_customer_get(c, PATRON_F_NEWSLETTER_AT);
        if (at && lead_id(at) > 0 && at[strspn(at, "0123456789")] == '\0')
            patron__sb_puts(sb, at);
        else
            patron__sb_puts(sb, "null");
    }
    jkey(sb, pretty, 2, &f2, "source");
    jstr_or_null(sb, patron_customer_get(c, PATRON_F_NEWSLETTER_SOURCE));
    patron__sb_putc(sb, '}');

    jkey(sb, pretty, 1, &first, "aliases");
    patron__sb_putc(sb, '{');
    f2 = true;
    jkey(sb, pretty, 2, &f2, "numbers");
    patron__sb_putc(sb, '[');
    for (size_t i = 0, k = 0; i < p->n_merged; i++) {
        const char *num = patron_customer_get(p->merged[i], PATRON_F_NUMBER);
        if (!num)
            continue;
        if (k++)
            patron__sb_putc(sb, ',');
        patron__json_str(sb, num);
    }
    patron__sb_putc(sb, ']');
    jkey(sb, pretty, 2, &f2, "emails");
    patron__sb_putc(sb, '[');
    if (patron_customer_get(c, PATRON_F_EMAIL))
        seen[n_seen++] = patron_customer_get(c, PATRON_F_EMAIL);
    for (size_t i = 0, k = 0; i < p->n_merged; i++) {
        const char *em = patron_customer_get(p->merged[i], PATRON_F_EMAIL);
        if (!em || in_list(seen, n_seen, em))
            continue;
        if (n_seen < sizeof seen / sizeof seen[0])
            seen[n_seen++] = em;
        if (k++)
            patron__sb_putc(sb, ',');
        patron__json_str(sb, em);
    }
    patron__sb_putc(sb, ']');
    jkey(sb, pretty, 2, &f2, "external_refs");
    patron__sb_putc(sb, '[');
    for (size_t i = 0, k = 0; i < p->n_merged; i++) {
        const char *src = patron_customer_get(p->merged[i], PATRON_F_EXTERNAL_SOURCE);
        const char *eid = patron_customer_get(p->merged[i], PATRON_F_EXTERNAL_ID);
        if (!eid)
            continue;
        if (k++)
            patron__sb_putc(sb, ',');
        patron__sb_puts(sb, "{\"source\":");
        jstr_or_null(sb, src);
        patron__sb_puts(sb, ",\"id\":");
        patron__json_str(sb, eid);
        patron__sb_putc(sb, '}');
    }
    patron__sb_putc(sb, ']');
    patron__sb_putc(sb, '}');

    jkey(sb, pretty, 1, &first, "merged_records");
    patron__sb_putc(sb, '[');
    for (size_t i = 0; i < p->n_merged; i++) {
        bool f3 = true;
        if (i)
            patron__sb_putc(sb, ',');
        patron__sb_putc(sb, '{');
        jkey(sb, pretty, 3, &f3, "id");
        patron__sb_printf(sb, "%lld", (long long)patron_customer_id(p->merged[i]));
        jkey(sb, pretty, 3, &f3, "number");
        jstr_or_null(sb, patron_customer_get(p->merged[i], PATRON_F_NUMBER));
        jkey(sb, pretty, 3, &f3, "merged_into");
        patron__sb_printf(sb, "%lld", (long long)merged_into(p->merged[i]));
        jkey(sb, pretty, 3, &f3, "record");
        patron__json_customer(sb, p->merged[i], flags, 3);
        patron__sb_putc(sb, '}');
    }
    patron__sb_putc(sb, ']');

    jkey(sb, pretty, 1, &first, "journal");
    patron__sb_putc(sb, '[');
    for (size_t i = 0; i < js->n; i++) {
        const jent *e = &js->e[i];
        if (i)
            patron__sb_putc(sb, ',');
        patron__sb_printf(sb, "{\"id\":%lld,\"time\":%lld,\"kind\":", (long long)e->id, (long long)e->time);
        patron__json_str(sb, e->kind);
        patron__sb_printf(sb, ",\"customer_id\":%lld,\"undone_by\":%lld,\"summary\":",
                          (long long)e->customer_id, (long long)e->undone_by);
        patron__json_str(sb, e->summary);
        patron__sb_putc(sb, '}');
    }
    patron__sb_putc(sb, ']');

    jkey(sb, pretty, 1, &first, "review_cases");
    patron__sb_putc(sb, '[');
    for (size_t i = 0; i < cs->n; i++) {
        const patron_case *k = &cs->c[i];
        const char *sname = patron_case_state_name((patron_case_state)k->state);
        if (i)
            patron__sb_putc(sb, ',');
        patron__sb_printf(sb, "{\"id\":%lld,\"state\":", (long long)k->id);
        jstr_or_null(sb, sname);
        patron__sb_puts(sb, ",\"members\":[");
        for (size_t m = 0; m < k->nm; m++)
            patron__sb_printf(sb, "%s%lld", m ? "," : "", (long long)k->m[m].id);
        patron__sb_puts(sb, "]}");
    }
    patron__sb_putc(sb, ']');
    if (pretty)
        patron__sb_putc(sb, '\n');
    patron__sb_putc(sb, '}');
}

patron_status patron_db_export_person(patron_db *db, char **out, int64_t id, unsigned flags)
{
    person p;
    jscan js;
    cscan cs;
    patron_strbuf sb;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if (flags & ~(unsigned)PATRON_JSON_PRETTY)
        return patron__db_error(db, PATRON_E_INVALID, "unknown flags 0x%x", flags & ~(unsigned)PATRON_JSON_PRETTY);
    memset(&js, 0, sizeof js);
    memset(&cs, 0, sizeof cs);
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    st = person_load(db, &p, id);
    if (!st && (st = journal_about(db, &js, &p)) != 0)
        person_free(&p);
    if (!st && (st = cases_about(db, &cs, &p)) != 0) {
        jscan_free(&js);
        person_free(&p);
    }
    st = patron__tx_end(db, st);
    if (st) {
        jscan_free(&js);
        cscan_free(&cs);
        person_free(&p);
        return st;
    }
    patron__sb_init(&sb);
    export_json(&sb, &p, &js, &cs, flags);
    jscan_free(&js);
    cscan_free(&cs);
    person_free(&p);
    *out = patron__sb_detach(&sb, NULL);
    if (!*out)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    return patron__db_ok(db);
}

/* ---- erasure ------------------------------------------------------------------- */

/* What an erased record keeps: its identity and its place in the books. */
static const int KEEP[] = { PATRON_F_ID,         PATRON_F_NUMBER,          PATRON_F_STATE,
                            PATRON_F_EXTERNAL_SOURCE, PATRON_F_EXTERNAL_ID, PATRON_F_GROUP,
                            PATRON_F_CREATED_AT, PATRON_F_UPDATED_AT,      PATRON_F_REVISION,
                            PATRON_F_MERGED_INTO, PATRON_F_ERASED_AT };

/* Does the record still hold anything an erasure removes? */
static bool holds_personal(const patron_customer *c)
{
    if (c->n_addr || c->n_tags || c->n_props)
        return true;
    for (int f = 1; f < PATRON_F__END; f++) {
        bool kept = f == PATRON_F_LOCKED;
        for (size_t k = 0; k < sizeof KEEP / sizeof KEEP[0]; k++)
            kept |= KEEP[k] == f;
        if (!kept && c->f[f])
            return true;
    }
    return false;
}

/* Write `before` back with nothing but what KEEP lists; the survivor gets
 * state "erased".  Its keys follow (save.c: an erased record has only its
 * number and external reference, no match form). */
static patron_status scrub_record(patron_db *db, const patron_customer *before, bool survivor, int64_t now)
{
    patron_customer w;
    patron_status st = PATRON_OK;
    memset(&w, 0, sizeof w);
    for (size_t k = 0; k < sizeof KEEP / sizeof KEEP[0] && !st; k++)
        if (before->f[KEEP[k]] && patron__cust_put(&w, KEEP[k], before->f[KEEP[k]]))
            st = PATRON_E_NOMEM;
    if (!st && ((survivor && patron__cust_put(&w, PATRON_F_STATE, "erased")) ||
                patron__cust_put(&w, PATRON_F_LOCKED, "0") ||
                (!before->f[PATRON_F_ERASED_AT] && patron__cust_put_i64(&w, PATRON_F_ERASED_AT, now))))
        st = PATRON_E_NOMEM;
    if (st)
        st = patron__db_error(db, st, "out of memory");
    if (!st)
        st = patron__save_changed(db, &w, before, now);
    patron__cust_clear(&w);
    return st;
}

/* The summary an entry keeps after the erasure: ids, numbers and what
 * happened — a lock's reason (free text) goes. */
static void scrubbed_summary(patron_strbuf *sb, const jent *e)
{
    if (strcmp(e->kind, "lock") == 0)
        patron__sb_printf(sb, "locked #%lld (reason erased)", (long long)e->customer_id);
    else if (strcmp(e->kind, "merge") == 0 || strcmp(e->kind, "undo") == 0 || strcmp(e->kind, "unlock") == 0 ||
             strcmp(e->kind, "release") == 0 || strcmp(e->kind, "erase") == 0)
        patron__sb_puts(sb, e->summary);
    else
        patron__sb_printf(sb, "%s of #%lld (details erased)", e->kind, (long long)e->customer_id);
}

static patron_status scrub_journal(patron_db *db, const jscan *js, int64_t erase_jid)
{
    patron_status st = PATRON_OK;
    for (size_t i = 0; i < js->n && !st; i++) {
        patron_strbuf sb;
        if (js->e[i].id == erase_jid)
            continue;
        patron__sb_init(&sb);
        patron__sb_puts(&sb, "patron-erased 1\nsummary ");
        scrubbed_summary(&sb, &js->e[i]);
        patron__sb_printf(&sb, "\nerased-by %lld\n", (long long)erase_jid);
        if (sb.oom)
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        else
            st = patron__st_journal_rewrite(db, js->e[i].id, sb.buf);
        patron__sb_free(&sb);
        /* a queue merge of the person: its case link goes with it */
        if (!st && strcmp(js->e[i].kind, "merge") == 0 && patron__st_has(db, PATRON__CAP_META)) {
            char key[64];
            patron__review_key(key, sizeof key, PATRON__REVIEW_JOURNAL, js->e[i].id);
            st = patron__st_meta_put(db, key, NULL);
        }
    }
    return st;
}

/* Take the person out of a case: its members and pairs go; a case left with
 * fewer than two members goes altogether.  Free texts of the case (note,
 * change, reason) may name the person: they go too. */
static patron_status scrub_case(patron_db *db, patron_case *c, const person *p, int64_t now)
{
    char key[64];
    size_t nm = 0, np = 0;
    patron_status st = PATRON_OK;
    if (patron__case_suppresses(c->state))
        st = patron__case_index(db, c, false);
    for (size_t i = 0; i < c->nm; i++)
        if (!person_has(p, c->m[i].id))
            c->m[nm++] = c->m[i];
    c->nm = nm;
    for (size_t i = 0; i < c->np; i++) {
        patron__case_pair *pr = &c->p[i];
        if (person_has(p, pr->a) || person_has(p, pr->b)) {
            for (size_t k = 0; k < pr->nf; k++) {
                patron__free(pr->f[k].name);
                patron__free(pr->f[k].level);
                patron__free(pr->f[k].a);
                patron__free(pr->f[k].b);
            }
            patron__free(pr->f);
            continue;
        }
        c->p[np++] = *pr;
    }
    c->np = np;
    patron__free(c->note);
    patron__free(c->change);
    patron__free(c->reason);
    c->note = c->change = c->reason = NULL;
    c->updated = now;
    if (st)
        return st;
    if (c->nm < 2) {
        patron__review_key(key, sizeof key, PATRON__REVIEW_CASE, c->id);
        st = patron__st_meta_put(db, key, NULL);
        if (!st && c->journal) {
            patron__review_key(key, sizeof key, PATRON__REVIEW_JOURNAL, c->journal);
            st = patron__st_meta_put(db, key, NULL);
        }
        return st;
    }
    st = patron__case_write(db, c);
    if (!st && patron__case_suppresses(c->state))
        st = patron__case_index(db, c, true);
    return st;
}

/* reason / who: required one-line text of at most 1000 bytes. */
static patron_status check_line(patron_db *db, const char *what, const char *v)
{
    size_t n;
    if (!v || !*v)
        return patron__db_error(db, PATRON_E_INVALID, "no %s given: an erasure needs one", what);
    n = strlen(v);
    if (n > 1000)
        return patron__db_error(db, PATRON_E_INVALID, "the %s is longer than 1000 bytes", what);
    if (patron__utf8_check(v, n) != 0)
        return patron__db_error(db, PATRON_E_INVALID, "the %s is not valid UTF-8", what);
    for (const unsigned char *s = (const unsigned char *)v; *s; s++)
        if (*s < 0x20 || *s == 0x7F)
            return patron__db_error(db, PATRON_E_INVALID, "the %s must be one line of text", what);
    return PATRON_OK;
}

static patron_status erase_in_tx(patron_db *db, int64_t id, const char *reason, const char *who,
                                 int64_t *jid_out, bool *nothing_left)
{
    person p;
    jscan js;
    cscan cs;
    int64_t now = (int64_t)time(NULL), sid;
    patron_status st;
    memset(&js, 0, sizeof js);
    memset(&cs, 0, sizeof cs);
    *nothing_left = false;
    if ((st = person_load(db, &p, id)) != 0)
        return st;
    sid = patron_customer_id(p.surv);
    if (patron_customer_state(p.surv) == PATRON_STATE_ERASED) {
        bool any = false;
        for (size_t i = 0; i < p.n_merged; i++)
            any |= holds_personal(p.merged[i]);
        if (!any && !holds_personal(p.surv)) {
            *nothing_left = true; /* erased before: nothing to do but purge */
            person_free(&p);
            return PATRON_OK;
        }
    }
    if (!st)
        st = journal_about(db, &js, &p);
    if (!st)
        st = cases_about(db, &cs, &p);
    if (!st && patron__st_has(db, PATRON__CAP_JOURNAL_SCAN) && js.n &&
        !patron__st_has(db, PATRON__CAP_JOURNAL_REWRITE))
        st = patron__db_error(db, PATRON_E_UNSUPPORTED,
                              "the journal holds %zu entr%s about customer #%lld with its personal data, "
                              "and this store cannot rewrite journal entries (store.h version 5: "
                              "journal_rewrite)",
                              js.n, js.n == 1 ? "y" : "ies", (long long)sid);

    /* The records: the survivor, then each merged record. */
    if (!st)
        st = scrub_record(db, p.surv, true, now);
    for (size_t i = 0; i < p.n_merged && !st; i++)
        st = scrub_record(db, p.merged[i], false, now);

    /* The erasure itself, then the entries about the person point to it. */
    if (!st && patron__st_has(db, PATRON__CAP_JOURNAL)) {
        patron_journal_entry e;
        patron_strbuf sb;
        const char *num = patron_customer_get(p.surv, PATRON_F_NUMBER);
        patron__sb_init(&sb);
        patron__sb_printf(&sb, "patron-erase 1\nsummary erased #%lld %s", (long long)sid, num ? num : "(pending)");
        if (p.n_merged)
            patron__sb_printf(&sb, " and %zu merged record%s", p.n_merged, p.n_merged == 1 ? "" : "s");
        patron__sb_printf(&sb, ": %s (by %s)\nrecords", reason, who);
        for (size_t i = 0; i < p.ids.n; i++)
            patron__sb_printf(&sb, " %lld", (long long)p.ids.v[i]);
        patron__sb_putc(&sb, '\n');
        memset(&e, 0, sizeof e);
        e.time = now;
        e.kind = "erase";
        e.customer_id = sid;
        e.payload = sb.buf;
        if (sb.oom)
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        else
            st = patron__st_journal_append(db, &e, jid_out);
        patron__sb_free(&sb);
    }
    if (!st && js.n)
        st = scrub_journal(db, &js, *jid_out);
    for (size_t i = 0; i < cs.n && !st; i++)
        st = scrub_case(db, &cs.c[i], &p, now);
    jscan_free(&js);
    cscan_free(&cs);
    person_free(&p);
    return st;
}

patron_status patron_db_erase(patron_db *db, int64_t *journal_id_out, int64_t id, const char *reason,
                              const char *who)
{
    int64_t jid = 0;
    bool nothing_left = false;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (journal_id_out)
        *journal_id_out = 0;
    if ((st = check_line(db, "reason", reason)) != 0 || (st = check_line(db, "who", who)) != 0)
        return st;
    if ((st = patron__tx_begin(db)) != 0)
        return st;
    st = patron__tx_end(db, erase_in_tx(db, id, reason, who, &jid, &nothing_left));
    if (st)
        return st;
    if ((st = patron__st_purge(db)) != 0) {
        char why[sizeof db->errmsg];
        snprintf(why, sizeof why, "%s", db->errmsg);
        return patron__db_error(db, st,
                                "customer #%lld is erased (journal entry %lld), but the store could not "
                                "purge the old bytes: %s; call patron_db_erase again to retry",
                                (long long)id, (long long)jid, why);
    }
    if (journal_id_out)
        *journal_id_out = jid;
    (void)nothing_left;
    return patron__db_ok(db);
}
