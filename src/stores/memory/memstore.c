/* patron — the memory store, the embedded default.  SPDX-License-Identifier: MIT
 *
 * A store like the others: it sees records only through the public store
 * interface (patron/store.h: callbacks, patron_record_pack/unpack/set) and
 * uses the core's utilities (allocation hook, hashing); it keeps the match
 * form the core hands it, so matching never loads a record from here.
 *
 * Records live in an array indexed by id (ids are dense and never reused),
 * index keys in a hash table of sorted id lists, so a lookup never scans.
 * Transactions keep an undo log: every change notes how to reverse it, and
 * rollback() replays the log backwards.  One mutex per store; begin() takes
 * it and commit()/rollback() give it back, so handles on one store may run
 * in separate threads. */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patron/memory.h"
#include "../../util.h"

typedef struct kentry {
    char *key; /* kind as 4 bytes + value, NUL-terminated */
    size_t key_len;
    uint64_t hash;
    int64_t *ids;
    size_t n, cap;
} kentry;

typedef struct kmap {
    kentry **slots;
    size_t cap, used;
} kmap;

/* A record: packed (patron_record_pack), so a million customers fit in a
 * few hundred megabytes, plus what scans filter on and the hashes of its
 * keys (to take them out of the index again). */
typedef struct mrec {
    char *blob;      /* NULL: no record with this id */
    uint64_t *kh;    /* distinct key hashes */
    char *ckeys;     /* the core keys (kind < 100) as text: kind byte, value, NUL, ... */
    char *group;     /* customer group, for scan filters */
    char *form;      /* the core's match form, or NULL */
    uint32_t blob_len, n_kh, ckeys_len, form_len;
    uint8_t state, locked;
} mrec;

/* The key index: an open-addressing multimap of (key hash, id).  Keys are
 * hashed to 64 bits; for the core's own keys (number, external reference,
 * email, login: kind < 100) a lookup checks each id against the record's
 * exact keys, for the matcher's blocking keys a hash match is the answer
 * (a false candidate, at odds of about 2^-64, is scored and dropped). */
typedef struct mslot {
    uint64_t h; /* 0: empty */
    int64_t id;
} mslot;

/* A key shared by more than INLINE_MAX records moves to an overflow set of
 * its own, so that a key common to tens of thousands of records (one town,
 * one company mailbox) costs O(1) per insert and remove instead of a walk
 * along a run of equal hashes.  Its slot in the table then holds a marker:
 * id = -(index of the set + 1). */
#define INLINE_MAX 8

typedef struct mset {
    int64_t *ids; /* open addressing; 0 = empty */
    size_t cap, used;
} mset;

typedef struct mmap {
    mslot *s;
    size_t cap, used;
    mset *ovf;
    size_t n_ovf, cap_ovf;
} mmap;

typedef struct mjournal {
    patron_journal_entry e; /* strings owned */
} mjournal;

typedef struct mref {
    char *kind, *ref;
    int64_t owner;
    unsigned flags;
} mref;

typedef struct mmeta {
    char *key, *value;
} mmeta;

enum { U_INSERT, U_UPDATE, U_REMOVE, U_COUNTER, U_CLAIM, U_JAPPEND, U_JUNDONE, U_REF, U_META, U_FORM, U_JREWRITE };

typedef struct undo {
    int op;
    int64_t id;
    mrec old;            /* U_UPDATE, U_REMOVE: the record before; U_FORM: its form before */
    uint64_t old_value;  /* U_COUNTER, U_JUNDONE */
    kentry *claimed;     /* U_CLAIM */
    size_t ref;          /* U_REF: index into refs; old owner in old_value */
    char *mkey, *mold;   /* U_META: the key and its old value (NULL: absent); U_JREWRITE: the
                            old payload in mold */
} undo;

struct patron_memstore {
    pthread_mutex_t lock;
    mrec *recs; /* index = id; recs[0] unused */
    size_t cap_recs;
    int64_t next_id;
    mmap keys;
    kmap numbers; /* claimed customer numbers */
    uint64_t counter;
    mjournal *journal;
    size_t n_journal, cap_journal;
    mref *refs;
    size_t n_refs, cap_refs;
    mmeta *meta; /* sorted by key */
    size_t n_meta, cap_meta;
    undo *log;
    size_t n_log, cap_log;
    bool in_txn;
};

typedef struct msession {
    patron_memstore *ms;
    bool owns;
    bool in_txn;
} msession;

/* ---- hash table of keys ----------------------------------------------- */

static kentry *kmap_find(const kmap *m, const char *key, size_t n, uint64_t h)
{
    if (!m->cap)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        kentry *e = m->slots[i];
        if (!e)
            return NULL;
        if (e->hash == h && e->key_len == n && memcmp(e->key, key, n) == 0)
            return e;
    }
}

static bool kmap_grow(kmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 1024;
    kentry **ns = patron__calloc(ncap, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i < m->cap; i++) {
        kentry *e = m->slots[i];
        size_t j;
        if (!e)
            continue;
        for (j = e->hash & (ncap - 1); ns[j]; j = (j + 1) & (ncap - 1))
            ;
        ns[j] = e;
    }
    patron__free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return true;
}

/* Find or add the entry for a key.  NULL when out of memory. */
static kentry *kmap_get(kmap *m, const char *key, size_t n)
{
    uint64_t h = patron__hash_bytes(key, n);
    kentry *e = kmap_find(m, key, n, h);
    size_t j;
    if (e)
        return e;
    if ((m->used + 1) * 10 > m->cap * 7 && !kmap_grow(m))
        return NULL;
    e = patron__calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->key = patron__strndup(key, n);
    if (!e->key) {
        patron__free(e);
        return NULL;
    }
    e->key_len = n;
    e->hash = h;
    for (j = h & (m->cap - 1); m->slots[j]; j = (j + 1) & (m->cap - 1))
        ;
    m->slots[j] = e;
    m->used++;
    return e;
}

static void kmap_free(kmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i]) {
            patron__free(m->slots[i]->key);
            patron__free(m->slots[i]->ids);
            patron__free(m->slots[i]);
        }
    patron__free(m->slots);
    memset(m, 0, sizeof *m);
}

/* Insert id into the sorted list; false when out of memory. */
static bool kentry_add(kentry *e, int64_t id)
{
    size_t lo = 0, hi = e->n;
    if (e->n && e->ids[e->n - 1] < id) {
        lo = e->n; /* the common case: ids grow */
    } else {
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (e->ids[mid] < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < e->n && e->ids[lo] == id)
            return true;
    }
    if (e->n == e->cap) {
        size_t nc = e->cap ? e->cap * 2 : 2;
        int64_t *ni = patron__realloc(e->ids, nc * sizeof *ni);
        if (!ni)
            return false;
        e->ids = ni;
        e->cap = nc;
    }
    memmove(&e->ids[lo + 1], &e->ids[lo], (e->n - lo) * sizeof *e->ids);
    e->ids[lo] = id;
    e->n++;
    return true;
}


/* ---- the key index -------------------------------------------------- */

/* Room for `extra` more entries, growing if needed.  false: out of memory
 * (nothing changed). */
static bool mm_reserve(mmap *m, size_t extra)
{
    size_t ncap;
    mslot *ns;
    if ((m->used + extra) * 10 <= m->cap * 7)
        return true;
    ncap = m->cap ? m->cap : 1024;
    while ((m->used + extra) * 10 > ncap * 7)
        ncap *= 2;
    ns = patron__calloc(ncap, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i < m->cap; i++) {
        size_t j;
        if (!m->s[i].h)
            continue;
        for (j = m->s[i].h & (ncap - 1); ns[j].h; j = (j + 1) & (ncap - 1))
            ;
        ns[j] = m->s[i];
    }
    patron__free(m->s);
    m->s = ns;
    m->cap = ncap;
    return true;
}

/* Put (h, id) in a free slot; room must have been reserved. */
static void mm_put_slot(mmap *m, uint64_t h, int64_t id)
{
    size_t j;
    for (j = h & (m->cap - 1); m->s[j].h; j = (j + 1) & (m->cap - 1))
        ;
    m->s[j].h = h;
    m->s[j].id = id;
    m->used++;
}

/* Take slot i out (backward-shift deletion keeps probe runs unbroken). */
static void mm_del_slot(mmap *m, size_t i)
{
    size_t mask = m->cap - 1;
    for (size_t j = (i + 1) & mask; m->s[j].h; j = (j + 1) & mask) {
        size_t home = m->s[j].h & mask;
        /* can the entry at j move to the hole at i? only if its home is
         * not cyclically within (i, j] */
        bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        m->s[i] = m->s[j];
        i = j;
    }
    m->s[i].h = 0;
    m->s[i].id = 0;
    m->used--;
}

/* Add id to a set.  false: out of memory (the set is unchanged).  A set
 * never shrinks, so putting back what was taken out needs no memory. */
static bool set_add(mset *t, int64_t id)
{
    size_t j;
    if ((t->used + 1) * 10 > t->cap * 7) {
        size_t ncap = t->cap ? t->cap * 2 : 32;
        int64_t *ni = patron__calloc(ncap, sizeof *ni);
        if (!ni)
            return false;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->ids[i])
                continue;
            for (j = patron__hash_id(t->ids[i]) & (ncap - 1); ni[j]; j = (j + 1) & (ncap - 1))
                ;
            ni[j] = t->ids[i];
        }
        patron__free(t->ids);
        t->ids = ni;
        t->cap = ncap;
    }
    for (j = patron__hash_id(id) & (t->cap - 1); t->ids[j]; j = (j + 1) & (t->cap - 1))
        if (t->ids[j] == id)
            return true;
    t->ids[j] = id;
    t->used++;
    return true;
}

static void set_del(mset *t, int64_t id)
{
    size_t mask = t->cap - 1, i;
    if (!t->cap)
        return;
    for (i = patron__hash_id(id) & mask; t->ids[i]; i = (i + 1) & mask)
        if (t->ids[i] == id)
            break;
    if (!t->ids[i])
        return;
    for (size_t j = (i + 1) & mask; t->ids[j]; j = (j + 1) & mask) {
        size_t home = patron__hash_id(t->ids[j]) & mask;
        bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        t->ids[i] = t->ids[j];
        i = j;
    }
    t->ids[i] = 0;
    t->used--;
}

/* Add (h, id).  Room in the table must have been reserved.  false: out of
 * memory (nothing changed). */
static bool mm_put(mmap *m, uint64_t h, int64_t id)
{
    size_t mask = m->cap - 1, count = 0, at[INLINE_MAX];
    for (size_t j = h & mask; m->s[j].h; j = (j + 1) & mask) {
        if (m->s[j].h != h)
            continue;
        if (m->s[j].id < 0)
            return set_add(&m->ovf[-m->s[j].id - 1], id);
        if (count < INLINE_MAX)
            at[count] = j;
        count++;
    }
    if (count < INLINE_MAX) {
        mm_put_slot(m, h, id);
        return true;
    }
    /* the key becomes popular: its ids move to an overflow set */
    {
        mset t = { NULL, 0, 0 };
        int64_t ids[INLINE_MAX];
        if (m->n_ovf == m->cap_ovf) {
            size_t nc = m->cap_ovf ? m->cap_ovf * 2 : 16;
            mset *no = patron__realloc(m->ovf, nc * sizeof *no);
            if (!no)
                return false;
            m->ovf = no;
            m->cap_ovf = nc;
        }
        for (size_t k = 0; k < INLINE_MAX; k++)
            ids[k] = m->s[at[k]].id;
        for (size_t k = 0; k < INLINE_MAX; k++)
            if (!set_add(&t, ids[k])) {
                patron__free(t.ids);
                return false;
            }
        if (!set_add(&t, id)) {
            patron__free(t.ids);
            return false;
        }
        /* take the inline entries out (slots move on deletion: find anew) */
        for (size_t k = 0; k < INLINE_MAX; k++)
            for (size_t j = h & mask; m->s[j].h; j = (j + 1) & mask)
                if (m->s[j].h == h && m->s[j].id == ids[k]) {
                    mm_del_slot(m, j);
                    break;
                }
        m->ovf[m->n_ovf] = t;
        mm_put_slot(m, h, -(int64_t)(++m->n_ovf));
        return true;
    }
}

/* Remove (h, id). */
static void mm_del(mmap *m, uint64_t h, int64_t id)
{
    size_t mask = m->cap - 1;
    if (!m->cap)
        return;
    for (size_t i = h & mask; m->s[i].h; i = (i + 1) & mask) {
        if (m->s[i].h != h)
            continue;
        if (m->s[i].id < 0) {
            set_del(&m->ovf[-m->s[i].id - 1], id);
            return;
        }
        if (m->s[i].id == id) {
            mm_del_slot(m, i);
            return;
        }
    }
}

static void mm_free(mmap *m)
{
    for (size_t i = 0; i < m->n_ovf; i++)
        patron__free(m->ovf[i].ids);
    patron__free(m->ovf);
    patron__free(m->s);
    memset(m, 0, sizeof *m);
}

static void index_drop(patron_memstore *ms, const mrec *r, int64_t id)
{
    for (uint32_t i = 0; i < r->n_kh; i++)
        mm_del(&ms->keys, r->kh[i], id);
}

/* Put a record's keys back during rollback: the entries it had were taken
 * out just before, so the table and any overflow set have room. */
static void index_readd(patron_memstore *ms, const mrec *r, int64_t id)
{
    for (uint32_t i = 0; i < r->n_kh; i++)
        (void)mm_put(&ms->keys, r->kh[i], id);
}

/* Index a record's keys.  false: out of memory, and nothing is indexed. */
static bool index_add(patron_memstore *ms, const mrec *r, int64_t id)
{
    for (uint32_t i = 0; i < r->n_kh; i++)
        if (!mm_put(&ms->keys, r->kh[i], id)) {
            for (uint32_t k = 0; k < i; k++)
                mm_del(&ms->keys, r->kh[k], id);
            return false;
        }
    return true;
}

/* Clear n bytes before they are freed, through a volatile pointer so that
 * the compiler cannot drop the stores as dead (a memset right before free
 * may be removed): an updated, deleted or erased customer's old values do
 * not linger in freed memory the host may hand out again. */
static void wipe(void *p, size_t n)
{
    if (!p || !n)
        return;
#if defined(__GNUC__) || defined(__clang__)
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory"); /* the stores are observed */
#else
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
#endif
}

static void mrec_free(mrec *r)
{
    wipe(r->form, r->form_len);
    wipe(r->blob, r->blob_len);
    wipe(r->ckeys, r->ckeys_len);
    wipe(r->group, r->group ? strlen(r->group) : 0);
    patron__free(r->form);
    patron__free(r->blob);
    patron__free(r->kh);
    patron__free(r->ckeys);
    patron__free(r->group);
    memset(r, 0, sizeof *r);
}

/* Pack `c` (with `id` as its id) and its keys into a new mrec. */
static int mrec_build(mrec *r, const patron_customer *c, int64_t id, const patron_key *keys, size_t n)
{
    size_t len, cklen = 0;
    (void)id;
    memset(r, 0, sizeof *r);
    /* the id is the record's index: load() sets it */
    if (patron_record_pack(&r->blob, &len, c) != PATRON_OK)
        return PATRON_E_NOMEM;
    if (len > UINT32_MAX) {
        mrec_free(r);
        return PATRON_E_NOMEM;
    }
    r->blob_len = (uint32_t)len;
    r->state = (uint8_t)patron_customer_state(c);
    r->locked = (uint8_t)patron_customer_locked(c);
    if (patron_customer_get(c, PATRON_F_GROUP) &&
        !(r->group = patron__strdup(patron_customer_get(c, PATRON_F_GROUP))))
        goto oom;
    r->kh = n ? patron__malloc(n * sizeof *r->kh) : NULL;
    if (n && !r->kh)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        uint64_t h;
        bool dup = false;
        if (!keys[i].value)
            continue;
        h = patron__hash_key(keys[i].kind, keys[i].value);
        for (uint32_t k = 0; k < r->n_kh && !dup; k++)
            dup = r->kh[k] == h;
        if (!dup)
            r->kh[r->n_kh++] = h;
        if (keys[i].kind > 0 && keys[i].kind < 100)
            cklen += strlen(keys[i].value) + 2;
    }
    if (cklen) {
        char *w = r->ckeys = patron__malloc(cklen);
        if (!w)
            goto oom;
        for (size_t i = 0; i < n; i++) {
            size_t vl;
            if (!keys[i].value || keys[i].kind <= 0 || keys[i].kind >= 100)
                continue;
            vl = strlen(keys[i].value);
            *w++ = (char)keys[i].kind;
            memcpy(w, keys[i].value, vl + 1);
            w += vl + 1;
        }
        r->ckeys_len = (uint32_t)cklen;
    }
    return PATRON_OK;
oom:
    mrec_free(r);
    return PATRON_E_NOMEM;
}

/* Does record r hold the core key (kind, value)? */
static bool has_core_key(const mrec *r, int kind, const char *value)
{
    const char *p = r->ckeys, *end = r->ckeys ? r->ckeys + r->ckeys_len : NULL;
    while (p && p < end) {
        size_t vl = strlen(p + 1);
        if ((unsigned char)p[0] == (unsigned)kind && strcmp(p + 1, value) == 0)
            return true;
        p += vl + 2;
    }
    return false;
}

static int log_push(patron_memstore *ms, const undo *u)
{
    if (ms->n_log == ms->cap_log) {
        size_t nc = ms->cap_log ? ms->cap_log * 2 : 16;
        undo *nl = patron__realloc(ms->log, nc * sizeof *nl);
        if (!nl)
            return PATRON_E_NOMEM;
        ms->log = nl;
        ms->cap_log = nc;
    }
    ms->log[ms->n_log++] = *u;
    return PATRON_OK;
}

/* ---- the store API ---------------------------------------------------- */

patron_status patron_memstore_new(patron_memstore **out)
{
    patron_memstore *ms;
    if (!out)
        return PATRON_E_INVALID;
    *out = NULL;
    ms = patron__calloc(1, sizeof *ms);
    if (!ms)
        return PATRON_E_NOMEM;
    if (pthread_mutex_init(&ms->lock, NULL) != 0) {
        patron__free(ms);
        return PATRON_E_NOMEM;
    }
    ms->next_id = 1;
    *out = ms;
    return PATRON_OK;
}

static void journal_free_entry(mjournal *j)
{
    patron__free((char *)j->e.kind);
    patron__free((char *)j->e.payload);
}

void patron_memstore_free(patron_memstore *ms)
{
    if (!ms)
        return;
    for (int64_t id = 1; id < ms->next_id; id++)
        mrec_free(&ms->recs[id]);
    patron__free(ms->recs);
    mm_free(&ms->keys);
    kmap_free(&ms->numbers);
    for (size_t i = 0; i < ms->n_journal; i++)
        journal_free_entry(&ms->journal[i]);
    patron__free(ms->journal);
    for (size_t i = 0; i < ms->n_refs; i++) {
        patron__free(ms->refs[i].kind);
        patron__free(ms->refs[i].ref);
    }
    patron__free(ms->refs);
    for (size_t i = 0; i < ms->n_meta; i++) {
        patron__free(ms->meta[i].key);
        patron__free(ms->meta[i].value);
    }
    patron__free(ms->meta);
    patron__free(ms->log);
    pthread_mutex_destroy(&ms->lock);
    patron__free(ms);
}

#define MS(ctx) (((msession *)(ctx))->ms)

/* ---- named values (groups) ------------------------------------------- */

static size_t meta_pos(const patron_memstore *ms, const char *key, bool *found)
{
    size_t lo = 0, hi = ms->n_meta;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(ms->meta[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Put back an old value during rollback.  Takes over `old` (may be NULL:
 * the key did not exist).  Cannot fail: a key that a put added still has
 * its slot, and a key that a put removed left capacity behind. */
static void meta_restore(patron_memstore *ms, const char *key, char *old)
{
    bool found;
    size_t i = meta_pos(ms, key, &found);
    if (found) {
        patron__free(ms->meta[i].value);
        if (old) {
            ms->meta[i].value = old;
            return;
        }
        patron__free(ms->meta[i].key);
        memmove(&ms->meta[i], &ms->meta[i + 1], (ms->n_meta - i - 1) * sizeof *ms->meta);
        ms->n_meta--;
        return;
    }
    if (!old)
        return;
    /* re-insert: the put that removed it left the capacity */
    memmove(&ms->meta[i + 1], &ms->meta[i], (ms->n_meta - i) * sizeof *ms->meta);
    ms->meta[i].key = patron__strdup(key);
    ms->meta[i].value = old;
    if (!ms->meta[i].key) { /* out of memory in rollback: keep the key out */
        patron__free(old);
        memmove(&ms->meta[i], &ms->meta[i + 1], (ms->n_meta - i) * sizeof *ms->meta);
        return;
    }
    ms->n_meta++;
}

static int ms_begin(void *ctx)
{
    msession *s = ctx;
    if (s->in_txn)
        return PATRON_E_STATE;
    pthread_mutex_lock(&s->ms->lock);
    s->in_txn = true;
    s->ms->in_txn = true;
    s->ms->n_log = 0;
    return PATRON_OK;
}

static void release_log(patron_memstore *ms, bool committed)
{
    for (size_t i = 0; i < ms->n_log; i++) {
        undo *u = &ms->log[i];
        if (committed && (u->op == U_UPDATE || u->op == U_REMOVE || u->op == U_FORM))
            mrec_free(&u->old);
        if (u->op == U_META) {
            patron__free(u->mkey);
            patron__free(u->mold);
        }
        if (u->op == U_JREWRITE) {
            /* the payload an erasure replaced: not even in freed memory */
            if (committed && u->mold)
                wipe(u->mold, strlen(u->mold));
            patron__free(u->mold);
        }
    }
    ms->n_log = 0;
}

static int ms_commit(void *ctx)
{
    msession *s = ctx;
    if (!s->in_txn)
        return PATRON_E_STATE;
    release_log(s->ms, true);
    s->ms->in_txn = false;
    s->in_txn = false;
    pthread_mutex_unlock(&s->ms->lock);
    return PATRON_OK;
}

static int ms_rollback(void *ctx)
{
    msession *s = ctx;
    patron_memstore *ms = s->ms;
    if (!s->in_txn)
        return PATRON_E_STATE;
    while (ms->n_log) {
        undo *u = &ms->log[--ms->n_log];
        mrec *r = u->id > 0 && u->id < ms->next_id ? &ms->recs[u->id] : NULL;
        switch (u->op) {
        case U_INSERT:
            index_drop(ms, r, u->id);
            mrec_free(r);
            ms->next_id = u->id;
            break;
        case U_UPDATE:
            index_drop(ms, r, u->id);
            mrec_free(r);
            *r = u->old;
            /* the entries just dropped leave room: re-adding cannot fail */
            index_readd(ms, r, u->id);
            break;
        case U_REMOVE:
            *r = u->old;
            index_readd(ms, r, u->id);
            break;
        case U_FORM:
            patron__free(r->form);
            r->form = u->old.form;
            r->form_len = u->old.form_len;
            break;
        case U_COUNTER:
            ms->counter = u->old_value;
            break;
        case U_CLAIM:
            u->claimed->n = 0;
            break;
        case U_JAPPEND:
            journal_free_entry(&ms->journal[--ms->n_journal]);
            break;
        case U_REF:
            ms->refs[u->ref].owner = (int64_t)u->old_value;
            break;
        case U_META:
            meta_restore(ms, u->mkey, u->mold);
            patron__free(u->mkey);
            u->mkey = u->mold = NULL; /* taken over by meta_restore */
            break;
        case U_JREWRITE:
            for (size_t i = 0; i < ms->n_journal; i++)
                if (ms->journal[i].e.id == u->id) {
                    patron__free((char *)ms->journal[i].e.payload);
                    ms->journal[i].e.payload = u->mold;
                    u->mold = NULL;
                }
            break;
        case U_JUNDONE:
            for (size_t i = 0; i < ms->n_journal; i++)
                if (ms->journal[i].e.id == u->id)
                    ms->journal[i].e.undone_by = (int64_t)u->old_value;
            break;
        }
    }
    ms->in_txn = false;
    s->in_txn = false;
    pthread_mutex_unlock(&ms->lock);
    return PATRON_OK;
}

static int ms_load(void *ctx, int64_t id, patron_customer *out)
{
    patron_memstore *ms = MS(ctx);
    char idtxt[24];
    if (id <= 0 || id >= ms->next_id || !ms->recs[id].blob)
        return PATRON_E_NOT_FOUND;
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)id);
    if (patron_record_unpack(out, ms->recs[id].blob, ms->recs[id].blob_len) != PATRON_OK ||
        patron_record_set(out, PATRON_F_ID, idtxt) != PATRON_OK)
        return PATRON_E_NOMEM;
    return PATRON_OK;
}

static int ms_insert(void *ctx, const patron_customer *c, const patron_key *keys, size_t n_keys,
                     int64_t *id_out)
{
    patron_memstore *ms = MS(ctx);
    int64_t id = ms->next_id;
    mrec r;
    undo u = { .op = U_INSERT, .id = id };
    int rc;
    if (!ms->in_txn)
        return PATRON_E_STATE;
    if ((size_t)id >= ms->cap_recs) {
        size_t nc = ms->cap_recs ? ms->cap_recs * 2 : 1024;
        mrec *nr = patron__realloc(ms->recs, nc * sizeof *nr);
        if (!nr)
            return PATRON_E_NOMEM;
        memset(nr + ms->cap_recs, 0, (nc - ms->cap_recs) * sizeof *nr);
        ms->recs = nr;
        ms->cap_recs = nc;
    }
    if ((rc = mrec_build(&r, c, id, keys, n_keys)) != 0)
        return rc;
    if (!mm_reserve(&ms->keys, r.n_kh) || (rc = log_push(ms, &u)) != 0) {
        mrec_free(&r);
        return PATRON_E_NOMEM;
    }
    if (!index_add(ms, &r, id)) {
        ms->n_log--;
        mrec_free(&r);
        return PATRON_E_NOMEM;
    }
    ms->recs[id] = r;
    ms->next_id = id + 1;
    *id_out = id;
    return PATRON_OK;
}

static int ms_update(void *ctx, const patron_customer *c, const patron_key *keys, size_t n_keys)
{
    patron_memstore *ms = MS(ctx);
    int64_t id = patron_customer_id(c);
    mrec r;
    undo u = { .op = U_UPDATE, .id = id };
    int rc;
    if (!ms->in_txn)
        return PATRON_E_STATE;
    if (id <= 0 || id >= ms->next_id || !ms->recs[id].blob)
        return PATRON_E_NOT_FOUND;
    if ((rc = mrec_build(&r, c, id, keys, n_keys)) != 0)
        return rc;
    u.old = ms->recs[id];
    /* room for the new keys while the old ones are still in */
    if (!mm_reserve(&ms->keys, r.n_kh) || (rc = log_push(ms, &u)) != 0) {
        mrec_free(&r);
        return PATRON_E_NOMEM;
    }
    index_drop(ms, &ms->recs[id], id);
    if (!index_add(ms, &r, id)) {
        index_readd(ms, &ms->recs[id], id); /* as it was */
        ms->n_log--;
        mrec_free(&r);
        return PATRON_E_NOMEM;
    }
    ms->recs[id] = r;
    return PATRON_OK;
}

static int ms_remove(void *ctx, int64_t id)
{
    patron_memstore *ms = MS(ctx);
    undo u = { .op = U_REMOVE, .id = id };
    int rc;
    if (!ms->in_txn)
        return PATRON_E_STATE;
    if (id <= 0 || id >= ms->next_id || !ms->recs[id].blob)
        return PATRON_E_NOT_FOUND;
    u.old = ms->recs[id];
    if ((rc = log_push(ms, &u)) != 0)
        return rc;
    index_drop(ms, &ms->recs[id], id);
    memset(&ms->recs[id], 0, sizeof ms->recs[id]);
    return PATRON_OK;
}

/* The number of ids under a key, from the index alone: the inline slots of
 * its hash, or the size of its overflow set. */
static int ms_count(void *ctx, int kind, const char *value, uint64_t *out)
{
    patron_memstore *ms = MS(ctx);
    uint64_t h = patron__hash_key(kind, value), n = 0;
    size_t mask = ms->keys.cap - 1;
    *out = 0;
    if (!ms->keys.cap)
        return PATRON_OK;
    for (size_t j = h & mask; ms->keys.s[j].h; j = (j + 1) & mask) {
        if (ms->keys.s[j].h != h)
            continue;
        if (ms->keys.s[j].id < 0) {
            const mset *t = &ms->keys.ovf[-ms->keys.s[j].id - 1];
            if (kind <= 0 || kind >= 100) {
                n += t->used;
                continue;
            }
            for (size_t k = 0; k < t->cap; k++) /* an exact key: check each (rare) */
                n += t->ids[k] && has_core_key(&ms->recs[t->ids[k]], kind, value);
        } else if (kind <= 0 || kind >= 100 || has_core_key(&ms->recs[ms->keys.s[j].id], kind, value)) {
            n++;
        }
    }
    *out = n;
    return PATRON_OK;
}

static int ms_lookup(void *ctx, int kind, const char *value, patron_emit_id_fn emit, void *ectx)
{
    patron_memstore *ms = MS(ctx);
    uint64_t h = patron__hash_key(kind, value);
    int64_t small[64], *ids = small;
    size_t n = 0, cap = 64, mask = ms->keys.cap - 1;
    if (!ms->keys.cap)
        return PATRON_OK;
    for (size_t j = h & mask; ms->keys.s[j].h; j = (j + 1) & mask) {
        const int64_t *from;
        size_t count;
        int64_t one;
        if (ms->keys.s[j].h != h)
            continue;
        if (ms->keys.s[j].id < 0) { /* a popular key: its overflow set */
            const mset *t = &ms->keys.ovf[-ms->keys.s[j].id - 1];
            from = t->ids;
            count = t->cap;
        } else {
            one = ms->keys.s[j].id;
            from = &one;
            count = 1;
        }
        for (size_t k = 0; k < count; k++) {
            int64_t id = from[k];
            if (!id)
                continue;
            if (kind > 0 && kind < 100 && !has_core_key(&ms->recs[id], kind, value))
                continue; /* a hash collision on an exact key */
            if (n == cap) {
                int64_t *ni = patron__malloc(cap * 2 * sizeof *ni);
                if (!ni) {
                    if (ids != small)
                        patron__free(ids);
                    return PATRON_E_NOMEM;
                }
                memcpy(ni, ids, n * sizeof *ni);
                if (ids != small)
                    patron__free(ids);
                ids = ni;
                cap *= 2;
            }
            ids[n++] = id;
        }
    }
    if (n > 1)
        qsort(ids, n, sizeof *ids, patron__cmp_i64);
    for (size_t i = 0; i < n; i++)
        if (emit(ectx, ids[i]))
            break;
    if (ids != small)
        patron__free(ids);
    return PATRON_OK;
}

static bool filter_match(const mrec *r, const patron_store_filter *f)
{
    if (f->state && r->state != (uint8_t)f->state)
        return false;
    if (f->locked != PATRON_FILTER_ANY && r->locked != (f->locked != 0))
        return false;
    if (f->group && (!r->group || strcmp(r->group, f->group) != 0))
        return false;
    return true;
}

static int ms_scan(void *ctx, const patron_store_filter *f, int64_t after_id, size_t limit,
                   patron_emit_id_fn emit, void *ectx)
{
    patron_memstore *ms = MS(ctx);
    size_t n = 0;
    if (after_id >= ms->next_id)
        return PATRON_OK; /* also keeps after_id + 1 from overflowing */
    for (int64_t id = after_id < 0 ? 1 : after_id + 1; id < ms->next_id && n < limit; id++) {
        if (!ms->recs[id].blob || !filter_match(&ms->recs[id], f))
            continue;
        n++;
        if (emit(ectx, id))
            break;
    }
    return PATRON_OK;
}

static int ms_next_number(void *ctx, uint64_t *out)
{
    patron_memstore *ms = MS(ctx);
    undo u = { .op = U_COUNTER, .id = 0 };
    int rc;
    if (!ms->in_txn)
        return PATRON_E_STATE;
    u.old_value = ms->counter;
    if ((rc = log_push(ms, &u)) != 0)
        return rc;
    *out = ++ms->counter;
    return PATRON_OK;
}

static int ms_claim_number(void *ctx, const char *number)
{
    patron_memstore *ms = MS(ctx);
    undo u = { .op = U_CLAIM, .id = 0 };
    kentry *e;
    int rc;
    if (!ms->in_txn)
        return PATRON_E_STATE;
    e = kmap_get(&ms->numbers, number, strlen(number));
    if (!e)
        return PATRON_E_NOMEM;
    if (e->n)
        return PATRON_E_EXISTS;
    if (!kentry_add(e, 1))
        return PATRON_E_NOMEM;
    u.claimed = e;
    if ((rc = log_push(ms, &u)) != 0) {
        e->n = 0;
        return rc;
    }
    return PATRON_OK;
}

static int ms_journal_append(void *ctx, const patron_journal_entry *entry, int64_t *id_out)
{
    patron_memstore *ms = MS(ctx);
    undo u = { .op = U_JAPPEND, .id = 0 };
    mjournal j;
    int rc;
    if (!ms->in_txn)
        return PATRON_E_STATE;
    if (ms->n_journal == ms->cap_journal) {
        size_t nc = ms->cap_journal ? ms->cap_journal * 2 : 16;
        mjournal *nj = patron__realloc(ms->journal, nc * sizeof *nj);
        if (!nj)
            return PATRON_E_NOMEM;
        ms->journal = nj;
        ms->cap_journal = nc;
    }
    j.e = *entry;
    j.e.id = ms->n_journal ? ms->journal[ms->n_journal - 1].e.id + 1 : 1;
    j.e.kind = patron__strdup(entry->kind ? entry->kind : "");
    j.e.payload = patron__strdup(entry->payload ? entry->payload : "");
    if (!j.e.kind || !j.e.payload || (rc = log_push(ms, &u)) != 0) {
        journal_free_entry(&j);
        return PATRON_E_NOMEM;
    }
    ms->journal[ms->n_journal++] = j;
    *id_out = j.e.id;
    return PATRON_OK;
}

static mjournal *journal_find(patron_memstore *ms, int64_t id)
{
    /* ids ascend: binary search */
    size_t lo = 0, hi = ms->n_journal;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ms->journal[mid].e.id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ms->n_journal && ms->journal[lo].e.id == id ? &ms->journal[lo] : NULL;
}

static int ms_journal_get(void *ctx, int64_t id, patron_emit_journal_fn emit, void *ectx)
{
    mjournal *j = journal_find(MS(ctx), id);
    if (!j)
        return PATRON_E_NOT_FOUND;
    emit(ectx, &j->e);
    return PATRON_OK;
}

static int ms_journal_scan(void *ctx, int64_t after_id, size_t limit, patron_emit_journal_fn emit,
                           void *ectx)
{
    patron_memstore *ms = MS(ctx);
    size_t n = 0;
    for (size_t i = 0; i < ms->n_journal && n < limit; i++) {
        if (ms->journal[i].e.id <= after_id)
            continue;
        n++;
        if (emit(ectx, &ms->journal[i].e))
            break;
    }
    return PATRON_OK;
}

static int ms_journal_set_undone(void *ctx, int64_t id, int64_t undone_by)
{
    patron_memstore *ms = MS(ctx);
    mjournal *j = journal_find(ms, id);
    undo u = { .op = U_JUNDONE, .id = id };
    int rc;
    if (!ms->in_txn)
        return PATRON_E_STATE;
    if (!j)
        return PATRON_E_NOT_FOUND;
    u.old_value = (uint64_t)j->e.undone_by;
    if ((rc = log_push(ms, &u)) != 0)
        return rc;
    j->e.undone_by = undone_by;
    return PATRON_OK;
}

static int ms_journal_rewrite(void *ctx, int64_t id, const char *payload)
{
    patron_memstore *ms = MS(ctx);
    mjournal *j = journal_find(ms, id);
    undo u = { .op = U_JREWRITE, .id = id };
    char *p;
    if (!ms->in_txn)
        return PATRON_E_STATE;
    if (!j)
        return PATRON_E_NOT_FOUND;
    if (!(p = patron__strdup(payload ? payload : "")))
        return PATRON_E_NOMEM;
    u.mold = (char *)j->e.payload;
    if (log_push(ms, &u) != 0) {
        patron__free(p);
        return PATRON_E_NOMEM;
    }
    j->e.payload = p;
    return PATRON_OK;
}

/* ---- host references (orders, invoices) ------------------------------ */

static mref *ref_find(patron_memstore *ms, const char *kind, const char *ref)
{
    for (size_t i = 0; i < ms->n_refs; i++)
        if (strcmp(ms->refs[i].kind, kind) == 0 && strcmp(ms->refs[i].ref, ref) == 0)
            return &ms->refs[i];
    return NULL;
}

patron_status patron_memstore_set_ref(patron_memstore *ms, const char *kind, const char *ref_id,
                                      int64_t customer_id, unsigned flags)
{
    mref *r;
    patron_status st = PATRON_OK;
    if (!ms || !kind || !*kind || !ref_id || !*ref_id || customer_id < 0)
        return PATRON_E_INVALID;
    pthread_mutex_lock(&ms->lock);
    r = ref_find(ms, kind, ref_id);
    if (r) {
        r->owner = customer_id;
        r->flags = flags;
    } else if (customer_id) {
        if (ms->n_refs == ms->cap_refs) {
            size_t nc = ms->cap_refs ? ms->cap_refs * 2 : 16;
            mref *nr = patron__realloc(ms->refs, nc * sizeof *nr);
            if (!nr) {
                st = PATRON_E_NOMEM;
                goto out;
            }
            ms->refs = nr;
            ms->cap_refs = nc;
        }
        r = &ms->refs[ms->n_refs];
        r->kind = patron__strdup(kind);
        r->ref = patron__strdup(ref_id);
        if (!r->kind || !r->ref) {
            patron__free(r->kind);
            patron__free(r->ref);
            st = PATRON_E_NOMEM;
            goto out;
        }
        r->owner = customer_id;
        r->flags = flags;
        ms->n_refs++;
    }
out:
    pthread_mutex_unlock(&ms->lock);
    return st;
}

int64_t patron_memstore_ref_owner(patron_memstore *ms, const char *kind, const char *ref_id)
{
    mref *r;
    int64_t owner;
    if (!ms || !kind || !ref_id)
        return 0;
    pthread_mutex_lock(&ms->lock);
    r = ref_find(ms, kind, ref_id);
    owner = r ? r->owner : 0;
    pthread_mutex_unlock(&ms->lock);
    return owner;
}

static int ref_move(patron_memstore *ms, mref *r, int64_t to)
{
    undo u = { .op = U_REF, .id = 0 };
    int rc;
    u.ref = (size_t)(r - ms->refs);
    u.old_value = (uint64_t)r->owner;
    if ((rc = log_push(ms, &u)) != 0)
        return rc;
    r->owner = to;
    return PATRON_OK;
}

static int ms_relink(void *ctx, int64_t from, int64_t to, patron_emit_ref_fn emit, void *ectx)
{
    patron_memstore *ms = MS(ctx);
    int rc;
    if (!ms->in_txn)
        return PATRON_E_STATE;
    for (size_t i = 0; i < ms->n_refs; i++) {
        mref *r = &ms->refs[i];
        if (r->owner != from || (r->flags & PATRON_REF_PINNED))
            continue;
        if ((rc = ref_move(ms, r, to)) != 0)
            return rc;
        if (emit(ectx, r->kind, r->ref))
            return PATRON_E_STORE;
    }
    return PATRON_OK;
}

static int ms_move_ref(void *ctx, const char *kind, const char *ref, int64_t to)
{
    patron_memstore *ms = MS(ctx);
    mref *r;
    if (!ms->in_txn)
        return PATRON_E_STATE;
    r = ref_find(ms, kind, ref);
    if (!r)
        return PATRON_E_NOT_FOUND;
    return ref_move(ms, r, to);
}

static int ms_check_refs(void *ctx, int64_t id, patron_emit_reason_fn emit, void *ectx)
{
    patron_memstore *ms = MS(ctx);
    for (size_t i = 0; i < ms->n_refs; i++) {
        char reason[300];
        mref *r = &ms->refs[i];
        if (r->owner != id || !(r->flags & PATRON_REF_PINNED))
            continue;
        snprintf(reason, sizeof reason, "%s %s cannot move to another customer", r->kind, r->ref);
        if (emit(ectx, reason))
            break;
    }
    return PATRON_OK;
}

static int ms_meta_get(void *ctx, const char *key, patron_emit_meta_fn emit, void *ectx)
{
    patron_memstore *ms = MS(ctx);
    bool found;
    size_t i = meta_pos(ms, key, &found);
    if (!found)
        return PATRON_E_NOT_FOUND;
    emit(ectx, ms->meta[i].key, ms->meta[i].value);
    return PATRON_OK;
}

static int ms_meta_put(void *ctx, const char *key, const char *value)
{
    patron_memstore *ms = MS(ctx);
    undo u;
    bool found;
    size_t i;
    char *kc = NULL, *vc = NULL;
    int rc;
    if (!ms->in_txn)
        return PATRON_E_STATE;
    memset(&u, 0, sizeof u);
    u.op = U_META;
    i = meta_pos(ms, key, &found);
    if (!found && !value)
        return PATRON_OK;
    if (!found && ms->n_meta == ms->cap_meta) {
        size_t nc = ms->cap_meta ? ms->cap_meta * 2 : 16;
        mmeta *nm = patron__realloc(ms->meta, nc * sizeof *nm);
        if (!nm)
            return PATRON_E_NOMEM;
        ms->meta = nm;
        ms->cap_meta = nc;
    }
    u.mkey = patron__strdup(key);
    if (!u.mkey || (value && !(vc = patron__strdup(value))) || (!found && !(kc = patron__strdup(key)))) {
        patron__free(u.mkey);
        patron__free(vc);
        patron__free(kc);
        return PATRON_E_NOMEM;
    }
    if (found) {
        u.mold = ms->meta[i].value;
        if ((rc = log_push(ms, &u)) != 0) {
            patron__free(u.mkey);
            patron__free(vc);
            return rc;
        }
        if (vc) {
            ms->meta[i].value = vc;
        } else {
            patron__free(ms->meta[i].key);
            memmove(&ms->meta[i], &ms->meta[i + 1], (ms->n_meta - i - 1) * sizeof *ms->meta);
            ms->n_meta--;
        }
        return PATRON_OK;
    }
    u.mold = NULL;
    if ((rc = log_push(ms, &u)) != 0) {
        patron__free(u.mkey);
        patron__free(vc);
        patron__free(kc);
        return rc;
    }
    memmove(&ms->meta[i + 1], &ms->meta[i], (ms->n_meta - i) * sizeof *ms->meta);
    ms->meta[i].key = kc;
    ms->meta[i].value = vc;
    ms->n_meta++;
    return PATRON_OK;
}

static int ms_meta_scan(void *ctx, const char *prefix, patron_emit_meta_fn emit, void *ectx)
{
    patron_memstore *ms = MS(ctx);
    size_t pn = strlen(prefix);
    bool found;
    for (size_t i = meta_pos(ms, prefix, &found); i < ms->n_meta; i++) {
        if (strncmp(ms->meta[i].key, prefix, pn) != 0)
            break;
        if (emit(ectx, ms->meta[i].key, ms->meta[i].value))
            break;
    }
    return PATRON_OK;
}

/* ---- the match form ------------------------------------------------------ */

static int ms_match_form_put(void *ctx, int64_t id, const void *form, size_t len)
{
    patron_memstore *ms = MS(ctx);
    undo u = { .op = U_FORM, .id = id };
    mrec *r;
    char *copy;
    int rc;
    if (!ms->in_txn)
        return PATRON_E_STATE;
    if (id <= 0 || id >= ms->next_id || !ms->recs[id].blob)
        return PATRON_E_NOT_FOUND;
    if (len > UINT32_MAX || !(copy = patron__malloc(len ? len : 1)))
        return PATRON_E_NOMEM;
    memcpy(copy, form, len);
    r = &ms->recs[id];
    u.old.form = r->form;
    u.old.form_len = r->form_len;
    if ((rc = log_push(ms, &u)) != 0) {
        patron__free(copy);
        return rc;
    }
    r->form = copy;
    r->form_len = (uint32_t)len;
    return PATRON_OK;
}

/* Borrowed: a form replaced or removed in this transaction stays in the
 * undo log until it ends. */
static int ms_match_form_get(void *ctx, int64_t id, const void **form, size_t *len_out)
{
    patron_memstore *ms = MS(ctx);
    if (id <= 0 || id >= ms->next_id || !ms->recs[id].blob || !ms->recs[id].form)
        return PATRON_E_NOT_FOUND;
    *form = ms->recs[id].form;
    *len_out = ms->recs[id].form_len;
    return PATRON_OK;
}

static const char *ms_errmsg(void *ctx)
{
    (void)ctx;
    return "memory store: out of memory or used outside a transaction";
}

static void ms_destroy(void *ctx)
{
    msession *s = ctx;
    if (s->in_txn)
        ms_rollback(s);
    if (s->owns)
        patron_memstore_free(s->ms);
    patron__free(s);
}

static const patron_store_ops MEM_OPS = {
    .version = PATRON_STORE_VERSION,
    .begin = ms_begin,
    .commit = ms_commit,
    .rollback = ms_rollback,
    .load = ms_load,
    .insert = ms_insert,
    .update = ms_update,
    .remove = ms_remove,
    .lookup = ms_lookup,
    .scan = ms_scan,
    .next_number = ms_next_number,
    .claim_number = ms_claim_number,
    .relink = ms_relink,
    .move_ref = ms_move_ref,
    .check_refs = ms_check_refs,
    .journal_append = ms_journal_append,
    .journal_get = ms_journal_get,
    .journal_scan = ms_journal_scan,
    .journal_set_undone = ms_journal_set_undone,
    .errmsg = ms_errmsg,
    .destroy = ms_destroy,
    .meta_get = ms_meta_get,
    .meta_put = ms_meta_put,
    .meta_scan = ms_meta_scan,
    .match_form_put = ms_match_form_put,
    .match_form_get = ms_match_form_get,
    .count = ms_count,
    .journal_rewrite = ms_journal_rewrite,
};

/* A new session on `ms` (NULL: a private store owned by the session). */
static patron_status session_new(patron_memstore *ms, void **ctx)
{
    msession *s = patron__calloc(1, sizeof *s);
    patron_status st;
    if (!s)
        return PATRON_E_NOMEM;
    if (!ms) {
        if ((st = patron_memstore_new(&s->ms)) != 0) {
            patron__free(s);
            return st;
        }
        s->owns = true;
    } else {
        s->ms = ms;
    }
    *ctx = s;
    return PATRON_OK;
}

/* The size of a host's struct of version v (known: patron_store_ops_init
 * accepted it): up to the last member of that version. */
static size_t ops_size_of(unsigned v)
{
#define END_OF(m) (offsetof(patron_store_ops, m) + sizeof MEM_OPS.m)
    switch (v) {
    case 1: return END_OF(meta_scan);
    case 2: return END_OF(match_form_get);
    case 3: return END_OF(count);
    case 4: return END_OF(begin_read);
    default: return sizeof MEM_OPS;
    }
#undef END_OF
}

patron_status patron_memstore_ops(patron_store_ops *ops_out, void **ctx_out, patron_memstore *ms)
{
    unsigned v;
    patron_status st;
    if (!ops_out || !ctx_out)
        return PATRON_E_INVALID;
    *ctx_out = NULL;
    /* write only the members of the host's version */
    v = ops_out->version;
    if ((st = patron_store_ops_init(ops_out, v)) != 0)
        return st;
    if ((st = session_new(ms, ctx_out)) != 0)
        return st;
    memcpy(ops_out, &MEM_OPS, ops_size_of(v));
    ops_out->version = v;
    return PATRON_OK;
}

patron_status patron_db_open_memory(patron_db **out, patron_memstore *ms)
{
    void *ctx;
    patron_status st;
    if (!out)
        return PATRON_E_INVALID;
    *out = NULL;
    if ((st = session_new(ms, &ctx)) != 0)
        return st;
    st = patron_db_open(out, &MEM_OPS, ctx);
    if (st)
        ms_destroy(ctx);
    return st;
}
