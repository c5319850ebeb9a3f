/* patron — the id vector and the hash functions (see util.h).
 * SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "util.h"

bool patron__idvec_push(patron__idvec *iv, int64_t id)
{
    if (iv->n == iv->cap) {
        size_t nc = iv->cap ? iv->cap * 2 : 16;
        int64_t *nv = patron__realloc(iv->v, nc * sizeof *nv);
        if (!nv) {
            iv->oom = true;
            return false;
        }
        iv->v = nv;
        iv->cap = nc;
    }
    iv->v[iv->n++] = id;
    return true;
}

int patron__idvec_emit(void *iv, int64_t id)
{
    return patron__idvec_push(iv, id) ? 0 : 1;
}

int patron__idpage_emit(void *page, int64_t id)
{
    patron__idpage *p = page;
    if (p->n == PATRON__IDPAGE)
        return 1;
    p->ids[p->n++] = id;
    return 0;
}

int patron__idcap_emit(void *ctx, int64_t id)
{
    patron__idcap *ic = ctx;
    if (ic->n < ic->cap)
        ic->ids[ic->n++] = id;
    ic->total++;
    return 0;
}

int patron__cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return (x > y) - (x < y);
}

int patron__ptrs_twice(void *const *p, size_t n)
{
    void **sorted;
    int twice = 0;
    if (n < 2)
        return 0;
    if (!(sorted = patron__malloc(n * sizeof *sorted)))
        return -1;
    memcpy(sorted, p, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_ptr);
    for (size_t i = 1; i < n && !twice; i++)
        twice = sorted[i] && sorted[i] == sorted[i - 1];
    patron__free(sorted);
    return twice;
}

void patron__idvec_sort_unique(patron__idvec *iv)
{
    size_t w = 0;
    if (iv->n > 1)
        qsort(iv->v, iv->n, sizeof *iv->v, patron__cmp_i64);
    for (size_t i = 0; i < iv->n; i++)
        if (w == 0 || iv->v[w - 1] != iv->v[i])
            iv->v[w++] = iv->v[i];
    iv->n = w;
}

void patron__idvec_free(patron__idvec *iv)
{
    patron__free(iv->v);
    iv->v = NULL;
    iv->n = iv->cap = 0;
    iv->oom = false;
}

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

/* FNV-1a with a final mix (patron__hash_mix in util.h): FNV's low bits
 * alone spread poorly. */
uint64_t patron__hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= FNV_PRIME;
    }
    return patron__hash_mix(h);
}

uint64_t patron__hash_id(int64_t id)
{
    uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ULL;
    return x ^ (x >> 29);
}
