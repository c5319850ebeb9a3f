/* Checks shared by the fuzz targets: records compared by their packed
 * bytes, JSON that is well-formed and valid UTF-8. */
#ifndef PATRON_FUZZ_CHECK_H
#define PATRON_FUZZ_CHECK_H

#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "jsoncheck.h"

typedef struct fz_blob {
    char *p;
    size_t n;
} fz_blob;

static inline fz_blob fz_pack(const patron_customer *c)
{
    fz_blob b = { NULL, 0 };
    FZ_OK(patron_record_pack(&b.p, &b.n, c));
    FZ_CHECK(b.p && b.p[b.n] == '\0', "a packed record is NUL-terminated");
    return b;
}

static inline bool fz_blob_eq(fz_blob a, fz_blob b)
{
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static inline bool fz_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, n, min, cp;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 1, min = 0x80, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 2, min = 0x800, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 3, min = 0x10000, cp = c & 0x07;
        else
            return false;
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}

/* The record's JSON, both layouts: well-formed, UTF-8, no password hash
 * field.  Returns the one-line text (free with patron_free()). */
static inline char *fz_json(const patron_customer *c)
{
    char *one = NULL, *pretty = NULL;
    FZ_OK(patron_customer_to_json(c, &one, 0));
    FZ_OK(patron_customer_to_json(c, &pretty, PATRON_JSON_PRETTY));
    FZ_CHECK(json_valid(one), "customer JSON is well-formed: %s", one);
    FZ_CHECK(json_valid(pretty), "pretty customer JSON is well-formed: %s", pretty);
    FZ_CHECK(fz_utf8(one), "customer JSON is UTF-8");
    FZ_CHECK((!strstr(one, "{\"login_hash\"") && !strstr(one, ",\"login_hash\"")) ||
                 (patron_customer_tag_count(c) + patron_customer_prop_count(c)) > 0,
             "no password hash in JSON: %s", one);
    if (patron_customer_tag_count(c) + patron_customer_prop_count(c) > 0) {
        /* a tag or a property key may be "login_hash": look without them */
        patron_customer *k = NULL;
        char *j = NULL;
        FZ_OK(patron_customer_clone(c, &k));
        while (patron_customer_tag_count(k))
            FZ_OK(patron_customer_tag_remove(k, patron_customer_tag_get(k, 0)));
        while (patron_customer_prop_count(k)) {
            const char *key = NULL;
            FZ_OK(patron_customer_prop_at(k, &key, NULL, 0));
            FZ_OK(patron_customer_prop_set(k, key, NULL));
        }
        FZ_OK(patron_customer_to_json(k, &j, 0));
        FZ_CHECK(!strstr(j, "{\"login_hash\"") && !strstr(j, ",\"login_hash\""), "no password hash in JSON: %s",
                 j);
        patron_free(j);
        patron_customer_free(k);
    }
    FZ_CHECK(!patron_customer_get(c, PATRON_F_LOGIN_HASH) || strstr(one, "\"has_password\":true"),
             "a record with a password says has_password: %s", one);
    patron_free(pretty);
    return one;
}

#endif
