/* patron — utilities shared by the core and the stores built into it:
 * allocation through the hook, growable strings and id vectors, UTF-8
 * checks, hashing.  The bottom layer: includes no other file of src/.
 * Not installed.  SPDX-License-Identifier: MIT */
#ifndef PATRON_UTIL_H
#define PATRON_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* ---- util.c: a growable vector of ids --------------------------------- */
typedef struct patron__idvec {
    int64_t *v;
    size_t n, cap;
    bool oom; /* set once a push failed */
} patron__idvec;

#define PATRON__IDVEC_INIT { NULL, 0, 0, false }
/* Append; false (and oom set) when out of memory. */
bool patron__idvec_push(patron__idvec *iv, int64_t id);
/* A patron_emit_id_fn: push, and stop (non-zero) when out of memory. */
int patron__idvec_emit(void *iv, int64_t id);
/* Sort ascending and drop repeats. */
void patron__idvec_sort_unique(patron__idvec *iv);
void patron__idvec_free(patron__idvec *iv);
/* Ids into a caller's array of `cap`, counting all that were offered. */
typedef struct patron__idcap {
    int64_t *ids;
    size_t cap, n, total;
} patron__idcap;
/* A patron_emit_id_fn for a patron__idcap; never stops. */
int patron__idcap_emit(void *ic, int64_t id);

/* One page of ids from a scan: a patron_emit_id_fn that stops when the page
 * is full, so a store that emits more than the limit it was given cannot
 * write past it. */
#define PATRON__IDPAGE 1024
typedef struct patron__idpage {
    int64_t ids[PATRON__IDPAGE];
    size_t n;
} patron__idpage;
int patron__idpage_emit(void *page, int64_t id);

/* qsort comparator for int64_t. */
int patron__cmp_i64(const void *a, const void *b);

/* Whether a non-NULL pointer stands twice among p[0..n-1] (sorted copy):
 * 1 twice, 0 not, -1 out of memory. */
int patron__ptrs_twice(void *const *p, size_t n);

/* ---- util.c, util.h: hashing (64 bits, for in-memory tables only) ----- */
/* Of n bytes. */
uint64_t patron__hash_bytes(const void *p, size_t n);
/* Of an index key (kind, NUL-terminated value); never 0.  Inline, and
 * eight bytes a step once strlen has measured the value: batch dedupe
 * hashes every blocking key of every record, and a byte-wise loop behind a
 * call cost more than the rest of its read phase.  The values live only in
 * memory (the memory store's index, dedupe's blocks), never on disk. */
#define PATRON__HASH_K 0x9E3779B97F4A7C15ULL
static inline uint64_t patron__hash_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}
/* Of (kind, the n bytes at value); patron__hash_key of a string of length n.
 * The 1 to 7 bytes after the last whole word make one word, hashed as a
 * word (as the portable loads below pack it; on a little-endian machine
 * byte i + k at bits 8k).  There that word is taken in at most three
 * loads that stay within the value:
 * the last eight bytes shifted down (n >= 8), two overlapping four-byte
 * loads (4 to 7), or three single bytes (1 to 3, a byte taken twice ORs
 * the same bits); the same word as the portable 4-, 2- and 1-byte loads
 * below, without their chain of tests (~15 instructions of each of the
 * ~14 hashes of a record a batch adds). */
static inline uint64_t patron__hash_key_n(int kind, const char *value, size_t n)
{
    size_t i = 0;
    uint64_t h = ((uint64_t)(unsigned)kind << 32 ^ (uint64_t)n) * PATRON__HASH_K, w;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, value + i, 8);
        h = (h ^ w) * PATRON__HASH_K;
        h ^= h >> 29;
    }
    if (i < n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        const unsigned char *p = (const unsigned char *)value;
        if (n >= 8) {
            memcpy(&w, p + n - 8, 8);
            w >>= 8 * (8 - (n - i));
        } else if (n >= 4) {
            uint32_t a, b;
            memcpy(&a, p, 4);
            memcpy(&b, p + n - 4, 4);
            w = a | ((uint64_t)b >> 8 * (8 - n)) << 32;
        } else {
            w = (uint64_t)p[0] | (uint64_t)p[n >> 1] << 8 * (n >> 1) | (uint64_t)p[n - 1] << 8 * (n - 1);
        }
#else /* at most a 4-, a 2- and a 1-byte load */
        uint32_t w4 = 0;
        uint16_t w2 = 0;
        unsigned sh = 0;
        w = 0;
        if (n - i >= 4) {
            memcpy(&w4, value + i, 4);
            w = w4;
            i += 4;
            sh = 32;
        }
        if (n - i >= 2) {
            memcpy(&w2, value + i, 2);
            w |= (uint64_t)w2 << sh;
            i += 2;
            sh += 16;
        }
        if (n - i >= 1)
            w |= (uint64_t)(unsigned char)value[i] << sh;
#endif
        h = (h ^ w) * PATRON__HASH_K;
        h ^= h >> 29;
    }
    h = patron__hash_mix(h);
    return h ? h : 1;
}
static inline uint64_t patron__hash_key(int kind, const char *value)
{
    return patron__hash_key_n(kind, value, strlen(value));
}

/* Of an id, for open addressing. */
uint64_t patron__hash_id(int64_t id);

/* ---- utf8.c ---------------------------------------------------------- */
/* 0 if `s` (n bytes) is well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF); else the 1-based byte offset of the error. */
size_t patron__utf8_check(const char *s, size_t n);
/* Lower-case ASCII letters, trim ASCII white space; returns a new string. */
char *patron__ascii_lower_trim(const char *s);

#endif
