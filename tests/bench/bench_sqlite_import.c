/* Import benchmark of libpatron-sqlite: N customers the way `patron import`
 * writes them — host transactions of 10 000 rows (patron_sqlite_begin /
 * commit), inside them patron_db_create_many() on chunks of 2 000 records
 * (examples/patron/cmd_io.c: BATCH_ROWS, CHUNK_ROWS) — next to plain
 * prepared INSERTs into a file opened with the same pragmas (the store's:
 * WAL, synchronous=FULL, 8 KiB pages, its cache, spill and checkpoint
 * sizes), in
 * transactions of the same number of customers:
 *
 *   (1) a bare customers + addresses table without any index, and
 *   (2) the equivalent tables: patron's own schema (every index), written by
 *       hand with the very rows the store wrote, every table: the customer,
 *       its addresses, every key row (number, external id, email and all the
 *       matcher's blocking keys), its used number; per transaction the
 *       key_counts rows of the keys it added (one upsert per distinct
 *       counted key, counted in memory) and the counter (one UPDATE).  The
 *       rows are read from the file patron wrote before the clock starts,
 *       so (2) pays only for the INSERTs, and the ratio patron / (2) is the
 *       library's own overhead: building and validating the records, the
 *       match keys, the checks (external reference, number), the store's
 *       statements and its undo notes.  After the run the two files are
 *       compared table by table (row counts, key_counts and the counter
 *       equal), so that (2) provably wrote the same rows.
 *
 * Prints wall and CPU time of each and the ratios.
 *
 *     bench_sqlite_import [--csv FILE] [--batch N] [--chunk N] [--cli PATRON]
 *                         [--cache-mb M] [--only patron] [N] [DIR]
 *
 * --csv reads customers from a CSV of ../shared/data/gen_customers.py, with
 * the command-line tool's reader (examples/patron/csv.c)
 * (columns by header name: id, first_name, last_name, company, street,
 * postal_code, city, country, email, phone); without it N customers are
 * generated.  N defaults to 100000 (all rows of the CSV).  --batch: rows per
 * transaction (10000); --chunk: records per patron_db_create_many() call
 * (2000; 0: one patron_db_create() per record).  --cache-mb: page cache
 * of every connection in MiB (the store's 128 by default), and its spill
 * threshold 4 times that (the store's 512 MiB; with a smaller
 * cache a smaller N shows what a larger file does: 125 000 customers with
 * --cache-mb 16 --batch 1250 --chunk 250 write about as 1 000 000 with the
 * defaults, an eighth of the bytes).  --cli also times the
 * command-line tool itself (`PATRON --db F import FILE`, with --csv; its CPU
 * time includes reading the CSV) against the same baseline.
 *
 * SPDX-License-Identifier: MIT */
#define _DEFAULT_SOURCE 1 /* sync() */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <patron/patron.h>
#include <patron/sqlite.h>

#include "csv.h"

/* Rows per transaction (--batch) and records per patron_db_create_many()
 * call (--chunk; 0: patron_db_create() per record): those of `patron
 * import`. */
static long BATCH = 10000;
static long CHUNK = 2000;
/* --cache-mb: the page cache of every connection (0: the store's own) */
static long CACHE_MB = 0;

/* PRAGMA cache_spill of the store's connection, read after it opened: the
 * plain baseline runs with the same */
static long SPILL_PAGES = -1;

static long pragma_long(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void set_cache(sqlite3 *db)
{
    char sql[64];
    if (CACHE_MB > 0) {
        /* and the store's spill threshold scaled alike: 4 times the cache */
        snprintf(sql, sizeof sql, "PRAGMA cache_size=-%ld", CACHE_MB * 1024);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
        snprintf(sql, sizeof sql, "PRAGMA cache_spill=%ld",
                 (CACHE_MB * 4 * 1024 * 1024 / pragma_long(db, "PRAGMA page_size")) | 1);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
}

/* One input customer; empty strings are unset. */
enum { R_EXT, R_SAL, R_FIRST, R_LAST, R_COMPANY, R_EMAIL, R_PHONE, R_BIRTH,
       R_STREET, R_HOUSE, R_POSTAL, R_CITY, R_COUNTRY, R__N };

typedef struct row {
    char *v[R__N];
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

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (!p) {
        fputs("bench_sqlite_import: out of memory\n", stderr);
        exit(1);
    }
    return memcpy(p, s, n);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return dup_str(buf);
}

static void gen(row *r, long i)
{
    r->v[R_EXT] = fmt("%ld", 100000 + i);
    r->v[R_SAL] = dup_str(rnd(2) ? "Herr" : "Frau");
    r->v[R_FIRST] = dup_str(firsts[rnd(20)]);
    r->v[R_LAST] = dup_str(lasts[rnd(20)]);
    r->v[R_COMPANY] = dup_str("");
    r->v[R_EMAIL] = fmt("kunde%ld.%u@example.de", i, rnd(1000));
    r->v[R_PHONE] = fmt("+49 %u %u", 30 + rnd(900), 100000 + rnd(899999));
    r->v[R_STREET] = dup_str(streets[rnd(8)]);
    r->v[R_HOUSE] = fmt("%u%s", 1 + rnd(120), rnd(5) ? "" : "a");
    r->v[R_POSTAL] = fmt("%05u", 1000 + rnd(98000));
    r->v[R_CITY] = dup_str(cities[rnd(10)]);
    r->v[R_COUNTRY] = dup_str("");
    r->v[R_BIRTH] = fmt("19%02u-%02u-%02u", 30 + rnd(70), 1 + rnd(12), 1 + rnd(28));
}

/* ---- CSV: the command-line tool's reader (examples/patron/csv.c) ------- */

static long read_csv(const char *path, row **rows_out, long max)
{
    static const struct { const char *name; int slot; } cols[] = {
        { "id", R_EXT }, { "salutation", R_SAL }, { "first_name", R_FIRST },
        { "last_name", R_LAST }, { "company", R_COMPANY }, { "email", R_EMAIL },
        { "phone", R_PHONE }, { "birth_date", R_BIRTH }, { "street", R_STREET },
        { "house_number", R_HOUSE }, { "postal_code", R_POSTAL }, { "city", R_CITY },
        { "country", R_COUNTRY },
    };
    FILE *fp = fopen(path, "rb");
    csv_reader *r = NULL;
    csv_record rec;
    int *slot_of = NULL, i;
    size_t nf = 0, c;
    long n = 0, cap = 1024;
    row *rows = NULL;

    if (!fp)
        return -1;
    if (csv_reader_open(&r, fp, ',') < 0 || csv_read(r, &rec) <= 0 || rec.error ||
        !(slot_of = calloc(rec.n, sizeof *slot_of))) {
        csv_reader_free(r);
        fclose(fp);
        return -1;
    }
    nf = rec.n;
    for (c = 0; c < nf; c++) {
        slot_of[c] = -1;
        for (i = 0; i < (int)(sizeof cols / sizeof cols[0]); i++)
            if (strcmp(rec.fields[c], cols[i].name) == 0)
                slot_of[c] = cols[i].slot;
    }
    rows = calloc((size_t)cap, sizeof *rows);
    while (rows && n < max) {
        int k = csv_read(r, &rec);
        if (k < 0) {
            n = -1;
            break;
        }
        if (k == 0)
            break;
        if (rec.error) {
            fprintf(stderr, "bench_sqlite_import: %s, line %lu: %s\n", path, rec.line, rec.error);
            continue;
        }
        if (n == cap) {
            row *nr = realloc(rows, (size_t)cap * 2 * sizeof *rows);
            if (!nr)
                break;
            memset(nr + cap, 0, (size_t)cap * sizeof *rows);
            rows = nr;
            cap *= 2;
        }
        for (c = 0; c < rec.n && c < nf; c++)
            if (slot_of[c] >= 0)
                rows[n].v[slot_of[c]] = dup_str(rec.fields[c]);
        for (i = 0; i < R__N; i++)
            if (!rows[n].v[i])
                rows[n].v[i] = dup_str("");
        n++;
    }
    free(slot_of);
    csv_reader_free(r);
    fclose(fp);
    *rows_out = rows;
    return rows ? n : -1;
}

/* ------------------------------------------------------------------------ */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of this process: the wall clock of a shared
 * machine also counts other processes. */
static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Bytes this process has written so far (write syscalls), or 0. */
static double written(void)
{
    FILE *fp = fopen("/proc/self/io", "r");
    char line[128];
    double v = 0;
    if (!fp)
        return 0;
    while (fgets(line, sizeof line, fp))
        if (strncmp(line, "wchar:", 6) == 0)
            v = atof(line + 6);
    fclose(fp);
    return v;
}

typedef struct cost {
    double wall, cpu, mb;
} cost;

/* Each run starts with the dirty pages of the one before written out, so
 * that it does not wait for them in its own syncs. */
static void cost_start(cost *c)
{
    sync();
    c->wall = now();
    c->cpu = cpu();
    c->mb = written();
}

static void cost_stop(cost *c)
{
    c->wall = now() - c->wall;
    c->cpu = cpu() - c->cpu;
    c->mb = (written() - c->mb) / 1e6;
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

/* Size of the file at `path` in MB (0 if there is none). */
static double file_mb(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (double)st.st_size / 1e6 : 0;
}

static int die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_sqlite_import: %s: %s\n", what, msg);
    return 1;
}

static const char *opt(const char *v)
{
    return v && *v ? v : NULL;
}

/* Without a table prefix, so that the same-schema baseline below can copy
 * the store's tables by their plain names. */
static const patron_sqlite_options bench_options = { PATRON_SQLITE_OPTIONS_VERSION, 0, "", NULL,
                                                     0 };

/* The record of row `r`: 0, 1 if a value is refused (the record is not
 * made), -1 if out of memory. */
static int make_customer(const row *r, patron_customer **out)
{
    static const struct { int slot, field; } fields[] = {
        { R_EXT, PATRON_F_EXTERNAL_ID }, { R_SAL, PATRON_F_SALUTATION },
        { R_FIRST, PATRON_F_FIRST_NAME }, { R_LAST, PATRON_F_LAST_NAME },
        { R_COMPANY, PATRON_F_COMPANY }, { R_EMAIL, PATRON_F_EMAIL },
        { R_PHONE, PATRON_F_PHONE }, { R_BIRTH, PATRON_F_BIRTH_DATE },
    };
    static const struct { int slot, field; } afields[] = {
        { R_STREET, PATRON_A_STREET }, { R_HOUSE, PATRON_A_HOUSE_NUMBER },
        { R_POSTAL, PATRON_A_POSTAL_CODE }, { R_CITY, PATRON_A_CITY },
        { R_COUNTRY, PATRON_A_COUNTRY },
    };
    patron_customer *c = NULL;
    size_t a, k;
    int bad = 0;

    *out = NULL;
    if (patron_customer_new(&c) != PATRON_OK)
        return -1;
    for (k = 0; k < sizeof fields / sizeof fields[0] && !bad; k++)
        if (opt(r->v[fields[k].slot]) &&
            patron_customer_set(c, fields[k].field, r->v[fields[k].slot]) != PATRON_OK)
            bad = 1;
    if (!bad && patron_customer_address_add(c, &a) != PATRON_OK) {
        patron_customer_free(c);
        return -1;
    }
    for (k = 0; k < sizeof afields / sizeof afields[0] && !bad; k++)
        if (opt(r->v[afields[k].slot]) &&
            patron_customer_address_set(c, a, afields[k].field, r->v[afields[k].slot]) !=
                PATRON_OK)
            bad = 1;
    if (bad) {
        patron_customer_free(c);
        return 1;
    }
    *out = c;
    return 0;
}

static void count_refused(void *payload, size_t index, patron_status status, const char *message)
{
    (void)index;
    (void)status;
    (void)message;
    ++*(long *)payload;
}

/* As `patron import` does: rows in host transactions of BATCH, created
 * CHUNK records per patron_db_create_many() call (CHUNK 0: one
 * patron_db_create() per record). */
static int run_patron(const row *rows, long n, const char *path, cost *secs, long *rejected)
{
    patron_db *db = NULL;
    patron_sqlite *s = NULL;
    patron_customer **cs = NULL;
    char *msg = NULL;
    size_t nc = 0, created;
    long i, chunk = CHUNK > 0 ? CHUNK : 1;

    *rejected = 0;
    cleanup(path);
    if (patron_db_open_sqlite(&db, &s, &msg, path, &bench_options) != PATRON_OK)
        return die("open", msg ? msg : "?");
    set_cache(patron_sqlite_handle(s));
    SPILL_PAGES = pragma_long(patron_sqlite_handle(s), "PRAGMA cache_spill");
    if (!(cs = calloc((size_t)chunk, sizeof *cs)))
        return die("records", "out of memory");
    cost_start(secs);
    for (i = 0; i < n; i++) {
        patron_customer *c = NULL;
        int mk;
        int last_of_tx = i % BATCH == BATCH - 1 || i == n - 1;
        if (i % BATCH == 0 && patron_sqlite_begin(s) != PATRON_OK)
            return die("begin", patron_sqlite_errmsg(s));
        if ((mk = make_customer(&rows[i], &c)) < 0)
            return die("record", "out of memory");
        *rejected += mk;
        if (c)
            cs[nc++] = c;
        if (nc && (nc == (size_t)chunk || last_of_tx)) {
            patron_status st;
            if (CHUNK > 0) {
                st = patron_db_create_many(db, &created, cs, nc, count_refused, rejected);
            } else {
                st = patron_db_create(db, cs[0]);
                if (st == PATRON_E_INVALID || st == PATRON_E_EXISTS) {
                    ++*rejected;
                    st = PATRON_OK;
                }
            }
            if (st != PATRON_OK)
                return die("create", patron_db_errmsg(db));
            while (nc)
                patron_customer_free(cs[--nc]);
        }
        if (last_of_tx && patron_sqlite_commit(s) != PATRON_OK)
            return die("commit", patron_sqlite_errmsg(s));
    }
    cost_stop(secs);
    free(cs);
    patron_db_close(db);
    return 0;
}

static int run_plain(const row *rows, long n, const char *path, cost *secs)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *ci = NULL, *ai = NULL;
    long i;

    cleanup(path);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return die("plain open", sqlite3_errmsg(db));
    if (sqlite3_exec(db,
                     "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                     "PRAGMA cache_size=-131072; PRAGMA temp_store=MEMORY; "
                     "PRAGMA wal_autocheckpoint=16384; PRAGMA journal_size_limit=67108864; "
                     "PRAGMA secure_delete=ON;"
                     "CREATE TABLE customers (id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT,"
                     " state TEXT, salutation TEXT, first_name TEXT, last_name TEXT,"
                     " company TEXT, email TEXT, phone TEXT, birth_date TEXT, external_id TEXT,"
                     " created_at INTEGER, updated_at INTEGER, revision INTEGER);"
                     "CREATE TABLE customer_addresses (customer_id INTEGER NOT NULL,"
                     " position INTEGER NOT NULL, street TEXT, house_number TEXT,"
                     " postal_code TEXT, city TEXT, country TEXT, billing TEXT,"
                     " PRIMARY KEY (customer_id, position)) WITHOUT ROWID;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO customers (number, state, salutation, first_name,"
                           " last_name, company, email, phone, birth_date, external_id,"
                           " created_at, updated_at, revision) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,1)",
                           -1, &ci, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO customer_addresses VALUES (?,0,?,?,?,?,?,'private')",
                           -1, &ai, NULL) != SQLITE_OK)
        return die("plain schema", sqlite3_errmsg(db));
    set_cache(db);
    if (SPILL_PAGES >= 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA cache_spill=%ld", SPILL_PAGES);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    cost_start(secs);
    for (i = 0; i < n; i++) {
        static const int cslots[] = { R_SAL, R_FIRST, R_LAST, R_COMPANY, R_EMAIL, R_PHONE,
                                      R_BIRTH, R_EXT };
        static const int aslots[] = { R_STREET, R_HOUSE, R_POSTAL, R_CITY };
        const row *r = &rows[i];
        char num[24];
        sqlite3_int64 t = (sqlite3_int64)time(NULL);
        size_t k;
        if (i % BATCH == 0)
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        snprintf(num, sizeof num, "K%06ld", i + 1);
        sqlite3_bind_text(ci, 1, num, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ci, 2, "active", -1, SQLITE_STATIC);
        for (k = 0; k < sizeof cslots / sizeof cslots[0]; k++)
            if (opt(r->v[cslots[k]]))
                sqlite3_bind_text(ci, 3 + (int)k, r->v[cslots[k]], -1, SQLITE_STATIC);
        sqlite3_bind_int64(ci, 11, t);
        sqlite3_bind_int64(ci, 12, t);
        if (sqlite3_step(ci) != SQLITE_DONE)
            return die("plain insert", sqlite3_errmsg(db));
        sqlite3_reset(ci);
        sqlite3_clear_bindings(ci);
        sqlite3_bind_int64(ai, 1, sqlite3_last_insert_rowid(db));
        for (k = 0; k < sizeof aslots / sizeof aslots[0]; k++)
            if (opt(r->v[aslots[k]]))
                sqlite3_bind_text(ai, 2 + (int)k, r->v[aslots[k]], -1, SQLITE_STATIC);
        sqlite3_bind_text(ai, 6, opt(r->v[R_COUNTRY]) ? r->v[R_COUNTRY] : "DE", -1,
                          SQLITE_STATIC);
        if (sqlite3_step(ai) != SQLITE_DONE)
            return die("plain insert", sqlite3_errmsg(db));
        sqlite3_reset(ai);
        sqlite3_clear_bindings(ai);
        if ((i % BATCH == BATCH - 1 || i == n - 1) &&
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            return die("plain commit", sqlite3_errmsg(db));
    }
    cost_stop(secs);
    sqlite3_finalize(ci);
    sqlite3_finalize(ai);
    sqlite3_close(db);
    return 0;
}

/* ---- the rows patron wrote, in memory ----------------------------------- */

typedef struct cell {
    int type, len;
    sqlite3_int64 i;
    const char *p;
} cell;

/* All rows of one table, ordered by customer; `first[k]` is the index of
 * the first row of the k-th customer (rows of one customer are together). */
typedef struct table {
    char name[64];
    char *insert_sql;
    int ncol, id_col;   /* id_col: the column holding the customer id */
    long nrows;
    cell *cells;        /* nrows * ncol */
} table;

static char *arena_copy(const void *p, size_t n)
{
    static char *block;
    static size_t left;
    char *r;
    if (n + 1 > left) {
        left = n + 1 > (1u << 20) ? n + 1 : (1u << 20);
        block = malloc(left);
        if (!block)
            exit(1);
    }
    r = block;
    memcpy(r, p, n);
    r[n] = '\0';
    block += n + 1;
    left -= n + 1;
    return r;
}

static int load_table(sqlite3 *db, table *t, const char *name, const char *id_col,
                      const char *order, int skip_id)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    long cap = 1024;
    int c;
    size_t len;

    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY %s", name, order);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return die("load", sqlite3_errmsg(db));
    t->ncol = sqlite3_column_count(st);
    t->id_col = -1;
    t->insert_sql = malloc(64 + (size_t)t->ncol * 40);
    len = (size_t)sprintf(t->insert_sql, "INSERT INTO %s VALUES (", name);
    for (c = 0; c < t->ncol; c++) {
        if (strcmp(sqlite3_column_name(st, c), id_col) == 0)
            t->id_col = c;
        len += (size_t)sprintf(t->insert_sql + len, "%s?%d", c ? "," : "", c + 1);
    }
    strcpy(t->insert_sql + len, ")");
    (void)skip_id;
    t->cells = malloc((size_t)cap * (size_t)t->ncol * sizeof *t->cells);
    t->nrows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        cell *rw;
        if (t->nrows == cap) {
            cap *= 2;
            t->cells = realloc(t->cells, (size_t)cap * (size_t)t->ncol * sizeof *t->cells);
            if (!t->cells)
                return die("load", "out of memory");
        }
        rw = &t->cells[t->nrows * t->ncol];
        for (c = 0; c < t->ncol; c++) {
            cell *x = &rw[c];
            x->type = sqlite3_column_type(st, c);
            x->i = 0;
            x->p = NULL;
            x->len = 0;
            if (x->type == SQLITE_INTEGER) {
                x->i = sqlite3_column_int64(st, c);
            } else if (x->type == SQLITE_TEXT || x->type == SQLITE_BLOB || x->type == SQLITE_FLOAT) {
                const void *p;
                if (x->type == SQLITE_FLOAT)
                    x->type = SQLITE_TEXT;
                p = x->type == SQLITE_BLOB ? sqlite3_column_blob(st, c)
                                           : (const void *)sqlite3_column_text(st, c);
                x->len = sqlite3_column_bytes(st, c);
                x->p = arena_copy(p, (size_t)x->len);
            }
        }
        t->nrows++;
    }
    sqlite3_finalize(st);
    return 0;
}

static void bind_cell(sqlite3_stmt *st, int idx, const cell *x)
{
    switch (x->type) {
    case SQLITE_INTEGER:
        sqlite3_bind_int64(st, idx, x->i);
        break;
    case SQLITE_TEXT:
        sqlite3_bind_text(st, idx, x->p, x->len, SQLITE_STATIC);
        break;
    case SQLITE_BLOB:
        sqlite3_bind_blob(st, idx, x->p, x->len, SQLITE_STATIC);
        break;
    default:
        sqlite3_bind_null(st, idx);
    }
}

enum { T_CUST, T_ADDR, T_KEYS, T__N };

/* Write the rows of customer `old_id` of table `t` from *pos on, with the
 * customer id `new_id`. */
static int insert_rows(sqlite3 *db, sqlite3_stmt *st, const table *t, long *pos,
                       sqlite3_int64 old_id, sqlite3_int64 new_id)
{
    while (*pos < t->nrows) {
        const cell *rw = &t->cells[*pos * t->ncol];
        int c;
        if (rw[t->id_col].i != old_id)
            break;
        for (c = 0; c < t->ncol; c++) {
            if (c == t->id_col)
                sqlite3_bind_int64(st, c + 1, new_id);
            else
                bind_cell(st, c + 1, &rw[c]);
        }
        if (sqlite3_step(st) != SQLITE_DONE)
            return die(t->name, sqlite3_errmsg(db));
        sqlite3_reset(st);
        (*pos)++;
    }
    return 0;
}

/* The key kinds counted in key_counts (libpatron-sqlite's
 * PSQ_COUNTED_KINDS, part of its file format); their values are stored as
 * 64-bit hashes (INTEGER). */
static int counted_kind(sqlite3_int64 kind)
{
    return kind == 100 || kind == 101 || kind == 102 || (kind >= 120 && kind <= 123);
}

/* Holders per counted key added by one transaction: open addressing on
 * (kind, hash). */
typedef struct kcount {
    sqlite3_int64 kind, value, n;
} kcount;

typedef struct kcounts {
    kcount *t;
    size_t cap, *used, n_used;
} kcounts;

static void kcounts_add(kcounts *m, sqlite3_int64 kind, sqlite3_int64 value)
{
    uint64_t h = ((uint64_t)value ^ ((uint64_t)kind * 0x9E3779B97F4A7C15u)) * 0xBF58476D1CE4E5B9u;
    size_t i = (size_t)(h >> 20) & (m->cap - 1);
    while (m->t[i].n && (m->t[i].kind != kind || m->t[i].value != value))
        i = (i + 1) & (m->cap - 1);
    if (!m->t[i].n) {
        m->t[i].kind = kind;
        m->t[i].value = value;
        m->used[m->n_used++] = i;
    }
    m->t[i].n++;
}

/* The rows that patron wrote to `from`, written by hand to a new file with
 * the same schema.  Per customer: claim its number, insert the customer,
 * its addresses and its keys; per transaction: add the holders of its
 * counted keys to key_counts (one upsert per distinct key) and move the
 * counter on by its customers (one UPDATE). */
static int run_same_schema(const char *from, const char *path, cost *secs, long *n_keys)
{
    patron_store_ops ops;
    void *ctx = NULL;
    char *msg = NULL;
    sqlite3 *src = NULL, *db;
    sqlite3_stmt *ins[T__N], *ui = NULL, *cu = NULL, *kc = NULL;
    table t[T__N];
    long pos[T__N] = { 0, 0, 0 }, i, in_tx = 0;
    int k, number_col = 1, n_meta = 0;
    kcounts m;
    sqlite3_stmt *mq = NULL;
    char meta_k[8][64], meta_v[8][64];

    memset(t, 0, sizeof t);
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return die("same-schema read", sqlite3_errmsg(src));
    if (load_table(src, &t[T_CUST], "customers", "id", "id", 1) ||
        load_table(src, &t[T_ADDR], "customer_addresses", "customer_id", "customer_id, position",
                   0) ||
        load_table(src, &t[T_KEYS], "customer_keys", "customer_id", "customer_id", 0))
        return 1;
    /* the store's meta rows (the index generation it records on the first
     * create into an empty store), written in the first transaction below */
    if (sqlite3_prepare_v2(src, "SELECT key, value FROM meta ORDER BY key", -1, &mq, NULL) != SQLITE_OK)
        return die("same-schema read", sqlite3_errmsg(src));
    while (sqlite3_step(mq) == SQLITE_ROW && n_meta < 8) {
        const char *mk = (const char *)sqlite3_column_text(mq, 0), *mv = (const char *)sqlite3_column_text(mq, 1);
        snprintf(meta_k[n_meta], sizeof meta_k[0], "%s", mk ? mk : "");
        snprintf(meta_v[n_meta], sizeof meta_v[0], "%s", mv ? mv : "");
        n_meta++;
    }
    sqlite3_finalize(mq);
    sqlite3_close(src);
    *n_keys = t[T_KEYS].nrows;

    cleanup(path);
    /* The store creates the schema; the rows are then written by hand. */
    if (patron_sqlite_store_open(&ops, &ctx, &msg, path, &bench_options) != PATRON_OK)
        return die("same-schema open", msg ? msg : "?");
    db = patron_sqlite_handle(ctx);
    set_cache(db);
    for (k = 0; k < T__N; k++)
        if (sqlite3_prepare_v2(db, t[k].insert_sql, -1, &ins[k], NULL) != SQLITE_OK)
            return die("same-schema prepare", sqlite3_errmsg(db));
    if (sqlite3_prepare_v2(db, "INSERT INTO used_numbers VALUES (?)", -1, &ui, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "UPDATE counters SET value = value + ?1 WHERE name = 'customer_number'",
                           -1, &cu, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO key_counts(kind, value, n) VALUES (?1, ?2, ?3) "
                           "ON CONFLICT(kind, value) DO UPDATE SET n = n + excluded.n",
                           -1, &kc, NULL) != SQLITE_OK)
        return die("same-schema prepare", sqlite3_errmsg(db));
    m.n_used = 0;
    for (m.cap = 1024; m.cap < (size_t)BATCH * 32; m.cap *= 2)
        ;
    m.t = calloc(m.cap, sizeof *m.t);
    m.used = calloc(m.cap, sizeof *m.used);
    if (!m.t || !m.used)
        return die("same-schema", "out of memory");
    cost_start(secs);
    for (i = 0; i < t[T_CUST].nrows; i++) {
        const cell *rw = &t[T_CUST].cells[i * t[T_CUST].ncol];
        sqlite3_int64 old_id = rw[0].i, id;
        long kfrom;
        int c;
        if (i % BATCH == 0)
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (i == 0 && n_meta) {
            sqlite3_stmt *mi = NULL;
            if (sqlite3_prepare_v2(db, "INSERT INTO meta(key, value) VALUES (?1, ?2)", -1, &mi, NULL) != SQLITE_OK)
                return die("same-schema meta", sqlite3_errmsg(db));
            for (k = 0; k < n_meta; k++) {
                sqlite3_bind_text(mi, 1, meta_k[k], -1, SQLITE_STATIC);
                sqlite3_bind_text(mi, 2, meta_v[k], -1, SQLITE_STATIC);
                if (sqlite3_step(mi) != SQLITE_DONE)
                    return die("same-schema meta", sqlite3_errmsg(db));
                sqlite3_reset(mi);
            }
            sqlite3_finalize(mi);
        }
        in_tx++;
        bind_cell(ui, 1, &rw[number_col]);
        sqlite3_step(ui);
        sqlite3_reset(ui);
        /* id NULL: AUTOINCREMENT gives it, as for patron. */
        sqlite3_bind_null(ins[T_CUST], 1);
        for (c = 1; c < t[T_CUST].ncol; c++)
            bind_cell(ins[T_CUST], c + 1, &rw[c]);
        if (sqlite3_step(ins[T_CUST]) != SQLITE_DONE)
            return die("same-schema insert", sqlite3_errmsg(db));
        sqlite3_reset(ins[T_CUST]);
        id = sqlite3_last_insert_rowid(db);
        kfrom = pos[T_KEYS];
        if (insert_rows(db, ins[T_ADDR], &t[T_ADDR], &pos[T_ADDR], old_id, id) ||
            insert_rows(db, ins[T_KEYS], &t[T_KEYS], &pos[T_KEYS], old_id, id))
            return 1;
        for (; kfrom < pos[T_KEYS]; kfrom++) {
            const cell *kr = &t[T_KEYS].cells[kfrom * t[T_KEYS].ncol];
            if (counted_kind(kr[0].i)) {
                if (kr[1].type != SQLITE_INTEGER)
                    return die("same-schema", "a counted key is not stored as a hash");
                kcounts_add(&m, kr[0].i, kr[1].i);
            }
        }
        if (i % BATCH == BATCH - 1 || i == t[T_CUST].nrows - 1) {
            while (m.n_used) {
                kcount *e = &m.t[m.used[--m.n_used]];
                sqlite3_bind_int64(kc, 1, e->kind);
                sqlite3_bind_int64(kc, 2, e->value);
                sqlite3_bind_int64(kc, 3, e->n);
                if (sqlite3_step(kc) != SQLITE_DONE)
                    return die("same-schema key_counts", sqlite3_errmsg(db));
                sqlite3_reset(kc);
                e->n = 0;
            }
            sqlite3_bind_int64(cu, 1, in_tx);
            if (sqlite3_step(cu) != SQLITE_DONE)
                return die("same-schema counter", sqlite3_errmsg(db));
            sqlite3_reset(cu);
            in_tx = 0;
            if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
                return die("same-schema commit", sqlite3_errmsg(db));
        }
    }
    cost_stop(secs);
    free(m.t);
    free(m.used);
    sqlite3_finalize(kc);
    for (k = 0; k < T__N; k++) {
        sqlite3_finalize(ins[k]);
        free(t[k].cells);
        free(t[k].insert_sql);
    }
    sqlite3_finalize(ui);
    sqlite3_finalize(cu);
    patron_sqlite_close(ctx);
    return 0;
}

/* Do the file patron wrote and the baseline's hold the same rows?  The
 * number of rows of every table, the key counts and the counter.  0 if so. */
static int verify_same(const char *patron_path, const char *same_path)
{
    static const char *const tables[] = { "customers", "customer_addresses", "customer_tags",
                                          "customer_properties", "customer_extra",
                                          "customer_keys", "key_counts", "used_numbers",
                                          "counters", "journal", "meta", "sqlite_sequence" };
    static const char *const checks[] = {
        "SELECT count(*) FROM (SELECT * FROM main.key_counts EXCEPT SELECT * FROM b.key_counts)",
        "SELECT count(*) FROM (SELECT * FROM b.key_counts EXCEPT SELECT * FROM main.key_counts)",
        "SELECT count(*) FROM (SELECT * FROM main.counters EXCEPT SELECT * FROM b.counters)",
        "SELECT count(*) FROM (SELECT * FROM main.sqlite_sequence EXCEPT "
        "SELECT * FROM b.sqlite_sequence)",
    };
    sqlite3 *db = NULL;
    char sql[1200];
    size_t k;
    int bad = 0;

    if (sqlite3_open_v2(patron_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return die("verify", sqlite3_errmsg(db));
    snprintf(sql, sizeof sql, "ATTACH '%s' AS b", same_path);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return die("verify", sqlite3_errmsg(db));
    for (k = 0; k < sizeof tables / sizeof tables[0] + sizeof checks / sizeof checks[0]; k++) {
        sqlite3_stmt *st = NULL;
        sqlite3_int64 a = -1, b = 0;
        if (k < sizeof tables / sizeof tables[0])
            snprintf(sql, sizeof sql,
                     "SELECT (SELECT count(*) FROM main.%s), (SELECT count(*) FROM b.%s)",
                     tables[k], tables[k]);
        else
            snprintf(sql, sizeof sql, "SELECT (%s), 0", checks[k - sizeof tables / sizeof tables[0]]);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            return die("verify", sqlite3_errmsg(db));
        if (sqlite3_step(st) == SQLITE_ROW) {
            a = sqlite3_column_int64(st, 0);
            b = sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
        if (a != b) {
            fprintf(stderr, "bench_sqlite_import: the baseline differs from patron's file: %s\n",
                    sql);
            bad = 1;
        }
    }
    sqlite3_close(db);
    return bad;
}

/* `patron --db FILE import CSV`: its wall and CPU time (of the child). */
static int run_cli(const char *patron, const char *csv, const char *path, cost *c)
{
    struct rusage ru;
    int status = 0;
    pid_t pid;

    cleanup(path);
    sync();
    c->wall = now();
    c->mb = 0;
    pid = fork();
    if (pid < 0)
        return die("fork", "failed");
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execl(patron, patron, "--db", path, "import", csv, (char *)NULL);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return die(patron, "import failed");
    c->wall = now() - c->wall;
    c->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    cleanup(path);
    return 0;
}

static void line(const char *what, const cost *c, long n)
{
    printf("%s\n    %7.3f s %9.0f records/s   (CPU %6.3f s, %6.0f MB written)\n", what, c->wall,
           (double)n / c->wall, c->cpu, c->mb);
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR"), *csv = NULL, *only = NULL, *cli = NULL;
    const char *dir = tmp && *tmp ? tmp : "/tmp";
    char p_path[512], q_path[512], s_path[512], c_path[512];
    cost tp, tq, ts, tc = { 0, 0, 0 };
    long n = 100000, rejected = 0, n_keys = 0, i;
    double p_mb, s_mb;
    int a, npos = 0;
    row *rows = NULL;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--csv") == 0 && a + 1 < argc)
            csv = argv[++a];
        else if (strcmp(argv[a], "--batch") == 0 && a + 1 < argc && atol(argv[a + 1]) > 0)
            BATCH = atol(argv[++a]);
        else if (strcmp(argv[a], "--chunk") == 0 && a + 1 < argc && atol(argv[a + 1]) >= 0)
            CHUNK = atol(argv[++a]);
        else if (strcmp(argv[a], "--cache-mb") == 0 && a + 1 < argc && atol(argv[a + 1]) >= 0)
            CACHE_MB = atol(argv[++a]);
        else if (strcmp(argv[a], "--cli") == 0 && a + 1 < argc)
            cli = argv[++a];
        else if (strcmp(argv[a], "--only") == 0 && a + 1 < argc)
            only = argv[++a];
        else if (npos == 0 && (npos = 1))
            n = atol(argv[a]);
        else
            dir = argv[a];
    }
    if (n <= 0)
        return die("usage", "bench_sqlite_import [--csv FILE] [--batch N] [--chunk N] [--cli PATRON] "
                              "[--only patron] [N] [DIR]");
    if (csv) {
        n = read_csv(csv, &rows, n);
        if (n <= 0)
            return die(csv, "cannot read, or no rows");
    } else {
        rows = calloc((size_t)n, sizeof *rows);
        if (!rows)
            return die("rows", "out of memory");
        for (i = 0; i < n; i++)
            gen(&rows[i], i);
    }
    snprintf(p_path, sizeof p_path, "%s/patron-bench-%ld.db", dir, (long)getpid());
    snprintf(q_path, sizeof q_path, "%s/patron-bench-plain-%ld.db", dir, (long)getpid());
    snprintf(s_path, sizeof s_path, "%s/patron-bench-same-%ld.db", dir, (long)getpid());
    snprintf(c_path, sizeof c_path, "%s/patron-bench-cli-%ld.db", dir, (long)getpid());
    if (cli && !csv)
        return die("--cli", "needs --csv (the tool imports the file)");

    if (run_patron(rows, n, p_path, &tp, &rejected))
        return 1;
    if (only && strcmp(only, "patron") == 0) {
        cleanup(p_path);
        printf("customers: %ld (%ld rejected)\n", n, rejected);
        line("patron + SQLite store:", &tp, n);
        return 0;
    }
    if (run_plain(rows, n, q_path, &tq) || run_same_schema(p_path, s_path, &ts, &n_keys) ||
        verify_same(p_path, s_path))
        return 1;
    if (cli && run_cli(cli, csv, c_path, &tc))
        return 1;
    p_mb = file_mb(p_path);
    s_mb = file_mb(s_path);
    cleanup(p_path);
    cleanup(q_path);
    cleanup(s_path);
    for (i = 0; i < n; i++)
        for (a = 0; a < R__N; a++)
            free(rows[i].v[a]);
    free(rows);

    printf("customers: %ld from %s (%ld rejected by validation), one address each, "
           "transactions of %ld rows, WAL, synchronous=FULL; patron: %s %ld\n",
           n, csv ? csv : "the generator", rejected, BATCH,
           CHUNK > 0 ? "patron_db_create_many() on chunks of" : "patron_db_create() per record",
           CHUNK > 0 ? CHUNK : 1);
    printf("key rows: %ld (%.1f per customer)\n", n_keys, (double)n_keys / (double)(n - rejected));
    printf("file size: patron %.0f MB, equivalent table %.0f MB; cache_spill %ld pages\n", p_mb,
           s_mb, SPILL_PAGES);
    if (CACHE_MB > 0)
        printf("page cache: %ld MiB per connection (--cache-mb)\n", CACHE_MB);
    line("plain INSERTs, bare table (no indexes):", &tq, n);
    line("plain INSERTs, equivalent table (patron's schema, the same rows and key rows):", &ts,
         n - rejected);
    printf("    (the same rows in every table as patron's file: checked)\n");
    line("patron (as `patron import`: host transactions, patron_db_create_many) + SQLite store:",
         &tp, n);
    if (cli)
        printf("%s --db F import %s\n    %7.3f s %9.0f records/s   (CPU %6.3f s, with reading "
               "the CSV)\n", cli, csv, tc.wall, (double)n / tc.wall, tc.cpu);
    printf("ratio patron / bare table:        %5.2f wall, %5.2f CPU\n", tp.wall / tq.wall,
           tp.cpu / tq.cpu);
    printf("ratio patron / equivalent table:  %5.2f wall, %5.2f CPU  (the library's own "
           "overhead)\n", tp.wall / ts.wall, tp.cpu / ts.cpu);
    if (cli)
        printf("ratio patron import (CLI) / equivalent table:  %5.2f wall, %5.2f CPU\n",
               tc.wall / ts.wall, tc.cpu / ts.cpu);
    return 0;
}
