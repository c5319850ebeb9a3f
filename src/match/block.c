/*
 * Blocking keys: candidates for a record are the records that share a key.
 *
 * SPDX-License-Identifier: MIT
 */
#include "match.h"

#include <string.h>

/* "a|b|c|d" (NULL parts end the list) into out (PATRON__MATCH_KEY_MAX
 * bytes), each part cut to the room left; returns its length, 0 (and "")
 * when any part is empty. */
static size_t join_parts(char *out, const char *p0, const char *p1, const char *p2, const char *p3)
{
    const char *parts[4];
    size_t i, k = 0, np = 0;

    out[0] = '\0';
    parts[np++] = p0;
    if (p1)
        parts[np++] = p1;
    if (p2)
        parts[np++] = p2;
    if (p3)
        parts[np++] = p3;
    for (i = 0; i < np; i++)
        if (!parts[i] || !parts[i][0])
            return 0;
    for (i = 0; i < np; i++) {
        size_t l = strlen(parts[i]);
        if (i > 0 && k < PATRON__MATCH_KEY_MAX - 1)
            out[k++] = '|';
        if (l > PATRON__MATCH_KEY_MAX - 1 - k)
            l = PATRON__MATCH_KEY_MAX - 1 - k;
        memcpy(out + k, parts[i], l);
        k += l;
    }
    out[k] = '\0';
    return k;
}

/* Append "a|b|c|d" (NULL parts end the list) as a key of `kind`; skipped
 * when any part is empty, or when one of keys[from..n) is the same key
 * (the caller knows no earlier key can be of `kind`). */
static size_t add_key(patron__match_key *keys, size_t n, size_t cap, size_t from, int kind,
                      const char *p0, const char *p1, const char *p2, const char *p3)
{
    patron__match_key *key;
    size_t i, k;

    if (n >= cap)
        return n;
    key = &keys[n];
    k = join_parts(key->value, p0, p1, p2, p3);
    if (!k)
        return n;
    key->kind = kind;
    key->len = (unsigned)k;
    /* no duplicates (several addresses in one postal code) */
    for (i = from; i < n; i++)
        if (keys[i].kind == kind && keys[i].len == k && memcmp(keys[i].value, key->value, k) == 0)
            return n;
    return n + 1;
}

size_t patron__match_keys(patron__match_key *keys, size_t cap, const patron__match_rec *r,
                          const patron__match_config *cfg)
{
    size_t n = 0, i, nb, na0;
    char initial[2] = {0, 0}, birth[12];

    n = add_key(keys, n, cap, n, PATRON__KEY_EMAIL, r->email, NULL, NULL, NULL);
    if (cfg && cfg->mode == PATRON__MATCH_MODE_EMAIL)
        return n;
    /* identifiers: slot 0 the VAT ID (stored with every record), the
     * declared ones where the record was normalised with them (the batch) */
    for (i = 0; i < r->n_ident; i++) {
        char slot[4] = { (char)('0' + (int)i), 0, 0, 0 };
        n = add_key(keys, n, cap, n, PATRON__KEY_IDENT, slot, r->ident[i], NULL, NULL);
    }
    n = add_key(keys, n, cap, n, PATRON__KEY_PHONE, r->phone, NULL, NULL, NULL);
    initial[0] = r->first[0];
    birth[0] = '\0';
    if (r->birth) {
        uint32_t d = r->birth;
        int k;
        for (k = 7; k >= 0; k--) {
            birth[k] = (char)('0' + d % 10);
            d /= 10;
        }
        birth[8] = '\0';
    }
    /* kinds are told apart before values: only keys of the same kind can
     * repeat one (the identifiers differ in their slot) */
    nb = n;
    n = add_key(keys, n, cap, nb, PATRON__KEY_NAME_BIRTH, r->last_kp, birth, NULL, NULL);
    /* one kind for both names: swapped first and last names still meet */
    n = add_key(keys, n, cap, nb, PATRON__KEY_NAME_BIRTH, r->first_kp, birth, NULL, NULL);
    na0 = n;
    for (i = 0; i < r->n_addr; i++) {
        const patron__match_addr *a = &r->addr[i];
        const char *k1 = r->first_kp, *k2 = r->last_kp;
        /* one key of each kind per address: the first cannot repeat one */
        size_t from = i == 0 ? (size_t)-1 : na0;
        if (strcmp(k1, k2) > 0) {
            k1 = r->last_kp;
            k2 = r->first_kp;
        }
        n = add_key(keys, n, cap, from, PATRON__KEY_ADDRESS, a->postal, a->street, a->number, NULL);
        n = add_key(keys, n, cap, from, PATRON__KEY_BIRTH_POSTAL, birth, a->postal, NULL, NULL);
        n = add_key(keys, n, cap, from, PATRON__KEY_NUMBER_INITIAL, a->postal, a->number, initial,
                    NULL);
        n = add_key(keys, n, cap, from, PATRON__KEY_NAMES_CITY, k1, k2, a->city, NULL);
        n = add_key(keys, n, cap, from, PATRON__KEY_BIRTH_CITY, birth, a->city, NULL, NULL);
        n = add_key(keys, n, cap, from, PATRON__KEY_ADDITION, a->addition, a->number, NULL, NULL);
        n = add_key(keys, n, cap, from, PATRON__KEY_NAME_STREET, r->last_kp, initial, a->street,
                    NULL);
        n = add_key(keys, n, cap, from, PATRON__KEY_NAME_NUMBER, r->last_kp, initial, a->number,
                    NULL);
        n = add_key(keys, n, cap, from, PATRON__KEY_NUMBER_NAME, a->postal, a->number, r->last_kp,
                    NULL);
        n = add_key(keys, n, cap, from, PATRON__KEY_ADDITION_POSTAL, a->addition, a->postal, NULL,
                    NULL);
        n = add_key(keys, n, cap, from, PATRON__KEY_FIRST_STREET, r->first_kp, a->street, a->city,
                    NULL);
    }
    return n;
}

size_t patron__match_rare_street_keys(patron__match_key *keys, size_t cap, const patron__match_rec *r,
                                      const patron__match_config *cfg)
{
    size_t n = 0;

    if (cfg && cfg->mode == PATRON__MATCH_MODE_EMAIL)
        return 0;
    for (size_t i = 0; i < r->n_addr && i < PATRON__MATCH_RARE_STREETS; i++)
        n = add_key(keys, n, cap, 0, PATRON__KEY_RARE_STREET, r->addr[i].postal, r->addr[i].street, NULL,
                    NULL);
    return n;
}

size_t patron__match_rare_keys(patron__match_key *keys, size_t cap, const patron__match_rec *r,
                               const patron__match_config *cfg)
{
    size_t n = 0;

    if (cfg && cfg->mode == PATRON__MATCH_MODE_EMAIL)
        return 0;
    if (!r->first_initials && r->first_len >= 2 && r->last_len >= 2)
        n = add_key(keys, n, cap, 0, PATRON__KEY_RARE_NAME, r->first, r->last, NULL, NULL);
    return n + patron__match_rare_street_keys(keys + n, cap - n, r, cfg);
}

/* ---- term-frequency keys (issue 11) ---------------------------------------------- */

int patron__match_tf_kind(int field)
{
    switch (field) {
    case PATRON__MF_FIRST:
        return PATRON__KEY_TF_FIRST;
    case PATRON__MF_LAST:
        return PATRON__KEY_TF_LAST;
    case PATRON__MF_COMPANY:
        return PATRON__KEY_TF_COMPANY;
    case PATRON__MF_EMAIL:
        return PATRON__KEY_EMAIL;
    case PATRON__MF_PHONE:
        return PATRON__KEY_PHONE;
    case PATRON__MF_STREET:
        return PATRON__KEY_ADDRESS;
    case PATRON__TF_FULL_NAME:
        return PATRON__KEY_RARE_NAME;
    default:
        return 0;
    }
}

size_t patron__match_tf_value(char *out, int field, const patron__match_rec *r, int addr)
{
    const char *v = NULL;

    out[0] = '\0';
    switch (field) {
    case PATRON__MF_FIRST:
        v = r->first;
        break;
    case PATRON__MF_LAST:
        v = r->last;
        break;
    case PATRON__MF_COMPANY:
        v = r->company;
        break;
    case PATRON__MF_EMAIL:
        v = r->email;
        break;
    case PATRON__MF_PHONE:
        v = r->phone;
        break;
    case PATRON__TF_FULL_NAME:
        if (r->first_initials)
            return 0;
        return join_parts(out, r->first, r->last, NULL, NULL);
    case PATRON__MF_STREET:
        if (addr < 0 || (size_t)addr >= r->n_addr)
            return 0;
        /* the same value as the address blocking key */
        return join_parts(out, r->addr[addr].postal, r->addr[addr].street, r->addr[addr].number, NULL);
    default:
        return 0;
    }
    return join_parts(out, v, NULL, NULL, NULL);
}

size_t patron__match_tf_keys(patron__match_key *keys, size_t cap, const patron__match_rec *r)
{
    size_t n = 0;

    n = add_key(keys, n, cap, n, PATRON__KEY_TF_ALL, "*", NULL, NULL, NULL);
    n = add_key(keys, n, cap, n, PATRON__KEY_TF_FIRST, r->first, NULL, NULL, NULL);
    n = add_key(keys, n, cap, n, PATRON__KEY_TF_LAST, r->last, NULL, NULL, NULL);
    n = add_key(keys, n, cap, n, PATRON__KEY_TF_COMPANY, r->company, NULL, NULL, NULL);
    if (!r->first_initials)
        n = add_key(keys, n, cap, n, PATRON__KEY_RARE_NAME, r->first, r->last, NULL, NULL);
    return n;
}
