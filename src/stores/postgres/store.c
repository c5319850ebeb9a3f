/* libpatron-pg — the patron_store_ops callbacks on a libpq connection.
 * SPDX-License-Identifier: MIT
 *
 * Every statement is prepared once per connection (PQprepare), on first
 * use, and run with PQexecPrepared: values are parameters, never spliced
 * into SQL, so any string round-trips unchanged; the match form is a bytea
 * parameter in binary format.  A record's keys, tags and properties are
 * written with one statement each (arrays unnested on the server), so a
 * create costs a handful of round trips, not one per key.
 *
 * Transactions: see patron/postgres.h.  A writing call's begin() takes the
 * store's transaction-scoped advisory lock, so writing calls of all
 * processes run one after the other; a reading call's begin_read() takes a
 * REPEATABLE READ READ ONLY snapshot and no lock.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_internal.h"

typedef struct patron_pg ppg;

/* ------------------------------------------------------------------------ */
/* Columns                                                                   */

typedef struct ppg_column {
    int field;
    const char *name;
} ppg_column;

/* customers, in column order after `id` (schema version 1). */
static const ppg_column customer_columns[] = {
    { PATRON_F_NUMBER, "number" },
    { PATRON_F_STATE, "state" },
    { PATRON_F_SALUTATION, "salutation" },
    { PATRON_F_TITLE, "title" },
    { PATRON_F_FIRST_NAME, "first_name" },
    { PATRON_F_LAST_NAME, "last_name" },
    { PATRON_F_COMPANY, "company" },
    { PATRON_F_EMAIL, "email" },
    { PATRON_F_PHONE, "phone" },
    { PATRON_F_MOBILE, "mobile" },
    { PATRON_F_FAX, "fax" },
    { PATRON_F_BIRTH_DATE, "birth_date" },
    { PATRON_F_LANGUAGE, "language" },
    { PATRON_F_B2B, "b2b" },
    { PATRON_F_VAT_ID, "vat_id" },
    { PATRON_F_PAYMENT_TERMS, "payment_terms" },
    { PATRON_F_PRICE_CATEGORY, "price_category" },
    { PATRON_F_GROUP, "customer_group" },
    { PATRON_F_NEWSLETTER, "newsletter" },
    { PATRON_F_NOTES, "notes" },
    { PATRON_F_ORDER_TEXT, "order_text" },
    { PATRON_F_LOGIN_USER, "login_user" },
    { PATRON_F_LOGIN_HASH, "login_hash" },
    { PATRON_F_EXTERNAL_SOURCE, "external_source" },
    { PATRON_F_EXTERNAL_ID, "external_id" },
    { PATRON_F_LOCKED, "locked" },
    { PATRON_F_LOCK_REASON, "lock_reason" },
    { PATRON_F_LOCKED_AT, "locked_at" },
    { PATRON_F_CREATED_AT, "created_at" },
    { PATRON_F_UPDATED_AT, "updated_at" },
    { PATRON_F_REVISION, "revision" },
    { PATRON_F_MERGED_INTO, "merged_into" },
};
#define N_CUSTOMER_COLUMNS ((int)(sizeof customer_columns / sizeof customer_columns[0]))

static const ppg_column address_columns[] = {
    { PATRON_A_LABEL, "label" },
    { PATRON_A_SALUTATION, "salutation" },
    { PATRON_A_FIRST_NAME, "first_name" },
    { PATRON_A_LAST_NAME, "last_name" },
    { PATRON_A_COMPANY, "company" },
    { PATRON_A_STREET, "street" },
    { PATRON_A_HOUSE_NUMBER, "house_number" },
    { PATRON_A_ADDITION, "address_addition" },
    { PATRON_A_POSTAL_CODE, "postal_code" },
    { PATRON_A_CITY, "city" },
    { PATRON_A_STATE, "state" },
    { PATRON_A_COUNTRY, "country" },
    { PATRON_A_PHONE, "phone" },
    { PATRON_A_DEFAULT, "is_default" },
    { PATRON_A_BILLING, "billing" },
    { PATRON_A_VAT_ID, "vat_id" },
};
#define N_ADDRESS_COLUMNS ((int)(sizeof address_columns / sizeof address_columns[0]))

/* The whole of a new record in one statement (one round trip): its row,
 * then from arrays its addresses (one array per column), tags,
 * properties, keys and the counts of its keys.  Parameters: the customer
 * columns, then INS_ADDR (N_ADDRESS_COLUMNS arrays), INS_TAGS,
 * INS_PROP_POS, INS_PROP_KEY, INS_PROP_VAL, INS_KEY_KIND, INS_KEY_VAL. */
#define INS_ADDR (N_CUSTOMER_COLUMNS + 1)
#define INS_TAGS (INS_ADDR + N_ADDRESS_COLUMNS)
#define INS_PROP_POS (INS_TAGS + 1)
#define INS_PROP_KEY (INS_TAGS + 2)
#define INS_PROP_VAL (INS_TAGS + 3)
#define INS_KEY_KIND (INS_TAGS + 4)
#define INS_KEY_VAL (INS_TAGS + 5)
#define INS_N_PARAMS INS_KEY_VAL

#define KNOWN_FIELD_END (PATRON_F_MERGED_INTO + 1)
#define KNOWN_ADDR_END (PATRON_A_VAT_ID + 1)

/* ------------------------------------------------------------------------ */
/* Statements                                                                */


#define COUNTED "(" PPG_COUNTED_KINDS ")"

/* '@name': a table (schema-qualified, prefixed).  $n: parameters. */
static const char *const fixed_sql[ST__COUNT] = {
    [ST_CUST_DELETE] = "DELETE FROM @customers WHERE id = $1::bigint",
    /* everything of a customer but its row and its keys, and its form */
    [ST_CHILDREN_DELETE] =
        "WITH a AS (DELETE FROM @customer_addresses WHERE customer_id = $1::bigint),"
        " t AS (DELETE FROM @customer_tags WHERE customer_id = $1::bigint),"
        " p AS (DELETE FROM @customer_properties WHERE customer_id = $1::bigint),"
        " e AS (DELETE FROM @customer_extra WHERE customer_id = $1::bigint),"
        " f AS (DELETE FROM @match_forms WHERE customer_id = $1::bigint)"
        " SELECT 1",
    [ST_TAG_SELECT] = "SELECT tag FROM @customer_tags WHERE customer_id = $1::bigint ORDER BY position",
    [ST_PROP_SELECT] = "SELECT key, value FROM @customer_properties WHERE customer_id = $1::bigint"
                       " ORDER BY position",
    [ST_EXTRA_INSERT] = "INSERT INTO @customer_extra(customer_id, address_position, field, value)"
                        " VALUES ($1::bigint, $2::int, $3::int, $4::text)"
                        " ON CONFLICT (customer_id, address_position, field)"
                        " DO UPDATE SET value = excluded.value",
    [ST_EXTRA_SELECT] = "SELECT address_position, field, value FROM @customer_extra"
                        " WHERE customer_id = $1::bigint ORDER BY address_position, field",
    /* the keys of customer $1 become ($2, $3): those not among them go
     * (one holder fewer), the new ones come (one holder more).  The two
     * sets of keys are disjoint, so no row of key_counts changes twice. */
    [ST_KEYS_REPLACE] =
        "WITH u AS (SELECT DISTINCT k, v FROM unnest($2::int[], $3::text[]) AS x(k, v)),"
        " del AS (DELETE FROM @customer_keys ck WHERE ck.customer_id = $1::bigint"
        "   AND NOT EXISTS (SELECT 1 FROM u WHERE u.k = ck.kind AND u.v = ck.value)"
        "   RETURNING kind, value),"
        " dc AS (UPDATE @key_counts kc SET n = kc.n - 1 FROM del"
        "   WHERE kc.kind = del.kind AND kc.value = del.value AND del.kind IN " COUNTED "),"
        " ins AS (INSERT INTO @customer_keys(kind, value, customer_id)"
        "   SELECT u.k, u.v, $1::bigint FROM u ON CONFLICT DO NOTHING RETURNING kind, value)"
        " INSERT INTO @key_counts AS kc (kind, value, n)"
        " SELECT kind, value, 1 FROM ins WHERE kind IN " COUNTED
        " ON CONFLICT (kind, value) DO UPDATE SET n = kc.n + 1",
    [ST_KEYS_DELETE] =
        "WITH del AS (DELETE FROM @customer_keys WHERE customer_id = $1::bigint RETURNING kind, value)"
        " UPDATE @key_counts kc SET n = kc.n - 1 FROM del"
        " WHERE kc.kind = del.kind AND kc.value = del.value AND del.kind IN " COUNTED,
    [ST_KEY_LOOKUP] = "SELECT customer_id FROM @customer_keys WHERE kind = $1::int AND value = $2::text"
                      " ORDER BY customer_id",
    /* kinds not counted in key_counts: an index-only range of the primary key */
    [ST_KEY_COUNT] = "SELECT count(*) FROM @customer_keys WHERE kind = $1::int AND value = $2::text",
    [ST_KEY_COUNTED] = "SELECT n FROM @key_counts WHERE kind = $1::int AND value = $2::text",
    [ST_FORM_PUT] = "INSERT INTO @match_forms(customer_id, form) VALUES ($1::bigint, $2::bytea)"
                    " ON CONFLICT (customer_id) DO UPDATE SET form = excluded.form",
    [ST_FORM_GET] = "SELECT form FROM @match_forms WHERE customer_id = $1::bigint",
    [ST_SCAN] = "SELECT id FROM @customers WHERE id > $1::bigint"
                " AND ($2::text IS NULL OR state = $2::text)"
                " AND ($3::bigint IS NULL OR coalesce(locked, 0) = $3::bigint)"
                " AND ($4::text IS NULL OR customer_group = $4::text)"
                " ORDER BY id LIMIT $5::bigint",
    [ST_COUNTER_BUMP] = "UPDATE @counters SET value = value + 1 WHERE name = 'customer_number'"
                        " RETURNING value",
    [ST_CLAIM] = "INSERT INTO @used_numbers(number) VALUES ($1::text) ON CONFLICT DO NOTHING",
    [ST_JOURNAL_INSERT] = "INSERT INTO @journal(time, kind, customer_id, undone_by, payload)"
                          " VALUES ($1::bigint, $2::text, $3::bigint, $4::bigint, $5::text) RETURNING id",
    [ST_JOURNAL_GET] = "SELECT id, time, kind, customer_id, undone_by, payload FROM @journal"
                       " WHERE id = $1::bigint",
    [ST_JOURNAL_SCAN] = "SELECT id, time, kind, customer_id, undone_by, payload FROM @journal"
                        " WHERE id > $1::bigint ORDER BY id LIMIT $2::bigint",
    [ST_JOURNAL_UNDONE] = "UPDATE @journal SET undone_by = $2::bigint WHERE id = $1::bigint",
    [ST_JOURNAL_REWRITE] = "UPDATE @journal SET payload = $2::text WHERE id = $1::bigint",
    [ST_META_GET] = "SELECT key, value FROM @meta WHERE key = $1::text",
    [ST_META_SET] = "INSERT INTO @meta(key, value) VALUES ($1::text, $2::text)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_META_DELETE] = "DELETE FROM @meta WHERE key = $1::text",
    [ST_META_SCAN] = "SELECT key, value FROM @meta WHERE key >= $1::text AND key < $2::text ORDER BY key",
    /* a prefix whose successor is not simple to form: the range from it on,
     * cut where the prefix ends */
    [ST_FORMS_GET] = "SELECT customer_id, form FROM @match_forms WHERE customer_id = ANY($1::bigint[])",
    [ST_META_SCAN_FROM] = "SELECT key, value FROM @meta WHERE key >= $1::text"
                          " AND starts_with(key, $1::text) ORDER BY key",
    /* batched creates: the holders of many keys (a range of the primary
     * key each), which of many numbers are taken, the counter read and
     * written once, ids in a block, the key counts of many records */
    [ST_PREFETCH_KEYS] = "SELECT k.kind, k.value, k.customer_id"
                         " FROM (SELECT DISTINCT kind, value FROM unnest($1::int[], $2::text[]) AS u(kind, value)) u"
                         " JOIN @customer_keys k ON k.kind = u.kind AND k.value = u.value"
                         " ORDER BY k.kind, k.value, k.customer_id",
    [ST_PREFETCH_NUMBERS] = "SELECT number FROM @used_numbers WHERE number = ANY($1::text[])",
    [ST_COUNTER_GET] = "SELECT value FROM @counters WHERE name = 'customer_number'",
    [ST_COUNTER_SET] = "UPDATE @counters SET value = $1::bigint WHERE name = 'customer_number'",
    [ST_IDS] = "SELECT nextval(pg_get_serial_sequence('@customers', 'id')) FROM generate_series(1, $1::int)",
    [ST_COUNTS_ADD] = "INSERT INTO @key_counts AS kc (kind, value, n)"
                      " SELECT k, v, count(*) FROM unnest($1::int[], $2::text[]) AS u(k, v)"
                      " GROUP BY k, v ON CONFLICT (kind, value) DO UPDATE SET n = kc.n + excluded.n",
};

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

static int ppg_error(ppg *s, int status, const char *fmt, ...) PPG_PRINTF(3, 4);
static int ppg_error(ppg *s, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return status;
}

/* The SQLSTATE of a failed result, or "". */
static const char *sqlstate(const PGresult *r)
{
    const char *c = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return c ? c : "";
}

static int retryable(const char *code)
{
    return strcmp(code, "40001") == 0 || strcmp(code, "40P01") == 0;
}

/* Record "<what>: <PostgreSQL's message> (SQLSTATE x)" for a failed
 * result (freed here) and return PATRON_E_STORE.  Only the primary message
 * is kept: PostgreSQL's DETAIL may quote values (a password hash). */
static int ppg_fail(ppg *s, PGresult *r, const char *fmt, ...) PPG_PRINTF(3, 4);
static int ppg_fail(ppg *s, PGresult *r, const char *fmt, ...)
{
    va_list ap;
    size_t n;
    const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *code = sqlstate(r);
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    n = strlen(s->err);
    if (!m) {
        m = PQstatus(s->conn) != CONNECTION_OK ? "the connection to the server is lost"
                                                : PQerrorMessage(s->conn);
        if (!*m)
            m = r ? PQresStatus(PQresultStatus(r)) : "no result";
    }
    snprintf(s->err + n, sizeof s->err - n, ": %s", m);
    n = strlen(s->err);
    while (n > 0 && (s->err[n - 1] == '\n' || s->err[n - 1] == ' '))
        s->err[--n] = '\0';
    if (*code)
        snprintf(s->err + n, sizeof s->err - n, " (SQLSTATE %s)", code);
    if (retryable(code)) {
        n = strlen(s->err);
        snprintf(s->err + n, sizeof s->err - n,
                 "; not retried: only begin() is retried (retry budget %d), and this failure "
                 "came later in the call",
                 s->retry_budget);
    }
    PQclear(r);
    return PATRON_E_STORE;
}

static void *ppg_calloc(size_t n, size_t size)
{
    void *p;
    size_t total;
    if (size && n > SIZE_MAX / size)
        return NULL;
    total = n * size;
    if (total == 0)
        total = 1;
    p = patron_malloc(total);
    if (p)
        memset(p, 0, total);
    return p;
}

/* ------------------------------------------------------------------------ */
/* Running statements                                                        */

typedef struct params {
    const char *v[64];
    int len[64];
    int fmt[64];
    int n;
    char num[64][24]; /* text of integer parameters */
} params;

static void p_init(params *p) { p->n = 0; }
static void p_text(params *p, const char *v)
{
    p->v[p->n] = v;
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}
static void p_int(params *p, int64_t v)
{
    snprintf(p->num[p->n], sizeof p->num[0], "%lld", (long long)v);
    p_text(p, p->num[p->n]);
}
static void p_bin(params *p, const void *v, size_t len)
{
    p->v[p->n] = len ? (const char *)v : "";
    p->len[p->n] = (int)len;
    p->fmt[p->n] = 1;
    p->n++;
}

/* Batched creates (below). */
struct ppg_bulk;
static int bulk_before(ppg *s, enum ppg_stmt id);
static int bulk_flush(ppg *s);
static void bulk_free(ppg *s);
static int bulk_insert(ppg *s, const patron_customer *c, const patron_key *keys, size_t n_keys, int64_t *id_out);
static int bulk_form(ppg *s, int64_t id, const void *form, size_t len);
static char *column_list(const ppg_column *cols, int n, int first_param, int kind);
static int kind_counted(int kind);

static void stmt_name(const ppg *s, int idx, char *out, size_t cap)
{
    snprintf(out, cap, "%s_%d", s->stmt_base, idx);
}

/* Prepare statement `name` with `sql`; if a statement of that name is
 * there already (a store closed without DEALLOCATE on a host connection),
 * replace it. */
static PGresult *prepare(ppg *s, const char *name, const char *sql)
{
    PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);
    if (r && PQresultStatus(r) == PGRES_FATAL_ERROR && strcmp(sqlstate(r), "42P05") == 0 &&
        PQtransactionStatus(s->conn) == PQTRANS_IDLE) {
        char dealloc[96];
        PQclear(r);
        snprintf(dealloc, sizeof dealloc, "DEALLOCATE \"%s\"", name);
        PQclear(PQexec(s->conn, dealloc));
        r = PQprepare(s->conn, name, sql, 0, NULL);
    }
    return r;
}

/* Run statement `id` with `p`.  Returns the result if its status is
 * `want`, else records the failure (as "what") and returns NULL. */
static PGresult *run(ppg *s, enum ppg_stmt id, const params *p, ExecStatusType want, const char *what)
{
    char name[64];
    PGresult *r;

    if (s->bulk && bulk_before(s, id) != 0)
        return NULL;
    stmt_name(s, (int)id, name, sizeof name);
    if (!s->prepared[id]) {
        r = prepare(s, name, s->sql[id]);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
            ppg_fail(s, r, "%s (prepare)", what);
            return NULL;
        }
        PQclear(r);
        s->prepared[id] = 1;
    }
    r = PQexecPrepared(s->conn, name, p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
                       p ? p->fmt : NULL, id == ST_FORM_GET || id == ST_FORMS_GET ? 1 : 0);
    if (!r || PQresultStatus(r) != want) {
        ppg_fail(s, r, "%s", what);
        return NULL;
    }
    return r;
}

/* Rows changed by a command result. */
static long changed(PGresult *r)
{
    const char *t = PQcmdTuples(r);
    return t && *t ? atol(t) : 0;
}

/* Run a statement that returns no rows; 0 or PATRON_E_STORE.  *n_out (may
 * be NULL) gets the rows changed. */
static int exec_cmd(ppg *s, enum ppg_stmt id, const params *p, long *n_out, const char *what)
{
    PGresult *r = run(s, id, p, id == ST_CHILDREN_DELETE ? PGRES_TUPLES_OK : PGRES_COMMAND_OK, what);
    if (!r)
        return PATRON_E_STORE;
    if (n_out)
        *n_out = changed(r);
    PQclear(r);
    return 0;
}

/* A transaction-control or other parameterless statement of fixed text. */
static int exec_plain(ppg *s, const char *sql, const char *what)
{
    PGresult *r = PQexec(s->conn, sql);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        return ppg_fail(s, r, "%s", what);
    PQclear(r);
    return 0;
}

static int64_t get_i64(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* ------------------------------------------------------------------------ */
/* Arrays: a text array literal, each element double-quoted                  */

typedef struct sbuf {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static int keys_arrays(ppg *s, const patron_key *keys, size_t n_keys, sbuf *kinds, sbuf *values);

static void sb_put(sbuf *b, const char *v, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *ns = patron_malloc(cap);
        if (!ns) {
            b->oom = 1;
            return;
        }
        if (b->s)
            memcpy(ns, b->s, b->n);
        patron_free(b->s);
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, v, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *v) { sb_put(b, v, strlen(v)); }

/* Append `v` as one element of an array literal ("..." with \ and "
 * escaped). */
static void sb_elem(sbuf *b, const char *v)
{
    const char *p, *run_start;
    if (b->n > 1)
        sb_put(b, ",", 1);
    if (!v) {
        sb_put(b, "NULL", 4);
        return;
    }
    sb_put(b, "\"", 1);
    for (p = run_start = v; *p; p++) {
        if (*p == '"' || *p == '\\') {
            sb_put(b, run_start, (size_t)(p - run_start));
            sb_put(b, "\\", 1);
            run_start = p;
        }
    }
    sb_put(b, run_start, (size_t)(p - run_start));
    sb_put(b, "\"", 1);
}

static void sb_int_elem(sbuf *b, int64_t v)
{
    char num[24];
    if (b->n > 1)
        sb_put(b, ",", 1);
    snprintf(num, sizeof num, "%lld", (long long)v);
    sb_str(b, num);
}

static void sb_open(sbuf *b) { sb_put(b, "{", 1); }
static void sb_close(sbuf *b) { sb_put(b, "}", 1); }
static void sb_free(sbuf *b) { patron_free(b->s); }

/* ------------------------------------------------------------------------ */
/* Batched creates (store version 6: prefetch)                               */
/*
 * patron_db_create_many() runs many creates in one transaction and first
 * calls prefetch() with the external references and logins it will look
 * up, the numbers it may claim and how many records it will insert.  From
 * then until the transaction ends this store works in bulk:
 *  - the keys and numbers named are fetched in one statement each; lookup()
 *    of such a key answers from memory (the ids stored plus the ids
 *    inserted since under it), claim_number() of such a number too;
 *  - the number counter is read once and counted on in memory; the ids of
 *    new records come from the sequence in blocks;
 *  - insert() and match_form_put() of new records are gathered as COPY
 *    text and written with one COPY per table before any other statement
 *    that could read them (run() flushes first) and at commit(); the key
 *    counts of all of them with one aggregated upsert.
 * That is sound because the transaction holds the writers' advisory lock
 * from begin() to its end: no other process changes keys, numbers or the
 * counter meanwhile, and everything this store itself changes otherwise
 * goes through run(), which flushes the gathered rows and forgets the
 * fetched keys before any statement that is not known to leave them
 * alone.  A failed COPY fails the call that flushed (commit() at the
 * latest); the library then rolls the whole transaction back.
 */

typedef struct bk_ent {
    char *key; /* NULL: empty slot */
    size_t len;
    uint64_t h;
    int64_t *ids; /* keys: the holders, ascending */
    size_t n, cap;
    int used; /* numbers: claimed */
} bk_ent;

typedef struct bk_map {
    bk_ent *e;
    size_t n, cap; /* cap: a power of two, or 0 */
} bk_map;

typedef struct ppg_bulk {
    bk_map keys, nums;
    int counter_loaded, counter_dirty;
    int64_t counter;
    int64_t *pool; /* ids from the sequence, not yet used */
    size_t pool_n, pool_i;
    size_t hint; /* inserts still announced */
    size_t pending; /* records gathered, not yet written */
    int64_t last_id; /* the record gathered last (its match form may follow) */
    int last_has_form;
    sbuf cust, addr, tags, props, extra, keys_copy, forms, claims, ck_kinds, ck_values;
    size_t n_tags, n_props, n_extra, n_claims, n_ck;
} ppg_bulk;

static uint64_t bk_hash(const char *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void bk_map_free(bk_map *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        patron_free(m->e[i].key);
        patron_free(m->e[i].ids);
    }
    patron_free(m->e);
    memset(m, 0, sizeof *m);
}

/* The entry of `key`; with `add`, made (empty) if missing.  NULL if
 * missing (or out of memory with `add`: *oom set). */
static bk_ent *bk_find(bk_map *m, const char *key, size_t len, int add, int *oom)
{
    uint64_t h = bk_hash(key, len);
    size_t i;
    if (m->cap) {
        for (i = h & (m->cap - 1); m->e[i].key; i = (i + 1) & (m->cap - 1))
            if (m->e[i].h == h && m->e[i].len == len && memcmp(m->e[i].key, key, len) == 0)
                return &m->e[i];
    }
    if (!add)
        return NULL;
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        bk_ent *ne = ppg_calloc(cap, sizeof *ne);
        if (!ne) {
            *oom = 1;
            return NULL;
        }
        for (size_t j = 0; j < m->cap; j++) {
            size_t k;
            if (!m->e[j].key)
                continue;
            for (k = m->e[j].h & (cap - 1); ne[k].key; k = (k + 1) & (cap - 1))
                ;
            ne[k] = m->e[j];
        }
        patron_free(m->e);
        m->e = ne;
        m->cap = cap;
    }
    for (i = h & (m->cap - 1); m->e[i].key; i = (i + 1) & (m->cap - 1))
        ;
    if (!(m->e[i].key = patron_malloc(len + 1))) {
        *oom = 1;
        return NULL;
    }
    memcpy(m->e[i].key, key, len);
    m->e[i].key[len] = '\0';
    m->e[i].len = len;
    m->e[i].h = h;
    m->n++;
    return &m->e[i];
}

/* "<kind>\x1f<value>": the map key of an index key. */
static char *bk_keyname(char *small, size_t cap, int kind, const char *value, size_t *len_out)
{
    size_t vl = strlen(value);
    char head[16];
    int hl = snprintf(head, sizeof head, "%d\x1f", kind);
    char *k = (size_t)hl + vl + 1 <= cap ? small : patron_malloc((size_t)hl + vl + 1);
    if (!k)
        return NULL;
    memcpy(k, head, (size_t)hl);
    memcpy(k + hl, value, vl + 1);
    *len_out = (size_t)hl + vl;
    return k;
}

static int bk_add_id(bk_ent *e, int64_t id)
{
    size_t i;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 4;
        int64_t *ni = ppg_calloc(cap, sizeof *ni);
        if (!ni)
            return -1;
        if (e->n)
            memcpy(ni, e->ids, e->n * sizeof *ni);
        patron_free(e->ids);
        e->ids = ni;
        e->cap = cap;
    }
    for (i = e->n; i > 0 && e->ids[i - 1] > id; i--)
        e->ids[i] = e->ids[i - 1];
    if (i > 0 && e->ids[i - 1] == id) { /* there already: undo the shift */
        memmove(&e->ids[i], &e->ids[i + 1], (e->n - i) * sizeof *e->ids);
        return 0;
    }
    e->ids[i] = id;
    e->n++;
    return 0;
}

static void bulk_reset_bufs(ppg_bulk *b)
{
    sbuf *all[] = { &b->cust, &b->addr, &b->tags, &b->props, &b->extra, &b->keys_copy, &b->forms, &b->claims,
                    &b->ck_kinds, &b->ck_values };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        all[i]->n = 0;
        if (all[i]->s)
            all[i]->s[0] = '\0';
        all[i]->oom = 0;
    }
    sb_open(&b->ck_kinds);
    sb_open(&b->ck_values);
    b->n_tags = b->n_props = b->n_extra = b->n_claims = b->n_ck = 0;
    b->pending = 0;
    b->last_id = 0;
}

static void bulk_free(ppg *s)
{
    ppg_bulk *b = s->bulk;
    if (!b)
        return;
    bk_map_free(&b->keys);
    bk_map_free(&b->nums);
    patron_free(b->pool);
    sb_free(&b->cust);
    sb_free(&b->addr);
    sb_free(&b->tags);
    sb_free(&b->props);
    sb_free(&b->extra);
    sb_free(&b->keys_copy);
    sb_free(&b->forms);
    sb_free(&b->claims);
    sb_free(&b->ck_kinds);
    sb_free(&b->ck_values);
    patron_free(b);
    s->bulk = NULL;
}

/* One field of a COPY text row: \N for NULL; \, newline, CR and tab
 * escaped.  `sep`: the separator before it (0: none). */
static void cp_field(sbuf *b, const char *v, char sep)
{
    const char *p, *start;
    if (sep)
        sb_put(b, &sep, 1);
    if (!v) {
        sb_put(b, "\\N", 2);
        return;
    }
    for (p = start = v; *p; p++) {
        const char *esc = NULL;
        switch (*p) {
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: continue;
        }
        sb_put(b, start, (size_t)(p - start));
        sb_put(b, esc, 2);
        start = p + 1;
    }
    sb_put(b, start, (size_t)(p - start));
}

static void cp_int(sbuf *b, int64_t v, char sep)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)v);
    cp_field(b, num, sep);
}

/* COPY `tmpl` (a statement of this file with @names) FROM STDIN with the
 * rows in `data`. */
static int copy_in(ppg *s, const char *tmpl, const sbuf *data, const char *what)
{
    char *sql = ppg_expand(s, tmpl);
    PGresult *r;
    size_t off;
    int st = 0;

    if (!sql)
        return ppg_error(s, PATRON_E_NOMEM, "%s: out of memory", what);
    r = PQexec(s->conn, sql);
    patron_free(sql);
    if (!r || PQresultStatus(r) != PGRES_COPY_IN)
        return ppg_fail(s, r, "%s", what);
    PQclear(r);
    for (off = 0; off < data->n && st == 0;) {
        size_t chunk = data->n - off > (1u << 20) ? (1u << 20) : data->n - off;
        if (PQputCopyData(s->conn, data->s + off, (int)chunk) != 1)
            st = -1;
        off += chunk;
    }
    if (PQputCopyEnd(s->conn, st ? "patron: sending the rows failed" : NULL) != 1)
        st = -1;
    while ((r = PQgetResult(s->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            if (st == 0)
                st = ppg_fail(s, r, "%s", what);
            else
                PQclear(r);
            st = st ? st : PATRON_E_STORE;
            continue;
        }
        PQclear(r);
    }
    if (st == -1)
        return ppg_fail(s, NULL, "%s", what);
    return st;
}

/* Write the gathered records, their keys, key counts, forms and claimed
 * numbers, and the counter. */
static int bulk_flush(ppg *s)
{
    ppg_bulk *b = s->bulk;
    int st = 0;
    params p;
    PGresult *r;

    if (!b || s->flushing)
        return 0;
    if (b->cust.oom || b->addr.oom || b->tags.oom || b->props.oom || b->extra.oom || b->keys_copy.oom ||
        b->forms.oom || b->claims.oom || b->ck_kinds.oom || b->ck_values.oom)
        return ppg_error(s, PATRON_E_NOMEM, "insert: out of memory");
    s->flushing = 1;
    if (b->counter_dirty) {
        p_init(&p);
        p_int(&p, b->counter);
        if (!(r = run(s, ST_COUNTER_SET, &p, PGRES_COMMAND_OK, "next_number (write the counter)"))) {
            st = PATRON_E_STORE;
        } else {
            PQclear(r);
            b->counter_dirty = 0;
        }
    }
    if (!st && b->pending) {
        char *cols = column_list(customer_columns, N_CUSTOMER_COLUMNS, 1, 0);
        char *acols = column_list(address_columns, N_ADDRESS_COLUMNS, 1, 0);
        char *sql = cols && acols ? patron_malloc(strlen(cols) + strlen(acols) + 128) : NULL;
        if (!sql) {
            st = ppg_error(s, PATRON_E_NOMEM, "insert: out of memory");
        } else {
            sb_close(&b->ck_kinds);
            sb_close(&b->ck_values);
            sprintf(sql, "COPY @customers(id, %s) FROM STDIN", cols);
            st = copy_in(s, sql, &b->cust, "insert (COPY customers)");
            if (!st && b->addr.n) {
                sprintf(sql, "COPY @customer_addresses(customer_id, position, %s) FROM STDIN", acols);
                st = copy_in(s, sql, &b->addr, "insert (COPY addresses)");
            }
            if (!st && b->n_tags)
                st = copy_in(s, "COPY @customer_tags(customer_id, position, tag) FROM STDIN", &b->tags,
                             "insert (COPY tags)");
            if (!st && b->n_props)
                st = copy_in(s, "COPY @customer_properties(customer_id, position, key, value) FROM STDIN",
                             &b->props, "insert (COPY properties)");
            if (!st && b->n_extra)
                st = copy_in(s, "COPY @customer_extra(customer_id, address_position, field, value) FROM STDIN",
                             &b->extra, "insert (COPY fields)");
            if (!st && b->keys_copy.n)
                st = copy_in(s, "COPY @customer_keys(kind, value, customer_id) FROM STDIN", &b->keys_copy,
                             "insert (COPY keys)");
            if (!st && b->forms.n)
                st = copy_in(s, "COPY @match_forms(customer_id, form) FROM STDIN", &b->forms,
                             "match_form_put (COPY)");
            if (!st && b->n_claims)
                st = copy_in(s, "COPY @used_numbers(number) FROM STDIN", &b->claims, "claim_number (COPY)");
            if (!st && b->n_ck) {
                p_init(&p);
                p_text(&p, b->ck_kinds.s);
                p_text(&p, b->ck_values.s);
                if (!(r = run(s, ST_COUNTS_ADD, &p, PGRES_COMMAND_OK, "insert (key counts)")))
                    st = PATRON_E_STORE;
                else
                    PQclear(r);
            }
        }
        patron_free(cols);
        patron_free(acols);
        patron_free(sql);
        if (!st)
            bulk_reset_bufs(b);
    }
    s->flushing = 0;
    return st;
}

/* Before statement `id` runs: write what is gathered, unless the
 * statement leaves the gathered tables alone; forget the fetched keys
 * before anything that could change keys. */
static int bulk_before(ppg *s, enum ppg_stmt id)
{
    ppg_bulk *b = s->bulk;
    switch (id) {
    case ST_CLAIM:
    case ST_META_GET:
    case ST_META_SET:
    case ST_META_DELETE:
    case ST_META_SCAN:
    case ST_META_SCAN_FROM:
    case ST_PREFETCH_NUMBERS:
    case ST_COUNTER_GET:
    case ST_COUNTER_SET:
    case ST_IDS:
    case ST_COUNTS_ADD:
        return 0;
    default:
        break;
    }
    if (s->flushing)
        return 0;
    if (id != ST_PREFETCH_KEYS)
        bk_map_free(&b->keys);
    return b->pending ? bulk_flush(s) : 0;
}

static int cb_prefetch(void *ctx, const patron_key *keys, size_t n_keys, const char *const *numbers,
                       size_t n_numbers, size_t n_inserts)
{
    ppg *s = ctx;
    ppg_bulk *b;
    sbuf kinds = { 0 }, values = { 0 };
    params p;
    PGresult *r = NULL;
    int st = 0, oom = 0;
    size_t i;

    /* only a writer holds the lock that keeps what is fetched true */
    if (s->tx == TX_NONE || !s->tx_write || (s->flags & PATRON_PG_READONLY))
        return 0;
    if (!s->bulk) {
        if (!(s->bulk = ppg_calloc(1, sizeof *s->bulk)))
            return ppg_error(s, PATRON_E_NOMEM, "prefetch: out of memory");
        bulk_reset_bufs(s->bulk);
    }
    b = s->bulk;
    b->hint += n_inserts;
    if (n_keys) {
        if ((st = keys_arrays(s, keys, n_keys, &kinds, &values)) != 0)
            return st;
        p_init(&p);
        p_text(&p, kinds.s);
        p_text(&p, values.s);
        r = run(s, ST_PREFETCH_KEYS, &p, PGRES_TUPLES_OK, "prefetch (keys)");
        sb_free(&kinds);
        sb_free(&values);
        if (!r)
            return PATRON_E_STORE;
        /* every key asked for is known from now on, held or not */
        for (i = 0; i < n_keys && !oom; i++) {
            char small[256], *k;
            size_t len;
            if (!keys[i].value)
                continue;
            if (!(k = bk_keyname(small, sizeof small, keys[i].kind, keys[i].value, &len)))
                oom = 1;
            else if (!bk_find(&b->keys, k, len, 1, &oom))
                oom = 1;
            if (k && k != small)
                patron_free(k);
        }
        for (int row = 0; row < PQntuples(r) && !oom; row++) {
            char small[256], *k;
            size_t len;
            bk_ent *e;
            k = bk_keyname(small, sizeof small, (int)get_i64(r, row, 0), PQgetvalue(r, row, 1), &len);
            if (!k)
                oom = 1;
            else if ((e = bk_find(&b->keys, k, len, 0, &oom)) != NULL && bk_add_id(e, get_i64(r, row, 2)) != 0)
                oom = 1;
            if (k && k != small)
                patron_free(k);
        }
        PQclear(r);
        if (oom) {
            bk_map_free(&b->keys);
            return ppg_error(s, PATRON_E_NOMEM, "prefetch: out of memory");
        }
    }
    if (n_numbers) {
        sbuf nums = { 0 };
        sb_open(&nums);
        for (i = 0; i < n_numbers; i++)
            if (numbers[i])
                sb_elem(&nums, numbers[i]);
        sb_close(&nums);
        if (nums.oom) {
            sb_free(&nums);
            return ppg_error(s, PATRON_E_NOMEM, "prefetch: out of memory");
        }
        p_init(&p);
        p_text(&p, nums.s);
        r = run(s, ST_PREFETCH_NUMBERS, &p, PGRES_TUPLES_OK, "prefetch (numbers)");
        sb_free(&nums);
        if (!r)
            return PATRON_E_STORE;
        /* what is known already stays (claims of this transaction) */
        for (i = 0; i < n_numbers && !oom; i++)
            if (numbers[i] && !bk_find(&b->nums, numbers[i], strlen(numbers[i]), 0, &oom))
                if (!bk_find(&b->nums, numbers[i], strlen(numbers[i]), 1, &oom))
                    oom = 1;
        for (int row = 0; row < PQntuples(r) && !oom; row++) {
            const char *v = PQgetvalue(r, row, 0);
            bk_ent *e = bk_find(&b->nums, v, strlen(v), 0, &oom);
            if (e)
                e->used = 1;
        }
        PQclear(r);
        if (oom)
            return ppg_error(s, PATRON_E_NOMEM, "prefetch: out of memory");
    }
    return 0;
}

/* insert() in bulk: an id from the pool, the rows as COPY text. */
static int bulk_insert(ppg *s, const patron_customer *c, const patron_key *keys, size_t n_keys, int64_t *id_out)
{
    ppg_bulk *b = s->bulk;
    size_t i, na = patron_customer_address_count(c), nt = patron_customer_tag_count(c);
    size_t np = patron_customer_prop_count(c);
    int64_t id;
    int oom = 0;

    if (b->pool_i == b->pool_n) {
        size_t want = b->hint > 0 ? b->hint : 64;
        params p;
        PGresult *r;
        if (want > 100000)
            want = 100000;
        p_init(&p);
        p_int(&p, (int64_t)want);
        if (!(r = run(s, ST_IDS, &p, PGRES_TUPLES_OK, "insert (ids)")))
            return PATRON_E_STORE;
        patron_free(b->pool);
        b->pool_n = b->pool_i = 0;
        if (!(b->pool = ppg_calloc((size_t)PQntuples(r), sizeof *b->pool))) {
            PQclear(r);
            return ppg_error(s, PATRON_E_NOMEM, "insert: out of memory");
        }
        for (int row = 0; row < PQntuples(r); row++)
            b->pool[b->pool_n++] = get_i64(r, row, 0);
        PQclear(r);
        if (b->pool_n == 0)
            return ppg_error(s, PATRON_E_STORE, "insert: the server gave no id");
    }
    id = b->pool[b->pool_i++];
    if (b->hint)
        b->hint--;

    cp_int(&b->cust, id, 0);
    for (int j = 0; j < N_CUSTOMER_COLUMNS; j++)
        cp_field(&b->cust, patron_customer_get(c, customer_columns[j].field), '\t');
    sb_put(&b->cust, "\n", 1);
    for (i = 0; i < na; i++) {
        cp_int(&b->addr, id, 0);
        cp_int(&b->addr, (int64_t)i, '\t');
        for (int j = 0; j < N_ADDRESS_COLUMNS; j++)
            cp_field(&b->addr, patron_customer_address_get(c, i, address_columns[j].field), '\t');
        sb_put(&b->addr, "\n", 1);
    }
    for (i = 0; i < nt; i++) {
        cp_int(&b->tags, id, 0);
        cp_int(&b->tags, (int64_t)i, '\t');
        cp_field(&b->tags, patron_customer_tag_get(c, i), '\t');
        sb_put(&b->tags, "\n", 1);
        b->n_tags++;
    }
    for (i = 0; i < np; i++) {
        const char *k = NULL, *v = NULL;
        if (patron_customer_prop_at(c, &k, &v, i) != PATRON_OK || !k)
            continue;
        cp_int(&b->props, id, 0);
        cp_int(&b->props, (int64_t)i, '\t');
        cp_field(&b->props, k, '\t');
        cp_field(&b->props, v, '\t');
        sb_put(&b->props, "\n", 1);
        b->n_props++;
    }
    /* fields of a libpatron newer than the schema, as write_extra() */
    if (s->rt_field_end > s->known_field_end || s->rt_addr_end > s->known_addr_end) {
        for (int f = s->known_field_end; f < s->rt_field_end; f++) {
            const char *v = patron_customer_get(c, f);
            if (!v)
                continue;
            cp_int(&b->extra, id, 0);
            cp_int(&b->extra, -1, '\t');
            cp_int(&b->extra, f, '\t');
            cp_field(&b->extra, v, '\t');
            sb_put(&b->extra, "\n", 1);
            b->n_extra++;
        }
        for (i = 0; i < na; i++)
            for (int f = s->known_addr_end; f < s->rt_addr_end; f++) {
                const char *v = patron_customer_address_get(c, i, f);
                if (!v)
                    continue;
                cp_int(&b->extra, id, 0);
                cp_int(&b->extra, (int64_t)i, '\t');
                cp_int(&b->extra, f, '\t');
                cp_field(&b->extra, v, '\t');
                sb_put(&b->extra, "\n", 1);
                b->n_extra++;
            }
    }
    /* the keys, each (kind, value) once; counted kinds to the counts */
    for (i = 0; i < n_keys && !oom; i++) {
        size_t j;
        char small[256], *k;
        size_t len;
        bk_ent *e;
        if (!keys[i].value)
            continue;
        for (j = 0; j < i; j++)
            if (keys[j].value && keys[j].kind == keys[i].kind && strcmp(keys[j].value, keys[i].value) == 0)
                break;
        if (j < i)
            continue;
        cp_int(&b->keys_copy, keys[i].kind, 0);
        cp_field(&b->keys_copy, keys[i].value, '\t');
        cp_int(&b->keys_copy, id, '\t');
        sb_put(&b->keys_copy, "\n", 1);
        if (kind_counted(keys[i].kind)) {
            sb_int_elem(&b->ck_kinds, keys[i].kind);
            sb_elem(&b->ck_values, keys[i].value);
            b->n_ck++;
        }
        if (b->keys.n) {
            if (!(k = bk_keyname(small, sizeof small, keys[i].kind, keys[i].value, &len)))
                oom = 1;
            else if ((e = bk_find(&b->keys, k, len, 0, &oom)) != NULL && bk_add_id(e, id) != 0)
                oom = 1;
            if (k && k != small)
                patron_free(k);
        }
    }
    if (oom)
        return ppg_error(s, PATRON_E_NOMEM, "insert: out of memory");
    b->pending++;
    b->last_id = id;
    b->last_has_form = 0;
    *id_out = id;
    return 0;
}

static const char hexdig[] = "0123456789abcdef";

/* match_form_put() of the record gathered last: a bytea as COPY text. */
static int bulk_form(ppg *s, int64_t id, const void *form, size_t len)
{
    ppg_bulk *b = s->bulk;
    const unsigned char *f = form;
    char hex[512];
    size_t i, h = 0;
    cp_int(&b->forms, id, 0);
    sb_put(&b->forms, "\t\\\\x", 4);
    for (i = 0; i < len; i++) {
        hex[h++] = hexdig[f[i] >> 4];
        hex[h++] = hexdig[f[i] & 15];
        if (h == sizeof hex) {
            sb_put(&b->forms, hex, h);
            h = 0;
        }
    }
    sb_put(&b->forms, hex, h);
    sb_put(&b->forms, "\n", 1);
    b->last_has_form = 1;
    return b->forms.oom ? ppg_error(s, PATRON_E_NOMEM, "match_form_put: out of memory") : 0;
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                              */

/* Forget the match forms fetched ahead and the ids to fetch (their bytes
 * stay held until the transaction ends). */
static void forget_forms(ppg *s)
{
    s->n_want = 0;
    s->n_forms = 0;
}

static void release_held(ppg *s)
{
    for (size_t i = 0; i < s->n_held; i++)
        PQclear(s->held[i]);
    s->n_held = 0;
    forget_forms(s);
}

/* A lost connection is reset before the next transaction (never inside
 * one: the work of the lost one is gone with it). */
static void forget_prepared(ppg *s)
{
    memset(s->prepared, 0, sizeof s->prepared);
    for (size_t i = 0; i < s->n_refs; i++)
        s->refs[i].prepared = 0;
}

static int ensure_connected(ppg *s)
{
    if (PQstatus(s->conn) == CONNECTION_OK) {
        /* a new session (the host reconnected its connection) has none of
         * our statements */
        if (PQbackendPID(s->conn) != s->backend_pid) {
            forget_prepared(s);
            s->backend_pid = PQbackendPID(s->conn);
        }
        return 0;
    }
    if (!s->own_conn)
        return ppg_error(s, PATRON_E_STORE, "begin: the host's connection to the server is lost");
    PQreset(s->conn);
    if (PQstatus(s->conn) != CONNECTION_OK)
        return ppg_error(s, PATRON_E_STORE, "begin: the connection to the server is lost and "
                                            "could not be re-established");
    PQsetClientEncoding(s->conn, "UTF8");
    forget_prepared(s);
    s->backend_pid = PQbackendPID(s->conn);
    return 0;
}

/* Undo a begin that failed half-way (the savepoint or our transaction). */
static void undo_begin(ppg *s, int host)
{
    PGTransactionStatusType ts = PQtransactionStatus(s->conn);
    if (host) {
        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
            PQclear(PQexec(s->conn, "ROLLBACK TO SAVEPOINT patron_call; RELEASE patron_call"));
    } else if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
        PQclear(PQexec(s->conn, "ROLLBACK"));
    }
}

/* Begin a call: our own transaction, or a savepoint in the host's; a
 * writing call then takes the store's advisory lock.  Transaction control
 * and the lock go in one round trip (a simple query of two statements;
 * the key is a number of ours, never a value of the caller's).  A
 * serialisation failure or deadlock here (nothing of the call has run
 * yet) is retried up to the retry budget. */
static int begin_with(ppg *s, int write)
{
    PGTransactionStatusType ts;
    int attempt, st, host;
    char sql[128];

    if (s->tx != TX_NONE)
        return ppg_error(s, PATRON_E_STATE, "begin: a transaction is already open");
    s->err[0] = '\0';
    if ((st = ensure_connected(s)) != 0)
        return st;
    if (s->flags & PATRON_PG_READONLY)
        write = 0;
    ts = PQtransactionStatus(s->conn);
    if (ts == PQTRANS_INERROR)
        return ppg_error(s, PATRON_E_STORE, "begin: the host's transaction on this connection has "
                                            "failed; roll it back first");
    if (ts != PQTRANS_IDLE && ts != PQTRANS_INTRANS)
        return ppg_error(s, PATRON_E_STORE, "begin: the connection is busy");
    host = ts == PQTRANS_INTRANS;
    if (host)
        snprintf(sql, sizeof sql, write ? "SAVEPOINT patron_call; SELECT pg_advisory_xact_lock(%lld)"
                                        : "SAVEPOINT patron_call",
                 (long long)s->lock_key);
    else if (write)
        /* READ COMMITTED whatever the session's default: each statement
         * after the lock sees everything committed before it (under
         * REPEATABLE READ the snapshot would be older than the lock) */
        snprintf(sql, sizeof sql, "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(%lld)",
                 (long long)s->lock_key);
    else
        snprintf(sql, sizeof sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    for (attempt = 0;; attempt++) {
        PGresult *r = PQexec(s->conn, sql);
        ExecStatusType rs = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        char code[8];
        if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK) {
            PQclear(r);
            s->tx = host ? TX_HOST : TX_OWN;
            s->tx_write = write;
            return 0;
        }
        snprintf(code, sizeof code, "%s", sqlstate(r));
        if (!retryable(code)) {
            st = ppg_fail(s, r, "begin");
            undo_begin(s, host);
            return st;
        }
        PQclear(r);
        undo_begin(s, host);
        if (attempt >= s->retry_budget)
            return ppg_error(s, PATRON_E_STORE,
                             "begin: the store's lock failed with SQLSTATE %s %d time(s); the "
                             "retry budget (%d) is spent",
                             code, attempt + 1, s->retry_budget);
    }
}

static int cb_begin(void *ctx) { return begin_with(ctx, 1); }
static int cb_begin_read(void *ctx) { return begin_with(ctx, 0); }

static int cb_commit(void *ctx)
{
    ppg *s = ctx;
    int st = 0;

    if (s->bulk && s->tx != TX_NONE) {
        /* the gathered records first; if they fail the transaction stays
         * open and the library rolls it back */
        if ((st = bulk_flush(s)) != 0)
            return st;
        bulk_free(s);
    }
    release_held(s);
    switch (s->tx) {
    case TX_OWN:
        st = exec_plain(s, "COMMIT", "commit");
        if (st == 0 && PQtransactionStatus(s->conn) != PQTRANS_IDLE)
            st = ppg_error(s, PATRON_E_STORE, "commit: the transaction did not end");
        if (st != 0 && PQtransactionStatus(s->conn) != PQTRANS_IDLE)
            return st; /* still open: the library rolls back */
        break;
    case TX_HOST:
        st = exec_plain(s, "RELEASE patron_call", "commit (release savepoint)");
        if (st != 0)
            return st;
        break;
    case TX_NONE:
        return ppg_error(s, PATRON_E_STATE, "commit: no transaction is open");
    }
    s->tx = TX_NONE;
    return st;
}

static int cb_rollback(void *ctx)
{
    ppg *s = ctx;
    enum ppg_tx tx = s->tx;
    PGTransactionStatusType ts = PQtransactionStatus(s->conn);
    char keep[sizeof s->err];

    bulk_free(s);
    release_held(s);
    s->tx = TX_NONE;
    if (tx == TX_NONE)
        return 0;
    /* keep the message of the failure that led here */
    memcpy(keep, s->err, sizeof keep);
    if (ts == PQTRANS_IDLE || ts == PQTRANS_UNKNOWN) {
        if (tx == TX_HOST)
            return ppg_error(s, PATRON_E_STORE,
                             "rollback: the host's transaction had already ended");
        return 0; /* the server ended it (connection lost) */
    }
    if (tx == TX_OWN) {
        if (exec_plain(s, "ROLLBACK", "rollback") != 0)
            return PATRON_E_STORE;
    } else if (exec_plain(s, "ROLLBACK TO SAVEPOINT patron_call", "rollback (to savepoint)") != 0 ||
               exec_plain(s, "RELEASE patron_call", "rollback (release savepoint)") != 0) {
        /* the call cannot be undone on its own: give up the host's whole
         * transaction rather than leave half of the call in it */
        PQclear(PQexec(s->conn, "ROLLBACK"));
        return ppg_error(s, PATRON_E_STORE, "rollback: the call could not be undone, so the host's "
                                            "whole transaction was rolled back");
    }
    memcpy(s->err, keep, sizeof keep);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Records                                                                   */

static void bind_customer(params *p, const patron_customer *c)
{
    for (int i = 0; i < N_CUSTOMER_COLUMNS; i++)
        p_text(p, patron_customer_get(c, customer_columns[i].field));
}

/* The keys as two array literals (kinds, values); keys without a value are
 * left out. */
static int keys_arrays(ppg *s, const patron_key *keys, size_t n_keys, sbuf *kinds, sbuf *values)
{
    memset(kinds, 0, sizeof *kinds);
    memset(values, 0, sizeof *values);
    sb_open(kinds);
    sb_open(values);
    for (size_t i = 0; i < n_keys; i++) {
        if (!keys[i].value)
            continue;
        sb_int_elem(kinds, keys[i].kind);
        sb_elem(values, keys[i].value);
    }
    sb_close(kinds);
    sb_close(values);
    if (kinds->oom || values->oom) {
        sb_free(kinds);
        sb_free(values);
        return ppg_error(s, PATRON_E_NOMEM, "save keys: out of memory");
    }
    return 0;
}

/* Make the keys of `id` those given (ST_KEYS_REPLACE: one statement). */
static int write_keys(ppg *s, int64_t id, const patron_key *keys, size_t n_keys)
{
    sbuf kinds, values;
    params p;
    int st;

    if ((st = keys_arrays(s, keys, n_keys, &kinds, &values)) != 0)
        return st;
    p_init(&p);
    p_int(&p, id);
    p_text(&p, kinds.s);
    p_text(&p, values.s);
    st = exec_cmd(s, ST_KEYS_REPLACE, &p, NULL, "update keys");
    sb_free(&kinds);
    sb_free(&values);
    return st;
}


/* Fields of a libpatron newer than this store's schema (customer_extra). */
static int write_extra(ppg *s, const patron_customer *c, int64_t id)
{
    size_t i;
    int st, f;
    params p;

    if (s->rt_field_end > s->known_field_end || s->rt_addr_end > s->known_addr_end) {
        size_t na = patron_customer_address_count(c);
        for (f = s->known_field_end; f < s->rt_field_end; f++) {
            const char *v = patron_customer_get(c, f);
            if (!v)
                continue;
            p_init(&p);
            p_int(&p, id);
            p_int(&p, -1);
            p_int(&p, f);
            p_text(&p, v);
            if ((st = exec_cmd(s, ST_EXTRA_INSERT, &p, NULL, "save field")) != 0)
                return st;
        }
        for (i = 0; i < na; i++) {
            for (f = s->known_addr_end; f < s->rt_addr_end; f++) {
                const char *v = patron_customer_address_get(c, i, f);
                if (!v)
                    continue;
                p_init(&p);
                p_int(&p, id);
                p_int(&p, (int64_t)i);
                p_int(&p, f);
                p_text(&p, v);
                if ((st = exec_cmd(s, ST_EXTRA_INSERT, &p, NULL, "save address field")) != 0)
                    return st;
            }
        }
    }
    return 0;
}

static int need_write(ppg *s, const char *what)
{
    if (s->flags & PATRON_PG_READONLY)
        return ppg_error(s, PATRON_E_STORE, "%s: the store is read-only", what);
    if (s->tx == TX_NONE)
        return ppg_error(s, PATRON_E_STATE, "%s: no transaction is open", what);
    forget_forms(s); /* a write may change a form fetched ahead */
    return 0;
}

/* The arrays of insert_sql() for record `c` and its keys, appended to p;
 * `bufs` (INS_N_PARAMS - N_CUSTOMER_COLUMNS of them) hold their text. */
static int insert_arrays(ppg *s, const patron_customer *c, const patron_key *keys, size_t n_keys,
                         sbuf *bufs, params *p)
{
    size_t i, na = patron_customer_address_count(c), nt = patron_customer_tag_count(c);
    size_t np = patron_customer_prop_count(c);
    int j, oom = 0;

    for (j = 0; j < INS_N_PARAMS - N_CUSTOMER_COLUMNS; j++)
        sb_open(&bufs[j]);
    for (j = 0; j < N_ADDRESS_COLUMNS; j++)
        for (i = 0; i < na; i++)
            sb_elem(&bufs[j], patron_customer_address_get(c, i, address_columns[j].field));
    for (i = 0; i < nt; i++)
        sb_elem(&bufs[INS_TAGS - INS_ADDR], patron_customer_tag_get(c, i));
    for (i = 0; i < np; i++) {
        const char *k = NULL, *v = NULL;
        if (patron_customer_prop_at(c, &k, &v, i) != PATRON_OK || !k)
            continue;
        sb_int_elem(&bufs[INS_PROP_POS - INS_ADDR], (int64_t)i);
        sb_elem(&bufs[INS_PROP_KEY - INS_ADDR], k);
        sb_elem(&bufs[INS_PROP_VAL - INS_ADDR], v);
    }
    for (i = 0; i < n_keys; i++) {
        if (!keys[i].value)
            continue;
        sb_int_elem(&bufs[INS_KEY_KIND - INS_ADDR], keys[i].kind);
        sb_elem(&bufs[INS_KEY_VAL - INS_ADDR], keys[i].value);
    }
    for (j = 0; j < INS_N_PARAMS - N_CUSTOMER_COLUMNS; j++) {
        sb_close(&bufs[j]);
        oom |= bufs[j].oom;
        p_text(p, bufs[j].s);
    }
    return oom ? ppg_error(s, PATRON_E_NOMEM, "insert: out of memory") : 0;
}

static int cb_insert(void *ctx, const patron_customer *c, const patron_key *keys, size_t n_keys,
                     int64_t *id_out)
{
    ppg *s = ctx;
    sbuf bufs[INS_N_PARAMS - N_CUSTOMER_COLUMNS];
    params p;
    PGresult *r = NULL;
    int64_t id = 0;
    int st, j;

    if ((st = need_write(s, "insert")) != 0)
        return st;
    if (s->bulk)
        return bulk_insert(s, c, keys, n_keys, id_out);
    memset(bufs, 0, sizeof bufs);
    p_init(&p);
    bind_customer(&p, c);
    st = insert_arrays(s, c, keys, n_keys, bufs, &p);
    if (st == 0 && !(r = run(s, ST_CUST_INSERT, &p, PGRES_TUPLES_OK, "insert")))
        st = PATRON_E_STORE;
    for (j = 0; j < INS_N_PARAMS - N_CUSTOMER_COLUMNS; j++)
        sb_free(&bufs[j]);
    if (st)
        return st;
    id = PQntuples(r) == 1 ? get_i64(r, 0, 0) : 0;
    PQclear(r);
    if (id <= 0)
        return ppg_error(s, PATRON_E_STORE, "insert: the server gave no id");
    if ((st = write_extra(s, c, id)) != 0)
        return st;
    *id_out = id;
    return 0;
}

static int delete_children(ppg *s, int64_t id, int keys_too, const char *what)
{
    params p;
    int st;
    p_init(&p);
    p_int(&p, id);
    if ((st = exec_cmd(s, ST_CHILDREN_DELETE, &p, NULL, what)) != 0)
        return st;
    if (keys_too)
        st = exec_cmd(s, ST_KEYS_DELETE, &p, NULL, what);
    return st;
}

static int cb_update(void *ctx, const patron_customer *c, const patron_key *keys, size_t n_keys)
{
    ppg *s = ctx;
    int64_t id = patron_customer_id(c);
    sbuf bufs[INS_N_PARAMS - N_CUSTOMER_COLUMNS];
    params p;
    PGresult *r;
    int64_t n;
    int st, j;

    if ((st = need_write(s, "update")) != 0)
        return st;
    p_init(&p);
    bind_customer(&p, c);
    p_int(&p, id);
    if (!(r = run(s, ST_CUST_UPDATE, &p, PGRES_TUPLES_OK, "update")))
        return PATRON_E_STORE;
    n = PQntuples(r) == 1 ? get_i64(r, 0, 0) : 0;
    PQclear(r);
    if (n == 0)
        return ppg_error(s, PATRON_E_NOT_FOUND, "update: no customer with id %lld", (long long)id);
    if (patron_customer_address_count(c) || patron_customer_tag_count(c) || patron_customer_prop_count(c)) {
        memset(bufs, 0, sizeof bufs);
        p_init(&p);
        p_int(&p, id);
        st = insert_arrays(s, c, NULL, 0, bufs, &p);
        p.n -= 2; /* no key arrays: the keys follow with ST_KEYS_REPLACE */
        if (st == 0 && !(r = run(s, ST_LISTS_INSERT, &p, PGRES_TUPLES_OK, "update (lists)")))
            st = PATRON_E_STORE;
        else if (st == 0)
            PQclear(r);
        for (j = 0; j < INS_N_PARAMS - N_CUSTOMER_COLUMNS; j++)
            sb_free(&bufs[j]);
        if (st)
            return st;
    }
    if ((st = write_extra(s, c, id)) != 0)
        return st;
    return write_keys(s, id, keys, n_keys);
}

static int cb_remove(void *ctx, int64_t id)
{
    ppg *s = ctx;
    params p;
    long n = 0;
    int st;

    if ((st = need_write(s, "remove")) != 0)
        return st;
    p_init(&p);
    p_int(&p, id);
    if ((st = exec_cmd(s, ST_CUST_DELETE, &p, &n, "remove")) != 0)
        return st;
    if (n == 0)
        return ppg_error(s, PATRON_E_NOT_FOUND, "remove: no customer with id %lld", (long long)id);
    return delete_children(s, id, 1, "remove");
}

static int load_failed(ppg *s, patron_customer *out, patron_status st, const char *what,
                       const char *name)
{
    return ppg_error(s, st, "load: the stored %s %s is not accepted: %s", what, name,
                     patron_customer_errmsg(out));
}

static int cb_load(void *ctx, int64_t id, patron_customer *out)
{
    ppg *s = ctx;
    params p;
    PGresult *r;
    patron_status pst;
    int i, row, n;

    p_init(&p);
    p_int(&p, id);
    if (!(r = run(s, ST_CUST_SELECT, &p, PGRES_TUPLES_OK, "load")))
        return PATRON_E_STORE;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return ppg_error(s, PATRON_E_NOT_FOUND, "load: no customer with id %lld", (long long)id);
    }
    pst = patron_record_set(out, PATRON_F_ID, PQgetvalue(r, 0, 0));
    for (i = 0; i < N_CUSTOMER_COLUMNS && pst == PATRON_OK; i++) {
        if (PQgetisnull(r, 0, i + 1))
            continue;
        pst = patron_record_set(out, customer_columns[i].field, PQgetvalue(r, 0, i + 1));
    }
    PQclear(r);
    if (pst != PATRON_OK)
        return load_failed(s, out, pst, "field", i ? customer_columns[i - 1].name : "id");

    if (!(r = run(s, ST_ADDR_SELECT, &p, PGRES_TUPLES_OK, "load addresses")))
        return PATRON_E_STORE;
    n = PQntuples(r);
    for (row = 0; row < n; row++) {
        size_t idx;
        pst = patron_customer_address_add(out, &idx);
        for (i = 0; i < N_ADDRESS_COLUMNS && pst == PATRON_OK; i++)
            pst = patron_customer_address_set(out, idx, address_columns[i].field,
                                              PQgetisnull(r, row, i) ? NULL : PQgetvalue(r, row, i));
        if (pst != PATRON_OK) {
            PQclear(r);
            return load_failed(s, out, pst, "address field",
                               i ? address_columns[i - 1].name : "(new address)");
        }
    }
    PQclear(r);

    if (!(r = run(s, ST_TAG_SELECT, &p, PGRES_TUPLES_OK, "load tags")))
        return PATRON_E_STORE;
    n = PQntuples(r);
    for (row = 0; row < n; row++) {
        if ((pst = patron_customer_tag_add(out, PQgetvalue(r, row, 0))) != PATRON_OK) {
            PQclear(r);
            return load_failed(s, out, pst, "tag", "");
        }
    }
    PQclear(r);

    if (!(r = run(s, ST_PROP_SELECT, &p, PGRES_TUPLES_OK, "load properties")))
        return PATRON_E_STORE;
    n = PQntuples(r);
    for (row = 0; row < n; row++) {
        pst = patron_customer_prop_set(out, PQgetvalue(r, row, 0),
                                       PQgetisnull(r, row, 1) ? "" : PQgetvalue(r, row, 1));
        if (pst != PATRON_OK) {
            PQclear(r);
            return load_failed(s, out, pst, "property", "");
        }
    }
    PQclear(r);

    if (s->rt_field_end > s->known_field_end || s->rt_addr_end > s->known_addr_end) {
        if (!(r = run(s, ST_EXTRA_SELECT, &p, PGRES_TUPLES_OK, "load fields")))
            return PATRON_E_STORE;
        n = PQntuples(r);
        for (row = 0; row < n; row++) {
            int64_t pos = get_i64(r, row, 0);
            int f = (int)get_i64(r, row, 1);
            const char *v = PQgetvalue(r, row, 2);
            if (pos < 0) {
                if (f >= s->rt_field_end)
                    continue;
                pst = patron_record_set(out, f, v);
            } else {
                if (f >= s->rt_addr_end || (size_t)pos >= patron_customer_address_count(out))
                    continue;
                pst = patron_customer_address_set(out, (size_t)pos, f, v);
            }
            if (pst != PATRON_OK) {
                PQclear(r);
                return load_failed(s, out, pst, "field",
                                   pos < 0 ? patron_field_name(f) : patron_address_field_name(f));
            }
        }
        PQclear(r);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Lookups                                                                   */

static int emit_ids(PGresult *r, patron_emit_id_fn emit, void *emit_ctx)
{
    int n = PQntuples(r);
    for (int i = 0; i < n; i++)
        if (emit(emit_ctx, get_i64(r, i, 0)) != 0)
            break;
    PQclear(r);
    return 0;
}

/* Candidate lookup answers are what the matcher asks the match forms of
 * next, one after the other (a round trip each): they are noted, and the
 * first match_form_get() of a noted id fetches them all in one statement.
 * Answers larger than the matcher's block limit are not noted (the matcher
 * drops such a block); nor is anything past WANT_MAX ids a transaction. */
#define WANT_BLOCK_MAX 1000
#define WANT_MAX 20000

/* Room for n more noted ids (and one more: fetch_ahead() adds its own). */
static int want_room(ppg *s, size_t n)
{
    if (s->n_want + n + 1 > s->cap_want) {
        size_t cap = (s->n_want + n + 1) * 2;
        int64_t *nw = ppg_calloc(cap, sizeof *nw);
        if (!nw)
            return -1;
        if (s->n_want)
            memcpy(nw, s->want, s->n_want * sizeof *nw);
        patron_free(s->want);
        s->want = nw;
        s->cap_want = cap;
    }
    return 0;
}

static void want_ids(ppg *s, PGresult *r)
{
    size_t n = (size_t)PQntuples(r);
    if (s->tx == TX_NONE || n == 0 || n > WANT_BLOCK_MAX || s->n_want + n > WANT_MAX)
        return;
    if (want_room(s, n) != 0)
        return; /* the forms are then fetched one by one */
    for (size_t i = 0; i < n; i++)
        s->want[s->n_want++] = get_i64(r, (int)i, 0);
}

static int cb_lookup(void *ctx, int kind, const char *value, patron_emit_id_fn emit, void *emit_ctx)
{
    ppg *s = ctx;
    params p;
    PGresult *r;

    if (!value)
        return 0;
    if (s->bulk && s->bulk->keys.n) {
        char small[256], *k;
        size_t len;
        int oom = 0;
        bk_ent *e = NULL;
        if (!(k = bk_keyname(small, sizeof small, kind, value, &len)))
            return ppg_error(s, PATRON_E_NOMEM, "lookup: out of memory");
        e = bk_find(&s->bulk->keys, k, len, 0, &oom);
        if (k != small)
            patron_free(k);
        if (e) { /* fetched by prefetch(), with the records inserted since */
            for (size_t i = 0; i < e->n; i++)
                if (emit(emit_ctx, e->ids[i]) != 0)
                    break;
            return 0;
        }
    }
    p_init(&p);
    p_int(&p, kind);
    p_text(&p, value);
    if (!(r = run(s, ST_KEY_LOOKUP, &p, PGRES_TUPLES_OK, "lookup")))
        return PATRON_E_STORE;
    want_ids(s, r);
    return emit_ids(r, emit, emit_ctx);
}

static int kind_counted(int kind)
{
    static const int counted[] = { 100, 101, 102, 120, 121, 122, 123 };
    for (size_t i = 0; i < sizeof counted / sizeof counted[0]; i++)
        if (counted[i] == kind)
            return 1;
    return 0;
}

static int cb_count(void *ctx, int kind, const char *value, uint64_t *out)
{
    ppg *s = ctx;
    params p;
    PGresult *r;
    int64_t n = 0;

    *out = 0;
    if (!value)
        return 0;
    p_init(&p);
    p_int(&p, kind);
    p_text(&p, value);
    if (!(r = run(s, kind_counted(kind) ? ST_KEY_COUNTED : ST_KEY_COUNT, &p, PGRES_TUPLES_OK, "count")))
        return PATRON_E_STORE;
    if (PQntuples(r) == 1)
        n = get_i64(r, 0, 0);
    PQclear(r);
    *out = n > 0 ? (uint64_t)n : 0;
    return 0;
}

static int cb_scan(void *ctx, const patron_store_filter *filter, int64_t after_id, size_t limit,
                   patron_emit_id_fn emit, void *emit_ctx)
{
    static const char *const states[] = { NULL, "pending", "active", "merged", "erased" };
    ppg *s = ctx;
    params p;
    PGresult *r;

    if (limit == 0)
        return 0;
    p_init(&p);
    p_int(&p, after_id);
    if (filter && filter->state != 0) {
        if ((int)filter->state < 0 || (int)filter->state >= (int)(sizeof states / sizeof states[0]))
            return 0;
        p_text(&p, states[filter->state]);
    } else {
        p_text(&p, NULL);
    }
    if (filter && (int)filter->locked >= 0)
        p_int(&p, filter->locked ? 1 : 0);
    else
        p_text(&p, NULL);
    p_text(&p, filter ? filter->group : NULL);
    if (limit > (size_t)INT64_MAX)
        p_text(&p, NULL);
    else
        p_int(&p, (int64_t)limit);
    if (!(r = run(s, ST_SCAN, &p, PGRES_TUPLES_OK, "scan")))
        return PATRON_E_STORE;
    return emit_ids(r, emit, emit_ctx);
}

/* ------------------------------------------------------------------------ */
/* Match forms                                                               */

static int cb_match_form_put(void *ctx, int64_t id, const void *form, size_t len)
{
    ppg *s = ctx;
    params p;
    int st;

    if ((st = need_write(s, "match_form_put")) != 0)
        return st;
    if (len > 0x3FFFFFFF)
        return ppg_error(s, PATRON_E_INVALID, "match_form_put: form too large");
    if (s->bulk && s->bulk->pending && id == s->bulk->last_id && !s->bulk->last_has_form)
        return bulk_form(s, id, form, len);
    p_init(&p);
    p_int(&p, id);
    p_bin(&p, form, len);
    return exec_cmd(s, ST_FORM_PUT, &p, NULL, "match_form_put");
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_form(const void *a, const void *b)
{
    return cmp_i64(&((const struct ppg_form *)a)->id, &((const struct ppg_form *)b)->id);
}

static const struct ppg_form *fetched_form(const ppg *s, int64_t id)
{
    struct ppg_form key;
    key.id = id;
    return s->n_forms ? bsearch(&key, s->forms, s->n_forms, sizeof key, cmp_form) : NULL;
}

/* Keep result r until the transaction ends (its bytes are lent out). */
static int hold(ppg *s, PGresult *r)
{
    if (s->n_held == s->cap_held) {
        size_t cap = s->cap_held ? s->cap_held * 2 : 64;
        PGresult **nh = ppg_calloc(cap, sizeof *nh);
        if (!nh) {
            PQclear(r);
            return ppg_error(s, PATRON_E_NOMEM, "match_form_get: out of memory");
        }
        if (s->n_held)
            memcpy(nh, s->held, s->n_held * sizeof *nh);
        patron_free(s->held);
        s->held = nh;
        s->cap_held = cap;
    }
    s->held[s->n_held++] = r;
    return 0;
}

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (unsigned char)p[i];
    return v;
}

/* Fetch the forms of the noted ids and of `id` in one statement (binary
 * result: id, form), into s->forms.  0, or a status; on a failure of the
 * statement the caller's transaction has failed anyway. */
static int fetch_ahead(ppg *s, int64_t id)
{
    sbuf arr = { 0 };
    params p;
    PGresult *r;
    size_t n = 0, rows, add;
    int st;

    s->want[s->n_want++] = id; /* want_room() left room for it */
    qsort(s->want, s->n_want, sizeof *s->want, cmp_i64);
    sb_open(&arr);
    for (size_t i = 0; i < s->n_want; i++) {
        if ((i && s->want[i] == s->want[i - 1]) || fetched_form(s, s->want[i]))
            continue;
        s->want[n++] = s->want[i];
        sb_int_elem(&arr, s->want[i]);
    }
    sb_close(&arr);
    s->n_want = 0;
    if (arr.oom) {
        sb_free(&arr);
        return ppg_error(s, PATRON_E_NOMEM, "match_form_get: out of memory");
    }
    p_init(&p);
    p_text(&p, arr.s);
    r = run(s, ST_FORMS_GET, &p, PGRES_TUPLES_OK, "match_form_get");
    sb_free(&arr);
    if (!r)
        return PATRON_E_STORE;
    rows = (size_t)PQntuples(r);
    if (PQnfields(r) != 2 || PQfformat(r, 0) != 1 || PQfformat(r, 1) != 1) {
        PQclear(r);
        return ppg_error(s, PATRON_E_STORE, "match_form_get: unexpected answer");
    }
    add = n; /* every id asked for gets an entry: its form or none */
    if (s->n_forms + add > s->cap_forms) {
        size_t cap = (s->n_forms + add) * 2;
        struct ppg_form *nf = ppg_calloc(cap, sizeof *nf);
        if (!nf) {
            PQclear(r);
            return ppg_error(s, PATRON_E_NOMEM, "match_form_get: out of memory");
        }
        if (s->n_forms)
            memcpy(nf, s->forms, s->n_forms * sizeof *nf);
        patron_free(s->forms);
        s->forms = nf;
        s->cap_forms = cap;
    }
    if ((st = hold(s, r)) != 0)
        return st;
    {
        size_t base = s->n_forms;
        /* the ids asked for, sorted (s->want[0..n)), each with its row if
         * the answer has one */
        for (size_t i = 0; i < n; i++) {
            s->forms[base + i].id = s->want[i];
            s->forms[base + i].form = NULL;
            s->forms[base + i].len = -1;
        }
        s->n_forms += n;
        qsort(s->forms, s->n_forms, sizeof *s->forms, cmp_form);
        for (size_t i = 0; i < rows; i++) {
            struct ppg_form *f;
            if (PQgetisnull(r, (int)i, 0) || PQgetlength(r, (int)i, 0) != 8 || PQgetisnull(r, (int)i, 1))
                continue;
            f = (struct ppg_form *)fetched_form(s, (int64_t)be64(PQgetvalue(r, (int)i, 0)));
            if (f && f->len < 0) {
                f->form = PQgetvalue(r, (int)i, 1);
                f->len = PQgetlength(r, (int)i, 1);
            }
        }
    }
    return 0;
}

static int cb_match_form_get(void *ctx, int64_t id, const void **form, size_t *len_out)
{
    ppg *s = ctx;
    params p;
    PGresult *r;
    const struct ppg_form *f;

    *form = NULL;
    *len_out = 0;
    if (s->tx != TX_NONE && !(f = fetched_form(s, id)) && s->n_want > 0) {
        int st = fetch_ahead(s, id);
        if (st != 0)
            return st;
    }
    if (s->tx != TX_NONE && (f = fetched_form(s, id)) != NULL) {
        if (f->len < 0)
            return PATRON_E_NOT_FOUND;
        *form = f->form;
        *len_out = (size_t)f->len;
        return 0;
    }
    p_init(&p);
    p_int(&p, id);
    if (!(r = run(s, ST_FORM_GET, &p, PGRES_TUPLES_OK, "match_form_get")))
        return PATRON_E_STORE;
    if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
        PQclear(r);
        return PATRON_E_NOT_FOUND;
    }
    /* the bytes stay valid until commit() or rollback() */
    if (hold(s, r) != 0)
        return PATRON_E_NOMEM;
    *form = PQgetvalue(r, 0, 0);
    *len_out = (size_t)PQgetlength(r, 0, 0);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                   */

static int cb_next_number(void *ctx, uint64_t *out)
{
    ppg *s = ctx;
    PGresult *r;
    int64_t v;
    int st;

    if ((st = need_write(s, "next_number")) != 0)
        return st;
    if (s->bulk) { /* read once, counted on here, written by bulk_flush() */
        ppg_bulk *b = s->bulk;
        if (!b->counter_loaded) {
            if (!(r = run(s, ST_COUNTER_GET, NULL, PGRES_TUPLES_OK, "next_number")))
                return PATRON_E_STORE;
            if (PQntuples(r) != 1) {
                PQclear(r);
                return ppg_error(s, PATRON_E_STORE,
                                 "next_number: the row 'customer_number' of table counters is missing");
            }
            b->counter = get_i64(r, 0, 0);
            PQclear(r);
            b->counter_loaded = 1;
        }
        if (b->counter < 0 || b->counter == INT64_MAX)
            return ppg_error(s, PATRON_E_STORE, "next_number: the counter holds %lld", (long long)b->counter);
        b->counter++;
        b->counter_dirty = 1;
        *out = (uint64_t)b->counter;
        return 0;
    }
    if (!(r = run(s, ST_COUNTER_BUMP, NULL, PGRES_TUPLES_OK, "next_number")))
        return PATRON_E_STORE;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return ppg_error(s, PATRON_E_STORE,
                         "next_number: the row 'customer_number' of table counters is missing");
    }
    v = get_i64(r, 0, 0);
    PQclear(r);
    if (v <= 0)
        return ppg_error(s, PATRON_E_STORE, "next_number: the counter holds %lld", (long long)v);
    *out = (uint64_t)v;
    return 0;
}

static int cb_claim_number(void *ctx, const char *number)
{
    ppg *s = ctx;
    params p;
    long n = 0;
    int st;

    if (!number || !*number)
        return ppg_error(s, PATRON_E_INVALID, "claim_number: empty customer number");
    if ((st = need_write(s, "claim_number")) != 0)
        return st;
    if (s->bulk) {
        int oom = 0;
        bk_ent *e = bk_find(&s->bulk->nums, number, strlen(number), 0, &oom);
        if (e && e->used)
            return ppg_error(s, PATRON_E_EXISTS, "customer number %.64s was given before", number);
        if (e) { /* known free: taken now, written by bulk_flush() */
            e->used = 1;
            cp_field(&s->bulk->claims, number, 0);
            sb_put(&s->bulk->claims, "\n", 1);
            s->bulk->n_claims++;
            return s->bulk->claims.oom ? ppg_error(s, PATRON_E_NOMEM, "claim_number: out of memory") : 0;
        }
    }
    p_init(&p);
    p_text(&p, number);
    if ((st = exec_cmd(s, ST_CLAIM, &p, &n, "claim_number")) != 0)
        return st;
    if (s->bulk) { /* remembered either way: taken now or before */
        int oom = 0;
        bk_ent *e = bk_find(&s->bulk->nums, number, strlen(number), 1, &oom);
        if (e)
            e->used = 1;
    }
    if (n == 0)
        return ppg_error(s, PATRON_E_EXISTS, "customer number %.64s was given before", number);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* References                                                                */

static PGresult *ref_run(ppg *s, size_t ri, enum ref_stmt which, const params *p,
                         ExecStatusType want, const char *what)
{
    ppg_ref *rt = &s->refs[ri];
    char name[80], sql[640];
    PGresult *r;

    if (s->bulk && bulk_before(s, ST__COUNT) != 0)
        return NULL;
    snprintf(name, sizeof name, "%s_r%zu_%d", s->stmt_base, ri, (int)which);
    if (!(rt->prepared & (1 << which))) {
        switch (which) {
        case REF_OF:
            snprintf(sql, sizeof sql, "SELECT \"%s\"::text FROM %s WHERE \"%s\" = $1 ORDER BY \"%s\"",
                     rt->id_column, rt->table_sql, rt->customer_column, rt->id_column);
            break;
        case REF_RELINK:
            snprintf(sql, sizeof sql, "UPDATE %s SET \"%s\" = $2 WHERE \"%s\" = $1", rt->table_sql,
                     rt->customer_column, rt->customer_column);
            break;
        case REF_MOVE:
            /* $1's type is the id column's: its index is used */
            snprintf(sql, sizeof sql, "UPDATE %s SET \"%s\" = $2 WHERE \"%s\" = $1", rt->table_sql,
                     rt->customer_column, rt->id_column);
            break;
        default:
            snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE \"%s\" = $1", rt->table_sql,
                     rt->customer_column);
            break;
        }
        r = prepare(s, name, sql);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
            ppg_fail(s, r, "%s: table %s", what, rt->table);
            return NULL;
        }
        PQclear(r);
        rt->prepared |= 1 << which;
    }
    r = PQexecPrepared(s->conn, name, p->n, p->v, p->len, p->fmt, 0);
    if (!r || PQresultStatus(r) != want) {
        ppg_fail(s, r, "%s: table %s", what, rt->table);
        return NULL;
    }
    return r;
}

static int cb_relink(void *ctx, int64_t from_id, int64_t to_id, patron_emit_ref_fn emit,
                     void *emit_ctx)
{
    ppg *s = ctx;
    int st;

    if (s->n_refs == 0)
        return 0;
    if ((st = need_write(s, "relink")) != 0)
        return st;
    for (size_t i = 0; i < s->n_refs; i++) {
        params p;
        PGresult *r;
        int n, er = 0;
        if (s->refs[i].flags & PATRON_PG_REF_PINNED)
            continue;
        p_init(&p);
        p_int(&p, from_id);
        if (!(r = ref_run(s, i, REF_OF, &p, PGRES_TUPLES_OK, "relink")))
            return PATRON_E_STORE;
        n = PQntuples(r);
        for (int row = 0; row < n && er == 0; row++)
            if (emit)
                er = emit(emit_ctx, s->refs[i].kind, PQgetvalue(r, row, 0));
        PQclear(r);
        if (er != 0)
            return ppg_error(s, er < 0 ? er : PATRON_E_STORE, "relink: stopped by the caller");
        p_int(&p, to_id);
        if (!(r = ref_run(s, i, REF_RELINK, &p, PGRES_COMMAND_OK, "relink")))
            return PATRON_E_STORE;
        PQclear(r);
    }
    return 0;
}

static int cb_move_ref(void *ctx, const char *kind, const char *ref_id, int64_t to_id)
{
    ppg *s = ctx;
    size_t i, found = SIZE_MAX;
    params p;
    PGresult *r;
    long n;
    int st;

    for (i = 0; kind && i < s->n_refs; i++)
        if (strcmp(s->refs[i].kind, kind) == 0 && !(s->refs[i].flags & PATRON_PG_REF_PINNED))
            found = i;
    if (found == SIZE_MAX)
        return ppg_error(s, PATRON_E_INVALID,
                         "move_ref: no table of references of kind \"%.64s\" is configured "
                         "(patron_pg_options.ref_tables)",
                         kind ? kind : "");
    if ((st = need_write(s, "move_ref")) != 0)
        return st;
    p_init(&p);
    p_text(&p, ref_id ? ref_id : "");
    p_int(&p, to_id);
    if (!(r = ref_run(s, found, REF_MOVE, &p, PGRES_COMMAND_OK, "move_ref")))
        return PATRON_E_STORE;
    n = changed(r);
    PQclear(r);
    if (n == 0)
        return ppg_error(s, PATRON_E_NOT_FOUND, "move_ref: no row of that id in table %s",
                         s->refs[found].table);
    return 0;
}

static int cb_check_refs(void *ctx, int64_t id, patron_emit_reason_fn emit, void *emit_ctx)
{
    ppg *s = ctx;
    char reason[256];

    for (size_t i = 0; i < s->n_refs; i++) {
        params p;
        PGresult *r;
        int64_t n;
        if (!(s->refs[i].flags & PATRON_PG_REF_PINNED))
            continue;
        p_init(&p);
        p_int(&p, id);
        if (!(r = ref_run(s, i, REF_COUNT, &p, PGRES_TUPLES_OK, "check_refs")))
            return PATRON_E_STORE;
        n = PQntuples(r) == 1 ? get_i64(r, 0, 0) : 0;
        PQclear(r);
        if (n > 0) {
            snprintf(reason, sizeof reason, "%lld %s record(s) in table %s cannot move",
                     (long long)n, s->refs[i].kind, s->refs[i].table);
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
    ppg *s = ctx;
    params p;
    PGresult *r;
    int st;

    if ((st = need_write(s, "journal_append")) != 0)
        return st;
    p_init(&p);
    p_int(&p, e->time);
    p_text(&p, e->kind ? e->kind : "");
    p_int(&p, e->customer_id);
    p_int(&p, e->undone_by);
    p_text(&p, e->payload);
    if (!(r = run(s, ST_JOURNAL_INSERT, &p, PGRES_TUPLES_OK, "journal_append")))
        return PATRON_E_STORE;
    *id_out = PQntuples(r) == 1 ? get_i64(r, 0, 0) : 0;
    PQclear(r);
    return *id_out > 0 ? 0 : ppg_error(s, PATRON_E_STORE, "journal_append: no id");
}

static int emit_journal(PGresult *r, patron_emit_journal_fn emit, void *emit_ctx)
{
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        patron_journal_entry e;
        e.id = get_i64(r, i, 0);
        e.time = get_i64(r, i, 1);
        e.kind = PQgetvalue(r, i, 2);
        e.customer_id = get_i64(r, i, 3);
        e.undone_by = get_i64(r, i, 4);
        e.payload = PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5);
        if (emit(emit_ctx, &e) != 0)
            break;
    }
    PQclear(r);
    return 0;
}

static int cb_journal_get(void *ctx, int64_t id, patron_emit_journal_fn emit, void *emit_ctx)
{
    ppg *s = ctx;
    params p;
    PGresult *r;

    p_init(&p);
    p_int(&p, id);
    if (!(r = run(s, ST_JOURNAL_GET, &p, PGRES_TUPLES_OK, "journal_get")))
        return PATRON_E_STORE;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return ppg_error(s, PATRON_E_NOT_FOUND, "journal_get: no journal entry %lld", (long long)id);
    }
    return emit_journal(r, emit, emit_ctx);
}

static int cb_journal_scan(void *ctx, int64_t after_id, size_t limit, patron_emit_journal_fn emit,
                           void *emit_ctx)
{
    ppg *s = ctx;
    params p;
    PGresult *r;

    p_init(&p);
    p_int(&p, after_id);
    if (limit > (size_t)INT64_MAX)
        p_text(&p, NULL);
    else
        p_int(&p, (int64_t)limit);
    if (!(r = run(s, ST_JOURNAL_SCAN, &p, PGRES_TUPLES_OK, "journal_scan")))
        return PATRON_E_STORE;
    return emit_journal(r, emit, emit_ctx);
}

static int cb_journal_set_undone(void *ctx, int64_t id, int64_t undone_by)
{
    ppg *s = ctx;
    params p;
    long n = 0;
    int st;

    if ((st = need_write(s, "journal_set_undone")) != 0)
        return st;
    p_init(&p);
    p_int(&p, id);
    p_int(&p, undone_by);
    if ((st = exec_cmd(s, ST_JOURNAL_UNDONE, &p, &n, "journal_set_undone")) != 0)
        return st;
    if (n == 0)
        return ppg_error(s, PATRON_E_NOT_FOUND, "journal_set_undone: no journal entry %lld",
                         (long long)id);
    return 0;
}

/* Version 5: an erasure replaces a journal entry's payload (its
 * before-images).  The old row version stays in the table's dead tuples
 * and in the WAL until VACUUM and WAL recycling remove them (postgres.h);
 * the store has no purge(). */
static int cb_journal_rewrite(void *ctx, int64_t id, const char *payload)
{
    ppg *s = ctx;
    params p;
    long n = 0;
    int st;

    if ((st = need_write(s, "journal_rewrite")) != 0)
        return st;
    p_init(&p);
    p_int(&p, id);
    p_text(&p, payload ? payload : "");
    if ((st = exec_cmd(s, ST_JOURNAL_REWRITE, &p, &n, "journal_rewrite")) != 0)
        return st;
    if (n == 0)
        return ppg_error(s, PATRON_E_NOT_FOUND, "journal_rewrite: no journal entry %lld", (long long)id);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Named values                                                              */

static int emit_meta(PGresult *r, patron_emit_meta_fn emit, void *emit_ctx)
{
    int n = PQntuples(r);
    for (int i = 0; i < n; i++)
        if (emit(emit_ctx, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)) != 0)
            break;
    PQclear(r);
    return 0;
}

static int cb_meta_get(void *ctx, const char *key, patron_emit_meta_fn emit, void *emit_ctx)
{
    ppg *s = ctx;
    params p;
    PGresult *r;

    if (!key || !emit)
        return ppg_error(s, PATRON_E_INVALID, "meta_get: no key or no callback");
    p_init(&p);
    p_text(&p, key);
    if (!(r = run(s, ST_META_GET, &p, PGRES_TUPLES_OK, "meta_get")))
        return PATRON_E_STORE;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return ppg_error(s, PATRON_E_NOT_FOUND, "meta_get: no value under that key");
    }
    return emit_meta(r, emit, emit_ctx);
}

static int cb_meta_put(void *ctx, const char *key, const char *value)
{
    ppg *s = ctx;
    params p;
    int st;

    if (!key)
        return ppg_error(s, PATRON_E_INVALID, "meta_put: no key");
    if ((st = need_write(s, "meta_put")) != 0)
        return st;
    p_init(&p);
    p_text(&p, key);
    if (value)
        p_text(&p, value);
    return exec_cmd(s, value ? ST_META_SET : ST_META_DELETE, &p, NULL, "meta_put");
}

static int cb_meta_scan(void *ctx, const char *prefix, patron_emit_meta_fn emit, void *emit_ctx)
{
    ppg *s = ctx;
    params p;
    PGresult *r;
    char small[256], *succ = NULL;
    size_t plen;
    int ranged;

    if (!emit)
        return ppg_error(s, PATRON_E_INVALID, "meta_scan: no callback");
    if (!prefix)
        prefix = "";
    plen = strlen(prefix);
    /* A range on the primary key (C collation: byte order), never LIKE.
     * The successor (last byte plus one) is simple for an ASCII last byte;
     * otherwise the range runs from the prefix on, cut by starts_with. */
    ranged = plen > 0 && (unsigned char)prefix[plen - 1] < 0x7F;
    if (ranged) {
        succ = plen < sizeof small ? small : patron_malloc(plen + 1);
        if (!succ)
            return ppg_error(s, PATRON_E_NOMEM, "meta_scan: out of memory");
        memcpy(succ, prefix, plen + 1);
        succ[plen - 1] = (char)(succ[plen - 1] + 1);
    }
    p_init(&p);
    p_text(&p, prefix);
    if (ranged)
        p_text(&p, succ);
    r = run(s, ranged ? ST_META_SCAN : ST_META_SCAN_FROM, &p, PGRES_TUPLES_OK, "meta_scan");
    if (succ && succ != small)
        patron_free(succ);
    if (!r)
        return PATRON_E_STORE;
    return emit_meta(r, emit, emit_ctx);
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                                */

static const char *cb_errmsg(void *ctx)
{
    ppg *s = ctx;
    return s->err[0] ? s->err : NULL;
}

static void store_free(ppg *s)
{
    if (!s)
        return;
    bulk_free(s);
    release_held(s);
    if (s->conn && !s->own_conn && PQstatus(s->conn) == CONNECTION_OK &&
        PQtransactionStatus(s->conn) != PQTRANS_INERROR) {
        /* leave the host's connection without our statements */
        char name[96], sql[128];
        for (int i = 0; i < ST__COUNT; i++) {
            if (!s->prepared[i])
                continue;
            stmt_name(s, i, name, sizeof name);
            snprintf(sql, sizeof sql, "DEALLOCATE \"%s\"", name);
            PQclear(PQexec(s->conn, sql));
        }
        for (size_t ri = 0; ri < s->n_refs; ri++)
            for (int w = 0; w < REF__COUNT; w++)
                if (s->refs[ri].prepared & (1 << w)) {
                    snprintf(name, sizeof name, "%s_r%zu_%d", s->stmt_base, ri, w);
                    snprintf(sql, sizeof sql, "DEALLOCATE \"%s\"", name);
                    PQclear(PQexec(s->conn, sql));
                }
    }
    if (s->conn && s->own_conn)
        PQfinish(s->conn);
    for (int i = 0; i < ST__COUNT; i++)
        patron_free(s->sql[i]);
    for (size_t r = 0; r < s->n_refs; r++) {
        patron_free(s->refs[r].kind);
        patron_free(s->refs[r].table);
        patron_free(s->refs[r].table_sql);
        patron_free(s->refs[r].customer_column);
        patron_free(s->refs[r].id_column);
    }
    patron_free(s->refs);
    patron_free(s->held);
    patron_free(s->want);
    patron_free(s->forms);
    patron_free(s);
}

static void cb_destroy(void *ctx)
{
    store_free(ctx);
}

PATRON_API void patron_pg_close(void *ctx)
{
    store_free(ctx);
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

PATRON_API void patron_pg_options_init(patron_pg_options *opts)
{
    static const patron_pg_options init = PATRON_PG_OPTIONS_INIT;
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

static int plain_ident(const char *v, size_t max, int empty_ok)
{
    size_t n = 0;
    for (; v[n]; n++) {
        char c = v[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
        if (n >= max)
            return 0;
    }
    return n > 0 || empty_ok;
}

/* "table" or "schema.table", each part a plain identifier; the quoted SQL
 * form into *sql_out. */
static int table_ident(const char *v, char **sql_out)
{
    const char *dot = strchr(v, '.');
    char part[PPG_MAX_IDENT + 1], buf[2 * PPG_MAX_IDENT + 8];
    if (dot) {
        size_t n = (size_t)(dot - v);
        if (n == 0 || n > PPG_MAX_IDENT)
            return 0;
        memcpy(part, v, n);
        part[n] = '\0';
        if (!plain_ident(part, PPG_MAX_IDENT, 0) || !plain_ident(dot + 1, PPG_MAX_IDENT, 0))
            return 0;
        snprintf(buf, sizeof buf, "\"%s\".\"%s\"", part, dot + 1);
    } else {
        if (!plain_ident(v, PPG_MAX_IDENT, 0))
            return 0;
        snprintf(buf, sizeof buf, "\"%s\"", v);
    }
    *sql_out = dup_str(buf);
    return 1;
}

static patron_status take_options(ppg *s, const patron_pg_options *o, char *msg, size_t msgsz)
{
    const char *schema = o->schema ? o->schema : PATRON_PG_DEFAULT_SCHEMA;
    const char *prefix = o->table_prefix ? o->table_prefix : PATRON_PG_DEFAULT_PREFIX;
    size_t i, j;

    if (!plain_ident(schema, PATRON_PG_SCHEMA_MAX, 0)) {
        snprintf(msg, msgsz, "schema \"%.40s%s\" is not allowed: use letters, digits and '_', 1 to %d bytes",
                 schema, strlen(schema) > 40 ? "..." : "", PATRON_PG_SCHEMA_MAX);
        return PATRON_E_INVALID;
    }
    if (strncmp(schema, "pg_", 3) == 0) {
        snprintf(msg, msgsz, "schema \"%.40s\" is not allowed: names starting with pg_ are "
                             "PostgreSQL's own", schema);
        return PATRON_E_INVALID;
    }
    if (!plain_ident(prefix, PATRON_PG_PREFIX_MAX, 1)) {
        snprintf(msg, msgsz, "table prefix \"%.40s%s\" is not allowed: use letters, digits and '_', at most %d bytes",
                 prefix, strlen(prefix) > 40 ? "..." : "", PATRON_PG_PREFIX_MAX);
        return PATRON_E_INVALID;
    }
    memcpy(s->schema, schema, strlen(schema) + 1);
    memcpy(s->prefix, prefix, strlen(prefix) + 1);
    if (o->retry_budget > 1000) {
        snprintf(msg, msgsz, "retry_budget %d: at most 1000", o->retry_budget);
        return PATRON_E_INVALID;
    }
    s->retry_budget = o->retry_budget == 0 ? PATRON_PG_DEFAULT_RETRIES
                      : o->retry_budget < 0 ? 0
                                            : o->retry_budget;
    if (o->n_ref_tables > PPG_MAX_REFS || (o->n_ref_tables && !o->ref_tables)) {
        snprintf(msg, msgsz, "ref_tables: %s",
                 o->n_ref_tables > PPG_MAX_REFS ? "more than 64 tables" : "NULL with n_ref_tables > 0");
        return PATRON_E_INVALID;
    }
    for (i = 0; i < o->n_ref_tables; i++) {
        const patron_pg_ref_table *t = &o->ref_tables[i];
        const char *bad = NULL;
        char *probe = NULL;
        if (!t->kind || !t->kind[0] || strlen(t->kind) > PPG_MAX_IDENT)
            bad = "kind must be 1 to 64 bytes";
        else if (!t->table || !table_ident(t->table, &probe))
            bad = "table must be a name (or schema.name) of letters, digits and '_' (at most 64 bytes each)";
        else if (!t->customer_column || !plain_ident(t->customer_column, PPG_MAX_IDENT, 0))
            bad = "customer_column must be a name of letters, digits and '_' (at most 64 bytes)";
        else if (!t->id_column || !plain_ident(t->id_column, PPG_MAX_IDENT, 0))
            bad = "id_column must be a name of letters, digits and '_' (at most 64 bytes)";
        else if (t->flags & ~(unsigned)PATRON_PG_REF_PINNED)
            bad = "unknown flags";
        patron_free(probe);
        for (j = 0; !bad && j < i; j++)
            if (strcmp(o->ref_tables[j].kind, t->kind) == 0)
                bad = "kind used by an earlier entry";
        if (bad) {
            snprintf(msg, msgsz, "ref_tables[%zu]: %s", i, bad);
            return PATRON_E_INVALID;
        }
    }
    if (o->n_ref_tables) {
        if (!(s->refs = ppg_calloc(o->n_ref_tables, sizeof *s->refs)))
            goto nomem;
        for (i = 0; i < o->n_ref_tables; i++) {
            const patron_pg_ref_table *t = &o->ref_tables[i];
            ppg_ref *r = &s->refs[i];
            s->n_refs = i + 1;
            r->flags = t->flags;
            if (!(r->kind = dup_str(t->kind)) || !(r->table = dup_str(t->table)) ||
                !table_ident(t->table, &r->table_sql) || !r->table_sql ||
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

/* FNV-1a, 64 bits, of "<schema>.<prefix>": the advisory lock key and the
 * stem of the statement names.  Part of the protocol between processes:
 * never change it. */
static uint64_t fnv64(const char *a, const char *b)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const char *parts[3] = { a, ".", b };
    for (int k = 0; k < 3; k++)
        for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++) {
            h ^= *p;
            h *= 0x100000001b3ULL;
        }
    return h;
}

static char *concat_free(char *a, char *b)
{
    char *out;
    size_t na, nb;
    if (!a || !b) {
        patron_free(a);
        patron_free(b);
        return NULL;
    }
    na = strlen(a);
    nb = strlen(b);
    out = patron_malloc(na + nb + 1);
    if (out) {
        memcpy(out, a, na);
        memcpy(out + na, b, nb + 1);
    }
    patron_free(a);
    patron_free(b);
    return out;
}

static char *column_list(const ppg_column *cols, int n, int first_param, int kind)
{
    /* kind 0: "a, b, c"; 1: "$1, $2, ..." (typed); 2: "a = $1, b = $2" */
    sbuf b = { 0 };
    char num[64];
    sb_put(&b, "", 0);
    for (int i = 0; i < n; i++) {
        const char *type = "text";
        int f = cols[i].field;
        if (cols == customer_columns &&
            (f == PATRON_F_B2B || f == PATRON_F_NEWSLETTER || f == PATRON_F_LOCKED ||
             f == PATRON_F_LOCKED_AT || f == PATRON_F_CREATED_AT || f == PATRON_F_UPDATED_AT ||
             f == PATRON_F_MERGED_INTO))
            type = "bigint";
        else if (cols == customer_columns && f == PATRON_F_REVISION)
            type = "numeric";
        else if (cols == address_columns && f == PATRON_A_DEFAULT)
            type = "bigint";
        if (i)
            sb_str(&b, ", ");
        if (kind != 1)
            sb_str(&b, cols[i].name);
        if (kind == 2)
            sb_str(&b, " = ");
        if (kind != 0) {
            snprintf(num, sizeof num, "$%d::%s", first_param + i, type);
            sb_str(&b, num);
        }
    }
    if (b.oom) {
        sb_free(&b);
        return NULL;
    }
    return b.s;
}


/* See INS_ADDR.  Without `with_customer`, the lists of an existing
 * customer $1 (ST_LISTS_INSERT): its addresses from $2, tags, properties,
 * in the same layout; no keys. */
static char *insert_sql(int with_customer)
{
    sbuf b = { 0 };
    char *cols = column_list(customer_columns, N_CUSTOMER_COLUMNS, 1, 0);
    char *vals = column_list(customer_columns, N_CUSTOMER_COLUMNS, 1, 1);
    char *acols = column_list(address_columns, N_ADDRESS_COLUMNS, 1, 0);
    int base = with_customer ? INS_ADDR : 2;
    int tags = base + (INS_TAGS - INS_ADDR);
    char num[256];
    int i;

    if (!cols || !vals || !acols)
        goto out;
    if (with_customer) {
        sb_str(&b, "WITH c AS (INSERT INTO @customers(");
        sb_str(&b, cols);
        sb_str(&b, ") VALUES (");
        sb_str(&b, vals);
        sb_str(&b, ") RETURNING id)");
    } else {
        sb_str(&b, "WITH c AS (SELECT $1::bigint AS id)");
    }
    sb_str(&b, ", a AS (INSERT INTO @customer_addresses(customer_id, position, ");
    sb_str(&b, acols);
    sb_str(&b, ") SELECT c.id, u.o - 1");
    for (i = 0; i < N_ADDRESS_COLUMNS; i++) {
        snprintf(num, sizeof num, ", u.a%d%s", i,
                 address_columns[i].field == PATRON_A_DEFAULT ? "::bigint" : "");
        sb_str(&b, num);
    }
    sb_str(&b, " FROM c, unnest(");
    for (i = 0; i < N_ADDRESS_COLUMNS; i++) {
        snprintf(num, sizeof num, "%s$%d::text[]", i ? ", " : "", base + i);
        sb_str(&b, num);
    }
    sb_str(&b, ") WITH ORDINALITY AS u(");
    for (i = 0; i < N_ADDRESS_COLUMNS; i++) {
        snprintf(num, sizeof num, "a%d, ", i);
        sb_str(&b, num);
    }
    snprintf(num, sizeof num,
             "o)), t AS (INSERT INTO @customer_tags(customer_id, position, tag) SELECT c.id, u.o - 1, "
             "u.t FROM c, unnest($%d::text[]) WITH ORDINALITY AS u(t, o))",
             tags);
    sb_str(&b, num);
    snprintf(num, sizeof num, ", p AS (INSERT INTO @customer_properties(customer_id, position, key, value)");
    sb_str(&b, num);
    snprintf(num, sizeof num, " SELECT c.id, u.p, u.k, u.v FROM c, unnest($%d::int[], $%d::text[], ",
             tags + 1, tags + 2);
    sb_str(&b, num);
    snprintf(num, sizeof num, "$%d::text[]) AS u(p, k, v))", tags + 3);
    sb_str(&b, num);
    if (with_customer) {
        sb_str(&b, ", k AS (INSERT INTO @customer_keys(kind, value, customer_id)"
                   " SELECT DISTINCT u.k, u.v, c.id FROM c, unnest(");
        snprintf(num, sizeof num, "$%d::int[], $%d::text[]) AS u(k, v)", INS_KEY_KIND, INS_KEY_VAL);
        sb_str(&b, num);
        sb_str(&b, " ON CONFLICT DO NOTHING RETURNING kind, value)"
                   ", kc AS (INSERT INTO @key_counts AS kc (kind, value, n)"
                   " SELECT kind, value, 1 FROM k WHERE kind IN " COUNTED
                   " ON CONFLICT (kind, value) DO UPDATE SET n = kc.n + 1)");
    }
    sb_str(&b, " SELECT id FROM c");
out:
    patron_free(cols);
    patron_free(vals);
    patron_free(acols);
    if (b.oom || !cols || !vals || !acols) {
        sb_free(&b);
        return NULL;
    }
    return b.s;
}

static int generate_sql(ppg *s)
{
    char *gen[ST__COUNT] = { 0 };
    char tail[64];
    int i;

    gen[ST_CUST_INSERT] = insert_sql(1);
    gen[ST_LISTS_INSERT] = insert_sql(0);
    snprintf(tail, sizeof tail, " WHERE id = $%d::bigint", N_CUSTOMER_COLUMNS + 1);
    /* the row, and away with its lists, extra fields and match form (the
     * lists come back with ST_LISTS_INSERT); gives 1 or 0 rows changed */
    gen[ST_CUST_UPDATE] = concat_free(
        concat_free(concat_free(dup_str("WITH c AS (UPDATE @customers SET "),
                                column_list(customer_columns, N_CUSTOMER_COLUMNS, 1, 2)),
                    dup_str(tail)),
        dup_str(" RETURNING id),"
                " a AS (DELETE FROM @customer_addresses WHERE customer_id IN (SELECT id FROM c)),"
                " t AS (DELETE FROM @customer_tags WHERE customer_id IN (SELECT id FROM c)),"
                " p AS (DELETE FROM @customer_properties WHERE customer_id IN (SELECT id FROM c)),"
                " e AS (DELETE FROM @customer_extra WHERE customer_id IN (SELECT id FROM c)),"
                " f AS (DELETE FROM @match_forms WHERE customer_id IN (SELECT id FROM c))"
                " SELECT count(*) FROM c"));
    gen[ST_CUST_SELECT] =
        concat_free(concat_free(dup_str("SELECT id, "), column_list(customer_columns, N_CUSTOMER_COLUMNS, 1, 0)),
                    dup_str(" FROM @customers WHERE id = $1::bigint"));
    gen[ST_ADDR_SELECT] = concat_free(
        concat_free(dup_str("SELECT "), column_list(address_columns, N_ADDRESS_COLUMNS, 1, 0)),
        dup_str(" FROM @customer_addresses WHERE customer_id = $1::bigint ORDER BY position"));
    for (i = 0; i < ST__COUNT; i++) {
        const char *tmpl = gen[i] ? gen[i] : fixed_sql[i];
        if (!tmpl) {
            for (int k = 0; k < ST__COUNT; k++)
                patron_free(gen[k]);
            return -1;
        }
        s->sql[i] = ppg_expand(s, tmpl);
        if (!s->sql[i]) {
            for (int k = 0; k < ST__COUNT; k++)
                patron_free(gen[k]);
            return -1;
        }
    }
    for (i = 0; i < ST__COUNT; i++)
        patron_free(gen[i]);
    return 0;
}

static int count_names(const char *(*name_of)(int), int from)
{
    int f = from;
    while (f < 4096 && name_of(f) != NULL)
        f++;
    return f;
}

/* Numbers the stores a process opens (names of prepared statements). */
static atomic_ulong store_serial;

/* The store's own connection prints no NOTICEs to stderr (a host's
 * connection keeps the host's notice processor). */
static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static patron_status open_common(patron_store_ops *ops_out, void **ctx_out, char **errmsg_out,
                                 const char *conninfo, PGconn *host_conn,
                                 const patron_pg_options *opts)
{
    static const patron_pg_options defaults = PATRON_PG_OPTIONS_INIT;
    patron_pg_options o = defaults;
    char msg[600];
    ppg *s;
    patron_status st;
    uint64_t h;

    if (errmsg_out)
        *errmsg_out = NULL;
    if (ctx_out)
        *ctx_out = NULL;
    if (!ops_out || !ctx_out || (!conninfo && !host_conn)) {
        set_errmsg_out(errmsg_out, host_conn || conninfo
                                       ? "patron_pg_store_open: ops_out and ctx_out must not be NULL"
                                       : "patron_pg_store_open: no connection (conninfo or conn is NULL)");
        return PATRON_E_INVALID;
    }
    if (opts) {
        if (opts->version < 1 || opts->version > PATRON_PG_OPTIONS_VERSION) {
            snprintf(msg, sizeof msg,
                     "patron_pg_options version %u is unknown to this library (it knows 1 to %d): "
                     "use PATRON_PG_OPTIONS_INIT",
                     opts->version, PATRON_PG_OPTIONS_VERSION);
            set_errmsg_out(errmsg_out, msg);
            return PATRON_E_ABI;
        }
        o = *opts;
    }
    if (o.flags & ~(unsigned)(PATRON_PG_READONLY | PATRON_PG_NOCREATE)) {
        set_errmsg_out(errmsg_out, "patron_pg_store_open: unknown flags");
        return PATRON_E_INVALID;
    }
    if (!(s = ppg_calloc(1, sizeof *s))) {
        set_errmsg_out(errmsg_out, "out of memory");
        return PATRON_E_NOMEM;
    }
    s->flags = o.flags;
    if ((st = take_options(s, &o, msg, sizeof msg)) != PATRON_OK) {
        store_free(s);
        set_errmsg_out(errmsg_out, msg);
        return st;
    }
    h = fnv64(s->schema, s->prefix);
    s->lock_key = (int64_t)h;
    /* statement names: unique among the stores this process opens, so two
     * stores on one connection (or one after another, when a closed store
     * could not DEALLOCATE in a failed host transaction) never collide */
    snprintf(s->stmt_base, sizeof s->stmt_base, "patron_%016llx_%lu", (unsigned long long)h,
             atomic_fetch_add(&store_serial, 1ul));
    s->known_field_end = KNOWN_FIELD_END;
    s->known_addr_end = KNOWN_ADDR_END;
    s->rt_field_end = count_names(patron_field_name, 1);
    s->rt_addr_end = count_names(patron_address_field_name, 1);
    if (generate_sql(s) != 0) {
        store_free(s);
        set_errmsg_out(errmsg_out, "out of memory");
        return PATRON_E_NOMEM;
    }

    if (host_conn) {
        s->conn = host_conn;
        s->own_conn = 0;
        if (PQstatus(host_conn) != CONNECTION_OK) {
            store_free(s);
            set_errmsg_out(errmsg_out, "patron_pg_store_open_conn: the connection is not open");
            return PATRON_E_INVALID;
        }
        if (strcmp(pg_encoding_to_char(PQclientEncoding(host_conn)), "UTF8") != 0) {
            snprintf(msg, sizeof msg,
                     "patron_pg_store_open_conn: the connection's client_encoding is %s; patron "
                     "needs UTF8 (PQsetClientEncoding(conn, \"UTF8\"))",
                     pg_encoding_to_char(PQclientEncoding(host_conn)));
            store_free(s);
            set_errmsg_out(errmsg_out, msg);
            return PATRON_E_INVALID;
        }
    } else {
        s->own_conn = 1;
        s->conn = PQconnectdb(conninfo);
        if (s->conn)
            PQsetNoticeProcessor(s->conn, quiet_notice, NULL);
        if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
            const char *m = s->conn ? PQerrorMessage(s->conn) : "out of memory";
            size_t n;
            snprintf(msg, sizeof msg, "cannot connect to PostgreSQL: %s", m);
            n = strlen(msg);
            while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                msg[--n] = '\0';
            store_free(s);
            set_errmsg_out(errmsg_out, msg);
            return PATRON_E_STORE;
        }
        if (PQsetClientEncoding(s->conn, "UTF8") != 0) {
            store_free(s);
            set_errmsg_out(errmsg_out, "cannot set client_encoding to UTF8");
            return PATRON_E_STORE;
        }
    }

    s->backend_pid = PQbackendPID(s->conn);
    st = ppg_schema_prepare(s, msg, sizeof msg);
    if (st != PATRON_OK) {
        store_free(s);
        set_errmsg_out(errmsg_out, msg);
        return st;
    }

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
    ops_out->match_form_put = cb_match_form_put;
    ops_out->match_form_get = cb_match_form_get;
    ops_out->count = cb_count;
    ops_out->journal_rewrite = cb_journal_rewrite;
    ops_out->prefetch = cb_prefetch;
    *ctx_out = s;
    return PATRON_OK;
}

PATRON_API patron_status patron_pg_store_open(patron_store_ops *ops_out, void **ctx_out,
                                              char **errmsg_out, const char *conninfo,
                                              const patron_pg_options *opts)
{
    return open_common(ops_out, ctx_out, errmsg_out, conninfo, NULL, opts);
}

PATRON_API patron_status patron_pg_store_open_conn(patron_store_ops *ops_out, void **ctx_out,
                                                   char **errmsg_out, struct pg_conn *conn,
                                                   const patron_pg_options *opts)
{
    if (!conn) {
        if (errmsg_out)
            set_errmsg_out(errmsg_out, "patron_pg_store_open_conn: conn is NULL");
        if (ctx_out)
            *ctx_out = NULL;
        return PATRON_E_INVALID;
    }
    return open_common(ops_out, ctx_out, errmsg_out, NULL, conn, opts);
}

static patron_status db_open(patron_db **out, patron_pg **store_out, char **errmsg_out,
                             const char *conninfo, PGconn *conn, const patron_pg_options *opts)
{
    patron_store_ops ops;
    void *ctx = NULL;
    patron_status st;

    if (store_out)
        *store_out = NULL;
    if (errmsg_out)
        *errmsg_out = NULL;
    if (!out) {
        set_errmsg_out(errmsg_out, "patron_db_open_postgres: out must not be NULL");
        return PATRON_E_INVALID;
    }
    *out = NULL;
    if (conn)
        st = patron_pg_store_open_conn(&ops, &ctx, errmsg_out, conn, opts);
    else
        st = patron_pg_store_open(&ops, &ctx, errmsg_out, conninfo, opts);
    if (st != PATRON_OK)
        return st;
    st = patron_db_open(out, &ops, ctx);
    if (st != PATRON_OK) {
        store_free(ctx);
        set_errmsg_out(errmsg_out, "patron_db_open refused the PostgreSQL store");
        return st;
    }
    if (store_out)
        *store_out = ctx;
    return PATRON_OK;
}

PATRON_API patron_status patron_db_open_postgres(patron_db **out, patron_pg **store_out,
                                                 char **errmsg_out, const char *conninfo,
                                                 const patron_pg_options *opts)
{
    if (!conninfo) {
        if (out)
            *out = NULL;
        if (store_out)
            *store_out = NULL;
        set_errmsg_out(errmsg_out, "patron_db_open_postgres: conninfo is NULL");
        return PATRON_E_INVALID;
    }
    return db_open(out, store_out, errmsg_out, conninfo, NULL, opts);
}

PATRON_API patron_status patron_db_open_postgres_conn(patron_db **out, patron_pg **store_out,
                                                      char **errmsg_out, struct pg_conn *conn,
                                                      const patron_pg_options *opts)
{
    if (!conn) {
        if (out)
            *out = NULL;
        if (store_out)
            *store_out = NULL;
        set_errmsg_out(errmsg_out, "patron_db_open_postgres_conn: conn is NULL");
        return PATRON_E_INVALID;
    }
    return db_open(out, store_out, errmsg_out, NULL, conn, opts);
}

/* ------------------------------------------------------------------------ */
/* For the host                                                              */

PATRON_API struct pg_conn *patron_pg_handle(patron_pg *store)
{
    return store ? store->conn : NULL;
}

PATRON_API const char *patron_pg_errmsg(const patron_pg *store)
{
    return store ? store->err : "";
}

PATRON_API int64_t patron_pg_lock_key(const patron_pg *store)
{
    return store ? store->lock_key : 0;
}

PATRON_API patron_status patron_pg_begin(patron_pg *store)
{
    int st;
    if (!store)
        return PATRON_E_INVALID;
    if (store->tx != TX_NONE || PQtransactionStatus(store->conn) != PQTRANS_IDLE)
        return ppg_error(store, PATRON_E_STATE, "patron_pg_begin: a transaction is already open");
    /* a patron transaction of our own, then handed to the host */
    if ((st = begin_with(store, !(store->flags & PATRON_PG_READONLY))) != 0)
        return (patron_status)st;
    store->tx = TX_NONE;
    return PATRON_OK;
}

PATRON_API patron_status patron_pg_commit(patron_pg *store)
{
    if (!store)
        return PATRON_E_INVALID;
    if (store->tx != TX_NONE || PQtransactionStatus(store->conn) != PQTRANS_INTRANS)
        return ppg_error(store, PATRON_E_STATE, "patron_pg_commit: no host transaction is open");
    return exec_plain(store, "COMMIT", "patron_pg_commit") == 0 ? PATRON_OK : PATRON_E_STORE;
}

PATRON_API patron_status patron_pg_rollback(patron_pg *store)
{
    PGTransactionStatusType ts;
    if (!store)
        return PATRON_E_INVALID;
    if (store->tx != TX_NONE)
        return ppg_error(store, PATRON_E_STATE, "patron_pg_rollback: a patron call is still running");
    ts = PQtransactionStatus(store->conn);
    if (ts != PQTRANS_INTRANS && ts != PQTRANS_INERROR)
        return ppg_error(store, PATRON_E_STATE, "patron_pg_rollback: no host transaction is open");
    return exec_plain(store, "ROLLBACK", "patron_pg_rollback") == 0 ? PATRON_OK : PATRON_E_STORE;
}
