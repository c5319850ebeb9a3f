/* patron — JSON output.  SPDX-License-Identifier: MIT */
#include <string.h>

#include "internal.h"

void patron__json_str(patron_strbuf *sb, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    patron__sb_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': patron__sb_puts(sb, "\\\""); break;
        case '\\': patron__sb_puts(sb, "\\\\"); break;
        case '\n': patron__sb_puts(sb, "\\n"); break;
        case '\r': patron__sb_puts(sb, "\\r"); break;
        case '\t': patron__sb_puts(sb, "\\t"); break;
        default:
            if (*p < 0x20 || *p == 0x7F) {
                char e[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
                patron__sb_putn(sb, e, 6);
            } else if (*p < 0x80) {
                patron__sb_putc(sb, (char)*p);
            } else {
                /* A whole well-formed sequence as it is; a byte that does not
                 * begin one (a value that came from a store unchecked) as
                 * U+FFFD, so that the output is always valid UTF-8 and JSON.
                 * The string ends in a NUL, which is no continuation byte:
                 * the check never reads past it. */
                size_t len = (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 1;
                if (len > 1 && patron__utf8_check((const char *)p, len) == 0) {
                    patron__sb_putn(sb, (const char *)p, len);
                    p += len - 1;
                } else {
                    patron__sb_puts(sb, "\\ufffd");
                }
            }
        }
    }
    patron__sb_putc(sb, '"');
}

static void nl(patron_strbuf *sb, unsigned flags, int indent)
{
    if (!(flags & PATRON_JSON_PRETTY))
        return;
    patron__sb_putc(sb, '\n');
    for (int i = 0; i < indent; i++)
        patron__sb_puts(sb, "  ");
}

static void key(patron_strbuf *sb, bool *first, const char *k, unsigned flags, int indent)
{
    if (!*first)
        patron__sb_putc(sb, ',');
    *first = false;
    nl(sb, flags, indent);
    patron__json_str(sb, k);
    patron__sb_puts(sb, (flags & PATRON_JSON_PRETTY) ? ": " : ":");
}

/* A JSON number as RFC 8259 writes an integer: digits, no leading zero. */
static bool all_digits(const char *v)
{
    if (!*v || strlen(v) > 20 || (v[0] == '0' && v[1]))
        return false;
    for (; *v; v++)
        if (*v < '0' || *v > '9')
            return false;
    return true;
}

static void scalar(patron_strbuf *sb, const patron__field_info *fi, int f, const char *v)
{
    if (fi->kind == PK_BOOL || f == PATRON_F_LOCKED)
        patron__sb_puts(sb, strcmp(v, "1") == 0 ? "true" : "false");
    else if (patron__is_numeric_field(f) && all_digits(v)) /* else a string: JSON stays valid */
        patron__sb_puts(sb, v);
    else
        patron__json_str(sb, v);
}

void patron__json_customer(patron_strbuf *sb, const patron_customer *c, unsigned flags, int ind)
{
    bool first = true;
    patron__sb_putc(sb, '{');
    for (int f = 1; f < PATRON_F__END; f++) {
        const patron__field_info *fi = patron__field(f);
        if (patron_field_flags(f) & PATRON_FIELD_SECRET) { /* never shown: the password hash */
            if (f == PATRON_F_LOGIN_HASH && c->f[f]) {
                key(sb, &first, "has_password", flags, ind + 1);
                patron__sb_puts(sb, "true");
            }
            continue;
        }
        if (!c->f[f])
            continue;
        key(sb, &first, fi->name, flags, ind + 1);
        scalar(sb, fi, f, c->f[f]);
    }
    key(sb, &first, "addresses", flags, ind + 1);
    patron__sb_putc(sb, '[');
    for (size_t i = 0; i < c->n_addr; i++) {
        bool afirst = true;
        if (i)
            patron__sb_putc(sb, ',');
        nl(sb, flags, ind + 2);
        patron__sb_putc(sb, '{');
        for (int f = 1; f < PATRON_A__END; f++) {
            const patron__field_info *fi = patron__address_field(f);
            if (!c->addr[i].f[f])
                continue;
            key(sb, &afirst, fi->name, flags, ind + 3);
            if (fi->kind == PK_BOOL)
                patron__sb_puts(sb, strcmp(c->addr[i].f[f], "1") == 0 ? "true" : "false");
            else
                patron__json_str(sb, c->addr[i].f[f]);
        }
        nl(sb, flags, ind + 2);
        patron__sb_putc(sb, '}');
    }
    if (c->n_addr)
        nl(sb, flags, ind + 1);
    patron__sb_putc(sb, ']');
    key(sb, &first, "tags", flags, ind + 1);
    patron__sb_putc(sb, '[');
    for (size_t i = 0; i < c->n_tags; i++) {
        if (i)
            patron__sb_puts(sb, (flags & PATRON_JSON_PRETTY) ? ", " : ",");
        patron__json_str(sb, c->tags[i]);
    }
    patron__sb_putc(sb, ']');
    key(sb, &first, "properties", flags, ind + 1);
    patron__sb_putc(sb, '{');
    for (size_t i = 0; i < c->n_props; i++) {
        bool pfirst = i == 0;
        key(sb, &pfirst, c->prop_k[i], flags, ind + 2);
        patron__json_str(sb, c->prop_v[i]);
    }
    if (c->n_props)
        nl(sb, flags, ind + 1);
    patron__sb_putc(sb, '}');
    nl(sb, flags, ind);
    patron__sb_putc(sb, '}');
}

patron_status patron_customer_to_json(const patron_customer *c, char **out, unsigned flags)
{
    patron_strbuf sb;
    if (!out || !c)
        return PATRON_E_INVALID;
    patron__sb_init(&sb);
    patron__json_customer(&sb, c, flags, 0);
    *out = patron__sb_detach(&sb, NULL);
    return *out ? PATRON_OK : PATRON_E_NOMEM;
}
