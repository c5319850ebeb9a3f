/* Import benchmark of libpatron-sqlite: N generated customers through
 * patron_db_create() (validation, numbering, match keys, the store) in
 * transactions of 1000, next to plain prepared INSERTs of the same rows
 * (same pragmas, same batches) into (1) a bare customers + addresses table
 * without indexes and (2) patron's own schema with its keys, written by
 * hand.  Prints records per second of each and the ratios.
 *
 *     bench_sqlite_import [N] [DIR]
 *
 * SPDX-License-Identifier: MIT */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <patron/patron.h>
#include <patron/sqlite.h>

#define BATCH 1000

typedef struct row {
    char ext_id[24], salutation[8], first[32], last[32], email[96], phone[32];
    char street[48], house[8], postal[8], city[32], birth[12];
} row;

static const char *const firsts[] = { "Anna", "Bernd", "Clara", "Dieter", "Eva", "Frank",
                                      "Gerda", "Hans", "Ines", "Jürgen", "Karin", "Lukas",
                                      "Maria", "Norbert", "Olga", "Peter", "Renate", "Stefan",
                                      "Tanja", "Uwe" };
static const char *const lasts[] = { "Müller", "Schmidt", "Schneider", "Fischer", "Weber",
                                     "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
                                     "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
                                     "Schröder", "Neumann", "Schwarz", "Zimmermann" };
static const char *const streets[] = { "Hauptstraße", "Bahnhofstr.", "Gartenweg", "Lindenallee",
                                       "Schulstraße", "Am Markt", "Kirchgasse", "Bergstraße" };
static const char *const cities[] = { "Berlin", "Hamburg", "München", "Köln", "Frankfurt",
                                      "Stuttgart", "Düsseldorf", "Leipzig", "Dresden", "Bremen" };

static uint64_t rng = 0x9E3779B97F4A7C15u;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void gen(row *r, long i)
{
    const char *f = firsts[rnd(20)], *l = lasts[rnd(20)];
    snprintf(r->ext_id, sizeof r->ext_id, "%ld", 100000 + i);
    snprintf(r->salutation, sizeof r->salutation, "%s", rnd(2) ? "Herr" : "Frau");
    snprintf(r->first, sizeof r->first, "%s", f);
    snprintf(r->last, sizeof r->last, "%s", l);
    snprintf(r->email, sizeof r->email, "kunde%ld.%u@example.de", i, rnd(1000));
    snprintf(r->phone, sizeof r->phone, "+49 %u %u", 30 + rnd(900), 100000 + rnd(899999));
    snprintf(r->street, sizeof r->street, "%s", streets[rnd(8)]);
    snprintf(r->house, sizeof r->house, "%u%s", 1 + rnd(120), rnd(5) ? "" : "a");
    snprintf(r->postal, sizeof r->postal, "%05u", 1000 + rnd(98000));
    snprintf(r->city, sizeof r->city, "%s", cities[rnd(10)]);
    snprintf(r->birth, sizeof r->birth, "19%02u-%02u-%02u", 30 + rnd(70), 1 + rnd(12),
             1 + rnd(28));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cleanup(const char *path)
{
    char p[600];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

static int die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_sqlite_import: %s: %s\n", what, msg);
    return 1;
}

static int run_patron(const row *rows, long n, const char *path, double *secs)
{
    patron_db *db = NULL;
    patron_sqlite *s = NULL;
    char *msg = NULL;
    double t0;
    long i;

    cleanup(path);
    if (patron_db_open_sqlite_ex(&db, &s, path, 0, &msg) != PATRON_OK)
        return die("open", msg ? msg : "?");
    t0 = now();
    for (i = 0; i < n; i++) {
        const row *r = &rows[i];
        patron_customer *c = NULL;
        size_t a;
        if (i % BATCH == 0 && patron_sqlite_begin(s) != PATRON_OK)
            return die("begin", patron_sqlite_errmsg(s));
        if (patron_customer_new(&c) != PATRON_OK ||
            patron_customer_set(c, PATRON_F_EXTERNAL_ID, r->ext_id) != PATRON_OK ||
            patron_customer_set(c, PATRON_F_SALUTATION, r->salutation) != PATRON_OK ||
            patron_customer_set(c, PATRON_F_FIRST_NAME, r->first) != PATRON_OK ||
            patron_customer_set(c, PATRON_F_LAST_NAME, r->last) != PATRON_OK ||
            patron_customer_set(c, PATRON_F_EMAIL, r->email) != PATRON_OK ||
            patron_customer_set(c, PATRON_F_PHONE, r->phone) != PATRON_OK ||
            patron_customer_set(c, PATRON_F_BIRTH_DATE, r->birth) != PATRON_OK ||
            patron_customer_address_add(c, &a) != PATRON_OK ||
            patron_customer_address_set(c, a, PATRON_A_STREET, r->street) != PATRON_OK ||
            patron_customer_address_set(c, a, PATRON_A_HOUSE_NUMBER, r->house) != PATRON_OK ||
            patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, r->postal) != PATRON_OK ||
            patron_customer_address_set(c, a, PATRON_A_CITY, r->city) != PATRON_OK)
            return die("record", c ? patron_customer_errmsg(c) : "out of memory");
        if (patron_db_create(db, c) != PATRON_OK)
            return die("create", patron_db_errmsg(db));
        patron_customer_free(c);
        if ((i % BATCH == BATCH - 1 || i == n - 1) && patron_sqlite_commit(s) != PATRON_OK)
            return die("commit", patron_sqlite_errmsg(s));
    }
    *secs = now() - t0;
    patron_db_close(db);
    return 0;
}

static int run_plain(const row *rows, long n, const char *path, double *secs)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *ci = NULL, *ai = NULL;
    double t0;
    long i;

    cleanup(path);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return die("plain open", sqlite3_errmsg(db));
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                     "PRAGMA cache_size=-16384;"
                     "CREATE TABLE customers (id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT,"
                     " state TEXT, salutation TEXT, first_name TEXT, last_name TEXT, email TEXT,"
                     " phone TEXT, birth_date TEXT, external_id TEXT, created_at INTEGER,"
                     " updated_at INTEGER, revision INTEGER);"
                     "CREATE TABLE customer_addresses (customer_id INTEGER NOT NULL,"
                     " position INTEGER NOT NULL, street TEXT, house_number TEXT,"
                     " postal_code TEXT, city TEXT, country TEXT, billing TEXT,"
                     " PRIMARY KEY (customer_id, position)) WITHOUT ROWID;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO customers (number, state, salutation, first_name,"
                           " last_name, email, phone, birth_date, external_id, created_at,"
                           " updated_at, revision) VALUES (?,?,?,?,?,?,?,?,?,?,?,1)",
                           -1, &ci, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO customer_addresses VALUES (?,0,?,?,?,?,'DE','private')",
                           -1, &ai, NULL) != SQLITE_OK)
        return die("plain schema", sqlite3_errmsg(db));
    t0 = now();
    for (i = 0; i < n; i++) {
        const row *r = &rows[i];
        char num[24];
        sqlite3_int64 t = (sqlite3_int64)time(NULL);
        if (i % BATCH == 0)
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        snprintf(num, sizeof num, "K%06ld", i + 1);
        sqlite3_bind_text(ci, 1, num, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ci, 2, "active", -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 3, r->salutation, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 4, r->first, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 5, r->last, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 6, r->email, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 7, r->phone, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 8, r->birth, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 9, r->ext_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ci, 10, t);
        sqlite3_bind_int64(ci, 11, t);
        if (sqlite3_step(ci) != SQLITE_DONE)
            return die("plain insert", sqlite3_errmsg(db));
        sqlite3_reset(ci);
        sqlite3_bind_int64(ai, 1, sqlite3_last_insert_rowid(db));
        sqlite3_bind_text(ai, 2, r->street, -1, SQLITE_STATIC);
        sqlite3_bind_text(ai, 3, r->house, -1, SQLITE_STATIC);
        sqlite3_bind_text(ai, 4, r->postal, -1, SQLITE_STATIC);
        sqlite3_bind_text(ai, 5, r->city, -1, SQLITE_STATIC);
        if (sqlite3_step(ai) != SQLITE_DONE)
            return die("plain insert", sqlite3_errmsg(db));
        sqlite3_reset(ai);
        if ((i % BATCH == BATCH - 1 || i == n - 1) &&
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            return die("plain commit", sqlite3_errmsg(db));
    }
    *secs = now() - t0;
    sqlite3_finalize(ci);
    sqlite3_finalize(ai);
    sqlite3_close(db);
    return 0;
}

/* The same rows written by hand into patron's own schema: every table and
 * index the store keeps (customer, address, number/external/email keys,
 * used number, counter), with plain prepared statements.  What a host would
 * write to get the same lookups without the library. */
static int run_same_schema(const row *rows, long n, const char *path, double *secs)
{
    patron_store_ops ops;
    void *ctx = NULL;
    char *msg = NULL;
    sqlite3 *db;
    sqlite3_stmt *ci = NULL, *ai = NULL, *ki = NULL, *ui = NULL, *cu = NULL;
    double t0;
    long i;

    cleanup(path);
    /* The store creates the schema; the rows are then written by hand. */
    if (patron_sqlite_store_open(&ops, &ctx, path, 0, &msg) != PATRON_OK)
        return die("same-schema open", msg ? msg : "?");
    db = patron_sqlite_handle(ctx);
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO customers (number, state, salutation, first_name,"
                           " last_name, email, phone, birth_date, external_id, locked,"
                           " created_at, updated_at, revision) VALUES (?,?,?,?,?,?,?,?,?,0,?,?,1)",
                           -1, &ci, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO customer_addresses (customer_id, position, street,"
                           " house_number, postal_code, city, country, billing)"
                           " VALUES (?,0,?,?,?,?,'DE','private')",
                           -1, &ai, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO customer_keys VALUES (?,?,?)", -1, &ki, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO used_numbers VALUES (?)", -1, &ui, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "UPDATE counters SET value = value + 1 WHERE name = 'customer_number'",
                           -1, &cu, NULL) != SQLITE_OK)
        return die("same-schema prepare", sqlite3_errmsg(db));
    t0 = now();
    for (i = 0; i < n; i++) {
        const row *r = &rows[i];
        char num[24];
        sqlite3_int64 t = (sqlite3_int64)time(NULL), id;
        int k;
        const char *kv[3];
        if (i % BATCH == 0)
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        snprintf(num, sizeof num, "K%06ld", i + 1);
        sqlite3_step(cu);
        sqlite3_reset(cu);
        sqlite3_bind_text(ui, 1, num, -1, SQLITE_STATIC);
        sqlite3_step(ui);
        sqlite3_reset(ui);
        sqlite3_bind_text(ci, 1, num, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 2, "active", -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 3, r->salutation, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 4, r->first, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 5, r->last, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 6, r->email, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 7, r->phone, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 8, r->birth, -1, SQLITE_STATIC);
        sqlite3_bind_text(ci, 9, r->ext_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ci, 10, t);
        sqlite3_bind_int64(ci, 11, t);
        if (sqlite3_step(ci) != SQLITE_DONE)
            return die("same-schema insert", sqlite3_errmsg(db));
        sqlite3_reset(ci);
        id = sqlite3_last_insert_rowid(db);
        sqlite3_bind_int64(ai, 1, id);
        sqlite3_bind_text(ai, 2, r->street, -1, SQLITE_STATIC);
        sqlite3_bind_text(ai, 3, r->house, -1, SQLITE_STATIC);
        sqlite3_bind_text(ai, 4, r->postal, -1, SQLITE_STATIC);
        sqlite3_bind_text(ai, 5, r->city, -1, SQLITE_STATIC);
        if (sqlite3_step(ai) != SQLITE_DONE)
            return die("same-schema insert", sqlite3_errmsg(db));
        sqlite3_reset(ai);
        kv[0] = num;
        kv[1] = r->ext_id;
        kv[2] = r->email;
        for (k = 0; k < 3; k++) {
            sqlite3_bind_int(ki, 1, k + 1);
            sqlite3_bind_text(ki, 2, kv[k], -1, SQLITE_STATIC);
            sqlite3_bind_int64(ki, 3, id);
            if (sqlite3_step(ki) != SQLITE_DONE)
                return die("same-schema key", sqlite3_errmsg(db));
            sqlite3_reset(ki);
        }
        if ((i % BATCH == BATCH - 1 || i == n - 1) &&
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            return die("same-schema commit", sqlite3_errmsg(db));
    }
    *secs = now() - t0;
    sqlite3_finalize(ci);
    sqlite3_finalize(ai);
    sqlite3_finalize(ki);
    sqlite3_finalize(ui);
    sqlite3_finalize(cu);
    patron_sqlite_close(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    const char *tmp = getenv("TMPDIR");
    const char *dir = argc > 2 ? argv[2] : (tmp && *tmp ? tmp : "/tmp");
    char p_path[512], q_path[512], s_path[512];
    double tp = 0, tq = 0, ts = 0;
    row *rows;
    long i;

    if (n <= 0)
        return die("usage", "bench_sqlite_import [N] [DIR]");
    rows = calloc((size_t)n, sizeof *rows);
    if (!rows)
        return die("rows", "out of memory");
    for (i = 0; i < n; i++)
        gen(&rows[i], i);
    snprintf(p_path, sizeof p_path, "%s/patron-bench-%ld.db", dir, (long)getpid());
    snprintf(q_path, sizeof q_path, "%s/patron-bench-plain-%ld.db", dir, (long)getpid());
    snprintf(s_path, sizeof s_path, "%s/patron-bench-same-%ld.db", dir, (long)getpid());

    if (run_plain(rows, n, q_path, &tq) || run_same_schema(rows, n, s_path, &ts) ||
        run_patron(rows, n, p_path, &tp))
        return 1;
    cleanup(p_path);
    cleanup(q_path);
    cleanup(s_path);
    free(rows);

    printf("customers: %ld, one address each, transactions of %d, WAL, synchronous=FULL\n", n,
           BATCH);
    printf("plain INSERTs, bare table (no indexes):    %7.3f s %9.0f records/s\n", tq,
           (double)n / tq);
    printf("plain INSERTs, patron's schema by hand:    %7.3f s %9.0f records/s\n", ts,
           (double)n / ts);
    printf("patron_db_create + SQLite store:           %7.3f s %9.0f records/s\n", tp,
           (double)n / tp);
    printf("ratio patron / bare table:    %5.2f\n", tp / tq);
    printf("ratio patron / same by hand:  %5.2f  (the library's overhead)\n", tp / ts);
    return 0;
}
