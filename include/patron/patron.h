/*
 * patron — customer master data for shop and ERP software.
 *
 * SPDX-License-Identifier: MIT
 *
 * Conventions used throughout this header (they hold for every function;
 * a function that seems to break one is a bug):
 *
 *  - Status.  Every function that can fail returns a patron_status:
 *    PATRON_OK (0) on success, a negative PATRON_E_* code otherwise.  On
 *    failure nothing was changed: not the store, not the object passed in
 *    (unless said otherwise), and out-parameters hold "nothing" (NULL, 0).
 *  - Parameter order.  The handle or object a function works on comes first
 *    (the patron_db, or the patron_customer / patron_matches / ... named in
 *    the function's name); then every out-parameter, named `out` or
 *    `<what>_out`; then the inputs.  A caller's buffer is given as pointer
 *    and capacity side by side in the out-parameters (ids_out, n_out, cap).
 *    Functions that make a new object without working on one (_new, _open)
 *    take their out-parameter first.  A callback's `void *payload` comes
 *    right after the callback; a callback itself receives its payload as
 *    its first argument (as store callbacks receive their ctx).
 *  - Ranges.  An accessor that can be asked for something that is not there
 *    (an index past the end, an unknown field) and answers with numbers
 *    returns a patron_status, PATRON_E_RANGE for the index or field, with the
 *    values in out-parameters — never a sentinel such as 0.  An accessor
 *    that returns one pointer (a string, an element) returns NULL instead;
 *    counts and flags need no status.
 *  - Types.  A parameter or result that takes one value of a set has the
 *    enum type of that set (patron_match_mode, patron_merge_policy, ...);
 *    a set of flags is `unsigned` (the PATRON_<FUNCTION>_* constants ORed);
 *    a yes/no answer is `int` 0 / 1.  Field ids are the one exception: they
 *    are `int`, because the same generic functions take customer and address
 *    field ids, and because ids are append-only, a host built against an
 *    older header can still pass the id of a newer field it learned at run
 *    time from patron_field_count() / patron_field_from_name().  No magic
 *    numbers: every special value has a named constant.
 *  - Names.  `patron_<object>_<verb>`.  The stable lower-case token of an
 *    enum value ("review", "locked", "not_found") comes from a function
 *    ending in `_name`, for every enum a host shows or stores; an English
 *    sentence for people from one ending in `_message`.  Serialisation to
 *    JSON ends in `_to_json`; JSON is a convenience: everything in it can
 *    also be read through accessors.
 *  - Options.  A function that would take more than five parameters, not
 *    counting an array's length and an accessor's out-parameters, takes a
 *    struct of options instead.  Such structs (and structs the library
 *    fills for the caller) begin with `unsigned version`; fill them from the
 *    `..._INIT` macro, which sets the version of the header you compile
 *    against, then set what you need.  The library reads and writes only the
 *    members that version has; a version it does not know gives
 *    PATRON_E_ABI.  New members are only ever appended.
 *  - Ownership.  Handles are opaque.  Every object the library hands out
 *    says in its doc comment who frees it and with which function.
 *    A `const char *` returned by value, or written to a `const char **`
 *    out-parameter, is borrowed: it belongs to the object it came from and
 *    stays valid until that object is changed or freed (strings from `_name`
 *    and `_message` functions are static).  A `char **` out-parameter
 *    receives memory of the caller's own: free it with patron_free().
 *  - Strings are UTF-8 and NUL-terminated.
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

/** The stable token of a status: "ok", "nomem", "invalid", "not_found",
 *  "exists", "conflict", "store", "unsupported", "abi", "state",
 *  "ambiguous", "range", "locked"; NULL for a value this library does not
 *  know.  Static string. */
PATRON_API const char *patron_status_name(patron_status status);

/** A short English description of a status ("not found"), for people;
 *  "unknown status" for a value this library does not know.  Static string.
 *  The detail of a failure is in patron_db_errmsg(). */
PATRON_API const char *patron_status_message(patron_status status);

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
 *
 * The functions themselves must be thread-safe: patron_db_dedupe() and
 * patron_batch (patron/batch.h) normalise and pair a large set (4 096
 * records or more) on worker threads, which allocate and free through the
 * hook at the same time.  Smaller sets, and every other call, allocate on
 * the calling thread only.
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
    PATRON_STATE_MERGED = 3,   /**< merged into another customer; its number is an alias */
    /** Personal data erased (patron_db_erase(), patron/privacy.h): only the
     *  customer number, the external reference, the erasure time and the
     *  order links are left.  Final: never changes again. */
    PATRON_STATE_ERASED = 4
} patron_state;

/** "none", "pending", "active", "merged", "erased" (as PATRON_F_STATE
 *  reads); NULL for an unknown value.  Static string. */
PATRON_API const char *patron_state_name(patron_state state);

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
 * through patron_customer_set() (PATRON_FIELD_SYSTEM in patron_field_flags()).
 * Field ids are `int` in every function (see the conventions above).
 */
typedef enum patron_field {
    PATRON_F_ID = 1,           /**< (system) internal id, assigned by the store */
    PATRON_F_NUMBER,           /**< customer number; settable once before creation, then immutable */
    PATRON_F_STATE,            /**< (system) "pending", "active", "merged", "erased" */
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
    PATRON_F_NEWSLETTER,       /**< boolean: marketing consent (see PATRON_F_NEWSLETTER_AT) */
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
    PATRON_F_MERGED_INTO,      /**< (system) id of the survivor, for merged records */
    /** (system) Proof of consent: when PATRON_F_NEWSLETTER was last given
     *  ("1") or withdrawn ("0"), a timestamp.  Stamped by the library on
     *  every save (create, register, update, merge) that changes
     *  PATRON_F_NEWSLETTER, except that a new customer may carry the time
     *  its consent was given elsewhere (an import:
     *  patron_customer_set_consent_time()); unset on records saved before
     *  it existed. */
    PATRON_F_NEWSLETTER_AT,
    /** Proof of consent: where the last change of PATRON_F_NEWSLETTER came
     *  from: "shop" (the customer in the online shop), "import" or "admin"
     *  (a person in the back office).  Give it with the consent, in the same
     *  change.  When a save changes PATRON_F_NEWSLETTER and leaves this
     *  field as it was stored (or unset), the library records "shop" for
     *  patron_db_register() and "admin" otherwise (create, update).  A merge
     *  that takes a duplicate's consent takes its time and source with it
     *  (this field is not chosen on its own in a merge plan). */
    PATRON_F_NEWSLETTER_SOURCE,
    /** (system) when the customer's personal data was erased (state
     *  "erased"), a timestamp. */
    PATRON_F_ERASED_AT
} patron_field;

/** One past the highest field id of this header.  A host that must know
 *  the fields of the library actually loaded asks patron_field_count(). */
#define PATRON_F__END (PATRON_F_ERASED_AT + 1)

/** What a field's value is (append-only).  Every value is read and written
 *  as a string; the kind says which strings are valid and how to show them. */
typedef enum patron_kind {
    PATRON_KIND_NONE = 0,       /**< not a field (unknown id) */
    PATRON_KIND_TEXT = 1,       /**< one line of text */
    PATRON_KIND_MULTILINE = 2,  /**< text with line breaks */
    PATRON_KIND_EMAIL = 3,      /**< local@domain.tld */
    PATRON_KIND_DATE = 4,       /**< "YYYY-MM-DD" */
    PATRON_KIND_TIMESTAMP = 5,  /**< seconds since 1970, decimal */
    PATRON_KIND_BOOL = 6,       /**< "0" / "1" */
    PATRON_KIND_LANGUAGE = 7,   /**< ISO 639-1, optionally with region: "de-AT" */
    PATRON_KIND_INTEGER = 8,    /**< a decimal integer (ids, revision) */
    PATRON_KIND_NUMBER = 9,     /**< a customer number */
    PATRON_KIND_VAT_ID = 10,    /**< a VAT identification number */
    PATRON_KIND_COUNTRY = 11,   /**< ISO 3166-1 alpha-2, upper case */
    PATRON_KIND_TOKEN = 12,     /**< one of a fixed set of lower-case words
                                     (state: "pending"...; billing: "private", "company") */
    PATRON_KIND_OPAQUE = 13     /**< bytes the library keeps but never interprets
                                     or shows (the password hash) */
} patron_kind;

/** Flags of a field, from patron_field_flags() / patron_address_field_flags(). */
enum {
    /** Maintained by the library; patron_customer_set() refuses it. */
    PATRON_FIELD_SYSTEM = 1u << 0,
    /** Secret: never shown, exported or logged (the password hash).  The
     *  JSON functions leave it out; bindings should too. */
    PATRON_FIELD_SECRET = 1u << 1
};

/** The number of customer fields of the library actually loaded: valid ids
 *  are 1 .. patron_field_count(). */
PATRON_API int patron_field_count(void);
/** The snake_case name of a field ("first_name"), or NULL for an unknown id.
 *  Static string. */
PATRON_API const char *patron_field_name(int field);
/** The field id for a snake_case name, or 0 if there is none. */
PATRON_API int patron_field_from_name(const char *name);
/** The kind of a field's value; PATRON_KIND_NONE for an unknown id. */
PATRON_API patron_kind patron_field_kind(int field);
/** The PATRON_FIELD_* flags of a field; 0 for an unknown id. */
PATRON_API unsigned patron_field_flags(int field);

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

/** One past the highest address field id of this header; see
 *  patron_address_field_count(). */
#define PATRON_A__END (PATRON_A_VAT_ID + 1)

/** The number of address fields of the library actually loaded: valid ids
 *  are 1 .. patron_address_field_count(). */
PATRON_API int patron_address_field_count(void);
/** The snake_case name of an address field, or NULL.  Static string. */
PATRON_API const char *patron_address_field_name(int field);
/** The address field id for a snake_case name, or 0. */
PATRON_API int patron_address_field_from_name(const char *name);
/** The kind of an address field's value; PATRON_KIND_NONE for an unknown id. */
PATRON_API patron_kind patron_address_field_kind(int field);
/** The PATRON_FIELD_* flags of an address field (none so far); 0 for an
 *  unknown id. */
PATRON_API unsigned patron_address_field_flags(int field);

/**
 * A new, empty customer (state PATRON_STATE_NONE).
 * @param[out] out  receives the record; free it with patron_customer_free().
 */
PATRON_API patron_status patron_customer_new(patron_customer **out);

/** A deep copy of `c`.
 * @param[out] out  the copy; free it with patron_customer_free(). */
PATRON_API patron_status patron_customer_clone(const patron_customer *c, patron_customer **out);

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

/** The earliest consent time patron_customer_set_consent_time() takes:
 *  1990-01-01T00:00:00Z. */
#define PATRON_CONSENT_TIME_MIN 631152000
/** How many seconds past this machine's clock a carried consent time may
 *  lie (the clock of the system it comes from may run ahead a little). */
#define PATRON_CONSENT_TIME_SKEW 300

/**
 * Carry the time of a newsletter consent into a customer that was never
 * saved, for an import or a migration from another system, so that the
 * proof keeps its time: `value` is when PATRON_F_NEWSLETTER was given
 * ("1") or withdrawn ("0") there, as PATRON_F_NEWSLETTER_AT reads —
 * seconds since 1970, decimal — and becomes that field (in its canonical
 * form); NULL or "" takes it back.  patron_db_create(),
 * patron_db_create_many() and patron_db_register() then keep it instead of
 * stamping the time of the save, and PATRON_F_NEWSLETTER_SOURCE is what
 * the record gives, else "admin" ("shop" for register) as always.  Without
 * it they stamp the time of the save, as before.
 *
 * The time must be given together with the consent itself: a record never
 * saved that has a consent time but no PATRON_F_NEWSLETTER is refused by
 * create, create_many, register, patron_customer_validate() and the batch
 * functions (PATRON_E_INVALID, nothing saved), which also check the time
 * again as below.  Saves of a stored customer stamp the time themselves.
 *
 * @return PATRON_E_INVALID, the record unchanged, for a value that is not
 *         a decimal number of seconds, one before PATRON_CONSENT_TIME_MIN,
 *         or one more than PATRON_CONSENT_TIME_SKEW seconds in the future;
 *         PATRON_E_STATE for a customer saved before (its consent time is
 *         the library's).  The message says which.
 */
PATRON_API patron_status patron_customer_set_consent_time(patron_customer *c, const char *value);

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
PATRON_API patron_status patron_customer_prop_at(const patron_customer *c, const char **key_out,
                                                 const char **value_out, size_t index);
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
PATRON_API patron_status patron_customer_to_json(const patron_customer *c, char **out, unsigned flags);

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

/** The most customers one patron_db_create_many() call takes. */
#define PATRON_CREATE_MANY_MAX 100000

/**
 * Receives a customer that patron_db_create_many() refused: its `index` in
 * the array, the status patron_db_create() would have returned for it
 * (PATRON_E_INVALID, PATRON_E_EXISTS or PATRON_E_STATE) and the message
 * patron_db_errmsg() would have given, valid during the call only.  Called
 * while the library's transaction is open: it must not call into the same
 * patron_db.  If the whole call fails afterwards, nothing was created and
 * the refusals reported so far are moot.
 */
typedef void (*patron_refused_fn)(void *payload, size_t index, patron_status status, const char *message);

/**
 * Create the customers cs[0] .. cs[n-1] as active, as patron_db_create()
 * called on each in turn would — the same checks and refusals, the same
 * numbers, keys, key counts and records, each customer checked against the
 * store and the customers created before it in the array — but all in one
 * transaction.  A customer refused for itself (bad values, a taken number,
 * external reference or login, a record saved before) changes nothing, is
 * reported through `refused` (may be NULL) and keeps its record as it was;
 * the others are created, and each of their records is updated in place as
 * patron_db_create() does, once the transaction has committed.  On any
 * other failure (store, memory) nothing of the call is in the store, no
 * record is changed and the status says why.
 *
 * One transaction lets a store work in bulk: with the prefetch hint of
 * store version 6 the PostgreSQL store looks up the external references,
 * logins and numbers of all rows at once and writes the new records with
 * COPY at the commit (patron/postgres.h); the SQLite store writes the
 * blocking keys and key counts of all rows together at the end of the
 * call (patron/sqlite.h).  Other stores run the rows one after another
 * inside the transaction.  Writers of other processes
 * wait for the whole call: keep a call to some thousand customers.
 *
 * @param[out] created_out  how many customers were created (0 on failure).
 * @param cs  n records; none may appear twice.
 * @param n   at most PATRON_CREATE_MANY_MAX (else PATRON_E_RANGE).
 * @return PATRON_OK also when some were refused; PATRON_E_INVALID for
 *         NULL arguments or a record given twice, PATRON_E_RANGE,
 *         PATRON_E_NOMEM, PATRON_E_STORE.
 */
PATRON_API patron_status patron_db_create_many(patron_db *db, size_t *created_out, patron_customer *const *cs,
                                               size_t n, patron_refused_fn refused, void *payload);

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
PATRON_API patron_status patron_db_find(patron_db *db, patron_customer **out, patron_key_kind kind,
                                        const char *key);

/**
 * All internal ids with this key, in ascending order, written to `ids_out`
 * (capacity `cap`; may be NULL when `cap` is 0).  *n_out receives the total
 * number found, which may be larger than `cap` (then only the first `cap`
 * are written and the call still succeeds).  Merged records are not
 * followed here.
 */
PATRON_API patron_status patron_db_lookup(patron_db *db, int64_t *ids_out, size_t *n_out, size_t cap,
                                          patron_key_kind kind, const char *key);

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

/** The lock condition of a patron_filter. */
typedef enum patron_filter_lock {
    PATRON_FILTER_ANY = -1,     /**< locked or not */
    PATRON_FILTER_UNLOCKED = 0, /**< only customers that are not locked */
    PATRON_FILTER_LOCKED = 1    /**< only locked customers */
} patron_filter_lock;

/** What patron_db_list() selects.  Start from PATRON_FILTER_INIT (which
 *  selects everything), then set what you need.  The layout is frozen with
 *  store interface version 1 (stores receive it). */
typedef struct patron_filter {
    /** PATRON_STATE_NONE: any state; else only customers in this state. */
    patron_state state;
    /** PATRON_FILTER_ANY, _LOCKED or _UNLOCKED. */
    patron_filter_lock locked;
    /** Customer group name, or NULL for any. */
    const char *group;
} patron_filter;

/** A filter that selects everything. */
#define PATRON_FILTER_INIT { PATRON_STATE_NONE, PATRON_FILTER_ANY, NULL }

/**
 * Page through customers in ascending id order.  Writes up to `cap` ids of
 * customers with id > `after_id` that match `filter` (NULL: all) to
 * `ids_out`; *n_out gets how many were written.  For the next page pass the
 * last id as `after_id`; a page shorter than `cap` is the last.
 */
PATRON_API patron_status patron_db_list(patron_db *db, int64_t *ids_out, size_t *n_out, size_t cap,
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

/** How the proposed choices are made (append-only).  For first name, last
 *  name and company the policy's pick gives way where it is the weaker form
 *  of one value: a full given name beats initials that fit it ("H." /
 *  "Holger" → "Holger"), and a value more records share beats a typo of it
 *  ("Lena", "Lena", "Lhna" → "Lena"). */
typedef enum patron_merge_policy {
    /** The survivor's non-empty value wins; its empty fields are filled from
     *  the duplicates in the order given. */
    PATRON_MERGE_SURVIVOR = 0,
    /** The value of the most recently updated record that has one wins. */
    PATRON_MERGE_NEWEST = 1
} patron_merge_policy;

/** Where a field's value comes from: a record's position in the plan (0 is
 *  the survivor, 1.. the duplicates in the order given), or one of these. */
enum {
    /** The caller gave a value of its own (patron_merge_plan_set()). */
    PATRON_MERGE_CUSTOM = -1,
    /** The field is not merged: system fields, the customer number, the
     *  external reference, the password hash (which follows
     *  PATRON_F_LOGIN_USER) and the consent's source (which follows
     *  PATRON_F_NEWSLETTER). */
    PATRON_MERGE_NOT_MERGED = -2
};

/**
 * Build a plan to merge `dup_ids` into `survivor_id`.
 * @param[out] out  the plan; free with patron_merge_plan_free().
 * @return PATRON_E_NOT_FOUND if a record is missing; PATRON_E_INVALID for an
 *         empty list, a record given twice, the survivor among the
 *         duplicates, or united addresses, tags or properties that would pass
 *         the 1000 one customer may have (the message names the list);
 *         PATRON_E_STATE if a record is already merged.
 *         The message says which.
 */
PATRON_API patron_status patron_merge_plan_new(patron_db *db, patron_merge_plan **out, int64_t survivor_id,
                                               const int64_t *dup_ids, size_t n_dups,
                                               patron_merge_policy policy);

/** Free a plan.  NULL is ignored. */
PATRON_API void patron_merge_plan_free(patron_merge_plan *plan);

/** The message of the last failed call on this plan ("" if none). Owned by the plan. */
PATRON_API const char *patron_merge_plan_errmsg(const patron_merge_plan *plan);

/** Number of records in the plan: 1 + the number of duplicates. */
PATRON_API size_t patron_merge_plan_count(const patron_merge_plan *plan);

/** Record `k` as loaded when the plan was built (0 = survivor), or NULL.
 *  Owned by the plan. */
PATRON_API const patron_customer *patron_merge_plan_record(const patron_merge_plan *plan, size_t k);

/** Where field `field` takes its value from: *out gets the record's
 *  position, PATRON_MERGE_CUSTOM or PATRON_MERGE_NOT_MERGED.
 *  PATRON_E_RANGE for an unknown field. */
PATRON_API patron_status patron_merge_plan_choice(const patron_merge_plan *plan, int *out, int field);

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

/** Whether the survivor is locked after the merge. */
typedef enum patron_merge_lock {
    PATRON_MERGE_LOCK_ANY = -1,     /**< (default) locked if any record is locked */
    PATRON_MERGE_LOCK_UNLOCKED = 0, /**< not locked */
    PATRON_MERGE_LOCK_LOCKED = 1    /**< locked */
} patron_merge_lock;

/** Set the lock decision for the survivor.  PATRON_E_INVALID for a value
 *  that is not a patron_merge_lock. */
PATRON_API patron_status patron_merge_plan_set_lock(patron_merge_plan *plan, patron_merge_lock lock);

/** Allow merging into a pending survivor and activate it (assigning a number)
 *  — 0 (default) refuses a pending survivor. */
PATRON_API patron_status patron_merge_plan_set_activate(patron_merge_plan *plan, int activate);

/** What the person applying the plan should know, one per line; "" if
 *  none.  A reason the plan cannot be applied as it stands (two different
 *  logins not yet resolved) makes patron_merge_plan_blocked() 1; a line
 *  beginning with "note: " does not stop the merge — e.g. "note: the
 *  matcher calls customer #1 and customer #7 distinct (score -12.40);
 *  merging them is allowed" (also "two people of one household").
 *  References that cannot move are checked when applying.  Owned by the
 *  plan. */
PATRON_API const char *patron_merge_plan_problems(const patron_merge_plan *plan);

/** 1 if patron_db_merge() would refuse the plan as it stands (a problem
 *  that is not a note), else 0.  1 for NULL. */
PATRON_API int patron_merge_plan_blocked(const patron_merge_plan *plan);

/**
 * The united addresses.  Addresses of the records that are equal after
 * normalisation — street and house number as the matcher reads them
 * ("Lindenstr 144 b" and "Lindenstraße 144b"), postal code, city and
 * country; names, company and addition loosely (case, spacing, umlaut
 * spelling) — are united into one, in the form of the first record that has
 * it (the survivor's first).  By default every united address is kept and
 * the survivor's default stays the default; a duplicate's default is not.
 */
PATRON_API size_t patron_merge_plan_address_count(const patron_merge_plan *plan);
/** Field `field` (a patron_address_field) of united address `i`, or NULL.
 *  Owned by the plan. */
PATRON_API const char *patron_merge_plan_address_get(const patron_merge_plan *plan, size_t i, int field);
/** 1 if record `k` of the plan holds (a form of) united address `i`, else 0. */
PATRON_API int patron_merge_plan_address_from(const patron_merge_plan *plan, size_t i, size_t k);
/** 1 if united address `i` goes to the survivor, else 0. */
PATRON_API int patron_merge_plan_address_kept(const patron_merge_plan *plan, size_t i);
/** Keep (`keep` non-zero) or drop united address `i`.  When the default is
 *  dropped, the first kept address becomes the default.  PATRON_E_RANGE
 *  for no such address. */
PATRON_API patron_status patron_merge_plan_address_keep(patron_merge_plan *plan, size_t i, int keep);
/** Make united address `i` the survivor's default.  PATRON_E_RANGE for no
 *  such address, PATRON_E_INVALID for a dropped one. */
PATRON_API patron_status patron_merge_plan_address_set_default(patron_merge_plan *plan, size_t i);

/**
 * The united custom properties: every key any record has, never dropped.
 * Where the records hold different values for a key it is a conflict; the
 * value proposed is the first record's that has the key (the survivor's
 * first), and patron_merge_plan_prop_take() chooses another.
 */
PATRON_API size_t patron_merge_plan_prop_count(const patron_merge_plan *plan);
/** United property `i`: its key, the value the survivor gets, the record it
 *  comes from and whether the records disagree (out-pointers may be NULL;
 *  strings owned by the plan).  PATRON_E_RANGE if out of range. */
PATRON_API patron_status patron_merge_plan_prop_at(const patron_merge_plan *plan, const char **key_out,
                                                   const char **value_out, int *choice_out, int *conflict_out,
                                                   size_t i);
/** Take property `key` from record `k`.  PATRON_E_NOT_FOUND if no record
 *  has the key, PATRON_E_RANGE for no record k, PATRON_E_INVALID if record
 *  k has no such property. */
PATRON_API patron_status patron_merge_plan_prop_take(patron_merge_plan *plan, const char *key, size_t k);

/**
 * The plan as JSON: records (without password hashes), per field the values,
 * choice, result and conflict flag, the united lists, per united address
 * the records holding it ("from", 0-based), "kept" and "default" (chosen),
 * per united property its values, choice, result and conflict, the
 * problems and "blocked".
 * @param[out] out  free with patron_free().
 */
PATRON_API patron_status patron_merge_plan_to_json(const patron_merge_plan *plan, char **out, unsigned flags);

/**
 * Apply a plan, in one transaction: write the survivor, re-link each
 * duplicate's references (orders, invoices, ...) through the store, mark each
 * duplicate as merged into the survivor (its customer number and external
 * reference then lead to the survivor), and append a journal entry with the
 * before-images of every record and the references moved.
 * @param[out] journal_id_out  the journal entry's id (may be NULL).
 * @return PATRON_E_CONFLICT if a record changed since the plan was built;
 *         PATRON_E_STATE if the plan has problems or a duplicate has
 *         references that cannot move (the message lists the reasons);
 *         PATRON_E_UNSUPPORTED if the store keeps no journal; PATRON_E_STORE.
 *         On failure nothing changed.
 */
PATRON_API patron_status patron_db_merge(patron_db *db, int64_t *journal_id_out, patron_merge_plan *plan);

/** Flags for patron_db_undo(). */
enum {
    /** Undo although the survivor was edited after the merge: its fields go
     *  back to their state before the merge (later edits are lost). */
    PATRON_UNDO_FORCE = 1u << 0
};

/**
 * Undo a merge from the journal, in one transaction: every record, its
 * number and its references are restored exactly as before the merge.  A
 * merge made through the review queue reopens its case.
 * @param[out] undo_id_out  the journal id of the undo entry (may be NULL).
 * @return PATRON_E_NOT_FOUND (no such entry), PATRON_E_INVALID (not a merge),
 *         PATRON_E_STATE (undone already; the survivor was merged again; a
 *         record was edited after the merge — PATRON_UNDO_FORCE overrides the
 *         last for field edits only; the customer was erased since, so the
 *         before-images are gone — the message names the erasure's entry), PATRON_E_EXISTS (a login or external
 *         reference a record would get back is another customer's now),
 *         PATRON_E_STORE ("corrupt journal entry N": the entry read from the
 *         store is not one a merge wrote).  On failure nothing changed.
 */
PATRON_API patron_status patron_db_undo(patron_db *db, int64_t *undo_id_out, int64_t journal_id,
                                        unsigned flags);

/** A page of the journal, read with the accessors below. */
typedef struct patron_journal patron_journal;
/** One entry of a patron_journal page; owned by the page. */
typedef struct patron_journal_item patron_journal_item;

/**
 * Journal entries with id > after_id, oldest first; at most `limit`.
 * For the next page pass the last id as `after_id`.  Before-images
 * are not readable here (they hold password hashes).
 * @param[out] out  the page; free with patron_journal_free().
 * @return PATRON_E_UNSUPPORTED if the store keeps no journal.
 */
PATRON_API patron_status patron_db_journal_list(patron_db *db, patron_journal **out, int64_t after_id,
                                                size_t limit);
/** Number of entries on the page. */
PATRON_API size_t patron_journal_count(const patron_journal *j);
/** Entry `i`, or NULL if out of range.  Owned by the page. */
PATRON_API const patron_journal_item *patron_journal_at(const patron_journal *j, size_t i);
/** Free a page (and its entries).  NULL is ignored. */
PATRON_API void patron_journal_free(patron_journal *j);
/** The entry's id (> 0, ascending in the order entries were written). */
PATRON_API int64_t patron_journal_item_id(const patron_journal_item *e);
/** When it was written, seconds since 1970. */
PATRON_API int64_t patron_journal_item_time(const patron_journal_item *e);
/** What it records: "merge", "undo", "lock", "unlock", ...  Owned by the page. */
PATRON_API const char *patron_journal_item_kind(const patron_journal_item *e);
/** The customer it is about (the survivor of a merge). */
PATRON_API int64_t patron_journal_item_customer(const patron_journal_item *e);
/** The id of the entry that undid this one, or 0. */
PATRON_API int64_t patron_journal_item_undone_by(const patron_journal_item *e);
/** One line for people ("merged K000002 into K000001"); "" if none.  Owned
 *  by the page. */
PATRON_API const char *patron_journal_item_summary(const patron_journal_item *e);

/**
 * Journal entries with id > after_id, oldest first, as a JSON array of
 * {"id","time","kind","customer_id","undone_by","summary"}; at most `limit`.
 * The same as patron_db_journal_list().
 * @param[out] out  free with patron_free().
 */
PATRON_API patron_status patron_db_journal_to_json(patron_db *db, char **out, int64_t after_id,
                                                   size_t limit);

/**
 * The records with these ids as a JSON array (as patron_customer_to_json,
 * without password hashes): the export to keep before a merge.
 * @param[out] out  free with patron_free().
 */
PATRON_API patron_status patron_db_export_to_json(patron_db *db, char **out, const int64_t *ids, size_t n,
                                                  unsigned flags);

/* ------------------------------------------------------------------------ */
/** @name Duplicate matching                                                 */

/** The matcher's verdict on a pair (append-only). */
typedef enum patron_decision {
    PATRON_DECISION_DISTINCT = 0, /**< different customers */
    PATRON_DECISION_REVIEW = 1,   /**< perhaps the same: show a person */
    PATRON_DECISION_MERGE = 2,    /**< the same customer: safe to merge automatically */
    /** Two people of one household: the same address (or the household's
     *  mailbox or phone), another given name, no agreeing birth date.  Never
     *  merged; for "one catalogue per household" (patron_pairs_household()). */
    PATRON_DECISION_HOUSEHOLD = 3
} patron_decision;

/** "distinct", "review", "merge", "household"; NULL for an unknown value.
 *  Static string. */
PATRON_API const char *patron_decision_name(patron_decision decision);

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
 * left out; HOUSEHOLD candidates are listed (see patron_match_detail).  A
 * stored customer's candidates leave out those a merchant decided are not
 * the same person (a review case marked not_duplicate or household,
 * patron/review.h), until one of the two changes in a matched field.
 * @param[out] out  the candidates; free with patron_matches_free().
 */
PATRON_API patron_status patron_db_match(patron_db *db, patron_matches **out, const patron_customer *c,
                                         patron_match_mode mode);

/** Number of candidates. */
PATRON_API size_t patron_matches_count(const patron_matches *m);
/** Candidate `i`: its id, score and decision (any out-pointer may be NULL).
 *  Candidates are sorted by score, best first.  PATRON_E_RANGE if `i` is out
 *  of range. */
PATRON_API patron_status patron_matches_get(const patron_matches *m, int64_t *id_out, double *score_out,
                                            patron_decision *decision_out, size_t i);
/** How many fields the explanation of a candidate has (the same for all). */
PATRON_API size_t patron_matches_field_count(const patron_matches *m);
/**
 * Field `k` of candidate `i`'s explanation: its name ("last_name"), the two
 * normalised values compared (the customer's and the candidate's; "" when
 * missing), the comparison level ("exact", "phonetic", "initial", ...) and
 * the weight it added to the score.  Strings owned by `m`.  Out-pointers may
 * be NULL.  PATRON_E_RANGE if i or k is out of range.
 */
PATRON_API patron_status patron_matches_explain(const patron_matches *m, const char **field_out,
                                                const char **value_a_out, const char **value_b_out,
                                                const char **level_out, double *weight_out, size_t i,
                                                size_t k);

/**
 * How the matcher decides (issue 11).  Each field of a pair is compared
 * into a level (exact, variant, similar, phonetic, partial, initial,
 * swapped, different, missing).  Each level has two probabilities: m, how
 * often it occurs when both records are one person, and u, how often when
 * they are two people that share a blocking key; its weight is log2(m/u)
 * (Fellegi-Sunter): positive for agreement, negative for disagreement, 0
 * when a value is missing.  An exact agreement on last name, given name,
 * address (postal code, street, number), email, phone or company is weighed
 * by how many customers of this store hold that value (term frequency, as
 * Splink does): a Packstation, an info@ mailbox, a switchboard number or
 * "Müller" held by many says less than a value one customer holds; a
 * mailbox, phone, address or company that c customers share is c people's
 * and loses fast, and a role mailbox (info@, kontakt@, buchhaltung@, ...)
 * is a company's, not a person's: it adds nothing.  The address fields
 * together count at least -6 (a move is one event; a Packstation, post
 * office or post-office box beside a home address counts 0: it is where
 * the parcels go), at most 13 (one building is one fact) and, with the
 * names, at most 14 (a household shares them).  Another house number on a
 * street that agrees is another building: -5.0 instead of the number
 * level's -3.95 (numbers a lost or added digit apart, 71 / 1, keep -3.95;
 * one typo of the same length, 48 / 84, is `partial`).  Two mailboxes one
 * character apart are `similar` (a typo); where each is built from nothing
 * but its own record's name (gerhard.stein-krueger@ /
 * gerhardstein-krueger@) they weigh 0: the name written two ways, as
 * namesakes write it.  A birth date
 * whose year alone agrees is `similar` and weighs 0: a day entered wrongly
 * or two people of one age (it is no agreeing birth date for the
 * household rule).  Registered at work: when
 * one record names a company and has a personal work mailbox (not at a
 * public provider such as web.de or gmail.com, not a role mailbox) and the
 * other names no company, a differing address, mailbox or phone counts at
 * least -1 each (the employer's contact data).  A move: where the two
 * addresses differ and one of two differing phones is a landline (in
 * Germany every number but +491..., in Austria but +436..., in
 * Switzerland but +417...), the phone counts at least -1 (the home's
 * number changed with the home; a mobile number moves with its owner and
 * keeps the level's weight; the detail's level_weight shows it).  A
 * personal contact value that only the pair holds - a mobile number (in
 * Germany +4915/16/17..., in Austria +4365...69..., in Switzerland
 * +4175...79...), a landline at two different addresses (one line that
 * a person kept; at one address it is the household's) or a mailbox that
 * is no role mailbox and not one built
 * from nothing but the name at a public provider (unless the full name's
 * parts make a namesake unlikely: given name holders x last name holders
 * / customers <= 0.5, both names exact - one address string is one
 * mailbox, and a namesake who built the very same one is rarer still),
 * each counted at two holders at most - beside the same given and last name (exact, a typo
 * of them, or a double name that keeps the other: Weber /
 * Bachmann-Weber; or the same given name under another last name, a
 * marriage, where a mailbox must name one of the two last names:
 * muellerh2@ for Helga Müller / Helga Böhm - and there the two addresses
 * count at least -1, not -6: a marriage and a move are one event), where no birth date or identifier differs, weighs at
 * least +13, and where the addresses differ the other
 * contact field's disagreement at most -1 (a second mailbox or a new
 * number of one person): a move with the same name and a personal mailbox or mobile
 * number is MERGE.  A move with a new mailbox where both names agree
 * exactly, only the pair holds the full name and the birth date agrees
 * weighs the mailboxes' disagreement at most -1 (the new mailbox came with
 * the new home; a third holder of the name, who may share a placeholder
 * birth date, keeps the -5.6).  Two
 * different mobile numbers (Germany +4915/16/17..., Austria +4365...69...,
 * Switzerland +4175...79...) where the two addresses agree (no move)
 * count -5.3 instead of the level's -3.3: a mobile is its owner's, a
 * housemate of one name has another.  How many customers hold
 * each full name (given names and last name) is counted too: a full name
 * only the pair holds lifts the two name weights together to at most 8
 * bits (less per further holder), and only as far as REVIEW - never to
 * MERGE - unless beside evidence of the person's own (see "name_change";
 * for a full name only the pair holds that two strangers would rarely
 * share - given name holders x last name holders / customers <= 0.1 - a
 * mailbox built from the name that only the pair holds is the person's
 * own too: there is no namesake to have built it)
 * or at one place of strangers: the same address that is a company both
 * records name or a Packstation, where a chance namesake among its
 * holders is unlikely (address holders x given name holders / customers x
 * last name holders / customers <= 0.1: a colleague or a Packstation
 * customer who registered twice); and the records that share a full
 * name at most 6 customers hold (a rare name) are candidates, however little else they share (both in
 * patron_db_match and patron_db_dedupe; customers stored before this
 * release get the full-name key when they are next saved).  Likewise two
 * records alone in a street of one postal code (the house number left
 * out; a rare street) are candidates: a house number mistyped, dropped or
 * written into another field beside a garbled name; where a third
 * customer lives in the street, neighbours are no candidates through it
 * (customers stored before this release get the key when they are next
 * saved; patron_db_dedupe uses it at once).
 *
 * The score is the match weight in bits:
 *     score = prior + sum of the field weights + adjustment
 * where prior = log2(lambda / (1 - lambda)) and lambda (default 0.1) is the
 * prior probability that a candidate pair is one person; the probability is
 * 2^score / (1 + 2^score).  MERGE at probability >= 0.98 (score >= 5.61),
 * REVIEW at >= 0.6 (score >= 0.58), both configurable.
 *
 * Then the safety rules, few and named (patron_match_detail.rule):
 *  - "household": same address (or the household's mailbox or phone),
 *    another given name (also several given names that share one but each
 *    keep one the other lacks, clearly apart: "Hannah Maria" / "Maria
 *    Marianne"; a second given name left out or misspelt is one person's),
 *    no agreeing birth date, no agreeing identifier:
 *    PATRON_DECISION_HOUSEHOLD instead of MERGE or REVIEW (also where the
 *    evidence alone says DISTINCT, for one building and one last name);
 *    REVIEW instead, never MERGE, where the other given name may be this
 *    one garbled beyond a typo ("racxe" / "rachel").  The same verdict
 *    and rule for one name at one home (same building and number, one
 *    last name) whose birth dates lie 15 years or more apart and not as a
 *    typo does (not one digit, two transposed or day and month swapped;
 *    neither date 1 January or before 1901): a parent and a grown child
 *    of one name, where the pair carries a mailbox or phone and none of
 *    its mailbox, phone or identifier agrees as the person's own evidence
 *    (records without any contact data are left to the evidence); and
 *    for two given names of one word that are each a known given name and
 *    alike only in their spelling (Maria / Marie, Maria / Martina,
 *    Johannes / Johanna) at one home under one last name, where no birth
 *    date, identifier or mailbox agrees: two names, two people;
 *  - "other_names": given names and last names both clearly differ (not a
 *    typo, initial, swap or double name; a short form or variant of a
 *    given name - Ilse / Elisabeth, Conrad / Konrad - is another name
 *    here; a name that is one record's given name and the other's last
 *    name, where both records hold a known given name in the given-name
 *    field - "Thomas Krause" / "Nicole Thomas" - is no swap): never MERGE (REVIEW), whatever address, phone or mailbox they
 *    share, unless an identifier agrees (or differs by one typo);
 *  - "shared_email" (email-only mode): the same email under another given
 *    name is REVIEW, not MERGE;
 *  - "name_only": the names are all that agrees (every other field is
 *    missing or disagrees, such as a Packstation without a mailbox beside
 *    a home): REVIEW, never MERGE - a name is no identity.  The same rule
 *    lifts to REVIEW a pair the evidence calls distinct when its full name
 *    (given and last name exact) is held by this pair alone in the store
 *    and is rare by its parts (given name holders x last name holders /
 *    customers <= 0.1): a person who moved with a new mailbox and phone,
 *    or registered at work.  A differing birth date or identifier keeps
 *    such a pair distinct; a full name many hold, or one made of common
 *    parts, gains nothing;
 *  - "name_change": the same given name under another last name (not a
 *    typo, part of a double name or swap) is a marriage - or a neighbour,
 *    a colleague at the company's address, a stranger at one Packstation.
 *    Where the two share one home that few customers hold (same building
 *    and number, not a company both name, not a Packstation) the evidence
 *    decides; elsewhere it takes evidence of the person's own to MERGE: an
 *    agreeing birth date or identifier, or a mailbox or phone that few
 *    customers hold (not a role mailbox, not the switchboard of a company
 *    both name, not a mailbox at a public provider built from nothing but
 *    the name both records bear).  Without it: REVIEW, never MERGE;
 *  - "own_evidence": the same given name (or a typo of it) and a mailbox
 *    or phone that only these two customers hold (as for "name_change"; not
 *    a birth date, which many may share as a placeholder) lift a pair the
 *    evidence calls distinct to REVIEW - a move with a new mailbox but the same
 *    mobile number, a marriage and a move with the old mailbox kept.  A
 *    differing birth date or identifier keeps it distinct; never MERGE;
 *  - "other_building": one street of one town (street and postal code
 *    alike) and two house numbers that differ by more than a typo (not one
 *    digit lost, added or changed, not two transposed): neighbours, two
 *    households.  Where the pair carries a mailbox or phone, neither
 *    agrees, and nothing else of the person's own does (a birth date, an
 *    identifier, as for "name_change"): REVIEW, never MERGE.  Records
 *    without any contact data are left to the evidence.
 * Nothing else overrides the evidence: a move with the same name and a
 * mailbox that few customers hold is a MERGE, and so is the same name,
 * address and phone with a second mailbox.  A mailbox at a public provider
 * built from nothing but the name (thomas.mueller@web.de) says little more
 * than the name, which namesakes share: after a move, such a pair of a
 * common name (more than half a namesake expected by its parts) may get
 * REVIEW, not MERGE (the name's frequency decides).
 */
typedef struct patron_match_detail {
    unsigned version;   /**< set by the caller: PATRON_MATCH_DETAIL_VERSION */
    double score;       /**< match weight in bits (as patron_matches_get) */
    double probability; /**< 2^score / (1 + 2^score), in [0, 1] */
    double prior;       /**< log2(lambda / (1 - lambda)) */
    /** what the address floor and the name+address ceiling changed: score =
     *  prior + sum of the field weights + adjustment */
    double adjustment;
    patron_decision decision;
    /** the safety rule that decided ("household", "other_names",
     *  "shared_email", "name_only", "name_change", "own_evidence",
     *  "other_building"), ""
     *  when the probability alone decided.  Static. */
    const char *rule;
} patron_match_detail;

#define PATRON_MATCH_DETAIL_VERSION 1
#define PATRON_MATCH_DETAIL_INIT { PATRON_MATCH_DETAIL_VERSION, 0, 0, 0, 0, PATRON_DECISION_DISTINCT, NULL }

/**
 * Candidate `i` in full.  `out->version` must be set (PATRON_MATCH_DETAIL_INIT).
 * @return PATRON_E_RANGE if `i` is out of range; PATRON_E_ABI for a version
 *         this library does not know.
 */
PATRON_API patron_status patron_matches_detail(const patron_matches *m, patron_match_detail *out, size_t i);

/** Field `k` of candidate `i`'s explanation, with its frequency adjustment. */
typedef struct patron_match_field_detail {
    unsigned version;    /**< set by the caller: PATRON_MATCH_FIELD_DETAIL_VERSION */
    const char *field;   /**< "last_name", ...; owned by the list */
    const char *value_a; /**< the customer's normalised value ("" missing) */
    const char *value_b; /**< the candidate's */
    const char *level;   /**< "exact", "phonetic", ... */
    double weight;       /**< what it added to the score */
    double level_weight; /**< log2(m/u) of the level, before the frequency adjustment */
    /** 1 when an exact agreement was weighed by its frequency: `holders` of
     *  `customers` hold the value ("mueller: 60 of 20000 customers, +3.1
     *  instead of +6.4"); 0 otherwise (then holders and customers are 0) */
    int frequency;
    uint64_t holders;
    uint64_t customers;
} patron_match_field_detail;

#define PATRON_MATCH_FIELD_DETAIL_VERSION 1
#define PATRON_MATCH_FIELD_DETAIL_INIT { PATRON_MATCH_FIELD_DETAIL_VERSION, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0 }

/**
 * Field `k` of candidate `i` in full (`out->version` set by the caller).
 * @return PATRON_E_RANGE if i or k is out of range; PATRON_E_ABI for an
 *         unknown version.
 */
PATRON_API patron_status patron_matches_field_detail(const patron_matches *m, patron_match_field_detail *out,
                                                     size_t i, size_t k);

/** The candidates and explanations as JSON (per candidate: id, score,
 *  probability, decision, rule, prior, adjustment, and per field: a, b,
 *  level, weight, level_weight and — when the frequency adjusted it —
 *  holders and customers).  Free with patron_free(). */
PATRON_API patron_status patron_matches_to_json(const patron_matches *m, char **out, unsigned flags);
/** Free a candidate list.  NULL is ignored. */
PATRON_API void patron_matches_free(patron_matches *m);

/**
 * The matcher's settings, kept in the store's meta (optional meta callbacks
 * of the store; without them a handle keeps its own), so that every process
 * on one store decides alike.  Every read and match loads what the store
 * holds; a change is one transaction.
 */
typedef struct patron_match_settings {
    unsigned version;          /**< set by the caller: PATRON_MATCH_SETTINGS_VERSION */
    double merge_probability;  /**< MERGE at a match probability >= this (default 0.98) */
    double review_probability; /**< REVIEW at >= this (default 0.6) */
    double prior;              /**< lambda: P(a candidate pair is one person) (default 0.1) */
    char default_country[3];   /**< ISO 3166 alpha-2 for phones and addresses without one ("DE"): the
                                    dialling plan of a national phone number of a customer without an
                                    address (with one, its country's) */
} patron_match_settings;

#define PATRON_MATCH_SETTINGS_VERSION 1
#define PATRON_MATCH_SETTINGS_INIT { PATRON_MATCH_SETTINGS_VERSION, 0.98, 0.6, 0.1, "DE" }

/** The settings in force on this store.  `out->version` set by the caller.
 *  @return PATRON_E_ABI for an unknown version. */
PATRON_API patron_status patron_db_match_config_get(patron_db *db, patron_match_settings *out);
/**
 * Change the settings (all of them: read, change, write).  PATRON_E_INVALID
 * for thresholds that are not probabilities with review <= merge, a prior
 * outside (0, 1) or a country that is not two capital letters.
 *
 * The default country is part of how records are keyed (a customer's
 * phone without an address of its own is read in its dialling plan), so
 * changing it while the store holds customers leaves their index keys
 * built under the old one: in the same transaction the store's index is
 * recorded as built under mixed countries, patron_db_index_state() says
 * PATRON_INDEX_STALE (on every handle of the store) and candidates may be
 * missed until patron_db_reindex() rebuilds the keys under the new country
 * (setting the old country again does not make them current: records saved
 * in between were keyed under the new one).  Records saved after the
 * change, through any handle, are keyed under the new country.  Changing
 * the thresholds or the prior touches no key.  Nothing is rebuilt here:
 * a reindex of a large store is a long transaction the shop should choose
 * the moment of.  patron_db_match_config_reset() does the same when the
 * country was not "DE".
 */
PATRON_API patron_status patron_db_match_config_set(patron_db *db, const patron_match_settings *settings);
/** m and u of a field's comparison level ("last_name", "exact"; names as
 *  patron_matches_explain gives them).  PATRON_E_RANGE for an unknown pair. */
PATRON_API patron_status patron_db_match_config_probability(patron_db *db, double *m_out, double *u_out,
                                                            const char *field, const char *level);
/** Override m and u of a field's comparison level (each in (0, 1]); the
 *  weight becomes log2(m/u).  PATRON_E_RANGE for an unknown pair. */
PATRON_API patron_status patron_db_match_config_set_probability(patron_db *db, const char *field,
                                                                const char *level, double m, double u);
/**
 * Declare the custom property `property` an identifier (a customer-card
 * number, the number in a previous ERP): an agreeing value is strong evidence
 * for one person, a differing one strong evidence against, and an agreeing
 * identifier overrides the "other_names" and "household" rules.  The VAT ID
 * of a company customer (B2B or with a company) counts as one without being
 * declared.  At most 7.  Declaring one twice is no error.  A batch
 * (patron_db_dedupe) also finds candidates through declared identifiers;
 * patron_db_match() finds them through the other keys (and the VAT ID).
 */
PATRON_API patron_status patron_db_match_config_identifier_add(patron_db *db, const char *property);
/** Withdraw a declared identifier.  PATRON_E_NOT_FOUND if it is not declared. */
PATRON_API patron_status patron_db_match_config_identifier_remove(patron_db *db, const char *property);
/** The declared identifiers, one per line ("" for none).  Free with patron_free(). */
PATRON_API patron_status patron_db_match_config_identifiers(patron_db *db, char **out);
/** Back to the built-in defaults (no identifiers). */
PATRON_API patron_status patron_db_match_config_reset(patron_db *db);

/**
 * Estimation of the model from the store's own customers (issue 11): u of
 * every field and level from random pairs of active customers, m by EM
 * over candidate pairs in two passes - pairs with the same given and last
 * name (where m of the names is not estimated) and pairs sharing a birth
 * date and postal code (where m of those two is not) - starting from the
 * built-in defaults and shrunk towards them when the store is small.  The
 * fields a pass is blocked on are left out of its EM.  Pairs that share an
 * address are not used: most of them are households, and EM over them
 * takes a household for one person.  For the same reason one person's two
 * records are held to agree on given name and last name at least 7 times
 * in 10, on the birth date at least 9 in 10.  A pass without enough pairs (no birth dates in the
 * store) is left out and its fields keep the defaults.  The prior becomes
 * the share of matches among random pairs, corrected for the duplicates
 * each pass cannot see.
 *
 * A guard keeps an estimate from making results worse: EM assumes that the
 * fields are independent given the class, and life events break that (a
 * move makes address, landline and mailbox disagree together among one
 * person's records, a household shares last name, address and phone among
 * different people), so on such data EM fits the dependence instead of
 * identity.  The matcher's own candidate pairs (pairs sharing a blocking
 * key, blocks of at most 50, at most 300 000 pairs) are scored under the
 * built-in defaults and under the estimate; the estimate may turn at most
 * 2.5 % of the defaults' MERGE pairs into something else, at most 1 % (of
 * their number) of other pairs into MERGE, and at most 15 % of their MERGE
 * or REVIEW pairs into neither.  If it does more, the estimate pulled half
 * and then three quarters of the way back to the defaults (every weight and
 * the prior moved by that share of their change) is tried; the model
 * stored is the first that passes ("shrunk" in
 * patron_db_match_config_origin() when pulled back), and when none does
 * nothing is stored and the report says PATRON_ESTIMATE_UNSAFE.
 *
 * The work is bounded: at most 4 000 000 candidate pairs per pass (blocks
 * of more than 50 customers are left out; beyond the limit a pass takes a
 * sample of whole blocks, in the order of their key's hash), random_pairs
 * random pairs and max_iterations iterations over the distinct comparison
 * patterns.  Every active customer is read and normalised once, which is
 * most of the time: about 11 s of CPU for 1 million customers on the
 * memory store, of which the guard takes about 4 (tests/bench/bench_estimate.c).
 */
typedef struct patron_estimate_options {
    unsigned version;    /**< PATRON_ESTIMATE_OPTIONS_VERSION */
    uint64_t seed;       /**< of the random pairs (default 1): the same store gives the same model */
    size_t random_pairs; /**< how many random pairs for u (0: 100 000) */
    int max_iterations;  /**< EM iteration limit per pass (<= 0: 200) */
    unsigned flags;      /**< PATRON_ESTIMATE_DRY_RUN */
} patron_estimate_options;

#define PATRON_ESTIMATE_OPTIONS_VERSION 1
#define PATRON_ESTIMATE_OPTIONS_INIT { PATRON_ESTIMATE_OPTIONS_VERSION, 1u, 0u, 0, 0u }
/** Estimate and report, but store nothing. */
#define PATRON_ESTIMATE_DRY_RUN 1u

/** Why an estimate was not used (patron_estimate_report.flags). */
#define PATRON_ESTIMATE_NOT_CONVERGED 1u /**< EM reached its iteration limit */
#define PATRON_ESTIMATE_TOO_FEW 2u       /**< too few customers or candidate pairs */
#define PATRON_ESTIMATE_DEGENERATE 4u    /**< the data cannot tell matches from non-matches */
#define PATRON_ESTIMATE_UNSAFE 8u        /**< the estimate (even pulled 3/4 back) would change too many of the
                                              defaults' decisions (see patron_db_estimate()) */

/** What patron_db_estimate() did.  `version` set by the caller. */
typedef struct patron_estimate_report {
    unsigned version;       /**< PATRON_ESTIMATE_REPORT_VERSION */
    int stored;             /**< 1: the estimated model is stored and in force; 0: the model was left as it was */
    int converged;          /**< 1: every EM pass with enough pairs converged to a usable estimate */
    unsigned flags;         /**< PATRON_ESTIMATE_* ; 0 when converged */
    size_t customers;       /**< active customers read */
    size_t candidate_pairs; /**< candidate pairs used by EM (both passes) */
    size_t random_pairs;    /**< random pairs used for u */
    int iterations;         /**< EM iterations (both passes) */
    double matches;         /**< expected duplicate pairs found by EM */
    double prior;           /**< the estimated prior (P(two random customers are one person)) */
    double seconds;         /**< wall time of the call */
    char message[256];      /**< one line for people: what was done, or why the defaults were kept */
} patron_estimate_report;

#define PATRON_ESTIMATE_REPORT_VERSION 1
#define PATRON_ESTIMATE_REPORT_INIT { PATRON_ESTIMATE_REPORT_VERSION, 0, 0, 0u, 0, 0, 0, 0, 0, 0, 0, "" }

/**
 * Estimate the matcher's model from this store (see patron_estimate_options).
 * On success the model is stored in the store's meta in one transaction
 * (every process on the store uses it from its next match) and out->stored
 * is 1.  When EM does not converge, the store is too small or the data
 * degenerate, nothing is stored, the model in force stays, out->flags says
 * why and out->message in words: this is still PATRON_OK.  Go back to the
 * built-in defaults with patron_db_match_config_reset().
 * Decided review cases (patron/review.h) are labelled pairs: m is refined
 * with the duplicates merged through the queue, and the REVIEW threshold
 * moves where enough REVIEW pairs of both kinds are decided; when EM gives
 * no usable estimate, the model in force is refined and stored instead
 * (out->stored 1, the message says how many decided pairs were used).
 * @param out   may be NULL; else its version set by the caller
 *              (PATRON_ESTIMATE_REPORT_INIT).
 * @param opts  NULL: PATRON_ESTIMATE_OPTIONS_INIT.
 * @return PATRON_E_ABI for an unknown struct version; a store error (then
 *         nothing is stored).
 */
PATRON_API patron_status patron_db_estimate(patron_db *db, patron_estimate_report *out,
                                            const patron_estimate_options *opts);

/**
 * Where m and u of a field's comparison level come from: "default" (the
 * built-in values), "estimated" (by patron_db_estimate()), "shrunk" (by
 * patron_db_estimate(), pulled part of the way back to the defaults by its
 * guard) or "set" (by patron_db_match_config_set_probability()).  *out is a
 * static string.
 * PATRON_E_RANGE for an unknown field or level.
 */
PATRON_API patron_status patron_db_match_config_origin(patron_db *db, const char **out, const char *field,
                                                       const char *level);

/** Pairs and clusters of a batch deduplication. */
typedef struct patron_pairs patron_pairs;

/**
 * Deduplicate the whole store: every pair of customers (merged ones left
 * out) judged MERGE, REVIEW or HOUSEHOLD, and clusters — the transitive
 * closure of the MERGE pairs — with stable cluster ids (the smallest customer id in the
 * cluster, so the same data gives the same ids).  Pairs a merchant decided
 * are not one person (patron/review.h) are left out, as in patron_db_match().  Reads every record once
 * and blocks in memory; for incremental work use patron_db_match().  Pairs
 * compared are customers that share a blocking key (a key more than 1000
 * customers share is left out, as in patron_db_match()); two customers whose
 * only shared key is common to more than 6 are compared when they are near
 * in an order by name and address (a sorted neighbourhood), so the work
 * grows about linearly with the store.  Every pair found here is a
 * candidate of patron_db_match() too.  On
 * every store the call is one read transaction, so writers on the same
 * store wait until it returns (about 9 s for a million customers on the
 * memory store).
 * @param[out] out  free with patron_pairs_free().
 */
PATRON_API patron_status patron_db_dedupe(patron_db *db, patron_pairs **out, patron_match_mode mode);

/** Number of pairs. */
PATRON_API size_t patron_pairs_count(const patron_pairs *p);
/** Pair `i` (id_a < id_b), sorted by id_a then id_b; out-pointers may be
 *  NULL.  PATRON_E_RANGE if out of range. */
PATRON_API patron_status patron_pairs_get(const patron_pairs *p, int64_t *id_a_out, int64_t *id_b_out,
                                          double *score_out, patron_decision *decision_out, size_t i);
/** The cluster of customer `id`: its cluster id, or 0 if no MERGE pair holds it. */
PATRON_API int64_t patron_pairs_cluster(const patron_pairs *p, int64_t id);
/** The household of customer `id`: the transitive closure of its MERGE and
 *  HOUSEHOLD pairs, named by its smallest customer id (stable like cluster
 *  ids), or 0 if no such pair holds it. */
PATRON_API int64_t patron_pairs_household(const patron_pairs *p, int64_t id);
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
 *    shop account), the registration is saved and *existing_id_out receives
 *    that customer's id, so the shop can say so; activation then offers the
 *    merge (PATRON_ACTIVATE_EMAIL merges on it).
 * @param[out] existing_id_out  may be NULL; the id of an active customer with
 *                              the same email, else 0.
 * @return as patron_db_create() otherwise.
 */
PATRON_API patron_status patron_db_register(patron_db *db, int64_t *existing_id_out, patron_customer *c);

/** How activation looks for an existing customer (append-only).  In every
 *  mode, a candidate a merchant decided is not the same person (a review
 *  case marked not_duplicate or household, patron/review.h) is not one. */
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

/** "activated", "merged", "review", "failed"; NULL for an unknown value.
 *  Static string. */
PATRON_API const char *patron_outcome_name(patron_outcome outcome);

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
PATRON_API patron_status patron_db_activate(patron_db *db, patron_activation **out, int64_t id,
                                            patron_activate_mode mode, unsigned flags);

/** Receives the result of one customer in a batch; return non-zero to stop. */
typedef int (*patron_activation_fn)(void *payload, const patron_activation *result);

/** Options of patron_db_activate_pending(). */
typedef struct patron_activate_options {
    unsigned version;          /**< PATRON_ACTIVATE_OPTIONS_VERSION */
    patron_activate_mode mode; /**< default PATRON_ACTIVATE_INTERACTIVE */
    unsigned flags;            /**< PATRON_ACTIVATE_* flags, as patron_db_activate() */
    patron_activation_fn fn;   /**< hears about each customer (may be NULL) */
    void *payload;             /**< passed to `fn` */
} patron_activate_options;

#define PATRON_ACTIVATE_OPTIONS_VERSION 1
#define PATRON_ACTIVATE_OPTIONS_INIT { PATRON_ACTIVATE_OPTIONS_VERSION, PATRON_ACTIVATE_INTERACTIVE, 0u, NULL, NULL }

/** What patron_db_activate_pending() did: how many customers had each outcome. */
typedef struct patron_activation_summary {
    unsigned version; /**< set by the caller: PATRON_ACTIVATION_SUMMARY_VERSION */
    size_t activated; /**< PATRON_OUTCOME_ACTIVATED */
    size_t merged;    /**< PATRON_OUTCOME_MERGED */
    size_t review;    /**< PATRON_OUTCOME_REVIEW */
    size_t failed;    /**< PATRON_OUTCOME_FAILED */
} patron_activation_summary;

#define PATRON_ACTIVATION_SUMMARY_VERSION 1
#define PATRON_ACTIVATION_SUMMARY_INIT { PATRON_ACTIVATION_SUMMARY_VERSION, 0, 0, 0, 0 }

/**
 * Activate every pending customer, each in its own transaction (safe to
 * interrupt: what is done stays done).  opts->fn (may be NULL) hears about
 * each one, failures included (outcome PATRON_OUTCOME_FAILED with the
 * message); returning non-zero stops the batch.
 * @param[out] out  may be NULL; the counts (its version set by the caller,
 *                  e.g. from PATRON_ACTIVATION_SUMMARY_INIT).
 * @param opts      NULL: the defaults of PATRON_ACTIVATE_OPTIONS_INIT.
 * @return PATRON_OK when every customer was handled, even if some failed;
 *         PATRON_E_ABI for a struct version this library does not know;
 *         PATRON_E_INVALID for an unknown mode; otherwise an error only if
 *         the list of pending customers cannot be read.
 */
PATRON_API patron_status patron_db_activate_pending(patron_db *db, patron_activation_summary *out,
                                                    const patron_activate_options *opts);

/** What happened. */
PATRON_API patron_outcome patron_activation_outcome(const patron_activation *a);
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
/** Candidate `i`: its id, score and decision (PATRON_DECISION_MERGE or
 *  _REVIEW); any out-pointer may be NULL.  PATRON_E_RANGE if out of range. */
PATRON_API patron_status patron_activation_candidate(const patron_activation *a, int64_t *id_out,
                                                     double *score_out, patron_decision *decision_out,
                                                     size_t i);
/** A ready merge plan for candidate `i` (the candidate survives, the pending
 *  customer is the duplicate), to show, edit and apply with
 *  patron_db_merge().  Owned by the result; NULL if out of range. */
PATRON_API patron_merge_plan *patron_activation_plan(patron_activation *a, size_t i);
/** Free a result.  NULL is ignored. */
PATRON_API void patron_activation_free(patron_activation *a);

/**
 * Manual release: an administrator activates a pending customer regardless
 * of the matcher (a new customer number), in one transaction.
 * @param[out] number_out  may be NULL; receives the new number (free with
 *                         patron_free()).
 */
PATRON_API patron_status patron_db_release(patron_db *db, char **number_out, int64_t id);

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
    PATRON_GATE_MERGED = 4,  /**< merged away: use the survivor (its id is given) */
    PATRON_GATE_ERASED = 5   /**< personal data erased (patron_db_erase()): no login, no orders */
} patron_gate;

/** "allowed", "locked", "pending", "unknown", "merged", "erased"; NULL for an
 *  unknown value.  Static string. */
PATRON_API const char *patron_gate_name(patron_gate verdict);

/**
 * May this login log in?  `login` is a login user name or, for customers
 * without one, their email.  *verdict_out gets the answer, *customer_id_out
 * (may be NULL) the customer's id (the survivor's for PATRON_GATE_MERGED),
 * or 0.  Reads only.  An unknown login is PATRON_OK with PATRON_GATE_UNKNOWN.
 */
PATRON_API patron_status patron_db_can_login(patron_db *db, patron_gate *verdict_out, int64_t *customer_id_out,
                                             const char *login);

/** May customer `id` order?  As patron_db_can_login(). */
PATRON_API patron_status patron_db_can_order(patron_db *db, patron_gate *verdict_out, int64_t *customer_id_out,
                                             int64_t id);

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

/** One customer group, as read (a snapshot). */
typedef struct patron_group patron_group;
/** All customer groups, as read (a snapshot). */
typedef struct patron_groups patron_groups;

/**
 * Read one group.
 * @param[out] out  free with patron_group_free().
 * @return PATRON_E_NOT_FOUND, PATRON_E_UNSUPPORTED.
 */
PATRON_API patron_status patron_db_group_get(patron_db *db, patron_group **out, const char *name);
/** Free a group read by patron_db_group_get().  NULL is ignored. */
PATRON_API void patron_group_free(patron_group *g);

/**
 * Read every group, in name order.
 * @param[out] out  free with patron_groups_free().
 */
PATRON_API patron_status patron_db_group_list(patron_db *db, patron_groups **out);
/** Number of groups in the list. */
PATRON_API size_t patron_groups_count(const patron_groups *l);
/** Group `i`, or NULL if out of range.  Owned by the list. */
PATRON_API const patron_group *patron_groups_at(const patron_groups *l, size_t i);
/** Free a group list.  NULL is ignored. */
PATRON_API void patron_groups_free(patron_groups *l);

/** The group's name.  Owned by the group. */
PATRON_API const char *patron_group_name(const patron_group *g);
/** The discount in percent as a decimal string ("0", "12.5").  Owned by the group. */
PATRON_API const char *patron_group_discount_percent(const patron_group *g);
/** The price category, or NULL if none.  Owned by the group. */
PATRON_API const char *patron_group_price_category(const patron_group *g);
/** 1 for the default group, else 0. */
PATRON_API int patron_group_is_default(const patron_group *g);
/** How many active customers are in the group (when it was read). */
PATRON_API size_t patron_group_customers(const patron_group *g);

/**
 * The groups as a JSON array of {"name", "discount_percent",
 * "price_category", "default", "customers"} (customers: how many active),
 * in name order: the same as patron_db_group_list().
 * @param[out] out  free with patron_free().
 */
PATRON_API patron_status patron_db_groups_to_json(patron_db *db, char **out);

/* ------------------------------------------------------------------------ */
/** @name The index: its generation and reindexing                          */

/**
 * Whether the index keys and match forms the store holds were built the way
 * this library builds them (append-only).  A release that changes how
 * records are normalised or which keys they get (e.g. a new normalised form
 * of phone numbers, a new kind of blocking key) starts a new index
 * generation; customers saved before keep the keys of the old one until
 * they are saved again, and until then candidates are missed and value
 * frequencies are off.  patron_db_reindex() rebuilds them all at once.
 */
typedef enum patron_index_state {
    /** Built by this generation (or the store holds no customer yet). */
    PATRON_INDEX_CURRENT = 0,
    /** Built by an older generation, or by a release that did not record
     *  one (a store with customers and no record of its generation), or
     *  under another default country than the one the matching settings
     *  name now (patron_db_match_config_set()): run patron_db_reindex(). */
    PATRON_INDEX_STALE = 1,
    /** Built by a newer release than this library.  Its keys work for
     *  lookups by number, reference, email and login; matching may miss
     *  candidates.  patron_db_reindex() rebuilds them this library's way. */
    PATRON_INDEX_NEWER = 2,
    /** Not known: the store keeps no named values (no meta callbacks, see
     *  patron/store.h), so it cannot record a generation. */
    PATRON_INDEX_UNKNOWN = 3
} patron_index_state;

/** "current", "stale", "newer", "unknown"; NULL for a value this library
 *  does not know.  Static string. */
PATRON_API const char *patron_index_state_name(patron_index_state state);

/**
 * The state of the store's index (one read transaction).
 *
 * The store records, in its meta under "patron.index.version", the
 * generation its keys were built with: patron_db_reindex() writes it, and so
 * does the first create into a store that holds no customer.  A store with
 * customers and no record counts as generation 0 (stale): it was written by
 * a release before generations were recorded, and a reindex is cheap beside
 * candidates missed without telling.
 *
 * The keys also depend on the default country of the matching settings
 * (patron_match_settings): the store records under "patron.index.country"
 * the country they were built under (written with the generation, and "-"
 * when the country changed while the store held customers; none recorded
 * counts as "DE", the built-in default).  A store of this generation whose
 * country is not the one the settings name is stale too: *generation_out
 * is then the current generation and the state PATRON_INDEX_STALE.
 *
 * @param[out] state_out       the state (PATRON_INDEX_UNKNOWN without meta)
 * @param[out] generation_out  the generation the store records (0: none
 *                             recorded; 0 also without meta); may be NULL
 * @param[out] current_out     this library's generation (> 0); may be NULL
 * @return PATRON_E_INVALID if state_out is NULL; PATRON_E_STORE.  A recorded
 *         value that is not a generation number or not a country (bytes
 *         from a store are untrusted) counts as none: stale.
 */
PATRON_API patron_status patron_db_index_state(patron_db *db, patron_index_state *state_out,
                                               unsigned *generation_out, unsigned *current_out);

/**
 * Rebuild the index keys and match forms of every stored customer (every
 * state: merged and erased ones keep their alias keys) the way this library
 * builds them, with the store's matching configuration (its default
 * country), and record this library's generation and that country — in one
 * transaction:
 * on any failure nothing is changed.  The customers' values, numbers,
 * revisions and update times stay as they are; the journal is not touched;
 * the review queue is not marked (run a full scan,
 * patron_db_review_scan(), to see pairs the new keys find).
 *
 * Customers are read in slices of ids, so memory does not grow with the
 * store; the store's transaction holds every change until the commit (for
 * the memory store: the replaced records until then).  Works on a store
 * without meta too (nothing recorded; patron_db_index_state() stays
 * PATRON_INDEX_UNKNOWN).
 *
 * @param[out] count_out  how many customers were re-keyed; may be NULL
 * @return PATRON_E_NOMEM, PATRON_E_STORE (nothing changed).
 */
PATRON_API patron_status patron_db_reindex(patron_db *db, size_t *count_out);

#ifdef __cplusplus
}
#endif

/* The duplicate review queue: cases, scans, decisions (issue 12). */
#include "review.h"
/* Personal data requests: export and erasure (issue 16). */
#include "privacy.h"

#endif /* PATRON_PATRON_H */
