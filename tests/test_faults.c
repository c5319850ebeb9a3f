/* Every mutating operation against a store that fails its Nth callback, for
 * every N: the operation reports the failure, and the store and the
 * caller's record are exactly as before.  Then the same operation, without
 * a failure, succeeds on the same store (nothing was left half-open). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"
#include "fixture.h"

static const char *g_backend = "memory";

typedef struct fixture {
    test_backend own; /* the store, unless the sweep shares one */
    test_backend *tb; /* the store under test: &own or the sweep's */
    patron_db *plain; /* a handle without faults, to set up data */
    int64_t id_a, id_b;
    int64_t journal_id; /* a merge to undo */
} fixture;

/* The stores of one operation's sweep.  Each injected failure needs a store
 * holding just Anna, Bernd and their orders.  A fresh one each time is
 * cheap in memory and SQLite; in PostgreSQL it is a schema of new tables
 * (and its DROP), which made this suite's 780 runs take 45 s (76 s under
 * ASan).  There the sweep makes the store once, keeps a checkpoint of it
 * and restores it before each run (tests/backend.h, tb_restore), and checks
 * that the restored store has the checkpoint's fingerprint. */
typedef struct sweep {
    bool shared, ready;
    test_backend tb;
    int64_t id_a, id_b;
    char *fp; /* store_fingerprint() at the checkpoint */
} sweep;

/* An operation under test: run it on `db` against the fixture; the record it
 * works on (if any) is in *rec, made by prepare(). */
typedef struct op {
    const char *name;
    void (*prepare)(fixture *fx, patron_customer **rec);
    patron_status (*run)(fixture *fx, patron_db *db, patron_customer *rec);
} op;

/* Everybody lives at Hauptstraße 12a in Berlin, is a "vip" and has a shoe size. */
static patron_customer *person(const char *first, const char *last, const char *email)
{
    patron_customer *c = fx_person(first, last, email, "Hauptstraße", "12a", "10115", "Berlin");
    assert_int_equal(patron_customer_tag_add(c, "vip"), PATRON_OK);
    assert_int_equal(patron_customer_prop_set(c, "shoe_size", "44"), PATRON_OK);
    return c;
}

static const patron_key PROBE_KEYS[] = {
    { PATRON_KEY_EMAIL, "anna@example.de" },
    { PATRON_KEY_EMAIL, "bernd@example.de" },
    { PATRON_KEY_EMAIL, "carla@example.de" },
    { PATRON_KEY_EMAIL, "anna.neu@example.de" },
    { PATRON_KEY_EXTERNAL, "shop\x1f" "2002" },
    { PATRON_KEY_NUMBER, "K000003" },
    { PATRON_KEY_NUMBER, "M-77" },
    { PATRON_KEY_LOGIN, "carla" },
    { 0, NULL },
};
static const char *const PROBE_NUMBERS[] = { "K000001", "K000002", "K000003", "K000004", "M-77", NULL };

static const char *const FIXTURE_ORDERS[] = { "O-1", "O-2", "O-3", NULL };

static void sweep_begin(sweep *sw)
{
    memset(sw, 0, sizeof *sw);
    sw->shared = tb_can_restore(g_backend);
    if (sw->shared) {
        assert_int_equal(tb_open(&sw->tb, g_backend), 0);
        sw->tb.probe_orders = FIXTURE_ORDERS;
    }
}

static void sweep_end(sweep *sw)
{
    if (sw->shared)
        tb_close(&sw->tb);
    free(sw->fp);
}

static void fixture_open(fixture *fx, sweep *sw)
{
    patron_customer *a, *b;
    memset(fx, 0, sizeof *fx);
    if (sw->ready) {
        char *fp;
        fx->tb = &sw->tb;
        assert_int_equal(tb_restore(fx->tb), 0);
        fx->plain = tb_db(fx->tb);
        assert_non_null(fx->plain);
        fx->id_a = sw->id_a;
        fx->id_b = sw->id_b;
        fp = store_fingerprint(fx->tb, PROBE_KEYS, PROBE_NUMBERS);
        if (strcmp(fp, sw->fp) != 0)
            fail_msg("the restored store differs from its checkpoint\nwant:\n%s\nhave:\n%s", sw->fp, fp);
        free(fp);
        return;
    }
    if (sw->shared) {
        fx->tb = &sw->tb;
    } else {
        fx->tb = &fx->own;
        assert_int_equal(tb_open(fx->tb, g_backend), 0);
        fx->tb->probe_orders = FIXTURE_ORDERS;
    }
    fx->plain = tb_db(fx->tb);
    assert_non_null(fx->plain);
    a = person("Anna", "Müller", "anna@example.de");
    assert_int_equal(patron_customer_set(a, PATRON_F_EXTERNAL_SOURCE, "shop"), PATRON_OK);
    assert_int_equal(patron_customer_set(a, PATRON_F_EXTERNAL_ID, "1001"), PATRON_OK);
    assert_int_equal(patron_db_create(fx->plain, a), PATRON_OK);
    b = person("Bernd", "Schmidt", "bernd@example.de");
    assert_int_equal(patron_customer_set(b, PATRON_F_LOGIN_USER, "bernd"), PATRON_OK);
    assert_int_equal(patron_customer_set(b, PATRON_F_LOGIN_HASH, "$2y$10$secret"), PATRON_OK);
    assert_int_equal(patron_db_create(fx->plain, b), PATRON_OK);
    fx->id_a = patron_customer_id(a);
    fx->id_b = patron_customer_id(b);
    assert_int_equal(tb_add_order(fx->tb, "O-1", fx->id_a), 0);
    assert_int_equal(tb_add_order(fx->tb, "O-2", fx->id_b), 0);
    assert_int_equal(tb_add_order(fx->tb, "O-3", fx->id_b), 0);
    patron_customer_free(a);
    patron_customer_free(b);
    if (sw->shared) {
        assert_int_equal(tb_checkpoint(fx->tb), 0);
        sw->id_a = fx->id_a;
        sw->id_b = fx->id_b;
        sw->fp = store_fingerprint(fx->tb, PROBE_KEYS, PROBE_NUMBERS);
        sw->ready = true;
    }
}

static void fixture_close(fixture *fx)
{
    patron_db_close(fx->plain);
    if (fx->tb == &fx->own)
        tb_close(fx->tb);
}

static char *pack(const patron_customer *c)
{
    char *p;
    size_t n;
    if (!c)
        return strdup("(none)");
    assert_int_equal(patron_record_pack(&p, &n, c), PATRON_OK);
    return p;
}

/* ---- the operations ----------------------------------------------------- */

static void prep_new(fixture *fx, patron_customer **rec)
{
    (void)fx;
    *rec = person("Carla", "Weiß", "carla@example.de");
    assert_int_equal(patron_customer_set(*rec, PATRON_F_EXTERNAL_SOURCE, "shop"), PATRON_OK);
    assert_int_equal(patron_customer_set(*rec, PATRON_F_EXTERNAL_ID, "2002"), PATRON_OK);
    assert_int_equal(patron_customer_set(*rec, PATRON_F_LOGIN_USER, "carla"), PATRON_OK);
}

static void prep_new_manual(fixture *fx, patron_customer **rec)
{
    prep_new(fx, rec);
    assert_int_equal(patron_customer_set(*rec, PATRON_F_NUMBER, "M-77"), PATRON_OK);
}

static patron_status run_create(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    return patron_db_create(db, rec);
}

static void prep_loaded_a(fixture *fx, patron_customer **rec)
{
    assert_int_equal(patron_db_load(fx->plain, rec, fx->id_a), PATRON_OK);
    assert_int_equal(patron_customer_set(*rec, PATRON_F_EMAIL, "anna.neu@example.de"), PATRON_OK);
    assert_int_equal(patron_customer_set(*rec, PATRON_F_LAST_NAME, "Müller-Lüdenscheidt"), PATRON_OK);
    assert_int_equal(patron_customer_address_set(*rec, 0, PATRON_A_CITY, "Potsdam"), PATRON_OK);
    assert_int_equal(patron_customer_tag_add(*rec, "newsletter"), PATRON_OK);
}

static patron_status run_update(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    return patron_db_update(db, rec);
}

static void prep_none(fixture *fx, patron_customer **rec)
{
    (void)fx;
    *rec = NULL;
}

static patron_status run_delete(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)rec;
    return patron_db_delete(db, fx->id_b, 1);
}

/* Not mutations, but reads must also end their transaction on any failure. */
static patron_status run_find(fixture *fx, patron_db *db, patron_customer *rec)
{
    patron_customer *c = NULL;
    patron_status st;
    (void)fx;
    (void)rec;
    st = patron_db_find(db, &c, PATRON_KEY_EMAIL, "bernd@example.de");
    patron_customer_free(c);
    return st;
}

static patron_status run_list(fixture *fx, patron_db *db, patron_customer *rec)
{
    int64_t ids[4];
    size_t n;
    patron_filter f = PATRON_FILTER_INIT;
    (void)fx;
    (void)rec;
    f.state = PATRON_STATE_ACTIVE;
    return patron_db_list(db, ids, &n, 4, &f, 0);
}

static patron_status run_merge(fixture *fx, patron_db *db, patron_customer *rec)
{
    patron_merge_plan *p = NULL;
    int64_t jid;
    patron_status st;
    (void)rec;
    st = patron_merge_plan_new(db, &p, fx->id_a, &fx->id_b, 1, PATRON_MERGE_SURVIVOR);
    if (!st)
        st = patron_db_merge(db, &jid, p);
    patron_merge_plan_free(p);
    return st;
}

static void prep_merged(fixture *fx, patron_customer **rec)
{
    patron_merge_plan *p;
    *rec = NULL;
    assert_int_equal(patron_merge_plan_new(fx->plain, &p, fx->id_a, &fx->id_b, 1, 0), PATRON_OK);
    assert_int_equal(patron_db_merge(fx->plain, &fx->journal_id, p), PATRON_OK);
    patron_merge_plan_free(p);
}

static patron_status run_undo(fixture *fx, patron_db *db, patron_customer *rec)
{
    int64_t uid;
    (void)rec;
    return patron_db_undo(db, &uid, fx->journal_id, 0);
}

static patron_status run_lock(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)rec;
    return patron_db_lock(db, fx->id_a, "Zahlungsausfall");
}

static void prep_locked(fixture *fx, patron_customer **rec)
{
    *rec = NULL;
    assert_int_equal(patron_db_lock(fx->plain, fx->id_a, "Betrug"), PATRON_OK);
}

static patron_status run_unlock(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)rec;
    return patron_db_unlock(db, fx->id_a);
}

/* ---- erasure (issue 16) ---------------------------------------------------- */

static patron_status run_erase(fixture *fx, patron_db *db, patron_customer *rec)
{
    int64_t jid;
    (void)rec;
    return patron_db_erase(db, &jid, fx->id_a, "Art. 17 request", "support");
}

/* Bernd merged into Anna, then Anna locked: the erasure scrubs two records,
 * two journal entries (the merge with its before-images, the lock) and
 * writes its own. */
static void prep_merged_locked(fixture *fx, patron_customer **rec)
{
    prep_merged(fx, rec);
    assert_int_equal(patron_db_lock(fx->plain, fx->id_a, "Betrug"), PATRON_OK);
}

/* ---- the lifecycle: registration, activation, release ------------------- */

static patron_status run_register(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    return patron_db_register(db, NULL, rec);
}

/* The pending customer of the activation fixtures. */
static int64_t g_pending_id;

/* A pending registration of Carla: no candidate among Anna and Bernd. */
static void prep_pending_plain(fixture *fx, patron_customer **rec)
{
    patron_customer *c;
    prep_new(fx, &c);
    assert_int_equal(patron_db_register(fx->plain, NULL, c), PATRON_OK);
    g_pending_id = patron_customer_id(c);
    patron_customer_free(c);
    *rec = NULL;
}

/* A pending registration of Anna again, with her (normalised) email, so
 * that every mode finds her: registered under another email first (the
 * registration refuses a taken one), then changed. */
static void prep_pending_dup(fixture *fx, patron_customer **rec)
{
    patron_customer *c = person("Anna", "Mueller", "anna.tmp@example.de");
    assert_int_equal(patron_customer_set(c, PATRON_F_LOGIN_USER, "anna"), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_LOGIN_HASH, "$2y$10$anna"), PATRON_OK);
    assert_int_equal(patron_db_register(fx->plain, NULL, c), PATRON_OK);
    g_pending_id = patron_customer_id(c);
    assert_int_equal(patron_customer_set(c, PATRON_F_EMAIL, "Anna@Example.de"), PATRON_OK);
    assert_int_equal(patron_db_update(fx->plain, c), PATRON_OK);
    patron_customer_free(c);
    *rec = NULL;
}

static patron_status run_activate_mode(patron_db *db, int mode, int want)
{
    patron_activation *a = NULL;
    patron_status st = patron_db_activate(db, &a, g_pending_id, mode, 0);
    if (!st && (int)patron_activation_outcome(a) != want)
        fail_msg("activation mode %d: outcome %d (%s), want %d", mode, patron_activation_outcome(a),
                 patron_activation_message(a), want);
    if (st)
        assert_null(a);
    patron_activation_free(a);
    return st;
}

static patron_status run_activate_interactive_new(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return run_activate_mode(db, PATRON_ACTIVATE_INTERACTIVE, PATRON_OUTCOME_ACTIVATED);
}

static patron_status run_activate_auto_new(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return run_activate_mode(db, PATRON_ACTIVATE_AUTO, PATRON_OUTCOME_ACTIVATED);
}

static patron_status run_activate_email_new(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return run_activate_mode(db, PATRON_ACTIVATE_EMAIL, PATRON_OUTCOME_ACTIVATED);
}

static patron_status run_activate_interactive_dup(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return run_activate_mode(db, PATRON_ACTIVATE_INTERACTIVE, PATRON_OUTCOME_REVIEW);
}

static patron_status run_activate_auto_dup(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return run_activate_mode(db, PATRON_ACTIVATE_AUTO, PATRON_OUTCOME_MERGED);
}

static patron_status run_activate_email_dup(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return run_activate_mode(db, PATRON_ACTIVATE_EMAIL, PATRON_OUTCOME_MERGED);
}

static patron_status run_release(fixture *fx, patron_db *db, patron_customer *rec)
{
    char *num = NULL;
    patron_status st;
    (void)fx;
    (void)rec;
    st = patron_db_release(db, &num, g_pending_id);
    if (st)
        assert_null(num);
    else
        assert_non_null(num);
    patron_free(num);
    return st;
}

static patron_status run_gate(fixture *fx, patron_db *db, patron_customer *rec)
{
    patron_gate v;
    int64_t cid;
    patron_status st;
    (void)rec;
    st = patron_db_can_login(db, &v, &cid, "bernd");
    if (!st)
        st = patron_db_can_order(db, &v, &cid, fx->id_a);
    return st;
}

/* Matching and dedupe only read: a failure anywhere ends the read
 * transaction, returns no result and leaves the store as it was.  A second
 * Anna (other spelling, same address and email) gives them a candidate to
 * load and score. */
static void prep_dup_of_a(fixture *fx, patron_customer **rec)
{
    patron_customer *d = person("Anna", "Mueller", "Anna@Example.de");
    *rec = NULL;
    assert_int_equal(patron_db_create(fx->plain, d), PATRON_OK);
    patron_customer_free(d);
}

static patron_status run_match_stored(fixture *fx, patron_db *db, patron_customer *rec)
{
    patron_customer *c = NULL;
    patron_matches *m = (patron_matches *)&m;
    patron_status st;
    (void)rec;
    assert_int_equal(patron_db_load(fx->plain, &c, fx->id_a), PATRON_OK);
    st = patron_db_match(db, &m, c, PATRON_MATCH_FIELDS);
    if (st)
        assert_null(m);
    else
        assert_true(patron_matches_count(m) > 0);
    patron_matches_free(st ? NULL : m);
    patron_customer_free(c);
    return st;
}

static patron_status run_match_new_email(fixture *fx, patron_db *db, patron_customer *rec)
{
    patron_customer *c = person("A.", "Müller", "ANNA@example.de");
    patron_matches *m = (patron_matches *)&m;
    patron_status st;
    (void)fx;
    (void)rec;
    st = patron_db_match(db, &m, c, PATRON_MATCH_EMAIL);
    if (st)
        assert_null(m);
    else
        assert_true(patron_matches_count(m) > 0);
    patron_matches_free(st ? NULL : m);
    patron_customer_free(c);
    return st;
}

static patron_status run_dedupe(patron_db *db, int mode)
{
    patron_pairs *p = (patron_pairs *)&p;
    patron_status st = patron_db_dedupe(db, &p, mode);
    if (st)
        assert_null(p);
    else
        assert_true(patron_pairs_count(p) > 0);
    patron_pairs_free(st ? NULL : p);
    return st;
}

static patron_status run_dedupe_fields(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return run_dedupe(db, PATRON_MATCH_FIELDS);
}

static patron_status run_dedupe_email(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return run_dedupe(db, PATRON_MATCH_EMAIL);
}

static const op OPS[] = {
    { "create", prep_new, run_create },
    { "create-manual-number", prep_new_manual, run_create },
    { "update", prep_loaded_a, run_update },
    { "delete", prep_none, run_delete },
    { "find", prep_none, run_find },
    { "list", prep_none, run_list },
    { "match-stored-fields", prep_dup_of_a, run_match_stored },
    { "match-new-email", prep_dup_of_a, run_match_new_email },
    { "dedupe-fields", prep_dup_of_a, run_dedupe_fields },
    { "dedupe-email", prep_dup_of_a, run_dedupe_email },
    { "merge", prep_none, run_merge },
    { "undo", prep_merged, run_undo },
    { "lock", prep_none, run_lock },
    { "unlock", prep_locked, run_unlock },
    { "register", prep_new, run_register },
    { "activate-interactive-new", prep_pending_plain, run_activate_interactive_new },
    { "activate-auto-new", prep_pending_plain, run_activate_auto_new },
    { "activate-email-new", prep_pending_plain, run_activate_email_new },
    { "activate-interactive-dup", prep_pending_dup, run_activate_interactive_dup },
    { "activate-auto-dup", prep_pending_dup, run_activate_auto_dup },
    { "activate-email-dup", prep_pending_dup, run_activate_email_dup },
    { "release", prep_pending_plain, run_release },
    { "gate", prep_none, run_gate },
    { "erase", prep_none, run_erase },
    { "erase-merged-locked", prep_merged_locked, run_erase },
};

/* ---- customer groups: the meta callbacks fail too ------------------------- */

/* fault_db() wraps the callbacks of store version 1 without the meta ones;
 * these count and fail alike, on the same fault_store. */
static int meta_hit(fault_store *fs, const char *name)
{
    fs->calls++;
    if (fs->fail_at && fs->calls == fs->fail_at) {
        fs->failed = true;
        snprintf(fs->last_failed, sizeof fs->last_failed, "%s", name);
        return 1;
    }
    return 0;
}

static int w_meta_get(void *ctx, const char *key, patron_emit_meta_fn emit, void *ectx)
{
    fault_store *fs = ctx;
    if (meta_hit(fs, "meta_get"))
        return -1000;
    return fs->inner->meta_get(fs->inner_ctx, key, emit, ectx);
}

static int w_meta_put(void *ctx, const char *key, const char *value)
{
    fault_store *fs = ctx;
    if (meta_hit(fs, "meta_put"))
        return -1000;
    return fs->inner->meta_put(fs->inner_ctx, key, value);
}

static int w_meta_scan(void *ctx, const char *prefix, patron_emit_meta_fn emit, void *ectx)
{
    fault_store *fs = ctx;
    if (meta_hit(fs, "meta_scan"))
        return -1000;
    return fs->inner->meta_scan(fs->inner_ctx, prefix, emit, ectx);
}

static int w_count(void *ctx, int kind, const char *value, uint64_t *out)
{
    fault_store *fs = ctx;
    if (meta_hit(fs, "count"))
        return -1000;
    return fs->inner->count(fs->inner_ctx, kind, value, out);
}

/* A handle through `fs` with the meta callbacks (and the version-2 count,
 * when the store has one) wrapped as well. */
static patron_db *fault_db_meta(fault_store *fs, test_backend *tb)
{
    patron_db *db = fault_db(fs, tb);
    assert_non_null(db);
    patron_db_close(db);
    fs->ops.meta_get = w_meta_get;
    fs->ops.meta_put = w_meta_put;
    fs->ops.meta_scan = w_meta_scan;
    if (fs->inner->version >= 2 && fs->inner->count)
        fs->ops.count = w_count;
    db = NULL;
    assert_int_equal(patron_db_open(&db, &fs->ops, fs), PATRON_OK);
    return db;
}

static int add_meta_line(void *ctx, const char *key, const char *value)
{
    char **acc = ctx;
    size_t old = strlen(*acc), add = strlen(key) + strlen(value) + 16;
    char *n = realloc(*acc, old + add);
    if (!n)
        abort();
    snprintf(n + old, add, "meta %s = ", key);
    {
        size_t at = strlen(n);
        for (const char *v = value; *v; v++)
            n[at++] = *v == '\n' ? '|' : *v;
        n[at++] = '\n';
        n[at] = '\0';
    }
    *acc = n;
    return 0;
}

/* store_fingerprint() and every meta entry. */
static char *fingerprint_meta(test_backend *tb)
{
    char *fp = store_fingerprint(tb, PROBE_KEYS, PROBE_NUMBERS);
    if (tb->ops->begin(tb->ctx) != 0)
        abort();
    tb->ops->meta_scan(tb->ctx, "", add_meta_line, &fp);
    tb->ops->rollback(tb->ctx);
    return fp;
}

/* Groups: Standard (the default), Händler (Anna), Alt (only the pending
 * Carla); Bernd was made before any group and has none. */
static void prep_groups(fixture *fx, patron_customer **rec)
{
    patron_customer *c;
    *rec = NULL;
    assert_int_equal(patron_db_group_add(fx->plain, "Standard"), PATRON_OK);
    assert_int_equal(patron_db_group_add(fx->plain, "Händler"), PATRON_OK);
    assert_int_equal(patron_db_group_add(fx->plain, "Alt"), PATRON_OK);
    assert_int_equal(patron_db_group_set(fx->plain, "Händler", "discount_percent", "10"), PATRON_OK);
    assert_int_equal(patron_db_group_assign(fx->plain, "Händler", fx->id_a), PATRON_OK);
    prep_new(fx, &c);
    assert_int_equal(patron_customer_set(c, PATRON_F_GROUP, "Alt"), PATRON_OK);
    assert_int_equal(patron_db_register(fx->plain, NULL, c), PATRON_OK);
    g_pending_id = patron_customer_id(c);
    patron_customer_free(c);
}

static void prep_groups_new(fixture *fx, patron_customer **rec)
{
    prep_groups(fx, rec);
    *rec = person("Dieter", "Dorn", "dieter@example.de");
}

static patron_status run_group_add(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return patron_db_group_add(db, "Neu");
}

static patron_status run_group_rename(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return patron_db_group_rename(db, "Händler", "Großhandel");
}

static patron_status run_group_set_default(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return patron_db_group_set(db, "Händler", "default", "1");
}

static patron_status run_group_set_discount(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return patron_db_group_set(db, "Händler", "discount_percent", "12.5");
}

static patron_status run_group_assign(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)rec;
    return patron_db_group_assign(db, "Händler", fx->id_b);
}

static patron_status run_group_delete(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return patron_db_group_delete(db, "Alt");
}

static patron_status run_groups_json(fixture *fx, patron_db *db, patron_customer *rec)
{
    char *j = NULL;
    patron_status st;
    (void)fx;
    (void)rec;
    st = patron_db_groups_to_json(db, &j);
    if (st)
        assert_null(j);
    patron_free(j);
    return st;
}

static patron_status run_activate_auto_grouped(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return run_activate_mode(db, PATRON_ACTIVATE_AUTO, PATRON_OUTCOME_ACTIVATED);
}

static const op GROUP_OPS[] = {
    { "group-add", prep_groups, run_group_add },
    { "group-rename", prep_groups, run_group_rename },
    { "group-set-default", prep_groups, run_group_set_default },
    { "group-set-discount", prep_groups, run_group_set_discount },
    { "group-assign", prep_groups, run_group_assign },
    { "group-delete", prep_groups, run_group_delete },
    { "groups-json", prep_groups, run_groups_json },
    { "register-grouped", prep_groups_new, run_register },
    { "create-grouped", prep_groups_new, run_create },
    { "activate-auto-grouped", prep_groups, run_activate_auto_grouped },
};

/* ---- the review queue: every mutating operation (issue 12) ----------------- */

static int64_t g_case_id, g_dup_id, g_queue_journal;

/* Groups (so that meta is in the picture), a second Anna, a scan: one open
 * case of Anna and her double. */
static void prep_case(fixture *fx, patron_customer **rec)
{
    patron_customer *c = person("Anna", "Mueller", "anna@example.de");
    patron_cases *l = NULL;
    prep_groups(fx, rec);
    assert_int_equal(patron_db_create(fx->plain, c), PATRON_OK);
    g_dup_id = patron_customer_id(c);
    patron_customer_free(c);
    assert_int_equal(patron_db_review_scan(fx->plain, NULL, NULL), PATRON_OK);
    assert_int_equal(patron_db_review_list(fx->plain, &l, PATRON_REVIEW_STATE(PATRON_CASE_OPEN)), PATRON_OK);
    assert_true(patron_cases_count(l) >= 1);
    g_case_id = 0;
    for (size_t i = 0; i < patron_cases_count(l); i++) {
        const patron_case *k = patron_cases_at(l, i);
        int64_t m;
        for (size_t j = 0; j < patron_case_member_count(k); j++)
            if (patron_case_member(k, &m, j) == PATRON_OK && m == g_dup_id)
                g_case_id = patron_case_id(k);
    }
    assert_true(g_case_id > 0);
    patron_cases_free(l);
}

static void set_email(patron_db *db, int64_t id, const char *email)
{
    patron_customer *c = NULL;
    assert_int_equal(patron_db_load(db, &c, id), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_EMAIL, email), PATRON_OK);
    assert_int_equal(patron_db_update(db, c), PATRON_OK);
    patron_customer_free(c);
}

/* ... and a change since the scan */
static void prep_case_changed(fixture *fx, patron_customer **rec)
{
    prep_case(fx, rec);
    set_email(fx->plain, fx->id_b, "bernd.schmidt@example.de");
}

/* ... decided not a duplicate, then the double changed its email */
static void prep_case_decided_changed(fixture *fx, patron_customer **rec)
{
    prep_case(fx, rec);
    assert_int_equal(patron_db_review_decide(fx->plain, g_case_id, PATRON_CASE_NOT_DUPLICATE, "anna", "twins"),
                     PATRON_OK);
    set_email(fx->plain, g_dup_id, "anna.m@example.de");
}

/* ... merged through the queue */
static void prep_case_merged(fixture *fx, patron_customer **rec)
{
    prep_case(fx, rec);
    assert_int_equal(patron_db_review_merge(fx->plain, &g_queue_journal, g_case_id, NULL, "anna"), PATRON_OK);
}

static patron_status run_review_scan(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return patron_db_review_scan(db, NULL, NULL);
}

static patron_status run_review_scan_full(fixture *fx, patron_db *db, patron_customer *rec)
{
    patron_review_scan_options o = PATRON_REVIEW_SCAN_OPTIONS_INIT;
    (void)fx;
    (void)rec;
    o.flags = PATRON_REVIEW_SCAN_FULL;
    return patron_db_review_scan(db, NULL, &o);
}

static patron_status run_review_decide(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return patron_db_review_decide(db, g_case_id, PATRON_CASE_NOT_DUPLICATE, "anna", "twins");
}

static patron_status run_review_reopen(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return patron_db_review_decide(db, g_case_id, PATRON_CASE_OPEN, "anna", NULL);
}

static patron_status run_review_merge(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return patron_db_review_merge(db, NULL, g_case_id, NULL, "anna");
}

static patron_status run_review_undo(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return patron_db_undo(db, NULL, g_queue_journal, PATRON_UNDO_FORCE);
}

static patron_status run_update_dup(fixture *fx, patron_db *db, patron_customer *rec)
{
    patron_customer *c = NULL;
    patron_status st;
    (void)fx;
    (void)rec;
    if ((st = patron_db_load(db, &c, g_dup_id)) != 0)
        return st;
    patron_customer_set(c, PATRON_F_PHONE, "+49 30 555");
    st = patron_db_update(db, c);
    patron_customer_free(c);
    return st;
}

/* Erase the double Anna of a case (the case goes: one member left). */
static patron_status run_erase_dup(fixture *fx, patron_db *db, patron_customer *rec)
{
    (void)fx;
    (void)rec;
    return patron_db_erase(db, NULL, g_dup_id, "Art. 17 request", "support");
}

static const op REVIEW_OPS[] = {
    { "review-scan-first", prep_groups, run_review_scan },
    { "review-scan-full", prep_case, run_review_scan_full },
    { "review-scan-incremental", prep_case_changed, run_review_scan },
    { "review-scan-reopens", prep_case_decided_changed, run_review_scan },
    { "review-decide", prep_case, run_review_decide },
    { "review-decide-open", prep_case_decided_changed, run_review_reopen },
    { "review-merge", prep_case, run_review_merge },
    { "review-undo-reopens", prep_case_merged, run_review_undo },
    { "update-marks-changed", prep_case, run_update_dup },
    { "erase-case-member", prep_case, run_erase_dup },
    { "erase-queue-merged", prep_case_merged, run_erase },
};

/* As every_step(), with the meta callbacks in the count and in the
 * fingerprint.  A store without meta callbacks keeps no groups: skipped. */
static void every_step_meta(const op *o)
{
    long n, steps = 0;
    sweep sw;
    {
        test_backend tb;
        bool has;
        assert_int_equal(tb_open(&tb, g_backend), 0);
        has = tb.ops->meta_get && tb.ops->meta_put && tb.ops->meta_scan;
        tb_close(&tb);
        if (!has) {
            print_message("[ %-20s ] skipped: store '%s' has no meta callbacks\n", o->name, g_backend);
            skip();
            return;
        }
    }
    sweep_begin(&sw);
    for (n = 1;; n++) {
        fixture fx;
        fault_store fs;
        patron_customer *rec = NULL;
        patron_db *db;
        char *before, *after, *rec_before, *rec_after;
        patron_status st;

        fixture_open(&fx, &sw);
        o->prepare(&fx, &rec);
        db = fault_db_meta(&fs, fx.tb);
        before = fingerprint_meta(fx.tb);
        assert_non_null(strstr(before, "meta group/Standard = ")); /* the groups are in the picture */
        rec_before = pack(rec);

        fault_arm(&fs, n);
        st = o->run(&fx, db, rec);
        if (!fs.failed) {
            if (st != PATRON_OK)
                fail_msg("%s: %s (%s)", o->name, patron_status_message(st), patron_db_errmsg(db));
            steps = n - 1;
            free(before);
            patron_free(rec_before);
            patron_customer_free(rec);
            patron_db_close(db);
            fixture_close(&fx);
            break;
        }
        if (st == PATRON_OK)
            fail_msg("%s: injected failure in '%s' (call %ld) was not reported", o->name, fs.last_failed, n);
        if (st != PATRON_E_STORE)
            fail_msg("%s: failure in '%s' reported as %d (%s), want PATRON_E_STORE", o->name,
                     fs.last_failed, st, patron_db_errmsg(db));
        if (!strstr(patron_db_errmsg(db), fs.last_failed))
            fail_msg("%s: message '%s' does not name the callback '%s'", o->name, patron_db_errmsg(db),
                     fs.last_failed);
        after = fingerprint_meta(fx.tb);
        if (strcmp(before, after) != 0)
            fail_msg("%s: store changed after failure of '%s' (call %ld)\nbefore:\n%s\nafter:\n%s", o->name,
                     fs.last_failed, n, before, after);
        rec_after = pack(rec);
        if (strcmp(rec_before, rec_after) != 0)
            fail_msg("%s: caller's record changed after failure of '%s'", o->name, fs.last_failed);

        fault_arm(&fs, 0);
        st = o->run(&fx, db, rec);
        if (st != PATRON_OK)
            fail_msg("%s: after the failure of '%s', a clean run: %s (%s)", o->name, fs.last_failed,
                     patron_status_message(st), patron_db_errmsg(db));

        free(before);
        free(after);
        patron_free(rec_before);
        patron_free(rec_after);
        patron_customer_free(rec);
        patron_db_close(db);
        fixture_close(&fx);
    }
    sweep_end(&sw);
    assert_true(steps >= 3);
    print_message("[ %-20s ] %ld callbacks, failed at each\n", o->name, steps);
}

static void test_group_ops(void **state)
{
    every_step_meta(*state);
}

/* ---- the driver --------------------------------------------------------- */

static void every_step(const op *o)
{
    long n;
    long steps = 0;
    sweep sw;
    sweep_begin(&sw);
    for (n = 1;; n++) {
        fixture fx;
        fault_store fs;
        patron_customer *rec = NULL;
        patron_db *db;
        char *before, *after, *rec_before, *rec_after;
        patron_status st;

        fixture_open(&fx, &sw);
        o->prepare(&fx, &rec);
        db = fault_db(&fs, fx.tb);
        assert_non_null(db);
        before = store_fingerprint(fx.tb, PROBE_KEYS, PROBE_NUMBERS);
        rec_before = pack(rec);

        fault_arm(&fs, n);
        st = o->run(&fx, db, rec);
        if (!fs.failed) {
            /* n is past the last callback: the operation ran clean. */
            assert_int_equal(st, PATRON_OK);
            steps = n - 1;
            free(before);
            patron_free(rec_before);
            patron_customer_free(rec);
            patron_db_close(db);
            fixture_close(&fx);
            break;
        }
        if (st == PATRON_OK)
            fail_msg("%s: injected failure in '%s' (call %ld) was not reported", o->name,
                     fs.last_failed, n);
        if (st != PATRON_E_STORE)
            fail_msg("%s: failure in '%s' reported as %d (%s), want PATRON_E_STORE", o->name,
                     fs.last_failed, st, patron_db_errmsg(db));
        if (!strstr(patron_db_errmsg(db), fs.last_failed))
            fail_msg("%s: message '%s' does not name the callback '%s'", o->name,
                     patron_db_errmsg(db), fs.last_failed);
        after = store_fingerprint(fx.tb, PROBE_KEYS, PROBE_NUMBERS);
        if (strcmp(before, after) != 0)
            fail_msg("%s: store changed after failure of '%s' (call %ld)\nbefore:\n%s\nafter:\n%s",
                     o->name, fs.last_failed, n, before, after);
        rec_after = pack(rec);
        if (strcmp(rec_before, rec_after) != 0)
            fail_msg("%s: caller's record changed after failure of '%s'", o->name, fs.last_failed);

        /* The same store, no fault: the operation goes through. */
        fault_arm(&fs, 0);
        assert_int_equal(o->run(&fx, db, rec), PATRON_OK);

        free(before);
        free(after);
        patron_free(rec_before);
        patron_free(rec_after);
        patron_customer_free(rec);
        patron_db_close(db);
        fixture_close(&fx);
    }
    sweep_end(&sw);
    /* Every operation needs at least begin, one step and commit. */
    assert_true(steps >= 3);
    print_message("[ %-20s ] %ld callbacks, failed at each\n", o->name, steps);
}

static void test_ops(void **state)
{
    const op *o = *state;
    every_step(o);
}

/* ---- export when the transaction cannot begin: nothing leaks -------------- */

static long g_live; /* blocks the library holds */

static void *count_malloc(size_t n, void *opaque)
{
    void *p = malloc(n);
    (void)opaque;
    g_live += p != NULL;
    return p;
}

static void *count_realloc(void *ptr, size_t n, void *opaque)
{
    void *p = realloc(ptr, n);
    (void)opaque;
    g_live += !ptr && p;
    return p;
}

static void count_free(void *ptr, void *opaque)
{
    (void)opaque;
    g_live -= ptr != NULL;
    free(ptr);
}

static void test_export_begin_fails(void **state)
{
    static const patron_allocator counting = { count_malloc, count_realloc, count_free, NULL };
    test_backend tb;
    fault_store fs;
    patron_db *db, *fdb;
    patron_customer *c;
    char *out = (char *)"untouched";
    int64_t id;
    long live;
    (void)state;
    g_live = 0;
    assert_int_equal(patron_set_allocator(&counting), PATRON_OK);
    assert_int_equal(tb_open(&tb, g_backend), 0);
    db = tb_db(&tb);
    assert_non_null(db);
    assert_int_equal(patron_customer_new(&c), PATRON_OK);
    assert_int_equal(patron_customer_set(c, PATRON_F_LAST_NAME, "Mustermann"), PATRON_OK);
    OK(db, patron_db_create(db, c));
    id = patron_customer_id(c);
    patron_customer_free(c);
    fdb = fault_db(&fs, &tb);
    assert_non_null(fdb);
    fault_arm(&fs, 1); /* begin */
    live = g_live;
    assert_int_equal(patron_db_export_to_json(fdb, &out, &id, 1, 0), PATRON_E_STORE);
    assert_true(fs.failed);
    assert_string_equal(fs.last_failed, "begin");
    assert_null(out);
    assert_int_equal(g_live, live); /* the buffer was not left behind */
    fault_arm(&fs, 0);
    OK(fdb, patron_db_export_to_json(fdb, &out, &id, 1, 0));
    assert_non_null(strstr(out, "Mustermann"));
    patron_free(out);
    patron_db_close(fdb);
    patron_db_close(db);
    tb_close(&tb);
    assert_int_equal(g_live, 0);
    assert_int_equal(patron_set_allocator(NULL), PATRON_OK);
}

int main(int argc, char **argv)
{
    enum { N_OPS = sizeof OPS / sizeof OPS[0], N_GROUP0 = sizeof GROUP_OPS / sizeof GROUP_OPS[0],
           N_REVIEW = sizeof REVIEW_OPS / sizeof REVIEW_OPS[0], N_GROUP = N_GROUP0 + N_REVIEW };
    struct CMUnitTest tests[N_OPS + N_GROUP + 1];
    char names[N_OPS + N_GROUP][64];
    g_backend = tb_selected(argc, argv);
    for (size_t i = 0; i < N_OPS; i++) {
        snprintf(names[i], sizeof names[i], "%s/%s", g_backend, OPS[i].name);
        tests[i] = (struct CMUnitTest){ names[i], test_ops, NULL, NULL, (void *)&OPS[i] };
    }
    for (size_t i = 0; i < N_GROUP; i++) {
        const op *o = i < N_GROUP0 ? &GROUP_OPS[i] : &REVIEW_OPS[i - N_GROUP0];
        snprintf(names[N_OPS + i], sizeof names[0], "%s/%s", g_backend, o->name);
        tests[N_OPS + i] = (struct CMUnitTest){ names[N_OPS + i], test_group_ops, NULL, NULL, (void *)o };
    }
    /* first: it installs an allocator, which needs the library idle */
    memmove(&tests[1], &tests[0], (N_OPS + N_GROUP) * sizeof tests[0]);
    tests[0] = (struct CMUnitTest){ "export_begin_fails", test_export_begin_fails, NULL, NULL, NULL };
    return _cmocka_run_group_tests("faults", tests, N_OPS + N_GROUP + 1, NULL, NULL);
}
