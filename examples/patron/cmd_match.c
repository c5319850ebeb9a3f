/*
 * patron — duplicate matching (issue 4): dedupe a CSV file, match one
 * stored customer.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <patron/batch.h>
#include <patron/memory.h>
#include "columns.h"
#include "csv.h"
#include "review.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const cli_choice match_modes[] = {
    { "fields", PATRON_MATCH_FIELDS }, { "email", PATRON_MATCH_EMAIL }, { NULL, 0 }
};

/* ---- dedupe ----------------------------------------------------------------- */

/* A block of idmap's texts. */
typedef struct idblock {
    struct idblock *next;
    char b[];
} idblock;

#define IDBLOCK (1 << 20)

/* Per internal id, the row's key (its 'id', else its customer number) and
 * its name, "key\0name\0" after a head of four bytes (ID_HEAD), in blocks
 * filled one after the other (one arena
 * grown by doubling was copied at each step: at 10^6 rows ~23 MB of fresh
 * pages touched for the copies alone); and the two groupings of the
 * output's cluster column (union-find over the ids, the smallest id as
 * root). */
typedef struct idmap {
    idblock *blocks; /* the newest first */
    size_t len, cap; /* used and size of blocks->b */
    const char **at; /* at[id]: its text, NULL = none */
    int64_t *dup;    /* dup[id]: parent over merge and review pairs, 0 = itself */
    int64_t *house;  /* house[id]: parent over household pairs, 0 = itself */
    size_t n_at;
} idmap;

static int idmap_grow(idmap *m, int64_t id)
{
    size_t n;
    const char **p;
    int64_t *d, *h;

    if (id <= 0)
        return -1;
    if ((size_t)id < m->n_at)
        return 0;
    n = m->n_at ? m->n_at : 1024;
    while (n <= (size_t)id)
        n *= 2;
    p = realloc(m->at, n * sizeof *p);
    if (!p)
        return -1;
    m->at = p;
    if (m->dup) { /* (the groupings once they are made: idmap_groups) */
        d = realloc(m->dup, n * sizeof *d);
        if (!d)
            return -1;
        m->dup = d;
        h = realloc(m->house, n * sizeof *h);
        if (!h)
            return -1;
        m->house = h;
        memset(d + m->n_at, 0, (n - m->n_at) * sizeof *d);
        memset(h + m->n_at, 0, (n - m->n_at) * sizeof *h);
    }
    memset(p + m->n_at, 0, (n - m->n_at) * sizeof *p);
    m->n_at = n;
    return 0;
}

/* The groupings (dup, house), made when the pairs are read, not grown
 * (and cleared) with every row added: -1 out of memory. */
static int idmap_groups(idmap *m)
{
    size_t n = m->n_at ? m->n_at : 1;
    if (m->dup)
        return 0;
    m->dup = calloc(n, sizeof *m->dup);
    m->house = calloc(n, sizeof *m->house);
    if (!m->dup || !m->house) {
        free(m->dup);
        free(m->house);
        m->dup = m->house = NULL;
        return -1;
    }
    return 0;
}

/* A new block with room for n bytes; -1 out of memory. */
static int idmap_block(idmap *m, size_t n)
{
    size_t cap = n > IDBLOCK ? n : IDBLOCK;
    idblock *k = malloc(sizeof *k + cap);
    if (!k)
        return -1;
    k->next = m->blocks;
    m->blocks = k;
    m->len = 0;
    m->cap = cap;
    return 0;
}

/* Room for n bytes of id's text in the newest block (a new block when it
 * is full), noted as id's; NULL when out of memory. */
static inline char *idmap_room(idmap *m, int64_t id, size_t n)
{
    char *at;
    /* (an id below n_at and room in the block, as nearly always: no call;
     * this runs for every row, on the thread that claims the rows) */
    if (!(id > 0 && (size_t)id < m->n_at) && idmap_grow(m, id) < 0)
        return NULL;
    if ((!m->blocks || m->len + n > m->cap) && idmap_block(m, n) < 0)
        return NULL;
    at = m->blocks->b + m->len;
    m->at[id] = at;
    m->len += n;
    return at;
}

/* The head of an id's text: the lengths of its key and its name, two bytes
 * each (a key has at most 319 bytes, a name 399), with ID_PLAIN set in
 * that of a text the pairs' CSV holds as it is (csv_field_plain(): no
 * quotes, no '), as most are: the lines are then made without a strlen or
 * a scan of each key and name (three keys and two names a line, most of
 * writing them).  Set where the rows are read, on the reader thread. */
#define ID_HEAD 4
#define ID_PLAIN 0x8000u

static void id_head(char *at, size_t lk, int kplain, size_t ln, int nplain)
{
    unsigned short h[2];
    h[0] = (unsigned short)(lk | (kplain ? ID_PLAIN : 0));
    h[1] = (unsigned short)(ln | (nplain ? ID_PLAIN : 0));
    memcpy(at, h, sizeof h);
}

/* The key (which = 0) or the name (1) of an id's text t, its length and
 * whether it is plain. */
static const char *id_part(const char *t, int which, size_t *len, int *plain)
{
    unsigned short h[2];
    memcpy(h, t, sizeof h);
    *len = h[which] & ~ID_PLAIN;
    *plain = (h[which] & ID_PLAIN) != 0;
    return t + ID_HEAD + (which ? (h[0] & ~ID_PLAIN) + 1 : 0);
}

static int idmap_put(idmap *m, int64_t id, const char *key, const char *name)
{
    size_t lk = strlen(key), ln = strlen(name);
    char *at = idmap_room(m, id, ID_HEAD + lk + ln + 2);

    if (!at)
        return -1;
    id_head(at, lk, csv_field_plain(',', key, lk, 0), ln, csv_field_plain(',', name, ln, 1));
    memcpy(at + ID_HEAD, key, lk + 1);
    memcpy(at + ID_HEAD + lk + 1, name, ln + 1);
    return 0;
}

/* idmap_put of a "key\0name\0" text of n bytes (both NULs counted) whose
 * key's length lk and plainness (plain: bit 1 the key's, bit 2 the
 * name's) are known: one copy, no strlen (this runs for every row of
 * 'patron dedupe FILE', on the thread the others wait for at the end of
 * each part). */
static int idmap_put_text(idmap *m, int64_t id, const char *text, size_t n, size_t lk, unsigned plain)
{
    char *at = idmap_room(m, id, ID_HEAD + n);

    if (!at)
        return -1;
    id_head(at, lk, plain & 1, n - lk - 2, plain & 2);
    memcpy(at + ID_HEAD, text, n);
    return 0;
}

/* id's text (its head, its key and name), NULL when it has none. */
static const char *idmap_get(const idmap *m, int64_t id)
{
    if (id <= 0 || (size_t)id >= m->n_at || !m->at[id])
        return NULL;
    return m->at[id];
}

static int64_t uf_root(int64_t *parent, int64_t id)
{
    int64_t r = id, next;
    while (parent[r])
        r = parent[r];
    while (parent[id]) { /* path compression */
        next = parent[id];
        parent[id] = id == r ? 0 : r;
        id = next;
    }
    return r;
}

static void uf_join(int64_t *parent, int64_t a, int64_t b)
{
    a = uf_root(parent, a);
    b = uf_root(parent, b);
    if (a < b)
        parent[b] = a;
    else if (b < a)
        parent[a] = b;
}

/* The lines are made in a buffer of their own and written a buffer at a
 * time: a putc/fwrite per field (each taking the stream's lock) was most
 * of writing the pairs.  The bytes are those csv_write_field and printf
 * write. */
/* Bytes kept in memory to be written later: a list of the buffers as
 * they were filled (an open_memstream doubled its buffer, clearing the new
 * half and copying the old: at 10^6 customers ~50 MB of fresh pages). */
typedef struct lchunk {
    struct lchunk *next;
    size_t n;
    char b[];
} lchunk;

typedef struct lbuf {
    FILE *f;       /* NULL: into the chunks */
    lchunk *head, *tail;
    int oom;       /* (chunks) out of memory: bytes were lost */
    size_t n;
    char b[1 << 15];
} lbuf;

static void lb_out(lbuf *l, const char *s, size_t n)
{
    lchunk *c;
    if (l->f) {
        fwrite(s, 1, n, l->f);
        return;
    }
    if (l->oom)
        return;
    if (!(c = malloc(sizeof *c + n))) {
        l->oom = 1;
        return;
    }
    c->next = NULL;
    c->n = n;
    memcpy(c->b, s, n);
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
}

static void lchunks_free(lchunk *c)
{
    while (c) {
        lchunk *next = c->next;
        free(c);
        c = next;
    }
}

static void lb_flush(lbuf *l)
{
    if (l->n)
        lb_out(l, l->b, l->n);
    l->n = 0;
}

static void lb_put(lbuf *l, const char *s, size_t n)
{
    if (l->n + n > sizeof l->b) {
        lb_flush(l);
        if (n > sizeof l->b) {
            lb_out(l, s, n);
            return;
        }
    }
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

static void lb_char(lbuf *l, char c)
{
    if (l->n == sizeof l->b)
        lb_flush(l);
    l->b[l->n++] = c;
}

static void lb_sink(void *l, const char *s, size_t n)
{
    lb_put(l, s, n);
}

/* s as csv_write_field(f, ',', s, len) (neutral 0) or csv_write_cell()
 * (1) writes it, plain when csv_field_plain() said it is (copied as it
 * is).  A name is written as a cell: it is what a customer typed, and a
 * spreadsheet that opens the pairs must not run one that begins like a
 * formula (=HYPERLINK(...)), as 'patron export' does not. */
static void lb_text(lbuf *l, const char *s, size_t len, int plain, int neutral)
{
    if (plain)
        lb_put(l, s, len);
    else
        csv_put_field(lb_sink, l, ',', s, len, neutral);
}

static void print_key(lbuf *l, const idmap *m, int64_t id)
{
    const char *t = idmap_get(m, id), *k;
    size_t n;
    int plain;
    if (!t) { /* "#ID": plain */
        char buf[32];
        int w = snprintf(buf, sizeof buf, "#%" PRId64, id);
        lb_put(l, buf, w > 0 ? (size_t)w : 0);
        return;
    }
    k = id_part(t, 0, &n, &plain);
    lb_text(l, k, n, plain, 0);
}

/* ",%.3f,NAME," of score and decision as printf writes it, by hand where
 * that is sure to be the same (printf was a tenth of writing the pairs). */
static void print_score(lbuf *out, double score, patron_decision decision)
{
    char buf[96];
    double y = score < 0 ? -score * 1000.0 : score * 1000.0, f;
    long long k;
    size_t n = 0;
    const char *name = patron_decision_name(decision);
    int w;
    if (!(y < 1e15)) { /* (also NaN) */
        w = snprintf(buf, sizeof buf, ",%.3f,%s,", score, name);
        lb_put(out, buf, w < 0 ? 0 : (size_t)w < sizeof buf ? (size_t)w : sizeof buf - 1);
        return;
    }
    k = (long long)y;
    f = y - (double)k;
    /* near a tie the product's rounding could decide it: printf does */
    if ((f > 0.5 - 1e-6 && f < 0.5 + 1e-6) || (k == 0 && f < 0.5)) {
        w = snprintf(buf, sizeof buf, ",%.3f,%s,", score, name);
        lb_put(out, buf, w < 0 ? 0 : (size_t)w < sizeof buf ? (size_t)w : sizeof buf - 1);
        return;
    }
    if (f > 0.5)
        k++;
    buf[n++] = ',';
    if (score < 0)
        buf[n++] = '-';
    {
        char d[24];
        long long ip = k / 1000;
        int nd = 0, fr = (int)(k % 1000);
        do
            d[nd++] = (char)('0' + ip % 10);
        while (ip /= 10);
        while (nd)
            buf[n++] = d[--nd];
        buf[n++] = '.';
        buf[n++] = (char)('0' + fr / 100);
        buf[n++] = (char)('0' + fr / 10 % 10);
        buf[n++] = (char)('0' + fr % 10);
    }
    buf[n++] = ',';
    lb_put(out, buf, n);
    lb_put(out, name, strlen(name));
    lb_char(out, ',');
}

/* The root of id, changing nothing, once every path is compressed
 * (print_pairs: then parent[id] is the root or 0), for the threads that
 * write the lines: one read, where following the path to the root read
 * the root's parent too, a miss at any id. */
static int64_t uf_top(const int64_t *parent, int64_t id)
{
    return parent[id] ? parent[id] : id;
}

static void print_name(lbuf *l, const idmap *m, int64_t id)
{
    const char *t = idmap_get(m, id), *k;
    size_t n;
    int plain;
    if (t) {
        k = id_part(t, 1, &n, &plain);
        lb_text(l, k, n, plain, 1);
    }
}

/* The union-find of the pairs of this decision. */
static const int64_t *parent_of(const idmap *m, patron_decision decision)
{
    return decision == PATRON_DECISION_HOUSEHOLD ? m->house : m->dup;
}

static void print_pair(lbuf *l, const idmap *m, int64_t a, int64_t b, double score, patron_decision decision)
{
    print_key(l, m, a);
    lb_char(l, ',');
    print_key(l, m, b);
    print_score(l, score, decision);
    print_key(l, m, uf_top(parent_of(m, decision), a));
    lb_char(l, ',');
    print_name(l, m, a);
    lb_char(l, ',');
    print_name(l, m, b);
    lb_char(l, '\n');
}

/* Pairs ahead of the line written whose texts (key and name) are
 * fetched: id_b and the root of id_a's cluster are any row, their texts
 * and their places in m->at a miss each, which were most of writing a
 * line.  (id_a rises: its texts are near the last line's.) */
#define LINES_AHEAD 8

static void prefetch_text(const idmap *m, int64_t id, int text)
{
    if (id > 0 && (size_t)id < m->n_at) {
        if (!text)
            __builtin_prefetch(&m->at[id]);
        else if (m->at[id])
            __builtin_prefetch(m->at[id]);
    }
}

/* Of line i: id_b and the root of id_a into x, their places in m->at
 * fetched. */
static void line_ahead(const idmap *m, const patron_pairs *pairs, size_t i, int64_t x[2])
{
    int64_t a = 0;
    patron_decision decision = PATRON_DECISION_DISTINCT;
    x[0] = x[1] = 0;
    if (patron_pairs_get(pairs, &a, &x[0], NULL, &decision, i) != PATRON_OK ||
        decision == PATRON_DECISION_DISTINCT)
        return;
    if (a > 0 && (size_t)a < m->n_at)
        x[1] = uf_top(parent_of(m, decision), a);
    prefetch_text(m, x[0], 0);
    prefetch_text(m, x[1], 0);
}

/* The lines of the pairs [from, to) (DISTINCT ones left out) to f, or
 * with f NULL into *chunks (-1: out of memory, *chunks NULL). */
static int print_range(FILE *f, lchunk **chunks, const idmap *m, const patron_pairs *pairs, size_t from, size_t to)
{
    lbuf *l = malloc(sizeof *l);
    lbuf one;
    int rc;
    /* id_b and the root of id_a of the pairs i + 1 .. i + LINES_AHEAD,
     * by i % LINES_AHEAD */
    int64_t ahead[LINES_AHEAD][2];
    if (!l) /* (a small buffer on the stack will do) */
        l = &one;
    l->f = f;
    l->head = l->tail = NULL;
    l->oom = 0;
    l->n = 0;
    for (size_t i = from; i < to && i < from + LINES_AHEAD; i++)
        line_ahead(m, pairs, i, ahead[i % LINES_AHEAD]);
    for (size_t i = from; i < to; i++) {
        int64_t ia, ib;
        double score;
        patron_decision decision;
        if (i + LINES_AHEAD < to)
            line_ahead(m, pairs, i + LINES_AHEAD, ahead[i % LINES_AHEAD]);
        if (i + LINES_AHEAD / 2 < to) {
            const int64_t *x = ahead[(i + LINES_AHEAD / 2) % LINES_AHEAD];
            prefetch_text(m, x[0], 1);
            prefetch_text(m, x[1], 1);
        }
        if (patron_pairs_get(pairs, &ia, &ib, &score, &decision, i) == PATRON_OK &&
            decision != PATRON_DECISION_DISTINCT)
            print_pair(l, m, ia, ib, score, decision);
    }
    lb_flush(l);
    rc = l->oom ? -1 : 0;
    if (chunks)
        *chunks = l->oom ? NULL : l->head;
    if (l->oom)
        lchunks_free(l->head);
    if (l != &one)
        free(l);
    return rc;
}

/* The lines in LINES_PIECES pieces, taken from both ends: this thread
 * the first ones, written out as it goes, a thread of its own the last
 * ones, into memory (written once this thread is through), until the two
 * meet.  (The second half on that thread took longer than the first on
 * this one, which then waited: it starts later and writes to memory.) */
#define LINES_PIECES 16

typedef struct line_job {
    const idmap *m;
    const patron_pairs *pairs;
    size_t n;
    pthread_mutex_t mu;
    int front, back; /* the pieces [front, back) are not taken */
    lchunk *chunks[LINES_PIECES];
    int ok[LINES_PIECES];
} line_job;

/* The next piece from the front (this thread) or the back: -1 none. */
static int line_take(line_job *j, int back)
{
    int k = -1;
    pthread_mutex_lock(&j->mu);
    if (j->front < j->back)
        k = back ? --j->back : j->front++;
    pthread_mutex_unlock(&j->mu);
    return k;
}

static size_t line_at(const line_job *j, int k)
{
    return j->n * (size_t)k / LINES_PIECES;
}

static void *line_thread(void *arg)
{
    line_job *j = arg;
    int k;
    while ((k = line_take(j, 1)) >= 0)
        j->ok[k] = print_range(NULL, &j->chunks[k], j->m, j->pairs, line_at(j, k), line_at(j, k + 1)) == 0;
    return NULL;
}

/* Pairs from this many on: their lines on two threads. */
#define LINES_SPLIT 8192

/* The pairs as CSV: first the groups (the cluster of a line is known only
 * once all pairs are read), then the lines. */
static int print_pairs(cli *ctx, idmap *m, const patron_pairs *pairs)
{
    size_t i, n = patron_pairs_count(pairs);
    line_job lj;
    pthread_t th;
    int threaded = 0, k;

    if (idmap_groups(m) < 0)
        return cli_fail(ctx, "out of memory");
    printf("id_a,id_b,score,decision,cluster,name_a,name_b\n");
    for (i = 0; i < n; i++) {
        int64_t ia, ib;
        double score;
        patron_decision decision;
        if (patron_pairs_get(pairs, &ia, &ib, &score, &decision, i) != PATRON_OK ||
            decision == PATRON_DECISION_DISTINCT)
            continue;
        if (idmap_grow(m, ia > ib ? ia : ib) < 0)
            return cli_fail(ctx, "out of memory");
        uf_join(decision == PATRON_DECISION_HOUSEHOLD ? m->house : m->dup, ia, ib);
    }
    /* every path compressed: uf_top reads the roots without writing */
    for (i = 1; i < m->n_at; i++) {
        if (m->dup[i])
            uf_root(m->dup, (int64_t)i);
        if (m->house[i])
            uf_root(m->house, (int64_t)i);
    }
    memset(&lj, 0, sizeof lj);
    lj.m = m;
    lj.pairs = pairs;
    lj.n = n;
    lj.back = LINES_PIECES;
    if (n >= LINES_SPLIT && pthread_mutex_init(&lj.mu, NULL) == 0) {
        threaded = pthread_create(&th, NULL, line_thread, &lj) == 0;
        if (!threaded)
            pthread_mutex_destroy(&lj.mu);
    }
    if (!threaded) {
        print_range(stdout, NULL, m, pairs, 0, n);
        return CLI_OK;
    }
    while ((k = line_take(&lj, 0)) >= 0)
        print_range(stdout, NULL, m, pairs, line_at(&lj, k), line_at(&lj, k + 1));
    pthread_join(th, NULL);
    pthread_mutex_destroy(&lj.mu);
    for (k = lj.front; k < LINES_PIECES; k++) { /* the thread's pieces, in order */
        if (lj.ok[k])
            for (lchunk *c = lj.chunks[k]; c; c = c->next)
                fwrite(c->b, 1, c->n, stdout);
        else /* no memory for them: written here */
            print_range(stdout, NULL, m, pairs, line_at(&lj, k), line_at(&lj, k + 1));
        lchunks_free(lj.chunks[k]);
    }
    return CLI_OK;
}

/* Rows the library refused: counted, the first few named on stderr. */
typedef struct skipped {
    size_t n;
    char text[600];
    size_t len;
} skipped;

static void skip_row(skipped *s, unsigned long line, const char *reason)
{
    if (s->n++ < 3 && s->len < sizeof s->text) {
        int w = snprintf(s->text + s->len, sizeof s->text - s->len, "%sline %lu: %.120s", s->len ? "; " : "",
                         line, reason);
        if (w > 0)
            s->len += (size_t)w;
        if (s->len >= sizeof s->text)
            s->len = sizeof s->text - 1;
    }
}

typedef struct match_args {
    int mode;
    int json;
    const char *identifier;
    cli_csv_opts csv;
    cli_list maps;
    const char *map_file;
} match_args;

static const cli_opt dedupe_opts[] = {
    { .name = "--mode", .kind = CLI_OPT_CHOICE, .target = offsetof(match_args, mode), .choices = match_modes,
      .help = "fields: names, address, email, phone, birth date\n"
              "(default); email: the normalised email only" },
    { .name = "--identifier", .kind = CLI_OPT_TEXT, .target = offsetof(match_args, identifier),
      .help = "the CSV column NAME (a custom property) identifies a\n"
              "customer: an agreeing value is strong evidence for one\n"
              "person, a differing one against (e.g. a customer-card number)" },
    CLI_CSV_OPTS(match_args, csv),
    CLI_MAP_OPTS(match_args, maps, map_file),
    CLI_OPT_TABLE_END,
};

static void idmap_free(idmap *m)
{
    while (m->blocks) {
        idblock *k = m->blocks;
        m->blocks = k->next;
        free(k);
    }
    free(m->at);
    free(m->dup);
    free(m->house);
}

/* patron --db DB dedupe: the stored customers, named by number. */
static int dedupe_db(cli *ctx, const match_args *args)
{
    patron_pairs *pairs = NULL;
    patron_status st;
    idmap m;
    size_t i, n;
    int rc;
    static char outbuf[1 << 16];

    memset(&m, 0, sizeof m);
    if (args->identifier)
        return cli_usage(ctx, "--identifier is for a CSV file; a database keeps its own identifiers "
                              "('patron model')");
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    cli_warn_stale_index(ctx);
    st = patron_db_dedupe(ctx->db, &pairs, args->mode);
    if (st != PATRON_OK)
        return cli_fail_db(ctx, st, "dedupe");
    n = patron_pairs_count(pairs);
    for (i = 0; i < n && rc == CLI_OK; i++) {
        int64_t id[2];
        double score;
        patron_decision decision;
        int s;
        if (patron_pairs_get(pairs, &id[0], &id[1], &score, &decision, i) != PATRON_OK ||
            decision == PATRON_DECISION_DISTINCT)
            continue;
        for (s = 0; s < 2 && rc == CLI_OK; s++) {
            patron_customer *c = NULL;
            char key[32], name[400];
            if (idmap_get(&m, id[s]))
                continue;
            if ((st = patron_db_load(ctx->db, &c, id[s])) != PATRON_OK) {
                rc = cli_fail_db(ctx, st, "dedupe");
                break;
            }
            if (idmap_put(&m, id[s], cli_customer_key(c, key, sizeof key), review_name(c, "", name, sizeof name)) < 0)
                rc = cli_fail(ctx, "out of memory");
            patron_customer_free(c);
        }
    }
    if (rc == CLI_OK) {
        setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
        rc = print_pairs(ctx, &m, pairs);
    }
    patron_pairs_free(pairs);
    idmap_free(&m);
    /* the pairs go to the review queue, where decisions are remembered: an
     * incremental scan (only the customers saved since the last one; a full
     * one the first time and after the matcher changed) instead of matching
     * every customer a second time */
    if (rc == CLI_OK && fflush(stdout) == 0)
        rc = review_scan(ctx, 0, 1);
    return rc;
}

/* ---- reading the rows on all cores ---------------------------------------- */

/* The rows of a file go through in parts: the reader thread copies PART
 * records (csv_read is sequential) and turns each into the values of a
 * batch row (layout_values; no customer is made) with its key and name,
 * while the part before is added: both cores stay busy through the
 * batch's serial steps, which left one core waiting when the layout ran
 * on all cores between them.  patron_batch_add_rows_until() checks and
 * normalises the rows where they lie, on all cores, and numbers them in
 * row order, stopping after the first row it refuses for a value; and the
 * rows' ids, keys, names and refusals are then taken in row order.  That
 * row may take part without one value
 * (import's one-value-less retry): it and every row after it are checked
 * by the workers first (patron_batch_check_row: "precheck"), so that the
 * retry happens before the batch sees the row and it keeps its place.
 * Until then each value is checked once, by the batch.  The outcome is
 * that of adding the rows one by one, whatever the number of threads. */
#define PART 8192
/* The first part is smaller: the cores wait for it (read and checked on
 * the reader alone).  Its rows are normalised on one thread anyway (fewer
 * than the batch's PER_THREAD_MIN), while the reader reads the next part:
 * 512 rows are ~2 ms of waiting where 2048 were ~10 ms. */
#define FIRST_PART 512

typedef struct drow {
    unsigned long line;
    size_t off;              /* its fields in the part's bytes, n_cols NUL-terminated strings */
    const patron_batch_value *vals; /* the values to add (after the workers; in their arena) */
    size_t n_vals;
    size_t retried;          /* 0, or the blanked column + 1 it takes part without */
    int as_given;            /* its birth date is no real date, compared as given */
    int unchecked;           /* vals are the layout's, not checked (the batch checks them) */
    int malformed;           /* refused by the reader (text says why): never checked */
    int named;               /* text holds "key\0name\0" of vals (the key "" when its column is empty) */
    int plain_line;          /* its fields hold no byte that asks for quotes in the pairs' CSV (dedupe_named) */
    patron_status st;        /* of the layout / the checks; PATRON_OK: vals are to be added */
    size_t ai;               /* its place in the part's patron_batch_add_rows() */
    int done;                /* added: text holds "key\0name\0", the key never "" */
    int64_t id;              /* (done) its id in the batch */
    /* why it is refused, or (done) its key and name: in small, or (longer
     * than most) a copy on the heap; at most TEXT_MAX bytes.  (Inline at
     * its full size the rows' texts were most of the memory of a part,
     * and touched on every page.) */
    char *text;
    size_t tlen; /* the bytes of text, its NULs counted (drow_text's n) */
    size_t klen;     /* (named) the key's length in text */
    unsigned plain;  /* (named) bit 1: the key is plain, bit 2: the name (idmap_put_text) */
    char small[88];
} drow;

#define TEXT_MAX 720

/* The row's text the n bytes at t (NULs inside, ending with one): in its
 * small buffer, or a copy on the heap; -1 out of memory (the text then
 * is ""). */
static int drow_text(drow *r, const char *t, size_t n)
{
    if (r->text && r->text != r->small)
        free(r->text);
    r->text = r->small;
    r->tlen = 1;
    if (n > sizeof r->small) {
        char *h = malloc(n);
        if (!h) {
            r->small[0] = '\0';
            return -1;
        }
        r->text = h;
    }
    memcpy(r->text, t, n);
    r->tlen = n;
    return 0;
}

/* drow_text of a NUL-terminated message. */
static int drow_msg(drow *r, const char *msg)
{
    return drow_text(r, msg, strlen(msg) + 1);
}

/* Memory for the values of a part's rows: blocks that are kept and used
 * again from the start for the next part; one arena per worker, of two
 * pools: the rows' arrays of values, and the strings layout_values()
 * makes (a street split from its number, a date).  (In one pool, the
 * array of a row was laid out on the stack and copied: the strings made
 * meanwhile lay after it.  Alone in its pool, it is laid out in place,
 * with room for the most values a row may have, and the room it did not
 * use given back: pool_shrink.) */
typedef struct ablock {
    struct ablock *next;
    size_t used, cap;
    max_align_t data[];
} ablock;

typedef struct pool {
    ablock *first, *cur;
} pool;

typedef struct arena {
    pool vals, strs;
} arena;

static size_t pool_round(size_t n)
{
    return (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
}

static void *pool_alloc(pool *a, size_t n)
{
    void *r;
    n = pool_round(n);
    while (a->cur && a->cur->used + n > a->cur->cap && a->cur->next) {
        a->cur = a->cur->next;
        a->cur->used = 0;
    }
    if (!a->cur || a->cur->used + n > a->cur->cap) {
        size_t cap = n > ((size_t)1 << 16) ? n : (size_t)1 << 16;
        ablock *k = malloc(sizeof *k + cap);
        if (!k)
            return NULL;
        k->used = 0;
        k->cap = cap;
        if (a->cur) {
            k->next = a->cur->next;
            a->cur->next = k;
        } else {
            k->next = a->first;
            a->first = k;
        }
        a->cur = k;
    }
    r = (char *)a->cur->data + a->cur->used;
    a->cur->used += n;
    return r;
}

/* The last allocation of a, at r, cut to n bytes (no more than it had). */
static void pool_shrink(pool *a, void *r, size_t n)
{
    a->cur->used = (size_t)((char *)r - (char *)a->cur->data) + pool_round(n);
}

/* (a layout_alloc_fn: the strings of layout_values()) */
static void *arena_alloc(void *payload, size_t n)
{
    return pool_alloc(&((arena *)payload)->strs, n);
}

static void pool_reset(pool *a)
{
    a->cur = a->first;
    if (a->cur)
        a->cur->used = 0;
}

static void arena_reset(arena *a)
{
    pool_reset(&a->vals);
    pool_reset(&a->strs);
}

static void pool_free(pool *a)
{
    while (a->first) {
        ablock *k = a->first;
        a->first = k->next;
        free(k);
    }
    a->cur = NULL;
}

static void arena_free(arena *a)
{
    pool_free(&a->vals);
    pool_free(&a->strs);
}

#define DTHREADS 8

typedef struct dpart {
    const layout *l;
    size_t n_cols;
    const patron_batch *batch; /* its checks (read only by the workers, the reader) */
    arena ar[DTHREADS];        /* the part's values: the reader's (0), the workers' */
    drow *rows;              /* PART rows, malloc'd: only the first `made` are set */
    size_t n;
    size_t made;             /* rows ever read into (their text is theirs to free) */
    char *bytes;
    size_t len, cap;
    size_t *flen;            /* PART * n_cols: the lengths of the rows' fields */
    const size_t *name_col;  /* the columns of first name, last name, company (fields_name) */
    size_t n_name_col;
    int comma;               /* the file's separator is ',' (as the pairs') */
    int precheck;            /* check each row before the batch does (see cmd_dedupe) */
    int checked;             /* the reader checked the rows (in precheck mode or not) */
    int check_oom;           /*  ... and ran out of memory */
    int last;                /* the file ends after these rows */
    int read_errno;          /* (last) 0, or the read failed here: errno */
    unsigned long read_line; /*        and its line */
    int oom;                 /* (last) out of memory while reading */
} dpart;

/* Read the next rows of the file into p (at most `most`, <= PART): their
 * fields copied and their lengths kept, the malformed ones told.  p->last when the file ends (or
 * reading failed: read_errno, oom). */
static void dedupe_read_part(dpart *p, csv_reader *r, size_t most)
{
    csv_record rec;
    char err[512];
    const char *bad;
    p->n = 0;
    p->len = 0;
    p->last = 0;
    while (p->n < most) {
        drow *d = &p->rows[p->n];
        int k = csv_read(r, &rec);
        if (k < 0) {
            p->read_errno = errno;
            p->read_line = csv_reader_line(r);
            p->last = 1;
            return;
        }
        if (k == 0) {
            p->last = 1;
            return;
        }
        /* a row never read into is written first, not read: its page is
         * then taken once, fresh (calloc'd, it was mapped to the shared
         * zero page by the read in drow_text and copied at the first
         * write, which flushed the TLB of the other threads' cores) */
        if (p->n >= p->made) {
            d->text = NULL;
            p->made = p->n + 1;
        }
        drow_text(d, "", 1); /* (no memory taken: cannot fail) */
        memset(d, 0, offsetof(drow, text));
        d->line = rec.line;
        /* a line without quotes, split at commas: no field holds a comma,
         * a quote, a CR or a LF, the bytes the pairs' CSV quotes */
        d->plain_line = rec.plain && p->comma;
        /* the checks of import (one function): a row with a NUL byte in a
         * field is refused, never read as the value cut at the NUL */
        if ((bad = cli_csv_malformed(&rec, p->n_cols, err, sizeof err)) != NULL) {
            char msg[TEXT_MAX];
            d->st = PATRON_E_INVALID;
            d->malformed = 1;
            snprintf(msg, sizeof msg, "%s", bad);
            if (drow_msg(d, msg) < 0) {
                p->oom = 1;
                p->last = 1;
                return;
            }
        } else {
            /* the reader's fields lie one after the other (csv_record):
             * copied at once */
            size_t need = (size_t)(rec.fields[rec.n - 1] + rec.lens[rec.n - 1] + 1 - rec.fields[0]);
            if (p->len + need > p->cap) {
                size_t cap = p->cap ? p->cap : 1 << 20;
                char *nb;
                while (cap < p->len + need)
                    cap *= 2;
                if (!(nb = realloc(p->bytes, cap))) {
                    p->oom = 1;
                    p->last = 1;
                    return;
                }
                p->bytes = nb;
                p->cap = cap;
            }
            d->off = p->len;
            memcpy(p->bytes + p->len, rec.fields[0], need);
            p->len += need;
            /* (no NUL inside: the lengths hold; rec.n is n_cols) */
            memcpy(p->flen + p->n * p->n_cols, rec.lens, rec.n * sizeof *rec.lens);
        }
        p->n++;
    }
}

/* The reader: a thread that reads the next part of the file while the
 * rows of the one before are checked, normalised and added (both cores
 * busy); NPARTS parts, taken in turn: the reader is two parts ahead, so
 * that it still has one to read while the rows of the part at hand are
 * claimed in order (one thread; with two parts the reader had read its
 * one and the second core idled).  Without the thread (it could not
 * start) the parts are read in turn on the calling thread. */
#define NPARTS 3
typedef struct dreader {
    csv_reader *r;
    dpart parts[NPARTS];
    int full[NPARTS];  /* the part is read and not yet taken back */
    int stop;     /* the reader is to end (the rows are no longer wanted) */
    int precheck; /* the parts are checked in precheck mode from now on */
    int first_part; /* (the reader) the first part is read */
    int threaded; /* the thread runs */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} dreader;

static void dedupe_check_part(dpart *p);

static void *dedupe_reader(void *arg)
{
    dreader *d = arg;
    for (int at = 0;; at = (at + 1) % NPARTS) {
        int last, stop;
        dpart *p = &d->parts[at];
        pthread_mutex_lock(&d->mu);
        while (d->full[at] && !d->stop)
            pthread_cond_wait(&d->cv, &d->mu);
        if (d->stop) {
            pthread_mutex_unlock(&d->mu);
            return NULL;
        }
        pthread_mutex_unlock(&d->mu);
        dedupe_read_part(p, d->r, d->first_part ? PART : FIRST_PART);
        d->first_part = 1;
        last = p->last;
        pthread_mutex_lock(&d->mu);
        p->precheck = d->precheck;
        stop = d->stop;
        pthread_mutex_unlock(&d->mu);
        p->checked = 0;
        if (!stop && !p->read_errno && !p->oom)
            dedupe_check_part(p);
        pthread_mutex_lock(&d->mu);
        d->full[at] = 1;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        if (last)
            return NULL;
    }
}

/* The next part read (at: 0, 1, 2, 0, ...), its rows checked unless
 * !checked; given back with dreader_done. */
static dpart *dreader_next(dreader *d, int at)
{
    if (!d->threaded) {
        d->parts[at].checked = 0;
        dedupe_read_part(&d->parts[at], d->r, PART);
        return &d->parts[at];
    }
    pthread_mutex_lock(&d->mu);
    while (!d->full[at])
        pthread_cond_wait(&d->cv, &d->mu);
    pthread_mutex_unlock(&d->mu);
    return &d->parts[at];
}

static void dreader_done(dreader *d, int at)
{
    if (!d->threaded)
        return;
    pthread_mutex_lock(&d->mu);
    d->full[at] = 0;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* The thread ended (told to stop when it is still reading), the parts
 * freed. */
static void dreader_end(dreader *d)
{
    if (d->threaded) {
        pthread_mutex_lock(&d->mu);
        d->stop = 1;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->th, NULL);
        d->threaded = 0;
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
    }
    for (int k = 0; k < NPARTS; k++) {
        dpart *p = &d->parts[k];
        for (int t = 0; t < DTHREADS; t++)
            arena_free(&p->ar[t]);
        for (size_t i = 0; p->rows && i < p->made; i++)
            if (p->rows[i].text && p->rows[i].text != p->rows[i].small)
                free(p->rows[i].text);
        free(p->rows);
        free(p->bytes);
        free(p->flen);
        p->flen = NULL;
        p->rows = NULL;
        p->bytes = NULL;
        p->n = p->made = 0;
    }
}

typedef struct dwork {
    dpart *p;
    arena *ar;
    atomic_size_t *next; /* the first row of the next piece to take */
    int oom;
} dwork;

/* The parts of a row's name as review_name() takes them: the last value
 * of first name, last name, company (NULL when it has none). */
typedef struct dname {
    const char *first, *last, *company;
    size_t lf, ll, lc;
} dname;

static void dname_set(dname *nm, int field, const char *x, size_t len)
{
    if (field == PATRON_F_FIRST_NAME) {
        nm->first = x;
        nm->lf = len;
    } else if (field == PATRON_F_LAST_NAME) {
        nm->last = x;
        nm->ll = len;
    } else if (field == PATRON_F_COMPANY) {
        nm->company = x;
        nm->lc = len;
    }
}

/* The name's parts from the values of a batch row (a field's value is a
 * string of its length). */
static void vals_name(const patron_batch_value *v, size_t n, dname *nm)
{
    memset(nm, 0, sizeof *nm);
    for (size_t i = 0; i < n; i++)
        dname_set(nm, v[i].field, v[i].len ? v[i].value : NULL, v[i].len);
}

/* The name's parts from the row's fields v (lengths len), the column
 * blank - 1 left out (0: none), as vals_name() finds them in the values
 * layout_values() makes of those fields: a name column's value is its
 * field, as it is, in column order, an empty one left out.  Only the name
 * columns (p->name_col) are looked at: the values of every row were most
 * of naming it, and this runs for every row of the file. */
static void fields_name(const dpart *p, const char *const *v, const size_t *len, size_t blank, dname *nm)
{
    memset(nm, 0, sizeof *nm);
    for (size_t i = 0; i < p->n_name_col; i++) {
        size_t col = p->name_col[i];
        if (len[col] && col + 1 != blank)
            dname_set(nm, p->l->cols[col].id, v[col], len[col]);
    }
}

/* Row r named: its text "key\0name\0" made, the key lk bytes long; its
 * key's and name's plainness noted (here, on the reader thread, for the
 * lines of the pairs: ID_PLAIN). */
static void dedupe_named(drow *r, size_t lk)
{
    const char *name = r->text + lk + 1;
    size_t ln = r->tlen - lk - 2;
    r->klen = lk;
    if (r->plain_line) /* (the key a field, the name of fields and a space: only a formula asks) */
        r->plain = 1u | (unsigned)!csv_is_formula(name, ln) << 1;
    else
        r->plain = (unsigned)csv_field_plain(',', r->text, lk, 0) | (unsigned)csv_field_plain(',', name, ln, 1) << 1;
    r->named = 1;
}

/* A row to add, its name's parts nm: its key (its 'id', "" when it has
 * none) and name into its text ("key\0name\0"; r->named).  -1: out of
 * memory. */
static int dedupe_name(const dpart *p, drow *r, const dname *nm)
{
    const char *key = "";
    char text[TEXT_MAX];
    size_t lk = 0, ln;
    if (p->l->external >= 0) {
        const char *at = p->bytes + r->off;
        const size_t *len = p->flen + (size_t)(r - p->rows) * p->n_cols;
        for (int col = 0; col < p->l->external; col++)
            at += len[col] + 1;
        key = at;
        lk = len[p->l->external];
    }
    if (lk > sizeof text - 400 - 1)
        return 0; /* (cannot be: a key is a field of at most 255 bytes) */
    if (r->text == r->small && lk + 2 < sizeof r->small) {
        /* made in its small buffer where it fits, as most do (not made
         * on the stack and copied); a name that may have been cut there
         * is made again below */
        size_t room = sizeof r->small - lk - 1;
        ln = review_name_len(nm->first, nm->lf, nm->last, nm->ll, nm->company, nm->lc, "", r->small + lk + 1, room);
        if (ln < room - 1) {
            memcpy(r->small, key, lk + 1);
            r->tlen = lk + ln + 2;
            dedupe_named(r, lk);
            return 0;
        }
    }
    /* the name (at most 399 bytes) right after the key */
    memcpy(text, key, lk + 1);
    ln = review_name_len(nm->first, nm->lf, nm->last, nm->ll, nm->company, nm->lc, "", text + lk + 1, 400);
    if (drow_text(r, text, lk + ln + 2) < 0)
        return -1;
    dedupe_named(r, lk);
    return 0;
}

/* A named row the batch took (res: its result): its id, and for a row
 * without a key (a customer without an external reference, as in the
 * file 'patron export' writes) its number as its key.  -1: out of
 * memory. */
static int dedupe_take(drow *r, const patron_batch_row *res)
{
    if (!r->named)
        return 0;
    if (!r->text[0]) {
        char line[40], text[TEXT_MAX];
        const char *key = res->number;
        size_t lk, ln = r->tlen - 2; /* (named: "\0name\0") */
        if (!key[0]) {
            snprintf(line, sizeof line, "line %lu", r->line);
            key = line;
        }
        lk = strlen(key);
        if (lk + ln + 2 > sizeof text)
            return 0; /* (cannot be: a number is at most 64 bytes, a name 399) */
        memcpy(text, key, lk + 1);
        memcpy(text + lk + 1, r->text + 1, ln + 1);
        if (drow_text(r, text, lk + ln + 2) < 0)
            return -1;
        r->klen = lk;
        r->plain = (r->plain & 2) | (unsigned)csv_field_plain(',', key, lk, 0);
    }
    r->id = res->id;
    r->done = 1;
    return 0;
}

/* dedupe_name, then dedupe_take.  -1: out of memory. */
static int dedupe_done(const dpart *p, drow *r, const patron_batch_value *vals, size_t n_vals,
                       const patron_batch_row *res)
{
    dname nm;
    r->named = 0;
    vals_name(vals, n_vals, &nm);
    if (dedupe_name(p, r, &nm) < 0)
        return -1;
    return dedupe_take(r, res);
}

/* The fields of row r (pointers into the part's bytes) into v. */
static void drow_fields(const dpart *p, const drow *r, const char **v)
{
    const char *at = p->bytes + r->off;
    const size_t *len = p->flen + (size_t)(r - p->rows) * p->n_cols;
    for (size_t i = 0; i < p->n_cols; i++) {
        v[i] = at;
        at += len[i] + 1;
    }
}

/* The row's fields v as the values of a batch row (their memory from ar),
 * checked as import checks them (layout_apply, then the library's checks
 * of a customer): PATRON_OK, or why the row is refused (in text).  With
 * as_given, a birth date that is the row's only refused value and has the
 * shape of a date is passed as PATRON_BATCH_BIRTH_AS_GIVEN (*as_given 1).
 * With unchecked, values the layout makes are returned without the
 * library's checks (*unchecked 1): the batch makes them. */
static patron_status row_values(const dpart *p, arena *ar, const char *const *v, const size_t *lens,
                                const patron_batch_value **vals_out,
                                size_t *n_out, char *text, size_t text_size, int *as_given, int *unchecked)
{
    patron_batch_row row;
    patron_batch_value *vals;
    size_t cap = 2 * p->n_cols + 8, before = 0;
    long rc;
    patron_status st;
    for (;;) {
        /* laid out in the arena's pool of values, where nothing else is
         * taken meanwhile: the room not used is given back (room for
         * every column twice, kept, was most of a part's memory) */
        if (!(vals = pool_alloc(&ar->vals, cap * sizeof *vals)))
            return PATRON_E_NOMEM;
        rc = layout_values(p->l, v, lens, vals, cap, arena_alloc, ar, &before, text, text_size);
        if (rc != -2)
            break;
        pool_shrink(&ar->vals, vals, 0);
        cap *= 4; /* (many tags) */
    }
    if (rc == -3)
        return PATRON_E_NOMEM;
    {
        size_t made = rc >= 0 ? (size_t)rc : before;
        pool_shrink(&ar->vals, vals, (made ? made : 1) * sizeof *vals);
    }
    if (unchecked && rc >= 0) {
        *unchecked = 1;
        *vals_out = vals;
        *n_out = (size_t)rc;
        return PATRON_OK;
    }
    /* (set here, where it is checked: not for the rows left unchecked) */
    row = (patron_batch_row)PATRON_BATCH_ROW_INIT;
    row.values = vals;
    row.n_values = rc == -1 ? before : (size_t)rc;
    st = patron_batch_check_row(p->batch, &row);
    if (as_given && rc != -1 && st == PATRON_E_INVALID && row.refused &&
        vals[row.refused - 1].field == PATRON_F_BIRTH_DATE) {
        /* a birth date that is no real date (1902-78-03, a typo of a real
         * one) is compared as given when it is the row's only refusal */
        patron_batch_row again = row;
        vals[row.refused - 1].field = PATRON_BATCH_BIRTH_AS_GIVEN;
        if (patron_batch_check_row(p->batch, &again) == PATRON_OK) {
            *as_given = 1;
            st = PATRON_OK;
        } else {
            vals[row.refused - 1].field = PATRON_F_BIRTH_DATE;
        }
    }
    if (st == PATRON_E_NOMEM)
        return st;
    if (rc == -1 && !(st != PATRON_OK && row.refused))
        return PATRON_E_INVALID; /* the layout's own refusal, in text */
    if (st != PATRON_OK)
        snprintf(text, text_size, "%s", row.errmsg);
    *vals_out = vals;
    *n_out = row.n_values;
    return st;
}

/* Rows are taken DPIECE at a time by whichever worker is free (the reader
 * thread shares the cores: a fixed half per worker left the other one
 * waiting for the worker it slowed down). */
#define DPIECE 64

static void dedupe_check(dwork *w, const char **v, size_t from, size_t to);

/* The rows as import reads them: their values (and key and name), or why
 * they are refused (PATRON_E_INVALID with one value too many refused). */
static void *dedupe_work(void *arg)
{
    dwork *w = arg;
    dpart *p = w->p;
    const char **v = malloc((p->n_cols ? p->n_cols : 1) * sizeof *v);
    if (!v) {
        w->oom = 1;
        return NULL;
    }
    for (;;) {
        size_t from = atomic_fetch_add(w->next, DPIECE), to;
        if (from >= p->n)
            break;
        to = p->n - from < DPIECE ? p->n : from + DPIECE;
        dedupe_check(w, v, from, to);
    }
    free(v);
    return NULL;
}

/* Rows [from, to) of the part checked: their values, or why refused. */
static void dedupe_check(dwork *w, const char **v, size_t from, size_t to)
{
    dpart *p = w->p;
    for (size_t k = from; k < to; k++) {
        drow *r = &p->rows[k];
        patron_status st;
        char text[TEXT_MAX];
        r->vals = NULL;
        r->n_vals = 0;
        if (r->malformed) /* told by the reader */
            continue;
        drow_fields(p, r, v);
        r->as_given = 0;
        r->unchecked = 0;
        r->retried = 0;
        r->named = 0;
        text[0] = '\0';
        /* (the lengths of the fields as read: no strlen of each value) */
        st = row_values(p, w->ar, v, p->flen + k * p->n_cols, &r->vals, &r->n_vals, text, sizeof text, &r->as_given,
                        p->precheck ? NULL : &r->unchecked);
        if (st == PATRON_E_INVALID) {
            /* Finding duplicates is reading, not storing: a row with one
             * value the library refuses (a birth date "1984-19-05") still
             * takes part without that value, and the count is reported. */
            for (size_t col = 0; col < p->n_cols && st == PATRON_E_INVALID; col++) {
                const char *saved;
                char ignore[8];
                if (!v[col][0] || (p->l->external >= 0 && col == (size_t)p->l->external))
                    continue;
                saved = v[col];
                v[col] = "";
                st = row_values(p, w->ar, v, NULL, &r->vals, &r->n_vals, ignore, sizeof ignore, NULL, NULL);
                if (st == PATRON_OK)
                    r->retried = col + 1;
                else if (st != PATRON_E_NOMEM)
                    st = PATRON_E_INVALID;
                v[col] = saved;
            }
            if (st == PATRON_E_INVALID)
                snprintf(text, sizeof text, "more than one value refused");
        }
        if (st == PATRON_OK) {
            dname nm;
            fields_name(p, v, p->flen + k * p->n_cols, r->retried, &nm);
            if (dedupe_name(p, r, &nm) < 0)
                st = PATRON_E_NOMEM;
        } else if (drow_msg(r, text) < 0) {
            st = PATRON_E_NOMEM;
        }
        if (st == PATRON_E_NOMEM)
            w->oom = 1;
        r->st = st;
    }
}

static int dedupe_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > DTHREADS ? DTHREADS : (int)n;
}

/* The part's rows checked on this thread (the reader), into its first
 * arena. */
static void dedupe_check_part(dpart *p)
{
    dwork w;
    atomic_size_t next;
    atomic_init(&next, 0);
    memset(&w, 0, sizeof w);
    w.p = p;
    w.ar = &p->ar[0];
    w.next = &next;
    arena_reset(w.ar);
    dedupe_work(&w);
    p->check_oom = w.oom;
    p->checked = 1;
}

/* The workers over the part: its rows checked on all cores; -1 when out
 * of memory. */
static int dedupe_part(dpart *p)
{
    dwork w[DTHREADS];
    pthread_t th[DTHREADS];
    int nt = dedupe_threads(), started = 0, oom = 0;
    atomic_size_t next;
    atomic_init(&next, 0);
    if (p->n < 2048) /* (a small part: no thread) */
        nt = 1;
    for (int t = 0; t < nt; t++) {
        w[t].p = p;
        w[t].ar = &p->ar[t];
        w[t].next = &next;
        w[t].oom = 0;
        arena_reset(w[t].ar);
    }
    for (int t = 1; t < nt; t++) {
        if (pthread_create(&th[t], NULL, dedupe_work, &w[t]) != 0)
            break;
        started = t;
    }
    dedupe_work(&w[0]);
    for (int t = 1; t <= started; t++)
        pthread_join(th[t], NULL);
    for (int t = started + 1; t < nt; t++)
        dedupe_work(&w[t]);
    for (int t = 0; t < nt; t++)
        oom |= w[t].oom;
    return oom ? -1 : 0;
}

/* The part's rows from the one whose batch row is brows[from] on, taken
 * from the layout unchecked: checked as in precheck mode (dedupe_check),
 * on this thread; their ai is set again by the caller.  -1 when out of
 * memory. */
static int dedupe_recheck(dpart *p, arena *ar, size_t from)
{
    dwork w;
    const char **v = malloc((p->n_cols ? p->n_cols : 1) * sizeof *v);
    if (!v)
        return -1;
    memset(&w, 0, sizeof w);
    w.p = p;
    w.ar = ar;
    p->precheck = 1;
    for (size_t i = 0; i < p->n; i++) {
        drow *r = &p->rows[i];
        if (r->st == PATRON_OK && r->unchecked && r->ai >= from) {
            r->unchecked = 0;
            dedupe_check(&w, v, i, i + 1);
        }
    }
    free(v);
    return w.oom ? -1 : 0;
}

/* A row taken with its birth date as given: counted, the first one's
 * date kept as the example. */
static void note_as_given(const drow *r, size_t *n, char *eg, size_t egsz)
{
    for (size_t i = 0; i < r->n_vals; i++)
        if (r->vals[i].field == PATRON_BATCH_BIRTH_AS_GIVEN) {
            if (!(*n)++)
                snprintf(eg, egsz, "%.20s", r->vals[i].value);
            return;
        }
}

/* A retried row the batch refused (a value now unique no more): go on as
 * import does, with the columns after the one blanked, one add at a time.
 * PATRON_OK with the row done (its key and name in its text), else the
 * row's refusal. */
static patron_status dedupe_retry(dpart *p, drow *r, size_t from, patron_batch *batch, arena *ar)
{
    const char **v = malloc((p->n_cols ? p->n_cols : 1) * sizeof *v);
    patron_status st = PATRON_E_INVALID;
    char ignore[8];
    if (!v)
        return PATRON_E_NOMEM;
    drow_fields(p, r, v);
    for (size_t col = from; col < p->n_cols && st == PATRON_E_INVALID; col++) {
        const char *saved;
        const patron_batch_value *vals = NULL;
        size_t n_vals = 0;
        patron_batch_row row = PATRON_BATCH_ROW_INIT;
        long rc;
        if (!v[col][0] || (p->l->external >= 0 && col == (size_t)p->l->external))
            continue;
        saved = v[col];
        v[col] = "";
        arena_reset(ar);
        if ((rc = row_values(p, ar, v, NULL, &vals, &n_vals, ignore, sizeof ignore, NULL, NULL)) == PATRON_E_NOMEM) {
            st = PATRON_E_NOMEM;
            break;
        }
        /* (a row the checks refuse is refused by the batch the same way) */
        if (rc == PATRON_OK) {
            row.values = vals;
            row.n_values = n_vals;
            if (patron_batch_add_rows(batch, &row, 1) == PATRON_OK && row.status == PATRON_OK) {
                st = PATRON_OK;
                if (dedupe_done(p, r, vals, n_vals, &row) < 0)
                    st = PATRON_E_NOMEM;
            }
        }
        v[col] = saved;
    }
    free(v);
    return st;
}

static int cmd_dedupe(cli *ctx, int argc, char **argv)
{
    match_args args = { PATRON_MATCH_FIELDS, 0, NULL, { 0, 0 }, { NULL, 0 }, NULL };
    const char **ops;
    int k, rc = CLI_OK, mode, number_col = -1;
    const char *path;
    cli_csv in;
    layout l;
    idmap m;
    skipped sk;
    size_t rows = 0, ignored = 0, given = 0;
    /* Rows are checked by the batch only (patron_batch_add_rows_until);
     * after the first row it refuses for a value, each row is checked here
     * before it is added (precheck), so that a row that takes part without
     * a value keeps its place: its id in row order, as import gives it. */
    int precheck = 0;
    char given_eg[24] = "";
    patron_status st;
    patron_batch *batch = NULL;
    cli_progress prog;
    dreader rd;
    patron_batch_row *brows = NULL;
    size_t *name_col = NULL, n_name_col = 0; /* (dpart's) */
    arena retry_ar; /* for retries (the parts have their own) */
    static char outbuf[1 << 16];

    memset(&l, 0, sizeof l);
    memset(&rd, 0, sizeof rd);
    memset(&m, 0, sizeof m);
    memset(&sk, 0, sizeof sk);
    memset(&retry_ar, 0, sizeof retry_ar);
    size_t n_ops = 0;

    if ((rc = cli_parse(ctx, argc, argv, &args, &ops, &n_ops)) >= 0)
        return rc;
    if (n_ops == 0)
        return dedupe_db(ctx, &args);
    path = ops[0];
    mode = args.mode;
    if ((rc = cli_csv_open(ctx, &in, path, 1, &args.csv)) != CLI_OK)
        return rc;
    if (args.identifier && !strncmp(args.identifier, "prop.", 5))
        args.identifier += 5;
    {
        /* --identifier NAME names its column: a plain column NAME (as
         * FEBRL's soc_sec_id) is read as prop.NAME without a --map.  A --map
         * for it still wins (it comes later in the list); with a --map-file
         * the file says what the columns are. */
        cli_list maps = args.maps;
        const char **v = NULL;
        char *implicit = NULL;
        size_t i, have = 0;
        for (i = 0; args.identifier && !args.map_file && i < in.n_header; i++)
            if (!strcmp(in.header[i], args.identifier))
                have = 1;
        if (have) {
            size_t len = strlen(args.identifier);
            implicit = malloc(2 * len + 7);
            v = malloc((args.maps.n + 1) * sizeof *v);
            if (!implicit || !v) {
                free(implicit);
                free(v);
                rc = cli_fail(ctx, "out of memory");
                goto out;
            }
            snprintf(implicit, 2 * len + 7, "%s=prop.%s", args.identifier, args.identifier);
            v[0] = implicit;
            for (i = 0; i < args.maps.n; i++)
                v[i + 1] = args.maps.v[i];
            maps.v = v;
            maps.n = args.maps.n + 1;
        }
        rc = cli_csv_layout(ctx, &in, &maps, args.map_file, &l);
        free(v);
        free(implicit);
        if (rc != CLI_OK)
            goto out;
    }
    for (k = 0; k < (int)l.n; k++)
        if (l.cols[k].kind == COL_FIELD && l.cols[k].id == PATRON_F_NUMBER)
            number_col = k;
    if (l.external < 0 && number_col < 0) {
        rc = cli_fail(ctx, "%s: the header has no 'id' or 'number' column: the pairs name rows by them", path);
        goto out;
    }
    if (args.identifier) {
        size_t col;
        /* the property column of that key (prop.NAME, or mapped) */
        for (col = 0; col < l.n && !(l.cols[col].kind == COL_PROPERTY && !strcmp(l.cols[col].key, args.identifier));
             col++)
            ;
        if (col == l.n) {
            rc = cli_fail(ctx, "%s: --identifier %s: the header has no column prop.%s (or one mapped to it)", path,
                         args.identifier, args.identifier);
            goto out;
        }
    }
    /* A private memory store for this run: nothing is written anywhere. */
    st = patron_db_open_memory(&ctx->db, NULL);
    if (st != PATRON_OK) {
        ctx->db = NULL;
        rc = cli_fail(ctx, "cannot open a memory store: %s", patron_status_message(st));
        goto out;
    }
    if (args.identifier && (st = patron_db_match_config_identifier_add(ctx->db, args.identifier)) != PATRON_OK) {
        rc = cli_fail_db(ctx, st, "--identifier");
        goto out;
    }
    /* The rows go to a batch, checked as import checks them, but never
     * stored: only their normalised forms and keys are kept.  The memory
     * store above only holds the configuration (--identifier). */
    if ((st = patron_batch_new(&batch, ctx->db)) != PATRON_OK) {
        rc = cli_fail_db(ctx, st, "dedupe");
        goto out;
    }
    cli_progress_start(&prog, "dedupe: reading", "rows", 0);
    rd.r = in.r;
    for (k = 0; k < NPARTS; k++) {
        rd.parts[k].l = &l;
        rd.parts[k].n_cols = l.n;
        rd.parts[k].comma = csv_reader_sep(in.r) == ',';
        rd.parts[k].batch = batch;
        if (!(rd.parts[k].rows = malloc(PART * sizeof *rd.parts[k].rows)) ||
            !(rd.parts[k].flen = malloc(PART * (l.n ? l.n : 1) * sizeof *rd.parts[k].flen))) {
            rc = cli_fail(ctx, "out of memory");
            goto out;
        }
    }
    brows = malloc(PART * sizeof *brows);
    name_col = malloc((l.n ? l.n : 1) * sizeof *name_col);
    if (!brows || !name_col) {
        rc = cli_fail(ctx, "out of memory");
        goto out;
    }
    for (size_t col = 0; col < l.n; col++)
        if (l.cols[col].kind == COL_FIELD && (l.cols[col].id == PATRON_F_FIRST_NAME ||
                                              l.cols[col].id == PATRON_F_LAST_NAME ||
                                              l.cols[col].id == PATRON_F_COMPANY))
            name_col[n_name_col++] = col;
    for (k = 0; k < NPARTS; k++) {
        rd.parts[k].name_col = name_col;
        rd.parts[k].n_name_col = n_name_col;
    }
    if (pthread_mutex_init(&rd.mu, NULL) == 0) {
        if (pthread_cond_init(&rd.cv, NULL) == 0) {
            rd.threaded = pthread_create(&rd.th, NULL, dedupe_reader, &rd) == 0;
            if (!rd.threaded)
                pthread_cond_destroy(&rd.cv);
        }
        if (!rd.threaded)
            pthread_mutex_destroy(&rd.mu);
    }
    for (int end = 0, at = 0; !end; at = (at + 1) % NPARTS) {
        size_t n_add = 0;
        dpart *pp = dreader_next(&rd, at);
        end = pp->last;
        if (pp->read_errno) {
            rc = cli_fail(ctx, "cannot read '%s' at line %lu: %s", path, pp->read_line, strerror(pp->read_errno));
            goto out;
        }
        if (pp->oom) {
            rc = cli_fail(ctx, "out of memory");
            goto out;
        }
        rows += pp->n;
        cli_progress_update(&prog, 0, rows);
        if (pp->checked && pp->check_oom) {
            rc = cli_fail(ctx, "out of memory");
            goto out;
        }
        if (!pp->checked || (precheck && !pp->precheck)) {
            /* (no reader thread, or checked before precheck mode began:
             * checked again, as it) */
            pp->precheck = precheck;
            if (dedupe_part(pp) < 0) {
                rc = cli_fail(ctx, "out of memory");
                goto out;
            }
        }
        for (size_t i = 0; i < pp->n; i++)
            if (pp->rows[i].st == PATRON_OK) {
                patron_batch_row *b = &brows[n_add];
                b->version = PATRON_BATCH_ROW_VERSION;
                b->values = pp->rows[i].vals;
                b->n_values = pp->rows[i].n_vals;
                pp->rows[i].ai = n_add++;
            }
        if (precheck) {
            st = patron_batch_add_rows(batch, brows, n_add);
        } else {
            size_t taken = 0;
            st = patron_batch_add_rows_until(batch, &taken, brows, n_add, PATRON_BATCH_UNTIL_INVALID);
            if (st == PATRON_OK && taken < n_add) {
                /* brows[taken - 1] was refused for a value: it may take
                 * part without one (import's retry), so it and the rows
                 * after it are checked here first, and from now on every
                 * row is (a file with one such row likely has more) */
                precheck = 1;
                if (rd.threaded) {
                    pthread_mutex_lock(&rd.mu);
                    rd.precheck = 1;
                    pthread_mutex_unlock(&rd.mu);
                }
                if (dedupe_recheck(pp, &pp->ar[0], taken - 1) < 0) {
                    rc = cli_fail(ctx, "out of memory");
                    goto out;
                }
                n_add = taken - 1;
                for (size_t i = 0; i < pp->n; i++)
                    if (pp->rows[i].st == PATRON_OK && pp->rows[i].ai >= taken - 1 && !pp->rows[i].unchecked) {
                        patron_batch_row *b = &brows[n_add];
                        b->version = PATRON_BATCH_ROW_VERSION;
                        b->values = pp->rows[i].vals;
                        b->n_values = pp->rows[i].n_vals;
                        pp->rows[i].ai = n_add++;
                    }
                st = patron_batch_add_rows(batch, brows + (taken - 1), n_add - (taken - 1));
            }
        }
        if (st != PATRON_OK) {
            rc = cli_fail(ctx, "dedupe: %s", patron_batch_errmsg(batch));
            goto out;
        }
        /* in row order: ids, keys and names of the rows taken, the refusals */
        for (size_t i = 0; i < pp->n; i++) {
            drow *r = &pp->rows[i];
            if (r->st == PATRON_OK && brows[r->ai].status == PATRON_OK && dedupe_take(r, &brows[r->ai]) < 0) {
                rc = cli_fail(ctx, "line %lu: out of memory", r->line);
                goto out;
            }
            if (r->done) {
                if (r->retried)
                    ignored++;
                else if (r->as_given)
                    note_as_given(r, &given, given_eg, sizeof given_eg);
                if (idmap_put_text(&m, r->id, r->text, r->tlen, r->klen, r->plain) < 0) {
                    rc = cli_fail(ctx, "line %lu: out of memory", r->line);
                    goto out;
                }
                continue;
            }
            st = r->st;
            if (st == PATRON_OK) {
                st = brows[r->ai].status;
                if (st != PATRON_OK) {
                    char msg[TEXT_MAX];
                    snprintf(msg, sizeof msg, "%s", brows[r->ai].errmsg);
                    if (drow_msg(r, msg) < 0)
                        st = PATRON_E_NOMEM;
                }
                if (st == PATRON_E_INVALID || (st == PATRON_E_EXISTS && r->retried)) {
                    /* (only a retried row: the workers knew the values) */
                    st = dedupe_retry(pp, r, r->retried, batch, &retry_ar);
                    if (st == PATRON_OK)
                        r->retried = r->retried ? r->retried : 1;
                    else if (st == PATRON_E_INVALID && drow_msg(r, "more than one value refused") < 0)
                        st = PATRON_E_NOMEM;
                }
            }
            if (st == PATRON_OK) {
                if (r->retried)
                    ignored++;
                else if (r->as_given)
                    note_as_given(r, &given, given_eg, sizeof given_eg);
                if (!r->done || idmap_put_text(&m, r->id, r->text, r->tlen, r->klen, r->plain) < 0)
                    st = PATRON_E_NOMEM;
            }
            if (st == PATRON_E_NOMEM || st == PATRON_E_STORE) {
                rc = cli_fail(ctx, "line %lu: %s", r->line, st == PATRON_E_NOMEM ? "out of memory" : r->text);
                goto out;
            }
            if (st != PATRON_OK)
                skip_row(&sk, r->line, r->text);
        }
        dreader_done(&rd, at); /* the reader may fill it again */
    }
    cli_progress_end(&prog);
    /* The parts, their values and the rows given to the batch are no
     * longer needed: freed before the run takes its memory (the peak is
     * lower, and the run's arrays may take the freed pages, not fresh
     * ones), and here, where the reader has ended and no other thread
     * runs (unmapping a block while one runs interrupts it to flush its
     * TLB). */
    dreader_end(&rd);
    free(brows);
    brows = NULL;
    arena_free(&retry_ar);
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    {
        patron_pairs *pairs = NULL;
        st = patron_batch_run(batch, &pairs, mode);
        if (st != PATRON_OK) {
            rc = cli_fail(ctx, "dedupe: %s", patron_batch_errmsg(batch));
            goto out;
        }
        patron_batch_free(batch);
        batch = NULL;
        rc = print_pairs(ctx, &m, pairs);
        patron_pairs_free(pairs);
        if (rc != CLI_OK)
            goto out;
    }
    if (rc == CLI_OK && given)
        cli_fail(ctx, "dedupe: %zu rows compared a birth date that is no real date as given (e.g. %s)", given,
                 given_eg);
    if (rc == CLI_OK && ignored)
        cli_fail(ctx, "dedupe: %zu rows took part without one value the library refused "
                      "(such as a birth date that is no real date)", ignored);
    if (rc == CLI_OK && sk.n)
        cli_fail(ctx, "dedupe: %zu of %zu rows skipped (%.*s%s)", sk.n, rows, (int)sk.len, sk.text,
                 sk.n > 3 ? "; ..." : "");
out:
    dreader_end(&rd);
    free(brows);
    free(name_col);
    arena_free(&retry_ar);
    patron_batch_free(batch);
    layout_free(&l);
    cli_csv_close(&in);
    idmap_free(&m);
    return rc;
}

const cli_command cli_cmd_dedupe = {
    "dedupe", cmd_dedupe, "find duplicates in a CSV file",
    "dedupe [FILE.csv] [--mode fields|email] [--identifier NAME] [--encoding E] [--delimiter D] "
    "[--map COLUMN=FIELD,...] [--map-file FILE]",
    "Find the pairs of customers judged duplicates and write them to standard\n"
    "output as CSV:\n"
    "  id_a,id_b,score,decision,cluster,name_a,name_b\n"
    "one line per pair judged merge, review or household (two people of one\n"
    "household: same address, another given name; distinct pairs are left out).\n"
    "cluster names the group of customers the pair belongs to - those linked\n"
    "by merge and review pairs, or for a household pair the household - by its\n"
    "first member; name_a and name_b are the two names (the company when\n"
    "there is none), a name that a spreadsheet would run as a formula (it\n"
    "begins with = + - @) with a ' in front, as 'patron export' writes it.\n"
    "\n"
    "With FILE, read a CSV file in the import layout (see 'patron import\n"
    "--help') into a memory store - no database is used or written; id_a and\n"
    "id_b are the rows' 'id' column, or where that is empty (a customer without\n"
    "an external reference, as in the file 'patron export' writes) the\n"
    "customer number; the pairs are in input order.  FILE may be '-' for\n"
    "standard input.  Rows the library refuses are skipped; a note on standard\n"
    "error counts them and names the first.  A row with one refused value takes\n"
    "part without it, except a birth date that is no real date but has the shape\n"
    "of one (1902-78-03, a typo): that is compared as given, digit by digit (it\n"
    "is never stored; 'patron import' refuses it).  Both are counted on standard\n"
    "error.\n"
    "\n"
    "Without FILE, deduplicate the customers in the database (--db); id_a and\n"
    "id_b are customer numbers (#ID for a customer without one).  Pairs decided\n"
    "in the review queue (not duplicates, a household) are left out, and the\n"
    "queue is updated from a full scan ('patron review'; a line on standard\n"
    "error says how many cases are open).\n",
    dedupe_opts, "FILE", 0, 1, NULL,
};

/* ---- match ------------------------------------------------------------------ */

static const cli_opt match_opts[] = {
    { .name = "--mode", .kind = CLI_OPT_CHOICE, .target = offsetof(match_args, mode), .choices = match_modes,
      .help = "as for 'patron dedupe'" },
    { .name = "--json", .kind = CLI_OPT_FLAG, .target = offsetof(match_args, json), .value = 1,
      .help = "the candidates as JSON (internal ids)" },
    CLI_OPT_TABLE_END,
};

static int cmd_match(cli *ctx, int argc, char **argv)
{
    match_args args = { PATRON_MATCH_FIELDS, 0, NULL, { 0, 0 }, { NULL, 0 }, NULL };
    int rc, as_json, mode;
    patron_customer *c = NULL;
    patron_matches *mt = NULL;
    patron_status st;
    size_t i, f, n, nf;
    char ka[32], kb[32], label[400];

    if ((rc = cli_one_customer(ctx, argc, argv, &args, &c)) >= 0)
        return rc;
    rc = CLI_OK;
    as_json = args.json;
    mode = args.mode;
    cli_warn_stale_index(ctx);
    st = patron_db_match(ctx->db, &mt, c, mode);
    if (st != PATRON_OK) {
        rc = cli_fail_db(ctx, st, "match");
        goto out;
    }
    if (as_json) {
        char *text = NULL;
        if (patron_matches_to_json(mt, &text, PATRON_JSON_PRETTY) != PATRON_OK) {
            rc = cli_fail(ctx, "match: out of memory");
            goto out;
        }
        printf("%s\n", text);
        patron_free(text);
        goto out;
    }
    cli_customer_key(c, ka, sizeof ka);
    n = patron_matches_count(mt);
    if (n == 0) {
        printf("no candidates for %s (%s)\n", ka, cli_customer_label(c, label, sizeof label));
        goto out;
    }
    printf("%zu candidate%s for %s (%s)\n", n, n == 1 ? "" : "s", ka, cli_customer_label(c, label, sizeof label));
    nf = patron_matches_field_count(mt);
    for (i = 0; i < n; i++) {
        double score = 0;
        patron_decision decision = PATRON_DECISION_DISTINCT;
        int64_t id = 0;
        patron_customer *o = NULL;
        size_t wa = strlen(ka), wb, wfield = 5, wlevel = 5;

        if (patron_matches_get(mt, &id, &score, &decision, i) != PATRON_OK)
            continue;
        if (patron_db_load(ctx->db, &o, id) == PATRON_OK) {
            cli_customer_key(o, kb, sizeof kb);
            cli_customer_label(o, label, sizeof label);
        } else {
            snprintf(kb, sizeof kb, "#%" PRId64, id);
            label[0] = '\0';
        }
        patron_customer_free(o);
        wb = strlen(kb);
        {
            patron_match_detail d = PATRON_MATCH_DETAIL_INIT;
            if (patron_matches_detail(mt, &d, i) == PATRON_OK)
                printf("\n%zu. %s  %s  probability %.4f  score %.2f%s%s  %s\n", i + 1, kb,
                       patron_decision_name(decision), d.probability, score, d.rule[0] ? "  rule " : "", d.rule,
                       label);
            else
                printf("\n%zu. %s  %s  score %.2f  %s\n", i + 1, kb, patron_decision_name(decision), score,
                       label);
        }
        for (f = 0; f < nf; f++) {
            const char *name = "", *va = "", *vb = "", *level = "";
            if (patron_matches_explain(mt, &name, &va, &vb, &level, NULL, i, f) != PATRON_OK)
                continue;
            if (!va[0] && !vb[0])
                continue;
            wfield = strlen(name) > wfield ? strlen(name) : wfield;
            wa = cli_width(va) > wa ? cli_width(va) : wa;
            wb = cli_width(vb) > wb ? cli_width(vb) : wb;
            wlevel = strlen(level) > wlevel ? strlen(level) : wlevel;
        }
        printf("   ");
        cli_pad(stdout, "field", wfield + 2);
        cli_pad(stdout, ka, wa + 2);
        cli_pad(stdout, kb, wb + 2);
        cli_pad(stdout, "level", wlevel + 2);
        printf("weight\n");
        for (f = 0; f < nf; f++) {
            const char *name = "", *va = "", *vb = "", *level = "";
            double w = 0;
            if (patron_matches_explain(mt, &name, &va, &vb, &level, &w, i, f) != PATRON_OK)
                continue;
            if (!va[0] && !vb[0])
                continue;
            printf("   ");
            cli_pad(stdout, name, wfield + 2);
            cli_pad(stdout, va, wa + 2);
            cli_pad(stdout, vb, wb + 2);
            cli_pad(stdout, level, wlevel + 2);
            printf("%+7.2f", w);
            {
                /* "mueller: 60 of 20000 customers, +3.10 instead of +6.41" */
                patron_match_field_detail fd = PATRON_MATCH_FIELD_DETAIL_INIT;
                if (patron_matches_field_detail(mt, &fd, i, f) == PATRON_OK && fd.frequency &&
                    (fd.weight - fd.level_weight > 0.005 || fd.level_weight - fd.weight > 0.005))
                    printf("  (%" PRIu64 " of %" PRIu64 " customers, instead of %+.2f)", fd.holders,
                           fd.customers, fd.level_weight);
            }
            printf("\n");
        }
    }
out:
    patron_matches_free(mt);
    patron_customer_free(c);
    return rc;
}

const cli_command cli_cmd_match = {
    "match", cmd_match, "show the duplicate candidates of a customer",
    "match KEY [--mode fields|email] [--json]",
    "Match one stored customer against the others and print the candidates,\n"
    "best first, with number, decision (merge, review or household), match\n"
    "probability, score (the match weight in bits), the safety rule that\n"
    "decided if any, and, per field, the two normalised values compared, the\n"
    "comparison level and the weight it added - for a value many customers\n"
    "hold, how many of how many, and the level's weight it replaced.\n" CLI_KEY_HELP,
    match_opts, "KEY", 1, 1, NULL,
};
