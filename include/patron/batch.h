/*
 * patron — deduplicating customers that are in no store (a CSV file, an
 * export of another system) without storing them first.
 *
 * SPDX-License-Identifier: MIT
 *
 * A batch takes customers one by one, checks each exactly as
 * patron_db_create() would check it on an empty store that has the
 * configuration of the store it was made from (the same refusals with the
 * same messages: invalid values, an external reference or login name
 * given twice, a customer number given twice), gives it the id and the
 * customer number that create would give it there, and keeps only its
 * normalised form and blocking keys — no numbered, packed store record.
 * patron_batch_run() then finds the pairs: the same pairs, scores,
 * decisions and clusters as patron_db_dedupe() on a store into which the
 * same customers were created in the same order.  Normalising runs on all
 * cores, a chunk of customers at a time, and so does the pairing.
 *
 *   patron_batch *b;
 *   patron_batch_new(&b, db);            // db: only its configuration is read
 *   for (each row) {
 *       ... fill patron_customer *c ...
 *       if (patron_batch_add(b, c) != PATRON_OK)
 *           report(patron_batch_errmsg(b));
 *       // patron_customer_id(c) is its id in the pairs
 *   }
 *   // or many rows at once, checked on all cores: patron_batch_add_many()
 *   // or rows as values (no patron_customer made): patron_batch_add_rows()
 *   patron_batch_run(b, &pairs, PATRON_MATCH_FIELDS);
 *   patron_batch_free(b);
 *
 * Groups are not checked (a store's groups say where a customer belongs,
 * not who it is).  Pairs a merchant decided in the store (patron/review.h)
 * are not left out: the customers of a batch are not the store's.  A batch
 * is used by one thread at a time.
 */
#ifndef PATRON_BATCH_H
#define PATRON_BATCH_H

#include "patron.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A batch of customers to deduplicate; free with patron_batch_free(). */
typedef struct patron_batch patron_batch;

/**
 * A new, empty batch with the matcher configuration of `db` (thresholds,
 * model, default country, declared identifiers) and its customer-number
 * format, as they are now; `db` is not written and may be closed after.
 * @param[out] out  free with patron_batch_free().
 */
PATRON_API patron_status patron_batch_new(patron_batch **out, patron_db *db);

/**
 * Add a customer: checked as patron_db_create() checks it (see above); on
 * success `c` gets its id (1, 2, ... in the order of successful adds) and,
 * when it had none, the customer number create would give it; nothing
 * else of `c` changes, and the batch keeps no reference to it.  On
 * failure nothing was added and patron_batch_errmsg() says why
 * (PATRON_E_INVALID, PATRON_E_EXISTS or PATRON_E_STATE as create would
 * return them).  PATRON_E_STATE also after patron_batch_run().
 */
PATRON_API patron_status patron_batch_add(patron_batch *b, patron_customer *c);

/**
 * Add `n` customers at once, as `n` calls of patron_batch_add() in the
 * order of `c` would add them (the same ids, customer numbers and
 * refusals, the same pairs after), with the checks of their values and
 * their normalising spread over all cores.  `status[i]` gets the result
 * for `c[i]`: PATRON_OK (it has its id and number, as after
 * patron_batch_add()), or a refusal — PATRON_E_INVALID, PATRON_E_EXISTS or
 * PATRON_E_STATE (saved before) — with the reason in
 * patron_customer_errmsg(c[i]); a NULL `c[i]` gets PATRON_E_INVALID.  The
 * call returns PATRON_OK when each customer got its own result, refused
 * ones included; PATRON_E_NOMEM (the batch is spent; every `status[i]`
 * not yet decided is PATRON_E_NOMEM), PATRON_E_RANGE (too many customers),
 * PATRON_E_STATE as patron_batch_add(), PATRON_E_INVALID for a NULL `c` or
 * `status` with `n` > 0 or a customer given twice in `c` (then nothing is
 * added).  The customers are read by several threads at
 * once and must not change during the call.
 */
PATRON_API patron_status patron_batch_add_many(patron_batch *b, patron_customer *const *c, size_t n,
                                               patron_status *status);

/* ---- rows: values straight from a file, no patron_customer ------------- */

/** patron_batch_value.field for a value of the row's address: add a
 *  patron_address_field, e.g. PATRON_BATCH_ADDRESS + PATRON_A_STREET. */
#define PATRON_BATCH_ADDRESS 0x100
/** patron_batch_value.field for a tag (patron_customer_tag_add()). */
#define PATRON_BATCH_TAG 0x200
/** patron_batch_value.field for a custom property: `key` names it
 *  (patron_customer_prop_set()). */
#define PATRON_BATCH_PROPERTY 0x201
/**
 * patron_batch_value.field for a birth date that is no real date, taken
 * as given for comparison only: a typo of a real date in a file, such as
 * "1902-78-03" (FEBRL3 has many), which patron_customer_set() refuses
 * and would otherwise be left out.  Accepted only with the shape of a date
 * the matcher reads — 8 digits as YYYY-MM-DD, YYYYMMDD, YYYY.MM.DD,
 * YYYY/MM/DD, DD.MM.YYYY, DD/MM/YYYY or DD-MM-YYYY, the year 1900 to next
 * year — whose month and day make no calendar date (a month 13 to 99 or
 * 00, a day 32 to 99 or 00, a 30 February; not both 00).  A real date
 * there is refused (give it as PATRON_F_BIRTH_DATE, as YYYY-MM-DD), and so
 * is anything else; an empty value clears the birth date.  It stands for
 * the row's birth date (a later PATRON_F_BIRTH_DATE replaces it, and it
 * replaces an earlier one) and is compared digit by digit as any birth
 * date is: 1993-18-19 against 1993-10-19 is one digit off.  Only a batch
 * takes it, and a batch stores nothing: a store's customers, the setters
 * and patron_db_create() keep refusing such a date.
 */
#define PATRON_BATCH_BIRTH_AS_GIVEN 0x202

/**
 * One value of a row: what a setter of a patron_customer would be given.
 * `value` points at `len` bytes followed by a NUL, and `len` is its
 * length (a value whose length is not `len`, as one with a NUL inside, is
 * refused; the bytes are read up to `len` to find it); NULL with `len` 0
 * is the empty value.  Borrowed: the batch keeps no
 * reference after the call.
 */
typedef struct patron_batch_value {
    int field;         /**< a patron_field, PATRON_BATCH_ADDRESS + a patron_address_field,
                            PATRON_BATCH_TAG, PATRON_BATCH_PROPERTY or
                            PATRON_BATCH_BIRTH_AS_GIVEN */
    const char *key;   /**< PATRON_BATCH_PROPERTY: the property key; otherwise unused */
    const char *value;
    size_t len;
} patron_batch_value;

/** Version of patron_batch_row in this header. */
#define PATRON_BATCH_ROW_VERSION 1

/**
 * A customer given as its values, for patron_batch_add_rows() and
 * patron_batch_check_row().  The row stands for a new customer on which,
 * in the order of `values`, each value is set as patron_customer_set(),
 * patron_customer_address_set() (the row has at most one address: the
 * first PATRON_BATCH_ADDRESS value makes it, with country "DE" and
 * billing "private" as patron_customer_address_add() does),
 * patron_customer_tag_add() and patron_customer_prop_set() set it (an
 * empty value clears the field, removes the property; an empty tag is
 * refused) — the same refusals with the same messages, the first value
 * refused stopping the row — and which is then checked as a whole as
 * patron_db_create() checks it.  Fill it from PATRON_BATCH_ROW_INIT; the
 * library writes the members after `n_values`.
 */
typedef struct patron_batch_row {
    unsigned version;                 /**< PATRON_BATCH_ROW_VERSION */
    const patron_batch_value *values; /**< the row's values (borrowed for the call) */
    size_t n_values;
    /* written by the library: */
    patron_status status;             /**< PATRON_OK, or why the row was refused */
    size_t refused;                   /**< refused for a value: its index in `values` + 1;
                                           0: for the row as a whole (or not refused) */
    int64_t id;                       /**< added: its id in the pairs (1, 2, ...); else 0 */
    char number[72];                  /**< added: its customer number, given or made; else "" */
    char errmsg[256];                 /**< refused: why, as the customer's setter or
                                           patron_db_create() says it; else "" */
} patron_batch_row;

#define PATRON_BATCH_ROW_INIT { PATRON_BATCH_ROW_VERSION, NULL, 0, PATRON_OK, 0, 0, "", "" }

/**
 * Add `n` rows, as patron_batch_add_many() would add the customers they
 * stand for, in the order of `rows` (the same ids, customer numbers,
 * refusals and messages, the same pairs after), without making a
 * patron_customer: each row's values are checked and normalised where
 * they lie, on all cores.  Each row gets its result in `status`,
 * `refused`, `id`, `number` and `errmsg`.  The call returns PATRON_OK when
 * each row got its own result, refused ones included; PATRON_E_NOMEM (the
 * batch is spent; every row not yet decided has PATRON_E_NOMEM),
 * PATRON_E_RANGE (too many customers), PATRON_E_STATE as
 * patron_batch_add(), PATRON_E_INVALID for NULL `rows` with `n` > 0 and
 * PATRON_E_ABI when the rows' version is not one the library knows or
 * the rows of one call differ in it (then nothing is added and no row is
 * written).  The rows' values are read by several threads at once and
 * must not change during the call.
 */
PATRON_API patron_status patron_batch_add_rows(patron_batch *b, patron_batch_row *rows, size_t n);

/** patron_batch_add_rows_until() flag: stop after the first row refused
 *  with PATRON_E_INVALID (for one of its values, or as a whole). */
#define PATRON_BATCH_UNTIL_INVALID 0x1u

/**
 * patron_batch_add_rows(), but with PATRON_BATCH_UNTIL_INVALID in `flags`
 * the rows after the first one refused with PATRON_E_INVALID are not
 * added: `*n_out` gets the number of rows decided, that refused row
 * included (`n` when none was refused so).  The rows from `*n_out` on are
 * left to the caller, who may give them again (the library may have
 * written their result members; they mean nothing).  A caller that
 * retries a refused row without one of its values (as `patron dedupe`
 * does) keeps the ids in row order this way without checking every row
 * with patron_batch_check_row() first.  `flags` 0 is
 * patron_batch_add_rows().  Returns as patron_batch_add_rows() does (on
 * a failure `*n_out` is `n`: every row has its result), and
 * PATRON_E_INVALID for a NULL `n_out` or an unknown flag (nothing added).
 */
PATRON_API patron_status patron_batch_add_rows_until(patron_batch *b, size_t *n_out, patron_batch_row *rows,
                                                     size_t n, unsigned flags);

/**
 * Check one row's values as patron_batch_add_rows() checks them — the
 * values one by one, then the row as a whole; not whether its customer
 * number, external reference or login name is taken — and write the
 * result to `row` (`status`, `refused`, `errmsg`; `id` 0, `number` "").
 * Nothing is added and `b` is not changed: several threads may check
 * rows with one batch at once, also while one other thread adds rows to
 * it (patron_batch_add_rows(), patron_batch_add_rows_until()).  Returns the row's status, PATRON_E_INVALID
 * for a NULL `b` or `row`, PATRON_E_ABI for a version the library does
 * not know (the row not written).
 */
PATRON_API patron_status patron_batch_check_row(const patron_batch *b, patron_batch_row *row);

/** Number of customers added. */
PATRON_API size_t patron_batch_count(const patron_batch *b);

/**
 * Find the pairs (see patron_db_dedupe(), ids as patron_batch_add() gave
 * them).  Once per batch: PATRON_E_STATE on a second call.
 * @param[out] out  free with patron_pairs_free().
 */
PATRON_API patron_status patron_batch_run(patron_batch *b, patron_pairs **out, patron_match_mode mode);

/** The detail of the last failure on `b` ("" after success); borrowed. */
PATRON_API const char *patron_batch_errmsg(const patron_batch *b);

/** Free the batch.  NULL is ignored. */
PATRON_API void patron_batch_free(patron_batch *b);

#ifdef __cplusplus
}
#endif

#endif
