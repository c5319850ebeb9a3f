/* A host's own store: how a shop developer plugs patron into data they
 * already keep.  Here the "shop database" is a few arrays in memory; in a
 * real shop the same callbacks would run SQL against the shop's tables.
 *
 * The host keeps:
 *   - a customers table: the columns the shop itself queries (id, number,
 *     email, last name) plus a blob with the full record
 *     (patron_record_pack), so no field patron adds later is ever lost;
 *   - a keys table (kind, value, customer id) that patron fills on every
 *     save and asks on every lookup: an index, never a scan;
 *   - an orders table of its own, which relink() moves when customers merge;
 *   - counters for ids and customer numbers, and the numbers ever given.
 * Transactions: begin() snapshots the tables, rollback() puts the snapshot
 * back.  Crude, but exactly the contract: all or nothing.
 *
 *   ./build/examples/custom-store
 */
#include <patron/patron.h>
#include <patron/store.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 64
#define MAX_KEYS 256

typedef struct row {
    int64_t id;
    char number[32], email[128], last_name[64];
    char *blob; /* patron_record_pack(); freed with patron_free() */
    size_t blob_len;
} row;

typedef struct keyrow {
    int kind;
    char value[160];
    int64_t id;
} keyrow;

typedef struct order {
    char order_id[16];
    int64_t customer_id;
} order;

typedef struct tables {
    row rows[MAX_ROWS];
    size_t n_rows;
    keyrow keys[MAX_KEYS];
    size_t n_keys;
    order orders[8];
    size_t n_orders;
    int64_t next_id;
    uint64_t next_number;
    char used_numbers[MAX_ROWS][32];
    size_t n_used;
} tables;

typedef struct shop {
    tables t, snapshot;
    int in_tx;
    int fail_after_write; /* simulate a failure in the middle of update() */
    char err[128];
} shop;

static char *dup_blob(const char *b, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, b, n);
        d[n] = '\0';
    }
    return d;
}

/* The snapshot owns copies of the blobs, so rollback can restore them. */
static int shop_begin(void *ctx)
{
    shop *s = ctx;
    if (s->in_tx)
        return PATRON_E_STATE;
    s->snapshot = s->t;
    for (size_t i = 0; i < s->t.n_rows; i++)
        s->snapshot.rows[i].blob = dup_blob(s->t.rows[i].blob, s->t.rows[i].blob_len);
    s->in_tx = 1;
    return 0;
}

static void free_blobs(tables *t)
{
    for (size_t i = 0; i < t->n_rows; i++)
        free(t->rows[i].blob);
}

static int shop_commit(void *ctx)
{
    shop *s = ctx;
    free_blobs(&s->snapshot);
    s->in_tx = 0;
    return 0;
}

static int shop_rollback(void *ctx)
{
    shop *s = ctx;
    free_blobs(&s->t);
    s->t = s->snapshot;
    s->in_tx = 0;
    return 0;
}

static row *find_row(shop *s, int64_t id)
{
    for (size_t i = 0; i < s->t.n_rows; i++)
        if (s->t.rows[i].id == id)
            return &s->t.rows[i];
    return NULL;
}

static int shop_load(void *ctx, int64_t id, patron_customer *out)
{
    row *r = find_row(ctx, id);
    if (!r)
        return PATRON_E_NOT_FOUND;
    return patron_record_unpack(out, r->blob, r->blob_len);
}

static void copy_col(char *dst, size_t n, const char *v)
{
    snprintf(dst, n, "%s", v ? v : "");
}

static int put_keys(shop *s, int64_t id, const patron_key *keys, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < s->t.n_keys; i++) /* drop the old keys of id */
        if (s->t.keys[i].id != id)
            s->t.keys[w++] = s->t.keys[i];
    s->t.n_keys = w;
    for (size_t i = 0; i < n; i++) {
        if (s->t.n_keys == MAX_KEYS || strlen(keys[i].value) >= sizeof s->t.keys[0].value) {
            snprintf(s->err, sizeof s->err, "keys table full");
            return -1;
        }
        s->t.keys[s->t.n_keys].kind = keys[i].kind;
        copy_col(s->t.keys[s->t.n_keys].value, sizeof s->t.keys[0].value, keys[i].value);
        s->t.keys[s->t.n_keys++].id = id;
    }
    return 0;
}

static int fill_row(shop *s, row *r, const patron_customer *c)
{
    char *blob;
    size_t len;
    if (patron_record_pack(&blob, &len, c) != PATRON_OK)
        return PATRON_E_NOMEM;
    free(r->blob);
    r->blob = dup_blob(blob, len);
    r->blob_len = len;
    patron_free(blob);
    if (!r->blob)
        return PATRON_E_NOMEM;
    copy_col(r->number, sizeof r->number, patron_customer_get(c, PATRON_F_NUMBER));
    copy_col(r->email, sizeof r->email, patron_customer_get(c, PATRON_F_EMAIL));
    copy_col(r->last_name, sizeof r->last_name, patron_customer_get(c, PATRON_F_LAST_NAME));
    (void)s;
    return 0;
}

static int shop_insert(void *ctx, const patron_customer *c, const patron_key *keys, size_t n,
                       int64_t *id_out)
{
    shop *s = ctx;
    row *r;
    patron_customer *copy;
    int rc;
    if (s->t.n_rows == MAX_ROWS) {
        snprintf(s->err, sizeof s->err, "customers table full");
        return -1;
    }
    r = &s->t.rows[s->t.n_rows];
    memset(r, 0, sizeof *r);
    r->id = s->t.next_id + 1;
    /* The stored record carries its id: load() must give back what is stored. */
    if (patron_customer_clone(c, &copy) != PATRON_OK)
        return PATRON_E_NOMEM;
    {
        char idtxt[24];
        snprintf(idtxt, sizeof idtxt, "%lld", (long long)r->id);
        patron_record_set(copy, PATRON_F_ID, idtxt);
    }
    rc = fill_row(s, r, copy);
    patron_customer_free(copy);
    if (rc)
        return rc;
    if ((rc = put_keys(s, r->id, keys, n)) != 0) {
        free(r->blob);
        return rc;
    }
    s->t.n_rows++;
    s->t.next_id++;
    *id_out = r->id;
    return 0;
}

static int shop_update(void *ctx, const patron_customer *c, const patron_key *keys, size_t n)
{
    shop *s = ctx;
    row *r = find_row(s, patron_customer_id(c));
    int rc;
    if (!r)
        return PATRON_E_NOT_FOUND;
    if ((rc = fill_row(s, r, c)) != 0)
        return rc;
    if (s->fail_after_write) { /* the row is written, the keys are not */
        snprintf(s->err, sizeof s->err, "disk full (simulated)");
        return -1;
    }
    return put_keys(s, r->id, keys, n);
}

static int shop_remove(void *ctx, int64_t id)
{
    shop *s = ctx;
    row *r = find_row(s, id);
    if (!r)
        return PATRON_E_NOT_FOUND;
    free(r->blob);
    *r = s->t.rows[--s->t.n_rows];
    return put_keys(s, id, NULL, 0);
}

static int shop_lookup(void *ctx, int kind, const char *value, patron_emit_id_fn emit, void *ectx)
{
    shop *s = ctx;
    int64_t ids[MAX_KEYS];
    size_t n = 0;
    for (size_t i = 0; i < s->t.n_keys; i++) /* a real shop: SELECT ... WHERE kind=? AND value=? */
        if (s->t.keys[i].kind == kind && strcmp(s->t.keys[i].value, value) == 0)
            ids[n++] = s->t.keys[i].id;
    for (size_t i = 1; i < n; i++) /* ascending, as the contract says */
        for (size_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
            int64_t t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++)
        if (emit(ectx, ids[i]))
            break;
    return 0;
}

static int shop_scan(void *ctx, const patron_store_filter *f, int64_t after, size_t limit,
                     patron_emit_id_fn emit, void *ectx)
{
    shop *s = ctx;
    size_t sent = 0;
    for (int64_t id = after + 1; id <= s->t.next_id && sent < limit; id++) {
        row *r = find_row(s, id);
        patron_customer *c;
        int match;
        if (!r)
            continue;
        if (patron_customer_new(&c) != PATRON_OK || patron_record_unpack(c, r->blob, r->blob_len)) {
            patron_customer_free(c);
            return PATRON_E_NOMEM;
        }
        match = (!f->state || patron_customer_state(c) == f->state) &&
                (f->locked == PATRON_FILTER_ANY || patron_customer_locked(c) == f->locked) &&
                (!f->group || (patron_customer_get(c, PATRON_F_GROUP) &&
                               strcmp(patron_customer_get(c, PATRON_F_GROUP), f->group) == 0));
        patron_customer_free(c);
        if (match) {
            sent++;
            if (emit(ectx, id))
                break;
        }
    }
    return 0;
}

static int shop_next_number(void *ctx, uint64_t *out)
{
    shop *s = ctx;
    *out = ++s->t.next_number;
    return 0;
}

static int shop_claim_number(void *ctx, const char *number)
{
    shop *s = ctx;
    for (size_t i = 0; i < s->t.n_used; i++)
        if (strcmp(s->t.used_numbers[i], number) == 0)
            return PATRON_E_EXISTS;
    if (s->t.n_used == MAX_ROWS)
        return -1;
    copy_col(s->t.used_numbers[s->t.n_used++], sizeof s->t.used_numbers[0], number);
    return 0;
}

/* The shop's orders follow a merge. */
static int shop_relink(void *ctx, int64_t from, int64_t to, patron_emit_ref_fn emit, void *ectx)
{
    shop *s = ctx;
    for (size_t i = 0; i < s->t.n_orders; i++)
        if (s->t.orders[i].customer_id == from) {
            s->t.orders[i].customer_id = to;
            if (emit(ectx, "order", s->t.orders[i].order_id))
                return -1;
        }
    return 0;
}

static const char *shop_errmsg(void *ctx)
{
    return ((shop *)ctx)->err;
}

int main(void)
{
    static shop s; /* zeroed */
    patron_store_ops ops = PATRON_STORE_OPS_INIT;
    patron_db *db;
    patron_customer *c, *found;
    size_t a;
    int ok = 1;

    ops.begin = shop_begin;
    ops.commit = shop_commit;
    ops.rollback = shop_rollback;
    ops.load = shop_load;
    ops.insert = shop_insert;
    ops.update = shop_update;
    ops.remove = shop_remove;
    ops.lookup = shop_lookup;
    ops.scan = shop_scan;
    ops.next_number = shop_next_number;
    ops.claim_number = shop_claim_number;
    ops.relink = shop_relink;
    ops.errmsg = shop_errmsg;

    if (patron_db_open(&db, &ops, &s) != PATRON_OK)
        return 1;
    patron_db_set_number_format(db, "SHOP-", 5);

    patron_customer_new(&c);
    patron_customer_set(c, PATRON_F_FIRST_NAME, "Jürgen");
    patron_customer_set(c, PATRON_F_LAST_NAME, "O'Brien\"; DROP TABLE customers; --");
    patron_customer_set(c, PATRON_F_EMAIL, "juergen@example.de");
    patron_customer_set(c, PATRON_F_ORDER_TEXT, "Bitte immer mit Lieferschein.\nDanke!");
    patron_customer_address_add(c, &a);
    patron_customer_address_set(c, a, PATRON_A_STREET, "Schloßallee");
    patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, "60311");
    patron_customer_tag_add(c, "stammkunde");
    if (patron_db_create(db, c) != PATRON_OK) {
        fprintf(stderr, "create: %s\n", patron_db_errmsg(db));
        return 1;
    }
    printf("created %s in the shop's own table (row id %lld, column last_name = %s)\n",
           patron_customer_get(c, PATRON_F_NUMBER), (long long)s.t.rows[0].id, s.t.rows[0].last_name);

    if (patron_db_find(db, &found, PATRON_KEY_EMAIL, "JUERGEN@example.de") != PATRON_OK) {
        fprintf(stderr, "find: %s\n", patron_db_errmsg(db));
        return 1;
    }
    printf("found by email: %s %s, order text kept: %s\n", patron_customer_get(found, PATRON_F_NUMBER),
           patron_customer_get(found, PATRON_F_LAST_NAME),
           strcmp(patron_customer_get(found, PATRON_F_ORDER_TEXT), "Bitte immer mit Lieferschein.\nDanke!") == 0
               ? "yes" : "NO");
    ok &= strcmp(patron_customer_get(found, PATRON_F_NUMBER), "SHOP-00001") == 0;
    ok &= strcmp(patron_customer_get(found, PATRON_F_LAST_NAME), "O'Brien\"; DROP TABLE customers; --") == 0;

    /* A failing save leaves the shop's tables as they were. */
    patron_customer_set(found, PATRON_F_LAST_NAME, "Obrien");
    s.fail_after_write = 1;
    {
        size_t keys_before = s.t.n_keys;
        patron_status st = patron_db_update(db, found);
        printf("update failing half-way: %s (%s); row still says %s\n", patron_status_message(st),
               patron_db_errmsg(db), s.t.rows[0].last_name);
        ok &= st == PATRON_E_STORE && s.t.n_keys == keys_before &&
              strcmp(s.t.rows[0].last_name, "O'Brien\"; DROP TABLE customers; --") == 0;
    }

    s.fail_after_write = 0;
    patron_customer_free(c);
    patron_customer_free(found);
    patron_db_close(db);
    free_blobs(&s.t);
    puts(ok ? "custom store: all checks passed" : "custom store: a check FAILED");
    return ok ? 0 : 1;
}
