/* The store interface is read by version: a host built against an older
 * store.h has a smaller patron_store_ops, and the library must read nothing
 * past its end.  The struct is placed so that it ends exactly where a
 * PROT_NONE page begins: one byte too far and the test dies of SIGSEGV. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <patron/memory.h>

/* The size of a version-1 struct: up to its last member, meta_scan. */
#define OPS_V1_SIZE (offsetof(patron_store_ops, meta_scan) + sizeof(((patron_store_ops *)0)->meta_scan))

typedef struct guarded {
    unsigned char *map;
    size_t page;
    patron_store_ops *ops; /* `size` bytes, ending at the guard page */
} guarded;

static void guard_open(guarded *g, size_t size)
{
    g->page = (size_t)sysconf(_SC_PAGESIZE);
    g->map = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(g->map != MAP_FAILED);
    assert_int_equal(mprotect(g->map + g->page, g->page, PROT_NONE), 0);
    /* patron_store_ops holds only pointers and an unsigned: pointer alignment */
    assert_int_equal(size % sizeof(void *), 0);
    g->ops = (patron_store_ops *)(void *)(g->map + g->page - size);
}

static void guard_close(guarded *g)
{
    munmap(g->map, 2 * g->page);
}

static patron_customer *person(const char *first, const char *last, const char *email)
{
    patron_customer *c;
    size_t a;
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_FIRST_NAME, first), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_LAST_NAME, last), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_EMAIL, email), PATRON_OK);
    assert_int_equal(patron_customer_address_add(c, &a), PATRON_OK);
    assert_int_equal(patron_customer_address_set(c, a, PATRON_A_STREET, "Hauptstraße"), PATRON_OK);
    assert_int_equal(patron_customer_address_set(c, a, PATRON_A_HOUSE_NUMBER, "12"), PATRON_OK);
    assert_int_equal(patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, "10115"), PATRON_OK);
    assert_int_equal(patron_customer_address_set(c, a, PATRON_A_CITY, "Berlin"), PATRON_OK);
    return c;
}

/* A version-1 host: the memory store's callbacks in a version-1-sized
 * struct at the end of the mapping; create, load and match work. */
static void test_v1_struct_at_guard_page(void **state)
{
    patron_memstore *ms;
    patron_store_ops full = PATRON_STORE_OPS_INIT;
    void *ctx;
    guarded g;
    patron_db *db = NULL;
    patron_customer *a, *b, *loaded = NULL;
    patron_matches *m = NULL;
    int64_t ida, idb;
    double score;
    int64_t got = 0;
    patron_decision decision = PATRON_DECISION_DISTINCT;
    (void)state;
    assert_true(OPS_V1_SIZE < sizeof(patron_store_ops)); /* the header has grown since */
    assert_int_equal(patron_memstore_new(&ms), PATRON_OK);
    assert_int_equal(patron_memstore_ops(&full, &ctx, ms), PATRON_OK);
    guard_open(&g, OPS_V1_SIZE);
    memcpy(g.ops, &full, OPS_V1_SIZE);
    g.ops->version = 1;
    assert_int_equal(patron_db_open(&db, g.ops, ctx), PATRON_OK);
    /* the library copied what it needs: the host may drop its struct */
    assert_int_equal(mprotect(g.map, g.page, PROT_NONE), 0);

    a = person("Max", "Mustermann", "max@example.de");
    b = person("Max", "Mustermann", "max.mustermann@example.de");
    assert_int_equal(patron_db_create(db, a), PATRON_OK);
    assert_int_equal(patron_db_create(db, b), PATRON_OK);
    ida = patron_customer_id(a);
    idb = patron_customer_id(b);
    assert_true(ida > 0 && idb > ida);
    assert_int_equal(patron_db_load(db, &loaded, ida), PATRON_OK);
    assert_string_equal(patron_customer_get(loaded, PATRON_F_EMAIL), "max@example.de");
    assert_int_equal(patron_db_match(db, &m, b, PATRON_MATCH_FIELDS), PATRON_OK);
    assert_int_equal(patron_matches_count(m), 1);
    assert_int_equal(patron_matches_get(m, &got, &score, &decision, 0), PATRON_OK);
    assert_int_equal(got, ida);
    assert_int_not_equal(decision, PATRON_DECISION_DISTINCT);

    patron_matches_free(m);
    patron_customer_free(loaded);
    patron_customer_free(a);
    patron_customer_free(b);
    patron_db_close(db); /* destroy (a version-1 member) releases ctx */
    patron_memstore_free(ms);
    guard_close(&g);
}

/* patron_memstore_ops() for a host of versions 2, 3, 4: it writes that
 * version's members and not one byte more (the struct ends at a guard
 * page).  A version-4 host has no journal_rewrite: an erasure of a person
 * the journal knows is refused with PATRON_E_UNSUPPORTED and changes
 * nothing; one the journal does not know goes through. */
static void test_older_hosts_memstore_ops_and_erase(void **state)
{
    static const size_t sizes[] = {
        0, 0,
        offsetof(patron_store_ops, match_form_get) + sizeof(((patron_store_ops *)0)->match_form_get),
        offsetof(patron_store_ops, count) + sizeof(((patron_store_ops *)0)->count),
        offsetof(patron_store_ops, begin_read) + sizeof(((patron_store_ops *)0)->begin_read),
    };
    (void)state;
    for (unsigned v = 2; v <= 4; v++) {
        patron_memstore *ms;
        void *ctx;
        guarded g;
        patron_db *db = NULL;
        patron_customer *a, *b;
        patron_merge_plan *p = NULL;
        int64_t ida, idb;
        assert_true(sizes[v] < sizeof(patron_store_ops));
        assert_int_equal(patron_memstore_new(&ms), PATRON_OK);
        guard_open(&g, sizes[v]);
        g.ops->version = v;
        assert_int_equal(patron_memstore_ops(g.ops, &ctx, ms), PATRON_OK); /* no write past the end */
        assert_int_equal(g.ops->version, v);
        assert_int_equal(patron_db_open(&db, g.ops, ctx), PATRON_OK);
        a = person("Erika", "Alt", "erika.alt@example.de");
        b = person("Erika", "Alt", "e.alt@example.de");
        assert_int_equal(patron_db_create(db, a), PATRON_OK);
        assert_int_equal(patron_db_create(db, b), PATRON_OK);
        ida = patron_customer_id(a);
        idb = patron_customer_id(b);
        if (v == 4) {
            patron_customer *c = NULL;
            assert_int_equal(patron_merge_plan_new(db, &p, ida, &idb, 1, PATRON_MERGE_SURVIVOR), PATRON_OK);
            assert_int_equal(patron_db_merge(db, NULL, p), PATRON_OK);
            patron_merge_plan_free(p);
            assert_int_equal(patron_db_erase(db, NULL, ida, "Art. 17", "support"), PATRON_E_UNSUPPORTED);
            assert_non_null(strstr(patron_db_errmsg(db), "journal_rewrite"));
            assert_int_equal(patron_db_load(db, &c, ida), PATRON_OK);
            assert_string_equal(patron_customer_get(c, PATRON_F_FIRST_NAME), "Erika");
            patron_customer_free(c);
        } else {
            assert_int_equal(patron_db_erase(db, NULL, idb, "Art. 17", "support"), PATRON_OK);
            assert_int_equal(patron_customer_state(b), PATRON_STATE_ACTIVE); /* the caller's copy */
        }
        patron_customer_free(a);
        patron_customer_free(b);
        patron_db_close(db);
        patron_memstore_free(ms);
        guard_close(&g);
    }
}

/* patron_store_ops_init(ops, 1) writes only the version-1 members. */
static void test_init_v1_at_guard_page(void **state)
{
    guarded g;
    (void)state;
    guard_open(&g, OPS_V1_SIZE);
    memset(g.ops, 0xAB, OPS_V1_SIZE);
    assert_int_equal(patron_store_ops_init(g.ops, 1), PATRON_OK);
    assert_int_equal(g.ops->version, 1);
    assert_null(g.ops->begin);
    assert_null(g.ops->meta_scan);
    guard_close(&g);
}

static void test_init_current(void **state)
{
    patron_store_ops ops, init = PATRON_STORE_OPS_INIT;
    (void)state;
    memset(&ops, 0xAB, sizeof ops);
    assert_int_equal(patron_store_ops_init(&ops, PATRON_STORE_VERSION), PATRON_OK);
    assert_int_equal(ops.version, PATRON_STORE_VERSION);
    assert_null(ops.match_form_put);
    assert_null(ops.match_form_get);
    assert_int_equal(init.version, PATRON_STORE_VERSION);
    assert_null(init.begin);
    assert_null(init.match_form_get);
}

/* Versions the library does not know are refused, never guessed at. */
static void test_unknown_version(void **state)
{
    patron_memstore *ms;
    patron_store_ops ops;
    void *ctx;
    patron_db *db = (patron_db *)&ops;
    (void)state;
    assert_int_equal(patron_store_ops_init(NULL, 1), PATRON_E_INVALID);
    assert_int_equal(patron_store_ops_init(&ops, 0), PATRON_E_ABI);
    assert_int_equal(patron_store_ops_init(&ops, PATRON_STORE_VERSION + 1), PATRON_E_ABI);
    assert_int_equal(patron_memstore_new(&ms), PATRON_OK);
    ops.version = PATRON_STORE_VERSION + 1;
    assert_int_equal(patron_memstore_ops(&ops, &ctx, ms), PATRON_E_ABI);
    ops.version = PATRON_STORE_VERSION;
    assert_int_equal(patron_memstore_ops(&ops, &ctx, ms), PATRON_OK);
    ops.version = PATRON_STORE_VERSION + 1;
    assert_int_equal(patron_db_open(&db, &ops, ctx), PATRON_E_ABI);
    assert_null(db);
    ops.version = 0;
    assert_int_equal(patron_db_open(&db, &ops, ctx), PATRON_E_ABI);
    assert_null(db);
    ops.destroy(ctx);
    patron_memstore_free(ms);
}

/* ---- the match form comes back from the store untrusted ------------------ */

static const patron_store_ops *g_inner;
static int g_mode; /* which garbage match_form_get gives */
static unsigned char g_junk[64];

static int junk_form_get(void *ctx, int64_t id, const void **form, size_t *len)
{
    const void *real;
    size_t rlen;
    int rc = g_inner->match_form_get(ctx, id, &real, &rlen);
    if (rc)
        return rc;
    switch (g_mode) {
    case 0: /* cut short: the last string has no end */
        *form = real;
        *len = rlen - 1;
        break;
    case 1: /* one byte too many */
        memcpy(g_junk, real, rlen < sizeof g_junk ? rlen : sizeof g_junk);
        *form = g_junk;
        *len = rlen < sizeof g_junk ? rlen + 1 : sizeof g_junk;
        break;
    case 2: /* no form at all: random bytes */
        memset(g_junk, 0xFF, sizeof g_junk);
        *form = g_junk;
        *len = sizeof g_junk;
        break;
    case 4: /* a head that claims 65535 addresses */
        memcpy(g_junk, real, rlen < sizeof g_junk ? rlen : sizeof g_junk);
        g_junk[5] = g_junk[6] = 0xFF;
        *form = g_junk;
        *len = rlen < sizeof g_junk ? rlen : sizeof g_junk;
        break;
    default: /* a form of another default country */
        memcpy(g_junk, real, rlen < sizeof g_junk ? rlen : sizeof g_junk);
        g_junk[2] = 'A';
        g_junk[3] = 'T';
        *form = g_junk;
        *len = rlen < sizeof g_junk ? rlen : sizeof g_junk;
        break;
    }
    return 0;
}

/* Garbage match forms: matching and dedupe load the records instead and
 * give the answers they give with good forms. */
static void test_garbage_match_form_falls_back(void **state)
{
    patron_memstore *ms;
    patron_store_ops ops = PATRON_STORE_OPS_INIT, bad;
    void *ctx;
    patron_db *db, *baddb;
    patron_customer *a = person("Max", "Mustermann", "max@example.de");
    patron_customer *b = person("Max", "Mustermann", "max.mustermann@example.de");
    patron_matches *good = NULL, *m = NULL;
    patron_pairs *gp = NULL, *p = NULL;
    (void)state;
    assert_int_equal(patron_memstore_new(&ms), PATRON_OK);
    assert_int_equal(patron_memstore_ops(&ops, &ctx, ms), PATRON_OK);
    assert_non_null(ops.match_form_get);
    g_inner = &ops;
    bad = ops;
    bad.match_form_get = junk_form_get;
    bad.destroy = NULL;
    assert_int_equal(patron_db_open(&db, &ops, ctx), PATRON_OK);
    assert_int_equal(patron_db_open(&baddb, &bad, ctx), PATRON_OK);
    assert_int_equal(patron_db_create(db, a), PATRON_OK);
    assert_int_equal(patron_db_create(db, b), PATRON_OK);
    assert_int_equal(patron_db_match(db, &good, b, PATRON_MATCH_FIELDS), PATRON_OK);
    assert_int_equal(patron_matches_count(good), 1);
    assert_int_equal(patron_db_dedupe(db, &gp, PATRON_MATCH_FIELDS), PATRON_OK);
    assert_int_equal(patron_pairs_count(gp), 1);
    for (g_mode = 0; g_mode < 5; g_mode++) {
        double s1, s2;
        patron_decision d1, d2;
        int64_t i1, i2, x1, y1, x2, y2;
        assert_int_equal(patron_db_match(baddb, &m, b, PATRON_MATCH_FIELDS), PATRON_OK);
        assert_int_equal(patron_matches_count(m), 1);
        assert_int_equal(patron_matches_get(m, &i1, &s1, &d1, 0), PATRON_OK);
        assert_int_equal(patron_matches_get(good, &i2, &s2, &d2, 0), PATRON_OK);
        assert_true(i1 == i2 && s1 == s2 && d1 == d2);
        patron_matches_free(m);
        assert_int_equal(patron_db_dedupe(baddb, &p, PATRON_MATCH_FIELDS), PATRON_OK);
        assert_int_equal(patron_pairs_count(p), 1);
        assert_int_equal(patron_pairs_get(p, &x1, &y1, &s1, &d1, 0), PATRON_OK);
        assert_int_equal(patron_pairs_get(gp, &x2, &y2, &s2, &d2, 0), PATRON_OK);
        assert_true(x1 == x2 && y1 == y2 && s1 == s2 && d1 == d2);
        patron_pairs_free(p);
    }
    patron_matches_free(good);
    patron_pairs_free(gp);
    patron_customer_free(a);
    patron_customer_free(b);
    patron_db_close(baddb);
    patron_db_close(db);
    patron_memstore_free(ms);
}

/* Version 4: the library begins calls that only read with begin_read(),
 * every other with begin(); a host without begin_read (an older version,
 * or NULL) gets begin() for both. */
static const patron_store_ops *counted_inner;
static int n_begin, n_begin_read;

static int counted_begin(void *ctx)
{
    n_begin++;
    return counted_inner->begin(ctx);
}

static int counted_begin_read(void *ctx)
{
    n_begin_read++;
    return counted_inner->begin(ctx);
}

static void test_begin_read_for_reads(void **state)
{
    patron_memstore *ms;
    patron_store_ops full = PATRON_STORE_OPS_INIT, ops;
    void *ctx;
    (void)state;
    assert_int_equal(patron_memstore_new(&ms), PATRON_OK);
    assert_int_equal(patron_memstore_ops(&full, &ctx, ms), PATRON_OK);
    counted_inner = &full;
    for (int with_read = 1; with_read >= 0; with_read--) {
        patron_db *db = NULL;
        patron_customer *a = person("Jürgen", "Müller", "jm@example.de"), *l = NULL;
        patron_matches *m = NULL;
        patron_pairs *p = NULL;
        patron_journal *j = NULL;
        patron_gate gate;
        char *json = NULL;
        int64_t id, ids[8], cid;
        size_t n;
        ops = full;
        ops.destroy = NULL;
        ops.begin = counted_begin;
        ops.begin_read = with_read ? counted_begin_read : NULL;
        assert_int_equal(patron_db_open(&db, &ops, ctx), PATRON_OK);
        n_begin = n_begin_read = 0;
        assert_int_equal(patron_db_create(db, a), PATRON_OK);
        id = patron_customer_id(a);
        assert_int_equal(n_begin, 1);
        assert_int_equal(n_begin_read, 0);
        n_begin = 0;
        assert_int_equal(patron_db_load(db, &l, id), PATRON_OK);
        patron_customer_free(l);
        assert_int_equal(patron_db_find(db, &l, PATRON_KEY_NUMBER, patron_customer_get(a, PATRON_F_NUMBER)),
                         PATRON_OK);
        patron_customer_free(l);
        assert_int_equal(patron_db_list(db, ids, &n, 8, NULL, 0), PATRON_OK);
        assert_int_equal(patron_db_match(db, &m, a, PATRON_MATCH_FIELDS), PATRON_OK);
        patron_matches_free(m);
        assert_int_equal(patron_db_dedupe(db, &p, PATRON_MATCH_FIELDS), PATRON_OK);
        patron_pairs_free(p);
        assert_int_equal(patron_db_export_to_json(db, &json, &id, 1, 0), PATRON_OK);
        patron_free(json);
        assert_int_equal(patron_db_journal_list(db, &j, 0, 10), PATRON_OK);
        patron_journal_free(j);
        assert_int_equal(patron_db_can_order(db, &gate, &cid, id), PATRON_OK);
        assert_int_equal(patron_db_can_login(db, &gate, &cid, "nobody"), PATRON_OK);
        if (with_read) {
            assert_int_equal(n_begin, 0);
            assert_int_equal(n_begin_read, 9);
        } else {
            assert_int_equal(n_begin, 9);
            assert_int_equal(n_begin_read, 0);
        }
        patron_customer_free(a);
        patron_db_close(db);
    }
    full.destroy(ctx); /* the handles above did not own the session */
    patron_memstore_free(ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_struct_at_guard_page),
        cmocka_unit_test(test_init_v1_at_guard_page),
        cmocka_unit_test(test_older_hosts_memstore_ops_and_erase),
        cmocka_unit_test(test_init_current),
        cmocka_unit_test(test_unknown_version),
        cmocka_unit_test(test_garbage_match_form_falls_back),
        cmocka_unit_test(test_begin_read_for_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
