/* patron — the customer lifecycle: lock and unlock.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static patron_status journal(patron_db *db, const char *kind, int64_t id, const char *summary)
{
    patron_journal_entry e;
    patron_strbuf sb;
    int64_t jid;
    patron_status st;
    if (!db->ops.journal_append)
        return PATRON_OK; /* the journal is optional for locks */
    patron__sb_init(&sb);
    patron__sb_printf(&sb, "patron-%s 1\nsummary %s\n", kind, summary);
    if (sb.oom) {
        patron__sb_free(&sb);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    memset(&e, 0, sizeof e);
    e.time = (int64_t)time(NULL);
    e.kind = kind;
    e.customer_id = id;
    e.payload = sb.buf;
    st = patron__store_rc(db, db->ops.journal_append(db->ctx, &e, &jid), "journal_append", 0);
    patron__sb_free(&sb);
    return st;
}

/* Load `id`, let `change` edit a copy, save it with a new revision. */
static patron_status set_lock(patron_db *db, int64_t id, const char *reason)
{
    patron_customer *c = NULL;
    keyset ks = { .n = 0 };
    patron_status st;
    int64_t now = (int64_t)time(NULL);
    bool lock = reason != NULL;
    char summary[1100];
    if ((st = patron__tx_begin(db)) != 0)
        return st;
    st = patron__load_in_tx(db, &c, id);
    if (!st && patron_customer_state(c) == PATRON_STATE_MERGED)
        st = patron__db_error(db, PATRON_E_STATE,
                              "customer #%lld was merged into another; lock the survivor", (long long)id);
    if (!st && !lock && !patron_customer_locked(c)) {
        patron_customer_free(c);
        return patron__tx_end(db, PATRON_OK);
    }
    if (!st && (patron__cust_put(c, PATRON_F_LOCKED, lock ? "1" : "0") ||
                patron__cust_put(c, PATRON_F_LOCK_REASON, reason) ||
                (lock ? patron__cust_put_i64(c, PATRON_F_LOCKED_AT, now)
                      : patron__cust_put(c, PATRON_F_LOCKED_AT, NULL)) ||
                patron__cust_put_i64(c, PATRON_F_REVISION, (int64_t)patron_customer_revision(c) + 1) ||
                patron__cust_put_i64(c, PATRON_F_UPDATED_AT, now)))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st && (st = patron__keys_build(&ks, c, false)) != 0)
        patron__db_error(db, st, "out of memory");
    if (!st)
        st = patron__store_rc(db, db->ops.update(db->ctx, c, ks.k, ks.n), "update", 0);
    patron__keys_free(&ks);
    if (!st) {
        snprintf(summary, sizeof summary, "%s #%lld%s%s", lock ? "locked" : "unlocked", (long long)id,
                 lock ? ": " : "", lock ? reason : "");
        st = journal(db, lock ? "lock" : "unlock", id, summary);
    }
    patron_customer_free(c);
    st = patron__tx_end(db, st);
    return st ? st : patron__db_ok(db);
}

patron_status patron_db_lock(patron_db *db, int64_t id, const char *reason)
{
    const patron__field_info *fi = patron__field(PATRON_F_LOCK_REASON);
    const char *canon;
    char cbuf[4];
    patron__field_info text = *fi;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!reason || !*reason)
        return patron__db_error(db, PATRON_E_INVALID, "a lock needs a reason");
    text.kind = PK_TEXT;
    st = patron__check_value("lock reason", &text, reason, db->errmsg, sizeof db->errmsg, &canon, cbuf,
                             sizeof cbuf);
    if (st)
        return st;
    return set_lock(db, id, reason);
}

patron_status patron_db_unlock(patron_db *db, int64_t id)
{
    if (!db)
        return PATRON_E_INVALID;
    return set_lock(db, id, NULL);
}
