/*
 * patron — a small JSON reader for the command-line tool.
 *
 * SPDX-License-Identifier: MIT
 */
#include "json.h"

#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *p;
    int depth;
} parser;

static json *parse_value(parser *ps);

static void skip_ws(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static json *node(json_type t)
{
    json *j = calloc(1, sizeof *j);
    if (j)
        j->type = t;
    return j;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string at ps->p (after the opening quote has been checked). */
static char *parse_string(parser *ps)
{
    const char *s = ps->p + 1, *e = s;
    char *out, *o;

    /* The decoded string is never longer than the escaped one. */
    while (*e && *e != '"') {
        if (*e == '\\' && e[1])
            e++;
        e++;
    }
    if (*e != '"')
        return NULL;
    out = o = malloc((size_t)(e - s) + 1);
    if (!out)
        return NULL;
    while (s < e) {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        s++;
        switch (*s) {
        case 'n': *o++ = '\n'; s++; break;
        case 't': *o++ = '\t'; s++; break;
        case 'r': *o++ = '\r'; s++; break;
        case 'b': *o++ = '\b'; s++; break;
        case 'f': *o++ = '\f'; s++; break;
        case 'u': {
            unsigned cp, lo;
            if (e - s < 5 || hex4(s + 1, &cp) < 0)
                goto bad;
            s += 5;
            if (cp >= 0xD800 && cp < 0xDC00 && e - s >= 6 && s[0] == '\\' && s[1] == 'u' &&
                hex4(s + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            }
            o += put_utf8(o, cp);
            break;
        }
        default: *o++ = *s++; break; /* \" \\ \/ */
        }
    }
    *o = '\0';
    ps->p = e + 1;
    return out;
bad:
    free(out);
    return NULL;
}

static int push(json *j, json *item, char *key)
{
    json **items = realloc(j->items, (j->n + 1) * sizeof *items);
    if (!items)
        return -1;
    j->items = items;
    if (j->type == JSON_OBJECT) {
        char **keys = realloc(j->keys, (j->n + 1) * sizeof *keys);
        if (!keys)
            return -1;
        j->keys = keys;
        keys[j->n] = key;
    }
    items[j->n++] = item;
    return 0;
}

static json *parse_container(parser *ps, int object)
{
    json *j = node(object ? JSON_OBJECT : JSON_ARRAY);
    char close = object ? '}' : ']';

    if (!j || ++ps->depth > 64)
        goto bad;
    ps->p++;
    skip_ws(ps);
    if (*ps->p == close) {
        ps->p++;
        ps->depth--;
        return j;
    }
    for (;;) {
        char *key = NULL;
        json *v;
        skip_ws(ps);
        if (object) {
            if (*ps->p != '"' || !(key = parse_string(ps)))
                goto bad;
            skip_ws(ps);
            if (*ps->p != ':') {
                free(key);
                goto bad;
            }
            ps->p++;
        }
        v = parse_value(ps);
        if (!v || push(j, v, key) < 0) {
            free(key);
            json_free(v);
            goto bad;
        }
        skip_ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p != close)
            goto bad;
        ps->p++;
        ps->depth--;
        return j;
    }
bad:
    json_free(j);
    return NULL;
}

static json *parse_value(parser *ps)
{
    json *j;
    const char *s;

    skip_ws(ps);
    switch (*ps->p) {
    case '{':
        return parse_container(ps, 1);
    case '[':
        return parse_container(ps, 0);
    case '"':
        j = node(JSON_STRING);
        if (j && !(j->str = parse_string(ps))) {
            free(j);
            j = NULL;
        }
        return j;
    case 't':
    case 'f':
    case 'n':
        if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
            j = node(JSON_BOOL);
            if (j && !(j->str = strdup(ps->p[0] == 't' ? "true" : "false"))) {
                free(j);
                return NULL;
            }
            ps->p += ps->p[0] == 't' ? 4 : 5;
            return j;
        }
        if (!strncmp(ps->p, "null", 4)) {
            ps->p += 4;
            return node(JSON_NULL);
        }
        return NULL;
    default:
        s = ps->p;
        while (*ps->p == '-' || *ps->p == '+' || *ps->p == '.' || *ps->p == 'e' || *ps->p == 'E' ||
               (*ps->p >= '0' && *ps->p <= '9'))
            ps->p++;
        if (ps->p == s)
            return NULL;
        j = node(JSON_NUMBER);
        if (j && !(j->str = strndup(s, (size_t)(ps->p - s)))) {
            free(j);
            j = NULL;
        }
        return j;
    }
}

json *json_parse(const char *text)
{
    parser ps;
    json *j;

    ps.p = text;
    ps.depth = 0;
    j = parse_value(&ps);
    if (j) {
        skip_ws(&ps);
        if (*ps.p) {
            json_free(j);
            j = NULL;
        }
    }
    return j;
}

void json_free(json *j)
{
    size_t i;

    if (!j)
        return;
    for (i = 0; i < j->n; i++) {
        json_free(j->items[i]);
        if (j->keys)
            free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->str);
    free(j);
}

const json *json_get(const json *obj, const char *key)
{
    size_t i;

    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (i = 0; i < obj->n; i++) {
        if (!strcmp(obj->keys[i], key))
            return obj->items[i];
    }
    return NULL;
}

const char *json_get_str(const json *obj, const char *key)
{
    const json *v = json_get(obj, key);
    return v && v->str ? v->str : "";
}

int json_get_true(const json *obj, const char *key)
{
    const json *v = json_get(obj, key);
    return v && v->type == JSON_BOOL && v->str[0] == 't';
}
