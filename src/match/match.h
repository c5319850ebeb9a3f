/*
 * patron — the matching engine's internals (issue 4).  Not public API.
 *
 * SPDX-License-Identifier: MIT
 *
 * The pipeline, as the core uses it:
 *
 *   patron__match_raw  --patron__match_normalize()-->  patron__match_rec
 *   patron__match_rec  --patron__match_keys()------->  blocking keys (kind >= 100)
 *   two records        --patron__match_score()------>  score, decision and a
 *                                                      per-field explanation
 *
 * Everything here is reentrant: no mutable global state; the tables are
 * const.  Every normalised string is lower-case ASCII where the input was in
 * a Latin script (German folding: ä→ae, ö→oe, ü→ue, ß→ss, other diacritics
 * dropped); characters of other scripts are passed through as UTF-8.
 * Normalised values are for comparison only and are capped at
 * PATRON__MATCH_FIELD_MAX bytes; the customer's data itself is never changed.
 */
#ifndef PATRON_MATCH_MATCH_H
#define PATRON_MATCH_MATCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Memory: the core's allocator (src/alloc.c).                              */

void *patron__malloc(size_t size);
void *patron__realloc(void *p, size_t size);
void patron__free(void *p);

#define PATRON_MALLOC(n) patron__malloc(n)
#define PATRON_REALLOC(p, n) patron__realloc((p), (n))
#define PATRON_FREE(p) patron__free(p)

/** l bytes from p to o (they do not overlap) without a call of memcpy:
 *  most of what the matcher copies is a few bytes (a name, a part of a
 *  key), where the call cost more than the copy.  Pieces that may overlap
 *  one another, never reading outside [p, p + l). */
static inline void patron__match_copy_small(char *o, const char *p, size_t l)
{
    if (l > 8) {
        uint64_t w;
        size_t i;
        for (i = 0; i + 8 < l; i += 8) {
            memcpy(&w, p + i, 8);
            memcpy(o + i, &w, 8);
        }
        memcpy(&w, p + l - 8, 8);
        memcpy(o + l - 8, &w, 8);
    } else if (l >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + l - 4, 4);
        memcpy(o, &a, 4);
        memcpy(o + l - 4, &b, 4);
    } else if (l) { /* 1 to 3 bytes: the first, the middle, the last */
        o[0] = p[0];
        o[l / 2] = p[l / 2];
        o[l - 1] = p[l - 1];
    }
}

/** The bytes of the eight in w that are none of a-z, 0-9 (with digits)
 *  and 0x80-0xFF: the high bit of each of them set, all else 0.  (Each
 *  byte's low seven bits plus a constant stays below 0x100: no carry
 *  crosses a byte.) */
static inline uint64_t patron__match_not_word8(uint64_t w, int digits)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t lo = w & ~highs;
    uint64_t ok = w | ((lo + ones * (0x80 - 'a')) & ~(lo + ones * (0x80 - 'z' - 1)));

    if (digits)
        ok |= (lo + ones * (0x80 - '0')) & ~(lo + ones * (0x80 - '9' - 1));
    return ~ok & highs;
}

/** The bytes of the eight in w that are not ASCII letters or digits (of
 *  either case): the high bit of each of them set.  (A control byte
 *  0x10-0x19 would pass as a digit once 0x20 is set in every byte: bytes
 *  below 0x20 are looked for apart.) */
static inline uint64_t patron__match_not_alnum8(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);

    return ((w | ((w - ones * 0x20) & ~w)) & highs) | patron__match_not_word8(w | ones * 0x20, 1);
}

/** The n < 8 bytes at s in a word, its other bytes `pad`: at most a 4-, a
 *  2- and a 1-byte load, never reading outside s[0..n).  (Which byte of
 *  the word holds which of s does not matter to the tests of all eight.) */
static inline uint64_t patron__match_load_short(const char *s, size_t n, unsigned char pad)
{
    uint64_t w = UINT64_C(0x0101010101010101) * pad;
    size_t at = 0;
    uint32_t w4;
    uint16_t w2;

    if (n >= 4) {
        memcpy(&w4, s, 4);
        w = w4 | (w & ~(uint64_t)UINT32_MAX);
        at = 4;
    }
    if (n - at >= 2) {
        memcpy(&w2, s + at, 2);
        w = (w & ~((uint64_t)0xFFFF << (8 * at))) | (uint64_t)w2 << (8 * at);
        at += 2;
    }
    if (n - at >= 1)
        w = (w & ~((uint64_t)0xFF << (8 * at))) | (uint64_t)(unsigned char)s[at] << (8 * at);
    return w;
}

/** Every byte of s[0..n) is a-z, 0-9 (with digits) or 0x80-0xFF (part of
 *  a character of more than a byte): a word as the normalisers keep it.
 *  ascii: every byte is an ASCII letter (of either case) or digit
 *  instead.  Eight bytes at a time; a short value as at most three loads,
 *  and the last bytes of a longer one as the eight that end it (a byte
 *  loop cost most of the look at a folded name or street).  Never reads
 *  outside s[0..n). */
static inline int patron__match_word_bytes(const char *s, size_t n, int digits, int ascii)
{
    uint64_t bad = 0, w;
    size_t i;

    for (i = 0; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        bad |= ascii ? patron__match_not_alnum8(w) : patron__match_not_word8(w, digits);
    }
    if (i == n)
        return !bad;
    if (n >= 8)
        memcpy(&w, s + n - 8, 8);
    else
        w = patron__match_load_short(s, n, 'a');
    bad |= ascii ? patron__match_not_alnum8(w) : patron__match_not_word8(w, digits);
    return !bad;
}

/** The len bytes at in, ASCII letters and digits alone (as
 *  patron__match_word_bytes(in, len, 1, 1) tells), lowered into out, and
 *  a NUL: what folding makes of them.  0x20 set in a letter lowers it; a
 *  digit has it.  Eight bytes at a time. */
static inline void patron__match_lower_alnum(char *out, const char *in, size_t len)
{
    const uint64_t low = UINT64_C(0x2020202020202020);
    uint64_t w;
    size_t i;

    if (len >= 8) {
        for (i = 0; i + 8 <= len; i += 8) {
            memcpy(&w, in + i, 8);
            w |= low;
            memcpy(out + i, &w, 8);
        }
        memcpy(&w, in + len - 8, 8); /* (the last eight again: lowering twice is once) */
        w |= low;
        memcpy(out + len - 8, &w, 8);
    } else {
        for (i = 0; i < len; i++)
            out[i] = (char)(in[i] | 0x20);
    }
    out[len] = '\0';
}

/** Longest normalised field, in bytes, without the NUL. */
#define PATRON__MATCH_FIELD_MAX 255
/** Size of a buffer that always holds a normalised field. */
#define PATRON__MATCH_BUF (PATRON__MATCH_FIELD_MAX + 1)
/** Most declared identifiers compared per pair. */
#define PATRON__MATCH_IDENT_MAX 8

/* ------------------------------------------------------------------------ */
/* Text folding (fold.c)                                                    */

/**
 * Unicode case folding plus canonical composition for Latin scripts:
 * "Mu" U+0308 "LLER" → "müller" (UTF-8, composed, lower case; ß → "ss" as in
 * full case folding).  Invalid UTF-8 bytes are dropped.  Writes at most
 * cap - 1 bytes and a NUL (cap >= 1); returns the length written.
 */
size_t patron__match_casefold(char *out, size_t cap, const char *in, size_t len);

/**
 * German folding to lower-case ASCII: ä→ae ö→oe ü→ue ß→ss (precomposed or
 * decomposed), every other diacritic dropped (é→e, ł→l, ą→a, ı→i, ø→o, æ→ae,
 * œ→oe, đ→d), typographic dashes/quotes/spaces to their ASCII forms.  Code
 * points of non-Latin scripts are copied as UTF-8.  Same buffer rules as
 * patron__match_casefold().
 */
size_t patron__match_fold(char *out, size_t cap, const char *in, size_t len);

/* ------------------------------------------------------------------------ */
/* Field normalisers (normalize.c).  All write a NUL-terminated string of   */
/* at most PATRON__MATCH_FIELD_MAX bytes to `out` (PATRON__MATCH_BUF bytes) */
/* and return its length; 0 means "no usable value".  `in` may be NULL.      */

/**
 * Person name.  Removes salutations and titles (Herr, Frau, Dr., Prof.,
 * Dipl.-Ing., Dr. med., ...), splits a full name given in one field
 * ("Max Mustermann" as first name with an empty last name, or "Mustermann,
 * Max"), drops name particles from the last name ("von der Müller" →
 * "mueller"; they are written to `particles` if non-NULL).  first: tokens
 * separated by one blank ("hans peter" for "Hans-Peter"); last: tokens
 * separated by one blank ("mueller luedenscheidt").
 */
void patron__match_norm_name(char *first, char *last, char *particles, const char *in_first,
                             const char *in_last);
/** patron__match_norm_name without the particles, giving the lengths it
 *  wrote: first's returned, last's in *last_len. */
size_t patron__match_norm_name_len(char *first, char *last, size_t *last_len, const char *in_first,
                                   const char *in_last);

/**
 * Street and house number.  If `in_number` is empty, the number is split off
 * `in_street` ("Hauptstr. 12a", "12 Main Street").  street: folded, blanks
 * and hyphens removed, Straße/Strasse/Str./-str. → "str", Platz/Pl. → "pl",
 * Weg, Allee kept ("friedrichebertstr").  number: "12a", "12-14", "12/1".
 */
void patron__match_norm_street(char *street, char *number, const char *in_street,
                               const char *in_number);

/** Country name or code → ISO 3166 alpha-2 ("Deutschland" → "DE"); empty
 *  input gives `default_country`.  `out` has room for 3 bytes. */
void patron__match_norm_country(char out[3], const char *in, const char *default_country);

/** Postal code by country: DE 5 digits (a lost leading zero restored), AT/CH/
 *  BE/DK/LU/AU 4 digits, NL "1234 AB", PL "12-345", GB "SW1A 1AA", ... */
size_t patron__match_norm_postal(char *out, const char *in, const char *country);

/** City: folded, bracketed parts and punctuation dropped, no blanks. */
size_t patron__match_norm_city(char *out, const char *in);

/** Email: trimmed, lower case, plus tag removed, googlemail.com → gmail.com,
 *  dots of a gmail local part removed.  No '@' or an empty part gives 0. */
size_t patron__match_norm_email(char *out, const char *in);

/** Phone to E.164 ("+49301234") with a default country (ISO alpha-2) for
 *  national numbers: "030 1234", "+49 30 1234", "0049 (0)30-1234" agree.
 *  Fewer than 5 digits gives 0. */
size_t patron__match_norm_phone(char *out, const char *in, const char *default_country);

/** Company: folded, legal forms (GmbH, AG, KG, e.K., UG, Co., Ltd, ...) and
 *  punctuation removed, no blanks. */
size_t patron__match_norm_company(char *out, const char *in);

/** Birth date "YYYY-MM-DD", "DD.MM.YYYY", "YYYYMMDD", "DD/MM/YYYY" →
 *  YYYYMMDD as an integer; 0 when missing or not a date. */
uint32_t patron__match_norm_birth(const char *in);

/* ------------------------------------------------------------------------ */
/* Comparators (compare.c, phonetic.c, names.c)                             */

/** Jaro-Winkler similarity in [0, 1] (prefix scale 0.1, up to 4 chars). */
double patron__match_jaro_winkler(const char *a, size_t la, const char *b, size_t lb);

/** Damerau-Levenshtein distance, optimal string alignment (adjacent
 *  transpositions, no substring edited twice).  Bit-parallel (Hyyrö) when
 *  the shorter string has at most 64 bytes.  Byte-wise. */
size_t patron__match_osa(const char *a, size_t la, const char *b, size_t lb);

/** patron__match_osa(a, la, b, lb) == 1, without computing the distance. */
int patron__match_osa_is_one(const char *a, size_t la, const char *b, size_t lb);

/** 1 when, from the bytes the two strings have in common alone (as a
 *  multiset, bytes alike in their low 6 bits counted as one),
 *  patron__match_jaro_winkler(a, la, b, lb) < jw_min and, with
 *  max_edits >= 0, patron__match_osa(a, la, b, lb) > max_edits; 0 when it
 *  cannot tell (then either may hold).  A bound, never a guess: each edit
 *  changes at most one byte of either multiset, and Jaro's matches are
 *  bytes both hold.  Strings over 64 bytes: 0.  Costs a pass over each
 *  string, a fraction of either kernel. */
int patron__match_typo_out(const char *a, size_t la, const char *b, size_t lb, int max_edits, double jw_min);

/**
 * One string compared with many (issue 14): its pattern masks (bit i of
 * mask[c] set where s[i] == c) built once, then each comparison costs one
 * pass over the other string.  Results are those of
 * patron__match_jaro_winkler(s, len, b, lb) and patron__match_osa(s, len, b,
 * lb), bit for bit.  `s` must outlive the pattern; strings longer than 64
 * bytes (and empty ones) fall back to the plain functions.
 */
typedef struct patron__match_pattern {
    uint64_t mask[256];
    const char *s;
    size_t len;
    int bits; /* 1: 1 <= len <= 64 and mask is built */
} patron__match_pattern;

void patron__match_pattern_init(patron__match_pattern *p, const char *s, size_t len);
double patron__match_jaro_winkler_p(const patron__match_pattern *p, const char *b, size_t lb);
size_t patron__match_osa_p(const patron__match_pattern *p, const char *b, size_t lb);

/** Kölner Phonetik of folded (or raw UTF-8 German) text: digits only, at
 *  most cap - 1 of them, NUL-terminated.  "Müller" → "657". */
size_t patron__match_koelner(char *out, size_t cap, const char *in, size_t len);
/** patron__match_koelner of a name as patron__match_norm_name wrote it (or
 *  a part of one cut at a blank), without looking for bytes to fold: its
 *  letters are folded already, and folding it again changes none of them.
 *  (What folding could still do to it - drop the bytes of a character
 *  that a token's length limit cut, which stand before a blank or the
 *  end - changes no code: Koelner reads every byte but A-Z and a-z as a
 *  word break either way.) */
size_t patron__match_koelner_folded(char *out, size_t cap, const char *in, size_t len);

/** 1 when a and b (normalised given names) are known variants or short
 *  forms of one name (Hans/Johannes, Sepp/Josef, Steffi/Stefanie). */
int patron__match_name_variant(const char *a, const char *b);

/** One given name's entries in the table of variants, looked up once for a
 *  record scored against many (issue 14): patron__match_name_variant_q(n, b)
 *  gives what patron__match_name_variant(s, b) gives for the name s of
 *  patron__match_name_q_init(n, s), without two binary searches per pair. */
typedef struct patron__match_name_q {
    const char *s;
    uint32_t lo, hi;   /* s's entries [lo, hi) (lo == hi: none) */
    uint32_t tlo, thi; /* those of s's first token (when tok) */
    size_t tlen;       /* the first token's length */
    int blank;         /* s has a blank after its first token */
    int tok;           /* the first token is short enough to be looked up */
} patron__match_name_q;
void patron__match_name_q_init(patron__match_name_q *n, const char *s);
int patron__match_name_variant_q(const patron__match_name_q *n, const char *b);

/** 1 when the first given name (or the whole name) is in the table of
 *  variants, i.e. patron__match_name_variant() can be true for it. */
int patron__match_name_known(const char *first);

/** A given name's entries in the table of variants, looked up once per
 *  record by patron__match_normalize() (issue 14: the scorer looked up
 *  the other record's name for every pair).  `set` 0: not looked up (a
 *  record made elsewhere, as from a stored form); the scorer then asks
 *  the table itself. */
typedef struct patron__match_name_ids {
    uint16_t lo, hi;   /* the whole name's entries [lo, hi) */
    uint16_t tlo, thi; /* its first token's (when tok) */
    uint8_t blank;     /* a blank after the first token */
    uint8_t tok;       /* the first token is short enough to be looked up */
    uint8_t set;
} patron__match_name_ids;
/** Fill *ids for the normalised given names s (len bytes: its strlen, as
 *  patron__match_normalize knows it); returns patron__match_name_known(s). */
int patron__match_name_ids_init(patron__match_name_ids *ids, const char *s, size_t len);
/** patron__match_name_variant(a, b) for the names whose ids these are
 *  (both set), without a lookup. */
int patron__match_name_variant_ids(const patron__match_name_ids *a, const patron__match_name_ids *b);

/** 1 when a normalised first name is initials only ("m", "h p"). */
int patron__match_is_initials(const char *first);

/** 1 when the initials in `ini` fit the given names in `full` ("m" / "max",
 *  "h p" / "hans peter"). */
int patron__match_initials_fit(const char *ini, const char *full);

/* ------------------------------------------------------------------------ */
/* Normalised record (normalize.c)                                          */

typedef struct patron__match_raw_addr {
    const char *street;       /* street, possibly with the house number */
    const char *house_number; /* may be NULL or "" */
    const char *addition;     /* address addition */
    const char *postal_code;
    const char *city;
    const char *country; /* name or code; NULL/"" = the default country */
} patron__match_raw_addr;

typedef struct patron__match_raw {
    const char *first_name;
    const char *last_name;
    const char *company;
    const char *email;
    const char *phone;
    const char *birth_date;
    const patron__match_raw_addr *addr;
    size_t n_addr;
    /* values of the declared identifiers, in the config's order (NULL or
     * "" when the customer has none); n_ident <= PATRON__MATCH_IDENT_MAX */
    const char *ident[PATRON__MATCH_IDENT_MAX];
    size_t n_ident;
} patron__match_raw;

typedef struct patron__match_addr {
    const char *street; /* "hauptstr" */
    const char *number; /* "12a" */
    const char *addition;
    const char *postal;
    const char *city;
    char country[4];
    uint16_t street_len, number_len, addition_len, postal_len, city_len;
} patron__match_addr;

#define PATRON__MATCH_CODE_MAX 24

/** A normalised record.  Strings are never NULL ("" = missing); all memory
 *  is owned by the record: free with patron__match_rec_free().  What
 *  every pair's scoring reads comes first, up to last_kp (140 bytes: three
 *  lines of the cache, four where a record of an array starts in the last
 *  8 bytes of one); the identifiers, read only when there are some
 *  (n_ident), and mem after it (batch dedupe fetches the records of its
 *  pairs in no order in memory: 216 bytes were four or five lines). */
typedef struct patron__match_rec {
    const char *first;
    const char *last;
    const char *company;
    const char *email;
    const char *phone;
    size_t n_addr;
    patron__match_addr *addr;
    size_t n_ident;
    uint32_t birth; /* YYYYMMDD, 0 unknown */
    uint16_t first_len, last_len, company_len, email_len, phone_len;
    uint8_t first_initials; /* first name is initials only */
    uint8_t first_known;    /* patron__match_name_known(first) */
    patron__match_name_ids first_ids; /* first's entries in the table of variants */
    char first_kp[PATRON__MATCH_CODE_MAX]; /* Kölner Phonetik of the first given name */
    char last_kp[PATRON__MATCH_CODE_MAX];  /* ... of the whole last name */
    /* identifiers: folded, only letters and digits ("" when missing) */
    const char *ident[PATRON__MATCH_IDENT_MAX];
    void *mem;
} patron__match_rec;

/** Normalise a record.  default_country: ISO alpha-2 used for phones and
 *  addresses without a country (NULL: "DE").  Returns 0, or -1 when out of
 *  memory (then *out is empty and needs no free). */
int patron__match_normalize(patron__match_rec *out, const patron__match_raw *in,
                            const char *default_country);
void patron__match_rec_free(patron__match_rec *r);

/* Room for many records' bytes, taken from blocks of 64 KiB (batch
 * dedupe of a file: a malloc and a free of each record were 1 % of the
 * run's instructions, and the frees its last step on one core).  Zeroed,
 * it is empty; one thread at a time.  A record made into a pool has mem
 * NULL: patron__match_rec_free leaves its bytes, which are the pool's
 * until patron__match_pool_free (a record dropped stays in it till then). */
typedef struct patron__match_pool {
    char *cur, *end; /* room left in the newest block */
    void *block;     /* the newest block; each starts with the one before's address */
} patron__match_pool;
/* patron__match_normalize with the record's bytes taken from pool (NULL:
 * its own block, as patron__match_normalize). */
int patron__match_normalize_pool(patron__match_rec *out, const patron__match_raw *in,
                                 const char *default_country, patron__match_pool *pool);
/* Frees the blocks of pool and empties it (the records in it go with them). */
void patron__match_pool_free(patron__match_pool *pool);

/* ------------------------------------------------------------------------ */
/* Scoring (score.c)                                                        */

typedef enum patron__match_decision {
    PATRON__MATCH_DISTINCT = 0,
    PATRON__MATCH_REVIEW = 1,
    PATRON__MATCH_MERGE = 2,
    PATRON__MATCH_HOUSEHOLD = 3 /* same address, another person of the household */
} patron__match_decision;

typedef enum patron__match_mode {
    PATRON__MATCH_MODE_FIELDS = 0, /* field matching (default) */
    PATRON__MATCH_MODE_EMAIL = 1   /* email only */
} patron__match_mode;

/** The safety rules: the few that decide beside the evidence.  A result
 *  names the one that decided (0: the probability alone decided). */
enum {
    /* same address, another given name, no agreeing birth date (and the
     * last names not clearly different): not one person, one household */
    PATRON__MATCH_RULE_HOUSEHOLD = 1,
    /* given names and last names both clearly differ (no typo, initial,
     * swap, variant or double name): never MERGE, whatever they share */
    PATRON__MATCH_RULE_OTHER_NAMES = 2,
    /* email-only mode: the same email under another given name (a family
     * mailbox): REVIEW, not MERGE */
    PATRON__MATCH_RULE_SHARED_EMAIL = 3,
    /* the names are all that agrees (every other field missing or
     * disagreeing): never MERGE, a name is no identity */
    PATRON__MATCH_RULE_NAME_ONLY = 4,
    /* another last name (not a typo, part, double name or swap) beside the
     * same given name and nothing of the person's own (birth date, a
     * mailbox or phone few hold, identifier): never MERGE */
    PATRON__MATCH_RULE_NAME_CHANGE = 5,
    /* the same given name and a mailbox or phone only the pair holds (or
     * an identifier) beside a pair the evidence calls distinct: REVIEW,
     * never MERGE */
    PATRON__MATCH_RULE_OWN_EVIDENCE = 6,
    /* one street of one town, two house numbers more than a typo apart,
     * contact data of which nothing agrees and nothing else of the
     * person's own: neighbours, two households - never MERGE */
    PATRON__MATCH_RULE_OTHER_BUILDING = 7,
    PATRON__MATCH_RULE_COUNT
};


typedef struct patron__match_config {
    char default_country[4]; /* ISO alpha-2, "DE" */
    int mode;                /* patron__match_mode */
    double merge_threshold;  /* match probability >= this: MERGE (unless a rule says otherwise) */
    double review_threshold; /* match probability >= this: REVIEW */
    /* The address fields (street, number, addition, postal code, city) are
     * not independent: together they count at least this much (a person
     * who moved is not five times as unlikely). */
    double address_floor;
    double address_max; /* ... and at most this (<= 0: no ceiling) */
    /* the weight of another house number on the street that agrees (in
     * place of the number level's): another building, which one person
     * does not give as a rule */
    double other_building;
    /* one role mailbox (info@, kontakt@, buchhaltung@, ...) adds at most
     * this: it is an office's, shared by everyone there */
    double role_mailbox_max;
    /* Registered at work: when one record names a company and the other
     * does not, the company record's address, mailbox and phone are its
     * employer's; a disagreement of each says at most this much against
     * one person (a person's home and office differ as a rule). */
    double company_contact_floor;
    /* A move: where the two addresses differ (the address fields weigh
     * less than 0) and a landline is among the two phones, the phones'
     * disagreement says at most this much - a landline is the home's and
     * changes with it (a mobile number does not: it keeps its weight) */
    double moved_landline_floor;
    /* Two mobile numbers that differ where the two addresses agree (the
     * address fields weigh more than 0: no move) weigh at most this (< 0;
     * 0: the phone level's weight): a mobile is its owner's, a housemate
     * has another */
    double home_mobiles_differ;
    /* the most the full name's own frequency (PATRON__TF_FULL_NAME) lifts
     * given and last name to, together */
    double full_name_max;
    /* A personal contact value that only the pair holds (counted by the
     * store: a mobile number, a mailbox that is no role mailbox and not
     * built from a name alone), beside the same given and last name: two
     * people do not share one, so it weighs at least this much, and the
     * other contact field's disagreement at most second_contact_floor (a
     * second mailbox, a new number: one person's).  0 turns it off. */
    double personal_contact;
    double second_contact_floor;
    /* ... and where that value ties one given name under two last names (a
     * marriage), the two addresses' disagreement says at most this much
     * (< 0; 0 turns it off): a marriage and a move are one event */
    double marriage_move_floor;
    /* A move with a new mailbox where both names agree exactly, only the
     * pair holds the full name and the birth date agrees: the mailboxes'
     * disagreement says at most this much (< 0; 0 turns it off) - the new
     * mailbox came with the new home */
    double moved_mailbox_floor;
    /* A full name that only the pair holds and that is a surprise by its
     * parts (given name holders x last name holders / customers, the
     * holders two strangers of independent names would give it, at most
     * this many) is a reason to look even where nothing else agrees: a
     * person who moved and changed mailbox and phone.  0 turns it off. */
    double rare_name_expect;
    /* One name at one home, the birth dates at least this many years
     * apart (not a typo, no placeholder) and no mailbox, phone or
     * identifier of the person's own agreeing: a parent and a grown child,
     * two people of one household (score.c, generation_apart).  0 turns
     * it off. */
    int generation_years;
    /* A mailbox at a public provider built from nothing but the name, held
     * by the pair alone beside the same given and last name, is a personal
     * contact value (personal_contact) where given name holders x last name
     * holders / customers - namesakes by chance - is at most this: one
     * address string is one mailbox, and a namesake who built the very
     * same one is rarer still.  0 turns it off. */
    double name_mailbox_expect;
    /* The model (model.h): prior, m and u per field and level, term
     * frequencies.  Change it, then call patron__match_config_update(). */
    union {
        patron__match_model model;
        struct {
            double lambda;
            double m[PATRON__MF_COUNT][PATRON__ML_COUNT];
            double u[PATRON__MF_COUNT][PATRON__ML_COUNT];
            double tf_ref[PATRON__MF_COUNT];
            double tf_share[PATRON__MF_COUNT];
            double tf_up_max;
            double tf_power;
            double tf_power_name;
            double name_address_max;
            double address_max_shift;
        };
    };
    /* declared identifiers: names of custom properties ("" unused) */
    size_t n_ident;
    char ident[PATRON__MATCH_IDENT_MAX][64];
    /* derived by patron__match_config_update() */
    double weight[PATRON__MF_COUNT][PATRON__ML_COUNT]; /* log2(m/u); 0 if unset */
    double prior;        /* log2(lambda / (1 - lambda)) */
    double merge_score;  /* merge_threshold as a match weight */
    double review_score; /* review_threshold as a match weight */
} patron__match_config;

/** The built-in defaults. */
void patron__match_config_default(patron__match_config *cfg);
/** Recompute weight[][], prior and the score thresholds from the model and
 *  the probability thresholds (a level with m or u <= 0 gets 0). */
void patron__match_config_update(patron__match_config *cfg);

/** log2 and 2^x without libm. */
double patron__match_log2(double x);
double patron__match_exp2(double x);
/** A match weight as a probability, 2^s / (1 + 2^s). */
double patron__match_probability(double score);

typedef struct patron__match_field_expl {
    int level;     /* patron__match_level */
    double weight; /* contribution to the score */
    const char *a; /* normalised values compared; point into the records */
    const char *b;
    /* term frequency: tf != 0 when the weight was adjusted; then `count`
     * records of `n` hold the value.  base_weight is always the level's
     * weight log2(m/u) (weight differs from it after a frequency
     * adjustment or for a role mailbox such as info@) */
    int tf;
    double count, n, base_weight;
} patron__match_field_expl;

typedef struct patron__match_result {
    double score;       /* match weight: prior + field weights */
    double probability; /* patron__match_probability(score); 0 when DISTINCT */
    int decision;       /* patron__match_decision */
    int rule;           /* PATRON__MATCH_RULE_* that decided, 0 if none */
    int addr_a;         /* indexes of the best-matching addresses, -1 if none */
    int addr_b;
    double address_weight; /* what the address fields added, after address_floor */
    double name_address_cut; /* taken off by name_address_max (0 if none) */
    char birth_a[12], birth_b[12]; /* "YYYY-MM-DD" for the explanation */
    patron__match_field_expl field[PATRON__MF_COUNT];
} patron__match_result;

/**
 * Term frequencies for scoring: count() gives how many records hold the
 * value (the string of patron__match_tf_value) of `field`, or a negative
 * number when unknown (then the level's weight is used).
 * `n` is the number of records (non-merged customers).
 */
typedef struct patron__match_tf {
    /* how many records hold the value of `field` of record `r` (address
     * fields: of its address `addr`); see patron__match_tf_value() */
    double (*count)(void *ctx, int field, const patron__match_rec *r, int addr);
    void *ctx;
    double n;
    /* or, when not NULL, the counts of record a's values, looked up once
     * per record instead of a call per pair: by PATRON__MATCH_TF_SLOT_*,
     * then one per address of a (0: unknown); count() is not called */
    const uint32_t *counts;
    /* NULL, or (with counts) a memo of the frequency weights by field and
     * count for one thread, one configuration and one n (see
     * patron__match_tf_memo_init) */
    struct patron__match_tf_memo *memo;
} patron__match_tf;

/** The frequency weights of the counts seen (a log2 each): a batch scores
 *  millions of pairs with a few thousand distinct counts.  Direct-mapped;
 *  a slot holds the exact value the scorer computes. */
#define PATRON__MATCH_TF_MEMO 1024
typedef struct patron__match_tf_memo {
    uint64_t key[PATRON__MATCH_TF_MEMO]; /* 0: empty */
    double val[PATRON__MATCH_TF_MEMO];
} patron__match_tf_memo;
void patron__match_tf_memo_init(patron__match_tf_memo *m);

/** The slots of patron__match_tf.counts. */
enum {
    PATRON__MATCH_TF_SLOT_FIRST = 0,
    PATRON__MATCH_TF_SLOT_LAST = 1,
    PATRON__MATCH_TF_SLOT_COMPANY = 2,
    PATRON__MATCH_TF_SLOT_EMAIL = 3,
    PATRON__MATCH_TF_SLOT_PHONE = 4,
    PATRON__MATCH_TF_SLOT_FULL_NAME = 5, /* PATRON__TF_FULL_NAME */
    PATRON__MATCH_TF_SLOT_ADDR = 6 /* + the address's index */
};

/** Score a pair with term frequencies (tf may be NULL: none). */
int patron__match_score_tf(patron__match_result *res, const patron__match_rec *a,
                           const patron__match_rec *b, const patron__match_config *cfg,
                           const patron__match_tf *tf);

/** Score a pair.  `res` receives score, decision and explanation (its
 *  string pointers stay valid while a, b and res live).  Returns the
 *  decision. */
int patron__match_score(patron__match_result *res, const patron__match_rec *a,
                        const patron__match_rec *b, const patron__match_config *cfg);

/**
 * One record scored against many (issue 14): the query's pattern masks for
 * its names, company and the first PATRON__MATCH_QUERY_ADDR addresses'
 * street, addition and city, each built the second time a comparison needs
 * it (the first one runs the plain kernels: a record compared once does
 * not pay for the masks).  patron__match_score_q(res, q, b, ...) gives exactly what
 * patron__match_score_tf(res, q->rec, b, ...) gives.  The record must
 * outlive the query; no memory to free.  About 32 KiB: not for the stack of
 * a small thread.
 */
#define PATRON__MATCH_QUERY_ADDR 4
typedef struct patron__match_query {
    const patron__match_rec *rec;
    /* set by the caller after patron__match_query_init() (which clears
     * it) when it needs only the decision of a DISTINCT pair, as a batch
     * that drops them does: a pair that cannot reach REVIEW is then told
     * DISTINCT as soon as the evidence compared so far proves it (after
     * the names, or after the names and the best pair of addresses), and
     * the rest of its result is not filled.  Every other result is the
     * full one. */
    int distinct_only;
    /* with distinct_only, set by a caller that reads nothing of a
     * DISTINCT result but its decision (the batch): such a result is then
     * not cleared beyond what the scorer reads itself */
    int decision_only;
    patron__match_pattern first, last, company;
    patron__match_pattern street[PATRON__MATCH_QUERY_ADDR], addition[PATRON__MATCH_QUERY_ADDR],
        city[PATRON__MATCH_QUERY_ADDR];
    /* the given name's entries in the table of variants, looked up the
     * first time a pair needs them (names_ready) */
    patron__match_name_q names;
    int names_ready;
} patron__match_query;

void patron__match_query_init(patron__match_query *q, const patron__match_rec *a);
int patron__match_score_q(patron__match_result *res, patron__match_query *q, const patron__match_rec *b,
                          const patron__match_config *cfg, const patron__match_tf *tf);

const char *patron__match_field_name(int field); /* "first_name", ... */
const char *patron__match_level_name(int level); /* "exact", ... */
const char *patron__match_decision_name(int decision); /* "merge", ... */
const char *patron__match_rule_name(int rule);         /* "household", ...; "" for 0 */

/* ------------------------------------------------------------------------ */
/* Blocking keys (block.c)                                                  */

/*
 * Key kinds.  Each key joins two or three parts of a record, so that a
 * duplicate with errors in a few fields still shares some key with its
 * original.  Parts: postal code P, street S (normalised, no number), house
 * number N, address addition A, city C, Kölner code of the last name L, first
 * initial I, birth date B.  Keys with an empty part are not made.
 */
enum {
    PATRON__KEY_EMAIL = 100,           /* normalised email */
    PATRON__KEY_PHONE = 101,           /* E.164 phone */
    PATRON__KEY_ADDRESS = 102,         /* P S N */
    PATRON__KEY_NAME_BIRTH = 104,      /* L B, and Kölner(first) B */
    PATRON__KEY_BIRTH_POSTAL = 108,    /* B P */
    PATRON__KEY_NUMBER_INITIAL = 109,  /* P N I */
    PATRON__KEY_NAMES_CITY = 112,      /* Kölner(first), L sorted, C */
    PATRON__KEY_BIRTH_CITY = 113,      /* B C */
    PATRON__KEY_ADDITION = 114,        /* A N */
    PATRON__KEY_NAME_STREET = 115,     /* L I S */
    PATRON__KEY_NAME_NUMBER = 116,     /* L I N */
    PATRON__KEY_NUMBER_NAME = 117,     /* P N L */
    PATRON__KEY_ADDITION_POSTAL = 118, /* A P */
    PATRON__KEY_FIRST_STREET = 119,    /* Kölner(first), S, C */
    PATRON__KEY_IDENT = 124            /* identifier slot, value (VAT ID; declared ones in the batch) */
    /* 103, 105-107, 110, 111: used during development, measured redundant;
     * not to be reused for other meanings. */
};

#define PATRON__MATCH_KEY_MAX 96 /* bytes per key value, NUL included */
#define PATRON__MATCH_KEYS_MAX 64

typedef struct patron__match_key {
    int kind;
    unsigned len; /* strlen(value) */
    char value[PATRON__MATCH_KEY_MAX];
} patron__match_key;

/**
 * The blocking keys of a normalised record: candidates for a record are the
 * records that share at least one (kind, value).  In email-only mode only
 * the email key.  Writes at most `cap` keys (PATRON__MATCH_KEYS_MAX covers
 * five addresses; later addresses get keys while room is left) and returns
 * how many.
 */
size_t patron__match_keys(patron__match_key *keys, size_t cap, const patron__match_rec *r,
                          const patron__match_config *cfg);

/*
 * Rare-name keys (issue 11): the full normalised name, given names and last
 * name.  The only link between two records of one person who registered
 * at work (company address, company mailbox, switchboard) or who moved and
 * got a new mailbox is the name; a name many customers hold is no key, so
 * a block of this kind is kept only while at most PATRON__RARE_BLOCK_MAX
 * records hold the name (a rare name).  The same key is the full name's
 * term frequency: the batch counts its run, the store's index holds it
 * with the term-frequency keys (patron__match_tf_keys) - a record stored
 * before it existed has none - and incremental matching looks it up after
 * counting it.  Asked for with the pseudo-field PATRON__TF_FULL_NAME
 * (tf->count; patron__match_tf_value gives the value).
 */
enum { PATRON__KEY_RARE_NAME = 125 };
#define PATRON__RARE_BLOCK_MAX 6
#define PATRON__TF_FULL_NAME 100

/*
 * Rare-street keys (issue 11): postal code and street, without the house
 * number, one per address (the first PATRON__MATCH_RARE_STREETS).  Kept
 * only while at most PATRON__RARE_STREET_MAX records hold it: a street in
 * one postal code that no other customer lives in.  Two records of one
 * person whose house number was mistyped, dropped or moved to another
 * field, and whose names or birth date changed too, share no other key
 * (FEBRL4: 7 of the 17 true pairs without a common key, each alone in its
 * street).  Where a third customer lives in the street, the two are as
 * likely neighbours (measured: with 6 holders allowed, each German test
 * set got 18-56 new REVIEW pairs of strangers and not one true pair) -
 * such a block is dropped, never paired.  The store's index
 * holds it beside the blocking keys (a record stored before it existed
 * has none until it is saved again); incremental matching counts it and
 * reads it only when rare.
 */
enum { PATRON__KEY_RARE_STREET = 126 };
#define PATRON__MATCH_RARE_STREETS 4
#define PATRON__RARE_STREET_MAX 2
/** 1 for the kinds whose block is kept only while few records hold it
 *  (rare name, rare street), else 0. */
static inline int patron__match_key_rare(int kind)
{
    return kind == PATRON__KEY_RARE_NAME || kind == PATRON__KEY_RARE_STREET;
}
/** The rare-street keys of `r` (none in email-only mode), at most cap;
 *  returns how many. */
size_t patron__match_rare_street_keys(patron__match_key *keys, size_t cap, const patron__match_rec *r,
                                      const patron__match_config *cfg);
/** The rare keys of `r` as the batch blocks on them: its rare-name key
 *  (none in email-only mode, for initials or a missing name part) and its
 *  rare-street keys, at most cap; returns how many. */
size_t patron__match_rare_keys(patron__match_key *keys, size_t cap, const patron__match_rec *r,
                               const patron__match_config *cfg);

/*
 * Term-frequency keys (issue 11): stored with every record beside the
 * blocking keys, never looked up for candidates, only counted.  Email,
 * phone and address use their blocking keys (100, 101, 102).
 */
enum {
    PATRON__KEY_TF_FIRST = 120,   /* normalised given names */
    PATRON__KEY_TF_LAST = 121,    /* normalised last name */
    PATRON__KEY_TF_COMPANY = 122, /* normalised company */
    PATRON__KEY_TF_ALL = 123      /* "*": every record, so count = N */
};
#define PATRON__MATCH_TF_KEYS_MAX 5

/** The key kind whose count gives the frequency of `field`'s value, or 0
 *  when the field has none. */
int patron__match_tf_kind(int field);
/** The value counted for `field` of `r` (address fields: address `addr`) —
 *  the key value stored under patron__match_tf_kind(field).  Writes a
 *  NUL-terminated string to out (PATRON__MATCH_KEY_MAX bytes); returns its
 *  length, 0 when there is none. */
size_t patron__match_tf_value(char *out, int field, const patron__match_rec *r, int addr);
/** The extra keys to store for `r` (kinds 120-123, 125), at most cap. */
size_t patron__match_tf_keys(patron__match_key *keys, size_t cap, const patron__match_rec *r);

#ifdef __cplusplus
}
#endif

#endif
