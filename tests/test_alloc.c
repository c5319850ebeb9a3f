/* The allocator hook: set once at start, refused half-set or while memory is
 * in use, and used for every allocation.  Then allocation failure at every
 * step of a create / update / find / list / delete sequence: every call
 * either succeeds or says PATRON_E_NOMEM / PATRON_E_STORE, the store holds
 * the whole operation or none of it, and nothing leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"

/* ---- a counting allocator that can fail ---------------------------------- */

#define MAGIC_LIVE 0x50415452414c4c43ULL /* "PATRALLC" */
#define MAGIC_DEAD 0x4445414444454144ULL

typedef union hdr {
    struct {
        uint64_t magic;
        size_t size;
    } h;
    max_align_t align; /* keep the user block aligned like malloc's */
} hdr;

typedef struct counting {
    long live;      /* blocks handed out and not yet freed */
    long mallocs;   /* successful malloc_fn calls, ever */
    long reallocs;  /* successful realloc_fn calls, ever */
    long frees;     /* free_fn calls, ever */
    long calls;     /* malloc_fn + realloc_fn calls since arming (not while paused) */
    long fail_at;   /* fail call number fail_at (1-based); 0: never */
    bool sticky;    /* ... and every call after it */
    bool paused;    /* no failures, no counting of calls (for checks) */
    long injected;  /* failures injected since arming */
    int bad_opaque; /* calls that came with a foreign opaque pointer */
} counting;

static counting A;     /* the allocator under test */
static counting OTHER; /* a second one, to switch to */

static bool should_fail(counting *a)
{
    if (a->paused)
        return false;
    a->calls++;
    if (a->fail_at && (a->calls == a->fail_at || (a->sticky && a->calls > a->fail_at))) {
        a->injected++;
        return true;
    }
    return false;
}

static hdr *check_block(void *p)
{
    hdr *h = (hdr *)p - 1;
    if (h->h.magic != MAGIC_LIVE) {
        fprintf(stderr, "allocator: block %p was not allocated by this hook (or freed twice)\n", p);
        abort();
    }
    return h;
}

static void *c_malloc(size_t size, void *opaque)
{
    counting *a = opaque;
    hdr *h;
    if (a != &A && a != &OTHER) {
        A.bad_opaque++;
        return NULL;
    }
    if (should_fail(a))
        return NULL;
    h = malloc(sizeof *h + size);
    if (!h)
        return NULL;
    h->h.magic = MAGIC_LIVE;
    h->h.size = size;
    a->live++;
    a->mallocs++;
    return h + 1;
}

static void *c_realloc(void *p, size_t size, void *opaque)
{
    counting *a = opaque;
    hdr *h, *n;
    if (a != &A && a != &OTHER) {
        A.bad_opaque++;
        return NULL;
    }
    if (!p)
        return c_malloc(size, opaque);
    h = check_block(p);
    if (should_fail(a))
        return NULL; /* p stays valid */
    n = realloc(h, sizeof *n + size);
    if (!n)
        return NULL;
    n->h.size = size;
    a->reallocs++;
    return n + 1;
}

static void c_free(void *p, void *opaque)
{
    counting *a = opaque;
    hdr *h;
    if (a != &A && a != &OTHER) {
        A.bad_opaque++;
        return;
    }
    if (!p)
        return;
    h = check_block(p);
    h->h.magic = MAGIC_DEAD;
    a->live--;
    a->frees++;
    free(h);
}

static const patron_allocator HOOK = { c_malloc, c_realloc, c_free, &A };
static const patron_allocator OTHER_HOOK = { c_malloc, c_realloc, c_free, &OTHER };

static void arm(long n, bool sticky)
{
    A.calls = 0;
    A.injected = 0;
    A.fail_at = n;
    A.sticky = sticky;
    A.paused = false;
}

static void disarm(void)
{
    A.fail_at = 0;
    A.sticky = false;
}

#define PAUSED(...) \
    do { \
        bool was_ = A.paused; \
        A.paused = true; \
        __VA_ARGS__; \
        A.paused = was_; \
    } while (0)

static int check_clean(void **state)
{
    (void)state;
    disarm();
    A.paused = false;
    if (A.live != 0) {
        fprintf(stderr, "allocator: %ld blocks still live between tests\n", A.live);
        return -1;
    }
    return 0;
}

/* ---- the hook itself ------------------------------------------------------- */

static void test_half_set_hook_refused(void **state)
{
    patron_allocator half;
    patron_customer *c = NULL;
    long before;
    (void)state;
    half = HOOK;
    half.free_fn = NULL;
    assert_int_equal(patron_set_allocator(&half), PATRON_E_INVALID);
    half = HOOK;
    half.malloc_fn = NULL;
    assert_int_equal(patron_set_allocator(&half), PATRON_E_INVALID);
    half = HOOK;
    half.realloc_fn = NULL;
    assert_int_equal(patron_set_allocator(&half), PATRON_E_INVALID);
    memset(&half, 0, sizeof half);
    half.malloc_fn = c_malloc;
    assert_int_equal(patron_set_allocator(&half), PATRON_E_INVALID);
    memset(&half, 0, sizeof half);
    half.free_fn = c_free;
    assert_int_equal(patron_set_allocator(&half), PATRON_E_INVALID);
    memset(&half, 0, sizeof half); /* all NULL in a struct: still not "all three set" */
    half.opaque = &A;
    assert_int_equal(patron_set_allocator(&half), PATRON_E_INVALID);

    /* none of that replaced the hook set in main() */
    before = A.mallocs;
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    assert_true(A.mallocs > before);
    assert_int_equal(A.live, 1);
    patron_customer_free(c);
    assert_int_equal(A.live, 0);
}

static void test_hook_is_used(void **state)
{
    patron_db *db = NULL;
    patron_customer *c = NULL;
    char *js = NULL, *packed = NULL;
    size_t len;
    long m0 = A.mallocs, f0 = A.frees;
    (void)state;
    assert_int_equal(patron_db_open_memory(&db, NULL), PATRON_OK);
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_LAST_NAME, "Zähler"), PATRON_OK);
    assert_int_equal(patron_customer_tag_add(c, "gezählt"), PATRON_OK);
    assert_int_equal(patron_db_create(db, c), PATRON_OK);
    assert_true(A.mallocs > m0);
    assert_true(A.live > 0);
    /* memory handed to the caller comes from the hook and goes back to it */
    assert_int_equal(patron_customer_to_json(c, &js, 0), PATRON_OK);
    assert_int_equal(patron_record_pack(&packed, &len, c), PATRON_OK);
    check_block(js);
    check_block(packed);
    patron_free(js);
    patron_free(packed);
    patron_free(NULL);
    patron_customer_free(c);
    patron_db_close(db);
    assert_int_equal(A.live, 0);
    assert_true(A.frees > f0);
    assert_int_equal(A.bad_opaque, 0);
}

static void test_hook_change_while_live_refused(void **state)
{
    patron_customer *c = NULL;
    patron_memstore *ms = NULL;
    (void)state;
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    assert_int_equal(patron_set_allocator(&OTHER_HOOK), PATRON_E_STATE);
    assert_int_equal(patron_set_allocator(NULL), PATRON_E_STATE);
    assert_int_equal(patron_set_allocator(&HOOK), PATRON_E_STATE);
    /* the record still works and is freed by the hook that made it */
    assert_int_equal(patron_customer_set(c, PATRON_F_FIRST_NAME, "Bleibt"), PATRON_OK);
    patron_customer_free(c);
    assert_int_equal(A.live, 0);
    assert_int_equal(OTHER.mallocs, 0);

    /* a store alone holds memory as well */
    assert_int_equal(patron_memstore_new(&ms), PATRON_OK);
    assert_int_equal(patron_set_allocator(&OTHER_HOOK), PATRON_E_STATE);
    patron_memstore_free(ms);

    /* with nothing live the hook may change: to another one ... */
    assert_int_equal(patron_set_allocator(&OTHER_HOOK), PATRON_OK);
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    assert_int_equal(OTHER.live, 1);
    assert_int_equal(A.live, 0);
    assert_int_equal(patron_set_allocator(&HOOK), PATRON_E_STATE);
    patron_customer_free(c);
    assert_int_equal(OTHER.live, 0);
    /* ... to the C library's ... */
    assert_int_equal(patron_set_allocator(NULL), PATRON_OK);
    {
        long m = A.mallocs, o = OTHER.mallocs;
        assert_int_equal(patron_customer_new(&c), PATRON_OK);
        assert_int_equal(A.mallocs, m);
        assert_int_equal(OTHER.mallocs, o);
        patron_customer_free(c);
    }
    /* ... and back */
    assert_int_equal(patron_set_allocator(&HOOK), PATRON_OK);
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    assert_int_equal(A.live, 1);
    patron_customer_free(c);
    assert_int_equal(A.live, 0);
    assert_int_equal(A.bad_opaque, 0);
}

/* ---- helpers for the failure runs -------------------------------------------- */

typedef struct blob {
    char *p;
    size_t n;
} blob;

static blob pack_paused(const patron_customer *c)
{
    blob b = { NULL, 0 };
    PAUSED(assert_int_equal(patron_record_pack(&b.p, &b.n, c), PATRON_OK));
    return b;
}

static bool blob_eq(blob a, blob b)
{
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static void blob_free(blob *b)
{
    patron_free(b->p);
    b->p = NULL;
    b->n = 0;
}

#define CHECK_STATUS(st, what) \
    do { \
        if ((st) != PATRON_OK && (st) != PATRON_E_NOMEM && (st) != PATRON_E_STORE) \
            fail_msg("%s with allocation %ld failing%s gave %d", what, A.fail_at, \
                     A.sticky ? " (and all later)" : "", (int)(st)); \
    } while (0)

#define CHECK_NOMEM(st, what) \
    do { \
        if ((st) != PATRON_OK && (st) != PATRON_E_NOMEM) \
            fail_msg("%s with allocation %ld failing%s gave %d, want PATRON_E_NOMEM", what, \
                     A.fail_at, A.sticky ? " (and all later)" : "", (int)(st)); \
    } while (0)

/* The fingerprint with the records' timestamps taken out (the reference run
 * happened at another second).  Records are "record <id> <len> <bytes>\n"
 * with bytes as printable characters or \xHH escapes. */
static char *norm_fingerprint(test_backend *tb)
{
    static const patron_key probe_keys[] = {
        { PATRON_KEY_EMAIL, "anna@example.de" },
        { PATRON_KEY_EMAIL, "neu@example.de" },
        { PATRON_KEY_EXTERNAL, "shop\x1f" "1001" },
        { PATRON_KEY_LOGIN, "anna" },
        { 0, NULL },
    };
    static const char *const probe_numbers[] = { "K000001", "K000002", NULL };
    char *fp, *out, *o;
    const char *s;
    bool was = A.paused;
    A.paused = true;
    fp = store_fingerprint(tb, probe_keys, probe_numbers);
    assert_non_null(fp);
    out = malloc(strlen(fp) * 2 + 64);
    assert_non_null(out);
    o = out;
    for (s = fp; *s;) {
        const char *nl = strchr(s, '\n');
        size_t line = nl ? (size_t)(nl - s) + 1 : strlen(s);
        long long id;
        size_t len;
        int used = 0;
        if (strncmp(s, "record ", 7) == 0 && sscanf(s, "record %lld %zu %n", &id, &len, &used) == 2) {
            char *bytes = malloc(len + 1);
            const char *p = s + used;
            size_t k = 0;
            patron_customer *c = NULL;
            blob b;
            assert_non_null(bytes);
            while (*p && *p != '\n' && k <= len) {
                unsigned v;
                if (p[0] == '\\' && p[1] == 'x' && sscanf(p + 2, "%2x", &v) == 1) {
                    bytes[k++] = (char)v;
                    p += 4;
                } else {
                    bytes[k++] = *p++;
                }
            }
            if (k != len)
                fail_msg("test helper: cannot read a record of the fingerprint (format changed?)");
            assert_int_equal(patron_customer_new(&c), PATRON_OK);
            assert_int_equal(patron_record_unpack(c, bytes, len), PATRON_OK);
            assert_int_equal(patron_record_set(c, PATRON_F_CREATED_AT, NULL), PATRON_OK);
            assert_int_equal(patron_record_set(c, PATRON_F_UPDATED_AT, NULL), PATRON_OK);
            assert_int_equal(patron_record_pack(&b.p, &b.n, c), PATRON_OK);
            o += sprintf(o, "record %lld ", id);
            for (size_t i = 0; i < b.n; i++)
                o += sprintf(o, "%02x", (unsigned char)b.p[i]);
            *o++ = '\n';
            patron_free(b.p);
            patron_customer_free(c);
            free(bytes);
            s = *p == '\n' ? p + 1 : p;
            continue;
        }
        memcpy(o, s, line);
        o += line;
        s += line;
    }
    *o = '\0';
    free(fp);
    A.paused = was;
    return out;
}

static void expect_store(test_backend *tb, const char *want, const char *what)
{
    char *now = norm_fingerprint(tb);
    if (strcmp(now, want) != 0) {
        fprintf(stderr, "want:\n%s\nhave:\n%s\n", want, now);
        fail_msg("%s with allocation %ld failing%s: the store is neither before nor after", what,
                 A.fail_at, A.sticky ? " (and all later)" : "");
    }
    free(now);
}

/* ---- the sequence ------------------------------------------------------------ */

enum { REF_EMPTY, REF_CREATED, REF_UPDATED, REF_DELETED, N_REF };

typedef struct run {
    char *ref[N_REF]; /* the reference run's fingerprints (NULL while making them) */
    bool complete;    /* every step succeeded */
    long allocs;      /* allocation calls the sequence made */
} run;

/* Build the record; false (and all freed) if an allocation failed. */
static bool build(patron_customer **out)
{
    static const struct {
        int f;
        const char *v;
    } fields[] = {
        { PATRON_F_FIRST_NAME, "Anna" },        { PATRON_F_LAST_NAME, "Müller" },
        { PATRON_F_EMAIL, "Anna@Example.de" },  { PATRON_F_EXTERNAL_SOURCE, "shop" },
        { PATRON_F_EXTERNAL_ID, "1001" },       { PATRON_F_LOGIN_USER, "anna" },
        { PATRON_F_LOGIN_HASH, "$2y$10$hash" }, { PATRON_F_NOTES, "Notiz\nzwei Zeilen" },
    };
    patron_customer *c = NULL;
    patron_status st = patron_customer_new(&c);
    size_t a;
    CHECK_NOMEM(st, "customer_new");
    if (st) {
        assert_null(c);
        return false;
    }
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        blob before = pack_paused(c), after;
        st = patron_customer_set(c, fields[i].f, fields[i].v);
        CHECK_NOMEM(st, "customer_set");
        if (st) {
            after = pack_paused(c);
            assert_true(blob_eq(before, after));
            blob_free(&before);
            blob_free(&after);
            patron_customer_free(c);
            return false;
        }
        blob_free(&before);
    }
    st = patron_customer_address_add(c, &a);
    CHECK_NOMEM(st, "address_add");
    if (!st)
        st = patron_customer_address_set(c, a, PATRON_A_STREET, "Hauptstraße");
    CHECK_NOMEM(st, "address_set");
    if (!st)
        st = patron_customer_address_set(c, a, PATRON_A_CITY, "Berlin");
    if (!st)
        st = patron_customer_tag_add(c, "vip");
    CHECK_NOMEM(st, "tag_add");
    if (!st)
        st = patron_customer_tag_add(c, "Stammkunde");
    if (!st)
        st = patron_customer_prop_set(c, "shoe_size", "38");
    CHECK_NOMEM(st, "prop_set");
    if (!st)
        st = patron_customer_prop_set(c, "color", "blau");
    if (st) {
        patron_customer_free(c);
        return false;
    }
    *out = c;
    return true;
}

/* One pass: open, create, update, find, lookup, list, load, to_json, delete. */
static void sequence(run *r)
{
    test_backend tb;
    patron_db *db;
    patron_customer *c = NULL, *f = NULL;
    patron_status st;
    blob before = { NULL, 0 }, after = { NULL, 0 };
    int64_t id, ids[4];
    size_t n;
    char *js = NULL;
    bool making = r->ref[REF_EMPTY] == NULL;
    r->complete = false;

    if (tb_open(&tb, "memory") != 0) {
        tb_close(&tb); /* tb_open leaves a half-opened backend behind on failure */
        return;
    }
    db = tb_db(&tb);
    if (!db) {
        tb_close(&tb);
        return;
    }
#define STORE_IS(k, what) \
    do { \
        if (making && !r->ref[k]) \
            r->ref[k] = norm_fingerprint(&tb); \
        else \
            expect_store(&tb, r->ref[k], what); \
    } while (0)
    STORE_IS(REF_EMPTY, "open");
    if (!build(&c))
        goto out;

    /* create */
    before = pack_paused(c);
    st = patron_db_create(db, c);
    CHECK_STATUS(st, "create");
    if (st) {
        after = pack_paused(c);
        if (!blob_eq(before, after))
            fail_msg("a failed create (allocation %ld) changed the caller's record", A.fail_at);
        STORE_IS(REF_EMPTY, "failed create");
        goto out;
    }
    STORE_IS(REF_CREATED, "create");
    id = patron_customer_id(c);
    assert_true(id > 0);
    PAUSED({
        patron_customer *l = NULL;
        blob lb, cb;
        assert_int_equal(patron_db_load(db, &l, id), PATRON_OK);
        lb = pack_paused(l);
        cb = pack_paused(c);
        assert_true(blob_eq(lb, cb));
        blob_free(&lb);
        blob_free(&cb);
        patron_customer_free(l);
    });
    blob_free(&before);

    /* update */
    st = patron_customer_set(c, PATRON_F_EMAIL, "neu@example.de");
    CHECK_NOMEM(st, "set email");
    if (!st)
        st = patron_customer_tag_remove(c, "vip");
    if (!st)
        st = patron_customer_prop_set(c, "shoe_size", "39");
    CHECK_NOMEM(st, "prop replace");
    if (st)
        goto out;
    before = pack_paused(c);
    st = patron_db_update(db, c);
    CHECK_STATUS(st, "update");
    if (st) {
        after = pack_paused(c);
        if (!blob_eq(before, after))
            fail_msg("a failed update (allocation %ld) changed the caller's record", A.fail_at);
        STORE_IS(REF_CREATED, "failed update");
        goto out;
    }
    assert_int_equal(patron_customer_revision(c), 2);
    STORE_IS(REF_UPDATED, "update");
    blob_free(&before);

    /* reading: nothing changes in the store, whatever fails */
    st = patron_db_find(db, &f, PATRON_KEY_EMAIL, " NEU@example.de");
    CHECK_STATUS(st, "find");
    if (st) {
        assert_null(f);
        STORE_IS(REF_UPDATED, "failed find");
        goto out;
    }
    before = pack_paused(c);
    after = pack_paused(f);
    assert_true(blob_eq(before, after));
    blob_free(&before);
    blob_free(&after);
    patron_customer_free(f);
    f = NULL;
    st = patron_db_find(db, &f, PATRON_KEY_EXTERNAL, "shop\x1f" "1001");
    CHECK_STATUS(st, "find external");
    if (st)
        goto out;
    assert_int_equal(patron_customer_id(f), id);
    patron_customer_free(f);
    f = NULL;
    st = patron_db_lookup(db, ids, &n, 4, PATRON_KEY_LOGIN, "anna");
    CHECK_STATUS(st, "lookup");
    if (st)
        goto out;
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], id);
    st = patron_db_list(db, ids, &n, 4, NULL, 0);
    CHECK_STATUS(st, "list");
    if (st)
        goto out;
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], id);
    st = patron_db_load(db, &f, id);
    CHECK_STATUS(st, "load");
    if (st) {
        assert_null(f);
        goto out;
    }
    patron_customer_free(f);
    f = NULL;
    st = patron_customer_to_json(c, &js, PATRON_JSON_PRETTY);
    CHECK_NOMEM(st, "to_json");
    if (st)
        goto out;
    patron_free(js);
    STORE_IS(REF_UPDATED, "reading");

    /* delete */
    st = patron_db_delete(db, id, patron_customer_revision(c));
    CHECK_STATUS(st, "delete");
    if (st) {
        STORE_IS(REF_UPDATED, "failed delete");
        goto out;
    }
    STORE_IS(REF_DELETED, "delete");
    r->complete = true;
#undef STORE_IS
out:
    blob_free(&before);
    blob_free(&after);
    patron_customer_free(f);
    patron_customer_free(c);
    patron_db_close(db);
    tb_close(&tb);
}

static void oom_runs(bool sticky)
{
    run r;
    long clean_allocs;
    memset(&r, 0, sizeof r);
    /* the reference: no failure */
    arm(0, false);
    sequence(&r);
    clean_allocs = A.calls;
    disarm();
    assert_true(r.complete);
    assert_int_equal(A.live, 0);
    for (int k = 0; k < N_REF; k++)
        assert_non_null(r.ref[k]);
    assert_true(clean_allocs > 10);

    for (long n = 1;; n++) {
        arm(n, sticky);
        sequence(&r);
        disarm();
        if (A.live != 0)
            fail_msg("allocation %ld failing%s: %ld blocks leaked", n, sticky ? " (and all later)" : "",
                     A.live);
        if (A.injected == 0) {
            /* past the last allocation: the whole sequence went through */
            assert_true(r.complete);
            assert_true(n > clean_allocs);
            break;
        }
        if (n > clean_allocs + 1000)
            fail_msg("the sequence keeps allocating: %ld calls, %ld in the clean run", n, clean_allocs);
    }
    print_message("%ld allocation calls in the sequence, each failed in turn%s\n", clean_allocs,
                  sticky ? " with all later ones" : "");
    for (int k = 0; k < N_REF; k++)
        free(r.ref[k]);
}

static void test_oom_every_step_once(void **state)
{
    (void)state;
    oom_runs(false);
}

static void test_oom_every_step_from_then_on(void **state)
{
    (void)state;
    oom_runs(true);
}

/* ---- the record API alone ------------------------------------------------------ */

/* Run `op` on a copy of `base`: OK, or PATRON_E_NOMEM and the copy unchanged. */
#define RECORD_OP(name, op) \
    do { \
        patron_customer *w_ = NULL; \
        blob b0_, b1_; \
        patron_status st_; \
        PAUSED(assert_int_equal(patron_customer_clone(base, &w_), PATRON_OK)); \
        b0_ = pack_paused(w_); \
        { \
            patron_customer *c = w_; \
            st_ = (op); \
        } \
        CHECK_NOMEM(st_, name); \
        if (st_ != PATRON_OK) { \
            b1_ = pack_paused(w_); \
            if (!blob_eq(b0_, b1_)) \
                fail_msg("%s failed (allocation %ld) but changed the record", name, A.fail_at); \
            blob_free(&b1_); \
        } \
        blob_free(&b0_); \
        patron_customer_free(w_); \
    } while (0)

static patron_status clone_op(const patron_customer *c)
{
    patron_customer *d = (patron_customer *)&d;
    patron_status st = patron_customer_clone(c, &d);
    if (st)
        assert_null(d);
    patron_customer_free(d);
    return st;
}

static patron_status pack_unpack_op(const patron_customer *c)
{
    char *p = NULL;
    size_t n = 0;
    patron_customer *d = NULL;
    patron_status st = patron_record_pack(&p, &n, c);
    if (st) {
        assert_null(p);
        return st;
    }
    st = patron_customer_new(&d);
    if (!st) {
        st = patron_record_unpack(d, p, n);
        if (st) {
            /* refused for want of memory: the target stays empty */
            blob e = pack_paused(d);
            patron_customer *empty = NULL;
            blob eb;
            PAUSED(assert_int_equal(patron_customer_new(&empty), PATRON_OK));
            eb = pack_paused(empty);
            assert_true(blob_eq(e, eb));
            blob_free(&e);
            blob_free(&eb);
            patron_customer_free(empty);
        }
    }
    patron_customer_free(d);
    patron_free(p);
    return st;
}

static patron_status json_op(const patron_customer *c)
{
    char *js = NULL;
    patron_status st = patron_customer_to_json(c, &js, 0);
    if (st)
        assert_null(js);
    patron_free(js);
    return st;
}

static void test_oom_record_api(void **state)
{
    patron_customer *base = NULL;
    long base_live;
    (void)state;
    assert_true(build(&base));
    base_live = A.live;
    for (int sticky = 0; sticky < 2; sticky++) {
        for (long n = 1;; n++) {
            arm(n, sticky != 0);
            RECORD_OP("set", patron_customer_set(c, PATRON_F_COMPANY, "Müller GmbH"));
            RECORD_OP("set replace", patron_customer_set(c, PATRON_F_LAST_NAME, "Meier-Müller"));
            RECORD_OP("address_add", patron_customer_address_add(c, NULL));
            RECORD_OP("address_set", patron_customer_address_set(c, 0, PATRON_A_ADDITION, "2. OG"));
            RECORD_OP("address_remove", patron_customer_address_remove(c, 0));
            RECORD_OP("tag_add", patron_customer_tag_add(c, "neu"));
            RECORD_OP("tag_remove", patron_customer_tag_remove(c, "vip"));
            RECORD_OP("prop_set new", patron_customer_prop_set(c, "size", "L"));
            RECORD_OP("prop_set replace", patron_customer_prop_set(c, "color", "grün"));
            RECORD_OP("prop_set remove", patron_customer_prop_set(c, "color", NULL));
            RECORD_OP("validate", patron_customer_validate(c));
            RECORD_OP("clone", clone_op(c));
            RECORD_OP("pack/unpack", pack_unpack_op(c));
            RECORD_OP("to_json", json_op(c));
            disarm();
            if (A.live != base_live)
                fail_msg("record API with allocation %ld failing: %ld blocks leaked", n,
                         A.live - base_live);
            if (A.injected == 0)
                break;
            assert_true(n < 100000);
        }
    }
    patron_customer_free(base);
    assert_int_equal(A.live, 0);
}

/* Opening stores and handles when memory runs out. */
static void test_oom_open(void **state)
{
    (void)state;
    for (int sticky = 0; sticky < 2; sticky++)
        for (long n = 1;; n++) {
            patron_memstore *ms = NULL;
            patron_db *d1 = NULL, *d2 = NULL;
            patron_status st;
            arm(n, sticky != 0);
            st = patron_memstore_new(&ms);
            CHECK_NOMEM(st, "memstore_new");
            if (!st) {
                st = patron_db_open_memory(&d1, ms);
                CHECK_NOMEM(st, "open_memory(shared)");
                if (st)
                    assert_null(d1);
            }
            st = patron_db_open_memory(&d2, NULL);
            CHECK_NOMEM(st, "open_memory(private)");
            if (st)
                assert_null(d2);
            disarm();
            patron_db_close(d1);
            patron_db_close(d2);
            patron_memstore_free(ms);
            if (A.live != 0)
                fail_msg("opening with allocation %ld failing: %ld blocks leaked", n, A.live);
            if (A.injected == 0)
                break;
        }
}

int main(void)
{
    /* the very first thing: before the library allocates anything */
    if (patron_set_allocator(&HOOK) != PATRON_OK) {
        fprintf(stderr, "patron_set_allocator refused the hook at start-up\n");
        return 1;
    }
    {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_half_set_hook_refused, check_clean),
            cmocka_unit_test_teardown(test_hook_is_used, check_clean),
            cmocka_unit_test_teardown(test_hook_change_while_live_refused, check_clean),
            cmocka_unit_test_teardown(test_oom_open, check_clean),
            cmocka_unit_test_teardown(test_oom_record_api, check_clean),
            cmocka_unit_test_teardown(test_oom_every_step_once, check_clean),
            cmocka_unit_test_teardown(test_oom_every_step_from_then_on, check_clean),
        };
        return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
    }
}
