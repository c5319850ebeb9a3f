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
 * An input that begins with '!' is instead an edit script applied to the
 * payload the store holds (edited()): forged but well-formed before-images
 * (another record's number, state "merged", a login of another customer),
 * revisions, ids and lines changed — what a byte-level mutation of 2 KiB
 * of hex rarely reaches.
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

static int grab_payload(void *ctx, const patron_journal_entry *e)
{
    *(char **)ctx = strdup(e->payload);
    return 0;
}

/* ---- the edit script: forged but well-formed payloads ------------------ */

typedef struct lines {
    char **l;
    size_t n;
} lines;

static void lines_add(lines *ls, const char *s, size_t n)
{
    char *c = malloc(n + 1);
    ls->l = realloc(ls->l, (ls->n + 1) * sizeof *ls->l);
    FZ_CHECK(c && ls->l, "out of memory");
    memcpy(c, s, n);
    c[n] = '\0';
    ls->l[ls->n++] = c;
}

static char *hex(const char *s, size_t n)
{
    static const char d[] = "0123456789abcdef";
    char *h = malloc(2 * n + 2);
    FZ_CHECK(h, "out of memory");
    for (size_t i = 0; i < n; i++) {
        h[2 * i] = d[(unsigned char)s[i] >> 4];
        h[2 * i + 1] = d[(unsigned char)s[i] & 15];
    }
    h[2 * n] = '\0';
    if (n == 0)
        strcpy(h, "-");
    return h;
}

static int hexv(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Set a field of the before-image on record line `line` ("record ID REV HEX"). */
static void edit_image(char **line, int field, const char *value)
{
    char *l = *line, *sp1 = strchr(l + 7, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL, *h;
    size_t hn, n;
    char *bytes, *packed = NULL, *nl;
    patron_customer *c = NULL;
    if (!sp2)
        return;
    h = sp2 + 1;
    hn = strlen(h);
    if (hn % 2)
        return;
    bytes = malloc(hn / 2 + 1);
    FZ_CHECK(bytes, "out of memory");
    for (size_t i = 0; i < hn; i += 2) {
        int hi = hexv(h[i]), lo = hexv(h[i + 1]);
        if (hi < 0 || lo < 0) {
            free(bytes);
            return;
        }
        bytes[i / 2] = (char)(hi << 4 | lo);
    }
    FZ_OK(patron_customer_new(&c));
    if (patron_record_unpack(c, bytes, hn / 2) == PATRON_OK &&
        patron_record_set(c, field, value) == PATRON_OK) {
        FZ_OK(patron_record_pack(&packed, &n, c));
        h = hex(packed, n);
        nl = malloc((size_t)(sp2 + 1 - l) + strlen(h) + 1);
        FZ_CHECK(nl, "out of memory");
        memcpy(nl, l, (size_t)(sp2 + 1 - l));
        strcpy(nl + (sp2 + 1 - l), h);
        free(h);
        patron_free(packed);
        free(*line);
        *line = nl;
    }
    patron_customer_free(c);
    free(bytes);
}

static const char *const EDIT_VALUES[] = {
    "K000001", "K000002", "K000003", "K999999", "active", "pending", "merged", "anna", "am",
    "anna@example.de", "anna.m@example.de", "shop", "1", "2", "3", "0", "99", "",
};

/* The genuine payload changed by the script in `in`: fields of a
 * before-image set to values of the other records (numbers, states,
 * logins, references), revisions and ids changed, lines dropped or
 * repeated.  Every line stays well-formed, so undo gets past the parser. */
static char *edited(const char *genuine, fz_in *in)
{
    lines ls = { NULL, 0 };
    size_t total = 0;
    char *out, *o;
    for (const char *p = genuine; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        lines_add(&ls, p, n);
        p += n + (e ? 1 : 0);
    }
    for (int ops = 0; ops < 8 && fz_left(in) && ls.n; ops++) {
        unsigned op = fz_u8(in) % 5;
        size_t k = fz_pick(in, (unsigned)ls.n);
        char buf[40];
        if (op == 0 && strncmp(ls.l[k], "record ", 7) == 0) {
            int f = 1 + (int)fz_pick(in, PATRON_F__END - 1);
            const char *v = fz_word(in, EDIT_VALUES, sizeof EDIT_VALUES / sizeof *EDIT_VALUES, buf, 32);
            edit_image(&ls.l[k], f, v);
        } else if (op == 1 && (strncmp(ls.l[k], "record ", 7) == 0 || strncmp(ls.l[k], "ref ", 4) == 0 ||
                               strncmp(ls.l[k], "survivor ", 9) == 0)) {
            /* a number of the line (id, revision, from id) to 0..4 */
            char *l = ls.l[k], *sp = strchr(l, ' ');
            unsigned which = fz_pick(in, 2);
            if (which && sp)
                sp = strchr(sp + 1, ' ');
            if (sp && sp[1] >= '0' && sp[1] <= '9') {
                char *end = sp + 1, *nl;
                while (*end >= '0' && *end <= '9')
                    end++;
                nl = malloc(strlen(l) + 4);
                FZ_CHECK(nl, "out of memory");
                sprintf(nl, "%.*s%u%s", (int)(sp + 1 - l), l, fz_pick(in, 5), end);
                free(l);
                ls.l[k] = nl;
            }
        } else if (op == 2) {
            free(ls.l[k]);
            memmove(ls.l + k, ls.l + k + 1, (ls.n - k - 1) * sizeof *ls.l);
            ls.n--;
        } else if (op == 3 && ls.n < 16) {
            lines_add(&ls, ls.l[k], strlen(ls.l[k]));
        } else if (op == 4 && k > 0) {
            char *t = ls.l[k];
            ls.l[k] = ls.l[k - 1];
            ls.l[k - 1] = t;
        }
    }
    for (size_t i = 0; i < ls.n; i++)
        total += strlen(ls.l[i]) + 1;
    out = o = malloc(total + 1);
    FZ_CHECK(out, "out of memory");
    for (size_t i = 0; i < ls.n; i++) {
        size_t n = strlen(ls.l[i]);
        memcpy(o, ls.l[i], n);
        o[n] = '\n';
        o += n + 1;
        free(ls.l[i]);
    }
    *o = '\0';
    free(ls.l);
    return out;
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

    if (size > 0 && data[0] == '!') {
        /* an edit script on the payload the store really holds */
        char *genuine = NULL;
        fz_in in;
        FZ_CHECK(w.inner.begin(w.inner_ctx) == 0, "begin");
        FZ_CHECK(w.inner.journal_get(w.inner_ctx, jid, grab_payload, &genuine) == 0, "journal_get");
        w.inner.rollback(w.inner_ctx);
        FZ_CHECK(genuine, "out of memory");
        fz_init(&in, data + 1, size - 1);
        payload = edited(genuine, &in);
        free(genuine);
    } else {
        payload = malloc(size + 1);
        FZ_CHECK(payload, "out of memory");
        memcpy(payload, data, size);
        payload[size] = '\0';
    }
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
