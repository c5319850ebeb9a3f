/* patron — the orders of a wide block and the sort of its wide keys
 * (dedupe.c), apart so that tests/match/test_order.c checks them against
 * the comparators that define them.
 * SPDX-License-Identifier: MIT */
#ifndef PATRON_DEDUPE_ORDER_H
#define PATRON_DEDUPE_ORDER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "match/match.h"

/* A member of a wide block: its record and its place in the block, and
 * (block_order) the first bytes of the strings its order compares first
 * as big-endian numbers: a smaller key[i] sorts first, as strcmp says;
 * equal keys with bit i of ex set are equal strings, not just equal first
 * bytes (the bytes held the end of the string). */
#define ORDER_KEYS 4
typedef struct order {
    uint64_t key[ORDER_KEYS];
    const patron__match_rec *r;
    uint32_t pos;
    uint32_t ex;
} order;

static int cmp_addr0(const patron__match_rec *a, const patron__match_rec *b)
{
    const patron__match_addr *x = a->addr, *y = b->addr;
    int c;
    if (!a->n_addr || !b->n_addr)
        return (a->n_addr > 0) - (b->n_addr > 0);
    if ((c = strcmp(x->postal, y->postal)) != 0 || (c = strcmp(x->street, y->street)) != 0)
        return c;
    return strcmp(x->number, y->number);
}

/* The two orders of a wide block (sorted neighbourhood in two passes,
 * Hernandez and Stolfo): by who and where the customer is, the Koelner
 * code of the last name first (a) or of the given name first (b, for a
 * new or misspelt last name), then the other name, the first address,
 * the birth date and the email, so that the records of one person, which
 * agree in most of these, sit close together in at least one.  The parts
 * every member shares (the block's own key) fall out of the comparison
 * by themselves.  Ties keep the block's order (ascending records). */
static int cmp_rest(const order *p, const order *q)
{
    const patron__match_rec *a = p->r, *b = q->r;
    int c;
    if ((c = cmp_addr0(a, b)) != 0)
        return c;
    if (a->birth != b->birth)
        return (a->birth > b->birth) - (a->birth < b->birth);
    if ((c = strcmp(a->email, b->email)) != 0)
        return c;
    return (p->pos > q->pos) - (p->pos < q->pos);
}

static int cmp_order_a(const void *x, const void *y)
{
    const order *p = x, *q = y;
    int c;
    if ((c = strcmp(p->r->last_kp, q->r->last_kp)) != 0 || (c = strcmp(p->r->first_kp, q->r->first_kp)) != 0)
        return c;
    return cmp_rest(p, q);
}

static int cmp_order_b(const void *x, const void *y)
{
    const order *p = x, *q = y;
    int c;
    if ((c = strcmp(p->r->first_kp, q->r->first_kp)) != 0 || (c = cmp_addr0(p->r, q->r)) != 0 ||
        (c = strcmp(p->r->last_kp, q->r->last_kp)) != 0)
        return c;
    return cmp_rest(p, q);
}

/* The first n (<= 8) bytes of the string v as a big-endian number (the
 * bytes after its end 0); bit of *ex set when the end was among them. */
static uint64_t str_key(const char *v, size_t n, uint32_t *ex, uint32_t bit)
{
    uint64_t k = 0;
    size_t i = 0;
    for (; i < n && v[i]; i++)
        k = k << 8 | (unsigned char)v[i];
    if (i < n)
        *ex |= bit;
    for (; i < 8; i++)
        k <<= 8;
    return k;
}

/* The keys of member o for order a (pass 0: last name code, given name
 * code, first address, its street) or b (pass 1: given name code, first
 * address, its street, its number): the first comparisons of cmp_order_a
 * and cmp_order_b.  The address key is 0 for no address, else 1 above
 * the postal code's first 7 bytes (cmp_addr0: none sorts first); its
 * street and number count only after equal exact address keys, so with
 * an address on both sides or on neither (keys 0). */
static void order_keys(order *o, int pass)
{
    const patron__match_rec *r = o->r;
    const patron__match_addr *a = r->n_addr ? r->addr : NULL;
    uint64_t addr = 0, street = 0, number = 0;
    uint32_t ex = 0, aex = 0;
    if (a) {
        addr = (uint64_t)1 << 56 | str_key(a->postal, 7, &aex, 1) >> 8;
        street = str_key(a->street, 8, &aex, 2);
        number = str_key(a->number, 8, &aex, 4);
    } else {
        aex = 7;
    }
    if (pass == 0) {
        o->key[0] = str_key(r->last_kp, 8, &ex, 1);
        o->key[1] = str_key(r->first_kp, 8, &ex, 2);
        o->key[2] = addr;
        o->key[3] = street;
        ex |= (aex & 3u) << 2;
    } else {
        o->key[0] = str_key(r->first_kp, 8, &ex, 1);
        o->key[1] = addr;
        o->key[2] = street;
        o->key[3] = number;
        ex |= (aex & 7u) << 1;
    }
    o->ex = ex;
}

/* cmp_order_a (pass 0) or cmp_order_b (pass 1) of p and q, told by their
 * keys while those differ or are exact (equal keys that are exact are the
 * same strings, so the next comparison is the comparator's next), else by
 * the comparator itself. */
static inline int cmp_order(const order *p, const order *q, int pass)
{
    for (int i = 0; i < ORDER_KEYS; i++) {
        if (p->key[i] != q->key[i])
            return p->key[i] < q->key[i] ? -1 : 1;
        if (!(p->ex >> i & 1u)) /* (q's end is where p's is: the same bytes) */
            break;
    }
    return pass ? cmp_order_b(p, q) : cmp_order_a(p, q);
}

/* A stable sort of a[0, n) (elements of type T) by LESS(x, y), "x
 * sorts before y" of two pointers to T, which may read the function's int
 * parameter CTX; tmp: room for n.  The comparison inline, not through a
 * pointer as qsort calls it: insertion sort of runs of ORDER_RUN, then
 * merges.  Defined once for each type that needs it (NAME). */
#define ORDER_RUN 8
#define RUN_MERGE_SORT(NAME, T, CTX, LESS)                                                             \
    static void NAME(T *a, T *tmp, size_t n, int CTX)                                                  \
    {                                                                                                  \
        T *src = a, *dst = tmp;                                                                        \
        (void)CTX;                                                                                     \
        for (size_t s = 0; s < n; s += ORDER_RUN) {                                                    \
            size_t e = s + ORDER_RUN < n ? s + ORDER_RUN : n;                                          \
            for (size_t i = s + 1; i < e; i++) {                                                       \
                T v = a[i];                                                                            \
                size_t k = i;                                                                          \
                for (; k > s && LESS(&v, &a[k - 1]); k--)                                              \
                    a[k] = a[k - 1];                                                                   \
                a[k] = v;                                                                              \
            }                                                                                          \
        }                                                                                              \
        for (size_t w = ORDER_RUN; w < n; w *= 2) {                                                    \
            T *t;                                                                                      \
            for (size_t s = 0; s < n; s += 2 * w) {                                                    \
                size_t mid = s + w < n ? s + w : n, e = s + 2 * w < n ? s + 2 * w : n;                 \
                size_t i = s, k = mid, o = s;                                                          \
                while (i < mid && k < e)                                                               \
                    dst[o++] = LESS(&src[k], &src[i]) ? src[k++] : src[i++];                           \
                while (i < mid)                                                                        \
                    dst[o++] = src[i++];                                                               \
                while (k < e)                                                                          \
                    dst[o++] = src[k++];                                                               \
            }                                                                                          \
            t = src;                                                                                   \
            src = dst;                                                                                 \
            dst = t;                                                                                   \
        }                                                                                              \
        if (src != a)                                                                                  \
            memcpy(a, src, n * sizeof *a);                                                             \
    }

/* order_sort(a, tmp, m, pass): a[0, m) sorted by cmp_order.  The
 * comparator is a total order (ties broken by place), so any sort gives
 * qsort's order; this one compares keys inline, where qsort called
 * cmp_order_a/b through a pointer and strcmp through the records'
 * pointers (at 2 * 10^6 customers a wide block's members grew 3.6 times
 * as many as at 10^6). */
#define ORDER_LESS(x, y) (cmp_order((x), (y), pass) < 0)
RUN_MERGE_SORT(order_sort, order, pass, ORDER_LESS)
#undef ORDER_LESS

/* A wide key above the block's, of member i. */
typedef struct gkey {
    uint64_t k;
    uint32_t i;
} gkey;

static inline bool gkey_less(const gkey *p, const gkey *q)
{
    return p->k < q->k || (p->k == q->k && p->i < q->i);
}

/* gkey_sort_by(a, tmp, n, 0): a[0, n) sorted by (k, i), the order qsort
 * gave with a comparator of (k, i) (a total order but for equal
 * elements), the comparison inline (a wide block's keys grew 5 times from
 * 10^6 to 2 * 10^6 customers). */
RUN_MERGE_SORT(gkey_sort_by, gkey, unused, gkey_less)

static inline void gkey_sort(gkey *a, gkey *tmp, size_t n)
{
    gkey_sort_by(a, tmp, n, 0);
}

#endif
