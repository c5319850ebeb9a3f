/* patron — UTF-8 checks.  SPDX-License-Identifier: MIT */
#include <string.h>

#include "util.h"

size_t patron__utf8_check(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c;
        size_t len;
        uint32_t cp, min;
        /* ASCII eight bytes at a time: the letters around a value's
         * umlaut (validation calls this for every value with a byte of
         * 0x80 or above) */
        for (uint64_t w; i + 8 <= n; i += 8) {
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
        }
        if (i == n)
            break;
        c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2; cp = c & 0x1F; min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3; cp = c & 0x0F; min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4; cp = c & 0x07; min = 0x10000;
        } else {
            return i + 1;
        }
        if (i + len > n)
            return i + 1;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i + 1;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i + 1;
        i += len;
    }
    return 0;
}

char *patron__ascii_lower_trim(const char *s)
{
    size_t n;
    char *d;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    d = patron__strndup(s, n);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (d[i] >= 'A' && d[i] <= 'Z')
            d[i] = (char)(d[i] - 'A' + 'a');
    return d;
}
