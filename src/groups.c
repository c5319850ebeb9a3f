/* patron — customer groups, kept through the store's meta callbacks.
 * SPDX-License-Identifier: MIT
 *
 * A group is the meta entry "group/<name>" with a value of lines
 * "attribute\tvalue": discount_percent, price_category, default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define GROUP_PREFIX PATRON__GROUP_PREFIX
typedef patron__group group;
typedef patron__glist glist;

static patron_status unsupported(patron_db *db)
{
    return patron__db_error(db, PATRON_E_UNSUPPORTED, "this store keeps no customer groups");
}

static patron_status check_name(patron_db *db, const char *name)
{
    static const patron__field_info info = { "group name", PK_TEXT, 64 };
    const char *canon;
    char cbuf[4];
    if (!name || !*name)
        return patron__db_error(db, PATRON_E_INVALID, "a group needs a name");
    return patron__check_value("group name", &info, name, db->errmsg, sizeof db->errmsg, &canon, cbuf,
                               sizeof cbuf);
}

static patron_status put_group(patron_db *db, const group *g)
{
    char key[80], value[200];
    snprintf(key, sizeof key, GROUP_PREFIX "%s", g->name);
    snprintf(value, sizeof value, "discount_percent\t%s\nprice_category\t%s\ndefault\t%d\n", g->discount,
             g->price_category, g->is_default ? 1 : 0);
    return patron__st_meta_put(db, key, value);
}

static patron_status drop_group(patron_db *db, const char *name)
{
    char key[80];
    snprintf(key, sizeof key, GROUP_PREFIX "%s", name);
    return patron__st_meta_put(db, key, NULL);
}

/* Customers of a group in one state (0: any), as ids. */
typedef patron__idvec ids;

static patron_status members(patron_db *db, ids *out, const char *name, int state)
{
    patron_filter f = PATRON_FILTER_INIT;
    patron_status st;
    memset(out, 0, sizeof *out);
    f.group = name;
    f.state = state;
    st = patron__st_scan(db, &f, 0, SIZE_MAX, patron__idvec_emit, out);
    if (!st && out->oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    return st;
}

/* Move customers to another group (or none), each a saved change. */
static patron_status move_members(patron_db *db, const ids *l, const char *to)
{
    patron_status st = PATRON_OK;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < l->n && !st; i++) {
        patron_customer *c = NULL, w;
        memset(&w, 0, sizeof w);
        if ((st = patron__load_in_tx(db, &c, l->v[i])) != 0)
            break;
        if ((st = patron__cust_copy(&w, c)) != 0 || patron__cust_put(&w, PATRON_F_GROUP, to))
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        if (!st)
            st = patron__save_changed(db, &w, c, now);
        patron__cust_clear(&w);
        patron_customer_free(c);
    }
    return st;
}

/* ---- the API --------------------------------------------------------------- */

static patron_status add_in_tx(patron_db *db, const char *name)
{
    group g;
    glist l;
    patron_status st = patron__group_get(db, &g, name);
    if (st == PATRON_OK)
        return patron__db_error(db, PATRON_E_EXISTS, "there is a customer group \"%s\" already", name);
    if (st != PATRON_E_NOT_FOUND)
        return st;
    if ((st = patron__group_all(db, &l)) != 0)
        return st;
    memset(&g, 0, sizeof g);
    snprintf(g.name, sizeof g.name, "%s", name);
    snprintf(g.discount, sizeof g.discount, "0");
    g.is_default = l.n == 0; /* the first group is the default */
    patron__free(l.g);
    return put_group(db, &g);
}

#define GROUP_CALL(db, body) \
    do { \
        patron_status st_; \
        if (!(db)) \
            return PATRON_E_INVALID; \
        if (!patron__has_groups(db)) \
            return unsupported(db); \
        if ((st_ = patron__tx_begin(db)) != 0) \
            return st_; \
        st_ = patron__tx_end((db), (body)); \
        return st_ ? st_ : patron__db_ok(db); \
    } while (0)

patron_status patron_db_group_add(patron_db *db, const char *name)
{
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if ((st = check_name(db, name)) != 0)
        return st;
    GROUP_CALL(db, add_in_tx(db, name));
}

static patron_status rename_in_tx(patron_db *db, const char *from, const char *to)
{
    group g, other;
    ids l;
    patron_status st = patron__group_get(db, &g, from);
    if (st == PATRON_E_NOT_FOUND)
        return patron__db_error(db, st, "there is no customer group \"%s\"", from);
    if (st)
        return st;
    if (strcmp(from, to) == 0)
        return PATRON_OK;
    st = patron__group_get(db, &other, to);
    if (st == PATRON_OK)
        return patron__db_error(db, PATRON_E_EXISTS, "there is a customer group \"%s\" already", to);
    if (st != PATRON_E_NOT_FOUND)
        return st;
    if ((st = drop_group(db, from)) != 0)
        return st;
    snprintf(g.name, sizeof g.name, "%s", to);
    if ((st = put_group(db, &g)) != 0)
        return st;
    if ((st = members(db, &l, from, 0)) == 0)
        st = move_members(db, &l, to);
    patron__free(l.v);
    return st;
}

patron_status patron_db_group_rename(patron_db *db, const char *old_name, const char *new_name)
{
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if ((st = check_name(db, old_name)) != 0 || (st = check_name(db, new_name)) != 0)
        return st;
    GROUP_CALL(db, rename_in_tx(db, old_name, new_name));
}

/* A plain decimal from 0 to 100 with at most two decimals: "0", "12.5",
 * "100", "7.25" — no signs, exponents, hex, leading zeros or bare dots, so
 * that the stored text is also valid JSON. */
static bool discount_ok(const char *v)
{
    size_t i = 0, int_digits = 0, frac_digits = 0;
    unsigned whole = 0;
    while (v[i] >= '0' && v[i] <= '9') {
        whole = whole * 10 + (unsigned)(v[i] - '0');
        int_digits++;
        i++;
        if (int_digits > 3)
            return false;
    }
    if (int_digits == 0 || (int_digits > 1 && v[0] == '0'))
        return false;
    if (v[i] == '.') {
        i++;
        while (v[i] >= '0' && v[i] <= '9') {
            if (v[i] != '0' && whole >= 100)
                return false;
            frac_digits++;
            i++;
        }
        if (frac_digits == 0 || frac_digits > 2)
            return false;
    }
    return v[i] == '\0' && whole <= 100;
}

static patron_status set_in_tx(patron_db *db, const char *name, const char *attr, const char *value)
{
    group g;
    glist l;
    patron_status st = patron__group_get(db, &g, name);
    if (st == PATRON_E_NOT_FOUND)
        return patron__db_error(db, st, "there is no customer group \"%s\"", name);
    if (st)
        return st;
    if (strcmp(attr, "discount_percent") == 0) {
        if (!value || !discount_ok(value))
            return patron__db_error(db, PATRON_E_INVALID,
                                    "discount_percent must be a number from 0 to 100 with at most "
                                    "two decimals, like 12.5");
        snprintf(g.discount, sizeof g.discount, "%s", value);
        return put_group(db, &g);
    }
    if (strcmp(attr, "price_category") == 0) {
        static const patron__field_info info = { "price_category", PK_TEXT, 64 };
        const char *canon;
        char cbuf[4];
        if (value && *value &&
            (st = patron__check_value("price_category", &info, value, db->errmsg, sizeof db->errmsg,
                                      &canon, cbuf, sizeof cbuf)) != 0)
            return st;
        snprintf(g.price_category, sizeof g.price_category, "%s", value ? value : "");
        return put_group(db, &g);
    }
    if (strcmp(attr, "default") == 0) {
        if (!value || (strcmp(value, "1") != 0 && strcmp(value, "0") != 0))
            return patron__db_error(db, PATRON_E_INVALID, "default must be 1 or 0");
        if (value[0] == '0')
            return g.is_default
                       ? patron__db_error(db, PATRON_E_STATE,
                                          "there is always one default group: make another group "
                                          "the default instead")
                       : PATRON_OK;
        if (g.is_default)
            return PATRON_OK;
        if ((st = patron__group_all(db, &l)) != 0)
            return st;
        for (size_t i = 0; i < l.n && !st; i++)
            if (l.g[i].is_default) {
                l.g[i].is_default = false;
                st = put_group(db, &l.g[i]);
            }
        patron__free(l.g);
        g.is_default = true;
        return st ? st : put_group(db, &g);
    }
    return patron__db_error(db, PATRON_E_INVALID,
                            "unknown group attribute \"%s\" (discount_percent, price_category, default)",
                            attr);
}

patron_status patron_db_group_set(patron_db *db, const char *name, const char *attr, const char *value)
{
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if ((st = check_name(db, name)) != 0)
        return st;
    if (!attr)
        return patron__db_error(db, PATRON_E_INVALID, "no attribute given");
    GROUP_CALL(db, set_in_tx(db, name, attr, value));
}

static patron_status assign_in_tx(patron_db *db, const char *name, int64_t id)
{
    group g;
    ids one;
    int64_t v = id;
    patron_customer *c = NULL;
    patron_status st = patron__group_get(db, &g, name);
    if (st == PATRON_E_NOT_FOUND)
        return patron__db_error(db, st, "there is no customer group \"%s\"", name);
    if (st)
        return st;
    if ((st = patron__load_in_tx(db, &c, id)) != 0)
        return st;
    if (patron_customer_state(c) == PATRON_STATE_MERGED)
        st = patron__db_error(db, PATRON_E_STATE, "customer #%lld was merged into another", (long long)id);
    if (patron_customer_state(c) == PATRON_STATE_ERASED)
        st = patron__db_error(db, PATRON_E_STATE, "customer #%lld was erased", (long long)id);
    patron_customer_free(c);
    if (st)
        return st;
    one.v = &v;
    one.n = one.cap = 1;
    one.oom = false;
    return move_members(db, &one, name);
}

patron_status patron_db_group_assign(patron_db *db, const char *name, int64_t id)
{
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if ((st = check_name(db, name)) != 0)
        return st;
    GROUP_CALL(db, assign_in_tx(db, name, id));
}

static patron_status delete_in_tx(patron_db *db, const char *name)
{
    group g;
    glist l;
    ids active, rest;
    const char *def = NULL;
    patron_status st = patron__group_get(db, &g, name);
    if (st == PATRON_E_NOT_FOUND)
        return patron__db_error(db, st, "there is no customer group \"%s\"", name);
    if (st)
        return st;
    if (g.is_default)
        return patron__db_error(db, PATRON_E_STATE,
                                "\"%s\" is the default group; make another group the default first", name);
    if ((st = members(db, &active, name, PATRON_STATE_ACTIVE)) != 0)
        return st;
    if (active.n) {
        st = patron__db_error(db, PATRON_E_STATE, "%zu active customer%s %s in group \"%s\"; move %s first",
                              active.n, active.n == 1 ? "" : "s", active.n == 1 ? "is" : "are", name,
                              active.n == 1 ? "it" : "them");
        patron__free(active.v);
        return st;
    }
    patron__free(active.v);
    if ((st = patron__group_all(db, &l)) != 0)
        return st;
    for (size_t i = 0; i < l.n; i++)
        if (l.g[i].is_default)
            def = l.g[i].name;
    /* merged and pending members go to the default group */
    if ((st = members(db, &rest, name, 0)) == 0)
        st = move_members(db, &rest, def);
    patron__free(rest.v);
    patron__free(l.g);
    return st ? st : drop_group(db, name);
}

patron_status patron_db_group_delete(patron_db *db, const char *name)
{
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if ((st = check_name(db, name)) != 0)
        return st;
    GROUP_CALL(db, delete_in_tx(db, name));
}

/* ---- reading groups ------------------------------------------------------------ */

struct patron_group {
    group g;
    size_t customers;
};

struct patron_groups {
    patron_group *v;
    size_t n;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const patron_group *)a)->g.name, ((const patron_group *)b)->g.name);
}

/* Every group (name == NULL) or the one named, with its count of active
 * customers, sorted by name. */
static patron_status read_in_tx(patron_db *db, patron_groups *out, const char *name)
{
    glist l;
    patron_status st;
    memset(out, 0, sizeof *out);
    if (name) {
        memset(&l, 0, sizeof l);
        if (!(l.g = patron__calloc(1, sizeof *l.g)))
            return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        st = patron__group_get(db, &l.g[0], name);
        if (st == PATRON_E_NOT_FOUND)
            st = patron__db_error(db, PATRON_E_NOT_FOUND, "there is no customer group \"%s\"", name);
        l.n = st ? 0 : 1;
    } else {
        st = patron__group_all(db, &l);
    }
    if (!st && l.n && !(out->v = patron__calloc(l.n, sizeof *out->v)))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    for (size_t i = 0; i < l.n && !st; i++) {
        ids active;
        if ((st = members(db, &active, l.g[i].name, PATRON_STATE_ACTIVE)) != 0)
            break;
        out->v[i].g = l.g[i];
        out->v[i].customers = active.n;
        out->n = i + 1;
        patron__free(active.v);
    }
    patron__free(l.g);
    if (st) {
        patron__free(out->v);
        memset(out, 0, sizeof *out);
        return st;
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, by_name);
    return PATRON_OK;
}

static patron_status read_groups(patron_db *db, patron_groups *out, const char *name)
{
    patron_status st;
    if (!patron__has_groups(db))
        return unsupported(db);
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    st = patron__tx_end(db, read_in_tx(db, out, name));
    if (st) { /* also when only the end of the transaction failed */
        patron__free(out->v);
        memset(out, 0, sizeof *out);
    }
    return st;
}

patron_status patron_db_group_list(patron_db *db, patron_groups **out)
{
    patron_groups *l;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if (!(l = patron__calloc(1, sizeof *l)))
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if ((st = read_groups(db, l, NULL)) != 0) {
        patron__free(l);
        return st;
    }
    *out = l;
    return patron__db_ok(db);
}

patron_status patron_db_group_get(patron_db *db, patron_group **out, const char *name)
{
    patron_groups l;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if ((st = check_name(db, name)) != 0)
        return st;
    if ((st = read_groups(db, &l, name)) != 0)
        return st;
    *out = l.v; /* exactly one */
    return patron__db_ok(db);
}

void patron_group_free(patron_group *g)
{
    patron__free(g);
}

size_t patron_groups_count(const patron_groups *l)
{
    return l ? l->n : 0;
}

const patron_group *patron_groups_at(const patron_groups *l, size_t i)
{
    return l && i < l->n ? &l->v[i] : NULL;
}

void patron_groups_free(patron_groups *l)
{
    if (!l)
        return;
    patron__free(l->v);
    patron__free(l);
}

const char *patron_group_name(const patron_group *g)
{
    return g ? g->g.name : NULL;
}

const char *patron_group_discount_percent(const patron_group *g)
{
    if (!g)
        return NULL;
    return g->g.discount[0] ? g->g.discount : "0";
}

const char *patron_group_price_category(const patron_group *g)
{
    return g && g->g.price_category[0] ? g->g.price_category : NULL;
}

int patron_group_is_default(const patron_group *g)
{
    return g && g->g.is_default ? 1 : 0;
}

size_t patron_group_customers(const patron_group *g)
{
    return g ? g->customers : 0;
}

patron_status patron_db_groups_to_json(patron_db *db, char **out)
{
    patron_strbuf sb;
    patron_groups l;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if ((st = read_groups(db, &l, NULL)) != 0)
        return st;
    patron__sb_init(&sb);
    patron__sb_putc(&sb, '[');
    for (size_t i = 0; i < l.n; i++) {
        const patron_group *g = &l.v[i];
        patron__sb_printf(&sb, "%s{\"name\":", i ? "," : "");
        patron__json_str(&sb, g->g.name);
        patron__sb_printf(&sb, ",\"discount_percent\":%s,\"price_category\":", patron_group_discount_percent(g));
        patron__json_str(&sb, g->g.price_category);
        patron__sb_printf(&sb, ",\"default\":%s,\"customers\":%zu}", g->g.is_default ? "true" : "false",
                          g->customers);
    }
    patron__sb_putc(&sb, ']');
    patron__free(l.v);
    if (sb.oom) {
        patron__sb_free(&sb);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    *out = patron__sb_detach(&sb, NULL);
    return *out ? patron__db_ok(db) : patron__db_error(db, PATRON_E_NOMEM, "out of memory");
}
