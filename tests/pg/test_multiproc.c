/*
 * Several processes on one PostgreSQL store at the same time (issue 15).
 *
 *   test_multiproc [--procs N] [--ops N] [--seed N]     (defaults 4, 2000)
 *
 * PATRON_TEST_PG names the server (tests/pg/cluster.sh run gives a
 * throwaway cluster).  The store lives in a schema of its own, dropped at
 * the end when everything held.
 *
 * N processes (fork) each run M mixed operations on customers that the
 * others touch too: register, activate (automatic mode), create with a
 * drawn and with a manual number (manual numbers drawn from a small shared
 * range, so processes collide), merge of 2-4 customers from a small pool
 * of the oldest active ones (so merges overlap), undo of an own merge,
 * update of a field, lock and unlock.  Each process logs every number it
 * was handed and every merge it made.  Afterwards the parent checks:
 *  - no number was handed out twice; every stored number was handed out;
 *    every handed-out number is held by exactly one customer (merged-away
 *    ones too) and a new customer can take none of them again;
 *  - the journal holds exactly the merges the processes saw succeed, and
 *    replaying it (merge, undo) gives exactly the stored merged_into of
 *    every customer: each merge is fully applied or fully absent;
 *  - every merge that is not undone can be undone (newest first), after
 *    which no customer is merged any more;
 *  - every operation answered OK or one of the statuses listed for it in
 *    `expected` below (documented in patron.h for that operation).
 * The counts are printed.  Exit 0 on success, 1 on a failed check, 77
 * (skip) when PATRON_TEST_PG is not set.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <patron/patron.h>
#include <patron/postgres.h>

#include <libpq-fe.h>

#include "pgtest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { OP_REGISTER, OP_ACTIVATE, OP_CREATE, OP_CREATE_MANUAL, OP_MERGE, OP_UNDO, OP_UPDATE, OP_LOCK, OP__N };
static const char *const op_names[OP__N] = { "register", "activate-auto", "create", "create-manual",
                                             "merge", "undo", "update", "lock/unlock" };

/* The statuses each operation may answer besides OK, and why (patron.h):
 *  register:  EXISTS  a pending customer registered this email already;
 *             LOCKED  the email belongs to a locked customer.
 *  activate:  STATE   another process activated (or merged) it first;
 *             NOT_FOUND never expected (customers are not deleted).
 *  create-manual: EXISTS the number was handed out before (by anyone).
 *  merge:     NOT_FOUND -- never; STATE a record was merged away meanwhile (or
 *             a pending survivor); CONFLICT a record changed between the plan
 *             and the merge (the plan is built, then applied: two calls).
 *  undo:      STATE   undone already, the survivor or a duplicate merged again,
 *             or edited after the merge (without the FORCE flag).
 *  update:    CONFLICT stale revision (someone saved in between); STATE the
 *             record was merged away.
 *  lock:      STATE   the record was merged away. */
static const patron_status expected[OP__N][4] = {
    [OP_REGISTER] = { PATRON_E_EXISTS, PATRON_E_LOCKED },
    [OP_ACTIVATE] = { PATRON_E_STATE },
    [OP_CREATE] = { 0 },
    [OP_CREATE_MANUAL] = { PATRON_E_EXISTS },
    [OP_MERGE] = { PATRON_E_STATE, PATRON_E_CONFLICT },
    [OP_UNDO] = { PATRON_E_STATE },
    [OP_UPDATE] = { PATRON_E_CONFLICT, PATRON_E_STATE },
    [OP_LOCK] = { PATRON_E_STATE },
};

#define N_STATUS 16 /* -status, 0..12 */
typedef struct shared_counts {
    long n[64][OP__N][N_STATUS];
    long unexpected[64];
    long merges_activation[64];
    long outcomes[64][5];
} shared_counts;

static const char *conninfo;
static char schema[64];
static char logdir[256];
static shared_counts *counts;

static patron_db *open_db(void)
{
    patron_pg_options o = PATRON_PG_OPTIONS_INIT;
    patron_db *db = NULL;
    char *msg = NULL;
    patron_status st;

    o.schema = schema;
    st = patron_db_open_postgres(&db, NULL, &msg, conninfo, &o);
    if (st != PATRON_OK) {
        fprintf(stderr, "cannot open the store: %s: %s\n", patron_status_name(st), msg ? msg : "");
        patron_free(msg);
        return NULL;
    }
    return db;
}

/* ---- the people: a small pool, so that registrations match customers ---- */

static const char *const firsts[] = { "Max", "Anna", "Jonas", "Lea", "Paul", "Mia", "Felix", "Emma",
                                      "Lukas", "Sophie", "Ben", "Marie", "Finn", "Laura", "Elias", "Hannah" };
static const char *const lasts[] = { "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer",
                                     "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Richter",
                                     "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann" };
static const char *const streets[] = { "Lindenstraße", "Hauptstraße", "Bahnhofstr.", "Gartenweg",
                                       "Schillerstraße", "Am Markt", "Bergstraße", "Ringstraße" };
#define N_PEOPLE 400

static patron_customer *person(unsigned p, int email_variant)
{
    patron_customer *c;
    size_t a;
    char buf[128];
    const char *f = firsts[p % 16], *l = lasts[(p / 16) % 18];

    if (patron_customer_new(&c) != PATRON_OK)
        return NULL;
    patron_customer_set(c, PATRON_F_FIRST_NAME, f);
    patron_customer_set(c, PATRON_F_LAST_NAME, l);
    snprintf(buf, sizeof buf, "%s.p%u%s@example.de", f, p, email_variant ? "x" : "");
    for (char *s = buf; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
    patron_customer_set(c, PATRON_F_EMAIL, buf);
    patron_customer_address_add(c, &a);
    patron_customer_address_set(c, a, PATRON_A_STREET, streets[p % 8]);
    snprintf(buf, sizeof buf, "%u", 1 + p % 97);
    patron_customer_address_set(c, a, PATRON_A_HOUSE_NUMBER, buf);
    snprintf(buf, sizeof buf, "%05u", 10115 + (p % 53) * 1000);
    patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, buf);
    patron_customer_address_set(c, a, PATRON_A_CITY, "Berlin");
    patron_customer_address_set(c, a, PATRON_A_COUNTRY, "DE");
    return c;
}

/* ---- one worker process --------------------------------------------------- */

static unsigned long long rng_state;
static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (unsigned)(rng_state % n) : 0;
}

/* Ids of customers in `state`: the `cap` lowest (hot: all processes pick
 * from the same few) or a window after a random id. */
static size_t pick_ids(patron_db *db, int64_t *ids, size_t cap, patron_state state, int64_t after)
{
    patron_filter f = PATRON_FILTER_INIT;
    size_t n = 0;
    f.state = state;
    if (patron_db_list(db, ids, &n, cap, &f, after) != PATRON_OK)
        return 0;
    if (n == 0 && after > 0 && patron_db_list(db, ids, &n, cap, &f, 0) != PATRON_OK)
        return 0;
    return n;
}

static int is_expected(int op, patron_status st)
{
    if (st == PATRON_OK)
        return 1;
    for (int i = 0; i < 4; i++)
        if (expected[op][i] == st && st != 0)
            return 1;
    return 0;
}

static void tally(int w, int op, patron_status st, patron_db *db, FILE *log)
{
    int k = -(int)st;
    if (k < 0 || k >= N_STATUS)
        k = N_STATUS - 1;
    counts->n[w][op][k]++;
    if (!is_expected(op, st)) {
        counts->unexpected[w]++;
        fprintf(stderr, "worker %d: %s answered %s: %s\n", w, op_names[op], patron_status_name(st),
                patron_db_errmsg(db));
        fprintf(log, "U %s %s\n", op_names[op], patron_status_name(st));
    }
}

static int worker(int w, int n_ops, unsigned seed)
{
    char path[300];
    FILE *log;
    patron_db *db;
    int64_t max_id = 1;
    int64_t my_merges[4096];
    size_t n_my_merges = 0;
    unsigned manual = 0;

    rng_state = 0x9E3779B97F4A7C15ull ^ ((unsigned long long)seed << 20) ^ (unsigned long long)(w + 1) * 7919u;
    snprintf(path, sizeof path, "%s/worker%d.log", logdir, w);
    log = fopen(path, "w");
    if (!log)
        return 2;
    setvbuf(log, NULL, _IOLBF, 0);
    db = open_db();
    if (!db)
        return 2;

    for (int i = 0; i < n_ops; i++) {
        unsigned r = rnd(100);
        int op = r < 18 ? OP_REGISTER : r < 32 ? OP_ACTIVATE : r < 44 ? OP_CREATE : r < 54 ? OP_CREATE_MANUAL
               : r < 72 ? OP_MERGE : r < 80 ? OP_UNDO : r < 90 ? OP_UPDATE : OP_LOCK;
        patron_status st = PATRON_OK;
        int64_t ids[64];
        size_t n;

        switch (op) {
        case OP_REGISTER: {
            patron_customer *c = person(rnd(N_PEOPLE), rnd(4) == 0);
            int64_t existing = 0;
            st = patron_db_register(db, &existing, c);
            if (st == PATRON_OK && patron_customer_id(c) > max_id)
                max_id = patron_customer_id(c);
            patron_customer_free(c);
            break;
        }
        case OP_ACTIVATE: {
            patron_activation *a = NULL;
            n = pick_ids(db, ids, 16, PATRON_STATE_PENDING, rnd(2) ? 0 : (int64_t)rnd((unsigned)max_id));
            if (n == 0) {
                i--; /* nothing pending yet: another operation instead */
                continue;
            }
            st = patron_db_activate(db, &a, ids[rnd((unsigned)n)], PATRON_ACTIVATE_AUTO, 0);
            if (st == PATRON_OK) {
                patron_outcome o = patron_activation_outcome(a);
                counts->outcomes[w][o >= 1 && o <= 4 ? o : 0]++;
                if (o == PATRON_OUTCOME_ACTIVATED)
                    fprintf(log, "N %s\n", patron_activation_number(a));
                else if (o == PATRON_OUTCOME_MERGED) {
                    fprintf(log, "M %" PRId64 " %" PRId64 " %" PRId64 "\n", patron_activation_journal(a),
                            patron_activation_merged_into(a), patron_activation_customer(a));
                    counts->merges_activation[w]++;
                }
            }
            patron_activation_free(a);
            break;
        }
        case OP_CREATE:
        case OP_CREATE_MANUAL: {
            patron_customer *c = person(rnd(N_PEOPLE), 0);
            char num[32] = "";
            if (op == OP_CREATE_MANUAL) {
                /* half from a range all processes share (collisions), half
                 * this process's own (never taken before: must succeed) */
                if (rnd(2))
                    snprintf(num, sizeof num, "X%03u", rnd(300));
                else
                    snprintf(num, sizeof num, "W%d-%u", w, manual++);
                patron_customer_set(c, PATRON_F_NUMBER, num);
            }
            st = patron_db_create(db, c);
            if (st == PATRON_OK) {
                fprintf(log, "N %s\n", patron_customer_get(c, PATRON_F_NUMBER));
                if (patron_customer_id(c) > max_id)
                    max_id = patron_customer_id(c);
            } else if (st == PATRON_E_EXISTS && num[0] == 'W') {
                fprintf(stderr, "worker %d: own manual number %s refused: %s\n", w, num, patron_db_errmsg(db));
                fprintf(log, "U own-number %s\n", num);
                counts->unexpected[w]++;
            }
            patron_customer_free(c);
            break;
        }
        case OP_MERGE: {
            patron_merge_plan *plan = NULL;
            int64_t surv, dups[3];
            size_t nd = 1 + rnd(3), k;
            n = pick_ids(db, ids, 24, PATRON_STATE_ACTIVE, 0); /* the hot pool: everyone merges these */
            if (n < nd + 1) {
                i--;
                continue;
            }
            /* distinct picks */
            for (k = 0; k < n; k++) {
                size_t j = k + rnd((unsigned)(n - k));
                int64_t t = ids[k];
                ids[k] = ids[j];
                ids[j] = t;
            }
            surv = ids[0];
            for (k = 0; k < nd; k++)
                dups[k] = ids[1 + k];
            st = patron_merge_plan_new(db, &plan, surv, dups, nd, PATRON_MERGE_SURVIVOR);
            if (st == PATRON_OK) {
                int64_t jid = 0;
                /* the plan may be blocked (two different logins): never here */
                st = patron_db_merge(db, &jid, plan);
                if (st == PATRON_OK) {
                    fprintf(log, "M %" PRId64 " %" PRId64, jid, surv);
                    for (k = 0; k < nd; k++)
                        fprintf(log, " %" PRId64, dups[k]);
                    fputc('\n', log);
                    if (n_my_merges < sizeof my_merges / sizeof my_merges[0])
                        my_merges[n_my_merges++] = jid;
                }
            }
            patron_merge_plan_free(plan);
            break;
        }
        case OP_UNDO: {
            int64_t uid = 0, jid;
            size_t k;
            if (n_my_merges == 0) {
                i--;
                continue;
            }
            k = n_my_merges - 1 - rnd(n_my_merges < 4 ? (unsigned)n_my_merges : 4u);
            jid = my_merges[k];
            st = patron_db_undo(db, &uid, jid, rnd(2) ? PATRON_UNDO_FORCE : 0);
            if (st == PATRON_OK)
                fprintf(log, "X %" PRId64 " %" PRId64 "\n", jid, uid);
            my_merges[k] = my_merges[--n_my_merges];
            break;
        }
        case OP_UPDATE: {
            patron_customer *c = NULL;
            char note[64];
            n = pick_ids(db, ids, 24, PATRON_STATE_ACTIVE, rnd(3) ? 0 : (int64_t)rnd((unsigned)max_id));
            if (n == 0) {
                i--;
                continue;
            }
            st = patron_db_load(db, &c, ids[rnd((unsigned)n)]);
            if (st == PATRON_OK) {
                snprintf(note, sizeof note, "note %d.%d", w, i);
                patron_customer_set(c, PATRON_F_NOTES, note);
                st = patron_db_update(db, c);
            }
            patron_customer_free(c);
            break;
        }
        case OP_LOCK: {
            int64_t id;
            n = pick_ids(db, ids, 24, PATRON_STATE_ACTIVE, rnd(2) ? 0 : (int64_t)rnd((unsigned)max_id));
            if (n == 0) {
                i--;
                continue;
            }
            id = ids[rnd((unsigned)n)];
            st = rnd(2) ? patron_db_lock(db, id, "test lock") : patron_db_unlock(db, id);
            break;
        }
        }
        tally(w, op, st, db, log);
    }
    patron_db_close(db);
    fclose(log);
    return 0;
}

/* ---- the checks ----------------------------------------------------------- */

typedef struct merge_rec {
    int64_t jid, surv, dups[3];
    int nd;
    int64_t undone_by; /* from the workers' logs */
} merge_rec;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_merge(const void *a, const void *b)
{
    const merge_rec *x = a, *y = b;
    return x->jid < y->jid ? -1 : x->jid > y->jid;
}

static merge_rec *find_merge(merge_rec *m, size_t n, int64_t jid)
{
    merge_rec key = { .jid = jid };
    return bsearch(&key, m, n, sizeof *m, cmp_merge);
}

static int check(int n_workers)
{
    char **numbers = NULL;
    size_t n_numbers = 0, cap_numbers = 0;
    merge_rec *merges = NULL;
    size_t n_merges = 0, cap_merges = 0;
    size_t n_undos_logged = 0;
    patron_db *db = open_db();
    int64_t *all = NULL;
    size_t n_all = 0;
    int64_t *merged_into = NULL, max_id = 0;
    size_t n_merged = 0, n_active = 0, n_pending = 0, n_locked = 0;

    if (!db)
        return 1;
    /* the workers' logs */
    for (int w = 0; w < n_workers; w++) {
        char path[300], line[512];
        FILE *f;
        snprintf(path, sizeof path, "%s/worker%d.log", logdir, w);
        f = fopen(path, "r");
        if (!f) {
            pgt_fail("worker %d left no log", w);
            continue;
        }
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            if (line[0] == 'N') {
                if (n_numbers == cap_numbers) {
                    cap_numbers = cap_numbers ? cap_numbers * 2 : 1024;
                    numbers = realloc(numbers, cap_numbers * sizeof *numbers);
                }
                numbers[n_numbers++] = strdup(line + 2);
            } else if (line[0] == 'M') {
                merge_rec m = { 0 };
                int k = sscanf(line + 2, "%" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64, &m.jid,
                               &m.surv, &m.dups[0], &m.dups[1], &m.dups[2]);
                m.nd = k - 2;
                if (n_merges == cap_merges) {
                    cap_merges = cap_merges ? cap_merges * 2 : 1024;
                    merges = realloc(merges, cap_merges * sizeof *merges);
                }
                merges[n_merges++] = m;
            }
        }
        fclose(f);
    }
    qsort(merges, n_merges, sizeof *merges, cmp_merge);
    for (int w = 0; w < n_workers; w++) {
        char path[300], line[512];
        FILE *f;
        snprintf(path, sizeof path, "%s/worker%d.log", logdir, w);
        if (!(f = fopen(path, "r")))
            continue;
        while (fgets(line, sizeof line, f)) {
            int64_t jid, uid;
            merge_rec *m;
            if (line[0] == 'X' && sscanf(line + 2, "%" SCNd64 " %" SCNd64, &jid, &uid) == 2) {
                n_undos_logged++;
                if (!(m = find_merge(merges, n_merges, jid)))
                    pgt_fail("undo of journal entry %" PRId64 " that no worker merged", jid);
                else if (m->undone_by)
                    pgt_fail("journal entry %" PRId64 " undone twice (%" PRId64 ", %" PRId64 ")", jid, m->undone_by,
                          uid);
                else
                    m->undone_by = uid;
            }
        }
        fclose(f);
    }

    /* 1. numbers: none handed out twice */
    qsort(numbers, n_numbers, sizeof *numbers, cmp_str);
    for (size_t i = 1; i < n_numbers; i++)
        if (!strcmp(numbers[i - 1], numbers[i]))
            pgt_fail("customer number %s was handed out twice", numbers[i]);

    /* every customer, every state */
    {
        int64_t page[1000];
        size_t n, cap = 0;
        int64_t after = 0;
        do {
            if (patron_db_list(db, page, &n, 1000, NULL, after) != PATRON_OK) {
                pgt_fail("list: %s", patron_db_errmsg(db));
                break;
            }
            if (n_all + n > cap) {
                cap = (n_all + n) * 2;
                all = realloc(all, cap * sizeof *all);
            }
            memcpy(all + n_all, page, n * sizeof *page);
            n_all += n;
            if (n)
                after = page[n - 1];
        } while (n == 1000);
        max_id = n_all ? all[n_all - 1] : 0;
    }
    merged_into = calloc((size_t)max_id + 1, sizeof *merged_into);
    {
        char **stored = calloc(n_all + 1, sizeof *stored);
        size_t n_stored = 0;
        for (size_t i = 0; i < n_all; i++) {
            patron_customer *c = NULL;
            const char *num, *mi;
            if (patron_db_load(db, &c, all[i]) != PATRON_OK) {
                pgt_fail("load #%" PRId64 ": %s", all[i], patron_db_errmsg(db));
                continue;
            }
            switch (patron_customer_state(c)) {
            case PATRON_STATE_MERGED: n_merged++; break;
            case PATRON_STATE_ACTIVE: n_active++; break;
            case PATRON_STATE_PENDING: n_pending++; break;
            default: pgt_fail("customer #%" PRId64 " in state %d", all[i], patron_customer_state(c));
            }
            n_locked += patron_customer_locked(c) ? 1 : 0;
            mi = patron_customer_get(c, PATRON_F_MERGED_INTO);
            merged_into[all[i]] = mi ? strtoll(mi, NULL, 10) : 0;
            if ((patron_customer_state(c) == PATRON_STATE_MERGED) != (merged_into[all[i]] != 0))
                pgt_fail("customer #%" PRId64 ": state %s but merged_into %s", all[i],
                      patron_state_name(patron_customer_state(c)), mi ? mi : "(none)");
            num = patron_customer_get(c, PATRON_F_NUMBER);
            if (num) {
                stored[n_stored++] = strdup(num);
                if (!bsearch(&num, numbers, n_numbers, sizeof *numbers, cmp_str))
                    pgt_fail("customer #%" PRId64 " holds number %s that no worker was handed", all[i], num);
            } else if (patron_customer_state(c) != PATRON_STATE_PENDING) {
                /* a merged pending registration never had a number */
                if (!(patron_customer_state(c) == PATRON_STATE_MERGED))
                    pgt_fail("customer #%" PRId64 " is %s without a number", all[i],
                          patron_state_name(patron_customer_state(c)));
            }
            patron_customer_free(c);
        }
        qsort(stored, n_stored, sizeof *stored, cmp_str);
        for (size_t i = 1; i < n_stored; i++)
            if (!strcmp(stored[i - 1], stored[i]))
                pgt_fail("two customers hold the number %s", stored[i]);
        /* every handed-out number: one customer holds it */
        for (size_t i = 0; i < n_numbers; i++) {
            size_t nn = 0;
            int64_t id;
            if (patron_db_lookup(db, &id, &nn, 1, PATRON_KEY_NUMBER, numbers[i]) != PATRON_OK || nn != 1)
                pgt_fail("number %s (handed out) is held by %zu customers", numbers[i], nn);
        }
        for (size_t i = 0; i < n_stored; i++)
            free(stored[i]);
        free(stored);
    }

    /* 2. the journal against the workers' logs, and its replay */
    {
        patron_journal *j = NULL;
        int64_t after = 0;
        size_t n_journal_merges = 0, n_journal_undos = 0, n_journal_other = 0, n;
        int64_t *expect_into = calloc((size_t)max_id + 1, sizeof *expect_into);
        do {
            if (patron_db_journal_list(db, &j, after, 500) != PATRON_OK) {
                pgt_fail("journal: %s", patron_db_errmsg(db));
                break;
            }
            n = patron_journal_count(j);
            for (size_t i = 0; i < n; i++) {
                const patron_journal_item *e = patron_journal_at(j, i);
                const char *kind = patron_journal_item_kind(e);
                int64_t id = patron_journal_item_id(e);
                merge_rec *m;
                after = id;
                if (!strcmp(kind, "merge")) {
                    n_journal_merges++;
                    if (!(m = find_merge(merges, n_merges, id))) {
                        pgt_fail("journal entry %" PRId64 " is a merge no worker saw succeed", id);
                        continue;
                    }
                    if (patron_journal_item_customer(e) != m->surv)
                        pgt_fail("journal entry %" PRId64 ": survivor %" PRId64 ", the worker merged into %" PRId64, id,
                              patron_journal_item_customer(e), m->surv);
                    if (patron_journal_item_undone_by(e) != m->undone_by)
                        pgt_fail("journal entry %" PRId64 ": undone by %" PRId64 ", the workers logged %" PRId64, id,
                              patron_journal_item_undone_by(e), m->undone_by);
                    m->undone_by = -m->undone_by - 1; /* seen */
                } else if (!strcmp(kind, "undo")) {
                    n_journal_undos++;
                } else {
                    n_journal_other++;
                }
            }
            patron_journal_free(j);
            j = NULL;
        } while (n == 500);
        if (n_journal_undos != n_undos_logged)
            pgt_fail("%zu undo entries in the journal, the workers logged %zu", n_journal_undos, n_undos_logged);
        /* replay: merges in journal order set merged_into, undos clear it */
        for (size_t i = 0; i < n_merges; i++) {
            merge_rec *m = &merges[i];
            if (m->undone_by >= 0) {
                pgt_fail("merge %" PRId64 " (logged by a worker) is not in the journal", m->jid);
                continue;
            }
            m->undone_by = -(m->undone_by + 1);
            for (int k = 0; k < m->nd; k++) {
                if (m->dups[k] > max_id)
                    continue;
                if (!m->undone_by) {
                    if (expect_into[m->dups[k]])
                        pgt_fail("customer #%" PRId64 " is the duplicate of two merges that stand (into %" PRId64
                              " and %" PRId64 ")",
                              m->dups[k], expect_into[m->dups[k]], m->surv);
                    expect_into[m->dups[k]] = m->surv;
                }
            }
        }
        for (int64_t id = 1; id <= max_id; id++)
            if (merged_into[id] != expect_into[id])
                pgt_fail("customer #%" PRId64 ": merged into %" PRId64 ", the journal says %" PRId64, id, merged_into[id],
                      expect_into[id]);
        printf("journal: %zu merges, %zu undos, %zu other entries (lock, unlock, ...)\n", n_journal_merges,
               n_journal_undos, n_journal_other);
        free(expect_into);
    }

    printf("customers: %zu (active %zu, pending %zu, merged %zu; %zu locked); numbers handed out: %zu\n", n_all,
           n_active, n_pending, n_merged, n_locked, n_numbers);

    /* 3. a number is never given again: every merged-away customer's number
     *    is refused, and a drawn number is new */
    {
        size_t tried = 0;
        for (size_t i = 0; i < n_all && tried < 200; i++) {
            patron_customer *c = NULL, *n = NULL;
            if (merged_into[all[i]] == 0 || patron_db_load(db, &c, all[i]) != PATRON_OK)
                continue;
            if (patron_customer_get(c, PATRON_F_NUMBER)) {
                patron_status st;
                patron_customer_new(&n);
                patron_customer_set(n, PATRON_F_LAST_NAME, "Nachzügler");
                patron_customer_set(n, PATRON_F_NUMBER, patron_customer_get(c, PATRON_F_NUMBER));
                st = patron_db_create(db, n);
                if (st != PATRON_E_EXISTS)
                    pgt_fail("the merged-away number %s was taken again: %s", patron_customer_get(c, PATRON_F_NUMBER),
                          patron_status_name(st));
                tried++;
                patron_customer_free(n);
            }
            patron_customer_free(c);
        }
        {
            patron_customer *n = NULL;
            const char *num;
            patron_customer_new(&n);
            patron_customer_set(n, PATRON_F_LAST_NAME, "Letzter");
            if (patron_db_create(db, n) != PATRON_OK)
                pgt_fail("create after the run: %s", patron_db_errmsg(db));
            else if ((num = patron_customer_get(n, PATRON_F_NUMBER)) &&
                     bsearch(&num, numbers, n_numbers, sizeof *numbers, cmp_str))
                pgt_fail("the drawn number %s was handed out before", num);
            patron_customer_free(n);
        }
        printf("reuse: %zu merged-away numbers refused again, a new drawn number is new\n", tried);
    }

    /* 4. every merge that stands can be undone, newest first */
    {
        size_t undone = 0, standing = 0;
        for (size_t i = n_merges; i-- > 0;) {
            patron_status st;
            if (merges[i].undone_by)
                continue;
            standing++;
            st = patron_db_undo(db, NULL, merges[i].jid, PATRON_UNDO_FORCE);
            if (st == PATRON_OK)
                undone++;
            else
                pgt_fail("merge %" PRId64 " (standing) cannot be undone: %s: %s", merges[i].jid, patron_status_name(st),
                      patron_db_errmsg(db));
        }
        {
            patron_filter f = PATRON_FILTER_INIT;
            int64_t id;
            size_t n = 0;
            f.state = PATRON_STATE_MERGED;
            if (patron_db_list(db, &id, &n, 1, &f, 0) != PATRON_OK || n != 0)
                pgt_fail("after undoing every standing merge, %zu customers are still merged (#%" PRId64 ")", n,
                      n ? id : 0);
        }
        printf("undo: %zu of %zu standing merges undone at the end (newest first)\n", undone, standing);
    }

    patron_db_close(db);
    for (size_t i = 0; i < n_numbers; i++)
        free(numbers[i]);
    free(numbers);
    free(merges);
    free(all);
    free(merged_into);
    return pgt_failures ? 1 : 0;
}

static void print_counts(int n_workers)
{
    long total_unexp = 0, merged_act = 0, outcomes[5] = { 0 };
    printf("%-14s %8s", "operation", "ok");
    for (int k = 1; k < N_STATUS - 1; k++) {
        int used = 0;
        for (int w = 0; w < n_workers; w++)
            for (int op = 0; op < OP__N; op++)
                used |= counts->n[w][op][k] != 0;
        if (used)
            printf(" %9s", patron_status_name((patron_status)-k));
    }
    printf("\n");
    for (int op = 0; op < OP__N; op++) {
        long sum[N_STATUS] = { 0 };
        for (int w = 0; w < n_workers; w++)
            for (int k = 0; k < N_STATUS; k++)
                sum[k] += counts->n[w][op][k];
        printf("%-14s %8ld", op_names[op], sum[0]);
        for (int k = 1; k < N_STATUS - 1; k++) {
            int used = 0;
            for (int w = 0; w < n_workers; w++)
                for (int o = 0; o < OP__N; o++)
                    used |= counts->n[w][o][k] != 0;
            if (used)
                printf(" %9ld", sum[k]);
        }
        printf("\n");
    }
    for (int w = 0; w < n_workers; w++) {
        total_unexp += counts->unexpected[w];
        merged_act += counts->merges_activation[w];
        for (int o = 0; o < 5; o++)
            outcomes[o] += counts->outcomes[w][o];
    }
    printf("activation outcomes: %ld activated, %ld merged, %ld review\n", outcomes[PATRON_OUTCOME_ACTIVATED],
           outcomes[PATRON_OUTCOME_MERGED], outcomes[PATRON_OUTCOME_REVIEW]);
    printf("unexpected statuses: %ld\n", total_unexp);
    if (total_unexp)
        pgt_fail("%ld operations answered a status not documented for them (see above)", total_unexp);
}

int main(int argc, char **argv)
{
    int n_workers = 4, n_ops = 2000;
    unsigned seed = (unsigned)time(NULL);
    PGconn *pc;
    PGresult *r;
    char sql[200];
    struct timespec t0, t1;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--procs") && i + 1 < argc)
            n_workers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
            n_ops = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: %s [--procs N] [--ops N] [--seed N]\n", argv[0]);
            return 2;
        }
    }
    if (n_workers < 1 || n_workers > 64 || n_ops < 1) {
        fprintf(stderr, "--procs 1..64, --ops >= 1\n");
        return 2;
    }
    if (!(conninfo = pgt_conninfo()))
        return pgt_skip();
    snprintf(schema, sizeof schema, "multiproc_%ld_%u", (long)getpid(), seed % 100000);
    snprintf(logdir, sizeof logdir, "%s/patron-multiproc.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(logdir)) {
        perror("mkdtemp");
        return 2;
    }
    counts = mmap(NULL, sizeof *counts, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counts == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    printf("%d processes x %d operations, seed %u, schema %s\n", n_workers, n_ops, seed, schema);
    fflush(stdout);

    /* create the tables once before the workers start (each would too) */
    {
        patron_db *db = open_db();
        if (!db)
            return 1;
        patron_db_close(db);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pids[64];
    for (int w = 0; w < n_workers; w++) {
        pids[w] = fork();
        if (pids[w] < 0) {
            perror("fork");
            return 2;
        }
        if (pids[w] == 0)
            _exit(worker(w, n_ops, seed));
    }
    for (int w = 0; w < n_workers; w++) {
        int status;
        if (waitpid(pids[w], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            pgt_fail("worker %d ended abnormally (status %d)", w, status);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%d x %d operations in %.1f s\n", n_workers, n_ops,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    print_counts(n_workers);
    check(n_workers);

    if (!pgt_failures) {
        /* tidy up: the schema and the logs */
        if ((pc = pgt_connect(conninfo)) != NULL) {
            snprintf(sql, sizeof sql, "DROP SCHEMA \"%s\" CASCADE", schema);
            r = PQexec(pc, sql);
            PQclear(r);
            PQfinish(pc);
        }
        for (int w = 0; w < n_workers; w++) {
            char path[300];
            snprintf(path, sizeof path, "%s/worker%d.log", logdir, w);
            unlink(path);
        }
        rmdir(logdir);
        printf("PASS\n");
        return 0;
    }
    fprintf(stderr, "%d checks failed; logs in %s, tables in schema %s\n", pgt_failures, logdir, schema);
    return 1;
}
