/*
 * patron — the import command.
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
#include <strings.h>
#include <sys/stat.h>

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Stop at the next row on SIGINT / SIGTERM, so that the summary is printed
 * and says where the import stopped.  (Every row is its own transaction, so
 * a harder kill loses nothing either.) */
static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef struct rejects {
    const char *path;
    FILE *f;
    int sep;
    char **header;
    size_t n_header;
    long login_hash; /* column never copied to the rejects file */
    size_t count;
} rejects;

static int reject(rejects *rj, const csv_record *rec, const char *reason)
{
    size_t i;
    char line[32];

    if (!rj->f) {
        rj->f = fopen(rj->path, "wb");
        if (!rj->f)
            return -1;
        csv_write_str(rj->f, rj->sep, "line");
        putc(rj->sep, rj->f);
        csv_write_str(rj->f, rj->sep, "reason");
        for (i = 0; i < rj->n_header; i++) {
            putc(rj->sep, rj->f);
            csv_write_str(rj->f, rj->sep, rj->header[i]);
        }
        putc('\n', rj->f);
    }
    snprintf(line, sizeof line, "%lu", rec->line);
    csv_write_str(rj->f, rj->sep, line);
    putc(rj->sep, rj->f);
    csv_write_str(rj->f, rj->sep, reason);
    for (i = 0; i < rec->n; i++) {
        putc(rj->sep, rj->f);
        if ((long)i != rj->login_hash)
            csv_write_field(rj->f, rj->sep, rec->fields[i], rec->lens[i]);
    }
    putc('\n', rj->f);
    rj->count++;
    return ferror(rj->f) ? -1 : 0;
}

/*
 * Rows are saved in batches of BATCH_ROWS customers per transaction (the
 * SQLite store's host transaction; each row inside is a savepoint, so a
 * refused row costs only itself).  One transaction per row would make an
 * import wait for a disk sync per customer.
 */
#define BATCH_ROWS 10000

typedef struct batch {
    patron_sqlite *store;
    int open;
    unsigned long first_line; /* of the open batch */
    size_t rows;              /* rows read in the open batch */
    size_t imported;          /* customers created in the open batch */
} batch;

static patron_status batch_begin(batch *b, unsigned long line)
{
    patron_status st = patron_sqlite_begin(b->store);
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
    patron_status st = patron_sqlite_commit(b->store);
    if (st != PATRON_OK)
        patron_sqlite_rollback(b->store);
    b->open = 0;
    return st;
}

/* "dir/customers.csv" -> "dir/customers.rejects.csv" */
static char *default_rejects_path(const char *input)
{
    size_t n = strlen(input);
    char *p;

    if (n > 4 && !strcasecmp(input + n - 4, ".csv"))
        n -= 4;
    p = malloc(n + sizeof ".rejects.csv");
    if (p) {
        memcpy(p, input, n);
        memcpy(p + n, ".rejects.csv", sizeof ".rejects.csv");
    }
    return p;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Check a record before it goes to the library; NULL if it is well-formed. */
static const char *malformed(const csv_record *rec, size_t n_header, char *buf, size_t cap)
{
    size_t i;

    if (rec->error)
        return rec->error;
    if (rec->n != n_header) {
        snprintf(buf, cap, "the row has %zu fields, the header %zu", rec->n, n_header);
        return buf;
    }
    for (i = 0; i < rec->n; i++) {
        if (strlen(rec->fields[i]) != rec->lens[i]) {
            snprintf(buf, cap, "field %zu contains a NUL byte", i + 1);
            return buf;
        }
    }
    return NULL;
}

int cmd_import(cli *ctx, int argc, char **argv)
{
    cli_args a;
    int k, rc, pending = 0;
    const char *path = NULL, *rejects_path = NULL;
    char *default_rejects = NULL;
    FILE *in = NULL;
    csv_reader *r = NULL;
    csv_record rec;
    layout l;
    rejects rj;
    size_t i, imported = 0, rows = 0;
    unsigned long stopped_at = 0;
    batch b;
    char fatal[700] = "";
    struct stat st_in;
    cli_progress prog;
    char err[512];

    memset(&l, 0, sizeof l);
    memset(&rj, 0, sizeof rj);
    memset(&b, 0, sizeof b);
    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a)) != CLI_ARG_END) {
        if (k == CLI_ARG_POS) {
            if (path)
                return cli_usage(ctx, "give one FILE");
            path = a.operand;
        } else if (cli_args_is(&a, "--pending")) {
            if ((rc = cli_args_flag_ok(ctx, &a)) >= 0)
                return rc;
            pending = 1;
        } else if (cli_args_is(&a, "--rejects")) {
            rejects_path = cli_args_value(&a);
            if (!rejects_path || !rejects_path[0])
                return cli_usage(ctx, "option '--rejects' needs a file name");
        } else if ((rc = cli_args_common(ctx, &a)) >= 0) {
            return rc;
        }
    }
    if (!path)
        return cli_usage(ctx, "no FILE given");
    in = fopen(path, "rb");
    if (!in)
        return cli_fail(ctx, "cannot open '%s': %s", path, strerror(errno));
    if (csv_reader_open(&r, in, 0) < 0) {
        rc = cli_fail(ctx, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    k = csv_read(r, &rec);
    if (k <= 0) {
        rc = k < 0 ? cli_fail(ctx, "cannot read '%s': %s", path, strerror(errno))
                   : cli_fail(ctx, "'%s' is empty: a header line is needed", path);
        goto out;
    }
    if (rec.error) {
        rc = cli_fail(ctx, "%s, line 1 (header): %s", path, rec.error);
        goto out;
    }
    if (malformed(&rec, rec.n, err, sizeof err)) {
        rc = cli_fail(ctx, "%s, line 1 (header): %s", path, err);
        goto out;
    }
    if (layout_init(&l, (const char *const *)rec.fields, rec.n, err, sizeof err) < 0) {
        rc = cli_fail(ctx, "%s: %s", path, err);
        goto out;
    }

    /* The rejects file repeats the header. */
    rj.sep = csv_reader_sep(r);
    rj.login_hash = l.login_hash;
    rj.n_header = rec.n;
    rj.header = calloc(rec.n, sizeof *rj.header);
    if (!rj.header) {
        rc = cli_fail(ctx, "out of memory");
        goto out;
    }
    for (i = 0; i < rec.n; i++) {
        rj.header[i] = strdup(rec.fields[i]);
        if (!rj.header[i]) {
            rc = cli_fail(ctx, "out of memory");
            goto out;
        }
    }
    if (!rejects_path)
        rejects_path = default_rejects = default_rejects_path(path);
    if (!rejects_path) {
        rc = cli_fail(ctx, "out of memory");
        goto out;
    }
    if (!strcmp(rejects_path, path) || same_file(rejects_path, path)) {
        rc = cli_fail(ctx, "the rejects file must not be the input file");
        goto out;
    }
    rj.path = rejects_path;

    if ((rc = cli_open_db(ctx, 1)) != CLI_OK)
        goto out;

    b.store = ctx->store;
    catch_signals();
    cli_progress_start(&prog, "import", "rows",
                       fstat(fileno(in), &st_in) == 0 && S_ISREG(st_in.st_mode) ? (uint64_t)st_in.st_size : 0);
    for (;;) {
        const char *bad;
        patron_customer *c;
        patron_status st;

        k = csv_read(r, &rec);
        if (k < 0) {
            snprintf(fatal, sizeof fatal, "cannot read on: %s", strerror(errno));
            stopped_at = csv_reader_line(r);
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
            cli_progress_update(&prog, csv_reader_offset(r), rows);
        if (b.open && b.rows >= BATCH_ROWS) {
            size_t n = b.imported;
            if (batch_commit(&b) != PATRON_OK) {
                imported -= n;
                snprintf(fatal, sizeof fatal, "cannot commit: %s", patron_sqlite_errmsg(b.store));
                stopped_at = b.first_line;
                break;
            }
        }
        if (!b.open && batch_begin(&b, rec.line) != PATRON_OK) {
            snprintf(fatal, sizeof fatal, "cannot begin a transaction: %s", patron_sqlite_errmsg(b.store));
            stopped_at = rec.line;
            break;
        }
        b.rows++;

        bad = malformed(&rec, l.n, err, sizeof err);
        if (bad) {
            if (reject(&rj, &rec, bad) < 0) {
                snprintf(fatal, sizeof fatal, "cannot write '%s': %s", rj.path, strerror(errno));
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
        st = layout_apply(&l, c, (const char *const *)rec.fields, 0, err, sizeof err);
        if (st == PATRON_OK) {
            /* --pending: a shop registration, without a number; refused
             * for the email of a locked customer or of a pending one; an
             * active customer's email is fine (activation merges). */
            st = pending ? patron_db_register(ctx->db, NULL, c) : patron_db_create(ctx->db, c);
            if (st != PATRON_OK)
                snprintf(err, sizeof err, "%s", patron_db_errmsg(ctx->db));
        }
        patron_customer_free(c);
        if (st == PATRON_OK) {
            imported++;
            b.imported++;
        } else if (st == PATRON_E_INVALID || st == PATRON_E_EXISTS || st == PATRON_E_STATE ||
                   st == PATRON_E_NOT_FOUND || st == PATRON_E_AMBIGUOUS || st == PATRON_E_LOCKED) {
            /* Something about this row: reject it, go on. */
            if (reject(&rj, &rec, err[0] ? err : patron_status_message(st)) < 0) {
                snprintf(fatal, sizeof fatal, "cannot write '%s': %s", rj.path, strerror(errno));
                stopped_at = rec.line;
                break;
            }
        } else {
            /* The store or memory failed: nothing more will work. */
            snprintf(fatal, sizeof fatal, "%s: %s", patron_status_message(st), err);
            stopped_at = rec.line;
            break;
        }
    }
    cli_progress_end(&prog);
    if (b.open) {
        /* The rows of the last batch (before an interruption or a failure,
         * whose own row the store has rolled back). */
        size_t n = b.imported;
        if (batch_commit(&b) != PATRON_OK) {
            imported -= n;
            if (!fatal[0])
                snprintf(fatal, sizeof fatal, "cannot commit: %s", patron_sqlite_errmsg(b.store));
            stopped_at = b.first_line;
        }
    }

    if (rj.f && fclose(rj.f) != 0 && !fatal[0])
        snprintf(fatal, sizeof fatal, "cannot write '%s': %s", rj.path, strerror(errno));
    rj.f = NULL;

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
    if (rj.f)
        fclose(rj.f);
    if (rj.header) {
        for (i = 0; i < rj.n_header; i++)
            free(rj.header[i]);
        free(rj.header);
    }
    free(default_rejects);
    layout_free(&l);
    csv_reader_free(r);
    if (in)
        fclose(in);
    return rc;
}
