/* patron — the store glue: the only file that calls into patron_store_ops.
 * SPDX-License-Identifier: MIT
 *
 * Every callback has one function here that maps its return code
 * (patron__store_rc): features call these, never the callbacks, so that the
 * error mapping, the optional callbacks' fallbacks and the versioned struct
 * are handled in one place (as SQLite's os.c does for its VFS). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
 * caller said they are expected (pass bits); everything else becomes
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

/* ---- the versioned struct ------------------------------------------------ */

/* The size of patron_store_ops as a host built against `version` has it:
 * everything up to the last member of that version (0: unknown version). */
static size_t ops_size(unsigned version)
{
    switch (version) {
    case 1:
        return offsetof(patron_store_ops, meta_scan) + sizeof(((patron_store_ops *)0)->meta_scan);
    case 2:
        return offsetof(patron_store_ops, match_form_get) +
               sizeof(((patron_store_ops *)0)->match_form_get);
    case 3:
        return offsetof(patron_store_ops, count) + sizeof(((patron_store_ops *)0)->count);
    case 4:
        return offsetof(patron_store_ops, begin_read) + sizeof(((patron_store_ops *)0)->begin_read);
    case 5:
        return offsetof(patron_store_ops, purge) + sizeof(((patron_store_ops *)0)->purge);
    case 6:
        return offsetof(patron_store_ops, prefetch) + sizeof(((patron_store_ops *)0)->prefetch);
    default:
        return 0;
    }
}

patron_status patron_store_ops_init(patron_store_ops *ops, unsigned version)
{
    size_t n = ops_size(version);
    if (!ops)
        return PATRON_E_INVALID;
    if (!n)
        return PATRON_E_ABI;
    memset(ops, 0, n);
    ops->version = version;
    return PATRON_OK;
}

patron_status patron_db_open(patron_db **out, const patron_store_ops *ops, void *store_ctx)
{
    patron_db *db;
    if (!out)
        return PATRON_E_INVALID;
    *out = NULL;
    if (!ops)
        return PATRON_E_INVALID;
    if (!ops_size(ops->version))
        return PATRON_E_ABI;
    if (!ops->begin || !ops->commit || !ops->rollback || !ops->load || !ops->insert ||
        !ops->update || !ops->remove || !ops->lookup || !ops->scan || !ops->next_number ||
        !ops->claim_number)
        return PATRON_E_INVALID;
    db = patron__calloc(1, sizeof *db);
    if (!db)
        return PATRON_E_NOMEM;
    /* Copy only the members the host's version has (its struct may end
     * right after them); the newer ones stay NULL. */
    memcpy(&db->ops, ops, ops_size(ops->version));
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
    patron__free(db->match_estimate);
    patron__free(db);
}

const char *patron_db_errmsg(const patron_db *db)
{
    return db ? db->errmsg : "no database handle (NULL)";
}

bool patron__st_has(const patron_db *db, enum patron__cap cap)
{
    const patron_store_ops *o = &db->ops;
    switch (cap) {
    case PATRON__CAP_RELINK: return o->relink != NULL;
    case PATRON__CAP_MOVE_REF: return o->move_ref != NULL;
    case PATRON__CAP_CHECK_REFS: return o->check_refs != NULL;
    case PATRON__CAP_JOURNAL: return o->journal_append != NULL;
    case PATRON__CAP_JOURNAL_UNDO:
        return o->journal_get && o->journal_append && o->journal_set_undone;
    case PATRON__CAP_JOURNAL_SCAN: return o->journal_scan != NULL;
    case PATRON__CAP_META: return o->meta_get && o->meta_put && o->meta_scan;
    case PATRON__CAP_MATCH_FORM: return o->match_form_put && o->match_form_get;
    case PATRON__CAP_JOURNAL_REWRITE: return o->journal_rewrite != NULL;
    }
    return false;
}

static patron_status missing(patron_db *db, const char *cb)
{
    return patron__db_error(db, PATRON_E_UNSUPPORTED, "the store has no '%s' callback", cb);
}

/* ---- transactions ----------------------------------------------------- */

patron_status patron__tx_begin(patron_db *db)
{
    db->tx_serial++;
    return patron__store_rc(db, db->ops.begin(db->ctx), "begin", 0);
}

patron_status patron__tx_begin_read(patron_db *db)
{
    if (db->ops.begin_read) {
        db->tx_serial++;
        return patron__store_rc(db, db->ops.begin_read(db->ctx), "begin_read", 0);
    }
    return patron__tx_begin(db);
}

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

/* ---- records ------------------------------------------------------------- */

patron_status patron__st_load(patron_db *db, int64_t id, patron_customer *out, unsigned pass)
{
    return patron__store_rc(db, db->ops.load(db->ctx, id, out), "load", pass);
}

static patron_status put_form(patron_db *db, int64_t id, const keyset *ks)
{
    if (!ks->form || !patron__st_has(db, PATRON__CAP_MATCH_FORM))
        return PATRON_OK;
    return patron__store_rc(db, db->ops.match_form_put(db->ctx, id, ks->form, ks->form_len),
                            "match_form_put", 0);
}

/* Version 6: a hint, so NULL is no prefetch at all. */
patron_status patron__st_prefetch(patron_db *db, const patron_key *keys, size_t n_keys,
                                  const char *const *numbers, size_t n_numbers, size_t n_inserts)
{
    if (!db->ops.prefetch || (n_keys == 0 && n_numbers == 0 && n_inserts == 0))
        return PATRON_OK;
    return patron__store_rc(db, db->ops.prefetch(db->ctx, keys, n_keys, numbers, n_numbers, n_inserts),
                            "prefetch", 0);
}

bool patron__st_can_prefetch(const patron_db *db)
{
    return db->ops.prefetch != NULL;
}

patron_status patron__st_insert(patron_db *db, const patron_customer *c, const keyset *ks, int64_t *id_out)
{
    patron_status st = patron__store_rc(db, db->ops.insert(db->ctx, c, ks->k, ks->n, id_out), "insert", 0);
    return st ? st : put_form(db, *id_out, ks);
}

patron_status patron__st_update(patron_db *db, const patron_customer *c, const keyset *ks, unsigned pass)
{
    patron_status st = patron__store_rc(db, db->ops.update(db->ctx, c, ks->k, ks->n), "update", pass);
    return st ? st : put_form(db, patron_customer_id(c), ks);
}

patron_status patron__st_remove(patron_db *db, int64_t id)
{
    return patron__store_rc(db, db->ops.remove(db->ctx, id), "remove", 0);
}

patron_status patron__st_lookup(patron_db *db, int kind, const char *value, patron_emit_id_fn emit,
                                void *emit_ctx)
{
    return patron__store_rc(db, db->ops.lookup(db->ctx, kind, value, emit, emit_ctx), "lookup", 0);
}

typedef struct count_cap {
    uint64_t n, cap;
} count_cap;

static int count_id(void *ctx, int64_t id)
{
    count_cap *c = ctx;
    (void)id;
    return ++c->n >= c->cap; /* stop at the cap */
}

patron_status patron__st_count(patron_db *db, int kind, const char *value, uint64_t cap, uint64_t *out)
{
    *out = 0;
    if (db->ops.count) /* version 3: from the index */
        return patron__store_rc(db, db->ops.count(db->ctx, kind, value, out), "count", 0);
    {
        count_cap cc = { 0, cap };
        patron_status st = patron__store_rc(db, db->ops.lookup(db->ctx, kind, value, count_id, &cc), "lookup", 0);
        if (!st)
            *out = cc.n;
        return st;
    }
}

patron_status patron__st_scan(patron_db *db, const patron_store_filter *filter, int64_t after_id, size_t limit,
                              patron_emit_id_fn emit, void *emit_ctx)
{
    return patron__store_rc(db, db->ops.scan(db->ctx, filter, after_id, limit, emit, emit_ctx), "scan", 0);
}

static int stop_at_one(void *ctx, int64_t id)
{
    (void)id;
    *(bool *)ctx = true;
    return 1;
}

patron_status patron__st_any(patron_db *db, bool *any)
{
    static const patron_store_filter all = PATRON_FILTER_INIT;
    *any = false;
    return patron__st_scan(db, &all, 0, 1, stop_at_one, any);
}

patron_status patron__st_match_form(patron_db *db, int64_t id, const void **form, size_t *len)
{
    *form = NULL;
    *len = 0;
    if (!patron__st_has(db, PATRON__CAP_MATCH_FORM))
        return PATRON_E_NOT_FOUND;
    return patron__store_rc(db, db->ops.match_form_get(db->ctx, id, form, len), "match_form_get",
                            PASS_NOT_FOUND);
}

/* ---- numbers --------------------------------------------------------------- */

patron_status patron__st_next_number(patron_db *db, uint64_t *out)
{
    return patron__store_rc(db, db->ops.next_number(db->ctx, out), "next_number", 0);
}

patron_status patron__st_claim_number(patron_db *db, const char *number, unsigned pass)
{
    return patron__store_rc(db, db->ops.claim_number(db->ctx, number), "claim_number", pass);
}

/* ---- references ------------------------------------------------------------ */

patron_status patron__st_relink(patron_db *db, int64_t from_id, int64_t to_id, patron_emit_ref_fn emit,
                                void *emit_ctx)
{
    if (!db->ops.relink)
        return missing(db, "relink");
    return patron__store_rc(db, db->ops.relink(db->ctx, from_id, to_id, emit, emit_ctx), "relink", 0);
}

patron_status patron__st_move_ref(patron_db *db, const char *kind, const char *ref_id, int64_t to_id)
{
    if (!db->ops.move_ref)
        return missing(db, "move_ref");
    return patron__store_rc(db, db->ops.move_ref(db->ctx, kind, ref_id, to_id), "move_ref", 0);
}

patron_status patron__st_check_refs(patron_db *db, int64_t id, patron_emit_reason_fn emit, void *emit_ctx)
{
    if (!db->ops.check_refs)
        return missing(db, "check_refs");
    return patron__store_rc(db, db->ops.check_refs(db->ctx, id, emit, emit_ctx), "check_refs", 0);
}

/* ---- journal --------------------------------------------------------------- */

patron_status patron__st_journal_append(patron_db *db, const patron_journal_entry *e, int64_t *id_out)
{
    if (!db->ops.journal_append)
        return missing(db, "journal_append");
    return patron__store_rc(db, db->ops.journal_append(db->ctx, e, id_out), "journal_append", 0);
}

patron_status patron__st_journal_get(patron_db *db, int64_t id, patron_emit_journal_fn emit, void *emit_ctx,
                                     unsigned pass)
{
    if (!db->ops.journal_get)
        return missing(db, "journal_get");
    return patron__store_rc(db, db->ops.journal_get(db->ctx, id, emit, emit_ctx), "journal_get", pass);
}

patron_status patron__st_journal_scan(patron_db *db, int64_t after_id, size_t limit,
                                      patron_emit_journal_fn emit, void *emit_ctx)
{
    if (!db->ops.journal_scan)
        return missing(db, "journal_scan");
    return patron__store_rc(db, db->ops.journal_scan(db->ctx, after_id, limit, emit, emit_ctx),
                            "journal_scan", 0);
}

patron_status patron__st_journal_set_undone(patron_db *db, int64_t id, int64_t undone_by)
{
    if (!db->ops.journal_set_undone)
        return missing(db, "journal_set_undone");
    return patron__store_rc(db, db->ops.journal_set_undone(db->ctx, id, undone_by), "journal_set_undone", 0);
}

patron_status patron__st_journal_rewrite(patron_db *db, int64_t id, const char *payload)
{
    if (!db->ops.journal_rewrite)
        return missing(db, "journal_rewrite");
    return patron__store_rc(db, db->ops.journal_rewrite(db->ctx, id, payload), "journal_rewrite", 0);
}

patron_status patron__st_purge(patron_db *db)
{
    if (!db->ops.purge)
        return PATRON_OK;
    return patron__store_rc(db, db->ops.purge(db->ctx), "purge", 0);
}

/* ---- named values ------------------------------------------------------------ */

patron_status patron__st_meta_get(patron_db *db, const char *key, patron_emit_meta_fn emit, void *emit_ctx,
                                  unsigned pass)
{
    if (!db->ops.meta_get)
        return missing(db, "meta_get");
    return patron__store_rc(db, db->ops.meta_get(db->ctx, key, emit, emit_ctx), "meta_get", pass);
}

patron_status patron__st_meta_put(patron_db *db, const char *key, const char *value)
{
    if (!db->ops.meta_put)
        return missing(db, "meta_put");
    return patron__store_rc(db, db->ops.meta_put(db->ctx, key, value), "meta_put", 0);
}

patron_status patron__st_meta_scan(patron_db *db, const char *prefix, patron_emit_meta_fn emit,
                                   void *emit_ctx)
{
    if (!db->ops.meta_scan)
        return missing(db, "meta_scan");
    return patron__store_rc(db, db->ops.meta_scan(db->ctx, prefix, emit, emit_ctx), "meta_scan", 0);
}
