/*
 * Case folding, canonical composition and German ASCII folding for Latin
 * scripts.  The tables (fold_table.h) are generated from the Unicode
 * Character Database by gen_fold_table.py.
 *
 * SPDX-License-Identifier: MIT
 */
#include "match.h"

#include <string.h>

struct fold_entry {
    uint16_t lower;
    char ascii[4];
};

struct comp_entry {
    uint16_t base, mark, composed;
};

#include "fold_table.h"

#define BAD_CP 0xFFFFFFFFu

/* Decode one code point at s[*i]; on invalid UTF-8 return BAD_CP and skip
 * one byte. */
static uint32_t decode(const unsigned char *s, size_t len, size_t *i)
{
    size_t k = *i;
    uint32_t c = s[k], cp;
    size_t n, j;

    if (c < 0x80) {
        *i = k + 1;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        cp = c & 0x07;
    } else {
        *i = k + 1;
        return BAD_CP;
    }
    if (k + n >= len) { /* truncated sequence */
        *i = k + 1;
        return BAD_CP;
    }
    for (j = 1; j <= n; j++) {
        if ((s[k + j] & 0xC0) != 0x80) {
            *i = k + 1;
            return BAD_CP;
        }
        cp = (cp << 6) | (s[k + j] & 0x3F);
    }
    /* overlong forms, surrogates, > U+10FFFF */
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
        *i = k + 1;
        return BAD_CP;
    }
    *i = k + n + 1;
    return cp;
}

/* decode, the position kept by the caller in a register (its address is
 * not taken: only j's is) */
static inline uint32_t decode_at(const unsigned char *s, size_t len, size_t *i)
{
    size_t j = *i;
    uint32_t cp = decode(s, len, &j);
    *i = j;
    return cp;
}

static size_t encode(char *buf, uint32_t cp)
{
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18));
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static const struct fold_entry *table_entry(uint32_t cp)
{
    if (cp >= 0x00A0 && cp <= 0x024F)
        return &fold_00a0[cp - 0x00A0];
    if (cp >= 0x1E00 && cp <= 0x1EFF)
        return &fold_1e00[cp - 0x1E00];
    return NULL;
}

/* Simple lower-case mapping for Latin, Greek and Cyrillic. */
static uint32_t lower_cp(uint32_t cp)
{
    const struct fold_entry *e;

    if (cp < 0x80)
        return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    e = table_entry(cp);
    if (e)
        return e->lower;
    if ((cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) || (cp >= 0x410 && cp <= 0x42F))
        return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F)
        return cp + 80;
    return cp;
}

static uint32_t compose(uint32_t base, uint32_t mark)
{
    size_t lo = 0, hi = sizeof comp_table / sizeof comp_table[0];

    if (base > 0xFFFF)
        return 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct comp_entry *e = &comp_table[mid];
        if (e->base < base || (e->base == base && e->mark < mark))
            lo = mid + 1;
        else if (e->base == base && e->mark == mark)
            return e->composed;
        else
            hi = mid;
    }
    return 0;
}

static int is_mark(uint32_t cp)
{
    return cp >= 0x300 && cp <= 0x36F;
}

/* Append bytes if they fit as a whole; keeps room for the NUL.  The
 * length written so far is passed and returned, not kept behind a
 * pointer: the callers keep it in a register (through a pointer it was
 * stored and loaded again around every byte they wrote). */
static size_t put(char *out, size_t cap, size_t n, const char *s, size_t k)
{
    if (n + k < cap) {
        memcpy(out + n, s, k);
        n += k;
    }
    return n;
}

static size_t put_cp(char *out, size_t cap, size_t n, uint32_t cp)
{
    char buf[4];
    size_t k;

    if (cp == 0xDF) /* full case folding: ß → ss */
        return put(out, cap, n, "ss", 2);
    k = encode(buf, cp);
    return put(out, cap, n, buf, k);
}

/* put_cp of a code point casefold held back: most are ASCII, one byte put
 * here (put_cp went through encode and a call of memcpy for it) */
static inline size_t put_pending(char *out, size_t cap, size_t n, uint32_t cp)
{
    if (cp < 0x80) {
        if (n + 1 < cap)
            out[n++] = (char)cp;
        return n;
    }
    return put_cp(out, cap, n, cp);
}

/* A-Z lowered in eight bytes that are all below 0x80 (adding to a byte
 * below 0x80 never carries into the next). */
static inline uint64_t ascii_lower8(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t up = (w + ones * (0x80 - 'A')) & ~(w + ones * (0x80 - 'Z' - 1)) & highs;
    return w | up >> 2;
}

size_t patron__match_casefold(char *out, size_t cap, const char *in, size_t len)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, n = 0;
    uint32_t pending = BAD_CP;

    if (cap == 0)
        return 0;
    while (s && i < len) {
        uint32_t cp;
        if (s[i] < 0x80) {
            /* a run of ASCII (most names, every email): each but the last
             * written lower-cased at once (nothing composes with them but
             * a mark after the last) */
            if (pending != BAD_CP)
                n = put_pending(out, cap, n, pending);
            /* eight at a time while those and the byte after them are
             * ASCII and fit: A-Z lowered in the word */
            while (i + 8 < len && s[i + 8] < 0x80 && n + 8 < cap) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & UINT64_C(0x8080808080808080))
                    break;
                w = ascii_lower8(w);
                memcpy(out + n, &w, 8);
                n += 8;
                i += 8;
            }
            for (; i + 1 < len && s[i + 1] < 0x80; i++) {
                unsigned c = s[i];
                if (n + 1 < cap)
                    out[n++] = (char)(c - 'A' < 26u ? c + 32 : c);
            }
            pending = lower_cp(s[i++]);
            continue;
        }
        cp = decode_at(s, len, &i);
        if (cp == BAD_CP)
            continue;
        if (is_mark(cp) && pending != BAD_CP) {
            uint32_t c = compose(pending, cp);
            if (c) {
                pending = c;
                continue;
            }
        }
        if (pending != BAD_CP)
            n = put_pending(out, cap, n, pending);
        pending = is_mark(cp) ? cp : lower_cp(cp);
    }
    if (pending != BAD_CP)
        n = put_pending(out, cap, n, pending);
    out[n] = '\0';
    return n;
}

/* ASCII forms of general punctuation; NULL when not handled here. */
static const char *punct(uint32_t cp)
{
    if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212)
        return "-";
    if ((cp >= 0x2018 && cp <= 0x201B) || cp == 0x2032)
        return "'";
    if (cp >= 0x201C && cp <= 0x201F)
        return "\"";
    if ((cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return " ";
    if ((cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF)
        return "";
    if (cp == 0x2026)
        return ".";
    return NULL;
}

size_t patron__match_fold(char *out, size_t cap, const char *in, size_t len)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, n = 0;
    int umlaut_base = 0; /* last output was a, o or u from a base letter */

    if (cap == 0)
        return 0;
    while (s && i < len) {
        uint32_t cp;
        const struct fold_entry *e;
        const char *p;

        if (s[i] < 0x80) { /* a run of ASCII, byte by byte as below */
            unsigned c = 0;
            /* eight bytes at a time while they are ASCII without a
             * control character and fit: A-Z lowered in the word */
            while (i + 8 <= len && n + 8 < cap) {
                const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
                uint64_t w, x;
                memcpy(&w, s + i, 8);
                x = w ^ (ones * 0x7F);
                if ((w & highs) | ((w - ones * 0x20) & ~w & highs) | ((x - ones) & ~x & highs))
                    break; /* (a byte >= 0x80, < 0x20 or 0x7F: byte by byte) */
                w = ascii_lower8(w);
                memcpy(out + n, &w, 8);
                n += 8;
                i += 8;
                c = (unsigned char)out[n - 1];
            }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            /* the last 1 to 7 bytes as one word too (most values are
             * shorter than a word, or end in part of one): the eight
             * bytes that end the value moved down, or a short value as at
             * most a 4-, a 2- and a 1-byte load; the zeros above it are
             * not looked at (a borrow only runs up from a flagged byte)
             * and lowered to zeros past the end */
            if (i < len && len - i < 8 && n + 8 < cap) {
                const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
                size_t k = len - i;
                uint64_t w = 0, x, keep = highs & ((UINT64_C(1) << (8 * k)) - 1);
                if (len >= 8) {
                    memcpy(&w, s + len - 8, 8);
                    w >>= 8 * (8 - k);
                } else {
                    size_t at = 0;
                    uint32_t w4 = 0;
                    uint16_t w2 = 0;
                    if (k >= 4) {
                        memcpy(&w4, s + i, 4);
                        w = w4;
                        at = 4;
                    }
                    if (k - at >= 2) {
                        memcpy(&w2, s + i + at, 2);
                        w |= (uint64_t)w2 << (8 * at);
                        at += 2;
                    }
                    if (k - at >= 1)
                        w |= (uint64_t)s[i + at] << (8 * at);
                }
                x = w ^ (ones * 0x7F);
                if (!(((w & highs) | ((w - ones * 0x20) & ~w & highs) | ((x - ones) & ~x & highs)) & keep)) {
                    w = ascii_lower8(w);
                    memcpy(out + n, &w, 8);
                    n += k;
                    i = len;
                    c = (unsigned)(w >> (8 * (k - 1))) & 0xFF;
                }
            }
#endif
            for (; i < len && s[i] < 0x80; i++) {
                c = s[i];
                c = c - 'A' < 26u ? c + 32 : c < 0x20 || c == 0x7F ? ' ' : c;
                if (n + 1 < cap)
                    out[n++] = (char)c;
            }
            umlaut_base = (c == 'a' || c == 'o' || c == 'u');
            continue;
        }
        if (s[i] >= 0xC2 && s[i] <= 0xDF && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
            /* two bytes (every Latin letter with a diacritic): decode's
             * first case, without the call */
            cp = (uint32_t)(s[i] & 0x1F) << 6 | (s[i + 1] & 0x3F);
            i += 2;
        } else {
            cp = decode_at(s, len, &i);
        }
        if (cp == BAD_CP)
            continue;
        if (cp < 0x80) {
            char c = (char)((cp >= 'A' && cp <= 'Z') ? cp + 32 : cp);
            if (cp < 0x20 || cp == 0x7F)
                c = ' ';
            n = put(out, cap, n, &c, 1);
            umlaut_base = (c == 'a' || c == 'o' || c == 'u');
            continue;
        }
        if (is_mark(cp)) {
            /* decomposed umlaut: a/o/u + U+0308 → ae/oe/ue; other marks go */
            if (cp == 0x308 && umlaut_base)
                n = put(out, cap, n, "e", 1);
            umlaut_base = 0;
            continue;
        }
        e = table_entry(cp);
        if (e) {
            /* (at most three bytes: measured and put here, not by strlen
             * and memcpy) */
            const char *a = e->ascii;
            size_t k = !a[0] ? 0 : !a[1] ? 1 : !a[2] ? 2 : 3;
            if (n + k < cap) {
                for (size_t j = 0; j < k; j++)
                    out[n + j] = a[j];
                n += k;
            }
            umlaut_base = (k == 1 && (a[0] == 'a' || a[0] == 'o' || a[0] == 'u'));
            continue;
        }
        umlaut_base = 0;
        p = punct(cp);
        if (p) {
            n = put(out, cap, n, p, strlen(p));
            continue;
        }
        n = put_cp(out, cap, n, lower_cp(cp));
    }
    out[n] = '\0';
    return n;
}
