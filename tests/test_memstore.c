/* The memory store shared by several threads, each with its own patron_db
 * handle on ONE patron_memstore: concurrent creates get distinct numbers and ids, nothing
 * is lost, readers see consistent data, updates of distinct customers all go
 * through, and of two updates from the same revision exactly one wins.
 *
 * cmocka's assertions must not run outside the main thread: workers count
 * their failures in g_errors (and print them); the main thread asserts. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <patron/memory.h>

#define THREADS 4
#define PER_THREAD 500

static atomic_int g_errors;

#define CHECK(cond, ...) \
    do { \
        if (!(cond)) { \
            if (atomic_fetch_add(&g_errors, 1) < 20) { \
                fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
                fprintf(stderr, __VA_ARGS__); \
                fputc('\n', stderr); \
            } \
        } \
    } while (0)

typedef struct shared {
    patron_memstore *ms;
    atomic_int creators_running;
} shared;

typedef struct worker {
    shared *sh;
    int no;
    pthread_t th;
    int64_t ids[PER_THREAD];
    /* phase results */
    int ok, conflicts, other;
} worker;

static patron_db *open_handle(shared *sh)
{
    patron_db *db = NULL;
    patron_status st = patron_db_open_memory(&db, sh->ms);
    CHECK(st == PATRON_OK && db, "open_memory: %d", st);
    return st == PATRON_OK ? db : NULL;
}

static bool number_format_ok(const char *num)
{
    if (!num || strlen(num) != 7 || num[0] != 'K')
        return false;
    for (int i = 1; i < 7; i++)
        if (num[i] < '0' || num[i] > '9')
            return false;
    return true;
}

/* ---- phase 1: concurrent creates, with finds in between ------------------ */

static void *create_worker(void *arg)
{
    worker *w = arg;
    patron_db *db = open_handle(w->sh);
    unsigned seed = (unsigned)w->no * 7919u + 1u;
    if (!db)
        return NULL;
    for (int i = 0; i < PER_THREAD; i++) {
        patron_customer *c = NULL;
        char buf[64];
        patron_status st;
        patron_customer_new(&c);
        snprintf(buf, sizeof buf, "T%d", w->no);
        patron_customer_set(c, PATRON_F_FIRST_NAME, buf);
        snprintf(buf, sizeof buf, "Kunde %d", i);
        patron_customer_set(c, PATRON_F_LAST_NAME, buf);
        snprintf(buf, sizeof buf, "t%d.c%d@example.de", w->no, i);
        patron_customer_set(c, PATRON_F_EMAIL, buf);
        patron_customer_set(c, PATRON_F_EXTERNAL_SOURCE, "shop");
        snprintf(buf, sizeof buf, "t%d-%d", w->no, i);
        patron_customer_set(c, PATRON_F_EXTERNAL_ID, buf);
        snprintf(buf, sizeof buf, "t%d_%d", w->no, i);
        patron_customer_set(c, PATRON_F_LOGIN_USER, buf);
        st = patron_db_create(db, c);
        CHECK(st == PATRON_OK, "thread %d create %d: %d %s", w->no, i, st, patron_db_errmsg(db));
        w->ids[i] = patron_customer_id(c);
        CHECK(number_format_ok(patron_customer_get(c, PATRON_F_NUMBER)), "bad number %s",
              patron_customer_get(c, PATRON_F_NUMBER) ? patron_customer_get(c, PATRON_F_NUMBER) : "(null)");
        CHECK(patron_customer_revision(c) == 1, "revision %llu",
              (unsigned long long)patron_customer_revision(c));

        /* now and then, find an earlier one of ours by each key */
        if (i % 10 == 9) {
            int k;
            patron_customer *f = NULL;
            int64_t ids[2];
            size_t n = 0;
            seed = seed * 1103515245u + 12345u;
            k = (int)((seed >> 8) % (unsigned)(i + 1));
            snprintf(buf, sizeof buf, "T%d.C%d@EXAMPLE.de", w->no, k);
            st = patron_db_find(db, &f, PATRON_KEY_EMAIL, buf);
            CHECK(st == PATRON_OK && patron_customer_id(f) == w->ids[k], "find email %s: %d", buf, st);
            if (st == PATRON_OK) {
                char num[32];
                snprintf(num, sizeof num, "%s", patron_customer_get(f, PATRON_F_NUMBER));
                patron_customer_free(f);
                f = NULL;
                st = patron_db_find(db, &f, PATRON_KEY_NUMBER, num);
                CHECK(st == PATRON_OK && patron_customer_id(f) == w->ids[k], "find number %s: %d", num, st);
                patron_customer_free(f);
                f = NULL;
            }
            snprintf(buf, sizeof buf, "shop\x1f" "t%d-%d", w->no, k);
            st = patron_db_find(db, &f, PATRON_KEY_EXTERNAL, buf);
            CHECK(st == PATRON_OK && patron_customer_id(f) == w->ids[k], "find external: %d", st);
            patron_customer_free(f);
            snprintf(buf, sizeof buf, "t%d_%d", w->no, k);
            st = patron_db_lookup(db, ids, &n, 2, PATRON_KEY_LOGIN, buf);
            CHECK(st == PATRON_OK && n == 1 && ids[0] == w->ids[k], "lookup login %s: %d n=%zu", buf, st, n);
        }
        patron_customer_free(c);
    }
    patron_db_close(db);
    return NULL;
}

/* Pages through the list while the creators run: pages ascend, every id
 * listed can be loaded and carries a well-formed number. */
static void *list_worker(void *arg)
{
    worker *w = arg;
    patron_db *db = open_handle(w->sh);
    int passes = 0;
    if (!db)
        return NULL;
    do {
        int64_t page[37], after = 0, last = 0;
        size_t n;
        do {
            patron_status st = patron_db_list(db, page, &n, 37, NULL, after);
            CHECK(st == PATRON_OK, "list: %d", st);
            if (st)
                break;
            for (size_t i = 0; i < n; i++) {
                CHECK(page[i] > last, "list not ascending: %lld after %lld", (long long)page[i],
                      (long long)last);
                last = page[i];
            }
            if (n) {
                patron_customer *c = NULL;
                st = patron_db_load(db, &c, page[n - 1]);
                CHECK(st == PATRON_OK, "load of listed id %lld: %d", (long long)page[n - 1], st);
                if (!st)
                    CHECK(number_format_ok(patron_customer_get(c, PATRON_F_NUMBER)) &&
                              patron_customer_state(c) == PATRON_STATE_ACTIVE,
                          "listed customer half-made");
                patron_customer_free(c);
                after = page[n - 1];
            }
        } while (n == 37);
        passes++;
    } while (atomic_load(&w->sh->creators_running) > 0 || passes < 2);
    w->ok = passes;
    patron_db_close(db);
    return NULL;
}

static void *create_thread(void *arg)
{
    worker *w = arg;
    create_worker(w);
    atomic_fetch_sub(&w->sh->creators_running, 1);
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_concurrent_creates(void **state)
{
    shared sh;
    worker w[THREADS], lister;
    patron_db *db;
    int64_t *all;
    char **nums;
    size_t n = 0, total = 0;
    int64_t after = 0;
    (void)state;
    atomic_store(&g_errors, 0);
    assert_int_equal(patron_memstore_new(&sh.ms), PATRON_OK);
    atomic_store(&sh.creators_running, THREADS);
    memset(&lister, 0, sizeof lister);
    lister.sh = &sh;
    for (int t = 0; t < THREADS; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].sh = &sh;
        w[t].no = t;
        assert_int_equal(pthread_create(&w[t].th, NULL, create_thread, &w[t]), 0);
    }
    assert_int_equal(pthread_create(&lister.th, NULL, list_worker, &lister), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(w[t].th, NULL);
    pthread_join(lister.th, NULL);
    assert_int_equal(atomic_load(&g_errors), 0);

    /* everything is there, once */
    db = NULL;
    assert_int_equal(patron_db_open_memory(&db, sh.ms), PATRON_OK);
    all = calloc(THREADS * PER_THREAD + 1, sizeof *all);
    nums = calloc(THREADS * PER_THREAD, sizeof *nums);
    assert_non_null(all);
    assert_non_null(nums);
    do {
        assert_int_equal(patron_db_list(db, all + total, &n, 100, NULL, after), PATRON_OK);
        total += n;
        assert_true(total <= THREADS * PER_THREAD);
        if (n)
            after = all[total - 1];
    } while (n == 100);
    assert_int_equal(total, THREADS * PER_THREAD);
    for (size_t i = 0; i < total; i++) {
        patron_customer *c = NULL;
        assert_int_equal(patron_db_load(db, &c, all[i]), PATRON_OK);
        nums[i] = strdup(patron_customer_get(c, PATRON_F_NUMBER));
        assert_non_null(nums[i]);
        patron_customer_free(c);
    }
    /* numbers: distinct, and exactly K000001 .. K002000 (the counter gives
     * each create the next value, none is lost or doubled) */
    qsort(nums, total, sizeof *nums, cmp_str);
    for (size_t i = 0; i < total; i++) {
        char want[32];
        snprintf(want, sizeof want, "K%06zu", i + 1);
        if (strcmp(nums[i], want) != 0)
            fail_msg("numbers: want %s at position %zu, have %s", want, i, nums[i]);
    }
    /* each thread's ids are its own customers */
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < PER_THREAD; i += 37) {
            patron_customer *c = NULL;
            char want[64];
            assert_int_equal(patron_db_load(db, &c, w[t].ids[i]), PATRON_OK);
            snprintf(want, sizeof want, "t%d.c%d@example.de", t, i);
            assert_string_equal(patron_customer_get(c, PATRON_F_EMAIL), want);
            patron_customer_free(c);
        }
    /* and the next number follows on */
    {
        patron_customer *c = NULL;
        assert_int_equal(patron_customer_new(&c), PATRON_OK);
        assert_int_equal(patron_customer_set(c, PATRON_F_LAST_NAME, "Danach"), PATRON_OK);
        assert_int_equal(patron_db_create(db, c), PATRON_OK);
        assert_string_equal(patron_customer_get(c, PATRON_F_NUMBER), "K002001");
        patron_customer_free(c);
    }
    print_message("lister made %d full passes while the creators ran\n", lister.ok);
    for (size_t i = 0; i < total; i++)
        free(nums[i]);
    free(nums);
    free(all);
    patron_db_close(db);
    patron_memstore_free(sh.ms);
}

/* ---- updates ------------------------------------------------------------------- */

typedef struct fixture {
    shared sh;
    int64_t ids[THREADS * 100];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    patron_db *db = NULL;
    if (!fx || patron_memstore_new(&fx->sh.ms) != PATRON_OK)
        return -1;
    if (patron_db_open_memory(&db, fx->sh.ms) != PATRON_OK)
        return -1;
    for (int i = 0; i < THREADS * 100; i++) {
        patron_customer *c = NULL;
        char buf[32];
        patron_customer_new(&c);
        snprintf(buf, sizeof buf, "Kunde %d", i);
        patron_customer_set(c, PATRON_F_LAST_NAME, buf);
        if (patron_db_create(db, c) != PATRON_OK)
            return -1;
        fx->ids[i] = patron_customer_id(c);
        patron_customer_free(c);
    }
    patron_db_close(db);
    atomic_store(&g_errors, 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    patron_memstore_free(fx->sh.ms);
    free(fx);
    return 0;
}

typedef struct upd_worker {
    fixture *fx;
    int no;
    pthread_t th;
    pthread_barrier_t *barrier;
    int rounds;
    int64_t target;
    patron_status *results; /* per round */
    int conflicts;
} upd_worker;

#define ROUNDS_DISTINCT 10

/* Each thread updates its own 100 customers, ROUNDS_DISTINCT times each. */
static void *distinct_worker(void *arg)
{
    upd_worker *u = arg;
    patron_db *db = open_handle(&u->fx->sh);
    patron_customer *mine[100];
    if (!db)
        return NULL;
    for (int i = 0; i < 100; i++) {
        patron_status st = patron_db_load(db, &mine[i], u->fx->ids[u->no * 100 + i]);
        CHECK(st == PATRON_OK, "load: %d", st);
        if (st)
            return NULL;
    }
    for (int r = 0; r < ROUNDS_DISTINCT; r++)
        for (int i = 0; i < 100; i++) {
            char v[16];
            patron_status st;
            snprintf(v, sizeof v, "%d", r);
            patron_customer_prop_set(mine[i], "round", v);
            snprintf(v, sizeof v, "T%d R%d", u->no, r);
            patron_customer_set(mine[i], PATRON_F_FIRST_NAME, v);
            st = patron_db_update(db, mine[i]);
            CHECK(st == PATRON_OK, "thread %d update of its own customer: %d %s", u->no, st,
                  patron_db_errmsg(db));
            CHECK(patron_customer_revision(mine[i]) == (uint64_t)r + 2, "revision %llu after round %d",
                  (unsigned long long)patron_customer_revision(mine[i]), r);
        }
    for (int i = 0; i < 100; i++)
        patron_customer_free(mine[i]);
    patron_db_close(db);
    return NULL;
}

static void test_no_lost_updates_distinct(void **state)
{
    fixture *fx = *state;
    upd_worker u[THREADS];
    patron_db *db = NULL;
    for (int t = 0; t < THREADS; t++) {
        memset(&u[t], 0, sizeof u[t]);
        u[t].fx = fx;
        u[t].no = t;
        assert_int_equal(pthread_create(&u[t].th, NULL, distinct_worker, &u[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(u[t].th, NULL);
    assert_int_equal(atomic_load(&g_errors), 0);
    assert_int_equal(patron_db_open_memory(&db, fx->sh.ms), PATRON_OK);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < 100; i++) {
            patron_customer *c = NULL;
            char want[32];
            assert_int_equal(patron_db_load(db, &c, fx->ids[t * 100 + i]), PATRON_OK);
            assert_int_equal(patron_customer_revision(c), 1 + ROUNDS_DISTINCT);
            snprintf(want, sizeof want, "%d", ROUNDS_DISTINCT - 1);
            assert_string_equal(patron_customer_prop_get(c, "round"), want);
            snprintf(want, sizeof want, "T%d R%d", t, ROUNDS_DISTINCT - 1);
            assert_string_equal(patron_customer_get(c, PATRON_F_FIRST_NAME), want);
            snprintf(want, sizeof want, "Kunde %d", t * 100 + i);
            assert_string_equal(patron_customer_get(c, PATRON_F_LAST_NAME), want);
            patron_customer_free(c);
        }
    patron_db_close(db);
}

#define INCREMENTS 100

/* Everybody increments one counter on one customer: load, add one, update;
 * on a conflict load again and retry. */
static void *counter_worker(void *arg)
{
    upd_worker *u = arg;
    patron_db *db = open_handle(&u->fx->sh);
    pthread_barrier_wait(u->barrier); /* start together */
    if (!db)
        return NULL;
    for (int k = 0; k < INCREMENTS; k++) {
        for (int attempt = 0;; attempt++) {
            patron_customer *c = NULL;
            const char *v;
            char nv[32];
            patron_status st = patron_db_load(db, &c, u->target);
            CHECK(st == PATRON_OK, "load: %d", st);
            if (st)
                break;
            v = patron_customer_prop_get(c, "counter");
            snprintf(nv, sizeof nv, "%ld", (v ? strtol(v, NULL, 10) : 0) + 1);
            patron_customer_prop_set(c, "counter", nv);
            st = patron_db_update(db, c);
            patron_customer_free(c);
            if (st == PATRON_OK)
                break;
            CHECK(st == PATRON_E_CONFLICT, "update: %d %s", st, patron_db_errmsg(db));
            if (st != PATRON_E_CONFLICT || attempt > 100000)
                break;
            u->conflicts++;
        }
    }
    patron_db_close(db);
    return NULL;
}

static void test_no_lost_updates_same_customer(void **state)
{
    fixture *fx = *state;
    upd_worker u[THREADS];
    patron_db *db = NULL;
    patron_customer *c = NULL;
    int conflicts = 0;
    char want[16];
    pthread_barrier_t barrier;
    assert_int_equal(pthread_barrier_init(&barrier, NULL, THREADS), 0);
    for (int t = 0; t < THREADS; t++) {
        memset(&u[t], 0, sizeof u[t]);
        u[t].fx = fx;
        u[t].no = t;
        u[t].barrier = &barrier;
        u[t].target = fx->ids[7];
        assert_int_equal(pthread_create(&u[t].th, NULL, counter_worker, &u[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(u[t].th, NULL);
        conflicts += u[t].conflicts;
    }
    pthread_barrier_destroy(&barrier);
    assert_int_equal(atomic_load(&g_errors), 0);
    assert_int_equal(patron_db_open_memory(&db, fx->sh.ms), PATRON_OK);
    assert_int_equal(patron_db_load(db, &c, fx->ids[7]), PATRON_OK);
    snprintf(want, sizeof want, "%d", THREADS * INCREMENTS);
    assert_string_equal(patron_customer_prop_get(c, "counter"), want);
    assert_int_equal(patron_customer_revision(c), 1 + THREADS * INCREMENTS);
    print_message("%d conflicts detected and retried\n", conflicts);
    patron_customer_free(c);
    patron_db_close(db);
}

#define DUEL_ROUNDS 200

/* Two handles load the same revision, wait for each other, then both update. */
static void *duel_worker(void *arg)
{
    upd_worker *u = arg;
    patron_db *db = open_handle(&u->fx->sh);
    for (int r = 0; r < u->rounds; r++) {
        patron_customer *c = NULL;
        char v[32];
        patron_status st = db ? patron_db_load(db, &c, u->target) : PATRON_E_STORE;
        CHECK(st == PATRON_OK, "load: %d", st);
        pthread_barrier_wait(u->barrier); /* both hold the same revision */
        if (c) {
            snprintf(v, sizeof v, "Duell %d von %d", r, u->no);
            patron_customer_set(c, PATRON_F_FIRST_NAME, v);
            snprintf(v, sizeof v, "%d", u->no);
            patron_customer_prop_set(c, "winner", v);
            u->results[r] = patron_db_update(db, c);
        } else {
            u->results[r] = PATRON_E_STORE;
        }
        patron_customer_free(c);
        pthread_barrier_wait(u->barrier); /* both are done before the next load */
    }
    patron_db_close(db);
    return NULL;
}

static void test_same_revision_exactly_one_wins(void **state)
{
    fixture *fx = *state;
    upd_worker u[2];
    pthread_barrier_t barrier;
    patron_status res[2][DUEL_ROUNDS];
    int wins[2] = { 0, 0 };
    patron_db *db = NULL;
    patron_customer *c = NULL;
    char want[32];
    assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
    for (int t = 0; t < 2; t++) {
        memset(&u[t], 0, sizeof u[t]);
        u[t].fx = fx;
        u[t].no = t;
        u[t].barrier = &barrier;
        u[t].rounds = DUEL_ROUNDS;
        u[t].target = fx->ids[3];
        u[t].results = res[t];
        assert_int_equal(pthread_create(&u[t].th, NULL, duel_worker, &u[t]), 0);
    }
    for (int t = 0; t < 2; t++)
        pthread_join(u[t].th, NULL);
    pthread_barrier_destroy(&barrier);
    assert_int_equal(atomic_load(&g_errors), 0);
    for (int r = 0; r < DUEL_ROUNDS; r++) {
        bool a = res[0][r] == PATRON_OK, b = res[1][r] == PATRON_OK;
        if (a == b)
            fail_msg("round %d: results %d and %d, want exactly one PATRON_OK", r, res[0][r], res[1][r]);
        if (res[a ? 1 : 0][r] != PATRON_E_CONFLICT)
            fail_msg("round %d: the loser got %d, want PATRON_E_CONFLICT", r, res[a ? 1 : 0][r]);
        wins[a ? 0 : 1]++;
    }
    assert_int_equal(patron_db_open_memory(&db, fx->sh.ms), PATRON_OK);
    assert_int_equal(patron_db_load(db, &c, fx->ids[3]), PATRON_OK);
    assert_int_equal(patron_customer_revision(c), 1 + DUEL_ROUNDS);
    /* the stored record is the last winner's, whole */
    {
        int last = res[0][DUEL_ROUNDS - 1] == PATRON_OK ? 0 : 1;
        snprintf(want, sizeof want, "Duell %d von %d", DUEL_ROUNDS - 1, last);
        assert_string_equal(patron_customer_get(c, PATRON_F_FIRST_NAME), want);
        snprintf(want, sizeof want, "%d", last);
        assert_string_equal(patron_customer_prop_get(c, "winner"), want);
    }
    print_message("wins: %d / %d\n", wins[0], wins[1]);
    patron_customer_free(c);
    patron_db_close(db);
}

/* One thread deletes every second one of 200 customers while another
 * updates all 200: an update of a customer being deleted either lands
 * before the delete or finds the customer gone; an update of a customer
 * nobody deletes always lands, whole, and nothing deleted comes back. */
#define DEL_SPAN 200
enum { UPD_NONE = 0, UPD_OK, UPD_GONE };

typedef struct del_worker {
    fixture *fx;
    bool deleter;
    pthread_t th;
    int ok, gone;
    unsigned char outcome[DEL_SPAN]; /* the updater's result per customer */
} del_worker;

static void *delete_or_update(void *arg)
{
    del_worker *d = arg;
    patron_db *db = open_handle(&d->fx->sh);
    if (!db)
        return NULL;
    for (int i = 0; i < DEL_SPAN; i++) {
        int64_t id = d->fx->ids[100 + i];
        patron_status st;
        if (d->deleter) {
            if (i % 2)
                continue; /* the odd ones stay */
            st = patron_db_delete(db, id, 0);
            CHECK(st == PATRON_OK, "delete %lld: %d", (long long)id, st);
        } else {
            patron_customer *c = NULL;
            st = patron_db_load(db, &c, id);
            CHECK(st == PATRON_OK || st == PATRON_E_NOT_FOUND, "load: %d", st);
            if (st == PATRON_OK) {
                patron_customer_set(c, PATRON_F_PHONE, "0800 1");
                st = patron_db_update(db, c);
                CHECK(st == PATRON_OK || st == PATRON_E_NOT_FOUND, "update of a customer being deleted: %d", st);
                patron_customer_free(c);
            }
            if (st == PATRON_OK) {
                d->ok++;
                d->outcome[i] = UPD_OK;
            } else if (st == PATRON_E_NOT_FOUND) {
                d->gone++;
                d->outcome[i] = UPD_GONE;
            }
        }
    }
    patron_db_close(db);
    return NULL;
}

static void test_delete_while_updating(void **state)
{
    fixture *fx = *state;
    del_worker *d = calloc(2, sizeof *d);
    patron_db *db = NULL;
    int64_t ids[THREADS * 100];
    size_t n = 0;
    assert_non_null(d);
    for (int t = 0; t < 2; t++) {
        d[t].fx = fx;
        d[t].deleter = t == 0;
        assert_int_equal(pthread_create(&d[t].th, NULL, delete_or_update, &d[t]), 0);
    }
    for (int t = 0; t < 2; t++)
        pthread_join(d[t].th, NULL);
    assert_int_equal(atomic_load(&g_errors), 0);
    print_message("updates landed: %d, found the customer deleted: %d\n", d[1].ok, d[1].gone);
    assert_int_equal(patron_db_open_memory(&db, fx->sh.ms), PATRON_OK);
    for (int i = 0; i < DEL_SPAN; i++) {
        patron_customer *c = NULL;
        patron_status st = patron_db_load(db, &c, fx->ids[100 + i]);
        if (i % 2) {
            /* nobody deleted it: the update went through and is stored */
            if (d[1].outcome[i] != UPD_OK)
                fail_msg("update of customer %d (not deleted) did not land: outcome %d", i, d[1].outcome[i]);
            assert_int_equal(st, PATRON_OK);
            assert_int_equal(patron_customer_revision(c), 2);
            assert_string_equal(patron_customer_get(c, PATRON_F_PHONE), "0800 1");
            patron_customer_free(c);
        } else {
            /* deleted: whatever the update saw, the customer stays gone */
            assert_true(d[1].outcome[i] == UPD_OK || d[1].outcome[i] == UPD_GONE);
            assert_int_equal(st, PATRON_E_NOT_FOUND);
        }
    }
    assert_true(d[1].ok >= DEL_SPAN / 2);
    assert_int_equal(d[1].ok + d[1].gone, DEL_SPAN);
    assert_int_equal(patron_db_list(db, ids, &n, THREADS * 100, NULL, 0), PATRON_OK);
    assert_int_equal(n, THREADS * 100 - DEL_SPAN / 2);
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= fx->ids[100] && ids[i] <= fx->ids[100 + DEL_SPAN - 1])
            assert_true((ids[i] - fx->ids[100]) % 2 == 1);
    patron_db_close(db);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_creates),
        cmocka_unit_test_setup_teardown(test_no_lost_updates_distinct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_lost_updates_same_customer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_revision_exactly_one_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_while_updating, setup, teardown),
    };
    return cmocka_run_group_tests_name("memstore", tests, NULL, NULL);
}
