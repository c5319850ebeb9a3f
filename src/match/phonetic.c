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

static size_t koelner_ascii(char *out, size_t cap, const char *in, size_t len)
{
    size_t i, n = 0;
    int prev = 0;      /* previous letter (0 at a word start) */
    int last_code = -1; /* last code appended before collapsing */

    for (i = 0; i < len; i++) {
        int c = (unsigned char)in[i], next = 0, code1 = -1, code2 = -1;
        size_t j;

        if (c >= 'A' && c <= 'Z')
            c += 32;
        if (c < 'a' || c > 'z') {
            prev = 0; /* a new word begins */
            continue;
        }
        for (j = i + 1; j < len; j++) {
            int d = (unsigned char)in[j];
            if (d >= 'A' && d <= 'Z')
                d += 32;
            if (d >= 'a' && d <= 'z')
                next = d;
            break;
        }
        switch (c) {
        case 'a': case 'e': case 'i': case 'j': case 'o': case 'u': case 'y':
            code1 = 0;
            break;
        case 'h':
            break; /* no code */
        case 'b':
            code1 = 1;
            break;
        case 'p':
            code1 = next == 'h' ? 3 : 1;
            break;
        case 'd': case 't':
            code1 = in_set(next, L('c') | L('s') | L('z')) ? 8 : 2;
            break;
        case 'f': case 'v': case 'w':
            code1 = 3;
            break;
        case 'g': case 'k': case 'q':
            code1 = 4;
            break;
        case 'c':
            if (prev == 0)
                code1 = in_set(next, L('a') | L('h') | L('k') | L('l') | L('o') | L('q') | L('r') | L('u') |
                                         L('x')) ? 4 : 8;
            else
                code1 = (in_set(next, L('a') | L('h') | L('k') | L('o') | L('q') | L('u') | L('x')) &&
                         !in_set(prev, L('s') | L('z'))) ? 4 : 8;
            break;
        case 'x':
            if (in_set(prev, L('c') | L('k') | L('q'))) {
                code1 = 8;
            } else {
                code1 = 4;
                code2 = 8;
            }
            break;
        case 'l':
            code1 = 5;
            break;
        case 'm': case 'n':
            code1 = 6;
            break;
        case 'r':
            code1 = 7;
            break;
        case 's': case 'z':
            code1 = 8;
            break;
        default:
            break;
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

size_t patron__match_koelner(char *out, size_t cap, const char *in, size_t len)
{
    size_t i;

    if (cap == 0)
        return 0;
    if (!in) {
        out[0] = '\0';
        return 0;
    }
    for (i = 0; i < len; i++)
        if ((unsigned char)in[i] >= 0x80) {
            char buf[PATRON__MATCH_BUF];
            size_t k = patron__match_fold(buf, sizeof buf, in, len);
            return koelner_ascii(out, cap, buf, k);
        }
    return koelner_ascii(out, cap, in, len);
}
