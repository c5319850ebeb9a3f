/* libpatron-sqlite — the patron_store_ops callbacks on a SQLite connection.
 * SPDX-License-Identifier: MIT
 *
 * Every statement is prepared once per connection, on first use, and reused
 * (reset and re-bound) for every later call: an import of many customers
 * pays for parsing SQL once.  Values are bound, never spliced into SQL, so
 * any string round-trips unchanged.  Strings from the record are bound with
 * SQLITE_STATIC: they stay valid during the call, and every statement is
 * reset and its bindings cleared before the callback returns.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sqlite_internal.h"

typedef struct patron_sqlite psq;

/* ------------------------------------------------------------------------ */
/* Columns                                                                   */

typedef struct psq_column {
    int field;
    const char *name;
    int is_int; /* INTEGER column: bound as a number when the value is one */
} psq_column;

/* customers, in column order after `id`.  Schema version 1: never change
 * this list without a migration step. */
static const psq_column customer_columns[] = {
    { PATRON_F_NUMBER, "number", 0 },
    { PATRON_F_STATE, "state", 0 },
    { PATRON_F_SALUTATION, "salutation", 0 },
    { PATRON_F_TITLE, "title", 0 },
    { PATRON_F_FIRST_NAME, "first_name", 0 },
    { PATRON_F_LAST_NAME, "last_name", 0 },
    { PATRON_F_COMPANY, "company", 0 },
    { PATRON_F_EMAIL, "email", 0 },
    { PATRON_F_PHONE, "phone", 0 },
    { PATRON_F_MOBILE, "mobile", 0 },
    { PATRON_F_FAX, "fax", 0 },
    { PATRON_F_BIRTH_DATE, "birth_date", 0 },
    { PATRON_F_LANGUAGE, "language", 0 },
    { PATRON_F_B2B, "b2b", 1 },
    { PATRON_F_VAT_ID, "vat_id", 0 },
    { PATRON_F_PAYMENT_TERMS, "payment_terms", 0 },
    { PATRON_F_PRICE_CATEGORY, "price_category", 0 },
    { PATRON_F_GROUP, "customer_group", 0 },
    { PATRON_F_NEWSLETTER, "newsletter", 1 },
    { PATRON_F_NOTES, "notes", 0 },
    { PATRON_F_ORDER_TEXT, "order_text", 0 },
    { PATRON_F_LOGIN_USER, "login_user", 0 },
    { PATRON_F_LOGIN_HASH, "login_hash", 0 },
    { PATRON_F_EXTERNAL_SOURCE, "external_source", 0 },
    { PATRON_F_EXTERNAL_ID, "external_id", 0 },
    { PATRON_F_LOCKED, "locked", 1 },
    { PATRON_F_LOCK_REASON, "lock_reason", 0 },
    { PATRON_F_LOCKED_AT, "locked_at", 1 },
    { PATRON_F_CREATED_AT, "created_at", 1 },
    { PATRON_F_UPDATED_AT, "updated_at", 1 },
    { PATRON_F_REVISION, "revision", 1 },
    { PATRON_F_MERGED_INTO, "merged_into", 1 },
};
#define N_CUSTOMER_COLUMNS ((int)(sizeof customer_columns / sizeof customer_columns[0]))

/* customer_addresses, in column order after (customer_id, position). */
static const psq_column address_columns[] = {
    { PATRON_A_LABEL, "label", 0 },
    { PATRON_A_SALUTATION, "salutation", 0 },
    { PATRON_A_FIRST_NAME, "first_name", 0 },
    { PATRON_A_LAST_NAME, "last_name", 0 },
    { PATRON_A_COMPANY, "company", 0 },
    { PATRON_A_STREET, "street", 0 },
    { PATRON_A_HOUSE_NUMBER, "house_number", 0 },
    { PATRON_A_ADDITION, "address_addition", 0 },
    { PATRON_A_POSTAL_CODE, "postal_code", 0 },
    { PATRON_A_CITY, "city", 0 },
    { PATRON_A_STATE, "state", 0 },
    { PATRON_A_COUNTRY, "country", 0 },
    { PATRON_A_PHONE, "phone", 0 },
    { PATRON_A_DEFAULT, "is_default", 1 },
    { PATRON_A_BILLING, "billing", 0 },
    { PATRON_A_VAT_ID, "vat_id", 0 },
};
#define N_ADDRESS_COLUMNS ((int)(sizeof address_columns / sizeof address_columns[0]))

/* The field ids the columns above cover: every id below these has a column
 * (PATRON_F_ID is the primary key). */
#define KNOWN_FIELD_END (PATRON_F_MERGED_INTO + 1)
#define KNOWN_ADDR_END (PATRON_A_VAT_ID + 1)

static const char *const fixed_sql[ST__COUNT] = {
    [ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [ST_BEGIN_DEFERRED] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT patron_call",
    [ST_RELEASE] = "RELEASE patron_call",
    [ST_ROLLBACK_TO] = "ROLLBACK TO patron_call",
    [ST_CUST_DELETE] = "DELETE FROM @customers WHERE id = ?1",
    [ST_ADDR_DELETE] = "DELETE FROM @customer_addresses WHERE customer_id = ?1",
    [ST_TAG_INSERT] = "INSERT INTO @customer_tags(customer_id, position, tag) VALUES (?1, ?2, ?3)",
    [ST_TAG_SELECT] = "SELECT tag FROM @customer_tags WHERE customer_id = ?1 ORDER BY position",
    [ST_TAG_DELETE] = "DELETE FROM @customer_tags WHERE customer_id = ?1",
    [ST_PROP_INSERT] = "INSERT INTO @customer_properties(customer_id, position, key, value) "
                       "VALUES (?1, ?2, ?3, ?4)",
    [ST_PROP_SELECT] = "SELECT key, value FROM @customer_properties WHERE customer_id = ?1 "
                       "ORDER BY position",
    [ST_PROP_DELETE] = "DELETE FROM @customer_properties WHERE customer_id = ?1",
    [ST_EXTRA_INSERT] = "INSERT OR REPLACE INTO @customer_extra(customer_id, address_position, "
                        "field, value) VALUES (?1, ?2, ?3, ?4)",
    [ST_EXTRA_SELECT] = "SELECT address_position, field, value FROM @customer_extra "
                        "WHERE customer_id = ?1 ORDER BY address_position, field",
    [ST_EXTRA_DELETE] = "DELETE FROM @customer_extra WHERE customer_id = ?1",
    [ST_KEY_INSERT] = "INSERT OR IGNORE INTO @customer_keys(kind, value, customer_id) "
                      "VALUES (?1, ?2, ?3)",
    [ST_KEY_DELETE] = "DELETE FROM @customer_keys WHERE customer_id = ?1",
    [ST_KEY_DELETE_ONE] = "DELETE FROM @customer_keys WHERE kind = ?1 AND value = ?2 "
                          "AND customer_id = ?3",
    [ST_KEY_OF] = "SELECT kind, value FROM @customer_keys WHERE customer_id = ?1",
    [ST_KEY_LOOKUP] = "SELECT customer_id FROM @customer_keys WHERE kind = ?1 AND value = ?2 "
                      "ORDER BY customer_id",
    /* kinds not counted in key_counts: an index-only range of the keys
     * table's primary key (kind, value, id) */
    [ST_KEY_COUNT] = "SELECT count(*) FROM @customer_keys WHERE kind = ?1 AND value = ?2",
    /* the counted kinds (PSQ_COUNTED_KINDS): one row of key_counts */
    [ST_KEY_COUNTED] = "SELECT n FROM @key_counts WHERE kind = ?1 AND value = ?2",
    /* ... kept with every key of a counted kind written or deleted */
    [ST_COUNT_UP] = "INSERT INTO @key_counts(kind, value, n) VALUES (?1, ?2, 1) "
                    "ON CONFLICT(kind, value) DO UPDATE SET n = n + 1",
    [ST_COUNT_DOWN] = "UPDATE @key_counts SET n = n - 1 WHERE kind = ?1 AND value = ?2",
    [ST_COUNT_DROP] = "DELETE FROM @key_counts WHERE kind = ?1 AND value = ?2 AND n <= 0",
    /* every counted key of customer ?1, before its keys are deleted */
    [ST_COUNT_DOWN_ALL] = "UPDATE @key_counts SET n = n - 1 WHERE (kind, value) IN (SELECT kind, value "
                          "FROM @customer_keys WHERE customer_id = ?1 AND kind IN (" PSQ_COUNTED_KINDS "))",
    [ST_COUNT_DROP_ALL] = "DELETE FROM @key_counts WHERE n <= 0 AND (kind, value) IN (SELECT kind, value "
                          "FROM @customer_keys WHERE customer_id = ?1 AND kind IN (" PSQ_COUNTED_KINDS "))",
    [ST_SCAN] = "SELECT id FROM @customers WHERE id > ?1"
                " AND (?2 IS NULL OR state = ?2)"
                " AND (?3 IS NULL OR coalesce(locked, 0) = ?3)"
                " AND (?4 IS NULL OR customer_group = ?4)"
                " ORDER BY id LIMIT ?5",
    [ST_COUNTER_BUMP] = "UPDATE @counters SET value = value + 1 WHERE name = 'customer_number'",
    [ST_COUNTER_GET] = "SELECT value FROM @counters WHERE name = 'customer_number'",
    [ST_COUNTER_SET] = "UPDATE @counters SET value = ?1 WHERE name = 'customer_number'",
    [ST_UNCLAIM] = "DELETE FROM @used_numbers WHERE number = ?1",
    [ST_JOURNAL_DELETE] = "DELETE FROM @journal WHERE id = ?1",
    [ST_CLAIM] = "INSERT OR IGNORE INTO @used_numbers(number) VALUES (?1)",
    [ST_JOURNAL_INSERT] = "INSERT INTO @journal(time, kind, customer_id, undone_by, payload) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_JOURNAL_GET] = "SELECT id, time, kind, customer_id, undone_by, payload FROM @journal "
                       "WHERE id = ?1",
    [ST_JOURNAL_SCAN] = "SELECT id, time, kind, customer_id, undone_by, payload FROM @journal "
                        "WHERE id > ?1 ORDER BY id LIMIT ?2",
    [ST_JOURNAL_UNDONE] = "UPDATE @journal SET undone_by = ?2 WHERE id = ?1",
    [ST_JOURNAL_REWRITE] = "UPDATE @journal SET payload = ?2 WHERE id = ?1",
    [ST_META_GET] = "SELECT key, value FROM @meta WHERE key = ?1",
    [ST_META_SET] = "INSERT INTO @meta(key, value) VALUES (?1, ?2) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [ST_META_DELETE] = "DELETE FROM @meta WHERE key = ?1",
    [ST_META_SCAN] = "SELECT key, value FROM @meta WHERE key >= ?1 AND key < ?2 ORDER BY key",
    [ST_META_SCAN_FROM] = "SELECT key, value FROM @meta WHERE key >= ?1 ORDER BY key",
    /* psq_flush: the holders a call added to counted keys */
    [ST_COUNT_ADD] = "INSERT INTO @key_counts(kind, value, n) VALUES (?1, ?2, ?3) "
                     "ON CONFLICT(kind, value) DO UPDATE SET n = n + excluded.n",
    /* ... or, if a key row was there before (never for a new customer's
     * id, unless the file was changed behind the store), counted afresh */
    [ST_COUNT_RECOUNT] = "INSERT OR REPLACE INTO @key_counts(kind, value, n) "
                         "SELECT ?1, ?2, count(*) FROM @customer_keys WHERE kind = ?1 AND value = ?2",
    [ST_FLUSH_SAVEPOINT] = "SAVEPOINT patron_flush",
    [ST_FLUSH_RELEASE] = "RELEASE patron_flush",
    [ST_FLUSH_ROLLBACK_TO] = "ROLLBACK TO patron_flush",
};

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

/* Record "<what>: <SQLite's message>" and map `rc` to a patron_status.  The
 * message of SQLite names tables and columns, never bound values, so a
 * password hash cannot end up in it. */
int psq_fail(psq *s, int rc, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof s->err && rc != SQLITE_OK)
        snprintf(s->err + n, sizeof s->err - (size_t)n, ": %s", sqlite3_errmsg(s->db));
    return psq_status_of(rc);
}

/* A failure that is not SQLite's: keep the message, return `status`. */
static int psq_error(psq *s, int status, const char *fmt, ...) PSQ_PRINTF(3, 4);
static int psq_error(psq *s, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return status;
}

/* ------------------------------------------------------------------------ */
/* Statements                                                                */

/* Zeroed memory from the library's allocator (patron_set_allocator), so a
 * host's allocator sees the store's memory too; free with patron_free. */
static void *psq_calloc(size_t n, size_t size)
{
    void *p;
    if (size && n > SIZE_MAX / size)
        return NULL;
    p = patron_malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

enum sql_list { LIST_NAMES, LIST_PARAMS, LIST_ASSIGN };

/* head, then the columns as "a,b" (names), "?k,?k+1" (parameters from
 * `first`) or "a = ?k,b = ?k+1" (assignments), then tail.  NULL if out of
 * memory. */
static char *build_sql(const char *head, const psq_column *cols, int n, enum sql_list list,
                       int first, const char *tail)
{
    size_t cap = strlen(head) + strlen(tail) + 1;
    char *buf, *p;
    int i;

    for (i = 0; i < n; i++)
        cap += strlen(cols[i].name) + 24;
    buf = patron_malloc(cap);
    if (!buf)
        return NULL;
    p = buf;
    p += sprintf(p, "%s", head);
    for (i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        switch (list) {
        case LIST_NAMES:
            p += sprintf(p, "%s", cols[i].name);
            break;
        case LIST_PARAMS:
            p += sprintf(p, "?%d", first + i);
            break;
        case LIST_ASSIGN:
            p += sprintf(p, "%s = ?%d", cols[i].name, first + i);
            break;
        }
    }
    sprintf(p, "%s", tail);
    return buf;
}

static char *concat_free(char *a, char *b)
{
    char *all = NULL;
    if (a && b) {
        all = patron_malloc(strlen(a) + strlen(b) + 1);
        if (all) {
            strcpy(all, a);
            strcat(all, b);
        }
    }
    patron_free(a);
    patron_free(b);
    return all;
}

/* The generated statement in `tmpl` (from build_sql), prefixed; frees tmpl. */
static char *prefixed(psq *s, char *tmpl)
{
    char *out = tmpl ? psq_expand(tmpl, s->prefix) : NULL;
    patron_free(tmpl);
    return out;
}

/* head, then PSQ_FLUSH_ROWS rows "(?,?,?)", then tail.  NULL if out of
 * memory. */
static char *rows_sql(const char *head, const char *tail)
{
    size_t cap = strlen(head) + strlen(tail) + PSQ_FLUSH_ROWS * 8 + 1;
    char *buf = patron_malloc(cap), *p;
    int i;

    if (!buf)
        return NULL;
    p = buf + sprintf(buf, "%s", head);
    for (i = 0; i < PSQ_FLUSH_ROWS; i++)
        p += sprintf(p, "%s(?,?,?)", i ? "," : "");
    sprintf(p, "%s", tail);
    return buf;
}

static int generate_sql(psq *s)
{
    char tail[64];
    int i;

    s->sql[ST_CUST_INSERT] = prefixed(s, concat_free(
        build_sql("INSERT INTO @customers (", customer_columns, N_CUSTOMER_COLUMNS, LIST_NAMES, 0,
                  ") VALUES ("),
        build_sql("", customer_columns, N_CUSTOMER_COLUMNS, LIST_PARAMS, 1, ")")));
    snprintf(tail, sizeof tail, " WHERE id = ?%d", N_CUSTOMER_COLUMNS + 1);
    s->sql[ST_CUST_UPDATE] = prefixed(s, build_sql("UPDATE @customers SET ", customer_columns,
                                                   N_CUSTOMER_COLUMNS, LIST_ASSIGN, 1, tail));
    s->sql[ST_CUST_SELECT] = prefixed(s, build_sql("SELECT id,", customer_columns,
                                                   N_CUSTOMER_COLUMNS, LIST_NAMES, 0,
                                                   " FROM @customers WHERE id = ?1"));
    s->sql[ST_ADDR_INSERT] = prefixed(s, concat_free(
        build_sql("INSERT INTO @customer_addresses (customer_id,position,", address_columns,
                  N_ADDRESS_COLUMNS, LIST_NAMES, 0, ") VALUES (?1,?2,"),
        build_sql("", address_columns, N_ADDRESS_COLUMNS, LIST_PARAMS, 3, ")")));
    s->sql[ST_ADDR_SELECT] = prefixed(s,
        build_sql("SELECT ", address_columns, N_ADDRESS_COLUMNS, LIST_NAMES, 0,
                  " FROM @customer_addresses WHERE customer_id = ?1 ORDER BY position"));
    s->sql[ST_KEY_INSERT_MANY] = prefixed(s, rows_sql("INSERT OR IGNORE INTO @customer_keys(kind, value, "
                                                      "customer_id) VALUES ", ""));
    s->sql[ST_COUNT_ADD_MANY] = prefixed(s, rows_sql("INSERT INTO @key_counts(kind, value, n) VALUES ",
                                                     " ON CONFLICT(kind, value) DO UPDATE SET n = n + "
                                                     "excluded.n"));
    for (i = 0; i < ST__COUNT; i++) {
        if (fixed_sql[i])
            s->sql[i] = psq_expand(fixed_sql[i], s->prefix);
        if (!s->sql[i])
            return -1;
    }
    return 0;
}

/* The prepared statement `id`, prepared now if this is its first use. */
static sqlite3_stmt *stmt(psq *s, enum psq_stmt id, int *rc_out)
{
    int rc;
    const char *sql;

    if (s->st[id])
        return s->st[id];
    sql = s->sql[id];
    rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[id], NULL);
    if (rc != SQLITE_OK) {
        s->st[id] = NULL;
        *rc_out = rc;
        return NULL;
    }
    return s->st[id];
}

/* Make a statement ready for the next use. */
static void done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Step a statement that returns no rows; reset it.  SQLITE_DONE -> OK. */
static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    done(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Is `v` an integer in canonical decimal form ("0", "-12", no '+', no
 * leading zeros, no spaces) that fits an int64?  Then it can be stored as an
 * INTEGER and read back as the same text. */
static int canonical_int(const char *v, sqlite3_int64 *out)
{
    const char *p = v;
    char *end;
    long long n;

    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return 0;
    if (*p == '0' && (p[1] != '\0' || p != v))
        return 0;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || *end)
        return 0;
    *out = n;
    return 1;
}

static int bind_value(sqlite3_stmt *st, int idx, const char *v, int is_int)
{
    sqlite3_int64 n;
    if (!v)
        return sqlite3_bind_null(st, idx);
    if (is_int) {
        if (canonical_int(v, &n))
            return sqlite3_bind_int64(st, idx, n);
        /* Not an int64 in canonical form (a revision above INT64_MAX, a
         * boolean of a future format): a BLOB is the one type an INTEGER
         * column keeps as given, where text would turn into a REAL. */
        return sqlite3_bind_blob(st, idx, v, (int)strlen(v), SQLITE_STATIC);
    }
    return sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                      */

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9u;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBu;
    x ^= x >> 31;
    return x;
}

/* A 64-bit hash of the bytes of `value`: 8 bytes at a time (little-endian,
 * the same on every machine), each block mixed in with a multiply and
 * rotation, the length folded in, a SplitMix64 finaliser at the end.  Part
 * of the file format: never change it. */
int64_t psq_key_hash(const char *value)
{
    const unsigned char *p = (const unsigned char *)value;
    size_t n = strlen(value), i;
    uint64_t h = 0x9E3779B97F4A7C15u ^ ((uint64_t)n * 0xC2B2AE3D27D4EB4Fu), k;
    unsigned char tail[8];

    for (i = 0; i + 8 <= n; i += 8) {
        k = rd64(p + i) * 0x87C37B91114253D5u;
        k = (k << 31) | (k >> 33);
        h = ((h ^ k) << 27 | (h ^ k) >> 37) * 5 + 0x52DCE729;
    }
    if (i < n) {
        memset(tail, 0, sizeof tail);
        memcpy(tail, p + i, n - i);
        k = rd64(tail) * 0x87C37B91114253D5u;
        k = (k << 31) | (k >> 33);
        h ^= k;
    }
    return (int64_t)mix64(h);
}

/* Bind a key's value as the table keeps it (see PSQ_HASHED_KINDS). */
static void bind_key(sqlite3_stmt *st, int kind_idx, int kind, const char *value)
{
    sqlite3_bind_int(st, kind_idx, kind);
    if (kind >= PSQ_HASHED_KINDS)
        sqlite3_bind_int64(st, kind_idx + 1, psq_key_hash(value));
    else
        sqlite3_bind_text(st, kind_idx + 1, value, -1, SQLITE_STATIC);
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                              */

static int exec_stmt(psq *s, enum psq_stmt id)
{
    int rc = SQLITE_OK;
    sqlite3_stmt *st = stmt(s, id, &rc);
    if (!st)
        return rc;
    return run(st);
}

/* ---- the writes a call gathers ---------------------------------------- */

/* A create inserts its customer row and addresses at once (the id comes
 * from the insert) and its few exact keys (number, external reference,
 * email, login: looked up by the creates after it), but only notes its
 * blocking keys (kinds from PSQ_HASHED_KINDS on, a dozen per customer) in
 * s->pend; the customer number counter is read once per call and moved on
 * in memory.  psq_flush() writes them: the key rows sorted by (kind, value,
 * id), PSQ_FLUSH_ROWS per statement, then per counted key one row of
 * key_counts with the holders the call added, then the counter.  An import
 * then runs a few statements per customer instead of some thirty, and
 * writes the key index in its own order.
 *
 * Everything that could see the difference flushes first: commit (before
 * COMMIT, or the end of the call in a host transaction), a savepoint
 * (need_savepoint: the notes before it then cover the rows), update,
 * remove, a lookup of a blocking key and count.  rollback() drops what is
 * pending; the undo of an insert deletes the rows of its id and lowers the
 * counts of the keys it finds — always both or neither flushed, as a flush
 * inside a host transaction is one savepoint of its own. */

static int pkey_cmp(const void *a, const void *b)
{
    const psq_pkey *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Room for one more pending key; 0 if there is none (out of memory: the
 * key is then written at once). */
static int pend_room(psq *s)
{
    size_t cap;
    psq_pkey *p;
    if (s->n_pend < s->cap_pend)
        return 1;
    cap = s->cap_pend ? s->cap_pend * 2 : 1024;
    if (cap > SIZE_MAX / sizeof *p || !(p = patron_malloc(cap * sizeof *p)))
        return 0;
    if (s->n_pend)
        memcpy(p, s->pend, s->n_pend * sizeof *p);
    patron_free(s->pend);
    s->pend = p;
    s->cap_pend = cap;
    return 1;
}

/* Forget what the call gathered (it is rolled back). */
static void pend_drop(psq *s)
{
    s->n_pend = 0;
    s->ctr_have = 0;
    s->ctr_dirty = 0;
}

static int exec_stmt(psq *s, enum psq_stmt id);

/* Add `n` holders to counted key (kind, hash): through the row batch `b`
 * (PSQ_FLUSH_ROWS rows of the multi-row statement), run when full. */
typedef struct count_batch {
    psq_pkey row[PSQ_FLUSH_ROWS]; /* id: the holders added */
    int n;
} count_batch;

static int count_batch_run(psq *s, count_batch *b, int all)
{
    int rc = SQLITE_OK, i;
    sqlite3_stmt *st;

    if (b->n == PSQ_FLUSH_ROWS) {
        if (!(st = stmt(s, ST_COUNT_ADD_MANY, &rc)))
            return rc;
        for (i = 0; i < b->n; i++) {
            sqlite3_bind_int(st, 3 * i + 1, b->row[i].kind);
            sqlite3_bind_int64(st, 3 * i + 2, b->row[i].hash);
            sqlite3_bind_int64(st, 3 * i + 3, b->row[i].id);
        }
        rc = run(st);
        b->n = 0;
        return rc;
    }
    if (!all)
        return SQLITE_OK;
    for (i = 0; i < b->n && rc == SQLITE_OK; i++) {
        if (!(st = stmt(s, ST_COUNT_ADD, &rc)))
            break;
        sqlite3_bind_int(st, 1, b->row[i].kind);
        sqlite3_bind_int64(st, 2, b->row[i].hash);
        sqlite3_bind_int64(st, 3, b->row[i].id);
        rc = run(st);
    }
    b->n = 0;
    return rc;
}

static int flush_rows(psq *s)
{
    count_batch cb;
    size_t n = 0, i, j, nb;
    int rc = SQLITE_OK, recount = 0;
    sqlite3_stmt *st;

    if (s->ctr_dirty) {
        if (!(st = stmt(s, ST_COUNTER_SET, &rc)))
            return rc;
        sqlite3_bind_int64(st, 1, s->ctr_value);
        if ((rc = run(st)) != SQLITE_OK)
            return rc;
        if (sqlite3_changes(s->db) != 1)
            return SQLITE_NOTFOUND;
        s->ctr_dirty = 0;
    }
    if (!s->n_pend)
        return SQLITE_OK;
    /* sorted, each (kind, value, id) once (a record may give a key twice) */
    qsort(s->pend, s->n_pend, sizeof *s->pend, pkey_cmp);
    for (i = 0; i < s->n_pend; i++)
        if (n == 0 || pkey_cmp(&s->pend[n - 1], &s->pend[i]) != 0)
            s->pend[n++] = s->pend[i];
    if (s->flush_down)
        for (i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
            psq_pkey t = s->pend[i];
            s->pend[i] = s->pend[j];
            s->pend[j] = t;
        }
    for (i = 0; i < n && rc == SQLITE_OK; i += nb) {
        nb = n - i >= PSQ_FLUSH_ROWS ? PSQ_FLUSH_ROWS : 1;
        if (!(st = stmt(s, nb > 1 ? ST_KEY_INSERT_MANY : ST_KEY_INSERT, &rc)))
            break;
        for (j = 0; j < nb; j++) {
            sqlite3_bind_int(st, (int)(3 * j + 1), s->pend[i + j].kind);
            sqlite3_bind_int64(st, (int)(3 * j + 2), s->pend[i + j].hash);
            sqlite3_bind_int64(st, (int)(3 * j + 3), s->pend[i + j].id);
        }
        rc = run(st);
        if (rc == SQLITE_OK && sqlite3_changes(s->db) != (int)nb)
            recount = 1; /* a row was there already */
    }
    /* the counted keys: the holders added, one group of rows per key */
    cb.n = 0;
    for (i = 0; i < n && rc == SQLITE_OK; i = j) {
        for (j = i + 1; j < n && s->pend[j].kind == s->pend[i].kind &&
                        s->pend[j].hash == s->pend[i].hash; j++)
            ;
        if (!psq_kind_counted(s->pend[i].kind))
            continue;
        if (recount) {
            if (!(st = stmt(s, ST_COUNT_RECOUNT, &rc)))
                break;
            sqlite3_bind_int(st, 1, s->pend[i].kind);
            sqlite3_bind_int64(st, 2, s->pend[i].hash);
            rc = run(st);
            continue;
        }
        cb.row[cb.n].kind = s->pend[i].kind;
        cb.row[cb.n].hash = s->pend[i].hash;
        cb.row[cb.n].id = (int64_t)(j - i);
        cb.n++;
        rc = count_batch_run(s, &cb, 0);
    }
    if (rc == SQLITE_OK)
        rc = count_batch_run(s, &cb, 1);
    if (rc == SQLITE_OK) {
        s->n_pend = 0;
        s->flush_down = !s->flush_down;
    }
    return rc;
}

/* Write what the call gathered (see above).  Inside a host transaction
 * without the call's savepoint, under a savepoint of its own: a failure
 * leaves nothing of it. */
static int psq_flush(psq *s, const char *what)
{
    int rc, sp = 0;

    if (!s->n_pend && !s->ctr_dirty)
        return 0;
    if (s->tx == TX_HOST && !s->sp_open) {
        if ((rc = exec_stmt(s, ST_FLUSH_SAVEPOINT)) != SQLITE_OK) {
            pend_drop(s);
            return psq_fail(s, rc, "%s (savepoint)", what);
        }
        sp = 1;
    }
    rc = flush_rows(s);
    if (rc == SQLITE_OK) {
        if (sp && (rc = exec_stmt(s, ST_FLUSH_RELEASE)) != SQLITE_OK) {
            pend_drop(s);
            return psq_fail(s, rc, "%s (release savepoint)", what);
        }
        return 0;
    }
    pend_drop(s);
    if (rc == SQLITE_NOTFOUND)
        psq_error(s, PATRON_E_STORE, "%s: the row 'customer_number' of table counters is missing",
                  what);
    else
        psq_fail(s, rc, "%s (keys)", what);
    if (sp && exec_stmt(s, ST_FLUSH_ROLLBACK_TO) == SQLITE_OK)
        exec_stmt(s, ST_FLUSH_RELEASE);
    return rc == SQLITE_NOTFOUND ? PATRON_E_STORE : psq_status_of(rc);
}

/* The busy handler: how a call waits for a lock another connection holds
 * (the write lock for BEGIN IMMEDIATE, the checkpoint of an erasure's
 * purge).  SQLite's own (sqlite3_busy_timeout) sleeps 1, 2, 5, 10 ... and
 * from the 12th attempt 100 ms between attempts.  A connection that writes
 * back to back — a run of merges, an import's batches — frees the write
 * lock only for the moments between its transactions, and an attempt every
 * 100 ms mostly falls inside one of them: an erasure beside a run of merges
 * of a few milliseconds each waited 0.3 to 5 s, up to the whole timeout,
 * and the merges behind it were held up as long (tests/sqlite:
 * test_erase_beside_merges).  Trying every PSQ_BUSY_STEP_US finds the first
 * gap, so the two go one after the other.  Gives up after busy_ms (then the
 * call fails with SQLITE_BUSY, "database is locked"), measured on the
 * clock, not by adding up sleeps: a loaded machine oversleeps. */
#define PSQ_BUSY_STEP_US 500

static int psq_busy(void *ctx, int attempt)
{
    psq *s = ctx;
    struct timespec now, step = { 0, PSQ_BUSY_STEP_US * 1000L };
    long long waited_ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (attempt == 0)
        s->busy_since = now;
    waited_ms = (long long)(now.tv_sec - s->busy_since.tv_sec) * 1000 +
                (now.tv_nsec - s->busy_since.tv_nsec) / 1000000;
    if (waited_ms >= s->busy_ms)
        return 0;
    nanosleep(&step, NULL);
    return 1;
}

/* Begin a transaction of our own with `stmt`, or join the host's. */
static int begin_with(psq *s, int stmt)
{
    int rc;

    if (s->tx != TX_NONE)
        return psq_error(s, PATRON_E_STATE, "begin: a transaction is already open");
    s->sp_open = 0;
    s->n_undo = 0;
    s->counter_noted = 0;
    pend_drop(s);
    if (!sqlite3_get_autocommit(s->db)) {
        /* The host has a transaction open: run inside it (see psq_undo). */
        s->tx = TX_HOST;
        return 0;
    }
    rc = exec_stmt(s, stmt);
    if (rc != SQLITE_OK)
        return psq_fail(s, rc, "begin");
    s->tx = TX_OWN;
    return 0;
}

/* A call that may write: BEGIN IMMEDIATE takes the write lock at once (two
 * writers never deadlock half-way), waiting up to the busy timeout for
 * another connection's write transaction. */
static int cb_begin(void *ctx)
{
    psq *s = ctx;
    return begin_with(s, (s->flags & PATRON_SQLITE_READONLY) ? ST_BEGIN_DEFERRED : ST_BEGIN_IMMEDIATE);
}

/* A call that only reads: a deferred BEGIN takes no lock until the first
 * read, and in WAL mode a reader then reads the last committed state while
 * a writer holds its lock — it never waits and never gets SQLITE_BUSY. */
static int cb_begin_read(void *ctx)
{
    return begin_with(ctx, ST_BEGIN_DEFERRED);
}

/* Before a write that cannot note its own undo: make sure the call has a
 * savepoint (only inside a host transaction). */
static int need_savepoint(psq *s, const char *what)
{
    int rc;
    if (s->tx != TX_HOST || s->sp_open)
        return 0;
    /* what the call gathered belongs to the notes before the savepoint */
    if ((rc = psq_flush(s, what)) != 0)
        return rc;
    rc = exec_stmt(s, ST_SAVEPOINT);
    if (rc != SQLITE_OK)
        return psq_fail(s, rc, "%s (savepoint)", what);
    s->sp_open = 1;
    return 0;
}

/* Room for one more undo note; 0 if there is none (out of memory). */
static int undo_room(psq *s)
{
    size_t cap;
    psq_undo *u;
    if (s->n_undo < s->cap_undo)
        return 1;
    cap = s->cap_undo ? s->cap_undo * 2 : 64;
    if (cap > SIZE_MAX / sizeof *u || !(u = patron_malloc(cap * sizeof *u)))
        return 0;
    if (s->n_undo)
        memcpy(u, s->undo, s->n_undo * sizeof *u);
    patron_free(s->undo);
    s->undo = u;
    s->cap_undo = cap;
    return 1;
}

/* Before a cheap write (see psq_undo): make sure its undo note will fit,
 * or else open the savepoint, which then covers the write. */
static int prepare_cheap_write(psq *s, const char *number, const char *what)
{
    if (s->tx != TX_HOST || s->sp_open)
        return 0;
    if (undo_room(s) && (!number || strlen(number) < sizeof s->undo[0].number))
        return 0;
    return need_savepoint(s, what);
}

/* After a cheap write: note how to undo it (if no savepoint covers it).
 * prepare_cheap_write() made room for it. */
static void note_undo(psq *s, enum psq_undo_kind kind, int64_t v, const char *number)
{
    psq_undo *u;
    if (s->tx != TX_HOST || s->sp_open)
        return;
    /* the counter goes back to its value before the call's first bump */
    if (kind == UNDO_COUNTER) {
        if (s->counter_noted)
            return;
        s->counter_noted = 1;
    }
    u = &s->undo[s->n_undo++];
    u->kind = kind;
    u->v = v;
    u->number[0] = '\0';
    if (number)
        memcpy(u->number, number, strlen(number) + 1);
}

static int delete_children(psq *s, sqlite3_int64 id, const char *what);

static int undo_one(psq *s, const psq_undo *u)
{
    int rc = SQLITE_OK;
    sqlite3_stmt *st;

    switch (u->kind) {
    case UNDO_INSERT:
        if (!(st = stmt(s, ST_CUST_DELETE, &rc)))
            return rc;
        sqlite3_bind_int64(st, 1, u->v);
        if ((rc = run(st)) != SQLITE_OK)
            return rc;
        return delete_children(s, u->v, "rollback") == 0 ? SQLITE_OK : SQLITE_ERROR;
    case UNDO_COUNTER:
        if (!(st = stmt(s, ST_COUNTER_SET, &rc)))
            return rc;
        sqlite3_bind_int64(st, 1, u->v);
        return run(st);
    case UNDO_CLAIM:
        if (!(st = stmt(s, ST_UNCLAIM, &rc)))
            return rc;
        sqlite3_bind_text(st, 1, u->number, -1, SQLITE_STATIC);
        return run(st);
    case UNDO_JOURNAL:
        if (!(st = stmt(s, ST_JOURNAL_DELETE, &rc)))
            return rc;
        sqlite3_bind_int64(st, 1, u->v);
        return run(st);
    }
    return SQLITE_OK;
}

static int cb_commit(void *ctx)
{
    psq *s = ctx;
    int rc;

    if (s->tx != TX_NONE && (rc = psq_flush(s, "commit")) != 0)
        return rc;
    switch (s->tx) {
    case TX_OWN:
        rc = exec_stmt(s, ST_COMMIT);
        if (rc != SQLITE_OK) {
            /* SQLite may have rolled back by itself (disk full, I/O error). */
            if (sqlite3_get_autocommit(s->db))
                s->tx = TX_NONE;
            return psq_fail(s, rc, "commit");
        }
        break;
    case TX_HOST:
        if (s->sp_open) {
            rc = exec_stmt(s, ST_RELEASE);
            if (rc != SQLITE_OK)
                return psq_fail(s, rc, "commit (release savepoint)");
            s->sp_open = 0;
        }
        s->n_undo = 0;
        s->counter_noted = 0;
        break;
    case TX_NONE:
        return psq_error(s, PATRON_E_STATE, "commit: no transaction is open");
    }
    s->tx = TX_NONE;
    return 0;
}

static int cb_rollback(void *ctx)
{
    psq *s = ctx;
    int rc = SQLITE_OK;
    enum psq_tx tx = s->tx;
    int sp_open = s->sp_open;
    size_t n_undo = s->n_undo, i;

    s->tx = TX_NONE;
    s->sp_open = 0;
    s->n_undo = 0;
    s->counter_noted = 0;
    pend_drop(s);
    if (sqlite3_get_autocommit(s->db)) {
        /* Nothing open any more: SQLite already rolled back (an I/O error,
         * SQLITE_FULL), or the host ended its own transaction. */
        if (tx == TX_HOST && (sp_open || n_undo))
            return psq_error(s, PATRON_E_STORE,
                             "rollback: the host's transaction was already rolled back");
        return 0;
    }
    if (tx == TX_OWN) {
        rc = exec_stmt(s, ST_ROLLBACK);
        if (rc != SQLITE_OK)
            return psq_fail(s, rc, "rollback");
    } else if (tx == TX_HOST) {
        if (sp_open) {
            rc = exec_stmt(s, ST_ROLLBACK_TO);
            if (rc == SQLITE_OK)
                rc = exec_stmt(s, ST_RELEASE);
        }
        for (i = n_undo; i > 0 && rc == SQLITE_OK; i--)
            rc = undo_one(s, &s->undo[i - 1]);
        if (rc != SQLITE_OK) {
            /* The call cannot be undone on its own: give up the host's whole
             * transaction rather than leave half of the call in it. */
            psq_fail(s, rc, "rollback: the call could not be undone, so the host's whole "
                            "transaction was rolled back");
            exec_stmt(s, ST_ROLLBACK);
            return PATRON_E_STORE;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Records                                                                   */

/* One holder more (up) or fewer of a key of a counted kind (key_counts). */
static int count_key(psq *s, int kind, sqlite3_value *stored, const char *value, int up)
{
    int rc = SQLITE_OK, i;
    enum psq_stmt ids[2] = { up ? ST_COUNT_UP : ST_COUNT_DOWN, ST_COUNT_DROP };

    for (i = 0; i < (up ? 1 : 2) && rc == SQLITE_OK; i++) {
        sqlite3_stmt *st = stmt(s, ids[i], &rc);
        if (!st)
            break;
        if (stored) {
            sqlite3_bind_int(st, 1, kind);
            sqlite3_bind_value(st, 2, stored);
        } else {
            bind_key(st, 1, kind, value);
        }
        rc = run(st);
    }
    return rc;
}

/* Write the keys of `id` (but those in `skip`); with `defer`, note its
 * blocking keys for psq_flush instead (a new customer's, in a call). */
static int write_keys(psq *s, sqlite3_int64 id, const patron_key *keys, size_t n_keys,
                      const unsigned char *skip, int defer)
{
    sqlite3_stmt *st;
    size_t i;
    int rc = SQLITE_OK;

    if (!n_keys)
        return 0;
    if (!(st = stmt(s, ST_KEY_INSERT, &rc)))
        return psq_fail(s, rc, "save keys");
    for (i = 0; i < n_keys; i++) {
        if (!keys[i].value || (skip && skip[i]))
            continue;
        if (defer && keys[i].kind >= PSQ_HASHED_KINDS && pend_room(s)) {
            psq_pkey *p = &s->pend[s->n_pend++];
            p->kind = keys[i].kind;
            p->hash = psq_key_hash(keys[i].value);
            p->id = id;
            continue;
        }
        bind_key(st, 1, keys[i].kind, keys[i].value);
        sqlite3_bind_int64(st, 3, id);
        if ((rc = run(st)) != SQLITE_OK)
            return psq_fail(s, rc, "save keys");
        /* a new row (not one ignored as there already) is one holder more */
        if (psq_kind_counted(keys[i].kind) && sqlite3_changes(s->db) == 1 &&
            (rc = count_key(s, keys[i].kind, NULL, keys[i].value, 1)) != SQLITE_OK)
            return psq_fail(s, rc, "save keys");
    }
    return 0;
}

/* Everything of a record but its row in customers and its keys. */
static int write_children(psq *s, const patron_customer *c, sqlite3_int64 id)
{
    sqlite3_stmt *st;
    size_t i, n;
    int rc = SQLITE_OK, j, f;

    n = patron_customer_address_count(c);
    if (n) {
        if (!(st = stmt(s, ST_ADDR_INSERT, &rc)))
            return psq_fail(s, rc, "save address");
        for (i = 0; i < n; i++) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
            for (j = 0; j < N_ADDRESS_COLUMNS && rc == SQLITE_OK; j++)
                rc = bind_value(st, j + 3,
                                patron_customer_address_get(c, i, address_columns[j].field),
                                address_columns[j].is_int);
            if (rc == SQLITE_OK)
                rc = run(st);
            else
                done(st);
            if (rc != SQLITE_OK)
                return psq_fail(s, rc, "save address %zu", i + 1);
        }
    }

    n = patron_customer_tag_count(c);
    if (n) {
        if (!(st = stmt(s, ST_TAG_INSERT, &rc)))
            return psq_fail(s, rc, "save tag");
        for (i = 0; i < n; i++) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
            sqlite3_bind_text(st, 3, patron_customer_tag_get(c, i), -1, SQLITE_STATIC);
            if ((rc = run(st)) != SQLITE_OK)
                return psq_fail(s, rc, "save tag");
        }
    }

    n = patron_customer_prop_count(c);
    if (n) {
        if (!(st = stmt(s, ST_PROP_INSERT, &rc)))
            return psq_fail(s, rc, "save property");
        for (i = 0; i < n; i++) {
            const char *k = NULL, *v = NULL;
            if (patron_customer_prop_at(c, &k, &v, i) != PATRON_OK || !k)
                continue;
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
            sqlite3_bind_text(st, 3, k, -1, SQLITE_STATIC);
            bind_value(st, 4, v, 0);
            if ((rc = run(st)) != SQLITE_OK)
                return psq_fail(s, rc, "save property");
        }
    }

    /* Fields of a libpatron newer than this store's schema. */
    if (s->rt_field_end > s->known_field_end || s->rt_addr_end > s->known_addr_end) {
        size_t na = patron_customer_address_count(c);
        if (!(st = stmt(s, ST_EXTRA_INSERT, &rc)))
            return psq_fail(s, rc, "save field");
        for (f = s->known_field_end; f < s->rt_field_end; f++) {
            const char *v = patron_customer_get(c, f);
            if (!v)
                continue;
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, -1);
            sqlite3_bind_int(st, 3, f);
            sqlite3_bind_text(st, 4, v, -1, SQLITE_STATIC);
            if ((rc = run(st)) != SQLITE_OK)
                return psq_fail(s, rc, "save field %d", f);
        }
        for (i = 0; i < na; i++) {
            for (f = s->known_addr_end; f < s->rt_addr_end; f++) {
                const char *v = patron_customer_address_get(c, i, f);
                if (!v)
                    continue;
                sqlite3_bind_int64(st, 1, id);
                sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
                sqlite3_bind_int(st, 3, f);
                sqlite3_bind_text(st, 4, v, -1, SQLITE_STATIC);
                if ((rc = run(st)) != SQLITE_OK)
                    return psq_fail(s, rc, "save address field %d", f);
            }
        }
    }

    return 0;
}

static int bind_customer(sqlite3_stmt *st, const patron_customer *c)
{
    int i, rc = SQLITE_OK;
    for (i = 0; i < N_CUSTOMER_COLUMNS && rc == SQLITE_OK; i++)
        rc = bind_value(st, i + 1, patron_customer_get(c, customer_columns[i].field),
                        customer_columns[i].is_int);
    return rc;
}

static int cb_insert(void *ctx, const patron_customer *c, const patron_key *keys, size_t n_keys,
                     int64_t *id_out)
{
    psq *s = ctx;
    int rc = SQLITE_OK, st_rc;
    sqlite3_stmt *st = stmt(s, ST_CUST_INSERT, &rc);
    sqlite3_int64 id;

    if (!st)
        return psq_fail(s, rc, "insert");
    if ((st_rc = prepare_cheap_write(s, NULL, "insert")) != 0)
        return st_rc;
    rc = bind_customer(st, c);
    if (rc == SQLITE_OK)
        rc = run(st);
    else
        done(st);
    if (rc != SQLITE_OK)
        return psq_fail(s, rc, "insert");
    id = sqlite3_last_insert_rowid(s->db);
    /* From here on, an undo removes the row and whatever children and keys
     * were written before a failure. */
    note_undo(s, UNDO_INSERT, id, NULL);
    st_rc = write_children(s, c, id);
    if (!st_rc)
        st_rc = write_keys(s, id, keys, n_keys, NULL, s->tx != TX_NONE);
    if (st_rc)
        return st_rc;
    *id_out = id;
    return 0;
}

static int uncount_keys(psq *s, sqlite3_int64 id, const char *what);

/* Delete the children of `id`, and its keys unless `keep_keys` (their
 * counts first). */
static int delete_children_ex(psq *s, sqlite3_int64 id, int keep_keys, const char *what)
{
    static const enum psq_stmt dels[] = { ST_ADDR_DELETE, ST_TAG_DELETE, ST_PROP_DELETE,
                                          ST_EXTRA_DELETE, ST_KEY_DELETE };
    size_t i, n = sizeof dels / sizeof dels[0] - (keep_keys ? 1 : 0);
    int rc = SQLITE_OK;

    if (!keep_keys && (rc = uncount_keys(s, id, what)) != 0)
        return rc;

    for (i = 0; i < n; i++) {
        sqlite3_stmt *st = stmt(s, dels[i], &rc);
        if (!st)
            return psq_fail(s, rc, "%s", what);
        sqlite3_bind_int64(st, 1, id);
        if ((rc = run(st)) != SQLITE_OK)
            return psq_fail(s, rc, "%s", what);
    }
    return 0;
}

/* Before the keys of `id` go: its counted keys one holder fewer. */
static int uncount_keys(psq *s, sqlite3_int64 id, const char *what)
{
    static const enum psq_stmt ids[] = { ST_COUNT_DOWN_ALL, ST_COUNT_DROP_ALL };
    int rc = SQLITE_OK;

    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        sqlite3_stmt *st = stmt(s, ids[i], &rc);
        if (!st)
            return psq_fail(s, rc, "%s", what);
        sqlite3_bind_int64(st, 1, id);
        if ((rc = run(st)) != SQLITE_OK)
            return psq_fail(s, rc, "%s", what);
    }
    return 0;
}

static int delete_children(psq *s, sqlite3_int64 id, const char *what)
{
    return delete_children_ex(s, id, 0, what);
}

/* Is the stored key in row `st` (kind, value) the same as keys[i]? */
static int same_key(sqlite3_stmt *st, int kind, const patron_key *k, int64_t hash)
{
    if (kind != k->kind || !k->value)
        return 0;
    if (kind >= PSQ_HASHED_KINDS)
        return sqlite3_column_type(st, 1) == SQLITE_INTEGER && sqlite3_column_int64(st, 1) == hash;
    if (sqlite3_column_type(st, 1) != SQLITE_TEXT)
        return 0;
    return strcmp((const char *)sqlite3_column_text(st, 1), k->value) == 0;
}

/* Bring the keys of `id` to `keys`: delete those no longer given, insert
 * the new ones, leave the rest alone (most updates change few keys). */
static int update_keys(psq *s, sqlite3_int64 id, const patron_key *keys, size_t n_keys)
{
    enum { SMALL = 128 };
    unsigned char seen_small[SMALL], *seen = seen_small;
    int64_t hash_small[SMALL], *hash = hash_small;
    sqlite3_stmt *st, *del;
    int rc = SQLITE_OK, step, st_rc = 0;
    size_t i;

    if (n_keys > SMALL) {
        seen = psq_calloc(n_keys, 1);
        hash = psq_calloc(n_keys, sizeof *hash);
        if (!seen || !hash) {
            patron_free(seen);
            patron_free(hash);
            return psq_error(s, PATRON_E_NOMEM, "update keys: out of memory");
        }
    } else {
        memset(seen, 0, n_keys);
    }
    for (i = 0; i < n_keys; i++)
        hash[i] = keys[i].value && keys[i].kind >= PSQ_HASHED_KINDS ? psq_key_hash(keys[i].value)
                                                                     : 0;
    if (!(st = stmt(s, ST_KEY_OF, &rc)) || !(del = stmt(s, ST_KEY_DELETE_ONE, &rc))) {
        st_rc = psq_fail(s, rc, "update keys");
        goto out;
    }
    /* Deleting the row the read is on is safe in SQLite (the cursor is
     * saved and moves on); only rows already read are deleted, so whether
     * the read would see a change does not matter. */
    sqlite3_bind_int64(st, 1, id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int kind = sqlite3_column_int(st, 0), kept = 0;
        for (i = 0; i < n_keys; i++) {
            if (same_key(st, kind, &keys[i], hash[i])) {
                seen[i] = 1; /* and every duplicate of it */
                kept = 1;
            }
        }
        if (kept)
            continue;
        sqlite3_bind_int(del, 1, kind);
        sqlite3_bind_value(del, 2, sqlite3_column_value(st, 1));
        sqlite3_bind_int64(del, 3, id);
        if ((rc = run(del)) != SQLITE_OK)
            break;
        if (psq_kind_counted(kind) && sqlite3_changes(s->db) == 1 &&
            (rc = count_key(s, kind, sqlite3_column_value(st, 1), NULL, 0)) != SQLITE_OK)
            break;
    }
    done(st);
    if (rc != SQLITE_OK || (step != SQLITE_DONE && step != SQLITE_ROW)) {
        st_rc = psq_fail(s, rc != SQLITE_OK ? rc : step, "update keys");
        goto out;
    }
    st_rc = write_keys(s, id, keys, n_keys, seen, 0);
out:
    if (seen != seen_small) {
        patron_free(seen);
        patron_free(hash);
    }
    return st_rc;
}

static int cb_update(void *ctx, const patron_customer *c, const patron_key *keys, size_t n_keys)
{
    psq *s = ctx;
    int rc = SQLITE_OK, st_rc;
    sqlite3_stmt *st = stmt(s, ST_CUST_UPDATE, &rc);
    sqlite3_int64 id = patron_customer_id(c);

    if (!st)
        return psq_fail(s, rc, "update");
    if ((st_rc = psq_flush(s, "update")) != 0 || (st_rc = need_savepoint(s, "update")) != 0)
        return st_rc;
    rc = bind_customer(st, c);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, N_CUSTOMER_COLUMNS + 1, id);
    if (rc == SQLITE_OK)
        rc = run(st);
    else
        done(st);
    if (rc != SQLITE_OK)
        return psq_fail(s, rc, "update");
    if (sqlite3_changes(s->db) == 0)
        return psq_error(s, PATRON_E_NOT_FOUND, "update: no customer with id %lld",
                         (long long)id);
    if ((st_rc = delete_children_ex(s, id, 1, "update")) != 0)
        return st_rc;
    if ((st_rc = write_children(s, c, id)) != 0)
        return st_rc;
    return update_keys(s, id, keys, n_keys);
}

static int cb_remove(void *ctx, int64_t id)
{
    psq *s = ctx;
    int rc = SQLITE_OK, st_rc;
    sqlite3_stmt *st = stmt(s, ST_CUST_DELETE, &rc);

    if (!st)
        return psq_fail(s, rc, "remove");
    if ((st_rc = psq_flush(s, "remove")) != 0 || (st_rc = need_savepoint(s, "remove")) != 0)
        return st_rc;
    sqlite3_bind_int64(st, 1, id);
    if ((rc = run(st)) != SQLITE_OK)
        return psq_fail(s, rc, "remove");
    if (sqlite3_changes(s->db) == 0)
        return psq_error(s, PATRON_E_NOT_FOUND, "remove: no customer with id %lld",
                         (long long)id);
    return delete_children(s, id, "remove");
}

static int load_failed(psq *s, patron_customer *out, patron_status st, const char *what,
                       const char *name)
{
    /* The record's message names the field and never echoes a hash. */
    return psq_error(s, st, "load: the stored %s %s is not accepted: %s", what, name,
                     patron_customer_errmsg(out));
}

static int cb_load(void *ctx, int64_t id, patron_customer *out)
{
    psq *s = ctx;
    int rc = SQLITE_OK, i, step;
    patron_status pst;
    sqlite3_stmt *st = stmt(s, ST_CUST_SELECT, &rc);

    if (!st)
        return psq_fail(s, rc, "load");
    sqlite3_bind_int64(st, 1, id);
    step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        done(st);
        if (step == SQLITE_DONE)
            return psq_error(s, PATRON_E_NOT_FOUND, "load: no customer with id %lld",
                             (long long)id);
        return psq_fail(s, step, "load");
    }
    pst = patron_record_set(out, PATRON_F_ID, (const char *)sqlite3_column_text(st, 0));
    for (i = 0; i < N_CUSTOMER_COLUMNS && pst == PATRON_OK; i++) {
        const char *v;
        if (sqlite3_column_type(st, i + 1) == SQLITE_NULL)
            continue;
        v = (const char *)sqlite3_column_text(st, i + 1);
        if (!v) {
            done(st);
            return psq_fail(s, SQLITE_NOMEM, "load");
        }
        pst = patron_record_set(out, customer_columns[i].field, v);
    }
    done(st);
    if (pst != PATRON_OK)
        /* (i 0: the id itself, as the PostgreSQL store says) */
        return load_failed(s, out, pst, "field", i ? customer_columns[i - 1].name : "id");

    /* Addresses.  patron_customer_address_add() gives a new address some
     * defaults, so every field is set, unset ones to NULL. */
    if (!(st = stmt(s, ST_ADDR_SELECT, &rc)))
        return psq_fail(s, rc, "load addresses");
    sqlite3_bind_int64(st, 1, id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t idx;
        pst = patron_customer_address_add(out, &idx);
        for (i = 0; i < N_ADDRESS_COLUMNS && pst == PATRON_OK; i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            pst = patron_customer_address_set(out, idx, address_columns[i].field, v);
        }
        if (pst != PATRON_OK) {
            done(st);
            return load_failed(s, out, pst, "address field",
                               i ? address_columns[i - 1].name : "(new address)");
        }
    }
    done(st);
    if (step != SQLITE_DONE)
        return psq_fail(s, step, "load addresses");

    if (!(st = stmt(s, ST_TAG_SELECT, &rc)))
        return psq_fail(s, rc, "load tags");
    sqlite3_bind_int64(st, 1, id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        pst = patron_customer_tag_add(out, (const char *)sqlite3_column_text(st, 0));
        if (pst != PATRON_OK) {
            done(st);
            return load_failed(s, out, pst, "tag", "");
        }
    }
    done(st);
    if (step != SQLITE_DONE)
        return psq_fail(s, step, "load tags");

    if (!(st = stmt(s, ST_PROP_SELECT, &rc)))
        return psq_fail(s, rc, "load properties");
    sqlite3_bind_int64(st, 1, id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        pst = patron_customer_prop_set(out, k, v ? v : "");
        if (pst != PATRON_OK) {
            done(st);
            return load_failed(s, out, pst, "property", "");
        }
    }
    done(st);
    if (step != SQLITE_DONE)
        return psq_fail(s, step, "load properties");

    if (s->rt_field_end > s->known_field_end || s->rt_addr_end > s->known_addr_end) {
        if (!(st = stmt(s, ST_EXTRA_SELECT, &rc)))
            return psq_fail(s, rc, "load fields");
        sqlite3_bind_int64(st, 1, id);
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            sqlite3_int64 pos = sqlite3_column_int64(st, 0);
            int f = sqlite3_column_int(st, 1);
            const char *v = (const char *)sqlite3_column_text(st, 2);
            if (pos < 0) {
                if (f >= s->rt_field_end)
                    continue; /* written by an even newer libpatron */
                pst = patron_record_set(out, f, v);
            } else {
                if (f >= s->rt_addr_end ||
                    (size_t)pos >= patron_customer_address_count(out))
                    continue;
                pst = patron_customer_address_set(out, (size_t)pos, f, v);
            }
            if (pst != PATRON_OK) {
                done(st);
                return load_failed(s, out, pst, "field",
                                   pos < 0 ? patron_field_name(f) : patron_address_field_name(f));
            }
        }
        done(st);
        if (step != SQLITE_DONE)
            return psq_fail(s, step, "load fields");
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Lookups                                                                   */

/* Run a query whose first column is an id and emit each; stop when emit
 * says so. */
static int emit_ids(psq *s, sqlite3_stmt *st, patron_emit_id_fn emit, void *emit_ctx,
                    const char *what)
{
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (emit(emit_ctx, sqlite3_column_int64(st, 0)) != 0) {
            step = SQLITE_DONE;
            break;
        }
    }
    done(st);
    if (step != SQLITE_DONE)
        return psq_fail(s, step, "%s", what);
    return 0;
}

static int cb_lookup(void *ctx, int kind, const char *value, patron_emit_id_fn emit,
                     void *emit_ctx)
{
    psq *s = ctx;
    int rc = SQLITE_OK;
    sqlite3_stmt *st = stmt(s, ST_KEY_LOOKUP, &rc);

    if (!st)
        return psq_fail(s, rc, "lookup");
    if (!value)
        return 0;
    if (kind >= PSQ_HASHED_KINDS && s->n_pend && (rc = psq_flush(s, "lookup")) != 0)
        return rc;
    bind_key(st, 1, kind, value);
    return emit_ids(s, st, emit, emit_ctx, "lookup");
}

static int cb_count(void *ctx, int kind, const char *value, uint64_t *out)
{
    psq *s = ctx;
    int rc = SQLITE_OK, step;
    sqlite3_stmt *st = stmt(s, psq_kind_counted(kind) ? ST_KEY_COUNTED : ST_KEY_COUNT, &rc);

    *out = 0;
    if (!st)
        return psq_fail(s, rc, "count");
    if (!value)
        return 0;
    if (s->n_pend && (rc = psq_flush(s, "count")) != 0)
        return rc;
    bind_key(st, 1, kind, value);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        sqlite3_int64 n = sqlite3_column_int64(st, 0);
        *out = n > 0 ? (uint64_t)n : 0;
        step = sqlite3_step(st);
    }
    done(st);
    if (step != SQLITE_DONE)
        return psq_fail(s, step, "count");
    return 0;
}

static sqlite3_int64 sql_limit(size_t limit)
{
    return limit > (size_t)INT64_MAX ? -1 : (sqlite3_int64)limit;
}

static int cb_scan(void *ctx, const patron_store_filter *filter, int64_t after_id, size_t limit,
                   patron_emit_id_fn emit, void *emit_ctx)
{
    static const char *const states[] = { NULL, "pending", "active", "merged", "erased" };
    psq *s = ctx;
    int rc = SQLITE_OK;
    sqlite3_stmt *st;

    if (limit == 0)
        return 0;
    if (!(st = stmt(s, ST_SCAN, &rc)))
        return psq_fail(s, rc, "scan");
    sqlite3_bind_int64(st, 1, after_id);
    if (filter && filter->state != 0) {
        if (filter->state < 0 || filter->state >= (int)(sizeof states / sizeof states[0]))
            return 0; /* a state this store never holds */
        sqlite3_bind_text(st, 2, states[filter->state], -1, SQLITE_STATIC);
    }
    if (filter && filter->locked >= 0)
        sqlite3_bind_int(st, 3, filter->locked ? 1 : 0);
    if (filter && filter->group)
        sqlite3_bind_text(st, 4, filter->group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, sql_limit(limit));
    return emit_ids(s, st, emit, emit_ctx, "scan");
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                   */

static int cb_next_number(void *ctx, uint64_t *out)
{
    psq *s = ctx;
    int rc = SQLITE_OK, step, st_rc;
    sqlite3_stmt *st;
    sqlite3_int64 v = 0;

    if ((st_rc = prepare_cheap_write(s, NULL, "next_number")) != 0)
        return st_rc;
    /* Read once per call, then moved on in memory and written by
     * psq_flush() (at the commit of the call at the latest): the call
     * holds the write lock, no other connection moves it meanwhile. */
    if (!s->ctr_have) {
        if (!(st = stmt(s, ST_COUNTER_GET, &rc)))
            return psq_fail(s, rc, "next_number");
        step = sqlite3_step(st);
        v = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        done(st);
        if (step == SQLITE_DONE)
            return psq_error(s, PATRON_E_STORE,
                             "next_number: the row 'customer_number' of table counters is missing");
        if (step != SQLITE_ROW)
            return psq_fail(s, step, "next_number");
        s->ctr_value = v;
        s->ctr_have = 1;
    }
    if (s->ctr_value < 0 || s->ctr_value == INT64_MAX)
        return psq_error(s, PATRON_E_STORE, "next_number: the counter holds %lld",
                         (long long)s->ctr_value);
    note_undo(s, UNDO_COUNTER, s->ctr_value, NULL);
    v = ++s->ctr_value;
    s->ctr_dirty = 1;
    if (s->tx == TX_NONE) {
        /* no call: written now, read afresh next time */
        st_rc = psq_flush(s, "next_number");
        s->ctr_have = 0;
        if (st_rc)
            return st_rc;
    }
    *out = (uint64_t)v;
    return 0;
}

static int cb_claim_number(void *ctx, const char *number)
{
    psq *s = ctx;
    int rc = SQLITE_OK, st_rc;
    sqlite3_stmt *st = stmt(s, ST_CLAIM, &rc);

    if (!st)
        return psq_fail(s, rc, "claim_number");
    if (!number || !*number)
        return psq_error(s, PATRON_E_INVALID, "claim_number: empty customer number");
    if ((st_rc = prepare_cheap_write(s, number, "claim_number")) != 0)
        return st_rc;
    sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
    if ((rc = run(st)) != SQLITE_OK)
        return psq_fail(s, rc, "claim_number");
    if (sqlite3_changes(s->db) == 0)
        return psq_error(s, PATRON_E_EXISTS, "customer number %s was given before", number);
    note_undo(s, UNDO_CLAIM, 0, number);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* References: the host's tables from patron_sqlite_options.ref_tables       */

enum ref_stmt { REF_OF, REF_RELINK, REF_MOVE, REF_COUNT };

/* The statement `which` of ref table `r`, prepared on first use.  The
 * names were checked to be plain identifiers at open; they are quoted all
 * the same. */
static sqlite3_stmt *ref_stmt(psq *s, psq_ref *r, enum ref_stmt which, int *rc_out)
{
    sqlite3_stmt **slot = which == REF_OF       ? &r->of
                          : which == REF_RELINK ? &r->relink
                          : which == REF_MOVE   ? &r->move
                                                : &r->count;
    char sql[512];
    int rc;

    if (*slot)
        return *slot;
    switch (which) {
    case REF_OF:
        snprintf(sql, sizeof sql, "SELECT \"%s\" FROM \"%s\" WHERE \"%s\" = ?1 ORDER BY \"%s\"",
                 r->id_column, r->table, r->customer_column, r->id_column);
        break;
    case REF_RELINK:
        snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = ?2 WHERE \"%s\" = ?1", r->table,
                 r->customer_column, r->customer_column);
        break;
    case REF_MOVE:
        /* The id is bound as text (it comes from the journal); an INTEGER
         * id column still matches, as SQLite applies the column's numeric
         * affinity to the bound text, and its index is used. */
        snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = ?2 WHERE \"%s\" = ?1",
                 r->table, r->customer_column, r->id_column);
        break;
    case REF_COUNT:
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\" WHERE \"%s\" = ?1", r->table,
                 r->customer_column);
        break;
    }
    rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
    if (rc != SQLITE_OK) {
        *slot = NULL;
        *rc_out = rc;
        return NULL;
    }
    return *slot;
}

static int relink_one(psq *s, psq_ref *r, int64_t from_id, int64_t to_id,
                      patron_emit_ref_fn emit, void *emit_ctx)
{
    int rc = SQLITE_OK, step, er = 0;
    sqlite3_stmt *st = ref_stmt(s, r, REF_OF, &rc);

    if (!st)
        return psq_fail(s, rc, "relink: table %s (kind \"%s\")", r->table, r->kind);
    sqlite3_bind_int64(st, 1, from_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *ref = (const char *)sqlite3_column_text(st, 0);
        if (emit && (er = emit(emit_ctx, r->kind, ref ? ref : "")) != 0)
            break;
    }
    done(st);
    if (er != 0)
        return psq_error(s, er < 0 ? er : PATRON_E_STORE, "relink: stopped by the caller");
    if (step != SQLITE_DONE)
        return psq_fail(s, step, "relink: table %s", r->table);
    if (!(st = ref_stmt(s, r, REF_RELINK, &rc)))
        return psq_fail(s, rc, "relink: table %s", r->table);
    sqlite3_bind_int64(st, 1, from_id);
    sqlite3_bind_int64(st, 2, to_id);
    if ((rc = run(st)) != SQLITE_OK)
        return psq_fail(s, rc, "relink: table %s", r->table);
    return 0;
}

static int cb_relink(void *ctx, int64_t from_id, int64_t to_id, patron_emit_ref_fn emit,
                     void *emit_ctx)
{
    psq *s = ctx;
    size_t i;
    int er;

    if (s->n_refs == 0)
        return 0;
    if ((er = need_savepoint(s, "relink")) != 0)
        return er;
    for (i = 0; i < s->n_refs; i++) {
        if (s->refs[i].flags & PATRON_SQLITE_REF_PINNED)
            continue;
        if ((er = relink_one(s, &s->refs[i], from_id, to_id, emit, emit_ctx)) != 0)
            return er;
    }
    return 0;
}

static int cb_move_ref(void *ctx, const char *kind, const char *ref_id, int64_t to_id)
{
    psq *s = ctx;
    int rc = SQLITE_OK, st_rc;
    sqlite3_stmt *st;
    psq_ref *r = NULL;
    size_t i;

    for (i = 0; kind && i < s->n_refs; i++)
        if (strcmp(s->refs[i].kind, kind) == 0 && !(s->refs[i].flags & PATRON_SQLITE_REF_PINNED))
            r = &s->refs[i];
    if (!r)
        return psq_error(s, PATRON_E_INVALID,
                         "move_ref: no table of references of kind \"%.64s\" is configured "
                         "(patron_sqlite_options.ref_tables)",
                         kind ? kind : "");
    if (!(st = ref_stmt(s, r, REF_MOVE, &rc)))
        return psq_fail(s, rc, "move_ref: table %s", r->table);
    if ((st_rc = need_savepoint(s, "move_ref")) != 0)
        return st_rc;
    sqlite3_bind_text(st, 1, ref_id ? ref_id : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, to_id);
    if ((rc = run(st)) != SQLITE_OK)
        return psq_fail(s, rc, "move_ref: table %s", r->table);
    if (sqlite3_changes(s->db) == 0)
        return psq_error(s, PATRON_E_NOT_FOUND, "move_ref: no row of that id in table %s",
                         r->table);
    return 0;
}

static int cb_check_refs(void *ctx, int64_t id, patron_emit_reason_fn emit, void *emit_ctx)
{
    psq *s = ctx;
    char reason[256];
    size_t i;

    for (i = 0; i < s->n_refs; i++) {
        psq_ref *r = &s->refs[i];
        int rc = SQLITE_OK, step;
        sqlite3_int64 n = 0;
        sqlite3_stmt *st;

        if (!(r->flags & PATRON_SQLITE_REF_PINNED))
            continue; /* these can always move */
        if (!(st = ref_stmt(s, r, REF_COUNT, &rc)))
            return psq_fail(s, rc, "check_refs: table %s", r->table);
        sqlite3_bind_int64(st, 1, id);
        step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        done(st);
        if (step != SQLITE_ROW)
            return psq_fail(s, step, "check_refs: table %s", r->table);
        if (n > 0) {
            snprintf(reason, sizeof reason, "%lld %s record(s) in table %s cannot move",
                     (long long)n, r->kind, r->table);
            if (emit && emit(emit_ctx, reason) != 0)
                break;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Journal                                                                   */

static int cb_journal_append(void *ctx, const patron_journal_entry *e, int64_t *id_out)
{
    psq *s = ctx;
    int rc = SQLITE_OK, st_rc;
    sqlite3_stmt *st = stmt(s, ST_JOURNAL_INSERT, &rc);

    if (!st)
        return psq_fail(s, rc, "journal_append");
    if ((st_rc = prepare_cheap_write(s, NULL, "journal_append")) != 0)
        return st_rc;
    sqlite3_bind_int64(st, 1, e->time);
    sqlite3_bind_text(st, 2, e->kind ? e->kind : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, e->customer_id);
    sqlite3_bind_int64(st, 4, e->undone_by);
    bind_value(st, 5, e->payload, 0);
    if ((rc = run(st)) != SQLITE_OK)
        return psq_fail(s, rc, "journal_append");
    *id_out = sqlite3_last_insert_rowid(s->db);
    note_undo(s, UNDO_JOURNAL, *id_out, NULL);
    return 0;
}

static int emit_journal(psq *s, sqlite3_stmt *st, patron_emit_journal_fn emit, void *emit_ctx,
                        int *n_out, const char *what)
{
    int step, n = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        patron_journal_entry e;
        e.id = sqlite3_column_int64(st, 0);
        e.time = sqlite3_column_int64(st, 1);
        e.kind = (const char *)sqlite3_column_text(st, 2);
        e.customer_id = sqlite3_column_int64(st, 3);
        e.undone_by = sqlite3_column_int64(st, 4);
        e.payload = (const char *)sqlite3_column_text(st, 5);
        if (!e.kind)
            e.kind = "";
        n++;
        if (emit(emit_ctx, &e) != 0) {
            step = SQLITE_DONE;
            break;
        }
    }
    done(st);
    if (n_out)
        *n_out = n;
    if (step != SQLITE_DONE)
        return psq_fail(s, step, "%s", what);
    return 0;
}

static int cb_journal_get(void *ctx, int64_t id, patron_emit_journal_fn emit, void *emit_ctx)
{
    psq *s = ctx;
    int rc = SQLITE_OK, n = 0, st_rc;
    sqlite3_stmt *st = stmt(s, ST_JOURNAL_GET, &rc);

    if (!st)
        return psq_fail(s, rc, "journal_get");
    sqlite3_bind_int64(st, 1, id);
    if ((st_rc = emit_journal(s, st, emit, emit_ctx, &n, "journal_get")) != 0)
        return st_rc;
    if (n == 0)
        return psq_error(s, PATRON_E_NOT_FOUND, "journal_get: no journal entry %lld",
                         (long long)id);
    return 0;
}

static int cb_journal_scan(void *ctx, int64_t after_id, size_t limit, patron_emit_journal_fn emit,
                           void *emit_ctx)
{
    psq *s = ctx;
    int rc = SQLITE_OK;
    sqlite3_stmt *st;

    if (limit == 0)
        return 0;
    if (!(st = stmt(s, ST_JOURNAL_SCAN, &rc)))
        return psq_fail(s, rc, "journal_scan");
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, sql_limit(limit));
    return emit_journal(s, st, emit, emit_ctx, NULL, "journal_scan");
}

static int cb_journal_set_undone(void *ctx, int64_t id, int64_t undone_by)
{
    psq *s = ctx;
    int rc = SQLITE_OK, st_rc;
    sqlite3_stmt *st = stmt(s, ST_JOURNAL_UNDONE, &rc);

    if (!st)
        return psq_fail(s, rc, "journal_set_undone");
    if ((st_rc = need_savepoint(s, "journal_set_undone")) != 0)
        return st_rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, undone_by);
    if ((rc = run(st)) != SQLITE_OK)
        return psq_fail(s, rc, "journal_set_undone");
    if (sqlite3_changes(s->db) == 0)
        return psq_error(s, PATRON_E_NOT_FOUND, "journal_set_undone: no journal entry %lld",
                         (long long)id);
    return 0;
}

/* Version 5: an erasure replaces a journal entry's payload (its
 * before-images).  With secure_delete on, the old text does not stay in
 * the page's free space; purge() then clears the WAL. */
static int cb_journal_rewrite(void *ctx, int64_t id, const char *payload)
{
    psq *s = ctx;
    int rc = SQLITE_OK, st_rc;
    sqlite3_stmt *st = stmt(s, ST_JOURNAL_REWRITE, &rc);

    if (!st)
        return psq_fail(s, rc, "journal_rewrite");
    if ((st_rc = need_savepoint(s, "journal_rewrite")) != 0)
        return st_rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, payload ? payload : "", -1, SQLITE_STATIC);
    if ((rc = run(st)) != SQLITE_OK)
        return psq_fail(s, rc, "journal_rewrite");
    if (sqlite3_changes(s->db) == 0)
        return psq_error(s, PATRON_E_NOT_FOUND, "journal_rewrite: no journal entry %lld", (long long)id);
    return 0;
}

/* After an erasure's commit: copy the WAL into the database file and cut it
 * to zero bytes, so the frames that still held the erased values are gone
 * (secure_delete has zeroed them in the pages themselves).  Inside a host's
 * transaction there is nothing to do yet: the host checkpoints after its
 * own commit.  A reader that holds an old snapshot makes the checkpoint
 * busy: that is reported. */
static int cb_purge(void *ctx)
{
    psq *s = ctx;
    int rc, log = 0, done = 0;

    if (s->tx != TX_NONE || !sqlite3_get_autocommit(s->db) || (s->flags & PATRON_SQLITE_READONLY))
        return 0;
    rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    if (rc != SQLITE_OK)
        return psq_fail(s, rc, "purge (WAL checkpoint)");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Named values (table meta)                                                 */

/* Emit the rows (key, value) of `st`; stop when emit says so. */
static int emit_meta(psq *s, sqlite3_stmt *st, patron_emit_meta_fn emit, void *emit_ctx, int *n_out,
                     const char *what)
{
    int step, n = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        if (!k || !v) {
            step = SQLITE_NOMEM;
            break;
        }
        n++;
        if (emit(emit_ctx, k, v) != 0) {
            step = SQLITE_DONE;
            break;
        }
    }
    done(st);
    if (n_out)
        *n_out = n;
    if (step != SQLITE_DONE)
        return psq_fail(s, step, "%s", what);
    return 0;
}

static int cb_meta_get(void *ctx, const char *key, patron_emit_meta_fn emit, void *emit_ctx)
{
    psq *s = ctx;
    int rc = SQLITE_OK, n = 0, st_rc;
    sqlite3_stmt *st;

    if (!key || !emit)
        return psq_error(s, PATRON_E_INVALID, "meta_get: no key or no callback");
    if (!(st = stmt(s, ST_META_GET, &rc)))
        return psq_fail(s, rc, "meta_get");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if ((st_rc = emit_meta(s, st, emit, emit_ctx, &n, "meta_get")) != 0)
        return st_rc;
    if (n == 0)
        return psq_error(s, PATRON_E_NOT_FOUND, "meta_get: no value under that key");
    return 0;
}

/* A put inside a host transaction is undone by the call's savepoint (puts
 * are rare: no undo note for them). */
static int cb_meta_put(void *ctx, const char *key, const char *value)
{
    psq *s = ctx;
    int rc = SQLITE_OK, st_rc;
    sqlite3_stmt *st;

    if (!key)
        return psq_error(s, PATRON_E_INVALID, "meta_put: no key");
    if (!(st = stmt(s, value ? ST_META_SET : ST_META_DELETE, &rc)))
        return psq_fail(s, rc, "meta_put");
    if ((st_rc = need_savepoint(s, "meta_put")) != 0)
        return st_rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    if ((rc = run(st)) != SQLITE_OK)
        return psq_fail(s, rc, "meta_put");
    return 0;
}

/* The least string greater than every string that starts with `prefix`
 * (in byte order): the prefix without its trailing 0xFF bytes, its last
 * byte plus one.  0 if there is none (empty prefix, or 0xFF bytes only). */
static size_t prefix_successor(const char *prefix, char *out, size_t cap)
{
    size_t n = strlen(prefix);
    while (n > 0 && (unsigned char)prefix[n - 1] == 0xFF)
        n--;
    if (n == 0 || n >= cap)
        return 0;
    memcpy(out, prefix, n);
    out[n - 1] = (char)((unsigned char)out[n - 1] + 1);
    out[n] = '\0';
    return n;
}

static int cb_meta_scan(void *ctx, const char *prefix, patron_emit_meta_fn emit, void *emit_ctx)
{
    psq *s = ctx;
    int rc = SQLITE_OK;
    char small[256], *succ = small;
    size_t plen, sn;
    sqlite3_stmt *st;
    int st_rc;

    if (!emit)
        return psq_error(s, PATRON_E_INVALID, "meta_scan: no callback");
    if (!prefix)
        prefix = "";
    plen = strlen(prefix);
    if (plen >= sizeof small && !(succ = patron_malloc(plen + 1)))
        return psq_error(s, PATRON_E_NOMEM, "meta_scan: out of memory");
    /* A range on the primary key, never LIKE: '%' and '_' in a prefix are
     * plain bytes, and the order is the bytes' (BINARY collation). */
    sn = prefix_successor(prefix, succ, plen + 1);
    if (!(st = stmt(s, sn ? ST_META_SCAN : ST_META_SCAN_FROM, &rc))) {
        if (succ != small)
            patron_free(succ);
        return psq_fail(s, rc, "meta_scan");
    }
    sqlite3_bind_text(st, 1, prefix, (int)plen, SQLITE_STATIC);
    if (sn)
        sqlite3_bind_text(st, 2, succ, (int)sn, SQLITE_STATIC);
    st_rc = emit_meta(s, st, emit, emit_ctx, NULL, "meta_scan");
    if (succ != small)
        patron_free(succ);
    return st_rc;
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                                */

static const char *cb_errmsg(void *ctx)
{
    psq *s = ctx;
    return s->err[0] ? s->err : NULL;
}

static void store_free(psq *s)
{
    int i;
    if (!s)
        return;
    for (i = 0; i < ST__COUNT; i++) {
        sqlite3_finalize(s->st[i]);
        patron_free(s->sql[i]);
    }
    patron_free(s->undo);
    patron_free(s->pend);
    for (size_t r = 0; r < s->n_refs; r++) {
        psq_ref *ref = &s->refs[r];
        sqlite3_finalize(ref->of);
        sqlite3_finalize(ref->relink);
        sqlite3_finalize(ref->move);
        sqlite3_finalize(ref->count);
        patron_free(ref->kind);
        patron_free(ref->table);
        patron_free(ref->customer_column);
        patron_free(ref->id_column);
    }
    patron_free(s->refs);
    if (s->db) {
        /* A transaction left open by the host is rolled back by close. */
        sqlite3_close(s->db);
    }
    patron_free(s);
}

static void cb_destroy(void *ctx)
{
    store_free(ctx);
}

PATRON_API void patron_sqlite_close(void *ctx)
{
    store_free(ctx);
}

static int count_names(const char *(*name_of)(int), int from)
{
    int f = from;
    /* Stop at a sane bound in case a library answered every id. */
    while (f < 4096 && name_of(f) != NULL)
        f++;
    return f;
}

static void set_errmsg_out(char **errmsg_out, const char *msg)
{
    if (!errmsg_out)
        return;
    *errmsg_out = NULL;
    if (msg) {
        size_t n = strlen(msg) + 1;
        *errmsg_out = patron_malloc(n);
        if (*errmsg_out)
            memcpy(*errmsg_out, msg, n);
    }
}

PATRON_API void patron_sqlite_options_init(patron_sqlite_options *opts)
{
    static const patron_sqlite_options init = PATRON_SQLITE_OPTIONS_INIT;
    if (opts)
        *opts = init;
}

static char *dup_str(const char *v)
{
    size_t n = strlen(v) + 1;
    char *d = patron_malloc(n);
    if (d)
        memcpy(d, v, n);
    return d;
}

/* Letters, digits and '_' only, at most `max` bytes; "" only if `empty_ok`. */
static int plain_ident(const char *v, size_t max, int empty_ok)
{
    size_t n = 0;
    for (; v[n]; n++) {
        char c = v[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
        if (n >= max)
            return 0;
    }
    return n > 0 || empty_ok;
}

/* Check the options and take them into `s` (prefix, copies of the ref
 * tables).  On failure writes a message to msg. */
static patron_status take_options(psq *s, const patron_sqlite_options *o, char *msg, size_t msgsz)
{
    const char *prefix = o->table_prefix ? o->table_prefix : PATRON_SQLITE_DEFAULT_PREFIX;
    size_t i, j;

    if (!plain_ident(prefix, PATRON_SQLITE_PREFIX_MAX, 1)) {
        snprintf(msg, msgsz,
                 "table prefix \"%.40s%s\" is not allowed: use letters, digits and '_', at "
                 "most %d bytes",
                 prefix, strlen(prefix) > 40 ? "..." : "", PATRON_SQLITE_PREFIX_MAX);
        return PATRON_E_INVALID;
    }
    memcpy(s->prefix, prefix, strlen(prefix) + 1);
    if (o->n_ref_tables > PSQ_MAX_REFS || (o->n_ref_tables && !o->ref_tables)) {
        snprintf(msg, msgsz, "ref_tables: %s",
                 o->n_ref_tables > PSQ_MAX_REFS ? "more than 64 tables"
                                                : "NULL with n_ref_tables > 0");
        return PATRON_E_INVALID;
    }
    for (i = 0; i < o->n_ref_tables; i++) {
        const patron_sqlite_ref_table *t = &o->ref_tables[i];
        const char *bad = NULL;
        if (!t->kind || !t->kind[0] || strlen(t->kind) > PSQ_MAX_IDENT)
            bad = "kind must be 1 to 64 bytes";
        else if (!t->table || !plain_ident(t->table, PSQ_MAX_IDENT, 0))
            bad = "table must be a name of letters, digits and '_' (at most 64 bytes)";
        else if (!t->customer_column || !plain_ident(t->customer_column, PSQ_MAX_IDENT, 0))
            bad = "customer_column must be a name of letters, digits and '_' (at most 64 bytes)";
        else if (!t->id_column || !plain_ident(t->id_column, PSQ_MAX_IDENT, 0))
            bad = "id_column must be a name of letters, digits and '_' (at most 64 bytes)";
        else if (t->flags & ~(unsigned)PATRON_SQLITE_REF_PINNED)
            bad = "unknown flags";
        for (j = 0; !bad && j < i; j++)
            if (strcmp(o->ref_tables[j].kind, t->kind) == 0)
                bad = "kind used by an earlier entry";
        if (bad) {
            snprintf(msg, msgsz, "ref_tables[%zu]: %s", i, bad);
            return PATRON_E_INVALID;
        }
    }
    if (o->n_ref_tables) {
        if (!(s->refs = psq_calloc(o->n_ref_tables, sizeof *s->refs)))
            goto nomem;
        for (i = 0; i < o->n_ref_tables; i++) {
            const patron_sqlite_ref_table *t = &o->ref_tables[i];
            psq_ref *r = &s->refs[i];
            s->n_refs = i + 1; /* so that store_free frees what was copied */
            r->flags = t->flags;
            if (!(r->kind = dup_str(t->kind)) || !(r->table = dup_str(t->table)) ||
                !(r->customer_column = dup_str(t->customer_column)) ||
                !(r->id_column = dup_str(t->id_column)))
                goto nomem;
        }
    }
    return PATRON_OK;
nomem:
    snprintf(msg, msgsz, "out of memory");
    return PATRON_E_NOMEM;
}

/* PRAGMA cache_spill: PSQ_SPILL_BYTES in pages of the file's size (one
 * more page). */
static int set_spill(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    char sql[48];
    int rc = sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL), page = 0;

    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        page = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_OK || page < 512)
        return rc;
    /* odd: SQLite also reads the number as a boolean through an 8-bit
     * cast, so that a multiple of 256 would turn spilling off altogether */
    snprintf(sql, sizeof sql, "PRAGMA cache_spill=%ld", (long)(PSQ_SPILL_BYTES / page) | 1);
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static int is_special_path(const char *path)
{
    return path[0] == '\0' || strcmp(path, ":memory:") == 0;
}

PATRON_API patron_status patron_sqlite_store_open(patron_store_ops *ops_out, void **ctx_out,
                                                  char **errmsg_out, const char *path,
                                                  const patron_sqlite_options *opts)
{
    static const patron_sqlite_options defaults = PATRON_SQLITE_OPTIONS_INIT;
    patron_sqlite_options o = defaults;
    char msg[512];
    psq *s;
    int rc, oflags;
    unsigned flags;
    patron_status st;

    if (errmsg_out)
        *errmsg_out = NULL;
    if (ctx_out)
        *ctx_out = NULL;
    if (!ops_out || !ctx_out || !path) {
        set_errmsg_out(errmsg_out, "patron_sqlite_store_open: ops_out, ctx_out and path must "
                                   "not be NULL");
        return PATRON_E_INVALID;
    }
    if (opts) {
        /* Read only the members the host's version has. */
        if (opts->version < 1 || opts->version > PATRON_SQLITE_OPTIONS_VERSION) {
            snprintf(msg, sizeof msg,
                     "patron_sqlite_options version %u is unknown to this library (it knows "
                     "1 to %d): use PATRON_SQLITE_OPTIONS_INIT",
                     opts->version, PATRON_SQLITE_OPTIONS_VERSION);
            set_errmsg_out(errmsg_out, msg);
            return PATRON_E_ABI;
        }
        o = *opts; /* version 1 is the whole struct today */
    }
    flags = o.flags;
    if (flags & ~(unsigned)(PATRON_SQLITE_READONLY | PATRON_SQLITE_NOCREATE |
                            PATRON_SQLITE_SYNC_NORMAL)) {
        set_errmsg_out(errmsg_out, "patron_sqlite_store_open: unknown flags");
        return PATRON_E_INVALID;
    }
    if ((flags & (PATRON_SQLITE_READONLY | PATRON_SQLITE_NOCREATE)) && !is_special_path(path) &&
        !file_exists(path)) {
        snprintf(msg, sizeof msg, "%s: no such file", path);
        set_errmsg_out(errmsg_out, msg);
        return PATRON_E_NOT_FOUND;
    }

    s = psq_calloc(1, sizeof *s);
    if (!s) {
        set_errmsg_out(errmsg_out, "out of memory");
        return PATRON_E_NOMEM;
    }
    s->flags = flags;
    if ((st = take_options(s, &o, msg, sizeof msg)) != PATRON_OK) {
        store_free(s);
        set_errmsg_out(errmsg_out, msg);
        return st;
    }
    s->known_field_end = KNOWN_FIELD_END;
    s->known_addr_end = KNOWN_ADDR_END;
    s->rt_field_end = count_names(patron_field_name, 1);
    s->rt_addr_end = count_names(patron_address_field_name, 1);
    if (generate_sql(s) != 0) {
        store_free(s);
        set_errmsg_out(errmsg_out, "out of memory");
        return PATRON_E_NOMEM;
    }

    /* One handle is used by one thread at a time (patron.h): no mutex. */
    oflags = SQLITE_OPEN_NOMUTEX;
    if (flags & PATRON_SQLITE_READONLY)
        oflags |= SQLITE_OPEN_READONLY;
    else if (flags & PATRON_SQLITE_NOCREATE)
        oflags |= SQLITE_OPEN_READWRITE;
    else
        oflags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    rc = sqlite3_open_v2(path, &s->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(msg, sizeof msg, "cannot open %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        st = psq_status_of(rc);
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 0);
    s->busy_ms = 5000;
    sqlite3_busy_handler(s->db, psq_busy, s);

    if (!(flags & PATRON_SQLITE_READONLY)) {
        /* WAL: readers never wait for the writer, and commits are cheap.
         * 8 KiB pages for a new file (an existing one keeps its size): the
         * key index then has fewer levels; an import of 104 455 customers
         * takes 5.7 s instead of 6.5 s. */
        rc = sqlite3_exec(s->db, "PRAGMA page_size=8192; PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            snprintf(msg, sizeof msg, "cannot open %s: %s", path, sqlite3_errmsg(s->db));
            st = psq_status_of(rc);
            goto fail;
        }
    }
    rc = sqlite3_exec(s->db,
                      (flags & PATRON_SQLITE_SYNC_NORMAL) ? "PRAGMA synchronous=NORMAL"
                                                          : "PRAGMA synchronous=FULL",
                      NULL, NULL, NULL);
    /* 128 MiB of page cache at most (the key index of 100 000 customers is
     * about 40 MB); the savepoint journal of a call inside a host
     * transaction stays in memory (it holds one call's pages).  A checkpoint
     * every 16384 WAL pages (64 MiB) rather than SQLite's 1000: a batch of
     * an import dirties thousands of pages of the key index, and the same
     * pages again in the next batch; with the default every commit would
     * copy them all back to the database file (and sync it), with this a
     * checkpoint copies each page once for several batches.  The WAL file
     * is cut back to 64 MiB after a checkpoint. */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db,
                          "PRAGMA cache_size=-131072; PRAGMA temp_store=MEMORY; "
                          "PRAGMA wal_autocheckpoint=16384; PRAGMA journal_size_limit=67108864",
                          NULL, NULL, NULL);
    /* A transaction that changes more pages than the cache holds (a host's
     * batch of 10 000 new customers in a large file: their keys touch most
     * pages of the key index) keeps up to PSQ_SPILL_BYTES of changed pages
     * in memory before SQLite writes ("spills") some to the WAL in the
     * middle of the transaction.  A spilled page that the transaction
     * changes again is written again, and at commit once more: with 128 MiB
     * an import of 1 000 000 customers wrote 1.3 times the bytes of the same
     * import whose pages all stayed until the commit.  Unchanged pages still
     * leave at cache_size; commit and durability are the same. */
    if (rc == SQLITE_OK && !(flags & PATRON_SQLITE_READONLY))
        rc = set_spill(s->db);
    if (rc != SQLITE_OK) {
        snprintf(msg, sizeof msg, "cannot open %s: %s", path, sqlite3_errmsg(s->db));
        st = psq_status_of(rc);
        goto fail;
    }
    /* Deleted and overwritten content is overwritten with zeros, in the
     * file and the WAL: an erased customer's values do not stay in free
     * space (patron_db_erase(); sqlite.h). */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA secure_delete=ON", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(msg, sizeof msg, "cannot open %s: %s", path, sqlite3_errmsg(s->db));
        st = psq_status_of(rc);
        goto fail;
    }
    /* Schema code never runs functions from the file's own schema. */
    sqlite3_exec(s->db, "PRAGMA trusted_schema=OFF", NULL, NULL, NULL);

    st = psq_schema_prepare(s->db, flags, s->prefix, path, msg, sizeof msg);
    if (st != PATRON_OK)
        goto fail;

    memset(ops_out, 0, sizeof *ops_out);
    ops_out->version = PATRON_STORE_VERSION;
    ops_out->begin = cb_begin;
    ops_out->begin_read = cb_begin_read;
    ops_out->commit = cb_commit;
    ops_out->rollback = cb_rollback;
    ops_out->load = cb_load;
    ops_out->insert = cb_insert;
    ops_out->update = cb_update;
    ops_out->remove = cb_remove;
    ops_out->lookup = cb_lookup;
    ops_out->scan = cb_scan;
    ops_out->next_number = cb_next_number;
    ops_out->claim_number = cb_claim_number;
    ops_out->relink = cb_relink;
    ops_out->move_ref = cb_move_ref;
    ops_out->check_refs = cb_check_refs;
    ops_out->journal_append = cb_journal_append;
    ops_out->journal_get = cb_journal_get;
    ops_out->journal_scan = cb_journal_scan;
    ops_out->journal_set_undone = cb_journal_set_undone;
    ops_out->errmsg = cb_errmsg;
    ops_out->destroy = cb_destroy;
    ops_out->meta_get = cb_meta_get;
    ops_out->meta_put = cb_meta_put;
    ops_out->meta_scan = cb_meta_scan;
    ops_out->count = cb_count;
    ops_out->journal_rewrite = cb_journal_rewrite;
    ops_out->purge = cb_purge;
    *ctx_out = s;
    return PATRON_OK;

fail:
    store_free(s);
    set_errmsg_out(errmsg_out, msg);
    return st;
}

PATRON_API patron_status patron_db_open_sqlite(patron_db **out, patron_sqlite **store_out,
                                               char **errmsg_out, const char *path,
                                               const patron_sqlite_options *opts)
{
    patron_store_ops ops;
    void *ctx = NULL;
    patron_status st;

    if (store_out)
        *store_out = NULL;
    if (errmsg_out)
        *errmsg_out = NULL;
    if (!out) {
        set_errmsg_out(errmsg_out, "patron_db_open_sqlite: out must not be NULL");
        return PATRON_E_INVALID;
    }
    *out = NULL;
    st = patron_sqlite_store_open(&ops, &ctx, errmsg_out, path, opts);
    if (st != PATRON_OK)
        return st;
    st = patron_db_open(out, &ops, ctx);
    if (st != PATRON_OK) {
        store_free(ctx);
        set_errmsg_out(errmsg_out, "patron_db_open refused the SQLite store");
        return st;
    }
    if (store_out)
        *store_out = ctx;
    return PATRON_OK;
}

/* ------------------------------------------------------------------------ */
/* For the host                                                              */

PATRON_API struct sqlite3 *patron_sqlite_handle(patron_sqlite *store)
{
    return store ? store->db : NULL;
}

PATRON_API const char *patron_sqlite_errmsg(const patron_sqlite *store)
{
    return store ? store->err : "";
}

PATRON_API patron_status patron_sqlite_begin(patron_sqlite *store)
{
    int rc;
    if (!store)
        return PATRON_E_INVALID;
    if (!sqlite3_get_autocommit(store->db) || store->tx != TX_NONE)
        return psq_error(store, PATRON_E_STATE,
                         "patron_sqlite_begin: a transaction is already open");
    rc = exec_stmt(store, (store->flags & PATRON_SQLITE_READONLY) ? ST_BEGIN_DEFERRED
                                                                   : ST_BEGIN_IMMEDIATE);
    if (rc != SQLITE_OK)
        return psq_fail(store, rc, "patron_sqlite_begin");
    return PATRON_OK;
}

PATRON_API patron_status patron_sqlite_commit(patron_sqlite *store)
{
    int rc;
    if (!store)
        return PATRON_E_INVALID;
    if (sqlite3_get_autocommit(store->db) || store->tx != TX_NONE)
        return psq_error(store, PATRON_E_STATE, "patron_sqlite_commit: no host transaction is open");
    rc = exec_stmt(store, ST_COMMIT);
    if (rc != SQLITE_OK)
        return psq_fail(store, rc, "patron_sqlite_commit");
    return PATRON_OK;
}

PATRON_API patron_status patron_sqlite_rollback(patron_sqlite *store)
{
    int rc;
    if (!store)
        return PATRON_E_INVALID;
    if (store->tx != TX_NONE)
        return psq_error(store, PATRON_E_STATE,
                         "patron_sqlite_rollback: a patron call is still running");
    if (sqlite3_get_autocommit(store->db))
        return PATRON_OK; /* nothing open (SQLite may have rolled back already) */
    rc = exec_stmt(store, ST_ROLLBACK);
    if (rc != SQLITE_OK)
        return psq_fail(store, rc, "patron_sqlite_rollback");
    return PATRON_OK;
}
