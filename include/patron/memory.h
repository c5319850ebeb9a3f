/*
 * patron — the memory store: the embedded default, a store like the others
 * behind the interface of patron/store.h, built into libpatron.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PATRON_MEMORY_H
#define PATRON_MEMORY_H

#include "patron.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct patron_memstore patron_memstore;

/**
 * A memory store: the embedded default.  Data lives as long as the store.
 * Several patron_db handles (also in several threads) may share one store;
 * each transaction holds the store's lock.
 * @param[out] out  free with patron_memstore_free() after every handle on it
 *                  is closed.
 */
PATRON_API patron_status patron_memstore_new(patron_memstore **out);
/** Free a memory store.  NULL is ignored.  No handle may still use it. */
PATRON_API void patron_memstore_free(patron_memstore *ms);

/** Flags for patron_memstore_set_ref(). */
enum {
    /** The reference cannot move to another customer (e.g. a signed
     *  contract): a merge of its customer is refused with a reason. */
    PATRON_REF_PINNED = 1u << 0
};

/**
 * Keep a reference of the host in the memory store — an order, an invoice —
 * so that merges re-link it and undo moves it back.  `kind` ("order") and
 * `ref_id` are copied.  `customer_id` 0 removes the reference.  Takes the
 * store's lock; not for use inside a store callback.
 */
PATRON_API patron_status patron_memstore_set_ref(patron_memstore *ms, const char *kind, const char *ref_id,
                                                 int64_t customer_id, unsigned flags);

/** The customer a reference belongs to (0 if the reference is unknown). */
PATRON_API int64_t patron_memstore_ref_owner(patron_memstore *ms, const char *kind, const char *ref_id);

/**
 * The memory store's callbacks, for a host that wants to wrap them (add
 * logging, re-link its own orders, inject faults in tests).  Set
 * `ops_out->version` first to the PATRON_STORE_VERSION you were built
 * against (PATRON_STORE_OPS_INIT does): only that version's members are
 * written, so a struct of an older header's size is safe.  Fills `ops_out`
 * and a new session context `*ctx_out` on `ms` (NULL: a private store owned
 * by the session).  Pass both to patron_db_open(); ops_out->destroy(ctx)
 * releases the session — patron_db_close() calls it.
 * @return PATRON_E_ABI if ops_out->version is not a version this library
 *         knows.
 */
PATRON_API patron_status patron_memstore_ops(patron_store_ops *ops_out, void **ctx_out,
                                             patron_memstore *ms);

/**
 * Open a handle on a memory store.
 * @param[out] out  the handle; close with patron_db_close().
 * @param ms        a store shared with other handles, or NULL for a private
 *                  store that lives and dies with this handle.
 */
PATRON_API patron_status patron_db_open_memory(patron_db **out, patron_memstore *ms);

#ifdef __cplusplus
}
#endif
#endif /* PATRON_MEMORY_H */
