/*
 * patron — the customer records: show, list, create, update, delete, and
 * register (create for the online shop: a pending customer).
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"
#include "columns.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- show ---------------------------------------------------------------- */

static void print_line(const char *indent, const char *label, const char *value)
{
    size_t width = 18 - strlen(indent);

    printf("%s%-*s ", indent, (int)width, label);
    for (; *value; value++) {
        putchar(*value);
        if (*value == '\n' && value[1])
            printf("%*s", 19, "");
    }
    putchar('\n');
}

static int is_timestamp(int f)
{
    return f == PATRON_F_CREATED_AT || f == PATRON_F_UPDATED_AT || f == PATRON_F_LOCKED_AT;
}

static void print_customer(const patron_customer *c)
{
    size_t i, n, a, na;
    int f;

    for (f = 1; f < PATRON_F__END; f++) {
        const char *name = patron_field_name(f);
        const char *v = patron_customer_get(c, f);

        if (!name || !v)
            continue;
        if (f == PATRON_F_LOGIN_HASH) {
            print_line("", "has_password", "yes"); /* the hash itself is never shown */
        } else if (is_timestamp(f)) {
            char buf[64];
            struct tm tm;
            time_t t = (time_t)strtoll(v, NULL, 10);
            if (gmtime_r(&t, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm))
                print_line("", name, buf);
            else
                print_line("", name, v);
        } else {
            print_line("", name, v);
        }
    }

    na = patron_customer_address_count(c);
    for (a = 0; a < na; a++) {
        const char *def = patron_customer_address_get(c, a, PATRON_A_DEFAULT);
        printf("address %zu%s\n", a + 1, def && !strcmp(def, "1") ? " (default)" : "");
        for (f = 1; f < PATRON_A__END; f++) {
            const char *name = patron_address_field_name(f);
            const char *v = patron_customer_address_get(c, a, f);
            if (name && v && f != PATRON_A_DEFAULT)
                print_line("  ", name, v);
        }
    }

    n = patron_customer_tag_count(c);
    if (n) {
        printf("%-18s ", "tags");
        for (i = 0; i < n; i++)
            printf("%s%s", i ? " | " : "", patron_customer_tag_get(c, i));
        putchar('\n');
    }

    n = patron_customer_prop_count(c);
    if (n)
        printf("properties\n");
    for (i = 0; i < n; i++) {
        const char *k, *v;
        if (patron_customer_prop_at(c, &k, &v, i) == PATRON_OK)
            print_line("  ", k, v);
    }
}

static int print_json(cli *ctx, const patron_customer *c, unsigned flags)
{
    char *json = NULL;
    patron_status st = patron_customer_to_json(c, &json, flags);

    if (st != PATRON_OK)
        return cli_fail(ctx, "JSON: %s", patron_customer_errmsg(c));
    fputs(json, stdout);
    patron_free(json);
    return CLI_OK;
}

typedef struct show_args {
    int json;
} show_args;

static const cli_opt show_opts[] = {
    { .name = "--json", .kind = CLI_OPT_FLAG, .target = offsetof(show_args, json), .value = 1,
      .help = "print the customer as a JSON object" },
    CLI_OPT_TABLE_END,
};

static int cmd_show(cli *ctx, int argc, char **argv)
{
    show_args args = { 0 };
    patron_customer *c;
    int rc;

    if ((rc = cli_one_customer(ctx, argc, argv, &args, &c)) >= 0)
        return rc;
    rc = CLI_OK;
    if (args.json) {
        rc = print_json(ctx, c, PATRON_JSON_PRETTY);
        if (rc == CLI_OK)
            putchar('\n');
    } else {
        print_customer(c);
    }
    patron_customer_free(c);
    return rc;
}

const cli_command cli_cmd_show = {
    "show", cmd_show, "show one customer",
    "show KEY [--json]",
    "Show every field of one customer.\n" CLI_KEY_HELP
    "The number of a customer merged into another shows the survivor, and a\n"
    "note on standard error says so ('K000002 was merged into K000001').\n",
    show_opts, "KEY", 1, 1, NULL,
};

/* ---- list ---------------------------------------------------------------- */

static const char *state_name(const patron_customer *c)
{
    switch (patron_customer_state(c)) {
    case PATRON_STATE_PENDING:
        return "pending";
    case PATRON_STATE_ACTIVE:
        return "active";
    case PATRON_STATE_MERGED:
        return "merged";
    default:
        return "new";
    }
}

static void print_list_line(const patron_customer *c)
{
    char buf[32];
    const char *first = patron_customer_get(c, PATRON_F_FIRST_NAME);
    const char *last = patron_customer_get(c, PATRON_F_LAST_NAME);
    const char *company = patron_customer_get(c, PATRON_F_COMPANY);
    const char *email = patron_customer_get(c, PATRON_F_EMAIL);
    size_t a = layout_address(c);
    const char *pc = a != (size_t)-1 ? patron_customer_address_get(c, a, PATRON_A_POSTAL_CODE) : NULL;
    const char *city = a != (size_t)-1 ? patron_customer_address_get(c, a, PATRON_A_CITY) : NULL;

    printf("%s\t%s%s\t", cli_customer_key(c, buf, sizeof buf), state_name(c),
           patron_customer_locked(c) ? ",locked" : "");
    if (first || last) {
        printf("%s%s%s", first ? first : "", first && last ? " " : "", last ? last : "");
        if (company)
            printf(" (%s)", company);
    } else if (company) {
        fputs(company, stdout);
    }
    printf("\t%s\t%s%s%s\n", email ? email : "", pc ? pc : "", pc && city ? " " : "", city ? city : "");
}

typedef struct list_args {
    int json;
    int which; /* CLI_FILTER_OPTS */
} list_args;

static const cli_opt list_opts[] = {
    CLI_FILTER_OPTS(list_args, which),
    { .name = "--json", .kind = CLI_OPT_FLAG, .target = offsetof(list_args, json), .value = 1,
      .help = "a JSON array of customer objects" },
    CLI_OPT_TABLE_END,
};

static int cmd_list(cli *ctx, int argc, char **argv)
{
    list_args args = { 0, 0 };
    patron_filter filter;
    int64_t *ids;
    size_t n, i, shown = 0, unreadable = 0;
    int rc;

    if ((rc = cli_parse(ctx, argc, argv, &args, NULL, NULL)) >= 0)
        return rc;
    filter = cli_filter(args.which);
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    if ((rc = cli_collect_ids(ctx, &filter, &ids, &n)) != CLI_OK)
        return rc;
    if (args.json)
        fputs("[", stdout);
    for (i = 0; i < n && rc == CLI_OK; i++) {
        patron_customer *c;
        int k = cli_load_listed(ctx, ids[i], &c, &unreadable);
        if (k < 0) {
            rc = CLI_ERR;
            break;
        }
        if (k == 0)
            continue; /* deleted meanwhile, merged away, or unreadable (reported) */
        if (args.json) {
            fputs(shown ? ",\n" : "\n", stdout);
            rc = print_json(ctx, c, 0);
        } else {
            print_list_line(c);
        }
        shown++;
        patron_customer_free(c);
    }
    if (args.json && rc == CLI_OK)
        fputs(shown ? "\n]\n" : "]\n", stdout);
    free(ids);
    return rc == CLI_OK ? cli_unreadable(ctx, unreadable) : rc;
}

const cli_command cli_cmd_list = {
    "list", cmd_list, "list customers",
    "list [--pending|--active|--locked] [--json]",
    "List customers, one a line: number (or #ID), state, name, email, postal\n"
    "code and city, separated by tabs.  Merged-away customers are left out; a\n"
    "stored row the library cannot read is named on stderr and left out (exit\n"
    "status 1).\n",
    list_opts, NULL, 0, 0, NULL,
};

/* ---- create, update ------------------------------------------------------ */

/* FIELD=VALUE operands into a layout and its values. */
typedef struct assignments {
    layout l;
    char **names;
    const char **values;
    size_t n;
} assignments;

static void assignments_free(assignments *as)
{
    size_t i;

    layout_free(&as->l);
    for (i = 0; i < as->n; i++)
        free(as->names[i]);
    free(as->names);
    free(as->values);
    memset(as, 0, sizeof *as);
}

static int assignments_parse(cli *ctx, assignments *as, const char **ops, size_t n)
{
    size_t i;
    char err[2048];

    memset(as, 0, sizeof *as);
    as->names = calloc(n ? n : 1, sizeof *as->names);
    as->values = calloc(n ? n : 1, sizeof *as->values);
    if (!as->names || !as->values) {
        assignments_free(as);
        return cli_fail(ctx, "out of memory");
    }
    for (i = 0; i < n; i++) {
        const char *eq = strchr(ops[i], '=');
        size_t len;
        if (!eq || eq == ops[i]) {
            assignments_free(as);
            return cli_usage(ctx, "'%s' is not FIELD=VALUE", ops[i]);
        }
        len = (size_t)(eq - ops[i]);
        as->names[i] = malloc(len + 1);
        if (!as->names[i]) {
            assignments_free(as);
            return cli_fail(ctx, "out of memory");
        }
        memcpy(as->names[i], ops[i], len);
        as->names[i][len] = '\0';
        as->values[i] = eq + 1;
        as->n = i + 1;
    }
    /* operands: an unknown name is refused ("emial=x" is no property),
     * with the closest field named; a property is written prop.NAME= */
    if (layout_init_ex(&as->l, (const char *const *)as->names, n, NULL, 1, err, sizeof err) < 0) {
        assignments_free(as);
        return cli_fail(ctx, "%s", err);
    }
    return CLI_OK;
}

static int create_or_register(cli *ctx, int argc, char **argv, int pending)
{
    int64_t existing = 0;
    const char **ops;
    size_t n;
    int rc;
    assignments as;
    patron_customer *c = NULL;
    patron_status st;
    char err[512];

    if ((rc = cli_parse(ctx, argc, argv, NULL, &ops, &n)) >= 0)
        return rc;
    rc = assignments_parse(ctx, &as, ops, n);
    if (rc != CLI_OK)
        return rc;
    if ((rc = cli_open_db(ctx, 1)) != CLI_OK)
        goto out;
    if (patron_customer_new(&c) != PATRON_OK) {
        rc = cli_fail(ctx, "out of memory");
        goto out;
    }
    st = layout_apply(&as.l, c, as.values, 0, err, sizeof err);
    if (st != PATRON_OK) {
        rc = cli_fail(ctx, "%s", err);
        goto out;
    }
    st = pending ? patron_db_register(ctx->db, &existing, c) : patron_db_create(ctx->db, c);
    if (st != PATRON_OK) {
        rc = cli_fail_db(ctx, st, pending ? "register" : "create");
        goto out;
    }
    if (pending && existing)
        printf("registered #%" PRId64 " (pending); the email belongs to active customer #%" PRId64
               ": activation will offer the merge\n",
               patron_customer_id(c), existing);
    else if (pending)
        printf("registered #%" PRId64 " (pending)\n", patron_customer_id(c));
    else
        printf("%s\n", patron_customer_get(c, PATRON_F_NUMBER));
out:
    patron_customer_free(c);
    assignments_free(&as);
    return rc;
}

static int cmd_create(cli *ctx, int argc, char **argv)
{
    return create_or_register(ctx, argc, argv, 0);
}

static int cmd_register(cli *ctx, int argc, char **argv)
{
    return create_or_register(ctx, argc, argv, 1);
}

const cli_command cli_cmd_create = {
    "create", cmd_create, "create a customer and print its number",
    "create FIELD=VALUE...",
    "Create an active customer and print its new customer number.\n" CLI_FIELDS_HELP
    "\n"
    "Example:\n"
    "  patron create first_name=Max last_name=Mustermann \\\n"
    "      'street=Hauptstraße 12a' postal_code=10115 city=Berlin\n",
    NULL, "FIELD=VALUE", 1, CLI_MANY, NULL,
};

const cli_command cli_cmd_register = {
    "register", cmd_register, "register a pending shop customer",
    "register FIELD=VALUE...",
    "Register a customer from the online shop: saved as pending, without a\n"
    "customer number (it gets one on activation), in the default customer group\n"
    "if none is given.  Prints its internal id (#ID).\n" CLI_FIELDS_HELP
    "\n"
    "Refused (exit 1) when the email belongs to a locked customer - a locked\n"
    "customer cannot come back under a new account - and reported when it\n"
    "belongs to a pending or active customer already.  Emails are compared\n"
    "normalised (case, plus tags, gmail dots).\n"
    "\n"
    "Example:\n"
    "  patron register first_name=Max last_name=Muster email=max@example.de \\\n"
    "      login_user=max 'street=Hauptstraße 1' postal_code=10115 city=Berlin\n",
    NULL, "FIELD=VALUE", 1, CLI_MANY, NULL,
};

static int cmd_update(cli *ctx, int argc, char **argv)
{
    const char **ops;
    size_t n;
    int rc;
    assignments as;
    patron_customer *c = NULL;
    patron_status st;
    char err[512], buf[32];

    if ((rc = cli_parse(ctx, argc, argv, NULL, &ops, &n)) >= 0)
        return rc;
    if (n < 2)
        return cli_usage(ctx, n ? "no FIELD=VALUE given" : "no KEY given");
    rc = assignments_parse(ctx, &as, ops + 1, n - 1);
    if (rc != CLI_OK)
        return rc;
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK || (rc = cli_find_customer(ctx, ops[0], &c)) != CLI_OK)
        goto out;
    st = layout_apply(&as.l, c, as.values, 1, err, sizeof err);
    if (st != PATRON_OK) {
        rc = cli_fail(ctx, "%s", err);
        goto out;
    }
    st = patron_db_update(ctx->db, c);
    if (st != PATRON_OK) {
        rc = cli_fail_db(ctx, st, "update");
        goto out;
    }
    printf("updated %s\n", cli_customer_key(c, buf, sizeof buf));
out:
    patron_customer_free(c);
    assignments_free(&as);
    return rc;
}

const cli_command cli_cmd_update = {
    "update", cmd_update, "change fields of a customer",
    "update KEY FIELD=VALUE...",
    "Change fields of one customer.\n" CLI_KEY_HELP CLI_FIELDS_HELP,
    NULL, NULL, 0, CLI_MANY, NULL,
};

/* ---- delete -------------------------------------------------------------- */

static int cmd_delete(cli *ctx, int argc, char **argv)
{
    patron_customer *c;
    patron_status st;
    char buf[32];
    int rc;

    if ((rc = cli_one_customer(ctx, argc, argv, NULL, &c)) >= 0)
        return rc;
    rc = CLI_OK;
    st = patron_db_delete(ctx->db, patron_customer_id(c), patron_customer_revision(c));
    if (st == PATRON_OK)
        printf("deleted %s\n", cli_customer_key(c, buf, sizeof buf));
    else
        rc = cli_fail_db(ctx, st, "delete");
    patron_customer_free(c);
    return rc;
}

const cli_command cli_cmd_delete = {
    "delete", cmd_delete, "delete a customer",
    "delete KEY",
    "Delete one customer.  Its customer number is never given again.\n" CLI_KEY_HELP,
    NULL, "KEY", 1, 1, NULL,
};
