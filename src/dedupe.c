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
 * so a pair is still found through any smaller block it shares.  Blocks of
 * more than PATRON__BLOCK_WINDOW records (wide: a common value, whose block
 * grows with the customers) are paired as a sorted neighbourhood: a pair
 * that shares another key is scored as always (in the first fully paired
 * block it shares, else in the first wide one), a pair that shares only
 * this key when the two are near (fewer than PATRON__NEAR_WINDOW places
 * apart) in an order by name and address and the block is the own of both
 * (each record's smallest wide block: the near budget).  The
 * pairs scored then grow about linearly with the records; two records
 * sharing a single common value are rarely one person unless their names
 * and addresses are close (measured: the same quality on every data set of
 * tests/match/run_quality.py).  Pairing runs on as many threads as there
 * are cores (at most 8); each thread owns a range of whole blocks and its
 * own output. */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "patron/batch.h"
#include "dedupe_order.h"

#define MAX_THREADS 8
/* Fewer records than this per thread are done on fewer threads: starting a
 * thread costs more than normalising or pairing a few thousand records, and
 * a small run then calls the caller's allocator from one thread only. */
#define PER_THREAD_MIN 2048 /* patron.h (allocator hook) names twice this */

typedef struct entry {
    uint64_t hash;
    uint32_t rec;
    /* until the blocks are judged (judge_bucket): the tfc slot that gets
     * the length of this entry's run (TF_NONE: none); TF_ONLY marks an
     * entry that is counted but is no blocking key of its record.  Then,
     * of the entries kept: where the record's key list starts (koff[rec]),
     * so that the walk of the blocks reads the list without the offset (a
     * miss of its own before the list's, at any record) */
    uint32_t slot;
} entry;

#define TF_NONE UINT32_MAX
#define TF_ONLY 0x80000000u

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

/* A record of the batch: the store's match form (len > 0), viewed where
 * a comparison needs it (rec_at), or a record normalised here (len 0). */
typedef struct rref {
    union {
        const void *form;
        patron__match_rec *rec;
    } p;
    uint32_t len;
} rref;

typedef struct batch {
    patron__match_config cfg;
    patron__match_rec *recs;   /* normalised here (general path) */
    bool in_recs;              /* record i is recs[i], each (point_at_recs) */
    /* The record of each index (both paths).  Match forms are not copied
     * nor kept as views: a view (a record and its addresses, ~250 bytes)
     * of each of 10^6 customers took more memory than the rest of the
     * dedupe; a pair's two views are made when the pair is scored, from
     * bytes it reads anyway. */
    rref *ref;
    int64_t *ids;
    size_t n, cap;
    uint64_t *khash; /* sorted key hashes of each record */
    uint32_t *koff;  /* n + 1 offsets into khash */
    entry *ent;
    size_t nent;
    /* term frequencies: sorted hashes of (kind, value) of every record's
     * frequency values, with how many records hold each */
    uint32_t *tfoff; /* n + 1 offsets into tfc: 6 field slots (see tf_fields), then one per address */
    uint32_t *tfc;   /* records holding each slot's value (0: no value) */
    /* what tf_prepare needs of a record, found when it was added (rows,
     * tf_row): per record its slots (TF_FIELDS + addresses) + 1, 0 when
     * not found so (tf_thread reads the record then); its first-name,
     * last-name and company hashes (3 per record, 0: none); per key its
     * slot within the record's (0xFF: none).  NULL: none found so. */
    uint8_t *tfready;
    uint64_t *tfname;
    uint8_t *kfield;
    patron__match_tf tf;
    size_t n_wide;   /* wide blocks (build_blocks) */
    /* per record: the rank (wide_rank) of its own wide block, the one in
     * which it is paired with neighbours by order alone (UINT64_MAX:
     * none; NULL while there is no wide block) */
    uint64_t *wown;
    uint64_t scored; /* pairs scored (pair_all) */
    /* the bytes of the records made from rows, one pool for each thread
     * normalising them (row_thread; [0]: the caller's); freed with the
     * records (no free of each) */
    patron__match_pool pool[MAX_THREADS];
} batch;

/* Bit 63 of a key hash marks a rare key (a rare name or a rare street,
 * patron__match_key_rare): its block is kept only up to
 * PATRON__RARE_BLOCK_MAX records, with bit 62 set too (a rare street) up
 * to PATRON__RARE_STREET_MAX (build_blocks);
 * every other hash has it clear. */
#define RARE_BIT (UINT64_C(1) << 63)
#define STREET_BIT (UINT64_C(1) << 62) /* with RARE_BIT only */
/* Bit 0 of a key hash is clear when the hash is made; build_blocks sets it
 * in the entries and key lists of a wide block (more than
 * PATRON__BLOCK_WINDOW records), which is paired in windows.  Setting it
 * keeps every order (the hashes are otherwise even and distinct). */
#define WIDE_BIT UINT64_C(1)
_Static_assert(PATRON__BLOCK_WINDOW >= PATRON__RARE_BLOCK_MAX, "a rare name's block is paired in full");

static uint64_t key_hash(int kind, const char *value, size_t len)
{
    uint64_t v = patron__hash_key_n(kind, value, len) & ~(RARE_BIT | WIDE_BIT);
    if (!v)
        v = 2; /* never 0: "no common key" below */
    if (!patron__match_key_rare(kind))
        return v;
    v = (v & ~STREET_BIT) | RARE_BIT;
    return kind == PATRON__KEY_RARE_STREET ? v | STREET_BIT : v;
}

/* The keys whose value is a term-frequency value too (tf_row): their
 * hash is the one tf_hash makes of it (same kind, same bytes). */
enum { TFH_EMAIL, TFH_PHONE, TFH_FULL_NAME, TFH_ADDRESS, TFH_N };

/* A record's key hashes into h, sorted and without repeats (pairs are
 * scored in the block of the first hash two records share); returns how
 * many.  tfh (TFH_N) gets the hash of the first key of each TFH_ kind (0:
 * no such key).  Sorted by insertion (few keys): each hash shifts the
 * larger ones up as it passes them (a search, then a call of memmove for
 * the shift, cost ~60 instructions more a record); a repeat (rare) is
 * taken out again. */
static size_t hash_keys_tf(uint64_t *h, uint64_t *tfh, const patron__match_key *keys, size_t nk)
{
    size_t w = 0;
    memset(tfh, 0, TFH_N * sizeof *tfh);
    for (size_t k = 0; k < nk; k++) {
        uint64_t v = key_hash(keys[k].kind, keys[k].value, keys[k].len);
        size_t p = w;
        int t = keys[k].kind == PATRON__KEY_EMAIL       ? TFH_EMAIL
                : keys[k].kind == PATRON__KEY_PHONE     ? TFH_PHONE
                : keys[k].kind == PATRON__KEY_RARE_NAME ? TFH_FULL_NAME
                : keys[k].kind == PATRON__KEY_ADDRESS   ? TFH_ADDRESS
                                                        : -1;
        if (t >= 0 && !tfh[t])
            tfh[t] = v;
        for (; p > 0 && h[p - 1] > v; p--)
            h[p] = h[p - 1];
        if (p > 0 && h[p - 1] == v) { /* a repeat: kept once */
            memmove(h + p, h + p + 1, (w - p) * sizeof *h);
            continue;
        }
        h[p] = v;
        w++;
    }
    return w;
}

static size_t hash_keys(uint64_t *h, const patron__match_key *keys, size_t nk)
{
    uint64_t tfh[TFH_N];
    return hash_keys_tf(h, tfh, keys, nk);
}

/* A record's blocking keys (its rare-name key included) hashed into h, as
 * hash_keys_tf; keys is room for PATRON__MATCH_KEYS_MAX. */
static uint8_t rec_hashes_tf(uint64_t *h, uint64_t *tfh, patron__match_key *keys, const patron__match_rec *r,
                             const patron__match_config *cfg)
{
    size_t nk = patron__match_keys(keys, PATRON__MATCH_KEYS_MAX, r, cfg);
    nk += patron__match_rare_keys(keys + nk, PATRON__MATCH_KEYS_MAX - nk, r, cfg);
    return (uint8_t)hash_keys_tf(h, tfh, keys, nk);
}

static uint8_t rec_hashes(uint64_t *h, patron__match_key *keys, const patron__match_rec *r,
                          const patron__match_config *cfg)
{
    uint64_t tfh[TFH_N];
    return rec_hashes_tf(h, tfh, keys, r, cfg);
}

typedef struct freejob {
    patron__match_rec *recs;
    size_t from, to;
} freejob;

static void *free_thread(void *arg)
{
    freejob *j = arg;
    for (size_t i = j->from; i < j->to; i++)
        patron__match_rec_free(&j->recs[i]);
    return NULL;
}

static int threads_for(size_t n);
static void run_jobs(void *(*fn)(void *), void *jobs, size_t size, int nj);

static void batch_free(batch *b)
{
    patron__free(b->wown);
    b->wown = NULL;
    if (b->recs) {
        /* on all cores: a serial phase at the end of the run (0.09 s of
         * 10^6 customers) */
        freejob fj[MAX_THREADS];
        int nj = threads_for(b->n);
        for (int t = 0; t < nj; t++) {
            fj[t].recs = b->recs;
            fj[t].from = b->n * (size_t)t / (size_t)nj;
            fj[t].to = b->n * (size_t)(t + 1) / (size_t)nj;
        }
        run_jobs(free_thread, fj, sizeof *fj, nj);
    } else {
        for (size_t i = 0; b->ref && i < b->n; i++)
            if (!b->ref[i].len) { /* normalised here, not a form */
                patron__match_rec_free(b->ref[i].p.rec);
                patron__free(b->ref[i].p.rec);
            }
    }
    patron__free(b->recs);
    patron__free(b->ref);
    patron__free(b->ids);
    patron__free(b->khash);
    patron__free(b->koff);
    patron__free(b->ent);
    patron__free(b->tfoff);
    patron__free(b->tfc);
    patron__free(b->tfready);
    patron__free(b->tfname);
    patron__free(b->kfield);
    for (int t = 0; t < MAX_THREADS; t++)
        patron__match_pool_free(&b->pool[t]);
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
        if (patron__cust_match_rec_cfg(&j->recs[i], j->cust[i], j->cfg) != 0) {
            j->oom = true;
            memset(&j->recs[i], 0, sizeof j->recs[i]);
            j->nk[i] = 0;
            continue;
        }
        j->nk[i] = rec_hashes(h, keys, &j->recs[i], j->cfg);
    }
    return NULL;
}

static int nthreads(void);

/* Threads for n records: all cores, but at least PER_THREAD_MIN records
 * each. */
static int threads_for(size_t n)
{
    int nj = nthreads();
    size_t most = n / PER_THREAD_MIN;
    return most < 1 ? 1 : (most < (size_t)nj ? (int)most : nj);
}

/* Run fn on jobs[0..nj-1] (each `size` bytes), nj <= MAX_THREADS: job 0 on
 * this thread, the others on their own; a job whose thread could not start
 * runs here afterwards. */
static void run_jobs(void *(*fn)(void *), void *jobs, size_t size, int nj)
{
    pthread_t th[MAX_THREADS];
    int started = 0;
    for (int t = 1; t < nj; t++) {
        if (pthread_create(&th[t], NULL, fn, (char *)jobs + (size_t)t * size) != 0)
            break;
        started = t;
    }
    fn(jobs);
    for (int t = 1; t <= started; t++)
        pthread_join(th[t], NULL);
    for (int t = started + 1; t < nj; t++)
        fn((char *)jobs + (size_t)t * size);
}

/* Room in b for `more` records: their ids and key offsets, and their
 * normalised records (recs) or, with `forms`, where their match forms are
 * (ref).  false: out of memory, b's records unchanged (an array may have
 * grown). */
static bool grow_arrays(batch *b, size_t more, bool forms)
{
    size_t nc = b->cap ? b->cap : CHUNK;
    int64_t *ni;
    uint32_t *no;
    if (b->n + more <= b->cap)
        return true;
    while (nc < b->n + more)
        nc *= 2;
    if (forms) {
        rref *nr = patron__realloc(b->ref, nc * sizeof *nr);
        if (!nr)
            return false;
        b->ref = nr;
    } else {
        patron__match_rec *nr = patron__realloc(b->recs, nc * sizeof *nr);
        if (!nr)
            return false;
        b->recs = nr;
    }
    if (!(ni = patron__realloc(b->ids, nc * sizeof *ni)))
        return false;
    b->ids = ni;
    if (!(no = patron__realloc(b->koff, (nc + 1) * sizeof *no)))
        return false;
    b->koff = no;
    if (b->tfready) {
        uint8_t *nr = patron__realloc(b->tfready, nc);
        uint64_t *nn;
        if (!nr)
            return false;
        b->tfready = nr;
        if (!(nn = patron__realloc(b->tfname, nc * 3 * sizeof *nn)))
            return false;
        b->tfname = nn;
    }
    if (b->cap == 0)
        b->koff[0] = 0;
    b->cap = nc;
    return true;
}

/* Room for `more` records normalised here. */
static bool grow_recs(batch *b, size_t more)
{
    return grow_arrays(b, more, false);
}

/* Room in b->khash (capacity *cap) for `keys` more key hashes; allocated
 * even when no record so far has a key: b->khash + offset on a NULL pointer
 * is undefined behaviour, zero offset included.  false: out of memory. */
static bool grow_khash(batch *b, size_t *cap, size_t keys)
{
    size_t nc = *cap ? *cap : 65536;
    uint64_t *nh;
    if (b->khash && b->koff[b->n] + keys <= *cap)
        return true;
    while (nc < b->koff[b->n] + keys)
        nc *= 2;
    if (!(nh = patron__realloc(b->khash, nc * sizeof *nh)))
        return false;
    b->khash = nh;
    if (b->kfield) {
        uint8_t *nf = patron__realloc(b->kfield, nc);
        if (!nf)
            return false;
        b->kfield = nf;
    }
    *cap = nc;
    return true;
}

/* Normalise the chunk's records into b (in parallel), then append their
 * keys (in order).  PATRON_E_NOMEM, or PATRON_E_RANGE for too many. */
static patron_status flush_chunk(batch *b, patron_customer **cust, int64_t *ids, size_t n, uint64_t *kh,
                                 uint8_t *nk, size_t *khash_cap)
{
    nchunk jobs[MAX_THREADS];
    int nj = threads_for(n);
    size_t need = 0;
    bool oom = false;
    if (!grow_recs(b, n))
        return PATRON_E_NOMEM;
    if (b->n + n >= UINT32_MAX)
        return PATRON_E_RANGE;
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
    run_jobs(norm_thread, jobs, sizeof *jobs, nj);
    for (int t = 0; t < nj; t++)
        oom |= jobs[t].oom;
    for (size_t i = 0; i < n; i++)
        need += nk[i];
    if (!oom && !grow_khash(b, khash_cap, need))
        oom = true;
    if (oom) {
        for (size_t i = 0; i < n; i++)
            patron__match_rec_free(&b->recs[b->n + i]);
        return PATRON_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t base = b->koff[b->n];
        memcpy(b->khash + base, kh + i * PATRON__MATCH_KEYS_MAX, nk[i] * sizeof *kh);
        if (b->tfready)
            b->tfready[b->n] = 0;
        b->ids[b->n] = ids[i];
        b->koff[b->n + 1] = base + nk[i];
        b->n++;
    }
    return PATRON_OK;
}

static patron_status chunk_status(patron_db *db, patron_status st)
{
    if (st == PATRON_E_RANGE)
        return patron__db_error(db, st, "too many customers for one batch");
    return st ? patron__db_error(db, st, "out of memory") : st;
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
            if (patron_customer_state(c) == PATRON_STATE_MERGED ||
                patron_customer_state(c) == PATRON_STATE_ERASED) {
                patron_customer_free(c);
                continue;
            }
            cust[n] = c;
            ids[n++] = page.ids[i];
            if (n == CHUNK) {
                st = chunk_status(db, flush_chunk(b, cust, ids, n, kh, nk, &khash_cap));
                for (size_t k = 0; k < n; k++)
                    patron_customer_free(cust[k]);
                n = 0;
            }
        }
        if (page.n)
            after = page.ids[page.n - 1];
    } while (!st && page.n == PATRON__IDPAGE);
    if (!st && n)
        st = chunk_status(db, flush_chunk(b, cust, ids, n, kh, nk, &khash_cap));
    for (size_t k = 0; cust && k < n; k++)
        patron_customer_free(cust[k]);
    patron__free(cust);
    patron__free(ids);
    patron__free(kh);
    patron__free(nk);
    return st;
}

/* The general path's records: point ref at them. */
static bool point_at_recs(batch *b)
{
    b->ref = patron__malloc((b->n ? b->n : 1) * sizeof *b->ref);
    if (!b->ref)
        return false;
    for (size_t i = 0; i < b->n; i++) {
        b->ref[i].p.rec = &b->recs[i];
        b->ref[i].len = 0;
    }
    b->in_recs = true;
    return true;
}

/* No form of ours (matchform.c) is longer: the head, then strings of at
 * most 3 + 255 bytes, 8 of them and 6 per address. */
#define FORM_LEN_MAX(na) (12 + (8 + 6 * (size_t)(na)) * (3 + PATRON__MATCH_FIELD_MAX))
/* Nor shorter: every string takes at least its length and its NUL. */
#define FORM_LEN_MIN(na) (12 + (8 + 6 * (size_t)(na)) * 3)

/* A record viewed in place from its match form, with room for its
 * addresses (grown as needed, kept between views). */
typedef struct view {
    patron__match_rec rec;
    patron__match_addr *addr;
    size_t cap;
} view;

static void view_free(view *v)
{
    patron__free(v->addr);
    v->addr = NULL;
    v->cap = 0;
}

/* The view of a form in v: its state in *state, v->rec filled.  0, -1 when
 * the bytes are no form of ours, -2 when out of memory. */
static int view_form(view *v, int *state, const void *form, size_t len, const char *country)
{
    const unsigned char *h = form;
    size_t na = len >= 7 ? ((size_t)h[5] | (size_t)h[6] << 8) : 0;
    if (len < FORM_LEN_MIN(na) || len > FORM_LEN_MAX(na))
        return -1; /* no room for what it claims */
    if (na > v->cap) {
        patron__match_addr *a = patron__realloc(v->addr, na * sizeof *a);
        if (!a)
            return -2;
        v->addr = a;
        v->cap = na;
    }
    return patron__form_view(&v->rec, v->addr, v->cap, state, form, len, country) == (long)na ? 0 : -1;
}

/* Record i of the batch: the record itself, or its form viewed in v.
 * NULL when out of memory (or the store's bytes changed under the read
 * transaction, which they cannot). */
static const patron__match_rec *rec_at(const batch *b, uint32_t i, view *v)
{
    int state;
    if (!b->ref[i].len)
        return b->ref[i].p.rec;
    return view_form(v, &state, b->ref[i].p.form, b->ref[i].len, b->cfg.default_country) == 0 ? &v->rec : NULL;
}

/* The store keeps every record's match form: view each (the caller holds
 * the transaction until the pairs are made) for its keys, and keep only
 * where it is.  A record without a form, or with bytes that are not one,
 * is loaded and normalised instead. */
static patron_status read_all_forms(patron_db *db, batch *b)
{
    static const patron_filter all = PATRON_FILTER_INIT;
    patron__idpage page;
    int64_t after = 0;
    size_t khash_cap = 0;
    patron__match_key keys[PATRON__MATCH_KEYS_MAX];
    patron_status st = PATRON_OK;
    view v = { .addr = NULL, .cap = 0 };
    do {
        page.n = 0;
        st = patron__st_scan(db, &all, after, PATRON__IDPAGE, patron__idpage_emit, &page);
        for (size_t i = 0; i < page.n && !st; i++) {
            const patron__match_rec *r = NULL;
            patron__match_rec *own = NULL;
            const void *form;
            size_t flen, nk, base;
            int state = 0, vr = -1;
            uint64_t *h;
            if (!grow_arrays(b, 1, true)) {
                st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                break;
            }
            if (b->n >= UINT32_MAX - 1) {
                st = patron__db_error(db, PATRON_E_RANGE, "too many customers for one batch");
                break;
            }
            st = patron__st_match_form(db, page.ids[i], &form, &flen);
            if (st == PATRON_OK) {
                if (flen > UINT32_MAX)
                    flen = 0;
                vr = flen ? view_form(&v, &state, form, flen, b->cfg.default_country) : -1;
                if (vr == -2) {
                    st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                    break;
                }
                r = vr == 0 ? &v.rec : NULL;
            } else if (st == PATRON_E_NOT_FOUND) {
                st = PATRON_OK;
            } else {
                break;
            }
            if (!r) { /* no form of ours: the record itself */
                patron_customer *c = NULL;
                if ((st = patron__load_in_tx(db, &c, page.ids[i])) != 0)
                    break;
                state = patron_customer_state(c);
                if (state == PATRON_STATE_ERASED)
                    state = PATRON_STATE_MERGED; /* left out alike */
                if (state != PATRON_STATE_MERGED) {
                    own = patron__calloc(1, sizeof *own);
                    if (!own || patron__cust_match_rec_cfg(own, c, &b->cfg) != 0) {
                        patron__free(own);
                        own = NULL;
                        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                    }
                }
                patron_customer_free(c);
                if (st)
                    break;
                r = own;
            }
            if (state == PATRON_STATE_MERGED)
                continue;
            nk = patron__match_keys(keys, PATRON__MATCH_KEYS_MAX, r, &b->cfg);
            nk += patron__match_rare_keys(keys + nk, PATRON__MATCH_KEYS_MAX - nk, r, &b->cfg);
            base = b->koff[b->n];
            if (!grow_khash(b, &khash_cap, nk)) {
                if (own) {
                    patron__match_rec_free(own);
                    patron__free(own);
                }
                st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                break;
            }
            h = b->khash + base;
            nk = hash_keys(h, keys, nk);
            if (own) {
                b->ref[b->n].p.rec = own;
                b->ref[b->n].len = 0;
            } else {
                b->ref[b->n].p.form = form;
                b->ref[b->n].len = (uint32_t)flen;
            }
            b->ids[b->n] = page.ids[i];
            b->koff[b->n + 1] = (uint32_t)(base + nk);
            b->n++;
        }
        if (page.n)
            after = page.ids[page.n - 1];
    } while (!st && page.n == PATRON__IDPAGE);
    view_free(&v);
    return st;
}

/* ---- blocks ---------------------------------------------------------------- */

/* arr (of *cap elements of size bytes, all used) grown to twice its room
 * (1024 at first; *cap updated); NULL when out of memory (arr is kept) */
static void *grow_for_one(void *arr, size_t *cap, size_t size)
{
    size_t nc = *cap ? *cap * 2 : 1024;
    void *np;
    if (!(np = patron__realloc(arr, nc * size)))
        return NULL;
    *cap = nc;
    return np;
}

/* arr (n of *cap elements of size bytes) with room for one more: arr
 * itself, or grown (grow_for_one).  The test inline: the pair walk, the
 * scoring and the judging of blocks ask per pair or entry, and a call
 * each cost more than the rest of adding one. */
static inline void *room_for_one(void *arr, size_t n, size_t *cap, size_t size)
{
    return n < *cap ? arr : grow_for_one(arr, cap, size);
}


static int cmp_entry(const void *x, const void *y)
{
    const entry *a = x, *b = y;
    if (a->hash != b->hash)
        return (a->hash > b->hash) - (a->hash < b->hash);
    return (a->rec > b->rec) - (a->rec < b->rec);
}

/* Sort a bucket of entries that agree in their top BUCKET_BITS by hash,
 * stably (callers fill it with the records rising, so a record's keys of
 * one hash stay in record order), in tmp's room (n entries): one counting
 * pass on the next sub bits into tmp, then back into a by insertion, each
 * entry past the greater hashes before it in its run of equal top bits (a
 * run is a hash or two: most entries move not at all).  Two counting
 * passes through tmp and a third to find the runs out of order, with 2 x
 * 256 counts for ~200 entries a bucket, cost twice as much; a small bucket
 * is sorted by insertion alone.  sub grows with the bucket (from SUB_BITS
 * to SUB_BITS_MAX, fewer than 5 entries a run on average): with 8 bits,
 * buckets grown with the records (~2 400 entries at 2 * 10^6 customers)
 * made runs so long that most were sorted by the fallback.  Values made
 * to share their top bits (an insertion that moves more than a few
 * entries per entry) are sorted whole by (hash, rec) instead: for the
 * records' keys the same order (one entry of each record per hash,
 * records rising). */
#define BUCKET_BITS 13
#define SUB_BITS 8
#define SUB_BITS_MAX 11 /* (the counts on the stack: 8 KiB) */
#define SUB_MIN 32 /* smaller buckets: insertion alone (n^2 / 4 moves, few) */
static void sort_bucket(entry *a, size_t n, entry *tmp)
{
    int sub = SUB_BITS, shift;
    size_t mask, moves = 0;
    uint32_t cnt[(size_t)1 << SUB_BITS_MAX];
    const entry *src = a;
    if (n > UINT32_MAX) { /* (more than the counts hold) */
        qsort(a, n, sizeof *a, cmp_entry);
        return;
    }
    while (sub < SUB_BITS_MAX && n >> sub > 4)
        sub++;
    shift = 64 - BUCKET_BITS - sub;
    mask = ((size_t)1 << sub) - 1;
    if (n >= SUB_MIN) {
        uint32_t sum = 0;
        memset(cnt, 0, (mask + 1) * sizeof *cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(a[i].hash >> shift) & mask]++;
        for (size_t i = 0; i <= mask; i++) {
            uint32_t k = cnt[i];
            cnt[i] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++)
            tmp[cnt[(a[i].hash >> shift) & mask]++] = a[i];
        src = tmp;
    }
    for (size_t i = 0; i < n; i++) { /* (in place when src is a) */
        const entry v = src[i];
        size_t k = i;
        while (k > 0 && a[k - 1].hash > v.hash) {
            a[k] = a[k - 1];
            k--;
        }
        a[k] = v;
        if (i - k && (moves += i - k) > 4 * n && src != a) {
            memcpy(a + i + 1, src + i + 1, (n - i - 1) * sizeof *a);
            qsort(a, n, sizeof *a, cmp_entry);
            return;
        }
    }
}

/* The bucket mechanism of build_blocks and tf_count: each of `use` jobs
 * counted its entries per bucket in pos[t * nb + i]; bucket_places turns
 * the counts into where each job writes in bucket i (the jobs one after
 * the other) and end[i] (pos + nb * use) into where bucket i ends. */
static void bucket_places(size_t *pos, int use)
{
    const size_t nb = (size_t)1 << BUCKET_BITS;
    size_t *end = pos + nb * (size_t)use, at = 0;
    for (size_t i = 0; i < nb; i++) {
        for (int t = 0; t < use; t++) {
            size_t c = pos[nb * (size_t)t + i];
            pos[nb * (size_t)t + i] = at;
            at += c;
        }
        end[i] = at;
    }
}

/* The buckets split among `use` jobs by entries (n in all), about as many
 * for each: job t takes buckets [cut[t], cut[t + 1]). */
static void bucket_cuts(const size_t *end, size_t n, int use, size_t *cut)
{
    const size_t nb = (size_t)1 << BUCKET_BITS;
    size_t i = 0;
    for (int t = 0; t < use; t++) {
        size_t upto = n * (size_t)(t + 1) / (size_t)use;
        cut[t] = i;
        while (i < nb && (t == use - 1 || (i ? end[i - 1] : 0) < upto))
            i++;
    }
    cut[use] = i;
}

/* Room to sort the largest of buckets [b0, b1) in (sort_bucket); NULL:
 * out of memory. */
static entry *bucket_room(const size_t *end, size_t b0, size_t b1)
{
    size_t big = 0;
    for (size_t i = b0; i < b1; i++) {
        size_t from = i ? end[i - 1] : 0;
        if (end[i] - from > big)
            big = end[i] - from;
    }
    return patron__malloc((big ? big : 1) * sizeof(entry));
}

/* A record's own wide block (the near budget, see PATRON__NEAR_WINDOW):
 * the one of lowest rank (m, h) among its wide blocks - the smallest, its
 * most telling common value, ties broken by the block's hash.  A block of
 * m records and key hash h ranks as wide_rank(m, h); m <= BLOCK_MAX fits
 * above the 48 hash bits kept. */
static uint64_t wide_rank(size_t m, uint64_t h)
{
    return (uint64_t)m << 48 | (h & ~(RARE_BIT | WIDE_BIT)) >> 16;
}
_Static_assert(PATRON__BLOCK_MAX < 65536, "a block's size fits wide_rank");

/* The slot of an entry noted to mark in its record's key list
 * (judge_bucket): of a wide block (with the block's size above these two
 * bits), or of a dropped one. */
#define SLOT_WIDE 1u
#define SLOT_DROP 2u

/* A wide or dropped block to mark (judge_bucket), and the record of one
 * of its blocking entries with the block's number. */
typedef struct mblock {
    uint64_t hash;
    uint32_t slot;
} mblock;
typedef struct bmark {
    uint32_t rec, blk;
} bmark;

/* build_blocks' work on one thread: the entries of records [r0, r1) (and,
 * for the last job, x) counted per bucket, then written from pos on; then
 * buckets [b0, b1) sorted and their blocks judged, the entries kept moved
 * to the start of the job's entries: [e0, k1); then the key lists of the
 * records [r0, r1), or of the part [m0, m1) of the marks sorted by record
 * (mark_local), marked. */
typedef struct fjob {
    batch *b;
    const uint32_t *kslot;
    const entry *x; /* the last job's: the counted-only entries, after every record's */
    size_t nx;
    size_t r0, r1;
    size_t *pos;       /* per bucket: this job's entries in it, then where the next one goes */
    const size_t *end; /* per bucket: where it ends (all jobs) */
    size_t b0, b1;
    size_t e0, k1, n_wide;
    /* the wide and dropped blocks judged here (mb: hash without WIDE_BIT,
     * slot SLOT_DROP or SLOT_WIDE with the block's size; their numbers
     * among all jobs' from mb0 on), and their blocking entries' records
     * (mk, each with its block's number here), to mark in the records'
     * key lists: 8 bytes an entry, not an entry's 16 (at 10^6 customers
     * the marks are millions, and were the peak's growth) */
    mblock *mb;
    size_t n_mb, mb_cap, mb0;
    bmark *mk;
    size_t n_mk, mk_cap;
    /* every job, for mark_thread */
    const struct fjob *all;
    int n_all;
    /* mark_local: this job's places in the buckets of records (nbk) in
     * ms, and the part of ms it marks [m0, m1) */
    size_t *mpos, nbk, m0, m1;
    bmark *ms; /* (blk: the number among all jobs' blocks) */
    bool oom;
} fjob;

/* (fill_count and fill_scatter read the arrays through locals: each
 * store could be to them, for all the compiler knows, and it reloaded
 * them per key) */
static void *fill_count(void *arg)
{
    fjob *j = arg;
    const batch *b = j->b;
    const uint64_t *kh = b->khash;
    size_t *pos = j->pos;
    for (size_t k = b->koff[j->r0], ke = b->koff[j->r1]; k < ke; k++)
        pos[kh[k] >> (64 - BUCKET_BITS)]++;
    for (size_t k = 0; k < j->nx; k++)
        pos[j->x[k].hash >> (64 - BUCKET_BITS)]++;
    return NULL;
}

static void *fill_scatter(void *arg)
{
    fjob *j = arg;
    const batch *b = j->b;
    const uint64_t *kh = b->khash;
    const uint32_t *koff = b->koff, *kslot = j->kslot;
    entry *ent = b->ent;
    size_t *pos = j->pos;
    for (size_t r = j->r0; r < j->r1; r++)
        for (uint32_t k = koff[r], ke = koff[r + 1]; k < ke; k++) {
            uint64_t h = kh[k];
            entry *e = &ent[pos[h >> (64 - BUCKET_BITS)]++];
            e->hash = h;
            e->rec = (uint32_t)r;
            e->slot = kslot ? kslot[k] : TF_NONE;
        }
    for (size_t k = 0; k < j->nx; k++)
        ent[pos[j->x[k].hash >> (64 - BUCKET_BITS)]++] = j->x[k];
    return NULL;
}

/* Is the entry of this slot a blocking key (not one counted only)? */
static bool blocking_slot(uint32_t sl)
{
    return !(sl & TF_ONLY) || sl == TF_NONE;
}

/* The blocks of the sorted entries [from, to) (a bucket: whole blocks)
 * judged: each term-frequency slot attached to an entry gets the length
 * of its run (the records that hold the value); a block of more than
 * PATRON__BLOCK_MAX blocking entries (PATRON__RARE_BLOCK_MAX of a rare
 * name, PATRON__RARE_STREET_MAX of a rare street) is dropped, one of more
 * than PATRON__BLOCK_WINDOW is wide.  The entries of the blocks kept go
 * on at j->k1 (at or before from: in place), a wide block's with
 * WIDE_BIT, each with its record's key-list offset as slot; those of wide
 * and dropped blocks are noted (j->mk) for their records' key lists.  A
 * block of one blocking entry (most: its key stays in its record's list)
 * has no pair, and the entries counted only are no key: neither is kept,
 * so the pair threads walk and prefetch only blocks that have pairs.  Done right after the bucket's sort, while it is in
 * the cache (a pass of its own over all entries, and another to keep
 * them, cost as much again).  False when out of memory. */
static bool judge_bucket(fjob *j, size_t from, size_t to)
{
    entry *ent = j->b->ent;
    uint32_t *tfc = j->b->tfc;
    const uint32_t *koff = j->b->koff;
    size_t w = j->k1;
    for (size_t s = from; s < to;) {
        const uint64_t h = ent[s].hash;
        size_t e = s + 1, blocking = 0;
        bool drop, wide;
        if (e == to || ent[e].hash != h) { /* one entry */
            if (tfc && ent[s].slot != TF_NONE)
                tfc[ent[s].slot & ~TF_ONLY] = 1;
            s = e;
            continue;
        }
        while (e < to && ent[e].hash == h)
            e++;
        for (size_t k = s; k < e; k++) {
            uint32_t sl = ent[k].slot;
            blocking += blocking_slot(sl);
            if (tfc && sl != TF_NONE)
                tfc[sl & ~TF_ONLY] = (uint32_t)(e - s);
        }
        if (blocking < 2) { /* (a key and the values counted only) */
            s = e;
            continue;
        }
        drop = blocking > (!(h & RARE_BIT)      ? PATRON__BLOCK_MAX
                           : (h & STREET_BIT) ? PATRON__RARE_STREET_MAX
                                              : PATRON__RARE_BLOCK_MAX);
        wide = !drop && blocking > PATRON__BLOCK_WINDOW;
        j->n_wide += wide;
        if (!drop && !wide) { /* (most: kept as they are) */
            for (size_t k = s; k < e; k++)
                if (blocking_slot(ent[k].slot)) {
                    ent[w].hash = h;
                    ent[w].rec = ent[k].rec;
                    ent[w++].slot = koff[ent[k].rec];
                }
            s = e;
            continue;
        }
        { /* wide or dropped: noted to mark */
            const uint32_t sl = drop ? SLOT_DROP : SLOT_WIDE | (uint32_t)blocking << 2;
            mblock *nb = room_for_one(j->mb, j->n_mb, &j->mb_cap, sizeof *nb);
            if (!nb)
                return false;
            j->mb = nb;
            j->mb[j->n_mb].hash = h;
            j->mb[j->n_mb].slot = sl;
            for (size_t k = s; k < e; k++) {
                entry en = ent[k];
                bmark *np;
                if (!blocking_slot(en.slot))
                    continue;
                if (!(np = room_for_one(j->mk, j->n_mk, &j->mk_cap, sizeof *np)))
                    return false;
                j->mk = np;
                j->mk[j->n_mk].rec = en.rec;
                j->mk[j->n_mk++].blk = (uint32_t)j->n_mb;
                if (wide) {
                    en.hash = h | WIDE_BIT;
                    en.slot = koff[en.rec];
                    ent[w++] = en;
                }
            }
            j->n_mb++;
        }
        s = e;
    }
    j->k1 = w;
    return true;
}

static void *fill_sort(void *arg)
{
    fjob *j = arg;
    entry *tmp;
    if (!(tmp = bucket_room(j->end, j->b0, j->b1))) {
        j->oom = true;
        return NULL;
    }
    j->e0 = j->k1 = j->b0 ? j->end[j->b0 - 1] : 0;
    for (size_t i = j->b0; i < j->b1 && !j->oom; i++) {
        size_t from = i ? j->end[i - 1] : 0;
        sort_bucket(j->b->ent + from, j->end[i] - from, tmp);
        j->oom = !judge_bucket(j, from, j->end[i]);
    }
    patron__free(tmp);
    return NULL;
}

/* In the key list of record r: the key h (blocking, so it is there)
 * marked as the block wants it - 0 (dropped, block_keys and shared_below
 * pass over it) or with WIDE_BIT. */
static void mark_key(batch *b, uint32_t r, uint64_t h, bool drop)
{
    uint64_t *k = b->khash + b->koff[r], *ke = b->khash + b->koff[r + 1];
    /* the list rises (but for the 0 of a dropped key): a rare key, with
     * the top bit, is at its end, where most of the marked ones are
     * (dropped rare names and streets); searched from there */
    if (h & RARE_BIT) {
        while (ke > k && *--ke != h)
            ;
        k = ke;
    } else {
        while (k < ke && *k != h)
            k++;
    }
    if (k < b->khash + b->koff[r + 1] && *k == h)
        *k = drop ? 0 : h | WIDE_BIT;
}

/* Block number blk among all the jobs' (judge_bucket noted them). */
static const mblock *mark_block(const fjob *all, int n_all, size_t blk)
{
    int t = n_all - 1;
    while (t > 0 && all[t].mb0 > blk)
        t--;
    return &all[t].mb[blk - all[t].mb0];
}

/* Record r's entry of block number blk marked in its key list. */
static void mark_apply(batch *b, const fjob *all, int n_all, uint32_t r, size_t blk)
{
    const mblock *m = mark_block(all, n_all, blk);
    uint32_t sl = m->slot & 3u;
    mark_key(b, r, m->hash, sl == SLOT_DROP);
    if (sl == SLOT_WIDE) { /* the record's own wide block: its lowest rank */
        uint64_t v = wide_rank(m->slot >> 2, m->hash);
        if (v < b->wown[r])
            b->wown[r] = v;
    }
}

/* mark_local: the records of a bucket, 2^MK_SHIFT, have key lists of a
 * few hundred KiB (in a core's L2) */
#define MK_SHIFT 12
#define MK_AHEAD 16

/* The marks job j noted, counted (mpos, by bucket of records; scatter
 * false) or written to ms at their places (scatter true). */
static void mk_walk(fjob *j, bool scatter)
{
    for (size_t i = 0; i < j->n_mk; i++) {
        size_t *p = &j->mpos[j->mk[i].rec >> MK_SHIFT];
        if (scatter) {
            j->ms[*p].rec = j->mk[i].rec;
            j->ms[*p].blk = (uint32_t)(j->mb0 + j->mk[i].blk);
        }
        (*p)++;
    }
}

static void *mk_count(void *arg)
{
    mk_walk(arg, false);
    return NULL;
}

static void *mk_scatter(void *arg)
{
    mk_walk(arg, true);
    return NULL;
}

/* The marks of ms [m0, m1): whole buckets of records, none of another
 * job's; the key lists they mark are near each other. */
static void *mk_apply(void *arg)
{
    fjob *j = arg;
    for (size_t i = j->m0; i < j->m1; i++) {
        /* (the blocks are in no order: fetched ahead) */
        if (i + MK_AHEAD < j->m1)
            __builtin_prefetch(mark_block(j->all, j->n_all, j->ms[i + MK_AHEAD].blk));
        mark_apply(j->b, j->all, j->n_all, j->ms[i].rec, j->ms[i].blk);
    }
    return NULL;
}

/* Mark the key lists with locality: the marks (in ms: room for as many as
 * the jobs noted) sorted into buckets of records, each bucket then marked
 * by one job.  Marked in block order, a random record each, the misses
 * grew faster than the records (x3.2 from 10^6 to 2 * 10^6 customers).
 * False when out of memory (nothing marked yet). */
static bool mark_local(batch *b, fjob *fj, int use, bmark *ms)
{
    const size_t nbk = (b->n >> MK_SHIFT) + 1;
    size_t *pos = patron__calloc(nbk * (size_t)use + nbk + 1, sizeof *pos), *start, at = 0;
    if (!pos)
        return false;
    start = pos + nbk * (size_t)use;
    for (int t = 0; t < use; t++) {
        fj[t].mpos = pos + nbk * (size_t)t;
        fj[t].nbk = nbk;
        fj[t].ms = ms;
    }
    run_jobs(mk_count, fj, sizeof *fj, use);
    for (size_t i = 0; i < nbk; i++) { /* bucket by bucket, the jobs in order */
        start[i] = at;
        for (int t = 0; t < use; t++) {
            size_t c = pos[nbk * (size_t)t + i];
            pos[nbk * (size_t)t + i] = at;
            at += c;
        }
    }
    start[nbk] = at;
    run_jobs(mk_scatter, fj, sizeof *fj, use);
    for (int t = 0; t < use; t++) { /* whole buckets, about as many marks each */
        size_t c0 = 0, c1 = 0;
        while (c0 < nbk && start[c0] < at * (size_t)t / (size_t)use)
            c0++;
        while (c1 < nbk && start[c1] < at * (size_t)(t + 1) / (size_t)use)
            c1++;
        fj[t].m0 = t == 0 ? 0 : start[c0];
        fj[t].m1 = t == use - 1 ? at : start[c1];
    }
    run_jobs(mk_apply, fj, sizeof *fj, use);
    patron__free(pos);
    return true;
}

/* The marks without mark_local (no memory for it): each job reads every
 * job's marks and marks those of its records. */
static void *mark_thread(void *arg)
{
    fjob *j = arg;
    for (int t = 0; t < j->n_all; t++)
        for (size_t i = 0; i < j->all[t].n_mk; i++) {
            const bmark *m = &j->all[t].mk[i];
            if (m->rec >= j->r0 && m->rec < j->r1)
                mark_apply(j->b, j->all, j->n_all, m->rec, j->all[t].mb0 + m->blk);
        }
    return NULL;
}

/* b->ent: the entries of the blocks that have pairs, sorted by (hash, rec)
 * (a block's entries in record order), from an entry per key of every
 * record (with its slot in kslot, may be NULL) and the nx counted-only x;
 * each term-frequency slot attached to an entry gets the length of its
 * run (the records that hold the value: the same count as the store's key
 * index); the hashes of oversized blocks are set 0 in every record's key
 * list (block_keys and shared_below pass over them), and the hashes of
 * wide blocks marked (WIDE_BIT) in both.  kslot is freed here.
 *
 * The entries are written in place by their top bits straight from the
 * key lists, each bucket then sorted alone: no second array of all
 * entries (at 10^6 customers ~150 MiB, the peak of the dedupe when
 * radix_sort had one).  The order is sort_bucket's: equal hashes keep
 * the input order, the keys in record order, then x (after its fallback,
 * a bucket sorted whole by hash and record, the x entries of a hash lie
 * among its keys by record: x entries are never kept and the counts do
 * not depend on their place).  On all cores (the
 * scatter, the sorts and the judging were serial phases once): each job
 * counts and writes the entries of a range of records, the jobs' places
 * in a bucket one after the other in record order, then x, as one pass
 * over the records would write them; then each job sorts and judges a
 * range of buckets (judge_bucket), the kept entries of the jobs are
 * joined, and the key lists marked, each record's by one job. */
static bool build_blocks(batch *b, uint32_t *kslot, const entry *x, size_t nx)
{
    const size_t nb = (size_t)1 << BUCKET_BITS;
    size_t nk = b->koff[b->n], *pos = NULL, *end, cut[MAX_THREADS + 1], n_mk = 0, w;
    fjob fj[MAX_THREADS];
    int use = threads_for(b->n);
    bmark *ms = NULL;
    size_t n_mb = 0;
    bool ok = true;
    memset(fj, 0, sizeof fj);
    b->nent = nk + nx;
    b->ent = patron__malloc((b->nent ? b->nent : 1) * sizeof *b->ent);
    pos = patron__calloc(nb * (size_t)(use + 1), sizeof *pos);
    if (!b->ent || !pos) {
        ok = false;
        goto out;
    }
    end = pos + nb * (size_t)use;
    for (int t = 0; t < use; t++) {
        fj[t].b = b;
        fj[t].kslot = kslot;
        fj[t].x = t == use - 1 ? x : NULL;
        fj[t].nx = t == use - 1 ? nx : 0;
        fj[t].r0 = b->n * (size_t)t / (size_t)use;
        fj[t].r1 = b->n * (size_t)(t + 1) / (size_t)use;
        fj[t].pos = pos + nb * (size_t)t;
        fj[t].end = end;
        fj[t].all = fj;
        fj[t].n_all = use;
    }
    run_jobs(fill_count, fj, sizeof *fj, use);
    bucket_places(pos, use);
    run_jobs(fill_scatter, fj, sizeof *fj, use);
    bucket_cuts(end, b->nent, use, cut);
    for (int t = 0; t < use; t++) {
        fj[t].b0 = cut[t];
        fj[t].b1 = cut[t + 1];
    }
    run_jobs(fill_sort, fj, sizeof *fj, use);
    patron__free(pos);
    pos = NULL;
    for (int t = 0; t < use; t++) {
        ok = ok && !fj[t].oom;
        b->n_wide += fj[t].n_wide;
        n_mk += fj[t].n_mk;
        fj[t].mb0 = n_mb; /* (the jobs' blocks numbered one after the other) */
        n_mb += fj[t].n_mb;
    }
    if (n_mb > UINT32_MAX) { /* (cannot be: fewer blocks than keys) */
        ok = false;
        goto out;
    }
    if (!ok)
        goto out;
    if (b->n_wide) { /* each record's own wide block, found by the marks */
        if (!(b->wown = patron__malloc(b->n * sizeof *b->wown))) {
            ok = false;
            goto out;
        }
        memset(b->wown, 0xFF, b->n * sizeof *b->wown); /* UINT64_MAX: none yet */
    }
    /* the marks sorted by record in the room of kslot where they fit
     * (read by fill_scatter only, and already in memory: fresh pages cost
     * more than their writes), else in their own; without it, read by
     * each job for its records */
    if (n_mk) {
        ms = kslot && n_mk * sizeof *ms <= nk * sizeof *kslot ? (void *)kslot : patron__malloc(n_mk * sizeof *ms);
        if (!ms || !mark_local(b, fj, use, ms))
            run_jobs(mark_thread, fj, sizeof *fj, use);
        if (ms != (void *)kslot)
            patron__free(ms);
    }
    /* the jobs' kept entries one after the other (in bucket order: the
     * hashes rising) */
    w = fj[0].k1;
    for (int t = 1; t < use; t++) {
        size_t len = fj[t].k1 - fj[t].e0;
        if (len && fj[t].e0 != w)
            memmove(b->ent + w, b->ent + fj[t].e0, len * sizeof *b->ent);
        w += len;
    }
    b->nent = w;
    { /* (the room of the entries left out back, before the pairs) */
        entry *ne = patron__realloc(b->ent, (w ? w : 1) * sizeof *ne);
        if (ne)
            b->ent = ne;
    }
out:
    patron__free(pos);
    patron__free(kslot);
    for (int t = 0; t < use; t++) {
        patron__free(fj[t].mk);
        patron__free(fj[t].mb);
    }
    return ok;
}

/* ---- term frequencies ---------------------------------------------------- */

/* in the order of the scorer's PATRON__MATCH_TF_SLOT_* (match.h) */
static const int tf_fields[] = { PATRON__MF_FIRST, PATRON__MF_LAST, PATRON__MF_COMPANY, PATRON__MF_EMAIL,
                                 PATRON__MF_PHONE, PATRON__TF_FULL_NAME };
_Static_assert(sizeof tf_fields / sizeof tf_fields[0] == PATRON__MATCH_TF_SLOT_ADDR,
               "one slot per field before the addresses");

/* Of the value (len bytes) patron__match_tf_value wrote. */
static uint64_t tf_hash(int field, const char *value, size_t len)
{
    return key_hash(patron__match_tf_kind(field), value, len);
}

#define TF_FIELDS (sizeof tf_fields / sizeof tf_fields[0])

/* The key of record i whose hash is h: its index in khash, or -1. */
static long find_key(const batch *b, size_t i, uint64_t h)
{
    for (uint32_t k = b->koff[i]; k < b->koff[i + 1]; k++)
        if (b->khash[k] == h)
            return (long)k;
    return -1;
}

/* The number of addresses of record i (its form's head says it). */
static size_t n_addr_at(const batch *b, size_t i)
{
    const unsigned char *h = b->ref[i].p.form;
    return b->ref[i].len ? ((size_t)h[5] | (size_t)h[6] << 8) : b->ref[i].p.rec->n_addr;
}

/* Count every distinct value once for the whole run: the same numbers the
 * store's key index gives (the records holding the value), with no lookup
 * per pair.  Email, phone, street values and the full name (the rare-name
 * key) are blocking keys (same kind, same string, same hash): their slot rides on the record's blocking
 * entry (kslot, parallel to khash) and build_blocks writes the length of
 * its run; a value without such a key (the key list was full) becomes a
 * counted-only entry in x.  First name, last name and company are no
 * blocking keys: their (hash, slot) entries are sorted and counted here. */
/* The records [from, to) of tf_prepare's loop, on a thread of their own:
 * the slots and counts of their own records only; their first-name,
 * last-name and company entries in e (3 per record at most, from e[0]),
 * their counted-only entries in x (grown here). */
typedef struct tfjob {
    batch *b;
    uint32_t *kslot;
    size_t from, to;
    size_t slots; /* tf_slots: the slots of records [from, to); then where they start */
    entry *e, *x;
    size_t ne, nx, cap_x;
    bool oom;
} tfjob;

/* The slots of records [from, to) of a tfjob (the record's addresses are
 * read here, on the job's thread, not in a serial pass before). */
/* The slots of record i (TF_FIELDS and one per address). */
static size_t tf_n(const batch *b, size_t i)
{
    return b->tfready && b->tfready[i] ? (size_t)b->tfready[i] - 1 : TF_FIELDS + n_addr_at(b, i);
}

static void *tf_slots(void *arg)
{
    tfjob *j = arg;
    size_t n = 0;
    for (size_t i = j->from; i < j->to; i++)
        n += tf_n(j->b, i);
    j->slots = n;
    return NULL;
}

static void *tf_thread(void *arg)
{
    tfjob *j = arg;
    batch *b = j->b;
    size_t cap_ah = 0;
    uint64_t *ah = NULL;
    char v[PATRON__MATCH_KEY_MAX];
    view vw = { .addr = NULL, .cap = 0 };
    /* the job's own part of the arrays (on all cores; serial, with the
     * first touch of their pages, this was a tenth of the phase): the
     * records' slot offsets, their counts cleared, their keys' slots none */
    {
        size_t at = j->slots;
        for (size_t i = j->from; i < j->to; i++) {
            b->tfoff[i] = (uint32_t)at;
            at += tf_n(b, i);
        }
        memset(b->tfc + j->slots, 0, (at - j->slots) * sizeof *b->tfc);
        memset(j->kslot + b->koff[j->from], 0xFF, (b->koff[j->to] - b->koff[j->from]) * sizeof *j->kslot);
    }
    for (size_t i = j->from; i < j->to && !j->oom; i++) {
        const patron__match_rec *r;
        uint32_t base = b->tfoff[i];
        if (b->tfready && b->tfready[i]) { /* found when it was added (tf_row) */
            /* (through locals: the stores could be to the arrays, for
             * all the compiler knows, and it reloaded them per key) */
            const uint8_t *kf = b->kfield;
            uint32_t *ks = j->kslot;
            entry *e = j->e + j->ne;
            for (size_t f = 0; f < 3; f++)
                if (b->tfname[3 * i + f]) {
                    e->hash = b->tfname[3 * i + f];
                    e->rec = (uint32_t)i;
                    e++->slot = base + (uint32_t)f;
                }
            j->ne = (size_t)(e - j->e);
            for (uint32_t k = b->koff[i], ke = b->koff[i + 1]; k < ke; k++)
                if (kf[k] != 0xFF)
                    ks[k] = base + kf[k];
            continue;
        }
        r = rec_at(b, (uint32_t)i, &vw);
        if (!r) {
            j->oom = true;
            break;
        }
        if (r->n_addr > cap_ah) {
            uint64_t *na = patron__realloc(ah, r->n_addr * sizeof *na);
            if (!na) {
                j->oom = true;
                break;
            }
            ah = na;
            cap_ah = r->n_addr;
        }
        for (size_t f = 0; f < TF_FIELDS + r->n_addr; f++) {
            int field = f < TF_FIELDS ? tf_fields[f] : PATRON__MF_STREET;
            size_t len = patron__match_tf_value(v, field, r, f < TF_FIELDS ? -1 : (int)(f - TF_FIELDS));
            uint32_t slot = base + (uint32_t)f;
            uint64_t h;
            long k;
            if (f >= TF_FIELDS)
                ah[f - TF_FIELDS] = 0; /* no value yet */
            if (!len)
                continue;
            h = tf_hash(field, v, len);
            if (field == PATRON__MF_FIRST || field == PATRON__MF_LAST || field == PATRON__MF_COMPANY) {
                j->e[j->ne].hash = h;
                j->e[j->ne].rec = (uint32_t)i;
                j->e[j->ne++].slot = slot;
                continue;
            }
            if (field == PATRON__MF_STREET) {
                size_t a = f - TF_FIELDS, first = a;
                ah[a] = h;
                for (size_t q = 0; q < a && first == a; q++)
                    if (ah[q] == h && b->tfc[base + TF_FIELDS + q] < UINT32_MAX - 64 - (uint32_t)TF_FIELDS)
                        first = q;
                if (first != a) { /* the same address twice: one holder, counted later */
                    b->tfc[slot] = UINT32_MAX - (uint32_t)(TF_FIELDS + first);
                    continue;
                }
            }
            if ((k = find_key(b, i, h)) >= 0) {
                j->kslot[k] = slot;
                continue;
            }
            if (j->nx == j->cap_x) {
                size_t nc = j->cap_x ? j->cap_x * 2 : 64;
                entry *nx2 = patron__realloc(j->x, nc * sizeof *nx2);
                if (!nx2) {
                    j->oom = true;
                    break;
                }
                j->x = nx2;
                j->cap_x = nc;
            }
            j->x[j->nx].hash = h;
            j->x[j->nx].rec = (uint32_t)i;
            j->x[j->nx++].slot = slot | TF_ONLY;
        }
    }
    patron__free(ah);
    view_free(&vw);
    return NULL;
}

/* tf_count's work on one thread: its tfjob's entries counted per bucket
 * (their top BUCKET_BITS), then written to where their bucket's are;
 * then the buckets [b0, b1) sorted and their runs counted. */
typedef struct cjob {
    batch *b;
    const entry *src;
    size_t n;
    entry *all;
    size_t *pos;       /* per bucket: this job's entries in it, then where the next one goes */
    const size_t *end; /* per bucket: where it ends (all jobs) */
    size_t b0, b1;
    bool oom;
} cjob;

static void *count_bucket(void *arg)
{
    cjob *j = arg;
    const entry *src = j->src;
    size_t *pos = j->pos;
    for (size_t k = 0; k < j->n; k++)
        pos[src[k].hash >> (64 - BUCKET_BITS)]++;
    return NULL;
}

static void *count_scatter(void *arg)
{
    cjob *j = arg;
    const entry *src = j->src;
    entry *all = j->all;
    size_t *pos = j->pos;
    for (size_t k = 0; k < j->n; k++)
        all[pos[src[k].hash >> (64 - BUCKET_BITS)]++] = src[k];
    return NULL;
}

static void *count_runs(void *arg)
{
    cjob *j = arg;
    entry *tmp;
    if (!(tmp = bucket_room(j->end, j->b0, j->b1))) {
        j->oom = true;
        return NULL;
    }
    for (size_t i = j->b0; i < j->b1; i++) {
        size_t from = i ? j->end[i - 1] : 0, to = j->end[i];
        entry *e = j->all;
        sort_bucket(e + from, to - from, tmp);
        for (size_t s = from; s < to;) {
            size_t t = s + 1;
            while (t < to && e[t].hash == e[s].hash)
                t++;
            for (size_t k = s; k < t; k++)
                j->b->tfc[e[k].slot] = (uint32_t)(t - s);
            s = t;
        }
    }
    patron__free(tmp);
    return NULL;
}

/* The first-name, last-name and company entries of the tfjobs (ne in
 * all) counted: each slot gets the number of entries of its hash.  On
 * all cores, as build_blocks: the entries go to buckets by their top bits
 * (one bucket holds every entry of a hash), each job then sorts a range
 * of buckets and counts their runs (this was one radix sort on one
 * thread).  The counts do not depend on the order.  false: out of
 * memory. */
static bool tf_count(batch *b, const tfjob *tj, int use, size_t ne)
{
    const size_t nb = (size_t)1 << BUCKET_BITS;
    cjob cj[MAX_THREADS];
    size_t *pos, *end, cut[MAX_THREADS + 1];
    entry *all;
    bool ok = true;
    if (!ne)
        return true;
    all = patron__malloc(ne * sizeof *all);
    pos = patron__calloc(nb * (size_t)(use + 1), sizeof *pos);
    if (!all || !pos) {
        patron__free(all);
        patron__free(pos);
        return false;
    }
    end = pos + nb * (size_t)use;
    memset(cj, 0, sizeof cj);
    for (int t = 0; t < use; t++) {
        cj[t].b = b;
        cj[t].src = tj[t].e;
        cj[t].n = tj[t].ne;
        cj[t].all = all;
        cj[t].pos = pos + nb * (size_t)t;
        cj[t].end = end;
    }
    run_jobs(count_bucket, cj, sizeof *cj, use);
    bucket_places(pos, use);
    run_jobs(count_scatter, cj, sizeof *cj, use);
    bucket_cuts(end, ne, use, cut);
    for (int t = 0; t < use; t++) {
        cj[t].b0 = cut[t];
        cj[t].b1 = cut[t + 1];
    }
    run_jobs(count_runs, cj, sizeof *cj, use);
    for (int t = 0; t < use; t++)
        ok = ok && !cj[t].oom;
    patron__free(pos);
    patron__free(all);
    return ok;
}

/* Count every distinct value once for the whole run: the same numbers the
 * store's key index gives (the records holding the value), with no lookup
 * per pair.  Email, phone, street values and the full name (the rare-name
 * key) are blocking keys (same kind, same string, same hash): their slot rides on the record's blocking
 * entry (kslot, parallel to khash) and build_blocks writes the length of
 * its run; a value without such a key (the key list was full) becomes a
 * counted-only entry in x.  First name, last name and company are no
 * blocking keys: their (hash, slot) entries are counted here (tf_count).
 * The records are read on threads_for(n) threads, each a range in record
 * order; their entries are joined in that order, so the result is the
 * same on any number of threads. */
static bool tf_prepare(batch *b, uint32_t **kslot_out, entry **x_out, size_t *nx_out)
{
    size_t n = 0, ne = 0, nx = 0;
    entry *e = NULL, *x = NULL;
    uint32_t *kslot = NULL;
    tfjob tj[MAX_THREADS];
    int use = threads_for(b->n);
    bool ok = true;
    *kslot_out = NULL;
    *x_out = NULL;
    *nx_out = 0;
    b->tfoff = patron__malloc((b->n + 1) * sizeof *b->tfoff);
    if (!b->tfoff)
        return false;
    memset(tj, 0, sizeof tj);
    for (int t = 0; t < use; t++) {
        tj[t].b = b;
        tj[t].from = b->n * (size_t)t / (size_t)use;
        tj[t].to = b->n * (size_t)(t + 1) / (size_t)use;
    }
    /* the slots per job, then where each job's start (tf_thread writes
     * its records' offsets, clears their counts and their keys' slots) */
    run_jobs(tf_slots, tj, sizeof *tj, use);
    for (int t = 0; t < use; t++) {
        size_t k = tj[t].slots;
        tj[t].slots = n;
        n += k;
        if (n >= TF_ONLY)
            return false;
    }
    b->tfoff[b->n] = (uint32_t)n;
    b->tfc = patron__malloc((n ? n : 1) * sizeof *b->tfc);
    kslot = patron__malloc((b->koff[b->n] ? b->koff[b->n] : 1) * sizeof *kslot);
    e = patron__malloc((b->n ? b->n : 1) * 3 * sizeof *e);
    if (!b->tfc || !kslot || !e)
        goto fail;
    for (int t = 0; t < use; t++) {
        tj[t].kslot = kslot;
        tj[t].e = e + 3 * tj[t].from;
    }
    run_jobs(tf_thread, tj, sizeof *tj, use);
    /* (what tf_row found is read: its memory goes back before the
     * blocks take theirs) */
    patron__free(b->tfready);
    patron__free(b->tfname);
    patron__free(b->kfield);
    b->tfready = NULL;
    b->tfname = NULL;
    b->kfield = NULL;
    for (int t = 0; t < use; t++) {
        ok = ok && !tj[t].oom;
        nx += tj[t].nx;
    }
    if (ok && use > 1 && nx) { /* x in record order: the threads' lists one after the other */
        x = patron__malloc(nx * sizeof *x);
        ok = x != NULL;
        size_t at = 0;
        for (int t = 0; ok && t < use; t++) {
            if (tj[t].nx) /* tj[t].x is NULL while that thread counted none */
                memcpy(x + at, tj[t].x, tj[t].nx * sizeof *x);
            at += tj[t].nx;
        }
    } else if (ok) {
        x = tj[0].x;
        tj[0].x = NULL;
    }
    for (int t = 0; t < use; t++)
        patron__free(tj[t].x);
    if (!ok)
        goto fail;
    for (int t = 0; t < use; t++)
        ne += tj[t].ne;
    if (!tf_count(b, tj, use, ne))
        goto fail;
    patron__free(e);
    *kslot_out = kslot;
    *x_out = x;
    *nx_out = nx;
    return true;
fail:
    patron__free(e);
    patron__free(x);
    patron__free(kslot);
    return false;
}

/* After build_blocks, for records [from, to): an address a record holds
 * twice gets the count of its first occurrence; the counts go to the
 * scorer. */
static void tf_finish(batch *b, size_t from, size_t to)
{
    uint32_t *tfc = b->tfc;
    for (size_t i = from; i < to; i++)
        for (uint32_t slot = b->tfoff[i] + (uint32_t)TF_FIELDS, se = b->tfoff[i + 1]; slot < se; slot++)
            if (tfc[slot] > UINT32_MAX - 64 - (uint32_t)TF_FIELDS)
                tfc[slot] = tfc[b->tfoff[i] + (UINT32_MAX - tfc[slot])];
}

/* ---- pairs ----------------------------------------------------------------- */

/* What the scoring of a pair reads first of record r, in one place
 * (phot[r]): its record when normalised here (NULL: a match form, viewed
 * by rec_at; made_rec finds it without phot where every record was made
 * here) and the start of its counts in tfc (their end: phot[r +
 * 1].tfoff).  Two arrays read at one record each were two cache misses
 * per pair. */
typedef struct phot {
    const patron__match_rec *rec;
    uint32_t tfoff;
} phot;

/* A pair to score: the records of members x < y of a block (a is x's,
 * the side of the query and of the counts). */
typedef struct cand {
    uint32_t a, b;
} cand;

typedef struct job {
    const batch *b;
    const phot *hot; /* b->n + 1 */
    pair *out;
    size_t n, cap;
    bool oom;
    /* the block at hand: each member's keys below the block's, in one
     * piece (kb, from ko[m] to ko[m + 1]) */
    uint64_t *kb;
    uint32_t *ko;
    uint8_t *own; /* a wide block's members: is it the member's own? */
    size_t kb_cap, ko_cap;
    /* the block's records, made when first scored (vp[i] NULL: not yet) */
    view *vs;
    const patron__match_rec **vp;
    size_t vs_cap;
    /* a wide block's members in their sorted order */
    struct order *ord;
    uint32_t *rank;
    size_t ord_cap;
    /* a wide block's candidates (wide_cands): its members' wide keys
     * above the block's, sorted (gk, gk_cap); per member the places of its
     * own in gk (go: m + 1 offsets into gp); the members by rank in both
     * orders (inv, 2m); the candidates of one member (cy) and whether a
     * member is one already (stamp) */
    struct gkey *gk;
    uint32_t *gp, *go, *inv, *cy, *stamp;
    size_t gk_cap, gm_cap;
    uint64_t scored; /* pairs scored */
    /* the pairs to score of the piece at hand (pair_thread walks its
     * blocks first, with the key lists only, then scores these: the
     * records and their strings are read for the pairs scored, not for
     * every member of every block, most of whose pairs are scored in
     * another block); va and vb: their records when match forms (va
     * holds record va_r) */
    cand *cd;
    size_t n_cd, cd_cap;
    view va, vb;
    uint32_t va_r;
    /* the pieces of entries (cut[k] to cut[k + 1], on block starts) the
     * threads take in turn (next: the first not taken, shared) */
    const size_t *cut;
    size_t n_cut;
    atomic_size_t *next;
} job;

/* Copy the keys of the members of the wide block [s, e) of hash h (all
 * keys but h) into j->kb, and note which members have it as their own
 * (j->own, n_own).  wide_cands then reads one small array instead of a
 * key list elsewhere in memory per pair.  (A block paired in full has a
 * few members, a pair or two: shared_below reads their lists in place.)
 * False when out of memory. */
static bool block_keys(job *j, size_t s, size_t e, uint64_t h, size_t *n_own)
{
    const batch *b = j->b;
    size_t m = e - s, w = 0;
    const uint64_t rank = wide_rank(m, h);
    *n_own = 0;
    if (m + 1 > j->ko_cap) {
        uint32_t *no = patron__realloc(j->ko, (m + 1) * sizeof *no);
        uint8_t *nr;
        if (!no)
            return false;
        j->ko = no;
        if (!(nr = patron__realloc(j->own, m + 1)))
            return false;
        j->own = nr;
        j->ko_cap = m + 1;
    }
    /* The members' key lists (where each starts is in its entry, where it
     * ends in koff), and own wide blocks fetched all at once, so that the
     * misses overlap.  pair_thread's prefetch of the next blocks reaches
     * only 2 * PF_AHEAD members, issued a short time ahead (a wide block
     * is soon done): read member by member, the lists and wown missed, and
     * wide blocks' members grew 3.6 times from 1 M to 2 M customers. */
    for (size_t i = 0; i < m; i++) {
        const uint64_t *k = b->khash + b->ent[s + i].slot;
        __builtin_prefetch(&b->koff[b->ent[s + i].rec + 1]);
        __builtin_prefetch(k);
        __builtin_prefetch((const void *)((uintptr_t)k + 64));
        __builtin_prefetch(&b->wown[b->ent[s + i].rec]);
    }
    for (size_t i = 0; i < m; i++) {
        uint32_t r = b->ent[s + i].rec;
        const uint64_t *k = b->khash + b->ent[s + i].slot, *ke = b->khash + b->koff[r + 1];
        j->ko[i] = (uint32_t)w;
        if (w + (size_t)(ke - k) > j->kb_cap) {
            size_t nc = j->kb_cap ? j->kb_cap * 2 : 4096;
            uint64_t *nb;
            while (nc < w + (size_t)(ke - k))
                nc *= 2;
            nb = patron__realloc(j->kb, nc * sizeof *nb);
            if (!nb)
                return false;
            j->kb = nb;
            j->kb_cap = nc;
        }
        *n_own += j->own[i] = b->wown[r] == rank;
        /* (the keys of dropped blocks are 0, build_blocks) */
        for (; k < ke; k++)
            if (*k && *k != h)
                j->kb[w++] = *k;
    }
    j->ko[m] = (uint32_t)w;
    return true;
}

/* In a wide block of hash h, is the pair of these key lists (each
 * without h) scored: 1 if they share another wide block above h, 0 if
 * they share a block paired in full (scored there) or a wide one below h
 * (scored there, as two records sharing two wide blocks), -1 if h is all
 * they share (scored when near in the block's order). */
static int wide_pair(const uint64_t *p, const uint64_t *pe, const uint64_t *q, const uint64_t *qe, uint64_t h)
{
    int above = 0;
    while (p < pe && q < qe) {
        if (*p == *q) {
            if (!(*p & WIDE_BIT) || *p < h)
                return 0;
            above = 1;
            p++;
            q++;
        } else if (*p < *q) {
            p++;
        } else {
            q++;
        }
    }
    return above ? 1 : -1;
}

/* Do the key lists p and q of two members of the block of hash h, paired
 * in full, share the key of another such block below h (the pair is
 * scored there)?  Both lists hold h, every other key below it comes
 * before it, so the merge stops at h with no bound; a 0 (a dropped
 * block's key, build_blocks: in its place, out of order) is passed over
 * as any smaller key is and matches nothing, a wide key (WIDE_BIT) is no
 * such block.  Read in place: copying the members' keys first (when they
 * were read once per pair of a larger block) cost more than the merges,
 * a block paired in full has a pair or two. */
static bool shared_below(const uint64_t *p, const uint64_t *q, uint64_t h)
{
    for (;;) {
        if (*p == *q) {
            if (*p == h)
                return false;
            if (*p && !(*p & WIDE_BIT))
                return true;
            p++;
            q++;
        } else if (*p < *q) {
            p++;
        } else {
            q++;
        }
    }
}

/* Blocks touch their members in entry order, which is no order in
 * memory: at 10^6 customers the loads of key lists, records, strings and
 * counts missed the cache more than the scoring cost.  So the walk of the
 * blocks prefetches the next entries' key lists (where each starts is in
 * its entry), and the scoring of the pairs it found in three steps the
 * next pairs' places in the records (phot), their records and counts,
 * then their strings: each step needs the one before's line.  The walk
 * reads no record: most members' pairs are scored in another block, and
 * the lines of their records, counts and strings (when the walk fetched
 * them for every member, two thirds of the lines it asked for) were the
 * walk's stalls, waiting for room to fetch more. */
#define PF_AHEAD 8
/* pairs ahead of the one scored whose records (CD_AHEAD; their phot
 * entries twice as far, their strings half as far) are fetched: scoring a
 * pair takes longer than a miss */
#define CD_AHEAD 4
/* GCC finds a function of nothing but loads and prefetches pure and drops
 * each call of it whose result is unused: prefetch_keys, not inlined early,
 * was no instruction at all in the library (gcc 12, -O2 and -O3).  Inlined
 * into the walk, the prefetches stay. */
#if defined(__GNUC__)
#  define PF_INLINE static inline __attribute__((always_inline))
#else
#  define PF_INLINE static inline
#endif
PF_INLINE void prefetch_keys(const job *j, size_t i)
{
    const batch *b = j->b;
    const entry *e = &b->ent[i];
    /* the key list's first two lines (a list of 7 keys, most, crosses a
     * line at 7 of 8 places; its end would be a miss of its own: a prefetch
     * faults at no address, formed as an integer past the array's end) */
    const uint64_t *k = b->khash + e->slot;
    __builtin_prefetch(k);
    __builtin_prefetch((const void *)((uintptr_t)k + 63));
    if (e->hash & WIDE_BIT) /* (block_keys reads it for a wide block) */
        __builtin_prefetch(&b->wown[e->rec]);
}
/* Record r when made here, else NULL (a match form, rec_at views it): on
 * the paths that made every record, recs[r], without the line of its phot
 * entry (a miss at any record: one of the lines fetched for each pair
 * scored, which are as many as can be in flight at once). */
PF_INLINE const patron__match_rec *made_rec(const job *j, uint32_t r)
{
    return j->b->in_recs ? &j->b->recs[r] : j->hot[r].rec;
}

/* Record r: made here, else viewed from its match form in v (NULL: out
 * of memory). */
static inline const patron__match_rec *rec_of(const job *j, uint32_t r, view *v)
{
    const patron__match_rec *rec = made_rec(j, r);
    return rec ? rec : rec_at(j->b, r, v);
}

/* Of record r, to be scored: its record, and with `counts` its counts
 * (the query's side).  A record sits at any place in a line (an array of
 * them); the scorer reads it up to last_kp, the identifiers only when
 * there are some (prefetch_str: n_ident is read by then). */
#define REC_HOT (offsetof(patron__match_rec, last_kp) + PATRON__MATCH_CODE_MAX)
PF_INLINE void prefetch_rec(const job *j, uint32_t r, bool counts)
{
    const batch *b = j->b;
    const phot *h = &j->hot[r];
    const patron__match_rec *rec = made_rec(j, r);
    if (rec) {
        const char *p = (const char *)rec;
        __builtin_prefetch(p);
        __builtin_prefetch(p + 64);
        __builtin_prefetch(p + 128);
        __builtin_prefetch(p + REC_HOT - 1);
    } else {
        __builtin_prefetch(b->ref[r].p.form);
        __builtin_prefetch((const char *)b->ref[r].p.form + 64);
    }
    if (counts && b->tfc) {
        __builtin_prefetch(b->tfc + h->tfoff);
        if (h[1].tfoff > h->tfoff)
            __builtin_prefetch(b->tfc + h[1].tfoff - 1);
    }
}
/* Of record r, its record fetched: its strings (the rest of a form). */
PF_INLINE void prefetch_str(const job *j, uint32_t r)
{
    const patron__match_rec *rec = made_rec(j, r);
    if (!rec) {
        const rref *f = &j->b->ref[r];
        for (uint32_t o = 128; o < f->len; o += 64)
            __builtin_prefetch((const char *)f->p.form + o);
    } else {
        __builtin_prefetch(rec->first);
        __builtin_prefetch(rec->email);
        if (rec->n_addr)
            __builtin_prefetch(rec->addr);
        if (rec->n_ident) {
            __builtin_prefetch(&rec->ident[0]);
            __builtin_prefetch(&rec->ident[PATRON__MATCH_IDENT_MAX - 1]);
        }
    }
}

/* Room for the views of a block of m records. */
static bool block_views(job *j, size_t m)
{
    if (m > j->vs_cap) {
        const patron__match_rec **np = patron__realloc(j->vp, m * sizeof *np);
        view *nv = np ? patron__realloc(j->vs, m * sizeof *nv) : NULL;
        if (np)
            j->vp = np;
        if (!nv)
            return false;
        j->vs = nv;
        for (size_t i = j->vs_cap; i < m; i++) {
            nv[i].addr = NULL;
            nv[i].cap = 0;
        }
        j->vs_cap = m;
    }
    memset(j->vp, 0, m * sizeof *j->vp);
    return true;
}

/* Member i of the block at hand, entry k: its record (made on first use). */
static const patron__match_rec *member(job *j, size_t i, size_t k)
{
    uint32_t r = j->b->ent[k].rec;
    if (!j->vp[i] && !(j->vp[i] = rec_of(j, r, &j->vs[i])))
        j->oom = true;
    return j->vp[i];
}

/* The ranks of the members of the wide block [s, s + m) in both orders
 * into j->rank (a at 2i, b at 2i + 1 for member i).  The keys of both
 * orders are made in one pass over the members, after their records,
 * first addresses and its strings were fetched member by member: the
 * loads of these, a miss each in no order in memory, were most of the
 * cost, and the members' misses now overlap.  False when out of memory. */
static bool block_order(job *j, size_t s, size_t m)
{
    order *ob;
    if (m > j->ord_cap) {
        /* the members in order a, in order b, then room for order_sort */
        order *no = patron__realloc(j->ord, 3 * m * sizeof *no);
        uint32_t *nr = no ? patron__realloc(j->rank, 2 * m * sizeof *nr) : NULL;
        if (no)
            j->ord = no;
        if (!nr)
            return false;
        j->rank = nr;
        j->ord_cap = m;
    }
    ob = j->ord + m;
    if (!j->b->in_recs)
        for (size_t i = 0; i < m; i++)
            __builtin_prefetch(&j->hot[j->b->ent[s + i].rec]);
    for (size_t i = 0; i < m; i++) {
        if (!(j->ord[i].r = member(j, i, s + i)))
            return false;
        __builtin_prefetch(j->ord[i].r);
        __builtin_prefetch((const char *)j->ord[i].r + 64);
    }
    for (size_t i = 0; i < m; i++)
        if (j->ord[i].r->n_addr)
            __builtin_prefetch(j->ord[i].r->addr);
    for (size_t i = 0; i < m; i++)
        if (j->ord[i].r->n_addr) {
            const patron__match_addr *ad = j->ord[i].r->addr;
            __builtin_prefetch(ad->postal);
            __builtin_prefetch(ad->street);
            __builtin_prefetch(ad->number);
        }
    for (size_t i = 0; i < m; i++) {
        j->ord[i].pos = (uint32_t)i;
        ob[i].r = j->ord[i].r;
        ob[i].pos = (uint32_t)i;
        order_keys(&j->ord[i], 0);
        order_keys(&ob[i], 1);
    }
    for (int pass = 0; pass < 2; pass++) {
        order *o = pass ? ob : j->ord;
        order_sort(o, j->ord + 2 * m, m, pass);
        for (size_t i = 0; i < m; i++)
            j->rank[2 * o[i].pos + (size_t)pass] = (uint32_t)i;
    }
    return true;
}

/* Are members x and y of the wide block at hand near: fewer than
 * PATRON__NEAR_WINDOW apart in one of its orders? */
static bool near(const job *j, size_t x, size_t y)
{
    const uint32_t *rx = j->rank + 2 * x, *ry = j->rank + 2 * y;
    return (rx[0] > ry[0] ? rx[0] - ry[0] : ry[0] - rx[0]) < PATRON__NEAR_WINDOW ||
           (rx[1] > ry[1] ? rx[1] - ry[1] : ry[1] - rx[1]) < PATRON__NEAR_WINDOW;
}

static int cmp_pair_ab(const void *x, const void *y)
{
    const pair *p = x, *q = y;
    if (p->a != q->a)
        return (p->a > q->a) - (p->a < q->a);
    return (p->b > q->b) - (p->b < q->b);
}

/* pairs found before the walk stops to score them (pair_thread) */
#define CAND_FLUSH 65536

/* Members x < y of the block starting at entry s: a pair to score (after
 * the walk of the piece, score_cands).  False when out of memory
 * (j->oom). */
static inline bool cand_add(job *j, size_t s, size_t x, size_t y)
{
    cand *c, *np = room_for_one(j->cd, j->n_cd, &j->cd_cap, sizeof *np);
    if (!np) {
        j->oom = true;
        return false;
    }
    j->cd = np;
    c = &j->cd[j->n_cd++];
    c->a = j->b->ent[s + x].rec;
    c->b = j->b->ent[s + y].rec;
    return true;
}

/* Score the pairs j->cd (in the order found: a pair's a is the same as the
 * one before's for a run, which one query serves), keeping those not
 * DISTINCT.  False when out of memory (j->oom). */
static bool score_cands(job *j, patron__match_query *q, patron__match_tf_memo *memo)
{
    const batch *b = j->b;
    const cand *cd = j->cd;
    const phot *hot = j->hot;
    const size_t n = j->n_cd;
    bool q_ready = false;
    /* the counts, of each pair's a (what changes per pair), else none;
     * the rest read once here, not per pair */
    patron__match_tf tf = b->tf;
    const patron__match_tf *tfp = b->tfc ? &tf : NULL;
    tf.memo = b->tfc ? memo : tf.memo;
    for (size_t i = 0; i < n; i++) {
        uint32_t ra = cd[i].a, rb = cd[i].b;
        const patron__match_rec *vb;
        patron__match_result r;
        pair *o;
        if (i + 2 * CD_AHEAD < n) { /* (a's for its counts) */
            const cand *c = &cd[i + 2 * CD_AHEAD];
            if (!b->in_recs)
                __builtin_prefetch(&hot[c->b]);
            if (c->a != c[-1].a && (!b->in_recs || tfp)) {
                __builtin_prefetch(&hot[c->a]);
                __builtin_prefetch(&hot[c->a + 1]); /* (where its counts end) */
            }
        }
        if (i + CD_AHEAD < n) {
            const cand *c = &cd[i + CD_AHEAD];
            prefetch_rec(j, c->b, false);
            if (c->a != c[-1].a)
                prefetch_rec(j, c->a, true);
        }
        if (i + CD_AHEAD / 2 < n) {
            const cand *c = &cd[i + CD_AHEAD / 2];
            prefetch_str(j, c->b);
            if (c->a != c[-1].a)
                prefetch_str(j, c->a);
        }
        if (!q_ready || ra != j->va_r) {
            const patron__match_rec *va = rec_of(j, ra, &j->va);
            if (!va) {
                j->oom = true;
                return false;
            }
            patron__match_query_init(q, va);
            q->distinct_only = 1; /* DISTINCT pairs are dropped */
            q->decision_only = 1; /* (their results unread) */
            j->va_r = ra;
            q_ready = true;
            if (tfp)
                tf.counts = b->tfc + hot[ra].tfoff;
        }
        if (!(vb = rec_of(j, rb, &j->vb))) {
            j->oom = true;
            return false;
        }
        patron__match_score_q(&r, q, vb, &b->cfg, tfp);
        if (r.decision == PATRON__MATCH_DISTINCT)
            continue;
        pair *np = room_for_one(j->out, j->n, &j->cap, sizeof *np);
        if (!np) {
            j->oom = true;
            return false;
        }
        j->out = np;
        o = &np[j->n++];
        o->a = ra < rb ? ra : rb;
        o->b = ra < rb ? rb : ra;
        o->score = (float)r.score;
        o->decision = patron__decision_public(r.decision);
    }
    j->scored += n;
    j->n_cd = 0;
    return true;
}

/* Grow *p (of *cap elements of size sz) to hold n. */
static bool room(void **p, size_t *cap, size_t n, size_t sz)
{
    void *np;
    size_t nc;
    if (n <= *cap)
        return true;
    nc = *cap ? *cap : 256;
    while (nc < n)
        nc *= 2;
    if (!(np = patron__realloc(*p, nc * sz)))
        return false;
    *p = np;
    *cap = nc;
    return true;
}

/* The wide block [s, s + m) of hash h, its keys in j->kb (block_keys)
 * and, with n_own > 1, its orders in j->rank (block_order).  A pair of it
 * is scored when it shares a wide key above h and no key that scores it
 * elsewhere (wide_pair 1), or shares nothing else and both are own and
 * near (wide_pair -1, near) - so only pairs that share a wide key above h
 * (found through j->gk) or are near in one of the orders (through
 * j->inv) can be: each member's candidates are those, and the test is
 * the same as for every pair.  A wide block's pairs grow with the square
 * of its size, these with its size and the pairs scored.  False when out
 * of memory. */
static bool wide_cands(job *j, size_t s, size_t m, uint64_t h, size_t n_own)
{
    size_t ng = 0, need;
    /* the members' wide keys above h, sorted: members sharing one sit
     * together, in rising order */
    for (size_t i = 0; i < m; i++)
        for (uint32_t k = j->ko[i]; k < j->ko[i + 1]; k++)
            ng += (j->kb[k] & WIDE_BIT) && j->kb[k] > h;
    /* gp, go, inv, cy and stamp: room for need each, one capacity */
    need = ng > 2 * m + 1 ? ng : 2 * m + 1;
    /* (gk: the keys, then room for gkey_sort) */
    if (!room((void **)&j->gk, &j->gk_cap, ng ? 2 * ng : 1, sizeof *j->gk))
        return false;
    if (need > j->gm_cap) {
        uint32_t **arr[] = { &j->gp, &j->go, &j->inv, &j->cy, &j->stamp };
        for (size_t a = 0; a < sizeof arr / sizeof arr[0]; a++) {
            uint32_t *np = patron__realloc(*arr[a], need * sizeof *np);
            if (!np)
                return false; /* (the ones grown are freed with the rest) */
            *arr[a] = np;
        }
        j->gm_cap = need;
    }
    ng = 0;
    for (size_t i = 0; i < m; i++)
        for (uint32_t k = j->ko[i]; k < j->ko[i + 1]; k++)
            if ((j->kb[k] & WIDE_BIT) && j->kb[k] > h) {
                j->gk[ng].k = j->kb[k];
                j->gk[ng++].i = (uint32_t)i;
            }
    gkey_sort(j->gk, j->gk + ng, ng);
    /* each member's places in gk (counted, then placed) */
    memset(j->go, 0, (m + 1) * sizeof *j->go);
    for (size_t g = 0; g < ng; g++)
        j->go[j->gk[g].i + 1]++;
    for (size_t i = 0; i < m; i++)
        j->go[i + 1] += j->go[i];
    for (size_t i = 0; i < m; i++)
        j->stamp[i] = j->go[i]; /* (the next place to fill) */
    for (size_t g = 0; g < ng; g++)
        j->gp[j->stamp[j->gk[g].i]++] = (uint32_t)g;
    if (n_own > 1)
        for (size_t i = 0; i < m; i++) {
            j->inv[j->rank[2 * i]] = (uint32_t)i;
            j->inv[m + j->rank[2 * i + 1]] = (uint32_t)i;
        }
    for (size_t i = 0; i < m; i++)
        j->stamp[i] = 0;
    for (size_t x = 0; x < m && !j->oom; x++) {
        size_t nc = 0;
        const uint64_t *xk = j->kb + j->ko[x], *xe = j->kb + j->ko[x + 1];
        const uint32_t mark = (uint32_t)x + 1;
        if (n_own > 1 && j->own[x])
            for (int pass = 0; pass < 2; pass++) {
                size_t r = j->rank[2 * x + (size_t)pass];
                for (size_t d = 1; d < PATRON__NEAR_WINDOW; d++)
                    for (int side = 0; side < 2; side++) {
                        size_t y;
                        if (side ? r + d >= m : r < d)
                            continue;
                        y = j->inv[(size_t)pass * m + (side ? r + d : r - d)];
                        if (y > x && j->own[y] && j->stamp[y] != mark) {
                            j->stamp[y] = mark;
                            j->cy[nc++] = (uint32_t)y;
                        }
                    }
            }
        for (uint32_t p = j->go[x]; p < j->go[x + 1]; p++)
            for (size_t g = (size_t)j->gp[p] + 1; g < ng && j->gk[g].k == j->gk[j->gp[p]].k; g++) {
                size_t y = j->gk[g].i; /* > x: the group rises */
                if (j->stamp[y] != mark) { /* (each member once: nc < m) */
                    j->stamp[y] = mark;
                    j->cy[nc++] = (uint32_t)y;
                }
            }
        for (size_t c = 0; c < nc; c++) {
            size_t y = j->cy[c];
            const uint64_t *yk = j->kb + j->ko[y], *ye = j->kb + j->ko[y + 1];
            int w;
            if (j->b->ent[s + x].rec == j->b->ent[s + y].rec)
                continue;
            w = wide_pair(xk, xe, yk, ye, h);
            if (w == 0 || (w < 0 && !(j->own[x] && j->own[y] && near(j, x, y))))
                continue;
            if (!cand_add(j, s, x, y))
                return false;
        }
    }
    return true;
}

/* Sort a thread's pairs by (a, b), a < b < n_rec and no pair twice: an
 * LSD radix sort of the key a * 2^bits + b in digits of PAIR_DIGIT bits
 * (a stable sort of distinct keys: the order qsort with cmp_pair_ab
 * gives, at a tenth of its cost), qsort when there is no memory for it. */
#define PAIR_DIGIT 11
static void sort_pairs(pair *a, size_t n, size_t n_rec)
{
    int bits = 1, passes;
    size_t cnt[(size_t)1 << PAIR_DIGIT];
    pair *tmp, *src = a, *dst;
    if (n < 2)
        return;
    while (bits < 32 && ((size_t)1 << bits) < n_rec)
        bits++;
    passes = (2 * bits + PAIR_DIGIT - 1) / PAIR_DIGIT;
    if (n < 256 || !(tmp = patron__malloc(n * sizeof *tmp))) {
        qsort(a, n, sizeof *a, cmp_pair_ab);
        return;
    }
    dst = tmp;
    for (int pass = 0; pass < passes; pass++) {
        const int shift = pass * PAIR_DIGIT;
        const uint64_t mask = ((uint64_t)1 << PAIR_DIGIT) - 1;
        size_t sum = 0;
        pair *t;
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(((uint64_t)src[i].a << bits | src[i].b) >> shift) & mask]++;
        for (size_t i = 0; i <= mask; i++) {
            size_t k = cnt[i];
            cnt[i] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++)
            dst[cnt[(((uint64_t)src[i].a << bits | src[i].b) >> shift) & mask]++] = src[i];
        t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    patron__free(tmp);
}

static void *pair_thread(void *arg)
{
    job *j = arg;
    const batch *b = j->b;
    /* (read once: the stores of the walk could be to them, for all the
     * compiler knows) */
    const entry *ent = b->ent;
    const size_t nent = b->nent;
    const uint64_t *khash = b->khash;
    /* the next entry to prefetch: every block has two entries or more
     * (build_blocks), so the entries ahead are the work ahead */
    size_t s, to, pf, piece;
    /* One record against the rest of its block: its pattern masks are
     * built once (patron__match_score_q, the same scores as
     * patron__match_score_tf); about 32 KiB, so not on a thread's stack. */
    patron__match_query *q = patron__malloc(sizeof *q);
    /* the thread's frequency weights by count (the same values, computed
     * once per count instead of once per pair) */
    patron__match_tf_memo *memo = patron__malloc(sizeof *memo);
    if (!q)
        j->oom = true;
    if (memo)
        patron__match_tf_memo_init(memo);
    while (!j->oom && (piece = atomic_fetch_add(j->next, 1)) < j->n_cut) {
        s = j->cut[piece];
        to = j->cut[piece + 1];
        pf = s;
        while (s < to && !j->oom) {
            size_t e = s + 1, n_own;
            uint64_t h = ent[s].hash;
            /* the pairs found so far scored at a block's start once there
             * are CAND_FLUSH of them: a piece is the whole batch on one
             * core, and its list must not grow with the batch (each pair is
             * scored on its own, the kept ones sorted at the end) */
            if (j->n_cd >= CAND_FLUSH && !score_cands(j, q, memo))
                break;
            while (e < nent && ent[e].hash == h)
                e++;
            /* 2 * PF_AHEAD entries beyond the block prefetched */
            if (pf < e) /* (behind: on from here) */
                pf = e;
            for (; pf < e + 2 * PF_AHEAD && pf < nent; pf++)
                prefetch_keys(j, pf);
            /* A block of up to PATRON__BLOCK_WINDOW records: every pair, in
             * the block of the first key the two share.  A wide block: the
             * pairs that share no other block but another wide one (in the
             * first wide block they share), and those that share this block
             * only when they are near (fewer than PATRON__NEAR_WINDOW apart
             * in one of its orders); it is ordered only when two of its
             * members have it as their own (no other pair is scored by
             * order), the order reads the records (the walk reads none but
             * there). */
            if (h & WIDE_BIT) {
                if (!block_keys(j, s, e, h, &n_own) ||
                    (n_own > 1 && (!block_views(j, e - s) || !block_order(j, s, e - s))) ||
                    !wide_cands(j, s, e - s, h, n_own))
                    j->oom = true;
                s = e;
                continue;
            }
            for (size_t x = s; x < e && !j->oom; x++) {
                const uint64_t *xk = khash + ent[x].slot;
                for (size_t y = x + 1; y < e; y++) {
                    if (ent[x].rec == ent[y].rec)
                        continue;
                    if (shared_below(xk, khash + ent[y].slot, h))
                        continue; /* scored in an earlier block */
                    if (!cand_add(j, s, x - s, y - s))
                        break; /* (j->oom) */
                }
            }
            s = e;
        }
        if (!j->oom)
            score_cands(j, q, memo);
    }
    /* the pairs in (a, b) order here, on this thread: build_result then
     * only merges the threads' lists */
    if (!j->oom && j->n > 1) /* j->out is NULL while no pair was kept */
        sort_pairs(j->out, j->n, b->n);
    patron__free(q);
    patron__free(memo);
    patron__free(j->cd);
    view_free(&j->va);
    view_free(&j->vb);
    j->cd = NULL;
    j->n_cd = j->cd_cap = 0;
    patron__free(j->kb);
    patron__free(j->ko);
    patron__free(j->own);
    j->own = NULL;
    for (size_t i = 0; i < j->vs_cap; i++)
        view_free(&j->vs[i]);
    patron__free(j->vs);
    patron__free(j->vp);
    patron__free(j->ord);
    patron__free(j->rank);
    j->ord = NULL;
    j->rank = NULL;
    j->ord_cap = 0;
    patron__free(j->gk);
    patron__free(j->gp);
    patron__free(j->go);
    patron__free(j->inv);
    patron__free(j->cy);
    patron__free(j->stamp);
    j->gk = NULL;
    j->gp = j->go = j->inv = j->cy = j->stamp = NULL;
    j->gk_cap = j->gm_cap = 0;
    j->kb = NULL;
    j->ko = NULL;
    j->vs = NULL;
    j->vp = NULL;
    j->kb_cap = j->ko_cap = j->vs_cap = 0;
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

/* From the records read to the pairs in jobs[0..nj): value counts (field
 * mode), blocks, pairing on nj threads.  PATRON_E_NOMEM or OK; the jobs'
 * outputs are the caller's to free either way. */
/* The arrays read grew by doubling: give back what no record uses (with
 * 10^6 customers a quarter of the key hashes' room, ~50 MiB).  A failed
 * shrink keeps the larger block. */
static void trim(batch *b)
{
    void *p;
    if (b->khash && (p = patron__realloc(b->khash, (b->koff[b->n] ? b->koff[b->n] : 1) * sizeof *b->khash)))
        b->khash = p;
    if (b->ref && !b->recs && (p = patron__realloc(b->ref, (b->n ? b->n : 1) * sizeof *b->ref)))
        b->ref = p;
    if (b->ids && (p = patron__realloc(b->ids, (b->n ? b->n : 1) * sizeof *b->ids)))
        b->ids = p;
    if (b->koff && (p = patron__realloc(b->koff, (b->n + 1) * sizeof *b->koff)))
        b->koff = p;
    b->cap = b->n; /* the arrays hold at least n (nothing is added after) */
}

/* The records [from, to) made ready for the pair threads: their counts
 * (tf_finish) and what the pairs read first of them (hot; the last job
 * writes hot[n] too).  On all cores: two serial passes over the records
 * once. */
typedef struct hjob {
    batch *b;
    phot *hot;
    size_t from, to;
} hjob;

static void *hot_thread(void *arg)
{
    hjob *j = arg;
    const batch *b = j->b;
    size_t to = j->to == b->n ? b->n + 1 : j->to;
    if (b->tfc)
        tf_finish(j->b, j->from, j->to);
    for (size_t r = j->from; r < to; r++) {
        j->hot[r].rec = r < b->n && !b->ref[r].len ? b->ref[r].p.rec : NULL;
        j->hot[r].tfoff = b->tfoff ? b->tfoff[r] : 0;
    }
    return NULL;
}

#define PIECES 64
static patron_status pair_all(batch *b, job *jobs, int nj)
{
    int use;
    size_t cut[MAX_THREADS * PIECES + 1], n_cut;
    atomic_size_t next;
    uint32_t *kslot = NULL;
    entry *x = NULL;
    size_t nx = 0;
    phot *hot;
    hjob hj[MAX_THREADS];
    bool ok;
    trim(b);
    if (b->cfg.mode == PATRON__MATCH_MODE_FIELDS && !tf_prepare(b, &kslot, &x, &nx))
        ok = false;
    else
        ok = build_blocks(b, kslot, x, nx);
    patron__free(x);
    if (!ok)
        return PATRON_E_NOMEM;
    /* split the entries into PIECES pieces per thread on block starts,
     * taken in turn by `use` threads: one that finishes early takes more
     * (the pairs per entry differ from range to range); jobs from `use` to
     * nj stay empty.  Each thread sorts its own pairs, so which thread
     * takes which piece changes nothing in the result. */
    use = threads_for(b->n);
    if (use > nj)
        use = nj;
    n_cut = (size_t)use * (use > 1 ? PIECES : 1);
    for (size_t k = 0; k <= n_cut; k++) {
        size_t at = b->nent * k / n_cut;
        while (at > 0 && at < b->nent && b->ent[at].hash == b->ent[at - 1].hash)
            at++;
        cut[k] = k && at < cut[k - 1] ? cut[k - 1] : at;
    }
    if (!(hot = patron__malloc((b->n + 1) * sizeof *hot)))
        return PATRON_E_NOMEM;
    for (int t = 0; t < use; t++) {
        hj[t].b = b;
        hj[t].hot = hot;
        hj[t].from = b->n * (size_t)t / (size_t)use;
        hj[t].to = b->n * (size_t)(t + 1) / (size_t)use;
    }
    run_jobs(hot_thread, hj, sizeof *hj, use);
    if (b->tfc)
        b->tf.n = (double)b->n; /* the counts: per pair, of its first record */
    atomic_init(&next, 0);
    for (int t = 0; t < nj; t++) {
        jobs[t].b = b;
        jobs[t].hot = hot;
        jobs[t].cut = cut;
        jobs[t].n_cut = n_cut;
        jobs[t].next = &next;
    }
    run_jobs(pair_thread, jobs, sizeof *jobs, use);
    patron__free(hot);
    b->scored = 0;
    for (int t = 0; t < nj; t++) {
        if (jobs[t].oom)
            return PATRON_E_NOMEM;
        b->scored += jobs[t].scored;
    }
    return PATRON_OK;
}

/* true when b's ids rise with the record index (both paths add records in
 * id order): then (a, b) order is (id_a, id_b) order. */
static bool ids_rising(const batch *b)
{
    for (size_t i = 1; i < b->n; i++)
        if (b->ids[i] <= b->ids[i - 1])
            return false;
    return true;
}

/* The pairs of jobs[0..nj), each sorted by (a, b) on its thread
 * (pair_thread), merged into p in (id_a, id_b) order; all: room for the
 * pairs when the ids do not rise with the index (sorted here then). */
static void merge_pairs(const batch *b, job *jobs, int nj, patron_pairs *p, idx_pair *all)
{
    size_t at[MAX_THREADS] = { 0 }, k = 0;
    if (all) {
        for (int t = 0; t < nj; t++)
            for (size_t i = 0; i < jobs[t].n; i++) {
                const pair *q = &jobs[t].out[i];
                all[k].a = b->ids[q->a];
                all[k].b = b->ids[q->b];
                all[k].score = q->score;
                all[k].decision = q->decision;
                k++;
            }
        qsort(all, k, sizeof *all, cmp_idx_pair);
        for (size_t i = 0; i < k; i++) {
            p->id_a[i] = all[i].a;
            p->id_b[i] = all[i].b;
            p->score[i] = all[i].score;
            p->decision[i] = all[i].decision;
        }
        p->n = k;
        return;
    }
    for (;;) {
        const pair *best = NULL;
        int bt = -1;
        for (int t = 0; t < nj; t++) {
            const pair *q;
            if (at[t] == jobs[t].n)
                continue;
            q = &jobs[t].out[at[t]];
            if (!best || cmp_pair_ab(q, best) < 0) {
                best = q;
                bt = t;
            }
        }
        if (!best)
            break;
        p->id_a[k] = b->ids[best->a];
        p->id_b[k] = b->ids[best->b];
        p->score[k] = best->score;
        p->decision[k] = best->decision;
        k++;
        at[bt]++;
    }
    p->n = k;
}

/* build_result's independent steps on up to three threads: the pairs
 * merged and the MERGE clusters (step 0), the household clusters (step
 * 1), the records freed (step 2, with recs). */
typedef struct rjob {
    const batch *b;
    job *jobs;
    int nj, step;
    patron_pairs *p;
    idx_pair *all;
    patron__match_rec *recs;
    bool ok;
} rjob;

static void *result_thread(void *arg)
{
    rjob *r = arg;
    if (r->step == 0) {
        merge_pairs(r->b, r->jobs, r->nj, r->p, r->all);
        r->ok = make_clusters(r->b, r->jobs, r->nj, false, &r->p->n_members, &r->p->member, &r->p->cluster);
    } else if (r->step == 1) {
        r->ok = make_clusters(r->b, r->jobs, r->nj, true, &r->p->n_hmembers, &r->p->hmember, &r->p->hcluster);
    } else {
        freejob fj = { r->recs, 0, r->b->n };
        free_thread(&fj);
        patron__free(r->recs);
        r->ok = true;
    }
    return NULL;
}

/* The result of the pairs in jobs[0..nj) into *out.  recs (may be NULL):
 * b->n records to free (and their array), on a thread of their own while
 * the result is made (freed on all cores before, each free waited for
 * the other core's at the allocator's lock: a serial phase at the end of
 * the run); freed either way. */
static patron_status build_result(const batch *b, job *jobs, int nj, patron_pairs **out, patron__match_rec *recs)
{
    size_t total = 0;
    idx_pair *all = NULL;
    bool rising = ids_rising(b);
    rjob rj[3];
    int steps = recs ? 3 : 2;
    patron_pairs *p = patron__calloc(1, sizeof *p);
    for (int t = 0; t < nj; t++)
        total += jobs[t].n;
    if (!rising)
        all = patron__malloc((total ? total : 1) * sizeof *all);
    if (p) {
        p->id_a = patron__malloc((total ? total : 1) * sizeof *p->id_a);
        p->id_b = patron__malloc((total ? total : 1) * sizeof *p->id_b);
        p->score = patron__malloc((total ? total : 1) * sizeof *p->score);
        p->decision = patron__malloc((total ? total : 1) * sizeof *p->decision);
    }
    for (int t = 0; t < steps; t++) {
        rj[t].b = b;
        rj[t].jobs = jobs;
        rj[t].nj = nj;
        rj[t].step = t;
        rj[t].p = p;
        rj[t].all = all;
        rj[t].recs = recs;
        rj[t].ok = false;
    }
    if (!p || (!rising && !all) || !p->id_a || !p->id_b || !p->score || !p->decision) {
        if (recs)
            result_thread(&rj[2]);
        patron__free(all);
        patron_pairs_free(p);
        return PATRON_E_NOMEM;
    }
    /* (the steps write to other members of p) */
    if (threads_for(b->n) > 1) {
        run_jobs(result_thread, rj, sizeof *rj, steps);
    } else {
        for (int t = 0; t < steps; t++)
            result_thread(&rj[t]);
    }
    patron__free(all);
    if (!rj[0].ok || !rj[1].ok) {
        patron_pairs_free(p);
        return PATRON_E_NOMEM;
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
    view va = { .addr = NULL, .cap = 0 }, vb = { .addr = NULL, .cap = 0 };
    for (int t = 0; t < nj && sup && !st; t++) {
        size_t k = 0;
        for (size_t i = 0; i < jobs[t].n; i++) {
            const pair *q = &jobs[t].out[i];
            const patron__match_rec *ra = rec_at(b, q->a, &va), *rb = rec_at(b, q->b, &vb);
            if (!ra || !rb) {
                st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
                break;
            }
            if (!patron__review_sup_pair(sup, b->ids[q->a], ra, b->ids[q->b], rb))
                jobs[t].out[k++] = *q;
        }
        jobs[t].n = k;
    }
    view_free(&va);
    view_free(&vb);
    patron__review_sup_free(sup);
    return st;
}

patron_status patron_db_dedupe(patron_db *db, patron_pairs **out, patron_match_mode mode)
{
    batch b;
    job jobs[MAX_THREADS];
    int nj = nthreads();
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
    db->dedupe_scored = 0;
    if (!st && pair_all(&b, jobs, nj) != PATRON_OK)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    db->dedupe_scored = b.scored;
    if (!st)
        st = drop_decided(db, &b, jobs, nj);
    if (!st && build_result(&b, jobs, nj, out, NULL) != PATRON_OK)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
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

uint64_t patron__dedupe_scored(const patron_db *db)
{
    return db ? db->dedupe_scored : 0;
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

/* ---- a batch of customers in no store (patron/batch.h) -------------------- */

/* The values create keeps unique (customer number, external reference,
 * login name) of the customers added so far: open addressing over
 * (hash, value in an arena, holder's id). */
typedef struct uslot {
    uint64_t hash; /* 0: empty */
    uint32_t off;  /* of kind byte + value + NUL in the arena */
    uint32_t id;   /* (16 bytes a slot: at 10^6 customers the table is ~64 MiB) */
} uslot;

typedef struct uniq {
    uslot *t;
    size_t cap, n;
    char *arena;
    size_t len, acap;
} uniq;

static uslot *uniq_find(const uniq *u, int kind, const char *v, size_t len, uint64_t h)
{
    if (!u->cap)
        return NULL;
    for (size_t i = h & (u->cap - 1);; i = (i + 1) & (u->cap - 1)) {
        uslot *s = &u->t[i];
        if (!s->hash)
            return NULL;
        if (s->hash == h && u->arena[s->off] == (char)kind && memcmp(u->arena + s->off + 1, v, len) == 0 &&
            u->arena[s->off + 1 + len] == '\0')
            return s;
    }
}

static bool uniq_put(uniq *u, int kind, const char *v, size_t len, uint64_t h, int64_t id)
{
    size_t i;
    /* at most 3/4 full: at 1/2, 136 k external references made a table
     * of 2^19 slots (8 MiB, and 8 more for the ones before it, cleared
     * and touched page by page) */
    if (4 * (u->n + 1) > 3 * u->cap) {
        size_t nc = u->cap ? u->cap * 2 : 4096;
        uslot *nt = patron__calloc(nc, sizeof *nt);
        if (!nt)
            return false;
        for (size_t k = 0; k < u->cap; k++)
            if (u->t[k].hash) {
                for (i = u->t[k].hash & (nc - 1); nt[i].hash; i = (i + 1) & (nc - 1))
                    ;
                nt[i] = u->t[k];
            }
        patron__free(u->t);
        u->t = nt;
        u->cap = nc;
    }
    if ((uint64_t)id > UINT32_MAX || u->len + len + 2 > UINT32_MAX)
        return false; /* (a batch holds fewer customers: see flush_chunk) */
    if (u->len + len + 2 > u->acap) {
        size_t nc = u->acap ? u->acap : 65536;
        char *na;
        while (nc < u->len + len + 2)
            nc *= 2;
        if (!(na = patron__realloc(u->arena, nc)))
            return false;
        u->arena = na;
        u->acap = nc;
    }
    for (i = h & (u->cap - 1); u->t[i].hash; i = (i + 1) & (u->cap - 1))
        ;
    u->t[i].hash = h;
    u->t[i].off = (uint32_t)u->len;
    u->t[i].id = (uint32_t)id;
    u->arena[u->len] = (char)kind;
    memcpy(u->arena + u->len + 1, v, len);
    u->arena[u->len + 1 + len] = '\0';
    u->len += len + 2;
    u->n++;
    return true;
}

static uint64_t uniq_hash(int kind, const char *v, size_t len)
{
    return patron__hash_key_n(kind, v, len) | 1; /* never 0: the empty mark */
}

struct patron_batch {
    batch b;
    /* added customers (validated copies) waiting to be normalised, a chunk
     * at a time on all cores */
    patron_customer **pend;
    int64_t *pend_ids;
    size_t n_pend;
    uint64_t *kh;
    uint8_t *nk;
    size_t khash_cap;
    /* per record of a part: where its key hashes are in kh (and its
     * fields in tkf).  Rows: packed within their piece's room (see
     * row_piece; a room of PATRON__MATCH_KEYS_MAX a row, of which ~11
     * were used, wrote to every page of kh's 4 MiB); customers (add_part):
     * i * PATRON__MATCH_KEYS_MAX. */
    uint32_t khat[CHUNK];
    /* per record of a part, what tf_prepare needs of it (tf_row; batch's
     * tfready, tfname, kfield): tready 0 when not found */
    uint8_t tready[CHUNK];
    uint64_t tname[CHUNK * 3];
    uint8_t *tkf; /* CHUNK * PATRON__MATCH_KEYS_MAX */
    /* patron_batch_add_many: per customer of a part, the result of its
     * checks and its normalised form */
    patron_status wst[CHUNK];
    uint64_t hext[CHUNK], hlogin[CHUNK]; /* their uniq_hash (0: none, or not computed) */
    uint8_t given[CHUNK]; /* GIVEN_* of the customer (told by the thread that read it) */
    patron__match_rec *trec;
    /* the part's normalised records: trec (patron_batch_add_many), or
     * the batch's own from b.recs + b.n on (rows: room is made for the
     * part first; a row's record is made where it stays, and moves down
     * only when a row before it was refused: a copy of each record from
     * trec, and trec's 1.7 MiB, are saved) */
    patron__match_rec *prec;
    /* patron_batch_add_rows: per row of a part, its values create keeps
     * unique (borrowed from the row; NULL: none) */
    const char *rext[CHUNK], *rsrc[CHUNK], *rlogin[CHUNK], *rnum[CHUNK];
    uniq u;
    size_t numbers_given; /* customer numbers in u (given, not made by the counter) */
    char prefix[17];
    unsigned width;
    uint64_t counter;
    /* the number batch_number made last (gen_n; 0: none): prefix, then
     * its digits from gen[gen_at] */
    char gen[40];
    size_t gen_len, gen_at;
    uint64_t gen_n;
    int64_t next_id;
    uint64_t scored; /* pairs scored by the run */
    bool ran, broken;
    char errmsg[512];
};

static patron_status batch_error(patron_batch *b, patron_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static patron_status batch_error(patron_batch *b, patron_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->errmsg, sizeof b->errmsg, fmt, ap);
    va_end(ap);
    return st;
}

static patron_status batch_ok(patron_batch *b)
{
    b->errmsg[0] = '\0';
    return PATRON_OK;
}

patron_status patron_batch_new(patron_batch **out, patron_db *db)
{
    patron_batch *b;
    patron_status st;
    if (!out)
        return PATRON_E_INVALID;
    *out = NULL;
    if (!db)
        return PATRON_E_INVALID;
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    st = patron__tx_end(db, patron__match_config_load(db));
    if (st)
        return st;
    b = patron__calloc(1, sizeof *b);
    if (b) {
        b->pend = patron__malloc(CHUNK * sizeof *b->pend);
        b->pend_ids = patron__malloc(CHUNK * sizeof *b->pend_ids);
        b->kh = patron__malloc((size_t)CHUNK * PATRON__MATCH_KEYS_MAX * sizeof *b->kh);
        b->nk = patron__malloc(CHUNK);
        b->tkf = patron__malloc((size_t)CHUNK * PATRON__MATCH_KEYS_MAX);
    }
    if (!b || !b->pend || !b->pend_ids || !b->kh || !b->nk || !b->tkf) {
        patron_batch_free(b);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    b->b.cfg = *db->match_cfg;
    memcpy(b->prefix, db->prefix, sizeof b->prefix);
    b->width = db->width;
    b->next_id = 1;
    *out = b;
    return patron__db_ok(db);
}

void patron_batch_free(patron_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_pend; i++) {
        patron__cust_clear(b->pend[i]);
        patron__free(b->pend[i]);
    }
    batch_free(&b->b);
    patron__free(b->pend);
    patron__free(b->pend_ids);
    patron__free(b->kh);
    patron__free(b->nk);
    patron__free(b->tkf);
    patron__free(b->trec);
    patron__free(b->u.t);
    patron__free(b->u.arena);
    patron__free(b);
}

/* The run: what only adding needs (the table of values kept unique, the
 * per-part scratch) goes back before the run takes its memory, so that
 * its pages may serve the run's arrays and the peak is lower (at 10^6
 * rows the table alone is 64 MB).  Freed on the calling thread before the
 * run starts its threads. */
static void batch_drop_adding(patron_batch *b)
{
    patron__free(b->pend);
    patron__free(b->pend_ids);
    patron__free(b->kh);
    patron__free(b->nk);
    patron__free(b->tkf);
    patron__free(b->trec); /* (each record moved out or freed) */
    patron__free(b->u.t);
    patron__free(b->u.arena);
    b->pend = NULL;
    b->pend_ids = NULL;
    b->kh = NULL;
    b->nk = NULL;
    b->tkf = NULL;
    b->trec = NULL;
    memset(&b->u, 0, sizeof b->u);
}

size_t patron_batch_count(const patron_batch *b)
{
    return b ? (size_t)(b->next_id - 1) : 0;
}

const char *patron_batch_errmsg(const patron_batch *b)
{
    return b ? b->errmsg : "";
}

/* Normalise and key the waiting customers (on all cores). */
static patron_status batch_flush(patron_batch *b)
{
    patron_status st = PATRON_OK;
    if (b->n_pend)
        st = flush_chunk(&b->b, b->pend, b->pend_ids, b->n_pend, b->kh, b->nk, &b->khash_cap);
    for (size_t i = 0; i < b->n_pend; i++) {
        patron__cust_clear(b->pend[i]);
        patron__free(b->pend[i]);
    }
    b->n_pend = 0;
    if (st) {
        b->broken = true;
        return batch_error(b, st, st == PATRON_E_RANGE ? "too many customers for one batch" : "out of memory");
    }
    return PATRON_OK;
}

/* "%s%0*llu" of prefix, width, n by hand (snprintf was a twentieth of
 * reading a file); out has room for 17 + 20 + 1 bytes, width <= 20. */
static void format_number(char *out, const char *prefix, unsigned width, uint64_t n)
{
    char d[24];
    size_t nd = 0, p = strlen(prefix);
    do
        d[nd++] = (char)('0' + n % 10);
    while (n /= 10);
    memcpy(out, prefix, p);
    while (width > nd) {
        out[p++] = '0';
        width--;
    }
    while (nd)
        out[p++] = d[--nd];
    out[p] = '\0';
}

/* format_number of the batch's prefix and width for n into out (room as
 * there): the number before it counted up in place when it was the one
 * made last (a claim makes the counter's next number; the division per
 * digit was most of a claim, on the one thread that claims).  Digits all
 * '9' grow the number: made anew. */
static void batch_number(patron_batch *b, char *out, uint64_t n)
{
    if (b->gen_n && n == b->gen_n + 1) {
        size_t i = b->gen_len;
        while (i > b->gen_at && b->gen[i - 1] == '9')
            i--;
        if (i > b->gen_at) {
            b->gen[i - 1]++;
            memset(b->gen + i, '0', b->gen_len - i);
            b->gen_n = n;
            memcpy(out, b->gen, b->gen_len + 1);
            return;
        }
    }
    format_number(b->gen, b->prefix, b->width, n);
    b->gen_at = strlen(b->prefix);
    b->gen_len = strlen(b->gen);
    b->gen_n = n;
    memcpy(out, b->gen, b->gen_len + 1);
}

/* Whether num is one the counter gave: the prefix, then the digits of a
 * k <= counter as format_number writes them.  (Given numbers are kept in
 * the table; the counter's are not — they are all the numbers up to it
 * that were not taken when it passed them.) */
static bool was_generated(const patron_batch *b, const char *num)
{
    size_t p = strlen(b->prefix), nd = 0;
    uint64_t k = 0;
    char again[64];
    if (strncmp(num, b->prefix, p) != 0)
        return false;
    for (const char *d = num + p; *d; d++, nd++) {
        if (*d < '0' || *d > '9' || nd >= 19)
            return false; /* (19 digits: below 2^63, more than any counter reaches) */
        k = k * 10 + (uint64_t)(*d - '0');
    }
    if (nd == 0 || k == 0 || k > b->counter)
        return false;
    format_number(again, b->prefix, b->width, k);
    return strcmp(again, num) == 0;
}

/* The external reference's key as the store's index has it (source, 0x1F,
 * id) in buf (cap bytes) or, when longer, in *heap; NULL when there is
 * none or out of memory (*oom). */
static const char *ext_key_of(const char *ext, const char *src, char *buf, size_t cap, char **heap, size_t *len,
                              bool *oom)
{
    size_t sn, in;
    char *k = buf;
    *heap = NULL;
    *oom = false;
    if (!ext)
        return NULL;
    sn = src ? strlen(src) : 0;
    in = strlen(ext);
    if (!sn) {
        *len = in;
        return ext;
    }
    *len = sn + 1 + in;
    if (*len + 1 > cap && !(k = *heap = patron__malloc(*len + 1))) {
        *oom = true;
        return NULL;
    }
    memcpy(k, src, sn);
    k[sn] = '\x1f';
    memcpy(k + sn + 1, ext, in + 1);
    return k;
}

static const char *ext_key(const patron_customer *w, char *buf, size_t cap, char **heap, size_t *len, bool *oom)
{
    return ext_key_of(w->f[PATRON_F_EXTERNAL_ID], w->f[PATRON_F_EXTERNAL_SOURCE], buf, cap, heap, len, oom);
}

/* The values create keeps unique, of one customer (checked, canonical;
 * NULL: none) and their hashes when known (0: computed here). */
typedef struct claim_in {
    const char *ext, *src, *login, *num;
    uint64_t h_ext, h_login;
} claim_in;

/* The checks of patron_db_create after the values: external reference
 * and login name unique, then the customer number claimed or given (into
 * gen, 64 bytes, when made; *num_out points at the number either way); on
 * success *id_out gets the id.  Refusals leave b->errmsg and change
 * nothing; PATRON_E_NOMEM spends the batch. */
static patron_status claim_values(patron_batch *b, const claim_in *in, char gen[64], int64_t *id_out,
                                  const char **num_out)
{
    patron_status st;
    const char *num, *login, *ext, *extkey;
    char *heap, kbuf[320];
    size_t extlen = 0;
    uint64_t counter, h_num, h_ext = in->h_ext, h_login = in->h_login;
    uslot *s;
    int64_t id;
    bool oom;
    ext = in->ext;
    extkey = ext_key_of(ext, in->src, kbuf, sizeof kbuf, &heap, &extlen, &oom);
    if (oom) {
        b->broken = true;
        return batch_error(b, PATRON_E_NOMEM, "out of memory");
    }
    if (ext) {
        if (!h_ext)
            h_ext = uniq_hash(PATRON_KEY_EXTERNAL, extkey, extlen);
        if ((s = uniq_find(&b->u, PATRON_KEY_EXTERNAL, extkey, extlen, h_ext)) != NULL) {
            st = batch_error(b, PATRON_E_EXISTS, "the external reference is already used by customer #%lld",
                             (long long)s->id);
            goto out;
        }
    }
    login = in->login;
    if (login) {
        if (!h_login)
            h_login = uniq_hash(PATRON_KEY_LOGIN, login, strlen(login));
        if ((s = uniq_find(&b->u, PATRON_KEY_LOGIN, login, strlen(login), h_login)) != NULL) {
            st = batch_error(b, PATRON_E_EXISTS, "the login name is already used by customer #%lld",
                             (long long)s->id);
            goto out;
        }
    }
    counter = b->counter;
    num = in->num;
    if (num) {
        h_num = uniq_hash(PATRON_KEY_NUMBER, num, strlen(num));
        if (uniq_find(&b->u, PATRON_KEY_NUMBER, num, strlen(num), h_num) || was_generated(b, num)) {
            st = batch_error(b, PATRON_E_EXISTS,
                             "customer number %s is taken or was given before; numbers are never reused", num);
            goto out;
        }
    } else if (!b->numbers_given) { /* no number in the table: the counter's next is free */
        batch_number(b, gen, ++counter);
        num = gen;
    } else { /* the store's counter; manual numbers in its way skipped */
        int tries;
        for (tries = 0; tries < 10000; tries++) {
            batch_number(b, gen, ++counter);
            h_num = uniq_hash(PATRON_KEY_NUMBER, gen, strlen(gen));
            if (!uniq_find(&b->u, PATRON_KEY_NUMBER, gen, strlen(gen), h_num))
                break;
        }
        if (tries == 10000) {
            st = batch_error(b, PATRON_E_EXISTS, "no free customer number found after 10000 tries");
            goto out;
        }
        num = gen;
    }
    id = b->next_id;
    if ((num != gen && !uniq_put(&b->u, PATRON_KEY_NUMBER, num, strlen(num), h_num, id)) ||
        (ext && !uniq_put(&b->u, PATRON_KEY_EXTERNAL, extkey, extlen, h_ext, id)) ||
        (login && !uniq_put(&b->u, PATRON_KEY_LOGIN, login, strlen(login), h_login, id))) {
        /* the table may hold some of its values now: the batch is spent */
        b->broken = true;
        st = batch_error(b, PATRON_E_NOMEM, "out of memory");
        goto out;
    }
    b->numbers_given += num != gen;
    b->counter = counter;
    b->next_id++;
    *id_out = id;
    *num_out = num;
    st = PATRON_OK;
out:
    patron__free(heap);
    return st;
}

/* claim_values for customer c (w: its checked copy, canonical forms
 * kept): on success c gets its id (and the number given). */
static patron_status batch_claim(patron_batch *b, patron_customer *c, const patron_customer *w, uint64_t h_ext,
                                 uint64_t h_login, int64_t *id_out)
{
    claim_in in = { w->f[PATRON_F_EXTERNAL_ID], w->f[PATRON_F_EXTERNAL_SOURCE], w->f[PATRON_F_LOGIN_USER],
                    w->f[PATRON_F_NUMBER], h_ext, h_login };
    char gen[64];
    const char *num = NULL;
    uint64_t counter = b->counter;
    int64_t next_id = b->next_id;
    patron_status st = claim_values(b, &in, gen, id_out, &num);
    if (st)
        return st;
    if (patron__cust_put_i64(c, PATRON_F_ID, *id_out) || (num == gen && patron__cust_put(c, PATRON_F_NUMBER, gen))) {
        /* the table holds its values now: the batch is spent (not
         * counted: c did not get them) */
        patron__cust_put(c, PATRON_F_ID, NULL);
        b->counter = counter;
        b->next_id = next_id;
        b->broken = true;
        return batch_error(b, PATRON_E_NOMEM, "out of memory");
    }
    return PATRON_OK;
}

patron_status patron_batch_add(patron_batch *b, patron_customer *c)
{
    patron_customer *w;
    patron_status st;
    int64_t id;
    if (!b)
        return PATRON_E_INVALID;
    if (!c)
        return batch_error(b, PATRON_E_INVALID, "no customer given (NULL)");
    if (b->ran || b->broken)
        return batch_error(b, PATRON_E_STATE, b->ran ? "the batch has run; add to a new one" :
                                                       "the batch failed before (out of memory)");
    if (patron_customer_state(c) != PATRON_STATE_NONE || patron_customer_id(c) != 0)
        return batch_error(b, PATRON_E_STATE, "this customer was saved before; use patron_db_update");
    /* the checks of patron_db_create, in its order: values (canonical
     * forms kept in the copy), external reference and login name unique,
     * then the customer number claimed or given */
    if (!(w = patron__calloc(1, sizeof *w)))
        return batch_error(b, PATRON_E_NOMEM, "out of memory");
    if ((st = patron__cust_copy(w, c)) != 0) {
        patron__free(w);
        return batch_error(b, PATRON_E_NOMEM, "out of memory");
    }
    if ((st = patron__cust_validate(w, true)) != 0) {
        batch_error(b, st, "%s", w->errmsg);
        goto fail;
    }
    if ((st = batch_claim(b, c, w, 0, 0, &id)) != 0)
        goto fail;
    b->pend[b->n_pend] = w;
    b->pend_ids[b->n_pend++] = id;
    if (b->n_pend == CHUNK && (st = batch_flush(b)) != 0)
        return st;
    return batch_ok(b);
fail:
    patron__cust_clear(w);
    patron__free(w);
    return st;
}

/* ---- many at once: values checked and normalised on all cores ---------- */

/* What a thread of patron_batch_add_many found of a customer before its
 * checks (kept for the refusals in order: the customer is not read again). */
enum { GIVEN_NEW, GIVEN_NULL, GIVEN_SAVED };

/* Work of one thread of patron_batch_add_many on customers [from, to) of
 * the part: each index is written by one thread only. */
typedef struct addjob {
    patron_batch *b;
    patron_customer *const *c;
    size_t from, to;
    bool oom;
} addjob;

static void *add_thread(void *arg)
{
    addjob *j = arg;
    patron_batch *b = j->b;
    patron__match_key keys[PATRON__MATCH_KEYS_MAX];
    for (size_t i = j->from; i < j->to; i++) {
        patron_customer *w;
        b->pend[i] = NULL;
        b->nk[i] = 0;
        b->khat[i] = (uint32_t)(i * PATRON__MATCH_KEYS_MAX);
        b->tready[i] = 0; /* (tf_thread reads the record) */
        b->wst[i] = PATRON_OK;
        b->hext[i] = b->hlogin[i] = 0;
        b->given[i] = !j->c[i] ? GIVEN_NULL
                      : patron_customer_state(j->c[i]) != PATRON_STATE_NONE || patron_customer_id(j->c[i]) != 0
                          ? GIVEN_SAVED
                          : GIVEN_NEW;
        if (b->given[i] != GIVEN_NEW)
            continue; /* refused in order, below */
        if (patron__cust_valid_canonical(j->c[i])) {
            w = j->c[i]; /* as its checked copy would be: read in place */
        } else {
            if (!(w = patron__calloc(1, sizeof *w)) || patron__cust_copy(w, j->c[i]) != 0) {
                patron__free(w);
                j->oom = true;
                continue;
            }
            b->pend[i] = w;
            if ((b->wst[i] = patron__cust_validate(w, true)) != 0)
                continue; /* w->errmsg says why */
        }
        b->pend[i] = w;
        {
            char kbuf[320], *heap;
            size_t len;
            bool oom;
            const char *k = ext_key(w, kbuf, sizeof kbuf, &heap, &len, &oom);
            if (k)
                b->hext[i] = uniq_hash(PATRON_KEY_EXTERNAL, k, len);
            patron__free(heap);
            if (w->f[PATRON_F_LOGIN_USER])
                b->hlogin[i] = uniq_hash(PATRON_KEY_LOGIN, w->f[PATRON_F_LOGIN_USER],
                                         strlen(w->f[PATRON_F_LOGIN_USER]));
        }
        if (patron__cust_match_rec_cfg(&b->prec[i], w, &b->b.cfg) != 0) {
            memset(&b->prec[i], 0, sizeof b->prec[i]);
            b->wst[i] = PATRON_E_NOMEM;
            j->oom = true;
            continue;
        }
        b->nk[i] = rec_hashes(b->kh + b->khat[i], keys, &b->prec[i], &b->b.cfg);
    }
    return NULL;
}

/* Room in b->b for `more` records and `keys` more key hashes. */
static bool batch_room(patron_batch *b, size_t more, size_t keys)
{
    return grow_recs(&b->b, more) && grow_khash(&b->b, &b->khash_cap, keys);
}

/* After a part of n records was normalised on threads (oom: one failed):
 * room in b->b for all of them and their key hashes, else the batch is
 * spent and the error says why. */
static patron_status part_room(patron_batch *b, size_t n, bool oom)
{
    size_t keys = 0;
    patron_status st;
    for (size_t i = 0; i < n; i++)
        keys += b->nk[i];
    if (!oom && b->b.n + n < UINT32_MAX && batch_room(b, n, keys))
        return PATRON_OK;
    b->broken = true;
    st = b->b.n + n >= UINT32_MAX && !oom ? PATRON_E_RANGE : PATRON_E_NOMEM;
    batch_error(b, st, st == PATRON_E_RANGE ? "too many customers for one batch" : "out of memory");
    return st;
}

/* Record i of the part, claimed as id: its match form and key hashes
 * move into b->b.  b->prec[i] is left as it was (clearing it, for a free
 * that then did nothing, was ~10 M instructions at 136 k rows on the one
 * thread that claims): the callers never free a record taken, and every
 * record is made anew (or cleared) before it is read again. */
static void part_take(patron_batch *b, size_t i, int64_t id)
{
    batch *x = &b->b;
    uint32_t base = x->koff[x->n];
    if (&x->recs[x->n] != &b->prec[i]) /* (a row's: in place unless a row before it was refused) */
        x->recs[x->n] = b->prec[i];
    memcpy(x->khash + base, b->kh + b->khat[i], b->nk[i] * sizeof *b->kh);
    if (x->tfready) {
        x->tfready[x->n] = b->tready[i];
        memcpy(x->tfname + 3 * x->n, b->tname + 3 * i, 3 * sizeof *b->tname);
        memcpy(x->kfield + base, b->tkf + b->khat[i], b->nk[i]);
    }
    x->ids[x->n] = id;
    x->koff[x->n + 1] = base + b->nk[i];
    x->n++;
}

/* Customers [0, n) of one part (n <= CHUNK). */
static patron_status add_part(patron_batch *b, patron_customer *const *c, size_t n, patron_status *status)
{
    addjob jobs[MAX_THREADS];
    int nj = threads_for(n);
    bool oom = false;
    patron_status st = PATRON_OK;
    b->prec = b->trec; /* (patron_batch_add_many made it) */
    for (int t = 0; t < nj; t++) {
        jobs[t].b = b;
        jobs[t].c = c;
        jobs[t].from = n * (size_t)t / (size_t)nj;
        jobs[t].to = n * (size_t)(t + 1) / (size_t)nj;
        jobs[t].oom = false;
    }
    run_jobs(add_thread, jobs, sizeof *jobs, nj);
    for (int t = 0; t < nj; t++)
        oom |= jobs[t].oom;
    st = part_room(b, n, oom);
    /* in order, as patron_batch_add one by one; the table's slots of the
     * rows ahead fetched early (at 10^6 rows each lookup missed the cache),
     * and their external references (read by batch_claim) */
    for (size_t i = 0; i < n; i++) {
        patron_customer *w = b->pend[i];
        int64_t id;
        patron_status s;
        if (i + 8 < n && b->hext[i + 8] && b->u.cap)
            __builtin_prefetch(&b->u.t[b->hext[i + 8] & (b->u.cap - 1)]);
        if (i + 8 < n && b->pend[i + 8])
            __builtin_prefetch(&b->pend[i + 8]->f[PATRON_F_EXTERNAL_ID]);
        if (i + 4 < n && b->pend[i + 4] && b->pend[i + 4]->f[PATRON_F_EXTERNAL_ID])
            __builtin_prefetch(b->pend[i + 4]->f[PATRON_F_EXTERNAL_ID]);
        if (st) {
            s = st;
        } else if (b->given[i] == GIVEN_NULL) {
            s = PATRON_E_INVALID;
        } else if (b->given[i] == GIVEN_SAVED) {
            /* also the second time the same customer is given */
            s = patron__cust_error(c[i], PATRON_E_STATE, "this customer was saved before; use patron_db_update");
        } else if (b->wst[i]) {
            s = patron__cust_error(c[i], b->wst[i], "%s", w->errmsg);
        } else if ((s = batch_claim(b, c[i], w, b->hext[i], b->hlogin[i], &id)) != 0) {
            patron__cust_error(c[i], s, "%s", b->errmsg);
            if (s == PATRON_E_NOMEM)
                st = s;
        } else {
            part_take(b, i, id);
        }
        status[i] = s;
        if (w && !b->wst[i] && s != PATRON_OK)
            patron__match_rec_free(&b->prec[i]); /* not taken: refused */
        if (w && w != c[i]) { /* a copy of ours */
            patron__cust_clear(w);
            patron__free(w);
        }
        b->pend[i] = NULL;
    }
    return st;
}

patron_status patron_batch_add_many(patron_batch *b, patron_customer *const *c, size_t n, patron_status *status)
{
    patron_status st;
    if (!b)
        return PATRON_E_INVALID;
    if ((!c || !status) && n)
        return batch_error(b, PATRON_E_INVALID, "no customers or no place for their results (NULL)");
    if (b->ran || b->broken)
        return batch_error(b, PATRON_E_STATE, b->ran ? "the batch has run; add to a new one" :
                                                       "the batch failed before (out of memory)");
    /* given twice (read by two threads at once; the second would be
     * refused as saved before): refused as a whole */
    switch (patron__ptrs_twice((void *const *)c, n)) {
    case -1:
        return batch_error(b, PATRON_E_NOMEM, "out of memory");
    case 1:
        return batch_error(b, PATRON_E_INVALID, "the same customer is given twice");
    }
    /* the ones added singly before come first */
    if ((st = batch_flush(b)) != 0)
        return st;
    if (!b->trec && !(b->trec = patron__calloc(CHUNK, sizeof *b->trec))) {
        b->broken = true;
        return batch_error(b, PATRON_E_NOMEM, "out of memory");
    }
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        if ((st = add_part(b, c + at, k, status + at)) != 0) {
            for (size_t i = at + k; i < n; i++)
                status[i] = st;
            return st;
        }
    }
    return batch_ok(b);
}

/* ---- rows: values checked and normalised where they lie ---------------- */

/* A row read as the customer it stands for: its values (borrowed from the
 * row, or the canonical forms here; NULL: unset), its properties and
 * tags. */
#define ROW_SMALL 16
typedef struct rowview {
    const char *f[PATRON_F__END];
    const char *a[PATRON_A__END];
    bool has_addr;
    /* canonical forms the checks write (the only kinds that write one) */
    char email[256], lang[32], country[4];
    const char **pk, **pv, **tags;
    size_t n_props, cap_props, n_tags, cap_tags;
    const char *pk_small[ROW_SMALL], *pv_small[ROW_SMALL], *tags_small[ROW_SMALL];
} rowview;

static void rowview_init(rowview *v)
{
    memset(v->f, 0, sizeof v->f);
    memset(v->a, 0, sizeof v->a);
    v->has_addr = false;
    v->pk = v->pk_small;
    v->pv = v->pv_small;
    v->tags = v->tags_small;
    v->n_props = v->n_tags = 0;
    v->cap_props = v->cap_tags = ROW_SMALL;
}

static void rowview_free(rowview *v)
{
    if (v->pk != v->pk_small)
        patron__free(v->pk);
    if (v->pv != v->pv_small)
        patron__free(v->pv);
    if (v->tags != v->tags_small)
        patron__free(v->tags);
    v->pk = v->pv = v->tags = NULL;
}

/* Room for one more entry in *arr (small: its inline array). */
static bool row_grow(const char ***arr, const char **small, size_t n, size_t *cap)
{
    const char **na;
    if (n < *cap)
        return true;
    if (*arr == small) {
        if (!(na = patron__malloc(2 * *cap * sizeof *na)))
            return false;
        memcpy(na, small, n * sizeof *na);
    } else if (!(na = patron__realloc((void *)*arr, 2 * *cap * sizeof *na))) {
        return false;
    }
    *arr = na;
    *cap *= 2;
    return true;
}

static size_t row_size(unsigned version)
{
    return version == 1 ? sizeof(patron_batch_row) : 0;
}

/* The message of a refusal into the row. */
static patron_status row_fail(patron_batch_row *row, size_t refused, patron_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static patron_status row_fail(patron_batch_row *row, size_t refused, patron_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(row->errmsg, sizeof row->errmsg, fmt, ap);
    va_end(ap);
    row->refused = refused;
    return st;
}

/* A value's check failed: PATRON_E_RANGE is a length that is not the
 * value's (the check wrote no message). */
static patron_status row_refused(patron_batch_row *row, size_t at, patron_status st)
{
    if (st == PATRON_E_RANGE)
        return row_fail(row, at, PATRON_E_INVALID,
                        "value %zu of the row is not a string of the length given (a NUL byte inside?)", at);
    row->refused = at;
    return st;
}

/* A birth date as given (PATRON_BATCH_BIRTH_AS_GIVEN): true when v (n
 * bytes) has the shape of a date the matcher reads, 8 digits, the year
 * from 1900 to next year, and its month and day make no calendar date;
 * else false with the reason in msg. */
static bool birth_as_given_ok(const char *v, size_t n, char *msg, size_t msgsz)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    char d8[8];
    size_t k = 0;
    int y, m, d, leap, next_year;
    char sep = 0;
    time_t now = time(NULL);
    struct tm tm;
    bool year_first, real;
    /* the shapes: YYYYMMDD, YYYY?MM?DD, DD?MM?YYYY with one separator
     * ('-', '.' or '/') twice */
    if (n == 8) {
        year_first = true;
    } else if (n == 10 && (v[4] == '-' || v[4] == '.' || v[4] == '/') && v[7] == v[4]) {
        year_first = true;
        sep = v[4];
    } else if (n == 10 && (v[2] == '-' || v[2] == '.' || v[2] == '/') && v[5] == v[2]) {
        year_first = false;
        sep = v[2];
    } else {
        goto shape;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i] >= '0' && v[i] <= '9')
            d8[k++] = v[i];
        else if (!sep || v[i] != sep)
            goto shape;
    }
    if (k != 8)
        goto shape;
    if (year_first) {
        y = (d8[0] - '0') * 1000 + (d8[1] - '0') * 100 + (d8[2] - '0') * 10 + (d8[3] - '0');
        m = (d8[4] - '0') * 10 + (d8[5] - '0');
        d = (d8[6] - '0') * 10 + (d8[7] - '0');
    } else {
        d = (d8[0] - '0') * 10 + (d8[1] - '0');
        m = (d8[2] - '0') * 10 + (d8[3] - '0');
        y = (d8[4] - '0') * 1000 + (d8[5] - '0') * 100 + (d8[6] - '0') * 10 + (d8[7] - '0');
    }
    next_year = gmtime_r(&now, &tm) ? tm.tm_year + 1900 + 1 : 2100;
    if (y < 1900 || y > next_year) {
        snprintf(msg, msgsz, "a birth date as given must have a year from 1900 to %d", next_year);
        return false;
    }
    if (m == 0 && d == 0) {
        snprintf(msg, msgsz, "a birth date as given must not have both month and day 00 (no date)");
        return false;
    }
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    real = m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] && !(m == 2 && d == 29 && !leap);
    if (real) {
        snprintf(msg, msgsz,
                 "a birth date as given must be no real date; %04d-%02d-%02d is one: give it as birth_date", y, m,
                 d);
        return false;
    }
    return true;
shape:
    snprintf(msg, msgsz,
             "a birth date as given must have the shape of a date: 8 digits as YYYY-MM-DD, YYYYMMDD or "
             "DD.MM.YYYY");
    return false;
}

/* Read and check the row into v, as the setters and patron_db_create
 * would (customer.c: patron_customer_set, patron_customer_address_set,
 * patron_customer_tag_add, patron_customer_prop_set, then the whole-record
 * checks of patron__cust_validate).  On a refusal the row has its
 * message and the value refused; PATRON_E_NOMEM likewise. */
static patron_status row_read(rowview *v, patron_batch_row *row)
{
    static const patron__field_info tag_info = { "tag", PK_TEXT, 100 };
    static const patron__field_info val_info = { "property value", PK_MULTILINE, 4000 };
    char tmp[256], name[64];
    patron_status st;
    row->refused = 0;
    row->errmsg[0] = '\0';
    if (!row->values && row->n_values)
        return row_fail(row, 0, PATRON_E_INVALID, "the row has %zu values but no array of them (NULL)",
                        row->n_values);
    for (size_t i = 0; i < row->n_values; i++) {
        const patron_batch_value *x = &row->values[i];
        const char *val = x->value ? x->value : "", *canon = NULL;
        const patron__field_info *fi;
        size_t at = i + 1;
        if (!x->value && x->len)
            return row_fail(row, at, PATRON_E_INVALID, "value %zu of the row is NULL with a length", at);
        if (!x->len && val[0]) /* (a value of a length is checked with it) */
            return row_refused(row, at, PATRON_E_RANGE);
        if (x->field > 0 && x->field < PATRON_F__END) {
            fi = &patron__fields[x->field];
            if (fi->kind == PK_SYSTEM)
                return row_fail(row, at, PATRON_E_INVALID, "%s is maintained by the library and cannot be set",
                                fi->name);
            if (x->len && patron__check_value_quick(fi, val, x->len)) {
                v->f[x->field] = val; /* (most values: no call) */
            } else if (x->len && (canon = patron__check_value_quick_form(fi, val, x->len, NULL)) != NULL) {
                v->f[x->field] = canon;
            } else if (x->len) {
                char *cb = fi->kind == PK_EMAIL ? v->email : fi->kind == PK_LANG ? v->lang : tmp;
                size_t cbsz = fi->kind == PK_EMAIL ? sizeof v->email : fi->kind == PK_LANG ? sizeof v->lang
                                                                                            : sizeof tmp;
                if ((st = patron__check_value_len(fi->name, fi, val, x->len, row->errmsg, sizeof row->errmsg,
                                                  &canon, cb, cbsz)) != 0)
                    return row_refused(row, at, st);
                /* (only emails and languages get a canonical form in the
                 * buffer; the others' are static strings) */
                v->f[x->field] = canon ? canon : val;
            } else {
                v->f[x->field] = NULL;
            }
        } else if (x->field > PATRON_BATCH_ADDRESS && x->field < PATRON_BATCH_ADDRESS + PATRON_A__END) {
            int af = x->field - PATRON_BATCH_ADDRESS;
            fi = &patron__address_fields[af]; /* (af from 1 to PATRON_A__END - 1) */
            if (!v->has_addr) { /* patron_customer_address_add */
                v->has_addr = true;
                v->a[PATRON_A_COUNTRY] = "DE";
                v->a[PATRON_A_BILLING] = "private";
            }
            if (x->len && patron__check_value_quick(fi, val, x->len)) {
                v->a[af] = val;
            } else if (x->len && (canon = patron__check_value_quick_form(fi, val, x->len, v->country)) != NULL) {
                v->a[af] = canon;
            } else if (x->len) {
                char *cb = fi->kind == PK_COUNTRY ? v->country : tmp;
                size_t cbsz = fi->kind == PK_COUNTRY ? sizeof v->country : sizeof tmp;
                if ((st = patron__check_value_len(fi->name, fi, val, x->len, row->errmsg, sizeof row->errmsg,
                                                  &canon, cb, cbsz)) != 0) {
                    /* the message names it "address 1 ..." (check_addr_value) */
                    if (st != PATRON_E_RANGE) {
                        snprintf(name, sizeof name, "address %zu %s", (size_t)1, fi->name);
                        st = patron__check_value(name, fi, val, row->errmsg, sizeof row->errmsg, &canon, cb, cbsz);
                    }
                    return row_refused(row, at, st);
                }
                v->a[af] = canon ? canon : val;
            } else {
                v->a[af] = NULL;
            }
        } else if (x->field == PATRON_BATCH_TAG) {
            size_t k;
            if (!x->len)
                return row_fail(row, at, PATRON_E_INVALID, "a tag must not be empty");
            if ((st = patron__check_value_len("tag", &tag_info, val, x->len, row->errmsg, sizeof row->errmsg,
                                              &canon, tmp, 4)) != 0)
                return row_refused(row, at, st);
            for (k = 0; k < v->n_tags && strcmp(v->tags[k], val) != 0; k++)
                ;
            if (k < v->n_tags)
                continue;
            if (v->n_tags >= 1000)
                return row_fail(row, at, PATRON_E_INVALID, "a customer has at most 1000 tags");
            if (!row_grow(&v->tags, v->tags_small, v->n_tags, &v->cap_tags))
                return row_fail(row, at, PATRON_E_NOMEM, "out of memory");
            v->tags[v->n_tags++] = val;
        } else if (x->field == PATRON_BATCH_PROPERTY) {
            const char *key = x->key;
            size_t kn = key ? strlen(key) : 0, k;
            if (kn == 0 || kn > 64)
                return row_fail(row, at, PATRON_E_INVALID, "a property key must be 1 to 64 bytes long");
            for (k = 0; k < kn; k++) {
                char ch = key[k];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '_' || ch == '-' || ch == '.'))
                    return row_fail(row, at, PATRON_E_INVALID,
                                    "a property key may hold only letters, digits, '_', '-' and '.'");
            }
            for (k = 0; k < v->n_props && strcmp(v->pk[k], key) != 0; k++)
                ;
            if (!x->len) { /* removed */
                if (k < v->n_props) {
                    memmove(&v->pk[k], &v->pk[k + 1], (v->n_props - k - 1) * sizeof *v->pk);
                    memmove(&v->pv[k], &v->pv[k + 1], (v->n_props - k - 1) * sizeof *v->pv);
                    v->n_props--;
                }
                continue;
            }
            if ((st = patron__check_value_len(key, &val_info, val, x->len, row->errmsg, sizeof row->errmsg,
                                              &canon, tmp, 4)) != 0)
                return row_refused(row, at, st);
            if (k < v->n_props) {
                v->pv[k] = val;
                continue;
            }
            if (v->n_props >= 1000)
                return row_fail(row, at, PATRON_E_INVALID, "a customer has at most 1000 properties");
            {
                size_t cap_v = v->cap_props;
                if (!row_grow(&v->pk, v->pk_small, v->n_props, &v->cap_props) ||
                    !row_grow(&v->pv, v->pv_small, v->n_props, &cap_v))
                    return row_fail(row, at, PATRON_E_NOMEM, "out of memory");
            }
            v->pk[v->n_props] = key;
            v->pv[v->n_props++] = val;
        } else if (x->field == PATRON_BATCH_BIRTH_AS_GIVEN) {
            /* for comparison only: the matcher reads it as any birth date */
            if (x->len && !birth_as_given_ok(val, x->len, row->errmsg, sizeof row->errmsg))
                return row_refused(row, at, PATRON_E_INVALID);
            v->f[PATRON_F_BIRTH_DATE] = x->len ? val : NULL;
        } else if (x->field >= PATRON_BATCH_ADDRESS && x->field < PATRON_BATCH_TAG) {
            return row_fail(row, at, PATRON_E_INVALID, "unknown address field id %d",
                            x->field - PATRON_BATCH_ADDRESS);
        } else {
            return row_fail(row, at, PATRON_E_INVALID, "unknown field id %d", x->field);
        }
    }
    /* the record as a whole (patron__cust_validate: its one address) */
    if (v->has_addr) {
        const char *const *a = v->a;
        if (!a[PATRON_A_COUNTRY])
            return row_fail(row, 0, PATRON_E_INVALID, "address %zu has no country", (size_t)1);
        if (a[PATRON_A_BILLING] && strcmp(a[PATRON_A_BILLING], "company") == 0) {
            if (!a[PATRON_A_COMPANY] && !v->f[PATRON_F_COMPANY])
                return row_fail(row, 0, PATRON_E_INVALID, "address %zu bills a company but no company name is given",
                                (size_t)1);
            if (!a[PATRON_A_VAT_ID] && !v->f[PATRON_F_VAT_ID])
                return row_fail(row, 0, PATRON_E_INVALID, "address %zu bills a company but no VAT ID is given",
                                (size_t)1);
        }
    }
    return PATRON_OK;
}

patron_status patron_batch_check_row(const patron_batch *b, patron_batch_row *row)
{
    rowview v; /* (about 1 KiB: on the stack, as the checks' buffers are) */
    patron_status st;
    if (!b || !row)
        return PATRON_E_INVALID;
    if (!row_size(row->version))
        return PATRON_E_ABI;
    row->id = 0;
    row->number[0] = '\0';
    rowview_init(&v);
    st = row_read(&v, row);
    rowview_free(&v);
    return row->status = st;
}

/* What tf_thread needs of row i of the part, found while its record and
 * key hashes are at hand (tf_thread read every record again, from
 * memory, when the pairs were to be made): the hashes of its first name,
 * last name and company, and for each of its keys the field whose value
 * it is (tf_thread's find_key); b->tready[i] its slots + 1.  A record
 * with two addresses or more, or with a value that is none of its keys
 * (a counted-only entry), is left to tf_thread (tready 0). */
static void tf_row(patron_batch *b, size_t i, const uint64_t *tfh)
{
    const patron__match_rec *r = &b->prec[i];
    const uint64_t *h = b->kh + b->khat[i];
    uint8_t *kf = b->tkf + b->khat[i];
    size_t nk = b->nk[i];
    unsigned has;
    b->tready[i] = 0;
    if (r->n_addr > 1)
        return;
    /* the values patron__match_tf_value gives, hashed where they lie: the
     * names and the company (no key of theirs), then the others, which are
     * a key's value (hash_keys_tf has their hash; a value whose key was not
     * made is counted only) */
    for (size_t f = 0; f < 3; f++) { /* (tf_fields: first name, last name, company) */
        const char *v = f == 0 ? r->first : f == 1 ? r->last : r->company;
        size_t len = f == 0 ? r->first_len : f == 1 ? r->last_len : r->company_len;
        if (len > PATRON__MATCH_KEY_MAX - 1)
            len = PATRON__MATCH_KEY_MAX - 1;
        b->tname[3 * i + f] = len ? tf_hash(tf_fields[f], v, len) : 0;
    }
    /* tf_fields 3 to 5 (email, phone, full name) and the one address,
     * slot 3 + their TFH_ kind: the ones the record has */
    has = (r->email_len != 0) << TFH_EMAIL | (r->phone_len != 0) << TFH_PHONE |
          (!r->first_initials && r->first_len && r->last_len) << TFH_FULL_NAME |
          (r->n_addr == 1 && r->addr[0].postal_len && r->addr[0].street_len && r->addr[0].number_len)
              << TFH_ADDRESS;
    memset(kf, 0xFF, nk);
    for (unsigned t = 0; t < TFH_N; t++) {
        size_t k;
        if (!(has >> t & 1u))
            continue;
        if (!tfh[t])
            return; /* counted only: tf_thread reads the record */
        for (k = 0; k < nk && h[k] != tfh[t]; k++)
            ;
        if (k == nk)
            return;
        kf[k] = (uint8_t)(3 + t);
    }
    b->tready[i] = (uint8_t)(1 + TF_FIELDS + r->n_addr);
}
_Static_assert(PATRON__MATCH_TF_SLOT_EMAIL == 3 + TFH_EMAIL && PATRON__MATCH_TF_SLOT_PHONE == 3 + TFH_PHONE &&
                   PATRON__MATCH_TF_SLOT_FULL_NAME == 3 + TFH_FULL_NAME &&
                   PATRON__MATCH_TF_SLOT_ADDR == 3 + TFH_ADDRESS,
               "tf_row: a value's slot is 3 + its TFH_ kind");

/* Rows are taken ROW_PIECE at a time by whichever thread is free: a thread
 * that shares its core (with the caller's reader, another program) takes
 * fewer, instead of the others waiting for its fixed half. */
#define ROW_PIECE 64
#define ROW_PIECES ((CHUNK + ROW_PIECE - 1) / ROW_PIECE)

/* A part's rows, read and normalised by pieces on all threads while the
 * calling thread claims the pieces done in row order (the claims, one
 * thread's work, no longer leave the other cores idle at the part's
 * end). */
typedef struct rowpart {
    patron_batch *b;
    char *rows; /* the part's first row */
    size_t stride;
    size_t n;                     /* rows of the part */
    atomic_size_t next;           /* the first row of the next piece to take */
    atomic_int slot;              /* row threads started: the pool of the next is b->b.pool[1 + slot] */
    atomic_int done[ROW_PIECES];  /* the piece is normalised */
    bool oom[ROW_PIECES];         /*  ... and ran out of memory (written before done) */
    /* the caller sleeps here when the piece it is to claim is still being
     * normalised on another thread (spinning took the core from that
     * thread on a loaded machine) */
    atomic_int waiting;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool can_wait; /* mu and cv were made (else the caller yields) */
} rowpart;

/* Row i of the part read and normalised (v: a rowview of this thread,
 * NULL when it could not be had; b->khat[i] where its key hashes go,
 * room for PATRON__MATCH_KEYS_MAX); false when out of memory. */
static bool row_norm(rowpart *j, size_t i, rowview *v, patron__match_key *keys, patron__match_pool *pool)
{
    patron_batch *b = j->b;
    patron_batch_row *row = (patron_batch_row *)(void *)(j->rows + i * j->stride);
    uint64_t tfh[TFH_N];
    b->nk[i] = 0;
    b->hext[i] = b->hlogin[i] = 0;
    b->rext[i] = b->rsrc[i] = b->rlogin[i] = b->rnum[i] = NULL;
    row->id = 0;
    row->number[0] = '\0';
    if (!v) {
        memset(&b->prec[i], 0, sizeof b->prec[i]); /* (a record: freed if the batch fails) */
        b->wst[i] = row_fail(row, 0, PATRON_E_NOMEM, "out of memory");
        return false;
    }
    rowview_init(v);
    if ((b->wst[i] = row_read(v, row)) != 0) {
        memset(&b->prec[i], 0, sizeof b->prec[i]);
        rowview_free(v);
        return b->wst[i] != PATRON_E_NOMEM; /* refused in order, by the claims */
    }
    /* (else prec[i] is made, cleared first, by patron__values_match_rec) */
    b->rext[i] = v->f[PATRON_F_EXTERNAL_ID];
    b->rsrc[i] = v->f[PATRON_F_EXTERNAL_SOURCE];
    b->rlogin[i] = v->f[PATRON_F_LOGIN_USER];
    b->rnum[i] = v->f[PATRON_F_NUMBER];
    {
        char kbuf[320], *heap;
        size_t len;
        bool oom;
        const char *k = ext_key_of(b->rext[i], b->rsrc[i], kbuf, sizeof kbuf, &heap, &len, &oom);
        if (k)
            b->hext[i] = uniq_hash(PATRON_KEY_EXTERNAL, k, len);
        patron__free(heap);
        if (b->rlogin[i])
            b->hlogin[i] = uniq_hash(PATRON_KEY_LOGIN, b->rlogin[i], strlen(b->rlogin[i]));
    }
    if (patron__values_match_rec(&b->prec[i], v->f, v->has_addr ? v->a : NULL, v->pk, v->pv, v->n_props,
                                 &b->b.cfg, pool) != 0) {
        memset(&b->prec[i], 0, sizeof b->prec[i]);
        b->wst[i] = row_fail(row, 0, PATRON_E_NOMEM, "out of memory");
        rowview_free(v);
        return false;
    }
    rowview_free(v);
    b->nk[i] = rec_hashes_tf(b->kh + b->khat[i], tfh, keys, &b->prec[i], &b->b.cfg);
    tf_row(b, i, tfh);
    return true;
}

/* The next piece not taken normalised on this thread; false when none is
 * left. */
static bool row_piece(rowpart *j, rowview *v, patron__match_key *keys, patron__match_pool *pool)
{
    size_t from = atomic_fetch_add(&j->next, ROW_PIECE), to, at;
    bool ok = true;
    if (from >= j->n)
        return false;
    to = j->n - from < ROW_PIECE ? j->n : from + ROW_PIECE;
    /* the piece's rows' key hashes one after the other in the piece's
     * room of kh (ROW_PIECE * PATRON__MATCH_KEYS_MAX: each row has room
     * for as many as it can have) */
    at = from * PATRON__MATCH_KEYS_MAX;
    for (size_t i = from; i < to; i++) {
        j->b->khat[i] = (uint32_t)at;
        ok &= row_norm(j, i, v, keys, pool);
        at += j->b->nk[i];
    }
    j->oom[from / ROW_PIECE] = !ok;
    /* (sequentially consistent, as the caller's waiting and its look at
     * done: one of the two sees the other's store) */
    atomic_store(&j->done[from / ROW_PIECE], 1);
    if (atomic_load(&j->waiting)) {
        pthread_mutex_lock(&j->mu);
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
    return true;
}

static void *row_thread(void *arg)
{
    rowpart *j = arg;
    patron__match_key keys[PATRON__MATCH_KEYS_MAX];
    rowview *v = patron__malloc(sizeof *v);
    /* (at most MAX_THREADS - 1 are started: 1 + slot < MAX_THREADS) */
    patron__match_pool *pool = &j->b->b.pool[1 + atomic_fetch_add(&j->slot, 1)];
    while (row_piece(j, v, keys, pool))
        ;
    patron__free(v);
    return NULL;
}

/* Rows [0, n) of one part (n <= CHUNK), as add_part does customers: read
 * and normalised by pieces on all threads (this one too), claimed here in
 * row order as their pieces are done.  A piece that ran out of memory
 * spends the batch: its rows and all after it are refused with
 * PATRON_E_NOMEM.  With `until`, the rows after the first one refused
 * with PATRON_E_INVALID are not added (their normalised forms dropped)
 * and *taken is that row + 1; else *taken is n. */
static patron_status add_row_part(patron_batch *b, char *rows, size_t stride, size_t n, bool until, size_t *taken)
{
    pthread_t th[MAX_THREADS];
    rowpart *j;
    patron__match_key keys[PATRON__MATCH_KEYS_MAX];
    rowview *v;
    /* threads for the batch as a whole (its last, short part of a large
     * file was read on one core), but no more than there are pieces */
    int nj = threads_for(b->b.n + n), started = 0;
    size_t pieces = (n + ROW_PIECE - 1) / ROW_PIECE, stop = n, started_to = n;
    patron_status st = PATRON_OK;
    if ((size_t)nj > pieces)
        nj = (int)pieces;
    if (nj < 1)
        nj = 1;
    *taken = n;
    j = patron__malloc(sizeof *j);
    v = patron__malloc(sizeof *v);
    if (!j || !v || b->b.n + n >= UINT32_MAX || !batch_room(b, n, 0)) {
        b->broken = true;
        st = j && v && b->b.n + n >= UINT32_MAX ? PATRON_E_RANGE : PATRON_E_NOMEM;
        batch_error(b, st, st == PATRON_E_RANGE ? "too many customers for one batch" : "out of memory");
        for (size_t i = 0; i < n; i++) {
            patron_batch_row *row = (patron_batch_row *)(void *)(rows + i * stride);
            row->id = 0;
            row->number[0] = '\0';
            row->status = row_fail(row, 0, st, "%s", b->errmsg);
        }
        patron__free(j);
        patron__free(v);
        return st;
    }
    b->prec = b->b.recs + b->b.n; /* (room for n made above) */
    if (!b->b.tfready) {
        /* (grown with the others from now on; the records before have
         * nothing found) */
        batch *x = &b->b;
        if (!(x->tfready = patron__malloc(x->cap)) || !(x->tfname = patron__malloc(x->cap * 3 * sizeof *x->tfname)) ||
            !(x->kfield = patron__malloc(b->khash_cap))) {
            b->broken = true;
            st = batch_error(b, PATRON_E_NOMEM, "out of memory");
        } else {
            memset(x->tfready, 0, x->n);
        }
    }
    j->b = b;
    j->rows = rows;
    j->stride = stride;
    j->n = n;
    atomic_init(&j->next, 0);
    atomic_init(&j->slot, 0);
    atomic_init(&j->waiting, 0);
    j->can_wait = false;
    if (nj > 1 && pthread_mutex_init(&j->mu, NULL) == 0) {
        if (pthread_cond_init(&j->cv, NULL) == 0)
            j->can_wait = true;
        else
            pthread_mutex_destroy(&j->mu);
    }
    for (size_t p = 0; p < pieces; p++) {
        atomic_init(&j->done[p], 0);
        j->oom[p] = false;
    }
    for (int t = 1; t < nj; t++) {
        if (pthread_create(&th[t], NULL, row_thread, j) != 0)
            break;
        started = t;
    }
    for (size_t p = 0; p < pieces; p++) {
        size_t from = p * ROW_PIECE, to = n - from < ROW_PIECE ? n : from + ROW_PIECE, keys_in = 0;
        /* the piece normalised: here, while pieces are left, else by
         * the thread that took it */
        while (!atomic_load_explicit(&j->done[p], memory_order_acquire) && row_piece(j, v, keys, &b->b.pool[0]))
            ;
        if (!atomic_load_explicit(&j->done[p], memory_order_acquire)) {
            if (j->can_wait) {
                pthread_mutex_lock(&j->mu);
                atomic_store(&j->waiting, 1);
                while (!atomic_load(&j->done[p]))
                    pthread_cond_wait(&j->cv, &j->mu);
                atomic_store(&j->waiting, 0);
                pthread_mutex_unlock(&j->mu);
            } else {
                while (!atomic_load_explicit(&j->done[p], memory_order_acquire))
                    sched_yield();
            }
        }
        if (!st) {
            for (size_t i = from; i < to; i++)
                keys_in += b->nk[i];
            if (j->oom[p] || !grow_khash(&b->b, &b->khash_cap, keys_in)) {
                b->broken = true;
                st = batch_error(b, PATRON_E_NOMEM, "out of memory");
            }
        }
        for (size_t i = from; i < to; i++) {
            patron_batch_row *row = (patron_batch_row *)(void *)(rows + i * stride);
            int64_t id;
            patron_status s;
            if (i + 8 < to && b->hext[i + 8] && b->u.cap)
                __builtin_prefetch(&b->u.t[b->hext[i + 8] & (b->u.cap - 1)]);
            if (st) {
                s = row_fail(row, 0, st, "%s", b->errmsg);
                patron__match_rec_free(&b->prec[i]); /* not taken (made: its piece is done) */
            } else if (b->wst[i]) {
                s = b->wst[i]; /* its message is in the row (no record made) */
                if (until && s == PATRON_E_INVALID) {
                    row->status = s;
                    stop = i;
                    break;
                }
            } else {
                claim_in in = { b->rext[i], b->rsrc[i], b->rlogin[i], b->rnum[i], b->hext[i], b->hlogin[i] };
                char gen[64];
                const char *num = NULL;
                if ((s = claim_values(b, &in, gen, &id, &num)) != 0) {
                    row_fail(row, 0, s, "%s", b->errmsg);
                    patron__match_rec_free(&b->prec[i]); /* not taken: refused */
                    if (s == PATRON_E_NOMEM)
                        st = s;
                } else {
                    size_t nl = strlen(num);
                    part_take(b, i, id);
                    row->id = id;
                    if (nl >= sizeof row->number) /* (cannot be: at most 64 bytes) */
                        nl = sizeof row->number - 1;
                    memcpy(row->number, num, nl);
                    row->number[nl] = '\0';
                }
            }
            row->status = s;
        }
        if (stop < n) {
            /* the pieces not yet taken are left as they are (their
             * rows' room in prec holds no record) */
            started_to = atomic_exchange(&j->next, n);
            break;
        }
    }
    for (int t = 1; t <= started; t++)
        pthread_join(th[t], NULL);
    if (j->can_wait) {
        pthread_cond_destroy(&j->cv);
        pthread_mutex_destroy(&j->mu);
    }
    if (stop < n) {
        /* the records made of the rows after it (their pieces were taken
         * before `next` was set to n, and are done since the join) */
        for (size_t k = stop + 1; k < n && k < started_to; k++)
            patron__match_rec_free(&b->prec[k]);
        *taken = stop + 1;
        st = PATRON_OK;
    }
    patron__free(j);
    patron__free(v);
    return st;
}

static patron_status add_rows(patron_batch *b, patron_batch_row *rows, size_t n, bool until, size_t *n_out)
{
    patron_status st;
    size_t stride, done = 0, taken = 0;
    if (n_out)
        *n_out = 0;
    if (!b)
        return PATRON_E_INVALID;
    if (!rows && n)
        return batch_error(b, PATRON_E_INVALID, "no rows (NULL)");
    if (b->ran || b->broken)
        return batch_error(b, PATRON_E_STATE, b->ran ? "the batch has run; add to a new one" :
                                                       "the batch failed before (out of memory)");
    if (!n)
        return batch_ok(b);
    if (!(stride = row_size(rows[0].version)))
        return batch_error(b, PATRON_E_ABI, "rows of version %u: this library knows version 1",
                           rows[0].version);
    for (size_t i = 1; i < n; i++)
        if (((patron_batch_row *)(void *)((char *)rows + i * stride))->version != rows[0].version)
            return batch_error(b, PATRON_E_ABI, "row %zu has another version than the first", i + 1);
    /* the ones added singly before come first */
    st = batch_flush(b);
    for (size_t at = 0; at < n && !st; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        if ((st = add_row_part(b, (char *)rows + at * stride, stride, k, until, &taken)) != 0)
            done = at + k;
        else if (taken < k) {
            done = at + taken; /* stopped after a row refused for a value */
            break;
        } else
            done = at + k;
    }
    if (st) {
        /* the rows not decided: the batch's failure */
        for (size_t i = done; i < n; i++) {
            patron_batch_row *row = (patron_batch_row *)(void *)((char *)rows + i * stride);
            row->id = 0;
            row->number[0] = '\0';
            row->status = row_fail(row, 0, st, "%s", b->errmsg);
        }
        if (n_out)
            *n_out = n;
        return st;
    }
    if (n_out)
        *n_out = done;
    return batch_ok(b);
}

patron_status patron_batch_add_rows(patron_batch *b, patron_batch_row *rows, size_t n)
{
    return add_rows(b, rows, n, false, NULL);
}

patron_status patron_batch_add_rows_until(patron_batch *b, size_t *n_out, patron_batch_row *rows, size_t n,
                                          unsigned flags)
{
    if (n_out)
        *n_out = 0;
    if (!b)
        return PATRON_E_INVALID;
    if (!n_out)
        return batch_error(b, PATRON_E_INVALID, "no place for the count (NULL)");
    if (flags & ~PATRON_BATCH_UNTIL_INVALID)
        return batch_error(b, PATRON_E_INVALID, "unknown flags 0x%x", flags & ~PATRON_BATCH_UNTIL_INVALID);
    return add_rows(b, rows, n, (flags & PATRON_BATCH_UNTIL_INVALID) != 0, n_out);
}

patron_status patron_batch_run(patron_batch *b, patron_pairs **out, patron_match_mode mode)
{
    job jobs[MAX_THREADS];
    int nj = nthreads();
    patron_status st;
    if (!b)
        return PATRON_E_INVALID;
    if (!out)
        return batch_error(b, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if (mode != PATRON_MATCH_FIELDS && mode != PATRON_MATCH_EMAIL)
        return batch_error(b, PATRON_E_INVALID, "unknown match mode %d", (int)mode);
    if (b->ran || b->broken)
        return batch_error(b, PATRON_E_STATE, b->ran ? "the batch has run; make a new one" :
                                                       "the batch failed before (out of memory)");
    b->ran = true;
    if ((st = batch_flush(b)) != 0)
        return st;
    batch_drop_adding(b);
    b->b.cfg.mode = mode == PATRON_MATCH_EMAIL ? PATRON__MATCH_MODE_EMAIL : PATRON__MATCH_MODE_FIELDS;
    if (b->b.n == 0 || !b->b.koff) {
        *out = patron__calloc(1, sizeof **out);
        return *out ? batch_ok(b) : batch_error(b, PATRON_E_NOMEM, "out of memory");
    }
    memset(jobs, 0, sizeof jobs);
    if (!point_at_recs(&b->b))
        st = PATRON_E_NOMEM;
    if (!st)
        st = pair_all(&b->b, jobs, nj);
    b->scored = b->b.scored;
    if (!st) {
        /* the result reads only the ids: the keys and blocks go back
         * first (at 10^6 customers ~400 MB with the records), so that
         * the result's arrays take the pages they free, not fresh ones,
         * and do not add to the peak; the records while the result is
         * made (build_result) */
        int64_t *ids = b->b.ids;
        patron__match_rec *recs = b->b.recs;
        size_t n = b->b.n;
        b->b.ids = NULL;
        b->b.recs = NULL;
        patron__free(b->b.ref); /* (it points into recs) */
        b->b.ref = NULL;
        batch_free(&b->b);
        b->b.ids = ids;
        b->b.n = n;
        st = build_result(&b->b, jobs, nj, out, recs);
    }
    for (int t = 0; t < nj; t++)
        patron__free(jobs[t].out);
    /* the normalised records are no longer needed: their memory goes back
     * now, not when the batch is freed */
    batch_free(&b->b);
    return st ? batch_error(b, st, "out of memory") : batch_ok(b);
}

uint64_t patron__batch_scored(const patron_batch *b)
{
    return b ? b->scored : 0;
}
