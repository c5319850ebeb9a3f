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


patron_status patron__db_error(patron_db *db, patron_status st, const char *fmt, ...)
    PATRON_PRINTF(3, 4);

patron_status patron__db_error(patron_db *db, patron_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->errmsg, sizeof db->errmsg, fmt, ap);
    va_end(ap);
    return st;
}

patron_status patron__db_ok(patron_db *db)
{
    db->errmsg[0] = '\0';
    return PATRON_OK;
}

/* Map a callback's return code.  NOT_FOUND and EXISTS pass through when the
 * caller said they are expected (pass_mask bits); everything else becomes
 * PATRON_E_STORE with the store's message. */

patron_status patron__store_rc(patron_db *db, int rc, const char *cb, unsigned pass)
{
    const char *smsg;
    if (rc == 0)
        return PATRON_OK;
    if (rc == PATRON_E_NOT_FOUND && (pass & PASS_NOT_FOUND))
        return PATRON_E_NOT_FOUND;
    if (rc == PATRON_E_EXISTS && (pass & PASS_EXISTS))
        return PATRON_E_EXISTS;
    smsg = db->ops.errmsg ? db->ops.errmsg(db->ctx) : NULL;
    return patron__db_error(db, PATRON_E_STORE, "store callback '%s' failed (code %d)%s%s", cb, rc,
                    smsg && *smsg ? ": " : "", smsg && *smsg ? smsg : "");
}

patron_status patron_db_open(patron_db **out, const patron_store_ops *ops, void *store_ctx)
{
    patron_db *db;
    if (!out)
        return PATRON_E_INVALID;
    *out = NULL;
    if (!ops)
        return PATRON_E_INVALID;
    if (ops->version < 1 || ops->version > PATRON_STORE_VERSION)
        return PATRON_E_ABI;
    if (!ops->begin || !ops->commit || !ops->rollback || !ops->load || !ops->insert ||
        !ops->update || !ops->remove || !ops->lookup || !ops->scan || !ops->next_number ||
        !ops->claim_number)
        return PATRON_E_INVALID;
    db = patron__calloc(1, sizeof *db);
    if (!db)
        return PATRON_E_NOMEM;
    /* Copy only the members the host's version has; the rest stay NULL. */
    db->ops = *ops;
    db->ctx = store_ctx;
    db->match_cfg = patron__malloc(sizeof *db->match_cfg);
    if (!db->match_cfg) {
        patron__free(db);
        return PATRON_E_NOMEM;
    }
    patron__match_config_default(db->match_cfg);
    strcpy(db->prefix, "K");
    db->width = 6;
    *out = db;
    return PATRON_OK;
}

void patron_db_close(patron_db *db)
{
    if (!db)
        return;
    if (db->ops.destroy)
        db->ops.destroy(db->ctx);
    patron__free(db->match_cfg);
    patron__free(db);
}

const char *patron_db_errmsg(const patron_db *db)
{
    return db ? db->errmsg : "no database handle (NULL)";
}

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

/* ---- transactions ----------------------------------------------------- */

patron_status patron__tx_begin(patron_db *db)
{
    return patron__store_rc(db, db->ops.begin(db->ctx), "begin", 0);
}

/* Finish a transaction: commit on success, roll back otherwise.  A failed
 * commit is rolled back and reported. */
patron_status patron__tx_end(patron_db *db, patron_status st)
{
    if (st == PATRON_OK) {
        int rc = db->ops.commit(db->ctx);
        if (rc == 0)
            return PATRON_OK;
        st = patron__store_rc(db, rc, "commit", 0);
    }
    db->ops.rollback(db->ctx);
    return st;
}

/* ---- keys --------------------------------------------------------------- */

void patron__keys_free(keyset *ks)
{
    for (size_t i = 0; i < ks->n_owned; i++)
        patron__free(ks->owned[i]);
    ks->n = ks->n_owned = 0;
}

/* The external key: source, 0x1F, id; just the id when there is no source. */
static char *external_key(const char *source, const char *id)
{
    size_t sn, in;
    char *k;
    if (!id)
        return NULL;
    if (!source || !*source)
        return patron__strdup(id);
    sn = strlen(source);
    in = strlen(id);
    k = patron__malloc(sn + in + 2);
    if (!k)
        return NULL;
    memcpy(k, source, sn);
    k[sn] = '\x1f';
    memcpy(k + sn + 1, id, in + 1);
    return k;
}

patron_status patron__keys_build(keyset *ks, const patron_customer *c, bool alias_only)
{
    const char *num = c->f[PATRON_F_NUMBER], *email = c->f[PATRON_F_EMAIL],
               *login = c->f[PATRON_F_LOGIN_USER];
    ks->n = ks->n_owned = 0;
    if (num) {
        ks->k[ks->n].kind = PATRON_KEY_NUMBER;
        ks->k[ks->n++].value = num;
    }
    if (c->f[PATRON_F_EXTERNAL_ID]) {
        char *x = external_key(c->f[PATRON_F_EXTERNAL_SOURCE], c->f[PATRON_F_EXTERNAL_ID]);
        if (!x)
            return PATRON_E_NOMEM;
        ks->owned[ks->n_owned++] = x;
        ks->k[ks->n].kind = PATRON_KEY_EXTERNAL;
        ks->k[ks->n++].value = x;
    }
    if (email) {
        char *e = patron__ascii_lower_trim(email);
        if (!e) {
            patron__keys_free(ks);
            return PATRON_E_NOMEM;
        }
        ks->owned[ks->n_owned++] = e;
        ks->k[ks->n].kind = PATRON_KEY_EMAIL;
        ks->k[ks->n++].value = e;
    }
    /* A merged-away record keeps number, external reference and email as
     * aliases that lead to its survivor; its login moved, and it is no
     * candidate for matching. */
    if (alias_only)
        return PATRON_OK;
    if (login) {
        ks->k[ks->n].kind = PATRON_KEY_LOGIN;
        ks->k[ks->n++].value = login;
    }
    /* The matcher's blocking keys: candidates are found through the index. */
    {
        patron__match_rec r;
        size_t nk;
        if (patron__cust_match_rec(&r, c, "DE") != 0) {
            patron__keys_free(ks);
            return PATRON_E_NOMEM;
        }
        nk = patron__match_keys(ks->mk, PATRON__MATCH_KEYS_MAX, &r, NULL);
        /* and the values whose frequency weighs an agreement (counted, never
         * looked up for candidates) */
        nk += patron__match_tf_keys(ks->mk + nk, PATRON__MATCH_TF_KEYS_MAX, &r);
        patron__match_rec_free(&r);
        for (size_t i = 0; i < nk && ks->n < PATRON__MAX_KEYS; i++) {
            ks->k[ks->n].kind = ks->mk[i].kind;
            ks->k[ks->n++].value = ks->mk[i].value;
        }
    }
    return PATRON_OK;
}

/* ---- collecting ids ----------------------------------------------------- */

typedef struct idcollect {
    int64_t *ids;
    size_t cap, n, total;
} idcollect;

static int collect_id(void *ctx, int64_t id)
{
    idcollect *ic = ctx;
    if (ic->n < ic->cap)
        ic->ids[ic->n++] = id;
    ic->total++;
    return 0;
}

/* Ids under a key, at most 2 kept (enough to tell none / one / several). */
patron_status patron__lookup_few(patron_db *db, int kind, const char *value, int64_t ids[2],
                                size_t *total)
{
    idcollect ic = { ids, 2, 0, 0 };
    patron_status st = patron__store_rc(db, db->ops.lookup(db->ctx, kind, value, collect_id, &ic), "lookup", 0);
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

patron_status patron__check_all_unique(patron_db *db, const patron_customer *w, const keyset *ks,
                                      int64_t self)
{
    patron_status st = PATRON_OK;
    for (size_t i = 0; i < ks->n && !st; i++) {
        if (ks->k[i].kind == PATRON_KEY_EXTERNAL)
            st = check_unique(db, PATRON_KEY_EXTERNAL, ks->k[i].value, self,
                              "the external reference");
        else if (ks->k[i].kind == PATRON_KEY_LOGIN)
            st = check_unique(db, PATRON_KEY_LOGIN, ks->k[i].value, self, "the login name");
    }
    (void)w;
    return st;
}

static int grow_id(void *ctx, int64_t id)
{
    struct {
        int64_t *ids;
        size_t n, cap;
        bool oom;
    } *g = ctx;
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 8;
        int64_t *ni = patron__realloc(g->ids, nc * sizeof *ni);
        if (!ni) {
            g->oom = true;
            return 1;
        }
        g->ids = ni;
        g->cap = nc;
    }
    g->ids[g->n++] = id;
    return 0;
}

/* ---- numbers ------------------------------------------------------------ */

patron_status patron__assign_number(patron_db *db, patron_customer *w)
{
    char num[64];
    int rc;
    patron_status st;
    if (w->f[PATRON_F_NUMBER]) {
        rc = db->ops.claim_number(db->ctx, w->f[PATRON_F_NUMBER]);
        if (rc == PATRON_E_EXISTS)
            return patron__db_error(db, PATRON_E_EXISTS,
                            "customer number %s is taken or was given before; numbers are never reused",
                            w->f[PATRON_F_NUMBER]);
        return patron__store_rc(db, rc, "claim_number", 0);
    }
    /* Manual numbers may sit in the counter's way: skip them. */
    for (int tries = 0; tries < 10000; tries++) {
        uint64_t n;
        if ((st = patron__store_rc(db, db->ops.next_number(db->ctx, &n), "next_number", 0)) != 0)
            return st;
        snprintf(num, sizeof num, "%s%0*llu", db->prefix, (int)db->width, (unsigned long long)n);
        rc = db->ops.claim_number(db->ctx, num);
        if (rc == PATRON_E_EXISTS)
            continue;
        if ((st = patron__store_rc(db, rc, "claim_number", 0)) != 0)
            return st;
        if (patron__cust_put(w, PATRON_F_NUMBER, num))
            return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        return PATRON_OK;
    }
    return patron__db_error(db, PATRON_E_EXISTS, "no free customer number found after 10000 tries");
}

/* ---- create ------------------------------------------------------------- */


patron_status patron__save_new(patron_db *db, patron_customer *c, int state,
                               patron_status (*check)(patron_db *db, const patron_customer *c, void *arg),
                               void *arg)
{
    patron_customer w;
    keyset ks;
    int64_t id = 0;
    patron_status st;
    int64_t now = (int64_t)time(NULL);
    ks.n = ks.n_owned = 0;
    if (!db)
        return PATRON_E_INVALID;
    if (!c)
        return patron__db_error(db, PATRON_E_INVALID, "no customer given (NULL)");
    if (patron_customer_state(c) != PATRON_STATE_NONE || patron_customer_id(c) != 0)
        return patron__db_error(db, PATRON_E_STATE, "this customer was saved before; use patron_db_update");
    if (state == PATRON_STATE_PENDING && c->f[PATRON_F_NUMBER])
        return patron__db_error(db, PATRON_E_INVALID,
                                "a registered customer gets its number when activated; leave it empty");
    memset(&w, 0, sizeof w);
    if ((st = patron__cust_copy(&w, c)) != 0)
        return patron__db_error(db, st, "out of memory");
    if ((st = patron__cust_validate(&w, true)) != 0) {
        patron__db_error(db, st, "%s", w.errmsg);
        patron__cust_clear(&w);
        return st;
    }
    if (patron__cust_put(&w, PATRON_F_STATE, patron__state_name(state)) ||
        patron__cust_put_i64(&w, PATRON_F_REVISION, 1) ||
        patron__cust_put_i64(&w, PATRON_F_CREATED_AT, now) ||
        patron__cust_put_i64(&w, PATRON_F_UPDATED_AT, now) ||
        patron__cust_put(&w, PATRON_F_LOCKED, "0")) {
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
    if (!st && (st = patron__keys_build(&ks, &w, false)) != 0)
        patron__db_error(db, st, "out of memory");
    if (!st)
        st = patron__check_all_unique(db, &w, &ks, 0);
    patron__keys_free(&ks);
    if (!st && state == PATRON_STATE_ACTIVE)
        st = patron__assign_number(db, &w);
    /* the keys again: the number is one of them */
    if (!st && (st = patron__keys_build(&ks, &w, false)) != 0)
        patron__db_error(db, st, "out of memory");
    if (!st)
        st = patron__store_rc(db, db->ops.insert(db->ctx, &w, ks.k, ks.n, &id), "insert", 0);
    if (!st && patron__cust_put_i64(&w, PATRON_F_ID, id))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    patron__keys_free(&ks);
    st = patron__tx_end(db, st);
    if (st) {
        patron__cust_clear(&w);
        return st;
    }
    patron__cust_move(c, &w);
    return patron__db_ok(db);
}

patron_status patron_db_create(patron_db *db, patron_customer *c)
{
    return patron__save_new(db, c, PATRON_STATE_ACTIVE, NULL, NULL);
}

patron_status patron__collect_ids(patron_db *db, int kind, const char *value, int64_t **ids, size_t *n)
{
    struct growing {
        int64_t *ids;
        size_t n, cap;
        bool oom;
    } g = { NULL, 0, 0, false };
    patron_status st;
    st = patron__store_rc(db, db->ops.lookup(db->ctx, kind, value, grow_id, &g), "lookup", 0);
    if (!st && g.oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (st) {
        patron__free(g.ids);
        g.ids = NULL;
        g.n = 0;
    }
    *ids = g.ids;
    *n = g.n;
    return st;
}

/* ---- reading ------------------------------------------------------------ */

patron_status patron__load_in_tx(patron_db *db, patron_customer **out, int64_t id)
{
    patron_customer *c;
    patron_status st = patron_customer_new(&c);
    if (st)
        return patron__db_error(db, st, "out of memory");
    st = patron__store_rc(db, db->ops.load(db->ctx, id, c), "load", PASS_NOT_FOUND);
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
    if ((st = patron__tx_begin(db)) != 0)
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

patron_status patron_db_find(patron_db *db, patron_customer **out, patron_key_kind kind, const char *key)
{
    char *norm;
    int64_t *ids = NULL;
    size_t total = 0;
    patron_customer *c = NULL;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if ((st = normalise_key(db, kind, key, &norm)) != 0)
        return st;
    if ((st = patron__tx_begin(db)) != 0) {
        patron__free(norm);
        return st;
    }
    st = patron__collect_ids(db, kind, norm ? norm : key, &ids, &total);
    if (!st && total == 0)
        st = patron__db_error(db, PATRON_E_NOT_FOUND, "no customer with this %s",
                              kind == PATRON_KEY_NUMBER     ? "customer number"
                              : kind == PATRON_KEY_EXTERNAL ? "external reference"
                              : kind == PATRON_KEY_EMAIL    ? "email address"
                                                            : "login name");
    /* Several records may lead to one customer (a survivor and the records
     * merged into it share an email); several customers are ambiguous. */
    for (size_t i = 0; i < total && !st; i++) {
        patron_customer *r = NULL;
        if ((st = patron__resolve(db, &r, ids[i])) != 0)
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
    patron__free(ids);
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
    idcollect ic;
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
    if ((st = patron__tx_begin(db)) != 0) {
        patron__free(norm);
        return st;
    }
    st = patron__store_rc(db, db->ops.lookup(db->ctx, kind, norm ? norm : key, collect_id, &ic), "lookup", 0);
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
    idcollect ic;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!n_out || (!ids && cap))
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *n_out = 0;
    if (!filter)
        filter = &all;
    if ((int)filter->state < 0 || (int)filter->state > PATRON_STATE_MERGED)
        return patron__db_error(db, PATRON_E_INVALID, "unknown state %d in filter", (int)filter->state);
    if ((int)filter->locked < PATRON_FILTER_ANY || (int)filter->locked > PATRON_FILTER_LOCKED)
        return patron__db_error(db, PATRON_E_INVALID,
                                "filter.locked must be PATRON_FILTER_ANY, _LOCKED or _UNLOCKED");
    if (cap == 0)
        return patron__db_ok(db);
    ic.ids = ids;
    ic.cap = cap;
    ic.n = ic.total = 0;
    if ((st = patron__tx_begin(db)) != 0)
        return st;
    st = patron__store_rc(db, db->ops.scan(db->ctx, filter, after_id, cap, collect_id, &ic), "scan", 0);
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
                                         PATRON_F_MERGED_INTO };
    patron_customer w, *s = NULL;
    keyset ks;
    ks.n = ks.n_owned = 0;
    int64_t id;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!c)
        return patron__db_error(db, PATRON_E_INVALID, "no customer given (NULL)");
    id = patron_customer_id(c);
    if (id <= 0 || patron_customer_state(c) == PATRON_STATE_NONE)
        return patron__db_error(db, PATRON_E_STATE, "this customer was never saved; use patron_db_create");
    memset(&w, 0, sizeof w);
    if ((st = patron__cust_copy(&w, c)) != 0)
        return patron__db_error(db, st, "out of memory");
    if ((st = patron__cust_validate(&w, true)) != 0) {
        patron__db_error(db, st, "%s", w.errmsg);
        patron__cust_clear(&w);
        return st;
    }
    if ((st = patron__tx_begin(db)) != 0) {
        patron__cust_clear(&w);
        return st;
    }
    st = patron__load_in_tx(db, &s, id);
    if (!st && patron_customer_state(s) == PATRON_STATE_MERGED)
        st = patron__db_error(db, PATRON_E_STATE, "customer #%lld was merged into another and cannot change",
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
    if (!st && (patron__cust_put_i64(&w, PATRON_F_REVISION,
                                     (int64_t)patron_customer_revision(s) + 1) ||
                patron__cust_put_i64(&w, PATRON_F_UPDATED_AT, (int64_t)time(NULL))))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st && (st = patron__keys_build(&ks, &w, patron_customer_state(&w) == PATRON_STATE_MERGED)) != 0)
        patron__db_error(db, st, "out of memory");
    if (!st)
        st = patron__check_all_unique(db, &w, &ks, id);
    if (!st && !same(s->f[PATRON_F_GROUP], w.f[PATRON_F_GROUP]))
        st = patron__group_check(db, &w);
    if (!st)
        st = patron__store_rc(db, db->ops.update(db->ctx, &w, ks.k, ks.n), "update", PASS_NOT_FOUND);
    if (st == PATRON_E_NOT_FOUND)
        patron__db_error(db, st, "no customer with id %lld", (long long)id);
    patron__keys_free(&ks);
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
        st = patron__store_rc(db, db->ops.remove(db->ctx, id), "remove", 0);
    patron_customer_free(s);
    st = patron__tx_end(db, st);
    return st ? st : patron__db_ok(db);
}
