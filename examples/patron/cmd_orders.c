/*
 * patron — the tool's own demo table of orders, kept in the same database as
 * patron's tables (SQL in store.c) and configured as the store's ref table, so that merges
 * re-link it and undo restores it: import-orders, orders.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    /* One transaction: every good row, or nothing. */
    if (cli_begin(ctx) != PATRON_OK) {
        rc = cli_fail(ctx, "cannot begin a transaction: %s", cli_store_errmsg(ctx));
        goto out;
    }
    in_tx = 1;
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
            int added = cli_orders_insert(ctx, rec.fields[col_order], patron_customer_id(c),
                                          col_total >= 0 && rec.fields[col_total][0] ? rec.fields[col_total] : NULL,
                                          reason, sizeof reason);
            if (added > 0)
                imported++;
            else if (added < 0) {
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
    cli_orders_done(ctx);
    in_tx = 0;
    if (cli_commit(ctx) != PATRON_OK) {
        rc = cli_fail(ctx, "cannot commit: %s", cli_store_errmsg(ctx));
        cli_rollback(ctx);
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
    cli_orders_done(ctx);
    if (in_tx)
        cli_rollback(ctx);
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
    int rc;
    patron_customer *c = NULL;

    if ((rc = cli_one_customer(ctx, argc, argv, NULL, &c)) >= 0)
        return rc;
    rc = cli_orders_list(ctx, patron_customer_id(c));
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
