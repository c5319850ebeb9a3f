/*
 * patron — customer master data for shop and ERP software.
 *
 * SPDX-License-Identifier: MIT
 *
 * Conventions used throughout this header:
 *
 *  - Every function that can fail returns a patron_status: PATRON_OK (0) on
 *    success, a negative PATRON_E_* code otherwise.  On failure nothing was
 *    changed: not the store, not the object passed in (unless said otherwise).
 *  - Out-parameters come first, after the handle they work on.
 *  - Handles are opaque.  Every object the library hands out says in its doc
 *    comment who frees it and with which function.
 *  - Strings are UTF-8 and NUL-terminated.  A `const char *` returned by a
 *    getter is owned by the object it came from and stays valid until that
 *    object is changed or freed.
 *  - The detail of the last failure on a handle is in patron_db_errmsg() or
 *    patron_customer_errmsg().  Messages never contain a password hash.
 *  - Nothing here keeps global state except the allocator hook, which must be
 *    set before anything else is allocated.  Separate handles may be used from
 *    separate threads; one handle must not be used by two threads at once.
 */
#ifndef PATRON_PATRON_H
#define PATRON_PATRON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a public function.  Everything else in libpatron is hidden. */
#ifndef PATRON_API
#  if defined(_WIN32) && defined(PATRON_BUILDING)
#    define PATRON_API __declspec(dllexport)
#  elif defined(__GNUC__) && __GNUC__ >= 4
#    define PATRON_API __attribute__((visibility("default")))
#  else
#    define PATRON_API
#  endif
#endif

/* ------------------------------------------------------------------------ */
/** @name Version                                                            */

#define PATRON_VERSION_MAJOR 0
#define PATRON_VERSION_MINOR 1
#define PATRON_VERSION_PATCH 0
/** MAJOR * 10000 + MINOR * 100 + PATCH. */
#define PATRON_VERSION_NUMBER \
    (PATRON_VERSION_MAJOR * 10000 + PATRON_VERSION_MINOR * 100 + PATRON_VERSION_PATCH)
#define PATRON_VERSION_STRING "0.1.0"

/** The version of the library actually loaded, as PATRON_VERSION_NUMBER. */
PATRON_API int patron_version(void);
/** The version of the library actually loaded, e.g. "0.1.0".  Static string. */
PATRON_API const char *patron_version_string(void);

/* ------------------------------------------------------------------------ */
/** @name Status codes (append-only; values never change)                    */

typedef enum patron_status {
    PATRON_OK = 0,
    /** Out of memory. */
    PATRON_E_NOMEM = -1,
    /** An argument or a field value is not acceptable (validation). */
    PATRON_E_INVALID = -2,
    /** No customer (or entry) with this key. */
    PATRON_E_NOT_FOUND = -3,
    /** The key is taken: customer number or external reference in use, or
     *  a customer number that was given before (numbers are never reused). */
    PATRON_E_EXISTS = -4,
    /** The record was changed by somebody else since it was loaded (stale
     *  revision).  Load it again, reapply the change, retry. */
    PATRON_E_CONFLICT = -5,
    /** A store callback failed.  Reserved for that: the library never uses
     *  it for its own errors.  The message names the callback. */
    PATRON_E_STORE = -6,
    /** The store does not implement an optional callback this needs. */
    PATRON_E_UNSUPPORTED = -7,
    /** The store's struct version is unknown to this library. */
    PATRON_E_ABI = -8,
    /** Not allowed in the record's current state (e.g. changing an assigned
     *  customer number, updating a merged-away record). */
    PATRON_E_STATE = -9,
    /** A lookup that must give one customer matches several (e.g. a family
     *  mailbox shared by several customers). */
    PATRON_E_AMBIGUOUS = -10,
    /** A buffer given by the caller is too small. */
    PATRON_E_RANGE = -11,
    /** The customer is locked (e.g. a registration with the email of a
     *  locked customer). */
    PATRON_E_LOCKED = -12
} patron_status;

/** A short English description of a status code.  Static string. */
PATRON_API const char *patron_status_str(int status);

/* ------------------------------------------------------------------------ */
/** @name Allocator hook                                                     */

/**
 * Custom memory functions.  All three functions must be set, or none (pass
 * NULL to patron_set_allocator to return to malloc/realloc/free).
 * `opaque` is passed through unchanged.
 */
typedef struct patron_allocator {
    void *(*malloc_fn)(size_t size, void *opaque);
    void *(*realloc_fn)(void *ptr, size_t size, void *opaque);
    void (*free_fn)(void *ptr, void *opaque);
    void *opaque;
} patron_allocator;

/**
 * Route every allocation of the library through `alloc` (copied; may be NULL
 * to restore the C library's functions).
 *
 * @return PATRON_E_INVALID if only some of the functions are set;
 *         PATRON_E_STATE if memory from the current allocator is still in use
 *         (set the hook before creating any object).
 * Not thread-safe: call it once, at start-up.
 */
PATRON_API patron_status patron_set_allocator(const patron_allocator *alloc);

/** Free memory that the library allocated and handed to the caller with the
 *  words "free with patron_free".  NULL is ignored. */
PATRON_API void patron_free(void *ptr);

/* ------------------------------------------------------------------------ */
/** @name The customer record                                                */

/** A customer record in memory.  Detached from any store: reading and
 *  changing it touches no store until patron_db_create() / _update(). */
typedef struct patron_customer patron_customer;

/** Lifecycle states (append-only). */
typedef enum patron_state {
    PATRON_STATE_NONE = 0,     /**< new, never saved */
    PATRON_STATE_PENDING = 1,  /**< registered in the shop, not yet activated, no number */
    PATRON_STATE_ACTIVE = 2,   /**< a customer with a customer number */
    PATRON_STATE_MERGED = 3    /**< merged into another customer; its number is an alias */
} patron_state;

/**
 * Scalar fields of a customer, addressed by id so that generic code (merge
 * plans, exports, bindings) can treat them alike.  Append-only: values never
 * change and new fields get new numbers at the end.
 *
 * Every field is read and written as a string:
 *  - booleans as "0" / "1" (setters also take "true"/"false"/"yes"/"no");
 *  - dates as "YYYY-MM-DD", timestamps as seconds since 1970 in decimal;
 *  - an unset field reads as NULL.
 * Fields marked (system) are maintained by the library and are read-only
 * through patron_customer_set().
 */
typedef enum patron_field {
    PATRON_F_ID = 1,           /**< (system) internal id, assigned by the store */
    PATRON_F_NUMBER,           /**< customer number; settable once before creation, then immutable */
    PATRON_F_STATE,            /**< (system) "pending", "active", "merged" */
    PATRON_F_SALUTATION,       /**< e.g. "Herr", "Frau", "Divers" */
    PATRON_F_TITLE,            /**< e.g. "Dr." */
    PATRON_F_FIRST_NAME,
    PATRON_F_LAST_NAME,
    PATRON_F_COMPANY,
    PATRON_F_EMAIL,            /**< validated: local@domain.tld */
    PATRON_F_PHONE,
    PATRON_F_MOBILE,
    PATRON_F_FAX,
    PATRON_F_BIRTH_DATE,       /**< "YYYY-MM-DD" */
    PATRON_F_LANGUAGE,         /**< ISO 639-1, optionally with region: "de", "de-AT" */
    PATRON_F_B2B,              /**< boolean */
    PATRON_F_VAT_ID,           /**< VAT identification number, e.g. "DE123456789" */
    PATRON_F_PAYMENT_TERMS,
    PATRON_F_PRICE_CATEGORY,
    PATRON_F_GROUP,            /**< customer group name */
    PATRON_F_NEWSLETTER,       /**< boolean: marketing consent */
    PATRON_F_NOTES,            /**< internal notes, multi-line */
    PATRON_F_ORDER_TEXT,       /**< printed on every order and delivery note, multi-line */
    PATRON_F_LOGIN_USER,       /**< online shop login name */
    PATRON_F_LOGIN_HASH,       /**< password hash as the shop gives it; opaque,
                                    never logged, exported or put in a message */
    PATRON_F_EXTERNAL_SOURCE,  /**< where the external reference comes from, e.g. "shop" */
    PATRON_F_EXTERNAL_ID,      /**< the shop's own id of this customer */
    PATRON_F_LOCKED,           /**< (system) boolean */
    PATRON_F_LOCK_REASON,      /**< (system) */
    PATRON_F_LOCKED_AT,        /**< (system) timestamp */
    PATRON_F_CREATED_AT,       /**< (system) timestamp */
    PATRON_F_UPDATED_AT,       /**< (system) timestamp */
    PATRON_F_REVISION,         /**< (system) starts at 1, +1 with every saved change */
    PATRON_F_MERGED_INTO       /**< (system) id of the survivor, for merged records */
} patron_field;

/** One past the highest field id of this version of the library. */
#define PATRON_F__END (PATRON_F_MERGED_INTO + 1)

/** The snake_case name of a field ("first_name"), or NULL for an unknown id.
 *  Static string. */
PATRON_API const char *patron_field_name(int field);
/** The field id for a snake_case name, or 0 if there is none. */
PATRON_API int patron_field_from_name(const char *name);

/** Fields of an address (append-only). Same string conventions as above. */
typedef enum patron_address_field {
    PATRON_A_LABEL = 1,        /**< free text, e.g. "Lager", "Rechnung" */
    PATRON_A_SALUTATION,
    PATRON_A_FIRST_NAME,
    PATRON_A_LAST_NAME,
    PATRON_A_COMPANY,
    PATRON_A_STREET,
    PATRON_A_HOUSE_NUMBER,
    PATRON_A_ADDITION,         /**< address addition ("c/o", "2. OG") */
    PATRON_A_POSTAL_CODE,
    PATRON_A_CITY,
    PATRON_A_STATE,            /**< state / region */
    PATRON_A_COUNTRY,          /**< ISO 3166-1 alpha-2, upper case: "DE", "AT", "CH" */
    PATRON_A_PHONE,
    PATRON_A_DEFAULT,          /**< boolean: the customer's default address */
    PATRON_A_BILLING,          /**< "private" (default) or "company"; company
                                    billing needs a company and a VAT ID */
    PATRON_A_VAT_ID            /**< VAT ID for company billing; if empty the
                                    customer's VAT ID is used */
} patron_address_field;

#define PATRON_A__END (PATRON_A_VAT_ID + 1)

/** The snake_case name of an address field, or NULL.  Static string. */
PATRON_API const char *patron_address_field_name(int field);
/** The address field id for a snake_case name, or 0. */
PATRON_API int patron_address_field_from_name(const char *name);

/**
 * A new, empty customer (state PATRON_STATE_NONE).
 * @param[out] out  receives the record; free it with patron_customer_free().
 */
PATRON_API patron_status patron_customer_new(patron_customer **out);

/** A deep copy of `c`.  Free the copy with patron_customer_free(). */
PATRON_API patron_status patron_customer_clone(patron_customer **out, const patron_customer *c);

/** Free a customer record.  NULL is ignored. */
PATRON_API void patron_customer_free(patron_customer *c);

/** The message of the last failed call on this record ("" if none).  Owned
 *  by the record; valid until the next call on it. */
PATRON_API const char *patron_customer_errmsg(const patron_customer *c);

/**
 * The value of a scalar field, or NULL when it is unset.  The string is owned
 * by the record and valid until the field is set again or the record freed.
 * An unknown field id gives NULL.
 */
PATRON_API const char *patron_customer_get(const patron_customer *c, int field);

/**
 * Set a scalar field (the string is copied).  NULL or "" clears it.
 * Checked at once: UTF-8, length, control characters, the field's format
 * (email, dates, booleans, language).  On error the record is unchanged.
 * @return PATRON_E_INVALID for a bad value or an unknown or system field;
 *         PATRON_E_STATE for a change of an assigned customer number.
 */
PATRON_API patron_status patron_customer_set(patron_customer *c, int field, const char *value);

/** Typed shortcuts for the system fields. */
PATRON_API int64_t patron_customer_id(const patron_customer *c);
PATRON_API uint64_t patron_customer_revision(const patron_customer *c);
PATRON_API patron_state patron_customer_state(const patron_customer *c);
/** 1 if the customer is locked, else 0. */
PATRON_API int patron_customer_locked(const patron_customer *c);

/** Number of addresses. */
PATRON_API size_t patron_customer_address_count(const patron_customer *c);
/** Append an empty address (country "DE", private billing); its index is
 *  written to *index_out (may be NULL). */
PATRON_API patron_status patron_customer_address_add(patron_customer *c, size_t *index_out);
/** Remove the address at `index`; later addresses move down by one. */
PATRON_API patron_status patron_customer_address_remove(patron_customer *c, size_t index);
/** An address field; NULL when unset or out of range.  Owned by the record. */
PATRON_API const char *patron_customer_address_get(const patron_customer *c, size_t index, int field);
/** Set an address field (copied; NULL or "" clears).  Checked like
 *  patron_customer_set(); country must be a known ISO 3166-1 alpha-2 code. */
PATRON_API patron_status patron_customer_address_set(patron_customer *c, size_t index, int field,
                                                     const char *value);

/** Number of tags. */
PATRON_API size_t patron_customer_tag_count(const patron_customer *c);
/** The tag at `index`, or NULL.  Owned by the record. */
PATRON_API const char *patron_customer_tag_get(const patron_customer *c, size_t index);
/** Add a tag (copied).  A tag that is already there is not added twice. */
PATRON_API patron_status patron_customer_tag_add(patron_customer *c, const char *tag);
/** Remove a tag.  PATRON_E_NOT_FOUND if it is not there. */
PATRON_API patron_status patron_customer_tag_remove(patron_customer *c, const char *tag);

/** Number of custom properties. */
PATRON_API size_t patron_customer_prop_count(const patron_customer *c);
/** Key and value of the property at `index` (either out-pointer may be NULL).
 *  Strings owned by the record.  PATRON_E_RANGE if index is out of range. */
PATRON_API patron_status patron_customer_prop_at(const patron_customer *c, size_t index,
                                                 const char **key, const char **value);
/** The value for `key`, or NULL.  Owned by the record. */
PATRON_API const char *patron_customer_prop_get(const patron_customer *c, const char *key);
/** Set a property (both copied).  A NULL value removes the key. Keys are
 *  1..64 bytes of letters, digits, '_', '-', '.'. */
PATRON_API patron_status patron_customer_prop_set(patron_customer *c, const char *key, const char *value);

/**
 * Check the whole record, including rules across fields (company billing
 * needs company and VAT ID).  patron_db_create() and patron_db_update() run
 * the same check.  PATRON_E_INVALID with a message naming the field.
 */
PATRON_API patron_status patron_customer_validate(patron_customer *c);

/** Flags for patron_customer_to_json(). */
enum {
    /** Indent for people (default: one line). */
    PATRON_JSON_PRETTY = 1u << 0
};

/**
 * The record as a JSON object with snake_case names (the names of
 * patron_field_name()), "addresses", "tags" and "properties".  Unset fields
 * are left out.  Never contains the password hash; it says
 * "has_password": true instead.
 * @param[out] out  NUL-terminated JSON; free with patron_free().
 */
PATRON_API patron_status patron_customer_to_json(char **out, const patron_customer *c, unsigned flags);

/* ------------------------------------------------------------------------ */
/** @name The database handle                                               */

typedef struct patron_db patron_db;
struct patron_store_ops; /* include/patron/store.h */

/**
 * Open a handle on a store given by callbacks (see patron/store.h).
 * `ops` is copied (its version decides how much); `store_ctx` is passed to
 * every callback and stays owned by the caller, who must keep it alive until
 * patron_db_close().  If ops->destroy is set, patron_db_close() calls it.
 * @return PATRON_E_ABI for a struct version this library does not know,
 *         PATRON_E_INVALID if a required callback is NULL.
 */
PATRON_API patron_status patron_db_open(patron_db **out, const struct patron_store_ops *ops, void *store_ctx);

/** Close a handle.  NULL is ignored. */
PATRON_API void patron_db_close(patron_db *db);

/** The message of the last failed call on this handle ("" if none).  Owned
 *  by the handle; valid until the next call on it. */
PATRON_API const char *patron_db_errmsg(const patron_db *db);

/**
 * How new customer numbers look: `prefix` (0..16 bytes of letters, digits,
 * '-' or '_'; copied) followed by the store's counter, zero-padded to
 * `width` digits (1..20).  Default: prefix "K", width 6 — "K000001".
 * Numbers already given are never affected.
 */
PATRON_API patron_status patron_db_set_number_format(patron_db *db, const char *prefix, unsigned width);

/**
 * Save a new customer as active, in one transaction.  If the record has no
 * customer number, the next free number is drawn from the store's counter;
 * a number set by the caller is accepted if it has never been used.
 * On success `c` is updated in place: id, number, state "active",
 * revision 1, created/updated timestamps.  On failure neither the store nor
 * `c` is changed.
 * @return PATRON_E_INVALID (validation), PATRON_E_EXISTS (number or external
 *         reference taken), PATRON_E_STATE (c was saved before),
 *         PATRON_E_STORE.
 */
PATRON_API patron_status patron_db_create(patron_db *db, patron_customer *c);

/**
 * Load a customer by internal id.
 * @param[out] out  a new record; free with patron_customer_free().
 * @return PATRON_E_NOT_FOUND if there is none.
 */
PATRON_API patron_status patron_db_load(patron_db *db, patron_customer **out, int64_t id);

/** Keys a customer can be found by (append-only). */
typedef enum patron_key_kind {
    PATRON_KEY_NUMBER = 1,     /**< customer number (exact) */
    PATRON_KEY_EXTERNAL = 2,   /**< external reference: source, a 0x1F byte, id;
                                    or just the id when the source is empty */
    PATRON_KEY_EMAIL = 3,      /**< email, compared trimmed and in lower case */
    PATRON_KEY_LOGIN = 4       /**< login user name (exact) */
} patron_key_kind;

/**
 * Load the one customer with this key.  A customer number of a merged-away
 * customer gives its survivor.
 * @param[out] out  a new record; free with patron_customer_free().
 * @return PATRON_E_NOT_FOUND, or PATRON_E_AMBIGUOUS when several customers
 *         have this key (only possible for emails).
 */
PATRON_API patron_status patron_db_find(patron_db *db, patron_customer **out, int kind, const char *key);

/**
 * All internal ids with this key, in ascending order, written to `ids`
 * (capacity `cap`).  *n_out receives the total number found, which may be
 * larger than `cap` (then only the first `cap` are written and the call
 * still succeeds).  Merged records are not followed here.
 */
PATRON_API patron_status patron_db_lookup(patron_db *db, int64_t *ids, size_t cap, size_t *n_out,
                                          int kind, const char *key);

/**
 * Save changes to a customer loaded before, in one transaction.  Refused with
 * PATRON_E_CONFLICT if the stored revision is not the revision of `c` (someone
 * else saved in between).  System fields (state, lock, timestamps) are kept as
 * stored.  On success `c` gets the new revision and updated timestamp.
 * @return PATRON_E_NOT_FOUND, PATRON_E_CONFLICT, PATRON_E_INVALID,
 *         PATRON_E_EXISTS (external reference taken), PATRON_E_STATE
 *         (merged record, or changed customer number), PATRON_E_STORE.
 */
PATRON_API patron_status patron_db_update(patron_db *db, patron_customer *c);

/**
 * Delete a customer, in one transaction.  Its customer number stays used up
 * and is never given again.  `revision` 0 deletes whatever is stored;
 * otherwise the stored revision must equal it (PATRON_E_CONFLICT).
 */
PATRON_API patron_status patron_db_delete(patron_db *db, int64_t id, uint64_t revision);

/** What patron_db_list() selects.  Zero-initialise, then set what you need. */
typedef struct patron_filter {
    /** 0: any state; else a patron_state. */
    int state;
    /** -1 or 0..1; use PATRON_FILTER_ANY for "either". */
    int locked;
    /** Customer group name, or NULL for any. */
    const char *group;
} patron_filter;

#define PATRON_FILTER_ANY (-1)
/** A filter that selects everything. */
#define PATRON_FILTER_INIT { 0, PATRON_FILTER_ANY, NULL }

/**
 * Page through customers in ascending id order.  Writes up to `cap` ids of
 * customers with id > `after_id` that match `filter` (NULL: all) to `ids`;
 * *n_out gets how many were written.  For the next page pass the last id
 * as `after_id`; a page shorter than `cap` is the last.
 */
PATRON_API patron_status patron_db_list(patron_db *db, int64_t *ids, size_t cap, size_t *n_out,
                                        const patron_filter *filter, int64_t after_id);

/* ------------------------------------------------------------------------ */
/** @name Merging duplicates: plans, apply, journal, undo                    */

/**
 * A merge plan: a survivor and one or more duplicates (no fixed cap), and per
 * scalar field the value each record holds, the proposed choice and whether
 * the values conflict.  Lists (addresses, tags, properties) are united
 * without repeats; notes are joined.  The login (user name + password hash)
 * is one unit: it follows the choice made for PATRON_F_LOGIN_USER.
 *
 * A plan is a preview: building and editing it changes nothing in the store.
 * patron_db_merge() applies it in one transaction.
 */
typedef struct patron_merge_plan patron_merge_plan;

/** How the proposed choices are made (append-only). */
typedef enum patron_merge_policy {
    /** The survivor's non-empty value wins; its empty fields are filled from
     *  the duplicates in the order given. */
    PATRON_MERGE_SURVIVOR = 0,
    /** The value of the most recently updated record that has one wins. */
    PATRON_MERGE_NEWEST = 1
} patron_merge_policy;

/** Where a field's value comes from: a record's position in the plan (0 is
 *  the survivor, 1.. the duplicates in the order given), or the caller. */
#define PATRON_MERGE_CUSTOM (-1)

/**
 * Build a plan to merge `dup_ids` into `survivor_id`.
 * @param[out] out  the plan; free with patron_merge_plan_free().
 * @return PATRON_E_NOT_FOUND if a record is missing; PATRON_E_INVALID for an
 *         empty list, a record given twice or the survivor among the
 *         duplicates; PATRON_E_STATE if a record is already merged.
 *         The message says which.
 */
PATRON_API patron_status patron_merge_plan_new(patron_db *db, patron_merge_plan **out, int64_t survivor_id,
                                               const int64_t *dup_ids, size_t n_dups, int policy);

/** Free a plan.  NULL is ignored. */
PATRON_API void patron_merge_plan_free(patron_merge_plan *plan);

/** The message of the last failed call on this plan ("" if none). Owned by the plan. */
PATRON_API const char *patron_merge_plan_errmsg(const patron_merge_plan *plan);

/** Number of records in the plan: 1 + the number of duplicates. */
PATRON_API size_t patron_merge_plan_count(const patron_merge_plan *plan);

/** Record `k` as loaded when the plan was built (0 = survivor), or NULL.
 *  Owned by the plan. */
PATRON_API const patron_customer *patron_merge_plan_record(const patron_merge_plan *plan, size_t k);

/** The position whose value field `field` takes, or PATRON_MERGE_CUSTOM.
 *  -2 for a field that is not merged (system fields, the password hash). */
PATRON_API int patron_merge_plan_choice(const patron_merge_plan *plan, int field);

/** The value the survivor will have for `field` (NULL: empty).  Owned by the plan. */
PATRON_API const char *patron_merge_plan_value(const patron_merge_plan *plan, int field);

/** 1 if the records hold different non-empty values for `field` after
 *  normalisation (case, spaces, umlaut spelling), else 0. */
PATRON_API int patron_merge_plan_conflict(const patron_merge_plan *plan, int field);

/** Take field `field` from record `k`.  For PATRON_F_LOGIN_USER, the login
 *  (name and hash) of record k, as one unit. */
PATRON_API patron_status patron_merge_plan_take(patron_merge_plan *plan, int field, size_t k);

/** Give field `field` a value of the caller's own (copied, checked like
 *  patron_customer_set; NULL or "" empties it).  Not for the login. */
PATRON_API patron_status patron_merge_plan_set(patron_merge_plan *plan, int field, const char *value);

/** Lock decision for the survivor: -1 (default) locked if any record is
 *  locked, 0 unlocked, 1 locked. */
PATRON_API patron_status patron_merge_plan_set_lock(patron_merge_plan *plan, int lock);

/** Allow merging into a pending survivor and activate it (assigning a number)
 *  — 0 (default) refuses a pending survivor. */
PATRON_API patron_status patron_merge_plan_set_activate(patron_merge_plan *plan, int activate);

/** Reasons the plan cannot be applied as it stands, one per line (e.g. two
 *  different logins not yet resolved); "" if none.  References that cannot
 *  move are checked when applying.  Owned by the plan. */
PATRON_API const char *patron_merge_plan_problems(const patron_merge_plan *plan);

/**
 * The plan as JSON: records (without password hashes), per field the values,
 * choice, result and conflict flag, the united lists, and problems.
 * @param[out] out  free with patron_free().
 */
PATRON_API patron_status patron_merge_plan_to_json(char **out, const patron_merge_plan *plan, unsigned flags);

/**
 * Apply a plan, in one transaction: write the survivor, re-link each
 * duplicate's references (orders, invoices, ...) through the store, mark each
 * duplicate as merged into the survivor (its customer number and external
 * reference then lead to the survivor), and append a journal entry with the
 * before-images of every record and the references moved.
 * @param[out] journal_id  the journal entry's id (may be NULL).
 * @return PATRON_E_CONFLICT if a record changed since the plan was built;
 *         PATRON_E_STATE if the plan has problems or a duplicate has
 *         references that cannot move (the message lists the reasons);
 *         PATRON_E_UNSUPPORTED if the store keeps no journal; PATRON_E_STORE.
 *         On failure nothing changed.
 */
PATRON_API patron_status patron_db_merge(patron_db *db, int64_t *journal_id, patron_merge_plan *plan);

/** Flags for patron_db_undo(). */
enum {
    /** Undo although the survivor was edited after the merge: its fields go
     *  back to their state before the merge (later edits are lost). */
    PATRON_UNDO_FORCE = 1u << 0
};

/**
 * Undo a merge from the journal, in one transaction: every record, its
 * number and its references are restored exactly as before the merge.
 * @param[out] undo_id  the journal id of the undo entry (may be NULL).
 * @return PATRON_E_NOT_FOUND (no such entry), PATRON_E_INVALID (not a merge),
 *         PATRON_E_STATE (undone already; the survivor was merged again; a
 *         record was edited after the merge — PATRON_UNDO_FORCE overrides the
 *         last for field edits only).
 */
PATRON_API patron_status patron_db_undo(patron_db *db, int64_t *undo_id, int64_t journal_id, unsigned flags);

/**
 * Journal entries with id > after_id, oldest first, as a JSON array of
 * {"id","time","kind","customer_id","undone_by","summary"}; at most `limit`.
 * Before-images are not included (they hold password hashes).
 * @param[out] out  free with patron_free().
 */
PATRON_API patron_status patron_db_journal_json(patron_db *db, char **out, int64_t after_id, size_t limit);

/**
 * The records with these ids as a JSON array (as patron_customer_to_json,
 * without password hashes): the export to keep before a merge.
 * @param[out] out  free with patron_free().
 */
PATRON_API patron_status patron_db_export_json(patron_db *db, char **out, const int64_t *ids, size_t n,
                                               unsigned flags);

/* ------------------------------------------------------------------------ */
/** @name Duplicate matching                                                 */

/** The matcher's verdict on a pair (append-only). */
typedef enum patron_decision {
    PATRON_DECISION_DISTINCT = 0, /**< different customers */
    PATRON_DECISION_REVIEW = 1,   /**< perhaps the same: show a person */
    PATRON_DECISION_MERGE = 2     /**< the same customer: safe to merge automatically */
} patron_decision;

/** "distinct", "review", "merge".  Static string. */
PATRON_API const char *patron_decision_str(int decision);

/** What is compared (append-only). */
typedef enum patron_match_mode {
    /** Names, street, house number, postal code, city, email, phone, birth
     *  date, company: normalised (German folding, street suffixes, phonetic
     *  codes), compared in levels, weighed (Fellegi-Sunter), summed. */
    PATRON_MATCH_FIELDS = 0,
    /** The normalised email only (plus tags, googlemail = gmail and its dots). */
    PATRON_MATCH_EMAIL = 1
} patron_match_mode;

/** Candidates for one customer, best first, each with its explanation. */
typedef struct patron_matches patron_matches;

/**
 * Match one customer — new (never saved) or stored — against the store.
 * Candidates are found through the index keys the core stores with every
 * record (no scan of the store); merged records are never candidates; a
 * stored customer is not its own candidate.  Candidates judged DISTINCT are
 * left out.
 * @param[out] out  the candidates; free with patron_matches_free().
 */
PATRON_API patron_status patron_db_match(patron_db *db, patron_matches **out, const patron_customer *c,
                                         int mode);

/** Number of candidates. */
PATRON_API size_t patron_matches_count(const patron_matches *m);
/** Candidate `i`: its id (0 if out of range), score and decision (either
 *  out-pointer may be NULL).  Candidates are sorted by score, best first. */
PATRON_API int64_t patron_matches_get(const patron_matches *m, size_t i, double *score, int *decision);
/** How many fields the explanation of a candidate has (the same for all). */
PATRON_API size_t patron_matches_field_count(const patron_matches *m);
/**
 * Field `k` of candidate `i`'s explanation: its name ("last_name"), the two
 * normalised values compared (the customer's and the candidate's; "" when
 * missing), the comparison level ("exact", "phonetic", "initial", ...) and
 * the weight it added to the score.  Strings owned by `m`.  Out-pointers may
 * be NULL.  PATRON_E_RANGE if i or k is out of range.
 */
PATRON_API patron_status patron_matches_explain(const patron_matches *m, size_t i, size_t k, const char **field,
                                                const char **value_a, const char **value_b,
                                                const char **level, double *weight);
/** The candidates and explanations as JSON.  Free with patron_free(). */
PATRON_API patron_status patron_matches_to_json(char **out, const patron_matches *m, unsigned flags);
/** Free a candidate list.  NULL is ignored. */
PATRON_API void patron_matches_free(patron_matches *m);

/** Pairs and clusters of a batch deduplication. */
typedef struct patron_pairs patron_pairs;

/**
 * Deduplicate the whole store: every pair of customers (merged ones left
 * out) judged MERGE or REVIEW, and clusters — the transitive closure of the
 * MERGE pairs — with stable cluster ids (the smallest customer id in the
 * cluster, so the same data gives the same ids).  Reads every record once
 * and blocks in memory; for incremental work use patron_db_match().  On
 * every store the call is one read transaction, so writers on the same
 * store wait until it returns (about 9 s for a million customers on the
 * memory store).
 * @param[out] out  free with patron_pairs_free().
 */
PATRON_API patron_status patron_db_dedupe(patron_db *db, patron_pairs **out, int mode);

/** Number of pairs. */
PATRON_API size_t patron_pairs_count(const patron_pairs *p);
/** Pair `i` (id_a < id_b), sorted by id_a then id_b; out-pointers may be
 *  NULL.  PATRON_E_RANGE if out of range. */
PATRON_API patron_status patron_pairs_get(const patron_pairs *p, size_t i, int64_t *id_a, int64_t *id_b,
                                          double *score, int *decision);
/** The cluster of customer `id`: its cluster id, or 0 if no MERGE pair holds it. */
PATRON_API int64_t patron_pairs_cluster(const patron_pairs *p, int64_t id);
/** Free the result.  NULL is ignored. */
PATRON_API void patron_pairs_free(patron_pairs *p);

/* ------------------------------------------------------------------------ */
/** @name Lifecycle: registration, activation, release, lock, the gate       */

/**
 * Register a customer from the online shop, in one transaction: saved as
 * pending, without a customer number (it gets one when activated).  The
 * default customer group is assigned if the record has none.
 *
 * The email is compared normalised (case, plus tags, gmail dots):
 *  - if it belongs to a locked customer, the registration is refused with
 *    PATRON_E_LOCKED — a locked customer cannot come back under a new account;
 *  - if a pending customer already registered it, PATRON_E_EXISTS (the
 *    message names that customer) — a second registration is not stored twice;
 *  - if an active customer has it (someone who bought by phone now opens a
 *    shop account), the registration is saved and *existing_id receives that
 *    customer's id, so the shop can say so; activation then offers the merge
 *    (PATRON_ACTIVATE_EMAIL merges on it).
 * @param[out] existing_id  may be NULL; the id of an active customer with the
 *                          same email, else 0.
 * @return as patron_db_create() otherwise.
 */
PATRON_API patron_status patron_db_register(patron_db *db, int64_t *existing_id, patron_customer *c);

/** How activation looks for an existing customer (append-only). */
typedef enum patron_activate_mode {
    /** Run the matcher; with candidates change nothing and return them, each
     *  with a ready merge plan, for the side-by-side dialog. */
    PATRON_ACTIVATE_INTERACTIVE = 0,
    /** Merge into the best MERGE-level active candidate without asking (the
     *  existing customer survives and keeps its number); REVIEW-level
     *  candidates are reported, not merged. */
    PATRON_ACTIVATE_AUTO = 1,
    /** Merge when an active customer has the same normalised email. */
    PATRON_ACTIVATE_EMAIL = 2
} patron_activate_mode;

/** Flags for patron_db_activate(). */
enum {
    /** Let automatic merges keep a locked customer as the survivor (by
     *  default locked customers are never chosen automatically). */
    PATRON_ACTIVATE_LOCKED_SURVIVORS = 1u << 0
};

/** What activation did with one customer (append-only). */
typedef enum patron_outcome {
    PATRON_OUTCOME_ACTIVATED = 1, /**< activated with a new customer number */
    PATRON_OUTCOME_MERGED = 2,    /**< merged into an existing customer */
    PATRON_OUTCOME_REVIEW = 3,    /**< candidates found; nothing changed */
    PATRON_OUTCOME_FAILED = 4     /**< (batch) this customer failed; see the message */
} patron_outcome;

/** The result of activating one customer. */
typedef struct patron_activation patron_activation;

/**
 * Activate pending customer `id` in one transaction, looking for an existing
 * customer first as `mode` says (see patron_activate_mode).
 * @param[out] out  the result; free with patron_activation_free().
 * @return PATRON_E_NOT_FOUND; PATRON_E_STATE if the customer is not pending;
 *         PATRON_E_STORE.  A customer who needs review is a success with
 *         outcome PATRON_OUTCOME_REVIEW.
 */
PATRON_API patron_status patron_db_activate(patron_db *db, patron_activation **out, int64_t id, int mode,
                                            unsigned flags);

/** Receives the result of one customer in a batch; return non-zero to stop. */
typedef int (*patron_activation_fn)(void *payload, const patron_activation *result);

/**
 * Activate every pending customer, each in its own transaction (safe to
 * interrupt: what is done stays done).  `fn` (may be NULL) hears about each
 * one, failures included (outcome PATRON_OUTCOME_FAILED with the message).
 * Counts go to the out-parameters (each may be NULL).
 * @return PATRON_OK when every customer was handled, even if some failed;
 *         an error only if the list of pending customers cannot be read.
 */
PATRON_API patron_status patron_db_activate_pending(patron_db *db, size_t *n_activated, size_t *n_merged,
                                                    size_t *n_review, size_t *n_failed, int mode,
                                                    unsigned flags, patron_activation_fn fn,
                                                    void *payload);

/** What happened: a patron_outcome. */
PATRON_API int patron_activation_outcome(const patron_activation *a);
/** The pending customer's id. */
PATRON_API int64_t patron_activation_customer(const patron_activation *a);
/** The number it was activated with, or the number of the customer it was
 *  merged into; NULL otherwise.  Owned by the result. */
PATRON_API const char *patron_activation_number(const patron_activation *a);
/** The survivor's id after a merge, else 0. */
PATRON_API int64_t patron_activation_merged_into(const patron_activation *a);
/** The journal id of the merge (to undo it), else 0. */
PATRON_API int64_t patron_activation_journal(const patron_activation *a);
/** What happened, in words ("activated as K000123", "needs review: ..."). */
PATRON_API const char *patron_activation_message(const patron_activation *a);
/** Number of candidates found (for REVIEW, and for AUTO the ones reported). */
PATRON_API size_t patron_activation_candidate_count(const patron_activation *a);
/** Candidate `i`: its id, score and decision ("merge"/"review" as a
 *  patron_decision); 0 if out of range. */
PATRON_API int64_t patron_activation_candidate(const patron_activation *a, size_t i, double *score,
                                               int *decision);
/** A ready merge plan for candidate `i` (the candidate survives, the pending
 *  customer is the duplicate), to show, edit and apply with
 *  patron_db_merge().  Owned by the result; NULL if out of range. */
PATRON_API patron_merge_plan *patron_activation_plan(patron_activation *a, size_t i);
/** Free a result.  NULL is ignored. */
PATRON_API void patron_activation_free(patron_activation *a);

/**
 * Manual release: an administrator activates a pending customer regardless
 * of the matcher (a new customer number), in one transaction.
 * @param[out] number  may be NULL; receives the new number (free with
 *                     patron_free()).
 */
PATRON_API patron_status patron_db_release(patron_db *db, char **number, int64_t id);

/**
 * Lock a customer, in one transaction: a locked customer cannot log in or
 * order, and its email cannot register again; the record and its history
 * stay.  `reason` (required, copied) and the time are kept on the record and
 * in the journal if the store has one.  Locking a locked customer updates
 * the reason.
 * @return PATRON_E_NOT_FOUND, PATRON_E_INVALID (no reason), PATRON_E_STATE
 *         (merged record), PATRON_E_STORE.
 */
PATRON_API patron_status patron_db_lock(patron_db *db, int64_t id, const char *reason);

/** Lift a lock, in one transaction (journalled like patron_db_lock).
 *  Unlocking an unlocked customer changes nothing and succeeds. */
PATRON_API patron_status patron_db_unlock(patron_db *db, int64_t id);

/** The gate's answer (append-only). */
typedef enum patron_gate {
    PATRON_GATE_ALLOWED = 0,
    PATRON_GATE_LOCKED = 1,  /**< locked: see the lock reason */
    PATRON_GATE_PENDING = 2, /**< registered, not yet activated */
    PATRON_GATE_UNKNOWN = 3, /**< no such customer */
    PATRON_GATE_MERGED = 4   /**< merged away: use the survivor (its id is given) */
} patron_gate;

/** A short English text for a gate answer.  Static string. */
PATRON_API const char *patron_gate_str(int verdict);

/**
 * May this login log in?  `login` is a login user name or, for customers
 * without one, their email.  *verdict gets a patron_gate, *customer_id (may
 * be NULL) the customer's id (the survivor's for PATRON_GATE_MERGED), or 0.
 * Reads only.  An unknown login is PATRON_OK with PATRON_GATE_UNKNOWN.
 */
PATRON_API patron_status patron_db_can_login(patron_db *db, int *verdict, int64_t *customer_id, const char *login);

/** May customer `id` order?  As patron_db_can_login(). */
PATRON_API patron_status patron_db_can_order(patron_db *db, int *verdict, int64_t *customer_id, int64_t id);

/* ------------------------------------------------------------------------ */
/** @name Customer groups                                                    */

/*
 * Groups carry price conditions: a discount in percent, a price category, and
 * a default flag.  There is exactly one default group once any group exists
 * (the first one made); new and registered customers without a group join it.
 * Stores keep groups through their meta callbacks; a store without them
 * answers PATRON_E_UNSUPPORTED.  Names are 1..64 bytes of one-line text.
 * Every call is one transaction.
 */

/** Make a group.  PATRON_E_EXISTS if the name is taken. */
PATRON_API patron_status patron_db_group_add(patron_db *db, const char *name);

/** Rename a group; its customers follow.  PATRON_E_NOT_FOUND, PATRON_E_EXISTS. */
PATRON_API patron_status patron_db_group_rename(patron_db *db, const char *old_name, const char *new_name);

/**
 * Set an attribute: "discount_percent" (0..100, up to two decimals),
 * "price_category" (text, "" clears) or "default" ("1" makes this group the
 * default — the former default loses the flag; "0" on the default group is
 * refused: there is always one default).
 */
PATRON_API patron_status patron_db_group_set(patron_db *db, const char *name, const char *attr,
                                             const char *value);

/** Put customer `id` into group `name` (an update of the customer). */
PATRON_API patron_status patron_db_group_assign(patron_db *db, const char *name, int64_t id);

/**
 * Delete a group.  Refused with PATRON_E_STATE while an active customer is in
 * it (the message says how many), and for the default group.  Merged and
 * pending customers in it move to the default group.
 */
PATRON_API patron_status patron_db_group_delete(patron_db *db, const char *name);

/**
 * The groups as a JSON array of {"name", "discount_percent",
 * "price_category", "default", "customers"} (customers: how many active).
 * @param[out] out  free with patron_free().
 */
PATRON_API patron_status patron_db_groups_json(patron_db *db, char **out);

#ifdef __cplusplus
}
#endif
#endif /* PATRON_PATRON_H */
