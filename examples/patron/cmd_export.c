/*
 * patron — the export command.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"
#include "columns.h"
#include "csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* Load customer ids[i]; 1 loaded, 0 skip (gone or merged), <0 error. */
static int load(cli *ctx, int64_t id, patron_customer **c)
{
    patron_status st = patron_db_load(ctx->db, c, id);

    if (st == PATRON_E_NOT_FOUND)
        return 0;
    if (st != PATRON_OK) {
        *c = NULL;
        cli_fail_db(ctx, st, "load");
        return -1;
    }
    if (patron_customer_state(*c) == PATRON_STATE_MERGED) {
        patron_customer_free(*c);
        return 0;
    }
    return 1;
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

static int export_csv(cli *ctx, FILE *out, const int64_t *ids, size_t n)
{
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
        int k = load(ctx, ids[i], &c);
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
    if (!names) {
        rc = cli_fail(ctx, "out of memory");
        goto out;
    }
    for (i = 0; i < n_std; i++)
        names[i] = std[i];
    for (i = 0; i < ks.n; i++)
        names[n_std + i] = ks.keys[i];
    if (layout_init(&l, names, n_std + ks.n, err, sizeof err) < 0) {
        /* A property named like a standard column ("city") cannot be told
         * apart from it in a CSV. */
        rc = cli_fail(ctx, "cannot export as CSV: %s (use --format json)", err);
        goto out;
    }

    for (i = 0; i < l.n; i++) {
        if (i)
            putc(',', out);
        csv_write_str(out, ',', names[i]);
    }
    putc('\n', out);

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
                putc(',', out);
            csv_write_str(out, ',', v);
        }
        putc('\n', out);
        patron_customer_free(c);
        if ((i & 255) == 0)
            cli_progress_update(&prog, n + i, i);
    }

out:
    cli_progress_end(&prog);
    free(tmp);
    layout_free(&l);
    free(names);
    keyset_free(&ks);
    return rc;
}

int cmd_export(cli *ctx, int argc, char **argv)
{
    cli_args a;
    patron_filter filter = PATRON_FILTER_INIT;
    int given = 0, rc, k, json = 0;
    const char *out_path = NULL, *fmt;
    FILE *out = stdout;
    int64_t *ids = NULL;
    size_t n;

    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a)) != CLI_ARG_END) {
        if (k == CLI_ARG_POS)
            return cli_usage(ctx, "unexpected argument '%s'", a.operand);
        if (cli_args_is(&a, "--format")) {
            fmt = cli_args_value(&a);
            if (fmt && !strcmp(fmt, "csv"))
                json = 0;
            else if (fmt && !strcmp(fmt, "json"))
                json = 1;
            else
                return cli_usage(ctx, "--format takes csv or json");
        } else if (cli_args_is(&a, "--out")) {
            out_path = cli_args_value(&a);
            if (!out_path || !out_path[0])
                return cli_usage(ctx, "option '--out' needs a file name");
        } else if ((rc = cli_filter_option(ctx, &a, &filter, &given)) > 0) {
            return rc;
        } else if (rc == 0 && (rc = cli_args_common(ctx, &a)) >= 0) {
            return rc;
        }
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
    rc = json ? export_json(ctx, out, ids, n) : export_csv(ctx, out, ids, n);
    free(ids);
    if (out != stdout) {
        if ((ferror(out) | fclose(out)) != 0 && rc == CLI_OK)
            rc = cli_fail(ctx, "cannot write '%s': %s", out_path, strerror(errno));
    }
    return rc;
}
