/* patron — records in the store: loading, keys, uniqueness, customer
 * numbers, and the one path every saved change takes.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
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
    return patron__keys_build(ks, c, s == PATRON_STATE_MERGED || erased, db->match_cfg->default_country,
                              !erased && patron__st_has(db, PATRON__CAP_MATCH_FORM));
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

patron_status patron__assign_number(patron_db *db, patron_customer *w)
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

/* ---- saving -------------------------------------------------------------- */

static bool same(const char *a, const char *b);

/* Proof of consent: a save that changes the newsletter consent records when
 * (now) and from where (the source the caller gave with it, else
 * `default_source`).  A change that brings its own proof — a merge taking
 * the consent of a duplicate with its time — keeps it. */
static patron_status stamp_consent(patron_customer *w, const patron_customer *before, const char *default_source,
                                   int64_t now)
{
    /* An erased record keeps no consent and so no proof of it. */
    if (w->f[PATRON_F_ERASED_AT])
        return PATRON_OK;
    const char *old_nl = before ? before->f[PATRON_F_NEWSLETTER] : NULL;
    if (same(old_nl, w->f[PATRON_F_NEWSLETTER]))
        return PATRON_OK;
    if (before && w->f[PATRON_F_NEWSLETTER_AT] &&
        !same(before->f[PATRON_F_NEWSLETTER_AT], w->f[PATRON_F_NEWSLETTER_AT]))
        return PATRON_OK;
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

patron_status patron__save_new(patron_db *db, patron_customer *c, int state,
                               patron_status (*check)(patron_db *db, const patron_customer *c, void *arg),
                               void *arg)
{
    patron_customer w;
    keyset ks;
    int64_t id = 0;
    patron_status st;
    int64_t now = (int64_t)time(NULL);
    PATRON__KEYSET_INIT(&ks);
    if (!db)
        return PATRON_E_INVALID;
    if (!c)
        return patron__db_error(db, PATRON_E_INVALID, "no customer given (NULL)");
    if (patron_customer_state(c) != PATRON_STATE_NONE || patron_customer_id(c) != 0)
        return patron__db_error(db, PATRON_E_STATE, "this customer was saved before; use patron_db_update");
    if (state == PATRON_STATE_PENDING && c->f[PATRON_F_NUMBER])
        return patron__db_error(db, PATRON_E_INVALID,
                                "a registered customer gets its number when activated; leave it empty");
    if ((st = patron__work_copy(db, &w, c)) != 0)
        return st;
    if (patron__cust_put(&w, PATRON_F_STATE, patron__state_name(state)) ||
        patron__cust_put_i64(&w, PATRON_F_REVISION, 1) ||
        patron__cust_put_i64(&w, PATRON_F_CREATED_AT, now) ||
        patron__cust_put_i64(&w, PATRON_F_UPDATED_AT, now) ||
        patron__cust_put(&w, PATRON_F_LOCKED, "0") ||
        stamp_consent(&w, NULL, state == PATRON_STATE_PENDING ? "shop" : "admin", now)) {
        patron__cust_clear(&w);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    if ((st = patron__tx_begin(db)) != 0) {
        patron__cust_clear(&w);
        return st;
    }
    /* Checks that only read come first, so that a refusal writes nothing. */
    if (check)
        st = check(db, &w, arg);
    if (!st)
        st = patron__group_for_new(db, &w);
    if (!st && (st = patron__keys_for(db, &ks, &w)) != 0)
        patron__db_error(db, st, "out of memory");
    if (!st)
        st = patron__check_all_unique(db, &ks, 0);
    if (!st && state == PATRON_STATE_ACTIVE)
        st = patron__assign_number(db, &w);
    /* the number is one of the keys; the rest (the normalised form and
     * the blocking keys above all) does not depend on it: computed once */
    if (!st && w.f[PATRON_F_NUMBER] && !patron__keys_set_number(&ks, w.f[PATRON_F_NUMBER])) {
        patron__keys_free(&ks); /* no room (cannot happen today): build them again */
        if ((st = patron__keys_for(db, &ks, &w)) != 0)
            patron__db_error(db, st, "out of memory");
    }
    if (!st)
        st = patron__st_insert(db, &w, &ks, &id);
    if (!st && patron__cust_put_i64(&w, PATRON_F_ID, id))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st)
        st = patron__review_touch(db, id);
    patron__keys_free(&ks);
    st = patron__tx_end(db, st);
    if (st) {
        patron__cust_clear(&w);
        return st;
    }
    patron__cust_move(c, &w);
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
        return patron__db_error(db, st, "out of memory");
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
        return patron__db_error(db, st, "out of memory");
    }
    st = patron__st_update(db, &w, &ks, 0);
    if (!st)
        st = patron__review_touch(db, patron_customer_id(&w));
    patron__keys_free(&ks);
    patron__cust_clear(&w);
    return st;
}
