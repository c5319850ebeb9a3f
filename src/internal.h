/* patron — internal declarations shared by the core's files.  Not installed.
 * SPDX-License-Identifier: MIT */
#ifndef PATRON_INTERNAL_H
#define PATRON_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patron/patron.h"
#include "patron/store.h"

#if defined(__GNUC__)
#  define PATRON_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define PATRON_PRINTF(f, a)
#endif

/* ---- alloc.c: every allocation goes through the hook ---------------- */
void *patron__malloc(size_t size);
void *patron__calloc(size_t n, size_t size);
void *patron__realloc(void *ptr, size_t size);
void patron__free(void *ptr);
char *patron__strdup(const char *s);
char *patron__strndup(const char *s, size_t n);
/* Blocks the library holds right now (for tests and the hook's guard). */
long patron__alloc_outstanding(void);

/* ---- strbuf.c: a growable string ------------------------------------ */
typedef struct patron_strbuf {
    char *buf;
    size_t len, cap;
    bool oom; /* set once an allocation failed; the buffer stays usable */
} patron_strbuf;

void patron__sb_init(patron_strbuf *sb);
void patron__sb_free(patron_strbuf *sb);
void patron__sb_putn(patron_strbuf *sb, const char *s, size_t n);
void patron__sb_puts(patron_strbuf *sb, const char *s);
void patron__sb_putc(patron_strbuf *sb, char c);
void patron__sb_printf(patron_strbuf *sb, const char *fmt, ...) PATRON_PRINTF(2, 3);
/* Hand over the buffer (NUL-terminated, never NULL unless oom). */
char *patron__sb_detach(patron_strbuf *sb, size_t *len_out);

/* ---- utf8.c ---------------------------------------------------------- */
/* 0 if `s` (n bytes) is well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF); else the 1-based byte offset of the error. */
size_t patron__utf8_check(const char *s, size_t n);
/* Lower-case ASCII letters, trim ASCII white space; returns a new string. */
char *patron__ascii_lower_trim(const char *s);

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
    PK_SYSTEM     /* maintained by the library */
};

typedef struct patron__field_info {
    const char *name;
    enum patron__kind kind;
    size_t max_len; /* bytes */
} patron__field_info;

const patron__field_info *patron__field(int field);
const patron__field_info *patron__address_field(int field);
bool patron__country_known(const char *code2);

/* ---- customer.c ------------------------------------------------------ */
typedef struct patron__address {
    char *f[PATRON_A__END];
} patron__address;

struct patron_customer {
    char *f[PATRON_F__END];
    patron__address *addr;
    size_t n_addr, cap_addr;
    char **tags;
    size_t n_tags, cap_tags;
    char **prop_k, **prop_v;
    size_t n_props, cap_props;
    char errmsg[256];
};

patron_status patron__cust_error(patron_customer *c, patron_status st, const char *fmt, ...)
    PATRON_PRINTF(3, 4);
/* Set a field without checks (value copied; NULL clears). */
patron_status patron__cust_put(patron_customer *c, int field, const char *value);
/* Check the whole record; optionally store canonical forms. */
patron_status patron__cust_validate(patron_customer *c, bool canonicalize);
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
int patron__state_from_name(const char *s);

/* ---- validate.c ----------------------------------------------------- */
/* Check a value for a field of the given kind.  Writes a message (naming
 * the field, never echoing an opaque value) into msg on failure.  For
 * booleans, countries and languages the canonical form goes to *canon
 * (a static string or NULL: keep the value as given). */
patron_status patron__check_value(const char *name, const patron__field_info *fi, const char *v,
                                  char *msg, size_t msgsz, const char **canon, char *canon_buf,
                                  size_t canon_bufsz);

/* ---- memstore.c ---------------------------------------------------- */
/* The memory store's callbacks and a new session context on `ms` (NULL: a
 * private store owned by the session).  ops->destroy frees the session. */
patron_status patron__memstore_session(patron_memstore *ms, const patron_store_ops **ops, void **ctx);

/* ---- db.c: shared by the operations in other files ------------------- */
struct patron_db {
    patron_store_ops ops;
    void *ctx;
    char prefix[17];
    unsigned width;
    struct patron__match_config *match_cfg; /* computed once: weights are logs */
    uint64_t match_meta_seen; /* hash of the config and model text last loaded from meta (0: none) */
    char errmsg[512];
};

/* ---- matchconfig.c: the matcher's configuration in the store's meta ---- */
/* Bring db->match_cfg up to what the store's meta holds (inside a
 * transaction; a store without meta keeps the handle's own). */
patron_status patron__match_config_load(patron_db *db);

#include "match/match.h"

#define PATRON__MAX_KEYS (8 + PATRON__MATCH_KEYS_MAX + PATRON__MATCH_TF_KEYS_MAX)

/* Blocks (records sharing a key) larger than this are left out of matching,
 * in the batch and for one customer alike. */
#define PATRON__BLOCK_MAX 1000
typedef struct patron__keyset {
    patron_key k[PATRON__MAX_KEYS];
    char *owned[8];
    size_t n, n_owned;
    patron__match_key mk[PATRON__MATCH_KEYS_MAX + PATRON__MATCH_TF_KEYS_MAX];
} patron__keyset;
typedef patron__keyset keyset;

/* Which callback results pass through patron__store_rc unchanged. */
#define PASS_NOT_FOUND 1u
#define PASS_EXISTS 2u

patron_status patron__db_error(patron_db *db, patron_status st, const char *fmt, ...) PATRON_PRINTF(3, 4);
patron_status patron__db_ok(patron_db *db);
patron_status patron__store_rc(patron_db *db, int rc, const char *cb, unsigned pass);
patron_status patron__tx_begin(patron_db *db);
patron_status patron__tx_end(patron_db *db, patron_status st);
/* The index keys of a record.  `alias_only`: just number and external
 * reference (for merged records, whose keys only lead to the survivor). */
patron_status patron__keys_build(keyset *ks, const patron_customer *c, bool alias_only);
void patron__keys_free(keyset *ks);
patron_status patron__lookup_few(patron_db *db, int kind, const char *value, int64_t ids[2], size_t *total);
patron_status patron__check_all_unique(patron_db *db, const patron_customer *w, const keyset *ks, int64_t self);
patron_status patron__load_in_tx(patron_db *db, patron_customer **out, int64_t id);
/* Load `id`, following merged records to their survivor. */
patron_status patron__resolve(patron_db *db, patron_customer **out, int64_t id);
patron_status patron__assign_number(patron_db *db, patron_customer *w);
/* Save a new record in `state` (active: with a number; pending: without),
 * running `check` (may be NULL) first inside the transaction. */
patron_status patron__save_new(patron_db *db, patron_customer *c, int state,
                               patron_status (*check)(patron_db *db, const patron_customer *c, void *arg),
                               void *arg);
/* All ids under a key (free *ids with patron__free). */
patron_status patron__collect_ids(patron_db *db, int kind, const char *value, int64_t **ids, size_t *n);

/* ---- groups.c ---------------------------------------------------------- */
/* A new record without a group joins the default group; a named group must
 * exist (when the store keeps groups). */
patron_status patron__group_for_new(patron_db *db, patron_customer *w);
/* A changed group on update must exist. */
patron_status patron__group_check(patron_db *db, const patron_customer *w);

/* ---- merge.c ------------------------------------------------------------ */
patron_status patron__plan_new_in_tx(patron_db *db, patron_merge_plan **out, int64_t survivor_id,
                                     const int64_t *dup_ids, size_t n_dups, int policy);
patron_status patron__merge_in_tx(patron_db *db, patron_merge_plan *p, int64_t *journal_id);

/* ---- matchglue.c: records into the matcher -------------------------------- */
/* Normalise a customer for matching.  0 on success, else out of memory. */
int patron__cust_match_rec(patron__match_rec *out, const patron_customer *c, const char *default_country);
/* ... with the identifiers `cfg` declares (custom properties), after the VAT
 * ID of a company customer (slot 0). */
int patron__cust_match_rec_cfg(patron__match_rec *out, const patron_customer *c,
                               const struct patron__match_config *cfg);
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
size_t patron__matches_n(const patron_matches *m, const patron__cand **cands);

/* The memory store keeps each record's normalised form for matching
 * (normalised with this default country; other settings take the general
 * path).  Borrowed, valid until the transaction ends. */
#define PATRON__MEMSTORE_COUNTRY "DE"
bool patron__is_memstore(const patron_store_ops *ops);
patron_status patron__memstore_match_ref(void *ctx, int64_t id, int *state, const patron__match_rec **rec);

/* ---- json.c --------------------------------------------------------- */
void patron__json_str(patron_strbuf *sb, const char *s);
void patron__json_customer(patron_strbuf *sb, const patron_customer *c, unsigned flags, int indent);

#endif
