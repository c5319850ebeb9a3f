/* Test helper: a strict JSON syntax check, shared by the suites. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "jsoncheck.h"

/* ---- a strict JSON syntax check (RFC 8259) -------------------------------- */

static const char *jc_value(const char *p, int depth);

static const char *jc_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *jc_string(const char *p)
{
    if (*p != '"')
        return NULL;
    for (p++; *p != '"'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                        return NULL;
                p += 4;
            } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
    }
    return p + 1;
}

static const char *jc_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static const char *jc_value(const char *p, int depth)
{
    if (depth > 64)
        return NULL;
    p = jc_ws(p);
    if (*p == '{') {
        p = jc_ws(p + 1);
        if (*p == '}')
            return p + 1;
        for (;;) {
            p = jc_string(jc_ws(p));
            if (!p)
                return NULL;
            p = jc_ws(p);
            if (*p != ':')
                return NULL;
            p = jc_value(p + 1, depth + 1);
            if (!p)
                return NULL;
            p = jc_ws(p);
            if (*p == '}')
                return p + 1;
            if (*p != ',')
                return NULL;
            p++;
        }
    }
    if (*p == '[') {
        p = jc_ws(p + 1);
        if (*p == ']')
            return p + 1;
        for (;;) {
            p = jc_value(p, depth + 1);
            if (!p)
                return NULL;
            p = jc_ws(p);
            if (*p == ']')
                return p + 1;
            if (*p != ',')
                return NULL;
            p++;
        }
    }
    if (*p == '"')
        return jc_string(p);
    if (strncmp(p, "true", 4) == 0)
        return p + 4;
    if (strncmp(p, "false", 5) == 0)
        return p + 5;
    if (strncmp(p, "null", 4) == 0)
        return p + 4;
    return jc_number(p);
}

/* true if `s` is one complete JSON text */
bool json_valid(const char *s)
{
    const char *p;
    if (!s)
        return false;
    p = jc_value(s, 0);
    return p && *jc_ws(p) == '\0';
}
