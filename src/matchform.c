/* patron — a record as the matcher and the store's index see it: its
 * normalised form, its index keys, and the match form (the normalised form
 * as bytes a store keeps).  SPDX-License-Identifier: MIT
 *
 * Match form layout (version 4; every number little-endian):
 *   0  'm', 4 (format version)
 *   2  default country of the normalisation, 2 letters
 *   4  state (patron_state), 1 byte
 *   5  number of addresses, u16
 *   7  flags: 1 first name is initials, 2 first name is a known given name
 *   8  birth date YYYYMMDD, u32
 *  12  strings, each as its length (u16), its bytes and a NUL:
 *      Kölner code of the first name, of the last name;
 *      first, last, company, email, phone;
 *      per address: street, number, addition, postal code, city, country;
 *      the VAT ID (identifier slot 0; "" when none)
 * and nothing after.  Bytes read back from a store are checked before use,
 * once per record: every string's length is within its limit, its bytes
 * and its NUL lie inside the buffer, and the byte after it is a NUL.  The
 * stated lengths are what the matcher uses, so no string is measured again;
 * a NUL inside a string (only in bytes we did not write) could make a C
 * string function see it shorter, never read past it.  (Version 3 had the
 * same layout, with a national phone number read in the store's default
 * country's plan whatever the address said; versions 1 and 2
 * had no lengths: every string was searched for its NUL on every view;
 * version 1 had no VAT ID.) */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *prop_of(const patron_customer *c, const char *key)
{
    for (size_t i = 0; i < c->n_props; i++)
        if (strcmp(c->prop_k[i], key) == 0)
            return c->prop_v[i];
    return NULL;
}

static int cust_match_rec(patron__match_rec *out, const patron_customer *c, const char *default_country,
                          const patron__match_config *cfg);

int patron__cust_match_rec(patron__match_rec *out, const patron_customer *c, const char *default_country)
{
    return cust_match_rec(out, c, default_country, NULL);
}

int patron__cust_match_rec_cfg(patron__match_rec *out, const patron_customer *c, const patron__match_config *cfg)
{
    return cust_match_rec(out, c, cfg->default_country, cfg);
}

static int cust_match_rec(patron__match_rec *out, const patron_customer *c, const char *default_country,
                          const patron__match_config *cfg)
{
    patron__match_raw raw;
    patron__match_raw_addr small[4], *addr = small;
    int rc;
    memset(&raw, 0, sizeof raw);
    raw.first_name = c->f[PATRON_F_FIRST_NAME];
    raw.last_name = c->f[PATRON_F_LAST_NAME];
    raw.company = c->f[PATRON_F_COMPANY];
    raw.email = c->f[PATRON_F_EMAIL];
    raw.phone = c->f[PATRON_F_PHONE] ? c->f[PATRON_F_PHONE] : c->f[PATRON_F_MOBILE];
    raw.birth_date = c->f[PATRON_F_BIRTH_DATE];
    if (c->n_addr > sizeof small / sizeof small[0]) {
        addr = patron__calloc(c->n_addr, sizeof *addr);
        if (!addr)
            return -1;
    }
    for (size_t i = 0; i < c->n_addr; i++) {
        const patron__address *a = &c->addr[i];
        addr[i].street = a->f[PATRON_A_STREET];
        addr[i].house_number = a->f[PATRON_A_HOUSE_NUMBER];
        addr[i].addition = a->f[PATRON_A_ADDITION];
        addr[i].postal_code = a->f[PATRON_A_POSTAL_CODE];
        addr[i].city = a->f[PATRON_A_CITY];
        addr[i].country = a->f[PATRON_A_COUNTRY];
        if (!raw.phone && a->f[PATRON_A_PHONE])
            raw.phone = a->f[PATRON_A_PHONE];
    }
    raw.addr = addr;
    raw.n_addr = c->n_addr;
    /* identifiers: slot 0 the VAT ID of a company customer, then the
     * custom properties the configuration declares */
    {
        const char *b2b = c->f[PATRON_F_B2B];
        bool company = (b2b && strcmp(b2b, "1") == 0) || (c->f[PATRON_F_COMPANY] && c->f[PATRON_F_COMPANY][0]);
        raw.ident[0] = company ? c->f[PATRON_F_VAT_ID] : NULL;
        raw.n_ident = 1;
        for (size_t i = 0; cfg && i < cfg->n_ident && raw.n_ident < PATRON__MATCH_IDENT_MAX; i++)
            raw.ident[raw.n_ident++] = prop_of(c, cfg->ident[i]);
    }
    rc = patron__match_normalize(out, &raw, default_country);
    if (addr != small)
        patron__free(addr);
    return rc;
}

int patron__values_match_rec(patron__match_rec *out, const char *const *f, const char *const *a,
                             const char *const *prop_k, const char *const *prop_v, size_t n_props,
                             const patron__match_config *cfg, patron__match_pool *pool)
{
    patron__match_raw raw;
    patron__match_raw_addr addr;
    memset(&raw, 0, sizeof raw);
    /* as cust_match_rec reads a customer */
    raw.first_name = f[PATRON_F_FIRST_NAME];
    raw.last_name = f[PATRON_F_LAST_NAME];
    raw.company = f[PATRON_F_COMPANY];
    raw.email = f[PATRON_F_EMAIL];
    raw.phone = f[PATRON_F_PHONE] ? f[PATRON_F_PHONE] : f[PATRON_F_MOBILE];
    raw.birth_date = f[PATRON_F_BIRTH_DATE];
    if (a) {
        addr.street = a[PATRON_A_STREET];
        addr.house_number = a[PATRON_A_HOUSE_NUMBER];
        addr.addition = a[PATRON_A_ADDITION];
        addr.postal_code = a[PATRON_A_POSTAL_CODE];
        addr.city = a[PATRON_A_CITY];
        addr.country = a[PATRON_A_COUNTRY];
        if (!raw.phone && a[PATRON_A_PHONE])
            raw.phone = a[PATRON_A_PHONE];
        raw.addr = &addr;
        raw.n_addr = 1;
    }
    {
        const char *b2b = f[PATRON_F_B2B];
        bool company = (b2b && strcmp(b2b, "1") == 0) || (f[PATRON_F_COMPANY] && f[PATRON_F_COMPANY][0]);
        raw.ident[0] = company ? f[PATRON_F_VAT_ID] : NULL;
        raw.n_ident = 1;
        for (size_t i = 0; cfg && i < cfg->n_ident && raw.n_ident < PATRON__MATCH_IDENT_MAX; i++) {
            const char *v = NULL;
            for (size_t k = 0; k < n_props && !v; k++)
                if (strcmp(prop_k[k], cfg->ident[i]) == 0)
                    v = prop_v[k];
            raw.ident[raw.n_ident++] = v;
        }
    }
    return patron__match_normalize_pool(out, &raw, cfg ? cfg->default_country : NULL, pool);
}

void patron__keys_free(keyset *ks)
{
    for (size_t i = 0; i < ks->n_owned; i++)
        patron__free(ks->owned[i]);
    patron__free(ks->form);
    PATRON__KEYSET_INIT(ks);
}

/* The external key: source, 0x1F, id; just the id when there is no source. */
static char *external_key(const char *source, const char *id)
{
    size_t sn, in;
    char *k;
    if (!id)
        return NULL;
    if (!source || !*source)
        return patron__strdup(id);
    sn = strlen(source);
    in = strlen(id);
    k = patron__malloc(sn + in + 2);
    if (!k)
        return NULL;
    memcpy(k, source, sn);
    k[sn] = '\x1f';
    memcpy(k + sn + 1, id, in + 1);
    return k;
}

patron_status patron__keys_build(keyset *ks, const patron_customer *c, bool alias_only, const char *country,
                                 bool want_form)
{
    const char *num = c->f[PATRON_F_NUMBER], *email = c->f[PATRON_F_EMAIL],
               *login = c->f[PATRON_F_LOGIN_USER];
    PATRON__KEYSET_INIT(ks);
    if (num) {
        ks->k[ks->n].kind = PATRON_KEY_NUMBER;
        ks->k[ks->n++].value = num;
    }
    if (c->f[PATRON_F_EXTERNAL_ID]) {
        char *x = external_key(c->f[PATRON_F_EXTERNAL_SOURCE], c->f[PATRON_F_EXTERNAL_ID]);
        if (!x)
            return PATRON_E_NOMEM;
        ks->owned[ks->n_owned++] = x;
        ks->k[ks->n].kind = PATRON_KEY_EXTERNAL;
        ks->k[ks->n++].value = x;
    }
    if (email) {
        char *e = patron__ascii_lower_trim(email);
        if (!e) {
            patron__keys_free(ks);
            return PATRON_E_NOMEM;
        }
        ks->owned[ks->n_owned++] = e;
        ks->k[ks->n].kind = PATRON_KEY_EMAIL;
        ks->k[ks->n++].value = e;
    }
    /* A merged-away record keeps number, external reference and email as
     * aliases that lead to its survivor; its login moved, and it is no
     * candidate for matching: its form says only that it is merged. */
    if (alias_only) {
        if (want_form) {
            patron__match_rec empty;
            memset(&empty, 0, sizeof empty);
            empty.first = empty.last = empty.company = empty.email = empty.phone = "";
            if (!(ks->form = patron__form_pack(&empty, patron_customer_state(c), country, &ks->form_len))) {
                patron__keys_free(ks);
                return PATRON_E_NOMEM;
            }
        }
        return PATRON_OK;
    }
    if (login) {
        ks->k[ks->n].kind = PATRON_KEY_LOGIN;
        ks->k[ks->n++].value = login;
    }
    /* The matcher's blocking keys: candidates are found through the index. */
    {
        patron__match_rec r;
        size_t nk;
        if (patron__cust_match_rec(&r, c, country) != 0) {
            patron__keys_free(ks);
            return PATRON_E_NOMEM;
        }
        nk = patron__match_keys(ks->mk, PATRON__MATCH_KEYS_MAX, &r, NULL);
        /* and the values whose frequency weighs an agreement (counted, never
         * looked up for candidates; issue 11) */
        nk += patron__match_tf_keys(ks->mk + nk, PATRON__MATCH_TF_KEYS_MAX, &r);
        /* and the rare streets (looked up only while few customers hold one) */
        nk += patron__match_rare_street_keys(ks->mk + nk, PATRON__MATCH_RARE_STREETS, &r, NULL);
        if (want_form && !(ks->form = patron__form_pack(&r, patron_customer_state(c), country, &ks->form_len))) {
            patron__match_rec_free(&r);
            patron__keys_free(ks);
            return PATRON_E_NOMEM;
        }
        patron__match_rec_free(&r);
        for (size_t i = 0; i < nk && ks->n < PATRON__MAX_KEYS; i++) {
            ks->k[ks->n].kind = ks->mk[i].kind;
            ks->k[ks->n++].value = ks->mk[i].value;
        }
    }
    return PATRON_OK;
}

bool patron__keys_set_number(keyset *ks, const char *number)
{
    if (ks->n && ks->k[0].kind == PATRON_KEY_NUMBER) {
        ks->k[0].value = number;
        return true;
    }
    if (ks->n == PATRON__MAX_KEYS)
        return false;
    memmove(&ks->k[1], &ks->k[0], ks->n * sizeof ks->k[0]);
    ks->k[0].kind = PATRON_KEY_NUMBER;
    ks->k[0].value = number;
    ks->n++;
    return true;
}

/* ---- the match form -------------------------------------------------------- */

#define FORM_HEAD 12
#define FORM_VERSION 4 /* 4: phones in the dialling plan of the first address's country (layout
                          * of 3); 3: lengths; 2: the VAT ID after the addresses */

/* A string as length (u16, saturated: a longer one makes a form that the
 * view refuses), bytes, NUL. */
static void put_s(patron_strbuf *sb, const char *s)
{
    size_t n = strlen(s);
    unsigned char l[2];
    l[0] = (unsigned char)(n > 0xFFFF ? 0xFF : n & 0xFF);
    l[1] = (unsigned char)(n > 0xFFFF ? 0xFF : n >> 8);
    patron__sb_putn(sb, (const char *)l, 2);
    patron__sb_putn(sb, s, n + 1);
}

char *patron__form_pack(const patron__match_rec *r, int state, const char *country, size_t *len_out)
{
    patron_strbuf sb;
    unsigned char head[FORM_HEAD];
    size_t na = r->n_addr > 0xFFFF ? 0xFFFF : r->n_addr;
    head[0] = 'm';
    head[1] = FORM_VERSION;
    head[2] = (unsigned char)country[0];
    head[3] = (unsigned char)country[1];
    head[4] = (unsigned char)state;
    head[5] = (unsigned char)(na & 0xFF);
    head[6] = (unsigned char)(na >> 8);
    head[7] = (unsigned char)((r->first_initials ? 1 : 0) | (r->first_known ? 2 : 0));
    for (int i = 0; i < 4; i++)
        head[8 + i] = (unsigned char)(r->birth >> (8 * i));
    patron__sb_init(&sb);
    patron__sb_putn(&sb, (const char *)head, sizeof head);
    put_s(&sb, r->first_kp);
    put_s(&sb, r->last_kp);
    put_s(&sb, r->first);
    put_s(&sb, r->last);
    put_s(&sb, r->company);
    put_s(&sb, r->email);
    put_s(&sb, r->phone);
    for (size_t i = 0; i < na; i++) {
        const patron__match_addr *a = &r->addr[i];
        put_s(&sb, a->street);
        put_s(&sb, a->number);
        put_s(&sb, a->addition);
        put_s(&sb, a->postal);
        put_s(&sb, a->city);
        put_s(&sb, a->country);
    }
    put_s(&sb, r->n_ident ? r->ident[0] : "");
    if (sb.oom) {
        patron__sb_free(&sb);
        return NULL;
    }
    *len_out = sb.len;
    return sb.buf;
}

/* The string at *p of at most `max` bytes; NULL if it is longer, or it or
 * its NUL does not fit before `end`.  Constant work, whatever the string. */
static inline const char *take(const unsigned char **p, const unsigned char *end, size_t max, uint16_t *len)
{
    const unsigned char *s = *p;
    size_t l;
    if (end - s < 3)
        return NULL;
    l = (size_t)s[0] | (size_t)s[1] << 8;
    if (l > max || (size_t)(end - s) - 3 < l || s[2 + l] != '\0')
        return NULL;
    *len = (uint16_t)l;
    *p = s + 3 + l;
    return (const char *)s + 2;
}

long patron__form_view(patron__match_rec *out, patron__match_addr *addr, size_t cap, int *state,
                       const void *form, size_t len, const char *country)
{
    const unsigned char *h = form, *p, *end;
    const char *kp1, *kp2;
    size_t na;
    uint16_t l1, l2, li;
    if (!form || len < FORM_HEAD || h[0] != 'm' || h[1] != FORM_VERSION || h[2] != (unsigned char)country[0] ||
        h[3] != (unsigned char)country[1] || h[4] < PATRON_STATE_PENDING || h[4] > PATRON_STATE_MERGED)
        return -1;
    na = (size_t)h[5] | (size_t)h[6] << 8;
    if (na > cap)
        return (long)na;
    p = h + FORM_HEAD;
    end = h + len;
    memset(out, 0, sizeof *out);
    if (!(kp1 = take(&p, end, PATRON__MATCH_CODE_MAX - 1, &l1)) ||
        !(kp2 = take(&p, end, PATRON__MATCH_CODE_MAX - 1, &l2)) ||
        !(out->first = take(&p, end, PATRON__MATCH_FIELD_MAX, &out->first_len)) ||
        !(out->last = take(&p, end, PATRON__MATCH_FIELD_MAX, &out->last_len)) ||
        !(out->company = take(&p, end, PATRON__MATCH_FIELD_MAX, &out->company_len)) ||
        !(out->email = take(&p, end, PATRON__MATCH_FIELD_MAX, &out->email_len)) ||
        !(out->phone = take(&p, end, PATRON__MATCH_FIELD_MAX, &out->phone_len)))
        return -1;
    for (size_t i = 0; i < na; i++) {
        patron__match_addr *a = &addr[i];
        const char *c;
        uint16_t l;
        if (!(a->street = take(&p, end, PATRON__MATCH_FIELD_MAX, &a->street_len)) ||
            !(a->number = take(&p, end, PATRON__MATCH_FIELD_MAX, &a->number_len)) ||
            !(a->addition = take(&p, end, PATRON__MATCH_FIELD_MAX, &a->addition_len)) ||
            !(a->postal = take(&p, end, PATRON__MATCH_FIELD_MAX, &a->postal_len)) ||
            !(a->city = take(&p, end, PATRON__MATCH_FIELD_MAX, &a->city_len)) ||
            !(c = take(&p, end, sizeof a->country - 1, &l)))
            return -1;
        memset(a->country, 0, sizeof a->country); /* l <= 3: the bytes, then NULs */
        for (uint16_t k = 0; k < l; k++)
            a->country[k] = c[k];
    }
    if (!(out->ident[0] = take(&p, end, PATRON__MATCH_FIELD_MAX, &li)))
        return -1;
    out->n_ident = 1;
    if (p != end)
        return -1;
    memcpy(out->first_kp, kp1, (size_t)l1 + 1);
    memcpy(out->last_kp, kp2, (size_t)l2 + 1);
    out->first_initials = (uint8_t)(h[7] & 1);
    out->first_known = (uint8_t)((h[7] >> 1) & 1);
    out->birth = (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24;
    out->n_addr = na;
    out->addr = na ? addr : NULL;
    *state = h[4];
    return (long)na;
}
