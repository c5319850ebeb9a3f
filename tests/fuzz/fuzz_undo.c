/* Fuzz target: merge, then undo, with choices from the input.  Two to four
 * customers built from the input (fz_customer(); some pending, some
 * locked), each with an order; a plan with a survivor and duplicates the
 * input picks, a policy, field choices (a record's value or a value of
 * the input's own), a lock decision and the activation flag.  Invariants:
 *  - the plan's choices are in range, its JSON well-formed;
 *  - a refused merge changes nothing (revisions included);
 *  - an accepted merge moves every order to the survivor, leaves the
 *    duplicates merged into it, and their numbers find the survivor;
 *  - undoing it succeeds and gives back the store as it was before the
 *    merge — every customer's JSON (all but revision and update time),
 *    the keys and every order — with revisions that only grew;
 *  - a second undo is refused. */
#include "check.h"

#include <string.h>

#define MAXC 4

static const char *const VALUES[] = { "Anna", "Müller", "anna@example.de", "1980-12-24", "de", "1",
                                      "Firma GmbH", "DE123456789", "" };

#define HASH_TEXT "fuzzfuzzfuzz"

/* A plain search: libFuzzer does not see it, so it does not learn the
 * text and put it into names. */
static int contains_n(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        size_t k = 0;
        while (k < n && hay[i + k] == needle[k])
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

static int contains(const char *hay, const char *needle)
{
    return contains_n(hay, strlen(hay), needle);
}

/* Does any record of the plan hold `text` in a value other than its hash? */
static int holds_outside_hash(const patron_merge_plan *plan, const char *text)
{
    for (size_t k = 0; k < patron_merge_plan_count(plan); k++) {
        patron_customer *c = NULL;
        fz_blob b;
        int found;
        FZ_OK(patron_customer_clone(patron_merge_plan_record(plan, k), &c));
        FZ_OK(patron_record_set(c, PATRON_F_LOGIN_HASH, NULL));
        b = fz_pack(c);
        found = contains_n(b.p, b.n, text);
        patron_free(b.p);
        patron_customer_free(c);
        if (found)
            return 1;
    }
    for (int f = 1; f < PATRON_F__END; f++) { /* values of the caller's own */
        const char *v = f == PATRON_F_LOGIN_HASH ? NULL : patron_merge_plan_value(plan, f);
        if (v && contains(v, text))
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    patron_memstore *ms = NULL;
    patron_db *db = NULL;
    int64_t ids[MAXC], dups[MAXC], jid = 0, uid = 0;
    size_t n = 0, nd = 0;
    unsigned want, surv;
    patron_merge_plan *plan = NULL;
    char *before, *before_rev, *after, *json = NULL;
    uint64_t rev[MAXC];
    patron_status st;

    fz_init(&in, data, size);
    FZ_OK(patron_memstore_new(&ms));
    FZ_OK(patron_db_open_memory(&db, ms));
    want = 2 + fz_pick(&in, MAXC - 1);
    for (unsigned i = 0; i < want && fz_left(&in); i++) {
        unsigned how = fz_u8(&in);
        patron_customer *c = fz_customer(&in);
        st = (how & 3) == 3 ? patron_db_register(db, NULL, c) : patron_db_create(db, c);
        if (st == PATRON_OK) {
            char ref[24];
            ids[n] = patron_customer_id(c);
            snprintf(ref, sizeof ref, "o%zu", n + 1);
            FZ_OK(patron_memstore_set_ref(ms, "order", ref, ids[n], 0));
            if (how & 4)
                FZ_OK(patron_db_lock(db, ids[n], (how & 8) ? "Zahlungsausfall" : "fuzz"));
            n++;
        }
        patron_customer_free(c);
    }
    if (n < 2)
        goto done;
    for (size_t i = 0; i < n; i++) {
        patron_customer *c = NULL;
        FZ_OK(patron_db_load(db, &c, ids[i]));
        rev[i] = patron_customer_revision(c);
        patron_customer_free(c);
    }
    before = fz_snapshot(db, ms, (int)n, 1);
    before_rev = fz_snapshot(db, ms, (int)n, 0);

    /* the plan: a survivor, duplicates (a non-empty subset of the rest) */
    surv = fz_pick(&in, (unsigned)n);
    {
        unsigned mask = fz_u8(&in);
        for (size_t i = 0; i < n; i++)
            if (i != surv && (mask >> i & 1))
                dups[nd++] = ids[i];
        if (nd == 0)
            dups[nd++] = ids[surv == 0 ? 1 : 0];
    }
    st = patron_merge_plan_new(db, &plan, ids[surv], dups, nd,
                               (fz_u8(&in) & 1) ? PATRON_MERGE_NEWEST : PATRON_MERGE_SURVIVOR);
    FZ_CHECK(st == PATRON_OK || st == PATRON_E_INVALID || st == PATRON_E_STATE,
             "a plan is made or refused: %s", patron_db_errmsg(db));
    if (st != PATRON_OK)
        goto compare;
    FZ_CHECK(patron_merge_plan_count(plan) == nd + 1, "the plan holds every record");
    for (int ops = fz_pick(&in, 12); ops > 0; ops--) {
        unsigned op = fz_u8(&in) % 4;
        int f = (int)fz_pick(&in, PATRON_F__END + 1);
        char buf[80];
        if (op == 0 || op == 1) {
            size_t k = fz_pick(&in, (unsigned)nd + 2);
            st = patron_merge_plan_take(plan, f, k);
            if (st == PATRON_OK && f != PATRON_F_LOGIN_USER && f != PATRON_F_NOTES) {
                const char *v = patron_customer_get(patron_merge_plan_record(plan, k), f);
                const char *pv = patron_merge_plan_value(plan, f);
                int choice = -9;
                FZ_OK(patron_merge_plan_choice(plan, &choice, f));
                FZ_CHECK(choice == (int)k, "take sets the choice");
                FZ_CHECK((v == NULL) == (pv == NULL) && (!v || strcmp(v, pv) == 0),
                         "the taken value is record %zu's", k);
            }
            FZ_CHECK(k <= nd || st != PATRON_OK, "a record past the end cannot be taken");
        } else if (op == 2) {
            const char *v = fz_word(&in, VALUES, sizeof VALUES / sizeof *VALUES, buf, 64);
            (void)patron_merge_plan_set(plan, f, v);
        } else {
            int lock = (int)fz_pick(&in, 4) - 1;
            st = patron_merge_plan_set_lock(plan, (patron_merge_lock)lock);
            FZ_CHECK((st == PATRON_OK) == (lock >= -1 && lock <= 1), "lock decisions -1..1 only");
            FZ_OK(patron_merge_plan_set_activate(plan, (int)(fz_u8(&in) & 1)));
        }
    }
    for (int f = 1; f < PATRON_F__END; f++) {
        int choice;
        FZ_OK(patron_merge_plan_choice(plan, &choice, f));
        FZ_CHECK(choice == PATRON_MERGE_CUSTOM || choice == PATRON_MERGE_NOT_MERGED ||
                     (choice >= 0 && (size_t)choice <= nd),
                 "field %d's choice %d is in range", f, choice);
    }
    FZ_OK(patron_merge_plan_to_json(plan, &json, 0));
    FZ_CHECK(json_valid(json), "the plan's JSON is well-formed");
    FZ_CHECK(fz_utf8(json), "the plan's JSON is UTF-8");
    /* the hash fz_customer() gives; unless another value holds its text */
    if (!holds_outside_hash(plan, HASH_TEXT))
        FZ_CHECK(!contains(json, HASH_TEXT), "no password hash in the plan's JSON");
    patron_free(json);

    st = patron_db_merge(db, &jid, plan);
    if (st != PATRON_OK) {
        FZ_CHECK(st == PATRON_E_STATE || st == PATRON_E_INVALID || st == PATRON_E_EXISTS ||
                     st == PATRON_E_CONFLICT,
                 "a merge is applied or refused as documented: %d %s", (int)st, patron_db_errmsg(db));
        goto compare;
    }
    /* merged: the orders are the survivor's, the duplicates point to it */
    for (size_t i = 0; i < n; i++) {
        char ref[24];
        int dup = 0;
        snprintf(ref, sizeof ref, "o%zu", i + 1);
        for (size_t k = 0; k < nd; k++)
            dup |= dups[k] == ids[i];
        FZ_CHECK(patron_memstore_ref_owner(ms, "order", ref) == (dup ? ids[surv] : ids[i]),
                 "order %s belongs to the survivor after the merge", ref);
        if (dup) {
            patron_customer *c = NULL, *f = NULL;
            const char *num;
            FZ_OK(patron_db_load(db, &c, ids[i]));
            FZ_CHECK(patron_customer_state(c) == PATRON_STATE_MERGED, "a duplicate is merged");
            num = patron_customer_get(c, PATRON_F_NUMBER);
            if (num) {
                FZ_OK(patron_db_find(db, &f, PATRON_KEY_NUMBER, num));
                FZ_CHECK(patron_customer_id(f) == ids[surv], "a merged number finds the survivor");
                patron_customer_free(f);
            }
            patron_customer_free(c);
        }
    }
    {
        patron_customer *s = NULL;
        FZ_OK(patron_db_load(db, &s, ids[surv]));
        FZ_CHECK(patron_customer_state(s) == PATRON_STATE_ACTIVE, "the survivor is active");
        patron_customer_free(s);
    }
    st = patron_db_undo(db, &uid, jid, 0);
    FZ_CHECK(st == PATRON_OK, "a merge nothing followed can be undone: %s", patron_db_errmsg(db));
    FZ_CHECK(patron_db_undo(db, NULL, jid, PATRON_UNDO_FORCE) == PATRON_E_STATE, "undone only once");
    after = fz_snapshot(db, ms, (int)n, 1);
    FZ_CHECK(strcmp(before, after) == 0, "undo gives back the store as it was:\n%s\n---\n%s", before, after);
    free(after);
    for (size_t i = 0; i < n; i++) {
        patron_customer *c = NULL;
        FZ_OK(patron_db_load(db, &c, ids[i]));
        FZ_CHECK(patron_customer_revision(c) >= rev[i], "revisions only grow");
        patron_customer_free(c);
    }
    free(before);
    free(before_rev);
    goto done;

compare:
    after = fz_snapshot(db, ms, (int)n, 0);
    FZ_CHECK(strcmp(before_rev, after) == 0, "a refused plan or merge changes nothing");
    free(after);
    free(before);
    free(before_rev);
done:
    patron_merge_plan_free(plan);
    patron_db_close(db);
    patron_memstore_free(ms);
    return 0;
}
