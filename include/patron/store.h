/*
 * patron — the storage interface.
 *
 * SPDX-License-Identifier: MIT
 *
 * The core never touches files or databases.  It reads and writes through a
 * patron_store_ops: a struct of callbacks plus a `void *ctx` of the host's.
 * A host maps its own schema onto these callbacks, so that, for example, a
 * merge re-links the host's orders inside the host's own transaction.
 *
 * Growing without breaking hosts (after SQLite's sqlite3_vfs and libgit2's
 * git_odb_backend): the struct begins with `version`; members are only ever
 * appended, and every appended member bumps PATRON_STORE_VERSION.  A host
 * sets `version` to the PATRON_STORE_VERSION it was compiled against (use
 * PATRON_STORE_OPS_INIT or patron_store_ops_init()); patron_db_open() copies
 * only the members that version has — a host built against an older header
 * has a smaller struct, and nothing past its end is read — and treats the
 * newer members as NULL.  Optional callbacks may be NULL: the library then
 * falls back or answers PATRON_E_UNSUPPORTED.
 *
 * What is frozen with which version (never changed afterwards, only
 * appended to through a new version):
 *  - version 1: the members under "version 1" below; patron_key,
 *    patron_journal_entry, patron_store_filter (= patron_filter, with
 *    PATRON_FILTER_INIT) and the emit function types.
 *  - version 2: match_form_put and match_form_get.
 *  - version 3: count (term frequencies of the matcher, issue 11).
 *  - version 4: begin_read (read-only transactions, issue 13).
 *  - version 5: journal_rewrite and purge (erasure of personal data,
 *    issue 16).
 *  - version 6: prefetch (batched creates, patron_db_create_many(),
 *    issue 15).
 *
 * Contract shared by all callbacks:
 *  - Return 0 on success or a negative patron_status.  PATRON_E_NOT_FOUND and
 *    PATRON_E_EXISTS have the meaning given per callback; any other negative
 *    value is reported to the caller as PATRON_E_STORE, with the text of
 *    `errmsg` if the store has one.
 *  - Every mutation happens between begin() and commit(); after a failure
 *    anywhere the library calls rollback(), which must undo everything since
 *    begin() — records, keys, the number counter, claimed numbers, journal,
 *    re-linked references.  Reads also run in a transaction so that a
 *    store can give them a consistent snapshot: one begun with
 *    begin_read() (version 4) when the store has it and the library only
 *    reads — load, find, list, match, dedupe, merge plans, exports, journal
 *    listings, the login and order gates — else one begun with begin().
 *    Either kind ends with commit() or rollback().
 *    Transactions do not nest; one handle runs one at a time.
 *  - Strings passed in are valid only during the call; copy what you keep.
 *  - Callbacks must not call back into the same patron_db.
 *  - `ctx` is whatever the host passed to patron_db_open(), NULL included.
 *  - A `limit` of SIZE_MAX means "no limit".
 *  - When an emit function returns non-zero, stop and return 0; relink()
 *    then returns PATRON_E_STORE (a reference moved but not reported
 *    could not be moved back).
 */
#ifndef PATRON_STORE_H
#define PATRON_STORE_H

#include "patron.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The version of patron_store_ops this header describes. */
#define PATRON_STORE_VERSION 6

/**
 * An index key of a customer, computed by the core on every save.  `kind` is
 * a patron_key_kind (or a match key kind added by later versions: treat
 * unknown kinds like the others — store and look them up as given).  `value`
 * is a NUL-terminated UTF-8 string.
 */
typedef struct patron_key {
    int kind;
    const char *value;
} patron_key;

/** Receives one id from lookup() / scan().  Return 0 to go on, non-zero to
 *  stop early (then the callback returns 0 as well). */
typedef int (*patron_emit_id_fn)(void *emit_ctx, int64_t id);

/** Receives one reference that re-link moved: `kind` (e.g. "order") and the
 *  host's id of it.  Return 0 to go on; non-zero aborts the re-link. */
typedef int (*patron_emit_ref_fn)(void *emit_ctx, const char *kind, const char *ref_id);

/** Receives one reason why a customer's references cannot move. */
typedef int (*patron_emit_reason_fn)(void *emit_ctx, const char *reason);

/** A journal entry.  Strings are valid during the call only. */
typedef struct patron_journal_entry {
    int64_t id;          /**< assigned by journal_append */
    int64_t time;        /**< seconds since 1970 */
    const char *kind;    /**< "merge", "undo", "lock", ... */
    int64_t customer_id; /**< the customer it is about (the survivor of a merge) */
    int64_t undone_by;   /**< id of the entry that undid this one, or 0 */
    const char *payload; /**< text written and read by the core (for a merge: the before-images,
                              password hashes included); opaque to the store, never to be shown */
} patron_journal_entry;

typedef int (*patron_emit_journal_fn)(void *emit_ctx, const patron_journal_entry *entry);

/** Receives one named value from meta_get() / meta_scan(). */
typedef int (*patron_emit_meta_fn)(void *emit_ctx, const char *key, const char *value);

/** Which records scan() selects.  Same meaning as patron_filter. */
typedef patron_filter patron_store_filter;

typedef struct patron_store_ops {
    /** PATRON_STORE_VERSION of the header the host was built with. */
    unsigned int version;

    /* ---- version 1 (frozen) --------------------------------------------- */

    /** Start a transaction (required). */
    int (*begin)(void *ctx);
    /** Make everything since begin() durable (required). */
    int (*commit)(void *ctx);
    /** Undo everything since begin() (required).  Must not fail; a return
     *  value other than 0 is reported but nothing more can be done. */
    int (*rollback)(void *ctx);

    /**
     * Read record `id` into `out`, an empty record the core made (required).
     * Fill it with patron_record_set() and the address, tag and property
     * functions of patron.h, or in one go with patron_record_unpack().
     * PATRON_E_NOT_FOUND if there is no such record.
     */
    int (*load)(void *ctx, int64_t id, patron_customer *out);

    /**
     * Store a new record and its keys (required).  Write the new id (> 0,
     * never used before, never reused) to *id_out.  Keep every field, the
     * lists and the keys: load() must give back exactly what was stored
     * (patron_record_pack() gives everything as one byte string).
     * `keys` has `n_keys` entries; the same (kind, value) may index many ids.
     */
    int (*insert)(void *ctx, const patron_customer *c, const patron_key *keys, size_t n_keys,
                  int64_t *id_out);

    /** Replace record patron_customer_id(c) and all its keys (required). */
    int (*update)(void *ctx, const patron_customer *c, const patron_key *keys, size_t n_keys);

    /** Remove record `id` and its keys (required).  PATRON_E_NOT_FOUND if absent. */
    int (*remove)(void *ctx, int64_t id);

    /** Emit the ids indexed under (kind, value), in ascending order (required). */
    int (*lookup)(void *ctx, int kind, const char *value, patron_emit_id_fn emit, void *emit_ctx);

    /**
     * Emit, in ascending order, the ids greater than `after_id` of records
     * that match `filter` (never NULL), stopping after `limit` ids (required).
     */
    int (*scan)(void *ctx, const patron_store_filter *filter, int64_t after_id, size_t limit,
                patron_emit_id_fn emit, void *emit_ctx);

    /**
     * Advance the customer-number counter and write its new value (starting
     * at 1) to *out (required).  The counter never goes back except by
     * rollback(), so a number is never given twice.
     */
    int (*next_number)(void *ctx, uint64_t *out);

    /**
     * Mark `number` as used, for ever (required).  PATRON_E_EXISTS if it was
     * claimed before — even if its customer has since been deleted.
     */
    int (*claim_number)(void *ctx, const char *number);

    /**
     * Move every reference of the host (orders, invoices, returns, ...) from
     * customer `from_id` to `to_id`, emitting each one moved (optional; NULL:
     * the store holds no references and merges move nothing).
     */
    int (*relink)(void *ctx, int64_t from_id, int64_t to_id, patron_emit_ref_fn emit, void *emit_ctx);

    /** Move one reference, as emitted by relink(), to customer `to_id`
     *  (optional; needed to undo a merge that moved references). */
    int (*move_ref)(void *ctx, const char *kind, const char *ref_id, int64_t to_id);

    /**
     * Emit one reason for each reference of customer `id` that cannot move
     * to another customer (optional; NULL: everything can move).  A merge
     * is refused while any is emitted.
     */
    int (*check_refs)(void *ctx, int64_t id, patron_emit_reason_fn emit, void *emit_ctx);

    /** Append a journal entry; write its new id (> 0, ascending) to *id_out
     *  (optional; NULL: no journal, so no undo). */
    int (*journal_append)(void *ctx, const patron_journal_entry *entry, int64_t *id_out);
    /** Emit journal entry `id` (optional).  PATRON_E_NOT_FOUND if absent. */
    int (*journal_get)(void *ctx, int64_t id, patron_emit_journal_fn emit, void *emit_ctx);
    /** Emit up to `limit` entries with id > after_id, ascending (optional). */
    int (*journal_scan)(void *ctx, int64_t after_id, size_t limit, patron_emit_journal_fn emit,
                        void *emit_ctx);
    /** Set undone_by of entry `id` (optional). */
    int (*journal_set_undone)(void *ctx, int64_t id, int64_t undone_by);

    /** The store's own message for its last failure, or NULL (optional).
     *  Owned by the store. */
    const char *(*errmsg)(void *ctx);

    /** Called by patron_db_close() to release `ctx` (optional). */
    void (*destroy)(void *ctx);

    /**
     * Small named values the library keeps for itself — customer groups and
     * their attributes, the matcher's model, the review queue, the index
     * generation (optional; NULL: the store has no customer groups, and
     * patron_db_index_state() answers PATRON_INDEX_UNKNOWN).
     * Keys and values are UTF-8 text; keys are at most 200 bytes.
     * meta_get: emit the value of `key`, or PATRON_E_NOT_FOUND.
     * meta_put: set `key` to `value`; a NULL value removes it.
     * meta_scan: emit every key starting with `prefix`, in ascending byte order.
     */
    int (*meta_get)(void *ctx, const char *key, patron_emit_meta_fn emit, void *emit_ctx);
    int (*meta_put)(void *ctx, const char *key, const char *value);
    int (*meta_scan)(void *ctx, const char *prefix, patron_emit_meta_fn emit, void *emit_ctx);

    /* ---- version 2 (frozen) --------------------------------------------- */

    /**
     * The match form: a byte string the core computes from a record on
     * every save (the record normalised for matching, with its state) and
     * reads back when it matches, instead of loading and normalising the
     * whole record.  Opaque to the store: keep the bytes as given.
     * Both callbacks are optional, and used only when both are set; without
     * them the core loads candidates with load().
     *
     * match_form_put: called after insert() or update() of record `id` in
     * the same transaction, with `len` bytes; replaces the form the record
     * had.  insert() and update() themselves drop any form the record had,
     * so that a record without a put has none.  Undone by rollback() with
     * the rest.
     *
     * match_form_get: write the form of record `id` to *form and *len_out,
     * or return PATRON_E_NOT_FOUND if the record does not exist or has no
     * form.  The bytes are borrowed: they must stay unchanged until the
     * transaction ends (copy them into memory freed by commit()/rollback()
     * if the store's own buffer does not live that long).  The core checks
     * them before use and loads the record instead when they are not a form
     * it wrote.
     */
    int (*match_form_put)(void *ctx, int64_t id, const void *form, size_t len);
    int (*match_form_get)(void *ctx, int64_t id, const void **form, size_t *len_out);

    /* ---- version 3 (frozen) --------------------------------------------- */

    /**
     * How many records hold the index key (kind, value): the number of ids
     * lookup() would emit, written to *count_out (optional).  The matcher
     * weighs an agreement on a value by how many customers hold it (term
     * frequencies, issue 11); it asks for a few counts per match, so answer
     * from the index (a hash map's list length, an index-only
     * `SELECT count(*)`), never by a scan of the records.  NULL: the core
     * counts through lookup(), stopping at 1000 (100000 for the number of
     * customers).
     */
    int (*count)(void *ctx, int kind, const char *value, uint64_t *count_out);

    /* ---- version 4 ------------------------------------------------------ */

    /**
     * Start a transaction in which the library only reads (optional; NULL:
     * the library calls begin() instead).  It ends with commit() or
     * rollback() like any other.  A store whose writers lock readers out of
     * begin() can take a shared snapshot here instead (the SQLite store:
     * BEGIN DEFERRED, which in WAL mode never waits for a writer).  The
     * library calls no writing callback inside it.
     */
    int (*begin_read)(void *ctx);

    /* ---- version 5 ------------------------------------------------------ */

    /**
     * Replace the payload of journal entry `id` with `payload` (optional;
     * needed by patron_db_erase() when the journal holds entries about the
     * person: their before-images are scrubbed).  Keep nothing of the old
     * payload.  PATRON_E_NOT_FOUND if there is no such entry.  Undone by
     * rollback() with the rest.
     */
    int (*journal_rewrite)(void *ctx, int64_t id, const char *payload);

    /**
     * Called right after the commit of an erasure (optional): make the bytes
     * the transaction removed or overwrote unrecoverable wherever the store
     * still keeps them — a write-ahead log, free pages, caches (the SQLite
     * store: PRAGMA wal_checkpoint(TRUNCATE), with secure_delete always on).
     * A failure is reported (PATRON_E_STORE) but the erasure stays
     * committed; call it again through another erasure or by the store's
     * own means.
     */
    int (*purge)(void *ctx);

    /* ---- version 6 ------------------------------------------------------ */

    /**
     * A hint for batched work (optional; NULL: none).  Called by
     * patron_db_create_many() inside its transaction (begin() ... commit()),
     * possibly several times: the library is about to look up the index
     * keys `keys` (n_keys of them) with lookup(), to claim some of the
     * customer numbers `numbers` (n_numbers, each NUL-terminated) with
     * claim_number(), and to insert about `n_inserts` records, before the
     * transaction ends.  A store that answers one call per round trip can
     * fetch all of it at once here and then answer those lookups and claims
     * from memory, and gather the inserts to write them together at
     * commit() — holding, as long as the transaction lasts, whatever lock
     * keeps other writers from changing what it fetched.  The answers of
     * every callback must be exactly those without the hint: a lookup of a
     * prefetched key gives the ids stored before the hint plus the ids
     * inserted since under that key; a claim of a prefetched number that
     * was free succeeds once; rollback() undoes everything as always; a
     * write that fails may be reported by a later callback of the same
     * transaction, commit() at the latest.  Returning an error fails the
     * whole call (it is rolled back).
     */
    int (*prefetch)(void *ctx, const patron_key *keys, size_t n_keys, const char *const *numbers,
                    size_t n_numbers, size_t n_inserts);
} patron_store_ops;

/**
 * Initialiser for a host's ops: the version set, every callback NULL — in C
 * `{ .version = PATRON_STORE_VERSION }`, which needs no change when members
 * are appended (and, being designated, draws no missing-initializer warning).
 * C++11 has no designated initializers: there it is an expression giving a
 * value-initialised struct with the version set.
 */
#ifdef __cplusplus
#  define PATRON_STORE_OPS_INIT \
      ([] { patron_store_ops o_ = patron_store_ops(); o_.version = PATRON_STORE_VERSION; return o_; }())
#else
#  define PATRON_STORE_OPS_INIT { .version = PATRON_STORE_VERSION }
#endif

/**
 * Initialise `ops` for a host built against store interface `version`:
 * every member that version has set to zero (NULL), `version` set.  Writes
 * nothing past the end of that version's struct, so a host may pass a
 * struct of an older version's size.
 * @return PATRON_E_INVALID if ops is NULL, PATRON_E_ABI if this library
 *         does not know `version` (0, or newer than PATRON_STORE_VERSION).
 */
PATRON_API patron_status patron_store_ops_init(patron_store_ops *ops, unsigned version);

/**
 * Set any field of a record being loaded, system fields included (for use
 * in load()).  Values are checked for UTF-8 and length, not for their
 * format (a store gives back what the library wrote), except the system
 * values: a timestamp, id, revision or merged_into is a whole number in
 * canonical decimal (no leading zeros; at most 18446744073709551615 for
 * the revision, 9223372036854775807 for the others); state
 * is "pending"/"active"/"merged"/"erased"; locked "0" or "1".  PATRON_E_INVALID with
 * a message otherwise, and the record is unchanged.
 */
PATRON_API patron_status patron_record_set(patron_customer *c, int field, const char *value);

/**
 * Every field, list and system value of `c` as one byte string, for stores
 * that keep a record as a blob (the password hash included: a store keeps it).
 * @param[out] out  free with patron_free().  *len_out gets its length; the
 *                  buffer is also NUL-terminated.
 */
PATRON_API patron_status patron_record_pack(char **out, size_t *len_out, const patron_customer *c);

/**
 * Allocate `size` bytes through the library's allocator (the hook of
 * patron_set_allocator()), for store implementations: memory a store hands
 * to the host with the words "free with patron_free", and the store's own
 * memory, so that the host's allocator sees it.  Free with patron_free().
 * NULL if out of memory.
 */
PATRON_API void *patron_malloc(size_t size);

/** Fill an empty record from the bytes patron_record_pack() gave.
 *  PATRON_E_INVALID if they are not such bytes. */
PATRON_API patron_status patron_record_unpack(patron_customer *c, const char *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* PATRON_STORE_H */
