/* patron — the allocator hook.  SPDX-License-Identifier: MIT
 *
 * After zstd's ZSTD_customMem: malloc, realloc and free plus an opaque
 * pointer, all set or none.  The hook is the one piece of process-wide state;
 * it may be changed only while the library holds no memory, which an atomic
 * count of live blocks tells. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "patron/patron.h"
#include "patron/store.h" /* patron_malloc */
#include "util.h"

static void *std_malloc(size_t size, void *opaque)
{
    (void)opaque;
    return malloc(size);
}
static void *std_realloc(void *ptr, size_t size, void *opaque)
{
    (void)opaque;
    return realloc(ptr, size);
}
static void std_free(void *ptr, void *opaque)
{
    (void)opaque;
    free(ptr);
}

static patron_allocator g_alloc = { std_malloc, std_realloc, std_free, NULL };
static atomic_long g_outstanding;

long patron__alloc_outstanding(void)
{
    return atomic_load(&g_outstanding);
}

patron_status patron_set_allocator(const patron_allocator *alloc)
{
    patron_allocator next = { std_malloc, std_realloc, std_free, NULL };
    if (alloc) {
        int set = (alloc->malloc_fn != NULL) + (alloc->realloc_fn != NULL) + (alloc->free_fn != NULL);
        if (set != 3)
            return PATRON_E_INVALID; /* a half-set hook is refused */
        next = *alloc;
    }
    if (atomic_load(&g_outstanding) != 0)
        return PATRON_E_STATE;
    g_alloc = next;
    return PATRON_OK;
}

void *patron__malloc(size_t size)
{
    void *p = g_alloc.malloc_fn(size ? size : 1, g_alloc.opaque);
    if (p)
        atomic_fetch_add(&g_outstanding, 1);
    return p;
}

void *patron__calloc(size_t n, size_t size)
{
    void *p;
    if (size && n > SIZE_MAX / size)
        return NULL;
    p = patron__malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *patron__realloc(void *ptr, size_t size)
{
    void *p;
    if (!ptr)
        return patron__malloc(size);
    p = g_alloc.realloc_fn(ptr, size ? size : 1, g_alloc.opaque);
    return p; /* on failure ptr stays valid and counted */
}

void patron__free(void *ptr)
{
    if (!ptr)
        return;
    atomic_fetch_sub(&g_outstanding, 1);
    g_alloc.free_fn(ptr, g_alloc.opaque);
}

void *patron_malloc(size_t size)
{
    return patron__malloc(size);
}

void patron_free(void *ptr)
{
    patron__free(ptr);
}

char *patron__strndup(const char *s, size_t n)
{
    char *d = patron__malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *patron__strdup(const char *s)
{
    return patron__strndup(s, strlen(s));
}
