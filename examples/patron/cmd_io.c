/*
 * patron — customers in and out: import (CSV), export (CSV or JSON).
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"
#include "columns.h"
#include "csv.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- import ---------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Stop at the next row on SIGINT / SIGTERM: the rows read so far are
 * committed with the open batch, and the summary says where the import
 * stopped.  (Rows are committed in batches of BATCH_ROWS, below: a harder
 * kill loses the batch in progress, whole, and keeps every batch committed
 * before it.) */
static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/*
 * Rows are saved in batches of BATCH_ROWS customers per transaction (the
 * store's host transaction; each row inside is a savepoint, so a
 * refused row costs only itself).  One transaction per row would make an
 * import wait for a disk sync per customer.
 */
#define BATCH_ROWS 10000

/*
 * Inside a batch, rows are created CHUNK_ROWS at a time with
 * patron_db_create_many(): the same checks and refusals as one
 * patron_db_create() per row, in one store call, so that a store can look
 * up and write a chunk in bulk (the PostgreSQL store: a few statements and
 * COPYs per chunk instead of several round trips per row).  A chunk's
 * rejects are written in line order once the chunk is decided; a store
 * failure undoes the chunk whole.
 */
#define CHUNK_ROWS 2000

typedef struct chunk_row {
    csv_record rec;       /* a copy of the row, for the rejects file */
    patron_customer *c;   /* to create, or NULL: rejected for `reason` */
    char *reason;
} chunk_row;

typedef struct chunk {
    chunk_row r[CHUNK_ROWS];
    patron_customer *cs[CHUNK_ROWS];
    size_t n;
} chunk;

static void chunk_row_free(chunk_row *r)
{
    for (size_t f = 0; f < r->rec.n; f++)
        free(r->rec.fields[f]);
    free(r->rec.fields);
    free(r->rec.lens);
    free(r->reason);
    patron_customer_free(r->c);
    memset(r, 0, sizeof *r);
}

static void chunk_clear(chunk *k)
{
    for (size_t i = 0; i < k->n; i++)
        chunk_row_free(&k->r[i]);
    k->n = 0;
}

/* Add a copy of `rec` with its customer or its reason; -1 when out of memory
 * (then `c` is freed). */
static int chunk_add(chunk *k, const csv_record *rec, patron_customer *c, const char *reason)
{
    chunk_row *r = &k->r[k->n];
    memset(r, 0, sizeof *r);
    r->rec.n = rec->n;
    r->rec.line = rec->line;
    r->rec.fields = calloc(rec->n ? rec->n : 1, sizeof *r->rec.fields);
    r->rec.lens = calloc(rec->n ? rec->n : 1, sizeof *r->rec.lens);
    r->c = c;
    if (!r->rec.fields || !r->rec.lens || (reason && !(r->reason = strdup(reason)))) {
        chunk_row_free(r);
        return -1;
    }
    for (size_t f = 0; f < rec->n; f++) {
        if (!(r->rec.fields[f] = malloc(rec->lens[f] + 1))) {
            r->rec.n = f;
            chunk_row_free(r);
            return -1;
        }
        memcpy(r->rec.fields[f], rec->fields[f], rec->lens[f] + 1);
        r->rec.lens[f] = rec->lens[f];
    }
    k->n++;
    return 0;
}

typedef struct chunk_refusal {
    chunk *k;
    size_t map[CHUNK_ROWS]; /* index among the customers -> row of the chunk */
    int oom;
} chunk_refusal;

static void on_refused(void *payload, size_t index, patron_status status, const char *message)
{
    chunk_refusal *cr = payload;
    chunk_row *r = &cr->k->r[cr->map[index]];
    (void)status;
    free(r->reason);
    if (!(r->reason = strdup(message && *message ? message : patron_status_message(status))))
        cr->oom = 1;
}

/* A row the store refused for itself (its values, a taken key): rejected. */
static int row_refusal(patron_status st)
{
    return st == PATRON_E_INVALID || st == PATRON_E_EXISTS || st == PATRON_E_STATE ||
           st == PATRON_E_NOT_FOUND || st == PATRON_E_AMBIGUOUS || st == PATRON_E_LOCKED;
}

/* Decide the chunk: create its customers (--pending: register them one by
 * one), then write its rejects in line order.  *imported_out gets the
 * customers created.  0, or -1 with `fatal` set and *stop_line the first
 * line neither imported nor rejected: the chunk's first (create: nothing
 * of the chunk was created), or the row whose registration failed (the
 * rows before it are registered or rejected). */
static int chunk_flush(cli *ctx, chunk *k, int pending, cli_rejects *rj, size_t *imported_out,
                       unsigned long *stop_line, char *fatal, size_t fatal_sz)
{
    static chunk_refusal cr;
    size_t nc = 0, created = 0, upto = k->n;
    patron_status st = PATRON_OK;
    int failed = 0;

    *imported_out = 0;
    *stop_line = 0;
    memset(&cr, 0, sizeof cr);
    cr.k = k;
    for (size_t i = 0; i < k->n; i++)
        if (k->r[i].c) {
            cr.map[nc] = i;
            k->cs[nc++] = k->r[i].c;
        }
    if (pending) {
        /* --pending: a shop registration, without a number; refused for
         * the email of a locked customer or of a pending one; an active
         * customer's email is fine (activation merges). */
        for (size_t j = 0; j < nc; j++) {
            patron_status rs = patron_db_register(ctx->db, NULL, k->cs[j]);
            if (rs == PATRON_OK) {
                created++;
            } else if (row_refusal(rs)) {
                on_refused(&cr, j, rs, patron_db_errmsg(ctx->db));
            } else {
                /* the rows registered before stay, as one by one */
                snprintf(fatal, fatal_sz, "%s: %s", patron_status_message(rs), patron_db_errmsg(ctx->db));
                upto = cr.map[j];
                *stop_line = k->r[upto].rec.line;
                failed = 1;
                break;
            }
        }
    } else if (nc) {
        st = patron_db_create_many(ctx->db, &created, k->cs, nc, on_refused, &cr);
        if (st != PATRON_OK) {
            /* The store or memory failed: nothing of the chunk is created. */
            snprintf(fatal, fatal_sz, "%s: %s", patron_status_message(st), patron_db_errmsg(ctx->db));
            *stop_line = k->r[0].rec.line;
            return -1;
        }
    }
    *imported_out = created;
    if (cr.oom) {
        snprintf(fatal, fatal_sz, "out of memory");
        *stop_line = k->r[0].rec.line;
        return -1;
    }
    for (size_t i = 0; i < upto; i++) {
        chunk_row *r = &k->r[i];
        if (!r->reason)
            continue;
        if (cli_reject(rj, &r->rec, r->reason) < 0) {
            snprintf(fatal, fatal_sz, "cannot write '%s': %s", rj->path, strerror(errno));
            *stop_line = r->rec.line;
            return -1;
        }
    }
    if (failed)
        return -1;
    chunk_clear(k);
    return 0;
}

typedef struct batch {
    cli *ctx; /* its store's host transaction: cli_begin() */
    int open;
    unsigned long first_line; /* of the open batch */
    size_t rows;              /* rows read in the open batch */
    size_t imported;          /* customers created in the open batch */
} batch;

static patron_status batch_begin(batch *b, unsigned long line)
{
    patron_status st = cli_begin(b->ctx);
    if (st == PATRON_OK) {
        b->open = 1;
        b->first_line = line;
        b->rows = b->imported = 0;
    }
    return st;
}

/* Commit the open batch.  On failure everything of it is gone: the caller
 * takes b->imported off its count and stops at b->first_line. */
static patron_status batch_commit(batch *b)
{
    patron_status st = cli_commit(b->ctx);
    if (st != PATRON_OK)
        cli_rollback(b->ctx);
    b->open = 0;
    return st;
}

typedef struct import_args {
    int pending;
    const char *rejects;
    int raw;
    cli_csv_opts csv;
    cli_list maps;
    const char *map_file;
} import_args;

static const cli_opt import_opts[] = {
    { .name = "--rejects", .kind = CLI_OPT_TEXT, .target = offsetof(import_args, rejects), .arg = "FILE", .needs = "a file name",
      .help = "where rejected rows go (default: FILE.rejects.csv\n"
              "beside the input).  Written only if a row is\n"
              "rejected: a header 'line,reason,' followed by the\n"
              "input's header, then per rejected row its first\n"
              "line number, the reason and its original fields,\n"
              "in the input's separator, encoding and line ends." },
    { .name = "--pending", .kind = CLI_OPT_FLAG, .target = offsetof(import_args, pending), .value = 1,
      .help = "import as pending shop customers without numbers, as\n"
              "'patron register' does for one: a row with the email\n"
              "of a locked customer, or of one registered already,\n"
              "is rejected.  Activate them with 'patron activate'." },
    { .name = "--raw", .kind = CLI_OPT_FLAG, .target = offsetof(import_args, raw), .value = 1,
      .help = "take every value as it is.  By default a value that\n"
              "is ' followed by = + - @ TAB or CR (as 'patron\n"
              "export' writes formulas) loses that ', and the\n"
              "rejects file neutralises formulas the same way." },
    CLI_CSV_OPTS(import_args, csv),
    CLI_MAP_OPTS(import_args, maps, map_file),
    CLI_OPT_TABLE_END,
};

static int cmd_import(cli *ctx, int argc, char **argv)
{
    import_args args;
    const char **ops;
    int k, rc, pending;
    const char *path;
    cli_csv in;
    csv_record rec;
    layout l;
    cli_rejects rj;
    size_t imported = 0, rows = 0;
    unsigned long stopped_at = 0;
    batch b;
    char fatal[700] = "";
    struct stat st_in;
    cli_progress prog;
    char err[512];
    chunk *ck = NULL;
    size_t made = 0;
    int chunk_failed = 0;

    memset(&args, 0, sizeof args);
    memset(&l, 0, sizeof l);
    memset(&rj, 0, sizeof rj);
    memset(&b, 0, sizeof b);
    if ((rc = cli_parse(ctx, argc, argv, &args, &ops, NULL)) >= 0)
        return rc;
    path = ops[0];
    pending = args.pending;
    /* the encoding is decided from the whole file, and the header checked,
     * before the database is opened: a file that cannot be read right
     * imports nothing */
    if ((rc = cli_csv_open(ctx, &in, path, 0, &args.csv)) != CLI_OK)
        return rc;
    if ((rc = cli_csv_layout(ctx, &in, &args.maps, args.map_file, &l)) != CLI_OK)
        goto out;
    /* The rejects file repeats the header, without the password hashes. */
    if ((rc = cli_rejects_init(ctx, &rj, &in, args.rejects)) != CLI_OK)
        goto out;
    rj.skip_col = l.login_hash;
    rj.raw = args.raw;

    if ((rc = cli_open_db(ctx, 1)) != CLI_OK)
        goto out;
    if (!(ck = calloc(1, sizeof *ck))) {
        rc = cli_fail(ctx, "out of memory");
        goto out;
    }

    b.ctx = ctx;
    catch_signals();
    cli_progress_start(&prog, "import", "rows",
                       fstat(fileno(in.f), &st_in) == 0 && S_ISREG(st_in.st_mode) ? (uint64_t)st_in.st_size : 0);
    for (;;) {
        const char *bad;
        patron_customer *c;
        patron_status st;

        k = csv_read(in.r, &rec);
        if (k < 0) {
            snprintf(fatal, sizeof fatal, "cannot read on: %s", strerror(errno));
            stopped_at = csv_reader_line(in.r);
            break;
        }
        if (k == 0)
            break;
        if (interrupted) {
            stopped_at = rec.line;
            break;
        }
        rows++;
        if ((rows & 63) == 0)
            cli_progress_update(&prog, csv_reader_offset(in.r), rows);
        if (ck->n == CHUNK_ROWS || (b.open && b.rows >= BATCH_ROWS && ck->n)) {
            int fr = chunk_flush(ctx, ck, pending, &rj, &made, &stopped_at, fatal, sizeof fatal);
            imported += made;
            b.imported += made;
            if (fr != 0) {
                chunk_failed = 1;
                break;
            }
        }
        if (b.open && b.rows >= BATCH_ROWS) {
            size_t n = b.imported;
            if (batch_commit(&b) != PATRON_OK) {
                imported -= n;
                snprintf(fatal, sizeof fatal, "cannot commit: %s", cli_store_errmsg(ctx));
                stopped_at = b.first_line;
                break;
            }
        }
        if (!b.open && batch_begin(&b, rec.line) != PATRON_OK) {
            snprintf(fatal, sizeof fatal, "cannot begin a transaction: %s", cli_store_errmsg(ctx));
            stopped_at = rec.line;
            break;
        }
        b.rows++;

        bad = cli_csv_malformed(&rec, l.n, err, sizeof err);
        if (bad) {
            if (chunk_add(ck, &rec, NULL, bad) < 0) {
                snprintf(fatal, sizeof fatal, "out of memory");
                stopped_at = rec.line;
                break;
            }
            continue;
        }
        if (patron_customer_new(&c) != PATRON_OK) {
            snprintf(fatal, sizeof fatal, "out of memory");
            stopped_at = rec.line;
            break;
        }
        /* '=SUM(A1) as 'patron export' wrote it is =SUM(A1) again (the
         * rejects file writes it back the way it came) */
        if (!args.raw)
            for (size_t f = 0; f < rec.n; f++)
                rec.lens[f] = csv_unneutralise(rec.fields[f], rec.lens[f]);
        st = layout_apply(&l, c, (const char *const *)rec.fields, 0, err, sizeof err);
        /* The proof of a consent the file gives says where it came from:
         * this import, unless the file names its source (an export does). */
        if (st == PATRON_OK && patron_customer_get(c, PATRON_F_NEWSLETTER) &&
            !patron_customer_get(c, PATRON_F_NEWSLETTER_SOURCE) &&
            (st = patron_customer_set(c, PATRON_F_NEWSLETTER_SOURCE, "import")) != PATRON_OK)
            snprintf(err, sizeof err, "%s", patron_customer_errmsg(c));
        if (st != PATRON_OK) {
            patron_customer_free(c);
            c = NULL;
        }
        if (chunk_add(ck, &rec, c, st == PATRON_OK ? NULL : err[0] ? err : patron_status_message(st)) < 0) {
            snprintf(fatal, sizeof fatal, "out of memory");
            stopped_at = rec.line;
            break;
        }
    }
    cli_progress_end(&prog);
    /* The last chunk, unless the import stopped on a failure (then the
     * rows from the stop on are neither imported nor rejected). */
    if (!fatal[0] && ck->n) {
        unsigned long stop = 0;
        chunk_flush(ctx, ck, pending, &rj, &made, &stop, fatal, sizeof fatal);
        imported += made;
        b.imported += made;
        if (stop)
            stopped_at = stop;
    } else if (ck->n && !chunk_failed && ck->r[0].rec.line < stopped_at) {
        /* stopped before the chunk was decided: none of it is imported */
        stopped_at = ck->r[0].rec.line;
    }
    chunk_clear(ck);
    if (b.open) {
        /* The rows of the last batch (before an interruption or a failure,
         * whose own chunk the store has rolled back). */
        size_t n = b.imported;
        if (batch_commit(&b) != PATRON_OK) {
            imported -= n;
            if (!fatal[0])
                snprintf(fatal, sizeof fatal, "cannot commit: %s", cli_store_errmsg(ctx));
            stopped_at = b.first_line;
        }
    }

    if (cli_rejects_close(&rj) != 0 && !fatal[0])
        snprintf(fatal, sizeof fatal, "cannot write '%s': %s", rj.path, strerror(errno));

    printf("imported %zu customers%s, rejected %zu rows%s%s%s\n", imported, pending ? " (pending)" : "", rj.count,
           rj.count ? " (see " : "", rj.count ? rj.path : "", rj.count ? ")" : "");
    if (stopped_at)
        rc = cli_fail(ctx, "%s at line %lu of '%s'%s%s: the rows before it are imported or rejected, "
                           "none from it on",
                      fatal[0] ? "stopped" : "interrupted", stopped_at, path, fatal[0] ? ": " : "", fatal);
    else if (fatal[0])
        rc = cli_fail(ctx, "%s", fatal);
    else if (rj.count)
        rc = cli_fail(ctx, "%zu of %zu rows rejected, see '%s'", rj.count, rows, rj.path);

out:
    if (ck)
        chunk_clear(ck);
    free(ck);
    cli_rejects_free(&rj);
    layout_free(&l);
    cli_csv_close(&in);
    return rc;
}

const cli_command cli_cmd_import = {
    "import", cmd_import, "import customers from a CSV file",
    "import FILE.csv [--pending] [--rejects FILE] [--raw] [--encoding E] [--delimiter D] "
    "[--map COLUMN=FIELD,...] [--map-file FILE]",
    "Import customers from a CSV file.  Every good row becomes an active customer\n"
    "with a new customer number (or the one in its 'number' column); every row\n"
    "the library refuses is written, with its line number and the reason, to the\n"
    "rejects file.  A summary says how many rows were imported and rejected.\n"
    "\n"
    "The encoding is decided from the whole file before anything is imported:\n"
    "UTF-8 (with or without byte order mark), UTF-16 LE or BE (by its byte order\n"
    "mark), else Windows-1252 (what German Excel saves as \"CSV\").  A file it\n"
    "cannot be decided for (UTF-8 beside other bytes, bytes Windows-1252 does not\n"
    "define, NUL bytes) is refused whole; --encoding names it.  A named pipe is\n"
    "judged by its first 64 KiB.  The separator (',' ';' or TAB) is taken from\n"
    "the header line; quoting follows RFC 4180 (separators, line breaks and\n"
    "doubled quotes inside double quotes); lines end in LF or CR LF.  Columns by\n"
    "header name, in any order, compared without case, spaces, '_', '-', '.':\n"
    "  id                 external reference (source 'import', or the\n"
    "                     external_source column)\n"
    "  number             customer number to keep (else a new one is drawn)\n"
    "  salutation title first_name last_name company email phone birth_date\n"
    "                     (YYYY-MM-DD or TT.MM.JJJJ), and every other customer\n"
    "                     field by its name: mobile fax language b2b vat_id\n"
    "                     payment_terms price_category group newsletter\n"
    "                     newsletter_source (shop, import, admin; default\n"
    "                     import) notes order_text login_user\n"
    "  newsletter_at      when the newsletter consent was given (or withdrawn)\n"
    "                     where it comes from, seconds since 1970 as 'patron\n"
    "                     export' writes it: kept instead of the time of the\n"
    "                     import; only with newsletter, not before 1990, not\n"
    "                     in the future (5 minutes of clock skew taken)\n"
    "  street             may hold the house number too ('Hauptstraße 12a')\n"
    "  house_number address_addition postal_code city state\n"
    "  country            ISO code or name ('Deutschland', 'Austria'), default DE\n"
    "  tags               tags separated by '|'\n"
    "  prop.NAME          the custom property NAME\n"
    "German and English headers are understood too: Vorname, Nachname or Name,\n"
    "Straße or Str., Hausnummer, Adresszusatz, PLZ or ZIP, Ort or Stadt, Land,\n"
    "E-Mail or Mail, Telefon or Tel., Mobil or Handy, Fax, Geburtsdatum,\n"
    "Firma or Unternehmen, Anrede, Titel, Kundennummer, USt-IdNr, Kundengruppe,\n"
    "Bemerkung, First name, Last name, ZIP code, Phone, Company, ...\n"
    "Any other column is an error, reported for all of them at once before\n"
    "anything is imported: name them with --map or --map-file.\n",
    import_opts, "FILE", 1, 1,
    "The rejects file is written like the input: its separator, its encoding,\n"
    "its byte order mark and line ends.\n"
    "Rows are saved in transactions of 10000 rows; a refused row costs only\n"
    "itself.  An import interrupted with SIGINT or SIGTERM saves the rows read so\n"
    "far and says at which line it stopped; one that is killed keeps every batch\n"
    "committed before, complete, and nothing of the batch in progress.\n"
    "Exit status: 0 if every row was imported, 1 if any was rejected or the\n"
    "import stopped (the message says at which line).\n",
};

/* ---- export ---------------------------------------------------------------- */

/* A sorted set of property keys. */
typedef struct keyset {
    char **keys;
    size_t n, cap;
} keyset;

static int keyset_add(keyset *ks, const char *key)
{
    size_t lo = 0, hi = ks->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(ks->keys[mid], key);
        if (c == 0)
            return 0;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 16;
        char **p = realloc(ks->keys, cap * sizeof *p);
        if (!p)
            return -1;
        ks->keys = p;
        ks->cap = cap;
    }
    memmove(ks->keys + lo + 1, ks->keys + lo, (ks->n - lo) * sizeof *ks->keys);
    ks->keys[lo] = strdup(key);
    if (!ks->keys[lo]) {
        memmove(ks->keys + lo, ks->keys + lo + 1, (ks->n - lo) * sizeof *ks->keys);
        return -1;
    }
    ks->n++;
    return 0;
}

static void keyset_free(keyset *ks)
{
    size_t i;
    for (i = 0; i < ks->n; i++)
        free(ks->keys[i]);
    free(ks->keys);
}

/* Load customer ids[i]: 1 loaded, 0 skip (gone, merged, or unreadable:
 * reported and counted), <0 error. */
static size_t export_unreadable;

static int load(cli *ctx, int64_t id, patron_customer **c)
{
    return cli_load_listed(ctx, id, c, &export_unreadable);
}

/* The same, silent about unreadable rows (the first of two passes). */
static int load_quietly(cli *ctx, int64_t id, patron_customer **c)
{
    return cli_load_listed(ctx, id, c, NULL);
}

static int export_json(cli *ctx, FILE *out, const int64_t *ids, size_t n)
{
    size_t i, shown = 0;
    cli_progress prog;
    int rc = CLI_OK;

    cli_progress_start(&prog, "export", "customers", n);
    fputs("[", out);
    for (i = 0; i < n; i++) {
        patron_customer *c;
        char *json;
        int k = load(ctx, ids[i], &c);

        if (k < 0) {
            rc = CLI_ERR;
            break;
        }
        if (k == 0)
            continue;
        if (patron_customer_to_json(c, &json, 0) != PATRON_OK) {
            rc = cli_fail(ctx, "JSON: %s", patron_customer_errmsg(c));
            patron_customer_free(c);
            break;
        }
        fputs(shown++ ? ",\n" : "\n", out);
        fputs(json, out);
        patron_free(json);
        patron_customer_free(c);
        if ((i & 255) == 0)
            cli_progress_update(&prog, i, i);
    }
    cli_progress_end(&prog);
    if (rc == CLI_OK)
        fputs(shown ? "\n]\n" : "]\n", out);
    return rc;
}

static int export_csv(cli *ctx, FILE *out, const int64_t *ids, size_t n, int raw, const csv_dialect *d)
{
    char **prop_names = NULL;
    const char *const *std = layout_export_names();
    size_t n_std = 0, i, j;
    keyset ks = { NULL, 0, 0 };
    const char **names = NULL;
    layout l;
    char err[256], *tmp = NULL;
    int rc = CLI_OK;
    cli_progress prog;

    memset(&l, 0, sizeof l);
    while (std[n_std])
        n_std++;

    /* First pass: the property keys, which become columns. */
    cli_progress_start(&prog, "export", "customers", 2 * (uint64_t)n);
    for (i = 0; i < n; i++) {
        patron_customer *c;
        int k = load_quietly(ctx, ids[i], &c);
        size_t np;

        if (k < 0) {
            rc = CLI_ERR;
            goto out;
        }
        if (k == 0)
            continue;
        np = patron_customer_prop_count(c);
        for (j = 0; j < np; j++) {
            const char *key;
            if (patron_customer_prop_at(c, &key, NULL, j) == PATRON_OK && keyset_add(&ks, key) < 0) {
                patron_customer_free(c);
                rc = cli_fail(ctx, "out of memory");
                goto out;
            }
        }
        patron_customer_free(c);
        if ((i & 255) == 0)
            cli_progress_update(&prog, i, i);
    }

    names = calloc(n_std + ks.n + 1, sizeof *names);
    prop_names = calloc(ks.n + 1, sizeof *prop_names);
    if (!names || !prop_names) {
        rc = cli_fail(ctx, "out of memory");
        goto out;
    }
    for (i = 0; i < n_std; i++)
        names[i] = std[i];
    /* custom properties as prop.KEY, which import reads back as such */
    for (i = 0; i < ks.n; i++) {
        size_t kl = strlen(ks.keys[i]);
        if (!(prop_names[i] = malloc(kl + 6))) {
            rc = cli_fail(ctx, "out of memory");
            goto out;
        }
        memcpy(prop_names[i], "prop.", 5);
        memcpy(prop_names[i] + 5, ks.keys[i], kl + 1);
        names[n_std + i] = prop_names[i];
    }
    if (layout_init(&l, names, n_std + ks.n, err, sizeof err) < 0) {
        /* A property named like a standard column ("city") cannot be told
         * apart from it in a CSV. */
        rc = cli_fail(ctx, "cannot export as CSV: %s (use --format json)", err);
        goto out;
    }

    csv_write_bom(out, d);
    for (i = 0; i < l.n; i++) {
        if (i)
            putc(d->sep, out);
        csv_write_str(out, d->sep, names[i]);
    }
    csv_write_eol(out, d);

    /* Second pass: the rows. */
    for (i = 0; i < n; i++) {
        patron_customer *c;
        int k = load(ctx, ids[i], &c);

        if (k < 0) {
            rc = CLI_ERR;
            goto out;
        }
        if (k == 0)
            continue;
        for (j = 0; j < l.n; j++) {
            const char *v;
            if (layout_value(&l, j, c, &v, &tmp) < 0) {
                patron_customer_free(c);
                rc = cli_fail(ctx, "out of memory");
                goto out;
            }
            if (j)
                putc(d->sep, out);
            if (raw)
                csv_write_str(out, d->sep, v);
            else
                csv_write_cell(out, d->sep, v, v ? strlen(v) : 0);
        }
        csv_write_eol(out, d);
        patron_customer_free(c);
        if ((i & 255) == 0)
            cli_progress_update(&prog, n + i, i);
    }

out:
    cli_progress_end(&prog);
    free(tmp);
    layout_free(&l);
    free(names);
    if (prop_names) {
        for (i = 0; i < ks.n; i++)
            free(prop_names[i]);
        free(prop_names);
    }
    keyset_free(&ks);
    return rc;
}

typedef struct export_args {
    int json;
    int which; /* CLI_FILTER_OPTS */
    const char *out;
    int raw;
    int excel;
} export_args;

static const cli_choice export_formats[] = { { "csv", 0 }, { "json", 1 }, { NULL, 0 } };
static const cli_choice export_dialects[] = { { "csv", 0 }, { "excel", 1 }, { NULL, 0 } };

static const cli_opt export_opts[] = {
    { .name = "--format", .kind = CLI_OPT_CHOICE, .target = offsetof(export_args, json), .choices = export_formats,
      .help = "default csv" },
    { .name = "--out", .kind = CLI_OPT_TEXT, .target = offsetof(export_args, out), .arg = "FILE", .needs = "a file name",
      .help = "write to FILE instead of standard output" },
    { .name = "--raw", .kind = CLI_OPT_FLAG, .target = offsetof(export_args, raw), .value = 1,
      .help = "CSV: write every value as it is.  By default a value\n"
              "beginning with = + - @ TAB or CR (a formula to a\n"
              "spreadsheet) gets a ' in front, which 'patron\n"
              "import' removes again." },
    { .name = "--dialect", .kind = CLI_OPT_CHOICE, .target = offsetof(export_args, excel), .choices = export_dialects,
      .help = "CSV: csv (default: ',', UTF-8, LF) or excel (';',\n"
              "UTF-8 with byte order mark, CR LF: opens right in a\n"
              "German Excel by double-click)" },
    { .name = "--excel", .kind = CLI_OPT_FLAG, .target = offsetof(export_args, excel), .value = 1,
      .help = "the same as --dialect excel" },
    CLI_FILTER_OPTS(export_args, which),
    CLI_OPT_TABLE_END,
};

static int cmd_export(cli *ctx, int argc, char **argv)
{
    export_args args = { 0, 0, NULL, 0, 0 };
    csv_dialect d = { ',', CSV_ENC_UTF8, 0, 0 };
    patron_filter filter;
    int rc;
    const char *out_path;
    FILE *out = stdout;
    int64_t *ids = NULL;
    size_t n;

    if ((rc = cli_parse(ctx, argc, argv, &args, NULL, NULL)) >= 0)
        return rc;
    filter = cli_filter(args.which);
    out_path = args.out;
    if (args.excel && args.json)
        return cli_usage(ctx, "--excel and --dialect are for CSV, not JSON");
    if (args.excel) {
        d.sep = ';';
        d.bom = 1;
        d.crlf = 1;
    }
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    if ((rc = cli_collect_ids(ctx, &filter, &ids, &n)) != CLI_OK)
        return rc;
    if (out_path) {
        out = fopen(out_path, "wb");
        if (!out) {
            free(ids);
            return cli_fail(ctx, "cannot write '%s': %s", out_path, strerror(errno));
        }
    }
    export_unreadable = 0;
    rc = args.json ? export_json(ctx, out, ids, n) : export_csv(ctx, out, ids, n, args.raw, &d);
    free(ids);
    if (out != stdout) {
        if ((ferror(out) | fclose(out)) != 0 && rc == CLI_OK)
            rc = cli_fail(ctx, "cannot write '%s': %s", out_path, strerror(errno));
    }
    /* each unreadable row was reported and left out; say so at the end */
    return rc == CLI_OK ? cli_unreadable(ctx, export_unreadable) : rc;
}

const cli_command cli_cmd_export = {
    "export", cmd_export, "write all customers as CSV or JSON",
    "export [--format csv|json] [--excel | --dialect csv|excel] [--out FILE] [--raw] [--pending|--active|--locked]",
    "Write customers to standard output or a file.  CSV has the import layout\n"
    "(one address per customer: the default one), so that an export imports\n"
    "again unchanged; custom properties follow as columns of their own, named\n"
    "prop.KEY and sorted by key.  --excel writes what a German Excel opens by\n"
    "double-click: ';' between fields, UTF-8 with byte order mark, CR LF.\n"
    "JSON is an array of customer objects with snake_case names and all\n"
    "addresses.  Neither ever contains a password hash.  Merged-away\n"
    "customers are left out, and so is a stored row the library cannot read\n"
    "(invalid UTF-8 written by another program): it is named on stderr and the\n"
    "exit status is 1.  In CSV, values a spreadsheet would run as formulas\n"
    "(beginning with = + - @ TAB CR) get a ' in front, which import removes;\n"
    "--raw writes them as stored.\n",
    export_opts, NULL, 0, 0, NULL,
};
