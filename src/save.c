/* patron — records in the store: loading, keys, uniqueness, customer
 * numbers, and the one path every saved change takes.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "internal.h"

patron_status patron__keys_for(patron_db *db, keyset *ks, const patron_customer *c)
{
    /* Merged records keep only the keys that lead to their survivor; an
     * erased record only its number and external reference (its other
     * fields are empty), and no match form: it is never a candidate. */
    patron_state s = patron_customer_state(c);
    bool erased = s == PATRON_STATE_ERASED;
    patron_status st;
    PATRON__KEYSET_INIT(ks);
    /* The keys follow the store's default country, which another handle
     * may have changed since this one last read it: once per transaction. */
    if (db->cfg_tx != db->tx_serial && patron__st_has(db, PATRON__CAP_META)) {
        if ((st = patron__match_config_load(db)) != 0)
            return st;
        db->cfg_tx = db->tx_serial;
    }
    st = patron__keys_build(ks, c, s == PATRON_STATE_MERGED || erased, db->match_cfg->default_country,
                            !erased && patron__st_has(db, PATRON__CAP_MATCH_FORM));
    return st ? patron__db_error(db, st, "out of memory") : PATRON_OK;
}

/* ---- collecting ids ----------------------------------------------------- */

/* Ids under a key, at most 2 kept (enough to tell none / one / several). */
patron_status patron__lookup_few(patron_db *db, int kind, const char *value, int64_t ids[2],
                                size_t *total)
{
    patron__idcap ic = { ids, 2, 0, 0 };
    patron_status st = patron__st_lookup(db, kind, value, patron__idcap_emit, &ic);
    *total = ic.total;
    return st;
}

/* Refuse a key of `c` that another record (id != self) holds. */
static patron_status check_unique(patron_db *db, int kind, const char *value, int64_t self,
                                  const char *what)
{
    int64_t ids[2];
    size_t total;
    patron_status st;
    if (!value)
        return PATRON_OK;
    st = patron__lookup_few(db, kind, value, ids, &total);
    if (st)
        return st;
    for (size_t i = 0; i < total && i < 2; i++)
        if (ids[i] != self)
            return patron__db_error(db, PATRON_E_EXISTS, "%s is already used by customer #%lld", what,
                            (long long)ids[i]);
    return PATRON_OK;
}

patron_status patron__check_all_unique(patron_db *db, const keyset *ks, int64_t self)
{
    patron_status st = PATRON_OK;
    for (size_t i = 0; i < ks->n && !st; i++) {
        if (ks->k[i].kind == PATRON_KEY_EXTERNAL)
            st = check_unique(db, PATRON_KEY_EXTERNAL, ks->k[i].value, self,
                              "the external reference");
        else if (ks->k[i].kind == PATRON_KEY_LOGIN)
            st = check_unique(db, PATRON_KEY_LOGIN, ks->k[i].value, self, "the login name");
    }
    return st;
}

patron_status patron__collect_ids(patron_db *db, int kind, const char *value, patron__idvec *ids)
{
    patron_status st = patron__st_lookup(db, kind, value, patron__idvec_emit, ids);
    if (!st && ids->oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (st)
        patron__idvec_free(ids);
    return st;
}

/* ---- numbers ------------------------------------------------------------ */

/* The window of counter values whose numbers were handed to the store's
 * prefetch hint (patron_db_create_many); NULL outside a batch. */
typedef struct numwin {
    uint64_t lo, hi;   /* prefetched: lo..hi (hi < lo: none) */
    size_t remaining;  /* rows of the batch that may still want a number */
} numwin;

static patron_status prefetch_numbers(patron_db *db, numwin *win, uint64_t from)
{
    size_t n = win->remaining + 16, i;
    char **nums, *buf;
    patron_status st;
    if (n > 20000)
        n = 20000;
    nums = patron__calloc(n, sizeof *nums);
    buf = patron__malloc(n * 64);
    if (!nums || !buf) {
        patron__free(nums);
        patron__free(buf);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    for (i = 0; i < n; i++) {
        nums[i] = buf + i * 64;
        snprintf(nums[i], 64, "%s%0*llu", db->prefix, (int)db->width, (unsigned long long)(from + i));
    }
    st = patron__st_prefetch(db, NULL, 0, (const char *const *)nums, n, 0);
    patron__free(nums);
    patron__free(buf);
    if (!st) {
        win->lo = from;
        win->hi = from + n - 1;
    }
    return st;
}

static patron_status assign_number_win(patron_db *db, patron_customer *w, numwin *win)
{
    char num[64];
    patron_status st;
    if (w->f[PATRON_F_NUMBER]) {
        st = patron__st_claim_number(db, w->f[PATRON_F_NUMBER], PASS_EXISTS);
        if (st == PATRON_E_EXISTS)
            return patron__db_error(db, PATRON_E_EXISTS,
                            "customer number %s is taken or was given before; numbers are never reused",
                            w->f[PATRON_F_NUMBER]);
        return st;
    }
    /* Manual numbers may sit in the counter's way: skip them. */
    for (int tries = 0; tries < 10000; tries++) {
        uint64_t n;
        if ((st = patron__st_next_number(db, &n)) != 0)
            return st;
        /* in a batch: ask the store about the numbers the next rows will
         * try, all at once (a hint: the claims below decide) */
        if (win && (n < win->lo || n > win->hi) && (st = prefetch_numbers(db, win, n)) != 0)
            return st;
        snprintf(num, sizeof num, "%s%0*llu", db->prefix, (int)db->width, (unsigned long long)n);
        st = patron__st_claim_number(db, num, PASS_EXISTS);
        if (st == PATRON_E_EXISTS)
            continue;
        if (st)
            return st;
        if (patron__cust_put(w, PATRON_F_NUMBER, num))
            return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        return PATRON_OK;
    }
    return patron__db_error(db, PATRON_E_EXISTS, "no free customer number found after 10000 tries");
}

patron_status patron__assign_number(patron_db *db, patron_customer *w)
{
    return assign_number_win(db, w, NULL);
}

/* ---- reading ------------------------------------------------------------ */

patron_status patron__load_in_tx(patron_db *db, patron_customer **out, int64_t id)
{
    patron_customer *c;
    patron_status st = patron_customer_new(&c);
    if (st)
        return patron__db_error(db, st, "out of memory");
    st = patron__st_load(db, id, c, PASS_NOT_FOUND);
    if (st == PATRON_E_NOT_FOUND)
        patron__db_error(db, st, "no customer with id %lld", (long long)id);
    if (!st && patron_customer_id(c) != id)
        st = patron__db_error(db, PATRON_E_STORE, "store callback 'load' gave a record with another id");
    if (st) {
        patron_customer_free(c);
        return st;
    }
    *out = c;
    return PATRON_OK;
}

patron_status patron__resolve(patron_db *db, patron_customer **out, int64_t id)
{
    patron_customer *c = NULL;
    patron_status st = patron__load_in_tx(db, &c, id);
    /* A merged-away customer leads to its survivor. */
    for (int hops = 0; !st && patron_customer_state(c) == PATRON_STATE_MERGED; hops++) {
        const char *into = c->f[PATRON_F_MERGED_INTO];
        int64_t sid = into ? strtoll(into, NULL, 10) : 0;
        patron_customer_free(c);
        c = NULL;
        if (hops >= 64 || sid <= 0)
            st = patron__db_error(db, PATRON_E_STORE, "merged customer #%lld leads to no survivor",
                                  (long long)id);
        else
            st = patron__load_in_tx(db, &c, sid);
    }
    if (st) {
        patron_customer_free(c);
        c = NULL;
    }
    *out = c;
    return st;
}

/* ---- the index generation --------------------------------------------------- */

typedef struct gen_text {
    char v[24];
    bool seen;
} gen_text;

static int take_gen(void *ctx, const char *key, const char *value)
{
    gen_text *g = ctx;
    (void)key;
    g->seen = true;
    snprintf(g->v, sizeof g->v, "%s", value ? value : "");
    return 0;
}

patron_status patron__index_country(patron_db *db, char out[3])
{
    gen_text g = { "", false };
    patron_status st = patron__st_meta_get(db, PATRON__INDEX_COUNTRY_META_KEY, take_gen, &g, PASS_NOT_FOUND);
    out[0] = '\0';
    if (st && st != PATRON_E_NOT_FOUND)
        return st;
    if (!g.seen) {
        memcpy(out, "DE", 3); /* recorded since 0.1: before, the built-in default */
        return PATRON_OK;
    }
    /* untrusted bytes: two capital letters, else no country */
    if (g.v[0] >= 'A' && g.v[0] <= 'Z' && g.v[1] >= 'A' && g.v[1] <= 'Z' && g.v[2] == '\0')
        memcpy(out, g.v, 3);
    return PATRON_OK;
}

patron_status patron__index_read(patron_db *db, unsigned *gen, bool *any)
{
    gen_text g = { "", false };
    patron_status st = patron__st_meta_get(db, PATRON__INDEX_META_KEY, take_gen, &g, PASS_NOT_FOUND);
    *gen = 0;
    *any = false;
    if (st && st != PATRON_E_NOT_FOUND)
        return st;
    if (g.seen) {
        /* untrusted bytes: canonical decimal, 1 .. 999999, or none */
        size_t n = strlen(g.v);
        bool ok = n >= 1 && n <= 6 && g.v[0] != '0';
        for (size_t i = 0; ok && i < n; i++)
            ok = g.v[i] >= '0' && g.v[i] <= '9';
        if (ok) {
            *gen = (unsigned)strtoul(g.v, NULL, 10);
            return PATRON_OK;
        }
    }
    return patron__st_any(db, any);
}

patron_status patron__index_note_create(patron_db *db)
{
    unsigned gen;
    bool any;
    patron_status st;
    char v[16];
    if (!patron__st_has(db, PATRON__CAP_META)) {
        db->index_noted = true;
        return PATRON_OK;
    }
    if ((st = patron__index_read(db, &gen, &any)) != 0)
        return st;
    if (gen || any) {
        /* recorded, or customers without a record (stale until a reindex,
         * which writes it): nothing to do on this handle's next creates */
        db->index_noted = true;
        return PATRON_OK;
    }
    /* a new store: its first customer gets this generation's keys, under
     * the configuration's country (keys_for read it in this transaction).
     * Not noted on the handle: a rollback takes the records back with the
     * customer, so the next create looks again. */
    snprintf(v, sizeof v, "%u", (unsigned)PATRON__INDEX_VERSION);
    if ((st = patron__st_meta_put(db, PATRON__INDEX_META_KEY, v)) != 0)
        return st;
    return patron__st_meta_put(db, PATRON__INDEX_COUNTRY_META_KEY, db->match_cfg->default_country);
}

/* ---- saving -------------------------------------------------------------- */

static bool same(const char *a, const char *b);

/* Proof of consent: a save that changes the newsletter consent records when
 * (now) and from where (the source the caller gave with it, else
 * `default_source`).  A change that brings its own proof — a merge taking
 * the consent of a duplicate with its time, an import carrying the time of
 * a consent given elsewhere — keeps it. */
static patron_status stamp_consent(patron_customer *w, const patron_customer *before, const char *default_source,
                                   int64_t now)
{
    /* An erased record keeps no consent and so no proof of it. */
    if (w->f[PATRON_F_ERASED_AT])
        return PATRON_OK;
    const char *old_nl = before ? before->f[PATRON_F_NEWSLETTER] : NULL;
    if (same(old_nl, w->f[PATRON_F_NEWSLETTER]))
        return PATRON_OK;
    if (w->consent_carried)
        return PATRON_OK;
    if (before && w->f[PATRON_F_NEWSLETTER_AT] &&
        !same(before->f[PATRON_F_NEWSLETTER_AT], w->f[PATRON_F_NEWSLETTER_AT]))
        return PATRON_OK;
    /* A new record that carries the time of its consent from where it was
     * given (patron_customer_set_consent_time; checked with the record's
     * values) keeps it: an import must not lose the proof's time. */
    if (!before && w->f[PATRON_F_NEWSLETTER_AT]) {
        if (!w->f[PATRON_F_NEWSLETTER_SOURCE])
            return patron__cust_put(w, PATRON_F_NEWSLETTER_SOURCE, default_source);
        return PATRON_OK;
    }
    if (patron__cust_put_i64(w, PATRON_F_NEWSLETTER_AT, now))
        return PATRON_E_NOMEM;
    if (!w->f[PATRON_F_NEWSLETTER_SOURCE] ||
        (before && same(before->f[PATRON_F_NEWSLETTER_SOURCE], w->f[PATRON_F_NEWSLETTER_SOURCE])))
        return patron__cust_put(w, PATRON_F_NEWSLETTER_SOURCE, default_source);
    return PATRON_OK;
}

patron_status patron__work_copy(patron_db *db, patron_customer *w, const patron_customer *c)
{
    patron_status st;
    memset(w, 0, sizeof *w);
    if ((st = patron__cust_copy(w, c)) != 0)
        return patron__db_error(db, st, "out of memory");
    if ((st = patron__cust_validate(w, true)) != 0) {
        patron__db_error(db, st, "%s", w->errmsg);
        patron__cust_clear(w);
    }
    return st;
}

/* The part of a create that needs no store: the checks of the caller's
 * record and the working copy with the system values of a new record. */
static patron_status prepare_new(patron_db *db, patron_customer *w, patron_customer *c, int state, int64_t now)
{
    patron_status st;
    if (!c)
        return patron__db_error(db, PATRON_E_INVALID, "no customer given (NULL)");
    if (patron_customer_state(c) != PATRON_STATE_NONE || patron_customer_id(c) != 0)
        return patron__db_error(db, PATRON_E_STATE, "this customer was saved before; use patron_db_update");
    if (state == PATRON_STATE_PENDING && c->f[PATRON_F_NUMBER])
        return patron__db_error(db, PATRON_E_INVALID,
                                "a registered customer gets its number when activated; leave it empty");
    if ((st = patron__work_copy(db, w, c)) != 0)
        return st;
    if (patron__cust_put(w, PATRON_F_STATE, patron__state_name(state)) ||
        patron__cust_put_i64(w, PATRON_F_REVISION, 1) ||
        patron__cust_put_i64(w, PATRON_F_CREATED_AT, now) ||
        patron__cust_put_i64(w, PATRON_F_UPDATED_AT, now) ||
        patron__cust_put(w, PATRON_F_LOCKED, "0") ||
        stamp_consent(w, NULL, state == PATRON_STATE_PENDING ? "shop" : "admin", now)) {
        patron__cust_clear(w);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    return PATRON_OK;
}

/* The checks of a new record that read the store and do not depend on
 * other new records (the group), then its keys. */
static patron_status keys_new(patron_db *db, patron_customer *w, keyset *ks)
{
    patron_status st = patron__group_for_new(db, w);
    if (!st)
        st = patron__keys_for(db, ks, w);
    return st;
}

/* The rest of a create inside the transaction: uniqueness, the number,
 * the insert.  Every refusal (EXISTS) comes before the first write. */
static patron_status insert_new(patron_db *db, patron_customer *w, keyset *ks, int state, numwin *win,
                                bool marks)
{
    int64_t id = 0;
    patron_status st = patron__check_all_unique(db, ks, 0);
    if (!st && state == PATRON_STATE_ACTIVE)
        st = assign_number_win(db, w, win);
    /* the number is one of the keys; the rest (the normalised form and
     * the blocking keys above all) does not depend on it: computed once */
    if (!st && w->f[PATRON_F_NUMBER] && !patron__keys_set_number(ks, w->f[PATRON_F_NUMBER])) {
        patron__keys_free(ks); /* no room (cannot happen today): build them again */
        st = patron__keys_for(db, ks, w);
    }
    if (!st && !db->index_noted)
        st = patron__index_note_create(db);
    if (!st)
        st = patron__st_insert(db, w, ks, &id);
    if (!st && patron__cust_put_i64(w, PATRON_F_ID, id))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st && marks)
        st = patron__review_touch(db, id);
    return st;
}

patron_status patron__save_new(patron_db *db, patron_customer *c, int state,
                               patron_status (*check)(patron_db *db, const patron_customer *c, void *arg),
                               void *arg)
{
    patron_customer w;
    keyset ks;
    patron_status st;
    int64_t now = (int64_t)time(NULL);
    PATRON__KEYSET_INIT(&ks);
    if (!db)
        return PATRON_E_INVALID;
    if ((st = prepare_new(db, &w, c, state, now)) != 0)
        return st;
    if ((st = patron__tx_begin(db)) != 0) {
        patron__cust_clear(&w);
        return st;
    }
    /* Checks that only read come first, so that a refusal writes nothing. */
    if (check)
        st = check(db, &w, arg);
    if (!st)
        st = keys_new(db, &w, &ks);
    if (!st)
        st = insert_new(db, &w, &ks, state, NULL, true);
    patron__keys_free(&ks);
    st = patron__tx_end(db, st);
    if (st) {
        patron__cust_clear(&w);
        return st;
    }
    patron__cust_move(c, &w);
    return patron__db_ok(db);
}

/* ---- many new records in one transaction ------------------------------------ */

/* A refusal that concerns the row alone (its values, its keys, its number). */
static bool row_refusal(patron_status st)
{
    return st == PATRON_E_INVALID || st == PATRON_E_EXISTS || st == PATRON_E_STATE;
}

/* A record given twice would be created twice (its copy is taken before
 * either is saved): refuse the call. */
static patron_status distinct_records(patron_db *db, patron_customer *const *cs, size_t n)
{
    switch (patron__ptrs_twice((void *const *)cs, n)) {
    case -1:
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    case 1:
        return patron__db_error(db, PATRON_E_INVALID, "the same customer record is given twice");
    }
    return PATRON_OK;
}

typedef struct many_row {
    patron_customer w;
    keyset ks;
    patron_status st; /* of this row: OK (created), or its refusal */
    bool prepared;
} many_row;

patron_status patron_db_create_many(patron_db *db, size_t *created_out, patron_customer *const *cs, size_t n,
                                    patron_refused_fn refused, void *payload)
{
    many_row *rows = NULL;
    patron_key *pkeys = NULL;
    const char **pnums = NULL;
    size_t npk = 0, npn = 0, nprep = 0, created = 0, i, k;
    numwin win = { 1, 0, 0 };
    patron__glist groups;
    bool have_groups = false, marks = false;
    patron_status st = PATRON_OK;
    int64_t now = (int64_t)time(NULL);

    if (created_out)
        *created_out = 0;
    if (!db)
        return PATRON_E_INVALID;
    if (!created_out || (!cs && n > 0))
        return patron__db_error(db, PATRON_E_INVALID, "no place for the count or no customers (NULL)");
    if (n == 0)
        return patron__db_ok(db);
    if (n > PATRON_CREATE_MANY_MAX)
        return patron__db_error(db, PATRON_E_RANGE, "%zu customers in one call: at most %d", n,
                                PATRON_CREATE_MANY_MAX);
    if ((st = distinct_records(db, cs, n)) != 0)
        return st;
    if (!(rows = patron__calloc(n, sizeof *rows)))
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");

    /* Rows the library refuses by their values alone: before the store. */
    for (i = 0; i < n; i++) {
        PATRON__KEYSET_INIT(&rows[i].ks);
        rows[i].st = prepare_new(db, &rows[i].w, cs[i], PATRON_STATE_ACTIVE, now);
        if (rows[i].st == PATRON_OK) {
            rows[i].prepared = true;
            nprep++;
        } else if (!row_refusal(rows[i].st)) {
            st = rows[i].st;
            goto out;
        } else if (refused) {
            refused(payload, i, rows[i].st, db->errmsg);
        }
    }
    if (nprep == 0)
        goto out;
    if ((st = patron__tx_begin(db)) != 0)
        goto out;
    /* The groups and whether saves mark records for the review queue:
     * read once, as no create changes them. */
    if (patron__has_groups(db)) {
        if ((st = patron__group_all(db, &groups)) != 0)
            goto end;
        have_groups = true;
    }
    if ((st = patron__review_marks_on(db, &marks)) != 0)
        goto end;
    /* The group and the keys of every row (patron__group_for_new and
     * patron__keys_for, as keys_new() does). */
    for (i = 0; i < n && !st; i++) {
        if (!rows[i].prepared)
            continue;
        patron_status rs = patron__group_for_new_in(db, &rows[i].w, have_groups ? &groups : NULL);
        if (!rs)
            rs = patron__keys_for(db, &rows[i].ks, &rows[i].w);
        if (rs == PATRON_OK)
            continue;
        patron__keys_free(&rows[i].ks);
        if (!row_refusal(rs)) {
            st = rs;
            break;
        }
        rows[i].st = rs;
        rows[i].prepared = false;
        nprep--;
        if (refused)
            refused(payload, i, rs, db->errmsg);
    }
    /* The store may fetch what the rows will look up and claim at once. */
    if (!st && nprep && patron__st_can_prefetch(db)) {
        pkeys = patron__calloc(nprep * 2, sizeof *pkeys);
        pnums = patron__calloc(nprep, sizeof *pnums);
        if (!pkeys || !pnums)
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        for (i = 0; i < n && !st; i++) {
            if (!rows[i].prepared)
                continue;
            for (k = 0; k < rows[i].ks.n; k++) {
                const patron_key *key = &rows[i].ks.k[k];
                if ((key->kind == PATRON_KEY_EXTERNAL || key->kind == PATRON_KEY_LOGIN) && key->value &&
                    npk < nprep * 2)
                    pkeys[npk++] = *key;
            }
            if (rows[i].w.f[PATRON_F_NUMBER])
                pnums[npn++] = rows[i].w.f[PATRON_F_NUMBER];
            else
                win.remaining++;
        }
        if (!st)
            st = patron__st_prefetch(db, pkeys, npk, pnums, npn, nprep);
    }
    /* In order, as patron_db_create() one after the other would: each row
     * is checked against the store and the rows created before it. */
    for (i = 0; i < n && !st; i++) {
        patron_status rs;
        if (!rows[i].prepared)
            continue;
        bool autonum = rows[i].w.f[PATRON_F_NUMBER] == NULL;
        rs = insert_new(db, &rows[i].w, &rows[i].ks, PATRON_STATE_ACTIVE,
                        patron__st_can_prefetch(db) ? &win : NULL, marks);
        if (autonum && win.remaining)
            win.remaining--;
        if (rs == PATRON_OK) {
            created++;
            continue;
        }
        if (!row_refusal(rs)) {
            st = rs;
            break;
        }
        rows[i].st = rs;
        rows[i].prepared = false;
        if (refused)
            refused(payload, i, rs, db->errmsg);
    }
end:
    if (have_groups)
        patron__free(groups.g);
    st = patron__tx_end(db, st);
    if (!st)
        for (i = 0; i < n; i++)
            if (rows[i].prepared)
                patron__cust_move(cs[i], &rows[i].w);
out:
    for (i = 0; i < n; i++) {
        patron__keys_free(&rows[i].ks);
        patron__cust_clear(&rows[i].w);
    }
    patron__free(rows);
    patron__free(pkeys);
    patron__free(pnums);
    if (st)
        return st;
    *created_out = created;
    return patron__db_ok(db);
}

static bool same(const char *a, const char *b)
{
    return (!a || !b) ? a == b : strcmp(a, b) == 0;
}

patron_status patron__save_changed(patron_db *db, patron_customer *w, const patron_customer *before,
                                   int64_t now)
{
    keyset ks;
    uint64_t rev = patron_customer_revision(before ? before : w);
    int64_t id = patron_customer_id(w);
    patron_status st = PATRON_OK;
    PATRON__KEYSET_INIT(&ks);
    if (!now)
        now = (int64_t)time(NULL);
    if (patron__cust_put_i64(w, PATRON_F_REVISION, (int64_t)rev + 1) ||
        patron__cust_put_i64(w, PATRON_F_UPDATED_AT, now) ||
        (before && stamp_consent(w, before, "admin", now)))
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if ((st = patron__keys_for(db, &ks, w)) != 0)
        return st;
    st = patron__check_all_unique(db, &ks, id);
    if (!st && before && !same(before->f[PATRON_F_GROUP], w->f[PATRON_F_GROUP]))
        st = patron__group_check(db, w);
    if (!st)
        st = patron__st_update(db, w, &ks, PASS_NOT_FOUND);
    if (!st)
        st = patron__review_touch(db, id);
    if (st == PATRON_E_NOT_FOUND)
        patron__db_error(db, st, "no customer with id %lld", (long long)id);
    patron__keys_free(&ks);
    return st;
}

patron_status patron__save_restore(patron_db *db, const patron_customer *c, uint64_t stored_rev,
                                   int64_t now)
{
    patron_customer w;
    keyset ks;
    patron_status st;
    memset(&w, 0, sizeof w);
    /* Every field as it was, but the revision goes on from the stored one:
     * revisions only ever grow, so a copy loaded before the restore (with
     * the revision the old image had) can never be saved over it. */
    if ((st = patron__cust_copy(&w, c)) != 0 ||
        patron__cust_put_i64(&w, PATRON_F_REVISION, (int64_t)stored_rev + 1) ||
        patron__cust_put_i64(&w, PATRON_F_UPDATED_AT, now)) {
        patron__cust_clear(&w);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    if ((st = patron__keys_for(db, &ks, &w)) != 0) {
        patron__cust_clear(&w);
        return st;
    }
    st = patron__st_update(db, &w, &ks, 0);
    if (!st)
        st = patron__review_touch(db, patron_customer_id(&w));
    patron__keys_free(&ks);
    patron__cust_clear(&w);
    return st;
}
