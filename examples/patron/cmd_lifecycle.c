/*
 * patron — the shop customer lifecycle (issue 6): activate, release, lock,
 * unlock, can-login, and customer groups.  (register is beside create in
 * cmd_customer.c.)
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- activate ------------------------------------------------------------- */

static int parse_mode(const char *v)
{
    if (!strcmp(v, "interactive"))
        return PATRON_ACTIVATE_INTERACTIVE;
    if (!strcmp(v, "auto") || !strcmp(v, "automatic"))
        return PATRON_ACTIVATE_AUTO;
    if (!strcmp(v, "email"))
        return PATRON_ACTIVATE_EMAIL;
    return -1;
}

typedef struct activation_report {
    cli *ctx;
    int mode;
} activation_report;

/* "    K000007  merge   12.34  Max Müller, 10115 Berlin" for each candidate. */
static void print_candidates(cli *ctx, const patron_activation *a)
{
    size_t i, n = patron_activation_candidate_count(a);
    char key[32], label[400];

    for (i = 0; i < n; i++) {
        double score = 0;
        patron_decision decision = PATRON_DECISION_DISTINCT;
        int64_t id = 0;
        patron_customer *c = NULL;

        if (patron_activation_candidate(a, &id, &score, &decision, i) != PATRON_OK)
            continue;

        if (patron_db_load(ctx->db, &c, id) != PATRON_OK) {
            printf("    #%" PRId64 "  %-6s  %6.2f\n", id, patron_decision_name(decision), score);
            continue;
        }
        printf("    %-10s %-6s  %6.2f  %s\n", cli_customer_key(c, key, sizeof key), patron_decision_name(decision),
               score, cli_customer_label(c, label, sizeof label));
        patron_customer_free(c);
    }
}

static int report_one(void *payload, const patron_activation *a)
{
    activation_report *r = payload;
    int64_t id = patron_activation_customer(a);
    const char *num = patron_activation_number(a);
    size_t n = patron_activation_candidate_count(a);

    switch (patron_activation_outcome(a)) {
    case PATRON_OUTCOME_ACTIVATED:
        printf("#%" PRId64 " activated as %s", id, num ? num : "?");
        if (n)
            printf("; %zu possible duplicate%s to review:\n", n, n == 1 ? "" : "s");
        else
            putchar('\n');
        print_candidates(r->ctx, a);
        break;
    case PATRON_OUTCOME_MERGED:
        printf("#%" PRId64 " merged into %s (journal %" PRId64 ")\n", id, num ? num : "?",
               patron_activation_journal(a));
        break;
    case PATRON_OUTCOME_REVIEW:
        printf("#%" PRId64 " %s\n", id, patron_activation_message(a));
        print_candidates(r->ctx, a);
        if (n && r->mode == PATRON_ACTIVATE_INTERACTIVE) {
            int64_t best = 0;
            patron_customer *c = NULL;
            char key[32];
            if (patron_activation_candidate(a, &best, NULL, NULL, 0) == PATRON_OK &&
                patron_db_load(r->ctx->db, &c, best) == PATRON_OK) {
                printf("    compare: patron merge-plan %s #%" PRId64 "; then patron merge %s #%" PRId64
                       " or patron release #%" PRId64 "\n",
                       cli_customer_key(c, key, sizeof key), id, key, id, id);
                patron_customer_free(c);
            }
        }
        break;
    default:
        printf("#%" PRId64 " %s\n", id, patron_activation_message(a));
        break;
    }
    return 0;
}

int cmd_activate(cli *ctx, int argc, char **argv)
{
    cli_args a;
    int k, rc, mode = PATRON_ACTIVATE_INTERACTIVE, all = 0;
    unsigned flags = 0;
    const char *key = NULL;
    patron_status st;
    activation_report rep;

    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a)) != CLI_ARG_END) {
        if (k == CLI_ARG_POS) {
            if (key)
                return cli_usage(ctx, "give one KEY");
            key = a.operand;
        } else if (cli_args_is(&a, "--all-pending")) {
            if ((rc = cli_args_flag_ok(ctx, &a)) >= 0)
                return rc;
            all = 1;
        } else if (cli_args_is(&a, "--locked-survivors")) {
            if ((rc = cli_args_flag_ok(ctx, &a)) >= 0)
                return rc;
            flags |= PATRON_ACTIVATE_LOCKED_SURVIVORS;
        } else if (cli_args_is(&a, "--mode")) {
            const char *v = cli_args_value(&a);
            if (!v)
                return cli_usage(ctx, "option '--mode' needs interactive, auto or email");
            if ((mode = parse_mode(v)) < 0)
                return cli_usage(ctx, "unknown mode '%s' (interactive, auto or email)", v);
        } else if ((rc = cli_args_common(ctx, &a)) >= 0) {
            return rc;
        }
    }
    if (!key == !all)
        return cli_usage(ctx, all ? "give a KEY or --all-pending, not both" : "no KEY given (or --all-pending)");
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    rep.ctx = ctx;
    rep.mode = mode;

    if (all) {
        patron_activation_summary sum = PATRON_ACTIVATION_SUMMARY_INIT;
        patron_activate_options opts = PATRON_ACTIVATE_OPTIONS_INIT;
        size_t na, nm, nr, nf;
        opts.mode = mode;
        opts.flags = flags;
        opts.fn = report_one;
        opts.payload = &rep;
        st = patron_db_activate_pending(ctx->db, &sum, &opts);
        na = sum.activated;
        nm = sum.merged;
        nr = sum.review;
        nf = sum.failed;
        if (st != PATRON_OK)
            return cli_fail_db(ctx, st, "activate");
        printf("%zu activated, %zu merged, %zu need%s review, %zu failed\n", na, nm, nr, nr == 1 ? "s" : "",
               nf);
        if (nf)
            return cli_fail(ctx, "%zu customer%s could not be activated", nf, nf == 1 ? "" : "s");
        return CLI_OK;
    } else {
        patron_customer *c = NULL;
        patron_activation *res = NULL;
        if ((rc = cli_find_customer(ctx, key, &c)) != CLI_OK)
            return rc;
        st = patron_db_activate(ctx->db, &res, patron_customer_id(c), mode, flags);
        patron_customer_free(c);
        if (st != PATRON_OK)
            return cli_fail_db(ctx, st, "activate");
        report_one(&rep, res);
        patron_activation_free(res);
        return CLI_OK;
    }
}

/* ---- release, lock, unlock ----------------------------------------------- */

/* The one KEY operand of a command, resolved: -1 with *c set, else the
 * exit code to return (also CLI_OK, after --help). */
static int one_customer(cli *ctx, int argc, char **argv, patron_customer **c)
{
    char **ops;
    size_t n;
    int rc;

    *c = NULL;
    if ((rc = cli_operands(ctx, argc, argv, &ops, &n)) >= 0)
        return rc;
    if (n != 1) {
        free(ops);
        return cli_usage(ctx, n ? "give one KEY" : "no KEY given");
    }
    rc = cli_open_db(ctx, 0);
    if (rc == CLI_OK)
        rc = cli_find_customer(ctx, ops[0], c);
    free(ops);
    return rc == CLI_OK ? -1 : rc;
}

int cmd_release(cli *ctx, int argc, char **argv)
{
    patron_customer *c;
    char *num = NULL;
    patron_status st;
    int rc;

    if ((rc = one_customer(ctx, argc, argv, &c)) >= 0)
        return rc;
    rc = CLI_OK;
    st = patron_db_release(ctx->db, &num, patron_customer_id(c));
    if (st == PATRON_OK)
        printf("#%" PRId64 " released as %s\n", patron_customer_id(c), num);
    else
        rc = cli_fail_db(ctx, st, "release");
    patron_free(num);
    patron_customer_free(c);
    return rc;
}

int cmd_lock(cli *ctx, int argc, char **argv)
{
    cli_args a;
    int k, rc;
    const char *key = NULL, *reason = NULL;
    patron_customer *c;
    patron_status st;
    char buf[32];

    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a)) != CLI_ARG_END) {
        if (k == CLI_ARG_POS) {
            if (key)
                return cli_usage(ctx, "give one KEY");
            key = a.operand;
        } else if (cli_args_is(&a, "--reason")) {
            reason = cli_args_value(&a);
            if (!reason || !reason[0])
                return cli_usage(ctx, "option '--reason' needs a text");
        } else if ((rc = cli_args_common(ctx, &a)) >= 0) {
            return rc;
        }
    }
    if (!key)
        return cli_usage(ctx, "no KEY given");
    if (!reason)
        return cli_usage(ctx, "a lock needs --reason TEXT");
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK || (rc = cli_find_customer(ctx, key, &c)) != CLI_OK)
        return rc;
    st = patron_db_lock(ctx->db, patron_customer_id(c), reason);
    if (st == PATRON_OK)
        printf("locked %s: %s\n", cli_customer_key(c, buf, sizeof buf), reason);
    else
        rc = cli_fail_db(ctx, st, "lock");
    patron_customer_free(c);
    return rc;
}

int cmd_unlock(cli *ctx, int argc, char **argv)
{
    patron_customer *c;
    patron_status st;
    char buf[32];
    int rc;

    if ((rc = one_customer(ctx, argc, argv, &c)) >= 0)
        return rc;
    rc = CLI_OK;
    st = patron_db_unlock(ctx->db, patron_customer_id(c));
    if (st == PATRON_OK)
        printf("%s %s\n", patron_customer_locked(c) ? "unlocked" : "was not locked:",
               cli_customer_key(c, buf, sizeof buf));
    else
        rc = cli_fail_db(ctx, st, "unlock");
    patron_customer_free(c);
    return rc;
}

/* ---- can-login ----------------------------------------------------------- */

int cmd_can_login(cli *ctx, int argc, char **argv)
{
    char **ops;
    size_t n;
    int rc;
    patron_gate verdict = PATRON_GATE_UNKNOWN;
    int64_t id = 0;
    patron_status st;
    patron_customer *c = NULL;
    char key[32], label[400];
    const char *login;

    if ((rc = cli_operands(ctx, argc, argv, &ops, &n)) >= 0)
        return rc;
    if (n != 1) {
        free(ops);
        return cli_usage(ctx, n ? "give one LOGIN" : "no LOGIN given");
    }
    login = ops[0];
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        goto out;
    st = patron_db_can_login(ctx->db, &verdict, &id, login);
    if (st != PATRON_OK) {
        rc = cli_fail_db(ctx, st, login);
        goto out;
    }
    if (id > 0 && patron_db_load(ctx->db, &c, id) != PATRON_OK)
        c = NULL;
    if (c)
        cli_customer_key(c, key, sizeof key);
    else
        snprintf(key, sizeof key, "#%" PRId64, id);
    switch (verdict) {
    case PATRON_GATE_ALLOWED:
        printf("%s may log in: %s (%s)\n", login, key, c ? cli_customer_label(c, label, sizeof label) : "");
        rc = CLI_OK;
        break;
    case PATRON_GATE_LOCKED: {
        const char *why = c ? patron_customer_get(c, PATRON_F_LOCK_REASON) : NULL;
        rc = cli_fail(ctx, "%s may not log in: %s is locked%s%s", login, key, why ? ": " : "", why ? why : "");
        break;
    }
    case PATRON_GATE_PENDING:
        rc = cli_fail(ctx, "%s may not log in: %s is not yet activated", login, key);
        break;
    case PATRON_GATE_MERGED:
        rc = cli_fail(ctx, "%s may not log in: merged into %s; use the survivor's login", login, key);
        break;
    case PATRON_GATE_UNKNOWN:
        rc = cli_fail(ctx, "%s may not log in: unknown customer", login);
        break;
    default:
        rc = cli_fail(ctx, "%s may not log in: answer %d", login, (int)verdict);
        break;
    }
out:
    patron_customer_free(c);
    free(ops);
    return rc;
}

/* ---- groups ----------------------------------------------------------------- */

static int groups_list(cli *ctx, int as_json)
{
    char *text = NULL;
    patron_status st = patron_db_groups_to_json(ctx->db, &text);
    json *j;
    size_t i, wn = 4, wp = 14;

    if (st != PATRON_OK)
        return cli_fail_db(ctx, st, "groups");
    if (as_json) {
        printf("%s\n", text);
        patron_free(text);
        return CLI_OK;
    }
    j = json_parse(text);
    patron_free(text);
    if (!j || j->type != JSON_ARRAY) {
        json_free(j);
        return cli_fail(ctx, "groups: the library's answer is no JSON array");
    }
    if (j->n == 0) {
        printf("no customer groups (add one with 'patron groups add NAME')\n");
        json_free(j);
        return CLI_OK;
    }
    for (i = 0; i < j->n; i++) {
        size_t w = cli_width(json_get_str(j->items[i], "name"));
        size_t p = cli_width(json_get_str(j->items[i], "price_category"));
        wn = w > wn ? w : wn;
        wp = p > wp ? p : wp;
    }
    cli_pad(stdout, "NAME", wn + 2);
    printf("DEFAULT  DISCOUNT %%  ");
    cli_pad(stdout, "PRICE CATEGORY", wp + 2);
    printf("ACTIVE CUSTOMERS\n");
    for (i = 0; i < j->n; i++) {
        const json *g = j->items[i];
        const char *pc = json_get_str(g, "price_category");
        cli_pad(stdout, json_get_str(g, "name"), wn + 2);
        printf("%-7s  %10s  ", json_get_true(g, "default") ? "yes" : "", json_get_str(g, "discount_percent"));
        cli_pad(stdout, pc[0] ? pc : "-", wp + 2);
        printf("%s\n", json_get_str(g, "customers"));
    }
    json_free(j);
    return CLI_OK;
}

/* Run several group changes in one transaction of the store. */
static int host_begin(cli *ctx)
{
    patron_status st = patron_sqlite_begin(ctx->store);
    if (st != PATRON_OK)
        return cli_fail(ctx, "cannot begin a transaction: %s", patron_sqlite_errmsg(ctx->store));
    return CLI_OK;
}

static int host_end(cli *ctx, int rc)
{
    if (rc != CLI_OK) {
        patron_sqlite_rollback(ctx->store);
        return rc;
    }
    if (patron_sqlite_commit(ctx->store) != PATRON_OK) {
        rc = cli_fail(ctx, "cannot commit: %s", patron_sqlite_errmsg(ctx->store));
        patron_sqlite_rollback(ctx->store);
    }
    return rc;
}

int cmd_groups(cli *ctx, int argc, char **argv)
{
    cli_args a;
    int k, rc, as_json = 0;
    const char **ops;
    size_t n = 0, i;
    const char *sub;
    patron_status st;

    ops = calloc((size_t)argc, sizeof *ops);
    if (!ops)
        return cli_fail(ctx, "out of memory");
    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a)) != CLI_ARG_END) {
        if (k == CLI_ARG_POS) {
            ops[n++] = a.operand;
        } else if (cli_args_is(&a, "--json")) {
            if ((rc = cli_args_flag_ok(ctx, &a)) >= 0)
                goto out;
            as_json = 1;
        } else if ((rc = cli_args_common(ctx, &a)) >= 0) {
            goto out;
        }
    }
    sub = n ? ops[0] : "list";
    if (as_json && strcmp(sub, "list") != 0) {
        rc = cli_usage(ctx, "--json is for listing the groups only");
        goto out;
    }

#define NEED(cond, msg)                       \
    do {                                      \
        if (!(cond)) {                        \
            rc = cli_usage(ctx, "%s", msg);   \
            goto out;                         \
        }                                     \
    } while (0)

    if (!strcmp(sub, "list")) {
        NEED(n <= 1, "'groups list' takes no arguments");
        if ((rc = cli_open_db(ctx, 0)) == CLI_OK)
            rc = groups_list(ctx, as_json);
    } else if (!strcmp(sub, "add")) {
        NEED(n == 2, "usage: groups add NAME");
        if ((rc = cli_open_db(ctx, 1)) != CLI_OK)
            goto out;
        st = patron_db_group_add(ctx->db, ops[1]);
        rc = st == PATRON_OK ? (printf("added group %s\n", ops[1]), CLI_OK) : cli_fail_db(ctx, st, "groups add");
    } else if (!strcmp(sub, "rename")) {
        NEED(n == 3, "usage: groups rename OLD NEW");
        if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
            goto out;
        st = patron_db_group_rename(ctx->db, ops[1], ops[2]);
        rc = st == PATRON_OK ? (printf("renamed group %s to %s\n", ops[1], ops[2]), CLI_OK)
                             : cli_fail_db(ctx, st, "groups rename");
    } else if (!strcmp(sub, "set")) {
        NEED(n >= 3, "usage: groups set NAME ATTR=VALUE...");
        for (i = 2; i < n; i++) {
            const char *eq = strchr(ops[i], '=');
            NEED(eq && eq != ops[i], "give ATTR=VALUE: discount_percent=N, price_category=TEXT, default=1");
        }
        if ((rc = cli_open_db(ctx, 0)) != CLI_OK || (rc = host_begin(ctx)) != CLI_OK)
            goto out;
        for (i = 2; i < n && rc == CLI_OK; i++) {
            const char *eq = strchr(ops[i], '=');
            char attr[64];
            snprintf(attr, sizeof attr, "%.*s", (int)(eq - ops[i]), ops[i]);
            st = patron_db_group_set(ctx->db, ops[1], attr, eq + 1);
            if (st != PATRON_OK)
                rc = cli_fail_db(ctx, st, "groups set");
        }
        rc = host_end(ctx, rc);
        if (rc == CLI_OK)
            printf("set %zu attribute%s of group %s\n", n - 2, n == 3 ? "" : "s", ops[1]);
    } else if (!strcmp(sub, "assign")) {
        NEED(n >= 3, "usage: groups assign NAME KEY...");
        if ((rc = cli_open_db(ctx, 0)) != CLI_OK || (rc = host_begin(ctx)) != CLI_OK)
            goto out;
        for (i = 2; i < n && rc == CLI_OK; i++) {
            patron_customer *c;
            if ((rc = cli_find_customer(ctx, ops[i], &c)) != CLI_OK)
                break;
            st = patron_db_group_assign(ctx->db, ops[1], patron_customer_id(c));
            if (st != PATRON_OK)
                rc = cli_fail_db(ctx, st, ops[i]);
            patron_customer_free(c);
        }
        rc = host_end(ctx, rc);
        if (rc == CLI_OK)
            printf("assigned %zu customer%s to group %s\n", n - 2, n == 3 ? "" : "s", ops[1]);
    } else if (!strcmp(sub, "delete")) {
        NEED(n == 2, "usage: groups delete NAME");
        if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
            goto out;
        st = patron_db_group_delete(ctx->db, ops[1]);
        rc = st == PATRON_OK ? (printf("deleted group %s\n", ops[1]), CLI_OK) : cli_fail_db(ctx, st, "groups delete");
    } else {
        rc = cli_usage(ctx, "unknown subcommand '%s' (list, add, rename, set, assign, delete)", sub);
    }
#undef NEED
out:
    free(ops);
    return rc;
}
