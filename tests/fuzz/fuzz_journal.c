/* Fuzz target: the merge journal's payload, read by undo.  Every input
 * runs on a fresh memory store: three customers (with orders) are merged
 * into one, then the store hands the input, instead of the payload it
 * wrote, to patron_db_undo() — as a damaged or hostile SQLite file would
 * (issue 13, defect 1).  Invariants:
 *  - undo fails with a message and the store exactly as it was, or
 *  - undo succeeds and leaves a store that holds together: every customer
 *    loads and gives well-formed JSON, no customer number, login or
 *    external reference leads to two customers, revisions only grew (and
 *    grew for every changed record), the merge counts as undone.
 * Set PATRON_FUZZ_DUMP_PAYLOAD=FILE to write the payload the store really
 * holds (how the seeds in corpus/journal were made). */
#include "check.h"

#include <stdlib.h>
#include <string.h>

typedef struct wrap {
    patron_store_ops inner;
    void *inner_ctx;
    int64_t target;       /* the journal entry whose payload is replaced */
    const char *payload;  /* the replacement, or NULL */
    patron_emit_journal_fn emit;
    void *emit_ctx;
} wrap;

static int swap_payload(void *ctx, const patron_journal_entry *e)
{
    wrap *w = ctx;
    patron_journal_entry copy = *e;
    if (w->payload && e->id == w->target)
        copy.payload = w->payload;
    return w->emit(w->emit_ctx, &copy);
}

static int w_journal_get(void *ctx, int64_t id, patron_emit_journal_fn emit, void *ectx)
{
    wrap *w = ctx;
    w->emit = emit;
    w->emit_ctx = ectx;
    return w->inner.journal_get(w->inner_ctx, id, swap_payload, w);
}

static int w_journal_scan(void *ctx, int64_t after, size_t limit, patron_emit_journal_fn emit, void *ectx)
{
    wrap *w = ctx;
    w->emit = emit;
    w->emit_ctx = ectx;
    return w->inner.journal_scan(w->inner_ctx, after, limit, swap_payload, w);
}

/* Every other callback goes straight to the memory store. */
#define FWD(name, params, args) \
    static int w_##name params { wrap *w = ctx; return w->inner.name args; }
FWD(begin, (void *ctx), (w->inner_ctx))
FWD(begin_read, (void *ctx), (w->inner_ctx))
FWD(commit, (void *ctx), (w->inner_ctx))
FWD(rollback, (void *ctx), (w->inner_ctx))
FWD(load, (void *ctx, int64_t id, patron_customer *out), (w->inner_ctx, id, out))
FWD(insert, (void *ctx, const patron_customer *c, const patron_key *k, size_t n, int64_t *id),
    (w->inner_ctx, c, k, n, id))
FWD(update, (void *ctx, const patron_customer *c, const patron_key *k, size_t n), (w->inner_ctx, c, k, n))
FWD(remove, (void *ctx, int64_t id), (w->inner_ctx, id))
FWD(lookup, (void *ctx, int kind, const char *v, patron_emit_id_fn e, void *ec), (w->inner_ctx, kind, v, e, ec))
FWD(scan, (void *ctx, const patron_store_filter *f, int64_t a, size_t l, patron_emit_id_fn e, void *ec),
    (w->inner_ctx, f, a, l, e, ec))
FWD(next_number, (void *ctx, uint64_t *out), (w->inner_ctx, out))
FWD(claim_number, (void *ctx, const char *n), (w->inner_ctx, n))
FWD(relink, (void *ctx, int64_t f, int64_t t, patron_emit_ref_fn e, void *ec), (w->inner_ctx, f, t, e, ec))
FWD(move_ref, (void *ctx, const char *k, const char *r, int64_t t), (w->inner_ctx, k, r, t))
FWD(journal_append, (void *ctx, const patron_journal_entry *e, int64_t *id), (w->inner_ctx, e, id))
FWD(journal_set_undone, (void *ctx, int64_t id, int64_t by), (w->inner_ctx, id, by))
FWD(count, (void *ctx, int kind, const char *v, uint64_t *out), (w->inner_ctx, kind, v, out))

static const char *w_errmsg(void *ctx)
{
    wrap *w = ctx;
    return w->inner.errmsg ? w->inner.errmsg(w->inner_ctx) : NULL;
}

static void w_destroy(void *ctx)
{
    wrap *w = ctx;
    w->inner.destroy(w->inner_ctx);
}

static patron_db *open_wrapped(wrap *w, patron_memstore *ms)
{
    patron_store_ops ops = PATRON_STORE_OPS_INIT;
    patron_db *db = NULL;
    memset(w, 0, sizeof *w);
    w->inner.version = PATRON_STORE_VERSION;
    FZ_OK(patron_memstore_ops(&w->inner, &w->inner_ctx, ms));
    ops.begin = w_begin;
    ops.begin_read = w->inner.begin_read ? w_begin_read : NULL;
    ops.commit = w_commit;
    ops.rollback = w_rollback;
    ops.load = w_load;
    ops.insert = w_insert;
    ops.update = w_update;
    ops.remove = w_remove;
    ops.lookup = w_lookup;
    ops.scan = w_scan;
    ops.next_number = w_next_number;
    ops.claim_number = w_claim_number;
    ops.relink = w_relink;
    ops.move_ref = w_move_ref;
    ops.journal_append = w_journal_append;
    ops.journal_get = w_journal_get;
    ops.journal_scan = w_journal_scan;
    ops.journal_set_undone = w_journal_set_undone;
    ops.count = w->inner.count ? w_count : NULL;
    ops.errmsg = w_errmsg;
    ops.destroy = w_destroy;
    /* no match forms and no meta: the core loads candidates, keeps settings */
    FZ_OK(patron_db_open(&db, &ops, w));
    return db;
}

static int64_t add(patron_db *db, const char *first, const char *last, const char *email, const char *login)
{
    patron_customer *c = NULL;
    size_t a;
    FZ_OK(patron_customer_new(&c));
    FZ_OK(patron_customer_set(c, PATRON_F_FIRST_NAME, first));
    FZ_OK(patron_customer_set(c, PATRON_F_LAST_NAME, last));
    FZ_OK(patron_customer_set(c, PATRON_F_EMAIL, email));
    FZ_OK(patron_customer_set(c, PATRON_F_EXTERNAL_SOURCE, "shop"));
    FZ_OK(patron_customer_set(c, PATRON_F_EXTERNAL_ID, email));
    if (login) {
        FZ_OK(patron_customer_set(c, PATRON_F_LOGIN_USER, login));
        FZ_OK(patron_customer_set(c, PATRON_F_LOGIN_HASH, "$2y$10$abcdefghijklmnopqrstuv"));
    }
    FZ_OK(patron_customer_address_add(c, &a));
    FZ_OK(patron_customer_address_set(c, a, PATRON_A_STREET, "Hauptstraße"));
    FZ_OK(patron_customer_address_set(c, a, PATRON_A_HOUSE_NUMBER, "1"));
    FZ_OK(patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, "10115"));
    FZ_OK(patron_customer_address_set(c, a, PATRON_A_CITY, "Berlin"));
    FZ_OK(patron_customer_tag_add(c, last));
    FZ_OK(patron_db_create(db, c));
    {
        int64_t id = patron_customer_id(c);
        patron_customer_free(c);
        return id;
    }
}

static uint64_t revision_of(patron_db *db, int64_t id)
{
    patron_customer *c = NULL;
    uint64_t r;
    FZ_OK(patron_db_load(db, &c, id));
    r = patron_customer_revision(c);
    patron_customer_free(c);
    return r;
}

/* One customer's line of a snapshot without revisions. */
static char *json_of(patron_db *db, int64_t id)
{
    patron_customer *c = NULL;
    char *j;
    FZ_OK(patron_db_load(db, &c, id));
    FZ_OK(patron_record_set(c, PATRON_F_REVISION, NULL));
    FZ_OK(patron_record_set(c, PATRON_F_UPDATED_AT, NULL));
    j = fz_json(c);
    patron_customer_free(c);
    return j;
}

/* No key that names one customer names two. */
static void keys_unique(patron_db *db)
{
    int64_t ids[64];
    size_t n = fz_ids(db, ids, 64);
    for (size_t i = 0; i < n; i++) {
        patron_customer *c = NULL;
        static const struct { int field; patron_key_kind kind; } k[] = {
            { PATRON_F_NUMBER, PATRON_KEY_NUMBER }, { PATRON_F_LOGIN_USER, PATRON_KEY_LOGIN } };
        FZ_OK(patron_db_load(db, &c, ids[i]));
        for (size_t t = 0; t < 2; t++) {
            const char *v = patron_customer_get(c, k[t].field);
            int64_t found[4];
            size_t nf = 0;
            if (!v)
                continue;
            FZ_OK(patron_db_lookup(db, found, &nf, 4, k[t].kind, v));
            FZ_CHECK(nf == 1 && found[0] == ids[i], "%s %s leads to one customer, #%lld (found %zu)",
                     patron_field_name(k[t].field), v, (long long)ids[i], nf);
        }
        patron_customer_free(c);
    }
}

static int dump_payload(void *ctx, const patron_journal_entry *e)
{
    fputs(e->payload, (FILE *)ctx);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    patron_memstore *ms = NULL;
    patron_db *db;
    wrap w;
    int64_t a, b, c, dups[2], jid = 0, uid = 0, ids[64];
    patron_merge_plan *plan = NULL;
    char *payload, *before, *after;
    uint64_t rev_before[64];
    char *json_before[64];
    size_t n;
    patron_status st;

    FZ_OK(patron_memstore_new(&ms));
    db = open_wrapped(&w, ms);
    a = add(db, "Anna", "Müller", "anna@example.de", "anna");
    b = add(db, "Anna", "Mueller", "anna.m@example.de", "am");
    c = add(db, "A.", "Müller", "a.mueller@example.de", NULL);
    FZ_OK(patron_memstore_set_ref(ms, "order", "o1", b, 0));
    FZ_OK(patron_memstore_set_ref(ms, "order", "o2", c, 0));
    FZ_OK(patron_memstore_set_ref(ms, "order", "o3", a, 0));
    dups[0] = b;
    dups[1] = c;
    FZ_OK(patron_merge_plan_new(db, &plan, a, dups, 2, PATRON_MERGE_SURVIVOR));
    FZ_OK(patron_merge_plan_take(plan, PATRON_F_LOGIN_USER, 0));
    FZ_OK(patron_db_merge(db, &jid, plan));
    patron_merge_plan_free(plan);

    if (getenv("PATRON_FUZZ_DUMP_PAYLOAD")) {
        /* the payload as written, straight from the memory store */
        FILE *f = fopen(getenv("PATRON_FUZZ_DUMP_PAYLOAD"), "wb");
        FZ_CHECK(f, "cannot write the payload file");
        FZ_CHECK(w.inner.begin(w.inner_ctx) == 0, "begin");
        FZ_CHECK(w.inner.journal_get(w.inner_ctx, jid, dump_payload, f) == 0, "journal_get");
        w.inner.rollback(w.inner_ctx);
        fclose(f);
    }

    n = fz_ids(db, ids, 64);
    for (size_t i = 0; i < n; i++) {
        rev_before[i] = revision_of(db, ids[i]);
        json_before[i] = json_of(db, ids[i]);
    }
    before = fz_snapshot(db, ms, 3, 0);

    payload = malloc(size + 1);
    FZ_CHECK(payload, "out of memory");
    memcpy(payload, data, size);
    payload[size] = '\0';
    w.target = jid;
    w.payload = payload;
    st = patron_db_undo(db, &uid, jid, 0);
    if (st == PATRON_E_STATE)
        st = patron_db_undo(db, &uid, jid, PATRON_UNDO_FORCE);
    FZ_CHECK(st == PATRON_OK || patron_db_errmsg(db)[0] != '\0', "a refused undo says why (%d)", (int)st);
    FZ_CHECK(st != PATRON_E_NOMEM, "no memory shortage from %zu bytes: %s", size, patron_db_errmsg(db));
    after = fz_snapshot(db, ms, 3, 0);
    if (st != PATRON_OK) {
        FZ_CHECK(strcmp(before, after) == 0, "a refused undo changes nothing:\n%s\n---\n%s", before,
                 after);
    } else {
        FZ_CHECK(uid > jid, "the undo has its own journal entry");
        FZ_CHECK(patron_db_undo(db, NULL, jid, PATRON_UNDO_FORCE) == PATRON_E_STATE,
                 "an undone merge cannot be undone again");
        keys_unique(db);
        FZ_CHECK(fz_ids(db, ids, 64) == n, "undo deletes and adds no customer");
        for (size_t i = 0; i < n; i++) {
            uint64_t r = revision_of(db, ids[i]);
            char *j = json_of(db, ids[i]);
            FZ_CHECK(r >= rev_before[i], "revisions only grow (#%lld)", (long long)ids[i]);
            FZ_CHECK(strcmp(j, json_before[i]) == 0 || r > rev_before[i],
                     "a changed record has a new revision (#%lld)", (long long)ids[i]);
            patron_free(j);
        }
    }
    for (size_t i = 0; i < n; i++)
        patron_free(json_before[i]);
    free(before);
    free(after);
    free(payload);
    patron_db_close(db);
    patron_memstore_free(ms);
    return 0;
}
