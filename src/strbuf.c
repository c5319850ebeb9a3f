/* patron — growable strings.  SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "util.h"

void patron__sb_init(patron_strbuf *sb)
{
    sb->buf = NULL;
    sb->len = sb->cap = 0;
    sb->oom = false;
}

void patron__sb_free(patron_strbuf *sb)
{
    patron__free(sb->buf);
    patron__sb_init(sb);
}

static bool sb_grow(patron_strbuf *sb, size_t extra)
{
    size_t need, cap;
    char *nb;
    if (sb->oom)
        return false;
    if (extra > SIZE_MAX - sb->len - 1) {
        sb->oom = true;
        return false;
    }
    need = sb->len + extra + 1;
    if (need <= sb->cap)
        return true;
    cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    nb = patron__realloc(sb->buf, cap);
    if (!nb) {
        sb->oom = true;
        return false;
    }
    sb->buf = nb;
    sb->cap = cap;
    return true;
}

void patron__sb_putn(patron_strbuf *sb, const char *s, size_t n)
{
    if (!sb_grow(sb, n))
        return;
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void patron__sb_puts(patron_strbuf *sb, const char *s)
{
    patron__sb_putn(sb, s, strlen(s));
}

void patron__sb_putc(patron_strbuf *sb, char c)
{
    patron__sb_putn(sb, &c, 1);
}

void patron__sb_printf(patron_strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;
    char small[128];
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        patron__sb_putn(sb, small, (size_t)n);
        return;
    }
    if (!sb_grow(sb, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

char *patron__sb_detach(patron_strbuf *sb, size_t *len_out)
{
    char *b;
    if (sb->oom) {
        patron__sb_free(sb);
        return NULL;
    }
    if (!sb->buf && !sb_grow(sb, 0))
        return NULL;
    if (sb->len == 0)
        sb->buf[0] = '\0';
    b = sb->buf;
    if (len_out)
        *len_out = sb->len;
    patron__sb_init(sb);
    return b;
}
