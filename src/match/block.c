/*
 * Blocking keys: candidates for a record are the records that share a key.
 *
 * SPDX-License-Identifier: MIT
 */
#include "match.h"

#include <string.h>

/* Part i of a key at o (the key ends at most at `end`, the room of its
 * NUL): "|" before all but the first, the part cut to the room left. */
static inline char *put_part(char *o, char *end, const char *p, size_t l, int first)
{
    if (!first && o < end)
        *o++ = '|';
    if (l > (size_t)(end - o))
        l = (size_t)(end - o);
    patron__match_copy_small(o, p, l);
    return o + l;
}

/* join_parts of a key longer than its room: each part cut to the room
 * left (rare: not inlined into every key as the common case is) */
static size_t join_cut(char *out, size_t np, const char *p0, size_t n0, const char *p1, size_t n1, const char *p2,
                       size_t n2, const char *p3, size_t n3)
{
    char *o = out, *end = out + PATRON__MATCH_KEY_MAX - 1;

    o = put_part(o, end, p0, n0, 1);
    if (np > 1)
        o = put_part(o, end, p1, n1, 0);
    if (np > 2)
        o = put_part(o, end, p2, n2, 0);
    if (np > 3)
        o = put_part(o, end, p3, n3, 0);
    *o = '\0';
    return (size_t)(o - out);
}

/* The next part of a key that has room for all of them: "|" and the part */
static inline char *put_next(char *o, const char *p, size_t l)
{
    *o++ = '|';
    patron__match_copy_small(o, p, l);
    return o + l;
}

/* "a|b|c|d" (the first np parts, each of its length) into out
 * (PATRON__MATCH_KEY_MAX bytes), each part cut to the room left; returns
 * its length, 0 (and "") when any part is empty.  The lengths are the
 * record's own (patron__match_rec keeps them): no part is measured again.
 * np is a constant where it is inlined: the parts are written one after
 * the other, not through arrays of them (a loop over arrays ran 40 %
 * more instructions), and the room is looked at once for the key. */
static inline size_t join_parts(char *out, size_t np, const char *p0, size_t n0, const char *p1, size_t n1,
                                const char *p2, size_t n2, const char *p3, size_t n3)
{
    char *o = out;

    if (!n0 || (np > 1 && !n1) || (np > 2 && !n2) || (np > 3 && !n3)) {
        out[0] = '\0';
        return 0;
    }
    if (n0 + (np > 1 ? n1 + 1 : 0) + (np > 2 ? n2 + 1 : 0) + (np > 3 ? n3 + 1 : 0) >= PATRON__MATCH_KEY_MAX)
        return join_cut(out, np, p0, n0, p1, n1, p2, n2, p3, n3);
    patron__match_copy_small(o, p0, n0);
    o += n0;
    if (np > 1)
        o = put_next(o, p1, n1);
    if (np > 2)
        o = put_next(o, p2, n2);
    if (np > 3)
        o = put_next(o, p3, n3);
    *o = '\0';
    return (size_t)(o - out);
}

/* Append "a|b|c|d" (the first np parts) as a key of `kind`; skipped when
 * any part is empty, or when one of keys[from..n) is the same key (the
 * caller knows no earlier key can be of `kind`). */
static inline size_t add_key(patron__match_key *keys, size_t n, size_t cap, size_t from, int kind, size_t np,
                             const char *p0, size_t n0, const char *p1, size_t n1, const char *p2, size_t n2,
                             const char *p3, size_t n3)
{
    patron__match_key *key;
    size_t i, k;

    if (n >= cap)
        return n;
    key = &keys[n];
    k = join_parts(key->value, np, p0, n0, p1, n1, p2, n2, p3, n3);
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

/* strcmp(a, b) > 0, for the few digits of two Koelner codes without a
 * call */
static inline int after(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a > (unsigned char)*b;
}

#define NP NULL, 0

size_t patron__match_keys(patron__match_key *keys, size_t cap, const patron__match_rec *r,
                          const patron__match_config *cfg)
{
    size_t n = 0, i, nb, na0, lb, li, lf = strlen(r->first_kp), ll = strlen(r->last_kp);
    char initial[2] = {0, 0}, birth[12];

    n = add_key(keys, n, cap, n, PATRON__KEY_EMAIL, 1, r->email, r->email_len, NP, NP, NP);
    if (cfg && cfg->mode == PATRON__MATCH_MODE_EMAIL)
        return n;
    /* identifiers: slot 0 the VAT ID (stored with every record), the
     * declared ones where the record was normalised with them (the batch) */
    for (i = 0; i < r->n_ident; i++) {
        char slot[4] = { (char)('0' + (int)i), 0, 0, 0 };
        /* (most are empty: not measured) */
        n = add_key(keys, n, cap, n, PATRON__KEY_IDENT, 2, slot, 1, r->ident[i],
                    r->ident[i][0] ? strlen(r->ident[i]) : 0, NP, NP);
    }
    n = add_key(keys, n, cap, n, PATRON__KEY_PHONE, 1, r->phone, r->phone_len, NP, NP, NP);
    initial[0] = r->first[0];
    li = initial[0] ? 1 : 0;
    birth[0] = '\0';
    lb = 0;
    if (r->birth) {
        uint32_t d = r->birth;
        int k;
        for (k = 7; k >= 0; k--) {
            birth[k] = (char)('0' + d % 10);
            d /= 10;
        }
        birth[8] = '\0';
        lb = 8;
    }
    /* kinds are told apart before values: only keys of the same kind can
     * repeat one (the identifiers differ in their slot) */
    nb = n;
    n = add_key(keys, n, cap, nb, PATRON__KEY_NAME_BIRTH, 2, r->last_kp, ll, birth, lb, NP, NP);
    /* one kind for both names: swapped first and last names still meet */
    n = add_key(keys, n, cap, nb, PATRON__KEY_NAME_BIRTH, 2, r->first_kp, lf, birth, lb, NP, NP);
    na0 = n;
    for (i = 0; i < r->n_addr; i++) {
        const patron__match_addr *a = &r->addr[i];
        const char *k1 = r->first_kp, *k2 = r->last_kp;
        size_t l1 = lf, l2 = ll;
        /* one key of each kind per address: the first cannot repeat one */
        size_t from = i == 0 ? (size_t)-1 : na0;
        if (after(k1, k2)) {
            k1 = r->last_kp;
            k2 = r->first_kp;
            l1 = ll;
            l2 = lf;
        }
        n = add_key(keys, n, cap, from, PATRON__KEY_ADDRESS, 3, a->postal, a->postal_len, a->street, a->street_len,
                    a->number, a->number_len, NP);
        n = add_key(keys, n, cap, from, PATRON__KEY_BIRTH_POSTAL, 2, birth, lb, a->postal, a->postal_len, NP, NP);
        n = add_key(keys, n, cap, from, PATRON__KEY_NUMBER_INITIAL, 3, a->postal, a->postal_len, a->number,
                    a->number_len, initial, li, NP);
        n = add_key(keys, n, cap, from, PATRON__KEY_NAMES_CITY, 3, k1, l1, k2, l2, a->city, a->city_len, NP);
        n = add_key(keys, n, cap, from, PATRON__KEY_BIRTH_CITY, 2, birth, lb, a->city, a->city_len, NP, NP);
        n = add_key(keys, n, cap, from, PATRON__KEY_ADDITION, 2, a->addition, a->addition_len, a->number,
                    a->number_len, NP, NP);
        n = add_key(keys, n, cap, from, PATRON__KEY_NAME_STREET, 3, r->last_kp, ll, initial, li, a->street,
                    a->street_len, NP);
        n = add_key(keys, n, cap, from, PATRON__KEY_NAME_NUMBER, 3, r->last_kp, ll, initial, li, a->number,
                    a->number_len, NP);
        n = add_key(keys, n, cap, from, PATRON__KEY_NUMBER_NAME, 3, a->postal, a->postal_len, a->number,
                    a->number_len, r->last_kp, ll, NP);
        n = add_key(keys, n, cap, from, PATRON__KEY_ADDITION_POSTAL, 2, a->addition, a->addition_len, a->postal,
                    a->postal_len, NP, NP);
        n = add_key(keys, n, cap, from, PATRON__KEY_FIRST_STREET, 3, r->first_kp, lf, a->street, a->street_len,
                    a->city, a->city_len, NP);
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
        n = add_key(keys, n, cap, 0, PATRON__KEY_RARE_STREET, 2, r->addr[i].postal, r->addr[i].postal_len,
                    r->addr[i].street, r->addr[i].street_len, NP, NP);
    return n;
}

size_t patron__match_rare_keys(patron__match_key *keys, size_t cap, const patron__match_rec *r,
                               const patron__match_config *cfg)
{
    size_t n = 0;

    if (cfg && cfg->mode == PATRON__MATCH_MODE_EMAIL)
        return 0;
    if (!r->first_initials && r->first_len >= 2 && r->last_len >= 2)
        n = add_key(keys, n, cap, 0, PATRON__KEY_RARE_NAME, 2, r->first, r->first_len, r->last, r->last_len, NP,
                    NP);
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
    size_t n = 0;

    out[0] = '\0';
    switch (field) {
    case PATRON__MF_FIRST:
        v = r->first;
        n = r->first_len;
        break;
    case PATRON__MF_LAST:
        v = r->last;
        n = r->last_len;
        break;
    case PATRON__MF_COMPANY:
        v = r->company;
        n = r->company_len;
        break;
    case PATRON__MF_EMAIL:
        v = r->email;
        n = r->email_len;
        break;
    case PATRON__MF_PHONE:
        v = r->phone;
        n = r->phone_len;
        break;
    case PATRON__TF_FULL_NAME:
        if (r->first_initials)
            return 0;
        return join_parts(out, 2, r->first, r->first_len, r->last, r->last_len, NP, NP);
    case PATRON__MF_STREET:
        if (addr < 0 || (size_t)addr >= r->n_addr)
            return 0;
        /* the same value as the address blocking key */
        return join_parts(out, 3, r->addr[addr].postal, r->addr[addr].postal_len, r->addr[addr].street,
                          r->addr[addr].street_len, r->addr[addr].number, r->addr[addr].number_len, NP);
    default:
        return 0;
    }
    /* (join_parts of one part) */
    if (!n)
        return 0;
    if (n > PATRON__MATCH_KEY_MAX - 1)
        n = PATRON__MATCH_KEY_MAX - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return n;
}

size_t patron__match_tf_keys(patron__match_key *keys, size_t cap, const patron__match_rec *r)
{
    size_t n = 0;

    n = add_key(keys, n, cap, n, PATRON__KEY_TF_ALL, 1, "*", 1, NP, NP, NP);
    n = add_key(keys, n, cap, n, PATRON__KEY_TF_FIRST, 1, r->first, r->first_len, NP, NP, NP);
    n = add_key(keys, n, cap, n, PATRON__KEY_TF_LAST, 1, r->last, r->last_len, NP, NP, NP);
    n = add_key(keys, n, cap, n, PATRON__KEY_TF_COMPANY, 1, r->company, r->company_len, NP, NP, NP);
    if (!r->first_initials)
        n = add_key(keys, n, cap, n, PATRON__KEY_RARE_NAME, 2, r->first, r->first_len, r->last, r->last_len, NP,
                    NP);
    return n;
}
