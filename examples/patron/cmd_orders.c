/*
 * patron — the tool's own demo table of orders, kept in the same file as
 * patron's tables and configured as the store's ref table, so that merges
 * re-link it and undo restores it: import-orders, orders.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

static int sql_fail(cli *ctx, sqlite3 *h, const char *what)
{
    return cli_fail(ctx, "%s: %s", what, sqlite3_errmsg(h));
}

typedef struct import_orders_args {
    const char *rejects;
} import_orders_args;

static const cli_opt import_orders_opts[] = {
    { .name = "--rejects", .kind = CLI_OPT_TEXT, .target = offsetof(import_orders_args, rejects), .arg = "FILE", .needs = "a file name",
      .help = "where rejected rows go (default: FILE.rejects.csv\n"
              "beside the input)" },
    CLI_OPT_TABLE_END,
};

static int cmd_import_orders(cli *ctx, int argc, char **argv)
{
    import_orders_args args = { NULL };
    const char **ops;
    int k, rc = CLI_OK;
    const char *path;
    cli_csv in;
    cli_rejects rj;
    csv_record rec;
    long col_order = -1, col_customer = -1, col_total = -1;
    size_t i, imported = 0, rows = 0;
    sqlite3 *h;
    sqlite3_stmt *ins = NULL;
    int in_tx = 0;

    memset(&rj, 0, sizeof rj);
    if ((rc = cli_parse(ctx, argc, argv, &args, &ops, NULL)) >= 0)
        return rc;
    path = ops[0];
    if ((rc = cli_csv_open(ctx, &in, path, 0, NULL)) != CLI_OK)
        return rc;
    if ((rc = cli_rejects_init(ctx, &rj, &in, args.rejects)) != CLI_OK)
        goto out;
    for (i = 0; i < in.n_header; i++) {
        const char *hname = in.header[i];
        if (!strcasecmp(hname, "order_id"))
            col_order = (long)i;
        else if (!strcasecmp(hname, "customer"))
            col_customer = (long)i;
        else if (!strcasecmp(hname, "total"))
            col_total = (long)i;
    }
    if (col_order < 0 || col_customer < 0) {
        rc = cli_fail(ctx, "%s: the header needs the columns order_id and customer (total is optional)", path);
        goto out;
    }
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        goto out;
    h = patron_sqlite_handle(ctx->store);
    /* One transaction: every good row, or nothing. */
    if (patron_sqlite_begin(ctx->store) != PATRON_OK) {
        rc = cli_fail(ctx, "cannot begin a transaction: %s", patron_sqlite_errmsg(ctx->store));
        goto out;
    }
    in_tx = 1;
    if (sqlite3_prepare_v2(h, "INSERT INTO " CLI_ORDERS_TABLE "(order_id, customer_id, total) VALUES (?1, ?2, ?3)", -1, &ins,
                           NULL) != SQLITE_OK) {
        rc = sql_fail(ctx, h, "prepare");
        goto out;
    }
    for (;;) {
        char reason[700] = "";
        const char *bad;
        patron_customer *c = NULL;

        k = csv_read(in.r, &rec);
        if (k < 0) {
            rc = cli_fail(ctx, "cannot read '%s' at line %lu: %s", path, csv_reader_line(in.r), strerror(errno));
            goto out;
        }
        if (k == 0)
            break;
        rows++;
        if ((bad = cli_csv_malformed(&rec, in.n_header, reason, sizeof reason)) != NULL) {
            if (bad != reason)
                snprintf(reason, sizeof reason, "%s", bad);
        } else if (!rec.fields[col_order][0])
            snprintf(reason, sizeof reason, "no order_id");
        else if (cli_resolve_customer(ctx, rec.fields[col_customer], &c, NULL, reason, sizeof reason) == CLI_OK &&
                 patron_customer_state(c) == PATRON_STATE_MERGED)
            snprintf(reason, sizeof reason, "customer '%s' was merged into another; give the survivor",
                     rec.fields[col_customer]);
        if (!reason[0]) {
            int src;
            sqlite3_bind_text(ins, 1, rec.fields[col_order], -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins, 2, patron_customer_id(c));
            if (col_total >= 0 && rec.fields[col_total][0])
                sqlite3_bind_text(ins, 3, rec.fields[col_total], -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(ins, 3);
            src = sqlite3_step(ins);
            if (src == SQLITE_DONE)
                imported++;
            else if (src == SQLITE_CONSTRAINT)
                snprintf(reason, sizeof reason, "order '%s' is there already", rec.fields[col_order]);
            else
                snprintf(reason, sizeof reason, "%s", sqlite3_errmsg(h));
            sqlite3_reset(ins);
            sqlite3_clear_bindings(ins);
            if (src != SQLITE_DONE && src != SQLITE_CONSTRAINT) {
                patron_customer_free(c);
                rc = cli_fail(ctx, "line %lu: %s", rec.line, reason);
                goto out;
            }
        }
        patron_customer_free(c);
        if (reason[0] && cli_reject(&rj, &rec, reason) < 0) {
            rc = cli_fail(ctx, "cannot write '%s': %s", rj.path, strerror(errno));
            goto out;
        }
    }
    sqlite3_finalize(ins);
    ins = NULL;
    in_tx = 0;
    if (patron_sqlite_commit(ctx->store) != PATRON_OK) {
        patron_sqlite_rollback(ctx->store);
        rc = cli_fail(ctx, "cannot commit: %s", patron_sqlite_errmsg(ctx->store));
        goto out;
    }
    if (cli_rejects_close(&rj) != 0) {
        rc = cli_fail(ctx, "cannot write '%s': %s", rj.path, strerror(errno));
        goto out;
    }
    printf("imported %zu orders, rejected %zu rows%s%s%s\n", imported, rj.count, rj.count ? " (see " : "",
           rj.count ? rj.path : "", rj.count ? ")" : "");
    if (rj.count)
        rc = cli_fail(ctx, "%zu of %zu rows rejected, see '%s'", rj.count, rows, rj.path);
out:
    sqlite3_finalize(ins);
    if (in_tx)
        patron_sqlite_rollback(ctx->store);
    cli_rejects_free(&rj);
    cli_csv_close(&in);
    return rc;
}

const cli_command cli_cmd_import_orders = {
    "import-orders", cmd_import_orders, "load orders into the tool's demo orders table",
    "import-orders FILE.csv [--rejects FILE]",
    "Load orders into the tool's own demo table orders(order_id, customer_id,\n"
    "total), beside patron's tables; merges re-link it and undo restores it.  The CSV has the columns\n"
    "order_id, customer (a KEY) and optionally total, by header name.  All\n"
    "good rows are loaded in one transaction; rows with an unknown customer, an\n"
    "order id that is there already or a malformed line are written, with the\n"
    "line number and the reason, to the rejects file.\n",
    import_orders_opts, "FILE", 1, 1,
    "Exit status: 0 if every row was loaded, 1 if any was rejected.\n",
};

static int cmd_orders(cli *ctx, int argc, char **argv)
{
    int rc, src;
    patron_customer *c = NULL;
    sqlite3 *h;
    sqlite3_stmt *q = NULL;

    if ((rc = cli_one_customer(ctx, argc, argv, NULL, &c)) >= 0)
        return rc;
    rc = CLI_OK;
    h = patron_sqlite_handle(ctx->store);
    if (sqlite3_prepare_v2(h, "SELECT order_id, total FROM " CLI_ORDERS_TABLE " WHERE customer_id = ?1 ORDER BY order_id", -1,
                           &q, NULL) != SQLITE_OK) {
        rc = sql_fail(ctx, h, "orders");
        goto out;
    }
    sqlite3_bind_int64(q, 1, patron_customer_id(c));
    while ((src = sqlite3_step(q)) == SQLITE_ROW) {
        const unsigned char *total = sqlite3_column_text(q, 1);
        printf("%s\t%s\n", (const char *)sqlite3_column_text(q, 0), total ? (const char *)total : "");
    }
    if (src != SQLITE_DONE)
        rc = sql_fail(ctx, h, "orders");
out:
    sqlite3_finalize(q);
    patron_customer_free(c);
    return rc;
}

const cli_command cli_cmd_orders = {
    "orders", cmd_orders, "list a customer's orders",
    "orders KEY",
    "List the orders of a customer: order id and total, separated by a tab,\n"
    "sorted by order id.\n" CLI_KEY_HELP,
    NULL, "KEY", 1, 1, NULL,
};
