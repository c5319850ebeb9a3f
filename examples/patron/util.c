/*
 * patron — helpers shared by the commands of the command-line tool.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"
#include "columns.h"
#include "json.h"

#include <errno.h>
#include <pthread.h>
#include <strings.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>



/* ---- messages ------------------------------------------------------------ */

int cli_fail(cli *ctx, const char *fmt, ...)
{
    va_list ap;

    (void)ctx;
    fflush(stdout);
    fputs("patron: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_ERR;
}

int cli_usage(cli *ctx, const char *fmt, ...)
{
    va_list ap;
    const char *name = ctx && ctx->cmd ? ctx->cmd->name : NULL;

    fflush(stdout);
    fputs("patron: ", stderr);
    if (name)
        fprintf(stderr, "%s: ", name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (name)
        fprintf(stderr, " (see 'patron %s --help')\n", name);
    else
        fputs(" (see 'patron --help')\n", stderr);
    return CLI_USAGE;
}

int cli_load_listed(cli *ctx, int64_t id, patron_customer **c, size_t *unreadable)
{
    patron_status st = patron_db_load(ctx->db, c, id);
    const char *msg;

    if (st == PATRON_E_NOT_FOUND)
        return 0;
    if (st == PATRON_E_STORE && (msg = patron_db_errmsg(ctx->db)) && strstr(msg, "is not accepted")) {
        /* One row the store holds but the library refuses to read (see
         * the SQLite store's load): leave it out, say which. */
        char what[48];
        if (unreadable) {
            snprintf(what, sizeof what, "customer #%lld skipped", (long long)id);
            cli_fail_msg(ctx, what, msg);
            (*unreadable)++;
        }
        *c = NULL;
        return 0;
    }
    if (st != PATRON_OK) {
        *c = NULL;
        cli_fail_db(ctx, st, "load");
        return -1;
    }
    if (patron_customer_state(*c) == PATRON_STATE_MERGED) {
        patron_customer_free(*c);
        *c = NULL;
        return 0;
    }
    return 1;
}

int cli_unreadable(cli *ctx, size_t unreadable)
{
    if (!unreadable)
        return CLI_OK;
    return cli_fail(ctx, "%zu customer%s could not be read and %s left out (see above)", unreadable,
                    unreadable == 1 ? "" : "s", unreadable == 1 ? "was" : "were");
}

int cli_fail_db(cli *ctx, patron_status st, const char *what)
{
    const char *msg = ctx->db ? patron_db_errmsg(ctx->db) : NULL;
    return cli_fail_msg(ctx, what, msg && msg[0] ? msg : patron_status_message(st));
}

int cli_fail_msg(cli *ctx, const char *what, const char *msg)
{
    /* One line: a message listing several reasons has them on lines. */
    char *flat = malloc(strlen(msg) * 2 + 1), *o;
    const char *p;
    int rc;

    if (!flat)
        return cli_fail(ctx, "%s: %s", what, msg);
    for (o = flat, p = msg; *p; p++) {
        if (*p == '\n') {
            if (p[1]) {
                *o++ = ';';
                *o++ = ' ';
            }
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    rc = what ? cli_fail(ctx, "%s: %s", what, flat) : cli_fail(ctx, "%s", flat);
    free(flat);
    return rc;
}

/* ---- the database: store.c ---------------------------------------------- */

static patron_status find_key(cli *ctx, patron_customer **out, int kind, const char *key)
{
    patron_status st = patron_db_find(ctx->db, out, kind, key);
    if (st != PATRON_OK)
        *out = NULL;
    return st;
}

/* The key that found a customer, to see whether it led through a merged
 * record (patron_db_find follows merges, patron_db_lookup does not). */
typedef struct found_by {
    int kind;
    char *key;
} found_by;

static patron_status find_via(cli *ctx, patron_customer **out, int kind, const char *key, found_by *by)
{
    patron_status st = find_key(ctx, out, kind, key);
    if (st == PATRON_OK) {
        by->kind = kind;
        by->key = strdup(key);
        if (!by->key) {
            patron_customer_free(*out);
            *out = NULL;
            st = PATRON_E_NOMEM;
        }
    }
    return st;
}

static patron_status find_external_via(cli *ctx, patron_customer **out, const char *source, size_t slen,
                                       const char *id, found_by *by)
{
    size_t ilen = strlen(id);
    char *k = malloc(slen + 1 + ilen + 1);
    patron_status st;

    if (!k)
        return PATRON_E_NOMEM;
    memcpy(k, source, slen);
    k[slen] = '\x1f';
    memcpy(k + slen + 1, id, ilen + 1);
    st = find_via(ctx, out, PATRON_KEY_EXTERNAL, k, by);
    free(k);
    return st;
}

int cli_resolve_customer(cli *ctx, const char *key, patron_customer **out, int64_t *merged_from, char *err,
                         size_t errlen)
{
    patron_status st;
    const char *colon;
    found_by by = { 0, NULL };

    *out = NULL;
    if (merged_from)
        *merged_from = 0;
    if (!key[0]) {
        snprintf(err, errlen, "empty customer key");
        return CLI_ERR;
    }
    if (key[0] == '#') {
        char *end;
        long long id;
        errno = 0;
        id = strtoll(key + 1, &end, 10);
        if (errno || end == key + 1 || *end || id <= 0) {
            snprintf(err, errlen, "'%s' is not an internal id (#1, #2, ...)", key);
            return CLI_ERR;
        }
        st = patron_db_load(ctx->db, out, (int64_t)id);
        if (st == PATRON_OK)
            return CLI_OK;
        *out = NULL;
        if (st == PATRON_E_NOT_FOUND)
            snprintf(err, errlen, "no customer with internal id %lld", id);
        else
            snprintf(err, errlen, "%s: %s", key, patron_db_errmsg(ctx->db));
        return CLI_ERR;
    }

    st = find_via(ctx, out, PATRON_KEY_NUMBER, key, &by);
    if (st == PATRON_E_NOT_FOUND)
        st = find_external_via(ctx, out, "import", 6, key, &by);
    if (st == PATRON_E_NOT_FOUND)
        st = find_via(ctx, out, PATRON_KEY_EXTERNAL, key, &by);
    if (st == PATRON_E_NOT_FOUND && (colon = strchr(key, ':')) != NULL && colon != key)
        st = find_external_via(ctx, out, key, (size_t)(colon - key), colon + 1, &by);
    if (st == PATRON_E_NOT_FOUND) {
        snprintf(err, errlen, "no customer with number or external id '%s'", key);
        return CLI_ERR;
    }
    if (st != PATRON_OK) {
        snprintf(err, errlen, "%s: %s", key,
                 st == PATRON_E_NOMEM ? "out of memory" : patron_db_errmsg(ctx->db));
        return CLI_ERR;
    }
    if (merged_from) {
        int64_t ids[2];
        size_t n = 0;
        if (patron_db_lookup(ctx->db, ids, &n, 2, by.kind, by.key) == PATRON_OK && n == 1 &&
            ids[0] != patron_customer_id(*out))
            *merged_from = ids[0];
    }
    free(by.key);
    return CLI_OK;
}

int cli_find_customer(cli *ctx, const char *key, patron_customer **out)
{
    char err[600], buf[32];
    int64_t merged_from = 0;

    if (cli_resolve_customer(ctx, key, out, &merged_from, err, sizeof err) != CLI_OK)
        return cli_fail_msg(ctx, NULL, err);
    if (merged_from) {
        /* The number of a merged-away customer leads to its survivor: say so,
         * on stderr, so that the output stays the survivor's. */
        fflush(stdout);
        fprintf(stderr, "patron: %s was merged into %s\n", key, cli_customer_key(*out, buf, sizeof buf));
    }
    return CLI_OK;
}

const char *cli_customer_label(const patron_customer *c, char *buf, size_t cap)
{
    const char *first = patron_customer_get(c, PATRON_F_FIRST_NAME);
    const char *last = patron_customer_get(c, PATRON_F_LAST_NAME);
    const char *company = patron_customer_get(c, PATRON_F_COMPANY);
    const char *email = patron_customer_get(c, PATRON_F_EMAIL);
    size_t n = patron_customer_address_count(c), a = 0, i;
    const char *pc = NULL, *city = NULL;
    int len;

    for (i = 0; i < n; i++) {
        const char *d = patron_customer_address_get(c, i, PATRON_A_DEFAULT);
        if (d && !strcmp(d, "1")) {
            a = i;
            break;
        }
    }
    if (n) {
        pc = patron_customer_address_get(c, a, PATRON_A_POSTAL_CODE);
        city = patron_customer_address_get(c, a, PATRON_A_CITY);
    }
    len = snprintf(buf, cap, "%s%s%s", first ? first : "", first && last ? " " : "", last ? last : "");
    if (company && len >= 0 && (size_t)len < cap)
        len += snprintf(buf + len, cap - (size_t)len, "%s%s", len ? ", " : "", company);
    if ((pc || city) && len >= 0 && (size_t)len < cap)
        len += snprintf(buf + len, cap - (size_t)len, "%s%s%s%s", len ? ", " : "", pc ? pc : "",
                        pc && city ? " " : "", city ? city : "");
    if (email && len >= 0 && (size_t)len < cap)
        snprintf(buf + len, cap - (size_t)len, "%s%s", len ? ", " : "", email);
    return buf;
}

const char *cli_customer_key(const patron_customer *c, char *buf, size_t cap)
{
    const char *num = patron_customer_get(c, PATRON_F_NUMBER);
    if (num)
        snprintf(buf, cap, "%s", num);
    else
        snprintf(buf, cap, "#%" PRId64, patron_customer_id(c));
    return buf;
}

/* ---- lists of customers ------------------------------------------------- */

int cli_collect_ids(cli *ctx, const patron_filter *f, int64_t **ids_out, size_t *n_out)
{
    enum { PAGE = 4096 };
    int64_t *ids = NULL, after = 0;
    size_t n = 0, cap = 0, got;
    patron_status st;

    *ids_out = NULL;
    *n_out = 0;
    for (;;) {
        if (cap - n < PAGE) {
            int64_t *p = realloc(ids, (cap + PAGE) * 2 * sizeof *ids);
            if (!p) {
                free(ids);
                return cli_fail(ctx, "out of memory");
            }
            ids = p;
            cap = (cap + PAGE) * 2;
        }
        st = patron_db_list(ctx->db, ids + n, &got, PAGE, f, after);
        if (st != PATRON_OK) {
            free(ids);
            return cli_fail_db(ctx, st, "list");
        }
        n += got;
        if (got < PAGE)
            break;
        after = ids[n - 1];
    }
    *ids_out = ids;
    *n_out = n;
    return CLI_OK;
}

/* ---- JSON answers of the library ------------------------------------------ */

int cli_json_array(cli *ctx, char *text, int as_json, const char *what, json **out)
{
    json *j;

    *out = NULL;
    if (as_json) {
        printf("%s\n", text);
        patron_free(text);
        return CLI_OK;
    }
    j = json_parse(text);
    patron_free(text);
    if (!j || j->type != JSON_ARRAY) {
        json_free(j);
        return cli_fail(ctx, "%s: the library's answer is no JSON array", what);
    }
    *out = j;
    return -1;
}

/* ---- tables ------------------------------------------------------------- */

size_t cli_width(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    }
    return n;
}

void cli_pad(FILE *f, const char *s, size_t width)
{
    size_t w = cli_width(s);

    fputs(s, f);
    for (; w < width; w++)
        putc(' ', f);
}

/* ---- progress ------------------------------------------------------------ */

static double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_start(cli_progress *p, const char *label, const char *unit, uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->enabled = isatty(STDERR_FILENO);
    p->label = label;
    p->unit = unit;
    p->total = total;
    p->start = p->last = cli_now();
}

void cli_progress_update(cli_progress *p, uint64_t done, uint64_t count)
{
    enum { WIDTH = 30 };
    char bar[WIDTH + 1];
    double now, elapsed;
    int i, fill = 0;

    if (!p->enabled)
        return;
    now = cli_now();
    elapsed = now - p->start;
    /* Quiet for short work; at most ten redraws a second. */
    if (elapsed < 0.5 || now - p->last < 0.1)
        return;
    p->last = now;
    if (p->total) {
        if (done > p->total)
            done = p->total;
        fill = (int)(done * WIDTH / p->total);
    }
    for (i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : (p->total ? '.' : ' ');
    bar[WIDTH] = '\0';
    if (p->total)
        fprintf(stderr, "\r%s [%s] %3d%%  %" PRIu64 " %s  %.0f/s ", p->label, bar,
                (int)(done * 100 / p->total), count, p->unit, (double)count / elapsed);
    else
        fprintf(stderr, "\r%s %" PRIu64 " %s  %.0f/s ", p->label, count, p->unit, (double)count / elapsed);
    fflush(stderr);
    p->drawn = 1;
}

void cli_progress_end(cli_progress *p)
{
    if (p->enabled && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->drawn = 0;
}

/* ---- CSV files in, rejected rows out -------------------------------------- */

const cli_choice cli_encoding_choices[] = {
    { "utf-8", CSV_ENC_UTF8 },       { "utf8", CSV_ENC_UTF8 },       { "utf-16", CSV_ENC_UTF16 },
    { "utf16", CSV_ENC_UTF16 },      { "utf-16le", CSV_ENC_UTF16LE }, { "utf-16be", CSV_ENC_UTF16BE },
    { "cp1252", CSV_ENC_CP1252 },    { "windows-1252", CSV_ENC_CP1252 }, { NULL, 0 },
};

const cli_choice cli_delimiter_choices[] = {
    { ",", ',' },  { "comma", ',' }, { ";", ';' }, { "semicolon", ';' }, { "tab", '\t' }, { "\\t", '\t' },
    { NULL, 0 },
};

/* A pipe is judged by this much of its start. */
#define PIPE_SNIFF (64u * 1024u)
/* A regular file from this size on is scanned in two halves at once
 * (before the scan ends nothing else runs: the other cores wait). */
#define SNIFF_SPLIT (1u << 20)

/* The second half of a file's scan, [from, to) of fd, on a thread of its
 * own. */
typedef struct sniff_half {
    int fd;
    off_t from, to;
    csv_sniffer sn;
    int err; /* errno of a failed read; -1: no memory (not scanned) */
} sniff_half;

static void *sniff_half_thread(void *arg)
{
    sniff_half *h = arg;
    unsigned char *buf = malloc(1 << 16);
    off_t at = h->from;
    if (!buf) {
        h->err = -1;
        return NULL;
    }
    while (at < h->to) {
        size_t want = h->to - at < (off_t)(1 << 16) ? (size_t)(h->to - at) : (size_t)1 << 16;
        ssize_t n = pread(h->fd, buf, want, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            h->err = n < 0 ? errno : EIO; /* (0: the file shrank) */
            break;
        }
        csv_sniff_feed(&h->sn, buf, (size_t)n);
        at += n;
    }
    free(buf);
    return NULL;
}

/* Where the second half of a file of `size` bytes starts for
 * sniff_half: a '\n' near its middle (0: none near, no split). */
static off_t sniff_split(int fd, off_t size, unsigned char *buf)
{
    off_t mid = size / 2;
    ssize_t n = pread(fd, buf, 1 << 16, mid);
    unsigned char *nl = n > 0 ? memchr(buf, '\n', (size_t)n) : NULL;
    return nl ? mid + (nl - buf) : 0;
}

/* Decide the encoding of in->f.  A regular file is read whole and rewound:
 * its encoding is decided from every byte, before anything is imported.
 * A pipe (standard input, a FIFO) cannot be read twice and may not end
 * soon (an import fed as it goes): it is judged by its first PIPE_SNIFF
 * bytes, which are handed to the reader in *prefix (free()).  CLI_OK, or
 * CLI_ERR after a message. */
static int sniff_input(cli *ctx, cli_csv *in, csv_encoding forced, csv_encoding *enc, unsigned char **prefix,
                       size_t *prefix_len)
{
    csv_sniffer *sn = malloc(sizeof *sn);
    unsigned char *buf = malloc(1 << 16);
    struct stat st;
    size_t n;
    char why[600];
    int rc = CLI_ERR, whole;

    *prefix = NULL;
    *prefix_len = 0;
    if (!sn || !buf) {
        rc = cli_fail(ctx, "out of memory");
        goto out;
    }
    whole = fstat(fileno(in->f), &st) == 0 && S_ISREG(st.st_mode) && ftello(in->f) == 0;
    csv_sniff_init(sn, forced);
    if (whole) {
        /* the halves at once where the file is large (the second's
         * findings then joined, as if one scan had read on) */
        off_t split = st.st_size >= (off_t)SNIFF_SPLIT ? sniff_split(fileno(in->f), st.st_size, buf) : 0;
        sniff_half *h = split ? malloc(sizeof *h) : NULL;
        pthread_t th;
        int threaded = 0;
        if (h) {
            h->fd = fileno(in->f);
            h->from = split;
            h->to = st.st_size;
            h->err = 0;
            csv_sniff_init_rest(&h->sn, forced);
            threaded = pthread_create(&th, NULL, sniff_half_thread, h) == 0;
        }
        if (threaded) {
            off_t done = 0;
            for (;;) {
                size_t want = split - done < (off_t)(1 << 16) ? (size_t)(split - done) : (size_t)1 << 16;
                if (!want || (n = fread(buf, 1, want, in->f)) == 0)
                    break;
                csv_sniff_feed(sn, buf, n);
                done += (off_t)n;
            }
            pthread_join(th, NULL);
            if (h->err > 0) {
                rc = cli_fail(ctx, "cannot read '%s': %s", in->path, strerror(h->err));
                free(h);
                goto out;
            }
            if (done == split && sn->mode == 1 && h->err == 0) {
                csv_sniff_join(sn, &h->sn);
            } else { /* (the rest here, as without the thread) */
                if (fseeko(in->f, done, SEEK_SET) != 0) {
                    rc = cli_fail(ctx, "cannot read '%s': %s", in->path, strerror(errno));
                    free(h);
                    goto out;
                }
                while ((n = fread(buf, 1, 1 << 16, in->f)) > 0)
                    csv_sniff_feed(sn, buf, n);
            }
        } else {
            while ((n = fread(buf, 1, 1 << 16, in->f)) > 0)
                csv_sniff_feed(sn, buf, n);
        }
        free(h);
    } else {
        n = fread(buf, 1, PIPE_SNIFF, in->f);
        csv_sniff_feed(sn, buf, n);
        sn->more = n == PIPE_SNIFF;
    }
    if (ferror(in->f)) {
        rc = cli_fail(ctx, "cannot read '%s': %s", in->path, strerror(errno));
        goto out;
    }
    if (csv_sniff_end(sn, enc, why, sizeof why) < 0) {
        rc = cli_fail(ctx, "%s: %s; nothing was imported", in->path, why);
        goto out;
    }
    if (whole && fseeko(in->f, 0, SEEK_SET) != 0) {
        rc = cli_fail(ctx, "cannot read '%s' again: %s", in->path, strerror(errno));
        goto out;
    }
    if (!whole) {
        *prefix = buf;
        *prefix_len = n;
        buf = NULL;
    }
    rc = CLI_OK;
out:
    free(buf);
    free(sn);
    return rc;
}

int cli_csv_open(cli *ctx, cli_csv *in, const char *path, int allow_stdin, const cli_csv_opts *o)
{
    csv_record rec;
    char err[128];
    const char *bad;
    size_t i;
    int k;
    csv_encoding enc = CSV_ENC_UTF8;
    unsigned char *prefix = NULL;
    size_t prefix_len = 0;

    memset(in, 0, sizeof *in);
    in->path = path;
    in->f = allow_stdin && !strcmp(path, "-") ? stdin : fopen(path, "rb");
    if (!in->f)
        return cli_fail(ctx, "cannot open '%s': %s", path, strerror(errno));
    if (sniff_input(ctx, in, o ? (csv_encoding)o->encoding : CSV_ENC_AUTO, &enc, &prefix, &prefix_len) != CLI_OK)
        goto fail;
    k = csv_reader_open_prefixed(&in->r, in->f, o ? o->delimiter : 0, enc, prefix, prefix_len);
    free(prefix);
    if (k < 0 || (k = csv_read(in->r, &rec)) < 0) {
        cli_fail(ctx, "cannot read '%s': %s", path, strerror(errno));
        goto fail;
    }
    if (k == 0) {
        cli_fail(ctx, "'%s' is empty: a header line is needed", path);
        goto fail;
    }
    csv_reader_dialect(in->r, &in->dialect);
    if ((bad = cli_csv_malformed(&rec, rec.n, err, sizeof err)) != NULL) {
        cli_fail(ctx, "%s, line 1 (header): %s", path, bad);
        goto fail;
    }
    in->header = calloc(rec.n, sizeof *in->header);
    if (!in->header) {
        cli_fail(ctx, "out of memory");
        goto fail;
    }
    in->n_header = rec.n;
    for (i = 0; i < rec.n; i++) {
        if (!(in->header[i] = strdup(rec.fields[i]))) {
            cli_fail(ctx, "out of memory");
            goto fail;
        }
    }
    return CLI_OK;
fail:
    cli_csv_close(in);
    return CLI_ERR;
}

int cli_csv_layout(cli *ctx, const cli_csv *in, const cli_list *maps, const char *map_file, struct layout *l)
{
    col_map m;
    size_t i;
    char err[4096];
    int rc = CLI_OK;

    memset(&m, 0, sizeof m);
    /* the file first: a --map given beside it wins (the last entry for a
     * column counts) */
    if (map_file && col_map_load(&m, map_file, err, sizeof err) < 0) {
        col_map_free(&m);
        return cli_fail(ctx, "%s", err);
    }
    for (i = 0; maps && i < maps->n; i++) {
        if (col_map_add(&m, maps->v[i], err, sizeof err) < 0) {
            col_map_free(&m);
            return cli_usage(ctx, "%s", err);
        }
    }
    if (layout_init_ex(l, (const char *const *)in->header, in->n_header, &m, 0, err, sizeof err) < 0)
        rc = cli_fail(ctx, "%s: %s", in->path, err);
    col_map_free(&m);
    return rc;
}

void cli_csv_close(cli_csv *in)
{
    size_t i;

    if (in->header) {
        for (i = 0; i < in->n_header; i++)
            free(in->header[i]);
        free(in->header);
    }
    csv_reader_free(in->r);
    if (in->f && in->f != stdin)
        fclose(in->f);
    memset(in, 0, sizeof *in);
}

const char *cli_csv_malformed(const csv_record *rec, size_t n_header, char *buf, size_t cap)
{
    size_t i;

    if (rec->error)
        return rec->error;
    if (rec->n != n_header) {
        snprintf(buf, cap, "the row has %zu fields, the header %zu", rec->n, n_header);
        return buf;
    }
    for (i = 0; rec->has_nul && i < rec->n; i++) {
        if (strlen(rec->fields[i]) != rec->lens[i]) {
            snprintf(buf, cap, "field %zu contains a NUL byte", i + 1);
            return buf;
        }
    }
    return NULL;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cli_rejects_init(cli *ctx, cli_rejects *rj, const cli_csv *in, const char *path)
{
    memset(rj, 0, sizeof *rj);
    rj->in = in;
    rj->skip_col = -1;
    if (!path) {
        /* "dir/customers.csv" -> "dir/customers.rejects.csv" */
        size_t n = strlen(in->path);
        if (n > 4 && !strcasecmp(in->path + n - 4, ".csv"))
            n -= 4;
        rj->own_path = malloc(n + sizeof ".rejects.csv");
        if (!rj->own_path)
            return cli_fail(ctx, "out of memory");
        memcpy(rj->own_path, in->path, n);
        memcpy(rj->own_path + n, ".rejects.csv", sizeof ".rejects.csv");
        path = rj->own_path;
    }
    rj->path = path;
    if (!strcmp(path, in->path) || same_file(path, in->path))
        return cli_fail(ctx, "the rejects file must not be the input file");
    return CLI_OK;
}

/* A line of the rejects file is put together in UTF-8 in memory and
 * written in the input's encoding, so that the file opens in the program
 * the input came from. */
typedef struct rline {
    FILE *mem;
    char *text;
    size_t len;
} rline;

static int rline_begin(rline *l)
{
    l->text = NULL;
    l->len = 0;
    l->mem = open_memstream(&l->text, &l->len);
    return l->mem ? 0 : -1;
}

static int rline_end(cli_rejects *rj, rline *l)
{
    int rc = fclose(l->mem);
    if (rc == 0) {
        csv_write_encoded(rj->f, rj->in->dialect.enc, l->text, l->len);
        csv_write_eol(rj->f, &rj->in->dialect);
    }
    free(l->text);
    return rc == 0 ? 0 : -1;
}

int cli_reject(cli_rejects *rj, const csv_record *rec, const char *reason)
{
    const csv_dialect *d = &rj->in->dialect;
    int sep = d->sep;
    size_t i;
    char line[32];
    rline l;

    if (!rj->f) {
        rj->f = fopen(rj->path, "wb");
        if (!rj->f || rline_begin(&l) < 0)
            return -1;
        csv_write_bom(rj->f, d);
        csv_write_str(l.mem, sep, "line");
        putc(sep, l.mem);
        csv_write_str(l.mem, sep, "reason");
        for (i = 0; i < rj->in->n_header; i++) {
            putc(sep, l.mem);
            if (rj->raw)
                csv_write_str(l.mem, sep, rj->in->header[i]);
            else
                csv_write_cell(l.mem, sep, rj->in->header[i], strlen(rj->in->header[i]));
        }
        if (rline_end(rj, &l) < 0)
            return -1;
    }
    if (rline_begin(&l) < 0)
        return -1;
    snprintf(line, sizeof line, "%lu", rec->line);
    csv_write_str(l.mem, sep, line);
    putc(sep, l.mem);
    csv_write_cell(l.mem, sep, reason, strlen(reason));
    for (i = 0; i < rec->n; i++) {
        putc(sep, l.mem);
        if ((long)i == rj->skip_col)
            continue;
        /* a rejects file is opened in a spreadsheet to fix the rows:
         * formulas as text (OWASP), unless --raw */
        if (rj->raw)
            csv_write_field(l.mem, sep, rec->fields[i], rec->lens[i]);
        else
            csv_write_cell(l.mem, sep, rec->fields[i], rec->lens[i]);
    }
    if (rline_end(rj, &l) < 0)
        return -1;
    rj->count++;
    return ferror(rj->f) ? -1 : 0;
}

int cli_rejects_close(cli_rejects *rj)
{
    int rc = 0;

    if (rj->f && fclose(rj->f) != 0)
        rc = -1;
    rj->f = NULL;
    return rc;
}

void cli_rejects_free(cli_rejects *rj)
{
    cli_rejects_close(rj);
    free(rj->own_path);
    rj->own_path = NULL;
}
