/*
 * Quality harness for the matcher: reads a customer CSV (the layout of
 * ../shared/data/gen_customers.py and febrl/to_customers.py), normalises the
 * records, blocks them through an in-memory hash index on the match keys,
 * scores the candidate pairs and writes "id_a,id_b,score,decision" for every
 * pair judged merge or review.  Score with ../shared/data/score_pairs.py.
 *
 *   quality [--mode email] [--country DE] [--threads N] [--explain] [--all]
 *           [--max-block N] [--out PAIRS.csv] CUSTOMERS.csv
 *
 * --explain adds the level of every field; --all prints distinct pairs too.
 * Timing and counts go to stderr.
 *
 * SPDX-License-Identifier: MIT
 */
#include "match/match.h"

#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- small helpers ------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "quality: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "quality: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

/* The library's allocator when linked without the core (standalone build). */
#ifdef QUALITY_STANDALONE
void *patron__malloc(size_t size)
{
    return malloc(size ? size : 1);
}
void *patron__realloc(void *p, size_t size)
{
    return realloc(p, size ? size : 1);
}
void patron__free(void *p)
{
    free(p);
}
#endif

/* ---- CSV (RFC 4180), parsed in place --------------------------------------- */

struct csv {
    char *buf;
    size_t len;
    char **cells; /* row-major, ncol per row */
    size_t ncol, nrow, cap;
};

/* Parse one field starting at *pos; returns its NUL-terminated start and
 * sets *end_of_row when the row ends after it. */
static char *csv_field(struct csv *c, size_t *pos, int *end_of_row, int *eof)
{
    size_t i = *pos, w;
    char *start = c->buf + i;

    *end_of_row = 0;
    if (i < c->len && c->buf[i] == '"') {
        w = i;
        start = c->buf + w;
        i++;
        for (;;) {
            if (i >= c->len)
                break;
            if (c->buf[i] == '"') {
                if (i + 1 < c->len && c->buf[i + 1] == '"') {
                    c->buf[w++] = '"';
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            c->buf[w++] = c->buf[i++];
        }
        /* skip to the separator */
        while (i < c->len && c->buf[i] != ',' && c->buf[i] != '\n')
            i++;
    } else {
        while (i < c->len && c->buf[i] != ',' && c->buf[i] != '\n')
            i++;
        w = i;
        if (w > *pos && c->buf[w - 1] == '\r')
            w--;
    }
    if (i >= c->len) {
        *end_of_row = 1;
        *eof = 1;
    } else if (c->buf[i] == '\n') {
        *end_of_row = 1;
    }
    c->buf[w] = '\0'; /* w <= i: overwrites the separator or beyond */
    *pos = i + 1;
    return start;
}

static int csv_read(struct csv *c, const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t pos = 0, got;
    int eof = 0;

    memset(c, 0, sizeof *c);
    if (!f) {
        fprintf(stderr, "quality: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    c->cap = 1 << 20;
    c->buf = xmalloc(c->cap + 1);
    while ((got = fread(c->buf + c->len, 1, c->cap - c->len, f)) > 0) {
        c->len += got;
        if (c->len == c->cap) {
            c->cap *= 2;
            c->buf = xrealloc(c->buf, c->cap + 1);
        }
    }
    fclose(f);
    c->buf[c->len] = '\0';
    /* header */
    {
        size_t cells_cap = 64;
        c->cells = xmalloc(cells_cap * sizeof *c->cells);
        for (;;) {
            int eor;
            char *s = csv_field(c, &pos, &eor, &eof);
            if (c->ncol == cells_cap)
                c->cells = xrealloc(c->cells, (cells_cap *= 2) * sizeof *c->cells);
            c->cells[c->ncol++] = s;
            if (eor)
                break;
        }
        /* rows: a rough count from the size, grown as needed */
        {
            size_t rows_cap = c->len / 64 + 16, col = 0;
            char **row = NULL;
            char **hdr = c->cells;
            c->cells = xmalloc((rows_cap + 1) * c->ncol * sizeof *c->cells);
            memcpy(c->cells, hdr, c->ncol * sizeof *c->cells);
            free(hdr);
            c->nrow = 0;
            while (!eof && pos < c->len) {
                int eor;
                char *s;
                if (col == 0) {
                    if (c->buf[pos] == '\n' || (c->buf[pos] == '\r' && pos + 1 < c->len &&
                                                c->buf[pos + 1] == '\n')) {
                        pos += c->buf[pos] == '\r' ? 2 : 1; /* empty line */
                        continue;
                    }
                    if (c->nrow == rows_cap) {
                        rows_cap *= 2;
                        c->cells =
                            xrealloc(c->cells, (rows_cap + 1) * c->ncol * sizeof *c->cells);
                    }
                    row = c->cells + (c->nrow + 1) * c->ncol;
                    c->nrow++;
                }
                s = csv_field(c, &pos, &eor, &eof);
                if (col < c->ncol)
                    row[col] = s;
                col++;
                if (eor) {
                    for (; col < c->ncol; col++)
                        row[col] = c->buf + c->len; /* "" */
                    col = 0;
                }
            }
            if (col > 0)
                for (; col < c->ncol; col++)
                    row[col] = c->buf + c->len;
        }
    }
    return 0;
}

static int csv_col(const struct csv *c, const char *name)
{
    size_t i;
    for (i = 0; i < c->ncol; i++)
        if (strcmp(c->cells[i], name) == 0)
            return (int)i;
    return -1;
}

static const char *cell(const struct csv *c, size_t row, int col)
{
    if (col < 0)
        return "";
    return c->cells[(row + 1) * c->ncol + (size_t)col];
}

/* ---- state ----------------------------------------------------------------- */

enum { C_ID, C_FIRST, C_LAST, C_COMPANY, C_STREET, C_NUMBER, C_ADDITION, C_POSTAL, C_CITY,
       C_COUNTRY, C_EMAIL, C_PHONE, C_BIRTH, C_COUNT };

static const char *const col_names[C_COUNT] = {
    "id",       "first_name", "last_name", "company", "street", "house_number", "address_addition",
    "postal_code", "city",    "country",   "email",   "phone",  "birth_date",
};

struct entry {
    uint64_t hash;
    uint32_t rec;
};

struct state {
    struct csv csv;
    int col[C_COUNT];
    patron__match_config cfg;
    patron__match_rec *recs;
    size_t n;
    /* per-record sorted key hashes */
    uint64_t *khash;
    uint32_t *koff; /* n + 1 offsets into khash */
    struct entry *ent;
    size_t nent;
    size_t max_block;
    int explain, all, nthreads;
    int drop[8], ndrop; /* key kinds left out (--drop-key, for measuring keys) */
};

static uint64_t hash_key(const patron__match_key *k)
{
    /* FNV-1a over the kind and the value, then a final mix */
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)k->kind;
    const unsigned char *p = (const unsigned char *)k->value;

    for (; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* ---- normalise (threaded) ---------------------------------------------------- */

struct norm_job {
    struct state *st;
    size_t from, to;
    uint64_t *khash;  /* PATRON__MATCH_KEYS_MAX per record, local */
    uint8_t *nkeys;
};

static void *norm_thread(void *arg)
{
    struct norm_job *j = arg;
    struct state *st = j->st;
    size_t i;
    patron__match_key keys[PATRON__MATCH_KEYS_MAX];

    for (i = j->from; i < j->to; i++) {
        patron__match_raw raw;
        patron__match_raw_addr ra;
        size_t nk, k, a, b;
        uint64_t *h = j->khash + (i - j->from) * PATRON__MATCH_KEYS_MAX;

        memset(&raw, 0, sizeof raw);
        memset(&ra, 0, sizeof ra);
        raw.first_name = cell(&st->csv, i, st->col[C_FIRST]);
        raw.last_name = cell(&st->csv, i, st->col[C_LAST]);
        raw.company = cell(&st->csv, i, st->col[C_COMPANY]);
        raw.email = cell(&st->csv, i, st->col[C_EMAIL]);
        raw.phone = cell(&st->csv, i, st->col[C_PHONE]);
        raw.birth_date = cell(&st->csv, i, st->col[C_BIRTH]);
        ra.street = cell(&st->csv, i, st->col[C_STREET]);
        ra.house_number = cell(&st->csv, i, st->col[C_NUMBER]);
        ra.addition = cell(&st->csv, i, st->col[C_ADDITION]);
        ra.postal_code = cell(&st->csv, i, st->col[C_POSTAL]);
        ra.city = cell(&st->csv, i, st->col[C_CITY]);
        ra.country = cell(&st->csv, i, st->col[C_COUNTRY]);
        raw.addr = &ra;
        raw.n_addr = 1;
        if (patron__match_normalize(&st->recs[i], &raw, st->cfg.default_country) != 0) {
            fprintf(stderr, "quality: out of memory\n");
            exit(2);
        }
        nk = patron__match_keys(keys, PATRON__MATCH_KEYS_MAX, &st->recs[i], &st->cfg);
        for (k = 0, a = 0; k < nk; k++) {
            int d, skip = 0;
            for (d = 0; d < st->ndrop; d++)
                skip |= keys[k].kind == st->drop[d];
            if (!skip)
                h[a++] = hash_key(&keys[k]);
        }
        nk = a;
        /* sort (insertion, few keys), drop repeats */
        for (a = 1; a < nk; a++) {
            uint64_t v = h[a];
            for (b = a; b > 0 && h[b - 1] > v; b--)
                h[b] = h[b - 1];
            h[b] = v;
        }
        for (a = 0, b = 0; a < nk; a++)
            if (b == 0 || h[b - 1] != h[a])
                h[b++] = h[a];
        j->nkeys[i - j->from] = (uint8_t)b;
    }
    return NULL;
}

/* ---- radix sort of (hash, rec) --------------------------------------------------- */

static void radix_sort(struct entry *a, size_t n)
{
    struct entry *tmp = xmalloc(n * sizeof *tmp);
    size_t *cnt = xmalloc(65536 * sizeof *cnt);
    int pass;

    for (pass = 0; pass < 4; pass++) {
        int shift = pass * 16;
        size_t i, sum = 0;
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (i = 0; i < n; i++)
            cnt[(a[i].hash >> shift) & 0xFFFF]++;
        for (i = 0; i < 65536; i++) {
            size_t c = cnt[i];
            cnt[i] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++)
            tmp[cnt[(a[i].hash >> shift) & 0xFFFF]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
    }
    free(tmp);
    free(cnt);
}

/* ---- pairs (threaded) ------------------------------------------------------------ */

struct outbuf {
    char *p;
    size_t n, cap;
};

static void out_add(struct outbuf *o, const char *s, size_t k)
{
    if (o->n + k + 1 > o->cap) {
        o->cap = (o->cap + k + 1) * 2;
        o->p = xrealloc(o->p, o->cap);
    }
    memcpy(o->p + o->n, s, k);
    o->n += k;
}

/* The sorted entries are cut into chunks at block boundaries; threads
 * claim chunks through an atomic counter (blocks differ a lot in work), and
 * each chunk has its own output so that the output order is fixed. */
#define CHUNK 4096

struct pair_job {
    struct state *st;
    struct outbuf *outs; /* one per chunk */
    size_t nchunks;
    atomic_size_t *next;
    size_t pairs, merges, reviews, skipped_blocks;
};

/* The first key hash two records share. */
static uint64_t first_common(const struct state *st, uint32_t x, uint32_t y)
{
    const uint64_t *a = st->khash + st->koff[x], *ae = st->khash + st->koff[x + 1];
    const uint64_t *b = st->khash + st->koff[y], *be = st->khash + st->koff[y + 1];

    while (a < ae && b < be) {
        if (*a == *b)
            return *a;
        if (*a < *b)
            a++;
        else
            b++;
    }
    return 0;
}

static void emit(struct pair_job *j, struct outbuf *o, uint32_t x, uint32_t y,
                 const patron__match_result *r)
{
    const struct state *st = j->st;
    char line[1024];
    int k;
    const char *ia = cell(&st->csv, x, st->col[C_ID]), *ib = cell(&st->csv, y, st->col[C_ID]);

    if (strcmp(ia, ib) > 0) {
        const char *t = ia;
        ia = ib;
        ib = t;
    }
    k = snprintf(line, sizeof line, "%s,%s,%.2f,%s", ia, ib, r->score,
                 patron__match_decision_name(r->decision));
    out_add(o, line, (size_t)k);
    if (st->explain) {
        int f;
        for (f = 0; f < PATRON__MF_COUNT; f++) {
            k = snprintf(line, sizeof line, ",%s=%s", patron__match_field_name(f),
                         patron__match_level_name(r->field[f].level));
            out_add(o, line, (size_t)k);
        }
        k = snprintf(line, sizeof line, ",caps=%d", r->caps);
        out_add(o, line, (size_t)k);
    }
    out_add(o, "\n", 1);
}

static void *pair_thread(void *arg)
{
    struct pair_job *j = arg;
    struct state *st = j->st;

    for (;;) {
        size_t c = atomic_fetch_add(j->next, 1), s, end;
        struct outbuf *o;
        if (c >= j->nchunks)
            break;
        o = &j->outs[c];
        s = c * CHUNK;
        end = s + CHUNK < st->nent ? s + CHUNK : st->nent;
        /* a block belongs to the chunk where it starts */
        while (s > 0 && s < end && st->ent[s].hash == st->ent[s - 1].hash)
            s++;
        while (s < end) {
            size_t e = s + 1, x, y;
            uint64_t h = st->ent[s].hash;
            while (e < st->nent && st->ent[e].hash == h)
                e++;
            if (e - s > st->max_block) {
                j->skipped_blocks++;
                s = e;
                continue;
            }
            for (x = s; x < e; x++)
                for (y = x + 1; y < e; y++) {
                    uint32_t a = st->ent[x].rec, b = st->ent[y].rec;
                    patron__match_result r;
                    if (a == b || first_common(st, a, b) != h)
                        continue; /* scored in the block of their first common key */
                    patron__match_score(&r, &st->recs[a], &st->recs[b], &st->cfg);
                    j->pairs++;
                    if (r.decision == PATRON__MATCH_MERGE)
                        j->merges++;
                    else if (r.decision == PATRON__MATCH_REVIEW)
                        j->reviews++;
                    if (r.decision != PATRON__MATCH_DISTINCT || st->all)
                        emit(j, o, a, b, &r);
                }
            s = e;
        }
    }
    return NULL;
}

/* ---- main --------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: quality [--mode fields|email] [--country CC] [--threads N] "
                    "[--max-block N] [--explain] [--all] [--out FILE] CUSTOMERS.csv\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static struct state st; /* large; zeroed */
    const char *path = NULL, *out_path = NULL;
    FILE *out = stdout;
    int i, t;
    double t0 = now(), t1, t2, t3, t4;
    size_t total_pairs = 0, merges = 0, reviews = 0, skipped = 0;

    patron__match_config_default(&st.cfg);
    st.nthreads = 2;
    st.max_block = 1000;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
            const char *m = argv[++i];
            if (strcmp(m, "email") == 0)
                st.cfg.mode = PATRON__MATCH_MODE_EMAIL;
            else if (strcmp(m, "fields") != 0)
                usage();
        } else if (strcmp(argv[i], "--country") == 0 && i + 1 < argc) {
            const char *c = argv[++i];
            if (strlen(c) != 2)
                usage();
            memcpy(st.cfg.default_country, c, 3);
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            st.nthreads = atoi(argv[++i]);
            if (st.nthreads < 1 || st.nthreads > 64)
                usage();
        } else if (strcmp(argv[i], "--max-block") == 0 && i + 1 < argc) {
            st.max_block = (size_t)atol(argv[++i]);
        } else if (strcmp(argv[i], "--drop-key") == 0 && i + 1 < argc) {
            if (st.ndrop < 8)
                st.drop[st.ndrop++] = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--explain") == 0) {
            st.explain = 1;
        } else if (strcmp(argv[i], "--all") == 0) {
            st.all = 1;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            usage();
        } else {
            path = argv[i];
        }
    }
    if (!path)
        usage();
    if (csv_read(&st.csv, path) != 0)
        return 2;
    for (i = 0; i < C_COUNT; i++)
        st.col[i] = csv_col(&st.csv, col_names[i]);
    if (st.col[C_ID] < 0) {
        fprintf(stderr, "quality: %s has no id column\n", path);
        return 2;
    }
    st.n = st.csv.nrow;
    if (st.n >= UINT32_MAX) {
        fprintf(stderr, "quality: too many rows\n");
        return 2;
    }
    t1 = now();

    /* normalise and compute keys */
    st.recs = xmalloc(st.n * sizeof *st.recs);
    {
        pthread_t th[64];
        struct norm_job jobs[64];
        size_t per = (st.n + (size_t)st.nthreads - 1) / (size_t)st.nthreads, k, pos = 0;
        for (t = 0; t < st.nthreads; t++) {
            size_t from = per * (size_t)t, to = from + per;
            if (from > st.n)
                from = st.n;
            if (to > st.n)
                to = st.n;
            jobs[t].st = &st;
            jobs[t].from = from;
            jobs[t].to = to;
            jobs[t].khash = xmalloc((to - from) * PATRON__MATCH_KEYS_MAX * sizeof(uint64_t));
            jobs[t].nkeys = xmalloc(to - from + 1);
            if (pthread_create(&th[t], NULL, norm_thread, &jobs[t]) != 0) {
                fprintf(stderr, "quality: cannot start a thread\n");
                return 2;
            }
        }
        for (t = 0; t < st.nthreads; t++)
            pthread_join(th[t], NULL);
        st.koff = xmalloc((st.n + 1) * sizeof *st.koff);
        for (t = 0; t < st.nthreads; t++)
            for (k = jobs[t].from; k < jobs[t].to; k++)
                pos += jobs[t].nkeys[k - jobs[t].from];
        st.khash = xmalloc((pos + 1) * sizeof *st.khash);
        st.ent = xmalloc((pos + 1) * sizeof *st.ent);
        pos = 0;
        for (t = 0; t < st.nthreads; t++) {
            for (k = jobs[t].from; k < jobs[t].to; k++) {
                size_t nk = jobs[t].nkeys[k - jobs[t].from], q;
                const uint64_t *h = jobs[t].khash + (k - jobs[t].from) * PATRON__MATCH_KEYS_MAX;
                st.koff[k] = (uint32_t)pos;
                for (q = 0; q < nk; q++) {
                    st.khash[pos] = h[q];
                    st.ent[pos].hash = h[q];
                    st.ent[pos].rec = (uint32_t)k;
                    pos++;
                }
            }
            free(jobs[t].khash);
            free(jobs[t].nkeys);
        }
        st.koff[st.n] = (uint32_t)pos;
        st.nent = pos;
    }
    t2 = now();
    radix_sort(st.ent, st.nent);
    t3 = now();

    /* pairs */
    {
        pthread_t th[64];
        struct pair_job *jobs = xmalloc((size_t)st.nthreads * sizeof *jobs);
        size_t nchunks = (st.nent + CHUNK - 1) / CHUNK, c;
        struct outbuf *outs = calloc(nchunks + 1, sizeof *outs);
        atomic_size_t next;
        if (!outs) {
            fprintf(stderr, "quality: out of memory\n");
            return 2;
        }
        atomic_init(&next, 0);
        for (t = 0; t < st.nthreads; t++) {
            memset(&jobs[t], 0, sizeof jobs[t]);
            jobs[t].st = &st;
            jobs[t].outs = outs;
            jobs[t].nchunks = nchunks;
            jobs[t].next = &next;
            if (pthread_create(&th[t], NULL, pair_thread, &jobs[t]) != 0) {
                fprintf(stderr, "quality: cannot start a thread\n");
                return 2;
            }
        }
        for (t = 0; t < st.nthreads; t++)
            pthread_join(th[t], NULL);
        t4 = now();
        if (out_path) {
            out = fopen(out_path, "w");
            if (!out) {
                fprintf(stderr, "quality: cannot write %s: %s\n", out_path, strerror(errno));
                return 2;
            }
        }
        fputs("id_a,id_b,score,decision\n", out);
        for (c = 0; c < nchunks; c++) {
            if (outs[c].n)
                fwrite(outs[c].p, 1, outs[c].n, out);
            free(outs[c].p);
        }
        for (t = 0; t < st.nthreads; t++) {
            total_pairs += jobs[t].pairs;
            merges += jobs[t].merges;
            reviews += jobs[t].reviews;
            skipped += jobs[t].skipped_blocks;
        }
        free(outs);
        free(jobs);
        if (out != stdout)
            fclose(out);
    }
    fprintf(stderr,
            "quality: %zu records, %zu keys, %zu pairs scored, %zu merge, %zu review, "
            "%zu blocks over %zu skipped\n",
            st.n, st.nent, total_pairs, merges, reviews, skipped, st.max_block);
    fprintf(stderr,
            "quality: read %.2f s, normalise+keys %.2f s, sort %.2f s, pairs %.2f s, "
            "total %.2f s\n",
            t1 - t0, t2 - t1, t3 - t2, t4 - t3, now() - t0);
    {
        size_t k;
        for (k = 0; k < st.n; k++)
            patron__match_rec_free(&st.recs[k]);
    }
    free(st.recs);
    free(st.khash);
    free(st.koff);
    free(st.ent);
    free(st.csv.cells);
    free(st.csv.buf);
    return 0;
}
