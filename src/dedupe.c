/* patron — batch deduplication of a whole store.
 * SPDX-License-Identifier: MIT
 *
 * Every record is read once and normalised; its blocking keys are hashed to
 * 64 bits and the (hash, record) entries radix-sorted, so each block is a run
 * of equal hashes.  A pair is scored once: in the block of the first key the
 * two records share (their key lists are sorted), so records that share many
 * keys cost no more than records that share one.  Blocks larger than
 * PATRON__BLOCK_MAX (keys so common that they say nothing, such as a shared
 * company mailbox) are dropped from every record's key list before pairing,
 * so a pair is still found through any smaller block it shares.  Pairing
 * runs on as many threads as there are cores (at most 8); each thread owns a
 * range of whole blocks and its own output. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define MAX_THREADS 8
/* Up to this many entries are sorted by insertion, not by radix. */
#define SMALL_SORT 64

typedef struct entry {
    uint64_t hash;
    uint32_t rec;
} entry;

typedef struct pair {
    uint32_t a, b;
    float score;
    int decision;
} pair;

struct patron_pairs {
    size_t n;
    int64_t *id_a, *id_b;
    double *score;
    int *decision;
    /* clusters: sorted ids with their cluster id */
    size_t n_members;
    int64_t *member, *cluster;
    /* households: the same over MERGE and HOUSEHOLD pairs */
    size_t n_hmembers;
    int64_t *hmember, *hcluster;
};

typedef struct batch {
    patron__match_config cfg;
    patron__match_rec *recs;   /* normalised here (general path) */
    patron__match_rec **rp; /* the record of each index (both paths) */
    /* Match-form path: per record, one piece of an arena holding the
     * record and its addresses (their strings stay in the store's form),
     * so that scoring a pair touches fewer places than a record
     * array, an address array and the store's heap. */
    char **arena;
    size_t n_arena, arena_size, arena_used;
    int64_t *ids;
    size_t n, cap;
    uint64_t *khash; /* sorted key hashes of each record */
    uint32_t *koff;  /* n + 1 offsets into khash */
    entry *ent;
    size_t nent;
    /* term frequencies: sorted hashes of (kind, value) of every record's
     * frequency values, with how many records hold each */
    uint32_t *tfoff; /* n + 1 offsets into tfc: 5 field slots, then one per address */
    uint32_t *tfc;   /* records holding each slot's value (0: no value) */
    patron__match_tf tf;
} batch;

/* A record's key hashes into h, sorted and without repeats (pairs are
 * scored in the block of the first hash two records share); returns how many. */
static size_t hash_keys(uint64_t *h, const patron__match_key *keys, size_t nk)
{
    size_t w = 0, n = 0;
    for (size_t k = 0; k < nk; k++) {
        uint64_t v = patron__hash_key_n(keys[k].kind, keys[k].value, keys[k].len); /* never 0: "no common key" below */
        size_t p = w;
        while (p > 0 && h[p - 1] > v) { /* insertion sort: few keys */
            h[p] = h[p - 1];
            p--;
        }
        h[p] = v;
        w++;
    }
    for (size_t k = 0; k < w; k++)
        if (n == 0 || h[n - 1] != h[k])
            h[n++] = h[k];
    return n;
}

static void batch_free(batch *b)
{
    if (b->recs) {
        for (size_t i = 0; i < b->n; i++)
            patron__match_rec_free(&b->recs[i]);
    } else {
        for (size_t i = 0; b->rp && i < b->n; i++)
            if (b->rp[i]->mem) /* normalised, not a view */
                patron__match_rec_free(b->rp[i]);
    }
    patron__free(b->recs);
    patron__free(b->rp);
    for (size_t i = 0; i < b->n_arena; i++)
        patron__free(b->arena[i]);
    patron__free(b->arena);
    patron__free(b->ids);
    patron__free(b->khash);
    patron__free(b->koff);
    patron__free(b->ent);
    patron__free(b->tfoff);
    patron__free(b->tfc);
    memset(b, 0, sizeof *b);
}

/* ---- reading the store -------------------------------------------------- */

#define CHUNK 8192

/* Normalising and keying a chunk of loaded records, on several threads. */
typedef struct nchunk {
    patron_customer **cust;   /* CHUNK loaded records */
    patron__match_rec *recs;  /* where their normalised forms go */
    uint64_t *kh;             /* CHUNK * PATRON__MATCH_KEYS_MAX hashes */
    uint8_t *nk;
    const patron__match_config *cfg;
    size_t from, to;
    bool oom;
} nchunk;

static void *norm_thread(void *arg)
{
    nchunk *j = arg;
    patron__match_key keys[PATRON__MATCH_KEYS_MAX];
    for (size_t i = j->from; i < j->to; i++) {
        uint64_t *h = j->kh + i * PATRON__MATCH_KEYS_MAX;
        size_t nk;
        if (patron__cust_match_rec_cfg(&j->recs[i], j->cust[i], j->cfg) != 0) {
            j->oom = true;
            memset(&j->recs[i], 0, sizeof j->recs[i]);
            j->nk[i] = 0;
            continue;
        }
        nk = patron__match_keys(keys, PATRON__MATCH_KEYS_MAX, &j->recs[i], j->cfg);
        j->nk[i] = (uint8_t)hash_keys(h, keys, nk);
    }
    return NULL;
}

static int nthreads(void);

/* Normalise the chunk's records into b (in parallel), then append their
 * keys (in order). */
static patron_status flush_chunk(patron_db *db, batch *b, patron_customer **cust, int64_t *ids, size_t n,
                                 uint64_t *kh, uint8_t *nk, size_t *khash_cap)
{
    nchunk jobs[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    int nj = nthreads(), started = 0;
    size_t need = 0;
    bool oom = false;
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap : CHUNK;
        patron__match_rec *nr;
        int64_t *ni;
        uint32_t *no;
        while (nc < b->n + n)
            nc *= 2;
        nr = patron__realloc(b->recs, nc * sizeof *nr);
        if (nr)
            b->recs = nr;
        ni = nr ? patron__realloc(b->ids, nc * sizeof *ni) : NULL;
        if (ni)
            b->ids = ni;
        no = ni ? patron__realloc(b->koff, (nc + 1) * sizeof *no) : NULL;
        if (no)
            b->koff = no;
        if (!nr || !ni || !no)
            return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        if (b->cap == 0)
            b->koff[0] = 0;
        b->cap = nc;
    }
    if (b->n + n >= UINT32_MAX)
        return patron__db_error(db, PATRON_E_RANGE, "too many customers for one batch");
    for (int t = 0; t < nj; t++) {
        jobs[t].cust = cust;
        jobs[t].recs = b->recs + b->n;
        jobs[t].kh = kh;
        jobs[t].nk = nk;
        jobs[t].cfg = &b->cfg;
        jobs[t].from = n * (size_t)t / (size_t)nj;
        jobs[t].to = n * (size_t)(t + 1) / (size_t)nj;
        jobs[t].oom = false;
    }
    for (int t = 1; t < nj; t++) {
        if (pthread_create(&th[t], NULL, norm_thread, &jobs[t]) != 0)
            break;
        started = t;
    }
    norm_thread(&jobs[0]);
    for (int t = 1; t <= started; t++)
        pthread_join(th[t], NULL);
    for (int t = started + 1; t < nj; t++)
        norm_thread(&jobs[t]);
    for (int t = 0; t < nj; t++)
        oom |= jobs[t].oom;
    for (size_t i = 0; i < n; i++)
        need += nk[i];
    /* allocated even when no record so far has a key: b->khash + offset
     * on a NULL pointer is undefined behaviour, zero offset included */
    if (!oom && (!b->khash || b->koff[b->n] + need > *khash_cap)) {
        size_t nc = *khash_cap ? *khash_cap : 65536;
        uint64_t *nh;
        while (nc < b->koff[b->n] + need)
            nc *= 2;
        nh = patron__realloc(b->khash, nc * sizeof *nh);
        if (nh) {
            b->khash = nh;
            *khash_cap = nc;
        } else {
            oom = true;
        }
    }
    if (oom) {
        for (size_t i = 0; i < n; i++)
            patron__match_rec_free(&b->recs[b->n + i]);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t base = b->koff[b->n];
        memcpy(b->khash + base, kh + i * PATRON__MATCH_KEYS_MAX, nk[i] * sizeof *kh);
        b->ids[b->n] = ids[i];
        b->koff[b->n + 1] = base + nk[i];
        b->n++;
    }
    return PATRON_OK;
}

static patron_status read_all(patron_db *db, batch *b)
{
    static const patron_filter all = PATRON_FILTER_INIT;
    patron__idpage page;
    int64_t after = 0;
    size_t khash_cap = 0, n = 0;
    patron_customer **cust = patron__calloc(CHUNK, sizeof *cust);
    int64_t *ids = patron__malloc(CHUNK * sizeof *ids);
    uint64_t *kh = patron__malloc((size_t)CHUNK * PATRON__MATCH_KEYS_MAX * sizeof *kh);
    uint8_t *nk = patron__malloc(CHUNK);
    patron_status st = PATRON_OK;
    if (!cust || !ids || !kh || !nk)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    do {
        page.n = 0;
        if (!st)
            st = patron__st_scan(db, &all, after, PATRON__IDPAGE, patron__idpage_emit, &page);
        for (size_t i = 0; i < page.n && !st; i++) {
            patron_customer *c = NULL;
            if ((st = patron__load_in_tx(db, &c, page.ids[i])) != 0)
                break;
            if (patron_customer_state(c) == PATRON_STATE_MERGED) {
                patron_customer_free(c);
                continue;
            }
            cust[n] = c;
            ids[n++] = page.ids[i];
            if (n == CHUNK) {
                st = flush_chunk(db, b, cust, ids, n, kh, nk, &khash_cap);
                for (size_t k = 0; k < n; k++)
                    patron_customer_free(cust[k]);
                n = 0;
            }
        }
        if (page.n)
            after = page.ids[page.n - 1];
    } while (!st && page.n == PATRON__IDPAGE);
    if (!st && n)
        st = flush_chunk(db, b, cust, ids, n, kh, nk, &khash_cap);
    for (size_t k = 0; cust && k < n; k++)
        patron_customer_free(cust[k]);
    patron__free(cust);
    patron__free(ids);
    patron__free(kh);
    patron__free(nk);
    return st;
}

/* The general path's records: point rp at them. */
static bool point_at_recs(batch *b)
{
    b->rp = patron__malloc((b->n ? b->n : 1) * sizeof *b->rp);
    if (!b->rp)
        return false;
    for (size_t i = 0; i < b->n; i++)
        b->rp[i] = &b->recs[i];
    return true;
}

/* `size` bytes (a multiple of 8) of the arena, 8-aligned. */
#define ARENA_BLOCK ((size_t)4 << 20)
static void *arena_take(batch *b, size_t size)
{
    void *p;
    if (b->n_arena == 0 || b->arena_size - b->arena_used < size) {
        size_t sz = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        char **na = patron__realloc(b->arena, (b->n_arena + 1) * sizeof *na);
        if (!na)
            return NULL;
        b->arena = na;
        if (!(na[b->n_arena] = patron__malloc(sz)))
            return NULL;
        b->n_arena++;
        b->arena_size = sz;
        b->arena_used = 0;
    }
    p = b->arena[b->n_arena - 1] + b->arena_used;
    b->arena_used += size;
    return p;
}

#define ROUND8(x) (((x) + 7) & ~(size_t)7)
/* A piece: the record's index (u64), the record, its addresses.  (A copy
 * of the form beside them saved another few per cent of CPU at 1M
 * customers but cost ~180 MiB, over the 2 GiB target.) */
#define PIECE_HEAD 8
/* No form of ours (matchform.c) is longer: the head, then strings of at
 * most 3 + 255 bytes, 8 of them and 6 per address. */
#define FORM_LEN_MAX(na) (12 + (8 + 6 * (size_t)(na)) * (3 + PATRON__MATCH_FIELD_MAX))
/* Nor shorter: every string takes at least its length and its NUL. */
#define FORM_LEN_MIN(na) (12 + (8 + 6 * (size_t)(na)) * 3)

/* The store keeps every record's match form: view each in place (the
 * caller holds the transaction until the pairs are made), the view and its
 * addresses in one arena piece.
 * A record without a form, or with bytes that are not one, is loaded and
 * normalised instead. */
static patron_status read_all_forms(patron_db *db, batch *b)
{
    static const patron_filter all = PATRON_FILTER_INIT;
    patron__idpage page;
    int64_t after = 0;
    size_t khash_cap = 0;
    patron__match_key keys[PATRON__MATCH_KEYS_MAX];
    patron_status st = PATRON_OK;
    do {
        page.n = 0;
        st = patron__st_scan(db, &all, after, PATRON__IDPAGE, patron__idpage_emit, &page);
        for (size_t i = 0; i < page.n && !st; i++) {
            patron__match_rec *r;
            const void *form;
            size_t flen, nk, base, na_head = 0;
            int state = 0;
            long na = -1;
            uint64_t *h;
            if (b->n + 1 >= b->cap) {
                size_t nc = b->cap ? b->cap * 2 : 4096;
                patron__match_rec **nr = patron__realloc(b->rp, nc * sizeof *nr);
                int64_t *ni;
                uint32_t *no;
                if (nr)
                    b->rp = nr;
                ni = nr ? patron__realloc(b->ids, nc * sizeof *ni) : NULL;
                if (ni)
                    b->ids = ni;
                no = ni ? patron__realloc(b->koff, (nc + 1) * sizeof *no) : NULL;
                if (no)
                    b->koff = no;
                if (!nr || !ni || !no) {
                    st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                    break;
                }
                if (b->cap == 0)
                    b->koff[0] = 0;
                b->cap = nc;
            }
            if (b->n >= UINT32_MAX - 1) {
                st = patron__db_error(db, PATRON_E_RANGE, "too many customers for one batch");
                break;
            }
            st = patron__st_match_form(db, page.ids[i], &form, &flen);
            if (st == PATRON_OK) {
                const unsigned char *fh = form;
                if (flen >= 7)
                    na_head = (size_t)fh[5] | (size_t)fh[6] << 8;
                if (flen < FORM_LEN_MIN(na_head) || flen > FORM_LEN_MAX(na_head))
                    flen = 0, na_head = 0; /* not ours: no room for what it claims */
            } else if (st == PATRON_E_NOT_FOUND) {
                st = PATRON_OK;
                flen = 0;
            } else {
                break;
            }
            {
                size_t ra = PIECE_HEAD + ROUND8(sizeof *r), aa = na_head * sizeof(patron__match_addr);
                char *piece = arena_take(b, ra + ROUND8(aa));
                if (!piece) {
                    st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                    break;
                }
                *(uint64_t *)(void *)piece = b->n; /* its index, for batch_tf_count */
                r = (patron__match_rec *)(void *)(piece + PIECE_HEAD);
                if (flen) {
                    na = patron__form_view(r, (patron__match_addr *)(void *)(piece + ra), na_head, &state,
                                           form, flen, b->cfg.default_country);
                    if (na != (long)na_head)
                        na = -1;
                }
            }
            if (na < 0) { /* no form of ours: the record itself */
                patron_customer *c = NULL;
                memset(r, 0, sizeof *r);
                if ((st = patron__load_in_tx(db, &c, page.ids[i])) != 0)
                    break;
                state = patron_customer_state(c);
                if (state != PATRON_STATE_MERGED && patron__cust_match_rec_cfg(r, c, &b->cfg) != 0)
                    st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                patron_customer_free(c);
                if (st)
                    break;
            }
            if (state == PATRON_STATE_MERGED) {
                if (r->mem)
                    patron__match_rec_free(r);
                continue;
            }
            nk = patron__match_keys(keys, PATRON__MATCH_KEYS_MAX, r, &b->cfg);
            base = b->koff[b->n];
            if (!b->khash || base + nk > khash_cap) { /* never NULL + offset */
                size_t nc = khash_cap ? khash_cap * 2 : 65536;
                uint64_t *nh;
                while (nc < base + nk)
                    nc *= 2;
                nh = patron__realloc(b->khash, nc * sizeof *nh);
                if (!nh) {
                    if (r->mem)
                        patron__match_rec_free(r);
                    st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                    break;
                }
                b->khash = nh;
                khash_cap = nc;
            }
            h = b->khash + base;
            nk = hash_keys(h, keys, nk);
            b->rp[b->n] = r;
            b->ids[b->n] = page.ids[i];
            b->koff[b->n + 1] = (uint32_t)(base + nk);
            b->n++;
        }
        if (page.n)
            after = page.ids[page.n - 1];
    } while (!st && page.n == PATRON__IDPAGE);
    return st;
}

/* ---- blocks ---------------------------------------------------------------- */

/* Stable LSD radix sort on the hash, 16 bits a pass: the four digit
 * counts in one read, passes alternating between a and tmp (an even
 * number, so the result ends in a), a pass whose digit is the same in
 * every entry skipped (it would move nothing). */
static bool radix_sort(entry *a, size_t n)
{
    entry *tmp, *src = a, *dst;
    size_t *cnt;
    if (n <= SMALL_SORT) {
        /* a few entries (a small store): insertion sort, also stable,
         * instead of 2 MiB of counters to clear and sum */
        for (size_t i = 1; i < n; i++) {
            entry e = a[i];
            size_t j = i;
            for (; j > 0 && a[j - 1].hash > e.hash; j--)
                a[j] = a[j - 1];
            a[j] = e;
        }
        return true;
    }
    tmp = patron__malloc(n * sizeof *tmp);
    cnt = patron__calloc((size_t)4 * 65536, sizeof *cnt);
    dst = tmp;
    if (!tmp || !cnt) {
        patron__free(tmp);
        patron__free(cnt);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t h = a[i].hash;
        cnt[h & 0xFFFF]++;
        cnt[65536 + (h >> 16 & 0xFFFF)]++;
        cnt[2 * 65536 + (h >> 32 & 0xFFFF)]++;
        cnt[3 * 65536 + (h >> 48)]++;
    }
    for (int pass = 0; pass < 4; pass++) {
        int shift = pass * 16;
        size_t *c = cnt + (size_t)pass * 65536, sum = 0;
        entry *t;
        if (n == 0 || c[(src[0].hash >> shift) & 0xFFFF] == n)
            continue; /* one digit value: the order stays */
        for (size_t i = 0; i < 65536; i++) {
            size_t k = c[i];
            c[i] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i].hash >> shift) & 0xFFFF]++] = src[i];
        t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    patron__free(tmp);
    patron__free(cnt);
    return true;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* Sort the entries; take the hashes of oversized blocks out of every
 * record's key list and out of the entries. */
static bool build_blocks(batch *b)
{
    uint64_t *big = NULL;
    size_t n_big = 0, cap_big = 0, w;
    b->nent = b->koff[b->n];
    b->ent = patron__malloc((b->nent ? b->nent : 1) * sizeof *b->ent);
    if (!b->ent)
        return false;
    for (size_t r = 0; r < b->n; r++)
        for (uint32_t k = b->koff[r]; k < b->koff[r + 1]; k++) {
            b->ent[k].hash = b->khash[k];
            b->ent[k].rec = (uint32_t)r;
        }
    if (!radix_sort(b->ent, b->nent))
        return false;
    for (size_t s = 0; s < b->nent;) {
        size_t e = s + 1;
        while (e < b->nent && b->ent[e].hash == b->ent[s].hash)
            e++;
        if (e - s > PATRON__BLOCK_MAX) {
            if (n_big == cap_big) {
                size_t nc = cap_big ? cap_big * 2 : 64;
                uint64_t *nb = patron__realloc(big, nc * sizeof *nb);
                if (!nb) {
                    patron__free(big);
                    return false;
                }
                big = nb;
                cap_big = nc;
            }
            big[n_big++] = b->ent[s].hash;
        }
        s = e;
    }
    if (n_big == 0)
        return true;
    /* big is sorted already (entries are) */
    w = 0;
    for (size_t i = 0; i < b->nent; i++)
        if (!bsearch(&b->ent[i].hash, big, n_big, sizeof *big, cmp_u64))
            b->ent[w++] = b->ent[i];
    b->nent = w;
    w = 0;
    for (size_t r = 0; r < b->n; r++) {
        uint32_t from = b->koff[r], to = b->koff[r + 1];
        b->koff[r] = (uint32_t)w;
        for (uint32_t k = from; k < to; k++)
            if (!bsearch(&b->khash[k], big, n_big, sizeof *big, cmp_u64))
                b->khash[w++] = b->khash[k];
    }
    b->koff[b->n] = (uint32_t)w;
    patron__free(big);
    return true;
}

/* ---- term frequencies ---------------------------------------------------- */

static const int tf_fields[] = { PATRON__MF_FIRST, PATRON__MF_LAST, PATRON__MF_COMPANY, PATRON__MF_EMAIL,
                                 PATRON__MF_PHONE };

/* Of the value (len bytes) patron__match_tf_value wrote. */
static uint64_t tf_hash(int field, const char *value, size_t len)
{
    return patron__hash_key_n(patron__match_tf_kind(field), value, len);
}

#define TF_FIELDS (sizeof tf_fields / sizeof tf_fields[0])

static int tf_slot(int field)
{
    for (size_t k = 0; k < TF_FIELDS; k++)
        if (tf_fields[k] == field)
            return (int)k;
    return -1;
}

static double batch_tf_count(void *ctx, int field, const patron__match_rec *r, int addr)
{
    const batch *b = ctx;
    size_t i, slot;
    int k;
    if (b->recs) { /* general path: an array */
        if (r < b->recs || (i = (size_t)(r - b->recs)) >= b->n)
            return -1;
    } else { /* arena pieces: the index before the record */
        i = (size_t) * (const uint64_t *)(const void *)((const char *)r - PIECE_HEAD);
        if (i >= b->n || b->rp[i] != r)
            return -1;
    }
    if (field == PATRON__MF_STREET) {
        if (addr < 0 || (size_t)addr >= r->n_addr)
            return -1;
        slot = b->tfoff[i] + TF_FIELDS + (size_t)addr;
    } else if ((k = tf_slot(field)) >= 0) {
        slot = b->tfoff[i] + (size_t)k;
    } else {
        return -1;
    }
    if (slot >= b->tfoff[i + 1] || !b->tfc[slot])
        return -1;
    return (double)b->tfc[slot];
}

/* Count every distinct value once for the whole run: the same numbers the
 * store's key index gives (the records holding the value), with no lookup
 * per pair: (hash, slot) entries radix-sorted, each run's length written to
 * its slots. */
static bool build_tf(batch *b)
{
    size_t n = 0;
    entry *e;
    char v[PATRON__MATCH_KEY_MAX];
    b->tfoff = patron__malloc((b->n + 1) * sizeof *b->tfoff);
    if (!b->tfoff)
        return false;
    for (size_t i = 0; i < b->n; i++) {
        b->tfoff[i] = (uint32_t)n;
        n += TF_FIELDS + b->rp[i]->n_addr;
        if (n >= UINT32_MAX)
            return false;
    }
    b->tfoff[b->n] = (uint32_t)n;
    b->tfc = patron__calloc(n ? n : 1, sizeof *b->tfc);
    e = patron__malloc((n ? n : 1) * sizeof *e);
    if (!b->tfc || !e) {
        patron__free(e);
        return false;
    }
    n = 0;
    for (size_t i = 0; i < b->n; i++) {
        const patron__match_rec *r = b->rp[i];
        uint32_t base = b->tfoff[i];
        for (size_t f = 0; f < TF_FIELDS; f++) {
            size_t len = patron__match_tf_value(v, tf_fields[f], r, -1);
            if (len) {
                e[n].hash = tf_hash(tf_fields[f], v, len);
                e[n++].rec = base + (uint32_t)f;
            }
        }
        for (size_t a = 0; a < r->n_addr; a++) {
            size_t len = patron__match_tf_value(v, PATRON__MF_STREET, r, (int)a);
            if (len) {
                uint64_t x = tf_hash(PATRON__MF_STREET, v, len);
                size_t k, first = n;
                for (k = n; k > 0 && e[k - 1].rec >= base + TF_FIELDS; k--)
                    if (e[k - 1].hash == x)
                        first = k - 1;
                if (first != n) { /* the same address twice: one holder, counted later */
                    b->tfc[base + TF_FIELDS + a] = UINT32_MAX - (uint32_t)(e[first].rec - base);
                    continue;
                }
                e[n].hash = x;
                e[n++].rec = base + (uint32_t)(TF_FIELDS + a);
            }
        }
    }
    if (!radix_sort(e, n)) {
        patron__free(e);
        return false;
    }
    for (size_t s = 0; s < n;) {
        size_t t = s + 1;
        while (t < n && e[t].hash == e[s].hash)
            t++;
        for (size_t k = s; k < t; k++)
            b->tfc[e[k].rec] = (uint32_t)(t - s);
        s = t;
    }
    patron__free(e);
    /* an address a record holds twice: the count of its first occurrence */
    for (size_t i = 0; i < b->n; i++)
        for (uint32_t slot = b->tfoff[i] + (uint32_t)TF_FIELDS; slot < b->tfoff[i + 1]; slot++)
            if (b->tfc[slot] > UINT32_MAX - 64 - (uint32_t)TF_FIELDS)
                b->tfc[slot] = b->tfc[b->tfoff[i] + (UINT32_MAX - b->tfc[slot])];
    b->tf.count = batch_tf_count;
    b->tf.ctx = b;
    b->tf.n = (double)b->n;
    return true;
}

/* ---- pairs ----------------------------------------------------------------- */

typedef struct job {
    const batch *b;
    size_t from, to; /* entry range, on block starts */
    pair *out;
    size_t n, cap;
    bool oom;
} job;

static uint64_t first_common(const batch *b, uint32_t x, uint32_t y)
{
    const uint64_t *p = b->khash + b->koff[x], *pe = b->khash + b->koff[x + 1];
    const uint64_t *q = b->khash + b->koff[y], *qe = b->khash + b->koff[y + 1];
    while (p < pe && q < qe) {
        if (*p == *q)
            return *p;
        if (*p < *q)
            p++;
        else
            q++;
    }
    return 0;
}

static void *pair_thread(void *arg)
{
    job *j = arg;
    const batch *b = j->b;
    size_t s = j->from;
    while (s < j->to && !j->oom) {
        size_t e = s + 1;
        uint64_t h = b->ent[s].hash;
        while (e < b->nent && b->ent[e].hash == h)
            e++;
        for (size_t x = s; x < e && !j->oom; x++)
            for (size_t y = x + 1; y < e; y++) {
                uint32_t ra = b->ent[x].rec, rb = b->ent[y].rec;
                patron__match_result r;
                if (ra == rb || first_common(b, ra, rb) != h)
                    continue; /* scored in the block of their first common key */
                patron__match_score_tf(&r, b->rp[ra], b->rp[rb], &b->cfg, b->tfc ? &b->tf : NULL);
                if (r.decision == PATRON__MATCH_DISTINCT)
                    continue;
                if (j->n == j->cap) {
                    size_t nc = j->cap ? j->cap * 2 : 1024;
                    pair *np = patron__realloc(j->out, nc * sizeof *np);
                    if (!np) {
                        j->oom = true;
                        break;
                    }
                    j->out = np;
                    j->cap = nc;
                }
                j->out[j->n].a = ra < rb ? ra : rb;
                j->out[j->n].b = ra < rb ? rb : ra;
                j->out[j->n].score = (float)r.score;
                j->out[j->n].decision = patron__decision_public(r.decision);
                j->n++;
            }
        s = e;
    }
    return NULL;
}

static int nthreads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : (int)n);
}

/* ---- clusters: union-find over MERGE pairs -------------------------------------- */

static uint32_t find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

typedef struct idx_pair {
    int64_t a, b;
    double score;
    int decision;
} idx_pair;

static int cmp_idx_pair(const void *x, const void *y)
{
    const idx_pair *p = x, *q = y;
    if (p->a != q->a)
        return (p->a > q->a) - (p->a < q->a);
    return (p->b > q->b) - (p->b < q->b);
}

void patron_pairs_free(patron_pairs *p)
{
    if (!p)
        return;
    patron__free(p->id_a);
    patron__free(p->id_b);
    patron__free(p->score);
    patron__free(p->decision);
    patron__free(p->member);
    patron__free(p->cluster);
    patron__free(p->hmember);
    patron__free(p->hcluster);
    patron__free(p);
}

/* Clusters: the transitive closure of the MERGE pairs (with `household`,
 * of the MERGE and HOUSEHOLD pairs), each named by its smallest id. */
static bool make_clusters(const batch *b, job *jobs, int nj, bool household, size_t *n_out,
                          int64_t **member_out, int64_t **cluster_out)
{
    size_t members = 0, n = 0;
    uint32_t *parent = patron__malloc((b->n ? b->n : 1) * sizeof *parent);
    int64_t *cmin = patron__malloc((b->n ? b->n : 1) * sizeof *cmin);
    int64_t *member = NULL, *cluster = NULL;
    if (!parent || !cmin)
        goto fail;
    for (size_t i = 0; i < b->n; i++)
        parent[i] = (uint32_t)i;
    for (int t = 0; t < nj; t++)
        for (size_t i = 0; i < jobs[t].n; i++) {
            const pair *q = &jobs[t].out[i];
            if (q->decision == PATRON_DECISION_MERGE ||
                (household && q->decision == PATRON_DECISION_HOUSEHOLD)) {
                uint32_t x = find(parent, q->a), y = find(parent, q->b);
                if (x != y)
                    parent[x > y ? x : y] = x < y ? x : y;
            }
        }
    /* Records are in ascending id order, and a root is the smallest index of
     * its set, so the root's id is the smallest id: a stable cluster id. */
    for (size_t i = 0; i < b->n; i++)
        cmin[i] = 0;
    for (size_t i = 0; i < b->n; i++) {
        uint32_t r = find(parent, (uint32_t)i);
        if (r != i) {
            if (!cmin[r]) {
                cmin[r] = b->ids[r];
                members++;
            }
            cmin[i] = b->ids[r];
            members++;
        }
    }
    member = patron__malloc((members ? members : 1) * sizeof *member);
    cluster = patron__malloc((members ? members : 1) * sizeof *cluster);
    if (!member || !cluster)
        goto fail;
    for (size_t i = 0; i < b->n; i++)
        if (cmin[i]) {
            member[n] = b->ids[i];
            cluster[n++] = cmin[i];
        }
    patron__free(parent);
    patron__free(cmin);
    *n_out = n;
    *member_out = member;
    *cluster_out = cluster;
    return true;
fail:
    patron__free(parent);
    patron__free(cmin);
    patron__free(member);
    patron__free(cluster);
    return false;
}

static patron_status build_result(patron_db *db, const batch *b, job *jobs, int nj, patron_pairs **out)
{
    size_t total = 0, k = 0;
    idx_pair *all;
    patron_pairs *p = patron__calloc(1, sizeof *p);
    for (int t = 0; t < nj; t++)
        total += jobs[t].n;
    all = patron__malloc((total ? total : 1) * sizeof *all);
    if (p) {
        p->id_a = patron__malloc((total ? total : 1) * sizeof *p->id_a);
        p->id_b = patron__malloc((total ? total : 1) * sizeof *p->id_b);
        p->score = patron__malloc((total ? total : 1) * sizeof *p->score);
        p->decision = patron__malloc((total ? total : 1) * sizeof *p->decision);
    }
    if (!p || !all || !p->id_a || !p->id_b || !p->score || !p->decision) {
        patron__free(all);
        patron_pairs_free(p);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    for (int t = 0; t < nj; t++)
        for (size_t i = 0; i < jobs[t].n; i++) {
            const pair *q = &jobs[t].out[i];
            all[k].a = b->ids[q->a];
            all[k].b = b->ids[q->b];
            all[k].score = q->score;
            all[k].decision = q->decision;
            k++;
        }
    qsort(all, total, sizeof *all, cmp_idx_pair);
    for (size_t i = 0; i < total; i++) {
        p->id_a[i] = all[i].a;
        p->id_b[i] = all[i].b;
        p->score[i] = all[i].score;
        p->decision[i] = all[i].decision;
    }
    p->n = total;
    patron__free(all);
    if (!make_clusters(b, jobs, nj, false, &p->n_members, &p->member, &p->cluster) ||
        !make_clusters(b, jobs, nj, true, &p->n_hmembers, &p->hmember, &p->hcluster)) {
        patron_pairs_free(p);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    *out = p;
    return PATRON_OK;
}

/* Pairs a merchant decided are not proposed again (review.h): out before
 * the clusters are made. */
static patron_status drop_decided(patron_db *db, const batch *b, job *jobs, int nj)
{
    patron__review_sup *sup = NULL;
    patron_status st = patron__review_sup_load(db, &sup, 0);
    for (int t = 0; t < nj && sup; t++) {
        size_t k = 0;
        for (size_t i = 0; i < jobs[t].n; i++) {
            const pair *q = &jobs[t].out[i];
            if (!patron__review_sup_pair(sup, b->ids[q->a], b->rp[q->a], b->ids[q->b], b->rp[q->b]))
                jobs[t].out[k++] = *q;
        }
        jobs[t].n = k;
    }
    patron__review_sup_free(sup);
    return st;
}

patron_status patron_db_dedupe(patron_db *db, patron_pairs **out, patron_match_mode mode)
{
    batch b;
    job jobs[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    int nj = nthreads(), started = 0;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if (mode != PATRON_MATCH_FIELDS && mode != PATRON_MATCH_EMAIL)
        return patron__db_error(db, PATRON_E_INVALID, "unknown match mode %d", (int)mode);
    memset(&b, 0, sizeof b);
    memset(jobs, 0, sizeof jobs);
    /* One read transaction for the call, on every store: views of match
     * forms stay valid until it ends. */
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    if ((st = patron__match_config_load(db)) != 0)
        return patron__tx_end(db, st);
    b.cfg = *db->match_cfg;
    b.cfg.mode = mode == PATRON_MATCH_EMAIL ? PATRON__MATCH_MODE_EMAIL : PATRON__MATCH_MODE_FIELDS;
    /* the match form carries the VAT ID, not the declared identifiers */
    if (patron__st_has(db, PATRON__CAP_MATCH_FORM) && b.cfg.n_ident == 0) {
        st = read_all_forms(db, &b);
    } else {
        st = read_all(db, &b);
        if (!st && b.n && !point_at_recs(&b))
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    if (!st && (b.n == 0 || !b.koff)) {
        st = patron__tx_end(db, st);
        batch_free(&b);
        if (st)
            return st;
        *out = patron__calloc(1, sizeof **out);
        return *out ? patron__db_ok(db) : patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    if (!st && !build_blocks(&b))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st && b.cfg.mode == PATRON__MATCH_MODE_FIELDS && !build_tf(&b))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (st) {
        patron__tx_end(db, st);
        batch_free(&b);
        return st;
    }
    /* split the entries into nj ranges on block starts */
    for (int t = 0; t < nj; t++) {
        size_t from = b.nent * (size_t)t / (size_t)nj, to = b.nent * (size_t)(t + 1) / (size_t)nj;
        while (from > 0 && from < b.nent && b.ent[from].hash == b.ent[from - 1].hash)
            from++;
        while (to > 0 && to < b.nent && b.ent[to].hash == b.ent[to - 1].hash)
            to++;
        jobs[t].b = &b;
        jobs[t].from = from;
        jobs[t].to = to > from ? to : from;
    }
    for (int t = 1; t < nj; t++) {
        if (pthread_create(&th[t], NULL, pair_thread, &jobs[t]) != 0)
            break;
        started = t;
    }
    pair_thread(&jobs[0]);
    for (int t = 1; t <= started; t++)
        pthread_join(th[t], NULL);
    for (int t = started + 1; t < nj; t++) /* threads that could not start: here */
        pair_thread(&jobs[t]);
    st = PATRON_OK;
    for (int t = 0; t < nj; t++)
        if (jobs[t].oom)
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st)
        st = drop_decided(db, &b, jobs, nj);
    if (!st)
        st = build_result(db, &b, jobs, nj, out);
    {
        patron_status end = patron__tx_end(db, st);
        if (!st && end) {
            patron_pairs_free(*out);
            *out = NULL;
            st = end;
        }
    }
    for (int t = 0; t < nj; t++)
        patron__free(jobs[t].out);
    batch_free(&b);
    return st ? st : patron__db_ok(db);
}

size_t patron_pairs_count(const patron_pairs *p)
{
    return p ? p->n : 0;
}

patron_status patron_pairs_get(const patron_pairs *p, int64_t *id_a, int64_t *id_b, double *score,
                               patron_decision *decision, size_t i)
{
    if (id_a)
        *id_a = 0;
    if (id_b)
        *id_b = 0;
    if (score)
        *score = 0;
    if (decision)
        *decision = PATRON_DECISION_DISTINCT;
    if (!p)
        return PATRON_E_INVALID;
    if (i >= p->n)
        return PATRON_E_RANGE;
    if (id_a)
        *id_a = p->id_a[i];
    if (id_b)
        *id_b = p->id_b[i];
    if (score)
        *score = p->score[i];
    if (decision)
        *decision = (patron_decision)p->decision[i];
    return PATRON_OK;
}

static int64_t cluster_of(size_t n, const int64_t *member, const int64_t *cluster, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (member[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && member[lo] == id ? cluster[lo] : 0;
}

int64_t patron_pairs_cluster(const patron_pairs *p, int64_t id)
{
    return p ? cluster_of(p->n_members, p->member, p->cluster, id) : 0;
}

int64_t patron_pairs_household(const patron_pairs *p, int64_t id)
{
    return p ? cluster_of(p->n_hmembers, p->hmember, p->hcluster, id) : 0;
}
