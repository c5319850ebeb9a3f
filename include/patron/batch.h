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
