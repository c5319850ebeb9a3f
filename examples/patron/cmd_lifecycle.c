/*
 * patron — the shop customer lifecycle (issue 6): activate, release, lock,
 * unlock, can-login, and customer groups.  (register is beside create in
 * cmd_customer.c: it is create for a pending customer.)
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

typedef struct activate_args {
    int all;
    int mode;
    int locked_survivors;
} activate_args;

static const cli_choice activate_modes[] = {
    { "interactive", PATRON_ACTIVATE_INTERACTIVE },
    { "auto", PATRON_ACTIVATE_AUTO },
    { "automatic", PATRON_ACTIVATE_AUTO },
    { "email", PATRON_ACTIVATE_EMAIL },
    { NULL, 0 },
};

static const cli_opt activate_opts[] = {
    { .name = "--all-pending", .kind = CLI_OPT_FLAG, .target = offsetof(activate_args, all), .value = 1,
      .help = "every pending customer, one transaction each" },
    { .name = "--mode", .kind = CLI_OPT_CHOICE, .target = offsetof(activate_args, mode), .choices = activate_modes,
      .help = "interactive (default): with candidates, change\n"
              "nothing and list them: compare with 'patron\n"
              "merge-plan', then 'patron merge' or 'patron release';\n"
              "without, activate with a new number.\n"
              "auto: merge into the best MERGE-level active\n"
              "candidate (it keeps its number); REVIEW-level\n"
              "candidates are listed, not merged; otherwise activate.\n"
              "email: merge when an active customer has the same\n"
              "normalised email; otherwise activate" },
    { .name = "--locked-survivors", .kind = CLI_OPT_FLAG, .target = offsetof(activate_args, locked_survivors), .value = 1,
      .help = "let automatic merges keep a locked customer as the\n"
              "survivor (by default they never do)" },
    CLI_OPT_TABLE_END,
};

static int cmd_activate(cli *ctx, int argc, char **argv)
{
    activate_args args = { 0, PATRON_ACTIVATE_INTERACTIVE, 0 };
    const char **ops;
    size_t n;
    int rc, mode, all;
    unsigned flags;
    const char *key;
    patron_status st;
    activation_report rep;

    if ((rc = cli_parse(ctx, argc, argv, &args, &ops, &n)) >= 0)
        return rc;
    key = n ? ops[0] : NULL;
    all = args.all;
    mode = args.mode;
    flags = args.locked_survivors ? PATRON_ACTIVATE_LOCKED_SURVIVORS : 0;
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

const cli_command cli_cmd_activate = {
    "activate", cmd_activate, "activate pending shop customers",
    "activate KEY|--all-pending [--mode interactive|auto|email] [--locked-survivors]",
    "Activate one pending customer, or all of them, looking for an existing\n"
    "customer first, and print per customer what happened:\n"
    "  #12 activated as K000123\n"
    "  #13 merged into K000007 (journal 5)\n"
    "  #14 needs review: ...        (followed by the candidates)\n"
    "With --all-pending a summary line follows; each customer is its own\n"
    "transaction, so an interrupted run keeps what it did.\n" CLI_KEY_HELP,
    activate_opts, "KEY", 0, 1,
    "Exit status: 0 also for customers that need review; 1 if any failed.\n",
};

/* ---- release, lock, unlock ----------------------------------------------- */

static int cmd_release(cli *ctx, int argc, char **argv)
{
    patron_customer *c;
    char *num = NULL;
    patron_status st;
    int rc;

    if ((rc = cli_one_customer(ctx, argc, argv, NULL, &c)) >= 0)
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

const cli_command cli_cmd_release = {
    "release", cmd_release, "activate a pending customer regardless of the matcher",
    "release KEY",
    "Manual release: activate a pending customer with a new customer number,\n"
    "without looking for duplicates.\n" CLI_KEY_HELP,
    NULL, "KEY", 1, 1, NULL,
};

typedef struct lock_args {
    const char *reason;
} lock_args;

static const cli_opt lock_opts[] = {
    { .name = "--reason", .kind = CLI_OPT_TEXT, .target = offsetof(lock_args, reason), .arg = "TEXT", .needs = "a text",
      .help = "why (required)" },
    CLI_OPT_TABLE_END,
};

static int cmd_lock(cli *ctx, int argc, char **argv)
{
    lock_args args = { NULL };
    const char **ops;
    const char *reason;
    patron_customer *c;
    patron_status st;
    char buf[32];
    int rc;

    if ((rc = cli_parse(ctx, argc, argv, &args, &ops, NULL)) >= 0)
        return rc;
    reason = args.reason;
    if (!reason)
        return cli_usage(ctx, "a lock needs --reason TEXT");
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK || (rc = cli_find_customer(ctx, ops[0], &c)) != CLI_OK)
        return rc;
    st = patron_db_lock(ctx->db, patron_customer_id(c), reason);
    if (st == PATRON_OK)
        printf("locked %s: %s\n", cli_customer_key(c, buf, sizeof buf), reason);
    else
        rc = cli_fail_db(ctx, st, "lock");
    patron_customer_free(c);
    return rc;
}

const cli_command cli_cmd_lock = {
    "lock", cmd_lock, "lock a customer",
    "lock KEY --reason TEXT",
    "Lock a customer: it can neither log in nor order, and its email cannot\n"
    "register again.  The reason and the time are kept on the record and in\n"
    "the journal.  Locking a locked customer updates the reason.\n" CLI_KEY_HELP,
    lock_opts, "KEY", 1, 1, NULL,
};

static int cmd_unlock(cli *ctx, int argc, char **argv)
{
    patron_customer *c;
    patron_status st;
    char buf[32];
    int rc;

    if ((rc = cli_one_customer(ctx, argc, argv, NULL, &c)) >= 0)
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

const cli_command cli_cmd_unlock = {
    "unlock", cmd_unlock, "lift a customer's lock",
    "unlock KEY",
    "Lift the lock of a customer (journalled).  Unlocking a customer that is\n"
    "not locked changes nothing.\n" CLI_KEY_HELP,
    NULL, "KEY", 1, 1, NULL,
};

/* ---- can-login ----------------------------------------------------------- */

static int cmd_can_login(cli *ctx, int argc, char **argv)
{
    const char **ops;
    int rc;
    patron_gate verdict = PATRON_GATE_UNKNOWN;
    int64_t id = 0;
    patron_status st;
    patron_customer *c = NULL;
    char key[32], label[400];
    const char *login;

    if ((rc = cli_parse(ctx, argc, argv, NULL, &ops, NULL)) >= 0)
        return rc;
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
    return rc;
}

const cli_command cli_cmd_can_login = {
    "can-login", cmd_can_login, "may this login log in?",
    "can-login LOGIN",
    "Answer whether a shop login may log in.  LOGIN is a login user name or,\n"
    "for customers without one, their email.\n",
    NULL, "LOGIN", 1, 1,
    "Exit status: 0 when the customer may log in (its number is printed);\n"
    "1 with the reason otherwise: locked (with the lock reason), not yet\n"
    "activated, unknown, or merged into another customer (naming the\n"
    "survivor, whose login to use).\n",
};

/* ---- groups ----------------------------------------------------------------- */

static int groups_list(cli *ctx, int as_json)
{
    char *text = NULL;
    patron_status st = patron_db_groups_to_json(ctx->db, &text);
    json *j;
    size_t i, wn = 4, wp = 14;
    int rc;

    if (st != PATRON_OK)
        return cli_fail_db(ctx, st, "groups");
    if ((rc = cli_json_array(ctx, text, as_json, "groups", &j)) >= 0)
        return rc;
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
    patron_status st = cli_begin(ctx);
    if (st != PATRON_OK)
        return cli_fail(ctx, "cannot begin a transaction: %s", cli_store_errmsg(ctx));
    return CLI_OK;
}

static int host_end(cli *ctx, int rc)
{
    if (rc != CLI_OK) {
        cli_rollback(ctx);
        return rc;
    }
    if (cli_commit(ctx) != PATRON_OK) {
        rc = cli_fail(ctx, "cannot commit: %s", cli_store_errmsg(ctx));
        cli_rollback(ctx);
    }
    return rc;
}

typedef struct groups_args {
    int json;
} groups_args;

static const cli_opt groups_opts[] = {
    { .name = "--json", .kind = CLI_OPT_FLAG, .target = offsetof(groups_args, json), .value = 1,
      .help = "list the groups as a JSON array" },
    CLI_OPT_TABLE_END,
};

static int cmd_groups(cli *ctx, int argc, char **argv)
{
    groups_args args = { 0 };
    int rc, as_json;
    const char **ops;
    size_t n = 0, i;
    const char *sub;
    patron_status st;

    if ((rc = cli_parse(ctx, argc, argv, &args, &ops, &n)) >= 0)
        return rc;
    as_json = args.json;
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
    return rc;
}

const cli_command cli_cmd_groups = {
    "groups", cmd_groups, "list and change customer groups",
    "groups [list] [--json] | add NAME | rename OLD NEW | set NAME ATTR=VALUE... |\n"
    "                          assign NAME KEY... | delete NAME",
    "Customer groups carry price conditions.  There is exactly one default\n"
    "group once any exists (the first one made); new and registered customers\n"
    "without a group join it.\n"
    "\n"
    "  groups [list]          a table: name, default, discount, price category,\n"
    "                         number of active customers (--json: JSON array)\n"
    "  groups add NAME        make a group\n"
    "  groups rename OLD NEW  rename a group; its customers follow\n"
    "  groups set NAME ATTR=VALUE...\n"
    "                         discount_percent=N (0..100, two decimals),\n"
    "                         price_category=TEXT ('' clears), default=1 (makes\n"
    "                         it the default group); all in one transaction\n"
    "  groups assign NAME KEY...\n"
    "                         put customers into the group (one transaction)\n"
    "  groups delete NAME     delete a group: refused while an active customer\n"
    "                         is in it (the message says how many) and for the\n"
    "                         default group; merged and pending members move\n"
    "                         to the default group\n",
    groups_opts, NULL, 0, CLI_MANY, NULL,
};
