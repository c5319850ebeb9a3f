/*
 * patron — personal data requests: a customer's data export (GDPR Art. 15
 * and 20) and erasure (Art. 17) that keeps the books (issue 16).
 *
 * SPDX-License-Identifier: MIT
 *
 * Included by patron.h; the conventions at the top of patron.h hold here.
 *
 * A *person* is a customer together with every record merged into it (the
 * merged-away records whose merged_into leads to it).  Both functions take
 * the internal id of any of these records; a host that has a customer
 * number, email, login or external reference finds the id with
 * patron_db_find(), which already leads a merged-away number or email to its
 * survivor.
 */
#ifndef PATRON_PRIVACY_H
#define PATRON_PRIVACY_H

#include "patron.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The "schema_version" of the JSON patron_db_export_person() writes.  It
 *  grows when a member is added or its meaning changes. */
#define PATRON_PERSON_SCHEMA_VERSION 1

/**
 * Everything stored about one person, as one JSON object (a read
 * transaction; changes nothing).  The schema (version 1):
 *
 *   {
 *     "schema_version": 1,
 *     "generator": "patron 0.1.0",
 *     "exported_at": <seconds since 1970>,
 *     "customer": { ...as patron_customer_to_json(): every field set
 *                   (names of patron_field_name()), "addresses", "tags",
 *                   "properties"; group, lock state and reason, login user,
 *                   consent with "newsletter_at" and "newsletter_source";
 *                   never the password hash — "has_password": true instead },
 *     "consent": { "newsletter": true|false|null,
 *                  "changed_at": <seconds>|null,
 *                  "source": "shop"|"import"|"admin"|null },
 *     "aliases": { "numbers": [ ...customer numbers that lead here ],
 *                  "emails": [ ...emails of merged-away records that lead
 *                              here ],
 *                  "external_refs": [ {"source": "...", "id": "..."} ] },
 *     "merged_records": [ { "id", "number", "merged_into",
 *                           "record": {...the merged-away record as stored,
 *                                      as "customer" above} } ],
 *     "journal": [ {"id", "time", "kind", "customer_id", "undone_by",
 *                   "summary"} ...every entry about the person: its
 *                   merges, undos, locks, unlocks, erasure ],
 *     "review_cases": [ {"id", "state", "members": [ids]} ...the review
 *                       queue's cases the person is in (empty when the
 *                       store keeps none) ]
 *   }
 *
 * Members are always present (empty arrays, null).  Fields marked
 * PATRON_FIELD_SECRET (the password hash) never appear, nor does anything
 * of another person.  An erased customer exports as what is left.
 *
 * @param[out] out  NUL-terminated JSON; free with patron_free().
 * @param id        the customer, or a record merged into it (then the
 *                  survivor's person is exported).
 * @param flags     PATRON_JSON_PRETTY or 0.
 * @return PATRON_E_NOT_FOUND (no customer with this id), PATRON_E_STORE.
 */
PATRON_API patron_status patron_db_export_person(patron_db *db, char **out, int64_t id, unsigned flags);

/**
 * Erase a person's personal data, in one transaction; cannot be undone.
 *
 * What goes: every personal field of the customer and of every record merged
 * into it — names, salutation, title, company, emails, phones, birth date,
 * VAT ID, payment terms, notes, order text, the login (user name and
 * password hash), addresses, tags, custom properties, consent, lock reason;
 * their index keys (email, login, the matcher's keys, match form and
 * frequency counts), so the customer is never a match candidate again and
 * its email may register again; the before-images of every journal entry
 * about the person (such a merge can no longer be undone: patron_db_undo()
 * answers PATRON_E_STATE naming the erasure); lock reasons in the journal;
 * the values shown in review cases that hold the person (those cases are
 * closed as decided, with the person left out).
 *
 * What stays, for the books (HGB §257, AO §147): the internal ids, the
 * customer numbers (merged-away numbers still lead to the erased customer),
 * the external reference, the group, the creation time, the references of
 * the host (orders, invoices), the journal's list of entries with their
 * summaries (ids and numbers only).  The customer gets state "erased" and
 * PATRON_F_ERASED_AT; an erased record cannot be updated, merged, locked or
 * activated, and its login and order gates answer PATRON_GATE_ERASED.  A
 * locked customer can be erased.
 *
 * The erasure is journalled (kind "erase") with `reason` and `who` — neither
 * may hold personal data of the person (write "Art. 17 request of
 * 2026-11-30", "support:jane" — not the customer's name).  A store that
 * keeps bytes after they are overwritten (a write-ahead log, free pages) is
 * asked to purge them after the commit (store.h, version 5): the SQLite
 * store runs with secure_delete and truncates its WAL.
 *
 * While another handle or process is applying a merge (or any write), the
 * store's write transaction serialises the two: the erasure waits (the
 * memory store; SQLite up to its busy timeout, then PATRON_E_STORE
 * "database is locked", nothing erased) and then sees the merge's result —
 * a customer merged away meanwhile leads to its survivor, whose person is
 * erased.  A merge plan built before the erasure is refused when applied
 * (PATRON_E_CONFLICT: the records changed), and merge plans, updates, locks
 * and group changes of an erased customer are refused with PATRON_E_STATE
 * naming it.
 * @param[out] journal_id_out  the id of the "erase" journal entry, 0 when the
 *                             store keeps no journal (may be NULL).
 * @param id      the customer, or a record merged into it.
 * @param reason  why (required, 1..1000 bytes of one-line text; copied into
 *                the journal).
 * @param who     who asked for it or did it (required, as reason).
 * Erasing an erased customer changes nothing, writes no journal entry
 * (*journal_id_out 0) and succeeds; it asks the store to purge again.
 *
 * @return PATRON_E_NOT_FOUND; PATRON_E_INVALID (no reason or who, or not
 *         one line of at most 1000 bytes); PATRON_E_UNSUPPORTED (the store
 *         has journal entries about the person but cannot rewrite them —
 *         store.h version 5, journal_rewrite); PATRON_E_STORE (also when a
 *         merged record's chain leads to no survivor: the message names
 *         it).  On failure nothing changed — with one exception: when only
 *         the purge after the commit failed, the message says so ("is
 *         erased ... could not purge"); call again to retry the purge.
 */
PATRON_API patron_status patron_db_erase(patron_db *db, int64_t *journal_id_out, int64_t id,
                                         const char *reason, const char *who);

#ifdef __cplusplus
}
#endif
#endif /* PATRON_PRIVACY_H */
