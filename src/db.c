/* patron — the database handle: CRUD and customer numbers over any store.
 * SPDX-License-Identifier: MIT
 *
 * Every operation is one store transaction: begin, work, commit — or
 * rollback on any failure, so the store is never left half-changed.  The
 * caller's record is only touched once the commit has succeeded: all work is
 * done on a copy that replaces the caller's record at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

patron_status patron_db_set_number_format(patron_db *db, const char *prefix, unsigned width)
{
    size_t n;
    if (!db)
        return PATRON_E_INVALID;
    if (!prefix)
        prefix = "";
    n = strlen(prefix);
    if (n > 16)
        return patron__db_error(db, PATRON_E_INVALID, "number prefix is longer than 16 bytes");
    for (size_t i = 0; i < n; i++) {
        char c = prefix[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return patron__db_error(db, PATRON_E_INVALID,
                            "number prefix may hold only letters, digits, '-' and '_'");
    }
    if (width < 1 || width > 20)
        return patron__db_error(db, PATRON_E_INVALID, "number width must be 1 to 20 digits");
    memcpy(db->prefix, prefix, n + 1);
    db->width = width;
    return patron__db_ok(db);
}

patron_status patron_db_create(patron_db *db, patron_customer *c)
{
    return patron__save_new(db, c, PATRON_STATE_ACTIVE, NULL, NULL);
}

/* ---- reading ------------------------------------------------------------ */

patron_status patron_db_load(patron_db *db, patron_customer **out, int64_t id)
{
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if (id <= 0)
        return patron__db_error(db, PATRON_E_NOT_FOUND, "no customer with id %lld", (long long)id);
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    st = patron__tx_end(db, patron__load_in_tx(db, out, id));
    if (st && *out) {
        patron_customer_free(*out);
        *out = NULL;
    }
    return st ? st : patron__db_ok(db);
}

static patron_status normalise_key(patron_db *db, int kind, const char *key, char **norm)
{
    *norm = NULL;
    if (!key || !*key)
        return patron__db_error(db, PATRON_E_INVALID, "no key given");
    if (kind < PATRON_KEY_NUMBER || kind > PATRON_KEY_LOGIN)
        return patron__db_error(db, PATRON_E_INVALID, "unknown key kind %d", kind);
    if (kind == PATRON_KEY_EMAIL) {
        if (!(*norm = patron__ascii_lower_trim(key)))
            return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    return PATRON_OK;
}

patron_status patron_db_find(patron_db *db, patron_customer **out, patron_key_kind kind, const char *key)
{
    char *norm;
    patron__idvec ids = PATRON__IDVEC_INIT;
    patron_customer *c = NULL;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if ((st = normalise_key(db, kind, key, &norm)) != 0)
        return st;
    if ((st = patron__tx_begin_read(db)) != 0) {
        patron__free(norm);
        return st;
    }
    st = patron__collect_ids(db, kind, norm ? norm : key, &ids);
    if (!st && ids.n == 0)
        st = patron__db_error(db, PATRON_E_NOT_FOUND, "no customer with this %s",
                              kind == PATRON_KEY_NUMBER     ? "customer number"
                              : kind == PATRON_KEY_EXTERNAL ? "external reference"
                              : kind == PATRON_KEY_EMAIL    ? "email address"
                                                            : "login name");
    /* Several records may lead to one customer (a survivor and the records
     * merged into it share an email); several customers are ambiguous. */
    for (size_t i = 0; i < ids.n && !st; i++) {
        patron_customer *r = NULL;
        if ((st = patron__resolve(db, &r, ids.v[i])) != 0)
            break;
        if (!c) {
            c = r;
        } else {
            bool same_one = patron_customer_id(c) == patron_customer_id(r);
            patron_customer_free(r);
            if (!same_one)
                st = patron__db_error(db, PATRON_E_AMBIGUOUS, "several customers share this %s",
                                      kind == PATRON_KEY_EMAIL ? "email address" : "key");
        }
    }
    patron__idvec_free(&ids);
    patron__free(norm);
    st = patron__tx_end(db, st);
    if (st) {
        patron_customer_free(c);
        return st;
    }
    *out = c;
    return patron__db_ok(db);
}

patron_status patron_db_lookup(patron_db *db, int64_t *ids, size_t *n_out, size_t cap,
                               patron_key_kind kind, const char *key)
{
    char *norm;
    patron__idcap ic;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!n_out || (!ids && cap))
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *n_out = 0;
    if ((st = normalise_key(db, kind, key, &norm)) != 0)
        return st;
    ic.ids = ids;
    ic.cap = cap;
    ic.n = ic.total = 0;
    if ((st = patron__tx_begin_read(db)) != 0) {
        patron__free(norm);
        return st;
    }
    st = patron__st_lookup(db, kind, norm ? norm : key, patron__idcap_emit, &ic);
    patron__free(norm);
    if ((st = patron__tx_end(db, st)) != 0)
        return st;
    *n_out = ic.total;
    return patron__db_ok(db);
}

patron_status patron_db_list(patron_db *db, int64_t *ids, size_t *n_out, size_t cap,
                             const patron_filter *filter, int64_t after_id)
{
    static const patron_filter all = PATRON_FILTER_INIT;
    patron__idcap ic;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!n_out || (!ids && cap))
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *n_out = 0;
    if (!filter)
        filter = &all;
    if ((int)filter->state < 0 || (int)filter->state > PATRON_STATE_ERASED)
        return patron__db_error(db, PATRON_E_INVALID, "unknown state %d in filter", (int)filter->state);
    if ((int)filter->locked < PATRON_FILTER_ANY || (int)filter->locked > PATRON_FILTER_LOCKED)
        return patron__db_error(db, PATRON_E_INVALID,
                                "filter.locked must be PATRON_FILTER_ANY, _LOCKED or _UNLOCKED");
    if (cap == 0)
        return patron__db_ok(db);
    ic.ids = ids;
    ic.cap = cap;
    ic.n = ic.total = 0;
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    st = patron__st_scan(db, filter, after_id, cap, patron__idcap_emit, &ic);
    if ((st = patron__tx_end(db, st)) != 0)
        return st;
    *n_out = ic.n;
    return patron__db_ok(db);
}

/* ---- update and delete ------------------------------------------------ */

static bool same(const char *a, const char *b)
{
    return (!a || !b) ? a == b : strcmp(a, b) == 0;
}

patron_status patron_db_update(patron_db *db, patron_customer *c)
{
    static const int system_fields[] = { PATRON_F_STATE, PATRON_F_LOCKED, PATRON_F_LOCK_REASON,
                                         PATRON_F_LOCKED_AT, PATRON_F_CREATED_AT,
                                         PATRON_F_MERGED_INTO, PATRON_F_NEWSLETTER_AT,
                                         PATRON_F_ERASED_AT };
    patron_customer w, *s = NULL;
    int64_t id;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!c)
        return patron__db_error(db, PATRON_E_INVALID, "no customer given (NULL)");
    id = patron_customer_id(c);
    if (id <= 0 || patron_customer_state(c) == PATRON_STATE_NONE)
        return patron__db_error(db, PATRON_E_STATE, "this customer was never saved; use patron_db_create");
    if ((st = patron__work_copy(db, &w, c)) != 0)
        return st;
    if ((st = patron__tx_begin(db)) != 0) {
        patron__cust_clear(&w);
        return st;
    }
    st = patron__load_in_tx(db, &s, id);
    if (!st && patron_customer_state(s) == PATRON_STATE_MERGED)
        st = patron__db_error(db, PATRON_E_STATE, "customer #%lld was merged into another and cannot change",
                      (long long)id);
    if (!st && patron_customer_state(s) == PATRON_STATE_ERASED)
        st = patron__db_error(db, PATRON_E_STATE, "customer #%lld was erased and cannot change",
                      (long long)id);
    if (!st && patron_customer_revision(s) != patron_customer_revision(c))
        st = patron__db_error(db, PATRON_E_CONFLICT,
                      "customer #%lld was changed by someone else (revision %llu, yours %llu); "
                      "load it again and reapply your change",
                      (long long)id, (unsigned long long)patron_customer_revision(s),
                      (unsigned long long)patron_customer_revision(c));
    if (!st && !same(s->f[PATRON_F_NUMBER], w.f[PATRON_F_NUMBER]))
        st = patron__db_error(db, PATRON_E_STATE, "the customer number never changes");
    for (size_t i = 0; !st && i < sizeof system_fields / sizeof system_fields[0]; i++)
        if (patron__cust_put(&w, system_fields[i], s->f[system_fields[i]]))
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st)
        st = patron__save_changed(db, &w, s, 0);
    patron_customer_free(s);
    st = patron__tx_end(db, st);
    if (st) {
        patron__cust_clear(&w);
        return st;
    }
    patron__cust_move(c, &w);
    return patron__db_ok(db);
}

patron_status patron_db_delete(patron_db *db, int64_t id, uint64_t revision)
{
    patron_customer *s = NULL;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (id <= 0)
        return patron__db_error(db, PATRON_E_NOT_FOUND, "no customer with id %lld", (long long)id);
    if ((st = patron__tx_begin(db)) != 0)
        return st;
    st = patron__load_in_tx(db, &s, id);
    if (!st && patron_customer_state(s) == PATRON_STATE_MERGED)
        st = patron__db_error(db, PATRON_E_STATE,
                      "customer #%lld was merged into another; it is kept so that its number "
                      "still leads to the survivor",
                      (long long)id);
    if (!st && revision && patron_customer_revision(s) != revision)
        st = patron__db_error(db, PATRON_E_CONFLICT, "customer #%lld was changed by someone else",
                      (long long)id);
    if (!st)
        st = patron__st_remove(db, id);
    if (!st)
        st = patron__review_touch(db, id); /* its cases lose a member at the next scan */
    patron_customer_free(s);
    st = patron__tx_end(db, st);
    return st ? st : patron__db_ok(db);
}
