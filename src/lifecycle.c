/* patron — the customer lifecycle: lock and unlock.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static patron_status journal(patron_db *db, const char *kind, int64_t id, const char *summary)
{
    patron_journal_entry e;
    patron_strbuf sb;
    int64_t jid;
    patron_status st;
    if (!patron__st_has(db, PATRON__CAP_JOURNAL))
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
    st = patron__st_journal_append(db, &e, &jid);
    patron__sb_free(&sb);
    return st;
}

/* Load `id`, let `change` edit a copy, save it with a new revision. */
static patron_status set_lock(patron_db *db, int64_t id, const char *reason)
{
    patron_customer *c = NULL;
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
    if (!st && patron_customer_state(c) == PATRON_STATE_ERASED)
        st = patron__db_error(db, PATRON_E_STATE, "customer #%lld was erased", (long long)id);
    if (!st && !lock && !patron_customer_locked(c)) {
        patron_customer_free(c);
        return patron__tx_end(db, PATRON_OK);
    }
    if (!st && (patron__cust_put(c, PATRON_F_LOCKED, lock ? "1" : "0") ||
                patron__cust_put(c, PATRON_F_LOCK_REASON, reason) ||
                (lock ? patron__cust_put_i64(c, PATRON_F_LOCKED_AT, now)
                      : patron__cust_put(c, PATRON_F_LOCKED_AT, NULL))))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st)
        st = patron__save_changed(db, c, NULL, now);
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

/* ---- registration ---------------------------------------------------------- */

/* Customers sharing the normalised email of `c`: a locked one refuses the
 * registration, a pending one reports a second registration; an active
 * one is reported through *existing (activation will offer the merge). */
static patron_status check_email_free(patron_db *db, const patron_customer *c, void *arg)
{
    char norm[PATRON__MATCH_BUF];
    patron_status st = PATRON_OK;
    const char *email = patron_customer_get(c, PATRON_F_EMAIL);
    int64_t *existing = arg;
    patron__idvec idv = PATRON__IDVEC_INIT;
    const int64_t *ids;
    if (!email || patron__match_norm_email(norm, email) == 0)
        return PATRON_OK;
    st = patron__collect_ids(db, PATRON__KEY_EMAIL, norm, &idv);
    ids = idv.v;
    for (size_t pass = 0; pass < 2 && !st; pass++)
        for (size_t i = 0; i < idv.n && !st; i++) {
            patron_customer *o = NULL;
            patron_state state;
            if ((st = patron__load_in_tx(db, &o, ids[i])) != 0)
                break;
            state = patron_customer_state(o);
            if (pass == 0 && patron_customer_locked(o) && state != PATRON_STATE_MERGED)
                st = patron__db_error(db, PATRON_E_LOCKED,
                                      "this email belongs to a locked customer; a locked customer "
                                      "cannot register again");
            else if (pass == 1 && state == PATRON_STATE_PENDING)
                st = patron__db_error(db, PATRON_E_EXISTS,
                                      "this email is already registered and waits for activation "
                                      "(pending customer #%lld)",
                                      (long long)ids[i]);
            else if (pass == 1 && state == PATRON_STATE_ACTIVE && existing && !*existing)
                *existing = ids[i];
            patron_customer_free(o);
        }
    patron__idvec_free(&idv);
    return st;
}

patron_status patron_db_register(patron_db *db, int64_t *existing_id_out, patron_customer *c)
{
    int64_t existing = 0;
    patron_status st;
    if (existing_id_out)
        *existing_id_out = 0;
    st = patron__save_new(db, c, PATRON_STATE_PENDING, check_email_free, &existing);
    if (!st && existing_id_out)
        *existing_id_out = existing;
    return st;
}

/* ---- activation -------------------------------------------------------------- */

struct patron_activation {
    int outcome;
    int64_t customer, merged_into, journal;
    char *number;
    char message[600];
    patron_matches *cands;
    patron_merge_plan **plans;
    size_t n_plans;
};

void patron_activation_free(patron_activation *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_plans; i++)
        patron_merge_plan_free(a->plans[i]);
    patron__free(a->plans);
    patron_matches_free(a->cands);
    patron__free(a->number);
    patron__free(a);
}

patron_outcome patron_activation_outcome(const patron_activation *a)
{
    return a ? (patron_outcome)a->outcome : PATRON_OUTCOME_FAILED;
}

const char *patron_outcome_name(patron_outcome o)
{
    switch (o) {
    case PATRON_OUTCOME_ACTIVATED: return "activated";
    case PATRON_OUTCOME_MERGED: return "merged";
    case PATRON_OUTCOME_REVIEW: return "review";
    case PATRON_OUTCOME_FAILED: return "failed";
    default: return NULL;
    }
}
int64_t patron_activation_customer(const patron_activation *a)
{
    return a ? a->customer : 0;
}
const char *patron_activation_number(const patron_activation *a)
{
    return a ? a->number : NULL;
}
int64_t patron_activation_merged_into(const patron_activation *a)
{
    return a ? a->merged_into : 0;
}
int64_t patron_activation_journal(const patron_activation *a)
{
    return a ? a->journal : 0;
}
const char *patron_activation_message(const patron_activation *a)
{
    return a ? a->message : "";
}
size_t patron_activation_candidate_count(const patron_activation *a)
{
    return a ? patron_matches_count(a->cands) : 0;
}
patron_status patron_activation_candidate(const patron_activation *a, int64_t *id, double *score,
                                          patron_decision *decision, size_t i)
{
    if (!a) {
        patron_matches_get(NULL, id, score, decision, i); /* clears the out-parameters */
        return PATRON_E_INVALID;
    }
    if (!a->cands) {
        patron_matches_get(NULL, id, score, decision, i);
        return PATRON_E_RANGE;
    }
    return patron_matches_get(a->cands, id, score, decision, i);
}
patron_merge_plan *patron_activation_plan(patron_activation *a, size_t i)
{
    return a && i < a->n_plans ? a->plans[i] : NULL;
}

/* Give pending customer `c` (loaded in this transaction) its number. */
static patron_status activate_record(patron_db *db, patron_customer *c)
{
    patron_status st;
    if (patron__cust_put(c, PATRON_F_STATE, "active"))
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if ((st = patron__assign_number(db, c)) != 0)
        return st;
    return patron__save_changed(db, c, NULL, 0);
}

static patron_status load_pending(patron_db *db, patron_customer **c, int64_t id)
{
    patron_status st = patron__load_in_tx(db, c, id);
    if (!st && patron_customer_state(*c) != PATRON_STATE_PENDING) {
        st = patron__db_error(db, PATRON_E_STATE, "customer #%lld is %s, not pending", (long long)id,
                              patron__state_name(patron_customer_state(*c)));
        patron_customer_free(*c);
        *c = NULL;
    }
    return st;
}

/* Merge pending `c` into `survivor` in this transaction.  PATRON_E_STATE if
 * the plan has problems (different logins): the caller reports review. */
static patron_status merge_into(patron_db *db, patron_activation *a, int64_t survivor,
                                const patron_customer *c)
{
    patron_merge_plan *p = NULL;
    int64_t cid = patron_customer_id(c);
    patron_status st = patron__plan_new_in_tx(db, &p, survivor, &cid, 1, PATRON_MERGE_SURVIVOR);
    if (!st && *patron_merge_plan_problems(p))
        st = patron__db_error(db, PATRON_E_STATE, "%s", patron_merge_plan_problems(p));
    if (!st)
        st = patron__merge_in_tx(db, p, &a->journal);
    if (!st) {
        const char *num = patron_customer_get(patron_merge_plan_record(p, 0), PATRON_F_NUMBER);
        a->outcome = PATRON_OUTCOME_MERGED;
        a->merged_into = survivor;
        if (num && !(a->number = patron__strdup(num)))
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        snprintf(a->message, sizeof a->message, "merged into #%lld %s", (long long)survivor,
                 num ? num : "");
    }
    patron_merge_plan_free(p);
    return st;
}

static patron_status activate_in_tx(patron_db *db, patron_activation *a, int64_t id, int mode,
                                    unsigned flags)
{
    patron_customer *c = NULL;
    const patron__cand *cand;
    size_t n;
    patron_status st = load_pending(db, &c, id);
    if (st)
        return st;
    st = patron__candidates_in_tx(db, &a->cands, c,
                                  mode == PATRON_ACTIVATE_EMAIL ? PATRON_MATCH_EMAIL : PATRON_MATCH_FIELDS,
                                  true, true);
    n = patron__matches_n(a->cands, &cand);
    if (!st && mode == PATRON_ACTIVATE_EMAIL) {
        /* The email mode merges on an equal address only: keep those. */
        size_t equal = 0;
        int64_t target = 0;
        for (size_t i = 0; i < n; i++)
            if (cand[i].decision == PATRON_DECISION_MERGE) {
                equal++;
                target = cand[i].id;
            }
        if (equal == 1) {
            patron_customer *t = NULL;
            st = patron__load_in_tx(db, &t, target);
            if (!st && patron_customer_locked(t) && !(flags & PATRON_ACTIVATE_LOCKED_SURVIVORS))
                equal = 2; /* not automatically: report */
            patron_customer_free(t);
        }
        if (!st && equal == 1) {
            st = merge_into(db, a, target, c);
            if (st == PATRON_E_STATE) { /* two logins: a person decides */
                a->outcome = PATRON_OUTCOME_REVIEW;
                snprintf(a->message, sizeof a->message, "needs review: %s", patron_db_errmsg(db));
                st = PATRON_OK;
            }
            patron_customer_free(c);
            return st;
        }
        if (!st && equal > 1) {
            a->outcome = PATRON_OUTCOME_REVIEW;
            snprintf(a->message, sizeof a->message,
                     "needs review: %zu active customers share this email", equal);
            patron_customer_free(c);
            return st;
        }
        /* no equal email to merge on: activate, reporting what came close */
    }
    if (!st && mode == PATRON_ACTIVATE_AUTO) {
        for (size_t i = 0; i < n && !st; i++) {
            patron_customer *t = NULL;
            bool eligible;
            if (cand[i].decision != PATRON_DECISION_MERGE)
                continue;
            st = patron__load_in_tx(db, &t, cand[i].id);
            eligible = !st && (!patron_customer_locked(t) || (flags & PATRON_ACTIVATE_LOCKED_SURVIVORS));
            patron_customer_free(t);
            if (!eligible)
                continue;
            st = merge_into(db, a, cand[i].id, c);
            if (st == PATRON_E_STATE) { /* the login decides nothing automatically */
                a->outcome = PATRON_OUTCOME_REVIEW;
                snprintf(a->message, sizeof a->message, "needs review: %s", patron_db_errmsg(db));
                st = PATRON_OK;
            }
            patron_customer_free(c);
            return st;
        }
    }
    if (!st && mode == PATRON_ACTIVATE_INTERACTIVE && n) {
        a->plans = patron__calloc(n, sizeof *a->plans);
        if (!a->plans)
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        for (size_t i = 0; i < n && !st; i++) {
            int64_t cid = id;
            st = patron__plan_new_in_tx(db, &a->plans[i], cand[i].id, &cid, 1, PATRON_MERGE_SURVIVOR);
            if (!st) {
                patron_merge_plan_set_activate(a->plans[i], 0);
                a->n_plans = i + 1;
            }
        }
        if (!st) {
            a->outcome = PATRON_OUTCOME_REVIEW;
            snprintf(a->message, sizeof a->message, "needs review: %zu possible duplicate%s (best #%lld, %s)",
                     n, n == 1 ? "" : "s", (long long)cand[0].id, cand[0].decision == PATRON_DECISION_MERGE ? "merge" : "review");
        }
        patron_customer_free(c);
        return st;
    }
    if (!st)
        st = activate_record(db, c);
    if (!st) {
        const char *num = patron_customer_get(c, PATRON_F_NUMBER);
        a->outcome = PATRON_OUTCOME_ACTIVATED;
        if (!(a->number = patron__strdup(num)))
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        if (n && mode != PATRON_ACTIVATE_INTERACTIVE)
            snprintf(a->message, sizeof a->message,
                     "activated as %s; %zu possible duplicate%s to review", num, n, n == 1 ? "" : "s");
        else
            snprintf(a->message, sizeof a->message, "activated as %s", num);
    }
    patron_customer_free(c);
    return st;
}

patron_status patron_db_activate(patron_db *db, patron_activation **out, int64_t id,
                                 patron_activate_mode mode, unsigned flags)
{
    patron_activation *a;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if ((int)mode < PATRON_ACTIVATE_INTERACTIVE || (int)mode > PATRON_ACTIVATE_EMAIL)
        return patron__db_error(db, PATRON_E_INVALID, "unknown activation mode %d", (int)mode);
    a = patron__calloc(1, sizeof *a);
    if (!a)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    a->customer = id;
    if ((st = patron__tx_begin(db)) != 0) {
        patron_activation_free(a);
        return st;
    }
    st = patron__tx_end(db, activate_in_tx(db, a, id, mode, flags));
    if (st) {
        patron_activation_free(a);
        return st;
    }
    *out = a;
    return patron__db_ok(db);
}

patron_status patron_db_activate_pending(patron_db *db, patron_activation_summary *out,
                                         const patron_activate_options *opts)
{
    static const patron_activate_options defaults = PATRON_ACTIVATE_OPTIONS_INIT;
    patron_filter f = PATRON_FILTER_INIT;
    int64_t page[256], after = 0;
    size_t counts[5] = { 0 }, got;
    patron_activate_mode mode;
    unsigned flags;
    patron_activation_fn fn;
    void *payload;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!opts)
        opts = &defaults;
    /* Version 1 is the only one so far: every member is read.  A later
     * version appends members and reads them only when opts->version says
     * the caller's struct has them. */
    if (opts->version < 1 || opts->version > PATRON_ACTIVATE_OPTIONS_VERSION)
        return patron__db_error(db, PATRON_E_ABI, "patron_activate_options version %u is not supported "
                                "(this library knows 1..%d)", opts->version, PATRON_ACTIVATE_OPTIONS_VERSION);
    if (out && (out->version < 1 || out->version > PATRON_ACTIVATION_SUMMARY_VERSION))
        return patron__db_error(db, PATRON_E_ABI, "patron_activation_summary version %u is not supported "
                                "(this library knows 1..%d)", out->version, PATRON_ACTIVATION_SUMMARY_VERSION);
    if (out)
        out->activated = out->merged = out->review = out->failed = 0;
    mode = opts->mode;
    flags = opts->flags;
    fn = opts->fn;
    payload = opts->payload;
    if ((int)mode < PATRON_ACTIVATE_INTERACTIVE || (int)mode > PATRON_ACTIVATE_EMAIL)
        return patron__db_error(db, PATRON_E_INVALID, "unknown activation mode %d", (int)mode);
    f.state = PATRON_STATE_PENDING;
    /* Customers left pending for review stay pending: the id cursor moves
     * on, so each is seen once. */
    do {
        if ((st = patron_db_list(db, page, &got, 256, &f, after)) != 0)
            return st;
        for (size_t i = 0; i < got; i++) {
            patron_activation *a = NULL;
            patron_activation failed;
            const patron_activation *report;
            after = page[i];
            st = patron_db_activate(db, &a, page[i], mode, flags);
            if (st == PATRON_E_STATE || st == PATRON_E_NOT_FOUND)
                continue; /* activated or removed meanwhile by someone else */
            if (st) {
                memset(&failed, 0, sizeof failed);
                failed.outcome = PATRON_OUTCOME_FAILED;
                failed.customer = page[i];
                snprintf(failed.message, sizeof failed.message, "failed: %s", patron_db_errmsg(db));
                report = &failed;
            } else {
                report = a;
            }
            counts[report->outcome]++;
            if (fn && fn(payload, report)) {
                patron_activation_free(a);
                goto done;
            }
            patron_activation_free(a);
        }
    } while (got == 256);
done:
    if (out) {
        out->activated = counts[PATRON_OUTCOME_ACTIVATED];
        out->merged = counts[PATRON_OUTCOME_MERGED];
        out->review = counts[PATRON_OUTCOME_REVIEW];
        out->failed = counts[PATRON_OUTCOME_FAILED];
    }
    return patron__db_ok(db);
}

patron_status patron_db_release(patron_db *db, char **number_out, int64_t id)
{
    patron_customer *c = NULL;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (number_out)
        *number_out = NULL;
    if ((st = patron__tx_begin(db)) != 0)
        return st;
    st = load_pending(db, &c, id);
    if (!st)
        st = activate_record(db, c);
    if (!st) {
        char summary[128];
        snprintf(summary, sizeof summary, "released #%lld as %s", (long long)id,
                 patron_customer_get(c, PATRON_F_NUMBER));
        st = journal(db, "release", id, summary);
    }
    if (!st && number_out && !(*number_out = patron__strdup(patron_customer_get(c, PATRON_F_NUMBER))))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    st = patron__tx_end(db, st);
    if (st && number_out) {
        patron__free(*number_out);
        *number_out = NULL;
    }
    patron_customer_free(c);
    return st ? st : patron__db_ok(db);
}

/* ---- the gate ------------------------------------------------------------------ */

const char *patron_gate_name(patron_gate v)
{
    switch (v) {
    case PATRON_GATE_ALLOWED: return "allowed";
    case PATRON_GATE_LOCKED: return "locked";
    case PATRON_GATE_PENDING: return "pending";
    case PATRON_GATE_UNKNOWN: return "unknown";
    case PATRON_GATE_MERGED: return "merged";
    case PATRON_GATE_ERASED: return "erased";
    default: return NULL;
    }
}

static patron_gate verdict_of(const patron_customer *c)
{
    if (patron_customer_state(c) == PATRON_STATE_ERASED)
        return PATRON_GATE_ERASED;
    if (patron_customer_state(c) == PATRON_STATE_MERGED)
        return PATRON_GATE_MERGED;
    if (patron_customer_locked(c))
        return PATRON_GATE_LOCKED;
    if (patron_customer_state(c) == PATRON_STATE_PENDING)
        return PATRON_GATE_PENDING;
    return PATRON_GATE_ALLOWED;
}

static patron_status gate_for_id(patron_db *db, patron_gate *verdict, int64_t *cid, int64_t id)
{
    patron_customer *c = NULL;
    patron_status st = patron__load_in_tx(db, &c, id);
    if (st == PATRON_E_NOT_FOUND) {
        *verdict = PATRON_GATE_UNKNOWN;
        *cid = 0;
        return PATRON_OK;
    }
    if (st)
        return st;
    *verdict = verdict_of(c);
    *cid = id;
    if (*verdict == PATRON_GATE_MERGED) {
        const char *into = patron_customer_get(c, PATRON_F_MERGED_INTO);
        *cid = into ? strtoll(into, NULL, 10) : 0;
    }
    patron_customer_free(c);
    return PATRON_OK;
}

patron_status patron_db_can_login(patron_db *db, patron_gate *verdict, int64_t *customer_id, const char *login)
{
    int64_t ids[2], resolved[2] = { 0, 0 }, cid = 0;
    size_t total = 0;
    char *email = NULL;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!verdict || !login || !*login)
        return patron__db_error(db, PATRON_E_INVALID, "no login given");
    *verdict = PATRON_GATE_UNKNOWN;
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    st = patron__lookup_few(db, PATRON_KEY_LOGIN, login, ids, &total);
    if (!st && total == 0) {
        /* Customers without a login name log in with their email; a shared
         * mailbox counts only for the one of them without a login name. */
        patron__idvec allv = PATRON__IDVEC_INIT;
        const int64_t *all;
        size_t n_all;
        if (!(email = patron__ascii_lower_trim(login)))
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        if (!st)
            st = patron__collect_ids(db, PATRON_KEY_EMAIL, email, &allv);
        all = allv.v;
        n_all = allv.n;
        for (size_t i = 0; i < n_all && !st; i++) {
            patron_customer *c = NULL;
            if ((st = patron__load_in_tx(db, &c, all[i])) != 0)
                break;
            if (!patron_customer_get(c, PATRON_F_LOGIN_USER)) {
                /* a merged record and its survivor are one customer */
                int64_t sid = all[i];
                if (patron_customer_state(c) == PATRON_STATE_MERGED) {
                    const char *into = patron_customer_get(c, PATRON_F_MERGED_INTO);
                    sid = into ? strtoll(into, NULL, 10) : 0;
                }
                bool seen = false;
                for (size_t k = 0; k < total && k < 2; k++)
                    if (resolved[k] == sid) {
                        seen = true;
                        if (all[i] == sid) /* the survivor itself has the email */
                            ids[k] = sid;
                    }
                if (!seen) {
                    if (total < 2) {
                        ids[total] = all[i];
                        resolved[total] = sid;
                    }
                    total++;
                }
            }
            patron_customer_free(c);
        }
        patron__idvec_free(&allv);
        if (!st && total > 1)
            st = patron__db_error(db, PATRON_E_AMBIGUOUS,
                                  "%zu customers without a login name share this email", total);
    }
    if (!st && total == 1)
        st = gate_for_id(db, verdict, &cid, ids[0]);
    patron__free(email);
    st = patron__tx_end(db, st);
    if (customer_id)
        *customer_id = st ? 0 : cid;
    return st ? st : patron__db_ok(db);
}

patron_status patron_db_can_order(patron_db *db, patron_gate *verdict, int64_t *customer_id, int64_t id)
{
    int64_t cid = 0;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!verdict)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the answer (NULL)");
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    st = patron__tx_end(db, gate_for_id(db, verdict, &cid, id));
    if (customer_id)
        *customer_id = st ? 0 : cid;
    return st ? st : patron__db_ok(db);
}
