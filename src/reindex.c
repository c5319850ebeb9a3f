/* patron — the index generation: whether the store's keys and match forms
 * are built the way this library builds them, and a rebuild of them all.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *patron_index_state_name(patron_index_state state)
{
    switch (state) {
    case PATRON_INDEX_CURRENT: return "current";
    case PATRON_INDEX_STALE: return "stale";
    case PATRON_INDEX_NEWER: return "newer";
    case PATRON_INDEX_UNKNOWN: return "unknown";
    }
    return NULL;
}

patron_status patron_db_index_state(patron_db *db, patron_index_state *state_out, unsigned *generation_out,
                                    unsigned *current_out)
{
    unsigned gen = 0;
    bool any = false;
    patron_status st;
    if (generation_out)
        *generation_out = 0;
    if (current_out)
        *current_out = 0;
    if (!db)
        return PATRON_E_INVALID;
    if (!state_out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the state (NULL)");
    *state_out = PATRON_INDEX_UNKNOWN;
    if (patron__st_has(db, PATRON__CAP_META)) {
        if ((st = patron__tx_begin_read(db)) != 0)
            return st;
        char built[3] = "";
        st = patron__index_read(db, &gen, &any);
        /* the keys also follow the default country: built under the one
         * the configuration names now? */
        if (!st && gen == PATRON__INDEX_VERSION && (st = patron__match_config_load(db)) == 0)
            st = patron__index_country(db, built);
        if ((st = patron__tx_end(db, st)) != 0)
            return st;
        if (gen > PATRON__INDEX_VERSION)
            *state_out = PATRON_INDEX_NEWER;
        else if (gen == 0 && !any)
            *state_out = PATRON_INDEX_CURRENT; /* an empty store is built by anyone */
        else if (gen == PATRON__INDEX_VERSION && strcmp(built, db->match_cfg->default_country) == 0)
            *state_out = PATRON_INDEX_CURRENT;
        else
            *state_out = PATRON_INDEX_STALE;
    }
    if (generation_out)
        *generation_out = gen;
    if (current_out)
        *current_out = PATRON__INDEX_VERSION;
    return patron__db_ok(db);
}

/* Ids are read in slices of this many, within the one transaction: the
 * memory of a reindex does not grow with the store. */
#define SLICE 512

/* Rebuild the keys (and form) of record `id` as the save path builds them:
 * the record itself is written back unchanged (update() replaces a record
 * with its keys; its revision and update time are the stored ones). */
static patron_status rekey(patron_db *db, int64_t id)
{
    patron_customer *c = NULL;
    keyset ks;
    patron_status st = patron__load_in_tx(db, &c, id);
    PATRON__KEYSET_INIT(&ks);
    if (st)
        return st;
    if ((st = patron__keys_for(db, &ks, c)) == 0)
        st = patron__st_update(db, c, &ks, 0);
    patron__keys_free(&ks);
    patron_customer_free(c);
    return st;
}

static patron_status reindex_in_tx(patron_db *db, size_t *count)
{
    static const patron_store_filter all = PATRON_FILTER_INIT;
    patron__idvec ids = PATRON__IDVEC_INIT;
    int64_t after = 0;
    patron_status st;
    /* the keys as the store's configuration says (its default country) */
    if ((st = patron__match_config_load(db)) != 0)
        return st;
    for (;;) {
        ids.n = 0;
        if ((st = patron__st_scan(db, &all, after, SLICE, patron__idvec_emit, &ids)) != 0)
            break;
        if (ids.oom) {
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < ids.n && !st; i++) {
            if (ids.v[i] <= after) {
                st = patron__db_error(db, PATRON_E_STORE, "store callback 'scan' gave ids out of order");
                break;
            }
            after = ids.v[i];
            if ((st = rekey(db, ids.v[i])) == 0)
                (*count)++;
        }
        if (st || ids.n < SLICE)
            break;
    }
    patron__idvec_free(&ids);
    if (!st && patron__st_has(db, PATRON__CAP_META)) {
        char v[16];
        snprintf(v, sizeof v, "%u", (unsigned)PATRON__INDEX_VERSION);
        st = patron__st_meta_put(db, PATRON__INDEX_META_KEY, v);
        if (!st)
            st = patron__st_meta_put(db, PATRON__INDEX_COUNTRY_META_KEY, db->match_cfg->default_country);
    }
    return st;
}

patron_status patron_db_reindex(patron_db *db, size_t *count_out)
{
    size_t count = 0;
    patron_status st;
    if (count_out)
        *count_out = 0;
    if (!db)
        return PATRON_E_INVALID;
    if ((st = patron__tx_begin(db)) != 0)
        return st;
    if ((st = patron__tx_end(db, reindex_in_tx(db, &count))) != 0)
        return st;
    db->index_noted = true;
    if (count_out)
        *count_out = count;
    return patron__db_ok(db);
}
