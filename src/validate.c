/* patron — checks of field values.  SPDX-License-Identifier: MIT
 *
 * Every value that enters a record passes here.  Bad input is refused with a
 * message that names the field; values themselves are not echoed, so that no
 * secret (a password hash put in the wrong column) reaches a message or log. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static char up(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}
static char low(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Classes of the bytes of an email address (email_ok): one load and test
 * a byte where the common bytes (letters, digits) pass. */
enum {
    EM_LOCAL_STOP = 1, /* ends or refuses the local part: '@', '.', a space, a control byte, NUL, ()<>[]:;,\" */
    EM_DOMAIN_STOP = 2 /* no letter, digit or byte >= 0x80: '-', '.', NUL and every byte refused */
};
static const unsigned char email_class[256] = {
    /* NUL, control bytes and the space */
    [0x00] = 3, [0x01] = 3, [0x02] = 3, [0x03] = 3, [0x04] = 3, [0x05] = 3, [0x06] = 3, [0x07] = 3,
    [0x08] = 3, [0x09] = 3, [0x0A] = 3, [0x0B] = 3, [0x0C] = 3, [0x0D] = 3, [0x0E] = 3, [0x0F] = 3,
    [0x10] = 3, [0x11] = 3, [0x12] = 3, [0x13] = 3, [0x14] = 3, [0x15] = 3, [0x16] = 3, [0x17] = 3,
    [0x18] = 3, [0x19] = 3, [0x1A] = 3, [0x1B] = 3, [0x1C] = 3, [0x1D] = 3, [0x1E] = 3, [0x1F] = 3,
    [' '] = 3, ['!'] = 2, ['"'] = 3, ['#'] = 2, ['$'] = 2, ['%'] = 2, ['&'] = 2, ['\''] = 2, ['('] = 3,
    [')'] = 3, ['*'] = 2, ['+'] = 2, [','] = 3, ['-'] = 2, ['.'] = 3, ['/'] = 2, [':'] = 3, [';'] = 3,
    ['<'] = 3, ['='] = 2, ['>'] = 3, ['?'] = 2, ['@'] = 3, ['['] = 3, ['\\'] = 3, [']'] = 3, ['^'] = 2,
    ['_'] = 2, ['`'] = 2, ['{'] = 2, ['|'] = 2, ['}'] = 2, ['~'] = 2, [0x7F] = 2
};

/* local@domain with a dot in the domain; RFC 5321 lengths; no spaces.
 * One pass over the address (strchr, strchr, strstr, strrchr and two
 * loops were 300 instructions an address): in the local part its
 * characters and "..", then the domain's characters, which leave out a
 * second '@', with the rules of its dots and dashes.  A byte of a class
 * (email_class) is looked at further only when it stops the common run
 * (a chain of tests a byte was ~270 instructions an address). */
static bool email_ok(const char *v)
{
    const unsigned char *p = (const unsigned char *)v, *dom, *q, *lastdot = NULL;
    size_t local;
    if (p[0] == '.')
        return false;
    for (local = 0;; local++) {
        unsigned char c = p[local];
        if (!(email_class[c] & EM_LOCAL_STOP))
            continue;
        if (c == '@')
            break;
        if (c != '.' || p[local + 1] == '.')
            return false; /* (a NUL too: no '@') */
    }
    if (local == 0 || local > 64 || p[local - 1] == '.')
        return false;
    dom = p + local + 1;
    if (dom[0] == '-' || dom[0] == '.')
        return false;
    for (q = dom;; q++) {
        unsigned char c = *q;
        if (!(email_class[c] & EM_DOMAIN_STOP))
            continue;
        if (c == '.') {
            if (q[1] == '.' || q[1] == '\0' || q[-1] == '-' || q[1] == '-')
                return false;
            lastdot = q;
        } else if (c == '-') {
            if (q[1] == '\0')
                return false;
        } else if (c == '\0') {
            break;
        } else {
            return false;
        }
    }
    /* a top-level domain of two characters at least */
    return lastdot && lastdot[1] && lastdot[2];
}

static bool date_ok(const char *v)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, m, d, leap;
    time_t now;
    struct tm tm;
    if (strlen(v) != 10 || v[4] != '-' || v[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !is_digit(v[i]))
            return false;
    y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
    m = (v[5] - '0') * 10 + (v[6] - '0');
    d = (v[8] - '0') * 10 + (v[9] - '0');
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return false;
    now = time(NULL);
    if (!gmtime_r(&now, &tm))
        return false;
    return y >= 1900 && y <= tm.tm_year + 1900 + 1;
}

static const char *bool_canon(const char *v)
{
    static const char *const yes[] = { "1", "true", "yes", "ja", "y", "j" };
    static const char *const no[] = { "0", "false", "no", "nein", "n" };
    char b[8];
    size_t n;
    /* "1" and "0", the values the command-line tool gives, at once */
    if ((v[0] == '1' || v[0] == '0') && v[1] == '\0')
        return v[0] == '1' ? "1" : "0";
    n = strlen(v);
    if (n >= sizeof b)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        b[i] = low(v[i]);
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strcmp(b, yes[i]) == 0)
            return "1";
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strcmp(b, no[i]) == 0)
            return "0";
    return NULL;
}

static patron_status check_value(const char *name, const patron__field_info *fi, const char *v, size_t want,
                                 char *msg, size_t msgsz, const char **canon, char *cbuf, size_t cbufsz);

patron_status patron__check_value(const char *name, const patron__field_info *fi, const char *v,
                                  char *msg, size_t msgsz, const char **canon, char *cbuf,
                                  size_t cbufsz)
{
    return check_value(name, fi, v, SIZE_MAX, msg, msgsz, canon, cbuf, cbufsz);
}

patron_status patron__check_value_len(const char *name, const patron__field_info *fi, const char *v, size_t len,
                                      char *msg, size_t msgsz, const char **canon, char *cbuf, size_t cbufsz)
{
    return check_value(name, fi, v, len, msg, msgsz, canon, cbuf, cbufsz);
}

/* want: the length v must have (SIZE_MAX: any); another one is refused
 * before every other check with PATRON_E_RANGE and no message. */
static patron_status check_value(const char *name, const patron__field_info *fi, const char *v, size_t want,
                                 char *msg, size_t msgsz, const char **canon, char *cbuf, size_t cbufsz)
{
    size_t n, bad, ctl = SIZE_MAX;
    unsigned high = 0;
    /* the length, the first control character and whether there is a
     * byte >= 0x80 (the UTF-8 check is needed only then); the refusals in
     * the order of the checks: length, UTF-8, control.  A cheap test of
     * the known (or measured) length first (patron__value_plain: most
     * values have no control character); only a value with one, or whose
     * length is not the one given, is scanned again for where it is. */
    n = want != SIZE_MAX ? want : strlen(v);
    if (!patron__value_plain(v, n, &high)) {
        const unsigned char *p = (const unsigned char *)v;
        high = 0;
        for (n = 0; p[n]; n++) {
            unsigned char c = p[n];
            high |= c;
            if ((c < 0x20 || c == 0x7F) && ctl == SIZE_MAX &&
                !(fi->kind == PK_MULTILINE && (c == '\n' || c == '\r' || c == '\t')))
                ctl = n;
        }
    }
    *canon = NULL;
    if (want != SIZE_MAX && n != want)
        return PATRON_E_RANGE;
    if (n > fi->max_len) {
        snprintf(msg, msgsz, "%s is too long: %zu bytes, at most %zu allowed", name, n, fi->max_len);
        return PATRON_E_INVALID;
    }
    bad = (high & 0x80) ? patron__utf8_check(v, n) : 0;
    if (bad) {
        snprintf(msg, msgsz, "%s is not valid UTF-8 (bad byte at offset %zu)", name, bad);
        return PATRON_E_INVALID;
    }
    if (ctl != SIZE_MAX) {
        snprintf(msg, msgsz, "%s contains a control character at offset %zu", name, ctl);
        return PATRON_E_INVALID;
    }
    switch (fi->kind) {
    case PK_EMAIL: {
        /* surrounding white space is dropped: " a@b.de " is a@b.de */
        size_t lead = 0, len = n;
        while (v[lead] == ' ' || v[lead] == '\t')
            lead++;
        while (len > lead && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        if ((lead || len < n) && len > lead && cbufsz > len - lead) {
            memcpy(cbuf, v + lead, len - lead);
            cbuf[len - lead] = '\0';
            *canon = cbuf;
            v = cbuf;
        }
        if (!email_ok(v)) {
            snprintf(msg, msgsz, "%s is not a valid email address", name);
            return PATRON_E_INVALID;
        }
        break;
    }
    case PK_DATE:
        if (!date_ok(v)) {
            snprintf(msg, msgsz, "%s must be a real date as YYYY-MM-DD (from 1900 on)", name);
            return PATRON_E_INVALID;
        }
        break;
    case PK_BOOL:
        *canon = bool_canon(v);
        if (!*canon) {
            snprintf(msg, msgsz, "%s must be 0 or 1 (or true/false, yes/no)", name);
            return PATRON_E_INVALID;
        }
        break;
    case PK_LANG:
        /* ISO 639-1/-2 language code, optionally with an ISO 3166 region */
        if (!((n == 2 || n == 3 || n == 5 || n == 6) && is_alpha(v[0]) && is_alpha(v[1]) &&
              (n == 2 || (n == 3 && is_alpha(v[2])) ||
               (n == 5 && (v[2] == '-' || v[2] == '_') && is_alpha(v[3]) && is_alpha(v[4])) ||
               (n == 6 && is_alpha(v[2]) && (v[3] == '-' || v[3] == '_') && is_alpha(v[4]) &&
                is_alpha(v[5]))))) {
            snprintf(msg, msgsz, "%s must be a language code like \"de\" or \"de-AT\"", name);
            return PATRON_E_INVALID;
        }
        if (cbufsz > n) {
            size_t dash = (n == 5) ? 2 : (n == 6 ? 3 : n);
            for (size_t i = 0; i < n; i++)
                cbuf[i] = i < dash ? low(v[i]) : (i == dash ? '-' : up(v[i]));
            cbuf[n] = '\0';
            *canon = cbuf;
        }
        break;
    case PK_NUMBER:
        for (size_t i = 0; i < n; i++)
            if (!(is_alpha(v[i]) || is_digit(v[i]) || v[i] == '-' || v[i] == '_' || v[i] == '/' ||
                  v[i] == '.')) {
                snprintf(msg, msgsz,
                         "%s may hold only letters A-Z, digits and - _ / . (offset %zu)", name, i);
                return PATRON_E_INVALID;
            }
        break;
    case PK_VATID:
        if (n < 4 || !is_alpha(v[0]) || !is_alpha(v[1])) {
            snprintf(msg, msgsz, "%s must start with a two-letter country prefix, e.g. DE123456789", name);
            return PATRON_E_INVALID;
        }
        for (size_t i = 0; i < n; i++)
            if (!(is_alpha(v[i]) || is_digit(v[i]) || v[i] == ' ' || v[i] == '.' || v[i] == '-')) {
                snprintf(msg, msgsz, "%s may hold only letters, digits, spaces, '.' and '-'", name);
                return PATRON_E_INVALID;
            }
        break;
    case PK_COUNTRY:
        if (n == 2 && cbufsz > 2) {
            cbuf[0] = up(v[0]);
            cbuf[1] = up(v[1]);
            cbuf[2] = '\0';
            if (patron__country_known(cbuf)) {
                *canon = cbuf;
                break;
            }
        }
        snprintf(msg, msgsz, "%s must be a known ISO 3166-1 alpha-2 code such as DE, AT or CH", name);
        return PATRON_E_INVALID;
    case PK_BILLING:
        if (strcmp(v, "private") != 0 && strcmp(v, "company") != 0) {
            snprintf(msg, msgsz, "%s must be \"private\" or \"company\"", name);
            return PATRON_E_INVALID;
        }
        break;
    case PK_SOURCE:
        if (strcmp(v, "shop") != 0 && strcmp(v, "import") != 0 && strcmp(v, "admin") != 0) {
            snprintf(msg, msgsz, "%s must be \"shop\", \"import\" or \"admin\"", name);
            return PATRON_E_INVALID;
        }
        break;
    case PK_TEXT:
    case PK_MULTILINE:
    case PK_OPAQUE:
    case PK_SYSTEM:
        break;
    }
    return PATRON_OK;
}
