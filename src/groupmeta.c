/* patron — customer groups as the save path needs them: read a group,
 * list them, check that a record's group exists.  The groups API is in
 * groups.c.  A group is the meta entry "group/<name>" with a value of lines
 * "attribute\tvalue": discount_percent, price_category, default.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

bool patron__has_groups(const patron_db *db)
{
    return patron__st_has(db, PATRON__CAP_META);
}

static void parse_group(patron__group *g, const char *key, const char *value)
{
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", key + strlen(PATRON__GROUP_PREFIX));
    for (const char *line = value; line && *line;) {
        const char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        if (tab && tab < end) {
            int vl = (int)(end - tab - 1);
            if (strncmp(line, "discount_percent\t", 17) == 0)
                snprintf(g->discount, sizeof g->discount, "%.*s", vl, tab + 1);
            else if (strncmp(line, "price_category\t", 15) == 0)
                snprintf(g->price_category, sizeof g->price_category, "%.*s", vl, tab + 1);
            else if (strncmp(line, "default\t", 8) == 0)
                g->is_default = tab[1] == '1';
        }
        line = nl ? nl + 1 : end;
    }
}

static int take_group(void *ctx, const char *key, const char *value)
{
    parse_group(ctx, key, value);
    return 0;
}

patron_status patron__group_get(patron_db *db, patron__group *g, const char *name)
{
    char key[80];
    snprintf(key, sizeof key, PATRON__GROUP_PREFIX "%s", name);
    return patron__st_meta_get(db, key, take_group, g, PASS_NOT_FOUND);
}

static int add_group(void *ctx, const char *key, const char *value)
{
    patron__glist *l = ctx;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 8;
        patron__group *ng = patron__realloc(l->g, nc * sizeof *ng);
        if (!ng) {
            l->oom = true;
            return 1;
        }
        l->g = ng;
        l->cap = nc;
    }
    parse_group(&l->g[l->n++], key, value);
    return 0;
}

patron_status patron__group_all(patron_db *db, patron__glist *l)
{
    patron_status st;
    memset(l, 0, sizeof *l);
    st = patron__st_meta_scan(db, PATRON__GROUP_PREFIX, add_group, l);
    if (!st && l->oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    return st;
}

patron_status patron__group_for_new(patron_db *db, patron_customer *w)
{
    const char *g = w->f[PATRON_F_GROUP];
    patron__glist l;
    patron_status st;
    if (!patron__has_groups(db))
        return PATRON_OK;
    if (g)
        return patron__group_check(db, w);
    if ((st = patron__group_all(db, &l)) != 0)
        return st;
    for (size_t i = 0; i < l.n && !st; i++)
        if (l.g[i].is_default && patron__cust_put(w, PATRON_F_GROUP, l.g[i].name))
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    patron__free(l.g);
    return st;
}

patron_status patron__group_for_new_in(patron_db *db, patron_customer *w, const patron__glist *l)
{
    const char *g = w->f[PATRON_F_GROUP];
    if (!l)
        return PATRON_OK; /* the store keeps no groups */
    for (size_t i = 0; i < l->n; i++) {
        if (g && strcmp(l->g[i].name, g) == 0)
            return PATRON_OK;
        if (!g && l->g[i].is_default && patron__cust_put(w, PATRON_F_GROUP, l->g[i].name))
            return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    if (g)
        return patron__db_error(db, PATRON_E_INVALID, "there is no customer group \"%s\"", g);
    return PATRON_OK;
}

patron_status patron__group_check(patron_db *db, const patron_customer *w)
{
    patron__group g;
    patron_status st;
    if (!patron__has_groups(db) || !w->f[PATRON_F_GROUP])
        return PATRON_OK;
    st = patron__group_get(db, &g, w->f[PATRON_F_GROUP]);
    if (st == PATRON_E_NOT_FOUND)
        return patron__db_error(db, PATRON_E_INVALID, "there is no customer group \"%s\"",
                                w->f[PATRON_F_GROUP]);
    return st;
}

