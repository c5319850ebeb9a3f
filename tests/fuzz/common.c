/* Helpers of the fuzz targets: see fuzz.h. */
#include "fuzz.h"

#include <stdbool.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void fz_init(fz_in *in, const uint8_t *data, size_t size)
{
    in->p = data;
    in->end = data + size;
}

size_t fz_left(const fz_in *in)
{
    return (size_t)(in->end - in->p);
}

unsigned fz_u8(fz_in *in)
{
    return in->p < in->end ? *in->p++ : 0u;
}

unsigned fz_pick(fz_in *in, unsigned n)
{
    return n ? fz_u8(in) % n : 0u;
}

const char *fz_str(fz_in *in, char *buf, size_t max)
{
    size_t n = fz_u8(in), i;
    if (n > max)
        n %= max + 1;
    if (n > fz_left(in))
        n = fz_left(in);
    for (i = 0; i < n && in->p[i]; i++)
        buf[i] = (char)in->p[i];
    buf[i] = '\0';
    in->p += n;
    return buf;
}

const char *fz_word(fz_in *in, const char *const *dict, size_t n, char *buf, size_t max)
{
    unsigned k = fz_u8(in);
    if (k < n)
        return dict[k];
    if (k < 200)
        return NULL;
    return fz_str(in, buf, max);
}

/* ---- customers --------------------------------------------------------- */

static const char *const FIRST[] = { "Anna", "Anne", "Max", "M.", "Maximilian", "Jürgen", "Juergen",
                                     "Hans-Peter", "Hans", "Sophie", "Zoë", "Ömer" };
static const char *const LAST[] = { "Müller", "Mueller", "Muller", "Schmidt", "Schmitt", "Meyer",
                                    "Maier", "Weiß", "Weiss", "van der Berg", "Özdemir" };
static const char *const EMAIL[] = { "anna@example.de", "Anna@Example.DE", "a.nna+shop@gmail.com",
                                     "anna@googlemail.com", "info@firma.de", "max@example.de",
                                     "m.mueller@web.de", "juergen@example.org" };
static const char *const PHONE[] = { "030 1234567", "+49 30 1234567", "0176 1234567", "089/12345",
                                     "+43 1 234567" };
static const char *const BIRTH[] = { "1980-12-24", "1980-12-25", "1975-01-01", "2000-02-29" };
static const char *const COMPANY[] = { "Firma GmbH", "Firma", "Müller & Söhne KG" };
static const char *const VAT[] = { "DE123456789", "ATU12345678", "DE999999999" };
static const char *const STREET[] = { "Hauptstraße", "Hauptstr.", "Hauptstrasse", "Bahnhofstr",
                                      "Packstation", "Am Markt" };
static const char *const HOUSE[] = { "1", "12", "12a", "12 a", "12-14", "3/1" };
static const char *const PLZ[] = { "10115", "10117", "80331", "1010", "8001" };
static const char *const CITY[] = { "Berlin", "München", "Muenchen", "Wien", "Zürich" };
static const char *const COUNTRY[] = { "DE", "AT", "CH", "de", "FR" };
static const char *const TAG[] = { "vip", "b2b", "newsletter", "Stammkunde" };
static const char *const PROPKEY[] = { "card", "erp_id", "loyalty.level" };

static void set(fz_in *in, patron_customer *c, int field, const char *const *dict, size_t n)
{
    char buf[65];
    const char *v = fz_word(in, dict, n, buf, 64);
    if (v)
        (void)patron_customer_set(c, field, v); /* a value refused stays unset */
}

static void set_addr(fz_in *in, patron_customer *c, size_t i, int field, const char *const *dict,
                     size_t n)
{
    char buf[65];
    const char *v = fz_word(in, dict, n, buf, 64);
    if (v)
        (void)patron_customer_address_set(c, i, field, v);
}

patron_customer *fz_customer(fz_in *in)
{
    patron_customer *c = NULL;
    unsigned what;
    FZ_OK(patron_customer_new(&c));
    set(in, c, PATRON_F_FIRST_NAME, FIRST, ARRAY_LEN(FIRST));
    set(in, c, PATRON_F_LAST_NAME, LAST, ARRAY_LEN(LAST));
    set(in, c, PATRON_F_EMAIL, EMAIL, ARRAY_LEN(EMAIL));
    what = fz_u8(in); /* which of the rarer parts the customer has */
    if (what & 1)
        set(in, c, PATRON_F_PHONE, PHONE, ARRAY_LEN(PHONE));
    if (what & 2)
        set(in, c, PATRON_F_BIRTH_DATE, BIRTH, ARRAY_LEN(BIRTH));
    if (what & 4) {
        set(in, c, PATRON_F_COMPANY, COMPANY, ARRAY_LEN(COMPANY));
        set(in, c, PATRON_F_VAT_ID, VAT, ARRAY_LEN(VAT));
        (void)patron_customer_set(c, PATRON_F_B2B, (what & 8) ? "1" : "0");
    }
    if (what & 16) {
        char buf[65];
        (void)patron_customer_tag_add(c, fz_word(in, TAG, ARRAY_LEN(TAG), buf, 32));
        (void)patron_customer_prop_set(c, PROPKEY[fz_pick(in, ARRAY_LEN(PROPKEY))],
                                       fz_str(in, buf, 16));
    }
    if (what & 32) {
        char buf[65];
        (void)patron_customer_set(c, PATRON_F_NOTES, fz_str(in, buf, 64));
        (void)patron_customer_set(c, PATRON_F_LOGIN_USER, fz_str(in, buf, 16));
        (void)patron_customer_set(c, PATRON_F_LOGIN_HASH, "$2y$10$fuzzfuzzfuzzfuzzfuzzfu");
    }
    for (unsigned a = 0, n = (what >> 6) & 3; a < n && a < 2; a++) {
        size_t i;
        FZ_OK(patron_customer_address_add(c, &i));
        set_addr(in, c, i, PATRON_A_STREET, STREET, ARRAY_LEN(STREET));
        set_addr(in, c, i, PATRON_A_HOUSE_NUMBER, HOUSE, ARRAY_LEN(HOUSE));
        set_addr(in, c, i, PATRON_A_POSTAL_CODE, PLZ, ARRAY_LEN(PLZ));
        set_addr(in, c, i, PATRON_A_CITY, CITY, ARRAY_LEN(CITY));
        set_addr(in, c, i, PATRON_A_COUNTRY, COUNTRY, ARRAY_LEN(COUNTRY));
        if (a == 0 && (what & 8))
            (void)patron_customer_address_set(c, i, PATRON_A_DEFAULT, "1");
    }
    return c;
}

/* ---- snapshots ---------------------------------------------------------- */

size_t fz_ids(patron_db *db, int64_t *ids, size_t cap)
{
    size_t n = 0, got = 0;
    int64_t after = 0;
    do {
        FZ_OK(patron_db_list(db, ids + n, &got, cap - n, NULL, after));
        n += got;
        if (got)
            after = ids[n - 1];
    } while (got && n < cap);
    return n;
}

static void append(char **s, size_t *len, const char *t)
{
    size_t n = strlen(t);
    char *r = realloc(*s, *len + n + 1);
    FZ_CHECK(r != NULL, "out of memory");
    memcpy(r + *len, t, n + 1);
    *s = r;
    *len += n;
}

static void append_lookup(char **s, size_t *len, patron_db *db, patron_key_kind kind, const char *key)
{
    int64_t found[16];
    size_t n = 0;
    char line[64];
    if (!key)
        return;
    FZ_OK(patron_db_lookup(db, found, &n, 16, kind, key));
    snprintf(line, sizeof line, "key %d:", (int)kind);
    append(s, len, line);
    append(s, len, key);
    for (size_t i = 0; i < n && i < 16; i++) {
        snprintf(line, sizeof line, " %lld", (long long)found[i]);
        append(s, len, line);
    }
    append(s, len, "\n");
}

char *fz_snapshot(patron_db *db, patron_memstore *ms, int n_orders, int without_revisions)
{
    int64_t ids[64];
    size_t n = fz_ids(db, ids, 64), len = 0;
    char *s = NULL, line[96];
    append(&s, &len, "");
    for (size_t i = 0; i < n; i++) {
        patron_customer *c = NULL;
        char *json = NULL, ext[160];
        const char *src, *eid;
        FZ_OK(patron_db_load(db, &c, ids[i]));
        if (without_revisions) {
            FZ_OK(patron_record_set(c, PATRON_F_REVISION, NULL));
            FZ_OK(patron_record_set(c, PATRON_F_UPDATED_AT, NULL));
        }
        FZ_OK(patron_customer_to_json(c, &json, 0));
        append(&s, &len, json);
        append(&s, &len, "\n");
        patron_free(json);
        append_lookup(&s, &len, db, PATRON_KEY_NUMBER, patron_customer_get(c, PATRON_F_NUMBER));
        append_lookup(&s, &len, db, PATRON_KEY_EMAIL, patron_customer_get(c, PATRON_F_EMAIL));
        append_lookup(&s, &len, db, PATRON_KEY_LOGIN, patron_customer_get(c, PATRON_F_LOGIN_USER));
        src = patron_customer_get(c, PATRON_F_EXTERNAL_SOURCE);
        eid = patron_customer_get(c, PATRON_F_EXTERNAL_ID);
        if (eid) {
            snprintf(ext, sizeof ext, "%s%s%s", src ? src : "", src ? "\x1f" : "", eid);
            append_lookup(&s, &len, db, PATRON_KEY_EXTERNAL, ext);
        }
        patron_customer_free(c);
    }
    for (int o = 1; o <= n_orders; o++) {
        char ref[24];
        snprintf(ref, sizeof ref, "o%d", o);
        snprintf(line, sizeof line, "order %s: %lld\n", ref,
                 (long long)patron_memstore_ref_owner(ms, "order", ref));
        append(&s, &len, line);
    }
    return s;
}
