/* patron — internal declarations shared by the core's files.  Not installed.
 * SPDX-License-Identifier: MIT
 *
 * The core in layers; a file calls only into its own layer's lower files
 * and the layers below (tests/abi/check_cycles.py checks there is no cycle):
 *   utilities   alloc.c strbuf.c utf8.c util.c status.c (util.h), match/
 *   record      fields.c customer.c validate.c pack.c json.c matchform.c
 *   store glue  store.c — the only file that calls patron_store_ops
 *   saving      save.c (load, keys, uniqueness, numbers, the one save path),
 *               groupmeta.c (groups as the save path checks them)
 *   features    db.c (CRUD), matchglue.c (match), merge.c, lifecycle.c,
 *               groups.c, dedupe.c
 *   stores      stores/memory (built in), stores/sqlite (own library) */
#ifndef PATRON_INTERNAL_H
#define PATRON_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patron/patron.h"
#include "patron/store.h"
#include "util.h"
#include "match/match.h"

/* ---- fields.c: metadata -------------------------------------------- */
enum patron__kind {
    PK_TEXT,      /* one line of text */
    PK_MULTILINE, /* text with line breaks */
    PK_EMAIL,
    PK_DATE,
    PK_BOOL,
    PK_LANG,
    PK_NUMBER,    /* customer number */
    PK_VATID,
    PK_COUNTRY,
    PK_BILLING,
    PK_OPAQUE,    /* password hash: any printable, never echoed */
    PK_SOURCE,    /* where a consent came from: "shop", "import", "admin" */
    PK_SYSTEM     /* maintained by the library */
};

typedef struct patron__field_info {
    const char *name;
    enum patron__kind kind;
    size_t max_len; /* bytes */
} patron__field_info;

const patron__field_info *patron__field(int field);
const patron__field_info *patron__address_field(int field);
/* The tables behind them, for a caller that has checked the id's range
 * (the batch's rows: a call per value was a tenth of reading them). */
extern const patron__field_info patron__fields[PATRON_F__END];
extern const patron__field_info patron__address_fields[PATRON_A__END];
bool patron__country_known(const char *code2);

/* ---- customer.c ------------------------------------------------------ */
typedef struct patron__address {
    char *f[PATRON_A__END];
    uint32_t ok; /* bit f: f[f] passed its check and is canonical (see patron_customer.ok) */
} patron__address;

struct patron_customer {
    char *f[PATRON_F__END];
    patron__address *addr;
    size_t n_addr, cap_addr;
    char **tags;
    size_t n_tags, cap_tags;
    char **prop_k, **prop_v;
    size_t n_props, cap_props;
    /* patron__cust_validate passed with every value (fields, addresses) in
     * its canonical form, and none has changed since: every write of a
     * field or an address (patron__cust_put, patron__cust_put_addr, the
     * address calls, patron__cust_clear) clears it; a struct copy or
     * patron__cust_move carries it with the values it is about */
    bool checked;
    /* bit f: f[f] passed patron__check_value and is in its canonical form
     * (set by patron_customer_set, which checked it; patron__cust_validate
     * checks the others).  Every write of a value that was not checked
     * clears its bit (patron__cust_put, patron__cust_put_addr, pack.c's
     * unpacking); a copy starts with none set. */
    uint64_t ok;
    /* the newsletter consent's proof (newsletter_at, its source) came with
     * the consent from another record (a merge taking a duplicate's
     * consent): the save keeps it, also where its time is the one it
     * replaces (both stamped in one second), which told it apart before.
     * A copy starts without it. */
    bool consent_carried;
    char errmsg[256];
};

_Static_assert(PATRON_F__END <= 64 && PATRON_A__END <= 32, "the ok bits of a customer and an address");

patron_status patron__cust_error(patron_customer *c, patron_status st, const char *fmt, ...)
    PATRON_PRINTF(3, 4);
/* Set a field without checks (value copied; NULL clears). */
patron_status patron__cust_put(patron_customer *c, int field, const char *value);
/* Check the whole record; optionally store canonical forms. */
patron_status patron__cust_validate(patron_customer *c, bool canonicalize);
/* Whether patron__cust_validate(c, true) would pass and change nothing
 * (every value checked and in its canonical form); reads c only. */
bool patron__cust_valid_canonical(const patron_customer *c);
/* Set an address field without checks. */
patron_status patron__cust_put_addr(patron_customer *c, size_t index, int field, const char *value);
/* Set a field to a decimal number. */
patron_status patron__cust_put_i64(patron_customer *c, int field, int64_t v);
/* Release everything a record holds and leave it empty. */
void patron__cust_clear(patron_customer *c);
/* Move the contents of `src` into `dst` (whose old contents are freed);
 * `src` is left empty. */
void patron__cust_move(patron_customer *dst, patron_customer *src);
/* Deep-copy `src` into the empty record `dst`. */
patron_status patron__cust_copy(patron_customer *dst, const patron_customer *src);
/* Equal in every field and list (used by tests and the memory store). */
bool patron__cust_equal(const patron_customer *a, const patron_customer *b);
const char *patron__state_name(int state);
/* ids, revision, timestamps: decimal digits only */
bool patron__is_numeric_field(int f);
/* A consent time carried in (patron_customer_set_consent_time): decimal
 * seconds, PATRON_CONSENT_TIME_MIN .. now + PATRON_CONSENT_TIME_SKEW;
 * PATRON_E_INVALID with a message in msg otherwise. */
patron_status patron__consent_time_parse(const char *value, int64_t now, char *msg, size_t cap, int64_t *out);
int patron__state_from_name(const char *s);

/* ---- validate.c ----------------------------------------------------- */
/* Check a value for a field of the given kind.  Writes a message (naming
 * the field, never echoing an opaque value) into msg on failure.  For
 * booleans, countries and languages the canonical form goes to *canon
 * (a static string or NULL: keep the value as given). */
patron_status patron__check_value(const char *name, const patron__field_info *fi, const char *v,
                                  char *msg, size_t msgsz, const char **canon, char *canon_buf,
                                  size_t canon_bufsz);

/* ... of a value that must be `len` bytes long (a NUL inside, or none
 * at v[len]: PATRON_E_RANGE, before every other check, no message). */
patron_status patron__check_value_len(const char *name, const patron__field_info *fi, const char *v, size_t len,
                                      char *msg, size_t msgsz, const char **canon, char *canon_buf,
                                      size_t canon_bufsz);

/* The high bit of each byte of w that is a control character (below
 * 0x20, or 0x7F), and maybe of bytes above such a byte (a borrow; never
 * of a byte when no byte below it is one). */
static inline uint64_t patron__ctrl_bytes(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    uint64_t x = w ^ (ones * 0x7F);
    return (((w - ones * 0x20) & ~w) | ((x - ones) & ~x)) & (ones * 0x80);
}

/* Whether the n bytes at v hold no control character (below 0x20, or
 * 0x7F; a NUL too) and v[n] is a NUL (v[n] is read): the common value,
 * tested a word at a time.  *high gets 0x80 when one of the bytes is
 * >= 0x80 (its UTF-8 is to be checked), else 0.  A word holding such a
 * byte is flagged exactly (a borrow only flags bytes above a true hit);
 * the bytes of a short value are taken in overlapping loads (a byte
 * tested twice changes nothing), so that no word holds a byte that is
 * not the value's.  False at the first word with such a byte (*high is
 * then not set). */
static inline bool patron__value_plain(const char *v, size_t n, unsigned *high)
{
    const unsigned char *p = (const unsigned char *)v;
    const uint64_t highs = UINT64_C(0x8080808080808080);
    uint64_t acc = 0, bad = 0, w;
    size_t i = 0;
    if (n >= 8) {
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, p + i, 8);
            acc |= w;
            if (patron__ctrl_bytes(w))
                return false; /* (not read on: a NUL may end the memory) */
        }
        if (i < n) {
            memcpy(&w, p + n - 8, 8);
            acc |= w;
            bad = patron__ctrl_bytes(w);
        }
    } else if (n) {
        if (n >= 4) {
            uint32_t a, b;
            memcpy(&a, p, 4);
            memcpy(&b, p + n - 4, 4);
            w = a | (uint64_t)b << 32;
        } else {
            uint32_t a = (uint32_t)p[0] | (uint32_t)p[n >> 1] << 8 | (uint32_t)p[n - 1] << 16 | (uint32_t)p[0] << 24;
            w = a | (uint64_t)a << 32;
        }
        acc = w;
        bad = patron__ctrl_bytes(w);
    }
    *high = (acc & highs) ? 0x80 : 0;
    return !bad && p[n] == '\0';
}

/* True when patron__check_value_len(.., fi, v, len, ..) would pass the
 * value as it is (PATRON_OK, no canonical form): a value of a kind
 * without a form of its own (text, multi-line, opaque) that is no longer
 * than allowed and plain (patron__value_plain) and, with a byte >= 0x80,
 * valid UTF-8.  False: the call tells (a refusal, its message).  For the
 * callers that check many values (the batch's rows): most of them pass
 * here without the call. */
static inline bool patron__check_value_quick(const patron__field_info *fi, const char *v, size_t len)
{
    unsigned high;
    return (fi->kind == PK_TEXT || fi->kind == PK_MULTILINE || fi->kind == PK_OPAQUE) && len <= fi->max_len &&
           patron__value_plain(v, len, &high) && (!high || !patron__utf8_check(v, len));
}

/* The canonical form patron__check_value_len(.., fi, v, len, ..) gives a
 * common value of a kind that has one, without the call: "0" or "1" of a
 * boolean given as that digit; with cbuf (room for 3 bytes), a known
 * country code of two ASCII letters, upper-cased into cbuf.  NULL: the
 * call tells (every other value and kind).  For the batch's rows (a
 * country and an address's default flag in every row). */
static inline const char *patron__check_value_quick_form(const patron__field_info *fi, const char *v, size_t len,
                                                         char *cbuf)
{
    if (fi->kind == PK_BOOL)
        return len == 1 && (v[0] == '0' || v[0] == '1') && v[1] == '\0' ? (v[0] == '1' ? "1" : "0") : NULL;
    if (fi->kind == PK_COUNTRY && cbuf && len == 2 && v[2] == '\0' &&
        (unsigned)((v[0] | 0x20) - 'a') < 26u && (unsigned)((v[1] | 0x20) - 'a') < 26u) {
        cbuf[0] = (char)(v[0] & ~0x20); /* (a letter: its upper case) */
        cbuf[1] = (char)(v[1] & ~0x20);
        cbuf[2] = '\0';
        return patron__country_known(cbuf) ? cbuf : NULL;
    }
    return NULL;
}

/* ---- json.c --------------------------------------------------------- */
void patron__json_str(patron_strbuf *sb, const char *s);
void patron__json_customer(patron_strbuf *sb, const patron_customer *c, unsigned flags, int indent);

/* ---- matchform.c: a record for the matcher and the store's index --------- */

/* Normalise a customer for matching.  0 on success, else out of memory. */
int patron__cust_match_rec(patron__match_rec *out, const patron_customer *c, const char *default_country);
/* ... with the identifiers `cfg` declares (custom properties), after the VAT
 * ID of a company customer (slot 0, which the plain form has too). */
int patron__cust_match_rec_cfg(patron__match_rec *out, const patron_customer *c,
                               const struct patron__match_config *cfg);

/* ... of a customer given as values (f: PATRON_F__END of them, a: the
 * PATRON_A__END of its one address or NULL; NULL: unset), as
 * patron__cust_match_rec_cfg() of a customer holding them; its bytes from
 * pool (NULL: a block of its own; see patron__match_normalize_pool). */
int patron__values_match_rec(patron__match_rec *out, const char *const *f, const char *const *a,
                             const char *const *prop_k, const char *const *prop_v, size_t n_props,
                             const struct patron__match_config *cfg, struct patron__match_pool *pool);

#define PATRON__MAX_KEYS (8 + PATRON__MATCH_KEYS_MAX + PATRON__MATCH_TF_KEYS_MAX + PATRON__MATCH_RARE_STREETS)

/* A record's index keys (and, when wanted, its match form): computed once
 * per save. */
typedef struct patron__keyset {
    patron_key k[PATRON__MAX_KEYS];
    char *owned[8];
    size_t n, n_owned;
    patron__match_key mk[PATRON__MATCH_KEYS_MAX + PATRON__MATCH_TF_KEYS_MAX + PATRON__MATCH_RARE_STREETS];
    char *form; /* the match form (NULL: not wanted) */
    size_t form_len;
} patron__keyset;
typedef patron__keyset keyset;
#define PATRON__KEYSET_INIT(ks) ((ks)->n = (ks)->n_owned = 0, (ks)->form = NULL, (ks)->form_len = 0)

/* The index keys of a record.  `alias_only`: just number, external
 * reference and email (for merged records, whose keys only lead to the
 * survivor).  `country`: the default country for normalisation.
 * `want_form`: also pack the match form.  PATRON_E_NOMEM or OK. */
patron_status patron__keys_build(keyset *ks, const patron_customer *c, bool alias_only, const char *country,
                                 bool want_form);
void patron__keys_free(keyset *ks);
/* Set (or put first) the customer-number key of a built keyset, as
 * patron__keys_build would have made it with that number: nothing else
 * of the keys depends on it.  `number` must live as long as ks.  False
 * when the keyset is full. */
bool patron__keys_set_number(keyset *ks, const char *number);

/* The match form: a normalised record and its state as bytes (see
 * store.h, match_form_put).  Pack: NULL when out of memory. */
char *patron__form_pack(const patron__match_rec *r, int state, const char *country, size_t *len_out);
/* Read a form without copying: `out` gets strings that point into `form`,
 * its addresses go to `addr` (room for `cap`).  Returns -1 if the bytes are
 * not a form of this library normalised with `country` (garbage from a
 * store: use the record instead), else the number of addresses the form
 * holds — when that is more than `cap`, nothing is filled: call again with
 * room.  *state gets the record's state. */
long patron__form_view(patron__match_rec *out, patron__match_addr *addr, size_t cap, int *state,
                       const void *form, size_t len, const char *country);

/* ---- store.c: the store glue; the handle --------------------------------- */
struct patron_db {
    patron_store_ops ops; /* only store.c touches these */
    void *ctx;
    char prefix[17];
    unsigned width;
    struct patron__match_config *match_cfg; /* computed once: weights are logs */
    uint64_t match_meta_seen; /* hash of the config and model text last loaded from meta (0: none) */
    char *match_estimate;     /* a store without meta: what patron_db_estimate() estimated, or NULL */
    bool review_scanned;      /* the store's review queue had its first scan (seen once, true for ever) */
    bool index_noted;         /* the store records an index generation, or holds customers without one */
    unsigned tx_serial;       /* counts the transactions begun on this handle */
    unsigned cfg_tx;          /* tx_serial of the last one the configuration was read in for keys */
    uint64_t dedupe_scored;   /* pairs scored by the last patron_db_dedupe (tests) */
    char errmsg[512];
};

/* ---- the index generation (save.c records it, reindex.c rebuilds) -------- */
/* The generation of the index keys and match forms this library builds.
 * Bump it whenever the keys of a record change: a normalisation that gives
 * a value another form, a key kind added, dropped or computed otherwise,
 * the match form's layout (a change of FORM_VERSION in matchform.c implies
 * a bump).  Stores record the generation they were built with under
 * PATRON__INDEX_META_KEY; patron_db_index_state() compares, and
 * patron_db_reindex() rebuilds.  1: the keys and forms (FORM_VERSION 4) of
 * release 0.1. */
#define PATRON__INDEX_VERSION 1
#define PATRON__INDEX_META_KEY "patron.index.version"
/* The default country the stored keys and forms were built under (it
 * decides the dialling plan of a customer's phone when the customer has no
 * address): two capital letters, or "-" when records were saved under
 * different ones (a change of the country with customers in the store).
 * None recorded (a store written before it was): "DE", the built-in
 * default.  patron_db_index_state() calls the index stale when it is not
 * the configuration's country. */
#define PATRON__INDEX_COUNTRY_META_KEY "patron.index.country"
/* The save path, inside the transaction of a create, before the insert:
 * record the current generation when the store has no record of one and
 * holds no customer yet (a new store).  Reads once per handle as a rule. */
patron_status patron__index_note_create(patron_db *db);
/* The generation the store records (inside a transaction): *gen 0 when none
 * is recorded or the text is no generation; *any: whether the store holds
 * a customer (asked only when none is recorded, else false). */
patron_status patron__index_read(patron_db *db, unsigned *gen, bool *any);
/* The country the index was built under (inside a transaction):
 * PATRON__INDEX_COUNTRY_META_KEY's two letters, "DE" when none is recorded,
 * "" when the record is no country (mixed, or bytes not ours). */
patron_status patron__index_country(patron_db *db, char out[3]);

/* ---- matchconfig.c: the matcher's configuration in the store's meta ---- */
/* Bring db->match_cfg up to what the store's meta holds (inside a
 * transaction; a store without meta keeps the handle's own). */
patron_status patron__match_config_load(patron_db *db);
/* Store cfg (one transaction) and make it the handle's; `estimate` non-NULL:
 * also the estimation record under PATRON__ESTIMATE_META_KEY ("" clears). */
#define PATRON__ESTIMATE_META_KEY "patron.match.estimate"
patron_status patron__match_config_save(patron_db *db, const struct patron__match_config *cfg,
                                        const char *estimate);
/* A fingerprint of everything that decides a verdict: the handle's current
 * configuration and model (after patron__match_config_load), including the
 * built-in defaults, and the library's version.  Written as 16 hex digits
 * and a NUL into out (17 bytes).  PATRON_E_NOMEM. */
patron_status patron__match_config_fingerprint(patron_db *db, char out[17]);

/* Which callback results pass through patron__store_rc unchanged. */
#define PASS_NOT_FOUND 1u
#define PASS_EXISTS 2u

patron_status patron__db_error(patron_db *db, patron_status st, const char *fmt, ...) PATRON_PRINTF(3, 4);
patron_status patron__db_ok(patron_db *db);
/* Map a callback's return code (see store.c). */
patron_status patron__store_rc(patron_db *db, int rc, const char *cb, unsigned pass);
patron_status patron__tx_begin(patron_db *db);
/* A transaction in which the caller only reads: the store's begin_read()
 * (version 3), else begin().  Ended by patron__tx_end() like the other. */
patron_status patron__tx_begin_read(patron_db *db);
/* Commit on success, roll back otherwise; a failed commit is reported. */
patron_status patron__tx_end(patron_db *db, patron_status st);

/* Optional callbacks the store offers. */
enum patron__cap {
    PATRON__CAP_RELINK,
    PATRON__CAP_MOVE_REF,
    PATRON__CAP_CHECK_REFS,
    PATRON__CAP_JOURNAL,      /* journal_append */
    PATRON__CAP_JOURNAL_UNDO, /* journal_get, journal_append and journal_set_undone */
    PATRON__CAP_JOURNAL_SCAN,
    PATRON__CAP_META,         /* meta_get, meta_put and meta_scan */
    PATRON__CAP_MATCH_FORM,   /* match_form_put and match_form_get */
    PATRON__CAP_JOURNAL_REWRITE /* journal_rewrite (version 5) */
};
bool patron__st_has(const patron_db *db, enum patron__cap cap);
patron_status patron__st_prefetch(patron_db *db, const patron_key *keys, size_t n_keys,
                                  const char *const *numbers, size_t n_numbers, size_t n_inserts);
bool patron__st_can_prefetch(const patron_db *db);

/* One function per callback: the store's code mapped by patron__store_rc
 * (`pass` as there).  An optional callback the store lacks gives
 * PATRON_E_UNSUPPORTED. */
patron_status patron__st_load(patron_db *db, int64_t id, patron_customer *out, unsigned pass);
/* insert / update, then the match form of ks (if any) */
patron_status patron__st_insert(patron_db *db, const patron_customer *c, const keyset *ks, int64_t *id_out);
patron_status patron__st_update(patron_db *db, const patron_customer *c, const keyset *ks, unsigned pass);
patron_status patron__st_remove(patron_db *db, int64_t id);
patron_status patron__st_lookup(patron_db *db, int kind, const char *value, patron_emit_id_fn emit,
                                void *emit_ctx);
patron_status patron__st_scan(patron_db *db, const patron_store_filter *filter, int64_t after_id, size_t limit,
                              patron_emit_id_fn emit, void *emit_ctx);
/* Does the store hold any customer at all (one row scanned)? */
patron_status patron__st_any(patron_db *db, bool *any);
patron_status patron__st_next_number(patron_db *db, uint64_t *out);
patron_status patron__st_claim_number(patron_db *db, const char *number, unsigned pass);
patron_status patron__st_relink(patron_db *db, int64_t from_id, int64_t to_id, patron_emit_ref_fn emit,
                                void *emit_ctx);
patron_status patron__st_move_ref(patron_db *db, const char *kind, const char *ref_id, int64_t to_id);
patron_status patron__st_check_refs(patron_db *db, int64_t id, patron_emit_reason_fn emit, void *emit_ctx);
patron_status patron__st_journal_append(patron_db *db, const patron_journal_entry *e, int64_t *id_out);
patron_status patron__st_journal_get(patron_db *db, int64_t id, patron_emit_journal_fn emit, void *emit_ctx,
                                     unsigned pass);
patron_status patron__st_journal_scan(patron_db *db, int64_t after_id, size_t limit,
                                      patron_emit_journal_fn emit, void *emit_ctx);
patron_status patron__st_journal_set_undone(patron_db *db, int64_t id, int64_t undone_by);
/* Version 5: replace a journal entry's payload (PATRON_E_UNSUPPORTED
 * without the callback); purge after an erasure's commit (OK without). */
patron_status patron__st_journal_rewrite(patron_db *db, int64_t id, const char *payload);
patron_status patron__st_purge(patron_db *db);
patron_status patron__st_meta_get(patron_db *db, const char *key, patron_emit_meta_fn emit, void *emit_ctx,
                                  unsigned pass);
patron_status patron__st_meta_put(patron_db *db, const char *key, const char *value);
/* How many records hold (kind, value): the store's count() (version 3),
 * else its lookup() counted up to `cap`. */
patron_status patron__st_count(patron_db *db, int kind, const char *value, uint64_t cap, uint64_t *out);
patron_status patron__st_meta_scan(patron_db *db, const char *prefix, patron_emit_meta_fn emit,
                                   void *emit_ctx);
/* The match form of `id`, borrowed until the transaction ends.
 * PATRON_E_NOT_FOUND: no form (or no record); the caller loads instead. */
patron_status patron__st_match_form(patron_db *db, int64_t id, const void **form, size_t *len);

/* ---- reviewmeta.c: duplicate cases in the store's meta (issue 12) ------- */
#define PATRON__REVIEW_CASE "review/case/"
#define PATRON__REVIEW_MEMBER "review/member/"
#define PATRON__REVIEW_JOURNAL "review/journal/"
#define PATRON__REVIEW_DIRTY "review/dirty/"
#define PATRON__REVIEW_NEXT "review/next"
#define PATRON__REVIEW_SCANNED "review/scanned"
/* Fingerprint of a record's matched fields: 8 hex digits per field. */
#define PATRON__FP_FIELDS 8
#define PATRON__FP_LEN (8 * PATRON__FP_FIELDS)
extern const char *const patron__fp_field[PATRON__FP_FIELDS];

typedef struct patron__case_field {
    char *name, *level, *a, *b;
    double weight;
} patron__case_field;
typedef struct patron__case_pair {
    int64_t a, b; /* a < b */
    double score;
    int decision; /* patron_decision */
    size_t nf;
    patron__case_field *f;
} patron__case_pair;
typedef struct patron__case_member {
    int64_t id;
    char fp[PATRON__FP_LEN + 1]; /* "" when none taken */
} patron__case_member;
struct patron_case {
    int64_t id;
    int state;   /* patron_case_state */
    int verdict; /* patron_decision */
    double score;
    int64_t created, updated, decided_at, journal;
    char *by, *note, *change, *reason; /* NULL: none */
    size_t nm;
    patron__case_member *m; /* ascending ids */
    size_t np;
    patron__case_pair *p; /* best first */
};

/* "<prefix><id as 20 digits>" */
void patron__review_key(char *buf, size_t size, const char *prefix, int64_t id);
void patron__case_clear(patron_case *c);
bool patron__case_has(const patron_case *c, int64_t id);
char *patron__case_encode(const patron_case *c);
patron_status patron__case_decode(patron_case *c, int64_t id, const char *text);
/* The text under a meta key (PATRON_E_NOT_FOUND without a message). */
patron_status patron__meta_text(patron_db *db, char **out, const char *key);
/* Read / write case `id` (PATRON_E_NOT_FOUND, "corrupt case N"). */
patron_status patron__case_read(patron_db *db, patron_case *c, int64_t id);
patron_status patron__case_write(patron_db *db, const patron_case *c);
/* not_duplicate and household keep their pairs out of every proposal. */
bool patron__case_suppresses(int state);
/* Add (or remove) the case in its members' entries of the member index. */
patron_status patron__case_index(patron_db *db, const patron_case *c, bool add);
void patron__fingerprint(char out[PATRON__FP_LEN + 1], const patron__match_rec *r);

/* The decided pairs to keep out of proposals: those of customer `self`, or
 * (self 0) all.  *out NULL when there are none (or the store has no meta). */
typedef struct patron__review_sup patron__review_sup;
patron_status patron__review_sup_load(patron_db *db, patron__review_sup **out, int64_t self);
/* true: a decided case holds a and b, and neither changed in a matched
 * field since the decision (ra, rb: their records as matched now). */
bool patron__review_sup_pair(const patron__review_sup *s, int64_t a, const patron__match_rec *ra, int64_t b,
                             const patron__match_rec *rb);
void patron__review_sup_free(patron__review_sup *s);
/* The save path: customer `id` was saved or removed (for incremental scans). */
patron_status patron__review_touch(patron_db *db, int64_t id);
/* Whether patron__review_touch() writes marks (the queue had its first
 * scan), asked once for many saves. */
patron_status patron__review_marks_on(patron_db *db, bool *on);
/* Undo of merge `journal_id`: reopen the case it closed, if any. */
patron_status patron__review_undone(patron_db *db, int64_t journal_id, int64_t now);

/* ---- reviewlearn.c: the model learns from decided cases ------------------ */
/* Refine `est` (m, and the REVIEW threshold where enough pairs are
 * labelled) with the pairs of decided cases, read in a read transaction of
 * its own; how many labelled duplicate and distinct pairs were used. */
patron_status patron__review_learn(patron_db *db, patron__match_config *est, size_t *matches_out,
                                   size_t *distinct_out);

/* When estimation is not possible: refine the model in force `cfg` with the
 * decided cases and store it (unless dry_run) when there are any; *stored
 * says whether it was. */
patron_status patron__review_learn_in_force(patron_db *db, const patron__match_config *cfg, bool dry_run,
                                            int *stored, size_t *matches_out, size_t *distinct_out);

/* ---- save.c: records in the store ------------------------------------------ */

/* Blocks (records sharing a key) larger than this are left out of matching,
 * in the batch and for one customer alike. */
#define PATRON__BLOCK_MAX 1000
/* The batch pairs a block of more records than this (a wide block) in a
 * sorted neighbourhood (dedupe.c, pair_thread): two of its records that
 * share no other key are scored only when fewer than PATRON__NEAR_WINDOW
 * apart in one of two orders by name and address, or of the same names;
 * so the pairs scored for one common value grow with its records, not
 * with their square.  Blocks up to this size (a rare name's included)
 * are paired in full.  Incremental matching reads whole blocks (up to
 * PATRON__BLOCK_MAX): every pair the batch finds it finds too. */
#define PATRON__BLOCK_WINDOW 6
/* In a wide block, two records that share only its key are scored when
 * fewer than this many places apart in one of its two orders (6 before:
 * at 1 M generated customers 4 scores 17% fewer pairs, loses 2 of 305 k
 * true MERGE pairs and drops 348 false ones; the quality harness's sets
 * are unchanged), and only in a block that both have as their own: each
 * record's smallest wide block (ties by key hash, dedupe.c wide_rank).
 * This is the near budget: a record is paired by order in one wide block,
 * not in each of its common values, so these pairs stay below about
 * 2 x 2 x 3 per record however many of its keys grow wide with the
 * customers (at 1 M generated customers 1.8 wide keys per record, at 2 M
 * 3.2; the pairs by order grew x3.9 from 1 M to 2 M, now x2.1).  Pairs
 * that share two wide blocks are still scored in full, in the first. */
#define PATRON__NEAR_WINDOW 4
/* Tests only: the pairs scored by the last patron_db_dedupe on db, by
 * patron_batch_run of b. */
uint64_t patron__dedupe_scored(const patron_db *db);
struct patron_batch;
uint64_t patron__batch_scored(const struct patron_batch *b);

/* The keys of `c` as this handle's store wants them (match form included
 * when the store keeps forms; alias keys only for merged records), under
 * the configuration the store holds (read once per transaction: another
 * process may have changed the default country).  Inside a transaction;
 * sets the handle's message on failure (PATRON_E_NOMEM, PATRON_E_STORE). */
patron_status patron__keys_for(patron_db *db, keyset *ks, const patron_customer *c);
patron_status patron__lookup_few(patron_db *db, int kind, const char *value, int64_t ids[2], size_t *total);
patron_status patron__check_all_unique(patron_db *db, const keyset *ks, int64_t self);
patron_status patron__load_in_tx(patron_db *db, patron_customer **out, int64_t id);
/* Load `id`, following merged records to their survivor. */
patron_status patron__resolve(patron_db *db, patron_customer **out, int64_t id);
patron_status patron__assign_number(patron_db *db, patron_customer *w);
/* Save a new record in `state` (active: with a number; pending: without),
 * running `check` (may be NULL) first inside the transaction. */
patron_status patron__save_new(patron_db *db, patron_customer *c, int state,
                               patron_status (*check)(patron_db *db, const patron_customer *c, void *arg),
                               void *arg);
/* The one save path for a changed record, inside a transaction: `w` gets
 * revision before+1 and updated_at `now` (0: the current time); its keys,
 * the uniqueness of external reference and login, and (when the group
 * differs from `before`'s) the group are checked; then the store updates
 * it.  `before` is the record as loaded in this transaction, or NULL when
 * `w` is that record changed in place with its group unchanged. */
/* A checked working copy of `c` (validated, canonical forms stored) in the
 * empty `w`; on failure `w` is left empty and the handle's message says why. */
patron_status patron__work_copy(patron_db *db, patron_customer *w, const patron_customer *c);
patron_status patron__save_changed(patron_db *db, patron_customer *w, const patron_customer *before,
                                   int64_t now);
/* Write a record back as given (undo of a merge): keys and store; its
 * revision becomes stored_rev + 1 and its update time `now`. */
patron_status patron__save_restore(patron_db *db, const patron_customer *c, uint64_t stored_rev,
                                   int64_t now);
/* All ids under a key. */
patron_status patron__collect_ids(patron_db *db, int kind, const char *value, patron__idvec *ids);

/* ---- groupmeta.c: groups as the save path needs them ------------------- */
#define PATRON__GROUP_PREFIX "group/"
typedef struct patron__group {
    char name[65];
    char discount[16];
    char price_category[65];
    bool is_default;
} patron__group;
typedef struct patron__glist {
    patron__group *g;
    size_t n, cap;
    bool oom;
} patron__glist;
bool patron__has_groups(const patron_db *db);
patron_status patron__group_get(patron_db *db, patron__group *g, const char *name);
patron_status patron__group_all(patron_db *db, patron__glist *l);
/* A new record without a group joins the default group; a named group must
 * exist (when the store keeps groups). */
patron_status patron__group_for_new(patron_db *db, patron_customer *w);
/* patron__group_for_new against the groups `l` read before (NULL: the
 * store keeps no groups), for many new records at once. */
patron_status patron__group_for_new_in(patron_db *db, patron_customer *w, const patron__glist *l);
/* The record's group must exist (when it has one and the store keeps groups). */
patron_status patron__group_check(patron_db *db, const patron_customer *w);

/* ---- matchglue.c --------------------------------------------------------- */
typedef struct patron__cand {
    int64_t id;
    double score;
    double probability;
    double prior, adjustment; /* score = prior + field weights + adjustment */
    int decision; /* patron_decision */
    int rule;     /* PATRON__MATCH_RULE_*, 0 if none */
} patron__cand;
/* The matcher's decision (patron__match_decision) as a patron_decision. */
int patron__decision_public(int match_decision);
/* Candidates for `c` (DISTINCT left out), best first.  active_only: only
 * active customers; explain: keep the per-field explanation. */
patron_status patron__candidates_in_tx(patron_db *db, patron_matches **out, const patron_customer *c,
                                       int mode, bool active_only, bool explain);
/* The matcher's verdict (a PATRON_DECISION_*) and score on two records, as
 * patron_db_match() would judge them (matchglue.c). */
patron_status patron__pair_verdict_in_tx(patron_db *db, const patron_customer *a, const patron_customer *b,
                                         int *decision, double *score);
size_t patron__matches_n(const patron_matches *m, const patron__cand **cands);

/* ---- merge.c ------------------------------------------------------------ */
patron_status patron__plan_new_in_tx(patron_db *db, patron_merge_plan **out, int64_t survivor_id,
                                     const int64_t *dup_ids, size_t n_dups, int policy);
patron_status patron__merge_in_tx(patron_db *db, patron_merge_plan *p, int64_t *journal_id);
/* The one-line summary of a journal payload, from its "summary" line; never
 * anything else of it (it holds before-images).  "" if none; NULL: no memory. */
char *patron__journal_summary(const char *payload);

#endif
