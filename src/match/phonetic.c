/*
 * Kölner Phonetik (Hans Joachim Postel, 1969): German phonetic code.
 *
 * SPDX-License-Identifier: MIT
 */
#include "match.h"

#include <string.h>

/* c (0, or a letter a-z) one of the letters of mask (bit k: 'a' + k);
 * the sets were strchr() calls, most of the code's time */
#define L(ch) (1u << ((ch) - 'a'))
static inline int in_set(int c, unsigned mask)
{
    return c >= 'a' && c <= 'z' && ((mask >> (c - 'a')) & 1u);
}

/* c lower-cased when it is a letter A-Z or a-z, else 0 (c | 0x20 is a-z
 * for those bytes alone) */
static inline int letter(int c)
{
    c |= 0x20;
    return (unsigned)(c - 'a') < 26u ? c : 0;
}

/* The code of each letter a-z where it does not depend on the letters
 * beside it; NONE for h (no code), NEAR for c, d, p, t and x (the switch
 * below).  A table, not a switch for every letter. */
#define NONE (-1)
#define NEAR (-2)
static const signed char letter_code[26] = {
    0 /* a */, 1 /* b */, NEAR /* c */, NEAR /* d */, 0 /* e */, 3 /* f */, 4 /* g */, NONE /* h */, 0 /* i */,
    0 /* j */, 4 /* k */, 5 /* l */, 6 /* m */, 6 /* n */, 0 /* o */, NEAR /* p */, 4 /* q */, 7 /* r */,
    8 /* s */, NEAR /* t */, 0 /* u */, 3 /* v */, 3 /* w */, NEAR /* x */, 0 /* y */, 8 /* z */,
};

static size_t koelner_ascii(char *out, size_t cap, const char *in, size_t len)
{
    size_t i, n = 0;
    int prev = 0;      /* previous letter (0 at a word start) */
    int last_code = -1; /* last code appended before collapsing */

    for (i = 0; i < len; i++) {
        int c = letter((unsigned char)in[i]), code1, code2 = -1;

        if (!c) {
            prev = 0; /* a new word begins */
            continue;
        }
        code1 = letter_code[c - 'a'];
        if (code1 == NEAR) {
            int next = i + 1 < len ? letter((unsigned char)in[i + 1]) : 0;
            switch (c) {
            case 'p':
                code1 = next == 'h' ? 3 : 1;
                break;
            case 'd': case 't':
                code1 = in_set(next, L('c') | L('s') | L('z')) ? 8 : 2;
                break;
            case 'c':
                if (prev == 0)
                    code1 = in_set(next, L('a') | L('h') | L('k') | L('l') | L('o') | L('q') | L('r') | L('u') |
                                             L('x')) ? 4 : 8;
                else
                    code1 = (in_set(next, L('a') | L('h') | L('k') | L('o') | L('q') | L('u') | L('x')) &&
                             !in_set(prev, L('s') | L('z'))) ? 4 : 8;
                break;
            default: /* 'x' */
                if (in_set(prev, L('c') | L('k') | L('q'))) {
                    code1 = 8;
                } else {
                    code1 = 4;
                    code2 = 8;
                }
                break;
            }
        }
        prev = c;
        /* collapse runs of one code; drop 0 except at the very start */
        if (code1 >= 0) {
            if (code1 != last_code && (code1 != 0 || last_code == -1) && n + 1 < cap)
                out[n++] = (char)('0' + code1);
            last_code = code1;
        }
        if (code2 >= 0) {
            if (code2 != last_code && n + 1 < cap)
                out[n++] = (char)('0' + code2);
            last_code = code2;
        }
    }
    out[n] = '\0';
    return n;
}

size_t patron__match_koelner_folded(char *out, size_t cap, const char *in, size_t len)
{
    if (cap == 0)
        return 0;
    return koelner_ascii(out, cap, in, len);
}

size_t patron__match_koelner(char *out, size_t cap, const char *in, size_t len)
{
    size_t i;
    uint64_t high = 0, w;

    if (cap == 0)
        return 0;
    if (!in) {
        out[0] = '\0';
        return 0;
    }
    /* a byte >= 0x80 (looked for eight at a time, the last 1 to 7 bytes
     * as the last eight or as a 4-, 2- and 1-byte load): fold first */
    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&w, in + i, 8);
        high |= w;
    }
    if (i < len && len >= 8) {
        memcpy(&w, in + len - 8, 8);
        high |= w;
    } else if (i < len) {
        uint32_t w4;
        uint16_t w2;
        if (len - i >= 4) {
            memcpy(&w4, in + i, 4);
            high |= w4;
            i += 4;
        }
        if (len - i >= 2) {
            memcpy(&w2, in + i, 2);
            high |= w2;
            i += 2;
        }
        if (i < len)
            high |= (unsigned char)in[i];
    }
    if (high & UINT64_C(0x8080808080808080)) {
        char buf[PATRON__MATCH_BUF];
        size_t k = patron__match_fold(buf, sizeof buf, in, len);
        return koelner_ascii(out, cap, buf, k);
    }
    return koelner_ascii(out, cap, in, len);
}
