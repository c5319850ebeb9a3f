/*
 * patron — the duplicate review queue (issue 12).
 *
 * SPDX-License-Identifier: MIT
 *
 * Included by patron.h; the conventions at the top of patron.h hold here.
 *
 * A *case* is a cluster of customers the matcher suspects to be one person
 * (the connected REVIEW and MERGE pairs among them), with the matcher's
 * verdict, score and explanation as they were when the case was last
 * scanned, and a state: open, merged, not a duplicate, a household, or
 * deferred — with who decided, when, and a note.
 *
 * Cases live in the store, through its meta callbacks (store.h), so they
 * work on every store that has them (memory, SQLite, a host's own); on a
 * store without meta every function here answers PATRON_E_UNSUPPORTED.
 * The key layout (all under "review/", values are lines of text):
 *   review/case/<id, 20 digits>  one case: "key\tvalue" lines (see review.c)
 *   review/member/<customer id, 20 digits>  the ids of the not_duplicate and
 *                                household cases the customer is in, one
 *                                per line (what match and dedupe consult)
 *   review/journal/<journal id, 20 digits>  the case a queue merge closed
 *   review/dirty/<customer id, 20 digits>  customers saved or deleted since
 *                                the last scan (the save path marks them once
 *                                the first scan has run)
 *   review/next                  the last case id given
 *   review/scanned               "1" once a full scan has run
 * Bytes read back are checked; a case that does not parse is reported as
 * "corrupt case N" (PATRON_E_STORE) and never half-read.
 *
 * What a decision does:
 *  - not_duplicate and household: the pairs among the case's members are
 *    never proposed again — not by patron_db_match(), patron_db_dedupe(),
 *    activation (interactive or automatic) or a scan — until one of the
 *    members changes in a field the matcher compares.  The case keeps a
 *    fingerprint of each member's matched fields; when one differs, the
 *    pairs are proposed again, and the next scan reopens the case with the
 *    change shown (patron_case_change()).
 *  - deferred: left alone by scans until decided; still proposed by match.
 *  - merged: only through patron_db_review_merge(), which applies the merge
 *    plan and closes the case in one transaction; patron_db_undo() of that
 *    merge reopens the case.
 */
#ifndef PATRON_REVIEW_H
#define PATRON_REVIEW_H

#include "patron.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The state of a case (append-only). */
typedef enum patron_case_state {
    PATRON_CASE_OPEN = 0,          /**< waiting for a person */
    PATRON_CASE_MERGED = 1,        /**< merged through the queue (patron_case_journal()) */
    PATRON_CASE_NOT_DUPLICATE = 2, /**< different customers: never proposed again */
    PATRON_CASE_HOUSEHOLD = 3,     /**< different people of one household: never proposed again */
    PATRON_CASE_DEFERRED = 4       /**< put aside; scans leave it alone */
} patron_case_state;

/** "open", "merged", "not_duplicate", "household", "deferred"; NULL for an
 *  unknown value.  Static string. */
PATRON_API const char *patron_case_state_name(patron_case_state state);

/** The state for a token of patron_case_state_name() (also "distinct" for
 *  not_duplicate).  PATRON_E_INVALID for any other string. */
PATRON_API patron_status patron_case_state_from_name(patron_case_state *out, const char *name);

/** One case, as read (a snapshot). */
typedef struct patron_case patron_case;
/** Cases, as read (a snapshot). */
typedef struct patron_cases patron_cases;

/** The case's id (> 0, never reused). */
PATRON_API int64_t patron_case_id(const patron_case *c);
/** Its state. */
PATRON_API patron_case_state patron_case_state_of(const patron_case *c);
/** The matcher's verdict on the case: its best pair's (MERGE or REVIEW). */
PATRON_API patron_decision patron_case_verdict(const patron_case *c);
/** The best pair's score (match weight in bits, as patron_matches_get()). */
PATRON_API double patron_case_score(const patron_case *c);
/** When the case was opened and when it last changed, seconds since 1970. */
PATRON_API int64_t patron_case_created_at(const patron_case *c);
PATRON_API int64_t patron_case_updated_at(const patron_case *c);

/** Number of customers in the case (2 or more). */
PATRON_API size_t patron_case_member_count(const patron_case *c);
/** Customer `i` of the case (ascending ids).  PATRON_E_RANGE if out of range. */
PATRON_API patron_status patron_case_member(const patron_case *c, int64_t *id_out, size_t i);

/** Number of pairs of the case (the REVIEW and MERGE pairs that tie it
 *  together), best first. */
PATRON_API size_t patron_case_pair_count(const patron_case *c);
/** Pair `i` (id_a < id_b); out-pointers may be NULL.  PATRON_E_RANGE if out
 *  of range. */
PATRON_API patron_status patron_case_pair(const patron_case *c, int64_t *id_a_out, int64_t *id_b_out,
                                          double *score_out, patron_decision *decision_out, size_t i);
/** How many fields the explanation of pair `i` has (0 if out of range). */
PATRON_API size_t patron_case_field_count(const patron_case *c, size_t i);
/**
 * Field `k` of pair `i`'s explanation, as the scan saw it (the snapshot):
 * as patron_matches_explain() — the field's name, both normalised values
 * ("" missing), the level and the weight.  Strings owned by the case;
 * out-pointers may be NULL.  PATRON_E_RANGE if i or k is out of range.
 */
PATRON_API patron_status patron_case_explain(const patron_case *c, const char **field_out,
                                             const char **value_a_out, const char **value_b_out,
                                             const char **level_out, double *weight_out, size_t i, size_t k);
/** The reason of the verdict in one line ("email exact +7.9, last_name
 *  exact +4.1, street different -3.0; rule other_names").  Owned by the case. */
PATRON_API const char *patron_case_reason(const patron_case *c);

/** Who decided (as given to the decision), or NULL.  For a reopened case:
 *  who made the decision that was reopened.  Owned by the case. */
PATRON_API const char *patron_case_decided_by(const patron_case *c);
/** When it was decided, seconds since 1970; 0 if never. */
PATRON_API int64_t patron_case_decided_at(const patron_case *c);
/** The note given with the decision, or NULL.  Owned by the case. */
PATRON_API const char *patron_case_note(const patron_case *c);
/** The journal id of the merge that closed the case (PATRON_CASE_MERGED),
 *  else 0. */
PATRON_API int64_t patron_case_journal(const patron_case *c);
/** Why a decided case was reopened — which member changed in which matched
 *  fields, with the value before and now ("customer #12: email
 *  a@x.de -> b@y.de, address"; or "merge 7 undone") — or NULL for
 *  a case never reopened.  Owned by the case. */
PATRON_API const char *patron_case_change(const patron_case *c);

/** The case as a JSON object {"id", "state", "verdict", "score",
 *  "created_at", "updated_at", "members", "pairs": [{"a", "b", "score",
 *  "decision", "fields": [{"field","a","b","level","weight"}]}], "reason",
 *  "decided_by", "decided_at", "note", "journal", "change"}.  Free with
 *  patron_free(). */
PATRON_API patron_status patron_case_to_json(const patron_case *c, char **out, unsigned flags);
/** Free a case read by patron_db_review_get().  NULL is ignored. */
PATRON_API void patron_case_free(patron_case *c);

/** Which cases patron_db_review_list() returns: PATRON_REVIEW_STATE(s) of
 *  each state wanted, ORed; PATRON_REVIEW_ALL for every case. */
#define PATRON_REVIEW_STATE(state) (1u << (unsigned)(state))
#define PATRON_REVIEW_ALL 0x1Fu

/**
 * Read the cases in the given states (PATRON_REVIEW_STATE(PATRON_CASE_OPEN)
 * for the queue), best first: by score, highest first, then by id.
 * @param[out] out  free with patron_cases_free().
 * @return PATRON_E_INVALID for `states` 0; PATRON_E_UNSUPPORTED (no meta);
 *         PATRON_E_STORE (also for a corrupt case).
 */
PATRON_API patron_status patron_db_review_list(patron_db *db, patron_cases **out, unsigned states);
/** Number of cases in the list. */
PATRON_API size_t patron_cases_count(const patron_cases *l);
/** Case `i`, or NULL if out of range.  Owned by the list. */
PATRON_API const patron_case *patron_cases_at(const patron_cases *l, size_t i);
/** The list as a JSON array of cases (as patron_case_to_json()).  Free with
 *  patron_free(). */
PATRON_API patron_status patron_cases_to_json(const patron_cases *l, char **out, unsigned flags);
/** Free a list.  NULL is ignored. */
PATRON_API void patron_cases_free(patron_cases *l);

/**
 * Read one case.
 * @param[out] out  free with patron_case_free().
 * @return PATRON_E_NOT_FOUND; PATRON_E_UNSUPPORTED; PATRON_E_STORE.
 */
PATRON_API patron_status patron_db_review_get(patron_db *db, patron_case **out, int64_t case_id);

/**
 * The cases in `states` (as patron_db_review_list(); 0: the open ones) as
 * one self-contained HTML page, the one `patron review --html` writes:
 * a card per case, best first, with its customers side by side, differing
 * values highlighted, the matcher's weight per field, verdict, reason, and
 * the `patron` command-line tool's commands that decide the case (shown as
 * text; a host with its own buttons can ignore them); a filter by verdict
 * and a search box.  Style and script are inline and the page carries a
 * Content-Security-Policy that allows nothing else (no fetches, works from
 * file://); every value from the store is HTML-escaped.
 * @param[out] out  NUL-terminated UTF-8; free with patron_free().  NULL on
 *                  failure.
 * @return PATRON_E_NOMEM; PATRON_E_NOT_FOUND (a member of a case is gone);
 *         as patron_db_review_list() otherwise.
 */
PATRON_API patron_status patron_db_review_html(patron_db *db, char **out, unsigned states);

/** Flags of patron_review_scan_options. */
enum {
    /** Look at every customer, not only those saved since the last scan
     *  (the first scan on a store is always full). */
    PATRON_REVIEW_SCAN_FULL = 1u << 0
};

/** Options of patron_db_review_scan(). */
typedef struct patron_review_scan_options {
    unsigned version; /**< PATRON_REVIEW_SCAN_OPTIONS_VERSION */
    unsigned flags;   /**< PATRON_REVIEW_SCAN_* */
} patron_review_scan_options;

#define PATRON_REVIEW_SCAN_OPTIONS_VERSION 1
#define PATRON_REVIEW_SCAN_OPTIONS_INIT { PATRON_REVIEW_SCAN_OPTIONS_VERSION, 0u }

/** What a scan did.  `version` set by the caller. */
typedef struct patron_review_scan_stats {
    unsigned version;  /**< PATRON_REVIEW_SCAN_STATS_VERSION */
    int full;          /**< 1: every customer was looked at; 0: only those saved since the last scan */
    size_t customers;  /**< customers matched */
    size_t pairs;      /**< REVIEW and MERGE pairs found among them (decided ones left out) */
    size_t opened;     /**< new open cases */
    size_t refreshed;  /**< open cases whose members, pairs or scores changed */
    size_t reopened;   /**< decided cases reopened because a member changed in a matched field */
    size_t closed;     /**< open cases removed: their pairs no longer match */
    size_t open;       /**< open cases after the scan */
} patron_review_scan_stats;

#define PATRON_REVIEW_SCAN_STATS_VERSION 1
#define PATRON_REVIEW_SCAN_STATS_INIT { PATRON_REVIEW_SCAN_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Update the queue from the matcher, in one transaction: the customers
 * saved since the last scan (or all: PATRON_REVIEW_SCAN_FULL, and the first
 * scan) are matched against the store (as patron_db_match(), merged
 * customers left out); their REVIEW and MERGE pairs, with the pairs of the
 * open cases they are in, form clusters.  A new cluster becomes an open
 * case; an open case whose members or pairs changed is refreshed (it keeps
 * its id; open cases joined by a new pair become one); an open case whose
 * pairs no longer match is removed; a decided case is left alone — unless
 * a member changed in a matched field since the decision, which reopens it
 * (patron_case_change() says what changed).  An incremental scan reads only
 * the changed customers and their candidates.  A scan is full, whatever the
 * flags say, the first time on a store and when the matcher changed since
 * the last full scan: other settings or model (patron_db_match_config_set(),
 * patron_db_estimate(), ...) or another library version.
 * @param[out] stats_out  may be NULL; else its version set by the caller
 *                        (PATRON_REVIEW_SCAN_STATS_INIT).
 * @param opts  NULL: PATRON_REVIEW_SCAN_OPTIONS_INIT.
 * @return PATRON_E_ABI for an unknown struct version; PATRON_E_UNSUPPORTED
 *         (no meta); PATRON_E_STORE.  On failure nothing changed.
 */
PATRON_API patron_status patron_db_review_scan(patron_db *db, patron_review_scan_stats *stats_out,
                                               const patron_review_scan_options *opts);

/**
 * Decide a case, in one transaction: PATRON_CASE_NOT_DUPLICATE,
 * PATRON_CASE_HOUSEHOLD or PATRON_CASE_DEFERRED, or PATRON_CASE_OPEN to
 * take a decision back.  `who` (required, e.g. the merchant's user name)
 * and `note` (may be NULL) are copied; both are one line of up to 200
 * bytes of UTF-8.  The fingerprints of the members' matched fields are
 * taken now (see the top of this header).
 * @return PATRON_E_NOT_FOUND (no such case); PATRON_E_INVALID
 *         (PATRON_CASE_MERGED — use patron_db_review_merge() —, an unknown
 *         state, no `who`, a bad note); PATRON_E_STATE (the case is merged);
 *         PATRON_E_UNSUPPORTED; PATRON_E_STORE.
 */
PATRON_API patron_status patron_db_review_decide(patron_db *db, int64_t case_id, patron_case_state state,
                                                 const char *who, const char *note);

/**
 * A merge plan for the case's members: the survivor is the member with a
 * customer number created first (the smallest id among the active ones,
 * else the smallest id), the others are the duplicates.  Edit it as any
 * plan and give it to patron_db_review_merge().
 * @param[out] out  free with patron_merge_plan_free().
 * @return PATRON_E_NOT_FOUND (no such case, or a member is gone);
 *         PATRON_E_STATE (the case is merged, or a member is merged away);
 *         as patron_merge_plan_new() otherwise.
 */
PATRON_API patron_status patron_db_review_plan(patron_db *db, patron_merge_plan **out, int64_t case_id,
                                               patron_merge_policy policy);

/**
 * Merge a case, in one transaction: apply `plan` (as patron_db_merge();
 * NULL: the plan of patron_db_review_plan() with PATRON_MERGE_SURVIVOR) and
 * mark the case merged, by `who`, with the merge's journal id.  The plan's
 * records must be members of the case, tied by at least one of its pairs;
 * members the plan leaves out leave the case with their pairs (a cluster
 * of one person and somebody else: merge the person's records, and the
 * next scan proposes the rest beside the survivor).  patron_db_undo() of
 * the merge reopens the case.
 * @param[out] journal_id_out  may be NULL; the merge's journal id.
 * @return PATRON_E_NOT_FOUND; PATRON_E_INVALID (no `who`, a record of the
 *         plan not in the case, or no pair of the case between the plan's
 *         records); PATRON_E_STATE (the case is
 *         merged already; as patron_db_merge()); PATRON_E_CONFLICT;
 *         PATRON_E_UNSUPPORTED; PATRON_E_STORE.  On failure nothing changed.
 */
PATRON_API patron_status patron_db_review_merge(patron_db *db, int64_t *journal_id_out, int64_t case_id,
                                                patron_merge_plan *plan, const char *who);

#ifdef __cplusplus
}
#endif
#endif /* PATRON_REVIEW_H */
